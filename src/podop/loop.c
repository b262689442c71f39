/*
 * loop: podop's epoll loops: accepting, reading, writing and closing
 * connections, the per-connection FIFO that keeps answers in request
 * order, completions coming back from the pool, timeouts and the drain.
 * The input is framed by socketmap.c or dict.c.
 */
#define _GNU_SOURCE /* accept4(2), EPOLLEXCLUSIVE */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "err.h"
#include "log.h"
#include "proto_dict.h"
#include "proto_socketmap.h"
#include "metrics.h"
#include "server_impl.h"
#include "stats.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

static void conn_close(struct conn *);
static void conn_process(struct conn *);
static void conn_flush(struct conn *);
static void conn_events(struct conn *);

/*
 * Requests and ordering.
 */

static void
pend_unlink(struct req *r)
{
	if (r->tnext == NULL)
		return;
	r->tprev->tnext = r->tnext;
	r->tnext->tprev = r->tprev;
	r->tnext = r->tprev = NULL;
}

struct req *
req_new(struct conn *c, enum rkind kind)
{
	struct loop *l = c->loop;
	struct req *r = xcalloc(1, sizeof(*r));

	r->conn = c;
	r->kind = kind;
	r->seq = ++c->seq;
	r->started = l->now;
	r->deadline = l->now + l->srv->conf.timeout_ms + TIMEOUT_MARGIN;
	if (c->tail != NULL)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nreq++;
	/* Same timeout for all: appending keeps the list in deadline order. */
	r->tprev = l->pend.tprev;
	r->tnext = &l->pend;
	l->pend.tprev->tnext = r;
	l->pend.tprev = r;
	return r;
}

static void
req_free(struct req *r)
{
	pend_unlink(r);
	free(r->reply);
	free(r->ckey);
	free(r->what);
	free(r);
}

/* Move the answers at the head of the FIFO to the output buffer. */
static void
flush_ready(struct conn *c)
{
	while (c->head != NULL && c->head->done) {
		struct req *r = c->head;

		if (buf_append(&c->out, r->reply, r->rlen) == -1) {
			log_warnx(
			    "connection %llu: output over %u bytes, closing",
			    (unsigned long long)c->id, OUT_MAX);
			c->closing = true;
		}
		if (r->blocking)
			c->blocked = false;
		c->head = r->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->nreq--;
		req_free(r);
	}
}

/*
 * Deliver reply bytes: straight to the output when nothing is ahead of
 * them (r == NULL means "answered on the spot"), else into r.
 */
void
conn_answer(struct conn *c, struct req *r, const char *bytes, size_t n)
{
	if (r == NULL && c->head == NULL) {
		if (buf_append(&c->out, bytes, n) == -1) {
			log_warnx(
			    "connection %llu: output over %u bytes, closing",
			    (unsigned long long)c->id, OUT_MAX);
			c->closing = true;
		}
		return;
	}
	if (r == NULL)
		r = req_new(c, RK_SM);
	r->reply = xmalloc(n > 0 ? n : 1);
	memcpy(r->reply, bytes, n);
	r->rlen = n;
	r->done = true;
	pend_unlink(r);
	flush_ready(c);
}

/* Format a lookup answer for the connection's protocol and deliver it. */
void
answer_lookup(struct conn *c, struct req *r, enum rkind kind, int rc,
    const char *value, const struct err *e)
{
	struct buf *b = &c->loop->reply;

	buf_reset(b);
	if (kind == RK_SM) {
		if (socketmap_reply(b, rc, value, e) == -1) {
			struct err big;

			err_set(&big, ERR_TOOLARGE, "reply too large");
			buf_reset(b);
			socketmap_reply(b, -1, NULL, &big);
		}
	} else if (dictproto_reply_lookup(b, rc, value, e) == -1) {
		struct err big;

		err_set(&big, ERR_TOOLARGE, "reply too large");
		buf_reset(b);
		dictproto_reply_lookup(b, -1, NULL, &big);
	}
	conn_answer(c, r, b->data, b->len);
}

