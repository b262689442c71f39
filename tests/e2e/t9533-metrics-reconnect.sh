#!/bin/sh
# engines: all
# Database reconnects in the metrics: the database server crashed and
# restarted under podop and postinod (MariaDB and PostgreSQL; SQLite has
# no server, so there the counters must stay at 0).  podop's pooled
# connection fails, the query runs again on a new one and the answer is
# still right (podop_database_reconnects_total, at least one: the change
# poller shares the pool and may meet the dead connection first);
# postinod sees that its idle connection was closed by the server before
# lending it, so no request fails: the connection is dropped and a new one
# opened (postinod_database_connections_dropped_total and
# postinod_database_reconnects_total, exactly one each, and no 503).  The
# same when the administrator terminates postinod's backend (KILL /
# pg_terminate_backend) and the next request is a SCIM write.
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

	test_expect_success 'postinod: no request fails, the dead connection is replaced' '
		check_eq "$(readyz)" 200 &&
		scrape "http://127.0.0.1:$DPORT/metrics" &&
		promtool_clean scrape.txt &&
		check_eq "$(mval postinod_database_connections_dropped_total)" 1 &&
		check_eq "$(mval postinod_database_reconnects_total)" 1 &&
		check_eq "$(mval "postinod_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"503\"}")" "" &&
		check_eq "$(mval "postinod_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}")" 2
	'

	# kill_backends: what an administrator does to end postino's sessions,
	# then wait until they are gone (both ask the session to end and
	# return before it has).
	none_of() {
		test "$(sql "$1")" = 0
	}
	kill_backends() {
		case $POSTINO_TEST_ENGINE in
		pgsql)
			_ids=$(sql "SELECT pid FROM pg_stat_activity
				WHERE usename = '$DB_USER'" | paste -sd, -)
			[ -n "$_ids" ] || return 1
			sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE pid IN ($_ids)" &&
			wait_until 60 none_of "SELECT count(*) FROM pg_stat_activity
				WHERE pid IN ($_ids)" ;;
		mysql)
			_ids=$(sql "SELECT id FROM information_schema.processlist
				WHERE user = '$DB_USER'" | paste -sd, -)
			[ -n "$_ids" ] || return 1
			for id in $(echo "$_ids" | tr , ' '); do
				sql "KILL CONNECTION $id" || return 1
			done
			wait_until 60 none_of "SELECT count(*) FROM information_schema.processlist
				WHERE id IN ($_ids)" ;;
		esac
	}

	test_expect_success 'the backends are terminated: the next SCIM write succeeds' '
		postino domain add example.org >/dev/null &&
		TOKEN=$(token --sub provisioner) &&
		expect_status 201 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"one@example.org\",\"password\":\"Pw-0123456789\"}" &&
		kill_backends &&
		expect_status 201 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"two@example.org\",\"password\":\"Pw-0123456789\"}" &&
		check_eq "$(sql "SELECT count(*) FROM mailbox WHERE username LIKE '\''%@example.org'\''")" 2 &&
		scrape "http://127.0.0.1:$DPORT/metrics" &&
		check_eq "$(mval postinod_database_connections_dropped_total)" 2 &&
		check_eq "$(mval "postinod_http_requests_total{route=\"/scim/v2/Users\",method=\"POST\",status=\"201\"}")" 2
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
