/*
 * maildir: symlink-safe filesystem work under the mail root.
 *
 * Every path below virtual_mailbox_base is walked one component at a time
 * with openat(O_NOFOLLOW | O_DIRECTORY); nothing is ever resolved through a
 * string prefix check, so a symlink planted anywhere below the root makes
 * the operation fail (ERR_FILESYSTEM) instead of escaping the root.  The
 * root itself may be a symlink: it is the administrator's choice.
 *
 * Creation records what it made in a struct maildir_undo, so a failed
 * transaction can take exactly that back (never a directory that existed
 * before, never a directory that has since received files).  Deletion is
 * two-phase: maildir_stage() renames the directory to a ".deleting.*"
 * sibling (reversible with maildir_unstage()), and maildir_purge() removes
 * the staged tree after the database commit, without following symlinks.
 *
 * Relative paths ("example.org/alice/") come from the database; each
 * component is validated (no "", ".", "..", no leading ".deleting").
 */
#ifndef POSTINO_MAILDIR_H
#define POSTINO_MAILDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/*
 * Programs call this once at start-up, before any thread exists: when the
 * umask leaves 0700 alone, new directories need no chmod.
 */
void maildir_note_umask(void);

struct maildir_undo {
	char *base;
	char **made; /* relative paths we created, in order */
	size_t nmade;
};

void maildir_undo_init(struct maildir_undo *, const char *base);
/* Remove what was created (deepest first; only empty directories). */
void maildir_undo_run(struct maildir_undo *);
void maildir_undo_release(struct maildir_undo *);

/*
 * Create <base>/<rel>/ and its Maildir++ skeleton (cur, new, tmp), every
 * directory we create mode 0700 and owned by uid:gid (when both >= 0).
 * *existed_r tells whether the maildir itself was already there.
 */
int maildir_create(const char *base, const char *rel, int64_t uid, int64_t gid,
    bool *existed_r, struct maildir_undo *, struct err *);
/* Whether <base>/<rel> exists as a directory: 1, 0, or -1 on error. */
int maildir_exists(const char *base, const char *rel, struct err *);

/*
 * Stage <base>/<rel> for deletion: rename it to a ".deleting.<name>.<pid>.
 * <random>" sibling.  *grave_r (caller frees) is the staged relative path,
 * or NULL when there was nothing to stage (absent directory: not an error).
 */
int maildir_stage(
    const char *base, const char *rel, char **grave_r, struct err *);
/* Undo maildir_stage(): rename the grave back to rel. */
int maildir_unstage(
    const char *base, const char *grave, const char *rel, struct err *);
/* Remove a staged tree; then prune its parent if it became empty. */
int maildir_purge(const char *base, const char *grave, struct err *);

/*
 * Move <base>/<from> to <base>/<to> (user rename).  The target must not
 * exist; missing parents of the target are created (and recorded in undo).
 */
int maildir_move(const char *base, const char *from, const char *to,
    int64_t uid, int64_t gid, struct maildir_undo *, struct err *);

/*
 * A pool of threads that create maildirs for a bulk import, so that the
 * mkdirs, kernel time and most of an import's, run beside its SQL on the
 * other cores.  While its transaction runs, the caller queues creations with
 * maildir_pool_add() (tag: the caller's label for errors, e.g. a line
 * number); before committing or rolling back it calls maildir_pool_wait():
 * every queued creation has then finished, what the pool made has moved
 * into the caller's undo, and the first failure in queue order is returned
 * with its tag.  After a failure the rest of the round is skipped.  One
 * caller thread per pool; maildir_pool_free() waits for queued work.
 */
struct maildir_pool;

struct maildir_pool *maildir_pool_new(
    const char *base, int64_t uid, int64_t gid, int threads);
void maildir_pool_add(struct maildir_pool *, const char *rel, long tag);
int maildir_pool_wait(
    struct maildir_pool *, struct maildir_undo *, long *tag_r, struct err *);
void maildir_pool_free(struct maildir_pool *);

/* Validate a relative maildir path from the database. */
int maildir_rel_valid(const char *rel, struct err *);

#endif
