#!/bin/sh
# engines: all
# SCIM /Users end to end: create, read, PATCH (atomic), delete, the
# identity-backend rules (claim and release under hybrid, refusals under
# local and noauth), and that every mutation leaves the same rows,
# maildirs and audit entries as the equivalent postino command.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

U=urn:ietf:params:scim:schemas:core:2.0:User
P=urn:ietf:params:scim:api:messages:2.0:PatchOp
X=urn:postino:params:scim:schemas:extension:mailbox:2.0:User

# user_body ADDRESS [NAME [PASSWORD]]
user_body() {
	printf '{"schemas":["%s"],"userName":"%s"' "$U" "$1"
	[ $# -ge 2 ] && printf ',"name":{"formatted":"%s"}' "$2"
	[ $# -ge 3 ] && printf ',"password":"%s"' "$3"
	printf '}'
}

# patch_body OP...: each OP is a JSON operation object.
patch_body() {
	printf '{"schemas":["%s"],"Operations":[' "$P"
	_sep=
	for _o in "$@"; do
		printf '%s%s' "$_sep" "$_o"
		_sep=,
	done
	printf ']}'
}

test_setup 'start postinod (hybrid)' '
	start_jwks && start_postinod &&
	postino domain add example.org >/dev/null &&
	postino domain add small.org --max-mailboxes 1 >/dev/null &&
	postino domain add q.org --max-quota 10M >/dev/null &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'POST /Users with a password: 201, Location, no password echoed' '
	expect_status 201 scim POST /Users "$(user_body scim1@example.org "Same Name" pw-one-1)" &&
	grep -qi "^location: http://127.0.0.1:$PORT/scim/v2/Users/scim1@example.org" hdr &&
	json ".meta.location == \"http://127.0.0.1:$PORT/scim/v2/Users/scim1@example.org\"" out &&
	grep -qi "^content-type: application/scim+json" hdr &&
	json ".id == \"scim1@example.org\" and .userName == \"scim1@example.org\" and .active == true" out &&
	json ".name.formatted == \"Same Name\" and .emails[0].value == \"scim1@example.org\"" out &&
	json ".[\"$X\"].idpManaged == false and .meta.resourceType == \"User\"" out &&
	! grep -q password out && ! grep -q pw-one-1 out
'

test_expect_success '... leaves the rows, maildir and audit of "postino user add"' '
	printf "pw-one-1\n" | postino user add cli1@example.org --name "Same Name" \
		--password-stdin >/dev/null &&
	mailbox_state scim1@example.org >scim.state &&
	mailbox_state cli1@example.org >cli.state &&
	test_cmp_state() { diff -u cli.state scim.state; } && test_cmp_state &&
	check_grep "create_mailbox" scim.state &&
	check_eq "$(sql "SELECT username FROM log WHERE data = '"'"'scim1@example.org'"'"' AND action = '"'"'create_mailbox'"'"'")" provisioner
'

test_expect_success 'POST without a password makes an IdP-managed mailbox' '
	expect_status 201 scim POST /Users "$(user_body idp1@example.org "Ida P")" &&
	json ".[\"$X\"].idpManaged == true" out &&
	check_eq "$(sql "SELECT password FROM mailbox WHERE username = '"'"'idp1@example.org'"'"'")" "{NOAUTH}" &&
	test -d "$MAIL_ROOT/example.org/idp1"
'

test_expect_success 'POST: givenName/familyName, active=false and a quota are honoured' '
	expect_status 201 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"Mixed.Case@Example.ORG\",\"name\":{\"givenName\":\"Gina\",\"familyName\":\"Given\"},\"active\":false,\"$X\":{\"quotaBytes\":1048576}}" &&
	json ".id == \"mixed.case@example.org\" and .name.formatted == \"Gina Given\" and .active == false" out &&
	json ".[\"$X\"].quotaBytes == 1048576" out
'

test_expect_success 'POST errors: duplicate 409, bad values 400, full domain 400 tooMany' '
	expect_status 409 scim POST /Users "$(user_body scim1@example.org)" &&
	json ".scimType == \"uniqueness\" and .status == \"409\"" out &&
	expect_status 400 scim POST /Users "$(user_body nobody@nowhere.example)" &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim POST /Users "$(user_body not-an-address)" &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim POST /Users "{\"userName\":\"x@example.org\"}" &&
	json ".scimType == \"invalidSyntax\"" out &&
	expect_status 400 scim POST /Users "{\"schemas\":[\"$U\"]}" &&
	expect_status 400 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"t@example.org\",\"active\":\"maybe\"}" &&
	expect_status 400 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"t@example.org\",\"password\":42}" &&
	expect_status 400 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"t@example.org\",\"$X\":{\"quotaBytes\":-1}}" &&
	expect_status 201 scim POST /Users "$(user_body one@small.org)" &&
	expect_status 400 scim POST /Users "$(user_body two@small.org)" &&
	json ".scimType == \"tooMany\"" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username LIKE '"'"'t@%'"'"' OR username = '"'"'two@small.org'"'"'")" 0
'

test_expect_success 'GET /Users/{id}: 200, and 404 for unknown or invalid ids' '
	expect_status 200 scim GET /Users/scim1@example.org &&
	json ".userName == \"scim1@example.org\"" out &&
	expect_status 200 scim GET /Users/SCIM1@EXAMPLE.ORG &&
	expect_status 404 scim GET /Users/ghost@example.org &&
	json ".status == \"404\" and (.schemas | index(\"urn:ietf:params:scim:api:messages:2.0:Error\"))" out &&
	expect_status 404 scim GET /Users/not-an-address
'

test_expect_success 'PATCH name.formatted = "postino user name"' '
	expect_status 200 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"name.formatted\",\"value\":\"Renamed\"}")" &&
	json ".name.formatted == \"Renamed\"" out &&
	postino user name cli1@example.org Renamed >/dev/null &&
	mailbox_state scim1@example.org >scim.state &&
	mailbox_state cli1@example.org >cli.state &&
	diff -u cli.state scim.state
'

test_expect_success 'PATCH active=false (Entra style, no path) = "postino user disable"' '
	expect_status 200 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"Replace\",\"value\":{\"active\":\"False\"}}")" &&
	json ".active == false" out &&
	postino user disable cli1@example.org &&
	mailbox_state scim1@example.org >scim.state &&
	mailbox_state cli1@example.org >cli.state &&
	diff -u cli.state scim.state &&
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'scim1@example.org'"'"'")" 0
'

