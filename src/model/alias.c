#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "domain.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

int domain_lock(
    struct model *, const char *name, struct domain_rec *, struct err *);

#define AL_COLS                                                                \
	"a.address, a.goto, a.domain, a.active, a.created, "                   \
	"a.modified, CASE WHEN m.username IS NULL THEN 0 ELSE 1 END"
#define AL_FROM " FROM alias a LEFT JOIN mailbox m ON m.username = a.address"

static void
copy_str(char *dst, size_t size, const char *v)
{
	str_copy(dst, v != NULL ? v : "", size);
}

void
alias_rec_release(struct alias_rec *a)
{
	free(a->goto_list);
	a->goto_list = NULL;
}

static void
row_to_alias(struct db_res *r, struct alias_rec *a)
{
	free(a->goto_list);
	memset(a, 0, sizeof(*a));
	copy_str(a->address, sizeof(a->address), db_col(r, 0));
	a->goto_list = xstrdup(db_col(r, 1) != NULL ? db_col(r, 1) : "");
	copy_str(a->domain, sizeof(a->domain), db_col(r, 2));
	a->active = model_bool(db_col(r, 3));
	copy_str(a->created, sizeof(a->created), db_col(r, 4));
	copy_str(a->modified, sizeof(a->modified), db_col(r, 5));
	a->mailbox = db_col_int(r, 6, 0) == 1;
}

static int
fetch(struct model *m, const char *address, bool lock, struct alias_rec *a,
    struct err *err)
{
	char sql[384];
	struct db_arg args[] = { DB_TEXT(address) };
	struct db_res *r;
	int rc;

	/* Row locks only on the alias table (the outer side). */
	if (lock)
		snprintf(sql, sizeof(sql),
		    "SELECT a.address, a.goto, a.domain,"
		    " a.active, a.created, a.modified, 0 FROM alias a "
		    "WHERE a.address = ?%s",
		    db_for_update(m->db));
	else
		snprintf(sql, sizeof(sql),
		    "SELECT " AL_COLS AL_FROM " WHERE a.address = ?");
	if (db_query(m->db, sql, args, 1, 0, &r, err) == -1)
		return -1;
	rc = db_next(r, err);
	if (rc == 1)
		row_to_alias(r, a);
	db_res_free(&r);
	if (rc == 0)
		err_set(
		    err, ERR_NOTFOUND, "alias '%s' does not exist", address);
	return rc;
}

int
alias_get(
    struct model *m, const char *address, struct alias_rec *a, struct err *err)
{
	char norm[ADDR_MAX];

	memset(a, 0, sizeof(*a));
	if (addr_alias("alias", address, norm, NULL, NULL, err) == -1)
		return -1;
	return fetch(m, norm, false, a, err);
}

