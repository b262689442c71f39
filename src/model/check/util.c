/*
 * Small helpers of the probes: samples of offenders, an arena, a string map,
 * plurals, user names, words, directory entries.
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

void
sample_init(struct sample *s)
{
	s->n = 0;
	s->closed = false;
	buf_init(&s->b, 64 * 1024);
}

void
sample_release(struct sample *s)
{
	buf_release(&s->b);
}

void
sample_add(struct sample *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n++ >= SAMPLE_MAX)
		return;
	if (s->n > 1)
		buf_puts(&s->b, ", ");
	va_start(ap, fmt);
	buf_vprintf(&s->b, fmt, ap);
	va_end(ap);
}

const char *
sample_text(struct sample *s)
{
	if (!s->closed && s->n > SAMPLE_MAX)
		buf_printf(&s->b, " and %zu more", s->n - SAMPLE_MAX);
	s->closed = true;
	return buf_cstr(&s->b);
}

char *
arena_dup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (a->head == NULL || a->head->size - a->head->used < n) {
		size_t sz = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		struct chunk *c = xmalloc(sizeof(*c) + sz);

		c->next = a->head;
		c->used = 0;
		c->size = sz;
		a->head = c;
	}
	p = a->head->data + a->head->used;
	memcpy(p, s, n);
	a->head->used += n;
	return p;
}

void
arena_release(struct arena *a)
{
	while (a->head != NULL) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

static uint64_t
smap_hash(const char *s, bool nocase)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (nocase && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + 32);
		h ^= ch;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
smap_eq(const struct smap *m, const char *a, const char *b)
{
	return m->nocase ? str_eq_nocase(a, b) : strcmp(a, b) == 0;
}

void
smap_init(struct smap *m, bool nocase)
{
	m->v = NULL;
	m->cap = 0;
	m->n = 0;
	m->nocase = nocase;
}

void
smap_release(struct smap *m)
{
	free(m->v);
	smap_init(m, m->nocase);
}

static struct slot *
smap_find(const struct smap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = (size_t)smap_hash(key, m->nocase) & (m->cap - 1);
	while (m->v[i].key != NULL) {
		if (smap_eq(m, m->v[i].key, key))
			return &m->v[i];
		i = (i + 1) & (m->cap - 1);
	}
	return &m->v[i];
}

static void
smap_grow(struct smap *m)
{
	struct slot *old = m->v;
	size_t oldcap = m->cap;

	m->cap = oldcap == 0 ? 64 : oldcap * 2;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (size_t i = 0; i < oldcap; i++) {
		struct slot *s;

		if (old[i].key == NULL)
			continue;
		s = smap_find(m, old[i].key);
		*s = old[i];
	}
	free(old);
}

/* Insert key (kept, not copied); false when it was already there. */
bool
smap_put(struct smap *m, const char *key, size_t val)
{
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap)
		smap_grow(m);
	s = smap_find(m, key);
	if (s->key != NULL)
		return false;
	s->key = key;
	s->val = val;
	m->n++;
	return true;
}

bool
smap_get(const struct smap *m, const char *key, size_t *val_r)
{
	const struct slot *s = smap_find(m, key);

	if (s == NULL || s->key == NULL)
		return false;
	if (val_r != NULL)
		*val_r = s->val;
	return true;
}

const char *
plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The user name for a uid, or "uid N". */
const char *
uid_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

/* The first word of s (skipping blanks) into w; returns what follows. */
const char *
next_word(const char *s, char *w, size_t size)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strcspn(s, " \t\r\n");
	snprintf(w, size, "%.*s", (int)n, s);
	return s + n;
}

/* An entry's type without following it. */
int
entry_type(int dirfd, const struct dirent *e)
{
	struct stat st;

#ifdef _DIRENT_HAVE_D_TYPE
	if (e->d_type == DT_DIR)
		return T_DIR;
	if (e->d_type == DT_LNK)
		return T_LINK;
	if (e->d_type != DT_UNKNOWN)
		return T_OTHER;
#endif
	if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return T_GONE;
	if (S_ISDIR(st.st_mode))
		return T_DIR;
	if (S_ISLNK(st.st_mode))
		return T_LINK;
	return T_OTHER;
}

bool
dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

int
sample_query(struct ctx *c, const char *sql, const struct db_arg *args,
    size_t nargs, struct sample *s, const char *label, struct err *err)
{
	struct db_res *r;
	int rc;

	if (db_query(c->db, sql, args, nargs, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		if (label != NULL)
			sample_add(s, "%s '%s'", label, col(r, 0));
		else
			sample_add(s, "'%s'", col(r, 0));
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}
