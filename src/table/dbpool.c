/*
 * dbpool: pooled SQL connections, reconnect-once, change-serial polling.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "dbpool.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

struct dbpool {
	struct dbpool *next; /* registry */
	char *ident;
	char where[256];
	struct db_params params;
	int64_t timeout_ms;
	bool writer; /* connects to a server that takes writes; not polled */
	int refs;    /* under reg_lock */

	pthread_mutex_t lock;
	struct db **idle;
	size_t nidle;
	size_t cap;
	char home[256]; /* the server pooled connections go to ("" yet) */
	bool fallback;	/* home is not the one the hosts list prefers */

	_Atomic uint64_t gen;
	_Atomic bool tracked; /* a serial was read, the table is there */
	/* Poll state, touched only by the polling thread. */
	pthread_mutex_t poll_lock;
	bool polled; /* a serial has been read */
	bool absent; /* no postino_change table */
	int64_t serial;
	int64_t next_poll_ms;
	/* For dbpool_stats(): written rarely, read by a scrape. */
	_Atomic int64_t pub_serial;   /* -1 until a serial was read */
	_Atomic int64_t last_poll_ms; /* last poll that read the database */
	_Atomic uint64_t connects;
	_Atomic uint64_t connect_errors;
	_Atomic uint64_t reconnects;
	int64_t next_rehome_ms;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dbpool *reg;

/* This thread's open read batch (see dbpool_run_read()). */
static _Thread_local struct {
	bool enabled;
	struct dbpool *pool;
	struct db *db;
	uint64_t gen;
	int n;
} held;

static char *
ident_of(const struct db_params *p, bool writer)
{
	return xasprintf("%s%d|%s|%s|%s|%s|%s", writer ? "w|" : "",
	    (int)p->engine, p->hosts != NULL ? p->hosts : "",
	    p->dbname != NULL ? p->dbname : "", p->user != NULL ? p->user : "",
	    p->password != NULL ? p->password : "",
	    p->dbpath != NULL ? p->dbpath : "");
}

static struct dbpool *
pool_get(const struct db_params *p, int64_t timeout_ms, bool writer)
{
	char *ident = ident_of(p, writer);
	struct dbpool *pool;

	pthread_mutex_lock(&reg_lock);
	for (pool = reg; pool != NULL; pool = pool->next)
		if (strcmp(pool->ident, ident) == 0)
			break;
	if (pool != NULL) {
		pool->refs++;
		if (timeout_ms < pool->timeout_ms)
			pool->timeout_ms = timeout_ms;
		pthread_mutex_unlock(&reg_lock);
		str_wipe(ident);
		free(ident);
		return pool;
	}
	pool = xcalloc(1, sizeof(*pool));
	pool->ident = ident;
	pool->writer = writer;
	db_params_copy(&pool->params, p);
	pool->timeout_ms = timeout_ms;
	if (p->engine == DB_ENGINE_SQLITE)
		snprintf(pool->where, sizeof(pool->where), "sqlite at %s",
		    p->dbpath != NULL ? p->dbpath : "?");
	else
		snprintf(pool->where, sizeof(pool->where),
		    "%s database '%s' at %s", db_engine_name(p->engine),
		    p->dbname != NULL ? p->dbname : "",
		    p->hosts != NULL && *p->hosts ? p->hosts : "localhost");
	pthread_mutex_init(&pool->lock, NULL);
	pthread_mutex_init(&pool->poll_lock, NULL);
	atomic_store(&pool->gen, 1);
	atomic_store(&pool->pub_serial, -1);
	atomic_store(&pool->last_poll_ms, -1);
	pool->refs = 1;
	pool->next = reg;
	reg = pool;
	pthread_mutex_unlock(&reg_lock);
	return pool;
}

struct dbpool *
dbpool_get(const struct db_params *p, int64_t timeout_ms)
{
	return pool_get(p, timeout_ms, false);
}

struct dbpool *
dbpool_get_writer(const struct db_params *p, int64_t timeout_ms)
{
	return pool_get(p, timeout_ms, true);
}

