/*
 * stats: postinod's counters, for the metrics listener (metrics.h) and
 * the SIGUSR1 log line.
 *
 * HTTP requests are counted by route (a fixed set of path templates, never
 * the raw path), method and status (a fixed set of codes, the rest as
 * "other"), with a duration histogram per route; webhook events by
 * outcome and, when refused, by reason.  JWKS loads and database
 * connections come from their own modules (jwks_counts(), pool_counts())
 * when the text is written.  Every
 * counter lives in per-thread shards, so counting costs a request next
 * to nothing.  pstats_init() runs once before any thread counts.
 */
#ifndef POSTINOD_STATS_H
#define POSTINOD_STATS_H

#include <stdint.h>

#include "buf.h"

struct postinod;

enum pstats_webhook {
	PW_APPLIED = 0,
	PW_DUPLICATE,
	PW_IGNORED, /* an event type postino does not act on */
	PW_REJECTED,
	PW_FAILED, /* a server-side failure (5xx): Zitadel retries */
	PW_N,
};

enum pstats_reject {
	PR_NO_SIGNATURE = 0,
	PR_BAD_SIGNATURE,     /* malformed or wrong */
	PR_SIGNATURE_EXPIRED, /* its timestamp outside the replay window */
	PR_BAD_EVENT,	      /* not JSON, or a bad envelope */
	PR_REPLAY_WINDOW,     /* created_at outside the replay window */
	PR_UNSUPPORTED,	      /* e.g. an email change */
	PR_UNKNOWN_SUBJECT,   /* no mailbox tied to the aggregateID */
	PR_INVALID,	      /* any other refusal of the event (4xx) */
	PR_N,
};

void pstats_init(void);
/* One answered request: path as received, status, nanoseconds taken. */
void pstats_request(
    const char *method, const char *path, int status, uint64_t ns);
/* The route label of a path: "/scim/v2/Users/{id}", "other"... */
const char *pstats_route(const char *path);
void pstats_webhook(enum pstats_webhook);
void pstats_reject(enum pstats_reject);

/* Exposition text of everything; arg is the struct postinod. */
void pstats_render(void *arg, struct buf *);
/* The SIGUSR1 line. */
void pstats_log(struct postinod *);

#endif
