#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf.h"
#include "pfchroot.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define EXPAND_DEPTH 8
#define VALUE_MAX (64 * 1024)

/* The main.cf parameters postino's maps feed (see mapgen/postfix.c). */
static const char *const map_params[] = { "virtual_mailbox_domains",
	"virtual_alias_maps", "virtual_mailbox_maps", "transport_maps",
	"smtpd_sender_login_maps", NULL };

/* The daemons that read them. */
static const char *const map_daemons[] = { "smtpd", "cleanup",
	"trivial-rewrite", NULL };

struct scan {
	struct pfchroot *r;
	const struct cf *main;
	bool chrooted;
	bool root; /* we can judge what the postfix user reads */
	uid_t pf_uid;
	gid_t pf_gid;
	bool have_pf;
	char *proxy_read; /* expanded, or NULL: Postfix's default */
};

/* $name, ${name} and $(name) from main.cf; unknown names stay as they are. */
static void
expand(const struct cf *cf, const char *v, struct buf *out, int depth)
{
	while (*v != '\0') {
		char name[128];
		const char *val, *end;
		size_t n;

		if (*v != '$' || depth >= EXPAND_DEPTH) {
			buf_putc(out, *v++);
			continue;
		}
		if (v[1] == '{' || v[1] == '(') {
			end = strchr(v + 2, v[1] == '{' ? '}' : ')');
			if (end == NULL) {
				buf_putc(out, *v++);
				continue;
			}
			n = (size_t)(end - (v + 2));
			if (n >= sizeof(name)) {
				buf_putc(out, *v++);
				continue;
			}
			memcpy(name, v + 2, n);
			name[n] = '\0';
			end++;
		} else {
			for (n = 0; isalnum((unsigned char)v[1 + n]) ||
			     v[1 + n] == '_';
			     n++)
				;
			if (n == 0 || n >= sizeof(name)) {
				buf_putc(out, *v++);
				continue;
			}
			memcpy(name, v + 1, n);
			name[n] = '\0';
			end = v + 1 + n;
		}
		if ((val = cf_get(cf, name)) != NULL)
			expand(cf, val, out, depth + 1);
		else
			buf_append(out, v, (size_t)(end - v));
		v = end;
	}
}

static void problem(struct scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct scan *s, const char *fmt, ...)
{
	va_list ap;

	if (s->r->nproblems++ > 0)
		buf_puts(&s->r->problems, "; ");
	va_start(ap, fmt);
	buf_vprintf(&s->r->problems, fmt, ap);
	va_end(ap);
}

/* path is inside the chroot (queue_directory). */
static bool
in_jail(const struct scan *s, const char *path)
{
	size_t n = strlen(s->r->queue_dir);

	if (path[0] != '/')
		return true; /* relative: to the queue directory */
	return strncmp(path, s->r->queue_dir, n) == 0 &&
	    (path[n] == '/' || path[n] == '\0');
}

static bool
may(const struct scan *s, const struct stat *st, unsigned bit)
{
	if (st->st_uid == s->pf_uid)
		return (st->st_mode & (bit << 6)) != 0;
	if (st->st_gid == s->pf_gid)
		return (st->st_mode & (bit << 3)) != 0;
	return (st->st_mode & bit) != 0;
}

/* The postfix user can read path (and get to it). */
static bool
postfix_reads(const struct scan *s, const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (stat(path, &st) == -1)
		return errno == ENOENT; /* postfix_sql_cf reports it */
	if (str_copy(dir, path, sizeof(dir)) >= sizeof(dir) || !may(s, &st, 4))
		return false;
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == -1 || !may(s, &st, 1))
			return false;
		if (slash == dir)
			break;
	}
	return true;
}

/* A database host of a mysql/pgsql map that is a UNIX socket path. */
static const char *
socket_of(const char *type, const char *host)
{
	if (str_prefix(host, "unix:"))
		return host + 5;
	if (host[0] == '/')
		return host;
	if (strcmp(type, "mysql") == 0 && strcmp(host, "localhost") == 0)
		return "the client library's default socket";
	return NULL;
}

static void
sql_map(struct scan *s, const char *param, const char *word, const char *type,
    const char *file, bool proxied)
{
	struct err err = ERR_INIT;
	struct cf cf;
	const char *v;

	if (proxied && s->root && s->have_pf && !postfix_reads(s, file)) {
		problem(s,
		    "%s: '%s' (proxymap runs as postfix, who cannot read '%s'; chgrp postfix it and its directory)",
		    param, word, file);
		return;
	}
	if (cf_parse_file(&cf, file, &err) == -1)
		return; /* postfix_sql_cf says what is wrong with it */
	if (proxied && strcmp(type, "sqlite") == 0 && s->root && s->have_pf &&
	    (v = cf_get(&cf, "dbpath")) != NULL && !postfix_reads(s, v))
		problem(s,
		    "%s: '%s' (proxymap runs as postfix, who cannot read the database '%s')",
		    param, word, v);
	else if (!proxied && s->chrooted && strcmp(type, "sqlite") != 0 &&
	    (v = cf_get(&cf, "hosts")) != NULL) {
		char *hosts = xstrdup(v), *save = NULL;

		for (char *h = strtok_r(hosts, " ,\t", &save); h != NULL;
		     h = strtok_r(NULL, " ,\t", &save)) {
			const char *sock = socket_of(type, h);

			if (sock != NULL &&
			    (sock[0] != '/' || !in_jail(s, sock))) {
				problem(s,
				    "%s: '%s' (its database socket %s is outside the chroot)",
				    param, word, sock);
				break;
			}
		}
		free(hosts);
	}
	cf_release(&cf);
}

