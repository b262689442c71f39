/*
 * The password policy, PostfixAdmin's encrypt modes (which are taken,
 * what each stores) and which stored hashes each mode's login verifies.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "password.h"
#include "pwpolicy.h"
#include "tap.h"

static void
test_policy(void)
{
	static const struct {
		int64_t len, letters, digits;
		const char *pw;
		const char *fails; /* the rule named, NULL = accepted */
	} cases[] = {
		{ 8, 0, 0, "abcdefgh", NULL },
		{ 8, 0, 0, "abcdefg", "password.min_length" },
		{ 8, 0, 0, "x", "password.min_length" },
		/* characters, not bytes: 8 two-byte letters pass */
		{ 8, 0, 0,
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9",
		    NULL },
		{ 8, 0, 0, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		    "password.min_length" },
		{ 5, 3, 2, "ab1c2", NULL },
		{ 5, 3, 2, "ab1-2", "password.min_letters" },
		{ 5, 3, 2, "abcd2", "password.min_digits" },
		{ 1, 0, 0, "x", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_policy p = { cases[i].len, cases[i].letters,
			cases[i].digits };
		struct err e = ERR_INIT;
		int rc = pwpolicy_check(&p, cases[i].pw, &e);

		if (cases[i].fails == NULL) {
			is_int(rc, 0, "policy case %zu accepted", i);
			continue;
		}
		is_int(rc, -1, "policy case %zu refused", i);
		is_int(e.kind, ERR_INVALID, "policy case %zu: ERR_INVALID", i);
		ok(strstr(e.msg, cases[i].fails) != NULL,
		    "policy case %zu names %s: %s", i, cases[i].fails, e.msg);
		ok(strstr(e.msg, cases[i].pw) == NULL,
		    "policy case %zu: the message hides the password", i);
	}
}

static void
test_modes(void)
{
	static const struct {
		const char *v;
		int rc;
		const char *scheme, *prefix;
		int64_t cost;
	} cases[] = {
		{ "", 0, "", "", 0 },
		{ "md5crypt", 0, "MD5-CRYPT", "", 0 },
		{ "sha512.b64", 0, "SHA512-CRYPT", "{SHA512-CRYPT.B64}", 0 },
		{ "php_crypt", 0, "SHA512-CRYPT", "", 0 },
		{ "php_crypt:SHA512", 0, "SHA512-CRYPT", "", 0 },
		{ "php_crypt:SHA512:50000", 0, "SHA512-CRYPT", "", 50000 },
		{ "php_crypt:SHA256::{SHA256-CRYPT}", 0, "SHA256-CRYPT",
		    "{SHA256-CRYPT}", 0 },
		{ "php_crypt:BLOWFISH:10:{BLF-CRYPT}", 0, "BLF-CRYPT",
		    "{BLF-CRYPT}", 10 },
		{ "php_crypt:BLOWFISH::{CRYPT}", 0, "BLF-CRYPT", "{CRYPT}", 0 },
		{ "php_crypt:MD5", 0, "MD5-CRYPT", "", 0 },
		{ "dovecot:SHA512-CRYPT", 0, "SHA512-CRYPT", "{SHA512-CRYPT}",
		    0 },
		{ "dovecot:blf-crypt", 0, "BLF-CRYPT", "{BLF-CRYPT}", 0 },
		{ "dovecot:ARGON2ID", 0, "ARGON2ID", "{ARGON2ID}", 0 },
		{ "md5", -1, NULL, NULL, 0 },
		{ "cleartext", -1, NULL, NULL, 0 },
		{ "system", -1, NULL, NULL, 0 },
		{ "mysql_encrypt", -1, NULL, NULL, 0 },
		{ "authlib", -1, NULL, NULL, 0 },
		{ "MD5CRYPT", -1, NULL, NULL, 0 },
		{ "php_crypt:DES", -1, NULL, NULL, 0 },
		{ "php_crypt:sha512", -1, NULL, NULL, 0 },
		{ "php_crypt:", -1, NULL, NULL, 0 },
		{ "php_crypt:SHA512:999", -1, NULL, NULL, 0 },
		{ "php_crypt:BLOWFISH:32", -1, NULL, NULL, 0 },
		{ "php_crypt:SHA512::{BLF-CRYPT}", -1, NULL, NULL, 0 },
		{ "php_crypt:SHA512:5000:{SHA512-CRYPT}:x", -1, NULL, NULL, 0 },
		{ "php_cryptx", -1, NULL, NULL, 0 },
		{ "dovecot:CRAM-MD5", -1, NULL, NULL, 0 },
		{ "dovecot:", -1, NULL, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pfa_encrypt e;
		struct err err = ERR_INIT;
		int rc = pfa_encrypt_parse(cases[i].v, &e, &err);

		is_int(rc, cases[i].rc, "mode '%s': %s", cases[i].v,
		    rc == 0 ? "taken" : err.msg);
		if (rc == -1) {
			is_int(err.kind, ERR_CONFIG, "mode '%s': ERR_CONFIG",
			    cases[i].v);
			continue;
		}
		is_str(
		    e.scheme, cases[i].scheme, "mode '%s': scheme", cases[i].v);
		is_str(
		    e.prefix, cases[i].prefix, "mode '%s': prefix", cases[i].v);
		is_int(
		    e.cost, cases[i].cost, "mode '%s': difficulty", cases[i].v);
	}
}

/* What each mode stores verifies with postino, and with that mode. */
static void
test_make(void)
{
	static const struct {
		const char *mode;
		const char *starts;
	} cases[] = {
		{ "", "{BLF-CRYPT}$2y$04$" },
		{ "md5crypt", "$1$" },
		{ "sha512.b64", "{SHA512-CRYPT.B64}JDYk" },
		{ "php_crypt:SHA512", "$6$" },
		{ "php_crypt:SHA512:2000", "$6$rounds=2000$" },
		{ "php_crypt:SHA256::{SHA256-CRYPT}", "{SHA256-CRYPT}$5$" },
		{ "php_crypt:BLOWFISH:5", "$2y$05$" },
		{ "php_crypt:MD5", "$1$" },
		{ "dovecot:SHA512-CRYPT", "{SHA512-CRYPT}$6$" },
		{ "dovecot:ARGON2ID", "{ARGON2ID}$argon2id$" },
	};
	struct postino_conf c;

	conf_defaults(&c);
	c.bcrypt_cost = 4;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[PASSWORD_HASH_MAX];
		struct pfa_encrypt e;
		struct err err = ERR_INIT;

		free(c.postfixadmin.encrypt);
		c.postfixadmin.encrypt = strdup(cases[i].mode);
		if (!ok(password_make(&c, NULL, "Secret-pass-1", out,
			    sizeof(out), &err) == 0,
			"mode '%s': hashed (%s)", cases[i].mode, err.msg))
			continue;
		ok(strncmp(out, cases[i].starts, strlen(cases[i].starts)) == 0,
		    "mode '%s': stores %s...: %s", cases[i].mode,
		    cases[i].starts, out);
		is_int(password_verify(out, "Secret-pass-1", &err), 1,
		    "mode '%s': postino verifies it", cases[i].mode);
		is_int(password_verify(out, "Secret-pass-2", &err), 0,
		    "mode '%s': and not another password", cases[i].mode);
		ok(password_hash_recognised(out), "mode '%s': recognised",
		    cases[i].mode);
		pfa_encrypt_parse(cases[i].mode, &e, &err);
		ok(password_pfa_verifiable(&e, out),
		    "mode '%s': PostfixAdmin can verify it", cases[i].mode);
	}
	/* A --scheme that is not the mode's is refused, so is a short one. */
	{
		char out[PASSWORD_HASH_MAX];
		struct err err = ERR_INIT;

		free(c.postfixadmin.encrypt);
		c.postfixadmin.encrypt = strdup("md5crypt");
		is_int(password_make(&c, "ARGON2ID", "Secret-pass-1", out,
			   sizeof(out), &err),
		    -1, "md5crypt refuses --scheme ARGON2ID");
		is_int(password_make(&c, "md5-crypt", "Secret-pass-1", out,
			   sizeof(out), &err),
		    0, "md5crypt takes --scheme MD5-CRYPT");
		err = (struct err)ERR_INIT;
		is_int(password_make(&c, NULL, "short", out, sizeof(out), &err),
		    -1, "the default policy refuses 5 characters");
		ok(strstr(err.msg, "at least 8 characters") != NULL,
		    "and says so: %s", err.msg);
	}
	conf_release(&c);
}

