# mail-lib.sh: shell helpers for the mailing-list, config gen and mail-path
# tests (t7*), sourced after tests/lib/test-lib.sh.
#
# The mail path runs a throw-away Postfix ("postfix -c DIR start") and
# Dovecot ("dovecot -c FILE") as root, on free loopback ports.  For t7003
# and t7004 they are copies of what Debian 12 installs (pf_stock, pf_chroot,
# dv_stock, dv_local) with the files "postino config gen" wrote added as
# postino(8) says (pf_add_gen, dv_add_gen); t7002 uses a minimal instance
# (pf_config, dv_config, install_gen).  Either way the files live here:
#
#	$TEST_DIR/etc		Postfix's config_directory (main.cf, master.cf),
#				parent of postfix_sql_dir, where check looks
#	$TEST_DIR/etc/postfix	postfix_sql_dir: the sql-*.cf maps
#	$TEST_DIR/pfq		Postfix's queue_directory (LMTP socket in
#				private/)
#	$TEST_DIR/dovecot	dovecot_conf_dir: dovecot.conf includes the
#				generated conf.d files
#
# Every daemon started here is stopped by test_at_exit.

PY=/usr/bin/python3
PFETC=$TEST_DIR/etc
PFQ=$TEST_DIR/pfq
DVDIR=$TEST_DIR/dovecot

# test_cmp_f WANT GOT: the files are equal, else show the difference.
test_cmp_f() {
	diff -u "$1" "$2" >&2
}

# install_gen GEN: put the generated files where postino said they go:
# GEN/postfix/* into postfix_sql_dir (main.cf and master.cf are snippets,
# merged by pf_config), GEN/dovecot/* into $DVDIR.
install_gen() {
	for _f in "$1"/postfix/sql-*.cf; do
		[ -e "$_f" ] && cp -p "$_f" "$PFETC/postfix/"
	done
	mkdir -p "$DVDIR"
	if [ -d "$1/dovecot" ]; then
		cp -pR "$1/dovecot/." "$DVDIR/"
	fi
}

# pf_config GEN SMTP_PORT: a private Postfix in $PFETC whose main.cf is a
# few instance settings plus the generated main.cf, and whose master.cf is
# the standard services (no chroot) plus the generated master.cf.
pf_config() {
	mkdir -p "$PFQ" "$PFQ/data"
	chown postfix "$PFQ/data"
	cat >"$PFETC/main.cf" <<EOF
# the test instance
compatibility_level = 3.6
queue_directory = $PFQ
data_directory = $PFQ/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.postino.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
smtputf8_enable = no
maillog_file = $PFQ/postfix.log
maillog_file_prefixes = $PFQ
# postino config gen
EOF
	cat "$1/postfix/main.cf" >>"$PFETC/main.cf"
	cat >"$PFETC/master.cf" <<EOF
127.0.0.1:$2 inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	if [ -e "$1/postfix/master.cf" ]; then
		cat "$1/postfix/master.cf" >>"$PFETC/master.cf"
	fi
}

# pf_stock SMTP_PORT: $PFETC becomes the Postfix configuration Debian 12
# installs: master.cf as the package ships it (smtpd, cleanup,
# trivial-rewrite, smtp, lmtp ... chrooted), main.cf as its postinst writes
# it for "Internet Site".  Then only what keeps this instance to itself:
# its own queue and data directories, log file and aliases, and the smtpd
# listener on a free loopback port instead of port 25.
pf_stock() {
	mkdir -p "$PFETC/postfix" "$PFQ/data" &&
	chown postfix "$PFQ/data" &&
	cp /usr/share/postfix/master.cf.dist "$PFETC/master.cf" &&
	cp /usr/share/postfix/main.cf.debian "$PFETC/main.cf" &&
	if [ -r /etc/ssl/private/ssl-cert-snakeoil.key ]; then
		cat /usr/share/postfix/main.cf.tls >>"$PFETC/main.cf"
	fi &&
	printf 'postmaster: root\n' >"$PFETC/aliases" &&
	postconf -c "$PFETC" -e \
		"smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination" \
		"myhostname=mx.postino.test" \
		"alias_maps=hash:$PFETC/aliases" \
		"alias_database=hash:$PFETC/aliases" \
		"mydestination=\$myhostname, localhost.localdomain, localhost" \
		"relayhost=" \
		"mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128" \
		"mailbox_size_limit=0" "recipient_delimiter=+" \
		"inet_interfaces=all" "inet_protocols=all" &&
	postconf -c "$PFETC" -e "queue_directory=$PFQ" \
		"data_directory=$PFQ/data" "inet_interfaces=loopback-only" \
		"maillog_file=$PFQ/postfix.log" "maillog_file_prefixes=$PFQ" &&
	postalias -c "$PFETC" "hash:$PFETC/aliases" &&
	postconf -c "$PFETC" -M# smtp/inet &&
	postconf -c "$PFETC" -Me \
		"127.0.0.1:$1/inet=127.0.0.1:$1 inet n - y - - smtpd"
}

