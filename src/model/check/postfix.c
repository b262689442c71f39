/*
 * Postfix probes: the sql-*.cf map files, main.cf's mailbox base, the
 * chroot.
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

enum cf_need { CF_OPTIONAL, CF_ALWAYS, CF_ALIAS_DOMAINS };

static const struct {
	const char *file;
	enum cf_need need;
	const char *legacy; /* older name, accepted, warned */
} cf_rules[] = {
	{ "sql-virtual_domains.cf", CF_ALWAYS, "sql-virtual_domain_maps.cf" },
	{ "sql-virtual_alias_maps.cf", CF_ALWAYS, NULL },
	{ "sql-virtual_mailbox_maps.cf", CF_ALWAYS, NULL },
	{ "sql-virtual_alias_alias_domain_maps.cf", CF_ALIAS_DOMAINS, NULL },
	{ "sql-virtual_alias_domain_catchall_maps.cf", CF_ALIAS_DOMAINS, NULL },
	{ "sql-virtual_mailbox_alias_domain_maps.cf", CF_ALIAS_DOMAINS, NULL },
};

static bool
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool
same_path(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (same_str(a, b))
		return true;
	if (a == NULL || b == NULL || realpath(a, ra) == NULL ||
	    realpath(b, rb) == NULL)
		return false;
	return strcmp(ra, rb) == 0;
}

/* Which credentials differ from the ones in use ("" when none). */
static void
cf_differences(const struct db_params *in_use, const struct db_params *p,
    char *out, size_t size)
{
	size_t l = 0;

	out[0] = '\0';
#define DIFF(what)                                                             \
	l += (size_t)snprintf(                                                 \
	    out + l, l < size ? size - l : 0, "%s%s", l ? ", " : "", what)
	if (in_use->engine == DB_ENGINE_SQLITE) {
		if (!same_path(in_use->dbpath, p->dbpath))
			DIFF("dbpath");
		return;
	}
	if (!same_str(in_use->hosts, p->hosts))
		DIFF("hosts");
	if (!same_str(in_use->user, p->user))
		DIFF("user");
	if (!str_ct_equal(in_use->password != NULL ? in_use->password : "",
		p->password != NULL ? p->password : ""))
		DIFF("password");
	if (!same_str(in_use->dbname, p->dbname))
		DIFF("dbname");
#undef DIFF
}

static void
check_cf_file(struct ctx *c, const char *file, const char *shown)
{
	char name[128], who[64], diff[128], *path;
	struct err err = ERR_INIT;
	struct db_params p;
	struct stat st;
	struct cf cf;
	unsigned mode;

	snprintf(name, sizeof(name), "postfix_sql_cf:%s", shown);
	path = conf_sql_path(c->conf, file);
	if (stat(path, &st) == -1) {
		finding(c, name, CHECK_ERROR, "cannot stat '%s': %s", path,
		    strerror(errno));
		free(path);
		return;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISREG(st.st_mode))
		finding(
		    c, name, CHECK_ERROR, "'%s' is not a regular file", path);
	else if (mode & ~0640u)
		finding(c, name, CHECK_ERROR,
		    "'%s' has mode %04o but holds the database password; chmod 640 and chown root:postfix it",
		    path, mode);
	else if (geteuid() == 0 && st.st_uid != 0)
		finding(c, name, CHECK_ERROR,
		    "'%s' is owned by %s, who can change what Postfix and postino connect to; chown root:postfix it",
		    path, uid_name(st.st_uid, who, sizeof(who)));
	else if (cf_parse_file(&cf, path, &err) == -1)
		finding(c, name, CHECK_ERROR, "%s", err.msg);
	else {
		if (cf_get(&cf, "query") == NULL ||
		    *cf_get(&cf, "query") == '\0')
			finding(c, name, CHECK_ERROR,
			    "'%s' has no 'query'; regenerate it with 'postino config gen --only sql_maps --out DIR' and copy DIR/postfix/%s over it",
			    path, file);
		else if (db_params_from_cf(&p, &cf,
			     c->have_params ? c->params.engine : DB_ENGINE_NONE,
			     &err) == -1)
			finding(c, name, CHECK_ERROR, "%s", err.msg);
		else {
			diff[0] = '\0';
			if (c->have_params)
				cf_differences(
				    &c->params, &p, diff, sizeof(diff));
			if (diff[0] != '\0')
				finding(c, name, CHECK_ERROR,
				    "'%s': %s %s from sql-virtual_mailbox_maps.cf, whose credentials postino uses, so Postfix would query another database; make them equal",
				    path, diff,
				    strchr(diff, ',') != NULL ? "differ"
							      : "differs");
			else
				finding(c, name, CHECK_INFO,
				    "mode %04o, owned by %s, credentials match",
				    mode,
				    uid_name(st.st_uid, who, sizeof(who)));
			db_params_release(&p);
		}
		cf_release(&cf);
	}
	free(path);
}

