/*
 * strutil: small string helpers shared by every layer.
 *
 * Nothing here allocates unless its comment says so (then the caller frees).
 */
#ifndef POSTINO_STRUTIL_H
#define POSTINO_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lower-case ASCII letters in place; returns s. */
char *str_lower(char *s);
/*
 * The Unicode simple lower-case mapping of the UTF-8 text s (n bytes),
 * code point by code point (glibc's C.UTF-8 tables, whatever the process
 * locale), into a new NUL-terminated string with its length in *out_n.
 * Bytes that are not valid UTF-8 are kept as they are.  This is how SCIM
 * filters compare caseExact=false attributes (scim_filter.h).
 */
char *str_fold(const char *s, size_t n, size_t *out_n);
/* Strip leading and trailing ASCII whitespace in place; returns the start. */
char *str_trim(char *s);
bool str_prefix(const char *s, const char *prefix);
/* The value of hex digit c (an unsigned char or EOF), or -1. */
int str_hexval(int c);
bool str_suffix(const char *s, const char *suffix);
bool str_eq_nocase(const char *, const char *);
/* Copy at most size-1 bytes and always terminate; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);

/*
 * Strict decimal integer parse: optional sign, digits only, no trailing
 * garbage, range-checked.  Returns 0 or -1.
 */
int str_to_i64(const char *, int64_t *);
int str_to_int(const char *, int min, int max, int *);

/* Compare two secrets in time independent of where they differ. */
bool str_ct_equal(const char *, const char *);

/* Levenshtein distance, capped at cap+1 for speed. */
size_t str_distance(const char *, const char *, size_t cap);
/*
 * The candidate closest to word (distance <= max(2, len/3)), or NULL.
 * candidates is NULL-terminated.
 */
const char *str_nearest(const char *word, const char *const *candidates);

/* Overwrite a string with zeros (secrets). */
void str_wipe(char *);

#endif
