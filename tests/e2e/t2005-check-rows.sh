#!/bin/sh
# engines: all
# postino check --deep, row probes: mailbox_domain_fk, alias_domain_fk,
# quota2_pairing, quota2_orphans, mailbox_self_alias, self_alias_orphans,
# alias_destinations, alias_domain_chain, alias_domain_refs, domain_limits,
# mailbox_maxquota, domain_quota_total.  Rows are broken behind postino's
# back (as PostfixAdmin or a hand-written script could), one at a time.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
T=$(sql_true)

# sql_nofk STMT: run STMT with PostgreSQL's foreign keys out of the way,
# the way a damaged or hand-edited database ends up.
sql_nofk() {
	case $POSTINO_TEST_ENGINE in
	pgsql) sql "SET session_replication_role = replica; $1" ;;
	*) sql "$1" ;;
	esac
}

q() {
	printf "'%s'" "$1"
}

test_expect_success 'mailbox_domain_fk: a mailbox of a domain that does not exist' '
	check_breaks mailbox_domain_fk=error -- \
		"sql_nofk \"UPDATE mailbox SET domain = $(q gone.example) WHERE username = $(q bob@example.org)\"" \
		"sql_nofk \"UPDATE mailbox SET domain = $(q example.org) WHERE username = $(q bob@example.org)\"" \
		--deep
'

test_expect_success 'alias_domain_fk: an alias of a domain that does not exist' '
	check_breaks alias_domain_fk=error -- \
		"sql_nofk \"INSERT INTO alias (address, goto, domain, active) VALUES ($(q x@gone.example), $(q alice@example.org), $(q gone.example), $T)\"" \
		"sql \"DELETE FROM alias WHERE address = $(q x@gone.example)\"" \
		--deep
'

test_expect_success 'quota2_pairing: a mailbox without its quota2 row is information' '
	sql "DELETE FROM quota2 WHERE username = $(q bob@example.org)" &&
	expect_clean --deep &&
	finding_message quota2_pairing | grep -q "bob@example.org" &&
	sql "INSERT INTO quota2 (username, bytes, messages) VALUES ($(q bob@example.org), 0, 0)" &&
	expect_clean --deep &&
	check_eq "$(finding_message quota2_pairing)" "every mailbox has a quota2 row"
'

test_expect_success 'quota2_orphans: a quota2 row without its mailbox' '
	check_breaks quota2_orphans=warn -- \
		"sql \"INSERT INTO quota2 (username, bytes, messages) VALUES ($(q ghost@example.org), 5, 1)\"" \
		"sql \"DELETE FROM quota2 WHERE username = $(q ghost@example.org)\"" \
		--deep
'

break_self="sql \"DELETE FROM alias WHERE address = $(q bob@example.org)\""
fix_self="sql \"INSERT INTO alias (address, goto, domain, active) VALUES ($(q bob@example.org), $(q bob@example.org), $(q example.org), $T)\""

test_expect_success 'mailbox_self_alias: a mailbox without its self-alias (warn)' '
	check_breaks mailbox_self_alias=warn -- "$break_self" "$fix_self" --deep
'

test_expect_success 'mailbox_self_alias: ... that a catch-all swallows (error)' '
	postino alias add @example.org alice@example.org >/dev/null &&
	check_breaks mailbox_self_alias=error -- "$break_self" "$fix_self" --deep &&
	eval "$break_self" && run_check --deep; eval "$fix_self" &&
	finding_message mailbox_self_alias | grep -q "catch-all" &&
	postino alias del @example.org --yes
'

test_expect_success 'self_alias_orphans: a self-alias whose mailbox is gone' '
	check_breaks self_alias_orphans=warn -- \
		"sql \"INSERT INTO alias (address, goto, domain, active) VALUES ($(q gone@example.org), $(q gone@example.org,alice@example.org), $(q example.org), $T)\"" \
		"sql \"DELETE FROM alias WHERE address = $(q gone@example.org)\"" \
		--deep
'

