/*
 * Mailing-list probes: the Postfix wiring mlmmj needs, the owner aliases,
 * the spool (<spool>/<domain>/<local>/).
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

/* A main.cf list ("a, b c") split into words. */
static size_t
split_list(const char *v, char words[][PATH_MAX], size_t max)
{
	size_t n = 0;

	while (*v != '\0' && n < max) {
		size_t l;

		v += strspn(v, " \t,");
		l = strcspn(v, " \t,");
		if (l == 0)
			break;
		snprintf(words[n++], PATH_MAX, "%.*s", (int)l, v);
		v += l;
	}
	return n;
}

/* The map types that reach our database for this engine. */
static bool
map_type_ok(const struct ctx *c, const char *src)
{
	const char *t = src;

	if (str_prefix(t, "proxy:"))
		t += 6;
	if (str_prefix(t, "socketmap:") || str_prefix(t, "tcp:"))
		return true; /* podop */
	switch (c->have_params ? c->params.engine : DB_ENGINE_NONE) {
	case DB_ENGINE_MYSQL:
		return str_prefix(t, "mysql:");
	case DB_ENGINE_PGSQL:
		return str_prefix(t, "pgsql:");
	case DB_ENGINE_SQLITE:
		return str_prefix(t, "sqlite:");
	default:
		return true;
	}
}

static void
check_transport_maps(struct ctx *c, const struct cf *cf, const char *path)
{
	static char words[16][PATH_MAX];
	const char *v = cf_get(cf, "transport_maps");
	size_t n, routes = SIZE_MAX;

	if (v == NULL || *v == '\0') {
		finding(c, "postfix-transport-maps", CHECK_ERROR,
		    "%s sets no transport_maps, so list mail never reaches mlmmj; set it to the routes map followed by the domain transports",
		    path);
		return;
	}
	n = split_list(v, words, 16);
	for (size_t i = 0; i < n; i++)
		if (strstr(words[i], "routes") != NULL) {
			routes = i;
			break;
		}
	if (routes == SIZE_MAX) {
		finding(c, "postfix-transport-maps", CHECK_ERROR,
		    "%s:%d: transport_maps has no routes map, so list mail never reaches mlmmj; put the routes map first",
		    path, cf_line(cf, "transport_maps"));
		return;
	}
	finding(
	    c, "postfix-transport-maps", CHECK_INFO, "transport_maps: %s", v);
	finding_if(c, routes != 0, "postfix-transport-maps-order", CHECK_ERROR,
	    "the routes map is looked up first",
	    "%s:%d: the routes map comes after '%s', which answers first for list domains; move it to the front",
	    path, cf_line(cf, "transport_maps"), words[0]);
	finding_if(c, !map_type_ok(c, words[routes]),
	    "postfix-transport-maps-type", CHECK_ERROR,
	    "the routes map reads the database postino writes",
	    "%s:%d: '%s' is not a %s map (nor socketmap/proxy of one) but the routes live in the %s database; fix its type",
	    path, cf_line(cf, "transport_maps"), words[routes],
	    db_engine_name(c->params.engine), db_engine_name(c->params.engine));
}

/* A master.cf service: its whole logical entry, or "" when absent. */
static void
master_entry(const char *text, const char *service, struct buf *out)
{
	const char *line = text;
	bool in = false;

	buf_reset(out);
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		char w[128];

		if (line[0] == ' ' || line[0] == '\t') {
			if (in && line[strspn(line, " \t")] != '#')
				buf_append(out, line, n);
		} else if (line[0] != '#' && n > 0) {
			next_word(line, w, sizeof(w));
			w[strcspn(w, "\n")] = '\0';
			in = strcmp(w, service) == 0;
			if (in)
				buf_append(out, line, n);
		} else if (line[0] == '#')
			; /* a comment does not end an entry */
		else
			in = false;
		line += n;
		if (*line == '\n')
			line++;
	}
}

