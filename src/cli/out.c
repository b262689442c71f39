/*
 * out.c: tables for people, JSON for scripts.  Tables are buffered to
 * compute column widths; JSON lists are streamed element by element so a
 * million-row listing needs constant memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

struct table {
	struct cli	 *c;
	size_t		  ncols;
	char		**cells;	/* row-major */
	int		 *colors;
	size_t		  nrows;
	size_t		 *width;
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
table_add_colored(struct table *t, const char *const *cells,
    const int *colors)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(*t->cells));
	t->colors = xreallocarray(t->colors, (t->nrows + 1) * t->ncols,
	    sizeof(*t->colors));
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

static int
dump(json_t *v)
{
	return json_dumpf(v, stdout, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

void
out_json(struct cli *c, json_t *v)
{
	(void)c;
	dump(v);
	fputc('\n', stdout);
	json_decref(v);
}

static int json_items;

void
out_json_begin(struct cli *c)
{
	(void)c;
	json_items = 0;
	fputc('[', stdout);
}

void
out_json_item(struct cli *c, json_t *v)
{
	(void)c;
	if (json_items++ > 0)
		fputc(',', stdout);
	dump(v);
	json_decref(v);
}

void
out_json_end(struct cli *c)
{
	(void)c;
	fputs("]\n", stdout);
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
