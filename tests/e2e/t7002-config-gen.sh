#!/bin/sh
# engines: all
# postino config gen: what it writes for this engine, judged by the real
# programs (postconf parses main.cf and master.cf, postmap answers through
# every generated sql-*.cf or podop's routes table, doveconf accepts the
# Dovecot files for each identity backend, a running Dovecot authenticates
# through the hybrid chain, check validates the result); Dovecot 2.4
# syntax, the database port and socket, --only/--skip, and the atomic
# install (refusal, --in-place with its backup, carried-over files).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
. "$SRCDIR/tests/helpers/mail-lib.sh"
need_cmd jq postconf postmap doveconf doveadm dovecot podop

setup_check
SPOOL=$TEST_DIR/spool
G=$TEST_DIR/g
# mlmmj runs as nobody when we are root (as it would as "mlmmj").
if [ "$(id -u)" -eq 0 ]; then
	ML_UID=65534 ML_GID=65534 ML_USER=$(id -un 65534)
else
	ML_UID=-1 ML_GID=-1 ML_USER=mlmmj
fi

# gen DIR [ARGS...]: config gen into DIR, with the Dovecot files' paths in
# DIR too, so each variant stands on its own.
gen() {
	_d=$1
	shift
	postino config gen --out "$_d" --dovecot-dir "$_d/dovecot" \
		--queue-dir "$TEST_DIR/pfq" --podop-socket "unix:$TEST_DIR/podop.sock" \
		--podop-dict-socket "unix:$TEST_DIR/podop-dict.sock" "$@"
}

# doveconf_ok DIR AUTHFILE: a Dovecot 2.3 that includes DIR's files parses.
doveconf_ok() {
	mkdir -p "$1/run"
	cat >"$1/test.conf" <<EOF
base_dir = $1/run
log_path = $1/dovecot.log
instance_name = postino-gen-$$-$(basename "$1")
protocols =
ssl = no
!include $1/dovecot/conf.d/$2
!include $1/dovecot/conf.d/90-postino.conf
EOF
	doveconf -c "$1/test.conf" -n >"$1/doveconf.out" 2>"$1/doveconf.err" &&
	! grep -q -i "warning\|error" "$1/doveconf.err"
}

test_setup 'a list, a catch-all, mlmmj set up' '
	mkdir "$SPOOL" &&
	toml_set mlmmj_spool_dir "\"$SPOOL\"" &&
	toml_set mlmmj_uid $ML_UID && toml_set mlmmj_gid $ML_GID &&
	postino alias add @example.org bob@example.org >/dev/null &&
	postino domain add lists.example.org >/dev/null &&
	postino list add team@lists.example.org --owner alice@example.org >/dev/null
'

