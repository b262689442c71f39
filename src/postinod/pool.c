#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "xalloc.h"
#include "banned.h"

/* A connection idle longer than this is pinged before it is lent. */
#define POOL_PING_AFTER_S 30

struct idle {
	struct db *db;
	time_t since;
};

struct pool {
	pthread_mutex_t lock;
	struct db_params params;
	struct idle *idle;
	size_t nidle;
	size_t max_idle;
	/* For pool_counts(). */
	_Atomic uint64_t connects;
	_Atomic uint64_t connect_errors;
	_Atomic uint64_t dropped; /* closed broken, or found dead */
	_Atomic uint64_t reconnects;
	_Atomic uint64_t owed; /* dropped, not yet replaced */
};

/* A connection went: the next one opened replaces it. */
static void
dropped(struct pool *pl)
{
	atomic_fetch_add(&pl->dropped, 1);
	atomic_fetch_add(&pl->owed, 1);
}

struct pool *
pool_new(const struct db_params *p, size_t max_idle)
{
	struct pool *pl = xcalloc(1, sizeof(*pl));

	pthread_mutex_init(&pl->lock, NULL);
	db_params_copy(&pl->params, p);
	pl->params.create = false;
	pl->max_idle = max_idle > 0 ? max_idle : 1;
	pl->idle = xcalloc(pl->max_idle, sizeof(*pl->idle));
	return pl;
}

void
pool_free(struct pool **plp)
{
	struct pool *pl = *plp;

	if (pl == NULL)
		return;
	for (size_t i = 0; i < pl->nidle; i++)
		db_close(&pl->idle[i].db);
	free(pl->idle);
	db_params_release(&pl->params);
	pthread_mutex_destroy(&pl->lock);
	free(pl);
	*plp = NULL;
}

static bool
alive(struct db *db)
{
	struct err e = ERR_INIT;
	int64_t one = 0;

	return db_query_int(db, "SELECT 1", NULL, 0, &one, &e) == 0 && one == 1;
}

int
pool_get(struct pool *pl, struct db **db_r, struct err *err)
{
	struct db *db = NULL;
	time_t since = 0, now = time(NULL);

	pthread_mutex_lock(&pl->lock);
	if (pl->nidle > 0) {
		/* Most recently used first: it is the likeliest alive. */
		pl->nidle--;
		db = pl->idle[pl->nidle].db;
		since = pl->idle[pl->nidle].since;
	}
	pthread_mutex_unlock(&pl->lock);
	/*
	 * A server that restarted or crashed has closed the idle connection
	 * (seen at no cost); one cut on the network answers no ping.
	 */
	if (db != NULL &&
	    (!db_idle_usable(db) ||
		(now - since >= POOL_PING_AFTER_S && !alive(db)))) {
		db_close(&db);
		dropped(pl);
	}
	if (db == NULL) {
		uint64_t owed;

		if ((db = db_open(&pl->params, err)) == NULL) {
			atomic_fetch_add(&pl->connect_errors, 1);
			return -1;
		}
		atomic_fetch_add(&pl->connects, 1);
		owed = atomic_load(&pl->owed);
		while (owed > 0 &&
		    !atomic_compare_exchange_weak(&pl->owed, &owed, owed - 1))
			;
		if (owed > 0)
			atomic_fetch_add(&pl->reconnects, 1);
	}
	*db_r = db;
	return 0;
}

void
pool_put(struct pool *pl, struct db *db, bool broken)
{
	if (db == NULL)
		return;
	if (db->in_tx) {
		db_rollback(db);
		broken = true;
	}
	if (broken)
		dropped(pl);
	if (!broken) {
		pthread_mutex_lock(&pl->lock);
		if (pl->nidle < pl->max_idle) {
			pl->idle[pl->nidle].db = db;
			pl->idle[pl->nidle].since = time(NULL);
			pl->nidle++;
			db = NULL;
		}
		pthread_mutex_unlock(&pl->lock);
	}
	db_close(&db);
}

void
pool_counts(struct pool *pl, struct pool_stats *st)
{
	st->connects = atomic_load(&pl->connects);
	st->connect_errors = atomic_load(&pl->connect_errors);
	st->dropped = atomic_load(&pl->dropped);
	st->reconnects = atomic_load(&pl->reconnects);
}

void
pool_discard(struct pool *pl, struct db *db)
{
	(void)pl;
	if (db != NULL && db->in_tx)
		db_rollback(db);
	db_close(&db);
}
