/*
 * postinod(8): SCIM 2.0 and the Zitadel Actions webhook for postino, over
 * HTTP.
 *
 * Start-up: load postino.toml and the environment (conf.h), the webhook
 * secrets (environment only), open the database pool exactly as the CLI
 * opens its database (the Postfix map file sql-virtual_mailbox_maps.cf),
 * check the schema when the database answers, bind the listening socket,
 * drop privileges to postinod.user, start the HTTP workers.  Then wait for
 * signals (a handler writes them to a pipe the main thread reads): SIGHUP makes
 * the next token check reload the JWKS; SIGTERM and SIGINT stop accepting
 * connections, let requests in progress finish (up to DRAIN_MS) and exit 0.
 *
 * Before anything else the process gives up core files and tracing
 * (harden.h); with seccomp = true it confines itself to a seccomp
 * allow-list once the HTTP workers run.
 *
 * Exit status: 0 after a clean stop or a successful -t; otherwise the
 * postino(8) exit code of the error kind that stopped it (err.c).
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cf.h"
#include "conf.h"
#include "harden.h"
#include "log.h"
#include "metrics_http.h"
#include "pool.h"
#include "postinod.h"
#include "schema.h"
#include "server.h"
#include "stats.h"
#include "maildir.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define DRAIN_MS 30000
#define WINDOW_MAX 86400

/* Signals reach the main thread through this pipe (read end, write end). */
static int sig_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)!write(sig_pipe[1], &c, 1);
	errno = saved;
}

/*
 * Catch SIGTERM, SIGINT and SIGHUP with a handler that writes to a pipe
 * (rather than blocking them for sigwait(), which every child the
 * post-creation hook forks would inherit).
 */
