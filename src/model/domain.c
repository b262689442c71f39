#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "maildir.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define DOMAIN_COLS                                                            \
	"d.domain, d.description, d.transport, d.aliases, d.mailboxes, "       \
	"d.maxquota, d.quota, d.backupmx, d.active, d.created, d.modified, "   \
	"COALESCE(p.default_quota, 0)"
#define DOMAIN_FROM                                                            \
	" FROM domain d LEFT JOIN postino_domain p ON p.domain = d.domain"     \
	" AND p.domain_created = d.created"

int64_t
domain_units_from_bytes(const struct model *m, int64_t bytes)
{
	int64_t mul = PFA_QUOTA_MULTIPLIER;

	(void)m;
	if (bytes <= 0)
		return bytes;
	return (bytes + mul - 1) / mul;
}

int64_t
domain_units_to_bytes(const struct model *m, int64_t units)
{
	(void)m;
	if (units <= 0)
		return units;
	if (units > INT64_MAX / PFA_QUOTA_MULTIPLIER)
		return INT64_MAX;
	return units * PFA_QUOTA_MULTIPLIER;
}

const char *
domain_transport_kind(const char *stored)
{
	if (stored == NULL || *stored == '\0')
		return "virtual";
	if (strcmp(stored, "lmtp") == 0 || str_prefix(stored, "lmtp:"))
		return "lmtp";
	return stored;
}

static void
copy_str(char *dst, size_t size, const char *v)
{
	str_copy(dst, v != NULL ? v : "", size);
}

static void
row_to_domain(struct model *m, struct db_res *r, struct domain_rec *d)
{
	memset(d, 0, sizeof(*d));
	copy_str(d->domain, sizeof(d->domain), db_col(r, 0));
	copy_str(d->description, sizeof(d->description), db_col(r, 1));
	copy_str(d->transport, sizeof(d->transport), db_col(r, 2));
	d->aliases = db_col_int(r, 3, 0);
	d->mailboxes = db_col_int(r, 4, 0);
	d->maxquota_bytes = domain_units_to_bytes(m, db_col_int(r, 5, 0));
	d->quota_bytes = domain_units_to_bytes(m, db_col_int(r, 6, 0));
	d->backupmx = model_bool(db_col(r, 7));
	d->active = model_bool(db_col(r, 8));
	copy_str(d->created, sizeof(d->created), db_col(r, 9));
	copy_str(d->modified, sizeof(d->modified), db_col(r, 10));
	d->default_quota_bytes = db_col_int(r, 11, 0);
}

/* Fetch one domain; lock it when lock is set.  1 / 0 / -1. */
static int
fetch(struct model *m, const char *name, bool lock, struct domain_rec *d,
    struct err *err)
{
	char sql[512];
	struct db_arg a[] = { DB_TEXT(name) };
	struct db_res *r;
	int rc;

	/*
	 * PostgreSQL cannot lock the nullable side of an outer join, and
	 * FOR NO KEY UPDATE still serialises capacity checks without
	 * conflicting with the key-share locks foreign keys take.
	 */
	snprintf(sql, sizeof(sql),
	    "SELECT " DOMAIN_COLS DOMAIN_FROM
	    " WHERE d.domain = ? AND d.domain <> 'ALL'%s",
	    lock ? (db_engine(m->db) == DB_ENGINE_PGSQL
			   ? " FOR NO KEY UPDATE OF d"
			   : db_for_update(m->db))
		 : "");
	if (db_query(m->db, sql, a, DB_NARGS(a), 0, &r, err) == -1)
		return -1;
	rc = db_next(r, err);
	if (rc == 1)
		row_to_domain(m, r, d);
	db_res_free(&r);
	if (rc == 0)
		err_set(err, ERR_NOTFOUND, "domain '%s' does not exist", name);
	return rc;
}

int
domain_get(
    struct model *m, const char *name, struct domain_rec *d, struct err *err)
{
	char norm[ADDR_MAX];

	if (addr_domain("domain", name, norm, err) == -1) {
		/* An invalid name cannot exist: say so plainly. */
		if (str_eq_nocase(name, "ALL"))
			return err_set(err, ERR_NOTFOUND,
				   "domain '%s' does not exist", name),
			       0;
		return -1;
	}
	return fetch(m, norm, false, d, err);
}

/* Lock a domain row for a capacity check; 1 / 0 (ERR_NOTFOUND) / -1. */
int domain_lock(
    struct model *, const char *name, struct domain_rec *, struct err *);

int
domain_lock(
    struct model *m, const char *name, struct domain_rec *d, struct err *err)
{
	int rc = fetch(m, name, true, d, err);

	if (rc == 0)
		(void)domain_missing(name, err);
	return rc;
}

