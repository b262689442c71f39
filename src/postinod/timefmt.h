/*
 * timefmt: the three time forms postinod meets.
 *
 *   RFC 3339 ("2026-05-09T12:00:00.5+02:00"; without a zone, UTC): what
 *   Zitadel sends and SCIM clients put in filters;
 *   stored ("2026-05-09 12:00:00", on the database's clock): what the
 *   database holds (db_now());
 *   SCIM output ("2026-05-09T10:00:00Z", UTC).
 *
 * Functions write into caller buffers and keep no state; thread-safe.
 */
#ifndef POSTINOD_TIMEFMT_H
#define POSTINOD_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define TIMEFMT_MAX 32

/* Parse RFC 3339 into *t_r.  Returns 0 or -1. */
int timefmt_parse(const char *, time_t *t_r);
/* Format t as the stored local form. */
const char *timefmt_stored(time_t t, char *out, size_t size);
/* Stored local form to SCIM's UTC form; "" for an unreadable value. */
const char *timefmt_scim(const char *stored, char *out, size_t size);

#endif
