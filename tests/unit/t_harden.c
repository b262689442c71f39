/*
 * harden: no core files after harden_process(); under harden_seccomp()
 * what a daemon needs still works and what it must not do kills the
 * process (each case runs in a child, judged by how it ended).
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harden.h"
#include "tap.h"
#include "banned.h"

/* Sanitizer builds allow what LeakSanitizer needs (harden.h). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER 1
#endif
#endif
#ifndef SANITIZER
#define SANITIZER 0
#endif

static char dir[] = "/tmp/t_harden.XXXXXX";

static void *
thread_main(void *arg)
{
	return arg;
}

/* What serving needs: sockets, files, threads, time, memory. */
static int
allowed(void)
{
	struct timespec ts = { 0, 1000000 };
	pthread_t th;
	void *ret = NULL;
	char path[256], buf[16];
	int fds[2], fd;
	void *p;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 1;
	close(fd);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 2;
	close(fd);
	if (pipe(fds) == -1 || write(fds[1], "x", 1) != 1 ||
	    read(fds[0], buf, 1) != 1)
		return 3;
	close(fds[0]);
	close(fds[1]);
	snprintf(path, sizeof(path), "%s/file", dir);
	if ((fd = open(path, O_RDWR | O_CREAT, 0600)) == -1 ||
	    write(fd, "data", 4) != 4 || fsync(fd) == -1)
		return 4;
	close(fd);
	if (unlink(path) == -1)
		return 5;
	if (pthread_create(&th, NULL, thread_main, &ts) != 0 ||
	    pthread_join(th, &ret) != 0 || ret != &ts)
		return 6;
	if (nanosleep(&ts, NULL) == -1 ||
	    clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 7;
	if ((p = malloc(8 << 20)) == NULL)
		return 8;
	memset(p, 1, 8 << 20);
	free(p);
	return 0;
}

static int
do_mkdir(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/maildir", dir);
	if (mkdir(path, 0700) == -1 || rmdir(path) == -1)
		return 1;
	return 0;
}

static int
do_exec(void)
{
	char *argv[] = { (char *)(uintptr_t) "/bin/true", NULL };
	char *envp[] = { NULL };

	execve(argv[0], argv, envp);
	return 1;
}

static int
do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid == -1 ? 1 : 0;
}

static int
do_setuid(void)
{
	return setuid(getuid()) == -1 ? 1 : 0;
}

static int
do_socket_packet(void)
{
	/* AF_PACKET (17): raw link-layer access, no family the daemons use. */
	int fd = socket(17, SOCK_RAW, 0);

	if (fd != -1)
		close(fd);
	return 0;
}

static int
do_status(void)
{
	char line[256];
	int seccomp = -1, nnp = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0; /* no procfs: nothing to read */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Seccomp:", 8) == 0)
			seccomp = (int)strtol(line + 8, NULL, 10);
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			nnp = (int)strtol(line + 11, NULL, 10);
	}
	fclose(f);
	return seccomp == 2 && nnp == 1 ? 0 : 1;
}

/*
 * Run fn in a child under the profile's filter.  Returns the exit status
 * (0..255), or 1000 + the signal that killed it.
 */
static int
confined(enum harden_profile profile, int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		struct err e = ERR_INIT;

		if (harden_seccomp(profile, &e) == -1) {
			fprintf(stderr, "harden_seccomp: %s\n", e.msg);
			_exit(100);
		}
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
main(void)
{
	struct err e = ERR_INIT;
	struct rlimit rl;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	is_int(harden_process(&e), 0, "harden_process");
	ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
		rl.rlim_max == 0,
	    "no core files, and no raising the limit");
	ok(setrlimit(RLIMIT_CORE, &(struct rlimit){ 1 << 20, 1 << 20 }) == -1 ||
		geteuid() == 0,
	    "an unprivileged process cannot raise it");
	is_int(harden_process(&e), 0, "harden_process twice");

	if (getenv("POSTINO_TEST_UNDER_VALGRIND") != NULL) {
		/* valgrind does not emulate seccomp(2). */
		diag("under valgrind: the seccomp cases are left out");
		rmdir(dir);
		return done_testing();
	}
	if (!harden_seccomp_available()) {
		is_int(harden_seccomp(HARDEN_PODOP, &e), -1,
		    "without libseccomp, asking for it fails");
		is_int(e.kind, ERR_CONFIG, "as a configuration error");
		rmdir(dir);
		return done_testing();
	}

	is_int(confined(HARDEN_PODOP, allowed), 0,
	    "podop: sockets, files, threads, time and memory work");
	is_int(confined(HARDEN_POSTINOD, allowed), 0, "postinod: the same");
	is_int(confined(HARDEN_PODOP, do_status), 0,
	    "the filter is on (Seccomp: 2) with NoNewPrivs: 1");
	is_int(confined(HARDEN_POSTINOD, do_mkdir), 0,
	    "postinod may make and remove maildirs");
	is_int(confined(HARDEN_PODOP, do_mkdir), 1000 + SIGSYS,
	    "podop may not make directories: killed");
	is_int(confined(HARDEN_PODOP, do_exec), 1000 + SIGSYS,
	    "podop: execve kills");
	is_int(confined(HARDEN_POSTINOD, do_exec), 1000 + SIGSYS,
	    "postinod: execve kills");
	is_int(confined(HARDEN_POSTINOD, do_setuid), 1000 + SIGSYS,
	    "setuid kills");
	is_int(confined(HARDEN_PODOP, do_socket_packet), 1000 + SIGSYS,
	    "a packet socket kills");
	if (!SANITIZER)
		is_int(confined(HARDEN_PODOP, do_fork), 1000 + SIGSYS,
		    "fork (clone without CLONE_THREAD) kills");
	rmdir(dir);
	return done_testing();
}
