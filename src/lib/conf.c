#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "pwpolicy.h"
#include "strutil.h"
#include "toml.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Every setting is one row of keys[]: its name, type, default, limits,
 * environment variable, description and place in struct postino_conf.
 * Loading, validation, the environment and conf_describe() all walk this
 * one table, so a setting cannot be documented without being checked or
 * the other way round.  Defaults are written once: the macros below keep
 * the C value and its TOML spelling (by stringizing) side by side.
 */

enum conf_type {
	CONF_STRING,
	CONF_INTEGER,
	CONF_CHOICE,   /* a string from choices[] (any case) */
	CONF_IDENTITY, /* enum identity_backend, named by choices[] */
	CONF_BOOLEAN,  /* bool: true or false */
};

enum conf_flags {
	CONF_NONEMPTY = 1 << 0, /* "" is not a valid value */
	CONF_OCTAL = 1 << 1,	/* a file mode such as "0660" */
	CONF_SECONDS = 1 << 2,	/* seconds: a float is taken, rounded up */
};

struct conf_key {
	const char *name;    /* "postinod.listen" */
	const char *section; /* "postinod"; "" = top level */
	enum conf_type type;
	const char *def_s;
	int64_t def_i;
	const char *def_toml; /* the default, as TOML */
	int64_t min;
	int64_t max;
	const char *const *choices; /* NULL-terminated */
	const char *const *aliases; /* pairs: other name, its choice; NULL */
	unsigned flags;
	const char *env;
	size_t off;
	const char *desc;
};

#define UID_MAX_ 4294967294LL /* (uid_t)-1 means "no change" */
#define WEEK 604800

#define TOP(k)                                                                 \
	.name = #k, .section = "", .off = offsetof(struct postino_conf, k)
#define SUB(s, k)                                                              \
	.name = #s "." #k, .section = #s,                                      \
	.off = offsetof(struct postino_conf, s.k)
#define STR(d) .type = CONF_STRING, .def_s = d, .def_toml = #d
#define INT(d, lo, hi)                                                         \
	.type = CONF_INTEGER, .def_i = d, .def_toml = #d, .min = lo, .max = hi
#define CHOICE(d, l)                                                           \
	.type = CONF_CHOICE, .def_s = d, .def_toml = #d, .choices = l
#define BOOL(d) .type = CONF_BOOLEAN, .def_i = d, .def_toml = #d

static const char *const identity_names[] = { "local", "noauth", "hybrid",
	NULL };
static const char *const engine_names[] = { "", "sqlite", "mysql", "pgsql",
	NULL };
static const char *const scheme_names[] = { "BLF-CRYPT", "SHA512-CRYPT",
	"ARGON2I", "ARGON2ID", "MD5-CRYPT", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error",
	NULL };
