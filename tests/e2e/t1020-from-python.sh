#!/bin/sh
# engines: all
# Coming from Python postino: what its users typed and scripted keeps
# working, or stops with a message that says what to do.  Password prompts
# on a real terminal (Ctrl-C, Ctrl-D, kill), piped confirmations and
# passwords, Python's configuration values.
. "$(dirname "$0")/../lib/test-lib.sh"

need_cmd /usr/bin/python3 doveadm setsid
setup_postino
export POSTINO_BCRYPT_COST=4

verify_hash() {
	hash=$(sql "SELECT password FROM mailbox WHERE username = '$1'") &&
	doveadm -O pw -t "$hash" -p "$2" >/dev/null 2>&1
}
PTY="/usr/bin/python3 $SRCDIR/tests/helpers/pty-run.py"

test_expect_success 'setup' '
	postino domain add example.com >/dev/null &&
	printf "pw-secret\n" | postino user add keep@example.com --password-stdin >/dev/null &&
	postino alias add a1@example.com keep@example.com >/dev/null &&
	postino alias add a2@example.com keep@example.com >/dev/null
'

test_expect_success 'Ctrl-C at Password: kills the command and echo is back on' '
	$PTY expect:Password: send:"\\x03" -- postino user add c@example.com >out &&
	check_grep "^status=signal:SIGINT$" out &&
	check_grep "^echo=on$" out &&
	expect_code 1 postino user show c@example.com
'

test_expect_success 'Ctrl-C at the confirmation, Ctrl-\\ and a kill: echo is back on' '
	$PTY expect:Password: send:"secret\\n" expect:confirmation send:"\\x03" \
		-- postino user add c@example.com >out &&
	check_grep "^status=signal:SIGINT$" out &&
	check_grep "^echo=on$" out &&
	$PTY expect:Password: send:"\\x1c" -- postino user add c@example.com >out &&
	check_grep "^status=signal:SIGQUIT$" out &&
	check_grep "^echo=on$" out &&
	$PTY expect:Password: kill:TERM -- postino user add c@example.com >out &&
	check_grep "^status=signal:SIGTERM$" out &&
	check_grep "^echo=on$" out &&
	$PTY expect:Password: kill:HUP -- postino user add c@example.com >out &&
	check_grep "^status=signal:SIGHUP$" out &&
	check_grep "^echo=on$" out &&
	expect_code 1 postino user show c@example.com
'

test_expect_success 'Ctrl-D at Password: aborts with exit 4 and a message' '
	$PTY expect:Password: send:"\\x04" -- postino user add c@example.com >out &&
	check_grep "^status=exit:4$" out &&
	check_grep "end of input at the password prompt" out &&
	check_grep "^echo=on$" out &&
	$PTY expect:"password:" send:"secret\\n" expect:confirmation send:"\\x04" \
		-- postino user passwd keep@example.com >out &&
	check_grep "^status=exit:4$" out &&
	check_grep "end of input" out &&
	expect_code 1 postino user show c@example.com
'

test_expect_success 'an ignored Ctrl-C (nohup, a background job) stays ignored at the prompt' '
	$PTY expect:Password: send:"\\x03" send:"ign-pw-secret\\n" expect:confirmation \
		send:"ign-pw-secret\\n" -- sh -c "trap \"\" INT; exec postino user add i@example.com" >out &&
	check_grep "^status=exit:0$" out &&
	check_grep "^echo=on$" out &&
	verify_hash i@example.com ign-pw-secret
'

test_expect_success 'the terminal prompt still works after all that' '
	$PTY expect:Password: send:"tty-pass\\n" expect:confirmation send:"tty-pass\\n" \
		-- postino user add t@example.com >out &&
	check_grep "^status=exit:0$" out &&
	! grep -q tty-pass out &&
	verify_hash t@example.com tty-pass
'

test_expect_success 'a piped confirmation is read, as Python read it' '
	echo y | postino alias del a1@example.com 2>err &&
	check_grep "Delete alias a1@example.com?" err &&
	expect_code 1 postino alias show a1@example.com &&
	echo yes | postino alias del a2@example.com &&
	expect_code 1 postino alias show a2@example.com
'

