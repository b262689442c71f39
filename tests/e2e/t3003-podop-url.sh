#!/bin/sh
# podop's url table (Mailu Podop's semantics) against a small HTTP service
# that answers like Mailu's internal API: Postfix through postmap, Dovecot
# through doveadm.  Keep-alive, 4xx/5xx, timeouts, a slow backend next to
# fast ones, stale answers while the service is down, Cache-Control.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop jq curl /usr/bin/python3
postfix_conf
doveadm_conf

cat >data.json <<'EOF_DATA'
{
  "postfix": {
    "alias": {
      "a@x.org": "b@x.org,c@x.org",
      "a+b@x.org": "plus@x.org",
      "obj@x.org": {"to": ["b@x.org"], "n": 1},
      "num@x.org": 42,
      "nul@x.org": null,
      "slow@x.org": "late@x.org",
      "new": "moved@x.org",
      "empty@x.org": ""
    },
    "domain": {"x.org": "x.org"}
  },
  "dovecot": {
    "passdb": {"u@x.org": {"password": "{PLAIN}pw", "nopassword": null}},
    "userdb": {"u@x.org": {"quota_rule": "*:bytes=100"},
               "v@x.org": {"quota_rule": "*:bytes=200"}},
    "sieve": {"data/default/u@x.org": "require \"fileinto\";\nkeep;\n"},
    "meta": {"a": "shared a", "b": "shared b", "a/u@x.org": "u a",
             "a/v@x.org": "v a", "b/v@x.org": "v b"}
  },
  "status": {
    "postfix/alias/boom@x.org": 500,
    "postfix/alias/teapot@x.org": 418,
    "postfix/alias/forbidden@x.org": 403,
    "postfix/alias/bad@x.org": 400,
    "postfix/alias/gone@x.org": 410,
    "dovecot/passdb/boom@x.org": 503
  },
  "sleep": {"postfix/alias/slow@x.org": 30},
  "limit": {"postfix/senderrate/u@x.org": [2, "450 4.2.1 too fast"],
            "postfix/senderrate/w@x.org": [2, "450 4.2.1 too fast"]},
  "redirect": {"postfix/alias/old@x.org": "/internal/postfix/alias/new",
               "postfix/alias/loop@x.org": "/internal/postfix/alias/loop@x.org",
               "postfix/alias/away@x.org": "http://localhost:1/internal/x"}
}
EOF_DATA

test_setup 'start the Mailu-like API' '
	/usr/bin/python3 "$SRCDIR/tests/helpers/podop-mailu-api.py" \
		"$TEST_DIR/data.json" "$TEST_DIR/api.port" >api.log 2>&1 &
	echo $! >api.pid &&
	test_at_exit "kill $(cat api.pid)" &&
	wait_until 30 test -s api.port &&
	API=http://127.0.0.1:$(cat api.port)/internal
'

# slow@x.org answers after 30 s, far past podop's timeout: a TEMP shows
# that the timeout cut it short, whatever the load on the machine.
TIMEOUT=2000
test_setup 'start podop on the url tables (no cache)' '
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix \
		--timeout $TIMEOUT --no-cache -v \
		--name alias --type url --param "$API/postfix/alias/§" \
		--name domain --type url --param "$API/postfix/domain/{}"
'

test_expect_success 'a JSON string is the value, as is' '
	check_eq "$(pq a@x.org alias)" "b@x.org,c@x.org" &&
	check_eq "$(pq x.org domain)" x.org
'

test_expect_success 'the key is percent-encoded as Podop does' '
	check_eq "$(pq a+b@x.org alias)" plus@x.org &&
	curl -s "http://127.0.0.1:$(cat api.port)/stats" >stats &&
	json ".paths | index(\"/internal/postfix/alias/a%2Bb%40x.org\")" stats
'

test_expect_success 'other JSON is compact JSON; null is not found' '
	check_eq "$(pq obj@x.org alias)" "{\"to\":[\"b@x.org\"],\"n\":1}" &&
	check_eq "$(pq num@x.org alias)" 42 &&
	expect_code 1 pq nul@x.org alias
'

test_expect_success '404 and 410 are not found, silently' '
	expect_code 1 pq nobody@x.org alias 2>err &&
	expect_code 1 pq gone@x.org alias 2>>err &&
	expect_code 1 pq empty@x.org alias 2>>err &&
	test ! -s err
'

test_expect_success 'every other 4xx is a temporary failure, as in Podop' '
	for k in bad teapot forbidden; do
		expect_code 1 pq $k@x.org alias 2>err &&
		check_grep "temporary error: HTTP" err || return 1
	done
