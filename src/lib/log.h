/*
 * log: the daemons' log lines, to stderr or to syslog (facility mail), and
 * the CLI's warnings and notes on stderr.
 *
 * One line per event.  In text form a line reads "IDENT: LEVEL: message"
 * ("podop: warning: ...", "postinod: error: ..."); info, debug and trace
 * lines carry no level word, and an access line, one per request, reads
 * "IDENT: access key=value ...".  In JSON form (log_set_format) each event
 * is one object on one line:
 *   {"time":"2026-12-07T17:30:00.123Z","daemon":"postinod",
 *    "level":"warning","msg":"..."}
 * with "level":"access" for access lines.  log_warn() and fatal() append
 * strerror(errno), log_warnx() and fatalx() do not; fatal() and fatalx()
 * exit 1.  Every function is thread-safe: a line is formatted into a local
 * buffer and written with one write(2) (or syslog(3)), so lines from
 * different threads never interleave; control bytes never split a line.
 * Text that came from the network goes through log_safe().  Nothing here
 * is ever given a password, token, secret or request body.
 */
#ifndef POSTINO_LOG_H
#define POSTINO_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_TRACE = 0,
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};
enum log_format { LOG_TEXT = 0, LOG_JSON };

/* Before any thread starts: who logs, where, and from which level on. */
void log_init(const char *ident, bool use_syslog, enum log_level);
/* "trace", "debug", "info", "warn" (or "warning"), "error"; -1 if unknown. */
int log_level_parse(const char *);
void log_set_level(enum log_level);
bool log_enabled(enum log_level);
/* "text" or "json"; -1 if unknown. */
int log_format_parse(const char *);
void log_set_format(enum log_format);
/* Where lines go when not to syslog (stderr by default; for tests). */
void log_set_fd(int);
/*
 * In text form to a terminal (the CLI's stderr): the level word of warning
 * and error lines in colour (yellow, red).  Off by default.
 */
void log_set_color(bool);
/* A line at level l, for callers with their own variadic front end. */
void log_vmsg(enum log_level l, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
/*
 * A library's own diagnostics, with the signature of libmicrohttpd's
 * external logger: one warning line "PREFIX: text", prefix being a
 * const char * passed as the logger's argument, trailing newlines
 * dropped, the text cut at 511 bytes.
 */
void log_library(void *prefix, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

void log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* An access-log line, key=value pairs (not filtered by level). */
void log_access(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Whether log_debug()/log_trace() would print: test before costly work. */
#define log_debugging() log_enabled(LOG_LVL_DEBUG)
#define log_tracing() log_enabled(LOG_LVL_TRACE)

/*
 * Copy s into out (size bytes, always terminated) with bytes outside
 * printable ASCII, spaces, quotes, backslashes and '%' written as %XX.
 * Returns out.
 */
const char *log_safe(const char *s, char *out, size_t size);

#endif
