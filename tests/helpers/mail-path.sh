# mail-path.sh: the whole mail path, shared by t7003 (SQL lookups) and
# t7004 (podop lookups).  Source it after test-lib.sh, check-lib.sh and
# mail-lib.sh, with LOOKUPS set to sql or podop; it runs the tests and
# ends the script.
#
# postino makes the mail setup (domain, alias domain, mailboxes with
# passwords, alias, catch-all, a mailing list), "postino config gen" writes
# the Postfix, Dovecot (and podop) configuration, a throw-away Postfix and
# Dovecot run on it, and real SMTP and IMAP clients judge: each kind of
# address must land in the maildir postino created, and the user must log
# in with the password postino set.

need_cmd jq postfix postconf postalias dovecot doveconf doveadm openssl "$PY" \
	/usr/bin/mlmmj-receive /usr/lib/postfix/configure-instance.sh
[ "$(id -u)" -eq 0 ] || test_skip_or_fail "the mail path runs Postfix and Dovecot as root"
if [ "$LOOKUPS" = podop ] || [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
	need_cmd podop
fi

setup_check
SPOOL=$TEST_DIR/spool
GEN=$TEST_DIR/gen
SMTP_PORT=$(free_port)
IMAP_PORT=$(free_port)
M=$MAIL_ROOT
FROM=sender@outside.test
case $LOOKUPS in
podop) AUTH=auth-dict.conf.ext ;;
*) AUTH=auth-sql.conf.ext ;;
esac

# start_podop_conf NAME TOML: podop -c TOML in the background until exit.
start_podop_conf() {
	podop -c "$2" >"$TEST_DIR/$1.log" 2>&1 &
	echo $! >"$TEST_DIR/$1.pid"
	test_at_exit "kill $(cat "$TEST_DIR/$1.pid")"
	wait_until 60 test -S "$3" || {
		cat "$TEST_DIR/$1.log" >&2
		return 1
	}
}

test_setup 'postino: domains, mailboxes, alias, catch-all, a list' '
	mkdir "$SPOOL" && chown 65534:65534 "$SPOOL" &&
	toml_set mlmmj_spool_dir "\"$SPOOL\"" &&
	toml_set mlmmj_uid 65534 && toml_set mlmmj_gid 65534 &&
	toml_set dovecot_conf_dir "\"$DVDIR\"" &&
	printf "carol-pw\n" | postino user add carol@example.org --password-stdin >/dev/null &&
	postino alias add @example.org carol@example.org >/dev/null &&
	postino domain add lists.example.org >/dev/null &&
	postino list add team@lists.example.org --owner alice@example.org >/dev/null &&
	postino list sub team@lists.example.org alice@example.org &&
	postino list sub team@lists.example.org carol@example.org &&
	echo "$SMTP_PORT" >"$SPOOL/lists.example.org/team/control/smtpport"
'

test_setup "config gen --lookups $LOOKUPS, added to Debian's stock configuration as postino(8) says" '
	set -- --out "$GEN" --queue-dir "$PFQ" --lookups "$LOOKUPS" \
		--podop-socket "unix:$TEST_DIR/podop.sock" \
		--podop-dict-socket "unix:$TEST_DIR/podop-dict.sock" &&
	postino config gen "$@" --json >gen.json &&
	json ".files | length > 0" gen.json &&
	pf_stock "$SMTP_PORT" && pf_add_gen "$GEN" && pf_chroot &&
	dv_stock && dv_add_gen "$GEN" "$AUTH" && dv_local "$IMAP_PORT"
'

test_expect_success 'the stock master.cf runs smtpd, cleanup and trivial-rewrite chrooted' '
	postconf -c "$PFETC" -F "127.0.0.1:$SMTP_PORT/inet/chroot" \
		cleanup/unix/chroot rewrite/unix/chroot >c.out &&
	check_eq "$(sed "s/.* = //" c.out | sort -u)" y &&
	test -s "$PFQ/etc/services"
'

test_expect_success 'Postfix parses the generated main.cf and master.cf' '
	postconf -c "$PFETC" -n >n.out 2>n.err &&
	! grep -q warning n.err &&
	check_grep "^recipient_delimiter = +" n.out &&
	check_grep "^virtual_transport = lmtp:unix:private/dovecot-lmtp" n.out &&
	postconf -c "$PFETC" -M >m.out &&
	check_grep "^mlmmj-receive *unix" m.out
'

test_expect_success 'Dovecot accepts the generated configuration' '
	doveconf -c "$DVDIR/dovecot.conf" -n >d.out 2>d.err &&
	! grep -q -i "warning\|error" d.err &&
	check_grep "mail_location = maildir:~" d.out
'

