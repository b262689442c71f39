/*
 * Configuration probes: the mail root, the postcreation hook, vmail ids.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cf.h"
#include "check.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mapgen.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "pfchroot.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "probe.h"

#include "banned.h"

void
probe_mailbox_base(struct ctx *c)
{
	const char *base = c->conf->virtual_mailbox_base;
	int64_t uid = c->conf->vmail_uid;
	struct stat st;
	char who[64];

	if (base[0] != '/') {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "virtual_mailbox_base '%s' is not an absolute path; set it in postino.toml",
		    base);
		return;
	}
	if (stat(base, &st) == -1) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s': %s; create it (owned by the vmail user) or fix virtual_mailbox_base",
		    base, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s' is not a directory; fix virtual_mailbox_base",
		    base);
		return;
	}
	if (st.st_mode & S_IWOTH) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s' is writable by everyone (mode %04o); chmod o-w it",
		    base, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (uid >= 0 && st.st_uid != (uid_t)uid && st.st_uid != 0 &&
	    st.st_uid != geteuid()) {
		finding(c, "mailbox_base", CHECK_WARN,
		    "mail root '%s' is owned by %s, neither the vmail user (uid %lld) nor root, who can replace every maildir; chown it to the vmail user",
		    base, uid_name(st.st_uid, who, sizeof(who)),
		    (long long)uid);
		return;
	}
	finding(c, "mailbox_base", CHECK_INFO,
	    "mail root '%s' is a directory owned by %s, mode %04o", base,
	    uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run argv[0] with argv, stdin from /dev/null, collecting up to outsize-1
 * bytes of its output.  Returns the exit status, -2 on timeout, -1 when it
 * could not be started.
 */
static int
run_capture(char *const argv[], int timeout_ms, char *out, size_t outsize)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin",
		"HOME=/", "LANG=C", NULL
	};
	size_t n = 0;
	int pfd[2], status = 0;
	int64_t deadline;
	bool timed_out = false;
	pid_t pid;

	out[0] = '\0';
	if (pipe(pfd) == -1)
		return -1;
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - now_ms();
		char junk[512];
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (n + 1 < outsize)
			r = read(pfd[0], out + n, outsize - 1 - n);
		else
			r = read(pfd[0], junk, sizeof(junk));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n + 1 < outsize)
			n += (size_t)r;
	}
	out[n] = '\0';
	close(pfd[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out)
		return -2;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* An interpreter named without a path ("env bash"), found on PATH. */
static bool
find_on_path(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin",
		"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };

	if (strchr(name, '/') != NULL) {
		snprintf(out, size, "%s", name);
		return access(out, X_OK) == 0;
	}
	for (size_t i = 0; dirs[i] != NULL; i++) {
		int n = snprintf(out, size, "%s/%s", dirs[i], name);

		if (n > 0 && (size_t)n < size && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static void
hook_syntax(struct ctx *c, const char *hook)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ksh",
		"mksh", "zsh", "posh", NULL };
	char head[257], word[PATH_MAX], interp[PATH_MAX], path[PATH_MAX];
	char out[4096], *nl, *argv[4];
	const char *p, *base;
	bool shell = false;
	ssize_t n;
	int fd, rc;

	if ((fd = open(hook, O_RDONLY | O_CLOEXEC)) == -1) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: cannot read '%s': %s", hook, strerror(errno));
		return;
	}
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	head[n] = '\0';
	if (n >= 4 && memcmp(head, "\177ELF", 4) == 0) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: '%s' is a compiled program", hook);
		return;
	}
	if (n < 2 || head[0] != '#' || head[1] != '!') {
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s' has no '#!' line, so it cannot be executed (exec format error); start it with '#!/bin/sh'",
		    hook);
		return;
	}
	if ((nl = strchr(head, '\n')) != NULL)
		*nl = '\0';
	p = next_word(head + 2, interp, sizeof(interp));
	base = strrchr(interp, '/') != NULL ? strrchr(interp, '/') + 1 : interp;
	if (strcmp(base, "env") == 0) {
		/* #!/usr/bin/env [-S] [-opts] [VAR=x] interp */
		do {
			p = next_word(p, word, sizeof(word));
		} while (word[0] != '\0' &&
		    (word[0] == '-' || strchr(word, '=') != NULL));
		if (word[0] == '\0') {
			finding(c, "postcreation_hook_syntax", CHECK_ERROR,
			    "'%s': '#!%s' names no interpreter", hook, interp);
			return;
		}
		if (!find_on_path(word, interp, sizeof(interp))) {
			finding(c, "postcreation_hook_syntax", CHECK_ERROR,
			    "'%s': interpreter '%s' is not on the hook's PATH; install it or fix the '#!' line",
			    hook, word);
			return;
		}
		base = strrchr(interp, '/') + 1;
	} else if (access(interp, X_OK) == -1) {
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s': interpreter '%s': %s; install it or fix the '#!' line",
		    hook, interp, strerror(errno));
		return;
	}
	for (size_t i = 0; shells[i] != NULL; i++)
		if (strcmp(base, shells[i]) == 0)
			shell = true;
	if (!shell) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: '%s' is run by %s, which has no syntax-only mode postino knows",
		    hook, base);
		return;
	}
	snprintf(path, sizeof(path), "%s", hook);
	argv[0] = interp;
	argv[1] = xstrdup("-n");
	argv[2] = path;
	argv[3] = NULL;
	rc = run_capture(argv, SYNTAX_TIMEOUT_MS, out, sizeof(out));
	free(argv[1]);
	if (rc == 0) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "'%s -n' accepts '%s'", base, hook);
		return;
	}
	for (char *q = out; *q != '\0'; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
	if (rc == -2)
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s -n %s' did not finish within %d s", base, hook,
		    SYNTAX_TIMEOUT_MS / 1000);
	else
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s' has a syntax error (%s -n exited %d): %.200s; fix it before the next 'user add'",
		    hook, base, rc, str_trim(out));
}

