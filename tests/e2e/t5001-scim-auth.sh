#!/bin/sh
# engines: all
# postinod over real HTTP: health endpoints, bearer-token checks (every
# accepted algorithm, the classic attacks), the JWKS cache (rotation,
# unknown kids, stale keys, a local key file), body limits, routing
# errors, the access log, start-up refusals, TLS, privilege dropping and
# draining on SIGTERM.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
export POSTINO_BCRYPT_COST=4

test_setup 'start the JWKS server and postinod' '
	start_jwks && start_postinod &&
	postino domain add example.org >/dev/null
'

test_expect_success 'GET /healthz and /readyz answer without a token' '
	check_eq "$(curl -s "$BASE/healthz" | jq -r .status)" ok &&
	check_eq "$(curl -s "$BASE/readyz" | jq -r .status)" ready
'

test_expect_success 'no token: 401 in the SCIM envelope with a challenge' '
	TOKEN= &&
	check_eq "$(curl -s -o out -D hdr -w "%{http_code}" "$BASE/scim/v2/Users")" 401 &&
	json ".schemas == [\"urn:ietf:params:scim:api:messages:2.0:Error\"] and .status == \"401\"" out &&
	grep -qi "^www-authenticate: Bearer" hdr &&
	grep -qi "^content-type: application/scim+json" hdr
'

test_expect_success 'a Basic authorization is refused (401)' '
	check_eq "$(curl -s -o out -w "%{http_code}" -u a:b "$BASE/scim/v2/Users")" 401
'

for alg in RS256:rsa1 PS256:rsa1 ES256:ec1 EdDSA:ed1; do
	test_expect_success "a valid ${alg%%:*} token is accepted" "
		TOKEN=\$(token --alg ${alg%%:*} --key ${alg#*:}) &&
		expect_status 200 scim GET /Users &&
		json '.totalResults == 0' out
	"
done

test_expect_success 'a rotated key is found with one forced JWKS refresh' '
	$PY "$HELPERS/pjwt.py" rotate "$KEYS" &&
	before=$(wc -l <"$KEYS/hits") &&
	TOKEN=$(token --key rsa2) &&
	expect_status 200 scim GET /Users &&
	after=$(wc -l <"$KEYS/hits") &&
	check_eq "$after" "$((before + 1))" "JWKS fetches"
'

test_expect_success 'alg=none is refused' '
	TOKEN=$(token --alg none --kid rsa1) &&
	expect_status 401 scim GET /Users &&
	json ".detail | test(\"algorithm\")" out
'

test_expect_success 'HS256 signed with the RSA public key is refused' '
	TOKEN=$(token --alg HS256 --kid rsa1) &&
	expect_status 401 scim GET /Users &&
	json ".detail | test(\"algorithm\")" out
'

test_expect_success 'an expired token is refused' '
	TOKEN=$(token --exp-in -10) &&
	expect_status 401 scim GET /Users &&
	json ".detail | test(\"expired\")" out
'

test_expect_success 'a wrong audience is refused; a list naming us is fine' '
	TOKEN=$(token --aud someone-else) &&
	expect_status 401 scim GET /Users &&
	json ".detail | test(\"audience\")" out &&
	TOKEN=$(token --aud-list) &&
	expect_status 200 scim GET /Users
'

test_expect_success 'a wrong issuer is refused' '
	TOKEN=$($PY "$HELPERS/pjwt.py" token "$KEYS" --iss https://evil.example --aud "$AUD") &&
	expect_status 401 scim GET /Users &&
	json ".detail | test(\"issuer\")" out
'

test_expect_success 'exp and iat are required, nbf and the maximum age honoured' '
	TOKEN=$(token --no-exp) && expect_status 401 scim GET /Users &&
	TOKEN=$(token --no-iat) && expect_status 401 scim GET /Users &&
	TOKEN=$(token --iat-ago 7200) && expect_status 401 scim GET /Users &&
	json ".detail | test(\"too old\")" out &&
	TOKEN=$(token --nbf-in 600) && expect_status 401 scim GET /Users &&
	TOKEN=$(token --nbf-in -5) && expect_status 200 scim GET /Users
'

test_expect_success 'a tampered payload, a wrong key and a mismatched kid are refused' '
	TOKEN=$(token --tamper) && expect_status 401 scim GET /Users &&
	json ".detail | test(\"signature\")" out &&
	TOKEN=$(token --key rsa2 --kid rsa1) && expect_status 401 scim GET /Users &&
	TOKEN=$(token --alg ES256 --key ec1 --kid rsa1) &&
	expect_status 401 scim GET /Users
'

test_expect_success 'a token without kid, or signed by an RSA-1024 key, is refused' '
	TOKEN=$(token --kid "") && expect_status 401 scim GET /Users &&
	TOKEN=$(token --key weak1) && expect_status 401 scim GET /Users
'

test_expect_success 'garbage bearer values are refused' '
	for t in x a.b a.b.c.d "..." "eyJhbGciOiJSUzI1NiJ9.e30.!!!"; do
		TOKEN=$t && expect_status 401 scim GET /Users || exit 1
	done
'

# An unknown kid may force one JWKS fetch every JWKS_FORCED_GAP (10)
# seconds (src/postinod/jwks.h), not one per request.  The bound counts
# the fetches against the seconds the requests took, so that a slow
# machine does not fail it: ten requests may make at most
# 1 + elapsed / 10 fetches (and fewer than ten), where a fetch per kid
# makes ten.
test_expect_success 'unknown kids do not hammer the issuer (one fetch per gap at most)' '
	for i in 1 2 3 4 5 6 7 8 9 10; do
		token --kid "made-up-$i" >"kid.$i" || exit 1
	done &&
	before=$(wc -l <"$KEYS/hits") &&
	t0=$(date +%s) &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		TOKEN=$(cat "kid.$i") &&
		expect_status 401 scim GET /Users || exit 1
		json ".detail | test(\"unknown kid\")" out || exit 1
	done &&
	elapsed=$(($(date +%s) - t0)) &&
	after=$(wc -l <"$KEYS/hits") &&
	echo "10 unknown kids in $elapsed s made $((after - before)) JWKS fetches" &&
	test "$after" -le "$((before + 1 + elapsed / 10))" &&
	test "$((after - before))" -lt 10
'

test_expect_success 'a body over 64 KiB is refused with 413, read or not' '
	TOKEN=$(token) &&
	head -c 1048576 /dev/zero | tr "\0" a >big &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: application/scim+json" --data-binary @big "$BASE/scim/v2/Users")" 413 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Transfer-Encoding: chunked" --data-binary @big "$BASE/scim/v2/Users")" 413 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Expect: 100-continue" --data-binary @big "$BASE/scim/v2/Users")" 413 &&
	head -c 65537 big >big2 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST --data-binary @big2 "$BASE/zitadel/events")" 413 &&
	json ".error == \"too_large\"" out &&
	head -c 65536 big >big3 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		--data-binary @big3 "$BASE/scim/v2/Users")" 400 &&
	head -c 20971520 /dev/zero >huge &&
	code=$(curl -s -o out -w "%{http_code}" -X POST --data-binary @huge "$BASE/zitadel/events") &&
	case $code in 413|000) ;; *) echo "20 MB body: $code" >&2; exit 1 ;; esac &&
	curl -sf "$BASE/healthz" >/dev/null
