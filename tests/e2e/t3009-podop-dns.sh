#!/bin/sh
# podop's dns table, Podop's README first use case ("every domain that has
# a proper MX record to your Postfix is accepted as a local domain"),
# against a real authoritative server (NSD) on a free loopback port:
# MX match by name and by address, no MX, null MX, CNAME, NXDOMAIN,
# SERVFAIL and a resolver that never answers (TEMP, never not found), the
# answer's TTL in the cache, through real postmap.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap podop nsd perl /usr/bin/python3
postfix_conf

PORT=$(free_port)
mkdir -p dns
cat >dns/example.test.zone <<'EOF_ZONE'
$ORIGIN example.test.
$TTL 300
@	SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@	NS ns.example.test.
ns	A 127.0.0.1
good	MX 10 mail.example.net.
good	MX 20 other.example.org.
second	MX 10 mx.elsewhere.net.
second	MX 20 MX2.Example.NET.
other	MX 10 mx.elsewhere.net.
nomx	A 192.0.2.1
alias	CNAME good.example.test.
nullmx	MX 0 .
ip	120 MX 10 mx.ip.example.test.
mx.ip	A 192.0.2.7
mx.ip	AAAA 2001:db8::7
ip4	MX 10 mx.ip4.example.test.
mx.ip4	A 192.0.2.8
EOF_ZONE
cat >dns/nsd.conf <<EOF_NSD
server:
  ip-address: 127.0.0.1@$PORT
  port: $PORT
  zonesdir: "$TEST_DIR/dns"
  pidfile: "$TEST_DIR/dns/nsd.pid"
  database: ""
  username: ""
  chroot: ""
  xfrdfile: "$TEST_DIR/dns/xfrd.state"
  zonelistfile: "$TEST_DIR/dns/zone.list"
  logfile: "$TEST_DIR/dns/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
# A zone NSD cannot load: SERVFAIL.
zone:
  name: broken.test
  zonefile: broken.test.zone
EOF_NSD

# NSD's main process hands over to a child when it reloads, so the pid
# started here may be gone at the end: its pidfile names the one serving.
test_setup 'start NSD and a UDP sink that never answers' '
	nsd -d -c "$TEST_DIR/dns/nsd.conf" >nsd.out 2>&1 &
	echo $! >nsd.pid &&
	test_at_exit "kill $(cat nsd.pid); kill \$(cat '"'$TEST_DIR/dns/nsd.pid'"')" &&
	wait_until 10 grep -q "nsd started" dns/nsd.log &&
	/usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"127.0.0.1\", 0))
open(sys.argv[1] + \".tmp\", \"w\").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])
while True:
    s.recvfrom(4096)
" "$TEST_DIR/sink.port" &
	echo $! >sink.pid &&
	test_at_exit "kill $(cat sink.pid)" &&
	wait_until 10 test -s sink.port
'

# A stand-in for a validating resolver: forwards to NSD and sets the AD
# bit of every answer (NSD, authoritative, never sets it).
test_setup 'start a forwarder that marks answers validated (AD)' '
	/usr/bin/python3 -c "
import os, socket, sys
up = (\"127.0.0.1\", int(sys.argv[2]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"127.0.0.1\", 0))
open(sys.argv[1] + \".tmp\", \"w\").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + \".tmp\", sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
while True:
    q, peer = s.recvfrom(4096)
    u.sendto(q, up)
    a = bytearray(u.recv(4096))
    a[3] |= 0x20
    s.sendto(bytes(a), peer)
" "$TEST_DIR/ad.port" "$PORT" &
	echo $! >ad.pid &&
	test_at_exit "kill $(cat ad.pid)" &&
	wait_until 10 test -s ad.port
'

test_setup 'start podop with dns tables on NSD and on the sink' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v \
		--timeout 1000 --dns-resolver "127.0.0.1:$PORT" \
		--table "local=dns:mx=mail.example.net,mx2.example.net" \
		--table "byip=dns:mx-ip=2001:0db8::7,192.0.2.99" &&
	start_podop ad --socket "$TEST_DIR/ad.sock" --mode postfix \
		--timeout 1000 --dns-resolver "127.0.0.1:$(cat ad.port)" \
		--table "local=dns:mx=mail.example.net?ad" &&
	start_podop noad --socket "$TEST_DIR/noad.sock" --mode postfix \
		--timeout 1000 --dns-resolver "127.0.0.1:$PORT" \
		--table "local=dns:mx=mail.example.net?ad" &&
	start_podop mute --socket "$TEST_DIR/mute.sock" --mode postfix \
		--timeout 500 --dns-resolver "127.0.0.1:$(cat sink.port)" \
		--table "local=dns:mx=mail.example.net"
'

test_expect_success 'a domain whose MX names us is found; the value is the domain' '
	check_eq "$(pq good.example.test local)" good.example.test &&
	check_eq "$(pq second.example.test local)" second.example.test
'

test_expect_success 'MX elsewhere, no MX (no implicit MX), null MX: not found' '
	expect_code 1 pq other.example.test local 2>err && test ! -s err &&
	expect_code 1 pq nomx.example.test local 2>err && test ! -s err &&
	expect_code 1 pq nullmx.example.test local 2>err && test ! -s err
'

test_expect_success 'a CNAME is followed' '
	check_eq "$(pq alias.example.test local)" alias.example.test
'

test_expect_success 'NXDOMAIN is not found' '
	expect_code 1 pq missing.example.test local 2>err && test ! -s err
'

test_expect_success 'SERVFAIL is a temporary error, never not found' '
	expect_code 1 pq x.broken.test local 2>err &&
	check_grep "temporary error" err
'

test_expect_success 'a resolver that never answers: TEMP within the timeout' '
	expect_code 1 pq good.example.test local "$TEST_DIR/mute.sock" 2>err &&
	check_grep "temporary error" err
'

test_expect_success 'mx-ip: an MX host with one of our addresses (AAAA or A)' '
	check_eq "$(pq ip.example.test byip)" ip.example.test &&
	expect_code 1 pq ip4.example.test byip 2>err && test ! -s err &&
	expect_code 1 pq good.example.test byip
'

test_expect_success '?ad: a validated answer counts, an unvalidated one is TEMP' '
	check_eq "$(pq good.example.test local "$TEST_DIR/ad.sock")" good.example.test &&
	expect_code 1 pq other.example.test local "$TEST_DIR/ad.sock" 2>err &&
	test ! -s err &&
	expect_code 1 pq missing.example.test local "$TEST_DIR/ad.sock" 2>err &&
	test ! -s err &&
	expect_code 1 pq good.example.test local "$TEST_DIR/noad.sock" 2>err &&
	check_grep "not DNSSEC-validated" err
'

test_expect_success 'answers are cached (the DNS TTL bounds them)' '
	n1=$(grep -c "lookup map=local key=good.example.test " sm.log) &&
	test "$n1" -ge 1 &&
	check_eq "$(pq good.example.test local)" good.example.test &&
	check_eq "$(pq good.example.test local)" good.example.test &&
	check_eq "$(grep -c "lookup map=local key=good.example.test " sm.log)" "$n1"
'

test_expect_success 'a bad parameter is a configuration error' '
	expect_code 4 podop query --table "x=dns:a=b" x y.test 2>err &&
	check_grep "unknown parameter" err
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
