/*
 * transfer: bulk export and import of domains, alias domains, mailboxes
 * (with their password hashes and quota usage) and aliases.
 *
 * Format "postino-export" version 1, one record per line:
 *   jsonl: a header {"type":"postino-export","version":1,...} then one JSON
 *          object per record with a "type" of domain, alias_domain, mailbox
 *          or alias and the fields listed in postino(8);
 *   csv:   a header row naming the columns (type first) then one row per
 *          record; unused cells are empty.
 * Export streams rows straight from the database in constant memory.
 *
 * Import validates the whole input first (syntax, addresses, references)
 * and reports the first problem as "NAME:LINE: ..." without touching
 * anything.  It then applies records by type (domains, alias domains,
 * mailboxes, aliases) in batched transactions through the same model
 * operations as the single commands (rules, maildirs, audit rows), with
 * maildirs tied to each batch and hooks run after each commit; the new
 * records of a batch go set-wise through domain_add_many(),
 * alias_domain_add_many(), mailbox_add_many() or alias_add_many() (the
 * single add's rules, row by row, on set-wise reads; multi-row writes),
 * the existing ones one by one (unchanged, or updated).  It creates
 * what is missing; with update it changes what differs; with prune it
 * removes, within the domains the input names, what the input lacks.  A
 * failure leaves earlier batches committed and nothing of the failing one.
 */
#ifndef POSTINO_TRANSFER_H
#define POSTINO_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#define TRANSFER_VERSION 1
#define TRANSFER_LINE_MAX (64 * 1024)

enum transfer_format { TRANSFER_JSONL = 0, TRANSFER_CSV };

/* Write one output line (without newline); return 0 or -1. */
typedef int transfer_write_fn(void *arg, const char *line, size_t len);
typedef void transfer_progress_fn(
    void *arg, const char *phase, int64_t done, int64_t total);
/* One planned or applied change: verb is create, update or prune. */
typedef void transfer_plan_fn(void *arg, const char *verb, const char *type,
    const char *key, const char *detail);

int transfer_format_parse(const char *, enum transfer_format *);

int transfer_export(struct model *, const char *domain, enum transfer_format,
    transfer_write_fn *, void *arg, struct err *);

struct transfer_opts {
	enum transfer_format format;
	bool dry_run;
	bool update;
	bool prune;
	bool run_hooks;
	int batch;   /* records per transaction */
	int threads; /* hashing plain passwords, making maildirs */
	transfer_progress_fn *progress;
	transfer_plan_fn *plan;
	void *arg;
};

struct transfer_stats {
	int64_t records;
	int64_t created;
	int64_t updated;
	int64_t pruned;
	int64_t unchanged;
	int64_t hooks_failed;
};

/* Import from in (read twice: seekable, or copied to a temporary file). */
int transfer_import(struct model *, FILE *in, const char *name,
    const struct transfer_opts *, struct transfer_stats *, struct err *);

#endif
