# mail-lib.sh: shell helpers for the mailing-list, config gen and mail-path
# tests (t7*), sourced after tests/lib/test-lib.sh.
#
# The mail path runs a throw-away Postfix ("postfix -c DIR start") and
# Dovecot ("dovecot -c FILE") as root, on free loopback ports, with the
# files "postino config gen" wrote installed where they say they belong:
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
