/*
 * db_sqlite: the embedded default engine (libsqlite3).
 *
 * Write transactions start with BEGIN IMMEDIATE, which takes the database's
 * write lock up front: that is SQLite's equivalent of the row locks the other
 * engines take with SELECT ... FOR UPDATE, and it makes capacity checks
 * race-free.  A busy timeout lets concurrent writers queue instead of
 * failing; SQLITE_BUSY after it expires is reported as ERR_DEADLOCK so the
 * caller's retry loop handles it like an InnoDB deadlock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "db.h"
#include "db_private.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define SQLITE_BUSY_MS 30000
#define STMT_CACHE 48

/*
 * Prepared statements are cached by SQL text: parsing dominated the cost
 * of short statements (a bulk import runs the same dozen statements for
 * every record).  A statement in use by an open result is not handed out
 * again until the result is freed.
 */
struct sq_cached {
	char *sql;
	sqlite3_stmt *stmt;
	int busy;
	uint64_t used;
};

struct sq_handle {
	sqlite3 *db;
	struct sq_cached cache[STMT_CACHE];
	uint64_t tick;
};

struct sqlite_res {
	struct db_res base;
	sqlite3_stmt *stmt;
	struct sq_cached *cached; /* NULL: finalize on free */
	int pending;		  /* first row already stepped */
	int done;
};

#define SQH(db) (((struct sq_handle *)(db)->handle)->db)

static int
classify(sqlite3 *h, int rc, struct err *err, const char *what)
{
	int ext = h != NULL ? sqlite3_extended_errcode(h) : rc;
	const char *msg = h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc);

	switch (ext) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return err_set(err, ERR_EXISTS, "%s", msg);
	default:
		break;
	}
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return err_set(
		    err, ERR_DEADLOCK, "database is locked: %s", msg);
	return err_set(err, ERR_DATABASE, "sqlite: %s: %s", what, msg);
}

/*
 * postino_fold(x): str_fold(), the case folding of SCIM filters
 * (scim_filter.h), for postino's own SELECTs only.  Other programs open
 * the same file without it, so no index, trigger or view may name it.
 */
static void
sq_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *v;
	size_t n;
	char *out;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	v = sqlite3_value_text(argv[0]);
	if (v == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	out =
	    str_fold((const char *)v, (size_t)sqlite3_value_bytes(argv[0]), &n);
	sqlite3_result_text(ctx, out, (int)n, free);
}

