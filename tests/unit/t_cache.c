/* The answer cache: TTLs, generations, stale answers, flights, bounds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "tap.h"

#define K(s) (s), strlen(s)

static void
test_basic(void)
{
	struct cache_params p = { 1000, 1000, 100, 5000 };
	struct cache *c = cache_new(&p);
	struct buf v;
	bool found;
	struct cache_waiter w1, w2, *ws;

	buf_init(&v, 1024);
	is_int(cache_lookup(c, K("a"), 1, 0, NULL, &found, &v), CACHE_MISS,
	    "empty cache misses");
	ok(cache_complete(c, K("a"), 1, 0, true, "va", -1) == NULL,
	    "complete without flight returns no waiters");
	is_int(cache_lookup(c, K("a"), 1, 10, NULL, &found, &v), CACHE_HIT,
	    "hit after store");
	ok(found && strcmp(buf_cstr(&v), "va") == 0, "hit: value");
	is_int(cache_lookup(c, K("a"), 1, 999, NULL, &found, &v), CACHE_HIT,
	    "still fresh just before the TTL");
	is_int(cache_lookup(c, K("a"), 1, 1000, NULL, &found, &v), CACHE_MISS,
	    "expired at the TTL");
	is_int(cache_lookup(c, K("a"), 2, 10, NULL, &found, &v), CACHE_MISS,
	    "another generation is not fresh");

	cache_complete(c, K("n"), 1, 0, false, NULL, -1);
	is_int(cache_lookup(c, K("n"), 1, 50, NULL, &found, &v), CACHE_HIT,
	    "negative hit");
	ok(!found, "negative: not found");
	is_int(cache_lookup(c, K("n"), 1, 100, NULL, &found, &v), CACHE_MISS,
	    "negative TTL is its own");

	ok(cache_stale(c, K("a"), 5999, &found, &v) && found &&
		strcmp(buf_cstr(&v), "va") == 0,
	    "stale within the bound, any "
	    "generation");
	ok(!cache_stale(c, K("a"), 6000, &found, &v), "not past the bound");
	ok(!cache_stale(c, K("zz"), 0, &found, &v), "no stale for unknown");

	/* Flights. */
	is_int(cache_lookup(c, K("f"), 1, 0, &w1, &found, &v), CACHE_MISS,
	    "first miss leads");
	is_int(cache_lookup(c, K("f"), 1, 0, &w1, &found, &v), CACHE_JOINED,
	    "second joins");
	is_int(cache_lookup(c, K("f"), 1, 0, &w2, &found, &v), CACHE_JOINED,
	    "third joins");
	ws = cache_complete(c, K("f"), 1, 0, true, "vf", -1);
	ok(ws == &w1 && ws->next == &w2 && w2.next == NULL,
	    "complete hands the waiters back in order");
	is_int(cache_lookup(c, K("f"), 1, 0, &w1, &found, &v), CACHE_HIT,
	    "then it is cached");
	is_int(cache_lookup(c, K("g"), 1, 0, &w1, &found, &v), CACHE_MISS,
	    "flight g");
	is_int(cache_lookup(c, K("g"), 1, 0, &w2, &found, &v), CACHE_JOINED,
	    "joined g");
	ok(cache_fail(c, K("g")) == &w2, "fail hands the waiters back");
	is_int(cache_lookup(c, K("g"), 1, 0, &w1, &found, &v), CACHE_MISS,
	    "after a failure the next miss leads again");
	cache_fail(c, K("g"));

	cache_forget(c, K("a"));
	ok(!cache_stale(c, K("a"), 0, &found, &v), "forget drops it");
	cache_clear(c);
	is_int(cache_lookup(c, K("n"), 1, 0, NULL, &found, &v), CACHE_MISS,
	    "clear drops everything");
	buf_release(&v);
	cache_free(&c);
	ok(c == NULL, "free clears the pointer");
}

static void
test_bound(void)
{
	struct cache_params p = { 6400, 100000, 100000, 0 };
	struct cache *c = cache_new(&p);
	struct cache_stats st;
	struct buf v;
	bool found;
	char key[32];
	int hits = 0;

	buf_init(&v, 1024);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		cache_complete(c, K(key), 1, 0, true, "value", -1);
	}
	cache_get_stats(c, &st);
	ok(st.entries <= 6400, "entries bounded (%llu)",
	    (unsigned long long)st.entries);
	ok(st.entries >= 6000, "and the bound is used (%llu)",
	    (unsigned long long)st.entries);
	for (int i = 100000 - 3000; i < 100000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		hits += cache_lookup(c, K(key), 1, 1, NULL, &found, &v) ==
		    CACHE_HIT;
	}
	ok(hits > 2500, "recent entries survive (%d of 3000)", hits);
	snprintf(key, sizeof(key), "key%d", 0);
	is_int(cache_lookup(c, K(key), 1, 1, NULL, &found, &v), CACHE_MISS,
	    "the oldest went first");
	buf_release(&v);
	cache_free(&c);
}

static struct cache *shared;

struct hw {
	struct cache_waiter w;
	struct hw *next;
};

static struct hw *kept[4];

static void *
hammer(void *arg)
{
	struct buf v;
	bool found;
	char key[32];
	long bad = 0, id = (long)(size_t)arg;
	struct hw *keep = NULL, *h;

	buf_init(&v, 1024);
	for (int i = 0; i < 200000; i++) {
		int k = (int)((i * 7 + id * 13) % 5000);
		enum cache_result r;

		/* A joined waiter stays linked until its flight ends, so it
		 * lives on the heap until every thread is done. */
		h = calloc(1, sizeof(*h));
		snprintf(key, sizeof(key), "k%d", k);
		r = cache_lookup(shared, K(key), 1, 0, &h->w, &found, &v);
		if (r == CACHE_HIT && (!found || strcmp(buf_cstr(&v), key)))
			bad++;
		if (r == CACHE_MISS)
			(void)cache_complete(
			    shared, K(key), 1, 0, true, key, -1);
		if (r == CACHE_JOINED) {
			h->next = keep;
			keep = h;
		} else
			free(h);
	}
	buf_release(&v);
	kept[id] = keep; /* freed once every thread is done */
	return (void *)bad;
}

static void
test_threads(void)
{
	struct cache_params p = { 4096, 1000000, 1000000, 0 };
	pthread_t th[4];
	long bad = 0;

	shared = cache_new(&p);
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, (void *)(size_t)i);
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(th[i], &r);
		bad += (long)(size_t)r;
	}
	for (int i = 0; i < 4; i++)
		while (kept[i] != NULL) {
			struct hw *next = kept[i]->next;

			free(kept[i]);
			kept[i] = next;
		}
	is_int(bad, 0, "four threads: every hit has its own value");
	cache_free(&shared);
}

int
main(void)
{
	test_basic();
	test_bound();
	test_threads();
	return done_testing();
}
