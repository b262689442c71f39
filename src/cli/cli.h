/*
 * cli.h: the postino command line.  main.c owns the command table,
 * global options, configuration and database bootstrap; each cmd_*.c file
 * implements a family of commands as "parse, call the model, print".
 *
 * Output conventions: one JSON document on stdout with --json, aligned
 * tables for people otherwise; messages on stderr as "postino: error: ..."
 * (and "hint: ..."); nothing else on stdout.
 */
#ifndef POSTINO_CLI_H
#define POSTINO_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "conf.h"
#include "db.h"
#include "err.h"
#include "model.h"

enum cmd_flags {
	CMD_CONF = 1 << 0,   /* needs configuration */
	CMD_DB = 1 << 1,     /* needs a database connection */
	CMD_SCHEMA = 1 << 2, /* needs the postino schema (migrated) */
	CMD_CREATE = 1 << 3, /* may create a SQLite database */
};

/* One option of a command: the single source for parsing and help. */
struct cli_opt {
	const char *name; /* long name without "--" */
	int key;	  /* short letter, or a value >= 256 */
	const char *arg;  /* metavar, NULL for a flag */
	const char *help;
};

/* Keys of long-only options (short options use their letter). */
enum {
	O_DESCRIPTION = 256,
	O_MAX_ALIASES,
	O_MAX_MAILBOXES,
	O_MAX_QUOTA,
	O_DEFAULT_QUOTA,
	O_DOMAIN_QUOTA,
	O_TRANSPORT,
	O_BACKUPMX,
	O_NO_BACKUPMX,
	O_FORCE,
	O_KEEP_MAILDIR,
	O_REMOVE_MAILDIR,
	O_TARGET,
	O_ALL,
	O_ENABLED_ONLY,
	O_NAME,
	O_QUOTA,
	O_SCHEME,
	O_PASSWORD_STDIN,
	O_CLAIM,
	O_SET,
	O_DOMAIN,
	O_MAILBOXES,
	O_DIR,
	O_ENGINE,
	O_DB,
	O_HOSTS,
	O_USER,
	O_DBNAME,
	O_MAIL_ROOT,
	O_VMAIL_UID,
	O_VMAIL_GID,
	O_HOOK,
	O_NO_SCHEMA,
	O_IDENTITY,
	O_NONDEFAULT,
	O_DEFAULTS,
	O_DISABLED,
	O_NO_HOOK,
	O_FORMAT,
	O_OUTPUT,
	O_DRY_RUN,
	O_UPDATE,
	O_PRUNE,
	O_BATCH,
	O_OWNER,
	O_OUT,
	O_IN_PLACE,
	O_LOOKUPS,
	O_DOVECOT,
	O_ONLY,
	O_SKIP,
	O_POSTFIX_DIR,
	O_DOVECOT_DIR,
	O_QUEUE_DIR,
	O_PODOP_SOCKET,
	O_PODOP_DICT_SOCKET,
	O_MLMMJ_USER,
	O_MLMMJ_SPOOL, /* config gen: Python postino's spellings */
	O_MLMMJ_GID,
	O_NO_PREFLIGHT,
	O_NO_POSTCHECK,
	O_DB_URL,
	O_SOURCE, /* reconcile */
	O_APPLY,
	O__MAX
};

struct cli;

struct cli_cmd {
	const char *name; /* "domain add" */
	int (*fn)(struct cli *, int argc, char **argv);
	const char *args; /* "DOMAIN" */
	const char *summary;
	const struct cli_opt *opts; /* NULL-name terminated */
	const char *example;	    /* shown in --help */
	unsigned flags;
};

struct cli {
	const struct cli_cmd *cmd;
	bool json;
	bool quiet;
	bool color;  /* stdout colours */
	bool ecolor; /* stderr colours */
	const char *config_path;
	struct postino_conf conf;
	bool conf_loaded;
	struct db *db;
	struct model model;
	char actor[64];
	/* parsed options of the running command */
	const char *optval[512];
	int optcount[512];
	const char **multi[512];
};

/* Parsed option accessors (valid inside a command). */
const char *cli_opt(const struct cli *, int key);
bool cli_flag(const struct cli *, int key);
int cli_opt_count(const struct cli *, int key);
const char *cli_opt_n(const struct cli *, int key, int i);