int
domain_missing(const char *name, struct err *err)
{
	err_set(err, ERR_NOTFOUND, "domain '%s' does not exist", name);
	return err_hint(err, "add it first with 'postino domain add %s'", name);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

int
domain_lock_many(struct model *m, const char *const *names, size_t n,
    struct domain_rec *recs, int *found, struct err *err)
{
	const char **sorted;
	struct db_arg *args;
	int rc = -1;

	if (n == 0)
		return 0;
	sorted = xcalloc(n, sizeof(*sorted));
	args = xcalloc(
	    n < DOMAIN_LOCK_CHUNK ? n : DOMAIN_LOCK_CHUNK, sizeof(*args));
	if (m->has_pw_expiry == -1) {
		int e =
		    db_column_exists(m->db, "mailbox", "password_expiry", err);

		if (e == -1)
			goto out;
		m->has_pw_expiry = e;
	}
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), name_cmp);
	for (size_t i = 0; i < n; i++) {
		found[i] = 0;
		memset(&recs[i], 0, sizeof(recs[i]));
	}
	/* In name order, chunk after chunk: no lock-order cycle. */
	for (size_t i = 0; i < n; i += DOMAIN_LOCK_CHUNK) {
		size_t k =
		    n - i < DOMAIN_LOCK_CHUNK ? n - i : DOMAIN_LOCK_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		struct domain_rec d;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = DB_TEXT(sorted[i + j]);
		q = xasprintf("SELECT " DOMAIN_COLS ", %s" DOMAIN_FROM
			      " WHERE d.domain IN (%s) AND d.domain <> 'ALL' "
			      "ORDER BY d.domain%s",
		    m->has_pw_expiry ? "d.password_expiry" : "0", in,
		    db_engine(m->db) == DB_ENGINE_PGSQL
			? " FOR NO KEY UPDATE OF d"
			: db_for_update(m->db));
		free(in);
		nx = db_query(m->db, q, args, k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1) {
			row_to_domain(m, r, &d);
			d.password_expiry_days = db_col_int(r, 12, 0);
			for (size_t j = 0; j < n; j++)
				if (!found[j] &&
				    strcasecmp(names[j], d.domain) == 0) {
					recs[j] = d;
					found[j] = 1;
				}
		}
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}
	rc = 0;
out:
	free(sorted);
	free(args);
	return rc;
}

