/*
 * alias_many: new aliases, one or many, through one copy of the rules.
 * alias_add() is alias_add_many() of one; a bulk import passes a batch.
 * The reads (domain locks, who holds the names, what the limited domains
 * hold) and the writes (alias rows, audit rows) are set-wise; the rules
 * run in C row by row, in order, each row seeing the rows before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alias.h"
#include "domain.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

/* Names per set-wise statement (two IN lists in the name query). */
#define ALIAS_CHUNK 1000

/* A name of the batch: what holds it, before and during the batch. */
struct name_st {
	const char *name;
	char *gotos; /* an alias row's goto (owned), NULL: no alias row */
	bool mailbox;
	bool mb_active;
};

/* A domain of the batch: its locked row and its aliases so far. */
struct dom_st {
	const char *name;
	struct domain_rec d;
	int found;
	int64_t count;
};

enum { ROW_NEW, ROW_BARE, ROW_SELF };

struct row {
	const struct alias_spec *spec;
	char address[ADDR_MAX];
	char domain[ADDR_MAX];
	char *gotos; /* normalised (owned) */
	char *goes;  /* the goto written (owned) */
	int kind;
	bool active;
	size_t ns, ds;
};

/* Whether a domain that holds n aliases takes one more. */
static int
alias_cap_rule(const struct domain_rec *d, int64_t n, struct err *err)
{
	if (d->aliases == 0)
		return 0;
	if (d->aliases < 0)
		return err_set(err, ERR_CAPACITY,
		    "domain '%s' does not allow aliases", d->domain);
	if (n >= d->aliases) {
		err_set(err, ERR_CAPACITY,
		    "domain '%s' is full: %lld of %lld aliases", d->domain,
		    (long long)n, (long long)d->aliases);
		return err_hint(err, "raise the limit or remove an alias");
	}
	return 0;
}

/* The list a mailbox's alias row gets: the mailbox first, then gotos. */
static char *
with_mailbox(const char *address, const char *gotos, struct err *err)
{
	char *both = xmalloc(GOTO_MAX);
	char *tmp = xasprintf("%s,%s", address, gotos);
	struct err e2 = ERR_INIT;

	if (addr_goto("destination", tmp, both, GOTO_MAX, &e2) == -1) {
		free(tmp);
		free(both);
		err_set(err, e2.kind, "%s", e2.msg);
		return NULL;
	}
	free(tmp);
	return both;
}

