/*
 * dict: Dovecot's dict protocol on a podop connection: one line per
 * command (proto_dict.h keeps the session), answered by a lookup, an
 * iteration or a commit.
 */
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "proto_dict.h"
#include "metrics.h"
#include "server_impl.h"
#include "stats.h"
#include "table.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Dict.
 */

static void
dict_fail(struct conn *c, enum dict_act_kind kind, const struct err *e)
{
	struct buf *b = &c->loop->reply;

	buf_reset(b);
	if (kind == DICT_ACT_ITERATE)
		dictproto_reply_iter_end(b, -1, e);
	else
		dictproto_reply_lookup(b, -1, NULL, e);
	conn_answer(c, NULL, b->data, b->len);
}

static bool
dict_table(struct conn *c, struct err *e)
{
	if (c->dict_bound)
		return true;
	err_set(e, ERR_CONFIG, "unknown dict '%s'",
	    c->dict.name != NULL ? c->dict.name : "");
	return false;
}

static void
dict_line(struct conn *c, char *line, size_t len)
{
	struct loop *l = c->loop;
	struct err e = ERR_INIT;
	struct dict_act act;
	const char *rest, *user;
	struct req *r;
	struct job *j;

	buf_reset(&l->reply);
	if (dict_session_feed(&c->dict, line, len, &act, &l->reply, &e) == -1) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx("connection %llu: dict protocol error, closing: %s",
		    (unsigned long long)c->id, e.msg);
		c->closing = true;
		return;
	}
	switch (act.kind) {
	case DICT_ACT_NONE:
		return;
	case DICT_ACT_REPLY:
		conn_answer(c, NULL, l->reply.data, l->reply.len);
		return;
	case DICT_ACT_HELLO:
		if (tableset_find(l->ts, c->dict.name, &c->dtidx) != NULL) {
			c->dts = l->ts;
			tableset_ref(c->dts);
			c->dict_bound = true;
		} else if (err_log_ok(l->srv))
			log_warnx("connection %llu: unknown dict '%s'",
			    (unsigned long long)c->id, c->dict.name);
		log_trace("connection %llu: hello %d.%d dict=%s",
		    (unsigned long long)c->id, c->dict.major, c->dict.minor,
		    c->dict.name);
		return;
	case DICT_ACT_LOOKUP:
		if (!dict_table(c, &e) ||
		    dictproto_key_split(act.key, act.user, &rest, &user, &e) ==
			-1) {
			dict_fail(c, act.kind, &e);
			return;
		}
		start_lookup(c, RK_LOOKUP, c->dts, c->dtidx, rest, user);
		return;
	case DICT_ACT_ITERATE:
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_REQUESTS), 1);
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_ITERATE), 1);
		if (!dict_table(c, &e)) {
			dict_fail(c, act.kind, &e);
			return;
		}
		if (!table_can_iterate(c->dts->t[c->dtidx])) {
			err_set(&e, ERR_UNSUPPORTED,
			    "dict '%s' cannot be iterated", c->dict.name);
			dict_fail(c, act.kind, &e);
			return;
		}
		r = req_new(c, RK_ITER);
		r->blocking = true;
		c->blocked = true;
		j = job_new(c, r, RK_ITER, c->dts, c->dtidx);
		j->flags = act.flags;
		j->max_rows = act.max_rows;
		j->user = act.user != NULL ? xstrdup(act.user) : NULL;
		for (size_t i = 0; i < act.npaths; i++)
			j->paths[j->npaths++] = xstrdup(act.paths[i]);
		loop_submit(l, &j->pj);
		return;
	case DICT_ACT_COMMIT:
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_REQUESTS), 1);
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_COMMIT), 1);
		if (!dict_table(c, &e) ||
		    !table_can_commit(c->dts->t[c->dtidx])) {
			if (c->dict_bound)
				err_set(&e, ERR_UNSUPPORTED,
				    "dict '%s' is read-only", c->dict.name);
			buf_reset(&l->reply);
			dictproto_reply_commit(
			    &l->reply, act.tx->id, act.async, -1, &e);
			dict_tx_free(act.tx);
			conn_answer(c, NULL, l->reply.data, l->reply.len);
			return;
		}
		r = req_new(c, RK_COMMIT);
		r->blocking = true;
		r->async = act.async;
		r->txid = act.tx->id;
		c->blocked = true;
		j = job_new(c, r, RK_COMMIT, c->dts, c->dtidx);
		j->tx = act.tx;
		j->async = act.async;
		loop_submit(l, &j->pj);
		return;
	}
}

bool
dict_input(struct conn *c, size_t *off)
{
	size_t ll;
	int st = dictproto_line(c->ibuf + *off, c->ilen - *off, &ll);

	if (st == 0)
		return false;
	if (st == -1) {
		metrics_shard_add(c->loop->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx(
		    "connection %llu: dict line longer than %d bytes, closing",
		    (unsigned long long)c->id, DICT_LINE_MAX);
		c->closing = true;
		*off = c->ilen;
		return false;
	}
	dict_line(c, c->ibuf + *off, ll);
	*off += ll + 1;
	return true;
}
