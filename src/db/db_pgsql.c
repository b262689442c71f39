/*
 * db_pgsql: PostgreSQL through libpq.
 *
 * Placeholders are rewritten to $n and every argument is sent as text of
 * unknown type, so the server infers the column type (booleans accept
 * "1"/"0").  Results are normalised on the way out: booleans become "1"/"0",
 * timestamps lose their fractional seconds and zone offset (the session runs
 * in the client's local zone, like PostfixAdmin's PHP does).
 *
 * A statement run a second time on a connection is prepared under a name and
 * run from then on with PQexecPrepared: the server parses and plans it once,
 * which halves its work in a bulk import.  A pooler in transaction mode
 * (pgbouncer before 1.21) loses named statements between transactions; the
 * first sign of that (SQLSTATE 26000 or 42P05; or 0A000, a table changed
 * under a cached plan) turns preparing off for the connection, and a
 * transaction it broke fails as retryable (ERR_DEADLOCK).  Streamed queries
 * are never prepared.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "db_private.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define PG_OID_BOOL 16
#define PG_OID_TIMESTAMP 1114
#define PG_OID_TIMESTAMPTZ 1184

#define STMT_CACHE 48

struct pg_stmt {
	char *sql; /* as the caller wrote it: the key */
	unsigned uses;
	bool prepared;
};

struct pg_handle {
	PGconn *c;
	struct pg_stmt cache[STMT_CACHE]; /* first come; never evicted */
	bool noprep;			  /* a pooler is in the way */
};

struct pg_res {
	struct db_res base;
	PGconn *conn;
	PGresult *res;
	int row; /* current row in res, -1 before first */
	int stream;
	int done;
	char (*fix)[20]; /* normalised timestamps, per column */
	int nfix;
};

static int
classify(PGconn *c, PGresult *r, struct err *err)
{
	const char *state =
	    r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c);
	char clean[ERR_MSG_MAX];
	size_t n;

	str_copy(clean, msg != NULL ? msg : "unknown error", sizeof(clean));
	n = strlen(clean);
	while (n > 0 && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
		clean[--n] = '\0';
	if (state != NULL) {
		if (strcmp(state, "23505") == 0)
			return err_set(err, ERR_EXISTS, "%s", clean);
		if (strcmp(state, "40P01") == 0 ||
		    strcmp(state, "40001") == 0 || strcmp(state, "55P03") == 0)
			return err_set(err, ERR_DEADLOCK, "%s", clean);
		if (strcmp(state, "42501") == 0) {
			err_set(err, ERR_DATABASE, "pgsql: %s", clean);
			return err_hint(err,
			    "the database user lacks a privilege; see 'postino check' for the grants postino needs");
		}
	}
	return err_set(err, ERR_DATABASE, "pgsql: %s", clean);
}

/* Local time zone name for the session, or NULL to keep the server's. */
static char *
local_zone(void)
{
	char link[PATH_MAX];
	const char *tz = getenv("TZ");
	ssize_t n;
	char *z;

	if (tz != NULL && *tz != '\0')
		return xstrdup(tz[0] == ':' ? tz + 1 : tz);
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	z = strstr(link, "zoneinfo/");
	return z != NULL ? xstrdup(z + 9) : NULL;
}

static PGconn *
try_host(const struct db_params *p, const struct db_host *h, char *where,
    size_t wsize)
{
	const char *kw[11], *val[11];
	char port[16], tmo[16], dir[PATH_MAX];
	int i = 0;

	if (h->socket != NULL) {
		/* Accept both the socket directory and the socket file. */
		const char *base = strrchr(h->socket, '/');

		str_copy(dir, h->socket, sizeof(dir));
		if (base != NULL && str_prefix(base + 1, ".s.PGSQL.")) {
			dir[base - h->socket] = '\0';
			str_copy(port, base + 10, sizeof(port));
		} else
			port[0] = '\0';
		kw[i] = "host", val[i++] = dir;
		snprintf(where, wsize, "%s", h->socket);
	} else {
		if (h->port > 0)
			snprintf(port, sizeof(port), "%d", h->port);
		else
			port[0] = '\0';
		kw[i] = "host", val[i++] = h->host;
		snprintf(
		    where, wsize, "%s:%s", h->host, port[0] ? port : "5432");
	}
	if (port[0] != '\0')
		kw[i] = "port", val[i++] = port;
	if (p->user != NULL)
		kw[i] = "user", val[i++] = p->user;
	if (p->password != NULL)
		kw[i] = "password", val[i++] = p->password;
	if (p->dbname != NULL)
		kw[i] = "dbname", val[i++] = p->dbname;
	snprintf(tmo, sizeof(tmo), "%d",
	    p->connect_timeout > 0 ? p->connect_timeout : 10);
	kw[i] = "connect_timeout", val[i++] = tmo;
	kw[i] = "application_name", val[i++] = "postino";
	/* libpq's own test: a writer never settles for a hot standby. */
	kw[i] = "target_session_attrs",
	val[i++] = p->reader ? "any" : "read-write";
	kw[i] = NULL, val[i] = NULL;
	return PQconnectdbParams(kw, val, 0);
}

