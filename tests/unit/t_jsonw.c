/*
 * jsonw: the direct JSON writer gives exactly the bytes jansson gives for
 * the same string (as postinod makes it: http_json_str) and integer, on
 * fixed cases (every control byte, quotes, backslash, slash, non-ASCII,
 * invalid and overlong UTF-8, surrogates) and on random byte strings; and
 * what it writes parses back (json_loads) to the string it was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "../../src/postinod/http.c"
#include "../../src/postinod/jsonw.c"

static int mismatches;

/* jansson's rendering of s, as the tree path renders a string value. */
static char *
jansson_of(const char *s)
{
	json_t *j = http_json_str(s);
	char *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(j);
	return out;
}

static void
check_str(const char *s, const char *what)
{
	struct buf b;
	char *want = jansson_of(s);
	json_t *back;

	buf_init(&b, 0);
	if (jsonw_str(&b, s) == -1 || want == NULL ||
	    strcmp(buf_cstr(&b), want) != 0) {
		if (mismatches++ < 5)
			diag("%s: jsonw %s, jansson %s", what, buf_cstr(&b),
			    want != NULL ? want : "(null)");
	} else if (jsonw_utf8_ok(s, strlen(s))) {
		/* Valid UTF-8 comes back unchanged. */
		back = json_loads(buf_cstr(&b), JSON_DECODE_ANY, NULL);
		if (back == NULL || !json_is_string(back) ||
		    strcmp(json_string_value(back), s) != 0) {
			if (mismatches++ < 5)
				diag("%s: does not parse back", what);
		}
		json_decref(back);
	}
	free(want);
	buf_release(&b);
}

static void
test_fixed(void)
{
	static const char *const cases[] = { "", "plain", "a\"b", "a\\b", "a/b",
		"\b\f\n\r\t", "\x7f", "M\xc3\xbcller",
		"\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x80\xa8\xe2\x80\xa9",
		"\xef\xbb\xbf bom", "bad \xff byte", "\xc3", "\xc3(",
		"\xc0\xaf overlong", "\xe0\x80\xaf", "\xed\xa0\x80 surrogate",
		"\xf4\x90\x80\x80 above", "\xf4\x8f\xbf\xbf max", "\xf5\x80",
		"x\xc3\xbc\xff mixed", "\"\\\"\\\\", NULL };
	char all[64];
	int i;

	mismatches = 0;
	for (i = 0; cases[i] != NULL; i++)
		check_str(cases[i], cases[i]);
	for (i = 1; i < 64; i++)
		all[i - 1] = (char)i;
	all[63] = '\0';
	check_str(all, "bytes 1..63");
	for (i = 1; i < 256; i++) {
		char one[4] = { 'a', (char)i, 'z', '\0' };

		check_str(one, "one byte");
	}
	is_int(mismatches, 0, "fixed strings and every single byte");
}

static void
test_random(void)
{
	char s[64];
	unsigned seed = 20261207;

	mismatches = 0;
	for (int n = 0; n < 200000; n++) {
		size_t len = (size_t)(rand_r(&seed) % 24);

		for (size_t i = 0; i < len; i++) {
			int c = rand_r(&seed) % 256;

			/* Mostly plausible UTF-8 lead/continuation bytes. */
			if (rand_r(&seed) % 2 == 0)
				c = 0x80 + rand_r(&seed) % 0x78;
			s[i] = (char)(c == 0 ? 'x' : c);
		}
		s[len] = '\0';
		check_str(s, "random");
	}
	is_int(mismatches, 0, "200,000 random strings");
}

static void
test_int(void)
{
	static const int64_t v[] = { 0, 1, -1, 1048576, INT64_MAX, INT64_MIN };
	int bad = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b;
		json_t *j = json_integer(v[i]);
		char *want = json_dumps(j, JSON_ENCODE_ANY);

		buf_init(&b, 0);
		jsonw_int(&b, v[i]);
		bad += strcmp(buf_cstr(&b), want) != 0;
		free(want);
		json_decref(j);
		buf_release(&b);
	}
	is_int(bad, 0, "integers as jansson writes them");
}

static void
test_limit(void)
{
	struct buf b;

	buf_init(&b, 8);
	ok(jsonw_str(&b, "0123456789") == -1, "a full buffer is -1");
	buf_release(&b);
}

int
main(void)
{
	test_fixed();
	test_random();
	test_int();
	test_limit();
	return done_testing();
}