void
probe_mlmmj_wiring(struct ctx *c)
{
	static const char *const services[] = { "mlmmj-receive", "mlmmj-bounce",
		"mlmmj-sub", "mlmmj-unsub", NULL };
	char path[PATH_MAX], name[64];
	struct err err = ERR_INIT;
	struct cf cf;
	struct buf text, entry;
	int fd;

	postfix_file(c, "main.cf", path, sizeof(path));
	if (path[0] == '\0')
		finding(c, "postfix-main-cf", CHECK_ERROR,
		    "no main.cf in '%s' or its parent, so the mailing-list wiring cannot be checked; mlmmj_spool_dir is set",
		    c->conf->postfix_sql_dir);
	else if (cf_parse_file(&cf, path, &err) == -1)
		finding(c, "postfix-main-cf", CHECK_ERROR, "%s", err.msg);
	else {
		const char *d = cf_get(&cf, "recipient_delimiter");
		const char *want = c->conf->recipient_delimiter[0] != '\0'
		    ? c->conf->recipient_delimiter
		    : "+";
		bool ok = d != NULL;

		finding(c, "postfix-main-cf", CHECK_INFO, "%s", path);
		check_transport_maps(c, &cf, path);
		for (const char *p = want; ok && *p != '\0'; p++)
			if (strchr(d, *p) == NULL)
				ok = false;
		if (!ok)
			finding(c, "recipient-delimiter", CHECK_ERROR,
			    "%s: recipient_delimiter is %s%s%s, but list commands (list+subscribe@...) need '%s'; set recipient_delimiter = %s",
			    path, d ? "'" : "", d ? d : "unset", d ? "'" : "",
			    want, want);
		else
			finding(c, "recipient-delimiter", CHECK_INFO,
			    "recipient_delimiter = %s", d);
		cf_release(&cf);
	}
	postfix_file(c, "master.cf", path, sizeof(path));
	if (path[0] == '\0') {
		finding(c, "master-cf", CHECK_ERROR,
		    "no master.cf in '%s' or its parent; the mlmmj pipe services cannot be checked",
		    c->conf->postfix_sql_dir);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		finding(c, "master-cf", CHECK_ERROR, "cannot open '%s': %s",
		    path, strerror(errno));
		return;
	}
	buf_init(&text, CF_MAX_SIZE);
	buf_init(&entry, CF_MAX_SIZE);
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r <= 0 || buf_append(&text, chunk, (size_t)r) == -1)
			break;
	}
	close(fd);
	finding(c, "master-cf", CHECK_INFO, "%s", path);
	for (size_t i = 0; services[i] != NULL; i++) {
		snprintf(name, sizeof(name), "master-cf-%s", services[i]);
		master_entry(buf_cstr(&text), services[i], &entry);
		if (entry.len == 0)
			finding(c, name, CHECK_ERROR,
			    "%s has no '%s' service; add the pipe service postino(8) shows",
			    path, services[i]);
		else if (strstr(buf_cstr(&entry), "pipe") == NULL ||
		    strstr(buf_cstr(&entry) + strlen(services[i]),
			services[i]) == NULL)
			finding(c, name, CHECK_ERROR,
			    "%s: service '%s' does not pipe to the %s program; fix its argv=",
			    path, services[i], services[i]);
		else
			finding(c, name, CHECK_INFO, "pipe service present");
	}
	buf_release(&entry);
	buf_release(&text);
}

