#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "identity.h"
#include "password.h"
#include "scim_query.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define EXT SCIM_SCHEMA_MAILBOX ":"
/* The SCIM client's externalId, kept in postino_identity (identity.h). */
#define USER_EXTERNAL_ID                                                       \
	"(SELECT x.subject FROM postino_identity x WHERE x.issuer = "          \
	"'" IDENTITY_SCIM "' AND x.username = mailbox.username)"

const struct scim_attr scim_user_attrs[] = {
	{ "id", "username", SCIM_T_STRING, SCIM_A_LOWER },
	{ "userName", "username", SCIM_T_STRING, SCIM_A_LOWER },
	{ "emails", "username", SCIM_T_STRING, SCIM_A_LOWER },
	{ "emails.value", "username", SCIM_T_STRING, SCIM_A_LOWER },
	{ "name.formatted", "name", SCIM_T_STRING, SCIM_A_CI },
	{ "displayName", "name", SCIM_T_STRING, SCIM_A_CI },
	{ "active", "active", SCIM_T_BOOLEAN, 0 },
	{ "meta.created", "created", SCIM_T_DATETIME, 0 },
	{ "meta.lastModified", "modified", SCIM_T_DATETIME, 0 },
	{ "domain", "domain", SCIM_T_STRING, SCIM_A_LOWER },
	{ EXT "domain", "domain", SCIM_T_STRING, SCIM_A_LOWER },
	{ EXT "quotaBytes", "quota", SCIM_T_INTEGER, 0 },
	{ EXT "idpManaged", "(password = '" PASSWORD_NOAUTH "')",
	    SCIM_T_BOOLEAN, 0 },
	{ "externalId", USER_EXTERNAL_ID, SCIM_T_STRING, 0 },
	{ NULL, NULL, SCIM_T_STRING, 0 },
};

const struct scim_attr scim_alias_attrs[] = {
	{ "id", "a.address", SCIM_T_STRING, SCIM_A_LOWER },
	{ "address", "a.address", SCIM_T_STRING, SCIM_A_LOWER },
	{ "goto", "a.goto", SCIM_T_STRING, SCIM_A_CI },
	{ "domain", "a.domain", SCIM_T_STRING, SCIM_A_LOWER },
	{ "active", "a.active", SCIM_T_BOOLEAN, 0 },
	{ "meta.created", "a.created", SCIM_T_DATETIME, 0 },
	{ "meta.lastModified", "a.modified", SCIM_T_DATETIME, 0 },
	{ NULL, NULL, SCIM_T_STRING, 0 },
};

const struct scim_attr scim_domain_attrs[] = {
	{ "id", "d.domain", SCIM_T_STRING, SCIM_A_LOWER },
	{ "domain", "d.domain", SCIM_T_STRING, SCIM_A_LOWER },
	{ "description", "d.description", SCIM_T_STRING, SCIM_A_CI },
	{ "transport", "d.transport", SCIM_T_STRING, 0 },
	{ "active", "d.active", SCIM_T_BOOLEAN, 0 },
	{ "backupmx", "d.backupmx", SCIM_T_BOOLEAN, 0 },
	{ "maxAliases", "d.aliases", SCIM_T_INTEGER, 0 },
	{ "maxMailboxes", "d.mailboxes", SCIM_T_INTEGER, 0 },
	{ "defaultQuotaBytes", "COALESCE(p.default_quota, 0)", SCIM_T_INTEGER,
	    0 },
	{ "meta.created", "d.created", SCIM_T_DATETIME, 0 },
	{ "meta.lastModified", "d.modified", SCIM_T_DATETIME, 0 },
	{ NULL, NULL, SCIM_T_STRING, 0 },
};

/* One resource's table: what to select, from where, always-on condition. */
struct source {
	const char *cols;
	const char *from;
	const char *base; /* condition every row meets */
	const char *key;  /* unique ordering column */
	int (*row)(struct model *, struct db_res *, void *ctx);
};

static void
copy_str(char *dst, size_t size, const char *v)
{
	str_copy(dst, v != NULL ? v : "", size);
}

