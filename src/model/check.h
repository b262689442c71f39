/*
 * check: the read-only consistency validator behind "postino check".  It
 * reconciles the settings, the database (reachability, schema, grants,
 * rows), the Postfix map files, the Dovecot passdb chain, the mail root and
 * the mlmmj spool, and reports what it finds as a list of findings.
 *
 * Every probe is an entry in a static table in check/run.c, run in order; a
 * probe states what it needs (a database, the schema, the loaded rows) and
 * whether it belongs to the deep pass, and the runner skips it when a
 * prerequisite is missing, which an earlier finding has already reported.
 * An unreachable database or a missing schema are findings, never a
 * failure of check_run() itself.
 *
 * Each probe reports under a stable name: "info" when it passed (the
 * message says what was looked at), "warn" for something an administrator
 * should look at, "error" for something that loses mail, breaks logins or
 * weakens security.  A few names carry the object they are about
 * ("postfix_sql_cf:sql-virtual_alias_maps.cf", "db_grants:mailbox").
 * Messages are git-style and say what to do; they never contain a secret.
 *
 * The deep pass reads each table once (mailbox, alias, domain, alias
 * domains, quota2, routes) into hash sets and walks the mail root once
 * with openat(O_NOFOLLOW), so its cost grows linearly with the number of
 * mailboxes.  Symlinks are reported, never followed.
 *
 * The report owns its strings; check_report_release() frees them.  The
 * library never prints: progress of the long phases goes through the
 * optional callback.
 */
#ifndef POSTINO_CHECK_H
#define POSTINO_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum check_severity {
	CHECK_INFO = 0,
	CHECK_WARN,
	CHECK_ERROR,
};

struct check_finding {
	char *name;
	enum check_severity severity;
	char *message;
};

struct check_report {
	struct check_finding *v;
	size_t n;
	size_t cap;
};

/*
 * Progress of a long phase ("mailboxes", "aliases", "maildirs", ...):
 * done items out of total (0 when the total is not known yet).  Called at
 * most every few thousand items, and once more with done == total when the
 * phase ends.
 */
typedef void check_progress_fn(
    void *arg, const char *phase, uint64_t done, uint64_t total);

struct check_opts {
	bool deep;
	check_progress_fn *progress; /* may be NULL */
	void *progress_arg;
};

/*
 * A finding "postino check" can report, from the probe table: its name
 * ("db_grants:*" for one finding per object, named after the colon), the
 * severities beyond "info" it can have (a mask of CHECK_SEV_WARN and
 * CHECK_SEV_ERROR; 0: info only) and what makes it one.
 */
enum {
	CHECK_SEV_WARN = 1 << CHECK_WARN,
	CHECK_SEV_ERROR = 1 << CHECK_ERROR,
};

struct check_rule {
	const char *name;
	unsigned severities;
	const char *what;
};

/*
 * The i-th finding of the probe table, in probe order, or NULL past the
 * last.  *when_r: "always", "mlmmj" (only with mlmmj_spool_dir set) or
 * "deep" (only with --deep), the headings of postino(8) CHECK FINDINGS.
 */
const struct check_rule *check_rule_nth(size_t i, const char **when_r);

void check_report_init(struct check_report *);
void check_report_release(struct check_report *);
/* Whether no finding is an error. */
bool check_report_ok(const struct check_report *);
/* "info", "warn", "error". */
const char *check_severity_name(enum check_severity);

/*
 * Run every probe for conf (the database is opened and closed here, from
 * the credentials in sql-virtual_mailbox_maps.cf, as every postino command
 * does).  Findings are appended to report in probe order.  Always returns
 * 0: whatever goes wrong is a finding.
 */
int check_run(const struct postino_conf *, const struct check_opts *,
    struct check_report *);

#endif
