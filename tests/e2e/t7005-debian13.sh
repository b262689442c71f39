#!/bin/sh
# engines: all
# The generated Dovecot 2.4 configuration judged by Debian 13 itself: a
# Debian 13 (trixie) root made with debootstrap from the archive this
# machine uses (tests/lib/debian-root.sh, cached between runs) holds the
# stock Postfix 3.10 and Dovecot 2.4 packages and their stock /etc trees.
# postino runs here, outside; "postino config gen" (which must find
# Dovecot 2.4 by itself) writes the files, they are added to copies of
# the stock trees the way postino(8) says, and only Postfix and Dovecot run
# inside the root: doveconf -n, doveadm auth test for every scheme postino
# offers, postmap -q for every generated map, and one message from
# sendmail through LMTP into the maildir postino made, read back over
# IMAP.
#
# The script runs in a mount namespace of its own: the copies of the stock
# trees, a private /run, /tmp and spool, and this test's directory (at the
# same path, so the generated paths hold inside) are mounted over the
# cached root there and vanish with the namespace; the root itself is never
# changed.  Nothing listens on a fixed port.
if [ -z "${T7005_IN_NS:-}" ] && [ "$(id -u)" -eq 0 ] &&
	command -v unshare >/dev/null 2>&1; then
	T7005_IN_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"

[ "$(id -u)" -eq 0 ] || test_skip_or_fail "a Debian 13 root needs root (debootstrap, chroot, mount)"
[ -n "${T7005_IN_NS:-}" ] || test_skip_or_fail "unshare (util-linux) not installed"
need_cmd debootstrap chroot mount python3 jq
if [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
	need_cmd podop
fi

ROOT=$("$SRCDIR/tests/lib/debian-root.sh" trixie 2>"$TEST_DIR/root.log") || {
	sed 's/^/# /' "$TEST_DIR/root.log" | tail -20
	test_skip_or_fail "cannot build a Debian 13 root"
}
sed -n 's/^debian-root.sh: built/# built/p' "$TEST_DIR/root.log"

setup_check
M=$MAIL_ROOT
GEN=$TEST_DIR/gen
IMAP_PORT=$(free_port)
# The same password for every mailbox, one per scheme postino offers.
SCHEMES="BLF-CRYPT SHA512-CRYPT ARGON2I ARGON2ID MD5-CRYPT"
PW='Pw-1 "q"'

# in_root CMD...: CMD inside the Debian 13 root.
in_root() {
	chroot "$ROOT" "$@"
}

# over DIR: a private copy of the root's DIR (or an empty directory, with
# "empty") mounted over it, so that nothing is written into the cache.
over() {
	_d=$TEST_DIR/root$1
	mkdir -p "$(dirname "$_d")"
	if [ "${2:-}" = empty ]; then
		mkdir -p "$_d"
	else
		cp -a "$ROOT$1" "$_d"
	fi
	mount --bind "$_d" "$ROOT$1" && test_at_exit "umount -l '$ROOT$1'"
}

test_setup 'the Debian 13 root, with private /etc/postfix, /etc/dovecot, /run, /tmp and spool' '
	in_root dovecot --version >v.out && check_grep "^2\.4\." v.out &&
	in_root postconf -d mail_version >v.out && check_grep "= 3\.[1-9][0-9]*\." v.out &&
	mount -t proc proc "$ROOT/proc" && test_at_exit "umount -l $ROOT/proc" &&
	mount -t tmpfs tmpfs "$ROOT/run" && test_at_exit "umount -l $ROOT/run" &&
	mount -t tmpfs tmpfs "$ROOT/tmp" && test_at_exit "umount -l $ROOT/tmp" &&
	mkdir -p "$ROOT$TEST_DIR" && mount --bind "$TEST_DIR" "$ROOT$TEST_DIR" &&
	test_at_exit "umount -l $ROOT$TEST_DIR" &&
	if [ "$POSTINO_TEST_ENGINE" = mysql ]; then
		_s=$(dirname "$TEST_MYSQL_SOCKET") &&
		mkdir -p "$ROOT$_s" && mount --bind "$_s" "$ROOT$_s" &&
		test_at_exit "umount -l $ROOT$_s"
	fi &&
	over /etc/postfix && over /etc/dovecot && over /var/spool/postfix &&
	over /var/lib/postfix && over /var/lib/dovecot && over /var/mail empty
'

# The database as a Debian 13 Dovecot reads it, for the quoting of
# defect 6: a password with blanks, quotes, #, %, %{...} and $.
WEIRD='p w"x'"'"'#1%%{user}%$SET:y\z'
test_setup 'a database password with blanks, quotes, #, %, $ and backslash' '
	case $POSTINO_TEST_ENGINE in
	pgsql)
		_q=$(printf "%s" "$WEIRD" | sed "s/'"'"'/'"''"'/g") &&
		printf "ALTER ROLE \"%s\" PASSWORD '"'"'%s'"'"';\n" "$DB_USER" "$_q" |
			psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 ;;
	mysql)
		_q=$(printf "%s" "$WEIRD" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'"'"'/'"''"'/g") &&
		for _h in localhost 127.0.0.1; do
			printf "ALTER USER '"'"'%s'"'"'@'"'"'%s'"'"' IDENTIFIED BY '"'"'%s'"'"';\n" \
				"$DB_USER" "$_h" "$_q"
		done >alter.sql &&
		mariadb --no-defaults --socket="$TEST_MYSQL_SOCKET" -uroot <alter.sql ;;
	*) true ;;
	esac &&
	if [ "$POSTINO_TEST_ENGINE" != sqlite ]; then
		for _f in "$TEST_DIR"/etc/postfix/sql-*.cf; do
			PW_NEW=$WEIRD awk "/^password *=/ { print \"password = \" ENVIRON[\"PW_NEW\"]; next } { print }" \
				"$_f" >"$_f.new" && cat "$_f.new" >"$_f" && rm "$_f.new" || return 1
		done
	fi &&
	postino domain list >/dev/null
