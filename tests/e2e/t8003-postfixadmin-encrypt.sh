#!/bin/sh
# engines: all
# [postfixadmin] encrypt: with each of PostfixAdmin's encrypt modes postino
# writes, a password postino sets verifies through PostfixAdmin's own login
# check (its Login class, with the same $CONF['encrypt']) and through
# Dovecot ("doveadm auth test" on the passdb "postino config gen" writes);
# a password PostfixAdmin sets under that mode does too.  When the stored
# hashes are ones the configured mode cannot verify, "postino check" says
# how many and which scheme (password_postfixadmin), and PostfixAdmin
# indeed refuses them.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq php doveadm dovecot sqlite3
. "$SRCDIR/tests/lib/pfa-lib.sh"

pfa_setup md5crypt

# postino_encrypt MODE: [postfixadmin] encrypt = MODE in postino.toml
# ("" = the default, no table).
postino_encrypt() {
	sed -i '/^\[postfixadmin\]$/d; /^encrypt = /d' "$POSTINO_CONFIG" &&
	if [ -n "$1" ]; then
		printf '[postfixadmin]\nencrypt = "%s"\n' "$1" >>"$POSTINO_CONFIG"
	fi
}

# both MODE: PostfixAdmin and postino share the mode.
both() {
	pfa_encrypt "$1" && postino_encrypt "$1"
}

# pfa_severity: the severity of password_postfixadmin in check.json.
pfa_severity() {
	jq -r '.findings[] | select(.name == "password_postfixadmin") | .severity' check.json
}

G=$TEST_DIR/g
D=$G

test_setup 'PostfixAdmin makes the schema; a domain, two mailboxes; Dovecot on config gen' '
	pfa_schema &&
	postino domain add pw.example >/dev/null &&
	printf "Alice-pass-1234\n" | postino user add alice@pw.example --password-stdin >/dev/null &&
	printf "Bobby-pass-1234\n" | postino user add bob@pw.example --password-stdin >/dev/null &&
	postino config gen --out "$G" --dovecot-dir "$G/dovecot" --only dovecot >gen.out &&
	mkdir -p "$D/state" "$D/run" &&
	cat >"$D/auth.conf" <<EOC &&
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
instance_name = postino-pfa-$$
protocols =
ssl = no
disable_plaintext_auth = no
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
}
!include $D/dovecot/conf.d/auth-sql.conf.ext
!include $D/dovecot/conf.d/90-postino.conf
EOC
	dovecot -c "$D/auth.conf" &&
	test_at_exit "doveadm -c \"$D/auth.conf\" stop" &&
	wait_until 60 test -S "$D/run/auth-userdb"
'

# dove_auth USER PASSWORD: Dovecot authenticates USER with PASSWORD.
dove_auth() {
	doveadm -c "$D/auth.conf" auth test "$1" "$2" >auth.out 2>&1 &&
	grep -q "auth succeeded" auth.out || {
		cat auth.out >&2
		tail -5 "$D/dovecot.log" >&2
		false
	}
}

# mode_works MODE PREFIX: postino sets a password under MODE, stored as
# PREFIX...; PostfixAdmin and Dovecot verify it (and refuse a wrong one);
# a password PostfixAdmin sets under MODE verifies in Dovecot; check
# finds nothing PostfixAdmin cannot verify.
mode_works() {
	both "$1" &&
	printf "New-pass-12\n" >pw &&
	postino user passwd alice@pw.example --password-stdin <pw >/dev/null &&
	hash=$(sql "SELECT password FROM mailbox WHERE username = $(q alice@pw.example)") &&
	case $hash in
	"$2"*) ;;
	*) echo "mode $1 stored [$hash], want $2..." >&2; false ;;
	esac &&
	pfa_login alice@pw.example "$(cat pw)" &&
	! pfa_login alice@pw.example "New-pass-wrong" &&
	dove_auth alice@pw.example "$(cat pw)" &&
	expect_code 77 doveadm -c "$D/auth.conf" auth test alice@pw.example New-pass-wrong >/dev/null 2>&1 &&
	pfa mailbox update bob@pw.example --password Pfa-pass-34 --password2 Pfa-pass-34 &&
	dove_auth bob@pw.example Pfa-pass-34 &&
	run_check &&
	check_eq "$(pfa_severity)" info
}

test_expect_success 'md5crypt (Debian'"'"'s default): bare $1$' '
	mode_works md5crypt "\$1\$"
'

test_expect_success 'sha512.b64: {SHA512-CRYPT.B64}' '
	mode_works sha512.b64 "{SHA512-CRYPT.B64}JDYk"
'

test_expect_success 'php_crypt (SHA512): bare $6$' '
	mode_works php_crypt "\$6\$"
