#!/bin/sh
# postino check --deep, dovecot_passdb_chain: under identity_backend noauth
# or hybrid, Dovecot's SQL passdb must let failures continue to a non-SQL
# passdb (the IdP's).  The configuration is read from dovecot_conf_dir,
# following !include and !include_try.  No SQL is involved: SQLite only.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$SRCDIR/tests/lib/check-lib.sh"
need_cmd jq

setup_check
DC=$TEST_DIR/dovecot

write_dovecot() {
	rm -rf "$DC" && mkdir -p "$DC/conf.d" &&
	cat >"$DC/dovecot.conf" <<'EOF'
protocols = imap lmtp
!include conf.d/*.conf
!include_try local.conf
EOF
	cat >"$DC/conf.d/10-auth.conf" <<'EOF'
auth_mechanisms = plain login xoauth2
#!include auth-system.conf.ext
!include auth-sql.conf.ext
!include auth-oauth2.conf.ext   # the IdP
EOF
	cat >"$DC/conf.d/auth-sql.conf.ext" <<'EOF'
# postino: SQL first, failures continue to the IdP
passdb {
  driver = sql
  args = /etc/dovecot/dovecot-sql.conf.ext
  result_success = return-ok
  result_failure = continue
  result_internalfail = continue
}
userdb {
  driver = sql
  args = /etc/dovecot/dovecot-sql.conf.ext
}
EOF
	cat >"$DC/conf.d/auth-oauth2.conf.ext" <<'EOF'
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = /etc/dovecot/dovecot-oauth2.conf.ext
}
EOF
}

test_setup 'identity_backend hybrid, a Dovecot configuration chaining sql -> oauth2' '
	write_dovecot &&
	toml_set identity_backend "\"hybrid\"" &&
	toml_set dovecot_conf_dir "\"$DC\"" &&
	expect_clean --deep &&
	finding_message dovecot_passdb_chain | grep -q "^passdb chain sql -> oauth2"
'

test_expect_success 'dovecot_passdb_chain: only SQL passdbs' '
	check_breaks dovecot_passdb_chain=error -- \
		"sed -i /oauth2/d \"\$DC/conf.d/10-auth.conf\"" write_dovecot --deep
'

test_expect_success 'dovecot_passdb_chain: the SQL passdb stops on failure' '
	check_breaks dovecot_passdb_chain=error -- \
		"sed -i \"s/result_failure = continue/result_failure = return-fail/\" \"\$DC/conf.d/auth-sql.conf.ext\"" \
		write_dovecot --deep &&
	check_breaks dovecot_passdb_chain=error -- \
		"sed -i \"s/result_internalfail = continue/result_internalfail = return-fail/\" \"\$DC/conf.d/auth-sql.conf.ext\"" \
		write_dovecot --deep
'

test_expect_success 'dovecot_passdb_chain: hybrid without an SQL passdb' '
	check_breaks dovecot_passdb_chain=error -- \
		"sed -i /auth-sql/d \"\$DC/conf.d/10-auth.conf\"" write_dovecot --deep
'

test_expect_success 'dovecot_passdb_chain: noauth needs no SQL passdb' '
	sed -i /auth-sql/d "$DC/conf.d/10-auth.conf" &&
	toml_set identity_backend "\"noauth\"" &&
	for u in alice bob; do
		sql "UPDATE mailbox SET password = '"'"'{NOAUTH}'"'"' WHERE username = '"'"'$u@example.org'"'"'" || exit 1
	done &&
	expect_clean --deep; rc=$?
	toml_set identity_backend "\"hybrid\""; write_dovecot
	for u in alice bob; do
		printf "pw-secret\n" | postino user passwd $u@example.org --claim \
			--password-stdin 2>/dev/null || exit 1
	done
	exit $rc
'

test_expect_success 'dovecot_passdb_chain: no configuration to read' '
	check_breaks dovecot_passdb_chain=warn -- \
		"toml_set dovecot_conf_dir \"\\\"\$TEST_DIR/nowhere\\\"\"" \
		"toml_set dovecot_conf_dir \"\\\"\$DC\\\"\"" --deep
'

test_expect_success 'without dovecot.conf, conf.d/auth-*.conf.ext are read' '
	rm "$DC/dovecot.conf" &&
	expect_clean --deep; rc=$?
	write_dovecot; exit $rc
'

test_expect_success 'Dovecot 2.4 named passdbs ("passdb sql {") and master passdbs' '
	cat >"$DC/conf.d/auth-sql.conf.ext" <<-EOF &&
	passdb sql {
	  query = SELECT username AS user, password FROM mailbox WHERE username = '"'"'%{user}'"'"'
	}
	passdb masters {
	  driver = passwd-file
	  master = yes
	  result_failure = return-fail
	}
	EOF
	cat >"$DC/conf.d/auth-oauth2.conf.ext" <<-EOF &&
	passdb oauth2 {
	  mechanisms = xoauth2
	}
	EOF
	expect_clean --deep &&
	finding_message dovecot_passdb_chain | grep -q "^passdb chain sql -> oauth2" &&
	write_dovecot
'

test_expect_success 'identity_backend local needs no chain (no finding)' '
	toml_set identity_backend "\"local\"" &&
	sed -i /oauth2/d "$DC/conf.d/10-auth.conf" &&
	expect_clean --deep &&
	! json "[.findings[].name] | index(\"dovecot_passdb_chain\") != null" check.json 2>/dev/null
'

test_done
