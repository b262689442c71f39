#!/bin/sh
# engines: all
# postino reconcile --source scim-json: an identity provider's SCIM
# ListResponse export (shaped as Entra ID and Okta send users) against the
# mailboxes.  Each finding (missing, still-active, name, absent,
# no-person), --json, --apply with and without --yes, a clean second run,
# and malformed files (exit 4).
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq

setup_postino
POSTINO_IDENTITY_BACKEND=hybrid
export POSTINO_IDENTITY_BACKEND

q() {
	printf "'%s'" "$1"
}

HDR='{"type":"postino-export","version":1}'

test_expect_success 'setup: mailboxes, one linked by externalId, one IdP-managed' '
	postino domain add example.org >/dev/null &&
	postino domain add example.net >/dev/null &&
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"alice@example.org\",\"name\":\"Alice Old\",\"plain_password\":\"pw-a-secret\",\"identities\":\"scim 2819c223-7f76-453a-919d-413861904646\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"bob@example.org\",\"name\":\"Bob Builder\",\"plain_password\":\"pw-b-secret\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"dave@example.org\",\"name\":\"Dave Gone\",\"identities\":\"scim 00u5dave\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"grace@example.org\",\"name\":\"Grace Hopper\",\"plain_password\":\"pw-g-secret\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"postmaster@example.org\",\"plain_password\":\"pw-p-secret\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"eve@example.net\",\"plain_password\":\"pw-e-secret\"}"
	} >in.jsonl &&
	POSTINO_BCRYPT_COST=4 postino import in.jsonl >/dev/null
'

# Alice as Entra ID sends her (userName a UPN that differs from the
# mailbox, matched through the externalId), Bob deactivated and renamed
# in Entra ID (two findings, one transaction), Grace in sync but with a
# UPN for userName (matched by her email),
# Carol as Okta sends users (no name.formatted, no externalId link yet).
cat >users.json <<'JSON'
{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 4, "itemsPerPage": 4, "startIndex": 1,
  "Resources": [
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      "id": "8a9e3d1c-0000-4000-8000-000000000001",
      "externalId": "2819c223-7f76-453a-919d-413861904646",
      "userName": "Alice.Liddell@example.org",
      "active": true,
      "displayName": "Alice Liddell",
      "name": {"formatted": "Alice Liddell", "familyName": "Liddell", "givenName": "Alice"},
      "emails": [{"primary": true, "type": "work", "value": "alice@example.org"}],
      "meta": {"resourceType": "User"}
    },
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "8a9e3d1c-0000-4000-8000-000000000002",
      "externalId": "b0b",
      "userName": "bob@example.org",
      "active": false,
      "name": {"formatted": "Robert Builder", "familyName": "Builder", "givenName": "Robert"},
      "emails": [{"primary": true, "type": "work", "value": "bob@example.org"}]
    },
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "8a9e3d1c-0000-4000-8000-000000000003",
      "externalId": "6a1f9e2b-1d3c-4e5f-8a7b-9c0d1e2f3a4b",
      "userName": "grace.hopper@example.org",
      "active": true,
      "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
      "emails": [{"primary": true, "type": "work", "value": "Grace@Example.org"}]
    },
    {
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "00u1carol",
      "externalId": "00u1carol",
      "userName": "carol@example.org",
      "name": {"givenName": "Carol", "familyName": "Danvers"},
      "emails": [{"primary": true, "value": "carol@example.org", "type": "work"}],
      "displayName": "Carol Danvers",
      "locale": "en-US",
      "active": true,
      "groups": [],
      "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00.000Z"}
    }
  ]
}
JSON

test_expect_success 'the table shows each finding; exit 4' '
	expect_code 4 postino reconcile --source scim-json users.json >out 2>err &&
	check_grep "^missing  *carol@example.org .*Carol Danvers" out &&
	check_grep "^still-active  *bob@example.org" out &&
	check_grep "^name  *bob@example.org .*\"Bob Builder\" -> \"Robert Builder\"" out &&
	check_grep "^name  *alice@example.org .*\"Alice Old\" -> \"Alice Liddell\"" out &&
	check_grep "^absent  *dave@example.org" out &&
	check_grep "^no-person  *postmaster@example.org" out &&
	! grep -q "eve@example.net" out &&
	! grep -q "grace" out
'

test_expect_success '--json: the findings and the covered domains' '
	expect_code 4 postino reconcile --json --source scim-json users.json >out.json &&
	json ".domains == [\"example.org\"]" out.json &&
	json "[.findings[] | .finding + \" \" + .mailbox] | sort == [\"absent dave@example.org\", \"missing carol@example.org\", \"name alice@example.org\", \"name bob@example.org\", \"no-person postmaster@example.org\", \"still-active bob@example.org\"]" out.json &&
	json ".findings[] | select(.finding == \"missing\") | .externalId == \"00u1carol\" and .name == \"Carol Danvers\" and .severity == \"error\"" out.json &&
	json ".findings[] | select(.finding == \"no-person\") | .severity == \"warning\"" out.json
