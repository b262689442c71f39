/*
 * server: listener, epoll loops, socketmap and dict request handling,
 * backend jobs, ordering, timeouts and drain.
 */
#define _GNU_SOURCE /* accept4(2), EPOLLEXCLUSIVE */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "dbpool.h"
#include "err.h"
#include "log.h"
#include "netstring.h"
#include "pool.h"
#include "proto_dict.h"
#include "proto_socketmap.h"
#include "metrics.h"
#include "server.h"
#include "stats.h"
#include "strutil.h"
#include "table.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

#define SM_IN_MAX (SOCKETMAP_REQUEST_MAX + NETSTRING_MAX_DIGITS + 2)
#define DICT_IN_MAX (DICT_LINE_MAX + 1)
#define IN_START 4096
#define OUT_MAX (64u * 1024u * 1024u)
#define VALUE_MAX (16u * 1024u * 1024u)
#define ITER_MAX (16u * 1024u * 1024u)
#define PAUSE_PENDING 256
#define PAUSE_OUT (1024u * 1024u)
#define TIMEOUT_MARGIN 250 /* ms beyond the backend timeout */
#define PER_TABLE_MAX 8	   /* backend calls in progress per table */
#define ERR_LOG_PER_SEC 20
#define MAX_EVENTS 128

enum rkind {
	RK_SM,	   /* socketmap lookup */
	RK_LOOKUP, /* dict lookup */
	RK_ITER,   /* dict iteration */
	RK_COMMIT, /* dict commit */
};

struct loop;
struct conn;

/* One request waiting for its answer, in its connection's FIFO. */
struct req {
	struct req *next;  /* connection FIFO */
	struct req *tprev; /* loop's pending list, by deadline */
	struct req *tnext;
	struct conn *conn;
	uint64_t seq;
	int64_t deadline;
	int64_t started;
	uint64_t t0_ns; /* lookups: when read, for the duration */
	uint16_t midx;	/* lookups: the table's stats index */
	enum rkind kind;
	bool done;
	bool blocking; /* the connection waits for it */
	bool async;    /* commit from 'D' */
	unsigned long txid;
	char *reply; /* when done */
	size_t rlen;
	char *ckey; /* for a stale answer on timeout */
	size_t cklen;
	char *what; /* "map=x key=y", for the log */
};

struct conn {
	int fd;
	uint64_t id;
	struct loop *loop;
	char *ibuf;
	size_t ilen;
	size_t icap;
	size_t imax;
	struct buf out;
	size_t out_off;
	struct req *head;
	struct req *tail;
	size_t nreq;
	uint64_t seq;
	uint32_t events;
	bool registered; /* in the loop's epoll set */
	bool eof;
	bool closing;
	bool blocked;
	/* dict */
	struct dict_session dict;
	struct tableset *dts; /* set the hello's dict is in */
	size_t dtidx;
	bool dict_bound;
};

/* An answer travelling from a backend thread to a loop. */
struct done {
	struct cache_waiter cw; /* first: waiters are dones */
	struct done *next;
	struct loop *loop;
	int fd;
	uint64_t conn_id;
	uint64_t seq;
	enum rkind kind;
	int rc;
	bool stale;
	char *value;
	enum err_kind ekind;
	char *emsg;
	char *raw; /* preformatted (iterate, commit) */
	size_t rawlen;
};

struct job {
	struct pool_job pj;
	enum rkind kind;
	struct server *srv;
	struct tableset *ts;
	size_t tidx;
	char *key;
	char *user;
	char *ckey;
	size_t cklen;
	bool cached;		/* leads a cache flight */
	struct table_cache pol; /* how long its answer may be kept */
	struct done *leader;
	unsigned int flags; /* iterate */
	uint64_t max_rows;
	char *paths[DICT_MAX_PATHS];
	size_t npaths;
	struct dict_tx *tx; /* commit */
	bool async;
};

