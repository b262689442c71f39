#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "hook.h"
#include "identity.h"
#include "mailbox.h"
#include "maildir.h"
#include "password.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

int domain_lock(
    struct model *, const char *name, struct domain_rec *, struct err *);

#define MB_COLS                                                                \
	"username, name, maildir, quota, local_part, domain, active, "         \
	"created, modified, password"

static void
copy_str(char *dst, size_t size, const char *v)
{
	str_copy(dst, v != NULL ? v : "", size);
}

static void
row_to_mailbox(struct db_res *r, struct mailbox_rec *mb)
{
	const char *pw = db_col(r, 9);

	memset(mb, 0, sizeof(*mb));
	copy_str(mb->username, sizeof(mb->username), db_col(r, 0));
	copy_str(mb->name, sizeof(mb->name), db_col(r, 1));
	copy_str(mb->maildir, sizeof(mb->maildir), db_col(r, 2));
	mb->quota_bytes = db_col_int(r, 3, 0);
	copy_str(mb->local_part, sizeof(mb->local_part), db_col(r, 4));
	copy_str(mb->domain, sizeof(mb->domain), db_col(r, 5));
	mb->active = model_bool(db_col(r, 6));
	copy_str(mb->created, sizeof(mb->created), db_col(r, 7));
	copy_str(mb->modified, sizeof(mb->modified), db_col(r, 8));
	mb->idp_managed = pw != NULL && strcmp(pw, PASSWORD_NOAUTH) == 0;
	password_scheme_of(pw, mb->scheme, sizeof(mb->scheme));
}

static int
fetch(struct model *m, const char *username, bool lock, struct mailbox_rec *mb,
    struct err *err)
{
	char sql[256];
	struct db_arg a[] = { DB_TEXT(username) };
	struct db_res *r;
	int rc;

	snprintf(sql, sizeof(sql),
	    "SELECT " MB_COLS " FROM mailbox WHERE "
	    "username = ?%s",
	    lock ? db_for_update(m->db) : "");
	if (db_query(m->db, sql, a, DB_NARGS(a), 0, &r, err) == -1)
		return -1;
	rc = db_next(r, err);
	if (rc == 1)
		row_to_mailbox(r, mb);
	db_res_free(&r);
	if (rc == 0)
		err_set(
		    err, ERR_NOTFOUND, "mailbox '%s' does not exist", username);
	return rc;
}

int
mailbox_get(struct model *m, const char *username, struct mailbox_rec *mb,
    struct err *err)
{
	char norm[ADDR_MAX];

	if (addr_address("mailbox", username, norm, NULL, NULL, err) == -1)
		return -1;
	return fetch(m, norm, false, mb, err);
}

