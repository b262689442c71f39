/*
 * server: the public face of podop's server (server.h): the listening
 * socket, starting, reloading, draining and finishing the loops and the
 * pool, and the stats line and metrics.  The rest is in loop.c,
 * socketmap.c, dict.c and workers.c (server_impl.h says what is where).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "dbpool.h"
#include "err.h"
#include "log.h"
#include "pool.h"
#include "metrics.h"
#include "net.h"
#include "server.h"
#include "server_impl.h"
#include "stats.h"
#include "strutil.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Logging of backend failures, at most ERR_LOG_PER_SEC lines a second so a
 * database outage cannot flood the log.
 */
bool
err_log_ok(struct server *srv)
{
	int64_t sec = cache_now_ms() / 1000;

	if (atomic_load(&srv->err_second) != sec) {
		atomic_store(&srv->err_second, sec);
		atomic_store(&srv->err_count, 0);
	}
	return atomic_fetch_add(&srv->err_count, 1) < ERR_LOG_PER_SEC;
}

/*
 * Listening.
 */

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
owner_ids(const char *spec, uid_t *uid_r, gid_t *gid_r, struct err *err)
{
	char *copy = xstrdup(spec), *colon = strchr(copy, ':');
	struct passwd *pw = NULL;
	struct group *gr;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (colon != NULL)
		*colon++ = '\0';
	if (*copy != '\0') {
		if ((pw = getpwnam(copy)) == NULL) {
			err_set(err, ERR_CONFIG, "unknown user '%s'", copy);
			free(copy);
			return -1;
		}
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			err_set(err, ERR_CONFIG, "unknown group '%s'", colon);
			free(copy);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	free(copy);
	return 0;
}

static int
listen_unix(struct server *srv, const char *path, struct err *err)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return err_set(
		    err, ERR_CONFIG, "socket path '%s' is too long", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(
		    err, ERR_FILESYSTEM, "socket: %s", strerror(errno));
	/* A socket left by a dead podop goes; a live one is an error. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return err_set(
		    err, ERR_CONFIG, "'%s' is in use by another server", path);
	}
	if (errno == ECONNREFUSED) {
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	}
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(
		    err, ERR_FILESYSTEM, "socket: %s", strerror(errno));
	/* No window in which the socket has looser permissions. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		err_set(err, ERR_FILESYSTEM, "cannot bind '%s': %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (srv->conf.socket_owner != NULL && *srv->conf.socket_owner) {
		uid_t uid;
		gid_t gid;

		int bad = owner_ids(srv->conf.socket_owner, &uid, &gid, err);

		if (bad == 0 && chown(sun.sun_path, uid, gid) == -1)
			bad = err_set(err, ERR_FILESYSTEM,
			    "cannot chown '%s': %s", sun.sun_path,
			    strerror(errno));
		if (bad == -1) {
			close(fd);
			unlink(sun.sun_path);
			return -1;
		}
	}
	if (chmod(sun.sun_path, srv->conf.socket_mode) == -1) {
		err_set(err, ERR_FILESYSTEM, "cannot chmod '%s': %s",
		    sun.sun_path, strerror(errno));
		close(fd);
		unlink(sun.sun_path);
		return -1;
	}
	srv->sockpath = xstrdup(path);
	srv->lfd = fd;
	return 0;
}

static int
listen_inet(struct server *srv, const char *hostport, struct err *err)
{
	char where[128];
	int fd = net_listen(
	    hostport, 1024, "podop.socket", where, sizeof(where), err);

	if (fd == -1)
		return -1;
	srv->lfd = fd;
	return 0;
}

int
server_listen(
    struct server **srv_r, const struct server_conf *conf, struct err *err)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	const char *l = conf->listen;
	int r;

	*srv_r = NULL;
	srv->conf = *conf;
	srv->conf.listen = xstrdup(conf->listen);
	srv->conf.socket_owner =
	    xstrdup(conf->socket_owner != NULL ? conf->socket_owner : "");
	srv->lfd = -1;
	stats_init();
	if (str_prefix(l, "unix:"))
		r = listen_unix(srv, l + 5, err);
	else if (l[0] == '/' || strchr(l, ':') == NULL)
		r = listen_unix(srv, l, err); /* Podop's --socket PATH */
	else
		r = listen_inet(srv, str_prefix(l, "inet:") ? l + 5 : l, err);
	if (r == 0 &&
	    (listen(srv->lfd, 1024) == -1 || set_nonblock(srv->lfd) == -1)) {
		err_set(err, ERR_FILESYSTEM, "cannot listen on %s: %s", l,
		    strerror(errno));
		close(srv->lfd);
		r = -1;
	}
	if (r == -1) {
		free(srv->conf.listen);
		free(srv->conf.socket_owner);
		free(srv->sockpath);
		free(srv);
		return -1;
	}
	pthread_mutex_init(&srv->ts_lock, NULL);
	*srv_r = srv;
	return 0;
}

const char *
server_socket_path(const struct server *srv)
{
	return srv->sockpath;
}

static void
worker_init(void)
{
	dbpool_batch_enable(true);
}

void
server_start(struct server *srv, struct tableset *ts)
{
	int threads = srv->conf.threads > 0 ? srv->conf.threads : 64;

	srv->ts = ts;
	atomic_store(&srv->ts_gen, 1);
	if (srv->conf.cache_on)
		srv->cache = cache_new(&srv->conf.cache);
	srv->pool = pool_new(threads < 4 ? threads : 4, threads, PER_TABLE_MAX,
	    worker_init, dbpool_batch_flush);
	srv->nloops = srv->conf.loops > 0 ? srv->conf.loops : 1;
	srv->loops = xcalloc((size_t)srv->nloops, sizeof(*srv->loops));
	for (int i = 0; i < srv->nloops; i++) {
		struct loop *l = &srv->loops[i];
		struct epoll_event e;

		l->srv = srv;
		l->idx = i;
		if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			fatal("cannot create an event loop");
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.fd = l->evfd;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &e) == -1)
			fatal("epoll_ctl");
		pthread_mutex_init(&l->qlock, NULL);
		l->pend.tnext = l->pend.tprev = &l->pend;
		l->submit_tail = &l->submit;
		buf_init(&l->scratch, VALUE_MAX);
		buf_init(&l->reply, VALUE_MAX + 64);
		buf_init(&l->ckey, TABLE_KEY_MAX * 3);
		l->ts = ts;
		tableset_ref(ts);
		l->ts_gen = 1;
		if (pthread_create(&l->thr, NULL, loop_main, l) != 0)
			fatal("cannot start an event loop");
	}
}

