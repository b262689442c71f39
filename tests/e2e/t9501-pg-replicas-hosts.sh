#!/bin/sh
# engines: pgsql
# Several mail hosts on one replicated PostgreSQL, each host a network
# namespace of its own (tests/lib/netns.sh) on a private test network:
#
#	host 0	the primary; podop A0 reading the writers' list (primary
#		first, then the replicas): it must read a replica
#	host 1	replica r1; podop A1 with read_hosts = r1, r2
#	host 2	replica r2; podop A2 with read_hosts = r2, r3
#	host 3	replica r3; podops A3 and S3 with read_hosts = r3 alone
#		(S3 caches for 1 s, to show the stale window)
#
# The writers' list (the map file's hosts) names the primary and the three
# replicas.  Edits made with postino on the primary reach every host's
# podop through its replica (Postfix's postmap is the judge), and the lag
# is measured: replication, and then podop.  Under load from every host:
# r3 lost (cached keys answer, stale ones too, others get TEMP; back when
# it returns), r1 lost (A1 reads r2; back to r1 when it returns), then the
# primary (podops keep answering from the replicas, a writer exits 5
# naming every host); r2 promoted with pg_ctl promote: writers use it with
# no change of configuration, and once r1 and r3 follow it every host
# sees the next edit.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/lib/netns.sh"
. "$SRCDIR/tests/lib/pgcluster.sh"

need_cmd postmap podop pg_basebackup psql cc doveadm
postfix_conf
doveadm_conf
export POSTINO_BCRYPT_COST=4
# Cached answers live an hour: only the change serial can make podop
# forget one within this test.
TTL=3600

netns_up 4
pgc_init "$TEST_DIR/pgc" || test_skip_or_fail "PostgreSQL server not installed"
pgc_primary 0 || test_skip_or_fail "the primary did not start"
for i in 1 2 3; do
	pgc_replica $i 0 || test_skip_or_fail "replica $i did not start"
done
TEST_PG_HOST=$PGC_DIR/pg0 TEST_PG_PORT=$PGC_PORT
export TEST_PG_HOST TEST_PG_PORT

# The database, and postino's configuration with the writers' list.
DB_NAME=t9501_$$ DB_USER=t9501_$$ DB_PASSWORD="pw-$$-secret"
DB_HOSTS=$(pgc_hosts 0 1 2 3)
MAIL_ROOT=$TEST_DIR/mail
export DB_NAME DB_USER DB_PASSWORD DB_HOSTS MAIL_ROOT
mkdir -p "$MAIL_ROOT"
pgc_psql 0 "CREATE ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASSWORD'" >/dev/null &&
	pgc_psql 0 "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\"" >/dev/null ||
	test_skip_or_fail "cannot create the database"
printf '%s\n' "$DB_PASSWORD" | on_host 0 postino init --dir "$TEST_DIR/etc" \
	--engine pgsql --mail-root "$MAIL_ROOT" --vmail-uid "$VMAIL_UID" \
	--vmail-gid "$VMAIL_GID" --hosts "$DB_HOSTS" --user "$DB_USER" \
	--dbname "$DB_NAME" --password-stdin >"$TEST_DIR/init.log" 2>&1 || {
	sed 's/^/# /' "$TEST_DIR/init.log"
	test_skip_or_fail "postino init failed"
}
export POSTINO_CONFIG=$TEST_DIR/etc/postino.toml

# w ARGS...: postino, a writer, on host 1 (a mail host, not the primary's).
w() {
	on_host 1 postino "$@"
}
# rq I SQL: a query on host I's server, in the test database.
rq() {
	pgc_psql "$1" "$DB_NAME" "$2"
}
# q NAME KEY MAP: postmap -q through podop NAME, from NAME's host.
q() {
	on_host "$(cat "$TEST_DIR/$1.host")" postmap -c "$TEST_DIR/pf" -q "$2" \
		"socketmap:unix:$TEST_DIR/$1.sock:$3"
}
answers() {
	test "$(q "$1" "$2" "$3")" = "$4"
}
# status NAME KEY MAP: the status word of podop NAME's socketmap reply.
status() {
	ns "$3 $2" | podop-probe -w 30000 "$TEST_DIR/$1.sock" 2>/dev/null |
		sed -n 's/^[0-9]*:\([A-Z]*\).*/\1/p'
}
# hostpodop NAME HOST ARGS...: podop NAME on HOST, stopped at exit.
hostpodop() {
	_n=$1 _h=$2
	shift 2
	echo "$_h" >"$TEST_DIR/$_n.host"
	on_host "$_h" podop -v --socket "$TEST_DIR/$_n.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox --table alias=postfixadmin:alias \
		--timeout 2000 --cache-negative-ttl $TTL "$@" \
		>"$TEST_DIR/$_n.log" 2>&1 &
	echo $! >"$TEST_DIR/$_n.pid"
	test_at_exit "kill $(cat "$TEST_DIR/$_n.pid")"
	wait_until 60 test -S "$TEST_DIR/$_n.sock"
}
# clients I ADDR: connections to host I's server from ADDR, as postino.
clients() {
	pgc_psql "$1" "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'postino' AND client_addr = '$2'"
}
clients_ge() {
	test "$(clients "$1" "$2")" -ge "$3"
}
clients_none() {
	test "$(clients "$1" "$2")" = 0
}
# has I VALUE: host I's server has the alias pointing at VALUE.
has() {
	test "$(rq "$1" "SELECT goto FROM alias WHERE address = 'list@rep.example'")" = "$2"
}
mailboxes_on() {
	test "$(rq "$1" "SELECT COUNT(*) FROM mailbox")" = "$2"
}
not_standby() {
	! pgc_is_standby "$1"
}
streaming() {
	test "$(pgc_psql "$1" "SELECT COUNT(*) FROM pg_stat_replication WHERE state = 'streaming'")" = "$2"
}
now_ms() {
	date +%s%3N
}

