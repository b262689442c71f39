#!/bin/sh
# servers.sh: start and stop throw-away MariaDB, PostgreSQL and Redis servers
# for the test suite, in a private directory, on UNIX sockets and free
# loopback ports.  Never uses fixed ports or system instances: machines are
# shared.
#
#   servers.sh start DIR [mysql] [pgsql] [redis]   -> writes DIR/env
#   servers.sh stop DIR
#   servers.sh kill DIR ENGINE       (kill -9, for fault tests)
#   servers.sh restart DIR ENGINE    (same data, socket and port)
#
# DIR/env holds the exported TEST_* variables for test-lib.sh.  A server
# that cannot be started is an error (exit 1): tests never skip silently.
set -u
. "$(dirname "$0")/util.sh"

die() {
	echo "servers.sh: $*" >&2
	exit 1
}

# die_log FILE MESSAGE: die, showing FILE's error lines and its end first.
die_log() {
	if [ -f "$1" ]; then
		grep -i -m 10 'error' "$1" | sed 's/^/  ! /' >&2
		tail -n 20 "$1" | sed 's/^/  | /' >&2
	fi
	shift
	die "$@"
}

as_user() {
	# Run as $1 when we are root (PostgreSQL refuses root), else as us.
	_u=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$_u" -- "$@"
	else
		"$@"
	fi
}

start_mysql() {
	d=$DIR/mysql
	# Its own tmpdir: bootstraps running side by side in /tmp collide on
	# their temporary tables' names ("Unknown table 'mysql.tmp_user_sys'").
	mkdir -p "$d/data" "$d/tmp"
	command -v mariadbd >/dev/null || command -v mysqld >/dev/null ||
		die "MariaDB server not installed (apt-get install mariadb-server)"
	mysqld_bin=$(command -v mariadbd || command -v mysqld)
	user=$(id -un)
	mariadb-install-db --no-defaults --datadir="$d/data" --user="$user" \
		--auth-root-authentication-method=socket --skip-test-db \
		--tmpdir="$d/tmp" >"$d/install.log" 2>&1 || die_log "$d/install.log" "mariadb-install-db failed: see $d/install.log"
	port=$(free_port)
	cat >"$d/start" <<EOS
exec "$mysqld_bin" --no-defaults --datadir="$d/data" --socket="$d/mysql.sock" \\
	--port="$port" --bind-address=127.0.0.1 --pid-file="$d/mysqld.pid" \\
	--tmpdir="$d/tmp" \\
	--log-error="$d/error.log" --skip-log-bin --innodb-buffer-pool-size=64M \\
	--innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \\
	--innodb-lock-wait-timeout=30 --max-connections=500 --user="$user"
EOS
	sh "$d/start" >/dev/null 2>&1 &
	wait_until 60 mariadb-admin --no-defaults --socket="$d/mysql.sock" -uroot ping ||
		die_log "$d/error.log" "MariaDB did not start: see $d/error.log"
	cat >>"$DIR/env" <<EOV
export TEST_MYSQL_SOCKET='$d/mysql.sock'
export TEST_MYSQL_PORT='$port'
EOV
}

start_pgsql() {
	d=$DIR/pgsql
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$bin" ] && [ -x "$bin/initdb" ] ||
		die "PostgreSQL server not installed (apt-get install postgresql)"
	mkdir -p "$d"
	owner=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		owner=postgres
		chown postgres: "$d"
	fi
	as_user "$owner" "$bin/initdb" -D "$d/data" -U postgres \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
		--locale=C.UTF-8 >"$d/initdb.log" 2>&1 ||
		die_log "$d/initdb.log" "initdb failed: see $d/initdb.log"
	port=$(free_port)
	cat >"$d/start" <<EOS
as_user "$owner" "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \\
	-o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300" \\
	start
EOS
	. "$d/start" >/dev/null 2>&1 || die_log "$d/server.log" "PostgreSQL did not start: see $d/server.log"
	cat >>"$DIR/env" <<EOV
export TEST_PG_HOST='$d'
export TEST_PG_PORT='$port'
export TEST_PG_BIN='$bin'
EOV
}

