/*
 * lookup: PostfixAdmin lookups for Postfix and Dovecot (see lookup.h for
 * the order of the steps).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "lookup.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define MAX_CANDS 4

/* An address key split for the lookup steps.  Everything is lower case but
 * the extension, which is re-appended to results as the client sent it. */
struct addr {
	char *lp; /* local part, extension included */
	char *dom;
	char *base; /* local part without extension, or NULL */
	char *ext;  /* delimiter + extension, or NULL */
};

static void
addr_free(struct addr *a)
{
	free(a->lp);
	free(a->dom);
	free(a->base);
	free(a->ext);
	memset(a, 0, sizeof(*a));
}

static bool
ends_with_nocase(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	if (n < m)
		return false;
	for (size_t i = 0; i < m; i++) {
		char c = s[n - m + i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != suffix[i])
			return false;
	}
	return true;
}

/*
 * Split key at its last '@'.  Returns 0, or -1 if key is not an address
 * (no '@' or an empty domain).
 */
static int
addr_split(const char *key, const char *delims, struct addr *a)
{
	const char *at = strrchr(key, '@');
	size_t lplen, cut;

	memset(a, 0, sizeof(*a));
	if (at == NULL || at[1] == '\0')
		return -1;
	lplen = (size_t)(at - key);
	a->lp = str_lower(xstrndup(key, lplen));
	a->dom = str_lower(xstrdup(at + 1));
	if (delims == NULL || *delims == '\0' || lplen == 0)
		return 0;
	if (strchr(delims, '-') != NULL &&
	    (strncmp(a->lp, "owner-", 6) == 0 ||
		ends_with_nocase(a->lp, lplen, "-request")))
		return 0;
	cut = strcspn(a->lp, delims);
	if (cut == 0 || cut == lplen)
		return 0;
	a->base = xstrndup(a->lp, cut);
	a->ext = xstrndup(key + cut, lplen - cut);
	return 0;
}

/* Up to MAX_CANDS (key, value) rows fetched for an IN (...) query. */
struct pairs {
	char *k[MAX_CANDS * 2];
	char *v[MAX_CANDS * 2];
	size_t n;
};

static void
pairs_free(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->k[i]);
		free(p->v[i]);
	}
	p->n = 0;
}

static const char *
pairs_get(const struct pairs *p, const char *k)
{
	if (k == NULL)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->k[i], k) == 0)
			return p->v[i];
	return NULL;
}

/*
 * Run "head IN (?, ...) tail" with the distinct non-NULL candidates and
 * then one DB_BOOL(1) per '?' in tail; collect (col 0, col 1) rows.
 */
static int
query_pairs(struct db *db, const char *head, const char *tail,
    char *const *cands, size_t nc, struct pairs *out, struct err *err)
{
	struct db_arg args[MAX_CANDS + 4];
	size_t nargs = 0, ntail = 0;
	struct db_res *res;
	struct buf sql;
	int r;

	out->n = 0;
	buf_init(&sql, 4096);
	buf_puts(&sql, head);
	buf_puts(&sql, " IN (");
	for (size_t i = 0; i < nc; i++) {
		bool dup = cands[i] == NULL;

		for (size_t j = 0; j < i && !dup; j++)
			dup =
			    cands[j] != NULL && strcmp(cands[i], cands[j]) == 0;
		if (dup)
			continue;
		buf_puts(&sql, nargs > 0 ? ", ?" : "?");
		args[nargs++] = DB_TEXT(cands[i]);
	}
	buf_puts(&sql, ")");
	buf_puts(&sql, tail);
	for (const char *p = tail; *p != '\0'; p++)
		if (*p == '?')
			ntail++;
	for (size_t i = 0; i < ntail; i++)
		args[nargs++] = DB_BOOL(1);
	r = db_query(db, buf_cstr(&sql), args, nargs, 0, &res, err);
	buf_release(&sql);
	if (r == -1)
		return -1;
	while ((r = db_next(res, err)) == 1) {
		const char *k = db_col(res, 0), *v = db_col(res, 1);

		if (k == NULL || out->n == MAX_CANDS * 2)
			continue;
		out->k[out->n] = str_lower(xstrdup(k));
		out->v[out->n] = xstrdup(v != NULL ? v : "");
		out->n++;
	}
	db_res_free(&res);
	if (r == -1) {
		pairs_free(out);
		return -1;
	}
	return 0;
}

