/*
 * config gen's renderer (model/mapgen.h) and the routes patterns
 * (model/routes.h), without a database: which files each combination
 * yields, how the database's host, port and socket reach Postfix and both
 * Dovecot syntaxes, the routes regular expression, and the refusals
 * (unknown artefacts, values the files cannot carry).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "mapgen.h"
#include "routes.h"
#include "tap.h"
#include "xalloc.h"

static void
set(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

static const struct mapgen_file *
find(const struct mapgen_set *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

static int
has(const struct mapgen_set *s, const char *path, const char *needle)
{
	const struct mapgen_file *f = find(s, path);

	if (f == NULL) {
		printf("# no %s\n", path);
		return 0;
	}
	if (strstr(buf_cstr(&f->data), needle) == NULL) {
		printf(
		    "# %s lacks [%s]:\n%s", path, needle, buf_cstr(&f->data));
		return 0;
	}
	return 1;
}

/* One rendering: the options, then what must be in which file. */
static const struct {
	enum db_engine engine;
	const char *hosts; /* SQLite: dbpath */
	enum mapgen_lookups lookups;
	enum mapgen_dovecot dovecot;
	enum identity_backend identity;
	size_t nfiles;
	const char *path;
	const char *needle;
} cases[] = {
	{ DB_ENGINE_MYSQL, "unix:/run/mysqld/mysqld.sock", MAPGEN_SQL,
	    MAPGEN_DOVECOT_23, IDENTITY_LOCAL, 14,
	    "dovecot/dovecot-sql.conf.ext",
	    "connect = host=/run/mysqld/mysqld.sock dbname=postfix user=pf "
	    "password=s3cret\n" },
	{ DB_ENGINE_MYSQL, "inet:db.example:3307", MAPGEN_SQL,
	    MAPGEN_DOVECOT_23, IDENTITY_LOCAL, 14,
	    "dovecot/dovecot-sql.conf.ext",
	    "connect = host=db.example port=3307 dbname" },
	{ DB_ENGINE_MYSQL, "db.example:3307", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "postfix/sql-routes.cf",
	    "hosts = db.example:3307\n" },
	{ DB_ENGINE_MYSQL, "db.example:3307", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "postfix/sql-routes.cf",
	    "'%s' REGEXP pattern ORDER BY priority, pattern LIMIT 1" },
	{ DB_ENGINE_MYSQL, "unix:/run/mysqld/mysqld.sock", MAPGEN_SQL,
	    MAPGEN_DOVECOT_24, IDENTITY_LOCAL, 13,
	    "dovecot/conf.d/auth-sql.conf.ext",
	    "mysql /run/mysqld/mysqld.sock {\n  user = \"pf\"\n" },
	{ DB_ENGINE_MYSQL, "[::1]:3307", MAPGEN_SQL, MAPGEN_DOVECOT_24,
	    IDENTITY_LOCAL, 13, "dovecot/conf.d/auth-sql.conf.ext",
	    "mysql ::1 {\n  port = 3307\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "dovecot/dovecot-sql.conf.ext",
	    "CONCAT('/var/vmail/', maildir) AS home, 5000 AS uid, 5000 AS "
	    "gid" },
	{ DB_ENGINE_PGSQL, "unix:/run/postgresql/.s.PGSQL.5433", MAPGEN_SQL,
	    MAPGEN_DOVECOT_23, IDENTITY_LOCAL, 14,
	    "dovecot/dovecot-sql.conf.ext",
	    "connect = host=/run/postgresql port=5433 dbname=postfix" },
	{ DB_ENGINE_PGSQL, "inet:db.example:6543", MAPGEN_SQL,
	    MAPGEN_DOVECOT_24, IDENTITY_LOCAL, 13,
	    "dovecot/conf.d/auth-sql.conf.ext",
	    "pgsql db.example {\n  parameters {\n    port = 6543\n" },
	{ DB_ENGINE_PGSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "postfix/sql-routes.cf", "'%s' ~ pattern" },
	{ DB_ENGINE_PGSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "dovecot/dovecot-sql.conf.ext",
	    "('/var/vmail/' || maildir) AS home" },
	/* Dovecot 2.3 would panic with oauth2 next to pgsql. */
	{ DB_ENGINE_PGSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_HYBRID, 14, "dovecot/conf.d/auth-sql.conf.ext",
	    "driver = checkpassword" },
	{ DB_ENGINE_PGSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_24,
	    IDENTITY_HYBRID, 13, "dovecot/conf.d/auth-sql.conf.ext",
	    "auth_mechanisms {\n  oauthbearer = yes\n  xoauth2 = yes\n}\n"
	    "oauth2 {\n  # EDIT" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_HYBRID, 15, "dovecot/conf.d/auth-sql.conf.ext",
	    "  result_success = return-ok\n  result_failure = continue\n"
	    "  result_internalfail = continue\n}\npassdb {\n"
	    "  driver = oauth2\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_NOAUTH, 15, "dovecot/conf.d/auth-sql.conf.ext",
	    "result_success = continue-ok" },
	{ DB_ENGINE_SQLITE, "/var/lib/postino/db.sqlite", MAPGEN_SQL,
	    MAPGEN_DOVECOT_23, IDENTITY_LOCAL, 14, "postfix/main.cf",
	    "transport_maps = proxy:socketmap:unix:/run/podop/podop.sock:"
	    "routes,\n    "
	    "sqlite:/etc/postfix/sql-virtual_transport_maps.cf\n" },
	{ DB_ENGINE_SQLITE, "/var/lib/postino/db.sqlite", MAPGEN_SQL,
	    MAPGEN_DOVECOT_23, IDENTITY_LOCAL, 14, "podop/podop-postfix.toml",
	    "[podop.tables]\nroutes = \"postfixadmin:routes\"\n" },
	{ DB_ENGINE_SQLITE, "/var/lib/postino/db.sqlite", MAPGEN_SQL,
	    MAPGEN_DOVECOT_24, IDENTITY_LOCAL, 13,
	    "dovecot/conf.d/auth-sql.conf.ext",
	    "sql_driver = sqlite\nsqlite_path = /var/lib/postino/db.sqlite\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 8, "postfix/main.cf",
	    "virtual_mailbox_maps = "
	    "proxy:socketmap:unix:/run/podop/podop.sock:mailbox,"
	    "\n    proxy:socketmap:unix:/run/podop/podop.sock:routes\n" },
	/* Chrooted smtpd cannot reach a database socket: proxymap can. */
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "postfix/main.cf",
	    "virtual_mailbox_domains = "
	    "proxy:mysql:/etc/postfix/sql-virtual_domains.cf\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 8, "dovecot/dovecot-dict-auth.conf.ext",
	    "uri = proxy:/run/podop/podop-dict.sock:auth\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_24,
	    IDENTITY_LOCAL, 7, "dovecot/conf.d/auth-sql.conf.ext",
	    "passdb sql {" },
	/* --lookups podop: quota_clone through podop's dict, both syntaxes. */
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_24,
	    IDENTITY_LOCAL, 7, "dovecot/conf.d/91-postino-podop.conf",
	    "quota_clone {\n  dict proxy {\n"
	    "    dict_proxy_socket_path = /run/podop/podop-dict.sock\n"
	    "    dict_proxy_name = auth\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_24,
	    IDENTITY_LOCAL, 7, "podop/podop-dovecot.toml",
	    "auth = \"postfixadmin:dovecot\"\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_PODOP, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 8, "dovecot/conf.d/91-postino-podop.conf",
	    "  quota_clone_dict = proxy:/run/podop/podop-dict.sock:auth\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "postfix/master.cf",
	    "argv=/usr/bin/mlmmj-receive -F\n  -L /var/spool/mlmmj/${domain}/"
	    "${user}\n" },
	{ DB_ENGINE_MYSQL, "localhost", MAPGEN_SQL, MAPGEN_DOVECOT_23,
	    IDENTITY_LOCAL, 14, "dovecot/conf.d/90-postino.conf",
	    "unix_listener /var/spool/postfix/private/dovecot-lmtp {" },
};

