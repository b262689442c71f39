#!/bin/sh
# engines: all
# podop's cache and its invalidation: with answers cached for an hour, a
# change made with postino is visible through podop within one second
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

test_expect_success 'postino alias edit: visible within 1 s' '
	postino alias edit info@example.com carol@example.com >/dev/null &&
	ms=$(within_ms 1000 carol@example.com info@example.com alias) &&
	echo "alias: $ms ms" &&
	ms=$(within_ms 1000 carol@example.com info@example.com sqlalias) &&
	echo "sql table: $ms ms"
'

# Each step first lets earlier changes be seen (one poll, 250 ms), caches
# the old answer, then changes it: only its own change can explain the new
# answer.
settle() {
	sleep 0.4
}

test_expect_success 'postino domain add: a cached not-found goes within 1 s' '
	settle &&
	expect_code 1 pq newdom.org domain &&
	postino domain add newdom.org >/dev/null &&
	ms=$(within_ms 1000 newdom.org newdom.org domain) &&
	echo "domain: $ms ms"
'

test_expect_success 'postino user disable: visible within 1 s' '
	settle &&
	check_eq "$(pq bob@example.com mailbox)" example.com/bob/ &&
	postino user disable bob@example.com >/dev/null &&
	ms=$(within_ms 1000 - bob@example.com mailbox) &&
	echo "mailbox: $ms ms"
'

test_expect_success 'a change behind postino waits for the TTL' '
	settle &&
	check_eq "$(pq info@example.com alias)" carol@example.com &&
	sql "UPDATE alias SET goto = '"'"'y@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	sleep 0.6 &&
	check_eq "$(pq info@example.com alias)" carol@example.com
'

test_setup 'a database without postino_change: one podop with defaults, one with a 2 s TTL' '
	sql "DROP TABLE postino_change" &&
	start_podop plain --socket "$TEST_DIR/plain.sock" --mode postfix -v \
		--cache-ttl 3600 --table alias=postfixadmin:alias &&
	start_podop ttl --socket "$TEST_DIR/ttl.sock" --mode postfix -v \
		--table-cache alias=2 --table alias=postfixadmin:alias
'

test_expect_success 'without postino_change nothing is cached by default' '
	check_eq "$(pq info@example.com alias "$TEST_DIR/plain.sock")" y@example.com &&
	sql "UPDATE alias SET goto = '"'"'w@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/plain.sock")" w@example.com &&
	sql "UPDATE alias SET goto = '"'"'y@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'"
'

test_expect_success 'without postino_change a table TTL bounds staleness' '
	check_eq "$(pq info@example.com alias "$TEST_DIR/ttl.sock")" y@example.com &&
	sql "UPDATE alias SET goto = '"'"'z@example.com'"'"' WHERE address = '"'"'info@example.com'"'"'" &&
	sleep 0.6 &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/ttl.sock")" y@example.com &&
	sleep 2 &&
	check_eq "$(pq info@example.com alias "$TEST_DIR/ttl.sock")" z@example.com
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
