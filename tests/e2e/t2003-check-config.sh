#!/bin/sh
# engines: all
# postino check, configuration probes: mailbox_base, postcreation_hook,
# postcreation_hook_syntax, vmail_uid, vmail_gid, postfix_sql_cf:FILE
# (presence, mode, owner, syntax, credentials; alias-domain maps only when
# alias domains exist; the legacy domain map name) and
# postfix_mailbox_base.  Break one thing, expect exactly its finding,
# repair, expect a clean check.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
ROOT=$(id -u)

test_expect_success 'mailbox_base: world-writable mail root' '
	check_breaks mailbox_base=error -- \
		"chmod 777 \"\$MAIL_ROOT\"" "chmod 755 \"\$MAIL_ROOT\""
'

test_expect_success 'mailbox_base: mail root missing' '
	check_breaks mailbox_base=error -- \
		"mv \"\$MAIL_ROOT\" \"\$MAIL_ROOT.away\"" \
		"mv \"\$MAIL_ROOT.away\" \"\$MAIL_ROOT\""
'

test_expect_success 'mailbox_base: owned by neither vmail nor root' '
	[ "$ROOT" -eq 0 ] || exit 0
	check_breaks mailbox_base=warn -- \
		"chown 4242:4242 \"\$MAIL_ROOT\"" \
		"chown \$VMAIL_UID:\$VMAIL_GID \"\$MAIL_ROOT\""
'

test_setup 'a post-creation hook in place' '
	HOOK=$TEST_DIR/hook.sh &&
	printf "#!/bin/sh\nlogger -t postino \"created \$1\" || :\nexit 0\n" >"$HOOK" &&
	chmod 755 "$HOOK" &&
	toml_set postcreation_hook "\"$HOOK\"" &&
	printf "pw-secret\n" | postino user add hooked@example.org --password-stdin >/dev/null &&
	expect_clean --deep &&
	run_check && finding_message postcreation_hook_syntax | grep -q "sh -n. accepts"
'

test_expect_success 'postcreation_hook: missing' '
	check_breaks postcreation_hook=error -- \
		"mv \"\$HOOK\" \"\$HOOK.away\"" "mv \"\$HOOK.away\" \"\$HOOK\""
'

test_expect_success 'postcreation_hook: not executable' '
	check_breaks postcreation_hook=error -- \
		"chmod 644 \"\$HOOK\"" "chmod 755 \"\$HOOK\""
'

test_expect_success 'postcreation_hook: group-writable' '
	check_breaks postcreation_hook=error -- \
		"chmod 775 \"\$HOOK\"" "chmod 755 \"\$HOOK\""
'

test_expect_success 'postcreation_hook: not owned by root when postino runs as root' '
	[ "$ROOT" -eq 0 ] || exit 0
	check_breaks postcreation_hook=error -- \
		"chown 65534 \"\$HOOK\"" "chown 0 \"\$HOOK\""
'

test_expect_success 'postcreation_hook: relative path' '
	check_breaks postcreation_hook=error -- \
		"toml_set postcreation_hook \"\\\"hook.sh\\\"\"" \
		"toml_set postcreation_hook \"\\\"\$HOOK\\\"\""
'

test_expect_success 'postcreation_hook_syntax: a shell syntax error' '
	cp "$HOOK" "$TEST_DIR/hook.good" &&
	check_breaks postcreation_hook_syntax=error -- \
		"printf \"if then\\nfi\\n\" >>\"\$HOOK\"" \
		"cp \"\$TEST_DIR/hook.good\" \"\$HOOK\"" &&
	printf "if then\nfi\n" >>"$HOOK" && run_check;
	cp "$TEST_DIR/hook.good" "$HOOK" &&
	finding_message postcreation_hook_syntax | grep -q "syntax error"
'

test_expect_success 'postcreation_hook_syntax: no #! line' '
	check_breaks postcreation_hook_syntax=error -- \
		"sed -i 1d \"\$HOOK\"" "cp \"\$TEST_DIR/hook.good\" \"\$HOOK\""
'

test_expect_success 'postcreation_hook_syntax: #!/usr/bin/env with a missing interpreter' '
	check_breaks postcreation_hook_syntax=error -- \
		"sed -i \"1s|.*|#!/usr/bin/env -S no-such-shell -e|\" \"\$HOOK\"" \
		"cp \"\$TEST_DIR/hook.good\" \"\$HOOK\""
