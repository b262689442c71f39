#!/bin/sh
# engines: all
# [password] policy on the command line: "user add", "user passwd" and
# "import" (plain_password) refuse a password shorter than min_length (8
# by default), with fewer letters or digits than min_letters/min_digits;
# the message names the rule (and the key), never the password; nothing is
# written.  A pre-hashed import is not checked (there is no password).
. "$(dirname "$0")/../lib/test-lib.sh"
need_cmd jq doveadm

setup_postino
export POSTINO_BCRYPT_COST=4

# no_secret FILE WORD: FILE does not contain WORD.
no_secret() {
	if grep -F -- "$2" "$1" >&2; then
		echo "the password appears in $1" >&2
		return 1
	fi
}

test_setup 'a domain and one mailbox' '
	postino domain add example.org >/dev/null &&
	printf "Good-pass-1\n" | postino user add bob@example.org --password-stdin >/dev/null
'

test_expect_success 'user add: 7 characters refused by default (exit 4), nothing written' '
	expect_code 4 sh -c "printf \"Sh0rt-7\\n\" | postino user add al@example.org --password-stdin" >out 2>err &&
	check_grep "too short: it needs at least 8 characters (password.min_length)" err &&
	no_secret err Sh0rt-7 && no_secret out Sh0rt-7 &&
	expect_code 1 postino user show al@example.org &&
	test ! -e "$MAIL_ROOT/example.org/al" &&
	printf "Eight-ch\n" | postino user add al@example.org --password-stdin >/dev/null
'

test_expect_success 'user add: a one-letter password, the case Python postino took' '
	expect_code 4 sh -c "printf \"x\\n\" | postino user add one@example.org --password-stdin" 2>err &&
	check_grep "password.min_length" err &&
	expect_code 1 postino user show one@example.org
'

test_expect_success 'characters, not bytes: 8 two-byte letters pass, 4 do not' '
	printf "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\n" |
		postino user add utf@example.org --password-stdin >/dev/null &&
	expect_code 4 sh -c "printf \"\\303\\251\\303\\251\\303\\251\\303\\251\\n\" | postino user add utf2@example.org --password-stdin" 2>err &&
	check_grep "password.min_length" err
'

test_expect_success 'user passwd: refused, the old password still verifies' '
	before=$(sql "SELECT password FROM mailbox WHERE username = '"'"'bob@example.org'"'"'") &&
	expect_code 4 sh -c "printf \"abc\\n\" | postino user passwd bob@example.org --password-stdin" 2>err &&
	check_grep "password.min_length" err &&
	check_eq "$(sql "SELECT password FROM mailbox WHERE username = '"'"'bob@example.org'"'"'")" "$before" &&
	doveadm -O pw -t "$before" -p Good-pass-1 >/dev/null
'

test_expect_success 'min_letters and min_digits, as PostfixAdmin'"'"'s password_validation' '
	cat >>"$POSTINO_CONFIG" <<-EOC &&
	[password]
	min_length = 5
	min_letters = 3
	min_digits = 2
	EOC
	expect_code 4 sh -c "printf \"ab-12345\\n\" | postino user passwd bob@example.org --password-stdin" 2>err &&
	check_grep "too few letters: it needs at least 3 of a-z, A-Z (password.min_letters)" err &&
	no_secret err ab-12345 &&
	expect_code 4 sh -c "printf \"abcdef-1\\n\" | postino user passwd bob@example.org --password-stdin" 2>err &&
	check_grep "too few digits: it needs at least 2 of 0-9 (password.min_digits)" err &&
	printf "abc12\n" | postino user passwd bob@example.org --password-stdin >/dev/null &&
	POSTINO_PASSWORD_MIN_LENGTH=6 expect_code 4 sh -c "printf \"abc12\\n\" | postino user passwd bob@example.org --password-stdin" 2>err &&
	check_grep "at least 6 characters" err &&
	postino config show --json >cfg &&
	json "map(select(.name == \"password.min_digits\"))[0].value == \"2\"" cfg
'

test_expect_success 'import: a short plain_password fails the whole import, naming the line' '
	sed -i "/^\[password\]$/,\$d" "$POSTINO_CONFIG" &&
	{
		echo "{\"type\":\"postino-export\",\"version\":1}"
		echo "{\"type\":\"domain\",\"domain\":\"imp.example\"}"
		echo "{\"type\":\"mailbox\",\"username\":\"ok@imp.example\",\"plain_password\":\"Long-enough-1\"}"
		echo "{\"type\":\"mailbox\",\"username\":\"weak@imp.example\",\"plain_password\":\"weak\"}"
	} >imp.jsonl &&
	expect_code 4 postino import imp.jsonl >out 2>err &&
	check_grep "imp.jsonl:4: the plain_password of .weak@imp.example.: the password is too short" err &&
	no_secret err "\"weak\"" &&
	expect_code 1 postino domain show imp.example &&
	sed -i "s/\"weak\"}/\"Now-long-enough\"}/" imp.jsonl &&
	postino import imp.jsonl >/dev/null &&
	hash=$(sql "SELECT password FROM mailbox WHERE username = '"'"'weak@imp.example'"'"'") &&
	doveadm -O pw -t "$hash" -p Now-long-enough >/dev/null
'

test_expect_success 'import: a pre-hashed password is taken as it is' '
	h=$(doveadm pw -s SHA512-CRYPT -p abc) &&
	{
		echo "{\"type\":\"postino-export\",\"version\":1}"
		echo "{\"type\":\"mailbox\",\"username\":\"pre@imp.example\",\"password\":\"$h\"}"
	} >pre.jsonl &&
	postino import pre.jsonl >/dev/null &&
	check_eq "$(sql "SELECT password FROM mailbox WHERE username = '"'"'pre@imp.example'"'"'")" "$h"
'

test_expect_success 'a policy out of range is a configuration error' '
	POSTINO_PASSWORD_MIN_LENGTH=0 expect_code 4 postino domain list 2>err &&
	check_grep "POSTINO_PASSWORD_MIN_LENGTH" err
'

test_done
