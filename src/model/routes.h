/*
 * routes: postino's `routes` table, the transport_maps entries that send a
 * mailing list's mail to mlmmj.  A row is a POSIX extended regular
 * expression over the whole recipient address, the Postfix transport it
 * selects ("mlmmj-receive:"), the recipient domain it applies to (so a
 * lookup only reads one domain's rows), the list it belongs to, and a
 * priority (lower is tried first).
 *
 * A list gets one row: ^local(\+.+)?@domain$ -> mlmmj-receive:.  mlmmj 1.3
 * builds every address it hands out from the list address, its own '+'
 * delimiter and a keyword (list+subscribe, list+bounces-N-..., list+confsub-
 * ...), and mlmmj-receive dispatches all of them itself, so nothing else has
 * to be routed.  Rows other tools wrote (the Python postino wrote four per
 * list, for mlmmj-bounce:, mlmmj-sub: and mlmmj-unsub: as well) are matched
 * and removed the same way.
 *
 * Who matches: Postfix itself where the engine has a regular-expression
 * operator (the driver's regexp_op: MySQL REGEXP, PostgreSQL ~), through the
 * sql-routes.cf map mapgen writes; where it has none (SQLite), podop's
 * postfixadmin table "routes" (lookup_routes(), regcomp()) answers over
 * socketmap.  routes_match() gives postino the same answer either way.
 *
 * Functions take the caller's model; writes must run inside its
 * transaction.  Nothing here prints.
 */
#ifndef POSTINO_ROUTES_H
#define POSTINO_ROUTES_H

#include <stdint.h>

#include "model.h"

#define ROUTES_TRANSPORT_RECEIVE "mlmmj-receive:"

/*
 * Escape s for use as a literal in a POSIX extended regular expression
 * (also valid in MySQL's and PostgreSQL's dialects).  Caller frees.
 */
char *routes_escape(const char *s);
/* The pattern a list's receive row uses; caller frees. */
char *routes_list_pattern(const char *local, const char *domain);

/*
 * Insert the rows of list local@domain (inside a transaction).  ERR_EXISTS
 * when a row with that pattern is already there.
 */
int routes_add_list(
    struct model *, const char *local, const char *domain, struct err *);
/*
 * Delete every row of a list (inside a transaction); *n_r (may be NULL)
 * gets how many went.
 */
int routes_del_list(
    struct model *, const char *list, int64_t *n_r, struct err *);
/* Rows that name list as their list_address: count, or -1. */
int64_t routes_count_list(struct model *, const char *list, struct err *);

/*
 * The transport Postfix's routes map would choose for address: 1 found
 * (*transport_r, caller frees), 0 none, -1 error.  Uses the engine's own
 * regular-expression operator when it has one, else lookup_routes().
 */
int routes_match(
    struct model *, const char *address, char **transport_r, struct err *);

#endif
