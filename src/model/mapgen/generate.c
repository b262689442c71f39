/*
 * "postino config gen": the artefacts there are, which ones are selected,
 * and the driver that renders them into a set (mapgen_generate).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cf.h"
#include "maildir.h"
#include "mapgen.h"
#include "strutil.h"
#include "xalloc.h"
#include "gen.h"

#include "banned.h"

const struct mapgen_artefact mapgen_artefacts[] = {
	{ "postfix", "every Postfix file below" },
	{ "main_cf",
	    "postfix/main.cf: main.cf settings (maps, delimiter, LMTP delivery)" },
	{ "master_cf", "postfix/master.cf: the mlmmj pipe services" },
	{ "sql_maps", "postfix/sql-*.cf: every SQL lookup table below" },
	{ "sql_domains", "postfix/sql-virtual_domains.cf" },
	{ "sql_alias", "postfix/sql-virtual_alias_maps.cf" },
	{ "sql_alias_alias_domain",
	    "postfix/sql-virtual_alias_alias_domain_maps.cf" },
	{ "sql_alias_domain_catchall",
	    "postfix/sql-virtual_alias_domain_catchall_maps.cf" },
	{ "sql_mailbox", "postfix/sql-virtual_mailbox_maps.cf" },
	{ "sql_mailbox_alias_domain",
	    "postfix/sql-virtual_mailbox_alias_domain_maps.cf" },
	{ "sql_transport", "postfix/sql-virtual_transport_maps.cf" },
	{ "sql_sender_login", "postfix/sql-virtual_sender_login_maps.cf" },
	{ "sql_routes",
	    "postfix/sql-routes.cf: the mailing-list routes (MySQL, PostgreSQL)" },
	{ "dovecot", "every Dovecot file below" },
	{ "dovecot_auth",
	    "dovecot/conf.d/auth-*.conf.ext: the passdb chain and the userdb" },
	{ "dovecot_sql",
	    "dovecot/dovecot-sql.conf.ext: SQL connection and queries (2.3)" },
	{ "dovecot_dict",
	    "dovecot/dovecot-dict-auth.conf.ext: podop's dict (2.3)" },
	{ "dovecot_oauth2",
	    "dovecot/dovecot-oauth2.conf.ext: the IdP passdb (noauth, hybrid; 2.3)" },
	{ "dovecot_mail",
	    "dovecot/conf.d/90-postino.conf: mail location, LMTP listener" },
	{ "dovecot_lmtp",
	    "the same as dovecot_mail (the Python postino's name)" },
	{ "dovecot_quota",
	    "dovecot/conf.d/91-postino-podop.conf: quota_clone (and METADATA) through podop's dict (--lookups podop)" },
	{ "podop", "every podop file below" },
	{ "podop_postfix",
	    "podop/podop-postfix.toml: podop's socketmap for Postfix" },
	{ "podop_dovecot",
	    "podop/podop-dovecot.toml: podop's dict for Dovecot (2.3: passdb, userdb; quota_clone)" },
	{ NULL, NULL }
};

/* The group an artefact belongs to. */
static const char *
group_of(const char *artefact)
{
	if (str_prefix(artefact, "dovecot"))
		return "dovecot";
	if (str_prefix(artefact, "podop"))
		return "podop";
	return "postfix";
}

/* Whether the --only/--skip name (of length n) selects artefact. */
static bool
selects(const char *name, size_t n, const char *artefact)
{
	const char *grp = group_of(artefact);

	return (strlen(artefact) == n && strncmp(name, artefact, n) == 0) ||
	    (strlen(grp) == n && strncmp(name, grp, n) == 0) ||
	    (n == 8 && strncmp(name, "sql_maps", n) == 0 &&
		str_prefix(artefact, "sql_")) ||
	    (n == 12 && strncmp(name, "dovecot_lmtp", n) == 0 &&
		strcmp(artefact, "dovecot_mail") == 0);
}

