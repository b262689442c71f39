/*
 * conf: postino's settings, from built-in defaults, postino.toml files and
 * the environment, with the origin of every value remembered.
 *
 * Precedence, lowest to highest:
 *   1. built-in defaults
 *   2. /etc/postino/postino.toml
 *   3. /usr/local/etc/postino/postino.toml
 *   4. ~/.config/postino/postino.toml          ($HOME; skipped if unset)
 *   5. $POSTINO_CONFIG, or the file given to conf_load() (postino -c FILE),
 *      which takes the place of $POSTINO_CONFIG.  An explicitly named
 *      file that does not exist is an error; the others are optional.
 *   6. environment: POSTINO_<KEY> for top-level keys, POSTINOD_<KEY> for
 *      [postinod], PODOP_<KEY> for [podop], POSTINO_<TABLE>_<KEY> for
 *      [password], [postfixadmin] and [zitadel]  (KEY upper-cased)
 *
 * Files use the TOML subset of toml.h.  Unknown keys and tables are errors
 * ("file:line: unknown key 'vmial_uid' (did you mean 'vmail_uid'?)"), as
 * are values of the wrong type or out of range; environment values are
 * parsed with the same rules and reported as "env POSTINO_X: ...".
 *
 * Every string in a struct postino_conf is owned by it and freed by
 * conf_release().  No value in this file is secret: database credentials
 * live in the Postfix map files, webhook secrets in the environment only,
 * the Zitadel API token in [zitadel] token_file or $POSTINO_ZITADEL_TOKEN.
 */
#ifndef POSTINO_CONF_H
#define POSTINO_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum identity_backend {
	IDENTITY_LOCAL = 0,
	IDENTITY_NOAUTH,
	IDENTITY_HYBRID,
};

/* A named lookup table for podop: [podop.tables] name = "type:param". */
struct conf_table {
	char *name;
	char *type;
	char *param;
};

struct postino_conf {
	/* top level (env POSTINO_<KEY>) */
	enum identity_backend identity_backend; /* "local" */
	char *postfix_sql_dir;			/* "/etc/postfix" */
	char *postfix_sql_engine;		/* "" = from the cf file */
	char *virtual_mailbox_base;		/* "/var/vmail" */
	char *postcreation_hook;		/* "" = none */
	int64_t postcreation_hook_timeout;	/* 30 seconds, 1..3600 */
	int64_t vmail_uid;			/* -1 = do not chown */
	int64_t vmail_gid;			/* -1 */
	char *default_password_scheme;		/* "BLF-CRYPT" */
	int64_t bcrypt_cost;			/* 12, 4..31 */
	int64_t default_quota_bytes;		/* 0 = unlimited */
	char *lmtp_destination;	   /* "unix:private/dovecot-lmtp" */
	char *recipient_delimiter; /* "+" */
	char *vacation_domain;	/* "autoreply.change-this-to-your.domain.tld" */
	char *dovecot_conf_dir; /* "/etc/dovecot" */
	char *mlmmj_spool_dir;	/* "" = lists disabled */
	int64_t mlmmj_uid;	/* -1 */
	int64_t mlmmj_gid;	/* -1 */
	char *log_format;	/* "text": text|json, the daemons' log lines */

	/* [postinod] (env POSTINOD_<KEY>) */
	struct {
		char *listen;	      /* "127.0.0.1:8443" */
		char *log_level;      /* "info": debug|info|warn|error */
		char *zitadel_issuer; /* "" */
		char *scim_issuer;    /* "" */
		char *scim_audience;  /* "" */
		char *scim_jwks_url;  /* "" = <issuer>/.well-known/jwks.json */
		char *scim_jwks_file; /* "" */
		int64_t scim_jwks_refresh_seconds;  /* 3600 */
		int64_t scim_max_token_age_seconds; /* 3600 */
		char *tls_cert;			    /* "" = plain HTTP */
		char *tls_key;			    /* "" */
		char *user;	      /* "" = do not drop privileges */
		int64_t threads;      /* 4, 1..256 */
		bool seccomp;	      /* false */
		char *public_url;     /* "" = scheme://Host of each request */
		char *metrics_listen; /* "" = no metrics listener */
	} postinod;

