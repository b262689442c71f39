/*
 * The report of "postino check" and the runner: every probe of the table
 * (table.c) in order, skipping those whose flags are not met.  finding()
 * holds each probe to the findings its row lists.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cf.h"
#include "check.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mapgen.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "pfchroot.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "probe.h"

#include "banned.h"

void
check_report_init(struct check_report *r)
{
	r->v = NULL;
	r->n = 0;
	r->cap = 0;
}

void
check_report_release(struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].message);
	}
	free(r->v);
	check_report_init(r);
}

bool
check_report_ok(const struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].severity == CHECK_ERROR)
			return false;
	return true;
}

const char *
check_severity_name(enum check_severity s)
{
	switch (s) {
	case CHECK_INFO:
		return "info";
	case CHECK_WARN:
		return "warn";
	case CHECK_ERROR:
		return "error";
	}
	return "error";
}

/* The rule for name in p's row, else in a row of shared code. */
static const struct check_rule *
rule_find(const struct probe *p, const char *name)
{
	const struct check_rule *wild = NULL;

	for (size_t i = 0; i <= check_nprobes; i++) {
		const struct probe *q = i == 0 ? p : &check_probes[i - 1];

		if (q == NULL || (i > 0 && q->run != NULL))
			continue;
		for (size_t j = 0; j < RULES_MAX && q->rules[j].name; j++) {
			const char *n = q->rules[j].name;
			size_t len = strlen(n);

			if (strcmp(n, name) == 0)
				return &q->rules[j];
			if (len > 0 && n[len - 1] == '*' &&
			    strncmp(n, name, len - 1) == 0 && wild == NULL)
				wild = &q->rules[j];
		}
		if (wild != NULL)
			return wild;
	}
	return NULL;
}

static __attribute__((unused)) bool
rule_allows(const struct probe *p, const char *name, enum check_severity sev)
{
	const struct check_rule *rule = rule_find(p, name);

	return rule != NULL &&
	    (sev == CHECK_INFO || (rule->severities & (1u << sev)) != 0);
}

const struct check_rule *
check_rule_nth(size_t i, const char **when_r)
{
	for (size_t k = 0; k < check_nprobes; k++) {
		const struct probe *p = &check_probes[k];
		size_t n = 0;

		while (n < RULES_MAX && p->rules[n].name != NULL)
			n++;
		if (i >= n) {
			i -= n;
			continue;
		}
		*when_r = (p->flags & P_DEEP) ? "deep"
		    : (p->flags & P_MLMMJ)    ? "mlmmj"
					      : "always";
		return &p->rules[i];
	}
	return NULL;
}

static bool
strict_rules(void)
{
	const char *v = getenv("POSTINO_TEST_CHECK_STRICT");

	return v != NULL && strcmp(v, "1") == 0;
}

static void
vfinding(struct ctx *c, const char *name, enum check_severity sev,
    const char *fmt, va_list ap)
{
	struct check_report *r = c->rep;
	struct buf b;

	/*
	 * A finding its row in table.c does not list: add it there.  The
	 * test suite (POSTINO_TEST_CHECK_STRICT=1) stops on it; an admin's
	 * check reports it all the same rather than dying in the middle.
	 */
	if (!rule_allows(c->probe, name, sev) && strict_rules())
		abort();
	buf_init(&b, 64 * 1024);
	buf_vprintf(&b, fmt, ap);
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 64 : r->cap * 2;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n].name = xstrdup(name);
	r->v[r->n].severity = sev;
	r->v[r->n].message = buf_detach(&b);
	r->n++;
	buf_release(&b);
}

void
finding(struct ctx *c, const char *name, enum check_severity sev,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(c, name, sev, fmt, ap);
	va_end(ap);
}

void
finding_if(struct ctx *c, bool bad, const char *name, enum check_severity sev,
    const char *ok, const char *fmt, ...)
{
	va_list ap;

	if (!bad) {
		finding(c, name, CHECK_INFO, "%s", ok);
		return;
	}
	va_start(ap, fmt);
	vfinding(c, name, sev, fmt, ap);
	va_end(ap);
}

void
progress(struct ctx *c, const char *phase, uint64_t done, uint64_t total)
{
	if (c->opts->progress != NULL)
		c->opts->progress(c->opts->progress_arg, phase, done, total);
}

void
probe_deep_skipped(struct ctx *c)
{
	if (c->skipped > 0)
		finding(c, "deep_skipped", CHECK_INFO,
		    "%zu deep %s did not run because of the errors above",
		    c->skipped, plural((int64_t)c->skipped, "probe", "probes"));
}

int
check_run(const struct postino_conf *conf, const struct check_opts *opts,
    struct check_report *rep)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.opts = opts;
	c.rep = rep;
	data_init(&c.d);
	for (size_t i = 0; i < check_nprobes; i++) {
		const struct probe *p = &check_probes[i];

		if (p->run == NULL)
			continue;
		if ((p->flags & P_DEEP) && !opts->deep)
			continue;
		if ((p->flags & P_MLMMJ) && conf->mlmmj_spool_dir[0] == '\0')
			continue;
		if (((p->flags & P_DB) && c.db == NULL) ||
		    ((p->flags & P_SCHEMA) && !c.schema_ok)) {
			if (p->flags & P_DEEP)
				c.skipped++;
			continue;
		}
		c.probe = p;
		p->run(&c);
	}
	data_release(&c.d);
	db_close(&c.db);
	if (c.have_params)
		db_params_release(&c.params);
	return 0;
}
