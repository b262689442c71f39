/*
 * table_sql: a Postfix mysql_table(5) / pgsql_table(5) / sqlite_table(5)
 * map file used as it is.
 *
 * The file's "query" keeps Postfix's expansions: %s the key, %u its local
 * part (or the whole key when it has no '@'), %d its domain, %1..%9 the
 * domain's labels from the right, %% a percent sign; the upper-case forms
 * mean the same in the query.  Postfix pastes quoted values into the text;
 * here every expansion becomes a '?' bound to its value instead:
 *
 *	WHERE address='%s'		->  WHERE address=?
 *	WHERE x=%s			->  WHERE x=?
 *	WHERE a='%u@%d'			->  WHERE a=CONCAT(?, '@', ?)   (MySQL)
 *				  WHERE a=(CAST(? AS TEXT) || '@' || ...)
 *(others)
 *
 * so no key can ever change the statement.  The query is compiled once, at
 * open.  As in Postfix: a query that uses %d (or %1..%9) on a key without
 * '@', or %u on a key with an empty local part, is not run (not found);
 * "domain" limits lookups to addresses in those domains; every non-empty
 * column of every row is a result, comma-joined, each formatted with
 * "result_format" (%s %u %d of the result, %S %U %D of the key); more
 * results than "expansion_limit" is an error; keys are folded to lower
 * case.  The old form (table, select_field, where_field,
 * additional_conditions) is accepted too.  Connections come from dbpool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cf.h"
#include "db.h"
#include "dbpool.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

#define SQL_MAX_ARGS 64

struct sqlmap {
	struct dbpool *pool;
	char *sql;		  /* compiled, with '?' */
	char codes[SQL_MAX_ARGS]; /* expansion per '?' */
	size_t nargs;
	char *result_format; /* NULL = "%s" */
	char **domains;	     /* NULL = any */
	size_t ndomains;
	long expansion_limit; /* 0 = none */
	bool needs_domain;    /* %d or %1..9 used */
	bool needs_local;     /* %u used */
};

/* The key split as Postfix's db_common_expand sees it. */
struct keyparts {
	const char *key;
	char *local; /* NULL: no '@' */
	char *domain;
};

static void
keyparts_init(struct keyparts *k, const char *key)
{
	const char *at = strrchr(key, '@');

	k->key = key;
	k->local = at != NULL ? xstrndup(key, (size_t)(at - key)) : NULL;
	k->domain = at != NULL ? xstrdup(at + 1) : NULL;
}

static void
keyparts_release(struct keyparts *k)
{
	free(k->local);
	free(k->domain);
}

/* Label n (1 = rightmost) of domain, into out; -1 if there is none. */
static int
domain_label(const char *domain, int n, struct buf *out)
{
	const char *end = domain + strlen(domain), *p = end;

	for (int i = 1;; i++) {
		const char *dot = p;

		while (dot > domain && dot[-1] != '.')
			dot--;
		if (i == n) {
			if (dot == p)
				return -1;
			buf_reset(out);
			buf_append(out, dot, (size_t)(p - dot));
			return 0;
		}
		if (dot == domain)
			return -1;
		p = dot - 1;
	}
}

static bool
is_code(char c)
{
	return strchr("sSuUdD123456789", c) != NULL;
}

static void
note_code(struct sqlmap *m, char c)
{
	if (c == 'd' || c == 'D' || (c >= '1' && c <= '9'))
		m->needs_domain = true;
	if (c == 'u' || c == 'U')
		m->needs_local = true;
}

static int
add_arg(struct sqlmap *m, char c, struct buf *out, struct err *err)
{
	if (m->nargs == SQL_MAX_ARGS)
		return err_set(err, ERR_CONFIG,
		    "query has more than %d expansions", SQL_MAX_ARGS);
	m->codes[m->nargs++] = c;
	note_code(m, c);
	buf_putc(out, '?');
	return 0;
}