'

test_expect_success 'a 413 under /scim/v2 is the SCIM error envelope, read or not' '
	TOKEN=$(token) && E=urn:ietf:params:scim:api:messages:2.0:Error &&
	check_eq "$(curl -s -o out -D hdr -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: application/scim+json" --data-binary @big "$BASE/scim/v2/Users")" 413 &&
	grep -qi "^content-type: application/scim+json" hdr &&
	json ".schemas == [\"$E\"] and .status == \"413\" and (.detail | test(\"65536\"))" out &&
	check_eq "$(curl -s -o out -D hdr -w "%{http_code}" -X PUT -H "Authorization: Bearer $TOKEN" \
		-H "Transfer-Encoding: chunked" --data-binary @big "$BASE/scim/v2/Users/x@example.org")" 413 &&
	json ".schemas == [\"$E\"] and .status == \"413\"" out &&
	check_eq "$(curl -s -o out -D hdr -w "%{http_code}" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Expect: 100-continue" --data-binary @big "$BASE/scim/v2/Users")" 413 &&
	grep -qi "^content-type: application/scim+json" hdr &&
	json ".schemas == [\"$E\"] and .status == \"413\"" out
'

test_expect_success 'malformed JSON is 400 invalidSyntax' '
	TOKEN=$(token) &&
	expect_status 400 scim POST /Users "{\"schemas\": [" &&
	json ".scimType == \"invalidSyntax\" and .status == \"400\"" out &&
	expect_status 400 scim POST /Users "[1,2]" &&
	json ".scimType == \"invalidSyntax\"" out &&
	expect_status 400 scim POST /Users "{\"a\":1,\"a\":2}" &&
	expect_status 400 scim POST /Users ""
