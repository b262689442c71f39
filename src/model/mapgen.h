/*
 * mapgen: the mail-server configuration that agrees with postino, for
 * "postino init" (the Postfix SQL maps, mapgen_maps/mapgen_render) and
 * "postino config gen" (everything, mapgen_generate/mapgen_write).
 *
 * What is generated follows from postino's own settings, so the servers
 * and postino cannot disagree: Dovecot's home for a mailbox is
 * <virtual_mailbox_base>/<maildir>, the maildir postino creates (no extra
 * Maildir/ level); recipient_delimiter is postino's; the database is the
 * one postino uses, port or socket included; only standard Postfix
 * parameter names are set.  The canonical queries and lookup order are
 * PostfixAdmin's (see protocols.md 8).
 *
 * Two ways to answer Postfix's and Dovecot's lookups:
 *   MAPGEN_SQL    Postfix asks the database through sql-*.cf maps; Dovecot
 *                 through its SQL passdb/userdb.  The mailing-list routes
 *                 need a regular-expression operator (MySQL REGEXP,
 *                 PostgreSQL ~); SQLite has none, so there Postfix asks
 *                 podop's postfixadmin "routes" table over socketmap and
 *                 a podop configuration is generated for it.
 *   MAPGEN_PODOP  Postfix asks podop over socketmap, Dovecot 2.3 over
 *                 podop's dict (Dovecot 2.4 has no dict passdb: SQL).
 * Either way mail is delivered to Dovecot over LMTP (virtual(8) refuses
 * socketmap tables), and the routes map is also in virtual_mailbox_maps, so
 * that Postfix accepts list addresses (list@ and list+keyword@) at RCPT.
 *
 * Generation is pure: files are rendered into memory (struct mapgen_set,
 * which owns them).  mapgen_write() then installs them atomically: into a
 * staging directory beside the output directory, which is renamed into
 * place; replacing an existing output (in_place) keeps the old one as
 * <out>.bak.  Files holding a password are mode 0640.
 */
#ifndef POSTINO_MAPGEN_H
#define POSTINO_MAPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "conf.h"
#include "db.h"

struct mapgen_map {
	const char *file;  /* "sql-virtual_mailbox_maps.cf" */
	const char *param; /* the main.cf parameter it feeds */
	const char *comment;
	const char *artefact; /* its config gen name: "sql_mailbox" */
};

/* The maps "postino init" writes, NULL-file terminated, in lookup order. */
extern const struct mapgen_map mapgen_maps[];

/* Render one map file for the engine and connection into out. */
int mapgen_render(const struct mapgen_map *, const struct db_params *,
    struct buf *out, struct err *);

enum mapgen_lookups {
	MAPGEN_SQL = 0,
	MAPGEN_PODOP,
};

enum mapgen_dovecot {
	MAPGEN_DOVECOT_23 = 0,
	MAPGEN_DOVECOT_24,
};

struct mapgen_opts {
	const struct postino_conf *conf;
	const struct db_params *db;
	enum identity_backend identity;
	enum mapgen_lookups lookups;
	enum mapgen_dovecot dovecot;
	const char *postfix_dir;       /* where the Postfix files go */
	const char *dovecot_dir;       /* where the Dovecot files go */
	const char *queue_dir;	       /* Postfix's queue_directory */
	const char *podop_socket;      /* unix:/path or inet:h:p */
	const char *podop_dict_socket; /* unix:/path */
	const char *mlmmj_user;	       /* master.cf pipe user= */
	const char *mlmmj_bindir;      /* the mlmmj programs' dir */
	long long weak_hashes;	       /* mailboxes 2.4 refuses (MD5-CRYPT) */
};

struct mapgen_file {
	const char *artefact; /* its --only/--skip name */
	char *path;	      /* "postfix/main.cf" */
	char *installed;      /* where it goes, or NULL */
	mode_t mode;
	struct buf data;
};

struct mapgen_set {
	struct mapgen_file *v;
	size_t n;
	bool partial; /* --only/--skip */
};

/*
 * The artefact names --only and --skip take, with what they are; groups
 * ("postfix", "dovecot", "podop") name several.  NULL-name terminated.
 */
struct mapgen_artefact {
	const char *name;
	const char *what;
};
extern const struct mapgen_artefact mapgen_artefacts[];

/*
 * Render every artefact that applies to opts, restricted by only and skip
 * (comma-separated names, may be NULL).  An unknown name, or an --only
 * name that does not apply to these options, is ERR_INVALID.  The set is
 * released with mapgen_set_release().
 */
int mapgen_generate(const struct mapgen_opts *, const char *only,
    const char *skip, struct mapgen_set *, struct err *);
void mapgen_set_release(struct mapgen_set *);

/*
 * Install set under outdir (created if missing).  An existing non-empty
 * outdir is ERR_EXISTS unless in_place; then it is renamed to
 * "<outdir>.bak" (replacing an older backup) and, when set->partial, the
 * files the set does not regenerate are carried over.  A directory that
 * holds anything config gen does not write is never replaced.
 * *backup_r (may be NULL; caller frees) gets the backup's path or NULL.
 */
int mapgen_write(const char *outdir, const struct mapgen_set *, bool in_place,
    char **backup_r, struct err *);

#endif
