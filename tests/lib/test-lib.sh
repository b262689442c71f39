# test-lib.sh: the e2e test library (TAP output, read by prove).
#
# Source it from tests/e2e/tNNNN-area-what.sh:
#
#	. "$(dirname "$0")/../lib/test-lib.sh"
#	setup_postino
#	test_expect_success 'domain add' '
#		postino domain add example.org &&
#		test "$(sql "SELECT domain FROM domain")" = example.org
#	'
#	test_done
#
# Each script gets a private $TEST_DIR (removed at exit unless the script
# failed and POSTINO_TEST_KEEP=1), a private $HOME, and PATH pointing at the
# binaries under test in $BUILD_DIR.  $POSTINO_TEST_ENGINE selects the SQL
# engine (sqlite, mysql, pgsql); tests/run runs engine-aware scripts (those
# containing the line "# engines: all") once per engine.  Servers come from
# tests/run (TEST_* variables); a script run on its own starts the ones it
# needs itself.  With POSTINO_TEST_REQUIRE=1 (CI) anything missing is a
# failure, never a skip.

set -u

TEST_NAME=$(basename "$0" .sh)
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRCDIR/build}
POSTINO_TEST_ENGINE=${POSTINO_TEST_ENGINE:-sqlite}
export BUILD_DIR SRCDIR POSTINO_TEST_ENGINE
. "$SRCDIR/tests/lib/util.sh"

# Forget anything the caller's environment might leak into the programs.
for _v in $(env | sed -n 's/^\(POSTINO_[A-Z_]*\)=.*/\1/p;s/^\(POSTINOD_[A-Z_]*\)=.*/\1/p;s/^\(PODOP_[A-Z_]*\)=.*/\1/p'); do
	case $_v in
	POSTINO_TEST_*) ;;
	*) unset "$_v" ;;
	esac
done
unset NO_COLOR CI

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postino-$TEST_NAME.XXXXXX")
chmod 755 "$TEST_DIR"
export TEST_DIR
cd "$TEST_DIR" || exit 1
export HOME="$TEST_DIR/home"
mkdir -p "$HOME"
PATH="$BUILD_DIR/src/cli:$BUILD_DIR/src/podop:$BUILD_DIR/src/postinod:$BUILD_DIR/tests/helpers:$PATH"
export PATH
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LC_ALL=C.UTF-8 TZ=UTC
# A check probe that reports a finding its row in src/model/check/table.c
# does not list stops check (abort) here; an admin's check reports it.
export POSTINO_TEST_CHECK_STRICT=1

# Vmail ids: nobody/nogroup (65534) when we run as root (Dovecot refuses
# uid 0, and ownership checks would mean nothing), else our own ids.
if [ "$(id -u)" -eq 0 ] && getent passwd 65534 >/dev/null &&
	getent group 65534 >/dev/null; then
	VMAIL_UID=65534 VMAIL_GID=65534
else
	VMAIL_UID=$(id -u) VMAIL_GID=$(id -g)
fi
export VMAIL_UID VMAIL_GID

test_count=0
test_failed=0
_own_servers=

test_at_exit() {
	# Register a command to run when the script ends (stop daemons...),
	# the last registered first.  Kept in a file, not a variable, so that
	# one registered inside a test (a subshell) is not forgotten.
	printf '%s\n' "$1" >>"$TEST_DIR/.at-exit"
}

_cleanup() {
	_rc=$?
	set +e
	if [ -s "$TEST_DIR/.at-exit" ]; then
		eval "$(sed '1!G;h;$!d' "$TEST_DIR/.at-exit")" >/dev/null 2>&1
	fi
	if [ -n "$_own_servers" ]; then
		"$SRCDIR/tests/lib/servers.sh" stop "$TEST_DIR/servers" >/dev/null 2>&1
	fi
	if [ "$test_failed" -eq 0 ] || [ "${POSTINO_TEST_KEEP:-0}" != 1 ]; then
		rm -rf "$TEST_DIR"
	else
		echo "# kept $TEST_DIR"
	fi
	exit $_rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

_say_log() {
	sed -e 's/^/#   /' "$1"
}

test_expect_success() {
	_desc=$1
	_body=$2
	test_count=$((test_count + 1))
	if (eval "$_body") >"$TEST_DIR/.log" 2>&1; then
		echo "ok $test_count - $_desc"
	else
		echo "not ok $test_count - $_desc"
		_say_log "$TEST_DIR/.log"
		test_failed=$((test_failed + 1))
	fi
}

# Like test_expect_success, but the body runs in the current shell so it
# can set variables for later tests.  Use sparingly.
test_setup() {
	_desc=$1
	_body=$2
	test_count=$((test_count + 1))
	if eval "$_body" >"$TEST_DIR/.log" 2>&1; then
		echo "ok $test_count - $_desc"
	else
		echo "not ok $test_count - $_desc"
		_say_log "$TEST_DIR/.log"
		test_failed=$((test_failed + 1))
	fi
}

test_skip_or_fail() {
	# A missing prerequisite: fail under POSTINO_TEST_REQUIRE=1.
	if [ "${POSTINO_TEST_REQUIRE:-0}" = 1 ]; then
		test_count=$((test_count + 1))
		echo "not ok $test_count - prerequisite: $1"
		test_failed=$((test_failed + 1))
		test_done
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ] && exit 0
	exit 1
}

