#!/bin/sh
# engines: all
# A real Prometheus (Debian's) scrapes podop and postinod: both targets
# are up, and the counters the test drove (lookups through podop, a
# webhook delivery with a bad signature to postinod) arrive in its
# database with the values driven, read back through its HTTP API.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/helpers/postinod-lib.sh"
. "$SRCDIR/tests/helpers/metrics-lib.sh"
need_postinod_tools
need_cmd podop prometheus promtool

test_setup 'podop and postinod with metrics on free ports' '
	seed_podop &&
	PPORT=$(free_port) &&
	PODOP_METRICS_LISTEN=127.0.0.1:$PPORT start_podop sm \
		--socket "$TEST_DIR/sm.sock" --mode postfix \
		--table mailbox=postfixadmin:mailbox &&
	start_jwks &&
	DPORT=$(free_port) &&
	start_postinod POSTINOD_METRICS_LISTEN=127.0.0.1:$DPORT
'

# prom_config: scrape both every second.
prom_config() {
	printf '%s\n' "global:" "  scrape_interval: 1s" "  scrape_timeout: 1s" \
		"  evaluation_interval: 1s" "scrape_configs:" \
		"  - job_name: podop" "    static_configs:" \
		"      - targets: [\"127.0.0.1:$PPORT\"]" \
		"  - job_name: postinod" "    static_configs:" \
		"      - targets: [\"127.0.0.1:$DPORT\"]"
}

# start_prometheus: Prometheus with that configuration, its database in
# the test directory, its API on a free port ($PROM); waits until ready.
start_prometheus() {
	prom_config >"$TEST_DIR/prometheus.yml" &&
	promtool check config "$TEST_DIR/prometheus.yml" \
		>"$TEST_DIR/promtool-config.out" 2>&1 || return 1
	WPORT=$(free_port)
	PROM=http://127.0.0.1:$WPORT
	prometheus --config.file="$TEST_DIR/prometheus.yml" \
		--storage.tsdb.path="$TEST_DIR/tsdb" \
		--web.listen-address="127.0.0.1:$WPORT" \
		>"$TEST_DIR/prometheus.log" 2>&1 &
	echo $! >"$TEST_DIR/prometheus.pid"
	test_at_exit "kill $(cat "$TEST_DIR/prometheus.pid")"
	wait_until 120 curl -sf "$PROM/-/ready"
}

test_setup 'prometheus scraping both every second' '
	start_prometheus
'

# query EXPR: the API answer to an instant query, in query.json.
query() {
	curl -sf -o "$TEST_DIR/query.json" --data-urlencode "query=$1" \
		"$PROM/api/v1/query"
}

# query_is EXPR WANT: the query gives one series whose value is WANT.
query_is() {
	query "$1" &&
	[ "$(jq -r '.data.result | length' "$TEST_DIR/query.json")" = 1 ] &&
	[ "$(jq -r '.data.result[0].value[1]' "$TEST_DIR/query.json")" = "$2" ]
}

test_expect_success 'both targets are up' '
	wait_until 120 query_is "up{job=\"podop\"}" 1 &&
	wait_until 120 query_is "up{job=\"postinod\"}" 1 &&
	query up &&
	check_eq "$(jq -r "[.data.result[].value[1]] | join(\" \")" query.json)" "1 1"
'

test_expect_success 'drive two found lookups and a bad-signature webhook' '
	check_eq "$(smq mailbox bob@example.com)" "OK example.com/bob/" &&
	check_eq "$(smq mailbox alice@example.com)" "OK example.com/alice/" &&
	check_eq "$(zitadel --secret wrong-secret-wrong-secret-wrong-secret --type user.deactivated --user-id 501 | cut -d" " -f1)" 401
'

test_expect_success 'prometheus has the values driven' '
	wait_until 120 query_is "podop_lookups_total{map=\"mailbox\",result=\"ok\"}" 2 &&
	wait_until 120 query_is "postinod_webhook_rejections_total{reason=\"bad_signature\"}" 1 &&
	query_is "podop_lookups_total{map=\"mailbox\",result=\"notfound\"}" 0 &&
	query_is "sum(podop_build_info)" 1 &&
	query_is "postinod_webhook_events_total{result=\"rejected\"}" 1
'

test_expect_success 'prometheus saw no scrape error' '
	! grep -i "level=error\|level=warn.*scrape" prometheus.log
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'podop and postinod stopped cleanly' '
	postinod_log_clean &&
	podop_stop_all_clean
'

test_done