static const char writer_hint[] =
    "; a writer needs the primary (a hot standby takes no writes)";

/* Whether c is a hot standby (the server reports in_hot_standby from 14). */
static bool
is_standby(PGconn *c)
{
	const char *v = PQparameterStatus(c, "in_hot_standby");
	PGresult *r;
	bool standby;

	if (v != NULL)
		return strcmp(v, "on") == 0;
	r = PQexec(c, "SELECT pg_is_in_recovery()");
	standby = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return standby;
}

/*
 * Writers take the first host that takes writes (libpq's
 * target_session_attrs=read-write on each).  Readers prefer a hot standby
 * (libpq's prefer-standby, in one pass): the first listed standby that
 * answers, else the first host that answered, so that a list naming the
 * primary first still reads from a replica, and the primary serves only
 * when no replica answers.
 */
static int
pg_open(struct db *db, const struct db_params *p, struct err *err)
{
	struct db_host *hosts;
	size_t n = db_hosts_parse(p->hosts, &hosts);
	char where[512] = "", tried[ERR_MSG_MAX] = "";
	char spare_where[512] = "";
	size_t tlen = 0, ntried = 0, nfailed = 0;
	PGconn *c = NULL, *spare = NULL; /* spare: a primary, for a reader */

	for (size_t i = 0; i < n; i++) {
		char why[256];
		size_t l;
		int w;

		if (hosts[i].port == -1)
			continue;
		c = try_host(p, &hosts[i], where, sizeof(where));
		if (PQstatus(c) == CONNECTION_OK) {
			if (!p->reader || is_standby(c))
				break;
			if (spare == NULL) {
				spare = c;
				str_copy(
				    spare_where, where, sizeof(spare_where));
			} else
				PQfinish(c);
			c = NULL;
			continue;
		}
		/* Every host tried, and why it would not do, for the error. */
		str_copy(why, PQerrorMessage(c), sizeof(why));
		l = strlen(why);
		while (l > 0 && (why[l - 1] == '\n' || why[l - 1] == ' '))
			why[--l] = '\0';
		w = snprintf(tried + tlen, sizeof(tried) - tlen, "%s%s: %s",
		    ntried > 0 ? "; " : "", where, why);
		if (w > 0 && (size_t)w < sizeof(tried) - tlen)
			tlen += (size_t)w;
		ntried++;
		nfailed++;
		PQfinish(c);
		c = NULL;
	}
	db_hosts_free(hosts, n);
	if (c != NULL) {
		PQfinish(spare);
		/* A standby listed before this one did not answer. */
		db->fallback = nfailed > 0;
	} else if (spare != NULL) {
		/* No standby answered: any that failed might have been one. */
		c = spare;
		str_copy(where, spare_where, sizeof(where));
		db->fallback = nfailed > 0;
	}
	if (c == NULL) {
		if (ntried == 0)
			err_set(err, ERR_DATABASE,
			    "cannot connect to PostgreSQL: no host to try");
		else
			err_set(err, ERR_DATABASE, "%s (%zu tried): %s",
			    p->reader ? "cannot connect to PostgreSQL"
				      : "no writable PostgreSQL server",
			    ntried, tried);
		return err_hint(err,
		    "check 'hosts', 'user' and 'dbname' in %s and that the server is running%s",
		    p->source != NULL ? p->source : "the map file",
		    p->reader ? "" : writer_hint);
	}
	{
		struct pg_handle *h = xcalloc(1, sizeof(*h));

		h->c = c;
		db->handle = h;
	}
	snprintf(db->where, sizeof(db->where), "pgsql at %s", where);
	{
		/*
		 * Never wait forever on a row lock: after 30 s the statement
		 * fails as a lock timeout (ERR_DEADLOCK), which callers retry
		 * and then report, like InnoDB's lock wait timeout.
		 */
		const char *v[1] = { "30s" };
		PGresult *r = PQexecParams(c,
		    "SELECT set_config('lock_timeout', $1, false)", 1, NULL, v,
		    NULL, NULL, 0);

		PQclear(r);
	}
	{
		char *zone = local_zone();

		if (zone != NULL) {
			const char *v[1] = { zone };
			PGresult *r = PQexecParams(c,
			    "SELECT set_config('TimeZone', $1, false)", 1, NULL,
			    v, NULL, NULL, 0);

			PQclear(r); /* an unknown zone keeps the default */
			free(zone);
		}
	}
	return 0;
}

