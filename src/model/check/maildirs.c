/*
 * Maildir probes: one walk of the mail root.
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

struct walk {
	struct ctx *c;
	struct data *d;
	struct smap maildirs; /* maildir path -> mailbox index */
	struct smap prefixes; /* ancestors of maildirs */
	struct smap links;    /* symlinks found (relative paths) */
	uint64_t done;
	struct sample orphans, orphan_doms, artefacts, symlinks, owners, perms,
	    skeleton, unreadable;
};

static void
walk_maildir(
    struct walk *w, int dirfd, const char *name, const char *rel, struct mbx *m)
{
	int64_t uid = w->c->conf->vmail_uid, gid = w->c->conf->vmail_gid;
	bool have[3] = { false, false, false };
	static const char *const sk[] = { "cur", "new", "tmp" };
	struct dirent *e;
	struct stat st;
	DIR *dp;
	int fd;

	fd = openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		sample_add(&w->unreadable, "'%s' (%s)", rel, strerror(errno));
		if (fd != -1)
			close(fd);
		m->seen = true;
		return;
	}
	m->seen = true;
	if (uid >= 0 && gid >= 0 &&
	    (st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid))
		sample_add(&w->owners, "'%s' (%ld:%ld)", rel, (long)st.st_uid,
		    (long)st.st_gid);
	if (st.st_mode & S_IRWXO)
		sample_add(&w->perms, "'%s' (mode %04o)", rel,
		    (unsigned)(st.st_mode & 07777));
	if ((dp = fdopendir(fd)) == NULL) {
		sample_add(&w->unreadable, "'%s' (%s)", rel, strerror(errno));
		close(fd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		int t;

		if (dot_or_dotdot(e->d_name))
			continue;
		t = entry_type(fd, e);
		if (t == T_LINK)
			sample_add(&w->symlinks, "'%s/%s'", rel, e->d_name);
		for (int k = 0; k < 3; k++)
			if (strcmp(e->d_name, sk[k]) == 0 &&
			    (t == T_DIR || t == T_LINK))
				have[k] = true;
	}
	closedir(dp);
	if (!have[0] || !have[1] || !have[2])
		sample_add(&w->skeleton, "'%s' (lacks%s%s%s)", rel,
		    have[0] ? "" : " cur", have[1] ? "" : " new",
		    have[2] ? "" : " tmp");
	if (++w->done % PROGRESS_EVERY == 0)
		progress(w->c, "maildirs", w->done, w->d->nmbxs);
}

static void
walk_dir(struct walk *w, int fd, char *rel, size_t rlen, int depth)
{
	struct dirent *e;
	DIR *dp;
	int dfd = dup(fd);

	if (dfd == -1 || (dp = fdopendir(dfd)) == NULL) {
		sample_add(&w->unreadable, "'%s' (%s)", rlen ? rel : ".",
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		size_t nl = strlen(n), i;
		int t;

		if (dot_or_dotdot(n))
			continue;
		if (rlen + nl + 2 >= PATH_MAX)
			continue;
		if (rlen > 0)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen > 0), n, nl + 1);
		t = entry_type(fd, e);
		if (t == T_LINK) {
			sample_add(&w->symlinks, "'%s'", rel);
			(void)smap_put(
			    &w->links, arena_dup(&w->d->arena, rel), 0);
		} else if (str_prefix(n, ".deleting."))
			sample_add(&w->artefacts, "'%s'", rel);
		else if (t == T_DIR && smap_get(&w->maildirs, rel, &i))
			walk_maildir(w, fd, n, rel, &w->d->mbxs[i]);
		else if (t != T_DIR ||
		    (depth == 0 &&
			(n[0] == '.' || strcmp(n, "lost+found") == 0)))
			; /* files, and the file system's own directories */
		else if (smap_get(&w->prefixes, rel, NULL) ||
		    (depth == 0 && smap_get(&w->d->dom_ix, n, NULL))) {
			int cfd = openat(fd, n,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (cfd == -1)
				sample_add(&w->unreadable, "'%s' (%s)", rel,
				    strerror(errno));
			else if (depth + 1 >= WALK_DEPTH_MAX)
				close(cfd);
			else {
				walk_dir(w, cfd, rel, rlen + (rlen > 0) + nl,
				    depth + 1);
				close(cfd);
			}
		} else if (depth == 0)
			sample_add(&w->orphan_doms, "'%s'", rel);
		else
			sample_add(&w->orphans, "'%s'", rel);
		rel[rlen] = '\0';
	}
	closedir(dp);
}

