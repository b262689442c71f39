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
	"username, name, maildir, quota, local_part, domain, active, created, modified, password, " USER_EXTERNAL_ID,
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

/* --- the page cache ---------------------------------------------------- */

/*
 * Counting every matching row and skipping OFFSET rows cost in proportion
 * to the table; a client paging through 100,000 users (Okta's import) or
 * asking for the same listing again (Entra's sync) would pay that on every
 * request.  So each connection remembers, per listing (resource, filter,
 * arguments, order), its total and where some pages start ("the row at
 * position 5000 is the first with key >= 'u5000@...'"), valid only for the
 * exact database state they were read from: a token that changes whenever
 * anything is committed (SQLite: PRAGMA data_version and this connection's
 * total_changes(); PostgreSQL: the transaction snapshot, whose xmin, xmax
 * and in-progress list change with every write in the cluster).  Same
 * token, same visible rows, same answer.  MariaDB offers no such token to
 * an unprivileged user, so there nothing is cached.
 */
#define PC_ENTRIES 32
#define PC_MARKS 16
#define PC_KEY 1024
#define PC_TOKEN 256

struct pc_mark {
	int64_t pos; /* 0-based position of the row */
	bool after;  /* the row is the first with key > k (else >= k) */
	char key[PC_KEY];
};

struct pc_entry {
	char *sig;
	int64_t total;
	struct pc_mark marks[PC_MARKS];
	int nmarks, next;
	unsigned used;
};

struct page_cache {
	char token[PC_TOKEN];
	struct pc_entry e[PC_ENTRIES];
	unsigned tick;
};

static void
pc_clear(struct page_cache *c)
{
	for (int i = 0; i < PC_ENTRIES; i++) {
		free(c->e[i].sig);
		memset(&c->e[i], 0, sizeof(c->e[i]));
	}
}

static void
pc_free(void *arg)
{
	struct page_cache *c = arg;

	if (c == NULL)
		return;
	pc_clear(c);
	free(c);
}

/* The connection's cache, emptied if the token moved; NULL without one. */
static struct page_cache *
pc_get(struct db *db, struct err *err, int *rc)
{
	const char *sql;
	struct page_cache *c;
	char *tok = NULL;

	*rc = 0;
	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		sql = "SELECT (SELECT data_version FROM pragma_data_version()) "
		      "|| ':' || total_changes()";
		break;
	case DB_ENGINE_PGSQL:
		sql = "SELECT txid_current_snapshot()::text";
		break;
	default:
		return NULL;
	}
	if (db_query_value(db, sql, NULL, 0, &tok, err) == -1) {
		*rc = -1;
		return NULL;
	}
	if (tok == NULL || strlen(tok) >= PC_TOKEN) {
		free(tok);
		return NULL;
	}
	if (db->cache == NULL) {
		db->cache = xcalloc(1, sizeof(struct page_cache));
		db->cache_free = pc_free;
	}
	c = db->cache;
	if (strcmp(c->token, tok) != 0) {
		pc_clear(c);
		str_copy(c->token, tok, sizeof(c->token));
	}
	free(tok);
	return c;
}

/* What identifies a listing: everything that goes into its SQL. */
static char *
pc_sig(const struct source *s, const struct scim_page *p)
{
	struct buf b;
	char *out;

	buf_init(&b, 256 * 1024);
	buf_printf(&b, "%s\x1f%s\x1f%s\x1f%d", s->from,
	    p->where != NULL ? p->where : "",
	    p->order_by != NULL ? p->order_by : "", p->descending ? 1 : 0);
	for (size_t i = 0; i < p->nargs; i++) {
		const struct db_arg *a = &p->args[i];

		if (a->type == DB_ARG_TEXT)
			buf_printf(&b, "\x1ft%zu:%s",
			    a->s != NULL ? strlen(a->s) : 0,
			    a->s != NULL ? a->s : "");
		else
			buf_printf(&b, "\x1fi%lld", (long long)a->i);
	}
	out = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return out;
}

