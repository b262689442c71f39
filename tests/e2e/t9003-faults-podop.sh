#!/bin/sh
# engines: all
# podop under faults.  On MariaDB and PostgreSQL the database server is
# killed (kill -9) while clients keep asking podop (postfixadmin tables,
# cache on, one-second TTLs): cached keys keep answering with their stale
# values, keys never cached get TEMP, podop neither crashes nor stalls,
# and once the server is back answers are fresh again without anyone
# touching podop; twice.  On SQLite (no server to kill) the backend that
# fails is HTTP: a url table whose server accepts connections and never
# answers.  Each lookup gets TEMP within the timeout, and twenty of them
# hanging at once delay neither another table nor another client.
# No bound here is a fixed number of milliseconds: each is derived from the
# --timeout the test gives podop (a stall shows as a multiple of it), or is
# an order of events (the other table answers while the hanging lookups
# are still pending), so that a loaded machine does not fail the test.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop postino
private_server
setup_postino
postfix_conf
export POSTINO_BCRYPT_COST=4

# timed KEY MAP: one socketmap request through podop-probe (postmap
# sleeps a second before it reports a temporary error); prints the reply's
# status word (OK, NOTFOUND, TEMP...) and the milliseconds it took.
timed() {
	_t0=$(date +%s%N)
	_r=$(ns "$2 $1" | podop-probe -w 60000 "$TEST_DIR/sm.sock" 2>/dev/null)
	_t1=$(date +%s%N)
	echo "$(printf '%s' "$_r" | sed -n 's/^[0-9]*:\([A-Z]*\).*/\1/p') $(( (_t1 - _t0) / 1000000 ))"
}

test_setup 'seed the database' '
	seed_podop
'

if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then

# The keys every load client asks, and what podop must answer for each.
cat >keys <<'EOF_KEYS'
info@example.com
alice@example.com
bob@example.com
dave@disabled.org
EOF_KEYS
cat >want <<'EOF_WANT'
info@example.com	alice@example.com,bob@example.com
alice@example.com	alice@example.com
bob@example.com	bob@example.com
dave@disabled.org	dave@disabled.org
EOF_WANT

# load N: N clients in a loop until $TEST_DIR/stop exists (or the
# directory is gone); each round sends every key on one connection
# (postmap -q -) and compares the answers with ./want; rounds go to
# load.N.ok, differences and errors to load.N.bad.
load() {
	rm -f stop
	for _c in $(seq 1 "$1"); do
		(
			: >"load.$_c.ok"; : >"load.$_c.bad"
			while [ ! -e "$TEST_DIR/stop" ] && [ -d "$TEST_DIR" ]; do
				if postmap -c "$TEST_DIR/pf" -q - \
				    "socketmap:unix:$TEST_DIR/sm.sock:alias" \
				    <keys >"out.$_c" 2>"err.$_c" &&
				    cmp -s want "out.$_c"; then
					echo . >>"load.$_c.ok"
				else
					{ cat "out.$_c" "err.$_c"; echo; } >>"load.$_c.bad"
				fi
			done
		) &
	done
}

stop_load() {
	touch "$TEST_DIR/stop"
	wait
}
test_at_exit "touch \"$TEST_DIR/stop\""

rounds() {
	cat load.*.ok | wc -l
}

TIMEOUT=1000
test_setup 'start podop on the postfixadmin tables, one-second TTLs' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v \
		--timeout $TIMEOUT --cache-ttl 1 --cache-negative-ttl 1 \
		--cache-stale-ttl 600 \
		--table alias=postfixadmin:alias --table mailbox=postfixadmin:mailbox
'

test_expect_success 'under load with the database up: every answer right' '
	load 4
	n=0
	while [ "$(rounds)" -lt 12 ] && [ $n -lt 300 ]; do
		sleep 0.1; n=$((n + 1))
	done
	stop_load &&
	echo "$(rounds) rounds" &&
	test "$(rounds)" -ge 12 &&
	! test -s load.1.bad && ! test -s load.2.bad &&
	! test -s load.3.bad && ! test -s load.4.bad
'

# crash_cycle N USER: one kill -9 and restart of the server under load,
# with every check made while it is down, then the mailbox of USER (never
# asked before) must be answered; prints what it measured.  The load
# stops whatever happens.
crash_cycle() {
	load 4
	crash_checks "$@"
	_rc=$?
	stop_load
	[ $_rc = 0 ] &&
	for c in 1 2 3 4; do
		if test -s "load.$c.bad"; then
			echo "client $c saw wrong answers:"; head -20 "load.$c.bad"; return 1
		fi
	done &&
	check_grep "serving a stale answer" sm.log
}