/* Python's logging names, as Python postinod's log_level took them. */
static const char *const log_level_aliases[] = { "warning", "warn", "critical",
	"error", "fatal", "error", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const podop_modes[] = { "postfix", "dovecot", NULL };

static const struct conf_key keys[] = {
	{ TOP(identity_backend), .type = CONF_IDENTITY, .def_s = "local",
	    .def_toml = "\"local\"", .choices = identity_names,
	    .env = "POSTINO_IDENTITY_BACKEND",
	    .desc = "who owns passwords: local, noauth or hybrid" },
	{ TOP(postfix_sql_dir), STR("/etc/postfix"), .flags = CONF_NONEMPTY,
	    .env = "POSTINO_POSTFIX_SQL_DIR",
	    .desc =
		"directory of the Postfix sql-*.cf map files (database credentials)" },
	{ TOP(postfix_sql_engine), CHOICE("", engine_names),
	    .env = "POSTINO_POSTFIX_SQL_ENGINE",
	    .desc =
		"SQL engine of the map files: sqlite, mysql or pgsql; empty = from the files" },
	{ TOP(virtual_mailbox_base), STR("/var/vmail"), .flags = CONF_NONEMPTY,
	    .env = "POSTINO_VIRTUAL_MAILBOX_BASE",
	    .desc = "root directory of the maildirs" },
	{ TOP(postcreation_hook), STR(""), .env = "POSTINO_POSTCREATION_HOOK",
	    .desc = "program run after a mailbox is created; empty = none" },
	{ TOP(postcreation_hook_timeout), INT(30, 1, 3600),
	    .flags = CONF_SECONDS, .env = "POSTINO_POSTCREATION_HOOK_TIMEOUT",
	    .desc = "seconds the post-creation hook may run" },
	{ TOP(vmail_uid), INT(-1, -1, UID_MAX_), .env = "POSTINO_VMAIL_UID",
	    .desc = "owner of new maildirs; -1 = do not chown" },
	{ TOP(vmail_gid), INT(-1, -1, UID_MAX_), .env = "POSTINO_VMAIL_GID",
	    .desc = "group of new maildirs; -1 = do not chown" },
	{ TOP(default_password_scheme), CHOICE("BLF-CRYPT", scheme_names),
	    .env = "POSTINO_DEFAULT_PASSWORD_SCHEME",
	    .desc = "Dovecot scheme for new password hashes" },
	{ TOP(bcrypt_cost), INT(12, 4, 31), .env = "POSTINO_BCRYPT_COST",
	    .desc = "cost (log2 rounds) of new BLF-CRYPT hashes" },
	{ TOP(default_quota_bytes), INT(0, 0, INT64_MAX),
	    .env = "POSTINO_DEFAULT_QUOTA_BYTES",
	    .desc =
		"quota of mailboxes postinod creates; 0 = the domain's default" },
	{ TOP(lmtp_destination), STR("unix:private/dovecot-lmtp"),
	    .flags = CONF_NONEMPTY, .env = "POSTINO_LMTP_DESTINATION",
	    .desc = "where transport lmtp delivers (as lmtp:DESTINATION)" },
	{ TOP(recipient_delimiter), STR("+"),
	    .env = "POSTINO_RECIPIENT_DELIMITER",
	    .desc = "Postfix recipient_delimiter; empty = none" },
	{ TOP(vacation_domain), STR("autoreply.change-this-to-your.domain.tld"),
	    .flags = CONF_NONEMPTY, .env = "POSTINO_VACATION_DOMAIN",
	    .desc = "domain of the vacation autoreply transport" },
	{ TOP(dovecot_conf_dir), STR("/etc/dovecot"), .flags = CONF_NONEMPTY,
	    .env = "POSTINO_DOVECOT_CONF_DIR",
	    .desc = "directory of the Dovecot configuration" },
	{ TOP(mlmmj_spool_dir), STR(""), .env = "POSTINO_MLMMJ_SPOOL_DIR",
	    .desc = "mlmmj spool directory; empty = mailing lists disabled" },
	{ TOP(mlmmj_uid), INT(-1, -1, UID_MAX_), .env = "POSTINO_MLMMJ_UID",
	    .desc = "owner of list directories; -1 = do not chown" },
	{ TOP(mlmmj_gid), INT(-1, -1, UID_MAX_), .env = "POSTINO_MLMMJ_GID",
	    .desc = "group of list directories; -1 = do not chown" },
	{ TOP(log_format), CHOICE("text", log_formats),
	    .env = "POSTINO_LOG_FORMAT",
	    .desc =
		"podop's and postinod's log lines: text or json (one object a line)" },

	{ SUB(postinod, listen), STR("127.0.0.1:8443"), .flags = CONF_NONEMPTY,
	    .env = "POSTINOD_LISTEN",
	    .desc = "HTTP listen address, host:port" },
	{ SUB(postinod, log_level), CHOICE("info", log_levels),
	    .aliases = log_level_aliases, .env = "POSTINOD_LOG_LEVEL",
	    .desc =
		"least severe level logged: debug, info, warn or error (Python's warning, critical and fatal are taken)" },
	{ SUB(postinod, zitadel_issuer), STR(""),
	    .env = "POSTINOD_ZITADEL_ISSUER",
	    .desc = "Zitadel instance URL, for the Actions webhook" },
	{ SUB(postinod, scim_issuer), STR(""), .env = "POSTINOD_SCIM_ISSUER",
	    .desc = "expected JWT issuer (iss) of SCIM bearer tokens" },
	{ SUB(postinod, scim_audience), STR(""),
	    .env = "POSTINOD_SCIM_AUDIENCE",
	    .desc = "expected JWT audience (aud) of SCIM bearer tokens" },
	{ SUB(postinod, scim_jwks_url), STR(""),
	    .env = "POSTINOD_SCIM_JWKS_URL",
	    .desc = "JWKS URL; empty = ISSUER/.well-known/jwks.json" },
	{ SUB(postinod, scim_jwks_file), STR(""),
	    .env = "POSTINOD_SCIM_JWKS_FILE",
	    .desc = "read the JWKS from this file instead of a URL" },
	{ SUB(postinod, scim_jwks_refresh_seconds), INT(3600, 1, WEEK),
	    .flags = CONF_SECONDS, .env = "POSTINOD_SCIM_JWKS_REFRESH_SECONDS",
	    .desc = "seconds between JWKS refreshes" },
	{ SUB(postinod, scim_max_token_age_seconds), INT(3600, 1, 86400),
	    .flags = CONF_SECONDS, .env = "POSTINOD_SCIM_MAX_TOKEN_AGE_SECONDS",
	    .desc = "oldest bearer token (by iat) accepted, in seconds" },
	{ SUB(postinod, tls_cert), STR(""), .env = "POSTINOD_TLS_CERT",
	    .desc = "TLS certificate file; empty = plain HTTP" },
	{ SUB(postinod, tls_key), STR(""), .env = "POSTINOD_TLS_KEY",
	    .desc = "TLS private key file" },
	{ SUB(postinod, user), STR(""), .env = "POSTINOD_USER",
	    .desc =
		"user to run as after binding; empty = postinod as root (refused if there is no such user)" },
	{ SUB(postinod, threads), INT(4, 1, 256), .env = "POSTINOD_THREADS",
	    .desc = "HTTP worker threads" },
	{ SUB(postinod, seccomp), BOOL(false), .env = "POSTINOD_SECCOMP",
	    .desc =
		"run under a seccomp allow-list once started (libseccomp)" },
	{ SUB(postinod, public_url), STR(""), .env = "POSTINOD_PUBLIC_URL",
	    .desc =
		"public base URL of SCIM locations; empty = from the request's Host" },
	{ SUB(postinod, metrics_listen), STR(""),
	    .env = "POSTINOD_METRICS_LISTEN",
	    .desc =
		"host:port serving Prometheus metrics at /metrics; empty = none" },

	{ SUB(password, min_length), INT(8, 1, 1024),
	    .env = "POSTINO_PASSWORD_MIN_LENGTH",
	    .desc = "fewest characters in a new password" },
	{ SUB(password, min_letters), INT(0, 0, 1024),
	    .env = "POSTINO_PASSWORD_MIN_LETTERS",
	    .desc = "fewest letters (a-z, A-Z) in a new password" },
	{ SUB(password, min_digits), INT(0, 0, 1024),
	    .env = "POSTINO_PASSWORD_MIN_DIGITS",
	    .desc = "fewest digits (0-9) in a new password" },

	{ SUB(postfixadmin, encrypt), STR(""),
	    .env = "POSTINO_POSTFIXADMIN_ENCRYPT",
	    .desc =
		"PostfixAdmin's $CONF['encrypt'], to store passwords it verifies; empty = {SCHEME}-prefixed hashes" },

	{ SUB(zitadel, url), STR(""), .env = "POSTINO_ZITADEL_URL",
	    .desc = "Zitadel base URL for postino reconcile --source zitadel" },
	{ SUB(zitadel, organization_id), STR(""),
	    .env = "POSTINO_ZITADEL_ORGANIZATION_ID",
	    .desc =
		"only the users of this organization; empty = every user the token may read" },
	{ SUB(zitadel, instance_id), STR(""),
	    .env = "POSTINO_ZITADEL_INSTANCE_ID",
	    .desc =
		"instance id of the identity rows (issuer zitadel:ID); empty = the one already stored" },
	{ SUB(zitadel, token_file), STR(""),
	    .env = "POSTINO_ZITADEL_TOKEN_FILE",
	    .desc =
		"file holding the service user's access token; empty = $POSTINO_ZITADEL_TOKEN" },
	{ SUB(zitadel, ca_file), STR(""), .env = "POSTINO_ZITADEL_CA_FILE",
	    .desc =
		"CA certificates (PEM) that verify the Zitadel server; empty = the system's" },
	{ SUB(zitadel, ca_path), STR(""), .env = "POSTINO_ZITADEL_CA_PATH",
	    .desc = "directory of hashed CA certificates" },
	{ SUB(zitadel, timeout_seconds), INT(30, 1, 3600),
	    .flags = CONF_SECONDS, .env = "POSTINO_ZITADEL_TIMEOUT_SECONDS",
	    .desc = "seconds one API request may take" },
	{ SUB(zitadel, page_size), INT(100, 1, 1000),
	    .env = "POSTINO_ZITADEL_PAGE_SIZE",
	    .desc = "users asked for per request" },

	{ SUB(podop, socket), STR("unix:/run/podop/podop.sock"),
	    .flags = CONF_NONEMPTY, .env = "PODOP_SOCKET",
	    .desc = "where to listen: unix:PATH or inet:HOST:PORT" },
	{ SUB(podop, mode), CHOICE("postfix", podop_modes), .env = "PODOP_MODE",
	    .desc = "protocol spoken: postfix (socketmap) or dovecot (dict)" },
	{ SUB(podop, user), STR(""), .env = "PODOP_USER",
	    .desc = "user to run as after binding; empty = do not switch" },
	{ SUB(podop, socket_owner), STR(""), .env = "PODOP_SOCKET_OWNER",
	    .desc = "owner of the UNIX socket, user[:group]; empty = as is" },
	{ SUB(podop, socket_mode), STR("0660"),
	    .flags = CONF_NONEMPTY | CONF_OCTAL, .env = "PODOP_SOCKET_MODE",
	    .desc = "permissions of the UNIX socket, octal" },
	{ SUB(podop, workers), INT(2, 1, 256), .env = "PODOP_WORKERS",
	    .desc = "event-loop threads" },
	{ SUB(podop, timeout_ms), INT(5000, 1, 600000),
	    .env = "PODOP_TIMEOUT_MS",
	    .desc = "milliseconds allowed for one backend call" },
	{ SUB(podop, cache_ttl), INT(60, 0, WEEK), .env = "PODOP_CACHE_TTL",
	    .desc = "seconds a found answer is cached; 0 = no cache" },
	{ SUB(podop, cache_negative_ttl), INT(10, 0, WEEK),
	    .env = "PODOP_CACHE_NEGATIVE_TTL",
	    .desc = "seconds a not-found answer is cached" },
	{ SUB(podop, cache_stale_ttl), INT(300, 0, WEEK),
	    .env = "PODOP_CACHE_STALE_TTL",
	    .desc =
		"seconds an expired answer may serve while a backend is down" },
	{ SUB(podop, cache_size), INT(1000000, 0, 100000000),
	    .env = "PODOP_CACHE_SIZE",
	    .desc = "most answers kept in the cache" },
	{ SUB(podop, table_cache), STR(""), .env = "PODOP_TABLE_CACHE",
	    .desc =
		"per-table cache: \"NAME=TTL[/NEGATIVE[/STALE]] ...\"; only tables with postino's change serial cache by default" },
	{ SUB(podop, dns_resolver), STR(""), .env = "PODOP_DNS_RESOLVER",
	    .desc =
		"resolver of dns tables, \"host:port[,...]\"; empty = the system's" },
	{ SUB(podop, seccomp), BOOL(false), .env = "PODOP_SECCOMP",
	    .desc =
		"run under a seccomp allow-list once started (libseccomp)" },
	{ SUB(podop, metrics_listen), STR(""), .env = "PODOP_METRICS_LISTEN",
	    .desc =
		"host:port serving Prometheus metrics at /metrics; empty = none" },
	{ SUB(podop, read_hosts), STR(""), .env = "PODOP_READ_HOSTS",
	    .desc =
		"database hosts podop reads from, as a map file's 'hosts' (nearest replica first); empty = the map files' own" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = { "", "postinod", "zitadel", "podop",
	"password", "postfixadmin", NULL };
static const char *const table_names[] = { "postinod", "zitadel", "podop",
	"podop.tables", "password", "postfixadmin", NULL };

/* Behind postino_conf.origins.  NULL means "default". */
struct conf_origins {
	char *key[NKEYS];
	char **table;	   /* parallel to podop.tables */
	char **table_item; /* "podop.tables.NAME", for conf_describe */
};

static struct conf_origins *origins(const struct postino_conf *);
static char **str_at(struct postino_conf *, const struct conf_key *);
static char *const *cstr_at(
    const struct postino_conf *, const struct conf_key *);
static int64_t *int_at(struct postino_conf *, const struct conf_key *);
static bool *bool_at(struct postino_conf *, const struct conf_key *);
static bool cbool_at(const struct postino_conf *, const struct conf_key *);
static int64_t cint_at(const struct postino_conf *, const struct conf_key *);
static enum identity_backend *ident_at(
    struct postino_conf *, const struct conf_key *);
static const char *leaf(const struct conf_key *);
static const struct conf_key *key_find(const char *, const char *);
static void choices_text(const struct conf_key *, char *, size_t);
static bool is_octal_mode(const char *);
static int set_value(struct postino_conf *, const struct conf_key *,
    const char *, int64_t, const char *, struct err *);
static const char *a_type(enum toml_type);
static int set_from_toml(struct postino_conf *, const struct conf_key *,
    const struct toml_value *, const char *, struct err *);
static int set_from_env(
    struct postino_conf *, const struct conf_key *, const char *, struct err *);
static int table_put(struct postino_conf *, const struct toml_entry *,
    const char *, struct err *);
static int unknown_key(
    const char *, const struct toml_entry *, const char *, struct err *);
static char *render_toml(const struct toml_value *);
static int core_table(
    const struct toml_doc *, const struct toml_table *, struct err *);
static int apply_doc(
    struct postino_conf *, const struct toml_doc *, struct err *);
static int apply_env(struct postino_conf *, struct err *);
static const char *origin_of(const struct postino_conf *, const char *);
static int check_all(struct postino_conf *, struct err *);
static int load_file(
    struct postino_conf *, const char *, bool, const char *, struct err *);
static char *render_string(const char *);
static char *render_value(const struct postino_conf *, const struct conf_key *);

static struct conf_origins *
origins(const struct postino_conf *c)
{
	return c->origins;
}

static char **
str_at(struct postino_conf *c, const struct conf_key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static char *const *
cstr_at(const struct postino_conf *c, const struct conf_key *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

static int64_t *
int_at(struct postino_conf *c, const struct conf_key *k)
{
	return (int64_t *)(void *)((char *)c + k->off);
}

static int64_t
cint_at(const struct postino_conf *c, const struct conf_key *k)
{
	return *(const int64_t *)(const void *)((const char *)c + k->off);
}

static bool *
bool_at(struct postino_conf *c, const struct conf_key *k)
{
	return (bool *)(void *)((char *)c + k->off);
}

static bool
cbool_at(const struct postino_conf *c, const struct conf_key *k)
{
	return *(const bool *)(const void *)((const char *)c + k->off);
}

static enum identity_backend *
ident_at(struct postino_conf *c, const struct conf_key *k)
{
	return (enum identity_backend *)(void *)((char *)c + k->off);
}

/* The key's name within its table: "listen" for "postinod.listen". */
static const char *
leaf(const struct conf_key *k)
{
	return k->section[0] == '\0' ? k->name
				     : k->name + strlen(k->section) + 1;
}

static const struct conf_key *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(leaf(&keys[i]), name) == 0)
			return &keys[i];
	return NULL;
}

const char *
identity_backend_name(enum identity_backend b)
{
	if ((int)b < 0 ||
	    (size_t)b >= sizeof(identity_names) / sizeof(identity_names[0]) - 1)
		return "unknown";
	return identity_names[b];
}

void
conf_defaults(struct postino_conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];

		switch (k->type) {
		case CONF_STRING:
		case CONF_CHOICE:
			*str_at(c, k) = xstrdup(k->def_s);
			break;
		case CONF_INTEGER:
			*int_at(c, k) = k->def_i;
			break;
		case CONF_BOOLEAN:
			*bool_at(c, k) = k->def_i != 0;
			break;
		case CONF_IDENTITY:
			for (size_t j = 0; k->choices[j] != NULL; j++)
				if (strcmp(k->choices[j], k->def_s) == 0)
					*ident_at(c, k) =
					    (enum identity_backend)j;
			break;
		}
	}
	c->origins = xcalloc(1, sizeof(struct conf_origins));
}

void
conf_release(struct postino_conf *c)
{
	struct conf_origins *o = origins(c);

	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == CONF_STRING || keys[i].type == CONF_CHOICE)
			free(*str_at(c, &keys[i]));
	for (size_t i = 0; i < c->podop.ntables; i++) {
		free(c->podop.tables[i].name);
		free(c->podop.tables[i].type);
		free(c->podop.tables[i].param);
		if (o != NULL) {
			free(o->table[i]);
			free(o->table_item[i]);
		}
	}
	free(c->podop.tables);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	if (o != NULL) {
		for (size_t i = 0; i < NKEYS; i++)
			free(o->key[i]);
		free(o->table);
		free(o->table_item);
		free(o);
	}
	memset(c, 0, sizeof(*c));
}

