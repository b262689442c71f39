#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "maildir.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define MAX_DEPTH 64

static const char *const skeleton[] = { "cur", "new", "tmp", NULL };

/* Whether mkdir(0700) yields exactly 0700 (-1: unknown, chmod anyway). */
static int umask_keeps_0700 = -1;

void
maildir_note_umask(void)
{
	mode_t m = umask(077);

	umask(m);
	umask_keeps_0700 = (m & 0700) == 0;
}

void
maildir_undo_init(struct maildir_undo *u, const char *base)
{
	u->base = xstrdup(base);
	u->made = NULL;
	u->nmade = 0;
}

void
maildir_undo_release(struct maildir_undo *u)
{
	for (size_t i = 0; i < u->nmade; i++)
		free(u->made[i]);
	free(u->made);
	free(u->base);
	u->made = NULL;
	u->nmade = 0;
	u->base = NULL;
}

static void
undo_add(struct maildir_undo *u, const char *rel)
{
	if (u == NULL)
		return;
	u->made = xreallocarray(u->made, u->nmade + 1, sizeof(*u->made));
	u->made[u->nmade++] = xstrdup(rel);
}

/* Append from's entries to to's, leaving from empty. */
static void
undo_move(struct maildir_undo *to, struct maildir_undo *from)
{
	if (from->nmade == 0)
		return;
	to->made =
	    xreallocarray(to->made, to->nmade + from->nmade, sizeof(*to->made));
	memcpy(to->made + to->nmade, from->made,
	    from->nmade * sizeof(*from->made));
	to->nmade += from->nmade;
	from->nmade = 0;
}

static int
fs_err(struct err *err, const char *what, const char *path, int e)
{
	if (e == ELOOP || e == ENOTDIR || e == EMLINK) {
		err_set(err, ERR_FILESYSTEM,
		    "refusing to %s '%s': a path component is a symlink or not a directory",
		    what, path);
		return err_hint(err,
		    "inspect the mail root for planted symlinks ('postino check --deep' lists them)");
	}
	return err_set(
	    err, ERR_FILESYSTEM, "cannot %s '%s': %s", what, path, strerror(e));
}

int
maildir_rel_valid(const char *rel, struct err *err)
{
	const char *p = rel;

	if (rel[0] == '\0' || rel[0] == '/')
		return err_set(
		    err, ERR_FILESYSTEM, "invalid maildir path '%.100s'", rel);
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.') ||
		    str_prefix(p, ".deleting"))
			return err_set(err, ERR_FILESYSTEM,
			    "invalid maildir path '%.100s'", rel);
		p += n;
		if (*p == '/') {
			p++;
			/* A single trailing slash is PostfixAdmin's style. */
			if (*p == '\0')
				break;
		}
	}
	return 0;
}

static int
open_base(const char *base, struct err *err)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		err_set(err, ERR_FILESYSTEM,
		    "cannot open the mail root '%s': %s", base,
		    strerror(errno));
		return err_hint(err, "create it or fix virtual_mailbox_base"),
		       -1;
	}
	return fd;
}

static int
open_dir_at(int dirfd, const char *name)
{
	return openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Set mode and owner of a directory we created. */
static int
own_dir(int fd, int64_t uid, int64_t gid)
{
	if (umask_keeps_0700 != 1 && fchmod(fd, 0700) == -1)
		return -1;
	if (uid >= 0 && gid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) == -1)
		return -1;
	return 0;
}

/*
 * Walk rel from base, creating missing components when create is set.
 * Returns an fd of the last directory, or -1 with err.  When parent_r is
 * not NULL, stop one component early and return the parent's fd with the
 * last component copied into last_r.
 */
static int
walk(int basefd, const char *rel, bool create, int64_t uid, int64_t gid,
    struct maildir_undo *undo, bool *lastmade_r, struct err *err)
{
	char comp[256], sofar[4096];
	const char *p = rel;
	int fd = dup(basefd);
	size_t so = 0;

