/*
 * cache: sharded LRU answer cache with TTLs, generations, stale answers and
 * single-flight misses.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "xalloc.h"
#include "banned.h"

#define NSHARDS_LOG2 6
#define NSHARDS (1u << NSHARDS_LOG2)
#define MIN_BUCKETS 64

/* LRU list links, most recent first; the first member of an entry. */
struct lru {
	struct lru *prev;
	struct lru *next;
};

struct entry {
	struct lru lru;
	struct entry *hnext; /* hash chain */
	uint64_t gen;
	int64_t fresh_until;
	int64_t stale_until;
	uint32_t hash;
	uint32_t klen;
	uint32_t vlen;
	bool found;
	char data[]; /* key, then value and a NUL */
};

struct flight {
	struct flight *next;
	struct cache_waiter *head;
	struct cache_waiter **tail;
	uint32_t hash;
	size_t klen;
	char key[];
};

struct shard {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t max;
	struct lru lru; /* sentinel */
	struct flight *flights;
	struct cache_stats stats;
};

struct cache {
	struct cache_params p;
	struct shard shards[NSHARDS];
};

int64_t
cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 64-bit FNV-1a with a final mix; short keys, good spread. */
static uint64_t
hash_key(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct shard *
shard_of(struct cache *c, uint64_t h)
{
	return &c->shards[h >> (64 - NSHARDS_LOG2)];
}

struct cache *
cache_new(const struct cache_params *p)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	size_t per = p->max_entries / NSHARDS;

	c->p = *p;
	if (per == 0)
		per = 1;
	for (size_t i = 0; i < NSHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_init(&s->lock, NULL);
		s->nbuckets = MIN_BUCKETS;
		s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
		s->max = per;
		s->lru.next = s->lru.prev = &s->lru;
	}
	return c;
}

static void
shard_clear(struct shard *s)
{
	struct lru *l, *next;

	for (l = s->lru.next; l != &s->lru; l = next) {
		next = l->next;
		free(l); /* the link is the start of its entry */
	}
	s->lru.next = s->lru.prev = &s->lru;
	memset(s->buckets, 0, s->nbuckets * sizeof(*s->buckets));
	s->count = 0;
}