test_expect_success 'the files for this engine, with their modes' '
	gen "$G" --json >out &&
	jq -r ".files[] | \"\(.mode) \(.path)\"" out | sort >got &&
	{
		echo "0640 postfix/sql-virtual_alias_alias_domain_maps.cf"
		echo "0640 postfix/sql-virtual_alias_domain_catchall_maps.cf"
		echo "0640 postfix/sql-virtual_alias_maps.cf"
		echo "0640 postfix/sql-virtual_domains.cf"
		echo "0640 postfix/sql-virtual_mailbox_alias_domain_maps.cf"
		echo "0640 postfix/sql-virtual_mailbox_maps.cf"
		echo "0640 postfix/sql-virtual_sender_login_maps.cf"
		echo "0640 postfix/sql-virtual_transport_maps.cf"
		echo "0644 dovecot/conf.d/90-postino.conf"
		echo "0644 dovecot/conf.d/auth-sql.conf.ext"
		echo "0644 postfix/main.cf"
		echo "0644 postfix/master.cf"
		case $POSTINO_TEST_ENGINE in
		sqlite)	echo "0640 dovecot/dovecot-sql.conf.ext"
			echo "0644 podop/podop-postfix.toml" ;;
		*)	echo "0640 dovecot/dovecot-sql.conf.ext"
			echo "0640 postfix/sql-routes.cf" ;;
		esac
	} | sort >want &&
	test_cmp_f want got &&
	for f in $(jq -r ".files[].path" out); do
		test "$(stat -c %a "$G/$f")" = "$(jq -r ".files[] | select(.path == \"$f\") | .mode" out | sed s/^0//)" || exit 1
	done &&
	test "$(stat -c %a "$G")" = 750 &&
	ls -a "$TEST_DIR" >names && ! grep -q postino-gen names
'

test_expect_success 'Postfix parses main.cf and master.cf; standard names only' '
	install_gen "$G" &&
	pf_config "$G" 2525 &&
	postconf -c "$PFETC" -n >n.out 2>n.err &&
	! grep -q . n.err &&
	postconf -c "$PFETC" -M >m.out 2>m.err && ! grep -q . m.err &&
	for s in receive bounce sub unsub; do check_grep "^mlmmj-$s *unix" m.out || exit 1; done &&
	check_grep "user=$ML_USER argv=/usr/bin/mlmmj-receive -F -L $SPOOL/\${domain}/\${user}" m.out &&
	sed -n "/^# postino config gen/,\$p" "$PFETC/main.cf" | grep -v "^#" | grep -v "^ " |
		sed "s/ =.*//" | sort -u >params &&
	postconf -d >defaults 2>/dev/null &&
	while read -r p; do
		case $p in mlmmj-*_destination_recipient_limit) continue ;; esac
		grep -q "^$p =" defaults || { echo "not a Postfix parameter: $p" >&2; exit 1; }
	done <params &&
	check_grep "^recipient_delimiter = +$" n.out &&
	check_grep "^virtual_mailbox_base = $MAIL_ROOT$" n.out
'

# map | key | answer ("-": not found)
cat >cases <<'EOF_CASES'
sql-virtual_domains|example.org|example.org
sql-virtual_domains|example.net|example.net
sql-virtual_domains|nowhere.test|-
sql-virtual_alias_maps|info@example.org|alice@example.org,bob@example.org
sql-virtual_alias_maps|alice@example.org|alice@example.org
sql-virtual_alias_maps|@example.org|bob@example.org
sql-virtual_alias_alias_domain_maps|info@example.net|alice@example.org,bob@example.org
sql-virtual_alias_domain_catchall_maps|@example.net|bob@example.org
sql-virtual_mailbox_maps|alice@example.org|example.org/alice/
sql-virtual_mailbox_maps|nobody@example.org|-
sql-virtual_mailbox_alias_domain_maps|alice@example.net|example.org/alice/
sql-virtual_transport_maps|example.org|:
sql-virtual_sender_login_maps|bob@example.org|bob@example.org
routes|team@lists.example.org|mlmmj-receive:
routes|team+help@lists.example.org|mlmmj-receive:
routes|team+bounces-1-alice=example.org@lists.example.org|mlmmj-receive:
routes|teamx@lists.example.org|-
routes|team-owner@lists.example.org|-
routes|team@example.org|-
EOF_CASES

test_setup 'on SQLite, start podop for the routes' '
	if [ -e "$G/podop/podop-postfix.toml" ]; then
		podop -c "$G/podop/podop-postfix.toml" >podop.log 2>&1 &
		echo $! >podop.pid
		test_at_exit "kill $(cat podop.pid)"
		wait_until 60 test -S "$TEST_DIR/podop.sock" || { cat podop.log; false; }
	fi
'

test_expect_success 'postmap answers through every generated map' '
	case $POSTINO_TEST_ENGINE in
	sqlite) T=sqlite ;; mysql) T=mysql ;; pgsql) T=pgsql ;;
	esac
	fail=0
	while IFS="|" read -r map key want; do
		if [ "$map" = routes ]; then
			if [ -e "$G/podop/podop-postfix.toml" ]; then
				src="socketmap:unix:$TEST_DIR/podop.sock:routes"
			else
				src="$T:$PFETC/postfix/sql-routes.cf"
			fi
		else
			src="$T:$PFETC/postfix/$map.cf"
		fi
		got=$(postmap -c "$PFETC" -q "$key" "$src" 2>err) || got=-
		if [ "$got" != "$want" ]; then
			echo "$map $key: got [$got], want [$want]" >&2
			cat err >&2
			fail=1
		fi
	done <cases
	exit $fail
