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

test_done
