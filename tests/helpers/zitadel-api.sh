# Shell side of zitadel-api.py, the stand-in for Zitadel's user service v2
# (. it after test-lib.sh).

# zitadel_api_state DIR TOKEN: a state directory whose stub accepts TOKEN.
zitadel_api_state() {
	mkdir -p "$1" &&
	printf '%s\n' "$2" >"$1/token"
}

# start_zitadel_api DIR [--tls CERT KEY]: start the stub on DIR (stopped
# at exit, also when started inside a test) and wait for its port; sets
# ZAPI_URL to its base URL.
start_zitadel_api() {
	_zdir=$1
	_zscheme=http
	[ "${2-}" = --tls ] && _zscheme=https
	rm -f "$_zdir/port"
	/usr/bin/python3 "$SRCDIR/tests/helpers/zitadel-api.py" "$@" \
		>>"$TEST_DIR/zapi.log" 2>&1 &
	echo $! >"$_zdir/pid"
	test_at_exit "kill $(cat "$_zdir/pid")"
	for _zi in $(seq 1 200); do
		[ -s "$_zdir/port" ] && break
		sleep 0.05
	done
	test -s "$_zdir/port" || return 1
	ZAPI_URL=$_zscheme://127.0.0.1:$(cat "$_zdir/port")
}
