#!/bin/sh
# engines: all
# Two postinod replicas on one database behind one address (Debian's
# HAProxy, round robin, its configuration written here on free ports).
# The same Zitadel event delivered to both replicas at once is applied
# once: one mailbox, one maildir, one hook run, one audit row, one
# recorded event (the record of applied events is in the database, so it
# holds across processes); SCIM POSTs of one userName racing on the two
# replicas create one mailbox, answered 201 and 409 (scimType uniqueness).
# Each race is run many times.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
need_cmd haproxy
export POSTINO_BCRYPT_COST=4
ROUNDS=${T9520_ROUNDS:-15}

# A post-creation hook that counts its runs, one line per mailbox.
cat >"$TEST_DIR/hook" <<EOF
#!/bin/sh
echo "\$1" >>"$TEST_DIR/hook.log"
EOF
chmod 755 "$TEST_DIR/hook"

# start_haproxy: round robin over the two replicas on a free port; $BASE.
start_haproxy() {
	HP=$(free_port)
	cat >"$TEST_DIR/haproxy.cfg" <<EOF
global
	maxconn 256
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend postino
	bind 127.0.0.1:$HP
	default_backend postinod
backend postinod
	balance roundrobin
	server one 127.0.0.1:$P1
	server two 127.0.0.1:$P2
EOF
	haproxy -db -f "$TEST_DIR/haproxy.cfg" >"$TEST_DIR/haproxy.log" 2>&1 &
	HP_PID=$!
	test_at_exit "kill $HP_PID"
	BASE=http://127.0.0.1:$HP
	wait_until 60 curl -sf "$BASE/healthz" || {
		sed 's/^/# /' "$TEST_DIR/haproxy.log"
		return 1
	}
}

test_setup 'two postinod replicas and HAProxy in front' '
	postino domain add pair.example >/dev/null &&
	start_jwks &&
	start_postinod POSTINO_POSTCREATION_HOOK="$TEST_DIR/hook" &&
	B1=$BASE P1=$PORT &&
	mv "$TEST_DIR/postinod.log" "$TEST_DIR/postinod.1.log" &&
	start_postinod POSTINO_POSTCREATION_HOOK="$TEST_DIR/hook" &&
	B2=$BASE P2=$PORT &&
	start_haproxy &&
	TOKEN=$(token)
'

hits() {
	grep -c "path=/healthz" "$1"
}

test_expect_success 'HAProxy spreads requests over both replicas' '
	a=$(hits "$TEST_DIR/postinod.1.log") b=$(hits "$TEST_DIR/postinod.log") &&
	for i in 1 2 3 4; do curl -sf "$BASE/healthz" >/dev/null || return 1; done &&
	test "$(hits "$TEST_DIR/postinod.1.log")" -gt "$a" &&
	test "$(hits "$TEST_DIR/postinod.log")" -gt "$b"
'

# both URL ARGS...: send the same event to both replicas at once; the
# statuses in both.1 and both.2.
both() {
	_when=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
	$PY "$HELPERS/zitadel.py" "$B1/zitadel/events" --secret "$HMAC_SECRET" \
		--created "$_when" "$@" >both.1 2>&1 &
	_p1=$!
	$PY "$HELPERS/zitadel.py" "$B2/zitadel/events" --secret "$HMAC_SECRET" \
		--created "$_when" "$@" >both.2 2>&1 &
	_p2=$!
	wait $_p1 $_p2
	cut -d" " -f1 both.1 both.2 | sort | tr "\n" " "
}

q() {
	sql "$1"
}

