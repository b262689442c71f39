#!/bin/sh
# engines: all
# postino reconcile --source zitadel when the API or the settings fail:
# 401 and 403 (exit 77), 500 and 503, an answer cut short or not JSON, no
# server (exit 75), missing settings (exit 4), each with a message that
# says what to do, never the token, and nothing applied; TLS verified
# against [zitadel] ca_file.
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq
need_cmd python3
need_cmd openssl

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/zitadel-api.sh"

q() {
	printf "'%s'" "$1"
}

TOKEN=zt-errors-9d8c7b6a5f4e3d2c1b0a
STATE=$TEST_DIR/zapi
zitadel_api_state "$STATE" "$TOKEN"
printf '%s\n' "$TOKEN" >"$TEST_DIR/token"
POSTINO_ZITADEL_TOKEN_FILE=$TEST_DIR/token
POSTINO_ZITADEL_INSTANCE_ID=27182
export POSTINO_ZITADEL_TOKEN_FILE POSTINO_ZITADEL_INSTANCE_ID

test_setup 'start the Zitadel API stub' '
	start_zitadel_api "$STATE" &&
	POSTINO_ZITADEL_URL=$ZAPI_URL &&
	export POSTINO_ZITADEL_URL
'

test_expect_success 'instance_id unset and no mailbox tied to Zitadel yet: 4, what to set' '
	POSTINO_ZITADEL_INSTANCE_ID= expect_code 4 postino reconcile --source zitadel >out 2>err &&
	check_grep "instance_id is not set and no mailbox is tied" err &&
	check_grep "instanceID of its webhook" err &&
	test ! -s "$STATE/requests"
'

test_expect_success 'setup: one person with drift of each kind' '
	postino domain add example.org >/dev/null &&
	{
		echo "{\"type\":\"postino-export\",\"version\":1}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"bob@example.org\",\"name\":\"Bob\",\"identities\":\"zitadel:27182 500002\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"dave@example.org\",\"name\":\"Dave\",\"identities\":\"zitadel:27182 500004\"}"
	} >in.jsonl &&
	postino import in.jsonl >/dev/null &&
	cat >"$STATE/users.json" <<-EOF &&
	[{"id": "500001", "email": "carol@example.org", "given": "Carol", "family": "Danvers"},
	 {"id": "500002", "email": "bob@example.org", "given": "Robert", "family": "Builder", "state": "INACTIVE"}]
	EOF
	expect_code 4 postino reconcile --source zitadel --json >ok.json &&
	json "(.findings | length) == 4" ok.json
'

# fails CODE PATTERN...: reconcile --apply --yes exits CODE, prints each
# PATTERN on stderr, nothing on stdout, no token, and changes nothing.
fails() {
	code=$1
	shift
	LAST=$(sql "SELECT COALESCE(MAX(id), 0) FROM log") &&
	expect_code "$code" postino reconcile --source zitadel --apply --yes >out 2>err &&
	for p in "$@"; do check_grep "$p" err || return 1; done &&
	test ! -s out &&
	! grep -q "$TOKEN" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE id > $LAST")" 0 &&
	check_eq "$(sql "SELECT active, name FROM mailbox WHERE username = $(q bob@example.org)")" "$(printf "1\tBob")" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q carol@example.org)")" 0
}

test_expect_success 'a token the server refuses: 77, what to do' '
	echo 401 >"$STATE/mode" &&
	fails 77 "401 Unauthorized: Errors.Token.Invalid" "hint: the token was refused" "token_file"
'

test_expect_success 'a service user without the permission: 77, what to do' '
	echo 403 >"$STATE/mode" &&
	fails 77 "403 Forbidden" "may not read users"
'

test_expect_success 'server errors: 75, try again later' '
	echo 500 >"$STATE/mode" &&
	fails 75 ": 500: Errors.Internal" "nothing was changed; try again later" &&
	echo 503 >"$STATE/mode" &&
	fails 75 ": 503"
'

test_expect_success 'an answer cut short, or not JSON: 75' '
	echo truncated >"$STATE/mode" &&
	fails 75 "is not a JSON object" "cut short" &&
	echo garbage >"$STATE/mode" &&
	fails 75 "is not a JSON object"
'

test_expect_success 'no server at the URL: 75' '
	rm -f "$STATE/mode" &&
	port=$(free_port) &&
	POSTINO_ZITADEL_URL=http://127.0.0.1:$port fails 75 "127.0.0.1:$port/v2/users" "check \[zitadel\] url"
'

test_expect_success 'a URL that is not Zitadel: 4, what to set' '
	POSTINO_ZITADEL_URL=$POSTINO_ZITADEL_URL/some/path fails 4 ": 404" "instance.s base URL"
'

test_expect_success 'settings missing or wrong: 4, what to set' '
	POSTINO_ZITADEL_URL= fails 4 "\[zitadel\] url is not set" &&
	POSTINO_ZITADEL_TOKEN_FILE= fails 4 "no Zitadel token" "token_file" &&
	POSTINO_ZITADEL_TOKEN_FILE=$TEST_DIR/nonexistent fails 4 "cannot open \[zitadel\] token_file" &&
	printf "two words\n" >badtok &&
	POSTINO_ZITADEL_TOKEN_FILE=$TEST_DIR/badtok fails 4 "blank or control character" &&
	POSTINO_ZITADEL_URL=ftp://127.0.0.1/ fails 4 "zitadel.url"
'

test_expect_success 'a token file others may read, plain http off loopback: warned' '
	chmod 644 "$TEST_DIR/token" &&
	expect_code 4 postino reconcile --source zitadel >out 2>err &&
	check_grep "token_file .* may be read by other users; chmod 600" err &&
	chmod 600 "$TEST_DIR/token" &&
	expect_code 4 postino reconcile --source zitadel >out 2>err &&
	! grep -q "chmod 600" err &&
	! grep -q "in the clear" err &&
	POSTINO_ZITADEL_URL=http://192.0.2.1:1 POSTINO_ZITADEL_TIMEOUT_SECONDS=1 \
		expect_code 75 postino reconcile --source zitadel >out 2>err &&
	check_grep "plain http: the token crosses the network in the clear" err
'

test_expect_success 'instance_id unset: the one instance the identity table names' '
	POSTINO_ZITADEL_INSTANCE_ID= expect_code 4 postino reconcile --source zitadel --json >one.json &&
	json "(.findings | length) == 4" one.json
'

test_expect_success 'TLS: refused without the CA, verified with [zitadel] ca_file' '
	mkdir -p tls "$TEST_DIR/ztls" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" \
		-keyout tls/key.pem -out tls/cert.pem 2>/dev/null &&
	cp "$STATE/users.json" "$STATE/token" "$TEST_DIR/ztls/" &&
	start_zitadel_api "$TEST_DIR/ztls" --tls tls/cert.pem tls/key.pem &&
	TLS_URL=$ZAPI_URL &&
	POSTINO_ZITADEL_URL=$TLS_URL fails 4 "ca_file" &&
	POSTINO_ZITADEL_URL=$TLS_URL POSTINO_ZITADEL_CA_FILE=$TEST_DIR/tls/cert.pem \
		expect_code 4 postino reconcile --source zitadel --json >tls.json &&
	json "(.findings | length) == 4" tls.json &&
	tail -n 1 "$TEST_DIR/ztls/requests" >req.json &&
	json ".token_ok" req.json
'

test_expect_success 'the token is in no output and no request log' '
	! grep -rl "$TOKEN" . "$STATE/requests" "$TEST_DIR/ztls/requests" 2>/dev/null | grep -v "/token$"
'

test_done
