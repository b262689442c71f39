/*
 * Dovecot probe: the passdb chain (deep).
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

struct passdb {
	char driver[64];
	char result_failure[32];
	char result_internalfail[32];
	char where[PATH_MAX + 16];
	bool skip;  /* master or deny passdb: not in the chain */
	bool grant; /* 2.4 oauth2: grant_url set */
};

struct dovecot {
	struct passdb v[32];
	size_t n;
	/* Dovecot 2.4 checks IdP tokens in its mechanisms, not a passdb. */
	bool v24;	 /* dovecot_config_version set */
	bool mech_oauth; /* auth_mechanisms has oauthbearer or xoauth2 */
	bool oauth2_url; /* oauth2 { introspection_url or tokeninfo_url } */
	size_t nfiles;
	struct sample files;
};

static void dovecot_file(struct dovecot *, const char *, int);

static bool
has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || strchr(" \t,", p[-1]) != NULL) &&
		    strchr(" \t,", p[n]) != NULL)
			return true;
	return false;
}

/* What Dovecot 2.4 token logins need, outside any passdb. */
static void
dovecot_24_key(struct dovecot *dc, int depth, const char *top, const char *key,
    const char *val)
{
	bool yes = str_eq_nocase(val, "yes");

	if (depth == 0 && strcmp(key, "dovecot_config_version") == 0)
		dc->v24 = true;
	else if (depth == 0 && strcmp(key, "auth_mechanisms") == 0)
		dc->mech_oauth = dc->mech_oauth ||
		    has_word(val, "oauthbearer") || has_word(val, "xoauth2");
	else if (depth == 1 && strcmp(top, "auth_mechanisms") == 0 && yes &&
	    (strcmp(key, "oauthbearer") == 0 || strcmp(key, "xoauth2") == 0))
		dc->mech_oauth = true;
	else if (val[0] != '\0' &&
	    ((depth == 1 && strcmp(top, "oauth2") == 0 &&
		 (strcmp(key, "introspection_url") == 0 ||
		     strcmp(key, "tokeninfo_url") == 0 ||
		     (strcmp(key, "introspection_mode") == 0 &&
			 strcmp(val, "local") == 0))) ||
		(depth == 0 &&
		    (strcmp(key, "oauth2_introspection_url") == 0 ||
			strcmp(key, "oauth2_tokeninfo_url") == 0))))
		dc->oauth2_url = true;
}

/* !include / !include_try: paths relative to the including file. */
static void
dovecot_include(
    struct dovecot *dc, const char *from, const char *pat, int depth)
{
	char full[PATH_MAX], dir[PATH_MAX], *slash;
	glob_t g;