static int
sq_open(struct db *db, const struct db_params *p, struct err *err)
{
	sqlite3 *h = NULL;
	struct stat st;
	int rc;

	if (p->dbpath == NULL || p->dbpath[0] == '\0')
		return err_set(err, ERR_CONFIG,
		    "no SQLite database path (dbpath) configured");
	/*
	 * Never create a database implicitly: a typo in dbpath must not
	 * silently give the admin an empty mail system.  "schema init"
	 * creates the file explicitly (through db_sqlite_create()).
	 */
	if (!p->create && stat(p->dbpath, &st) == -1) {
		err_set(err, ERR_DATABASE,
		    "SQLite database '%s' does not exist", p->dbpath);
		return err_hint(err,
		    "create it with 'postino schema init' or 'postino init'");
	}
	rc = sqlite3_open_v2(p->dbpath, &h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		err_set(err, ERR_DATABASE,
		    "cannot open SQLite database '%s': %s", p->dbpath,
		    h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, SQLITE_BUSY_MS);
	sqlite3_extended_result_codes(h, 1);
	if (sqlite3_create_function(h, "postino_fold", 1,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
		sq_fold, NULL, NULL) != SQLITE_OK) {
		err_set(err, ERR_DATABASE,
		    "sqlite: cannot add postino_fold: %s", sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	{
		struct sq_handle *sh = xcalloc(1, sizeof(*sh));

		sh->db = h;
		db->handle = sh;
	}
	snprintf(db->where, sizeof(db->where), "sqlite at %s", p->dbpath);
	return 0;
}

static void
sq_close(struct db *db)
{
	struct sq_handle *sh = db->handle;

	for (int i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(sh->cache[i].stmt);
		free(sh->cache[i].sql);
	}
	sqlite3_close_v2(sh->db);
	free(sh);
	db->handle = NULL;
}

/* A cached statement for sql, or a new one (cached when possible). */
static int
sq_prepare(struct sq_handle *sh, const char *sql, sqlite3_stmt **st_r,
    struct sq_cached **c_r)
{
	struct sq_cached *victim = NULL;
	int rc;

	*c_r = NULL;
	for (int i = 0; i < STMT_CACHE; i++) {
		struct sq_cached *c = &sh->cache[i];

		if (c->sql != NULL && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			c->used = ++sh->tick;
			*st_r = c->stmt;
			*c_r = c;
			return SQLITE_OK;
		}
		if (!c->busy && (victim == NULL || c->used < victim->used))
			victim = c;
	}
	rc = sqlite3_prepare_v2(sh->db, sql, -1, st_r, NULL);
	if (rc != SQLITE_OK || victim == NULL)
		return rc;
	sqlite3_finalize(victim->stmt);
	free(victim->sql);
	victim->sql = xstrdup(sql);
	victim->stmt = *st_r;
	victim->busy = 1;
	victim->used = ++sh->tick;
	*c_r = victim;
	return SQLITE_OK;
}

/* Give a statement back: reset it and release its cache slot. */
static void
sq_release(sqlite3_stmt *st, struct sq_cached *c)
{
	if (c == NULL) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	c->busy = 0;
}

static int
sq_bind(sqlite3_stmt *st, const struct db_arg *args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		int rc, idx = (int)i + 1;

		switch (args[i].type) {
		case DB_ARG_TEXT:
			rc = args[i].s == NULL
			    ? sqlite3_bind_null(st, idx)
			    : sqlite3_bind_text(
				  st, idx, args[i].s, -1, SQLITE_TRANSIENT);
			break;
		case DB_ARG_INT:
			rc = sqlite3_bind_int64(st, idx, args[i].i);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int
sq_query(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, int flags, struct db_res **res_r, int64_t *affected_r,
    struct err *err)
{
	struct sq_handle *sh = db->handle;
	sqlite3 *h = sh->db;
	sqlite3_stmt *st = NULL;
	struct sq_cached *cached = NULL;
	struct sqlite_res *res;
	int rc;

	(void)flags;
	rc = sq_prepare(sh, sql, &st, &cached);
	if (rc != SQLITE_OK)
		return classify(h, rc, err, "prepare");
	if ((size_t)sqlite3_bind_parameter_count(st) != nargs) {
		sq_release(st, cached);
		return err_set(err, ERR_INTERNAL,
		    "placeholder count mismatch (%d != %zu) in: %.80s",
		    sqlite3_bind_parameter_count(st), nargs, sql);
	}
	rc = sq_bind(st, args, nargs);
	if (rc != SQLITE_OK) {
		sq_release(st, cached);
		return classify(h, rc, err, "bind");
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		classify(h, rc, err, "step");
		sq_release(st, cached);
		return -1;
	}
	*affected_r = sqlite3_changes64(h);
	res = xcalloc(1, sizeof(*res));
	res->base.drv = db->drv;
	res->stmt = st;
	res->cached = cached;
	res->pending = rc == SQLITE_ROW;
	res->done = rc == SQLITE_DONE;
	*res_r = &res->base;
	return 0;
}

static int
sq_next(struct db_res *r, struct err *err)
{
	struct sqlite_res *res = (struct sqlite_res *)r;
	int rc;

	if (res->pending) {
		res->pending = 0;
		return 1;
	}
	if (res->done)
		return 0;
	rc = sqlite3_step(res->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	res->done = 1;
	if (rc == SQLITE_DONE)
		return 0;
	return classify(sqlite3_db_handle(res->stmt), rc, err, "step");
}

static const char *
sq_col(struct db_res *r, int col)
{
	struct sqlite_res *res = (struct sqlite_res *)r;

	if (col < 0 || col >= sqlite3_column_count(res->stmt))
		return NULL;
	return (const char *)sqlite3_column_text(res->stmt, col);
}

static int
sq_ncols(struct db_res *r)
{
	return sqlite3_column_count(((struct sqlite_res *)r)->stmt);
}

static void
sq_res_free(struct db_res *r)
{
	struct sqlite_res *res = (struct sqlite_res *)r;

	sq_release(res->stmt, res->cached);
	free(res);
}

static int
sq_simple(struct db *db, const char *sql, struct err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(SQH(db), sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return classify(SQH(db), rc, err, sql);
	return 0;
}

static int
sq_begin(struct db *db, bool write, struct err *err)
{
	return sq_simple(db, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int
sq_commit(struct db *db, struct err *err)
{
	return sq_simple(db, "COMMIT", err);
}

static void
sq_rollback(struct db *db)
{
	struct err e;

	(void)sq_simple(db, "ROLLBACK", &e);
}

const struct db_driver db_driver_sqlite = {
	.name = "sqlite",
	.engine = DB_ENGINE_SQLITE,
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.next = sq_next,
	.col = sq_col,
	.ncols = sq_ncols,
	.res_free = sq_res_free,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.for_update = false,
	.regexp_op = NULL,
};
