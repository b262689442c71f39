#!/bin/sh
# engines: all
# podop's metrics listener: off unless metrics_listen is set; GET /metrics
# in Prometheus text format that promtool accepts without a lint warning;
# every counter moved by exactly what the test drove (found, not found,
# a cache hit, a stale answer and a temporary failure from a stopped HTTP
# backend, a permanent failure, an unknown map), the change serial read
# from the database, the SIGUSR1 line agreeing with the scrape, and dict
# lookups counted under protocol="dict".
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/helpers/metrics-lib.sh"

need_cmd podop postino curl promtool ss doveadm /usr/bin/python3
setup_postino
doveadm_conf

test_setup 'seed, an HTTP backend, podop with metrics on a free port' '
	seed_podop &&
	mkdir www &&
	printf "\"b@x.org\"\n" >"www/a@x.org" &&
	start_http_backend www &&
	MPORT=$(free_port) &&
	PODOP_METRICS_LISTEN=127.0.0.1:$MPORT start_podop sm \
		--socket "$TEST_DIR/sm.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox \
		--table "rem=url:http://127.0.0.1:$HTTP_PORT/{}" \
		--table-cache rem=0/0/300 &&
	M=http://127.0.0.1:$MPORT/metrics &&
	wait_until 30 grep -q "metrics on http://127.0.0.1:$MPORT/metrics" sm.log
'

test_setup 'a podop without metrics_listen' '
	start_podop plain --socket "$TEST_DIR/plain.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox
'

test_expect_success 'off by default: no metrics listener' '
	wait_until 30 grep -q "listening on" plain.log &&
	! grep -q "metrics on" plain.log &&
	ss -Hltnp >ss.out &&
	! grep -q "pid=$(cat plain.pid)," ss.out &&
	grep -q "pid=$(cat sm.pid)," ss.out
'

test_expect_success 'a scrape before any lookup: valid, counters at 0' '
	scrape "$M" &&
	promtool_clean scrape.txt &&
	check_eq "$(mval '\''podop_lookups_total{map="mailbox",result="ok",protocol="socketmap"}'\'')" 0 &&
	check_eq "$(mval '\''podop_build_info{version="0.1.0"}'\'')" 1 &&
	check_grep "^# TYPE podop_lookup_duration_seconds histogram" scrape.txt
'

test_expect_success 'drive lookups of every result' '
	check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
	check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
	check_eq "$(smq mailbox nobody@example.com)" "NOTFOUND " &&
	smq mailbox LONG | grep -q "^PERM " &&
	smq nosuchmap x | grep -q "^PERM " &&
	check_eq "$(smq rem a@x.org)" "OK b@x.org" &&
	stop_http_backend &&
	check_eq "$(smq rem a@x.org)" "OK b@x.org" &&
	smq rem c@x.org | grep -q "^TEMP "
'

test_expect_success 'the counters moved by exactly that' '
	scrape "$M" &&
	promtool_clean scrape.txt &&
	l="protocol=\"socketmap\"" &&
	check_eq "$(mval "podop_lookups_total{map=\"mailbox\",result=\"ok\",$l}")" 2 &&
	check_eq "$(mval "podop_lookups_total{map=\"mailbox\",result=\"notfound\",$l}")" 1 &&
	check_eq "$(mval "podop_lookups_total{map=\"mailbox\",result=\"perm\",$l}")" 1 &&
	check_eq "$(mval "podop_lookups_total{map=\"mailbox\",result=\"temp\",$l}")" 0 &&
	check_eq "$(mval "podop_lookups_total{map=\"rem\",result=\"ok\",$l}")" 2 &&
	check_eq "$(mval "podop_lookups_total{map=\"rem\",result=\"temp\",$l}")" 1 &&
	check_eq "$(mval "podop_lookup_duration_seconds_count{map=\"mailbox\",$l}")" 4 &&
	check_eq "$(mval "podop_lookup_duration_seconds_bucket{map=\"rem\",$l,le=\"+Inf\"}")" 3 &&
	check_eq "$(mval "podop_cache_hits_total{map=\"mailbox\"}")" 1 &&
	check_eq "$(mval "podop_cache_misses_total{map=\"mailbox\"}")" 2 &&
	check_eq "$(mval "podop_cache_misses_total{map=\"rem\"}")" 3 &&
	check_eq "$(mval "podop_cache_stale_answers_total{map=\"rem\"}")" 1 &&
	check_eq "$(mval "podop_cache_stale_answers_total{map=\"mailbox\"}")" 0 &&
	check_eq "$(mval "podop_backend_calls_total{map=\"mailbox\"}")" 2 &&
	check_eq "$(mval "podop_backend_calls_total{map=\"rem\"}")" 3 &&
	check_eq "$(mval "podop_backend_errors_total{map=\"rem\"}")" 2 &&
	check_eq "$(mval "podop_backend_errors_total{map=\"mailbox\"}")" 0 &&
	check_eq "$(mval "podop_requests_total{kind=\"lookup\"}")" 7 &&
	check_eq "$(mval podop_bad_requests_total)" 1 &&
	check_eq "$(mval podop_connections_total)" 8 &&
	check_eq "$(mval podop_cache_entries)" 3
