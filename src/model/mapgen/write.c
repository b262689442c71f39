/*
 * Installing a generated set atomically (mapgen_write): staged beside the
 * output directory, renamed into place, the old one kept as .bak.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cf.h"
#include "maildir.h"
#include "mapgen.h"
#include "strutil.h"
#include "xalloc.h"
#include "gen.h"

#include "banned.h"

/* The subdirectories config gen writes, parents first. */
static const char *const out_dirs[] = { "postfix", "dovecot", "dovecot/conf.d",
	"podop", NULL };

static int
w_err(struct err *err, const char *what, const char *path, int e)
{
	return err_set(
	    err, ERR_FILESYSTEM, "cannot %s '%s': %s", what, path, strerror(e));
}

static int
write_at(int dirfd, const char *name, const struct mapgen_file *f,
    const char *shown, struct err *err)
{
	size_t off = 0;
	int fd = openat(dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, f->mode);

	if (fd == -1)
		return w_err(err, "create", shown, errno);
	while (off < f->data.len) {
		ssize_t w = write(fd, f->data.data + off, f->data.len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			close(fd);
			return w_err(err, "write", shown, e);
		}
		off += (size_t)w;
	}
	if (fchmod(fd, f->mode) == -1 || fsync(fd) == -1) {
		int e = errno;

		close(fd);
		return w_err(err, "write", shown, e);
	}
	if (close(fd) == -1)
		return w_err(err, "write", shown, errno);
	return 0;
}

/* Open (and create, parents first) a subdirectory of the staging dir. */
static int
sub_dir(int stagefd, const char *rel, bool create)
{
	char part[PATH_MAX];

	for (const char *p = rel; create; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		snprintf(part, sizeof(part), "%.*s", (int)(p - rel), rel);
		if (mkdirat(stagefd, part, 0750) == -1 && errno != EEXIST)
			return -1;
		if (*p == '\0')
			break;
	}
	return openat(
	    stagefd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int
stage_file(int stagefd, const char *rel, const struct mapgen_file *f,
    const char *shown, struct err *err)
{
	const char *slash = strrchr(rel, '/');
	char dir[64];
	int dfd, rc;

	if (slash == NULL)
		return write_at(stagefd, rel, f, shown, err);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
	if ((dfd = sub_dir(stagefd, dir, true)) == -1)
		return w_err(err, "create", dir, errno);
	rc = write_at(dfd, slash + 1, f, shown, err);
	close(dfd);
	return rc;
}

/* Whether the set writes rel. */
static bool
set_has(const struct mapgen_set *s, const char *rel)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, rel) == 0)
			return true;
	return false;
}

/*
 * outdir holds only what config gen writes?  0 yes (empty counts), -1 with
 * err naming the first stranger.
 */
static int
owned_by_us(const char *outdir, struct err *err)
{
	DIR *d = opendir(outdir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return w_err(err, "read", outdir, errno);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		bool ok =
		    strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;

		for (size_t i = 0; !ok && out_dirs[i] != NULL; i++)
			ok = strchr(out_dirs[i], '/') == NULL &&
			    strcmp(out_dirs[i], e->d_name) == 0;
		if (!ok) {
			err_set(err, ERR_EXISTS,
			    "'%s' holds '%s', which config gen does not write; it will not replace that directory",
			    outdir, e->d_name);
			rc = err_hint(err, "give --out a directory of its own");
		}
	}
	closedir(d);
	return rc;
}

static bool
dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return false;
	while (empty && (e = readdir(d)) != NULL)
		empty =
		    strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/*
 * Carry the files of outdir the set does not regenerate over into the
 * staging directory (hard links; copies where links fail).
 */