/* Every list needs its "<local>-owner@<domain>" alias. */
void
probe_owner_aliases(struct ctx *c)
{
	const struct smap *l = &c->d.lists;
	size_t missing = 0;

	if (need_data(c, D_ALIAS | D_LISTS) == -1)
		return;
	if (!c->d.have_routes) {
		finding(c, "owner-aliases", CHECK_ERROR,
		    "no routes table, so mailing lists cannot be routed; run 'postino schema migrate'");
		return;
	}
	for (size_t i = 0; i < l->cap; i++) {
		const char *list = l->v[i].key, *at;
		char owner[ADDR_MAX * 2], name[ADDR_MAX + 16];

		if (list == NULL || (at = strrchr(list, '@')) == NULL)
			continue;
		snprintf(owner, sizeof(owner), "%.*s-owner%s", (int)(at - list),
		    list, at);
		if (smap_get(&c->d.als_ix, owner, NULL))
			continue;
		missing++;
		snprintf(name, sizeof(name), "owner-alias-%s", list);
		finding(c, name, CHECK_ERROR,
		    "list '%s' has no '%s' alias, so mail to its owner bounces; add it ('postino alias add %s OWNER')",
		    list, owner, owner);
	}
	if (missing == 0)
		finding(c, "owner-aliases", CHECK_INFO,
		    "%zu %s, each with its -owner alias", l->n,
		    plural((int64_t)l->n, "list", "lists"));
}

struct spool {
	struct ctx *c;
	struct smap found; /* list addresses on disk */
	struct sample corrupt, orphan_doms, artefacts, symlinks, unrouted;
	size_t nlists;
};

static bool
spool_artefact(const char *n)
{
	return str_prefix(n, ".deleting.") || str_prefix(n, ".tmp-");
}