# expect_code CODE CMD...: run CMD, succeed iff it exits with CODE.
expect_code() {
	_want=$1
	shift
	"$@"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "expected exit $_want, got $_got: $*" >&2
		return 1
	fi
	return 0
}

# check_eq GOT WANT [WHAT]: string equality with a readable failure.
check_eq() {
	if [ "$1" != "$2" ]; then
		printf '%s: got [%s], want [%s]\n' "${3:-value}" "$1" "$2" >&2
		return 1
	fi
	return 0
}

# check_grep PATTERN FILE: like grep -q, but shows the file on failure.
check_grep() {
	if ! grep -q -e "$1" "$2"; then
		echo "pattern [$1] not found in $2:" >&2
		sed -e 's/^/  | /' "$2" >&2
		return 1
	fi
}

# tty_answer OUT CMD ANSWER...: run the command line CMD on a terminal
# (script(1)), its output in OUT, and type each ANSWER once one more
# password prompt ("...: ") has appeared, as a person would, not at a
# guessed moment: a busy machine may take seconds to print one.  The
# status is CMD's; a CMD not done after 120 s (waiting for answers that
# ran out) is ended, so that a failure cannot hang the suite.
tty_answer() {
	_out=$1
	_cmd=$2
	shift 2
	: >"$_out"
	(
		_seen=0
		for _a in "$@"; do
			_seen=$((_seen + 1))
			wait_until 60 prompts_seen "$_out" "$_seen" || exit 1
			printf '%s\n' "$_a"
		done
	) | script -qec "timeout --foreground 120 $_cmd" /dev/null >"$_out" 2>&1
}

# prompts_seen FILE N: FILE shows at least N password prompts.
prompts_seen() {
	test "$(grep -oE "(assword|confirmation): " "$1" | wc -l)" -ge "$2"
}

# need_cmd CMD...: every CMD must be on PATH.
need_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || test_skip_or_fail "command '$_c' not installed"
	done
}

# need_server mysql|pgsql|redis: make sure the server is up (start our own
# when the runner did not provide one).
need_server() {
	case $1 in
	mysql) [ -n "${TEST_MYSQL_SOCKET:-}" ] && return 0 ;;
	pgsql) [ -n "${TEST_PG_HOST:-}" ] && return 0 ;;
	redis) [ -n "${TEST_REDIS_SOCKET:-}" ] && return 0 ;;
	esac
	mkdir -p "$TEST_DIR/servers"
	if ! "$SRCDIR/tests/lib/servers.sh" start "$TEST_DIR/servers.$1" "$1" \
		>"$TEST_DIR/servers.log" 2>&1; then
		cat "$TEST_DIR/servers.log" | sed 's/^/# /'
		test_skip_or_fail "cannot start $1"
	fi
	_own_servers="$_own_servers $1"
	# shellcheck disable=SC1090
	. "$TEST_DIR/servers.$1/env"
	test_at_exit "\"$SRCDIR/tests/lib/servers.sh\" stop \"$TEST_DIR/servers.$1\""
}

# private_server: a server of the current engine for this script alone
# (fault tests kill it); later setup_postino/create_database use it.
private_server() {
	case $POSTINO_TEST_ENGINE in
	mysql|pgsql) ;;
	*) return 0 ;;
	esac
	if ! "$SRCDIR/tests/lib/servers.sh" start "$TEST_DIR/priv" \
		"$POSTINO_TEST_ENGINE" >"$TEST_DIR/priv.log" 2>&1; then
		sed 's/^/# /' "$TEST_DIR/priv.log"
		test_skip_or_fail "cannot start a private $POSTINO_TEST_ENGINE"
	fi
	# shellcheck disable=SC1091
	. "$TEST_DIR/priv/env"
	test_at_exit "\"$SRCDIR/tests/lib/servers.sh\" stop \"$TEST_DIR/priv\""
}

kill_private_server() {
	"$SRCDIR/tests/lib/servers.sh" kill "$TEST_DIR/priv" "$POSTINO_TEST_ENGINE"
}

restart_private_server() {
	"$SRCDIR/tests/lib/servers.sh" restart "$TEST_DIR/priv" "$POSTINO_TEST_ENGINE"
}

# A sequence number for database names, kept in a file so that calls from
# subshells get distinct names too.
_db_name() {
	_db_seq=$(( $(cat "$TEST_DIR/.dbseq" 2>/dev/null || echo 0) + 1 ))
	echo "$_db_seq" >"$TEST_DIR/.dbseq"
}

# create_database: make an empty database and a user owning it for the
# current engine; sets DB_NAME, DB_USER, DB_PASSWORD, DB_HOSTS.
create_database() {
	_db_name >/dev/null
	DB_NAME="t_$(echo "$TEST_NAME" | tr -c 'a-zA-Z0-9\n' '_' | cut -c1-36)_$$_$_db_seq"
	DB_USER=$DB_NAME
	DB_PASSWORD="pw-$$-secret"
	case $POSTINO_TEST_ENGINE in
	sqlite)
		DB_HOSTS=
		;;
	mysql)
		need_server mysql
		mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot <<SQL || return 1