'

test_expect_success 'postcreation_hook_syntax: #!/usr/bin/env sh is checked, perl is skipped' '
	sed -i "1s|.*|#!/usr/bin/env sh|" "$HOOK" &&
	expect_clean &&
	finding_message postcreation_hook_syntax | grep -q "sh -n. accepts" &&
	printf "#!/usr/bin/perl\nexit 0;\n" >"$HOOK" &&
	expect_clean &&
	finding_message postcreation_hook_syntax | grep -q "skipped" &&
	cp "$TEST_DIR/hook.good" "$HOOK"
'

# The mail root may belong to root whatever vmail_uid says.
[ "$ROOT" -eq 0 ] && chown 0 "$MAIL_ROOT"

test_expect_success 'vmail_uid: root' '
	check_breaks vmail_uid=error -- "toml_set vmail_uid 0" \
		"toml_set vmail_uid \$VMAIL_UID"
'

test_expect_success 'vmail_uid: no passwd entry' '
	check_breaks vmail_uid=warn -- "toml_set vmail_uid 4040404" \
		"toml_set vmail_uid \$VMAIL_UID"
'

test_expect_success 'vmail_uid: unset while postino runs as root' '
	[ "$ROOT" -eq 0 ] || exit 0
	check_breaks vmail_uid=error -- "toml_set vmail_uid -1" \
		"toml_set vmail_uid \$VMAIL_UID"
'

test_expect_success 'vmail_gid: root group' '
	check_breaks vmail_gid=error -- "toml_set vmail_gid 0" \
		"toml_set vmail_gid \$VMAIL_GID"
'

test_expect_success 'vmail_gid: no group entry' '
	check_breaks vmail_gid=warn -- "toml_set vmail_gid 4040404" \
		"toml_set vmail_gid \$VMAIL_GID"
'

ALIAS_CF=$PFDIR/sql-virtual_alias_maps.cf
AD_CF=$PFDIR/sql-virtual_alias_alias_domain_maps.cf
DOM_CF=$PFDIR/sql-virtual_domains.cf

[ "$ROOT" -eq 0 ] && chown "$VMAIL_UID" "$MAIL_ROOT"

test_expect_success 'postfix_sql_cf: a map readable by everyone' '
	check_breaks postfix_sql_cf:sql-virtual_alias_maps.cf=error -- \
		"chmod 644 \"\$ALIAS_CF\"" "chmod 640 \"\$ALIAS_CF\""
'

test_expect_success 'postfix_sql_cf: 0600 and 0440 are strict enough' '
	chmod 600 "$ALIAS_CF" && chmod 440 "$DOM_CF" && expect_clean;
	rc=$?; chmod 640 "$ALIAS_CF" "$DOM_CF"; exit $rc
'

test_expect_success 'postfix_sql_cf: a map not owned by root' '
	[ "$ROOT" -eq 0 ] || exit 0
	check_breaks postfix_sql_cf:sql-virtual_alias_maps.cf=error -- \
		"chown 65534 \"\$ALIAS_CF\"" "chown 0 \"\$ALIAS_CF\""
'

test_expect_success 'postfix_sql_cf: credentials differ from the ones in use (no secret shown)' '
	cp -p "$ALIAS_CF" "$TEST_DIR/alias.cf" &&
	case $POSTINO_TEST_ENGINE in
	sqlite) break="sed -i \"s|^dbpath = .*|dbpath = \$TEST_DIR/other.sqlite|\" \"\$ALIAS_CF\""
		field=dbpath ;;
	*) break="sed -i \"s|^password = .*|password = Wr0ng-S3cret|\" \"\$ALIAS_CF\""
		field=password ;;
	esac &&
	check_breaks postfix_sql_cf:sql-virtual_alias_maps.cf=error -- \
		"$break" "cp -p \"\$TEST_DIR/alias.cf\" \"\$ALIAS_CF\"" &&
	eval "$break" && run_check; cp -p "$TEST_DIR/alias.cf" "$ALIAS_CF" &&
	finding_message postfix_sql_cf:sql-virtual_alias_maps.cf >msg &&
	check_grep "$field differs" msg &&
	! grep -q "Wr0ng-S3cret" check.json check.txt &&
	! grep -q "$DB_PASSWORD" check.json check.txt
