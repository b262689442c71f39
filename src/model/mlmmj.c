#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "alias.h"
#include "buf.h"
#include "domain.h"
#include "maildir.h"
#include "mlmmj.h"
#include "routes.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

/* domain.c: the domain row, locked FOR UPDATE.  1 / 0 / -1. */
int domain_lock(
    struct model *, const char *name, struct domain_rec *, struct err *);

#define PROG_TIMEOUT_SEC 30
#define PROG_OUT_MAX (16u * 1024u * 1024u)
#define PROG_ERR_MAX 512
#define CONTROL_MAX (64u * 1024u)
#define TEXT_MAX (1024u * 1024u)
#define LOCK_NAME ".create.lock"

static const char *const bindirs[] = { "/usr/local/bin", "/usr/bin", "/bin",
	NULL };
static const char *const textdirs[] = { "/usr/local/share/mlmmj/text.skel/en",
	"/usr/share/mlmmj/text.skel/en", NULL };
/* What mlmmj-make-ml creates in a list directory. */
static const char *const list_dirs[] = { "incoming", "queue", "queue/discarded",
	"archive", "text", "subconf", "unsubconf", "bounce", "control",
	"moderation", "subscribers.d", "digesters.d", "requeue", "nomailsubs.d",
	NULL };

/* A list named on the command line, with the settings it needs. */
struct lst {
	char address[ADDR_MAX];
	char local[ADDR_MAX];
	char domain[ADDR_MAX];
	char rel[2 * ADDR_MAX + 2]; /* "domain/local" */
	char *dir;		    /* absolute */
};

struct ids {
	int64_t uid, gid; /* -1: leave alone */
	bool drop;	  /* switch to them to run mlmmj */
};

void
mlmmj_list_release(struct mlmmj_list *l)
{
	free(l->spool_dir);
	for (size_t i = 0; i < l->nowners; i++)
		free(l->owners[i]);
	free(l->owners);
	for (size_t i = 0; i < l->nsubscribers; i++)
		free(l->subscribers[i]);
	free(l->subscribers);
	memset(l, 0, sizeof(*l));
}

