#!/bin/sh
# engines: all
# A database shared with PostfixAdmin: postino writes the rows the way
# PostfixAdmin's own handlers do, and accepts what PostfixAdmin leaves
# behind.  The PostfixAdmin side is played here with SQL shaped after its
# MailboxHandler/AliasHandler; t8002 drives PostfixAdmin's PHP itself.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq
PFA_LANG=/usr/share/postfixadmin/languages/en.lang
[ -r "$PFA_LANG" ] || test_skip_or_fail "PostfixAdmin (Debian package postfixadmin) not installed"

setup_check
T=$(sql_true)
F=$(case $POSTINO_TEST_ENGINE in pgsql) echo false ;; *) echo 0 ;; esac)

q() {
	printf "'%s'" "$1"
}

alias_active() {
	sql "SELECT active FROM alias WHERE address = $(q "$1")"
}

test_expect_success 'user disable/enable switch the alias row whatever its goto' '
	sql "UPDATE alias SET goto = $(q alice@example.org,alice#example.org@autoreply.example.org) WHERE address = $(q alice@example.org)" &&
	postino user disable alice@example.org >/dev/null &&
	check_eq "$(alias_active alice@example.org)" 0 &&
	postino user enable alice@example.org >/dev/null &&
	check_eq "$(alias_active alice@example.org)" 1
'

test_expect_success 'user enable after PostfixAdmin disabled the mailbox' '
	sql "UPDATE alias SET goto = $(q bob@example.org,bob@remote.example) WHERE address = $(q bob@example.org)" &&
	sql "UPDATE mailbox SET active = $F WHERE username = $(q bob@example.org)" &&
	sql "UPDATE alias SET active = $F WHERE address = $(q bob@example.org)" &&
	postino user enable bob@example.org >/dev/null &&
	check_eq "$(alias_active bob@example.org)" 1
'

test_expect_success 'check --deep: an active mailbox with an inactive alias row' '
	check_breaks self_alias_state=error -- \
		"sql \"UPDATE alias SET active = $F WHERE address = $(q bob@example.org)\"" \
		"sql \"UPDATE alias SET active = $T WHERE address = $(q bob@example.org)\"" \
		--deep
'

test_expect_success 'check --deep: a disabled mailbox whose alias row still forwards' '
	check_breaks self_alias_state=warn -- \
		"sql \"UPDATE mailbox SET active = $F WHERE username = $(q bob@example.org)\"" \
		"sql \"UPDATE mailbox SET active = $T WHERE username = $(q bob@example.org)\"" \
		--deep
'

# expiry_days USER: whole days from the database's now to the mailbox's
# password_expiry.
expiry_days() {
	case $POSTINO_TEST_ENGINE in
	sqlite) sql "SELECT CAST(round(julianday(password_expiry) - julianday('now')) AS INTEGER) FROM mailbox WHERE username = $(q "$1")" ;;
	mysql) sql "SELECT ROUND(TIMESTAMPDIFF(SECOND, NOW(), password_expiry) / 86400) FROM mailbox WHERE username = $(q "$1")" ;;
	pgsql) sql "SELECT round(extract(epoch FROM password_expiry - now()) / 86400) FROM mailbox WHERE username = $(q "$1")" ;;
	esac
}

# The passdb query PostfixAdmin documents for Dovecot (DOCUMENTS/DOVECOT.txt).
pfa_passdb() {
	now="now()"
	[ "$POSTINO_TEST_ENGINE" = sqlite ] && now="datetime('now')"
	sql "SELECT m.username FROM mailbox m JOIN domain d ON d.domain = m.domain WHERE m.username = $(q "$1") AND m.active = $T AND (m.password_expiry > $now OR d.password_expiry = 0)"
}

test_expect_success 'user add and passwd set password_expiry to now + the domain days' '
	sql "UPDATE domain SET password_expiry = 30 WHERE domain = $(q example.org)" &&
	printf "secret-3\n" | postino user add carol@example.org --password-stdin >/dev/null &&
	check_eq "$(expiry_days carol@example.org)" 30 &&
	check_eq "$(pfa_passdb carol@example.org)" carol@example.org &&
	sql "UPDATE mailbox SET password_expiry = $(q "2000-01-01 00:00:00") WHERE username = $(q carol@example.org)" &&
	check_eq "$(pfa_passdb carol@example.org)" "" &&
	printf "secret-4\n" | postino user passwd carol@example.org --password-stdin >/dev/null &&
	check_eq "$(expiry_days carol@example.org)" 30 &&
	check_eq "$(pfa_passdb carol@example.org)" carol@example.org
