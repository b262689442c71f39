/*
 * metrics_http: GET /metrics on a libmicrohttpd daemon of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_MHD
#include <microhttpd.h>
#endif

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "net.h"
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

	if ((h->fd = net_listen(
		 spec, 64, what, h->where, sizeof(h->where), err)) == -1) {
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
	    0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	    log_library, (void *)"metrics listener: libmicrohttpd",
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
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
