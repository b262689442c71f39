#!/bin/sh
# engines: all
# postino check with mailing lists (mlmmj_spool_dir set): the Postfix
# wiring (postfix-main-cf, postfix-transport-maps[-order|-type],
# recipient-delimiter, master-cf, master-cf-mlmmj-*), owner-aliases, and
# with --deep the two-level spool <spool>/<domain>/<local>/
# (mailing_lists, mlmmj_lists_corrupt, mlmmj_lists_orphan_domain,
# mlmmj_lists_artefacts, mlmmj_lists_symlinks, mlmmj_lists_routes).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
SPOOL=$TEST_DIR/spool
T=$(sql_true)
case $POSTINO_TEST_ENGINE in
sqlite) TYPE=sqlite OTHER=mysql ;;
mysql) TYPE=mysql OTHER=pgsql ;;
pgsql) TYPE=pgsql OTHER=sqlite ;;
esac

write_main_cf() {
	cat >"$PFDIR/main.cf" <<EOF
# main.cf (excerpt)
myhostname = mx.example.org
recipient_delimiter = +
transport_maps = proxy:$TYPE:$PFDIR/sql-routes.cf,
    $TYPE:$PFDIR/sql-virtual_transport_maps.cf
virtual_alias_maps = $TYPE:$PFDIR/sql-virtual_alias_maps.cf
EOF
}

write_master_cf() {
	: >"$PFDIR/master.cf"
	for s in receive bounce sub unsub; do
		cat >>"$PFDIR/master.cf" <<EOF
mlmmj-$s unix - n n - - pipe
  flags=DRhu user=mlmmj argv=/usr/bin/mlmmj-$s -L $SPOOL/\$domain/\$user
EOF
	done
}

test_setup 'a list team@example.org: spool, routes, owner alias, wiring' '
	mkdir -p "$SPOOL/example.org/team/control" "$SPOOL/example.org/team/subscribers.d" &&
	echo alice@example.org >"$SPOOL/example.org/team/control/owner" &&
	echo team@example.org >"$SPOOL/example.org/team/control/listaddress" &&
	: >"$SPOOL/.create.lock" &&
	toml_set mlmmj_spool_dir "\"$SPOOL\"" &&
	sql "INSERT INTO routes (pattern, transport, domain, list_address, priority, active) VALUES ('"'"'^team@example\\.org\$'"'"', '"'"'mlmmj-receive:'"'"', '"'"'example.org'"'"', '"'"'team@example.org'"'"', 50, $T)" &&
	sql "INSERT INTO routes (pattern, transport, domain, list_address, priority, active) VALUES ('"'"'^team-bounces@example\\.org\$'"'"', '"'"'mlmmj-bounce:'"'"', '"'"'example.org'"'"', '"'"'team@example.org'"'"', 10, $T)" &&
	postino alias add team-owner@example.org alice@example.org >/dev/null &&
	postino alias add announce@example.org team@example.org >/dev/null &&
	write_main_cf && write_master_cf
'

test_expect_success 'a correctly wired list is clean, shallow and deep (two-level spool)' '
	expect_clean &&
	expect_clean --deep &&
	json "[.findings[].name] | index(\"master-cf-mlmmj-unsub\") != null" check.json &&
	finding_message mailing_lists | grep -q "^1 list in"
'

test_expect_success 'postfix-main-cf: main.cf missing' '
	check_breaks postfix-main-cf=error -- \
		"mv \"\$PFDIR/main.cf\" \"\$TEST_DIR/main.cf\"" \
		"mv \"\$TEST_DIR/main.cf\" \"\$PFDIR/main.cf\""
'

test_expect_success 'main.cf is also found next to postfix_sql_dir' '
	mv "$PFDIR/main.cf" "$TEST_DIR/etc/main.cf" &&
	expect_clean; rc=$?
	mv "$TEST_DIR/etc/main.cf" "$PFDIR/main.cf"; exit $rc
'

test_expect_success 'postfix-transport-maps: not set' '
	check_breaks postfix-transport-maps=error -- \
		"sed -i \"/^transport_maps/,/^    /d\" \"\$PFDIR/main.cf\"" write_main_cf
'

test_expect_success 'postfix-transport-maps: no routes map' '
	check_breaks postfix-transport-maps=error -- \
		"sed -i \"/sql-routes.cf/d; s/^    /transport_maps = /\" \"\$PFDIR/main.cf\"" \
		write_main_cf
'

test_expect_success 'postfix-transport-maps-order: routes after the domain transports' '
	check_breaks postfix-transport-maps-order=error -- \
		"sed -i \"s|^transport_maps = .*|transport_maps = $TYPE:\$PFDIR/sql-virtual_transport_maps.cf,|; s|^    .*|    $TYPE:\$PFDIR/sql-routes.cf|\" \"\$PFDIR/main.cf\"" \
		write_main_cf
'

