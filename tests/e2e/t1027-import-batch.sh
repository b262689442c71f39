#!/bin/sh
# engines: all
# Bulk import of mailboxes, a batch at a time in set-wise statements: a
# name twice in a batch or already in the database is "unchanged" (or,
# with --update, updated) as when the rows come one by one; a statement
# of the batch that fails in the database takes the whole batch back,
# rows and maildirs, and the message still names the offending line;
# earlier batches stay.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino
export POSTINO_BCRYPT_COST=4

hdr() { echo '{"type":"postino-export","version":1}'; }
mb() {
	# mb LOCAL DOMAIN [NAME]
	printf '{"type":"mailbox","username":"%s@%s","plain_password":"pw-secret","name":"%s"}\n' \
		"$1" "$2" "${3:-}"
}

test_expect_success 'a name twice in one batch: made once, the second unchanged' '
	postino domain add dup.test >/dev/null &&
	{ hdr; mb a dup.test First; mb b dup.test; mb a dup.test Second; } >dup.jsonl &&
	postino import --json dup.jsonl >res &&
	json ".created == 2 and .unchanged == 1 and .updated == 0" res &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'a@dup.test'"'"'")" First &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE address = '"'"'a@dup.test'"'"'")" 1 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE action = '"'"'create_mailbox'"'"' AND domain = '"'"'dup.test'"'"'")" 2
'

test_expect_success 'with --update the second of a name updates the first, in line order' '
	postino domain add dupu.test >/dev/null &&
	{ hdr; mb a dupu.test First; mb a dupu.test Second; mb a dupu.test Third; } >dupu.jsonl &&
	postino import --update --json dupu.jsonl >res &&
	json ".created == 1 and .updated == 2" res &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'a@dupu.test'"'"'")" Third
'

test_expect_success 'names already in the database are unchanged, the new ones made' '
	postino domain add old.test --max-mailboxes 3 >/dev/null &&
	printf "pw-secret\n" | postino user add e@old.test --name Old --password-stdin >/dev/null &&
	{ hdr; mb n1 old.test; mb e old.test New; mb n2 old.test; } >old.jsonl &&
	postino import --json old.jsonl >res &&
	json ".created == 2 and .unchanged == 1" res &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'e@old.test'"'"'")" Old &&
	test -d "$MAIL_ROOT/old.test/n2/cur" &&
	postino import --update --json old.jsonl >res &&
	json ".updated == 1 and .unchanged == 2" res &&
	check_eq "$(sql "SELECT name FROM mailbox WHERE username = '"'"'e@old.test'"'"'")" New
'

test_expect_success 'existing rows count against the cap: exactly the cap, or the batch refused' '
	postino domain add cap.test --max-mailboxes 4 >/dev/null &&
	printf "pw-secret\n" | postino user add e@cap.test --password-stdin >/dev/null &&
	{ hdr; mb e cap.test; mb a cap.test; mb b cap.test; mb c cap.test; } >cap-ok.jsonl &&
	postino import --json cap-ok.jsonl >res &&
	json ".created == 3 and .unchanged == 1" res &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'cap.test'"'"'")" 4 &&
	postino domain add cap2.test --max-mailboxes 2 >/dev/null &&
	{ hdr; mb a cap2.test; mb b cap2.test; mb c cap2.test; } >cap-over.jsonl &&
	expect_code 3 postino import cap-over.jsonl 2>err &&
	check_grep "cap-over.jsonl:4: domain .cap2.test. is full: 2 of 2 mailboxes" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'cap2.test'"'"'")" 0 &&
	! test -e "$MAIL_ROOT/cap2.test/a"
'

# A row the database refuses in the middle of a batch, after its maildirs
# are made: a trigger (SQLite) or a CHECK constraint on quota2.
refuse() {
	case $POSTINO_TEST_ENGINE in
	sqlite) sql "CREATE TRIGGER boom BEFORE INSERT ON quota2 WHEN NEW.username = '$1' BEGIN SELECT RAISE(ABORT, 'boom'); END" ;;
	*) sql "ALTER TABLE quota2 ADD CONSTRAINT boom CHECK (username <> '$1')" ;;
	esac
}

