/* netstring framing and the socketmap request/reply codec. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "netstring.h"
#include "proto_socketmap.h"
#include "tap.h"

static const struct {
	const char *in;
	size_t max;
	int status;
	const char *payload; /* when OK */
	size_t frame;	     /* when OK */
	enum err_kind kind;  /* when BAD */
} cases[] = {
	{ "0:,", 100, NETSTRING_OK, "", 3, ERR_OK },
	{ "5:hello,", 100, NETSTRING_OK, "hello", 8, ERR_OK },
	{ "5:hello,5:world,", 100, NETSTRING_OK, "hello", 8, ERR_OK },
	{ "005:hello,", 100, NETSTRING_OK, "hello", 10, ERR_OK },
	{ "5:hel", 100, NETSTRING_MORE, NULL, 0, ERR_OK },
	{ "5:hello", 100, NETSTRING_MORE, NULL, 0, ERR_OK },
	{ "12", 100, NETSTRING_MORE, NULL, 0, ERR_OK },
	{ "", 100, NETSTRING_MORE, NULL, 0, ERR_OK },
	{ "5:hello;", 100, NETSTRING_BAD, NULL, 0, ERR_INVALID },
	{ ":hello,", 100, NETSTRING_BAD, NULL, 0, ERR_INVALID },
	{ "x:", 100, NETSTRING_BAD, NULL, 0, ERR_INVALID },
	{ "-1:", 100, NETSTRING_BAD, NULL, 0, ERR_INVALID },
	{ " 5:hello,", 100, NETSTRING_BAD, NULL, 0, ERR_INVALID },
	{ "101:", 100, NETSTRING_BAD, NULL, 0, ERR_TOOLARGE },
	/* The cap bites on the digits, before any payload is awaited. */
	{ "1000000", 100, NETSTRING_BAD, NULL, 0, ERR_TOOLARGE },
	{ "100:", 100, NETSTRING_MORE, NULL, 0, ERR_OK },
	{ "000000000000000000000005:hello,", 100, NETSTRING_BAD, NULL, 0,
	    ERR_TOOLARGE },
	{ "99999999999999999999999999", (size_t)-1, NETSTRING_BAD, NULL, 0,
	    ERR_TOOLARGE },
};

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;
		const char *p = NULL;
		size_t plen = 0, frame = 0;
		int st;

		st = netstring_parse(cases[i].in, strlen(cases[i].in),
		    cases[i].max, &p, &plen, &frame, &e);
		is_int(st, cases[i].status, "parse '%s': status", cases[i].in);
		if (st == NETSTRING_OK) {
			ok(plen == strlen(cases[i].payload) &&
				memcmp(p, cases[i].payload, plen) == 0,
			    "parse '%s': payload", cases[i].in);
			is_int((int64_t)frame, (int64_t)cases[i].frame,
			    "parse '%s': frame length", cases[i].in);
		}
		if (st == NETSTRING_BAD)
			is_int(e.kind, cases[i].kind, "parse '%s': kind",
			    cases[i].in);
	}
}

/* Several frames in one buffer, then every split point of the stream. */
static void
test_stream(void)
{
	const char *stream = "3:abc,0:,11:hello world,1:,,";
	const char *want[] = { "abc", "", "hello world", "," };
	size_t len = strlen(stream), nwant = 4;
	int good = 1;

	for (size_t split = 0; split <= len; split++) {
		char buf[128];
		size_t have = 0, got = 0, fed = 0;
		struct err e = ERR_INIT;

		/* Feed the first split bytes, drain, then the rest. */
		for (int round = 0; round < 2; round++) {
			size_t add = round == 0 ? split : len - split;

			memcpy(buf + have, stream + fed, add);
			have += add;
			fed += add;
			for (;;) {
				const char *p;
				size_t plen, frame;
				int st = netstring_parse(
				    buf, have, 64, &p, &plen, &frame, &e);

				if (st != NETSTRING_OK) {
					if (st == NETSTRING_BAD)
						good = 0;
					break;
				}
				if (got >= nwant || plen != strlen(want[got]) ||
				    memcmp(p, want[got], plen) != 0)
					good = 0;
				got++;
				memmove(buf, buf + frame, have - frame);
				have -= frame;
			}
		}
		if (got != nwant || have != 0)
			good = 0;
	}
	ok(good, "a stream parses the same at every split point");
}