test_expect_success 'PATCH with several operations applies them all' '
	expect_status 200 scim PATCH /Users/scim1@example.org "$(patch_body \
		"{\"op\":\"replace\",\"path\":\"active\",\"value\":true}" \
		"{\"op\":\"add\",\"value\":{\"name\":{\"formatted\":\"Both\"},\"$X\":{\"quotaBytes\":2048000}}}")" &&
	json ".active == true and .name.formatted == \"Both\" and .[\"$X\"].quotaBytes == 2048000" out
'

test_expect_success 'PATCH is atomic: a failing second operation undoes the first' '
	expect_status 201 scim POST /Users "$(user_body atom@q.org "Before" pw-atom-1)" &&
	logs=$(sql "SELECT COUNT(*) FROM log") &&
	expect_status 400 scim PATCH /Users/atom@q.org "$(patch_body \
		"{\"op\":\"replace\",\"path\":\"name.formatted\",\"value\":\"After\"}" \
		"{\"op\":\"replace\",\"path\":\"$X:quotaBytes\",\"value\":52428800}")" &&
	json ".scimType == \"tooMany\" and (.detail | test(\"operation 2\"))" out &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'atom@q.org'"'"'")" Before &&
	check_eq "$(sql "SELECT COUNT(*) FROM log")" "$logs" "audit rows"
'

test_expect_success 'PATCH is atomic across backends rules too (release under a hash + bad quota)' '
	expect_status 400 scim PATCH /Users/atom@q.org "$(patch_body \
		"{\"op\":\"remove\",\"path\":\"password\"}" \
		"{\"op\":\"replace\",\"path\":\"$X:quotaBytes\",\"value\":52428800}")" &&
	check_eq "$(sql "SELECT CASE WHEN password = '"'"'{NOAUTH}'"'"' THEN 1 ELSE 0 END FROM mailbox WHERE username = '"'"'atom@q.org'"'"'")" 0
'

