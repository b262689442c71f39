#!/bin/sh
# engines: mysql
# A three-node MariaDB Galera cluster (Debian's galera-4, SST by rsync, every
# node on its own datadir, socket and free ports), the postino schema on
# it, and writers on different nodes at once: `user add` racing into one
# capped domain from two nodes creates exactly the cap, with the losers of
# Galera's certification retried (no exit 8) and every node agreeing.  Then
# the node an import writes to is killed (SIGKILL) in the middle, under
# podop load on another node: podop keeps answering, the import fails
# cleanly (nothing half-done: every committed mailbox has its alias, quota
# row and maildir), runs again to completion through a hosts list whose
# first node is the dead one, and the killed node rejoins and agrees.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/helpers/galera-lib.sh"

POSTINO_TEST_ENGINE=mysql
export POSTINO_TEST_ENGINE POSTINO_BCRYPT_COST=4
need_cmd postmap podop
galera_need

if ! galera_start 3 >"$TEST_DIR/galera.log" 2>&1; then
	sed 's/^/# /' "$TEST_DIR/galera.log"
	test_skip_or_fail "cannot start a three-node Galera cluster"
fi

# The suite's helpers (create_database, sql) use node 1.
TEST_MYSQL_SOCKET=$(galera_sock 1)
export TEST_MYSQL_SOCKET
setup_postino --identity-backend hybrid
postfix_conf