'

test_expect_success 'a domain without expiry days gets PostfixAdmin default of a year' '
	postino domain add example.com >/dev/null &&
	printf "secret-5\n" | postino user add erin@example.com --password-stdin >/dev/null &&
	check_eq "$(expiry_days erin@example.com)" 365
'

test_expect_success 'check reports an expired password as information only' '
	sql "UPDATE mailbox SET password_expiry = $(q "2000-01-01 00:00:00") WHERE username = $(q carol@example.org)" &&
	expect_clean &&
	finding_message password_expired | grep "carol@example.org" &&
	printf "secret-6\n" | postino user passwd carol@example.org --password-stdin >/dev/null &&
	run_check &&
	check_eq "$(finding_message password_expired)" "no password has expired"
'

test_expect_success 'every audit row uses an action PostfixAdmin log viewer names' '
	postino user quota alice@example.org --set 1G >/dev/null &&
	postino user rename erin@example.com frank@example.com >/dev/null &&
	postino alias add sales@example.org alice@example.org >/dev/null &&
	postino alias edit sales@example.org bob@example.org >/dev/null &&
	postino alias disable sales@example.org >/dev/null &&
	postino alias del sales@example.org --yes >/dev/null &&
	postino domain alias disable example.net >/dev/null &&
	postino domain alias del example.net --yes >/dev/null &&
	postino domain disable example.com >/dev/null &&
	postino user del frank@example.com --yes >/dev/null &&
	postino domain del example.com --yes >/dev/null &&
	sed -n "s/^\$PALANG\[.pViewlog_action_\([a-z_]*\).\] = .*/\1/p" "$PFA_LANG" | sort -u >known &&
	test -s known &&
	sql "SELECT DISTINCT action FROM log" | sort >used &&
	comm -23 used known >unknown &&
	if test -s unknown; then echo "actions PostfixAdmin does not know:"; cat unknown; false; fi &&
	for a in create_mailbox edit_mailbox delete_mailbox edit_mailbox_state edit_password \
		create_alias edit_alias edit_alias_state delete_alias create_domain edit_domain \
		delete_domain edit_alias_domain_state delete_alias_domain; do
		grep -qx "$a" used || { echo "no $a row"; return 1; }
	done &&
	check_eq "$(sql "SELECT data FROM log WHERE action = $(q edit_mailbox) AND data LIKE $(q "%renamed%")")" \
		"erin@example.com renamed->frank@example.com"
'

# pfa_rows USER: the per-mailbox rows PostfixAdmin keeps besides mailbox,
# alias and quota2, one count per table.
pfa_rows() {
	sql "SELECT (SELECT COUNT(*) FROM fetchmail WHERE mailbox = $(q "$1")), (SELECT COUNT(*) FROM vacation WHERE email = $(q "$1")), (SELECT COUNT(*) FROM vacation_notification WHERE on_vacation = $(q "$1")), (SELECT COUNT(*) FROM quota WHERE username = $(q "$1"))"
}

