/*
 * schema: create, migrate and inspect the PostfixAdmin schema and postino's
 * own tables, on every engine.
 *
 * schema_init() creates, on an empty database, every table and index that
 * PostfixAdmin 3.3 (config version 1847) creates, with PostfixAdmin's types
 * per engine, then applies postino's migrations.  schema_migrate() brings an
 * existing PostfixAdmin database up to what postino needs: it only ever
 * adds (tables, rows, indexes), never drops or rewrites data, and is
 * idempotent.  Each applied step is reported through the callback so the
 * CLI can print it; the library itself never prints.
 */
#ifndef POSTINO_SCHEMA_H
#define POSTINO_SCHEMA_H

#include <stdbool.h>

#include "db.h"
#include "err.h"

/* postino's schema version: the number of migration steps. */
#define SCHEMA_POSTINO_VERSION 10
/* The PostfixAdmin config version schema_init() creates. */
#define SCHEMA_PFA_VERSION "1847"

typedef void schema_report_fn(void *arg, const char *what, bool changed);

struct schema_status {
	char pfa_version[32]; /* config.version, "" if absent */
	int postino_version;  /* 0 if the version table is absent */
	int missing_pfa;      /* number of core PostfixAdmin tables absent */
	char missing[512];    /* their names, comma separated */
	bool empty;	      /* no PostfixAdmin table at all */
};

/* The core PostfixAdmin tables postino reads or writes. */
extern const char *const schema_core_tables[];

int schema_status(struct db *, struct schema_status *, struct err *);
/*
 * Create the schema on an empty database.  Fails with ERR_EXISTS when any
 * PostfixAdmin table is already there (use schema_migrate then).
 */
int schema_init(struct db *, schema_report_fn *, void *arg, struct err *);
/*
 * Add what postino needs to an existing PostfixAdmin schema.  Fails with
 * ERR_DATABASE (and a hint) when core tables are missing.
 */
int schema_migrate(struct db *, schema_report_fn *, void *arg, struct err *);

/*
 * Data that databases written by Python postino carry, repaired by
 * "schema migrate": domain.maxquota / domain.quota stored in bytes instead
 * of PostfixAdmin's megabytes (a value of SCHEMA_BYTE_QUOTA_MIN or more),
 * and mailboxes without their self-alias row.  fn is told each repair
 * (what: "quota" or "self-alias"); with dry_run nothing is written.
 */
#define SCHEMA_BYTE_QUOTA_MIN 1048576 /* MB: a terabyte and more */
typedef void schema_repair_fn(
    void *arg, const char *what, const char *key, const char *detail);
int schema_repair(
    struct db *, bool dry_run, schema_repair_fn *, void *arg, struct err *);

#endif
