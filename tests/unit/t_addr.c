/* Address, domain, destination-list and quota validation. */
#include <string.h>

#include "addr.h"
#include "tap.h"

static const struct {
	const char *in;
	const char *out; /* NULL: must be rejected */
} domains[] = {
	{ "example.org", "example.org" },
	{ "Example.ORG", "example.org" },
	{ "a-b.example.org", "a-b.example.org" },
	{ "xn--bcher-kva.de", "xn--bcher-kva.de" },
	{ "1example.org", "1example.org" },
	{ "", NULL },
	{ "example", NULL },
	{ "example.org.", NULL },
	{ ".example.org", NULL },
	{ "a..b.org", NULL },
	{ "-a.org", NULL },
	{ "a-.org", NULL },
	{ "ex_ample.org", NULL },
	{ "ex ample.org", NULL },
	{ "b\xc3\xbc"
	  "cher.de",
	    NULL },
	{ "1.2.3.4", NULL },
	{ "ALL", NULL },
	{ "example.org/..", NULL },
	{ "example.org;drop", NULL },
};

static const struct {
	const char *in;
	const char *out;
	const char *local;
	const char *domain;
} addrs[] = {
	{ "Alice@Example.org", "alice@example.org", "alice", "example.org" },
	{ "a.b+tag@example.org", "a.b+tag@example.org", "a.b+tag",
	    "example.org" },
	{ "o'brien@example.org", "o'brien@example.org", "o'brien",
	    "example.org" },
	{ "x@y@example.org", NULL, NULL, NULL },
	{ "@example.org", NULL, NULL, NULL },
	{ "alice@", NULL, NULL, NULL },
	{ "alice", NULL, NULL, NULL },
	{ ".a@example.org", NULL, NULL, NULL },
	{ "a.@example.org", NULL, NULL, NULL },
	{ "a..b@example.org", NULL, NULL, NULL },
	{ "a/b@example.org", NULL, NULL, NULL },
	{ "../x@example.org", NULL, NULL, NULL },
	{ "a b@example.org", NULL, NULL, NULL },
	{ "a\"b@example.org", NULL, NULL, NULL },
	{ "a#b@example.org", NULL, NULL, NULL },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "4@example.org",
	    NULL, NULL, NULL },
};

static const struct {
	const char *in;
	const char *out;
} gotos[] = {
	{ "a@x.org", "a@x.org" },
	{ "A@X.org, b@y.org", "a@x.org,b@y.org" },
	{ " a@x.org\tb@y.org \n", "a@x.org,b@y.org" },
	{ "a@x.org,A@x.org,a@x.org", "a@x.org" },
	{ "u#example.org@autoreply.example",
	    "u#example.org@autoreply.example" },
	{ "", NULL },
	{ ",", NULL },
	{ "a@x.org,not-an-address", NULL },
	{ "a@x.org,b@", NULL },
};

static const struct {
	const char *in;
	int64_t bytes; /* -1: rejected */
} quotas[] = {
	{ "0", 0 },
	{ "unlimited", 0 },
	{ "1024", 1024 },
	{ "1K", 1024 },
	{ "5G", 5368709120LL },
	{ "5g", 5368709120LL },
	{ "500M", 524288000 },
	{ "500MiB", 524288000 },
	{ "500MB", 512000000 },
	{ "500mb", 512000000 },
	{ "5GiB", 5368709120LL },
	{ "5GB", 5368709120LL },
	{ "2T", 2199023255552LL },
	{ " 7M ", 7340032 },
	{ "1B", 1 },
	{ "", -1 },
	{ "1.5G", -1 },
	{ "-1", -1 },
	{ "5X", -1 },
	{ "G", -1 },
	{ "5 G", -1 },
	{ "99999999999T", -1 },
	{ "99999999999999999999", -1 },
	{ "0x10", -1 },
};

int
main(void)
{
	char out[ADDR_MAX], local[ADDR_MAX], dom[ADDR_MAX], big[4096];
	struct err e;
	bool catchall;

	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		int r = addr_domain("domain", domains[i].in, out, &e);

		if (domains[i].out == NULL) {
			ok(r == -1 && e.kind == ERR_INVALID &&
				strstr(e.msg, "domain") != NULL,
			    "domain '%s' rejected, naming the field",
			    domains[i].in);
		} else {
			ok(r == 0, "domain '%s' accepted", domains[i].in);
			is_str(out, domains[i].out, "domain '%s' normalised",
			    domains[i].in);
		}
	}
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int r =
		    addr_address("mailbox", addrs[i].in, out, local, dom, &e);

		if (addrs[i].out == NULL) {
			ok(r == -1 && e.kind == ERR_INVALID,
			    "address '%s' rejected", addrs[i].in);
			continue;
		}
		ok(r == 0, "address '%s' accepted", addrs[i].in);
		is_str(
		    out, addrs[i].out, "address '%s' normalised", addrs[i].in);
		is_str(
		    local, addrs[i].local, "local part of '%s'", addrs[i].in);
		is_str(dom, addrs[i].domain, "domain of '%s'", addrs[i].in);
	}
	ok(addr_alias("alias", "@Example.org", out, dom, &catchall, &e) == 0 &&
		catchall && strcmp(out, "@example.org") == 0,
	    "a catch-all alias is accepted");
	ok(addr_alias("alias", "x@example.org", out, dom, &catchall, &e) == 0 &&
		!catchall,
	    "a plain alias is not a catch-all");
	ok(addr_address("mailbox", "@example.org", out, NULL, NULL, &e) == -1,
	    "a mailbox cannot be a catch-all");
	for (size_t i = 0; i < sizeof(gotos) / sizeof(gotos[0]); i++) {
		int r = addr_goto("goto", gotos[i].in, big, sizeof(big), &e);

		if (gotos[i].out == NULL)
			ok(r == -1, "goto '%s' rejected", gotos[i].in);
		else
			is_str(r == 0 ? big : NULL, gotos[i].out,
			    "goto '%s' normalised", gotos[i].in);
	}
	ok(addr_goto("goto", "a@x.org,b@y.org,c@z.org", big, 12, &e) == -1,
	    "a goto list longer than the buffer is refused");
	for (size_t i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++) {
		int64_t b = -2;
		int r = quota_parse("--quota", quotas[i].in, &b, &e);

		if (quotas[i].bytes < 0)
			ok(r == -1 && strstr(e.msg, "--quota") != NULL,
			    "quota '%s' rejected naming the flag",
			    quotas[i].in);
		else
			is_int(r == 0 ? b : -2, quotas[i].bytes, "quota '%s'",
			    quotas[i].in);
	}
	is_str(quota_format(0, out, sizeof(out)), "unlimited", "format 0");
	is_str(
	    quota_format(5368709120LL, out, sizeof(out)), "5 GiB", "format 5G");
	is_str(quota_format(1536, out, sizeof(out)), "1.5 KiB", "format 1.5K");
	is_str(quota_format(100, out, sizeof(out)), "100 B", "format bytes");
	return done_testing();
}