/* The active target of an active alias domain, or NULL (*t_r, freed by
 * the caller).  Returns 0 or -1. */
static int
alias_domain_target(struct db *db, const char *dom, char **t_r, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(dom), DB_BOOL(1), DB_BOOL(1) };
	int r;

	r = db_query_value(db,
	    "SELECT a.target_domain FROM alias_domain a "
	    "JOIN domain t ON t.domain = a.target_domain "
	    "WHERE a.alias_domain = ? AND a.active = ? AND t.active = ? "
	    "AND t.domain <> 'ALL'",
	    a, DB_NARGS(a), t_r, err);
	if (r == -1)
		return -1;
	if (r == 1 && *t_r != NULL)
		str_lower(*t_r);
	return 0;
}

static char *
join_addr(const char *lp, const char *dom)
{
	return xasprintf("%s@%s", lp, dom);
}

/* Re-append ext to every target: before its last '@', or at its end. */
static void
append_ext(struct buf *out, const char *targets, const char *ext)
{
	const char *p = targets;
	bool first = true;

	buf_reset(out);
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char *item = xstrndup(p, n), *t = str_trim(item);
		char *at = strrchr(t, '@');

		if (*t != '\0') {
			if (!first)
				buf_putc(out, ',');
			first = false;
			if (at != NULL) {
				buf_append(out, t, (size_t)(at - t));
				buf_puts(out, ext);
				buf_puts(out, at);
			} else {
				buf_puts(out, t);
				buf_puts(out, ext);
			}
		}
		free(item);
		p += n;
		if (*p == ',')
			p++;
	}
}

static int
put_value(struct buf *out, const char *v, struct err *err)
{
	buf_reset(out);
	if (buf_puts(out, v) == -1)
		return err_set(err, ERR_TOOLARGE, "value too large");
	return 1;
}

/*
 * The steps for mailbox-like tables: exact and stripped on dom, then on the
 * alias domain's target.  Runs "SELECT username, <col> FROM mailbox WHERE
 * username IN (...) AND active = ?".  On a hit *which_r says how: 0 exact,
 * 1 stripped (and the value is in value_r).
 */
static int
mailbox_steps(struct db *db, const struct addr *a, const char *col,
    struct buf *value_r, int *which_r, struct err *err)
{
	char head[128];
	char *c[2], *target = NULL;
	struct pairs p;
	const char *v;
	int r = 0;

	snprintf(head, sizeof(head),
	    "SELECT username, %s FROM mailbox "
	    "WHERE username",
	    col);
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		const char *dom = a->dom;

		if (pass == 1) {
			if (alias_domain_target(db, a->dom, &target, err) == -1)
				return -1;
			if (target == NULL)
				break;
			dom = target;
		}
		c[0] = join_addr(a->lp, dom);
		c[1] = a->base != NULL ? join_addr(a->base, dom) : NULL;
		if (query_pairs(db, head, " AND active = ?", c, 2, &p, err) ==
		    -1)
			r = -1;
		else if ((v = pairs_get(&p, c[0])) != NULL) {
			*which_r = 0;
			r = put_value(value_r, v, err);
		} else if ((v = pairs_get(&p, c[1])) != NULL) {
			*which_r = 1;
			r = put_value(value_r, v, err);
		}
		if (r != -1)
			pairs_free(&p);
		free(c[0]);
		free(c[1]);
	}
	free(target);
	return r;
}

int
lookup_mailbox(struct db *db, const struct lookup_opts *o, const char *key,
    struct buf *value_r, struct err *err)
{
	struct addr a;
	int which, r;

	buf_reset(value_r);
	if (addr_split(key, o->delimiters, &a) == -1)
		return 0;
	r = mailbox_steps(db, &a, "maildir", value_r, &which, err);
	addr_free(&a);
	return r;
}

int
lookup_quota_limit(struct db *db, const struct lookup_opts *o, const char *key,
    struct buf *value_r, struct err *err)
{
	struct addr a;
	int which, r;

	buf_reset(value_r);
	if (addr_split(key, o->delimiters, &a) == -1)
		return 0;
	r = mailbox_steps(db, &a, "quota", value_r, &which, err);
	addr_free(&a);
	return r;
}

