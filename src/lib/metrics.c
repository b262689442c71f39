/*
 * metrics: per-thread counter shards, histograms, exposition text.
 */
#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "xalloc.h"
#include "banned.h"

struct metrics {
	size_t nslots;
	pthread_mutex_t lock; /* the shard list */
	struct metrics_shard *shards;
	pthread_key_t key; /* this thread's shard, released at its exit */
};

/* The last struct metrics this thread added to, and its shard there. */
static _Thread_local struct {
	struct metrics *m;
	struct metrics_shard *s;
} cur;

static void
shard_release(void *arg)
{
	struct metrics_shard *s = arg;

	/* The counts stay; the next new thread carries on with them. */
	atomic_store(&s->owned, 0);
}

struct metrics *
metrics_new(size_t nslots)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->nslots = nslots > 0 ? nslots : 1;
	pthread_mutex_init(&m->lock, NULL);
	if (pthread_key_create(&m->key, shard_release) != 0)
		abort(); /* out of keys: a programming error */
	return m;
}

void
metrics_free(struct metrics **mp)
{
	struct metrics *m = *mp;
	struct metrics_shard *s, *next;

	if (m == NULL)
		return;
	*mp = NULL;
	pthread_key_delete(m->key);
	for (s = m->shards; s != NULL; s = next) {
		next = s->next;
		free((void *)(uintptr_t)s->v);
		free(s);
	}
	pthread_mutex_destroy(&m->lock);
	if (cur.m == m)
		cur.m = NULL;
	free(m);
}

size_t
metrics_nslots(const struct metrics *m)
{
	return m->nslots;
}

struct metrics_shard *
metrics_shard(struct metrics *m)
{
	struct metrics_shard *s;

	if (cur.m == m)
		return cur.s;
	if ((s = pthread_getspecific(m->key)) == NULL) {
		pthread_mutex_lock(&m->lock);
		for (s = m->shards; s != NULL; s = s->next) {
			int free_ = 0;

			if (atomic_compare_exchange_strong(
				&s->owned, &free_, 1))
				break;
		}
		if (s == NULL) {
			s = xcalloc(1, sizeof(*s));
			s->v = xcalloc(m->nslots, sizeof(*s->v));
			atomic_store(&s->owned, 1);
			s->next = m->shards;
			m->shards = s;
		}
		pthread_mutex_unlock(&m->lock);
		(void)pthread_setspecific(m->key, s);
	}
	cur.m = m;
	cur.s = s;
	return s;
}

void
metrics_add(struct metrics *m, size_t slot, uint64_t n)
{
	if (slot < m->nslots)
		metrics_shard_add(metrics_shard(m), slot, n);
}

uint64_t
metrics_sum(struct metrics *m, size_t slot)
{
	uint64_t t = 0;

	if (slot >= m->nslots)
		return 0;
	pthread_mutex_lock(&m->lock);
	for (struct metrics_shard *s = m->shards; s != NULL; s = s->next)
		t += atomic_load_explicit(&s->v[slot], memory_order_relaxed);
	pthread_mutex_unlock(&m->lock);
	return t;
}

void
metrics_sum_all(struct metrics *m, uint64_t *out)
{
	memset(out, 0, m->nslots * sizeof(*out));
	pthread_mutex_lock(&m->lock);
	for (struct metrics_shard *s = m->shards; s != NULL; s = s->next)
		for (size_t i = 0; i < m->nslots; i++)
			out[i] += atomic_load_explicit(
			    &s->v[i], memory_order_relaxed);
	pthread_mutex_unlock(&m->lock);
}

int
metrics_buckets_init(struct metrics_buckets *b, const double *le, size_t n)
{
	memset(b, 0, sizeof(*b));
	if (n == 0 || n > METRICS_BUCKETS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(le[i] > 0) || !isfinite(le[i]) ||
		    (i > 0 && !(le[i] > le[i - 1])))
			return -1;
		b->le_ns[i] = (uint64_t)llround(le[i] * 1e9);
	}
	b->le = le;
	b->n = n;
	return 0;
}

void
metrics_shard_observe(struct metrics_shard *s, size_t base,
    const struct metrics_buckets *b, uint64_t ns)
{
	size_t i = 0;

	while (i < b->n && ns > b->le_ns[i])
		i++;
	metrics_shard_add(s, base + i, 1);
	metrics_shard_add(s, base + b->n + 1, ns);
	metrics_shard_add(s, base + b->n + 2, 1);
}

void
metrics_observe(struct metrics *m, size_t base, const struct metrics_buckets *b,
    uint64_t ns)
{
	if (base + METRICS_HIST_SLOTS(b->n) <= m->nslots)
		metrics_shard_observe(metrics_shard(m), base, b, ns);
}

uint64_t
metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Exposition text.
 */

static void
put_escaped(struct buf *b, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (quote && *s == '"')
			buf_puts(b, "\\\"");
		else
			buf_putc(b, *s);
	}
}

void
metrics_write_family(
    struct buf *b, const char *name, enum metrics_type t, const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	put_escaped(b, help, false);
	buf_printf(b, "\n# TYPE %s %s\n", name,
	    t == METRICS_COUNTER     ? "counter"
		: t == METRICS_GAUGE ? "gauge"
				     : "histogram");
}

static void
put_labels(struct buf *b, const struct metrics_label *l, size_t nl)
{
	if (nl == 0)
		return;
	buf_putc(b, '{');
	for (size_t i = 0; i < nl; i++) {
		buf_printf(b, "%s%s=\"", i > 0 ? "," : "", l[i].name);
		put_escaped(b, l[i].value != NULL ? l[i].value : "", true);
		buf_putc(b, '"');
	}
	buf_putc(b, '}');
}

void
metrics_write_u64(struct buf *b, const char *name,
    const struct metrics_label *l, size_t nl, uint64_t v)
{
	buf_puts(b, name);
	put_labels(b, l, nl);
	buf_printf(b, " %llu\n", (unsigned long long)v);
}

static void
put_double(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, "NaN");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else {
		char t[40];

		/* The shortest of the two that reads back exactly. */
		snprintf(t, sizeof(t), "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof(t), "%.17g", v);
		buf_puts(b, t);
	}
}

void
metrics_write_double(struct buf *b, const char *name,
    const struct metrics_label *l, size_t nl, double v)
{
	buf_puts(b, name);
	put_labels(b, l, nl);
	buf_putc(b, ' ');
	put_double(b, v);
	buf_putc(b, '\n');
}

void
metrics_write_hist(struct buf *b, const char *name,
    const struct metrics_label *l, size_t nl, const struct metrics_buckets *bk,
    const uint64_t *slots)
{
	struct metrics_label ll[8];
	char le[32], full[160];
	uint64_t cum = 0;

	if (nl > 7)
		nl = 7;
	memcpy(ll, l, nl * sizeof(*l));
	ll[nl].name = "le";
	ll[nl].value = le;
	snprintf(full, sizeof(full), "%s_bucket", name);
	for (size_t i = 0; i <= bk->n; i++) {
		cum += slots[i];
		if (i < bk->n)
			snprintf(le, sizeof(le), "%g", bk->le[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_write_u64(b, full, ll, nl + 1, cum);
	}
	snprintf(full, sizeof(full), "%s_sum", name);
	metrics_write_double(b, full, l, nl, (double)slots[bk->n + 1] / 1e9);
	snprintf(full, sizeof(full), "%s_count", name);
	metrics_write_u64(b, full, l, nl, slots[bk->n + 2]);
}