static void
pg_close(struct db *db)
{
	struct pg_handle *h = db->handle;

	for (int i = 0; i < STMT_CACHE; i++)
		free(h->cache[i].sql);
	PQfinish(h->c);
	free(h);
	db->handle = NULL;
}

/* The cache slot for sql, claiming a free one; NULL when all are taken. */
static struct pg_stmt *
stmt_slot(struct pg_handle *h, const char *sql, int *idx)
{
	for (int i = 0; i < STMT_CACHE; i++) {
		struct pg_stmt *s = &h->cache[i];

		if (s->sql == NULL) {
			s->sql = xstrdup(sql);
			*idx = i;
			return s;
		}
		if (strcmp(s->sql, sql) == 0) {
			*idx = i;
			return s;
		}
	}
	return NULL;
}

/*
 * Did r fail because the server no longer has (or already had) our named
 * statement?  executing: r is from PQexecPrepared, where 0A000 means a
 * table changed under the cached plan.
 */
static bool
lost_statement(PGresult *r, bool executing)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (PQresultStatus(r) != PGRES_FATAL_ERROR || state == NULL)
		return false;
	return strcmp(state, "26000") == 0 || strcmp(state, "42P05") == 0 ||
	    (executing && strcmp(state, "0A000") == 0);
}

/*
 * Prepared statements stopped working on this connection: give them up.
 * Returns true when the caller may run the statement again unnamed, false
 * when the transaction it was in is now aborted (err is set: retryable).
 */
static bool
give_up_preparing(struct db *db, struct pg_handle *h, struct err *err)
{
	h->noprep = true;
	if (PQtransactionStatus(h->c) != PQTRANS_INERROR)
		return true;
	err_set(err, ERR_DEADLOCK,
	    "a prepared statement went missing on %s (a pooler in transaction mode?); the transaction is retried without them",
	    db->where);
	return false;
}

/*
 * Run q (sql rewritten) with PQexecParams, or prepared when it recurs.
 * *aborted: no result, the transaction broke (err is set).
 */
static PGresult *
exec_cached(struct db *db, const char *sql, const char *q, int nargs,
    const char *const *vals, bool *aborted, struct err *err)
{
	struct pg_handle *h = db->handle;
	struct pg_stmt *s = NULL;
	PGresult *r;
	char name[24];
	int idx = 0;

	if (!h->noprep)
		s = stmt_slot(h, sql, &idx);
	if (s == NULL || (!s->prepared && ++s->uses < 2))
		return PQexecParams(h->c, q, nargs, NULL, vals, NULL, NULL, 0);
	snprintf(name, sizeof(name), "postino_%d", idx);
	if (!s->prepared) {
		r = PQprepare(h->c, name, q, nargs, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			if (!lost_statement(r, false))
				return r; /* the statement's own error */
			goto lost;
		}
		PQclear(r);
		s->prepared = true;
	}
	r = PQexecPrepared(h->c, name, nargs, vals, NULL, NULL, 0);
	if (!lost_statement(r, true))
		return r;
lost:
	PQclear(r);
	if (!give_up_preparing(db, h, err)) {
		*aborted = true;
		return NULL;
	}
	return PQexecParams(h->c, q, nargs, NULL, vals, NULL, NULL, 0);
}

static int
pg_query(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, int flags, struct db_res **res_r, int64_t *affected_r,
    struct err *err)
{
	struct pg_handle *h = db->handle;
	PGconn *c = h->c;
	char *q = db_rewrite_dollar(sql);
	const char **vals = NULL;
	char(*ibuf)[24] = NULL;
	struct pg_res *res;
	PGresult *r = NULL;
	bool aborted = false;
	int rc = -1;

	if (nargs > 0) {
		vals = xcalloc(nargs, sizeof(*vals));
		ibuf = xcalloc(nargs, sizeof(*ibuf));
		for (size_t i = 0; i < nargs; i++)
			vals[i] =
			    db_arg_text(&args[i], ibuf[i], sizeof(ibuf[i]));
	}
	if (flags & DB_STREAM) {
		if (!PQsendQueryParams(
			c, q, (int)nargs, NULL, vals, NULL, NULL, 0) ||
		    !PQsetSingleRowMode(c)) {
			classify(c, NULL, err);
			goto out;
		}
		res = xcalloc(1, sizeof(*res));
		res->base.drv = db->drv;
		res->conn = c;
		res->stream = 1;
		res->row = -1;
		*affected_r = 0;
		*res_r = &res->base;
		rc = 0;
		goto out;
	}
	r = exec_cached(db, sql, q, (int)nargs, vals, &aborted, err);
	if (aborted)
		goto out;
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK: {
		const char *t = PQcmdTuples(r);
		int64_t a = 0;

		if (t != NULL && *t != '\0')
			(void)str_to_i64(t, &a);
		*affected_r = a;
		res = xcalloc(1, sizeof(*res));
		res->base.drv = db->drv;
		res->conn = c;
		res->res = r;
		res->row = -1;
		r = NULL;
		*res_r = &res->base;
		rc = 0;
		break;
	}
	default:
		if (PQstatus(c) != CONNECTION_OK)
			err_set(err, ERR_DATABASE,
			    "lost connection to PostgreSQL (%s)", db->where);
		else
			classify(c, r, err);
		break;
	}