'

test_expect_success 'Dovecot accepts the files for each identity backend' '
	for ib in local noauth hybrid; do
		gen "$G.$ib" --identity-backend $ib --only dovecot >/dev/null &&
		doveconf_ok "$G.$ib" auth-sql.conf.ext || {
			echo "identity $ib:" >&2; cat "$G.$ib/doveconf.err" >&2; exit 1; }
	done &&
	check_eq "$(grep -c "driver = " "$G.local/dovecot/conf.d/auth-sql.conf.ext")" 2 &&
	check_grep "result_failure = continue" "$G.hybrid/dovecot/conf.d/auth-sql.conf.ext" &&
	check_grep "result_success = return-ok" "$G.hybrid/dovecot/conf.d/auth-sql.conf.ext" &&
	check_grep "result_success = continue-ok" "$G.noauth/dovecot/conf.d/auth-sql.conf.ext" &&
	if [ "$POSTINO_TEST_ENGINE" = pgsql ]; then
		# Dovecot 2.3 panics with oauth2 next to pgsql: checkpassword.
		check_grep "driver = checkpassword" "$G.noauth/dovecot/conf.d/auth-sql.conf.ext" &&
		test ! -e "$G.hybrid/dovecot/dovecot-oauth2.conf.ext"
	else
		check_grep "driver = oauth2" "$G.noauth/dovecot/conf.d/auth-sql.conf.ext" &&
		test -e "$G.hybrid/dovecot/dovecot-oauth2.conf.ext"
	fi &&
	test ! -e "$G.local/dovecot/dovecot-oauth2.conf.ext" &&
	gen "$G.podop" --lookups podop --identity-backend hybrid \
		--only dovecot,podop_dovecot >/dev/null &&
	doveconf_ok "$G.podop" auth-dict.conf.ext &&
	check_grep "driver = oauth2" "$G.podop/dovecot/conf.d/auth-dict.conf.ext" &&
	check_grep "uri = proxy:$TEST_DIR/podop-dict.sock:auth" "$G.podop/dovecot/dovecot-dict-auth.conf.ext"
'

# auth_conf DIR AUTHFILE: a Dovecot with only the auth service, on DIR's files.
auth_conf() {
	D=$1
	mkdir -p "$D/state"
	cat >"$D/auth.conf" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
instance_name = postino-auth-$$-$(basename "$D")
protocols =
ssl = no
disable_plaintext_auth = no
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
}
!include $D/dovecot/conf.d/$2
!include $D/dovecot/conf.d/90-postino.conf
EOF
}

# auth_run DIR: start it, run doveadm auth test for alice with the right
# and a wrong password, stop it.
auth_run() {
	dovecot -c "$1/auth.conf" &&
	wait_until 60 test -S "$1/run/auth-userdb" &&
	doveadm -c "$1/auth.conf" auth test alice@example.org secret-1 >a.out 2>&1 &&
	check_grep "auth succeeded" a.out &&
	expect_code 77 doveadm -c "$1/auth.conf" auth test alice@example.org wrong >a.out 2>&1 &&
	! grep -q Panic "$1/dovecot.log"
	_rc=$?
	doveadm -c "$1/auth.conf" stop >/dev/null 2>&1
	[ $_rc -eq 0 ] || cat "$1/dovecot.log" >&2
	return $_rc
}

test_expect_success 'hybrid: local passwords still log in through the chain' '
	auth_conf "$G.hybrid" auth-sql.conf.ext &&
	auth_run "$G.hybrid"
'