# pf_add_gen GEN: add the generated Postfix files as postino(8) says:
# drop main.cf's own settings of the generated parameters and append the
# generated main.cf, append master.cf, install the maps root:postfix 0640.
pf_add_gen() {
	_params=$(sed -n 's/^\([a-z0-9_-]*\) =.*/\1/p' "$1/postfix/main.cf")
	# shellcheck disable=SC2086
	postconf -c "$PFETC" -X $_params &&
	cat "$1/postfix/main.cf" >>"$PFETC/main.cf" &&
	if [ -e "$1/postfix/master.cf" ]; then
		cat "$1/postfix/master.cf" >>"$PFETC/master.cf"
	fi &&
	for _f in "$1"/postfix/sql-*.cf; do
		[ -e "$_f" ] || continue
		install -o root -g postfix -m 0640 "$_f" "$PFETC/postfix/" || return 1
	done
}

# pf_chroot: what Debian's postfix service runs before "postfix start"
# (configure-instance.sh), on this instance: it copies the files the
# chrooted daemons need into the queue directory.
pf_chroot() {
	MAIL_CONFIG=$PFETC /usr/lib/postfix/configure-instance.sh - \
		>"$TEST_DIR/configure-instance.log" 2>&1 || {
		cat "$TEST_DIR/configure-instance.log" >&2
		return 1
	}
}

# pf_start SMTP_PORT: start the instance, wait until it listens.
pf_start() {
	postfix -c "$PFETC" start >"$TEST_DIR/postfix-start.log" 2>&1 || {
		cat "$TEST_DIR/postfix-start.log" "$PFQ/postfix.log" >&2
		return 1
	}
	test_at_exit "pf_stop"
	wait_until 60 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" || {
		echo "postfix does not listen on $1" >&2
		cat "$PFQ/postfix.log" >&2
		return 1
	}
}

pf_stop() {
	_pid=$(cat "$PFQ/pid/master.pid" 2>/dev/null | tr -d ' ')
	postfix -c "$PFETC" stop >/dev/null 2>&1
	[ -n "$_pid" ] && wait_until 60 sh -c "! kill -0 $_pid"
	return 0
}

