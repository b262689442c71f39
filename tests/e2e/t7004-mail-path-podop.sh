#!/bin/sh
# engines: all
# The whole mail path with podop: "config gen --lookups podop" wires Postfix
# to podop over socketmap (delivering to Dovecot over LMTP, since virtual(8)
# refuses socketmap tables) and Dovecot 2.3 to podop's dict; real SMTP and
# IMAP clients judge, as in t7003.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
. "$SRCDIR/tests/helpers/mail-lib.sh"
LOOKUPS=podop
. "$SRCDIR/tests/helpers/mail-path.sh"