struct loop {
	struct server *srv;
	int idx;
	pthread_t thr;
	int epfd;
	int evfd;
	pthread_mutex_t qlock;
	struct done *qhead;
	struct done *qtail;
	struct conn **conns; /* by fd */
	size_t cap;
	_Atomic size_t nconns; /* read by server_log_stats() */
	struct req pend;       /* sentinel of the pending list */
	struct tableset *ts;
	uint64_t ts_gen;
	int64_t now;
	struct buf scratch;
	struct buf reply;
	struct buf ckey;
	struct pool_job *submit; /* jobs to hand over this round */
	struct pool_job **submit_tail;
	bool listening;
	int64_t relisten_at;
	bool draining;
	struct metrics_shard *ms; /* this loop's counters (stats.h) */
	uint64_t now_ns;	  /* now, in ns: when epoll_wait returned */
};

struct server {
	struct server_conf conf;
	int lfd;
	char *sockpath;
	struct loop *loops;
	int nloops;
	struct pool *pool;
	struct cache *cache;
	pthread_mutex_t ts_lock;
	struct tableset *ts;
	_Atomic uint64_t ts_gen;
	_Atomic bool draining;
	_Atomic int64_t drain_until;
	_Atomic uint64_t conn_ids;
	_Atomic int64_t err_second;
	_Atomic int err_count;
};

static void conn_close(struct conn *);
static void conn_process(struct conn *);
static void conn_flush(struct conn *);
static void conn_events(struct conn *);

/*
 * Logging of backend failures, at most ERR_LOG_PER_SEC lines a second so a
 * database outage cannot flood the log.
 */
static bool
err_log_ok(struct server *srv)
{
	int64_t sec = cache_now_ms() / 1000;

	if (atomic_load(&srv->err_second) != sec) {
		atomic_store(&srv->err_second, sec);
		atomic_store(&srv->err_count, 0);
	}
	return atomic_fetch_add(&srv->err_count, 1) < ERR_LOG_PER_SEC;
}

