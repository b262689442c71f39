/*
 * identity: who a mailbox is at an identity provider (postino_identity).
 *
 * A row ties a subject of an issuer to a mailbox username.  The issuer
 * names where the subject comes from: "zitadel:<instanceID>" for the
 * Zitadel user id (the event's aggregateID), "scim" for the SCIM
 * externalId the provisioning client set.  An issuer holds one subject per
 * mailbox and a subject names one mailbox (both unique), so an event that
 * carries only the subject finds its mailbox, and a mailbox is never
 * claimed by two people of one IdP.
 *
 * The rows follow their mailbox: written in the transaction that creates
 * it (mailbox_spec.idp_*), renamed with it, deleted with it.  Subjects are
 * kept byte for byte (caseExact, as RFC 7643 says of externalId).  Nothing
 * here audits or bumps the change serial: the table is not read by
 * Postfix or Dovecot.
 */
#ifndef POSTINO_IDENTITY_H
#define POSTINO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "model.h"

#define IDENTITY_ISSUER_MAX 128
#define IDENTITY_SUBJECT_MAX 256
#define IDENTITY_SCIM "scim"
/* The issuer of Zitadel user ids: this, then the instance id. */
#define IDENTITY_ZITADEL_PREFIX "zitadel:"

struct identity_rec {
	char issuer[IDENTITY_ISSUER_MAX];
	char subject[IDENTITY_SUBJECT_MAX];
	char username[ADDR_MAX];
	char created[32];
};

typedef int identity_each_fn(void *arg, const struct identity_rec *);

/* 0 when issuer and subject are non-empty, short, without control bytes. */
int identity_valid(const char *issuer, const char *subject, struct err *);
/*
 * Tie subject to username.  Already tied to it: 0.  The subject names
 * another mailbox, or the mailbox has another subject of this issuer: -1
 * with ERR_EXISTS.  Runs in the caller's transaction when one is open.
 */
int identity_link(struct model *, const char *issuer, const char *subject,
    const char *username, struct err *);
/* The mailbox of a subject: 1 found (username filled), 0 none, -1 error. */
int identity_find(struct model *, const char *issuer, const char *subject,
    char *username, size_t size, struct err *);
/* The subject of a mailbox for issuer: 1 found, 0 none, -1 error. */
int identity_subject(struct model *, const char *issuer, const char *username,
    char *subject, size_t size, struct err *);
/* Replace (subject NULL or "": remove) the mailbox's subject of issuer. */
int identity_set(struct model *, const char *issuer, const char *username,
    const char *subject, struct err *);
/*
 * The given and family name the IdP last sent for a subject (so that a
 * change of one keeps the other): 1 found (NULL columns as ""), 0 no row.
 * identity_set_names stores them (NULL: keep that one).
 */
int identity_names(struct model *, const char *issuer, const char *subject,
    char *given, char *family, size_t size, struct err *);
int identity_set_names(struct model *, const char *issuer, const char *subject,
    const char *given, const char *family, struct err *);
/* Every row of one mailbox (username NULL: every row), by issuer. */
int identity_foreach(struct model *, const char *username, identity_each_fn *,
    void *arg, struct err *);
/* Hooks for the mailbox's own transaction. */
int identity_rename(
    struct model *, const char *from, const char *to, struct err *);
int identity_drop(struct model *, const char *username, struct err *);

/*
 * The rows one identity "issuer subject" list (the export's "identities"
 * field: entries separated by spaces, '%', space and control bytes as
 * %XX) encodes.  identity_encode appends one entry to out (size bytes);
 * identity_decode_next reads the next entry from *p: 1, 0 at the end, -1
 * malformed.
 */
int identity_encode(
    char *out, size_t size, const char *issuer, const char *subject);
int identity_decode_next(
    const char **p, char *issuer, size_t isize, char *subject, size_t ssize);

/* What "check" reports: rows without a mailbox, mailboxes claimed twice. */
struct identity_problems {
	size_t dangling;
	size_t doubled;
	char dangling_sample[512];
	char doubled_sample[512];
};
int identity_problems(struct db *, struct identity_problems *, struct err *);

#endif
