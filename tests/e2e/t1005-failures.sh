#!/bin/sh
# engines: all
# Failure paths: after any failed command the database and the mail root
# are as they were before it.  Hooks that fail or hang, symlinks planted in
# the mail root, a full filesystem, and a capped domain under concurrency.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
export POSTINO_BCRYPT_COST=4

state() {
	sql "SELECT username FROM mailbox ORDER BY username" &&
	sql "SELECT address, goto FROM alias ORDER BY address" &&
	sql "SELECT username FROM quota2 ORDER BY username" &&
	(cd "$MAIL_ROOT" && find . | sort)
}

add() {
	printf "pw-secret\n" | postino user add "$@" --password-stdin
}

test_expect_success 'setup' '
	postino domain add example.com >/dev/null &&
	add keep@example.com >/dev/null
'

cat >"$TEST_DIR/hook-ok.sh" <<EOH
#!/bin/sh
printf '%s\n' "\$@" >"$TEST_DIR/hook.out"
env | sort >"$TEST_DIR/hook.out.env"
pwd >"$TEST_DIR/hook.out.cwd"
EOH
cat >"$TEST_DIR/hook-fail.sh" <<'EOH'
#!/bin/sh
mkdir -p "$0.ran"
echo "quota service unreachable" >&2
exit 3
EOH
cat >"$TEST_DIR/hook-hang.sh" <<'EOH'
#!/bin/sh
sleep 60
EOH
chmod 755 "$TEST_DIR"/hook-*.sh

test_expect_success 'the hook gets PostfixAdmin arguments, a minimal env and /' '
	sed -i "/^postcreation_hook/d" "$POSTINO_CONFIG" &&
	printf "postcreation_hook = \"%s\"\n" "$TEST_DIR/hook-ok.sh" >>"$POSTINO_CONFIG" &&
	SECRET_ENV=leak add h@example.com --quota 1M >/dev/null &&
	check_eq "$(cat hook.out)" "$(printf "h@example.com\nexample.com\nexample.com/h\n1048576")" &&
	! grep -q SECRET_ENV hook.out.env &&
	check_grep "^LANG=C$" hook.out.env &&
	check_eq "$(cat hook.out.cwd)" /
'

test_expect_success 'a failing hook: exit 7, mailbox taken back, state unchanged' '
	sed -i "/^postcreation_hook/d" "$POSTINO_CONFIG" &&
	printf "postcreation_hook = \"%s\"\n" "$TEST_DIR/hook-fail.sh" >>"$POSTINO_CONFIG" &&
	state >before &&
	expect_code 7 add bad@example.com 2>err &&
	check_grep "exited 3: quota service unreachable" err &&
	test -d "$TEST_DIR/hook-fail.sh.ran" &&
	state >after &&
	diff before after &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'delete_mailbox'"'"' AND data LIKE '"'"'% hook_failed'"'"'")" 1
'

test_expect_success 'a failing hook never removes a maildir that existed before' '
	mkdir -p "$MAIL_ROOT/example.com/old/cur" &&
	echo keep >"$MAIL_ROOT/example.com/old/cur/1.msg" &&
	expect_code 7 add old@example.com 2>err &&
	test -f "$MAIL_ROOT/example.com/old/cur/1.msg" &&
	expect_code 1 postino user show old@example.com
'

test_expect_success 'a hanging hook is killed at the timeout: exit 7, clean' '
	sed -i "/^postcreation_hook/d" "$POSTINO_CONFIG" &&
	printf "postcreation_hook = \"%s\"\npostcreation_hook_timeout = 2\n" "$TEST_DIR/hook-hang.sh" >>"$POSTINO_CONFIG" &&
	state >before &&
	start=$(date +%s) &&
	expect_code 7 add slow@example.com 2>err &&
	# Killed at the 2 s timeout, not waited for: the bound is half of
	# the 60 s the hook sleeps, which a loaded machine does not reach.
	test $(( $(date +%s) - start )) -lt 30 &&
	check_grep "did not finish within 2 s" err &&
	state >after && diff before after &&
	! pgrep -f "$TEST_DIR/hook-hang.sh" &&
	sed -i "/^postcreation_hook/d" "$POSTINO_CONFIG"
'

