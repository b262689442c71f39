/*
 * workers: the hand-off between podop's loops and the backend pool.  A
 * lookup is answered inline, from the cache or by a job; iterations and
 * commits are always jobs.  Jobs run on pool threads and post their
 * answers (a struct done) back to their loop's queue and eventfd.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "buf.h"
#include "cache.h"
#include "err.h"
#include "log.h"
#include "pool.h"
#include "proto_dict.h"
#include "proto_socketmap.h"
#include "metrics.h"
#include "server_impl.h"
#include "stats.h"
#include "strutil.h"
#include "table.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

static void
ckey_build(struct buf *b, const struct tableset *ts, size_t tidx,
    const char *key, const char *user)
{
	unsigned char head[6];

	head[0] = (unsigned char)(ts->epoch >> 24);
	head[1] = (unsigned char)(ts->epoch >> 16);
	head[2] = (unsigned char)(ts->epoch >> 8);
	head[3] = (unsigned char)ts->epoch;
	head[4] = (unsigned char)(tidx >> 8);
	head[5] = (unsigned char)tidx;
	buf_reset(b);
	buf_append(b, head, sizeof(head));
	buf_puts(b, key);
	buf_putc(b, '\0');
	if (user != NULL)
		buf_puts(b, user);
}

/*
 * Backend jobs (run on pool threads).
 */

static void
done_post(struct done *d)
{
	struct loop *l = d->loop;
	bool wake;

	pthread_mutex_lock(&l->qlock);
	d->next = NULL;
	wake = l->qhead == NULL;
	if (l->qtail != NULL)
		l->qtail->next = d;
	else
		l->qhead = d;
	l->qtail = d;
	pthread_mutex_unlock(&l->qlock);
	if (wake)
		(void)!eventfd_write(l->evfd, 1);
}

void
done_free(struct done *d)
{
	free(d->value);
	free(d->emsg);
	free(d->raw);
	free(d);
}

static void
done_set(
    struct done *d, int rc, const char *value, const struct err *e, bool stale)
{
	d->rc = rc;
	d->stale = stale;
	if (rc == 1)
		d->value = xstrdup(value);
	if (rc == -1) {
		d->ekind = e->kind;
		d->emsg = xstrdup(e->msg);
	}
}

static void
job_free(struct job *j)
{
	free(j->key);
	free(j->user);
	free(j->ckey);
	for (size_t i = 0; i < j->npaths; i++)
		free(j->paths[i]);
	dict_tx_free(j->tx);
	tableset_unref(j->ts);
	free(j);
}

static void
job_lookup(struct pool_job *pj)
{
	struct job *j = (struct job *)pj;
	struct server *srv = j->srv;
	struct table *t = j->ts->t[j->tidx];
	uint64_t gen = table_generation(t);
	struct err e = ERR_INIT;
	struct cache_waiter *ws = NULL, *next;
	struct buf val;
	int64_t ttl, t0 = cache_now_ms(), now;
	bool stale = false;
	int r;

	buf_init(&val, VALUE_MAX);
	metrics_add(stats_m, STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND), 1);
	r = table_lookup(t, j->key, j->user, &val, &ttl, &e);
	now = cache_now_ms();
	if (r == -1) {
		metrics_add(stats_m,
		    STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND_ERR), 1);
		if (err_log_ok(srv))
			log_warnx("lookup map=%s key=%s failed: %s", t->name,
			    j->key, e.msg);
	}
	if (j->cached) {
		if (r >= 0) {
			int64_t keep =
			    r == 1 ? j->pol.ttl_ms : j->pol.negative_ttl_ms;

			/* The backend may shorten it (Cache-Control). */
			if (ttl >= 0 && (!j->pol.set || ttl < keep))
				keep = ttl;
			ws = cache_complete_ttl(srv->cache, j->ckey, j->cklen,
			    gen, now, r == 1, buf_cstr(&val), keep,
			    j->pol.stale_ms);
		} else {
			bool found;

			ws = cache_fail(srv->cache, j->ckey, j->cklen);
			if (cache_stale(srv->cache, j->ckey, j->cklen, now,
				&found, &val)) {
				r = found ? 1 : 0;
				stale = true;
				if (err_log_ok(srv))
					log_warnx(
					    "lookup map=%s key=%s: serving a stale answer",
					    t->name, j->key);
			}
		}
	}
	if (log_debugging())
		log_debug("lookup map=%s key=%s%s%s result=%s ms=%lld%s",
		    t->name, j->key, j->user ? " user=" : "",
		    j->user ? j->user : "",
		    r == 1	 ? "found"
			: r == 0 ? "notfound"
				 : err_kind_name(e.kind),
		    (long long)(now - t0), stale ? " stale" : "");
	done_set(j->leader, r, buf_cstr(&val), &e, stale);
	done_post(j->leader);
	j->leader = NULL;
	for (; ws != NULL; ws = next) {
		struct done *d = (struct done *)(void *)ws;

		next = ws->next;
		done_set(d, r, buf_cstr(&val), &e, stale);
		done_post(d);
	}
	buf_release(&val);
}