/* "must be one of a, b, c" / "must be empty or one of b, c". */
static void
choices_text(const struct conf_key *k, char *out, size_t size)
{
	struct buf b;
	bool first = true, empty = false;

	buf_init(&b, size);
	for (const char *const *ch = k->choices; *ch != NULL; ch++) {
		if (**ch == '\0') {
			empty = true;
			continue;
		}
		buf_printf(&b, "%s%s", first ? "" : ", ", *ch);
		first = false;
	}
	snprintf(out, size, "must be %sone of %s", empty ? "empty or " : "",
	    buf_cstr(&b));
	buf_release(&b);
}

static bool
is_octal_mode(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 4)
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '7')
			return false;
	return true;
}

/*
 * Validate and store one value for k: s for the string kinds, i for
 * integers and booleans (0 or 1).  where is "FILE:LINE" or "env NAME", used for
 * messages and recorded as the origin.
 */
static int
set_value(struct postino_conf *c, const struct conf_key *k, const char *s,
    int64_t i, const char *where, struct err *err)
{
	struct conf_origins *o = origins(c);
	const char *const *ch;
	char what[256];

	switch (k->type) {
	case CONF_INTEGER:
		if (i < k->min || i > k->max) {
			if (k->max == INT64_MAX)
				return err_set(err, ERR_CONFIG,
				    "%s: '%s' must be at least %" PRId64
				    " (got %" PRId64 ")",
				    where, k->name, k->min, i);
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must be between %" PRId64 " and %" PRId64
			    " (got %" PRId64 ")",
			    where, k->name, k->min, k->max, i);
		}
		*int_at(c, k) = i;
		break;
	case CONF_BOOLEAN:
		*bool_at(c, k) = i != 0;
		break;
	case CONF_STRING:
		if ((k->flags & CONF_NONEMPTY) && *s == '\0')
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must not be empty", where, k->name);
		if ((k->flags & CONF_OCTAL) && !is_octal_mode(s))
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must be an octal mode such as \"0660\" (got '%.40s')",
			    where, k->name, s);
		free(*str_at(c, k));
		*str_at(c, k) = xstrdup(s);
		break;
	case CONF_CHOICE:
	case CONF_IDENTITY:
		for (const char *const *a = k->aliases; a != NULL && *a != NULL;
		     a += 2)
			if (str_eq_nocase(s, a[0]))
				s = a[1];
		for (ch = k->choices; *ch != NULL; ch++)
			if (str_eq_nocase(s, *ch))
				break;
		if (*ch == NULL) {
			const char *near = str_nearest(s, k->choices);

			choices_text(k, what, sizeof(what));
			if (near != NULL && *near != '\0')
				return err_set(err, ERR_CONFIG,
				    "%s: '%s' %s (got '%.40s'; did you mean '%s'?)",
				    where, k->name, what, s, near);
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' %s (got '%.40s')", where, k->name, what,
			    s);
		}
		if (k->type == CONF_IDENTITY)
			*ident_at(c, k) =
			    (enum identity_backend)(ch - k->choices);
		else {
			free(*str_at(c, k));
			*str_at(c, k) = xstrdup(*ch);
		}
		break;
	}
	free(o->key[k - keys]);
	o->key[k - keys] = xstrdup(where);
	return 0;
}

