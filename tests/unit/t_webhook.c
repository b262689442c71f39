/*
 * postinod's Zitadel webhook, the parts before the database: secret lists,
 * both signature forms (with an HMAC worked out here independently), the
 * replay window on signature timestamps, and event parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "tap.h"

#include "../../src/postinod/timefmt.c"
#include "../../src/postinod/webhook.c"

#define SECRET "0123456789abcdef0123456789abcdef-zitadel"
#define SECRET2 "fedcba9876543210fedcba9876543210-rotated"
#define NOW 1800000000LL

static void
hex_hmac(
    const char *key, size_t klen, const char *msg, size_t mlen, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, md,
	    &n);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
check_sig(const struct webhook_keys *k, const char *hdr, const char *body)
{
	struct err err = ERR_INIT;

	return webhook_check(
	    k, hdr, body, strlen(body), (time_t)NOW, 300, &err);
}

static void
test_keys(void)
{
	struct webhook_keys k;
	struct err err = ERR_INIT;
	char hex64[65];

	ok(webhook_keys_parse(NULL, &k, &err) == -1 && err.kind == ERR_CONFIG,
	    "unset is refused");
	ok(webhook_keys_parse(" , ,", &k, &err) == -1,
	    "only empties are "
	    "refused");
	ok(webhook_keys_parse("short", &k, &err) == -1 &&
		strstr(err.msg, "shorter") != NULL &&
		strstr(err.msg, "short,") == NULL,
	    "a short secret is refused, not echoed (%s)", err.msg);
	ok(webhook_keys_parse(SECRET ",0123456789", &k, &err) == -1 &&
		strstr(err.msg, "secret 2") != NULL,
	    "the short one is named");
	ok(webhook_keys_parse(" " SECRET " , , " SECRET2 " ", &k, &err) == 0 &&
		k.n == 2 && k.keys[0].len == strlen(SECRET),
	    "two secrets, trimmed");
	webhook_keys_release(&k);
	memset(hex64, 'a', 64);
	hex64[64] = '\0';
	ok(webhook_keys_parse(hex64, &k, &err) == 0 && k.n == 2 &&
		k.keys[1].len == 32 && k.keys[1].data[0] == 0xaa,
	    "64 hex digits are also tried decoded");
	webhook_keys_release(&k);
	ok(webhook_keys_parse("0123456789abcdef0123456789abcdef", &k, &err) ==
		    0 &&
		k.n == 1 && k.keys[0].len == 32,
	    "32 hex digits are 32 bytes, used as text");
	webhook_keys_release(&k);
}

static void
test_signatures(void)
{
	struct webhook_keys k;
	struct err err = ERR_INIT;
	const char *body = "{\"event_type\":\"user.deactivated\"}";
	char mac[65], mac2[65], hdr[512], *signed_msg;
	size_t blen = strlen(body);

	webhook_keys_parse(SECRET "," SECRET2, &k, &err);
	hex_hmac(SECRET, strlen(SECRET), body, blen, mac);
	ok(check_sig(&k, mac, body) == 0, "bare hex (lower case)");
	for (char *p = mac; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ok(check_sig(&k, mac, body) == 0, "bare hex (upper case)");
	hex_hmac(SECRET2, strlen(SECRET2), body, blen, mac);
	ok(check_sig(&k, mac, body) == 0, "the rotated secret verifies");
	hex_hmac("some-other-secret-some-other-secret", 35, body, blen, mac);
	ok(check_sig(&k, mac, body) == -1, "another secret does not");
	hex_hmac(SECRET, strlen(SECRET), body, blen - 1, mac);
	ok(check_sig(&k, mac, body) == -1, "a changed body does not");
	ok(check_sig(&k, NULL, body) == -1, "no header");
	ok(check_sig(&k, "", body) == -1, "empty header");
	ok(check_sig(&k, "zz", body) == -1, "short junk");
	mac[0] = 'g';
	ok(check_sig(&k, mac, body) == -1, "64 characters, not hex");

	signed_msg = xasprintf("%lld.%s", NOW - 10, body);
	hex_hmac(SECRET, strlen(SECRET), signed_msg, strlen(signed_msg), mac);
	hex_hmac(
	    SECRET2, strlen(SECRET2), signed_msg, strlen(signed_msg), mac2);
	snprintf(hdr, sizeof(hdr), "t=%lld,v1=%s", NOW - 10, mac);
	ok(check_sig(&k, hdr, body) == 0, "Zitadel t=,v1=");
	snprintf(hdr, sizeof(hdr), "t=%lld,v1=%s,v1=%s", NOW - 10,
	    "00000000000000000000000000000000000000000000000000000000000000",
	    mac2);
	ok(check_sig(&k, hdr, body) == 0, "several v1, one matching");
	snprintf(hdr, sizeof(hdr), "v1=%s,t=%lld,x=y", mac, NOW - 10);
	ok(check_sig(&k, hdr, body) == 0, "any order, unknown keys ignored");
	snprintf(hdr, sizeof(hdr), "t=%lld,v1=%s", NOW - 11, mac);
	ok(check_sig(&k, hdr, body) == -1, "the timestamp is signed");
	free(signed_msg);
	signed_msg = xasprintf("%lld.%s", NOW - 301, body);
	hex_hmac(SECRET, strlen(SECRET), signed_msg, strlen(signed_msg), mac);
	snprintf(hdr, sizeof(hdr), "t=%lld,v1=%s", NOW - 301, mac);
	ok(webhook_check(&k, hdr, body, blen, (time_t)NOW, 300, &err) == -1 &&
		strstr(err.msg, "window") != NULL,
	    "a stale timestamp is refused");
	free(signed_msg);
	signed_msg = xasprintf("%lld.%s", NOW + 301, body);
	hex_hmac(SECRET, strlen(SECRET), signed_msg, strlen(signed_msg), mac);
	snprintf(hdr, sizeof(hdr), "t=%lld,v1=%s", NOW + 301, mac);
	ok(check_sig(&k, hdr, body) == -1, "a future timestamp is refused");
	free(signed_msg);
	ok(check_sig(&k, "t=1", body) == -1, "t without v1");
	ok(check_sig(&k, "v1=abc", body) == -1, "v1 without t");
	ok(check_sig(&k, "t=x,v1=abc", body) == -1, "t not a number");
	ok(check_sig(&k, "t=1,t=2,v1=abc", body) == -1, "t twice");
	ok(check_sig(&k, "t=-5,v1=abc", body) == -1, "negative t");
	ok(check_sig(&k, "t1,v1", body) == -1, "no '='");
	ok(check_sig(&k, ",,,", body) == -1, "commas");
	webhook_keys_release(&k);
}

static void
test_parse(void)
{
	struct webhook_event ev, ev2;
	struct err err = ERR_INIT;
	const char *good =
	    "{\"aggregateID\":\"42\",\"sequence\":3,"
	    "\"event_type\":\"user.human.added\",\"created_at\":"
	    "\"2027-01-15T08:00:00.123456Z\",\"userID\":\"42\","
	    "\"event_payload\":{\"email\":\"a@b.org\",\"firstName\":\" Ann \","
	    "\"lastName\":\"Lee\",\"extra\":[1]},\"unknown\":true}";
	char *other;

	ok(webhook_parse(good, strlen(good), &ev, &err) == 0, "a good event");
	ok(ev.type == WH_ADDED && strcmp(ev.email, "a@b.org") == 0 &&
		strcmp(ev.name, "Ann Lee") == 0 && ev.has_name &&
		strcmp(ev.user_id, "42") == 0 &&
		ev.created == (time_t)1800000000LL,
	    "its fields (%s)", ev.name);
	ok(strlen(ev.id) == 64, "a dedup id");
	ok(webhook_parse(good, strlen(good), &ev2, &err) == 0 &&
		strcmp(ev.id, ev2.id) == 0,
	    "the same event, the same id");
	other = xstrdup(good);
	other[strlen("{\"aggregateID\":\"42\",\"sequence\":")] = '4';
	ok(webhook_parse(other, strlen(other), &ev2, &err) == 0 &&
		strcmp(ev.id, ev2.id) != 0,
	    "another sequence, another id");
	free(other);

#define BAD(body, want, what)                                                  \
	do {                                                                   \
		struct err e = ERR_INIT;                                       \
		ok(webhook_parse(body, strlen(body), &ev, &e) == -1 &&         \
			e.kind == (want),                                      \
		    "%s (%s)", what, e.msg);                                   \
	} while (0)
	BAD("{oops", ERR_USAGE, "malformed JSON");
	BAD("[1,2]", ERR_USAGE, "not an object");
	BAD("{\"a\":1,\"a\":2}", ERR_USAGE, "duplicate keys");
	BAD("{}", ERR_INVALID, "no event_type");
	BAD("{\"event_type\":7}", ERR_INVALID, "event_type not a string");
	BAD("{\"event_type\":\"user.deactivated\"}", ERR_INVALID,
	    "no created_at");
	BAD("{\"event_type\":\"user.deactivated\",\"created_at\":\"soon\"}",
	    ERR_INVALID, "bad created_at");
	BAD("{\"event_type\":\"user.deactivated\",\"created_at\":"
	    "\"2027-01-15T08:00:00Z\"}",
	    ERR_INVALID, "no payload");
	BAD("{\"event_type\":\"user.deactivated\",\"created_at\":"
	    "\"2027-01-15T08:00:00Z\",\"event_payload\":{}}",
	    ERR_INVALID, "no email");
	BAD("{\"event_type\":\"user.deactivated\",\"created_at\":"
	    "\"2027-01-15T08:00:00Z\",\"event_payload\":{\"email\":1}}",
	    ERR_INVALID, "email not a string");
	BAD("{\"event_type\":\"user.deactivated\",\"created_at\":"
	    "\"2027-01-15T08:00:00Z\",\"userID\":5,\"event_payload\":"
	    "{\"email\":\"a@b.org\"}}",
	    ERR_INVALID, "userID not a string");
	BAD("{\"event_type\":\"user.human.added\",\"created_at\":"
	    "\"2027-01-15T08:00:00Z\",\"event_payload\":{\"email\":\"a@b.org\","
	    "\"firstName\":[]}}",
	    ERR_INVALID, "firstName not a string");
#undef BAD
	{
		const char *u = "{\"event_type\":\"org.added\"}";
		const char *r = "{\"event_type\":\"user.removed\","
				"\"created_at\":\"2027-01-15T09:00:00+01:00\","
				"\"event_payload\":{\"email\":\"x@y.org\"}}";

		ok(webhook_parse(u, strlen(u), &ev, &err) == 0 &&
			ev.type == WH_UNKNOWN,
		    "unknown types parse, to be "
		    "ignored");
		ok(webhook_parse(r, strlen(r), &ev, &err) == 0 &&
			ev.type == WH_REMOVED && !ev.has_name &&
			ev.created == (time_t)1800000000LL,
		    "user.removed with an offset time");
	}
	{
		/* As Zitadel sends them: no event_payload, or base64. */
		const char *d1 =
		    "{\"aggregateID\":\"100\",\"aggregateType\":"
		    "\"user\",\"resourceOwner\":\"9\",\"instanceID\":"
		    "\"7\",\"version\":\"v2\",\"sequence\":5,"
		    "\"event_type\":\"user.deactivated\",\"created_at"
		    "\":\"2027-01-15T08:00:00.5Z\",\"userID\":\"1\"}";
		const char *d2 =
		    "{\"aggregateID\":\"200\",\"aggregateType\":"
		    "\"user\",\"resourceOwner\":\"9\",\"instanceID\":"
		    "\"7\",\"version\":\"v2\",\"sequence\":5,"
		    "\"event_type\":\"user.deactivated\",\"created_at"
		    "\":\"2027-01-15T08:00:00.5Z\",\"userID\":\"1\"}";
		/* {"lastName":"Lee"} */
		const char *b64 =
		    "{\"aggregateID\":\"100\",\"instanceID\":"
		    "\"7\",\"sequence\":6,\"event_type\":"
		    "\"user.human.profile.changed\",\"created_at\":"
		    "\"2027-01-15T08:00:00Z\",\"event_payload\":"
		    "\"eyJsYXN0TmFtZSI6IkxlZSJ9\"}";
		const char *bad64 =
		    "{\"aggregateID\":\"100\",\"event_type\":"
		    "\"user.removed\",\"created_at\":"
		    "\"2027-01-15T08:00:00Z\",\"event_payload\":"
		    "\"!!\"}";

		ok(webhook_parse(d1, strlen(d1), &ev, &err) == 0 &&
			ev.type == WH_DEACTIVATED &&
			strcmp(ev.subject, "100") == 0 &&
			strcmp(ev.issuer, "zitadel:7") == 0 &&
			strcmp(ev.user_id, "1") == 0 && ev.email[0] == '\0',
		    "user.deactivated without event_payload");
		ok(webhook_parse(d2, strlen(d2), &ev2, &err) == 0 &&
			strcmp(ev.id, ev2.id) != 0,
		    "two people, the same second and creator: two ids");
		ok(webhook_parse(b64, strlen(b64), &ev, &err) == 0 &&
			ev.type == WH_PROFILE && ev.has_last && !ev.has_first &&
			strcmp(ev.last, "Lee") == 0,
		    "a base64 event_payload is decoded");
		ok(webhook_parse(bad64, strlen(bad64), &ev, &err) == -1 &&
			err.kind == ERR_INVALID,
		    "a payload string that is not base64: refused");
		err_clear(&err);
	}
	{
		const char *m = "{\"aggregateID\":\"5\",\"event_type\":"
				"\"user.machine.added\",\"created_at\":"
				"\"2027-01-15T08:00:00Z\",\"event_payload\":"
				"{\"userName\":\"svc\",\"name\":\"svc\"}}";
		const char *sr = "{\"aggregateID\":\"6\",\"event_type\":"
				 "\"user.human.selfregistered\",\"created_at\":"
				 "\"2027-01-15T08:00:00Z\",\"event_payload\":"
				 "{\"userName\":\"u\",\"email\":\"u@b.org\"}}";

		ok(webhook_parse(m, strlen(m), &ev, &err) == 0 &&
			ev.type == WH_UNKNOWN,
		    "machine users are ignored");
		ok(webhook_parse(sr, strlen(sr), &ev, &err) == 0 &&
			ev.type == WH_ADDED && strcmp(ev.email, "u@b.org") == 0,
		    "user.human.selfregistered creates");
	}
}

int
main(void)
{
	test_keys();
	test_signatures();
	test_parse();
	return done_testing();
}
