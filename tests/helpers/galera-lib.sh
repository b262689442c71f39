# galera-lib.sh: a throw-away MariaDB Galera cluster for the tests (t95*).
# Source it after test-lib.sh:
#
#	. "$SRCDIR/tests/helpers/galera-lib.sh"
#	galera_start 3		# nodes 1..3, bootstrap on node 1
#	gsql 2 "SELECT ..."	# a query on node 2 (as root, on its socket)
#	galera_kill 3; galera_restart 3
#
# Each node has its own datadir, socket and tmpdir under $TEST_DIR/galera/N,
# and free loopback ports for mysqld, gcomm (group communication), IST and
# SST; the SST method is rsync, which needs no network beyond loopback.
# Every node is killed at exit.  Node N's socket: $(galera_sock N).

GALERA_PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
GALERA_DIR=$TEST_DIR/galera

galera_need() {
	need_cmd mariadbd mariadb mariadb-install-db mariadb-admin rsync \
		wsrep_sst_rsync
	[ -r "$GALERA_PROVIDER" ] ||
		test_skip_or_fail "Galera provider $GALERA_PROVIDER missing (apt-get install galera-4)"
}

galera_sock() {
	echo "$GALERA_DIR/$1/mysql.sock"
}

# gsql N QUERY [DB]: QUERY on node N as root; rows tab-separated.
gsql() {
	timeout 60 mariadb --no-defaults --socket="$(galera_sock "$1")" -uroot -N -B \
		${3:+"$3"} -e "$2"
}

# galera_status N VAR: a wsrep status variable of node N (e.g. ready).
galera_status() {
	gsql "$1" "SHOW STATUS LIKE 'wsrep_$2'" 2>/dev/null | cut -f2
}

# galera_synced N [SIZE]: node N is Synced in a primary cluster of SIZE.
galera_synced() {
	test "$(galera_status "$1" local_state_comment)" = Synced &&
	test "$(galera_status "$1" cluster_status)" = Primary &&
	{ [ -z "${2:-}" ] || test "$(galera_status "$1" cluster_size)" = "$2"; }
}

_galera_write_start() {
	_gn=$1
	_d=$GALERA_DIR/$_gn
	cat >"$_d/start" <<EOS
exec mariadbd --no-defaults --datadir="$_d/data" --socket="$_d/mysql.sock" \\
	--port=$(cat "$_d/port.mysqld") --bind-address=127.0.0.1 \\
	--pid-file="$_d/mysqld.pid" --tmpdir="$_d/tmp" --log-error="$_d/error.log" \\
	--user="$GALERA_USER" --innodb-buffer-pool-size=32M \\
	--innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \\
	--innodb-lock-wait-timeout=20 --max-connections=300 \\
	--binlog-format=ROW --default-storage-engine=InnoDB \\
	--innodb-autoinc-lock-mode=2 --wsrep-on=ON \\
	--wsrep-provider="$GALERA_PROVIDER" \\
	--wsrep-cluster-name="postino-$TEST_NAME-$$" \\
	--wsrep-cluster-address="gcomm://$GALERA_PEERS" \\
	--wsrep-node-name=node$_gn --wsrep-node-address=127.0.0.1:$(cat "$_d/port.gcomm") \\
	--wsrep-node-incoming-address=127.0.0.1:$(cat "$_d/port.mysqld") \\
	--wsrep-sst-method=rsync \\
	--wsrep-sst-receive-address=127.0.0.1:$(cat "$_d/port.sst") \\
	--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(cat "$_d/port.gcomm");ist.recv_addr=127.0.0.1:$(cat "$_d/port.ist");gcache.size=64M;evs.suspect_timeout=PT30S;evs.inactive_timeout=PT60S;evs.install_timeout=PT30S;evs.keepalive_period=PT3S" \\
	"\$@"
EOS
}

# The server's user: not root, whose rsync daemon (the SST receiver)
# would write as nobody; the packaged mysql user when we are root.
GALERA_USER=$(id -un)
if [ "$(id -u)" -eq 0 ] && getent passwd mysql >/dev/null; then
	GALERA_USER=mysql
fi

# galera_start N: make N nodes, bootstrap node 1, join the others one by
# one; false (with the error log shown) when a node does not become Synced.
galera_start() {
	_count=$1
	GALERA_PEERS=
	for _i in $(seq 1 "$_count"); do
		_d=$GALERA_DIR/$_i
		mkdir -p "$_d/data" "$_d/tmp"
		for _p in mysqld gcomm ist sst; do
			free_port >"$_d/port.$_p"
		done
		GALERA_PEERS="$GALERA_PEERS${GALERA_PEERS:+,}127.0.0.1:$(cat "$_d/port.gcomm")"
	done
	for _i in $(seq 1 "$_count"); do
		_galera_write_start "$_i"
		test_at_exit "galera_kill $_i"
	done
	chown -R "$GALERA_USER" "$GALERA_DIR"
	# Only the first node is installed: the others get its data by SST.
	mariadb-install-db --no-defaults --datadir="$GALERA_DIR/1/data" \
		--user="$GALERA_USER" --auth-root-authentication-method=socket \
		--skip-test-db --tmpdir="$GALERA_DIR/1/tmp" \
		>"$GALERA_DIR/1/install.log" 2>&1 || {
		sed 's/^/# /' "$GALERA_DIR/1/install.log"
		return 1
	}
	sh "$GALERA_DIR/1/start" --wsrep-new-cluster >/dev/null 2>&1 &
	galera_wait 1 1 || return 1
	for _i in $(seq 2 "$_count"); do
		sh "$GALERA_DIR/$_i/start" >/dev/null 2>&1 &
		galera_wait "$_i" "$_i" || return 1
	done
}

# galera_wait N [SIZE]: wait for node N to be Synced (in a cluster of SIZE).
galera_wait() {
	wait_until 120 galera_synced "$1" "${2:-}" && return 0
	echo "galera node $1 not synced:" >&2
	tail -n 30 "$GALERA_DIR/$1/error.log" | sed 's/^/  | /' >&2
	return 1
}

# galera_kill N: SIGKILL node N (a crash).
galera_kill() {
	_pid=$(cat "$GALERA_DIR/$1/mysqld.pid" 2>/dev/null)
	[ -n "$_pid" ] || return 0
	kill -9 "$_pid" 2>/dev/null
	wait_until 30 sh -c "! kill -0 $_pid"
	rm -f "$GALERA_DIR/$1/mysqld.pid"
}

# galera_restart N: start node N again on its data (it rejoins by IST or
# SST) and wait until it is Synced.
galera_restart() {
	sh "$GALERA_DIR/$1/start" >/dev/null 2>&1 &
	galera_wait "$1"
}
