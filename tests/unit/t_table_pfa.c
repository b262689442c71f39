/*
 * The postfixadmin table (model/lookup.c) on SQLite, with the rows of
 * tests/helpers/podop-seed.sql, and the change-serial invalidation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "dbpool.h"
#include "err.h"
#include "schema.h"
#include "table.h"
#include "fixture.h"

static const char *const seed[] = {
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('ALL', '', '', '0', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('example.com', '', 'virtual', '0', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('disabled.org', '', 'virtual', '0', '0')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('backup.net', '', 'relay:[mx.backup.net]', '1', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('alias.example', '', 'virtual', '0', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('dead.example', '', 'virtual', '0', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('off.example', '', 'virtual', '0', '1')",
	"INSERT INTO domain (domain, description, transport, backupmx, active) "
	"VALUES ('lists.example.com', '', 'virtual', '0', '1')",
	"INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES "
	"('alias.example', 'example.com', '1')",
	"INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES "
	"('dead.example', 'disabled.org', '1')",
	"INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES "
	"('off.example', 'example.com', '0')",
	"INSERT INTO mailbox (username, password, name, maildir, quota, "
	"local_part, domain, active) VALUES ('alice@example.com', "
	"'{PLAIN}alicepw', 'Alice', 'example.com/alice/', 1048576, 'alice', "
	"'example.com', '1')",
	"INSERT INTO mailbox (username, password, name, maildir, quota, "
	"local_part, domain, active) VALUES ('bob@example.com', "
	"'{PLAIN}bobpw', 'Bob', 'example.com/bob/', 0, 'bob', 'example.com', "
	"'1')",
	"INSERT INTO mailbox (username, password, name, maildir, quota, "
	"local_part, domain, active) VALUES ('carol@example.com', "
	"'{PLAIN}carolpw', 'Carol', 'example.com/carol/', 0, 'carol', "
	"'example.com', '0')",
	"INSERT INTO mailbox (username, password, name, maildir, quota, "
	"local_part, domain, active) VALUES ('dave@disabled.org', "
	"'{PLAIN}davepw', 'Dave', 'disabled.org/dave/', 0, 'dave', "
	"'disabled.org', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('alice@example.com', 'alice@example.com', 'example.com', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('bob@example.com', 'bob@example.com', 'example.com', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('carol@example.com', 'carol@example.com', 'example.com', '0')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('info@example.com', 'alice@example.com,bob@example.com', "
	"'example.com', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('old@example.com', 'bob@example.com', 'example.com', '0')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('@example.com', 'alice@example.com', 'example.com', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('dave@disabled.org', 'dave@disabled.org', 'disabled.org', '1')",
	"INSERT INTO alias (address, goto, domain, active) VALUES "
	"('owner-team@example.com', 'bob@example.com', 'example.com', '1')",
	"INSERT INTO routes (pattern, transport, domain, priority, active) "
	"VALUES ('^team(\\+.+)?@lists\\.example\\.com$', 'mlmmj-receive:', "
	"'lists.example.com', 50, '1')",
	"INSERT INTO routes (pattern, transport, domain, priority, active) "
	"VALUES ('^team-bounces@lists\\.example\\.com$', 'mlmmj-bounce:', "
	"'lists.example.com', 10, '1')",
	"INSERT INTO routes (pattern, transport, domain, priority, active) "
	"VALUES ('^off@lists\\.example\\.com$', 'mlmmj-receive:', "
	"'lists.example.com', 10, '0')",
	NULL
};

/* map, key, user, expected ("-" not found) */
static const struct {
	const char *map;
	const char *key;
	const char *user;
	const char *want;
} cases[] = {
	{ "alias", "alice@example.com", NULL, "alice@example.com" },
	{ "alias", "ALICE@Example.COM", NULL, "alice@example.com" },
	{ "alias", "alice+tag@example.com", NULL, "alice+tag@example.com" },
	{ "alias", "Alice+Tag@example.com", NULL, "alice+Tag@example.com" },
	{ "alias", "info+x@example.com", NULL,
	    "alice+x@example.com,bob+x@example.com" },
	{ "alias", "info@example.com", NULL,
	    "alice@example.com,bob@example.com" },
	{ "alias", "nobody@example.com", NULL, "alice@example.com" },
	{ "alias", "nobody+x@example.com", NULL, "alice@example.com" },
	{ "alias", "old@example.com", NULL, "alice@example.com" },
	{ "alias", "alice@alias.example", NULL, "alice@example.com" },
	{ "alias", "alice+x@alias.example", NULL, "alice+x@example.com" },
	{ "alias", "nobody@alias.example", NULL, "alice@example.com" },
	{ "alias", "x@dead.example", NULL, "-" },
	{ "alias", "alice@off.example", NULL, "-" },
	{ "alias", "x@unknown.org", NULL, "-" },
	{ "alias", "example.com", NULL, "-" },
	{ "alias", "+x@example.com", NULL, "alice@example.com" },
	{ "alias", "dave@disabled.org", NULL, "dave@disabled.org" },
	{ "alias", "\"john doe\"@example.com", NULL, "alice@example.com" },
	{ "alias", "a@b@example.com", NULL, "alice@example.com" },
	{ "mailbox", "alice@example.com", NULL, "example.com/alice/" },
	{ "mailbox", "alice+x@example.com", NULL, "example.com/alice/" },
	{ "mailbox", "Alice@Alias.Example", NULL, "example.com/alice/" },
	{ "mailbox", "carol@example.com", NULL, "-" },
	{ "mailbox", "info@example.com", NULL, "-" },
	{ "mailbox", "alice@off.example", NULL, "-" },
	{ "domain", "example.com", NULL, "example.com" },
	{ "domain", "EXAMPLE.com", NULL, "example.com" },
	{ "domain", "alias.example", NULL, "alias.example" },
	{ "domain", "disabled.org", NULL, "-" },
	{ "domain", "backup.net", NULL, "-" },
	{ "domain", "ALL", NULL, "-" },
	{ "domain", "all", NULL, "-" },
	{ "domain", "nowhere.org", NULL, "-" },
	{ "domain", "user@example.com", NULL, "-" },
	{ "relay_domain", "backup.net", NULL, "backup.net" },
	{ "relay_domain", "example.com", NULL, "-" },
	{ "transport", "example.com", NULL, ":" },
	{ "transport", "alice@example.com", NULL, ":" },
	{ "transport", "backup.net", NULL, "relay:[mx.backup.net]" },
	{ "transport", "*", NULL, "-" },
	{ "transport", "ALL", NULL, "-" },
	{ "transport", "x@disabled.org", NULL, "-" },
	{ "routes", "team@lists.example.com", NULL, "mlmmj-receive:" },
	{ "routes", "team+help@lists.example.com", NULL, "mlmmj-receive:" },
	{ "routes", "TEAM@lists.example.com", NULL, "mlmmj-receive:" },
	{ "routes", "team-bounces@lists.example.com", NULL, "mlmmj-bounce:" },
	{ "routes", "off@lists.example.com", NULL, "-" },
	{ "routes", "teamx@lists.example.com", NULL, "-" },
	{ "routes", "lists.example.com", NULL, "-" },
	{ "sender_login", "alice@example.com", NULL, "alice@example.com" },
	{ "sender_login", "info@example.com", NULL,
	    "alice@example.com,bob@example.com" },
	{ "sender_login", "alice+x@alias.example", NULL, "alice@example.com" },
	{ "sender_login", "nobody@example.com", NULL, "-" },
	{ "sender_login", "carol@example.com", NULL, "-" },
	{ "quota_limit", "alice@example.com", NULL, "1048576" },
	{ "dovecot", "passdb/alice@example.com", NULL,
	    "{\"password\":\"{PLAIN}alicepw\"}" },
	{ "dovecot", "passdb/Alice@Example.com", NULL,
	    "{\"password\":\"{PLAIN}alicepw\"}" },
	{ "dovecot", "passdb/carol@example.com", NULL, "-" },
	{ "dovecot", "userdb/alice@example.com", NULL,
	    "{\"gid\":\"5000\",\"home\":\"/var/vmail/example.com/alice/\","
	    "\"quota_rule\":\"*:bytes=1048576\",\"uid\":\"5000\"}" },
	{ "dovecot", "userdb/bob@example.com", NULL,
	    "{\"gid\":\"5000\",\"home\":\"/var/vmail/example.com/bob/\","
	    "\"uid\":\"5000\"}" },
	{ "dovecot", "userdb/nobody@example.com", NULL, "-" },
	{ "dovecot", "quota/storage", "alice@example.com", "-" },
	{ "dovecot", "passdb/alice@example.com", "alice@example.com", "-" },
	{ "alias", "alice@example.com", "alice@example.com", "-" },
};

