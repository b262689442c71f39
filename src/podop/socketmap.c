/*
 * socketmap: Postfix's socketmap protocol on a podop connection: one
 * netstring per request, "name key", answered by a lookup.
 */
#include <stdint.h>

#include "err.h"
#include "log.h"
#include "netstring.h"
#include "proto_socketmap.h"
#include "metrics.h"
#include "server_impl.h"
#include "stats.h"
#include "tableset.h"
#include "banned.h"

/*
 * Socketmap.
 */

static void
sm_frame(struct conn *c, char *payload, size_t len)
{
	struct loop *l = c->loop;
	struct err e = ERR_INIT;
	char *name, *key;
	size_t tidx;

	if (socketmap_request_split(payload, len, &name, &key, &e) == -1) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx("connection %llu: malformed socketmap request: %s",
		    (unsigned long long)c->id, e.msg);
		answer_lookup(c, NULL, RK_SM, -1, NULL, &e);
		return;
	}
	if (tableset_find(l->ts, name, &tidx) == NULL) {
		metrics_shard_add(l->ms, STATS_GLOBAL(GS_BAD), 1);
		if (err_log_ok(l->srv))
			log_warnx(
			    "lookup map=%s key=%s: unknown map", name, key);
		err_set(&e, ERR_CONFIG, "unknown map '%s'", name);
		answer_lookup(c, NULL, RK_SM, -1, NULL, &e);
		return;
	}
	start_lookup(c, RK_SM, l->ts, tidx, key, NULL);
}

bool
sm_input(struct conn *c, size_t *off)
{
	const char *p;
	size_t plen, flen;
	struct err e = ERR_INIT;
	enum netstring_status st;

	st = netstring_parse(c->ibuf + *off, c->ilen - *off,
	    SOCKETMAP_REQUEST_MAX, &p, &plen, &flen, &e);
	if (st == NETSTRING_MORE)
		return false;
	if (st == NETSTRING_BAD) {
		metrics_shard_add(c->loop->ms, STATS_GLOBAL(GS_BAD), 1);
		log_warnx("connection %llu: malformed netstring, closing: %s",
		    (unsigned long long)c->id, e.msg);
		c->closing = true;
		*off = c->ilen;
		return false;
	}
	*off += flen;
	sm_frame(c, (char *)(uintptr_t)p, plen);
	return true;
}