int
mailbox_foreach(struct model *m, const char *domain, bool include_disabled,
    bool stream, mailbox_each_fn *fn, void *arg, struct err *err)
{
	char sql[256], norm[ADDR_MAX];
	struct db_arg a[2];
	size_t n = 0;
	struct db_res *r;
	struct mailbox_rec mb;
	int rc;

	snprintf(sql, sizeof(sql),
	    "SELECT " MB_COLS " FROM mailbox WHERE "
	    "1 = 1%s%s ORDER BY username",
	    domain != NULL ? " AND domain = ?" : "",
	    include_disabled ? "" : " AND active = ?");
	if (domain != NULL) {
		if (addr_domain("domain", domain, norm, err) == -1)
			return -1;
		a[n++] = DB_TEXT(norm);
	}
	if (!include_disabled)
		a[n++] = DB_BOOL(1);
	if (db_query(m->db, sql, a, n, stream ? DB_STREAM : 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		row_to_mailbox(r, &mb);
		if (fn(arg, &mb) == -1) {
			rc = -1;
			err_set(err, ERR_INTERNAL, "stopped");
			break;
		}
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

/*
 * The rules on a new mailbox, in one copy.  The single commands and a bulk
 * import (mailbox_add_many) apply the same functions, in the same order,
 * row after row, to counts and sums they read row by row or set-wise.
 *
 * quota_rule: whether the domain allows a mailbox quota q, given sum, the
 * quota its other mailboxes hold (read only when the domain has a total).
 */
static int
quota_rule(const struct domain_rec *d, int64_t q, int64_t sum, struct err *err)
{
	char a[64], b[64];

	if (d->maxquota_bytes > 0) {
		if (q == 0) {
			err_set(err, ERR_CAPACITY,
			    "domain '%s' does not allow unlimited mailboxes (maximum %s)",
			    d->domain,
			    quota_format(d->maxquota_bytes, a, sizeof(a)));
			return err_hint(
			    err, "give a --quota up to the domain's maximum");
		}
		if (q > d->maxquota_bytes) {
			err_set(err, ERR_CAPACITY,
			    "quota %s exceeds domain '%s' maximum of %s per mailbox",
			    quota_format(q, a, sizeof(a)), d->domain,
			    quota_format(d->maxquota_bytes, b, sizeof(b)));
			return err_hint(err,
			    "lower --quota, or raise the domain's maximum");
		}
	}
	if (d->quota_bytes > 0 && (q == 0 || sum + q > d->quota_bytes))
		return err_set(err, ERR_CAPACITY,
		    "domain '%s' total quota of %s would be exceeded",
		    d->domain, quota_format(d->quota_bytes, a, sizeof(a)));
	return 0;
}

/* Whether a domain that holds n mailboxes takes one more. */
static int
mailbox_cap_rule(const struct domain_rec *d, int64_t n, struct err *err)
{
	if (d->mailboxes == 0)
		return 0;
	if (d->mailboxes < 0)
		return err_set(err, ERR_CAPACITY,
		    "domain '%s' does not allow mailboxes", d->domain);
	if (n >= d->mailboxes) {
		err_set(err, ERR_CAPACITY,
		    "domain '%s' is full: %lld of %lld mailboxes", d->domain,
		    (long long)n, (long long)d->mailboxes);
		return err_hint(
		    err, "raise the limit in PostfixAdmin or remove a mailbox");
	}
	return 0;
}

/*
 * Whether a new mailbox may take a name, from what holds it (claim_state
 * order: the worst wins): 3 a mailbox, 2 an alias, 1 a stale quota2 row
 * (PostfixAdmin leaves them; deleted for the new one), 0 nothing.
 */
enum { CLAIM_FREE, CLAIM_QUOTA2, CLAIM_ALIAS, CLAIM_MAILBOX };

static int
claim_rule(const char *username, int state, struct err *err)
{
	if (state == CLAIM_MAILBOX)
		return err_set(
		    err, ERR_EXISTS, "mailbox '%s' already exists", username);
	if (state == CLAIM_ALIAS) {
		err_set(
		    err, ERR_EXISTS, "an alias '%s' already exists", username);
		return err_hint(err,
		    "delete the alias first ('postino alias del %s')",
		    username);
	}
	return 0;
}

/* The quota the mailboxes of d hold, but exclude's (NULL: all). */
static int
quota_sum(struct model *m, const struct domain_rec *d, const char *exclude,
    int64_t *sum, struct err *err)
{
	struct db_arg args[] = { DB_TEXT(d->domain),
		DB_TEXT(exclude != NULL ? exclude : "") };

	*sum = 0;
	return db_query_int(m->db,
		   "SELECT COALESCE(SUM(quota), 0) FROM "
		   "mailbox WHERE domain = ? AND username <> ?",
		   args, 2, sum, err) == -1
	    ? -1
	    : 0;
}

/* The mailbox quota a domain allows: checks maxquota and the total. */
static int
check_quota(struct model *m, const struct domain_rec *d, int64_t q,
    const char *exclude, struct err *err)
{
	int64_t sum = 0;

	if (quota_rule(d, q, 0, err) == -1)
		return -1;
	if (d->quota_bytes > 0 && quota_sum(m, d, exclude, &sum, err) == -1)
		return -1;
	return quota_rule(d, q, sum, err);
}

static int
check_mailbox_cap(struct model *m, const struct domain_rec *d, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(d->domain) };
	int64_t n = 0;

	if (d->mailboxes > 0 &&
	    db_query_int(m->db, "SELECT COUNT(*) FROM mailbox WHERE domain = ?",
		a, 1, &n, err) == -1)
		return -1;
	return mailbox_cap_rule(d, n, err);
}

/* Names per set-wise statement (three IN lists in the name check). */
#define ADD_CHUNK 1000

/*
 * Make username free for a new mailbox (a rename's target): fail if a
 * mailbox or an alias has it; delete a stale quota2 row.
 */
static int
claim_name(struct model *m, const char *username, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(username), DB_TEXT(username),
		DB_TEXT(username) };
	int64_t n;

	/* One round trip: 3 mailbox, 2 alias, 1 stale quota2, 0 free. */
	if (db_query_int(m->db,
		"SELECT CASE WHEN EXISTS (SELECT 1 FROM mailbox WHERE "
		"username = ?) THEN 3 WHEN EXISTS (SELECT 1 FROM alias "
		"WHERE address = ?) THEN 2 WHEN EXISTS (SELECT 1 FROM "
		"quota2 WHERE username = ?) THEN 1 ELSE 0 END",
		a, 3, &n, err) == -1)
		return -1;
	if (claim_rule(username, (int)n, err) == -1)
		return -1;
	if (n == CLAIM_QUOTA2 &&
	    db_exec(m->db, "DELETE FROM quota2 WHERE username = ?", a, 1,
		err) == -1)
		return -1;
	return 0;
}

/*
 * mailbox.password_expiry after a password set, as PostfixAdmin writes it:
 * the database's now plus the domain's password_expiry days, or plus 365
 * days (PostfixAdmin's own default) when the domain sets none.  Dovecot's
 * documented passdb query and PostfixAdmin's "expired" mark read it.
 * For n usernames at once (an IN list).
 */
static int
set_expiry_many(
    struct model *m, const struct db_arg *names, size_t n, struct err *err)
{
	const char *sql;
	char *in, *q;

	if (m->has_pw_expiry == -1) {
		int r =
		    db_column_exists(m->db, "mailbox", "password_expiry", err);

		if (r == -1)
			return -1;
		m->has_pw_expiry = r;
	}
	if (!m->has_pw_expiry || n == 0)
		return 0;
	switch (db_engine(m->db)) {
	case DB_ENGINE_MYSQL:
		/*
		 * Not a multi-table UPDATE ... JOIN: with an IN list,
		 * MariaDB reads (and locks) every mailbox row for that.
		 */
		sql = "UPDATE mailbox SET password_expiry = NOW() + INTERVAL "
		      "(SELECT CASE WHEN d.password_expiry > 0 THEN "
		      "d.password_expiry ELSE 365 END FROM domain d WHERE "
		      "d.domain = mailbox.domain) DAY WHERE username IN (%s)";
		break;
	case DB_ENGINE_PGSQL:
		sql = "UPDATE mailbox m SET password_expiry = now() + (CASE "
		      "WHEN d.password_expiry > 0 THEN d.password_expiry ELSE "
		      "365 END) * interval '1 day' FROM domain d WHERE "
		      "d.domain = m.domain AND m.username IN (%s)";
		break;
	default:
		sql = "UPDATE mailbox SET password_expiry = datetime('now', "
		      "'+' || (SELECT CASE WHEN d.password_expiry > 0 THEN "
		      "d.password_expiry ELSE 365 END FROM domain d WHERE "
		      "d.domain = mailbox.domain) || ' days') WHERE "
		      "username IN (%s)";
		break;
	}
	in = db_placeholders(n);
	q = xasprintf(sql, in);
	free(in);
	{
		int64_t r = db_exec(m->db, q, names, n, err);

		free(q);
		return r == -1 ? -1 : 0;
	}
}

static int
set_expiry(struct model *m, const char *username, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(username) };

	return set_expiry_many(m, a, 1, err);
}

struct add_ctx {
	const struct mailbox_spec *spec;
	char username[ADDR_MAX];
	char local[ADDR_MAX];
	char domain[ADDR_MAX];
	char maildir[2 * ADDR_MAX + 2];
	char hash[PASSWORD_HASH_MAX];
	int64_t quota;
	bool existed;
	int claim; /* CLAIM_* */
	struct maildir_undo undo;
	struct mailbox_rec *out;
};

/* Check a spec's arguments into c (no database): address, name, password. */
static int
add_prepare(struct model *m, const struct mailbox_spec *s, struct add_ctx *c,
    struct err *err)
{
	enum identity_backend ib = m->conf->identity_backend;

	c->spec = s;
	if (addr_address("mailbox", s->username, c->username, c->local,
		c->domain, err) == -1)
		return -1;
	if (s->name != NULL && strlen(s->name) > 255)
		return err_set(
		    err, ERR_INVALID, "the name is longer than 255 characters");
	for (const char *p = s->name ? s->name : ""; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_INVALID,
			    "the name contains control characters");
	if (s->quota_bytes < -1)
		return err_set(
		    err, ERR_INVALID, "the quota cannot be negative");
	if (s->password == NULL) {
		if (ib == IDENTITY_LOCAL) {
			err_set(err, ERR_UNSUPPORTED,
			    "a mailbox needs a password under identity_backend=local");
			return err_hint(err,
			    "give a password, or use identity_backend=hybrid for IdP-managed mailboxes");
		}
		str_copy(c->hash, PASSWORD_NOAUTH, sizeof(c->hash));
	} else {
		if (ib == IDENTITY_NOAUTH) {
			err_set(err, ERR_UNSUPPORTED,
			    "identity_backend=noauth: passwords belong to the identity provider");
			return err_hint(err,
			    "provision through the IdP, or use identity_backend=hybrid");
		}
		if (s->prehashed) {
			if (!password_hash_recognised(s->password))
				return err_set(err, ERR_INVALID,
				    "the password hash for '%s' is not in a format postino can verify",
				    c->username);
			if (str_copy(c->hash, s->password, sizeof(c->hash)) >=
			    sizeof(c->hash))
				return err_set(err, ERR_INVALID,
				    "the password hash is too long");
		} else if (password_make(m->conf, s->scheme, s->password,
			       c->hash, sizeof(c->hash), err) == -1)
			return -1;
	}
	snprintf(c->maildir, sizeof(c->maildir), "%s/%s/", c->domain, c->local);
	return 0;
}

