#!/bin/sh
# Least privilege, as the kernel sees it (/proc/PID/status and limits).
# podop and postinod started as root bind, then run as the configured user
# with only its group, no capabilities of any kind, and podop's socket has
# the configured owner, group and mode.  Every program, podop, postinod and
# postino alike, runs with no core files allowed (RLIMIT_CORE 0, soft and
# hard) and not dumpable: started straight as an unprivileged user (no
# setuid on the way, which would make it undumpable anyway) its /proc
# files belong to root and other processes of that user cannot read its
# memory or environment, unlike an ordinary process of that user.  Needs
# root (to start as root and to become nobody).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	test_skip_or_fail "no user nobody or group nogroup"
need_cmd postmap podop postino setpriv curl
setup_postino
postfix_conf
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3)

# field PID NAME: a field of /proc/PID/status, blanks squeezed.
field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' ' |
		sed 's/ $//'
}

# unprivileged PID: runs as nobody:nogroup, no other group, no capability.
unprivileged() {
	check_eq "$(field "$1" Uid)" "$NOBODY $NOBODY $NOBODY $NOBODY" Uid &&
	check_eq "$(field "$1" Gid)" "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" Gid &&
	check_eq "$(field "$1" Groups)" "$NOGROUP" Groups &&
	for cap in CapInh CapPrm CapEff CapAmb; do
		check_eq "$(field "$1" $cap)" 0000000000000000 "$cap" || return 1
	done
}

# no_core PID: RLIMIT_CORE is 0, soft and hard.
no_core() {
	check_eq "$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits")" "0 0" \
		"core file limit"
}

# undumpable PID: PID runs as nobody without having switched users; it is
# not dumpable if its /proc files are root's and nobody cannot read its
# environment.  (An ordinary process of nobody passes neither.)
undumpable() {
	check_eq "$(stat -c %U "/proc/$1/status")" root "owner of /proc/$1" &&
	! $AS_NOBODY cat "/proc/$1/environ" >/dev/null 2>&1
}

# runs PID NAME: PID runs the program NAME (it has exec'd it).
runs() {
	test "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2"
}

# A command prefix (not a function: "$AS_NOBODY cmd &" must leave the
# pid of cmd itself in $!).
AS_NOBODY="setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups"

# NB: where nobody runs the programs from.  The build tree, when nobody can
# reach it; else (a clone in root's home: /root is 0700) copies in the
# test directory, with the database driver modules beside them.
NB=
if ! $AS_NOBODY test -x "$(command -v podop)"; then
	mkdir -p "$TEST_DIR/nobody/bin" "$TEST_DIR/nobody/db" &&
	cp "$(command -v podop)" "$(command -v postinod)" \
		"$(command -v postino)" "$TEST_DIR/nobody/bin/" &&
	cp "$BUILD_DIR"/src/db/*.so "$TEST_DIR/nobody/db/" &&
	chmod -R o+rX "$TEST_DIR/nobody" ||
	test_skip_or_fail "cannot copy the programs where nobody can run them"
	NB=$TEST_DIR/nobody/bin/
fi

test_setup 'start podop as root: user nobody, socket nobody:nogroup 0660' '
	seed_podop &&
	mkdir -m 0755 run &&
	chmod o+r "$SQLITE_DB" &&
	start_podop sm --socket "$TEST_DIR/sm.sock" --user nobody \
		--socket-owner nobody:nogroup --socket-mode 0660 \
		--table alias=postfixadmin:alias
'

test_expect_success 'podop: nobody, its group only, no capabilities, no core' '
	unprivileged "$(cat sm.pid)" &&
	no_core "$(cat sm.pid)" &&
	check_eq "$(stat -c "%U:%G %a" "$TEST_DIR/sm.sock")" "nobody:nogroup 660" &&
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com"
'

test_setup 'start postinod as root with user = nobody' '
	start_jwks &&
	start_postinod POSTINOD_USER=nobody
'

test_expect_success 'postinod: nobody, its group only, no capabilities, no core' '
	unprivileged "$POSTINOD_PID" &&
	no_core "$POSTINOD_PID" &&
	check_eq "$(curl -s "$BASE/healthz" | jq -r .status)" ok
'

test_setup 'a control: an ordinary process of nobody' '
	$AS_NOBODY sleep 60 &
	echo $! >control.pid &&
	test_at_exit "kill $(cat control.pid)" &&
	wait_until 30 runs "$(cat control.pid)" sleep
'

test_expect_success 'the control is dumpable (so the checks below can fail)' '
	check_eq "$(stat -c %U "/proc/$(cat control.pid)/status")" nobody &&
	$AS_NOBODY cat "/proc/$(cat control.pid)/environ" >/dev/null
'

test_setup 'start podop and postinod straight as nobody' '
	chmod o+rx "$TEST_DIR/etc" "$TEST_DIR/etc/postfix" &&
	chmod o+r "$TEST_DIR"/etc/postfix/*.cf "$POSTINO_CONFIG" &&
	chown nobody run
	$AS_NOBODY "${NB}podop" --socket "$TEST_DIR/run/n.sock" \
		--table alias=postfixadmin:alias >n.log 2>&1 &
	echo $! >n.pid
	test_at_exit "kill $(cat n.pid)"
	PORT2=$(free_port)
	$AS_NOBODY env POSTINOD_LISTEN="127.0.0.1:$PORT2" \
		POSTINOD_SCIM_ISSUER="$ISSUER" POSTINOD_SCIM_AUDIENCE="$AUD" \
		POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" \
		"${NB}postinod" >n-postinod.log 2>&1 &
	echo $! >n-postinod.pid
	test_at_exit "kill $(cat n-postinod.pid)"
	wait_until 60 test -S "$TEST_DIR/run/n.sock" &&
	wait_until 60 curl -sf "http://127.0.0.1:$PORT2/healthz"
'

test_expect_success 'podop and postinod make themselves undumpable, no core' '
	undumpable "$(cat n.pid)" && no_core "$(cat n.pid)" &&
	undumpable "$(cat n-postinod.pid)" && no_core "$(cat n-postinod.pid)"
'

test_expect_success 'postino, waiting for a password on stdin, is undumpable, no core' '
	mkfifo pw.fifo &&
	chmod 666 pw.fifo &&
	{ $AS_NOBODY "${NB}postino" init --dir "$TEST_DIR/run/x" --engine pgsql \
		--user u --dbname d --hosts inet:127.0.0.1:1 --password-stdin \
		<pw.fifo >init.out 2>&1 & } &&
	pid=$! &&
	exec 7>pw.fifo &&
	# Judged once postino runs (setpriv has executed it) and has had the
	# time to protect itself, however long the machine makes that.
	wait_until 30 runs "$pid" postino &&
	{ wait_until 30 undumpable "$pid"; undumpable "$pid"; } && no_core "$pid"
	rc=$?
	exec 7>&-
	wait "$pid"
	exit $rc
'

test_expect_success 'the daemons stop cleanly' '
	kill "$(cat n.pid)" "$(cat n-postinod.pid)" &&
	wait_until 60 sh -c "! kill -0 $(cat n.pid) && ! kill -0 $(cat n-postinod.pid)" &&
	podop_stop_all_clean &&
	! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" n.log n-postinod.log
'

test_done
