/*
 * Database probes: reachable, schema, grants.
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
probe_db(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct cf cf;
	char *path;
	enum db_engine engine = DB_ENGINE_NONE;
	int64_t one = 0;
	int rc;

	if (c->conf->postfix_sql_engine[0] != '\0')
		engine = db_engine_parse(c->conf->postfix_sql_engine);
	path = conf_sql_path(c->conf, "sql-virtual_mailbox_maps.cf");
	rc = cf_parse_file(&cf, path, &err);
	free(path);
	if (rc == -1) {
		finding(c, "db_reachable", CHECK_ERROR,
		    "cannot read the database credentials: %s; postino, Postfix and this check all take them from that file",
		    err.msg);
		return;
	}
	rc = db_params_from_cf(&c->params, &cf, engine, &err);
	cf_release(&cf);
	if (rc == -1) {
		finding(c, "db_reachable", CHECK_ERROR, "%s", err.msg);
		return;
	}
	c->have_params = true;
	{
		struct db_params p;

		db_params_copy(&p, &c->params);
		if (p.connect_timeout == 0)
			p.connect_timeout = CONNECT_TIMEOUT;
		c->db = db_open(&p, &err);
		db_params_release(&p);
	}
	if (c->db == NULL ||
	    db_query_int(c->db, "SELECT 1", NULL, 0, &one, &err) == -1) {
		db_close(&c->db);
		finding(c, "db_reachable", CHECK_ERROR, "%s%s%s", err.msg,
		    err.hint[0] ? "; " : "", err.hint);
		return;
	}
	model_init(&c->model, c->db, c->conf, "postino check");
	finding(
	    c, "db_reachable", CHECK_INFO, "connected to %s", db_where(c->db));
}

void
probe_schema(struct ctx *c)
{
	struct schema_status st;
	struct err err = ERR_INIT;

	if (schema_status(c->db, &st, &err) == -1) {
		finding(c, "schema_tables", CHECK_ERROR,
		    "cannot inspect the schema: %s", err.msg);
		return;
	}
	if (st.empty) {
		finding(c, "schema_tables", CHECK_ERROR,
		    "no PostfixAdmin schema in %s; create it with 'postino schema init'",
		    db_where(c->db));
		return;
	}
	if (st.missing_pfa > 0)
		finding(c, "schema_tables", CHECK_ERROR,
		    "the PostfixAdmin schema lacks %s: %s; run PostfixAdmin's upgrade.php, then 'postino schema migrate'",
		    plural(st.missing_pfa, "a table", "tables"), st.missing);
	else {
		c->schema_ok = true;
		finding(c, "schema_tables", CHECK_INFO,
		    "every PostfixAdmin table postino uses is present");
	}
	if (st.postino_version < SCHEMA_POSTINO_VERSION)
		finding(c, "schema_version", CHECK_ERROR,
		    "the database is at postino schema version %d, this postino needs %d; run 'postino schema migrate' (it only adds tables and indexes)",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
	else if (st.postino_version > SCHEMA_POSTINO_VERSION)
		finding(c, "schema_version", CHECK_WARN,
		    "the database is at postino schema version %d, newer than this postino (%d); upgrade postino on this host",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
	else
		finding(c, "schema_version", CHECK_INFO,
		    "PostfixAdmin config version %s, postino schema version %d",
		    st.pfa_version[0] ? st.pfa_version : "(none)",
		    st.postino_version);
}

enum {
	PRIV_SELECT = 1 << 0,
	PRIV_INSERT = 1 << 1,
	PRIV_UPDATE = 1 << 2,
	PRIV_DELETE = 1 << 3,
	PRIV_DATA = 0xf,
};

/* What postino's statements need, per table (only existing ones count). */
static const struct {
	const char *table;
	unsigned privs;
} needs[] = {
	{ "domain", PRIV_DATA },
	{ "mailbox", PRIV_DATA },
	{ "alias", PRIV_DATA },
	{ "alias_domain", PRIV_DATA },
	{ "quota2", PRIV_DATA },
	{ "log", PRIV_SELECT | PRIV_INSERT },
	{ "domain_admins", PRIV_SELECT | PRIV_DELETE },
	{ "vacation", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "vacation_notification", PRIV_SELECT | PRIV_DELETE },
	{ "fetchmail", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "quota", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "config", PRIV_SELECT },
	{ "routes", PRIV_DATA },
	{ "postino_domain", PRIV_DATA },
	{ "postino_change", PRIV_SELECT | PRIV_INSERT | PRIV_UPDATE },
	{ "postino_schema_version", PRIV_SELECT },
};
#define NNEEDS (sizeof(needs) / sizeof(needs[0]))