/*
 * Connections.
 */

static bool
paused(const struct conn *c)
{
	return c->blocked || c->closing || c->nreq >= PAUSE_PENDING ||
	    c->out.len - c->out_off >= PAUSE_OUT;
}

/*
 * Re-arm the connection's epoll interest.  Once the peer has hung up and
 * nothing is left to write, the descriptor leaves the epoll set: epoll
 * reports EPOLLHUP whatever the interest, and the connection may still
 * wait for a backend answer (a commit is applied even if nobody reads the
 * reply).
 */
static void
conn_events(struct conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (!c->eof && !paused(c))
		ev |= EPOLLIN;
	if (c->out.len > c->out_off)
		ev |= EPOLLOUT;
	if (ev == 0 && c->eof) {
		if (c->registered &&
		    epoll_ctl(c->loop->epfd, EPOLL_CTL_DEL, c->fd, NULL) == -1)
			log_warn("epoll_ctl del");
		c->registered = false;
		return;
	}
	if (c->registered && ev == c->events)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = c->fd;
	if (epoll_ctl(c->loop->epfd,
		c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == -1)
		log_warn("epoll_ctl");
	c->events = ev;
	c->registered = true;
}

static void
conn_new(struct loop *l, int fd)
{
	struct server *srv = l->srv;
	struct epoll_event e;
	struct conn *c;

	if ((size_t)fd >= l->cap) {
		size_t ncap = l->cap ? l->cap : 64;

		while (ncap <= (size_t)fd)
			ncap *= 2;
		l->conns = xreallocarray(l->conns, ncap, sizeof(*l->conns));
		memset(
		    l->conns + l->cap, 0, (ncap - l->cap) * sizeof(*l->conns));
		l->cap = ncap;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->id = atomic_fetch_add(&srv->conn_ids, 1) + 1;
	c->loop = l;
	c->imax = srv->conf.mode == MODE_POSTFIX ? SM_IN_MAX : DICT_IN_MAX;
	c->icap = IN_START;
	c->ibuf = xmalloc(c->icap);
	buf_init(&c->out, OUT_MAX);
	dict_session_init(&c->dict);
	c->events = EPOLLIN;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
		log_warn("epoll_ctl add");
		close(fd);
		buf_release(&c->out);
		free(c->ibuf);
		free(c);
		return;
	}
	c->registered = true;
	l->conns[fd] = c;
	l->nconns++;
	metrics_shard_add(l->ms, STATS_GLOBAL(GS_CONNS), 1);
	log_trace("connection %llu: accepted", (unsigned long long)c->id);
}

static void
conn_close(struct conn *c)
{
	struct loop *l = c->loop;
	struct req *r, *next;

	log_trace("connection %llu: closed", (unsigned long long)c->id);
	if (c->registered)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	l->conns[c->fd] = NULL;
	l->nconns--;
	for (r = c->head; r != NULL; r = next) {
		next = r->next;
		req_free(r);
	}
	dict_session_release(&c->dict);
	tableset_unref(c->dts);
	free(c->ibuf);
	free(c->out.data); /* replies are not secret: no wipe */
	c->out.data = NULL;
	free(c);
}

static void
conn_read(struct conn *c)
{
	ssize_t n;

	if (c->ilen == c->icap) {
		if (c->icap >= c->imax)
			return; /* the parser will complain */
		c->icap = c->icap * 2 > c->imax ? c->imax : c->icap * 2;
		c->ibuf = xrealloc(c->ibuf, c->icap);
	}
	n = read(c->fd, c->ibuf + c->ilen, c->icap - c->ilen);
	if (n > 0)
		c->ilen += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		c->eof = true;
		c->closing = true;
	}
}

