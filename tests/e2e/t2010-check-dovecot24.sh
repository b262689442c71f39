#!/bin/sh
# postino check's password_dovecot24: Dovecot 2.4 refuses MD5-CRYPT (and
# DES-CRYPT) hashes at login unless auth_allow_weak_schemes = yes, so when
# dovecot_conf_dir holds a 2.4 configuration (dovecot_config_version),
# check counts them as errors; with a 2.3 configuration it says nothing.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
DV=$TEST_DIR/dovecot
MD5='{MD5-CRYPT}$1$saltsalt$0123456789abcdefghijkl'

# set_bob VALUE: store VALUE as bob's password.
set_bob() {
	printf "UPDATE mailbox SET password = '%s' WHERE username = 'bob@example.org';\n" \
		"$1" >"$TEST_DIR/set.sql" &&
	sql_file "$TEST_DIR/set.sql"
}

test_setup 'a Dovecot 2.4 configuration in dovecot_conf_dir' '
	BOB_HASH=$(sql "SELECT password FROM mailbox WHERE username = '"'"'bob@example.org'"'"'") &&
	mkdir -p "$DV/conf.d" &&
	printf "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n!include conf.d/*.conf\n" >"$DV/dovecot.conf" &&
	printf "auth_mechanisms = plain\n" >"$DV/conf.d/10-auth.conf" &&
	toml_set dovecot_conf_dir "\"$DV\""
'

test_expect_success 'strong hashes: info, naming the configuration' '
	expect_clean &&
	finding_message password_dovecot24 >m &&
	check_grep "^Dovecot 2.4 ($DV/dovecot.conf) accepts every stored scheme$" m
'

test_expect_success 'an MD5-CRYPT hash is an error under 2.4' '
	set_bob "$MD5" &&
	expect_finding password_dovecot24=error password_schemes=warn &&
	finding_message password_dovecot24 >m &&
	check_grep "^1 password hash uses MD5-CRYPT or DES-CRYPT, which Dovecot 2.4 ($DV/dovecot.conf) refuses" m &&
	check_grep "bob@example.org" m
'

test_expect_success 'a DES-CRYPT hash too' '
	set_bob "{CRYPT}abJnggxhB/yWI" &&
	expect_finding password_dovecot24=error password_schemes=warn
'

test_expect_success 'auth_allow_weak_schemes = yes lets them in' '
	set_bob "$MD5" &&
	printf "auth_allow_weak_schemes = yes\n" >>"$DV/conf.d/10-auth.conf" &&
	expect_finding password_schemes=warn &&
	finding_message password_dovecot24 | grep -q "auth_allow_weak_schemes = yes" &&
	printf "auth_mechanisms = plain\n" >"$DV/conf.d/10-auth.conf"
'

test_expect_success 'a Dovecot 2.3 configuration: no such finding' '
	printf "!include conf.d/*.conf\n" >"$DV/dovecot.conf" &&
	expect_finding password_schemes=warn &&
	json "[.findings[].name] | index(\"password_dovecot24\") == null" check.json &&
	set_bob "$BOB_HASH" && expect_clean
'

test_done
