/* Tables: registry, static, file, and sql map files on SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "proto_dict.h"
#include "table.h"
#include "fixture.h"

static void
write_file(const char *name, const char *text)
{
	FILE *fp = fopen(fx_path(name), "w");

	fputs(text, fp);
	fclose(fp);
}

static void
test_registry(void)
{
	struct table *t;
	struct err e = ERR_INIT;

	ok(table_backend_find("static") != NULL, "static is registered");
	ok(table_backend_find("postfixadmin") != NULL, "postfixadmin too");
	ok(table_backend_find("nope") == NULL, "unknown type");
	is_int(table_open(&t, "x", "mysqll", "", &fx_env, &e), -1,
	    "open an unknown type");
	is_str(e.hint, "did you mean 'mysql'?", "with a suggestion");
	is_int(table_open_spec(&t, "x", "static", &fx_env, &e), -1,
	    "a spec without ':'");
	is_int(table_open(&t, "a b", "static", "v", &fx_env, &e), -1,
	    "a name with a space");
	ok(table_iter_match("userdb/", "userdb/a", 0), "iter: direct child");
	ok(!table_iter_match("userdb/", "userdb/a/b", 0),
	    "iter: no grandchild without recurse");
	ok(table_iter_match("userdb/", "userdb/a/b", DICT_ITER_RECURSE),
	    "iter: grandchild with recurse");
	ok(!table_iter_match("userdb/", "passdb/a", DICT_ITER_RECURSE),
	    "iter: other prefix");
	ok(table_iter_match("k", "k", DICT_ITER_EXACT_KEY), "iter: exact");
}

static void
test_static(void)
{
	struct table *t;
	struct err e = ERR_INIT;

	is_int(table_open_spec(&t, "s", "static:{OK fine}", &fx_env, &e), 0,
	    "open static");
	is_str(fx_lookup(t, "anything", NULL), "OK fine",
	    "static answers any key");
	is_str(fx_lookup(t, "", NULL), "OK fine", "even the empty one");
	ok(!table_can_iterate(t) && !table_can_commit(t),
	    "static cannot iterate or commit");
	table_close(&t);
	ok(t == NULL, "close clears the pointer");
	is_int(table_open(&t, "s", "static", "", &fx_env, &e), -1,
	    "static needs a value");
}

static void
test_file(void)
{
	struct table *t;
	struct err e = ERR_INIT;
	struct buf rows;

	write_file("map.txt",
	    "# comment\n"
	    "alice@example.com   alice@example.org\n"
	    "Bob@Example.COM\tbob@example.org,\n"
	    "  extra@example.org\n"
	    "\n"
	    "dup first\n"
	    "dup second\n"
	    "passdb/u@x {\"password\":\"{PLAIN}p\"}\n"
	    "quota/storage/u@x 42\n"
	    "novalue\n");
	is_int(table_open(&t, "f", "file", fx_path("map.txt"), &fx_env, &e), 0,
	    "open file");
	is_str(fx_lookup(t, "alice@example.com", NULL), "alice@example.org",
	    "found");
	is_str(fx_lookup(t, "ALICE@example.com", NULL), "alice@example.org",
	    "keys fold to lower case");
	is_str(fx_lookup(t, "bob@example.com", NULL),
	    "bob@example.org, extra@example.org", "continuation lines");
	is_str(fx_lookup(t, "dup", NULL), "second", "the later duplicate wins");
	is_str(fx_lookup(t, "novalue", NULL), "-",
	    "a key without value is "
	    "not found");
	is_str(fx_lookup(t, "missing", NULL), "-", "missing");
	is_str(fx_lookup(t, "quota/storage", "u@x"), "42",
	    "a private dict key is "
	    "key/user");
	buf_init(&rows, 4096);
	is_int(table_iterate(t, "passdb/", NULL, 0, 0, fx_collect, &rows, &e),
	    0, "iterate");
	is_str(buf_cstr(&rows), "passdb/u@x={\"password\":\"{PLAIN}p\"};",
	    "iterate: rows under the path");
	buf_reset(&rows);
	table_iterate(t, "", NULL, DICT_ITER_RECURSE, 2, fx_collect, &rows, &e);
	is_str(buf_cstr(&rows),
	    "alice@example.com=alice@example.org;"
	    "bob@example.com=bob@example.org, extra@example.org;",
	    "iterate: max_rows, sorted");
	buf_release(&rows);
	table_close(&t);
	is_int(table_open(&t, "f", "file", fx_path("absent"), &fx_env, &e), -1,
	    "a missing file fails to open");
	is_int(e.kind, ERR_CONFIG, "as a config error");
}

static struct table *
sqlmap(const char *name, const char *body)
{
	struct table *t = NULL;
	struct err e = ERR_INIT;
	char text[2048];

	snprintf(
	    text, sizeof(text), "dbpath = %s\n%s", fx_path("db.sqlite"), body);
	write_file(name, text);
	if (table_open(&t, name, "sqlite", fx_path(name), &fx_env, &e) == -1)
		diag("open %s: %s", name, e.msg);
	return t;
}

static void
test_sql(void)
{
	struct db_params p = { 0 };
	struct err e = ERR_INIT;
	struct table *t;
	struct db *db;
	char dbpath[300];

	snprintf(dbpath, sizeof(dbpath), "%s", fx_path("db.sqlite"));
	p.engine = DB_ENGINE_SQLITE;
	p.dbpath = dbpath;
	p.create = true;
	db = db_open(&p, &e);
	fx_sql(db,
	    "CREATE TABLE alias (address TEXT, goto TEXT, "
	    "active INT)");
	fx_sql(db,
	    "CREATE TABLE alias_domain (alias_domain TEXT, "
	    "target_domain TEXT, active INT)");
	fx_sql(db,
	    "INSERT INTO alias VALUES ('info@example.com', "
	    "'alice@example.com,bob@example.com', 1)");
	fx_sql(db,
	    "INSERT INTO alias VALUES ('alice@example.com', "
	    "'alice@example.com', 1)");
	fx_sql(db, "INSERT INTO alias VALUES ('off@example.com', 'x', 0)");
	fx_sql(db,
	    "INSERT INTO alias_domain VALUES ('alias.example', "
	    "'example.com', 1)");
	db_close(&db);

	t = sqlmap("alias.cf",
	    "query = SELECT goto FROM alias WHERE "
	    "address='%s' AND active = '1'\n");
	is_str(fx_lookup(t, "info@example.com", NULL),
	    "alice@example.com,bob@example.com",
	    "sql: PostfixAdmin's alias "
	    "query");
	is_str(fx_lookup(t, "INFO@Example.com", NULL),
	    "alice@example.com,bob@example.com",
	    "sql: keys fold to lower "
	    "case");
	is_str(fx_lookup(t, "off@example.com", NULL), "-", "sql: inactive");
	is_str(fx_lookup(t, "x' OR '1'='1@example.com", NULL), "-",
	    "sql: a quote in the key is data, not SQL");
	is_str(fx_lookup(t, "x' OR 1=1 --", NULL), "-", "sql: so is a comment");
	table_close(&t);

	t = sqlmap("ad.cf",
	    "query = SELECT goto FROM alias, alias_domain "
	    "WHERE alias_domain.alias_domain = '%d' AND alias.address = '%u' "
	    "|| '@' || alias_domain.target_domain AND alias.active = 1 AND "
	    "alias_domain.active = 1\n");
	is_str(fx_lookup(t, "alice@alias.example", NULL), "alice@example.com",
	    "sql: the alias-domain query with %%u and %%d");
	is_str(fx_lookup(t, "alias.example", NULL), "-",
	    "sql: %%d on a key without '@' suppresses the query");
	table_close(&t);

	t = sqlmap("mixed.cf",
	    "query = SELECT goto FROM alias WHERE "
	    "address = '%u@%d'\n");
	is_str(fx_lookup(t, "alice@example.com", NULL), "alice@example.com",
	    "sql: '%%u@%%d' inside one literal");
	is_str(fx_lookup(t, "@example.com", NULL), "-",
	    "sql: %%u with an empty local part suppresses the query");
	table_close(&t);

	t = sqlmap("labels.cf", "query = SELECT '%2-%1'\n");
	is_str(fx_lookup(t, "u@mail.example.com", NULL), "example-com",
	    "sql: %%1 and %%2 are the rightmost labels");
	is_str(fx_lookup(t, "u@com", NULL), "-",
	    "sql: a missing label suppresses");
	table_close(&t);

	t = sqlmap("fmt.cf",
	    "query = SELECT 'host', 'a@b'\n"
	    "result_format = smtp:[%s]\n");
	is_str(fx_lookup(t, "k", NULL), "smtp:[host],smtp:[a@b]",
	    "sql: columns and result_format");
	table_close(&t);
	t = sqlmap("fmtd.cf",
	    "query = SELECT 'host' UNION ALL SELECT 'a@b'\n"
	    "result_format = %d/%S\n");
	is_str(fx_lookup(t, "k", NULL), "b/k",
	    "sql: %%d suppresses values without "
	    "a domain; %%S is the key");
	table_close(&t);

	t = sqlmap("multi.cf",
	    "query = SELECT 'a', 'b' UNION ALL SELECT 'c',"
	    " NULL UNION ALL SELECT '', 'd'\n");
	is_str(fx_lookup(t, "k", NULL), "a,b,c,d",
	    "sql: every non-empty value, "
	    "comma-joined");
	table_close(&t);

	t = sqlmap("limit.cf",
	    "query = SELECT 'a' UNION ALL SELECT 'b'\n"
	    "expansion_limit = 1\n");
	is_str(fx_lookup(t, "k", NULL), "!too_large", "sql: expansion_limit");
	table_close(&t);

	t = sqlmap("dom.cf",
	    "query = SELECT 'yes'\ndomain = example.com, "
	    "example.org\n");
	is_str(
	    fx_lookup(t, "bob@example.org", NULL), "yes", "sql: domain listed");
	is_str(
	    fx_lookup(t, "bob@other.net", NULL), "-", "sql: domain not listed");
	is_str(fx_lookup(t, "example.com", NULL), "-",
	    "sql: domain: bare domains "
	    "are not looked up");
	is_str(fx_lookup(t, "@example.com", NULL), "-",
	    "sql: domain: nor @domain");
	table_close(&t);

	t = sqlmap("pct.cf",
	    "query = SELECT '100%%' WHERE 'a%%' LIKE 'a%%' "
	    "AND %s <> ''\n");
	is_str(fx_lookup(t, "k", NULL), "100%",
	    "sql: %%%% is a percent sign, in and "
	    "out of strings; a bare %%s is bound too");
	table_close(&t);

	t = sqlmap("legacy.cf",
	    "table = alias\nselect_field = goto\n"
	    "where_field = address\nadditional_conditions = AND active = 1\n");
	is_str(fx_lookup(t, "alice@example.com", NULL), "alice@example.com",
	    "sql: the old table/select_field/where_field form");
	table_close(&t);

	ok(sqlmap("bad1.cf", "query = SELECT '%x'\n") == NULL,
	    "sql: an unknown %% sequence is refused");
	ok(sqlmap("bad2.cf", "query = SELECT ? \n") == NULL,
	    "sql: a '?' in the query is refused");
	ok(sqlmap("bad3.cf", "query = SELECT 'open\n") == NULL,
	    "sql: an unterminated string is refused");
	ok(sqlmap("bad4.cf", "hosts = x\n") == NULL,
	    "sql: no query is refused");
}

int
main(void)
{
	if (fixture_start() == -1)
		return 1;
	test_registry();
	test_static();
	test_file();
	test_sql();
	return fixture_end();
}
