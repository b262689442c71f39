#!/bin/sh
# engines: all
# The database server crashes (kill -9) in the middle of user add, user
# del, domain del --force and import, each caught while it waits for a row
# lock another session holds, i.e. inside its transaction with its maildir
# work done.  Afterwards the database and the mail root are both as they
# were before, and check --deep is clean.
. "$(dirname "$0")/../lib/test-lib.sh"

if [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
	# No server to crash: SQLite's own journal covers a dying process.
	echo "1..0 # SKIP SQLite has no database server to kill"
	exit 0
fi
need_cmd jq
private_server
setup_postino
export POSTINO_BCRYPT_COST=4

state() {
	sql "SELECT username FROM mailbox ORDER BY username" &&
	sql "SELECT address, goto FROM alias ORDER BY address" &&
	sql "SELECT username FROM quota2 ORDER BY username" &&
	sql "SELECT domain FROM domain ORDER BY domain" &&
	(cd "$MAIL_ROOT" && find . | sort)
}

# hold SQL...: a session that runs SQL inside a transaction and waits.
hold() {
	case $POSTINO_TEST_ENGINE in
	mysql) mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot \
		"$DB_NAME" -e "BEGIN; $*; SELECT SLEEP(600);" >/dev/null 2>&1 & ;;
	pgsql) psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -d "$DB_NAME" \
		-X -q -c "BEGIN" -c "$*" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 & ;;
	esac
	HOLDER=$!
}

# held: the holder took its lock and sleeps (an event, not a time).
held() {
	case $POSTINO_TEST_ENGINE in
	mysql) n=$(sql "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(600)%'") ;;
	pgsql) n=$(sql "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(600)%'") ;;
	esac
	[ "${n:-0}" -ge 1 ]
}

# waiting: how many sessions wait for a lock right now.
waiting() {
	case $POSTINO_TEST_ENGINE in
	mysql) sql "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'" ;;
	pgsql) sql "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'" ;;
	esac
}

wait_blocked() {
	n=0
	while [ "$(waiting)" -lt 1 ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || { echo "postino never blocked"; return 1; }
		sleep 0.1
	done
}

crash_and_restart() {
	kill_private_server && wait "$1"
	rc=$?
	kill "$HOLDER" 2>/dev/null
	restart_private_server || return 1
	return $rc
}

deep_clean() {
	postino check --deep --json >check.json
	rc=$?
	jq -e "[.findings[] | select(.severity != \"info\")] | length == 0" check.json >/dev/null ||
		{ jq -c ".findings[] | select(.severity != \"info\")" check.json; return 1; }
	return $rc
}

test_expect_success 'setup' '
	postino domain add ex.org >/dev/null &&
	printf "pw-secret\n" | postino user add keep@ex.org --password-stdin >/dev/null &&
	postino alias add info@ex.org keep@ex.org >/dev/null &&
	postino domain add gone.org >/dev/null &&
	printf "pw-secret\n" | postino user add a@gone.org --password-stdin >/dev/null &&
	deep_clean
'

test_expect_success 'crash during user add (maildir made, rows pending): as before' '
	state >before &&
	hold "INSERT INTO alias (address, goto, domain) VALUES ('"'"'victim@ex.org'"'"', '"'"'x@y.org'"'"', '"'"'ex.org'"'"')" &&
	wait_until 60 held || exit 1
	(printf "pw-secret\n" | postino user add victim@ex.org --password-stdin >out 2>err) &
	pid=$!
	rc=1 &&
	wait_blocked &&
	wait_until 60 test -d "$MAIL_ROOT/ex.org/victim" &&
	{ crash_and_restart $pid; rc=$?; } ;
	test $rc -eq 5 && check_grep "PostgreSQL\|MySQL\|mysql\|pgsql" err &&
	state >after && diff before after && deep_clean
'

test_expect_success 'crash during user del (rows pending, maildir not yet staged): as before' '
	state >before &&
	hold "SELECT * FROM quota2 WHERE username = '"'"'keep@ex.org'"'"' FOR UPDATE" &&
	wait_until 60 held || exit 1
	(postino user del keep@ex.org --yes >out 2>err) &
	pid=$!
	rc=1 &&
	wait_blocked &&
	{ crash_and_restart $pid; rc=$?; } ;
	test $rc -eq 5 &&
	state >after && diff before after && deep_clean
'

test_expect_success 'crash during domain del --force: as before' '
	state >before &&
	hold "SELECT * FROM mailbox WHERE username = '"'"'a@gone.org'"'"' FOR UPDATE" &&
	wait_until 60 held || exit 1
	(postino domain del gone.org --force --yes >out 2>err) &
	pid=$!
	rc=1 &&
	wait_blocked &&
	{ crash_and_restart $pid; rc=$?; } ;
	test $rc -eq 5 &&
	state >after && diff before after && deep_clean
'

test_expect_success 'crash during import (a whole batch of maildirs made): as before' '
	{ echo "{\"type\":\"postino-export\",\"version\":1}";
	  i=0; while [ $i -lt 50 ]; do
		echo "{\"type\":\"mailbox\",\"username\":\"imp$i@ex.org\",\"plain_password\":\"p-secret\"}"
		i=$((i + 1)); done; } >imp.jsonl &&
	state >before &&
	hold "INSERT INTO alias (address, goto, domain) VALUES ('"'"'imp49@ex.org'"'"', '"'"'x@y.org'"'"', '"'"'ex.org'"'"')" &&
	wait_until 60 held || exit 1
	(postino import --batch 100 imp.jsonl >out 2>err) &
	pid=$!
	rc=1 &&
	wait_blocked &&
	wait_until 60 test -d "$MAIL_ROOT/ex.org/imp48" &&
	{ crash_and_restart $pid; rc=$?; } ;
	test $rc -eq 5 &&
	state >after && diff before after && deep_clean
'

test_expect_success 'after the crashes every operation works again' '
	printf "pw-secret\n" | postino user add victim@ex.org --password-stdin >/dev/null &&
	postino alias del info@ex.org --yes &&
	postino user del keep@ex.org --yes &&
	postino domain del gone.org --force --yes &&
	postino import imp.jsonl 2>/dev/null &&
	deep_clean
'

test_done
