# check-lib.sh: helpers for the "postino check" tests (t2*-check-*.sh).
# Source it after test-lib.sh:
#
#	. "$(dirname "$0")/../lib/test-lib.sh"
#	. "$SRCDIR/tests/lib/check-lib.sh"
#	setup_check
#	test_expect_success 'mailbox_base: world-writable mail root' '
#		check_breaks mailbox_base error \
#			"chmod 777 \"\$MAIL_ROOT\"" "chmod 755 \"\$MAIL_ROOT\""
#	'
#
# setup_check makes a clean installation with the real postino commands:
# two domains, an alias domain, two mailboxes with maildirs, an alias.  The
# vmail ids are a non-root user when the tests run as root (Dovecot refuses
# uid 0, and ownership probes would mean nothing), else our own ids.

# Vmail ids for this run: nobody/nogroup (65534) as root, else ourselves.
check_vmail_ids() {
	if [ "$(id -u)" -eq 0 ] && getent passwd 65534 >/dev/null &&
		getent group 65534 >/dev/null; then
		VMAIL_UID=65534 VMAIL_GID=65534
	else
		VMAIL_UID=$(id -u) VMAIL_GID=$(id -g)
	fi
	export VMAIL_UID VMAIL_GID
}

setup_check() {
	check_vmail_ids
	setup_postino --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" "$@"
	PFDIR=$TEST_DIR/etc/postfix
	export PFDIR
	{
		postino domain add example.org &&
		postino domain add example.net &&
		postino domain alias add example.net --target example.org &&
		printf 'secret-1\n' | postino user add alice@example.org --password-stdin &&
		printf 'secret-2\n' | postino user add bob@example.org --password-stdin &&
		postino alias add info@example.org alice@example.org,bob@example.org
	} >"$TEST_DIR/setup-check.log" 2>&1 || {
		echo "# setup_check failed:"
		sed 's/^/#   /' "$TEST_DIR/setup-check.log"
		echo "not ok 1 - setup_check"
		echo "1..1"
		exit 1
	}
}

# run_check [--deep]: postino check --json into check.json, exit code into
# $CHECK_RC; the human output of the same run goes to check.txt.  Always
# succeeds: callers look at $CHECK_RC.
run_check() {
	postino check --json "$@" >check.json 2>check.err
	CHECK_RC=$?
	postino check --no-color "$@" >check.txt 2>&1
	return 0
}

# The findings that are not "info", as "name=severity" sorted, one line.
check_problems() {
	jq -r '[.findings[] | select(.severity != "info") |
		"\(.name)=\(.severity)"] | sort | join(" ")' check.json
}

# expect_clean [--deep]: no warnings, no errors, exit 0, ok true.
expect_clean() {
	run_check "$@"
	_p=$(check_problems)
	if [ -n "$_p" ] || [ "$CHECK_RC" -ne 0 ]; then
		echo "expected a clean check$*, got exit $CHECK_RC: $_p" >&2
		sed 's/^/  | /' check.txt >&2
		return 1
	fi
	json '.ok == true' check.json
}

# expect_finding NAME=SEVERITY... [-- --deep]: exactly these problems (and
# no other warning or error); exit 4 when one of them is an error, else 0.
expect_finding() {
	_want=
	_rc=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_want="$_want $1"
		case $1 in *=error) _rc=4 ;; esac
		shift
	done
	[ "${1:-}" = -- ] && shift
	# shellcheck disable=SC2086
	_want=$(printf '%s\n' $_want | sort | tr '\n' ' ' | sed 's/ $//')
	run_check "$@"
	_got=$(check_problems)
	if [ "$_got" != "$_want" ]; then
		echo "findings: got [$_got], want [$_want]" >&2
		sed 's/^/  | /' check.txt >&2
		return 1
	fi
	if [ "$CHECK_RC" -ne "$_rc" ]; then
		echo "exit code: got $CHECK_RC, want $_rc" >&2
		return 1
	fi
	if [ "$_rc" -eq 4 ]; then
		json '.ok == false' check.json
	else
		json '.ok == true' check.json
	fi
}

# check_breaks NAME=SEVERITY... -- BREAK REPAIR [ARGS...]: run BREAK,
# expect exactly those findings (check ARGS, e.g. --deep), run REPAIR,
# expect a clean check again.
check_breaks() {
	_names=
	while [ "$1" != -- ]; do
		_names="$_names $1"
		shift
	done
	shift
	_break=$1 _repair=$2
	shift 2
	_ok=0
	eval "$_break" || { echo "break step failed: $_break" >&2; _ok=1; }
	# shellcheck disable=SC2086
	[ $_ok -eq 0 ] && { expect_finding $_names -- "$@" || _ok=1; }
	eval "$_repair" || { echo "repair step failed: $_repair" >&2; _ok=1; }
	[ $_ok -eq 0 ] && { expect_clean "$@" || _ok=1; }
	return $_ok
}

# toml_set KEY VALUE: set a top-level key in postino.toml (VALUE is TOML).
toml_set() {
	sed -i "/^$1 = /d" "$POSTINO_CONFIG" &&
	# Top-level keys must come before any [table].
	sed -i "1i $1 = $2" "$POSTINO_CONFIG"
}

toml_unset() {
	sed -i "/^$1 = /d" "$POSTINO_CONFIG"
}

# The message of finding NAME in check.json.
finding_message() {
	jq -r --arg n "$1" '.findings[] | select(.name == $n) | .message' check.json
}
