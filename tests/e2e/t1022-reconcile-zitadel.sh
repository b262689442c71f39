#!/bin/sh
# engines: all
# postino reconcile --source zitadel against a stand-in for Zitadel's user
# service v2 (tests/helpers/zitadel-api.py, shapes from Zitadel's proto
# files): each finding (missing, unlinked, still-active, name, absent,
# no-person), users of other domains left out and counted, --json, --apply
# doing what the webhook would have done (identity rows, names, audit
# rows), a clean second run, the request's shape, and the token kept out
# of argv, output and the database.
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq
need_cmd python3

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/zitadel-api.sh"

q() {
	printf "'%s'" "$1"
}

HDR='{"type":"postino-export","version":1}'
TOKEN=zt-7f3a9c1e5b2d4068a1c3e5f7091b2d4f-reconcile
STATE=$TEST_DIR/zapi
zitadel_api_state "$STATE" "$TOKEN"
printf '%s\n' "$TOKEN" >"$TEST_DIR/token"
chmod 600 "$TEST_DIR/token"

test_setup 'start the Zitadel API stub' '
	start_zitadel_api "$STATE" &&
	cat >>"$POSTINO_CONFIG" <<-EOF
	[zitadel]
	url = "$ZAPI_URL/"
	instance_id = "27182"
	token_file = "$TEST_DIR/token"
	EOF
'

test_expect_success 'setup: mailboxes, some tied to Zitadel users' '
	postino domain add example.org >/dev/null &&
	postino domain add example.net >/dev/null &&
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"alice@example.org\",\"name\":\"Alice Old\",\"identities\":\"zitadel:27182 300001\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"bob@example.org\",\"name\":\"Bob Builder\",\"identities\":\"zitadel:27182 300002\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"dave@example.org\",\"name\":\"Dave Gone\",\"identities\":\"zitadel:27182 300004\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"frank@example.net\",\"name\":\"Frank Gone\",\"identities\":\"zitadel:27182 300006\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"eve@example.net\",\"plain_password\":\"pw-e-secret\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"grace@example.org\",\"name\":\"Grace Hopper\",\"plain_password\":\"pw-g-secret\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"heidi@example.org\",\"name\":\"Heidi Klum\",\"identities\":\"zitadel:27182 300008\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"postmaster@example.org\",\"plain_password\":\"pw-p-secret\"}"
	} >in.jsonl &&
	POSTINO_BCRYPT_COST=4 postino import in.jsonl >/dev/null
'

# Alice renamed in Zitadel, Bob deactivated, Carol and Ivan (not logged in
# yet: INITIAL) without a mailbox, Grace with a mailbox not tied to her
# user, Heidi locked (no change), Judy of a domain postino does not
# manage, a user in a state this postino does not know, and a machine
# user.  Dave and Frank were removed in Zitadel: not listed any more.
cat >"$STATE/users.json" <<'JSON'
[
 {"id": "300001", "email": "alice@example.org", "given": "Alice", "family": "Liddell", "username": "alice"},
 {"id": "300002", "email": "bob@example.org", "given": "Bob", "family": "Builder", "state": "INACTIVE", "login_names": ["bob@example.org", "bob@acme.zitadel.cloud"]},
 {"id": "300003", "email": "Carol@Example.org", "given": "Carol", "family": "Danvers"},
 {"id": "300007", "email": "grace.hopper@acme.test", "given": "Grace", "family": "Hopper", "username": "grace@example.org", "login_names": ["grace@example.org"]},
 {"id": "300008", "email": "heidi@example.org", "given": "Heidi", "family": "Klum", "state": "LOCKED"},
 {"id": "300009", "email": "ivan@example.org", "given": "Ivan", "family": "", "display": "Ivan", "state": "INITIAL"},
 {"id": "300010", "email": "judy@elsewhere.test", "given": "Judy", "family": "Else"},
 {"id": "300011", "email": "ken@example.org", "given": "Ken", "family": "Odd", "state": "UNSPECIFIED"},
 {"id": "300012", "username": "mail-sync", "machine": true}
]
JSON

test_expect_success 'the table shows each finding; exit 4; the others are counted' '
	expect_code 4 postino reconcile --source zitadel >out 2>err &&
	check_grep "^missing  *carol@example.org .*Carol Danvers" out &&
	check_grep "^missing  *ivan@example.org .*\"Ivan\"" out &&
	check_grep "^unlinked  *grace@example.org .*300007" out &&
	check_grep "^still-active  *bob@example.org" out &&
	check_grep "^name  *alice@example.org .*\"Alice Old\" -> \"Alice Liddell\"" out &&
	check_grep "^absent  *dave@example.org" out &&
	check_grep "^absent  *frank@example.net" out &&
	check_grep "^no-person  *postmaster@example.org" out &&
	! grep -q "eve@example.net" out &&
	! grep -q "heidi" out &&
	! grep -q "judy\|ken" out &&
	check_grep "1 person of domains postino does not manage left out" err &&
	check_grep "1 user skipped" err
'

test_expect_success 'the request: v2 ListUsers, humans only, ascending by creation, the token' '
	tail -n 1 "$STATE/requests" >req.json &&
	json ".path == \"/v2/users\" and .token_ok and .asc == true and .offset == \"0\" and .limit == 100" req.json &&
	json ".sortingColumn == \"USER_FIELD_NAME_CREATION_DATE\"" req.json &&
	json ".queries == [{\"typeQuery\": {\"type\": \"TYPE_HUMAN\"}}]" req.json
'