static char dbpath[300];

static struct table *
open_kind(const char *kind)
{
	struct table *t = NULL;
	struct err e = ERR_INIT;
	char param[400];

	snprintf(param, sizeof(param), "%s:sqlite:%s", kind, dbpath);
	if (table_open(&t, kind, "postfixadmin", param, &fx_env, &e) == -1)
		diag("open %s: %s", kind, e.msg);
	return t;
}

static void
test_lookups(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct table *t = open_kind(cases[i].map);

		if (t == NULL) {
			ok(0, "open %s", cases[i].map);
			continue;
		}
		is_str(fx_lookup(t, cases[i].key, cases[i].user), cases[i].want,
		    "%s %s%s%s", cases[i].map, cases[i].key,
		    cases[i].user ? " user " : "",
		    cases[i].user ? cases[i].user : "");
		table_close(&t);
	}
}

static void
test_delimiters(void)
{
	struct table *t;

	free(fx_env.recipient_delimiter);
	fx_env.recipient_delimiter = strdup("+-");
	t = open_kind("alias");
	is_str(fx_lookup(t, "alice-x@example.com", NULL), "alice-x@example.com",
	    "two delimiters: '-' splits too");
	is_str(fx_lookup(t, "owner-team@example.com", NULL), "bob@example.com",
	    "owner-* is never split");
	is_str(fx_lookup(t, "alice-request@example.com", NULL),
	    "alice@example.com",
	    "*-request is never split (catch-all answers)");
	table_close(&t);
	free(fx_env.recipient_delimiter);
	fx_env.recipient_delimiter = strdup("");
	t = open_kind("alias");
	is_str(fx_lookup(t, "alice+x@example.com", NULL), "alice@example.com",
	    "no delimiter: no stripping (catch-all answers)");
	table_close(&t);
	free(fx_env.recipient_delimiter);
	fx_env.recipient_delimiter = strdup("+");
}

