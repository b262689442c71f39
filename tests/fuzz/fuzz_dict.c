/*
 * Fuzz the Dovecot dict side: the input is a byte stream from a client,
 * cut into lines as the server cuts it and fed to a session; every action
 * is answered with made-up results.  Invariants: no crash or leak; every
 * reply is whole lines; a reply line's fields unescape to what was
 * escaped; escaping then unescaping any line gives it back; the session
 * refuses to go on after a fatal error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "proto_dict.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_dict: invariant broken: %s\n", what);
		abort();
	}
}

static void
check_lines(const struct buf *b)
{
	check(b->len == 0 || b->data[b->len - 1] == '\n',
	    "replies are "
	    "whole lines");
}

static void
roundtrip(const char *s, size_t len)
{
	struct buf e;
	char *copy;
	size_t n;

	buf_init(&e, 0);
	check(dictproto_escape(&e, s, len) == 0, "escape");
	check(memchr(e.data != NULL ? e.data : "", '\n', e.len) == NULL &&
		memchr(e.data != NULL ? e.data : "", '\t', e.len) == NULL,
	    "escaped text has no TAB or LF");
	copy = malloc(e.len + 1);
	memcpy(copy, e.data != NULL ? e.data : "", e.len);
	n = dictproto_unescape(copy, e.len);
	check(n == len && memcmp(copy, s, len) == 0, "unescape(escape(x))");
	free(copy);
	buf_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dict_session s;
	struct buf out;
	char *in = malloc(size + 1);
	size_t off = 0;

	memcpy(in, data, size);
	dict_session_init(&s);
	buf_init(&out, 0);
	while (off < size) {
		struct dict_act act;
		struct err e = ERR_INIT;
		size_t ll;
		int r = dictproto_line(in + off, size - off, &ll);

		if (r != 1)
			break;
		roundtrip(in + off, ll);
		buf_reset(&out);
		if (dict_session_feed(&s, in + off, ll, &act, &out, &e) == -1) {
			check(e.msg[0] != '\0', "a fatal error says why");
			break;
		}
		off += ll + 1;
		switch (act.kind) {
		case DICT_ACT_LOOKUP:
			check(act.key != NULL, "lookup key");
			dictproto_reply_lookup(&out, 1, act.key, NULL);
			dictproto_reply_lookup(&out, 0, NULL, NULL);
			err_set(&e, ERR_TEMP, "down\t%s", act.key);
			dictproto_reply_lookup(&out, -1, NULL, &e);
			break;
		case DICT_ACT_ITERATE:
			check(act.npaths >= 1 && act.npaths <= DICT_MAX_PATHS,
			    "iterate paths");
			dictproto_reply_row(&out, act.paths[0], "v");
			dictproto_reply_iter_end(&out, 0, NULL);
			break;
		case DICT_ACT_COMMIT:
			check(act.tx != NULL && act.tx->nops > 0 &&
				!act.tx->failed,
			    "a commit has ops");
			for (size_t i = 0; i < act.tx->nops; i++)
				check(act.tx->ops[i].key != NULL, "op key");
			dictproto_reply_commit(
			    &out, act.tx->id, act.async, 1, NULL);
			dict_tx_free(act.tx);
			break;
		default:
			break;
		}
		check_lines(&out);
	}
	dict_session_release(&s);
	buf_release(&out);
	free(in);
	return 0;
}