static struct pc_entry *
pc_entry(struct page_cache *c, const char *sig)
{
	struct pc_entry *victim = &c->e[0];

	for (int i = 0; i < PC_ENTRIES; i++) {
		struct pc_entry *e = &c->e[i];

		if (e->sig != NULL && strcmp(e->sig, sig) == 0) {
			e->used = ++c->tick;
			return e;
		}
		if (e->used < victim->used)
			victim = e;
	}
	free(victim->sig);
	memset(victim, 0, sizeof(*victim));
	victim->sig = xstrdup(sig);
	victim->total = -1;
	victim->used = ++c->tick;
	return victim;
}

static const struct pc_mark *
pc_find(const struct pc_entry *e, int64_t pos)
{
	for (int i = 0; i < e->nmarks; i++)
		if (e->marks[i].pos == pos)
			return &e->marks[i];
	return NULL;
}

static void
pc_mark(struct pc_entry *e, int64_t pos, bool after, const char *key)
{
	struct pc_mark *m;

	if (key == NULL || strlen(key) >= PC_KEY || pc_find(e, pos) != NULL)
		return;
	if (e->nmarks < PC_MARKS)
		m = &e->marks[e->nmarks++];
	else {
		m = &e->marks[e->next];
		e->next = (e->next + 1) % PC_MARKS;
	}
	m->pos = pos;
	m->after = after;
	str_copy(m->key, key, sizeof(m->key));
}

/* --- the shared page runner ------------------------------------------ */

/* " WHERE base AND (where)", leaving out what is always true. */
static int
where_sql(struct buf *b, const struct source *s, const char *where)
{
	bool base = strcmp(s->base, "1 = 1") != 0;

	if (!base && where == NULL)
		return 0;
	if (buf_printf(b, " WHERE ") == -1 ||
	    (base && buf_printf(b, "%s", s->base) == -1) ||
	    (base && where != NULL && buf_printf(b, " AND ") == -1) ||
	    (where != NULL && buf_printf(b, "(%s)", where) == -1))
		return -1;
	return 0;
}

/*
 * The page query.  Ordered by the key alone, a page starts at a remembered
 * key (mark), or at the key the OFFSET finds in a key-only subquery (the
 * index alone, no row built for the rows skipped); otherwise LIMIT/OFFSET.
 */
static int
page_sql(struct buf *b, enum db_engine engine, const struct source *s,
    const struct scim_page *p, const char *where, const struct pc_mark *mark,
    struct db_arg *args, size_t *nargs)
{
	const char *dir = p->descending ? " DESC" : "";
	bool by_key = p->order_by == NULL;
	char key[64];

	/*
	 * PostgreSQL orders by code point ("C"), as SQLite does: the order
	 * the prefix indexes (schema step 9) keep, so that a userName sw
	 * page is read in index order instead of walking the primary key.
	 */
	snprintf(key, sizeof(key),
	    engine == DB_ENGINE_PGSQL ? "%s COLLATE \"C\"" : "%s", s->key);
	if (buf_printf(b, "SELECT %s%s", s->cols, s->from) == -1 ||
	    where_sql(b, s, where) == -1)
		return -1;
	if (by_key && (mark != NULL || p->offset > 0)) {
		const char *cmp = mark != NULL && mark->after
		    ? (p->descending ? "<" : ">")
		    : (p->descending ? "<=" : ">=");

		if (buf_printf(b, "%s%s %s ",
			strcmp(s->base, "1 = 1") != 0 || where != NULL
			    ? " AND "
			    : " WHERE ",
			key, cmp) == -1)
			return -1;
		if (mark != NULL) {
			if (buf_printf(b, "?") == -1)
				return -1;
			args[(*nargs)++] = DB_TEXT(mark->key);
		} else {
			if (buf_printf(b, "(SELECT %s%s", key, s->from) == -1 ||
			    where_sql(b, s, where) == -1 ||
			    buf_printf(b, " ORDER BY %s%s LIMIT 1 OFFSET ?)",
				key, dir) == -1)
				return -1;
			for (size_t i = 0; i < p->nargs; i++)
				args[(*nargs)++] = p->args[i];
			args[(*nargs)++] = DB_INT(p->offset);
		}
		if (buf_printf(b, " ORDER BY %s%s LIMIT ?", key, dir) == -1)
			return -1;
		args[(*nargs)++] = DB_INT(p->limit);
		return 0;
	}
	if (buf_printf(b, " ORDER BY ") == -1 ||
	    (p->order_by != NULL &&
		buf_printf(b, "%s%s, ", p->order_by, dir) == -1) ||
	    buf_printf(b, "%s%s LIMIT ? OFFSET ?", key, by_key ? dir : "") ==
		-1)
		return -1;
	args[(*nargs)++] = DB_INT(p->limit);
	args[(*nargs)++] = DB_INT(p->offset);
	return 0;
}

