#!/bin/sh
# engines: all
# postino check on a clean installation made by postino itself: nothing to
# warn about, shallow or deep; the JSON and human output shapes; exit codes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check

test_expect_success 'a clean installation passes check with no warnings' '
	expect_clean
'

test_expect_success 'a clean installation passes check --deep with no warnings' '
	expect_clean --deep
'

test_expect_success 'more rows (catch-all, forwards, quotas, limits) stay clean' '
	postino domain add small.example --max-mailboxes 2 --max-aliases 3 \
		--max-quota 1G --default-quota 100M --domain-quota 2G &&
	printf "pw-3-secret\n" | postino user add carol@small.example --password-stdin &&
	printf "pw-4-secret\n" | postino user add dave@small.example --quota 1G \
		--password-stdin &&
	postino alias add @small.example carol@small.example &&
	postino alias add sales@small.example carol@small.example,ext@remote.example &&
	postino alias add team@example.org alice+lists@example.org,info@example.net &&
	expect_clean --deep
'

test_expect_success 'JSON is {"findings": [...], "ok": bool} with name, severity, message' '
	run_check --deep &&
	json "(keys == [\"findings\", \"ok\"]) and .ok == true" check.json &&
	json "all(.findings[]; (keys == [\"message\", \"name\", \"severity\"]) and
		(.severity | IN(\"info\", \"warn\", \"error\")) and
		(.message | length > 0))" check.json &&
	json "[.findings[].name] | index(\"maildir_present\") != null" check.json
'

test_expect_success 'shallow check leaves out the deep probes' '
	run_check &&
	json "[.findings[].name] | (index(\"maildir_present\") == null and
		index(\"db_reachable\") != null and index(\"password_schemes\") != null)" check.json
'

test_expect_success 'human output: passed group and a summary line, no colour in a pipe' '
	run_check --deep &&
	check_grep "^passed (" check.txt &&
	check_grep "^  + maildir_present: " check.txt &&
	check_grep "^0 errors, 0 warnings, [0-9]* passed$" check.txt &&
	! grep -q "$(printf "\033")" check.txt &&
	postino --quiet check --deep >quiet.txt &&
	! grep -q "^passed" quiet.txt &&
	check_grep "^0 errors, 0 warnings" quiet.txt
'

test_expect_success 'errors come first, grouped, and exit 4' '
	chmod 666 "$PFDIR/sql-virtual_alias_maps.cf" &&
	mkdir "$MAIL_ROOT/example.org/ghost" &&
	run_check --deep; rc=$CHECK_RC
	chmod 640 "$PFDIR/sql-virtual_alias_maps.cf" &&
	rmdir "$MAIL_ROOT/example.org/ghost" &&
	check_eq "$rc" 4 "exit code" &&
	check_eq "$(grep -E "^(errors|warnings|passed) \(" check.txt |
		cut -d" " -f1 | tr "\n" " ")" "errors warnings passed " groups &&
	check_grep "^  x postfix_sql_cf:sql-virtual_alias_maps.cf: .*chmod 640" check.txt &&
	check_grep "^  ! orphan_maildirs: .*example.org/ghost" check.txt &&
	check_grep "^1 error, 1 warning, " check.txt &&
	json ".ok == false" check.json
'

test_expect_success 'colour on a terminal, progress only on a terminal' '
	need_script=$(command -v script) || { echo "no script(1)"; exit 0; }
	script -qec "postino check --deep" /dev/null >tty.txt 2>&1 &&
	grep -q "$(printf "\033")\\[32m+" tty.txt &&
	grep -q "checking maildirs: " tty.txt &&
	postino check --deep >pipe.txt 2>pipe.err &&
	! test -s pipe.err
'

test_expect_success 'check needs no arguments' '
	expect_code 64 postino check extra 2>err &&
	check_grep "unexpected argument" err
'

test_done
