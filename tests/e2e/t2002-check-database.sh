#!/bin/sh
# engines: all
# postino check, database probes: db_reachable, schema_tables,
# schema_version, db_grants (MySQL SHOW GRANTS, PostgreSQL privilege
# functions, SQLite file mode).  Each test breaks one thing, expects exactly
# its finding, repairs it and expects a clean check again.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check

# MySQL: the same statement for both accounts test-lib creates.
my_users() {
	echo "'$DB_USER'@'localhost', '$DB_USER'@'127.0.0.1'"
}

case $POSTINO_TEST_ENGINE in
sqlite)
	lock_db='mv "$SQLITE_DB" "$SQLITE_DB.away"'
	unlock_db='mv "$SQLITE_DB.away" "$SQLITE_DB"'
	;;
mysql)
	lock_db='sql "ALTER USER $(my_users) ACCOUNT LOCK"'
	unlock_db='sql "ALTER USER $(my_users) ACCOUNT UNLOCK"'
	;;
pgsql)
	lock_db='sql "ALTER ROLE \"$DB_USER\" NOLOGIN"'
	unlock_db='sql "ALTER ROLE \"$DB_USER\" LOGIN"'
	;;
esac

test_expect_success 'db_reachable: an unreachable database is an error, not a crash' '
	check_breaks db_reachable=error -- "$lock_db" "$unlock_db"
'

test_expect_success 'db_reachable: --deep says which probes did not run' '
	eval "$lock_db" &&
	run_check --deep; rc=$CHECK_RC
	eval "$unlock_db" &&
	check_eq "$rc" 4 "exit code" &&
	check_eq "$(check_problems)" db_reachable=error problems &&
	json ".findings[] | select(.name == \"deep_skipped\") |
		.severity == \"info\"" check.json &&
	check_grep "^  x db_reachable: " check.txt
'

test_expect_success 'db_reachable: unreadable credentials file' '
	mv "$PFDIR/sql-virtual_mailbox_maps.cf" "$TEST_DIR/mbx.cf" &&
	run_check; rc=$CHECK_RC
	mv "$TEST_DIR/mbx.cf" "$PFDIR/sql-virtual_mailbox_maps.cf" &&
	check_eq "$rc" 4 "exit code" &&
	check_eq "$(check_problems)" "db_reachable=error postfix_sql_cf:sql-virtual_mailbox_maps.cf=error" problems &&
	finding_message db_reachable | grep -q "sql-virtual_mailbox_maps.cf"
'

test_expect_success 'schema_tables: a missing core table' '
	check_breaks schema_tables=error -- \
		"sql \"ALTER TABLE quota2 RENAME TO quota2_gone\"" \
		"sql \"ALTER TABLE quota2_gone RENAME TO quota2\"" --deep &&
	sql "ALTER TABLE quota2 RENAME TO quota2_gone" &&
	run_check --deep; sql "ALTER TABLE quota2_gone RENAME TO quota2" &&
	finding_message schema_tables | grep -q "quota2" &&
	json ".findings[] | select(.name == \"deep_skipped\")" check.json
'

test_expect_success 'schema_version: an unmigrated postino schema' '
	v=$(sql "SELECT version FROM postino_schema_version") &&
	check_breaks schema_version=error -- \
		"sql \"UPDATE postino_schema_version SET version = 1\"" \
		"sql \"UPDATE postino_schema_version SET version = $v\"" &&
	sql "UPDATE postino_schema_version SET version = 1" &&
	run_check; sql "UPDATE postino_schema_version SET version = $v" &&
	finding_message schema_version | grep -q "postino schema migrate"
'

case $POSTINO_TEST_ENGINE in
sqlite)
	test_expect_success 'db_grants: world-writable SQLite database' '
		check_breaks db_grants=error -- "chmod 666 \"\$SQLITE_DB\"" \
			"chmod 640 \"\$SQLITE_DB\""
	'
	test_expect_success 'db_grants:overprivileged: world-readable SQLite database' '
		check_breaks db_grants:overprivileged=warn -- \
			"chmod 644 \"\$SQLITE_DB\"" "chmod 640 \"\$SQLITE_DB\""
	'
	test_expect_success 'db_grants:overprivileged: SQLite database owned by another user' '
		[ "$(id -u)" -eq 0 ] || exit 0
		check_breaks db_grants:overprivileged=warn -- \
			"chown 65534 \"\$SQLITE_DB\"" "chown 0 \"\$SQLITE_DB\""
	'
	;;
