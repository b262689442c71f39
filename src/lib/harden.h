/*
 * harden: process-wide protections for postino's programs, in one place.
 *
 * The three programs hold secrets in memory (database passwords read from
 * the Postfix map files, webhook HMAC secrets, TLS keys), so none of them
 * may leave a core file or be read by another process.
 * harden_process(), called first thing in main() by postino, podop and
 * postinod, sets RLIMIT_CORE to 0 (soft and hard, so children cannot
 * raise it either) and, where the system has prctl(PR_SET_DUMPABLE),
 * makes the process not dumpable: no core dump, no ptrace attach by other
 * processes of the same user, /proc/PID/mem and environ unreadable.
 *
 * harden_seccomp() confines a daemon that is serving to a seccomp
 * allow-list (libseccomp, built with -Dseccomp): the system calls its
 * steady state needs (network and file I/O, threads, memory, time, the
 * database and HTTP client libraries, reloads) and nothing else; any other
 * call kills the whole process.  Not allowed, among others: execve and
 * fork (clone without CLONE_THREAD), ptrace, setuid and friends, mount,
 * module and keyring calls, bpf, io_uring.  The filter also sets
 * no_new_privs, applies to every thread (existing ones included) and is
 * inherited by anything started later, so call it once start-up is over:
 * after binding, dropping privileges, loading database modules and
 * opening backends.  HARDEN_POSTINOD also allows making and removing
 * maildirs.  Sanitizer builds (-fsanitize=address) add the calls
 * LeakSanitizer needs at exit.
 *
 * Neither function prints; both return 0, or -1 with err.
 */
#ifndef POSTINO_HARDEN_H
#define POSTINO_HARDEN_H

#include <stdbool.h>

#include "err.h"

enum harden_profile {
	HARDEN_PODOP = 0,
	HARDEN_POSTINOD,
};

/* No core files, not dumpable.  -1 with err (ERR_INTERNAL) on failure. */
int harden_process(struct err *);

/* Whether harden_seccomp() can work (postino was built with libseccomp). */
bool harden_seccomp_available(void);

/*
 * Install the allow-list for profile.  -1 with err: ERR_CONFIG when
 * postino was built without libseccomp, ERR_INTERNAL when the kernel
 * refused the filter.
 */
int harden_seccomp(enum harden_profile, struct err *);

#endif
