/*
 * log: thread-safe log lines, text or JSON, to stderr or syslog.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strutil.h"
#include "banned.h"

#define LOG_LINE_MAX 2048

static const char *ident = "postino";
static bool use_syslog;
static _Atomic int min_level = LOG_LVL_INFO;
static _Atomic int format = LOG_TEXT;
static _Atomic int out_fd = STDERR_FILENO;
static _Atomic bool color;

/* One level: its syslog priority, its word in text and in JSON. */
static const struct {
	int pri;
	const char *tag;
	const char *name;
} levels[] = {
	[LOG_LVL_TRACE] = { LOG_DEBUG, "", "trace" },
	[LOG_LVL_DEBUG] = { LOG_DEBUG, "", "debug" },
	[LOG_LVL_INFO] = { LOG_INFO, "", "info" },
	[LOG_LVL_WARN] = { LOG_WARNING, "warning: ", "warning" },
	[LOG_LVL_ERROR] = { LOG_ERR, "error: ", "error" },
};
/* Pseudo-levels past the filtered ones. */
enum { LVL_ACCESS = LOG_LVL_ERROR + 1, LVL_FATAL };

void
log_init(const char *id, bool sys, enum log_level l)
{
	ident = id;
	use_syslog = sys;
	atomic_store(&min_level, (int)l);
	if (sys)
		openlog(id, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_level_parse(const char *s)
{
	if (str_eq_nocase(s, "trace"))
		return LOG_LVL_TRACE;
	if (str_eq_nocase(s, "debug"))
		return LOG_LVL_DEBUG;
	if (str_eq_nocase(s, "info"))
		return LOG_LVL_INFO;
	if (str_eq_nocase(s, "warn") || str_eq_nocase(s, "warning"))
		return LOG_LVL_WARN;
	if (str_eq_nocase(s, "error"))
		return LOG_LVL_ERROR;
	return -1;
}

void
log_set_level(enum log_level l)
{
	atomic_store(&min_level, (int)l);
}

bool
log_enabled(enum log_level l)
{
	return (int)l >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

int
log_format_parse(const char *s)
{
	if (str_eq_nocase(s, "text"))
		return LOG_TEXT;
	if (str_eq_nocase(s, "json"))
		return LOG_JSON;
	return -1;
}

void
log_set_format(enum log_format f)
{
	atomic_store(&format, (int)f);
}

void
log_set_fd(int fd)
{
	atomic_store(&out_fd, fd);
}

/* Append s to out[*n..size-1] as JSON string content; stops when full. */
static void
json_append(char *out, size_t *n, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[7];
		size_t k = 0;

		if (c == '"' || c == '\\') {
			e[k++] = '\\';
			e[k++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			e[k++] = '\\';
			e[k++] = 'u';
			e[k++] = '0';
			e[k++] = '0';
			e[k++] = hex[c >> 4];
			e[k++] = hex[c & 15];
		} else
			e[k++] = (char)c;
		if (*n + k >= size)
			return;
		memcpy(out + *n, e, k);
		*n += k;
	}
}

static void
emit(int lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2];
	const char *tag, *name;
	int pri, n;
	size_t len;

	if (lvl == LVL_ACCESS) {
		pri = LOG_INFO;
		tag = "access ";
		name = "access";
	} else if (lvl == LVL_FATAL) {
		pri = LOG_CRIT;
		tag = "fatal: ";
		name = "fatal";
	} else {
		pri = levels[lvl].pri;
		tag = levels[lvl].tag;
		name = levels[lvl].name;
	}
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	if (errnum != 0) {
		n = snprintf(
		    msg + len, sizeof(msg) - len, ": %s", strerror(errnum));
		if (n > 0)
			len += (size_t)n;
		if (len >= sizeof(msg))
			len = sizeof(msg) - 1;
	}
	msg[len] = '\0';

	if (atomic_load_explicit(&format, memory_order_relaxed) == LOG_JSON) {
		struct timespec ts;
		struct tm tm;
		char when[32] = "";

		clock_gettime(CLOCK_REALTIME, &ts);
		if (gmtime_r(&ts.tv_sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line),
		    "{\"time\":\"%s.%03ldZ\",\"daemon\":\"", when,
		    ts.tv_nsec / 1000000);
		len = n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0;
		json_append(line, &len, sizeof(line) - 40, ident);
		n = snprintf(line + len, sizeof(line) - len,
		    "\",\"level\":\"%s\",\"msg\":\"", name);
		if (n > 0)
			len += (size_t)n;
		json_append(line, &len, sizeof(line) - 4, msg);
		memcpy(line + len, "\"}", 2);
		len += 2;
	} else {
		bool paint = !use_syslog && tag[0] != '\0' &&
		    atomic_load_explicit(&color, memory_order_relaxed);

		/* One line: control characters from peers never split it. */
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)msg[i] < 0x20)
				msg[i] = ' ';
		n = snprintf(line, sizeof(line), "%s%s%s%s%s%s",
		    use_syslog ? "" : ident, use_syslog ? "" : ": ",
		    paint ? (pri == LOG_WARNING ? "\033[1;33m" : "\033[1;31m")
			  : "",
		    tag, paint ? "\033[0m" : "", msg);
		len = n > 0 && (size_t)n < sizeof(line) - 1 ? (size_t)n
							    : sizeof(line) - 2;
	}
	if (use_syslog) {
		line[len] = '\0';
		syslog(pri, "%s", line);
		return;
	}
	line[len++] = '\n';
	(void)!write(atomic_load(&out_fd), line, len);
}

#define LOGFN(fn, lvl, witherr)                                                \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		int e = errno;                                                 \
		va_list ap;                                                    \
                                                                               \
		if (!log_enabled(lvl))                                         \
			return;                                                \
		va_start(ap, fmt);                                             \
		emit(lvl, (witherr) ? e : 0, fmt, ap);                         \
		va_end(ap);                                                    \
	}

void
log_set_color(bool on)
{
	atomic_store(&color, on);
}

void
log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	if (log_enabled(l))
		emit((int)l, 0, fmt, ap);
}

void
log_library(void *prefix, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warnx("%s: %s", (const char *)prefix, msg);
}

LOGFN(log_trace, LOG_LVL_TRACE, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_error, LOG_LVL_ERROR, 0)

void
log_access(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LVL_ACCESS, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(LVL_FATAL, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LVL_FATAL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_safe(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (size == 0)
		return out;
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= size)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