test_expect_success 'a missing hook exits 7 and leaves nothing' '
	printf "postcreation_hook = \"%s\"\n" "$TEST_DIR/nope.sh" >>"$POSTINO_CONFIG" &&
	state >before &&
	expect_code 7 add nohook@example.com 2>err &&
	check_grep "not found" err &&
	state >after && diff before after &&
	sed -i "/^postcreation_hook/d" "$POSTINO_CONFIG"
'

test_expect_success 'a symlink planted as a domain directory: exit 6, nothing written' '
	postino domain add evil.example >/dev/null &&
	mkdir -p "$TEST_DIR/outside" &&
	ln -s "$TEST_DIR/outside" "$MAIL_ROOT/evil.example" &&
	state >before &&
	expect_code 6 add victim@evil.example 2>err &&
	check_grep "symlink" err &&
	test -z "$(ls -A "$TEST_DIR/outside")" &&
	state >after && diff before after &&
	rm "$MAIL_ROOT/evil.example"
'

test_expect_success 'a symlink planted as a maildir: exit 6, target untouched' '
	mkdir -p "$MAIL_ROOT/evil.example" &&
	ln -s "$TEST_DIR/outside" "$MAIL_ROOT/evil.example/victim" &&
	expect_code 6 add victim@evil.example 2>/dev/null &&
	test -z "$(ls -A "$TEST_DIR/outside")" &&
	expect_code 1 postino user show victim@evil.example
'

test_expect_success 'user del does not follow a symlink swapped into a maildir' '
	add swap@evil.example >/dev/null &&
	echo precious >"$TEST_DIR/outside/precious" &&
	rm -r "$MAIL_ROOT/evil.example/swap" &&
	ln -s "$TEST_DIR/outside" "$MAIL_ROOT/evil.example/swap" &&
	postino user del swap@evil.example --yes &&
	test -f "$TEST_DIR/outside/precious"
'

test_expect_success 'SQL and path metacharacters in every field are refused or inert' '
	expect_code 4 postino domain add -- "../../etc" &&
	expect_code 4 add "../x@example.com" &&
	expect_code 4 postino alias add "a@example.com" "../../etc/passwd" &&
	expect_code 4 postino domain alias add "x.com;--" --target example.com &&
	printf "pw-secret\n" | postino user add quote@example.com --name "O'"'"'Brien \\\"x\\\" %s %n ; --" --password-stdin --json >out &&
	json ".name == \"O'"'"'Brien \\\\\\\"x\\\\\\\" %s %n ; --\"" out
'

if [ "$(id -u)" -eq 0 ] && mkdir -p "$TEST_DIR/small" &&
	mount -t tmpfs -o size=1m,nr_inodes=5 tmpfs "$TEST_DIR/small" 2>/dev/null; then
	test_at_exit "umount '$TEST_DIR/small'"
	test_expect_success 'the mail root fills up part-way: exit 6, no partial dirs' '
		sed -i "s|^virtual_mailbox_base = .*|virtual_mailbox_base = \"$TEST_DIR/small\"|" "$POSTINO_CONFIG" &&
		mkdir "$TEST_DIR/small/example.com" &&
		state >before &&
		expect_code 6 add full@example.com 2>err &&
		check_grep "No space left" err &&
		state >after && diff before after &&
		check_eq "$(ls -A "$TEST_DIR/small/example.com")" ""
	'
	sed -i "s|^virtual_mailbox_base = .*|virtual_mailbox_base = \"$MAIL_ROOT\"|" "$POSTINO_CONFIG"
else
	echo "# skipping the full-filesystem test: needs root to mount a tmpfs"
fi

test_expect_success '16 concurrent user add into a domain capped at 5: exactly 5' '
	postino domain add capped.example --max-mailboxes 5 >/dev/null &&
	i=0 && pids= &&
	while [ $i -lt 16 ]; do
		(printf "pw-secret\n" | postino user add "u$i@capped.example" --password-stdin >/dev/null 2>"err.$i"; echo $? >"rc.$i") &
		pids="$pids $!"
		i=$((i + 1))
	done &&
	wait $pids &&
	check_eq "$(cat rc.* | grep -c "^0$")" 5 "successes" &&
	check_eq "$(cat rc.* | grep -c "^3$")" 11 "capacity refusals" &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'capped.example'"'"'")" 5 &&
	check_eq "$(ls "$MAIL_ROOT/capped.example" | wc -l)" 5
'

test_done
