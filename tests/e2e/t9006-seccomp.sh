#!/bin/sh
# engines: all
# podop (socketmap and dict) and postinod under their seccomp allow-lists
# (podop --seccomp, postinod.seccomp = true) serve a whole cycle: lookups,
# dict reads and quota writes, SCIM create/read/change/delete, the
# webhook, a reload (SIGHUP: tables reopened, the JWKS fetched again) and,
# on MariaDB and PostgreSQL, the database server killed and restarted
# under them (every connection made again).  The kernel says each runs
# filtered (Seccomp: 2) with no_new_privs set, nothing was killed, and
# each stops cleanly.  tests/unit/t_harden.c shows that calls outside the
# list (execve, fork, setuid, ...) kill.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop postino
postino --version | grep -q "features:.* seccomp" ||
	test_skip_or_fail "postino was built without libseccomp (libseccomp-dev)"
private_server
setup_postino
postfix_conf
doveadm_conf
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4
D=proxy:$TEST_DIR/dict.sock:auth

# filtered PID: the kernel's view of the process.
filtered() {
	grep -q "^Seccomp:[[:space:]]*2$" "/proc/$1/status" &&
	grep -q "^NoNewPrivs:[[:space:]]*1$" "/proc/$1/status" ||
	{ grep -E "^(Seccomp|NoNewPrivs):" "/proc/$1/status" >&2; return 1; }
}

user_json() {
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","password":"Pw-0123456789"}' "$1"
}

# cycle TAG: everything the daemons do, once; TAG makes the names new.
cycle() {
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	check_eq "$(pq bob@example.com mailbox)" example.com/bob/ &&
	expect_code 1 pq "nobody-$1@example.com" mailbox &&
	check_eq "$(dget $D shared/passdb/alice@example.com)" \
		"{\"password\":\"{PLAIN}alicepw\"}" &&
	dd dict set -u alice@example.com $D priv/quota/storage "$2" &&
	dd dict set -u alice@example.com $D priv/quota/messages 1 &&
	check_eq "$(dget -u alice@example.com $D priv/quota/storage)" "$2" &&
	check_eq "$(sql "SELECT bytes FROM quota2 WHERE username = 'alice@example.com'")" "$2" &&
	expect_status 201 scim POST /Users "$(user_json "u-$1@example.org")" &&
	test -d "$MAIL_ROOT/example.org/u-$1" &&
	expect_status 200 scim GET "/Users/u-$1@example.org" &&
	expect_status 200 scim PATCH "/Users/u-$1@example.org" \
		"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]}" &&
	check_eq "$(zitadel --secret "$HMAC_SECRET" --type user.reactivated \
		--email "u-$1@example.org" | cut -d" " -f1)" 200 &&
	expect_status 204 scim DELETE "/Users/u-$1@example.org" &&
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/readyz")" 200
}

alive() {
	kill -0 "$(cat sm.pid)" && kill -0 "$(cat dict.pid)" &&
	kill -0 "$POSTINOD_PID"
}

test_setup 'seed; start podop twice and postinod, all under seccomp' '
	seed_podop &&
	postino domain add example.org >/dev/null &&
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix --seccomp \
		--cache-ttl 1 --cache-negative-ttl 1 --timeout 2000 \
		--table alias=postfixadmin:alias \
		--table mailbox=postfixadmin:mailbox &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot \
		--seccomp --table auth=postfixadmin:dovecot &&
	start_jwks &&
	start_postinod POSTINOD_SECCOMP=true &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'the kernel has each of them filtered, with no_new_privs' '
	filtered "$(cat sm.pid)" &&
	filtered "$(cat dict.pid)" &&
	filtered "$POSTINOD_PID" &&
	check_grep "seccomp allow-list installed" sm.log &&
	check_grep "seccomp allow-list installed" "$TEST_DIR/postinod.log"
'

test_expect_success 'socketmap, dict, SCIM and webhook: a whole cycle' '
	cycle 1 111 && alive
'

test_expect_success 'SIGHUP: podop reopens its tables, postinod fetches the keys again' '
	before=$(wc -l <"$KEYS/hits") &&
	kill -HUP "$(cat sm.pid)" "$(cat dict.pid)" "$POSTINOD_PID" &&
	wait_until 30 grep -q "reloaded" sm.log &&
	wait_until 30 grep -q "reloaded" dict.log &&
	cycle 2 222 &&
	check_grep "reloaded" sm.log && check_grep "reloaded" dict.log &&
	test "$(wc -l <"$KEYS/hits")" -gt "$before" &&
	alive
'

if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then
	test_expect_success 'the database server dies and returns: every connection made again' '
		sql "SELECT 1" >/dev/null &&
		if [ "$POSTINO_TEST_ENGINE" = pgsql ]; then sql CHECKPOINT >/dev/null; fi &&
		kill_private_server &&
		sleep 1.2 &&
		expect_code 1 pq "gone@example.com" mailbox &&
		check_eq "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/readyz")" 503 &&
		restart_private_server &&
		wait_until 60 sh -c "test \"\$(curl -s -o /dev/null -w %{http_code} $BASE/readyz)\" = 200" &&
		cycle 3 333 &&
		alive
	'
fi

test_setup 'stop them' '
	podop_stop_all_clean >podop-stop.log 2>&1; echo $? >podop-stop.rc
	stop_postinod
'

test_expect_success 'each stopped cleanly: exit 0, no sanitizer report, nothing killed' '
	cat podop-stop.log && check_eq "$(cat podop-stop.rc)" 0 &&
	postinod_log_clean &&
	! grep -i "bad system call" sm.log dict.log "$TEST_DIR/postinod.log"
'

test_done
