#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "strutil.h"
#include "banned.h"

static enum log_level min_level = LOG_INFO;

int
log_level_parse(const char *s)
{
	if (str_eq_nocase(s, "debug"))
		return LOG_DEBUG;
	if (str_eq_nocase(s, "info"))
		return LOG_INFO;
	if (str_eq_nocase(s, "warn") || str_eq_nocase(s, "warning"))
		return LOG_WARN;
	if (str_eq_nocase(s, "error"))
		return LOG_ERROR;
	return -1;
}

void
log_set_level(enum log_level l)
{
	min_level = l;
}

int
log_enabled(enum log_level l)
{
	return l >= min_level;
}

static void
vlog(const char *tag, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line), "postinod: %s", tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
}

#define LOGFN(fn, level, tag)                                                  \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		va_list ap;                                                    \
                                                                               \
		if (level < min_level)                                         \
			return;                                                \
		va_start(ap, fmt);                                             \
		vlog(tag, fmt, ap);                                            \
		va_end(ap);                                                    \
	}

LOGFN(log_debug, LOG_DEBUG, "debug: ")
LOGFN(log_info, LOG_INFO, "")
LOGFN(log_warn, LOG_WARN, "warning: ")
LOGFN(log_error, LOG_ERROR, "error: ")

void
log_access(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("access ", fmt, ap);
	va_end(ap);
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
