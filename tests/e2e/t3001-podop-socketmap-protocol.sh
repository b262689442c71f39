#!/bin/sh
# podop socketmap: framing and replies, with Postfix's own postmap as the
# client, and podop-probe for what Postfix never sends (pipelining, split
# frames, malformed and oversized frames, unknown maps).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop podop-probe
postfix_conf
cat >map.txt <<'EOF_MAP'
alice@example.com	alice@example.org
big	BIG
EOF_MAP

# A value of exactly 99,997 bytes makes a reply of Postfix's 100,000-byte
# limit; one more byte is too much.
perl -e 'print "exact\t", "x" x 99997, "\ntoolong\t", "y" x 99998, "\n"' >>map.txt

test_setup 'start podop on a UNIX socket' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix \
		--name alias --type file --param "$TEST_DIR/map.txt" \
		--name static --type static --param "{fine}" -vv
'

test_expect_success 'postmap -q: found, not found' '
	check_eq "$(pq alice@example.com alias)" alice@example.org &&
	expect_code 1 pq nobody@example.com alias
'

test_expect_success 'keys fold to lower case in file maps' '
	check_eq "$(pq ALICE@EXAMPLE.COM alias)" alice@example.org
'

test_expect_success 'postmap -q - sends every key over one connection' '
	printf "alice@example.com\nnobody@x\nbig\n" |
		postmap -c "$TEST_DIR/pf" -q - "socketmap:unix:$TEST_DIR/sm.sock:alias" >out &&
	printf "alice@example.com\talice@example.org\nbig\tBIG\n" >want &&
	same want out
'

test_expect_success 'unknown map: PERM, which Postfix reports' '
	expect_code 1 pq x nosuchmap 2>err &&
	check_grep "permanent error: unknown map" err
'

test_expect_success 'a reply of exactly 100,000 bytes is taken by Postfix' '
	pq exact alias >out &&
	check_eq "$(wc -c <out)" 99998
'

test_expect_success 'a longer value is refused, not truncated' '
	expect_code 1 pq toolong alias 2>err &&
	check_grep "permanent error: value of 99998 bytes" err
'

# podop closes the connection once it has answered (a client that shut
# its side down, or a broken frame); -w, the wait for more bytes, only
# ends a probe when it does not, and must outlast a loaded machine.
probe() {
	podop-probe -w 30000 "$@" "$TEST_DIR/sm.sock"
}

test_expect_success 'several frames in one write, answered in order' '
	ns "alias alice@example.com" "alias nobody" "static what ever" |
		probe >out 2>err &&
	ns "OK alice@example.org" "NOTFOUND " "OK fine" >want &&
	same want out
'

test_expect_success 'the key is everything after the first space' '
	ns "static  two  spaces " | probe >out 2>err &&
	ns "OK fine" >want &&
	same want out &&
	check_grep "key= two  spaces " "$TEST_DIR/sm.log"
'

test_expect_success 'frames split across writes, byte by byte' '
	ns "alias alice@example.com" "static whatever" |
		probe -c 1 -d 5 >out 2>err &&
	ns "OK alice@example.org" "OK fine" >want &&
	same want out
'

test_expect_success 'a frame without its comma closes the connection' '
	{ ns "alias alice@example.com"; printf "12:alias nobody;"; ns "static x"; } |
		probe -k >out 2>err &&
	ns "OK alice@example.org" >want &&
	same want out &&
	check_grep closed err &&
	check_grep "missing .,. terminator" "$TEST_DIR/sm.log"
'

test_expect_success 'a non-digit length closes the connection' '
	printf "x2:alias a," | probe -k >out 2>err &&
	test ! -s out && check_grep closed err
'

test_expect_success 'a 1 MB frame is refused before it is read' '
	{ printf "1000000:alias "; head -c 999994 /dev/zero | tr "\0" a; printf ","; } |
		probe -k >out 2>err &&
	test ! -s out && check_grep closed err &&
	check_grep "exceeds the 131072 byte limit" "$TEST_DIR/sm.log"
'

test_expect_success 'a request with no space gets PERM, the connection lives' '
	ns "noSpace" "static whatever" | probe >out 2>err &&
	ns "PERM request has no space between map name and key" "OK fine" >want &&
	same want out
'

test_expect_success 'an empty key is not found; the map name is exact' '
	ns "alias " "ALIAS alice@example.com" | probe >out &&
	ns "NOTFOUND " "PERM unknown map '"'"'ALIAS'"'"'" >want &&
	same want out
'

test_expect_success 'other connections go on while one is broken' '
	{ printf "99999"; sleep 1; } | probe -k -w 100 >/dev/null 2>&1 &
	check_eq "$(pq alice@example.com alias)" alice@example.org &&
	wait
'

port=$(free_port)
test_setup 'start podop on an inet: listener' '
	start_podop inet --socket "inet:127.0.0.1:$port" --mode postfix \
		--name alias --type file --param "$TEST_DIR/map.txt"
'

test_expect_success 'inet: listener, with postmap over TCP' '
	postmap -c "$TEST_DIR/pf" -q alice@example.com \
		"socketmap:inet:127.0.0.1:$port:alias" >out &&
	check_eq "$(cat out)" alice@example.org
'

test_expect_success 'an inet: address podop cannot use says what to write (exit 1: cannot start)' '
	expect_code 1 podop --socket "inet:127.0.0.1:smtp" --mode postfix \
		--name alias --type file --param "$TEST_DIR/map.txt" 2>err.txt &&
	check_grep "podop.socket: .127.0.0.1:smtp. is not host:port (write" err.txt &&
	expect_code 1 podop --socket "inet:127.0.0.1:$port" --mode postfix \
		--name alias --type file --param "$TEST_DIR/map.txt" 2>err.txt &&
	check_grep "podop.socket: cannot listen on .127.0.0.1:$port.: Address already in use" err.txt
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