static void
setup(struct postino_conf *c, struct db_params *p, struct mapgen_opts *o,
    enum db_engine e, const char *hosts)
{
	conf_defaults(c);
	set(&c->mlmmj_spool_dir, "/var/spool/mlmmj");
	c->vmail_uid = c->vmail_gid = 5000;
	memset(p, 0, sizeof(*p));
	p->engine = e;
	if (e == DB_ENGINE_SQLITE)
		p->dbpath = xstrdup(hosts);
	else {
		p->hosts = xstrdup(hosts);
		p->user = xstrdup("pf");
		p->password = xstrdup("s3cret");
		p->dbname = xstrdup("postfix");
	}
	memset(o, 0, sizeof(*o));
	o->conf = c;
	o->db = p;
	o->postfix_dir = "/etc/postfix";
	o->dovecot_dir = "/etc/dovecot";
	o->queue_dir = "/var/spool/postfix";
	o->podop_socket = "unix:/run/podop/podop.sock";
	o->podop_dict_socket = "unix:/run/podop/podop-dict.sock";
	o->mlmmj_user = "mlmmj";
	o->mlmmj_bindir = "/usr/bin";
}

static void
t_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct postino_conf c;
		struct db_params p;
		struct mapgen_opts o;
		struct mapgen_set s;
		struct err err = ERR_INIT;

		setup(&c, &p, &o, cases[i].engine, cases[i].hosts);
		o.lookups = cases[i].lookups;
		o.dovecot = cases[i].dovecot;
		o.identity = cases[i].identity;
		if (!ok(mapgen_generate(&o, NULL, NULL, &s, &err) == 0,
			"case %zu renders", i)) {
			printf("# %s\n", err.msg);
			goto next;
		}
		is_int((int64_t)s.n, (int64_t)cases[i].nfiles,
		    "case %zu: number of files", i);
		ok(has(&s, cases[i].path, cases[i].needle), "case %zu: %s", i,
		    cases[i].path);
		mapgen_set_release(&s);
	next:
		db_params_release(&p);
		conf_release(&c);
	}
}