static void
conn_process(struct conn *c)
{
	size_t off = 0;

	while (!paused(c) && off < c->ilen) {
		if (c->loop->srv->conf.mode == MODE_POSTFIX
			? !sm_input(c, &off)
			: !dict_input(c, &off))
			break;
	}
	if (off > 0) {
		memmove(c->ibuf, c->ibuf + off, c->ilen - off);
		c->ilen -= off;
	}
	/* A full buffer that still holds no complete request. */
	if (c->ilen == c->imax && !paused(c)) {
		log_warnx("connection %llu: request too long, closing",
		    (unsigned long long)c->id);
		c->closing = true;
	}
}

static void
conn_flush(struct conn *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1 && errno == EINTR)
			continue;
		/* The peer is gone: nothing more to say to it. */
		c->out_off = c->out.len;
		c->eof = true;
		c->closing = true;
		break;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off > 64 * 1024) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
}

/*
 * After any activity: write, then close or re-arm.  Returns false if the
 * connection is gone.
 */
static bool
conn_settle(struct conn *c)
{
	conn_flush(c);
	if ((c->eof || c->closing || c->loop->draining) && c->head == NULL &&
	    c->out.len == c->out_off) {
		conn_close(c);
		return false;
	}
	conn_events(c);
	return true;
}

/*
 * The loop.
 */

static void
loop_refresh_ts(struct loop *l)
{
	struct server *srv = l->srv;

	if (atomic_load(&srv->ts_gen) == l->ts_gen)
		return;
	pthread_mutex_lock(&srv->ts_lock);
	tableset_unref(l->ts);
	l->ts = srv->ts;
	tableset_ref(l->ts);
	l->ts_gen = atomic_load(&srv->ts_gen);
	pthread_mutex_unlock(&srv->ts_lock);
}

static void
loop_listen(struct loop *l, bool on)
{
	struct epoll_event e;

	if (on == l->listening)
		return;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	e.data.fd = l->srv->lfd;
	if (on && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->srv->lfd, &e) == -1) {
		log_warn("epoll_ctl listen");
		return;
	}
	if (!on)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->srv->lfd, NULL);
	l->listening = on;
}

static void
loop_accept(struct loop *l)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(
			l->srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC),
		    one = 1;

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept");
				loop_listen(l, false);
				l->relisten_at = l->now + 100;
			}
			return;
		}
		if (l->srv->sockpath == NULL)
			setsockopt(
			    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn_new(l, fd);
	}
}

static struct req *
find_req(struct conn *c, uint64_t seq)
{
	for (struct req *r = c->head; r != NULL; r = r->next)
		if (r->seq == seq)
			return r;
	return NULL;
}

static void
loop_completions(struct loop *l)
{
	struct done *d, *next;
	eventfd_t v;

	(void)!eventfd_read(l->evfd, &v);
	pthread_mutex_lock(&l->qlock);
	d = l->qhead;
	l->qhead = l->qtail = NULL;
	pthread_mutex_unlock(&l->qlock);
	for (; d != NULL; d = next) {
		struct conn *c =
		    (size_t)d->fd < l->cap ? l->conns[d->fd] : NULL;
		struct req *r;

		next = d->next;
		if (c == NULL || c->id != d->conn_id ||
		    (r = find_req(c, d->seq)) == NULL || r->done) {
			done_free(d); /* answered already (timeout) */
			continue;
		}
		if (d->raw != NULL)
			conn_answer(c, r, d->raw, d->rawlen);
		else {
			struct err e = ERR_INIT;

			if (d->rc == -1)
				err_set(&e, d->ekind, "%s", d->emsg);
			lookup_counted(
			    l, r->midx, r->t0_ns, d->rc, &e, d->stale);
			answer_lookup(c, r, d->kind, d->rc, d->value, &e);
		}
		done_free(d);
		/* Input held back while this was pending may go on now. */
		conn_process(c);
		conn_settle(c);
	}
}

