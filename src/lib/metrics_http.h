/*
 * metrics_http: the optional listener that serves a daemon's metrics to
 * Prometheus (metrics_listen in postino.toml).
 *
 * A small libmicrohttpd daemon with one thread of its own, apart from
 * the daemon's real work: GET (or HEAD) /metrics is answered 200 with
 * what the render function writes (exposition text, metrics.h), any
 * other path 404, any other method on /metrics 405.  Request bodies are
 * not read.  metrics_http_bind() binds "host:port" or "[v6]:port" (call
 * it before dropping privileges); metrics_http_start() starts the thread
 * (render runs on it, concurrently with everything else, so it must only
 * read atomics or take the locks it needs); metrics_http_free() stops
 * and closes.  Built without libmicrohttpd, bind fails with ERR_CONFIG.
 *
 * Linked into podop and postinod only (not libpostino): the library has
 * no HTTP server.
 */
#ifndef POSTINO_METRICS_HTTP_H
#define POSTINO_METRICS_HTTP_H

#include "buf.h"
#include "err.h"

typedef void metrics_render_fn(void *arg, struct buf *out);

struct metrics_http;

/* what names the key in messages ("podop.metrics_listen"). */
struct metrics_http *metrics_http_bind(
    const char *listen, const char *what, struct err *);
int metrics_http_start(
    struct metrics_http *, metrics_render_fn *, void *arg, struct err *);
/* "127.0.0.1:9100": where it listens. */
const char *metrics_http_where(const struct metrics_http *);
void metrics_http_free(struct metrics_http **);

#endif