/* "a string", "an integer", ... for messages. */
static const char *
a_type(enum toml_type t)
{
	return t == TOML_INTEGER ? "an integer"
	    : t == TOML_FLOAT	 ? "a float"
	    : t == TOML_ARRAY	 ? "an array"
	    : t == TOML_BOOLEAN	 ? "a boolean"
				 : "a string";
}

/*
 * A float where an integer is wanted: seconds (Python postino took
 * postcreation_hook_timeout = 30.0) are rounded up to whole seconds; for
 * anything else the message says what to write.
 */
static int
set_float(struct postino_conf *c, const struct conf_key *k, double f,
    const char *where, struct err *err)
{
	double up;

	if (!isfinite(f))
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be a number of %s, not %s", where, k->name,
		    (k->flags & CONF_SECONDS) ? "seconds" : "units",
		    isnan(f) ? "nan" : "inf");
	if (f < -1e15 || f > 1e15)
		up = f; /* out of every range below */
	else {
		up = (double)(int64_t)f;
		if (up < f)
			up += 1; /* rounded up: a timeout never shrinks */
	}
	if (!(k->flags & CONF_SECONDS)) {
		if (up == f && f >= -1e15 && f <= 1e15) {
			bool env = strncmp(where, "env ", 4) == 0;

			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must be an integer, not a float (write %s%s%.0f)",
			    where, k->name, env ? k->env : leaf(k),
			    env ? "=" : " = ", f);
		}
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be an integer, not a float (got %g)", where,
		    k->name, f);
	}
	if (up < (double)k->min || up > (double)k->max)
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be between %" PRId64 " and %" PRId64
		    " seconds (got %g)",
		    where, k->name, k->min, k->max, f);
	return set_value(c, k, NULL, (int64_t)up, where, err);
}