static int
carry_over(const char *outdir, int stagefd, const struct mapgen_set *s,
    struct err *err)
{
	for (size_t i = 0; out_dirs[i] != NULL; i++) {
		char *path = xasprintf("%s/%s", outdir, out_dirs[i]);
		DIR *d = opendir(path);
		struct dirent *e;
		int rc = 0;

		if (d == NULL) {
			free(path);
			continue;
		}
		while (rc == 0 && (e = readdir(d)) != NULL) {
			char rel[PATH_MAX];
			struct stat st;
			struct mapgen_file f;
			int dfd;

			snprintf(
			    rel, sizeof(rel), "%s/%s", out_dirs[i], e->d_name);
			if (e->d_name[0] == '.' || set_has(s, rel) ||
			    fstatat(dirfd(d), e->d_name, &st,
				AT_SYMLINK_NOFOLLOW) == -1 ||
			    !S_ISREG(st.st_mode))
				continue;
			if ((dfd = sub_dir(stagefd, out_dirs[i], true)) == -1) {
				rc = w_err(err, "create", out_dirs[i], errno);
				break;
			}
			if (linkat(dirfd(d), e->d_name, dfd, e->d_name, 0) ==
			    -1) {
				/* Another file system: copy it. */
				int sfd = openat(dirfd(d), e->d_name,
				    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

				memset(&f, 0, sizeof(f));
				f.mode = st.st_mode & 07777;
				buf_init(&f.data, 16 * 1024 * 1024);
				for (;;) {
					char chunk[8192];
					ssize_t r;

					if (sfd == -1)
						break;
					r = read(sfd, chunk, sizeof(chunk));
					if (r <= 0 ||
					    buf_append(&f.data, chunk,
						(size_t)r) == -1)
						break;
				}
				if (sfd == -1)
					rc = w_err(err, "read", rel, errno);
				else
					rc = write_at(
					    dfd, e->d_name, &f, rel, err);
				if (sfd != -1)
					close(sfd);
				buf_release(&f.data);
			}
			close(dfd);
		}
		closedir(d);
		free(path);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Remove a directory tree beside outdir (symlink-safe, via maildir.c). */
static int
remove_tree(const char *parent, const char *name, struct err *err)
{
	char *grave = NULL;
	int rc;

	if (maildir_stage(parent, name, &grave, err) == -1)
		return -1;
	if (grave == NULL)
		return 0;
	rc = maildir_purge(parent, grave, err);
	free(grave);
	return rc;
}

int
mapgen_write(const char *outdir, const struct mapgen_set *s, bool in_place,
    char **backup_r, struct err *err)
{
	char out[PATH_MAX], parent[PATH_MAX], *stage = NULL, *bak = NULL;
	char *name, *slash;
	unsigned char rnd[4];
	struct stat st;
	int stagefd = -1, rc = -1;
	bool staged = false;

	if (backup_r != NULL)
		*backup_r = NULL;
	if (str_copy(out, outdir, sizeof(out)) >= sizeof(out) - 64)
		return err_set(err, ERR_INVALID, "output path too long");
	while (strlen(out) > 1 && str_suffix(out, "/"))
		out[strlen(out) - 1] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL) {
		str_copy(parent, ".", sizeof(parent));
		name = out;
	} else {
		snprintf(parent, sizeof(parent), "%.*s",
		    slash == out ? 1 : (int)(slash - out), out);
		name = slash + 1;
	}
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return err_set(err, ERR_INVALID,
		    "'%s' cannot be the output directory", outdir);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	stage = xasprintf("%s/.%s.postino-gen.%ld.%02x%02x%02x%02x", parent,
	    name, (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
	bak = xasprintf("%s.bak", out);
	/* Refuse early, before writing anything. */
	if (lstat(out, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			err_set(err, ERR_EXISTS,
			    "'%s' exists and is not a directory", out);
			goto out;
		}
		if (!in_place && !dir_empty(out)) {
			err_set(err, ERR_EXISTS, "'%s' already exists", out);
			err_hint(err,
			    "pass --in-place to replace it (the old one is kept as '%s')",
			    bak);
			goto out;
		}
		if (in_place && owned_by_us(out, err) == -1)
			goto out;
	} else if (errno != ENOENT) {
		w_err(err, "look at", out, errno);
		goto out;
	}
	if (mkdir(stage, 0750) == -1) {
		w_err(err, "create", stage, errno);
		goto out;
	}
	staged = true;
	if ((stagefd = open(stage,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		w_err(err, "open", stage, errno);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		char shown[PATH_MAX];

		snprintf(shown, sizeof(shown), "%s/%s", out, s->v[i].path);
		if (stage_file(stagefd, s->v[i].path, &s->v[i], shown, err) ==
		    -1)
			goto out;
	}
	if (lstat(out, &st) == 0 && in_place && s->partial &&
	    carry_over(out, stagefd, s, err) == -1)
		goto out;
	if (fsync(stagefd) == -1) {
		w_err(err, "write", stage, errno);
		goto out;
	}
	if (lstat(out, &st) == 0 && !dir_empty(out)) {
		/* in_place: out -> out.bak, stage -> out. */
		char *bakname =
		    strrchr(bak, '/') != NULL ? strrchr(bak, '/') + 1 : bak;

		if (remove_tree(parent, bakname, err) == -1) {
			err_prefix(err, "cannot remove the old backup");
			goto out;
		}
		if (rename(out, bak) == -1) {
			w_err(err, "move aside", out, errno);
			goto out;
		}
		if (rename(stage, out) == -1) {
			w_err(err, "install", out, errno);
			(void)rename(bak, out);
			goto out;
		}
		if (backup_r != NULL)
			*backup_r = xstrdup(bak);
	} else if (rename(stage, out) == -1) {
		/* An empty out is replaced; anything else is new. */
		w_err(err, "install", out, errno);
		goto out;
	}
	staged = false;
	{
		int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (pfd != -1) {
			(void)fsync(pfd);
			close(pfd);
		}
	}
	rc = 0;
out:
	if (stagefd != -1)
		close(stagefd);
	if (staged) {
		struct err e2 = ERR_INIT;
		const char *sname = strrchr(stage, '/') + 1;

		(void)remove_tree(parent, sname, &e2);
	}
	free(stage);
	free(bak);
	return rc;
}
