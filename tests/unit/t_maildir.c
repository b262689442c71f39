/*
 * maildir: the creation pool of a bulk import.  Everything queued exists
 * after maildir_pool_wait(), the undo it hands back takes all of it away
 * again (whichever thread made a parent), the first failure in queue order
 * is the one reported, and a pool is reusable after a failed round.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir.h"
#include "tap.h"
#include "banned.h"

static char base[] = "/tmp/t_maildir.XXXXXX";

static int
is_dir(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Entries directly in base/rel (0 when absent). */
static int
count(const char *rel)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	snprintf(
	    cmd, sizeof(cmd), "ls -A '%s/%s' 2>/dev/null | wc -l", base, rel);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void
round_ok(int threads)
{
	struct maildir_pool *p;
	struct maildir_undo u;
	struct err e = ERR_INIT;
	long tag = 0;
	int all = 1, rc;

	p = maildir_pool_new(base, -1, -1, threads);
	maildir_undo_init(&u, base);
	for (int i = 0; i < 200; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "d%d.example/user%d/", i % 4, i);
		maildir_pool_add(p, rel, i + 1);
	}
	rc = maildir_pool_wait(p, &u, &tag, &e);
	is_int(rc, 0, "%d threads: a round of 200 succeeds", threads);
	for (int i = 0; i < 200; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "d%d.example/user%d/new", i % 4, i);
		all &= is_dir(rel);
	}
	ok(all, "%d threads: every maildir and its skeleton exists", threads);
	is_int((int64_t)u.nmade, 4 + 200 * 4,
	    "%d threads: the undo holds every directory made", threads);
	maildir_undo_run(&u);
	is_int(count(""), 0, "%d threads: undo takes all of it back", threads);
	maildir_undo_release(&u);
	maildir_pool_free(p);
}

int
main(void)
{
	struct maildir_pool *p;
	struct maildir_undo u;
	struct err e = ERR_INIT;
	char path[512];
	long tag = 0;
	int rc;

	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	round_ok(1);
	round_ok(2);
	round_ok(8);

	/* Two planted symlinks: the earlier one in queue order is reported. */
	snprintf(path, sizeof(path), "%s/f.example", base);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/f.example/user50", base);
	rc = symlink("/", path);
	snprintf(path, sizeof(path), "%s/f.example/user120", base);
	rc |= symlink("/", path);
	ok(rc == 0, "planted two symlinks");
	p = maildir_pool_new(base, -1, -1, 2);
	maildir_undo_init(&u, base);
	for (int i = 0; i < 200; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "f.example/user%d/", i);
		maildir_pool_add(p, rel, 1000 + i);
	}
	rc = maildir_pool_wait(p, &u, &tag, &e);
	is_int(rc, -1, "a round with a planted symlink fails");
	is_int(tag, 1050, "the first failure in queue order is reported");
	is_int(e.kind, ERR_FILESYSTEM, "as a filesystem error");
	ok(strstr(e.msg, "f.example/user50") != NULL, "naming the path: %s",
	    e.msg);
	maildir_undo_run(&u);
	maildir_undo_release(&u);
	is_int(count("f.example"), 2,
	    "undo leaves only what was there before (the two links)");
	ok(is_dir("f.example"), "and the directory that existed before");

	/* The same pool serves the next round. */
	maildir_undo_init(&u, base);
	maildir_pool_add(p, "f.example/again/", 7);
	rc = maildir_pool_wait(p, &u, &tag, &e);
	is_int(rc, 0, "after a failed round the pool works again");
	ok(is_dir("f.example/again/tmp"), "and made its maildir");
	maildir_undo_run(&u);
	maildir_undo_release(&u);
	is_int(count("f.example"), 2, "whose undo took it back");

	/* Freed with work queued: the work finishes first. */
	maildir_pool_add(p, "f.example/late/", 8);
	maildir_pool_free(p);
	ok(is_dir("f.example/late/cur"), "free waits for queued work");

	snprintf(path, sizeof(path), "rm -rf '%s'", base);
	if (system(path) != 0)
		diag("could not remove %s", base);
	return done_testing();
}
