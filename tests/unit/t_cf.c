/*
 * The Postfix map-file reader (mysql_table(5) "name = value" format):
 * comments, continuation lines, duplicates, malformed lines, NUL bytes,
 * CR LF, the size cap, and that messages never repeat a value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf.h"
#include "tap.h"
#include "xalloc.h"

/* Each good row: input, then the expected "key@line=value;..." dump. */
static const struct {
	const char *in;
	const char *want;
} good[] = {
	{ "", "" },
	{ "\n\n   \n\t\n", "" },
	{ "hosts = localhost\nuser = u\npassword = p w\ndbname = d\n",
	    "hosts@1=localhost;user@2=u;password@3=p w;dbname@4=d;" },
	{ "user=u", "user@1=u;" },
	{ "  \n# comment\n  # indented comment\nuser = u # not a comment\n",
	    "user@4=u # not a comment;" },
	{ "query = SELECT goto\n  FROM alias\n\tWHERE address='%s'\nuser = x",
	    "query@1=SELECT goto FROM alias WHERE address='%s';user@4=x;" },
	{ "query = a\n# comment inside\n\n  b\n", "query@1=a b;" },
	{ "user\n  = a\n", "user@1=a;" },
	{ "user = a\nuser = b\n", "user@2=b;" },
	{ "user = a\nhosts = h\nuser = c\n", "user@3=c;hosts@2=h;" },
	{ "password = a=b = c\n", "password@1=a=b = c;" },
	{ "user =\ndbname =   \n", "user@1=;dbname@2=;" },
	{ "user = u\r\nquery = a\r\n  b\r\n\r\n", "user@1=u;query@2=a b;" },
	{ "a.b-c_D9 = 1", "a.b-c_D9@1=1;" },
	{ "hosts = h1\n    h2\n    h3", "hosts@1=h1 h2 h3;" },
	{ "k = v  \t\n", "k@1=v;" },
};

static const struct {
	const char *in;
	const char *want;
} bad[] = {
	{ "  user = x\n",
	    "m.cf:1: continuation line without a preceding "
	    "parameter" },
	{ "# c\n\tuser = x\n",
	    "m.cf:2: continuation line without a preceding "
	    "parameter" },
	{ "user a\n", "m.cf:1: missing '=' (expected 'name = value')" },
	{ "a = 1\nfoo\n  bar\n",
	    "m.cf:2: missing '=' (expected 'name = "
	    "value')" },
	{ "= x\n", "m.cf:1: bad parameter name" },
	{ "a b = c\n", "m.cf:1: bad parameter name" },
	{ "user = u\nus$er = x\n", "m.cf:2: bad parameter name" },
	{ "password secret123\n",
	    "m.cf:1: missing '=' (expected 'name = "
	    "value')" },
};

static char *
dump(const struct cf *cf)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < cf->n; i++) {
		char *t = xasprintf("%s%s@%d=%s;", s, cf->v[i].key,
		    cf->v[i].line, cf->v[i].value);

		free(s);
		s = t;
	}
	return s;
}

static void
test_rows(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct cf cf;
		struct err err = ERR_INIT;
		char *d;

		if (!ok(cf_parse_buf(&cf, "m.cf", good[i].in,
			    strlen(good[i].in), &err) == 0,
			"good %zu parses", i)) {
			diag("%s", err.msg);
			continue;
		}
		d = dump(&cf);
		is_str(d, good[i].want, "good %zu: entries", i);
		is_str(cf.path, "m.cf", "good %zu: name kept", i);
		free(d);
		cf_release(&cf);
		ok(cf.v == NULL && cf.n == 0 && cf.path == NULL,
		    "good %zu: release empties", i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cf cf;
		struct err err = ERR_INIT;

		is_int(cf_parse_buf(
			   &cf, "m.cf", bad[i].in, strlen(bad[i].in), &err),
		    -1, "bad %zu rejected", i);
		is_str(err.msg, bad[i].want, "bad %zu: message", i);
		is_int(err.kind, ERR_CONFIG, "bad %zu: ERR_CONFIG", i);
		ok(cf.v == NULL && cf.n == 0 && cf.path == NULL,
		    "bad %zu: nothing left behind", i);
	}
}

static void
test_get(void)
{
	static const char in[] = "user = u\n\nhosts = h\n";
	struct cf cf;
	struct err err = ERR_INIT;

	if (!ok(cf_parse_buf(&cf, "m.cf", in, strlen(in), &err) == 0,
		"lookup file parses"))
		return;
	is_str(cf_get(&cf, "hosts"), "h", "cf_get finds hosts");
	is_int(cf_line(&cf, "hosts"), 3, "cf_line of hosts");
	is_str(cf_get(&cf, "dbname"), NULL, "cf_get of a missing key");
	is_int(cf_line(&cf, "dbname"), 0, "cf_line of a missing key");
	is_str(cf_get(&cf, "USER"), NULL, "keys are case-sensitive");
	cf_release(&cf);
}