void
dbpool_put(struct dbpool **pp)
{
	struct dbpool *pool = *pp, **link;

	if (pool == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&reg_lock);
	if (--pool->refs > 0) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	for (link = &reg; *link != NULL; link = &(*link)->next)
		if (*link == pool) {
			*link = pool->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	for (size_t i = 0; i < pool->nidle; i++)
		db_close(&pool->idle[i]);
	free(pool->idle);
	db_params_release(&pool->params);
	str_wipe(pool->ident);
	free(pool->ident);
	pthread_mutex_destroy(&pool->lock);
	pthread_mutex_destroy(&pool->poll_lock);
	free(pool);
}

const char *
dbpool_describe(struct dbpool *pool)
{
	return pool->where;
}

static struct db *
pool_take(struct dbpool *pool)
{
	struct db *db = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->nidle > 0)
		db = pool->idle[--pool->nidle];
	pthread_mutex_unlock(&pool->lock);
	return db;
}

static void
pool_give(struct dbpool *pool, struct db *db)
{
	pthread_mutex_lock(&pool->lock);
	if (strcmp(db->where, pool->home) != 0) {
		/* Opened before the pool moved to another server. */
		pthread_mutex_unlock(&pool->lock);
		db_close(&db);
		return;
	}
	if (pool->nidle == pool->cap) {
		pool->cap = pool->cap ? pool->cap * 2 : 8;
		pool->idle =
		    xreallocarray(pool->idle, pool->cap, sizeof(*pool->idle));
	}
	pool->idle[pool->nidle++] = db;
	pthread_mutex_unlock(&pool->lock);
}

/*
 * A new connection decides where the pool's connections go.  When it
 * reached another server than the pool's (a replica failed over, or the
 * preferred one is back), the idle connections to the old one are closed
 * and the generation moves: answers read there may be newer or older than
 * the new server's, and the pool never mixes the two, so that the serial
 * it polls and the rows it reads come from one server.
 */
static void
pool_adopt(struct dbpool *pool, struct db *db)
{
	struct db **old = NULL;
	size_t nold = 0;

	pthread_mutex_lock(&pool->lock);
	if (strcmp(pool->home, db->where) != 0) {
		if (pool->home[0] != '\0') {
			old = pool->idle;
			nold = pool->nidle;
			pool->idle = NULL;
			pool->nidle = pool->cap = 0;
		}
		str_copy(pool->home, db->where, sizeof(pool->home));
	}
	pool->fallback = db->fallback;
	pthread_mutex_unlock(&pool->lock);
	if (old == NULL)
		return;
	for (size_t i = 0; i < nold; i++)
		db_close(&old[i]);
	free(old);
	dbpool_bump(pool);
}

static struct db *
pool_connect(struct dbpool *pool, struct err *err)
{
	struct db_params p;
	struct db *db;
	struct err ignore;
	int64_t secs = (pool->timeout_ms + 999) / 1000;

	db_params_copy(&p, &pool->params);
	p.connect_timeout = secs > 0 ? (int)secs : 1;
	/* podop mostly reads: a replica will do, and is preferred. */
	p.reader = !pool->writer;
	db = db_open(&p, err);
	db_params_release(&p);
	if (db == NULL) {
		atomic_fetch_add(&pool->connect_errors, 1);
		return NULL;
	}
	atomic_fetch_add(&pool->connects, 1);
	/* Best effort: bound statements below the clients' own timeouts. */
	if (db_engine(db) == DB_ENGINE_SQLITE) {
		/* Pages by mmap, not a read(2) each: podop mostly reads. */
		(void)db_exec(
		    db, "PRAGMA mmap_size = 268435456", NULL, 0, &ignore);
	} else if (db_engine(db) == DB_ENGINE_PGSQL) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SET statement_timeout = %lld",
		    (long long)pool->timeout_ms);
		(void)db_exec(db, sql, NULL, 0, &ignore);
	} else if (db_engine(db) == DB_ENGINE_MYSQL) {
		char sql[80];

		snprintf(sql, sizeof(sql),
		    "SET SESSION max_statement_time = %.3f",
		    (double)pool->timeout_ms / 1000.0);
		(void)db_exec(db, sql, NULL, 0, &ignore);
	}
	pool_adopt(pool, db);
	return db;
}

