# metrics-lib.sh: shell helpers of the metrics tests (t953*), sourced after
# tests/lib/test-lib.sh.

# scrape URL: GET the metrics into scrape.txt (fails on a non-200).
scrape() {
	curl -sf -o "$TEST_DIR/scrape.txt" "$1"
}

# mval SAMPLE: the value of the sample written exactly SAMPLE (name and
# labels as the daemon writes them) in scrape.txt; empty when absent.
mval() {
	awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' \
		"$TEST_DIR/scrape.txt"
}

# mval_prefix NAME: the value of the one sample of NAME (any labels).
mval_prefix() {
	grep "^$1[{ ]" "$TEST_DIR/scrape.txt" | awk '{ print $NF }'
}

# promtool_clean FILE: promtool check metrics says nothing and succeeds.
promtool_clean() {
	promtool check metrics <"$1" >"$TEST_DIR/promtool.out" 2>&1
	_rc=$?
	if [ $_rc -ne 0 ] || [ -s "$TEST_DIR/promtool.out" ]; then
		echo "promtool ($_rc):" >&2
		cat "$TEST_DIR/promtool.out" >&2
		return 1
	fi
}

# smq MAP KEY [SOCKET]: one socketmap request on a connection of its own;
# prints the reply.  KEY "LONG" is 70000 bytes (over podop's key limit).
smq() {
	/usr/bin/python3 - "${3:-$TEST_DIR/sm.sock}" "$1" "$2" <<'EOF_PY'
import socket, sys
path, m, k = sys.argv[1:4]
if k == "LONG":
    k = "x" * 70000
req = (m + " " + k).encode()
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(str(len(req)).encode() + b":" + req + b",")
buf = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    buf += c
    if b":" in buf:
        n, rest = buf.split(b":", 1)
        if len(rest) >= int(n) + 1:
            print(rest[: int(n)].decode())
            break
EOF_PY
}

# start_http_backend DIR: a static HTTP server on a free port serving DIR;
# sets HTTP_PORT, stopped at exit.
start_http_backend() {
	HTTP_PORT=$(free_port)
	/usr/bin/python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 \
		--directory "$1" >"$TEST_DIR/http.log" 2>&1 &
	echo $! >"$TEST_DIR/http.pid"
	test_at_exit "kill $(cat "$TEST_DIR/http.pid") 2>/dev/null"
	wait_until 30 curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
}

# stop_http_backend: stop it and wait until it refuses connections.
stop_http_backend() {
	kill "$(cat "$TEST_DIR/http.pid")" &&
	wait_until 30 sh -c "! curl -s -o /dev/null http://127.0.0.1:$HTTP_PORT/"
}

# serial_is URL N: podop_change_serial scraped from URL is N.
serial_is() {
	scrape "$1" && [ "$(mval_prefix podop_change_serial)" = "$2" ]
}

# metrics_documented PAGE PREFIX: every metric of the last scrape has its
# entry in man/PAGE and in postino.toml(5), and PAGE lists no PREFIX
# metric the scrape lacks.
metrics_documented() {
	sed -n "s/^# TYPE \([a-z_]*\) .*/\1/p" "$TEST_DIR/scrape.txt" >"$TEST_DIR/names" &&
	test "$(wc -l <"$TEST_DIR/names")" -ge 10 || return 1
	for _n in $(cat "$TEST_DIR/names"); do
		grep -q "^\.It Va $_n " "$SRCDIR/man/$1" &&
			grep -q "^\.It Va $_n " "$SRCDIR/man/postino.toml.5" ||
			{ echo "undocumented: $_n" >&2; return 1; }
	done
	check_eq "$(grep -c "^\.It Va $2" "$SRCDIR/man/$1")" "$(wc -l <"$TEST_DIR/names")"
}
