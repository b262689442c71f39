#!/bin/sh
# engines: all
# postino check, password probes: password_noauth ({NOAUTH} rows under
# identity_backend=local, local hashes under noauth), password_empty,
# password_unprefixed and the password_schemes census of weak hashes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check

# Restore bob's real hash after each break.
test_setup 'remember the stored hash' '
	BOB_HASH=$(sql "SELECT password FROM mailbox WHERE username = '"'"'bob@example.org'"'"'") &&
	test -n "$BOB_HASH" && export BOB_HASH
'

# set_bob VALUE: store VALUE as bob's password, as SQL text.
set_bob() {
	printf "UPDATE mailbox SET password = '%s' WHERE username = 'bob@example.org';\n" \
		"$(printf '%s' "$1" | sed "s/'/''/g")" >"$TEST_DIR/set.sql" &&
	sql_file "$TEST_DIR/set.sql"
}

test_expect_success 'password_noauth: {NOAUTH} rows under identity_backend=local' '
	check_breaks password_noauth=error -- "set_bob \"{NOAUTH}\"" \
		"set_bob \"\$BOB_HASH\"" &&
	set_bob "{NOAUTH}" && run_check; set_bob "$BOB_HASH" &&
	finding_message password_noauth | grep -q "bob@example.org"
'

test_expect_success 'password_noauth: {NOAUTH} rows are fine under hybrid' '
	toml_set identity_backend "\"hybrid\"" && set_bob "{NOAUTH}" &&
	expect_clean; rc=$?
	set_bob "$BOB_HASH"; toml_unset identity_backend; exit $rc
'

test_expect_success 'password_noauth: local hashes under identity_backend=noauth' '
	check_breaks password_noauth=warn -- \
		"toml_set identity_backend \"\\\"noauth\\\"\"" \
		"toml_unset identity_backend"
'

test_expect_success 'password_empty: an empty password' '
	check_breaks password_empty=error -- "set_bob \"\"" \
		"set_bob \"\$BOB_HASH\""
'

test_expect_success 'password_unprefixed: a hash without its {SCHEME}' '
	check_breaks password_unprefixed=warn -- \
		"set_bob \"\$(printf %s \"\$BOB_HASH\" | sed \"s/^{[A-Z0-9-]*}//\")\"" \
		"set_bob \"\$BOB_HASH\""
'

test_expect_success 'password_schemes: MD5-CRYPT is counted as weak' '
	check_breaks password_schemes=warn -- \
		"set_bob \"{MD5-CRYPT}\\\$1\\\$saltsalt\\\$0123456789abcdefghijkl\"" \
		"set_bob \"\$BOB_HASH\"" &&
	set_bob "{MD5-CRYPT}\$1\$saltsalt\$0123456789abcdefghijkl" && run_check;
	set_bob "$BOB_HASH" &&
	finding_message password_schemes >msg &&
	check_grep "^1 of 2 password hashes use weak schemes (MD5-CRYPT 1)" msg &&
	check_grep "bob@example.org" msg
'

test_expect_success 'password_schemes: a census per weak scheme' '
	set_bob "{PLAIN}hunter2" &&
	sql "UPDATE mailbox SET password = '"'"'{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M='"'"' WHERE username = '"'"'alice@example.org'"'"'" &&
	run_check; rc=$CHECK_RC
	set_bob "$BOB_HASH" &&
	printf "secret-1\n" | postino user passwd alice@example.org --password-stdin &&
	check_eq "$rc" 0 "exit code" &&
	check_eq "$(check_problems)" password_schemes=warn problems &&
	finding_message password_schemes >msg &&
	check_grep "2 of 2 password hashes use weak schemes (PLAIN 1, SHA 1)" msg &&
	! grep -q hunter2 check.json &&
	expect_clean
'

test_expect_success 'password_schemes: strong schemes are an info census' '
	run_check &&
	finding_message password_schemes | grep -q "^2 password hashes: BLF-CRYPT 2$"
'

test_done
