#!/bin/sh
# scripts/valgrind.sh: every unit test and a session of each daemon under
# valgrind's memcheck, in one command.
#
#   scripts/valgrind.sh [-b BUILD_DIR] [-k]
#
# BUILD_DIR (default build/, set up and built if it has no build.ninja)
# must be an ordinary build: valgrind and the sanitizers do not mix.  Runs
#   - every tests/unit test binary (build/tests/t_*);
#   - podop twice on a throw-away SQLite database with the postfixadmin
#     tables: socketmap lookups through postmap(1) (or podop-probe when
#     Postfix is not installed), found, not found and pipelined, then
#     Dovecot dict lookups (passdb, userdb, a quota write, an iteration)
#     through tests/helpers/podop-probe; SIGHUP, then SIGTERM;
#   - postinod with a JWKS server (tests/helpers/pjwt.py): /healthz,
#     /readyz, SCIM create, read, list, patch and delete, a refused token,
#     a webhook event, SIGHUP, then SIGTERM;
# each with --leak-check=full and --error-exitcode, so that any memcheck
# error or definite/indirect leak fails it.  Prints one line per program
# (errors, bytes definitely lost, verdict) and exits 1 if any failed;
# the logs are kept (and their path printed) when something failed, or
# always with -k.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
. "$TOP/tests/lib/util.sh"
KEEP=0
while getopts b:kh opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '2,24p' "$0"; exit 64 ;;
	esac
