#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

char *
str_lower(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

static locale_t fold_locale;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void
fold_init(void)
{
	/* Built into glibc since 2.35; without it only ASCII is folded. */
	fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The code point of the UTF-8 sequence at s (n bytes left), or -1. */
static long
utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t k;
	long c;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	if (k > n)
		return -1;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[k] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = k;
	return c;
}

static size_t
utf8_encode(long c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

char *
str_fold(const char *s, size_t n, size_t *out_n)
{
	const unsigned char *u = (const unsigned char *)s;
	/* A simple mapping at most doubles a sequence (2 bytes -> 3). */
	char *out = xmalloc(2 * n + 1);
	size_t o = 0, i = 0, len;
	long c;

	pthread_once(&fold_once, fold_init);
	while (i < n) {
		if ((c = utf8_decode(u + i, n - i, &len)) == -1) {
			out[o++] = s[i++];
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if (c >= 0x80 && fold_locale != (locale_t)0)
			c = (long)towlower_l((wint_t)c, fold_locale);
		o += utf8_encode(c, out + o);
		i += len;
	}
	out[o] = '\0';
	*out_n = o;
	return out;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

char *
str_trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool
str_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool
str_eq_nocase(const char *a, const char *b)
{
	while (*a != '\0' && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
str_to_i64(const char *s, int64_t *v)
{
	const char *p = s;
	char *end;
	long long r;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	r = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = (int64_t)r;
	return 0;
}

int
str_to_int(const char *s, int min, int max, int *v)
{
	int64_t r;

	if (str_to_i64(s, &r) == -1 || r < min || r > max)
		return -1;
	*v = (int)r;
	return 0;
}

bool
str_ct_equal(const char *a, const char *b)
{
	unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	unsigned int la = 0, lb = 0;

	/*
	 * Compare fixed-size digests so neither the position of the first
	 * difference nor the lengths leak through timing.
	 */
	if (!EVP_Digest(a, strlen(a), da, &la, EVP_sha256(), NULL) ||
	    !EVP_Digest(b, strlen(b), db, &lb, EVP_sha256(), NULL) || la != lb)
		return false;
	return CRYPTO_memcmp(da, db, la) == 0;
}

size_t
str_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, best, r;

	if (la > 64 || lb > 64)
		return cap + 1;
	row = calloc(lb + 1, sizeof(*row));
	if (row == NULL)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev + cost;

			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			prev = cur;
			if (v < best)
				best = v;
		}
		if (best > cap) {
			free(row);
			return cap + 1;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

const char *
str_nearest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word), limit = len / 3 > 2 ? len / 3 : 2;
	const char *best = NULL;
	size_t bestd = limit + 1;

	for (; *candidates != NULL; candidates++) {
		size_t d = str_distance(word, *candidates, limit);

		/* A prefix of a candidate is a good suggestion too. */
		if (d > limit && len >= 2 && str_prefix(*candidates, word))
			d = limit;
		if (d < bestd) {
			bestd = d;
			best = *candidates;
		}
	}
	return best;
}

void
str_wipe(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
}

int
str_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