static int
set_from_toml(struct postino_conf *c, const struct conf_key *k,
    const struct toml_value *v, const char *where, struct err *err)
{
	if (k->type == CONF_INTEGER && v->type == TOML_FLOAT)
		return set_float(c, k, v->f, where, err);
	if (k->type == CONF_INTEGER && v->type != TOML_INTEGER)
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be an integer, not %s", where, k->name,
		    a_type(v->type));
	if (k->type == CONF_BOOLEAN) {
		if (v->type != TOML_BOOLEAN)
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must be true or false, not %s", where,
			    k->name, a_type(v->type));
		return set_value(c, k, NULL, v->b ? 1 : 0, where, err);
	}
	if (k->type != CONF_INTEGER && v->type != TOML_STRING)
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be a string, not %s", where, k->name,
		    a_type(v->type));
	return set_value(c, k, v->s, v->i, where, err);
}

/* The same rules as a file, for the text of an environment variable. */
static int
set_from_env(struct postino_conf *c, const struct conf_key *k, const char *text,
    struct err *err)
{
	const char *why;
	char where[128];
	int64_t i = 0;

	snprintf(where, sizeof(where), "env %s", k->env);
	if (toml_check_text(text, strlen(text), &why) == -1)
		return err_set(err, ERR_CONFIG, "%s: %s", where, why);
	if (k->type == CONF_INTEGER &&
	    toml_parse_integer(text, strlen(text), &i, &why) == -1) {
		double f;
		const char *fwhy;

		if (toml_parse_float(text, strlen(text), &f, &fwhy) == 0)
			return set_float(c, k, f, where, err);
		return err_set(err, ERR_CONFIG,
		    "%s: '%s' must be an integer ('%.40s': %s)", where, k->name,
		    text, why);
	}
	if (k->type == CONF_BOOLEAN) {
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
			return err_set(err, ERR_CONFIG,
			    "%s: '%s' must be true or false (got '%.40s')",
			    where, k->name, text);
		i = strcmp(text, "true") == 0;
	}
	return set_value(c, k, text, i, where, err);
}

/* Add or replace [podop.tables] name = "type:param". */
static int
table_put(struct postino_conf *c, const struct toml_entry *e, const char *where,
    struct err *err)
{
	struct conf_origins *o = origins(c);
	struct conf_table *t = NULL;
	const char *colon, *v = e->value.s;
	size_t i;