/* A domain of a batch: its locked row and what it holds so far. */
struct add_dom {
	struct domain_rec d;
	int found; /* domain_lock's result */
	struct err nf;
	int64_t count, sum;
};

/* The domain named name in doms[0..n) (in name order), or NULL. */
static struct add_dom *
dom_find(struct add_dom *doms, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	if (name == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(doms[mid].d.domain, name);

		if (c == 0)
			return &doms[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
ctx_cmp_user(const void *a, const void *b)
{
	const struct add_ctx *x = *(const struct add_ctx *const *)a;
	const struct add_ctx *y = *(const struct add_ctx *const *)b;
	int c = strcmp(x->username, y->username);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

static int
ctx_cmp_domain(const void *a, const void *b)
{
	const struct add_ctx *x = *(const struct add_ctx *const *)a;
	const struct add_ctx *y = *(const struct add_ctx *const *)b;
	int c = strcmp(x->domain, y->domain);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/* The index of the first of the sorted v[0..n) named key, or n. */
static size_t
ctx_find(struct add_ctx **v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(v[mid]->username, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcasecmp(v[lo]->username, key) == 0 ? lo : n;
}

/*
 * Write c[0..n) (prepared) in the current transaction, set-wise: each
 * statement handles the whole batch (in chunks of ADD_CHUNK names, or of
 * db_insert_rows()'s limits), so a batch costs a few round trips per
 * domain and per statement, not per mailbox.  The rules run row by row
 * in order on what the set-wise reads found, each row seeing the rows
 * before it, so a batch fails at the row, and with the message, where
 * the same rows given one at a time would.  On failure *failed_r is the
 * failing row (n when none is to blame).
 */
static int
add_rows(struct model *m, struct add_ctx *c, size_t n, size_t *failed_r,
    struct err *err)
{
	struct add_ctx **by_user = xcalloc(n, sizeof(*by_user));
	struct add_ctx **by_dom = xcalloc(n, sizeof(*by_dom));
	struct add_dom *doms = xcalloc(n, sizeof(*doms));
	size_t *dom_of = xcalloc(n, sizeof(*dom_of));
	bool *dup = xcalloc(n, sizeof(*dup));
	struct db_arg *args = NULL;
	size_t ndoms = 0, fail = n;
	char now[32];
	int rc = -1;

	db_now(now, sizeof(now));
	for (size_t i = 0; i < n; i++) {
		by_user[i] = by_dom[i] = &c[i];
		c[i].claim = CLAIM_FREE;
	}
	qsort(by_user, n, sizeof(*by_user), ctx_cmp_user);
	qsort(by_dom, n, sizeof(*by_dom), ctx_cmp_domain);
	/* A name twice in the batch: the second finds the first's mailbox. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(by_user[i]->username, by_user[i - 1]->username) == 0)
			dup[by_user[i] - c] = true;

	/*
	 * 0. A bulk import's maildirs are queued first, so that the pool
	 * makes them while the statements below run; a batch that fails
	 * takes them back (the caller's undo), as it does when a later
	 * statement fails.
	 */
	if (m->defer != NULL && m->defer->pool != NULL)
		for (size_t i = 0; i < n; i++)
			maildir_pool_add(m->defer->pool, c[i].maildir,
			    c[i].spec->tag ? c[i].spec->tag : m->defer->tag);

	/* 1. Lock each domain once, in name order, in one statement. */
	{
		const char **names = xcalloc(n, sizeof(*names));
		struct domain_rec *recs;
		int *found;

		for (size_t i = 0; i < n; i++) {
			if (i == 0 ||
			    strcmp(by_dom[i]->domain, by_dom[i - 1]->domain) !=
				0)
				names[ndoms++] = by_dom[i]->domain;
			dom_of[by_dom[i] - c] = ndoms - 1;
		}
		recs = xcalloc(ndoms, sizeof(*recs));
		found = xcalloc(ndoms, sizeof(*found));
		if (domain_lock_many(m, names, ndoms, recs, found, err) == -1) {
			free(names);
			free(recs);
			free(found);
			goto out;
		}
		for (size_t i = 0; i < ndoms; i++) {
			doms[i].d = recs[i];
			doms[i].found = found[i];
			if (found[i] != 1)
				(void)domain_missing(names[i], &doms[i].nf);
			str_copy(doms[i].d.domain, names[i],
			    sizeof(doms[i].d.domain));
		}
		free(names);
		free(recs);
		free(found);
	}

	/* 2. Who holds the names: one statement per chunk. */
	for (size_t i = 0; i < n; i += ADD_CHUNK) {
		size_t k = n - i < ADD_CHUNK ? n - i : ADD_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		args = xreallocarray(args, 3 * k, sizeof(*args));
		for (size_t j = 0; j < k; j++)
			args[j] = args[k + j] = args[2 * k + j] =
			    DB_TEXT(by_user[i + j]->username);
		q = xasprintf("SELECT username, 3 FROM mailbox WHERE username "
			      "IN (%s) UNION ALL SELECT address, 2 FROM alias "
			      "WHERE address IN (%s) UNION ALL SELECT "
			      "username, 1 FROM quota2 WHERE username IN (%s)",
		    in, in, in);
		free(in);
		nx = db_query(m->db, q, args, 3 * k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1) {
			const char *name = db_col(r, 0);
			int st = (int)db_col_int(r, 1, 0);

			/* Every row of that name (duplicates too). */
			for (size_t j = ctx_find(by_user, n, name ? name : "");
			     j < n &&
			     strcasecmp(by_user[j]->username, name) == 0;
			     j++)
				if (by_user[j]->claim < st)
					by_user[j]->claim = st;
		}
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}

	/* 3. What the limited domains hold: one statement per chunk. */
	{
		size_t nl = 0;

		args = xreallocarray(args, ndoms ? ndoms : 1, sizeof(*args));
		for (size_t i = 0; i < ndoms; i++)
			if (doms[i].found == 1 &&
			    (doms[i].d.mailboxes > 0 ||
				doms[i].d.quota_bytes > 0))
				args[nl++] = DB_TEXT(doms[i].d.domain);
		for (size_t i = 0; i < nl; i += ADD_CHUNK) {
			size_t k = nl - i < ADD_CHUNK ? nl - i : ADD_CHUNK;
			char *in = db_placeholders(k), *q;
			struct db_res *r;
			int nx;

			q = xasprintf("SELECT domain, COUNT(*), "
				      "COALESCE(SUM(quota), 0) FROM mailbox "
				      "WHERE domain IN (%s) GROUP BY domain",
			    in);
			free(in);
			nx = db_query(m->db, q, args + i, k, 0, &r, err);
			free(q);
			if (nx == -1)
				goto out;
			while ((nx = db_next(r, err)) == 1) {
				struct add_dom *dd =
				    dom_find(doms, ndoms, db_col(r, 0));

				if (dd != NULL) {
					dd->count = db_col_int(r, 1, 0);
					dd->sum = db_col_int(r, 2, 0);
				}
			}
			db_res_free(&r);
			if (nx == -1)
				goto out;
		}
	}

	/* 4. The rules, row by row, in order. */
	for (size_t i = 0; i < n; i++) {
		struct add_dom *dd = &doms[dom_of[i]];
		const struct mailbox_spec *s = c[i].spec;

		fail = i;
		if (dd->found != 1) {
			*err = dd->nf;
			goto out;
		}
		if (claim_rule(c[i].username,
			dup[i] ? CLAIM_MAILBOX : c[i].claim, err) == -1 ||
		    mailbox_cap_rule(&dd->d, dd->count, err) == -1)
			goto out;
		c[i].quota = s->quota_bytes;
		if (c[i].quota < 0)
			c[i].quota = dd->d.default_quota_bytes > 0
			    ? dd->d.default_quota_bytes
			    : dd->d.maxquota_bytes;
		if (quota_rule(&dd->d, c[i].quota, dd->sum, err) == -1)
			goto out;
		dd->count++;
		dd->sum += c[i].quota;
	}
	fail = n;

	/* 5. Stale quota2 rows of the names go. */
	{
		size_t ns = 0;

		args = xreallocarray(args, n, sizeof(*args));
		for (size_t i = 0; i < n; i++)
			if (c[i].claim == CLAIM_QUOTA2)
				args[ns++] = DB_TEXT(c[i].username);
		for (size_t i = 0; i < ns; i += ADD_CHUNK) {
			size_t k = ns - i < ADD_CHUNK ? ns - i : ADD_CHUNK;
			char *in = db_placeholders(k);
			char *q = xasprintf(
			    "DELETE FROM quota2 WHERE username IN (%s)", in);
			int64_t r = db_exec(m->db, q, args + i, k, err);

			free(in);
			free(q);
			if (r == -1)
				goto out;
		}
	}

	/* 6. The maildirs, when no pool makes them (step 0). */
	for (size_t i = 0; i < n; i++) {
		fail = i;
		if (m->defer != NULL && m->defer->pool != NULL)
			break;
		if (maildir_create(m->conf->virtual_mailbox_base, c[i].maildir,
			m->conf->vmail_uid, m->conf->vmail_gid, &c[i].existed,
			m->defer != NULL ? m->defer->undo : &c[i].undo,
			err) == -1)
			goto out;
	}
	fail = n;

	/* 7. The rows: mailbox, quota2, the self-alias, the audit rows. */
	{
		enum { MB = 11, Q2 = 3, AL = 6 };
		/*
		 * password_expiry (set_expiry()'s value) is written with
		 * the row, computed by the server from the domain's days.
		 */
		bool px = m->has_pw_expiry == 1;
		const char *row;
		char *head = xasprintf(
		    "INSERT INTO mailbox (username, password, name, maildir, "
		    "quota, local_part, domain, created, modified, active%s)",
		    px ? ", password_expiry" : "");
		const char **dom = xcalloc(n, sizeof(*dom));
		const char **data = xcalloc(n, sizeof(*data));
		int64_t r;

		args = xreallocarray(args, n * MB, sizeof(*args));
		for (size_t i = 0; i < n; i++) {
			const struct mailbox_spec *s = c[i].spec;
			struct db_arg *a = &args[i * MB];

			a[0] = DB_TEXT(c[i].username);
			a[1] = DB_TEXT(c[i].hash);
			a[2] = DB_TEXT(s->name ? s->name : "");
			a[3] = DB_TEXT(c[i].maildir);
			a[4] = DB_INT(c[i].quota);
			a[5] = DB_TEXT(c[i].local);
			a[6] = DB_TEXT(c[i].domain);
			a[7] = DB_TEXT(s->created ? s->created : now);
			a[8] = DB_TEXT(s->modified ? s->modified : now);
			a[9] = DB_BOOL(s->active);
			a[10] =
			    DB_INT(doms[dom_of[i]].d.password_expiry_days > 0
				    ? doms[dom_of[i]].d.password_expiry_days
				    : 365);
		}
		switch (db_engine(m->db)) {
		case DB_ENGINE_MYSQL:
			row =
			    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW() + INTERVAL ? "
			    "DAY)";
			break;
		case DB_ENGINE_PGSQL:
			row =
			    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() + CAST(? AS "
			    "integer) * interval '1 day')";
			break;
		default:
			row =
			    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now', '+' "
			    "|| ? || ' days'))";
			break;
		}
		if (px)
			r = db_insert_rows_as(
			    m->db, head, MB, row, args, n, err);
		else {
			/* Ten values a row, packed. */
			for (size_t i = 0; i < n; i++)
				memmove(&args[i * (MB - 1)], &args[i * MB],
				    (MB - 1) * sizeof(*args));
			r = db_insert_rows(m->db, head, MB - 1, args, n, err);
		}
		free(head);
		for (size_t i = 0; r != -1 && i < n; i++) {
			struct db_arg *a = &args[i * Q2];

			a[0] = DB_TEXT(c[i].username);
			a[1] = DB_INT(c[i].spec->bytes_used);
			a[2] = DB_INT(c[i].spec->messages);
		}
		if (r != -1)
			r = db_insert_rows(m->db,
			    "INSERT INTO quota2 (username, bytes, messages)",
			    Q2, args, n, err);
		for (size_t i = 0; r != -1 && i < n; i++) {
			const struct mailbox_spec *s = c[i].spec;
			struct db_arg *a = &args[i * AL];

			a[0] = DB_TEXT(c[i].username);
			a[1] = DB_TEXT(c[i].username);
			a[2] = DB_TEXT(c[i].domain);
			a[3] = DB_TEXT(s->created ? s->created : now);
			a[4] = DB_TEXT(s->modified ? s->modified : now);
			a[5] = DB_BOOL(s->active);
		}
		if (r != -1)
			r = db_insert_rows(m->db,
			    "INSERT INTO alias (address, goto, domain, "
			    "created, modified, active)",
			    AL, args, n, err);
		for (size_t i = 0; r != -1 && i < n; i++) {
			const struct mailbox_spec *s = c[i].spec;

			if (s->idp_subject != NULL &&
			    identity_link(m, s->idp_issuer, s->idp_subject,
				c[i].username, err) == -1) {
				fail = i;
				r = -1;
			} else if (s->idp_subject != NULL &&
			    (s->idp_given != NULL || s->idp_family != NULL) &&
			    identity_set_names(m, s->idp_issuer, s->idp_subject,
				s->idp_given, s->idp_family, err) == -1) {
				fail = i;
				r = -1;
			}
		}
		for (size_t i = 0; i < n; i++) {
			dom[i] = c[i].domain;
			data[i] = c[i].username;
		}
		if (r != -1 &&
		    model_audit_many(m, n, dom, "create_mailbox", data, err) ==
			-1)
			r = -1;
		free(dom);
		free(data);
		if (r == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		*failed_r = fail;
	free(args);
	free(by_user);
	free(by_dom);
	free(doms);
	free(dom_of);
	free(dup);
	return rc;
}

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	size_t failed;

	/* A deadlock retry starts over: take back the last attempt's dirs. */
	maildir_undo_run(&c->undo);
	maildir_undo_release(&c->undo);
	maildir_undo_init(&c->undo, m->conf->virtual_mailbox_base);
	c->existed = false;
	if (add_rows(m, c, 1, &failed, err) == -1)
		return -1;
	if (c->out == NULL)
		return 0;
	return fetch(m, c->username, false, c->out, err) == 1 ? 0 : -1;
}

int
mailbox_add_many(struct model *m, const struct mailbox_spec *specs, size_t n,
    size_t *failed_r, struct err *err)
{
	struct add_ctx *c;
	int rc = -1;

	*failed_r = n;
	if (!m->db->in_tx || m->defer == NULL)
		return err_set(err, ERR_INTERNAL,
		    "mailbox_add_many needs the caller's transaction");
	if (n == 0)
		return 0;
	c = xcalloc(n, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		maildir_undo_init(&c[i].undo, m->conf->virtual_mailbox_base);
		if (add_prepare(m, &specs[i], &c[i], err) == -1) {
			*failed_r = i;
			goto out;
		}
	}
	if (add_rows(m, c, n, failed_r, err) == -1)
		goto out;
	/* Hooks run after the caller's transaction commits. */
	for (size_t i = 0; i < n; i++)
		if (specs[i].run_hook && m->conf->postcreation_hook[0] != '\0')
			model_defer_hook(m->defer, c[i].username);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		maildir_undo_release(&c[i].undo);
		explicit_bzero(c[i].hash, sizeof(c[i].hash));
	}
	free(c);
	return rc;
}

/* Take a just-created mailbox back after its hook failed. */
static int
compensate_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	struct db_arg a[] = { DB_TEXT(c->username) };
	char data[ADDR_MAX + 32];

	if (db_exec(m->db, "DELETE FROM quota2 WHERE username = ?", a, 1,
		err) == -1 ||
	    db_exec(m->db, "DELETE FROM alias WHERE address = ?", a, 1, err) ==
		-1 ||
	    db_exec(m->db, "DELETE FROM mailbox WHERE username = ?", a, 1,
		err) == -1 ||
	    identity_drop(m, c->username, err) == -1)
		return -1;
	snprintf(data, sizeof(data), "%s hook_failed", c->username);
	return model_audit(m, c->domain, "delete_mailbox", data, err);
}

static int
run_hook(struct model *m, struct add_ctx *c, struct err *err)
{
	char rel[2 * ADDR_MAX + 2], quota[32];
	const char *args[5];
	size_t n = strlen(c->maildir);

	str_copy(rel, c->maildir, sizeof(rel));
	if (n > 0 && rel[n - 1] == '/')
		rel[n - 1] = '\0';
	snprintf(quota, sizeof(quota), "%lld", (long long)c->quota);
	args[0] = c->username;
	args[1] = c->domain;
	args[2] = rel;
	args[3] = quota;
	args[4] = NULL;
	return hook_run(m->conf->postcreation_hook, args,
	    (int)m->conf->postcreation_hook_timeout, err);
}

int
mailbox_run_hook(struct model *m, const char *username, struct err *err)
{
	struct add_ctx c;
	struct mailbox_rec mb;
	struct err e2 = ERR_INIT;

	memset(&c, 0, sizeof(c));
	if (fetch(m, username, false, &mb, err) != 1)
		return -1;
	str_copy(c.username, mb.username, sizeof(c.username));
	str_copy(c.domain, mb.domain, sizeof(c.domain));
	str_copy(c.maildir, mb.maildir, sizeof(c.maildir));
	c.quota = mb.quota_bytes;
	if (run_hook(m, &c, err) == 0)
		return 0;
	/*
	 * Take the mailbox back; its maildir may hold migrated mail, so it
	 * stays where it is (check --deep reports it as an orphan).
	 */
	if (model_tx(m, compensate_tx, &c, &e2) == -1)
		err_prefix(
		    err, "the mailbox could not be removed again (%s)", e2.msg);
	else
		err_hint(err,
		    "the mailbox '%s' was removed again; its maildir was kept",
		    username);
	return -1;
}

int
mailbox_add(struct model *m, const struct mailbox_spec *s,
    struct mailbox_rec *out, struct err *err)
{
	struct add_ctx c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.out = out;
	if (add_prepare(m, s, &c, err) == -1) {
		explicit_bzero(c.hash, sizeof(c.hash));
		return -1;
	}
	maildir_undo_init(&c.undo, m->conf->virtual_mailbox_base);
	if (model_tx(m, add_tx, &c, err) == -1) {
		/*
		 * A COMMIT lost with its connection may have made the mailbox:
		 * its maildir stays (an unused one is harmless, a missing one
		 * is not).
		 */
		if (!m->db->commit_unknown)
			maildir_undo_run(&c.undo);
		goto out;
	}
	if (c.existed && m->defer == NULL)
		model_notifyf(m, "reusing the existing maildir '%s/%s'",
		    m->conf->virtual_mailbox_base, c.maildir);
	if (m->defer != NULL) {
		/* Hooks run after the caller's transaction commits. */
		if (s->run_hook && m->conf->postcreation_hook[0] != '\0')
			model_defer_hook(m->defer, c.username);
		rc = 0;
		goto out;
	}
	if (s->run_hook && m->conf->postcreation_hook[0] != '\0' &&
	    run_hook(m, &c, err) == -1) {
		struct err e2 = ERR_INIT;

		if (model_tx(m, compensate_tx, &c, &e2) == -1) {
			err_prefix(err,
			    "%s; the mailbox could not be removed again (%s)",
			    "hook failed", e2.msg);
			goto out;
		}
		if (!c.existed) {
			char *grave = NULL;

			/* The hook may have written files: remove the tree. */
			if (maildir_stage(m->conf->virtual_mailbox_base,
				c.maildir, &grave, &e2) == 0 &&
			    grave != NULL)
				(void)maildir_purge(
				    m->conf->virtual_mailbox_base, grave, &e2);
			free(grave);
		}
		maildir_undo_run(&c.undo);
		err_hint(err,
		    "the mailbox was not created; fix the hook and run the command again");
		goto out;
	}
	rc = 0;
out:
	maildir_undo_release(&c.undo);
	explicit_bzero(c.hash, sizeof(c.hash));
	return rc;
}

struct del_ctx {
	char username[ADDR_MAX];
	char maildir[512];
	char *grave;
	bool keep_maildir;
};

static int
del_tx(struct model *m, void *arg, struct err *err)
{
	struct del_ctx *c = arg;
	struct mailbox_rec mb;
	struct db_arg a[] = { DB_TEXT(c->username) };
	struct db_res *r;
	char like[ADDR_MAX + 4];
	int rc;

	if (c->grave != NULL) {
		struct err e2;

		(void)maildir_unstage(
		    m->conf->virtual_mailbox_base, c->grave, c->maildir, &e2);
		free(c->grave);
		c->grave = NULL;
	}
	if (fetch(m, c->username, true, &mb, err) != 1)
		return -1;
	str_copy(c->maildir, mb.maildir, sizeof(c->maildir));
	if (db_exec(m->db, "DELETE FROM quota2 WHERE username = ?", a, 1,
		err) == -1 ||
	    db_exec(m->db, "DELETE FROM alias WHERE address = ?", a, 1, err) ==
		-1 ||
	    db_exec(m->db,
		"DELETE FROM vacation_notification WHERE "
		"on_vacation = ?",
		a, 1, err) == -1 ||
	    db_exec(m->db, "DELETE FROM vacation WHERE email = ?", a, 1, err) ==
		-1 ||
	    /* The rest of what PostfixAdmin keeps per mailbox. */
	    db_exec(m->db, "DELETE FROM fetchmail WHERE mailbox = ?", a, 1,
		err) == -1 ||
	    db_exec(m->db, "DELETE FROM quota WHERE username = ?", a, 1, err) ==
		-1 ||
	    db_exec(m->db, "DELETE FROM mailbox WHERE username = ?", a, 1,
		err) == -1 ||
	    identity_drop(m, c->username, err) == -1)
		return -1;
	/* Aliases elsewhere that still deliver here: tell, keep them. */
	snprintf(like, sizeof(like), "%%%s%%", c->username);
	{
		struct db_arg l[] = { DB_TEXT(like) };

		if (db_query(m->db,
			"SELECT address, goto FROM alias WHERE "
			"goto LIKE ?",
			l, 1, 0, &r, err) == -1)
			return -1;
	}
	while ((rc = db_next(r, err)) == 1) {
		const char *g = db_col(r, 1), *p = g;
		size_t ul = strlen(c->username);

		while (p != NULL && *p != '\0') {
			size_t n = strcspn(p, ",");

			if (n == ul && strncmp(p, c->username, n) == 0) {
				model_notifyf(m,
				    "alias '%s' still forwards to the deleted mailbox",
				    db_col(r, 0));
				break;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}
	db_res_free(&r);
	if (rc == -1)
		return -1;
	if (model_audit(m, mb.domain, "delete_mailbox", c->username, err) == -1)
		return -1;
	if (!c->keep_maildir) {
		if (maildir_rel_valid(c->maildir, err) == -1) {
			model_notifyf(
			    m, "not touching the maildir: %s", err->msg);
			err_clear(err);
		} else if (maildir_stage(m->conf->virtual_mailbox_base,
			       c->maildir, &c->grave, err) == -1)
			return -1;
	}
	return 0;
}

int
mailbox_del(
    struct model *m, const char *username, bool keep_maildir, struct err *err)
{
	struct del_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (addr_address("mailbox", username, c.username, NULL, NULL, err) ==
	    -1)
		return -1;
	c.keep_maildir = keep_maildir;
	rc = model_tx(m, del_tx, &c, err);
	if (rc == 0 && c.grave != NULL && m->defer != NULL) {
		model_defer_grave(m->defer, c.grave, c.maildir);
	} else if (rc == -1 && c.grave != NULL) {
		struct err e2;

		(void)maildir_unstage(
		    m->conf->virtual_mailbox_base, c.grave, c.maildir, &e2);
	} else if (rc == 0 && c.grave != NULL) {
		struct err e2;

		if (maildir_purge(
			m->conf->virtual_mailbox_base, c.grave, &e2) == -1)
			model_notifyf(m,
			    "mailbox deleted, but its maildir could not be removed: %s",
			    e2.msg);
	}
	free(c.grave);
	return rc;
}

/* Simple single-row updates: active, quota, name, password, release. */
enum upd_op { UPD_ACTIVE, UPD_QUOTA, UPD_NAME, UPD_PASSWORD, UPD_RELEASE };

struct upd_ctx {
	enum upd_op op;
	char username[ADDR_MAX];
	bool active;
	int64_t quota;
	const char *name;
	char hash[PASSWORD_HASH_MAX];
	bool claim;
	bool claimed;
	bool changed;
};

static int
upd_tx(struct model *m, void *arg, struct err *err)
{
	struct upd_ctx *c = arg;
	struct mailbox_rec mb;
	char now[32], data[ADDR_MAX + 64];
	const char *action;

	if (fetch(m, c->username, true, &mb, err) != 1)
		return -1;
	db_now(now, sizeof(now));
	c->changed = true;
	switch (c->op) {
	case UPD_ACTIVE: {
		struct db_arg a[] = { DB_BOOL(c->active), DB_TEXT(now),
			DB_TEXT(c->username) };
		struct db_arg b[] = { DB_BOOL(c->active), DB_TEXT(now),
			DB_TEXT(c->username) };

		if (db_exec(m->db,
			"UPDATE mailbox SET active = ?, modified = ?"
			" WHERE username = ?",
			a, DB_NARGS(a), err) == -1)
			return -1;
		/*
		 * Keep the mailbox's alias row in step whatever its goto
		 * (forwards, vacation), as PostfixAdmin's MailboxHandler
		 * does: a disabled mailbox must not keep forwarding, and
		 * an enabled one must not leave its mail to a catch-all.
		 */
		if (db_exec(m->db,
			"UPDATE alias SET active = ?, modified = ? "
			"WHERE address = ?",
			b, DB_NARGS(b), err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s=%s", c->username,
		    c->active ? "ACTIVE" : "DISABLED");
		action = "edit_mailbox_state";
		break;
	}
	case UPD_QUOTA: {
		struct domain_rec d;
		struct db_arg a[] = { DB_INT(c->quota), DB_TEXT(now),
			DB_TEXT(c->username) };

		if (domain_lock(m, mb.domain, &d, err) != 1 ||
		    check_quota(m, &d, c->quota, c->username, err) == -1)
			return -1;
		if (db_exec(m->db,
			"UPDATE mailbox SET quota = ?, modified = ? "
			"WHERE username = ?",
			a, DB_NARGS(a), err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s quota=%lld", c->username,
		    (long long)c->quota);
		action = "edit_mailbox";
		break;
	}
	case UPD_NAME: {
		struct db_arg a[] = { DB_TEXT(c->name), DB_TEXT(now),
			DB_TEXT(c->username) };

		if (db_exec(m->db,
			"UPDATE mailbox SET name = ?, modified = ? "
			"WHERE username = ?",
			a, DB_NARGS(a), err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s name", c->username);
		action = "edit_mailbox";
		break;
	}
	case UPD_PASSWORD: {
		struct db_arg a[] = { DB_TEXT(c->hash), DB_TEXT(now),
			DB_TEXT(c->username) };

		if (mb.idp_managed &&
		    m->conf->identity_backend == IDENTITY_HYBRID && !c->claim) {
			err_set(err, ERR_EXISTS,
			    "mailbox '%s' is managed by the identity provider",
			    c->username);
			return err_hint(
			    err, "pass --claim to move it to a local password");
		}
		c->claimed = mb.idp_managed;
		if (db_exec(m->db,
			"UPDATE mailbox SET password = ?, "
			"modified = ? WHERE username = ?",
			a, DB_NARGS(a), err) == -1 ||
		    set_expiry(m, c->username, err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s", c->username);
		action = "edit_password";
		break;
	}
	case UPD_RELEASE: {
		struct db_arg a[] = { DB_TEXT(PASSWORD_NOAUTH), DB_TEXT(now),
			DB_TEXT(c->username) };

		if (mb.idp_managed) {
			c->changed = false;
			return 0;
		}
		if (db_exec(m->db,
			"UPDATE mailbox SET password = ?, "
			"modified = ? WHERE username = ?",
			a, DB_NARGS(a), err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s released", c->username);
		action = "edit_mailbox";
		break;
	}
	default:
		return err_set(err, ERR_INTERNAL, "bad update");
	}
	return model_audit(m, mb.domain, action, data, err);
}

static int
upd(struct model *m, struct upd_ctx *c, const char *username, struct err *err)
{
	int rc;

	if (addr_address("mailbox", username, c->username, NULL, NULL, err) ==
	    -1)
		return -1;
	rc = model_tx(m, upd_tx, c, err);
	explicit_bzero(c->hash, sizeof(c->hash));
	return rc;
}

int
mailbox_set_active(
    struct model *m, const char *username, bool active, struct err *err)
{
	struct upd_ctx c = { .op = UPD_ACTIVE, .active = active };

	return upd(m, &c, username, err);
}

int
mailbox_set_quota(
    struct model *m, const char *username, int64_t quota, struct err *err)
{
	struct upd_ctx c = { .op = UPD_QUOTA, .quota = quota };

	if (quota < 0)
		return err_set(
		    err, ERR_INVALID, "the quota cannot be negative");
	return upd(m, &c, username, err);
}

int
mailbox_set_name(
    struct model *m, const char *username, const char *name, struct err *err)
{
	struct upd_ctx c = { .op = UPD_NAME, .name = name };

	if (strlen(name) > 255)
		return err_set(
		    err, ERR_INVALID, "the name is longer than 255 characters");
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_INVALID,
			    "the name contains control characters");
	return upd(m, &c, username, err);
}

int
mailbox_set_password(struct model *m, const char *username, const char *plain,
    const char *scheme, bool claim, bool *claimed_r, struct err *err)
{
	struct upd_ctx c = { .op = UPD_PASSWORD, .claim = claim };
	int rc;

	if (m->conf->identity_backend == IDENTITY_NOAUTH) {
		err_set(err, ERR_UNSUPPORTED,
		    "identity_backend=noauth: passwords belong to the identity provider");
		return err_hint(err,
		    "use identity_backend=hybrid to keep some passwords in SQL");
	}
	if (password_make(
		m->conf, scheme, plain, c.hash, sizeof(c.hash), err) == -1)
		return -1;
	rc = upd(m, &c, username, err);
	if (claimed_r != NULL)
		*claimed_r = c.claimed;
	return rc;
}

int
mailbox_set_password_hash(
    struct model *m, const char *username, const char *hash, struct err *err)
{
	struct upd_ctx c = { .op = UPD_PASSWORD, .claim = true };

	if (!password_hash_recognised(hash))
		return err_set(err, ERR_INVALID,
		    "the password hash for '%s' is not in a format postino can verify",
		    username);
	if (str_copy(c.hash, hash, sizeof(c.hash)) >= sizeof(c.hash))
		return err_set(
		    err, ERR_INVALID, "the password hash is too long");
	return upd(m, &c, username, err);
}

int
mailbox_release(
    struct model *m, const char *username, bool *changed_r, struct err *err)
{
	struct upd_ctx c = { .op = UPD_RELEASE };
	int rc;

	if (m->conf->identity_backend != IDENTITY_HYBRID) {
		err_set(err, ERR_UNSUPPORTED,
		    "releasing a mailbox to the identity provider needs identity_backend=hybrid (it is '%s')",
		    identity_backend_name(m->conf->identity_backend));
		return err_hint(
		    err, "set identity_backend = \"hybrid\" in postino.toml");
	}
	rc = upd(m, &c, username, err);
	if (changed_r != NULL)
		*changed_r = c.changed;
	return rc;
}

/* --- rename --------------------------------------------------------- */

struct rename_ctx {
	char from[ADDR_MAX], to[ADDR_MAX];
	char tlocal[ADDR_MAX], tdomain[ADDR_MAX];
	char fdomain[ADDR_MAX];
	char oldrel[512], newrel[2 * ADDR_MAX + 2];
	bool moved;
	struct maildir_undo undo;
	struct mailbox_rec *out;
};

/* Replace the exact list entry old with new in a goto list. */
static char *
goto_replace(const char *list, const char *old, const char *new)
{
	size_t cap = strlen(list) + strlen(new) * 8 + 16, o = 0;
	char *out = xmalloc(cap);
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t il = n;

		if (n == strlen(old) && strncmp(p, old, n) == 0) {
			item = new;
			il = strlen(new);
		}
		if (o + il + 2 >= cap)
			out = xrealloc(out, cap = cap * 2 + il);
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, item, il);
		o += il;
		p += n;
		if (*p == ',')
			p++;
	}
	out[o] = '\0';
	return out;
}

/* The vacation entry PostfixAdmin keeps in a goto: user#domain@vacdom. */
static void
vacation_addr(const struct model *m, const char *user, char *out, size_t size)
{
	char tmp[ADDR_MAX];
	char *at;

	str_copy(tmp, user, sizeof(tmp));
	at = strrchr(tmp, '@');
	if (at != NULL)
		*at = '#';
	snprintf(out, size, "%s@%s", tmp, m->conf->vacation_domain);
}

static int
rename_aliases(
    struct model *m, struct rename_ctx *c, const char *now, struct err *err)
{
	char like[ADDR_MAX + 4], voldb[2 * ADDR_MAX], vnewb[2 * ADDR_MAX];
	struct db_arg l[] = { DB_TEXT(like) };
	struct db_res *r;
	char **addrs = NULL, **gotos = NULL;
	size_t n = 0;
	int rc;

	vacation_addr(m, c->from, voldb, sizeof(voldb));
	vacation_addr(m, c->to, vnewb, sizeof(vnewb));
	snprintf(like, sizeof(like), "%%%s%%", c->from);
	if (db_query(m->db, "SELECT address, goto FROM alias WHERE goto LIKE ?",
		l, 1, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		addrs = xreallocarray(addrs, n + 1, sizeof(*addrs));
		gotos = xreallocarray(gotos, n + 1, sizeof(*gotos));
		addrs[n] = xstrdup(db_col(r, 0));
		gotos[n] = xstrdup(db_col(r, 1) ? db_col(r, 1) : "");
		n++;
	}
	db_res_free(&r);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *g1 = goto_replace(gotos[i], c->from, c->to);
		char *g2 = goto_replace(g1, voldb, vnewb);

		if (strcmp(g2, gotos[i]) != 0) {
			struct db_arg a[] = { DB_TEXT(g2), DB_TEXT(now),
				DB_TEXT(addrs[i]) };

			if (db_exec(m->db,
				"UPDATE alias SET goto = ?, "
				"modified = ? WHERE address = ?",
				a, DB_NARGS(a), err) == -1)
				rc = -1;
		}
		free(g1);
		free(g2);
	}
	for (size_t i = 0; i < n; i++) {
		free(addrs[i]);
		free(gotos[i]);
	}
	free(addrs);
	free(gotos);
	return rc;
}

static int
rename_tx(struct model *m, void *arg, struct err *err)
{
	struct rename_ctx *c = arg;
	struct mailbox_rec mb;
	struct domain_rec d1, d2;
	char now[32], data[2 * ADDR_MAX + 16];
	int r;

	if (c->moved) {
		struct err e2;

		(void)maildir_move(m->conf->virtual_mailbox_base, c->newrel,
		    c->oldrel, -1, -1, NULL, &e2);
		c->moved = false;
	}
	maildir_undo_run(&c->undo);
	maildir_undo_release(&c->undo);
	maildir_undo_init(&c->undo, m->conf->virtual_mailbox_base);

	/* Lock domains in name order so concurrent renames cannot deadlock. */
	r = fetch(m, c->from, false, &mb, err);
	if (r != 1)
		return -1;
	str_copy(c->fdomain, mb.domain, sizeof(c->fdomain));
	if (strcmp(c->fdomain, c->tdomain) <= 0) {
		if (domain_lock(m, c->fdomain, &d1, err) != 1 ||
		    domain_lock(m, c->tdomain, &d2, err) != 1)
			return -1;
	} else {
		if (domain_lock(m, c->tdomain, &d2, err) != 1 ||
		    domain_lock(m, c->fdomain, &d1, err) != 1)
			return -1;
	}
	if (fetch(m, c->from, true, &mb, err) != 1)
		return -1;
	str_copy(c->oldrel, mb.maildir, sizeof(c->oldrel));
	if (claim_name(m, c->to, err) == -1)
		return -1;
	if (strcmp(c->fdomain, c->tdomain) != 0 &&
	    (check_mailbox_cap(m, &d2, err) == -1 ||
		check_quota(m, &d2, mb.quota_bytes, NULL, err) == -1))
		return -1;
	db_now(now, sizeof(now));
	{
		struct db_arg a[] = { DB_TEXT(c->to), DB_TEXT(c->tlocal),
			DB_TEXT(c->tdomain), DB_TEXT(c->newrel), DB_TEXT(now),
			DB_TEXT(c->from) };
		struct db_arg q[] = { DB_TEXT(c->to), DB_TEXT(c->from) };
		struct db_arg s[] = { DB_TEXT(c->to), DB_TEXT(c->tdomain),
			DB_TEXT(now), DB_TEXT(c->from) };
		struct db_arg v[] = { DB_TEXT(c->from) };
		struct db_arg vu[] = { DB_TEXT(c->to), DB_TEXT(c->tdomain),
			DB_TEXT(c->from) };

		if (db_exec(m->db,
			"UPDATE mailbox SET username = ?, "
			"local_part = ?, domain = ?, maildir = ?, modified = ? "
			"WHERE username = ?",
			a, DB_NARGS(a), err) == -1 ||
		    db_exec(m->db,
			"UPDATE quota2 SET username = ? WHERE "
			"username = ?",
			q, DB_NARGS(q), err) == -1 ||
		    db_exec(m->db,
			"UPDATE alias SET address = ?, domain = ?, "
			"modified = ? WHERE address = ?",
			s, DB_NARGS(s), err) == -1 ||
		    db_exec(m->db,
			"DELETE FROM vacation_notification WHERE "
			"on_vacation = ?",
			v, 1, err) == -1 ||
		    db_exec(m->db,
			"UPDATE vacation SET email = ?, domain = ? "
			"WHERE email = ?",
			vu, DB_NARGS(vu), err) == -1 ||
		    db_exec(m->db,
			"UPDATE fetchmail SET mailbox = ?, domain = ? "
			"WHERE mailbox = ?",
			vu, DB_NARGS(vu), err) == -1 ||
		    db_exec(m->db,
			"UPDATE quota SET username = ? WHERE "
			"username = ?",
			q, DB_NARGS(q), err) == -1 ||
		    identity_rename(m, c->from, c->to, err) == -1)
			return -1;
	}
	if (rename_aliases(m, c, now, err) == -1)
		return -1;
	/* Heal a missing self-alias so the renamed mailbox gets its mail. */
	{
		struct db_arg a[] = { DB_TEXT(c->to) };
		int64_t n;

		if (db_query_int(m->db,
			"SELECT COUNT(*) FROM alias WHERE "
			"address = ?",
			a, 1, &n, err) == -1)
			return -1;
		if (n == 0) {
			struct db_arg al[] = { DB_TEXT(c->to), DB_TEXT(c->to),
				DB_TEXT(c->tdomain), DB_TEXT(now), DB_TEXT(now),
				DB_BOOL(mb.active) };

			if (db_exec(m->db,
				"INSERT INTO alias (address, goto, "
				"domain, created, modified, active) VALUES "
				"(?, ?, ?, ?, ?, ?)",
				al, DB_NARGS(al), err) == -1)
				return -1;
		}
	}
	snprintf(data, sizeof(data), "%s renamed->%s", c->from, c->to);
	if (model_audit(m, c->tdomain, "edit_mailbox", data, err) == -1)
		return -1;
	if (maildir_rel_valid(c->oldrel, err) == 0) {
		r = maildir_exists(
		    m->conf->virtual_mailbox_base, c->oldrel, err);
		if (r == -1)
			return -1;
		if (r == 1) {
			if (maildir_move(m->conf->virtual_mailbox_base,
				c->oldrel, c->newrel, m->conf->vmail_uid,
				m->conf->vmail_gid, &c->undo, err) == -1)
				return -1;
			c->moved = true;
		} else
			model_notifyf(m,
			    "no maildir at '%s'; only the database was changed",
			    c->oldrel);
	} else {
		model_notifyf(
		    m, "maildir path '%s' left alone: %s", c->oldrel, err->msg);
		err_clear(err);
	}
	return fetch(m, c->to, false, c->out, err) == 1 ? 0 : -1;
}

int
mailbox_rename(struct model *m, const char *from, const char *to,
    struct mailbox_rec *out, struct err *err)
{
	struct rename_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (addr_address("mailbox", from, c.from, NULL, NULL, err) == -1 ||
	    addr_address("new name", to, c.to, c.tlocal, c.tdomain, err) == -1)
		return -1;
	if (strcmp(c.from, c.to) == 0)
		return err_set(err, ERR_INVALID, "the new name is the old one");
	snprintf(c.newrel, sizeof(c.newrel), "%s/%s/", c.tdomain, c.tlocal);
	c.out = out;
	maildir_undo_init(&c.undo, m->conf->virtual_mailbox_base);
	rc = model_tx(m, rename_tx, &c, err);
	/* Lost during COMMIT: leave the maildir where a commit put it. */
	if (rc == -1 && !m->db->commit_unknown) {
		if (c.moved) {
			struct err e2;

			(void)maildir_move(m->conf->virtual_mailbox_base,
			    c.newrel, c.oldrel, -1, -1, NULL, &e2);
		}
		maildir_undo_run(&c.undo);
	}
	maildir_undo_release(&c.undo);
	return rc;
}
