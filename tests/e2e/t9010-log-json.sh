#!/bin/sh
# log_format = "json": podop and postinod each write one JSON object per
# line (time, daemon, level, msg), with quotes and control bytes from
# peers escaped, so a log shipper can read the logs as they are.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
. "$SRCDIR/tests/helpers/podop-lib.sh"
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_cmd postmap podop jq
need_postinod_tools
postfix_conf

# json_lines LOG DAEMON: every line of LOG is one JSON object from DAEMON.
json_lines() {
	jq -e -R 'fromjson | type == "object" and .daemon == "'"$2"'" and
	    (.time | test("^[0-9-]+T[0-9:.]+Z$")) and (.level | type == "string")
	    and (.msg | type == "string")' "$1" >jq.out &&
	! grep -qv '^true$' jq.out
}

printf 'a@x.org\tone\n' >map.txt
cat >podop.toml <<EOF_TOML
log_format = "json"

[podop]
socket = "unix:$TEST_DIR/js.sock"
mode = "postfix"

[podop.tables]
alias = "file:$TEST_DIR/map.txt"
EOF_TOML

test_setup 'start podop with log_format = "json" and -vv' '
	start_podop js -vv -c "$TEST_DIR/podop.toml"
'

test_expect_success 'podop: lookups, odd keys, counters and a stop are JSON lines' '
	check_eq "$(pq a@x.org alias "$TEST_DIR/js.sock")" one &&
	{ pq "say\"hi\"\\x" alias "$TEST_DIR/js.sock" || :; } &&
	kill -USR1 "$(cat js.pid)" &&
	wait_until 30 grep -q "stats requests=" js.log &&
	stop_podop js &&
	json_lines js.log podop &&
	jq -r -R "fromjson | .msg" js.log >msgs &&
	grep -q "^lookup map=alias key=a@x.org result=found" msgs &&
	grep -qF "lookup map=alias key=say\"hi\"\\x result=notfound" msgs
'

test_setup 'start postinod with POSTINO_LOG_FORMAT=json' '
	start_jwks && start_postinod POSTINO_LOG_FORMAT=json &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'postinod: a request and a refused token' '
	expect_status 200 scim GET /Users &&
	good=$TOKEN && TOKEN=bogus &&
	expect_status 401 scim GET /Users &&
	TOKEN=$good
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod: access lines and a stop are JSON lines' '
	postinod_log_clean &&
	json_lines postinod.log postinod &&
	jq -r -R "fromjson | select(.level == \"access\") | .msg" \
		postinod.log >msgs &&
	grep -q "^method=GET path=/scim/v2/Users status=200 " msgs &&
	grep -q "^method=GET path=/scim/v2/Users status=401 " msgs &&
	jq -r -R "fromjson | .msg" postinod.log | grep -qx stopped
'

test_done