int
lookup_alias(struct db *db, const struct lookup_opts *o, const char *key,
    struct buf *value_r, struct err *err)
{
	static const char head[] = "SELECT address, goto FROM alias "
				   "WHERE address";
	struct pairs p1 = { .n = 0 }, p2 = { .n = 0 };
	char *c1[3] = { NULL, NULL, NULL }, *c2[3] = { NULL, NULL, NULL };
	char *target = NULL;
	const char *v;
	struct addr a;
	int r = -1;

	buf_reset(value_r);
	if (addr_split(key, o->delimiters, &a) == -1)
		return 0;
	c1[0] = join_addr(a.lp, a.dom);
	c1[1] = a.base != NULL ? join_addr(a.base, a.dom) : NULL;
	c1[2] = join_addr("", a.dom);
	if (query_pairs(db, head, " AND active = ?", c1, 3, &p1, err) == -1)
		goto out;
	if ((v = pairs_get(&p1, c1[0])) != NULL) {
		r = put_value(value_r, v, err);
		goto out;
	}
	if ((v = pairs_get(&p1, c1[1])) != NULL) {
		append_ext(value_r, v, a.ext);
		r = 1;
		goto out;
	}
	if (alias_domain_target(db, a.dom, &target, err) == -1)
		goto out;
	if (target != NULL) {
		c2[0] = join_addr(a.lp, target);
		c2[1] = a.base != NULL ? join_addr(a.base, target) : NULL;
		c2[2] = join_addr("", target);
		if (query_pairs(db, head, " AND active = ?", c2, 3, &p2, err) ==
		    -1)
			goto out;
		if ((v = pairs_get(&p2, c2[0])) != NULL) {
			r = put_value(value_r, v, err);
			goto out;
		}
		if ((v = pairs_get(&p2, c2[1])) != NULL) {
			append_ext(value_r, v, a.ext);
			r = 1;
			goto out;
		}
	}
	if ((v = pairs_get(&p1, c1[2])) != NULL ||
	    (v = pairs_get(&p2, c2[2])) != NULL) {
		r = put_value(value_r, v, err);
		goto out;
	}
	r = 0;
out:
	pairs_free(&p1);
	pairs_free(&p2);
	for (size_t i = 0; i < 3; i++) {
		free(c1[i]);
		free(c2[i]);
	}
	free(target);
	addr_free(&a);
	return r;
}

static int
domain_query(struct db *db, const char *key, bool backupmx, struct buf *value_r,
    struct err *err)
{
	char *dom, *v = NULL;
	int r;

	buf_reset(value_r);
	if (*key == '\0' || strchr(key, '@') != NULL)
		return 0;
	dom = str_lower(xstrdup(key));
	if (!backupmx) {
		struct db_arg a[] = { DB_TEXT(dom), DB_BOOL(1), DB_BOOL(0),
			DB_TEXT(dom), DB_BOOL(1), DB_BOOL(1) };

		r = db_query_value(db,
		    "SELECT domain FROM domain WHERE domain = ? "
		    "AND domain <> 'ALL' AND active = ? AND backupmx = ? "
		    "UNION ALL "
		    "SELECT a.alias_domain FROM alias_domain a "
		    "JOIN domain t ON t.domain = a.target_domain "
		    "WHERE a.alias_domain = ? AND a.active = ? "
		    "AND t.active = ? AND t.domain <> 'ALL'",
		    a, DB_NARGS(a), &v, err);
	} else {
		struct db_arg a[] = { DB_TEXT(dom), DB_BOOL(1), DB_BOOL(1) };

		r = db_query_value(db,
		    "SELECT domain FROM domain WHERE domain = ? "
		    "AND domain <> 'ALL' AND active = ? AND backupmx = ?",
		    a, DB_NARGS(a), &v, err);
	}
	if (r == 1)
		r = put_value(value_r, v != NULL ? str_lower(v) : dom, err);
	free(v);
	free(dom);
	return r;
}

int
lookup_domain(
    struct db *db, const char *key, struct buf *value_r, struct err *err)
{
	return domain_query(db, key, false, value_r, err);
}

int
lookup_relay_domain(
    struct db *db, const char *key, struct buf *value_r, struct err *err)
{
	return domain_query(db, key, true, value_r, err);
}

