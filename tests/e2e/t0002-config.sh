#!/bin/sh
# engines: all
# Configuration: precedence, config show, and the errors a mail admin meets
# first: a malformed postino.toml, a missing map file, an unreachable server.
. "$(dirname "$0")/../lib/test-lib.sh"

setup_postino

test_expect_success 'config show names where each value came from' '
	postino config show >out &&
	check_grep "^virtual_mailbox_base = \"$MAIL_ROOT\"  # $POSTINO_CONFIG:[0-9]*$" out &&
	check_grep "^bcrypt_cost = 12  # default$" out
'

test_expect_success 'config show -n lists only non-defaults' '
	postino config show -n >out &&
	check_grep "^postfix_sql_engine = " out &&
	! grep -q "# default" out
'

test_expect_success 'environment beats the file (POSTINO_*)' '
	POSTINO_BCRYPT_COST=10 postino config show --json >out &&
	json ".[] | select(.name == \"bcrypt_cost\") | .value == \"10\" and .origin == \"env POSTINO_BCRYPT_COST\"" out
'

test_expect_success 'a user file is overridden by $POSTINO_CONFIG' '
	mkdir -p "$HOME/.config/postino" &&
	printf "bcrypt_cost = 11\nlmtp_destination = \"inet:127.0.0.1:24\"\n" >"$HOME/.config/postino/postino.toml" &&
	postino config show --json >out &&
	json ".[] | select(.name == \"bcrypt_cost\") | .value == \"11\"" out &&
	json ".[] | select(.name == \"lmtp_destination\") | .value == \"\\\"inet:127.0.0.1:24\\\"\"" out &&
	rm -r "$HOME/.config/postino"
'

test_expect_success 'malformed postino.toml: file:line error, exit 4' '
	cp "$POSTINO_CONFIG" bad.toml &&
	printf "vmail_uid = \"x\n" >>bad.toml &&
	lines=$(wc -l <bad.toml) &&
	expect_code 4 postino -c bad.toml domain list 2>err &&
	check_grep "bad.toml:$lines:" err
'

test_expect_success 'unknown key: did-you-mean, exit 4' '
	printf "vmial_uid = 5\n" >typo.toml &&
	expect_code 4 postino -c typo.toml domain list 2>err &&
	check_grep "typo.toml:1:" err &&
	check_grep "vmail_uid" err
'

test_expect_success 'missing config file named with -c: exit 4 naming it' '
	expect_code 4 postino -c "$TEST_DIR/nope.toml" domain list 2>err &&
	check_grep "nope.toml" err
'

test_expect_success 'missing map file: names the path, exit 4' '
	mkdir -p empty &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/empty\"|" "$POSTINO_CONFIG" >nocf.toml &&
	expect_code 4 postino -c nocf.toml domain list 2>err &&
	check_grep "$TEST_DIR/empty/sql-virtual_mailbox_maps.cf" err
'