'

test_expect_success 'postfix_sql_cf: an unparseable map' '
	cp -p "$ALIAS_CF" "$TEST_DIR/alias.cf" &&
	check_breaks postfix_sql_cf:sql-virtual_alias_maps.cf=error -- \
		"echo garbage >>\"\$ALIAS_CF\"" \
		"cp -p \"\$TEST_DIR/alias.cf\" \"\$ALIAS_CF\""
'

test_expect_success 'postfix_sql_cf: a map without a query' '
	cp -p "$ALIAS_CF" "$TEST_DIR/alias.cf" &&
	check_breaks postfix_sql_cf:sql-virtual_alias_maps.cf=error -- \
		"sed -i \"/^query/d\" \"\$ALIAS_CF\"" \
		"cp -p \"\$TEST_DIR/alias.cf\" \"\$ALIAS_CF\""
'

test_expect_success 'postfix_sql_cf: a required map missing' '
	check_breaks postfix_sql_cf:sql-virtual_domains.cf=error -- \
		"mv \"\$DOM_CF\" \"\$TEST_DIR/dom.cf\"" \
		"mv \"\$TEST_DIR/dom.cf\" \"\$DOM_CF\""
'

test_expect_success 'postfix_sql_cf: the legacy sql-virtual_domain_maps.cf name' '
	check_breaks postfix_sql_cf:sql-virtual_domains.cf=warn -- \
		"mv \"\$DOM_CF\" \"\$PFDIR/sql-virtual_domain_maps.cf\"" \
		"mv \"\$PFDIR/sql-virtual_domain_maps.cf\" \"\$DOM_CF\""
'

test_expect_success 'postfix_sql_cf: alias-domain maps are required only with alias domains' '
	check_breaks postfix_sql_cf:sql-virtual_alias_alias_domain_maps.cf=error -- \
		"mv \"\$AD_CF\" \"\$TEST_DIR/ad.cf\"" \
		"mv \"\$TEST_DIR/ad.cf\" \"\$AD_CF\"" &&
	postino domain alias del example.net --yes &&
	mv "$AD_CF" "$TEST_DIR/ad.cf" && expect_clean; rc=$?
	mv "$TEST_DIR/ad.cf" "$AD_CF" &&
	postino domain alias add example.net --target example.org >/dev/null &&
	exit $rc
'

test_expect_success 'postfix_sql_cf: optional maps may be absent' '
	mv "$PFDIR/sql-virtual_sender_login_maps.cf" "$TEST_DIR/sl.cf" &&
	expect_clean; rc=$?
	mv "$TEST_DIR/sl.cf" "$PFDIR/sql-virtual_sender_login_maps.cf" && exit $rc
'

test_expect_success 'postfix_sql_cf: other maps beside them (sql-routes.cf) follow the same rules' '
	cp -p "$ALIAS_CF" "$PFDIR/sql-routes.cf" &&
	expect_clean &&
	json "[.findings[].name] | index(\"postfix_sql_cf:sql-routes.cf\") != null" check.json &&
	check_breaks postfix_sql_cf:sql-routes.cf=error -- \
		"chmod 644 \"\$PFDIR/sql-routes.cf\"" \
		"chmod 640 \"\$PFDIR/sql-routes.cf\"" &&
	rm "$PFDIR/sql-routes.cf"
'

test_expect_success 'postfix_mailbox_base: main.cf and postino disagree' '
	printf "myhostname = mx.example.org\nvirtual_mailbox_base = %s/\n" \
		"$MAIL_ROOT" >"$PFDIR/main.cf" &&
	expect_clean &&
	check_eq "$(jq -r ".findings[] | select(.name == \"postfix_mailbox_base\") |
		.severity" check.json)" info &&
	check_breaks postfix_mailbox_base=error -- \
		"sed -i \"s|^virtual_mailbox_base = .*|virtual_mailbox_base = /var/vmail|\" \"\$PFDIR/main.cf\"" \
		"sed -i \"s|^virtual_mailbox_base = .*|virtual_mailbox_base = \$MAIL_ROOT|\" \"\$PFDIR/main.cf\"" &&
	rm "$PFDIR/main.cf"
'

test_done