	if (pat[0] == '/')
		snprintf(full, sizeof(full), "%s", pat);
	else {
		snprintf(dir, sizeof(dir), "%s", from);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, pat) >=
		    sizeof(full))
			return;
	}
	if (glob(full, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		dovecot_file(dc, g.gl_pathv[i], depth + 1);
	globfree(&g);
}

static void
dovecot_file(struct dovecot *dc, const char *path, int depth)
{
	struct passdb *cur = NULL;
	char line[4096], key[64], val[256], top[32] = "";
	int depth_braces = 0, passdb_depth = -1, lineno = 0;
	FILE *f;

	if (depth > DOVECOT_DEPTH_MAX || dc->nfiles >= DOVECOT_FILES_MAX ||
	    (f = fopen(path, "re")) == NULL)
		return;
	dc->nfiles++;
	sample_add(&dc->files, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *hash, *eq;
		size_t n;

		lineno++;
		if ((hash = strchr(s, '#')) != NULL && strchr(s, '"') == NULL)
			*hash = '\0';
		s = str_trim(s);
		if (*s == '\0')
			continue;
		if (str_prefix(s, "!include")) {
			const char *p = s + 8;

			if (str_prefix(p, "_try"))
				p += 4;
			while (*p == ' ' || *p == '\t')
				p++;
			dovecot_include(dc, path, p, depth);
			continue;
		}
		n = strlen(s);
		if (s[n - 1] == '{') {
			char w1[64], w2[64];
			const char *p = next_word(s, w1, sizeof(w1));

			next_word(p, w2, sizeof(w2));
			if (strcmp(w2, "{") == 0)
				w2[0] = '\0';
			if (depth_braces == 0)
				str_copy(top, w1, sizeof(top));
			depth_braces++;
			if (strcmp(w1, "passdb") == 0 && cur == NULL &&
			    dc->n < sizeof(dc->v) / sizeof(dc->v[0])) {
				cur = &dc->v[dc->n++];
				memset(cur, 0, sizeof(*cur));
				/* 2.4: "passdb sql {" names the driver */
				snprintf(
				    cur->driver, sizeof(cur->driver), "%s", w2);
				snprintf(cur->where, sizeof(cur->where),
				    "%s:%d", path, lineno);
				passdb_depth = depth_braces;
			}
			continue;
		}
		if (strcmp(s, "}") == 0) {
			if (cur != NULL && depth_braces == passdb_depth) {
				cur = NULL;
				passdb_depth = -1;
			}
			if (depth_braces > 0)
				depth_braces--;
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		snprintf(key, sizeof(key), "%s", str_trim(s));
		snprintf(val, sizeof(val), "%s", str_trim(eq + 1));
		dovecot_24_key(dc, depth_braces, top, key, val);
		if (cur != NULL && val[0] != '\0' &&
		    (strcmp(key, "grant_url") == 0 ||
			strcmp(key, "oauth2_grant_url") == 0))
			cur->grant = true;
		if (cur == NULL || depth_braces != passdb_depth)
			continue;
		if (strcmp(key, "driver") == 0)
			str_copy(cur->driver, val, sizeof(cur->driver));
		else if (strcmp(key, "result_failure") == 0)
			str_copy(cur->result_failure, val,
			    sizeof(cur->result_failure));
		else if (strcmp(key, "result_internalfail") == 0)
			str_copy(cur->result_internalfail, val,
			    sizeof(cur->result_internalfail));
		else if ((strcmp(key, "master") == 0 ||
			     strcmp(key, "deny") == 0) &&
		    str_eq_nocase(val, "yes"))
			cur->skip = true;
	}
	fclose(f);
}

static bool
continues(const char *result)
{
	/* Dovecot's default for both is "continue". */
	return result[0] == '\0' || str_prefix(result, "continue");
}

void
probe_dovecot(struct ctx *c)
{
	enum identity_backend ib = c->conf->identity_backend;
	const char *dir = c->conf->dovecot_conf_dir;
	char path[PATH_MAX];
	struct dovecot dc;
	struct passdb *chain[32];
	size_t n = 0, first_sql = SIZE_MAX, nonsql = SIZE_MAX;
	const struct passdb *grantless = NULL;
	struct buf b;
	struct stat st;

	if (ib == IDENTITY_LOCAL)
		return; /* SQL alone is right for local */
	memset(&dc, 0, sizeof(dc));
	sample_init(&dc.files);
	snprintf(path, sizeof(path), "%s/dovecot.conf", dir);
	if (stat(path, &st) == 0)
		dovecot_file(&dc, path, 0);
	else {
		snprintf(path, sizeof(path), "%s/conf.d/auth-*.conf.ext", dir);
		dovecot_include(&dc, "/", path, 0);
	}
	if (dc.nfiles == 0 || dc.n == 0) {
		finding(c, "dovecot_passdb_chain", CHECK_WARN,
		    "%s under '%s', so the passdb chain identity_backend=%s needs cannot be verified; set dovecot_conf_dir",
		    dc.nfiles == 0 ? "no Dovecot configuration" : "no passdb",
		    dir, identity_backend_name(ib));
		sample_release(&dc.files);
		return;
	}
	for (size_t i = 0; i < dc.n; i++)
		if (!dc.v[i].skip)
			chain[n++] = &dc.v[i];
	for (size_t i = 0; i < n; i++) {
		if (strcmp(chain[i]->driver, "sql") == 0) {
			if (first_sql == SIZE_MAX)
				first_sql = i;
		} else if (nonsql == SIZE_MAX)
			nonsql = i;
	}
	buf_init(&b, 4096);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " -> " : "",
		    chain[i]->driver[0] ? chain[i]->driver : "?");
	for (size_t i = 0; dc.v24 && i < n && grantless == NULL; i++)
		if (strcmp(chain[i]->driver, "oauth2") == 0 && !chain[i]->grant)
			grantless = chain[i];
	if (grantless != NULL)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "the oauth2 passdb at %s has no grant_url: Dovecot 2.4's oauth2 passdb only does password grants, so every password it is asked about fails temporarily; remove it (tokens are checked by the oauthbearer and xoauth2 mechanisms with oauth2 { introspection_url }) or give it grant_url, client_id and client_secret",
		    grantless->where);
	else if (dc.v24 && dc.mech_oauth && dc.oauth2_url &&
	    !(ib == IDENTITY_HYBRID && first_sql == SIZE_MAX))
		finding(c, "dovecot_passdb_chain", CHECK_INFO,
		    "Dovecot 2.4: IdP tokens through the oauthbearer/xoauth2 mechanisms and oauth2 { }, passdb chain %s (from %s)",
		    buf_cstr(&b), sample_text(&dc.files));
	else if (dc.v24 && nonsql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "Dovecot 2.4 with only SQL passdbs (%s) and %s, so IdP-managed ({NOAUTH}) mailboxes cannot log in under identity_backend=%s; set auth_mechanisms { oauthbearer = yes  xoauth2 = yes } and oauth2 { introspection_url = ... }",
		    buf_cstr(&b),
		    dc.mech_oauth ? "no oauth2 { introspection_url }"
				  : "no oauthbearer/xoauth2 mechanism",
		    identity_backend_name(ib));
	else if (nonsql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "only SQL passdbs (%s), so IdP-managed ({NOAUTH}) mailboxes cannot log in under identity_backend=%s; chain the IdP's passdb (oauth2, ldap, checkpassword...) after the SQL one",
		    buf_cstr(&b), identity_backend_name(ib));
	else if (ib == IDENTITY_HYBRID && first_sql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "no SQL passdb (%s), so local passwords are ignored under identity_backend=hybrid; add 'passdb { driver = sql }'",
		    buf_cstr(&b));
	else {
		size_t stop = SIZE_MAX;

		for (size_t i = 0; i + 1 < n && stop == SIZE_MAX; i++)
			if (!continues(chain[i]->result_failure) ||
			    !continues(chain[i]->result_internalfail))
				stop = i;
		if (stop != SIZE_MAX)
			finding(c, "dovecot_passdb_chain", CHECK_ERROR,
			    "passdb '%s' at %s ends the chain (%s) when it fails, so the passdbs after it are never asked; set result_failure = continue and result_internalfail = continue",
			    chain[stop]->driver, chain[stop]->where,
			    buf_cstr(&b));
		else
			finding(c, "dovecot_passdb_chain", CHECK_INFO,
			    "passdb chain %s (from %s)", buf_cstr(&b),
			    sample_text(&dc.files));
	}
	buf_release(&b);
	sample_release(&dc.files);
}
