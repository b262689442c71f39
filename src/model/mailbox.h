/*
 * mailbox: mailboxes (PostfixAdmin's `mailbox` table) with everything that
 * belongs to one: its quota2 row, its self-alias (PostfixAdmin's convention
 * alias(address = goto = username), which keeps catch-alls from swallowing
 * the mailbox's mail), its maildir, the post-creation hook and the audit
 * rows.
 *
 * Identity backends decide who owns the password: "local" (postino writes
 * hashes), "noauth" (every row holds the {NOAUTH} sentinel; an IdP
 * authenticates) and "hybrid" (per row: a hash, or {NOAUTH}).  claim moves
 * a {NOAUTH} row to a local hash; release moves it back.
 */
#ifndef POSTINO_MAILBOX_H
#define POSTINO_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"

struct mailbox_rec {
	char username[ADDR_MAX];
	char name[256];
	char maildir[512];
	int64_t quota_bytes;
	char local_part[ADDR_MAX];
	char domain[ADDR_MAX];
	bool active;
	bool idp_managed; /* password is {NOAUTH} */
	char created[32];
	char modified[32];
	char scheme[32]; /* of the stored password */
};

struct mailbox_spec {
	const char *username;
	const char *name;    /* "" */
	int64_t quota_bytes; /* -1 = the domain's default */
	/*
	 * The password: plain text to hash with scheme, or (prehashed) a
	 * stored value passed through unchanged, or NULL for the {NOAUTH}
	 * sentinel (noauth/hybrid only).
	 */
	const char *password;
	const char *scheme; /* NULL = default_password_scheme */
	bool prehashed;
	bool active;   /* normally true */
	bool run_hook; /* normally true */
	/* An IdP subject to tie to the new mailbox (identity.h), or NULL. */
	const char *idp_issuer;
	const char *idp_subject;
	/* The IdP's given and family names kept with the tie, or NULL. */
	const char *idp_given;
	const char *idp_family;
	/*
	 * Bulk import only (zero for the single commands): created and
	 * modified as exported (NULL: now), the quota2 usage, and the label
	 * a maildir that cannot be made is reported under (an input line).
	 */
	const char *created, *modified;
	int64_t bytes_used, messages;
	long tag;
};

typedef int mailbox_each_fn(void *arg, const struct mailbox_rec *);

/* Add a mailbox; out (may be NULL) receives the row as stored. */
int mailbox_add(struct model *, const struct mailbox_spec *,
    struct mailbox_rec *out, struct err *);
/*
 * Add n mailboxes in the caller's transaction (bulk import: db_begin()
 * done and m->defer set; the caller commits or rolls back, and its
 * model_defer takes the maildirs and queues the hooks).  The rules are
 * mailbox_add()'s, applied by the same code row after row in order, each
 * row seeing the rows before it; the reads and writes are set-wise (a
 * few statements per batch, not per row).  On failure *failed_r is the
 * index of the spec that broke a rule, or n when no one row is to blame,
 * and nothing may be committed.
 */
int mailbox_add_many(struct model *, const struct mailbox_spec *, size_t n,
    size_t *failed_r, struct err *);
/*
 * Run the post-creation hook for an existing mailbox (deferred hooks of a
 * bulk import).  On failure the mailbox rows are removed again (the
 * maildir is kept) and -1 is returned with ERR_HOOK.
 */
int mailbox_run_hook(struct model *, const char *username, struct err *);
/* 1 found / 0 not found (ERR_NOTFOUND) / -1. */
int mailbox_get(
    struct model *, const char *username, struct mailbox_rec *, struct err *);
/* domain may be NULL; stream (DB_STREAM) for very large listings. */
int mailbox_foreach(struct model *, const char *domain, bool include_disabled,
    bool stream, mailbox_each_fn *, void *arg, struct err *);
int mailbox_del(
    struct model *, const char *username, bool keep_maildir, struct err *);
int mailbox_set_active(
    struct model *, const char *username, bool active, struct err *);
int mailbox_set_quota(
    struct model *, const char *username, int64_t quota_bytes, struct err *);
int mailbox_set_name(
    struct model *, const char *username, const char *name, struct err *);
/*
 * Set a password (plain, hashed here with scheme or the default).  A
 * {NOAUTH} row under hybrid needs claim; under noauth this is refused.
 */
int mailbox_set_password(struct model *, const char *username,
    const char *plain, const char *scheme, bool claim, bool *claimed_r,
    struct err *);
/* Store an existing hash (or {NOAUTH}) unchanged (bulk import). */
int mailbox_set_password_hash(
    struct model *, const char *username, const char *hash, struct err *);
/* Hand the row back to the IdP ({NOAUTH}); hybrid only.  *changed_r. */
int mailbox_release(
    struct model *, const char *username, bool *changed_r, struct err *);
/*
 * Rename a mailbox: row, quota2 row, self-alias, aliases pointing at it,
 * vacation rows and the maildir, in one transaction.
 */
int mailbox_rename(struct model *, const char *from, const char *to,
    struct mailbox_rec *out, struct err *);

#endif