struct iter_out {
	struct buf *raw;
	const char *ns;
	bool no_value;
};

static int
iter_row(void *arg, const char *key, const char *value, struct err *err)
{
	struct iter_out *o = arg;
	struct buf full;
	int r;

	buf_init(&full, TABLE_KEY_MAX * 3);
	buf_puts(&full, o->ns);
	buf_puts(&full, key);
	r = dictproto_reply_row(
	    o->raw, buf_cstr(&full), o->no_value ? "" : value);
	buf_release(&full);
	if (r == -1)
		return err_set(err, ERR_TOOLARGE,
		    "iteration larger than %u bytes", ITER_MAX);
	return 0;
}

static void
job_iterate(struct pool_job *pj)
{
	struct job *j = (struct job *)pj;
	struct table *t = j->ts->t[j->tidx];
	struct err e = ERR_INIT;
	struct buf raw;
	int r = 0;

	buf_init(&raw, ITER_MAX);
	metrics_add(stats_m, STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND), 1);
	for (size_t i = 0; i < j->npaths && r == 0; i++) {
		struct iter_out o = { &raw,
			str_prefix(j->paths[i], "priv/") ? "priv/" : "shared/",
			(j->flags & DICT_ITER_NO_VALUE) != 0 };
		const char *rest, *user;

		r = dictproto_key_split(j->paths[i], j->user, &rest, &user, &e);
		if (r == 0)
			r = table_iterate(t, rest, user, j->flags, j->max_rows,
			    iter_row, &o, &e);
	}
	if (r == -1)
		metrics_add(stats_m,
		    STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND_ERR), 1);
	if (r == -1 && err_log_ok(j->srv))
		log_warnx("iterate dict=%s path=%s failed: %s", t->name,
		    j->paths[0], e.msg);
	/* Rows already written stay: F after rows ends the iteration. */
	if (dictproto_reply_iter_end(&raw, r, &e) == -1) {
		buf_truncate(&raw, 0);
		err_set(&e, ERR_TOOLARGE, "iteration too large");
		dictproto_reply_iter_end(&raw, -1, &e);
	}
	j->leader->rc = r;
	j->leader->rawlen = raw.len;
	j->leader->raw = buf_detach(&raw);
	done_post(j->leader);
	j->leader = NULL;
}

static void
job_commit(struct pool_job *pj)
{
	struct job *j = (struct job *)pj;
	struct table *t = j->ts->t[j->tidx];
	struct table_op *ops = xcalloc(j->tx->nops, sizeof(*ops));
	struct err e = ERR_INIT;
	struct buf raw, ck;
	int r = 1;

	for (size_t i = 0; i < j->tx->nops && r == 1; i++) {
		const struct dict_op *op = &j->tx->ops[i];
		const char *rest, *user;

		if (dictproto_key_split(
			op->key, j->tx->user, &rest, &user, &e) == -1)
			r = -1;
		ops[i] = (struct table_op){ op->op, rest, user, op->value,
			op->diff, j->tx->expire_secs };
	}
	metrics_add(stats_m, STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND), 1);
	if (r == 1)
		r = table_commit(t, ops, j->tx->nops, &e);
	if (r == -1)
		metrics_add(stats_m,
		    STATS_MAP(j->ts->midx[j->tidx], MS_BACKEND_ERR), 1);
	if (r == -1 && err_log_ok(j->srv))
		log_warnx("commit dict=%s failed: %s", t->name, e.msg);
	log_debug("commit dict=%s ops=%zu result=%s", t->name, j->tx->nops,
	    r == 1 ? "ok" : err_kind_name(e.kind));
	/* Whatever happened, cached answers for these keys are suspect. */
	if (j->srv->conf.cache_on) {
		buf_init(&ck, TABLE_KEY_MAX * 3);
		for (size_t i = 0; i < j->tx->nops; i++) {
			if (ops[i].key == NULL)
				continue;
			ckey_build(
			    &ck, j->ts, j->tidx, ops[i].key, ops[i].user);
			cache_forget(j->srv->cache, ck.data, ck.len);
		}
		buf_release(&ck);
	}
	buf_init(&raw, 64 * 1024);
	dictproto_reply_commit(&raw, j->tx->id, j->async, r, &e);
	j->leader->rc = r;
	j->leader->rawlen = raw.len;
	j->leader->raw = buf_detach(&raw);
	done_post(j->leader);
	j->leader = NULL;
	free(ops);
}

