#!/bin/sh
# engines: all
# SCIM /Aliases and /Domains (postino's extension resources) and the
# discovery endpoints: ServiceProviderConfig, ResourceTypes[/{id}],
# Schemas[/{id}].  Alias mutations must equal "postino alias ...".
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

A=urn:postino:params:scim:schemas:core:2.0:Alias
P=urn:ietf:params:scim:api:messages:2.0:PatchOp

alias_body() {
	printf '{"schemas":["%s"],"address":"%s","goto":%s}' "$A" "$1" "$2"
}

patch_body() {
	printf '{"schemas":["%s"],"Operations":[%s]}' "$P" "$1"
}

# alias_state ADDRESS: the alias row and its audit rows, address as A.
alias_state() {
	sql "SELECT replace(goto, '$1', 'A'), domain, active FROM alias WHERE address = '$1'"
	sql "SELECT action, replace(data, '$1', 'A'), domain FROM log WHERE data LIKE '$1%' ORDER BY id"
}

test_setup 'domains, a mailbox, and postinod' '
	postino domain add example.org --description "Example" >/dev/null &&
	postino domain add tiny.org --max-aliases 1 >/dev/null &&
	printf "pw-box-1\n" | postino user add box@example.org --password-stdin >/dev/null &&
	start_jwks && start_postinod && TOKEN=$(token --sub alias-admin)
'

test_expect_success 'POST /Aliases = "postino alias add"' '
	expect_status 201 scim POST /Aliases "$(alias_body fwd@example.org "\"box@example.org,ext@other.example\"")" &&
	grep -qi "^location: http://127.0.0.1:$PORT/scim/v2/Aliases/fwd@example.org" hdr &&
	json ".id == \"fwd@example.org\" and .address == \"fwd@example.org\" and .active == true" out &&
	json ".goto == \"box@example.org,ext@other.example\" and .meta.resourceType == \"Alias\"" out &&
	postino alias add fwd2@example.org box@example.org ext@other.example >/dev/null &&
	alias_state fwd@example.org >scim.state &&
	alias_state fwd2@example.org >cli.state &&
	diff -u cli.state scim.state &&
	check_eq "$(sql "SELECT username FROM log WHERE action = '"'"'create_alias'"'"' AND data LIKE '"'"'fwd@%'"'"'")" alias-admin
'

test_expect_success 'POST: goto as an array, active=false, a catch-all' '
	expect_status 201 scim POST /Aliases "{\"schemas\":[\"$A\"],\"address\":\"list@example.org\",\"goto\":[\"a@x.example\",\"b@x.example\"],\"active\":false}" &&
	json ".goto == \"a@x.example,b@x.example\" and .active == false" out &&
	expect_status 201 scim POST /Aliases "$(alias_body @example.org "\"box@example.org\"")" &&
	json ".id == \"@example.org\"" out
'

test_expect_success 'POST errors: 409, unknown domain 400, bad values 400, full 400 tooMany' '
	expect_status 409 scim POST /Aliases "$(alias_body fwd@example.org "\"box@example.org\"")" &&
	json ".scimType == \"uniqueness\"" out &&
	expect_status 400 scim POST /Aliases "$(alias_body a@nowhere.example "\"box@example.org\"")" &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim POST /Aliases "$(alias_body "bad address" "\"box@example.org\"")" &&
	expect_status 400 scim POST /Aliases "$(alias_body ok@example.org "\"not an address\"")" &&
	expect_status 400 scim POST /Aliases "$(alias_body ok@example.org 42)" &&
	expect_status 400 scim POST /Aliases "{\"schemas\":[\"$A\"],\"goto\":\"box@example.org\"}" &&
	expect_status 400 scim POST /Aliases "{\"address\":\"ok@example.org\",\"goto\":\"box@example.org\"}" &&
	json ".scimType == \"invalidSyntax\"" out &&
	expect_status 201 scim POST /Aliases "$(alias_body one@tiny.org "\"box@example.org\"")" &&
	expect_status 400 scim POST /Aliases "$(alias_body two@tiny.org "\"box@example.org\"")" &&
	json ".scimType == \"tooMany\"" out
'

