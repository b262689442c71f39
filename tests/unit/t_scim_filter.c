/*
 * postinod's SCIM filter compiler: filter text to SQL condition and bound
 * values, over the model's attribute maps.  The daemon's sources are
 * compiled into this test directly (they are not part of libpostino).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

#include "../../src/postinod/timefmt.c"
#include "../../src/postinod/scim_filter.c"

#define EXT SCIM_SCHEMA_MAILBOX ":"

static const struct {
	const char *filter;
	const char *sql;  /* NULL = must be refused */
	const char *args; /* values joined with '|' */
} cases[] = {
	{ "userName eq \"Alice@Example.ORG\"", "(username = ?)",
	    "alice@example.org" },
	{ "USERNAME EQ \"a@b.c\"", "(username = ?)", "a@b.c" },
	{ "id ne \"a@b.c\"", "(username IS NULL OR username <> ?)", "a@b.c" },
	{ "name.formatted co \"Sm%th\"",
	    "(postino_fold(name) LIKE ? ESCAPE '!')", "%sm!%th%" },
	{ "userName sw \"a_b!\"", "(username >= ? AND username < ?)",
	    "a_b!|a_b\"" },
	{ "userName sw \"\"", "(username >= ?)", "" },
	{ "userName ew \"@x.org\"", "(username GLOB ?)", "*@x.org" },
	{ "userName co \"a*?[\"", "(username GLOB ?)", "*a[*][?][[]*" },
	{ "name.formatted eq \"Ann\"", "(postino_fold(name) = ?)", "ann" },
	{ "name.formatted eq \"M\u00dcLLER \"", "(postino_fold(name) = ?)",
	    "m\xc3\xbcller " },
	{ "name.formatted gt \"M\"", "(postino_fold(name) > ?)", "m" },
	{ "active eq True", "(active = ?)", "1" },
	{ "active eq FALSE", "(active = ?)", "0" },
	{ "name.formatted eq Null", "(name IS NULL OR name = '')", "" },
	{ "userName gt \"m\"", "(username > ?)", "m" },
	{ "userName le \"m\"", "(username <= ?)", "m" },
	{ "name.formatted pr", "(name IS NOT NULL AND name <> '')", "" },
	{ "active pr", "(1 = 1)", "" },
	{ "name.formatted eq null", "(name IS NULL OR name = '')", "" },
	{ "name.formatted ne null", "(name IS NOT NULL AND name <> '')", "" },
	{ "userName eq null", "(username IS NULL OR username = '')", "" },
	{ "active eq null", "(1 = 0)", "" },
	{ "active ne null", "(1 = 1)", "" },
	{ EXT "quotaBytes eq null", "(quota IS NULL)", "" },
	{ "meta.created ne null", "(created IS NOT NULL)", "" },
	{ "active eq true", "(active = ?)", "1" },
	{ "active ne false", "(active <> ?)", "0" },
	{ EXT "quotaBytes ge 1024", "(quota >= ?)", "1024" },
	{ EXT "quotaBytes pr", "(quota IS NOT NULL)", "" },
	{ EXT "idpManaged eq true", "((password = '{NOAUTH}') = ?)", "1" },
	{ "meta.created gt \"2026-05-09T12:00:00Z\"", "(created > ?)",
	    "2026-05-09 12:00:00" },
	{ "meta.lastModified lt \"2026-05-09T14:00:00.25+02:00\"",
	    "(modified < ?)", "2026-05-09 12:00:00" },
	{ "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"a@b.c\"",
	    "(username = ?)", "a@b.c" },
	{ "emails[value eq \"a@b.c\"]", "(username = ?)", "a@b.c" },
	{ "emails co \"b\"", "(username GLOB ?)", "*b*" },
	{ "a eq \"1\"", NULL, NULL },
	{ "userName eq \"x\" and active eq true",
	    "((username = ?) AND (active = ?))", "x|1" },
	{ "userName eq \"x\" or userName eq \"y\" and active eq false",
	    "((username = ?) OR ((username = ?) AND (active = ?)))", "x|y|0" },
	{ "(userName eq \"x\" or userName eq \"y\") and active eq false",
	    "(((username = ?) OR (username = ?)) AND (active = ?))", "x|y|0" },
	{ "not (active eq true)", "NOT (active = ?)", "1" },
	{ "not(active eq true)", "NOT (active = ?)", "1" },
	{ "userName eq \"it\\\"s\"", "(username = ?)", "it\"s" },
	{ "userName eq \"\\u00e9\"", "(username = ?)", "\xc3\xa9" },
	{ "  userName   eq   \"x\"  ", "(username = ?)", "x" },
	/* Refusals. */
	{ "", NULL, NULL },
	{ "nickName eq \"x\"", NULL, NULL },
	{ "password eq \"x\"", NULL, NULL },
	{ "emails[type eq \"work\"]", NULL, NULL },
	{ "emails[value eq \"a\" and emails[value eq \"b\"]]", NULL, NULL },
	{ "userName eq", NULL, NULL },
	{ "userName eq x", NULL, NULL },
	{ "userName zz \"x\"", NULL, NULL },
	{ "userName eq \"x", NULL, NULL },
	{ "userName eq \"x\" and", NULL, NULL },
	{ "(userName eq \"x\"", NULL, NULL },
	{ "userName eq \"x\")", NULL, NULL },
	{ "userName eq \"x\" \"y\"", NULL, NULL },
	{ "userName gt null", NULL, NULL },
	{ "name.formatted co null", NULL, NULL },
	{ "userName eq 1", NULL, NULL },
	{ "userName eq {\"a\":1}", NULL, NULL },
	{ "userName eq [1]", NULL, NULL },
	{ "userName eq \"\\u0000\"", NULL, NULL },
	{ "active eq \"true\"", NULL, NULL },
	{ "active gt true", NULL, NULL },
	{ "active eq tru", NULL, NULL },
	{ "active eq truefalse", NULL, NULL },
	{ EXT "quotaBytes co \"1\"", NULL, NULL },
	{ EXT "quotaBytes eq 1.5", NULL, NULL },
	{ "meta.created eq \"yesterday\"", NULL, NULL },
	{ "meta.created sw \"2026\"", NULL, NULL },
	{ "not userName eq \"x\"", NULL, NULL },
	{ "userName) OR (1=1 eq \"x\"", NULL, NULL },
	{ "userName eq \"x\"; DROP TABLE mailbox", NULL, NULL },
	{ "userName eq \"x\" or 1=1", NULL, NULL },
};