test_expect_success 'PATCH errors: invalidPath, mutability, noTarget, invalidSyntax, 404' '
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"frobnicate\",\"value\":\"x\"}")" &&
	json ".scimType == \"invalidPath\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"frob[type eq \\\"work\\\"].value\",\"value\":\"x@example.org\"}")" &&
	json ".scimType == \"invalidPath\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"new@example.org\"}")" &&
	json ".scimType == \"mutability\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"remove\"}")" &&
	json ".scimType == \"noTarget\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "{\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]}" &&
	json ".scimType == \"invalidSyntax\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"frobnicate\",\"path\":\"active\",\"value\":true}")" &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":3}")" &&
	json ".scimType == \"invalidValue\"" out &&
	expect_status 400 scim PATCH /Users/scim1@example.org "$(patch_body)" &&
	expect_status 404 scim PATCH /Users/ghost@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":true}")"
'

test_expect_success 'hybrid: PATCH password claims an IdP-managed mailbox (= user passwd --claim)' '
	expect_status 201 scim POST /Users "$(user_body idp2@example.org "Claim Me")" &&
	expect_status 200 scim PATCH /Users/idp2@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"new-pw-12\"}")" &&
	json ".[\"$X\"].idpManaged == false" out &&
	! grep -q new-pw-12 out &&
	check_grep "claimed idp2@example.org into SQL auth" "$TEST_DIR/postinod.log" &&
	sql "SELECT password FROM mailbox WHERE username = '"'"'idp2@example.org'"'"'" | grep -q "^{BLF-CRYPT}" &&
	check_eq "$(sql "SELECT action FROM log WHERE data = '"'"'idp2@example.org'"'"' ORDER BY id DESC LIMIT 1")" edit_password &&
	expect_status 201 scim POST /Users "$(user_body idp3@example.org "Claim Me")" &&
	printf "new-pw-12\n" | postino user passwd idp3@example.org --claim --password-stdin >/dev/null 2>&1 &&
	mailbox_state idp2@example.org >scim.state &&
	mailbox_state idp3@example.org >cli.state &&
	diff -u cli.state scim.state
'

test_expect_success 'hybrid: PATCH remove password releases it (= user release)' '
	expect_status 200 scim PATCH /Users/idp2@example.org "$(patch_body "{\"op\":\"remove\",\"path\":\"password\"}")" &&
	json ".[\"$X\"].idpManaged == true" out &&
	postino user release idp3@example.org >/dev/null 2>&1 &&
	mailbox_state idp2@example.org >scim.state &&
	mailbox_state idp3@example.org >cli.state &&
	diff -u cli.state scim.state &&
	check_grep "U released" scim.state
'

test_expect_success 'hybrid: replace password with null or "" also releases; twice is a no-op' '
	expect_status 200 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"password\",\"value\":null}")" &&
	json ".[\"$X\"].idpManaged == true" out &&
	n=$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_mailbox'"'"' AND data LIKE '"'"'% released'"'"'") &&
	expect_status 200 scim PATCH /Users/scim1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"\"}")" &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_mailbox'"'"' AND data LIKE '"'"'% released'"'"'")" "$n"
'

test_expect_success 'DELETE /Users/{id}: 204, rows gone, maildir kept (= user del --keep-maildir)' '
	expect_status 201 scim POST /Users "$(user_body gone@example.org "Gone" pw-gone-1)" &&
	printf "pw-gone-1\n" | postino user add gone2@example.org --name Gone --password-stdin >/dev/null &&
	expect_status 204 scim DELETE /Users/gone@example.org &&
	test ! -s out &&
	postino user del gone2@example.org --keep-maildir --yes &&
	expect_status 404 scim GET /Users/gone@example.org &&
	expect_status 404 scim DELETE /Users/gone@example.org &&
	mailbox_state gone@example.org >scim.state &&
	mailbox_state gone2@example.org >cli.state &&
	diff -u cli.state scim.state &&
	check_grep delete_mailbox scim.state &&
	test -d "$MAIL_ROOT/example.org/gone"
'