crash_checks() {
	sleep 1 &&
	before=$(rounds) &&
	kill_private_server &&
	sleep 1.5 &&
	# The cached keys have expired: what comes now is stale.
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	timed never-cached-$1@example.com alias >r &&
	read -r st t <r &&
	echo "uncached key: $st in $t ms (timeout $TIMEOUT ms)" &&
	test "$st" = TEMP && test "$t" -lt $((4 * TIMEOUT)) &&
	{ pq never-cached-$1@example.com alias 2>err || true; } &&
	check_grep "temporary error" err &&
	# The clients keep getting answers while the server is down: count
	# their rounds rather than time them.
	n=0 &&
	while [ "$(rounds)" -le "$((before + 4))" ] && [ $n -lt 300 ]; do
		sleep 0.1; n=$((n + 1))
	done &&
	during=$(rounds) &&
	echo "rounds: $before before the crash, $((during - before)) while down" &&
	test "$during" -gt "$((before + 4))" &&
	kill -0 "$(cat sm.pid)" &&
	restart_private_server &&
	# Fresh answers again, by themselves: a key no one asked before.
	n=0 &&
	until check_eq "$(pq $2@example.com mailbox 2>/dev/null)" "example.com/$2/" 2>/dev/null; do
		n=$((n + 1)); test $n -lt 100 || { echo "no fresh answer 10 s after the restart"; return 1; }
		sleep 0.1
	done &&
	echo "fresh answers $((n * 100)) ms after the restart"
}

test_expect_success 'the database dies under load: stale answers, TEMP, no crash; back by itself' '
	crash_cycle 1 alice
'

test_expect_success 'changes are seen again after the restart' '
	postino alias edit info@example.com carol@example.com >/dev/null &&
	n=0 &&
	until check_eq "$(pq info@example.com alias 2>/dev/null)" carol@example.com 2>/dev/null; do
		n=$((n + 1)); test $n -lt 50 || exit 1
		sleep 0.1
	done &&
	postino alias edit info@example.com alice@example.com,bob@example.com >/dev/null &&
	until check_eq "$(pq info@example.com alias 2>/dev/null)" alice@example.com,bob@example.com 2>/dev/null; do
		n=$((n + 1)); test $n -lt 100 || exit 1
		sleep 0.1
	done &&
	if [ "$POSTINO_TEST_ENGINE" = pgsql ]; then sql CHECKPOINT >/dev/null; fi
'

test_expect_success 'a second crash, the same' '
	crash_cycle 2 bob
'

else

test_setup 'a server that accepts connections and never answers' '
	/usr/bin/python3 -c "
import os, socket, sys
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
s.listen(256)
with open(sys.argv[1] + \".tmp\", \"w\") as f:
    f.write(\"%d\n\" % s.getsockname()[1])
os.rename(sys.argv[1] + \".tmp\", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
    with open(sys.argv[1] + \".accepted\", \"a\") as f:
        f.write(\"1\\n\")
" "$TEST_DIR/hang.port" >hang.log 2>&1 &
	echo $! >hang.pid &&
	test_at_exit "kill $(cat hang.pid)" &&
	wait_until 30 test -s hang.port &&
	HANG=http://127.0.0.1:$(cat hang.port)
'

# accepted: how many connections the hanging server has accepted.
accepted() {
	cat hang.port.accepted 2>/dev/null | wc -l
}

# accepted_at_least N: for wait_until.
accepted_at_least() {
	test "$(accepted)" -ge "$1"
}

# The timeout is long enough for a few probes to run on a loaded machine
# (one costs about 70 ms under ASan on a quiet one), and a stall shows
# as a multiple of it.
TIMEOUT=3000
test_setup 'start podop: a url table on it and a database table, no cache' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix \
		--timeout $TIMEOUT --no-cache \
		--table "hang=url:$HANG/alias/§" --table mailbox=postfixadmin:mailbox
'

test_expect_success 'a hanging backend: TEMP within the timeout' '
	timed a@x.org hang >r && read -r st t <r &&
	echo "$st in $t ms (timeout $TIMEOUT ms)" &&
	test "$st" = TEMP && test "$t" -lt $((2 * TIMEOUT)) &&
	{ pq a@x.org hang 2>err || true; } &&
	check_grep "temporary error" err
'

# Podop works on at most 8 lookups of one table at once: once the hanging
# server holds 8 connections the table is saturated.  The other table must
# then answer other clients while every hanging lookup is still pending
# (an order of events, not a time), and each hanging lookup must get TEMP
# within twice the timeout: it counts from the request, not from the
# moment a backend thread took it (20 lookups 8 at a time would take 3).
test_expect_success 'twenty hanging lookups stall neither another table nor another client' '
	base=$(accepted) &&
	for i in $(seq 1 20); do
		(timed "k$i@x.org" hang >"h.$i.tmp"; mv "h.$i.tmp" "h.$i") &
	done &&
	wait_until 30 accepted_at_least "$((base + 8))" &&
	for i in 1 2 3; do
		timed alice@example.com mailbox >r && read -r st t <r &&
		echo "other table: $st in $t ms" &&
		test "$st" = OK || exit 1
	done &&
	done_early=$(ls | grep -c "^h\.[0-9]*$" || true) &&
	echo "hanging lookups answered before the other table: $done_early" &&
	test "$done_early" -eq 0 &&
	check_eq "$(pq bob@example.com mailbox)" example.com/bob/ &&
	wait &&
	for i in $(seq 1 20); do
		read -r st t <"h.$i" &&
		test "$st" = TEMP && test "$t" -lt $((2 * TIMEOUT)) ||
		{ echo "hanging lookup $i: $st in $t ms"; exit 1; }
	done &&
	echo "slowest hanging lookup: $(cat h.* | sort -k2 -n | tail -1 | cut -d" " -f2) ms" &&
	kill -0 "$(cat sm.pid)"
'

fi

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