/* Index of name in the sorted v[0..n), or n. */
static size_t
find_name(const struct name_st *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (name != NULL && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(v[mid].name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return n;
}

static int
row_cmp_addr(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a;
	const struct row *y = *(const struct row *const *)b;
	int c = strcasecmp(x->address, y->address);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

static int
row_cmp_dom(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a;
	const struct row *y = *(const struct row *const *)b;
	int c = strcasecmp(x->domain, y->domain);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/* 2. Who holds the names: alias rows and mailboxes, a chunk a statement. */
static int
read_names(struct model *m, struct name_st *ns, size_t nn, struct err *err)
{
	struct db_arg *args =
	    xcalloc(2 * (nn < ALIAS_CHUNK ? nn : ALIAS_CHUNK), sizeof(*args));
	int rc = -1;

	for (size_t i = 0; i < nn; i += ALIAS_CHUNK) {
		size_t k = nn - i < ALIAS_CHUNK ? nn - i : ALIAS_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = args[k + j] = DB_TEXT(ns[i + j].name);
		q = xasprintf("SELECT address, goto, 0 FROM alias WHERE "
			      "address IN (%s) UNION ALL SELECT username, '', "
			      "CASE WHEN active THEN 2 ELSE 1 END FROM mailbox "
			      "WHERE username IN (%s)",
		    in, in);
		free(in);
		nx = db_query(m->db, q, args, 2 * k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1) {
			size_t j = find_name(ns, nn, db_col(r, 0));
			int64_t what = db_col_int(r, 2, 0);

			if (j == nn)
				continue;
			if (what == 0) {
				free(ns[j].gotos);
				ns[j].gotos = xstrdup(
				    db_col(r, 1) != NULL ? db_col(r, 1) : "");
			} else {
				ns[j].mailbox = true;
				ns[j].mb_active = what == 2;
			}
		}
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}
	rc = 0;
out:
	free(args);
	return rc;
}

/*
 * 3. What the domains with an alias limit hold; like PostfixAdmin, the
 * self-aliases of mailboxes do not count.
 */
static int
read_counts(struct model *m, struct dom_st *ds, size_t nd, struct err *err)
{
	struct db_arg *args = xcalloc(nd ? nd : 1, sizeof(*args));
	size_t nl = 0;
	int rc = -1;

	for (size_t i = 0; i < nd; i++)
		if (ds[i].found == 1 && ds[i].d.aliases > 0)
			args[nl++] = DB_TEXT(ds[i].name);
	for (size_t i = 0; i < nl; i += ALIAS_CHUNK) {
		size_t k = nl - i < ALIAS_CHUNK ? nl - i : ALIAS_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		q = xasprintf("SELECT a.domain, COUNT(*) FROM alias a WHERE "
			      "a.domain IN (%s) AND NOT EXISTS (SELECT 1 FROM "
			      "mailbox m WHERE m.username = a.address) GROUP "
			      "BY a.domain",
		    in);
		free(in);
		nx = db_query(m->db, q, args + i, k, 0, &r, err);
		free(q);
		if (nx == -1)
			goto out;
		while ((nx = db_next(r, err)) == 1)
			for (size_t j = 0; j < nd; j++)
				if (db_col(r, 0) != NULL &&
				    strcasecmp(ds[j].name, db_col(r, 0)) == 0)
					ds[j].count += db_col_int(r, 1, 0);
		db_res_free(&r);
		if (nx == -1)
			goto out;
	}
	rc = 0;
out:
	free(args);
	return rc;
}

/* 5. The rows, the audit rows, the notes. */
static int
write_rows(struct model *m, struct row *rows, size_t n, size_t *failed_r,
    struct err *err)
{
	enum { AL = 6 };
	struct db_arg *args = xcalloc(n * AL, sizeof(*args));
	const char **dom[3];
	char **data[3];
	size_t na[3] = { 0, 0, 0 }, ni = 0;
	static const char *const action[3] = { "create_alias", "edit_alias",
		"edit_alias_state" };
	char now[32];
	int rc = -1;

	db_now(now, sizeof(now));
	for (int k = 0; k < 3; k++) {
		dom[k] = xcalloc(n, sizeof(*dom[k]));
		data[k] = xcalloc(n, sizeof(*data[k]));
	}
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		const struct alias_spec *s = r->spec;

		if (r->kind == ROW_SELF) {
			struct db_arg u[] = { DB_TEXT(r->goes),
				DB_TEXT(s->modified ? s->modified : now),
				DB_TEXT(r->address) };

			/* Rare (an existing row): one statement of its own. */
			if (db_exec(m->db,
				"UPDATE alias SET goto = ?, modified = ? "
				"WHERE address = ?",
				u, DB_NARGS(u), err) == -1) {
				*failed_r = n == 1 ? 0 : n;
				goto out;
			}
			dom[1][na[1]] = r->domain;
			data[1][na[1]++] =
			    xasprintf("%s->%s", r->address, r->goes);
			continue;
		}
		args[ni * AL] = DB_TEXT(r->address);
		args[ni * AL + 1] = DB_TEXT(r->goes);
		args[ni * AL + 2] = DB_TEXT(r->domain);
		args[ni * AL + 3] = DB_TEXT(s->created ? s->created : now);
		args[ni * AL + 4] = DB_TEXT(s->modified ? s->modified : now);
		args[ni * AL + 5] = DB_BOOL(r->active);
		ni++;
		dom[0][na[0]] = r->domain;
		data[0][na[0]++] = xasprintf("%s->%s", r->address, r->goes);
		if (!s->active) {
			dom[2][na[2]] = r->domain;
			data[2][na[2]++] = xasprintf("%s=DISABLED", r->address);
		}
	}
	if (ni > 0 &&
	    db_insert_rows(m->db,
		"INSERT INTO alias (address, goto, domain, created, modified, "
		"active)",
		AL, args, ni, err) == -1) {
		/* A batch of one: the row is to blame, as add always said. */
		if (n == 1 && err->kind == ERR_EXISTS)
			err_set(err, ERR_EXISTS, "alias '%s' already exists",
			    rows[0].address);
		*failed_r = n == 1 ? 0 : n;
		goto out;
	}
	for (int k = 0; k < 3; k++)
		if (model_audit_many(m, na[k], dom[k], action[k],
			(const char *const *)data[k], err) == -1) {
			*failed_r = n;
			goto out;
		}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].kind == ROW_SELF)
			model_notifyf(m,
			    "'%s' is a mailbox: its mail now goes to %s and stays in the mailbox too ('postino alias edit' to change that)",
			    rows[i].address, rows[i].gotos);
		else if (rows[i].kind == ROW_BARE)
			model_notifyf(m,
			    "'%s' is a mailbox without its self-alias row: its mail now goes to %s and stays in the mailbox too",
			    rows[i].address, rows[i].gotos);
	}
	rc = 0;
out:
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < na[k]; i++)
			free(data[k][i]);
		free(dom[k]);
		free(data[k]);
	}
	free(args);
	return rc;
}

