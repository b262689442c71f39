/*
 * podop: Postfix socketmap and Dovecot dict server on podop's tables.
 *
 * The command line is Mailu Podop's (--socket, --mode, and repeated
 * --name/--type/--param), plus what a daemon needs (inet: listeners,
 * privilege drop, socket owner and mode, syslog, cache knobs), and the
 * settings can come from the [podop] table of postino.toml instead.
 * "podop query MAP KEY" prints what the server would answer, as
 * postmap -q does.  See podop(8).
 *
 * Every podop leaves no core file and cannot be traced (harden.h); with
 * --seccomp (or seccomp = true) the server confines itself to a seccomp
 * allow-list once it is serving.
 *
 * The main thread parses, opens the tables, binds, drops privileges,
 * starts the server, and then only waits for signals: SIGHUP reloads the
 * configuration and the tables, SIGTERM and SIGINT drain and exit, SIGUSR1
 * logs counters.  A second thread polls the databases' change serials
 * (dbpool.h) every 250 ms.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dbpool.h"
#include "err.h"
#include "harden.h"
#include "log.h"
#include "metrics_http.h"
#include "proto_dict.h"
#include "server.h"
#include "strutil.h"
#include "table.h"
#include "tableset.h"
#include "xalloc.h"
#include "banned.h"

#define EX_TEMPFAIL_CODE 75

/* Everything the command line may say; NULL/-1 = not said. */
struct opts {
	char *config;
	char *socket;
	char *mode;
	char *user;
	char *socket_owner;
	char *socket_mode;
	char *query_user;
	int verbosity;
	bool syslog;
	bool no_cache;
	bool seccomp;
	int64_t workers;
	int64_t threads;
	int64_t timeout_ms;
	int64_t cache_ttl;
	int64_t cache_negative_ttl;
	int64_t cache_stale_ttl;
	int64_t cache_size;
	/* --name/--type/--param, matched by order, and --table */
	char **names;
	size_t nnames;
	char **types;
	size_t ntypes;
	char **params;
	size_t nparams;
	char **tables; /* "name=type:param" */
	size_t ntables;
	char *dns_resolver;
	char *read_hosts;
	char **tcache; /* --table-cache "name=ttl[/neg[/stale]]" */
	size_t ntcache;
};

enum {
	OPT_SOCKET = 256,
	OPT_MODE,
	OPT_NAME,
	OPT_TYPE,
	OPT_PARAM,
	OPT_TABLE,
	OPT_USER,
	OPT_SOCKET_OWNER,
	OPT_SOCKET_MODE,
	OPT_SYSLOG,
	OPT_WORKERS,
	OPT_THREADS,
	OPT_TIMEOUT,
	OPT_CACHE_TTL,
	OPT_CACHE_NEG,
	OPT_CACHE_STALE,
	OPT_CACHE_SIZE,
	OPT_NO_CACHE,
	OPT_TABLE_CACHE,
	OPT_DNS_RESOLVER,
	OPT_READ_HOSTS,
	OPT_SECCOMP,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option longopts[] = { { "socket", required_argument, NULL,
					      OPT_SOCKET },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "socket-owner", required_argument, NULL, OPT_SOCKET_OWNER },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "cache-ttl", required_argument, NULL, OPT_CACHE_TTL },
	{ "cache-negative-ttl", required_argument, NULL, OPT_CACHE_NEG },
	{ "cache-stale-ttl", required_argument, NULL, OPT_CACHE_STALE },
	{ "cache-size", required_argument, NULL, OPT_CACHE_SIZE },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "table-cache", required_argument, NULL, OPT_TABLE_CACHE },
	{ "dns-resolver", required_argument, NULL, OPT_DNS_RESOLVER },
	{ "read-hosts", required_argument, NULL, OPT_READ_HOSTS },
	{ "seccomp", no_argument, NULL, OPT_SECCOMP },
	{ "config", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP }, { NULL, 0, NULL, 0 } };