void
dbpool_batch_enable(bool on)
{
	if (!on)
		dbpool_batch_flush();
	held.enabled = on;
}

void
dbpool_batch_flush(void)
{
	struct err ignore;

	if (held.db == NULL)
		return;
	if (db_commit(held.db, &ignore) == -1)
		db_close(&held.db);
	else
		pool_give(held.pool, held.db);
	held.db = NULL;
	held.pool = NULL;
	held.n = 0;
}

int
dbpool_run_read(struct dbpool *pool, dbpool_fn *fn, void *arg, struct err *err)
{
	uint64_t gen = dbpool_generation(pool);
	struct db *db;
	int r;

	if (!held.enabled)
		return dbpool_run(pool, fn, arg, err);
	if (held.db != NULL &&
	    (held.pool != pool || held.gen != gen ||
		held.n >= DBPOOL_BATCH_MAX))
		dbpool_batch_flush();
	if (held.db == NULL) {
		if ((db = pool_take(pool)) == NULL &&
		    (db = pool_connect(pool, err)) == NULL)
			return -1;
		if (db_engine(db) != DB_ENGINE_SQLITE) {
			pool_give(pool, db);
			return dbpool_run(pool, fn, arg, err);
		}
		if (db_begin(db, false, err) == -1) {
			/* A stale pooled connection: the plain path reopens. */
			db_close(&db);
			return dbpool_run(pool, fn, arg, err);
		}
		held.pool = pool;
		held.db = db;
		held.gen = gen;
	}
	held.n++;
	r = fn(held.db, arg, err);
	if (r == -1 &&
	    (err->kind == ERR_DATABASE || err->kind == ERR_DEADLOCK)) {
		/* Drop the batch and try once the ordinary way. */
		atomic_fetch_add(&pool->reconnects, 1);
		db_rollback(held.db);
		db_close(&held.db);
		held.pool = NULL;
		held.n = 0;
		r = dbpool_run(pool, fn, arg, err);
	}
	return r;
}

int
dbpool_run(struct dbpool *pool, dbpool_fn *fn, void *arg, struct err *err)
{
	struct db *db;
	bool reused;
	int r;

	/* Never write (or wait for a lock) while holding a read batch. */
	dbpool_batch_flush();
	db = pool_take(pool);
	reused = db != NULL;
	if (db == NULL && (db = pool_connect(pool, err)) == NULL)
		return -1;
	r = fn(db, arg, err);
	if (r == -1 && err->kind == ERR_DATABASE && reused) {
		/* The connection may have gone stale while pooled. */
		atomic_fetch_add(&pool->reconnects, 1);
		db_close(&db);
		if ((db = pool_connect(pool, err)) == NULL)
			return -1;
		r = fn(db, arg, err);
	}
	if (db->in_tx)
		db_rollback(db);
	if (r == -1 && (err->kind == ERR_DATABASE || err->kind == ERR_DEADLOCK))
		db_close(&db);
	else
		pool_give(pool, db);
	return r;
}

uint64_t
dbpool_generation(struct dbpool *pool)
{
	return atomic_load_explicit(&pool->gen, memory_order_acquire);
}

bool
dbpool_tracked(struct dbpool *pool)
{
	return atomic_load_explicit(&pool->tracked, memory_order_acquire);
}

void
dbpool_bump(struct dbpool *pool)
{
	atomic_fetch_add_explicit(&pool->gen, 1, memory_order_acq_rel);
}

struct poll_arg {
	int64_t serial;
	bool absent;
};

