/*
 * log: thread-safe log lines to stderr or syslog.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "banned.h"

static const char *ident = "podop";
static bool use_syslog;
static _Atomic int verbosity;

void
log_init(const char *id, bool sys, int v)
{
	ident = id;
	use_syslog = sys;
	atomic_store(&verbosity, v);
	if (sys)
		openlog(id, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_verbosity(int v)
{
	atomic_store(&verbosity, v);
}

int
log_verbosity(void)
{
	return atomic_load_explicit(&verbosity, memory_order_relaxed);
}

static void
vlog(int pri, const char *prefix, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0;

	if (!use_syslog)
		n = snprintf(line, sizeof(line), "%s: %s", ident, prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (errnum != 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(errnum));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	/* One line: control characters from peers never split it. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	if (use_syslog) {
		line[n] = '\0';
		syslog(pri, "%s%s", prefix, line);
		return;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity() < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "", 0, fmt, ap);
	va_end(ap);
}

void
log_trace(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity() < 2)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "", 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