/* Whether a name of the comma-separated list selects artefact. */
bool
listed(const char *list, const char *artefact)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t l;

		p += strspn(p, " ,");
		l = strcspn(p, " ,");
		if (l > 0 && selects(p, l, artefact))
			return true;
		p += l;
	}
	return false;
}

/* Every name of list must be an artefact or a group. */
static int
check_names(const char *opt, const char *list, struct err *err)
{
	const char *names[64], *p = list;
	size_t nn = 0;

	for (const struct mapgen_artefact *a = mapgen_artefacts;
	     a->name != NULL && nn < 63; a++)
		names[nn++] = a->name;
	names[nn] = NULL;
	while (p != NULL && *p != '\0') {
		char word[64], all[1024];
		size_t l, off = 0;
		bool ok = false;
		const char *near;

		p += strspn(p, " ,");
		if ((l = strcspn(p, " ,")) == 0)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)l, p);
		p += l;
		for (size_t i = 0; i < nn; i++)
			ok = ok || strcmp(names[i], word) == 0;
		if (ok)
			continue;
		err_set(
		    err, ERR_INVALID, "%s: unknown artefact '%s'", opt, word);
		if ((near = str_nearest(word, names)) != NULL)
			return err_hint(err, "did you mean '%s'?", near);
		all[0] = '\0';
		for (size_t i = 0; i < nn && off < sizeof(all); i++)
			off += (size_t)snprintf(all + off, sizeof(all) - off,
			    "%s%s", i ? ", " : "", names[i]);
		return err_hint(err, "use %s", all);
	}
	return 0;
}

/* Every sql-*.cf must read back as Postfix reads it, with credentials. */
static int
postcheck(const struct mapgen_set *s, struct err *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct mapgen_file *f = &s->v[i];
		struct cf cf;
		int rc;

		if (!str_suffix(f->path, ".cf") ||
		    !str_prefix(f->path, "postfix/sql-"))
			continue;
		if (cf_parse_buf(&cf, f->path, buf_cstr(&f->data), f->data.len,
			err) == -1)
			return err_prefix(err, "generated map does not parse");
		rc = cf_get(&cf, "query") != NULL &&
			(cf_get(&cf, "dbpath") != NULL ||
			    (cf_get(&cf, "hosts") != NULL &&
				cf_get(&cf, "dbname") != NULL))
		    ? 0
		    : -1;
		cf_release(&cf);
		if (rc == -1)
			return err_set(err, ERR_INTERNAL,
			    "generated map %s lacks its query or database",
			    f->path);
	}
	return 0;
}

int
mapgen_generate(const struct mapgen_opts *o, const char *only, const char *skip,
    struct mapgen_set *set, struct err *err)
{
	static const char *const types[] = { [DB_ENGINE_SQLITE] = "sqlite",
		[DB_ENGINE_MYSQL] = "mysql",
		[DB_ENGINE_PGSQL] = "pgsql" };
	const struct postino_conf *c = o->conf;
	struct gen g;
	int (*secret)(const char *, const char *, struct err *);
	size_t n;

