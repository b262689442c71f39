#include <poll.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "db_private.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

/*
 * SQLite is linked in.  The MariaDB and PostgreSQL drivers are modules
 * loaded on first use: their client libraries (and Kerberos, LDAP,
 * GnuTLS... behind them) would otherwise cost every postino invocation
 * several milliseconds of dynamic linking, even on SQLite.
 */
struct module {
	enum db_engine engine;
	const char *file;
	const char *symbol;
	const char *package; /* the Debian package that installs it */
};

static const struct module modules[] = {
#ifdef HAVE_MYSQL
	{ DB_ENGINE_MYSQL, "postino-db-mysql.so", "db_driver_mysql",
	    "postino-mysql" },
#endif
#ifdef HAVE_PGSQL
	{ DB_ENGINE_PGSQL, "postino-db-pgsql.so", "db_driver_pgsql",
	    "postino-pgsql" },
#endif
	{ DB_ENGINE_NONE, NULL, NULL, NULL }
};

static const struct module *
module_for(enum db_engine e)
{
	for (size_t i = 0; modules[i].file != NULL; i++)
		if (modules[i].engine == e)
			return &modules[i];
	return NULL;
}

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct db_driver *loaded[DB_ENGINE_PGSQL + 1];
static char load_error[512];

/* out = a "/" b; -1 if it does not fit. */
static int
path_join(char *out, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + 1 + lb + 1 > size)
		return -1;
	memcpy(out, a, la);
	out[la] = '/';
	memcpy(out + la + 1, b, lb + 1);
	return 0;
}

/* Try dir/file; returns the driver or NULL (load_error set). */
static const struct db_driver *
try_load(const char *dir, const struct module *mod)
{
	char path[PATH_MAX];
	void *h;
	const struct db_driver *d;

	if (path_join(path, sizeof(path), dir, mod->file) == -1)
		return NULL;
	if (access(path, R_OK) == -1)
		return NULL;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return NULL;
	}
	d = dlsym(h, mod->symbol);
	if (d == NULL) {
		snprintf(load_error, sizeof(load_error), "%.400s: no symbol %s",
		    path, mod->symbol);
		dlclose(h);
	}
	return d;
}

static const struct db_driver *
load_module(const struct module *mod)
{
	const char *env = getenv("POSTINO_MODULE_DIR");
	const struct db_driver *d = NULL;
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0' && (d = try_load(env, mod)) != NULL)
		return d;
	if ((d = try_load(POSTINO_MODULEDIR, mod)) != NULL)
		return d;
	/* Uninstalled: programs in build/src/<prog>, modules in build/src/db.
	 */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (path_join(dir, sizeof(dir), self, "../db") == 0 &&
			    (d = try_load(dir, mod)) != NULL)
				return d;
			if (path_join(dir, sizeof(dir), self, "../src/db") ==
				0 &&
			    (d = try_load(dir, mod)) != NULL)
				return d;
		}
	}
	if (load_error[0] == '\0')
		snprintf(load_error, sizeof(load_error), "%s not found in %s",
		    mod->file, POSTINO_MODULEDIR);
	return NULL;
}

static const struct db_driver *
driver_for(enum db_engine e)
{
	const struct db_driver *d = NULL;

#ifdef HAVE_SQLITE
	if (e == DB_ENGINE_SQLITE)
		return &db_driver_sqlite;
#endif
	if ((int)e <= 0 || e > DB_ENGINE_PGSQL)
		return NULL;
	pthread_mutex_lock(&load_mu);
	if (loaded[e] == NULL)
		for (size_t i = 0; modules[i].file != NULL; i++)
			if (modules[i].engine == e)
				loaded[e] = load_module(&modules[i]);
	d = loaded[e];
	pthread_mutex_unlock(&load_mu);
	return d;
}

bool
db_engine_built(enum db_engine e)
{
#ifdef HAVE_SQLITE
	if (e == DB_ENGINE_SQLITE)
		return true;
#endif
	for (size_t i = 0; modules[i].file != NULL; i++)
		if (modules[i].engine == e)
			return true;
	return false;
}

const char *
db_engine_regexp_op(enum db_engine e)
{
	return e == DB_ENGINE_MYSQL ? "REGEXP"
	    : e == DB_ENGINE_PGSQL  ? "~"
				    : NULL;
}