static void
priv_names(unsigned p, char *out, size_t size)
{
	static const char *const names[] = { "SELECT", "INSERT", "UPDATE",
		"DELETE" };
	size_t l = 0;

	out[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (p & (1u << i))
			l += (size_t)snprintf(out + l, l < size ? size - l : 0,
			    "%s%s", l ? ", " : "", names[i]);
}

/* Report what is missing per table; returns whether anything was. */
static bool
grants_missing(
    struct ctx *c, const unsigned *have, const bool *exists, const char *scope)
{
	bool any = false;

	for (size_t i = 0; i < NNEEDS; i++) {
		unsigned miss = needs[i].privs & ~have[i];
		char name[64], p[64], all[64];

		if (!exists[i] || miss == 0)
			continue;
		any = true;
		priv_names(miss, p, sizeof(p));
		priv_names(needs[i].privs, all, sizeof(all));
		snprintf(name, sizeof(name), "db_grants:%s", needs[i].table);
		finding(c, name, CHECK_ERROR,
		    "the database user lacks %s on table '%s'%s; grant %s on it",
		    p, needs[i].table, scope, all);
	}
	return any;
}

/* MySQL GRANT database patterns: '%' and '_' wildcards, '\' escapes. */
static bool
like_match(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '%') {
			for (const char *t = s;; t++) {
				if (like_match(pat + 1, t))
					return true;
				if (*t == '\0')
					return false;
			}
		}
		if (*pat == '\\' && pat[1] != '\0')
			pat++;
		else if (*pat == '_') {
			if (*s == '\0')
				return false;
			continue;
		}
		if (*s != *pat)
			return false;
	}
	return *s == '\0';
}

static bool
like_has_percent(const char *pat)
{
	for (; *pat != '\0'; pat++) {
		if (*pat == '\\' && pat[1] != '\0')
			pat++;
		else if (*pat == '%')
			return true;
	}
	return false;
}

/* `name` or name up to stop; returns what follows, NULL on bad syntax. */
static const char *
mysql_ident(const char *s, char stop, char *out, size_t size)
{
	size_t n = 0;

	if (*s == '`') {
		for (s++; *s != '\0'; s++) {
			if (*s == '`') {
				if (s[1] != '`')
					break;
				s++;
			}
			if (n + 1 < size)
				out[n++] = *s;
		}
		if (*s != '`')
			return NULL;
		s++;
	} else {
		while (*s != '\0' && *s != stop && *s != ' ') {
			if (n + 1 < size)
				out[n++] = *s;
			s++;
		}
	}
	out[n] = '\0';
	return s;
}

struct mysql_grants {
	unsigned all; /* on every table of our database */
	unsigned have[NNEEDS];
	bool any_scope;
	struct sample over;
};

