#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "strutil.h"
#include "toml.h"
#include "xalloc.h"
#include "banned.h"

/* Longest piece of input quoted back in a message. */
#define SHOW 40

struct parser {
	const char *name;
	const char *p;
	const char *end;
	int line;
	struct toml_doc *doc;
	size_t cur; /* index of the table being filled */
	struct err *err;
};

static int perr(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static size_t utf8_len(const unsigned char *, size_t);
static int scan_text(const char *, size_t, bool, size_t *, const char **);
static void value_release(struct toml_value *);
static ssize_t table_find(const struct toml_doc *, const char *);
static size_t table_add(struct toml_doc *, char *, int, bool);
static bool is_bare(char);
static bool at_eol(const struct parser *);
static void skip_ws(struct parser *);
static void skip_comment(struct parser *);
static void skip_newline(struct parser *);
static void skip_space(struct parser *);
static const char *show_char(const struct parser *, char *, size_t);
static int expect_eol(struct parser *, const char *);
static size_t bare_key(struct parser *);
static int parse_header(struct parser *);
static int parse_keyval(struct parser *);
static int parse_value(struct parser *, struct toml_value *);
static void put_utf8(struct buf *, uint32_t);
static int parse_escape(struct parser *, struct buf *);
static int parse_basic(struct parser *, char **);
static int parse_literal(struct parser *, char **);
static int parse_array(struct parser *, struct toml_value *);
static bool all_digits(const char *, size_t);
static int parse_token(struct parser *, struct toml_value *);

/* "NAME:LINE: message", always ERR_CONFIG; returns -1. */
static int
perr(struct parser *ps, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(
	    ps->err, ERR_CONFIG, "%s:%d: %s", ps->name, ps->line, msg);
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_BOOLEAN:
		return "boolean";
	case TOML_ARRAY:
		return "array";
	case TOML_FLOAT:
		return "float";
	}
	return "value";
}

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Check that text is valid UTF-8 without control characters other than
 * tab (and, if newlines, LF and CR LF).  On failure *off_r is the offset
 * of the offending byte.
 */
static int
scan_text(const char *text, size_t len, bool newlines, size_t *off_r,
    const char **why_r)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		*off_r = i;
		if (s[i] >= 0x80) {
			if ((n = utf8_len(s + i, len - i)) == 0) {
				*why_r = "invalid UTF-8";
				return -1;
			}
			i += n;
			continue;
		}
		if (s[i] == '\t' || (newlines && s[i] == '\n') ||
		    (newlines && s[i] == '\r' && i + 1 < len &&
			s[i + 1] == '\n')) {
			i++;
			continue;
		}
		if (s[i] == '\r' && newlines) {
			*why_r = "carriage return not followed by a newline";
			return -1;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			*why_r = "control characters are not allowed";
			return -1;
		}
		i++;
	}
	return 0;
}

int
toml_check_text(const char *s, size_t len, const char **why_r)
{
	size_t off;

	return scan_text(s, len, false, &off, why_r);
}

int
toml_parse_integer(const char *s, size_t len, int64_t *v_r, const char **why_r)
{
	uint64_t acc = 0, limit = INT64_MAX;
	bool neg = false;
	size_t i = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		if (neg)
			limit = (uint64_t)INT64_MAX + 1;
		i++;
	}
	if (i == len || s[i] < '0' || s[i] > '9') {
		*why_r = "not a decimal integer";
		return -1;
	}
	if (s[i] == '0' && i + 1 < len) {
		*why_r = "leading zeros are not allowed";
		return -1;
	}
	for (; i < len; i++) {
		unsigned d;

		if (s[i] == '_') {
			if (s[i - 1] < '0' || s[i - 1] > '9' || i + 1 == len ||
			    s[i + 1] < '0' || s[i + 1] > '9') {
				*why_r = "'_' must stand between two digits";
				return -1;
			}
			continue;
		}
		if (s[i] < '0' || s[i] > '9') {
			*why_r = "not a decimal integer";
			return -1;
		}
		d = (unsigned)(s[i] - '0');
		if (acc > (limit - d) / 10) {
			*why_r = "integer out of range";
			return -1;
		}
		acc = acc * 10 + d;
	}
	if (neg)
		*v_r =
		    acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*v_r = (int64_t)acc;
	return 0;
}