/*
 * Compile a string literal's contents (between the quotes, still in its
 * SQL-escaped form) that holds expansions into a concatenation.
 */
static int
compile_literal(struct sqlmap *m, const char *s, size_t n, bool mysql,
    struct buf *out, struct err *err)
{
	struct buf text;
	size_t parts = 0;
	int r = 0;

	/* Exactly '%x': a plain parameter. */
	if (n == 2 && s[0] == '%' && is_code(s[1]))
		return add_arg(m, s[1], out, err);
	buf_init(&text, 64 * 1024);
	buf_puts(out, mysql ? "CONCAT(" : "(");
	for (size_t i = 0; i <= n && r == 0; i++) {
		if (i < n && !(s[i] == '%' && i + 1 < n && is_code(s[i + 1]))) {
			if (s[i] == '%' && i + 1 < n && s[i + 1] == '%')
				i++;
			else if (s[i] == '%') {
				r = err_set(err, ERR_CONFIG,
				    "invalid '%%' sequence in query");
				break;
			}
			buf_putc(&text, s[i]);
			continue;
		}
		if (text.len > 0) {
			if (parts++ > 0)
				buf_puts(out, mysql ? ", " : " || ");
			buf_putc(out, '\'');
			buf_append(out, text.data, text.len);
			buf_putc(out, '\'');
			buf_reset(&text);
		}
		if (i == n)
			break;
		if (parts++ > 0)
			buf_puts(out, mysql ? ", " : " || ");
		if (!mysql)
			buf_puts(out, "CAST(");
		r = add_arg(m, s[i + 1], out, err);
		if (!mysql)
			buf_puts(out, " AS TEXT)");
		i++;
	}
	buf_putc(out, ')');
	buf_release(&text);
	return r;
}

static int
compile_query(
    struct sqlmap *m, const char *q, enum db_engine engine, struct err *err)
{
	bool mysql = engine == DB_ENGINE_MYSQL;
	struct buf out;
	size_t i = 0, n = strlen(q);

	buf_init(&out, 64 * 1024);
	while (i < n) {
		char c = q[i];

		if (c == '\'') {
			size_t start = ++i;
			bool has_exp = false;

			for (; i < n; i++) {
				if (mysql && q[i] == '\\' && i + 1 < n) {
					i++;
					continue;
				}
				if (q[i] == '\'') {
					if (i + 1 < n && q[i + 1] == '\'') {
						i++;
						continue;
					}
					break;
				}
				if (q[i] != '%')
					continue;
				if (i + 1 < n && is_code(q[i + 1]))
					has_exp = true;
				else if (i + 1 < n && q[i + 1] == '%')
					i++;
				else {
					buf_release(&out);
					return err_set(err, ERR_CONFIG,
					    "invalid '%%' sequence in query");
				}
			}
			if (i >= n) {
				buf_release(&out);
				return err_set(err, ERR_CONFIG,
				    "unterminated string in query");
			}
			if (has_exp) {
				if (compile_literal(m, q + start, i - start,
					mysql, &out, err) == -1) {
					buf_release(&out);
					return -1;
				}
			} else {
				/* Unchanged, but %% still means %. */
				buf_putc(&out, '\'');
				for (size_t j = start; j < i; j++) {
					if (q[j] == '%' && j + 1 < i &&
					    q[j + 1] == '%')
						j++;
					buf_putc(&out, q[j]);
				}
				buf_putc(&out, '\'');
			}
			i++;
			continue;
		}
		if (c == '"') {
			const char *end = strchr(q + i + 1, '"');
			size_t len =
			    end != NULL ? (size_t)(end - q - i) + 1 : n - i;

			if (memchr(q + i, '%', len) != NULL) {
				buf_release(&out);
				return err_set(err, ERR_CONFIG,
				    "expansions inside double quotes are not supported");
			}
			buf_append(&out, q + i, len);
			i += len;
			continue;
		}
		if (c == '?') {
			buf_release(&out);
			return err_set(err, ERR_CONFIG,
			    "query contains a '?' outside a string");
		}
		if (c == '%') {
			if (i + 1 < n && q[i + 1] == '%') {
				buf_putc(&out, '%');
				i += 2;
				continue;
			}
			if (i + 1 < n && is_code(q[i + 1])) {
				if (add_arg(m, q[i + 1], &out, err) == -1) {
					buf_release(&out);
					return -1;
				}
				i += 2;
				continue;
			}
			buf_release(&out);
			return err_set(
			    err, ERR_CONFIG, "invalid '%%' sequence in query");
		}
		buf_putc(&out, c);
		i++;
	}
	m->sql = buf_detach(&out);
	return 0;
}

