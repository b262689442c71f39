#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pwpolicy.h"
#include "strutil.h"
#include "banned.h"

int
pwpolicy_check(const struct pw_policy *p, const char *plain, struct err *err)
{
	int64_t chars = 0, letters = 0, digits = 0;

	for (const unsigned char *s = (const unsigned char *)plain; *s != '\0';
	     s++) {
		if ((*s & 0xc0) != 0x80) /* not a UTF-8 continuation byte */
			chars++;
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			letters++;
		else if (*s >= '0' && *s <= '9')
			digits++;
	}
	if (chars < p->min_length) {
		err_set(err, ERR_INVALID,
		    "the password is too short: it needs at least %lld characters (password.min_length)",
		    (long long)p->min_length);
		return err_hint(err, "choose a longer password");
	}
	if (letters < p->min_letters) {
		err_set(err, ERR_INVALID,
		    "the password has too few letters: it needs at least %lld of a-z, A-Z (password.min_letters)",
		    (long long)p->min_letters);
		return err_hint(err, "choose a password with more letters");
	}
	if (digits < p->min_digits) {
		err_set(err, ERR_INVALID,
		    "the password has too few digits: it needs at least %lld of 0-9 (password.min_digits)",
		    (long long)p->min_digits);
		return err_hint(err, "choose a password with more digits");
	}
	return 0;
}

/* php_crypt's METHOD: PostfixAdmin's name, crypt(3) prefix, Dovecot's. */
static const struct {
	const char *method;
	const char *scheme;
	int64_t min, max; /* DIFFICULTY; 0, 0 = ignored */
} php_methods[] = {
	{ "MD5", "MD5-CRYPT", 0, 0 },
	{ "BLOWFISH", "BLF-CRYPT", 4, 31 },
	{ "SHA256", "SHA256-CRYPT", 1000, 999999999 },
	{ "SHA512", "SHA512-CRYPT", 1000, 999999999 },
};

/* Schemes dovecot:SCHEME may name: the ones postino can write. */
static const char *const dovecot_schemes[] = { "BLF-CRYPT", "SHA512-CRYPT",
	"SHA256-CRYPT", "ARGON2I", "ARGON2ID", "MD5-CRYPT", NULL };

static int
refused(struct err *err, const char *why, const char *mode)
{
	err_set(err, ERR_CONFIG, "PostfixAdmin's encrypt mode '%.64s' %s", mode,
	    why);
	return err_hint(err,
	    "use md5crypt, sha512.b64, php_crypt[:MD5|BLOWFISH|SHA256|SHA512[:DIFFICULTY[:PREFIX]]] or dovecot:SCHEME, and the same in PostfixAdmin's config.local.php; php_crypt:SHA512 or dovecot:BLF-CRYPT are the sensible ones");
}

