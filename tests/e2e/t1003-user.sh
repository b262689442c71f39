#!/bin/sh
# engines: all
# postino user ...: rows, files, hashes (verified by Dovecot's own doveadm),
# quotas, capacity, identity backends, rename.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd doveadm
setup_postino

# doveadm pw -t is the judge of every hash postino writes.
verify_hash() {
	hash=$(sql "SELECT password FROM mailbox WHERE username = '$1'") &&
	doveadm -O pw -t "$hash" -p "$2" >/dev/null 2>&1
}

row() {
	sql "SELECT $2 FROM mailbox WHERE username = '$1'"
}

test_expect_success 'setup' '
	postino domain add example.com --max-mailboxes 3 --default-quota 1G --max-quota 5G >/dev/null
'

test_expect_success 'user add (README flags) creates row, quota2, self-alias, maildir' '
	printf "s3cret pass\n" | postino user add foo@example.com --name "Foo Bar" \
		--quota 2G --scheme BLF-CRYPT --password-stdin --json >out &&
	json ".username == \"foo@example.com\" and .name == \"Foo Bar\" and .maildir == \"example.com/foo/\" and .quota_bytes == 2147483648 and .local_part == \"foo\" and .domain == \"example.com\" and .status == 1 and .password_scheme == \"BLF-CRYPT\"" out &&
	check_eq "$(row foo@example.com "name, maildir, quota, local_part, domain, active")" \
		"$(printf "Foo Bar\texample.com/foo/\t2147483648\tfoo\texample.com\t1")" &&
	check_eq "$(sql "SELECT bytes, messages FROM quota2 WHERE username = '"'"'foo@example.com'"'"'")" "$(printf "0\t0")" &&
	check_eq "$(sql "SELECT goto, domain, active FROM alias WHERE address = '"'"'foo@example.com'"'"'")" "$(printf "foo@example.com\texample.com\t1")" &&
	check_eq "$(sql "SELECT action, data FROM log WHERE action = '"'"'create_mailbox'"'"'")" "$(printf "create_mailbox\tfoo@example.com")"
'

test_expect_success 'the hash is {BLF-CRYPT}$2y$12$ and Dovecot verifies it' '
	case $(row foo@example.com password) in
	"{BLF-CRYPT}\$2y\$12\$"*) ;;
	*) echo "bad hash prefix"; exit 1 ;;
	esac &&
	verify_hash foo@example.com "s3cret pass" &&
	! verify_hash foo@example.com "wrong"
'

test_expect_success 'maildir: Maildir++ skeleton, mode 0700, owned by vmail' '
	for d in "" cur new tmp; do
		p="$MAIL_ROOT/example.com/foo/$d"
		test -d "$p" || { echo "missing $p"; exit 1; }
		check_eq "$(stat -c %a "$p")" 700 "mode of $p" || exit 1
		check_eq "$(stat -c %u:%g "$p")" "$VMAIL_UID:$VMAIL_GID" "owner of $p" || exit 1
	done
'

test_expect_success 'every scheme writes a hash Dovecot verifies' '
	for s in SHA512-CRYPT ARGON2I ARGON2ID MD5-CRYPT; do
		u=$(echo "$s" | tr A-Z a-z)@example.com
		printf "pw-%s\n" "$s" | postino user add "$u" --scheme "$s" --password-stdin >/dev/null || exit 1
		case $(row "$u" password) in "{$s}"*) ;; *) echo "prefix $s"; exit 1 ;; esac
		verify_hash "$u" "pw-$s" || { echo "doveadm rejected $s"; exit 1; }
		postino user del "$u" --yes || exit 1
	done
'

test_expect_success 'missing --quota takes the domain default' '
	printf "x-secret\n" | postino user add d@example.com --password-stdin --json >out &&
	json ".quota_bytes == 1073741824" out
'

test_expect_success 'quota above the domain maximum exits 3; unlimited too' '
	expect_code 3 sh -c "printf \"x-secret\\n\" | postino user add big@example.com --quota 6G --password-stdin" 2>err &&
	check_grep "exceeds" err &&
	expect_code 3 sh -c "printf \"x-secret\\n\" | postino user add big@example.com --quota 0 --password-stdin" &&
	expect_code 1 postino user show big@example.com &&
	! test -e "$MAIL_ROOT/example.com/big"
'

test_expect_success 'capacity: the domain cap exits 3 and leaves nothing' '
	printf "x-secret\n" | postino user add third@example.com --password-stdin >/dev/null &&
	expect_code 3 sh -c "printf \"x-secret\\n\" | postino user add fourth@example.com --password-stdin" 2>err &&
	check_grep "3 of 3 mailboxes" err &&
	! test -e "$MAIL_ROOT/example.com/fourth" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox")" 3
