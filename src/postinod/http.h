/*
 * http: postinod's view of HTTP, a plain request and response, so that the
 * SCIM and webhook handlers never see libmicrohttpd and can be driven by
 * unit tests with hand-made structs.
 *
 * http.c holds the pure helpers (header and query lookup, replies);
 * server.c runs libmicrohttpd: it binds the listening socket, reads each
 * request (the body capped at HTTP_BODY_MAX, 413 beyond), fills a struct
 * http_request, calls the handler, sends the struct http_response and
 * writes the access-log line.
 *
 * Lifetimes: every string a request points to (method, path, header and
 * query names and values, body) belongs to the server and is valid until
 * the handler returns.  A response owns its body buffer; the server sends
 * and releases it.  The handler fills `subject` (the authenticated JWT
 * sub) for the access log.
 */
#ifndef POSTINOD_HTTP_H
#define POSTINOD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_REPLY_MAX (8 * 1024 * 1024)
#define HTTP_KV_MAX 64

struct http_kv {
	const char *name;
	const char *value; /* "" when the query had no '=' */
};

struct http_request {
	const char *method;
	const char *path; /* percent-decoded, no query */
	struct http_kv headers[HTTP_KV_MAX];
	size_t nheaders;
	struct http_kv query[HTTP_KV_MAX];
	size_t nquery;
	bool too_many;	  /* headers or query arguments dropped */
	const char *body; /* NUL-terminated; NULL when empty */
	size_t body_len;
	char remote[64];
	char subject[128]; /* set by authentication */
};

struct http_response {
	int status;
	const char *content_type; /* static string, NULL = none */
	struct buf body;
	char location[1024];
	char www_authenticate[256];
	char allow[64];
};

/* Header value by name (case-insensitive), or NULL. */
const char *http_header(const struct http_request *, const char *name);
/* First query argument by name (case-insensitive), or NULL. */
const char *http_query(const struct http_request *, const char *name);
/* How many query arguments have this name. */
size_t http_query_count(const struct http_request *, const char *name);

void http_response_init(struct http_response *);
void http_response_release(struct http_response *);
/*
 * Reply with a JSON document (stolen; may be NULL for no body), rendered
 * compactly, with this status and media type.
 */
void http_reply_json(
    struct http_response *, int status, const char *content_type, json_t *);
/* Reply with no body. */
void http_reply_empty(struct http_response *, int status);
/*
 * A plain JSON error {"status":N,"error":"...","detail":"..."} for the
 * endpoints outside SCIM (health, webhook, unknown paths).
 */
void http_reply_error(
    struct http_response *, int status, const char *error, const char *detail);

/*
 * A JSON string for s (NULL -> ""), with invalid UTF-8 replaced by '?' so
 * that text echoing client input can always be sent.
 */
json_t *http_json_str(const char *s);

/* The reason phrase for a status ("Not Found"). */
const char *http_reason(int status);

/*
 * Decode the %HH escapes of s in place, as libmicrohttpd's own unescaper
 * does, except those of control bytes (00-1f, 7f): they stay escaped, so
 * that a decoded path or argument is never cut short by a NUL.  Returns
 * the new length.  server.c installs it for every request.
 */
size_t http_unescape(char *s);
/* Whether s holds a control byte, raw or as an escape http_unescape left. */
bool http_has_control(const char *s);

#endif