out:
	PQclear(r);
	free(vals);
	free(ibuf);
	free(q);
	return rc;
}

static int
pg_next(struct db_res *rr, struct err *err)
{
	struct pg_res *res = (struct pg_res *)rr;

	if (res->done)
		return 0;
	if (!res->stream) {
		if (res->row + 1 >= PQntuples(res->res)) {
			res->done = 1;
			return 0;
		}
		res->row++;
		return 1;
	}
	PQclear(res->res);
	res->res = PQgetResult(res->conn);
	if (res->res == NULL) {
		res->done = 1;
		return 0;
	}
	switch (PQresultStatus(res->res)) {
	case PGRES_SINGLE_TUPLE:
		res->row = 0;
		return 1;
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK: {
		/* End of rows: drain until NULL. */
		PGresult *x;

		while ((x = PQgetResult(res->conn)) != NULL)
			PQclear(x);
		res->done = 1;
		return 0;
	}
	default: {
		PGresult *x;

		classify(res->conn, res->res, err);
		while ((x = PQgetResult(res->conn)) != NULL)
			PQclear(x);
		res->done = 1;
		return -1;
	}
	}
}

static const char *
pg_col(struct db_res *rr, int col)
{
	struct pg_res *res = (struct pg_res *)rr;
	const char *v;
	Oid t;

	if (res->res == NULL || res->row < 0 || col < 0 ||
	    col >= PQnfields(res->res) || PQgetisnull(res->res, res->row, col))
		return NULL;
	v = PQgetvalue(res->res, res->row, col);
	t = PQftype(res->res, col);
	if (t == PG_OID_BOOL)
		return v[0] == 't' ? "1" : "0";
	if ((t == PG_OID_TIMESTAMPTZ || t == PG_OID_TIMESTAMP) &&
	    strlen(v) > 19) {
		/* One buffer per column: callers hold several at once. */
		if (res->nfix < PQnfields(res->res)) {
			res->nfix = PQnfields(res->res);
			res->fix = xreallocarray(
			    res->fix, (size_t)res->nfix, sizeof(*res->fix));
		}
		memcpy(res->fix[col], v, 19);
		res->fix[col][19] = '\0';
		return res->fix[col];
	}
	return v;
}

static int
pg_ncols(struct db_res *rr)
{
	struct pg_res *res = (struct pg_res *)rr;

	return res->res != NULL ? PQnfields(res->res) : 0;
}

static void
pg_res_free(struct db_res *rr)
{
	struct pg_res *res = (struct pg_res *)rr;

	if (res->stream && !res->done) {
		PGresult *x;

		/* Abandoned stream: cancel and drain the connection. */
		PGcancel *cn = PQgetCancel(res->conn);
		char ebuf[256];

		if (cn != NULL) {
			(void)PQcancel(cn, ebuf, sizeof(ebuf));
			PQfreeCancel(cn);
		}
		PQclear(res->res);
		res->res = NULL;
		while ((x = PQgetResult(res->conn)) != NULL)
			PQclear(x);
	}
	PQclear(res->res);
	free(res->fix);
	free(res);
}

static int
pg_simple(struct db *db, const char *sql, struct err *err)
{
	struct pg_handle *h = db->handle;
	PGresult *r = PQexec(h->c, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = classify(h->c, r, err);
	PQclear(r);
	return rc;
}

static int
pg_begin(struct db *db, bool write, struct err *err)
{
	(void)write;
	return pg_simple(db, "BEGIN", err);
}

static int
pg_commit(struct db *db, struct err *err)
{
	return pg_simple(db, "COMMIT", err);
}

static void
pg_rollback(struct db *db)
{
	struct err e;

	(void)pg_simple(db, "ROLLBACK", &e);
}

const struct db_driver db_driver_pgsql = {
	.name = "pgsql",
	.engine = DB_ENGINE_PGSQL,
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.next = pg_next,
	.col = pg_col,
	.ncols = pg_ncols,
	.res_free = pg_res_free,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.for_update = true,
	.regexp_op = "~",
};