const char *
db_engine_name(enum db_engine e)
{
	switch (e) {
	case DB_ENGINE_SQLITE:
		return "sqlite";
	case DB_ENGINE_MYSQL:
		return "mysql";
	case DB_ENGINE_PGSQL:
		return "pgsql";
	default:
		return "none";
	}
}

enum db_engine
db_engine_parse(const char *s)
{
	if (s == NULL)
		return DB_ENGINE_NONE;
	if (strcmp(s, "sqlite") == 0 || strcmp(s, "sqlite3") == 0)
		return DB_ENGINE_SQLITE;
	if (strcmp(s, "mysql") == 0 || strcmp(s, "mariadb") == 0)
		return DB_ENGINE_MYSQL;
	if (strcmp(s, "pgsql") == 0 || strcmp(s, "postgresql") == 0 ||
	    strcmp(s, "postgres") == 0)
		return DB_ENGINE_PGSQL;
	return DB_ENGINE_NONE;
}

bool
db_engine_available(enum db_engine e)
{
	return driver_for(e) != NULL;
}

const char *
db_engine_package(enum db_engine e)
{
	const struct module *m = module_for(e);

	return m != NULL ? m->package : NULL;
}

int
db_engine_usable(enum db_engine e, struct err *err)
{
	const struct module *m;

	if (e == DB_ENGINE_NONE) {
		err_set(err, ERR_CONFIG, "no database engine configured");
		return err_hint(
		    err, "set postfix_sql_engine to sqlite, mysql or pgsql");
	}
	if (driver_for(e) != NULL)
		return 0;
	m = module_for(e);
	if (m != NULL) {
		err_set(err, ERR_CONFIG,
		    "the %s driver is not installed (package %s): %s",
		    db_engine_name(e), m->package, load_error);
		return err_hint(err,
		    "install the %s package, or set POSTINO_MODULE_DIR to the directory holding %s",
		    m->package, m->file);
	}
	err_set(err, ERR_CONFIG, "this postino was built without %s support",
	    db_engine_name(e));
	return err_hint(
	    err, "install the client library's -dev package and rebuild");
}

