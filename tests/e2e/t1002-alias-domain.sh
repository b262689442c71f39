#!/bin/sh
# engines: all
# postino domain alias ...: PostfixAdmin parity rules (no self-alias, no
# chains either way, both ends exist, no duplicates), also on retarget.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino

test_expect_success 'setup domains' '
	for d in target.com other.com aliasdom.it second.it third.it; do
		postino domain add $d >/dev/null || exit 1
	done
'

test_expect_success 'add (README example) and show' '
	postino domain alias add aliasdom.it --target target.com --json >out &&
	json ".alias_domain == \"aliasdom.it\" and .target_domain == \"target.com\" and .status == 1" out &&
	postino domain alias show aliasdom.it --json >out &&
	json ".target_domain == \"target.com\"" out &&
	check_eq "$(sql "SELECT data FROM log WHERE action = '"'"'create_alias_domain'"'"'")" "aliasdom.it->target.com"
'

test_expect_success 'self-alias is a rule violation (exit 10)' '
	expect_code 10 postino domain alias add second.it --target second.it 2>err &&
	check_grep "itself" err
'

test_expect_success 'both ends must exist (exit 1)' '
	expect_code 1 postino domain alias add nothere.it --target target.com 2>err &&
	check_grep "postino domain add nothere.it" err &&
	expect_code 1 postino domain alias add second.it --target nothere.com
'

test_expect_success 'duplicate exits 2' '
	expect_code 2 postino domain alias add aliasdom.it --target other.com 2>err &&
	check_grep "already exists" err
'

test_expect_success 'chain: target already an alias (exit 10)' '
	expect_code 10 postino domain alias add second.it --target aliasdom.it 2>err &&
	check_grep "chained" err
'

test_expect_success 'chain: source already a target (exit 10)' '
	expect_code 10 postino domain alias add target.com --target other.com 2>err &&
	check_grep "chained" err
'

test_expect_success 'list, --target, --all' '
	postino domain alias add second.it --target other.com >/dev/null &&
	postino domain alias disable second.it &&
	postino domain alias list --json >out &&
	json "map(.alias_domain) == [\"aliasdom.it\"]" out &&
	postino domain alias list --all --json >out &&
	json "map(.alias_domain) == [\"aliasdom.it\", \"second.it\"]" out &&
	postino domain alias list --all --target other.com --json >out &&
	json "map(.alias_domain) == [\"second.it\"]" out &&
	postino domain alias enable second.it &&
	check_eq "$(sql "SELECT active FROM alias_domain WHERE alias_domain = '"'"'second.it'"'"'")" 1
'

test_expect_success 'retarget works and re-checks every rule' '
	postino domain alias retarget aliasdom.it --target other.com --json >out &&
	json ".target_domain == \"other.com\"" out &&
	expect_code 10 postino domain alias retarget aliasdom.it --target aliasdom.it &&
	expect_code 10 postino domain alias retarget aliasdom.it --target second.it 2>err &&
	check_grep "chained" err &&
	expect_code 1 postino domain alias retarget nothere.it --target other.com &&
	expect_code 1 postino domain alias retarget aliasdom.it --target nothere.com &&
	check_eq "$(sql "SELECT target_domain FROM alias_domain WHERE alias_domain = '"'"'aliasdom.it'"'"'")" other.com
'

test_expect_success 'retarget refuses when something already targets the alias' '
	# A chain PostfixAdmin data could hold (postino itself never makes one).
	postino domain alias add third.it --target target.com >/dev/null &&
	sql "UPDATE alias_domain SET target_domain = '"'"'aliasdom.it'"'"' WHERE alias_domain = '"'"'third.it'"'"'" &&
	expect_code 10 postino domain alias retarget aliasdom.it --target target.com 2>err &&
	check_grep "target of another alias domain" err &&
	check_eq "$(sql "SELECT target_domain FROM alias_domain WHERE alias_domain = '"'"'aliasdom.it'"'"'")" other.com
'

test_expect_success 'del' '
	postino domain alias del third.it --yes &&
	expect_code 1 postino domain alias show third.it &&
	expect_code 1 postino domain alias del third.it --yes
'

test_done
