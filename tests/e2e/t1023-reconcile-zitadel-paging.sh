#!/bin/sh
# engines: all
# postino reconcile --source zitadel reads every page: 23 people in pages
# of 5 (offsets 0, 5, ..., 20, each query.limit 5), the same findings as
# in one page; a total that changes between pages and a failing later page
# stop the run before anything is compared or applied; a page size over
# the server's maximum is refused with what to do; an instance without
# the v2 API is read through /v2beta/users.
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq
need_cmd python3

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/zitadel-api.sh"

q() {
	printf "'%s'" "$1"
}

TOKEN=zt-paging-0c5e2b7a91d84f36
STATE=$TEST_DIR/zapi
zitadel_api_state "$STATE" "$TOKEN"
POSTINO_ZITADEL_TOKEN=$TOKEN
POSTINO_ZITADEL_INSTANCE_ID=31415
POSTINO_ZITADEL_PAGE_SIZE=5
export POSTINO_ZITADEL_TOKEN POSTINO_ZITADEL_INSTANCE_ID POSTINO_ZITADEL_PAGE_SIZE

test_setup 'start the Zitadel API stub' '
	start_zitadel_api "$STATE" &&
	POSTINO_ZITADEL_URL=$ZAPI_URL &&
	export POSTINO_ZITADEL_URL
'

# 23 people u00..u22 (u07 deactivated), 22 mailboxes tied to them; u22
# has none; one more tied mailbox (gone) whose user was removed.
test_expect_success 'setup: 23 users, 22 of them with a mailbox' '
	postino domain add example.org >/dev/null &&
	{
		echo "{\"type\":\"postino-export\",\"version\":1}" &&
		for i in $(seq -w 0 21); do
			echo "{\"type\":\"mailbox\",\"username\":\"u$i@example.org\",\"name\":\"User $i\",\"identities\":\"zitadel:31415 4000$i\"}"
		done &&
		echo "{\"type\":\"mailbox\",\"username\":\"gone@example.org\",\"name\":\"Gone\",\"identities\":\"zitadel:31415 4000999\"}"
	} >in.jsonl &&
	postino import in.jsonl >/dev/null &&
	{
		echo "[" &&
		for i in $(seq -w 0 22); do
			state=ACTIVE
			[ "$i" = 07 ] && state=INACTIVE
			sep=,
			[ "$i" = 22 ] && sep=
			echo "{\"id\": \"4000$i\", \"email\": \"u$i@example.org\", \"given\": \"User\", \"family\": \"$i\", \"state\": \"$state\"}$sep"
		done &&
		echo "]"
	} >"$STATE/users.json" &&
	jq length "$STATE/users.json" >n && check_eq "$(cat n)" 23
'

test_expect_success 'five pages, each with its offset and limit; the findings of all' '
	: >"$STATE/requests" &&
	expect_code 4 postino reconcile --source zitadel --json >out.json &&
	check_eq "$(jq -r ".offset" "$STATE/requests" | tr "\n" " ")" "0 5 10 15 20 " &&
	check_eq "$(jq -r ".limit" "$STATE/requests" | sort -u)" 5 &&
	json ".people == 23" out.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] | sort == [\"absent gone@example.org\", \"missing u22@example.org\", \"still-active u07@example.org\"]" out.json
'

test_expect_success 'a total that changes between pages: exit 75, nothing applied' '
	echo grow >"$STATE/mode" &&
	LAST=$(sql "SELECT COALESCE(MAX(id), 0) FROM log") &&
	expect_code 75 postino reconcile --source zitadel --apply --yes >out 2>err &&
	check_grep "changed while they were read" err &&
	check_grep "run it again" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE id > $LAST")" 0 &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q u07@example.org)")" 1 &&
	test ! -s out
'

test_expect_success 'a later page failing: exit 75, nothing applied' '
	echo fail-page2 >"$STATE/mode" &&
	LAST=$(sql "SELECT COALESCE(MAX(id), 0) FROM log") &&
	expect_code 75 postino reconcile --source zitadel --apply --yes >out 2>err &&
	check_grep "500" err &&
	check_grep "nothing was changed" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE id > $LAST")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q u22@example.org)")" 0
'

test_expect_success 'a page size over the server maximum: its 400 and what to check' '
	rm -f "$STATE/mode" &&
	echo 3 >"$STATE/max_limit" &&
	expect_code 4 postino reconcile --source zitadel >out 2>err &&
	check_grep "400: Errors.Query.LimitExceeded" err &&
	POSTINO_ZITADEL_PAGE_SIZE=3 expect_code 4 postino reconcile --source zitadel --json >out.json &&
	json ".people == 23 and (.findings | length) == 3" out.json &&
	rm "$STATE/max_limit"
'

test_expect_success 'an instance without the v2 API: read through /v2beta/users' '
	echo no-v2 >"$STATE/mode" &&
	: >"$STATE/requests" &&
	postino reconcile --source zitadel --apply --yes --json >ap.json &&
	check_eq "$(jq -r ".path" "$STATE/requests" | tr "\n" " ")" "/v2/users /v2beta/users /v2beta/users /v2beta/users /v2beta/users /v2beta/users " &&
	json "[.findings[] | .applied] | all and length == 3" ap.json &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q u07@example.org)")" 0 &&
	check_eq "$(sql "SELECT subject FROM postino_identity WHERE username = $(q u22@example.org)")" 400022 &&
	postino reconcile --source zitadel >again &&
	check_grep "no drift: 23 people checked in 1 domain" again
'

test_done
