/*
 * netstring: the framing of Postfix's socketmap protocol: ASCII decimal
 * length, ':', exactly that many payload bytes, ','.
 *
 * netstring_parse() is an incremental parser over bytes the caller owns.  It
 * never copies or allocates: the payload pointer it hands back points into
 * the caller's buffer and lives as long as those bytes do.  A buffer may hold
 * several frames (call again on what follows the first), and a frame may be
 * split across reads (the parser says "more" until it is complete).  The
 * length is checked against the caller's maximum as soon as its digits are
 * read, before any payload is awaited, so a peer can never make a server
 * buffer more than max bytes; the terminating ',' is always checked.
 */
#ifndef POSTINO_NETSTRING_H
#define POSTINO_NETSTRING_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Digits a length may have: enough for any size_t, and no more. */
#define NETSTRING_MAX_DIGITS 20

enum netstring_status {
	NETSTRING_BAD = -1, /* malformed or too long: close the stream */
	NETSTRING_MORE = 0, /* incomplete: read more and call again */
	NETSTRING_OK = 1,   /* one frame parsed */
};

/*
 * Parse the frame at the start of buf[0..len).  On NETSTRING_OK,
 * *payload_r and *plen_r describe the payload and *frame_len_r is the number of
 * bytes the whole frame occupies (consume that many).  On NETSTRING_BAD err
 * says why (ERR_TOOLARGE for a length above max, ERR_INVALID otherwise).
 */
enum netstring_status netstring_parse(const char *buf, size_t len, size_t max,
    const char **payload_r, size_t *plen_r, size_t *frame_len_r, struct err *);

/* Append data framed as a netstring; -1 if the buffer's maximum is hit. */
int netstring_append(struct buf *, const void *, size_t);

#endif
