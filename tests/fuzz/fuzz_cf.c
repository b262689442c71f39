/*
 * Fuzz the Postfix map-file reader.  A file that parses must hold unique,
 * well-formed keys with trimmed values that cf_get() finds, and written
 * back as "key = value" lines it must parse to the same entries; a
 * failure must be an ERR_CONFIG naming the file, leaving nothing behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cf.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_cf: invariant broken: %s\n", what);
		abort();
	}
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf cf, again;
	struct err err = ERR_INIT;
	struct buf b;

	if (cf_parse_buf(&cf, "fuzz.cf", (const char *)data, size, &err) ==
	    -1) {
		check(err.kind == ERR_CONFIG, "failures are ERR_CONFIG");
		check(strncmp(err.msg, "fuzz.cf", 7) == 0,
		    "failures name the file");
		check(cf.v == NULL && cf.n == 0 && cf.path == NULL,
		    "failures leave nothing behind");
		return 0;
	}
	buf_init(&b, 0);
	for (size_t i = 0; i < cf.n; i++) {
		const char *k = cf.v[i].key, *v = cf.v[i].value;
		size_t vl = strlen(v);

		check(*k != '\0' && strchr(k, '=') == NULL, "key well formed");
		check(vl == 0 || (!is_space(v[0]) && !is_space(v[vl - 1])),
		    "value trimmed");
		check(strchr(v, '\n') == NULL, "no newline in a value");
		check(cf_get(&cf, k) == v, "cf_get finds the entry");
		check(cf.v[i].line >= 1, "entries have a line");
		buf_printf(&b, "%s = %s\n", k, v);
	}
	check(cf_parse_buf(&again, "again.cf", buf_cstr(&b), b.len, &err) == 0,
	    "written back, the file parses");
	check(again.n == cf.n, "round trip: entry count");
	for (size_t i = 0; i < cf.n; i++) {
		check(strcmp(again.v[i].key, cf.v[i].key) == 0,
		    "round trip: key");
		check(strcmp(again.v[i].value, cf.v[i].value) == 0,
		    "round trip: value");
	}
	cf_release(&again);
	buf_release(&b);
	cf_release(&cf);
	return 0;
}