int
alias_foreach(struct model *m, const char *domain, bool mailboxes, bool stream,
    alias_each_fn *fn, void *arg, struct err *err)
{
	char sql[512], norm[ADDR_MAX];
	struct db_arg a[1];
	size_t n = 0;
	struct db_res *r;
	struct alias_rec rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	snprintf(sql, sizeof(sql),
	    "SELECT " AL_COLS AL_FROM " WHERE 1 = 1%s%s"
	    " ORDER BY a.address",
	    domain != NULL ? " AND a.domain = ?" : "",
	    mailboxes ? ""
		      : " AND (m.username IS NULL OR a.goto <> a.address)");
	if (domain != NULL) {
		if (addr_domain("domain", domain, norm, err) == -1)
			return -1;
		a[n++] = DB_TEXT(norm);
	}
	if (db_query(m->db, sql, a, n, stream ? DB_STREAM : 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		row_to_alias(r, &rec);
		if (fn(arg, &rec) == -1) {
			rc = -1;
			err_set(err, ERR_INTERNAL, "stopped");
			break;
		}
	}
	alias_rec_release(&rec);
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

struct add_ctx {
	char address[ADDR_MAX];
	char domain[ADDR_MAX];
	char gotos[GOTO_MAX];
	bool edit;
	struct alias_rec *out;
};

/* Keep PostfixAdmin vacation entries of old in the new list. */
static void
keep_vacation(const struct model *m, const char *old, char *gotos, size_t size)
{
	const char *vd = m->conf->vacation_domain, *p = old;
	size_t vl = strlen(vd);

	while (vl > 0 && *p != '\0') {
		size_t n = strcspn(p, ",");
		const char *at = memchr(p, '@', n);

		if (at != NULL && memchr(p, '#', (size_t)(at - p)) != NULL &&
		    (size_t)(p + n - at - 1) == vl &&
		    strncmp(at + 1, vd, vl) == 0) {
			size_t len = strlen(gotos);

			if (len + n + 2 < size) {
				gotos[len] = ',';
				memcpy(gotos + len + 1, p, n);
				gotos[len + 1 + n] = '\0';
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	struct domain_rec d;
	char now[32], data[ADDR_MAX + GOTO_MAX + 4];
	struct alias_rec cur;
	int r;

	if (!c->edit) {
		/* The rules of a new alias, in one copy (alias_many.c). */
		struct alias_spec one = { c->address, c->gotos, true, NULL,
			NULL };
		size_t failed;

		if (alias_add_many(m, &one, 1, &failed, err) == -1)
			return -1;
		return fetch(m, c->address, false, c->out, err) == 1 ? 0 : -1;
	}
	memset(&cur, 0, sizeof(cur));
	if (domain_lock(m, c->domain, &d, err) != 1)
		return -1;
	r = fetch(m, c->address, true, &cur, err);
	if (r == -1)
		return -1;
	db_now(now, sizeof(now));
	{
		struct db_arg a[] = { DB_TEXT(c->gotos), DB_TEXT(now),
			DB_TEXT(c->address) };

		if (r == 0)
			return -1;
		keep_vacation(m, cur.goto_list, c->gotos, sizeof(c->gotos));
		alias_rec_release(&cur);
		if (db_exec(m->db,
			"UPDATE alias SET goto = ?, modified = ? "
			"WHERE address = ?",
			a, DB_NARGS(a), err) == -1)
			return -1;
		snprintf(data, sizeof(data), "%s->%s", c->address, c->gotos);
		if (model_audit(m, c->domain, "edit_alias", data, err) == -1)
			return -1;
	}
	return fetch(m, c->address, false, c->out, err) == 1 ? 0 : -1;
}

static int
add_or_edit(struct model *m, const char *address, const char *gotos, bool edit,
    struct alias_rec *out, struct err *err)
{
	struct add_ctx *c = xcalloc(1, sizeof(*c));
	int rc = -1;

	memset(out, 0, sizeof(*out));
	c->edit = edit;
	c->out = out;
	if (addr_alias("alias", address, c->address, c->domain, NULL, err) ==
		-1 ||
	    addr_goto("destination", gotos, c->gotos, sizeof(c->gotos) / 2,
		err) == -1)
		goto out;
	rc = model_tx(m, add_tx, c, err);
out:
	free(c);
	return rc;
}

int
alias_add(struct model *m, const char *address, const char *gotos,
    struct alias_rec *out, struct err *err)
{
	return add_or_edit(m, address, gotos, false, out, err);
}

int
alias_edit(struct model *m, const char *address, const char *gotos,
    struct alias_rec *out, struct err *err)
{
	return add_or_edit(m, address, gotos, true, out, err);
}

struct simple_ctx {
	char address[ADDR_MAX];
	int op; /* 0 disable, 1 enable, 2 delete */
};

static int
simple_tx(struct model *m, void *arg, struct err *err)
{
	struct simple_ctx *c = arg;
	struct alias_rec cur;
	char now[32], data[ADDR_MAX + 16];
	struct db_arg a[] = { DB_TEXT(c->address) };
	int64_t n;

	memset(&cur, 0, sizeof(cur));
	if (fetch(m, c->address, true, &cur, err) != 1)
		return -1;
	if (c->op == 2) {
		/*
		 * A mailbox's alias row goes with the mailbox: deleting "the
		 * alias" of a mailbox removes its forwards, so its mail
		 * stays in the mailbox again.
		 */
		if (db_query_int(m->db,
			"SELECT COUNT(*) FROM mailbox WHERE "
			"username = ?",
			a, 1, &n, err) == -1) {
			alias_rec_release(&cur);
			return -1;
		}
		if (n > 0) {
			char now2[32], self[GOTO_MAX];
			struct db_arg u[] = { DB_TEXT(self),
				DB_TEXT(db_now(now2, sizeof(now2))),
				DB_TEXT(c->address) };

			/* Only the forwards go; a vacation entry stays. */
			snprintf(self, sizeof(self), "%s", c->address);
			keep_vacation(m, cur.goto_list, self, sizeof(self));
			if (strcmp(cur.goto_list, self) == 0) {
				alias_rec_release(&cur);
				err_set(err, ERR_NOTFOUND,
				    "mailbox '%s' has no forwards to delete",
				    c->address);
				return err_hint(err,
				    "mailboxes are deleted with 'postino user del %s'",
				    c->address);
			}
			if (db_exec(m->db,
				"UPDATE alias SET goto = ?, "
				"modified = ? WHERE address = ?",
				u, DB_NARGS(u), err) == -1) {
				alias_rec_release(&cur);
				return -1;
			}
			model_notifyf(m,
			    "'%s' is a mailbox: its forwards were removed, its mail stays in the mailbox",
			    c->address);
			n = model_audit(
			    m, cur.domain, "edit_alias", c->address, err);
			alias_rec_release(&cur);
			return (int)n;
		}
		if (db_exec(m->db, "DELETE FROM alias WHERE address = ?", a, 1,
			err) == -1) {
			alias_rec_release(&cur);
			return -1;
		}
		n = model_audit(m, cur.domain, "delete_alias", c->address, err);
		alias_rec_release(&cur);
		return (int)n;
	}
	{
		struct db_arg u[] = { DB_BOOL(c->op == 1),
			DB_TEXT(db_now(now, sizeof(now))),
			DB_TEXT(c->address) };

		if (db_exec(m->db,
			"UPDATE alias SET active = ?, modified = ? "
			"WHERE address = ?",
			u, DB_NARGS(u), err) == -1) {
			alias_rec_release(&cur);
			return -1;
		}
	}
	snprintf(data, sizeof(data), "%s=%s", c->address,
	    c->op == 1 ? "ACTIVE" : "DISABLED");
	n = model_audit(m, cur.domain, "edit_alias_state", data, err);
	alias_rec_release(&cur);
	return (int)n;
}

int
alias_set_active(
    struct model *m, const char *address, bool active, struct err *err)
{
	struct simple_ctx c;

	if (addr_alias("alias", address, c.address, NULL, NULL, err) == -1)
		return -1;
	c.op = active ? 1 : 0;
	return model_tx(m, simple_tx, &c, err);
}

int
alias_del(struct model *m, const char *address, struct err *err)
{
	struct simple_ctx c;

	if (addr_alias("alias", address, c.address, NULL, NULL, err) == -1)
		return -1;
	c.op = 2;
	return model_tx(m, simple_tx, &c, err);
}