static void
test_verifiable(void)
{
	static const struct {
		const char *mode, *stored;
		bool yes;
	} cases[] = {
		{ "md5crypt", "$1$abcdefgh$0123456789abcdefghijkl", true },
		{ "md5crypt", "{MD5-CRYPT}$1$abcdefgh$0123456789abcdefghijkl",
		    false },
		{ "md5crypt",
		    "{BLF-CRYPT}$2y$04$abcdefghijklmnopqrstuu0123456789abcdefghijklmnopqrstu",
		    false },
		{ "md5crypt", "{NOAUTH}", true },
		{ "php_crypt:SHA512",
		    "{BLF-CRYPT}$2y$04$abcdefghijklmnopqrstuu0123456789abcdefghijklmnopqrstu",
		    true },
		{ "php_crypt:SHA512", "$6$salt$abc", true },
		{ "php_crypt:SHA512",
		    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA",
		    false },
		{ "php_crypt:SHA512", "$y$j9T$salt$hash", false },
		{ "php_crypt:SHA512",
		    "{SHA512-CRYPT.B64}JDYkc2FsdCRhYmM=", false },
		{ "sha512.b64", "{SHA512-CRYPT.B64}JDYkc2FsdCRhYmM=", true },
		{ "sha512.b64", "$6$salt$abc", false },
		{ "sha512.b64", "{MD5-CRYPT}$1$abcdefgh$0123456789abcdefghijkl",
		    true },
		{ "dovecot:SHA512-CRYPT",
		    "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA",
		    true },
		{ "dovecot:SHA512-CRYPT", "$6$salt$abc", false },
		{ "dovecot:SHA512-CRYPT",
		    "{SHA512-CRYPT.B64}JDYkc2FsdCRhYmM=", true },
		{ "", "$6$salt$abc", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pfa_encrypt e;
		struct err err = ERR_INIT;

		pfa_encrypt_parse(cases[i].mode, &e, &err);
		is_int(password_pfa_verifiable(&e, cases[i].stored),
		    cases[i].yes, "mode '%s' %s '%.24s...'", cases[i].mode,
		    cases[i].yes ? "verifies" : "cannot verify",
		    cases[i].stored);
	}
}

int
main(void)
{
	test_policy();
	test_modes();
	test_make();
	test_verifiable();
	return done_testing();
}
