/*
 * event: the record of webhook events already applied (postino_event),
 * so that a redelivered event is a no-op even when several postinod
 * replicas share the database.
 *
 * An event is named by an opaque id of at most EVENT_ID_MAX - 1 bytes
 * (postinod uses a SHA-256 over the event's identifying fields).  Rows
 * older than the replay window are useless (such events are refused
 * anyway) and event_prune() removes them.  Nothing here writes an audit
 * row or bumps the change serial: the table is bookkeeping, not mail
 * configuration.
 */
#ifndef POSTINO_EVENT_H
#define POSTINO_EVENT_H

#include <stdint.h>

#include "model.h"

#define EVENT_ID_MAX 256

/* 1 if the event was recorded before, 0 if not, -1 on error. */
int event_seen(struct model *, const char *id, struct err *);
/*
 * Record an event: 1 recorded, 0 it already was (a duplicate), -1 error.
 * Runs in the caller's transaction when one is open, so an event and the
 * change it caused commit together.  On PostgreSQL a duplicate aborts that
 * transaction: the caller must roll back after a 0.
 */
int event_record(struct model *, const char *id, struct err *);
/* Forget events received more than max_age_seconds ago; -1 on error. */
int event_prune(struct model *, int64_t max_age_seconds, struct err *);

#endif
