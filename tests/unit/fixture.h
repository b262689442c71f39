/*
 * fixture.h: the set-up the table tests share (t_table, t_table_pfa): a
 * scratch directory removed at the end, a table_env, one lookup as a
 * string, SQL that reports its failures, and a dict iteration collector.
 * Header-only and static, like tap.h.
 *
 *	if (fixture_start() == -1) return 1;	-- fx_dir exists, fx_env ready
 *	is_str(fx_lookup(t, "key", NULL), "value", "...");
 *	return fixture_end();			-- removes fx_dir; the plan
 */
#ifndef POSTINO_FIXTURE_H
#define POSTINO_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "table.h"
#include "tap.h"

static char fx_dir[] = "/tmp/postino-unit.XXXXXX";
static struct table_env fx_env;

static int
fixture_start(void)
{
	if (mkdtemp(fx_dir) == NULL)
		return -1;
	table_env_init(&fx_env);
	return 0;
}

static int
fixture_end(void)
{
	char cmd[300];

	table_env_release(&fx_env);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx_dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", fx_dir);
	return done_testing();
}

/* NAME under fx_dir, in a static buffer. */
static const char *
fx_path(const char *name)
{
	static char path[300];

	snprintf(path, sizeof(path), "%s/%s", fx_dir, name);
	return path;
}

/* Look KEY up: its value, "-" when not found, "!" and the error kind's
 * name on failure (the message goes to a diagnostic line). */
static const char *
fx_lookup(struct table *t, const char *key, const char *user)
{
	static char out[4096];
	struct err e = ERR_INIT;
	struct buf v;
	int r;

	buf_init(&v, 1024 * 1024);
	r = table_lookup(t, key, user, &v, NULL, &e);
	if (r == 1)
		snprintf(out, sizeof(out), "%s", buf_cstr(&v));
	else if (r == 0)
		snprintf(out, sizeof(out), "-");
	else {
		snprintf(out, sizeof(out), "!%s", err_kind_name(e.kind));
		diag("lookup '%s': %s", key, e.msg);
	}
	buf_release(&v);
	return out;
}

static void
fx_sql(struct db *db, const char *sql)
{
	struct err e = ERR_INIT;

	if (db_exec(db, sql, NULL, 0, &e) == -1)
		diag("sql failed: %s: %s", sql, e.msg);
}

/* A table_iterate() callback: "key=value;" for each row, into a buf. */
static int
fx_collect(void *arg, const char *key, const char *value, struct err *err)
{
	struct buf *b = arg;

	(void)err;
	buf_printf(b, "%s=%s;", key, value);
	return 0;
}

#endif
