#!/bin/sh
# engines: all
# postinod under faults.  The database server crashes (kill -9) while the
# daemon runs: /readyz goes 503 at once and SCIM calls answer 503, /healthz
# stays 200, and when the server is back both recover by themselves, with
# nothing half-done.  The JWKS issuer hangs (accepts, never answers) or
# answers garbage: every request still answers within the fetch timeout
# (JWKS_FETCH_TIMEOUT_MS, 5 s) with 401 or 503 as designed, and meanwhile
# /healthz and requests whose keys are cached answer before it.  The JWKS
# part does not involve the database: it runs on SQLite only.
. "$(dirname "$0")/../lib/test-lib.sh"

private_server
setup_postino
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

# ms CMD...: run CMD, print its output, then the milliseconds it took on
# a line of its own.
ms() {
	_t0=$(date +%s%N)
	"$@"
	echo
	echo $(( ($(date +%s%N) - _t0) / 1000000 ))
}

# status_within LIMIT_MS WANT CMD...: CMD prints an HTTP status; it must
# be WANT and come within LIMIT_MS.
status_within() {
	_lim=$1
	_want=$2
	shift 2
	_tf=$(mktemp timed.XXXXXX)
	ms "$@" >"$_tf"
	_got=$(sed -n 1p "$_tf")
	_ms=$(sed -n 2p "$_tf")
	echo "$*: $_got in $_ms ms"
	check_eq "$_got" "$_want" "status of $*" && test "$_ms" -le "$_lim"
}

# Bounds.  "At once" is AT_ONCE ms: a loaded machine stays well within
# it, and a request that waited on a dead server or a hanging issuer
# would not.  A hanging JWKS fetch ends at JWKS_FETCH_TIMEOUT_MS (5 s,
# src/postinod/jwks.h): its request must answer within twice that.  While
# it hangs, other requests must answer before it does (an order of
# events, not a time).
AT_ONCE=5000
FETCH_LIMIT=10000

# hits: how many times the issuer has been asked for its keys.
hits() {
	wc -l <"$KEYS/hits"
}

# hits_above N: for wait_until.
hits_above() {
	test "$(hits)" -gt "$1"
}

get() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$BASE$1"
}

# durable: what was committed survives a kill -9 of the server (the test
# PostgreSQL runs with synchronous_commit=off, which may lose the last
# commits of a crash by design).
durable() {
	[ "$POSTINO_TEST_ENGINE" != pgsql ] || sql "CHECKPOINT" >/dev/null
}

user_json() {
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","password":"Pw-0123456789"}' "$1"
}

test_setup 'start the JWKS server and postinod' '
	start_jwks && start_postinod &&
	postino domain add example.org >/dev/null &&
	TOKEN=$(token --sub provisioner)
'

if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then

test_expect_success 'the database up: readyz 200, SCIM works' '
	check_eq "$(get /readyz)" 200 &&
	expect_status 201 scim POST /Users "$(user_json before@example.org)" &&
	expect_status 200 scim GET /Users/before@example.org &&
	durable
'

test_expect_success 'the database dies: readyz 503 at once, healthz 200, SCIM 503' '
	kill_private_server &&
	status_within $AT_ONCE 503 get /readyz &&
	status_within $AT_ONCE 200 get /healthz &&
	status_within $AT_ONCE 503 scim GET /Users/before@example.org &&
	json ".status == \"503\" and .detail == \"service temporarily unavailable\"" out &&
	status_within $AT_ONCE 503 scim POST /Users "$(user_json during@example.org)" &&
	status_within $AT_ONCE 503 scim DELETE /Users/before@example.org &&
	check_eq "$(zitadel --secret "$HMAC_SECRET" --type user.deactivated \
		--email before@example.org | cut -d" " -f1)" 503 &&
	kill -0 "$POSTINOD_PID"
'

