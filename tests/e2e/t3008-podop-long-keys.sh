#!/bin/sh
# Keys up to 64 KiB work end to end, through real postmap and doveadm, on
# inline (file) and backend (url) tables; a key over the limit is refused
# with PERM (socketmap) or F (dict) and a log line, never "not found".
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop podop-probe /usr/bin/python3
postfix_conf
doveadm_conf

K64=$(head -c 65536 /dev/zero | tr '\0' k)
K64P=${K64}k
# Python's http.server refuses request lines over 64 KiB: a little less.
KURL=$(head -c 65000 /dev/zero | tr '\0' u)
printf '%s\tbig\nsmall\tone\n' "$K64" >map.txt
printf '{"postfix": {"alias": {"%s": "urlbig"}}, "dovecot": {"t": {"%s": "dictbig"}}}\n' \
	"$KURL" "$KURL" >data.json

test_setup 'start an HTTP service and podop in both modes' '
	/usr/bin/python3 "$SRCDIR/tests/helpers/podop-mailu-api.py" \
		"$TEST_DIR/data.json" "$TEST_DIR/api.port" >api.log 2>&1 &
	echo $! >api.pid &&
	test_at_exit "kill $(cat api.pid)" &&
	for i in $(seq 1 100); do [ -s api.port ] && break; sleep 0.05; done &&
	API=http://127.0.0.1:$(cat api.port)/internal &&
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix \
		--table "map=file:$TEST_DIR/map.txt" \
		--table "alias=url:$API/postfix/alias/§" &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot \
		--table "map=file:$TEST_DIR/map.txt" \
		--table "web=url:$API/dovecot/t/§"
'

test_expect_success 'postmap: a 64 KiB key is found' '
	check_eq "$(pq "$K64" map)" big &&
	check_eq "$(pq small map)" one
'

test_expect_success 'postmap: a long key reaches the url backend' '
	check_eq "$(pq "$KURL" alias)" urlbig
'

test_expect_success 'postmap: a key over 64 KiB is PERM and logged, not NOTFOUND' '
	expect_code 1 pq "$K64P" map >out 2>err &&
	check_grep "longer than the 65536 allowed" err &&
	check_grep "lookup map=map refused" sm.log &&
	ns "map $K64P" | podop-probe "$TEST_DIR/sm.sock" >out &&
	check_grep "^[0-9]*:PERM " out
'

test_expect_success 'doveadm: a 64 KiB key is found, in both tables' '
	check_eq "$(dget proxy:$TEST_DIR/dict.sock:map "shared/$K64")" big &&
	check_eq "$(dget proxy:$TEST_DIR/dict.sock:web "shared/$KURL")" dictbig
'

test_expect_success 'doveadm: a key over 64 KiB is F (75) and logged' '
	expect_code 75 dget proxy:$TEST_DIR/dict.sock:map "shared/$K64P" 2>err &&
	check_grep "longer than the 65536 allowed" err &&
	check_grep "lookup map=map refused" dict.log
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