'

test_expect_success 'duplicates exit 2; an alias with the address exits 2' '
	postino domain add two.example >/dev/null &&
	expect_code 2 sh -c "printf \"x-secret\\n\" | postino user add FOO@example.com --password-stdin" &&
	postino alias add taken@two.example foo@example.com >/dev/null &&
	expect_code 2 sh -c "printf \"x-secret\\n\" | postino user add taken@two.example --password-stdin" 2>err &&
	check_grep "alias" err
'

test_expect_success 'unknown domain exits 1 with a hint' '
	expect_code 1 sh -c "printf \"x-secret\\n\" | postino user add a@nothere.example --password-stdin" 2>err &&
	check_grep "postino domain add nothere.example" err
'

test_expect_success 'password input: empty line, terminal stdin, no terminal' '
	expect_code 4 sh -c "printf \"\\n\" | postino user add e@two.example --password-stdin" 2>err &&
	check_grep "empty password" err &&
	expect_code 4 script -qec "postino user add e@two.example --password-stdin" /dev/null >out 2>&1 &&
	check_grep "interactive stdin" out &&
	expect_code 4 setsid -w postino user add e@two.example </dev/null 2>err &&
	check_grep "password-stdin" err &&
	expect_code 1 postino user show e@two.example
'

test_expect_success 'password prompt on the terminal, twice, no echo' '
	# Type after each prompt appears, as a person would.
	tty_answer out "postino user add t@two.example" tty-pass tty-pass &&
	check_grep "Password:" out &&
	! grep -q "tty-pass" out &&
	verify_hash t@two.example tty-pass
'

test_expect_success 'the password never appears in argv, output or the log table' '
	printf "Sup3rSecretZ\n" | postino user add s@two.example --password-stdin >out 2>&1 &&
	! grep -q Sup3rSecretZ out &&
	! sql "SELECT data FROM log" | grep -q Sup3rSecretZ
'

test_expect_success 'invalid addresses and SQL metacharacters exit 4' '
	for u in "a@b@two.example" "../x@two.example" "a/b@two.example" "x@two.example/../.." \
		"nolocal@" "@two.example" "x'"'"'; DROP TABLE mailbox;--@two.example" \
		"$(printf "%070d" 0)@two.example" "sp ace@two.example"; do
		expect_code 4 sh -c "printf \"x-secret\\n\" | postino user add --password-stdin -- \"\$0\"" "$u" 2>/dev/null ||
		{ echo "accepted: $u"; exit 1; }
	done &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'two.example'"'"'")" 2
'

test_expect_success 'names with quotes and SQL are stored verbatim' '
	printf "x-secret\n" | postino user add q@two.example --name "Robert'"'"'); DROP TABLE mailbox;--" --password-stdin >/dev/null &&
	postino user show q@two.example --json >out &&
	json ".name == \"Robert'"'"'); DROP TABLE mailbox;--\"" out
'

test_expect_success 'list: --domain, --all, table and JSON' '
	postino user disable d@example.com &&
	postino user list --domain example.com --json >out &&
	json "map(.username) == [\"foo@example.com\", \"third@example.com\"]" out &&
	postino user list --domain example.com --all --json >out &&
	json "map(.username) == [\"d@example.com\", \"foo@example.com\", \"third@example.com\"]" out &&
	postino user list --all >out &&
	check_grep "^username " out && check_grep "disabled" out
'

test_expect_success 'disable/enable keep the self-alias in step' '
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'d@example.com'"'"'")" 0 &&
	postino user enable d@example.com &&
	check_eq "$(row d@example.com active)" 1 &&
	check_eq "$(sql "SELECT active FROM alias WHERE address = '"'"'d@example.com'"'"'")" 1
'

test_expect_success 'passwd changes the hash; audit row; old password fails' '
	printf "n3w-secret\n" | postino user passwd foo@example.com --password-stdin 2>err &&
	verify_hash foo@example.com n3w-secret && ! verify_hash foo@example.com "s3cret pass" &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_password'"'"'")" 1 &&
	expect_code 1 sh -c "printf \"x-secret\\n\" | postino user passwd nobody@example.com --password-stdin"
'

test_expect_success 'quota --set validates against the domain and prints the mailbox' '
	postino user quota foo@example.com --set 3G --json >out &&
	json ".quota_bytes == 3221225472" out &&
	expect_code 3 postino user quota foo@example.com --set 10G &&
	expect_code 4 postino user quota foo@example.com --set -1 &&
	postino user quota foo@example.com --json >out &&
	json ".quota_bytes == 3221225472" out
'

