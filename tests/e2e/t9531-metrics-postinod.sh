#!/bin/sh
# engines: all
# postinod's metrics listener: off unless metrics_listen is set; GET
# /metrics in Prometheus text format that promtool accepts without a lint
# warning; requests counted by route template (never the raw path),
# method and status; webhook deliveries by result and refusal reason
# (bad signature, no signature, expired signature, unknown subject...);
# JWKS loads and a failed refresh; database connections; the SIGUSR1 line
# agreeing with the scrape.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
. "$SRCDIR/tests/helpers/metrics-lib.sh"
need_postinod_tools
need_cmd promtool ss
export POSTINO_BCRYPT_COST=4

U=urn:ietf:params:scim:schemas:core:2.0:User

send() {
	zitadel --secret "$HMAC_SECRET" "$@" | cut -d" " -f1
}

test_setup 'off by default: a postinod without it listens once' '
	postino domain add example.org >/dev/null &&
	start_jwks &&
	start_postinod &&
	ss -Hltnp >ss.out &&
	check_eq "$(grep -c "pid=$POSTINOD_PID," ss.out)" 1 &&
	! grep -q "metrics on" postinod.log &&
	stop_postinod &&
	postinod_log_clean
'

test_setup 'start postinod with metrics on a free port' '
	MPORT=$(free_port) &&
	start_postinod POSTINOD_METRICS_LISTEN=127.0.0.1:$MPORT &&
	M=http://127.0.0.1:$MPORT/metrics &&
	grep -q "metrics on http://127.0.0.1:$MPORT/metrics" postinod.log &&
	ss -Hltnp >ss.out &&
	check_eq "$(grep -c "pid=$POSTINOD_PID," ss.out)" 2 &&
	TOKEN=$(token)
'

test_expect_success 'a scrape before any request: valid' '
	scrape "$M" &&
	promtool_clean scrape.txt &&
	check_eq "$(mval "postinod_build_info{version=\"0.1.0\"}")" 1 &&
	check_eq "$(mval "postinod_webhook_events_total{result=\"applied\"}")" 0 &&
	check_eq "$(mval postinod_jwks_refreshes_total)" 0
'

test_expect_success 'drive SCIM requests' '
	expect_status 201 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"alice@example.org\"}" &&
	expect_status 200 scim GET /Users/alice@example.org &&
	expect_status 404 scim GET /Users/nobody@example.org &&
	expect_status 200 scim GET /Users &&
	TOKEN=x expect_status 401 scim GET /Users &&
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/healthz")" 200 &&
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "$BASE/no/such/thing")" 404
'

test_expect_success 'drive webhook deliveries' '
	check_eq "$(send --type user.human.added --email w@example.org --user-id 501)" 200 &&
	check_eq "$(send --type user.human.added --email w@example.org --user-id 501)" 200 &&
	check_eq "$(send --type user.deactivated --no-payload --user-id 777)" 404 &&
	check_eq "$(send --type user.machine.added --user-id 502)" 200 &&
	check_eq "$(zitadel --secret wrong-secret-wrong-secret-wrong-secret --type user.deactivated --user-id 501 | cut -d" " -f1)" 401 &&
	check_eq "$(send --form none --type user.deactivated --user-id 501)" 401 &&
	check_eq "$(send --t-offset -100000 --type user.deactivated --user-id 501)" 401 &&
	check_eq "$(send --body "not json")" 400
'

