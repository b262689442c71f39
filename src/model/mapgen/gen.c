/*
 * Helpers the renderers share: adding a file to the set, values safe to
 * write unquoted, the database's first host, map and socket references.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cf.h"
#include "maildir.h"
#include "mapgen.h"
#include "strutil.h"
#include "xalloc.h"
#include "gen.h"

#include "banned.h"

bool
selected(const struct gen *g, const char *artefact)
{
	return (g->only == NULL || listed(g->only, artefact)) &&
	    (g->skip == NULL || !listed(g->skip, artefact));
}

/*
 * A new file of the set, or NULL when the artefact is not selected.  rel is
 * "postfix/x", "dovecot/x" or "podop/x".
 */
struct buf *
add_file(struct gen *g, const char *artefact, const char *rel, mode_t mode)
{
	struct mapgen_set *s = g->set;
	struct mapgen_file *f;
	const char *slash = strchr(rel, '/');

	if (!selected(g, artefact))
		return NULL;
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->artefact = artefact;
	f->path = xstrdup(rel);
	f->mode = mode;
	if (str_prefix(rel, "postfix/"))
		f->installed = xasprintf("%s/%s", g->o->postfix_dir, slash + 1);
	else if (str_prefix(rel, "dovecot/"))
		f->installed = xasprintf("%s/%s", g->o->dovecot_dir, slash + 1);
	buf_init(&f->data, 1024 * 1024);
	return &f->data;
}

/*
 * Paths and names end up unquoted in files of three syntaxes: allow only
 * characters none of them treats specially.
 */
int
plain(const char *what, const char *v, struct err *err)
{
	for (const char *p = v; *p != '\0'; p++)
		if (strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@:=,",
			*p) == NULL) {
			err_set(err, ERR_INVALID,
			    "%s '%s' contains '%c', which the generated files cannot carry",
			    what, v, *p);
			return err_hint(err,
			    "use a value of letters, digits and /._-+@:=,");
		}
	return 0;
}

/* A database credential, for Dovecot's space-separated connect string. */
int
secret_plain(const char *what, const char *v, struct err *err)
{
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("\"'\\#%$", *p) != NULL) {
			err_set(err, ERR_INVALID,
			    "the database %s contains a character Dovecot's connect string cannot carry",
			    what);
			return err_hint(err,
			    "use a password without blanks, quotes, backslashes, '#', '%%' or '$', or --skip dovecot");
		}
	return 0;
}

/*
 * A database credential for Dovecot 2.4, which has no connect string: any
 * character a quoted value can hold, which is all but control characters.
 */
int
secret_24(const char *what, const char *v, struct err *err)
{
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f) {
			err_set(err, ERR_INVALID,
			    "the database %s contains a control character, which a Dovecot setting cannot carry",
			    what);
			return err_hint(err,
			    "use a password without control characters, or --skip dovecot");
		}
	return 0;
}

/*
 * v as a Dovecot 2.4 quoted value: '"' and '\' escaped with '\', and a
 * run of '%' before '{' one longer, since 2.4 expands %{...} in settings
 * and reads "%%{" as a literal "%{" (other '%' stand for themselves).
 */
void
quote_24(struct buf *b, const char *v)
{
	buf_putc(b, '"');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '%' && (p == v || p[-1] != '%') &&
		    p[strspn(p, "%")] == '{')
			buf_putc(b, '%');
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

const char *
engine_regexp(enum db_engine e)
{
	return db_engine_regexp_op(e);
}

/* The first entry of hosts; returns how many there are. */
size_t
first_host(const char *hosts, struct host *h)
{
	const char *p = hosts != NULL ? hosts : "";
	char tok[PATH_MAX];
	size_t n = 0, l;

	memset(h, 0, sizeof(*h));
	str_copy(h->name, "localhost", sizeof(h->name));
	while (*p != '\0') {
		p += strspn(p, " \t,\n");
		if ((l = strcspn(p, " \t,\n")) == 0)
			break;
		if (n++ == 0 && l < sizeof(tok)) {
			char *t = tok, *colon;

			snprintf(tok, sizeof(tok), "%.*s", (int)l, p);
			if (str_prefix(t, "unix:") || t[0] == '/') {
				h->socket = true;
				str_copy(h->name, t[0] == '/' ? t : t + 5,
				    sizeof(h->name));
			} else {
				if (str_prefix(t, "inet:"))
					t += 5;
				if (t[0] == '[' && strchr(t, ']') != NULL) {
					char *end = strchr(t, ']');

					*end = '\0';
					colon = end[1] == ':' ? end + 1 : NULL;
					t++;
				} else if ((colon = strrchr(t, ':')) != NULL &&
				    strchr(t, ':') != colon)
					colon = NULL; /* bare IPv6 */
				if (colon != NULL) {
					*colon = '\0';
					(void)str_to_int(
					    colon + 1, 1, 65535, &h->port);
				}
				str_copy(h->name, t, sizeof(h->name));
			}
		}
		p += l;
	}
	return n;
}

/* PostgreSQL names a socket by its directory (and the port by .s.PGSQL.N). */
void
pg_socket(struct host *h)
{
	char *base = strrchr(h->name, '/');

	if (base != NULL && str_prefix(base + 1, ".s.PGSQL.")) {
		(void)str_to_int(base + 10, 1, 65535, &h->port);
		*base = '\0';
		if (h->name[0] == '\0')
			str_copy(h->name, "/", sizeof(h->name));
	}
}

/* The SQL of the routes map: NULL when the engine has no operator. */
char *
routes_sql(enum db_engine e)
{
	const char *op = engine_regexp(e);

	if (op == NULL)
		return NULL;
	return xasprintf(
	    "SELECT transport FROM routes WHERE domain = '%%d' "
	    "AND active = '1' AND '%%s' %s pattern ORDER BY priority, pattern "
	    "LIMIT 1",
	    op);
}

/* "a || b" or CONCAT(a, b) for the engine. */
const char *
concat_open(const struct gen *g)
{
	return g->p->engine == DB_ENGINE_MYSQL ? "CONCAT(" : "(";
}

const char *
concat_sep(const struct gen *g)
{
	return g->p->engine == DB_ENGINE_MYSQL ? ", " : " || ";
}

/*
 * Debian's stock master.cf runs smtpd, cleanup and trivial-rewrite
 * chrooted in the queue directory, where neither podop's socket nor a
 * MariaDB or PostgreSQL socket is reachable: those maps go through
 * proxymap(8) ("proxy:"), which runs outside the chroot as the postfix
 * user.  Postfix's default proxy_read_maps lists every parameter set here.
 * An SQLite map stays direct: Postfix opens it as root before entering the
 * chroot, while proxymap would need the database readable by postfix.
 */
void
map_ref(struct gen *g, struct buf *b, const char *file)
{
	buf_printf(b, "%s%s:%s/%s",
	    g->p->engine == DB_ENGINE_SQLITE ? "" : "proxy:", g->type,
	    g->o->postfix_dir, file);
}

void
sock_ref(struct gen *g, struct buf *b, const char *table)
{
	const char *s = g->o->podop_socket;

	if (str_prefix(s, "unix:") || str_prefix(s, "inet:"))
		buf_printf(b, "proxy:socketmap:%s:%s", s, table);
	else if (s[0] == '/')
		buf_printf(b, "proxy:socketmap:unix:%s:%s", s, table);
	else
		buf_printf(b, "proxy:socketmap:inet:%s:%s", s, table);
}
