/*
 * db: one small interface over the SQL engines postino speaks.
 *
 * Engines are drivers (struct db_driver, db_*.c) in a static registry; a
 * driver is compiled in when its client library was found at build time.
 * SQL is written once with '?' placeholders; drivers rewrite them for their
 * engine ($1, $2 ... for PostgreSQL).  Every value travels as a bound
 * parameter: nothing is ever pasted into SQL text.
 *
 * Values are exchanged as text.  Booleans are read back as "1"/"0" on every
 * engine, timestamps as "YYYY-MM-DD HH:MM:SS" on the database's clock.
 *
 * Ownership: db_open() returns a handle freed by db_close().  A db_res from
 * db_query() is owned by the caller and freed with db_res_free(); the
 * strings db_col() returns are lent and valid until the next db_next() or
 * db_res_free() on that result.  While a streaming result (DB_STREAM) is
 * open, no other statement may run on the same handle.
 *
 * Errors are classified into err kinds: unique violation -> ERR_EXISTS;
 * deadlock, lock timeout, serialization failure, SQLite busy, and on a
 * MariaDB Galera cluster a certification conflict (error 1213 at any
 * statement or at COMMIT) -> ERR_DEADLOCK: the transaction was rolled back
 * and may be run again whole; everything else (connection lost, access
 * denied, syntax) -> ERR_DATABASE.  A connection that failed (lost, or a
 * Galera node that left the cluster's primary component, error 1047) is
 * marked broken: db_reconnect() opens it again, on the first usable host.
 */
#ifndef POSTINO_DB_H
#define POSTINO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

enum db_engine {
	DB_ENGINE_NONE = 0,
	DB_ENGINE_SQLITE,
	DB_ENGINE_MYSQL,
	DB_ENGINE_PGSQL,
};

/*
 * Connection parameters, as read from a Postfix *_table(5) file or a DSN.
 * hosts is the raw Postfix "hosts" value: whitespace or comma separated
 * entries of the form host, host:port, inet:host:port, unix:/path or /path;
 * the first reachable one is used.  On PostgreSQL a writer (reader false)
 * skips servers that take no writes (hot standbys), so a list naming the
 * primary and its replicas in any order finds the primary, and a promoted
 * replica, with no change of configuration.  A PostgreSQL reader prefers a
 * hot standby: it takes the first listed server that answers and is one,
 * else the first that answered (a primary), so naming the nearest replica
 * first makes it preferred and the primary is used only when no replica
 * answers; a MariaDB reader takes the first that answers.  All strings are
 * owned by the struct.
 */
struct db_params {
	enum db_engine engine;
	char *hosts;
	char *user;
	char *password;
	char *dbname;
	char *dbpath;	     /* SQLite */
	int connect_timeout; /* seconds; 0 = default */
	bool create;	     /* SQLite: create the file if missing */
	bool reader;	     /* reads only: a read-only replica will do */
	char *source;	     /* where these came from, for messages */
};

void db_params_release(struct db_params *);
void db_params_copy(struct db_params *dst, const struct db_params *src);
const char *db_engine_name(enum db_engine);
/* "sqlite", "mysql"/"mariadb", "pgsql"/"postgresql"/"postgres". */
enum db_engine db_engine_parse(const char *);
/* Whether a driver for the engine can be used (loads its module). */
bool db_engine_available(enum db_engine);
/* Whether the engine was built (without loading anything). */
bool db_engine_built(enum db_engine);
/* The package that installs the engine's driver module, or NULL when the
 * engine is linked in or not built. */
const char *db_engine_package(enum db_engine);
/* 0 when a driver for the engine can be used; else -1 with ERR_CONFIG
 * saying why: no engine, its module not installed (naming the package
 * that installs it) or not built. */
int db_engine_usable(enum db_engine, struct err *);
/* The engine's regular-expression operator ("REGEXP", "~"), or NULL. */
const char *db_engine_regexp_op(enum db_engine);

/*
 * Parse a DSN: "sqlite:/path", "/path" (SQLite), "mysql://user@host:port/db",
 * "pgsql://user@host:port/db" or "postgresql://...", with optional
 * "?socket=/path".  A password in the DSN is accepted but discouraged.
 * Returns 0 or -1 with err (ERR_CONFIG).
 */
