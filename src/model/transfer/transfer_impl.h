/*
 * The inside of "postino export" and "postino import" (transfer.h is
 * their contract): the record types and their fields, the record read
 * from a line, a small string set, and what the files share.  record.c
 * holds the field tables and the string set; export.c writes; read.c
 * reads a CSV or JSON Lines record; validate.c checks the whole input
 * first (pass 1); apply.c creates, updates and prunes, a batch per
 * transaction; import.c runs the passes.
 */
#ifndef POSTINO_TRANSFER_IMPL_H
#define POSTINO_TRANSFER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "transfer.h"

enum rtype { R_DOMAIN, R_ALIAS_DOMAIN, R_MAILBOX, R_ALIAS, R__COUNT };

/* Every field of every record type; CSV columns are these, in order. */
enum field {
	F_TYPE,
	F_DOMAIN,
	F_DESCRIPTION,
	F_MAX_ALIASES,
	F_MAX_MAILBOXES,
	F_MAX_QUOTA,
	F_DEFAULT_QUOTA,
	F_DOMAIN_QUOTA,
	F_TRANSPORT,
	F_BACKUPMX,
	F_ALIAS_DOMAIN,
	F_TARGET_DOMAIN,
	F_USERNAME,
	F_NAME,
	F_PASSWORD,
	F_PLAIN_PASSWORD,
	F_QUOTA,
	F_BYTES_USED,
	F_MESSAGES,
	F_ADDRESS,
	F_GOTO,
	F_ACTIVE,
	F_CREATED,
	F_MODIFIED,
	F_IDENTITIES,
	F__COUNT
};

/* A field's bit in type_fields[]. */
#define B(f) (1u << (f))

struct rec {
	enum rtype type;
	int line;
	char *f[F__COUNT];
	char key[ADDR_MAX];	      /* normalised primary key */
	char hash[PASSWORD_HASH_MAX]; /* from plain_password */
};

struct strset {
	char **slot;
	size_t cap;
	size_t n;
};

struct reader {
	FILE *f;
	const char *name;
	enum transfer_format fmt;
	int line;
	int cols[F__COUNT + 8]; /* CSV column -> field */
	int ncols;
	char *buf;
	size_t cap;
};

/* Domains known to exist: in the input or in the database (memoised). */
struct known {
	struct strset in_file;
	struct strset in_db;
	struct strset not_in_db;
	bool loaded; /* in_db holds every domain of the database */
};

struct importer {
	struct model *m;
	const struct transfer_opts *o;
	struct transfer_stats *st;
	const char *name;
	struct strset keys[R__COUNT]; /* for prune */
	struct strset domains;	      /* named domains */
	struct maildir_pool *pool;    /* makes the maildirs */
};

extern const char *const rtype_names[R__COUNT];
extern const char *const field_names[F__COUNT];
/* Which fields each type accepts (bit per field). */
extern const unsigned type_fields[R__COUNT];

/* record.c */
void rec_clear(struct rec *r);
bool strset_has(const struct strset *s, const char *k);
void strset_add(struct strset *s, const char *k);
void strset_free(struct strset *s);

/* read.c: the header (0 or -1); the next record (1, 0 at EOF, -1). */
int read_header(struct reader *rd, struct err *err);
int read_rec(struct reader *rd, struct rec *r, struct err *err);

/* validate.c: one record of pass 1; fills r->key. */
int validate(struct model *m, struct rec *r, const char *name, struct known *k,
    struct err *err);

/* apply.c: one batch of one record type, in one transaction; prune. */
int run_batch(struct importer *im, struct rec *recs, size_t n, struct err *err);
int prune(struct importer *im, struct err *err);

#endif