test_expect_success 'a primary and three hot standbys, one per host' '
	not_standby 0 &&
	pgc_is_standby 1 && pgc_is_standby 2 && pgc_is_standby 3 &&
	wait_until 30 streaming 0 3
'

# Mailboxes u0..u219: the load asks u0..u199 (cached all along), the
# checks ask u200 and up, each once: never cached before.
cat >seed.sql <<'EOF_SQL'
INSERT INTO mailbox (username, password, name, maildir, quota, local_part,
  domain, active)
SELECT 'u' || i || '@rep.example', '{PLAIN}x', '', 'rep.example/u' || i || '/',
  0, 'u' || i, 'rep.example', true FROM generate_series(0, 219) AS i;
EOF_SQL

test_setup 'seed: a domain, 220 mailboxes, an alias; the replicas have them' '
	w domain add rep.example >/dev/null &&
	psql -h "$PGC_DIR/pg0" -p "$PGC_PORT" -U postgres -d "$DB_NAME" -X -q \
		-v ON_ERROR_STOP=1 -f seed.sql &&
	w alias add list@rep.example v0@elsewhere.example >/dev/null &&
	for i in 1 2 3; do
		wait_until 60 mailboxes_on $i 220 || return 1
	done
'

test_setup 'podops on every host' '
	hostpodop A0 0 --cache-ttl $TTL &&
	hostpodop A1 1 --cache-ttl $TTL --read-hosts "$(pgc_hosts 1 2)" &&
	hostpodop A2 2 --cache-ttl $TTL --read-hosts "$(pgc_hosts 2 3)" &&
	hostpodop A3 3 --cache-ttl $TTL --read-hosts "$(pgc_hosts 3)" &&
	hostpodop S3 3 --cache-ttl 1 --cache-stale-ttl $TTL --read-hosts "$(pgc_hosts 3)"
'
PODOPS="A0 A1 A2 A3 S3"

test_expect_success 'every host answers from its own replica, none from the primary' '
	for p in $PODOPS; do
		check_eq "$(q $p u1@rep.example mailbox)" rep.example/u1/ "$p" || return 1
	done &&
	wait_until 30 clients_none 0 "$(netns_ip 0)" &&
	for i in 1 2 3; do
		# (host 1 ran the writer: its session may take a moment to go)
		wait_until 30 clients_none 0 "$(netns_ip $i)" ||
			{ echo "host $i still reads the primary" >&2; return 1; }
		test "$(clients $i "$(netns_ip $i)")" -ge 1 || return 1
	done &&
	test "$(clients 1 "$(netns_ip 0)")" -ge 1
'

