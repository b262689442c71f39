/*
 * report: read-only summaries of the mail database (status, quota usage).
 */
#ifndef POSTINO_REPORT_H
#define POSTINO_REPORT_H

#include <stdint.h>

#include "addr.h"
#include "model.h"

struct status_counts {
	int64_t domains;
	int64_t mailboxes;
	int64_t aliases; /* all alias rows, self-aliases included */
	int64_t alias_domains;
	int64_t quota2;
	int64_t lists;
};

struct quota_usage {
	char username[ADDR_MAX];
	int64_t bytes;
	int64_t messages;
	int64_t quota_bytes; /* the mailbox's limit, 0 = unlimited */
	int percent;	     /* of the limit, -1 when unlimited */
};

typedef int quota_each_fn(void *arg, const struct quota_usage *);

int report_status(struct model *, struct status_counts *, struct err *);
/*
 * Usage per mailbox from quota2 (0 when a mailbox has no row yet).
 * username and domain may be NULL.  A named username that does not exist
 * is ERR_NOTFOUND.
 */
int report_quota(struct model *, const char *username, const char *domain,
    quota_each_fn *, void *arg, struct err *);

#endif
