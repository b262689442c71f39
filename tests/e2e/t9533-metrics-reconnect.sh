#!/bin/sh
# engines: all
# Database reconnects in the metrics: the database server crashed and
# restarted under podop and postinod (MariaDB and PostgreSQL; SQLite has
# no server, so there the counters must stay at 0).  podop's pooled
# connection fails, the query runs again on a new one and the answer is
# still right (podop_database_reconnects_total, at least one: the change
# poller shares the pool and may meet the dead connection first);
# postinod's idle connection fails one request (503), is dropped, and the
# next request opens a new one (postinod_database_connections_dropped_total
# and postinod_database_reconnects_total, exactly one each).
. "$(dirname "$0")/../lib/test-lib.sh"

private_server
setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/helpers/postinod-lib.sh"
. "$SRCDIR/tests/helpers/metrics-lib.sh"
need_postinod_tools
need_cmd podop promtool /usr/bin/python3

test_setup 'podop (cache off) and postinod with metrics' '
	seed_podop &&
	PPORT=$(free_port) &&
	PODOP_METRICS_LISTEN=127.0.0.1:$PPORT start_podop sm \
		--socket "$TEST_DIR/sm.sock" --mode postfix --no-cache \
		--table mailbox=postfixadmin:mailbox &&
	wait_until 30 grep -q "metrics on" sm.log &&
	start_jwks &&
	DPORT=$(free_port) &&
	start_postinod POSTINOD_METRICS_LISTEN=127.0.0.1:$DPORT
'

readyz() {
	curl -s -o /dev/null -w "%{http_code}" "$BASE/readyz"
}

test_expect_success 'both have a pooled connection' '
	check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
	check_eq "$(readyz)" 200 &&
	scrape "http://127.0.0.1:$DPORT/metrics" &&
	check_eq "$(mval postinod_database_reconnects_total)" 0 &&
	check_eq "$(mval postinod_database_connections_dropped_total)" 0 &&
	scrape "http://127.0.0.1:$PPORT/metrics" &&
	check_eq "$(mval_prefix podop_database_reconnects_total)" 0
'

if [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
	test_expect_success 'SQLite: more lookups and requests, still no reconnect' '
		check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
		check_eq "$(readyz)" 200 &&
		scrape "http://127.0.0.1:$PPORT/metrics" &&
		check_eq "$(mval_prefix podop_database_reconnects_total)" 0 &&
		scrape "http://127.0.0.1:$DPORT/metrics" &&
		check_eq "$(mval postinod_database_reconnects_total)" 0
	'
else
	test_expect_success 'the database server crashes and comes back' '
		kill_private_server &&
		restart_private_server
	'

	test_expect_success 'podop: the lookup still answers, on a new connection' '
		check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
		scrape "http://127.0.0.1:$PPORT/metrics" &&
		test "$(mval_prefix podop_database_reconnects_total)" -ge 1 &&
		check_eq "$(mval "podop_lookups_total{map=\"mailbox\",result=\"ok\",protocol=\"socketmap\"}")" 2
	'

	test_expect_success 'postinod: one request fails, the next reconnects' '
		check_eq "$(readyz)" 503 &&
		check_eq "$(readyz)" 200 &&
		scrape "http://127.0.0.1:$DPORT/metrics" &&
		promtool_clean scrape.txt &&
		check_eq "$(mval postinod_database_connections_dropped_total)" 1 &&
		check_eq "$(mval postinod_database_reconnects_total)" 1 &&
		check_eq "$(mval "postinod_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"503\"}")" 1
	'
fi

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'both stopped cleanly' '
	postinod_log_clean &&
	podop_stop_all_clean
'

test_done