/*
 * Listening.
 */

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
owner_ids(const char *spec, uid_t *uid_r, gid_t *gid_r, struct err *err)
{
	char *copy = xstrdup(spec), *colon = strchr(copy, ':');
	struct passwd *pw = NULL;
	struct group *gr;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (colon != NULL)
		*colon++ = '\0';
	if (*copy != '\0') {
		if ((pw = getpwnam(copy)) == NULL) {
			err_set(err, ERR_CONFIG, "unknown user '%s'", copy);
			free(copy);
			return -1;
		}
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			err_set(err, ERR_CONFIG, "unknown group '%s'", colon);
			free(copy);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	free(copy);
	return 0;
}

static int
listen_unix(struct server *srv, const char *path, struct err *err)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return err_set(
		    err, ERR_CONFIG, "socket path '%s' is too long", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(
		    err, ERR_FILESYSTEM, "socket: %s", strerror(errno));
	/* A socket left by a dead podop goes; a live one is an error. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return err_set(err, ERR_CONFIG,
		    "'%s' is in use by another "
		    "server",
		    path);
	}
	if (errno == ECONNREFUSED) {
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	}
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(
		    err, ERR_FILESYSTEM, "socket: %s", strerror(errno));
	/* No window in which the socket has looser permissions. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		err_set(err, ERR_FILESYSTEM, "cannot bind '%s': %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (srv->conf.socket_owner != NULL && *srv->conf.socket_owner) {
		uid_t uid;
		gid_t gid;

		int bad = owner_ids(srv->conf.socket_owner, &uid, &gid, err);

		if (bad == 0 && chown(sun.sun_path, uid, gid) == -1)
			bad = err_set(err, ERR_FILESYSTEM,
			    "cannot chown "
			    "'%s': %s",
			    sun.sun_path, strerror(errno));
		if (bad == -1) {
			close(fd);
			unlink(sun.sun_path);
			return -1;
		}
	}
	if (chmod(sun.sun_path, srv->conf.socket_mode) == -1) {
		err_set(err, ERR_FILESYSTEM, "cannot chmod '%s': %s",
		    sun.sun_path, strerror(errno));
		close(fd);
		unlink(sun.sun_path);
		return -1;
	}
	srv->sockpath = xstrdup(path);
	srv->lfd = fd;
	return 0;
}

static int
listen_inet(struct server *srv, const char *hostport, struct err *err)
{
	char *copy = xstrdup(hostport), *host = copy, *port;
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, one = 1;

	if (*host == '[') {
		char *end = strchr(host, ']');

		if (end == NULL || end[1] != ':') {
			free(copy);
			return err_set(
			    err, ERR_CONFIG, "bad address '%s'", hostport);
		}
		*end = '\0';
		host++;
		port = end + 2;
	} else if ((port = strrchr(host, ':')) != NULL)
		*port++ = '\0';
	if (port == NULL || *port == '\0') {
		free(copy);
		return err_set(err, ERR_CONFIG, "'%s' has no port", hostport);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(*host != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		err_set(err, ERR_CONFIG, "cannot resolve '%s': %s", hostport,
		    gai_strerror(rc));
		free(copy);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		err_set(err, ERR_FILESYSTEM, "cannot bind %s: %s", hostport,
		    strerror(errno));
	freeaddrinfo(res);
	free(copy);
	if (fd == -1)
		return -1;
	srv->lfd = fd;
	return 0;
}

int
server_listen(
    struct server **srv_r, const struct server_conf *conf, struct err *err)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	const char *l = conf->listen;
	int r;

	*srv_r = NULL;
	srv->conf = *conf;
	srv->conf.listen = xstrdup(conf->listen);
	srv->conf.socket_owner =
	    xstrdup(conf->socket_owner != NULL ? conf->socket_owner : "");
	srv->lfd = -1;
	stats_init();
	if (str_prefix(l, "unix:"))
		r = listen_unix(srv, l + 5, err);
	else if (l[0] == '/' || strchr(l, ':') == NULL)
		r = listen_unix(srv, l, err); /* Podop's --socket PATH */
	else
		r = listen_inet(srv, str_prefix(l, "inet:") ? l + 5 : l, err);
	if (r == 0 &&
	    (listen(srv->lfd, 1024) == -1 || set_nonblock(srv->lfd) == -1)) {
		err_set(err, ERR_FILESYSTEM, "cannot listen on %s: %s", l,
		    strerror(errno));
		close(srv->lfd);
		r = -1;
	}
	if (r == -1) {
		free(srv->conf.listen);
		free(srv->conf.socket_owner);
		free(srv->sockpath);
		free(srv);
		return -1;
	}
	pthread_mutex_init(&srv->ts_lock, NULL);
	*srv_r = srv;
	return 0;
}

const char *
server_socket_path(const struct server *srv)
{
	return srv->sockpath;
}

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

static struct req *
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
			log_warnx("connection %llu: output over %u bytes, "
				  "closing",
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
static void
conn_answer(struct conn *c, struct req *r, const char *bytes, size_t n)
{
	if (r == NULL && c->head == NULL) {
		if (buf_append(&c->out, bytes, n) == -1) {
			log_warnx("connection %llu: output over %u bytes, "
				  "closing",
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
static void
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

static void
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
					log_warnx("lookup map=%s key=%s: "
						  "serving a stale answer",
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
		    "iteration larger than %u "
		    "bytes",
		    ITER_MAX);
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

static struct job *
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
static void
loop_submit(struct loop *l, struct pool_job *j)
{
	j->next = NULL;
	*l->submit_tail = j;
	l->submit_tail = &j->next;
}

static void
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
static void
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

static void
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
				log_trace("lookup map=%s key=%s result=%s "
					  "cache=hit",
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

/*
 * Socketmap.
 */

static void
sm_frame(struct conn *c, char *payload, size_t len)
{
	struct loop *l = c->loop;
	struct err e = ERR_INIT;
	char *name, *key;
	size_t tidx;

	if (socketmap_request_split(payload, len, &name, &key, &e) == -1) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx("connection %llu: malformed socketmap request: %s",
		    (unsigned long long)c->id, e.msg);
		answer_lookup(c, NULL, RK_SM, -1, NULL, &e);
		return;
	}
	if (tableset_find(l->ts, name, &tidx) == NULL) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		if (err_log_ok(l->srv))
			log_warnx(
			    "lookup map=%s key=%s: unknown map", name, key);
		err_set(&e, ERR_CONFIG, "unknown map '%s'", name);
		answer_lookup(c, NULL, RK_SM, -1, NULL, &e);
		return;
	}
	start_lookup(c, RK_SM, l->ts, tidx, key, NULL);
}

/*
 * Dict.
 */

static void
dict_fail(struct conn *c, enum dict_act_kind kind, const struct err *e)
{
	struct buf *b = &c->loop->reply;

	buf_reset(b);
	if (kind == DICT_ACT_ITERATE)
		dictproto_reply_iter_end(b, -1, e);
	else
		dictproto_reply_lookup(b, -1, NULL, e);
	conn_answer(c, NULL, b->data, b->len);
}

static bool
dict_table(struct conn *c, struct err *e)
{
	if (c->dict_bound)
		return true;
	err_set(e, ERR_CONFIG, "unknown dict '%s'",
	    c->dict.name != NULL ? c->dict.name : "");
	return false;
}

static void
dict_line(struct conn *c, char *line, size_t len)
{
	struct loop *l = c->loop;
	struct err e = ERR_INIT;
	struct dict_act act;
	const char *rest, *user;
	struct req *r;
	struct job *j;

	buf_reset(&l->reply);
	if (dict_session_feed(&c->dict, line, len, &act, &l->reply, &e) == -1) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx("connection %llu: dict protocol error, closing: %s",
		    (unsigned long long)c->id, e.msg);
		c->closing = true;
		return;
	}
	switch (act.kind) {
	case DICT_ACT_NONE:
		return;
	case DICT_ACT_REPLY:
		conn_answer(c, NULL, l->reply.data, l->reply.len);
		return;
	case DICT_ACT_HELLO:
		if (tableset_find(l->ts, c->dict.name, &c->dtidx) != NULL) {
			c->dts = l->ts;
			tableset_ref(c->dts);
			c->dict_bound = true;
		} else if (err_log_ok(l->srv))
			log_warnx("connection %llu: unknown dict '%s'",
			    (unsigned long long)c->id, c->dict.name);
		log_trace("connection %llu: hello %d.%d dict=%s",
		    (unsigned long long)c->id, c->dict.major, c->dict.minor,
		    c->dict.name);
		return;
	case DICT_ACT_LOOKUP:
		if (!dict_table(c, &e) ||
		    dictproto_key_split(act.key, act.user, &rest, &user, &e) ==
			-1) {
			dict_fail(c, act.kind, &e);
			return;
		}
		start_lookup(c, RK_LOOKUP, c->dts, c->dtidx, rest, user);
		return;
	case DICT_ACT_ITERATE:
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_REQUESTS), 1);
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_ITERATE), 1);
		if (!dict_table(c, &e)) {
			dict_fail(c, act.kind, &e);
			return;
		}
		if (!table_can_iterate(c->dts->t[c->dtidx])) {
			err_set(&e, ERR_UNSUPPORTED,
			    "dict '%s' cannot be "
			    "iterated",
			    c->dict.name);
			dict_fail(c, act.kind, &e);
			return;
		}
		r = req_new(c, RK_ITER);
		r->blocking = true;
		c->blocked = true;
		j = job_new(c, r, RK_ITER, c->dts, c->dtidx);
		j->flags = act.flags;
		j->max_rows = act.max_rows;
		j->user = act.user != NULL ? xstrdup(act.user) : NULL;
		for (size_t i = 0; i < act.npaths; i++)
			j->paths[j->npaths++] = xstrdup(act.paths[i]);
		loop_submit(l, &j->pj);
		return;
	case DICT_ACT_COMMIT:
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_REQUESTS), 1);
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_COMMIT), 1);
		if (!dict_table(c, &e) ||
		    !table_can_commit(c->dts->t[c->dtidx])) {
			if (c->dict_bound)
				err_set(&e, ERR_UNSUPPORTED,
				    "dict '%s' is "
				    "read-only",
				    c->dict.name);
			buf_reset(&l->reply);
			dictproto_reply_commit(
			    &l->reply, act.tx->id, act.async, -1, &e);
			dict_tx_free(act.tx);
			conn_answer(c, NULL, l->reply.data, l->reply.len);
			return;
		}
		r = req_new(c, RK_COMMIT);
		r->blocking = true;
		r->async = act.async;
		r->txid = act.tx->id;
		c->blocked = true;
		j = job_new(c, r, RK_COMMIT, c->dts, c->dtidx);
		j->tx = act.tx;
		j->async = act.async;
		loop_submit(l, &j->pj);
		return;
	}
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
		if (c->loop->srv->conf.mode == MODE_POSTFIX) {
			const char *p;
			size_t plen, flen;
			struct err e = ERR_INIT;
			enum netstring_status st;

			st = netstring_parse(c->ibuf + off, c->ilen - off,
			    SOCKETMAP_REQUEST_MAX, &p, &plen, &flen, &e);
			if (st == NETSTRING_MORE)
				break;
			if (st == NETSTRING_BAD) {
				metrics_shard_add(
				    c->loop->ms, STATS_GLOBAL(GS_BAD), 1);
				log_warnx("connection %llu: malformed "
					  "netstring, closing: %s",
				    (unsigned long long)c->id, e.msg);
				c->closing = true;
				off = c->ilen;
				break;
			}
			off += flen;
			sm_frame(c, (char *)(uintptr_t)p, plen);
		} else {
			size_t ll;
			int st =
			    dictproto_line(c->ibuf + off, c->ilen - off, &ll);

			if (st == 0)
				break;
			if (st == -1) {
				metrics_shard_add(
				    c->loop->ms, STATS_GLOBAL(GS_BAD), 1);
				log_warnx("connection %llu: dict line longer "
					  "than %d bytes, closing",
				    (unsigned long long)c->id, DICT_LINE_MAX);
				c->closing = true;
				off = c->ilen;
				break;
			}
			dict_line(c, c->ibuf + off, ll);
			off += ll + 1;
		}
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