static void
sqlmap_free(struct sqlmap *m)
{
	if (m == NULL)
		return;
	dbpool_put(&m->pool);
	free(m->sql);
	free(m->result_format);
	for (size_t i = 0; i < m->ndomains; i++)
		free(m->domains[i]);
	free(m->domains);
	free(m);
}

static int
parse_domains(struct sqlmap *m, const char *v, struct err *err)
{
	char *copy = xstrdup(v), *tok, *save = NULL;

	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (tok[0] == '/' || strchr(tok, ':') != NULL) {
			free(copy);
			return err_set(err, ERR_CONFIG,
			    "'domain = %s': only literal domain names are supported",
			    tok);
		}
		m->domains = xreallocarray(
		    m->domains, m->ndomains + 1, sizeof(*m->domains));
		m->domains[m->ndomains++] = str_lower(xstrdup(tok));
	}
	free(copy);
	return 0;
}

/*
 * Open "[ENGINE:]path" (type sql) or "path" (type mysql, pgsql, sqlite).
 */
static int
sql_open_engine(struct table *t, enum db_engine engine, struct err *err)
{
	const char *path = t->param, *colon, *v;
	struct db_params params;
	struct sqlmap *m;
	struct cf cf;
	char *legacy = NULL;
	int r = -1;

	if (engine == DB_ENGINE_NONE && (colon = strchr(path, ':')) != NULL &&
	    path[0] != '/') {
		char *e = xstrndup(path, (size_t)(colon - path));

		engine = db_engine_parse(e);
		free(e);
		if (engine == DB_ENGINE_NONE)
			return err_set(
			    err, ERR_CONFIG, "unknown engine in '%s'", path);
		path = colon + 1;
	}
	if (engine == DB_ENGINE_NONE && t->env->sql_engine != NULL &&
	    *t->env->sql_engine != '\0')
		engine = db_engine_parse(t->env->sql_engine);
	if (*path == '\0')
		return err_set(
		    err, ERR_CONFIG, "needs the path of a Postfix map file");
	if (cf_parse_file(&cf, path, err) == -1)
		return -1;
	if (db_params_from_cf(&params, &cf, engine, err) == -1) {
		cf_release(&cf);
		return -1;
	}
	table_read_hosts(t, &params);
	if (!db_engine_available(params.engine)) {
		err_set(err, ERR_CONFIG,
		    "this podop was built without %s support",
		    db_engine_name(params.engine));
		goto out_params;
	}
	m = xcalloc(1, sizeof(*m));
	if ((v = cf_get(&cf, "query")) == NULL) {
		const char *tab = cf_get(&cf, "table");
		const char *sel = cf_get(&cf, "select_field");
		const char *wh = cf_get(&cf, "where_field");
		const char *add = cf_get(&cf, "additional_conditions");

		if (tab == NULL || sel == NULL || wh == NULL) {
			err_set(err, ERR_CONFIG, "%s: no 'query'", path);
			goto out_map;
		}
		legacy = xasprintf("SELECT %s FROM %s WHERE %s = '%%s' %s", sel,
		    tab, wh, add != NULL ? add : "");
		v = legacy;
	}
	if (compile_query(m, v, params.engine, err) == -1) {
		err_prefix(err, "%s", path);
		goto out_map;
	}
	if ((v = cf_get(&cf, "result_format")) != NULL && strcmp(v, "%s"))
		m->result_format = xstrdup(v);
	if ((v = cf_get(&cf, "domain")) != NULL &&
	    parse_domains(m, v, err) == -1)
		goto out_map;
	if ((v = cf_get(&cf, "expansion_limit")) != NULL) {
		int64_t lim;

		if (str_to_i64(v, &lim) == -1 || lim < 0) {
			err_set(
			    err, ERR_CONFIG, "%s: bad expansion_limit", path);
			goto out_map;
		}
		m->expansion_limit = (long)lim;
	}
	m->pool = dbpool_get(&params, t->env->timeout_ms);
	t->handle = m;
	r = 0;
	goto out_params;
out_map:
	sqlmap_free(m);
out_params:
	free(legacy);
	db_params_release(&params);
	cf_release(&cf);
	return r;
}

