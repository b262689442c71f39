/*
 * log: podop's log lines, to stderr or to syslog (facility mail).
 *
 * One line per event, in OpenSMTPD's shape: log_warn() appends
 * strerror(errno), log_warnx() does not; log_info() is always shown,
 * log_debug() from -v on, log_trace() from -vv on; fatal() and fatalx()
 * log and exit 1.  Request lines use key=value pairs ("lookup map=alias
 * key=... result=found ms=0.2").  Every function is thread-safe: a line is
 * formatted into a local buffer and written with a single write(2) (or
 * syslog(3)), so lines from different threads never interleave.  Nothing
 * here is ever given a password.
 */
#ifndef PODOP_LOG_H
#define PODOP_LOG_H

#include <stdbool.h>

void log_init(const char *ident, bool syslog, int verbosity);
void log_set_verbosity(int);
int log_verbosity(void);

void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Whether log_debug()/log_trace() would print: test before costly work. */
#define log_debugging() (log_verbosity() >= 1)
#define log_tracing() (log_verbosity() >= 2)

#endif