static void
test_dovecot(void)
{
	struct table *t = open_kind("dovecot");
	struct table_op ops[4];
	struct err e = ERR_INIT;
	struct buf rows;

	buf_init(&rows, 65536);
	is_int(table_iterate(t, "userdb/", NULL, 0, 0, fx_collect, &rows, &e),
	    0, "iterate userdb");
	is_str(buf_cstr(&rows),
	    "userdb/alice@example.com={\"gid\":\"5000\",\"home\":"
	    "\"/var/vmail/example.com/alice/\",\"quota_rule\":"
	    "\"*:bytes=1048576\",\"uid\":\"5000\"};"
	    "userdb/bob@example.com={\"gid\":\"5000\",\"home\":"
	    "\"/var/vmail/example.com/bob/\",\"uid\":\"5000\"};"
	    "userdb/dave@disabled.org={\"gid\":\"5000\",\"home\":"
	    "\"/var/vmail/disabled.org/dave/\",\"uid\":\"5000\"};",
	    "iterate: every active mailbox");
	buf_reset(&rows);
	table_iterate(t, "userdb/", NULL, 0, 1, fx_collect, &rows, &e);
	ok(strncmp(buf_cstr(&rows), "userdb/alice@example.com=", 25) == 0 &&
		strstr(buf_cstr(&rows), "bob") == NULL,
	    "iterate: max_rows");
	buf_reset(&rows);
	table_iterate(t, "passdb/", NULL, 0, 0, fx_collect, &rows, &e);
	is_str(buf_cstr(&rows), "", "iterate passdb/: nothing");
	buf_release(&rows);

	ops[0] = (struct table_op){ 'S', "quota/storage", "alice@example.com",
		"1000", 0, 0 };
	ops[1] = (struct table_op){ 'S', "quota/messages", "alice@example.com",
		"3", 0, 0 };
	is_int(table_commit(t, ops, 2, &e), 1, "quota_clone set");
	is_str(fx_lookup(t, "quota/storage", "alice@example.com"), "1000",
	    "storage stored");
	is_str(fx_lookup(t, "quota/messages", "Alice@example.com"), "3",
	    "messages stored");
	ops[0] = (struct table_op){ 'A', "quota/storage", "alice@example.com",
		"-100", -100, 0 };
	ops[1] = (struct table_op){ 'A', "quota/messages", "alice@example.com",
		"1", 1, 0 };
	ops[2] = (struct table_op){ 'A', "quota/messages", "alice@example.com",
		"1", 1, 0 };
	is_int(table_commit(t, ops, 3, &e), 1, "quota dict increments");
	is_str(fx_lookup(t, "quota/storage", "alice@example.com"), "900",
	    "storage incremented");
	is_str(fx_lookup(t, "quota/messages", "alice@example.com"), "5",
	    "messages incremented twice");
	ops[0] = (struct table_op){ 'U', "quota/storage", "alice@example.com",
		NULL, 0, 0 };
	ops[1] = (struct table_op){ 'S', "quota/storage", "alice@example.com",
		"7", 0, 0 };
	ops[2] = (struct table_op){ 'A', "quota/storage", "bob@example.com",
		"5", 5, 0 };
	is_int(table_commit(t, ops, 3, &e), 1,
	    "unset, set, and another "
	    "user");
	is_str(fx_lookup(t, "quota/storage", "alice@example.com"), "7",
	    "unset then "
	    "set");
	is_str(fx_lookup(t, "quota/storage", "bob@example.com"), "5",
	    "an increment creates the row");
	ops[0] = (struct table_op){ 'S', "passdb/alice@example.com", NULL, "x",
		0, 0 };
	is_int(table_commit(t, ops, 1, &e), -1, "other keys are read-only");
	is_int(e.kind, ERR_UNSUPPORTED, "read-only: kind");
	ops[0] = (struct table_op){ 'S', "quota/storage", "alice@example.com",
		"lots", 0, 0 };
	is_int(table_commit(t, ops, 1, &e), -1, "a non-number is refused");
	table_close(&t);
}

