/*
 * scim: the SCIM 2.0 service under /scim/v2 (RFC 7643, RFC 7644).
 *
 * scim_dispatch() authenticates the bearer token (jwt.h, keys from
 * jwks.h), then routes to the resource handlers: Users (scim_users.c),
 * Aliases and Domains (postino's extension resources, scim_aliases.c and
 * scim_domains.c) and the discovery endpoints (scim_meta.c).  Handlers
 * parse, call the model, and render; every rule (addresses, capacity,
 * identity backends, audit rows) is the model's.
 *
 * Errors use the SCIM error envelope and media type, 401 included:
 * status from err_info(kind)->http_status and scimType from the same
 * table, except for the three keywords the table cannot know, which the
 * handler names: invalidFilter (bad filter), invalidPath (bad PATCH path)
 * and invalidSyntax (a body that is not the JSON asked for).  5xx details
 * are logged, not sent.
 *
 * Lists: startIndex (1-based; below 1 means 1) and count (default
 * SCIM_COUNT_DEFAULT, clamped to 0..SCIM_COUNT_MAX), sortBy/sortOrder on
 * any filterable attribute; paging is done by the database.
 *
 * struct scim_req lives on the dispatcher's stack for one request; its
 * model (and connection) is borrowed from the pool for that request only.
 */
#ifndef POSTINOD_SCIM_H
#define POSTINOD_SCIM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "http.h"
#include "postinod.h"
#include "scim_query.h"

#define SCIM_MEDIA "application/scim+json"
#define SCIM_BASE "/scim/v2"
#define SCIM_COUNT_DEFAULT 100
#define SCIM_COUNT_MAX 200

#define SCIM_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_URN_ALIAS "urn:postino:params:scim:schemas:core:2.0:Alias"
#define SCIM_URN_DOMAIN "urn:postino:params:scim:schemas:core:2.0:Domain"
#define SCIM_URN_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_URN_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_URN_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_URN_SPC                                                           \
	"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_URN_RTYPE "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_URN_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"

struct scim_req {
	struct postinod *d;
	struct http_request *r;
	struct http_response *w;
	const char *id; /* after "/Resource/", or NULL */
	struct reqdb rdb;
	bool have_db;
	struct err err; /* the last error, for the pool */
};

void scim_dispatch(
    struct postinod *, struct http_request *, struct http_response *);

/* Resource handlers (method and id already split by the dispatcher). */
void scim_users(struct scim_req *);
void scim_aliases(struct scim_req *);
void scim_domains(struct scim_req *);
/* endpoint: "ServiceProviderConfig", "ResourceTypes" or "Schemas". */
void scim_meta(struct scim_req *, const char *endpoint);

/* --- helpers for the handlers (scim.c) ------------------------------- */

/*
 * Answer with the error envelope for err: its status and scimType come from
 * the error-kind table (lib/err.h).
 */
void scim_fail(struct scim_req *, const struct err *);
/*
 * The SCIM error envelope (RFC 7644 section 3.12) on w, for errors
 * answered outside a request (the server's 413).  scim_type may be NULL.
 */
void scim_reply_error(struct http_response *w, int status,
    const char *scim_type, const char *detail);
/* Answer status with doc (stolen) as application/scim+json. */
void scim_reply(struct scim_req *, int status, json_t *doc);
/* Borrow the database for this request (actor = the token's sub). */
int scim_db(struct scim_req *, struct err *);
/*
 * The request body as a JSON object (*root_r, decref it).  -1 with err:
 * ERR_USAGE for a missing body or bad JSON (answer invalidSyntax).
 */
int scim_body(struct scim_req *, json_t **root_r, struct err *);
/*
 * The absolute base of meta.location: postinod.public_url, else the
 * listener's scheme and the request's Host.
 */
void scim_base_url(const struct scim_req *, char *out, size_t size);
/* Whether the request names attributes= or excludedAttributes=. */
bool scim_projected(const struct scim_req *);
/* "/scim/v2/<resource>/<percent-encoded id>" into out. */
const char *scim_location(
    const char *resource, const char *id, char *out, size_t size);
/* {"resourceType","created","lastModified","location"}. */
json_t *scim_meta_obj(const char *type, const char *created,
    const char *modified, const char *location);

/*
 * The paging, sorting and filter parameters of a list request, compiled
 * into a page for scim_query.h.  Returns 0; -1 after answering the error
 * itself.  Release with scim_list_release().
 */
struct scim_list {
	struct scim_page page;
	int64_t start; /* 1-based */
	void *where;   /* struct scim_where */
};
int scim_list_begin(struct scim_req *, const struct scim_attr *map,
    const char *urn, struct scim_list *);
void scim_list_release(struct scim_list *);
/* Send the ListResponse envelope around resources (stolen). */
void scim_list_reply(struct scim_req *, const struct scim_list *, int64_t total,
    json_t *resources);
/*
 * One page of a resource type: append the JSON of each row of page to res
 * (an array), the count of all matching rows in *total_r.  0, or -1 with
 * err.
 */
typedef int scim_list_fn(struct model *, const struct scim_page *page,
    json_t *res, int64_t *total_r, struct err *);
/*
 * Answer a list request (GET on a collection) whole: parameters for map
 * and urn, the rows from fn, the ListResponse or the error.
 */
void scim_list(struct scim_req *, const struct scim_attr *map, const char *urn,
    scim_list_fn *fn);

#endif
