/*
 * Fuzz the TOML reader.  Beyond "no crash, no leak, no UB", every parse
 * is checked against two oracles: a document that parses is rendered back
 * to TOML and must parse again to the same tree, and a failure must be a
 * "NAME:LINE: ..." ERR_CONFIG that leaves the document empty.  Short
 * inputs also go through toml_parse_integer, checked against printf.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_toml: invariant broken: %s\n", what);
		abort();
	}
}

static void
put_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\u%04X", c);
		else
			buf_putc(b, c);
	}
	buf_putc(b, '"');
}

/* The document as TOML; implicit tables are left to their subtables. */
static void
render(const struct toml_doc *doc, struct buf *b)
{
	for (size_t t = 0; t < doc->ntables; t++) {
		const struct toml_table *tb = &doc->tables[t];

		if (tb->implicit)
			continue;
		if (t > 0)
			buf_printf(b, "[%s]\n", tb->name);
		for (size_t i = 0; i < tb->nentries; i++) {
			const struct toml_value *v = &tb->entries[i].value;

			buf_printf(b, "%s = ", tb->entries[i].key);
			switch (v->type) {
			case TOML_STRING:
				put_string(b, v->s);
				break;
			case TOML_INTEGER:
				buf_printf(b, "%" PRId64, v->i);
				break;
			case TOML_BOOLEAN:
				buf_puts(b, v->b ? "true" : "false");
				break;
			case TOML_FLOAT: {
				char f[64];

				if (isnan(v->f))
					snprintf(f, sizeof(f), "nan");
				else
					snprintf(f, sizeof(f), "%.17g", v->f);
				if (strpbrk(f, ".eni") == NULL)
					buf_printf(b, "%s.0", f);
				else
					buf_puts(b, f);
				break;
			}
			case TOML_ARRAY:
				buf_putc(b, '[');
				for (size_t j = 0; j < v->nitems; j++) {
					put_string(b, v->items[j]);
					buf_puts(b, ", ");
				}
				buf_putc(b, ']');
				break;
			}
			buf_putc(b, '\n');
		}
	}
}

static int
same_value(const struct toml_value *a, const struct toml_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case TOML_STRING:
		return strcmp(a->s, b->s) == 0;
	case TOML_INTEGER:
		return a->i == b->i;
	case TOML_BOOLEAN:
		return a->b == b->b;
	case TOML_FLOAT:
		return (isnan(a->f) && isnan(b->f)) || a->f == b->f;
	case TOML_ARRAY:
		if (a->nitems != b->nitems)
			return 0;
		for (size_t i = 0; i < a->nitems; i++)
			if (strcmp(a->items[i], b->items[i]) != 0)
				return 0;
		return 1;
	}
	return 0;
}

static void
check_tree(const struct toml_doc *doc)
{
	check(doc->ntables >= 1 && doc->tables[0].name[0] == '\0' &&
		!doc->tables[0].implicit,
	    "tables[0] is the root");
	check(doc->ntables <= TOML_MAX_TABLES, "table cap");
	for (size_t t = 0; t < doc->ntables; t++) {
		const struct toml_table *tb = &doc->tables[t];

		check(toml_table(doc, tb->name) == tb, "table names unique");
		check(!tb->implicit || tb->nentries == 0,
		    "implicit tables are empty");
		for (size_t i = 0; i < tb->nentries; i++) {
			const struct toml_entry *e = &tb->entries[i];

			check(toml_get(tb, e->key) == e, "keys unique");
			check(e->line >= 1, "entries have a line");
		}
	}
}

static void
check_same(const struct toml_doc *a, const struct toml_doc *b)
{
	check(a->ntables == b->ntables, "round trip: table count");
	for (size_t t = 0; t < a->ntables; t++) {
		const struct toml_table *x = &a->tables[t], *y = &b->tables[t];

		check(strcmp(x->name, y->name) == 0, "round trip: table name");
		check(x->implicit == y->implicit, "round trip: implicit");
		check(x->nentries == y->nentries, "round trip: entry count");
		for (size_t i = 0; i < x->nentries; i++) {
			check(strcmp(x->entries[i].key, y->entries[i].key) == 0,
			    "round trip: key");
			check(same_value(
				  &x->entries[i].value, &y->entries[i].value),
			    "round trip: value");
		}
	}
}

static void
fuzz_integer(const char *s, size_t n)
{
	char canon[64], want[32];
	const char *why = NULL;
	int64_t v;
	size_t j = 0;

	if (toml_parse_integer(s, n, &v, &why) == -1) {
		check(why != NULL, "integer failure has a reason");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_' && s[i] != '+')
			canon[j++] = s[i];
	canon[j] = '\0';
	if (strcmp(canon, "-0") == 0)
		memcpy(canon, "0", 2);
	snprintf(want, sizeof(want), "%" PRId64, v);
	check(strcmp(canon, want) == 0, "integer agrees with printf");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_doc doc, again;
	struct err err = ERR_INIT;
	struct buf b;

	if (size < 40)
		fuzz_integer((const char *)data, size);
	if (toml_parse_buf(&doc, "fuzz.toml", (const char *)data, size, &err) ==
	    -1) {
		check(err.kind == ERR_CONFIG, "failures are ERR_CONFIG");
		check(strncmp(err.msg, "fuzz.toml:", 10) == 0,
		    "failures name the document");
		check(doc.tables == NULL && doc.ntables == 0,
		    "failures leave nothing behind");
		return 0;
	}
	check_tree(&doc);
	buf_init(&b, 0);
	render(&doc, &b);
	if (toml_parse_buf(&again, "again.toml", buf_cstr(&b), b.len, &err) ==
	    -1) {
		fprintf(stderr, "re-parse failed: %s\n---\n%s---\n", err.msg,
		    buf_cstr(&b));
		check(0, "rendered document parses");
	}
	check_same(&doc, &again);
	toml_release(&again);
	buf_release(&b);
	toml_release(&doc);
	return 0;
}
