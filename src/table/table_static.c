/*
 * table_static: every key has the same value, as Postfix's static: map.
 * "static:{text with spaces}" drops the braces, as Postfix does.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

static int
static_open(struct table *t, struct err *err)
{
	const char *p = t->param;
	size_t n = strlen(p);

	if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
		p++;
		n -= 2;
	}
	if (n == 0)
		return err_set(err, ERR_CONFIG, "static: needs a value");
	t->handle = xstrndup(p, n);
	return 0;
}

static int
static_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	(void)key;
	(void)user;
	(void)ttl_ms_r;
	if (buf_puts(value_r, t->handle) == -1)
		return err_set(err, ERR_TOOLARGE, "value too large");
	return 1;
}

static void
static_close(struct table *t)
{
	free(t->handle);
	t->handle = NULL;
}

const struct table_backend table_backend_static = {
	.name = "static",
	.flags = TABLE_F_INLINE,
	.open = static_open,
	.lookup = static_lookup,
	.close = static_close,
};
