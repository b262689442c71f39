#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "net.h"
#include "server.h"
#include "stats.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define TLS_FILE_MAX (256 * 1024)
#define CONN_TIMEOUT_S 30
#define CONN_MEMORY (128 * 1024)
#define CONN_LIMIT 1024
/*
 * An over-long body is read and thrown away up to this size, so that the
 * client, still sending, sees the 413 instead of a reset connection; a
 * larger one is answered at once (or dropped mid-upload).
 */
#define DISCARD_MAX (16 * 1024 * 1024)

struct http_server {
	struct http_server_opts opts;
	int fd;
	char where[128];
	char *tls_cert;
	char *tls_key;
	struct MHD_Daemon *mhd;
	atomic_int inflight;
};

/* What a connection carries between the handler's calls. */
struct conn {
	struct http_server *srv;
	struct buf body;
	bool too_large;
	size_t discarded;
	bool answered;
	struct timespec start;
	struct http_request req;
};

static char *
read_file(const char *path, struct err *err)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;
	bool bad = false;

	if (f == NULL) {
		err_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	buf_init(&b, TLS_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1) {
			bad = true;
			err_set(err, ERR_CONFIG, "'%s' is too large", path);
			break;
		}
	if (!bad && ferror(f)) {
		bad = true;
		err_set(err, ERR_CONFIG, "cannot read '%s'", path);
	}
	fclose(f);
	explicit_bzero(chunk, sizeof(chunk));
	if (bad) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

struct http_server *
http_server_new(const struct http_server_opts *o, struct err *err)
{
	struct http_server *s = xcalloc(1, sizeof(*s));

	s->opts = *o;
	s->fd = -1;
	if (o->tls_cert_file != NULL && o->tls_cert_file[0] != '\0') {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			err_set(err, ERR_CONFIG,
			    "this libmicrohttpd has no TLS support");
			goto fail;
		}
		if ((s->tls_cert = read_file(o->tls_cert_file, err)) == NULL ||
		    (s->tls_key = read_file(o->tls_key_file, err)) == NULL)
			goto fail;
	}
	if ((s->fd = net_listen(s->opts.listen, 128, "postinod.listen",
		 s->where, sizeof(s->where), err)) == -1)
		goto fail;
	return s;
fail:
	http_server_free(&s);
	return NULL;
}

const char *
http_server_where(const struct http_server *s)
{
	return s->where;
}

static enum MHD_Result
collect_kv(
    void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct http_request *r = arg;

	if (key == NULL)
		return MHD_YES;
	if (kind == MHD_HEADER_KIND) {
		if (r->nheaders == HTTP_KV_MAX) {
			r->too_many = true;
			return MHD_NO;
		}
		r->headers[r->nheaders].name = key;
		r->headers[r->nheaders++].value = value != NULL ? value : "";
	} else {
		if (r->nquery == HTTP_KV_MAX) {
			r->too_many = true;
			return MHD_NO;
		}
		r->query[r->nquery].name = key;
		r->query[r->nquery++].value = value != NULL ? value : "";
	}
	return MHD_YES;
}

static void
client_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci;

	str_copy(out, "-", size);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	(void)getnameinfo(ci->client_addr,
	    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						   : sizeof(struct sockaddr_in),
	    out, (socklen_t)size, NULL, 0, NI_NUMERICHOST);
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000);
}