static void
job_release(struct pool_job *pj)
{
	job_free((struct job *)pj);
}

static void
job_cancel(struct pool_job *pj)
{
	struct job *j = (struct job *)pj;
	struct cache_waiter *ws = NULL, *next;

	if (j->cached)
		ws = cache_fail(j->srv->cache, j->ckey, j->cklen);
	for (; ws != NULL; ws = next) {
		next = ws->next;
		done_free((struct done *)(void *)ws);
	}
	if (j->leader != NULL)
		done_free(j->leader);
	job_free(j);
}

struct job *
job_new(struct conn *c, struct req *r, enum rkind kind, struct tableset *ts,
    size_t tidx)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct done *d = xcalloc(1, sizeof(*d));

	d->loop = c->loop;
	d->fd = c->fd;
	d->conn_id = c->id;
	d->seq = r->seq;
	d->kind = kind;
	j->kind = kind;
	j->srv = c->loop->srv;
	j->ts = ts;
	tableset_ref(ts);
	j->tidx = tidx;
	j->leader = d;
	j->pj.inflight = &ts->inflight[tidx];
	j->pj.cancel = job_cancel;
	j->pj.release = job_release;
	j->pj.run = kind == RK_ITER ? job_iterate
	    : kind == RK_COMMIT	    ? job_commit
				    : job_lookup;
	return j;
}

/*
 * Lookups (loop side).
 */

/* Jobs collect during a loop round and go to the pool together. */
void
loop_submit(struct loop *l, struct pool_job *j)
{
	j->next = NULL;
	*l->submit_tail = j;
	l->submit_tail = &j->next;
}

void
loop_flush_jobs(struct loop *l)
{
	if (l->submit == NULL)
		return;
	pool_submit_list(l->srv->pool, l->submit);
	l->submit = NULL;
	l->submit_tail = &l->submit;
}

/*
 * How a lookup on table tidx may be cached: its own settings, or the
 * global ones if its source has postino's change serial; false when it
 * must not be cached at all (every lookup asks the backend, as Podop).
 */
static bool
cache_policy(const struct server *srv, struct tableset *ts, size_t tidx,
    struct table_cache *pol_r)
{
	if (!srv->conf.cache_on)
		return false;
	if (ts->cache[tidx].set)
		*pol_r = ts->cache[tidx];
	else if (table_tracked(ts->t[tidx])) {
		pol_r->set = false;
		pol_r->ttl_ms = srv->conf.cache.ttl_ms;
		pol_r->negative_ttl_ms = srv->conf.cache.negative_ttl_ms;
		pol_r->stale_ms = srv->conf.cache.stale_ms;
	} else
		return false;
	return pol_r->ttl_ms > 0 || pol_r->negative_ttl_ms > 0 ||
	    pol_r->stale_ms > 0;
}

/*
 * Count an answered lookup (on its loop's shard).  Its duration runs from
 * the round its request was read in to the round its answer came back
 * in, on the clock read once a round: an answer given in the round of its
 * request (a cache hit, an inline table) counts as 0, not worth two clock
 * reads per lookup.
 */
