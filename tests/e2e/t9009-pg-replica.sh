#!/bin/sh
# engines: pgsql
# A PostgreSQL primary and a streaming replica (pg_basebackup -R), with
# 'hosts' naming the replica first.  Writers (postino) skip the hot standby
# and write on the primary; podop reads from the replica and answers an
# edit made on the primary; with the primary gone podop keeps answering,
# and a writer exits 5 naming every host it tried; after `pg_ctl promote`
# writers use the promoted replica with no change of configuration.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop pg_basebackup
private_server
setup_postino
postfix_conf
export POSTINO_BCRYPT_COST=4

PRIMARY_HOST=$TEST_PG_HOST PRIMARY_PORT=$TEST_PG_PORT
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
REP=$TEST_DIR/replica
REP_PORT=$(free_port)
owner=$(id -un)
[ "$(id -u)" -eq 0 ] && owner=postgres
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir -p "$REP"
[ "$owner" = postgres ] && chown postgres: "$REP"
as_pg "$PG_BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" \
	-U postgres -D "$REP/data" -R -X stream >"$REP/basebackup.log" 2>&1 ||
	test_skip_or_fail "pg_basebackup failed: $(tail -3 "$REP/basebackup.log")"
as_pg "$PG_BIN/pg_ctl" -D "$REP/data" -l "$REP/server.log" -w -t 60 \
	-o "-p $REP_PORT -k $REP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
	start >/dev/null 2>&1 ||
	{ sed "s/^/# /" "$REP/server.log"; test_skip_or_fail "the replica did not start"; }
test_at_exit "runuser -u $owner -- '$PG_BIN/pg_ctl' -D '$REP/data' -m immediate -w stop || '$PG_BIN/pg_ctl' -D '$REP/data' -m immediate -w stop"

# rsql QUERY: on the replica (promoted or not).
rsql() {
	psql -h "$REP" -p "$REP_PORT" -U postgres -d "$DB_NAME" -X -q -At -c "$1"
}
promoted() {
	test "$(rsql "SELECT pg_is_in_recovery()")" = f
}
on_replica() {
	test "$(rsql "SELECT COUNT(*) FROM mailbox WHERE username = '$1'")" = 1
}

# The replica first: a writer must not settle for it.
sed -i "s|^hosts = .*|hosts = inet:127.0.0.1:$REP_PORT, inet:127.0.0.1:$PRIMARY_PORT|" \
	"$TEST_DIR"/etc/postfix/*.cf
grep -q "$REP_PORT" "$TEST_DIR/etc/postfix/sql-virtual_mailbox_maps.cf" ||
	test_skip_or_fail "cannot point the maps at the replica"

test_expect_success 'the replica is a hot standby' '
	check_eq "$(rsql "SELECT pg_is_in_recovery()")" t
'

test_expect_success 'a writer finds the primary behind a replica listed first' '
	postino domain add rep.example >/dev/null &&
	printf "pw-secret\n" | postino user add alice@rep.example --password-stdin >/dev/null &&
	wait_until 30 on_replica alice@rep.example
'

test_setup 'podop reads through the same hosts list' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox
'

test_expect_success 'podop answers from the replica' '
	check_eq "$(pq alice@rep.example mailbox)" rep.example/alice/ &&
	check_eq "$(sql "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '"'"'$DB_NAME'"'"' AND application_name = '"'"'postino'"'"'")" 0
'

answers() {
	test "$(pq "$1" mailbox)" = "$2"
}

test_expect_success 'an edit on the primary reaches podop through the replica' '
	printf "pw-secret\n" | postino user add bob@rep.example --password-stdin >/dev/null &&
	wait_until 30 answers bob@rep.example rep.example/bob/
'

test_expect_success 'primary gone: podop still answers, a writer exits 5 naming every host' '
	printf "pw-secret\n" | postino user add carol@rep.example --password-stdin >/dev/null &&
	wait_until 30 on_replica carol@rep.example &&
	"$SRCDIR/tests/lib/servers.sh" kill "$TEST_DIR/priv" pgsql &&
	check_eq "$(pq carol@rep.example mailbox)" rep.example/carol/ &&
	{ printf "pw-secret\n" | postino user add dave@rep.example --password-stdin >out 2>err; rc=$?; } ;
	check_eq "$rc" 5 &&
	check_grep "no writable PostgreSQL server (2 tried)" err &&
	check_grep "127.0.0.1:$REP_PORT" err &&
	check_grep "127.0.0.1:$PRIMARY_PORT" err &&
	! grep -q "$DB_PASSWORD" err
'

test_expect_success 'after pg_ctl promote writers use the new primary, unchanged config' '
	as_pg "$PG_BIN/pg_ctl" -D "$REP/data" -w promote >/dev/null &&
	wait_until 30 promoted &&
	printf "pw-secret\n" | postino user add dave@rep.example --password-stdin >/dev/null &&
	on_replica dave@rep.example &&
	wait_until 30 answers dave@rep.example rep.example/dave/
'

test_expect_success 'podop stopped cleanly' '
	podop_stop_all_clean
'

test_done
