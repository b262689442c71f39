/*
 * db_mysql: MariaDB and MySQL through MariaDB Connector/C.
 *
 * Every statement is a server-side prepared statement with bound
 * parameters.  Result columns are fetched as strings: each column gets a
 * buffer that grows on truncation (mysql_stmt_fetch_column), so rows of any
 * width are read without a fixed limit while short rows cost nothing extra.
 * Connections use CLIENT_FOUND_ROWS so "rows affected" means rows matched,
 * as on the other engines.
 *
 * MariaDB Galera: every node takes writes.  A certification conflict with
 * a transaction committed on another node comes back as ER_LOCK_DEADLOCK
 * (1213), at COMMIT or at the next statement of a transaction the cluster
 * aborted; like InnoDB's own deadlocks and lock wait timeouts (1205) it is
 * ERR_DEADLOCK, which the model retries whole (model_tx()).  A node that
 * left the primary component answers ER_UNKNOWN_COM_ERROR (1047, "WSREP
 * has not yet prepared node for application use"): retrying there cannot
 * help, so the connection is marked broken and the retry reconnects,
 * skipping such nodes (a writer asks each node whether it is one, wsrep_on,
 * and whether it is ready, wsrep_ready, before using it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "db.h"
#include "db_private.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define COL_INITIAL 256
#define STMT_CACHE 48

/*
 * Server-side statements are cached by SQL text: preparing costs a round
 * trip per statement otherwise.
 */
struct my_cached {
	char *sql;
	MYSQL_STMT *stmt;
	int busy;
	uint64_t used;
};

struct my_handle {
	MYSQL *m;
	struct my_cached cache[STMT_CACHE];
	uint64_t tick;
};

#define MYH(db) (((struct my_handle *)(db)->handle)->m)

struct my_res {
	struct db_res base;
	struct db *db;
	struct my_cached *cached; /* NULL: close the statement on free */
	MYSQL_STMT *stmt;
	MYSQL_RES *meta;
	unsigned int ncols;
	MYSQL_BIND *bind;
	char **bufs;
	unsigned long *lens;
	my_bool *nulls;
	my_bool *errs;
	int stored;
};

/* Errors after which the connection is of no more use. */
static bool
code_breaks(unsigned int code)
{
	switch (code) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case ER_UNKNOWN_COM_ERROR: /* Galera: node not in the primary */
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return true;
	default:
		return false;
	}
}

static int
classify_code(unsigned int code, const char *msg, struct err *err)
{
	switch (code) {
	case ER_UNKNOWN_COM_ERROR:
		err_set(err, ERR_DATABASE, "mysql: %s", msg);
		return err_hint(err,
		    "this Galera node is not part of the cluster's primary component; name the other nodes in 'hosts' too");
	case ER_DUP_ENTRY:
	case ER_DUP_KEY:
		return err_set(err, ERR_EXISTS, "%s", msg);
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return err_set(err, ERR_DEADLOCK, "%s", msg);
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
		err_set(err, ERR_DATABASE, "mysql: %s", msg);
		return err_hint(err,
		    "the database user lacks a privilege; see 'postino check' for the grants postino needs");
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
		return err_set(
		    err, ERR_DATABASE, "lost connection to MySQL: %s", msg);
	default:
		return err_set(err, ERR_DATABASE, "mysql: %s", msg);
	}
}

static int
classify_stmt(struct db *db, MYSQL_STMT *st, struct err *err)
{
	if (code_breaks(mysql_stmt_errno(st)))
		db->broken = true;
	return classify_code(mysql_stmt_errno(st), mysql_stmt_error(st), err);
}

static int
classify_conn(struct db *db, MYSQL *m, struct err *err)
{
	if (code_breaks(mysql_errno(m)))
		db->broken = true;
	return classify_code(mysql_errno(m), mysql_error(m), err);
}

/* The first column of a one-row query as an integer; -1 on any failure. */
static long
query_long(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	long v = -1;

	if (mysql_query(m, sql) != 0 || (r = mysql_store_result(m)) == NULL)
		return -1;
	row = mysql_fetch_row(r);
	if (row != NULL && row[0] != NULL)
		v = strtol(row[0], NULL, 10);
	mysql_free_result(r);
	return v;
}

