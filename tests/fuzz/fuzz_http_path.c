/*
 * Fuzz postinod's percent-decoding of paths and query arguments
 * (http_unescape, installed as libmicrohttpd's unescaper) and the check
 * the SCIM router makes of a resource id: a decoded string is never longer
 * than its input, never holds a NUL or other control byte that could cut
 * or disguise an id, and whatever a control escape was, the check sees it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postinod/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_http_path: invariant broken: %s\n", what);
		abort();
	}
}

static bool
raw_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	size_t in, out;
	bool had_control, had_raw;

	memcpy(s, data, size);
	s[size] = '\0';
	in = strlen(s);
	had_control = http_has_control(s);
	had_raw = raw_control(s);
	out = http_unescape(s);
	check(out <= in, "the decoded string grew");
	check(strlen(s) == out, "a NUL inside the decoded string");
	check(
	    had_raw || !raw_control(s), "a control byte came out of an escape");
	check(!had_control || http_has_control(s),
	    "decoding hid a control byte from the id check");
	free(s);
	return 0;
}
