/*
 * stats: podop's counters and their exposition.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "xalloc.h"
#include "banned.h"

struct metrics *stats_m;
struct metrics_buckets stats_lat;

/* Lookups are usually answered from memory: fine buckets at the bottom. */
static const double lat_le[STATS_BUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static char *maps[STATS_MAPS_MAX];
static size_t nmaps;

void
stats_init(void)
{
	if (stats_m != NULL)
		return;
	(void)metrics_buckets_init(&stats_lat, lat_le, STATS_BUCKETS);
	stats_m = metrics_new(STATS_NSLOTS);
}

uint16_t
stats_map(const char *name)
{
	size_t i;

	pthread_mutex_lock(&maps_lock);
	for (i = 0; i < nmaps; i++)
		if (strcmp(maps[i], name) == 0)
			break;
	if (i == nmaps) {
		if (nmaps < STATS_MAPS_MAX - 1)
			maps[nmaps++] = xstrdup(name);
		else {
			i = STATS_MAPS_MAX - 1;
			if (nmaps < STATS_MAPS_MAX)
				maps[nmaps++] = xstrdup("_other");
		}
	}
	pthread_mutex_unlock(&maps_lock);
	return (uint16_t)i;
}

enum stats_result
stats_result_of(int rc, const struct err *e)
{
	if (rc == 1)
		return SR_OK;
	if (rc == 0)
		return SR_NOTFOUND;
	return strcmp(err_info(e->kind)->socketmap, "TEMP") == 0 ? SR_TEMP
								 : SR_PERM;
}

void
stats_sum(uint64_t *out, size_t *nmaps_r)
{
	pthread_mutex_lock(&maps_lock);
	*nmaps_r = nmaps;
	pthread_mutex_unlock(&maps_lock);
	if (stats_m == NULL) {
		memset(out, 0, STATS_NSLOTS * sizeof(*out));
		return;
	}
	metrics_sum_all(stats_m, out);
}

static const char *const result_names[SR_N] = { "ok", "notfound", "temp",
	"perm" };

/* One counter family with a sample per map. */
static void
per_map(struct buf *b, const uint64_t *s, size_t n, const char *name,
    const char *help, size_t off)
{
	metrics_write_family(b, name, METRICS_COUNTER, help);
	for (size_t m = 0; m < n; m++) {
		struct metrics_label l[] = { { "map", maps[m] } };

		metrics_write_u64(b, name, l, 1, s[STATS_MAP(m, off)]);
	}
}

void
stats_write(struct buf *b, const uint64_t *s, size_t n, const char *protocol)
{
	/* Names are only ever added: those below n stay put unlocked. */
	metrics_write_family(b, "podop_lookups_total", METRICS_COUNTER,
	    "Lookups answered, by table, result and protocol.");
	for (size_t m = 0; m < n; m++)
		for (int r = 0; r < SR_N; r++) {
			struct metrics_label l[] = { { "map", maps[m] },
				{ "result", result_names[r] },
				{ "protocol", protocol } };

			metrics_write_u64(b, "podop_lookups_total", l, 3,
			    s[STATS_MAP(m, MS_RESULT + r)]);
		}
	metrics_write_family(b, "podop_lookup_duration_seconds",
	    METRICS_HISTOGRAM,
	    "Time from the loop round a lookup was read in to the round it was answered in, by table; answers given at once count as 0.");
	for (size_t m = 0; m < n; m++) {
		struct metrics_label l[] = { { "map", maps[m] },
			{ "protocol", protocol } };

		metrics_write_hist(b, "podop_lookup_duration_seconds", l, 2,
		    &stats_lat, &s[STATS_MAP(m, MS_HIST)]);
	}
	per_map(b, s, n, "podop_cache_hits_total",
	    "Lookups answered from a fresh cached answer.", MS_CACHE_HIT);
	per_map(b, s, n, "podop_cache_misses_total",
	    "Lookups on a cached table that found no fresh answer.",
	    MS_CACHE_MISS);
	per_map(b, s, n, "podop_cache_stale_answers_total",
	    "Lookups answered with an expired cached answer because the backend failed or timed out.",
	    MS_STALE);
	per_map(b, s, n, "podop_backend_calls_total",
	    "Calls to a table's backend (lookups, iterations, commits).",
	    MS_BACKEND);
	per_map(b, s, n, "podop_backend_errors_total",
	    "Backend calls that failed.", MS_BACKEND_ERR);
	per_map(b, s, n, "podop_backend_timeouts_total",
	    "Requests answered by the event loop because the backend took longer than the timeout.",
	    MS_TIMEOUT);
	metrics_write_family(b, "podop_requests_total", METRICS_COUNTER,
	    "Requests received, by kind (lookup, iterate, commit).");
	{
		uint64_t all = s[STATS_GLOBAL(GS_REQUESTS)];
		uint64_t it = s[STATS_GLOBAL(GS_ITERATE)];
		uint64_t co = s[STATS_GLOBAL(GS_COMMIT)];
		struct metrics_label l[] = { { "kind", "lookup" } };

		metrics_write_u64(b, "podop_requests_total", l, 1,
		    all >= it + co ? all - it - co : 0);
		l[0].value = "iterate";
		metrics_write_u64(b, "podop_requests_total", l, 1, it);
		l[0].value = "commit";
		metrics_write_u64(b, "podop_requests_total", l, 1, co);
	}
	metrics_write_family(b, "podop_bad_requests_total", METRICS_COUNTER,
	    "Malformed requests and requests for an unknown table.");
	metrics_write_u64(
	    b, "podop_bad_requests_total", NULL, 0, s[STATS_GLOBAL(GS_BAD)]);
	metrics_write_family(b, "podop_connections_total", METRICS_COUNTER,
	    "Client connections accepted.");
	metrics_write_u64(
	    b, "podop_connections_total", NULL, 0, s[STATS_GLOBAL(GS_CONNS)]);
}