test_expect_success 'a piped no, or nothing, declines: exit 1, nothing deleted' '
	postino alias add a3@example.com keep@example.com >/dev/null &&
	echo n | expect_code 1 postino alias del a3@example.com 2>err &&
	check_grep "not confirmed" err &&
	expect_code 1 postino alias del a3@example.com </dev/null &&
	postino alias show a3@example.com >/dev/null
'

test_expect_success 'deleting what does not exist says so before asking' '
	for w in "alias del nope@example.com" "user del nope@example.com" \
		"domain del nope.example" "domain alias del nope.example"; do
		# shellcheck disable=SC2086
		$PTY -- postino $w >out &&
		check_grep "^status=exit:1$" out &&
		check_grep "does not exist" out &&
		! grep -q "y/N" out || { echo "$w:"; cat out; exit 1; }
	done
'

test_expect_success 'a confirmation at the terminal' '
	$PTY expect:"[y/N]" send:"y\\n" -- postino alias del a3@example.com >out &&
	check_grep "^status=exit:0$" out &&
	expect_code 1 postino alias show a3@example.com
'

test_expect_success 'no terminal: the password and its confirmation from stdin' '
	printf "pipe-pw-secret\npipe-pw-secret\n" | setsid -w postino user add p@example.com >out 2>err &&
	check_grep "no terminal" err &&
	verify_hash p@example.com pipe-pw-secret &&
	printf "new-pw-secret\nnew-pw-secret\n" | setsid -w postino user passwd p@example.com 2>err &&
	verify_hash p@example.com new-pw-secret
'

test_expect_success 'no terminal: a mismatch or a missing second line changes nothing' '
	expect_code 4 sh -c "printf \"one\ntwo\n\" | setsid -w postino user add q@example.com" 2>err &&
	check_grep "differ" err &&
	expect_code 4 sh -c "printf \"one-secret\n\" | setsid -w postino user add q@example.com" 2>err &&
	check_grep "no confirmation line" err &&
	expect_code 1 postino user show q@example.com
'

test_expect_success 'arguments are checked before the password is asked' '
	$PTY -- postino user add "bad addr@example.com" >out &&
	check_grep "^status=exit:4$" out &&
	! grep -q "assword" out &&
	$PTY -- postino user add x@nothere.example >out &&
	check_grep "^status=exit:1$" out &&
	check_grep "postino domain add nothere.example" out &&
	! grep -q "assword:" out &&
	$PTY -- postino user add KEEP@example.com >out &&
	check_grep "^status=exit:2$" out &&
	! grep -q "assword:" out &&
	$PTY -- postino user add y@example.com --quota lots >out &&
	check_grep "^status=exit:4$" out &&
	! grep -q "assword:" out
'

test_expect_success 'under local, user passwd on a {NOAUTH} mailbox needs --claim (exit 2)' '
	sql "UPDATE mailbox SET password = '"'"'{NOAUTH}'"'"' WHERE username = '"'"'p@example.com'"'"'" &&
	expect_code 2 sh -c "printf \"x-secret\\n\" | postino user passwd p@example.com --password-stdin" 2>err &&
	check_grep "claim" err &&
	check_eq "$(sql "SELECT password FROM mailbox WHERE username = '"'"'p@example.com'"'"'")" "{NOAUTH}" &&
	printf "claimed-pw\n" | postino user passwd p@example.com --claim --password-stdin &&
	verify_hash p@example.com claimed-pw
'

test_expect_success 'domain list shows the transport as domain show does' '
	postino domain add lmtp.example --transport lmtp >/dev/null &&
	postino domain show lmtp.example >show &&
	check_grep "lmtp:unix:private/dovecot-lmtp" show &&
	postino domain list >list &&
	check_grep "^lmtp.example .*lmtp:unix:private/dovecot-lmtp" list
'

test_expect_success 'a misspelt POSTINO_ variable is warned about, with did-you-mean' '
	POSTINO_VMAIL_UIDD=5 postino domain list >/dev/null 2>err &&
	check_grep "POSTINO_VMAIL_UIDD is not a postino variable.*did you mean POSTINO_VMAIL_UID" err &&
	POSTINO_FROBNICATE=1 postino domain list >/dev/null 2>err &&
	check_grep "POSTINO_FROBNICATE is not a postino variable" err &&
	POSTINO_VMAIL_UID=$VMAIL_UID postino domain list >/dev/null 2>err &&
	! grep -q "not a postino variable" err