static int
php_crypt(const char *v, struct pfa_encrypt *e, struct err *err)
{
	char f[4][64];
	size_t nf = 0;
	const char *p = v;
	size_t m;

	/* explode(':', v), at most four fields. */
	for (;;) {
		const char *c = strchr(p, ':');
		size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

		if (nf == 4)
			return refused(
			    err, "has more than four ':'-separated fields", v);
		if (n >= sizeof(f[0]))
			return refused(err, "has a field that is too long", v);
		memcpy(f[nf], p, n);
		f[nf++][n] = '\0';
		if (c == NULL)
			break;
		p = c + 1;
	}
	if (strcmp(f[0], "php_crypt") != 0)
		return refused(err, "is not one PostfixAdmin knows", v);
	if (nf == 1)
		str_copy(f[1], "SHA512", sizeof(f[1]));
	for (m = 0; m < sizeof(php_methods) / sizeof(php_methods[0]); m++)
		if (strcmp(f[1], php_methods[m].method) == 0)
			break;
	if (strcmp(f[1], "DES") == 0)
		return refused(err,
		    "is refused: DES crypt keeps only 8 characters of a password",
		    v);
	if (m == sizeof(php_methods) / sizeof(php_methods[0]))
		return refused(err,
		    "names a method PostfixAdmin does not know (it takes MD5, BLOWFISH, SHA256 or SHA512, in capitals)",
		    v);
	e->kind = PFA_PHP_CRYPT;
	str_copy(e->scheme, php_methods[m].scheme, sizeof(e->scheme));
	if (nf > 2 && f[2][0] != '\0' && strcmp(f[2], "0") != 0 &&
	    php_methods[m].max > 0) {
		char *end;
		long long d = strtoll(f[2], &end, 10);

		if (*end != '\0' || f[2][0] == '-' || f[2][0] == '+' ||
		    d < php_methods[m].min || d > php_methods[m].max) {
			err_set(err, ERR_CONFIG,
			    "PostfixAdmin's encrypt mode '%.64s': the difficulty of %s must be %lld..%lld",
			    v, f[1], (long long)php_methods[m].min,
			    (long long)php_methods[m].max);
			return -1;
		}
		e->cost = d;
	}
	if (nf > 3 && f[3][0] != '\0') {
		char own[24];

		snprintf(own, sizeof(own), "{%s}", php_methods[m].scheme);
		if (strcmp(f[3], "{CRYPT}") != 0 && strcmp(f[3], own) != 0) {
			err_set(err, ERR_CONFIG,
			    "PostfixAdmin's encrypt mode '%.64s': the prefix must be %s or {CRYPT}, which Dovecot verifies a %s hash under",
			    v, own, f[1]);
			return -1;
		}
		str_copy(e->prefix, f[3], sizeof(e->prefix));
	}
	return 0;
}

int
pfa_encrypt_parse(const char *v, struct pfa_encrypt *e, struct err *err)
{
	memset(e, 0, sizeof(*e));
	if (v == NULL || *v == '\0')
		return 0;
	if (strcmp(v, "md5crypt") == 0) {
		e->kind = PFA_MD5CRYPT;
		str_copy(e->scheme, "MD5-CRYPT", sizeof(e->scheme));
		return 0;
	}
	if (strcmp(v, "sha512.b64") == 0) {
		e->kind = PFA_SHA512_B64;
		e->b64 = true;
		str_copy(e->scheme, "SHA512-CRYPT", sizeof(e->scheme));
		str_copy(e->prefix, "{SHA512-CRYPT.B64}", sizeof(e->prefix));
		return 0;
	}
	if (strcmp(v, "md5") == 0 || strcmp(v, "cleartext") == 0)
		return refused(err,
		    "is refused: postino does not store unsalted MD5 or clear text",
		    v);
	if (strcmp(v, "system") == 0)
		return refused(err,
		    "is refused: DES crypt keeps only 8 characters of a password",
		    v);
	if (strcmp(v, "mysql_encrypt") == 0 || strcmp(v, "authlib") == 0)
		return refused(err, "is not supported by postino", v);
	if (strncmp(v, "dovecot:", 8) == 0) {
		char up[sizeof(e->scheme)];
		size_t i;

		for (i = 0; v[8 + i] != '\0' && i + 1 < sizeof(up); i++)
			up[i] = (char)(v[8 + i] >= 'a' && v[8 + i] <= 'z'
				? v[8 + i] - 'a' + 'A'
				: v[8 + i]);
		up[i] = '\0';
		for (i = 0; dovecot_schemes[i] != NULL; i++)
			if (strcmp(up, dovecot_schemes[i]) == 0 &&
			    strlen(v + 8) == strlen(up))
				break;
		if (dovecot_schemes[i] == NULL)
			return refused(err,
			    "names a scheme postino does not write (it writes BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2I, ARGON2ID and MD5-CRYPT)",
			    v);
		e->kind = PFA_DOVECOT;
		str_copy(e->scheme, up, sizeof(e->scheme));
		snprintf(e->prefix, sizeof(e->prefix), "{%s}", up);
		return 0;
	}
	if (strcmp(v, "php_crypt") == 0 || strncmp(v, "php_crypt:", 10) == 0)
		return php_crypt(v, e, err);
	return refused(err, "is not one PostfixAdmin knows", v);
}
