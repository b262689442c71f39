/*
 * Fuzz the socketmap framing: netstring_parse() over a stream (several
 * frames, a frame split at every point the fuzzer picks), the request
 * split, and the reply encoder.  Invariants: a frame lies inside the input
 * and re-encodes to the same bytes (minus leading zeros of its length); a
 * stream parses to the same frames whether fed at once or in two pieces;
 * every reply is one well-formed netstring of at most Postfix's limit
 * whose status word is OK, NOTFOUND, TEMP or PERM.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "netstring.h"
#include "proto_socketmap.h"
#include "banned.h"

#define MAXLEN 4096

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_netstring: invariant broken: %s\n", what);
		abort();
	}
}

static void
check_reply(const struct buf *b)
{
	const char *p;
	size_t plen, flen;
	struct err e = ERR_INIT;

	check(netstring_parse(b->data, b->len, SOCKETMAP_REPLY_MAX, &p, &plen,
		  &flen, &e) == NETSTRING_OK,
	    "reply parses");
	check(flen == b->len, "reply is one frame");
	check((plen >= 3 && memcmp(p, "OK ", 3) == 0 && plen > 3) ||
		(plen == 9 && memcmp(p, "NOTFOUND ", 9) == 0) ||
		(plen >= 5 && memcmp(p, "TEMP ", 5) == 0) ||
		(plen >= 5 && memcmp(p, "PERM ", 5) == 0),
	    "reply status");
}

/* Parse the whole of buf; write each payload's length and bytes to out. */
static int
parse_all(const char *buf, size_t len, struct buf *out)
{
	size_t off = 0;

	for (;;) {
		const char *p;
		size_t plen, flen;
		struct err e = ERR_INIT;
		enum netstring_status st;

		st = netstring_parse(
		    buf + off, len - off, MAXLEN, &p, &plen, &flen, &e);
		if (st != NETSTRING_OK)
			return st;
		check(flen <= len - off, "frame inside the input");
		check(p >= buf + off && p + plen <= buf + off + flen,
		    "payload inside the frame");
		check(plen <= MAXLEN, "payload within the cap");
		buf_printf(out, "%zu:", plen);
		buf_append(out, p, plen);
		off += flen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf whole, parts, reply, enc;
	size_t off = 0, split = size > 0 ? data[0] % (size + 1) : 0;
	int st1, st2;

	buf_init(&whole, 0);
	buf_init(&parts, 0);
	buf_init(&reply, 0);
	buf_init(&enc, 0);
	st1 = parse_all(in, size, &whole);

	/* The same stream in two pieces, as a server with a buffer sees it. */
	{
		char *copy = malloc(size + 1);
		size_t have = 0;

		memcpy(copy, in, size);
		have = split;
		st2 = NETSTRING_MORE;
		for (int round = 0; round < 2; round++) {
			if (round == 1)
				have = size;
			for (;;) {
				const char *p;
				size_t plen, flen;
				struct err e = ERR_INIT;

				st2 = netstring_parse(copy + off, have - off,
				    MAXLEN, &p, &plen, &flen, &e);
				if (st2 != NETSTRING_OK)
					break;
				buf_printf(&parts, "%zu:", plen);
				buf_append(&parts, p, plen);

				/* Re-encoding gives the frame back. */
				buf_reset(&enc);
				netstring_append(&enc, p, plen);
				check(enc.len <= flen &&
					memcmp(enc.data + enc.len - plen - 1, p,
					    plen) == 0,
				    "re-encode");

				/* A request split, and every kind of reply. */
				{
					char *req = malloc(plen + 1);
					char *name, *key;
					struct err e2 = ERR_INIT;

					memcpy(req, p, plen);
					if (socketmap_request_split(req, plen,
						&name, &key, &e2) == 0) {
						check(strlen(name) > 0 &&
							strchr(name, ' ') ==
							    NULL,
						    "map name");
						buf_reset(&reply);
						socketmap_reply(
						    &reply, 1, key, NULL);
						check_reply(&reply);
					}
					buf_reset(&reply);
					socketmap_reply(&reply, -1, NULL, &e2);
					check_reply(&reply);
					free(req);
				}
				off += flen;
			}
			if (st2 == NETSTRING_BAD)
				break;
		}
		free(copy);
	}
	if (st1 != NETSTRING_BAD && st2 != NETSTRING_BAD) {
		check(whole.len == parts.len &&
			(whole.len == 0 ||
			    memcmp(whole.data, parts.data, whole.len) == 0),
		    "split stream gives the same frames");
	}
	buf_release(&whole);
	buf_release(&parts);
	buf_release(&reply);
	buf_release(&enc);
	return 0;
}
