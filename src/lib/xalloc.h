/*
 * xalloc: allocation that never returns NULL.
 *
 * Every function here either succeeds or aborts the process with a message on
 * stderr: an out-of-memory condition is not something callers can handle
 * sensibly, so no caller checks.  Memory returned is owned by the caller and
 * released with free().
 */
#ifndef POSTINO_XALLOC_H
#define POSTINO_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
/* Grow an array of nmemb elements of size to at least need elements. */
void *xreallocarray(void *, size_t nmemb, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
