/* postino export / postino import */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "strutil.h"
#include "transfer.h"
#include "xalloc.h"
#include "banned.h"

static int
write_line(void *arg, const char *line, size_t len)
{
	FILE *f = arg;

	if (fwrite(line, 1, len, f) != len || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

/*
 * An export to a file shows how far it got on a terminal (stderr), at most
 * ten times a second; to standard output it shows nothing, which keeps a
 * terminal showing the export itself readable.
 */
struct export_ui {
	FILE *f;
	bool tty;
	bool shown;
	int64_t lines;
	int64_t last_ms;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
export_line(void *arg, const char *line, size_t len)
{
	struct export_ui *u = arg;
	int64_t now;

	if (write_line(u->f, line, len) == -1)
		return -1;
	/* The first line is the header, not a record. */
	if (!u->tty || u->lines++ == 0 || (now = mono_ms()) - u->last_ms < 100)
		return 0;
	u->last_ms = now;
	u->shown = true;
	fprintf(stderr, "\r\033[Kpostino: exporting: %lld records",
	    (long long)(u->lines - 1));
	fflush(stderr);
	return 0;
}

static int
pick_format(struct cli *c, const char *path, enum transfer_format *f)
{
	const char *v = cli_opt(c, O_FORMAT);

	if (v == NULL && path != NULL && str_suffix(path, ".csv"))
		v = "csv";
	if (transfer_format_parse(v, f) == -1)
		return cli_usage(
		    c, "unknown format '%s' (use jsonl or csv)", v);
	return 0;
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	const char *path = cli_opt(c, 'o');
	struct export_ui ui = { NULL, false, false, 0, 0 };
	enum transfer_format fmt;
	struct err err = ERR_INIT;
	char *tmp = NULL;
	FILE *f = stdout;
	int rc;

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	if ((rc = pick_format(c, path, &fmt)) != 0)
		return rc;
	if (path != NULL && strcmp(path, "-") != 0) {
		int fd;

		tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
		/* The export holds password hashes: keep it private. */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
			err_set(&err, ERR_FILESYSTEM, "cannot create '%s': %s",
			    tmp, strerror(errno));
			free(tmp);
			return cli_fail(c, &err);
		}
	}
	ui.f = f;
	ui.tty = f != stdout && !c->quiet && isatty(STDERR_FILENO);
	ui.last_ms = mono_ms();
	rc = transfer_export(
	    &c->model, cli_opt(c, O_DOMAIN), fmt, export_line, &ui, &err);
	if (ui.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (f != stdout) {
		if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
			if (rc == 0)
				err_set(&err, ERR_FILESYSTEM,
				    "cannot write '%s': %s", path,
				    strerror(errno));
			rc = -1;
		}
		fclose(f);
		if (rc == 0 && rename(tmp, path) == -1) {
			err_set(&err, ERR_FILESYSTEM,
			    "cannot rename to '%s': %s", path, strerror(errno));
			rc = -1;
		}
		if (rc == -1)
			unlink(tmp);
		free(tmp);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

struct import_ui {
	struct cli *c;
	bool tty;
	bool dry_run;
	json_t *plan;
};

static void
on_progress(void *arg, const char *phase, int64_t done, int64_t total)
{
	struct import_ui *u = arg;

	if (!u->tty || u->c->quiet)
		return;
	fprintf(stderr, "\r\033[Kpostino: importing %s: %lld of %lld records",
	    phase, (long long)done, (long long)total);
	fflush(stderr);
}

static void
on_plan(void *arg, const char *verb, const char *type, const char *key,
    const char *detail)
{
	struct import_ui *u = arg;

	/* A real import reports counts; the plan is what --dry-run is for. */
	if (!u->dry_run)
		return;
	if (u->c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "action", out_jstr(verb));
		json_object_set_new(o, "type", out_jstr(type));
		json_object_set_new(o, "key", out_jstr(key));
		if (detail != NULL)
			json_object_set_new(o, "detail", out_jstr(detail));
		json_array_append_new(u->plan, o);
		return;
	}
	if (u->tty && !u->c->quiet)
		fprintf(stderr, "\r\033[K");
	printf("%s%-6s%s %-12s %s%s%s\n",
	    color_on(u->c,
		strcmp(verb, "create") == 0	 ? 1
		    : strcmp(verb, "prune") == 0 ? 2
						 : 3),
	    verb, color_off(u->c), type, key, detail ? " -> " : "",
	    detail ? detail : "");
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	struct transfer_opts o;
	struct transfer_stats st;
	struct import_ui ui = { c, false, false, NULL };
	struct err err = ERR_INIT;
	const char *path, *v;
	FILE *in;
	int64_t batch = 500;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	if (argc != 1)
		return cli_usage(c,
		    argc == 0 ? "missing FILE (or - for stdin)"
			      : "unexpected argument");
	path = argv[0];
	memset(&o, 0, sizeof(o));
	if ((rc = pick_format(c, path, &o.format)) != 0)
		return rc;
	if ((v = cli_opt(c, O_BATCH)) != NULL &&
	    cli_int(c, "--batch", v, 1, 100000, &batch, &err) == -1)
		return cli_fail(c, &err);
	o.batch = (int)batch;
	o.dry_run = cli_flag(c, O_DRY_RUN);
	o.update = cli_flag(c, O_UPDATE);
	o.prune = cli_flag(c, O_PRUNE);
	o.run_hooks = !cli_flag(c, O_NO_HOOK);
	o.threads = ncpu > 0 ? (int)ncpu : 1;
	o.progress = on_progress;
	o.plan = on_plan;
	o.arg = &ui;
	ui.tty = isatty(STDERR_FILENO);
	ui.dry_run = o.dry_run;
	if (c->json)
		ui.plan = json_array();
	if (strcmp(path, "-") == 0) {
		in = stdin;
		path = "stdin";
	} else if ((in = fopen(path, "r")) == NULL) {
		err_set(&err, ERR_NOTFOUND, "cannot open '%s': %s", path,
		    strerror(errno));
		json_decref(ui.plan);
		return cli_fail(c, &err);
	}
	rc = transfer_import(&c->model, in, path, &o, &st, &err);
	if (in != stdin)
		fclose(in);
	if (ui.tty && !c->quiet)
		fprintf(stderr, "\r\033[K");
	if (c->json) {
		json_t *res = json_object();

		json_object_set_new(res, "dry_run", json_boolean(o.dry_run));
		json_object_set_new(res, "ok", json_boolean(rc == 0));
		json_object_set_new(res, "records", json_integer(st.records));
		json_object_set_new(res, "created", json_integer(st.created));
		json_object_set_new(res, "updated", json_integer(st.updated));
		json_object_set_new(res, "pruned", json_integer(st.pruned));
		json_object_set_new(
		    res, "unchanged", json_integer(st.unchanged));
		json_object_set_new(
		    res, "hooks_failed", json_integer(st.hooks_failed));
		if (o.dry_run)
			json_object_set_new(res, "changes", ui.plan);
		else
			json_decref(ui.plan);
		out_json(c, res);
	}
	if (rc == -1)
		return cli_fail(c, &err);
	cli_infof(c,
	    "%s%lld records: %lld created, %lld updated, %lld pruned, %lld unchanged",
	    o.dry_run ? "dry run, nothing changed: " : "",
	    (long long)st.records, (long long)st.created, (long long)st.updated,
	    (long long)st.pruned, (long long)st.unchanged);
	if (st.hooks_failed > 0) {
		err_set(&err, ERR_HOOK,
		    "the post-creation hook failed for %lld mailboxes (they were not created)",
		    (long long)st.hooks_failed);
		return cli_fail(c, &err);
	}
	return 0;
}