static void *
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

static void
worker_init(void)
{
	dbpool_batch_enable(true);
}

void
server_start(struct server *srv, struct tableset *ts)
{
	int threads = srv->conf.threads > 0 ? srv->conf.threads : 64;

	srv->ts = ts;
	atomic_store(&srv->ts_gen, 1);
	if (srv->conf.cache_on)
		srv->cache = cache_new(&srv->conf.cache);
	srv->pool = pool_new(threads < 4 ? threads : 4, threads, PER_TABLE_MAX,
	    worker_init, dbpool_batch_flush);
	srv->nloops = srv->conf.loops > 0 ? srv->conf.loops : 1;
	srv->loops = xcalloc((size_t)srv->nloops, sizeof(*srv->loops));
	for (int i = 0; i < srv->nloops; i++) {
		struct loop *l = &srv->loops[i];
		struct epoll_event e;

		l->srv = srv;
		l->idx = i;
		if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			fatal("cannot create an event loop");
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.fd = l->evfd;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &e) == -1)
			fatal("epoll_ctl");
		pthread_mutex_init(&l->qlock, NULL);
		l->pend.tnext = l->pend.tprev = &l->pend;
		l->submit_tail = &l->submit;
		buf_init(&l->scratch, VALUE_MAX);
		buf_init(&l->reply, VALUE_MAX + 64);
		buf_init(&l->ckey, TABLE_KEY_MAX * 3);
		l->ts = ts;
		tableset_ref(ts);
		l->ts_gen = 1;
		if (pthread_create(&l->thr, NULL, loop_main, l) != 0)
			fatal("cannot start an event loop");
	}
}