/* One line of SHOW GRANTS. */
static void
mysql_grant_line(struct ctx *c, struct mysql_grants *g, const char *line)
{
	const char *dbname = c->params.dbname != NULL ? c->params.dbname : "";
	char privs[1024], db[256], table[256], item[128];
	const char *on, *to, *p;
	unsigned data = 0;
	bool other = false, global, ours;
	struct buf extra;

	if (!str_prefix(line, "GRANT ") ||
	    (on = strstr(line, " ON ")) == NULL ||
	    (to = strstr(on, " TO ")) == NULL)
		return; /* a role grant: not inspected */
	snprintf(privs, sizeof(privs), "%.*s", (int)(on - line - 6), line + 6);
	p = on + 4;
	if (str_prefix(p, "FUNCTION ") || str_prefix(p, "PROCEDURE ") ||
	    str_prefix(p, "PACKAGE ") || strcmp(privs, "PROXY") == 0)
		return;
	if ((p = mysql_ident(p, '.', db, sizeof(db))) == NULL || *p != '.' ||
	    mysql_ident(p + 1, ' ', table, sizeof(table)) == NULL)
		return;
	buf_init(&extra, 4096);
	for (p = privs; *p != '\0';) {
		size_t n = 0;
		int depth = 0;

		while (p[n] != '\0' && (p[n] != ',' || depth > 0)) {
			if (p[n] == '(')
				depth++;
			else if (p[n] == ')')
				depth--;
			n++;
		}
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
		{
			char *it = str_trim(item);

			if (strchr(it, '(') != NULL)
				continue; /* column privileges */
			if (strcmp(it, "ALL PRIVILEGES") == 0 ||
			    strcmp(it, "ALL") == 0) {
				data |= PRIV_DATA;
				other = true;
				buf_printf(
				    &extra, "%sALL", extra.len ? "+" : "");
			} else if (strcmp(it, "SELECT") == 0)
				data |= PRIV_SELECT;
			else if (strcmp(it, "INSERT") == 0)
				data |= PRIV_INSERT;
			else if (strcmp(it, "UPDATE") == 0)
				data |= PRIV_UPDATE;
			else if (strcmp(it, "DELETE") == 0)
				data |= PRIV_DELETE;
			else if (strcmp(it, "USAGE") != 0) {
				other = true;
				buf_printf(
				    &extra, "%s%s", extra.len ? "+" : "", it);
			}
		}
	}
	global = strcmp(db, "*") == 0;
	ours = !global && like_match(db, dbname);
	if (global && (data != 0 || other))
		sample_add(&g->over, "%s on *.* (every database)",
		    extra.len ? buf_cstr(&extra) : "data privileges");
	else if (!global && !ours && (data != 0 || other))
		sample_add(&g->over, "privileges on database '%s'", db);
	else if (ours && like_has_percent(db) && (data != 0 || other))
		sample_add(
		    &g->over, "privileges on every database matching '%s'", db);
	if (strstr(to, "WITH GRANT OPTION") != NULL)
		sample_add(&g->over, "GRANT OPTION on %s.%s", db, table);
	buf_release(&extra);
	if (!global && !ours)
		return;
	if (data != 0 || other)
		g->any_scope = true;
	if (strcmp(table, "*") == 0) {
		g->all |= data;
		return;
	}
	for (size_t i = 0; i < NNEEDS; i++)
		if (strcmp(needs[i].table, table) == 0)
			g->have[i] |= data;
}

