/*
 * alias: forwarding addresses (PostfixAdmin's `alias` table), including
 * catch-alls ("@example.org") and the self-alias rows PostfixAdmin keeps
 * for every mailbox.  A goto is a comma-separated destination list;
 * PostfixAdmin's vacation entries (user#domain@vacation_domain) in it are
 * preserved when the list is edited.
 */
#ifndef POSTINO_ALIAS_H
#define POSTINO_ALIAS_H

#include <stdbool.h>

#include "addr.h"
#include "model.h"

#define GOTO_MAX 8192

struct alias_rec {
	char address[ADDR_MAX];
	char *goto_list; /* owned by the record's producer */
	char domain[ADDR_MAX];
	bool active;
	bool mailbox; /* the self-alias of a mailbox */
	char created[32];
	char modified[32];
};

typedef int alias_each_fn(void *arg, const struct alias_rec *);

/* A new alias for alias_add_many(). */
struct alias_spec {
	const char *address;
	const char *gotos;
	/* Bulk import only (true and NULL for alias add): created disabled
	 * (audited as add then disable), created and modified as exported. */
	bool active;
	const char *created, *modified;
};

/*
 * Add n aliases in the caller's transaction (alias_add() is one of them
 * in its own).  The rules are alias add's, applied row by row in order,
 * each row seeing the rows before it (a mailbox's self-alias gets the
 * forwards, a mailbox without one gets its row, the domain's alias limit);
 * the reads and writes are set-wise.  On failure *failed_r is the index
 * of the spec that broke a rule, or n when no one row is to blame, and
 * nothing may be committed.
 */
int alias_add_many(struct model *, const struct alias_spec *, size_t n,
    size_t *failed_r, struct err *);
/* out->goto_list is allocated; release with alias_rec_release(). */
int alias_add(struct model *, const char *address, const char *gotos,
    struct alias_rec *out, struct err *);
int alias_get(
    struct model *, const char *address, struct alias_rec *, struct err *);
void alias_rec_release(struct alias_rec *);
/* Replace the destinations (vacation entries are kept). */
int alias_edit(struct model *, const char *address, const char *gotos,
    struct alias_rec *out, struct err *);
/* domain may be NULL; mailboxes: include mailbox self-aliases. */
int alias_foreach(struct model *, const char *domain, bool mailboxes,
    bool stream, alias_each_fn *, void *arg, struct err *);
int alias_set_active(
    struct model *, const char *address, bool active, struct err *);
int alias_del(struct model *, const char *address, struct err *);

#endif
