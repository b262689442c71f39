#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "strutil.h"
#include "banned.h"

#define OUT_MAX 8192

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* First line of output, trimmed, for the message. */
static void
summary(char *out, size_t n, char *dst, size_t dsize)
{
	char *p;

	out[n] = '\0';
	p = str_trim(out);
	p[strcspn(p, "\n")] = '\0';
	snprintf(dst, dsize, "%.200s", p);
}

int
hook_run(
    const char *path, const char *const *args, int timeout_sec, struct err *err)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin",
		"HOME=/", "LANG=C", NULL
	};
	char out[OUT_MAX + 1], line[256];
	const char *argv[16];
	size_t n = 0, argc = 0;
	int pfd[2], status = 0;
	int64_t deadline;
	struct stat st;
	pid_t pid;
	bool timed_out = false;

	if (stat(path, &st) == -1) {
		err_set(err, ERR_HOOK, "post-creation hook '%s' not found: %s",
		    path, strerror(errno));
		return err_hint(err, "fix or clear postcreation_hook");
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) == -1)
		return err_set(err, ERR_HOOK,
		    "post-creation hook '%s' is not an executable file", path);
	argv[argc++] = path;
	for (size_t i = 0; args[i] != NULL && argc < 15; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe(pfd) == -1)
		return err_set(err, ERR_HOOK, "pipe: %s", strerror(errno));
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return err_set(err, ERR_HOOK, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		if (chdir("/") == -1)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execve(path, (char *const *)(uintptr_t)argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	deadline = now_ms() + (int64_t)timeout_sec * 1000;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (n < OUT_MAX)
			r = read(pfd[0], out + n, OUT_MAX - n);
		else {
			char junk[512];

			r = read(pfd[0], junk, sizeof(junk));
		}
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n < OUT_MAX)
			n += (size_t)r;
	}
	close(pfd[0]);
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
	summary(out, n, line, sizeof(line));
	if (timed_out)
		return err_set(err, ERR_HOOK,
		    "post-creation hook '%s' did not finish within %d s and was killed",
		    path, timeout_sec);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return err_set(err, ERR_HOOK,
		    "post-creation hook '%s' killed by signal %d%s%s", path,
		    WTERMSIG(status), line[0] ? ": " : "", line);
	return err_set(err, ERR_HOOK, "post-creation hook '%s' exited %d%s%s",
	    path, WEXITSTATUS(status), line[0] ? ": " : "", line);
}
