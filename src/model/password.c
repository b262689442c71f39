#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "password.h"
#include "pwpolicy.h"
#include "strutil.h"
#include "banned.h"

const char *const password_schemes[] = { "BLF-CRYPT", "SHA512-CRYPT", "ARGON2I",
	"ARGON2ID", "MD5-CRYPT", NULL };

/* Argon2 parameters: Dovecot-compatible, ~0.2 s on a small server. */
#define ARGON2_T 3
#define ARGON2_M 65536
#define ARGON2_P 1
#define ARGON2_SALT 16
#define ARGON2_HASH 32

bool
password_scheme_valid(const char *s)
{
	for (size_t i = 0; password_schemes[i] != NULL; i++)
		if (str_eq_nocase(s, password_schemes[i]))
			return true;
	return false;
}

static int
do_crypt(const char *prefix, unsigned long count, const char *plain, char *out,
    size_t outsize, struct err *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if (crypt_gensalt_rn(prefix, count, NULL, 0, salt, sizeof(salt)) ==
	    NULL)
		return err_set(
		    err, ERR_INTERNAL, "cannot generate a %s salt", prefix);
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return err_set(err, ERR_INTERNAL, "out of memory");
	h = crypt_r(plain, salt, cd);
	if (h == NULL || h[0] == '*')
		err_set(err, ERR_INTERNAL, "crypt failed for %s", prefix);
	else if (str_copy(out, h, outsize) >= outsize)
		err_set(err, ERR_INTERNAL, "hash too long");
	else
		rc = 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/*
 * The hash of plain in scheme, without a prefix: bcost is the bcrypt cost
 * (4..31), rounds the SHA-crypt rounds (0 = crypt's default).  *name_r is
 * the scheme's canonical name.
 */
static int
hash_inner(const char *scheme, const char *plain, int64_t bcost, int64_t rounds,
    char *inner, size_t isize, const char **name_r, struct err *err)
{
	if (plain == NULL || plain[0] == '\0')
		return err_set(err, ERR_INVALID, "the password is empty");
	if (strlen(plain) > PASSWORD_INPUT_MAX)
		return err_set(err, ERR_INVALID,
		    "the password is longer than %d bytes", PASSWORD_INPUT_MAX);
	if (str_eq_nocase(scheme, "BLF-CRYPT")) {
		*name_r = "BLF-CRYPT";
		if (bcost < 4 || bcost > 31)
			return err_set(err, ERR_CONFIG,
			    "bcrypt cost %lld out of range 4..31",
			    (long long)bcost);
		/*
		 * bcrypt reads at most 72 bytes; refuse longer passwords
		 * rather than silently ignoring their tail.
		 */
		if (strlen(plain) > 72)
			return err_set(err, ERR_INVALID,
			    "BLF-CRYPT passwords are limited to 72 bytes; choose a shorter one or the ARGON2ID scheme");
		return do_crypt(
		    "$2y$", (unsigned long)bcost, plain, inner, isize, err);
	}
	if (str_eq_nocase(scheme, "SHA512-CRYPT")) {
		*name_r = "SHA512-CRYPT";
		return do_crypt(
		    "$6$", (unsigned long)rounds, plain, inner, isize, err);
	}
	/* Not a --scheme choice; php_crypt:SHA256 and dovecot: write it. */
	if (str_eq_nocase(scheme, "SHA256-CRYPT")) {
		*name_r = "SHA256-CRYPT";
		return do_crypt(
		    "$5$", (unsigned long)rounds, plain, inner, isize, err);
	}
	if (str_eq_nocase(scheme, "MD5-CRYPT")) {
		*name_r = "MD5-CRYPT";
		return do_crypt("$1$", 0, plain, inner, isize, err);
	}
	if (str_eq_nocase(scheme, "ARGON2I") ||
	    str_eq_nocase(scheme, "ARGON2ID")) {
		bool id = str_eq_nocase(scheme, "ARGON2ID");
		unsigned char salt[ARGON2_SALT];
		int r;

		*name_r = id ? "ARGON2ID" : "ARGON2I";
		if (RAND_bytes(salt, sizeof(salt)) != 1)
			return err_set(err, ERR_INTERNAL, "no random bytes");
		r = argon2_hash(ARGON2_T, ARGON2_M, ARGON2_P, plain,
		    strlen(plain), salt, sizeof(salt), NULL, ARGON2_HASH, inner,
		    isize, id ? Argon2_id : Argon2_i, ARGON2_VERSION_NUMBER);
		if (r != ARGON2_OK)
			return err_set(err, ERR_INTERNAL, "argon2: %s",
			    argon2_error_message(r));
		return 0;
	}
	err_set(err, ERR_INVALID, "unknown password scheme '%.32s'", scheme);
	return err_hint(
	    err, "use BLF-CRYPT, SHA512-CRYPT, ARGON2I, ARGON2ID or MD5-CRYPT");
}

int
password_hash(const char *scheme, const char *plain, int cost, char *out,
    size_t outsize, struct err *err)
{
	char inner[PASSWORD_HASH_MAX];
	const char *name = NULL;
	int rc = 0;

	if (hash_inner(
		scheme, plain, cost, 0, inner, sizeof(inner), &name, err) == -1)
		return -1;
	if ((size_t)snprintf(out, outsize, "{%s}%s", name, inner) >= outsize)
		rc = err_set(err, ERR_INTERNAL, "hash too long");
	explicit_bzero(inner, sizeof(inner));
	return rc;
}

int
password_make(const struct postino_conf *conf, const char *scheme,
    const char *plain, char *out, size_t outsize, struct err *err)
{
	struct pw_policy pol = { conf->password.min_length,
		conf->password.min_letters, conf->password.min_digits };
	struct pfa_encrypt e;
	char inner[PASSWORD_HASH_MAX], b64[PASSWORD_HASH_MAX];
	const char *name = NULL, *body = inner;
	int64_t bcost = conf->bcrypt_cost, rounds = 0;
	int rc = 0;

	if (plain == NULL || plain[0] == '\0')
		return err_set(err, ERR_INVALID, "the password is empty");
	if (pwpolicy_check(&pol, plain, err) == -1)
		return -1;
	if (pfa_encrypt_parse(conf->postfixadmin.encrypt, &e, err) == -1)
		return -1;
	if (e.kind == PFA_NONE)
		return password_hash(
		    scheme != NULL ? scheme : conf->default_password_scheme,
		    plain, (int)conf->bcrypt_cost, out, outsize, err);
	if (scheme != NULL && !str_eq_nocase(scheme, e.scheme)) {
		err_set(err, ERR_INVALID,
		    "the scheme '%.32s' is not the %s that postfixadmin.encrypt = '%.64s' stores",
		    scheme, e.scheme, conf->postfixadmin.encrypt);
		return err_hint(err,
		    "leave the scheme out, or change postfixadmin.encrypt here and in PostfixAdmin");
	}
	if (e.cost > 0 && strcmp(e.scheme, "BLF-CRYPT") == 0)
		bcost = e.cost;
	else if (e.cost > 0)
		rounds = e.cost;
	if (hash_inner(e.scheme, plain, bcost, rounds, inner, sizeof(inner),
		&name, err) == -1)
		return -1;
	if (e.b64) {
		/* sha512.b64: base64 of the whole crypt string. */
		if (strlen(inner) * 4 / 3 + 4 >= sizeof(b64))
			rc = err_set(err, ERR_INTERNAL, "hash too long");
		else
			EVP_EncodeBlock((unsigned char *)b64,
			    (const unsigned char *)inner, (int)strlen(inner));
		body = b64;
	}
	if (rc == 0 &&
	    (size_t)snprintf(out, outsize, "%s%s", e.prefix, body) >= outsize)
		rc = err_set(err, ERR_INTERNAL, "hash too long");
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(b64, sizeof(b64));
	return rc;
}

/* Split "{SCHEME.ENC}rest"; scheme upper-cased into sbuf, enc into ebuf. */
static const char *
split_prefix(
    const char *stored, char *sbuf, size_t ssize, char *ebuf, size_t esize)
{
	const char *end;
	size_t n;
	char *dot;

	sbuf[0] = ebuf[0] = '\0';
	if (stored[0] != '{' || (end = strchr(stored, '}')) == NULL)
		return stored;
	n = (size_t)(end - stored - 1);
	if (n == 0 || n >= ssize)
		return stored;
	memcpy(sbuf, stored + 1, n);
	sbuf[n] = '\0';
	for (char *p = sbuf; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	dot = strchr(sbuf, '.');
	if (dot != NULL) {
		str_copy(ebuf, dot + 1, esize);
		*dot = '\0';
	}
	return end + 1;
}

static int
b64_decode(const char *in, unsigned char *out, size_t outsize, size_t *n_r)
{
	size_t len = strlen(in);
	int n;

	if (len == 0 || len % 4 != 0 || (len / 4) * 3 > outsize)
		return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0)
		return -1;
	if (len >= 1 && in[len - 1] == '=')
		n--;
	if (len >= 2 && in[len - 2] == '=')
		n--;
	*n_r = (size_t)n;
	return 0;
}

static int
hex_decode(const char *in, unsigned char *out, size_t outsize, size_t *n_r)
{
	size_t len = strlen(in);

	if (len % 2 != 0 || len / 2 > outsize)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned int v;

		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	*n_r = len / 2;
	return 0;
}

static int
crypt_verify(const char *hash, const char *plain, struct err *err)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	int r;

	if (cd == NULL)
		return err_set(err, ERR_INTERNAL, "out of memory");
	h = crypt_r(plain, hash, cd);
	if (h == NULL || h[0] == '*') {
		free(cd);
		return err_set(err, ERR_INVALID, "malformed crypt hash");
	}
	r = strlen(h) == strlen(hash) &&
	    CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

/* Digest schemes: {SHA}, {SSHA}, {SHA256}... salted ones append the salt. */
static int
digest_verify(const EVP_MD *md, bool salted, const char *enc, const char *body,
    const char *plain, struct err *err)
{
	unsigned char raw[512], dig[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	size_t n, mdlen = (size_t)EVP_MD_get_size(md);
	EVP_MD_CTX *ctx;
	int ok;

	if (strcmp(enc, "HEX") == 0 ? hex_decode(body, raw, sizeof(raw), &n)
				    : b64_decode(body, raw, sizeof(raw), &n))
		return err_set(err, ERR_INVALID, "malformed digest hash");
	if (n < mdlen || (!salted && n != mdlen))
		return err_set(
		    err, ERR_INVALID, "digest hash has the wrong length");
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return err_set(err, ERR_INTERNAL, "out of memory");
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	    EVP_DigestUpdate(ctx, plain, strlen(plain)) &&
	    (!salted || EVP_DigestUpdate(ctx, raw + mdlen, n - mdlen)) &&
	    EVP_DigestFinal_ex(ctx, dig, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(err, ERR_INTERNAL, "digest failed");
	return CRYPTO_memcmp(dig, raw, mdlen) == 0;
}

int
password_verify(const char *stored, const char *plain, struct err *err)
{
	char scheme[64], enc[16];
	const char *body =
	    split_prefix(stored, scheme, sizeof(scheme), enc, sizeof(enc));
	char decoded[PASSWORD_HASH_MAX];

	if (stored == NULL || stored[0] == '\0')
		return 0;
	if (strcmp(scheme, "NOAUTH") == 0)
		return 0;
	/* "{SHA512-CRYPT.B64}" carries a base64-encoded crypt string. */
	if (enc[0] != '\0' &&
	    (str_suffix(scheme, "CRYPT") || str_prefix(scheme, "ARGON2"))) {
		size_t n;

		if ((strcmp(enc, "HEX") == 0
			    ? hex_decode(body, (unsigned char *)decoded,
				  sizeof(decoded) - 1, &n)
			    : b64_decode(body, (unsigned char *)decoded,
				  sizeof(decoded) - 1, &n)) == -1)
			return err_set(
			    err, ERR_INVALID, "malformed %s hash", scheme);
		decoded[n] = '\0';
		body = decoded;
	}
	if (scheme[0] == '\0' || str_suffix(scheme, "CRYPT")) {
		if (body[0] == '$' || (scheme[0] != '\0' && strlen(body) == 13))
			return crypt_verify(body, plain, err);
		if (scheme[0] == '\0' && strlen(body) == 32) {
			/* Bare 32-hex: PostfixAdmin's md5 (PLAIN-MD5). */
			return digest_verify(
			    EVP_md5(), false, "HEX", body, plain, err);
		}
		if (scheme[0] == '\0') {
			/* PostfixAdmin also verifies legacy plaintext. */
			return strlen(body) == strlen(plain) &&
			    CRYPTO_memcmp(body, plain, strlen(plain)) == 0;
		}
		return err_set(err, ERR_INVALID, "malformed %s hash", scheme);
	}
	if (strcmp(scheme, "ARGON2I") == 0 || strcmp(scheme, "ARGON2ID") == 0) {
		argon2_type t = str_prefix(body, "$argon2id$") ? Argon2_id
		    : str_prefix(body, "$argon2i$")	       ? Argon2_i
							       : Argon2_d;
		int r = argon2_verify(body, plain, strlen(plain), t);

		if (r == ARGON2_OK)
			return 1;
		if (r == ARGON2_VERIFY_MISMATCH)
			return 0;
		return err_set(err, ERR_INVALID, "malformed argon2 hash");
	}
	if (strcmp(scheme, "PLAIN") == 0 || strcmp(scheme, "CLEAR") == 0 ||
	    strcmp(scheme, "CLEARTEXT") == 0)
		return strlen(body) == strlen(plain) &&
		    CRYPTO_memcmp(body, plain, strlen(plain)) == 0;
	if (strcmp(scheme, "SHA") == 0 || strcmp(scheme, "SHA1") == 0)
		return digest_verify(EVP_sha1(), false, enc, body, plain, err);
	if (strcmp(scheme, "SSHA") == 0)
		return digest_verify(EVP_sha1(), true, enc, body, plain, err);
	if (strcmp(scheme, "SHA256") == 0)
		return digest_verify(
		    EVP_sha256(), false, enc, body, plain, err);
	if (strcmp(scheme, "SSHA256") == 0)
		return digest_verify(EVP_sha256(), true, enc, body, plain, err);
	if (strcmp(scheme, "SHA512") == 0)
		return digest_verify(
		    EVP_sha512(), false, enc, body, plain, err);
	if (strcmp(scheme, "SSHA512") == 0)
		return digest_verify(EVP_sha512(), true, enc, body, plain, err);
	if (strcmp(scheme, "PLAIN-MD5") == 0)
		return digest_verify(
		    EVP_md5(), false, enc[0] ? enc : "HEX", body, plain, err);
	if (strcmp(scheme, "MD5") == 0) {
		/* Dovecot's MD5 is MD5-CRYPT, falling back to a raw digest. */
		if (body[0] == '$')
			return crypt_verify(body, plain, err);
		return digest_verify(EVP_md5(), false, enc, body, plain, err);
	}
	return err_set(
	    err, ERR_INVALID, "unsupported password scheme '%s'", scheme);
}

const char *
password_scheme_of(const char *stored, char *out, size_t size)
{
	char scheme[64], enc[16];
	const char *body;

	if (stored == NULL || stored[0] == '\0') {
		str_copy(out, "EMPTY", size);
		return out;
	}
	body = split_prefix(stored, scheme, sizeof(scheme), enc, sizeof(enc));
	if (scheme[0] != '\0' && strcmp(scheme, "CRYPT") != 0) {
		str_copy(out, scheme, size);
		return out;
	}
	if (str_prefix(body, "$2a$") || str_prefix(body, "$2b$") ||
	    str_prefix(body, "$2y$"))
		str_copy(out, "BLF-CRYPT", size);
	else if (str_prefix(body, "$6$"))
		str_copy(out, "SHA512-CRYPT", size);
	else if (str_prefix(body, "$5$"))
		str_copy(out, "SHA256-CRYPT", size);
	else if (str_prefix(body, "$1$"))
		str_copy(out, "MD5-CRYPT", size);
	else if (str_prefix(body, "$y$"))
		str_copy(out, "YESCRYPT", size);
	else if (strlen(body) == 13 && body[0] != '$')
		str_copy(out, "DES-CRYPT", size);
	else if (scheme[0] == '\0' && strlen(body) == 32)
		str_copy(out, "PLAIN-MD5", size);
	else if (scheme[0] == '\0')
		str_copy(out, "UNPREFIXED", size);
	else
		str_copy(out, "CRYPT", size);
	return out;
}

bool
password_scheme_weak(const char *s)
{
	static const char *const weak[] = { "MD5-CRYPT", "DES-CRYPT", "PLAIN",
		"CLEAR", "CLEARTEXT", "PLAIN-MD5", "MD5", "SMD5", "SHA", "SHA1",
		"SSHA", "SHA256", "SHA512", "PLAIN-MD4", "LDAP-MD5", "HMAC-MD5",
		"UNPREFIXED", "CRYPT", NULL };

	for (size_t i = 0; weak[i] != NULL; i++)
		if (strcmp(s, weak[i]) == 0)
			return true;
	return false;
}

/* Characters of crypt(3)'s base64 alphabet. */
static bool
crypt64(const char *s)
{
	return strspn(s,
		   "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
	    strlen(s);
}

/* Structural check of a crypt string, without hashing anything. */
static bool
crypt_shape(const char *h)
{
	const char *last;

	if (str_prefix(h, "$2a$") || str_prefix(h, "$2b$") ||
	    str_prefix(h, "$2y$"))
		return strlen(h) == 60 && h[3] == '$' && h[6] == '$' &&
		    h[4] >= '0' && h[4] <= '3' && h[5] >= '0' && h[5] <= '9' &&
		    crypt64(h + 7);
	if (h[0] != '$') /* DES: 13 characters */
		return strlen(h) == 13 && crypt64(h);
	last = strrchr(h, '$');
	if (last == NULL || last == h || last[1] == '\0')
		return false;
	if (str_prefix(h, "$1$") || str_prefix(h, "$5$") ||
	    str_prefix(h, "$6$") || str_prefix(h, "$y$") ||
	    str_prefix(h, "$7$") || str_prefix(h, "$gy$"))
		return crypt64(last + 1);
	return false;
}

bool
password_hash_recognised(const char *stored)
{
	char scheme[64], enc[16], kind[32];
	const char *body;
	struct err e = ERR_INIT;

	password_scheme_of(stored, kind, sizeof(kind));
	if (strcmp(kind, "EMPTY") == 0 || strcmp(kind, "UNPREFIXED") == 0)
		return false;
	if (strcmp(kind, "NOAUTH") == 0)
		return true;
	body = split_prefix(stored, scheme, sizeof(scheme), enc, sizeof(enc));
	/*
	 * The common formats are checked by shape, which costs nothing;
	 * a bulk import of 100,000 bcrypt hashes must not run bcrypt.
	 */
	if (enc[0] == '\0' &&
	    (scheme[0] == '\0' || str_suffix(scheme, "CRYPT")))
		return crypt_shape(body);
	if (enc[0] == '\0' && str_prefix(scheme, "ARGON2"))
		return str_prefix(body, "$argon2") &&
		    strstr(body, "$v=") != NULL;
	/* The rest (digests, encoded forms) parse without key stretching. */
	return password_verify(stored, "\x01postino-probe", &e) != -1;
}

/* A crypt string PHP's crypt() computes: MD5, bcrypt, SHA-256/512, DES. */
static bool
php_crypt_shape(const char *h)
{
	return crypt_shape(h) &&
	    (str_prefix(h, "$1$") || str_prefix(h, "$2a$") ||
		str_prefix(h, "$2b$") || str_prefix(h, "$2x$") ||
		str_prefix(h, "$2y$") || str_prefix(h, "$5$") ||
		str_prefix(h, "$6$") || h[0] != '$');
}

/* Length of a "{NAME}" prefix whose NAME is all of chars, or 0. */
static size_t
pfa_prefix_len(const char *s, const char *chars)
{
	size_t n;

	if (s[0] != '{')
		return 0;
	n = strspn(s + 1, chars);
	return n > 0 && s[1 + n] == '}' ? n + 2 : 0;
}

bool
password_pfa_verifiable(const struct pfa_encrypt *e, const char *stored)
{
	const char *dollar;
	size_t n;

	if (stored == NULL || stored[0] == '\0' ||
	    strcmp(stored, PASSWORD_NOAUTH) == 0)
		return true; /* nobody's password: nothing to verify */
	switch (e->kind) {
	case PFA_NONE:
		return true;
	case PFA_MD5CRYPT:
		/* md5crypt($pw, salt), salt = the second '$' field, <= 8. */
		if (!str_prefix(stored, "$1$") || !crypt_shape(stored))
			return false;
		dollar = strchr(stored + 3, '$');
		return dollar != NULL && dollar - (stored + 3) <= 8;
	case PFA_SHA512_B64:
		if (str_prefix(stored, "{MD5-CRYPT}$1$"))
			return crypt_shape(stored + 11);
		if (str_prefix(stored, "{SHA512-CRYPT.B64}")) {
			char raw[PASSWORD_HASH_MAX];

			if (b64_decode(stored + 18, (unsigned char *)raw,
				sizeof(raw) - 1, &n) == -1)
				return false;
			raw[n] = '\0';
			return str_prefix(raw, "$6$") && crypt_shape(raw);
		}
		return false;
	case PFA_PHP_CRYPT:
		/* crypt($pw, hash), an optional {[-A-Z0-9]+} kept aside. */
		n = pfa_prefix_len(
		    stored, "-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		return stored[n] != '\0' && php_crypt_shape(stored + n);
	case PFA_DOVECOT:
		/* doveadm pw -t needs the {SCHEME} prefix PostfixAdmin reads.
		 */
		n = pfa_prefix_len(
		    stored, ".-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		return n > 0 && stored[n] != '\0' &&
		    password_hash_recognised(stored);
	}
	return false;
}
