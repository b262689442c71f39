/*
 * The inside of "postino check" (check.h is its contract): the context
 * every probe gets, the rows of the deep pass, and the helpers the probe
 * families share.  One file per family of probes (database, config,
 * postfix, passwords, rows, maildirs, lists, dovecot); the probe table,
 * which says how to add one, is table.c; the runner and finding() are
 * run.c; the shared helpers util.c and (the rows) data.c.
 */
#ifndef POSTINO_CHECK_PROBE_H
#define POSTINO_CHECK_PROBE_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "check.h"
#include "conf.h"
#include "db.h"
#include "model.h"

#define SAMPLE_MAX 5 /* offenders named in one message */
#define PROGRESS_EVERY 2048
#define SYNTAX_TIMEOUT_MS 5000
#define WALK_DEPTH_MAX 16
#define ARENA_CHUNK (256 * 1024)
#define CONNECT_TIMEOUT 5
#define DOVECOT_FILES_MAX 128
#define DOVECOT_DEPTH_MAX 8

/* Up to SAMPLE_MAX offenders, then "and N more". */
struct sample {
	size_t n;
	bool closed;
	struct buf b;
};

void sample_add(struct sample *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	char data[];
};

struct arena {
	struct chunk *head;
};

/* Open-addressing map from a borrowed string to an index. */
struct slot {
	const char *key;
	size_t val;
};

struct smap {
	struct slot *v;
	size_t cap;
	size_t n;
	bool nocase;
};

struct dom {
	const char *name;
	const char *transport;
	int64_t max_aliases;
	int64_t max_mailboxes;
	int64_t maxquota; /* bytes, 0 unlimited */
	int64_t quota;	  /* bytes, 0 unlimited */
	bool backupmx;
	int64_t nmailboxes;
	int64_t naliases; /* self-aliases not counted */
	int64_t sumquota;
	size_t nunlimited;
	bool catchall; /* an active "@domain" alias */
};

struct mbx {
	const char *username;
	const char *password;
	const char *maildir; /* without a trailing slash */
	const char *domain;
	int64_t quota;
	bool active;
	bool quota2;
	bool self_alias;
	bool seen;  /* found by the walk */
	bool valid; /* maildir path is acceptable */
};

struct als {
	const char *address;
	const char *gotos;
	const char *domain;
	bool active;
};

struct adom {
	const char *alias;
	const char *target;
	bool active;
};

enum {
	D_DOMAIN = 1 << 0,
	D_ADOM = 1 << 1,
	D_MAILBOX = 1 << 2,
	D_ALIAS = 1 << 3,
	D_QUOTA2 = 1 << 4,
	D_LISTS = 1 << 5,
};

struct data {
	struct arena arena;
	unsigned loaded;
	struct dom *doms;
	size_t ndoms;
	struct smap dom_ix;
	struct adom *adoms;
	size_t nadoms;
	struct smap adom_ix;
	struct mbx *mbxs;
	size_t nmbxs;
	struct smap mbx_ix;
	struct als *alss;
	size_t nalss;
	struct smap als_ix;
	size_t quota2_orphans;
	struct sample quota2_sample;
	bool have_routes;
	struct smap lists; /* list addresses from routes */
};

struct ctx {
	const struct postino_conf *conf;
	const struct check_opts *opts;
	struct check_report *rep;
	struct db *db;
	struct model model;
	struct db_params params; /* in use */
	bool have_params;
	bool schema_ok;
	bool data_failed;
	bool walk_skipped;
	size_t skipped;
	struct data d;
	const struct probe *probe; /* the one running */
};

enum probe_flags {
	P_DEEP = 1 << 0,   /* only with --deep */
	P_DB = 1 << 1,	   /* needs a database connection */
	P_SCHEMA = 1 << 2, /* needs the core PostfixAdmin tables */
	P_MLMMJ = 1 << 3,  /* only when mlmmj_spool_dir is set */
};