test_expect_success 'rename moves row, quota2, self-alias, aliases, maildir' '
	postino alias add team@example.com foo@example.com,third@example.com >/dev/null &&
	echo mail >"$MAIL_ROOT/example.com/foo/new/1.msg" &&
	postino user rename foo@example.com fu@two.example --json >out &&
	json ".username == \"fu@two.example\" and .maildir == \"two.example/fu/\" and .domain == \"two.example\"" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'foo@example.com'"'"'")" 0 &&
	check_eq "$(sql "SELECT username FROM quota2 WHERE username = '"'"'fu@two.example'"'"'")" fu@two.example &&
	check_eq "$(sql "SELECT goto, domain FROM alias WHERE address = '"'"'fu@two.example'"'"'")" "$(printf "fu@two.example\ttwo.example")" &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'team@example.com'"'"'")" "fu@two.example,third@example.com" &&
	test -f "$MAIL_ROOT/two.example/fu/new/1.msg" &&
	! test -e "$MAIL_ROOT/example.com/foo" &&
	verify_hash fu@two.example n3w-secret
'

test_expect_success 'rename onto an existing mailbox exits 2 and changes nothing' '
	expect_code 2 postino user rename fu@two.example third@example.com &&
	test -f "$MAIL_ROOT/two.example/fu/new/1.msg" &&
	postino user show fu@two.example >/dev/null
'

test_expect_success 'a stale quota2 row of the name neither blocks nor survives add and rename' '
	sql "INSERT INTO quota2 (username, bytes, messages) VALUES ('"'"'st@two.example'"'"', 999, 9), ('"'"'mv@two.example'"'"', 777, 7)" &&
	printf "pw-secret\n" | postino user add st@two.example --password-stdin >/dev/null &&
	check_eq "$(sql "SELECT bytes, messages FROM quota2 WHERE username = '"'"'st@two.example'"'"'")" "$(printf "0\t0")" &&
	postino user rename st@two.example mv@two.example >/dev/null &&
	check_eq "$(sql "SELECT bytes, messages FROM quota2 WHERE username = '"'"'mv@two.example'"'"'")" "$(printf "0\t0")" &&
	check_eq "$(sql "SELECT COUNT(*) FROM quota2 WHERE username = '"'"'st@two.example'"'"'")" 0 &&
	postino user del mv@two.example --yes >/dev/null
'

test_expect_success 'del removes rows and the maildir, warns about forwards' '
	postino user del third@example.com --yes 2>err &&
	check_grep "team@example.com" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE username = '"'"'third@example.com'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM quota2 WHERE username = '"'"'third@example.com'"'"'")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE address = '"'"'third@example.com'"'"'")" 0 &&
	! test -e "$MAIL_ROOT/example.com/third" &&
	! ls -A "$MAIL_ROOT/example.com" | grep -q deleting
'

test_expect_success 'del --keep-maildir (README example) keeps the files' '
	postino user del fu@two.example --keep-maildir --yes &&
	test -f "$MAIL_ROOT/two.example/fu/new/1.msg" &&
	expect_code 1 postino user del fu@two.example --yes
'

test_expect_success 're-adding over a kept maildir reuses it with a warning' '
	printf "x-secret\n" | postino user add fu@two.example --password-stdin >/dev/null 2>err &&
	check_grep "reusing the existing maildir" err &&
	test -f "$MAIL_ROOT/two.example/fu/new/1.msg"
'

test_expect_success 'identity_backend=noauth: user add and passwd exit 4' '
	POSTINO_IDENTITY_BACKEND=noauth expect_code 4 sh -c "printf \"x-secret\\n\" | postino user add n@two.example --password-stdin" &&
	POSTINO_IDENTITY_BACKEND=noauth expect_code 4 sh -c "printf \"x-secret\\n\" | postino user passwd q@two.example --password-stdin"
'

test_expect_success 'hybrid: release, passwd needs --claim, claim' '
	expect_code 4 postino user release q@two.example 2>err &&
	check_grep "hybrid" err &&
	export POSTINO_IDENTITY_BACKEND=hybrid &&
	postino user release q@two.example 2>err &&
	check_grep "released" err &&
	check_eq "$(row q@two.example password)" "{NOAUTH}" &&
	postino user release q@two.example 2>err &&
	check_grep "already IdP-managed" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'edit_mailbox'"'"' AND data LIKE '"'"'% released'"'"'")" 1 &&
	expect_code 2 sh -c "printf \"x-secret\\n\" | postino user passwd q@two.example --password-stdin" 2>err &&
	check_grep "claim" err &&
	printf "claimed-secret\n" | postino user passwd q@two.example --claim --password-stdin 2>err &&
	check_grep "claimed into SQL auth" err &&
	verify_hash q@two.example claimed-secret
'

test_done