/* Digits with single '_' between them, at s[*i]; at least one. */
static bool
digits_(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len) {
		if (s[*i] >= '0' && s[*i] <= '9')
			(*i)++;
		else if (s[*i] == '_' && *i > start && *i + 1 < len &&
		    s[*i + 1] >= '0' && s[*i + 1] <= '9')
			(*i)++;
		else
			break;
	}
	return *i > start;
}

int
toml_parse_float(const char *s, size_t len, double *v_r, const char **why_r)
{
	char tmp[128], *end;
	size_t i = 0, n = 0;
	bool frac = false, exp = false;
	double v;

	if (len > 0 && (s[0] == '+' || s[0] == '-'))
		i++;
	if (len - i == 3 && memcmp(s + i, "inf", 3) == 0) {
		*v_r = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
		return 0;
	}
	if (len - i == 3 && memcmp(s + i, "nan", 3) == 0) {
		*v_r = NAN;
		return 0;
	}
	if (i < len && s[i] == '0' && i + 1 < len && s[i + 1] >= '0' &&
	    s[i + 1] <= '9') {
		*why_r = "leading zeros are not allowed";
		return -1;
	}
	if (!digits_(s, len, &i)) {
		*why_r = "a float starts with a digit (write 0.5, not .5)";
		return -1;
	}
	if (i < len && s[i] == '.') {
		i++;
		if (!digits_(s, len, &i)) {
			*why_r =
			    "a digit must follow the '.' (write 1.0, not 1.)";
			return -1;
		}
		frac = true;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digits_(s, len, &i)) {
			*why_r = "the exponent needs digits";
			return -1;
		}
		exp = true;
	}
	if (i != len || (!frac && !exp)) {
		*why_r = "not a float";
		return -1;
	}
	if (len >= sizeof(tmp)) {
		*why_r = "too long";
		return -1;
	}
	for (i = 0; i < len; i++)
		if (s[i] != '_')
			tmp[n++] = s[i];
	tmp[n] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(v))) {
		*why_r = "float out of range";
		return -1;
	}
	*v_r = v;
	return 0;
}

