/*
 * password: hashing and verifying mailbox passwords in the formats Dovecot
 * and PostfixAdmin read.
 *
 * New hashes are written with their "{SCHEME}" prefix so Dovecot picks the
 * verifier per row (unless postfixadmin.encrypt asks for PostfixAdmin's
 * form, see pwpolicy.h): {BLF-CRYPT}$2y$ (default), {SHA512-CRYPT}$6$,
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

#include "conf.h"
#include "err.h"
#include "pwpolicy.h"

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
 * The stored form of a new password: the [password] policy first, then
 * the form postfixadmin.encrypt asks for (bare crypt, {SCHEME}, base64),
 * else "{SCHEME}hash" in scheme (NULL = default_password_scheme).  A
 * scheme other than the one postfixadmin.encrypt stores is refused.
 * Returns 0 or -1 (ERR_INVALID names the rule that failed).
 */
int password_make(const struct postino_conf *, const char *scheme,
    const char *plain, char *out, size_t outsize, struct err *);
/*
 * Whether PostfixAdmin configured with e can verify the stored value at
 * its login (pacrypt()); empty and {NOAUTH} count as verifiable, being
 * nobody's password.
 */
bool password_pfa_verifiable(const struct pfa_encrypt *, const char *stored);
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