/* Modes: a file that holds the password is never world-readable. */
static void
t_modes(void)
{
	struct postino_conf c;
	struct db_params p;
	struct mapgen_opts o;
	struct mapgen_set s;
	struct err err = ERR_INIT;

	setup(&c, &p, &o, DB_ENGINE_MYSQL, "localhost");
	if (mapgen_generate(&o, NULL, NULL, &s, &err) == 0) {
		for (size_t i = 0; i < s.n; i++)
			if (strstr(buf_cstr(&s.v[i].data), "s3cret") != NULL)
				ok(s.v[i].mode == 0640, "%s is 0640",
				    s.v[i].path);
		mapgen_set_release(&s);
	}
	o.dovecot = MAPGEN_DOVECOT_24;
	if (mapgen_generate(&o, NULL, NULL, &s, &err) == 0) {
		const struct mapgen_file *f =
		    find(&s, "dovecot/conf.d/auth-sql.conf.ext");

		ok(f != NULL && f->mode == 0640, "2.4 auth file is 0640");
		mapgen_set_release(&s);
	}
	db_params_release(&p);
	conf_release(&c);
}

static void
t_refusals(void)
{
	struct postino_conf c;
	struct db_params p;
	struct mapgen_opts o;
	struct mapgen_set s;
	struct err err = ERR_INIT;

	setup(&c, &p, &o, DB_ENGINE_MYSQL, "localhost");
	is_int(mapgen_generate(&o, "main_fc", NULL, &s, &err), -1,
	    "unknown --only name");
	ok(err.kind == ERR_INVALID && strstr(err.hint, "main_cf") != NULL,
	    "... suggests main_cf");
	err_clear(&err);
	is_int(mapgen_generate(&o, "dovecot_dict", NULL, &s, &err), -1,
	    "an --only name that does not apply");
	ok(strstr(err.msg, "does not apply") != NULL, "... says so");
	err_clear(&err);
	is_int(mapgen_generate(&o, "main_cf, podop", NULL, &s, &err), -1,
	    "podop does not apply to mysql with SQL lookups");
	err_clear(&err);
	is_int(mapgen_generate(&o, "postfix", "main_cf,sql_maps", &s, &err), 0,
	    "--only postfix --skip main_cf,sql_maps");
	ok(s.n == 1 && strcmp(s.v[0].path, "postfix/master.cf") == 0 &&
		s.partial,
	    "... leaves master.cf alone");
	mapgen_set_release(&s);
	is_int(mapgen_generate(
		   &o, "sql_mailbox,sql_routes,dovecot_lmtp", NULL, &s, &err),
	    0, "the Python postino's artefact names");
	ok(s.n == 3 && find(&s, "postfix/sql-virtual_mailbox_maps.cf") &&
		find(&s, "postfix/sql-routes.cf") &&
		find(&s, "dovecot/conf.d/90-postino.conf"),
	    "... one file each");
	mapgen_set_release(&s);
	is_int(mapgen_generate(&o, "sql_maps", "sql_routes", &s, &err), 0,
	    "--only sql_maps --skip sql_routes");
	ok(s.n == 8 && find(&s, "postfix/sql-routes.cf") == NULL,
	    "... the eight maps postino init writes");
	mapgen_set_release(&s);
	set(&p.password, "with space");
	is_int(mapgen_generate(&o, NULL, NULL, &s, &err), -1,
	    "a password Dovecot's connect string cannot carry");
	ok(strstr(err.msg, "password") != NULL &&
		strstr(err.msg, "with space") == NULL,
	    "... never shown");
	err_clear(&err);
	is_int(mapgen_generate(&o, NULL, "dovecot", &s, &err), 0,
	    "... but fine without Dovecot");
	mapgen_set_release(&s);
	set(&c.virtual_mailbox_base, "/var/v mail");
	is_int(mapgen_generate(&o, NULL, "dovecot", &s, &err), -1,
	    "a path with a blank");
	err_clear(&err);
	set(&c.virtual_mailbox_base, "/var/vmail");
	o.lookups = MAPGEN_PODOP;
	o.podop_dict_socket = "inet:127.0.0.1:9999";
	is_int(mapgen_generate(&o, NULL, NULL, &s, &err), -1,
	    "Dovecot's dict needs a UNIX socket");
	db_params_release(&p);
	conf_release(&c);
}

