#!/bin/sh
# podop as a daemon: settings from postino.toml's [podop] table, socket
# owner and mode, privilege drop, SIGHUP reload (a bad reload keeps the
# old tables), SIGTERM drain (a pending answer still goes out), SIGUSR1
# counters, and podop query's exit codes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop curl jq /usr/bin/python3
postfix_conf

printf 'a@x.org\tone\n' >map.txt
cat >podop.toml <<EOF_TOML
[podop]
socket = "unix:$TEST_DIR/cfg.sock"
mode = "postfix"
socket_mode = "0640"
cache_ttl = 600

[podop.tables]
alias = "file:$TEST_DIR/map.txt"
fixed = "static:{always}"
EOF_TOML

test_setup 'start podop from postino.toml alone' '
	start_podop cfg -c "$TEST_DIR/podop.toml"
'

test_expect_success 'the [podop] table says socket, mode and tables' '
	check_eq "$(pq a@x.org alias "$TEST_DIR/cfg.sock")" one &&
	check_eq "$(pq anything fixed "$TEST_DIR/cfg.sock")" always &&
	check_eq "$(stat -c %a "$TEST_DIR/cfg.sock")" 640
'

test_expect_success 'SIGHUP reloads the tables' '
	printf "a@x.org\ttwo\n" >map.txt &&
	kill -HUP "$(cat cfg.pid)" &&
	for i in $(seq 1 300); do
		[ "$(pq a@x.org alias "$TEST_DIR/cfg.sock")" = two ] && break
		sleep 0.05
	done &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/cfg.sock")" two &&
	check_grep "reloaded: 2 tables" cfg.log
'

test_expect_success 'a reload that fails keeps the tables that work' '
	sed -i "s|file:$TEST_DIR/map.txt|file:$TEST_DIR/missing.txt|" podop.toml &&
	kill -HUP "$(cat cfg.pid)" &&
	wait_until 30 grep -q "reload failed, keeping the current tables" cfg.log &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/cfg.sock")" two
'

test_expect_success 'SIGUSR1 logs counters' '
	kill -USR1 "$(cat cfg.pid)" &&
	wait_until 30 grep -q "stats requests=" cfg.log
'

test_expect_success 'SIGTERM: exits and removes its socket' '
	stop_podop cfg &&
	test ! -e "$TEST_DIR/cfg.sock" &&
	check_grep "stopped" cfg.log
'

test_setup 'start podop with a socket owner and mode, as nobody' '
	chmod 644 map.txt &&
	start_podop own --socket "$TEST_DIR/own.sock" --user nobody \
		--socket-owner nobody:nogroup --socket-mode 0600 \
		--table alias=file:$TEST_DIR/map.txt
'

test_expect_success 'socket owner, group and mode as asked' '
	check_eq "$(stat -c "%a %U:%G" "$TEST_DIR/own.sock")" "600 nobody:nogroup"
'

test_expect_success 'the process runs as nobody after binding' '
	uid=$(awk "/^Uid:/ { print \$2, \$3, \$4, \$5 }" "/proc/$(cat own.pid)/status") &&
	n=$(id -u nobody) &&
	check_eq "$uid" "$n $n $n $n" &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/own.sock")" two
'

cat >data.json <<'EOF_DATA'
{"postfix": {"alias": {"slow@x.org": "late@x.org", "boom@x.org": "x"}},
 "sleep": {"postfix/alias/slow@x.org": 3},
 "status": {"postfix/alias/boom@x.org": 500}}
EOF_DATA

test_setup 'start the HTTP service and podop on it' '
	/usr/bin/python3 "$SRCDIR/tests/helpers/podop-mailu-api.py" \
		"$TEST_DIR/data.json" "$TEST_DIR/api.port" >api.log 2>&1 &
	echo $! >api.pid &&
	test_at_exit "kill $(cat api.pid)" &&
	wait_until 30 test -s api.port &&
	API=http://127.0.0.1:$(cat api.port)/internal &&
	start_podop slow --socket "$TEST_DIR/slow.sock" --no-cache \
		--name alias --type url --param "$API/postfix/alias/§"
'

# slow_asked: how many times the service has been asked for slow@x.org.
slow_asked() {
	curl -s "http://127.0.0.1:$(cat api.port)/stats" |
		jq "[.paths[] | select(test(\"slow\"))] | length"
}

# slow_asked_at_least N: for wait_until.
slow_asked_at_least() {
	test "$(slow_asked)" -ge "$1"
}

# SIGTERM comes once the service has the request (it answers 3 s later).
test_expect_success 'SIGTERM drains: the pending answer still goes out' '
	base=$(slow_asked) || exit 1
	(pq slow@x.org alias "$TEST_DIR/slow.sock" >late.out 2>&1) &
	wait_until 30 slow_asked_at_least "$((base + 1))" &&
	kill "$(cat slow.pid)" &&
	wait &&
	check_eq "$(cat late.out)" late@x.org &&
	stop_podop slow &&
	check_grep "SIGTERM: draining" slow.log
'

test_expect_success 'podop query: 0 found, 1 not found, 75 temporary' '
	check_eq "$(podop query --table "alias=url:$API/postfix/alias/§" alias slow@x.org)" late@x.org &&
	expect_code 1 podop query --table "alias=url:$API/postfix/alias/§" alias nobody@x.org &&
	expect_code 75 podop query --table "alias=url:$API/postfix/alias/§" alias boom@x.org 2>err &&
	check_grep "HTTP 500" err
'

test_expect_success 'podop query: unknown map, bad usage' '
	expect_code 78 podop query --table "a=static:x" nosuch key 2>err &&
	check_grep "unknown map" err &&
	expect_code 64 podop query --table "a=static:x" onlymap &&
	expect_code 64 podop --name a --type static
'

test_expect_success 'a bad table stops podop at start, with the reason' '
	expect_code 1 podop --socket "$TEST_DIR/bad.sock" \
		--table "x=postfixadmin:aliass" 2>err &&
	check_grep "unknown lookup .aliass. (did you mean .alias.?)" err &&
	test ! -e "$TEST_DIR/bad.sock"
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