static int
poll_fn(struct db *db, void *arg, struct err *err)
{
	struct poll_arg *pa = arg;
	struct err e2;
	int64_t v;
	int r;

	r = db_query_int(db, "SELECT serial FROM postino_change WHERE id = 1",
	    NULL, 0, &v, err);
	if (r == 1) {
		pa->serial = v;
		return 0;
	}
	if (r == 0) {
		pa->serial = 0;
		return 0;
	}
	/* Missing table, or a database in trouble? */
	if (db_table_exists(db, "postino_change", &e2) == 0) {
		pa->absent = true;
		return 0;
	}
	return -1;
}

/* Poll one pool; returns 1 if its generation moved. */
static int
poll_one(struct dbpool *pool, int64_t now)
{
	struct poll_arg pa = { 0, false };
	struct err err;
	int moved = 0;

	if (pool->writer)
		return 0; /* its reader twin's serial is the one that counts */
	if (pthread_mutex_trylock(&pool->poll_lock) != 0)
		return 0;
	if (now < pool->next_poll_ms) {
		pthread_mutex_unlock(&pool->poll_lock);
		return 0;
	}
	if (now >= pool->next_rehome_ms) {
		bool fallback;

		pthread_mutex_lock(&pool->lock);
		fallback = pool->fallback;
		pthread_mutex_unlock(&pool->lock);
		pool->next_rehome_ms = now + DBPOOL_REHOME_MS;
		if (fallback) {
			/* Is the preferred server back?  Connecting tells. */
			struct db *db = pool_connect(pool, &err);

			if (db != NULL)
				pool_give(pool, db);
		}
	}
	if (dbpool_run(pool, poll_fn, &pa, &err) == 0) {
		atomic_store(&pool->tracked, !pa.absent);
		atomic_store(&pool->last_poll_ms, now);
		atomic_store(&pool->pub_serial, pa.absent ? -1 : pa.serial);
		if (pa.absent) {
			pool->absent = true;
			pool->next_poll_ms = now + DBPOOL_ABSENT_RECHECK_MS;
		} else {
			pool->absent = false;
			if (!pool->polled || pa.serial != pool->serial) {
				pool->serial = pa.serial;
				pool->polled = true;
				dbpool_bump(pool);
				moved = 1;
			}
			pool->next_poll_ms = now + DBPOOL_POLL_MS;
		}
	} else
		pool->next_poll_ms = now + DBPOOL_POLL_MS;
	pthread_mutex_unlock(&pool->poll_lock);
	return moved;
}

int
dbpool_poll_all(void)
{
	struct dbpool **v = NULL, *pool;
	size_t n = 0;
	int64_t now = cache_now_ms();
	int moved = 0;

	pthread_mutex_lock(&reg_lock);
	for (pool = reg; pool != NULL; pool = pool->next) {
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = pool;
		pool->refs++;
	}
	pthread_mutex_unlock(&reg_lock);
	for (size_t i = 0; i < n; i++) {
		moved += poll_one(v[i], now);
		dbpool_put(&v[i]);
	}
	free(v);
	return moved;
}

size_t
dbpool_stats(struct dbpool_stat **v_r)
{
	struct dbpool_stat *v = NULL;
	struct dbpool *pool;
	size_t n = 0;

	pthread_mutex_lock(&reg_lock);
	for (pool = reg; pool != NULL; pool = pool->next) {
		struct dbpool_stat *st;

		v = xreallocarray(v, n + 1, sizeof(*v));
		st = &v[n++];
		str_copy(st->where, pool->where, sizeof(st->where));
		st->serial = atomic_load(&pool->pub_serial);
		st->last_poll_ms = atomic_load(&pool->last_poll_ms);
		st->tracked = atomic_load(&pool->tracked);
		st->generation = atomic_load(&pool->gen);
		st->connects = atomic_load(&pool->connects);
		st->connect_errors = atomic_load(&pool->connect_errors);
		st->reconnects = atomic_load(&pool->reconnects);
	}
	pthread_mutex_unlock(&reg_lock);
	*v_r = v;
	return n;
}
