/*
 * metrics_http: GET /metrics on a libmicrohttpd daemon of its own.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef HAVE_MHD
#include <microhttpd.h>
#endif

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define METRICS_OUT_MAX (16u * 1024u * 1024u)

struct metrics_http {
	int fd;
	char where[128];
	metrics_render_fn *render;
	void *arg;
#ifdef HAVE_MHD
	struct MHD_Daemon *mhd;
#endif
};

#ifdef HAVE_MHD

static int
bind_hostport(
    struct metrics_http *h, const char *spec, const char *what, struct err *err)
{
	char host[256], port[16], hh[NI_MAXHOST], pp[NI_MAXSERV];
	const char *colon;
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t hl;
	int rc, one = 1, saved = 0, p;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		hl = (size_t)(end - spec - 1);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hl);
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec, hl);
	}
	host[hl] = '\0';
	if (strcmp(host, "*") == 0 || host[0] == '\0')
		str_copy(host, "0.0.0.0", sizeof(host));
	if (str_to_int(colon + 1, 0, 65535, &p) == -1)
		goto bad;
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_set(err, ERR_CONFIG, "%s: cannot resolve '%s': %s",
		    what, host, gai_strerror(rc));
	h->fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		h->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (h->fd == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(
		    h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(h->fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(h->fd, 64) == 0)
			break;
		saved = errno;
		close(h->fd);
		h->fd = -1;
	}
	freeaddrinfo(res);
	if (h->fd == -1)
		return err_set(err, ERR_CONFIG, "%s: cannot listen on '%s': %s",
		    what, spec, strerror(saved));
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, hh, sizeof(hh), pp,
		sizeof(pp), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(h->where, sizeof(h->where),
		    ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", hh, pp);
	else
		str_copy(h->where, spec, sizeof(h->where));
	return 0;
bad:
	return err_set(
	    err, ERR_CONFIG, "%s: '%s' is not host:port", what, spec);
}

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)arg;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warnx("metrics listener: libmicrohttpd: %s", msg);
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *allow, struct buf *body)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t len = body->len;

	resp = MHD_create_response_from_buffer(
	    len, buf_detach(body), MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
on_request(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	static int first;
	struct metrics_http *h = arg;
	struct buf body;

	(void)version;
	(void)upload;
	if (*state == NULL) {
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0; /* bodies are not read */
		return MHD_YES;
	}
	buf_init(&body, METRICS_OUT_MAX);
	if (strcmp(url, "/metrics") != 0) {
		buf_puts(&body, "not found\n");
		return reply(c, 404, "text/plain; charset=utf-8", NULL, &body);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		buf_puts(&body, "method not allowed\n");
		return reply(
		    c, 405, "text/plain; charset=utf-8", "GET, HEAD", &body);
	}
	h->render(h->arg, &body);
	return reply(c, 200, METRICS_CONTENT_TYPE, NULL, &body);
}

struct metrics_http *
metrics_http_bind(const char *spec, const char *what, struct err *err)
{
	struct metrics_http *h = xcalloc(1, sizeof(*h));

	h->fd = -1;
	if (bind_hostport(h, spec, what, err) == -1) {
		free(h);
		return NULL;
	}
	return h;
}

int
metrics_http_start(struct metrics_http *h, metrics_render_fn *render, void *arg,
    struct err *err)
{
	h->render = render;
	h->arg = arg;
	h->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC,
	    0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_END);
	if (h->mhd == NULL)
		return err_set(err, ERR_CONFIG,
		    "cannot start the metrics listener on %s", h->where);
	return 0;
}

void
metrics_http_free(struct metrics_http **hp)
{
	struct metrics_http *h = *hp;

	if (h == NULL)
		return;
	*hp = NULL;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->fd != -1)
		close(h->fd);
	free(h);
}

#else /* !HAVE_MHD */

struct metrics_http *
metrics_http_bind(const char *spec, const char *what, struct err *err)
{
	(void)spec;
	err_set(err, ERR_CONFIG,
	    "%s: this build has no libmicrohttpd, so no metrics listener",
	    what);
	return NULL;
}

int
metrics_http_start(struct metrics_http *h, metrics_render_fn *render, void *arg,
    struct err *err)
{
	(void)h;
	(void)render;
	(void)arg;
	return err_set(err, ERR_CONFIG, "no metrics listener in this build");
}

void
metrics_http_free(struct metrics_http **hp)
{
	*hp = NULL;
}

#endif

const char *
metrics_http_where(const struct metrics_http *h)
{
	return h->where;
}