/* Whether rel or one of its ancestors is a symlink the walk reported. */
static bool
behind_link(const struct walk *w, const char *rel)
{
	char p[PATH_MAX];
	size_t n = strlen(rel);

	if (n >= sizeof(p))
		return false;
	memcpy(p, rel, n + 1);
	for (;;) {
		char *slash;

		if (smap_get(&w->links, p, NULL))
			return true;
		if ((slash = strrchr(p, '/')) == NULL)
			return false;
		*slash = '\0';
	}
}

static void
walk_report(struct walk *w)
{
	struct ctx *c = w->c;
	int64_t uid = c->conf->vmail_uid, gid = c->conf->vmail_gid;
	struct sample missing, paths, dups;
	struct err err = ERR_INIT;

	sample_init(&missing);
	sample_init(&paths);
	sample_init(&dups);
	for (size_t i = 0; i < w->d->nmbxs; i++) {
		const struct mbx *m = &w->d->mbxs[i];
		size_t j;

		if (!m->valid) {
			if (maildir_rel_valid(m->maildir, &err) == -1)
				sample_add(&paths, "'%s' ('%s')", m->username,
				    m->maildir);
			else if (smap_get(&w->maildirs, m->maildir, &j) &&
			    j != i)
				sample_add(&dups, "'%s' and '%s' ('%s')",
				    w->d->mbxs[j].username, m->username,
				    m->maildir);
		} else if (!m->seen && !behind_link(w, m->maildir))
			sample_add(
			    &missing, "'%s' ('%s')", m->username, m->maildir);
	}
	/*
	 * PostfixAdmin never creates maildirs: Dovecot does on first
	 * delivery or login.  A missing one is normal there; ownership and
	 * permission faults below are what stop delivery.
	 */
	if (missing.n > 0)
		finding(c, "maildir_present", CHECK_INFO,
		    "%zu %s no maildir under '%s' yet (Dovecot makes it on first delivery or login, as for PostfixAdmin's mailboxes): %s; restore it if the mailbox had mail",
		    missing.n,
		    plural((int64_t)missing.n, "mailbox has", "mailboxes have"),
		    c->conf->virtual_mailbox_base, sample_text(&missing));
	else
		finding(c, "maildir_present", CHECK_INFO, "%zu %s present",
		    w->d->nmbxs - paths.n - dups.n,
		    plural((int64_t)(w->d->nmbxs - paths.n - dups.n), "maildir",
			"maildirs"));
	finding_if(c, paths.n > 0, "maildir_path", CHECK_ERROR,
	    "every maildir path is relative and clean",
	    "%zu %s a maildir path outside the mail root or with '.', '..' or empty parts: %s; fix mailbox.maildir",
	    paths.n, plural((int64_t)paths.n, "mailbox has", "mailboxes have"),
	    sample_text(&paths));
	finding_if(c, dups.n > 0, "maildir_duplicates", CHECK_ERROR,
	    "no two mailboxes share a maildir",
	    "mailboxes share a maildir, so they read each other's mail: %s; give each its own",
	    sample_text(&dups));
	if (uid < 0 || gid < 0)
		finding(c, "maildir_ownership", CHECK_INFO,
		    "not checked: vmail_uid/vmail_gid are not set");
	else if (w->owners.n > 0)
		finding(c, "maildir_ownership", CHECK_ERROR,
		    "%zu %s not owned by the vmail user %lld:%lld, so Dovecot cannot deliver to %s: %s; chown -R them",
		    w->owners.n,
		    plural((int64_t)w->owners.n, "maildir is", "maildirs are"),
		    (long long)uid, (long long)gid,
		    plural((int64_t)w->owners.n, "it", "them"),
		    sample_text(&w->owners));
	else
		finding(c, "maildir_ownership", CHECK_INFO,
		    "every maildir is owned by %lld:%lld", (long long)uid,
		    (long long)gid);
	finding_if(c, w->perms.n > 0, "maildir_permissions", CHECK_WARN,
	    "no maildir is open to other users",
	    "%zu %s open to other users: %s; chmod o-rwx them", w->perms.n,
	    plural((int64_t)w->perms.n, "maildir is", "maildirs are"),
	    sample_text(&w->perms));
	finding_if(c, w->skeleton.n > 0 || w->unreadable.n > 0,
	    "maildirpp_skeleton", CHECK_ERROR,
	    "every maildir has cur, new and tmp",
	    "%s%s%s%s; create the missing cur, new and tmp directories",
	    w->skeleton.n ? "incomplete Maildir++ skeleton: " : "",
	    w->skeleton.n ? sample_text(&w->skeleton) : "",
	    w->unreadable.n
		? (w->skeleton.n ? "; unreadable: " : "unreadable: ")
		: "",
	    w->unreadable.n ? sample_text(&w->unreadable) : "");
	finding_if(c, w->orphans.n > 0, "orphan_maildirs", CHECK_WARN,
	    "every maildir belongs to a mailbox",
	    "%zu %s under '%s' %s to no mailbox (a new mailbox of that name would inherit the mail): %s; archive and remove them",
	    w->orphans.n,
	    plural((int64_t)w->orphans.n, "directory", "directories"),
	    c->conf->virtual_mailbox_base,
	    plural((int64_t)w->orphans.n, "belongs", "belong"),
	    sample_text(&w->orphans));
	finding_if(c, w->orphan_doms.n > 0, "orphan_domain_maildirs",
	    CHECK_WARN, "every domain directory belongs to a domain",
	    "%zu top-level %s under '%s' %s no domain: %s; archive and remove them",
	    w->orphan_doms.n,
	    plural((int64_t)w->orphan_doms.n, "directory", "directories"),
	    c->conf->virtual_mailbox_base,
	    plural((int64_t)w->orphan_doms.n, "matches", "match"),
	    sample_text(&w->orphan_doms));
	finding_if(c, w->artefacts.n > 0, "maildir_artefacts", CHECK_WARN,
	    "no .deleting.* leftovers",
	    "%zu unfinished %s left: %s; remove them once nothing is running",
	    w->artefacts.n,
	    plural((int64_t)w->artefacts.n, "deletion", "deletions"),
	    sample_text(&w->artefacts));
	finding_if(c, w->symlinks.n > 0, "maildir_symlinks", CHECK_ERROR,
	    "no symlinks in the mail root",
	    "%zu %s in the mail root, which postino refuses to follow and which can redirect mail elsewhere: %s; replace them with real directories",
	    w->symlinks.n,
	    plural((int64_t)w->symlinks.n, "symlink", "symlinks"),
	    sample_text(&w->symlinks));
	sample_release(&missing);
	sample_release(&paths);
	sample_release(&dups);
}