/*
 * For a writer: whether the server is a Galera node (*galera), and if so
 * whether it can take writes now (in the primary component and synced:
 * wsrep_ready).  A server without wsrep (or MySQL) is ready.
 */
static bool
galera_ready(MYSQL *m, bool *galera, char *why, size_t size)
{
	*galera = query_long(m, "SELECT @@GLOBAL.wsrep_on") == 1;
	if (!*galera)
		return true;
	if (query_long(m,
		"SELECT VARIABLE_VALUE = 'ON' FROM "
		"information_schema.GLOBAL_STATUS WHERE "
		"VARIABLE_NAME = 'WSREP_READY'") == 1)
		return true;
	str_copy(why, "a Galera node not ready for writes (wsrep_ready)", size);
	return false;
}

static int
my_open(struct db *db, const struct db_params *p, struct err *err)
{
	struct db_host *hosts;
	size_t n = db_hosts_parse(p->hosts, &hosts);
	char where[512] = "", last[ERR_MSG_MAX] = "";
	unsigned int tmo =
	    p->connect_timeout > 0 ? (unsigned int)p->connect_timeout : 10;
	MYSQL *m = NULL;
	bool galera = false;

	for (size_t i = 0; i < n; i++) {
		const struct db_host *h = &hosts[i];
		unsigned int rtmo = 60;

		if (h->port == -1)
			continue;
		db_host_describe(h, 3306, where, sizeof(where));
		m = mysql_init(NULL);
		if (m == NULL) {
			str_copy(last, "out of memory", sizeof(last));
			continue;
		}
		mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &tmo);
		mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rtmo);
		mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rtmo);
		mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		if (mysql_real_connect(m,
			h->socket != NULL ? "localhost" : h->host, p->user,
			p->password, p->dbname,
			h->port > 0 ? (unsigned)h->port : 0, h->socket,
			CLIENT_FOUND_ROWS) != NULL) {
			/* Readers take any node; writers one that takes writes.
			 */
			if (p->reader ||
			    galera_ready(m, &galera, last, sizeof(last)))
				break;
			mysql_close(m);
			m = NULL;
			continue;
		}
		str_copy(last, mysql_error(m), sizeof(last));
		mysql_close(m);
		m = NULL;
	}
	db_hosts_free(hosts, n);
	if (m == NULL) {
		err_set(err, ERR_DATABASE, "cannot connect to MySQL at %s: %s",
		    where[0] ? where : "(no host)", last);
		return err_hint(err,
		    "check 'hosts', 'user' and 'dbname' in %s and that the server is running",
		    p->source != NULL ? p->source : "the map file");
	}
	{
		struct my_handle *mh = xcalloc(1, sizeof(*mh));

		mh->m = m;
		db->handle = mh;
	}
	db->galera = galera;
	snprintf(db->where, sizeof(db->where), "mysql at %s", where);
	return 0;
}

static void
my_close(struct db *db)
{
	struct my_handle *mh = db->handle;

	for (int i = 0; i < STMT_CACHE; i++) {
		if (mh->cache[i].stmt != NULL)
			mysql_stmt_close(mh->cache[i].stmt);
		free(mh->cache[i].sql);
	}
	mysql_close(mh->m);
	free(mh);
	db->handle = NULL;
}

/*
 * Give a statement back to the cache (or close an uncached one).  settled:
 * it ran without error and left nothing unread on the wire (no result set,
 * or a stored one), so it can run again as it is; otherwise it is reset on
 * the server too, one more round trip (and dropped if that fails).
 */
static void
stmt_release(MYSQL_STMT *st, struct my_cached *c, bool stored, bool settled)
{
	if (c == NULL) {
		if (stored)
			mysql_stmt_free_result(st);
		mysql_stmt_close(st);
		return;
	}
	mysql_stmt_free_result(st);
	if (!settled && mysql_stmt_reset(st) != 0) {
		/* A broken statement is not worth keeping. */
		mysql_stmt_close(st);
		free(c->sql);
		c->sql = NULL;
		c->stmt = NULL;
	}
	c->busy = 0;
}

static void
res_destroy(struct my_res *res)
{
	if (res->meta != NULL)
		mysql_free_result(res->meta);
	if (res->stmt != NULL)
		stmt_release(res->stmt, res->cached, res->stored,
		    res->stored || res->meta == NULL);
	for (unsigned int i = 0; i < res->ncols && res->bufs != NULL; i++)
		free(res->bufs[i]);
	free(res->bufs);
	free(res->bind);
	free(res->lens);
	free(res->nulls);
	free(res->errs);
	free(res);
}

