/*
 * reconcile: the people of an identity provider, in one shape whatever
 * the source, for "postino reconcile" (cmd_reconcile.c compares them with
 * the mailboxes and applies the changes; the sources only read).
 *
 * A source fills a struct people: one struct person for each person it
 * lists, the issuer their subjects are stored under in postino_identity
 * (identity.h), and what the source's own receiver (the SCIM API, the
 * Zitadel webhook) does besides the mailbox, so that --apply does no more
 * and no less than that receiver would have done.
 */
#ifndef POSTINO_RECONCILE_H
#define POSTINO_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "identity.h"

struct person {
	char *address; /* the mailbox the person should have, as given */
	char *subject; /* the IdP's id for the person; NULL = none */
	char *name;    /* the mailbox name it should carry; "" = any */
	char *given;   /* kept with the identity row (keep_names) */
	char *family;
	char **alt; /* other addresses that may name its mailbox */
	size_t nalt;
	bool active;
	size_t index; /* where it came from, for messages */
};

struct people {
	struct person *v;
	size_t n, cap;
	char issuer[IDENTITY_ISSUER_MAX];
	const char *subject_key; /* the JSON key of a subject in findings */
	bool keep_names; /* store given/family names with the identity */
	bool link;	 /* a matched mailbox must be tied to the subject */
	/*
	 * Every mailbox tied to a subject of the issuer must be listed: the
	 * listing is the whole population, not a sample of its domains.
	 */
	bool whole_issuer;
	size_t skipped;	 /* machine users, unknown states, no address */
	char source[64]; /* "scim-json", "zitadel https://..." */
};

/* A new person (strings copied; alt added with people_alt). */
struct person *people_add(struct people *, const char *address,
    const char *subject, const char *name, bool active);
void people_alt(struct person *, const char *address);
void people_release(struct people *);

/*
 * Read every human user of the Zitadel instance of c's [zitadel] table
 * through the user service v2 (POST /v2/users, else /v2beta/users), page
 * by page.  All pages or nothing: -1 with err, nothing kept.
 */
int reconcile_zitadel(struct cli *, struct people *, struct err *);

#endif