# visible ROUND: edit the alias on the primary, and time when each replica
# has the edit (a loop in the server itself) and when each podop answers
# it (podop-probe, a request every few ms); both from the commit's own
# timestamp (track_commit_timestamp).  One line per round in lags:
# round, then (replica ms, podop ms) for hosts 1 2 3, then A0's ms.
visible() {
	_want="v$1@elsewhere.example"
	for p in $PODOPS; do
		check_eq "$(q $p list@rep.example alias)" "v$(($1 - 1))@elsewhere.example" "$p before" || return 1
	done
	for i in 1 2 3; do
		(timeout 60 psql -h "$PGC_DIR/pg$i" -p "$PGC_PORT" -U postgres \
			-d "$DB_NAME" -X -q -At -v ON_ERROR_STOP=1 \
			-c "DO \$\$ BEGIN LOOP EXIT WHEN (SELECT goto FROM alias WHERE address = 'list@rep.example') = '$_want'; PERFORM pg_sleep(0.002); END LOOP; END \$\$" \
			-c "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)" \
			>"$TEST_DIR/seen.r$i") &
	done
	for p in A1 A2 A3 A0; do
		(wait_until 60 probe_is $p "$_want" && now_ms >"$TEST_DIR/seen.$p") &
	done
	w alias edit list@rep.example "$_want" >/dev/null || return 1
	wait
	_t0=$(rq 0 "SELECT floor(extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000) FROM alias WHERE address = 'list@rep.example'")
	_line="$1"
	for f in r1 A1 r2 A2 r3 A3 A0; do
		[ -s "$TEST_DIR/seen.$f" ] || { echo "$f never saw $_want" >&2; return 1; }
		_line="$_line $(($(cat "$TEST_DIR/seen.$f") - _t0))"
	done
	rm -f "$TEST_DIR"/seen.*
	echo "$_line" >>"$TEST_DIR/lags"
}
# probe_is NAME VALUE: podop NAME answers VALUE for the alias (podop-probe:
# a request costs milliseconds, postmap's process more).
probe_is() {
	test "$(ns "alias list@rep.example" | podop-probe -w 5000 "$TEST_DIR/$1.sock" 2>/dev/null)" = "$((${#2} + 3)):OK $2,"
}

test_expect_success 'an edit on the primary reaches every host through its replica' '
	for p in $PODOPS; do
		q $p list@rep.example alias >/dev/null || return 1
	done &&
	for r in 1 2 3 4 5 6 7 8 9 10; do
		visible $r || return 1
	done
'
# The figures, for the record (a loaded machine stretches them; the bound
# is in postino.toml(5): replication lag + 1 s, from the 250 ms poll).
if [ -s "$TEST_DIR/lags" ]; then
	echo "# edit-to-visible, ms after the commit: round r1 A1 r2 A2 r3 A3 A0"
	sed 's/^/#   /' "$TEST_DIR/lags"
	awk 'BEGIN { m = -1e9 } { for (h = 0; h < 3; h++) { d = $(3 + 2 * h) - $(2 + 2 * h); if (d > m) m = d }
	       if ($8 > a) a = $8 }
	     END { printf "# worst podop-after-its-replica: %d ms (bound 1000); worst A0: %d ms\n", m, a }' "$TEST_DIR/lags"

fi

test_expect_success 'a dict podop reads its replica and writes quota on the primary' '
	echo 1 >D1.host &&
	on_host 1 podop -v --socket "$TEST_DIR/D1.sock" --mode dovecot \
		--table auth=postfixadmin:dovecot --read-hosts "$(pgc_hosts 1)" \
		>D1.log 2>&1 &
	echo $! >D1.pid &&
	wait_until 60 test -S D1.sock &&
	check_eq "$(dget proxy:$TEST_DIR/D1.sock:auth shared/passdb/u1@rep.example)" \
		"{\"password\":\"{PLAIN}x\"}" &&
	dd dict set -u u1@rep.example proxy:$TEST_DIR/D1.sock:auth priv/quota/storage 4242 &&
	check_eq "$(rq 0 "SELECT bytes FROM quota2 WHERE username = '"'"'u1@rep.example'"'"'")" 4242 &&
	stop_podop D1
'

# Load on every podop for the outages: cached and uncached keys.
cc -O2 -o "$TEST_DIR/loadgen" "$SRCDIR/bench/podop/loadgen.c" -lpthread ||
	test_skip_or_fail "cannot build loadgen"
# Rounds of 5 s until load.stop exists; each round's line in load.NAME.
for p in A0 A1 A2 A3; do
	(
		while [ -d "$TEST_DIR" ] && [ ! -e "$TEST_DIR/load.stop" ]; do
			"$TEST_DIR/loadgen" -s "$TEST_DIR/$p.sock" -c 4 -d 5 -w 0 \
				-m mailbox -n 200 -f "u%ld@rep.example" \
				>>"$TEST_DIR/load.$p" 2>&1
		done
		rm -f "$TEST_DIR/load.$p.run"
	) &
	: >"$TEST_DIR/load.$p.run"
done
test_at_exit ": >'$TEST_DIR/load.stop'"

test_expect_success 'r3 lost: its cached keys answer, stale ones too; others get TEMP' '
	check_eq "$(q A3 u7@rep.example mailbox)" rep.example/u7/ &&
	check_eq "$(q S3 u7@rep.example mailbox)" rep.example/u7/ &&
	pgc_kill 3 &&
	check_eq "$(q A3 u7@rep.example mailbox)" rep.example/u7/ &&
	check_eq "$(status A3 u200@rep.example mailbox)" TEMP &&
	sleep 1.5 &&
	check_eq "$(q S3 u7@rep.example mailbox)" rep.example/u7/ &&
	check_grep "key=u7@rep.example: serving a stale answer" S3.log &&
	check_eq "$(q A2 u201@rep.example mailbox)" rep.example/u201/
