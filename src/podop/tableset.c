/*
 * tableset: a reference-counted set of open tables.
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

static _Atomic uint32_t next_epoch = 1;

static void
env_copy(struct table_env *dst, const struct table_env *src)
{
	*dst = *src;
	dst->recipient_delimiter = xstrdup(
	    src->recipient_delimiter != NULL ? src->recipient_delimiter : "");
	dst->mailbox_base =
	    xstrdup(src->mailbox_base != NULL ? src->mailbox_base : "");
	dst->sql_dir = xstrdup(src->sql_dir != NULL ? src->sql_dir : "");
	dst->sql_engine =
	    xstrdup(src->sql_engine != NULL ? src->sql_engine : "");
	dst->dns_resolver =
	    xstrdup(src->dns_resolver != NULL ? src->dns_resolver : "");
	dst->read_hosts =
	    xstrdup(src->read_hosts != NULL ? src->read_hosts : "");
}

static void
tableset_free(struct tableset *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		table_close(&ts->t[i]);
	free(ts->t);
	free(ts->cache);
	free(ts->inflight);
	free(ts->midx);
	table_env_release(&ts->env);
	free(ts);
}

int
tableset_open(struct tableset **ts_r, const struct tspec *specs, size_t n,
    const struct table_env *env, struct err *err)
{
	struct tableset *ts = xcalloc(1, sizeof(*ts));

	*ts_r = NULL;
	env_copy(&ts->env, env);
	ts->t = xcalloc(n > 0 ? n : 1, sizeof(*ts->t));
	ts->cache = xcalloc(n > 0 ? n : 1, sizeof(*ts->cache));
	ts->inflight = xcalloc(n > 0 ? n : 1, sizeof(*ts->inflight));
	ts->midx = xcalloc(n > 0 ? n : 1, sizeof(*ts->midx));
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(specs[i].name, specs[j].name) == 0) {
				tableset_free(ts);
				return err_set(err, ERR_CONFIG,
				    "table '%s' is defined twice",
				    specs[i].name);
			}
		if (table_open(&ts->t[ts->n], specs[i].name, specs[i].type,
			specs[i].param, &ts->env, err) == -1) {
			tableset_free(ts);
			return -1;
		}
		ts->cache[ts->n] = specs[i].cache;
		ts->midx[ts->n] = stats_map(specs[i].name);
		ts->n++;
	}
	atomic_store(&ts->refs, 1);
	ts->epoch = atomic_fetch_add(&next_epoch, 1);
	*ts_r = ts;
	return 0;
}

struct table *
tableset_find(struct tableset *ts, const char *name, size_t *idx_r)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i]->name, name) == 0) {
			if (idx_r != NULL)
				*idx_r = i;
			return ts->t[i];
		}
	return NULL;
}

void
tableset_ref(struct tableset *ts)
{
	atomic_fetch_add_explicit(&ts->refs, 1, memory_order_relaxed);
}

void
tableset_unref(struct tableset *ts)
{
	if (ts == NULL)
		return;
	if (atomic_fetch_sub_explicit(&ts->refs, 1, memory_order_acq_rel) == 1)
		tableset_free(ts);
}

void
tspec_free(struct tspec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].type);
		free(v[i].param);
	}
	free(v);
}
