/*
 * table_url: Mailu Podop's url table, over libcurl.
 *
 * The parameter is a URL template in which "§" (or "{}") stands for the
 * key, percent-encoded as Podop does (Python's urllib.parse.quote: letters,
 * digits, "_.-~" and "/" stay, everything else becomes %XX); a private dict
 * key is "key/user" before encoding.  A lookup is a GET:
 *
 *	2xx with a JSON body	found: a JSON string is the value as is,
 *				anything else its compact JSON text; null
 *				and "" mean not found
 *	204, 404, 410		not found
 *	3xx			the redirect is followed, on the same
 *				origin only, at most URL_REDIRECTS times
 *	anything else		temporary failure (as Podop: Mailu answers
 *				400 on purpose to have mail deferred)
 *
 * A "Cache-Control: no-store / no-cache / max-age=N" response header sets
 * how long podop may cache the answer.  A dict commit POSTs each set value
 * as JSON (a value that is not valid JSON is sent as a JSON string) and
 * DELETEs unset keys; any status but 2xx fails the commit.  A dict
 * iteration GETs the path itself (not encoded, as Podop does), expects a
 * JSON list of key suffixes and looks each one up.
 *
 * Connections are kept alive: every thread takes a curl easy handle from a
 * pool and gives it back, and a handle keeps its connection between
 * requests.  Every request is bounded by table_env.timeout_ms; a transfer
 * that fails before any answer is retried once.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "proto_dict.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

#define URL_BODY_MAX (4 * 1024 * 1024)
#define URL_REDIRECTS 5
#define SECTION_SIGN "\xc2\xa7"

struct urltab {
	char *origin; /* "scheme://host[:port]" of the template */
	char *prefix; /* template before the hole */
	char *suffix; /* and after it */
	struct table_hpool handles;
	int64_t timeout_ms;
};

struct xfer {
	struct buf body;
	int64_t ttl_ms; /* -1: not said */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
url_open(struct table *t, struct err *err)
{
	const char *p = t->param, *hole;
	size_t holelen;
	struct urltab *u;

	if ((hole = strstr(p, SECTION_SIGN)) != NULL)
		holelen = strlen(SECTION_SIGN);
	else if ((hole = strstr(p, "{}")) != NULL)
		holelen = 2;
	else
		return err_set(err, ERR_CONFIG,
		    "URL '%s' has no '§' or '{}' for the key", p);
	if (!str_prefix(p, "http://") && !str_prefix(p, "https://"))
		return err_set(err, ERR_CONFIG,
		    "'%s' is not an http:// or https:// URL", p);
	pthread_once(&curl_once, curl_init_once);
	u = xcalloc(1, sizeof(*u));
	u->prefix = xstrndup(p, (size_t)(hole - p));
	{
		const char *host = strstr(p, "://") + 3;
		size_t olen = strcspn(host, "/?#");

		u->origin = xstrndup(p, (size_t)(host - p) + olen);
	}
	u->suffix = xstrdup(hole + holelen);
	u->timeout_ms = t->env->timeout_ms > 0 ? t->env->timeout_ms : 5000;
	table_hpool_init(&u->handles);
	t->handle = u;
	return 0;
}

static void
destroy_handle(void *h)
{
	curl_easy_cleanup(h);
}

static void
url_close(struct table *t)
{
	struct urltab *u = t->handle;

	if (u == NULL)
		return;
	table_hpool_release(&u->handles, destroy_handle);
	free(u->origin);
	free(u->prefix);
	free(u->suffix);
	free(u);
	t->handle = NULL;
}

/* urllib.parse.quote(s) with its default safe="/". */
static void
quote(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("_.-~/", c) != NULL)
			buf_putc(out, c);
		else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

static void
make_url(const struct urltab *u, const char *key, bool encode, struct buf *out)
{
	buf_reset(out);
	buf_puts(out, u->prefix);
	if (encode)
		quote(out, key);
	else
		buf_puts(out, key);
	buf_puts(out, u->suffix);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_append(&x->body, data, size * n) == -1)
		return 0; /* too large: abort the transfer */
	return size * n;
}

/* Cache-Control: no-store, no-cache, max-age=N (case-insensitive). */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char line[512], *v;

	if (len < 14 || len >= sizeof(line) ||
	    strncasecmp(data, "cache-control:", 14) != 0)
		return len;
	memcpy(line, data, len);
	line[len] = '\0';
	for (v = line + 14; *v != '\0'; v++)
		*v = (char)tolower((unsigned char)*v);
	v = line + 14;
	if (strstr(v, "no-store") != NULL || strstr(v, "no-cache") != NULL)
		x->ttl_ms = 0;
	else if ((v = strstr(v, "max-age=")) != NULL) {
		long long secs = strtoll(v + 8, NULL, 10);

		if (secs >= 0)
			x->ttl_ms = secs * 1000;
	}
	return len;
}

