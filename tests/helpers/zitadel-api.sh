# Shell side of zitadel-api.py, the stand-in for Zitadel's user service v2
# (. it after test-lib.sh).

# zitadel_api_state DIR TOKEN: a state directory whose stub accepts TOKEN.
zitadel_api_state() {
	mkdir -p "$1" &&
	printf '%s\n' "$2" >"$1/token"
}

# Every stub started is stopped when the script ends, also one started
# inside a test (a subshell, whose test_at_exit would be forgotten): the
# pids go to a file, and the one clean-up registered here reads it.
test_at_exit "[ ! -f '$TEST_DIR/.zapi-pids' ] || kill \$(cat '$TEST_DIR/.zapi-pids')"

# start_zitadel_api DIR [--tls CERT KEY]: start the stub on DIR (stopped
# at exit) and wait for its port; sets ZAPI_URL to its base URL.
start_zitadel_api() {
	_zdir=$1
	_zscheme=http
	[ "${2-}" = --tls ] && _zscheme=https
	rm -f "$_zdir/port"
	/usr/bin/python3 "$SRCDIR/tests/helpers/zitadel-api.py" "$@" \
		>>"$TEST_DIR/zapi.log" 2>&1 &
	echo $! >"$_zdir/pid"
	echo $! >>"$TEST_DIR/.zapi-pids"
	for _zi in $(seq 1 200); do
		[ -s "$_zdir/port" ] && break
		sleep 0.05
	done
	test -s "$_zdir/port" || return 1
	ZAPI_URL=$_zscheme://127.0.0.1:$(cat "$_zdir/port")
}
