/* The shared logger: levels, text and JSON lines, one line per event. */
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

#define NTHREADS 8
#define NLINES 300

static char path[] = "/tmp/t_log.XXXXXX";
static int fd;

/* Empty the capture file. */
static void
reset(void)
{
	if (ftruncate(fd, 0) == -1)
		abort();
}

/* The captured text, malloc'd. */
static char *
captured(void)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *s = calloc(1, (size_t)n + 1);

	if (s == NULL || pread(fd, s, (size_t)n, 0) != n)
		abort();
	return s;
}

static void
check(const char *want, const char *name)
{
	char *got = captured();

	is_str(got, want, "%s", name);
	free(got);
	reset();
}

/* As libmicrohttpd calls its external logger. */
static void
library_says(void *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_library(prefix, fmt, ap);
	va_end(ap);
}

static void *
writer(void *arg)
{
	int id = (int)(long)arg;

	for (int i = 0; i < NLINES; i++)
		log_access(
		    "method=GET path=/t%d/%d status=200 pad=%0200d", id, i, 0);
	return NULL;
}

int
main(void)
{
	pthread_t th[NTHREADS];
	char *all, *p, buf[64];
	int lines = 0, good = 0;

	if ((fd = mkstemp(path)) == -1 ||
	    (fd = open(path, O_RDWR | O_APPEND)) == -1)
		abort();
	unlink(path);
	log_init("t", false, LOG_LVL_INFO);
	log_set_fd(fd);

	log_debug("hidden");
	log_info("shown");
	log_warnx("careful");
	log_error("broken");
	check("t: shown\nt: warning: careful\nt: error: broken\n",
	    "info and above by default");
	log_set_level(LOG_LVL_WARN);
	log_info("hidden");
	log_access("method=GET status=200");
	check("t: access method=GET status=200\n",
	    "access lines are not filtered");
	log_set_level(LOG_LVL_TRACE);
	ok(log_tracing() && log_debugging(), "trace level enables both");
	log_trace("a\nforged line\r");
	check("t: a forged line \n", "a control byte never splits a text line");
	log_set_color(true);
	log_warnx("painted");
	log_info("plain");
	check("t: \033[1;33mwarning: \033[0mpainted\nt: plain\n",
	    "colour paints the level word only");
	log_set_color(false);
	library_says((void *)"libmicrohttpd", "Error: %s.\r\n\n", "bad");
	check("t: warning: libmicrohttpd: Error: bad.\n",
	    "a library's line: its prefix, a warning, its newlines gone");
	is_int(log_level_parse("WARNING"), LOG_LVL_WARN, "warning is warn");
	is_int(log_level_parse("loud"), -1, "unknown level");
	is_int(log_format_parse("json"), LOG_JSON, "json format");
	is_int(log_format_parse("xml"), -1, "unknown format");
	is_str(log_safe("a b\"%\x01", buf, sizeof(buf)), "a%20b%22%25%01",
	    "log_safe escapes");

	log_set_format(LOG_JSON);
	log_warnx("say \"hi\" \\ now\n\x01\x1f\x7f");
	all = captured();
#define HEAD "\"daemon\":\"t\",\"level\":\"warning\",\"msg\":"
	p = strstr(all, HEAD);
	ok(strncmp(all, "{\"time\":\"", 9) == 0 && p != NULL,
	    "a JSON line has time, daemon, level and msg: %s", all);
	if (p != NULL)
		is_str(p + strlen(HEAD),
		    "\"say \\\"hi\\\" \\\\ now\\u000a\\u0001\\u001f\\u007f\"}\n",
		    "quotes, backslashes and control bytes are escaped");
	free(all);
	reset();
	log_access("status=200");
	all = captured();
	ok(strstr(all, "\"level\":\"access\",\"msg\":\"status=200\"}\n") !=
		NULL,
	    "an access line in JSON: %s", all);
	free(all);
	reset();

	log_set_format(LOG_TEXT);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	all = captured();
	for (char *sv, *line = strtok_r(all, "\n", &sv); line != NULL;
	     line = strtok_r(NULL, "\n", &sv)) {
		int id, n;

		lines++;
		if (sscanf(line,
			"t: access method=GET path=/t%d/%d status=200 ", &id,
			&n) == 2 &&
		    strstr(line, "pad=") != NULL &&
		    strlen(strstr(line, "pad=")) == 204)
			good++;
	}
	is_int(lines, NTHREADS * NLINES, "every event is one line");
	is_int(good, NTHREADS * NLINES, "no two threads' lines interleave");
	free(all);
	close(fd);
	return done_testing();
}