int
lookup_transport(
    struct db *db, const char *key, struct buf *value_r, struct err *err)
{
	const char *at = strrchr(key, '@');
	char *dom = str_lower(xstrdup(at != NULL ? at + 1 : key)), *v = NULL;
	struct db_arg a[] = { DB_TEXT(dom), DB_BOOL(1) };
	int r;

	buf_reset(value_r);
	if (*dom == '\0') {
		free(dom);
		return 0;
	}
	r = db_query_value(db,
	    "SELECT transport FROM domain WHERE "
	    "domain = ? AND domain <> 'ALL' AND active = ?",
	    a, DB_NARGS(a), &v, err);
	if (r == 1) {
		char *t = v != NULL ? str_trim(v) : NULL;

		if (t == NULL || *t == '\0')
			r = 0;
		else
			r = put_value(
			    value_r, strcmp(t, "virtual") == 0 ? ":" : t, err);
	}
	free(v);
	free(dom);
	return r;
}

static void
list_add(struct buf *out, const char *item)
{
	const char *p = out->data != NULL ? out->data : "";
	size_t n = strlen(item);

	/* A short list: a linear check for duplicates is fine. */
	while (*p != '\0') {
		size_t m = strcspn(p, ",");

		if (m == n && strncmp(p, item, n) == 0)
			return;
		p += m;
		if (*p == ',')
			p++;
	}
	if (out->len > 0)
		buf_putc(out, ',');
	buf_puts(out, item);
}

int
lookup_sender_login(struct db *db, const struct lookup_opts *o, const char *key,
    struct buf *value_r, struct err *err)
{
	char *c[MAX_CANDS] = { NULL, NULL, NULL, NULL }, *target = NULL;
	char *fw[MAX_CANDS * 2];
	struct pairs mb = { .n = 0 }, al = { .n = 0 }, fwd = { .n = 0 };
	size_t nfw = 0;
	struct addr a;
	int r = -1;

	buf_reset(value_r);
	if (addr_split(key, o->delimiters, &a) == -1)
		return 0;
	if (alias_domain_target(db, a.dom, &target, err) == -1)
		goto out;
	c[0] = join_addr(a.lp, a.dom);
	c[1] = a.base != NULL ? join_addr(a.base, a.dom) : NULL;
	if (target != NULL) {
		c[2] = join_addr(a.lp, target);
		c[3] = a.base != NULL ? join_addr(a.base, target) : NULL;
	}
	if (query_pairs(db,
		"SELECT username, username FROM mailbox WHERE "
		"username",
		" AND active = ?", c, MAX_CANDS, &mb, err) == -1)
		goto out;
	for (size_t i = 0; i < MAX_CANDS; i++)
		if (pairs_get(&mb, c[i]) != NULL)
			list_add(value_r, c[i]);
	if (query_pairs(db, "SELECT address, goto FROM alias WHERE address",
		" AND active = ?", c, MAX_CANDS, &al, err) == -1)
		goto out;
	/* Targets of those aliases that are local, active mailboxes. */
	for (size_t i = 0; i < al.n; i++) {
		const char *p = al.v[i];

		while (*p != '\0') {
			size_t n = strcspn(p, ",");
			char *item = xstrndup(p, n);
			char *t = str_lower(str_trim(item));

			if (*t != '\0' && nfw < MAX_CANDS)
				fw[nfw++] = xstrdup(t);
			free(item);
			p += n;
			if (*p == ',')
				p++;
		}
	}
	if (nfw > 0) {
		if (query_pairs(db,
			"SELECT username, username FROM mailbox "
			"WHERE username",
			" AND active = ?", fw, nfw, &fwd, err) == -1)
			goto out;
		for (size_t i = 0; i < nfw; i++)
			if (pairs_get(&fwd, fw[i]) != NULL)
				list_add(value_r, fw[i]);
	}
	r = value_r->len > 0 ? 1 : 0;
out:
	for (size_t i = 0; i < nfw; i++)
		free(fw[i]);
	pairs_free(&mb);
	pairs_free(&al);
	pairs_free(&fwd);
	for (size_t i = 0; i < MAX_CANDS; i++)
		free(c[i]);
	free(target);
	addr_free(&a);
	return r;
}