void
probe_hook(struct ctx *c)
{
	const char *hook = c->conf->postcreation_hook;
	struct stat st;
	char who[64];

	if (hook[0] == '\0') {
		finding(c, "postcreation_hook", CHECK_INFO,
		    "no post-creation hook configured");
		return;
	}
	if (hook[0] != '/') {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "postcreation_hook '%s' is not an absolute path; the hook runs from '/', so give its full path",
		    hook);
		return;
	}
	if (stat(hook, &st) == -1) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation hook '%s': %s; every 'user add' will fail until it exists (or clear postcreation_hook)",
		    hook, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation hook '%s' is not a regular file", hook);
		return;
	}
	if (access(hook, X_OK) == -1) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation hook '%s' is not executable; chmod 755 it",
		    hook);
		return;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation hook '%s' is owned by %s but runs as root; chown root it",
		    hook, uid_name(st.st_uid, who, sizeof(who)));
		return;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation hook '%s' is writable by its group or others (mode %04o) and runs as %s; chmod go-w it",
		    hook, (unsigned)(st.st_mode & 07777),
		    geteuid() == 0 ? "root" : "postino's user");
		return;
	}
	finding(c, "postcreation_hook", CHECK_INFO,
	    "'%s' is executable, owned by %s, mode %04o", hook,
	    uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
	hook_syntax(c, hook);
}

static void
vmail_id(struct ctx *c, bool is_uid, int64_t id)
{
	const char *name = is_uid ? "vmail_uid" : "vmail_gid";
	const char *what = is_uid ? "uid" : "gid";
	const char *resolved = NULL;

	if (id < 0) {
		if (geteuid() == 0)
			finding(c, name, CHECK_ERROR,
			    "%s is not set, so maildirs are created owned by root, which Dovecot refuses to deliver to; set %s in postino.toml",
			    name, name);
		else
			finding(c, name, CHECK_INFO,
			    "%s is not set: maildirs belong to the user postino runs as (%s %ld)",
			    name, what,
			    is_uid ? (long)geteuid() : (long)getegid());
		return;
	}
	if (id == 0) {
		finding(c, name, CHECK_ERROR,
		    "%s is 0 (root): Dovecot and Postfix's virtual(8) refuse to deliver as root; create a dedicated user (useradd -r vmail) and set %s to its %s",
		    name, name, what);
		return;
	}
	if (is_uid) {
		struct passwd *pw = getpwuid((uid_t)id);

		if (pw != NULL)
			resolved = pw->pw_name;
	} else {
		struct group *gr = getgrgid((gid_t)id);

		if (gr != NULL)
			resolved = gr->gr_name;
	}
	if (resolved == NULL) {
		finding(c, name, CHECK_WARN,
		    "%s %lld has no %s entry; create the vmail %s with that id so file listings and Dovecot logs name it",
		    what, (long long)id, is_uid ? "passwd" : "group",
		    is_uid ? "user" : "group");
		return;
	}
	finding(c, name, CHECK_INFO, "%s %lld is '%s'", what, (long long)id,
	    resolved);
}

void
probe_vmail(struct ctx *c)
{
	vmail_id(c, true, c->conf->vmail_uid);
	vmail_id(c, false, c->conf->vmail_gid);
}
