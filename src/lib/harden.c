#include <sys/resource.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_PRCTL
#include <sys/prctl.h>
#endif
#ifdef HAVE_SECCOMP
#include <sys/socket.h>

#include <linux/sched.h>
#include <seccomp.h>
#endif

#include "harden.h"
#include "banned.h"

/*
 * LeakSanitizer stops the world at exit with a ptrace()ing helper that
 * needs calls the daemons themselves never make: sanitizer builds allow
 * them too.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HARDEN_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARDEN_SANITIZER 1
#endif
#endif
#ifndef HARDEN_SANITIZER
#define HARDEN_SANITIZER 0
#endif

int
harden_process(struct err *err)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return err_set(err, ERR_INTERNAL, "setrlimit(RLIMIT_CORE): %s",
		    strerror(errno));
#ifdef HAVE_PRCTL
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return err_set(err, ERR_INTERNAL, "prctl(PR_SET_DUMPABLE): %s",
		    strerror(errno));
#endif
	return 0;
}

#ifdef HAVE_SECCOMP

/*
 * What both daemons need once they serve: I/O on sockets and files, the
 * event loops, threads and their synchronisation, memory, time, signals
 * (sigwait, the signal pipe), and what the client libraries do when they
 * (re)connect: libmariadb, libpq, hiredis, libcurl with its threaded
 * resolver (getaddrinfo reads /etc files and may talk to the DNS server
 * or netlink), OpenSSL, SQLite (journal files), dlopen() of a database
 * module or an NSS module on reload.  Names, not numbers: a call this
 * architecture lacks is skipped.
 */
static const char *const allow_common[] = {
	/* descriptors and files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "_llseek", "close",
	"close_range", "dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl",
	"open", "openat", "stat", "stat64", "fstat", "fstat64", "lstat",
	"lstat64", "newfstatat", "fstatat64", "statx", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getdents", "getdents64",
	"statfs", "statfs64", "fstatfs", "fstatfs64", "fsync", "fdatasync",
	"ftruncate", "ftruncate64", "fallocate", "unlink", "unlinkat", "flock",
	"getcwd", "umask", "fadvise64", "fadvise64_64",
	/* SQLite, as root, gives journal files the database's owner */
	"fchown", "fchown32",
	/* memory */
	"brk", "mmap", "mmap2", "munmap", "mprotect", "mremap", "madvise",
	/* threads, synchronisation, scheduling */
	"futex", "futex_time64", "futex_waitv", "set_robust_list",
	"get_robust_list", "rseq", "set_tid_address", "sched_yield",
	"sched_getaffinity", "gettid", "getpid", "membarrier", "exit",
	"exit_group", "restart_syscall",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigpending",
	"sigaltstack",
	/* time */
	"clock_gettime", "clock_gettime64", "clock_getres",
	"clock_getres_time64", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "clock_nanosleep_time64",
	/* identity, limits, randomness */
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
	"getresgid", "getuid32", "geteuid32", "getgid32", "getegid32",
	"getgroups32", "getresuid32", "getresgid32", "getrlimit", "ugetrlimit",
	"getrusage", "sysinfo", "times", "uname", "getrandom",
	/* sockets (socket() itself is checked below) */
	"connect", "accept", "accept4", "bind", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "shutdown", "sendto", "recvfrom", "sendmsg",
	"recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64", "socketpair",
	"pipe", "pipe2",
	/* waiting */
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
	"pselect6_time64", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", NULL
};

/* postinod makes, renames and removes maildirs and writes their files. */
static const char *const allow_postinod[] = { "mkdir", "mkdirat", "rmdir",
	"rename", "renameat", "renameat2", "link", "linkat", "chmod", "fchmod",
	"fchmodat", "chown", "fchownat", "lchown", "chown32", "lchown32",
	"utimensat", "chdir", "fchdir", NULL };

/* LeakSanitizer's exit-time helper (sanitizer builds only). */
static const char *const allow_sanitizer[] = { "ptrace", "wait4", "waitpid",
	"waitid", "getppid", "prctl", "kill", "tgkill", "tkill",
	"sched_setaffinity", "process_vm_readv", NULL };

/* Argument arg compared with value: SCMP_CMP with every field given. */
static struct scmp_arg_cmp
arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = { arg, op, a, b };

	return c;
}

static int
allow_list(scmp_filter_ctx ctx, const char *const *names)
{
	for (; *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not a call of this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			return -1;
	}
	return 0;
}

static int
add_rules(scmp_filter_ctx ctx, enum harden_profile profile)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6,
		AF_NETLINK };
	unsigned clone_flags_arg = 0;
	uint32_t arch = seccomp_arch_native();
	int rc = 0;

	if (allow_list(ctx, allow_common) == -1)
		return -1;
	if (profile == HARDEN_POSTINOD && allow_list(ctx, allow_postinod) == -1)
		return -1;
	if (HARDEN_SANITIZER && allow_list(ctx, allow_sanitizer) == -1)
		return -1;

	/* Threads, not processes: clone() must carry CLONE_THREAD. */
	if (arch == SCMP_ARCH_S390 || arch == SCMP_ARCH_S390X)
		clone_flags_arg = 1; /* clone(stack, flags, ...) there */
	if (HARDEN_SANITIZER)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
	else
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    arg_cmp(clone_flags_arg, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
			CLONE_THREAD));
	/*
	 * clone3() passes its flags in memory a filter cannot read: "not
	 * implemented" makes the C library fall back to clone().
	 */
	if (seccomp_syscall_resolve_name("clone3") >= 0)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    seccomp_syscall_resolve_name("clone3"), 0);

	/* Sockets of the families the daemons and their libraries use. */
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)families[i], 0));

	/* Limits may be read, not changed: prlimit64(pid, res, NULL, old). */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    arg_cmp(2, SCMP_CMP_EQ, 0, 0));
	/* Signals to this process's own threads only (abort, raise). */
	if (!HARDEN_SANITIZER)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
#ifdef HAVE_PRCTL
	/* Thread names (pthread_setname_np); the sanitizers need all. */
	if (!HARDEN_SANITIZER) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    arg_cmp(0, SCMP_CMP_EQ, PR_SET_NAME, 0));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    arg_cmp(0, SCMP_CMP_EQ, PR_GET_NAME, 0));
	}
#endif
	return rc == 0 ? 0 : -1;
}

bool
harden_seccomp_available(void)
{
	return true;
}

int
harden_seccomp(enum harden_profile profile, struct err *err)
{
	scmp_filter_ctx ctx;
	int rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return err_set(err, ERR_INTERNAL, "seccomp_init failed");
	/* Every thread, those running already included; no new privileges. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) != 0 ||
	    add_rules(ctx, profile) == -1) {
		seccomp_release(ctx);
		return err_set(
		    err, ERR_INTERNAL, "cannot build the seccomp filter");
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return err_set(err, ERR_INTERNAL,
		    "cannot install the seccomp filter: %s", strerror(-rc));
	return 0;
}

#else /* !HAVE_SECCOMP */

bool
harden_seccomp_available(void)
{
	return false;
}

int
harden_seccomp(enum harden_profile profile, struct err *err)
{
	(void)profile;
	err_set(err, ERR_CONFIG,
	    "seccomp was asked for, but this build has no libseccomp");
	return err_hint(err,
	    "rebuild with libseccomp (meson -Dseccomp=enabled), or set seccomp = false");
}

#endif