int db_params_from_dsn(struct db_params *, const char *dsn, struct err *);

struct cf;
struct cf;
/*
 * Parameters from a parsed Postfix map file.  engine may be DB_ENGINE_NONE:
 * a file with 'dbpath' is SQLite, any other is MySQL (postino's historical
 * engine); pass the engine explicitly for PostgreSQL.  Returns 0 or -1.
 */
int db_params_from_cf(
    struct db_params *, const struct cf *, enum db_engine, struct err *);

enum db_arg_type { DB_ARG_NULL, DB_ARG_TEXT, DB_ARG_INT };

struct db_arg {
	enum db_arg_type type;
	const char *s;
	int64_t i;
};

#define DB_TEXT(x) ((struct db_arg){ DB_ARG_TEXT, (x), 0 })
#define DB_INT(x) ((struct db_arg){ DB_ARG_INT, NULL, (int64_t)(x) })
#define DB_BOOL(x) ((struct db_arg){ DB_ARG_INT, NULL, (x) ? 1 : 0 })
#define DB_NULLARG ((struct db_arg){ DB_ARG_NULL, NULL, 0 })
#define DB_NARGS(a) (sizeof(a) / sizeof((a)[0]))

enum db_query_flags {
	DB_STREAM = 1 << 0, /* rows are fetched one at a time */
};

struct db;
struct db_res;

struct db_driver {
	const char *name;
	enum db_engine engine;
	int (*open)(struct db *, const struct db_params *, struct err *);
	void (*close)(struct db *);
	/* Run sql; on success *res_r is a result (or NULL for no rows). */
	int (*query)(struct db *, const char *sql, const struct db_arg *,
	    size_t nargs, int flags, struct db_res **res_r, int64_t *affected_r,
	    struct err *);
	int (*next)(struct db_res *, struct err *);
	const char *(*col)(struct db_res *, int col);
	int (*ncols)(struct db_res *);
	void (*res_free)(struct db_res *);
	/* write: lock for writing at once (SQLite BEGIN IMMEDIATE). */
	int (*begin)(struct db *, bool write, struct err *);
	int (*commit)(struct db *, struct err *);
	void (*rollback)(struct db *);
	/* Whether the engine supports SELECT ... FOR UPDATE. */
	bool for_update;
	/* Whether the engine has a REGEXP-style operator usable by routes. */
	const char *regexp_op;
	/* The connection's socket, or -1 (none: SQLite; or not open). */
	int (*socket)(struct db *);
};

struct db {
	const struct db_driver *drv;
	void *handle; /* driver state */
	struct db_params params;
	int in_tx;
	char where[256]; /* host/path actually used */
	/*
	 * A reader settled for less than its list offers: a server it
	 * would have preferred did not answer (dbpool tries again later).
	 */
	bool fallback;
	/* What a caller keeps with the connection, freed by db_close(). */
	void *cache;
	void (*cache_free)(void *);
	/*
	 * Set by drivers: the connection failed and must be reopened
	 * (db_reconnect()) before it is used again.
	 */
	bool broken;
	/*
	 * Set by db_commit(): the connection was lost during COMMIT, so the
	 * transaction may or may not have committed.  Cleared by db_begin().
	 */
	bool commit_unknown;
	/*
	 * A MariaDB Galera node (wsrep_on), seen by a writer's connection:
	 * write transactions are certified cluster-wide at COMMIT, and this
	 * node's row locks do not stop writers on other nodes.
	 */
	bool galera;
	/* Transactions begun on this handle (db_begin()), from 1. */
	unsigned long tx_seq;
};

/*
 * Open a connection.  Returns a handle, or NULL with err set (ERR_DATABASE
 * for an unreachable server, naming the host tried; ERR_CONFIG when the
 * engine is not compiled in or the parameters are incomplete).
 */
struct db *db_open(const struct db_params *, struct err *);
void db_close(struct db **);
enum db_engine db_engine(const struct db *);
/* A short description of where we are connected, e.g. "mysql at host:3306". */
const char *db_where(const struct db *);

/* Execute a statement that returns no rows.  Returns rows affected or -1. */
int64_t db_exec(struct db *, const char *sql, const struct db_arg *,
    size_t nargs, struct err *);
/*
 * Execute a query.  Returns 0 with *res_r set (always non-NULL) or -1.
 */
