/*
 * out.c: tables for people, JSON for scripts.  Tables are buffered to
 * compute column widths; JSON lists are streamed element by element so a
 * million-row listing needs constant memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

struct table {
	struct cli *c;
	size_t ncols;
	char **cells; /* row-major */
	int *colors;
	size_t nrows;
	size_t *width;
};

/* Display width of UTF-8 text (code points; good enough for tables). */
static size_t
display_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct table *
table_new(struct cli *c, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->c = c;
	while (headers[t->ncols] != NULL)
		t->ncols++;
	t->width = xcalloc(t->ncols, sizeof(*t->width));
	table_add(t, headers);
	return t;
}

void
table_add_colored(struct table *t, const char *const *cells, const int *colors)
{
	t->cells = xreallocarray(
	    t->cells, (t->nrows + 1) * t->ncols, sizeof(*t->cells));
	t->colors = xreallocarray(
	    t->colors, (t->nrows + 1) * t->ncols, sizeof(*t->colors));
	for (size_t i = 0; i < t->ncols; i++) {
		const char *v = cells[i] != NULL ? cells[i] : "";
		char *copy = xstrdup(v);
		size_t w;

		/* Never let data move the cursor or ring the bell. */
		for (char *p = copy; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		w = display_width(copy);
		t->cells[t->nrows * t->ncols + i] = copy;
		t->colors[t->nrows * t->ncols + i] = colors ? colors[i] : 0;
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

void
table_add(struct table *t, const char *const *cells)
{
	table_add_colored(t, cells, NULL);
}

void
table_print(struct table *t)
{
	if (t->nrows <= 1) {
		if (!t->c->quiet)
			printf("(no rows)\n");
		return;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *v = t->cells[r * t->ncols + i];
			int col = r == 0 ? 5 : t->colors[r * t->ncols + i];
			size_t pad = t->width[i] - display_width(v);
			bool last = i + 1 == t->ncols;

			printf("%s%s%s", color_on(t->c, col), v,
			    col ? color_off(t->c) : "");
			if (!last)
				printf("%*s  ", (int)pad, "");
		}
		printf("\n");
	}
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	free(t->width);
	free(t);
}

/*
 * JSON goes through an in-memory buffer flushed in large writes: jansson's
 * json_dumpf writes token by token through stdio, which was a fifth of the
 * time of a million-row listing.
 */
static struct buf jout = { NULL, 0, 0, 0 };
static int json_items;

#define JOUT_FLUSH (64 * 1024)

static int
jout_append(const char *p, size_t n, void *arg)
{
	(void)arg;
	return buf_append(&jout, p, n);
}

static void
jout_flush(void)
{
	if (jout.len > 0)
		fwrite(jout.data, 1, jout.len, stdout);
	buf_reset(&jout);
}

static int
dump(json_t *v)
{
	int r;

	if (jout.max == 0)
		buf_init(&jout, 256 * 1024 * 1024);
	r = json_dump_callback(v, jout_append, NULL,
	    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
		JSON_ENCODE_ANY);
	if (jout.len >= JOUT_FLUSH)
		jout_flush();
	return r;
}

static void
jout_putc(int c)
{
	if (jout.max == 0)
		buf_init(&jout, 256 * 1024 * 1024);
	buf_putc(&jout, c);
}

void
out_json(struct cli *c, json_t *v)
{
	(void)c;
	dump(v);
	jout_putc('\n');
	jout_flush();
	json_decref(v);
}

void
out_json_begin(struct cli *c)
{
	(void)c;
	json_items = 0;
	jout_putc('[');
}

void
out_json_item(struct cli *c, json_t *v)
{
	(void)c;
	if (json_items++ > 0)
		jout_putc(',');
	dump(v);
	json_decref(v);
}

void
out_json_end(struct cli *c)
{
	(void)c;
	jout_putc(']');
	jout_putc('\n');
	jout_flush();
	buf_release(&jout);
	jout.max = 0;
}

json_t *
out_jstr(const char *s)
{
	json_t *j;
	char *u, *o;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* Not UTF-8 (latin1 from an old PostfixAdmin): convert, don't drop. */
	u = o = xmalloc(strlen(s) * 2 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			*o++ = (char)*p;
		else {
			*o++ = (char)(0xc0 | (*p >> 6));
			*o++ = (char)(0x80 | (*p & 0x3f));
		}
	}
	*o = '\0';
	j = json_string(u);
	free(u);
	return j != NULL ? j : json_string("");
}

json_t *
out_time(const char *t)
{
	char buf[32];

	if (t == NULL || *t == '\0')
		return json_null();
	str_copy(buf, t, sizeof(buf));
	if (strlen(buf) > 10 && buf[10] == ' ')
		buf[10] = 'T';
	return json_string(buf);
}

void
out_kv(struct cli *c, const char *const *keys, const char *const *vals)
{
	size_t w = 0;

	for (size_t i = 0; keys[i] != NULL; i++)
		if (strlen(keys[i]) > w)
			w = strlen(keys[i]);
	for (size_t i = 0; keys[i] != NULL; i++) {
		char *v = xstrdup(vals[i] != NULL ? vals[i] : "");

		for (char *p = v; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		printf("%s%-*s%s  %s\n", color_on(c, 5), (int)w, keys[i],
		    color_off(c), v);
		free(v);
	}
}

/*
 * Flat objects written straight into the output buffer, for listings of a
 * million rows: no json_t per row.  Strings are escaped as jansson does
 * with JSON_ENSURE_ASCII; bytes that are not valid UTF-8 (a latin1 name in
 * an old PostfixAdmin database) are kept as the code point of their byte
 * instead of making the value disappear.
 */
static void
jout_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_putc(&jout, '"');
	while (*p != '\0') {
		unsigned int cp;
		int n;

		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
			const unsigned char *q = p;

			while (
			    *q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
				q++;
			buf_append(&jout, p, (size_t)(q - p));
			p = q;
			continue;
		}
		switch (*p) {
		case '"':
			buf_puts(&jout, "\\\"");
			p++;
			continue;
		case '\\':
			buf_puts(&jout, "\\\\");
			p++;
			continue;
		case '\n':
			buf_puts(&jout, "\\n");
			p++;
			continue;
		case '\t':
			buf_puts(&jout, "\\t");
			p++;
			continue;
		case '\r':
			buf_puts(&jout, "\\r");
			p++;
			continue;
		default:
			break;
		}
		/* Decode one UTF-8 sequence, strictly. */
		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80 &&
		    *p >= 0xc2) {
			cp = ((*p & 0x1fu) << 6) | (p[1] & 0x3fu);
			n = 2;
		} else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 &&
		    (p[2] & 0xc0) == 0x80) {
			cp = ((*p & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
			    (p[2] & 0x3fu);
			n = 3;
			if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
				cp = *p, n = 1;
		} else if ((*p & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 &&
		    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
			cp = ((*p & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
			    ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
			n = 4;
			if (cp < 0x10000 || cp > 0x10ffff)
				cp = *p, n = 1;
		} else {
			cp = *p; /* not UTF-8: the byte as latin1 */
			n = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			buf_printf(&jout, "\\u%04X\\u%04X", 0xd800 + (cp >> 10),
			    0xdc00 + (cp & 0x3ff));
		} else
			buf_printf(&jout, "\\u%04X", cp);
		p += n;
	}
	buf_putc(&jout, '"');
}

void
out_obj_begin(struct cli *c)
{
	(void)c;
	if (jout.max == 0)
		buf_init(&jout, 256 * 1024 * 1024);
	if (json_items++ > 0)
		buf_putc(&jout, ',');
	buf_putc(&jout, '{');
}

static void
jout_key(const char *key)
{
	if (jout.len > 0 && jout.data[jout.len - 1] != '{')
		buf_putc(&jout, ',');
	buf_putc(&jout, '"');
	buf_puts(&jout, key);
	buf_puts(&jout, "\":");
}

void
out_obj_str(struct cli *c, const char *key, const char *val)
{
	(void)c;
	jout_key(key);
	if (val == NULL)
		buf_puts(&jout, "null");
	else
		jout_str(val);
}

void
out_obj_int(struct cli *c, const char *key, int64_t v)
{
	(void)c;
	jout_key(key);
	buf_printf(&jout, "%lld", (long long)v);
}

void
out_obj_bool(struct cli *c, const char *key, bool v)
{
	(void)c;
	jout_key(key);
	buf_puts(&jout, v ? "true" : "false");
}

void
out_obj_time(struct cli *c, const char *key, const char *t)
{
	char b[32];

	if (t == NULL || *t == '\0') {
		out_obj_str(c, key, NULL);
		return;
	}
	str_copy(b, t, sizeof(b));
	if (strlen(b) > 10 && b[10] == ' ')
		b[10] = 'T';
	out_obj_str(c, key, b);
}

void
out_obj_end(struct cli *c)
{
	(void)c;
	buf_putc(&jout, '}');
	if (jout.len >= JOUT_FLUSH)
		jout_flush();
}
