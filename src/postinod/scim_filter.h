/*
 * scim_filter: SCIM filter expressions (RFC 7644 section 3.4.2.2) compiled
 * into an SQL condition with '?' placeholders and bound values.
 *
 * Grammar accepted (operators and keywords case-insensitive):
 *
 *   filter   = or
 *   or       = and *("or" and)
 *   and      = unary *("and" unary)
 *   unary    = "not" "(" filter ")" / "(" filter ")" / attr "[" filter "]"
 *            / attr "pr" / attr op value
 *   op       = eq / ne / co / sw / ew / gt / ge / lt / le
 *   value    = JSON string / number / true / false / null
 *
 * Attribute paths are resolved against a resource's map (scim_query.h):
 * case-insensitively, with or without the resource's core schema URN in
 * front; inside attr[...] the paths are sub-attributes of attr.  A path the
 * map lacks, a value of the wrong type, or an operator the attribute's type
 * does not support is an error (ERR_INVALID, answered as 400
 * invalidFilter): nothing is ever silently ignored.
 *
 * The SQL text is made only of the map's `sql` strings, placeholders,
 * parentheses and AND/OR/NOT/LIKE/IS; every value the client gave is a
 * bound parameter.  co/sw/ew become LIKE with '!' as the escape character,
 * so '%' and '_' in a value match themselves.  Strings mean the same on
 * every engine (w->engine says whose SQL to write): SCIM_A_CI attributes
 * compare the Unicode-folded column (postino_fold on SQLite, lower() under
 * "C" on PostgreSQL, LOWER() under utf8mb4_nopad_bin on MariaDB) with the
 * value folded by str_fold(); the others compare the stored column
 * exactly, by code point, with no padding (SCIM_A_LOWER values folded
 * first); sw on those is an index range.  true, false and null are taken
 * in any case.
 *
 * Bounds: SCIM_FILTER_MAX_LEN bytes, SCIM_FILTER_MAX_DEPTH nested groups
 * ("(...)", "not (...)", "attr[...]"), SCIM_FILTER_MAX_TERMS comparisons.
 * The SQL nests only where the meaning needs it (see parse_level), so
 * that the deepest filter allowed, alternating and, or and not at every
 * level, stays within SQLite's parser stack (it overflows past about 20
 * such levels; MariaDB and PostgreSQL allow far more).
 *
 * A struct scim_where owns its SQL text and the strings its arguments
 * point to; release it with scim_where_release().
 */
#ifndef POSTINOD_SCIM_FILTER_H
#define POSTINOD_SCIM_FILTER_H

#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "scim_query.h"

#define SCIM_FILTER_MAX_LEN 4096
#define SCIM_FILTER_MAX_DEPTH 16
#define SCIM_FILTER_MAX_TERMS 64
/* A comparison binds at most two values (scim_filter.c compare_string). */
#define SCIM_FILTER_MAX_ARGS (2 * SCIM_FILTER_MAX_TERMS)

struct scim_where {
	enum db_engine engine; /* whose SQL to write (NONE = SQLite's) */
	struct buf sql;
	struct db_arg args[SCIM_FILTER_MAX_ARGS];
	char *owned[SCIM_FILTER_MAX_ARGS];
	size_t nargs;
	size_t nterms;
};

void scim_where_init(struct scim_where *);
void scim_where_release(struct scim_where *);

/*
 * Compile filter for a resource whose core schema is core_urn.  Returns 0
 * with w filled, or -1 with err (ERR_INVALID) saying what is wrong.
 */
int scim_filter_compile(const char *filter, const struct scim_attr *map,
    const char *core_urn, struct scim_where *w, struct err *);

/* The map entry for an attribute path (as above), or NULL. */
const struct scim_attr *scim_attr_find(
    const struct scim_attr *map, const char *core_urn, const char *path);

#endif