	if (e->value.type != TOML_STRING)
		return err_set(err, ERR_CONFIG,
		    "%s: podop table '%s' must be a string \"type:param\", not %s",
		    where, e->key, a_type(e->value.type));
	colon = strchr(v, ':');
	if (colon == NULL || colon == v)
		return err_set(err, ERR_CONFIG,
		    "%s: podop table '%s': expected \"type:param\" such as \"sql:/etc/postfix/virtual.cf\" (got '%.40s')",
		    where, e->key, v);
	for (const char *p = v; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return err_set(err, ERR_CONFIG,
			    "%s: podop table '%s': bad table type '%.*s'",
			    where, e->key,
			    (int)(colon - v > 40 ? 40 : colon - v), v);
	for (i = 0; i < c->podop.ntables; i++)
		if (strcmp(c->podop.tables[i].name, e->key) == 0)
			break;
	if (i == c->podop.ntables) {
		c->podop.tables = xreallocarray(
		    c->podop.tables, i + 1, sizeof(*c->podop.tables));
		o->table = xreallocarray(o->table, i + 1, sizeof(*o->table));
		o->table_item =
		    xreallocarray(o->table_item, i + 1, sizeof(*o->table_item));
		c->podop.ntables++;
		t = &c->podop.tables[i];
		t->name = xstrdup(e->key);
		o->table_item[i] = xasprintf("podop.tables.%s", e->key);
	} else {
		t = &c->podop.tables[i];
		free(t->type);
		free(t->param);
		free(o->table[i]);
	}
	t->type = xstrndup(v, (size_t)(colon - v));
	t->param = xstrdup(colon + 1);
	o->table[i] = xstrdup(where);
	return 0;
}

static int
unknown_key(const char *section, const struct toml_entry *e, const char *where,
    struct err *err)
{
	const char *cand[NKEYS + 1], *near;
	char in[64] = "";
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			cand[n++] = leaf(&keys[i]);
	cand[n] = NULL;
	if (*section != '\0')
		snprintf(in, sizeof(in), " in [%s]", section);
	if ((near = str_nearest(e->key, cand)) != NULL)
		return err_set(err, ERR_CONFIG,
		    "%s: unknown key '%.40s'%s (did you mean '%s'?)", where,
		    e->key, in, near);

	/* A key written under the wrong header is a common slip. */
	for (const char *const *s = sections; *s != NULL; s++) {
		if (strcmp(*s, section) == 0 || key_find(*s, e->key) == NULL)
			continue;
		if (**s == '\0')
			return err_set(err, ERR_CONFIG,
			    "%s: unknown key '%s'%s ('%s' is a top-level key: move it above the first [table] header)",
			    where, e->key, in, e->key);
		return err_set(err, ERR_CONFIG,
		    "%s: unknown key '%s'%s ('%s' belongs in [%s])", where,
		    e->key, in, e->key, *s);
	}
	return err_set(
	    err, ERR_CONFIG, "%s: unknown key '%.40s'%s", where, e->key, in);
}

/* A TOML value as it would be written in a file. */
static char *
render_toml(const struct toml_value *v)
{
	struct buf b;

	switch (v->type) {
	case TOML_STRING:
		return render_string(v->s);
	case TOML_INTEGER:
		return xasprintf("%" PRId64, v->i);
	case TOML_BOOLEAN:
		return xstrdup(v->b ? "true" : "false");
	case TOML_FLOAT:
		return xasprintf("%g", v->f);
	case TOML_ARRAY:
		break;
	}
	buf_init(&b, 0);
	buf_putc(&b, '[');
	for (size_t i = 0; i < v->nitems; i++) {
		char *s = render_string(v->items[i]);

		buf_printf(&b, "%s%s", i > 0 ? ", " : "", s);
		free(s);
	}
	buf_putc(&b, ']');
	return buf_detach(&b);
}

/*
 * [core]: Python postino's README showed "[core] identity_backend = ...",
 * but its loader silently dropped every table, so such a key was never
 * read.  Refuse it, saying what to write: the same lines at the top level.
 */
static int
core_table(
    const struct toml_doc *doc, const struct toml_table *tb, struct err *err)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < tb->nentries && i < 4; i++) {
		char *v = render_toml(&tb->entries[i].value);

		buf_printf(
		    &b, "%s%s = %s", i > 0 ? "; " : "", tb->entries[i].key, v);
		free(v);
	}
	if (tb->nentries > 4)
		buf_printf(&b, "; ...");
	if (tb->nentries == 0)
		err_set(err, ERR_CONFIG,
		    "%s:%d: there is no [core] table (Python postino ignored it): delete the [core] line",
		    doc->name, tb->line);
	else
		err_set(err, ERR_CONFIG,
		    "%s:%d: there is no [core] table (Python postino ignored it, so its keys were never read): delete the [core] line and write %s at the top of the file, above any [table] header (unless already there)",
		    doc->name, tb->line, buf_cstr(&b));
	buf_release(&b);
	return -1;
}

