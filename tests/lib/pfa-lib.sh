# pfa-lib.sh: Debian's PostfixAdmin (PHP) as a judge, on the test database.
# Source it after test-lib.sh and check-lib.sh:
#
#	need_cmd jq php doveadm sqlite3
#	pfa_setup 'dovecot:BLF-CRYPT'	# a private copy, its config, the database
#	test_setup '...' 'pfa_schema'	# upgrade.php makes the schema, postino init
#	pfa domain add ...			# its CLI; output in pfa.out
#	pfa_login user@dom PASSWORD	# its Login class (password on stdin)
#	pfa_encrypt 'md5crypt'		# change $CONF['encrypt']

PFA_SRC=/usr/share/postfixadmin

# q STRING: STRING in single quotes, for sql.
q() {
	printf "'%s'" "$1"
}

# pfa_setup ENCRYPT: a private copy of PostfixAdmin in $PFA whose
# config.local.php points at a new test database (the package's own reads
# /etc/postfixadmin), with $CONF['encrypt'] = ENCRYPT.
pfa_setup() {
	[ -r "$PFA_SRC/public/upgrade.php" ] ||
		test_skip_or_fail "PostfixAdmin (Debian package postfixadmin) not installed"
	php -m | grep -qi "^pdo_$(case $POSTINO_TEST_ENGINE in sqlite) echo sqlite ;; mysql) echo mysql ;; pgsql) echo pgsql ;; esac)\$" ||
		test_skip_or_fail "PHP's PDO driver for $POSTINO_TEST_ENGINE not installed"
	check_vmail_ids
	PFA=$TEST_DIR/pfa
	cp -r "$PFA_SRC" "$PFA" &&
		rm -f "$PFA/config.inc.php" "$PFA/config.local.php" "$PFA/templates_c" &&
		cp /etc/postfixadmin/config.inc.php "$PFA/config.inc.php" &&
		mkdir "$PFA/templates_c" || test_skip_or_fail "cannot copy PostfixAdmin"

	create_database || test_skip_or_fail "cannot create a $POSTINO_TEST_ENGINE database"
	case $POSTINO_TEST_ENGINE in
	sqlite)
		mkdir -p "$TEST_DIR/etc"
		SQLITE_DB=$TEST_DIR/etc/postino.sqlite
		export SQLITE_DB
		sqlite3 "$SQLITE_DB" "SELECT 1" >/dev/null
		_db="\$CONF['database_type'] = 'sqlite';
\$CONF['database_name'] = '$SQLITE_DB';"
		;;
	mysql)
		_db="\$CONF['database_type'] = 'mysqli';
\$CONF['database_host'] = 'localhost';
\$CONF['database_socket'] = '$TEST_MYSQL_SOCKET';"
		;;
	pgsql)
		_db="\$CONF['database_type'] = 'pgsql';
\$CONF['database_host'] = '127.0.0.1';
\$CONF['database_port'] = '$TEST_PG_PORT';"
		;;
	esac
	[ "$POSTINO_TEST_ENGINE" = sqlite ] || _db="$_db
\$CONF['database_user'] = '$DB_USER';
\$CONF['database_password'] = '$DB_PASSWORD';
\$CONF['database_name'] = '$DB_NAME';"
	# Debian's config.inc.php reads dbconfig-common's variables first.
	printf '<?php\n$dbtype = $dbuser = $dbpass = $dbname = "";\n' >"$PFA/dbconfig.inc.php"
	cat >"$PFA/config.local.php" <<EOF
<?php
\$CONF['configured'] = true;
$_db
\$CONF['encrypt'] = '$1';
\$CONF['dovecotpw'] = '$(command -v doveadm) pw';
\$CONF['emailcheck_resolve_domain'] = 'NO';
\$CONF['quota'] = 'YES';
\$CONF['domain_quota'] = 'YES';
\$CONF['password_expiration'] = 'YES';
\$CONF['vacation_domain'] = 'autoreply.example.org';
EOF
}

# pfa_encrypt MODE: PostfixAdmin's $CONF['encrypt'] becomes MODE.
pfa_encrypt() {
	sed -i "s|^\\\$CONF\\['encrypt'\\] = .*|\$CONF['encrypt'] = '$1';|" "$PFA/config.local.php" &&
	grep -qF "\$CONF['encrypt'] = '$1';" "$PFA/config.local.php"
}

# pfa_schema [init options...]: PostfixAdmin's upgrade.php creates the
# schema, then "postino init" (setup_postino) migrates it.
pfa_schema() {
	(cd "$PFA/public" && php -d error_reporting=E_ERROR -r \
		"define(\"POSTFIXADMIN_CLI\", 1); require \"upgrade.php\";") >upgrade.log 2>&1 &&
	test "$(sql "SELECT value FROM config WHERE name = $(q version)")" -ge 1847 &&
	# The database exists now: setup_postino must not make another one.
	create_database() { :; } &&
	setup_postino --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" "$@"
}

# pfa MODULE TASK ARGS...: PostfixAdmin's CLI; its output (without PHP's
# notices) in pfa.out.
pfa() {
	bash "$PFA/scripts/postfixadmin-cli" "$@" >pfa.raw 2>&1
	_rc=$?
	grep -v "^PHP \(Warning\|Deprecated\|Notice\)" pfa.raw >pfa.out
	[ $_rc -eq 0 ] || sed 's/^/  pfa| /' pfa.out >&2
	return $_rc
}

# pfa_php CODE [ARGS...]: PHP with PostfixAdmin's common.php loaded.
pfa_php() {
	_code=$1
	shift
	(cd "$PFA/public" && php -d error_reporting=E_ERROR -r \
		"define('POSTFIXADMIN_CLI', 1); require '../common.php'; $_code" "$@")
}

# pfa_login USER PASSWORD: PostfixAdmin's own login check for a mailbox
# (the password travels on stdin).
pfa_login() {
	printf '%s\n' "$2" | pfa_php '$l = new Login("mailbox");
		$p = rtrim(fgets(STDIN), "\n");
		exit($l->login($argv[1], $p) ? 0 : 1);' "$1" 2>/dev/null
}