static int
my_query(struct db *db, const char *sql, const struct db_arg *args,
    size_t nargs, int flags, struct db_res **res_r, int64_t *affected_r,
    struct err *err)
{
	struct my_handle *mh = db->handle;
	struct my_cached *cached = NULL, *victim = NULL;
	MYSQL_STMT *st = NULL;
	MYSQL_BIND *pb = NULL;
	unsigned long *plen = NULL;
	long long *pint = NULL;
	struct my_res *res = NULL;
	int rc = -1;

	for (int i = 0; i < STMT_CACHE; i++) {
		struct my_cached *c = &mh->cache[i];

		if (c->sql != NULL && !c->busy && strcmp(c->sql, sql) == 0) {
			cached = c;
			break;
		}
		if (!c->busy && (victim == NULL || c->used < victim->used))
			victim = c;
	}
	if (cached != NULL) {
		st = cached->stmt;
		cached->busy = 1;
		cached->used = ++mh->tick;
		goto prepared;
	}
	st = mysql_stmt_init(mh->m);
	if (st == NULL)
		return classify_conn(db, mh->m, err);
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		if (mysql_stmt_errno(st) == CR_SERVER_GONE_ERROR ||
		    mysql_stmt_errno(st) == CR_SERVER_LOST) {
			db->broken = true;
			err_set(err, ERR_DATABASE,
			    "lost connection to MySQL (%s)", db->where);
		} else
			classify_stmt(db, st, err);
		mysql_stmt_close(st);
		return -1;
	}
	if (victim != NULL) {
		if (victim->stmt != NULL)
			mysql_stmt_close(victim->stmt);
		free(victim->sql);
		victim->sql = xstrdup(sql);
		victim->stmt = st;
		victim->busy = 1;
		victim->used = ++mh->tick;
		cached = victim;
	}
prepared:
	if (mysql_stmt_param_count(st) != nargs) {
		err_set(err, ERR_INTERNAL,
		    "placeholder count mismatch (%lu != %zu) in: %.80s",
		    mysql_stmt_param_count(st), nargs, sql);
		stmt_release(st, cached, false, false);
		return -1;
	}
	if (nargs > 0) {
		pb = xcalloc(nargs, sizeof(*pb));
		plen = xcalloc(nargs, sizeof(*plen));
		pint = xcalloc(nargs, sizeof(*pint));
		for (size_t i = 0; i < nargs; i++) {
			switch (args[i].type) {
			case DB_ARG_TEXT:
				if (args[i].s == NULL) {
					pb[i].buffer_type = MYSQL_TYPE_NULL;
					break;
				}
				pb[i].buffer_type = MYSQL_TYPE_STRING;
				pb[i].buffer = (void *)(uintptr_t)args[i].s;
				plen[i] = (unsigned long)strlen(args[i].s);
				pb[i].buffer_length = plen[i];
				pb[i].length = &plen[i];
				break;
			case DB_ARG_INT:
				pint[i] = (long long)args[i].i;
				pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
				pb[i].buffer = &pint[i];
				break;
			default:
				pb[i].buffer_type = MYSQL_TYPE_NULL;
				break;
			}
		}
		if (mysql_stmt_bind_param(st, pb) != 0) {
			classify_stmt(db, st, err);
			goto fail;
		}
	}
	if (mysql_stmt_execute(st) != 0) {
		classify_stmt(db, st, err);
		goto fail;
	}
	res = xcalloc(1, sizeof(*res));
	res->base.drv = db->drv;
	res->db = db;
	res->stmt = st;
	res->cached = cached;
	st = NULL;
	res->meta = mysql_stmt_result_metadata(res->stmt);
	*affected_r = 0;
	if (res->meta == NULL) {
		my_ulonglong a = mysql_stmt_affected_rows(res->stmt);

		*affected_r = a == (my_ulonglong)-1 ? 0 : (int64_t)a;
	} else {
		res->ncols = mysql_num_fields(res->meta);
		res->bind = xcalloc(res->ncols, sizeof(*res->bind));
		res->bufs = xcalloc(res->ncols, sizeof(*res->bufs));
		res->lens = xcalloc(res->ncols, sizeof(*res->lens));
		res->nulls = xcalloc(res->ncols, sizeof(*res->nulls));
		res->errs = xcalloc(res->ncols, sizeof(*res->errs));
		for (unsigned int i = 0; i < res->ncols; i++) {
			res->bufs[i] = xmalloc(COL_INITIAL);
			res->bind[i].buffer_type = MYSQL_TYPE_STRING;
			res->bind[i].buffer = res->bufs[i];
			res->bind[i].buffer_length = COL_INITIAL - 1;
			res->bind[i].length = &res->lens[i];
			res->bind[i].is_null = &res->nulls[i];
			res->bind[i].error = &res->errs[i];
		}
		if (mysql_stmt_bind_result(res->stmt, res->bind) != 0) {
			classify_stmt(db, res->stmt, err);
			goto fail;
		}
		if (!(flags & DB_STREAM)) {
			if (mysql_stmt_store_result(res->stmt) != 0) {
				classify_stmt(db, res->stmt, err);
				goto fail;
			}
			res->stored = 1;
		}
	}
	*res_r = &res->base;
	res = NULL;
	rc = 0;