int
domain_foreach(struct model *m, domain_each_fn *fn, void *arg, struct err *err)
{
	struct db_res *r;
	struct domain_rec d;
	int rc;

	if (db_query(m->db,
		"SELECT " DOMAIN_COLS DOMAIN_FROM
		" WHERE d.domain <> 'ALL' ORDER BY d.domain",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		row_to_domain(m, r, &d);
		if (fn(arg, &d) == -1) {
			rc = -1;
			err_set(err, ERR_INTERNAL, "stopped");
			break;
		}
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

static int
transport_value(
    struct model *m, const char *in, char *out, size_t size, struct err *err)
{
	if (in == NULL || *in == '\0' || strcmp(in, "virtual") == 0) {
		str_copy(out, "virtual", size);
		return 0;
	}
	if (strcmp(in, "lmtp") == 0) {
		snprintf(out, size, "lmtp:%s", m->conf->lmtp_destination);
		return 0;
	}
	if (strcmp(in, "relay") == 0) {
		str_copy(out, "relay", size);
		return 0;
	}
	/* A raw Postfix transport "name:nexthop" (e.g. smtp:[mx.example]). */
	if (strlen(in) >= size || strchr(in, ':') == NULL)
		goto bad;
	for (const char *p = in; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr(":._-[]/+", *p)))
			goto bad;
	str_copy(out, in, size);
	return 0;
bad:
	err_set(err, ERR_INVALID, "invalid transport '%.64s'", in);
	return err_hint(err,
	    "use virtual, lmtp, relay or a Postfix transport such as smtp:[mx.example.org]:25");
}

struct add_ctx {
	const struct domain_spec *spec;
	char name[ADDR_MAX];
	char transport[256];
	struct domain_rec *out;
};

/* Validate a spec; fills the normalised name and transport. */
static int
spec_check(struct model *m, const struct domain_spec *s, struct add_ctx *c,
    struct err *err)
{
	if (addr_domain("domain", s->domain, c->name, err) == -1)
		return -1;
	if (transport_value(
		m, s->transport, c->transport, sizeof(c->transport), err) == -1)
		return -1;
	if (s->aliases < -1 || s->mailboxes < -1)
		return err_set(err, ERR_INVALID,
		    "limits must be -1 (disabled), 0 (unlimited) or a positive count");
	if (s->maxquota_bytes < 0 || s->quota_bytes < 0 ||
	    s->default_quota_bytes < 0)
		return err_set(err, ERR_INVALID, "quotas cannot be negative");
	if (s->description != NULL && strlen(s->description) > 255)
		return err_set(err, ERR_INVALID,
		    "the description is longer than 255 characters");
	if (s->maxquota_bytes > 0 &&
	    s->default_quota_bytes >
		domain_units_to_bytes(
		    m, domain_units_from_bytes(m, s->maxquota_bytes))) {
		err_set(err, ERR_RULE,
		    "the default quota exceeds the maximum quota per mailbox");
		return err_hint(err,
		    "give --default-quota no larger than --max-quota (without it, new mailboxes get the maximum)");
	}
	return 0;
}

static int
add_ctx_cmp(const void *a, const void *b)
{
	const struct add_ctx *x = *(const struct add_ctx *const *)a;
	const struct add_ctx *y = *(const struct add_ctx *const *)b;
	int c = strcasecmp(x->name, y->name);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/* Which of the sorted v[0..n) exist: one statement per chunk. */
static int
add_exists(struct model *m, struct add_ctx **v, size_t n, bool *exists,
    struct add_ctx *base, struct err *err)
{
	struct db_arg *args = xcalloc(
	    n < DOMAIN_LOCK_CHUNK ? n : DOMAIN_LOCK_CHUNK, sizeof(*args));
	int rc = -1;

	for (size_t i = 0; i < n; i += DOMAIN_LOCK_CHUNK) {
		size_t k =
		    n - i < DOMAIN_LOCK_CHUNK ? n - i : DOMAIN_LOCK_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = DB_TEXT(v[i + j]->name);
		q = xasprintf(
		    "SELECT domain FROM domain WHERE domain IN (%s)", in);
		free(in);
		nx = db_query(m->db, q, args, k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1)
			for (size_t j = i; j < i + k; j++)
				if (db_col(r, 0) != NULL &&
				    strcasecmp(v[j]->name, db_col(r, 0)) == 0)
					exists[v[j] - base] = true;
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}
	rc = 0;
out:
	free(args);
	return rc;
}

int
domain_add_many(struct model *m, const struct domain_spec *specs, size_t n,
    size_t *failed_r, struct err *err)
{
	enum { DC = 11, PC = 3 };
	struct add_ctx *c, **sorted;
	bool *exists;
	struct db_arg *args = NULL;
	const char **names = NULL, **off = NULL;
	char **offdata = NULL;
	size_t noff = 0;
	char now[32];
	int rc = -1;

	*failed_r = n;
	if (!m->db->in_tx)
		return err_set(err, ERR_INTERNAL,
		    "domain_add_many needs the caller's transaction");
	if (n == 0)
		return 0;
	c = xcalloc(n, sizeof(*c));
	sorted = xcalloc(n, sizeof(*sorted));
	exists = xcalloc(n, sizeof(*exists));
	/* 1. The arguments (no database). */
	for (size_t i = 0; i < n; i++) {
		c[i].spec = &specs[i];
		if (spec_check(m, &specs[i], &c[i], err) == -1) {
			*failed_r = i;
			goto out;
		}
		sorted[i] = &c[i];
	}
	/* 2. Which exist; a name again in the batch finds the first. */
	qsort(sorted, n, sizeof(*sorted), add_ctx_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcasecmp(sorted[i]->name, sorted[i - 1]->name) == 0)
			exists[sorted[i] - c] = true;
	if (add_exists(m, sorted, n, exists, c, err) == -1)
		goto out;
	/* 3. The rule, row by row. */
	for (size_t i = 0; i < n; i++)
		if (exists[i]) {
			*failed_r = i;
			err_set(err, ERR_EXISTS, "domain '%s' already exists",
			    c[i].name);
			goto out;
		}
	/* 4. The rows: domain, postino_domain, the audit rows. */
	db_now(now, sizeof(now));
	args = xcalloc(n * DC, sizeof(*args));
	names = xcalloc(n, sizeof(*names));
	off = xcalloc(n, sizeof(*off));
	offdata = xcalloc(n, sizeof(*offdata));
	for (size_t i = 0; i < n; i++) {
		const struct domain_spec *s = &specs[i];
		struct db_arg *a = &args[i * DC];

		a[0] = DB_TEXT(c[i].name);
		a[1] = DB_TEXT(s->description != NULL ? s->description : "");
		a[2] = DB_INT(s->aliases);
		a[3] = DB_INT(s->mailboxes);
		a[4] = DB_INT(domain_units_from_bytes(m, s->maxquota_bytes));
		a[5] = DB_INT(domain_units_from_bytes(m, s->quota_bytes));
		a[6] = DB_TEXT(c[i].transport);
		a[7] = DB_BOOL(s->backupmx);
		a[8] = DB_TEXT(s->created != NULL ? s->created : now);
		a[9] = DB_TEXT(s->modified != NULL ? s->modified : now);
		a[10] = DB_BOOL(!s->disabled);
		names[i] = c[i].name;
		if (s->disabled) {
			off[noff] = c[i].name;
			offdata[noff++] = xasprintf("%s=DISABLED", c[i].name);
		}
	}
	if (db_insert_rows(m->db,
		"INSERT INTO domain (domain, description, aliases, mailboxes, "
		"maxquota, quota, transport, backupmx, created, modified, "
		"active)",
		DC, args, n, err) == -1) {
		if (n == 1 && err->kind == ERR_EXISTS) {
			err_set(err, ERR_EXISTS, "domain '%s' already exists",
			    c[0].name);
			*failed_r = 0;
		}
		goto out;
	}
	/* A row left from an earlier domain of the name goes. */
	for (size_t i = 0; i < n; i += DOMAIN_LOCK_CHUNK) {
		size_t k =
		    n - i < DOMAIN_LOCK_CHUNK ? n - i : DOMAIN_LOCK_CHUNK;
		char *in = db_placeholders(k);
		char *q = xasprintf(
		    "DELETE FROM postino_domain WHERE domain IN (%s)", in);
		int64_t r;

		for (size_t j = 0; j < k; j++)
			args[j] = DB_TEXT(c[i + j].name);
		r = db_exec(m->db, q, args, k, err);
		free(in);
		free(q);
		if (r == -1)
			goto out;
	}
	/* Tied to the domain's created, as written to it just above. */
	for (size_t i = 0; i < n; i++) {
		const struct domain_spec *s = &specs[i];

		args[i * PC] = DB_TEXT(c[i].name);
		args[i * PC + 1] = DB_INT(s->default_quota_bytes);
		args[i * PC + 2] =
		    DB_TEXT(s->created != NULL ? s->created : now);
	}
	if (db_insert_rows(m->db,
		"INSERT INTO postino_domain (domain, default_quota, "
		"domain_created)",
		PC, args, n, err) == -1 ||
	    model_audit_many(m, n, names, "create_domain", names, err) == -1 ||
	    model_audit_many(m, noff, off, "edit_domain",
		(const char *const *)offdata, err) == -1)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < noff; i++)
		free(offdata[i]);
	free(offdata);
	free(off);
	free(names);
	free(args);
	free(exists);
	free(sorted);
	free(c);
	return rc;
}

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	size_t failed;

	if (domain_add_many(m, c->spec, 1, &failed, err) == -1)
		return -1;
	return fetch(m, c->name, false, c->out, err) == 1 ? 0 : -1;
}

int
domain_add(struct model *m, const struct domain_spec *s, struct domain_rec *out,
    struct err *err)
{
	struct add_ctx c;

	memset(&c, 0, sizeof(c));
	c.spec = s;
	c.out = out;
	if (spec_check(m, s, &c, err) == -1)
		return -1;
	return model_tx(m, add_tx, &c, err);
}

struct update_ctx {
	struct add_ctx a;
	bool active;
};

static int
update_tx(struct model *m, void *arg, struct err *err)
{
	struct update_ctx *u = arg;
	const struct domain_spec *s = u->a.spec;
	struct domain_rec cur;
	char now[32];
	struct db_arg a[] = { DB_TEXT(
				  s->description != NULL ? s->description : ""),
		DB_INT(s->aliases), DB_INT(s->mailboxes),
		DB_INT(domain_units_from_bytes(m, s->maxquota_bytes)),
		DB_INT(domain_units_from_bytes(m, s->quota_bytes)),
		DB_TEXT(u->a.transport), DB_BOOL(s->backupmx),
		DB_BOOL(u->active), DB_TEXT(db_now(now, sizeof(now))),
		DB_TEXT(u->a.name) };
	struct db_arg p[] = { DB_TEXT(u->a.name) };
	struct db_arg pi[] = { DB_INT(s->default_quota_bytes),
		DB_TEXT(u->a.name) };

	if (fetch(m, u->a.name, true, &cur, err) != 1)
		return -1;
	if (db_exec(m->db,
		"UPDATE domain SET description = ?, aliases = ?, "
		"mailboxes = ?, maxquota = ?, quota = ?, transport = ?, "
		"backupmx = ?, active = ?, modified = ? WHERE domain = ?",
		a, DB_NARGS(a), err) == -1)
		return -1;
	if (db_exec(m->db, "DELETE FROM postino_domain WHERE domain = ?", p, 1,
		err) == -1 ||
	    db_exec(m->db,
		"INSERT INTO postino_domain (domain, default_quota, "
		"domain_created) SELECT domain, ?, created FROM domain "
		"WHERE domain = ?",
		pi, DB_NARGS(pi), err) == -1)
		return -1;
	if (model_audit(m, u->a.name, "edit_domain", u->a.name, err) == -1)
		return -1;
	return u->a.out != NULL
	    ? (fetch(m, u->a.name, false, u->a.out, err) == 1 ? 0 : -1)
	    : 0;
}

int
domain_update(struct model *m, const struct domain_spec *s, bool active,
    struct domain_rec *out, struct err *err)
{
	struct update_ctx u;

	memset(&u, 0, sizeof(u));
	u.a.spec = s;
	u.a.out = out;
	u.active = active;
	if (spec_check(m, s, &u.a, err) == -1)
		return -1;
	return model_tx(m, update_tx, &u, err);
}

struct status_ctx {
	char name[ADDR_MAX];
	bool active;
};

static int
status_tx(struct model *m, void *arg, struct err *err)
{
	struct status_ctx *c = arg;
	char now[32], data[ADDR_MAX + 16];
	struct db_arg a[] = { DB_BOOL(c->active),
		DB_TEXT(db_now(now, sizeof(now))), DB_TEXT(c->name) };
	int64_t n;

	n = db_exec(m->db,
	    "UPDATE domain SET active = ?, modified = ? "
	    "WHERE domain = ? AND domain <> 'ALL'",
	    a, DB_NARGS(a), err);
	if (n == -1)
		return -1;
	if (n == 0)
		return err_set(
		    err, ERR_NOTFOUND, "domain '%s' does not exist", c->name);
	snprintf(data, sizeof(data), "%s=%s", c->name,
	    c->active ? "ACTIVE" : "DISABLED");
	return model_audit(m, c->name, "edit_domain", data, err);
}

int
domain_set_active(
    struct model *m, const char *name, bool active, struct err *err)
{
	struct status_ctx c;

	if (addr_domain("domain", name, c.name, err) == -1)
		return -1;
	c.active = active;
	return model_tx(m, status_tx, &c, err);
}

struct del_ctx {
	char name[ADDR_MAX];
	bool force;
	bool keep_maildir;
	char *grave;
};

static int
count(struct model *m, const char *sql, const char *name, int64_t *n,
    struct err *err)
{
	struct db_arg a[] = { DB_TEXT(name), DB_TEXT(name) };
	size_t nargs = strstr(sql, "OR") != NULL ? 2 : 1;

	return db_query_int(m->db, sql, a, nargs, n, err) == -1 ? -1 : 0;
}

static int
del_tx(struct model *m, void *arg, struct err *err)
{
	static const char *const cascade[] = {
		"DELETE FROM alias_domain WHERE alias_domain = ? OR "
		"target_domain = ?",
		"DELETE FROM alias WHERE domain = ?",
		"DELETE FROM quota2 WHERE username IN "
		"(SELECT username FROM mailbox WHERE domain = ?)",
		"DELETE FROM vacation_notification WHERE on_vacation IN "
		"(SELECT email FROM vacation WHERE domain = ?)",
		"DELETE FROM vacation WHERE domain = ?",
		"DELETE FROM postino_identity WHERE username IN "
		"(SELECT username FROM mailbox WHERE domain = ?)",
		"DELETE FROM mailbox WHERE domain = ?",
		"DELETE FROM domain_admins WHERE domain = ?",
		"DELETE FROM fetchmail WHERE domain = ?",
		"DELETE FROM routes WHERE domain = ?",
		"DELETE FROM postino_domain WHERE domain = ?",
		"DELETE FROM domain WHERE domain = ?", NULL
	};
	struct del_ctx *c = arg;
	struct domain_rec d;
	int64_t mb, al, ad, adm, rt;
	char data[ADDR_MAX + 64];
	int rc;

	rc = fetch(m, c->name, true, &d, err);
	if (rc != 1)
		return -1;
	if (count(m, "SELECT COUNT(*) FROM mailbox WHERE domain = ?", c->name,
		&mb, err) == -1 ||
	    count(m,
		"SELECT COUNT(*) FROM alias WHERE domain = ? AND address "
		"NOT IN (SELECT username FROM mailbox)",
		c->name, &al, err) == -1 ||
	    count(m,
		"SELECT COUNT(*) FROM alias_domain WHERE alias_domain = ? "
		"OR target_domain = ?",
		c->name, &ad, err) == -1 ||
	    count(m, "SELECT COUNT(*) FROM domain_admins WHERE domain = ?",
		c->name, &adm, err) == -1 ||
	    count(m, "SELECT COUNT(*) FROM routes WHERE domain = ?", c->name,
		&rt, err) == -1)
		return -1;
	if (!c->force && (mb || al || ad || adm || rt)) {
		err_set(err, ERR_CAPACITY,
		    "domain '%s' is not empty: %lld mailboxes, %lld aliases, %lld alias domains, %lld admins, %lld list routes",
		    c->name, (long long)mb, (long long)al, (long long)ad,
		    (long long)adm, (long long)rt);
		return err_hint(err,
		    "remove them first, or pass --force to delete the domain with everything in it");
	}
	for (size_t i = 0; cascade[i] != NULL; i++) {
		struct db_arg a[] = { DB_TEXT(c->name), DB_TEXT(c->name) };
		size_t n = strstr(cascade[i], " OR ") != NULL ? 2 : 1;

		if (db_exec(m->db, cascade[i], a, n, err) == -1)
			return -1;
	}
	snprintf(data, sizeof(data), "%s force=%s keep_maildir=%s", c->name,
	    c->force ? "true" : "false", c->keep_maildir ? "true" : "false");
	if (model_audit(m, c->name, "delete_domain", data, err) == -1)
		return -1;
	if (!c->keep_maildir) {
		free(c->grave);
		c->grave = NULL;
		if (maildir_stage(m->conf->virtual_mailbox_base, c->name,
			&c->grave, err) == -1)
			return -1;
	}
	return 0;
}

int
domain_del(struct model *m, const char *name, bool force, bool keep_maildir,
    struct err *err)
{
	struct del_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (addr_domain("domain", name, c.name, err) == -1)
		return -1;
	c.force = force;
	c.keep_maildir = keep_maildir;
	rc = model_tx(m, del_tx, &c, err);
	if (rc == 0 && c.grave != NULL && m->defer != NULL) {
		model_defer_grave(m->defer, c.grave, c.name);
	} else if (rc == -1 && c.grave != NULL) {
		struct err e2;

		/* The transaction rolled back: put the maildirs back. */
		(void)maildir_unstage(
		    m->conf->virtual_mailbox_base, c.grave, c.name, &e2);
	} else if (rc == 0 && c.grave != NULL) {
		struct err e2;

		if (maildir_purge(
			m->conf->virtual_mailbox_base, c.grave, &e2) == -1)
			model_notifyf(m,
			    "domain deleted, but its maildirs could not be removed: %s ('postino check --deep' reports the leftover)",
			    e2.msg);
	}
	free(c.grave);
	return rc;
}

/* --- alias domains -------------------------------------------------- */

#define AD_COLS "alias_domain, target_domain, active, created, modified"

static void
row_to_ad(struct db_res *r, struct alias_domain_rec *a)
{
	memset(a, 0, sizeof(*a));
	copy_str(a->alias_domain, sizeof(a->alias_domain), db_col(r, 0));
	copy_str(a->target_domain, sizeof(a->target_domain), db_col(r, 1));
	a->active = model_bool(db_col(r, 2));
	copy_str(a->created, sizeof(a->created), db_col(r, 3));
	copy_str(a->modified, sizeof(a->modified), db_col(r, 4));
}

static int
ad_fetch(struct model *m, const char *alias, bool lock,
    struct alias_domain_rec *out, struct err *err)
{
	char sql[256];
	struct db_arg a[] = { DB_TEXT(alias) };
	struct db_res *r;
	int rc;

	snprintf(sql, sizeof(sql),
	    "SELECT " AD_COLS " FROM alias_domain "
	    "WHERE alias_domain = ?%s",
	    lock ? db_for_update(m->db) : "");
	if (db_query(m->db, sql, a, DB_NARGS(a), 0, &r, err) == -1)
		return -1;
	rc = db_next(r, err);
	if (rc == 1)
		row_to_ad(r, out);
	db_res_free(&r);
	if (rc == 0)
		err_set(err, ERR_NOTFOUND, "alias domain '%s' does not exist",
		    alias);
	return rc;
}

int
alias_domain_get(struct model *m, const char *alias,
    struct alias_domain_rec *out, struct err *err)
{
	char norm[ADDR_MAX];

	if (addr_domain("alias domain", alias, norm, err) == -1)
		return -1;
	return ad_fetch(m, norm, false, out, err);
}

int
alias_domain_foreach(struct model *m, const char *target, bool include_disabled,
    alias_domain_each_fn *fn, void *arg, struct err *err)
{
	char sql[256], norm[ADDR_MAX];
	struct db_arg a[2];
	size_t n = 0;
	struct db_res *r;
	struct alias_domain_rec rec;
	int rc;

	snprintf(sql, sizeof(sql),
	    "SELECT " AD_COLS " FROM alias_domain "
	    "WHERE 1 = 1%s%s ORDER BY alias_domain",
	    target != NULL ? " AND target_domain = ?" : "",
	    include_disabled ? "" : " AND active = ?");
	if (target != NULL) {
		if (addr_domain("target domain", target, norm, err) == -1)
			return -1;
		a[n++] = DB_TEXT(norm);
	}
	if (!include_disabled)
		a[n++] = DB_BOOL(1);
	if (db_query(m->db, sql, a, n, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		row_to_ad(r, &rec);
		if (fn(arg, &rec) == -1) {
			rc = -1;
			err_set(err, ERR_INTERNAL, "stopped");
			break;
		}
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

struct ad_ctx {
	char alias[ADDR_MAX];
	char target[ADDR_MAX];
	struct alias_domain_rec *out;
	bool retarget;
};

/* What the alias-domain rules need to know of a name. */
struct ad_st {
	const char *name;
	int found;	       /* a domain of that name exists (locked) */
	bool is_alias;	       /* an alias domain of that name exists */
	char target[ADDR_MAX]; /* ... and its target */
	int64_t pointed;       /* alias domains that target the name */
};

/*
 * The rules on an alias domain alias -> target (add, or retarget of an
 * existing one), in one copy: it is new (add), not itself, both ends
 * exist as domains, and no chain either way.
 */
static int
ad_rule(const char *alias, const char *target, const struct ad_st *a,
    const struct ad_st *t, bool retarget, struct err *err)
{
	if (!retarget && a->is_alias)
		return err_set(err, ERR_EXISTS,
		    "alias domain '%s' already exists (target '%s')", alias,
		    a->target);
	if (strcmp(alias, target) == 0)
		return err_set(err, ERR_RULE,
		    "domain '%s' cannot be an alias of itself", alias);
	if (a->found != 1) {
		err_set(err, ERR_NOTFOUND, "domain '%s' does not exist", alias);
		return err_hint(err,
		    "alias domains must exist as domains first: 'postino domain add %s'",
		    alias);
	}
	if (t->found != 1) {
		err_set(
		    err, ERR_NOTFOUND, "domain '%s' does not exist", target);
		return err_hint(err,
		    "the target must exist: 'postino domain add %s'", target);
	}
	/* The target must not itself be an alias of something (a chain). */
	if (t->is_alias)
		return err_set(err, ERR_RULE,
		    "'%s' is itself an alias domain; alias domains cannot be chained",
		    target);
	/* Nothing may already point at the new alias (chain the other way). */
	if (a->pointed > 0)
		return err_set(err, ERR_RULE,
		    "'%s' is the target of another alias domain; alias domains cannot be chained",
		    alias);
	return 0;
}

static int
ad_st_cmp(const void *a, const void *b)
{
	return strcasecmp(
	    ((const struct ad_st *)a)->name, ((const struct ad_st *)b)->name);
}

/* The entry of name in the sorted st[lo..hi), or NULL. */
static struct ad_st *
ad_st_find(struct ad_st *st, size_t lo, size_t hi, const char *name)
{
	while (name != NULL && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(st[mid].name, name);

		if (c == 0)
			return &st[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Fill st[0..n) (distinct names, sorted here) set-wise: lock the domains,
 * and read (locking) the alias domains from or to any of the names.
 */
static int
ad_read(struct model *m, struct ad_st *st, size_t n, struct err *err)
{
	const char **names = xcalloc(n, sizeof(*names));
	struct domain_rec *recs = xcalloc(n, sizeof(*recs));
	int *found = xcalloc(n, sizeof(*found));
	struct db_arg *args = xcalloc(
	    2 * (n < DOMAIN_LOCK_CHUNK ? n : DOMAIN_LOCK_CHUNK), sizeof(*args));
	int rc = -1;

	qsort(st, n, sizeof(*st), ad_st_cmp);
	for (size_t i = 0; i < n; i++)
		names[i] = st[i].name;
	if (domain_lock_many(m, names, n, recs, found, err) == -1)
		goto out;
	for (size_t i = 0; i < n; i++)
		st[i].found = found[i];
	for (size_t i = 0; i < n; i += DOMAIN_LOCK_CHUNK) {
		size_t k =
		    n - i < DOMAIN_LOCK_CHUNK ? n - i : DOMAIN_LOCK_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = args[k + j] = DB_TEXT(st[i + j].name);
		q = xasprintf("SELECT alias_domain, target_domain FROM "
			      "alias_domain WHERE alias_domain IN (%s) OR "
			      "target_domain IN (%s)%s",
		    in, in, db_for_update(m->db));
		free(in);
		nx = db_query(m->db, q, args, 2 * k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1) {
			/* Each side counted in the chunk that names it. */
			struct ad_st *a =
			    ad_st_find(st, i, i + k, db_col(r, 0));
			struct ad_st *t =
			    ad_st_find(st, i, i + k, db_col(r, 1));

			if (a != NULL) {
				a->is_alias = true;
				str_copy(a->target,
				    db_col(r, 1) != NULL ? db_col(r, 1) : "",
				    sizeof(a->target));
			}
			if (t != NULL &&
			    (db_col(r, 0) == NULL ||
				strcasecmp(db_col(r, 0), t->name) != 0))
				t->pointed++;
		}
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}
	rc = 0;
out:
	free(names);
	free(recs);
	free(found);
	free(args);
	return rc;
}

/* Rules shared by add and retarget, for one alias domain. */
static int
ad_rules(struct model *m, struct ad_ctx *c, struct err *err)
{
	struct ad_st st[2];
	const struct ad_st *a, *t;
	size_t n = strcmp(c->alias, c->target) == 0 ? 1 : 2;

	memset(st, 0, sizeof(st));
	st[0].name = c->alias;
	st[1].name = c->target;
	if (ad_read(m, st, n, err) == -1)
		return -1;
	a = ad_st_find(st, 0, n, c->alias);
	t = ad_st_find(st, 0, n, c->target);
	return ad_rule(c->alias, c->target, a, t, c->retarget, err);
}

struct ad_row {
	char alias[ADDR_MAX];
	char target[ADDR_MAX];
	struct ad_st *a, *t;
	char *data;
};

int
alias_domain_add_many(struct model *m, const struct alias_domain_spec *specs,
    size_t n, size_t *failed_r, struct err *err)
{
	enum { AC = 5 };
	struct ad_row *rows;
	struct ad_st *st;
	struct db_arg *args = NULL;
	const char **dom = NULL, **data = NULL, **off = NULL;
	char **offdata = NULL;
	size_t ns = 0, noff = 0;
	char now[32];
	int rc = -1;

	*failed_r = n;
	if (!m->db->in_tx)
		return err_set(err, ERR_INTERNAL,
		    "alias_domain_add_many needs the caller's transaction");
	if (n == 0)
		return 0;
	rows = xcalloc(n, sizeof(*rows));
	st = xcalloc(2 * n, sizeof(*st));
	/* 1. The arguments (no database). */
	for (size_t i = 0; i < n; i++) {
		if (addr_domain("alias domain", specs[i].alias, rows[i].alias,
			err) == -1 ||
		    addr_domain("target domain", specs[i].target,
			rows[i].target, err) == -1) {
			*failed_r = i;
			goto out;
		}
		st[ns++].name = rows[i].alias;
		st[ns++].name = rows[i].target;
	}
	/* 2. What holds the names, one entry per name. */
	qsort(st, ns, sizeof(*st), ad_st_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < ns; i++)
			if (k == 0 ||
			    strcasecmp(st[k - 1].name, st[i].name) != 0)
				st[k++] = st[i];
		ns = k;
	}
	if (ad_read(m, st, ns, err) == -1)
		goto out;
	/* 3. The rules, row by row, each row seeing the rows before it. */
	for (size_t i = 0; i < n; i++) {
		struct ad_row *r = &rows[i];

		*failed_r = i;
		r->a = ad_st_find(st, 0, ns, r->alias);
		r->t = ad_st_find(st, 0, ns, r->target);
		if (ad_rule(r->alias, r->target, r->a, r->t, false, err) == -1)
			goto out;
		r->a->is_alias = true;
		str_copy(r->a->target, r->target, sizeof(r->a->target));
		r->t->pointed++;
	}
	*failed_r = n;
	/* 4. The rows and the audit rows. */
	db_now(now, sizeof(now));
	args = xcalloc(n * AC, sizeof(*args));
	dom = xcalloc(n, sizeof(*dom));
	data = xcalloc(n, sizeof(*data));
	off = xcalloc(n, sizeof(*off));
	offdata = xcalloc(n, sizeof(*offdata));
	for (size_t i = 0; i < n; i++) {
		const struct alias_domain_spec *s = &specs[i];

		args[i * AC] = DB_TEXT(rows[i].alias);
		args[i * AC + 1] = DB_TEXT(rows[i].target);
		args[i * AC + 2] = DB_TEXT(s->created ? s->created : now);
		args[i * AC + 3] = DB_TEXT(s->modified ? s->modified : now);
		args[i * AC + 4] = DB_BOOL(!s->disabled);
		rows[i].data =
		    xasprintf("%s->%s", rows[i].alias, rows[i].target);
		dom[i] = rows[i].alias;
		data[i] = rows[i].data;
		if (s->disabled) {
			off[noff] = rows[i].alias;
			offdata[noff++] =
			    xasprintf("%s=DISABLED", rows[i].alias);
		}
	}
	if (db_insert_rows(m->db,
		"INSERT INTO alias_domain (alias_domain, target_domain, "
		"created, modified, active)",
		AC, args, n, err) == -1) {
		if (n == 1 && err->kind == ERR_EXISTS) {
			err_set(err, ERR_EXISTS,
			    "alias domain '%s' already exists", rows[0].alias);
			*failed_r = 0;
		}
		goto out;
	}
	if (model_audit_many(m, n, dom, "create_alias_domain", data, err) ==
		-1 ||
	    model_audit_many(m, noff, off, "edit_alias_domain_state",
		(const char *const *)offdata, err) == -1)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(rows[i].data);
	for (size_t i = 0; i < noff; i++)
		free(offdata[i]);
	free(offdata);
	free(off);
	free(dom);
	free(data);
	free(args);
	free(rows);
	free(st);
	return rc;
}

static int
ad_add_tx(struct model *m, void *arg, struct err *err)
{
	struct ad_ctx *c = arg;
	struct alias_domain_spec one;
	size_t failed;

	memset(&one, 0, sizeof(one));
	one.alias = c->alias;
	one.target = c->target;
	if (alias_domain_add_many(m, &one, 1, &failed, err) == -1)
		return -1;
	return ad_fetch(m, c->alias, false, c->out, err) == 1 ? 0 : -1;
}

int
alias_domain_add(struct model *m, const char *alias, const char *target,
    struct alias_domain_rec *out, struct err *err)
{
	struct ad_ctx c;

	memset(&c, 0, sizeof(c));
	if (addr_domain("alias domain", alias, c.alias, err) == -1 ||
	    addr_domain("target domain", target, c.target, err) == -1)
		return -1;
	c.out = out;
	return model_tx(m, ad_add_tx, &c, err);
}

static int
ad_retarget_tx(struct model *m, void *arg, struct err *err)
{
	struct ad_ctx *c = arg;
	struct alias_domain_rec cur;
	char now[32], data[2 * ADDR_MAX + 4];
	struct db_arg a[] = { DB_TEXT(c->target),
		DB_TEXT(db_now(now, sizeof(now))), DB_TEXT(c->alias) };

	if (ad_fetch(m, c->alias, true, &cur, err) != 1)
		return -1;
	/*
	 * Re-check every rule, including "nothing targets the alias": the
	 * original tool skipped that one on retarget.
	 */
	if (ad_rules(m, c, err) == -1)
		return -1;
	if (db_exec(m->db,
		"UPDATE alias_domain SET target_domain = ?, "
		"modified = ? WHERE alias_domain = ?",
		a, DB_NARGS(a), err) == -1)
		return -1;
	snprintf(data, sizeof(data), "%s->%s", c->alias, c->target);
	if (model_audit(m, c->alias, "edit_alias_domain", data, err) == -1)
		return -1;
	return ad_fetch(m, c->alias, false, c->out, err) == 1 ? 0 : -1;
}

int
alias_domain_retarget(struct model *m, const char *alias, const char *target,
    struct alias_domain_rec *out, struct err *err)
{
	struct ad_ctx c;

	memset(&c, 0, sizeof(c));
	if (addr_domain("alias domain", alias, c.alias, err) == -1 ||
	    addr_domain("target domain", target, c.target, err) == -1)
		return -1;
	c.out = out;
	c.retarget = true;
	return model_tx(m, ad_retarget_tx, &c, err);
}

struct ad_simple {
	char alias[ADDR_MAX];
	int op; /* 0 disable, 1 enable, 2 delete */
};

static int
ad_simple_tx(struct model *m, void *arg, struct err *err)
{
	struct ad_simple *c = arg;
	struct alias_domain_rec cur;
	char now[32], data[ADDR_MAX + 16];
	struct db_arg upd[] = { DB_BOOL(c->op == 1),
		DB_TEXT(db_now(now, sizeof(now))), DB_TEXT(c->alias) };
	struct db_arg del[] = { DB_TEXT(c->alias) };

	if (ad_fetch(m, c->alias, true, &cur, err) != 1)
		return -1;
	if (c->op == 2) {
		if (db_exec(m->db,
			"DELETE FROM alias_domain WHERE "
			"alias_domain = ?",
			del, 1, err) == -1)
			return -1;
		return model_audit(
		    m, c->alias, "delete_alias_domain", c->alias, err);
	}
	if (db_exec(m->db,
		"UPDATE alias_domain SET active = ?, modified = ? "
		"WHERE alias_domain = ?",
		upd, DB_NARGS(upd), err) == -1)
		return -1;
	snprintf(data, sizeof(data), "%s=%s", c->alias,
	    c->op == 1 ? "ACTIVE" : "DISABLED");
	return model_audit(m, c->alias, "edit_alias_domain_state", data, err);
}

int
alias_domain_set_active(
    struct model *m, const char *alias, bool active, struct err *err)
{
	struct ad_simple c;

	if (addr_domain("alias domain", alias, c.alias, err) == -1)
		return -1;
	c.op = active ? 1 : 0;
	return model_tx(m, ad_simple_tx, &c, err);
}

int
alias_domain_del(struct model *m, const char *alias, struct err *err)
{
	struct ad_simple c;

	if (addr_domain("alias domain", alias, c.alias, err) == -1)
		return -1;
	c.op = 2;
	return model_tx(m, ad_simple_tx, &c, err);
}
