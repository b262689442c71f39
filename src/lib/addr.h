/*
 * addr: validation and normalisation of the names postino stores: domain
 * names, local parts, addresses, alias destinations and quota strings.
 *
 * Everything is checked at the boundary (CLI arguments, SCIM bodies,
 * import lines) and normalised to lower case, as PostfixAdmin does, so the
 * case-insensitive MySQL collations and the case-sensitive PostgreSQL and
 * SQLite comparisons agree.  Internationalised domains are accepted as
 * A-labels (xn--...) only.  Local parts are the RFC 5321 dot-atom form
 * without '/' (they become maildir path components).
 *
 * Functions write their result into a caller buffer of at least ADDR_MAX
 * bytes and return 0, or -1 with err (ERR_INVALID) naming the field.
 */
#ifndef POSTINO_ADDR_H
#define POSTINO_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define ADDR_MAX 320 /* an address (64 + 1 + 253), with NUL */
#define LOCAL_MAX 64 /* RFC 5321 local-part limit */
#define DOMAIN_MAX 253

/* Validate a domain name; out gets the lower-cased form. */
int addr_domain(const char *field, const char *in, char *out, struct err *);
/* Validate a local part; out gets the lower-cased form. */
int addr_local(const char *field, const char *in, char *out, struct err *);
/*
 * Validate local@domain (split at the last '@').  local_r and domain_r
 * (may be NULL) get the parts; out the whole, lower-cased.
 */
int addr_address(const char *field, const char *in, char *out, char *local_r,
    char *domain_r, struct err *);
/* An alias address: local@domain, or @domain for a catch-all. */
int addr_alias(const char *field, const char *in, char *out, char *domain_r,
    bool *catchall_r, struct err *);
/*
 * Normalise an alias destination list: comma (or whitespace) separated
 * addresses, each validated (local parts may carry '#' for PostfixAdmin
 * vacation entries), lower-cased, de-duplicated, joined with ",".
 * out is caller-provided with size outsize.
 */
int addr_goto(
    const char *field, const char *in, char *out, size_t outsize, struct err *);

/*
 * Parse a quota string: "0" (unlimited), "unlimited", a byte count, or a
 * number with a binary unit K, M, G, T (optionally followed by "B" or
 * "iB"): "500M", "5G", "5GiB"; except "MB", PostfixAdmin's megabyte of
 * PFA_MB bytes ("500MB" is PostfixAdmin's "500").  Case-insensitive;
 * overflow and negative values are rejected.
 */
#define PFA_MB 1024000ULL
int quota_parse(
    const char *field, const char *in, int64_t *bytes_r, struct err *);
/* Human form: "unlimited", "5 GiB", "500 MiB", "1234 B". */
const char *quota_format(int64_t bytes, char *buf, size_t size);

#endif
