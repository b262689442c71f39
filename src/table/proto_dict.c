/*
 * proto_dict: Dovecot dict protocol parsing, session state and replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "proto_dict.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

int
dictproto_line(const char *buf, size_t len, size_t *line_len_r)
{
	size_t scan = len < DICT_LINE_MAX + 1 ? len : DICT_LINE_MAX + 1;
	const char *lf = memchr(buf, '\n', scan);

	if (lf == NULL)
		return len > DICT_LINE_MAX ? -1 : 0;
	*line_len_r = (size_t)(lf - buf);
	return 1;
}

size_t
dictproto_unescape(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '\001') {
			s[o++] = s[i];
			continue;
		}
		if (++i == len)
			break; /* a lone escape at the end is dropped */
		switch (s[i]) {
		case '0':
			s[o++] = '\0';
			break;
		case '1':
			s[o++] = '\001';
			break;
		case 't':
			s[o++] = '\t';
			break;
		case 'r':
			s[o++] = '\r';
			break;
		case 'n':
			s[o++] = '\n';
			break;
		default:
			s[o++] = s[i];
			break;
		}
	}
	return o;
}

int
dictproto_escape(struct buf *b, const char *s, size_t len)
{
	size_t old = b->len, i, start = 0;

	for (i = 0; i < len; i++) {
		char esc;

		switch (s[i]) {
		case '\0':
			esc = '0';
			break;
		case '\001':
			esc = '1';
			break;
		case '\t':
			esc = 't';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\n':
			esc = 'n';
			break;
		default:
			continue;
		}
		if (buf_append(b, s + start, i - start) == -1 ||
		    buf_putc(b, '\001') == -1 || buf_putc(b, esc) == -1)
			goto full;
		start = i + 1;
	}
	if (buf_append(b, s + start, len - start) == -1)
		goto full;
	return 0;
full:
	buf_truncate(b, old);
	return -1;
}

int
dictproto_split(char *line, size_t len, char **fields_r, size_t max,
    size_t *n_r, struct err *err)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		size_t flen;

		if (i < len && line[i] != '\t')
			continue;
		if (n == max)
			return err_set(err, ERR_INVALID, "too many fields");
		flen = dictproto_unescape(line + start, i - start);
		if (memchr(line + start, '\0', flen) != NULL)
			return err_set(
			    err, ERR_INVALID, "field contains a NUL byte");
		line[start + flen] = '\0';
		fields_r[n++] = line + start;
		start = i + 1;
	}
	*n_r = n;
	return 0;
}

int
dictproto_key_split(const char *key, const char *user, const char **rest_r,
    const char **user_r, struct err *err)
{
	if (str_prefix(key, "shared/")) {
		*rest_r = key + 7;
		*user_r = NULL;
		return 0;
	}
	if (str_prefix(key, "priv/")) {
		if (user == NULL || *user == '\0')
			return err_set(err, ERR_INVALID,
			    "private key '%.200s' without a user", key);
		*rest_r = key + 5;
		*user_r = user;
		return 0;
	}
	return err_set(
	    err, ERR_INVALID, "key '%.200s' is neither shared/ nor priv/", key);
}

void
dict_tx_free(struct dict_tx *tx)
{
	if (tx == NULL)
		return;
	for (size_t i = 0; i < tx->nops; i++) {
		free(tx->ops[i].key);
		free(tx->ops[i].value);
	}
	free(tx->ops);
	free(tx->user);
	free(tx);
}

void
dict_session_init(struct dict_session *s)
{
	memset(s, 0, sizeof(*s));
}