'

test_expect_success 'a warning is one line, whatever its text holds' '
	env "POSTINO_FROB
NICATE=1" postino domain list >/dev/null 2>err &&
	check_grep "^postino: warning: POSTINO_FROB NICATE is not a postino variable" err &&
	test "$(wc -l <err)" -eq 1
'

test_expect_success '--install-completion says where the completion files are' '
	postino --install-completion >out 2>&1 &&
	check_grep "bash-completion/completions/postino" out &&
	check_grep "_postino" out &&
	postino --show-completion >out 2>&1 &&
	check_grep "completion comes with postino" out
'

test_expect_success 'config gen takes Python postino options' '
	postino config gen --out gen --vmail-uid 5123 --vmail-gid 5124 \
		--mlmmj-spool /srv/lists --mlmmj-uid listrunner --mlmmj-gid lists \
		--no-preflight --no-postcheck >out 2>err || { cat err; exit 1; }
	grep -rq "5123" gen/dovecot &&
	grep -rq "5124" gen/dovecot &&
	grep -q "user=listrunner" gen/postfix/master.cf &&
	grep -q "/srv/lists" gen/postfix/master.cf
'

test_expect_success 'config gen --db-url is refused with what to do instead' '
	expect_code 64 postino config gen --out gen2 \
		--db-url "mysql+pymysql://u@localhost/postfix" 2>err &&
	check_grep "sql-virtual_mailbox_maps.cf" err &&
	check_grep "postino init" err &&
	! test -e gen2
'

test_expect_success 'init --force keeps postino.toml and backs up the maps it replaces' '
	postino init --dir fresh --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" >/dev/null &&
	printf "postcreation_hook = \"/bin/true\"\n[postinod]\nthreads = 2\n" >>fresh/postino.toml &&
	cp fresh/postino.toml toml.before &&
	echo "# hand-edited" >>fresh/postfix/sql-virtual_alias_maps.cf &&
	cp fresh/postfix/sql-virtual_alias_maps.cf alias.before &&
	cp fresh/postfix/sql-virtual_domains.cf domains.before &&
	postino init --dir fresh --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" --force >out &&
	cmp toml.before fresh/postino.toml &&
	check_grep "kept .*postino.toml" out &&
	cmp alias.before fresh/postfix/sql-virtual_alias_maps.cf.bak &&
	! grep -q "hand-edited" fresh/postfix/sql-virtual_alias_maps.cf &&
	check_grep "sql-virtual_alias_maps.cf.bak" out &&
	cmp domains.before fresh/postfix/sql-virtual_domains.cf &&
	! test -e fresh/postfix/sql-virtual_domains.cf.bak &&
	echo "# again" >>fresh/postfix/sql-virtual_alias_maps.cf &&
	postino init --dir fresh --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" --force >/dev/null &&
	cmp alias.before fresh/postfix/sql-virtual_alias_maps.cf.bak &&
	check_grep "# again" fresh/postfix/sql-virtual_alias_maps.cf.bak.1 &&
	POSTINO_CONFIG=$TEST_DIR/fresh/postino.toml postino config show -n >show &&
	check_grep "threads = 2" show
'

test_expect_success 'init asks for the database password only once the arguments are good' '
	$PTY -- postino init --dir bad --engine pgsql --user u --dbname d --vmail-uid nope >out &&
	check_grep "^status=exit:4$" out &&
	! grep -q "assword" out
'

test_expect_success 'check names the smallest step for a missing map, and it works' '
	export POSTINO_CONFIG=$TEST_DIR/fresh/postino.toml &&
	rm fresh/postfix/sql-virtual_domains.cf &&
	postino check >out 2>&1
	check_grep "postino config gen --only sql_domains --out DIR" out &&
	postino config gen --only sql_domains --out step >/dev/null &&
	install -m 0640 step/postfix/sql-virtual_domains.cf fresh/postfix/ &&
	postino check >out 2>&1
	! grep -q "sql-virtual_domains.cf.* is missing" out &&
	check_grep "sql-virtual_domains.cf: mode 0640" out
'

test_done