	/* [zitadel] (env POSTINO_ZITADEL_<KEY>): postino reconcile */
	struct {
		char *url;		 /* "" = not configured */
		char *organization_id;	 /* "" = every organization */
		char *instance_id;	 /* "" = the one in postino_identity */
		char *token_file;	 /* "" = $POSTINO_ZITADEL_TOKEN */
		char *ca_file;		 /* "" = the system's CAs */
		char *ca_path;		 /* "" */
		int64_t timeout_seconds; /* 30 per request */
		int64_t page_size;	 /* 100, 1..1000 */
	} zitadel;

	/* [podop] (env PODOP_<KEY>) and [podop.tables] */
	struct {
		char *socket; /* "unix:/run/podop/podop.sock" or inet:h:p */
		char *mode;   /* "postfix" | "dovecot" */
		char *user;   /* "" */
		char *socket_owner;	    /* "" */
		char *socket_mode;	    /* "0660" (octal string) */
		int64_t workers;	    /* 2 */
		int64_t timeout_ms;	    /* 5000 per backend call */
		int64_t cache_ttl;	    /* 60 seconds, 0 = no cache */
		int64_t cache_negative_ttl; /* 10 seconds */
		int64_t cache_stale_ttl;    /* 300 seconds */
		int64_t cache_size;	    /* 1000000 entries */
		char *table_cache;    /* "" or "NAME=TTL[/NEG[/STALE]] ..." */
		char *dns_resolver;   /* "" = the system's; "host:port,..." */
		bool seccomp;	      /* false */
		char *metrics_listen; /* "" = no metrics listener */
		char *read_hosts;     /* "" = the map files' hosts */
		struct conf_table *tables;
		size_t ntables;
	} podop;

	/* [password] (env POSTINO_PASSWORD_<KEY>): new passwords' policy */
	struct {
		int64_t min_length;  /* 8, 1..1024 characters */
		int64_t min_letters; /* 0 */
		int64_t min_digits;  /* 0 */
	} password;

	/* [postfixadmin] (env POSTINO_POSTFIXADMIN_<KEY>) */
	struct {
		char *encrypt; /* "" = {SCHEME}-prefixed default_password_scheme
				*/
	} postfixadmin;

	/* Files actually read, in order (for messages and config show). */
	char **files;
	size_t nfiles;
	void *origins; /* private: where each value came from */
};

/*
 * Load settings.  explicit_path (may be NULL) replaces $POSTINO_CONFIG.
 * Returns 0, or -1 with err (ERR_CONFIG, message "file:line: ...").
 */
int conf_load(struct postino_conf *, const char *explicit_path, struct err *);
/*
 * Variables of the environment whose name starts with prefix ("POSTINO_")
 * but that nothing reads, as a misspelt one would be: fn(arg, name, near)
 * for each, near being the variable probably meant, or NULL.  The test
 * suite's POSTINO_TEST_* are not reported.
 */
void conf_env_unknown(const char *prefix,
    void (*fn)(void *, const char *name, const char *near), void *arg);
/* Defaults only, no files or environment (for tests and init). */
void conf_defaults(struct postino_conf *);
void conf_release(struct postino_conf *);

const char *identity_backend_name(enum identity_backend);

/* One setting, for "postino config show" and the documentation check. */
struct conf_item {
	const char *name;	   /* "vmail_uid", "postinod.listen", ... */
	char *value;		   /* rendered as TOML; owned */
	const char *default_value; /* rendered as TOML */
	char *origin;		   /* "default", "FILE:LINE", "env NAME" */
	const char *env;	   /* environment variable name */
	const char *description;   /* one line */
	bool is_default;
};

/*
 * Describe every known setting (podop tables included, one item each as
 * "podop.tables.NAME").  *items_r is freed with conf_items_free(); the
 * const strings in it are lent, and a table's name is valid only until
 * conf_release().  A table item has no default_value and no env (NULL).
 * is_default means no file or variable set the value.  Returns 0.
 */
int conf_describe(
    const struct postino_conf *, struct conf_item **items_r, size_t *n_r);
void conf_items_free(struct conf_item *, size_t);

/* "<postfix_sql_dir>/<name>"; caller frees. */
char *conf_sql_path(const struct postino_conf *, const char *name);

#endif
