# podop-lib.sh: shell helpers shared by podop's e2e scripts (t3*, t4*),
# sourced after tests/lib/test-lib.sh.

# same WANT GOT: byte-exact comparison, shown with od -c on failure.
same() {
	cmp -s "$1" "$2" && return 0
	echo "want ($1):" >&2
	od -c "$1" | head -20 >&2
	echo "got ($2):" >&2
	od -c "$2" | head -20 >&2
	return 1
}

# start_podop NAME ARGS...: run podop ARGS in the background with its log
# in NAME.log and pid in NAME.pid, wait until $TEST_DIR/NAME.sock exists
# (or, for other listeners, until the log says it listens), and stop it
# when the script ends.
start_podop() {
	_n=$1
	shift
	podop "$@" >"$TEST_DIR/$_n.log" 2>&1 &
	echo $! >"$TEST_DIR/$_n.pid"
	test_at_exit "kill $(cat "$TEST_DIR/$_n.pid")"
	for _i in $(seq 1 600); do
		if [ -S "$TEST_DIR/$_n.sock" ] ||
		    grep -q "listening on" "$TEST_DIR/$_n.log" 2>/dev/null; then
			return 0
		fi
		kill -0 "$(cat "$TEST_DIR/$_n.pid")" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TEST_DIR/$_n.log" >&2
	return 1
}

# stop_podop NAME: SIGTERM and wait for the process to go.
stop_podop() {
	_p=$(cat "$TEST_DIR/$1.pid")
	kill "$_p" 2>/dev/null
	for _i in $(seq 1 600); do
		kill -0 "$_p" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# postfix_conf: a minimal Postfix configuration directory in $TEST_DIR/pf.
postfix_conf() {
	mkdir -p "$TEST_DIR/pf"
	echo 'compatibility_level = 3.6' >"$TEST_DIR/pf/main.cf"
}

# pq KEY MAP [SOCKET]: postmap -q through podop's socketmap.
pq() {
	postmap -c "$TEST_DIR/pf" -q "$1" \
		"socketmap:unix:${3:-$TEST_DIR/sm.sock}:$2"
}

# doveadm_conf: the minimal configuration doveadm needs.
doveadm_conf() {
	mkdir -p "$TEST_DIR/dv/run"
	cat >"$TEST_DIR/dv/doveadm.conf" <<EOF_DV
base_dir = $TEST_DIR/dv/run
log_path = $TEST_DIR/dv/doveadm.log
EOF_DV
}

# dd ARGS...: doveadm -c the test configuration.
dd() {
	doveadm -c "$TEST_DIR/dv/doveadm.conf" "$@"
}

# seed_podop: the rows of tests/helpers/podop-seed.sql into the test
# database (regular expressions in routes need their backslashes doubled
# for MariaDB's string literals).
seed_podop() {
	case $POSTINO_TEST_ENGINE in
	mysql) sed -e '/^--/d' -e 's/\\/\\\\/g' \
		"$SRCDIR/tests/helpers/podop-seed.sql" >"$TEST_DIR/seed.sql" ;;
	*) sed -e '/^--/d' "$SRCDIR/tests/helpers/podop-seed.sql" \
		>"$TEST_DIR/seed.sql" ;;
	esac
	sql_file "$TEST_DIR/seed.sql"
}

# ns TEXT...: each TEXT as a netstring, concatenated.
ns() {
	for _s in "$@"; do
		printf '%d:%s,' "$(printf '%s' "$_s" | wc -c)" "$_s"
	done
}

# dget ARGS...: doveadm dict get, without the padding of its table output;
# keeps doveadm's exit code.
dget() {
	_out=$(dd dict get "$@")
	_rc=$?
	printf '%s\n' "$_out" | sed -e 's/[[:space:]]*$//'
	return $_rc
}

# podop_stop_all_clean: SIGTERM every podop started with start_podop, wait
# for each, and fail if a log shows a sanitizer report or a crash (the
# sanitizer build runs the daemons too).
podop_stop_all_clean() {
	_bad=0
	for _pidf in "$TEST_DIR"/*.pid; do
		[ -e "$_pidf" ] || continue
		_n=$(basename "$_pidf" .pid)
		[ -f "$TEST_DIR/$_n.log" ] || continue
		grep -q "^podop: " "$TEST_DIR/$_n.log" 2>/dev/null || continue
		stop_podop "$_n" || { echo "$_n did not stop" >&2; _bad=1; }
		if grep -E -q "AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:|fatal:" \
		    "$TEST_DIR/$_n.log"; then
			echo "$_n.log:" >&2
			sed 's/^/  | /' "$TEST_DIR/$_n.log" | tail -40 >&2
			_bad=1
		fi
	done
	return $_bad
}
