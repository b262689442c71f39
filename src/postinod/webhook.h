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
 * Then, in order: the body is parsed (400 on bad JSON or a bad envelope);
 * an unknown event_type is acknowledged and ignored (200); the payload is
 * checked; created_at must lie within the replay window (400); an event
 * recorded before is acknowledged without effect (200, the record is in
 * the database's postino_event table, so replicas share it); finally the
 * event is applied through the model, as the CLI would:
 *
 *   user.human.added            create the mailbox, no password ({NOAUTH})
 *   user.human.profile.changed  set the mailbox name ("first last")
 *   user.human.email.changed    refused (403): addresses are not renamed
 *   user.deactivated            disable the mailbox
 *   user.reactivated            enable it
 *   user.removed                disable it (mail is never deleted)
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

struct webhook_event {
	enum webhook_type type;
	char type_name[128];
	char user_id[128];
	char created_at[64];
	time_t created;
	char email[ADDR_MAX];
	char name[256]; /* "first last", trimmed */
	bool has_name;
	char id[65]; /* dedup key: SHA-256 hex */
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

/*
 * Parse an event.  Returns 0 (ev->type WH_UNKNOWN for a type to ignore),
 * or -1 with err: ERR_USAGE for malformed JSON, ERR_INVALID for a bad
 * envelope or payload.
 */
int webhook_parse(
    const char *body, size_t len, struct webhook_event *, struct err *);

struct postinod;
void webhook_handle(
    struct postinod *, struct http_request *, struct http_response *);

#endif