test_expect_success 'the counters moved by exactly that' '
	scrape "$M" &&
	promtool_clean scrape.txt &&
	r=postinod_http_requests_total &&
	check_eq "$(mval "$r{route=\"/scim/v2/Users\",method=\"POST\",status=\"201\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/scim/v2/Users/{id}\",method=\"GET\",status=\"200\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/scim/v2/Users/{id}\",method=\"GET\",status=\"404\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/scim/v2/Users\",method=\"GET\",status=\"200\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/scim/v2/Users\",method=\"GET\",status=\"401\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/healthz\",method=\"GET\",status=\"200\"}")" 2 &&
	check_eq "$(mval "$r{route=\"other\",method=\"GET\",status=\"404\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/zitadel/events\",method=\"POST\",status=\"200\"}")" 3 &&
	check_eq "$(mval "$r{route=\"/zitadel/events\",method=\"POST\",status=\"401\"}")" 3 &&
	check_eq "$(mval "$r{route=\"/zitadel/events\",method=\"POST\",status=\"404\"}")" 1 &&
	check_eq "$(mval "$r{route=\"/zitadel/events\",method=\"POST\",status=\"400\"}")" 1 &&
	! grep -q "alice@example.org\|nobody@example.org\|no/such" scrape.txt &&
	check_eq "$(mval "postinod_http_request_duration_seconds_count{route=\"/zitadel/events\"}")" 8 &&
	check_eq "$(mval "postinod_http_request_duration_seconds_count{route=\"/scim/v2/Users/{id}\"}")" 2 &&
	w=postinod_webhook_events_total &&
	check_eq "$(mval "$w{result=\"applied\"}")" 1 &&
	check_eq "$(mval "$w{result=\"duplicate\"}")" 1 &&
	check_eq "$(mval "$w{result=\"ignored\"}")" 1 &&
	check_eq "$(mval "$w{result=\"rejected\"}")" 5 &&
	check_eq "$(mval "$w{result=\"failed\"}")" 0 &&
	x=postinod_webhook_rejections_total &&
	check_eq "$(mval "$x{reason=\"bad_signature\"}")" 1 &&
	check_eq "$(mval "$x{reason=\"no_signature\"}")" 1 &&
	check_eq "$(mval "$x{reason=\"signature_expired\"}")" 1 &&
	check_eq "$(mval "$x{reason=\"unknown_subject\"}")" 1 &&
	check_eq "$(mval "$x{reason=\"bad_event\"}")" 1 &&
	check_eq "$(mval "$x{reason=\"replay_window\"}")" 0 &&
	check_eq "$(mval postinod_jwks_refreshes_total)" 1 &&
	check_eq "$(mval postinod_jwks_refresh_failures_total)" 0 &&
	check_eq "$(mval postinod_database_connect_errors_total)" 0 &&
	check_eq "$(mval postinod_database_reconnects_total)" 0 &&
	test "$(mval postinod_database_connections_total)" -ge 1
'

test_expect_success 'a failed JWKS refresh is counted, the old keys serve on' '
	kill "$JWKS_PID" &&
	wait_until 30 sh -c "! curl -s -o /dev/null $ISSUER/" &&
	kill -HUP "$POSTINOD_PID" &&
	wait_until 30 grep -q "SIGHUP: the signing keys will be reloaded" postinod.log &&
	expect_status 200 scim GET /Users/alice@example.org &&
	scrape "$M" &&
	check_eq "$(mval postinod_jwks_refresh_failures_total)" 1 &&
	check_eq "$(mval postinod_jwks_refreshes_total)" 1
'

test_expect_success 'every metric is documented in postinod(8) and postino.toml(5)' '
	metrics_documented postinod.8 postinod_
'

test_expect_success 'SIGUSR1 logs the same numbers' '
	scrape "$M" &&
	kill -USR1 "$POSTINOD_PID" &&
	wait_until 30 grep -q " stats requests=" postinod.log &&
	line=$(grep " stats requests=" postinod.log | tail -1) &&
	echo "$line" &&
	n=$(grep "^postinod_http_requests_total{" scrape.txt | awk "{ s += \$NF } END { print s }") &&
	echo "$line" | grep -q " requests=$n " &&
	echo "$line" | grep -q " webhook_applied=1 webhook_duplicate=1 webhook_ignored=1 webhook_rejected=5 webhook_failed=0 " &&
	echo "$line" | grep -q " jwks_refreshes=1 jwks_failures=1 "
'

test_expect_success 'other paths 404' '
	check_eq "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$MPORT/scim/v2/Users")" 404
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