/* Messages (stderr). */
void cli_error(struct cli *, const struct err *);
void cli_errorf(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void cli_warnf(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void cli_infof(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Print usage for the running command and return EX_USAGE (64). */
int cli_usage(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Report err and return its exit code. */
int cli_fail(struct cli *, const struct err *);

/* Load config / open the database on demand. */
int cli_need_conf(struct cli *, struct err *);
int cli_need_db(struct cli *, bool create, struct err *);

/* Ask "question [y/N]" on the terminal; false when not a terminal. */
bool cli_confirm(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Read a new password: with --password-stdin one line from stdin (refused
 * on a terminal), else prompted twice without echo on /dev/tty.  buf must
 * hold PASSWORD_INPUT_MAX + 2 bytes; the caller wipes it.
 */
int cli_read_password(struct cli *, bool from_stdin, const char *label,
    char *buf, size_t size, struct err *);
/* The same for a database password, which may be empty (peer/trust). */
int cli_read_secret(struct cli *, bool from_stdin, const char *label, char *buf,
    size_t size, struct err *);

/* Parse a quota option value. */
int cli_quota(struct cli *, const char *field, const char *val, int64_t *out,
    struct err *);
/* Parse an integer option value. */
int cli_int(struct cli *, const char *field, const char *val, int64_t min,
    int64_t max, int64_t *out, struct err *);

/* --- output (out.c) ------------------------------------------------- */

struct table;

struct table *table_new(struct cli *, const char *const *headers);
void table_add(struct table *, const char *const *cells);
/* Per-cell colour: 0 none, 1 green, 2 red, 3 yellow, 4 dim. */
void table_add_colored(
    struct table *, const char *const *cells, const int *colors);
void table_print(struct table *);
void table_free(struct table *);

/* Print a JSON value (stolen) as one document. */
void out_json(struct cli *, json_t *);
/* Streaming JSON arrays: begin, item (stolen), end. */
void out_json_begin(struct cli *);
void out_json_item(struct cli *, json_t *);
void out_json_end(struct cli *);
/*
 * Streaming flat objects without jansson (hot listings): begin, fields,
 * end; used between out_json_begin() and out_json_end().
 */
void out_obj_begin(struct cli *);
void out_obj_str(struct cli *, const char *key, const char *val);
void out_obj_int(struct cli *, const char *key, int64_t);
void out_obj_bool(struct cli *, const char *key, bool);
void out_obj_time(struct cli *, const char *key, const char *t);
void out_obj_end(struct cli *);
/* A JSON string that survives bytes that are not UTF-8 (never NULL). */
json_t *out_jstr(const char *);
/* "2026-05-09 12:00:00" -> "2026-05-09T12:00:00" (new json string). */
json_t *out_time(const char *);
/* key: value lines for a single record in human mode. */
void out_kv(struct cli *, const char *const *keys, const char *const *vals);

const char *color_on(const struct cli *, int color);
const char *color_off(const struct cli *);

/* The command table (main.c) and families. */
extern const struct cli_cmd cli_commands[];

int cmd_domain_add(struct cli *, int, char **);
int cmd_domain_list(struct cli *, int, char **);
int cmd_domain_show(struct cli *, int, char **);
int cmd_domain_enable(struct cli *, int, char **);
int cmd_domain_disable(struct cli *, int, char **);
int cmd_domain_del(struct cli *, int, char **);
int cmd_adom_add(struct cli *, int, char **);
int cmd_adom_list(struct cli *, int, char **);
int cmd_adom_show(struct cli *, int, char **);
int cmd_adom_retarget(struct cli *, int, char **);
int cmd_adom_enable(struct cli *, int, char **);
int cmd_adom_disable(struct cli *, int, char **);
int cmd_adom_del(struct cli *, int, char **);
int cmd_user_add(struct cli *, int, char **);
int cmd_user_del(struct cli *, int, char **);
int cmd_user_list(struct cli *, int, char **);
int cmd_user_show(struct cli *, int, char **);
int cmd_user_passwd(struct cli *, int, char **);
int cmd_user_enable(struct cli *, int, char **);
int cmd_user_disable(struct cli *, int, char **);
int cmd_user_quota(struct cli *, int, char **);
int cmd_user_release(struct cli *, int, char **);
int cmd_user_rename(struct cli *, int, char **);
int cmd_user_name(struct cli *, int, char **);
int cmd_alias_add(struct cli *, int, char **);
int cmd_alias_edit(struct cli *, int, char **);
int cmd_alias_list(struct cli *, int, char **);
int cmd_alias_show(struct cli *, int, char **);
int cmd_alias_enable(struct cli *, int, char **);
int cmd_alias_disable(struct cli *, int, char **);
int cmd_alias_del(struct cli *, int, char **);
int cmd_schema_init(struct cli *, int, char **);
int cmd_schema_migrate(struct cli *, int, char **);
int cmd_schema_version(struct cli *, int, char **);
int cmd_config_show(struct cli *, int, char **);
int cmd_config_gen(struct cli *, int, char **);
int cmd_list_add(struct cli *, int, char **);
int cmd_list_sub(struct cli *, int, char **);
int cmd_list_unsub(struct cli *, int, char **);
int cmd_list_show(struct cli *, int, char **);
int cmd_list_ls(struct cli *, int, char **);
int cmd_list_rm(struct cli *, int, char **);
int cmd_init(struct cli *, int, char **);
int cmd_status(struct cli *, int, char **);
int cmd_export(struct cli *, int, char **);
int cmd_import(struct cli *, int, char **);
int cmd_check(struct cli *, int, char **);
int cmd_reconcile(struct cli *, int, char **);
int cmd_quota_show(struct cli *, int, char **);

#endif
