#!/bin/sh
# engines: all
# The IdP subject -> mailbox table (postino_identity): created by the
# schema, written by import, shown by user show, kept through user rename,
# gone with user del and domain del --force, exported and re-imported, and
# checked by check --deep (rows without a mailbox, a mailbox claimed twice).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check

q() {
	printf "'%s'" "$1"
}

ids_of() {
	sql "SELECT issuer, subject FROM postino_identity WHERE username = $(q "$1") ORDER BY issuer"
}

HDR='{"type":"postino-export","version":1}'

test_expect_success 'the schema has postino_identity' '
	check_eq "$(sql "SELECT COUNT(*) FROM postino_identity")" 0
'

test_expect_success 'import ties the identities of a new mailbox to it' '
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"carol@example.org\",\"plain_password\":\"pw-carol-1\",\"identities\":\"zitadel:27182 1001 scim ext%20carol%25\"}"
	} >in.jsonl &&
	postino import in.jsonl >/dev/null &&
	check_eq "$(ids_of carol@example.org)" "$(printf "scim\text carol%%\nzitadel:27182\t1001")"
'

test_expect_success 'user show lists them; --json as identities' '
	postino user show carol@example.org >show.txt &&
	check_grep "^identity  scim ext carol%" show.txt &&
	check_grep "^identity  zitadel:27182 1001" show.txt &&
	postino user show --json carol@example.org >show.json &&
	json ".identities | length == 2" show.json &&
	json ".identities[1].issuer == \"zitadel:27182\" and .identities[1].subject == \"1001\"" show.json &&
	postino user show --json alice@example.org >alice.json &&
	json ".identities == []" alice.json
'

test_expect_success 'import --update replaces the subject of one issuer' '
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"carol@example.org\",\"identities\":\"scim ext-2\"}"
	} >up.jsonl &&
	postino import --update up.jsonl >/dev/null &&
	check_eq "$(ids_of carol@example.org)" "$(printf "scim\text-2\nzitadel:27182\t1001")"
'

test_expect_success 'a subject that belongs to another mailbox is refused' '
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"alice@example.org\",\"identities\":\"zitadel:27182 1001\"}"
	} >clash.jsonl &&
	! postino import --update clash.jsonl 2>err &&
	check_grep "already belongs to the mailbox .carol@example.org." err &&
	check_eq "$(ids_of alice@example.org)" ""
'

test_expect_success 'export writes them; the export imports back' '
	postino export -o all.jsonl &&
	grep "\"carol@example.org\"" all.jsonl >line &&
	json ".identities == \"scim ext-2 zitadel:27182 1001\"" line &&
	postino export --format csv >all.csv &&
	head -1 all.csv | grep -q ",identities$" &&
	sql "DELETE FROM postino_identity" &&
	postino import --update all.jsonl >/dev/null &&
	check_eq "$(ids_of carol@example.org)" "$(printf "scim\text-2\nzitadel:27182\t1001")"
'

test_expect_success 'user rename keeps them' '
	postino user rename carol@example.org carola@example.org >/dev/null &&
	check_eq "$(ids_of carola@example.org)" "$(printf "scim\text-2\nzitadel:27182\t1001")" &&
	check_eq "$(ids_of carol@example.org)" ""
'

test_expect_success 'check --deep is clean with them' '
	expect_clean --deep
'

test_expect_success 'check --deep: a row whose mailbox is gone' '
	sql "INSERT INTO postino_identity (issuer, subject, username, created) VALUES ($(q scim), $(q ghost-1), $(q ghost@example.org), $(q "2026-01-01 00:00:00"))" &&
	expect_finding identity_rows=warn -- --deep &&
	finding_message identity_rows | grep -q "ghost@example.org" &&
	sql "DELETE FROM postino_identity WHERE username = $(q ghost@example.org)" &&
	expect_clean --deep
'

test_expect_success 'check --deep: a mailbox claimed by two subjects of one issuer' '
	sql "DROP INDEX postino_identity_username_idx" 2>/dev/null ||
	sql "DROP INDEX postino_identity_username_idx ON postino_identity" &&
	sql "INSERT INTO postino_identity (issuer, subject, username, created) VALUES ($(q scim), $(q other), $(q carola@example.org), $(q "2026-01-01 00:00:00"))" &&
	expect_finding identity_claims=error -- --deep &&
	finding_message identity_claims | grep -q "carola@example.org" &&
	sql "DELETE FROM postino_identity WHERE subject = $(q other)"
'

test_expect_success 'user del removes them' '
	postino user del --yes carola@example.org >/dev/null &&
	check_eq "$(sql "SELECT COUNT(*) FROM postino_identity")" 0
'

test_expect_success 'domain del --force removes those of its mailboxes' '
	{
		echo "$HDR" &&
		echo "{\"type\":\"mailbox\",\"username\":\"bob@example.org\",\"identities\":\"scim bob\"}" &&
		echo "{\"type\":\"domain\",\"domain\":\"other.org\"}" &&
		echo "{\"type\":\"mailbox\",\"username\":\"x@other.org\",\"plain_password\":\"pw-x-1-secret\",\"identities\":\"scim x\"}"
	} >more.jsonl &&
	postino import --update more.jsonl >/dev/null &&
	check_eq "$(sql "SELECT COUNT(*) FROM postino_identity")" 2 &&
	postino domain del --force --yes example.org >/dev/null &&
	check_eq "$(sql "SELECT username FROM postino_identity")" x@other.org
'

test_done