static int
sql_open(struct table *t, struct err *err)
{
	return sql_open_engine(t, DB_ENGINE_NONE, err);
}

static int
mysql_open(struct table *t, struct err *err)
{
	return sql_open_engine(t, DB_ENGINE_MYSQL, err);
}

static int
pgsql_open(struct table *t, struct err *err)
{
	return sql_open_engine(t, DB_ENGINE_PGSQL, err);
}

static int
sqlite_open(struct table *t, struct err *err)
{
	return sql_open_engine(t, DB_ENGINE_SQLITE, err);
}

/* The value an expansion code stands for, for key k (NULL: suppress). */
static const char *
expand_code(char c, const struct keyparts *k, struct buf *scratch)
{
	switch (c) {
	case 's':
	case 'S':
		return k->key;
	case 'u':
	case 'U':
		if (k->local == NULL)
			return k->key;
		return k->local[0] != '\0' ? k->local : NULL;
	case 'd':
	case 'D':
		return k->domain;
	default:
		if (k->domain == NULL ||
		    domain_label(k->domain, c - '0', scratch) == -1)
			return NULL;
		return buf_cstr(scratch);
	}
}

/* Format one result per result_format; false if it is suppressed. */
static bool
format_result(const struct sqlmap *m, const char *v, const struct keyparts *k,
    struct buf *out)
{
	const char *f = m->result_format;
	struct keyparts rv;
	struct buf lab;
	bool ok = true;

	if (f == NULL)
		return buf_puts(out, v) == 0;
	keyparts_init(&rv, v);
	buf_init(&lab, 4096);
	for (; *f != '\0' && ok; f++) {
		const char *x = NULL;

		if (*f != '%' || f[1] == '\0') {
			buf_putc(out, *f);
			continue;
		}
		f++;
		switch (*f) {
		case '%':
			x = "%";
			break;
		case 's':
			x = v;
			break;
		case 'u':
			x = rv.local == NULL	  ? v
			    : rv.local[0] != '\0' ? rv.local
						  : NULL;
			break;
		case 'd':
			x = rv.domain;
			break;
		default:
			x = expand_code(*f, k, &lab);
			break;
		}
		if (x == NULL)
			ok = false;
		else
			buf_puts(out, x);
	}
	buf_release(&lab);
	keyparts_release(&rv);
	return ok;
}

struct sql_call {
	const struct sqlmap *m;
	const struct keyparts *k;
	struct buf *value_r;
};