test_setup 'start podop (where it answers), Postfix and Dovecot' '
	if [ -e "$GEN/podop/podop-postfix.toml" ]; then
		start_podop_conf podop "$GEN/podop/podop-postfix.toml" "$TEST_DIR/podop.sock"
	fi &&
	if [ -e "$GEN/podop/podop-dovecot.toml" ]; then
		start_podop_conf podop-dict "$GEN/podop/podop-dovecot.toml" "$TEST_DIR/podop-dict.sock"
	fi &&
	pf_start "$SMTP_PORT" &&
	dv_start "$IMAP_PORT"
'

test_expect_success 'check is clean on the running setup (shallow and deep)' '
	expect_clean && expect_clean --deep &&
	finding_message postfix_chroot >m &&
	check_grep " runs chrooted in $PFQ; the [0-9]* maps reach" m
'

test_expect_success 'Dovecot'"'"'s home is the maildir postino created' '
	doveadm -c "$DVDIR/dovecot.conf" user -f home alice@example.org >h.out &&
	check_eq "$(cat h.out)" "$M/example.org/alice/" &&
	doveadm -c "$DVDIR/dovecot.conf" user -f home bob@example.org >h.out &&
	check_eq "$(cat h.out)" "$M/example.org/bob/"
'

test_expect_success 'a mailbox' '
	smtp_send $SMTP_PORT $FROM "to-alice" alice@example.org &&
	wait_mail "$M/example.org/alice" "to-alice"
'

test_expect_success 'a mailbox with an address extension' '
	smtp_send $SMTP_PORT $FROM "to-alice-ext" alice+tag@example.org &&
	wait_mail "$M/example.org/alice" "to-alice-ext"
'

test_expect_success 'an alias to two mailboxes' '
	smtp_send $SMTP_PORT $FROM "to-info" info@example.org &&
	wait_mail "$M/example.org/alice" "to-info" &&
	wait_mail "$M/example.org/bob" "to-info"
'

test_expect_success 'a mailbox and an alias through the alias domain' '
	smtp_send $SMTP_PORT $FROM "to-bob-net" bob@example.net &&
	wait_mail "$M/example.org/bob" "to-bob-net" &&
	smtp_send $SMTP_PORT $FROM "to-info-net" info@example.net &&
	wait_mail "$M/example.org/alice" "to-info-net" &&
	wait_mail "$M/example.org/bob" "to-info-net"
'

test_expect_success 'the catch-all, directly and through the alias domain' '
	smtp_send $SMTP_PORT $FROM "to-nobody" nobody@example.org &&
	wait_mail "$M/example.org/carol" "to-nobody" &&
	smtp_send $SMTP_PORT $FROM "to-nobody-net" nobody@example.net &&
	wait_mail "$M/example.org/carol" "to-nobody-net" &&
	! maildir_has "$M/example.org/alice" "to-nobody"
'

test_expect_success 'an unknown address of a domain without catch-all is refused' '
	expect_code 1 smtp_send $SMTP_PORT $FROM "to-unknown" nobody@lists.example.org >out &&
	check_grep "nobody@lists.example.org 550" out
'

test_expect_success 'a mailing list reaches its subscribers, not the others' '
	smtp_send $SMTP_PORT $FROM "to-team" team@lists.example.org &&
	wait_mail "$M/example.org/alice" "to-team" &&
	wait_mail "$M/example.org/carol" "to-team" &&
	sleep 1 && ! maildir_has "$M/example.org/bob" "to-team"
'

test_expect_success 'list+keyword commands reach mlmmj (list+help answers)' '
	smtp_send $SMTP_PORT bob@example.org "help-please" team+help@lists.example.org &&
	wait_mail "$M/example.org/bob" "=?utf-8?q?Information_for_team=40lists.example.org?="
'

test_expect_success 'mail lives in <base>/<domain>/<local>/, no Maildir/ below' '
	test ! -e "$M/example.org/alice/Maildir" &&
	ls "$M/example.org/alice/new" >n && grep -q . n &&
	ls "$M" >doms && check_eq "$(cat doms | tr "\n" " ")" "example.org "
'

test_expect_success 'IMAP login with the password postino set' '
	imap_login $IMAP_PORT alice@example.org secret-1 >count &&
	test "$(cat count)" -ge 5 &&
	imap_login $IMAP_PORT carol@example.org carol-pw >count &&
	test "$(cat count)" -ge 3 &&
	! imap_login $IMAP_PORT alice@example.org wrong 2>err &&
	check_grep "AUTHENTICATIONFAILED\|Authentication failed" err
'

test_expect_success 'a new password works at once' '
	printf "newer-1-secret\n" | postino user passwd alice@example.org --password-stdin &&
	imap_login $IMAP_PORT alice@example.org newer-1-secret >/dev/null
'

test_expect_success 'check --deep is still clean after the mail went through' '
	expect_clean --deep
'

test_done
