/*
 * server_impl: what the files of podop's server share, and nothing else
 * includes.  server.c is the public face (server.h: listen, start,
 * reload, drain, finish, stats and metrics); loop.c the epoll loops,
 * connections and the per-connection order of answers; socketmap.c and
 * dict.c the two protocols' framing; workers.c the hand-off of lookups,
 * iterations and commits to the backend pool and their way back.
 */
#ifndef PODOP_SERVER_IMPL_H
#define PODOP_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cache.h"
#include "err.h"
#include "metrics.h"
#include "netstring.h"
#include "pool.h"
#include "proto_dict.h"
#include "proto_socketmap.h"
#include "server.h"
#include "table.h"
#include "tableset.h"

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

/* server.c */
/* False once ERR_LOG_PER_SEC backend failures were logged this second. */
bool err_log_ok(struct server *);

/* loop.c */
/* A new request at the tail of c's FIFO and the loop's pending list. */
struct req *req_new(struct conn *c, enum rkind kind);
/* Deliver reply bytes in order (r == NULL: answered on the spot). */
void conn_answer(struct conn *c, struct req *r, const char *bytes, size_t n);
/* Format a lookup answer for the connection's protocol and deliver it. */
void answer_lookup(struct conn *c, struct req *r, enum rkind kind, int rc,
    const char *value, const struct err *e);
/* The thread of one loop (arg: its struct loop). */
void *loop_main(void *arg);

/*
 * socketmap.c, dict.c: handle the request at *off of c's input and step
 * past it; false when it is not complete yet or c is to close.
 */
bool sm_input(struct conn *c, size_t *off);
bool dict_input(struct conn *c, size_t *off);

/* workers.c */
/* A lookup: answered inline, from the cache, or by a backend job. */
void start_lookup(struct conn *c, enum rkind kind, struct tableset *ts,
    size_t tidx, const char *key, const char *user);
/* A job for request r on table tidx of ts (kind picks what it runs). */
struct job *job_new(struct conn *c, struct req *r, enum rkind kind,
    struct tableset *ts, size_t tidx);
/* Queue j for the pool; loop_flush_jobs() hands the round's jobs over. */
void loop_submit(struct loop *l, struct pool_job *j);
void loop_flush_jobs(struct loop *l);
void done_free(struct done *d);
/* Count an answered lookup on l's shard. */
void lookup_counted(struct loop *l, uint16_t m, uint64_t t0, int rc,
    const struct err *e, bool stale);

#endif
