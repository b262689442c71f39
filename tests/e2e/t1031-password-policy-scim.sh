#!/bin/sh
# engines: all
# [password] policy through SCIM: a POST, PUT or PATCH whose password the
# policy refuses is a 400 with scimType invalidValue, its detail naming the
# rule and never the password; nothing is written.  (The Zitadel webhook
# never sets passwords, so it has nothing to check.)
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

U=urn:ietf:params:scim:schemas:core:2.0:User
P=urn:ietf:params:scim:api:messages:2.0:PatchOp

# refused DETAIL_PATTERN SECRET: the last answer is SCIM's invalidValue
# error naming the rule, without the password.
refused() {
	json ".status == \"400\" and .scimType == \"invalidValue\"" out &&
	check_grep "$1" out &&
	if grep -F -- "$2" out >&2; then
		echo "the password appears in the answer" >&2
		return 1
	fi &&
	if grep -F -- "$2" "$TEST_DIR/postinod.log" >&2; then
		echo "the password appears in the log" >&2
		return 1
	fi
}

hash_of() {
	sql "SELECT password FROM mailbox WHERE username = '$1'"
}

test_setup 'start postinod (hybrid), min_digits = 1' '
	printf "[password]\nmin_digits = 1\n" >>"$POSTINO_CONFIG" &&
	start_jwks && start_postinod &&
	postino domain add example.org >/dev/null &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'POST /Users with a 5-character password: 400 invalidValue, no mailbox' '
	expect_status 400 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"s1@example.org\",\"password\":\"Sh0rt\"}" &&
	refused "at least 8 characters (password.min_length)" Sh0rt &&
	expect_code 1 postino user show s1@example.org &&
	expect_status 201 scim POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"s1@example.org\",\"password\":\"Long-en0ugh\"}"
'

test_expect_success 'PATCH password: 400 invalidValue, the hash unchanged' '
	before=$(hash_of s1@example.org) &&
	expect_status 400 scim PATCH /Users/s1@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"password\",\"value\":\"no-digits-here\"}]}" &&
	refused "too few digits: it needs at least 1 of 0-9 (password.min_digits)" no-digits-here &&
	check_eq "$(hash_of s1@example.org)" "$before" &&
	expect_status 200 scim PATCH /Users/s1@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"password\",\"value\":\"digits-here-1\"}]}" &&
	test "$(hash_of s1@example.org)" != "$before"
'

test_expect_success 'PATCH with a short password and a name: neither applied' '
	expect_status 400 scim PATCH /Users/s1@example.org "{\"schemas\":[\"$P\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"Renamed\"},{\"op\":\"replace\",\"value\":{\"password\":\"x1\"}}]}" &&
	refused "password.min_length" "\"x1\"" &&
	postino user show s1@example.org --json >u.json &&
	json ".name != \"Renamed\"" u.json
'

test_expect_success 'PUT with a short password: 400 invalidValue' '
	before=$(hash_of s1@example.org) &&
	expect_status 400 scim PUT /Users/s1@example.org "{\"schemas\":[\"$U\"],\"userName\":\"s1@example.org\",\"active\":true,\"password\":\"Tiny-1\"}" &&
	refused "password.min_length" Tiny-1 &&
	check_eq "$(hash_of s1@example.org)" "$before"
'

test_done