/* --- users ----------------------------------------------------------- */

struct user_ctx {
	scim_user_each_fn *fn;
	void *arg;
};

static int
user_row(struct model *m, struct db_res *r, void *ctx)
{
	struct user_ctx *c = ctx;
	struct mailbox_rec mb;
	const char *pw = db_col(r, 9);

	(void)m;
	memset(&mb, 0, sizeof(mb));
	copy_str(mb.username, sizeof(mb.username), db_col(r, 0));
	copy_str(mb.name, sizeof(mb.name), db_col(r, 1));
	copy_str(mb.maildir, sizeof(mb.maildir), db_col(r, 2));
	mb.quota_bytes = db_col_int(r, 3, 0);
	copy_str(mb.local_part, sizeof(mb.local_part), db_col(r, 4));
	copy_str(mb.domain, sizeof(mb.domain), db_col(r, 5));
	mb.active = model_bool(db_col(r, 6));
	copy_str(mb.created, sizeof(mb.created), db_col(r, 7));
	copy_str(mb.modified, sizeof(mb.modified), db_col(r, 8));
	mb.idp_managed = pw != NULL && strcmp(pw, PASSWORD_NOAUTH) == 0;
	password_scheme_of(pw, mb.scheme, sizeof(mb.scheme));
	return c->fn(c->arg, &mb, db_col(r, 10));
}

static const struct source users = {
	"username, name, maildir, quota, local_part, domain, active, created, "
	"modified, password, " USER_EXTERNAL_ID,
	" FROM mailbox",
	"1 = 1",
	"username",
	user_row,
};

/* --- aliases --------------------------------------------------------- */

struct alias_ctx {
	alias_each_fn *fn;
	void *arg;
};

static int
alias_row(struct model *m, struct db_res *r, void *ctx)
{
	struct alias_ctx *c = ctx;
	struct alias_rec a;
	int rc;

	(void)m;
	memset(&a, 0, sizeof(a));
	copy_str(a.address, sizeof(a.address), db_col(r, 0));
	a.goto_list = xstrdup(db_col(r, 1) != NULL ? db_col(r, 1) : "");
	copy_str(a.domain, sizeof(a.domain), db_col(r, 2));
	a.active = model_bool(db_col(r, 3));
	copy_str(a.created, sizeof(a.created), db_col(r, 4));
	copy_str(a.modified, sizeof(a.modified), db_col(r, 5));
	a.mailbox = db_col_int(r, 6, 0) == 1;
	rc = c->fn(c->arg, &a);
	alias_rec_release(&a);
	return rc;
}

static const struct source aliases = {
	"a.address, a.goto, a.domain, a.active, a.created, a.modified, "
	"CASE WHEN m.username IS NULL THEN 0 ELSE 1 END",
	" FROM alias a LEFT JOIN mailbox m ON m.username = a.address",
	"(m.username IS NULL OR a.goto <> a.address)",
	"a.address",
	alias_row,
};

/* --- domains --------------------------------------------------------- */

struct domain_ctx {
	domain_each_fn *fn;
	void *arg;
};

static int
domain_row(struct model *m, struct db_res *r, void *ctx)
{
	struct domain_ctx *c = ctx;
	struct domain_rec d;

	memset(&d, 0, sizeof(d));
	copy_str(d.domain, sizeof(d.domain), db_col(r, 0));
	copy_str(d.description, sizeof(d.description), db_col(r, 1));
	copy_str(d.transport, sizeof(d.transport), db_col(r, 2));
	d.aliases = db_col_int(r, 3, 0);
	d.mailboxes = db_col_int(r, 4, 0);
	d.maxquota_bytes = domain_units_to_bytes(m, db_col_int(r, 5, 0));
	d.quota_bytes = domain_units_to_bytes(m, db_col_int(r, 6, 0));
	d.backupmx = model_bool(db_col(r, 7));
	d.active = model_bool(db_col(r, 8));
	copy_str(d.created, sizeof(d.created), db_col(r, 9));
	copy_str(d.modified, sizeof(d.modified), db_col(r, 10));
	d.default_quota_bytes = db_col_int(r, 11, 0);
	return c->fn(c->arg, &d);
}

