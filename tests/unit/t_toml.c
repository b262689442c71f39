/*
 * The TOML subset reader: every accepted form, rendered back to a
 * canonical dump, and every rejection with its exact message and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "tap.h"
#include "toml.h"
#include "xalloc.h"

/* "[name@line]" per table ("~" if implicit), then "key@line=T:value". */
static char *
dump(const struct toml_doc *doc)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t t = 0; t < doc->ntables; t++) {
		const struct toml_table *tb = &doc->tables[t];

		buf_printf(&b, "%s[%s@%d%s]", t > 0 ? " " : "", tb->name,
		    tb->line, tb->implicit ? "~" : "");
		for (size_t i = 0; i < tb->nentries; i++) {
			const struct toml_entry *e = &tb->entries[i];
			const struct toml_value *v = &e->value;

			buf_printf(&b, " %s@%d=", e->key, e->line);
			switch (v->type) {
			case TOML_STRING:
				buf_printf(&b, "s:%s", v->s);
				break;
			case TOML_INTEGER:
				buf_printf(&b, "i:%" PRId64, v->i);
				break;
			case TOML_BOOLEAN:
				buf_printf(&b, "b:%s", v->b ? "true" : "false");
				break;
			case TOML_FLOAT:
				buf_printf(&b, "f:%g", v->f);
				break;
			case TOML_ARRAY:
				buf_puts(&b, "a:(");
				for (size_t j = 0; j < v->nitems; j++)
					buf_printf(&b, "%s%s", j ? "|" : "",
					    v->items[j]);
				buf_puts(&b, ")");
				break;
			}
		}
	}
	return buf_detach(&b);
}

static const struct {
	const char *in;
	const char *want;
} good[] = {
	{ "", "[@0]" },
	{ "# only a comment\n\n   \n\t# indented\n", "[@0]" },
	{ "a = \"x\"", "[@0] a@1=s:x" },
	{ "  \tkey\t=\t'v'  # trailing comment\n", "[@0] key@1=s:v" },
	{ "a='lit\\n \"q\" #x'", "[@0] a@1=s:lit\\n \"q\" #x" },
	{ "s = \"q\\\" b\\\\ t\\t n\\n r\\r b\\b f\\f\"",
	    "[@0] s@1=s:q\" b\\ t\t n\n r\r b\b f\f" },
	{ "u = \"\\u00e9\\U0001F600\\u20AC\"",
	    "[@0] u@1=s:\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac" },
	{ "s = \"tab\there\"", "[@0] s@1=s:tab\there" },
	{ "# \xc3\xa9t\xc3\xa9\ns = '\xc3\xbc'", "[@0] s@2=s:\xc3\xbc" },
	{ "e = \"\"\nl = ''", "[@0] e@1=s: l@2=s:" },
	{ "i1 = 0\ni2 = -0\ni3 = +42\ni4 = 1_000_000\n"
	  "i5 = 9223372036854775807\ni6 = -9223372036854775808\ni7 = -1",
	    "[@0] i1@1=i:0 i2@2=i:0 i3@3=i:42 i4@4=i:1000000 "
	    "i5@5=i:9223372036854775807 i6@6=i:-9223372036854775808 "
	    "i7@7=i:-1" },
	{ "t = true\nf = false # no", "[@0] t@1=b:true f@2=b:false" },
	{ "f1 = 30.0\nf2 = -1.5\nf3 = 1e3\nf4 = 2.5E-1\nf5 = +1_000.000_1\n"
	  "f6 = 0.5\nf7 = inf\nf8 = -inf\nf9 = nan\nf10 = 5e+2",
	    "[@0] f1@1=f:30 f2@2=f:-1.5 f3@3=f:1000 f4@4=f:0.25 "
	    "f5@5=f:1000 f6@6=f:0.5 f7@7=f:inf f8@8=f:-inf f9@9=f:nan "
	    "f10@10=f:500" },
	{ "a = []\nb = [\"x\"]\nc = [ \"x\", 'y', ]\n"
	  "d = [\n  \"one\", # comment\n  # another\n\n  'two'\n]\ne = 1",
	    "[@0] a@1=a:() b@2=a:(x) c@3=a:(x|y) d@4=a:(one|two) e@10=i:1" },
	{ "a = [ # open\n]", "[@0] a@1=a:()" },
	{ "top = 1\n[t]\nk = 'v'\n[ a . b ]\nx = 1\n[a]\ny = 2\n",
	    "[@0] top@1=i:1 [t@2] k@3=s:v [a@6] y@7=i:2 [a.b@4] x@5=i:1" },
	{ "[a.b.c]\n", "[@0] [a@1~] [a.b@1~] [a.b.c@1]" },
	{ "[a]\nk = 1\n[b]\nk = 2", "[@0] [a@1] k@2=i:1 [b@3] k@4=i:2" },
	{ "a = 1\r\nb = 2\r\n\r\nc = 'x'", "[@0] a@1=i:1 b@2=i:2 c@4=s:x" },
	{ "\xef\xbb\xbf"
	  "a = 1",
	    "[@0] a@1=i:1" },
	{ "1-a_B = 1\ntrue = false\n123 = 'n'",
	    "[@0] 1-a_B@1=i:1 true@2=b:false 123@3=s:n" },
	{ "[a.b.c.d.e.f.g.h]",
	    "[@0] [a@1~] [a.b@1~] [a.b.c@1~] "
	    "[a.b.c.d@1~] [a.b.c.d.e@1~] [a.b.c.d.e.f@1~] [a.b.c.d.e.f.g@1~] "
	    "[a.b.c.d.e.f.g.h@1]" },
	{ "[t] # comment\nx=1#c", "[@0] [t@1] x@2=i:1" },
};

