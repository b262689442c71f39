/*
 * err: one error kind for the whole suite, and the one table that says what
 * each kind means to every surface.
 *
 * Library code (lib, db, model, table) never prints.  A function that fails
 * fills the caller's struct err and returns -1; the program decides how to
 * show it.  struct err holds its message in a fixed buffer, so nothing in it
 * is owned and nothing has to be freed.  Messages follow git's style: lower
 * case first word, no trailing full stop, the subject in quotes.  A message
 * must never contain a password or other secret.
 *
 * err_info() maps a kind to the CLI exit code, the HTTP status and SCIM
 * scimType, the Postfix socketmap reply word and the Dovecot dict reply
 * letter.  The man pages copy this table; tests/unit/t_err.c pins it.
 */
#ifndef POSTINO_ERR_H
#define POSTINO_ERR_H

#include <stdarg.h>

enum err_kind {
	ERR_OK = 0,
	ERR_NOTFOUND,	 /* the thing asked for does not exist */
	ERR_EXISTS,	 /* uniqueness conflict */
	ERR_CAPACITY,	 /* a domain limit, or "not empty" */
	ERR_CONFIG,	 /* bad or missing configuration */
	ERR_INVALID,	 /* a bad value given by the user or a client */
	ERR_DATABASE,	 /* database unreachable, refused, schema drift */
	ERR_FILESYSTEM,	 /* maildir or spool operation failed */
	ERR_HOOK,	 /* post-creation hook failed */
	ERR_DEADLOCK,	 /* deadlock / lock timeout, after retries */
	ERR_MLMMJ,	 /* an mlmmj program failed */
	ERR_RULE,	 /* a PostfixAdmin rule would be violated */
	ERR_UNSUPPORTED, /* not allowed by the identity backend */
	ERR_DENIED,	 /* authentication or authorisation failed */
	ERR_TOOLARGE,	 /* input exceeds a hard limit */
	ERR_TEMP,	 /* a lookup backend is temporarily unavailable */
	ERR_USAGE,	 /* command-line usage error */
	ERR_BADFILTER,	 /* a SCIM filter that cannot be evaluated */
	ERR_BADPATH,	 /* a SCIM PATCH path that cannot be applied */
	ERR_NOTARGET,	 /* a SCIM PATCH operation without a target */
	ERR_READONLY,	 /* a SCIM attribute that cannot be changed */
	ERR_INTERNAL,	 /* a bug: an invariant did not hold */
	ERR__COUNT
};

struct err_info {
	enum err_kind kind;
	const char *name; /* stable name, used in JSON */
	int exit_code;	  /* postino(8) exit status */
	int http_status;
	const char *scim_type; /* RFC 7644 scimType, or NULL */
	const char *socketmap; /* socketmap reply status word */
	char dict;	       /* dict reply letter */
};

#define ERR_MSG_MAX 512
#define ERR_HINT_MAX 256

struct err {
	enum err_kind kind;
	char msg[ERR_MSG_MAX];
	char hint[ERR_HINT_MAX]; /* what to do about it, or "" */
};

#define ERR_INIT                                                               \
	{                                                                      \
		ERR_OK, "", ""                                                 \
	}

/* The table row for a kind; never NULL (unknown kinds map to INTERNAL). */
const struct err_info *err_info(enum err_kind);
int err_exit_code(enum err_kind);
const char *err_kind_name(enum err_kind);

void err_clear(struct err *);
/* Set kind and message; always returns -1 so callers can return it. */
int err_set(struct err *, enum err_kind, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int err_vset(struct err *, enum err_kind, const char *, va_list)
    __attribute__((format(printf, 3, 0)));
/* Attach a hint (what the user should do); returns -1. */
int err_hint(struct err *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context: "context: message". */
int err_prefix(struct err *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif
