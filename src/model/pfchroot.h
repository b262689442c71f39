/*
 * pfchroot: which of postino's Postfix maps a chrooted Postfix daemon
 * cannot reach, for "postino check".
 *
 * Debian's stock master.cf runs smtpd, cleanup and trivial-rewrite (the
 * daemons that read virtual_mailbox_domains, virtual_alias_maps,
 * virtual_mailbox_maps, transport_maps and smtpd_sender_login_maps)
 * chrooted in queue_directory.  Postfix opens its tables before entering
 * the chroot, but a socketmap or a MariaDB/PostgreSQL connection over a
 * UNIX socket connects at the first lookup, inside the chroot, where a
 * path outside queue_directory does not exist.  "proxy:" hands the lookup
 * to proxymap(8), which runs outside the chroot as the postfix user: then
 * the map must be in proxy_read_maps and its configuration file (and an
 * SQLite database) readable by that user.
 *
 * pfchroot_scan() reads main.cf and master.cf and describes each such
 * problem; it never prints and never connects to anything.
 */
#ifndef POSTINO_PFCHROOT_H
#define POSTINO_PFCHROOT_H

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

struct pfchroot {
	char service[64]; /* first chrooted daemon that reads the maps */
	int service_line; /* its master.cf line */
	char queue_dir[PATH_MAX];
	size_t nmaps;	     /* map references looked at */
	size_t nproblems;    /* in problems, "; "-separated */
	struct buf problems; /* "virtual_alias_maps: 'x' (why)" */
};

/*
 * Scan main_cf and master_cf (paths).  Returns 0 with r filled (release it
 * with pfchroot_release()), or -1 with err when main.cf or master.cf
 * cannot be read.
 */
int pfchroot_scan(const char *main_cf, const char *master_cf,
    struct pfchroot *r, struct err *err);
void pfchroot_release(struct pfchroot *r);

#endif