#define E "t.toml:"

static const struct {
	const char *in;
	const char *want;
} bad[] = {
	{ "a = 1\na = 2", E "2: duplicate key 'a' (first defined at line 1)" },
	{ "[x]\nk = 1\n\n[x]",
	    E "4: duplicate table [x] (first defined at "
	      "line 1)" },
	{ "[a.b]\n[a]\n[a]",
	    E "3: duplicate table [a] (first defined at "
	      "line 2)" },
	{ "[a.b]\n[a.b]",
	    E "2: duplicate table [a.b] (first defined at "
	      "line 1)" },
	{ "a = 1\n[a]",
	    E "2: table [a] conflicts with key 'a' defined at "
	      "line 1" },
	{ "[a]\nb = 1\n[a.b.c]",
	    E "3: table [a.b] conflicts with key 'b' "
	      "defined at line 2" },
	{ "[a.b]\n[a]\nb = 1", E "3: key 'b' conflicts with table [a.b]" },
	{ "x = 1.",
	    E "1: invalid float '1.': a digit must follow the '.' "
	      "(write 1.0, not 1.)" },
	{ "\nx = 01.5",
	    E "2: invalid float '01.5': leading zeros are not "
	      "allowed" },
	{ "x = 1e", E "1: invalid float '1e': the exponent needs digits" },
	{ "x = 1__0.5", E "1: invalid float '1__0.5': not a float" },
	{ "x = 1.5_", E "1: invalid float '1.5_': not a float" },
	{ "x = 1e999", E "1: invalid float '1e999': float out of range" },
	{ "x = 1979-05-27", E "1: dates and times are not supported" },
	{ "x = 1979-05-27T07:32:00Z",
	    E "1: dates and times are not "
	      "supported" },
	{ "x = 07:32:00", E "1: dates and times are not supported" },
	{ "x = 0x1f",
	    E "1: only decimal integers are supported (found "
	      "'0x1f')" },
	{ "x = -0o17",
	    E "1: only decimal integers are supported (found "
	      "'-0o17')" },
	{ "x = 012",
	    E "1: invalid integer '012': leading zeros are not "
	      "allowed" },
	{ "x = 0_1",
	    E "1: invalid integer '0_1': leading zeros are not "
	      "allowed" },
	{ "x = 1__0",
	    E "1: invalid integer '1__0': '_' must stand between "
	      "two digits" },
	{ "x = 1_",
	    E "1: invalid integer '1_': '_' must stand between two "
	      "digits" },
	{ "x = 12abc",
	    E "1: invalid integer '12abc': not a decimal "
	      "integer" },
	{ "x = 9223372036854775808",
	    E "1: invalid integer "
	      "'9223372036854775808': integer out of range" },
	{ "x = -9223372036854775809",
	    E "1: invalid integer "
	      "'-9223372036854775809': integer out of range" },
	{ "x = 99999999999999999999999",
	    E "1: invalid integer "
	      "'99999999999999999999999': integer out of range" },
	{ "x = _1", E "1: invalid value '_1' (strings must be quoted)" },
	{ "x = +", E "1: invalid value '+' (strings must be quoted)" },
	{ "x = hello", E "1: invalid value 'hello' (strings must be quoted)" },
	{ "x = True", E "1: invalid value 'True' (strings must be quoted)" },
	{ "x = {a = 1}", E "1: inline tables are not supported" },
	{ "x = \"\"\"a\"\"\"",
	    E "1: multi-line strings (\"\"\") are not "
	      "supported" },
	{ "x = '''a'''", E "1: multi-line strings (''') are not supported" },
	{ "x = \"abc", E "1: unterminated string" },
	{ "x = \"a\nb\"", E "1: unterminated string" },
	{ "\n\nx = 'abc\n", E "3: unterminated string" },
	{ "x = \"\\x41\"", E "1: invalid escape '\\x' in string" },
	{ "x = \"\\e\"", E "1: invalid escape '\\e' in string" },
	{ "x = \"\\ \"", E "1: invalid escape in string" },
	{ "x = \"a\\\nb\"",
	    E "1: a backslash at the end of a line is only "
	      "allowed in multi-line strings, which are not supported" },
	{ "x = \"\\u12\"", E "1: '\\u' needs 4 hexadecimal digits" },
	{ "x = \"\\U0001F60\"", E "1: '\\U' needs 8 hexadecimal digits" },
	{ "x = \"\\u0000\"",
	    E "1: '\\u0000' (NUL) is not allowed in "
	      "strings" },
	{ "x = \"\\uD800\"",
	    E "1: '\\u' escape U+D800 is not a Unicode "
	      "scalar value" },
	{ "x = \"\\U00110000\"",
	    E "1: '\\U' escape U+110000 is not a "
	      "Unicode scalar value" },
	{ "x = \"a\x01"
	  "b\"",
	    E "1: control character U+0001 is not "
	      "allowed" },
	{ "\n\nx = 1\x7f", E "3: control character U+007F is not allowed" },
	{ "# \x1b[31m", E "1: control character U+001B is not allowed" },
	{ "a = 1\rb = 2", E "1: carriage return not followed by a newline" },
	{ "a = 1\n# \xff", E "2: invalid UTF-8" },
	{ "a = '\xc0\xaf'", E "1: invalid UTF-8" },
	{ "a = '\xed\xa0\x80'", E "1: invalid UTF-8" },
	{ "a = '\xf4\x90\x80\x80'", E "1: invalid UTF-8" },
	{ "a = '\xe2\x82'", E "1: invalid UTF-8" },
	{ "a.b = 1",
	    E "1: dotted keys are not supported (in 'a.'); use a "
	      "[table] header" },
	{ "\"a\" = 1", E "1: quoted keys are not supported" },
	{ "['a']", E "1: quoted keys are not supported in table headers" },
	{ "[[a]]", E "1: arrays of tables ([[...]]) are not supported" },
	{ "[a", E "1: unterminated table header" },
	{ "[a.\n]", E "1: unterminated table header" },
	{ "[]", E "1: expected a table name in the header, found ']'" },
	{ "[a b]", E "1: expected '.' or ']' in the table header, found 'b'" },
	{ "[a.]", E "1: expected a table name in the header, found ']'" },
	{ "[a] x = 1",
	    E "1: expected the end of the line after the table "
	      "header, found 'x'" },
	{ "a = 1 b = 2",
	    E "1: expected the end of the line after the value, "
	      "found 'b'" },
	{ "a = [] x",
	    E "1: expected the end of the line after the value, "
	      "found 'x'" },
	{ "a = 'x' 'y'",
	    E "1: expected the end of the line after the value, "
	      "found '''" },
	{ "a", E "1: expected '=' after key 'a'" },
	{ "a b = 1", E "1: expected '=' after key 'a', found 'b'" },
	{ "= 1", E "1: missing key before '='" },
	{ "a =", E "1: missing value after '='" },
	{ "a = # c", E "1: missing value after '='" },
	{ "a = ,", E "1: expected a value, found ','" },
	{ "a = [1]", E "1: arrays may hold only strings" },
	{ "a = [true]", E "1: arrays may hold only strings" },
	{ "a = [\n[\"x\"]]", E "2: nested arrays are not supported" },
	{ "a = [{}]", E "1: inline tables are not supported" },
	{ "a = [\"x\" \"y\"]",
	    E "1: expected ',' or ']' in array, found "
	      "'\"'" },
	{ "a = [,]", E "1: unexpected ',' in array" },
	{ "a = [\"x\",,]", E "1: unexpected ',' in array" },
	{ "a = [\n\"x\",\n", E "3: unterminated array (opened at line 1)" },
	{ "a = [\n\"x\"\n# c", E "3: unterminated array (opened at line 1)" },
	{ "a = [\"x", E "1: unterminated string" },
	{ "[a.b.c.d.e.f.g.h.i]",
	    E "1: table headers may have at most 8 "
	      "parts" },
	{ "@ = 1", E "1: expected a key or a [table] header, found '@'" },
	{ "  \n a = 1\n\t[t]\n ;",
	    E "4: expected a key or a [table] header, "
	      "found ';'" },
	{ "\xc3\xa9 = 1",
	    E "1: expected a key or a [table] header, found a "
	      "non-ASCII character" },
};

