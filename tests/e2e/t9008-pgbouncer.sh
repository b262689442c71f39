#!/bin/sh
# engines: pgsql
# postino through PgBouncer in transaction mode, which hands each
# transaction to whichever server connection is free: named prepared
# statements (which postino uses for statements it runs again) vanish
# between transactions.  postino notices, stops preparing on that
# connection, retries the transaction it broke, and everything lands.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd jq pgbouncer
setup_postino
export POSTINO_BCRYPT_COST=4

# Two server connections, used in turn (round robin), so consecutive
# transactions run on different backends.
PGB=$TEST_DIR/pgb
mkdir -p "$PGB"
PGB_PORT=$(free_port)
cat >"$PGB/pgbouncer.ini" <<EOF
[databases]
$DB_NAME = host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB_NAME user=$DB_USER password=$DB_PASSWORD

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PGB/users
pool_mode = transaction
default_pool_size = 2
server_round_robin = 1
ignore_startup_parameters = extra_float_digits
logfile = $PGB/pgbouncer.log
pidfile = $PGB/pgbouncer.pid
EOF
printf '"%s" ""\n' "$DB_USER" >"$PGB/users"
# PgBouncer refuses to run as root: then it runs as nobody.
as=
if [ "$(id -u)" -eq 0 ]; then
	chown 65534:65534 "$PGB"
	as="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
$as pgbouncer -d "$PGB/pgbouncer.ini" >"$PGB/start.log" 2>&1 ||
	test_skip_or_fail "pgbouncer did not start: $(cat "$PGB/start.log")"
test_at_exit "kill \$(cat '$PGB/pgbouncer.pid') 2>/dev/null"

backends() {
	sql "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '$DB_NAME' AND usename = '$DB_USER'"
}
# Two clients at once make it open two server connections, which then
# stay in its pool.
for n in 1 2; do
	psql -h 127.0.0.1 -p "$PGB_PORT" -U "$DB_USER" -d "$DB_NAME" -X -q \
		-c "SELECT pg_sleep(1)" >/dev/null 2>&1 &
done
wait
test "$(backends)" -ge 2 ||
	test_skip_or_fail "pgbouncer opened no server connections: $(tail -5 "$PGB/pgbouncer.log")"

# The same installation, its Postfix maps (which hold the credentials)
# pointing at the pooler.
cp -R "$TEST_DIR/etc" "$TEST_DIR/pooled"
sed -i "s|^hosts = .*|hosts = inet:127.0.0.1:$PGB_PORT|" \
	"$TEST_DIR"/pooled/postfix/*.cf
sed -i "s|$TEST_DIR/etc/postfix|$TEST_DIR/pooled/postfix|" \
	"$TEST_DIR/pooled/postino.toml"
grep -q "$PGB_PORT" "$TEST_DIR/pooled/postfix/sql-virtual_domains.cf" &&
	grep -q "pooled/postfix" "$TEST_DIR/pooled/postino.toml" ||
	test_skip_or_fail "cannot point the config at pgbouncer"

gen() {
	echo '{"type":"postino-export","version":1}'
	echo '{"type":"domain","domain":"pool.example"}'
	i=0
	while [ $i -lt "$1" ]; do
		printf '{"type":"mailbox","username":"u%d@pool.example","plain_password":"pw%d-secret"}\n' $i $i
		i=$((i + 1))
	done
}

test_expect_success "an import through the pooler lands whole" '
	gen 300 >"$TEST_DIR/in.jsonl" &&
	POSTINO_CONFIG=$TEST_DIR/pooled/postino.toml \
		postino import --no-hook --batch 50 -q "$TEST_DIR/in.jsonl" &&
	test "$(sql "SELECT COUNT(*) FROM mailbox")" = 300 &&
	test "$(sql "SELECT COUNT(*) FROM alias")" = 300 &&
	test "$(sql "SELECT COUNT(*) FROM quota2")" = 300 &&
	test -d "$MAIL_ROOT/pool.example/u299/new"
'

test_expect_success "statements run again through it outside a transaction" '
	for n in 1 2 3 4 5 6; do
		POSTINO_CONFIG=$TEST_DIR/pooled/postino.toml \
			postino user list --json >"$TEST_DIR/l.json" || exit 1
	done &&
	test "$(jq length "$TEST_DIR/l.json")" = 300
'

test_expect_success "a second import after it changes nothing" '
	POSTINO_CONFIG=$TEST_DIR/pooled/postino.toml \
		postino import --no-hook --batch 50 --json "$TEST_DIR/in.jsonl" \
		>"$TEST_DIR/again.json" &&
	test "$(jq .created "$TEST_DIR/again.json")" = 0 &&
	test "$(jq .unchanged "$TEST_DIR/again.json")" -ge 300
'

test_done