void
server_reload(struct server *srv, struct tableset *ts)
{
	struct tableset *old;

	pthread_mutex_lock(&srv->ts_lock);
	old = srv->ts;
	srv->ts = ts;
	atomic_fetch_add(&srv->ts_gen, 1);
	pthread_mutex_unlock(&srv->ts_lock);
	if (srv->cache != NULL)
		cache_clear(srv->cache);
	tableset_unref(old);
	/* Wake the loops so they pick the new set up now. */
	for (int i = 0; i < srv->nloops; i++)
		(void)!eventfd_write(srv->loops[i].evfd, 1);
}

void
server_drain(struct server *srv, int64_t max_ms)
{
	atomic_store(&srv->drain_until, cache_now_ms() + max_ms);
	atomic_store(&srv->draining, true);
	for (int i = 0; i < srv->nloops; i++)
		(void)!eventfd_write(srv->loops[i].evfd, 1);
}

bool
server_finish(struct server **srvp)
{
	struct server *srv = *srvp;
	bool pool_gone;

	*srvp = NULL;
	for (int i = 0; i < srv->nloops; i++)
		pthread_join(srv->loops[i].thr, NULL);
	close(srv->lfd);
	if (srv->sockpath != NULL)
		unlink(srv->sockpath);
	pool_gone = pool_stop(srv->pool, 2000);
	if (!pool_gone) {
		/* A backend call is stuck; its thread still uses the rest. */
		log_warnx("backend calls still running at exit");
		return false;
	}
	for (int i = 0; i < srv->nloops; i++) {
		struct loop *l = &srv->loops[i];
		struct done *d, *next;

		for (d = l->qhead; d != NULL; d = next) {
			next = d->next;
			done_free(d);
		}
		close(l->epfd);
		close(l->evfd);
		free(l->conns);
		buf_release(&l->scratch);
		buf_release(&l->reply);
		buf_release(&l->ckey);
		tableset_unref(l->ts);
		pthread_mutex_destroy(&l->qlock);
	}
	free(srv->loops);
	tableset_unref(srv->ts);
	cache_free(&srv->cache);
	pthread_mutex_destroy(&srv->ts_lock);
	free(srv->conf.listen);
	free(srv->conf.socket_owner);
	free(srv->sockpath);
	free(srv);
	return true;
}