static int
apply_doc(struct postino_conf *c, const struct toml_doc *doc, struct err *err)
{
	char where[4096];

	/* First: it explains errors about its keys' values elsewhere. */
	for (size_t t = 0; t < doc->ntables; t++)
		if (strcmp(doc->tables[t].name, "core") == 0)
			return core_table(doc, &doc->tables[t], err);
	for (size_t t = 0; t < doc->ntables; t++) {
		const struct toml_table *tb = &doc->tables[t];
		bool is_section = false, is_tables;

		if (tb->implicit)
			continue; /* has no entries; a subtable is named */
		for (const char *const *s = sections; *s != NULL; s++)
			if (strcmp(*s, tb->name) == 0)
				is_section = true;
		is_tables = strcmp(tb->name, "podop.tables") == 0;
		if (!is_section && !is_tables) {
			const char *near = str_nearest(tb->name, table_names);

			snprintf(
			    where, sizeof(where), "%s:%d", doc->name, tb->line);
			if (near != NULL)
				return err_set(err, ERR_CONFIG,
				    "%s: unknown table [%.40s] (did you mean [%s]?)",
				    where, tb->name, near);
			return err_set(err, ERR_CONFIG,
			    "%s: unknown table [%.40s]", where, tb->name);
		}
		for (size_t i = 0; i < tb->nentries; i++) {
			const struct toml_entry *e = &tb->entries[i];
			const struct conf_key *k;

			snprintf(
			    where, sizeof(where), "%s:%d", doc->name, e->line);
			if (is_tables) {
				if (table_put(c, e, where, err) == -1)
					return -1;
				continue;
			}
			if ((k = key_find(tb->name, e->key)) == NULL)
				return unknown_key(tb->name, e, where, err);
			if (set_from_toml(c, k, &e->value, where, err) == -1)
				return -1;
		}
	}
	return 0;
}

static int
apply_env(struct postino_conf *c, struct err *err)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = getenv(keys[i].env);

		if (v != NULL && set_from_env(c, &keys[i], v, err) == -1)
			return -1;
	}
	return 0;
}

/* Variables read outside the key table. */
static const char *const env_other[] = { "POSTINO_CONFIG", "POSTINO_MODULE_DIR",
	"POSTINO_COMPLETE_NO_DB", "POSTINOD_ZITADEL_HMAC_SECRET",
	"POSTINOD_ZITADEL_REPLAY_WINDOW_SEC", "POSTINO_ZITADEL_TOKEN", NULL };

void
conf_env_unknown(const char *prefix,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	extern char **environ;
	const char *cand[NKEYS + sizeof(env_other) / sizeof(env_other[0])];
	size_t n = 0, plen = strlen(prefix);

	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].env, prefix, plen) == 0)
			cand[n++] = keys[i].env;
	for (size_t i = 0; env_other[i] != NULL; i++)
		if (strncmp(env_other[i], prefix, plen) == 0)
			cand[n++] = env_other[i];
	cand[n] = NULL;
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		char name[128];
		bool known = false;

		if (eq == NULL || strncmp(*e, prefix, plen) != 0 ||
		    (size_t)(eq - *e) >= sizeof(name))
			continue;
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		if (strncmp(name, "POSTINO_TEST_", 13) == 0 ||
		    strncmp(name, "POSTINO_FUZZ_", 13) == 0)
			continue;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(cand[i], name) == 0;
		if (!known)
			fn(arg, name, str_nearest(name, cand));
	}
}

static const char *
origin_of(const struct postino_conf *c, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return origins(c)->key[i] != NULL ? origins(c)->key[i]
							  : "default";
	return "?";
}

/* Rules that tie settings together, checked once every layer is in. */
/*
 * "" or http(s)://HOST[:PORT][/PATH] with no query, fragment, userinfo,
 * blank or control byte: it is pasted before every SCIM location.
 */
static bool
public_url_ok(const char *u)
{
	const char *p;

	if (*u == '\0')
		return true;
	if (strncmp(u, "https://", 8) == 0)
		u += 8;
	else if (strncmp(u, "http://", 7) == 0)
		u += 7;
	else
		return false;
	if (*u == '\0' || *u == '/' || *u == ':' || strlen(u) > 200)
		return false;
	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f ||
		    strchr("?#@\\\"<>", *p) != NULL)
			return false;
	return true;
}

/*
 * postfixadmin.encrypt is a mode postino writes, and it does not fight an
 * explicitly set default_password_scheme (it decides the scheme).
 */
static int
check_encrypt(struct postino_conf *c, struct err *err)
{
	struct pfa_encrypt e;

	if (pfa_encrypt_parse(c->postfixadmin.encrypt, &e, err) == -1)
		return err_prefix(err, "'postfixadmin.encrypt' (from %s)",
		    origin_of(c, "postfixadmin.encrypt"));
	if (e.kind != PFA_NONE &&
	    strcmp(origin_of(c, "default_password_scheme"), "default") != 0 &&
	    !str_eq_nocase(c->default_password_scheme, e.scheme)) {
		err_set(err, ERR_CONFIG,
		    "'default_password_scheme' = \"%s\" (from %s) disagrees with 'postfixadmin.encrypt' = \"%s\" (from %s), which stores %s",
		    c->default_password_scheme,
		    origin_of(c, "default_password_scheme"),
		    c->postfixadmin.encrypt,
		    origin_of(c, "postfixadmin.encrypt"), e.scheme);
		return err_hint(err,
		    "delete default_password_scheme: postfixadmin.encrypt decides the scheme of new passwords");
	}
	return 0;
}

static int
check_all(struct postino_conf *c, struct err *err)
{
	if (c->mlmmj_spool_dir[0] != '\0' &&
	    (c->mlmmj_uid >= 0) != (c->mlmmj_gid >= 0)) {
		err_set(err, ERR_CONFIG,
		    "'mlmmj_uid' and 'mlmmj_gid' must both be set or both be -1 when 'mlmmj_spool_dir' is set (mlmmj_uid = %" PRId64
		    " from %s, mlmmj_gid = %" PRId64 " from %s)",
		    c->mlmmj_uid, origin_of(c, "mlmmj_uid"), c->mlmmj_gid,
		    origin_of(c, "mlmmj_gid"));
		return err_hint(err,
		    "set both to the owner of the mlmmj spool, or both to -1 to leave ownership alone");
	}
	if ((c->postinod.tls_cert[0] == '\0') !=
	    (c->postinod.tls_key[0] == '\0'))
		return err_set(err, ERR_CONFIG,
		    "'postinod.tls_cert' and 'postinod.tls_key' must be set together (tls_cert from %s, tls_key from %s)",
		    origin_of(c, "postinod.tls_cert"),
		    origin_of(c, "postinod.tls_key"));
	if (!public_url_ok(c->postinod.public_url)) {
		err_set(err, ERR_CONFIG,
		    "'postinod.public_url' (from %s) is not an http or https URL without query or fragment",
		    origin_of(c, "postinod.public_url"));
		return err_hint(err, "write it as https://HOST[:PORT][/PATH]");
	}
	if (!public_url_ok(c->zitadel.url)) {
		err_set(err, ERR_CONFIG,
		    "'zitadel.url' (from %s) is not an http or https URL without query or fragment",
		    origin_of(c, "zitadel.url"));
		return err_hint(err,
		    "write the instance's base URL, as https://auth.example.org");
	}
	return check_encrypt(c, err);
}

