/*
 * Every probe of "postino check", in the order it runs, with the findings
 * it may report and what makes each a warning (W) or an error (E); every
 * finding is "info" when its probe passed.  The runner (run.c) skips a
 * probe whose flags are not met, and finding() stops the test suite
 * (POSTINO_TEST_CHECK_STRICT=1) on a name or a severity its probe does not
 * list here.  postino(8) CHECK
 * FINDINGS documents the same names under the same headings ("Always",
 * "With mlmmj_spool_dir set", "With --deep") with the same severities:
 * t0003 compares the two through tests/helpers/check-rules.
 *
 * A new probe: its function in the file of its family (probe.h declares
 * it), one row here, one item in postino(8).  A name ending in '*' is one
 * finding per object ("db_grants:mailbox"); a row without a function
 * lists findings that shared code (data.c) reports for any probe.
 */
#include <stddef.h>

#include "probe.h"

#include "banned.h"

#define W SEV_W
#define E SEV_E

const struct probe check_probes[] = {
	/* Always. */
	{ "db_reachable", 0, probe_db,
	    { { "db_reachable", E,
		"credentials unreadable, database unreachable" } } },
	{ "schema_tables", P_DB, probe_schema,
	    { { "schema_tables", E,
		  "no PostfixAdmin schema, or core tables missing" },
		{ "schema_version", E | W,
		    "E postino schema older than this postino; W newer" } } },
	{ "mailbox_base", 0, probe_mailbox_base,
	    { { "mailbox_base", E | W,
		"E mail root missing, relative, not a directory, "
		"world-writable; W owned by neither vmail, root nor "
		"postino's user" } } },
	{ "postcreation_hook", 0, probe_hook,
	    { { "postcreation_hook", E,
		  "relative, missing, not executable, not owned by root "
		  "(when run as root), group/other-writable" },
		{ "postcreation_hook_syntax", E,
		    "no #!, interpreter missing, \"sh -n\" fails" } } },
	{ "vmail_uid", 0, probe_vmail,
	    { { "vmail_uid", E | W,
		  "E 0, or unset while running as root; W no passwd entry" },
		{ "vmail_gid", E | W,
		    "E 0, or unset while running as root; W no group "
		    "entry" } } },
	{ "db_grants", P_DB, probe_grants,
	    { { "db_grants", E,
		  "grants unreadable, no privileges at all, SQLite file not "
		  "read-writable or world-writable" },
		{ "db_grants:*", E,
		    "the table lacks a privilege postino's SQL needs" },
		{ "db_grants:overprivileged", W,
		    "more than the database: MySQL global, other database, "
		    "wildcard or GRANT OPTION grants; PostgreSQL SUPERUSER, "
		    "CREATEROLE, CREATEDB, BYPASSRLS, REPLICATION, "
		    "pg_*_server_files...; SQLite world-readable or owned by "
		    "another user" } } },
	{ "postfix_sql_cf", 0, probe_sql_cf,
	    { { "postfix_sql_cf:*", E | W,
		"E required map missing (alias-domain maps only when alias "
		"domains exist), mode beyond 0640, not root's (as root), "
		"unparseable, no query, credentials differ; W legacy domain "
		"map name; every other sql-*.cf there is checked too" } } },
	{ "postfix_mailbox_base", 0, probe_postfix_base,
	    { { "postfix_mailbox_base", E,
		"main.cf's virtual_mailbox_base is not ours" } } },
	{ "postfix_chroot", 0, probe_postfix_chroot,
	    { { "postfix_chroot", E | W,
		"E a chrooted smtpd/cleanup/trivial-rewrite cannot reach a "
		"map (socket outside the chroot, not proxy:); a proxy: map "
		"proxymap cannot use; W main.cf/master.cf unreadable" } } },
	/* With mlmmj_spool_dir set: the Postfix wiring lists need. */
	{ "postfix-main-cf", P_MLMMJ, probe_mlmmj_wiring,
	    { { "postfix-main-cf", E, "no main.cf, or it cannot be parsed" },
		{ "postfix-transport-maps", E,
		    "transport_maps unset or without the routes map" },
		{ "postfix-transport-maps-order", E,
		    "the routes map is not first in transport_maps" },
		{ "postfix-transport-maps-type", E,
		    "the routes map does not read postino's database" },
		{ "recipient-delimiter", E,
		    "recipient_delimiter lacks the one lists need" },
		{ "master-cf", E, "no master.cf, or it cannot be opened" },
		{ "master-cf-mlmmj-*", E,
		    "master.cf lacks the pipe service of mlmmj-receive, "
		    "-bounce, -sub or -unsub" } } },
	{ "owner-aliases", P_MLMMJ | P_SCHEMA, probe_owner_aliases,
	    { { "owner-aliases", E, "no routes table" },
		{ "owner-alias-*", E, "the list has no owner alias" } } },
	/* Always, with the schema. */
	{ "password_schemes", P_SCHEMA, probe_passwords,
	    { { "password_noauth", E | W,
		  "E {NOAUTH} rows under identity_backend=local; W local "
		  "hashes under noauth" },
		{ "password_empty", E, "empty passwords" },
		{ "password_unprefixed", W,
		    "hashes without a {SCHEME} prefix (except the bare crypt "
		    "strings postfixadmin.encrypt asks for)" },
		{ "password_schemes", W,
		    "mailboxes per weak scheme (the census is info)" },
		{ "password_dovecot24", E,
		    "MD5-CRYPT/DES-CRYPT hashes while dovecot_conf_dir is "
		    "Dovecot 2.4's and does not allow weak schemes" } } },
	{ "password_expired", P_SCHEMA, probe_expiry,
	    { { "password_expired", 0,
		"info: passwords past mailbox.password_expiry" } } },
	{ "postino_domain_stale", P_SCHEMA, probe_domain_ext,
	    { { "postino_domain_stale", W,
		"rows of a domain re-created outside postino (info when the "
		"domain is just gone)" } } },
	{ "domain_quota_units", P_SCHEMA, probe_quota_units,
	    { { "domain_quota_units", W,
		"domain quotas that look like bytes" } } },
	{ "password_postfixadmin", P_SCHEMA, probe_pfa_passwords,
	    { { "password_postfixadmin", W,
		"hashes PostfixAdmin's login cannot verify under "
		"postfixadmin.encrypt (only when that is set)" } } },
	{ "db_read", 0, NULL,
	    { { "db_read", E,
		"a table could not be read (any probe that loads rows)" } } },
	/* With --deep. */
	{ "dovecot_passdb_chain", P_DEEP, probe_dovecot,
	    { { "dovecot_passdb_chain", E | W,
		"(noauth, hybrid) E only SQL passdbs, hybrid without SQL, a "
		"passdb ending the chain on failure, Dovecot 2.4 without the "
		"IdP mechanisms; W no configuration found" } } },
	{ "mailbox_domain_fk", P_DEEP | P_SCHEMA, probe_references,
	    { { "mailbox_domain_fk", E, "mailboxes of a missing domain" },
		{ "alias_domain_fk", E, "aliases of a missing domain" } } },
	{ "quota2_pairing", P_DEEP | P_SCHEMA, probe_quota2,
	    { { "quota2_pairing", 0,
		  "info: not written yet (Dovecot does on first use)" },
		{ "quota2_orphans", W, "quota2 rows without a mailbox" } } },
	{ "identity_rows", P_DEEP | P_SCHEMA, probe_identity,
	    { { "identity_rows", E | W,
		  "E postino_identity unreadable; W rows without a "
		  "mailbox" },
		{ "identity_claims", E,
		    "a mailbox claimed by two subjects of one issuer" } } },
	{ "mailbox_row_orphans", P_DEEP | P_SCHEMA, probe_mailbox_rows,
	    { { "mailbox_row_orphans", W,
		"fetchmail/vacation/quota rows, no mailbox" } } },
	{ "mailbox_self_alias", P_DEEP | P_SCHEMA, probe_self_alias,
	    { { "mailbox_self_alias", E | W,
		  "W a mailbox without its self-alias (E when the domain "
		  "has a catch-all)" },
		{ "self_alias_state", E | W,
		    "E active mailbox, inactive alias row; W the reverse" },
		{ "self_alias_orphans", W,
		    "self-aliases whose mailbox is gone" } } },
	{ "alias_destinations", P_DEEP | P_SCHEMA, probe_destinations,
	    { { "alias_destinations", E, "malformed destinations" } } },
	{ "alias_domain_chain", P_DEEP | P_SCHEMA, probe_alias_domains,
	    { { "alias_domain_chain", E, "alias domains of alias domains" },
		{ "alias_domain_refs", E,
		    "alias domains of a missing domain" } } },
	{ "domain_limits", P_DEEP | P_SCHEMA, probe_limits,
	    { { "domain_limits", W, "more mailboxes or aliases than allowed" },
		{ "mailbox_maxquota", W,
		    "a mailbox quota above its domain's maximum" },
		{ "domain_quota_total", W,
		    "mailbox quotas above the domain's total" } } },
	{ "maildir_present", P_DEEP | P_SCHEMA, probe_maildirs,
	    { { "maildir_present", 0,
		  "info: not made yet (Dovecot does on first use)" },
		{ "maildir_path", E, "a path outside the rule" },
		{ "maildir_duplicates", E, "mailboxes sharing a maildir" },
		{ "maildir_ownership", E, "not owned by the vmail user" },
		{ "maildir_permissions", W, "loose permissions" },
		{ "maildirpp_skeleton", E, "no cur, new or tmp" },
		{ "orphan_maildirs", W, "maildirs no mailbox owns" },
		{ "orphan_domain_maildirs", W,
		    "domain directories no domain owns" },
		{ "maildir_artefacts", W, "unfinished deletions" },
		{ "maildir_symlinks", E,
		    "symbolic links in the mail root" } } },
	{ "mailing_lists", P_DEEP | P_MLMMJ, probe_mlmmj_spool,
	    { { "mailing_lists", W, "spool missing" },
		{ "mlmmj_lists_corrupt", E, "a broken list directory" },
		{ "mlmmj_lists_orphan_domain", E,
		    "a list whose domain is not served" },
		{ "mlmmj_lists_artefacts", W, "leftovers in the spool" },
		{ "mlmmj_lists_symlinks", E, "symbolic links in the spool" },
		{ "mlmmj_lists_routes", E, "a list without its route" } } },
	{ "deep_skipped", P_DEEP, probe_deep_skipped,
	    { { "deep_skipped", 0, "info: deep probes that could not run" } } },
};

const size_t check_nprobes = sizeof(check_probes) / sizeof(check_probes[0]);
