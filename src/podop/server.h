/*
 * server: podop's listener, event loops and request handling.
 *
 * One listening socket (UNIX or TCP), speaking either Postfix's socketmap
 * or Dovecot's dict protocol.  conf.loops threads each run an epoll loop
 * over their share of the connections; a request is parsed on its loop,
 * answered there at once when the cache (or an inline table) has the
 * answer, and otherwise handed to the backend pool (pool.h) as a job whose
 * answer comes back to the loop through a queue and an eventfd.  Replies go
 * out strictly in request order per connection, whatever order the
 * backends finish in.  A request the backend has not answered within
 * conf.timeout_ms (plus a small margin) is answered by the loop: a stale
 * cached answer if there is one, a temporary failure otherwise.
 *
 * Lifetimes: server_listen() binds (call it before dropping privileges)
 * and returns a server owned by the caller; server_start() starts the
 * threads with a first table set (the server takes that reference);
 * server_reload() swaps in a new set; server_drain() stops accepting,
 * answers what is pending and closes every connection, and
 * server_finish() waits for the loops, stops the pool and frees what can
 * be freed.
 */
#ifndef PODOP_SERVER_H
#define PODOP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "cache.h"
#include "err.h"
#include "tableset.h"

enum podop_mode {
	MODE_POSTFIX = 0, /* socketmap */
	MODE_DOVECOT,	  /* dict */
};

struct server_conf {
	char *listen; /* unix:/p, /p, inet:h:p, h:p */
	enum podop_mode mode;
	char *socket_owner; /* "user[:group]", "" = keep */
	mode_t socket_mode;
	int loops;	    /* event loop threads */
	int threads;	    /* backend threads, at most */
	int64_t timeout_ms; /* per backend call */
	bool cache_on;
	struct cache_params cache;
};

struct server;

/* Bind and listen; 0 or -1 with err (ERR_CONFIG, ERR_FILESYSTEM). */
int server_listen(
    struct server **srv_r, const struct server_conf *, struct err *);
/* Start loops, pool and cache with ts (its reference moves in). */
void server_start(struct server *, struct tableset *ts);
/* Serve ts from now on (its reference moves in); clears the cache. */
void server_reload(struct server *, struct tableset *ts);
/* Stop accepting; close connections once their answers are out. */
void server_drain(struct server *, int64_t max_ms);
/*
 * Wait for the loops to end, then release everything.  Returns false if a
 * backend call was still running after the grace time: the server is then
 * left alone and the caller must leave with _exit().
 */
bool server_finish(struct server **);
/* Log counters (SIGUSR1). */
void server_log_stats(struct server *);
/* The metrics in exposition text (metrics_http.h's render function). */
void server_metrics(void *srv, struct buf *);
/* The path of a UNIX listening socket, or NULL. */
const char *server_socket_path(const struct server *);

#endif
