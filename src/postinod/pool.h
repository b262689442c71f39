/*
 * pool: database connections for postinod's worker threads.
 *
 * A struct db is not thread-safe, so every request borrows a connection
 * of its own with pool_get() and hands it back with pool_put().  Idle
 * connections wait in the pool (at most `max_idle`); a connection idle
 * for a while is checked with "SELECT 1" before it is lent again, and
 * replaced when the server dropped it.  A connection that failed
 * (broken = true) or is still inside a transaction is closed, not kept.
 *
 * The pool copies the connection parameters and owns its idle
 * connections; pool_free() closes them.  Every function is thread-safe.
 */
#ifndef POSTINOD_POOL_H
#define POSTINOD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

struct pool;

struct pool *pool_new(const struct db_params *, size_t max_idle);
void pool_free(struct pool **);
/* Borrow a connection: 0 with *db_r set, or -1 with err. */
int pool_get(struct pool *, struct db **db_r, struct err *);
/* Give it back; broken or mid-transaction connections are closed. */
void pool_put(struct pool *, struct db *, bool broken);
/* Close a connection that is not to be kept, with nothing wrong with it. */
void pool_discard(struct pool *, struct db *);

/*
 * Counts for the metrics: connections opened, failures to open one,
 * connections closed as broken or found dead, and openings that replaced
 * such a connection (reconnects).
 */
struct pool_stats {
	uint64_t connects;
	uint64_t connect_errors;
	uint64_t dropped;
	uint64_t reconnects;
};

void pool_counts(struct pool *, struct pool_stats *);

#endif
