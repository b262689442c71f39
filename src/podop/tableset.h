/*
 * tableset: the tables one podop serves, opened together, replaced as a
 * whole on reload.
 *
 * A set owns its tables and the struct table_env they point to.  It is
 * reference counted (atomically): the server holds one reference to the
 * current set, each event loop one to the set it is using, and each backend
 * job one to the set its table belongs to, so a set replaced by a reload
 * lives on until the last job on it ends.  Every set has an epoch, unique
 * in the process, that goes into cache keys, so answers of an old set are
 * never served for a new one.
 */
#ifndef PODOP_TABLESET_H
#define PODOP_TABLESET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "table.h"

/*
 * A table's own cache settings (--table-cache, table_cache).  A table
 * without them caches with the global settings if its source has
 * postino's change serial (table_tracked()), and not at all otherwise.
 */
struct table_cache {
	bool set;
	int64_t ttl_ms;		 /* found answers */
	int64_t negative_ttl_ms; /* not-found answers */
	int64_t stale_ms;	 /* served while the backend fails */
};

struct tspec {
	char *name;
	char *type;
	char *param;
	struct table_cache cache;
};

struct tableset {
	_Atomic int refs;
	uint32_t epoch;
	struct table_env env;
	struct table **t;
	struct table_cache *cache; /* per table, from the specs */
	_Atomic int *inflight;	   /* backend calls per table */
	uint16_t *midx;		   /* per table, its stats_map() index */
	size_t n;
};

/*
 * Open every table of specs with env (copied).  Returns 0 with a set
 * holding one reference, or -1 with err naming the table that failed.
 */
int tableset_open(struct tableset **ts_r, const struct tspec *, size_t n,
    const struct table_env *env, struct err *);
/* The table called name and its index, or NULL. */
struct table *tableset_find(struct tableset *, const char *name, size_t *idx_r);
void tableset_ref(struct tableset *);
void tableset_unref(struct tableset *);

void tspec_free(struct tspec *, size_t);

#endif
