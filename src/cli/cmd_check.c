/*
 * postino check [--deep]: run the consistency probes of src/model/check/
 * and show the findings, errors first.  The database is opened by the probes
 * themselves, so an unreachable server or a missing schema is a finding
 * here, not a failed start-up.  Exit 0 when no finding is an error, 4
 * otherwise.  During --deep, progress goes to stderr when it is a
 * terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "xalloc.h"
#include "banned.h"

#define EX_CHECK_FAILED 4
#define PROGRESS_MS 100

struct progress {
	bool shown;
	int64_t last_ms;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
progress_cb(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int64_t now = mono_ms();

	if (done != total && now - p->last_ms < PROGRESS_MS)
		return;
	p->last_ms = now;
	p->shown = true;
	if (total > 0)
		fprintf(stderr, "\r\033[Kchecking %s: %llu/%llu (%llu%%)",
		    phase, (unsigned long long)done, (unsigned long long)total,
		    (unsigned long long)(done * 100 / total));
	else
		fprintf(stderr, "\r\033[Kreading %s: %llu", phase,
		    (unsigned long long)done);
	fflush(stderr);
}

/* A message with control characters made harmless for a terminal. */
static char *
printable(const char *s)
{
	char *v = xstrdup(s);

	for (char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return v;
}

/* A JSON string even for text that is not UTF-8 (file names, old rows). */
static json_t *
json_text(const char *s)
{
	json_t *j = out_jstr(s);
	char *v;

	if (j != NULL)
		return j;
	v = xstrdup(s);
	for (char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = out_jstr(v);
	free(v);
	return j;
}

static void
print_group(struct cli *c, const struct check_report *r,
    enum check_severity sev, const char *title, const char *mark, int color)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].severity == sev)
			n++;
	if (n == 0)
		return;
	printf("%s%s (%zu):%s\n", color_on(c, 5), title, n, color_off(c));
	for (size_t i = 0; i < r->n; i++) {
		char *msg;

		if (r->v[i].severity != sev)
			continue;
		msg = printable(r->v[i].message);
		printf("  %s%s%s %s%s%s: %s\n", color_on(c, color), mark,
		    color_off(c), color_on(c, 5), r->v[i].name, color_off(c),
		    msg);
		free(msg);
	}
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	struct check_report r;
	struct check_opts o;
	struct progress p = { false, 0 };
	size_t count[3] = { 0, 0, 0 };
	bool ok;

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	memset(&o, 0, sizeof(o));
	o.deep = cli_flag(c, 'd');
	if (o.deep && !c->quiet && isatty(STDERR_FILENO)) {
		o.progress = progress_cb;
		o.progress_arg = &p;
	}
	check_report_init(&r);
	(void)check_run(&c->conf, &o, &r);
	if (p.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	ok = check_report_ok(&r);
	for (size_t i = 0; i < r.n; i++)
		count[r.v[i].severity]++;
	if (c->json) {
		json_t *doc = json_object(), *arr = json_array();

		for (size_t i = 0; i < r.n; i++) {
			json_t *f = json_object();

			json_object_set_new(f, "name", json_text(r.v[i].name));
			json_object_set_new(f, "severity",
			    out_jstr(check_severity_name(r.v[i].severity)));
			json_object_set_new(
			    f, "message", json_text(r.v[i].message));
			json_array_append_new(arr, f);
		}
		json_object_set_new(doc, "findings", arr);
		json_object_set_new(doc, "ok", json_boolean(ok));
		out_json(c, doc);
	} else {
		print_group(c, &r, CHECK_ERROR, "errors", "x", 2);
		print_group(c, &r, CHECK_WARN, "warnings", "!", 3);
		if (!c->quiet)
			print_group(c, &r, CHECK_INFO, "passed", "+", 1);
		printf("%s%zu %s, %zu %s, %zu passed%s\n",
		    color_on(c, ok ? (count[CHECK_WARN] ? 3 : 1) : 2),
		    count[CHECK_ERROR],
		    count[CHECK_ERROR] == 1 ? "error" : "errors",
		    count[CHECK_WARN],
		    count[CHECK_WARN] == 1 ? "warning" : "warnings",
		    count[CHECK_INFO], color_off(c));
	}
	check_report_release(&r);
	return ok ? 0 : EX_CHECK_FAILED;
}
