/*
 * jwt: verification of the bearer tokens SCIM clients present (JWS compact
 * serialisation, RFC 7515/7519), with OpenSSL's EVP interface doing all the
 * cryptography.
 *
 * Accepted algorithms: RS256 and PS256 (RSA keys of at least 2048 bits),
 * ES256 (P-256; JWS carries r||s, which is converted to DER for OpenSSL)
 * and EdDSA (Ed25519, Ed448).  "none", every HS* and anything else is
 * refused before any key is looked up, so a public key can never be used
 * as an HMAC secret.  The header must carry a `kid` and no `crit`.
 *
 * Claims, checked only after the signature: `iss` equal to the policy's
 * issuer; `aud` (string or array) containing the audience; `exp` and `iat`
 * required; `nbf` honoured; `iat` no older than max_age.  JWT_SKEW
 * seconds of clock skew are allowed for `iat` and `nbf` in the future,
 * none for `exp`.
 *
 * Keys come from a caller's lookup function (jwks.h); the function returns
 * a reference the verifier releases.  Nothing here keeps state, so every
 * function is thread-safe.  Failures are ERR_DENIED with a short reason
 * fit for a log line (never the token), except a key source that cannot
 * answer, which passes its own kind through (ERR_TEMP).
 */
#ifndef POSTINOD_JWT_H
#define POSTINOD_JWT_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "err.h"

#define JWT_MAX 8192 /* longest token accepted, bytes */
#define JWT_SKEW 60  /* seconds */
#define JWT_KID_MAX 256
#define JWT_SUB_MAX 128

struct jwt_policy {
	const char *issuer;
	const char *audience;
	int64_t max_age; /* seconds since iat */
};

struct jwt_claims {
	char sub[JWT_SUB_MAX]; /* "" when absent */
	char kid[JWT_KID_MAX];
	char alg[16];
	int64_t iat;
	int64_t exp;
};

/*
 * Find the public key for kid usable with alg ("RS256", ...).  Returns a
 * new reference (EVP_PKEY_free it), or NULL with err set.
 */
typedef EVP_PKEY *jwt_key_fn(
    void *arg, const char *kid, const char *alg, struct err *);

/* Whether alg is one this module verifies. */
int jwt_alg_allowed(const char *alg);
/*
 * Verify a compact token at time now.  Returns 0 with *claims filled, or
 * -1 with err.
 */
int jwt_verify(const char *token, const struct jwt_policy *, time_t now,
    jwt_key_fn *, void *key_arg, struct jwt_claims *, struct err *);
/*
 * Check sig over the signing input with key for alg (exposed for tests).
 * Returns 1 valid, 0 invalid, -1 unusable key or algorithm (err set).
 */
int jwt_check_signature(const char *alg, EVP_PKEY *, const unsigned char *input,
    size_t inlen, const unsigned char *sig, size_t siglen, struct err *);
/*
 * Decode base64url without padding (RFC 7515 section 2) into a new buffer
 * (free it); NULL on any character outside the alphabet.
 */
unsigned char *jwt_b64url_decode(const char *, size_t len, size_t *outlen);

#endif