static int
catch_signals(struct err *err)
{
	struct sigaction sa;
	int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

	if (pipe(sig_pipe) == -1)
		return err_set(err, ERR_INTERNAL, "pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		(void)fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
	(void)fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return err_set(err, ERR_INTERNAL, "sigaction: %s",
			    strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The next signal caught. */
static int
next_signal(void)
{
	unsigned char c;
	ssize_t n;

	while ((n = read(sig_pipe[0], &c, 1)) != 1)
		if (n == 0 || (n == -1 && errno != EINTR))
			return SIGTERM;
	return c;
}

static void
usage(void)
{
	fprintf(stderr, "usage: postinod [-t] [--allow-root] [-c config]\n");
}

static int
die(const struct err *err)
{
	fprintf(stderr, "postinod: error: %s\n", err->msg);
	if (err->hint[0] != '\0')
		fprintf(stderr, "hint: %s\n", err->hint);
	return err_exit_code(err->kind);
}

static int
replay_window(int64_t *w, struct err *err)
{
	const char *v = getenv("POSTINOD_ZITADEL_REPLAY_WINDOW_SEC");

	*w = WEBHOOK_WINDOW_DEFAULT;
	if (v == NULL)
		return 0;
	if (str_to_i64(v, w) == -1 || *w < 1 || *w > WINDOW_MAX)
		return err_set(err, ERR_CONFIG,
		    "POSTINOD_ZITADEL_REPLAY_WINDOW_SEC: '%.32s' is not a number of seconds from 1 to %d",
		    v, WINDOW_MAX);
	return 0;
}

static int
db_params(const struct postino_conf *conf, struct db_params *p, struct err *err)
{
	enum db_engine engine = DB_ENGINE_NONE;
	struct cf cf;
	char *path;
	int rc;

	if (conf->postfix_sql_engine[0] != '\0')
		engine = db_engine_parse(conf->postfix_sql_engine);
	path = conf_sql_path(conf, "sql-virtual_mailbox_maps.cf");
	rc = cf_parse_file(&cf, path, err);
	free(path);
	if (rc == -1)
		return -1;
	rc = db_params_from_cf(p, &cf, engine, err);
	cf_release(&cf);
	return rc;
}

/* The schema must be postino's current one; an absent database is fine. */
static int
check_schema(struct pool *pool, struct err *err)
{
	struct schema_status st;
	struct db *db;
	int rc;

	if (pool_get(pool, &db, err) == -1) {
		log_warnx(
		    "the database does not answer yet (%s); /readyz says 503 until it does",
		    err->msg);
		err_clear(err);
		return 0;
	}
	rc = schema_status(db, &st, err);
	/* Not pooled: workers connect after privileges were dropped. */
	pool_discard(pool, db);
	if (rc == -1)
		return -1;
	if (st.empty || st.missing_pfa > 0)
		return err_set(err, ERR_DATABASE,
		    "the database lacks the PostfixAdmin schema%s%s",
		    st.missing_pfa > 0 ? ": " : "", st.missing);
	if (st.postino_version < SCHEMA_POSTINO_VERSION) {
		err_set(err, ERR_DATABASE,
		    "the database is at postino schema version %d, postinod needs %d",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
		return err_hint(err, "run 'postino schema migrate'");
	}
	return 0;
}

/* The user postinod switches to, as root, when [postinod] user is unset:
 * the one Python postino's service ran as (User=postinod), which the
 * package creates. */
#define DEFAULT_USER "postinod"

/*
 * Switch to [postinod] user.  Serving as root is never silent: unset, as
 * root, postinod becomes DEFAULT_USER if that user exists, and otherwise
 * refuses unless told (user = "root", or --allow-root).
 */
static int
drop_privileges(const char *user, bool allow_root, struct err *err)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0') {
		if (geteuid() != 0 || allow_root)
			return 0;
		errno = 0;
		if (getpwnam(DEFAULT_USER) == NULL) {
			err_set(err, ERR_CONFIG,
			    "postinod will not serve as root: [postinod] user is unset and there is no user '%s'",
			    DEFAULT_USER);
			return err_hint(err,
			    "set user = \"NAME\" in [postinod] (the owner of the maildirs), create the system user '%s', or serve as root on purpose with user = \"root\" or --allow-root",
			    DEFAULT_USER);
		}
		user = DEFAULT_USER;
		log_info("[postinod] user is unset: switching to '%s'", user);
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return err_set(
		    err, ERR_CONFIG, "postinod.user: no user '%s'", user);
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0)
		return err_set(err, ERR_CONFIG,
		    "postinod.user: only root can switch to '%s'", user);
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		return err_set(err, ERR_CONFIG,
		    "cannot switch to user '%s': %s", user, strerror(errno));
	if (pw->pw_uid != 0 && setuid(0) != -1)
		return err_set(err, ERR_INTERNAL,
		    "could regain root after switching to '%s'", user);
	return 0;
}

static char *
jwks_url(const struct postino_conf *conf)
{
	const char *iss = conf->postinod.scim_issuer;
	size_t n = strlen(iss);

	if (conf->postinod.scim_jwks_url[0] != '\0')
		return xstrdup(conf->postinod.scim_jwks_url);
	while (n > 0 && iss[n - 1] == '/')
		n--;
	return xasprintf("%.*s/.well-known/jwks.json", (int)n, iss);
}

int
main(int argc, char **argv)
{
	struct postino_conf conf;
	struct postinod d;
	struct db_params params;
	struct jwks_opts jo;
	struct http_server_opts so;
	struct http_server *srv = NULL;
	struct metrics_http *mh = NULL;
	struct err err = ERR_INIT;
	const char *config = NULL;
	char *url = NULL;
	bool test_only = false, have_conf = false, have_params = false;
	bool allow_root = false;
	static const struct option longopts[] = {
		{ "allow-root", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c, sig, rc = 0, level;

	maildir_note_umask(); /* before any thread: see maildir.h */
	log_init("postinod", false, LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "c:htV", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			allow_root = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 't':
			test_only = true;
			break;
		case 'V':
			printf("postinod %s\n", POSTINO_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 64;
		}
	}
	if (optind != argc) {
		usage();
		return 64;
	}
	memset(&d, 0, sizeof(d));
	memset(&params, 0, sizeof(params));
	if (harden_process(&err) == -1)
		return die(&err);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (conf_load(&conf, config, &err) == -1)
		goto fail;
	have_conf = true;
	d.conf = &conf;
	if ((level = log_level_parse(conf.postinod.log_level)) >= 0)
		log_set_level((enum log_level)level);
	log_set_format((enum log_format)log_format_parse(conf.log_format));
	if (conf.postinod.scim_issuer[0] == '\0' ||
	    conf.postinod.scim_audience[0] == '\0') {
		err_set(&err, ERR_CONFIG,
		    "postinod.scim_issuer and postinod.scim_audience must be set");
		err_hint(&err,
		    "they name the identity provider whose tokens SCIM clients present");
		goto fail;
	}
	if (conf.postinod.seccomp && !harden_seccomp_available()) {
		(void)harden_seccomp(HARDEN_POSTINOD, &err);
		goto fail;
	}
	if (conf.postinod.seccomp && conf.postcreation_hook[0] != '\0') {
		err_set(&err, ERR_CONFIG,
		    "postinod.seccomp cannot run the post-creation hook");
		err_hint(&err,
		    "the hook would inherit the seccomp filter, which forbids starting programs: unset one of postcreation_hook and postinod.seccomp");
		goto fail;
	}
	if (webhook_keys_parse(
		getenv("POSTINOD_ZITADEL_HMAC_SECRET"), &d.hooks, &err) == -1 ||
	    replay_window(&d.replay_window, &err) == -1)
		goto fail;
	d.policy.issuer = conf.postinod.scim_issuer;
	d.policy.audience = conf.postinod.scim_audience;
	d.policy.max_age = conf.postinod.scim_max_token_age_seconds;
	if (db_params(&conf, &params, &err) == -1)
		goto fail;
	have_params = true;
	pstats_init();
	d.pool = pool_new(&params, (size_t)conf.postinod.threads);
	d.engine = params.engine;
	if (check_schema(d.pool, &err) == -1)
		goto fail;
	if (test_only) {
		printf("postinod: configuration ok\n");
		goto out;
	}

	url = jwks_url(&conf);
	memset(&jo, 0, sizeof(jo));
	jo.url = url;
	jo.file = conf.postinod.scim_jwks_file;
	jo.refresh = conf.postinod.scim_jwks_refresh_seconds;
	d.jwks = jwks_new(&jo);

	if (catch_signals(&err) == -1)
		goto fail;

	memset(&so, 0, sizeof(so));
	so.listen = conf.postinod.listen;
	so.threads = (unsigned)conf.postinod.threads;
	so.tls_cert_file = conf.postinod.tls_cert;
	so.tls_key_file = conf.postinod.tls_key;
	so.handler = postinod_handle;
	so.refuse = postinod_refuse;
	so.arg = &d;
	if ((srv = http_server_new(&so, &err)) == NULL)
		goto fail;
	if (conf.postinod.metrics_listen[0] != '\0' &&
	    (mh = metrics_http_bind(conf.postinod.metrics_listen,
		 "postinod.metrics_listen", &err)) == NULL)
		goto fail;
	if (drop_privileges(conf.postinod.user, allow_root, &err) == -1 ||
	    http_server_start(srv, &err) == -1)
		goto fail;
	if (mh != NULL) {
		if (metrics_http_start(mh, pstats_render, &d, &err) == -1)
			goto fail;
		log_info(
		    "metrics on http://%s/metrics", metrics_http_where(mh));
	}
	if (conf.postinod.seccomp) {
		/* Last: bound, switched user, database module loaded. */
		if (harden_seccomp(HARDEN_POSTINOD, &err) == -1)
			goto fail;
		log_info("seccomp allow-list installed");
	}
	log_info(
	    "listening on %s%s (identity_backend=%s, %lld threads, keys from %s)",
	    http_server_where(srv),
	    conf.postinod.tls_cert[0] ? " with TLS" : "",
	    identity_backend_name(conf.identity_backend),
	    (long long)conf.postinod.threads,
	    conf.postinod.scim_jwks_file[0] ? conf.postinod.scim_jwks_file
					    : url);
	for (;;) {
		if ((sig = next_signal()) == SIGHUP) {
			log_info("SIGHUP: the signing keys will be reloaded");
			jwks_invalidate(d.jwks);
			continue;
		}
		if (sig == SIGUSR1) {
			pstats_log(&d);
			continue;
		}
		break;
	}
	log_info("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if ((c = http_server_drain(srv, DRAIN_MS)) > 0)
		log_warnx("stopping with %d request(s) unfinished", c);
	log_info("stopped");
	goto out;
fail:
	rc = die(&err);
out:
	metrics_http_free(&mh);
	http_server_free(&srv);
	jwks_free(&d.jwks);
	pool_free(&d.pool);
	webhook_keys_release(&d.hooks);
	if (have_params)
		db_params_release(&params);
	if (have_conf)
		conf_release(&conf);
	for (int i = 0; i < 2; i++)
		if (sig_pipe[i] != -1)
			close(sig_pipe[i]);
	free(url);
	curl_global_cleanup();
	return rc;
}
