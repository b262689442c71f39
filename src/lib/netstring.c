/*
 * netstring: incremental parsing and encoding of netstrings.
 */
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "netstring.h"
#include "banned.h"

enum netstring_status
netstring_parse(const char *buf, size_t len, size_t max, const char **payload_r,
    size_t *plen_r, size_t *frame_len_r, struct err *err)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == ':')
			break;
		if (c < '0' || c > '9') {
			err_set(err, ERR_INVALID,
			    "netstring: unexpected byte 0x%02x in length", c);
			return NETSTRING_BAD;
		}
		if (i >= NETSTRING_MAX_DIGITS) {
			err_set(err, ERR_TOOLARGE,
			    "netstring: length has too many digits");
			return NETSTRING_BAD;
		}
		n = n * 10 + (size_t)(c - '0');
		if (n > max) {
			err_set(err, ERR_TOOLARGE,
			    "netstring: length exceeds the %zu byte limit",
			    max);
			return NETSTRING_BAD;
		}
	}
	if (i == len)
		return NETSTRING_MORE;
	if (i == 0) {
		err_set(err, ERR_INVALID, "netstring: empty length");
		return NETSTRING_BAD;
	}
	/* i is the colon; payload is i+1 .. i+1+n, then the comma. */
	if (len - (i + 1) < n + 1)
		return NETSTRING_MORE;
	if (buf[i + 1 + n] != ',') {
		err_set(err, ERR_INVALID, "netstring: missing ',' terminator");
		return NETSTRING_BAD;
	}
	*payload_r = buf + i + 1;
	*plen_r = n;
	*frame_len_r = i + 1 + n + 1;
	return NETSTRING_OK;
}

int
netstring_append(struct buf *b, const void *data, size_t n)
{
	char head[NETSTRING_MAX_DIGITS + 2];
	size_t old = b->len;
	int hl;

	hl = snprintf(head, sizeof(head), "%zu:", n);
	if (buf_append(b, head, (size_t)hl) == -1 ||
	    buf_append(b, data, n) == -1 || buf_putc(b, ',') == -1) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}