'

test_expect_success 'php_crypt:SHA256:6000: bare $5$ with rounds' '
	mode_works php_crypt:SHA256:6000 "\$5\$rounds=6000\$"
'

test_expect_success 'php_crypt:BLOWFISH:5:{BLF-CRYPT}: prefixed bcrypt of cost 5' '
	mode_works "php_crypt:BLOWFISH:5:{BLF-CRYPT}" "{BLF-CRYPT}\$2y\$05\$"
'

test_expect_success 'dovecot:SHA512-CRYPT: {SHA512-CRYPT}$6$' '
	mode_works dovecot:SHA512-CRYPT "{SHA512-CRYPT}\$6\$"
'

test_expect_success 'dovecot:ARGON2ID: {ARGON2ID}' '
	mode_works dovecot:ARGON2ID "{ARGON2ID}\$argon2id\$"
'

test_expect_success 'a mode postino does not write is refused, saying why' '
	postino_encrypt md5 &&
	expect_code 4 postino domain list >out 2>err &&
	check_grep "postfixadmin.encrypt.*unsalted MD5" err &&
	postino_encrypt "php_crypt:SHA512::{BLF-CRYPT}" &&
	expect_code 4 postino domain list >out 2>err &&
	check_grep "prefix must be {SHA512-CRYPT} or {CRYPT}" err &&
	postino_encrypt md5crypt &&
	POSTINO_DEFAULT_PASSWORD_SCHEME=ARGON2ID expect_code 4 postino domain list >out 2>err &&
	check_grep "disagrees with .postfixadmin.encrypt. = \"md5crypt\".*which stores MD5-CRYPT" err &&
	expect_code 4 sh -c "printf \"Alice-pass-1234\\n\" | postino user passwd alice@pw.example --scheme ARGON2ID --password-stdin" 2>err &&
	check_grep "not the MD5-CRYPT that postfixadmin.encrypt = .md5crypt. stores" err &&
	postino_encrypt ""
'

test_expect_success 'mismatch: postino'"'"'s default {BLF-CRYPT} under md5crypt' '
	both md5crypt &&
	printf "Alice-pass-1234\n" | postino user passwd alice@pw.example --password-stdin >/dev/null &&
	printf "Bobby-pass-1234\n" | postino user passwd bob@pw.example --password-stdin >/dev/null &&
	pfa_encrypt dovecot:BLF-CRYPT && postino_encrypt "" &&
	printf "Carol-pass-1234\n" | postino user add carol@pw.example --password-stdin >/dev/null &&
	pfa_login carol@pw.example Carol-pass-1234 &&
	both md5crypt &&
	! pfa_login carol@pw.example Carol-pass-1234 &&
	run_check &&
	check_eq "$(pfa_severity)" warn &&
	finding_message password_postfixadmin >msg &&
	check_grep "^1 mailbox password is in a form PostfixAdmin (encrypt = .md5crypt.) cannot verify (1 {BLF-CRYPT})" msg &&
	check_grep "carol@pw.example" msg &&
	! grep -q "alice@\|bob@" msg
'

test_expect_success 'mismatch: ARGON2ID under php_crypt; a new password mends it' '
	pfa_encrypt dovecot:ARGON2ID && postino_encrypt dovecot:ARGON2ID &&
	printf "Dave-pass-12345\n" | postino user add dave@pw.example --password-stdin >/dev/null &&
	both php_crypt:SHA512 &&
	! pfa_login dave@pw.example Dave-pass-12345 &&
	pfa_login carol@pw.example Carol-pass-1234 &&
	run_check &&
	check_eq "$(pfa_severity)" warn &&
	finding_message password_postfixadmin >msg &&
	check_grep "^1 mailbox password is .*(1 {ARGON2ID})" msg &&
	check_grep "dave@pw.example" msg &&
	printf "Dave-pass-67890\n" | postino user passwd dave@pw.example --password-stdin >/dev/null &&
	pfa_login dave@pw.example Dave-pass-67890 &&
	dove_auth dave@pw.example Dave-pass-67890 &&
	run_check &&
	check_eq "$(pfa_severity)" info
'

test_expect_success 'bare crypt strings the mode writes are not password_unprefixed' '
	both md5crypt &&
	run_check &&
	check_eq "$(jq -r ".findings[] | select(.name == \"password_unprefixed\") | .severity" check.json)" info &&
	postino_encrypt "" &&
	run_check &&
	check_eq "$(jq -r ".findings[] | select(.name == \"password_unprefixed\") | .severity" check.json)" warn &&
	finding_message password_unprefixed >msg &&
	check_grep "^3 passwords are stored without a {SCHEME} prefix" msg &&
	check_eq "$(pfa_severity)" ""
'

test_done
