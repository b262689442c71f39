/*
 * toml: a small, strict reader for the subset of TOML that postino.toml
 * uses, producing a flat tree: a document is a list of tables, a table a
 * list of entries, an entry a key with a typed value and its line number.
 *
 * Accepted: '#' comments, blank lines, "key = value" with bare keys
 * (A-Za-z0-9_-), "[table]" and dotted "[a.b]" headers, and these values:
 * basic strings "..." with the TOML escapes \" \\ \b \t \n \f \r \uXXXX
 * \UXXXXXXXX, literal strings '...', decimal integers (optional sign, '_'
 * between digits, no leading zeros, 64-bit range), floats (as TOML writes
 * them: 30.0, 1e3, 2.5E-1, inf, nan; Python postino's seconds), true and
 * false, and arrays of strings (which may span lines, hold comments and
 * end with a comma).  Everything else TOML allows (dates, inline tables,
 * arrays of tables, multi-line strings, quoted and dotted keys, mixed
 * arrays) is rejected with a message that names it, as are duplicate keys
 * and tables, raw control characters, invalid UTF-8, an escaped NUL, input
 * over TOML_MAX_SIZE bytes and headers deeper than TOML_MAX_DEPTH.
 *
 * Errors are ERR_CONFIG, with the message "NAME:LINE: what is wrong".
 *
 * Tables are kept in the order their headers appear.  tables[0] is always
 * the root table (name "", line 0).  A header "[a.b]" also creates "a" if
 * it does not exist yet; such a table has implicit set until its own
 * header is seen.  A struct toml_doc owns every string and array in it;
 * toml_release() frees them.  Nothing here prints.
 */
#ifndef POSTINO_TOML_H
#define POSTINO_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TOML_MAX_SIZE (1024 * 1024) /* bytes in one document */
#define TOML_MAX_DEPTH 8	    /* components in "[a.b.c]" */
#define TOML_MAX_TABLES 256
#define TOML_MAX_KEYS 4096  /* entries in one table */
#define TOML_MAX_ITEMS 4096 /* strings in one array */

enum toml_type {
	TOML_STRING = 1,
	TOML_INTEGER,
	TOML_BOOLEAN,
	TOML_ARRAY, /* of strings */
	TOML_FLOAT,
};

struct toml_value {
	enum toml_type type;
	char *s;      /* TOML_STRING */
	int64_t i;    /* TOML_INTEGER */
	bool b;	      /* TOML_BOOLEAN */
	double f;     /* TOML_FLOAT */
	char **items; /* TOML_ARRAY */
	size_t nitems;
};

struct toml_entry {
	char *key;
	struct toml_value value;
	int line;
};

struct toml_table {
	char *name;    /* "", "postinod", "podop.tables" */
	int line;      /* of its header; 0 for the root */
	bool implicit; /* created by a "[name.sub]" */
	struct toml_entry *entries;
	size_t nentries;
};

struct toml_doc {
	char *name; /* used in messages */
	struct toml_table *tables;
	size_t ntables;
};

/*
 * Parse len bytes of data; name is used in messages.  Returns 0, or -1
 * with err set (ERR_CONFIG) and doc left empty.
 */
int toml_parse_buf(struct toml_doc *, const char *name, const char *data,
    size_t len, struct err *);
/*
 * Read and parse a file.  Returns 0, or -1 with err: ERR_NOTFOUND if the
 * file does not exist, ERR_CONFIG for anything else.
 */
int toml_parse_file(struct toml_doc *, const char *path, struct err *);
void toml_release(struct toml_doc *);

/* The table called name, or NULL.  Lent; valid until toml_release(). */
const struct toml_table *toml_table(const struct toml_doc *, const char *name);
/* The entry for key in t, or NULL.  Lent; valid until toml_release(). */
const struct toml_entry *toml_get(const struct toml_table *, const char *key);

/* "string", "integer", "boolean", "array", "float". */
const char *toml_type_name(enum toml_type);

/*
 * The integer rules, for text that does not come from a document (the
 * environment): optional sign, decimal digits with single '_' between
 * them, no leading zeros, in int64_t range.  Returns 0, or -1 with *why_r
 * (a static phrase such as "leading zeros are not allowed").
 */
int toml_parse_integer(
    const char *, size_t len, int64_t *v_r, const char **why_r);

/*
 * The float rules, likewise: a decimal integer part, then a fraction
 * (".5") and/or an exponent ("e-3"), '_' between digits; or [+-]inf/nan.
 * Returns 0, or -1 with *why_r.
 */
int toml_parse_float(const char *, size_t len, double *v_r, const char **why_r);

/*
 * Whether len bytes are text a TOML string may hold: valid UTF-8, no
 * control characters but tab.  Returns 0, or -1 with *why_r set.
 */
int toml_check_text(const char *, size_t len, const char **why_r);

#endif
