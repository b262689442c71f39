#!/bin/sh
# postinod never serves as root without being told: with [postinod] user
# unset, started as root, it switches to the user postinod (Python
# postino's service user, created by the package) if there is one, and
# otherwise refuses, saying what to write; user = "root" or --allow-root
# serve as root on purpose.  Needs root.
. "$(dirname "$0")/../lib/test-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
setup_postino
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools

# plain [VAR=value...] -- [ARG...]: postinod as start_postinod runs it but
# without --allow-root, in the background; $PID, $PORT, log in plain.log.
plain() {
	PORT=$(free_port)
	_env=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_env="$_env $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	env POSTINOD_LISTEN="127.0.0.1:$PORT" POSTINOD_SCIM_ISSUER="$ISSUER" \
		POSTINOD_SCIM_AUDIENCE="$AUD" POSTINOD_THREADS=1 \
		POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" $_env \
		postinod "$@" >plain.log 2>&1 &
	PID=$!
	test_at_exit "stop_pid $PID"
}

# serving: the daemon started by plain answers /healthz.
serving() {
	wait_until 15 curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null ||
		{ cat plain.log; return 1; }
}

uid_of() {
	sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}

test_setup 'start the JWKS server' 'start_jwks'

if getent passwd postinod >/dev/null; then
	test_setup 'user unset, a user postinod exists: postinod switches to it' '
		plain -- &&
		serving &&
		check_eq "$(uid_of $PID)" "$(id -u postinod)" &&
		check_grep "switching to .postinod." plain.log &&
		stop_pid $PID
	'
else
	test_setup 'user unset, no user postinod: refused, exit 4, says what to write' '
		plain -- &&
		wait_until 15 sh -c "! kill -0 $PID 2>/dev/null" &&
		{ wait $PID; check_eq "$?" 4; } &&
		check_grep "will not serve as root" plain.log &&
		check_grep "user = \"NAME\" in \[postinod\]" plain.log &&
		check_grep "allow-root" plain.log
	'
fi

test_setup 'user = "root" serves as root, on purpose' '
	plain POSTINOD_USER=root -- &&
	serving &&
	check_eq "$(uid_of $PID)" 0 &&
	stop_pid $PID &&
	check_eq "$STOP_RC" 0
'

test_setup '--allow-root serves as root, on purpose' '
	plain -- --allow-root &&
	serving &&
	check_eq "$(uid_of $PID)" 0 &&
	stop_pid $PID &&
	check_eq "$STOP_RC" 0
'

test_done