void
db_params_release(struct db_params *p)
{
	free(p->hosts);
	free(p->user);
	str_wipe(p->password);
	free(p->password);
	free(p->dbname);
	free(p->dbpath);
	free(p->source);
	memset(p, 0, sizeof(*p));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
db_params_copy(struct db_params *dst, const struct db_params *src)
{
	dst->engine = src->engine;
	dst->hosts = dup_or_null(src->hosts);
	dst->user = dup_or_null(src->user);
	dst->password = dup_or_null(src->password);
	dst->dbname = dup_or_null(src->dbname);
	dst->dbpath = dup_or_null(src->dbpath);
	dst->connect_timeout = src->connect_timeout;
	dst->create = src->create;
	dst->reader = src->reader;
	dst->source = dup_or_null(src->source);
}

/* Percent-decode s[0..n) into a new string; NULL if malformed. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			h = i + 1 < n ? str_hexval((unsigned char)s[i + 1])
				      : -1;
			l = i + 2 < n ? str_hexval((unsigned char)s[i + 2])
				      : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

int
db_params_from_dsn(struct db_params *p, const char *dsn, struct err *err)
{
	const char *rest, *at, *slash, *q;
	char *scheme;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->source = xstrdup("DSN");
	if (dsn[0] == '/' || str_prefix(dsn, "./")) {
		p->engine = DB_ENGINE_SQLITE;
		p->dbpath = xstrdup(dsn);
		return 0;
	}
	rest = strchr(dsn, ':');
	if (rest == NULL)
		goto bad;
	scheme = xstrndup(dsn, (size_t)(rest - dsn));
	p->engine = db_engine_parse(scheme);
	free(scheme);
	if (p->engine == DB_ENGINE_NONE)
		goto bad;
	rest++;
	if (p->engine == DB_ENGINE_SQLITE) {
		if (str_prefix(rest, "//"))
			rest += 2;
		if (*rest == '\0')
			goto bad;
		p->dbpath = xstrdup(rest);
		return 0;
	}
	if (!str_prefix(rest, "//"))
		goto bad;
	rest += 2;
	q = strchr(rest, '?');
	n = q != NULL ? (size_t)(q - rest) : strlen(rest);
	slash = memchr(rest, '/', n);
	if (slash == NULL)
		goto bad;
	at = memchr(rest, '@', (size_t)(slash - rest));
	if (at != NULL) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		const char *uend = colon != NULL ? colon : at;

		p->user = pct_decode(rest, (size_t)(uend - rest));
		if (colon != NULL)
			p->password =
			    pct_decode(colon + 1, (size_t)(at - colon - 1));
		if (p->user == NULL || (colon != NULL && p->password == NULL))
			goto bad;
		rest = at + 1;
	}
	p->hosts = xstrndup(rest, (size_t)(slash - rest));
	p->dbname = pct_decode(slash + 1, (size_t)(rest + n - (slash + 1)));
	if (p->dbname == NULL || p->dbname[0] == '\0')
		goto bad;
	if (q != NULL) {
		if (!str_prefix(q, "?socket=") || q[8] == '\0')
			goto bad;
		free(p->hosts);
		p->hosts = xasprintf("unix:%s", q + 8);
	}
	if (p->hosts[0] == '\0') {
		free(p->hosts);
		p->hosts = xstrdup("localhost");
	}
	return 0;
bad:
	db_params_release(p);
	err_set(err, ERR_CONFIG, "cannot parse database DSN '%s'", "(hidden)");
	return err_hint(err,
	    "use sqlite:/path/to/db, mysql://user@host:port/dbname or pgsql://user@host:port/dbname");
}

/*
 * The database's clock, as PostfixAdmin writes it (its now()): UTC on
 * SQLite, the session's time zone on MariaDB and PostgreSQL.  Kept as the
 * seconds to add to the local clock's UTC reading; read once per
 * connection, falling back to local time when the server cannot say.
 */
static _Atomic long clock_offset;
static _Atomic int clock_known;

static void
clock_sync(struct db *db)
{
	const char *sql;
	char *v = NULL;
	struct err e = ERR_INIT;
	struct tm tm;
	time_t now;

	switch (db->params.engine) {
	case DB_ENGINE_SQLITE:
		clock_offset = 0; /* datetime('now'): the same clock, UTC */
		clock_known = 1;
		return;
	case DB_ENGINE_MYSQL:
		sql = "SELECT DATE_FORMAT(NOW(), '%Y-%m-%d %H:%i:%s')";
		break;
	case DB_ENGINE_PGSQL:
		sql = "SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS')";
		break;
	default:
		return;
	}
	if (db_query_value(db, sql, NULL, 0, &v, &e) == 1 && v != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (sscanf(v, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
			&tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			&tm.tm_sec) == 6) {
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			now = time(NULL);
			clock_offset = (long)(timegm(&tm) - now);
			clock_known = 1;
		}
	}
	free(v);
}

long
db_clock_offset(time_t t)
{
	struct tm tm;

	if (clock_known)
		return clock_offset;
	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

struct db *
db_open(const struct db_params *p, struct err *err)
{
	const struct db_driver *drv;
	struct db *db;

	drv = driver_for(p->engine);
	if (drv == NULL) {
		(void)db_engine_usable(p->engine, err);
		return NULL;
	}
	db = xcalloc(1, sizeof(*db));
	db->drv = drv;
	db_params_copy(&db->params, p);
	if (drv->open(db, p, err) == -1) {
		db_params_release(&db->params);
		free(db);
		return NULL;
	}
	clock_sync(db);
	return db;
}

void
db_close(struct db **dbp)
{
	struct db *db = *dbp;

	if (db == NULL)
		return;
	if (db->in_tx)
		db->drv->rollback(db);
	if (db->cache_free != NULL)
		db->cache_free(db->cache);
	db->drv->close(db);
	db_params_release(&db->params);
	free(db);
	*dbp = NULL;
}

enum db_engine
db_engine(const struct db *db)
{
	return db->drv->engine;
}

const char *
db_where(const struct db *db)
{
	return db->where;
}

int64_t
db_exec(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
    struct err *err)
{
	struct db_res *res = NULL;
	int64_t affected = 0;

	if (db->drv->query(db, sql, args, nargs, 0, &res, &affected, err) == -1)
		return -1;
	if (res != NULL)
		db->drv->res_free(res);
	return affected;
}

char *
db_placeholders(size_t n)
{
	char *s = xmalloc(n * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			s[o++] = ',';
			s[o++] = ' ';
		}
		s[o++] = '?';
	}
	s[o] = '\0';
	return s;
}

/* Bytes a value adds to a statement's packet (about). */
static size_t
arg_bytes(const struct db_arg *a)
{
	return (a->type == DB_ARG_TEXT && a->s != NULL ? strlen(a->s) : 8) + 4;
}

int64_t
db_insert_rows(struct db *db, const char *head, size_t ncols,
    const struct db_arg *args, size_t nrows, struct err *err)
{
	return db_insert_rows_as(db, head, ncols, NULL, args, nrows, err);
}

int64_t
db_insert_rows_as(struct db *db, const char *head, size_t ncols,
    const char *row, const struct db_arg *args, size_t nrows, struct err *err)
{
	size_t per = ncols > 0 ? DB_ROWS_PARAMS_MAX / ncols : 0;
	size_t done = 0;
	int64_t total = 0;
	struct buf sql;

	if (ncols == 0 || per == 0)
		return err_set(err, ERR_INTERNAL,
		    "db_insert_rows: bad column count %zu", ncols);
	buf_init(&sql, 0);
	while (done < nrows) {
		size_t rows = 0, bytes = 0;
		int64_t n;

		/* As many rows as the limits take, at least one. */
		while (done + rows < nrows && rows < per) {
			size_t rb = 0;

			for (size_t c = 0; c < ncols; c++)
				rb +=
				    arg_bytes(&args[(done + rows) * ncols + c]);
			if (rows > 0 && bytes + rb > DB_ROWS_BYTES_MAX)
				break;
			bytes += rb;
			rows++;
		}
		buf_reset(&sql);
		buf_puts(&sql, head);
		buf_puts(&sql, " VALUES ");
		for (size_t r = 0; r < rows; r++) {
			if (r > 0)
				buf_puts(&sql, ", ");
			if (row != NULL) {
				buf_puts(&sql, row);
				continue;
			}
			buf_putc(&sql, '(');
			for (size_t c = 0; c < ncols; c++)
				buf_puts(&sql, c > 0 ? ", ?" : "?");
			buf_putc(&sql, ')');
		}
		n = db_exec(
		    db, buf_cstr(&sql), args + done * ncols, rows * ncols, err);
		if (n == -1) {
			buf_release(&sql);
			return -1;
		}
		total += n;
		done += rows;
	}
	buf_release(&sql);
	return total;
}

int
db_query(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, int flags, struct db_res **res_r, struct err *err)
{
	int64_t affected;

	*res_r = NULL;
	if (db->drv->query(
		db, sql, args, nargs, flags, res_r, &affected, err) == -1)
		return -1;
	if (*res_r == NULL)
		return err_set(err, ERR_INTERNAL,
		    "query returned no result set: %.80s", sql);
	return 0;
}

int
db_next(struct db_res *res, struct err *err)
{
	return res->drv->next(res, err);
}

const char *
db_col(struct db_res *res, int col)
{
	return res->drv->col(res, col);
}

int64_t
db_col_int(struct db_res *res, int col, int64_t dflt)
{
	const char *s = db_col(res, col);
	int64_t v;

	if (s == NULL || str_to_i64(s, &v) == -1)
		return dflt;
	return v;
}

int
db_ncols(struct db_res *res)
{
	return res->drv->ncols(res);
}

void
db_res_free(struct db_res **resp)
{
	if (*resp == NULL)
		return;
	(*resp)->drv->res_free(*resp);
	*resp = NULL;
}

int
db_query_value(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, char **val_r, struct err *err)
{
	struct db_res *res;
	int r;

	*val_r = NULL;
	if (db_query(db, sql, args, nargs, 0, &res, err) == -1)
		return -1;
	r = db_next(res, err);
	if (r == 1) {
		const char *v = db_col(res, 0);

		*val_r = v != NULL ? xstrdup(v) : NULL;
	}
	db_res_free(&res);
	return r;
}

int
db_query_int(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, int64_t *val_r, struct err *err)
{
	char *v;
	int r;

	r = db_query_value(db, sql, args, nargs, &v, err);
	if (r == 1) {
		if (v == NULL || str_to_i64(v, val_r) == -1)
			*val_r = 0;
	}
	free(v);
	return r;
}

int
db_begin(struct db *db, bool write, struct err *err)
{
	if (db->in_tx)
		return err_set(err, ERR_INTERNAL, "nested transaction");
	db->commit_unknown = false;
	if (db->drv->begin(db, write, err) == -1)
		return -1;
	db->tx_seq++;
	db->in_tx = 1;
	return 0;
}

int
db_commit(struct db *db, struct err *err)
{
	int r;

	if (!db->in_tx)
		return err_set(err, ERR_INTERNAL, "commit outside transaction");
	r = db->drv->commit(db, err);
	if (r == -1) {
		/*
		 * Lost during COMMIT: the server may have committed (and a
		 * Galera cluster replicated) the transaction before it went.
		 */
		if (db->broken && err->kind == ERR_DATABASE) {
			db->commit_unknown = true;
			err_prefix(err,
			    "the connection was lost during COMMIT, so the change may or may not have been made");
			err_hint(err,
			    "look at the current state before running the command again");
		}
		db->drv->rollback(db);
	}
	db->in_tx = 0;
	return r;
}

bool
db_idle_usable(struct db *db)
{
	struct pollfd p;
	int fd;

	if (db->broken)
		return false;
	if (db->drv->socket == NULL || (fd = db->drv->socket(db)) < 0)
		return true;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	/* Idle, so nothing is owed to us: anything readable is bad news. */
	if (poll(&p, 1, 0) == 0)
		return true;
	db->broken = true;
	return false;
}

int
db_reconnect(struct db *db, struct err *err)
{
	struct db fresh;

	if (db->in_tx)
		return err_set(
		    err, ERR_INTERNAL, "reconnect inside a transaction");
	/* The old handle stays (broken) unless a new one opens. */
	memset(&fresh, 0, sizeof(fresh));
	fresh.drv = db->drv;
	db_params_copy(&fresh.params, &db->params);
	if (db->drv->open(&fresh, &fresh.params, err) == -1) {
		db_params_release(&fresh.params);
		return -1;
	}
	db_params_release(&fresh.params);
	db->drv->close(db);
	db->handle = fresh.handle;
	db->galera = fresh.galera;
	memcpy(db->where, fresh.where, sizeof(db->where));
	db->broken = false;
	clock_sync(db);
	return 0;
}

void
db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->drv->rollback(db);
	db->in_tx = 0;
}

