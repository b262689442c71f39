#include <stdio.h>
#include <string.h>

#include "err.h"
#include "banned.h"

/*
 * The single mapping table.  Exit codes 0-10 and 99 are postino's documented
 * ones; 64 is EX_USAGE, 75 EX_TEMPFAIL, 77 EX_NOPERM.  Invalid input exits 4
 * as it does in postino (a bad quota string has always been a ConfigError).
 */
static const struct err_info table[ERR__COUNT] = {
	[ERR_OK] = { ERR_OK, "ok", 0, 200, NULL, "OK", 'O' },
	[ERR_NOTFOUND] = { ERR_NOTFOUND, "not_found", 1, 404, NULL, "NOTFOUND",
	    'N' },
	[ERR_EXISTS] = { ERR_EXISTS, "already_exists", 2, 409, "uniqueness",
	    "PERM", 'F' },
	[ERR_CAPACITY] = { ERR_CAPACITY, "capacity", 3, 400, "tooMany", "PERM",
	    'F' },
	[ERR_CONFIG] = { ERR_CONFIG, "config", 4, 500, NULL, "PERM", 'F' },
	[ERR_INVALID] = { ERR_INVALID, "invalid", 4, 400, "invalidValue",
	    "PERM", 'F' },
	[ERR_DATABASE] = { ERR_DATABASE, "database", 5, 503, NULL, "TEMP",
	    'F' },
	[ERR_FILESYSTEM] = { ERR_FILESYSTEM, "filesystem", 6, 500, NULL, "TEMP",
	    'F' },
	[ERR_HOOK] = { ERR_HOOK, "hook", 7, 500, NULL, "TEMP", 'F' },
	[ERR_DEADLOCK] = { ERR_DEADLOCK, "deadlock", 8, 503, NULL, "TEMP",
	    'F' },
	[ERR_MLMMJ] = { ERR_MLMMJ, "mlmmj", 9, 500, NULL, "TEMP", 'F' },
	[ERR_RULE] = { ERR_RULE, "rule_violation", 10, 400, "invalidValue",
	    "PERM", 'F' },
	[ERR_UNSUPPORTED] = { ERR_UNSUPPORTED, "unsupported", 4, 403,
	    "mutability", "PERM", 'F' },
	[ERR_DENIED] = { ERR_DENIED, "denied", 77, 401, NULL, "PERM", 'F' },
	[ERR_TOOLARGE] = { ERR_TOOLARGE, "too_large", 4, 413, NULL, "PERM",
	    'F' },
	[ERR_TEMP] = { ERR_TEMP, "temporary", 75, 503, NULL, "TEMP", 'F' },
	[ERR_USAGE] = { ERR_USAGE, "usage", 64, 400, "invalidSyntax", "PERM",
	    'F' },
	[ERR_BADFILTER] = { ERR_BADFILTER, "invalid_filter", 4, 400,
	    "invalidFilter", "PERM", 'F' },
	[ERR_BADPATH] = { ERR_BADPATH, "invalid_path", 4, 400, "invalidPath",
	    "PERM", 'F' },
	[ERR_NOTARGET] = { ERR_NOTARGET, "no_target", 4, 400, "noTarget",
	    "PERM", 'F' },
	[ERR_READONLY] = { ERR_READONLY, "read_only", 4, 400, "mutability",
	    "PERM", 'F' },
	[ERR_INTERNAL] = { ERR_INTERNAL, "internal", 99, 500, NULL, "TEMP",
	    'F' },
};

const struct err_info *
err_info(enum err_kind k)
{
	if ((int)k < 0 || k >= ERR__COUNT)
		k = ERR_INTERNAL;
	return &table[k];
}

int
err_exit_code(enum err_kind k)
{
	return err_info(k)->exit_code;
}

const char *
err_kind_name(enum err_kind k)
{
	return err_info(k)->name;
}

void
err_clear(struct err *e)
{
	e->kind = ERR_OK;
	e->msg[0] = '\0';
	e->hint[0] = '\0';
}

int
err_vset(struct err *e, enum err_kind k, const char *fmt, va_list ap)
{
	if (e == NULL)
		return -1;
	e->kind = k;
	e->hint[0] = '\0';
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int
err_set(struct err *e, enum err_kind k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, k, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_hint(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[ERR_MSG_MAX / 2], old[ERR_MSG_MAX];
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	n = strlen(pre);
	memcpy(e->msg, pre, n);
	e->msg[n++] = ':';
	e->msg[n++] = ' ';
	memcpy(e->msg + n, old, sizeof(e->msg) - n - 1);
	e->msg[sizeof(e->msg) - 1] = '\0';
	return -1;
}