static void
grants_mysql(struct ctx *c)
{
	struct mysql_grants g;
	struct err err = ERR_INIT;
	struct db_res *r;
	bool exists[NNEEDS];
	char scope[300];
	int rc;

	memset(&g, 0, sizeof(g));
	sample_init(&g.over);
	memset(exists, 0, sizeof(exists));
	if (db_query(c->db,
		"SELECT table_name FROM information_schema.tables "
		"WHERE table_schema = DATABASE()",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1)
		for (size_t i = 0; i < NNEEDS; i++)
			if (db_col(r, 0) != NULL &&
			    strcmp(db_col(r, 0), needs[i].table) == 0)
				exists[i] = true;
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	if (db_query(c->db, "SHOW GRANTS", NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1)
		if (db_col(r, 0) != NULL)
			mysql_grant_line(c, &g, db_col(r, 0));
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	for (size_t i = 0; i < NNEEDS; i++)
		g.have[i] |= g.all;
	snprintf(scope, sizeof(scope), " of database '%s'",
	    c->params.dbname != NULL ? c->params.dbname : "");
	if (!g.any_scope)
		finding(c, "db_grants", CHECK_ERROR,
		    "the database user has no privileges on database '%s'; grant SELECT, INSERT, UPDATE, DELETE on it",
		    c->params.dbname != NULL ? c->params.dbname : "");
	else if (!grants_missing(c, g.have, exists, scope))
		finding(c, "db_grants", CHECK_INFO,
		    "the database user holds the privileges postino needs on '%s'",
		    c->params.dbname);
	if (g.over.n > 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "the database user, whose password every Postfix map file holds, has more than postino needs: %s; revoke them",
		    sample_text(&g.over));
	sample_release(&g.over);
	return;
fail:
	sample_release(&g.over);
	finding(
	    c, "db_grants", CHECK_ERROR, "cannot read the grants: %s", err.msg);
}

static void
grants_pgsql(struct ctx *c)
{
	static const char *const dangerous[] = { "pg_read_server_files",
		"pg_write_server_files", "pg_execute_server_program",
		"pg_read_all_data", "pg_write_all_data", "pg_signal_backend",
		NULL };
	struct err err = ERR_INIT;
	struct db_res *r;
	struct sample over;
	unsigned have[NNEEDS];
	bool exists[NNEEDS];
	int rc;

	memset(have, 0, sizeof(have));
	memset(exists, 0, sizeof(exists));
	sample_init(&over);
	if (db_query(c->db,
		"SELECT c.relname, "
		"has_table_privilege(c.oid, 'SELECT'), "
		"has_table_privilege(c.oid, 'INSERT'), "
		"has_table_privilege(c.oid, 'UPDATE'), "
		"has_table_privilege(c.oid, 'DELETE') "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		"ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
		"AND c.relkind IN ('r', 'p')",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1) {
		const char *t = db_col(r, 0);

		for (size_t i = 0; t != NULL && i < NNEEDS; i++) {
			if (strcmp(t, needs[i].table) != 0)
				continue;
			exists[i] = true;
			for (int k = 0; k < 4; k++)
				if (model_bool(db_col(r, k + 1)))
					have[i] |= 1u << k;
		}
	}
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	if (db_query(c->db,
		"SELECT rolsuper, rolcreaterole, rolcreatedb, "
		"rolbypassrls, rolreplication FROM pg_catalog.pg_roles "
		"WHERE rolname = current_user",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	if ((rc = db_next(r, &err)) == 1) {
		static const char *const attr[] = { "SUPERUSER", "CREATEROLE",
			"CREATEDB", "BYPASSRLS", "REPLICATION" };

		for (int k = 0; k < 5; k++)
			if (model_bool(db_col(r, k)))
				sample_add(&over, "role attribute %s", attr[k]);
	}
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	for (size_t i = 0; dangerous[i] != NULL; i++) {
		struct db_arg a[] = { DB_TEXT(dangerous[i]) };
		int64_t n = 0;

		if (db_query_int(c->db,
			"SELECT COUNT(*) FROM "
			"pg_catalog.pg_roles r WHERE r.rolname = ? AND "
			"r.rolname <> current_user AND "
			"pg_has_role(current_user, r.oid, 'USAGE')",
			a, 1, &n, &err) == -1)
			goto fail;
		if (n > 0)
			sample_add(&over, "membership in %s", dangerous[i]);
	}
	if (!grants_missing(c, have, exists, ""))
		finding(c, "db_grants", CHECK_INFO,
		    "the database role holds the privileges postino needs on every table");
	if (over.n > 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "the database role, whose password every Postfix map file holds, has more than postino needs: %s; ALTER ROLE or REVOKE them",
		    sample_text(&over));
	sample_release(&over);
	return;
fail:
	sample_release(&over);
	finding(c, "db_grants", CHECK_ERROR, "cannot read the privileges: %s",
	    err.msg);
}

static void
grants_sqlite(struct ctx *c)
{
	const char *path = c->params.dbpath;
	char dir[PATH_MAX], who[64], *slash;
	struct stat st;

	if (path == NULL || stat(path, &st) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "cannot stat the SQLite database '%s': %s",
		    path ? path : "", strerror(errno));
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (!S_ISREG(st.st_mode)) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is not a regular file", path);
		return;
	}
	if (access(path, R_OK | W_OK) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is not readable and writable by postino: %s; fix its owner or mode",
		    path, strerror(errno));
		return;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "cannot write in '%s', where SQLite keeps the journal of '%s': %s",
		    dir, path, strerror(errno));
		return;
	}
	if (st.st_mode & S_IWOTH) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is writable by everyone (mode %04o): anyone can change passwords; chmod 640 it",
		    path, (unsigned)(st.st_mode & 07777));
		return;
	}
	finding(c, "db_grants", CHECK_INFO,
	    "SQLite database '%s' is owned by %s, mode %04o", path,
	    uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
	if (st.st_mode & S_IROTH)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "SQLite database '%s' is readable by everyone (mode %04o), password hashes included; chmod o-r it",
		    path, (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "SQLite database '%s' is owned by %s, who can change every password in it; chown it to root (Dovecot and Postfix need only group access)",
		    path, uid_name(st.st_uid, who, sizeof(who)));
}

void
probe_grants(struct ctx *c)
{
	switch (db_engine(c->db)) {
	case DB_ENGINE_MYSQL:
		grants_mysql(c);
		break;
	case DB_ENGINE_PGSQL:
		grants_pgsql(c);
		break;
	case DB_ENGINE_SQLITE:
		grants_sqlite(c);
		break;
	default:
		break;
	}
}