start_redis() {
	d=$DIR/redis
	mkdir -p "$d"
	command -v redis-server >/dev/null ||
		die "Redis not installed (apt-get install redis-server)"
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$d/redis.sock" \
		--unixsocketperm 777 --dir "$d" --save '' --appendonly no \
		--daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" \
		>/dev/null 2>&1 || die_log "$d/redis.log" "redis-server failed: see $d/redis.log"
	wait_until 60 redis-cli -s "$d/redis.sock" ping ||
		die_log "$d/redis.log" "Redis did not start: see $d/redis.log"
	cat >>"$DIR/env" <<EOV
export TEST_REDIS_SOCKET='$d/redis.sock'
export TEST_REDIS_PORT='$port'
EOV
}

# kill_server DIR ENGINE: kill -9 the server (a crash, not a shutdown).
kill_server() {
	case $1 in
	mysql) pid=$(cat "$DIR/mysql/mysqld.pid" 2>/dev/null) ;;
	pgsql) pid=$(head -1 "$DIR/pgsql/data/postmaster.pid" 2>/dev/null) ;;
	esac
	[ -n "${pid:-}" ] || die "no $1 server running in $DIR"
	kill -9 "$pid"
	wait_until 30 sh -c "! kill -0 $pid"
}

# restart_server DIR ENGINE: start it again on its data, socket and port.
restart_server() {
	case $1 in
	mysql)
		sh "$DIR/mysql/start" >/dev/null 2>&1 &
		wait_until 60 mariadb-admin --no-defaults \
			--socket="$DIR/mysql/mysql.sock" -uroot ping ||
			die_log "$DIR/mysql/error.log" "MariaDB did not restart"
		;;
	pgsql)
		rm -f "$DIR/pgsql/data/postmaster.pid"
		. "$DIR/pgsql/start" >/dev/null 2>&1 || die_log "$DIR/pgsql/server.log" "PostgreSQL did not restart"
		;;
	esac
}

stop_all() {
	if [ -S "$DIR/mysql/mysql.sock" ]; then
		mariadb-admin --no-defaults --socket="$DIR/mysql/mysql.sock" -uroot \
			shutdown >/dev/null 2>&1
	fi
	if [ -f "$DIR/pgsql/data/postmaster.pid" ]; then
		bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
		owner=$(id -un)
		[ "$(id -u)" -eq 0 ] && owner=postgres
		as_user "$owner" "$bin/pg_ctl" -D "$DIR/pgsql/data" -m immediate -w \
			stop >/dev/null 2>&1
	fi
	if [ -f "$DIR/redis/redis.pid" ]; then
		redis-cli -s "$DIR/redis/redis.sock" shutdown nosave >/dev/null 2>&1 ||
			kill "$(cat "$DIR/redis/redis.pid")" 2>/dev/null
	fi
	# Wait for MariaDB to let go of its files.
	if [ -f "$DIR/mysql/mysqld.pid" ]; then
		pid=$(cat "$DIR/mysql/mysqld.pid" 2>/dev/null)
		[ -n "$pid" ] && wait_until 30 sh -c "! kill -0 $pid"
	fi
	return 0
}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: servers.sh start|stop DIR [mysql] [pgsql] [redis]"
shift 2
case $cmd in
start)
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	: >"$DIR/env"
	[ $# -gt 0 ] || set -- mysql pgsql redis
	for s in "$@"; do
		case $s in
		mysql) start_mysql ;;
		pgsql) start_pgsql ;;
		redis) start_redis ;;
		*) die "unknown server '$s'" ;;
		esac
	done
	;;
stop) stop_all ;;
kill) kill_server "$1" ;;
restart) restart_server "$1" ;;
*) die "unknown command '$cmd'" ;;
esac
