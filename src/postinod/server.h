/*
 * server: the HTTP server under postinod, libmicrohttpd with a thread pool.
 *
 * http_server_new() binds the listening socket and reads the TLS files
 * (while the process may still be root); http_server_start() starts the
 * worker threads (after privileges were dropped).  Each request is read
 * whole (bodies beyond HTTP_BODY_MAX are answered 413 without being
 * read), turned into a struct http_request, passed to the handler on a
 * worker thread, answered, and logged with one access line.
 *
 * http_server_drain() stops accepting connections and waits for requests
 * in progress; http_server_free() then closes everything.  The server owns
 * its socket and TLS material; the handler's arg is borrowed.
 */
#ifndef POSTINOD_SERVER_H
#define POSTINOD_SERVER_H

#include "err.h"
#include "http.h"

typedef void http_handler_fn(
    void *arg, struct http_request *, struct http_response *);
/*
 * The body of an error the server answers itself before the handler runs
 * (413): the application picks the envelope by path.  NULL = plain JSON.
 */
typedef void http_refuse_fn(void *arg, const char *path, struct http_response *,
    int status, const char *detail);

struct http_server_opts {
	const char *listen; /* "host:port", "[v6]:port", "*:port" */
	unsigned threads;
	const char *tls_cert_file; /* NULL or "" = plain HTTP */
	const char *tls_key_file;
	http_handler_fn *handler;
	http_refuse_fn *refuse; /* may be NULL */
	void *arg;
};

struct http_server;

/* Bind (and read TLS files); NULL with err (ERR_CONFIG) on failure. */
struct http_server *http_server_new(
    const struct http_server_opts *, struct err *);
/* Start serving; -1 with err on failure. */
int http_server_start(struct http_server *, struct err *);
/* "127.0.0.1:8443": where the server listens (for the start-up line). */
const char *http_server_where(const struct http_server *);
/*
 * Stop accepting and wait up to timeout_ms for requests in progress;
 * returns how many were still running.
 */
int http_server_drain(struct http_server *, int timeout_ms);
void http_server_free(struct http_server **);

#endif
