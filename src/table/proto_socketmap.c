/*
 * proto_socketmap: socketmap request splitting and reply encoding.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "proto_socketmap.h"
#include "banned.h"

int
socketmap_request_split(
    char *payload, size_t len, char **name_r, char **key_r, struct err *err)
{
	char *sp;

	if (memchr(payload, '\0', len) != NULL)
		return err_set(err, ERR_INVALID, "request contains a NUL byte");
	sp = memchr(payload, ' ', len);
	if (sp == NULL)
		return err_set(err, ERR_INVALID,
		    "request has no space between map name and key");
	if (sp == payload)
		return err_set(
		    err, ERR_INVALID, "request has an empty map name");
	*sp = '\0';
	payload[len] = '\0';
	*name_r = payload;
	*key_r = sp + 1;
	return 0;
}

static int
reply_text(struct buf *b, const char *word, const char *text, size_t tlen)
{
	char head[32];
	size_t wl = strlen(word), old = b->len;
	int hl;

	/* Frame by hand to avoid assembling the payload twice. */
	hl = snprintf(head, sizeof(head), "%zu:", wl + 1 + tlen);
	if (buf_append(b, head, (size_t)hl) == -1 ||
	    buf_append(b, word, wl) == -1 || buf_putc(b, ' ') == -1 ||
	    buf_append(b, text, tlen) == -1 || buf_putc(b, ',') == -1) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}

static int
reply_err(struct buf *b, const struct err *e)
{
	const struct err_info *in =
	    err_info(e != NULL ? e->kind : ERR_INTERNAL);
	const char *m = e != NULL && e->msg[0] != '\0' ? e->msg : "failed";
	char clean[ERR_MSG_MAX];
	size_t n = 0;

	if (strcmp(in->socketmap, "NOTFOUND") == 0)
		return reply_text(b, "NOTFOUND", "", 0);
	/* A reason is one line of printable text in Postfix's log. */
	for (; *m != '\0' && n < sizeof(clean) - 1; m++)
		clean[n++] = (unsigned char)*m < 0x20 ? ' ' : *m;
	return reply_text(b, in->socketmap, clean, n);
}

int
socketmap_reply(struct buf *b, int rc, const char *value, const struct err *e)
{
	size_t vl;

	if (rc < 0)
		return reply_err(b, e);
	if (rc == 0 || value == NULL || (vl = strlen(value)) == 0)
		return reply_text(b, "NOTFOUND", "", 0);
	if (vl + 3 > SOCKETMAP_REPLY_MAX) {
		struct err big;

		err_set(&big, ERR_TOOLARGE,
		    "value of %zu bytes exceeds the socketmap reply limit", vl);
		return reply_err(b, &big);
	}
	return reply_text(b, "OK", value, vl);
}
