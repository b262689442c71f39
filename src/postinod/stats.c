/*
 * stats: postinod's counters and their exposition.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "postinod.h"
#include "stats.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

static const char *const routes[] = { "other", "/healthz", "/readyz",
	"/zitadel/events", "/scim/v2/Users", "/scim/v2/Users/{id}",
	"/scim/v2/Aliases", "/scim/v2/Aliases/{id}", "/scim/v2/Domains",
	"/scim/v2/Domains/{id}", "/scim/v2/ServiceProviderConfig",
	"/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/{id}",
	"/scim/v2/Schemas", "/scim/v2/Schemas/{id}", "/scim/v2/other" };
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const methods[] = { "other", "GET", "HEAD", "POST", "PUT",
	"PATCH", "DELETE", "OPTIONS" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const int statuses[] = { 0, 200, 201, 204, 304, 400, 401, 403, 404, 405,
	406, 409, 412, 413, 415, 422, 429, 500, 501, 502, 503, 504 };
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

static const double lat_le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(lat_le) / sizeof(lat_le[0]))

static const char *const webhook_names[PW_N] = { "applied", "duplicate",
	"ignored", "rejected", "failed" };
static const char *const reject_names[PR_N] = { "no_signature", "bad_signature",
	"signature_expired", "bad_event", "replay_window", "unsupported",
	"unknown_subject", "invalid" };

/* Slots. */
#define S_REQ(r, m, s) (((r)*NMETHODS + (m)) * NSTATUSES + (s))
#define S_HIST(r)                                                              \
	(NROUTES * NMETHODS * NSTATUSES + (r)*METRICS_HIST_SLOTS(NBUCKETS))
#define S_WEBHOOK(w) (S_HIST(NROUTES) + (w))
#define S_REJECT(x) (S_WEBHOOK(PW_N) + (x))
#define S_N S_REJECT(PR_N)

static struct metrics *m;
static struct metrics_buckets lat;

void
pstats_init(void)
{
	if (m != NULL)
		return;
	(void)metrics_buckets_init(&lat, lat_le, NBUCKETS);
	m = metrics_new(S_N);
}

static size_t
route_idx(const char *path)
{
	static const char *const scim[] = { "Users", "Aliases", "Domains",
		"ServiceProviderConfig", "ResourceTypes", "Schemas" };
	/* Index of the collection's route; {id} is the next one. */
	static const size_t base[] = { 4, 6, 8, 10, 11, 13 };
	const char *rest, *slash;
	size_t n;

	if (strcmp(path, "/healthz") == 0)
		return 1;
	if (strcmp(path, "/readyz") == 0)
		return 2;
	if (strcmp(path, "/zitadel/events") == 0)
		return 3;
	if (!str_prefix(path, "/scim/v2/"))
		return 0;
	rest = path + strlen("/scim/v2/");
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	for (size_t i = 0; i < sizeof(scim) / sizeof(scim[0]); i++) {
		if (strlen(scim[i]) != n || strncmp(rest, scim[i], n) != 0)
			continue;
		if (slash == NULL)
			return base[i];
		/* One more segment, not empty: an id (a collection has none).
		 */
		if (slash[1] == '\0' || strchr(slash + 1, '/') != NULL ||
		    i == 3)
			return NROUTES - 1;
		return base[i] + 1;
	}
	return NROUTES - 1;
}

const char *
pstats_route(const char *path)
{
	return routes[route_idx(path)];
}

void
pstats_request(const char *method, const char *path, int status, uint64_t ns)
{
	size_t r = route_idx(path), mi = 0, si = 0;

	if (m == NULL)
		return;
	for (size_t i = 1; i < NMETHODS; i++)
		if (strcmp(method, methods[i]) == 0)
			mi = i;
	for (size_t i = 1; i < NSTATUSES; i++)
		if (statuses[i] == status)
			si = i;
	metrics_add(m, S_REQ(r, mi, si), 1);
	metrics_observe(m, S_HIST(r), &lat, ns);
}

void
pstats_webhook(enum pstats_webhook w)
{
	if (m != NULL)
		metrics_add(m, S_WEBHOOK(w), 1);
}

void
pstats_reject(enum pstats_reject x)
{
	if (m != NULL) {
		metrics_add(m, S_WEBHOOK(PW_REJECTED), 1);
		metrics_add(m, S_REJECT(x), 1);
	}
}

static void
counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	metrics_write_family(b, name, METRICS_COUNTER, help);
	metrics_write_u64(b, name, NULL, 0, v);
}