test_expect_success 'a control byte in a path id is 400 for every method, never truncated' '
	expect_status 201 scim POST /Users "$(user_body victim@example.org "Victim" pw-victim-1)" &&
	for m in GET DELETE; do
		expect_status 400 scim $m "/Users/victim@example.org%00.evil" &&
		json ".status == \"400\"" out || return 1
	done &&
	expect_status 400 scim PATCH "/Users/victim@example.org%00.evil" "$(patch_body "{\"op\":\"replace\",\"path\":\"active\",\"value\":false}")" &&
	expect_status 400 scim PUT "/Users/victim@example.org%00.evil" "$(user_body victim@example.org)" &&
	expect_status 400 scim DELETE "/Users/victim@example.org%0a" &&
	expect_status 400 scim DELETE "/Users/victim@example.org%7F" &&
	expect_status 400 scim DELETE "/Aliases/victim@example.org%00x" &&
	expect_status 200 scim GET /Users/victim@example.org &&
	json ".active == true" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'victim@example.org'"'"'")" 1
'

test_expect_success 'concurrent requests on the pool: 40 creates and reads in parallel' '
	for i in $(seq 1 40); do echo $i; done |
	xargs -P 8 -I{} sh -c "curl -s -o /dev/null -w \"%{http_code}\n\" -X POST \
		-H \"Authorization: Bearer $TOKEN\" -H \"Content-Type: application/scim+json\" \
		--data-binary \"{\\\"schemas\\\":[\\\"$U\\\"],\\\"userName\\\":\\\"par{}@example.org\\\"}\" \
		$BASE/scim/v2/Users; curl -s -o /dev/null -w \"%{http_code}\n\" \
		-H \"Authorization: Bearer $TOKEN\" $BASE/scim/v2/Users/par{}@example.org" >codes &&
	check_eq "$(sort codes | uniq -c | tr -s " ")" "$(printf " 40 200\n 40 201")" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username LIKE '"'"'par%'"'"'")" 40
'

test_setup 'restart under identity_backend=noauth' '
	stop_postinod && start_postinod POSTINO_IDENTITY_BACKEND=noauth
'

test_expect_success 'noauth: passwords are refused (403 mutability), provisioning works' '
	expect_status 403 scim POST /Users "$(user_body na1@example.org "N A" some-pw-1)" &&
	json ".scimType == \"mutability\" and .status == \"403\"" out &&
	expect_status 201 scim POST /Users "$(user_body na1@example.org "N A")" &&
	json ".[\"$X\"].idpManaged == true" out &&
	expect_status 403 scim PATCH /Users/na1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"x-pw-123\"}")" &&
	json ".scimType == \"mutability\"" out &&
	expect_status 403 scim PATCH /Users/na1@example.org "$(patch_body "{\"op\":\"remove\",\"path\":\"password\"}")" &&
	expect_status 200 scim GET /ServiceProviderConfig &&
	json ".changePassword.supported == false" out
'

test_setup 'restart under identity_backend=local' '
	stop_postinod && start_postinod POSTINO_IDENTITY_BACKEND=local \
		POSTINO_DEFAULT_QUOTA_BYTES=5120000
'

test_expect_success 'local: a password is required, release is refused' '
	expect_status 403 scim POST /Users "$(user_body lo1@example.org "L O")" &&
	json ".scimType == \"mutability\"" out &&
	expect_status 201 scim POST /Users "$(user_body lo1@example.org "L O" local-pw-1)" &&
	json ".[\"$X\"].quotaBytes == 5120000" out &&
	expect_status 403 scim PATCH /Users/lo1@example.org "$(patch_body "{\"op\":\"remove\",\"path\":\"password\"}")" &&
	expect_status 200 scim PATCH /Users/lo1@example.org "$(patch_body "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"local-pw-2\"}")"
'

test_setup 'restart with a maildir base that cannot be made' '
	stop_postinod && : >"$TEST_DIR/not-a-dir" &&
	start_postinod POSTINO_IDENTITY_BACKEND=local \
		POSTINO_VIRTUAL_MAILBOX_BASE="$TEST_DIR/not-a-dir/mail"
'

test_expect_success 'a filesystem failure is 500 "internal error"; nothing is left' '
	expect_status 500 scim POST /Users "$(user_body fs@example.org "F S" fs-pw-123)" &&
	json ".status == \"500\" and .detail == \"internal error\"" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'fs@example.org'"'"'")" 0 &&
	check_grep "error: scim: POST /scim/v2/Users" "$TEST_DIR/postinod.log"
'

