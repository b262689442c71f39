#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

const char *
http_header(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (str_eq_nocase(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

const char *
http_query(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (str_eq_nocase(r->query[i].name, name))
			return r->query[i].value;
	return NULL;
}

size_t
http_query_count(const struct http_request *r, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nquery; i++)
		if (str_eq_nocase(r->query[i].name, name))
			n++;
	return n;
}

json_t *
http_json_str(const char *s)
{
	json_t *j;
	char *copy;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

void
http_response_init(struct http_response *w)
{
	memset(w, 0, sizeof(*w));
	w->status = 500;
	buf_init(&w->body, HTTP_REPLY_MAX);
}

void
http_response_release(struct http_response *w)
{
	buf_release(&w->body);
}

static int
dump_cb(const char *p, size_t n, void *arg)
{
	return buf_append(arg, p, n);
}

void
http_reply_json(
    struct http_response *w, int status, const char *content_type, json_t *doc)
{
	buf_reset(&w->body);
	w->status = status;
	w->content_type = content_type;
	if (doc == NULL)
		return;
	if (json_dump_callback(doc, dump_cb, &w->body,
		JSON_COMPACT | JSON_PRESERVE_ORDER) == -1) {
		/* Only a reply beyond HTTP_REPLY_MAX gets here. */
		buf_reset(&w->body);
		w->status = 500;
		w->content_type = "application/json";
		buf_puts(&w->body,
		    "{\"status\":500,\"error\":\"internal\",\"detail\":\"reply too large\"}");
	}
	json_decref(doc);
}

void
http_reply_empty(struct http_response *w, int status)
{
	buf_reset(&w->body);
	w->status = status;
	w->content_type = NULL;
}

void
http_reply_error(
    struct http_response *w, int status, const char *error, const char *detail)
{
	json_t *o = json_object();

	json_object_set_new(o, "status", json_integer(status));
	json_object_set_new(o, "error", http_json_str(error));
	if (detail != NULL)
		json_object_set_new(o, "detail", http_json_str(detail));
	http_reply_json(w, status, "application/json", o);
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "";
	}
}

/* The byte of the escape at s ("%HH"), or -1 when s is not one. */
static int
escape_at(const char *s)
{
	int hi, lo;

	if (s[0] != '%' || (hi = str_hexval((unsigned char)s[1])) < 0 ||
	    (lo = str_hexval((unsigned char)s[2])) < 0)
		return -1;
	return hi << 4 | lo;
}

static bool
is_control(int c)
{
	return c < 0x20 || c == 0x7f;
}

size_t
http_unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0';) {
		int c = escape_at(r);

		if (c >= 0 && !is_control(c)) {
			*w++ = (char)c;
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

bool
http_has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		int c = escape_at(s);

		if (is_control((unsigned char)*s) || (c >= 0 && is_control(c)))
			return true;
	}
	return false;
}