test_expect_success 'POST on a mailbox adds forwards and keeps a copy (= alias add)' '
	printf "pw-box-2\n" | postino user add box2@example.org --password-stdin >/dev/null &&
	expect_status 201 scim POST /Aliases "$(alias_body box@example.org "\"x@y.example\"")" &&
	json ".goto == \"box@example.org,x@y.example\"" out &&
	postino alias add box2@example.org x@y.example >/dev/null 2>&1 &&
	alias_state box@example.org >scim.state &&
	alias_state box2@example.org >cli.state &&
	diff -u cli.state scim.state
'

test_expect_success 'GET: list and one; a mailbox'"'"'s own alias row is not an alias' '
	printf "pw-plain\n" | postino user add plain@example.org --password-stdin >/dev/null &&
	expect_status 200 scim GET /Aliases &&
	json ".totalResults == 7" out &&
	! jq -r ".Resources[].id" out | grep -qx plain@example.org &&
	jq -r ".Resources[].id" out | grep -qx box@example.org &&
	expect_status 404 scim GET /Aliases/plain@example.org &&
	expect_status 200 scim GET /Aliases/fwd@example.org &&
	json ".goto == \"box@example.org,ext@other.example\"" out &&
	expect_status 404 scim GET /Aliases/ghost@example.org &&
	expect_status 404 scim GET /Aliases/not%20valid
'

test_expect_success 'alias filters' '
	expect_status 200 scim_get_q /Aliases "filter=address sw \"fwd\"" &&
	json ".totalResults == 2" out &&
	expect_status 200 scim_get_q /Aliases "filter=goto co \"EXT@other\" and active eq true" &&
	json ".totalResults == 2" out &&
	expect_status 200 scim_get_q /Aliases "filter=domain eq \"tiny.org\" or active eq false" &&
	json ".totalResults == 2" out &&
	expect_status 400 scim_get_q /Aliases "filter=userName eq \"x\"" &&
	json ".scimType == \"invalidFilter\"" out
'

test_expect_success 'PATCH goto = "postino alias edit"; active = "alias disable"' '
	expect_status 200 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"goto\",\"value\":\"box@example.org\"}")" &&
	json ".goto == \"box@example.org\"" out &&
	postino alias edit fwd2@example.org box@example.org >/dev/null &&
	expect_status 200 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":false}")" &&
	json ".active == false" out &&
	postino alias disable fwd2@example.org >/dev/null &&
	alias_state fwd@example.org >scim.state &&
	alias_state fwd2@example.org >cli.state &&
	diff -u cli.state scim.state
'

test_expect_success 'PATCH is atomic: a bad goto after active=true changes nothing' '
	n=$(sql "SELECT COUNT(*) FROM log") &&
	expect_status 400 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":true},{\"op\":\"replace\",\"path\":\"goto\",\"value\":\"not an address\"}")" &&
	json ".detail | test(\"operation 2\")" out &&
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'fwd@example.org'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log")" "$n"
'

test_expect_success 'PATCH errors: invalidPath, noTarget, 404' '
	expect_status 400 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"address\",\"value\":\"new@example.org\"}")" &&
	json ".scimType == \"invalidPath\"" out &&
	expect_status 400 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"remove\"}")" &&
	json ".scimType == \"noTarget\"" out &&
	expect_status 400 scim PATCH /Aliases/fwd@example.org "$(patch_body "{\"op\":\"remove\",\"path\":\"goto\"}")" &&
	expect_status 404 scim PATCH /Aliases/ghost@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":true}")"
'

test_expect_success 'DELETE /Aliases/{id} = "postino alias del"' '
	expect_status 204 scim DELETE /Aliases/fwd@example.org &&
	postino alias del fwd2@example.org --yes >/dev/null &&
	expect_status 404 scim GET /Aliases/fwd@example.org &&
	expect_status 404 scim DELETE /Aliases/fwd@example.org &&
	alias_state fwd@example.org >scim.state &&
	alias_state fwd2@example.org >cli.state &&
	diff -u cli.state scim.state &&
	check_grep delete_alias scim.state
'

