/*
 * cf: reader for Postfix lookup-table configuration files, the
 * mysql_table(5) / pgsql_table(5) / sqlite_table(5) "name = value" format.
 *
 * Rules, as Postfix reads them: blank lines and lines whose first
 * non-blank character is '#' are ignored; a line that starts with
 * whitespace continues the previous logical line; "name = value" is split
 * at the first '='; name and value are trimmed; a later duplicate wins.
 * Files are capped at CF_MAX_SIZE bytes.
 *
 * A struct cf owns every string in it; cf_release() frees them (and wipes
 * values, which may hold passwords).
 */
#ifndef POSTINO_CF_H
#define POSTINO_CF_H

#include <stddef.h>

#include "err.h"

#define CF_MAX_SIZE (1024 * 1024)

struct cf_entry {
	char *key;
	char *value;
	int line;
};

struct cf {
	char *path;
	struct cf_entry *v;
	size_t n;
};

/*
 * Parse a file.  Returns 0, or -1 with err: ERR_CONFIG for a missing,
 * unreadable, oversized or malformed file; the message names the path (and
 * line) and never includes a value.
 */
int cf_parse_file(struct cf *, const char *path, struct err *);
/* Parse from memory; name is used in messages. */
int cf_parse_buf(
    struct cf *, const char *name, const char *data, size_t len, struct err *);
/* The value for key, or NULL.  Lent; valid until cf_release(). */
const char *cf_get(const struct cf *, const char *key);
int cf_line(const struct cf *, const char *key);
void cf_release(struct cf *);

#endif