	if (lastmade_r != NULL)
		*lastmade_r = false;
	sofar[0] = '\0';
	while (fd != -1 && *p != '\0') {
		size_t n = strcspn(p, "/");
		int nfd;

		if (n == 0 || n >= sizeof(comp) ||
		    so + n + 2 >= sizeof(sofar)) {
			close(fd);
			return err_set(
			    err, ERR_FILESYSTEM, "invalid path '%.100s'", rel);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		so += (size_t)snprintf(sofar + so, sizeof(sofar) - so, "%s%s",
		    so ? "/" : "", comp);
		p += n;
		while (*p == '/')
			p++;
		nfd = open_dir_at(fd, comp);
		if (nfd == -1 && errno == ENOENT && create) {
			/*
			 * Another process or thread may make it first: then
			 * it is theirs to own and to take back, not ours.
			 */
			bool mine = mkdirat(fd, comp, 0700) == 0;

			if (!mine && errno != EEXIST) {
				int e = errno;

				close(fd);
				return fs_err(err, "create", sofar, e);
			}
			nfd = open_dir_at(fd, comp);
			if (nfd != -1 && mine) {
				undo_add(undo, sofar);
				if (lastmade_r != NULL)
					*lastmade_r = *p == '\0';
				if (own_dir(nfd, uid, gid) == -1) {
					int e = errno;

					close(nfd);
					close(fd);
					return fs_err(err,
					    "set owner and mode of", sofar, e);
				}
			}
		}
		if (nfd == -1) {
			int e = errno;

			close(fd);
			if (e == ENOENT && !create)
				return err_set(err, ERR_NOTFOUND,
				    "'%s' does not exist", sofar);
			return fs_err(err, "open", sofar, e);
		}
		close(fd);
		fd = nfd;
	}
	if (fd == -1)
		return fs_err(err, "open", rel, errno);
	return fd;
}

int
maildir_create(const char *base, const char *rel, int64_t uid, int64_t gid,
    bool *existed_r, struct maildir_undo *undo, struct err *err)
{
	int basefd, fd;
	bool made;

	if (maildir_rel_valid(rel, err) == -1)
		return -1;
	if ((basefd = open_base(base, err)) == -1)
		return -1;
	fd = walk(basefd, rel, true, uid, gid, undo, &made, err);
	close(basefd);
	if (fd == -1)
		return -1;
	*existed_r = !made;
	for (size_t i = 0; skeleton[i] != NULL; i++) {
		char rel2[4096];
		int sfd;

		snprintf(rel2, sizeof(rel2), "%s%s%s", rel,
		    str_suffix(rel, "/") ? "" : "/", skeleton[i]);
		if (made) {
			/*
			 * Inside a directory we just created: no need to look
			 * first, and fchmodat/fchownat on the entry itself
			 * (never following a link) spare an open and a close
			 * per directory, which a bulk import feels.
			 */
			if (mkdirat(fd, skeleton[i], 0700) == -1) {
				int e = errno;

				close(fd);
				return fs_err(err, "create", rel2, e);
			}
			undo_add(undo, rel2);
			if ((umask_keeps_0700 != 1 &&
				fchmodat(fd, skeleton[i], 0700,
				    AT_SYMLINK_NOFOLLOW) == -1) ||
			    (uid >= 0 && gid >= 0 &&
				fchownat(fd, skeleton[i], (uid_t)uid,
				    (gid_t)gid, AT_SYMLINK_NOFOLLOW) == -1)) {
				int e = errno;

				close(fd);
				return fs_err(
				    err, "set owner and mode of", rel2, e);
			}
			continue;
		}
		sfd = open_dir_at(fd, skeleton[i]);
		if (sfd == -1 && errno == ENOENT) {
			if (mkdirat(fd, skeleton[i], 0700) == -1 ||
			    (sfd = open_dir_at(fd, skeleton[i])) == -1) {
				int e = errno;

				close(fd);
				return fs_err(err, "create", rel2, e);
			}
			undo_add(undo, rel2);
			if (own_dir(sfd, uid, gid) == -1) {
				int e = errno;

				close(sfd);
				close(fd);
				return fs_err(
				    err, "set owner and mode of", rel2, e);
			}
		}
		if (sfd == -1) {
			int e = errno;

			close(fd);
			return fs_err(err, "open", rel2, e);
		}
		close(sfd);
	}
	close(fd);
	return 0;
}

int
maildir_exists(const char *base, const char *rel, struct err *err)
{
	int basefd, fd;

	if (maildir_rel_valid(rel, err) == -1)
		return -1;
	if ((basefd = open_base(base, err)) == -1)
		return -1;
	fd = walk(basefd, rel, false, -1, -1, NULL, NULL, err);
	close(basefd);
	if (fd == -1)
		return err->kind == ERR_NOTFOUND ? 0 : -1;
	close(fd);
	return 1;
}

static size_t
depth(const char *rel)
{
	size_t n = 0;

	for (; *rel != '\0'; rel++)
		n += *rel == '/';
	return n;
}

static int
by_depth(const void *a, const void *b)
{
	size_t da = depth(*(char *const *)a), db = depth(*(char *const *)b);

	return da < db ? -1 : da > db;
}

void
maildir_undo_run(struct maildir_undo *u)
{
	int basefd;

	if (u->nmade == 0)
		return;
	/*
	 * Deepest first.  Entries are in creation order from one thread, but
	 * a pool's threads interleave: one may have made a parent another
	 * one filled.
	 */
	qsort(u->made, u->nmade, sizeof(*u->made), by_depth);
	basefd = open(u->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (basefd == -1)
		return;
	for (size_t i = u->nmade; i-- > 0;) {
		char *rel = u->made[i], *slash = strrchr(rel, '/');
		int pfd;
		struct err e;

		if (slash == NULL) {
			(void)unlinkat(basefd, rel, AT_REMOVEDIR);
			continue;
		}
		*slash = '\0';
		pfd = walk(basefd, rel, false, -1, -1, NULL, NULL, &e);
		*slash = '/';
		if (pfd == -1)
			continue;
		/* rmdir only succeeds on an empty directory: data is kept. */
		(void)unlinkat(pfd, slash + 1, AT_REMOVEDIR);
		close(pfd);
	}
	close(basefd);
}

/* Split rel (without trailing slash) into parent and name; returns name. */
static char *
split_last(char *rel)
{
	size_t n = strlen(rel);
	char *slash;

	while (n > 0 && rel[n - 1] == '/')
		rel[--n] = '\0';
	slash = strrchr(rel, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return slash + 1;
}

int
maildir_stage(
    const char *base, const char *rel, char **grave_r, struct err *err)
{
	char *copy, *name, *parent, grave[512];
	unsigned char rnd[4];
	int basefd, pfd;

	*grave_r = NULL;
	if (maildir_rel_valid(rel, err) == -1)
		return -1;
	copy = xstrdup(rel);
	name = split_last(copy);
	parent = copy;
	if (name == NULL) { /* top level: <base>/<domain> */
		name = copy;
		parent = NULL;
	}
	if ((basefd = open_base(base, err)) == -1) {
		free(copy);
		return -1;
	}
	pfd = parent != NULL
	    ? walk(basefd, parent, false, -1, -1, NULL, NULL, err)
	    : dup(basefd);
	close(basefd);
	if (pfd == -1) {
		free(copy);
		if (err->kind == ERR_NOTFOUND) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(grave, sizeof(grave), ".deleting.%.200s.%ld.%02x%02x%02x%02x",
	    name, (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
	if (renameat(pfd, name, pfd, grave) == -1) {
		int e = errno;

		close(pfd);
		if (e == ENOENT) {
			free(copy);
			return 0;
		}
		fs_err(err, "stage for deletion", rel, e);
		free(copy);
		return -1;
	}
	close(pfd);
	*grave_r =
	    parent != NULL ? xasprintf("%s/%s", parent, grave) : xstrdup(grave);
	free(copy);
	return 0;
}

int
maildir_unstage(
    const char *base, const char *grave, const char *rel, struct err *err)
{
	char *g = xstrdup(grave), *r = xstrdup(rel), *gname, *rname;
	int basefd, pfd, rc = -1;

	gname = split_last(g);
	rname = split_last(r);
	if ((basefd = open_base(base, err)) == -1)
		goto out;
	pfd = gname != NULL ? walk(basefd, g, false, -1, -1, NULL, NULL, err)
			    : dup(basefd);
	close(basefd);
	if (pfd == -1)
		goto out;
	if (renameat(pfd, gname != NULL ? gname : g, pfd,
		rname != NULL ? rname : r) == -1)
		fs_err(err, "restore", rel, errno);
	else
		rc = 0;
	close(pfd);
out:
	free(g);
	free(r);
	return rc;
}

/* Remove everything in dirfd/name without following symlinks. */
static int
rmtree_at(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (depth > MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	fd = open_dir_at(dirfd, name);
	if (fd == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			rc = -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (rmtree_at(fd, de->d_name, depth + 1) == -1)
				rc = -1;
		} else if (unlinkat(fd, de->d_name, 0) == -1)
			rc = -1;
	}
	closedir(d);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

int
maildir_purge(const char *base, const char *grave, struct err *err)
{
	char *g = xstrdup(grave), *name;
	int basefd, pfd, rc = 0;

	name = split_last(g);
	if (!str_prefix(name != NULL ? name : g, ".deleting.")) {
		free(g);
		return err_set(
		    err, ERR_INTERNAL, "refusing to purge '%s'", grave);
	}
	if ((basefd = open_base(base, err)) == -1) {
		free(g);
		return -1;
	}
	pfd = name != NULL ? walk(basefd, g, false, -1, -1, NULL, NULL, err)
			   : dup(basefd);
	if (pfd == -1) {
		close(basefd);
		free(g);
		return -1;
	}
	if (rmtree_at(pfd, name != NULL ? name : g, 0) == -1) {
		fs_err(err, "remove", grave, errno);
		rc = -1;
	}
	close(pfd);
	/* Prune the domain directory when its last maildir went away. */
	if (rc == 0 && name != NULL && strchr(g, '/') == NULL)
		(void)unlinkat(basefd, g, AT_REMOVEDIR);
	close(basefd);
	free(g);
	return rc;
}

int
maildir_move(const char *base, const char *from, const char *to, int64_t uid,
    int64_t gid, struct maildir_undo *undo, struct err *err)
{
	char *f = NULL, *t = NULL, *fname, *tname;
	int basefd = -1, ffd = -1, tfd = -1, rc = -1;

	if (maildir_rel_valid(from, err) == -1 ||
	    maildir_rel_valid(to, err) == -1)
		return -1;
	f = xstrdup(from);
	t = xstrdup(to);
	fname = split_last(f);
	tname = split_last(t);
	if (fname == NULL || tname == NULL) {
		err_set(
		    err, ERR_FILESYSTEM, "cannot move top-level directories");
		goto out;
	}
	if ((basefd = open_base(base, err)) == -1)
		goto out;
	if ((ffd = walk(basefd, f, false, -1, -1, NULL, NULL, err)) == -1)
		goto out;
	if ((tfd = walk(basefd, t, true, uid, gid, undo, NULL, err)) == -1)
		goto out;
	if (faccessat(tfd, tname, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		err_set(err, ERR_EXISTS, "the maildir '%s' already exists", to);
		goto out;
	}
	if (renameat(ffd, fname, tfd, tname) == -1) {
		fs_err(err, "move", from, errno);
		goto out;
	}
	rc = 0;
out:
	if (tfd != -1)
		close(tfd);
	if (ffd != -1)
		close(ffd);
	if (basefd != -1)
		close(basefd);
	free(f);
	free(t);
	return rc;
}

/* The pool. */

struct pool_job {
	char *rel;
	long tag;
};

struct maildir_pool {
	char *base;
	int64_t uid, gid;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or quit */
	pthread_cond_t idle; /* the last job finished */
	struct pool_job *q;  /* this round's jobs; [head, n) are waiting */
	size_t n, cap, head;
	size_t busy; /* taken, not finished */
	bool quit;
	struct maildir_undo made; /* what this round's jobs created */
	bool failed;		  /* the first failure in queue order: */
	size_t fail_at;
	struct err fail_err;
	pthread_t *th;
	int nth;
};

/*
 * Take the next waiting job and run it: called and returns with p->mu
 * held, which it drops while the job runs (p->q may move meanwhile: the
 * path string does not).
 */
static void
pool_step(struct maildir_pool *p)
{
	size_t at = p->head++;
	const char *rel = p->q[at].rel;
	/* Once one failed, the round is rolled back: skip what follows. */
	bool skip = p->failed && p->fail_at < at;
	struct maildir_undo u;
	struct err e = ERR_INIT;
	bool existed;
	int rc = 0;

	p->busy++;
	pthread_mutex_unlock(&p->mu);
	maildir_undo_init(&u, p->base);
	if (!skip)
		rc = maildir_create(
		    p->base, rel, p->uid, p->gid, &existed, &u, &e);
	pthread_mutex_lock(&p->mu);
	undo_move(&p->made, &u);
	if (rc == -1 && (!p->failed || at < p->fail_at)) {
		p->failed = true;
		p->fail_at = at;
		p->fail_err = e;
	}
	if (--p->busy == 0 && p->head == p->n)
		pthread_cond_broadcast(&p->idle);
	maildir_undo_release(&u);
}

static void *
pool_worker(void *arg)
{
	struct maildir_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->head == p->n)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->head == p->n)
			break;
		pool_step(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct maildir_pool *
maildir_pool_new(const char *base, int64_t uid, int64_t gid, int threads)
{
	struct maildir_pool *p = xcalloc(1, sizeof(*p));

	p->base = xstrdup(base);
	p->uid = uid;
	p->gid = gid;
	maildir_undo_init(&p->made, base);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	p->th = xcalloc((size_t)threads, sizeof(*p->th));
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->th[i], NULL, pool_worker, p) != 0)
			break;
		p->nth++;
	}
	return p;
}

void
maildir_pool_add(struct maildir_pool *p, const char *rel, long tag)
{
	pthread_mutex_lock(&p->mu);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->q = xreallocarray(p->q, p->cap, sizeof(*p->q));
	}
	p->q[p->n].rel = xstrdup(rel);
	p->q[p->n].tag = tag;
	p->n++;
	if (p->nth > 0)
		pthread_cond_signal(&p->work);
	else
		pool_step(p); /* no thread could be started: ours works */
	pthread_mutex_unlock(&p->mu);
}

int
maildir_pool_wait(struct maildir_pool *p, struct maildir_undo *undo,
    long *tag_r, struct err *err)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	/* Rather than sleep, the caller's thread helps with what is left. */
	while (p->head < p->n)
		pool_step(p);
	while (p->busy > 0)
		pthread_cond_wait(&p->idle, &p->mu);
	undo_move(undo, &p->made);
	if (p->failed) {
		*tag_r = p->q[p->fail_at].tag;
		*err = p->fail_err;
		p->failed = false;
		rc = -1;
	}
	for (size_t i = 0; i < p->n; i++)
		free(p->q[i].rel);
	p->n = p->head = 0;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void
maildir_pool_free(struct maildir_pool *p)
{
	struct maildir_undo none;
	struct err e = ERR_INIT;
	long tag;

	if (p == NULL)
		return;
	/* Whatever is still queued finishes; the caller owns no undo. */
	maildir_undo_init(&none, p->base);
	(void)maildir_pool_wait(p, &none, &tag, &e);
	maildir_undo_release(&none);
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	maildir_undo_release(&p->made);
	free(p->q);
	free(p->th);
	free(p->base);
	free(p);
}