static int
page_run(struct model *m, const struct source *s, const struct scim_page *p,
    void *ctx, int64_t *total_r, struct err *err)
{
	struct buf sql;
	struct db_arg *args;
	struct db_res *r = NULL;
	bool own_tx = !m->db->in_tx;
	const char *where =
	    p->where != NULL && *p->where != '\0' ? p->where : NULL;
	struct page_cache *cache = NULL;
	struct pc_entry *entry = NULL;
	const struct pc_mark *mark = NULL;
	char first[PC_KEY], last[PC_KEY];
	int64_t rows = 0;
	size_t nargs = 0;
	int rc = -1, n;

	if (p->offset < 0 || p->limit < 0)
		return err_set(err, ERR_INTERNAL, "negative page bounds");
	buf_init(&sql, 64 * 1024);
	args = xcalloc(2 * p->nargs + 3, sizeof(*args));
	for (size_t i = 0; i < p->nargs; i++)
		args[i] = p->args[i];
	first[0] = last[0] = '\0';
	/*
	 * One read transaction, so the count and the page agree (on
	 * PostgreSQL one snapshot for both: REPEATABLE READ).
	 */
	if (own_tx && db_begin(m->db, false, err) == -1)
		goto out;
	if (own_tx && db_engine(m->db) == DB_ENGINE_PGSQL &&
	    db_exec(m->db,
		"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		NULL, 0, err) == -1)
		goto fail;
	if (own_tx) {
		cache = pc_get(m->db, err, &n);
		if (n == -1)
			goto fail;
	}
	if (cache != NULL) {
		char *sig = pc_sig(s, p);

		entry = pc_entry(cache, sig);
		free(sig);
		if (p->order_by == NULL && p->offset > 0)
			mark = pc_find(entry, p->offset);
	}
	if (entry != NULL && entry->total >= 0)
		*total_r = entry->total;
	else {
		if (buf_printf(&sql, "SELECT COUNT(*)%s", s->from) == -1 ||
		    where_sql(&sql, s, where) == -1) {
			err_set(err, ERR_TOOLARGE, "the query is too long");
			goto fail;
		}
		if (db_query_int(m->db, buf_cstr(&sql), args, p->nargs, total_r,
			err) == -1)
			goto fail;
		if (entry != NULL)
			entry->total = *total_r;
	}
	if (p->limit > 0 && p->offset < *total_r) {
		buf_reset(&sql);
		nargs = p->nargs;
		if (page_sql(&sql, db_engine(m->db), s, p, where, mark, args,
			&nargs) == -1) {
			err_set(err, ERR_TOOLARGE, "the query is too long");
			goto fail;
		}
		if (db_query(m->db, buf_cstr(&sql), args, nargs, 0, &r, err) ==
		    -1)
			goto fail;
		while ((n = db_next(r, err)) == 1) {
			const char *key = db_col(r, 0);

			str_copy(rows == 0 ? first : last,
			    key != NULL ? key : "", PC_KEY);
			if (rows == 0)
				str_copy(last, first, sizeof(last));
			rows++;
			if (s->row(m, r, ctx) == -1) {
				err_set(err, ERR_INTERNAL, "stopped");
				n = -1;
				break;
			}
		}
		db_res_free(&r);
		if (n == -1)
			goto fail;
		if (entry != NULL && p->order_by == NULL && rows > 0) {
			pc_mark(entry, p->offset, false, first);
			if (rows == p->limit)
				pc_mark(entry, p->offset + rows, true, last);
		}
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