void
dict_session_release(struct dict_session *s)
{
	for (size_t i = 0; i < s->ntx; i++)
		dict_tx_free(s->tx[i]);
	free(s->tx);
	free(s->user);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static int
parse_id(const char *s, unsigned long *id_r)
{
	int64_t v;

	if (str_to_i64(s, &v) == -1 || v < 0)
		return -1;
	*id_r = (unsigned long)v;
	return 0;
}

static size_t
tx_find(const struct dict_session *s, unsigned long id)
{
	for (size_t i = 0; i < s->ntx; i++)
		if (s->tx[i]->id == id)
			return i;
	return (size_t)-1;
}

static struct dict_tx *
tx_detach(struct dict_session *s, size_t i)
{
	struct dict_tx *tx = s->tx[i];

	s->tx[i] = s->tx[--s->ntx];
	return tx;
}

static void
tx_fail(struct dict_tx *tx, const char *why)
{
	if (tx->failed)
		return;
	tx->failed = true;
	str_copy(tx->why, why, sizeof(tx->why));
}

/* The effective user: the command's if given, else the hello's. */
static const char *
pick_user(const struct dict_session *s, char **f, size_t n, size_t idx)
{
	if (idx < n && f[idx][0] != '\0')
		return f[idx];
	if (s->user != NULL && s->user[0] != '\0')
		return s->user;
	return NULL;
}

static int
feed_hello(struct dict_session *s, char **f, size_t n, struct dict_act *act,
    struct err *err)
{
	int major, minor;

	if (s->hello)
		return err_set(err, ERR_INVALID, "second hello");
	if (n < 5)
		return err_set(
		    err, ERR_INVALID, "hello has %zu fields, expected 5", n);
	if (str_to_int(f[0], 0, 1000, &major) == -1 ||
	    str_to_int(f[1], 0, 1000000, &minor) == -1)
		return err_set(err, ERR_INVALID, "hello: bad version");
	if (major < 2 || major > 4)
		return err_set(err, ERR_INVALID,
		    "unsupported dict protocol version %d", major);
	s->hello = true;
	s->major = major;
	s->minor = minor;
	s->user = xstrdup(f[3]);
	s->name = xstrdup(f[4]);
	act->kind = DICT_ACT_HELLO;
	return 0;
}

static int
feed_iterate(struct dict_session *s, char **f, size_t n, struct dict_act *act,
    struct buf *reply, struct err *err)
{
	size_t first_path, last_path;
	int64_t v;

	if (n < 2)
		return err_set(err, ERR_INVALID, "iterate: too few fields");
	if (str_to_i64(f[0], &v) == -1 || v < 0 || v > 0xffff)
		return err_set(err, ERR_INVALID, "iterate: bad flags");
	act->flags = (unsigned int)v;
	if (s->major >= 3) {
		/* flags, max_rows, path, user */
		if (n < 3)
			return err_set(
			    err, ERR_INVALID, "iterate: too few fields");
		first_path = 2;
		last_path = 3;
		act->user = pick_user(s, f, n, 3);
	} else {
		/* 2.2.27+: flags, max_rows, paths...; older: flags, paths */
		first_path = s->minor >= 1 ? 2 : 1;
		last_path = n;
		act->user = pick_user(s, f, 0, 0);
	}
	if (first_path == 2) {
		if (str_to_i64(f[1], &v) == -1 || v < 0)
			return err_set(
			    err, ERR_INVALID, "iterate: bad max_rows");
		act->max_rows = (uint64_t)v;
	}
	if (first_path >= last_path || first_path >= n) {
		act->kind = DICT_ACT_REPLY;
		return dictproto_reply_iter_end(reply, -1,
		    &(struct err){ ERR_INVALID, "iterate: no path", "" });
	}
	for (size_t i = first_path; i < last_path && i < n; i++) {
		if (act->npaths == DICT_MAX_PATHS)
			break;
		act->paths[act->npaths++] = f[i];
	}
	act->kind = DICT_ACT_ITERATE;
	return 0;
}

static int
feed_begin(struct dict_session *s, char **f, size_t n, struct err *err)
{
	struct dict_tx *tx;
	const char *user;
	unsigned long id;

	if (n < 1 || parse_id(f[0], &id) == -1)
		return err_set(err, ERR_INVALID, "begin: bad transaction id");
	if (tx_find(s, id) != (size_t)-1)
		return err_set(err, ERR_INVALID,
		    "begin: transaction %lu already open", id);
	if (s->ntx >= DICT_MAX_TX)
		return err_set(err, ERR_TOOLARGE, "too many open transactions");
	user = s->major >= 3 ? pick_user(s, f, n, 1) : pick_user(s, f, 0, 0);
	tx = xcalloc(1, sizeof(*tx));
	tx->id = id;
	tx->user = user != NULL ? xstrdup(user) : NULL;
	/* 2.4: B <id> <user> <expire_secs>; anything odd means none. */
	if (n >= 3 && s->major >= 4) {
		int64_t secs;

		if (str_to_i64(f[2], &secs) == 0 && secs > 0)
			tx->expire_secs = secs;
	}
	s->tx = xreallocarray(s->tx, s->ntx + 1, sizeof(*s->tx));
	s->tx[s->ntx++] = tx;
	return 0;
}

static void
tx_add(struct dict_tx *tx, char op, const char *key, const char *value,
    int64_t diff)
{
	size_t add = strlen(key) + (value != NULL ? strlen(value) : 0) + 32;
	const char *rest, *user;
	struct err e;

	if (tx->failed)
		return;
	if (tx->nops >= DICT_TX_MAX_OPS ||
	    tx->bytes + add > DICT_TX_MAX_BYTES) {
		tx_fail(tx, "transaction too large");
		return;
	}
	if (dictproto_key_split(key, tx->user, &rest, &user, &e) == -1) {
		tx_fail(tx, e.msg);
		return;
	}
	tx->ops = xreallocarray(tx->ops, tx->nops + 1, sizeof(*tx->ops));
	tx->ops[tx->nops].op = op;
	tx->ops[tx->nops].key = xstrdup(key);
	tx->ops[tx->nops].value = value != NULL ? xstrdup(value) : NULL;
	tx->ops[tx->nops].diff = diff;
	tx->nops++;
	tx->bytes += add;
}

static int
feed_tx_op(
    struct dict_session *s, char cmd, char **f, size_t n, struct err *err)
{
	struct dict_tx *tx;
	unsigned long id;
	size_t i;
	int64_t diff = 0;

	if (n < 1 || parse_id(f[0], &id) == -1)
		return err_set(err, ERR_INVALID, "%c: bad transaction id", cmd);
	if ((i = tx_find(s, id)) == (size_t)-1)
		return err_set(
		    err, ERR_INVALID, "%c: unknown transaction %lu", cmd, id);
	tx = s->tx[i];
	switch (cmd) {
	case 'S':
	case 'P':
		if (n < 3)
			tx_fail(tx, "set: too few fields");
		else
			tx_add(tx, cmd, f[1], f[2], 0);
		break;
	case 'U':
		if (n < 2)
			tx_fail(tx, "unset: too few fields");
		else
			tx_add(tx, 'U', f[1], NULL, 0);
		break;
	case 'A':
		if (n < 3 || str_to_i64(f[2], &diff) == -1)
			tx_fail(tx, "atomic inc: bad diff");
		else
			tx_add(tx, 'A', f[1], f[2], diff);
		break;
	default:
		/* T (timestamp), V (hide log values): nothing to keep. */
		break;
	}
	return 0;
}

static int
feed_end(struct dict_session *s, char cmd, char **f, size_t n,
    struct dict_act *act, struct buf *reply, struct err *err)
{
	struct dict_tx *tx;
	unsigned long id;
	size_t i;

	if (n < 1 || parse_id(f[0], &id) == -1)
		return err_set(err, ERR_INVALID, "%c: bad transaction id", cmd);
	i = tx_find(s, id);
	if (cmd == 'R') {
		if (i != (size_t)-1)
			dict_tx_free(tx_detach(s, i));
		return 0;
	}
	act->async = cmd == 'D';
	if (i == (size_t)-1) {
		act->kind = DICT_ACT_REPLY;
		return dictproto_reply_commit(reply, id, act->async, -1,
		    &(struct err){ ERR_INVALID, "unknown transaction", "" });
	}
	tx = tx_detach(s, i);
	if (tx->failed || tx->nops == 0) {
		struct err e = { ERR_INVALID, "", "" };
		int rc = tx->failed ? -1 : 1;

		str_copy(e.msg, tx->why, sizeof(e.msg));
		dict_tx_free(tx);
		act->kind = DICT_ACT_REPLY;
		return dictproto_reply_commit(reply, id, act->async, rc, &e);
	}
	act->kind = DICT_ACT_COMMIT;
	act->tx = tx;
	return 0;
}

int
dict_session_feed(struct dict_session *s, char *line, size_t len,
    struct dict_act *act, struct buf *reply, struct err *err)
{
	char *f[DICT_MAX_FIELDS];
	size_t n;
	char cmd;

	memset(act, 0, sizeof(*act));
	if (len == 0)
		return err_set(err, ERR_INVALID, "empty command line");
	cmd = line[0];
	act->cmd = cmd;
	if (dictproto_split(line + 1, len - 1, f, DICT_MAX_FIELDS, &n, err) ==
	    -1) {
		/* A broken field inside a transaction fails that one. */
		if (strchr("SUAP", cmd) != NULL && s->hello) {
			unsigned long id;
			size_t i;
			char *tab = memchr(line + 1, '\t', len - 1);

			if (tab != NULL)
				*tab = '\0';
			if (tab != NULL && parse_id(line + 1, &id) == 0 &&
			    (i = tx_find(s, id)) != (size_t)-1) {
				tx_fail(s->tx[i], err->msg);
				return 0;
			}
		}
		if ((cmd == 'L' || cmd == 'I') && s->hello) {
			act->kind = DICT_ACT_REPLY;
			return cmd == 'L'
			    ? dictproto_reply_lookup(reply, -1, NULL, err)
			    : dictproto_reply_iter_end(reply, -1, err);
		}
		return -1;
	}
	if (cmd == 'H')
		return feed_hello(s, f, n, act, err);
	if (!s->hello)
		return err_set(
		    err, ERR_INVALID, "command '%c' before hello", cmd);
	switch (cmd) {
	case 'L':
		act->kind = DICT_ACT_LOOKUP;
		act->key = f[0];
		act->user = s->major >= 3 ? pick_user(s, f, n, 1)
					  : pick_user(s, f, 0, 0);
		return 0;
	case 'I':
		return feed_iterate(s, f, n, act, reply, err);
	case 'B':
		return feed_begin(s, f, n, err);
	case 'S':
	case 'U':
	case 'A':
	case 'P':
	case 'T':
	case 'V':
		return feed_tx_op(s, cmd, f, n, err);
	case 'R':
	case 'C':
	case 'D':
		return feed_end(s, cmd, f, n, act, reply, err);
	default:
		return err_set(err, ERR_INVALID, "unknown command 0x%02x",
		    (unsigned char)cmd);
	}
}

static int
reply_msg(struct buf *b, char letter, const char *prefix, const struct err *e)
{
	size_t old = b->len;
	const char *m = e != NULL && e->msg[0] != '\0' ? e->msg : "failed";

	if (buf_putc(b, letter) == -1 ||
	    (prefix != NULL && buf_puts(b, prefix) == -1) ||
	    dictproto_escape(b, m, strlen(m)) == -1 ||
	    buf_putc(b, '\n') == -1) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}

int
dictproto_reply_lookup(
    struct buf *b, int rc, const char *value, const struct err *e)
{
	size_t old = b->len;

	if (rc == 0)
		return buf_puts(b, "N\n");
	if (rc < 0) {
		char letter =
		    err_info(e != NULL ? e->kind : ERR_INTERNAL)->dict;

		/* The table maps an error kind to 'F' (or 'N' for NOTFOUND). */
		if (letter == 'N')
			return buf_puts(b, "N\n");
		return reply_msg(b, letter, NULL, e);
	}
	if (buf_putc(b, 'O') == -1 ||
	    dictproto_escape(b, value, strlen(value)) == -1 ||
	    buf_putc(b, '\n') == -1) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}

int
dictproto_reply_row(struct buf *b, const char *key, const char *value)
{
	size_t old = b->len;

	if (buf_putc(b, 'O') == -1 ||
	    dictproto_escape(b, key, strlen(key)) == -1 ||
	    buf_putc(b, '\t') == -1 ||
	    dictproto_escape(b, value, strlen(value)) == -1 ||
	    buf_putc(b, '\n') == -1) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}

int
dictproto_reply_iter_end(struct buf *b, int rc, const struct err *e)
{
	if (rc >= 0)
		return buf_putc(b, '\n');
	/* Never 'N' here: it would break the client's iteration. */
	return reply_msg(b, 'F', NULL, e);
}

int
dictproto_reply_commit(
    struct buf *b, unsigned long id, bool async, int rc, const struct err *e)
{
	size_t old = b->len;
	char idstr[32];

	if (async && buf_putc(b, 'A') == -1)
		return -1;
	if (rc >= 0) {
		if (buf_printf(b, "%c%lu\n", rc > 0 ? 'O' : 'N', id) == -1)
			goto full;
		return 0;
	}
	snprintf(idstr, sizeof(idstr), "%lu\t", id);
	if (reply_msg(b, 'F', idstr, e) == -1)
		goto full;
	return 0;
full:
	buf_truncate(b, old);
	return -1;
}