test_expect_success 'hybrid through podop'"'"'s dict, with the oauth2 passdb' '
	podop -c "$G.podop/podop/podop-dovecot.toml" >pd.log 2>&1 &
	pid=$!
	wait_until 60 test -S "$TEST_DIR/podop-dict.sock" &&
	auth_conf "$G.podop" auth-dict.conf.ext &&
	auth_run "$G.podop"
	rc=$?
	kill $pid
	exit $rc
'

test_expect_success 'check validates the generated Dovecot chain (hybrid)' '
	toml_set identity_backend "\"hybrid\"" &&
	toml_set dovecot_conf_dir "\"$G.hybrid/dovecot\"" &&
	run_check --deep &&
	check_eq "$(jq -r ".findings[] | select(.name == \"dovecot_passdb_chain\") | .severity" check.json)" info &&
	toml_set identity_backend "\"local\""
'

test_expect_success 'the database port and socket are kept' '
	case $POSTINO_TEST_ENGINE in
	mysql)
		check_grep "^connect = host=$TEST_MYSQL_SOCKET dbname=$DB_NAME user=$DB_USER password=" "$G/dovecot/dovecot-sql.conf.ext" &&
		check_grep "^hosts = unix:$TEST_MYSQL_SOCKET$" "$G/postfix/sql-routes.cf" ;;
	pgsql)
		check_grep "^connect = host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB_NAME" "$G/dovecot/dovecot-sql.conf.ext" &&
		check_grep "^hosts = inet:127.0.0.1:$TEST_PG_PORT$" "$G/postfix/sql-routes.cf" ;;
	sqlite)
		check_grep "^connect = $SQLITE_DB$" "$G/dovecot/dovecot-sql.conf.ext" ;;
	esac
'

test_expect_success 'homes are the maildirs postino creates; one delimiter' '
	check_grep "/mail/'"'"' *|| *maildir\|CONCAT('"'"'$MAIL_ROOT/'"'"', maildir)\|('"'"'$MAIL_ROOT/'"'"' || maildir)" "$G/dovecot/dovecot-sql.conf.ext" &&
	check_grep "^mail_location = maildir:~$" "$G/dovecot/conf.d/90-postino.conf" &&
	toml_set recipient_delimiter "\"+-\"" &&
	gen "$G.delim" --lookups podop >/dev/null &&
	check_grep "^recipient_delimiter = +-$" "$G.delim/postfix/main.cf" &&
	check_grep "^recipient_delimiter = +-$" "$G.delim/dovecot/conf.d/90-postino.conf" &&
	check_grep "^recipient_delimiter = \"+-\"$" "$G.delim/podop/podop-postfix.toml" &&
	toml_set recipient_delimiter "\"+\""
'

test_expect_success 'Dovecot 2.4 syntax' '
	gen "$G.24" --dovecot 2.4 --only dovecot >/dev/null &&
	A=$G.24/dovecot/conf.d/auth-sql.conf.ext &&
	test "$(stat -c %a "$A")" = 640 &&
	check_grep "^sql_driver = $POSTINO_TEST_ENGINE$" "$A" &&
	check_grep "^passdb sql {" "$A" && check_grep "^userdb sql {" "$A" &&
	check_grep "username = '"'"'%{user}'"'"'" "$A" &&
	check_grep "quota_storage_size" "$A" &&
	check_grep "^mail_driver = maildir$" "$G.24/dovecot/conf.d/90-postino.conf" &&
	check_grep "^mail_path = ~$" "$G.24/dovecot/conf.d/90-postino.conf" &&
	test ! -e "$G.24/dovecot/dovecot-sql.conf.ext" &&
	case $POSTINO_TEST_ENGINE in
	mysql) check_grep "^mysql $TEST_MYSQL_SOCKET {" "$A" ;;
	pgsql) check_grep "^pgsql 127.0.0.1 {" "$A" && check_grep "port = $TEST_PG_PORT" "$A" ;;
	sqlite) check_grep "^sqlite_path = $SQLITE_DB$" "$A" ;;
	esac &&
	gen "$G.24p" --dovecot 2.4 --lookups podop >out.json --json &&
	json "[.files[].path] | index(\"podop/podop-dovecot.toml\") != null" out.json &&
	json "[.files[].path] | index(\"podop/podop-postfix.toml\") != null" out.json &&
	check_grep "^    dict_proxy_name = auth$" "$G.24p/dovecot/conf.d/91-postino-podop.conf" &&
	check_grep "^auth = \"postfixadmin:dovecot\"$" "$G.24p/podop/podop-dovecot.toml"
