/*
 * password: hashing and verifying mailbox passwords in the formats Dovecot
 * and PostfixAdmin read.
 *
 * New hashes are written with their "{SCHEME}" prefix so Dovecot picks the
 * verifier per row: {BLF-CRYPT}$2y$ (default), {SHA512-CRYPT}$6$,
 * {ARGON2I}/{ARGON2ID} (libargon2), {MD5-CRYPT}$1$ (legacy, for
 * compatibility only).  Hashing uses libxcrypt's crypt_r/crypt_gensalt_rn
 * and libargon2; nothing here implements a hash function itself.
 *
 * Verification understands what PostfixAdmin and Dovecot write: the
 * prefixed crypt family, unprefixed crypt strings ($2y$, $1$, $6$...),
 * {ARGON2I(D)}, {PLAIN}/{CLEAR}/{CLEARTEXT}, {SHA}/{SHA1}/{SSHA}/{SHA256}/
 * {SSHA256}/{SHA512}/{SSHA512}, {PLAIN-MD5}/{MD5}, and the .B64/.HEX
 * encoding suffixes.  {NOAUTH} is postino's sentinel for "no local
 * credential" and never verifies.
 *
 * Plain-text passwords are only ever held in caller memory the caller
 * wipes; error messages never contain them.
 */
#ifndef POSTINO_PASSWORD_H
#define POSTINO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PASSWORD_HASH_MAX 512
#define PASSWORD_INPUT_MAX 1024
#define PASSWORD_NOAUTH "{NOAUTH}"

/* Schemes postino can write, NULL-terminated. */
extern const char *const password_schemes[];

/* Whether postino can write this scheme (case-insensitive). */
bool password_scheme_valid(const char *);
/*
 * Hash plain with scheme into out (PASSWORD_HASH_MAX).  cost is the bcrypt
 * cost (4..31); other schemes use their own defaults.  An empty password is
 * refused.  Returns 0 or -1 (ERR_INVALID / ERR_INTERNAL).
 */
int password_hash(const char *scheme, const char *plain, int cost, char *out,
    size_t outsize, struct err *);
/*
 * Verify plain against a stored hash.  Returns 1 match, 0 mismatch, -1 if
 * the stored format is unknown or malformed (err set).
 */
int password_verify(const char *stored, const char *plain, struct err *);
/*
 * The scheme a stored value uses, for reporting ("BLF-CRYPT", "MD5-CRYPT",
 * "PLAIN", "NOAUTH", "EMPTY", "UNKNOWN", ...), written into out.
 */
const char *password_scheme_of(const char *stored, char *out, size_t size);
/* Whether a scheme name (as from password_scheme_of) is considered weak. */
bool password_scheme_weak(const char *scheme);
/* Whether a stored value is a hash postino can verify (for import). */
bool password_hash_recognised(const char *stored);

#endif
