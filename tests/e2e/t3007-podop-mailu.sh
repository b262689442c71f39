#!/bin/sh
# podop as a drop-in for Mailu's Podop: a stub of Mailu's admin API (the
# routes of core/admin/mailu/internal/views/{postfix,dovecot}.py), podop
# started with Podop's command line and Mailu's exact nine Postfix maps
# (core/postfix/start.py) and three Dovecot dicts (core/dovecot/start.py),
# queried by real postmap -q and doveadm dict; Podop's semantics case by
# case: 404 is not found, 400 (an invalid relay) defers, the rate limiter
# is asked on every lookup, an admin change shows at once.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop curl jq /usr/bin/python3
postfix_conf
doveadm_conf

cat >model.json <<'EOF_MODEL'
{
  "domains": ["example.com", "other.org"],
  "alternatives": {"alt.example": "example.com"},
  "users": {
    "alice@example.com": {"quota": 1000000000},
    "bob@example.com": {"quota": 5000, "forward": ["b@else.net"], "keep": true},
    "off@example.com": {"quota": 1, "enabled": false}
  },
  "aliases": {"info@example.com": ["alice@example.com", "bob@example.com"]},
  "relays": {
    "relay.test": "[smtp.relay.test]:2525",
    "mx.test": "mx:",
    "lmtp.test": "lmtp:[10.0.0.5]:24",
    "bad.test": "mx:[10.0.0.1]",
    "badport.test": "smtp.x.test:port"
  },
  "dane": ["dane.test"],
  "ratelimit": {"alice@example.com": 2},
  "ratelimit_exempt": ["bob@example.com"],
  "subnet": "192.168.203.0/24",
  "delimiter": "+"
}
EOF_MODEL

test_setup 'start the Mailu admin stub' '
	/usr/bin/python3 "$SRCDIR/tests/helpers/mailu-admin.py" \
		"$TEST_DIR/model.json" "$TEST_DIR/admin.port" >admin.log 2>&1 &
	echo $! >admin.pid &&
	test_at_exit "kill $(cat admin.pid)" &&
	for i in $(seq 1 100); do [ -s admin.port ] && break; sleep 0.05; done &&
	ADMIN=127.0.0.1:$(cat admin.port)
'

# Mailu's core/postfix/start.py, as Podop's command line.
test_setup 'start podop with Mailu'"'"'s nine Postfix maps' '
	url=http://$ADMIN/internal/postfix/ &&
	start_podop sm --socket "$TEST_DIR/sm.sock" --mode postfix -v \
		--name transport --type url --param "${url}transport/§" \
		--name alias --type url --param "${url}alias/§" \
		--name dane --type url --param "${url}dane/§" \
		--name domain --type url --param "${url}domain/§" \
		--name mailbox --type url --param "${url}mailbox/§" \
		--name recipientmap --type url --param "${url}recipient/map/§" \
		--name sendermap --type url --param "${url}sender/map/§" \
		--name senderlogin --type url --param "${url}sender/login/§" \
		--name senderrate --type url --param "${url}sender/rate/§"
'

# Mailu's core/dovecot/start.py.
test_setup 'start podop with Mailu'"'"'s three Dovecot dicts' '
	url=http://$ADMIN/internal/dovecot/§ &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot -v \
		--name quota --type url --param "$url" \
		--name auth --type url --param "$url" \
		--name sieve --type url --param "$url"
'

# notfound KEY MAP: postmap says not found (exit 1, nothing on stderr).
notfound() {
	expect_code 1 pq "$1" "$2" 2>err && test ! -s err
}

# deferred KEY MAP: postmap reports a temporary error (Postfix defers).
deferred() {
	expect_code 1 pq "$1" "$2" 2>err && check_grep "temporary error" err
}

test_expect_success 'domain: local and alternative domains; others not found' '
	check_eq "$(pq example.com domain)" example.com &&
	check_eq "$(pq alt.example domain)" alt.example &&
	notfound nowhere.test domain &&
	notfound "[10.0.0.1]" domain
'

test_expect_success 'mailbox: users only' '
	check_eq "$(pq alice@example.com mailbox)" alice@example.com &&
	notfound info@example.com mailbox
'

test_expect_success 'alias: users, aliases, forwards, delimiter, domains' '
	check_eq "$(pq alice@example.com alias)" alice@example.com &&
	check_eq "$(pq alice+tag@example.com alias)" alice+tag@example.com &&
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	check_eq "$(pq bob@example.com alias)" "b@else.net,bob@example.com" &&
	check_eq "$(pq info@alt.example alias)" "alice@example.com,bob@example.com" &&
	check_eq "$(pq alt.example alias)" example.com &&
	notfound nobody@example.com alias &&
	notfound "a@b@example.com" alias
