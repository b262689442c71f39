/*
 * transfer: the record types' field tables, a record's release, and a
 * small string set (keys seen, domains known).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

const char *const rtype_names[R__COUNT] = { "domain", "alias_domain", "mailbox",
	"alias" };

const char *const field_names[F__COUNT] = { "type", "domain", "description",
	"max_aliases", "max_mailboxes", "max_quota_bytes",
	"default_quota_bytes", "domain_quota_bytes", "transport", "backupmx",
	"alias_domain", "target_domain", "username", "name", "password",
	"plain_password", "quota_bytes", "bytes_used", "messages", "address",
	"goto", "active", "created", "modified", "identities" };

/* Which fields each type accepts (bit per field). */
const unsigned type_fields[R__COUNT] = {
	[R_DOMAIN] = B(F_TYPE) | B(F_DOMAIN) | B(F_DESCRIPTION) |
	    B(F_MAX_ALIASES) | B(F_MAX_MAILBOXES) | B(F_MAX_QUOTA) |
	    B(F_DEFAULT_QUOTA) | B(F_DOMAIN_QUOTA) | B(F_TRANSPORT) |
	    B(F_BACKUPMX) | B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED),
	[R_ALIAS_DOMAIN] = B(F_TYPE) | B(F_ALIAS_DOMAIN) | B(F_TARGET_DOMAIN) |
	    B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED),
	[R_MAILBOX] = B(F_TYPE) | B(F_USERNAME) | B(F_NAME) | B(F_PASSWORD) |
	    B(F_PLAIN_PASSWORD) | B(F_QUOTA) | B(F_BYTES_USED) | B(F_MESSAGES) |
	    B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED) | B(F_IDENTITIES),
	[R_ALIAS] = B(F_TYPE) | B(F_ADDRESS) | B(F_GOTO) | B(F_ACTIVE) |
	    B(F_CREATED) | B(F_MODIFIED),
};

void
rec_clear(struct rec *r)
{
	for (int i = 0; i < F__COUNT; i++) {
		if (i == F_PLAIN_PASSWORD || i == F_PASSWORD)
			str_wipe(r->f[i]);
		free(r->f[i]);
	}
	explicit_bzero(r->hash, sizeof(r->hash));
	memset(r, 0, sizeof(*r));
}

/* --- a small string set --------------------------------------------- */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

bool
strset_has(const struct strset *s, const char *k)
{
	if (s->cap == 0)
		return false;
	for (size_t i = hash_str(k) & (s->cap - 1);;
	     i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i] == NULL)
			return false;
		if (strcmp(s->slot[i], k) == 0)
			return true;
	}
}

void
strset_add(struct strset *s, const char *k)
{
	if (strset_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct strset big = { NULL, s->cap ? s->cap * 2 : 64, 0 };

		big.slot = xcalloc(big.cap, sizeof(*big.slot));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i] != NULL) {
				size_t j = hash_str(s->slot[i]) & (big.cap - 1);

				while (big.slot[j] != NULL)
					j = (j + 1) & (big.cap - 1);
				big.slot[j] = s->slot[i];
				big.n++;
			}
		free(s->slot);
		*s = big;
	}
	{
		size_t i = hash_str(k) & (s->cap - 1);

		while (s->slot[i] != NULL)
			i = (i + 1) & (s->cap - 1);
		s->slot[i] = xstrdup(k);
		s->n++;
	}
}

void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

int
transfer_format_parse(const char *s, enum transfer_format *f)
{
	if (s == NULL || strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0)
		*f = TRANSFER_JSONL;
	else if (strcmp(s, "csv") == 0)
		*f = TRANSFER_CSV;
	else
		return -1;
	return 0;
}