void
probe_maildirs(struct ctx *c)
{
	struct data *d = &c->d;
	struct err err = ERR_INIT;
	char rel[PATH_MAX];
	struct walk w;
	int fd;

	if (need_data(c, D_DOMAIN | D_MAILBOX) == -1)
		return;
	fd = open(
	    c->conf->virtual_mailbox_base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		c->walk_skipped = true;
		c->skipped++;
		return; /* mailbox_base has said why */
	}
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.d = d;
	smap_init(&w.maildirs, false);
	smap_init(&w.prefixes, false);
	smap_init(&w.links, false);
	sample_init(&w.orphans);
	sample_init(&w.orphan_doms);
	sample_init(&w.artefacts);
	sample_init(&w.symlinks);
	sample_init(&w.owners);
	sample_init(&w.perms);
	sample_init(&w.skeleton);
	sample_init(&w.unreadable);
	for (size_t i = 0; i < d->nmbxs; i++) {
		struct mbx *m = &d->mbxs[i];
		char *p;

		if (maildir_rel_valid(m->maildir, &err) == -1 ||
		    !smap_put(&w.maildirs, m->maildir, i))
			continue;
		m->valid = true;
		/* Every ancestor of the maildir, "a" then "a/b". */
		snprintf(rel, sizeof(rel), "%s", m->maildir);
		while ((p = strrchr(rel, '/')) != NULL) {
			*p = '\0';
			if (!smap_put(
				&w.prefixes, arena_dup(&d->arena, rel), 0))
				break;
		}
	}
	rel[0] = '\0';
	walk_dir(&w, fd, rel, 0, 0);
	close(fd);
	progress(c, "maildirs", w.done, d->nmbxs);
	walk_report(&w);
	smap_release(&w.maildirs);
	smap_release(&w.prefixes);
	smap_release(&w.links);
	sample_release(&w.orphans);
	sample_release(&w.orphan_doms);
	sample_release(&w.artefacts);
	sample_release(&w.symlinks);
	sample_release(&w.owners);
	sample_release(&w.perms);
	sample_release(&w.skeleton);
	sample_release(&w.unreadable);
}
