/*
 * model: every operation on the PostfixAdmin schema, shared by the CLI and
 * the SCIM daemon.  This is the only layer that writes SQL for the admin
 * schema (lookups for podop live in lookup.c).
 *
 * A struct model is a borrowed database handle plus settings plus the audit
 * actor; it owns nothing and is usually on the caller's stack.  Operations
 * return 0 / -1 (reads returning a thing: 1 found / 0 not found / -1) and
 * fill a struct err; they never print.  Warnings a person should see
 * ("reusing an existing maildir") go through the optional notify callback.
 *
 * Every mutation runs in one write transaction that also writes its audit
 * row into PostfixAdmin's `log` table and bumps postino_change.serial (the
 * signal podop's caches watch); deadlocks, lock timeouts and Galera
 * certification conflicts are retried with the whole transaction
 * (model_tx(), MODEL_TX_ATTEMPTS times with jittered backoff) before
 * ERR_DEADLOCK is returned, so an operation's transaction function must be
 * safe to run again: it undoes what an earlier attempt left outside the
 * database at its start, and hooks run only after the commit.  Filesystem work
 * (maildirs) is tied to the transaction: created before commit and removed if
 * the commit fails; deletions are renames into a `.deleting.*` graveyard inside
 * the transaction, purged only after commit.
 */
#ifndef POSTINO_MODEL_H
#define POSTINO_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "db.h"
#include "err.h"

typedef void model_notify_fn(void *arg, const char *msg);

struct maildir_undo;
struct maildir_pool;

/*
 * Filesystem work tied to a caller's transaction spanning many operations
 * (bulk import): while m->defer is set, operations record the directories
 * they create, stage deletions without purging them, and queue their
 * post-creation hooks, so model_defer_finish() can purge and run hooks after
 * the commit, or undo everything after a rollback.
 */
struct model_defer {
	struct maildir_undo *undo;
	/*
	 * When set (owned by the caller), new maildirs are queued to it
	 * instead of made in line, tagged with tag; the caller collects
	 * them with maildir_pool_wait() into undo before it commits.
	 */
	struct maildir_pool *pool;
	long tag;
	char **graves, **rels; /* staged deletions */
	size_t ngraves;
	char **hooks; /* usernames to run the hook for */
	size_t nhooks;
	/*
	 * Operations audited meanwhile: the change serial is bumped once,
	 * by model_defer_commit().
	 */
	bool changed;
};

struct model {
	struct db *db;
	const struct postino_conf *conf;
	const char *actor;	 /* log.username */
	model_notify_fn *notify; /* may be NULL */
	void *notify_arg;
	struct model_defer *defer; /* NULL normally */
	int has_change;		   /* -1 unknown, 0, 1 */
	int has_domain_ext;	   /* postino_domain */
	int has_pw_expiry;	   /* mailbox.password_expiry */
	unsigned long galera_tx;   /* db tx_seq of the last Galera claim */
};

void model_init(struct model *, struct db *, const struct postino_conf *,
    const char *actor);
void model_notifyf(struct model *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Run fn inside a write transaction, retrying on ERR_DEADLOCK.  fn returns
 * 0 to commit or -1 to roll back.  The audit row and change bump are the
 * operation's job (model_audit()).  When the caller already opened a
 * transaction (db_begin), fn runs inside it and the caller commits or rolls
 * back, so several operations can be applied atomically; operations with
 * filesystem side effects (mailbox add/del/rename, domain del) must not be
 * combined that way.
 */
typedef int model_tx_fn(struct model *, void *arg, struct err *);
int model_tx(struct model *, model_tx_fn *, void *arg, struct err *);

/* Attempts model_tx() makes before it gives up with ERR_DEADLOCK. */
#define MODEL_TX_ATTEMPTS 5
/*
 * The retry policy of model_tx(), for callers that run their own
 * transactions (bulk import): whether a failed transaction may be run
 * again (ERR_DEADLOCK; a connection broken before COMMIT, reopened by
 * db_reconnect(); never a COMMIT of unknown outcome), and the jittered,
 * exponential wait before attempt + 1 (20 ms << (attempt - 1), half to
 * one and a half of it).
 */
bool model_tx_retryable(const struct db *, const struct err *);
void model_tx_backoff(int attempt);

/*
 * Insert the audit row and bump the change serial (inside a transaction;
 * under m->defer the bump waits for model_defer_commit()).
 */
int model_audit(struct model *, const char *domain, const char *action,
    const char *data, struct err *);
/* n audit rows of one action at once (multi-row INSERT), one bump. */
int model_audit_many(struct model *, size_t n, const char *const *domains,
    const char *action, const char *const *data, struct err *);

void model_defer_init(struct model_defer *, const char *base);
/* Record a staged deletion (takes copies). */
void model_defer_grave(
    struct model_defer *, const char *grave, const char *rel);
void model_defer_hook(struct model_defer *, const char *username);
/*
 * Commit the caller's transaction, bumping the change serial once first if
 * anything was audited in it.
 */
int model_defer_commit(struct model *, struct model_defer *, struct err *);
/*
 * After the caller's transaction: committed -> purge staged deletions;
 * not committed -> restore them and remove created directories.  The hook
 * queue is left for the caller (model_defer_release() frees it).
 */
void model_defer_finish(struct model *, struct model_defer *, bool committed);
void model_defer_release(struct model_defer *);

/* "1"/"0" for a boolean column value from any engine. */
bool model_bool(const char *);

#endif