static int
sql_call(struct db *db, void *arg, struct err *err)
{
	struct sql_call *c = arg;
	const struct sqlmap *m = c->m;
	struct db_arg args[SQL_MAX_ARGS];
	struct buf scratch[SQL_MAX_ARGS], one;
	struct db_res *res = NULL;
	long count = 0;
	int r;

	for (size_t i = 0; i < m->nargs; i++) {
		buf_init(&scratch[i], 4096);
		args[i] = DB_TEXT(expand_code(m->codes[i], c->k, &scratch[i]));
	}
	buf_reset(c->value_r);
	r = db_query(db, m->sql, args, m->nargs, 0, &res, err);
	for (size_t i = 0; i < m->nargs; i++)
		buf_release(&scratch[i]);
	if (r == -1)
		return -1;
	buf_init(&one, 1024 * 1024);
	while ((r = db_next(res, err)) == 1) {
		int ncols = db_ncols(res);

		for (int col = 0; col < ncols; col++) {
			const char *v = db_col(res, col);

			if (v == NULL || *v == '\0')
				continue;
			buf_reset(&one);
			if (!format_result(m, v, c->k, &one) || one.len == 0)
				continue;
			if (m->expansion_limit > 0 &&
			    ++count > m->expansion_limit) {
				r = err_set(err, ERR_TOOLARGE,
				    "expansion limit %ld exceeded",
				    m->expansion_limit);
				goto out;
			}
			if ((c->value_r->len > 0 &&
				buf_putc(c->value_r, ',') == -1) ||
			    buf_append(c->value_r, one.data, one.len) == -1) {
				r = err_set(
				    err, ERR_TOOLARGE, "result too large");
				goto out;
			}
		}
	}
	if (r == 0)
		r = c->value_r->len > 0 ? 1 : 0;
out:
	buf_release(&one);
	db_res_free(&res);
	return r;
}

static bool
domain_allowed(const struct sqlmap *m, const struct keyparts *k)
{
	if (m->ndomains == 0)
		return true;
	if (k->local == NULL || k->local[0] == '\0' || k->domain == NULL)
		return false;
	for (size_t i = 0; i < m->ndomains; i++)
		if (strcmp(m->domains[i], k->domain) == 0)
			return true;
	return false;
}

static int
sql_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	const struct sqlmap *m = t->handle;
	struct sql_call c;
	struct keyparts k;
	struct buf flat;
	int r = 0;

	(void)ttl_ms_r;
	buf_init(&flat, TABLE_KEY_MAX * 2);
	if (table_flat_key(&flat, key, user) == -1) {
		buf_release(&flat);
		return 0;
	}
	str_lower(flat.data);
	keyparts_init(&k, flat.data);
	if (!domain_allowed(m, &k))
		goto out;
	if (m->needs_domain && (k.domain == NULL || k.domain[0] == '\0'))
		goto out;
	if (m->needs_local && k.local != NULL && k.local[0] == '\0')
		goto out;
	c.m = m;
	c.k = &k;
	c.value_r = value_r;
	r = dbpool_run_read(m->pool, sql_call, &c, err);
out:
	keyparts_release(&k);
	buf_release(&flat);
	return r;
}

static uint64_t
sql_generation(struct table *t)
{
	return dbpool_generation(((struct sqlmap *)t->handle)->pool);
}

static bool
sql_tracked(struct table *t)
{
	return dbpool_tracked(((struct sqlmap *)t->handle)->pool);
}

static void
sql_close(struct table *t)
{
	sqlmap_free(t->handle);
	t->handle = NULL;
}

const struct table_backend table_backend_sql = {
	.name = "sql",
	.open = sql_open,
	.lookup = sql_lookup,
	.generation = sql_generation,
	.tracked = sql_tracked,
	.close = sql_close,
};

const struct table_backend table_backend_mysql = {
	.name = "mysql",
	.open = mysql_open,
	.lookup = sql_lookup,
	.generation = sql_generation,
	.tracked = sql_tracked,
	.close = sql_close,
};

const struct table_backend table_backend_pgsql = {
	.name = "pgsql",
	.open = pgsql_open,
	.lookup = sql_lookup,
	.generation = sql_generation,
	.tracked = sql_tracked,
	.close = sql_close,
};

const struct table_backend table_backend_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.lookup = sql_lookup,
	.generation = sql_generation,
	.tracked = sql_tracked,
	.close = sql_close,
};