void
server_log_stats(struct server *srv)
{
	struct cache_stats cs;
	int threads = 0, busy = 0, queued = 0;
	size_t conns = 0, nmaps;
	uint64_t *v = xcalloc(STATS_NSLOTS, sizeof(*v));
	uint64_t hits = 0, backend = 0, stale = 0, tmo = 0, errs = 0;
	uint64_t res[SR_N] = { 0 };

	memset(&cs, 0, sizeof(cs));
	if (srv->cache != NULL)
		cache_get_stats(srv->cache, &cs);
	pool_counts(srv->pool, &threads, &busy, &queued);
	for (int i = 0; i < srv->nloops; i++)
		conns += atomic_load_explicit(
		    &srv->loops[i].nconns, memory_order_relaxed);
	/* The same sums the metrics listener shows. */
	stats_sum(v, &nmaps);
	for (size_t m = 0; m < nmaps; m++) {
		hits += v[STATS_MAP(m, MS_CACHE_HIT)];
		backend += v[STATS_MAP(m, MS_BACKEND)];
		stale += v[STATS_MAP(m, MS_STALE)];
		tmo += v[STATS_MAP(m, MS_TIMEOUT)];
		errs += v[STATS_MAP(m, MS_BACKEND_ERR)];
		for (int r = 0; r < SR_N; r++)
			res[r] += v[STATS_MAP(m, MS_RESULT + r)];
	}
	log_info("stats requests=%llu cache_hits=%llu backend_calls=%llu "
		 "stale=%llu timeouts=%llu errors=%llu bad_requests=%llu "
		 "connections=%llu open=%zu cache_entries=%llu evicted=%llu "
		 "threads=%d busy=%d queued=%d ok=%llu notfound=%llu "
		 "temp=%llu perm=%llu",
	    (unsigned long long)v[STATS_GLOBAL(GS_REQUESTS)],
	    (unsigned long long)hits, (unsigned long long)backend,
	    (unsigned long long)stale, (unsigned long long)tmo,
	    (unsigned long long)errs,
	    (unsigned long long)v[STATS_GLOBAL(GS_BAD)],
	    (unsigned long long)v[STATS_GLOBAL(GS_CONNS)], conns,
	    (unsigned long long)cs.entries, (unsigned long long)cs.evicted,
	    threads, busy, queued, (unsigned long long)res[SR_OK],
	    (unsigned long long)res[SR_NOTFOUND],
	    (unsigned long long)res[SR_TEMP], (unsigned long long)res[SR_PERM]);
	free(v);
}

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
	metrics_write_family(b, name, METRICS_GAUGE, help);
	metrics_write_double(b, name, NULL, 0, v);
}

