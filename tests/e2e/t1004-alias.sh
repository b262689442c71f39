#!/bin/sh
# engines: all
# postino alias ...: several destinations, catch-alls, PostfixAdmin's
# vacation entries kept on edit, limits, mailbox self-aliases.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino

test_expect_success 'setup' '
	postino domain add example.com --max-aliases 3 >/dev/null &&
	printf "x-secret\n" | postino user add foo@example.com --password-stdin >/dev/null
'

test_expect_success 'alias add (README example)' '
	postino alias add info@example.com forwarded@elsewhere.test --json >out &&
	json ".address == \"info@example.com\" and .goto == \"forwarded@elsewhere.test\" and .domain == \"example.com\" and .status == 1" out &&
	check_eq "$(sql "SELECT data FROM log WHERE action = '"'"'create_alias'"'"'")" "info@example.com->forwarded@elsewhere.test"
'

test_expect_success 'several destinations: comma list or arguments, normalised' '
	postino alias add team@example.com "A@X.test, b@y.test" c@z.test A@x.test --json >out &&
	json ".goto == \"a@x.test,b@y.test,c@z.test\"" out
'

test_expect_success 'catch-all @domain works (the original tool crashed here)' '
	postino alias add @example.com foo@example.com --json >out &&
	json ".address == \"@example.com\"" out &&
	postino alias show @example.com --json >out &&
	json ".goto == \"foo@example.com\"" out
'

test_expect_success 'the alias limit counts aliases, not mailbox self-aliases' '
	expect_code 3 postino alias add more@example.com foo@example.com 2>err &&
	check_grep "3 of 3 aliases" err
'

test_expect_success 'list hides mailbox self-aliases unless --mailboxes' '
	postino alias list --json >out &&
	json "map(.address) == [\"@example.com\", \"info@example.com\", \"team@example.com\"]" out &&
	postino alias list --mailboxes --json >out &&
	json "map(.address) | index(\"foo@example.com\") != null" out &&
	postino alias list --domain example.com >out &&
	check_grep "^info@example.com " out
'

test_expect_success 'invalid input exits 4: bad address, bad destination, no destination' '
	expect_code 4 postino alias add "bad address@example.com" foo@example.com &&
	expect_code 4 postino alias add x@example.com "not an address" &&
	expect_code 4 postino alias add x@example.com "," &&
	expect_code 4 postino alias add "x;DROP@example.com" foo@example.com &&
	expect_code 64 postino alias add x@example.com
'

test_expect_success 'unknown domain exits 1; duplicate exits 2' '
	expect_code 1 postino alias add a@nothere.example foo@example.com &&
	expect_code 2 postino alias add INFO@example.com x@y.test 2>err &&
	check_grep "alias edit" err
'

test_expect_success 'edit replaces destinations and keeps a vacation entry' '
	sql "UPDATE alias SET goto = '"'"'foo@example.com,foo#example.com@autoreply.change-this-to-your.domain.tld'"'"' WHERE address = '"'"'foo@example.com'"'"'" &&
	postino alias edit foo@example.com foo@example.com,copy@elsewhere.test --json >out &&
	json ".goto == \"foo@example.com,copy@elsewhere.test,foo#example.com@autoreply.change-this-to-your.domain.tld\"" out &&
	expect_code 1 postino alias edit nothere@example.com x@y.test
'

test_expect_success 'disable/enable/del with audit rows' '
	postino alias disable info@example.com &&
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'info@example.com'"'"'")" 0 &&
	postino alias enable info@example.com &&
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'info@example.com'"'"'")" 1 &&
	postino alias del info@example.com --yes &&
	expect_code 1 postino alias show info@example.com &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action IN ('"'"'create_alias'"'"','"'"'edit_alias'"'"','"'"'delete_alias'"'"','"'"'edit_alias_state'"'"')")" 7
'

test_expect_success 'alias del on a mailbox removes its forwards, keeps vacation' '
	postino alias del foo@example.com --yes 2>err &&
	check_grep "forwards were removed" err &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'foo@example.com'"'"'")" "foo@example.com,foo#example.com@autoreply.change-this-to-your.domain.tld" &&
	postino user show foo@example.com >/dev/null
'

test_expect_success 'alias add on a mailbox forwards and keeps a copy (postino README)' '
	printf "x-secret\n" | postino user add bar@example.com --password-stdin >/dev/null &&
	postino alias add bar@example.com forwarded@elsewhere.test --json >out 2>err &&
	json ".goto == \"bar@example.com,forwarded@elsewhere.test\"" out &&
	check_grep "stays in the mailbox too" err &&
	postino alias disable bar@example.com && postino alias enable bar@example.com &&
	postino alias del bar@example.com --yes &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'bar@example.com'"'"'")" bar@example.com &&
	expect_code 1 postino alias del bar@example.com --yes 2>err &&
	check_grep "no forwards" err
'

test_done