static CURL *
get_handle(struct urltab *u)
{
	CURL *h = table_hpool_get(&u->handles);

	if (h != NULL) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		return h;
	}
	if ((h = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)u->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)u->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "podop/" POSTINO_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	return h;
}

static bool
retryable(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR ||
	    rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

/* Whether url is on the template's origin (a redirect we may follow). */
static bool
same_origin(const struct urltab *u, const char *url)
{
	size_t n = strlen(u->origin);

	return strncasecmp(url, u->origin, n) == 0 &&
	    (url[n] == '\0' || url[n] == '/' || url[n] == '?');
}

/*
 * One request.  method NULL = GET, else "POST" (with body) or "DELETE".
 * Redirects are not followed here; redirect_r (if not NULL) gets the
 * Location of a 3xx answer, resolved.  Returns 0 with *status_r, or -1 with err
 * (ERR_TEMP) when there was no HTTP answer.
 */
static int
request(struct urltab *u, const char *url, const char *method, const char *body,
    struct xfer *x, long *status_r, struct buf *redirect_r, struct err *err)
{
	struct curl_slist *hdr = NULL;
	CURLcode rc = CURLE_OK;
	CURL *h;

	if ((h = get_handle(u)) == NULL)
		return err_set(
		    err, ERR_INTERNAL, "cannot create a curl handle");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (method != NULL && strcmp(method, "POST") == 0) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	} else if (method != NULL)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	for (int attempt = 0; attempt < 2; attempt++) {
		buf_reset(&x->body);
		x->ttl_ms = -1;
		rc = curl_easy_perform(h);
		if (rc == CURLE_OK || !retryable(rc))
			break;
	}
	if (rc == CURLE_OK) {
		char *loc = NULL;

		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status_r);
		if (redirect_r != NULL) {
			buf_reset(redirect_r);
			if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) ==
				CURLE_OK &&
			    loc != NULL)
				(void)buf_puts(redirect_r, loc);
		}
	}
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(h);
		if (rc == CURLE_WRITE_ERROR)
			return err_set(err, ERR_TEMP,
			    "answer from %s is larger than %d bytes", u->prefix,
			    URL_BODY_MAX);
		return err_set(
		    err, ERR_TEMP, "%s: %s", u->prefix, curl_easy_strerror(rc));
	}
	table_hpool_put(&u->handles, h);
	return 0;
}

/* Render a JSON value the way Podop's clients expect it. */
static int
render(json_t *j, struct buf *out, struct err *err)
{
	buf_reset(out);
	if (json_is_null(j))
		return 0;
	if (json_is_string(j)) {
		if (buf_append(
			out, json_string_value(j), json_string_length(j)) == -1)
			return err_set(err, ERR_TOOLARGE, "value too large");
	} else {
		char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

		if (s == NULL)
			return err_set(err, ERR_INTERNAL, "cannot encode JSON");
		if (buf_puts(out, s) == -1) {
			free(s);
			return err_set(err, ERR_TOOLARGE, "value too large");
		}
		free(s);
	}
	/* A NUL inside a string would cut the value short: refuse it. */
	if (memchr(out->data, '\0', out->len) != NULL)
		return err_set(err, ERR_TEMP, "value contains a NUL byte");
	return 1;
}

static int
get_json(struct urltab *u, const char *url, json_t **j_r, int64_t *ttl_r,
    struct err *err)
{
	struct xfer x;
	json_error_t je;
	struct buf next;
	long status = 0;

	*j_r = NULL;
	buf_init(&x.body, URL_BODY_MAX);
	buf_init(&next, TABLE_KEY_MAX * 4);
	for (int hops = 0;; hops++) {
		if (request(u, url, NULL, NULL, &x, &status, &next, err) ==
		    -1) {
			buf_release(&x.body);
			buf_release(&next);
			return -1;
		}
		if (status < 300 || status >= 400)
			break;
		if (hops == URL_REDIRECTS || next.len == 0 ||
		    !same_origin(u, buf_cstr(&next))) {
			err_set(err, ERR_TEMP,
			    "HTTP %ld from %s: redirect %s'%.200s' not followed",
			    status, u->prefix,
			    hops == URL_REDIRECTS ? "loop at " : "to ",
			    buf_cstr(&next));
			buf_release(&x.body);
			buf_release(&next);
			return -1;
		}
		url = buf_cstr(&next);
	}
	if (ttl_r != NULL)
		*ttl_r = x.ttl_ms;
	if (status == 204 || status == 404 || status == 410) {
		buf_release(&x.body);
		buf_release(&next);
		return 0;
	}
	if (status < 200 || status >= 300) {
		buf_release(&x.body);
		buf_release(&next);
		return err_set(
		    err, ERR_TEMP, "HTTP %ld from %s", status, u->prefix);
	}
	buf_release(&next);
	*j_r = json_loadb(buf_cstr(&x.body), x.body.len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	buf_release(&x.body);
	if (*j_r == NULL)
		return err_set(err, ERR_TEMP, "invalid JSON from %s: %s",
		    u->prefix, je.text);
	return 1;
}

static int
url_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	struct urltab *u = t->handle;
	struct buf flat, url;
	json_t *j;
	int r;

