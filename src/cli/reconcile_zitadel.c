/*
 * postino reconcile --source zitadel: every human user of a Zitadel
 * instance, read through its user service v2 (zitadel.user.v2.UserService
 * ListUsers, "POST /v2/users" in its HTTP/JSON mapping; "/v2beta/users" on
 * instances older than the v2 API, tried when /v2/users answers 404).
 *
 * The request is a ListUsersRequest: query {offset, limit, asc: true},
 * sortingColumn USER_FIELD_NAME_CREATION_DATE (so that a user added while
 * the pages are read lands on the last page), and queries typeQuery
 * TYPE_HUMAN plus, with [zitadel] organization_id, organizationIdQuery.
 * The answer's details.totalResult (a uint64, a JSON string) says when
 * the last page is read; a total that changes between pages fails the
 * run (users changed while being read: run it again), so the comparison
 * never works on half a listing.
 *
 * A Zitadel person is one User with "human":
 *   subject  userId, under the issuer "zitadel:<instance id>" that the
 *            webhook uses ([zitadel] instance_id, else the one instance
 *            the identity table already names)
 *   address  human.email.email (the address user.human.added carries,
 *            from which the webhook creates the mailbox), else
 *            preferredLoginName when it is an address
 *   others   username, preferredLoginName and loginNames, to find a
 *            mailbox not tied yet
 *   name     "givenName familyName" of human.profile, as the webhook joins
 *            firstName and lastName; displayName when both are empty
 *   active   state USER_STATE_ACTIVE, _INITIAL (not logged in yet) and
 *            _LOCKED (too many wrong passwords: temporary, the webhook
 *            does nothing on it); USER_STATE_INACTIVE and _DELETED are
 *            not; any other state is skipped and counted
 * Machine users and users without an address are skipped and counted.
 *
 * The token (a service user's personal access token or an access token
 * obtained for it) comes from [zitadel] token_file, else from
 * $POSTINO_ZITADEL_TOKEN; never from argv.  It is sent only to the
 * configured URL (redirects are not followed), never printed, and wiped
 * from memory after the last request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#include "buf.h"
#include "reconcile.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define TOKEN_MAX 16384
#define PAGE_BODY_MAX (32u * 1024u * 1024u)
#define USERS_MAX 10000000ULL

#ifdef HAVE_CURL

/* The one instance the identity table names, for an unset instance_id. */
struct instances {
	char first[IDENTITY_ISSUER_MAX];
	bool several;
};

static int
instance_one(void *arg, const struct identity_rec *ir)
{
	struct instances *in = arg;
	size_t pl = strlen(IDENTITY_ZITADEL_PREFIX);

	if (strncmp(ir->issuer, IDENTITY_ZITADEL_PREFIX, pl) != 0)
		return 0;
	if (in->first[0] == '\0')
		str_copy(in->first, ir->issuer, sizeof(in->first));
	else if (strcmp(in->first, ir->issuer) != 0)
		in->several = true;
	return 0;
}

static int
issuer_of(struct cli *c, char *issuer, size_t size, struct err *err)
{
	struct instances in;

	if (c->conf.zitadel.instance_id[0] != '\0') {
		snprintf(issuer, size, "%s%s", IDENTITY_ZITADEL_PREFIX,
		    c->conf.zitadel.instance_id);
		return identity_valid(issuer, "x", err);
	}
	memset(&in, 0, sizeof(in));
	if (identity_foreach(&c->model, NULL, instance_one, &in, err) == -1)
		return -1;
	if (in.first[0] == '\0' || in.several) {
		err_set(err, ERR_CONFIG,
		    in.several
			? "[zitadel] instance_id is not set and the identity table names several Zitadel instances"
			: "[zitadel] instance_id is not set and no mailbox is tied to a Zitadel user yet");
		return err_hint(err,
		    "set instance_id in the [zitadel] table of postino.toml to the instance's id (the instanceID of its webhook events)");
	}
	str_copy(issuer, in.first, size);
	return 0;
}

struct client {
	CURL *h;
	struct curl_slist *hdr;
	struct buf body;
	char url[1024];	  /* the ListUsers URL in use */
	char base[512];	  /* [zitadel] url, without a trailing slash */
	char where[1100]; /* "POST URL", for messages */
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, data, size * n) == -1)
		return 0; /* too large: CURLE_WRITE_ERROR */
	return size * n;
}