test_expect_success 'postfix-transport-maps-type: the routes map of another engine' '
	check_breaks postfix-transport-maps-type=error -- \
		"sed -i \"s|proxy:$TYPE:|$OTHER:|\" \"\$PFDIR/main.cf\"" write_main_cf
'

test_expect_success 'postfix-transport-maps-type: podop (socketmap) is fine' '
	sed -i "s|proxy:$TYPE:[^,]*|socketmap:unix:/run/podop/podop.sock:routes|" "$PFDIR/main.cf" &&
	expect_clean; rc=$?
	write_main_cf; exit $rc
'

test_expect_success 'recipient-delimiter: without the + list commands need' '
	check_breaks recipient-delimiter=error -- \
		"sed -i \"s/^recipient_delimiter = .*/recipient_delimiter = -/\" \"\$PFDIR/main.cf\"" \
		write_main_cf &&
	check_breaks recipient-delimiter=error -- \
		"sed -i \"/^recipient_delimiter/d\" \"\$PFDIR/main.cf\"" write_main_cf &&
	sed -i "s/^recipient_delimiter = .*/recipient_delimiter = +-/" "$PFDIR/main.cf" &&
	expect_clean && write_main_cf
'

test_expect_success 'master-cf: master.cf missing' '
	check_breaks master-cf=error -- \
		"mv \"\$PFDIR/master.cf\" \"\$TEST_DIR/master.cf\"" \
		"mv \"\$TEST_DIR/master.cf\" \"\$PFDIR/master.cf\""
'

test_expect_success 'master-cf-mlmmj-bounce: service missing or commented out' '
	check_breaks master-cf-mlmmj-bounce=error -- \
		"sed -i \"/^mlmmj-bounce/,+1d\" \"\$PFDIR/master.cf\"" write_master_cf &&
	check_breaks master-cf-mlmmj-bounce=error -- \
		"sed -i \"s/^mlmmj-bounce/#mlmmj-bounce/\" \"\$PFDIR/master.cf\"" write_master_cf
'

test_expect_success 'master-cf-mlmmj-sub: service that does not run mlmmj-sub' '
	check_breaks master-cf-mlmmj-sub=error -- \
		"sed -i \"s|argv=/usr/bin/mlmmj-sub |argv=/usr/bin/true |\" \"\$PFDIR/master.cf\"" \
		write_master_cf
'

test_expect_success 'owner-aliases: a list without its -owner alias' '
	check_breaks owner-alias-team@example.org=error -- \
		"postino alias del team-owner@example.org --yes" \
		"postino alias add team-owner@example.org alice@example.org >/dev/null"
'

test_expect_success 'mailing_lists: the spool missing' '
	check_breaks mailing_lists=warn -- "mv \"\$SPOOL\" \"\$SPOOL.away\"" \
		"mv \"\$SPOOL.away\" \"\$SPOOL\"" --deep
'

test_expect_success 'mlmmj_lists_corrupt: a list without an owner' '
	check_breaks mlmmj_lists_corrupt=error -- \
		": >\"\$SPOOL/example.org/team/control/owner\"" \
		"echo alice@example.org >\"\$SPOOL/example.org/team/control/owner\"" --deep
'

test_expect_success 'mlmmj_lists_orphan_domain: a spool domain that is no domain' '
	check_breaks mlmmj_lists_orphan_domain=error -- \
		"mkdir \"\$SPOOL/gone.example\"" "rmdir \"\$SPOOL/gone.example\"" --deep
'

test_expect_success 'mlmmj_lists_artefacts: leftovers of list add and list rm' '
	check_breaks mlmmj_lists_artefacts=warn -- \
		"mkdir \"\$SPOOL/example.org/.deleting.old.1.abcd\" \"\$SPOOL/.tmp-x\"" \
		"rmdir \"\$SPOOL/example.org/.deleting.old.1.abcd\" \"\$SPOOL/.tmp-x\"" --deep
'

test_expect_success 'mlmmj_lists_symlinks: symlinks at either level' '
	check_breaks mlmmj_lists_symlinks=error -- \
		"ln -s /tmp \"\$SPOOL/example.org/evil\" && ln -s /tmp \"\$SPOOL/evil.example\"" \
		"rm \"\$SPOOL/example.org/evil\" \"\$SPOOL/evil.example\"" --deep
'

test_expect_success 'mlmmj_lists_routes: a spool without routes, routes without a spool' '
	check_breaks mlmmj_lists_routes=error -- \
		"mkdir -p \"\$SPOOL/example.org/news/control\" &&
		 echo bob@example.org >\"\$SPOOL/example.org/news/control/owner\"" \
		"rm -r \"\$SPOOL/example.org/news\"" --deep &&
	check_breaks mlmmj_lists_routes=error -- \
		"mv \"\$SPOOL/example.org/team\" \"\$TEST_DIR/team\"" \
		"mv \"\$TEST_DIR/team\" \"\$SPOOL/example.org/team\"" --deep
'

test_done
