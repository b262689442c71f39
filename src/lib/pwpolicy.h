/*
 * pwpolicy: the rules a new password must meet ([password] in
 * postino.toml, PostfixAdmin's password_validation) and the stored form
 * PostfixAdmin's $CONF['encrypt'] asks for ([postfixadmin] encrypt).
 *
 * Pure: nothing here hashes, reads or prints.  src/model/password.c
 * turns a parsed encrypt mode into a hash; src/lib/conf.c refuses a mode
 * this parser refuses when the settings are loaded.
 *
 * The modes postino writes, as PostfixAdmin 3.3's pacrypt() does:
 *
 *   md5crypt                 bare "$1$salt$hash" (MD5-CRYPT); weak
 *   sha512.b64               "{SHA512-CRYPT.B64}" + base64 of "$6$..."
 *   php_crypt[:METHOD[:DIFFICULTY[:PREFIX]]]
 *                            PREFIX + crypt string; METHOD is MD5,
 *                            BLOWFISH, SHA256 or SHA512 (the default),
 *                            DIFFICULTY the bcrypt cost (4..31) or the
 *                            SHA rounds (1000..999999999), PREFIX empty,
 *                            "{CRYPT}" or the method's own Dovecot name
 *   dovecot:SCHEME           "{SCHEME}" + hash, SCHEME one postino writes
 *                            (BLF-CRYPT, SHA512-CRYPT, ARGON2I, ARGON2ID,
 *                            MD5-CRYPT)
 *
 * PostfixAdmin's md5, cleartext, system (DES), mysql_encrypt and authlib
 * are refused: they are unsalted, clear text, keep 8 characters of a
 * password, or need MySQL's removed ENCRYPT().
 */
#ifndef POSTINO_PWPOLICY_H
#define POSTINO_PWPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* [password]: 0 means no such rule. */
struct pw_policy {
	int64_t min_length;  /* characters (UTF-8 code points) */
	int64_t min_letters; /* a-z, A-Z, as PostfixAdmin counts them */
	int64_t min_digits;  /* 0-9 */
};

/*
 * Whether plain meets the policy.  Returns 0, or -1 with ERR_INVALID
 * naming the first rule it fails (never the password, nor its length).
 */
int pwpolicy_check(const struct pw_policy *, const char *plain, struct err *);

enum pfa_kind {
	PFA_NONE = 0, /* "": postino's own form, {SCHEME} prefix */
	PFA_MD5CRYPT,
	PFA_SHA512_B64,
	PFA_PHP_CRYPT,
	PFA_DOVECOT,
};

struct pfa_encrypt {
	enum pfa_kind kind;
	/*
	 * The scheme written, as Dovecot names it: "MD5-CRYPT",
	 * "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT", "ARGON2I",
	 * "ARGON2ID"; "" for PFA_NONE.
	 */
	char scheme[16];
	/* What precedes the hash: "", "{CRYPT}", "{SHA512-CRYPT}"... */
	char prefix[24];
	bool b64;     /* the crypt string is base64-encoded (sha512.b64) */
	int64_t cost; /* bcrypt cost or SHA rounds; 0 = the default */
};

/*
 * Parse a $CONF['encrypt'] value ("" = PFA_NONE).  Returns 0, or -1 with
 * ERR_CONFIG saying why the mode is refused (the caller adds where the
 * value came from).
 */
int pfa_encrypt_parse(const char *, struct pfa_encrypt *, struct err *);

#endif