void
lookup_counted(struct loop *l, uint16_t m, uint64_t t0, int rc,
    const struct err *e, bool stale)
{
	metrics_shard_add(
	    l->ms, STATS_MAP(m, MS_RESULT + stats_result_of(rc, e)), 1);
	if (stale)
		metrics_shard_add(l->ms, STATS_MAP(m, MS_STALE), 1);
	metrics_shard_observe(
	    l->ms, STATS_MAP(m, MS_HIST), &stats_lat, l->now_ns - t0);
}

void
start_lookup(struct conn *c, enum rkind kind, struct tableset *ts, size_t tidx,
    const char *key, const char *user)
{
	struct loop *l = c->loop;
	struct server *srv = l->srv;
	struct table *t = ts->t[tidx];
	struct err e = ERR_INIT;
	struct cache_waiter *w;
	struct done *d;
	struct req *r;
	struct job *j;
	struct table_cache pol = { 0 };
	bool found, cached;
	uint16_t m = ts->midx[tidx];
	uint64_t t0 = l->now_ns;
	int rc;

	metrics_shard_add(l->ms, STATS_GLOBAL(GS_REQUESTS), 1);
	if (table_is_inline(t) || strlen(key) > TABLE_KEY_MAX) {
		rc = table_lookup(t, key, user, &l->scratch, NULL, &e);
		lookup_counted(l, m, t0, rc, &e, false);
		if (rc == -1 && e.kind == ERR_TOOLARGE && err_log_ok(srv))
			log_warnx("lookup map=%s refused: %s", t->name, e.msg);
		if (log_tracing())
			log_trace("lookup map=%s key=%s result=%s inline",
			    t->name, key,
			    rc == 1	  ? "found"
				: rc == 0 ? "notfound"
					  : err_kind_name(e.kind));
		answer_lookup(c, NULL, kind, rc, buf_cstr(&l->scratch), &e);
		return;
	}
	cached = cache_policy(srv, ts, tidx, &pol);
	if (cached) {
		ckey_build(&l->ckey, ts, tidx, key, user);
		if (cache_lookup(srv->cache, l->ckey.data, l->ckey.len,
			table_generation(t), l->now, NULL, &found,
			&l->scratch) == CACHE_HIT) {
			metrics_shard_add(l->ms, STATS_MAP(m, MS_CACHE_HIT), 1);
			lookup_counted(l, m, t0, found ? 1 : 0, NULL, false);
			if (log_tracing())
				log_trace(
				    "lookup map=%s key=%s result=%s cache=hit",
				    t->name, key, found ? "found" : "notfound");
			answer_lookup(c, NULL, kind, found ? 1 : 0,
			    buf_cstr(&l->scratch), NULL);
			return;
		}
	}
	r = req_new(c, kind);
	r->midx = m;
	r->t0_ns = t0;
	j = job_new(c, r, kind, ts, tidx);
	j->key = xstrdup(key);
	j->user = user != NULL ? xstrdup(user) : NULL;
	j->pol = pol;
	if (cached) {
		r->ckey = xmalloc(l->ckey.len);
		memcpy(r->ckey, l->ckey.data, l->ckey.len);
		r->cklen = l->ckey.len;
		j->ckey = xmalloc(l->ckey.len);
		memcpy(j->ckey, l->ckey.data, l->ckey.len);
		j->cklen = l->ckey.len;
		w = &j->leader->cw;
		switch (cache_lookup(srv->cache, j->ckey, j->cklen,
		    table_generation(t), l->now, w, &found, &l->scratch)) {
		case CACHE_HIT: /* filled in meanwhile */
			metrics_shard_add(l->ms, STATS_MAP(m, MS_CACHE_HIT), 1);
			lookup_counted(l, m, t0, found ? 1 : 0, NULL, false);
			job_cancel(&j->pj);
			answer_lookup(c, r, kind, found ? 1 : 0,
			    buf_cstr(&l->scratch), NULL);
			return;
		case CACHE_JOINED: /* the leader's job answers us */
			metrics_shard_add(
			    l->ms, STATS_MAP(m, MS_CACHE_MISS), 1);
			d = j->leader;
			j->leader = NULL;
			job_free(j);
			(void)d;
			return;
		case CACHE_MISS:
			metrics_shard_add(
			    l->ms, STATS_MAP(m, MS_CACHE_MISS), 1);
			j->cached = true;
			break;
		}
	}
	loop_submit(l, &j->pj);
}