test_setup 'restart with a failing post-creation hook' '
	stop_postinod &&
	printf "#!/bin/sh\necho no >&2\nexit 3\n" >"$TEST_DIR/bad-hook" &&
	chmod +x "$TEST_DIR/bad-hook" &&
	start_postinod POSTINO_IDENTITY_BACKEND=local \
		POSTINO_POSTCREATION_HOOK="$TEST_DIR/bad-hook"
'

test_expect_success 'a failing hook is 500 and the mailbox is taken back (as the CLI does)' '
	expect_status 500 scim POST /Users "$(user_body hook@example.org "H K" hook-pw-12)" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'hook@example.org'"'"'")" 0 &&
	check_eq "$(sql "SELECT action FROM log WHERE data LIKE '"'"'hook@example.org%'"'"' ORDER BY id DESC LIMIT 1")" \
		delete_mailbox
'

test_expect_success 'meta.location is absolute, from Host (RFC 7643 3.1)' '
	expect_status 200 curl -s -o out -w "%{http_code}" -H "Host: idp.example.net:9443" \
		-H "Authorization: Bearer $TOKEN" "$BASE/scim/v2/Users?count=1" &&
	json ".Resources[0].meta.location | startswith(\"http://idp.example.net:9443/scim/v2/Users/\")" out &&
	expect_status 200 curl -s -o out -w "%{http_code}" -H "Host: a/b<c>" \
		-H "Authorization: Bearer $TOKEN" "$BASE/scim/v2/ServiceProviderConfig" &&
	json ".meta.location == \"http://127.0.0.1:$PORT/scim/v2/ServiceProviderConfig\"" out
'

test_setup 'restart with public_url' '
	stop_postinod &&
	start_postinod POSTINOD_PUBLIC_URL=https://mail.example.org/idp/
'

test_expect_success 'public_url is the base of meta.location and Location' '
	expect_status 200 scim GET "/Users?count=1" &&
	json ".Resources[0].meta.location | startswith(\"https://mail.example.org/idp/scim/v2/Users/\")" out &&
	expect_status 201 scim POST /Users "$(user_body pub@example.org "P U" pub-pw-123)" &&
	grep -qi "^location: https://mail.example.org/idp/scim/v2/Users/pub@example.org" hdr &&
	json ".meta.location == \"https://mail.example.org/idp/scim/v2/Users/pub@example.org\"" out
'

# A list without attributes= is written directly (jsonw.h), with it
# through jansson trees: the two must give the same bytes, escapes and
# non-ASCII included.
cat >esc.json <<\EOF
{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
 "userName":"esc@example.org","password":"esc-pw-1234",
 "externalId":"ext \"q\" \\ 1/2",
 "name":{"formatted":"Q \"uote\" back\\slash / M\u00fcller \u20ac \ud83d\ude00"}}
EOF
cat >esc.jq <<\EOF
.Resources[0].externalId == "ext \"q\" \\ 1/2" and
.Resources[0].name.formatted == "Q \"uote\" back\\slash / M\u00fcller \u20ac \ud83d\ude00"
EOF
test_expect_success 'a list is the same bytes written directly and through jansson' '
	expect_status 201 scim POST /Users "$(cat esc.json)" &&
	sql "UPDATE mailbox SET name = '"'"'$(printf "c\001t\tl\037n\177 \342\200\250 x")'"'"' WHERE username = '"'"'idp1@example.org'"'"'" &&
	for q in "count=200" "startIndex=2&count=3" "filter=userName%20sw%20%22e%22" \
		"filter=name.formatted%20co%20%22%C3%BC%22" "count=0"; do
		expect_status 200 scim GET "/Users?$q" && mv out direct &&
		expect_status 200 scim GET "/Users?$q&excludedAttributes=nickName" &&
		cmp direct out || return 1
	done &&
	expect_status 200 scim GET "/Users?filter=userName%20eq%20%22idp1@example.org%22" &&
	json ".Resources[0].name.formatted == \"c\u0001t\tl\u001fn\u007f \u2028 x\"" out &&
	grep -q "c.u0001t.tl.u001Fn" out &&
	expect_status 200 scim GET "/Users?filter=userName%20eq%20%22esc@example.org%22" &&
	json "$(cat esc.jq)" out
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