/* Read the token: token_file, else $POSTINO_ZITADEL_TOKEN.  Caller wipes. */
static int
read_token(struct cli *c, char *tok, size_t size, struct err *err)
{
	const char *path = c->conf.zitadel.token_file, *env;
	size_t len = 0;

	tok[0] = '\0';
	if (path[0] != '\0') {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		ssize_t got;

		if (fd == -1)
			return err_set(err, ERR_CONFIG,
				   "cannot open [zitadel] token_file '%s': %s",
				   path, strerror(errno)),
			       err_hint(err,
				   "write the service user's access token into it, readable by this user only");
		if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
			cli_warnf(c,
			    "[zitadel] token_file '%s' may be read by other users; chmod 600 it",
			    path);
		while (len + 1 < size &&
		    (got = read(fd, tok + len, size - 1 - len)) > 0)
			len += (size_t)got;
		close(fd);
		if (len + 1 >= size)
			return err_set(err, ERR_CONFIG,
			    "[zitadel] token_file '%s' is larger than %zu bytes; it should hold one token",
			    path, size - 2);
		tok[len] = '\0';
	} else if ((env = getenv("POSTINO_ZITADEL_TOKEN")) != NULL) {
		if (strlen(env) + 1 >= size)
			return err_set(err, ERR_CONFIG,
			    "POSTINO_ZITADEL_TOKEN is longer than %zu bytes",
			    size - 2);
		str_copy(tok, env, size);
	} else
		return err_set(err, ERR_CONFIG,
			   "no Zitadel token: [zitadel] token_file is not set and POSTINO_ZITADEL_TOKEN is empty"),
		       err_hint(err,
			   "create a personal access token for a service user that may read users, and name the file holding it in [zitadel] token_file");
	/* Trim the newline an editor adds; nothing else may be blank. */
	len = strlen(tok);
	while (len > 0 &&
	    (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
		tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		tok[--len] = '\0';
	if (len == 0)
		return err_set(err, ERR_CONFIG, "the Zitadel token is empty");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)tok[i] <= ' ' || tok[i] == 0x7f)
			return err_set(err, ERR_CONFIG,
			    "the Zitadel token holds a blank or control character at byte %zu; the file should hold the token alone",
			    i + 1);
	return 0;
}

/* Whether the host of "HOST[:PORT][/...]" is a loopback address. */
static bool
loopback(const char *h)
{
	static const char *const names[] = { "localhost", "127.", "[::1]",
		NULL };

	for (const char *const *n = names; *n != NULL; n++)
		if (strncmp(h, *n, strlen(*n)) == 0)
			return strcmp(*n, "127.") == 0 ||
			    strchr(":/", h[strlen(*n)]) != NULL ||
			    h[strlen(*n)] == '\0';
	return false;
}