static void
args_text(const struct scim_where *w, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < w->nargs && o < size; i++) {
		char v[256];

		if (w->args[i].type == DB_ARG_TEXT)
			snprintf(v, sizeof(v), "%s", w->args[i].s);
		else
			snprintf(v, sizeof(v), "%lld", (long long)w->args[i].i);
		o += (size_t)snprintf(
		    out + o, size - o, "%s%s", i ? "|" : "", v);
	}
}

static void
check(const char *filter, const char *want_sql, const char *want_args)
{
	struct scim_where w;
	struct err err = ERR_INIT;
	char args[1024];
	int rc;

	scim_where_init(&w);
	rc = scim_filter_compile(filter, scim_user_attrs,
	    "urn:ietf:params:scim:schemas:core:2.0:User", &w, &err);
	if (want_sql == NULL) {
		ok(rc == -1 && err.kind == ERR_INVALID && err.msg[0] != '\0',
		    "refused: %s (%s)", filter, err.msg);
	} else if (!ok(rc == 0, "compiles: %s", filter)) {
		diag("error: %s", err.msg);
	} else {
		is_str(buf_cstr(&w.sql), want_sql, "sql of: %s", filter);
		args_text(&w, args, sizeof(args));
		is_str(args, want_args, "args of: %s", filter);
	}
	scim_where_release(&w);
}