test_expect_success 'alias_destinations: forwards to local addresses that do not exist' '
	postino alias add fwd@example.org alice+tag@example.org,bob@example.net,someone@remote.example >/dev/null &&
	expect_clean --deep &&
	check_breaks alias_destinations=error -- \
		"sql \"UPDATE alias SET goto = $(q alice@example.org,nobody@example.org,nobody@example.net,x@remote.example) WHERE address = $(q fwd@example.org)\"" \
		"sql \"UPDATE alias SET goto = $(q alice@example.org) WHERE address = $(q fwd@example.org)\"" \
		--deep &&
	sql "UPDATE alias SET goto = $(q nobody@example.org,nobody@example.net,x@remote.example) WHERE address = $(q fwd@example.org)" &&
	run_check --deep &&
	finding_message alias_destinations >msg &&
	check_grep "^2 alias destinations" msg &&
	check_grep "nobody@example.org" msg && check_grep "nobody@example.net" msg &&
	! grep -q remote.example msg &&
	postino alias del fwd@example.org --yes
'

test_expect_success 'alias_destinations: a disabled alias is not judged' '
	postino alias add off@example.org alice@example.org >/dev/null &&
	sql "UPDATE alias SET goto = $(q nobody@example.org) WHERE address = $(q off@example.org)" &&
	postino alias disable off@example.org &&
	expect_clean --deep &&
	postino alias del off@example.org --yes
'

test_expect_success 'alias_domain_chain: an alias domain of an alias domain' '
	postino domain add example.com >/dev/null &&
	check_breaks alias_domain_chain=error -- \
		"sql \"INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES ($(q example.com), $(q example.net), $T)\"" \
		"sql \"DELETE FROM alias_domain WHERE alias_domain = $(q example.com)\"" \
		--deep &&
	postino domain del example.com --yes
'

test_expect_success 'alias_domain_refs: an alias domain that is not a domain' '
	check_breaks alias_domain_refs=error -- \
		"sql_nofk \"INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES ($(q nowhere.example), $(q example.org), $T)\"" \
		"sql \"DELETE FROM alias_domain WHERE alias_domain = $(q nowhere.example)\"" \
		--deep
'

test_expect_success 'domain_limits: more mailboxes than the domain allows' '
	postino domain add small.example --max-mailboxes 2 >/dev/null &&
	printf "pw-secret\n" | postino user add u1@small.example --password-stdin >/dev/null &&
	printf "pw-secret\n" | postino user add u2@small.example --password-stdin >/dev/null &&
	check_breaks domain_limits=warn -- \
		"sql \"UPDATE domain SET mailboxes = 1 WHERE domain = $(q small.example)\"" \
		"sql \"UPDATE domain SET mailboxes = 2 WHERE domain = $(q small.example)\"" \
		--deep
'

test_expect_success 'domain_limits: aliases where none are allowed (self-aliases do not count)' '
	check_breaks domain_limits=warn -- \
		"sql \"UPDATE domain SET aliases = -1 WHERE domain = $(q example.org)\"" \
		"sql \"UPDATE domain SET aliases = 0 WHERE domain = $(q example.org)\"" \
		--deep &&
	sql "UPDATE domain SET aliases = -1 WHERE domain = $(q small.example)" &&
	expect_clean --deep &&
	sql "UPDATE domain SET aliases = 0 WHERE domain = $(q small.example)"
'

test_expect_success 'mailbox_maxquota: unlimited mailboxes in a domain with a maximum' '
	check_breaks mailbox_maxquota=warn -- \
		"sql \"UPDATE domain SET maxquota = 1 WHERE domain = $(q example.org)\"" \
		"sql \"UPDATE domain SET maxquota = 0 WHERE domain = $(q example.org)\"" \
		--deep
'

test_expect_success 'mailbox_maxquota: a quota above the maximum' '
	postino user quota u1@small.example --set 50M >/dev/null &&
	check_breaks mailbox_maxquota=warn -- \
		"sql \"UPDATE domain SET maxquota = 10 WHERE domain = $(q small.example)\"" \
		"sql \"UPDATE domain SET maxquota = 0 WHERE domain = $(q small.example)\"" \
		--deep
'

test_expect_success 'domain_quota_total: mailbox quotas beyond the domain total' '
	check_breaks domain_quota_total=warn -- \
		"sql \"UPDATE domain SET quota = 1 WHERE domain = $(q example.org)\"" \
		"sql \"UPDATE domain SET quota = 0 WHERE domain = $(q example.org)\"" \
		--deep
'

test_done