'

test_expect_success 'the change serial is the database'"'"'s, and follows a postino edit' '
	serial=$(sql "SELECT serial FROM postino_change WHERE id = 1") &&
	scrape "$M" &&
	check_eq "$(mval_prefix podop_change_serial)" "$serial" &&
	check_eq "$(mval_prefix podop_change_tracked)" 1 &&
	age=$(mval_prefix podop_change_poll_age_seconds) &&
	awk -v a="$age" "BEGIN { exit !(a >= 0) }" &&
	postino domain add metrics.example >/dev/null &&
	new=$(sql "SELECT serial FROM postino_change WHERE id = 1") &&
	test "$new" -gt "$serial" &&
	wait_until 30 serial_is "$M" "$new"
'

test_expect_success 'every metric is documented in podop(8) and postino.toml(5)' '
	metrics_documented podop.8 podop_
'

test_expect_success 'SIGUSR1 logs the same numbers' '
	scrape "$M" &&
	kill -USR1 "$(cat sm.pid)" &&
	wait_until 30 grep -q " stats requests=" sm.log &&
	line=$(grep " stats requests=" sm.log | tail -1) &&
	echo "$line" &&
	echo "$line" | grep -q " requests=$(mval "podop_requests_total{kind=\"lookup\"}") " &&
	echo "$line" | grep -q " cache_hits=1 " &&
	echo "$line" | grep -q " stale=1 " &&
	echo "$line" | grep -q " errors=2 " &&
	echo "$line" | grep -q " bad_requests=1 " &&
	echo "$line" | grep -q " ok=4 notfound=1 temp=1 perm=1$"
'

test_expect_success 'other paths 404, other methods 405' '
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$MPORT/")" 404 &&
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$MPORT/metrics/x")" 404 &&
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" -X POST -d x "$M")" 405 &&
	check_eq "$(curl -s -o /dev/null -w "%{content_type}" "$M")" \
		"text/plain; version=0.0.4; charset=utf-8"
'

test_expect_success 'a bad metrics_listen stops podop at start' '
	! PODOP_METRICS_LISTEN=nonsense timeout 60 podop --socket "$TEST_DIR/x.sock" \
		--table mailbox=postfixadmin:mailbox 2>err.txt &&
	check_grep "podop.metrics_listen: .nonsense. is not host:port" err.txt
'

test_setup 'a dict-mode podop with metrics' '
	DPORT=$(free_port) &&
	PODOP_METRICS_LISTEN=127.0.0.1:$DPORT start_podop dict \
		--socket "$TEST_DIR/dict.sock" --mode dovecot \
		--table auth=postfixadmin:dovecot &&
	wait_until 30 grep -q "metrics on http://127.0.0.1:$DPORT/metrics" dict.log
'

test_expect_success 'dict lookups count under protocol="dict"' '
	dget proxy:$TEST_DIR/dict.sock:auth shared/userdb/alice@example.com >/dev/null &&
	expect_code 68 dget proxy:$TEST_DIR/dict.sock:auth shared/userdb/nobody@example.com &&
	scrape "http://127.0.0.1:$DPORT/metrics" &&
	promtool_clean scrape.txt &&
	l="protocol=\"dict\"" &&
	check_eq "$(mval "podop_lookups_total{map=\"auth\",result=\"ok\",$l}")" 1 &&
	check_eq "$(mval "podop_lookups_total{map=\"auth\",result=\"notfound\",$l}")" 1 &&
	check_eq "$(mval "podop_lookup_duration_seconds_count{map=\"auth\",$l}")" 2 &&
	check_eq "$(mval "podop_requests_total{kind=\"lookup\"}")" 2
'

test_expect_success 'podop stops cleanly' '
	podop_stop_all_clean
'

test_done