static void
test_bounds(void)
{
	struct scim_where w;
	struct err err = ERR_INIT;
	char big[SCIM_FILTER_MAX_LEN + 64];
	size_t o = 0;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	scim_where_init(&w);
	ok(scim_filter_compile(big, scim_user_attrs, "x", &w, &err) == -1,
	    "a filter over the length limit is refused");
	scim_where_release(&w);

	for (int i = 0; i < SCIM_FILTER_MAX_DEPTH + 2; i++)
		big[o++] = '(';
	o += (size_t)snprintf(big + o, sizeof(big) - o, "active pr");
	for (int i = 0; i < SCIM_FILTER_MAX_DEPTH + 2; i++)
		big[o++] = ')';
	big[o] = '\0';
	scim_where_init(&w);
	ok(scim_filter_compile(big, scim_user_attrs, "x", &w, &err) == -1,
	    "nesting beyond the limit is refused");
	scim_where_release(&w);

	o = 0;
	for (int i = 0; i < SCIM_FILTER_MAX_DEPTH; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "not (");
	o += (size_t)snprintf(big + o, sizeof(big) - o, "active pr");
	for (int i = 0; i < SCIM_FILTER_MAX_DEPTH; i++)
		big[o++] = ')';
	big[o] = '\0';
	scim_where_init(&w);
	ok(scim_filter_compile(big, scim_user_attrs, "x", &w, &err) == 0,
	    "%d levels, the limit, compile (%s)", SCIM_FILTER_MAX_DEPTH,
	    err.msg);
	scim_where_release(&w);
	scim_where_init(&w);
	ok(scim_filter_compile("urn:postino:params:scim:schemas:extension:"
			       "mailbox:2.0:User:nosuchattribute eq 1",
	       scim_user_attrs, "x", &w, &err) == -1 &&
		strstr(err.msg, "User:nosuchattribute") != NULL,
	    "an error names the whole attribute (%s)", err.msg);
	scim_where_release(&w);

	o = (size_t)snprintf(big, sizeof(big), "userName eq \"a\"");
	for (int i = 0; i < SCIM_FILTER_MAX_TERMS; i++)
		o += (size_t)snprintf(
		    big + o, sizeof(big) - o, " or userName eq \"a\"");
	scim_where_init(&w);
	ok(scim_filter_compile(big, scim_user_attrs, "x", &w, &err) == -1,
	    "more than %d comparisons are refused", SCIM_FILTER_MAX_TERMS);
	scim_where_release(&w);
}

/* The same filters as MariaDB and PostgreSQL get them. */
static void
test_engines(void)
{
	static const struct {
		enum db_engine e;
		const char *filter, *sql, *args;
	} ec[] = {
		{ DB_ENGINE_MYSQL, "userName eq \"A@b\"",
		    "(username = ? AND CONVERT(username USING utf8mb4) COLLATE "
		    "utf8mb4_nopad_bin = ?)",
		    "a@b|a@b" },
		{ DB_ENGINE_MYSQL, "userName sw \"u5\"",
		    "(username LIKE ? ESCAPE '!' AND CONVERT(username USING "
		    "utf8mb4) COLLATE utf8mb4_nopad_bin LIKE ? ESCAPE '!')",
		    "u5%|u5%" },
		{ DB_ENGINE_MYSQL, "name.formatted co \"\u00dc\"",
		    "(LOWER(CONVERT(name USING utf8mb4)) COLLATE "
		    "utf8mb4_nopad_bin LIKE ? ESCAPE '!')",
		    "%\xc3\xbc%" },
		{ DB_ENGINE_MYSQL, "name.formatted pr",
		    "(name IS NOT NULL AND BINARY name <> '')", "" },
		{ DB_ENGINE_PGSQL, "userName sw \"u5\"",
		    "(username COLLATE \"C\" >= ? AND username COLLATE \"C\" "
		    "< ?)",
		    "u5|u6" },
		{ DB_ENGINE_PGSQL, "userName eq \"u5\"", "(username = ?)",
		    "u5" },
		{ DB_ENGINE_PGSQL, "userName co \"u5\"",
		    "(username COLLATE \"C\" LIKE ? ESCAPE '!')", "%u5%" },
		{ DB_ENGINE_PGSQL, "name.formatted sw \"\u00c9\"",
		    "(lower(name) COLLATE \"C\" LIKE ? ESCAPE '!')",
		    "\xc3\xa9%" },
	};

	for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
		struct scim_where w;
		struct err err = ERR_INIT;
		char args[1024];

		scim_where_init(&w);
		w.engine = ec[i].e;
		ok(scim_filter_compile(ec[i].filter, scim_user_attrs,
		       "urn:ietf:params:scim:schemas:core:2.0:User", &w,
		       &err) == 0,
		    "%s: compiles: %s", db_engine_name(ec[i].e), ec[i].filter);
		is_str(buf_cstr(&w.sql), ec[i].sql, "%s: sql of %s",
		    db_engine_name(ec[i].e), ec[i].filter);
		args_text(&w, args, sizeof(args));
		is_str(args, ec[i].args, "%s: args of %s",
		    db_engine_name(ec[i].e), ec[i].filter);
		scim_where_release(&w);
	}
}

