/*
 * proto_dict: the server side of Dovecot's dict protocol (the "proxy:" dict
 * driver, Dovecot 2.2 to 2.4), without any I/O.
 *
 * The protocol is line based: TAB separates fields, LF ends a line, and
 * 0x01 escapes the bytes NUL, 0x01, TAB, CR and LF inside a field.  A
 * client first sends a hello (H<major> <minor> <value type> <user> <dict
 * name>, no reply), then commands: L lookup, I iterate, B/S/U/A/P/T/V/R/C/D
 * for transactions.  Lookups, iterations and commits are answered, strictly
 * in request order; everything else is silent.
 *
 * This module does three things: finds lines in a byte stream
 * (dictproto_line), splits and unescapes a line in place
 * (dictproto_split), and keeps one connection's protocol state in a
 * struct dict_session: dict_session_feed() takes one line and says what to
 * do about it (struct dict_act): nothing, send a ready-made reply, look a
 * key up, iterate, commit a transaction, or close the connection.  It
 * also encodes the replies.
 *
 * Ownership: a struct dict_session owns its hello fields and its open
 * transactions.  The strings in a struct dict_act are lent: they point into
 * the line just fed or into the session and stay valid until the next
 * dict_session_feed() or dict_session_release().  The one exception is a
 * commit: act->tx is handed over to the caller, who frees it with
 * dict_tx_free().
 */
#ifndef POSTINO_PROTO_DICT_H
#define POSTINO_PROTO_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* A key up to TABLE_KEY_MAX (64 KiB), even all escaped, and a user. */
#define DICT_LINE_MAX (192 * 1024)
#define DICT_MAX_FIELDS 16
#define DICT_MAX_PATHS 8 /* I with several paths (2.2) */
#define DICT_MAX_TX 64	 /* open transactions per connection */
#define DICT_TX_MAX_OPS 1000
#define DICT_TX_MAX_BYTES (1024 * 1024)

/* Iterate flags, as Dovecot numbers them. */
#define DICT_ITER_RECURSE 0x01
#define DICT_ITER_SORT_KEY 0x02
#define DICT_ITER_SORT_VALUE 0x04
#define DICT_ITER_NO_VALUE 0x08
#define DICT_ITER_EXACT_KEY 0x10

/*
 * Find the first line in buf[0..len).  Returns 1 with *line_len_r (the line
 * without its LF; consume line_len + 1 bytes), 0 if no LF yet, -1 if the
 * line is longer than DICT_LINE_MAX.
 */
int dictproto_line(const char *buf, size_t len, size_t *line_len_r);

/*
 * Split line[0..len) at TABs and unescape every field, in place (the line
 * is modified and NUL-terminated per field).  Returns 0 with the fields in
 * fields_r[0..*n_r), or -1 with err (ERR_INVALID) if there are more than
 * max fields or a field decodes to a NUL byte.
 */
int dictproto_split(char *line, size_t len, char **fields_r, size_t max,
    size_t *n_r, struct err *);

/* Unescape s in place; returns the new length (may contain NUL bytes). */
size_t dictproto_unescape(char *s, size_t len);
/* Append s escaped; -1 if the buffer's maximum is hit. */
int dictproto_escape(struct buf *, const char *s, size_t len);

/*
 * Split a dict key into the part after "shared/" or "priv/" and the user it
 * belongs to: NULL for shared keys, the (non-empty) user for private ones.
 * Returns 0, or -1 with err (ERR_INVALID) for any other key or a private
 * key without a user.
 */
int dictproto_key_split(const char *key, const char *user, const char **rest_r,
    const char **user_r, struct err *);

struct dict_op {
	char op;      /* 'S' set, 'U' unset, 'A' add, 'P' append */
	char *key;    /* full key, "shared/..." or "priv/..." */
	char *value;  /* S, P: the value; A: the signed diff */
	int64_t diff; /* A */
};

struct dict_tx {
	unsigned long id;
	char *user;	     /* NULL if none */
	int64_t expire_secs; /* 2.4's B <expire_secs>; 0 = none */
	struct dict_op *ops;
	size_t nops;
	size_t bytes;
	bool failed;
	char why[128];
};

void dict_tx_free(struct dict_tx *);

struct dict_session {
	bool hello;
	int major;
	int minor;
	char *user; /* from the hello; "" if none */
	char *name; /* dict name from the hello */
	struct dict_tx **tx;
	size_t ntx;
};

enum dict_act_kind {
	DICT_ACT_NONE = 0, /* nothing to answer */
	DICT_ACT_REPLY,	   /* send the reply written into the reply buf */
	DICT_ACT_LOOKUP,   /* look key up for user; answer */
	DICT_ACT_ITERATE,  /* iterate paths; answer rows then end */
	DICT_ACT_COMMIT,   /* apply tx (now the caller's); answer */
	DICT_ACT_HELLO,	   /* hello accepted: check the dict name */
};

struct dict_act {
	enum dict_act_kind kind;
	char cmd;			   /* the command letter */
	const char *key;		   /* LOOKUP */
	const char *user;		   /* LOOKUP, ITERATE; NULL if none */
	unsigned int flags;		   /* ITERATE */
	uint64_t max_rows;		   /* ITERATE; 0 = unlimited */
	const char *paths[DICT_MAX_PATHS]; /* ITERATE */
	size_t npaths;
	struct dict_tx *tx; /* COMMIT: caller frees */
	bool async;	    /* COMMIT from 'D' */
};

void dict_session_init(struct dict_session *);
void dict_session_release(struct dict_session *);

/*
 * Feed one line (without LF; modified in place).  Returns 0 with *act_r
 * saying what to do (for DICT_ACT_REPLY the reply line, LF included, has
 * been appended to reply), or -1 with err when the connection must be
 * closed: a command before the hello, an unsupported protocol version, an
 * unknown command letter, a transaction id that does not exist, too many
 * open transactions.
 */
int dict_session_feed(struct dict_session *, char *line, size_t len,
    struct dict_act *act_r, struct buf *reply, struct err *);

/*
 * Reply encoders; each appends one complete line (LF included) and returns
 * 0, or -1 if the buffer's maximum is hit (nothing is appended then).
 */
/* A lookup: 1 -> O<value>, 0 -> N, -1 -> F<message of err>. */
int dictproto_reply_lookup(
    struct buf *, int rc, const char *value, const struct err *);
/* An iteration row: O<key> TAB <value>. */
int dictproto_reply_row(struct buf *, const char *key, const char *value);
/* End of an iteration: an empty line, or F<message> if rc is -1. */
int dictproto_reply_iter_end(struct buf *, int rc, const struct err *);
/* A commit: 1 -> O<id>, 0 -> N<id>, -1 -> F<id> TAB <message>. */
int dictproto_reply_commit(
    struct buf *, unsigned long id, bool async, int rc, const struct err *);

#endif