static const struct source domains = {
	"d.domain, d.description, d.transport, d.aliases, d.mailboxes, "
	"d.maxquota, d.quota, d.backupmx, d.active, d.created, d.modified, "
	"COALESCE(p.default_quota, 0)",
	" FROM domain d LEFT JOIN postino_domain p ON p.domain = d.domain"
	" AND p.domain_created = d.created",
	"d.domain <> 'ALL'",
	"d.domain",
	domain_row,
};

/* --- the shared page runner ------------------------------------------ */

static int
page_run(struct model *m, const struct source *s, const struct scim_page *p,
    void *ctx, int64_t *total_r, struct err *err)
{
	struct buf sql;
	struct db_arg *args;
	struct db_res *r = NULL;
	bool own_tx = !m->db->in_tx;
	const char *where =
	    p->where != NULL && *p->where != '\0' ? p->where : "1 = 1";
	int rc = -1, n;

	if (p->offset < 0 || p->limit < 0)
		return err_set(err, ERR_INTERNAL, "negative page bounds");
	buf_init(&sql, 64 * 1024);
	args = xcalloc(p->nargs + 2, sizeof(*args));
	for (size_t i = 0; i < p->nargs; i++)
		args[i] = p->args[i];
	/* One read transaction, so the count and the page agree. */
	if (own_tx && db_begin(m->db, false, err) == -1)
		goto out;
	if (buf_printf(&sql, "SELECT COUNT(*)%s WHERE %s AND (%s)", s->from,
		s->base, where) == -1) {
		err_set(err, ERR_TOOLARGE, "the query is too long");
		goto fail;
	}
	if (db_query_int(m->db, buf_cstr(&sql), args, p->nargs, total_r, err) ==
	    -1)
		goto fail;
	if (p->limit > 0 && p->offset < *total_r) {
		buf_reset(&sql);
		if (buf_printf(&sql, "SELECT %s%s WHERE %s AND (%s) ORDER BY ",
			s->cols, s->from, s->base, where) == -1 ||
		    (p->order_by != NULL &&
			buf_printf(&sql, "%s%s, ", p->order_by,
			    p->descending ? " DESC" : "") == -1) ||
		    buf_printf(&sql, "%s%s LIMIT ? OFFSET ?", s->key,
			p->order_by == NULL && p->descending ? " DESC" : "") ==
			-1) {
			err_set(err, ERR_TOOLARGE, "the query is too long");
			goto fail;
		}
		args[p->nargs] = DB_INT(p->limit);
		args[p->nargs + 1] = DB_INT(p->offset);
		if (db_query(m->db, buf_cstr(&sql), args, p->nargs + 2, 0, &r,
			err) == -1)
			goto fail;
		while ((n = db_next(r, err)) == 1)
			if (s->row(m, r, ctx) == -1) {
				err_set(err, ERR_INTERNAL, "stopped");
				n = -1;
				break;
			}
		db_res_free(&r);
		if (n == -1)
			goto fail;
	}
	if (own_tx && db_commit(m->db, err) == -1)
		goto out;
	rc = 0;
	goto out;
fail:
	if (own_tx)
		db_rollback(m->db);
out:
	free(args);
	buf_release(&sql);
	return rc;
}

int
scim_query_users(struct model *m, const struct scim_page *p,
    scim_user_each_fn *fn, void *arg, int64_t *total_r, struct err *err)
{
	struct user_ctx c = { fn, arg };

	return page_run(m, &users, p, &c, total_r, err);
}

int
scim_query_aliases(struct model *m, const struct scim_page *p,
    alias_each_fn *fn, void *arg, int64_t *total_r, struct err *err)
{
	struct alias_ctx c = { fn, arg };

	return page_run(m, &aliases, p, &c, total_r, err);
}

int
scim_query_domains(struct model *m, const struct scim_page *p,
    domain_each_fn *fn, void *arg, int64_t *total_r, struct err *err)
{
	struct domain_ctx c = { fn, arg };

	return page_run(m, &domains, p, &c, total_r, err);
}