const char *
mlmmj_program(const char *name, char *buf, size_t size)
{
	struct stat st;

	for (size_t i = 0; bindirs[i] != NULL; i++) {
		if ((size_t)snprintf(buf, size, "%s/%s", bindirs[i], name) >=
		    size)
			continue;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

/* --- settings and names ------------------------------------------------ */

static int
spool_conf(const struct model *m, struct ids *ids, struct err *err)
{
	const struct postino_conf *c = m->conf;

	if (c->mlmmj_spool_dir == NULL || c->mlmmj_spool_dir[0] == '\0') {
		err_set(err, ERR_CONFIG,
		    "mailing lists are not set up: mlmmj_spool_dir is empty");
		return err_hint(err,
		    "set mlmmj_spool_dir (and mlmmj_uid, mlmmj_gid) in postino.toml or POSTINO_MLMMJ_SPOOL_DIR");
	}
	if ((c->mlmmj_uid < 0) != (c->mlmmj_gid < 0)) {
		err_set(err, ERR_CONFIG,
		    "mlmmj_uid is %lld but mlmmj_gid is %lld",
		    (long long)c->mlmmj_uid, (long long)c->mlmmj_gid);
		return err_hint(err,
		    "set both to the mlmmj user's ids, or both to -1 to leave ownership alone");
	}
	ids->uid = c->mlmmj_uid;
	ids->gid = c->mlmmj_gid;
	ids->drop = false;
	if (ids->uid < 0)
		return 0;
	if (geteuid() == 0)
		ids->drop = true;
	else if ((uid_t)ids->uid != geteuid()) {
		err_set(err, ERR_CONFIG,
		    "cannot act as mlmmj_uid %lld: postino runs as uid %ld, not root",
		    (long long)ids->uid, (long)geteuid());
		return err_hint(
		    err, "run postino as root or as the mlmmj user");
	}
	return 0;
}

static int
parse_list(
    const struct model *m, const char *address, struct lst *l, struct err *err)
{
	const char *delim = m->conf->recipient_delimiter, *bad;

	memset(l, 0, sizeof(*l));
	if (addr_address(
		"list", address, l->address, l->local, l->domain, err) == -1)
		return -1;
	if (str_eq_nocase(l->domain, "ALL"))
		return err_set(err, ERR_INVALID, "'ALL' is not a domain");
	/*
	 * mlmmj's own addresses are list+keyword, and Postfix's pipe(8) finds
	 * the list directory from ${user}, the local part without its
	 * extension: a delimiter in the name would point it elsewhere.
	 */
	bad = strpbrk(l->local, "+");
	if (bad == NULL && delim != NULL)
		bad = strpbrk(l->local, delim);
	if (bad != NULL) {
		err_set(err, ERR_INVALID,
		    "list name '%s' contains '%c', a recipient delimiter",
		    l->local, *bad);
		return err_hint(err,
		    "mlmmj's commands are addressed as %s+keyword@%s and Postfix strips what follows a delimiter; choose a name without '+%s'",
		    l->local, l->domain,
		    delim != NULL && strcmp(delim, "+") != 0 ? delim : "");
	}
	snprintf(l->rel, sizeof(l->rel), "%s/%s", l->domain, l->local);
	l->dir = xasprintf("%s/%s", m->conf->mlmmj_spool_dir, l->rel);
	return 0;
}

static void
lst_release(struct lst *l)
{
	free(l->dir);
	l->dir = NULL;
}

/* --- the spool --------------------------------------------------------- */

static int
fs_fail(struct err *err, const char *what, const char *path, int e)
{
	if (e == ELOOP || e == ENOTDIR || e == EMLINK) {
		err_set(err, ERR_FILESYSTEM,
		    "refusing to %s '%s': a path component is a symlink or not a directory",
		    what, path);
		return err_hint(err,
		    "inspect the mlmmj spool for planted symlinks ('postino check --deep' lists them)");
	}
	return err_set(
	    err, ERR_FILESYSTEM, "cannot %s '%s': %s", what, path, strerror(e));
}

static int
open_dir_at(int dirfd, const char *name)
{
	return openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int
open_root(const struct model *m, struct err *err)
{
	const char *root = m->conf->mlmmj_spool_dir;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		err_set(err, ERR_FILESYSTEM,
		    "cannot open the mlmmj spool '%s': %s", root,
		    strerror(errno));
		return err_hint(err,
			   "create it, owned by the mlmmj user, or fix mlmmj_spool_dir"),
		       -1;
	}
	return fd;
}

/* Take the spool's lock; returns its fd (close() releases it) or -1. */
static int
lock_spool(const struct model *m, int rootfd, struct err *err)
{
	int fd = openat(
	    rootfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd == -1)
		return fs_fail(err, "open the lock", LOCK_NAME, errno), -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		err_set(err, ERR_FILESYSTEM, "cannot lock '%s/%s': %s",
		    m->conf->mlmmj_spool_dir, LOCK_NAME, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open <root>/<domain>/<local>.  Returns an fd, or -1 with err: ERR_NOTFOUND
 * (no such list directory) or ERR_FILESYSTEM.
 */
static int
open_list(int rootfd, const struct lst *l, struct err *err)
{
	int dfd, fd;

	if ((dfd = open_dir_at(rootfd, l->domain)) == -1) {
		if (errno == ENOENT)
			return err_set(err, ERR_NOTFOUND,
				   "list '%s' does not exist", l->address),
			       -1;
		return fs_fail(err, "open", l->dir, errno), -1;
	}
	fd = open_dir_at(dfd, l->local);
	if (fd == -1) {
		int e = errno;

		close(dfd);
		if (e == ENOENT)
			return err_set(err, ERR_NOTFOUND,
				   "list '%s' does not exist", l->address),
			       -1;
		return fs_fail(err, "open", l->dir, e), -1;
	}
	close(dfd);
	return fd;
}

/* 1 when the list directory exists, 0 when not, -1 on error. */
static int
list_exists(int rootfd, const struct lst *l, struct err *err)
{
	int fd = open_list(rootfd, l, err);

	if (fd == -1) {
		if (err->kind != ERR_NOTFOUND)
			return -1;
		err_clear(err);
		return 0;
	}
	close(fd);
	return 1;
}

/* Read all of fd (at most max bytes) as a string; closes fd. */
static char *
read_fd(int fd, size_t max, size_t *len_r)
{
	struct buf b;

	buf_init(&b, max);
	for (;;) {
		char chunk[4096];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || buf_append(&b, chunk, (size_t)r) == -1)
			break;
	}
	close(fd);
	if (len_r != NULL)
		*len_r = b.len;
	return buf_detach(&b);
}

/* Read dirfd/dir/name (no symlinks); caller frees.  NULL if absent. */
static char *
read_at(int dirfd, const char *dir, const char *name, size_t max)
{
	int fd = open_dir_at(dirfd, dir), ffd;

	if (fd == -1)
		return NULL;
	ffd = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	return ffd == -1 ? NULL : read_fd(ffd, max, NULL);
}

/* Split text into its non-empty, trimmed lines. */
static void
split_lines(char *text, char ***v_r, size_t *n_r)
{
	char *line = text;

	while (line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n'), *t;

		if (nl != NULL)
			*nl = '\0';
		t = str_trim(line);
		if (*t != '\0') {
			*v_r = xreallocarray(*v_r, *n_r + 1, sizeof(**v_r));
			(*v_r)[(*n_r)++] = xstrdup(t);
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
}

/* Make a directory we own entirely: mode, then owner.  Returns its fd. */
static int
make_dir(int dirfd, const char *name, mode_t mode, const struct ids *ids)
{
	int fd;

	if (mkdirat(dirfd, name, mode) == -1)
		return -1;
	if ((fd = open_dir_at(dirfd, name)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 ||
	    (ids->uid >= 0 &&
		fchown(fd, (uid_t)ids->uid, (gid_t)ids->gid) == -1)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
put_file(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
    const struct ids *ids)
{
	size_t off = 0;
	int fd = openat(dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd == -1)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, mode) == -1 ||
	    (ids->uid >= 0 &&
		fchown(fd, (uid_t)ids->uid, (gid_t)ids->gid) == -1) ||
	    fsync(fd) == -1)
		goto fail;
	return close(fd);
fail : {
	int e = errno;

	close(fd);
	errno = e;
}
	return -1;
}

/* Copy mlmmj's English templates into text/ (nothing if none exist). */
static int
copy_texts(int textfd, const struct ids *ids)
{
	for (size_t i = 0; textdirs[i] != NULL; i++) {
		DIR *d = opendir(textdirs[i]);
		struct dirent *e;
		int rc = 0;

		if (d == NULL)
			continue;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			struct stat st;
			size_t len;
			char *data;
			int fd;

			if (e->d_name[0] == '.')
				continue;
			fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1)
				continue;
			if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
				close(fd);
				continue;
			}
			data = read_fd(fd, TEXT_MAX, &len);
			rc = put_file(textfd, e->d_name, data, len, 0640, ids);
			free(data);
		}
		closedir(d);
		return rc;
	}
	return 0;
}

/* Build the list in dirfd (a fresh, empty directory). */
static int
fill_list(int fd, const struct lst *l, const char *const *owners,
    size_t nowners, const struct ids *ids)
{
	struct buf b;
	int cfd, tfd, rc;

	for (size_t i = 0; list_dirs[i] != NULL; i++) {
		const char *slash = strchr(list_dirs[i], '/');
		int dfd, pfd = fd;

		if (slash != NULL) {
			char parent[64];

			snprintf(parent, sizeof(parent), "%.*s",
			    (int)(slash - list_dirs[i]), list_dirs[i]);
			if ((pfd = open_dir_at(fd, parent)) == -1)
				return -1;
		}
		dfd = make_dir(
		    pfd, slash != NULL ? slash + 1 : list_dirs[i], 0750, ids);
		if (pfd != fd)
			close(pfd);
		if (dfd == -1)
			return -1;
		close(dfd);
	}
	if (put_file(fd, "index", "", 0, 0640, ids) == -1)
		return -1;
	if ((cfd = open_dir_at(fd, "control")) == -1)
		return -1;
	buf_init(&b, CONTROL_MAX);
	for (size_t i = 0; i < nowners; i++)
		buf_printf(&b, "%s\n", owners[i]);
	rc = put_file(cfd, "owner", buf_cstr(&b), b.len, 0640, ids);
	buf_reset(&b);
	buf_printf(&b, "%s\n", l->address);
	if (rc == 0)
		rc = put_file(
		    cfd, "listaddress", buf_cstr(&b), b.len, 0640, ids);
	buf_release(&b);
	close(cfd);
	if (rc == -1)
		return -1;
	if ((tfd = open_dir_at(fd, "text")) == -1)
		return -1;
	rc = copy_texts(tfd, ids);
	close(tfd);
	return rc;
}

/* Stage <root>/<rel> for deletion and purge it (best effort). */
static int
remove_spool(const char *root, const char *rel, struct err *err)
{
	char *grave = NULL;
	int rc;

	if (maildir_stage(root, rel, &grave, err) == -1)
		return -1;
	if (grave == NULL)
		return 0;
	rc = maildir_purge(root, grave, err);
	free(grave);
	return rc;
}

/*
 * Create the list's spool directory: built in a ".tmp-*" sibling of the
 * domain directory, then renamed into place.  The caller holds the lock and
 * has seen that the list is absent.
 */
static int
create_spool(const char *root, int rootfd, const struct lst *l,
    const char *const *owners, size_t nowners, const struct ids *ids,
    struct err *err)
{
	char tmp[ADDR_MAX + 64], rel[2 * ADDR_MAX + 64];
	unsigned char rnd[4];
	struct err e2 = ERR_INIT;
	int dfd, fd, e;

	dfd = open_dir_at(rootfd, l->domain);
	if (dfd == -1 && errno == ENOENT)
		dfd = make_dir(rootfd, l->domain, 0750, ids);
	if (dfd == -1)
		return fs_fail(err, "create", l->dir, errno);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), ".tmp-%s.%ld.%02x%02x%02x%02x", l->local,
	    (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
	if ((fd = make_dir(dfd, tmp, 0750, ids)) == -1) {
		e = errno;
		close(dfd);
		return fs_fail(err, "create", l->dir, e);
	}
	if (fill_list(fd, l, owners, nowners, ids) == 0 &&
	    renameat(dfd, tmp, dfd, l->local) == 0) {
		close(fd);
		close(dfd);
		return 0;
	}
	e = errno;
	close(fd);
	close(dfd);
	fs_fail(err, "create", l->dir, e);
	snprintf(rel, sizeof(rel), "%s/%s", l->domain, tmp);
	(void)remove_spool(root, rel, &e2);
	return -1;
}

/* --- running mlmmj ----------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
child(const char *path, const char *const *argv, const struct ids *ids, int out,
    int errfd)
{
	static char *const env[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=/", "LANG=C", NULL };
	int devnull = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (devnull == -1 || dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 || dup2(errfd, STDERR_FILENO) == -1)
		_exit(126);
	if (chdir("/") == -1)
		_exit(126);
	if (ids->drop &&
	    (setgroups(0, NULL) == -1 || setgid((gid_t)ids->gid) == -1 ||
		setuid((uid_t)ids->uid) == -1)) {
		dprintf(STDERR_FILENO,
		    "cannot switch to uid %lld gid %lld: %s\n",
		    (long long)ids->uid, (long long)ids->gid, strerror(errno));
		_exit(126);
	}
	signal(SIGPIPE, SIG_DFL);
	execve(path, (char *const *)(uintptr_t)argv, env);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/*
 * Run the mlmmj program name with args (NULL-terminated, without argv[0]);
 * its standard output goes to out (may be NULL).  0, or -1 with ERR_MLMMJ.
 */
static int
run_mlmmj(const struct ids *ids, const char *name, const char *const *args,
    struct buf *out, struct err *err)
{
	char path[256], ebuf[PROG_ERR_MAX + 1];
	const char *argv[16];
	size_t argc = 0, elen = 0;
	int po[2], pe[2], status = 0;
	int64_t deadline;
	bool timed_out = false, open_o = true, open_e = true;
	pid_t pid;

	if (mlmmj_program(name, path, sizeof(path)) == NULL) {
		err_set(err, ERR_MLMMJ,
		    "%s is not installed (looked in /usr/local/bin, /usr/bin, /bin)",
		    name);
		return err_hint(err, "install mlmmj (apt-get install mlmmj)");
	}
	argv[argc++] = path;
	for (size_t i = 0; args[i] != NULL && argc < 15; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe(po) == -1)
		return err_set(err, ERR_MLMMJ, "pipe: %s", strerror(errno));
	if (pipe(pe) == -1) {
		close(po[0]);
		close(po[1]);
		return err_set(err, ERR_MLMMJ, "pipe: %s", strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		(void)fcntl(po[i], F_SETFD, FD_CLOEXEC);
		(void)fcntl(pe[i], F_SETFD, FD_CLOEXEC);
	}
	if ((pid = fork()) == -1) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return err_set(err, ERR_MLMMJ, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		child(path, argv, ids, po[1], pe[1]);
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	deadline = now_ms() + PROG_TIMEOUT_SEC * 1000;
	while (open_o || open_e) {
		struct pollfd p[2];
		nfds_t np = 0;
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (open_o)
			p[np++] = (struct pollfd){ po[0], POLLIN, 0 };
		if (open_e)
			p[np++] = (struct pollfd){ pe[0], POLLIN, 0 };
		if (poll(p, np, (int)left) <= 0)
			continue;
		for (nfds_t i = 0; i < np; i++) {
			char chunk[4096];
			ssize_t r;

			if (p[i].revents == 0)
				continue;
			r = read(p[i].fd, chunk, sizeof(chunk));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (p[i].fd == po[0])
					open_o = false;
				else
					open_e = false;
				continue;
			}
			if (p[i].fd == po[0]) {
				if (out != NULL &&
				    buf_append(out, chunk, (size_t)r) == -1) {
					timed_out = true; /* too much */
					open_o = open_e = false;
				}
			} else if (elen < PROG_ERR_MAX) {
				size_t n = (size_t)r < PROG_ERR_MAX - elen
				    ? (size_t)r
				    : PROG_ERR_MAX - elen;

				memcpy(ebuf + elen, chunk, n);
				elen += n;
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	if (timed_out) {
		kill(-pid, SIGTERM);
		for (int i = 0; i < 20; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				goto reaped;
			usleep(100000);
		}
		kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
reaped:
	ebuf[elen] = '\0';
	{
		char *msg = str_trim(ebuf);

		for (char *p = msg; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		if (timed_out)
			return err_set(err, ERR_MLMMJ,
			    "%s did not finish within %d s (or wrote too much) and was killed",
			    name, PROG_TIMEOUT_SEC);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return 0;
		if (WIFSIGNALED(status))
			return err_set(err, ERR_MLMMJ,
			    "%s: killed by signal %d%s%s", name,
			    WTERMSIG(status), *msg ? ": " : "", msg);
		return err_set(err, ERR_MLMMJ, "%s: exit %d%s%s", name,
		    WEXITSTATUS(status), *msg ? ": " : "", msg);
	}
}

/* mlmmj-list [flag] -L dir: the addresses, one per line. */
static int
list_members(const struct ids *ids, const char *dir, const char *flag,
    char ***v_r, size_t *n_r, struct err *err)
{
	const char *args[] = { "-L", dir, flag, NULL };
	struct buf out;
	char *text;

	*v_r = NULL;
	*n_r = 0;
	buf_init(&out, PROG_OUT_MAX);
	if (run_mlmmj(ids, "mlmmj-list", args, &out, err) == -1) {
		buf_release(&out);
		return -1;
	}
	text = buf_detach(&out);
	split_lines(text, v_r, n_r);
	free(text);
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (str_eq_nocase(v[i], s))
			return true;
	return false;
}

/* --- reading a list ---------------------------------------------------- */

/*
 * Fill out from the list directory listfd: 1 when it is a list (has a
 * control/owner), 0 when not.
 */
static int
load_list(int listfd, const char *root, const char *domain, const char *local,
    struct mlmmj_list *out)
{
	char *owner = read_at(listfd, "control", "owner", CONTROL_MAX);

	memset(out, 0, sizeof(*out));
	if (owner == NULL)
		return 0;
	snprintf(out->address, sizeof(out->address), "%s@%s", local, domain);
	str_copy(out->local, local, sizeof(out->local));
	str_copy(out->domain, domain, sizeof(out->domain));
	out->spool_dir = xasprintf("%s/%s/%s", root, domain, local);
	split_lines(owner, &out->owners, &out->nowners);
	free(owner);
	out->subscriber_count = -1;
	return 1;
}

static int
fill_routed(struct model *m, struct mlmmj_list *l, struct err *err)
{
	int64_t n = routes_count_list(m, l->address, err);

	if (n == -1)
		return -1;
	l->routed = n > 0;
	return 0;
}

int
mlmmj_show(struct model *m, const char *address, struct mlmmj_list *out,
    struct err *err)
{
	struct ids ids;
	struct lst l;
	int rootfd = -1, fd = -1, rc = -1;

	memset(out, 0, sizeof(*out));
	if (spool_conf(m, &ids, err) == -1 ||
	    parse_list(m, address, &l, err) == -1)
		return -1;
	if ((rootfd = open_root(m, err)) == -1 ||
	    (fd = open_list(rootfd, &l, err)) == -1)
		goto out;
	if (load_list(fd, m->conf->mlmmj_spool_dir, l.domain, l.local, out) ==
	    0) {
		err_set(err, ERR_NOTFOUND,
		    "'%s' is no mlmmj list: it has no control/owner", l.dir);
		goto out;
	}
	if (list_members(&ids, l.dir, "-s", &out->subscribers,
		&out->nsubscribers, err) == -1 ||
	    fill_routed(m, out, err) == -1)
		goto out;
	out->subscriber_count = (int64_t)out->nsubscribers;
	rc = 0;
out:
	if (rc == -1)
		mlmmj_list_release(out);
	if (fd != -1)
		close(fd);
	if (rootfd != -1)
		close(rootfd);
	lst_release(&l);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The visible subdirectories of dirfd (no dot names, no symlinks). */
static int
subdirs(int dirfd, char ***v_r, size_t *n_r)
{
	int fd = dup(dirfd);
	struct dirent *e;
	DIR *d;

	*v_r = NULL;
	*n_r = 0;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		*v_r = xreallocarray(*v_r, *n_r + 1, sizeof(**v_r));
		(*v_r)[(*n_r)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n_r > 1)
		qsort(*v_r, *n_r, sizeof(**v_r), name_cmp);
	return 0;
}

int
mlmmj_foreach(struct model *m, const char *domain, mlmmj_each_fn *fn, void *arg,
    struct err *err)
{
	const char *root = m->conf->mlmmj_spool_dir;
	char norm[ADDR_MAX], **doms = NULL;
	size_t ndoms = 0;
	struct ids ids;
	int rootfd, rc = 0;

	if (spool_conf(m, &ids, err) == -1)
		return -1;
	if (domain != NULL && addr_domain("domain", domain, norm, err) == -1)
		return -1;
	if ((rootfd = open_root(m, err)) == -1)
		return -1;
	if (domain != NULL) {
		doms = xmalloc(sizeof(*doms));
		doms[ndoms++] = xstrdup(norm);
	} else if (subdirs(rootfd, &doms, &ndoms) == -1) {
		fs_fail(err, "read", root, errno);
		close(rootfd);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < ndoms; i++) {
		char **lists = NULL;
		size_t nlists = 0;
		int dfd = open_dir_at(rootfd, doms[i]);

		if (dfd == -1) {
			if (errno == ENOENT)
				continue;
			rc = fs_fail(err, "open", doms[i], errno);
			break;
		}
		if (subdirs(dfd, &lists, &nlists) == -1)
			rc = fs_fail(err, "read", doms[i], errno);
		for (size_t j = 0; rc == 0 && j < nlists; j++) {
			struct mlmmj_list l;
			char **subs = NULL;
			size_t nsubs = 0;
			struct err e2 = ERR_INIT;
			int lfd = open_dir_at(dfd, lists[j]);

			if (lfd == -1)
				continue;
			if (load_list(lfd, root, doms[i], lists[j], &l) == 0) {
				close(lfd);
				continue;
			}
			close(lfd);
			/* One broken list must not hide the others. */
			if (list_members(&ids, l.spool_dir, "-s", &subs, &nsubs,
				&e2) == 0)
				l.subscriber_count = (int64_t)nsubs;
			strv_free(subs, nsubs);
			if (fill_routed(m, &l, err) == -1 || fn(arg, &l) == -1)
				rc = -1;
			mlmmj_list_release(&l);
		}
		strv_free(lists, nlists);
		close(dfd);
	}
	strv_free(doms, ndoms);
	close(rootfd);
	return rc;
}

/* --- list add ---------------------------------------------------------- */

struct add_ctx {
	struct lst l;
	const struct ids *ids;
	const char *const *owners;
	size_t nowners;
	char *gotos;
	int rootfd;
	bool created; /* the spool is ours */
};

static int
check_free(struct model *m, const struct lst *l, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(l->address) };
	char *transport = NULL;
	int64_t n;
	int r;

	if (db_query_int(m->db,
		"SELECT COUNT(*) FROM mailbox WHERE "
		"username = ?",
		a, 1, &n, err) == -1)
		return -1;
	if (n > 0)
		return err_set(
		    err, ERR_EXISTS, "'%s' is a mailbox", l->address);
	if (db_query_int(m->db, "SELECT COUNT(*) FROM alias WHERE address = ?",
		a, 1, &n, err) == -1)
		return -1;
	if (n > 0) {
		err_set(err, ERR_EXISTS, "an alias '%s' already exists",
		    l->address);
		return err_hint(err,
		    "delete the alias first ('postino alias del %s')",
		    l->address);
	}
	if ((n = routes_count_list(m, l->address, err)) == -1)
		return -1;
	if (n > 0) {
		err_set(
		    err, ERR_EXISTS, "list '%s' already exists", l->address);
		return err_hint(err,
		    "its routes are in the database; 'postino list rm %s' removes what is left of it",
		    l->address);
	}
	if ((r = routes_match(m, l->address, &transport, err)) == -1)
		return -1;
	if (r == 1) {
		err_set(err, ERR_EXISTS, "'%s' is already routed to '%s'",
		    l->address, transport);
		free(transport);
		return err_hint(err,
		    "a route of another list matches this address; choose another name");
	}
	return 0;
}

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;
	struct domain_rec d;
	struct alias_rec owner_alias;
	char owner[2 * ADDR_MAX + 8], data[ADDR_MAX + 16];
	int r;

	/* A deadlock retry starts over: take back the last attempt's spool. */
	if (c->created) {
		if (remove_spool(m->conf->mlmmj_spool_dir, c->l.rel, err) == -1)
			return -1;
		c->created = false;
	}
	if (domain_lock(m, c->l.domain, &d, err) != 1)
		return -1;
	if (check_free(m, &c->l, err) == -1 ||
	    routes_add_list(m, c->l.local, c->l.domain, err) == -1)
		return -1;
	if (snprintf(owner, sizeof(owner), "%s-owner@%s", c->l.local,
		c->l.domain) >= ADDR_MAX)
		return err_set(err, ERR_INVALID,
		    "the owner alias of '%s' would be too long", c->l.address);
	r = alias_add(m, owner, c->gotos, &owner_alias, err);
	alias_rec_release(&owner_alias);
	if (r == -1)
		return -1;
	snprintf(data, sizeof(data), "%s mailing_list", c->l.address);
	if (model_audit(m, c->l.domain, "create_alias", data, err) == -1)
		return -1;
	/* Last, so nothing above can leave a spool behind. */
	if ((r = list_exists(c->rootfd, &c->l, err)) != 0) {
		if (r == 1)
			err_set(err, ERR_EXISTS,
			    "the spool directory '%s' already exists",
			    c->l.dir);
		return -1;
	}
	if (create_spool(m->conf->mlmmj_spool_dir, c->rootfd, &c->l, c->owners,
		c->nowners, c->ids, err) == -1)
		return -1;
	c->created = true;
	return 0;
}

/*
 * Postfix applies virtual_alias_maps before it routes: a catch-all of the
 * list's domain takes the list's mail first.  Say so.
 */
static void
warn_catchall(struct model *m, const struct lst *l)
{
	char *catchall = xasprintf("@%s", l->domain);
	struct db_arg a[] = { DB_TEXT(catchall), DB_BOOL(1) };
	struct err e2 = ERR_INIT;
	int64_t n = 0;

	if (db_query_int(m->db,
		"SELECT COUNT(*) FROM alias WHERE address = ? "
		"AND active = ?",
		a, DB_NARGS(a), &n, &e2) == 0 &&
	    n > 0)
		model_notifyf(m,
		    "domain '%s' has a catch-all, which Postfix applies before the list's route: mail to '%s' goes to the catch-all; put lists on a domain without one, or remove '%s'",
		    l->domain, l->address, catchall);
	free(catchall);
}

int
mlmmj_add(struct model *m, const char *address, const char *const *owners,
    size_t nowners, struct mlmmj_list *out, struct err *err)
{
	char norm[ADDR_MAX], **own = NULL;
	struct add_ctx c;
	struct ids ids;
	struct buf gotos;
	int lockfd = -1, r, rc = -1;

	memset(&c, 0, sizeof(c));
	c.rootfd = -1;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (spool_conf(m, &ids, err) == -1 ||
	    parse_list(m, address, &c.l, err) == -1)
		return -1;
	buf_init(&gotos, 64 * 1024);
	if (nowners == 0) {
		err_set(err, ERR_INVALID, "a list needs at least one owner");
		err_hint(err, "pass --owner ADDRESS");
		goto out;
	}
	own = xcalloc(nowners, sizeof(*own));
	for (size_t i = 0; i < nowners; i++) {
		if (addr_address("owner", owners[i], norm, NULL, NULL, err) ==
		    -1)
			goto out;
		own[i] = xstrdup(norm);
		if (strcmp(norm, c.l.address) == 0) {
			err_set(err, ERR_INVALID, "a list cannot own itself");
			goto out;
		}
		buf_printf(&gotos, "%s%s", i ? "," : "", norm);
	}
	c.ids = &ids;
	c.owners = (const char *const *)own;
	c.nowners = nowners;
	c.gotos = (char *)(uintptr_t)buf_cstr(&gotos);
	if ((c.rootfd = open_root(m, err)) == -1 ||
	    (lockfd = lock_spool(m, c.rootfd, err)) == -1)
		goto out;
	/* An existing list is an error that touches nothing. */
	if ((r = list_exists(c.rootfd, &c.l, err)) != 0) {
		if (r == 1) {
			err_set(err, ERR_EXISTS, "list '%s' already exists",
			    c.l.address);
			err_hint(err, "its spool is '%s'", c.l.dir);
		}
		goto out;
	}
	if (model_tx(m, add_tx, &c, err) == -1) {
		/* Lost during COMMIT: the list may exist; keep its spool. */
		if (c.created && !m->db->commit_unknown) {
			struct err e2 = ERR_INIT;

			(void)remove_spool(
			    m->conf->mlmmj_spool_dir, c.l.rel, &e2);
		}
		goto out;
	}
	rc = 0;
	warn_catchall(m, &c.l);
	{
		char path[256];

		if (mlmmj_program("mlmmj-receive", path, sizeof(path)) == NULL)
			model_notifyf(m,
			    "mlmmj is not installed here, so nothing receives the list's mail yet; install it (apt-get install mlmmj)");
	}
	if (out != NULL) {
		int fd = open_list(c.rootfd, &c.l, err);

		if (fd != -1) {
			(void)load_list(fd, m->conf->mlmmj_spool_dir,
			    c.l.domain, c.l.local, out);
			close(fd);
		}
		err_clear(err);
		out->subscriber_count = 0;
		out->routed = true;
	}
out:
	if (lockfd != -1)
		close(lockfd);
	if (c.rootfd != -1)
		close(c.rootfd);
	if (own != NULL)
		strv_free(own, nowners);
	buf_release(&gotos);
	lst_release(&c.l);
	return rc;
}

/* --- subscribers ------------------------------------------------------- */

struct audit_ctx {
	const char *domain;
	const char *action;
	const char *data;
};

static int
audit_tx(struct model *m, void *arg, struct err *err)
{
	struct audit_ctx *a = arg;

	return model_audit(m, a->domain, a->action, a->data, err);
}

static int
subscription(struct model *m, const char *address, const char *email, bool sub,
    bool *changed_r, struct err *err)
{
	char who[ADDR_MAX], **members = NULL, *data = NULL;
	size_t nmembers = 0;
	struct ids ids;
	struct lst l;
	int rootfd = -1, lockfd = -1, fd, rc = -1;
	bool was;

	if (changed_r != NULL)
		*changed_r = false;
	if (spool_conf(m, &ids, err) == -1 ||
	    parse_list(m, address, &l, err) == -1)
		return -1;
	if (addr_address("subscriber", email, who, NULL, NULL, err) == -1)
		goto out;
	if ((rootfd = open_root(m, err)) == -1 ||
	    (lockfd = lock_spool(m, rootfd, err)) == -1)
		goto out;
	if ((fd = open_list(rootfd, &l, err)) == -1) {
		if (err->kind == ERR_NOTFOUND)
			err_hint(err,
			    "create it with 'postino list add %s --owner ADDRESS'",
			    l.address);
		goto out;
	}
	close(fd);
	if (list_members(&ids, l.dir, "-s", &members, &nmembers, err) == -1)
		goto out;
	was = strv_has(members, nmembers, who);
	if (was != sub) {
		const char *sargs[] = { "-L", l.dir, "-a", who, "-f", "-q",
			"-s", NULL };
		const char *uargs[] = { "-L", l.dir, "-a", who, "-q", "-s",
			NULL };
		struct audit_ctx a;

		if (run_mlmmj(&ids, sub ? "mlmmj-sub" : "mlmmj-unsub",
			sub ? sargs : uargs, NULL, err) == -1)
			goto out;
		if (changed_r != NULL)
			*changed_r = true;
		data = xasprintf("%s %s %s", l.address,
		    sub ? "subscribe" : "unsubscribe", who);
		a.domain = l.domain;
		a.action = "edit_alias";
		a.data = data;
		if (model_tx(m, audit_tx, &a, err) == -1) {
			err_prefix(err,
			    "'%s' is %s, but the audit row was not written",
			    who, sub ? "subscribed" : "unsubscribed");
			goto out;
		}
	}
	rc = 0;
out:
	free(data);
	strv_free(members, nmembers);
	if (lockfd != -1)
		close(lockfd);
	if (rootfd != -1)
		close(rootfd);
	lst_release(&l);
	return rc;
}

int
mlmmj_sub(struct model *m, const char *address, const char *email,
    bool *changed_r, struct err *err)
{
	return subscription(m, address, email, true, changed_r, err);
}

int
mlmmj_unsub(struct model *m, const char *address, const char *email,
    bool *changed_r, struct err *err)
{
	return subscription(m, address, email, false, changed_r, err);
}

/* --- list rm ----------------------------------------------------------- */

struct rm_ctx {
	struct lst l;
	bool exists;
	char *grave; /* the staged spool */
};

static int
rm_tx(struct model *m, void *arg, struct err *err)
{
	struct rm_ctx *c = arg;
	const char *root = m->conf->mlmmj_spool_dir;
	char owner[2 * ADDR_MAX + 8], data[ADDR_MAX + 16];
	int64_t nroutes;

	/* A deadlock retry starts over: put the spool back first. */
	if (c->grave != NULL) {
		if (maildir_unstage(root, c->grave, c->l.rel, err) == -1)
			return -1;
		free(c->grave);
		c->grave = NULL;
	}
	if (routes_del_list(m, c->l.address, &nroutes, err) == -1)
		return -1;
	if (nroutes == 0 && !c->exists)
		return err_set(err, ERR_NOTFOUND, "list '%s' does not exist",
		    c->l.address);
	snprintf(owner, sizeof(owner), "%s-owner@%s", c->l.local, c->l.domain);
	if (strlen(owner) < ADDR_MAX && alias_del(m, owner, err) == -1) {
		if (err->kind != ERR_NOTFOUND)
			return -1;
		err_clear(err);
	}
	snprintf(data, sizeof(data), "%s mailing_list", c->l.address);
	if (model_audit(m, c->l.domain, "delete_alias", data, err) == -1)
		return -1;
	if (c->exists && maildir_stage(root, c->l.rel, &c->grave, err) == -1)
		return -1;
	return 0;
}

int
mlmmj_rm(struct model *m, const char *address, bool force, struct err *err)
{
	static const char *const kinds[] = { "-s", "-d", "-n", NULL };
	struct rm_ctx c;
	struct ids ids;
	int rootfd = -1, lockfd = -1, r, rc = -1;

	memset(&c, 0, sizeof(c));
	if (spool_conf(m, &ids, err) == -1 ||
	    parse_list(m, address, &c.l, err) == -1)
		return -1;
	if ((rootfd = open_root(m, err)) == -1 ||
	    (lockfd = lock_spool(m, rootfd, err)) == -1)
		goto out;
	if ((r = list_exists(rootfd, &c.l, err)) == -1)
		goto out;
	c.exists = r == 1;
	if (c.exists && !force) {
		size_t total = 0;

		for (size_t i = 0; kinds[i] != NULL; i++) {
			char **v;
			size_t n;

			if (list_members(
				&ids, c.l.dir, kinds[i], &v, &n, err) == -1)
				goto out;
			strv_free(v, n);
			total += n;
		}
		if (total > 0) {
			err_set(err, ERR_CAPACITY,
			    "list '%s' has %zu subscriber%s", c.l.address,
			    total, total == 1 ? "" : "s");
			err_hint(err,
			    "unsubscribe them first, or pass --force to delete the list with them");
			goto out;
		}
	}
	if (model_tx(m, rm_tx, &c, err) == -1) {
		if (c.grave != NULL) {
			struct err e2 = ERR_INIT;

			if (maildir_unstage(m->conf->mlmmj_spool_dir, c.grave,
				c.l.rel, &e2) == -1)
				model_notifyf(m, "could not restore '%s': %s",
				    c.l.dir, e2.msg);
		}
		goto out;
	}
	rc = 0;
	if (c.grave != NULL) {
		struct err e2 = ERR_INIT;

		if (maildir_purge(m->conf->mlmmj_spool_dir, c.grave, &e2) == -1)
			model_notifyf(m,
			    "list '%s' is deleted, but its spool '%s/%s' could not be removed: %s",
			    c.l.address, m->conf->mlmmj_spool_dir, c.grave,
			    e2.msg);
	}
out:
	free(c.grave);
	if (lockfd != -1)
		close(lockfd);
	if (rootfd != -1)
		close(rootfd);
	lst_release(&c.l);
	return rc;
}
