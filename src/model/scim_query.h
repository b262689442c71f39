/*
 * scim_query: the paged, filtered listings postinod's SCIM endpoints
 * serve, done by the database: COUNT(*) for totalResults, ORDER BY, and
 * LIMIT/OFFSET with bound values for the page.  Nothing is filtered or
 * paged in memory.
 *
 * The attribute maps below are the one place that says which SCIM
 * attribute is which column (or column expression).  postinod's filter
 * compiler (src/postinod/scim_filter.c) turns a client's filter into a
 * WHERE condition built only from the map's `sql` strings, '?'
 * placeholders and AND/OR/NOT/parentheses; the client's values travel as
 * bound parameters.  struct scim_page carries that condition here: its
 * `where` and `order_by` must come from a map, never from client text.
 *
 * Records handed to the callbacks are the model's own (mailbox_rec,
 * alias_rec, domain_rec), valid only during the call.
 */
#ifndef POSTINO_SCIM_QUERY_H
#define POSTINO_SCIM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alias.h"
#include "db.h"
#include "domain.h"
#include "mailbox.h"
#include "model.h"

/* The URN of postino's mailbox extension to the core User schema. */
#define SCIM_SCHEMA_MAILBOX                                                    \
	"urn:postino:params:scim:schemas:extension:mailbox:2.0:User"

enum scim_attr_type {
	SCIM_T_STRING,
	SCIM_T_BOOLEAN,
	SCIM_T_INTEGER,
	SCIM_T_DATETIME, /* stored as local "YYYY-MM-DD HH:MM:SS" */
};

enum scim_attr_flags {
	SCIM_A_LOWER = 1 << 0, /* stored lower-cased: lower the value */
	SCIM_A_CI = 1 << 1,    /* compare with LOWER() on both sides */
};

struct scim_attr {
	const char *name; /* SCIM path, matched case-insensitively */
	const char *sql;  /* column or expression */
	enum scim_attr_type type;
	unsigned flags;
};

/* NULL-name terminated maps, one per resource. */
extern const struct scim_attr scim_user_attrs[];
extern const struct scim_attr scim_alias_attrs[];
extern const struct scim_attr scim_domain_attrs[];

struct scim_page {
	const char *where;	   /* NULL or "" = every row */
	const struct db_arg *args; /* for the '?' in where */
	size_t nargs;
	const char *order_by; /* a map's sql, NULL = the key */
	bool descending;
	int64_t offset; /* rows to skip, >= 0 */
	int64_t limit;	/* rows to return, 0 = count only */
};

/*
 * Count the matching rows into *total_r and call fn for each row of the
 * page.  Users include disabled mailboxes; aliases exclude the plain
 * self-alias rows of mailboxes (as "postino alias list" does); domains
 * exclude PostfixAdmin's "ALL".  Returns 0, or -1 with err.
 */
/* A user row and its SCIM externalId (NULL: none). */
typedef int scim_user_each_fn(
    void *arg, const struct mailbox_rec *, const char *external_id);
int scim_query_users(struct model *, const struct scim_page *,
    scim_user_each_fn *fn, void *arg, int64_t *total_r, struct err *);
int scim_query_aliases(struct model *, const struct scim_page *,
    alias_each_fn *fn, void *arg, int64_t *total_r, struct err *);
int scim_query_domains(struct model *, const struct scim_page *,
    domain_each_fn *fn, void *arg, int64_t *total_r, struct err *);

#endif