test_expect_success 'DELETE on a mailbox removes its forwards only (= alias del)' '
	expect_status 204 scim DELETE /Aliases/box@example.org &&
	postino alias del box2@example.org --yes >/dev/null 2>&1 &&
	expect_status 404 scim GET /Aliases/box@example.org &&
	expect_status 404 scim DELETE /Aliases/box@example.org &&
	expect_status 404 scim DELETE /Aliases/plain@example.org &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'box@example.org'"'"'")" box@example.org &&
	alias_state box@example.org >scim.state &&
	alias_state box2@example.org >cli.state &&
	diff -u cli.state scim.state
'

test_expect_success 'GET /Domains: list, one, filters, 404; ALL is never shown' '
	sql "INSERT INTO domain (domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active) VALUES ('"'"'ALL'"'"', '"'"''"'"', 0, 0, 0, 0, '"'"''"'"', $(sql_true | sed s/true/false/ | sed s/1/0/), $(sql_true))" &&
	expect_status 200 scim GET /Domains &&
	json ".totalResults == 2 and ([.Resources[].id] == [\"example.org\", \"tiny.org\"])" out &&
	expect_status 200 scim GET /Domains/example.org &&
	json ".description == \"Example\" and .transport == \"virtual\" and .active == true and .meta.resourceType == \"Domain\"" out &&
	json ".schemas == [\"urn:postino:params:scim:schemas:core:2.0:Domain\"]" out &&
	expect_status 404 scim GET /Domains/ALL &&
	expect_status 404 scim GET /Domains/nowhere.example &&
	expect_status 200 scim_get_q /Domains "filter=maxAliases gt 0" &&
	json ".totalResults == 1 and .Resources[0].id == \"tiny.org\"" out &&
	expect_status 200 scim_get_q /Domains "filter=description co \"exam\"" &&
	json ".totalResults == 1" out &&
	expect_status 400 scim_get_q /Domains "filter=maxQuotaBytes gt 0" &&
	expect_status 405 scim PATCH /Domains/example.org "{}" &&
	expect_status 405 scim DELETE /Domains/example.org
'

test_expect_success 'ServiceProviderConfig' '
	expect_status 200 scim GET /ServiceProviderConfig &&
	grep -qi "^content-type: application/scim+json" hdr &&
	json ".patch.supported == true and .bulk.supported == false and .filter.supported == true" out &&
	json ".filter.maxResults == 200 and .sort.supported == true and .etag.supported == false" out &&
	json ".changePassword.supported == true and .authenticationSchemes[0].type == \"oauthbearertoken\"" out &&
	expect_status 404 scim GET /ServiceProviderConfig/x
'

test_expect_success 'ResourceTypes and /ResourceTypes/{id}' '
	expect_status 200 scim GET /ResourceTypes &&
	json ".totalResults == 3 and ([.Resources[].id] == [\"User\", \"Alias\", \"Domain\"])" out &&
	expect_status 200 scim GET /ResourceTypes/User &&
	json ".endpoint == \"/Users\" and .schema == \"urn:ietf:params:scim:schemas:core:2.0:User\"" out &&
	json ".schemaExtensions[0].schema == \"urn:postino:params:scim:schemas:extension:mailbox:2.0:User\"" out &&
	expect_status 200 scim GET /ResourceTypes/Alias &&
	json ".endpoint == \"/Aliases\"" out &&
	expect_status 404 scim GET /ResourceTypes/Group
'

test_expect_success 'Schemas and /Schemas/{id}' '
	expect_status 200 scim GET /Schemas &&
	json ".totalResults == 4" out &&
	expect_status 200 scim GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User &&
	json "[.attributes[].name] | index(\"userName\")" out &&
	json "(.attributes[] | select(.name == \"password\") | .returned) == \"never\"" out &&
	json "(.attributes[] | select(.name == \"userName\") | .uniqueness) == \"server\"" out &&
	expect_status 200 scim GET /Schemas/$A &&
	json "[.attributes[].name] == [\"address\", \"goto\", \"active\"]" out &&
	expect_status 404 scim GET /Schemas/urn:example:nope
'

test_expect_success 'discovery needs a token too' '
	check_eq "$(curl -s -o out -w "%{http_code}" "$BASE/scim/v2/ServiceProviderConfig")" 401
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