CREATE DATABASE \`$DB_NAME\` CHARACTER SET utf8mb4;
CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
SQL
		DB_HOSTS="unix:$TEST_MYSQL_SOCKET"
		test_at_exit "mariadb --no-defaults --socket='$TEST_MYSQL_SOCKET' -uroot -e \"DROP DATABASE \\\`$DB_NAME\\\`; DROP USER '$DB_USER'@'localhost'; DROP USER '$DB_USER'@'127.0.0.1'\""
		;;
	pgsql)
		need_server pgsql
		psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 <<SQL >/dev/null || return 1
CREATE ROLE "$DB_USER" LOGIN PASSWORD '$DB_PASSWORD';
CREATE DATABASE "$DB_NAME" OWNER "$DB_USER" ENCODING 'UTF8';
SQL
		DB_HOSTS="inet:127.0.0.1:$TEST_PG_PORT"
		test_at_exit "psql -h '$TEST_PG_HOST' -p '$TEST_PG_PORT' -U postgres -q -c 'DROP DATABASE \"$DB_NAME\" WITH (FORCE)' -c 'DROP ROLE \"$DB_USER\"'"
		;;
	*)
		echo "unknown POSTINO_TEST_ENGINE '$POSTINO_TEST_ENGINE'" >&2
		return 1
		;;
	esac
	export DB_NAME DB_USER DB_PASSWORD DB_HOSTS
}

# setup_postino [init options...]: a fresh database with the schema, a
# config in $TEST_DIR/etc made by the real "postino init", a mail root in
# $TEST_DIR/mail owned by us; exports POSTINO_CONFIG.
setup_postino() {
	create_database || test_skip_or_fail "cannot create a $POSTINO_TEST_ENGINE database"
	MAIL_ROOT=$TEST_DIR/mail
	mkdir -p "$MAIL_ROOT"
	set -- --dir "$TEST_DIR/etc" --engine "$POSTINO_TEST_ENGINE" \
		--mail-root "$MAIL_ROOT" --vmail-uid "$VMAIL_UID" \
		--vmail-gid "$VMAIL_GID" "$@"
	case $POSTINO_TEST_ENGINE in
	sqlite)
		SQLITE_DB=$TEST_DIR/etc/postino.sqlite
		export SQLITE_DB
		postino init "$@" >"$TEST_DIR/init.log" 2>&1
		;;
	*)
		printf '%s\n' "$DB_PASSWORD" | postino init "$@" \
			--hosts "$DB_HOSTS" --user "$DB_USER" --dbname "$DB_NAME" \
			--password-stdin >"$TEST_DIR/init.log" 2>&1
		;;
	esac
	_rc=$?
	if [ $_rc -ne 0 ]; then
		echo "# postino init failed ($_rc):"
		sed 's/^/#   /' "$TEST_DIR/init.log"
		echo "not ok 1 - setup_postino"
		echo "1..1"
		exit 1
	fi
	POSTINO_CONFIG=$TEST_DIR/etc/postino.toml
	export POSTINO_CONFIG MAIL_ROOT
}

# sql QUERY: run QUERY on the test database as its administrator, print
# rows tab-separated, one per line, booleans as 1/0 on every engine.
sql() {
	case $POSTINO_TEST_ENGINE in
	sqlite)
		sqlite3 -batch -noheader -separator "$(printf '\t')" "$SQLITE_DB" "$1"
		;;
	mysql)
		mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -N -B \
			"$DB_NAME" -e "$1"
		;;
	pgsql)
		psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -d "$DB_NAME" \
			-X -q -At -F "$(printf '\t')" -v ON_ERROR_STOP=1 -c "$1" |
			sed -e 's/\tt\t/\t1\t/g; s/\tf\t/\t0\t/g; s/\tt$/\t1/; s/\tf$/\t0/; s/^t$/1/; s/^f$/0/; s/^t\t/1\t/; s/^f\t/0\t/'
		;;
	esac
}

# sql_file FILE: run a SQL script on the test database as administrator.
sql_file() {
	case $POSTINO_TEST_ENGINE in
	sqlite) sqlite3 -batch "$SQLITE_DB" <"$1" ;;
	mysql) mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot "$DB_NAME" <"$1" ;;
	pgsql) psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -d "$DB_NAME" \
		-X -q -v ON_ERROR_STOP=1 -c "SET ROLE \"$DB_USER\"" -f "$1" >/dev/null ;;
	esac
}

# The boolean literal for "true" in raw SQL on this engine.
sql_true() {
	case $POSTINO_TEST_ENGINE in
	pgsql) echo true ;;
	*) echo 1 ;;
	esac
}

# json FILTER FILE: jq with failure on null/false output.
json() {
	jq -e "$1" "$2" >/dev/null || {
		echo "jq filter [$1] failed on $2:" >&2
		sed -e 's/^/  | /' "$2" >&2
		return 1
	}
}