/* Whether <fd>/control/owner holds at least one owner. */
static bool
list_has_owner(int fd)
{
	char buf[4096];
	ssize_t n;
	int cfd, ofd;

	cfd = openat(
	    fd, "control", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd == -1)
		return false;
	ofd = openat(cfd, "owner", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(cfd);
	if (ofd == -1)
		return false;
	n = read(ofd, buf, sizeof(buf) - 1);
	close(ofd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!isspace((unsigned char)buf[i]))
			return true;
	return false;
}

static void
spool_domain(struct spool *s, int dfd, const char *dom)
{
	struct arena *ar = &s->c->d.arena;
	struct dirent *e;
	int fd = dup(dfd);
	DIR *dp;

	if (fd == -1 || (dp = fdopendir(fd)) == NULL) {
		sample_add(&s->corrupt, "'%s' (%s)", dom, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		char addr[ADDR_MAX * 2];
		int t, lfd;

		if (dot_or_dotdot(n))
			continue;
		t = entry_type(dfd, e);
		if (t == T_LINK) {
			sample_add(&s->symlinks, "'%s/%s'", dom, n);
			continue;
		}
		if (spool_artefact(n)) {
			sample_add(&s->artefacts, "'%s/%s'", dom, n);
			continue;
		}
		if (n[0] == '.' || t != T_DIR)
			continue;
		s->nlists++;
		snprintf(addr, sizeof(addr), "%s@%s", n, dom);
		(void)smap_put(&s->found, arena_dup(ar, addr), 0);
		lfd = openat(
		    dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (lfd == -1 || !list_has_owner(lfd))
			sample_add(&s->corrupt, "'%s/%s'", dom, n);
		if (lfd != -1)
			close(lfd);
	}
	closedir(dp);
}

void
probe_mlmmj_spool(struct ctx *c)
{
	const char *root = c->conf->mlmmj_spool_dir;
	bool db = c->db != NULL && c->schema_ok &&
	    need_data(c, D_DOMAIN | D_LISTS) == 0;
	struct spool s;
	struct dirent *e;
	DIR *dp;
	int fd;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		finding(c, "mailing_lists", CHECK_WARN,
		    "cannot open the mlmmj spool '%s': %s; create it or fix mlmmj_spool_dir",
		    root, strerror(errno));
		return;
	}
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		finding(c, "mailing_lists", CHECK_WARN,
		    "cannot read the mlmmj spool '%s': %s", root,
		    strerror(errno));
		return;
	}
	memset(&s, 0, sizeof(s));
	s.c = c;
	smap_init(&s.found, true);
	sample_init(&s.corrupt);
	sample_init(&s.orphan_doms);
	sample_init(&s.artefacts);
	sample_init(&s.symlinks);
	sample_init(&s.unrouted);
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		int t, dfd;

		if (dot_or_dotdot(n))
			continue;
		t = entry_type(fd, e);
		if (t == T_LINK) {
			sample_add(&s.symlinks, "'%s'", n);
			continue;
		}
		if (spool_artefact(n)) {
			sample_add(&s.artefacts, "'%s'", n);
			continue;
		}
		if (n[0] == '.' || t != T_DIR)
			continue; /* .create.lock and the like */
		if (db && !smap_get(&c->d.dom_ix, n, NULL))
			sample_add(&s.orphan_doms, "'%s'", n);
		dfd = openat(
		    fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd == -1) {
			sample_add(&s.corrupt, "'%s' (%s)", n, strerror(errno));
			continue;
		}
		spool_domain(&s, dfd, n);
		close(dfd);
	}
	closedir(dp);
	if (db && c->d.have_routes) {
		for (size_t i = 0; i < c->d.lists.cap; i++) {
			const char *l = c->d.lists.v[i].key;

			if (l != NULL && !smap_get(&s.found, l, NULL))
				sample_add(&s.unrouted,
				    "'%s' is routed but has no spool directory",
				    l);
		}
		for (size_t i = 0; i < s.found.cap; i++) {
			const char *l = s.found.v[i].key;

			if (l != NULL && !smap_get(&c->d.lists, l, NULL))
				sample_add(&s.unrouted,
				    "'%s' has a spool but no routes", l);
		}
	}
	finding(c, "mailing_lists", CHECK_INFO, "%zu %s in '%s'", s.nlists,
	    plural((int64_t)s.nlists, "list", "lists"), root);
	finding_if(c, s.corrupt.n > 0, "mlmmj_lists_corrupt", CHECK_ERROR,
	    "every list has an owner",
	    "%zu spool %s no owner in control/owner, so mlmmj cannot run %s: %s; recreate the list or restore control/owner",
	    s.corrupt.n,
	    plural((int64_t)s.corrupt.n, "entry has", "entries have"),
	    plural((int64_t)s.corrupt.n, "it", "them"),
	    sample_text(&s.corrupt));
	if (db && s.orphan_doms.n > 0)
		finding(c, "mlmmj_lists_orphan_domain", CHECK_ERROR,
		    "spool domains that are not domains here, so their lists receive nothing: %s; add the domains or remove the lists",
		    sample_text(&s.orphan_doms));
	else if (db)
		finding(c, "mlmmj_lists_orphan_domain", CHECK_INFO,
		    "every spool domain is a domain");
	finding_if(c, s.artefacts.n > 0, "mlmmj_lists_artefacts", CHECK_WARN,
	    "no .deleting.* or .tmp-* leftovers",
	    "unfinished list creations or deletions: %s; remove them once nothing is running",
	    sample_text(&s.artefacts));
	finding_if(c, s.symlinks.n > 0, "mlmmj_lists_symlinks", CHECK_ERROR,
	    "no symlinks in the spool",
	    "symlinks in the spool, which postino refuses to follow: %s; replace them with real directories",
	    sample_text(&s.symlinks));
	if (db && c->d.have_routes && s.unrouted.n > 0)
		finding(c, "mlmmj_lists_routes", CHECK_ERROR,
		    "spool and routes disagree, so mail to these lists bounces: %s; recreate or remove the lists",
		    sample_text(&s.unrouted));
	else if (db && c->d.have_routes)
		finding(c, "mlmmj_lists_routes", CHECK_INFO,
		    "every list has both routes and a spool directory");
	smap_release(&s.found);
	sample_release(&s.corrupt);
	sample_release(&s.orphan_doms);
	sample_release(&s.artefacts);
	sample_release(&s.symlinks);
	sample_release(&s.unrouted);
}
