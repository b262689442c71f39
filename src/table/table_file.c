/*
 * table_file: a map read from a text file once, at open (and so again at
 * every podop reload).  The format is postmap(1)'s source format: a logical
 * line is "key whitespace value"; lines starting with whitespace continue
 * the previous one; empty lines and lines starting with '#' are ignored.
 * Keys are folded to lower case, at load and at lookup, as Postfix does
 * for its indexed maps; a later duplicate key wins.  The table supports
 * dict iteration (keys in sorted order).  After open the map is read-only,
 * so lookups from several threads need no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "proto_dict.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

#define FILE_MAX_SIZE (256u * 1024u * 1024u)

struct fentry {
	char *key;
	char *value;
	size_t seq; /* input order, so later duplicates win */
};

struct fmap {
	struct fentry *v; /* sorted by key */
	size_t n;
	size_t cap;
};

static int
cmp_entry(const void *a, const void *b)
{
	const struct fentry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
add_line(struct fmap *m, char *line)
{
	size_t klen = strcspn(line, " \t");
	char *val = line + klen;

	if (*val != '\0') {
		*val = '\0';
		val = str_trim(val + 1);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n].key = str_lower(xstrdup(line));
	m->v[m->n].value = xstrdup(val);
	m->v[m->n].seq = m->n;
	m->n++;
}

static void
fmap_free(struct fmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].key);
		free(m->v[i].value);
	}
	free(m->v);
	free(m);
}

static int
file_read(struct fmap *m, FILE *fp)
{
	struct buf logical;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;

	buf_init(&logical, FILE_MAX_SIZE);
	while ((len = getline(&line, &lcap, fp)) != -1) {
		while (
		    len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == ' ' || line[0] == '\t') {
			char *rest = str_trim(line);

			if (*rest != '\0' && logical.len > 0 &&
			    (buf_putc(&logical, ' ') == -1 ||
				buf_puts(&logical, rest) == -1))
				break;
			continue;
		}
		if (logical.len > 0)
			add_line(m, logical.data);
		buf_reset(&logical);
		if (*str_trim(line) != '\0' && buf_puts(&logical, line) == -1)
			break;
	}
	if (logical.len > 0)
		add_line(m, logical.data);
	free(line);
	buf_release(&logical);
	return ferror(fp) ? -1 : 0;
}

static int
file_open(struct table *t, struct err *err)
{
	struct fmap *m;
	struct stat st;
	size_t out = 0;
	FILE *fp;

	if (t->param[0] == '\0')
		return err_set(err, ERR_CONFIG, "file: needs a path");
	if ((fp = fopen(t->param, "r")) == NULL)
		return err_set(err, ERR_CONFIG, "cannot open '%s': %s",
		    t->param, strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && st.st_size > (off_t)FILE_MAX_SIZE) {
		fclose(fp);
		return err_set(err, ERR_CONFIG, "'%s' is larger than %u bytes",
		    t->param, FILE_MAX_SIZE);
	}
	m = xcalloc(1, sizeof(*m));
	if (file_read(m, fp) == -1) {
		fclose(fp);
		fmap_free(m);
		return err_set(err, ERR_CONFIG, "cannot read '%s'", t->param);
	}
	fclose(fp);
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), cmp_entry);
	for (size_t i = 0; i < m->n; i++) {
		if (out > 0 && strcmp(m->v[out - 1].key, m->v[i].key) == 0) {
			free(m->v[out - 1].key);
			free(m->v[out - 1].value);
		} else
			out++;
		m->v[out - 1] = m->v[i];
	}
	m->n = out;
	t->handle = m;
	return 0;
}

/* Index of the first entry whose key is >= key. */
static size_t
lower_bound(const struct fmap *m, const char *key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
file_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	const struct fmap *m = t->handle;
	struct buf k;
	size_t i;
	int r = 0;

	(void)ttl_ms_r;
	buf_init(&k, TABLE_KEY_MAX * 2);
	if (table_flat_key(&k, key, user) == -1) {
		buf_release(&k);
		return 0;
	}
	str_lower(k.data);
	i = lower_bound(m, k.data);
	if (i < m->n && strcmp(m->v[i].key, k.data) == 0) {
		r = 1;
		if (buf_puts(value_r, m->v[i].value) == -1)
			r = err_set(err, ERR_TOOLARGE, "value too large");
	}
	buf_release(&k);
	return r;
}

static int
file_iterate(struct table *t, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *fn, void *arg,
    struct err *err)
{
	const struct fmap *m = t->handle;
	uint64_t rows = 0;
	char *p = str_lower(xstrdup(path));
	char *u = user != NULL ? str_lower(xstrdup(user)) : NULL;
	size_t ulen = u != NULL ? strlen(u) + 1 : 0;
	struct buf rel;
	int r = 0;

	/*
	 * A private iteration sees only the user's "key/user" rows, as
	 * "key": never another user's keys.
	 */
	buf_init(&rel, TABLE_KEY_MAX * 2);
	for (size_t i = lower_bound(m, p); i < m->n; i++) {
		const char *k = m->v[i].key;
		size_t klen = strlen(k);

		if (strncmp(k, p, strlen(p)) != 0)
			break;
		if (u != NULL &&
		    (klen < ulen || k[klen - ulen] != '/' ||
			strcmp(k + klen - ulen + 1, u) != 0))
			continue;
		buf_reset(&rel);
		buf_append(&rel, k, klen - ulen);
		if (!table_iter_match(p, buf_cstr(&rel), flags))
			continue;
		if (max_rows > 0 && rows >= max_rows)
			break;
		if (fn(arg, buf_cstr(&rel), m->v[i].value, err) == -1) {
			r = -1;
			break;
		}
		rows++;
	}
	buf_release(&rel);
	free(u);
	free(p);
	return r;
}

static void
file_close(struct table *t)
{
	fmap_free(t->handle);
	t->handle = NULL;
}

const struct table_backend table_backend_file = {
	.name = "file",
	.flags = TABLE_F_INLINE,
	.open = file_open,
	.lookup = file_lookup,
	.iterate = file_iterate,
	.close = file_close,
};