static uint64_t
elapsed_ns(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - start->tv_sec) * 1000000000LL +
	    (now.tv_nsec - start->tv_nsec));
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct conn *cn, const char *method,
    const char *url, struct http_response *w)
{
	struct MHD_Response *resp;
	size_t len = w->body.len;
	enum MHD_Result rc;
	char path[512], sub[160], meth[16];

	resp = MHD_create_response_from_buffer(
	    len, buf_detach(&w->body), MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	if (w->content_type != NULL)
		MHD_add_response_header(resp, "Content-Type", w->content_type);
	if (w->location[0] != '\0')
		MHD_add_response_header(resp, "Location", w->location);
	if (w->www_authenticate[0] != '\0')
		MHD_add_response_header(
		    resp, "WWW-Authenticate", w->www_authenticate);
	if (w->allow[0] != '\0')
		MHD_add_response_header(resp, "Allow", w->allow);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(c, (unsigned)w->status, resp);
	MHD_destroy_response(resp);
	cn->answered = true;
	pstats_request(method, url, w->status, elapsed_ns(&cn->start));
	log_access("method=%s path=%s status=%d ms=%ld sub=%s remote=%s",
	    log_safe(method, meth, sizeof(meth)),
	    log_safe(url, path, sizeof(path)), w->status,
	    elapsed_ms(&cn->start),
	    cn->req.subject[0] != '\0'
		? log_safe(cn->req.subject, sub, sizeof(sub))
		: "-",
	    cn->req.remote);
	return rc;
}

#define TOO_LARGE "the request body exceeds 65536 bytes"

/* An error answered before the handler, in the application's envelope. */
static void
refuse(struct http_server *s, const char *path, struct http_response *w,
    int status, const char *detail)
{
	if (s->opts.refuse != NULL)
		s->opts.refuse(s->opts.arg, path, w, status, detail);
	else
		http_reply_error(w, status, "too_large", detail);
}

static enum MHD_Result
on_request(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct http_server *s = arg;
	struct conn *cn = *state;
	struct http_response w;
	enum MHD_Result rc;

	(void)version;
	if (cn == NULL) {
		const char *cl;

		cn = xcalloc(1, sizeof(*cn));
		cn->srv = s;
		buf_init(&cn->body, HTTP_BODY_MAX);
		clock_gettime(CLOCK_MONOTONIC, &cn->start);
		client_address(c, cn->req.remote, sizeof(cn->req.remote));
		atomic_fetch_add(&s->inflight, 1);
		*state = cn;
		cl = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			const char *ex = MHD_lookup_connection_value(
			    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
			int64_t n;

			if (str_to_i64(cl, &n) == -1 || n < 0)
				n = INT64_MAX;
			if (n > HTTP_BODY_MAX)
				cn->too_large = true;
			if (n > DISCARD_MAX ||
			    (n > HTTP_BODY_MAX && ex != NULL &&
				str_eq_nocase(ex, "100-continue"))) {
				/* Answer before reading a byte of it. */
				http_response_init(&w);
				refuse(s, url, &w, 413, TOO_LARGE);
				rc = send_reply(c, cn, method, url, &w);
				http_response_release(&w);
				return rc;
			}
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!cn->answered && !cn->too_large &&
		    buf_append(&cn->body, upload, *upload_size) == -1)
			cn->too_large = true;
		if (cn->too_large) {
			cn->discarded += *upload_size;
			if (cn->discarded > DISCARD_MAX)
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (cn->answered)
		return MHD_YES;
	http_response_init(&w);
	if (cn->too_large) {
		refuse(s, url, &w, 413, TOO_LARGE);
	} else {
		cn->req.method = method;
		cn->req.path = url;
		MHD_get_connection_values(
		    c, MHD_HEADER_KIND, collect_kv, &cn->req);
		MHD_get_connection_values(
		    c, MHD_GET_ARGUMENT_KIND, collect_kv, &cn->req);
		if (cn->body.len > 0) {
			cn->req.body = buf_cstr(&cn->body);
			cn->req.body_len = cn->body.len;
		}
		s->opts.handler(s->opts.arg, &cn->req, &w);
	}
	rc = send_reply(c, cn, method, url, &w);
	http_response_release(&w);
	return rc;
}

static void
on_completed(void *arg, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = arg;
	struct conn *cn = *state;

	(void)c;
	(void)toe;
	if (cn == NULL)
		return;
	buf_release(&cn->body);
	free(cn);
	*state = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* Percent-decoding that never yields a control byte (http.h). */
static size_t
unescape(void *arg, struct MHD_Connection *c, char *s)
{
	(void)arg;
	(void)c;
	return http_unescape(s);
}

int
http_server_start(struct http_server *s, struct err *err)
{
	unsigned flags =
	    MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	unsigned threads = s->opts.threads > 0 ? s->opts.threads : 1;

	if (s->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, log_library, (void *)"libmicrohttpd",
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
	    s->tls_cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    s->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_END);
	if (s->mhd == NULL)
		return err_set(err, ERR_CONFIG,
		    "cannot start the HTTP server on %s", s->where);
	return 0;
}

int
http_server_drain(struct http_server *s, int timeout_ms)
{
	int waited = 0, n;

	if (s->mhd == NULL)
		return 0;
	(void)MHD_quiesce_daemon(s->mhd);
	while ((n = atomic_load(&s->inflight)) > 0 && waited < timeout_ms) {
		struct timespec ts = { 0, 20 * 1000000L };

		nanosleep(&ts, NULL);
		waited += 20;
	}
	return n;
}

void
http_server_free(struct http_server **sp)
{
	struct http_server *s = *sp;

	if (s == NULL)
		return;
	if (s->mhd != NULL)
		MHD_stop_daemon(s->mhd);
	if (s->fd != -1)
		close(s->fd);
	if (s->tls_key != NULL) {
		explicit_bzero(s->tls_key, strlen(s->tls_key));
		free(s->tls_key);
	}
	free(s->tls_cert);
	free(s);
	*sp = NULL;
}