static void
usage(FILE *fp)
{
	fputs(
	    "usage: podop [-v...] [-c config] [--socket unix:PATH|PATH|inet:HOST:PORT]\n"
	    "             [--mode postfix|dovecot] [--user USER]\n"
	    "             [--socket-owner USER[:GROUP]] [--socket-mode MODE] [--syslog]\n"
	    "             [--workers N] [--threads N] [--timeout MS]\n"
	    "             [--cache-ttl S] [--cache-negative-ttl S] [--cache-stale-ttl S]\n"
	    "             [--cache-size N] [--no-cache] [--seccomp]\n"
	    "             [--table-cache NAME=TTL[/NEGATIVE[/STALE]]]... [--dns-resolver HOST:PORT]\n"
	    "             [--read-hosts HOSTS]\n"
	    "             [--name NAME --type TYPE --param PARAM]... [--table NAME=TYPE:PARAM]...\n"
	    "       podop query [-c config] [--mode postfix|dovecot] [-u USER] [table options]\n"
	    "             MAP KEY\n",
	    fp);
}

static void
push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
opts_release(struct opts *o)
{
	free(o->config);
	free(o->socket);
	free(o->mode);
	free(o->user);
	free(o->socket_owner);
	free(o->socket_mode);
	free(o->query_user);
	strv_free(o->names, o->nnames);
	strv_free(o->types, o->ntypes);
	strv_free(o->params, o->nparams);
	strv_free(o->tables, o->ntables);
	strv_free(o->tcache, o->ntcache);
	free(o->dns_resolver);
	free(o->read_hosts);
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static int64_t
num_arg(const char *opt, const char *v, int64_t min, int64_t max)
{
	int64_t n;

	if (str_to_i64(v, &n) == -1 || n < min || n > max) {
		fprintf(stderr,
		    "podop: --%s: '%s' is not a number from %lld to %lld\n",
		    opt, v, (long long)min, (long long)max);
		exit(64);
	}
	return n;
}

static void
parse_opts(struct opts *o, int argc, char **argv, bool query)
{
	const char *shortopts = query ? "c:u:vh" : "c:vh";
	int ch;

	memset(o, 0, sizeof(*o));
	o->workers = o->threads = o->timeout_ms = -1;
	o->cache_ttl = o->cache_negative_ttl = o->cache_stale_ttl = -1;
	o->cache_size = -1;
	optind = 1;
	while (
	    (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			set_str(&o->config, optarg);
			break;
		case 'u':
			set_str(&o->query_user, optarg);
			break;
		case 'v':
			o->verbosity++;
			break;
		case OPT_SOCKET:
			set_str(&o->socket, optarg);
			break;
		case OPT_MODE:
			set_str(&o->mode, optarg);
			break;
		case OPT_NAME:
			push(&o->names, &o->nnames, optarg);
			break;
		case OPT_TYPE:
			push(&o->types, &o->ntypes, optarg);
			break;
		case OPT_PARAM:
			push(&o->params, &o->nparams, optarg);
			break;
		case OPT_TABLE:
			push(&o->tables, &o->ntables, optarg);
			break;
		case OPT_USER:
			set_str(&o->user, optarg);
			break;
		case OPT_SOCKET_OWNER:
			set_str(&o->socket_owner, optarg);
			break;
		case OPT_SOCKET_MODE:
			set_str(&o->socket_mode, optarg);
			break;
		case OPT_SYSLOG:
			o->syslog = true;
			break;
		case OPT_WORKERS:
			o->workers = num_arg("workers", optarg, 1, 256);
			break;
		case OPT_THREADS:
			o->threads = num_arg("threads", optarg, 1, 1024);
			break;
		case OPT_TIMEOUT:
			o->timeout_ms = num_arg("timeout", optarg, 1, 600000);
			break;
		case OPT_CACHE_TTL:
			o->cache_ttl = num_arg("cache-ttl", optarg, 0, 604800);
			break;
		case OPT_CACHE_NEG:
			o->cache_negative_ttl =
			    num_arg("cache-negative-ttl", optarg, 0, 604800);
			break;
		case OPT_CACHE_STALE:
			o->cache_stale_ttl =
			    num_arg("cache-stale-ttl", optarg, 0, 604800);
			break;
		case OPT_CACHE_SIZE:
			o->cache_size =
			    num_arg("cache-size", optarg, 1, 100000000);
			break;
		case OPT_NO_CACHE:
			o->no_cache = true;
			break;
		case OPT_TABLE_CACHE:
			push(&o->tcache, &o->ntcache, optarg);
			break;
		case OPT_DNS_RESOLVER:
			set_str(&o->dns_resolver, optarg);
			break;
		case OPT_READ_HOSTS:
			set_str(&o->read_hosts, optarg);
			break;
		case OPT_SECCOMP:
			o->seccomp = true;
			break;
		case OPT_VERSION:
			printf("podop %s\n", POSTINO_VERSION);
			exit(0);
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(64);
		}
	}
	if (o->nnames != o->ntypes || o->nnames != o->nparams) {
		fprintf(stderr,
		    "podop: every --name needs one --type and one --param (got %zu, %zu, %zu)\n",
		    o->nnames, o->ntypes, o->nparams);
		exit(64);
	}
}

/*
 * The effective settings: the configuration, overridden by the command
 * line.  Returns 0 or -1 with err.
 */
struct setup {
	struct postino_conf conf;
	struct server_conf sc;
	struct table_env env;
	struct tspec *specs;
	size_t nspecs;
	char *user;
	bool seccomp;
	char *metrics_listen; /* "" = none */
};

static void
setup_release(struct setup *s)
{
	conf_release(&s->conf);
	free(s->sc.listen);
	free(s->sc.socket_owner);
	table_env_release(&s->env);
	tspec_free(s->specs, s->nspecs);
	free(s->user);
	free(s->metrics_listen);
	memset(s, 0, sizeof(*s));
}

static int
add_spec(struct setup *s, const char *name, const char *type, const char *param)
{
	s->specs = xreallocarray(s->specs, s->nspecs + 1, sizeof(*s->specs));
	memset(&s->specs[s->nspecs], 0, sizeof(s->specs[0]));
	s->specs[s->nspecs].name = xstrdup(name);
	s->specs[s->nspecs].type = xstrdup(type);
	s->specs[s->nspecs].param = xstrdup(param);
	s->nspecs++;
	return 0;
}

/* One "NAME=TTL[/NEGATIVE[/STALE]]" (seconds; "off" = 0/0/0). */
static int
table_cache_one(
    struct setup *s, const char *item, const char *what, struct err *err)
{
	const char *eq = strchr(item, '=');
	int64_t v[3] = { 0, -1, 0 };
	struct tspec *t = NULL;
	char *rest, *p, *tok, *save = NULL;
	int n = 0;

	if (eq == NULL || eq == item)
		return err_set(err, ERR_USAGE,
		    "%s '%s' is not NAME=TTL[/NEGATIVE[/STALE]]", what, item);
	for (size_t i = 0; i < s->nspecs; i++)
		if (strlen(s->specs[i].name) == (size_t)(eq - item) &&
		    strncmp(s->specs[i].name, item, (size_t)(eq - item)) == 0)
			t = &s->specs[i];
	if (t == NULL)
		return err_set(err, ERR_USAGE, "%s '%s': no table '%.*s'", what,
		    item, (int)(eq - item), item);
	rest = xstrdup(eq + 1);
	if (strcmp(rest, "off") != 0)
		for (p = rest; (tok = strtok_r(p, "/", &save)) != NULL;
		     p = NULL) {
			if (n == 3 || str_to_i64(tok, &v[n]) == -1 ||
			    v[n] < 0 || v[n] > 604800) {
				free(rest);
				return err_set(err, ERR_USAGE,
				    "%s '%s': TTL[/NEGATIVE[/STALE]] are seconds from 0 to 604800",
				    what, item);
			}
			n++;
		}
	free(rest);
	t->cache.set = true;
	t->cache.ttl_ms = v[0] * 1000;
	t->cache.negative_ttl_ms = (v[1] >= 0 ? v[1] : v[0]) * 1000;
	t->cache.stale_ms = v[2] * 1000;
	return 0;
}

/* A space- or comma-separated list of them. */
static int
table_cache_list(
    struct setup *s, const char *list, const char *what, struct err *err)
{
	char *copy = xstrdup(list != NULL ? list : ""), *p, *tok;
	char *save = NULL;
	int r = 0;

	for (p = copy; r == 0 && (tok = strtok_r(p, " \t,", &save)) != NULL;
	     p = NULL)
		r = table_cache_one(s, tok, what, err);
	free(copy);
	return r;
}

/* -v shows debug lines, -vv trace lines too. */
static enum log_level
verbosity_level(int v)
{
	return v >= 2 ? LOG_LVL_TRACE : v == 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO;
}

static int
build_setup(struct setup *s, const struct opts *o, struct err *err)
{
	const struct postino_conf *c;
	const char *v;
	int64_t mode;

	memset(s, 0, sizeof(*s));
	if (conf_load(&s->conf, o->config, err) == -1)
		return -1;
	c = &s->conf;
	log_set_format((enum log_format)log_format_parse(c->log_format));
	s->sc.listen = xstrdup(o->socket != NULL ? o->socket : c->podop.socket);
	v = o->mode != NULL ? o->mode : c->podop.mode;
	if (strcmp(v, "postfix") == 0 || strcmp(v, "socketmap") == 0)
		s->sc.mode = MODE_POSTFIX;
	else if (strcmp(v, "dovecot") == 0 || strcmp(v, "dict") == 0)
		s->sc.mode = MODE_DOVECOT;
	else
		return err_set(err, ERR_USAGE,
		    "unknown mode '%s' (postfix or dovecot)", v);
	s->sc.socket_owner = xstrdup(
	    o->socket_owner != NULL ? o->socket_owner : c->podop.socket_owner);
	v = o->socket_mode != NULL ? o->socket_mode : c->podop.socket_mode;
	{
		char *end;

		errno = 0;
		mode = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || mode < 0 ||
		    mode > 07777)
			return err_set(err, ERR_USAGE,
			    "socket mode '%s' is not an octal mode", v);
	}
	s->sc.socket_mode = (mode_t)mode;
	s->user = xstrdup(o->user != NULL ? o->user : c->podop.user);
	s->seccomp = o->seccomp || c->podop.seccomp;
	s->metrics_listen = xstrdup(c->podop.metrics_listen);
	s->sc.loops = (int)(o->workers > 0 ? o->workers : c->podop.workers);
	s->sc.threads = (int)(o->threads > 0 ? o->threads : 64);
	s->sc.timeout_ms =
	    o->timeout_ms > 0 ? o->timeout_ms : c->podop.timeout_ms;
	s->sc.cache.ttl_ms =
	    1000 * (o->cache_ttl >= 0 ? o->cache_ttl : c->podop.cache_ttl);
	s->sc.cache.negative_ttl_ms = 1000 *
	    (o->cache_negative_ttl >= 0 ? o->cache_negative_ttl
					: c->podop.cache_negative_ttl);
	s->sc.cache.stale_ms = 1000 *
	    (o->cache_stale_ttl >= 0 ? o->cache_stale_ttl
				     : c->podop.cache_stale_ttl);
	s->sc.cache.max_entries =
	    (size_t)(o->cache_size > 0 ? o->cache_size : c->podop.cache_size);
	/* Which tables cache is decided per table (tableset.h). */
	s->sc.cache_on = !o->no_cache && s->sc.cache.max_entries > 0;

	table_env_init(&s->env);
	s->env.timeout_ms = s->sc.timeout_ms;
	free(s->env.recipient_delimiter);
	s->env.recipient_delimiter = xstrdup(c->recipient_delimiter);
	free(s->env.mailbox_base);
	s->env.mailbox_base = xstrdup(c->virtual_mailbox_base);
	s->env.vmail_uid = c->vmail_uid;
	s->env.vmail_gid = c->vmail_gid;
	free(s->env.sql_dir);
	s->env.sql_dir = xstrdup(c->postfix_sql_dir);
	free(s->env.sql_engine);
	s->env.sql_engine = xstrdup(c->postfix_sql_engine);
	free(s->env.dns_resolver);
	s->env.dns_resolver = xstrdup(
	    o->dns_resolver != NULL ? o->dns_resolver : c->podop.dns_resolver);
	free(s->env.read_hosts);
	s->env.read_hosts = xstrdup(
	    o->read_hosts != NULL ? o->read_hosts : c->podop.read_hosts);

	/* Tables named on the command line replace those of the file. */
	for (size_t i = 0; i < o->nnames; i++)
		add_spec(s, o->names[i], o->types[i], o->params[i]);
	for (size_t i = 0; i < o->ntables; i++) {
		const char *eq = strchr(o->tables[i], '=');
		const char *colon = eq != NULL ? strchr(eq, ':') : NULL;
		char *name, *type;

		if (eq == NULL || colon == NULL || eq == o->tables[i])
			return err_set(err, ERR_USAGE,
			    "--table '%s' is not NAME=TYPE:PARAM",
			    o->tables[i]);
		name = xstrndup(o->tables[i], (size_t)(eq - o->tables[i]));
		type = xstrndup(eq + 1, (size_t)(colon - eq - 1));
		add_spec(s, name, type, colon + 1);
		free(name);
		free(type);
	}
	if (s->nspecs == 0)
		for (size_t i = 0; i < c->podop.ntables; i++)
			add_spec(s, c->podop.tables[i].name,
			    c->podop.tables[i].type, c->podop.tables[i].param);
	if (s->nspecs == 0)
		return err_set(err, ERR_USAGE,
		    "no tables: give --name, --type and --param, or [podop.tables] in postino.toml");
	/* Per-table cache settings: the file's, then the command line's. */
	if (table_cache_list(s, c->podop.table_cache, "table_cache", err) == -1)
		return -1;
	for (size_t i = 0; i < o->ntcache; i++)
		if (table_cache_one(s, o->tcache[i], "--table-cache", err) ==
		    -1)
			return -1;
	return 0;
}

