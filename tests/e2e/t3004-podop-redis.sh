#!/bin/sh
# podop's redis table: GET with a key prefix, for Postfix (postmap) and
# Dovecot (doveadm dict get/set/inc/unset/iter), over a UNIX socket and
# over TCP; a stopped server is a temporary failure.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop podop-probe redis-cli
need_server redis
postfix_conf
doveadm_conf

rc() {
	redis-cli -s "$TEST_REDIS_SOCKET" "$@"
}

test_expect_success 'seed Redis' '
	rc SET "t3004:alias:a@x.org" "b@x.org" >/dev/null &&
	rc SET "t3004:dict:tabbed" "$(printf "v1\tv2")" >/dev/null &&
	rc SET "t3004:dict:shared-key" "shared value" >/dev/null &&
	rc SET "t3004:dict:userdb/u@x.org" "{\"home\":\"/h\"}" >/dev/null &&
	rc SET "t3004:dict:userdb/w@x.org" "{\"home\":\"/w\"}" >/dev/null &&
	rc LPUSH "t3004:alias:list@x.org" x >/dev/null
'

test_setup 'start podop on Redis tables' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v --no-cache \
		--table "alias=redis:unix:$TEST_REDIS_SOCKET?prefix=t3004:alias:" \
		--table "tcp=redis:127.0.0.1:$TEST_REDIS_PORT?prefix=t3004:alias:" &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot -v \
		--table "meta=redis:$TEST_REDIS_SOCKET?prefix=t3004:dict:"
'

test_expect_success 'postmap -q through Redis, UNIX socket and TCP' '
	check_eq "$(pq a@x.org alias)" b@x.org &&
	check_eq "$(pq a@x.org tcp)" b@x.org &&
	expect_code 1 pq nobody@x.org alias
'

test_expect_success 'a key of the wrong type is a configuration error' '
	expect_code 1 pq list@x.org alias 2>err &&
	check_grep "permanent error.*WRONGTYPE" err
'

D=proxy:$TEST_DIR/dict.sock:meta

test_expect_success 'dict get, with TABs escaped both ways' '
	check_eq "$(dget $D shared/shared-key)" "shared value" &&
	check_eq "$(dget $D shared/tabbed)" "$(printf "v1\tv2")"
'

test_expect_success 'dict set, inc, unset write Redis in one transaction' '
	dd dict set -u u@x.org $D priv/quota/storage 100 &&
	check_eq "$(rc GET "t3004:dict:quota/storage/u@x.org")" 100 &&
	dd dict inc -u u@x.org $D priv/quota/storage 23 &&
	check_eq "$(dget -u u@x.org $D priv/quota/storage)" 123 &&
	dd dict unset -u u@x.org $D priv/quota/storage &&
	check_eq "$(rc EXISTS "t3004:dict:quota/storage/u@x.org")" 0
'

test_expect_success 'a value with a TAB and a newline survives a round trip' '
	dd dict set $D shared/multi "$(printf "a\tb\nc")" &&
	check_eq "$(rc GET "t3004:dict:multi")" "$(printf "a\tb\nc")"
'

test_expect_success 'dict iter scans the prefix' '
	dd dict iter $D shared/userdb/ >out &&
	check_grep "^shared/userdb/u@x.org" out &&
	check_grep "^shared/userdb/w@x.org" out &&
	check_eq "$(grep -c ^shared/ out)" 2
'

test_expect_success 'a private iteration sees only that user'"'"'s keys' '
	dd dict set -u alice@x.org $D priv/meta/a "alice a" &&
	dd dict set -u alice@x.org $D priv/meta/sub/b "alice b" &&
	dd dict set -u bob@x.org $D priv/meta/a "bob a" &&
	dd dict set -u xbob@x.org $D priv/meta/a "xbob a" &&
	dd dict iter -R -u bob@x.org $D priv/ >out &&
	cat out &&
	check_grep "^priv/meta/a[[:space:]]*bob a" out &&
	check_eq "$(grep -c ^priv/ out)" 1 &&
	! grep -q alice out &&
	dd dict iter -R -u alice@x.org $D priv/meta/ >out &&
	check_eq "$(grep -c ^priv/ out)" 2 &&
	check_grep "^priv/meta/sub/b[[:space:]]*alice b" out &&
	! grep -q bob out &&
	dd dict iter -u alice@x.org $D priv/meta/ >out &&
	check_eq "$(grep -c ^priv/ out)" 1 &&
	check_grep "^priv/meta/a[[:space:]]*alice a" out
'

test_expect_success 'Dovecot 2.4: a transaction expiry becomes EXPIRE' '
	printf "H4\t0\t0\t\tmeta\nB1\tu@x.org\t60\nS1\tpriv/exp\tv\nA1\tpriv/cnt\t2\nC1\n" |
		podop-probe -w 2500 "$TEST_DIR/dict.sock" >out &&
	printf "O1\n" >want && same want out &&
	check_eq "$(rc GET "t3004:dict:exp/u@x.org")" v &&
	ttl=$(rc TTL "t3004:dict:exp/u@x.org") &&
	echo "TTL $ttl" && test "$ttl" -gt 0 && test "$ttl" -le 60 &&
	ttl=$(rc TTL "t3004:dict:cnt/u@x.org") &&
	echo "TTL $ttl" && test "$ttl" -gt 0 && test "$ttl" -le 60
'

test_expect_success 'without an expiry a key does not expire' '
	printf "H4\t0\t0\t\tmeta\nB1\tu@x.org\t0\nS1\tpriv/noexp\tv\nC1\n" |
		podop-probe -w 2500 "$TEST_DIR/dict.sock" >out &&
	printf "O1\n" >want && same want out &&
	check_eq "$(rc TTL "t3004:dict:noexp/u@x.org")" -1
'

test_setup 'start podop on a Redis that is not there' '
	start_podop gone --socket "$TEST_DIR/gone.sock" --mode postfix \
		--table "alias=redis:unix:$TEST_DIR/no-redis.sock"
'

test_expect_success 'no server: TEMP, not not-found' '
	expect_code 1 pq a@x.org alias "$TEST_DIR/gone.sock" 2>err &&
	check_grep "temporary error: cannot connect" err
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