'

test_expect_success '--lookups podop: socketmaps and LMTP, no SQL maps' '
	gen "$G.p" --lookups podop --json >out.json &&
	json "[.files[].path | select(startswith(\"postfix/sql-\"))] | length == 0" out.json &&
	check_grep "^virtual_alias_maps = proxy:socketmap:unix:$TEST_DIR/podop.sock:alias$" "$G.p/postfix/main.cf" &&
	check_grep "^transport_maps = proxy:socketmap:unix:$TEST_DIR/podop.sock:routes,$" "$G.p/postfix/main.cf" &&
	check_grep "^virtual_transport = lmtp:" "$G.p/postfix/main.cf" &&
	check_grep "^auth = \"postfixadmin:dovecot\"$" "$G.p/podop/podop-dovecot.toml" &&
	check_grep "^routes = \"postfixadmin:routes\"$" "$G.p/podop/podop-postfix.toml"
'

test_expect_success '--only and --skip' '
	expect_code 4 gen "$G.x" --only main_fc 2>err &&
	check_grep "did you mean .main_cf." err &&
	expect_code 4 gen "$G.x" --only dovecot_dict 2>err &&
	check_grep "does not apply" err &&
	test ! -e "$G.x" &&
	gen "$G.s" --skip dovecot,podop --json >out.json &&
	json "[.files[].path | select(startswith(\"postfix/\") | not)] | length == 0" out.json &&
	gen "$G.o" --only main_cf,dovecot_mail --json >out.json &&
	json "[.files[].path] == [\"postfix/main.cf\", \"dovecot/conf.d/90-postino.conf\"]" out.json
'

test_expect_success '--dry-run writes nothing' '
	gen "$G.dry" --dry-run >out &&
	check_grep "would write" out &&
	test ! -e "$G.dry"
'

test_expect_success 'an existing output is refused without --in-place, untouched' '
	find "$G" -type f -exec md5sum {} + | sort >before &&
	expect_code 2 gen "$G" 2>err &&
	check_grep "already exists" err && check_grep "in-place" err &&
	find "$G" -type f -exec md5sum {} + | sort >after &&
	test_cmp_f before after &&
	ls -a "$TEST_DIR" >names && ! grep -q postino-gen names
'

test_expect_success '--in-place replaces it and keeps the old one as .bak' '
	echo "# old" >>"$G/postfix/main.cf" &&
	gen "$G" --in-place >out &&
	! grep -q "^# old" "$G/postfix/main.cf" &&
	check_grep "^# old" "$G.bak/postfix/main.cf" &&
	check_grep "$G.bak" out &&
	gen "$G" --in-place >/dev/null &&
	! grep -q "^# old" "$G.bak/postfix/main.cf" &&
	ls -a "$TEST_DIR" >names && ! grep -q "postino-gen\|deleting" names
'

test_expect_success '--in-place --only carries the other files over' '
	echo "# mine" >>"$G/postfix/sql-virtual_alias_maps.cf" &&
	gen "$G" --in-place --only main_cf >/dev/null &&
	check_grep "^# mine" "$G/postfix/sql-virtual_alias_maps.cf" &&
	test -e "$G/dovecot/conf.d/auth-sql.conf.ext" &&
	test "$(stat -c %a "$G/postfix/sql-virtual_alias_maps.cf")" = 640
'

test_expect_success '--in-place never replaces a directory it does not own' '
	echo hello >"$G/README" &&
	expect_code 2 gen "$G" --in-place 2>err &&
	check_grep "holds .README." err &&
	test -e "$G/README"
'

test_done