static void
value_release(struct toml_value *v)
{
	free(v->s);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

void
toml_release(struct toml_doc *doc)
{
	for (size_t t = 0; t < doc->ntables; t++) {
		struct toml_table *tb = &doc->tables[t];

		for (size_t i = 0; i < tb->nentries; i++) {
			free(tb->entries[i].key);
			value_release(&tb->entries[i].value);
		}
		free(tb->entries);
		free(tb->name);
	}
	free(doc->tables);
	free(doc->name);
	memset(doc, 0, sizeof(*doc));
}

const struct toml_table *
toml_table(const struct toml_doc *doc, const char *name)
{
	ssize_t i = table_find(doc, name);

	return i == -1 ? NULL : &doc->tables[i];
}

const struct toml_entry *
toml_get(const struct toml_table *t, const char *key)
{
	for (size_t i = 0; i < t->nentries; i++)
		if (strcmp(t->entries[i].key, key) == 0)
			return &t->entries[i];
	return NULL;
}

static ssize_t
table_find(const struct toml_doc *doc, const char *name)
{
	for (size_t i = 0; i < doc->ntables; i++)
		if (strcmp(doc->tables[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Append a table (taking name); returns its index. */
static size_t
table_add(struct toml_doc *doc, char *name, int line, bool implicit)
{
	struct toml_table *t;

	doc->tables =
	    xreallocarray(doc->tables, doc->ntables + 1, sizeof(*doc->tables));
	t = &doc->tables[doc->ntables];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->line = line;
	t->implicit = implicit;
	return doc->ntables++;
}

static bool
is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* At a newline (LF or CR LF; the scan let no other CR through) or EOF. */
static bool
at_eol(const struct parser *ps)
{
	return ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r';
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static void
skip_comment(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r')
			ps->p++;
}

static void
skip_newline(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
		ps->line++;
	}
}

/* Whitespace, comments and newlines, as allowed inside an array. */
static void
skip_space(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		skip_comment(ps);
		if (ps->p == ps->end || (*ps->p != '\n' && *ps->p != '\r'))
			return;
		skip_newline(ps);
	}
}

/* Describe the character at p for a message: "'x'" or "a non-ASCII ...". */
static const char *
show_char(const struct parser *ps, char *tmp, size_t size)
{
	unsigned char c = (unsigned char)*ps->p;

	if (c > 0x20 && c < 0x7f)
		snprintf(tmp, size, "'%c'", c);
	else if (c == ' ' || c == '\t')
		snprintf(tmp, size, "whitespace");
	else
		snprintf(tmp, size, "a non-ASCII character");
	return tmp;
}

static int
expect_eol(struct parser *ps, const char *after)
{
	char tmp[32];

	skip_ws(ps);
	skip_comment(ps);
	if (!at_eol(ps))
		return perr(ps,
		    "expected the end of the line after %s, found %s", after,
		    show_char(ps, tmp, sizeof(tmp)));
	skip_newline(ps);
	return 0;
}

/* Consume a bare key; returns its length (0 if there is none). */
static size_t
bare_key(struct parser *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	return (size_t)(ps->p - start);
}

static int
parse_header(struct parser *ps)
{
	const char *part[TOML_MAX_DEPTH];
	size_t plen[TOML_MAX_DEPTH], depth = 0, parent = 0;
	struct buf name;
	char tmp[32];
	int rc = 0;

	ps->p++;
	if (ps->p < ps->end && *ps->p == '[')
		return perr(ps, "arrays of tables ([[...]]) are not supported");
	for (;;) {
		skip_ws(ps);
		if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
			return perr(ps,
			    "quoted keys are not supported in table headers");
		if (depth == TOML_MAX_DEPTH)
			return perr(ps,
			    "table headers may have at most %d parts",
			    TOML_MAX_DEPTH);
		part[depth] = ps->p;
		if ((plen[depth] = bare_key(ps)) == 0) {
			if (at_eol(ps))
				return perr(ps, "unterminated table header");
			return perr(ps,
			    "expected a table name in the header, found %s",
			    show_char(ps, tmp, sizeof(tmp)));
		}
		depth++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		if (at_eol(ps))
			return perr(ps, "unterminated table header");
		return perr(ps,
		    "expected '.' or ']' in the table header, found %s",
		    show_char(ps, tmp, sizeof(tmp)));
	}

	/*
	 * Walk the prefixes "a", "a.b", ...: each must not be a key of its
	 * parent, is created implicitly if missing, and the full name must
	 * not have had a header of its own before.
	 */
	buf_init(&name, TOML_MAX_SIZE);
	for (size_t d = 0; d < depth && rc == 0; d++) {
		const struct toml_entry *e;
		char *key = xstrndup(part[d], plen[d]);
		ssize_t t;

		if (d > 0)
			buf_putc(&name, '.');
		buf_append(&name, part[d], plen[d]);
		if ((e = toml_get(&ps->doc->tables[parent], key)) != NULL)
			rc = perr(ps,
			    "table [%.*s] conflicts with key '%s' defined at line %d",
			    (int)name.len, buf_cstr(&name), key, e->line);
		free(key);
		if (rc == -1)
			break;
		t = table_find(ps->doc, buf_cstr(&name));
		if (t == -1) {
			if (ps->doc->ntables == TOML_MAX_TABLES) {
				rc = perr(ps, "too many tables (at most %d)",
				    TOML_MAX_TABLES);
				break;
			}
			parent = table_add(ps->doc, xstrdup(buf_cstr(&name)),
			    ps->line, d + 1 < depth);
		} else if (d + 1 == depth) {
			struct toml_table *tb = &ps->doc->tables[t];

			if (!tb->implicit)
				rc = perr(ps,
				    "duplicate table [%s] (first defined at line %d)",
				    tb->name, tb->line);
			tb->implicit = false;
			tb->line = ps->line;
			parent = (size_t)t;
		} else
			parent = (size_t)t;
	}
	buf_release(&name);
	if (rc == -1)
		return -1;
	ps->cur = parent;
	return expect_eol(ps, "the table header");
}

static int
parse_keyval(struct parser *ps)
{
	struct toml_table *t = &ps->doc->tables[ps->cur];
	const struct toml_entry *e;
	struct toml_value v;
	const char *start = ps->p;
	size_t klen = bare_key(ps);
	char *key, *sub, tmp[32];
	int line = ps->line;

	key = xstrndup(start, klen);
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		perr(ps,
		    "dotted keys are not supported (in '%.*s.'); use a [table] header",
		    SHOW, key);
		goto fail;
	}
	if (ps->p == ps->end || *ps->p != '=') {
		if (at_eol(ps))
			perr(ps, "expected '=' after key '%.*s'", SHOW, key);
		else
			perr(ps, "expected '=' after key '%.*s', found %s",
			    SHOW, key, show_char(ps, tmp, sizeof(tmp)));
		goto fail;
	}
	ps->p++;
	if ((e = toml_get(t, key)) != NULL) {
		perr(ps, "duplicate key '%.*s' (first defined at line %d)",
		    SHOW, key, e->line);
		goto fail;
	}
	sub = t->name[0] == '\0' ? xstrdup(key)
				 : xasprintf("%s.%s", t->name, key);
	if (table_find(ps->doc, sub) != -1) {
		perr(ps, "key '%.*s' conflicts with table [%.*s]", SHOW, key,
		    SHOW, sub);
		free(sub);
		goto fail;
	}
	free(sub);
	if (t->nentries == TOML_MAX_KEYS) {
		perr(ps, "too many keys in one table (at most %d)",
		    TOML_MAX_KEYS);
		goto fail;
	}
	skip_ws(ps);
	memset(&v, 0, sizeof(v));
	if (parse_value(ps, &v) == -1)
		goto fail;
	t->entries =
	    xreallocarray(t->entries, t->nentries + 1, sizeof(*t->entries));
	t->entries[t->nentries].key = key;
	t->entries[t->nentries].value = v;
	t->entries[t->nentries].line = line;
	t->nentries++;
	return expect_eol(ps, "the value");
fail:
	free(key);
	return -1;
}

static int
parse_value(struct parser *ps, struct toml_value *v)
{
	if (at_eol(ps) || *ps->p == '#')
		return perr(ps, "missing value after '='");
	switch (*ps->p) {
	case '"':
		v->type = TOML_STRING;
		return parse_basic(ps, &v->s);
	case '\'':
		v->type = TOML_STRING;
		return parse_literal(ps, &v->s);
	case '[':
		return parse_array(ps, v);
	case '{':
		return perr(ps, "inline tables are not supported");
	default:
		return parse_token(ps, v);
	}
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

/* One escape after the backslash at ps->p; appends to b. */
static int
parse_escape(struct parser *ps, struct buf *b)
{
	uint32_t cp = 0;
	size_t ndig;
	char c;

	ps->p++;
	if (at_eol(ps))
		return perr(ps,
		    "a backslash at the end of a line is only allowed in multi-line strings, which are not supported");
	c = *ps->p++;
	switch (c) {
	case 'b':
		return buf_putc(b, '\b');
	case 't':
		return buf_putc(b, '\t');
	case 'n':
		return buf_putc(b, '\n');
	case 'f':
		return buf_putc(b, '\f');
	case 'r':
		return buf_putc(b, '\r');
	case '"':
		return buf_putc(b, '"');
	case '\\':
		return buf_putc(b, '\\');
	case 'u':
		ndig = 4;
		break;
	case 'U':
		ndig = 8;
		break;
	default:
		if (c > 0x20 && c < 0x7f)
			return perr(ps, "invalid escape '\\%c' in string", c);
		return perr(ps, "invalid escape in string");
	}
	for (size_t i = 0; i < ndig; i++) {
		int h =
		    ps->p < ps->end ? str_hexval((unsigned char)*ps->p) : -1;

		if (h == -1)
			return perr(
			    ps, "'\\%c' needs %zu hexadecimal digits", c, ndig);
		cp = cp << 4 | (uint32_t)h;
		ps->p++;
	}
	if (cp == 0)
		return perr(
		    ps, "'\\%c0000' (NUL) is not allowed in strings", c);
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return perr(ps,
		    "'\\%c' escape U+%04X is not a Unicode scalar value", c,
		    (unsigned)cp);
	put_utf8(b, cp);
	return 0;
}

static int
parse_basic(struct parser *ps, char **s_r)
{
	struct buf b;

	if (ps->end - ps->p >= 3 && memcmp(ps->p, "\"\"\"", 3) == 0)
		return perr(
		    ps, "multi-line strings (\"\"\") are not supported");
	ps->p++;
	buf_init(&b, TOML_MAX_SIZE);
	for (;;) {
		if (at_eol(ps)) {
			buf_release(&b);
			return perr(ps, "unterminated string");
		}
		if (*ps->p == '"') {
			ps->p++;
			break;
		}
		if (*ps->p == '\\') {
			if (parse_escape(ps, &b) == -1) {
				buf_release(&b);
				return -1;
			}
			continue;
		}
		buf_putc(&b, *ps->p++);
	}
	*s_r = buf_detach(&b);
	return 0;
}

static int
parse_literal(struct parser *ps, char **s_r)
{
	const char *start;

	if (ps->end - ps->p >= 3 && memcmp(ps->p, "'''", 3) == 0)
		return perr(ps, "multi-line strings (''') are not supported");
	start = ++ps->p;
	while (!at_eol(ps) && *ps->p != '\'')
		ps->p++;
	if (at_eol(ps))
		return perr(ps, "unterminated string");
	*s_r = xstrndup(start, (size_t)(ps->p - start));
	ps->p++;
	return 0;
}

static int
parse_array(struct parser *ps, struct toml_value *v)
{
	int opened = ps->line;
	char tmp[32];

	v->type = TOML_ARRAY;
	ps->p++;
	for (;;) {
		char *s;
		int rc;

		skip_space(ps);
		if (ps->p == ps->end)
			goto unterminated;
		if (*ps->p == ']')
			break;
		if (*ps->p == '"')
			rc = parse_basic(ps, &s);
		else if (*ps->p == '\'')
			rc = parse_literal(ps, &s);
		else if (*ps->p == '[')
			rc = perr(ps, "nested arrays are not supported");
		else if (*ps->p == '{')
			rc = perr(ps, "inline tables are not supported");
		else if (*ps->p == ',')
			rc = perr(ps, "unexpected ',' in array");
		else
			rc = perr(ps, "arrays may hold only strings");
		if (rc == -1)
			goto fail;
		if (v->nitems == TOML_MAX_ITEMS) {
			free(s);
			perr(ps, "too many items in array (at most %d)",
			    TOML_MAX_ITEMS);
			goto fail;
		}
		v->items =
		    xreallocarray(v->items, v->nitems + 1, sizeof(*v->items));
		v->items[v->nitems++] = s;
		skip_space(ps);
		if (ps->p == ps->end)
			goto unterminated;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == ']')
			break;
		perr(ps, "expected ',' or ']' in array, found %s",
		    show_char(ps, tmp, sizeof(tmp)));
		goto fail;
	}
	ps->p++;
	return 0;
unterminated:
	perr(ps, "unterminated array (opened at line %d)", opened);
fail:
	value_release(v);
	return -1;
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* true, false, an integer, or something we name and reject. */
static int
parse_token(struct parser *ps, struct toml_value *v)
{
	const char *t = ps->p, *u;
	const char *why;
	size_t n, un;
	char tmp[32];

	while (ps->p < ps->end && *ps->p != '\0' &&
	    strchr(" \t\r\n#,[]{}\"'=", *ps->p) == NULL)
		ps->p++;
	n = (size_t)(ps->p - t);
	if (n == 0)
		return perr(ps, "expected a value, found %s",
		    show_char(ps, tmp, sizeof(tmp)));
	if ((n == 4 && memcmp(t, "true", 4) == 0) ||
	    (n == 5 && memcmp(t, "false", 5) == 0)) {
		v->type = TOML_BOOLEAN;
		v->b = n == 4;
		return 0;
	}
	u = t;
	un = n;
	if (*u == '+' || *u == '-') {
		u++;
		un--;
	}
	if ((un == 3 &&
		(memcmp(u, "inf", 3) == 0 || memcmp(u, "nan", 3) == 0))) {
		v->type = TOML_FLOAT;
		return toml_parse_float(t, n, &v->f, &why);
	}
	if (un >= 2 && u[0] == '0' &&
	    (u[1] == 'x' || u[1] == 'o' || u[1] == 'b'))
		return perr(ps,
		    "only decimal integers are supported (found '%.*s')",
		    (int)(n < SHOW ? n : SHOW), t);
	if (un > 0 && u[0] >= '0' && u[0] <= '9') {
		if (memchr(t, ':', n) != NULL ||
		    (n >= 5 && all_digits(t, 4) && t[4] == '-'))
			return perr(ps, "dates and times are not supported");
		if (memchr(t, '.', n) != NULL || memchr(t, 'e', n) != NULL ||
		    memchr(t, 'E', n) != NULL) {
			v->type = TOML_FLOAT;
			if (toml_parse_float(t, n, &v->f, &why) == -1)
				return perr(ps, "invalid float '%.*s': %s",
				    (int)(n < SHOW ? n : SHOW), t, why);
			return 0;
		}
		v->type = TOML_INTEGER;
		if (toml_parse_integer(t, n, &v->i, &why) == -1)
			return perr(ps, "invalid integer '%.*s': %s",
			    (int)(n < SHOW ? n : SHOW), t, why);
		return 0;
	}
	return perr(ps, "invalid value '%.*s' (strings must be quoted)",
	    (int)(n < SHOW ? n : SHOW), t);
}

int
toml_parse_buf(struct toml_doc *doc, const char *name, const char *data,
    size_t len, struct err *err)
{
	struct parser ps;
	const char *why;
	size_t off;
	char tmp[32];
	int rc = 0;

	memset(doc, 0, sizeof(*doc));
	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.line = 1;
	ps.err = err;
	if (len > TOML_MAX_SIZE)
		return err_set(err, ERR_CONFIG, "%s: larger than %d bytes",
		    name, TOML_MAX_SIZE);
	if (len == 0)
		data = ""; /* no arithmetic on a NULL pointer */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3; /* a byte-order mark */
		len -= 3;
	}
	if (len > 0 && scan_text(data, len, true, &off, &why) == -1) {
		unsigned char c = (unsigned char)data[off];

		for (size_t i = 0; i < off; i++)
			if (data[i] == '\n')
				ps.line++;
		if ((c < 0x20 && c != '\r') || c == 0x7f)
			return perr(
			    &ps, "control character U+%04X is not allowed", c);
		return perr(&ps, "%s", why);
	}
	doc->name = xstrdup(name);
	table_add(doc, xstrdup(""), 0, false);
	ps.doc = doc;
	ps.p = data;
	ps.end = data + len;
	while (rc == 0 && ps.p < ps.end) {
		skip_ws(&ps);
		skip_comment(&ps);
		if (at_eol(&ps))
			skip_newline(&ps);
		else if (*ps.p == '[')
			rc = parse_header(&ps);
		else if (is_bare(*ps.p))
			rc = parse_keyval(&ps);
		else if (*ps.p == '"' || *ps.p == '\'')
			rc = perr(&ps, "quoted keys are not supported");
		else if (*ps.p == '=')
			rc = perr(&ps, "missing key before '='");
		else
			rc = perr(&ps,
			    "expected a key or a [table] header, found %s",
			    show_char(&ps, tmp, sizeof(tmp)));
	}
	if (rc == -1)
		toml_release(doc);
	return rc;
}

int
toml_parse_file(struct toml_doc *doc, const char *path, struct err *err)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd, rc;

	memset(doc, 0, sizeof(*doc));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return err_set(
			    err, ERR_NOTFOUND, "'%s' not found", path);
		return err_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(
		    err, ERR_CONFIG, "'%s' is not a regular file", path);
	}
	buf_init(&b, TOML_MAX_SIZE);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = err_set(err, ERR_CONFIG, "cannot read '%s': %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) == -1) {
			rc = err_set(err, ERR_CONFIG,
			    "'%s' is larger than %d bytes", path,
			    TOML_MAX_SIZE);
			goto out;
		}
	}
	rc =
	    toml_parse_buf(doc, path, b.data != NULL ? b.data : "", b.len, err);
out:
	close(fd);
	buf_release(&b);
	return rc;
}