'

test_expect_success 'a redirect on the same origin is followed' '
	check_eq "$(pq old@x.org alias)" moved@x.org
'

test_expect_success 'a redirect loop or one to another origin is TEMP' '
	expect_code 1 pq loop@x.org alias 2>err &&
	check_grep "temporary error: HTTP 302" err &&
	expect_code 1 pq away@x.org alias 2>err &&
	check_grep "temporary error: HTTP 302" err
'

test_expect_success '5xx is a temporary failure, never not-found' '
	expect_code 1 pq boom@x.org alias 2>err &&
	check_grep "temporary error: HTTP 500" err
'

test_expect_success 'connections to the service are kept alive' '
	before=$(curl -s "http://127.0.0.1:$(cat api.port)/stats" | jq .connections) &&
	for i in $(seq 1 20); do echo "a@x.org"; done |
		postmap -c "$TEST_DIR/pf" -q - "socketmap:unix:$TEST_DIR/sm.sock:alias" >out &&
	check_eq "$(wc -l <out)" 20 &&
	after=$(curl -s "http://127.0.0.1:$(cat api.port)/stats" | jq .connections) &&
	echo "connections: $before -> $after" &&
	test $((after - before)) -le 2
'

test_expect_success 'a slow backend times out with TEMP, well before Postfix does' '
	start=$(date +%s%N) &&
	expect_code 1 pq slow@x.org alias 2>err &&
	ms=$(( ($(date +%s%N) - start) / 1000000 )) &&
	echo "answered in $ms ms (timeout $TIMEOUT ms, the backend takes 30 s)" &&
	check_grep "temporary error" err
'

# slow_asked: how many times the service has been asked for slow@x.org.
slow_asked() {
	curl -s "http://127.0.0.1:$(cat api.port)/stats" |
		jq "[.paths[] | select(test(\"slow\"))] | length"
}

# slow_asked_at_least N: for wait_until.
slow_asked_at_least() {
	test "$(slow_asked)" -ge "$1"
}

# Two slow lookups hold the service (it has been asked, so podop is
# waiting on it); the other table and another key must then be answered
# while both are still pending: an order of events, not a time.
test_expect_success 'a slow request stalls neither other connections nor tables' '
	base=$(slow_asked) &&
	for i in 1 2; do
		(ns "alias slow@x.org" | podop-probe -w 60000 "$TEST_DIR/sm.sock" >"slow.$i.tmp" 2>&1
		 mv "slow.$i.tmp" "slow.$i") &
	done &&
	wait_until 30 slow_asked_at_least "$((base + 2))" &&
	start=$(date +%s%N) &&
	check_eq "$(pq x.org domain)" x.org &&
	check_eq "$(pq a@x.org alias)" "b@x.org,c@x.org" &&
	ms=$(( ($(date +%s%N) - start) / 1000000 )) &&
	echo "answered in $ms ms" &&
	! test -e slow.1 && ! test -e slow.2 &&
	wait &&
	grep -q TEMP slow.1 && grep -q TEMP slow.2
'

test_setup 'start podop in dovecot mode on the url table' '
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot -v \
		--name auth --type url --param "$API/dovecot/§"
'

D=proxy:$TEST_DIR/dict.sock:auth

test_expect_success 'dict: passdb JSON object; null members stay null' '
	check_eq "$(dget $D shared/passdb/u@x.org)" \
		"{\"password\":\"{PLAIN}pw\",\"nopassword\":null}"
'

test_expect_success 'dict: a private key gets /user, a string value is raw' '
	dget -u u@x.org $D priv/sieve/data/default >out &&
	check_grep "^require \"fileinto\";" out &&
	check_grep "^keep;" out
'

test_expect_success 'dict: a 5xx answer is F, reported by doveadm (75)' '
	expect_code 75 dget $D shared/passdb/boom@x.org 2>err &&
	check_grep "HTTP 503" err
'

test_expect_success 'dict: iteration asks for the list, then each key' '
	dd dict iter $D shared/userdb/ >out &&
	check_grep "^shared/userdb/u@x.org" out &&
	check_grep "^shared/userdb/v@x.org" out
'