/* Read one file; a missing one is fine unless required. */
static int
load_file(struct postino_conf *c, const char *path, bool required,
    const char *hint, struct err *err)
{
	struct toml_doc doc;
	int rc;

	if (toml_parse_file(&doc, path, err) == -1) {
		if (err->kind != ERR_NOTFOUND)
			return -1;
		if (!required) {
			err_clear(err);
			return 0;
		}
		err_set(err, ERR_CONFIG, "config file '%s' not found", path);
		return err_hint(err, "%s", hint);
	}
	c->files = xreallocarray(c->files, c->nfiles + 1, sizeof(*c->files));
	c->files[c->nfiles++] = xstrdup(path);
	rc = apply_doc(c, &doc, err);
	toml_release(&doc);
	return rc;
}

int
conf_load(struct postino_conf *c, const char *explicit_path, struct err *err)
{
	static const char *const system[] = {
		"/etc/postino/postino.toml",
		"/usr/local/etc/postino/postino.toml",
	};
	struct err local = ERR_INIT;
	const char *home, *env;
	char *user;

	if (err == NULL)
		err = &local; /* load_file() reads the kind back */
	conf_defaults(c);
	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		if (load_file(c, system[i], false, NULL, err) == -1)
			goto fail;
	home = getenv("HOME");
	if (home != NULL && *home != '\0') {
		user = xasprintf("%s/.config/postino/postino.toml", home);
		if (load_file(c, user, false, NULL, err) == -1) {
			free(user);
			goto fail;
		}
		free(user);
	}
	env = getenv("POSTINO_CONFIG");
	if (explicit_path != NULL) {
		if (load_file(c, explicit_path, true,
			"check the path given with -c", err) == -1)
			goto fail;
	} else if (env != NULL && *env != '\0') {
		if (load_file(c, env, true,
			"check $POSTINO_CONFIG, or unset it to use the default locations",
			err) == -1)
			goto fail;
	}
	if (apply_env(c, err) == -1 || check_all(c, err) == -1)
		goto fail;
	return 0;
fail:
	conf_release(c);
	return -1;
}

/* A string as a TOML basic string. */
static char *
render_string(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	buf_putc(&b, '"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"':
			buf_puts(&b, "\\\"");
			break;
		case '\\':
			buf_puts(&b, "\\\\");
			break;
		case '\b':
			buf_puts(&b, "\\b");
			break;
		case '\t':
			buf_puts(&b, "\\t");
			break;
		case '\n':
			buf_puts(&b, "\\n");
			break;
		case '\f':
			buf_puts(&b, "\\f");
			break;
		case '\r':
			buf_puts(&b, "\\r");
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				buf_printf(&b, "\\u%04X", ch);
			else
				buf_putc(&b, ch);
		}
	}
	buf_putc(&b, '"');
	return buf_detach(&b);
}

static char *
render_value(const struct postino_conf *c, const struct conf_key *k)
{
	switch (k->type) {
	case CONF_INTEGER:
		return xasprintf("%" PRId64, cint_at(c, k));
	case CONF_BOOLEAN:
		return xstrdup(cbool_at(c, k) ? "true" : "false");
	case CONF_IDENTITY:
		return render_string(
		    identity_backend_name(c->identity_backend));
	case CONF_STRING:
	case CONF_CHOICE:
		break;
	}
	return render_string(*cstr_at(c, k));
}

int
conf_describe(
    const struct postino_conf *c, struct conf_item **items_r, size_t *n_r)
{
	const struct conf_origins *o = origins(c);
	struct conf_item *items;
	size_t n = NKEYS + c->podop.ntables;

	items = xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		const char *from = o != NULL ? o->key[i] : NULL;

		items[i].name = k->name;
		items[i].value = render_value(c, k);
		items[i].default_value = k->def_toml;
		items[i].origin = xstrdup(from != NULL ? from : "default");
		items[i].env = k->env;
		items[i].description = k->desc;
		items[i].is_default = from == NULL;
	}
	for (size_t i = 0; i < c->podop.ntables; i++) {
		const struct conf_table *t = &c->podop.tables[i];
		struct conf_item *it = &items[NKEYS + i];
		char *v = xasprintf("%s:%s", t->type, t->param);

		it->name = o->table_item[i];
		it->value = render_string(v);
		it->default_value = NULL;
		it->origin = xstrdup(o->table[i]);
		it->env = NULL;
		it->description = "podop lookup table, type:param";
		it->is_default = false;
		free(v);
	}
	*items_r = items;
	*n_r = n;
	return 0;
}

void
conf_items_free(struct conf_item *items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(items[i].value);
		free(items[i].origin);
	}
	free(items);
}

char *
conf_sql_path(const struct postino_conf *c, const char *name)
{
	const char *dir = c->postfix_sql_dir != NULL ? c->postfix_sql_dir : "";
	size_t n = strlen(dir);

	if (n == 0)
		return xstrdup(name);
	if (dir[n - 1] == '/')
		return xasprintf("%s%s", dir, name);
	return xasprintf("%s/%s", dir, name);
}