# etcN: the configuration with hosts naming node N only (or, for "x",
# the list given).
node_conf() {
	_c=$TEST_DIR/etc$1
	rm -rf "$_c"
	cp -r "$TEST_DIR/etc" "$_c"
	sed -i "s|$TEST_DIR/etc/postfix|$_c/postfix|" "$_c/postino.toml"
	sed -i "s|^hosts = .*|hosts = $2|" "$_c"/postfix/*.cf
}
for n in 1 2 3; do
	node_conf "$n" "unix:$(galera_sock "$n")"
done
# on N CMD...: run CMD with node N's configuration.
on() {
	_on=$1
	shift
	POSTINO_CONFIG=$TEST_DIR/etc$_on/postino.toml "$@"
}
# nsql N QUERY: on node N, in the test database.
nsql() {
	gsql "$1" "$2" "$DB_NAME"
}
# sees N QUERY WANT: node N answers QUERY with WANT (for wait_until).
sees() {
	test "$(nsql "$1" "$2")" = "$3"
}
# at_least N QUERY MIN: node N answers QUERY with MIN or more.
at_least() {
	_v=$(nsql "$1" "$2") && test "${_v:-0}" -ge "$3"
}
# lines_over FILE N: FILE has more than N lines.
lines_over() {
	test "$(grep -c . "$1")" -gt "$2"
}
# conflicts: certification failures and brute-force aborts, all nodes.
conflicts() {
	_t=0
	for _cn in 1 2 3; do
		_a=$(galera_status "$_cn" local_cert_failures)
		_b=$(galera_status "$_cn" local_bf_aborts)
		_t=$((_t + ${_a:-0} + ${_b:-0}))
	done
	echo "$_t"
}

test_expect_success 'the schema is on every node' '
	for n in 1 2 3; do
		check_eq "$(nsql $n "SELECT COUNT(*) FROM postino_change")" 1 "node $n" || return 1
	done &&
	on 3 postino domain add seen.example >/dev/null &&
	wait_until 30 sees 1 "SELECT domain FROM domain WHERE domain = '"'"'seen.example'"'"'" seen.example
'

# race DOMAIN CAP WRITERS: WRITERS `user add` per node on nodes 1 and 2 at
# once into DOMAIN; every status in race.DOMAIN.
race() {
	_d=$1 _cap=$2 _w=$3
	on 1 postino domain add "$_d" --max-mailboxes "$_cap" >/dev/null || return 1
	wait_until 30 sees 2 "SELECT COUNT(*) FROM domain WHERE domain = '$_d'" 1 || return 1
	rm -f "race.$_d"
	for _i in $(seq 1 "$_w"); do
		for _rn in 1 2; do
			( printf "pw-secret\n" | on $_rn postino user add "n$_rn-$_i@$_d" \
				--password-stdin >"out.$_d.$_rn.$_i" 2>&1
			  echo "$? n$_rn-$_i" >>"race.$_d" ) &
		done
	done
	wait
}

# agree DOMAIN CAP: every node holds CAP mailboxes of DOMAIN and the same
# ones, each with its alias, quota row and maildir; CAP exit 0, the rest
# exit 3 (the domain is full), none 8.
agree() {
	_d=$1 _cap=$2
	check_eq "$(grep -c "^0 " "race.$_d")" "$_cap" "created" &&
	check_eq "$(grep -vc -e "^0 " -e "^3 " "race.$_d")" 0 "other exits" || {
		cat "race.$_d" out."$_d".* >&2
		return 1
	}
	for _rn in 1 2 3; do
		wait_until 30 sees $_rn "SELECT COUNT(*) FROM mailbox WHERE domain = '$_d'" "$_cap" ||
			{ echo "node $_rn disagrees" >&2; return 1; }
		nsql $_rn "SELECT m.username, a.goto, q.username FROM mailbox m JOIN alias a ON a.address = m.username JOIN quota2 q ON q.username = m.username WHERE m.domain = '$_d' ORDER BY 1" >"rows.$_d.$_rn"
	done
	cmp "rows.$_d.1" "rows.$_d.2" && cmp "rows.$_d.1" "rows.$_d.3" &&
	check_eq "$(wc -l <"rows.$_d.1")" "$_cap" "complete rows" &&
	check_eq "$(ls "$MAIL_ROOT/$_d" | wc -l)" "$_cap" "maildirs" &&
	check_eq "$(nsql 1 "SELECT COUNT(*) FROM log WHERE action = 'create_mailbox' AND domain = '$_d'")" "$_cap" "audit rows"
}

test_expect_success 'user add from two nodes into one capped domain: exactly the cap, no exit 8' '
	before=$(conflicts) &&
	round=0 &&
	while :; do
		round=$((round + 1)) &&
		race cap$round.example 5 6 &&
		agree cap$round.example 5 || return 1
		after=$(conflicts)
		echo "round $round: $((after - before)) certification conflicts" >&2
		[ "$after" -gt "$before" ] && break
		[ "$round" -lt 6 ] || { echo "no conflict in $round rounds: the race was not run" >&2; return 1; }
	done
'

# An import of many mailboxes, in small batches, written to node 3.
IMPORT_N=20000
{
	echo '{"type":"postino-export","version":1}'
	echo '{"type":"domain","domain":"imp.example"}'
	seq 0 $((IMPORT_N - 1)) |
		awk '{ printf "{\"type\":\"mailbox\",\"username\":\"u%05d@imp.example\"}\n", $1 }'
} >imp.jsonl

answers() {
	test "$(pq "$1" mailbox)" = "$2"
}

test_setup 'podop on node 1 answers' '
	on 1 postino domain add live.example >/dev/null &&
	printf "pw-secret\n" | on 1 postino user add alice@live.example --password-stdin >/dev/null &&
	POSTINO_CONFIG=$TEST_DIR/etc1/postino.toml start_podop sm \
		--socket "$TEST_DIR/sm.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox &&
	answers alice@live.example live.example/alice/
'

imported() {
	nsql 1 "SELECT COUNT(*) FROM mailbox WHERE domain = 'imp.example'"
}

test_expect_success 'node 3 killed mid-import under podop load: podop answers, the import fails cleanly' '
	rm -f load.stop load.out imp1.rc
	( while [ ! -f load.stop ] && [ -d "$TEST_DIR" ]; do pq alice@live.example mailbox >>load.out 2>&1 || echo FAIL >>load.out; done ) &
	load=$!
	( on 3 postino import --batch 10 imp.jsonl >imp1.out 2>&1; echo $? >imp1.rc ) &
	imp=$!
	wait_until 300 at_least 1 "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'imp.example'"'"'" 500 ;
	running=$(test ! -f imp1.rc && echo yes) ;
	galera_kill 3 ; wait_until 300 test -f imp1.rc ;
	wait_until 60 galera_synced 1 2 ; n=$(grep -c . load.out) ;
	wait_until 60 lines_over load.out $((n + 20)) ;
	touch load.stop ; wait_until 60 sh -c "! kill -0 $load" ;
	cat imp1.out >&2 &&
	check_eq "$running" yes "import running at the kill" &&
	check_eq "$(cat imp1.rc)" 5 "import exit" &&
	check_grep "postino: error" imp1.out &&
	test "$(grep -c . load.out)" -gt 10 &&
	check_eq "$(grep -vc "^live.example/alice/$" load.out)" 0 "podop failures"
'

test_expect_success 'nothing half-done: every committed mailbox is whole, with its maildir' '
	n=$(imported) &&
	echo "$n of $IMPORT_N committed before the kill" >&2 &&
	test "$n" -lt "$IMPORT_N" &&
	check_eq "$(nsql 2 "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'imp.example'"'"'")" "$n" "node 2" &&
	check_eq "$(nsql 1 "SELECT COUNT(*) FROM mailbox m JOIN alias a ON a.address = m.username JOIN quota2 q ON q.username = m.username WHERE m.domain = '"'"'imp.example'"'"'")" "$n" "whole rows" &&
	check_eq "$(nsql 1 "SELECT COUNT(*) FROM log WHERE action = '"'"'create_mailbox'"'"' AND domain = '"'"'imp.example'"'"'")" "$n" "audit rows" &&
	nsql 1 "SELECT local_part FROM mailbox WHERE domain = '"'"'imp.example'"'"' ORDER BY 1" >rows &&
	ls "$MAIL_ROOT/imp.example" | sort >dirs &&
	check_eq "$(comm -23 rows dirs | wc -l)" 0 "rows without a maildir" &&
	extra=$(comm -13 rows dirs | wc -l) &&
	echo "$extra maildirs without a row (a COMMIT of unknown outcome keeps them)" >&2 &&
	test "$extra" -le 10
'

test_expect_success 'the import runs again to completion, the dead node listed first' '
	node_conf x "unix:$(galera_sock 3), unix:$(galera_sock 1)" &&
	on x postino import --batch 10 imp.jsonl >imp2.out 2>&1 &&
	check_eq "$(imported)" "$IMPORT_N" &&
	check_eq "$(nsql 1 "SELECT COUNT(*) FROM log WHERE action = '"'"'create_mailbox'"'"' AND domain = '"'"'imp.example'"'"'")" "$IMPORT_N" "audit rows" &&
	check_eq "$(ls "$MAIL_ROOT/imp.example" | wc -l)" "$IMPORT_N" "maildirs" &&
	wait_until 30 answers u19999@imp.example imp.example/u19999/
'

test_expect_success 'the killed node rejoins and agrees' '
	galera_restart 3 &&
	wait_until 60 galera_synced 3 3 &&
	for n in 1 2 3; do
		nsql $n "SELECT username FROM mailbox ORDER BY 1" | md5sum >sum.$n &&
		nsql $n "SELECT COUNT(*) FROM log" >>sum.$n || return 1
	done &&
	cmp sum.1 sum.2 && cmp sum.1 sum.3 &&
	printf "pw-secret\n" | on 3 postino user add back@live.example --password-stdin >/dev/null &&
	wait_until 30 answers back@live.example live.example/back/
'

test_expect_success 'podop stopped cleanly' '
	podop_stop_all_clean
'

test_done
