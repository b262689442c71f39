#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "scim.h"
#include "scim_json.h"
#include "scim_filter.h"
#include "strutil.h"
#include "timefmt.h"
#include "xalloc.h"
#include "banned.h"

#define DEFAULT_ACTOR "scim-client"

/* --- replies ----------------------------------------------------------- */

/* --- attributes / excludedAttributes (RFC 7644 3.9) ----------------- */

#define PROJ_MAX 32

/* Whether list (comma-separated) names key, or key:sub / key.sub. */
static bool
listed(const char *list, const char *key, const char **sub_r)
{
	size_t kl = strlen(key);

	*sub_r = NULL;
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t il = n;

		while (il > 0 && *item == ' ')
			item++, il--;
		while (il > 0 && item[il - 1] == ' ')
			il--;
		/* The core schema's URN in front names the same attribute. */
		if (il > strlen(SCIM_URN_USER) + 1 &&
		    strncasecmp(item, SCIM_URN_USER ":",
			strlen(SCIM_URN_USER) + 1) == 0) {
			item += strlen(SCIM_URN_USER) + 1;
			il -= strlen(SCIM_URN_USER) + 1;
		}
		if (il >= kl && strncasecmp(item, key, kl) == 0 &&
		    (il == kl || item[kl] == '.' || item[kl] == ':')) {
			if (il > kl)
				*sub_r = item + kl + 1;
			return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Cut one resource down to what the request asked for. */
static void
project(json_t *res, const char *attrs, const char *excluded)
{
	const char *key, *sub;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(res, tmp, key, v)
	{
		if (strcmp(key, "schemas") == 0 || strcmp(key, "id") == 0)
			continue; /* returned always */
		if (attrs != NULL && !listed(attrs, key, &sub))
			json_object_del(res, key);
		else if (excluded != NULL && listed(excluded, key, &sub)) {
			if (sub == NULL || !json_is_object(v))
				json_object_del(res, key);
			else {
				char one[128];
				size_t n = strcspn(sub, ",");

				snprintf(one, sizeof(one), "%.*s",
				    (int)(n < sizeof(one) ? n
							  : sizeof(one) - 1),
				    sub);
				json_object_del(v, one);
			}
		}
	}
}

/*
 * attributes= and excludedAttributes=: attribute paths, comma-separated.
 * 0, or -1 (with err) for a value postino cannot honour.
 */
static int
projection(struct scim_req *q, const char **attrs, const char **excluded,
    struct err *err)
{
	*attrs = http_query(q->r, "attributes");
	*excluded = http_query(q->r, "excludedAttributes");
	if (http_query_count(q->r, "attributes") > 1 ||
	    http_query_count(q->r, "excludedAttributes") > 1 ||
	    (*attrs != NULL && *excluded != NULL))
		return err_set(err, ERR_INVALID,
		    "give attributes or excludedAttributes, once");
	for (int i = 0; i < 2; i++) {
		const char *l = i == 0 ? *attrs : *excluded;

		if (l == NULL)
			continue;
		if (*l == '\0' || strlen(l) > 1024)
			return err_set(err, ERR_INVALID,
			    "%s must list attribute names",
			    i == 0 ? "attributes" : "excludedAttributes");
		for (const char *p = l; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr(",.:_-$ ", *p) == NULL)
				return err_set(err, ERR_INVALID,
				    "%s: '%c' cannot be in an attribute name",
				    i == 0 ? "attributes"
					   : "excludedAttributes",
				    *p);
	}
	return 0;
}

/*
 * The absolute base of locations: public_url, else the listener's scheme
 * and the request's Host (the listen address when Host is missing or not
 * a plain host[:port]).
 */
void
scim_base_url(const struct scim_req *q, char *out, size_t size)
{
	const char *pub = q->d->conf->postinod.public_url;
	const char *host = http_header(q->r, "Host");
	size_t n;

	if (pub != NULL && *pub != '\0') {
		str_copy(out, pub, size);
		n = strlen(out);
		while (n > 0 && out[n - 1] == '/')
			out[--n] = '\0';
		return;
	}
	if (host == NULL || *host == '\0' || strlen(host) > 255 ||
	    strspn(host,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
		strlen(host))
		host = q->d->conf->postinod.listen;
	snprintf(out, size, "%s://%s",
	    q->d->conf->postinod.tls_cert[0] != '\0' ? "https" : "http", host);
}

/* meta.location of one resource made absolute (RFC 7643 section 3.1). */
static void
absolute_location(json_t *o, const char *base)
{
	json_t *loc = json_object_get(json_object_get(o, "meta"), "location");
	char *s;

	if (!json_is_string(loc) || json_string_value(loc)[0] != '/')
		return;
	s = xasprintf("%s%s", base, json_string_value(loc));
	json_object_set_new(
	    json_object_get(o, "meta"), "location", http_json_str(s));
	free(s);
}

static void
absolute_locations(struct scim_req *q, json_t *doc)
{
	char base[320];
	json_t *list = json_object_get(doc, "Resources"), *r;
	size_t i;

	scim_base_url(q, base, sizeof(base));
	if (json_is_array(list))
		json_array_foreach(list, i, r)
		{
			absolute_location(r, base);
		}
	else
		absolute_location(doc, base);
	if (q->w->location[0] == '/') {
		char rel[sizeof(q->w->location)];
		int n;

		str_copy(rel, q->w->location, sizeof(rel));
		n = snprintf(
		    q->w->location, sizeof(q->w->location), "%s%s", base, rel);
		/* Too long to be absolute: relative is a valid Location. */
		if (n < 0 || (size_t)n >= sizeof(q->w->location))
			str_copy(q->w->location, rel, sizeof(q->w->location));
	}
}

bool
scim_projected(const struct scim_req *q)
{
	return http_query_count(q->r, "attributes") > 0 ||
	    http_query_count(q->r, "excludedAttributes") > 0;
}

void
scim_reply(struct scim_req *q, int status, json_t *doc)
{
	const char *attrs = NULL, *excluded = NULL;
	struct err err = ERR_INIT;

	if (status < 300 && doc != NULL)
		absolute_locations(q, doc);
	if (status < 300 && doc != NULL &&
	    (projection(q, &attrs, &excluded, &err) == 0) &&
	    (attrs != NULL || excluded != NULL)) {
		json_t *list = json_object_get(doc, "Resources"), *r;
		size_t i;

		if (scim_json_has_schema(doc, SCIM_URN_LIST) &&
		    json_is_array(list)) {
			json_array_foreach(list, i, r)
			{
				if (json_is_object(r) &&
				    !scim_json_has_schema(r, SCIM_URN_SCHEMA) &&
				    !scim_json_has_schema(r, SCIM_URN_RTYPE))
					project(r, attrs, excluded);
			}
		} else if (!scim_json_has_schema(doc, SCIM_URN_SPC) &&
		    !scim_json_has_schema(doc, SCIM_URN_SCHEMA) &&
		    !scim_json_has_schema(doc, SCIM_URN_RTYPE))
			project(doc, attrs, excluded);
	}
	http_reply_json(q->w, status, SCIM_MEDIA, doc);
}

void
scim_reply_error(struct http_response *w, int status, const char *scim_type,
    const char *detail)
{
	json_t *o = json_object(), *s = json_array();
	char code[8];

	json_array_append_new(s, json_string(SCIM_URN_ERROR));
	json_object_set_new(o, "schemas", s);
	snprintf(code, sizeof(code), "%d", status);
	json_object_set_new(o, "status", json_string(code));
	if (scim_type != NULL)
		json_object_set_new(o, "scimType", json_string(scim_type));
	json_object_set_new(o, "detail", http_json_str(detail));
	http_reply_json(w, status, SCIM_MEDIA, o);
}

static void
envelope(
    struct scim_req *q, int status, const char *scim_type, const char *detail)
{
	scim_reply_error(q->w, status, scim_type, detail);
}

void
scim_fail(struct scim_req *q, const struct err *err)
{
	const struct err_info *ei = err_info(err->kind);
	const char *detail = err->msg;
	char path[256];

	q->err = *err;
	if (ei->http_status >= 500) {
		log_error("scim: %s %s: %s", q->r->method,
		    log_safe(q->r->path, path, sizeof(path)), err->msg);
		detail = err->kind == ERR_DATABASE ||
			err->kind == ERR_DEADLOCK || err->kind == ERR_TEMP
		    ? "service temporarily unavailable"
		    : "internal error";
	}
	if (err->kind == ERR_DENIED && q->w->www_authenticate[0] == '\0')
		str_copy(q->w->www_authenticate,
		    "Bearer realm=\"postinod\", error=\"invalid_token\"",
		    sizeof(q->w->www_authenticate));
	envelope(q, ei->http_status, ei->scim_type, detail);
}

static void
not_allowed(struct scim_req *q, const char *allow)
{
	char detail[128];

	snprintf(detail, sizeof(detail), "method %s is not supported here",
	    q->r->method);
	str_copy(q->w->allow, allow, sizeof(q->w->allow));
	envelope(q, 405, NULL, detail);
}

/* --- request helpers --------------------------------------------------- */

int
scim_db(struct scim_req *q, struct err *err)
{
	if (q->have_db)
		return 0;
	if (postinod_db_open(q->d,
		q->r->subject[0] != '\0' ? q->r->subject : DEFAULT_ACTOR,
		&q->rdb, err) == -1)
		return -1;
	q->have_db = true;
	return 0;
}

int
scim_body(struct scim_req *q, json_t **root_r, struct err *err)
{
	json_error_t jerr;
	json_t *root;

	*root_r = NULL;
	if (q->r->body == NULL || q->r->body_len == 0)
		return err_set(err, ERR_USAGE, "the request has no body");
	root = json_loadb(
	    q->r->body, q->r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(err, ERR_USAGE,
		    "malformed JSON: %s (line %d, column %d)", jerr.text,
		    jerr.line, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(err, ERR_USAGE, "the body is not a JSON object");
	}
	*root_r = root;
	return 0;
}

const char *
scim_location(const char *resource, const char *id, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o;

	o = (size_t)snprintf(out, size, SCIM_BASE "/%s/", resource);
	for (; *id != '\0' && o + 4 < size; id++) {
		unsigned char c = (unsigned char)*id;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~@:+", c) != NULL)
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o < size)
		out[o] = '\0';
	return out;
}

json_t *
scim_meta_obj(const char *type, const char *created, const char *modified,
    const char *location)
{
	json_t *m = json_object();
	char t[TIMEFMT_MAX];

	json_object_set_new(m, "resourceType", json_string(type));
	if (created != NULL && *timefmt_scim(created, t, sizeof(t)) != '\0')
		json_object_set_new(m, "created", json_string(t));
	if (modified != NULL && *timefmt_scim(modified, t, sizeof(t)) != '\0')
		json_object_set_new(m, "lastModified", json_string(t));
	json_object_set_new(m, "location", http_json_str(location));
	return m;
}

/* --- lists ------------------------------------------------------------- */

static int
int_param(struct scim_req *q, const char *name, int64_t *v, bool *given)
{
	const char *s = http_query(q->r, name);
	struct err err = ERR_INIT;

	*given = false;
	if (s == NULL)
		return 0;
	if (http_query_count(q->r, name) > 1 || str_to_i64(s, v) == -1) {
		err_set(&err, ERR_INVALID,
		    "%s must be given once, as an integer", name);
		scim_fail(q, &err);
		return -1;
	}
	*given = true;
	return 0;
}

int
scim_list_begin(struct scim_req *q, const struct scim_attr *map,
    const char *urn, struct scim_list *l)
{
	struct scim_where *w;
	struct err err = ERR_INIT;
	const char *filter, *sort, *order;
	int64_t v;
	bool given;

	memset(l, 0, sizeof(*l));
	w = xcalloc(1, sizeof(*w));
	scim_where_init(w);
	w->engine = q->d->engine;
	l->where = w;
	l->start = 1;
	l->page.limit = SCIM_COUNT_DEFAULT;
	if (q->r->too_many) {
		err_set(&err, ERR_INVALID, "too many query parameters");
		goto fail;
	}
	if (int_param(q, "startIndex", &v, &given) == -1)
		return -1;
	if (given && v > 1)
		l->start = v;
	if (int_param(q, "count", &v, &given) == -1)
		return -1;
	if (given)
		l->page.limit = v < 0	 ? 0
		    : v > SCIM_COUNT_MAX ? SCIM_COUNT_MAX
					 : v;
	l->page.offset = l->start - 1;
	if ((sort = http_query(q->r, "sortBy")) != NULL) {
		const struct scim_attr *a = scim_attr_find(map, urn, sort);

		if (a == NULL) {
			err_set(
			    &err, ERR_INVALID, "cannot sort by '%.64s'", sort);
			goto fail;
		}
		l->page.order_by = a->sql;
	}
	if ((order = http_query(q->r, "sortOrder")) != NULL) {
		if (str_eq_nocase(order, "descending"))
			l->page.descending = true;
		else if (!str_eq_nocase(order, "ascending")) {
			err_set(&err, ERR_INVALID,
			    "sortOrder is ascending or descending");
			goto fail;
		}
	}
	if ((filter = http_query(q->r, "filter")) != NULL) {
		if (http_query_count(q->r, "filter") > 1) {
			err_set(&err, ERR_BADFILTER, "give one filter");
			scim_fail(q, &err);
			return -1;
		}
		if (scim_filter_compile(filter, map, urn, w, &err) == -1) {
			/* Every filter problem is an invalidFilter to SCIM. */
			if (err.kind == ERR_INVALID || err.kind == ERR_USAGE)
				err.kind = ERR_BADFILTER;
			scim_fail(q, &err);
			return -1;
		}
		l->page.where = buf_cstr(&w->sql);
		l->page.args = w->args;
		l->page.nargs = w->nargs;
	}
	return 0;
fail:
	scim_fail(q, &err);
	return -1;
}

void
scim_list_release(struct scim_list *l)
{
	if (l->where != NULL) {
		scim_where_release(l->where);
		free(l->where);
		l->where = NULL;
	}
}

void
scim_list_reply(struct scim_req *q, const struct scim_list *l, int64_t total,
    json_t *resources)
{
	json_t *o = json_object(), *s = json_array();

	json_array_append_new(s, json_string(SCIM_URN_LIST));
	json_object_set_new(o, "schemas", s);
	json_object_set_new(o, "totalResults", json_integer(total));
	json_object_set_new(o, "itemsPerPage",
	    json_integer((json_int_t)json_array_size(resources)));
	json_object_set_new(o, "startIndex", json_integer(l->start));
	json_object_set_new(o, "Resources", resources);
	scim_reply(q, 200, o);
}

void
scim_list(struct scim_req *q, const struct scim_attr *map, const char *urn,
    scim_list_fn *fn)
{
	struct scim_list l;
	struct err err = ERR_INIT;
	json_t *res;
	int64_t total = 0;

	if (scim_list_begin(q, map, urn, &l) == -1)
		goto out;
	res = json_array();
	if (scim_db(q, &err) == -1 ||
	    fn(&q->rdb.m, &l.page, res, &total, &err) == -1) {
		json_decref(res);
		scim_fail(q, &err);
		goto out;
	}
	scim_list_reply(q, &l, total, res);
out:
	scim_list_release(&l);
}

/* --- authentication ---------------------------------------------------- */

static EVP_PKEY *
key_lookup(void *arg, const char *kid, const char *alg, struct err *err)
{
	return jwks_key(arg, kid, alg, time(NULL), err);
}

static int
authenticate(struct scim_req *q, struct err *err)
{
	const char *h = http_header(q->r, "Authorization");
	struct jwt_claims cl;
	char safe[JWT_SUB_MAX * 3];

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		str_copy(q->w->www_authenticate, "Bearer realm=\"postinod\"",
		    sizeof(q->w->www_authenticate));
		return err_set(err, ERR_DENIED, "missing bearer token");
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (jwt_verify(h, &q->d->policy, time(NULL), key_lookup, q->d->jwks,
		&cl, err) == -1) {
		if (err->kind == ERR_DENIED)
			log_info("scim: token refused from %s: %s",
			    q->r->remote, err->msg);
		return -1;
	}
	/* The subject becomes the audit actor: keep it printable. */
	log_safe(
	    cl.sub[0] != '\0' ? cl.sub : DEFAULT_ACTOR, safe, sizeof(safe));
	str_copy(q->r->subject, safe, sizeof(q->r->subject));
	return 0;
}

/* --- routing ----------------------------------------------------------- */

static bool
is(const struct scim_req *q, const char *method)
{
	return strcmp(q->r->method, method) == 0;
}

static void
route(struct scim_req *q, const char *rest)
{
	char res[32];
	const char *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	struct err err = ERR_INIT;

	if (n == 0 || n >= sizeof(res))
		goto notfound;
	memcpy(res, rest, n);
	res[n] = '\0';
	if (slash != NULL) {
		q->id = slash + 1;
		if (*q->id == '\0' || strchr(q->id, '/') != NULL)
			goto notfound;
		/*
		 * "victim@example.org%00.evil" must not become the victim:
		 * the unescaper leaves control bytes escaped, refused here.
		 */
		if (http_has_control(q->id)) {
			err_set(&err, ERR_INVALID,
			    "the resource id contains a control character");
			scim_fail(q, &err);
			return;
		}
	}
	if (strcmp(res, "Users") == 0 || strcmp(res, "Aliases") == 0) {
		bool put = res[0] == 'U' && is(q, "PUT");

		if (q->id == NULL && !is(q, "GET") && !is(q, "POST"))
			not_allowed(q, "GET, POST");
		else if (q->id != NULL && !is(q, "GET") && !is(q, "PATCH") &&
		    !is(q, "DELETE") && !put)
			not_allowed(q,
			    res[0] == 'U' ? "GET, PUT, PATCH, DELETE"
					  : "GET, PATCH, DELETE");
		else if (res[0] == 'U')
			scim_users(q);
		else
			scim_aliases(q);
		return;
	}
	if (strcmp(res, "Domains") == 0) {
		if (!is(q, "GET"))
			not_allowed(q, "GET");
		else
			scim_domains(q);
		return;
	}
	if (strcmp(res, "ServiceProviderConfig") == 0 ||
	    strcmp(res, "ResourceTypes") == 0 || strcmp(res, "Schemas") == 0) {
		if (q->id != NULL && res[0] == 'S' && res[1] == 'e')
			goto notfound;
		if (!is(q, "GET"))
			not_allowed(q, "GET");
		else
			scim_meta(q, res);
		return;
	}
notfound:
	err_set(&err, ERR_NOTFOUND, "no such endpoint");
	scim_fail(q, &err);
}

void
scim_dispatch(
    struct postinod *d, struct http_request *r, struct http_response *w)
{
	struct scim_req q;
	struct err err = ERR_INIT;

	memset(&q, 0, sizeof(q));
	q.d = d;
	q.r = r;
	q.w = w;
	if (authenticate(&q, &err) == -1) {
		scim_fail(&q, &err);
		return;
	}
	{
		const char *a, *x;

		/* Refused before anything changes, never silently ignored. */
		if (projection(&q, &a, &x, &err) == -1) {
			scim_fail(&q, &err);
			return;
		}
	}
	route(&q, r->path + strlen(SCIM_BASE "/"));
	if (q.have_db)
		postinod_db_close(
		    d, &q.rdb, q.err.kind != ERR_OK ? &q.err : NULL);
}