int
alias_add_many(struct model *m, const struct alias_spec *specs, size_t n,
    size_t *failed_r, struct err *err)
{
	struct row *rows;
	struct row **by_addr, **by_dom;
	struct name_st *ns;
	struct dom_st *ds;
	const char **dnames;
	struct domain_rec *drecs;
	int *dfound;
	size_t nn = 0, nd = 0;
	int rc = -1;

	*failed_r = n;
	if (!m->db->in_tx)
		return err_set(err, ERR_INTERNAL,
		    "alias_add_many needs the caller's transaction");
	if (n == 0)
		return 0;
	rows = xcalloc(n, sizeof(*rows));
	by_addr = xcalloc(n, sizeof(*by_addr));
	by_dom = xcalloc(n, sizeof(*by_dom));
	ns = xcalloc(n, sizeof(*ns));
	ds = xcalloc(n, sizeof(*ds));
	dnames = xcalloc(n, sizeof(*dnames));
	drecs = xcalloc(n, sizeof(*drecs));
	dfound = xcalloc(n, sizeof(*dfound));

	/* 0. The arguments, as alias add checks them (no database). */
	for (size_t i = 0; i < n; i++) {
		rows[i].spec = &specs[i];
		rows[i].gotos = xmalloc(GOTO_MAX);
		if (addr_alias("alias", specs[i].address, rows[i].address,
			rows[i].domain, NULL, err) == -1 ||
		    addr_goto("destination", specs[i].gotos, rows[i].gotos,
			GOTO_MAX / 2, err) == -1) {
			*failed_r = i;
			goto out;
		}
		by_addr[i] = by_dom[i] = &rows[i];
	}
	qsort(by_addr, n, sizeof(*by_addr), row_cmp_addr);
	qsort(by_dom, n, sizeof(*by_dom), row_cmp_dom);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 ||
		    strcasecmp(by_addr[i]->address, by_addr[i - 1]->address) !=
			0)
			ns[nn++].name = by_addr[i]->address;
		by_addr[i]->ns = nn - 1;
		if (i == 0 ||
		    strcasecmp(by_dom[i]->domain, by_dom[i - 1]->domain) != 0) {
			ds[nd].name = by_dom[i]->domain;
			dnames[nd++] = by_dom[i]->domain;
		}
		by_dom[i]->ds = nd - 1;
	}

	/* 1. Lock each domain once, 2. who holds the names, 3. counts. */
	if (domain_lock_many(m, dnames, nd, drecs, dfound, err) == -1)
		goto out;
	for (size_t i = 0; i < nd; i++) {
		ds[i].found = dfound[i];
		ds[i].d = drecs[i];
		str_copy(ds[i].d.domain, ds[i].name, sizeof(ds[i].d.domain));
	}
	if (read_names(m, ns, nn, err) == -1 ||
	    read_counts(m, ds, nd, err) == -1)
		goto out;

	/* 4. The rules, row by row, in order. */
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		struct name_st *s = &ns[r->ns];
		struct dom_st *d = &ds[r->ds];

		*failed_r = i;
		if (d->found != 1) {
			domain_missing(d->name, err);
			goto out;
		}
		r->active = r->spec->active;
		if (s->gotos != NULL) {
			if (!s->mailbox || strcmp(s->gotos, r->address) != 0) {
				err_set(err, ERR_EXISTS,
				    "alias '%s' already exists", r->address);
				err_hint(err,
				    "change its destinations with 'postino alias edit %s DEST...'",
				    r->address);
				goto out;
			}
			/*
			 * A mailbox with nothing but its self-alias: adding an
			 * alias means forwarding its mail, keeping a copy in
			 * the mailbox (PostfixAdmin's "deliver to the mailbox
			 * too").  Nothing is lost by accident.
			 */
			r->kind = ROW_SELF;
			if ((r->goes = with_mailbox(
				 r->address, r->gotos, err)) == NULL)
				goto out;
		} else if (s->mailbox) {
			/*
			 * A mailbox without its self-alias row (Python postino
			 * never wrote one): the new row keeps the mailbox's
			 * own copy first, and is as active as the mailbox.
			 */
			r->kind = ROW_BARE;
			r->active = s->mb_active && r->spec->active;
			if ((r->goes = with_mailbox(
				 r->address, r->gotos, err)) == NULL)
				goto out;
		} else {
			if (alias_cap_rule(&d->d, d->count, err) == -1)
				goto out;
			r->kind = ROW_NEW;
			r->goes = xstrdup(r->gotos);
			d->count++;
		}
		free(s->gotos);
		s->gotos = xstrdup(r->goes);
	}
	*failed_r = n;

	if (write_rows(m, rows, n, failed_r, err) == -1)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(rows[i].gotos);
		free(rows[i].goes);
		free(ns[i].gotos);
	}
	free(rows);
	free(by_addr);
	free(by_dom);
	free(ns);
	free(ds);
	free(dnames);
	free(drecs);
	free(dfound);
	return rc;
}
