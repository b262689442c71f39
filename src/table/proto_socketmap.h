/*
 * proto_socketmap: the server side of Postfix's socketmap protocol
 * (socketmap_table(5)), without any I/O.
 *
 * A request is one netstring holding "NAME SP KEY" (the key is everything
 * after the first space and may contain spaces); the reply is one netstring
 * holding "OK <value>", "NOTFOUND ", or "<TEMP|PERM> <reason>".  The reply
 * word for a failure comes from the error table (err_info()->socketmap).
 * Postfix rejects replies above 100,000 bytes and treats a bare "OK" as not
 * found (3.7), so a value that is empty becomes NOTFOUND and a value that
 * is too long becomes a failure reply, never a truncated answer.
 */
#ifndef POSTINO_PROTO_SOCKETMAP_H
#define POSTINO_PROTO_SOCKETMAP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Request payloads above this close the connection.  It leaves room for a
 * map name and a key up to TABLE_KEY_MAX (64 KiB), and for a somewhat
 * longer key to be refused with PERM rather than a closed connection.
 */
#define SOCKETMAP_REQUEST_MAX (128 * 1024)
/* Postfix's limit on a reply payload. */
#define SOCKETMAP_REPLY_MAX 100000

/*
 * Split a request payload in place: the first space becomes a NUL and
 * payload[len] is overwritten with one (the caller's frame terminator).
 * Returns 0 with *name_r and *key_r, or -1 with err (ERR_INVALID) for a
 * payload with no space, an empty name or a NUL byte.
 */
int socketmap_request_split(
    char *payload, size_t len, char **name_r, char **key_r, struct err *);

/*
 * Append a reply netstring: rc 1 -> "OK value" (or NOTFOUND if value is
 * empty, or a TOOLARGE failure if it exceeds SOCKETMAP_REPLY_MAX), 0 ->
 * "NOTFOUND ", -1 -> the err kind's word and message.  Returns 0, or -1 if
 * the buffer's maximum is hit.
 */
int socketmap_reply(
    struct buf *, int rc, const char *value, const struct err *);

#endif