static bool
cf_exists(const struct ctx *c, const char *file)
{
	char *path = conf_sql_path(c->conf, file);
	struct stat st;
	bool r = lstat(path, &st) == 0;

	free(path);
	return r;
}

/*
 * Every other sql-*.cf beside them (the routes map "config gen" writes,
 * legacy or hand-made maps) holds the same password: same rules.
 */
static void
sql_cf_others(struct ctx *c)
{
	char *pat = conf_sql_path(c->conf, "sql-*.cf");
	glob_t g;

	if (glob(pat, 0, NULL, &g) != 0) {
		free(pat);
		return;
	}
	free(pat);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		bool known = false;

		base = base != NULL ? base + 1 : g.gl_pathv[i];
		for (const struct mapgen_map *m = mapgen_maps; m->file != NULL;
		     m++)
			if (strcmp(m->file, base) == 0)
				known = true;
		/* A legacy name stood in for a missing map: checked above. */
		for (size_t k = 0; k < sizeof(cf_rules) / sizeof(cf_rules[0]);
		     k++)
			if (cf_rules[k].legacy != NULL &&
			    strcmp(cf_rules[k].legacy, base) == 0 &&
			    !cf_exists(c, cf_rules[k].file))
				known = true;
		if (!known)
			check_cf_file(c, base, base);
	}
	globfree(&g);
}

void
probe_sql_cf(struct ctx *c)
{
	int64_t nadoms = -1;

	if (c->db != NULL && c->schema_ok) {
		struct err err = ERR_INIT;

		if (db_query_int(c->db, "SELECT COUNT(*) FROM alias_domain",
			NULL, 0, &nadoms, &err) == -1)
			nadoms = -1;
	}
	for (const struct mapgen_map *m = mapgen_maps; m->file != NULL; m++) {
		enum cf_need need = CF_OPTIONAL;
		const char *legacy = NULL;
		char name[128];

		for (size_t i = 0; i < sizeof(cf_rules) / sizeof(cf_rules[0]);
		     i++)
			if (strcmp(cf_rules[i].file, m->file) == 0) {
				need = cf_rules[i].need;
				legacy = cf_rules[i].legacy;
			}
		if (cf_exists(c, m->file)) {
			check_cf_file(c, m->file, m->file);
			continue;
		}
		snprintf(name, sizeof(name), "postfix_sql_cf:%s", m->file);
		if (legacy != NULL && cf_exists(c, legacy)) {
			finding(c, name, CHECK_WARN,
			    "only the legacy name '%s' exists; rename it to '%s' and update main.cf",
			    legacy, m->file);
			check_cf_file(c, legacy, legacy);
			continue;
		}
		if (need == CF_ALWAYS ||
		    (need == CF_ALIAS_DOMAINS && nadoms > 0))
			finding(c, name, CHECK_ERROR,
			    "'%s/%s' is missing%s; write it with 'postino config gen --only %s --out DIR' and copy DIR/postfix/%s there (mode 0640)",
			    c->conf->postfix_sql_dir, m->file,
			    need == CF_ALIAS_DOMAINS
				? " but alias domains exist"
				: "",
			    m->artefact, m->file);
	}
	sql_cf_others(c);
}

