#!/bin/sh
# engines: all
# Secrets stay secret.  A distinctive database password (MariaDB and
# PostgreSQL), mailbox passwords and a webhook HMAC secret go through
# postino (init and user add with --password-stdin, a failing login with
# a wrong database password), podop (verbose, its tables on the database,
# a table whose database refuses it) and postinod (debug log; SCIM users
# created with passwords, refused bodies, webhook events signed right and
# wrong).  None of them may appear in any log, any output or error
# message, or the process list (ps -eo args, sampled while each program
# runs).  Only the Postfix map files hold the database password, as they
# must.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/helpers/podop-lib.sh"

need_cmd postmap doveadm podop postino ps
# Distinctive, and different from anything the tests use elsewhere.
DB_SECRET="Db-Secret-Qz7x$$-unguessable"
USER_SECRET="User-Secret-Kx9v$$-unguessable"
SCIM_SECRET="Scim-Secret-Jw4r$$-unguessable"
WRONG_SECRET="Wrong-Secret-Pm2n$$-unguessable"
HMAC_SECRET_X="Hmac-Secret-Wm3p$$-0123456789abcdefghijklmnop"
export POSTINO_BCRYPT_COST=4
mkdir -p caught

create_database || test_skip_or_fail "cannot create a $POSTINO_TEST_ENGINE database"
case $POSTINO_TEST_ENGINE in
mysql)
	mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot -e "
		ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_SECRET';
		ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_SECRET';" ;;
pgsql)
	psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -q \
		-c "ALTER ROLE \"$DB_USER\" PASSWORD '$DB_SECRET'" ;;
esac
MAIL_ROOT=$TEST_DIR/mail
mkdir -p "$MAIL_ROOT"
SQLITE_DB=$TEST_DIR/etc/postino.sqlite
POSTINO_CONFIG=$TEST_DIR/etc/postino.toml
export MAIL_ROOT SQLITE_DB POSTINO_CONFIG

# snap: the process list now, appended to caught/ps.
snap() {
	ps -eo args >>caught/ps 2>&1
}

# fed NAME CMD...: run CMD with its stdin on a FIFO; while it waits
# there, sample the process list; then write the password (the first
# line of ./secret-in) and wait.  Output and errors in caught/NAME.
fed() {
	_n=$1
	shift
	rm -f fifo && mkfifo fifo || return 1
	"$@" <fifo >"caught/$_n.out" 2>"caught/$_n.err" &
	_p=$!
	exec 8>fifo
	sleep 0.3
	snap
	cat secret-in >&8
	exec 8>&-
	wait "$_p"
}