void
server_reload(struct server *srv, struct tableset *ts)
{
	struct tableset *old;

	pthread_mutex_lock(&srv->ts_lock);
	old = srv->ts;
	srv->ts = ts;
	atomic_fetch_add(&srv->ts_gen, 1);
	pthread_mutex_unlock(&srv->ts_lock);
	if (srv->cache != NULL)
		cache_clear(srv->cache);
	tableset_unref(old);
	/* Wake the loops so they pick the new set up now. */
	for (int i = 0; i < srv->nloops; i++)
		(void)!eventfd_write(srv->loops[i].evfd, 1);
}

void
server_drain(struct server *srv, int64_t max_ms)
{
	atomic_store(&srv->drain_until, cache_now_ms() + max_ms);
	atomic_store(&srv->draining, true);
	for (int i = 0; i < srv->nloops; i++)
		(void)!eventfd_write(srv->loops[i].evfd, 1);
}

bool
server_finish(struct server **srvp)
{
	struct server *srv = *srvp;
	bool pool_gone;

	*srvp = NULL;
	for (int i = 0; i < srv->nloops; i++)
		pthread_join(srv->loops[i].thr, NULL);
	close(srv->lfd);
	if (srv->sockpath != NULL)
		unlink(srv->sockpath);
	pool_gone = pool_stop(srv->pool, 2000);
	if (!pool_gone) {
		/* A backend call is stuck; its thread still uses the rest. */
		log_warnx("backend calls still running at exit");
		return false;
	}
	for (int i = 0; i < srv->nloops; i++) {
		struct loop *l = &srv->loops[i];
		struct done *d, *next;

		for (d = l->qhead; d != NULL; d = next) {
			next = d->next;
			done_free(d);
		}
		close(l->epfd);
		close(l->evfd);
		free(l->conns);
		buf_release(&l->scratch);
		buf_release(&l->reply);
		buf_release(&l->ckey);
		tableset_unref(l->ts);
		pthread_mutex_destroy(&l->qlock);
	}
	free(srv->loops);
	tableset_unref(srv->ts);
	cache_free(&srv->cache);
	pthread_mutex_destroy(&srv->ts_lock);
	free(srv->conf.listen);
	free(srv->conf.socket_owner);
	free(srv->sockpath);
	free(srv);
	return true;
}

