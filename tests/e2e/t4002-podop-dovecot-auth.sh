#!/bin/sh
# engines: all
# A throw-away Dovecot 2.3 whose passdb and userdb are "driver = dict" on
# podop's postfixadmin dovecot table: doveadm auth test, doveadm user and
# user iteration must give PostfixAdmin's answers.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd doveadm dovecot podop
setup_postino
DV=$TEST_DIR/dovecot
mkdir -p "$DV/run" "$DV/state"

cat >"$DV/auth-dict.conf.ext" <<EOF_AUTH
uri = proxy:$TEST_DIR/dict.sock:auth
password_key = passdb/%u
user_key = userdb/%u
iterate_prefix = userdb/
default_pass_scheme = PLAIN
EOF_AUTH

cat >"$DV/dovecot.conf" <<EOF_DV
base_dir = $DV/run
state_dir = $DV/state
instance_name = podop-$$
log_path = $DV/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain
disable_plaintext_auth = no
auth_verbose = yes
mail_location = maildir:~/Maildir
first_valid_uid = 0
passdb {
  driver = dict
  args = $DV/auth-dict.conf.ext
}
userdb {
  driver = dict
  args = $DV/auth-dict.conf.ext
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
EOF_DV

dv() {
	doveadm -c "$DV/dovecot.conf" "$@"
}

test_setup 'seed, start podop and a private Dovecot' '
	seed_podop &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot \
		--socket-mode 0666 --table auth=postfixadmin:dovecot -v &&
	dovecot -c "$DV/dovecot.conf" &&
	test_at_exit "doveadm -c \"$DV/dovecot.conf\" stop" &&
	for i in $(seq 1 600); do
		[ -S "$DV/run/auth-userdb" ] && break
		sleep 0.1
	done &&
	test -S "$DV/run/auth-userdb"
'

test_expect_success 'auth test: the right password succeeds' '
	dv auth test alice@example.com alicepw >out 2>&1 &&
	check_grep "auth succeeded" out
'

test_expect_success 'auth test: a wrong password fails (77)' '
	expect_code 77 dv auth test alice@example.com wrong >out 2>&1
'

test_expect_success 'auth test: an inactive mailbox cannot log in' '
	expect_code 77 dv auth test carol@example.com carolpw >out 2>&1
'

test_expect_success 'auth test: case is folded as Dovecot does' '
	dv auth test Bob@Example.com bobpw >out 2>&1 &&
	check_grep "auth succeeded" out
'

# -u: the userdb answer only, without the mail storage init (which would
# need the mail directories and the vmail user).
test_expect_success 'user: home, uid, gid and quota_rule from the schema' '
	dv user -u alice@example.com >out &&
	check_grep "home *: $MAIL_ROOT/example.com/alice/\$" out &&
	check_grep "uid *: $VMAIL_UID\$" out &&
	check_grep "gid *: $VMAIL_GID\$" out &&
	check_grep "quota_rule *: \*:bytes=1048576\$" out
'

test_expect_success 'user: unknown users exit 67' '
	expect_code 67 dv user -u nobody@example.com >out 2>&1
'

test_expect_success "user '*' lists the active mailboxes" '
	dv user "*" >out &&
	printf "alice@example.com\nbob@example.com\ndave@disabled.org\n" >want &&
	sort out >got &&
	same want got
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
