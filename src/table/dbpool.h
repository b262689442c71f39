/*
 * dbpool: SQL connections shared by the sql and postfixadmin tables, and
 * the change generation that invalidates their cached answers.
 *
 * Tables that name the same database (same engine, hosts, dbname, user,
 * password and dbpath) share one pool: idle connections wait in it, a
 * thread that needs one takes one (or opens a new one), and gives it back.
 * dbpool_run() does the reconnect rule: a failure of a reused connection is
 * retried once on a fresh one, then reported.  Every new connection gets a
 * statement timeout (MariaDB max_statement_time, PostgreSQL
 * statement_timeout) and a connect timeout derived from the table
 * timeout.
 *
 * Invalidation: postino bumps postino_change.serial (one row, id 1) in the
 * same transaction as every change it makes.  dbpool_poll_all(), called
 * every 250 ms from one thread, reads that serial from every pool and, when
 * it moved, increments the pool's generation; cache entries stored under an
 * older generation stop being fresh (cache.h).  A database without the
 * table (postino never migrated it) keeps generation 1 forever, so only
 * the TTLs bound staleness; the poll looks for the table again every 30 s.
 *
 * Several servers (a PostgreSQL primary and its replicas): a pool's
 * connections all go to one server, the one its last new connection
 * reached (db.h: a reader prefers the first listed hot standby that
 * answers).  A new connection that lands elsewhere moves the whole pool
 * there and moves the generation, so the serial polled and the rows read
 * always come from one server and an edit is visible within that server's
 * replication lag plus one poll.  A pool that had to settle for a server
 * it prefers less tries its list again every DBPOOL_REHOME_MS, so it goes
 * back to its nearby replica once that answers again.
 *
 * Lifetimes: dbpool_get() returns a reference; dbpool_put() drops it, and
 * the last one closes the connections.  Pools live in a process-wide
 * registry guarded by a mutex; every function here is thread-safe.
 */
#ifndef POSTINO_DBPOOL_H
#define POSTINO_DBPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define DBPOOL_POLL_MS 250
#define DBPOOL_ABSENT_RECHECK_MS 30000
#define DBPOOL_REHOME_MS 10000

struct dbpool;

/* The pool for these parameters (copied), created if needed. */
struct dbpool *dbpool_get(const struct db_params *, int64_t timeout_ms);
/*
 * The same for writes (Dovecot's quota dict): its connections go to a
 * server that takes writes (PostgreSQL's primary, wherever it is listed),
 * and its change serial is not polled.
 */
struct dbpool *dbpool_get_writer(const struct db_params *, int64_t timeout_ms);
void dbpool_put(struct dbpool **);

typedef int dbpool_fn(struct db *, void *arg, struct err *);

/*
 * Run fn on a pooled connection.  fn returns what the caller wants (>= 0)
 * or -1 with err; an ERR_DATABASE failure on a reused connection is run
 * once more on a new connection.  A connection that failed is closed, not
 * pooled.  Returns fn's result, or -1 if no connection could be opened.
 */
int dbpool_run(struct dbpool *, dbpool_fn *, void *arg, struct err *);

/*
 * Read batching, for SQLite.  A thread that turned it on with
 * dbpool_batch_enable() and then calls dbpool_run_read() repeatedly on
 * one pool keeps one connection and one read transaction across the calls
 * (up to DBPOOL_BATCH_MAX of them), instead of paying SQLite's per-statement
 * locking each time.  The transaction ends at dbpool_batch_flush(), when
 * the thread turns to another pool or to a write, and whenever the pool's
 * generation moves, so an answer read from an older snapshot can never be
 * stored under a newer generation.  Elsewhere dbpool_run_read() is
 * dbpool_run().
 */
#define DBPOOL_BATCH_MAX 32

void dbpool_batch_enable(bool);
void dbpool_batch_flush(void);
int dbpool_run_read(struct dbpool *, dbpool_fn *, void *arg, struct err *);

/* The current generation (>= 1). */
uint64_t dbpool_generation(struct dbpool *);
/*
 * Whether the database has postino's change serial (the last poll read
 * it), so that cached answers from it can be invalidated.
 */
bool dbpool_tracked(struct dbpool *);
/* Bump it by hand (tests, reload). */
void dbpool_bump(struct dbpool *);

/*
 * Poll every pool's change serial once; pools polled less than
 * DBPOOL_POLL_MS ago are skipped.  Returns the number of pools whose
 * generation moved.
 */
int dbpool_poll_all(void);

/*
 * What each pool has seen, for podop's metrics: an array (free() it) of
 * one entry per pool alive now.  reconnects counts failures of a pooled
 * connection retried on a new one; last_poll_ms is on cache_now_ms()'s
 * clock (-1: never); serial is -1 until one was read.
 */
struct dbpool_stat {
	char where[256];
	int64_t serial;
	int64_t last_poll_ms;
	bool tracked;
	uint64_t generation;
	uint64_t connects;
	uint64_t connect_errors;
	uint64_t reconnects;
};

size_t dbpool_stats(struct dbpool_stat **v_r);

/* Where the pool connects to, for log lines ("sqlite at /x.db"). */
const char *dbpool_describe(struct dbpool *);

#endif
