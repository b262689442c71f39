#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		err_hint(
		    err, "add it first with 'postino domain add %s'", name);
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

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	const struct domain_spec *s = c->spec;
	char now[32];
	struct db_arg a[] = { DB_TEXT(c->name),
		DB_TEXT(s->description != NULL ? s->description : ""),
		DB_INT(s->aliases), DB_INT(s->mailboxes),
		DB_INT(domain_units_from_bytes(m, s->maxquota_bytes)),
		DB_INT(domain_units_from_bytes(m, s->quota_bytes)),
		DB_TEXT(c->transport), DB_BOOL(s->backupmx),
		DB_TEXT(db_now(now, sizeof(now))), DB_TEXT(now), DB_BOOL(1) };
	struct db_arg p[] = { DB_TEXT(c->name) };
	struct db_arg pi[] = { DB_INT(s->default_quota_bytes),
		DB_TEXT(c->name) };

	if (db_exec(m->db,
		"INSERT INTO domain (domain, description, aliases, "
		"mailboxes, maxquota, quota, transport, backupmx, created, "
		"modified, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a, DB_NARGS(a), err) == -1) {
		if (err->kind == ERR_EXISTS)
			err_set(err, ERR_EXISTS, "domain '%s' already exists",
			    c->name);
		return -1;
	}
	if (db_exec(m->db, "DELETE FROM postino_domain WHERE domain = ?", p, 1,
		err) == -1 ||
	    db_exec(m->db,
		"INSERT INTO postino_domain (domain, default_quota, "
		"domain_created) SELECT domain, ?, created FROM domain "
		"WHERE domain = ?",
		pi, DB_NARGS(pi), err) == -1)
		return -1;
	if (model_audit(m, c->name, "create_domain", c->name, err) == -1)
		return -1;
	return fetch(m, c->name, false, c->out, err) == 1 ? 0 : -1;
}

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

/* Run a locking SELECT and count its rows (aggregates cannot lock). */
static int
count_n(struct model *m, const char *sql, const struct db_arg *a, size_t na,
    int64_t *n, struct err *err)
{
	struct db_res *r;
	int rc;

	*n = 0;
	if (db_query(m->db, sql, a, na, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1)
		(*n)++;
	db_res_free(&r);
	return rc;
}

static int
count_rows(struct model *m, const char *sql, const struct db_arg *a, int64_t *n,
    struct err *err)
{
	return count_n(m, sql, a, 1, n, err);
}

static int
count_rows2(struct model *m, const char *sql, const struct db_arg *a,
    int64_t *n, struct err *err)
{
	return count_n(m, sql, a, 2, n, err);
}

/* Rules shared by add and retarget: both ends exist, no chains. */
static int
ad_rules(struct model *m, struct ad_ctx *c, struct err *err)
{
	struct domain_rec d;
	char sql[256];
	int64_t n;
	struct db_arg a[] = { DB_TEXT(c->target) };
	struct db_arg b[] = { DB_TEXT(c->alias), DB_TEXT(c->alias) };

	if (strcmp(c->alias, c->target) == 0)
		return err_set(err, ERR_RULE,
		    "domain '%s' cannot be an alias of itself", c->alias);
	if (fetch(m, c->alias, true, &d, err) != 1) {
		if (err->kind == ERR_NOTFOUND)
			err_hint(err,
			    "alias domains must exist as domains first: 'postino domain add %s'",
			    c->alias);
		return -1;
	}
	if (fetch(m, c->target, true, &d, err) != 1) {
		if (err->kind == ERR_NOTFOUND)
			err_hint(err,
			    "the target must exist: 'postino domain add %s'",
			    c->target);
		return -1;
	}
	/* The target must not itself be an alias of something (a chain). */
	snprintf(sql, sizeof(sql),
	    "SELECT alias_domain FROM alias_domain "
	    "WHERE alias_domain = ?%s",
	    db_for_update(m->db));
	if (count_rows(m, sql, a, &n, err) == -1)
		return -1;
	if (n > 0)
		return err_set(err, ERR_RULE,
		    "'%s' is itself an alias domain; alias domains cannot be chained",
		    c->target);
	/* Nothing may already point at the new alias (chain the other way). */
	snprintf(sql, sizeof(sql),
	    "SELECT alias_domain FROM alias_domain "
	    "WHERE target_domain = ? AND alias_domain <> ?%s",
	    db_for_update(m->db));
	if (count_rows2(m, sql, b, &n, err) == -1)
		return -1;
	if (n > 0)
		return err_set(err, ERR_RULE,
		    "'%s' is the target of another alias domain; alias domains cannot be chained",
		    c->alias);
	return 0;
}

static int
ad_add_tx(struct model *m, void *arg, struct err *err)
{
	struct ad_ctx *c = arg;
	struct alias_domain_rec cur;
	char now[32], data[2 * ADDR_MAX + 4];
	struct db_arg a[] = { DB_TEXT(c->alias), DB_TEXT(c->target),
		DB_TEXT(db_now(now, sizeof(now))), DB_TEXT(now), DB_BOOL(1) };
	int r;

	r = ad_fetch(m, c->alias, true, &cur, err);
	if (r == -1)
		return -1;
	if (r == 1)
		return err_set(err, ERR_EXISTS,
		    "alias domain '%s' already exists (target '%s')", c->alias,
		    cur.target_domain);
	err_clear(err);
	if (ad_rules(m, c, err) == -1)
		return -1;
	if (db_exec(m->db,
		"INSERT INTO alias_domain (alias_domain, "
		"target_domain, created, modified, active) VALUES (?, ?, ?, ?, "
		"?)",
		a, DB_NARGS(a), err) == -1) {
		if (err->kind == ERR_EXISTS)
			err_set(err, ERR_EXISTS,
			    "alias domain '%s' already exists", c->alias);
		return -1;
	}
	snprintf(data, sizeof(data), "%s->%s", c->alias, c->target);
	if (model_audit(m, c->alias, "create_alias_domain", data, err) == -1)
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
