/*
 * The probes of "postino check", in the order they run (the table at the
 * end of this file).  See check.h for the contract.  Every finding name,
 * with what makes it a warning (W) or an error (E); each is "info" when
 * its probe passed:
 *
 * Always:
 *   db_reachable            E credentials unreadable, database unreachable
 *   schema_tables           E no PostfixAdmin schema, or core tables missing
 *   schema_version          E postino schema older than this postino; W newer
 *   mailbox_base            E mail root missing, relative, not a directory,
 *                             world-writable; W owned by neither vmail, root
 *                             nor postino's user
 *   postcreation_hook       E relative, missing, not executable, not owned
 *                             by root (when run as root), group/other-writable
 *   postcreation_hook_syntax E no #!, interpreter missing, "sh -n" fails
 *   vmail_uid, vmail_gid    E 0, or unset while running as root; W no
 *                             passwd/group entry
 *   db_grants               E grants unreadable, no privileges at all, SQLite
 *                             file not read-writable or world-writable
 *   db_grants:TABLE         E TABLE lacks a privilege postino's SQL needs
 *   db_grants:overprivileged W more than the database: MySQL global, other
 *                             database, wildcard or GRANT OPTION grants;
 *                             PostgreSQL SUPERUSER, CREATEROLE, CREATEDB,
 *                             BYPASSRLS, REPLICATION, pg_*_server_files...;
 *                             SQLite world-readable or owned by another user
 *   postfix_sql_cf:FILE     E required map missing (alias-domain maps only
 *                             when alias domains exist), mode beyond 0640,
 *                             not root's (as root), unparseable, no query,
 *                             credentials differ; W legacy domain map name;
 *                             every other sql-*.cf there is checked too
 *   postfix_mailbox_base    E main.cf's virtual_mailbox_base is not ours
 *   postfix_chroot          E a chrooted smtpd/cleanup/trivial-rewrite
 *                             cannot reach a map (socket outside the
 *                             chroot, not proxy:); a proxy: map proxymap
 *                             cannot use; W main.cf/master.cf unreadable
 *   password_noauth         E {NOAUTH} rows under identity_backend=local;
 *                             W local hashes under noauth
 *   password_empty          E empty passwords
 *   password_unprefixed     W hashes without a {SCHEME} prefix (except the
 *                             bare crypt strings postfixadmin.encrypt asks for)
 *   password_schemes        W mailboxes per weak scheme (the census is info)
 *   password_dovecot24      E MD5-CRYPT/DES-CRYPT hashes while
 *                             dovecot_conf_dir is Dovecot 2.4's and does
 *                             not allow weak schemes
 *   password_expired        info: passwords past mailbox.password_expiry
 *   domain_quota_units      W domain quotas that look like bytes
 *   password_postfixadmin   W hashes PostfixAdmin's login cannot verify under
 *                             postfixadmin.encrypt (only when that is set)
 *   postino_domain_stale    W rows of a domain re-created outside postino
 *                             (info when the domain is just gone)
 *   db_read                 E a table could not be read
 * With mlmmj_spool_dir set:
 *   postfix-main-cf, postfix-transport-maps, postfix-transport-maps-order,
 *   postfix-transport-maps-type, recipient-delimiter, master-cf,
 *   master-cf-mlmmj-{receive,bounce,sub,unsub}, owner-aliases,
 *   owner-alias-LIST        E the Postfix wiring lists need
 * With --deep:
 *   dovecot_passdb_chain    (noauth, hybrid) E only SQL passdbs, hybrid
 *                             without SQL, a passdb ending the chain on
 *                             failure; W no configuration found
 *   quota2_pairing, maildir_present  info: not written/made yet (Dovecot
 *                             does on first use, as under PostfixAdmin)
 *   mailbox_domain_fk, alias_domain_fk, alias_destinations,
 *   alias_domain_chain, alias_domain_refs, maildir_path,
 *   maildir_duplicates, maildir_ownership, maildirpp_skeleton,
 *   maildir_symlinks        E
 *   mailbox_self_alias      W (E when the domain has a catch-all)
 *   self_alias_state        E active mailbox, inactive alias row;
 *                             W the reverse
 *   mailbox_row_orphans     W fetchmail/vacation/quota rows, no mailbox
 *   quota2_orphans, self_alias_orphans, domain_limits, mailbox_maxquota,
 *   domain_quota_total, maildir_permissions, orphan_maildirs,
 *   orphan_domain_maildirs, maildir_artefacts  W
 *   mailing_lists           W spool missing (with mlmmj_spool_dir)
 *   mlmmj_lists_corrupt, mlmmj_lists_orphan_domain, mlmmj_lists_symlinks,
 *   mlmmj_lists_routes      E;  mlmmj_lists_artefacts  W
 *   deep_skipped            info: deep probes that could not run
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cf.h"
#include "check.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mapgen.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "pfchroot.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "probe.h"

#include "banned.h"

void
check_report_init(struct check_report *r)
{
	r->v = NULL;
	r->n = 0;
	r->cap = 0;
}

void
check_report_release(struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].message);
	}
	free(r->v);
	check_report_init(r);
}

bool
check_report_ok(const struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].severity == CHECK_ERROR)
			return false;
	return true;
}

const char *
check_severity_name(enum check_severity s)
{
	switch (s) {
	case CHECK_INFO:
		return "info";
	case CHECK_WARN:
		return "warn";
	case CHECK_ERROR:
		return "error";
	}
	return "error";
}

void
finding(struct ctx *c, const char *name, enum check_severity sev,
    const char *fmt, ...)
{
	struct check_report *r = c->rep;
	struct buf b;
	va_list ap;

	buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 64 : r->cap * 2;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n].name = xstrdup(name);
	r->v[r->n].severity = sev;
	r->v[r->n].message = buf_detach(&b);
	r->n++;
	buf_release(&b);
}

void
progress(struct ctx *c, const char *phase, uint64_t done, uint64_t total)
{
	if (c->opts->progress != NULL)
		c->opts->progress(c->opts->progress_arg, phase, done, total);
}

static void
probe_deep_skipped(struct ctx *c)
{
	if (c->skipped > 0)
		finding(c, "deep_skipped", CHECK_INFO,
		    "%zu deep %s did not "
		    "run because of the errors above",
		    c->skipped, plural((int64_t)c->skipped, "probe", "probes"));
}

static const struct probe probes[] = {
	{ "db_reachable", 0, probe_db },
	{ "schema_tables", P_DB, probe_schema },
	{ "mailbox_base", 0, probe_mailbox_base },
	{ "postcreation_hook", 0, probe_hook },
	{ "vmail_uid", 0, probe_vmail },
	{ "db_grants", P_DB, probe_grants },
	{ "postfix_sql_cf", 0, probe_sql_cf },
	{ "postfix_mailbox_base", 0, probe_postfix_base },
	{ "postfix_chroot", 0, probe_postfix_chroot },
	{ "postfix-main-cf", P_MLMMJ, probe_mlmmj_wiring },
	{ "owner-aliases", P_MLMMJ | P_SCHEMA, probe_owner_aliases },
	{ "password_schemes", P_SCHEMA, probe_passwords },
	{ "password_expired", P_SCHEMA, probe_expiry },
	{ "postino_domain_stale", P_SCHEMA, probe_domain_ext },
	{ "domain_quota_units", P_SCHEMA, probe_quota_units },
	{ "password_postfixadmin", P_SCHEMA, probe_pfa_passwords },
	{ "dovecot_passdb_chain", P_DEEP, probe_dovecot },
	{ "mailbox_domain_fk", P_DEEP | P_SCHEMA, probe_references },
	{ "quota2_pairing", P_DEEP | P_SCHEMA, probe_quota2 },
	{ "identity_rows", P_DEEP | P_SCHEMA, probe_identity },
	{ "mailbox_row_orphans", P_DEEP | P_SCHEMA, probe_mailbox_rows },
	{ "mailbox_self_alias", P_DEEP | P_SCHEMA, probe_self_alias },
	{ "alias_destinations", P_DEEP | P_SCHEMA, probe_destinations },
	{ "alias_domain_chain", P_DEEP | P_SCHEMA, probe_alias_domains },
	{ "domain_limits", P_DEEP | P_SCHEMA, probe_limits },
	{ "maildir_present", P_DEEP | P_SCHEMA, probe_maildirs },
	{ "mailing_lists", P_DEEP | P_MLMMJ, probe_mlmmj_spool },
	{ "deep_skipped", P_DEEP, probe_deep_skipped },
};

int
check_run(const struct postino_conf *conf, const struct check_opts *opts,
    struct check_report *rep)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.opts = opts;
	c.rep = rep;
	data_init(&c.d);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *p = &probes[i];

		if (p->run == NULL)
			continue;
		if ((p->flags & P_DEEP) && !opts->deep)
			continue;
		if ((p->flags & P_MLMMJ) && conf->mlmmj_spool_dir[0] == '\0')
			continue;
		if (((p->flags & P_DB) && c.db == NULL) ||
		    ((p->flags & P_SCHEMA) && !c.schema_ok)) {
			if (p->flags & P_DEEP)
				c.skipped++;
			continue;
		}
		p->run(&c);
	}
	data_release(&c.d);
	db_close(&c.db);
	if (c.have_params)
		db_params_release(&c.params);
	return 0;
}