static void
test_limits(void)
{
	static const char nul[] = "user = u\npass\0word = x\n";
	struct cf cf;
	struct err err = ERR_INIT;
	char *big;

	is_int(cf_parse_buf(&cf, "m.cf", nul, sizeof(nul) - 1, &err), -1,
	    "NUL byte rejected");
	is_str(err.msg, "m.cf: contains a NUL byte", "NUL message");
	ok(cf.v == NULL && cf.path == NULL, "NUL: nothing left behind");

	is_int(cf_parse_buf(&cf, "m.cf", NULL, 0, &err), 0,
	    "empty input (NULL, 0) parses");
	is_int((int64_t)cf.n, 0, "no entries");
	cf_release(&cf);

	big = xmalloc(CF_MAX_SIZE + 1);
	memset(big, '#', CF_MAX_SIZE + 1);
	big[0] = 'a';
	big[1] = '=';
	big[2] = '\n';
	is_int(cf_parse_buf(&cf, "m.cf", big, CF_MAX_SIZE + 1, &err), -1,
	    "buffer over CF_MAX_SIZE rejected");
	is_str(err.msg, "m.cf: larger than 1048576 bytes", "cap message");
	is_int(cf_parse_buf(&cf, "m.cf", big, CF_MAX_SIZE, &err), 0,
	    "buffer of exactly CF_MAX_SIZE parses");
	is_str(cf_get(&cf, "a"), "", "and holds its one key");
	cf_release(&cf);
	free(big);
}

static void
test_secret(void)
{
	static const char *const rows[] = {
		"password secret123\n",
		"user\n  password secret123\n",
		"pass word = secret123\n",
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cf cf;
		struct err err = ERR_INIT;

		cf_parse_buf(&cf, "m.cf", rows[i], strlen(rows[i]), &err);
		ok(err.msg[0] != '\0' && strstr(err.msg, "secret123") == NULL,
		    "message %zu does not repeat the value: %s", i, err.msg);
	}
}

static void
test_file(void)
{
	char dir[] = "/tmp/t_cf.XXXXXX", path[128], want[256];
	struct cf cf;
	struct err err = ERR_INIT;
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	snprintf(path, sizeof(path), "%s/missing.cf", dir);
	is_int(cf_parse_file(&cf, path, &err), -1, "missing file fails");
	snprintf(want, sizeof(want), "map file '%s' not found", path);
	is_str(err.msg, want, "missing file message");
	ok(err.hint[0] != '\0', "missing file has a hint");
	is_int(err.kind, ERR_CONFIG, "missing file is ERR_CONFIG");
	ok(cf.path == NULL && cf.v == NULL, "missing: struct empty");

	is_int(cf_parse_file(&cf, dir, &err), -1, "directory fails");
	snprintf(want, sizeof(want), "'%s' is not a regular file", dir);
	is_str(err.msg, want, "directory message");

	snprintf(path, sizeof(path), "%s/sql.cf", dir);
	f = fopen(path, "w");
	fputs("# Postfix map\nhosts = 127.0.0.1\nuser = postfix\n"
	      "password = s3cret\ndbname = mail\nquery = SELECT 1\n"
	      "  WHERE x='%s'\n",
	    f);
	fclose(f);
	if (ok(cf_parse_file(&cf, path, &err) == 0, "file parses")) {
		is_str(cf_get(&cf, "query"), "SELECT 1 WHERE x='%s'",
		    "continued query");
		is_int(cf_line(&cf, "dbname"), 5, "line numbers from file");
		is_str(cf.path, path, "path kept");
		cf_release(&cf);
	} else
		diag("%s", err.msg);

	f = fopen(path, "w");
	fputs("hosts = h\nbroken\n", f);
	fclose(f);
	is_int(cf_parse_file(&cf, path, &err), -1, "malformed file fails");
	snprintf(want, sizeof(want),
	    "%s:2: missing '=' (expected 'name = "
	    "value')",
	    path);
	is_str(err.msg, want, "file errors are PATH:LINE");

	f = fopen(path, "w");
	for (int i = 0; i < CF_MAX_SIZE / 8 + 1; i++)
		fputs("#234567\n", f);
	fclose(f);
	is_int(cf_parse_file(&cf, path, &err), -1, "oversized file fails");
	snprintf(want, sizeof(want), "'%s' is larger than 1048576 bytes", path);
	is_str(err.msg, want, "oversized message");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_rows();
	test_get();
	test_limits();
	test_secret();
	test_file();
	return done_testing();
}
