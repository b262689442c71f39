#!/bin/sh
# engines: all
# postino check's postfix_chroot: Debian's stock master.cf runs smtpd,
# cleanup and trivial-rewrite chrooted in the queue directory, where a
# socketmap or database UNIX socket outside it does not exist; "proxy:"
# hands the lookup to proxymap(8), outside the chroot.  The main.cf
# "config gen" writes must pass with chroot on, and check must name a map
# the chrooted daemons cannot reach.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
Q=$TEST_DIR/spool-postfix
G=$TEST_DIR/gen
SOCK=$TEST_DIR/run/podop.sock

# write_master_cf y|n: Debian's services that read postino's maps.
write_master_cf() {
	cat >"$PFDIR/master.cf" <<EOF
# master.cf (excerpt of Debian's)
smtp      inet  n       -       $1       -       -       smtpd
pickup    unix  n       -       $1       60      1       pickup
cleanup   unix  n       -       $1       -       0       cleanup
rewrite   unix  -       -       $1       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
EOF
}

# use_gen LOOKUPS: main.cf is what config gen writes, in queue $Q.
use_gen() {
	rm -rf "$G" &&
	postino config gen --out "$G" --only main_cf --lookups "$1" \
		--podop-socket "unix:$SOCK" >/dev/null &&
	{ echo "queue_directory = $Q"; cat "$G/postfix/main.cf"; } >"$PFDIR/main.cf"
}

test_setup 'a chrooted master.cf' '
	mkdir -p "$Q" "$TEST_DIR/run" && write_master_cf y
'

test_expect_success 'config gen --lookups podop passes with chroot on' '
	use_gen podop &&
	check_grep "^virtual_alias_maps = proxy:socketmap:unix:$SOCK:alias$" "$PFDIR/main.cf" &&
	expect_clean &&
	finding_message postfix_chroot >m &&
	check_grep "^smtpd (smtp) runs chrooted in $Q; the [0-9]* maps reach" m
'

test_expect_success 'config gen --lookups sql passes with chroot on' '
	use_gen sql &&
	case $POSTINO_TEST_ENGINE in
	sqlite) check_grep "^virtual_alias_maps = sqlite:" "$PFDIR/main.cf" ;;
	*) check_grep "^virtual_alias_maps = proxy:$POSTINO_TEST_ENGINE:" "$PFDIR/main.cf" ;;
	esac &&
	expect_clean
'

test_expect_success 'a socketmap outside the chroot, without proxy:' '
	use_gen podop &&
	check_breaks postfix_chroot=error -- \
		"sed -i \"s/proxy:socketmap:/socketmap:/\" \"\$PFDIR/main.cf\"" \
		"use_gen podop" &&
	sed -i "s/proxy:socketmap:/socketmap:/" "$PFDIR/main.cf" &&
	run_check &&
	finding_message postfix_chroot >m &&
	check_grep "^smtpd (smtp) runs chrooted in $Q ($PFDIR/master.cf:2)" m &&
	check_grep "virtual_alias_maps: .socketmap:unix:$SOCK:alias. (the socket is outside the chroot)" m &&
	check_grep "proxy:TYPE:" m
'

test_expect_success 'the same without chroot, or with the socket in the queue directory' '
	sed -i "s/proxy:socketmap:/socketmap:/" "$PFDIR/main.cf" &&
	write_master_cf n && expect_clean &&
	finding_message postfix_chroot >m &&
	check_grep "no daemon that reads" m &&
	write_master_cf y &&
	sed -i "s|$SOCK|$Q/private/podop|g" "$PFDIR/main.cf" &&
	expect_clean &&
	use_gen podop && sed -i "s|^queue_directory = .*|queue_directory = $TEST_DIR/run/|" "$PFDIR/main.cf" &&
	sed -i "s/proxy:socketmap:/socketmap:/" "$PFDIR/main.cf" && expect_clean &&
	use_gen podop
'

test_expect_success 'a database UNIX socket outside the chroot, without proxy:' '
	mkdir -p "$TEST_DIR/other" &&
	printf "hosts = unix:/run/mysqld/mysqld.sock\nuser = u\npassword = p\ndbname = d\nquery = SELECT 1\n" >"$TEST_DIR/other/db.cf" &&
	use_gen podop &&
	check_breaks postfix_chroot=error -- \
		"echo \"smtpd_sender_login_maps = mysql:\$TEST_DIR/other/db.cf\" >>\"\$PFDIR/main.cf\"" \
		"use_gen podop" &&
	echo "smtpd_sender_login_maps = mysql:$TEST_DIR/other/db.cf" >>"$PFDIR/main.cf" &&
	run_check && finding_message postfix_chroot >m &&
	check_grep "its database socket /run/mysqld/mysqld.sock is outside the chroot" m &&
	sed -i "s|^hosts = .*|hosts = localhost|" "$TEST_DIR/other/db.cf" &&
	expect_finding postfix_chroot=error &&
	sed -i "s|^hosts = .*|hosts = inet:127.0.0.1:3306|" "$TEST_DIR/other/db.cf" &&
	expect_clean &&
	sed -i "s|^hosts = .*|hosts = unix:/run/mysqld/mysqld.sock|" "$TEST_DIR/other/db.cf" &&
	sed -i "s|= mysql:|= proxy:mysql:|" "$PFDIR/main.cf" &&
	expect_clean
'

test_expect_success 'proxy_read_maps set without the map' '
	use_gen podop &&
	check_breaks postfix_chroot=error -- \
		"echo \"proxy_read_maps = \\\$virtual_alias_maps \\\$transport_maps\" >>\"\$PFDIR/main.cf\"" \
		"use_gen podop" &&
	echo "proxy_read_maps = \$virtual_alias_maps \$transport_maps" >>"$PFDIR/main.cf" &&
	run_check && finding_message postfix_chroot >m &&
	check_grep "virtual_mailbox_domains: .proxy:socketmap:unix:$SOCK:domain. (not in proxy_read_maps" m &&
	! grep -q "virtual_alias_maps:" m &&
	echo "proxy_read_maps = \$virtual_alias_maps \$transport_maps \$virtual_mailbox_domains \${virtual_mailbox_maps}, \$smtpd_sender_login_maps" >>"$PFDIR/main.cf" &&
	expect_clean
'

# Only root can tell (and change) what the postfix user reads.
[ "$(id -u)" -eq 0 ] && getent passwd postfix >/dev/null &&
test_expect_success 'a proxied map the postfix user cannot read' '
	printf "dbpath = /nonexistent\nquery = SELECT 1\n" >"$TEST_DIR/other/lite.cf" &&
	chmod 600 "$TEST_DIR/other/lite.cf" &&
	use_gen podop &&
	echo "smtpd_sender_login_maps = proxy:sqlite:$TEST_DIR/other/lite.cf" >>"$PFDIR/main.cf" &&
	expect_finding postfix_chroot=error &&
	finding_message postfix_chroot >m &&
	check_grep "proxymap runs as postfix, who cannot read .$TEST_DIR/other/lite.cf." m &&
	chgrp postfix "$TEST_DIR/other/lite.cf" && chmod 640 "$TEST_DIR/other/lite.cf" &&
	expect_clean &&
	use_gen podop
'

test_done