test_expect_success '--json: findings, user ids, counts' '
	expect_code 4 postino reconcile --json --source zitadel >out.json &&
	json ".source == \"zitadel\" and .people == 7 and .other_domains == 1 and .skipped == 1" out.json &&
	json ".domains == [\"example.org\"]" out.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] | sort == [\"absent dave@example.org\", \"absent frank@example.net\", \"missing carol@example.org\", \"missing ivan@example.org\", \"name alice@example.org\", \"no-person postmaster@example.org\", \"still-active bob@example.org\", \"unlinked grace@example.org\"]" out.json &&
	json ".findings[] | select(.finding == \"missing\" and .mailbox == \"carol@example.org\") | .userId == \"300003\" and .name == \"Carol Danvers\" and .severity == \"error\"" out.json &&
	json ".findings[] | select(.finding == \"no-person\") | .severity == \"warning\"" out.json
'

audit() {
	sql "SELECT action, data FROM log WHERE id > $1 ORDER BY action, data"
}

test_expect_success '--apply without --yes and without a terminal changes nothing' '
	expect_code 1 postino reconcile --source zitadel --apply >out 2>err &&
	check_grep "not confirmed" err &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q bob@example.org)")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q carol@example.org)")" 0
'

test_expect_success '--apply --yes does what the webhook would have done' '
	LAST=$(sql "SELECT COALESCE(MAX(id), 0) FROM log") &&
	postino reconcile --source zitadel --apply --yes --json >ap.json &&
	json "[.findings[] | select(.severity == \"error\") | .applied] | all" ap.json &&
	check_eq "$(sql "SELECT password, name, active FROM mailbox WHERE username = $(q carol@example.org)")" "$(printf "{NOAUTH}\tCarol Danvers\t1")" &&
	check_eq "$(sql "SELECT subject, given_name, family_name FROM postino_identity WHERE issuer = $(q zitadel:27182) AND username = $(q carol@example.org)")" "$(printf "300003\tCarol\tDanvers")" &&
	check_eq "$(sql "SELECT subject FROM postino_identity WHERE issuer = $(q zitadel:27182) AND username = $(q ivan@example.org)")" 300009 &&
	test -d "$MAIL_ROOT/example.org/carol" &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q bob@example.org)")" 0 &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q dave@example.org)")" 0 &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q frank@example.net)")" 0 &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = $(q alice@example.org)")" "Alice Liddell" &&
	check_eq "$(sql "SELECT given_name, family_name FROM postino_identity WHERE subject = $(q 300001)")" "$(printf "Alice\tLiddell")" &&
	check_eq "$(sql "SELECT username, given_name FROM postino_identity WHERE issuer = $(q zitadel:27182) AND subject = $(q 300007)")" "$(printf "grace@example.org\tGrace")" &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q postmaster@example.org)")" 1 &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q eve@example.net)")" 1 &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q heidi@example.org)")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username LIKE $(q "judy%")")" 0 &&
	audit "$LAST" >audit.txt &&
	check_eq "$(cut -f1 audit.txt | tr "\n" " ")" "create_mailbox create_mailbox edit_mailbox edit_mailbox_state edit_mailbox_state edit_mailbox_state " &&
	check_grep "carol@example.org" audit.txt && check_grep "ivan@example.org" audit.txt &&
	check_grep "bob@example.org" audit.txt && check_grep "dave@example.org" audit.txt &&
	check_grep "frank@example.net" audit.txt && check_grep "alice@example.org" audit.txt
'

test_expect_success 'a second run finds only the warning and exits 0' '
	postino reconcile --source zitadel --json >again.json &&
	json "[.findings[].finding] == [\"no-person\"]" again.json &&
	postino reconcile --source zitadel >again.txt 2>again.err &&
	check_grep "^no-person  *postmaster@example.org" again.txt
'

test_expect_success 'a user reactivated in Zitadel keeps its disabled mailbox disabled, a removed user stays absent' '
	jq "map(if .id == \"300002\" then .state = \"ACTIVE\" else . end)" "$STATE/users.json" >u2 &&
	mv u2 "$STATE/users.json" &&
	postino reconcile --source zitadel --json >re.json &&
	json "[.findings[].finding] == [\"no-person\"]" re.json
'

test_expect_success 'organization_id: only that organization is asked for and compared' '
	POSTINO_ZITADEL_ORGANIZATION_ID=300000000000000001 \
		postino reconcile --source zitadel --json >org.json &&
	tail -n 1 "$STATE/requests" >req.json &&
	json ".queries == [{\"typeQuery\": {\"type\": \"TYPE_HUMAN\"}}, {\"organizationIdQuery\": {\"organizationId\": \"300000000000000001\"}}]" req.json &&
	POSTINO_ZITADEL_ORGANIZATION_ID=390000000000000009 \
		postino reconcile --source zitadel --json >org2.json &&
	json ".people == 0 and .findings == []" org2.json
'

test_expect_success 'the token from POSTINO_ZITADEL_TOKEN when token_file is empty' '
	POSTINO_ZITADEL_TOKEN_FILE= POSTINO_ZITADEL_TOKEN=$TOKEN \
		postino reconcile --source zitadel >env.txt &&
	tail -n 1 "$STATE/requests" >req.json &&
	json ".token_ok" req.json &&
	POSTINO_ZITADEL_TOKEN_FILE= POSTINO_ZITADEL_TOKEN=wrong \
		expect_code 77 postino reconcile --source zitadel >env.txt 2>env.err &&
	check_grep "401" env.err
'

test_expect_success 'the token is in no output, request log, audit row or config show' '
	! grep -rl "$TOKEN" . "$STATE/requests" 2>/dev/null | grep -v "/token$" &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE data LIKE $(q "%zt-7f3a%")")" 0 &&
	! postino config show 2>&1 | grep -q "$TOKEN"
'

test_done