static void
die_err(const struct err *e)
{
	if (e->hint[0] != '\0')
		fatalx("%s (%s)", e->msg, e->hint);
	fatalx("%s", e->msg);
}

/*
 * podop query.
 */
static int
cmd_query(int argc, char **argv)
{
	struct opts o;
	struct setup s;
	struct tableset *ts;
	struct table *t;
	struct err e = ERR_INIT;
	const char *map, *key, *user = NULL;
	struct buf v;
	int r;

	parse_opts(&o, argc, argv, true);
	log_init("podop", false, verbosity_level(o.verbosity));
	if (argc - optind != 2) {
		usage(stderr);
		opts_release(&o);
		return 64;
	}
	map = argv[optind];
	key = argv[optind + 1];
	if (build_setup(&s, &o, &e) == -1 ||
	    tableset_open(&ts, s.specs, s.nspecs, &s.env, &e) == -1) {
		fprintf(stderr, "podop: %s%s%s%s\n", e.msg,
		    e.hint[0] ? " (" : "", e.hint, e.hint[0] ? ")" : "");
		setup_release(&s);
		opts_release(&o);
		return e.kind == ERR_USAGE ? 64 : err_exit_code(e.kind);
	}
	if ((t = tableset_find(ts, map, NULL)) == NULL) {
		fprintf(stderr, "podop: unknown map '%s'\n", map);
		tableset_unref(ts);
		setup_release(&s);
		opts_release(&o);
		return 78;
	}
	if (s.sc.mode == MODE_DOVECOT) {
		if (dictproto_key_split(key, o.query_user, &key, &user, &e) ==
		    -1) {
			fprintf(stderr, "podop: %s\n", e.msg);
			return 64;
		}
	}
	buf_init(&v, 64 * 1024 * 1024);
	r = table_lookup(t, key, user, &v, NULL, &e);
	if (r == 1)
		printf("%s\n", buf_cstr(&v));
	else if (r == -1)
		fprintf(stderr, "podop: lookup map=%s key=%s: %s\n", map, key,
		    e.msg);
	buf_release(&v);
	tableset_unref(ts);
	setup_release(&s);
	opts_release(&o);
	if (r == 1)
		return 0;
	if (r == 0)
		return 1;
	/* What the server would answer decides: TEMP is "try again". */
	if (strcmp(err_info(e.kind)->socketmap, "TEMP") == 0)
		return EX_TEMPFAIL_CODE;
	return err_exit_code(e.kind);
}

