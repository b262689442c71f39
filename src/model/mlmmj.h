/*
 * mlmmj: mailing lists run by mlmmj 1.3, kept consistent with the
 * database.  A list local@domain is three things that come and go
 * together: its spool directory <mlmmj_spool_dir>/<domain>/<local>/, its
 * routes row (routes.h) that sends its mail to mlmmj-receive, and the alias
 * <local>-owner@<domain> that forwards to its owners.  The list's domain
 * must be a domain of this server.
 *
 * The spool is walked with openat(O_NOFOLLOW) from the spool root (which
 * may itself be a symlink: the administrator's choice); a planted symlink
 * makes the operation fail.  Every change to the spool runs under an
 * exclusive flock on <spool>/.create.lock.  A new list is built in a
 * ".tmp-*" sibling and renamed into place; a removed one is renamed to a
 * ".deleting.*" sibling inside the transaction and purged after commit, so
 * a crash leaves only names "postino check --deep" reports.  The tree is
 * owned by mlmmj_uid:mlmmj_gid when both are set.
 *
 * "list add" on an existing list is ERR_EXISTS and touches nothing; "rm"
 * refuses a list that still has subscribers unless forced.  Subscribing and
 * unsubscribing are silent (no mail to anyone) and idempotent.  Postfix
 * applies virtual_alias_maps before it routes, so a catch-all of the
 * list's domain would take the list's mail: "list add" says so.
 *
 * The mlmmj programs run by absolute path (mlmmj_program()), with a fixed
 * argv, the environment PATH/HOME=//LANG=C, stdin from /dev/null, a 30 s
 * limit, and, when postino runs as root, as mlmmj_uid:mlmmj_gid with no
 * supplementary groups.  A program that fails is ERR_MLMMJ with its
 * message.
 *
 * Records own their strings (mlmmj_list_release()).  Nothing here prints.
 */
#ifndef POSTINO_MLMMJ_H
#define POSTINO_MLMMJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"

struct mlmmj_list {
	char address[ADDR_MAX];
	char local[ADDR_MAX];
	char domain[ADDR_MAX];
	char *spool_dir; /* absolute */
	char **owners;	 /* from control/owner */
	size_t nowners;
	char **subscribers; /* mlmmj_show() only */
	size_t nsubscribers;
	int64_t subscriber_count; /* -1 when mlmmj-list failed */
	bool routed;		  /* has routes rows */
};

void mlmmj_list_release(struct mlmmj_list *);

/*
 * The absolute path of an mlmmj program ("mlmmj-receive"), looked up in
 * /usr/local/bin, /usr/bin and /bin, written into buf.  Returns buf, or
 * NULL when it is not installed.
 */
const char *mlmmj_program(const char *name, char *buf, size_t size);

/*
 * Create list address with its owners (at least one).  out (may be NULL)
 * gets the new list.
 */
int mlmmj_add(struct model *, const char *address, const char *const *owners,
    size_t nowners, struct mlmmj_list *out, struct err *);
/*
 * Subscribe / unsubscribe email.  *changed_r (may be NULL) tells whether
 * anything changed; an audit row is written when it did.
 */
int mlmmj_sub(struct model *, const char *address, const char *email,
    bool *changed_r, struct err *);
int mlmmj_unsub(struct model *, const char *address, const char *email,
    bool *changed_r, struct err *);
/* One list with its subscribers; ERR_NOTFOUND when there is no spool. */
int mlmmj_show(
    struct model *, const char *address, struct mlmmj_list *, struct err *);

typedef int mlmmj_each_fn(void *arg, const struct mlmmj_list *);
/*
 * Every list in the spool (domain may be NULL for all), in name order,
 * without subscribers but with their count.
 */
int mlmmj_foreach(struct model *, const char *domain, mlmmj_each_fn *,
    void *arg, struct err *);
/*
 * Delete a list: its spool, routes and owner alias.  Without force,
 * ERR_CAPACITY while it has subscribers (normal, digest or no-mail).
 */
int mlmmj_rm(struct model *, const char *address, bool force, struct err *);

#endif