void
server_log_stats(struct server *srv)
{
	struct cache_stats cs;
	int threads = 0, busy = 0, queued = 0;
	size_t conns = 0, nmaps;
	uint64_t *v = xcalloc(STATS_NSLOTS, sizeof(*v));
	uint64_t hits = 0, backend = 0, stale = 0, tmo = 0, errs = 0;
	uint64_t res[SR_N] = { 0 };

	memset(&cs, 0, sizeof(cs));
	if (srv->cache != NULL)
		cache_get_stats(srv->cache, &cs);
	pool_counts(srv->pool, &threads, &busy, &queued);
	for (int i = 0; i < srv->nloops; i++)
		conns += atomic_load_explicit(
		    &srv->loops[i].nconns, memory_order_relaxed);
	/* The same sums the metrics listener shows. */
	stats_sum(v, &nmaps);
	for (size_t m = 0; m < nmaps; m++) {
		hits += v[STATS_MAP(m, MS_CACHE_HIT)];
		backend += v[STATS_MAP(m, MS_BACKEND)];
		stale += v[STATS_MAP(m, MS_STALE)];
		tmo += v[STATS_MAP(m, MS_TIMEOUT)];
		errs += v[STATS_MAP(m, MS_BACKEND_ERR)];
		for (int r = 0; r < SR_N; r++)
			res[r] += v[STATS_MAP(m, MS_RESULT + r)];
	}
	log_info(
	    "stats requests=%llu cache_hits=%llu backend_calls=%llu stale=%llu timeouts=%llu errors=%llu bad_requests=%llu connections=%llu open=%zu cache_entries=%llu evicted=%llu threads=%d busy=%d queued=%d ok=%llu notfound=%llu temp=%llu perm=%llu",
	    (unsigned long long)v[STATS_GLOBAL(GS_REQUESTS)],
	    (unsigned long long)hits, (unsigned long long)backend,
	    (unsigned long long)stale, (unsigned long long)tmo,
	    (unsigned long long)errs,
	    (unsigned long long)v[STATS_GLOBAL(GS_BAD)],
	    (unsigned long long)v[STATS_GLOBAL(GS_CONNS)], conns,
	    (unsigned long long)cs.entries, (unsigned long long)cs.evicted,
	    threads, busy, queued, (unsigned long long)res[SR_OK],
	    (unsigned long long)res[SR_NOTFOUND],
	    (unsigned long long)res[SR_TEMP], (unsigned long long)res[SR_PERM]);
	free(v);
}

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
	metrics_write_family(b, name, METRICS_GAUGE, help);
	metrics_write_double(b, name, NULL, 0, v);
}