static int
client_init(struct cli *c, struct client *cl, struct err *err)
{
	char tok[TOKEN_MAX], *auth;
	const struct postino_conf *cf = &c->conf;
	size_t n;
	int rc;

	memset(cl, 0, sizeof(*cl));
	buf_init(&cl->body, PAGE_BODY_MAX);
	str_copy(cl->base, cf->zitadel.url, sizeof(cl->base));
	n = strlen(cl->base);
	while (n > 0 && cl->base[n - 1] == '/')
		cl->base[--n] = '\0';
	snprintf(cl->url, sizeof(cl->url), "%s/v2/users", cl->base);
	if (strncmp(cl->base, "http://", 7) == 0 && !loopback(cl->base + 7))
		cli_warnf(c,
		    "[zitadel] url is plain http: the token crosses the network in the clear; use https");
	snprintf(cl->where, sizeof(cl->where), "POST %s", cl->url);
	if ((rc = read_token(c, tok, sizeof(tok), err)) == 0) {
		auth = xasprintf("Authorization: Bearer %s", tok);
		cl->hdr = curl_slist_append(NULL, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	explicit_bzero(tok, sizeof(tok));
	if (rc == -1)
		return -1;
	cl->hdr = curl_slist_append(cl->hdr, "Content-Type: application/json");
	cl->hdr = curl_slist_append(cl->hdr, "Accept: application/json");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cl->hdr == NULL || (cl->h = curl_easy_init()) == NULL)
		return err_set(
		    err, ERR_INTERNAL, "cannot create a curl handle");
	curl_easy_setopt(cl->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    cl->h, CURLOPT_TIMEOUT, (long)cf->zitadel.timeout_seconds);
	curl_easy_setopt(
	    cl->h, CURLOPT_CONNECTTIMEOUT, (long)cf->zitadel.timeout_seconds);
	curl_easy_setopt(cl->h, CURLOPT_USERAGENT, "postino/" POSTINO_VERSION);
	curl_easy_setopt(cl->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(cl->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(cl->h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(cl->h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cf->zitadel.ca_file[0] != '\0')
		curl_easy_setopt(cl->h, CURLOPT_CAINFO, cf->zitadel.ca_file);
	if (cf->zitadel.ca_path[0] != '\0')
		curl_easy_setopt(cl->h, CURLOPT_CAPATH, cf->zitadel.ca_path);
	curl_easy_setopt(cl->h, CURLOPT_HTTPHEADER, cl->hdr);
	curl_easy_setopt(cl->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cl->h, CURLOPT_WRITEDATA, &cl->body);
	return 0;
}

static void
client_release(struct client *cl)
{
	for (struct curl_slist *s = cl->hdr; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(cl->hdr);
	if (cl->h != NULL)
		curl_easy_cleanup(cl->h);
	buf_release(&cl->body);
}

/* The message of a google.rpc.Status answer, made printable. */
static void
status_message(const struct buf *b, char *out, size_t size)
{
	json_t *o = json_loadb(b->data, b->len, 0, NULL);
	const char *m = json_string_value(json_object_get(o, "message"));

	out[0] = '\0';
	if (m != NULL) {
		snprintf(out, size, ": %s", m);
		for (char *p = out; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	json_decref(o);
}

/* One page: 0 with *root, or -1 with err; *gone set on 404. */
static int
post(struct client *cl, const char *req, json_t **root, bool *gone,
    struct err *err)
{
	char msg[300];
	json_error_t je;
	long status = 0;
	CURLcode rc;

	*root = NULL;
	*gone = false;
	buf_reset(&cl->body);
	curl_easy_setopt(cl->h, CURLOPT_URL, cl->url);
	curl_easy_setopt(cl->h, CURLOPT_POSTFIELDS, req);
	rc = curl_easy_perform(cl->h);
	if (rc == CURLE_WRITE_ERROR)
		return err_set(err, ERR_TEMP,
			   "zitadel: the answer to %s is larger than %u bytes",
			   cl->where, PAGE_BODY_MAX),
		       err_hint(err, "lower [zitadel] page_size");
	if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
		return err_set(err, ERR_CONFIG, "zitadel: %s: %s", cl->where,
			   curl_easy_strerror(rc)),
		       err_hint(err,
			   "name the CA that signed the server's certificate in [zitadel] ca_file");
	if (rc != CURLE_OK)
		return err_set(err, ERR_TEMP, "zitadel: %s: %s", cl->where,
			   curl_easy_strerror(rc)),
		       err_hint(err,
			   "nothing was changed; check [zitadel] url and try again");
	curl_easy_getinfo(cl->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		status_message(&cl->body, msg, sizeof(msg));
	switch (status) {
	case 200:
		break;
	case 401:
		return err_set(err, ERR_DENIED,
			   "zitadel: %s: 401 Unauthorized%s", cl->where, msg),
		       err_hint(err,
			   "the token was refused (expired or revoked?); put a valid access token of the service user into [zitadel] token_file");
	case 403:
		return err_set(err, ERR_DENIED, "zitadel: %s: 403 Forbidden%s",
			   cl->where, msg),
		       err_hint(err,
			   "the service user may not read users; give it a manager role that can (Org User Manager, or IAM Owner Viewer for every organization)");
	case 404:
	case 501:
		*gone = true;
		return err_set(err, ERR_CONFIG, "zitadel: %s: %ld%s", cl->where,
			   status, msg),
		       err_hint(err,
			   "set [zitadel] url to the instance's base URL (https://auth.example.org), the API paths are added to it");
	default:
		if (status >= 500 || status == 429)
			return err_set(err, ERR_TEMP, "zitadel: %s: %ld%s",
				   cl->where, status, msg),
			       err_hint(err,
				   "the server failed; nothing was changed; try again later");
		return err_set(err, ERR_INVALID, "zitadel: %s: %ld%s",
			   cl->where, status, msg),
		       err_hint(err,
			   "the server refused the request; check [zitadel] url, organization_id and page_size (at most the server's limit, 1000 by default)");
	}
	*root = json_loadb(
	    cl->body.data, cl->body.len, JSON_REJECT_DUPLICATES, &je);
	if (*root == NULL || !json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return err_set(err, ERR_TEMP,
			   "zitadel: the answer to %s is not a JSON object (%s, at byte %d of %zu)",
			   cl->where, je.text, je.position, cl->body.len),
		       err_hint(err,
			   "the answer may have been cut short; nothing was changed; try again");
	}
	return 0;
}

/* A uint64 of the answer: a JSON string of digits (or a number). */
static int
juint(json_t *v, unsigned long long *out)
{
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (unsigned long long)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || *(s = json_string_value(v)) < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
is_address(const char *s)
{
	return s != NULL && strchr(s, '@') != NULL;
}

/* One User of result[] into a person, or skipped.  0 or -1 (shape). */
static int
user_person(
    struct people *pp, json_t *u, const char *where, size_t i, struct err *err)
{
	json_t *h = json_object_get(u, "human"), *prof, *ln;
	const char *id = jstr(u, "userId"), *state = jstr(u, "state");
	const char *email, *pref = jstr(u, "preferredLoginName");
	const char *given, *family, *display, *addr;
	char name[512];
	struct person *p;
	bool active;
	size_t k;

	if (!json_is_object(u) || id == NULL || *id == '\0')
		return err_set(err, ERR_INVALID,
			   "zitadel: unexpected answer to %s: result[%zu] has no userId",
			   where, i),
		       err_hint(err,
			   "is [zitadel] url a Zitadel instance? nothing was changed");
	if (!json_is_object(h)) {
		pp->skipped++; /* a machine user */
		return 0;
	}
	if (state == NULL)
		state = "USER_STATE_UNSPECIFIED";
	if (strcmp(state, "USER_STATE_ACTIVE") == 0 ||
	    strcmp(state, "USER_STATE_INITIAL") == 0 ||
	    strcmp(state, "USER_STATE_LOCKED") == 0)
		active = true;
	else if (strcmp(state, "USER_STATE_INACTIVE") == 0 ||
	    strcmp(state, "USER_STATE_DELETED") == 0)
		active = false;
	else {
		pp->skipped++;
		return 0;
	}
	email = jstr(json_object_get(h, "email"), "email");
	addr = is_address(email) ? email : is_address(pref) ? pref : NULL;
	if (addr == NULL || identity_valid(pp->issuer, id, err) == -1) {
		err_clear(err);
		pp->skipped++;
		return 0;
	}
	prof = json_object_get(h, "profile");
	given = jstr(prof, "givenName");
	family = jstr(prof, "familyName");
	display = jstr(prof, "displayName");
	if (given == NULL)
		given = "";
	if (family == NULL)
		family = "";
	snprintf(name, sizeof(name), "%s%s%s", given,
	    *given != '\0' && *family != '\0' ? " " : "", family);
	if (name[0] == '\0' && display != NULL)
		str_copy(name, display, sizeof(name));
	p = people_add(pp, addr, id, name, active);
	p->given = xstrdup(given);
	p->family = xstrdup(family);
	if (is_address(jstr(u, "username")))
		people_alt(p, jstr(u, "username"));
	if (is_address(pref))
		people_alt(p, pref);
	json_array_foreach(json_object_get(u, "loginNames"), k, ln)
	{
		if (is_address(json_string_value(ln)))
			people_alt(p, json_string_value(ln));
	}
	return 0;
}

static char *
list_request(struct cli *c, unsigned long long offset)
{
	json_t *req = json_object(), *q = json_object(), *qs = json_array();
	json_t *t = json_object(), *o;
	char off[32], *s;

	snprintf(off, sizeof(off), "%llu", offset);
	json_object_set_new(q, "offset", json_string(off));
	json_object_set_new(
	    q, "limit", json_integer((json_int_t)c->conf.zitadel.page_size));
	json_object_set_new(q, "asc", json_true());
	json_object_set_new(req, "query", q);
	json_object_set_new(
	    req, "sortingColumn", json_string("USER_FIELD_NAME_CREATION_DATE"));
	json_object_set_new(t, "type", json_string("TYPE_HUMAN"));
	o = json_object();
	json_object_set_new(o, "typeQuery", t);
	json_array_append_new(qs, o);
	if (c->conf.zitadel.organization_id[0] != '\0') {
		json_t *org = json_object();

		json_object_set_new(org, "organizationId",
		    json_string(c->conf.zitadel.organization_id));
		o = json_object();
		json_object_set_new(o, "organizationIdQuery", org);
		json_array_append_new(qs, o);
	}
	json_object_set_new(req, "queries", qs);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

static int
read_all(struct cli *c, struct client *cl, struct people *pp, struct err *err)
{
	unsigned long long offset = 0, total = 0, t;
	bool first = true, gone;

	for (;;) {
		char *req = list_request(c, offset);
		json_t *root, *res, *u;
		size_t i, got;
		int rc;

		rc = post(cl, req, &root, &gone, err);
		if (rc == -1 && gone && first &&
		    strstr(cl->url, "/v2/users") != NULL) {
			/* An instance older than the v2 API. */
			snprintf(cl->url, sizeof(cl->url), "%s/v2beta/users",
			    cl->base);
			snprintf(
			    cl->where, sizeof(cl->where), "POST %s", cl->url);
			err_clear(err);
			rc = post(cl, req, &root, &gone, err);
		}
		free(req);
		if (rc == -1)
			return -1;
		res = json_object_get(root, "result");
		if ((res != NULL && !json_is_array(res)) ||
		    juint(json_object_get(
			      json_object_get(root, "details"), "totalResult"),
			&t) == -1) {
			json_decref(root);
			return err_set(err, ERR_INVALID,
				   "zitadel: unexpected answer to %s: no details.totalResult or result array",
				   cl->where),
			       err_hint(err,
				   "is [zitadel] url a Zitadel instance? nothing was changed");
		}
		if (first)
			total = t;
		else if (t != total) {
			json_decref(root);
			return err_set(err, ERR_TEMP,
				   "zitadel: the users changed while they were read (%llu, then %llu); nothing was changed",
				   total, t),
			       err_hint(err, "run it again");
		}
		first = false;
		if (total > USERS_MAX) {
			json_decref(root);
			return err_set(err, ERR_TOOLARGE,
			    "zitadel: %llu users, more than %llu", total,
			    USERS_MAX);
		}
		json_array_foreach(res, i, u)
		{
			if (user_person(pp, u, cl->where, (size_t)offset + i,
				err) == -1) {
				json_decref(root);
				return -1;
			}
		}
		got = json_array_size(res);
		offset += got;
		json_decref(root);
		if (offset >= total)
			return 0;
		if (got == 0)
			return err_set(err, ERR_TEMP,
				   "zitadel: %s answered no users at offset %llu of %llu; nothing was changed",
				   cl->where, offset, total),
			       err_hint(err, "run it again");
	}
}

int
reconcile_zitadel(struct cli *c, struct people *pp, struct err *err)
{
	struct client cl;
	int rc;

	if (c->conf.zitadel.url[0] == '\0')
		return err_set(err, ERR_CONFIG, "[zitadel] url is not set"),
		       err_hint(err,
			   "set url (the instance's base URL) and token_file in the [zitadel] table of postino.toml");
	if (issuer_of(c, pp->issuer, sizeof(pp->issuer), err) == -1)
		return -1;
	pp->keep_names = true;
	pp->link = true;
	pp->whole_issuer = c->conf.zitadel.organization_id[0] == '\0';
	snprintf(pp->source, sizeof(pp->source), "zitadel");
	rc = client_init(c, &cl, err);
	if (rc == 0)
		rc = read_all(c, &cl, pp, err);
	client_release(&cl);
	if (rc == -1)
		people_release(pp);
	return rc;
}

#else

int
reconcile_zitadel(struct cli *c, struct people *pp, struct err *err)
{
	(void)c;
	(void)pp;
	return err_set(err, ERR_UNSUPPORTED,
	    "this postino was built without libcurl: --source zitadel is not available");
}

#endif
