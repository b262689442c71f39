/*
 * webhook: POST /zitadel/events, the Zitadel Actions receiver.
 *
 * Authentication is an HMAC-SHA256 under a shared secret, in the header
 * ZITADEL-Signature (or X-ZITADEL-Signature), in either of two forms:
 *   - bare hex: the lowercase or uppercase hex HMAC of the raw body
 *     (postino's original sender);
 *   - "t=<unix time>,v1=<hex>[,v1=<hex>...]": Zitadel's Actions v2 form,
 *     the HMAC of "<t>.<raw body>"; t must lie within the replay window.
 * Secrets come only from POSTINOD_ZITADEL_HMAC_SECRET, comma-separated so
 * that an old and a new secret overlap during rotation; each must have at
 * least WEBHOOK_SECRET_MIN bytes.  A secret written as 64 or more hex
 * digits is also tried in decoded form (postino 0.12 used that form).
 * Every comparison is constant-time.
 *
 * Then, in order: the body is parsed (400 on bad JSON or a bad envelope;
 * event_payload may be absent, an object, or that object base64-encoded
 * as older Zitadel sent it); an unknown event_type is acknowledged and
 * ignored (200); created_at must lie within the replay window (400); an
 * event recorded before is acknowledged without effect (200, the record is
 * in the database's postino_event table, so replicas share it); finally
 * the event is applied through the model, as the CLI would.
 *
 * The person is the event's aggregateID (the Zitadel user id), under the
 * issuer "zitadel:<instanceID>" in postino_identity (identity.h):
 *
 *   user.human.added,           create the mailbox named by the payload's
 *   user.human.selfregistered   email, no password ({NOAUTH}), and tie
 *                               the aggregateID to it (an existing
 *                               mailbox is adopted)
 *   user.human.profile.changed  set the name from firstName/lastName,
 *                               keeping the one not sent
 *   user.human.email.changed    refused (403): addresses are not renamed
 *   user.deactivated            disable the mailbox
 *   user.reactivated            enable it
 *   user.removed                disable it (mail is never deleted)
 *
 * The last four find the mailbox through the aggregateID alone (Zitadel
 * sends no email with them); an aggregateID tied to no mailbox is 404 and
 * the event is not recorded, so a redelivery after the create applies.
 * Only postino's own older sender put an email into those payloads: with
 * no aggregateID tied, that email names the mailbox.  Machine users
 * (user.machine.*) have no mailbox and are ignored.  An event is
 * identified by instanceID, aggregateID, sequence and event_type (and,
 * without a sequence, by its time, creator and payload email too).
 *
 * The audit actor is "zitadel:<userID>".  The pure parts (secret parsing,
 * signature checking, event parsing) are separate functions so unit tests
 * and the fuzzer reach them without a database.
 */
#ifndef POSTINOD_WEBHOOK_H
#define POSTINOD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "http.h"
#include "identity.h"

#define WEBHOOK_SECRET_MIN 32
#define WEBHOOK_KEYS_MAX 16
#define WEBHOOK_WINDOW_DEFAULT 300

struct webhook_key {
	unsigned char *data;
	size_t len;
};

struct webhook_keys {
	struct webhook_key keys[WEBHOOK_KEYS_MAX];
	size_t n;
};

enum webhook_type {
	WH_UNKNOWN = 0,
	WH_ADDED,
	WH_PROFILE,
	WH_EMAIL,
	WH_DEACTIVATED,
	WH_REACTIVATED,
	WH_REMOVED,
};

#define WEBHOOK_ISSUER_PREFIX IDENTITY_ZITADEL_PREFIX

struct webhook_event {
	enum webhook_type type;
	char type_name[128];
	char user_id[128]; /* userID: who caused the event */
	char subject[128]; /* aggregateID: the Zitadel user it is about */
	char issuer[160];  /* "zitadel:<instanceID>" (identity.h) */
	char created_at[64];
	time_t created;
	char email[ADDR_MAX]; /* "" when the payload has none */
	char first[256];      /* firstName, trimmed, when has_first */
	char last[256];	      /* lastName, trimmed, when has_last */
	bool has_first, has_last;
	char name[256]; /* "first last" of what the payload has */
	bool has_name;	/* either name field was sent */
	char id[65];	/* dedup key: SHA-256 hex */
};

/*
 * Parse the secret list (the environment value; NULL = unset).  Returns 0,
 * or -1 with err (ERR_CONFIG) when it is unset, empty or a secret is short.
 */
int webhook_keys_parse(const char *value, struct webhook_keys *, struct err *);
void webhook_keys_release(struct webhook_keys *);

/*
 * Check a signature header value against body.  Returns 0, or -1 with err
 * (ERR_DENIED: missing, malformed, stale or wrong).
 */
int webhook_check(const struct webhook_keys *, const char *header,
    const char *body, size_t len, time_t now, int64_t window, struct err *);

/* webhook_check() that also says why a signature was refused. */
enum webhook_sig {
	WH_SIG_OK = 0,
	WH_SIG_MISSING, /* no header */
	WH_SIG_BAD,	/* malformed, or no key makes it */
	WH_SIG_EXPIRED, /* its t= outside the replay window */
};

int webhook_verify(const struct webhook_keys *, const char *header,
    const char *body, size_t len, time_t now, int64_t window,
    enum webhook_sig *why, struct err *);

/*
 * Parse an event.  Returns 0 (ev->type WH_UNKNOWN for a type to ignore),
 * or -1 with err: ERR_USAGE for malformed JSON, ERR_INVALID for a bad
 * envelope or payload.
 */
int webhook_parse(
    const char *body, size_t len, struct webhook_event *, struct err *);

/* "first last" (either may be empty) into out; -1 when it does not fit. */
int webhook_join_name(
    const char *first, const char *last, char *out, size_t size);

struct postinod;
void webhook_handle(
    struct postinod *, struct http_request *, struct http_response *);

#endif
