#!/bin/sh
# engines: all
# Schema bootstrap: init on an empty database, migrate idempotently, and
# migrate a database PostfixAdmin created itself.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino

test_expect_success 'init created every PostfixAdmin table and postino tables' '
	for t in admin alias alias_domain config domain domain_admins fetchmail \
		log mailbox quota quota2 vacation vacation_notification routes \
		postino_schema_version postino_change postino_domain; do
		n=$(sql "SELECT COUNT(*) FROM $t") || { echo "no table $t"; exit 1; }
	done
'

test_expect_success 'config.version is PostfixAdmin 3.3 (1847)' '
	check_eq "$(sql "SELECT value FROM config WHERE name = '"'"'version'"'"'")" 1847
'

test_expect_success 'schema version reports ready' '
	postino schema version --json >out &&
	json ".ready == true and .postfixadmin_version == \"1847\"" out
'

test_expect_success 'migrate twice is a no-op that succeeds' '
	postino schema migrate >m1 &&
	postino schema migrate >m2 &&
	! grep -q created m1 && ! grep -q created m2 &&
	check_grep "present routes table" m2
'

test_expect_success 'schema init on a non-empty database refuses (exit 2)' '
	expect_code 2 postino schema init 2>err &&
	check_grep "already holds a PostfixAdmin schema" err &&
	check_grep "schema migrate" err
'

# A database made by PostfixAdmin 3.3 itself (its own dump), with rows.
test_setup 'load PostfixAdmin schema dump into a second database' '
	DB1=$DB_NAME; SQLITE1=${SQLITE_DB:-}
	create_database &&
	case $POSTINO_TEST_ENGINE in
	sqlite) SQLITE_DB=$TEST_DIR/pfa.sqlite; export SQLITE_DB
		grep -v "sqlite_sequence" "$SRCDIR/tests/fixtures/postfixadmin-3.3/sqlite.sql" >pfa.sql ;;
	mysql) cp "$SRCDIR/tests/fixtures/postfixadmin-3.3/mariadb.sql" pfa.sql ;;
	pgsql) grep -v "^\\\\" "$SRCDIR/tests/fixtures/postfixadmin-3.3/postgresql.sql" |
		sed "s/OWNER TO [a-z_]*;/OWNER TO postgres;/" >pfa.sql ;;
	esac &&
	sql_file pfa.sql &&
	sql "INSERT INTO config (name, value) VALUES ('"'"'version'"'"', '"'"'1847'"'"')" &&
	sql "INSERT INTO domain (domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active) VALUES ('"'"'pfa.example'"'"', '"'"'PFA'"'"', 0, 0, 0, 0, '"'"'virtual'"'"', $(sql_true | sed s/true/false/ | sed s/1/0/), $(sql_true))" &&
	sql "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ('"'"'old@pfa.example'"'"', '"'"'\$1\$abc\$xyz'"'"', '"'"'Old'"'"', '"'"'pfa.example/old/'"'"', 0, '"'"'old'"'"', '"'"'pfa.example'"'"', $(sql_true))" &&
	mkdir -p pfa && cp "$TEST_DIR/etc/postino.toml" pfa/postino.toml &&
	mkdir -p pfa/postfix &&
	case $POSTINO_TEST_ENGINE in
	sqlite) printf "dbpath = %s\nquery = SELECT 1\n" "$SQLITE_DB" >pfa/postfix/sql-virtual_mailbox_maps.cf ;;
	*) printf "hosts = %s\nuser = %s\npassword = %s\ndbname = %s\n" \
		"$DB_HOSTS" "$DB_USER" "$DB_PASSWORD" "$DB_NAME" >pfa/postfix/sql-virtual_mailbox_maps.cf ;;
	esac &&
	sed -i "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/pfa/postfix\"|" pfa/postino.toml &&
	PFA_CONF=$TEST_DIR/pfa/postino.toml
'

test_expect_success 'postino refuses to work on the unmigrated database (exit 5, hint)' '
	expect_code 5 postino -c "$PFA_CONF" domain list 2>err &&
	check_grep "schema migrate" err
'

test_expect_success 'migrate adds only postino tables, keeps the rows' '
	before=$(sql "SELECT COUNT(*) FROM mailbox") &&
	postino -c "$PFA_CONF" schema migrate >out &&
	check_grep "created routes table" out &&
	check_grep "created postino_schema_version table" out &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox")" "$before" &&
	check_eq "$(sql "SELECT username FROM mailbox")" old@pfa.example &&
	check_eq "$(sql "SELECT value FROM config WHERE name = '"'"'version'"'"'")" 1847
'

test_expect_success 'migrate again changes nothing' '
	postino -c "$PFA_CONF" schema migrate >out &&
	! grep -q created out
'

test_expect_success 'postino reads the PostfixAdmin rows after migration' '
	postino -c "$PFA_CONF" user list --json >out &&
	json ".[0].username == \"old@pfa.example\" and .[0].password_scheme == \"MD5-CRYPT\"" out &&
	postino -c "$PFA_CONF" domain show pfa.example --json >d &&
	json ".description == \"PFA\"" d
'

test_expect_success 'every command works on the PostfixAdmin-made database' '
	export POSTINO_BCRYPT_COST=4 &&
	mkdir -p "$TEST_DIR/pfamail" &&
	sed -i "s|^virtual_mailbox_base = .*|virtual_mailbox_base = \"$TEST_DIR/pfamail\"|" "$PFA_CONF" &&
	printf "pw-secret\n" | postino -c "$PFA_CONF" user add new@pfa.example --password-stdin >/dev/null &&
	postino -c "$PFA_CONF" alias add info@pfa.example new@pfa.example,old@pfa.example >/dev/null &&
	postino -c "$PFA_CONF" domain add second.example >/dev/null &&
	postino -c "$PFA_CONF" domain alias add second.example --target pfa.example >/dev/null &&
	postino -c "$PFA_CONF" user rename new@pfa.example newer@pfa.example >/dev/null &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = '"'"'info@pfa.example'"'"'")" "newer@pfa.example,old@pfa.example" &&
	postino -c "$PFA_CONF" export >pfa.jsonl &&
	check_eq "$(grep -c "\"type\":\"mailbox\"" pfa.jsonl)" 2 &&
	postino -c "$PFA_CONF" domain del pfa.example --force --yes &&
	check_eq "$(sql "SELECT COUNT(*) FROM mailbox")" 0 &&
	check_eq "$(sql "SELECT COUNT(*) FROM log")" 6
'

test_done
