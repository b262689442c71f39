/*
 * model_tx()'s retry, with a driver whose COMMIT fails on demand (SQLite
 * underneath): a transaction lost to a deadlock or Galera certification
 * conflict is run again whole, and an operation with side effects outside
 * the database (a maildir, the post-creation hook, the audit row) leaves
 * them exactly once after any number of lost attempts, and none after the
 * last; a COMMIT lost with its connection is never retried and keeps the
 * maildir a committed mailbox needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias.h"
#include "conf.h"
#include "db.h"
#include "domain.h"
#include "err.h"
#include "mailbox.h"
#include "model.h"
#include "schema.h"
#include "tap.h"

static char dir[] = "/tmp/postino-unit-tx.XXXXXX";
static struct db_driver fake;
static const struct db_driver *real;
static int fail_commits; /* COMMITs still to fail */
static int commits;	 /* COMMITs attempted */
static bool lose_after;	 /* commit for real, then report a lost link */

static int
fake_commit(struct db *db, struct err *err)
{
	commits++;
	if (lose_after) {
		lose_after = false;
		(void)real->commit(db, err);
		db->broken = true;
		return err_set(err, ERR_DATABASE, "lost connection (test)");
	}
	if (fail_commits > 0) {
		fail_commits--;
		return err_set(err, ERR_DEADLOCK,
		    "Deadlock found when trying to get lock; try restarting "
		    "transaction (test)");
	}
	return real->commit(db, err);
}

static char *
path(const char *rel)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return p;
}

static int64_t
count(struct db *db, const char *sql, const char *arg)
{
	struct db_arg a[] = { DB_TEXT(arg) };
	struct err e = ERR_INIT;
	int64_t n = -1;

	if (db_query_int(db, sql, a, 1, &n, &e) != 1)
		diag("%s: %s", sql, e.msg);
	return n;
}