'

test_expect_success 'transport: relays as Mailu writes them' '
	check_eq "$(pq x@relay.test transport)" "smtp:[smtp.relay.test]:2525" &&
	check_eq "$(pq x@mx.test transport)" "smtp:mx.test" &&
	check_eq "$(pq x@lmtp.test transport)" "lmtp:10.0.0.5:24" &&
	notfound x@example.com transport &&
	notfound "*" transport
'

test_expect_success 'transport: an invalid relay answers 400: deferred, not rejected' '
	deferred x@bad.test transport &&
	check_grep "HTTP 400" err &&
	deferred x@badport.test transport
'

test_expect_success 'dane, recipientmap, sendermap (SRS)' '
	check_eq "$(pq dane.test dane)" dane-only &&
	notfound example.com dane &&
	check_eq "$(pq joe@far.test sendermap)" "SRS0=joe=far.test@example.com" &&
	notfound alice@example.com sendermap &&
	check_eq "$(pq "SRS0=joe=far.test@example.com" recipientmap)" joe@far.test &&
	notfound alice@example.com recipientmap
'

test_expect_success 'senderlogin: who may send as whom' '
	check_eq "$(pq alice@example.com senderlogin)" alice@example.com &&
	check_eq "$(pq alice+x@example.com senderlogin)" alice@example.com &&
	check_eq "$(pq info@example.com senderlogin)" "alice@example.com,bob@example.com" &&
	notfound example.com senderlogin
'

test_expect_success 'senderrate: the limiter is asked on every lookup; the third is refused' '
	notfound alice@example.com senderrate &&
	notfound alice@example.com senderrate &&
	check_eq "$(pq alice@example.com senderrate)" \
		"450 4.2.1 You are sending too many emails too fast." &&
	check_eq "$(pq alice@example.com senderrate)" \
		"450 4.2.1 You are sending too many emails too fast." &&
	curl -s "http://$ADMIN/stats" >stats &&
	check_eq "$(jq ".rate[\"alice@example.com\"]" stats)" 4 &&
	notfound bob@example.com senderrate &&
	notfound bob@example.com senderrate &&
	notfound bob@example.com senderrate
'

test_expect_success 'a change made in the admin shows at once (no cache)' '
	notfound new.test domain &&
	sed -i "s/\"domains\": \[/\"domains\": [\"new.test\", /" model.json &&
	check_eq "$(pq new.test domain)" new.test &&
	check_eq "$(pq info@example.com alias)" "alice@example.com,bob@example.com" &&
	sed -i "s/\"info@example.com\": \[\"alice@example.com\", \"bob@example.com\"\]/\"info@example.com\": [\"carol@far.test\"]/" model.json &&
	check_eq "$(pq info@example.com alias)" carol@far.test
'

D=proxy:$TEST_DIR/dict.sock

test_expect_success 'auth: passdb and userdb JSON, as Dovecot reads them' '
	check_eq "$(dget $D:auth shared/passdb/alice@example.com)" \
		"{\"password\":null,\"nopassword\":\"Y\",\"allow_real_nets\":\"192.168.203.0/24\"}" &&
	check_eq "$(dget $D:auth shared/userdb/bob@example.com)" \
		"{\"quota_rule\":\"*:bytes=5000\"}" &&
	expect_code 68 dget $D:auth shared/passdb/nobody@example.com
'

test_expect_success 'auth: userdb iteration lists the enabled users' '
	dd dict iter $D:auth shared/userdb/ >out &&
	check_grep "^shared/userdb/alice@example.com" out &&
	check_grep "^shared/userdb/bob@example.com" out &&
	! grep -q off@example.com out
'

test_expect_success 'sieve: script name and the default script, per user' '
	check_eq "$(dget -u alice@example.com $D:sieve priv/sieve/name/default)" default &&
	dget -u alice@example.com $D:sieve priv/sieve/data/default >out &&
	check_grep "^require \"fileinto\";" out &&
	check_grep "fileinto \"Junk\";" out
'

test_expect_success 'quota: Dovecot'"'"'s quota dict POSTs the storage to the admin' '
	dd dict set -u alice@example.com $D:quota priv/quota/storage 123456 &&
	dd dict set -u alice@example.com $D:quota priv/quota/messages 7 &&
	curl -s "http://$ADMIN/stats" >stats &&
	check_eq "$(jq ".quota[\"alice@example.com\"]" stats)" 123456
'

test_expect_success 'quota: a POST the admin refuses (404) fails the commit' '
	! dd dict set -u nobody@example.com $D:quota priv/quota/storage 1
'

test_expect_success 'podop stops cleanly, no sanitizer report' '
	podop_stop_all_clean
'

test_done
