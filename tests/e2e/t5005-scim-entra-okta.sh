#!/bin/sh
# engines: all
# SCIM as Microsoft Entra ID and Okta provision: their request sequences
# end to end (GET by filter, POST with externalId and the enterprise
# extension, PATCH with capitalised ops, string booleans, value paths and
# attributes postino does not keep, PUT as Okta's update, deactivate,
# DELETE), with externalId stored, returned and filterable.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

U=urn:ietf:params:scim:schemas:core:2.0:User
E=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
P=urn:ietf:params:scim:api:messages:2.0:PatchOp

q() {
	printf "'%s'" "$1"
}

external_of() {
	sql "SELECT subject FROM postino_identity WHERE issuer = $(q scim) AND username = $(q "$1")"
}

active_of() {
	sql "SELECT active FROM mailbox WHERE username = $(q "$1")"
}

name_of() {
	sql "SELECT name FROM mailbox WHERE username = $(q "$1")"
}

# Entra ID's create (its SCIM validator's shape).
ENTRA_POST=$(cat <<EOF
{"schemas":["$U","$E"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
 "userName":"ada@example.org","active":true,
 "emails":[{"primary":true,"type":"work","value":"ada@example.org"}],
 "meta":{"resourceType":"User"},
 "name":{"formatted":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada"},
 "roles":[],"title":"Analyst",
 "$E":{"department":"Engines","manager":{"value":"26118915-6090-4610-87a4-77d6d3b0c1e1"}}}
EOF
)

ENTRA_PATCH_ATTRS=$(cat <<EOF
{"schemas":["$P"],"Operations":[
 {"op":"Replace","path":"emails[type eq \"work\"].value","value":"ada@example.org"},
 {"op":"Replace","path":"name.familyName","value":"King"},
 {"op":"Add","path":"addresses[type eq \"work\"].locality","value":"London"},
 {"op":"Replace","path":"$E:department","value":"Analytics"},
 {"op":"Add","value":{"$E:costCenter":"42","nickName":"A"}}]}
EOF
)

ENTRA_DISABLE=$(cat <<EOF
{"schemas":["$P"],"Operations":[
 {"op":"Replace","path":"active","value":"False"},
 {"op":"Replace","path":"title","value":"Former analyst"}]}
EOF
)

ENTRA_EXTERNAL=$(cat <<EOF
{"schemas":["$P"],"Operations":[
 {"op":"Replace","path":"externalId","value":"ada-new-id"}]}
EOF
)

# Okta's create and its default profile update (a PUT of the whole user).
OKTA_POST=$(cat <<EOF
{"schemas":["$U"],"userName":"bob@example.org",
 "name":{"givenName":"Bob","familyName":"Smith"},
 "emails":[{"primary":true,"value":"bob@example.org","type":"work"}],
 "displayName":"Bob Smith","locale":"en-US","externalId":"00u1dhhb1fkIGP7RL1d8",
 "groups":[],"password":"pw-bob-okta-1","active":true}
EOF
)

OKTA_PUT=$(cat <<EOF
{"schemas":["$U"],"id":"bob@example.org","userName":"bob@example.org",
 "name":{"givenName":"Bob","familyName":"Smithers"},
 "emails":[{"primary":true,"value":"bob@example.org","type":"work"}],
 "displayName":"Bob Smithers","locale":"en-US","externalId":"00u1dhhb1fkIGP7RL1d8",
 "groups":[],"active":true,"meta":{"resourceType":"User"}}
EOF
)

OKTA_DEACTIVATE=$(cat <<EOF
{"schemas":["$P"],"Operations":[{"op":"replace","value":{"active":false}}]}
EOF
)

test_setup 'start postinod' '
	start_jwks && start_postinod &&
	postino domain add example.org >/dev/null &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'Entra: GET by userName before create finds nothing' '
	expect_status 200 scim_get_q /Users "filter=userName eq \"ada@example.org\"" &&
	json ".totalResults == 0" out
'

test_expect_success 'Entra: POST with externalId, the enterprise extension and roles: 201' '
	expect_status 201 scim POST /Users "$ENTRA_POST" &&
	json ".externalId == \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"" out &&
	check_eq "$(external_of ada@example.org)" 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef &&
	check_eq "$(name_of ada@example.org)" "Ada Lovelace"
'

test_expect_success 'externalId is returned and filterable' '
	expect_status 200 scim GET /Users/ada@example.org &&
	json ".externalId == \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"" out &&
	expect_status 200 scim_get_q /Users "filter=externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"" &&
	json ".totalResults == 1 and .Resources[0].userName == \"ada@example.org\"" out &&
	expect_status 200 scim_get_q /Users "filter=externalId eq \"0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF\"" &&
	json ".totalResults == 0" out
'

test_expect_success 'a second user with the same externalId is 409' '
	expect_status 409 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"other@example.org\",\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"}" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q other@example.org)")" 0
'

test_expect_success 'Entra: PATCH with value paths, unkept attributes and the extension: 200' '
	expect_status 200 scim PATCH /Users/ada@example.org "$ENTRA_PATCH_ATTRS" &&
	check_eq "$(name_of ada@example.org)" "Ada King" &&
	json ".name.formatted == \"Ada King\"" out
'

test_expect_success 'Entra: PATCH name.givenName alone keeps the family name' '
	expect_status 200 scim PATCH /Users/ada@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"name.givenName\",\"value\":\"Augusta\"}]}" &&
	check_eq "$(name_of ada@example.org)" "Augusta King"