test_expect_success 'one Zitadel user.human.added at both replicas at once: applied once' '
	: >"$TEST_DIR/hook.log" &&
	for i in $(seq 1 $ROUNDS); do
		u=z$i@pair.example
		check_eq "$(both --type user.human.added --email $u --first Z$i --user-id 7$i --seq 1)" "200 200 " "statuses" || return 1
		grep -q duplicate both.1 both.2 || { cat both.1 both.2 >&2; echo "no duplicate seen" >&2; return 1; }
		check_eq "$(q "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'$u'"'"'")" 1 "mailboxes" &&
		check_eq "$(q "SELECT COUNT(*) FROM log WHERE action = '"'"'create_mailbox'"'"' AND data = '"'"'$u'"'"'")" 1 "audit rows of $u" &&
		check_eq "$(q "SELECT COUNT(*) FROM postino_identity WHERE username = '"'"'$u'"'"'")" 1 "identities" &&
		check_eq "$(grep -cx "$u" "$TEST_DIR/hook.log")" 1 "hook runs for $u" &&
		test -d "$MAIL_ROOT/pair.example/z$i" || return 1
	done &&
	check_eq "$(q "SELECT COUNT(*) FROM postino_event")" "$ROUNDS" "recorded events"
'

test_expect_success 'one user.deactivated at both replicas at once: applied once' '
	for i in $(seq 1 $ROUNDS); do
		u=z$i@pair.example
		check_eq "$(both --type user.deactivated --user-id 7$i --no-payload --seq 2)" "200 200 " "statuses" || return 1
		grep -q duplicate both.1 both.2 || { cat both.1 both.2 >&2; return 1; }
		check_eq "$(q "SELECT active FROM mailbox WHERE username = '"'"'$u'"'"'")" 0 "active" &&
		check_eq "$(q "SELECT COUNT(*) FROM log WHERE action LIKE '"'"'edit_mailbox%'"'"' AND data LIKE '"'"'$u%'"'"'")" 1 "audit rows of $u" || return 1
	done &&
	check_eq "$(q "SELECT COUNT(*) FROM postino_event")" "$((2 * ROUNDS))" "recorded events"
'

user_body() {
	echo "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$1\",\"name\":{\"formatted\":\"Race\"}}"
}

# post2 USER: POST it to both replicas at once; statuses sorted.
post2() {
	for _b in "$B1" "$B2"; do
		curl -s -o "post.${_b##*:}" -w "%{http_code}\n" -X POST \
			-H "Authorization: Bearer $TOKEN" \
			-H "Content-Type: application/scim+json" \
			--data-binary "$(user_body "$1")" "$_b/scim/v2/Users" \
			>"code.${_b##*:}" &
	done
	wait
	cat "code.$P1" "code.$P2" | sort | tr "\n" " "
}

test_setup 'a fresh token' 'TOKEN=$(token)'

test_expect_success 'SCIM POSTs of one userName racing on both replicas: one 201, one 409 uniqueness' '
	: >"$TEST_DIR/hook.log" &&
	for i in $(seq 1 $ROUNDS); do
		u=s$i@pair.example
		check_eq "$(post2 $u)" "201 409 " "statuses of $u" || { cat post.* >&2; return 1; }
		for f in post.$P1 post.$P2; do
			grep -q "\"status\":\"409\"" $f || continue
			json ".scimType == \"uniqueness\"" $f || return 1
		done
		check_eq "$(q "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'$u'"'"'")" 1 "mailboxes" &&
		check_eq "$(q "SELECT COUNT(*) FROM log WHERE action = '"'"'create_mailbox'"'"' AND data = '"'"'$u'"'"'")" 1 "audit rows of $u" &&
		check_eq "$(grep -cx "$u" "$TEST_DIR/hook.log")" 1 "hook runs for $u" || return 1
	done
'

test_expect_success 'through HAProxy the address behaves as one server' '
	expect_status 201 scim POST /Users "$(user_body via@pair.example)" &&
	expect_status 409 scim POST /Users "$(user_body via@pair.example)" &&
	expect_status 200 scim GET "/Users?filter=userName%20eq%20%22via@pair.example%22" &&
	json ".totalResults == 1" out
'

test_expect_success 'no sanitizer report from either replica' '
	! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" \
		"$TEST_DIR/postinod.log" "$TEST_DIR/postinod.1.log"
'

test_done
