#!/bin/sh
# podop's dict protocol with what doveadm never sends: pipelined commands,
# lines split across writes, escapes, every hello version, oversized and
# unknown lines; answers strictly in request order even when the backend
# finishes them out of order, and always an answer (F) on failure.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd podop podop-probe /usr/bin/python3

printf 'k\tv\nkt\tv1\tv2\nk2/u@x\tprivate\nsub/a\tA\nsub/b\tB\nsub/c/d\tD\n' >meta.txt
cat >data.json <<'EOF_DATA'
{"dovecot": {"t": {"slow": "late", "fast": "early"}},
 "sleep": {"dovecot/t/slow": 1},
 "status": {"dovecot/t/boom": 500}}
EOF_DATA

test_setup 'start an HTTP service and podop' '
	/usr/bin/python3 "$SRCDIR/tests/helpers/podop-mailu-api.py" \
		"$TEST_DIR/data.json" "$TEST_DIR/api.port" >api.log 2>&1 &
	echo $! >api.pid &&
	test_at_exit "kill $(cat api.pid)" &&
	wait_until 30 test -s api.port &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot -v \
		--no-cache --table "meta=file:$TEST_DIR/meta.txt" \
		--table "web=url:http://127.0.0.1:$(cat api.port)/internal/dovecot/t/§"
'

# podop closes the connection once it has answered (a client that shut
# its side down, or a broken frame); -w, the wait for more bytes, only
# ends a probe when it does not, and must outlast a loaded machine.
probe() {
	podop-probe -w 30000 "$@" "$TEST_DIR/dict.sock"
}

H3='H3\t2\t0\t\tmeta\n'

test_expect_success 'hello and two lookups in one write' '
	printf "${H3}Lshared/k\t\nLshared/nope\t\n" | probe >out 2>err &&
	printf "Ov\nN\n" >want && same want out
'

test_expect_success 'lines split byte by byte' '
	printf "${H3}Lshared/k\t\nLshared/kt\t\n" | probe -c 1 -d 2 >out &&
	printf "Ov\nOv1\001tv2\n" >want && same want out
'

test_expect_success 'escapes are decoded in requests and encoded in replies' '
	printf "${H3}Lshared/k\001t\t\nLshared/\001k\t\n" | probe >out &&
	printf "N\nOv\n" >want && same want out
'

test_expect_success 'a private key without a user fails; with one it works' '
	printf "${H3}Lpriv/k2\t\nLpriv/k2\tu@x\n" | probe >out &&
	printf "Fprivate key \047priv/k2\047 without a user\nOprivate\n" >want &&
	same want out
'

test_expect_success 'Dovecot 2.2: the user of the hello' '
	printf "H2\t2\t0\tu@x\tmeta\nLpriv/k2\n" | probe >out &&
	printf "Oprivate\n" >want && same want out
'

test_expect_success 'Dovecot 2.4: hello 4, begin with an expiry' '
	printf "H4\t0\t0\t\tmeta\nB1\tu@x\t0\nS1\tpriv/k\tv\nC1\nLshared/k\t\n" |
		probe >out &&
	printf "F1\tdict \047meta\047 is read-only\nOv\n" >want && same want out
'

test_expect_success 'iteration: rows, then the empty line; flags and max_rows' '
	printf "${H3}I0\t0\tshared/sub/\t\nI9\t2\tshared/sub/\t\n" | probe >out &&
	printf "Oshared/sub/a\tA\nOshared/sub/b\tB\n\nOshared/sub/a\t\nOshared/sub/b\t\n\n" >want &&
	same want out
'

test_expect_success 'answers keep request order when the backend does not' '
	printf "H3\t2\t0\t\tweb\nLshared/slow\t\nLshared/fast\t\nLshared/nope\t\n" |
		probe >out &&
	printf "Olate\nOearly\nN\n" >want && same want out
'

test_expect_success 'a backend failure is F, never silence' '
	printf "H3\t2\t0\t\tweb\nLshared/boom\t\nLshared/fast\t\n" | probe >out &&
	printf "FHTTP 500 from http://127.0.0.1:%s/internal/dovecot/t/\nOearly\n" \
		"$(cat api.port)" >want && same want out
'

test_expect_success 'an unknown dict: F for every command that wants one' '
	printf "H3\t2\t0\t\tnosuch\nLshared/k\t\nI0\t0\tshared/\t\nB1\t\nS1\tshared/k\tv\nC1\n" |
		probe >out &&
	printf "Funknown dict \047nosuch\047\nFunknown dict \047nosuch\047\nF1\tunknown dict \047nosuch\047\n" >want &&
	same want out
'

test_expect_success 'a command before the hello closes the connection' '
	printf "Lshared/k\t\n" | probe -k >out 2>err &&
	test ! -s out && check_grep closed err
'

test_expect_success 'an unsupported version closes the connection' '
	printf "H5\t0\t0\t\tmeta\nLshared/k\t\n" | probe -k >out 2>err &&
	test ! -s out && check_grep closed err
'

test_expect_success 'an unknown command closes, after the earlier answers' '
	printf "${H3}Lshared/k\t\nZ\nLshared/k\t\n" | probe -k >out 2>err &&
	printf "Ov\n" >want && same want out && check_grep closed err
'

test_expect_success 'a 1 MB line closes the connection' '
	{ printf "${H3}Lshared/k\t\nLshared/"; head -c 1048576 /dev/zero | tr "\0" x; printf "\t\n"; } |
		probe -k >out 2>err &&
	printf "Ov\n" >want && same want out && check_grep closed err &&
	check_grep "longer than 196608 bytes" dict.log
'

test_expect_success 'an unknown transaction id closes the connection' '
	printf "${H3}S7\tshared/k\tv\n" | probe -k >out 2>err &&
	check_grep closed err
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