static void
loop_timeouts(struct loop *l)
{
	struct server *srv = l->srv;

	while (l->pend.tnext != &l->pend && l->pend.tnext->deadline <= l->now) {
		struct req *r = l->pend.tnext;
		struct conn *c = r->conn;
		struct err e = ERR_INIT;
		bool found;

		pend_unlink(r);
		err_set(&e, ERR_TEMP, "backend timed out after %lld ms",
		    (long long)(l->now - r->started));
		if (err_log_ok(srv))
			log_warnx("connection %llu: request %llu: %s",
			    (unsigned long long)c->id,
			    (unsigned long long)r->seq, e.msg);
		if (r->kind == RK_SM || r->kind == RK_LOOKUP) {
			metrics_shard_add(
			    l->ms, STATS_MAP(r->midx, MS_TIMEOUT), 1);
			if (r->ckey != NULL &&
			    cache_stale(srv->cache, r->ckey, r->cklen, l->now,
				&found, &l->scratch)) {
				lookup_counted(l, r->midx, r->t0_ns,
				    found ? 1 : 0, NULL, true);
				answer_lookup(c, r, r->kind, found ? 1 : 0,
				    buf_cstr(&l->scratch), NULL);
			} else {
				lookup_counted(
				    l, r->midx, r->t0_ns, -1, &e, false);
				answer_lookup(c, r, r->kind, -1, NULL, &e);
			}
		} else {
			buf_reset(&l->reply);
			if (r->kind == RK_ITER)
				dictproto_reply_iter_end(&l->reply, -1, &e);
			else
				dictproto_reply_commit(
				    &l->reply, r->txid, r->async, -1, &e);
			conn_answer(c, r, l->reply.data, l->reply.len);
		}
		conn_process(c);
		conn_settle(c);
	}
}

static void
loop_drain(struct loop *l)
{
	l->draining = true;
	loop_listen(l, false);
	for (size_t fd = 0; fd < l->cap; fd++) {
		struct conn *c = l->conns[fd];

		if (c != NULL) {
			c->closing = true;
			conn_settle(c);
		}
	}
}

void *
loop_main(void *arg)
{
	struct loop *l = arg;
	struct server *srv = l->srv;
	struct epoll_event ev[MAX_EVENTS];

	l->ms = metrics_shard(stats_m);
	l->now_ns = metrics_now_ns();
	l->now = (int64_t)(l->now_ns / 1000000);
	loop_listen(l, true);
	for (;;) {
		int n, tmo = 1000;

		if (atomic_load(&srv->draining)) {
			if (!l->draining)
				loop_drain(l);
			if (l->nconns == 0 ||
			    l->now >= atomic_load(&srv->drain_until))
				break;
		}
		if (l->pend.tnext != &l->pend) {
			int64_t d = l->pend.tnext->deadline - l->now;

			tmo = d < 0 ? 0 : d < tmo ? (int)d : tmo;
		}
		n = epoll_wait(l->epfd, ev, MAX_EVENTS, tmo);
		/* One clock read a round, for the cache and the durations. */
		l->now_ns = metrics_now_ns();
		l->now = (int64_t)(l->now_ns / 1000000);
		loop_refresh_ts(l);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			struct conn *c;

			if (fd == l->evfd) {
				loop_completions(l);
				continue;
			}
			if (fd == srv->lfd) {
				if (!l->draining)
					loop_accept(l);
				continue;
			}
			if ((size_t)fd >= l->cap || (c = l->conns[fd]) == NULL)
				continue;
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(c);
			if (ev[i].events & (EPOLLHUP | EPOLLERR) &&
			    !(ev[i].events & EPOLLIN))
				c->eof = true;
			conn_process(c);
			conn_settle(c);
		}
		loop_timeouts(l);
		loop_flush_jobs(l);
		if (!l->listening && !l->draining && l->now >= l->relisten_at)
			loop_listen(l, true);
	}
	/* Whatever is left when the drain time is up is cut off. */
	for (size_t fd = 0; fd < l->cap; fd++)
		if (l->conns[fd] != NULL)
			conn_close(l->conns[fd]);
	loop_completions(l);
	return NULL;
}