test_expect_success 'dict: a private iteration sees only that user'"'"'s values' '
	dd dict iter -u u@x.org $D priv/meta/ >out &&
	cat out &&
	check_grep "^priv/meta/a[[:space:]]*u a" out &&
	check_eq "$(grep -c ^priv/ out)" 1 &&
	dd dict iter -u v@x.org $D priv/meta/ >out &&
	check_grep "^priv/meta/a[[:space:]]*v a" out &&
	check_grep "^priv/meta/b[[:space:]]*v b" out &&
	check_eq "$(grep -c ^priv/ out)" 2 &&
	dd dict iter -R -u u@x.org $D priv/meta/ >out &&
	! grep -q "v a\|v b" out
'

test_expect_success 'dict: commit POSTs the JSON value to key/user' '
	dd dict set -u u@x.org $D priv/quota/storage 12345 &&
	curl -s "http://127.0.0.1:$(cat api.port)/stats" >stats &&
	check_eq "$(jq -c ".posts[\"dovecot/quota/storage/u@x.org\"]" stats)" 12345 &&
	dd dict set -u u@x.org $D priv/note "plain text" &&
	curl -s "http://127.0.0.1:$(cat api.port)/stats" >stats &&
	check_eq "$(jq -c ".posts[\"dovecot/note/u@x.org\"]" stats)" "\"plain text\""
'

test_setup 'start podop with the default cache settings' '
	start_podop defcache --socket "$TEST_DIR/defcache.sock" --mode postfix \
		--timeout 1000 -v \
		--name senderrate --type url --param "$API/postfix/senderrate/§" \
		--name alias --type url --param "$API/postfix/alias/§"
'

test_expect_success 'by default a url table is asked on every lookup (rate limit)' '
	expect_code 1 pq u@x.org senderrate "$TEST_DIR/defcache.sock" &&
	expect_code 1 pq u@x.org senderrate "$TEST_DIR/defcache.sock" &&
	check_eq "$(pq u@x.org senderrate "$TEST_DIR/defcache.sock")" \
		"450 4.2.1 too fast" &&
	curl -s "http://127.0.0.1:$(cat api.port)/stats" >stats &&
	check_eq "$(jq ".hits[\"postfix/senderrate/u@x.org\"]" stats)" 3
'

test_expect_success 'by default a change in the service is seen at once' '
	check_eq "$(pq a@x.org alias "$TEST_DIR/defcache.sock")" "b@x.org,c@x.org" &&
	sed -i "s/\"b@x.org,c@x.org\"/\"d@x.org\"/" data.json &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/defcache.sock")" d@x.org &&
	sed -i "s/\"d@x.org\"/\"b@x.org,c@x.org\"/" data.json
'

test_setup 'start podop with a short cache and a long stale bound for alias' '
	start_podop cached --socket "$TEST_DIR/cached.sock" --mode postfix \
		--timeout 1000 --table-cache alias=1/1/60 \
		--table-cache senderrate=off -v \
		--name senderrate --type url --param "$API/postfix/senderrate/§" \
		--name alias --type url --param "$API/postfix/alias/§"
'

test_expect_success 'a table with its own TTLs is cached; senderrate=off is not' '
	check_eq "$(pq a@x.org alias "$TEST_DIR/cached.sock")" "b@x.org,c@x.org" &&
	sed -i "s/\"b@x.org,c@x.org\"/\"d@x.org\"/" data.json &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/cached.sock")" "b@x.org,c@x.org" &&
	sed -i "s/\"d@x.org\"/\"b@x.org,c@x.org\"/" data.json &&
	expect_code 1 pq w@x.org senderrate "$TEST_DIR/cached.sock" &&
	expect_code 1 pq w@x.org senderrate "$TEST_DIR/cached.sock" &&
	check_eq "$(pq w@x.org senderrate "$TEST_DIR/cached.sock")" \
		"450 4.2.1 too fast"
'

test_expect_success 'a --table-cache for an unknown table is a usage error' '
	expect_code 64 podop --socket "$TEST_DIR/x.sock" --table-cache nope=5 \
		--name alias --type url --param "$API/postfix/alias/§" 2>err &&
	check_grep "no table .nope." err
'

test_expect_success 'the cache answers; a stale answer is served while the service is down' '
	check_eq "$(pq a@x.org alias "$TEST_DIR/cached.sock")" "b@x.org,c@x.org" &&
	kill "$(cat api.pid)" && sleep 1.2 &&
	check_eq "$(pq a@x.org alias "$TEST_DIR/cached.sock")" "b@x.org,c@x.org" &&
	check_grep "serving a stale answer" "$TEST_DIR/cached.log"
'

test_expect_success 'with nothing cached, the service down is TEMP' '
	expect_code 1 pq never@x.org alias "$TEST_DIR/cached.sock" 2>err &&
	check_grep "temporary error" err
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
