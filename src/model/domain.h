/*
 * domain: mail domains and alias domains (PostfixAdmin's `domain` and
 * `alias_domain` tables).
 *
 * Limits follow PostfixAdmin: for aliases and mailboxes 0 means unlimited
 * and -1 disabled; domain.maxquota (the largest quota one mailbox may have)
 * and domain.quota (the domain's total) are stored in PostfixAdmin's
 * "MB" units of quota_multiplier bytes (1024000 by default), and shown
 * here in bytes.  The default quota for new mailboxes, which PostfixAdmin
 * has no column for, lives in postino's postino_domain table.
 *
 * Records are plain values filled by the model; nothing in them is owned.
 * The PostfixAdmin "ALL" pseudo-domain is never returned and cannot be
 * created.
 */
#ifndef POSTINO_DOMAIN_H
#define POSTINO_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"

#define PFA_QUOTA_MULTIPLIER 1024000

struct domain_rec {
	char domain[ADDR_MAX];
	char description[256];
	char transport[256];	     /* as stored */
	int64_t aliases;	     /* max aliases: 0 unlimited, -1 none */
	int64_t mailboxes;	     /* max mailboxes */
	int64_t maxquota_bytes;	     /* per mailbox; 0 unlimited */
	int64_t quota_bytes;	     /* domain total; 0 unlimited */
	int64_t default_quota_bytes; /* for new mailboxes */
	bool backupmx;
	bool active;
	/* domain_lock_many() only: PostfixAdmin's password_expiry days. */
	int64_t password_expiry_days;
	char created[32];
	char modified[32];
};

/* What "domain add" accepts; strings may be NULL for the default. */
struct domain_spec {
	const char *domain;
	const char *description;     /* "" */
	const char *transport;	     /* virtual | lmtp | relay | raw value */
	int64_t aliases;	     /* 0 */
	int64_t mailboxes;	     /* 0 */
	int64_t maxquota_bytes;	     /* 0 */
	int64_t quota_bytes;	     /* 0 */
	int64_t default_quota_bytes; /* 0 */
	bool backupmx;
	/*
	 * Bulk import only (false and NULL for domain add): created disabled
	 * (audited as add then disable), created and modified as exported.
	 */
	bool disabled;
	const char *created, *modified;
};

struct alias_domain_rec {
	char alias_domain[ADDR_MAX];
	char target_domain[ADDR_MAX];
	bool active;
	char created[32];
	char modified[32];
};

typedef int domain_each_fn(void *arg, const struct domain_rec *);
typedef int alias_domain_each_fn(void *arg, const struct alias_domain_rec *);

/* The transport kind shown to people: "virtual", "lmtp", "relay" or raw. */
const char *domain_transport_kind(const char *stored);

int domain_add(struct model *, const struct domain_spec *,
    struct domain_rec *out, struct err *);
/*
 * Add n domains in the caller's transaction (domain_add() is one of them
 * in its own): domain add's rules row by row in order, each row seeing
 * the rows before it; reads and writes set-wise.  On failure *failed_r is
 * the index of the spec that broke a rule, or n when no one row is to
 * blame, and nothing may be committed.
 */
int domain_add_many(struct model *, const struct domain_spec *, size_t n,
    size_t *failed_r, struct err *);
/* Replace every setting of an existing domain (bulk import --update). */
int domain_update(struct model *, const struct domain_spec *, bool active,
    struct domain_rec *out, struct err *);
/* 1 found, 0 not found (err set, ERR_NOTFOUND), -1 error. */
int domain_get(
    struct model *, const char *name, struct domain_rec *, struct err *);
/*
 * Lock the n domains names[0..n) for capacity checks (domain_lock() of
 * many, in name order, DOMAIN_LOCK_CHUNK a statement): found[i] is 1 and
 * recs[i] the row when names[i] exists, else 0.  0 / -1.
 */
#define DOMAIN_LOCK_CHUNK 1000
/* domain_lock()'s refusal of a domain that does not exist: -1. */
int domain_missing(const char *name, struct err *);
int domain_lock_many(struct model *, const char *const *names, size_t n,
    struct domain_rec *recs, int *found, struct err *);
/* Calls fn for each domain (ordered by name); fn returning -1 stops. */
int domain_foreach(struct model *, domain_each_fn *, void *arg, struct err *);
int domain_set_active(
    struct model *, const char *name, bool active, struct err *);
/*
 * Delete a domain.  Without force, refuse (ERR_CAPACITY) while it has
 * mailboxes, aliases, alias domains (either side) or admins.  With force,
 * remove all of them.  Unless keep_maildir, <base>/<domain> is staged in
 * the transaction and purged after commit.
 */
int domain_del(struct model *, const char *name, bool force, bool keep_maildir,
    struct err *);

int alias_domain_add(struct model *, const char *alias, const char *target,
    struct alias_domain_rec *out, struct err *);
/* A new alias domain for alias_domain_add_many(). */
struct alias_domain_spec {
	const char *alias;
	const char *target;
	/* Bulk import only (as in struct domain_spec). */
	bool disabled;
	const char *created, *modified;
};
/*
 * Add n alias domains in the caller's transaction (alias_domain_add() is
 * one of them in its own), as domain_add_many() does domains.
 */
int alias_domain_add_many(struct model *, const struct alias_domain_spec *,
    size_t n, size_t *failed_r, struct err *);
int alias_domain_get(
    struct model *, const char *alias, struct alias_domain_rec *, struct err *);
/* target may be NULL (all); include_disabled selects inactive rows too. */
int alias_domain_foreach(struct model *, const char *target,
    bool include_disabled, alias_domain_each_fn *, void *arg, struct err *);
int alias_domain_retarget(struct model *, const char *alias, const char *target,
    struct alias_domain_rec *out, struct err *);
int alias_domain_set_active(
    struct model *, const char *alias, bool active, struct err *);
int alias_domain_del(struct model *, const char *alias, struct err *);

/* Convert between bytes and PostfixAdmin's MB units (rounding up). */
int64_t domain_units_from_bytes(const struct model *, int64_t bytes);
int64_t domain_units_to_bytes(const struct model *, int64_t units);

#endif
