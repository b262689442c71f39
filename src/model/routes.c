#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lookup.h"
#include "routes.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define LIST_PRIORITY 50

char *
routes_escape(const char *s)
{
	struct buf b;

	buf_init(&b, BUF_MAX_DEFAULT);
	for (; *s != '\0'; s++) {
		if (strchr(".[]()*+?{}|^$\\", *s) != NULL)
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	return buf_detach(&b);
}

char *
routes_list_pattern(const char *local, const char *domain)
{
	char *l = routes_escape(local), *d = routes_escape(domain), *p;

	/* The list itself and every list+keyword address mlmmj uses. */
	p = xasprintf("^%s(\\+.+)?@%s$", l, d);
	free(l);
	free(d);
	return p;
}

int
routes_add_list(
    struct model *m, const char *local, const char *domain, struct err *err)
{
	char *pattern = routes_list_pattern(local, domain);
	char *list = xasprintf("%s@%s", local, domain);
	char now[32];
	struct db_arg a[] = { DB_TEXT(pattern),
		DB_TEXT(ROUTES_TRANSPORT_RECEIVE), DB_TEXT(domain),
		DB_TEXT(list), DB_INT(LIST_PRIORITY), DB_BOOL(1),
		DB_TEXT(db_now(now, sizeof(now))) };
	int rc = 0;

	if (db_exec(m->db,
		"INSERT INTO routes (pattern, transport, domain, "
		"list_address, priority, active, created) VALUES (?, ?, ?, ?, "
		"?, "
		"?, ?)",
		a, DB_NARGS(a), err) == -1) {
		if (err->kind == ERR_EXISTS)
			err_set(err, ERR_EXISTS,
			    "a route for '%s' already exists", list);
		rc = -1;
	}
	free(pattern);
	free(list);
	return rc;
}

int
routes_del_list(
    struct model *m, const char *list, int64_t *n_r, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(list) };
	int64_t n;

	n = db_exec(m->db, "DELETE FROM routes WHERE list_address = ?", a,
	    DB_NARGS(a), err);
	if (n == -1)
		return -1;
	if (n_r != NULL)
		*n_r = n;
	return 0;
}

int64_t
routes_count_list(struct model *m, const char *list, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(list) };
	int64_t n;

	if (db_query_int(m->db,
		"SELECT COUNT(*) FROM routes WHERE "
		"list_address = ?",
		a, DB_NARGS(a), &n, err) == -1)
		return -1;
	return n;
}

int
routes_match(
    struct model *m, const char *address, char **transport_r, struct err *err)
{
	const char *op = m->db->drv->regexp_op, *at = strrchr(address, '@');
	char sql[256], *addr;
	struct buf v;
	int r;

	*transport_r = NULL;
	if (at == NULL || at[1] == '\0')
		return 0;
	addr = str_lower(xstrdup(address));
	if (op == NULL) {
		/* No operator in SQL: match in C, exactly as podop does. */
		buf_init(&v, 64 * 1024);
		r = lookup_routes(m->db, addr, &v, err);
		if (r == 1)
			*transport_r = buf_detach(&v);
		buf_release(&v);
		free(addr);
		return r;
	}
	{
		struct db_arg a[] = { DB_TEXT(strrchr(addr, '@') + 1),
			DB_BOOL(1), DB_TEXT(addr) };

		snprintf(sql, sizeof(sql),
		    "SELECT transport FROM routes WHERE "
		    "domain = ? AND active = ? AND ? %s pattern ORDER BY "
		    "priority, pattern LIMIT 1",
		    op);
		r = db_query_value(
		    m->db, sql, a, DB_NARGS(a), transport_r, err);
	}
	free(addr);
	return r;
}
