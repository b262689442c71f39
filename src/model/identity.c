#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "strutil.h"
#include "banned.h"

static int
text_ok(const char *what, const char *s, size_t max, struct err *err)
{
	if (s == NULL || *s == '\0')
		return err_set(err, ERR_INVALID, "the %s is empty", what);
	if (strlen(s) >= max)
		return err_set(err, ERR_INVALID,
		    "the %s is longer than %zu bytes", what, max - 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_INVALID,
			    "the %s contains control characters", what);
	return 0;
}

int
identity_valid(const char *issuer, const char *subject, struct err *err)
{
	if (text_ok("identity issuer", issuer, IDENTITY_ISSUER_MAX, err) == -1)
		return -1;
	return text_ok("identity subject", subject, IDENTITY_SUBJECT_MAX, err);
}

int
identity_find(struct model *m, const char *issuer, const char *subject,
    char *username, size_t size, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(issuer), DB_TEXT(subject) };
	char *v = NULL;
	int r;

	r = db_query_value(m->db,
	    "SELECT username FROM postino_identity WHERE issuer = ? AND "
	    "subject = ?",
	    a, DB_NARGS(a), &v, err);
	if (r == 1)
		str_copy(username, v != NULL ? v : "", size);
	free(v);
	return r;
}

int
identity_subject(struct model *m, const char *issuer, const char *username,
    char *subject, size_t size, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(issuer), DB_TEXT(username) };
	char *v = NULL;
	int r;

	r = db_query_value(m->db,
	    "SELECT subject FROM postino_identity WHERE issuer = ? AND "
	    "username = ?",
	    a, DB_NARGS(a), &v, err);
	if (r == 1)
		str_copy(subject, v != NULL ? v : "", size);
	free(v);
	return r;
}

struct link_ctx {
	const char *issuer, *subject, *username;
};

static int
link_tx(struct model *m, void *arg, struct err *err)
{
	struct link_ctx *c = arg;
	char other[IDENTITY_SUBJECT_MAX > ADDR_MAX ? IDENTITY_SUBJECT_MAX
						   : ADDR_MAX];
	char now[32];
	int r;

	if ((r = identity_find(
		 m, c->issuer, c->subject, other, sizeof(other), err)) == -1)
		return -1;
	if (r == 1) {
		if (strcmp(other, c->username) == 0)
			return 0;
		return err_set(err, ERR_EXISTS,
		    "%s subject '%s' already belongs to the mailbox '%s'",
		    c->issuer, c->subject, other);
	}
	if ((r = identity_subject(
		 m, c->issuer, c->username, other, sizeof(other), err)) == -1)
		return -1;
	if (r == 1)
		return err_set(err, ERR_EXISTS,
		    "the mailbox '%s' already belongs to %s subject '%s'",
		    c->username, c->issuer, other);
	{
		struct db_arg a[] = { DB_TEXT(c->issuer), DB_TEXT(c->subject),
			DB_TEXT(c->username),
			DB_TEXT(db_now(now, sizeof(now))) };

		return db_exec(m->db,
			   "INSERT INTO postino_identity (issuer, subject, "
			   "username, created) VALUES (?, ?, ?, ?)",
			   a, DB_NARGS(a), err) == -1
		    ? -1
		    : 0;
	}
}

int
identity_link(struct model *m, const char *issuer, const char *subject,
    const char *username, struct err *err)
{
	struct link_ctx c = { issuer, subject, username };

	if (identity_valid(issuer, subject, err) == -1)
		return -1;
	return model_tx(m, link_tx, &c, err);
}

