# postinod-lib.sh: what the SCIM (t5*) and webhook (t6*) scripts share.
# Source it after test-lib.sh and setup_postino:
#
#	. "$SRCDIR/tests/helpers/postinod-lib.sh"
#	start_jwks			# keys in $KEYS, issuer URL in $ISSUER
#	start_postinod			# $BASE, $POSTINOD_PID, log in postinod.log
#	TOKEN=$(token --sub alice)
#	scim GET /Users >status		# body in ./out
#
# Every daemon started here is stopped (SIGTERM, then SIGKILL) at exit.

PY=/usr/bin/python3
HELPERS=$SRCDIR/tests/helpers
AUD=postino-test
HMAC_SECRET=test-secret-0123456789-abcdefghijklmnop
HMAC_SECRET2=rotated-secret-9876543210-zyxwvutsrqponm

need_postinod_tools() {
	need_cmd curl jq
	[ -x "$BUILD_DIR/src/postinod/postinod" ] ||
		test_skip_or_fail "postinod not built (libmicrohttpd or libcurl missing)"
	$PY -c 'import jwt, cryptography' 2>/dev/null ||
		test_skip_or_fail "python3-jwt and python3-cryptography are needed"
}

start_jwks() {
	KEYS=$TEST_DIR/keys
	$PY "$HELPERS/pjwt.py" keys "$KEYS" || return 1
	rm -f "$TEST_DIR/jwks.port"
	$PY "$HELPERS/pjwt.py" serve "$KEYS" "$TEST_DIR/jwks.port" \
		>"$TEST_DIR/jwks.log" 2>&1 &
	JWKS_PID=$!
	test_at_exit "kill $JWKS_PID"
	wait_until 60 test -s "$TEST_DIR/jwks.port" || return 1
	JWKS_PORT=$(cat "$TEST_DIR/jwks.port")
	ISSUER=http://127.0.0.1:$JWKS_PORT
	export KEYS ISSUER
}

# stop_pid PID: SIGTERM, wait up to 60 s, then SIGKILL.  The exit status
# of a child of this shell is left in STOP_RC.
stop_pid() {
	STOP_RC=
	kill -TERM "$1" 2>/dev/null
	(sleep 60; kill -KILL "$1" 2>/dev/null) >/dev/null 2>&1 &
	_w=$!
	wait "$1" 2>/dev/null
	STOP_RC=$?
	if [ "$STOP_RC" -eq 127 ]; then
		STOP_RC=
		wait_until 60 sh -c "! kill -0 $1"
	fi
	kill "$_w" 2>/dev/null
	return 0
}

# start_postinod [VAR=value...]: run the daemon with the test settings
# plus the given environment; waits for /healthz.  Call it from
# test_setup (the current shell), so that the daemon is stopped at exit.
start_postinod() {
	PORT=$(free_port)
	BASE=http://127.0.0.1:$PORT
	_scheme=http
	for _a in "$@"; do
		case $_a in POSTINOD_TLS_CERT=*) _scheme=https ;; esac
	done
	env POSTINOD_LISTEN="127.0.0.1:$PORT" POSTINOD_SCIM_ISSUER="$ISSUER" \
		POSTINOD_SCIM_AUDIENCE="$AUD" POSTINOD_THREADS=4 \
		POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" "$@" \
		postinod --allow-root >>"$TEST_DIR/postinod.log" 2>&1 &
	POSTINOD_PID=$!
	test_at_exit "stop_pid $POSTINOD_PID"
	if ! wait_until 60 curl -sfk "$_scheme://127.0.0.1:$PORT/healthz"; then
		sed 's/^/# /' "$TEST_DIR/postinod.log"
		return 1
	fi
	export BASE PORT POSTINOD_PID
}

stop_postinod() {
	stop_pid "$POSTINOD_PID"
}

# postinod_log_clean: the daemon stopped last exited 0, and no daemon of
# this script left a sanitizer report in the log (ASan/UBSan builds).
postinod_log_clean() {
	check_eq "$STOP_RC" 0 "postinod exit status" &&
	if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" \
		"$TEST_DIR/postinod.log" >&2; then
		return 1
	fi
}

# token [pjwt options]: a bearer token from the test issuer.
token() {
	$PY "$HELPERS/pjwt.py" token "$KEYS" --iss "$ISSUER" --aud "$AUD" "$@"
}

# scim METHOD PATH [BODY]: call /scim/v2PATH with $TOKEN; the body of the
# answer goes to ./out, the headers to ./hdr, the status to stdout.
scim() {
	if [ $# -ge 3 ]; then
		curl -s -o out -D hdr -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/scim+json' \
			--data-binary "$3" "$BASE/scim/v2$2"
	else
		curl -s -o out -D hdr -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $TOKEN" "$BASE/scim/v2$2"
	fi
}

# scim_get_q PATH QUERY...: GET with url-encoded query arguments.
scim_get_q() {
	_p=$1
	shift
	_n=$#
	for _a in "$@"; do
		set -- "$@" --data-urlencode "$_a"
	done
	shift "$_n"
	curl -s -o out -D hdr -w '%{http_code}' -G \
		-H "Authorization: Bearer $TOKEN" "$@" "$BASE/scim/v2$_p"
}

# expect_status WANT CMD...: CMD prints a status; compare.
expect_status() {
	_want=$1
	shift
	_got=$("$@")
	if [ "$_got" != "$_want" ]; then
		echo "expected HTTP $_want, got $_got: $*" >&2
		[ -f out ] && sed 's/^/  | /' out >&2
		return 1
	fi
}

# zitadel [zitadel.py options]: send an event, print "STATUS BODY".
zitadel() {
	$PY "$HELPERS/zitadel.py" "$BASE/zitadel/events" "$@"
}

# mailbox_state USER: everything the model wrote for one mailbox, with
# the address replaced by U and times left out, for comparing a
# mailbox made through postinod with one made by the CLI.
mailbox_state() {
	_u=$1
	sql "SELECT name, quota, domain, active, CASE WHEN password = '{NOAUTH}' THEN 'noauth' ELSE substr(password, 1, 12) END FROM mailbox WHERE username = '$_u'"
	sql "SELECT bytes, messages FROM quota2 WHERE username = '$_u'"
	sql "SELECT replace(goto, '$_u', 'U'), domain, active FROM alias WHERE address = '$_u'"
	sql "SELECT action, replace(data, '$_u', 'U'), domain FROM log WHERE data LIKE '%$_u%' ORDER BY id"
	_d=${_u#*@}
	_l=${_u%@*}
	if [ -d "$MAIL_ROOT/$_d/$_l" ]; then
		(cd "$MAIL_ROOT/$_d/$_l" && find . | sort)
	else
		echo "no maildir"
	fi
}