int
lookup_routes(
    struct db *db, const char *key, struct buf *value_r, struct err *err)
{
	const char *at = strrchr(key, '@');
	struct db_res *res;
	char *dom;
	int r, found = 0;

	buf_reset(value_r);
	if (at == NULL || at[1] == '\0')
		return 0;
	dom = str_lower(xstrdup(at + 1));
	{
		struct db_arg a[] = { DB_TEXT(dom), DB_BOOL(1) };

		r = db_query(db,
		    "SELECT pattern, transport FROM routes "
		    "WHERE domain = ? AND active = ? "
		    "ORDER BY priority, pattern",
		    a, DB_NARGS(a), 0, &res, err);
	}
	free(dom);
	if (r == -1)
		return -1;
	while (!found && (r = db_next(res, err)) == 1) {
		const char *pat = db_col(res, 0), *tr = db_col(res, 1);
		regex_t re;

		if (pat == NULL || tr == NULL || *tr == '\0')
			continue;
		if (regcomp(&re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB) !=
		    0)
			continue;
		if (regexec(&re, key, 0, NULL, 0) == 0) {
			found = put_value(value_r, tr, err);
		}
		regfree(&re);
	}
	db_res_free(&res);
	if (r == -1)
		return -1;
	return found;
}

static int
json_out(json_t *obj, struct buf *out, struct err *err)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	json_decref(obj);
	if (s == NULL)
		return err_set(err, ERR_INTERNAL, "cannot encode JSON");
	r = put_value(out, s, err);
	free(s);
	return r;
}

int
lookup_passdb(struct db *db, const struct lookup_opts *o, const char *user,
    struct buf *json_r, struct err *err)
{
	char *u = str_lower(xstrdup(user)), *pw = NULL;
	struct db_arg a[] = { DB_TEXT(u), DB_BOOL(1) };
	json_t *obj;
	int r;

	(void)o;
	buf_reset(json_r);
	r = db_query_value(db,
	    "SELECT password FROM mailbox "
	    "WHERE username = ? AND active = ?",
	    a, DB_NARGS(a), &pw, err);
	free(u);
	if (r != 1) {
		free(pw);
		return r;
	}
	obj = json_object();
	if (pw != NULL && *pw != '\0')
		json_object_set_new(obj, "password", json_string(pw));
	str_wipe(pw);
	free(pw);
	return json_out(obj, json_r, err);
}

static json_t *
userdb_json(const struct lookup_opts *o, const char *maildir, const char *quota)
{
	json_t *obj = json_object();
	const char *base = o->mailbox_base != NULL ? o->mailbox_base : "";
	size_t bl = strlen(base);
	char *home;
	int64_t q = 0;
	char num[32];

	if (maildir != NULL && *maildir == '/')
		home = xstrdup(maildir);
	else
		home = xasprintf("%.*s/%s",
		    (int)(bl > 0 && base[bl - 1] == '/' ? bl - 1 : bl), base,
		    maildir != NULL ? maildir : "");
	json_object_set_new(obj, "home", json_string(home));
	free(home);
	if (o->uid >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)o->uid);
		json_object_set_new(obj, "uid", json_string(num));
	}
	if (o->gid >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)o->gid);
		json_object_set_new(obj, "gid", json_string(num));
	}
	if (quota != NULL && str_to_i64(quota, &q) == 0 && q > 0) {
		char rule[48];

		snprintf(rule, sizeof(rule), "*:bytes=%lld", (long long)q);
		json_object_set_new(obj, "quota_rule", json_string(rule));
	}
	return obj;
}

int
lookup_userdb(struct db *db, const struct lookup_opts *o, const char *user,
    struct buf *json_r, struct err *err)
{
	char *u = str_lower(xstrdup(user));
	struct db_arg a[] = { DB_TEXT(u), DB_BOOL(1) };
	struct db_res *res;
	int r;

	buf_reset(json_r);
	r = db_query(db,
	    "SELECT maildir, quota FROM mailbox "
	    "WHERE username = ? AND active = ?",
	    a, DB_NARGS(a), 0, &res, err);
	free(u);
	if (r == -1)
		return -1;
	r = db_next(res, err);
	if (r == 1)
		r = json_out(userdb_json(o, db_col(res, 0), db_col(res, 1)),
		    json_r, err);
	db_res_free(&res);
	return r;
}