static int
set_tx(struct model *m, void *arg, struct err *err)
{
	struct link_ctx *c = arg;
	struct db_arg a[] = { DB_TEXT(c->issuer), DB_TEXT(c->username) };
	char cur[IDENTITY_SUBJECT_MAX];
	int r;

	if ((r = identity_subject(
		 m, c->issuer, c->username, cur, sizeof(cur), err)) == -1)
		return -1;
	if (r == 1 && c->subject != NULL && strcmp(cur, c->subject) == 0)
		return 0;
	if (r == 1 &&
	    db_exec(m->db,
		"DELETE FROM postino_identity WHERE issuer = ? AND "
		"username = ?",
		a, DB_NARGS(a), err) == -1)
		return -1;
	if (c->subject == NULL)
		return 0;
	return link_tx(m, c, err);
}

int
identity_set(struct model *m, const char *issuer, const char *username,
    const char *subject, struct err *err)
{
	struct link_ctx c = { issuer, subject, username };

	if (subject != NULL && *subject == '\0')
		c.subject = NULL;
	if (c.subject != NULL && identity_valid(issuer, subject, err) == -1)
		return -1;
	return model_tx(m, set_tx, &c, err);
}

int
identity_names(struct model *m, const char *issuer, const char *subject,
    char *given, char *family, size_t size, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(issuer), DB_TEXT(subject) };
	struct db_res *r;
	int rc;

	if (db_query(m->db,
		"SELECT given_name, family_name FROM postino_identity WHERE "
		"issuer = ? AND subject = ?",
		a, DB_NARGS(a), 0, &r, err) == -1)
		return -1;
	if ((rc = db_next(r, err)) == 1) {
		str_copy(given, db_col(r, 0) ? db_col(r, 0) : "", size);
		str_copy(family, db_col(r, 1) ? db_col(r, 1) : "", size);
	}
	db_res_free(&r);
	return rc;
}

int
identity_set_names(struct model *m, const char *issuer, const char *subject,
    const char *given, const char *family, struct err *err)
{
	struct db_arg g[] = { DB_TEXT(given), DB_TEXT(issuer),
		DB_TEXT(subject) };
	struct db_arg f[] = { DB_TEXT(family), DB_TEXT(issuer),
		DB_TEXT(subject) };

	if (given != NULL &&
	    db_exec(m->db,
		"UPDATE postino_identity SET given_name = ? WHERE issuer = ? "
		"AND subject = ?",
		g, DB_NARGS(g), err) == -1)
		return -1;
	if (family != NULL &&
	    db_exec(m->db,
		"UPDATE postino_identity SET family_name = ? WHERE issuer = ? "
		"AND subject = ?",
		f, DB_NARGS(f), err) == -1)
		return -1;
	return 0;
}

int
identity_foreach(struct model *m, const char *username, identity_each_fn *fn,
    void *arg, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(username) };
	struct db_res *r;
	int rc;

	if (db_query(m->db,
		username != NULL
		    ? "SELECT issuer, subject, username, created FROM "
		      "postino_identity WHERE username = ? ORDER BY issuer"
		    : "SELECT issuer, subject, username, created FROM "
		      "postino_identity ORDER BY username, issuer",
		a, username != NULL ? 1 : 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct identity_rec rec;

		memset(&rec, 0, sizeof(rec));
		str_copy(rec.issuer, db_col(r, 0) ? db_col(r, 0) : "",
		    sizeof(rec.issuer));
		str_copy(rec.subject, db_col(r, 1) ? db_col(r, 1) : "",
		    sizeof(rec.subject));
		str_copy(rec.username, db_col(r, 2) ? db_col(r, 2) : "",
		    sizeof(rec.username));
		str_copy(rec.created, db_col(r, 3) ? db_col(r, 3) : "",
		    sizeof(rec.created));
		if (fn(arg, &rec) == -1) {
			rc = err_set(
			    err, ERR_INTERNAL, "identity listing stopped");
			break;
		}
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

int
identity_rename(
    struct model *m, const char *from, const char *to, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(to), DB_TEXT(from) };

	return db_exec(m->db,
		   "UPDATE postino_identity SET username = ? WHERE "
		   "username = ?",
		   a, DB_NARGS(a), err) == -1
	    ? -1
	    : 0;
}

int
identity_drop(struct model *m, const char *username, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(username) };

	return db_exec(m->db, "DELETE FROM postino_identity WHERE username = ?",
		   a, 1, err) == -1
	    ? -1
	    : 0;
}