static void
test_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct toml_doc doc;
		struct err err = ERR_INIT;
		int rc;

		rc = toml_parse_buf(
		    &doc, "t.toml", good[i].in, strlen(good[i].in), &err);
		if (!ok(rc == 0, "good %zu parses", i)) {
			diag("error: %s", err.msg);
			continue;
		}
		char *d = dump(&doc);
		is_str(d, good[i].want, "good %zu: tree", i);
		free(d);
		toml_release(&doc);
		ok(doc.tables == NULL && doc.ntables == 0,
		    "good %zu: release empties the doc", i);
	}
}

static void
test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct toml_doc doc;
		struct err err = ERR_INIT;
		int rc;

		rc = toml_parse_buf(
		    &doc, "t.toml", bad[i].in, strlen(bad[i].in), &err);
		ok(rc == -1 && err.kind == ERR_CONFIG && doc.ntables == 0 &&
			doc.tables == NULL,
		    "bad %zu is rejected", i);
		is_str(err.msg, bad[i].want, "bad %zu: message", i);
		if (rc == 0)
			toml_release(&doc);
	}
}

/* Inputs that need a length or are too big to write out. */
static void
test_generated(void)
{
	struct toml_doc doc;
	struct err err = ERR_INIT;
	struct buf b;
	char *big;
	int rc;

	rc = toml_parse_buf(&doc, "t.toml", "a = 1\n\0b = 2", 12, &err);
	ok(rc == -1, "NUL byte rejected");
	is_str(err.msg, E "2: control character U+0000 is not allowed",
	    "NUL byte message names line 2");

	big = xmalloc(TOML_MAX_SIZE + 1);
	memset(big, '#', TOML_MAX_SIZE + 1);
	rc = toml_parse_buf(&doc, "t.toml", big, TOML_MAX_SIZE + 1, &err);
	ok(rc == -1, "input over TOML_MAX_SIZE rejected");
	is_str(err.msg, "t.toml: larger than 1048576 bytes", "size message");
	rc = toml_parse_buf(&doc, "t.toml", big, TOML_MAX_SIZE, &err);
	ok(rc == 0, "input of exactly TOML_MAX_SIZE accepted");
	toml_release(&doc);
	free(big);

	buf_init(&b, 0);
	for (int i = 1; i < TOML_MAX_TABLES; i++)
		buf_printf(&b, "[t%d]\n", i);
	rc = toml_parse_buf(&doc, "t.toml", b.data, b.len, &err);
	ok(rc == 0 && doc.ntables == TOML_MAX_TABLES,
	    "%d tables (root included) accepted", TOML_MAX_TABLES);
	toml_release(&doc);
	buf_puts(&b, "[one.more]\n");
	rc = toml_parse_buf(&doc, "t.toml", b.data, b.len, &err);
	ok(rc == -1, "one table more is rejected");
	is_str(err.msg, E "256: too many tables (at most 256)",
	    "table cap message");

	buf_reset(&b);
	for (int i = 0; i <= TOML_MAX_KEYS; i++)
		buf_printf(&b, "k%d = %d\n", i, i);
	rc = toml_parse_buf(&doc, "t.toml", b.data, b.len, &err);
	ok(rc == -1, "too many keys rejected");
	is_str(err.msg, E "4097: too many keys in one table (at most 4096)",
	    "key cap message");

	buf_reset(&b);
	buf_puts(&b, "a = [");
	for (int i = 0; i <= TOML_MAX_ITEMS; i++)
		buf_puts(&b, "'x',");
	buf_puts(&b, "]");
	rc = toml_parse_buf(&doc, "t.toml", b.data, b.len, &err);
	ok(rc == -1, "too many array items rejected");
	is_str(err.msg, E "1: too many items in array (at most 4096)",
	    "item cap message");
	buf_release(&b);
}

