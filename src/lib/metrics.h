/*
 * metrics: counters that cost a hot path next to nothing, histograms of
 * durations, and the Prometheus text exposition format (version 0.0.4)
 * they are scraped in.
 *
 * A struct metrics is a fixed array of nslots 64-bit counters, kept once
 * per thread ("shards"): a thread adds to its own shard only, with a
 * relaxed load and store (no locked instruction, no shared cache line),
 * and a scrape sums every shard.  A thread's shard is made on its first
 * add and outlives the thread (its counts stay in the sums; a later
 * thread reuses it), so counters never go down.  metrics_shard() finds
 * the calling thread's shard (one thread-local compare when it is the
 * same struct metrics as last time); a thread that adds often keeps the
 * pointer and calls metrics_shard_add() directly.
 *
 * A histogram is a run of slots from a base: one per bucket (not
 * cumulative, the last is +Inf), then the sum of observations in
 * nanoseconds, then their count.  Bucket bounds are given in seconds.
 *
 * The writer functions append exposition text to a buf: a family's
 * "# HELP" and "# TYPE" lines once, then its samples, label values
 * escaped.  Names are the caller's constants and are not checked.
 *
 * The struct owns its shards; metrics_free() may only run once no thread
 * adds any more.  Library code: nothing here prints or exits.
 */
#ifndef POSTINO_METRICS_H
#define POSTINO_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct metrics_shard {
	_Atomic uint64_t *v; /* nslots, written by the owning thread only */
	struct metrics_shard *next;
	_Atomic int owned; /* a live thread writes it */
};

struct metrics;

struct metrics *metrics_new(size_t nslots);
void metrics_free(struct metrics **);
size_t metrics_nslots(const struct metrics *);

/* The calling thread's shard of m (made on first use). */
struct metrics_shard *metrics_shard(struct metrics *);

static inline void
metrics_shard_add(struct metrics_shard *s, size_t slot, uint64_t n)
{
	/* One writer per shard: a plain add, readable from any thread. */
	atomic_store_explicit(&s->v[slot],
	    atomic_load_explicit(&s->v[slot], memory_order_relaxed) + n,
	    memory_order_relaxed);
}

void metrics_add(struct metrics *, size_t slot, uint64_t n);

/* The sum over every shard of one slot, or of all into out[nslots]. */
uint64_t metrics_sum(struct metrics *, size_t slot);
void metrics_sum_all(struct metrics *, uint64_t *out);

/*
 * Histogram buckets: n upper bounds in seconds, increasing.  The slots a
 * histogram takes are METRICS_HIST_SLOTS(n).
 */
#define METRICS_BUCKETS_MAX 32

struct metrics_buckets {
	const double *le; /* seconds */
	size_t n;
	uint64_t le_ns[METRICS_BUCKETS_MAX]; /* by metrics_buckets_init() */
};
#define METRICS_HIST_SLOTS(n) ((n) + 3)

/* Returns 0, or -1 when n is 0, too large or the bounds do not increase. */
int metrics_buckets_init(struct metrics_buckets *, const double *le, size_t n);
/* Record one observation of ns nanoseconds in the histogram at base. */
void metrics_shard_observe(struct metrics_shard *, size_t base,
    const struct metrics_buckets *, uint64_t ns);
void metrics_observe(
    struct metrics *, size_t base, const struct metrics_buckets *, uint64_t ns);

/* Nanoseconds on the monotonic clock. */
uint64_t metrics_now_ns(void);

/*
 * Exposition text.
 */
enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics_label {
	const char *name;
	const char *value;
};

/* "# HELP name help" and "# TYPE name type". */
void metrics_write_family(
    struct buf *, const char *name, enum metrics_type, const char *help);
/* "name{l1="v1",...} value"; nl may be 0. */
void metrics_write_u64(struct buf *, const char *name,
    const struct metrics_label *, size_t nl, uint64_t v);
void metrics_write_double(struct buf *, const char *name,
    const struct metrics_label *, size_t nl, double v);
/*
 * A histogram's samples from its slots (summed): name_bucket{...,le=""}
 * cumulative, name_sum (seconds) and name_count.  nl is at most 7.
 */
void metrics_write_hist(struct buf *, const char *name,
    const struct metrics_label *, size_t nl, const struct metrics_buckets *,
    const uint64_t *slots);

/* The content type of the exposition format. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