test_expect_success 'unreachable database: exit 5 naming the host tried' '
	mkdir -p down &&
	cp "$TEST_DIR"/etc/postfix/*.cf down/ &&
	port=$(free_port) &&
	case $POSTINO_TEST_ENGINE in
	sqlite) sed -i "s|^dbpath = .*|dbpath = $TEST_DIR/missing/db.sqlite|" down/sql-virtual_mailbox_maps.cf
		want="$TEST_DIR/missing/db.sqlite" ;;
	*) sed -i "s|^hosts = .*|hosts = inet:127.0.0.1:$port|" down/sql-virtual_mailbox_maps.cf
		want="127.0.0.1:$port" ;;
	esac &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/down\"|" "$POSTINO_CONFIG" >down.toml &&
	expect_code 5 postino -c down.toml domain list 2>err &&
	check_grep "$want" err
'

test_expect_success 'several hosts: the first reachable one is used' '
	case $POSTINO_TEST_ENGINE in
	sqlite) exit 0 ;;
	esac &&
	port=$(free_port) &&
	mkdir -p multi && cp "$TEST_DIR"/etc/postfix/*.cf multi/ &&
	sed -i "s|^hosts = \(.*\)|hosts = inet:127.0.0.1:$port, \1|" multi/sql-virtual_mailbox_maps.cf &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/multi\"|" "$POSTINO_CONFIG" >multi.toml &&
	postino -c multi.toml domain list
'

test_expect_success 'host:port and unix: forms both work' '
	case $POSTINO_TEST_ENGINE in
	sqlite) exit 0 ;;
	mysql) alt="127.0.0.1:$TEST_MYSQL_PORT" ;;
	pgsql) alt="unix:$TEST_PG_HOST/.s.PGSQL.$TEST_PG_PORT" ;;
	esac &&
	mkdir -p alt && cp "$TEST_DIR"/etc/postfix/*.cf alt/ &&
	sed -i "s|^hosts = .*|hosts = $alt|" alt/sql-virtual_mailbox_maps.cf &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/alt\"|" "$POSTINO_CONFIG" >alt.toml &&
	postino -c alt.toml domain list
'

test_expect_success 'wrong database password: exit 5, password not echoed' '
	case $POSTINO_TEST_ENGINE in
	sqlite) exit 0 ;;
	mysql) host="127.0.0.1:$TEST_MYSQL_PORT" ;;
	pgsql) host="inet:127.0.0.1:$TEST_PG_PORT" ;;
	esac &&
	mkdir -p badpw && cp "$TEST_DIR"/etc/postfix/*.cf badpw/ &&
	sed -i "s|^password = .*|password = Wr0ngSecretXYZ|; s|^hosts = .*|hosts = $host|" badpw/sql-virtual_mailbox_maps.cf &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/badpw\"|" "$POSTINO_CONFIG" >badpw.toml &&
	expect_code 5 postino -c badpw.toml domain list 2>err &&
	! grep -q Wr0ngSecretXYZ err
'

test_expect_success 'usage errors exit 64 and print the usage' '
	expect_code 64 postino domain add 2>err &&
	check_grep "usage: postino domain add" err &&
	expect_code 64 postino domain add --max-mailbox 3 x.example 2>err &&
	check_grep "did you mean .--max-mailboxes" err &&
	expect_code 64 postino domian list 2>err &&
	check_grep "did you mean .domain" err
'

test_expect_success '--help teaches, with an example' '
	postino user add --help >out &&
	check_grep "^Example:" out &&
	check_grep "password-stdin" out &&
	postino --help >out &&
	check_grep "domain alias retarget" out
'

test_expect_success '--version names the engines built in' '
	postino --version >out &&
	check_grep "^postino " out &&
	check_grep "sqlite" out
'

# The base package alone (no postino-mysql, no postino-pgsql): a copy of
# the program where it finds no driver modules.  --version must not list
# the engines it cannot load, and init must name the package to install.
test_expect_success 'without the driver packages: --version and init name them' '
	moddir=$(postino --version | sed -n "s/^modules: //p") &&
	test -n "$moddir" &&
	test ! -e "$moddir/postino-db-pgsql.so" &&
	mkdir -p base/bin &&
	cp "$(command -v postino)" base/bin/postino &&
	env -u POSTINO_MODULE_DIR base/bin/postino --version >out &&
	cat out &&
	check_grep "^engines: sqlite$" out &&
	check_grep "^not installed:.* pgsql (package postino-pgsql)" out &&
	check_grep "^not installed:.* mysql (package postino-mysql)" out &&
	expect_code 4 env -u POSTINO_MODULE_DIR base/bin/postino init \
		--dir "$TEST_DIR/base/etc" --engine pgsql --hosts 127.0.0.1:1 \
		--user u --dbname d --password-stdin </dev/null 2>err &&
	cat err &&
	check_grep "pgsql driver is not installed (package postino-pgsql)" err &&
	check_grep "install the postino-pgsql package" err &&
	test ! -e "$TEST_DIR/base/etc/postino.toml"
'

test_done