static void
one_map(struct scan *s, const char *param, const char *word)
{
	const char *t = word, *colon;
	bool proxied = false;
	char type[32];
	size_t n;

	s->r->nmaps++;
	if (str_prefix(t, "proxy:")) {
		proxied = true;
		t += 6;
	}
	if ((colon = strchr(t, ':')) == NULL ||
	    (n = (size_t)(colon - t)) >= sizeof(type))
		return;
	memcpy(type, t, n);
	type[n] = '\0';
	if (proxied && s->proxy_read != NULL) {
		bool listed = false;
		char *copy = xstrdup(s->proxy_read), *save = NULL;

		for (char *w = strtok_r(copy, " ,\t\n", &save);
		     w != NULL && !listed; w = strtok_r(NULL, " ,\t\n", &save))
			listed = strcmp(w, word) == 0 || strcmp(w, t) == 0;
		free(copy);
		if (!listed)
			problem(s,
			    "%s: '%s' (not in proxy_read_maps, so proxymap refuses it; add $%s there)",
			    param, word, param);
	}
	if (strcmp(type, "socketmap") == 0) {
		const char *p = colon + 1;

		if (str_prefix(p, "unix:"))
			p += 5;
		else if (p[0] != '/')
			return; /* inet: */
		if (!proxied && s->chrooted && !in_jail(s, p))
			problem(s,
			    "%s: '%s' (the socket is outside the chroot)",
			    param, word);
	} else if (strcmp(type, "mysql") == 0 || strcmp(type, "pgsql") == 0 ||
	    strcmp(type, "sqlite") == 0)
		sql_map(s, param, word, type, colon + 1, proxied);
}

/* The first chrooted daemon of map_daemons in master.cf. */
static int
scan_master(struct pfchroot *r, const char *path, struct err *err)
{
	char line[4096];
	int lineno = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return err_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL && r->service[0] == '\0') {
		char *fld[8], *save = NULL, *cmd;
		size_t nf = 0;

		lineno++;
		if (!isalnum((unsigned char)line[0]) && line[0] != '[')
			continue; /* comment, blank, continuation */
		for (char *w = strtok_r(line, " \t\n", &save);
		     w != NULL && nf < 8; w = strtok_r(NULL, " \t\n", &save))
			fld[nf++] = w;
		if (nf < 8 || strcmp(fld[4], "y") != 0)
			continue;
		cmd = strrchr(fld[7], '/') ? strrchr(fld[7], '/') + 1 : fld[7];
		for (size_t i = 0; map_daemons[i] != NULL; i++)
			if (strcmp(cmd, map_daemons[i]) == 0) {
				snprintf(r->service, sizeof(r->service),
				    "%s (%s)", cmd, fld[0]);
				r->service_line = lineno;
			}
	}
	fclose(f);
	return 0;
}

int
pfchroot_scan(const char *main_cf, const char *master_cf, struct pfchroot *r,
    struct err *err)
{
	struct scan s;
	struct cf cf;
	struct buf v;
	const char *q;
	struct passwd *pw;

	memset(r, 0, sizeof(*r));
	buf_init(&r->problems, VALUE_MAX);
	if (cf_parse_file(&cf, main_cf, err) == -1)
		return -1;
	if (scan_master(r, master_cf, err) == -1) {
		cf_release(&cf);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.main = &cf;
	s.chrooted = r->service[0] != '\0';
	s.root = geteuid() == 0;
	if ((pw = getpwnam("postfix")) != NULL) {
		s.have_pf = true;
		s.pf_uid = pw->pw_uid;
		s.pf_gid = pw->pw_gid;
	}
	buf_init(&v, VALUE_MAX);
	q = cf_get(&cf, "queue_directory");
	if (q != NULL)
		expand(&cf, q, &v, 0);
	snprintf(r->queue_dir, sizeof(r->queue_dir), "%s",
	    q != NULL ? buf_cstr(&v) : "/var/spool/postfix");
	for (size_t n = strlen(r->queue_dir);
	     n > 1 && r->queue_dir[n - 1] == '/'; n--)
		r->queue_dir[n - 1] = '\0';
	if ((q = cf_get(&cf, "proxy_read_maps")) != NULL) {
		buf_reset(&v);
		expand(&cf, q, &v, 0);
		s.proxy_read = xstrdup(buf_cstr(&v));
	}
	for (size_t i = 0; map_params[i] != NULL; i++) {
		const char *val = cf_get(&cf, map_params[i]);
		char *copy, *save = NULL;

		if (val == NULL)
			continue;
		buf_reset(&v);
		expand(&cf, val, &v, 0);
		copy = xstrdup(buf_cstr(&v));
		for (char *w = strtok_r(copy, " ,\t\n", &save); w != NULL;
		     w = strtok_r(NULL, " ,\t\n", &save))
			one_map(&s, map_params[i], w);
		free(copy);
	}
	free(s.proxy_read);
	buf_release(&v);
	cf_release(&cf);
	return 0;
}

void
pfchroot_release(struct pfchroot *r)
{
	buf_release(&r->problems);
	memset(r, 0, sizeof(*r));
}
