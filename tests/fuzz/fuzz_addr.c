/*
 * Fuzz address, domain, destination-list and quota validation (everything
 * a CLI argument, a SCIM body or an import line reaches first).  Accepted
 * values must be normalised fixed points (validating the output again
 * gives the same output), lower-case, within the length limits, and free
 * of the characters that would break a maildir path or a goto list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_addr: invariant broken: %s\n", what);
		abort();
	}
}

static void
no_upper(const char *s)
{
	for (; *s != '\0'; s++)
		check(!(*s >= 'A' && *s <= 'Z'), "output is lower-case");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, out[ADDR_MAX], again[ADDR_MAX], local[ADDR_MAX],
	    dom[ADDR_MAX], big[4096], big2[4096];
	struct err e = ERR_INIT;
	bool ca;
	int64_t q, q2;

	if (size > 2048)
		return 0;
	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	if (addr_domain("domain", in, out, &e) == 0) {
		no_upper(out);
		check(strlen(out) <= DOMAIN_MAX, "domain length");
		check(strchr(out, '/') == NULL, "no '/' in a domain");
		check(addr_domain("domain", out, again, &e) == 0 &&
			strcmp(out, again) == 0,
		    "domain is a fixed point");
	} else
		check(e.kind == ERR_INVALID && e.msg[0] != '\0',
		    "domain error is ERR_INVALID with a message");

	if (addr_address("mailbox", in, out, local, dom, &e) == 0) {
		no_upper(out);
		check(strlen(local) <= LOCAL_MAX, "local part length");
		check(strchr(local, '/') == NULL && strcmp(local, "..") != 0 &&
			local[0] != '.',
		    "local part is a safe path component");
		check(strlen(out) == strlen(local) + 1 + strlen(dom),
		    "address = local @ domain");
		check(
		    addr_address("mailbox", out, again, NULL, NULL, &e) == 0 &&
			strcmp(out, again) == 0,
		    "address is a fixed point");
	}

	if (addr_alias("alias", in, out, dom, &ca, &e) == 0) {
		check(ca == (out[0] == '@'), "catch-all iff empty local part");
		check(addr_alias("alias", out, again, NULL, NULL, &e) == 0 &&
			strcmp(out, again) == 0,
		    "alias is a fixed point");
	}

	if (addr_goto("goto", in, big, sizeof(big), &e) == 0) {
		no_upper(big);
		check(big[0] != '\0' && big[0] != ',' &&
			big[strlen(big) - 1] != ',' &&
			strstr(big, ",,") == NULL &&
			strpbrk(big, " \t\r\n") == NULL,
		    "goto list is clean");
		check(addr_goto("goto", big, big2, sizeof(big2), &e) == 0 &&
			strcmp(big, big2) == 0,
		    "goto list is a fixed point");
	}

	if (quota_parse("--quota", in, &q, &e) == 0) {
		char buf[64];

		check(q >= 0, "quota is not negative");
		snprintf(buf, sizeof(buf), "%lld", (long long)q);
		check(quota_parse("--quota", buf, &q2, &e) == 0 && q2 == q,
		    "a quota prints and parses back");
		(void)quota_format(q, buf, sizeof(buf));
	} else
		check(strstr(e.msg, "--quota") != NULL,
		    "quota error names the flag");
	free(in);
	return 0;
}