'

# setup_check made example.org, its alias domain example.net, alice, bob
# and info@ (to both); add one mailbox per scheme postino offers.
test_setup 'postino: one mailbox per password scheme' '
	for _s in $SCHEMES; do
		_u=$(echo "$_s" | tr "A-Z" "a-z" | tr -d -)
		printf "%s\n" "$PW" | postino user add "$_u@example.org" \
			--password-stdin --scheme "$_s" >/dev/null 2>"add-$_s.err" || return 1
	done
'

test_expect_success 'defect 5: user add --scheme MD5-CRYPT warns about Dovecot 2.4' '
	check_grep "MD5-CRYPT is a weak scheme.*auth_allow_weak_schemes = yes" add-MD5-CRYPT.err &&
	test ! -s add-BLF-CRYPT.err && test ! -s add-ARGON2ID.err
'

test_setup 'config gen finds Dovecot 2.4 by itself' '
	mkdir -p "$TEST_DIR/bin" &&
	printf "#!/bin/sh\nexec chroot %s /usr/sbin/dovecot \"\$@\"\n" "$ROOT" >"$TEST_DIR/bin/dovecot" &&
	chmod +x "$TEST_DIR/bin/dovecot" &&
	PATH=$TEST_DIR/bin:$PATH postino config gen --out "$GEN" --postfix-dir /etc/postfix \
		--dovecot-dir /etc/dovecot --queue-dir /var/spool/postfix \
		--podop-socket "unix:$TEST_DIR/podop.sock" --json >gen.json 2>gen.err &&
	test -e "$GEN/dovecot/conf.d/auth-sql.conf.ext" &&
	check_grep "^dovecot_config_version\|^sql_driver" "$GEN/dovecot/conf.d/auth-sql.conf.ext" &&
	test ! -e "$GEN/dovecot/dovecot-sql.conf.ext"
'

test_expect_success 'defect 5: config gen says what to set for the weak hash' '
	check_grep "1 mailbox password uses a scheme Dovecot 2.4 refuses.*auth_allow_weak_schemes = yes" gen.err &&
	check_grep "^#auth_allow_weak_schemes = yes$" "$GEN/dovecot/conf.d/auth-sql.conf.ext"
'

