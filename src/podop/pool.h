/*
 * pool: the threads that make podop's blocking backend calls, so that the
 * event loops never wait on a database, a Redis server or an HTTP service.
 *
 * Jobs wait in one FIFO.  Each job may name a per-table counter of calls
 * in progress; a job whose table already has per_table_max calls running
 * waits while jobs of other tables run, so a table whose backend hangs can
 * hold at most per_table_max threads and never starves the others.  The
 * pool starts min_threads threads and adds one (up to max_threads) when a
 * job arrives and no thread is idle.
 *
 * A worker that finishes a job takes the next queued job of the same table
 * if there is one (up to POOL_BATCH in a row), which lets the table keep
 * its connection and read transaction (dbpool.h); before it turns to
 * another table or waits, it calls the pool's idle hook.
 *
 * A job is owned by the pool from pool_submit() until it is released:
 * run() does the work, release() frees the job.  The first job of a batch
 * is released last, after its table's counter has been decremented, so
 * whatever keeps that counter alive (the job's reference to its table)
 * outlives every use of it.  Jobs still queued when the pool stops are
 * given to their cancel function instead.
 */
#ifndef PODOP_POOL_H
#define PODOP_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct pool_job {
	struct pool_job *next;
	void (*run)(struct pool_job *);	    /* do the work */
	void (*release)(struct pool_job *); /* then free */
	void (*cancel)(struct pool_job *);  /* never run: free */
	_Atomic int *inflight;		    /* per-table counter, or NULL */
};

#define POOL_BATCH 16

struct pool;

/* thread_init runs on each new thread, idle when a batch of jobs ends. */
struct pool *pool_new(int min_threads, int max_threads, int per_table_max,
    void (*thread_init)(void), void (*idle)(void));
void pool_submit(struct pool *, struct pool_job *);
/* Submit a list linked through next, in order, with one lock. */
void pool_submit_list(struct pool *, struct pool_job *);
/*
 * Stop: idle threads exit at once, busy ones after their job.  Waits up to
 * wait_ms for all of them; returns true if they all ended (then the pool
 * is freed), false if some are still stuck in a backend call (the pool is
 * left alone; exit the process).
 */
bool pool_stop(struct pool *, int64_t wait_ms);
/* Threads started, and how many are busy right now. */
void pool_counts(struct pool *, int *threads_r, int *busy_r, int *queued_r);

#endif