void
pstats_render(void *arg, struct buf *b)
{
	uint64_t *v;
	struct metrics_label ver[] = { { "version", POSTINO_VERSION } };

	(void)arg;
	if (m == NULL)
		return;
	v = xcalloc(S_N, sizeof(*v));
	metrics_sum_all(m, v);
	metrics_write_family(b, "postinod_build_info", METRICS_GAUGE,
	    "Always 1; the version postinod was built from.");
	metrics_write_u64(b, "postinod_build_info", ver, 1, 1);
	metrics_write_family(b, "postinod_http_requests_total", METRICS_COUNTER,
	    "HTTP requests answered, by route, method and status.");
	for (size_t r = 0; r < NROUTES; r++)
		for (size_t mi = 0; mi < NMETHODS; mi++)
			for (size_t si = 0; si < NSTATUSES; si++) {
				char st[16];
				struct metrics_label l[] = { { "route",
								 routes[r] },
					{ "method", methods[mi] },
					{ "status", st } };

				if (v[S_REQ(r, mi, si)] == 0)
					continue;
				if (si == 0)
					str_copy(st, "other", sizeof(st));
				else
					snprintf(
					    st, sizeof(st), "%d", statuses[si]);
				metrics_write_u64(b,
				    "postinod_http_requests_total", l, 3,
				    v[S_REQ(r, mi, si)]);
			}
	metrics_write_family(b, "postinod_http_request_duration_seconds",
	    METRICS_HISTOGRAM,
	    "Time from a request's first byte to its answer, by route.");
	for (size_t r = 0; r < NROUTES; r++) {
		struct metrics_label l[] = { { "route", routes[r] } };

		if (v[S_HIST(r) + NBUCKETS + 2] == 0)
			continue;
		metrics_write_hist(b, "postinod_http_request_duration_seconds",
		    l, 1, &lat, &v[S_HIST(r)]);
	}
	metrics_write_family(b, "postinod_webhook_events_total",
	    METRICS_COUNTER,
	    "Zitadel webhook deliveries, by result: applied, duplicate (recorded before), ignored (a type postino does not act on), rejected (see postinod_webhook_rejections_total), failed (server side, retried by Zitadel).");
	for (int w = 0; w < PW_N; w++) {
		struct metrics_label l[] = { { "result", webhook_names[w] } };

		metrics_write_u64(
		    b, "postinod_webhook_events_total", l, 1, v[S_WEBHOOK(w)]);
	}
	metrics_write_family(b, "postinod_webhook_rejections_total",
	    METRICS_COUNTER, "Zitadel webhook deliveries refused, by reason.");
	for (int x = 0; x < PR_N; x++) {
		struct metrics_label l[] = { { "reason", reject_names[x] } };

		metrics_write_u64(b, "postinod_webhook_rejections_total", l, 1,
		    v[S_REJECT(x)]);
	}
	{
		struct postinod *d = arg;
		struct pool_stats ps;
		uint64_t loads = 0, fails = 0;

		if (d->jwks != NULL)
			jwks_counts(d->jwks, &loads, &fails);
		memset(&ps, 0, sizeof(ps));
		if (d->pool != NULL)
			pool_counts(d->pool, &ps);
		counter(b, "postinod_jwks_refreshes_total",
		    "Loads of the SCIM issuer's signing keys (JWKS) that succeeded.",
		    loads);
		counter(b, "postinod_jwks_refresh_failures_total",
		    "Loads of the signing keys (JWKS) that failed.", fails);
		counter(b, "postinod_database_connections_total",
		    "Database connections opened.", ps.connects);
		counter(b, "postinod_database_connect_errors_total",
		    "Database connections that could not be opened.",
		    ps.connect_errors);
		counter(b, "postinod_database_connections_dropped_total",
		    "Connections closed after a database failure or found dead when idle.",
		    ps.dropped);
		counter(b, "postinod_database_reconnects_total",
		    "Connections opened to replace a dropped one.",
		    ps.reconnects);
	}
	free(v);
}

void
pstats_log(struct postinod *d)
{
	uint64_t *v, req = 0, err5 = 0, loads = 0, fails = 0;
	struct pool_stats ps;

	if (m == NULL)
		return;
	memset(&ps, 0, sizeof(ps));
	if (d->jwks != NULL)
		jwks_counts(d->jwks, &loads, &fails);
	if (d->pool != NULL)
		pool_counts(d->pool, &ps);
	v = xcalloc(S_N, sizeof(*v));
	metrics_sum_all(m, v);
	for (size_t r = 0; r < NROUTES; r++)
		for (size_t mi = 0; mi < NMETHODS; mi++)
			for (size_t si = 0; si < NSTATUSES; si++) {
				req += v[S_REQ(r, mi, si)];
				if (statuses[si] >= 500)
					err5 += v[S_REQ(r, mi, si)];
			}
	log_info(
	    "stats requests=%llu server_errors=%llu webhook_applied=%llu webhook_duplicate=%llu webhook_ignored=%llu webhook_rejected=%llu webhook_failed=%llu jwks_refreshes=%llu jwks_failures=%llu db_connections=%llu db_connect_errors=%llu db_reconnects=%llu",
	    (unsigned long long)req, (unsigned long long)err5,
	    (unsigned long long)v[S_WEBHOOK(PW_APPLIED)],
	    (unsigned long long)v[S_WEBHOOK(PW_DUPLICATE)],
	    (unsigned long long)v[S_WEBHOOK(PW_IGNORED)],
	    (unsigned long long)v[S_WEBHOOK(PW_REJECTED)],
	    (unsigned long long)v[S_WEBHOOK(PW_FAILED)],
	    (unsigned long long)loads, (unsigned long long)fails,
	    (unsigned long long)ps.connects,
	    (unsigned long long)ps.connect_errors,
	    (unsigned long long)ps.reconnects);
	free(v);
}
