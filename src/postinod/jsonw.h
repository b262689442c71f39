/*
 * jsonw: writing JSON text straight into a buffer, for the replies that
 * are too many to build as jansson trees first (a SCIM list of 100 users
 * costs ~14 times a single user that way, most of it in allocation).
 *
 * The bytes written are exactly what jansson's
 * json_dumps(http_json_str(s), JSON_COMPACT | JSON_ENCODE_ANY) writes for a
 * string (RFC 8259: '"', '\\' and the control bytes below 0x20 escaped,
 * \b \f \n \r \t by name, the others as \u00XX; UTF-8 kept as it is; a
 * string that is not valid UTF-8 has every byte >= 0x80 replaced by '?',
 * as http_json_str does) and as json_integer for integers.  tests/unit/
 * t_jsonw.c compares the two on fixed and random input.
 *
 * Every function returns 0, or -1 when the buffer's limit is reached (the
 * buffer then holds a truncated document: the caller discards it).
 */
#ifndef POSTINOD_JSONW_H
#define POSTINOD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Whether s[0..n) is UTF-8 as jansson accepts it (no overlong forms, no
 * surrogates, nothing above U+10FFFF; NUL is not allowed). */
bool jsonw_utf8_ok(const char *s, size_t n);
/* s (NULL = "") as a JSON string, quotes included. */
int jsonw_str(struct buf *, const char *s);
/* An integer. */
int jsonw_int(struct buf *, int64_t v);
/* Text that is JSON already (literals, punctuation, names). */
int jsonw_raw(struct buf *, const char *s);

#endif