const char *
db_for_update(const struct db *db)
{
	return db->drv->for_update ? " FOR UPDATE" : "";
}

int
db_table_exists(struct db *db, const char *table, struct err *err)
{
	const char *sql;
	struct db_arg a[] = { DB_TEXT(table) };
	int64_t n;

	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		sql = "SELECT COUNT(*) FROM sqlite_master "
		      "WHERE type = 'table' AND name = ?";
		break;
	case DB_ENGINE_MYSQL:
		sql = "SELECT COUNT(*) FROM information_schema.tables "
		      "WHERE table_schema = DATABASE() AND table_name = ?";
		break;
	default:
		/* pg_tables, unlike information_schema, ignores privileges. */
		sql = "SELECT COUNT(*) FROM pg_catalog.pg_tables "
		      "WHERE schemaname = current_schema() AND tablename = ?";
		break;
	}
	if (db_query_int(db, sql, a, DB_NARGS(a), &n, err) == -1)
		return -1;
	return n > 0;
}

int
db_column_exists(
    struct db *db, const char *table, const char *col, struct err *err)
{
	const char *sql;
	struct db_arg a[] = { DB_TEXT(table), DB_TEXT(col) };
	int64_t n;

	switch (db_engine(db)) {
	case DB_ENGINE_SQLITE:
		sql = "SELECT COUNT(*) FROM pragma_table_info(?) "
		      "WHERE name = ?";
		break;
	case DB_ENGINE_MYSQL:
		sql = "SELECT COUNT(*) FROM information_schema.columns "
		      "WHERE table_schema = DATABASE() AND table_name = ? "
		      "AND column_name = ?";
		break;
	default:
		sql = "SELECT COUNT(*) FROM information_schema.columns "
		      "WHERE table_schema = current_schema() "
		      "AND table_name = ? AND column_name = ?";
		break;
	}
	if (db_query_int(db, sql, a, DB_NARGS(a), &n, err) == -1)
		return -1;
	return n > 0;
}

const char *
db_now(char *buf, size_t size)
{
	struct tm tm;
	time_t t = time(NULL);

	t += db_clock_offset(t);
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}
