/*
 * postinod: the daemon's shared state and its request router.
 *
 * One struct postinod is built by main() at start-up and lives until exit;
 * request handlers only read it (the pool and the key cache lock
 * themselves).  postinod_handle() is the server's handler: it routes
 * /healthz, /readyz, /zitadel/events and /scim/v2/... and answers 404 or
 * 405 for anything else.
 *
 * A handler that needs the database borrows a connection with
 * postinod_db_open(), which also sets up a struct model whose audit actor
 * is the caller's (the JWT sub, "zitadel:<user>"), and gives it back with
 * postinod_db_close(); a connection whose last error was ERR_DATABASE is
 * not reused.
 */
#ifndef POSTINOD_POSTINOD_H
#define POSTINOD_POSTINOD_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "http.h"
#include "jwks.h"
#include "jwt.h"
#include "model.h"
#include "pool.h"
#include "webhook.h"

struct postinod {
	const struct postino_conf *conf;
	struct pool *pool;
	enum db_engine engine; /* the pool's, for the SQL SCIM filters write */
	struct jwks *jwks;
	struct jwt_policy policy;
	struct webhook_keys hooks;
	int64_t replay_window; /* seconds */
};

/* A borrowed connection and the model over it, for one request. */
struct reqdb {
	struct db *db;
	struct model m;
	char actor[JWT_SUB_MAX + 16];
};

int postinod_db_open(
    struct postinod *, const char *actor, struct reqdb *, struct err *);
/* err: the request's last error (NULL when it succeeded). */
void postinod_db_close(struct postinod *, struct reqdb *, const struct err *);

/* The server's handler: arg is the struct postinod. */
void postinod_handle(void *arg, struct http_request *, struct http_response *);
/* The server's refuse hook: the SCIM error envelope under /scim/v2/. */
void postinod_refuse(void *arg, const char *path, struct http_response *,
    int status, const char *detail);

#endif