test_expect_success 'the database returns: readyz 200 and SCIM work again by themselves' '
	restart_private_server &&
	wait_until 60 sh -c "test \"\$(curl -s -o /dev/null -w %{http_code} $BASE/readyz)\" = 200" &&
	expect_status 200 scim GET /Users/before@example.org &&
	expect_status 404 scim GET /Users/during@example.org &&
	expect_status 201 scim POST /Users "$(user_json after@example.org)" &&
	expect_status 204 scim DELETE /Users/before@example.org &&
	check_eq "$(sql "SELECT username FROM mailbox ORDER BY username")" after@example.org &&
	test -d "$MAIL_ROOT/example.org/after" &&
	test ! -e "$MAIL_ROOT/example.org/during" &&
	postino check --deep --json >check.json &&
	json "[.findings[] | select(.severity != \"info\" and
		(.name != \"orphan_maildirs\" or (.message | test(\"example.org/before\") | not)))]
		| length == 0" check.json &&
	durable
'

test_expect_success 'a second crash and return, no restart of postinod' '
	kill_private_server &&
	status_within $AT_ONCE 503 get /readyz &&
	restart_private_server &&
	wait_until 60 sh -c "test \"\$(curl -s -o /dev/null -w %{http_code} $BASE/readyz)\" = 200" &&
	expect_status 200 scim GET /Users/after@example.org
'

else

test_expect_success 'keys cached: a token of a known key is accepted' '
	expect_status 200 scim GET /Users
'

# A token signed by rsa2, which the set lacks: it makes postinod fetch
# the set again (a forced refresh), into the hanging issuer.
test_at_exit "rm -f '$KEYS/hang'"
test_expect_success 'issuer hangs: a new kid answers 401 within the timeout, others at once' '
	NEWKID=$(token --sub provisioner --key rsa2) &&
	touch "$KEYS/hang" &&
	rm -f slow.rc &&
	before=$(hits) || exit 1
	(TOKEN=$NEWKID; status_within $FETCH_LIMIT 401 scim GET /Users >slow.log 2>&1; echo $? >slow.rc) &
	wait_until 30 hits_above "$before" &&
	status_within $AT_ONCE 200 get /healthz &&
	status_within $AT_ONCE 200 scim GET /Users &&
	status_within $AT_ONCE 404 scim GET /Users/nobody@example.org &&
	{ ! test -e slow.rc || { echo "the hanging request answered first"; exit 1; }; } &&
	wait &&
	cat slow.log && check_eq "$(cat slow.rc)" 0 &&
	check_grep "jwks: cannot fetch" "$TEST_DIR/postinod.log"
'

test_setup 'restart postinod while the issuer hangs' '
	stop_postinod &&
	start_postinod
'

test_expect_success 'issuer hangs, no keys yet: 503 within the timeout, healthz at once' '
	rm -f slow.rc &&
	before=$(hits) || exit 1
	(status_within $FETCH_LIMIT 503 scim GET /Users >slow.log 2>&1; echo $? >slow.rc) &
	wait_until 30 hits_above "$before" &&
	status_within $AT_ONCE 200 get /healthz &&
	status_within $AT_ONCE 200 get /readyz &&
	{ ! test -e slow.rc || { echo "the hanging request answered first"; exit 1; }; } &&
	wait &&
	cat slow.log && check_eq "$(cat slow.rc)" 0 &&
	json ".status == \"503\"" out
'

test_setup 'restart postinod with an issuer that answers garbage' '
	stop_postinod &&
	rm -f "$KEYS/hang" && touch "$KEYS/garbage" &&
	start_postinod
'

test_expect_success 'issuer answers garbage: 503 at once, the reason in the log' '
	status_within $AT_ONCE 503 scim GET /Users &&
	status_within $AT_ONCE 200 get /healthz &&
	check_grep "jwks: " "$TEST_DIR/postinod.log"
'

test_setup 'the issuer heals; SIGHUP reloads the keys' '
	rm -f "$KEYS/garbage" &&
	kill -HUP "$POSTINOD_PID"
'

test_expect_success 'keys load again; garbage later keeps the loaded keys' '
	wait_until 30 sh -c "test \"\$(curl -s -o /dev/null -w %{http_code} -H \"Authorization: Bearer $TOKEN\" $BASE/scim/v2/Users)\" = 200" &&
	touch "$KEYS/garbage" &&
	NEWKID=$(token --sub provisioner --key rsa2) &&
	(TOKEN=$NEWKID; status_within $AT_ONCE 401 scim GET /Users) &&
	status_within $AT_ONCE 200 scim GET /Users &&
	rm -f "$KEYS/garbage"
'

fi

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, no sanitizer report' '
	postinod_log_clean
'

test_done
