/*
 * hook: run PostfixAdmin-style post-creation hooks.
 *
 * The hook gets PostfixAdmin's four arguments (username, domain, maildir
 * relative to the mail root, quota in bytes), a minimal environment (PATH,
 * HOME=/, LANG=C), stdin from /dev/null and / as its working directory, in
 * its own process group.  It must finish within timeout seconds or its
 * whole process group is killed.  Its combined output (first 8 KiB) is
 * kept for the error message.
 */
#ifndef POSTINO_HOOK_H
#define POSTINO_HOOK_H

#include "err.h"

/*
 * Run path with argv (argv[0] is set to path).  Returns 0 when it exited 0,
 * else -1 with err (ERR_HOOK) saying how it failed.
 */
int hook_run(
    const char *path, const char *const *args, int timeout_sec, struct err *);

#endif