static void
test_generation(void)
{
	struct table *t = open_kind("alias"), *t2 = open_kind("mailbox");
	struct db_params p = { 0 };
	struct err e = ERR_INIT;
	uint64_t g0, g1;
	struct db *db;

	/* The poll skips pools polled less than 250 ms ago. */
	usleep(300 * 1000);
	dbpool_poll_all();
	g0 = table_generation(t);
	ok(g0 >= 1, "a generation (%llu)", (unsigned long long)g0);
	is_int((int64_t)table_generation(t2), (int64_t)g0,
	    "tables on one database share it");
	usleep(300 * 1000);
	is_int(dbpool_poll_all(), 0, "no change, no move");
	is_int((int64_t)table_generation(t), (int64_t)g0, "still the same");
	p.engine = DB_ENGINE_SQLITE;
	p.dbpath = dbpath;
	db = db_open(&p, &e);
	fx_sql(db,
	    "UPDATE postino_change SET serial = serial + 1 "
	    "WHERE id = 1");
	usleep(300 * 1000);
	is_int(dbpool_poll_all(), 1, "a bumped serial moves the generation");
	g1 = table_generation(t);
	ok(g1 > g0, "moved (%llu -> %llu)", (unsigned long long)g0,
	    (unsigned long long)g1);
	fx_sql(db, "DROP TABLE postino_change");
	usleep(300 * 1000);
	is_int(dbpool_poll_all(), 0, "without the table nothing moves");
	is_str(fx_lookup(t, "alice@example.com", NULL), "alice@example.com",
	    "and lookups still work");
	db_close(&db);
	table_close(&t);
	table_close(&t2);
}

int
main(void)
{
	struct db_params p = { 0 };
	struct err e = ERR_INIT;
	struct db *db;
	if (fixture_start() == -1)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s", fx_path("pfa.sqlite"));
	p.engine = DB_ENGINE_SQLITE;
	p.dbpath = dbpath;
	p.create = true;
	if ((db = db_open(&p, &e)) == NULL ||
	    schema_init(db, NULL, NULL, &e) == -1) {
		diag("cannot create the schema: %s", e.msg);
		ok(0, "schema");
		return done_testing();
	}
	for (size_t i = 0; seed[i] != NULL; i++)
		fx_sql(db, seed[i]);
	db_close(&db);
	fx_env.vmail_uid = 5000;
	fx_env.vmail_gid = 5000;
	test_lookups();
	test_delimiters();
	test_dovecot();
	test_generation();
	return fixture_end();
}
