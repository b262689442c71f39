#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "scim_filter.h"
#include "strutil.h"
#include "timefmt.h"
#include "xalloc.h"
#include "banned.h"

#define PATH_MAX_LEN 256

enum op {
	OP_EQ,
	OP_NE,
	OP_CO,
	OP_SW,
	OP_EW,
	OP_GT,
	OP_GE,
	OP_LT,
	OP_LE,
	OP_PR
};

static const char *const op_names[] = { "eq", "ne", "co", "sw", "ew", "gt",
	"ge", "lt", "le", "pr", NULL };

struct parser {
	const char *s;
	size_t pos;
	const struct scim_attr *map;
	const char *urn;
	struct scim_where *w;
	struct err *err;
	int depth;
	char prefix[PATH_MAX_LEN + 2]; /* "emails." */
	char scratch[512];
};

/* What a parse step produced (see parse_level). */
enum shape { SH_ATOM, SH_NOT, SH_OR, SH_AND };

static int parse_or(struct parser *, enum shape *);

void
scim_where_init(struct scim_where *w)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->sql, 64 * 1024);
}

void
scim_where_release(struct scim_where *w)
{
	for (size_t i = 0; i < w->nargs; i++)
		free(w->owned[i]);
	buf_release(&w->sql);
	memset(w->args, 0, sizeof(w->args));
	w->nargs = 0;
}

const struct scim_attr *
scim_attr_find(const struct scim_attr *map, const char *urn, const char *path)
{
	size_t ul = strlen(urn);

	/* "urn:...:User:userName" is "userName". */
	if (strlen(path) > ul + 1 && path[ul] == ':' &&
	    strncasecmp(path, urn, ul) == 0)
		path += ul + 1;
	for (size_t i = 0; map[i].name != NULL; i++)
		if (str_eq_nocase(map[i].name, path))
			return &map[i];
	return NULL;
}

static int
fail(struct parser *p, const char *fmt, const char *what)
{
	/* Room for a whole attribute path (full in parse_attr). */
	char w[2 * PATH_MAX_LEN + 4];

	str_copy(w, what != NULL ? what : "", sizeof(w));
	err_set(p->err, ERR_INVALID, fmt, w);
	return -1;
}

static int
too_deep(struct parser *p)
{
	char n[16];

	snprintf(n, sizeof(n), "%d", SCIM_FILTER_MAX_DEPTH);
	return fail(p, "the filter nests more than %s levels deep", n);
}

static void
skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

static bool
path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	    c == ':' || c == '$';
}

/* Read a word of path characters into out; its length (0 = none). */
static size_t
word(struct parser *p, char *out, size_t size)
{
	size_t start = p->pos, n;

	while (path_char(p->s[p->pos]))
		p->pos++;
	n = p->pos - start;
	if (n >= size) {
		p->pos = start;
		return 0;
	}
	memcpy(out, p->s + start, n);
	out[n] = '\0';
	return n;
}

/* Whether the keyword kw (case-insensitive) comes next as a whole word. */
static bool
keyword(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(p->s + p->pos, kw, n) != 0 ||
	    path_char(p->s[p->pos + n]))
		return false;
	p->pos += n;
	return true;
}

static int
push_arg(struct parser *p, struct db_arg a, char *owned)
{
	struct scim_where *w = p->w;

	if (w->nargs == SCIM_FILTER_MAX_ARGS) {
		free(owned);
		return fail(p, "the filter has too many comparisons%s", "");
	}
	w->owned[w->nargs] = owned;
	w->args[w->nargs++] = a;
	return 0;
}

static int emit(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
emit(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&p->w->sql, fmt, ap);
	va_end(ap);
	if (r == -1)
		return fail(p, "the filter is too complex%s", "");
	return 0;
}