static void
test_prefix_end(void)
{
	static const char *const in[] = { "a", "\xc3\xbf", "a\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf", "\xf4\x8f\xbf\xbf", "" };
	static const char *const want[] = { "b", "\xc4\x80", "b",
		"\xee\x80\x80", NULL, NULL };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *got = prefix_end(in[i]);

		if (want[i] == NULL)
			ok(got == NULL, "prefix_end %zu: none", i);
		else
			is_str(got != NULL ? got : "(null)", want[i],
			    "prefix_end %zu", i);
		free(got);
	}
}

static void
test_other_maps(void)
{
	struct scim_where w;
	struct err err = ERR_INIT;

	scim_where_init(&w);
	ok(scim_filter_compile("goto co \"x\" and domain eq \"D.org\"",
	       scim_alias_attrs,
	       "urn:postino:params:scim:schemas:core:2.0:Alias", &w, &err) == 0,
	    "alias map");
	is_str(buf_cstr(&w.sql),
	    "((postino_fold(a.goto) LIKE ? ESCAPE '!') "
	    "AND (a.domain = ?))",
	    "alias sql");
	scim_where_release(&w);
	scim_where_init(&w);
	ok(scim_filter_compile("userName eq \"x\"", scim_alias_attrs,
	       "urn:postino:params:scim:schemas:core:2.0:Alias", &w,
	       &err) == -1,
	    "a User attribute is unknown to aliases");
	scim_where_release(&w);
	scim_where_init(&w);
	ok(scim_filter_compile("maxMailboxes gt 0", scim_domain_attrs,
	       "urn:postino:params:scim:schemas:core:2.0:Domain", &w,
	       &err) == 0,
	    "domain map");
	is_str(buf_cstr(&w.sql), "(d.mailboxes > ?)", "domain sql");
	scim_where_release(&w);
	ok(scim_attr_find(scim_user_attrs,
	       "urn:ietf:params:scim:schemas:"
	       "core:2.0:User",
	       "META.CREATED") != NULL,
	    "scim_attr_find ignores "
	    "case");
	ok(scim_attr_find(scim_user_attrs, "u", "nope") == NULL,
	    "scim_attr_find: unknown");
}

static void
test_timefmt(void)
{
	static const struct {
		const char *in;
		long long want; /* -1 = refused */
	} t[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-05-09T12:00:00Z", 1778328000 },
		{ "2026-05-09T12:00:00", 1778328000 },
		{ "2026-05-09 12:00:00", 1778328000 },
		{ "2026-05-09T14:00:00+02:00", 1778328000 },
		{ "2026-05-09T10:30:00-0130", 1778328000 },
		{ "2026-05-09T12:00:00.123456789Z", 1778328000 },
		{ "2026-05-09T12:00:00.Z", -1 },
		{ "2026-13-09T12:00:00Z", -1 },
		{ "2026-05-09T12:00:00ZZ", -1 },
		{ "2026-05-09", -1 },
		{ "yesterday", -1 },
		{ "", -1 },
	};
	char buf[TIMEFMT_MAX];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		time_t v = 0;
		int rc = timefmt_parse(t[i].in, &v);

		if (t[i].want < 0)
			ok(rc == -1, "timefmt refuses '%s'", t[i].in);
		else
			is_int(rc == 0 ? (long long)v : -2, t[i].want,
			    "timefmt '%s'", t[i].in);
	}
	is_str(timefmt_scim("2026-05-09 12:00:00", buf, sizeof(buf)),
	    "2026-05-09T12:00:00Z", "stored to SCIM (TZ=UTC)");
	is_str(timefmt_scim("garbage", buf, sizeof(buf)), "",
	    "unreadable stored time");
	is_str(timefmt_stored(1778328000, buf, sizeof(buf)),
	    "2026-05-09 12:00:00", "time to stored (TZ=UTC)");
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].filter, cases[i].sql, cases[i].args);
	test_bounds();
	test_other_maps();
	test_engines();
	test_prefix_end();
	test_timefmt();
	return done_testing();
}
