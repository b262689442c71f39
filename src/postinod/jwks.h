/*
 * jwks: the issuer's signing keys (a JSON Web Key Set, RFC 7517), fetched
 * with libcurl from a URL or read from a local file, and cached.
 *
 * The set is loaded on first use and refreshed every `refresh` seconds.
 * A token naming a kid the set lacks causes one forced refresh (at most
 * one every JWKS_FORCED_GAP seconds); a kid still unknown afterwards is
 * remembered as unknown for JWKS_NEGATIVE_TTL seconds (at most
 * JWKS_NEGATIVE_MAX kids, oldest forgotten first), so a stream of made-up
 * kids cannot hammer the issuer.  When a refresh fails the old keys keep
 * serving, for at most `stale_max` seconds past their refresh time, and
 * the next attempt waits JWKS_RETRY seconds; without usable keys a lookup
 * fails with ERR_TEMP (the daemon answers 503, not 401: the token may be
 * fine).
 *
 * Only public keys that can verify what jwt.h accepts are kept: RSA (at
 * least 2048 bits), EC P-256, OKP Ed25519/Ed448, each with a kid, and not
 * marked for another use ("use" other than "sig", key_ops without
 * "verify").  A key's "alg", when given, must match the token's.
 *
 * One mutex guards the cache.  One fetch runs at a time, without the
 * mutex: lookups whose key is loaded go on meanwhile (an issuer that
 * hangs delays only the lookups that need the new set, for at most
 * JWKS_FETCH_TIMEOUT_MS), and lookups that do need it wait for that fetch
 * instead of starting another.  jwks_key() returns a new reference to
 * the key.  The struct owns its keys and URL copies.
 */
#ifndef POSTINOD_JWKS_H
#define POSTINOD_JWKS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "err.h"

#define JWKS_DOC_MAX (1024 * 1024)
#define JWKS_KEYS_MAX 100
#define JWKS_FETCH_TIMEOUT_MS 5000
#define JWKS_FORCED_GAP 10
#define JWKS_RETRY 30
#define JWKS_NEGATIVE_TTL 30
#define JWKS_NEGATIVE_MAX 1000
#define JWKS_STALE_MAX 86400

struct jwks_opts {
	const char *url; /* used when file is NULL or "" */
	const char *file;
	int64_t refresh;   /* seconds */
	int64_t stale_max; /* seconds past refresh; 0 = default */
};

struct jwk {
	char kid[256];
	char alg[16]; /* "" = any fitting algorithm */
	EVP_PKEY *key;
};

struct jwks;

struct jwks *jwks_new(const struct jwks_opts *);
void jwks_free(struct jwks **);
/* The key for kid usable with alg at time now (new reference), or NULL. */
EVP_PKEY *jwks_key(
    struct jwks *, const char *kid, const char *alg, time_t now, struct err *);
/* Loads of the set that succeeded and failed so far (metrics). */
void jwks_counts(struct jwks *, uint64_t *loads_r, uint64_t *failures_r);
/* Forget the refresh time so the next lookup fetches (SIGHUP). */
void jwks_invalidate(struct jwks *);

/*
 * Parse a JWKS document into *keys_r (jwks_keys_free() it).  Unusable
 * entries are skipped; a document that is not a key set is an error.
 */
int jwks_parse(const char *doc, size_t len, struct jwk **keys_r, size_t *n_r,
    struct err *);
void jwks_keys_free(struct jwk *, size_t);
/* Whether a key (as parsed) may verify tokens signed with alg. */
int jwk_usable(const struct jwk *, const char *alg);

#endif