/* The JSON value token at the cursor: a string, number or literal. */
static json_t *
value(struct parser *p)
{
	size_t start = p->pos;
	json_t *v;

	if (p->s[p->pos] == '"') {
		p->pos++;
		while (p->s[p->pos] != '"') {
			if (p->s[p->pos] == '\0')
				return NULL;
			if (p->s[p->pos] == '\\' && p->s[p->pos + 1] != '\0')
				p->pos++;
			p->pos++;
		}
		p->pos++;
	} else {
		while ((p->s[p->pos] >= 'a' && p->s[p->pos] <= 'z') ||
		    (p->s[p->pos] >= 'A' && p->s[p->pos] <= 'Z') ||
		    (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') ||
		    p->s[p->pos] == '.' || p->s[p->pos] == '-' ||
		    p->s[p->pos] == '+')
			p->pos++;
	}
	if (p->pos == start)
		return NULL;
	/*
	 * RFC 7644 takes false, null and true from RFC 7159, where they are
	 * lower-case; unquoted they can mean nothing else, so "True" (as
	 * clients that capitalise booleans write it) is taken as true.
	 */
	if (p->pos - start == 4 && strncasecmp(p->s + start, "true", 4) == 0)
		return json_true();
	if (p->pos - start == 5 && strncasecmp(p->s + start, "false", 5) == 0)
		return json_false();
	if (p->pos - start == 4 && strncasecmp(p->s + start, "null", 4) == 0)
		return json_null();
	v = json_loadb(p->s + start, p->pos - start, JSON_DECODE_ANY, NULL);
	if (v != NULL && (json_is_object(v) || json_is_array(v))) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Escape LIKE's wildcards with '!' and wrap in '%' as the operator asks. */
static char *
like_pattern(const char *v, enum op op)
{
	size_t n = strlen(v), o = 0;
	char *out = xmalloc(2 * n + 3);

	if (op == OP_CO || op == OP_EW)
		out[o++] = '%';
	for (; *v != '\0'; v++) {
		if (*v == '%' || *v == '_' || *v == '!')
			out[o++] = '!';
		out[o++] = *v;
	}
	if (op == OP_CO || op == OP_SW)
		out[o++] = '%';
	out[o] = '\0';
	return out;
}

/* The same for SQLite's GLOB (case-sensitive): "[*]" is a literal '*'. */
static char *
glob_pattern(const char *v, enum op op)
{
	size_t n = strlen(v), o = 0;
	char *out = xmalloc(3 * n + 3);

	if (op == OP_CO || op == OP_EW)
		out[o++] = '*';
	for (; *v != '\0'; v++) {
		if (*v == '*' || *v == '?' || *v == '[') {
			out[o++] = '[';
			out[o++] = *v;
			out[o++] = ']';
		} else
			out[o++] = *v;
	}
	if (op == OP_CO || op == OP_SW)
		out[o++] = '*';
	out[o] = '\0';
	return out;
}

/*
 * The least string greater than every string that starts with the UTF-8
 * text v: v with its last code point incremented (code point order is
 * UTF-8 byte order).  NULL when there is none (v empty or all U+10FFFF).
 */
static char *
prefix_end(const char *v)
{
	size_t n = strlen(v);

	while (n > 0) {
		size_t i = n - 1, k;
		unsigned long c;
		char *out;

		while (i > 0 && ((unsigned char)v[i] & 0xc0) == 0x80)
			i--;
		k = n - i;
		c = (unsigned char)v[i] &
		    (k == 1	     ? 0x7f
			    : k == 2 ? 0x1f
			    : k == 3 ? 0x0f
				     : 0x07);
		for (size_t j = i + 1; j < n; j++)
			c = (c << 6) | ((unsigned char)v[j] & 0x3f);
		if (c >= 0x10ffff) {
			n = i;
			continue;
		}
		c = c + 1 == 0xd800 ? 0xe000 : c + 1;
		out = xmalloc(i + 5);
		memcpy(out, v, i);
		if (c < 0x80)
			out[i++] = (char)c;
		else if (c < 0x800) {
			out[i++] = (char)(0xc0 | (c >> 6));
			out[i++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[i++] = (char)(0xe0 | (c >> 12));
			out[i++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[i++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[i++] = (char)(0xf0 | (c >> 18));
			out[i++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[i++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[i++] = (char)(0x80 | (c & 0x3f));
		}
		out[i] = '\0';
		return out;
	}
	return NULL;
}

static const char *
cmp_sql(enum op op)
{
	switch (op) {
	case OP_EQ:
		return "=";
	case OP_NE:
		return "<>";
	case OP_GT:
		return ">";
	case OP_GE:
		return ">=";
	case OP_LT:
		return "<";
	case OP_LE:
		return "<=";
	default:
		return NULL;
	}
}

/*
 * How each engine compares strings exactly (code point by code point, no
 * padding, no collation) and case-folded; see scim_filter.h.
 */
static const char *
exact_fmt(enum db_engine e)
{
	switch (e) {
	case DB_ENGINE_MYSQL:
		return "CONVERT(%s USING utf8mb4) COLLATE utf8mb4_nopad_bin";
	case DB_ENGINE_PGSQL:
		return "%s COLLATE \"C\"";
	default:
		return "%s";
	}
}

static const char *
fold_fmt(enum db_engine e)
{
	switch (e) {
	case DB_ENGINE_MYSQL:
		return "LOWER(CONVERT(%s USING utf8mb4)) COLLATE utf8mb4_nopad_bin";
	case DB_ENGINE_PGSQL:
		return "lower(%s) COLLATE \"C\"";
	default:
		return "postino_fold(%s)";
	}
}

/* Append fmt with its single %s replaced by col. */
static int
emit_expr(struct parser *p, const char *fmt, const char *col)
{
	const char *s = strstr(fmt, "%s");

	return emit(p, "%.*s%s%s", (int)(s - fmt), fmt, col, s + 2);
}

static int
push_text(struct parser *p, char *v)
{
	return push_arg(p, DB_TEXT(v), v);
}

/*
 * Whether MariaDB can compare v with a latin1 column (PostfixAdmin's
 * addresses) without "Illegal mix of collations": ASCII and U+00A0..U+00FF
 * only.  Other values skip the indexed test; they cannot be in such a
 * column anyway, and the exact test alone still decides.
 */
static bool
latin1_safe(const char *v)
{
	const unsigned char *u = (const unsigned char *)v;

	for (; *u != '\0'; u++) {
		if (*u < 0x80)
			continue;
		if (*u != 0xc2 && *u != 0xc3)
			return false;
		if (*u == 0xc2 && u[1] < 0xa0)
			return false;
		u++;
		if (*u == '\0')
			return false;
	}
	return true;
}

/*
 * A string comparison.  SCIM_A_CI attributes (caseExact=false) compare the
 * folded column with the folded value; the others compare the column as
 * stored, exactly (SCIM_A_LOWER ones are stored lower-case, so the value is
 * folded first).  eq and sw on those stay usable by the column's index:
 * "=" and a code-point range; MariaDB's collations ignore case, accents
 * and trailing spaces, so there the indexed test is followed by an exact
 * one.
 */
static int
compare_string(
    struct parser *p, const struct scim_attr *a, enum op op, json_t *v)
{
	const char *col = a->sql;
	enum db_engine e = p->w->engine;
	bool ci = (a->flags & SCIM_A_CI) != 0;
	const char *xf = ci ? fold_fmt(e) : exact_fmt(e);
	const char *raw;
	char *val;
	size_t n;

	if (!json_is_string(v))
		return fail(p, "'%s' needs a string value", a->name);
	raw = json_string_value(v);
	if (a->flags & (SCIM_A_LOWER | SCIM_A_CI))
		val = str_fold(raw, strlen(raw), &n);
	else
		val = xstrdup(raw);
	if (!ci && op == OP_SW && e != DB_ENGINE_MYSQL) {
		/* A range on the column (its index; "C" on PostgreSQL). */
		char *end = prefix_end(val);
		const char *f = e == DB_ENGINE_PGSQL ? xf : "%s";

		if (emit(p, "(") == -1 || emit_expr(p, f, col) == -1 ||
		    emit(p, " >= ?") == -1 ||
		    (end != NULL &&
			(emit(p, " AND ") == -1 || emit_expr(p, f, col) == -1 ||
			    emit(p, " < ?") == -1)) ||
		    emit(p, ")") == -1) {
			free(val);
			free(end);
			return -1;
		}
		if (push_text(p, val) == -1)
			return -1;
		return end != NULL ? push_text(p, end) : 0;
	}
	if (!ci && e == DB_ENGINE_MYSQL && (op == OP_EQ || op == OP_SW) &&
	    latin1_safe(val)) {
		/* Indexed but loose (the collation), then exact. */
		char *v2;

		if (op == OP_SW) {
			char *pat = like_pattern(val, op);

			free(val);
			val = pat;
		}
		v2 = xstrdup(val);
		if (emit(p,
			op == OP_EQ ? "(%s = ? AND "
				    : "(%s LIKE ? ESCAPE '!' AND ",
			col) == -1 ||
		    emit_expr(p, xf, col) == -1 ||
		    emit(p, op == OP_EQ ? " = ?)" : " LIKE ? ESCAPE '!')") ==
			-1) {
			free(val);
			free(v2);
			return -1;
		}
		if (push_text(p, val) == -1) {
			free(v2);
			return -1;
		}
		return push_text(p, v2);
	}
	if (op == OP_CO || op == OP_SW || op == OP_EW) {
		bool glob = !ci && e != DB_ENGINE_MYSQL && e != DB_ENGINE_PGSQL;
		char *pat =
		    glob ? glob_pattern(val, op) : like_pattern(val, op);

		free(val);
		val = pat;
		if (emit(p, "(") == -1 || emit_expr(p, xf, col) == -1 ||
		    emit(p, glob ? " GLOB ?)" : " LIKE ? ESCAPE '!')") == -1) {
			free(val);
			return -1;
		}
	} else if (op == OP_EQ || op == OP_NE) {
		/* Deterministic collations compare "=" byte for byte. */
		const char *f = ci || e == DB_ENGINE_MYSQL ? xf : "%s";

		if ((op == OP_NE && emit(p, "(%s IS NULL OR ", col) == -1) ||
		    (op == OP_EQ && emit(p, "(") == -1) ||
		    emit_expr(p, f, col) == -1 ||
		    emit(p, " %s ?)", cmp_sql(op)) == -1) {
			free(val);
			return -1;
		}
	} else if (emit(p, "(") == -1 || emit_expr(p, xf, col) == -1 ||
	    emit(p, " %s ?)", cmp_sql(op)) == -1) {
		free(val);
		return -1;
	}
	return push_text(p, val);
}

static int present(struct parser *, const struct scim_attr *);

/* col itself, or on MariaDB col as bytes (so that "  " is not ""). */
static const char *
length_expr(struct parser *p, const char *col)
{
	if (p->w->engine != DB_ENGINE_MYSQL)
		return col;
	snprintf(p->scratch, sizeof(p->scratch), "BINARY %s", col);
	return p->scratch;
}

/* "eq null": the attribute has no value, the negation of "pr". */
static int
absent(struct parser *p, const struct scim_attr *a)
{
	switch (a->type) {
	case SCIM_T_STRING:
		/* CHAR_LENGTH: MariaDB's collations pad, "  " = "". */
		return emit(p, "(%s IS NULL OR %s = '')", a->sql,
		    length_expr(p, a->sql));
	case SCIM_T_BOOLEAN:
		return emit(p, "(1 = 0)");
	default:
		return emit(p, "(%s IS NULL)", a->sql);
	}
}

static int
compare(struct parser *p, const struct scim_attr *a, enum op op, json_t *v)
{
	const char *col = a->sql;

	/* RFC 7644's compValue includes null: eq null = not pr. */
	if (json_is_null(v)) {
		if (op == OP_EQ)
			return absent(p, a);
		if (op == OP_NE)
			return present(p, a);
		return fail(p,
		    "'%s' can only be compared with null by eq or ne", a->name);
	}
	switch (a->type) {
	case SCIM_T_STRING:
		return compare_string(p, a, op, v);
	case SCIM_T_BOOLEAN:
		if (!json_is_boolean(v))
			return fail(p, "'%s' needs true or false", a->name);
		if (op != OP_EQ && op != OP_NE)
			return fail(p,
			    "'%s' can only be compared with eq or ne", a->name);
		if (emit(p, "(%s %s ?)", col, cmp_sql(op)) == -1)
			return -1;
		return push_arg(p, DB_BOOL(json_is_true(v)), NULL);
	case SCIM_T_INTEGER:
		if (!json_is_integer(v))
			return fail(p, "'%s' needs an integer value", a->name);
		if (cmp_sql(op) == NULL)
			return fail(p,
			    "'%s' is a number: use eq, ne, gt, ge, lt or le",
			    a->name);
		if (emit(p, "(%s %s ?)", col, cmp_sql(op)) == -1)
			return -1;
		return push_arg(p, DB_INT(json_integer_value(v)), NULL);
	case SCIM_T_DATETIME: {
		time_t t;
		char *stored;

		if (!json_is_string(v) ||
		    timefmt_parse(json_string_value(v), &t) == -1)
			return fail(
			    p, "'%s' needs an RFC 3339 date and time", a->name);
		if (cmp_sql(op) == NULL)
			return fail(p,
			    "'%s' is a date: use eq, ne, gt, ge, lt or le",
			    a->name);
		stored = xmalloc(TIMEFMT_MAX);
		timefmt_stored(t, stored, TIMEFMT_MAX);
		if (emit(p, "(%s %s ?)", col, cmp_sql(op)) == -1) {
			free(stored);
			return -1;
		}
		return push_arg(p, DB_TEXT(stored), stored);
	}
	}
	return fail(p, "cannot compare '%s'", a->name);
}

static int
present(struct parser *p, const struct scim_attr *a)
{
	switch (a->type) {
	case SCIM_T_STRING:
		return emit(p, "(%s IS NOT NULL AND %s <> '')", a->sql,
		    length_expr(p, a->sql));
	case SCIM_T_BOOLEAN:
		return emit(p, "(1 = 1)");
	default:
		return emit(p, "(%s IS NOT NULL)", a->sql);
	}
}

/* attr "[" filter "]" / attr "pr" / attr op value */
static int
parse_attr(struct parser *p, enum shape *shape)
{
	char name[PATH_MAX_LEN], full[2 * PATH_MAX_LEN + 4], opw[8];
	const struct scim_attr *a;
	json_t *v;
	int rc = -1;
	size_t i;

	if (word(p, name, sizeof(name)) == 0)
		return fail(
		    p, "an attribute name is expected at '%s'", p->s + p->pos);
	snprintf(full, sizeof(full), "%s%s", p->prefix, name);
	if (p->s[p->pos] == '[') {
		char saved[sizeof(p->prefix)];

		if (p->prefix[0] != '\0')
			return fail(p, "filters cannot nest inside '%s[...]'",
			    p->prefix);
		if (++p->depth > SCIM_FILTER_MAX_DEPTH)
			return too_deep(p);
		str_copy(saved, p->prefix, sizeof(saved));
		snprintf(p->prefix, sizeof(p->prefix), "%s.", name);
		p->pos++;
		if (parse_or(p, shape) == -1)
			return -1;
		skip_ws(p);
		if (p->s[p->pos] != ']')
			return fail(p, "']' is missing after '%s['", name);
		p->pos++;
		str_copy(p->prefix, saved, sizeof(p->prefix));
		p->depth--;
		return 0;
	}
	*shape = SH_ATOM;
	if ((a = scim_attr_find(p->map, p->urn, full)) == NULL)
		return fail(p, "unknown or unfilterable attribute '%s'", full);
	skip_ws(p);
	if (word(p, opw, sizeof(opw)) == 0)
		return fail(p, "an operator is expected after '%s'", full);
	for (i = 0; op_names[i] != NULL; i++)
		if (str_eq_nocase(op_names[i], opw))
			break;
	if (op_names[i] == NULL)
		return fail(p, "unknown operator '%s'", opw);
	if (++p->w->nterms > SCIM_FILTER_MAX_TERMS)
		return fail(p, "the filter has too many comparisons%s", "");
	if ((enum op)i == OP_PR)
		return present(p, a);
	skip_ws(p);
	if ((v = value(p)) == NULL)
		return fail(p, "a value is expected after '%s'", opw);
	rc = compare(p, a, (enum op)i, v);
	json_decref(v);
	return rc;
}

/*
 * Nesting in the SQL costs parser stack (SQLite's is about 100 entries),
 * so the SQL nests only where the filter's meaning needs it: a group of one
 * term is that term, and a group of ORs inside an OR (ANDs inside an AND)
 * is spliced into it.  Each step says what it produced.
 */
/* Put "(" before what starts at start and ")" after it. */
static int
wrap(struct parser *p, size_t start)
{
	struct buf *b = &p->w->sql;

	if (buf_putc(b, ' ') == -1 || buf_putc(b, ')') == -1)
		return fail(p, "the filter is too complex%s", "");
	memmove(b->data + start + 1, b->data + start, b->len - 2 - start);
	b->data[start] = '(';
	return 0;
}

/* Take off the "(" ")" around what starts at start (a wrapped group). */
static void
unwrap(struct parser *p, size_t start)
{
	struct buf *b = &p->w->sql;

	memmove(b->data + start, b->data + start + 1, b->len - start - 2);
	buf_truncate(b, b->len - 2);
}

static int
parse_unary(struct parser *p, enum shape *shape)
{
	size_t save;
	enum shape inner;
	bool negate = false;

	skip_ws(p);
	save = p->pos;
	if (keyword(p, "not")) {
		skip_ws(p);
		if (p->s[p->pos] != '(') {
			/* An attribute that happens to be called "not...". */
			p->pos = save;
			return parse_attr(p, shape);
		}
		negate = true;
	}
	if (p->s[p->pos] != '(')
		return parse_attr(p, shape);
	/* A group: "(" filter ")" or "not" "(" filter ")". */
	if (++p->depth > SCIM_FILTER_MAX_DEPTH)
		return too_deep(p);
	p->pos++;
	if ((negate && emit(p, "NOT ") == -1) ||
	    parse_or(p, negate ? &inner : shape) == -1)
		return -1;
	skip_ws(p);
	if (p->s[p->pos] != ')')
		return fail(p, "')' is missing%s", "");
	p->pos++;
	if (negate)
		*shape = SH_NOT;
	p->depth--;
	return 0;
}

/*
 * One level: terms of parse_term joined by keyword, as sql; a single term
 * stays as it is, several are wrapped once, and terms that are themselves
 * groups of the same operator are spliced in.
 */
static int
parse_level(struct parser *p, const char *keyword_name, const char *sql,
    enum shape same, int (*parse_term)(struct parser *, enum shape *),
    enum shape *shape)
{
	size_t start = p->w->sql.len, first_start = start;
	enum shape first, sh;
	size_t n = 1;

	if (parse_term(p, &first) == -1)
		return -1;
	for (;;) {
		size_t save, at;

		skip_ws(p);
		save = p->pos;
		if (!keyword(p, keyword_name))
			break;
		if (p->s[p->pos] != ' ' && p->s[p->pos] != '(' &&
		    p->s[p->pos] != '\t') {
			p->pos = save;
			break;
		}
		if (n == 1 && first == same)
			unwrap(p, first_start);
		if (emit(p, "%s", sql) == -1)
			return -1;
		at = p->w->sql.len;
		if (parse_term(p, &sh) == -1)
			return -1;
		if (sh == same)
			unwrap(p, at);
		n++;
	}
	if (n == 1) {
		*shape = first;
		return 0;
	}
	*shape = same;
	return wrap(p, start);
}

static int
parse_and(struct parser *p, enum shape *shape)
{
	return parse_level(p, "and", " AND ", SH_AND, parse_unary, shape);
}

static int
parse_or(struct parser *p, enum shape *shape)
{
	return parse_level(p, "or", " OR ", SH_OR, parse_and, shape);
}

int
scim_filter_compile(const char *filter, const struct scim_attr *map,
    const char *urn, struct scim_where *w, struct err *err)
{
	struct parser p;
	enum shape shape;

	memset(&p, 0, sizeof(p));
	p.s = filter;
	p.map = map;
	p.urn = urn;
	p.w = w;
	p.err = err;
	if (strlen(filter) > SCIM_FILTER_MAX_LEN)
		return err_set(err, ERR_INVALID,
		    "the filter is longer than %d bytes", SCIM_FILTER_MAX_LEN);
	if (parse_or(&p, &shape) == -1)
		return -1;
	skip_ws(&p);
	if (p.s[p.pos] != '\0')
		return fail(&p, "unexpected text at '%s'", p.s + p.pos);
	return 0;
}
