# pgcluster.sh: a PostgreSQL primary and streaming replicas, one per host
# of tests/lib/netns.sh, sourced after it (the t95* tests and
# bench/replica/run).
#
#	pgc_init DIR		where the servers live; picks the port
#	pgc_primary I		initdb and start a primary on host I
#	pgc_replica I FROM	pg_basebackup -R from host FROM, start on I
#	pgc_stop I / pgc_kill I / pgc_start I / pgc_promote I
#	pgc_follow I FROM	point replica I at host FROM and restart it
#	pgc_psql I [DB] SQL	a query as postgres, through the UNIX socket
#	pgc_is_standby I	the server on I is in recovery
#	pgc_hosts I...		"inet:IP:PORT, ..." for a Postfix map file
#
# Every server listens on its host's test address and on a UNIX socket in
# DIR/pgI (which the test's own shell reaches: sockets are files, not
# network), all on one port taken from free_port.  The address of the
# test network may connect as any user with a password and replicate as
# postgres without one (the network is the test's alone).  Servers run
# as postgres when we are root; each stops at exit.

PGC_DIR=
PGC_PORT=
PGC_BIN=

_pgc_as() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgc_init() {
	PGC_DIR=$1
	PGC_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$PGC_BIN" ] && [ -x "$PGC_BIN/initdb" ] || return 1
	PGC_PORT=$(free_port)
	mkdir -p "$PGC_DIR"
	chmod 755 "$PGC_DIR"
}

_pgc_owner() {
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$1"; fi
}

# _pgc_run I: start the server of host I on its data directory.
_pgc_run() {
	_d=$PGC_DIR/pg$1
	rm -f "$_d/data/postmaster.pid"
	on_host "$1" runuser -u postgres -- "$PGC_BIN/pg_ctl" -D "$_d/data" \
		-l "$_d/server.log" -w -t 60 \
		-o "-p $PGC_PORT -k $_d -c listen_addresses=$(netns_ip "$1") -c fsync=off -c full_page_writes=off -c max_connections=200 -c wal_level=replica -c max_wal_senders=10 -c hot_standby=on -c wal_receiver_status_interval=1s -c wal_keep_size=512MB -c track_commit_timestamp=on" \
		start >/dev/null 2>&1
}

pgc_primary() {
	_d=$PGC_DIR/pg$1
	mkdir -p "$_d"
	_pgc_owner "$_d"
	_pgc_as "$PGC_BIN/initdb" -D "$_d/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		>"$_d/initdb.log" 2>&1 || return 1
	cat >>"$_d/data/pg_hba.conf" <<EOF
host replication postgres $NETNS_NET.0/24 trust
host all all $NETNS_NET.0/24 scram-sha-256
EOF
	_pgc_run "$1" || { sed 's/^/# /' "$_d/server.log"; return 1; }
	test_at_exit "pgc_stop $1"
}

pgc_replica() {
	_d=$PGC_DIR/pg$1
	mkdir -p "$_d"
	_pgc_owner "$_d"
	on_host "$1" runuser -u postgres -- "$PGC_BIN/pg_basebackup" \
		-h "$(netns_ip "$2")" -p "$PGC_PORT" -U postgres -D "$_d/data" \
		-R -X stream >"$_d/basebackup.log" 2>&1 ||
		{ sed 's/^/# /' "$_d/basebackup.log"; return 1; }
	_pgc_run "$1" || { sed 's/^/# /' "$_d/server.log"; return 1; }
	test_at_exit "pgc_stop $1"
}

pgc_stop() {
	[ -f "$PGC_DIR/pg$1/data/postmaster.pid" ] || return 0
	_pgc_as "$PGC_BIN/pg_ctl" -D "$PGC_DIR/pg$1/data" -m immediate -w stop \
		>/dev/null 2>&1
}

# pgc_kill I: kill -9 the server of host I and every process of it (the
# postmaster first: a crash, not a shutdown).
pgc_kill() {
	_pid=$(head -1 "$PGC_DIR/pg$1/data/postmaster.pid" 2>/dev/null)
	[ -n "$_pid" ] || return 1
	kill -9 "$_pid"
	_pgc_left=1
	for _t in $(seq 1 100); do
		_pgc_left=0
		for _p in $(ip netns pids "$(netns_name "$1")" 2>/dev/null); do
			[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = postgres ] || continue
			# A zombie is dead already (PID 1 may be slow to reap).
			[ "$(cut -d' ' -f3 "/proc/$_p/stat" 2>/dev/null)" = Z ] && continue
			kill -9 "$_p" 2>/dev/null
			_pgc_left=1
		done
		[ $_pgc_left -eq 0 ] && break
		sleep 0.1
	done
	[ $_pgc_left -eq 0 ] || echo "pgc_kill: host $1 still runs postgres" >&2
	[ $_pgc_left -eq 0 ]
}

# pgc_start I: start host I's server again (after pgc_kill).  Once, in a
# full run, a replica's restart failed with nothing said: say why from
# its log, and try once more (what is under test is podop, not the
# harness's restart).
pgc_start() {
	_pgc_run "$1" && return 0
	echo "pgc_start: host $1 did not start; the end of its log:" >&2
	tail -n 20 "$PGC_DIR/pg$1/server.log" | sed 's/^/  /' >&2
	sleep 1
	_pgc_run "$1"
}

pgc_promote() {
	_pgc_as "$PGC_BIN/pg_ctl" -D "$PGC_DIR/pg$1/data" -w promote >/dev/null
}

# pgc_follow I FROM: replica I streams from host FROM from now on (after a
# promotion: the new timeline is followed, recovery_target_timeline is
# 'latest' by default).
pgc_follow() {
	_d=$PGC_DIR/pg$1
	_pgc_as "$PGC_BIN/pg_ctl" -D "$_d/data" -m fast -w stop >/dev/null 2>&1
	sed -i '/^primary_conninfo/d' "$_d/data/postgresql.auto.conf"
	echo "primary_conninfo = 'host=$(netns_ip "$2") port=$PGC_PORT user=postgres application_name=pg$1'" \
		>>"$_d/data/postgresql.auto.conf"
	_pgc_run "$1"
}

pgc_psql() {
	_h=$1
	shift
	if [ $# -ge 2 ]; then
		_db=$1
		shift
	else
		_db=postgres
	fi
	psql -h "$PGC_DIR/pg$_h" -p "$PGC_PORT" -U postgres -d "$_db" -X -q -At \
		-v ON_ERROR_STOP=1 -c "$1"
}

pgc_is_standby() {
	test "$(pgc_psql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = t
}

pgc_hosts() {
	_sep=
	for _i in "$@"; do
		printf '%sinet:%s:%s' "$_sep" "$(netns_ip "$_i")" "$PGC_PORT"
		_sep=", "
	done
	echo
}