void
cache_free(struct cache **cp)
{
	struct cache *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < NSHARDS; i++) {
		struct shard *s = &c->shards[i];
		struct flight *f, *next;

		shard_clear(s);
		for (f = s->flights; f != NULL; f = next) {
			next = f->next;
			free(f);
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(c);
	*cp = NULL;
}

static void
lru_unlink(struct entry *e)
{
	e->lru.prev->next = e->lru.next;
	e->lru.next->prev = e->lru.prev;
}

static void
lru_push(struct shard *s, struct entry *e)
{
	e->lru.next = s->lru.next;
	e->lru.prev = &s->lru;
	s->lru.next->prev = &e->lru;
	s->lru.next = &e->lru;
}

static struct entry **
find_slot(struct shard *s, uint32_t h, const void *key, size_t klen)
{
	struct entry **pp = &s->buckets[h & (s->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		struct entry *e = *pp;

		if (e->hash == h && e->klen == klen &&
		    memcmp(e->data, key, klen) == 0)
			break;
	}
	return pp;
}

static void
entry_remove(struct shard *s, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->hnext;
	lru_unlink(e);
	s->count--;
	free(e);
}

static void
grow(struct shard *s)
{
	size_t nb = s->nbuckets * 2;
	struct entry **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e, *next;

		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
}

static void
evict(struct shard *s)
{
	while (s->count > s->max && s->lru.prev != &s->lru) {
		struct entry *e = (struct entry *)(void *)s->lru.prev;
		struct entry **pp = find_slot(s, e->hash, e->data, e->klen);

		entry_remove(s, pp);
		s->stats.evicted++;
	}
}

static void
copy_out(const struct entry *e, bool *found_r, struct buf *value_r)
{
	*found_r = e->found;
	if (value_r != NULL) {
		buf_reset(value_r);
		if (e->found &&
		    buf_append(value_r, e->data + e->klen, e->vlen) == -1)
			buf_reset(value_r); /* cannot happen: max checked */
	}
}

static struct flight *
flight_find(struct shard *s, uint32_t h, const void *key, size_t klen,
    struct flight ***pp_r)
{
	struct flight **pp;

	for (pp = &s->flights; *pp != NULL; pp = &(*pp)->next) {
		struct flight *f = *pp;

		if (f->hash == h && f->klen == klen &&
		    memcmp(f->key, key, klen) == 0) {
			if (pp_r != NULL)
				*pp_r = pp;
			return f;
		}
	}
	return NULL;
}

enum cache_result
cache_lookup(struct cache *c, const void *key, size_t klen, uint64_t gen,
    int64_t now_ms, struct cache_waiter *w, bool *found_r, struct buf *value_r)
{
	uint64_t h64 = hash_key(key, klen);
	uint32_t h = (uint32_t)h64;
	struct shard *s = shard_of(c, h64);
	struct entry *e;
	struct flight *f;

	pthread_mutex_lock(&s->lock);
	e = *find_slot(s, h, key, klen);
	if (e != NULL && e->gen == gen && now_ms < e->fresh_until) {
		lru_unlink(e);
		lru_push(s, e);
		copy_out(e, found_r, value_r);
		s->stats.hits++;
		pthread_mutex_unlock(&s->lock);
		return CACHE_HIT;
	}
	s->stats.misses++;
	if (w == NULL) {
		pthread_mutex_unlock(&s->lock);
		return CACHE_MISS;
	}
	if ((f = flight_find(s, h, key, klen, NULL)) != NULL) {
		w->next = NULL;
		*f->tail = w;
		f->tail = &w->next;
		s->stats.joined++;
		pthread_mutex_unlock(&s->lock);
		return CACHE_JOINED;
	}
	f = xmalloc(sizeof(*f) + klen);
	f->hash = h;
	f->klen = klen;
	memcpy(f->key, key, klen);
	f->head = NULL;
	f->tail = &f->head;
	f->next = s->flights;
	s->flights = f;
	pthread_mutex_unlock(&s->lock);
	return CACHE_MISS;
}

/* Unlink the flight for key and return its waiters (lock held). */
static struct cache_waiter *
flight_end(struct shard *s, uint32_t h, const void *key, size_t klen)
{
	struct flight **pp, *f;
	struct cache_waiter *w;

	if ((f = flight_find(s, h, key, klen, &pp)) == NULL)
		return NULL;
	*pp = f->next;
	w = f->head;
	free(f);
	return w;
}

struct cache_waiter *
cache_complete(struct cache *c, const void *key, size_t klen, uint64_t gen,
    int64_t now_ms, bool found, const char *value, int64_t ttl_ms)
{
	return cache_complete_ttl(
	    c, key, klen, gen, now_ms, found, value, ttl_ms, -1);
}

struct cache_waiter *
cache_complete_ttl(struct cache *c, const void *key, size_t klen, uint64_t gen,
    int64_t now_ms, bool found, const char *value, int64_t ttl_ms,
    int64_t stale_ms)
{
	uint64_t h64 = hash_key(key, klen);
	uint32_t h = (uint32_t)h64;
	struct shard *s = shard_of(c, h64);
	size_t vlen = found && value != NULL ? strlen(value) : 0;
	int64_t ttl = ttl_ms >= 0 ? ttl_ms
	    : found		  ? c->p.ttl_ms
				  : c->p.negative_ttl_ms;
	int64_t stale = stale_ms >= 0 ? stale_ms : c->p.stale_ms;
	struct entry *e, **pp;
	struct cache_waiter *w;

	e = xmalloc(sizeof(*e) + klen + vlen + 1);
	e->gen = gen;
	e->fresh_until = now_ms + ttl;
	e->stale_until = now_ms + ttl + stale;
	e->hash = h;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	e->found = found;
	memcpy(e->data, key, klen);
	if (vlen > 0)
		memcpy(e->data + klen, value, vlen);
	e->data[klen + vlen] = '\0';

	pthread_mutex_lock(&s->lock);
	w = flight_end(s, h, key, klen);
	pp = find_slot(s, h, key, klen);
	if (*pp != NULL)
		entry_remove(s, pp);
	if (ttl <= 0 && stale <= 0) {
		free(e);
	} else {
		pp = &s->buckets[h & (s->nbuckets - 1)];
		e->hnext = *pp;
		*pp = e;
		lru_push(s, e);
		if (++s->count > s->nbuckets)
			grow(s);
		evict(s);
	}
	pthread_mutex_unlock(&s->lock);
	return w;
}

struct cache_waiter *
cache_fail(struct cache *c, const void *key, size_t klen)
{
	uint64_t h64 = hash_key(key, klen);
	struct shard *s = shard_of(c, h64);
	struct cache_waiter *w;

	pthread_mutex_lock(&s->lock);
	w = flight_end(s, (uint32_t)h64, key, klen);
	pthread_mutex_unlock(&s->lock);
	return w;
}

bool
cache_stale(struct cache *c, const void *key, size_t klen, int64_t now_ms,
    bool *found_r, struct buf *value_r)
{
	uint64_t h64 = hash_key(key, klen);
	struct shard *s = shard_of(c, h64);
	struct entry *e;
	bool ok = false;

	pthread_mutex_lock(&s->lock);
	e = *find_slot(s, (uint32_t)h64, key, klen);
	if (e != NULL && now_ms < e->stale_until) {
		copy_out(e, found_r, value_r);
		s->stats.stale++;
		ok = true;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void
cache_forget(struct cache *c, const void *key, size_t klen)
{
	uint64_t h64 = hash_key(key, klen);
	struct shard *s = shard_of(c, h64);
	struct entry **pp;

	pthread_mutex_lock(&s->lock);
	pp = find_slot(s, (uint32_t)h64, key, klen);
	if (*pp != NULL)
		entry_remove(s, pp);
	pthread_mutex_unlock(&s->lock);
}

void
cache_clear(struct cache *c)
{
	for (size_t i = 0; i < NSHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		shard_clear(&c->shards[i]);
		pthread_mutex_unlock(&c->shards[i].lock);
	}
}

void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < NSHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_lock(&s->lock);
		st->entries += s->count;
		st->hits += s->stats.hits;
		st->misses += s->stats.misses;
		st->joined += s->stats.joined;
		st->stale += s->stats.stale;
		st->evicted += s->stats.evicted;
		pthread_mutex_unlock(&s->lock);
	}
}