/*
 * The daemon.
 */

static _Atomic bool poll_stop;

static void *
poller(void *arg)
{
	struct timespec ts = { 0, DBPOOL_POLL_MS * 1000000L };

	(void)arg;
	while (!atomic_load(&poll_stop)) {
		if (dbpool_poll_all() > 0)
			log_debug(
			    "a database changed: cached answers invalidated");
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user '%s'", user);
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot become user '%s'", user);
	if (setuid(0) == 0)
		fatalx("could still become root after dropping privileges");
	log_info("running as user %s", user);
}

static struct tableset *
reload(const struct opts *o, struct server *srv)
{
	struct setup s;
	struct tableset *ts = NULL;
	struct err e = ERR_INIT;

	if (build_setup(&s, o, &e) == -1 ||
	    tableset_open(&ts, s.specs, s.nspecs, &s.env, &e) == -1) {
		log_warnx("reload failed, keeping the current tables: %s%s%s",
		    e.msg, e.hint[0] ? "; " : "", e.hint);
		setup_release(&s);
		return NULL;
	}
	server_reload(srv, ts);
	log_info("reloaded: %zu tables", s.nspecs);
	setup_release(&s);
	return ts;
}

static int
cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct setup s;
	struct tableset *ts;
	struct server *srv;
	struct metrics_http *mh = NULL;
	struct err e = ERR_INIT;
	pthread_t pth;
	sigset_t set;
	int sig;

	parse_opts(&o, argc, argv, false);
	log_init("podop", o.syslog, verbosity_level(o.verbosity));
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	if (build_setup(&s, &o, &e) == -1) {
		if (e.kind == ERR_USAGE) {
			fprintf(stderr, "podop: %s\n", e.msg);
			setup_release(&s);
			opts_release(&o);
			return 64;
		}
		die_err(&e);
	}
	if (s.seccomp && !harden_seccomp_available()) {
		(void)harden_seccomp(HARDEN_PODOP, &e);
		die_err(&e);
	}
	if (tableset_open(&ts, s.specs, s.nspecs, &s.env, &e) == -1)
		die_err(&e);
	/* Signals are taken by this thread alone, with sigwait(). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (server_listen(&srv, &s.sc, &e) == -1)
		die_err(&e);
	if (*s.metrics_listen != '\0' &&
	    (mh = metrics_http_bind(
		 s.metrics_listen, "podop.metrics_listen", &e)) == NULL)
		die_err(&e);
	drop_privileges(s.user);
	/* Know which databases have the change serial before serving. */
	(void)dbpool_poll_all();
	server_start(srv, ts);
	if (mh != NULL) {
		if (metrics_http_start(mh, server_metrics, srv, &e) == -1)
			die_err(&e);
		log_info(
		    "metrics on http://%s/metrics", metrics_http_where(mh));
	}
	if (pthread_create(&pth, NULL, poller, NULL) != 0)
		fatalx("cannot start the change poller");
	if (s.seccomp) {
		/* Last: tables open, socket bound, privileges dropped. */
		if (harden_seccomp(HARDEN_PODOP, &e) == -1)
			die_err(&e);
		log_info("seccomp allow-list installed");
	}
	log_info(
	    "listening on %s (%s), %zu tables, %d loops, cache %s, timeout %lld ms",
	    s.sc.listen, s.sc.mode == MODE_POSTFIX ? "socketmap" : "dict",
	    s.nspecs, s.sc.loops, s.sc.cache_on ? "on" : "off",
	    (long long)s.sc.timeout_ms);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			(void)reload(&o, srv);
		else if (sig == SIGUSR1)
			server_log_stats(srv);
		else
			break;
	}
	log_info("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	metrics_http_free(&mh);
	server_drain(srv, s.sc.timeout_ms + 1000);
	if (!server_finish(&srv)) {
		log_info("stopped");
		_exit(0);
	}
	atomic_store(&poll_stop, true);
	pthread_join(pth, NULL);
	log_info("stopped");
	setup_release(&s);
	opts_release(&o);
	return 0;
}

int
main(int argc, char **argv)
{
	struct err e = ERR_INIT;

	if (harden_process(&e) == -1) {
		fprintf(stderr, "podop: %s\n", e.msg);
		return 99;
	}
	if (argc > 1 && strcmp(argv[1], "query") == 0)
		return cmd_query(argc - 1, argv + 1);
	return cmd_serve(argc, argv);
}