/* --- the export's encoding -------------------------------------------- */

static size_t
enc_part(char *out, size_t size, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '%') {
			if (n + 3 < size) {
				out[n] = '%';
				out[n + 1] = hex[*p >> 4];
				out[n + 2] = hex[*p & 15];
			}
			n += 3;
		} else {
			if (n + 1 < size)
				out[n] = (char)*p;
			n++;
		}
	}
	return n;
}

int
identity_encode(char *out, size_t size, const char *issuer, const char *subject)
{
	size_t n = strlen(out);

	if (n > 0) {
		if (n + 1 < size)
			out[n] = ' ';
		n++;
	}
	n = enc_part(out, size, n, issuer);
	if (n + 1 < size)
		out[n] = ' ';
	n = enc_part(out, size, n + 1, subject);
	if (n >= size)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Decode one space-free word from *p into out; -1 malformed or long. */
static int
dec_word(const char **p, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	while (*s != '\0' && *s != ' ') {
		int c = (unsigned char)*s;

		if (c == '%') {
			int hi = str_hexval((unsigned char)s[1]),
			    lo = hi < 0 ? -1 : str_hexval((unsigned char)s[2]);

			if (hi < 0 || lo < 0)
				return -1;
			c = hi << 4 | lo;
			s += 2;
		}
		if (c == 0 || n + 1 >= size)
			return -1;
		out[n++] = (char)c;
		s++;
	}
	out[n] = '\0';
	*p = s;
	return n > 0 ? 0 : -1;
}

int
identity_decode_next(
    const char **p, char *issuer, size_t isize, char *subject, size_t ssize)
{
	while (**p == ' ')
		(*p)++;
	if (**p == '\0')
		return 0;
	if (dec_word(p, issuer, isize) == -1 || **p != ' ')
		return -1;
	(*p)++;
	if (dec_word(p, subject, ssize) == -1)
		return -1;
	return 1;
}

/* --- check ---------------------------------------------------------- */

static void
sample_add(char *buf, size_t size, size_t nth, const char *item)
{
	size_t l = strlen(buf);

	if (nth > 5) {
		if (nth == 6 && l + 5 < size)
			snprintf(buf + l, size - l, ", ...");
		return;
	}
	snprintf(buf + l, size - l, "%s%s", l ? ", " : "", item);
}

int
identity_problems(struct db *db, struct identity_problems *p, struct err *err)
{
	struct db_res *r;
	int rc;

	memset(p, 0, sizeof(*p));
	if (db_query(db,
		"SELECT i.issuer, i.subject, i.username FROM postino_identity "
		"i LEFT JOIN mailbox m ON m.username = i.username WHERE "
		"m.username IS NULL ORDER BY i.username",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		char item[600];

		snprintf(item, sizeof(item), "'%.200s' (%.100s %.200s)",
		    db_col(r, 2), db_col(r, 0), db_col(r, 1));
		sample_add(p->dangling_sample, sizeof(p->dangling_sample),
		    ++p->dangling, item);
	}
	db_res_free(&r);
	if (rc == -1)
		return -1;
	if (db_query(db,
		"SELECT username, issuer, COUNT(*) FROM postino_identity "
		"GROUP BY username, issuer HAVING COUNT(*) > 1 ORDER BY "
		"username",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		char item[600];

		snprintf(item, sizeof(item), "'%.200s' (%lld %.100s subjects)",
		    db_col(r, 0), (long long)db_col_int(r, 2, 0), db_col(r, 1));
		sample_add(p->doubled_sample, sizeof(p->doubled_sample),
		    ++p->doubled, item);
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}