test_expect_success 'a row the database refuses mid-batch: its line, nothing of the batch' '
	postino domain add mid.test >/dev/null &&
	refuse u5@mid.test &&
	{ hdr; for i in 1 2 3 4 5 6; do mb u$i mid.test; done; } >mid.jsonl &&
	expect_code 5 postino import --batch 3 mid.jsonl 2>err &&
	check_grep "mid.jsonl:6: " err &&
	check_eq "$(sql "SELECT username FROM mailbox WHERE domain = '"'"'mid.test'"'"' ORDER BY username" | tr "\n" " ")" "u1@mid.test u2@mid.test u3@mid.test " &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE domain = '"'"'mid.test'"'"'")" 3 &&
	check_eq "$(sql "SELECT COUNT(*) FROM quota2 WHERE username LIKE '"'"'%@mid.test'"'"'")" 3 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE domain = '"'"'mid.test'"'"' AND action = '"'"'create_mailbox'"'"'")" 3 &&
	check_eq "$(ls "$MAIL_ROOT/mid.test" | tr "\n" " ")" "u1 u2 u3 "
'

H='{BLF-CRYPT}$2y$04$0ttkj9lVu12ZN2ecLZjbru.Pb7RnVFi4schlp6GsSRS.JH463O2U2'
export H
test_expect_success 'a batch larger than one statement takes (several chunks), all or nothing' '
	postino domain add big.test --max-mailboxes 3400 >/dev/null &&
	{ hdr; i=0; while [ $i -lt 3500 ]; do
		printf "{\"type\":\"mailbox\",\"username\":\"u%d@big.test\",\"password\":\"%s\"}\n" $i "$H"
		i=$((i + 1)); done; } >big.jsonl &&
	expect_code 3 postino import --batch 5000 big.jsonl 2>err &&
	check_grep "big.jsonl:3402: domain .big.test. is full: 3400 of 3400" err &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'big.test'"'"'")" 0 &&
	! test -e "$MAIL_ROOT/big.test/u1" &&
	sed -i "3402,\$d" big.jsonl &&
	postino import --batch 5000 --json big.jsonl >res &&
	json ".created == 3400" res &&
	check_eq "$(sql "SELECT COUNT(*) FROM alias WHERE domain = '"'"'big.test'"'"'")" 3400 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log WHERE domain = '"'"'big.test'"'"' AND action = '"'"'create_mailbox'"'"'")" 3400 &&
	check_eq "$(sql "SELECT COUNT(*) FROM quota2 WHERE username LIKE '"'"'%@big.test'"'"'")" 3400 &&
	check_eq "$(ls "$MAIL_ROOT/big.test" | wc -l)" 3400
'

test_expect_success 'a legacy mixed-case row is found as the database compares names' '
	postino domain add case.test >/dev/null &&
	sql "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('"'"'Mixed@case.test'"'"', '"'"'x'"'"', '"'"'Legacy'"'"', '"'"'case.test/Mixed/'"'"', 0, '"'"'Mixed'"'"', '"'"'case.test'"'"', $(sql_true))" &&
	{ hdr; mb mixed case.test; mb other case.test; } >case.jsonl &&
	postino import --json case.jsonl >res &&
	case $POSTINO_TEST_ENGINE in
	mysql)	# case-insensitive collation: the same mailbox
		json ".created == 1 and .unchanged == 1" res ;;
	*)	json ".created == 2" res ;;
	esac
'

# Statements per batch, counted by the server: MariaDB's per-user
# statistics (each test database has its own user).  SQLite has no server
# to count them, and PostgreSQL's pg_stat_statements needs a server
# started with it preloaded; the code that sends them is the same.
test_expect_success 'a batch of 300 mailboxes costs far fewer statements than mailboxes' '
	if [ "$POSTINO_TEST_ENGINE" = mysql ]; then
		postino domain add st.test >/dev/null &&
		{ hdr; i=0; while [ $i -lt 300 ]; do
			printf "{\"type\":\"mailbox\",\"username\":\"s%d@st.test\",\"password\":\"%s\"}\n" $i "$H"
			i=$((i + 1)); done; } >st.jsonl &&
		mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -e "SET GLOBAL userstat = 1" &&
		count() {
			mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -N -e \
				"SELECT COALESCE(SUM(SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS), 0) FROM information_schema.USER_STATISTICS WHERE USER = '"'"'$DB_USER'"'"'"
		} &&
		before=$(count) &&
		postino import --batch 1000 st.jsonl 2>err &&
		after=$(count) &&
		echo "statements: $((after - before))" &&
		check_eq "$(sql "SELECT COUNT(*) FROM mailbox WHERE domain = '"'"'st.test'"'"'")" 300 &&
		test $((after - before)) -lt 100
	fi
'

test_done
