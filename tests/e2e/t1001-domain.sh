#!/bin/sh
# engines: all
# postino domain ...: the postino README's examples, PostfixAdmin's units
# and the ALL row, deletion with and without --force.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino

test_expect_success 'domain add with every postino flag (README example)' '
	postino domain add example.com \
		--description "Example domain" \
		--max-mailboxes 100 \
		--max-aliases 200 \
		--default-quota 5G \
		--max-quota 50G \
		--transport virtual --json >out &&
	json ".domain == \"example.com\" and .description == \"Example domain\" and .max_mailboxes == 100 and .max_aliases == 200 and .default_quota_bytes == 5368709120 and .transport == \"virtual\" and .status == 1 and .backupmx == false" out
'

test_expect_success 'the row is what PostfixAdmin expects (maxquota in MB units)' '
	check_eq "$(sql "SELECT domain, description, aliases, mailboxes, maxquota, transport, backupmx, active FROM domain WHERE domain = '"'"'example.com'"'"'")" \
		"$(printf "example.com\tExample domain\t200\t100\t52429\tvirtual\t0\t1")"
'

test_expect_success 'the audit row is written with the actor' '
	check_eq "$(sql "SELECT username, domain, action, data FROM log WHERE action = '"'"'create_domain'"'"'")" \
		"$(printf "%s\texample.com\tcreate_domain\texample.com" "$(id -un)")"
'

test_expect_success 'names are lower-cased; duplicates exit 2' '
	expect_code 2 postino domain add EXAMPLE.com 2>err &&
	check_grep "already exists" err
'

test_expect_success 'invalid domain names exit 4 naming the field' '
	expect_code 64 postino domain add -bad.com 2>err &&
	check_grep "unknown option .-b" err &&
	for d in "exa mple.com" "-bad.com" "nodot" "a..b" "ex_ample.com" \
		"$(printf "%070d.com" 0)" "bücher.de" "1.2.3.4" "x.com;DROP TABLE domain"; do
		expect_code 4 postino domain add -- "$d" 2>err || exit 1
		check_grep "invalid domain" err || exit 1
	done &&
	check_eq "$(sql "SELECT COUNT(*) FROM domain")" 1
'

test_expect_success 'the PostfixAdmin ALL row cannot be created, is never listed' '
	expect_code 4 postino domain add ALL 2>err &&
	check_grep "super-admin" err &&
	sql "INSERT INTO domain (domain, description, transport) VALUES ('"'"'ALL'"'"', '"'"''"'"', '"'"''"'"')" &&
	postino domain list --json >out &&
	json "map(.domain) == [\"example.com\"]" out &&
	expect_code 1 postino domain show ALL
'

test_expect_success 'transport lmtp is stored with lmtp_destination' '
	postino domain add lmtp.example --transport lmtp --json >out &&
	json ".transport == \"lmtp\"" out &&
	check_eq "$(sql "SELECT transport FROM domain WHERE domain = '"'"'lmtp.example'"'"'")" "lmtp:unix:private/dovecot-lmtp" &&
	postino domain add relay.example --transport "smtp:[mx.relay.example]:25" --backupmx --json >out &&
	json ".transport == \"smtp:[mx.relay.example]:25\" and .backupmx == true" out &&
	expect_code 4 postino domain add bad.example --transport "sm tp" 2>err
'

test_expect_success 'bad quota and limit values exit 4 naming the flag' '
	expect_code 4 postino domain add q.example --max-quota 1.5G 2>err &&
	check_grep "max-quota" err &&
	expect_code 4 postino domain add q.example --default-quota 99999999999T 2>err &&
	check_grep "too large" err &&
	expect_code 4 postino domain add q.example --max-mailboxes -5 2>err &&
	expect_code 10 postino domain add q.example --max-quota 1G --default-quota 2G 2>err &&
	check_grep "default quota exceeds" err &&
	expect_code 1 postino domain show q.example
'

test_expect_success 'list: table for people, JSON for scripts' '
	postino domain list >out &&
	check_grep "^domain " out &&
	check_grep "^example.com " out &&
	postino domain list --json >out &&
	json "length == 3" out
'

test_expect_success 'disable and enable' '
	postino domain disable example.com &&
	check_eq "$(sql "SELECT active FROM domain WHERE domain = '"'"'example.com'"'"'")" 0 &&
	postino domain show example.com --json >out && json ".status == 0" out &&
	postino domain enable example.com &&
	check_eq "$(sql "SELECT active FROM domain WHERE domain = '"'"'example.com'"'"'")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_domain'"'"' AND data LIKE '"'"'example.com=%'"'"'")" 2 &&
	expect_code 1 postino domain disable nothere.example
'

test_expect_success 'del of a non-empty domain refuses (exit 3) and lists counts' '
	printf "pw-secret\n" | postino user add a@example.com --password-stdin >/dev/null &&
	expect_code 3 postino domain del example.com --yes 2>err &&
	check_grep "1 mailboxes" err &&
	check_grep "[-]-force" err &&
	test -d "$MAIL_ROOT/example.com/a"
'

test_expect_success 'del without --yes and no terminal: nothing deleted' '
	expect_code 1 postino domain del lmtp.example </dev/null 2>err &&
	check_grep "not confirmed" err &&
	postino domain show lmtp.example >/dev/null
'

test_expect_success 'del --force removes rows and maildirs atomically' '
	postino alias add info@example.com a@example.com >/dev/null &&
	postino domain add other.example >/dev/null &&
	postino domain alias add other.example --target example.com >/dev/null &&
	postino domain del example.com --yes --force &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'example.com'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE domain = '"'"'example.com'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias_domain")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM quota2")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM domain WHERE domain = '"'"'example.com'"'"'")" 0 &&
	! test -e "$MAIL_ROOT/example.com" &&
	test -z "$(ls -A "$MAIL_ROOT")" &&
	check_grep "force=true" "$(sql "SELECT data FROM log WHERE action = '"'"'delete_domain'"'"'" >del.log; echo del.log)"
'

test_expect_success 'del --keep-maildir leaves the files' '
	postino domain add keep.example >/dev/null &&
	printf "pw-secret\n" | postino user add k@keep.example --password-stdin >/dev/null &&
	postino domain del keep.example --yes --force --keep-maildir &&
	test -d "$MAIL_ROOT/keep.example/k/cur"
'

test_expect_success 'del of an unknown domain exits 1' '
	expect_code 1 postino domain del nothere.example --yes
'

test_done
