#!/bin/sh
# engines: all
# postino check --deep, mail root probes: maildir_present, maildir_path,
# maildir_duplicates, maildir_ownership, maildir_permissions,
# maildirpp_skeleton, orphan_maildirs, orphan_domain_maildirs,
# maildir_artefacts, maildir_symlinks.  The walk never follows a symlink.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
ROOT=$(id -u)
A=$MAIL_ROOT/example.org/alice
STASH=$TEST_DIR/stash
mkdir -p "$STASH"

q() {
	printf "'%s'" "$1"
}

test_expect_success 'the maildirs postino made are where the rows say' '
	test -d "$A/cur" && test -d "$A/new" && test -d "$A/tmp" &&
	check_eq "$(sql "SELECT maildir FROM mailbox WHERE username = $(q alice@example.org)")" \
		example.org/alice/ &&
	expect_clean --deep
'

test_expect_success 'maildir_present: a maildir not made yet is information' '
	mv "$A" "$STASH/alice" &&
	expect_clean --deep &&
	finding_message maildir_present | grep -q "alice@example.org" &&
	mv "$STASH/alice" "$A" &&
	expect_clean --deep &&
	finding_message maildir_present | grep -q "maildirs present"
'

test_expect_success 'maildir_path: a maildir path escaping the mail root' '
	printf "pw-secret\n" | postino user add carol@example.org --password-stdin >/dev/null &&
	check_breaks maildir_path=error -- \
		"mv \"\$MAIL_ROOT/example.org/carol\" \"\$STASH/carol\" &&
		 sql \"UPDATE mailbox SET maildir = $(q ../../etc/) WHERE username = $(q carol@example.org)\"" \
		"sql \"UPDATE mailbox SET maildir = $(q example.org/carol/) WHERE username = $(q carol@example.org)\" &&
		 mv \"\$STASH/carol\" \"\$MAIL_ROOT/example.org/carol\"" --deep
'

test_expect_success 'maildir_duplicates: two mailboxes, one maildir' '
	check_breaks maildir_duplicates=error -- \
		"mv \"\$MAIL_ROOT/example.org/carol\" \"\$STASH/carol\" &&
		 sql \"UPDATE mailbox SET maildir = $(q example.org/alice/) WHERE username = $(q carol@example.org)\"" \
		"sql \"UPDATE mailbox SET maildir = $(q example.org/carol/) WHERE username = $(q carol@example.org)\" &&
		 mv \"\$STASH/carol\" \"\$MAIL_ROOT/example.org/carol\"" --deep
'

test_expect_success 'maildir_ownership: a maildir not owned by the vmail user' '
	[ "$ROOT" -eq 0 ] || exit 0
	check_breaks maildir_ownership=error -- \
		"chown 0:0 \"\$A\"" "chown \$VMAIL_UID:\$VMAIL_GID \"\$A\"" --deep
'

test_expect_success 'maildir_permissions: a maildir other users can read' '
	check_breaks maildir_permissions=warn -- \
		"chmod 0705 \"\$A\"" "chmod 0700 \"\$A\"" --deep
'

test_expect_success 'maildirpp_skeleton: tmp missing' '
	check_breaks maildirpp_skeleton=error -- \
		"rmdir \"\$A/tmp\"" "mkdir \"\$A/tmp\" && chown \$VMAIL_UID:\$VMAIL_GID \"\$A/tmp\"" --deep &&
	rmdir "$A/tmp" && run_check --deep &&
	mkdir "$A/tmp" && chown "$VMAIL_UID:$VMAIL_GID" "$A/tmp" &&
	finding_message maildirpp_skeleton | grep -q "example.org/alice. (lacks tmp)"
'

test_expect_success 'orphan_maildirs: a maildir no mailbox owns' '
	check_breaks orphan_maildirs=warn -- \
		"mkdir -p \"\$MAIL_ROOT/example.org/ghost/cur\"" \
		"rm -r \"\$MAIL_ROOT/example.org/ghost\"" --deep
'

test_expect_success 'orphan_maildirs: what user del --keep-maildir leaves behind' '
	printf "pw-secret\n" | postino user add dave@example.org --password-stdin >/dev/null &&
	expect_clean --deep &&
	check_breaks orphan_maildirs=warn -- \
		"postino user del dave@example.org --keep-maildir --yes" \
		"rm -r \"\$MAIL_ROOT/example.org/dave\"" --deep
'

test_expect_success 'orphan_domain_maildirs: a domain directory no domain owns' '
	check_breaks orphan_domain_maildirs=warn -- \
		"mkdir -p \"\$MAIL_ROOT/gone.example/joe/cur\"" \
		"rm -r \"\$MAIL_ROOT/gone.example\"" --deep
'

test_expect_success 'orphan checks ignore lost+found and dot files at the top' '
	mkdir "$MAIL_ROOT/lost+found" "$MAIL_ROOT/.snapshot" &&
	expect_clean --deep &&
	rmdir "$MAIL_ROOT/lost+found" "$MAIL_ROOT/.snapshot"
'

test_expect_success 'maildir_artefacts: an unfinished deletion' '
	check_breaks maildir_artefacts=warn -- \
		"mkdir -p \"\$MAIL_ROOT/example.org/.deleting.old.42.deadbeef/cur\"" \
		"rm -r \"\$MAIL_ROOT/example.org/.deleting.old.42.deadbeef\"" --deep
'

test_expect_success 'maildir_symlinks: a planted symlink, not followed' '
	mkdir -p "$STASH/outside/evil/cur" &&
	check_breaks maildir_symlinks=error -- \
		"ln -s \"\$STASH/outside\" \"\$MAIL_ROOT/example.org/evil\"" \
		"rm \"\$MAIL_ROOT/example.org/evil\"" --deep
'

test_expect_success 'maildir_symlinks: a maildir replaced by a symlink (not also missing)' '
	check_breaks maildir_symlinks=error -- \
		"mv \"\$A\" \"\$STASH/alice\" && ln -s \"\$STASH/alice\" \"\$A\"" \
		"rm \"\$A\" && mv \"\$STASH/alice\" \"\$A\"" --deep
'

test_expect_success 'maildir_symlinks: a domain directory replaced by a symlink' '
	check_breaks maildir_symlinks=error -- \
		"mv \"\$MAIL_ROOT/example.org\" \"\$STASH/eo\" && ln -s \"\$STASH/eo\" \"\$MAIL_ROOT/example.org\"" \
		"rm \"\$MAIL_ROOT/example.org\" && mv \"\$STASH/eo\" \"\$MAIL_ROOT/example.org\"" --deep
'

test_expect_success 'maildir_symlinks: a symlink among a maildir'"'"'s folders' '
	check_breaks maildir_symlinks=error -- \
		"ln -s /etc \"\$A/.Evil\"" "rm \"\$A/.Evil\"" --deep
'

test_expect_success 'a PostfixAdmin user@domain maildir layout is understood' '
	printf "pw-secret\n" | postino user add erin@example.org --password-stdin >/dev/null &&
	mv "$MAIL_ROOT/example.org/erin" "$MAIL_ROOT/example.org/erin@example.org" &&
	sql "UPDATE mailbox SET maildir = $(q example.org/erin@example.org/) WHERE username = $(q erin@example.org)" &&
	expect_clean --deep
'

test_done
