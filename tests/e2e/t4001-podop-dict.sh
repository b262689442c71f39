#!/bin/sh
# engines: all
# podop's dict side, judged by Dovecot's own doveadm: the postfixadmin
# "dovecot" table (passdb/userdb JSON, userdb iteration, quota2 writes as
# quota_clone and the quota dict make them), a file table, read-only and
# unknown dicts.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd doveadm podop
setup_postino
doveadm_conf
UIDN=$VMAIL_UID
GIDN=$VMAIL_GID

cat >meta.txt <<'EOF_MAP'
sieve/name/default/alice@example.com	default
sieve/name/other/alice@example.com	other
sieve/name/default/bob@example.com	bobs
shared-thing	a value
EOF_MAP

test_setup 'seed and start podop in dovecot mode' '
	seed_podop &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot \
		--table auth=postfixadmin:dovecot \
		--table meta=file:"$TEST_DIR/meta.txt" -v
'

D=proxy:$TEST_DIR/dict.sock

test_expect_success 'passdb: the stored password as JSON' '
	check_eq "$(dget $D:auth shared/passdb/alice@example.com)" \
		"{\"password\":\"{PLAIN}alicepw\"}"
'

test_expect_success 'userdb: home, uid, gid, quota_rule' '
	check_eq "$(dget $D:auth shared/userdb/alice@example.com)" \
		"{\"gid\":\"$GIDN\",\"home\":\"$MAIL_ROOT/example.com/alice/\",\"quota_rule\":\"*:bytes=1048576\",\"uid\":\"$UIDN\"}"
'

test_expect_success 'inactive and unknown users do not exist (exit 68)' '
	expect_code 68 dget $D:auth shared/passdb/carol@example.com &&
	expect_code 68 dget $D:auth shared/userdb/nobody@example.com
'

test_expect_success 'iteration lists every active mailbox' '
	dd dict iter $D:auth shared/userdb/ >out &&
	check_grep "^shared/userdb/alice@example.com" out &&
	check_grep "^shared/userdb/bob@example.com" out &&
	check_grep "^shared/userdb/dave@disabled.org" out &&
	! grep -q carol out &&
	check_eq "$(grep -c ^shared/ out)" 3
'

test_expect_success 'a private iteration sees only that user'"'"'s keys' '
	dd dict iter -R -u bob@example.com $D:meta priv/ >out &&
	cat out &&
	check_grep "^priv/sieve/name/default[[:space:]]*bobs" out &&
	check_eq "$(grep -c ^priv/ out)" 1 &&
	dd dict iter -u alice@example.com $D:meta priv/sieve/name/ >out &&
	check_eq "$(grep -c ^priv/ out)" 2 &&
	! grep -q bobs out &&
	dd dict iter -R -u bob@example.com $D:auth priv/ >out &&
	check_eq "$(grep -c ^priv/ out)" 0
'

test_expect_success 'quota_clone: set writes quota2' '
	dd dict set -u alice@example.com $D:auth priv/quota/storage 12345 &&
	dd dict set -u alice@example.com $D:auth priv/quota/messages 7 &&
	check_eq "$(sql "SELECT bytes, messages FROM quota2 WHERE username = '"'"'alice@example.com'"'"'")" \
		"$(printf "12345\t7")"
'

test_expect_success 'quota dict: inc and unset' '
	dd dict inc -u alice@example.com $D:auth -- priv/quota/storage -345 &&
	check_eq "$(dget -u alice@example.com $D:auth priv/quota/storage)" 12000 &&
	dd dict unset -u alice@example.com $D:auth priv/quota/messages &&
	check_eq "$(sql "SELECT messages FROM quota2 WHERE username = '"'"'alice@example.com'"'"'")" 0
'

test_expect_success 'an increment creates the row' '
	dd dict inc -u bob@example.com $D:auth priv/quota/storage 5 &&
	check_eq "$(sql "SELECT bytes FROM quota2 WHERE username = '"'"'bob@example.com'"'"'")" 5
'

test_expect_success 'writing anything else fails, with a reason' '
	expect_code 75 dd dict set $D:auth shared/passdb/x y 2>err &&
	check_grep "only priv/quota/storage" err
'

test_expect_success 'a file table as a dict, private keys carry the user' '
	check_eq "$(dget -u alice@example.com $D:meta priv/sieve/name/default)" default &&
	check_eq "$(dget $D:meta shared/shared-thing)" "a value" &&
	expect_code 75 dd dict set $D:meta shared/x y
'

test_expect_success 'an unknown dict fails every command, it is not dropped' '
	expect_code 75 dd dict get $D:nosuch shared/x 2>err &&
	check_grep "unknown dict" err
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