mysql)
	# Everything on the database except DELETE, which only some tables get.
	grant_all_but_alias_delete='
		sql "REVOKE ALL PRIVILEGES ON \`$DB_NAME\`.* FROM $(my_users)" &&
		sql "GRANT SELECT, INSERT, UPDATE, CREATE, ALTER, INDEX ON \`$DB_NAME\`.* TO $(my_users)" &&
		for t in $(sql "SHOW TABLES"); do
			[ "$t" = alias ] || sql "GRANT DELETE ON \`$DB_NAME\`.\`$t\` TO $(my_users)" || exit 1
		done'
	restore_grants='
		sql "REVOKE ALL PRIVILEGES, GRANT OPTION FROM $(my_users)" &&
		sql "GRANT ALL ON \`$DB_NAME\`.* TO $(my_users)"'
	test_expect_success 'db_grants:TABLE: a table lacks a privilege postino needs' '
		check_breaks db_grants:alias=error -- \
			"$grant_all_but_alias_delete" "$restore_grants" &&
		eval "$grant_all_but_alias_delete" && run_check; eval "$restore_grants" &&
		finding_message db_grants:alias | grep -q "lacks DELETE on table .alias."
	'
	test_expect_success 'db_grants:TABLE: a read-only (Postfix-style) user' '
		sql "REVOKE ALL PRIVILEGES ON \`$DB_NAME\`.* FROM $(my_users)" &&
		sql "GRANT SELECT ON \`$DB_NAME\`.* TO $(my_users)" &&
		run_check; rc=$CHECK_RC; eval "$restore_grants" &&
		check_eq "$rc" 4 "exit code" &&
		check_problems | tr " " "\n" >problems &&
		check_grep "^db_grants:mailbox=error$" problems &&
		check_grep "^db_grants:log=error$" problems &&
		! grep -v "^db_grants:[a-z_0-9]*=error$" problems &&
		! grep -q "^db_grants:config=" problems &&
		finding_message db_grants:log | grep -q "lacks INSERT on table .log." &&
		expect_clean
	'
	test_expect_success 'db_grants:overprivileged: a server-wide privilege' '
		check_breaks db_grants:overprivileged=warn -- \
			"sql \"GRANT PROCESS ON *.* TO \$(my_users)\"" "$restore_grants" &&
		sql "GRANT PROCESS ON *.* TO $(my_users)" && run_check; eval "$restore_grants" &&
		finding_message db_grants:overprivileged | grep -q "PROCESS on \*\.\*"
	'
	test_expect_success 'db_grants:overprivileged: GRANT OPTION and other databases' '
		check_breaks db_grants:overprivileged=warn -- \
			"sql \"GRANT SELECT ON \\\`$DB_NAME\\\`.* TO \$(my_users) WITH GRANT OPTION\"" \
			"$restore_grants" &&
		check_breaks db_grants:overprivileged=warn -- \
			"sql \"GRANT SELECT ON \\\`mysql\\\`.* TO \$(my_users)\"" \
			"$restore_grants"
	'
	;;
pgsql)
	test_expect_success 'db_grants:TABLE: a table lacks a privilege postino needs' '
		check_breaks db_grants:alias=error -- \
			"sql \"REVOKE DELETE ON alias FROM \\\"\$DB_USER\\\"\"" \
			"sql \"GRANT DELETE ON alias TO \\\"\$DB_USER\\\"\"" &&
		sql "REVOKE DELETE ON alias FROM \"$DB_USER\"" && run_check;
		sql "GRANT DELETE ON alias TO \"$DB_USER\"" &&
		finding_message db_grants:alias | grep -q "lacks DELETE on table .alias."
	'
	test_expect_success 'db_grants:overprivileged: CREATEDB role attribute' '
		check_breaks db_grants:overprivileged=warn -- \
			"sql \"ALTER ROLE \\\"\$DB_USER\\\" CREATEDB\"" \
			"sql \"ALTER ROLE \\\"\$DB_USER\\\" NOCREATEDB\""
	'
	test_expect_success 'db_grants:overprivileged: membership in pg_read_server_files' '
		check_breaks db_grants:overprivileged=warn -- \
			"sql \"GRANT pg_read_server_files TO \\\"\$DB_USER\\\"\"" \
			"sql \"REVOKE pg_read_server_files FROM \\\"\$DB_USER\\\"\""
	'
	;;
esac

test_done