done
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
command -v valgrind >/dev/null ||
	{ echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
	echo "# setting up $BUILD"
	(cd "$TOP" && meson setup "$BUILD") >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
if grep -q 'b_sanitize=[a-z]' "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null ||
	grep -q -- '-fsanitize=' "$BUILD/build.ninja"; then
	echo "valgrind.sh: $BUILD is a sanitizer build; give an ordinary one (-b)" >&2
	exit 1
fi
echo "# building $BUILD"
ninja -C "$BUILD" >"$BUILD.ninja.log" 2>&1 || { cat "$BUILD.ninja.log"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/postino-valgrind.XXXXXX")
chmod 755 "$W"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	if [ "${FAILED:-1}" = 0 ] && [ "$KEEP" = 0 ]; then
		rm -rf "$W"
	else
		echo "logs: $W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Whatever the caller's environment says, the programs see only this.
for v in $(env | sed -n 's/^\(POSTINO[A-Z_]*\)=.*/\1/p;s/^\(PODOP_[A-Z_]*\)=.*/\1/p'); do
	unset "$v"
done
export HOME="$W/home" LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"

VG="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
	--num-callers=30 --child-silent-after-fork=yes"
[ ! -f "$TOP/scripts/valgrind.supp" ] || VG="$VG --suppressions=$TOP/scripts/valgrind.supp"

RESULTS=$W/results
: >"$RESULTS"
FAILED=0

# record NAME RC LOG: one line of the summary.
record() {
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$3" | tail -1)
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$3" | tail -1 | tr -d ,)
	if [ "$2" = 0 ] && [ "${errs:-x}" = 0 ]; then
		verdict=ok
	elif [ "$2" = 99 ] || [ "${errs:-0}" != 0 ]; then
		verdict="FAIL (memcheck: see $(basename "$3"))"
		FAILED=1
	else
		verdict="FAIL (the program failed, exit $2; memcheck clean)"
		FAILED=1
	fi
	printf '%-22s %7s %10s  %s\n' "$1" "${errs:--}" "${lost:-0}" "$verdict" >>"$RESULTS"
	printf '%-22s %s\n' "$1" "$verdict"
}

# stop PID: SIGTERM and wait for valgrind to finish its report; sets RC.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	RC=0
	wait "$1" || RC=$?
}

ns() {
	for _s in "$@"; do
		printf '%d:%s,' "$(printf '%s' "$_s" | wc -c)" "$_s"
	done
}

echo "# unit tests"
# valgrind does not emulate seccomp: t_harden leaves those cases out.
export POSTINO_TEST_UNDER_VALGRIND=1
for t in "$BUILD"/tests/t_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	rc=0
	(cd "$W" && $VG --log-file="$W/$name.vg" "$t" >"$W/$name.tap" 2>&1) || rc=$?
	if [ "$rc" = 0 ] && grep -q '^not ok' "$W/$name.tap"; then
		rc=1
	fi
	record "$name" "$rc" "$W/$name.vg"
done

echo "# a database for the daemons"
POSTINO=$BUILD/src/cli/postino
"$POSTINO" init --dir "$W/etc" --engine sqlite --mail-root "$W/mail" \
	--vmail-uid "$(id -u)" --vmail-gid "$(id -g)" >"$W/init.log" 2>&1
export POSTINO_CONFIG="$W/etc/postino.toml" POSTINO_BCRYPT_COST=4
"$POSTINO" domain add example.org >/dev/null
printf 'pw-alice\n' | "$POSTINO" user add alice@example.org --password-stdin >/dev/null
printf 'pw-bob-secret\n' | "$POSTINO" user add bob@example.org --password-stdin >/dev/null
"$POSTINO" alias add info@example.org alice@example.org,bob@example.org >/dev/null
PODOP=$BUILD/src/podop/podop
PROBE=$BUILD/tests/helpers/podop-probe

echo "# podop, socketmap"
$VG --log-file="$W/podop-socketmap.vg" "$PODOP" --socket "$W/sm.sock" -v \
	--cache-ttl 60 --table alias=postfixadmin:alias \
	--table mailbox=postfixadmin:mailbox --table domain=postfixadmin:domain \
	>"$W/podop-socketmap.log" 2>&1 &
P=$!
PIDS="$PIDS $P"
wait_until 60 test -S "$W/sm.sock" || { cat "$W/podop-socketmap.log"; exit 1; }
sm_ok=1
if command -v postmap >/dev/null; then
	mkdir -p "$W/pf"
	echo 'compatibility_level = 3.6' >"$W/pf/main.cf"
	for k in info@example.org alice@example.org nobody@example.org info@example.org; do
		postmap -c "$W/pf" -q "$k" "socketmap:unix:$W/sm.sock:alias" \
			>>"$W/sm.out" 2>&1 || true
	done
	printf 'alice@example.org\nbob@example.org\nnone@example.org\n' |
		postmap -c "$W/pf" -q - "socketmap:unix:$W/sm.sock:mailbox" \
		>>"$W/sm.out" 2>&1 || true
	grep -q "^alice@example.org,bob@example.org$" "$W/sm.out" || sm_ok=0
fi
ns "alias info@example.org" "mailbox bob@example.org" "domain example.org" \
	"domain nowhere.example" "nomap x" |
	"$PROBE" -w 30000 "$W/sm.sock" >>"$W/sm.out" 2>&1 || true
grep -q "OK example.org/bob/" "$W/sm.out" || sm_ok=0
kill -HUP "$P"
sleep 1
ns "alias info@example.org" | "$PROBE" -w 30000 "$W/sm.sock" >>"$W/sm.out" 2>&1 || true
stop "$P"
[ "$sm_ok" = 1 ] || { echo "podop (socketmap) answered wrong:"; cat "$W/sm.out"; RC=1; }
record podop-socketmap "$RC" "$W/podop-socketmap.vg"

echo "# podop, dict"
$VG --log-file="$W/podop-dict.vg" "$PODOP" --socket "$W/dict.sock" -v \
	--mode dovecot --table auth=postfixadmin:dovecot \
	>"$W/podop-dict.log" 2>&1 &
P=$!
PIDS="$PIDS $P"
wait_until 60 test -S "$W/dict.sock" || { cat "$W/podop-dict.log"; exit 1; }
{
	printf 'H3\t2\t0\t\tauth\n'
	printf 'Lshared/passdb/alice@example.org\t\n'
	printf 'Lshared/userdb/bob@example.org\t\n'
	printf 'Lshared/passdb/nobody@example.org\t\n'
	printf 'B1\talice@example.org\n'
	printf 'S1\tpriv/quota/storage\t1234\n'
	printf 'S1\tpriv/quota/messages\t2\n'
	printf 'C1\n'
	printf 'Lpriv/quota/storage\talice@example.org\n'
	printf 'I0\t0\tshared/userdb/\t\n'
} | "$PROBE" -w 30000 "$W/dict.sock" >"$W/dict.out" 2>&1 || true
dict_ok=1
grep -q '^O{"password":"{BLF-CRYPT}' "$W/dict.out" || dict_ok=0
grep -q '^O1234$' "$W/dict.out" || dict_ok=0
grep -q '^Oshared/userdb/bob@example.org' "$W/dict.out" || dict_ok=0
stop "$P"
[ "$dict_ok" = 1 ] || { echo "podop (dict) answered wrong:"; cat "$W/dict.out"; RC=1; }
record podop-dict "$RC" "$W/podop-dict.vg"

echo "# postinod"
if [ -x "$BUILD/src/postinod/postinod" ] &&
	/usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null; then
	PJWT=$TOP/tests/helpers/pjwt.py
	/usr/bin/python3 "$PJWT" keys "$W/keys"
	/usr/bin/python3 "$PJWT" serve "$W/keys" "$W/jwks.port" >"$W/jwks.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_until 10 test -s "$W/jwks.port"
	ISSUER=http://127.0.0.1:$(cat "$W/jwks.port")
	PORT=$(free_port)
	BASE=http://127.0.0.1:$PORT
	HMAC=valgrind-secret-0123456789-abcdefghijklmnop
	env POSTINOD_LISTEN="127.0.0.1:$PORT" POSTINOD_SCIM_ISSUER="$ISSUER" \
		POSTINOD_SCIM_AUDIENCE=postino-test POSTINOD_THREADS=2 \
		POSTINOD_ZITADEL_HMAC_SECRET="$HMAC" \
		$VG --log-file="$W/postinod.vg" "$BUILD/src/postinod/postinod" \
		>"$W/postinod.log" 2>&1 &
	P=$!
	PIDS="$PIDS $P"
	wait_until 60 curl -sf "$BASE/healthz" || { cat "$W/postinod.log"; exit 1; }
	TOKEN=$(/usr/bin/python3 "$PJWT" token "$W/keys" --iss "$ISSUER" \
		--aud postino-test --sub valgrind)
	U='urn:ietf:params:scim:schemas:core:2.0:User'
	PATCH='urn:ietf:params:scim:api:messages:2.0:PatchOp'
	call() {
		# call METHOD PATH [BODY]: print the status
		curl -s -o /dev/null -w '%{http_code} ' -X "$1" \
			-H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/scim+json' \
			${3:+--data-binary "$3"} "$BASE/scim/v2$2"
	}
	{
		curl -s -o /dev/null -w '%{http_code} ' "$BASE/readyz"
		call POST /Users "{\"schemas\":[\"$U\"],\"userName\":\"carol@example.org\",\"password\":\"pw-carol-123\"}"
		call GET /Users/carol@example.org
		call GET '/Users?filter=userName%20sw%20%22a%22&count=5'
		call PATCH /Users/carol@example.org "{\"schemas\":[\"$PATCH\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]}"
		call DELETE /Users/carol@example.org
		call POST /Users '{"userName":'
		TOKEN=not.a.token call GET /Users
		/usr/bin/python3 "$TOP/tests/helpers/zitadel.py" "$BASE/zitadel/events" \
			--secret "$HMAC" --type user.deactivated --email alice@example.org |
			cut -d' ' -f1
	} >"$W/postinod.out" 2>&1
	kill -HUP "$P"
	sleep 0.5
	call GET /Users >>"$W/postinod.out" 2>&1
	stop "$P"
	if [ "$(tr -s ' \n' '  ' <"$W/postinod.out")" != "200 201 200 200 200 204 400 401 200 200 " ]; then
		echo "postinod answered: $(cat "$W/postinod.out")"
		RC=1
	fi
	record postinod "$RC" "$W/postinod.vg"
else
	echo "postinod not built, or python3-jwt missing: skipped"
	printf '%-22s %7s %10s  %s\n' postinod - - skipped >>"$RESULTS"
fi

echo
printf '%-22s %7s %10s  %s\n' program errors lost_bytes verdict
cat "$RESULTS"
echo "valgrind $(valgrind --version | sed 's/valgrind-//'), $(nproc) cores"
exit "$FAILED"