/* <postfix_sql_dir>/<name>, else its parent's: "" when neither exists. */
void
postfix_file(const struct ctx *c, const char *name, char *out, size_t size)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	snprintf(out, size, "%s/%s", c->conf->postfix_sql_dir, name);
	if (stat(out, &st) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", c->conf->postfix_sql_dir);
	while ((slash = strrchr(dir, '/')) != NULL && slash[1] == '\0' &&
	    slash != dir)
		*slash = '\0';
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((size_t)snprintf(out, size, "%s/%s", dir, name) < size &&
		    stat(out, &st) == 0)
			return;
	}
	out[0] = '\0';
}

static void
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Postfix's virtual_mailbox_base, when main.cf sets it, must be ours. */
void
probe_postfix_base(struct ctx *c)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct err err = ERR_INIT;
	const char *v;
	struct cf cf;

	postfix_file(c, "main.cf", path, sizeof(path));
	if (path[0] == '\0' || cf_parse_file(&cf, path, &err) == -1)
		return;
	v = cf_get(&cf, "virtual_mailbox_base");
	if (v != NULL && strchr(v, '$') == NULL) {
		snprintf(a, sizeof(a), "%s", v);
		snprintf(b, sizeof(b), "%s", c->conf->virtual_mailbox_base);
		strip_slashes(a);
		strip_slashes(b);
		if (!same_path(a, b))
			finding(c, "postfix_mailbox_base", CHECK_ERROR,
			    "%s:%d: virtual_mailbox_base is '%s' but postino creates maildirs under '%s'; make them the same",
			    path, cf_line(&cf, "virtual_mailbox_base"), a, b);
		else
			finding(c, "postfix_mailbox_base", CHECK_INFO,
			    "Postfix and postino agree on '%s'", b);
	}
	cf_release(&cf);
}

/* postino's maps reachable by Postfix's chrooted daemons (pfchroot.h). */
void
probe_postfix_chroot(struct ctx *c)
{
	char main_cf[PATH_MAX], master_cf[PATH_MAX];
	struct err err = ERR_INIT;
	struct pfchroot r;

	postfix_file(c, "main.cf", main_cf, sizeof(main_cf));
	postfix_file(c, "master.cf", master_cf, sizeof(master_cf));
	if (main_cf[0] == '\0' || master_cf[0] == '\0')
		return;
	if (pfchroot_scan(main_cf, master_cf, &r, &err) == -1) {
		finding(c, "postfix_chroot", CHECK_WARN,
		    "%s; cannot tell whether Postfix reaches postino's maps",
		    err.msg);
		return;
	}
	if (r.nproblems > 0 && r.service[0] != '\0')
		finding(c, "postfix_chroot", CHECK_ERROR,
		    "%s runs chrooted in %s (%s:%d), and %s; write such maps as proxy:TYPE:... (proxymap runs outside the chroot), as 'postino config gen' does",
		    r.service, r.queue_dir, master_cf, r.service_line,
		    buf_cstr(&r.problems));
	else if (r.nproblems > 0)
		finding(c, "postfix_chroot", CHECK_ERROR, "%s: %s", main_cf,
		    buf_cstr(&r.problems));
	else if (r.service[0] != '\0')
		finding(c, "postfix_chroot", CHECK_INFO,
		    "%s runs chrooted in %s; the %zu %s reach postino's lookups from there",
		    r.service, r.queue_dir, r.nmaps,
		    plural((int64_t)r.nmaps, "map", "maps"));
	else
		finding(c, "postfix_chroot", CHECK_INFO,
		    "no daemon that reads postino's maps runs chrooted (%s)",
		    master_cf);
	pfchroot_release(&r);
}