add_pfa_rows() {
	# PostgreSQL has no vacation.cache; MariaDB has no default for it.
	_c=", cache" _cv=", $(q "")"
	[ "$POSTINO_TEST_ENGINE" = pgsql ] && _c= _cv=
	sql "INSERT INTO fetchmail (domain, mailbox, src_server, src_auth, protocol, src_user, src_password, src_folder, mda) VALUES ($(q "${1#*@}"), $(q "$1"), $(q pop.remote.example), $(q password), $(q POP3), $(q u), $(q p), $(q INBOX), $(q ""))" &&
	sql "INSERT INTO vacation (email, subject, body, domain$_c) VALUES ($(q "$1"), $(q away), $(q "back soon"), $(q "${1#*@}")$_cv)" &&
	sql "INSERT INTO vacation_notification (on_vacation, notified) VALUES ($(q "$1"), $(q someone@remote.example))" &&
	sql "INSERT INTO quota (username, path, current) VALUES ($(q "$1"), $(q quota/storage), 10)"
}

test_expect_success 'user rename moves fetchmail, vacation and quota rows' '
	printf "secret-7\n" | postino user add gina@example.org --password-stdin >/dev/null &&
	add_pfa_rows gina@example.org &&
	postino user rename gina@example.org hana@example.org >/dev/null &&
	check_eq "$(pfa_rows gina@example.org)" "$(printf "0\t0\t0\t0")" &&
	check_eq "$(pfa_rows hana@example.org)" "$(printf "1\t1\t0\t1")" &&
	check_eq "$(sql "SELECT domain FROM fetchmail WHERE mailbox = $(q hana@example.org)")" example.org &&
	expect_clean --deep
'

test_expect_success 'user del removes every per-mailbox row PostfixAdmin keeps' '
	add_pfa_rows ines@example.org &&
	printf "secret-8\n" | postino user add ines@example.org --password-stdin >/dev/null &&
	postino user del ines@example.org --yes >/dev/null &&
	postino user del hana@example.org --yes >/dev/null &&
	check_eq "$(pfa_rows ines@example.org)" "$(printf "0\t0\t0\t0")" &&
	check_eq "$(pfa_rows hana@example.org)" "$(printf "0\t0\t0\t0")" &&
	expect_clean --deep
'

test_expect_success 'check --deep: PostfixAdmin rows of a mailbox that is gone' '
	check_breaks mailbox_row_orphans=warn -- \
		"add_pfa_rows ghost@example.org" \
		"sql \"DELETE FROM vacation_notification; DELETE FROM vacation; DELETE FROM fetchmail; DELETE FROM quota\"" \
		--deep
'

test_expect_success 'check --deep is clean on a mailbox as PostfixAdmin makes it' '
	# No quota2 row and no maildir: Dovecot makes both on first use.
	sql "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES ($(q pfa@example.org), $(q "{BLF-CRYPT}\$2y\$10\$abcdefghijklmnopqrstuu5Q2wJ1aN3l7p3bA0z0Y0u3m0Jq6XG"), $(q PFA), $(q example.org/pfa/), 0, $(q pfa), $(q example.org), $T)" &&
	sql "INSERT INTO alias (address, goto, domain, active) VALUES ($(q pfa@example.org), $(q pfa@example.org), $(q example.org), $T)" &&
	expect_clean --deep &&
	finding_message quota2_pairing | grep -q "pfa@example.org" &&
	finding_message maildir_present | grep -q "pfa@example.org"
'

# skew_seconds TABLE COLUMN WHERE: seconds between a stored time and the
# database's own now().
skew_seconds() {
	case $POSTINO_TEST_ENGINE in
	sqlite) sql "SELECT CAST(abs(julianday($2) - julianday('now')) * 86400 AS INTEGER) FROM $1 WHERE $3" ;;
	mysql) sql "SELECT ABS(TIMESTAMPDIFF(SECOND, $2, NOW())) FROM $1 WHERE $3" ;;
	pgsql) sql "SELECT CAST(abs(extract(epoch FROM now() - $2)) AS INTEGER) FROM $1 WHERE $3" ;;
	esac
}

test_expect_success 'timestamps come from the database clock, whatever the client time zone' '
	TZ=PFA-7 postino user name alice@example.org "Alice A" >/dev/null &&
	TZ=PFA-7 postino alias add clock@example.org alice@example.org >/dev/null &&
	for w in "mailbox modified username = $(q alice@example.org)" \
		"alias created address = $(q clock@example.org)" \
		"log timestamp id = (SELECT MAX(id) FROM log)"; do
		set -- $w
		t=$1 c=$2; shift 2
		s=$(skew_seconds "$t" "$c" "$*") &&
		test "$s" -lt 600 || { echo "$t.$c is ${s}s off the database clock"; return 1; }
	done
'