#define RULES_MAX 12 /* findings of one probe */
#define SEV_W CHECK_SEV_WARN
#define SEV_E CHECK_SEV_ERROR

/* A row of the probe table (table.c). */
struct probe {
	const char *name;
	unsigned flags;
	void (*run)(struct ctx *); /* NULL: rules of shared code (db_read) */
	struct check_rule rules[RULES_MAX]; /* what run may report */
};

extern const struct probe check_probes[];
extern const size_t check_nprobes;

/* run.c: report a finding (its probe's row must list name and sev). */
void finding(struct ctx *, const char *, enum check_severity, const char *, ...)
    __attribute__((format(printf, 4, 5)));
/*
 * The shape of most probes: finding name is sev with the message of fmt
 * when bad (offenders were found), else info with the message ok.
 */
void finding_if(struct ctx *, bool bad, const char *name,
    enum check_severity sev, const char *ok, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void progress(struct ctx *c, const char *phase, uint64_t done, uint64_t total);

/* util.c */
/*
 * The other half of that shape: run sql (bound args) and add each row's
 * first column to s, quoted, after "label " when label is not NULL.  -1
 * with err when the query or a row fails.
 */
int sample_query(struct ctx *, const char *sql, const struct db_arg *args,
    size_t nargs, struct sample *s, const char *label, struct err *err);
void sample_init(struct sample *s);
void sample_release(struct sample *s);
const char *sample_text(struct sample *s);
char *arena_dup(struct arena *a, const char *s);
void arena_release(struct arena *a);
void smap_init(struct smap *m, bool nocase);
void smap_release(struct smap *m);
bool smap_put(struct smap *m, const char *key, size_t val);
bool smap_get(const struct smap *m, const char *key, size_t *val_r);
const char *plural(int64_t n, const char *one, const char *many);
const char *uid_name(uid_t uid, char *buf, size_t size);
const char *next_word(const char *s, char *w, size_t size);
enum { T_GONE, T_DIR, T_LINK, T_OTHER };
/* An entry's type without following it. */
int entry_type(int dirfd, const struct dirent *e);
bool dot_or_dotdot(const char *n);

/* data.c: load the rows deep probes need (D_*) once; -1: db_read said why. */
int need_data(struct ctx *, unsigned what);
void data_init(struct data *d);
void data_release(struct data *d);
const char *col(struct db_res *r, int i);

/* postfix.c: <postfix_sql_dir>/<name>, else its parent's; "" if neither. */
void postfix_file(
    const struct ctx *c, const char *name, char *out, size_t size);

/* The probes, by family (the order they run in is the table, table.c). */
/* config.c */
void probe_mailbox_base(struct ctx *);
void probe_hook(struct ctx *);
void probe_vmail(struct ctx *);
/* database.c */
void probe_db(struct ctx *);
void probe_schema(struct ctx *);
void probe_grants(struct ctx *);
/* dovecot.c */
void probe_dovecot(struct ctx *);
/* lists.c */
void probe_mlmmj_wiring(struct ctx *);
void probe_owner_aliases(struct ctx *);
void probe_mlmmj_spool(struct ctx *);
/* maildirs.c */
void probe_maildirs(struct ctx *);
/* passwords.c */
void probe_passwords(struct ctx *);
void probe_expiry(struct ctx *);
void probe_pfa_passwords(struct ctx *);
/* postfix.c */
void probe_sql_cf(struct ctx *);
void probe_postfix_base(struct ctx *);
void probe_postfix_chroot(struct ctx *);
/* rows.c */
void probe_domain_ext(struct ctx *);
void probe_quota_units(struct ctx *);
void probe_references(struct ctx *);
void probe_quota2(struct ctx *);
void probe_mailbox_rows(struct ctx *);
void probe_self_alias(struct ctx *);
void probe_destinations(struct ctx *);
void probe_alias_domains(struct ctx *);
void probe_limits(struct ctx *);
void probe_identity(struct ctx *);

/* run.c */
void probe_deep_skipped(struct ctx *);

#endif
