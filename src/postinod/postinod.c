#include <string.h>

#include "log.h"
#include "postinod.h"
#include "scim.h"
#include "strutil.h"
#include "banned.h"

int
postinod_db_open(
    struct postinod *d, const char *actor, struct reqdb *rdb, struct err *err)
{
	memset(rdb, 0, sizeof(*rdb));
	if (pool_get(d->pool, &rdb->db, err) == -1)
		return -1;
	str_copy(rdb->actor, actor, sizeof(rdb->actor));
	model_init(&rdb->m, rdb->db, d->conf, rdb->actor);
	return 0;
}

void
postinod_db_close(struct postinod *d, struct reqdb *rdb, const struct err *err)
{
	pool_put(d->pool, rdb->db,
	    err != NULL &&
		(err->kind == ERR_DATABASE || err->kind == ERR_INTERNAL));
	rdb->db = NULL;
}

static void
healthz(struct http_response *w)
{
	json_t *o = json_object();

	json_object_set_new(o, "status", json_string("ok"));
	http_reply_json(w, 200, "application/json", o);
}

static void
readyz(struct postinod *d, struct http_response *w)
{
	struct reqdb rdb;
	struct err err = ERR_INIT;
	int64_t one = 0;
	json_t *o;

	if (postinod_db_open(d, "postinod", &rdb, &err) == 0) {
		if (db_query_int(rdb.db, "SELECT 1", NULL, 0, &one, &err) ==
			0 &&
		    one != 1)
			err_set(&err, ERR_DATABASE, "SELECT 1 did not say 1");
		postinod_db_close(d, &rdb, one == 1 ? NULL : &err);
	}
	if (one != 1) {
		log_warnx("readyz: %s", err.msg);
		http_reply_error(
		    w, 503, "not_ready", "the database does not answer");
		return;
	}
	o = json_object();
	json_object_set_new(o, "status", json_string("ready"));
	http_reply_json(w, 200, "application/json", o);
}

static void
not_allowed(struct http_response *w, const char *allow)
{
	str_copy(w->allow, allow, sizeof(w->allow));
	http_reply_error(w, 405, "method_not_allowed",
	    "use the methods in the Allow header");
}

void
postinod_refuse(void *arg, const char *path, struct http_response *w,
    int status, const char *detail)
{
	(void)arg;
	if (path != NULL && str_prefix(path, SCIM_BASE "/"))
		scim_reply_error(w, status, NULL, detail);
	else
		http_reply_error(
		    w, status, status == 413 ? "too_large" : "error", detail);
}

void
postinod_handle(void *arg, struct http_request *r, struct http_response *w)
{
	struct postinod *d = arg;
	bool get =
	    strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

	if (strcmp(r->path, "/healthz") == 0) {
		if (get)
			healthz(w);
		else
			not_allowed(w, "GET");
	} else if (strcmp(r->path, "/readyz") == 0) {
		if (get)
			readyz(d, w);
		else
			not_allowed(w, "GET");
	} else if (strcmp(r->path, "/zitadel/events") == 0) {
		if (strcmp(r->method, "POST") == 0)
			webhook_handle(d, r, w);
		else
			not_allowed(w, "POST");
	} else if (str_prefix(r->path, SCIM_BASE "/"))
		scim_dispatch(d, r, w);
	else
		http_reply_error(w, 404, "not_found", "no such endpoint");
}