# As postino(8) says: the conf.d files into /etc/dovecot/conf.d, and
# 10-auth.conf includes auth-sql.conf.ext instead of auth-system.conf.ext;
# the sql-*.cf maps into /etc/postfix, the main.cf lines appended.
test_setup 'the generated files added to the stock trees' '
	cp "$GEN"/dovecot/conf.d/* "$ROOT/etc/dovecot/conf.d/" &&
	sed -i -e "s/^!include auth-system.conf.ext/#&/" \
		-e "s/^#!include auth-sql.conf.ext/!include auth-sql.conf.ext/" \
		"$ROOT/etc/dovecot/conf.d/10-auth.conf" &&
	chgrp -R dovecot "$ROOT/etc/dovecot/conf.d" 2>/dev/null ||
		in_root chgrp dovecot /etc/dovecot/conf.d/auth-sql.conf.ext &&
	cp "$GEN"/postfix/sql-*.cf "$ROOT/etc/postfix/" &&
	in_root sh -c "chgrp postfix /etc/postfix/sql-*.cf" &&
	if [ "$POSTINO_TEST_ENGINE" = sqlite ]; then
		in_root chgrp postfix "$SQLITE_DB"
	fi
'

# Only what makes this a test instance: no listener on a fixed port
# (IMAP on a free one, on 127.0.0.1), the log in the test directory.
test_setup 'a test instance: IMAP on a free port, nothing else listening' '
	cat >"$ROOT/etc/dovecot/local.conf" <<-EOF
	listen = 127.0.0.1
	log_path = $TEST_DIR/dovecot.log
	service imap-login {
	  inet_listener imap {
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    port = 0
	  }
	}
	EOF
	true
'

test_expect_success 'doveconf -n is clean on the stock tree plus the generated files' '
	in_root doveconf -n >d.out 2>d.err &&
	! grep -i "warning\|error" d.err &&
	check_grep "mail_inbox_path = ~" d.out
'

# The stock main.cf with the generated lines appended, the stock
# master.cf.  Postfix's chrooted services (stock master.cf) reach file and
# socket maps only through proxymap: the maps config gen names without
# proxy: get it here (issue 16, defect 3, is config gen's part).
test_setup 'Postfix: the stock main.cf and master.cf plus the generated lines' '
	cat "$GEN/postfix/main.cf" >>"$ROOT/etc/postfix/main.cf" &&
	if [ -e "$GEN/postfix/master.cf" ]; then
		cat "$GEN/postfix/master.cf" >>"$ROOT/etc/postfix/master.cf"
	fi &&
	sed -i -e "/^[[:space:]]*#/!s/\(^\|[[:space:],=]\)\(sqlite\|mysql\|socketmap\):/\1proxy:\2:/g" \
		"$ROOT/etc/postfix/main.cf" &&
	in_root postconf -e "maillog_file_prefixes = /var /dev/stdout $TEST_DIR" \
		"maillog_file = $TEST_DIR/postfix.log" &&
	in_root postconf -M# smtp/inet &&
	in_root postconf -M >m.out && ! grep " inet " m.out &&
	in_root postconf -n >n.out 2>n.err && ! grep -i "warning" n.err
'

test_setup 'start Postfix (no listener) and Dovecot inside the root' '
	in_root postfix start >pf.log 2>&1 || { cat pf.log "$TEST_DIR/postfix.log"; false; } &&
	test_at_exit "in_root postfix stop" &&
	in_root dovecot >dv.log 2>&1 || { cat dv.log "$TEST_DIR/dovecot.log"; false; } &&
	test_at_exit "in_root doveadm stop" &&
	wait_until 20 python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $IMAP_PORT), 1)" || {
		cat "$TEST_DIR/dovecot.log"; false; }
'

for s in $SCHEMES; do
	u=$(echo "$s" | tr "A-Z" "a-z" | tr -d -)@example.org
	if [ "$s" = MD5-CRYPT ]; then
		test_expect_success "doveadm auth test: $s is refused as weak (auth_allow_weak_schemes)" '
			! in_root doveadm auth test "$u" "$PW" >a.out 2>&1 &&
			check_grep "internal auth failure" a.out &&
			grep -i "weak" "$TEST_DIR/dovecot.log"
		'
	else
		test_expect_success "doveadm auth test: $s" '
			in_root doveadm auth test "$u" "$PW" >a.out 2>&1 &&
			check_grep "passdb: $u auth succeeded" a.out &&
			! in_root doveadm auth test "$u" wrong >/dev/null 2>&1
		'
	fi
done

# lmtp_send RCPT SUBJECT: one message straight to Dovecot's LMTP socket.
lmtp_send() {
	python3 - "$ROOT/run/dovecot/lmtp" "$@" <<'EOF'
import smtplib, sys
sock, rcpt, subject = sys.argv[1:4]
msg = ("From: sender@outside.test\r\nTo: %s\r\nSubject: %s\r\n"
       "Message-ID: <%s@postino.test>\r\n\r\nbody\r\n" % (rcpt, subject, subject))
s = smtplib.LMTP(sock)
s.ehlo("mx.postino.test")
s.mail("sender@outside.test")
code, text = s.rcpt(rcpt)
print(code, text.decode())
if code >= 400:
    sys.exit(1)
s.data(msg.encode())
s.quit()
EOF
}

test_expect_success 'defects 1, 2: LMTP delivers by the whole address into the maildir itself' '
	lmtp_send alice@example.org lmtp-1 >l.out 2>&1 || { cat l.out; tail -5 "$TEST_DIR/dovecot.log"; false; } &&
	grep -l -r -x "Subject: lmtp-1" "$M/example.org/alice/new" &&
	test ! -e "$M/example.org/alice/.INBOX" && test -z "$(ls "$ROOT/var/mail")"
'

test_expect_success 'sendmail -> Postfix -> LMTP -> the maildir postino made' '
	printf "From: sender@outside.test\nTo: info@example.net\nSubject: via-postfix\n\nhello\n" |
		in_root /usr/sbin/sendmail -f sender@outside.test info@example.net &&
	wait_until 30 grep -q -r -x "Subject: via-postfix" "$M/example.org/alice/new" || {
		tail -20 "$TEST_DIR/postfix.log"; tail -5 "$TEST_DIR/dovecot.log"; false; } &&
	wait_until 30 grep -q -r -x "Subject: via-postfix" "$M/example.org/bob/new"
'

test_expect_success 'IMAP login with the password postino set, both messages in INBOX' '
	python3 - "$IMAP_PORT" >imap.out <<-\EOF &&
	import imaplib, sys
	m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
	m.login("alice@example.org", "secret-1")
	m.select("INBOX", readonly=True)
	typ, data = m.search(None, "ALL")
	for n in data[0].split():
	    typ, d = m.fetch(n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
	    print(d[0][1].decode().strip())
	m.logout()
	EOF
	check_grep "^Subject: lmtp-1" imap.out && check_grep "^Subject: via-postfix" imap.out
'

test_expect_success 'defect 5: with auth_allow_weak_schemes = yes, MD5-CRYPT logs in' '
	echo "auth_allow_weak_schemes = yes" >>"$ROOT/etc/dovecot/local.conf" &&
	in_root doveadm reload && sleep 1 &&
	wait_until 10 in_root doveadm auth test md5crypt@example.org "$PW" &&
	in_root doveadm auth test md5crypt@example.org "$PW" >a.out 2>&1 &&
	check_grep "auth succeeded" a.out
'

test_expect_success 'doveadm user: home is the maildir postino made' '
	in_root doveadm user -f home blfcrypt@example.org >h.out &&
	check_eq "$(cat h.out)" "$M/example.org/blfcrypt/"
'

# One key each generated map must answer, and what it answers.
cat >"$TEST_DIR/keys" <<EOF
sql-virtual_domains.cf example.org example.org
sql-virtual_alias_maps.cf info@example.org alice@example.org,bob@example.org
sql-virtual_alias_alias_domain_maps.cf info@example.net alice@example.org,bob@example.org
sql-virtual_alias_domain_catchall_maps.cf nobody@example.net -
sql-virtual_mailbox_maps.cf blfcrypt@example.org example.org/blfcrypt/
sql-virtual_mailbox_alias_domain_maps.cf blfcrypt@example.net example.org/blfcrypt/
sql-virtual_transport_maps.cf example.org :
sql-virtual_sender_login_maps.cf blfcrypt@example.org blfcrypt@example.org
EOF
test_expect_success 'postmap -q answers for every generated map' '
	n=0 &&
	for f in "$GEN"/postfix/sql-*.cf; do
		b=$(basename "$f") &&
		line=$(grep "^$b " "$TEST_DIR/keys") || {
			[ "$b" = sql-routes.cf ] && continue
			echo "no key for $b" >&2; return 1; } &&
		set -- $line &&
		case $POSTINO_TEST_ENGINE in
		sqlite) t=sqlite ;; mysql) t=mysql ;; pgsql) t=pgsql ;;
		esac &&
		got=$(in_root postmap -q "$2" "$t:/etc/postfix/$b" 2>pm.err) ; rc=$?
		if [ "$3" = - ]; then
			[ $rc -eq 1 ] && [ -z "$got" ] || { echo "$b $2: [$got] rc $rc" >&2; cat pm.err >&2; return 1; }
		else
			[ $rc -eq 0 ] && check_eq "$(echo "$got" | tr -d " ")" "$3" "$b $2" || { cat pm.err >&2; return 1; }
		fi
		n=$((n + 1))
	done &&
	test $n -ge 8
'

# --lookups podop: Dovecot 2.4 copies mailbox usage into quota2 through
# podop's dict (quota_clone), with the file config gen adds for it.
test_setup 'config gen --lookups podop: podop-dovecot.toml and 91-postino-podop.conf' '
	PATH=$TEST_DIR/bin:$PATH postino config gen --out "$GEN.p" --lookups podop \
		--postfix-dir /etc/postfix --dovecot-dir /etc/dovecot \
		--queue-dir /var/spool/postfix --podop-socket "unix:$TEST_DIR/podop.sock" \
		--podop-dict-socket "unix:$TEST_DIR/podop-dict.sock" >/dev/null 2>&1 &&
	test -e "$GEN.p/dovecot/conf.d/91-postino-podop.conf" &&
	podop -c "$GEN.p/podop/podop-dovecot.toml" >podop-dict.log 2>&1 &
	echo $! >podop-dict.pid &&
	test_at_exit "kill $(cat podop-dict.pid)" &&
	wait_until 10 test -S "$TEST_DIR/podop-dict.sock" || { cat podop-dict.log; false; }
'

test_expect_success 'doveconf -n is clean with quota_clone through podop' '
	chmod 666 "$TEST_DIR/podop-dict.sock" &&
	cp "$GEN.p/dovecot/conf.d/91-postino-podop.conf" "$ROOT/etc/dovecot/conf.d/" &&
	in_root doveconf -n >d.out 2>d.err &&
	! grep -i "warning\|error" d.err &&
	check_grep "dict_proxy_name = auth\|  name = auth" d.out
'

bob_counted() {
	[ "$(sql "SELECT messages FROM quota2 WHERE username = 'bob@example.org'")" -ge 2 ]
}
test_expect_success 'a delivery updates quota2 through podop (quota_clone)' '
	in_root doveadm reload &&
	sleep 1 &&
	lmtp_send bob@example.org quota-1 >l.out 2>&1 || { cat l.out; tail -5 "$TEST_DIR/dovecot.log"; false; } &&
	wait_until 20 bob_counted || {
		sql "SELECT * FROM quota2"; tail -5 "$TEST_DIR/dovecot.log"; cat podop-dict.log; false; }
'

# In the current shell (test_setup), so that its kill at exit is kept.
test_setup 'podop for the socketmaps config gen names' '
	podop -c "$GEN.p/podop/podop-postfix.toml" >podop.log 2>&1 &
	echo $! >podop.pid &&
	test_at_exit "kill $(cat podop.pid)" &&
	{ wait_until 10 test -S "$TEST_DIR/podop.sock" || { cat podop.log; false; }; }
'

test_expect_success 'postmap -q through podop'"'"'s socketmap for the maps config gen names' '
	grep -o "socketmap:unix:[^ ,]*" "$GEN.p/postfix/main.cf" | sort -u >maps &&
	test "$(wc -l <maps)" -ge 5 &&
	while read -r m; do
		case ${m##*:} in
		domain) k=example.org want=. ;;
		mailbox) k=alice@example.org want=example.org/alice/ ;;
		alias) k=info@example.net want=alice@example.org ;;
		sender_login) k=alice@example.org want=alice@example.org ;;
		transport) k=example.org want=. ;;
		routes) continue ;;
		*) echo "no key for $m" >&2; return 1 ;;
		esac
		got=$(in_root postmap -q "$k" "$m") &&
		echo "$got" | grep -q -- "$want" || { echo "$m $k: [$got]" >&2; return 1; }
	done <maps
'

# identity_backend hybrid on Dovecot 2.4 (defect 4): local passwords in
# SQL, the IdP's tokens through the OAUTHBEARER/XOAUTH2 mechanisms and the
# global oauth2 { } block, checked here against a stand-in introspection
# endpoint on a free port ("tok-alice" is alice's token, nothing else is
# active).  A wrong password is a plain failure, not a temporary one.
IDP_PORT=$(free_port)
test_setup 'a stand-in IdP introspection endpoint' '
	python3 - "$IDP_PORT" >idp.log 2>&1 <<-\EOF &
	import http.server, json, sys, urllib.parse
	class H(http.server.BaseHTTPRequestHandler):
	    def do_POST(self):
	        n = int(self.headers.get("Content-Length") or 0)
	        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
	        tok = (form.get("token") or [""])[0]
	        body = {"active": True, "email": "alice@example.org"} \
	            if tok == "tok-alice" else {"active": False}
	        data = json.dumps(body).encode()
	        self.send_response(200)
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(data)))
	        self.end_headers()
	        self.wfile.write(data)
	http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	EOF
	echo $! >idp.pid &&
	test_at_exit "kill $(cat idp.pid)" &&
	wait_until 10 python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $IDP_PORT), 1)"
'

test_setup 'config gen --identity-backend hybrid, the endpoint filled in' '
	PATH=$TEST_DIR/bin:$PATH postino config gen --out "$GEN.h" --identity-backend hybrid \
		--postfix-dir /etc/postfix --dovecot-dir /etc/dovecot \
		--queue-dir /var/spool/postfix >/dev/null 2>&1 &&
	A=$GEN.h/dovecot/conf.d/auth-sql.conf.ext &&
	sed -i "s|^  introspection_url = .*|  introspection_url = http://127.0.0.1:$IDP_PORT/introspect|" "$A" &&
	cp "$A" "$ROOT/etc/dovecot/conf.d/auth-sql.conf.ext" &&
	in_root doveconf -n >d.out 2>d.err && ! grep -i "warning\|error" d.err &&
	in_root doveadm reload && sleep 1
'

test_expect_success 'defect 4: 2.4 hybrid: token mechanisms and oauth2 { }, no oauth2 passdb' '
	check_grep "^  oauthbearer = yes$" "$A" && check_grep "^oauth2 {$" "$A" &&
	! grep "^passdb oauth2" "$A"
'

test_expect_success 'defect 4: hybrid: local password yes, wrong password a plain failure' '
	wait_until 10 in_root doveadm auth test alice@example.org secret-1 &&
	expect_code 77 in_root doveadm auth test alice@example.org wrong >a.out 2>&1 ||
		{ cat a.out; tail -5 "$TEST_DIR/dovecot.log"; false; }
'

test_expect_success 'defect 4: hybrid: the IdP token logs in over IMAP (XOAUTH2, OAUTHBEARER)' '
	python3 - "$IMAP_PORT" >imap.out 2>&1 <<-\EOF || { cat imap.out; tail -5 "$TEST_DIR/dovecot.log"; false; }
	import imaplib, sys
	port = int(sys.argv[1])
	for mech, fmt in (("XOAUTH2", "user=%s\x01auth=Bearer %s\x01\x01"),
	                  ("OAUTHBEARER", "n,a=%s,\x01auth=Bearer %s\x01\x01")):
	    m = imaplib.IMAP4("127.0.0.1", port)
	    m.authenticate(mech, lambda _: (fmt % ("alice@example.org", "tok-alice")).encode())
	    print(mech, m.select("INBOX", readonly=True)[0])
	    m.logout()
	m = imaplib.IMAP4("127.0.0.1", port)
	try:
	    m.authenticate("XOAUTH2", lambda _: b"user=alice@example.org\x01auth=Bearer nope\x01\x01")
	    sys.exit("a bad token logged in")
	except imaplib.IMAP4.error:
	    print("bad token refused")
	EOF
	check_grep "^XOAUTH2 OK" imap.out && check_grep "^OAUTHBEARER OK" imap.out &&
	check_grep "^bad token refused" imap.out
'

test_expect_success 'defect 4: check --deep accepts the 2.4 token setup, refuses the old passdb' '
	toml_set dovecot_conf_dir "\"$ROOT/etc/dovecot\"" &&
	toml_set identity_backend "\"hybrid\"" &&
	run_check --deep &&
	json "[.findings[] | select(.name == \"dovecot_passdb_chain\")] | length == 1 and .[0].severity == \"info\"" check.json &&
	printf "passdb oauth2 {\n  oauth2 {\n    introspection_url = http://127.0.0.1/x\n  }\n}\n" \
		>>"$ROOT/etc/dovecot/conf.d/auth-sql.conf.ext" &&
	run_check --deep &&
	json "[.findings[] | select(.name == \"dovecot_passdb_chain\")] | .[0].severity == \"error\"" check.json &&
	grep "grant_url" check.txt
'

test_done