test_expect_success 'postino init --password-stdin' '
	set -- --dir "$TEST_DIR/etc" --engine "$POSTINO_TEST_ENGINE" \
		--mail-root "$MAIL_ROOT" --vmail-uid "$VMAIL_UID" --vmail-gid "$VMAIL_GID" &&
	if [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
		postino init "$@" >caught/init.out 2>caught/init.err
	else
		printf "%s\n" "$DB_SECRET" >secret-in &&
		fed init postino init "$@" --hosts "$DB_HOSTS" --user "$DB_USER" \
			--dbname "$DB_NAME" --password-stdin
	fi &&
	postino domain add example.com >caught/domain.out 2>&1
'

test_expect_success 'postino user add --password-stdin, and a refused one' '
	printf "%s\n" "$USER_SECRET" >secret-in &&
	fed useradd postino user add alice@example.com --password-stdin &&
	fed useradd-refused postino user add bob@nowhere.example --password-stdin;
	test -s caught/useradd-refused.err &&
	postino --json user show alice@example.com >caught/show.json 2>&1 &&
	postino check --json >caught/check.json 2>&1;
	postino user list >caught/list.out 2>&1
'

test_expect_success 'postino with a wrong database password: an error, no password' '
	[ "$POSTINO_TEST_ENGINE" != sqlite ] || exit 0
	mkdir -p wrong/postfix &&
	for f in "$TEST_DIR"/etc/postfix/*.cf; do
		sed "s/^password *=.*/password = $WRONG_SECRET/" "$f" >"wrong/postfix/${f##*/}"
	done &&
	sed "s|^postfix_sql_dir = .*|postfix_sql_dir = \"$TEST_DIR/wrong/postfix\"|" \
		"$POSTINO_CONFIG" >wrong/postino.toml &&
	{ postino -c wrong/postino.toml domain list >caught/wrong.out 2>caught/wrong.err; rc=$?; } &&
	check_eq $rc 5 "exit status" &&
	test -s caught/wrong.err && cat caught/wrong.err &&
	{ postino -c wrong/postino.toml check --json >caught/wrong-check.json \
		2>caught/wrong-check.err || true; }
'

test_setup 'podop, verbose, on the database, and on a database that refuses it' '
	start_podop sm --socket "$TEST_DIR/sm.sock" -v -v \
		--table mailbox=postfixadmin:mailbox \
		--table sqlmb=sql:"$TEST_DIR/etc/postfix/sql-virtual_mailbox_maps.cf" &&
	start_podop dict --socket "$TEST_DIR/dict.sock" --mode dovecot -v -v \
		--table auth=postfixadmin:dovecot &&
	if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then
		start_podop bad --socket "$TEST_DIR/bad.sock" -v -v \
			--table wrong=sql:"$TEST_DIR/wrong/postfix/sql-virtual_mailbox_maps.cf"
	fi
'

test_expect_success 'podop: lookups, a passdb answer, a refused login' '
	snap &&
	postfix_conf && doveadm_conf &&
	pq alice@example.com mailbox >caught/pq.out 2>&1 &&
	pq alice@example.com sqlmb >>caught/pq.out 2>&1 &&
	dd dict get proxy:$TEST_DIR/dict.sock:auth shared/passdb/alice@example.com \
		>caught/dict.out 2>&1 &&
	if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then
		! pq alice@example.com wrong "$TEST_DIR/bad.sock" >caught/bad.out 2>&1 &&
		check_grep "temporary error" caught/bad.out
	fi &&
	podop query --table mailbox=postfixadmin:mailbox mailbox alice@example.com \
		>caught/query.out 2>&1 &&
	podop_stop_all_clean
'

. "$SRCDIR/tests/helpers/postinod-lib.sh"
need_postinod_tools

test_setup 'postinod with the HMAC secret, logging at debug' '
	HMAC_SECRET=$HMAC_SECRET_X &&
	start_jwks &&
	start_postinod POSTINOD_LOG_LEVEL=debug &&
	TOKEN=$(token --sub provisioner)
'

test_expect_success 'postinod: SCIM with passwords, refusals, webhook events' '
	snap &&
	expect_status 201 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"carol@example.com\",\"password\":\"$SCIM_SECRET\"}" &&
	cat out >caught/scim1.json &&
	expect_status 400 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"not an address\",\"password\":\"$SCIM_SECRET\"}" &&
	cat out >caught/scim2.json &&
	expect_status 400 scim POST /Users "{\"userName\":\"dave@example.com\",\"password\":\"$SCIM_SECRET\",}" &&
	cat out >caught/scim3.json &&
	expect_status 409 scim POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"carol@example.com\",\"password\":\"$SCIM_SECRET\"}" &&
	cat out >caught/scim4.json &&
	expect_status 200 scim PATCH /Users/carol@example.com "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"password\",\"value\":\"$SCIM_SECRET\"}]}" &&
	cat out >caught/scim5.json &&
	expect_status 200 scim GET /Users/carol@example.com &&
	cat out >caught/scim6.json &&
	zitadel --secret "$HMAC_SECRET_X" --type user.deactivated \
		--email alice@example.com >caught/hook1.out 2>&1 &&
	zitadel --secret "$WRONG_SECRET-0123456789" --type user.reactivated \
		--email alice@example.com >caught/hook2.out 2>&1 &&
	zitadel --secret "$HMAC_SECRET_X" --form hex --type user.reactivated \
		--email alice@example.com >caught/hook3.out 2>&1 &&
	check_eq "$(cut -d" " -f1 caught/hook1.out caught/hook2.out caught/hook3.out | tr "\n" " ")" \
		"200 401 200 " "webhook statuses"
'

test_setup 'stop postinod' '
	stop_postinod
'

test_expect_success 'no secret in any log, output, error or process list' '
	postinod_log_clean &&
	cp "$TEST_DIR"/*.log caught/ &&
	# The samples caught each program while it ran, the logs are there.
	check_grep "^postino user add alice@example.com --password-stdin" caught/ps &&
	check_grep "^podop --socket $TEST_DIR/dict.sock" caught/ps &&
	check_grep "^postinod" caught/ps &&
	check_grep "lookup map=auth key=passdb/alice@example.com" caught/dict.log &&
	check_grep "path=/scim/v2/Users status=201" caught/postinod.log &&
	found=0 &&
	for s in "$DB_SECRET" "$USER_SECRET" "$SCIM_SECRET" "$WRONG_SECRET" "$HMAC_SECRET_X"; do
		if grep -r -l -F -e "$s" caught; then
			echo "[$s] leaked into the files above" >&2
			found=1
		fi
	done &&
	test $found = 0 &&
	echo "checked $(ls caught | wc -l) files, $(wc -l <caught/ps) process list lines"
'

test_expect_success 'the database password is in the Postfix map files only, mode 0640' '
	[ "$POSTINO_TEST_ENGINE" != sqlite ] || exit 0
	grep -r -l -F -e "$DB_SECRET" "$TEST_DIR/etc" >where &&
	! grep -v "/etc/postfix/sql-[a-z_]*\.cf$" where &&
	for f in $(cat where); do
		check_eq "$(stat -c %a "$f")" 640 "mode of $f" || exit 1
	done
'

test_done