int
lookup_userdb_each(struct db *db, const struct lookup_opts *o,
    lookup_user_fn *fn, void *arg, struct err *err)
{
	struct db_arg a[] = { DB_BOOL(1) };
	struct db_res *res;
	struct buf json;
	int r;

	if (db_query(db,
		"SELECT username, maildir, quota FROM mailbox "
		"WHERE active = ? ORDER BY username",
		a, DB_NARGS(a), DB_STREAM, &res, err) == -1)
		return -1;
	buf_init(&json, 1024 * 1024);
	while ((r = db_next(res, err)) == 1) {
		const char *u = db_col(res, 0);
		char *lu;

		if (u == NULL)
			continue;
		if (json_out(userdb_json(o, db_col(res, 1), db_col(res, 2)),
			&json, err) == -1) {
			r = -1;
			break;
		}
		lu = str_lower(xstrdup(u));
		r = fn(arg, lu, buf_cstr(&json), err);
		free(lu);
		if (r == -1)
			break;
	}
	buf_release(&json);
	db_res_free(&res);
	return r == -1 ? -1 : 0;
}

int
lookup_quota_usage(struct db *db, const char *user, const char *what,
    struct buf *value_r, struct err *err)
{
	char *u, *v = NULL;
	const char *sql;
	int r;

	buf_reset(value_r);
	if (strcmp(what, "storage") == 0)
		sql = "SELECT bytes FROM quota2 WHERE username = ?";
	else if (strcmp(what, "messages") == 0)
		sql = "SELECT messages FROM quota2 WHERE username = ?";
	else
		return 0;
	u = str_lower(xstrdup(user));
	{
		struct db_arg a[] = { DB_TEXT(u) };

		r = db_query_value(db, sql, a, DB_NARGS(a), &v, err);
	}
	free(u);
	if (r == 1)
		r = v != NULL ? put_value(value_r, v, err) : 0;
	free(v);
	return r;
}

static int
quota_store_tx(
    struct db *db, const char *u, const struct quota_change *c, struct err *err)
{
	struct db_arg args[3];
	struct buf sql;
	size_t n = 0;
	int64_t affected;

	buf_init(&sql, 256);
	buf_puts(&sql, "UPDATE quota2 SET ");
	if (c->bytes_set || c->bytes_add) {
		buf_puts(
		    &sql, c->bytes_add ? "bytes = bytes + ?" : "bytes = ?");
		args[n++] = DB_INT(c->bytes);
	}
	if (c->messages_set || c->messages_add) {
		if (n > 0)
			buf_puts(&sql, ", ");
		buf_puts(&sql,
		    c->messages_add ? "messages = messages + ?"
				    : "messages = ?");
		args[n++] = DB_INT(c->messages);
	}
	buf_puts(&sql, " WHERE username = ?");
	args[n++] = DB_TEXT(u);
	affected = db_exec(db, buf_cstr(&sql), args, n, err);
	buf_release(&sql);
	if (affected == -1)
		return -1;
	if (affected == 0) {
		struct db_arg ins[] = { DB_TEXT(u),
			DB_INT(c->bytes_set || c->bytes_add ? c->bytes : 0),
			DB_INT(c->messages_set || c->messages_add ? c->messages
								  : 0) };

		if (db_exec(db,
			"INSERT INTO quota2 (username, bytes, messages) "
			"VALUES (?, ?, ?)",
			ins, DB_NARGS(ins), err) == -1)
			return -1;
	}
	return 1;
}

int
lookup_quota_store(struct db *db, const char *user,
    const struct quota_change *c, struct err *err)
{
	char *u;
	int r = 1;

	if (!c->bytes_set && !c->bytes_add && !c->messages_set &&
	    !c->messages_add)
		return 1;
	u = str_lower(xstrdup(user));
	/* A concurrent insert of the same new row: retry once as update. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_begin(db, true, err) == -1) {
			r = -1;
			break;
		}
		r = quota_store_tx(db, u, c, err);
		if (r == 1 && db_commit(db, err) == -1)
			r = -1;
		if (r == -1)
			db_rollback(db);
		if (r != -1 || err->kind != ERR_EXISTS)
			break;
	}
	free(u);
	return r;
}