'

test_expect_success 'unknown paths are 404, wrong methods 405 with Allow' '
	TOKEN=$(token) &&
	check_eq "$(curl -s -o out -w "%{http_code}" "$BASE/nope")" 404 &&
	expect_status 404 scim GET /Nope &&
	json ".status == \"404\"" out &&
	expect_status 405 scim PUT /Aliases/a@example.org "{}" &&
	grep -qi "^allow: GET, PATCH, DELETE" hdr &&
	expect_status 405 scim POST /Users/a@example.org "{}" &&
	grep -qi "^allow: GET, PUT, PATCH, DELETE" hdr &&
	expect_status 405 scim DELETE /Users &&
	expect_status 405 scim POST /Domains "{}" &&
	expect_status 405 scim PATCH /ServiceProviderConfig "{}" &&
	check_eq "$(curl -s -o out -w "%{http_code}" "$BASE/zitadel/events")" 405 &&
	check_eq "$(curl -s -o out -w "%{http_code}" -X POST "$BASE/healthz")" 405
'

test_expect_success 'the access log has one line per request, without tokens or queries' '
	TOKEN=$(token --sub log-checker) &&
	expect_status 200 scim_get_q /Users "filter=userName eq \"secret@example.org\"" &&
	wait_until 30 sh -c "grep \"access method=GET path=/scim/v2/Users status=200\" \
		\"$TEST_DIR/postinod.log\" | grep -q sub=log-checker" &&
	! grep -q "secret@example.org" "$TEST_DIR/postinod.log" &&
	! grep -qF "$TOKEN" "$TEST_DIR/postinod.log" &&
	! grep -q "Bearer" "$TEST_DIR/postinod.log"
'

test_setup 'restart with a JWKS refresh every second' '
	stop_postinod &&
	start_postinod POSTINOD_SCIM_JWKS_REFRESH_SECONDS=1
'

test_expect_success 'stale keys keep serving while the issuer is down' '
	TOKEN=$(token) && expect_status 200 scim GET /Users &&
	touch "$KEYS/down" && sleep 2 &&
	expect_status 200 scim GET /Users &&
	grep -q "keeping the keys loaded before" "$TEST_DIR/postinod.log"
'

test_setup 'restart while the issuer is down' '
	stop_postinod &&
	start_postinod
'

test_expect_success 'without any keys the answer is 503, not 401' '
	TOKEN=$(token) && expect_status 503 scim GET /Users &&
	json ".status == \"503\"" out
'

test_setup 'restart with a local JWKS file and a dead URL' '
	rm -f "$KEYS/down" &&
	stop_postinod &&
	start_postinod POSTINOD_SCIM_JWKS_FILE="$KEYS/jwks.json" \
		POSTINOD_SCIM_JWKS_URL=http://127.0.0.1:1/none
'

test_expect_success 'a local JWKS file works without any URL' '
	TOKEN=$(token --alg ES256 --key ec1) && expect_status 200 scim GET /Users
'

test_expect_success 'start-up refuses missing or short webhook secrets' '
	expect_code 4 env -u POSTINOD_ZITADEL_HMAC_SECRET POSTINOD_SCIM_ISSUER=x \
		POSTINOD_SCIM_AUDIENCE=y postinod -t 2>err &&
	check_grep "POSTINOD_ZITADEL_HMAC_SECRET is not set" err &&
	expect_code 4 env POSTINOD_ZITADEL_HMAC_SECRET=short POSTINOD_SCIM_ISSUER=x \
		POSTINOD_SCIM_AUDIENCE=y postinod -t 2>err &&
	check_grep "shorter than 32" err &&
	expect_code 4 env POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET,tiny" \
		POSTINOD_SCIM_ISSUER=x POSTINOD_SCIM_AUDIENCE=y postinod -t 2>err &&
	check_grep "secret 2" err &&
	! grep -q "$HMAC_SECRET" err &&
	expect_code 4 env POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" \
		POSTINOD_ZITADEL_REPLAY_WINDOW_SEC=0 POSTINOD_SCIM_ISSUER=x \
		POSTINOD_SCIM_AUDIENCE=y postinod -t 2>err &&
	expect_code 4 env POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" postinod -t 2>err &&
	check_grep "scim_issuer" err &&
	env POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" POSTINOD_SCIM_ISSUER=x \
		POSTINOD_SCIM_AUDIENCE=y postinod -t >out &&
	check_grep "configuration ok" out
'

