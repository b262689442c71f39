#!/bin/sh
# engines: all
# The usage examples of the original postino README, verbatim, in order.
# Passwords are typed at the prompt through a pseudo-terminal.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
export POSTINO_BCRYPT_COST=4

# type PASSWORD CMD...: run CMD on a terminal, answering both prompts.
type_pw() {
	pw=$1
	shift
	tty_answer "$TEST_DIR/typed.out" "$*" "$pw" "$pw"
	_rc=$?
	cat "$TEST_DIR/typed.out"
	return $_rc
}

test_expect_success 'domain examples' '
	postino domain add example.com \
		--description "Example domain" \
		--max-mailboxes 100 \
		--max-aliases 200 \
		--default-quota 5G \
		--max-quota 50G \
		--transport virtual &&
	postino domain list &&
	postino domain enable example.com &&
	postino domain disable example.com &&
	postino domain enable example.com
'

test_expect_success 'user examples' '
	type_pw "Foo pass 1" postino user add foo@example.com \
		--name "\"Foo Bar\"" \
		--quota 5G \
		--scheme BLF-CRYPT >out 2>&1 &&
	check_grep "foo@example.com" out &&
	postino user list --domain example.com &&
	postino user list --all &&
	postino user show foo@example.com &&
	type_pw "Foo pass 2" postino user passwd foo@example.com >out 2>&1 &&
	postino user enable foo@example.com &&
	postino user disable foo@example.com &&
	postino user enable foo@example.com &&
	postino user quota foo@example.com --set 10G
'

test_expect_success 'alias examples' '
	postino alias add foo@example.com forwarded@elsewhere.test &&
	postino alias list --domain example.com &&
	postino alias enable foo@example.com &&
	postino alias disable foo@example.com &&
	postino alias enable foo@example.com &&
	postino alias del foo@example.com --yes
'

test_expect_success 'alias domain examples' '
	postino domain add aliasdom.it && postino domain add target.com &&
	postino domain add other.com &&
	postino domain alias add aliasdom.it --target target.com &&
	postino domain alias list &&
	postino domain alias list --all &&
	postino domain alias list --target target.com &&
	postino domain alias show aliasdom.it &&
	postino domain alias retarget aliasdom.it --target other.com &&
	postino domain alias disable aliasdom.it &&
	postino domain alias enable aliasdom.it &&
	postino domain alias del aliasdom.it --yes
'

test_expect_success 'quota, status and JSON examples' '
	postino quota show foo@example.com &&
	postino quota show &&
	postino status &&
	postino user list --domain example.com --json | jq -e ".[] | .username" &&
	postino check --json >check.json &&
	json ".ok == true" check.json
'

test_expect_success 'user del --keep-maildir; domain del refuses a non-empty domain' '
	postino user del foo@example.com --keep-maildir --yes &&
	test -d "$MAIL_ROOT/example.com/foo" &&
	postino domain del example.com --yes
'

test_done