/* The databases of sql and postfixadmin tables (dbpool.h). */
static void
metrics_databases(struct buf *b)
{
	struct dbpool_stat *v;
	size_t n = dbpool_stats(&v);
	int64_t now = cache_now_ms();
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "podop_database_connections_total",
		    "Database connections opened by the sql and postfixadmin "
		    "tables.",
		    offsetof(struct dbpool_stat, connects) },
		{ "podop_database_connect_errors_total",
		    "Database connections that could not be opened.",
		    offsetof(struct dbpool_stat, connect_errors) },
		{ "podop_database_reconnects_total",
		    "Queries that failed on a pooled connection and were run "
		    "again on a new one.",
		    offsetof(struct dbpool_stat, reconnects) },
	};

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		metrics_write_family(
		    b, counters[c].name, METRICS_COUNTER, counters[c].help);
		for (size_t i = 0; i < n; i++) {
			struct metrics_label l[] = { { "database",
			    v[i].where } };
			uint64_t x;

			memcpy(&x, (const char *)&v[i] + counters[c].off,
			    sizeof(x));
			metrics_write_u64(b, counters[c].name, l, 1, x);
		}
	}
	metrics_write_family(b, "podop_change_tracked", METRICS_GAUGE,
	    "1 when the database has postino's change serial, so cached "
	    "answers are forgotten when it moves.");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		metrics_write_u64(
		    b, "podop_change_tracked", l, 1, v[i].tracked ? 1 : 0);
	}
	metrics_write_family(b, "podop_change_serial", METRICS_GAUGE,
	    "The change serial last read from the database "
	    "(postino_change.serial).");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		if (v[i].serial >= 0)
			metrics_write_double(b, "podop_change_serial", l, 1,
			    (double)v[i].serial);
	}
	metrics_write_family(b, "podop_change_poll_age_seconds", METRICS_GAUGE,
	    "Seconds since the change serial was last read from the "
	    "database.");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		if (v[i].last_poll_ms >= 0)
			metrics_write_double(b, "podop_change_poll_age_seconds",
			    l, 1, (double)(now - v[i].last_poll_ms) / 1000.0);
	}
	free(v);
}

void
server_metrics(void *arg, struct buf *b)
{
	struct server *srv = arg;
	struct cache_stats cs;
	int threads = 0, busy = 0, queued = 0;
	size_t conns = 0, nmaps;
	uint64_t *v = xcalloc(STATS_NSLOTS, sizeof(*v));
	struct metrics_label ver[] = { { "version", POSTINO_VERSION } };

	memset(&cs, 0, sizeof(cs));
	if (srv->cache != NULL)
		cache_get_stats(srv->cache, &cs);
	pool_counts(srv->pool, &threads, &busy, &queued);
	for (int i = 0; i < srv->nloops; i++)
		conns += atomic_load_explicit(
		    &srv->loops[i].nconns, memory_order_relaxed);
	stats_sum(v, &nmaps);
	metrics_write_family(b, "podop_build_info", METRICS_GAUGE,
	    "Always 1; the version podop was built from.");
	metrics_write_u64(b, "podop_build_info", ver, 1, 1);
	stats_write(
	    b, v, nmaps, srv->conf.mode == MODE_POSTFIX ? "socketmap" : "dict");
	free(v);
	metrics_write_family(b, "podop_cache_evictions_total", METRICS_COUNTER,
	    "Cached answers dropped to keep the cache within its size.");
	metrics_write_u64(
	    b, "podop_cache_evictions_total", NULL, 0, cs.evicted);
	gauge(b, "podop_cache_entries", "Answers in the cache now.",
	    (double)cs.entries);
	gauge(b, "podop_cache_max_entries",
	    "Most answers the cache keeps (cache_size); 0 when it is off.",
	    srv->cache != NULL ? (double)srv->conf.cache.max_entries : 0);
	gauge(b, "podop_open_connections", "Client connections open now.",
	    (double)conns);
	gauge(b, "podop_backend_threads", "Threads started for backend calls.",
	    threads);
	gauge(b, "podop_backend_threads_busy", "Threads in a backend call now.",
	    busy);
	gauge(b, "podop_backend_queue_length",
	    "Backend calls waiting for a thread now.", queued);
	metrics_databases(b);
}
