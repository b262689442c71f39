/*
 * log: postinod's log lines on stderr, one line per event.
 *
 * Lines read "postinod: LEVEL: message"; the access log, one line per
 * request, is "postinod: access key=value ...".  Text that came from the
 * network (paths, token subjects) goes through log_safe() so a client
 * cannot forge lines with control characters.  Every function is safe to
 * call from any thread: each line is written with one stdio call.
 * Messages never contain passwords, tokens, secrets or request bodies.
 */
#ifndef POSTINOD_LOG_H
#define POSTINOD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "debug", "info", "warn" (or "warning"), "error"; -1 if unknown. */
int log_level_parse(const char *);
void log_set_level(enum log_level);
int log_enabled(enum log_level);

void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* An access-log line (not filtered by level). */
void log_access(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy s into out (size bytes, always terminated) with bytes outside
 * printable ASCII, spaces, quotes and backslashes written as %XX.
 * Returns out.
 */
const char *log_safe(const char *s, char *out, size_t size);

#endif