static void
test_append(void)
{
	struct buf b;

	buf_init(&b, 16);
	is_int(netstring_append(&b, "hello", 5), 0, "append");
	is_str(buf_cstr(&b), "5:hello,", "append: framed");
	is_int(netstring_append(&b, "0123456789", 10), -1,
	    "append beyond the buffer's max fails");
	is_str(buf_cstr(&b), "5:hello,", "failed append leaves it unchanged");
	buf_reset(&b);
	is_int(netstring_append(&b, "", 0), 0, "append empty");
	is_str(buf_cstr(&b), "0:,", "append empty: framed");
	buf_release(&b);
}

static void
test_socketmap(void)
{
	struct err e = ERR_INIT, temp = ERR_INIT, cfg = ERR_INIT;
	char req[64], *name, *key;
	struct buf b;
	char *big;

	strcpy(req, "alias user@example.com,");
	is_int(socketmap_request_split(req, 22, &name, &key, &e), 0,
	    "split a request");
	is_str(name, "alias", "split: name");
	is_str(key, "user@example.com", "split: key");
	strcpy(req, "map  key with spaces,");
	socketmap_request_split(req, 20, &name, &key, &e);
	is_str(key, " key with spaces",
	    "the key is everything after the "
	    "first space");
	strcpy(req, "alias ,");
	socketmap_request_split(req, 6, &name, &key, &e);
	is_str(key, "", "empty key");
	strcpy(req, "nospace,");
	is_int(socketmap_request_split(req, 7, &name, &key, &e), -1,
	    "no space: refused");
	strcpy(req, " key,");
	is_int(socketmap_request_split(req, 4, &name, &key, &e), -1,
	    "empty map name: refused");
	memcpy(req, "a b\0c,", 6);
	is_int(socketmap_request_split(req, 5, &name, &key, &e), -1,
	    "NUL byte: refused");

	buf_init(&b, 1024 * 1024);
	socketmap_reply(&b, 1, "a@x.org,b@y.org", NULL);
	is_str(buf_cstr(&b), "18:OK a@x.org,b@y.org,", "reply found");
	buf_reset(&b);
	socketmap_reply(&b, 0, NULL, NULL);
	is_str(buf_cstr(&b), "9:NOTFOUND ,", "reply not found");
	buf_reset(&b);
	socketmap_reply(&b, 1, "", NULL);
	is_str(buf_cstr(&b), "9:NOTFOUND ,",
	    "an empty value is never "
	    "a bare OK");
	buf_reset(&b);
	err_set(&temp, ERR_DATABASE, "connection\nrefused");
	socketmap_reply(&b, -1, NULL, &temp);
	is_str(buf_cstr(&b), "23:TEMP connection refused,",
	    "database trouble is TEMP, on one line");
	buf_reset(&b);
	err_set(&cfg, ERR_CONFIG, "unknown map");
	socketmap_reply(&b, -1, NULL, &cfg);
	is_str(buf_cstr(&b), "16:PERM unknown map,", "config is PERM");
	buf_reset(&b);
	big = malloc(SOCKETMAP_REPLY_MAX);
	memset(big, 'x', SOCKETMAP_REPLY_MAX - 3);
	big[SOCKETMAP_REPLY_MAX - 3] = '\0';
	socketmap_reply(&b, 1, big, NULL);
	ok(strncmp(buf_cstr(&b), "100000:OK ", 10) == 0,
	    "a value of the largest size Postfix takes is sent");
	buf_reset(&b);
	big[SOCKETMAP_REPLY_MAX - 3] = 'x';
	big[SOCKETMAP_REPLY_MAX - 2] = '\0';
	socketmap_reply(&b, 1, big, NULL);
	ok(strstr(buf_cstr(&b), ":PERM value of 99998 bytes") != NULL,
	    "one byte more is refused, not truncated: %.40s", buf_cstr(&b));
	free(big);
	buf_release(&b);
}

int
main(void)
{
	test_table();
	test_stream();
	test_append();
	test_socketmap();
	return done_testing();
}
