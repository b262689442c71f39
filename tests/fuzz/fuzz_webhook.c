/*
 * Fuzz postinod's Zitadel webhook before the database: the input's first
 * line is a signature header checked against the rest as the body (no
 * fuzzed header can carry a valid HMAC, so it must be refused), the body
 * is parsed as an event, and the first line as a timestamp.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postinod/timefmt.c"
#include "../../src/postinod/webhook.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_webhook: invariant broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct webhook_keys keys;
	struct webhook_event ev;
	struct err err = ERR_INIT;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hl = nl != NULL ? (size_t)(nl - data) : size;
	const char *body = nl != NULL ? (const char *)nl + 1 : "";
	size_t blen = nl != NULL ? size - hl - 1 : 0;
	char *hdr;
	time_t t;

	if (keys.n == 0 &&
	    webhook_keys_parse("fuzz-secret-fuzz-secret-fuzz-"
			       "secret-0123",
		&keys, &err) == -1)
		abort();
	hdr = malloc(hl + 1);
	if (hdr == NULL)
		return 0;
	memcpy(hdr, data, hl);
	hdr[hl] = '\0';
	check(webhook_check(&keys, hdr, body, blen, 1800000000, 300, &err) ==
		    -1 &&
		err.kind == ERR_DENIED,
	    "a fuzzed signature was "
	    "accepted");
	err_clear(&err);
	if (webhook_parse(body, blen, &ev, &err) == 0) {
		if (ev.type != WH_UNKNOWN)
			check((ev.email[0] != '\0' || ev.subject[0] != '\0') &&
				strlen(ev.id) == 64,
			    "an event without subject, email or id");
	} else
		check((err.kind == ERR_USAGE || err.kind == ERR_INVALID) &&
			err.msg[0] != '\0',
		    "a refusal without kind or message");
	(void)timefmt_parse(hdr, &t);
	free(hdr);
	return 0;
}
