/*
 * Fuzz postinod's direct JSON writer (jsonw.h) against jansson: for any
 * byte string, jsonw_str writes exactly what jansson writes for the string
 * postinod would make of it (http_json_str), and valid UTF-8 parses back
 * unchanged.  Names and externalIds reach it from the database, where any
 * client (SCIM, the CLI, PostfixAdmin, direct SQL) may have put them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postinod/http.c"
#include "../../src/postinod/jsonw.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_jsonw: invariant broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct buf b;
	json_t *j, *back;
	char *want;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0'; /* a C string ends at its first NUL, as a column does */
	buf_init(&b, 0);
	check(jsonw_str(&b, s) == 0, "jsonw_str failed");
	j = http_json_str(s);
	want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	check(want != NULL && strcmp(want, buf_cstr(&b)) == 0,
	    "differs from jansson");
	if (jsonw_utf8_ok(s, strlen(s))) {
		back = json_loads(buf_cstr(&b), JSON_DECODE_ANY, NULL);
		check(back != NULL && json_is_string(back) &&
			strcmp(json_string_value(back), s) == 0,
		    "does not parse back");
		json_decref(back);
	}
	free(want);
	json_decref(j);
	buf_release(&b);
	free(s);
	return 0;
}