/* Without mlmmj: no master.cf, no routes anywhere. */
static void
t_no_lists(void)
{
	struct postino_conf c;
	struct db_params p;
	struct mapgen_opts o;
	struct mapgen_set s;
	struct err err = ERR_INIT;

	setup(&c, &p, &o, DB_ENGINE_SQLITE, "/db");
	set(&c.mlmmj_spool_dir, "");
	if (ok(mapgen_generate(&o, NULL, NULL, &s, &err) == 0,
		"renders without lists")) {
		ok(find(&s, "postfix/master.cf") == NULL, "no master.cf");
		ok(find(&s, "podop/podop-postfix.toml") == NULL,
		    "no podop for SQLite");
		ok(strstr(buf_cstr(&find(&s, "postfix/main.cf")->data),
		       "routes") == NULL,
		    "no routes in main.cf");
		mapgen_set_release(&s);
	}
	db_params_release(&p);
	conf_release(&c);
}

static void
t_routes(void)
{
	static const struct {
		const char *addr;
		int match;
	} addrs[] = {
		{ "team@lists.example.org", 1 },
		{ "team+help@lists.example.org", 1 },
		{ "team+bounces-12-alice=example.org@lists.example.org", 1 },
		{ "team+@lists.example.org", 0 },
		{ "teamx@lists.example.org", 0 },
		{ "team-owner@lists.example.org", 0 },
		{ "team@listsxexample.org", 0 },
		{ "xteam@lists.example.org", 0 },
		{ "team@lists.example.org.evil", 0 },
	};
	char *e = routes_escape("a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o#p");
	char *p = routes_list_pattern("team", "lists.example.org");
	regex_t re;

	is_str(e,
	    "a\\.b\\*c\\+d\\?e\\(f\\)g\\[h\\]i\\{j\\}k\\|l\\^m\\$n"
	    "\\\\o#p",
	    "escape every ERE metacharacter");
	is_str(p, "^team(\\+.+)?@lists\\.example\\.org$", "a list's pattern");
	if (ok(regcomp(&re, p, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0,
		"the pattern compiles as ERE")) {
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
			is_int(regexec(&re, addrs[i].addr, 0, NULL, 0) == 0,
			    addrs[i].match, "%s", addrs[i].addr);
		regfree(&re);
	}
	free(e);
	free(p);
}

/*
 * Dovecot 2.4 in a stock Debian 13 tree: INBOX is the maildir (not the
 * stock mail_inbox_path), LMTP looks up the whole address (not the stock
 * local part), credentials are quoted rather than refused.
 */
static void
t_dovecot24(void)
{
	struct postino_conf c;
	struct db_params p;
	struct mapgen_opts o;
	struct mapgen_set s;
	struct err err = ERR_INIT;
	const char *m = "dovecot/conf.d/90-postino.conf",
		   *a = "dovecot/conf.d/auth-sql.conf.ext";

	setup(&c, &p, &o, DB_ENGINE_PGSQL, "localhost");
	o.dovecot = MAPGEN_DOVECOT_24;
	set(&p.password, "a b\"c'd#e%f%{user}g%%{h}$i\\j");
	set(&p.user, "u s");
	is_int(mapgen_generate(&o, NULL, NULL, &s, &err), 0,
	    "2.4: a password with blanks, quotes, #, %% and $");
	ok(has(&s, a,
	       "    password = \"a b\\\"c'd#e%f%%{user}g%%%{h}$i\\\\j\"\n"),
	    "... quoted, %%{ doubled");
	ok(has(&s, a, "    user = \"u s\"\n"), "... and the user");
	ok(has(&s, a, "('!include auth-sql.conf.ext')"),
	    "... says where to include it");
	ok(has(&s, m, "\nmail_inbox_path = ~\n"), "INBOX is the maildir");
	ok(has(&s, m,
	       "protocol lmtp {\n  auth_username_format = %{user | lower}\n"),
	    "LMTP looks up the whole address");
	mapgen_set_release(&s);
	set(&p.password, "line\nbreak");
	is_int(mapgen_generate(&o, NULL, NULL, &s, &err), -1,
	    "2.4: a control character is still refused");
	ok(strstr(err.msg, "line") == NULL, "... never shown");
	err_clear(&err);
	o.dovecot = MAPGEN_DOVECOT_23;
	set(&p.password, "ok");
	set(&p.user, "pf");
	is_int(mapgen_generate(&o, NULL, NULL, &s, &err), 0, "2.3");
	ok(find(&s, m) != NULL &&
		strstr(buf_cstr(&find(&s, m)->data), "mail_inbox_path") ==
		    NULL &&
		strstr(buf_cstr(&find(&s, m)->data), "protocol lmtp") == NULL,
	    "... has neither 2.4 setting");
	mapgen_set_release(&s);
	db_params_release(&p);
	conf_release(&c);
}

int
main(void)
{
	t_cases();
	t_modes();
	t_refusals();
	t_no_lists();
	t_routes();
	t_dovecot24();
	return done_testing();
}