'

test_expect_success 'r3 back: A3 answers new keys again, by itself' '
	pgc_start 3 &&
	wait_until 60 answers A3 u200@rep.example mailbox rep.example/u200/ &&
	wait_until 60 answers S3 u202@rep.example mailbox rep.example/u202/
'

test_expect_success 'r1 lost: A1 reads r2, new keys and new edits included' '
	pgc_kill 1 &&
	check_eq "$(q A1 u203@rep.example mailbox)" rep.example/u203/ &&
	check_eq "$(q A0 u204@rep.example mailbox)" rep.example/u204/ &&
	w alias edit list@rep.example after-r1@elsewhere.example >/dev/null &&
	wait_until 60 answers A1 list@rep.example alias after-r1@elsewhere.example &&
	clients_ge 2 "$(netns_ip 1)" 1
'

test_expect_success 'r1 back: A1 returns to it and leaves r2' '
	pgc_start 1 &&
	{ wait_until 60 clients_ge 1 "$(netns_ip 1)" 1 &&
		wait_until 60 clients_none 2 "$(netns_ip 1)" ||
		{ echo "host 1 on r1: $(clients 1 "$(netns_ip 1)"), on r2: $(clients 2 "$(netns_ip 1)")" >&2
		  pgc_psql 2 "SELECT application_name, client_addr, state, backend_start, query FROM pg_stat_activity WHERE client_addr IS NOT NULL" >&2
		  tail -5 A1.log >&2; false; }; } &&
	check_eq "$(q A1 list@rep.example alias)" after-r1@elsewhere.example
'

test_expect_success 'primary lost: every podop answers; a writer exits 5 naming every host' '
	wait_until 60 has 3 after-r1@elsewhere.example &&
	pgc_kill 0 &&
	n=205 &&
	for p in A0 A1 A2 A3; do
		wait_until 10 answers $p u$n@rep.example mailbox rep.example/u$n/ ||
			{ echo "$p: no answer for u$n" >&2; return 1; }
		n=$((n + 1))
	done &&
	{ w alias edit list@rep.example lost@elsewhere.example >out 2>err; rc=$?; } ;
	check_eq "$rc" 5 &&
	check_grep "no writable PostgreSQL server (4 tried)" err &&
	for i in 0 1 2 3; do
		check_grep "$(netns_ip $i):$PGC_PORT" err || return 1
	done &&
	! grep -q "$DB_PASSWORD" err
'

test_expect_success 'r2 promoted: writers use it, no change of configuration' '
	pgc_promote 2 &&
	wait_until 60 not_standby 2 &&
	w alias edit list@rep.example promoted@elsewhere.example >/dev/null &&
	check_eq "$(rq 2 "SELECT goto FROM alias WHERE address = '"'"'list@rep.example'"'"'")" promoted@elsewhere.example
'

# Podops reading r1 or r3 (A2 too, which prefers the standby r3 over the
# primary r2 for its next connection) see edits again once those follow
# r2, as postino.toml(5) says.
test_expect_success 'r1 and r3 follow r2: every host sees the next edit' '
	pgc_follow 1 2 && pgc_follow 3 2 &&
	wait_until 60 streaming 2 2 &&
	w alias edit list@rep.example followed@elsewhere.example >/dev/null &&
	for p in A0 A1 A2 A3; do
		wait_until 60 answers $p list@rep.example alias followed@elsewhere.example || { echo "$p: $(q $p list@rep.example alias)" >&2; return 1; }
	done
'

test_expect_success 'under load all along: no podop died, loads got answers' '
	for p in A0 A1 A2 A3; do
		kill -0 "$(cat $p.pid)" || { echo "$p died" >&2; return 1; }
	done &&
	: >load.stop &&
	wait_until 30 sh -c "! ls load.*.run" &&
	for p in A0 A1 A2 A3; do
		grep -q "found=[1-9]" load.$p || { echo "$p: no answers under load" >&2; return 1; }
	done
'
for p in A0 A1 A2 A3; do
	awk -v p=$p '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
	    END { printf "# load on %s: %d lookups, found=%d errors=%d (TEMP while its servers were down)\n", p, s["lookups"], s["found"], s["errors"] }' load.$p
	echo "# $p: $(grep -c "timed out" $p.log) backend timeouts"
done

test_expect_success 'podops stopped cleanly' '
	podop_stop_all_clean
'

test_done