'

test_expect_success '--apply without --yes and without a terminal changes nothing' '
	expect_code 1 postino reconcile --source scim-json users.json --apply >out 2>err &&
	check_grep "not confirmed" err &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q bob@example.org)")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q carol@example.org)")" 0
'

# audit ID: action and data of the audit rows after row ID.
audit() {
	sql "SELECT action, data FROM log WHERE id > $1 ORDER BY action, data"
}

test_expect_success '--apply --yes makes the changes the SCIM API would' '
	LAST=$(sql "SELECT COALESCE(MAX(id), 0) FROM log") &&
	postino reconcile --source scim-json users.json --apply --yes --json >ap.json &&
	json "[.findings[] | select(.severity == \"error\") | .applied] | all" ap.json &&
	check_eq "$(sql "SELECT password, name, active FROM mailbox WHERE username = $(q carol@example.org)")" "$(printf "{NOAUTH}\tCarol Danvers\t1")" &&
	check_eq "$(sql "SELECT subject FROM postino_identity WHERE issuer = $(q scim) AND username = $(q carol@example.org)")" 00u1carol &&
	test -d "$MAIL_ROOT/example.org/carol" &&
	check_eq "$(sql "SELECT active, name FROM mailbox WHERE username = $(q bob@example.org)")" "$(printf "0\tRobert Builder")" &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q dave@example.org)")" 0 &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = $(q alice@example.org)")" "Alice Liddell" &&
	check_eq "$(sql "SELECT active FROM mailbox WHERE username = $(q postmaster@example.org)")" 1 &&
	audit "$LAST" >audit.txt &&
	check_eq "$(cut -f1 audit.txt | tr "\n" " ")" "create_mailbox edit_mailbox edit_mailbox edit_mailbox_state edit_mailbox_state " &&
	check_grep "carol@example.org" audit.txt && check_grep "bob@example.org" audit.txt &&
	check_grep "dave@example.org" audit.txt && check_grep "alice@example.org" audit.txt
'

test_expect_success 'a second run finds only the warning and exits 0' '
	postino reconcile --source scim-json users.json --json >again.json &&
	json "[.findings[].finding] == [\"no-person\"]" again.json &&
	postino reconcile --source scim-json users.json >again.txt &&
	check_grep "^no-person  *postmaster@example.org" again.txt
'

test_expect_success 'under local a missing mailbox is not created' '
	sed "s/carol/frank/g" users.json >frank.json &&
	POSTINO_IDENTITY_BACKEND=local expect_code 4 postino reconcile --source scim-json frank.json --apply --yes >out 2>&1 &&
	check_grep "identity_backend=local" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q frank@example.org)")" 0
'

test_expect_success 'malformed files: exit 4 with what is wrong' '
	printf "{\"Resources\": [\n" >bad1.json &&
	expect_code 4 postino reconcile --source scim-json bad1.json 2>err &&
	check_grep "bad1.json:" err &&
	echo "{\"Resources\": {}}" >bad2.json &&
	expect_code 4 postino reconcile --source scim-json bad2.json 2>err &&
	check_grep "ListResponse" err &&
	echo "{\"Resources\": [{\"active\": true}]}" >bad3.json &&
	expect_code 4 postino reconcile --source scim-json bad3.json 2>err &&
	check_grep "Resources\[0\]: no userName" err &&
	echo "{\"Resources\": [{\"userName\": \"x@example.org\", \"active\": \"yes\"}]}" >bad4.json &&
	expect_code 4 postino reconcile --source scim-json bad4.json 2>err &&
	check_grep "active" err &&
	echo "{\"userName\": \"x@example.org\"}" >bad5.json &&
	expect_code 4 postino reconcile --source scim-json bad5.json 2>err &&
	check_grep "not a single User" err &&
	expect_code 4 postino reconcile --source scim-json nonexistent.json 2>err
'
test_expect_success 'one page of a paged export is refused, an empty export is clean' '
	jq ".totalResults = 250" users.json >page.json &&
	expect_code 4 postino reconcile --source scim-json page.json 2>err &&
	check_grep "holds 4 of 250 users" err &&
	echo "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"], \"totalResults\": 0}" >empty.json &&
	postino reconcile --source scim-json empty.json >out &&
	check_grep "no drift: 0 people" out
'

test_expect_success 'usage: --source is required, scim-json and zitadel are known' '
	expect_code 64 postino reconcile users.json 2>err &&
	expect_code 64 postino reconcile --source ldap users.json 2>err &&
	check_grep "unknown --source" err &&
	expect_code 64 postino reconcile --source zitadel users.json 2>err &&
	check_grep "takes no FILE" err
'

test_done