/* The databases of sql and postfixadmin tables (dbpool.h). */
static void
metrics_databases(struct buf *b)
{
	struct dbpool_stat *v;
	size_t n = dbpool_stats(&v);
	int64_t now = cache_now_ms();
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "podop_database_connections_total",
		    "Database connections opened by the sql and postfixadmin tables.",
		    offsetof(struct dbpool_stat, connects) },
		{ "podop_database_connect_errors_total",
		    "Database connections that could not be opened.",
		    offsetof(struct dbpool_stat, connect_errors) },
		{ "podop_database_reconnects_total",
		    "Queries that failed on a pooled connection and were run again on a new one.",
		    offsetof(struct dbpool_stat, reconnects) },
	};

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		metrics_write_family(
		    b, counters[c].name, METRICS_COUNTER, counters[c].help);
		for (size_t i = 0; i < n; i++) {
			struct metrics_label l[] = { { "database",
			    v[i].where } };
			uint64_t x;

			memcpy(&x, (const char *)&v[i] + counters[c].off,
			    sizeof(x));
			metrics_write_u64(b, counters[c].name, l, 1, x);
		}
	}
	metrics_write_family(b, "podop_change_tracked", METRICS_GAUGE,
	    "1 when the database has postino's change serial, so cached answers are forgotten when it moves.");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		metrics_write_u64(
		    b, "podop_change_tracked", l, 1, v[i].tracked ? 1 : 0);
	}
	metrics_write_family(b, "podop_change_serial", METRICS_GAUGE,
	    "The change serial last read from the database (postino_change.serial).");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		if (v[i].serial >= 0)
			metrics_write_double(b, "podop_change_serial", l, 1,
			    (double)v[i].serial);
	}
	metrics_write_family(b, "podop_change_poll_age_seconds", METRICS_GAUGE,
	    "Seconds since the change serial was last read from the database.");
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = { { "database", v[i].where } };

		if (v[i].last_poll_ms >= 0)
			metrics_write_double(b, "podop_change_poll_age_seconds",
			    l, 1, (double)(now - v[i].last_poll_ms) / 1000.0);
	}
	free(v);
}

void
server_metrics(void *arg, struct buf *b)
{
	struct server *srv = arg;
	struct cache_stats cs;
	int threads = 0, busy = 0, queued = 0;
	size_t conns = 0, nmaps;
	uint64_t *v = xcalloc(STATS_NSLOTS, sizeof(*v));
	struct metrics_label ver[] = { { "version", POSTINO_VERSION } };

	memset(&cs, 0, sizeof(cs));
	if (srv->cache != NULL)
		cache_get_stats(srv->cache, &cs);
	pool_counts(srv->pool, &threads, &busy, &queued);
	for (int i = 0; i < srv->nloops; i++)
		conns += atomic_load_explicit(
		    &srv->loops[i].nconns, memory_order_relaxed);
	stats_sum(v, &nmaps);
	metrics_write_family(b, "podop_build_info", METRICS_GAUGE,
	    "Always 1; the version podop was built from.");
	metrics_write_u64(b, "podop_build_info", ver, 1, 1);
	stats_write(
	    b, v, nmaps, srv->conf.mode == MODE_POSTFIX ? "socketmap" : "dict");
	free(v);
	metrics_write_family(b, "podop_cache_evictions_total", METRICS_COUNTER,
	    "Cached answers dropped to keep the cache within its size.");
	metrics_write_u64(
	    b, "podop_cache_evictions_total", NULL, 0, cs.evicted);
	gauge(b, "podop_cache_entries", "Answers in the cache now.",
	    (double)cs.entries);
	gauge(b, "podop_cache_max_entries",
	    "Most answers the cache keeps (cache_size); 0 when it is off.",
	    srv->cache != NULL ? (double)srv->conf.cache.max_entries : 0);
	gauge(b, "podop_open_connections", "Client connections open now.",
	    (double)conns);
	gauge(b, "podop_backend_threads", "Threads started for backend calls.",
	    threads);
	gauge(b, "podop_backend_threads_busy", "Threads in a backend call now.",
	    busy);
	gauge(b, "podop_backend_queue_length",
	    "Backend calls waiting for a thread now.", queued);
	metrics_databases(b);
}