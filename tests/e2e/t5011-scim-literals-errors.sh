#!/bin/sh
# engines: all
# SCIM filter literals true/false/null in any case (RFC 7644 takes them
# from JSON, lower-case; unquoted they can mean nothing else), not as
# prefixes of longer words; and what postinod answers itself carries the
# SCIM error envelope, while what libmicrohttpd answers before postinod
# sees the request (a malformed request line) keeps its status.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino --identity-backend hybrid
. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools
need_cmd python3
export POSTINO_BCRYPT_COST=4

test_setup 'two mailboxes, one disabled, one without a name' '
	postino domain add l.org >/dev/null &&
	printf "pw-one-pw-x\n" | postino user add a@l.org --name "Ann" --password-stdin >/dev/null &&
	printf "pw-two-pw-x\n" | postino user add b@l.org --password-stdin >/dev/null &&
	postino user disable b@l.org &&
	start_jwks && start_postinod &&
	TOKEN=$(token)
'

total() {
	expect_status 200 scim_get_q /Users "filter=$1" >/dev/null &&
	jq -r .totalResults out
}

bad_filter() {
	expect_status 400 scim_get_q /Users "filter=$1" &&
	json ".scimType == \"invalidFilter\" and .status == \"400\"" out
}

test_expect_success 'true, false and null in any case' '
	check_eq "$(total "active eq true")" 1 &&
	check_eq "$(total "active eq True")" 1 &&
	check_eq "$(total "active eq TRUE")" 1 &&
	check_eq "$(total "active eq False")" 1 &&
	check_eq "$(total "active ne FALSE")" 1 &&
	check_eq "$(total "name.formatted eq Null")" 1 &&
	check_eq "$(total "name.formatted ne NULL")" 1
'

test_expect_success 'but not other words, nor quoted booleans' '
	bad_filter "active eq truex" &&
	bad_filter "active eq tru" &&
	bad_filter "active eq \"True\"" &&
	bad_filter "active eq yes"
'

# raw REQUEST: send bytes as they are; the status line and body to ./out.
raw() {
	python3 - "$PORT" "$1" >out <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
print(data.decode("latin-1"))
PY
}

test_expect_success 'an HTTP/1.1 request without Host reaches postinod (SCIM envelope)' '
	raw "GET /scim/v2/Users HTTP/1.1\r\nConnection: close\r\n\r\n" &&
	head -1 out | grep -q "^HTTP/1.1 401" &&
	grep -q "urn:ietf:params:scim:api:messages:2.0:Error" out
'

test_expect_success 'postinod'\''s own errors under /scim/v2 are SCIM envelopes' '
	for p in /Nope "/Users/a@l.org%00x" "/Users?count=x"; do
		code=$(scim GET "$p") &&
		case $code in 4??) ;; *) echo "$p: $code" >&2; return 1 ;; esac &&
		json ".schemas == [\"urn:ietf:params:scim:api:messages:2.0:Error\"] and .status == \"$code\"" out ||
		return 1
	done &&
	code=$(scim PATCH /Users "{}") &&
	json ".schemas == [\"urn:ietf:params:scim:api:messages:2.0:Error\"] and .status == \"$code\"" out
'

test_expect_success 'a malformed request line: libmicrohttpd says 400 itself' '
	raw "GET /scim/v2/Users HTTP/1.1 extra\r\nHost: x\r\nConnection: close\r\n\r\n" &&
	head -1 out | grep -q "^HTTP/1.1 400"
'

test_done
