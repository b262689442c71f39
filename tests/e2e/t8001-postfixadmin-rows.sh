#!/bin/sh
# engines: all
# A database shared with PostfixAdmin: postino writes the rows the way
# PostfixAdmin's own handlers do, and accepts what PostfixAdmin leaves
# behind.  The PostfixAdmin side is played here with SQL shaped after its
# MailboxHandler/AliasHandler; t8002 drives PostfixAdmin's PHP itself.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
T=$(sql_true)
F=$(case $POSTINO_TEST_ENGINE in pgsql) echo false ;; *) echo 0 ;; esac)

q() {
	printf "'%s'" "$1"
}

alias_active() {
	sql "SELECT active FROM alias WHERE address = $(q "$1")"
}

test_expect_success 'user disable/enable switch the alias row whatever its goto' '
	sql "UPDATE alias SET goto = $(q alice@example.org,alice#example.org@autoreply.example.org) WHERE address = $(q alice@example.org)" &&
	postino user disable alice@example.org >/dev/null &&
	check_eq "$(alias_active alice@example.org)" 0 &&
	postino user enable alice@example.org >/dev/null &&
	check_eq "$(alias_active alice@example.org)" 1
'

test_expect_success 'user enable after PostfixAdmin disabled the mailbox' '
	sql "UPDATE alias SET goto = $(q bob@example.org,bob@remote.example) WHERE address = $(q bob@example.org)" &&
	sql "UPDATE mailbox SET active = $F WHERE username = $(q bob@example.org)" &&
	sql "UPDATE alias SET active = $F WHERE address = $(q bob@example.org)" &&
	postino user enable bob@example.org >/dev/null &&
	check_eq "$(alias_active bob@example.org)" 1
'

test_expect_success 'check --deep: an active mailbox with an inactive alias row' '
	check_breaks self_alias_state=error -- \
		"sql \"UPDATE alias SET active = $F WHERE address = $(q bob@example.org)\"" \
		"sql \"UPDATE alias SET active = $T WHERE address = $(q bob@example.org)\"" \
		--deep
'

test_expect_success 'check --deep: a disabled mailbox whose alias row still forwards' '
	check_breaks self_alias_state=warn -- \
		"sql \"UPDATE mailbox SET active = $F WHERE username = $(q bob@example.org)\"" \
		"sql \"UPDATE mailbox SET active = $T WHERE username = $(q bob@example.org)\"" \
		--deep
'

# expiry_days USER: whole days from the database's now to the mailbox's
# password_expiry.
expiry_days() {
	case $POSTINO_TEST_ENGINE in
	sqlite) sql "SELECT CAST(round(julianday(password_expiry) - julianday('now')) AS INTEGER) FROM mailbox WHERE username = $(q "$1")" ;;
	mysql) sql "SELECT ROUND(TIMESTAMPDIFF(SECOND, NOW(), password_expiry) / 86400) FROM mailbox WHERE username = $(q "$1")" ;;
	pgsql) sql "SELECT round(extract(epoch FROM password_expiry - now()) / 86400) FROM mailbox WHERE username = $(q "$1")" ;;
	esac
}

# The passdb query PostfixAdmin documents for Dovecot (DOCUMENTS/DOVECOT.txt).
pfa_passdb() {
	now="now()"
	[ "$POSTINO_TEST_ENGINE" = sqlite ] && now="datetime('now')"
	sql "SELECT m.username FROM mailbox m JOIN domain d ON d.domain = m.domain WHERE m.username = $(q "$1") AND m.active = $T AND (m.password_expiry > $now OR d.password_expiry = 0)"
}

test_expect_success 'user add and passwd set password_expiry to now + the domain days' '
	sql "UPDATE domain SET password_expiry = 30 WHERE domain = $(q example.org)" &&
	printf "secret-3\n" | postino user add carol@example.org --password-stdin >/dev/null &&
	check_eq "$(expiry_days carol@example.org)" 30 &&
	check_eq "$(pfa_passdb carol@example.org)" carol@example.org &&
	sql "UPDATE mailbox SET password_expiry = $(q "2000-01-01 00:00:00") WHERE username = $(q carol@example.org)" &&
	check_eq "$(pfa_passdb carol@example.org)" "" &&
	printf "secret-4\n" | postino user passwd carol@example.org --password-stdin >/dev/null &&
	check_eq "$(expiry_days carol@example.org)" 30 &&
	check_eq "$(pfa_passdb carol@example.org)" carol@example.org
'

test_expect_success 'a domain without expiry days gets PostfixAdmin default of a year' '
	postino domain add example.com >/dev/null &&
	printf "secret-5\n" | postino user add erin@example.com --password-stdin >/dev/null &&
	check_eq "$(expiry_days erin@example.com)" 365
'

test_expect_success 'check reports an expired password as information only' '
	sql "UPDATE mailbox SET password_expiry = $(q "2000-01-01 00:00:00") WHERE username = $(q carol@example.org)" &&
	expect_clean &&
	finding_message password_expired | grep "carol@example.org" &&
	printf "secret-6\n" | postino user passwd carol@example.org --password-stdin >/dev/null &&
	run_check &&
	check_eq "$(finding_message password_expired)" "no password has expired"
'

test_done