test_expect_success 'start-up refuses a database at an older postino schema' '
	sql "UPDATE postino_schema_version SET version = 5" &&
	expect_code 5 env POSTINOD_ZITADEL_HMAC_SECRET="$HMAC_SECRET" \
		POSTINOD_SCIM_ISSUER=x POSTINOD_SCIM_AUDIENCE=y postinod -t 2>err;
	rc=$?
	postino schema migrate >/dev/null
	test $rc = 0 && check_grep "schema migrate" err
'

test_setup 'restart against a database that does not answer' '
	stop_postinod &&
	pfdir=$(sed -n "s/^postfix_sql_dir = \"\(.*\)\"$/\1/p" "$POSTINO_CONFIG") &&
	mkdir -p "$TEST_DIR/deadpf" &&
	sed -e "s|^dbpath *=.*|dbpath = $TEST_DIR/nowhere/none.sqlite|" \
		-e "s|^hosts *=.*|hosts = inet:127.0.0.1:1|" \
		"$pfdir/sql-virtual_mailbox_maps.cf" >"$TEST_DIR/deadpf/sql-virtual_mailbox_maps.cf" &&
	start_postinod POSTINO_POSTFIX_SQL_DIR="$TEST_DIR/deadpf"
'

test_expect_success 'database down: healthz 200, readyz 503, SCIM and webhook 503' '
	check_eq "$(curl -s -o out -w "%{http_code}" "$BASE/healthz")" 200 &&
	check_eq "$(curl -s -o out -w "%{http_code}" "$BASE/readyz")" 503 &&
	TOKEN=$(token) && expect_status 503 scim GET /Users &&
	json ".status == \"503\" and .detail == \"service temporarily unavailable\"" out &&
	check_eq "$(zitadel --secret "$HMAC_SECRET" --type user.deactivated --email a@example.org | cut -d" " -f1)" 503 &&
	check_grep "does not answer yet" "$TEST_DIR/postinod.log"
'

test_setup 'restart with TLS' '
	command -v openssl >/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt \
		-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		>/dev/null 2>&1 &&
	stop_postinod &&
	start_postinod POSTINOD_TLS_CERT="$TEST_DIR/tls.crt" \
		POSTINOD_TLS_KEY="$TEST_DIR/tls.key"
'

test_expect_success 'TLS: the daemon serves HTTPS with the configured pair' '
	check_eq "$(curl -s --cacert tls.crt "https://127.0.0.1:$PORT/healthz" | jq -r .status)" ok &&
	TOKEN=$(token) &&
	check_eq "$(curl -s -o out -w "%{http_code}" --cacert tls.crt \
		-H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT/scim/v2/Users")" 200 &&
	! curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"
'

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	test_setup 'restart as user nobody' '
		stop_postinod &&
		start_postinod POSTINOD_USER=nobody
	'
	test_expect_success 'postinod.user: the daemon runs as that user after binding' '
		check_eq "$(ps -o user= -p "$POSTINOD_PID" | tr -d " ")" nobody &&
		check_eq "$(curl -s "$BASE/healthz" | jq -r .status)" ok
	'
fi

test_setup 'restart with a slow post-creation hook' '
	stop_postinod &&
	printf "#!/bin/sh\ntouch \"%s/hook-started\"\nsleep 2\n" "$TEST_DIR" \
		>"$TEST_DIR/slow-hook" &&
	chmod +x "$TEST_DIR/slow-hook" &&
	start_postinod POSTINO_POSTCREATION_HOOK="$TEST_DIR/slow-hook"
'

test_setup 'SIGTERM while a request is in progress' '
	TOKEN=$(token) &&
	(scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"slow@example.org\",\"password\":\"pw-pw-pw-1\"}" >status) &
	req=$! &&
	wait_until 60 test -e "$TEST_DIR/hook-started" &&
	kill -TERM "$POSTINOD_PID" &&
	{ wait_until 30 sh -c "! curl -s -o /dev/null --max-time 1 $BASE/healthz";
	  refused=$?; } &&
	wait $req &&
	stop_pid "$POSTINOD_PID"
'

test_expect_success 'SIGTERM: the request finished, new ones were refused, exit 0' '
	check_eq "$(cat status)" 201 &&
	test "$refused" -eq 0 &&
	check_eq "$STOP_RC" 0 "exit status" &&
	check_grep "SIGTERM: draining" "$TEST_DIR/postinod.log" &&
	check_grep "postinod: stopped" "$TEST_DIR/postinod.log" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'slow@example.org'"'"'")" 1
'

test_expect_success 'no sanitizer reports from any daemon of this script' '
	postinod_log_clean
'

test_done