	buf_init(&flat, TABLE_KEY_MAX * 2);
	buf_init(&url, TABLE_KEY_MAX * 4);
	table_flat_key(&flat, key, user);
	make_url(u, buf_cstr(&flat), true, &url);
	r = get_json(u, buf_cstr(&url), &j, ttl_ms_r, err);
	if (r == 1) {
		r = render(j, value_r, err);
		json_decref(j);
	}
	buf_release(&flat);
	buf_release(&url);
	return r;
}

struct url_iter {
	struct table *t;
	const char *path;
	const char *user;
};

static int
url_iterate(struct table *t, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *fn, void *arg,
    struct err *err)
{
	struct urltab *u = t->handle;
	struct buf url, key, val;
	uint64_t rows = 0;
	size_t i;
	json_t *list, *item;
	int r;

	buf_init(&url, TABLE_KEY_MAX * 4);
	make_url(u, path, false, &url);
	r = get_json(u, buf_cstr(&url), &list, NULL, err);
	buf_release(&url);
	if (r <= 0)
		return r;
	if (!json_is_array(list)) {
		json_decref(list);
		return err_set(err, ERR_TEMP,
		    "iteration of '%s' did not return a JSON list", path);
	}
	buf_init(&key, TABLE_KEY_MAX * 2);
	buf_init(&val, URL_BODY_MAX);
	r = 0;
	json_array_foreach(list, i, item)
	{
		int64_t ttl;
		int found;

		if (!json_is_string(item))
			continue;
		if (max_rows > 0 && rows >= max_rows)
			break;
		buf_reset(&key);
		buf_puts(&key, path);
		if (buf_puts(&key, json_string_value(item)) == -1)
			continue;
		if (!table_iter_match(path, key.data, flags))
			continue;
		found = url_lookup(t, key.data, user, &val, &ttl, err);
		if (found == -1) {
			r = -1;
			break;
		}
		if (found == 0)
			continue; /* vanished meanwhile: skip the row */
		if (fn(arg, key.data, buf_cstr(&val), err) == -1) {
			r = -1;
			break;
		}
		rows++;
	}
	buf_release(&key);
	buf_release(&val);
	json_decref(list);
	return r;
}

static int
url_commit(
    struct table *t, const struct table_op *ops, size_t n, struct err *err)
{
	struct urltab *u = t->handle;
	struct buf flat, url;
	struct xfer x;
	int r = 1;

	for (size_t i = 0; i < n; i++)
		if (ops[i].op != 'S' && ops[i].op != 'U')
			return err_set(err, ERR_UNSUPPORTED,
			    "url tables cannot '%c' ('%.200s')", ops[i].op,
			    ops[i].key);
	buf_init(&flat, TABLE_KEY_MAX * 2);
	buf_init(&url, TABLE_KEY_MAX * 4);
	buf_init(&x.body, URL_BODY_MAX);
	for (size_t i = 0; i < n && r == 1; i++) {
		char *body = NULL;
		long status = 0;

		table_flat_key(&flat, ops[i].key, ops[i].user);
		make_url(u, buf_cstr(&flat), true, &url);
		if (ops[i].op == 'S') {
			json_error_t je;
			json_t *j =
			    json_loads(ops[i].value, JSON_DECODE_ANY, &je);

			if (j == NULL)
				j = json_string(ops[i].value);
			body = j != NULL
			    ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY)
			    : NULL;
			json_decref(j);
			if (body == NULL) {
				r = err_set(err, ERR_INVALID,
				    "value of '%.200s' is not valid UTF-8",
				    ops[i].key);
				break;
			}
		}
		if (request(u, buf_cstr(&url),
			ops[i].op == 'S' ? "POST" : "DELETE", body, &x, &status,
			NULL, err) == -1)
			r = -1;
		else if (status < 200 || status >= 300)
			r = err_set(err, status >= 500 ? ERR_TEMP : ERR_INVALID,
			    "HTTP %ld from %s for '%.200s'", status, u->prefix,
			    ops[i].key);
		free(body);
	}
	buf_release(&flat);
	buf_release(&url);
	buf_release(&x.body);
	return r;
}

const struct table_backend table_backend_url = {
	.name = "url",
	.open = url_open,
	.lookup = url_lookup,
	.iterate = url_iterate,
	.commit = url_commit,
	.close = url_close,
};
