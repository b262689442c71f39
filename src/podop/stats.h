/*
 * stats: podop's counters, summed for the metrics listener and the
 * SIGUSR1 log line alike (metrics.h).
 *
 * Per table name ("map", interned once, at most STATS_MAPS_MAX names in
 * the process's life; further names share the last, "_other"): answered
 * lookups by result, cache hits, misses and stale answers, backend calls,
 * backend errors, timeouts, and a histogram of the lookup duration (from
 * the request read to its answer, on the event loop).  Then counters for
 * the whole process.  Event loops keep their own shard pointer; pool
 * threads go through metrics_shard().
 *
 * stats_init() makes the counters (once, before any thread adds);
 * stats_map() may run from any thread (a mutex; only when tables open).
 */
#ifndef PODOP_STATS_H
#define PODOP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "metrics.h"

#define STATS_MAPS_MAX 64
#define STATS_BUCKETS 16

enum stats_result {
	SR_OK = 0,
	SR_NOTFOUND,
	SR_TEMP,
	SR_PERM,
	SR_N,
};

/* Offsets within one map's run of slots. */
enum {
	MS_RESULT = 0, /* + enum stats_result */
	MS_CACHE_HIT = SR_N,
	MS_CACHE_MISS,
	MS_STALE,
	MS_BACKEND,
	MS_BACKEND_ERR,
	MS_TIMEOUT,
	MS_HIST, /* METRICS_HIST_SLOTS(STATS_BUCKETS) */
	MS_N = MS_HIST + METRICS_HIST_SLOTS(STATS_BUCKETS),
};

/* Process-wide slots, after the maps'. */
enum {
	GS_REQUESTS = 0, /* every request: lookups, iterations, commits */
	GS_ITERATE,
	GS_COMMIT,
	GS_BAD,
	GS_CONNS,
	GS_N,
};

#define STATS_GLOBAL(g) ((size_t)STATS_MAPS_MAX * MS_N + (size_t)(g))
#define STATS_MAP(m, off) ((size_t)(m)*MS_N + (size_t)(off))
#define STATS_NSLOTS STATS_GLOBAL(GS_N)

extern struct metrics *stats_m;
extern struct metrics_buckets stats_lat;

void stats_init(void);
/* The index of a table name (interned). */
uint16_t stats_map(const char *name);
/* How an answer counts: 1 found, 0 not found, -1 with e. */
enum stats_result stats_result_of(int rc, const struct err *e);

/*
 * Sums, for the log line and the exposition.  out has STATS_NSLOTS
 * entries; *nmaps_r is how many map names there are.
 */
void stats_sum(uint64_t *out, size_t *nmaps_r);
/* The per-map and process counters as exposition text. */
void stats_write(
    struct buf *, const uint64_t *sums, size_t nmaps, const char *protocol);

#endif