static void
test_lookup(void)
{
	static const char in[] = "a = 1\n[t]\nb = 'x'\n";
	const struct toml_table *t;
	const struct toml_entry *e;
	struct toml_doc doc;
	struct err err = ERR_INIT;

	if (!ok(toml_parse_buf(&doc, "t.toml", in, strlen(in), &err) == 0,
		"lookup doc parses"))
		return;
	t = toml_table(&doc, "");
	ok(t == &doc.tables[0], "root table is tables[0]");
	e = toml_get(t, "a");
	ok(e != NULL && e->value.type == TOML_INTEGER && e->value.i == 1,
	    "toml_get finds a");
	ok(toml_get(t, "b") == NULL, "b is not in the root");
	t = toml_table(&doc, "t");
	e = t != NULL ? toml_get(t, "b") : NULL;
	ok(e != NULL && strcmp(e->value.s, "x") == 0 && e->line == 3,
	    "toml_get finds t.b at line 3");
	ok(toml_table(&doc, "u") == NULL, "no table u");
	is_str(toml_type_name(TOML_ARRAY), "array", "type name");
	is_str(doc.name, "t.toml", "doc keeps its name");
	toml_release(&doc);
}

static void
test_integer(void)
{
	static const struct {
		const char *in;
		int rc;
		int64_t v;
	} rows[] = {
		{ "0", 0, 0 },
		{ "-1", 0, -1 },
		{ "+7", 0, 7 },
		{ "1_2_3", 0, 123 },
		{ "", -1, 0 },
		{ "-", -1, 0 },
		{ "00", -1, 0 },
		{ "1 ", -1, 0 },
		{ " 1", -1, 0 },
		{ "0x10", -1, 0 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "9223372036854775808", -1, 0 },
		{ "1_", -1, 0 },
		{ "1._2", -1, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = NULL;
		int64_t v = 42;
		int rc = toml_parse_integer(
		    rows[i].in, strlen(rows[i].in), &v, &why);

		is_int(rc, rows[i].rc, "integer '%s': rc", rows[i].in);
		if (rc == 0)
			is_int(v, rows[i].v, "integer '%s': value", rows[i].in);
		else
			ok(why != NULL && v == 42,
			    "integer '%s': reason given,"
			    " value untouched",
			    rows[i].in);
	}
}

static void
test_text(void)
{
	const char *why = NULL;

	is_int(toml_check_text("plain\ttext \xc3\xa9", 13, &why), 0,
	    "text with tab and UTF-8 is fine");
	is_int(toml_check_text("a\nb", 3, &why), -1, "newline is not text");
	is_str(why, "control characters are not allowed", "reason");
	is_int(toml_check_text("\xff", 1, &why), -1, "bad UTF-8 is not text");
	is_str(why, "invalid UTF-8", "reason");
}

static void
test_file(void)
{
	char dir[] = "/tmp/t_toml.XXXXXX", path[128];
	struct toml_doc doc;
	struct err err = ERR_INIT;
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	snprintf(path, sizeof(path), "%s/missing.toml", dir);
	is_int(toml_parse_file(&doc, path, &err), -1, "missing file fails");
	is_int(err.kind, ERR_NOTFOUND, "missing file is ERR_NOTFOUND");
	is_int(toml_parse_file(&doc, dir, &err), -1, "directory fails");
	is_int(err.kind, ERR_CONFIG, "directory is ERR_CONFIG");
	ok(strstr(err.msg, "is not a regular file") != NULL,
	    "directory message: %s", err.msg);

	snprintf(path, sizeof(path), "%s/ok.toml", dir);
	f = fopen(path, "w");
	fputs("a = 1\n[b]\nc = \"d\"\n", f);
	fclose(f);
	if (ok(toml_parse_file(&doc, path, &err) == 0, "file parses")) {
		char *d = dump(&doc);

		is_str(d, "[@0] a@1=i:1 [b@2] c@3=s:d", "file tree");
		is_str(doc.name, path, "doc named after the path");
		free(d);
		toml_release(&doc);
	}
	f = fopen(path, "w");
	fputs("a = 1\nb = oops\n", f);
	fclose(f);
	is_int(toml_parse_file(&doc, path, &err), -1, "bad file fails");
	ok(strncmp(err.msg, path, strlen(path)) == 0 &&
		strstr(err.msg, ":2: invalid value 'oops'") != NULL,
	    "file errors are PATH:LINE: %s", err.msg);
	unlink(path);

	snprintf(path, sizeof(path), "%s/big.toml", dir);
	f = fopen(path, "w");
	for (int i = 0; i < TOML_MAX_SIZE / 8 + 1; i++)
		fputs("#234567\n", f);
	fclose(f);
	is_int(toml_parse_file(&doc, path, &err), -1, "oversized file fails");
	ok(strstr(err.msg, "is larger than 1048576 bytes") != NULL,
	    "oversized message: %s", err.msg);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_good();
	test_bad();
	test_generated();
	test_lookup();
	test_integer();
	test_text();
	test_file();
	return done_testing();
}
