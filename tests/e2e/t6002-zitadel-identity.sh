#!/bin/sh
# engines: all
# Zitadel Actions v2 as Zitadel really sends them (internal/execution's
# ContextInfoEvent, signed as pkg/actions/signing.go does): the person is
# the aggregateID, tied to the mailbox by user.human.added; deactivate,
# reactivate and remove come without event_payload, a profile change with
# only the changed names.  Two people in the same second, a redelivery, an
# event before its create, a base64 payload, machine users, a rename.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools

send() {
	zitadel --secret "$HMAC_SECRET" "$@" >reply &&
	cut -d" " -f1 reply
}

q() {
	printf "'%s'" "$1"
}

active_of() {
	sql "SELECT active FROM mailbox WHERE username = $(q "$1")"
}

name_of() {
	sql "SELECT name FROM mailbox WHERE username = $(q "$1")"
}

owner_of() {
	sql "SELECT username FROM postino_identity WHERE issuer = $(q zitadel:27182) AND subject = $(q "$1")"
}

test_setup 'start postinod' '
	postino domain add example.org >/dev/null &&
	start_jwks && start_postinod
'

test_expect_success 'user.human.added creates the mailbox and ties the Zitadel user id to it' '
	check_eq "$(send --type user.human.added --subject 300001 --creator 1 --seq 1 --email erin@example.org --first Erin --last Example)" 200 &&
	check_eq "$(name_of erin@example.org)" "Erin Example" &&
	check_eq "$(owner_of 300001)" erin@example.org &&
	postino user show erin@example.org >show &&
	check_grep "^identity  zitadel:27182 300001" show
'

test_expect_success 'profile.changed with only lastName keeps the first name' '
	check_eq "$(send --type user.human.profile.changed --subject 300001 --creator 1 --seq 2 --last Smith)" 200 &&
	check_eq "$(name_of erin@example.org)" "Erin Smith" &&
	check_eq "$(send --type user.human.profile.changed --subject 300001 --creator 300001 --seq 3 --first Erina)" 200 &&
	check_eq "$(name_of erin@example.org)" "Erina Smith"
'

test_expect_success 'user.deactivated without event_payload disables it' '
	check_eq "$(send --type user.deactivated --subject 300001 --creator 1 --seq 4 --no-payload)" 200 &&
	check_eq "$(active_of erin@example.org)" 0
'

test_expect_success 'user.reactivated enables it' '
	check_eq "$(send --type user.reactivated --subject 300001 --creator 1 --seq 5 --no-payload)" 200 &&
	check_eq "$(active_of erin@example.org)" 1
'

test_expect_success 'user.removed disables it and keeps mail and the tie' '
	check_eq "$(send --type user.removed --subject 300001 --creator 1 --seq 6 --no-payload)" 200 &&
	check_eq "$(active_of erin@example.org)" 0 &&
	test -d "$MAIL_ROOT/example.org/erin" &&
	check_eq "$(owner_of 300001)" erin@example.org
'

test_expect_success 'two people deactivated in the same second by one admin: both apply' '
	check_eq "$(send --type user.human.added --subject 300002 --creator 1 --seq 1 --email frank@example.org --first Frank)" 200 &&
	check_eq "$(send --type user.human.added --subject 300003 --creator 1 --seq 1 --email gina@example.org --first Gina)" 200 &&
	when=$(date -u +%Y-%m-%dT%H:%M:%S.5Z) &&
	check_eq "$(send --type user.deactivated --subject 300002 --creator 1 --seq 2 --no-payload --created "$when")" 200 &&
	check_eq "$(send --type user.deactivated --subject 300003 --creator 1 --seq 2 --no-payload --created "$when")" 200 &&
	! grep -q duplicate reply &&
	check_eq "$(active_of frank@example.org)" 0 &&
	check_eq "$(active_of gina@example.org)" 0 &&
	echo "$when" >when
'

test_expect_success 'a redelivery of the same event is a duplicate' '
	postino user enable gina@example.org &&
	check_eq "$(send --type user.deactivated --subject 300003 --creator 1 --seq 2 --no-payload --created "$(cat when)")" 200 &&
	grep -q duplicate reply &&
	check_eq "$(active_of gina@example.org)" 1
'

test_expect_success 'an event before its create: 404, not recorded; after the create it applies' '
	when=$(date -u +%Y-%m-%dT%H:%M:%S.25Z) &&
	check_eq "$(send --type user.deactivated --subject 300004 --creator 1 --seq 3 --no-payload --created "$when")" 404 &&
	grep -q "300004" reply &&
	check_eq "$(send --type user.human.added --subject 300004 --creator 1 --seq 1 --email hank@example.org --first Hank)" 200 &&
	check_eq "$(active_of hank@example.org)" 1 &&
	check_eq "$(send --type user.deactivated --subject 300004 --creator 1 --seq 3 --no-payload --created "$when")" 200 &&
	! grep -q duplicate reply &&
	check_eq "$(active_of hank@example.org)" 0
'

test_expect_success 'a redelivered create is a duplicate, whatever the mailbox is called now' '
	postino user rename hank@example.org henry@example.org >/dev/null &&
	check_eq "$(send --type user.human.added --subject 300004 --creator 1 --seq 1 --email hank@example.org --first Hank)" 200 &&
	grep -q duplicate reply &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = $(q hank@example.org)")" 0 &&
	check_eq "$(owner_of 300004)" henry@example.org &&
	check_eq "$(send --type user.reactivated --subject 300004 --creator 1 --seq 4 --no-payload)" 200 &&
	check_eq "$(active_of henry@example.org)" 1
'

test_expect_success 'a base64 event_payload (older Zitadel) is decoded' '
	check_eq "$(send --type user.human.profile.changed --subject 300002 --creator 1 --seq 3 --last Fox --base64)" 200 &&
	check_eq "$(name_of frank@example.org)" "Frank Fox" &&
	check_eq "$(send --type user.human.selfregistered --subject 300005 --creator 300005 --seq 1 --email ivy@example.org --first Ivy --base64)" 200 &&
	check_eq "$(owner_of 300005)" ivy@example.org
'

test_expect_success 'an existing mailbox is adopted; one tied to another person is 409' '
	printf "pw-jo-1-secret\n" | postino user add jo@example.org --password-stdin >/dev/null &&
	check_eq "$(send --type user.human.added --subject 300006 --creator 1 --seq 1 --email jo@example.org --first Jo)" 200 &&
	check_eq "$(owner_of 300006)" jo@example.org &&
	check_eq "$(send --type user.human.added --subject 300007 --creator 1 --seq 1 --email jo@example.org --first Jo)" 409 &&
	check_eq "$(owner_of 300007)" ""
'

test_expect_success 'machine users have no mailbox: ignored' '
	check_eq "$(send --type user.machine.added --subject 300008 --creator 1 --seq 1)" 200 &&
	grep -q ignored reply
'

test_expect_success 'another Zitadel instance is another issuer' '
	check_eq "$(send --type user.deactivated --instance 99 --subject 300002 --creator 1 --seq 9 --no-payload)" 404 &&
	check_eq "$(active_of frank@example.org)" 0
'

test_expect_success 'user del removes the tie; later events for it are 404' '
	postino user del --yes frank@example.org >/dev/null &&
	check_eq "$(owner_of 300002)" "" &&
	check_eq "$(send --type user.reactivated --subject 300002 --creator 1 --seq 10 --no-payload)" 404
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'postinod stopped cleanly, without sanitizer reports' '
	postinod_log_clean
'

test_done