	memset(set, 0, sizeof(*set));
	memset(&g, 0, sizeof(g));
	if ((only != NULL && check_names("--only", only, err) == -1) ||
	    (skip != NULL && check_names("--skip", skip, err) == -1))
		return -1;
	if (o->db->engine == DB_ENGINE_NONE)
		return err_set(err, ERR_INTERNAL, "no database engine");
	g.o = o;
	g.c = c;
	g.p = o->db;
	g.set = set;
	g.only = only;
	g.skip = skip;
	g.type = types[o->db->engine];
	g.lists = c->mlmmj_spool_dir != NULL && c->mlmmj_spool_dir[0] != '\0';
	g.routes_podop =
	    engine_regexp(o->db->engine) == NULL || o->lookups == MAPGEN_PODOP;
	g.v24 = o->dovecot == MAPGEN_DOVECOT_24;
	g.dict_auth = o->lookups == MAPGEN_PODOP && !g.v24;
	g.idp = o->identity != IDENTITY_LOCAL;
	set->partial = only != NULL || skip != NULL;
	str_copy(g.base, c->virtual_mailbox_base, sizeof(g.base));
	n = strlen(g.base);
	while (n > 1 && g.base[n - 1] == '/')
		g.base[--n] = '\0';
	/* Everything that lands unquoted in a file. */
	if (plain("virtual_mailbox_base", g.base, err) == -1 ||
	    plain("postfix dir", o->postfix_dir, err) == -1 ||
	    plain("dovecot dir", o->dovecot_dir, err) == -1 ||
	    plain("queue dir", o->queue_dir, err) == -1 ||
	    plain("postfix_sql_dir", c->postfix_sql_dir, err) == -1 ||
	    plain("recipient_delimiter", c->recipient_delimiter, err) == -1 ||
	    plain("lmtp_destination", c->lmtp_destination, err) == -1 ||
	    plain("podop socket", o->podop_socket, err) == -1 ||
	    plain("podop dict socket", o->podop_dict_socket, err) == -1 ||
	    (g.lists &&
		(plain("mlmmj_spool_dir", c->mlmmj_spool_dir, err) == -1 ||
		    plain("mlmmj user", o->mlmmj_user, err) == -1 ||
		    plain("mlmmj bindir", o->mlmmj_bindir, err) == -1)) ||
	    (o->db->dbpath != NULL &&
		plain("database path", o->db->dbpath, err) == -1))
		return -1;
	if (o->lookups == MAPGEN_PODOP &&
	    !str_prefix(o->podop_dict_socket, "unix:") &&
	    o->podop_dict_socket[0] != '/') {
		err_set(err, ERR_INVALID,
		    "Dovecot reaches a dict over a UNIX socket only, not '%s'",
		    o->podop_dict_socket);
		return err_hint(err, "give --podop-dict-socket unix:/PATH");
	}
	secret = g.v24 ? secret_24 : secret_plain;
	if ((selected(&g, "dovecot_sql") || selected(&g, "dovecot_auth")) &&
	    !g.dict_auth && o->db->engine != DB_ENGINE_SQLITE &&
	    ((o->db->password != NULL &&
		 secret("password", o->db->password, err) == -1) ||
		(o->db->user != NULL &&
		    secret("user", o->db->user, err) == -1) ||
		(o->db->dbname != NULL &&
		    secret("name", o->db->dbname, err) == -1)))
		return -1;
	gen_main_cf(&g);
	gen_master_cf(&g);
	if (gen_sql_maps(&g, err) == -1)
		goto fail;
	if (g.v24)
		gen_dovecot_24(&g);
	else
		gen_dovecot_23(&g);
	gen_dovecot_mail(&g);
	gen_dovecot_quota(&g);
	gen_podop(&g);
	if (postcheck(set, err) == -1)
		goto fail;
	/* An --only name that produced nothing is a mistake worth saying. */
	for (const char *p = only; p != NULL && *p != '\0';) {
		size_t l;
		bool any = false;

		p += strspn(p, " ,");
		if ((l = strcspn(p, " ,")) == 0)
			break;
		for (size_t i = 0; i < set->n; i++)
			any = any || selects(p, l, set->v[i].artefact);
		if (!any) {
			err_set(err, ERR_INVALID,
			    "'%.*s' does not apply to %s with %s lookups, Dovecot %s and identity_backend %s",
			    (int)l, p, db_engine_name(o->db->engine),
			    o->lookups == MAPGEN_PODOP ? "podop" : "SQL",
			    g.v24 ? "2.4" : "2.3",
			    identity_backend_name(o->identity));
			goto fail;
		}
		p += l;
	}
	if (set->n == 0) {
		err_set(err, ERR_INVALID, "nothing to generate");
		err_hint(err, "check --only and --skip");
		goto fail;
	}
	return 0;
fail:
	mapgen_set_release(set);
	return -1;
}

void
mapgen_set_release(struct mapgen_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].installed);
		buf_release(&s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