'

test_expect_success 'Entra: PATCH externalId replaces it' '
	expect_status 200 scim PATCH /Users/ada@example.org "$ENTRA_EXTERNAL" &&
	json ".externalId == \"ada-new-id\"" out &&
	check_eq "$(external_of ada@example.org)" ada-new-id
'

test_expect_success 'Entra: [Replace active "False", Replace title] disables the mailbox' '
	expect_status 200 scim PATCH /Users/ada@example.org "$ENTRA_DISABLE" &&
	json ".active == false" out &&
	check_eq "$(active_of ada@example.org)" 0
'

test_expect_success 'read-only attributes are 400 mutability; userName unchanged is fine' '
	expect_status 200 scim PATCH /Users/ada@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"Ada@Example.org\"}]}" &&
	for path in userName id meta.created schemas; do
		expect_status 400 scim PATCH /Users/ada@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"$path\",\"value\":\"other@example.org\"}]}" &&
		json ".scimType == \"mutability\" and .status == \"400\"" out || return 1
	done &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q ada@example.org)")" 1
'

test_expect_success 'attributes= and excludedAttributes= are honoured, or 400' '
	expect_status 200 scim GET "/Users/ada@example.org?attributes=userName" &&
	json "keys == [\"id\",\"schemas\",\"userName\"]" out &&
	expect_status 200 scim_get_q /Users "filter=externalId eq \"ada-new-id\"" "attributes=urn:ietf:params:scim:schemas:core:2.0:User:externalId,active" &&
	json ".totalResults == 1 and (.Resources[0] | keys) == [\"active\",\"externalId\",\"id\",\"schemas\"]" out &&
	expect_status 200 scim_get_q /Users/ada@example.org "excludedAttributes=name,emails,urn:postino:params:scim:schemas:extension:mailbox:2.0:User:quotaBytes" &&
	json "has(\"name\") or has(\"emails\") | not" out &&
	json ".active == false and .userName == \"ada@example.org\"" out &&
	json ".[\"urn:postino:params:scim:schemas:extension:mailbox:2.0:User\"] | has(\"quotaBytes\") | not" out &&
	expect_status 400 scim_get_q /Users "attributes=user\"Name" &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim_get_q /Users attributes=userName excludedAttributes=name &&
	check_eq "$(active_of ada@example.org)" 0
'

test_expect_success 'Entra: DELETE removes the mailbox and its externalId' '
	expect_status 204 scim DELETE /Users/ada@example.org &&
	check_eq "$(external_of ada@example.org)" "" &&
	expect_status 200 scim_get_q /Users "filter=externalId eq \"ada-new-id\"" &&
	json ".totalResults == 0" out
'

test_expect_success 'Okta: GET by userName with paging, then POST: 201' '
	expect_status 200 scim_get_q /Users "filter=userName eq \"bob@example.org\"" startIndex=1 count=100 &&
	json ".totalResults == 0" out &&
	expect_status 201 scim POST /Users "$OKTA_POST" &&
	check_eq "$(name_of bob@example.org)" "Bob Smith" &&
	check_eq "$(external_of bob@example.org)" 00u1dhhb1fkIGP7RL1d8 &&
	json ".externalId == \"00u1dhhb1fkIGP7RL1d8\"" out
'

test_expect_success 'Okta: PUT replaces the profile and keeps the password' '
	hash=$(sql "SELECT password FROM mailbox WHERE username = $(q bob@example.org)") &&
	expect_status 200 scim PUT /Users/bob@example.org "$OKTA_PUT" &&
	json ".name.formatted == \"Bob Smithers\" and .active == true" out &&
	check_eq "$(name_of bob@example.org)" "Bob Smithers" &&
	check_eq "$(sql "SELECT password FROM mailbox WHERE username = $(q bob@example.org)")" "$hash" &&
	check_eq "$(external_of bob@example.org)" 00u1dhhb1fkIGP7RL1d8
'

test_expect_success 'PUT without externalId removes it; another userName is refused' '
	expect_status 200 scim PUT /Users/bob@example.org "{\"schemas\":[\"$U\"],\"userName\":\"bob@example.org\",\"active\":false}" &&
	check_eq "$(external_of bob@example.org)" "" &&
	check_eq "$(active_of bob@example.org)" 0 &&
	check_eq "$(name_of bob@example.org)" "" &&
	expect_status 400 scim PUT /Users/bob@example.org "{\"schemas\":[\"$U\"],\"userName\":\"robert@example.org\"}" &&
	expect_status 404 scim PUT /Users/ghost@example.org "{\"schemas\":[\"$U\"],\"userName\":\"ghost@example.org\"}" &&
	expect_status 405 scim PUT /Aliases/bob@example.org "{}"
'

test_expect_success 'Okta: PATCH {"active":false} without a path deactivates, true reactivates' '
	expect_status 200 scim PUT /Users/bob@example.org "$OKTA_PUT" &&
	check_eq "$(active_of bob@example.org)" 1 &&
	expect_status 200 scim PATCH /Users/bob@example.org "$OKTA_DEACTIVATE" &&
	check_eq "$(active_of bob@example.org)" 0 &&
	expect_status 200 scim PATCH /Users/bob@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":true}}]}" &&
	check_eq "$(active_of bob@example.org)" 1
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
