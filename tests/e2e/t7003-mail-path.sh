#!/bin/sh
# engines: all
# The whole mail path with SQL lookups: postino sets up the mail, "config
# gen" writes Postfix's sql-*.cf maps and Dovecot's SQL passdb/userdb (and,
# on SQLite, podop's routes table for the mailing list), and a real Postfix
# and Dovecot deliver SMTP mail for each kind of address into the maildirs
# postino created and let the user in over IMAP.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
. "$SRCDIR/tests/helpers/mail-lib.sh"
LOOKUPS=sql
. "$SRCDIR/tests/helpers/mail-path.sh"
