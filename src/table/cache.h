/*
 * cache: the answer cache in front of podop's tables.
 *
 * A bounded, thread-safe map from an opaque key (the caller makes it unique
 * per table) to a lookup answer: found with a value, or not found.  Found
 * and not-found answers have their own time to live; past it an entry is
 * no longer served, but it is kept (until evicted) so that it can still be
 * served as a stale answer for cache_params.stale_ms more while the backend
 * fails.  Every entry also carries the generation of its table's data
 * source at the time the backend was asked; when the source moves to a new
 * generation (its data changed) older entries stop being fresh at once.
 * The size bound counts entries; the least recently used go first.
 *
 * Misses are single-flight: the first caller to miss a key becomes the
 * leader of a "flight" and must end it with cache_complete() or
 * cache_fail(); callers that miss the same key meanwhile are queued on it
 * (their struct cache_waiter, embedded in their own object, is linked in)
 * and handed back by whichever call ends the flight.  So one key costs at
 * most one backend query at a time.
 *
 * The cache is split into shards, each with its own lock, so threads rarely
 * contend.  Values are copied out into the caller's buffer; nothing the
 * cache owns is ever lent.
 */
#ifndef POSTINO_CACHE_H
#define POSTINO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cache;

struct cache_waiter {
	struct cache_waiter *next;
};

struct cache_params {
	size_t max_entries;	 /* bound on entries, >= 1 */
	int64_t ttl_ms;		 /* found answers */
	int64_t negative_ttl_ms; /* not-found answers */
	int64_t stale_ms; /* served past expiry while the backend fails */
};

enum cache_result {
	CACHE_MISS = 0,	  /* caller now leads a flight (if asked to) */
	CACHE_HIT = 1,	  /* fresh answer copied out */
	CACHE_JOINED = 2, /* queued on the flight already running */
};

struct cache_stats {
	uint64_t entries;
	uint64_t hits;
	uint64_t misses;
	uint64_t joined;
	uint64_t stale;
	uint64_t evicted;
};

struct cache *cache_new(const struct cache_params *);
void cache_free(struct cache **);

/* Milliseconds on the monotonic clock, the time base of every call here. */
int64_t cache_now_ms(void);

/*
 * Look key up.  An entry is fresh if it has not expired at now_ms and was
 * stored with generation gen.  On CACHE_HIT, *found_r says found or not and
 * a found value is copied into value_r (reset first).  On a miss with
 * w == NULL nothing else happens; with w != NULL either the caller becomes
 * the flight's leader (CACHE_MISS) or w is queued (CACHE_JOINED).
 */
enum cache_result cache_lookup(struct cache *, const void *key, size_t klen,
    uint64_t gen, int64_t now_ms, struct cache_waiter *w, bool *found_r,
    struct buf *value_r);

/*
 * End a flight with the backend's answer (value NULL when not found),
 * stored with gen, the generation read *before* the backend was asked (so
 * an answer that raced with a change is never fresh).  ttl_ms overrides the
 * time to live of this one answer when >= 0 (0: do not keep it fresh at
 * all).  Returns the queued waiters, in arrival order (NULL if none).
 */
struct cache_waiter *cache_complete(struct cache *, const void *key,
    size_t klen, uint64_t gen, int64_t now_ms, bool found, const char *value,
    int64_t ttl_ms);

/*
 * cache_complete() with this answer's stale bound too: stale_ms >= 0
 * overrides cache_params.stale_ms (per-table cache settings).
 */
struct cache_waiter *cache_complete_ttl(struct cache *, const void *key,
    size_t klen, uint64_t gen, int64_t now_ms, bool found, const char *value,
    int64_t ttl_ms, int64_t stale_ms);

/*
 * End a flight whose backend call failed.  The old entry, if any, stays.
 * Returns the queued waiters.
 */
struct cache_waiter *cache_fail(struct cache *, const void *key, size_t klen);

/*
 * A stale answer: an entry of any generation that is past its freshness
 * but within the stale bound (or still fresh).  Returns true with
 * *found_r/value_r set, false if there is none.
 */
bool cache_stale(struct cache *, const void *key, size_t klen, int64_t now_ms,
    bool *found_r, struct buf *value_r);

/* Forget one key, or everything. */
void cache_forget(struct cache *, const void *key, size_t klen);
void cache_clear(struct cache *);

void cache_get_stats(struct cache *, struct cache_stats *);

#endif