static int
hook_lines(void)
{
	FILE *f = fopen(path("hook.log"), "r");
	int n = 0, c;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static bool
is_dir(const char *rel)
{
	struct stat st;

	return stat(path(rel), &st) == 0 && S_ISDIR(st.st_mode);
}

int
main(void)
{
	struct db_params p;
	struct postino_conf conf;
	struct model m;
	struct db *db;
	struct err e = ERR_INIT;
	struct domain_spec ds;
	struct domain_rec dr;
	struct alias_rec ar;
	struct mailbox_spec ms;
	FILE *f;
	char cmd[600];

	if (mkdtemp(dir) == NULL)
		return 1;
	memset(&p, 0, sizeof(p));
	p.engine = DB_ENGINE_SQLITE;
	p.dbpath = strdup(path("db.sqlite"));
	p.create = true;
	db = db_open(&p, &e);
	if (db == NULL || schema_init(db, NULL, NULL, &e) == -1) {
		diag("%s", e.msg);
		return 1;
	}
	real = db->drv;
	fake = *real;
	fake.commit = fake_commit;
	db->drv = &fake;

	conf_defaults(&conf);
	free(conf.virtual_mailbox_base);
	conf.virtual_mailbox_base = strdup(path("mail"));
	mkdir(conf.virtual_mailbox_base, 0755);
	f = fopen(path("hook"), "w");
	fprintf(f, "#!/bin/sh\necho \"$1\" >>%s\n", path("hook.log"));
	fclose(f);
	chmod(path("hook"), 0755);
	free(conf.postcreation_hook);
	conf.postcreation_hook = strdup(path("hook"));
	conf.vmail_uid = -1;
	conf.vmail_gid = -1;
	conf.bcrypt_cost = 4;
	model_init(&m, db, &conf, "t_tx_retry");

	memset(&ds, 0, sizeof(ds));
	ds.domain = "example.org";
	ds.mailboxes = 2;
	fail_commits = 1;
	ok(domain_add(&m, &ds, &dr, &e) == 0,
	    "domain add after one lost "
	    "COMMIT: %s",
	    e.msg);
	is_int(count(db,
		   "SELECT COUNT(*) FROM log WHERE action = 'create_domain' "
		   "AND domain = ?",
		   "example.org"),
	    1, "one audit row for the domain");

	/* Lost twice, committed the third time. */
	memset(&ms, 0, sizeof(ms));
	ms.username = "alice@example.org";
	ms.password = "secret-pw-1";
	ms.quota_bytes = -1;
	ms.active = true;
	ms.run_hook = true;
	commits = 0;
	fail_commits = 2;
	ok(mailbox_add(&m, &ms, NULL, &e) == 0,
	    "mailbox add after two lost "
	    "COMMITs: %s",
	    e.msg);
	is_int(commits, 3, "three COMMITs");
	is_int(count(db, "SELECT COUNT(*) FROM mailbox WHERE username = ?",
		   "alice@example.org"),
	    1, "one mailbox row");
	is_int(count(db, "SELECT COUNT(*) FROM alias WHERE address = ?",
		   "alice@example.org"),
	    1, "one alias row");
	is_int(count(db,
		   "SELECT COUNT(*) FROM log WHERE action = 'create_mailbox' "
		   "AND data = ?",
		   "alice@example.org"),
	    1, "one audit row");
	is_int(hook_lines(), 1, "the hook ran once");
	ok(is_dir("mail/example.org/alice/cur"), "the maildir exists");

	/* Lost every time: nothing at all. */
	ms.username = "bob@example.org";
	commits = 0;
	fail_commits = 1000;
	e = (struct err)ERR_INIT;
	ok(mailbox_add(&m, &ms, NULL, &e) == -1 && e.kind == ERR_DEADLOCK,
	    "lost every time: ERR_DEADLOCK (%s)", err_kind_name(e.kind));
	is_int(
	    commits, MODEL_TX_ATTEMPTS, "after %d attempts", MODEL_TX_ATTEMPTS);
	ok(strstr(e.hint, "attempts") != NULL, "the hint says so: %s", e.hint);
	is_int(count(db, "SELECT COUNT(*) FROM mailbox WHERE username = ?",
		   "bob@example.org"),
	    0, "no mailbox row");
	is_int(count(db,
		   "SELECT COUNT(*) FROM log WHERE action = 'create_mailbox' "
		   "AND data = ?",
		   "bob@example.org"),
	    0, "no audit row");
	is_int(hook_lines(), 1, "the hook did not run");
	ok(!is_dir("mail/example.org/bob"), "no maildir left");
	fail_commits = 0;

	/* The cap holds across retries: the domain allows two. */
	ms.username = "carol@example.org";
	fail_commits = 3;
	ok(mailbox_add(&m, &ms, NULL, &e) == 0, "second mailbox: %s", e.msg);
	ms.username = "dave@example.org";
	fail_commits = 1;
	e = (struct err)ERR_INIT;
	ok(mailbox_add(&m, &ms, NULL, &e) == -1 && e.kind == ERR_CAPACITY,
	    "a third is refused: %s", e.msg);
	ok(!is_dir("mail/example.org/dave"), "and has no maildir");
	is_int(hook_lines(), 2, "the hook ran once per mailbox");

	/* An alias: one row and one audit row after lost attempts. */
	fail_commits = 2;
	ok(alias_add(&m, "info@example.org", "alice@example.org", &ar, &e) == 0,
	    "alias add after two lost COMMITs: %s", e.msg);
	alias_rec_release(&ar);
	is_int(count(db,
		   "SELECT COUNT(*) FROM log WHERE action = 'create_alias' "
		   "AND data LIKE ?",
		   "info@example.org%"),
	    1, "one audit row for the alias");

	/* A COMMIT lost with its connection: not retried, the maildir kept. */
	ds.domain = "lost.example";
	ds.mailboxes = 0;
	ok(domain_add(&m, &ds, &dr, &e) == 0, "domain add: %s", e.msg);
	ms.username = "eve@lost.example";
	commits = 0;
	lose_after = true;
	e = (struct err)ERR_INIT;
	ok(mailbox_add(&m, &ms, NULL, &e) == -1 && e.kind == ERR_DATABASE,
	    "a COMMIT lost with its connection fails: %s", e.msg);
	is_int(commits, 1, "and is not retried");
	ok(strstr(e.msg, "may or may not") != NULL, "the message says so");
	ok(db->commit_unknown, "db->commit_unknown is set");
	is_int(count(db, "SELECT COUNT(*) FROM mailbox WHERE username = ?",
		   "eve@lost.example"),
	    1, "(it did commit)");
	ok(is_dir("mail/lost.example/eve/cur"),
	    "the maildir the committed row names is kept");
	ds.domain = "after.example";
	ok(domain_add(&m, &ds, &dr, &e) == 0 && !db->broken,
	    "the next operation reconnects first: %s", e.msg);

	db->drv = real;
	db_close(&db);
	free(p.dbpath);
	conf_release(&conf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
