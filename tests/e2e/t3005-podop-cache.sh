#!/bin/sh
# engines: all
# podop's cache and its invalidation: with answers cached for an hour, a
# change made with postino is visible through podop at its next poll
# (postino bumps postino_change.serial; podop polls it every 250 ms); a
# change made behind postino's back waits for the TTL, also when the
# database has no postino_change table.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop postino
setup_postino
postfix_conf
CF=$TEST_DIR/etc/postfix

test_setup 'seed and start podop with an hour of cache' '
	seed_podop &&
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v \
		--cache-ttl 3600 --cache-negative-ttl 3600 \
		--table alias=postfixadmin:alias \
		--table domain=postfixadmin:domain \
		--table mailbox=postfixadmin:mailbox \
		--table sqlalias=sql:$CF/sql-virtual_alias_maps.cf
'

# within_ms LIMIT WANT KEY MAP: poll until podop answers WANT ("-" for not
# found); print the milliseconds it took; fail after LIMIT.
#
# podop polls the serial every 250 ms, so a change is seen within a second
# on a quiet machine; the tests allow SEEN_MS, forty polls, so that a
# loaded one does not fail them, and still fail when only the hour-long
# TTL would end the stale answer.
SEEN_MS=10000
within_ms() {
	_start=$(date +%s%N)
	while :; do
		_got=$(pq "$3" "$4" 2>/dev/null) || _got=-
		_ms=$(( ($(date +%s%N) - _start) / 1000000 ))
		[ "$_got" = "$2" ] && { echo "$_ms"; return 0; }
		[ "$_ms" -gt "$1" ] && {
			echo "still [$_got] after $_ms ms, want [$2]" >&2
			return 1
		}
		sleep 0.02
	done
}

test_expect_success 'answers are cached' '
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	check_eq "$(pq info@example.com sqlalias)" "alice@example.com,bob@example.com" &&
	expect_code 1 pq newdom.org domain &&
	check_eq "$(pq bob@example.com mailbox)" example.com/bob/ &&
	sql "UPDATE alias SET goto = '"'"'x@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	sleep 0.6 &&
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	sql "UPDATE alias SET goto = '"'"'alice@example.com,bob@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'"
'

test_expect_success 'postino alias edit: visible at the next poll' '
	postino alias edit info@example.com carol@example.com >/dev/null &&
	ms=$(within_ms $SEEN_MS carol@example.com info@example.com alias) &&
	echo "alias: $ms ms" &&
	ms=$(within_ms $SEEN_MS carol@example.com info@example.com sqlalias) &&
	echo "sql table: $ms ms"
'

# Each step first lets earlier changes be seen (one poll, 250 ms), caches
# the old answer, then changes it: only its own change can explain the new
# answer.
settle() {
	sleep 0.4
}

test_expect_success 'postino domain add: a cached not-found goes at the next poll' '
	settle &&
	expect_code 1 pq newdom.org domain &&
	postino domain add newdom.org >/dev/null &&
	ms=$(within_ms $SEEN_MS newdom.org newdom.org domain) &&
	echo "domain: $ms ms"
'

test_expect_success 'postino user disable: visible at the next poll' '
	settle &&
	check_eq "$(pq bob@example.com mailbox)" example.com/bob/ &&
	postino user disable bob@example.com >/dev/null &&
	ms=$(within_ms $SEEN_MS - bob@example.com mailbox) &&
	echo "mailbox: $ms ms"
'

test_expect_success 'a change behind postino waits for the TTL' '
	settle &&
	check_eq "$(pq info@example.com alias)" carol@example.com &&
	sql "UPDATE alias SET goto = '"'"'y@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	sleep 0.6 &&
	check_eq "$(pq info@example.com alias)" carol@example.com
'

test_setup 'a database without postino_change: one podop with defaults, one with a 3 s table TTL' '
	sql "DROP TABLE postino_change" &&
	start_podop plain --socket "$TEST_DIR/plain.sock" --mode postfix -v \
		--cache-ttl 3600 --table alias=postfixadmin:alias &&
	start_podop ttl --socket "$TEST_DIR/ttl.sock" --mode postfix -v \
		--table-cache alias=3 --table alias=postfixadmin:alias
'

test_expect_success 'without postino_change nothing is cached by default' '
	check_eq "$(pq info@example.com alias "$TEST_DIR/plain.sock")" y@example.com &&
	sql "UPDATE alias SET goto = '"'"'w@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/plain.sock")" w@example.com &&
	sql "UPDATE alias SET goto = '"'"'y@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'"
'

# The cached answer must still be served while younger than the TTL: that
# is judged only when the second lookup came within 2 s of the first (a
# loaded machine may take longer; then only the expiry is checked).
test_expect_success 'without postino_change a table TTL bounds staleness' '
	t0=$(date +%s) &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/ttl.sock")" y@example.com &&
	sql "UPDATE alias SET goto = '"'"'z@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	sleep 0.6 &&
	got=$(pq info@example.com alias "$TEST_DIR/ttl.sock") &&
	if [ $(($(date +%s) - t0)) -le 1 ]; then
		check_eq "$got" y@example.com
	else
		echo "# the second lookup came too late to judge the cache"
	fi &&
	sleep 3 &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/ttl.sock")" z@example.com
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