# PostfixAdmin's DomainHandler: delete the domain with its rows, then add it
# again (created = now).
pfa_recreate_domain() {
	sql "DELETE FROM alias WHERE domain = $(q "$1")" &&
	sql "DELETE FROM domain WHERE domain = $(q "$1")" &&
	now="now()"
	[ "$POSTINO_TEST_ENGINE" = sqlite ] && now="datetime('now', '+1 second')"
	sql "INSERT INTO domain (domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, created, modified, active) VALUES ($(q "$1"), $(q again), 0, 0, 0, 0, $(q virtual), $F, $now, $now, $T)"
}

test_expect_success 'a domain PostfixAdmin deleted and created again forgets the old default quota' '
	postino domain add stale.example --default-quota 10M --max-quota 20M >/dev/null &&
	postino domain show stale.example --json >out &&
	json ".default_quota_bytes == 10485760" out &&
	sleep 1 &&
	pfa_recreate_domain stale.example &&
	postino domain show stale.example --json >out &&
	json ".default_quota_bytes == 0" out &&
	printf "secret-9\n" | postino user add q@stale.example --password-stdin >/dev/null &&
	check_eq "$(sql "SELECT quota FROM mailbox WHERE username = $(q q@stale.example)")" 0
'

test_expect_success 'check reports the stale postino_domain row' '
	check_breaks postino_domain_stale=warn -- \
		"true" \
		"sql \"DELETE FROM postino_domain WHERE domain = $(q stale.example)\""
'

test_expect_success 'alias add on a mailbox without its self-alias row keeps its copy' '
	printf "secret-10\n" | postino user add jo@example.org --password-stdin >/dev/null &&
	sql "DELETE FROM alias WHERE address = $(q jo@example.org)" &&
	postino alias add jo@example.org jo@remote.example >/dev/null 2>err &&
	check_eq "$(sql "SELECT goto, active FROM alias WHERE address = $(q jo@example.org)")" \
		"$(printf "jo@example.org,jo@remote.example\t1")" &&
	expect_clean --deep
'

test_expect_success 'Python postino data: check flags byte quotas, migrate --dry-run shows, migrate repairs' '
	postino domain add py.example --max-quota 200M >/dev/null &&
	printf "secret-11\n" | postino user add kim@py.example --quota 100M --password-stdin >/dev/null &&
	printf "secret-12\n" | postino user add lee@py.example --quota 100M --password-stdin >/dev/null &&
	# What Python postino wrote: bytes in the megabyte columns, no self-aliases.
	sql "UPDATE domain SET maxquota = 53687091200, quota = 0 WHERE domain = $(q py.example)" &&
	sql "DELETE FROM alias WHERE address IN ($(q kim@py.example), $(q lee@py.example))" &&
	expect_finding domain_quota_units=warn mailbox_self_alias=warn -- --deep &&
	finding_message domain_quota_units | grep -q py.example &&
	postino schema migrate --dry-run >plan &&
	check_grep "would repair quota py.example: maxquota 53687091200 -> 52429 MB" plan &&
	check_grep "would repair self-alias kim@py.example" plan &&
	check_grep "would repair self-alias lee@py.example" plan &&
	check_eq "$(sql "SELECT maxquota FROM domain WHERE domain = $(q py.example)")" 53687091200 &&
	postino schema migrate >done &&
	check_grep "repaired quota py.example" done &&
	check_eq "$(sql "SELECT maxquota FROM domain WHERE domain = $(q py.example)")" 52429 &&
	check_eq "$(sql "SELECT goto FROM alias WHERE address = $(q kim@py.example)")" kim@py.example &&
	expect_clean --deep &&
	postino schema migrate >again &&
	! grep -q repaired again
'

test_expect_success 'MB is PostfixAdmin megabyte: its maximum of 500 takes a 500MB mailbox' '
	postino domain add mb.example --max-quota 500MB >/dev/null &&
	check_eq "$(sql "SELECT maxquota FROM domain WHERE domain = $(q mb.example)")" 500 &&
	! printf "secret-13\n" | postino user add big@mb.example --quota 500M --password-stdin >/dev/null 2>&1 &&
	printf "secret-13\n" | postino user add big@mb.example --quota 500MB --password-stdin >/dev/null &&
	check_eq "$(sql "SELECT quota FROM mailbox WHERE username = $(q big@mb.example)")" 512000000
'

test_done