int db_query(struct db *, const char *sql, const struct db_arg *, size_t nargs,
    int flags, struct db_res **res_r, struct err *);
/*
 * Several rows in few statements: head is "INSERT INTO t (c1, ..., cN)"
 * naming ncols columns, args holds nrows rows of ncols values, row after
 * row.  They go as "head VALUES (?, ...), (?, ...), ..." statements of at
 * most DB_ROWS_PARAMS_MAX bound values (SQLite's default limit, under
 * MariaDB's and PostgreSQL's 65,535) and about DB_ROWS_BYTES_MAX bytes of
 * values (far under MariaDB's max_allowed_packet); chunks of a full size
 * recur, so the drivers' statement caches keep them prepared.  Atomic only
 * inside the caller's transaction.  Returns the rows inserted or -1 (a
 * unique violation is ERR_EXISTS).
 */
#define DB_ROWS_PARAMS_MAX 32766
#define DB_ROWS_BYTES_MAX (1024 * 1024)
int64_t db_insert_rows(struct db *, const char *head, size_t ncols,
    const struct db_arg *args, size_t nrows, struct err *);
/*
 * The same with each row written as row, "(?, ..., expression of ?)"
 * (ncols placeholders), for a value the server computes per row.
 */
int64_t db_insert_rows_as(struct db *, const char *head, size_t ncols,
    const char *row, const struct db_arg *args, size_t nrows, struct err *);
/* "?, ?, ..., ?" (n placeholders) for an IN list; the caller frees. */
char *db_placeholders(size_t n);

/* Advance: 1 = a row is available, 0 = no more rows, -1 = error. */
int db_next(struct db_res *, struct err *);
/* Column value of the current row as text, or NULL for SQL NULL. */
const char *db_col(struct db_res *, int col);
/* Column as integer (NULL or non-numeric -> dflt). */
int64_t db_col_int(struct db_res *, int col, int64_t dflt);
int db_ncols(struct db_res *);
void db_res_free(struct db_res **);

/*
 * Convenience: run a query expected to return at most one row and copy its
 * first column into a new string (*val_r, caller frees; NULL for SQL NULL).
 * Returns 1 found, 0 no row, -1 error.
 */
int db_query_value(struct db *, const char *sql, const struct db_arg *,
    size_t nargs, char **val_r, struct err *);
/* Same, for integers. */
int db_query_int(struct db *, const char *sql, const struct db_arg *,
    size_t nargs, int64_t *val_r, struct err *);

int db_begin(struct db *, bool write, struct err *);
/*
 * Commit.  On failure the transaction is rolled back; when the connection
 * was lost during the COMMIT itself, db->commit_unknown is set and err
 * says that the outcome is unknown.
 */
int db_commit(struct db *, struct err *);
void db_rollback(struct db *);
/*
 * Close and open the connection again with the same parameters (outside a
 * transaction), trying every host of the list; clears db->broken.  Returns
 * 0 or -1 with err (ERR_DATABASE) and the handle still broken.
 */
int db_reconnect(struct db *, struct err *);

/*
 * Whether a connection that sat idle (outside a transaction, no result
 * open) is still worth using: its server has neither closed it nor sent
 * anything since the last reply.  A server that shuts down or restarts,
 * crashes, or terminates the backend tells its idle clients so (a FATAL
 * message or end of file), and this sees it with one poll() and no round
 * trip; a connection cut somewhere on the network is not seen (ping for
 * that).  Always true for engines without a socket (SQLite).
 */
bool db_idle_usable(struct db *);
/* " FOR UPDATE" where the engine supports row locks, else "". */
const char *db_for_update(const struct db *);
/* Whether a table exists in the current database/schema. */
int db_table_exists(struct db *, const char *table, struct err *);
/* Whether a column exists in a table. */
int db_column_exists(
    struct db *, const char *table, const char *col, struct err *);

/*
 * The database's current time as "YYYY-MM-DD HH:MM:SS" (buf of at least
 * 20 bytes), as its own now() would write it: UTC on SQLite, the session
 * time zone on MariaDB and PostgreSQL (read when the last connection was
 * opened; local time before any).
 */
const char *db_now(char *buf, size_t size);
/* Seconds from UTC to the database's clock at time t (see db_now()). */
long db_clock_offset(time_t t);

#endif