fail:
	if (res != NULL)
		res_destroy(res);
	if (st != NULL)
		stmt_release(st, cached, false, false);
	free(pb);
	free(plen);
	free(pint);
	return rc;
}

static int
my_next(struct db_res *rr, struct err *err)
{
	struct my_res *res = (struct my_res *)rr;
	int r;

	if (res->meta == NULL)
		return 0;
	r = mysql_stmt_fetch(res->stmt);
	if (r == MYSQL_NO_DATA)
		return 0;
	if (r == 1)
		return classify_stmt(res->db, res->stmt, err);
	for (unsigned int i = 0; i < res->ncols; i++) {
		if (res->nulls[i])
			continue;
		if (res->lens[i] >= res->bind[i].buffer_length) {
			/* Truncated: grow and fetch this column again. */
			unsigned long need = res->lens[i] + 1;

			res->bufs[i] = xrealloc(res->bufs[i], need);
			res->bind[i].buffer = res->bufs[i];
			res->bind[i].buffer_length = need;
			if (mysql_stmt_fetch_column(
				res->stmt, &res->bind[i], i, 0) != 0)
				return classify_stmt(res->db, res->stmt, err);
			/* Rebind so the next fetch uses the larger buffer. */
			if (mysql_stmt_bind_result(res->stmt, res->bind) != 0)
				return classify_stmt(res->db, res->stmt, err);
		}
		res->bufs[i][res->lens[i]] = '\0';
	}
	return 1;
}

static const char *
my_col(struct db_res *rr, int col)
{
	struct my_res *res = (struct my_res *)rr;

	if (col < 0 || (unsigned int)col >= res->ncols || res->nulls[col])
		return NULL;
	return res->bufs[col];
}

static int
my_ncols(struct db_res *rr)
{
	return (int)((struct my_res *)rr)->ncols;
}

static void
my_res_free(struct db_res *rr)
{
	res_destroy((struct my_res *)rr);
}

static int
my_simple(struct db *db, const char *sql, struct err *err)
{
	if (mysql_query(MYH(db), sql) != 0)
		return classify_conn(db, MYH(db), err);
	return 0;
}

static int
my_begin(struct db *db, bool write, struct err *err)
{
	(void)write;
	return my_simple(db, "START TRANSACTION", err);
}

static int
my_commit(struct db *db, struct err *err)
{
	if (mysql_commit(MYH(db)) != 0)
		return classify_conn(db, MYH(db), err);
	return 0;
}

static void
my_rollback(struct db *db)
{
	(void)mysql_rollback(MYH(db));
}

static int
my_fd(struct db *db)
{
	return db->handle != NULL ? (int)mysql_get_socket(MYH(db)) : -1;
}

const struct db_driver db_driver_mysql = {
	.name = "mysql",
	.engine = DB_ENGINE_MYSQL,
	.open = my_open,
	.close = my_close,
	.query = my_query,
	.next = my_next,
	.col = my_col,
	.ncols = my_ncols,
	.res_free = my_res_free,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.for_update = true,
	.regexp_op = "REGEXP",
	.socket = my_fd,
};