# dv_config IMAP_PORT AUTHFILE: $DVDIR/dovecot.conf, a private instance that
# includes the generated auth file (conf.d/AUTHFILE) and 90-postino.conf.
dv_config() {
	mkdir -p "$DVDIR/run" "$DVDIR/state"
	cat >"$DVDIR/dovecot.conf" <<EOF
# the test instance
base_dir = $DVDIR/run
state_dir = $DVDIR/state
instance_name = postino-$TEST_NAME-$$
log_path = $DVDIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
service imap-login {
  inet_listener imap {
    port = $1
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
}
# postino config gen
!include conf.d/$2
!include conf.d/90-postino.conf
EOF
}

# dv_stock: $DVDIR becomes a copy of Debian 12's /etc/dovecot as the
# package installs it (dovecot.conf, conf.d/*, the *.conf.ext examples).
dv_stock() {
	mkdir -p "$DVDIR" &&
	cp -R /etc/dovecot/dovecot.conf /etc/dovecot/conf.d "$DVDIR/" &&
	cp /etc/dovecot/*.conf.ext "$DVDIR/"
}

# dv_add_gen GEN AUTHFILE: add the generated Dovecot files as postino(8)
# says: copy them into the configuration directory (the ones holding a
# password root:dovecot 0640), and in conf.d/10-auth.conf include AUTHFILE
# instead of auth-system.conf.ext.
dv_add_gen() {
	(cd "$1/dovecot" && find . -type f) | while read -r _f; do
		_m=$(stat -c %a "$1/dovecot/$_f")
		install -D -o root -g dovecot -m "$_m" "$1/dovecot/$_f" "$DVDIR/$_f" || exit 1
	done &&
	sed -i 's/^!include auth-system.conf.ext/#&/' "$DVDIR/conf.d/10-auth.conf" &&
	printf '!include %s\n' "$2" >>"$DVDIR/conf.d/10-auth.conf"
}

# dv_local IMAP_PORT: the stock dovecot.conf's local.conf, with only what
# keeps this instance to itself: its base_dir, state, log and instance
# name, IMAP on a free loopback port, no IMAPS; and 10-ssl.conf's
# certificate (which Dovecot reads even when overridden, and which only
# exists where ssl-cert made one) is a throw-away one.
dv_local() {
	mkdir -p "$DVDIR/run" "$DVDIR/state" "$DVDIR/private" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=mx.postino.test -keyout "$DVDIR/private/test.key" \
		-out "$DVDIR/private/test.pem" >/dev/null 2>&1 &&
	sed -i "s|^ssl_cert = <.*|ssl_cert = <$DVDIR/private/test.pem|; \
		s|^ssl_key = <.*|ssl_key = <$DVDIR/private/test.key|" \
		"$DVDIR/conf.d/10-ssl.conf" &&
	cat >"$DVDIR/local.conf" <<EOF
# the test instance
base_dir = $DVDIR/run
state_dir = $DVDIR/state
instance_name = postino-$TEST_NAME-$$
log_path = $DVDIR/dovecot.log
listen = 127.0.0.1
service imap-login {
  inet_listener imap {
    port = $1
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
}

# dv_start IMAP_PORT: start it, wait until IMAP listens.
dv_start() {
	dovecot -c "$DVDIR/dovecot.conf" >"$TEST_DIR/dovecot-start.log" 2>&1 || {
		cat "$TEST_DIR/dovecot-start.log" "$DVDIR/dovecot.log" >&2
		return 1
	}
	test_at_exit "dv_stop"
	wait_until 60 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" || {
		echo "dovecot does not listen on $1" >&2
		cat "$DVDIR/dovecot.log" >&2
		return 1
	}
}

dv_stop() {
	_pid=$(cat "$DVDIR/run/master.pid" 2>/dev/null)
	doveadm -c "$DVDIR/dovecot.conf" stop >/dev/null 2>&1
	[ -n "$_pid" ] && wait_until 60 sh -c "! kill -0 $_pid"
	return 0
}

# smtp_send PORT FROM SUBJECT RCPT...: one message over SMTP; prints what
# the server said to each RCPT and exits non-zero if any was refused.
smtp_send() {
	"$PY" - "$@" <<'EOF'
import smtplib, sys
port, sender, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rcpts = sys.argv[4:]
msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
       "Message-ID: <%s@postino.test>\r\n\r\nbody of %s\r\n"
       % (sender, ", ".join(rcpts), subject, subject, subject))
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.postino.test")
bad = 0
s.mail(sender)
for r in rcpts:
    code, text = s.rcpt(r)
    print("%s %d %s" % (r, code, text.decode()))
    bad += code >= 400
if bad < len(rcpts):
    s.data(msg.encode())
else:
    s.rset()
s.quit()
sys.exit(1 if bad else 0)
EOF
}

# maildir_has MAILDIR SUBJECT: a message with that subject arrived.
maildir_has() {
	grep -l -r -F -x "Subject: $2" "$1/new" "$1/cur" >/dev/null 2>&1
}

# wait_mail MAILDIR SUBJECT: wait up to 30 s for the message.
wait_mail() {
	wait_until 30 maildir_has "$1" "$2" || {
		echo "no '$2' in $1; the logs say:" >&2
		tail -20 "$PFQ/postfix.log" >&2
		tail -5 "$DVDIR/dovecot.log" >&2
		return 1
	}
}

# imap_login PORT USER PASSWORD: log in, print the INBOX message count.
imap_login() {
	"$PY" - "$@" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, data = m.select("INBOX", readonly=True)
print(data[0].decode())
m.logout()
EOF
}
