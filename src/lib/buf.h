/*
 * buf: a growable byte buffer with a hard maximum size.
 *
 * A struct buf lives by value (on the stack or inside another struct); its
 * data pointer is owned by the buffer and freed by buf_release().  Every
 * buffer is created with a maximum: appends that would exceed it fail with
 * -1 and leave the buffer unchanged, so a buffer fed from a socket or a file
 * can never grow without bound.  The data is always NUL-terminated (the
 * terminator is not counted in len), so buf_cstr() is a valid C string.
 */
#ifndef POSTINO_BUF_H
#define POSTINO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_MAX_DEFAULT (64u * 1024u * 1024u)

void buf_init(struct buf *, size_t max);
void buf_release(struct buf *);
void buf_reset(struct buf *);
/* Returns 0, or -1 if the result would exceed the buffer's maximum. */
int buf_append(struct buf *, const void *, size_t);
int buf_puts(struct buf *, const char *);
int buf_putc(struct buf *, int);
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
/* Remove the first n bytes (consumed input). */
void buf_consume(struct buf *, size_t n);
void buf_truncate(struct buf *, size_t len);
const char *buf_cstr(const struct buf *);
/* Hand the data over to the caller (free() it); the buffer is reset. */
char *buf_detach(struct buf *);

#endif
