#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "domain.h"
#include "identity.h"
#include "mailbox.h"
#include "maildir.h"
#include "password.h"
#include "strutil.h"
#include "transfer.h"
#include "xalloc.h"
#include "banned.h"

enum rtype { R_DOMAIN, R_ALIAS_DOMAIN, R_MAILBOX, R_ALIAS, R__COUNT };

static const char *const rtype_names[R__COUNT] = { "domain", "alias_domain",
	"mailbox", "alias" };

/* Every field of every record type; CSV columns are these, in order. */
enum field {
	F_TYPE,
	F_DOMAIN,
	F_DESCRIPTION,
	F_MAX_ALIASES,
	F_MAX_MAILBOXES,
	F_MAX_QUOTA,
	F_DEFAULT_QUOTA,
	F_DOMAIN_QUOTA,
	F_TRANSPORT,
	F_BACKUPMX,
	F_ALIAS_DOMAIN,
	F_TARGET_DOMAIN,
	F_USERNAME,
	F_NAME,
	F_PASSWORD,
	F_PLAIN_PASSWORD,
	F_QUOTA,
	F_BYTES_USED,
	F_MESSAGES,
	F_ADDRESS,
	F_GOTO,
	F_ACTIVE,
	F_CREATED,
	F_MODIFIED,
	F_IDENTITIES,
	F__COUNT
};

static const char *const field_names[F__COUNT] = { "type", "domain",
	"description", "max_aliases", "max_mailboxes", "max_quota_bytes",
	"default_quota_bytes", "domain_quota_bytes", "transport", "backupmx",
	"alias_domain", "target_domain", "username", "name", "password",
	"plain_password", "quota_bytes", "bytes_used", "messages", "address",
	"goto", "active", "created", "modified", "identities" };

/* Which fields each type accepts (bit per field). */
#define B(f) (1u << (f))
static const unsigned type_fields[R__COUNT] = {
	[R_DOMAIN] = B(F_TYPE) | B(F_DOMAIN) | B(F_DESCRIPTION) |
	    B(F_MAX_ALIASES) | B(F_MAX_MAILBOXES) | B(F_MAX_QUOTA) |
	    B(F_DEFAULT_QUOTA) | B(F_DOMAIN_QUOTA) | B(F_TRANSPORT) |
	    B(F_BACKUPMX) | B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED),
	[R_ALIAS_DOMAIN] = B(F_TYPE) | B(F_ALIAS_DOMAIN) | B(F_TARGET_DOMAIN) |
	    B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED),
	[R_MAILBOX] = B(F_TYPE) | B(F_USERNAME) | B(F_NAME) | B(F_PASSWORD) |
	    B(F_PLAIN_PASSWORD) | B(F_QUOTA) | B(F_BYTES_USED) | B(F_MESSAGES) |
	    B(F_ACTIVE) | B(F_CREATED) | B(F_MODIFIED) | B(F_IDENTITIES),
	[R_ALIAS] = B(F_TYPE) | B(F_ADDRESS) | B(F_GOTO) | B(F_ACTIVE) |
	    B(F_CREATED) | B(F_MODIFIED),
};

struct rec {
	enum rtype type;
	int line;
	char *f[F__COUNT];
	char key[ADDR_MAX];	      /* normalised primary key */
	char hash[PASSWORD_HASH_MAX]; /* from plain_password */
};

static void
rec_clear(struct rec *r)
{
	for (int i = 0; i < F__COUNT; i++) {
		if (i == F_PLAIN_PASSWORD || i == F_PASSWORD)
			str_wipe(r->f[i]);
		free(r->f[i]);
	}
	explicit_bzero(r->hash, sizeof(r->hash));
	memset(r, 0, sizeof(*r));
}

/* --- a small string set --------------------------------------------- */

struct strset {
	char **slot;
	size_t cap;
	size_t n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool
strset_has(const struct strset *s, const char *k)
{
	if (s->cap == 0)
		return false;
	for (size_t i = hash_str(k) & (s->cap - 1);;
	     i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i] == NULL)
			return false;
		if (strcmp(s->slot[i], k) == 0)
			return true;
	}
}

static void
strset_add(struct strset *s, const char *k)
{
	if (strset_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct strset big = { NULL, s->cap ? s->cap * 2 : 64, 0 };

		big.slot = xcalloc(big.cap, sizeof(*big.slot));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i] != NULL) {
				size_t j = hash_str(s->slot[i]) & (big.cap - 1);

				while (big.slot[j] != NULL)
					j = (j + 1) & (big.cap - 1);
				big.slot[j] = s->slot[i];
				big.n++;
			}
		free(s->slot);
		*s = big;
	}
	{
		size_t i = hash_str(k) & (s->cap - 1);

		while (s->slot[i] != NULL)
			i = (i + 1) & (s->cap - 1);
		s->slot[i] = xstrdup(k);
		s->n++;
	}
}

static void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* --- export ---------------------------------------------------------- */

int
transfer_format_parse(const char *s, enum transfer_format *f)
{
	if (s == NULL || strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0)
		*f = TRANSFER_JSONL;
	else if (strcmp(s, "csv") == 0)
		*f = TRANSFER_CSV;
	else
		return -1;
	return 0;
}

struct out {
	enum transfer_format fmt;
	transfer_write_fn *write;
	void *arg;
	struct buf line;
};

static void
csv_cell(struct buf *b, const char *v)
{
	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\r\n") == NULL && v[0] != ' ' && v[0] != '\0') {
		buf_puts(b, v);
		return;
	}
	buf_putc(b, '"');
	for (; *v != '\0'; v++) {
		if (*v == '"')
			buf_putc(b, '"');
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

/* Emit one record given as field values (NULL = absent). */
static int
emit(
    struct out *o, const char *const *vals, const bool *is_num, struct err *err)
{
	buf_reset(&o->line);
	if (o->fmt == TRANSFER_CSV) {
		for (int i = 0; i < F__COUNT; i++) {
			if (i > 0)
				buf_putc(&o->line, ',');
			csv_cell(&o->line, vals[i]);
		}
	} else {
		json_t *obj = json_object();
		char *s;

		for (int i = 0; i < F__COUNT; i++) {
			json_t *v;
			int64_t n;

			if (vals[i] == NULL)
				continue;
			if (is_num[i] && str_to_i64(vals[i], &n) == 0)
				v = json_integer(n);
			else if (i == F_ACTIVE || i == F_BACKUPMX)
				v = json_boolean(strcmp(vals[i], "true") == 0);
			else
				v = json_string(vals[i]);
			json_object_set_new(obj, field_names[i], v);
		}
		s = json_dumps(obj,
		    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		json_decref(obj);
		if (s == NULL)
			return err_set(err, ERR_INTERNAL, "cannot encode JSON");
		buf_puts(&o->line, s);
		str_wipe(s);
		free(s);
	}
	if (o->write(o->arg, buf_cstr(&o->line), o->line.len) == -1)
		return err_set(err, ERR_FILESYSTEM,
		    "cannot write the export: "
		    "%s",
		    strerror(errno));
	return 0;
}

static const bool num_fields[F__COUNT] = {
	[F_MAX_ALIASES] = true,
	[F_MAX_MAILBOXES] = true,
	[F_MAX_QUOTA] = true,
	[F_DEFAULT_QUOTA] = true,
	[F_DOMAIN_QUOTA] = true,
	[F_QUOTA] = true,
	[F_BYTES_USED] = true,
	[F_MESSAGES] = true,
};

static const char *
bool_s(const char *v)
{
	return model_bool(v) ? "true" : "false";
}

/* Every identity row, sorted by username, for the mailbox pass. */
struct idlist {
	struct identity_rec *v;
	size_t n, cap;
};

static int
idlist_add(void *arg, const struct identity_rec *r)
{
	struct idlist *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = *r;
	return 0;
}

static int
idlist_cmp(const void *a, const void *b)
{
	const struct identity_rec *x = a, *y = b;
	int c = strcmp(x->username, y->username);

	return c != 0 ? c : strcmp(x->issuer, y->issuer);
}

/* The "identities" value of username into out ("" when none). */
static const char *
idlist_value(
    const struct idlist *l, const char *username, char *out, size_t size)
{
	size_t lo = 0, hi = l->n;

	out[0] = '\0';
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(l->v[mid].username, username) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < l->n && strcmp(l->v[lo].username, username) == 0; lo++)
		(void)identity_encode(
		    out, size, l->v[lo].issuer, l->v[lo].subject);
	return out[0] != '\0' ? out : NULL;
}

static int
export_query(struct model *m, struct out *o, enum rtype t, const char *sql,
    const char *domain, const struct idlist *ids, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(domain), DB_TEXT(domain) };
	/* Only the alias-domain query names the domain twice. */
	size_t na = domain == NULL ? 0 : t == R_ALIAS_DOMAIN ? 2 : 1;
	struct db_res *r;
	int rc;

	if (db_query(m->db, sql, a, na, DB_STREAM, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		const char *v[F__COUNT] = { NULL };
		char n1[32], n2[32], n3[32], idv[TRANSFER_LINE_MAX / 4];

		v[F_TYPE] = rtype_names[t];
		switch (t) {
		case R_DOMAIN:
			v[F_DOMAIN] = db_col(r, 0);
			v[F_DESCRIPTION] = db_col(r, 1) ? db_col(r, 1) : "";
			v[F_MAX_ALIASES] = db_col(r, 2);
			v[F_MAX_MAILBOXES] = db_col(r, 3);
			snprintf(n1, sizeof(n1), "%lld",
			    (long long)domain_units_to_bytes(
				m, db_col_int(r, 4, 0)));
			snprintf(n2, sizeof(n2), "%lld",
			    (long long)domain_units_to_bytes(
				m, db_col_int(r, 5, 0)));
			snprintf(n3, sizeof(n3), "%lld",
			    (long long)db_col_int(r, 11, 0));
			v[F_MAX_QUOTA] = n1;
			v[F_DOMAIN_QUOTA] = n2;
			v[F_DEFAULT_QUOTA] = n3;
			v[F_TRANSPORT] = db_col(r, 6) ? db_col(r, 6) : "";
			v[F_BACKUPMX] = bool_s(db_col(r, 7));
			v[F_ACTIVE] = bool_s(db_col(r, 8));
			v[F_CREATED] = db_col(r, 9);
			v[F_MODIFIED] = db_col(r, 10);
			break;
		case R_ALIAS_DOMAIN:
			v[F_ALIAS_DOMAIN] = db_col(r, 0);
			v[F_TARGET_DOMAIN] = db_col(r, 1);
			v[F_ACTIVE] = bool_s(db_col(r, 2));
			v[F_CREATED] = db_col(r, 3);
			v[F_MODIFIED] = db_col(r, 4);
			break;
		case R_MAILBOX:
			v[F_USERNAME] = db_col(r, 0);
			v[F_NAME] = db_col(r, 1) ? db_col(r, 1) : "";
			v[F_PASSWORD] = db_col(r, 2) ? db_col(r, 2) : "";
			v[F_QUOTA] = db_col(r, 3);
			v[F_ACTIVE] = bool_s(db_col(r, 4));
			v[F_CREATED] = db_col(r, 5);
			v[F_MODIFIED] = db_col(r, 6);
			v[F_BYTES_USED] = db_col(r, 7);
			v[F_MESSAGES] = db_col(r, 8);
			v[F_IDENTITIES] =
			    idlist_value(ids, db_col(r, 0), idv, sizeof(idv));
			break;
		default:
			v[F_ADDRESS] = db_col(r, 0);
			v[F_GOTO] = db_col(r, 1) ? db_col(r, 1) : "";
			v[F_ACTIVE] = bool_s(db_col(r, 2));
			v[F_CREATED] = db_col(r, 3);
			v[F_MODIFIED] = db_col(r, 4);
			break;
		}
		if (emit(o, v, num_fields, err) == -1) {
			rc = -1;
			break;
		}
	}
	db_res_free(&r);
	return rc == -1 ? -1 : 0;
}

int
transfer_export(struct model *m, const char *domain, enum transfer_format fmt,
    transfer_write_fn *write, void *arg, struct err *err)
{
	char norm[ADDR_MAX], sql[4][768];
	const char *d = NULL;
	struct out o = { fmt, write, arg, { NULL, 0, 0, 0 } };
	struct idlist ids = { NULL, 0, 0 };
	int rc = -1;

	if (domain != NULL) {
		if (addr_domain("domain", domain, norm, err) == -1)
			return -1;
		d = norm;
	}
	buf_init(&o.line, TRANSFER_LINE_MAX * 2);
	snprintf(sql[0], sizeof(sql[0]),
	    "SELECT d.domain, d.description, "
	    "d.aliases, d.mailboxes, d.maxquota, d.quota, d.transport, "
	    "d.backupmx, d.active, d.created, d.modified, "
	    "COALESCE(p.default_quota, 0) FROM domain d LEFT JOIN "
	    "postino_domain p ON p.domain = d.domain AND p.domain_created = "
	    "d.created WHERE d.domain <> 'ALL'"
	    "%s ORDER BY d.domain",
	    d ? " AND d.domain = ?" : "");
	snprintf(sql[1], sizeof(sql[1]),
	    "SELECT alias_domain, target_domain, "
	    "active, created, modified FROM alias_domain%s ORDER BY "
	    "alias_domain",
	    d ? " WHERE alias_domain = ? OR target_domain = ?" : "");
	snprintf(sql[2], sizeof(sql[2]),
	    "SELECT m.username, m.name, "
	    "m.password, m.quota, m.active, m.created, m.modified, "
	    "COALESCE(q.bytes, 0), COALESCE(q.messages, 0) FROM mailbox m "
	    "LEFT JOIN quota2 q ON q.username = m.username%s ORDER BY "
	    "m.username",
	    d ? " WHERE m.domain = ?" : "");
	/* Mailbox self-aliases are implied by their mailboxes. */
	snprintf(sql[3], sizeof(sql[3]),
	    "SELECT a.address, a.goto, a.active, "
	    "a.created, a.modified FROM alias a LEFT JOIN mailbox m ON "
	    "m.username = a.address WHERE (m.username IS NULL OR a.goto <> "
	    "a.address)%s ORDER BY a.address",
	    d ? " AND a.domain = ?" : "");
	if (fmt == TRANSFER_CSV) {
		buf_reset(&o.line);
		for (int i = 0; i < F__COUNT; i++)
			buf_printf(
			    &o.line, "%s%s", i ? "," : "", field_names[i]);
	} else {
		char now[32];

		buf_reset(&o.line);
		buf_printf(&o.line,
		    "{\"type\":\"postino-export\","
		    "\"version\":%d,\"created\":\"%s\",\"engine\":\"%s\"}",
		    TRANSFER_VERSION, db_now(now, sizeof(now)),
		    db_engine_name(db_engine(m->db)));
	}
	if (write(arg, buf_cstr(&o.line), o.line.len) == -1) {
		err_set(err, ERR_FILESYSTEM, "cannot write the export: %s",
		    strerror(errno));
		goto out;
	}
	if (identity_foreach(m, NULL, idlist_add, &ids, err) == -1)
		goto out;
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof(*ids.v), idlist_cmp);
	for (int t = 0; t < R__COUNT; t++)
		if (export_query(m, &o, (enum rtype)t, sql[t], d, &ids, err) ==
		    -1)
			goto out;
	rc = 0;
out:
	free(ids.v);
	buf_release(&o.line);
	return rc;
}

/* --- import: reading records ---------------------------------------- */

struct reader {
	FILE *f;
	const char *name;
	enum transfer_format fmt;
	int line;
	int cols[F__COUNT + 8]; /* CSV column -> field */
	int ncols;
	char *buf;
	size_t cap;
};

/*
 * Read one line (without the newline); 1 ok, 0 EOF, -1 too long.  The
 * stream is this reader's alone: getc_unlocked, not a lock per byte.
 */
static int
read_line(struct reader *rd)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(rd->f)) != EOF) {
		if (c == '\n')
			break;
		if (n + 2 > TRANSFER_LINE_MAX) {
			while ((c = getc_unlocked(rd->f)) != EOF && c != '\n')
				;
			rd->line++;
			return -1;
		}
		if (n + 2 > rd->cap)
			rd->buf =
			    xrealloc(rd->buf, rd->cap = rd->cap * 2 + 256);
		rd->buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (rd->buf == NULL)
		rd->buf = xmalloc(rd->cap = 256);
	if (n > 0 && rd->buf[n - 1] == '\r')
		n--;
	rd->buf[n] = '\0';
	rd->line++;
	return 1;
}

static int
field_index(const char *name)
{
	for (int i = 0; i < F__COUNT; i++)
		if (strcmp(field_names[i], name) == 0)
			return i;
	return -1;
}

/* Split a CSV line into cells (RFC 4180 quoting, no embedded newlines). */
static int
csv_split(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *start;

		if (n >= max)
			return -1;
		if (*p == '"') {
			char *o;

			start = o = ++p;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*o++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*o++ = *p++;
			}
			if (*p != ',' && *p != '\0')
				return -1;
			*o = '\0';
		} else {
			start = p;
			while (*p != ',' && *p != '\0') {
				if (*p == '"')
					return -1;
				p++;
			}
		}
		cells[n++] = start;
		if (*p == '\0')
			break;
		*p++ = '\0';
		if (*p == '\0') {
			if (n >= max)
				return -1;
			cells[n++] = p;
			break;
		}
	}
	return n;
}

static int
rd_err(struct reader *rd, struct err *err, const char *msg)
{
	return err_set(err, ERR_INVALID, "%s:%d: %s", rd->name, rd->line, msg);
}

/* Parse the header; 0 ok, -1 error. */
static int
read_header(struct reader *rd, struct err *err)
{
	int r = read_line(rd);

	if (r == 0)
		return err_set(err, ERR_INVALID, "%s: empty input", rd->name);
	if (r == -1)
		return rd_err(rd, err, "line too long");
	if (rd->fmt == TRANSFER_CSV) {
		char *cells[F__COUNT + 8];
		int n = csv_split(rd->buf, cells, F__COUNT + 8);

		if (n <= 0)
			return rd_err(rd, err, "malformed CSV header");
		for (int i = 0; i < n; i++) {
			int fi = field_index(str_trim(cells[i]));

			if (fi < 0) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "unknown column "
				    "'%.40s'",
				    cells[i]);
				return rd_err(rd, err, msg);
			}
			rd->cols[i] = fi;
		}
		rd->ncols = n;
		if (rd->cols[0] != F_TYPE)
			return rd_err(rd, err,
			    "the first column must be "
			    "'type'");
		return 0;
	} else {
		json_error_t je;
		json_t *h = json_loads(rd->buf, 0, &je);
		json_t *t, *v;
		int rc = 0;

		if (h == NULL || !json_is_object(h) ||
		    (t = json_object_get(h, "type")) == NULL ||
		    !json_is_string(t) ||
		    strcmp(json_string_value(t), "postino-export") != 0)
			rc = rd_err(rd, err,
			    "not a postino export (expected a "
			    "{\"type\":\"postino-export\",...} header line)");
		else if ((v = json_object_get(h, "version")) == NULL ||
		    !json_is_integer(v) ||
		    json_integer_value(v) != TRANSFER_VERSION) {
			char msg[128];

			snprintf(msg, sizeof(msg),
			    "unsupported export version "
			    "(this postino reads version %d)",
			    TRANSFER_VERSION);
			rc = rd_err(rd, err, msg);
		}
		json_decref(h);
		return rc;
	}
}

/* Read the next record; 1 record, 0 EOF, -1 error. */
static int
read_rec(struct reader *rd, struct rec *r, struct err *err)
{
	int rl;

	rec_clear(r);
	do {
		rl = read_line(rd);
		if (rl == 0)
			return 0;
		if (rl == -1)
			return rd_err(rd, err, "line too long");
	} while (str_trim(rd->buf)[0] == '\0');
	r->line = rd->line;
	if (rd->fmt == TRANSFER_CSV) {
		char *cells[F__COUNT + 8];
		int n = csv_split(rd->buf, cells, F__COUNT + 8);

		if (n != rd->ncols)
			return rd_err(rd, err,
			    n < 0 ? "malformed CSV row"
				  : "wrong number of cells");
		for (int i = 0; i < n; i++)
			if (cells[i][0] != '\0')
				r->f[rd->cols[i]] = xstrdup(cells[i]);
	} else {
		json_error_t je;
		json_t *o = json_loads(rd->buf, JSON_REJECT_DUPLICATES, &je);
		const char *k;
		json_t *v;

		if (o == NULL || !json_is_object(o)) {
			char msg[200];

			snprintf(msg, sizeof(msg), "not a JSON object: %s",
			    o == NULL ? je.text : "wrong type");
			json_decref(o);
			return rd_err(rd, err, msg);
		}
		json_object_foreach(o, k, v)
		{
			int fi = field_index(k);
			char num[32];

			if (fi < 0) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "unknown field "
				    "'%.40s'",
				    k);
				json_decref(o);
				return rd_err(rd, err, msg);
			}
			if (json_is_string(v))
				r->f[fi] = xstrdup(json_string_value(v));
			else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%lld",
				    (long long)json_integer_value(v));
				r->f[fi] = xstrdup(num);
			} else if (json_is_boolean(v))
				r->f[fi] =
				    xstrdup(json_is_true(v) ? "true" : "false");
			else if (!json_is_null(v)) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "field '%s' has the "
				    "wrong type",
				    k);
				json_decref(o);
				return rd_err(rd, err, msg);
			}
		}
		json_decref(o);
	}
	if (r->f[F_TYPE] == NULL)
		return rd_err(rd, err, "record without a type");
	for (int t = 0; t < R__COUNT; t++)
		if (strcmp(r->f[F_TYPE], rtype_names[t]) == 0) {
			r->type = (enum rtype)t;
			for (int i = 0; i < F__COUNT; i++)
				if (r->f[i] != NULL &&
				    !(type_fields[t] & B(i))) {
					char msg[128];

					snprintf(msg, sizeof(msg),
					    "field '%s' "
					    "does not belong to a %s",
					    field_names[i], rtype_names[t]);
					return rd_err(rd, err, msg);
				}
			return 1;
		}
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "unknown record type '%.40s'",
		    r->f[F_TYPE]);
		return rd_err(rd, err, msg);
	}
}

/* --- import: validation ---------------------------------------------- */

static int
num(const struct rec *r, int f, int64_t dflt, int64_t min, int64_t *out,
    const char *name, int line, struct err *err)
{
	if (r->f[f] == NULL) {
		*out = dflt;
		return 0;
	}
	if (str_to_i64(r->f[f], out) == -1 || *out < min)
		return err_set(err, ERR_INVALID, "%s:%d: invalid %s '%.32s'",
		    name, line, field_names[f], r->f[f]);
	return 0;
}

static bool
flag(const struct rec *r, int f, bool dflt)
{
	const char *v = r->f[f];

	if (v == NULL)
		return dflt;
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0;
}

static int
check_flag(const struct rec *r, int f, const char *name, struct err *err)
{
	static const char *const ok[] = { "true", "false", "1", "0", "yes",
		"no", NULL };

	if (r->f[f] == NULL)
		return 0;
	for (size_t i = 0; ok[i] != NULL; i++)
		if (strcmp(r->f[f], ok[i]) == 0)
			return 0;
	return err_set(err, ERR_INVALID, "%s:%d: %s must be true or false",
	    name, r->line, field_names[f]);
}

/* Domains known to exist: in the input or in the database (memoised). */
struct known {
	struct strset in_file;
	struct strset in_db;
	struct strset not_in_db;
	bool loaded; /* in_db holds every domain of the database */
};

static int
domain_known(struct model *m, struct known *k, const char *d, struct err *err)
{
	struct db_res *res;
	int r;

	if (strset_has(&k->in_file, d) || strset_has(&k->in_db, d))
		return 1;
	if (k->loaded)
		return 0;
	/* One statement for all, not one per domain the records name. */
	if (db_query(m->db, "SELECT domain FROM domain WHERE domain <> 'ALL'",
		NULL, 0, DB_STREAM, &res, err) == -1)
		return -1;
	while ((r = db_next(res, err)) == 1)
		if (db_col(res, 0) != NULL) {
			char *v = xstrdup(db_col(res, 0));

			/* Names as the database compares them. */
			if (db_engine(m->db) == DB_ENGINE_MYSQL)
				str_lower(v);
			strset_add(&k->in_db, v);
			free(v);
		}
	db_res_free(&res);
	if (r == -1)
		return -1;
	k->loaded = true;
	return strset_has(&k->in_db, d) ? 1 : 0;
}

/* Validate one record; fills r->key.  Messages carry name:line. */
/* Whether an "identities" value decodes (identity.h). */
static int
identities_check(const char *v)
{
	char iss[IDENTITY_ISSUER_MAX], sub[IDENTITY_SUBJECT_MAX];
	struct err e = ERR_INIT;
	int r;

	while ((r = identity_decode_next(
		    &v, iss, sizeof(iss), sub, sizeof(sub))) == 1)
		if (identity_valid(iss, sub, &e) == -1)
			return -1;
	return r;
}

/* Tie the record's identities to its mailbox. */
static int
apply_identities(struct model *m, const struct rec *r, struct err *err)
{
	char iss[IDENTITY_ISSUER_MAX], sub[IDENTITY_SUBJECT_MAX];
	const char *v = r->f[F_IDENTITIES];
	int d;

	if (v == NULL)
		return 0;
	while ((d = identity_decode_next(
		    &v, iss, sizeof(iss), sub, sizeof(sub))) == 1)
		if (identity_set(m, iss, r->key, sub, err) == -1)
			return -1;
	return d == -1 ? err_set(err, ERR_INVALID, "bad identities") : 0;
}

static int
validate(struct model *m, struct rec *r, const char *name, struct known *k,
    struct err *err)
{
	char dom[ADDR_MAX], tgt[ADDR_MAX];
	int64_t v;
	const char *need = NULL;
	int kr;
	struct pw_policy pol = { m->conf->password.min_length,
		m->conf->password.min_letters, m->conf->password.min_digits };

	switch (r->type) {
	case R_DOMAIN:
		if (r->f[F_DOMAIN] == NULL)
			need = "domain";
		else if (addr_domain("domain", r->f[F_DOMAIN], r->key, err) ==
		    -1)
			break;
		else if (num(r, F_MAX_ALIASES, 0, -1, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_MAX_MAILBOXES, 0, -1, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_MAX_QUOTA, 0, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_DEFAULT_QUOTA, 0, 0, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_DOMAIN_QUOTA, 0, 0, &v, name, r->line, err) ==
			-1 ||
		    check_flag(r, F_BACKUPMX, name, err) == -1 ||
		    check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			strset_add(&k->in_file, r->key);
			return 0;
		}
		break;
	case R_ALIAS_DOMAIN:
		if (r->f[F_ALIAS_DOMAIN] == NULL)
			need = "alias_domain";
		else if (r->f[F_TARGET_DOMAIN] == NULL)
			need = "target_domain";
		else if (addr_domain("alias_domain", r->f[F_ALIAS_DOMAIN],
			     r->key, err) == -1 ||
		    addr_domain(
			"target_domain", r->f[F_TARGET_DOMAIN], tgt, err) == -1)
			break;
		else if (check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			if ((kr = domain_known(m, k, r->key, err)) != 1 ||
			    (kr = domain_known(m, k, tgt, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: "
				    "unknown domain in alias domain '%s' -> "
				    "'%s'",
				    name, r->line, r->key, tgt);
			}
			return 0;
		}
		break;
	case R_MAILBOX:
		if (r->f[F_USERNAME] == NULL)
			need = "username";
		else if (addr_address("username", r->f[F_USERNAME], r->key,
			     NULL, dom, err) == -1)
			break;
		else if (num(r, F_QUOTA, -1, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_BYTES_USED, 0, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_MESSAGES, 0, 0, &v, name, r->line, err) == -1 ||
		    check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else if (r->f[F_PASSWORD] != NULL &&
		    r->f[F_PLAIN_PASSWORD] != NULL)
			return err_set(err, ERR_INVALID,
			    "%s:%d: give password "
			    "(a hash) or plain_password, not both",
			    name, r->line);
		else if (r->f[F_PASSWORD] != NULL &&
		    !password_hash_recognised(r->f[F_PASSWORD]))
			return err_set(err, ERR_INVALID,
			    "%s:%d: the password "
			    "of '%s' is not a hash postino can verify",
			    name, r->line, r->key);
		else if (r->f[F_PLAIN_PASSWORD] != NULL &&
		    r->f[F_PLAIN_PASSWORD][0] == '\0')
			return err_set(err, ERR_INVALID,
			    "%s:%d: empty "
			    "plain_password",
			    name, r->line);
		else if (r->f[F_PLAIN_PASSWORD] != NULL &&
		    pwpolicy_check(&pol, r->f[F_PLAIN_PASSWORD], err) == -1)
			return err_prefix(err,
			    "%s:%d: the plain_password of '%s'", name, r->line,
			    r->key);
		else if (r->f[F_IDENTITIES] != NULL &&
		    identities_check(r->f[F_IDENTITIES]) == -1)
			return err_set(err, ERR_INVALID,
			    "%s:%d: the identities of '%s' are not "
			    "\"issuer subject\" pairs",
			    name, r->line, r->key);
		else {
			if ((kr = domain_known(m, k, dom, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: "
				    "mailbox '%s': unknown domain '%s'",
				    name, r->line, r->key, dom);
			}
			return 0;
		}
		break;
	case R_ALIAS: {
		char gotos[GOTO_MAX];

		if (r->f[F_ADDRESS] == NULL)
			need = "address";
		else if (r->f[F_GOTO] == NULL)
			need = "goto";
		else if (addr_alias("address", r->f[F_ADDRESS], r->key, dom,
			     NULL, err) == -1 ||
		    addr_goto(
			"goto", r->f[F_GOTO], gotos, sizeof(gotos), err) == -1)
			break;
		else if (check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			if ((kr = domain_known(m, k, dom, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: "
				    "alias '%s': unknown domain '%s'",
				    name, r->line, r->key, dom);
			}
			return 0;
		}
		break;
	}
	default:
		break;
	}
	if (need != NULL)
		return err_set(err, ERR_INVALID, "%s:%d: a %s needs '%s'", name,
		    r->line, rtype_names[r->type], need);
	return err_prefix(err, "%s:%d", name, r->line);
}

/* --- import: applying ------------------------------------------------ */

struct importer {
	struct model *m;
	const struct transfer_opts *o;
	struct transfer_stats *st;
	const char *name;
	struct strset keys[R__COUNT]; /* for prune */
	struct strset domains;	      /* named domains */
	struct maildir_pool *pool;    /* makes the maildirs */
};

static void
plan(struct importer *im, const char *verb, enum rtype t, const char *key,
    const char *detail)
{
	if (im->o->plan != NULL)
		im->o->plan(im->o->arg, verb, rtype_names[t], key, detail);
}

static int
set_times(struct model *m, const char *table, const char *keycol,
    const struct rec *r, struct err *err)
{
	char sql[160];

	if (r->f[F_CREATED] == NULL && r->f[F_MODIFIED] == NULL)
		return 0;
	snprintf(sql, sizeof(sql),
	    "UPDATE %s SET created = COALESCE(?, "
	    "created), modified = COALESCE(?, modified) WHERE %s = ?",
	    table, keycol);
	{
		struct db_arg a[] = { DB_TEXT(r->f[F_CREATED]),
			DB_TEXT(r->f[F_MODIFIED]), DB_TEXT(r->key) };
		struct db_arg k[] = { DB_TEXT(r->key), DB_TEXT(r->key) };

		if (db_exec(m->db, sql, a, DB_NARGS(a), err) == -1)
			return -1;
		/* postino_domain is tied to the domain's created. */
		if (strcmp(table, "domain") == 0 &&
		    db_exec(m->db,
			"UPDATE postino_domain SET domain_created = (SELECT "
			"created FROM domain WHERE domain = ?) WHERE domain = "
			"?",
			k, DB_NARGS(k), err) == -1)
			return -1;
		return 0;
	}
}

static void
domain_spec_of(const struct rec *r, struct domain_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->domain = r->key;
	s->description = r->f[F_DESCRIPTION] ? r->f[F_DESCRIPTION] : "";
	s->transport = r->f[F_TRANSPORT];
	if (r->f[F_MAX_ALIASES])
		(void)str_to_i64(r->f[F_MAX_ALIASES], &s->aliases);
	if (r->f[F_MAX_MAILBOXES])
		(void)str_to_i64(r->f[F_MAX_MAILBOXES], &s->mailboxes);
	if (r->f[F_MAX_QUOTA])
		(void)str_to_i64(r->f[F_MAX_QUOTA], &s->maxquota_bytes);
	if (r->f[F_DOMAIN_QUOTA])
		(void)str_to_i64(r->f[F_DOMAIN_QUOTA], &s->quota_bytes);
	if (r->f[F_DEFAULT_QUOTA])
		(void)str_to_i64(
		    r->f[F_DEFAULT_QUOTA], &s->default_quota_bytes);
	s->backupmx = flag(r, F_BACKUPMX, false);
}

static int
apply_domain(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct domain_rec cur, out;
	struct domain_spec s;
	bool active = flag(r, F_ACTIVE, true);
	int g;

	domain_spec_of(r, &s);
	g = domain_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_DOMAIN, r->key, NULL);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		if (domain_add(m, &s, &out, err) == -1)
			return -1;
		if (!active && domain_set_active(m, r->key, false, err) == -1)
			return -1;
		return set_times(m, "domain", "domain", r, err);
	}
	if (im->o->update) {
		char tr[256];
		bool same;

		/* Compare with what add would store. */
		if (s.transport == NULL || s.transport[0] == '\0' ||
		    strcmp(s.transport, "virtual") == 0)
			str_copy(tr, "virtual", sizeof(tr));
		else if (strcmp(s.transport, "lmtp") == 0)
			snprintf(tr, sizeof(tr), "lmtp:%s",
			    m->conf->lmtp_destination);
		else
			str_copy(tr, s.transport, sizeof(tr));
		same = strcmp(cur.description, s.description) == 0 &&
		    cur.aliases == s.aliases && cur.mailboxes == s.mailboxes &&
		    cur.maxquota_bytes ==
			domain_units_to_bytes(
			    m, domain_units_from_bytes(m, s.maxquota_bytes)) &&
		    cur.quota_bytes ==
			domain_units_to_bytes(
			    m, domain_units_from_bytes(m, s.quota_bytes)) &&
		    cur.default_quota_bytes == s.default_quota_bytes &&
		    strcmp(cur.transport, tr) == 0 &&
		    cur.backupmx == s.backupmx && cur.active == active;
		if (!same) {
			plan(im, "update", R_DOMAIN, r->key, NULL);
			im->st->updated++;
			if (im->o->dry_run)
				return 0;
			return domain_update(m, &s, active, NULL, err);
		}
	}
	im->st->unchanged++;
	return 0;
}

static int
apply_alias_domain(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct alias_domain_rec cur, out;
	char tgt[ADDR_MAX];
	bool active = flag(r, F_ACTIVE, true);
	int g;

	if (addr_domain("target_domain", r->f[F_TARGET_DOMAIN], tgt, err) == -1)
		return -1;
	g = alias_domain_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_ALIAS_DOMAIN, r->key, tgt);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		if (alias_domain_add(m, r->key, tgt, &out, err) == -1)
			return -1;
		if (!active &&
		    alias_domain_set_active(m, r->key, false, err) == -1)
			return -1;
		return set_times(m, "alias_domain", "alias_domain", r, err);
	}
	if (im->o->update &&
	    (strcmp(cur.target_domain, tgt) != 0 || cur.active != active)) {
		plan(im, "update", R_ALIAS_DOMAIN, r->key, tgt);
		im->st->updated++;
		if (im->o->dry_run)
			return 0;
		if (strcmp(cur.target_domain, tgt) != 0 &&
		    alias_domain_retarget(m, r->key, tgt, &out, err) == -1)
			return -1;
		if (cur.active != active &&
		    alias_domain_set_active(m, r->key, active, err) == -1)
			return -1;
		return 0;
	}
	im->st->unchanged++;
	return 0;
}

/* What mailbox_add_many() is to make of a mailbox record. */
static void
mailbox_spec_of(
    struct importer *im, const struct rec *r, struct mailbox_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->username = r->key;
	s->name = r->f[F_NAME] ? r->f[F_NAME] : "";
	s->quota_bytes = -1;
	if (r->f[F_QUOTA] != NULL)
		(void)str_to_i64(r->f[F_QUOTA], &s->quota_bytes);
	s->password = r->f[F_PASSWORD] != NULL ? r->f[F_PASSWORD]
	    : r->hash[0] != '\0'	       ? r->hash
					       : NULL;
	s->prehashed = true;
	s->active = flag(r, F_ACTIVE, true);
	s->run_hook = im->o->run_hooks;
	s->created = r->f[F_CREATED];
	s->modified = r->f[F_MODIFIED];
	if (r->f[F_BYTES_USED] != NULL)
		(void)str_to_i64(r->f[F_BYTES_USED], &s->bytes_used);
	if (r->f[F_MESSAGES] != NULL)
		(void)str_to_i64(r->f[F_MESSAGES], &s->messages);
	s->tag = r->line;
}

static int
apply_mailbox(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct mailbox_rec cur;
	bool active = flag(r, F_ACTIVE, true);
	int64_t quota = -1;
	int g;

	if (r->f[F_QUOTA] != NULL)
		(void)str_to_i64(r->f[F_QUOTA], &quota);
	g = mailbox_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		struct mailbox_spec s;
		size_t failed;

		err_clear(err);
		plan(im, "create", R_MAILBOX, r->key, NULL);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		mailbox_spec_of(im, r, &s);
		if (mailbox_add_many(m, &s, 1, &failed, err) == -1 ||
		    apply_identities(m, r, err) == -1)
			return -1;
		return 0;
	}
	if (im->o->update && !im->o->dry_run &&
	    apply_identities(m, r, err) == -1)
		return -1;
	if (im->o->update) {
		bool name_d =
		    r->f[F_NAME] != NULL && strcmp(cur.name, r->f[F_NAME]) != 0;
		bool quota_d = quota >= 0 && cur.quota_bytes != quota;
		bool active_d = cur.active != active;
		bool pw_d = false;

		if (r->f[F_PASSWORD] != NULL) {
			char *stored = NULL;
			struct db_arg a[] = { DB_TEXT(r->key) };

			if (db_query_value(m->db,
				"SELECT password FROM mailbox "
				"WHERE username = ?",
				a, 1, &stored, err) == -1)
				return -1;
			pw_d = stored == NULL ||
			    strcmp(stored, r->f[F_PASSWORD]) != 0;
			str_wipe(stored);
			free(stored);
		} else if (r->f[F_PLAIN_PASSWORD] != NULL) {
			char *stored = NULL;
			struct db_arg a[] = { DB_TEXT(r->key) };
			struct err e2 = ERR_INIT;

			if (db_query_value(m->db,
				"SELECT password FROM mailbox "
				"WHERE username = ?",
				a, 1, &stored, err) == -1)
				return -1;
			pw_d = stored == NULL ||
			    password_verify(
				stored, r->f[F_PLAIN_PASSWORD], &e2) != 1;
			str_wipe(stored);
			free(stored);
		}
		if (name_d || quota_d || active_d || pw_d) {
			plan(im, "update", R_MAILBOX, r->key, NULL);
			im->st->updated++;
			if (im->o->dry_run)
				return 0;
			if ((name_d &&
				mailbox_set_name(
				    m, r->key, r->f[F_NAME], err) == -1) ||
			    (quota_d &&
				mailbox_set_quota(m, r->key, quota, err) ==
				    -1) ||
			    (active_d &&
				mailbox_set_active(m, r->key, active, err) ==
				    -1) ||
			    (pw_d &&
				mailbox_set_password_hash(m, r->key,
				    r->f[F_PASSWORD] ? r->f[F_PASSWORD]
						     : r->hash,
				    err) == -1))
				return -1;
			return 0;
		}
	}
	im->st->unchanged++;
	return 0;
}

static int
apply_alias(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct alias_rec cur, out;
	char gotos[GOTO_MAX];
	bool active = flag(r, F_ACTIVE, true);
	int g, rc = 0;

	memset(&cur, 0, sizeof(cur));
	memset(&out, 0, sizeof(out));
	if (addr_goto("goto", r->f[F_GOTO], gotos, sizeof(gotos), err) == -1)
		return -1;
	g = alias_get(m, r->key, &cur, err);
	if (g == -1) {
		alias_rec_release(&cur);
		return -1;
	}
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_ALIAS, r->key, gotos);
		im->st->created++;
		if (!im->o->dry_run) {
			rc = alias_add(m, r->key, gotos, &out, err);
			if (rc == 0 && !active)
				rc = alias_set_active(m, r->key, false, err);
			if (rc == 0)
				rc = set_times(m, "alias", "address", r, err);
		}
	} else if ((im->o->update || cur.mailbox) &&
	    (strcmp(cur.goto_list, gotos) != 0 || cur.active != active)) {
		/*
		 * A mailbox's forwards live in its self-alias, which the
		 * mailbox record created: set them even without --update.
		 */
		plan(im, cur.mailbox ? "create" : "update", R_ALIAS, r->key,
		    gotos);
		if (cur.mailbox)
			im->st->created++;
		else
			im->st->updated++;
		if (!im->o->dry_run) {
			if (strcmp(cur.goto_list, gotos) != 0)
				rc = alias_edit(m, r->key, gotos, &out, err);
			if (rc == 0 && cur.active != active)
				rc = alias_set_active(m, r->key, active, err);
			if (rc == 0 && cur.mailbox)
				rc = set_times(m, "alias", "address", r, err);
		}
	} else
		im->st->unchanged++;
	alias_rec_release(&cur);
	alias_rec_release(&out);
	return rc;
}

static int apply(struct importer *, struct rec *, struct err *);

static int
rec_cmp_key(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/*
 * A batch of records of one type, set-wise.  Which of them exist is one
 * query per IMPORT_CHUNK names; the new ones (each the first of its name)
 * go to the type's *_add_many() at once, which applies the single
 * commands' rules row by row and writes set-wise; the others (existing,
 * or a name seen earlier in the batch) go through apply() one by one
 * after them, as "unchanged" or, with update, an update.  *line_r: the
 * line to blame, or -1 when a set-wise statement failed as a whole (the
 * caller then retries the batch with rowwise, one row at a time, to name
 * the line).
 */
#define IMPORT_CHUNK 1000
static const char *const exists_sql[R__COUNT] = {
	[R_DOMAIN] = "SELECT domain FROM domain WHERE domain IN (%s)",
	[R_ALIAS_DOMAIN] = "SELECT alias_domain FROM alias_domain WHERE "
			   "alias_domain IN (%s)",
	[R_MAILBOX] = "SELECT username FROM mailbox WHERE username IN (%s)",
	[R_ALIAS] = "SELECT address FROM alias WHERE address IN (%s)",
};

/* The specs of the type's *_add_many(), one per new record. */
union add_specs {
	struct domain_spec *d;
	struct alias_domain_spec *ad;
	struct mailbox_spec *mb;
	struct alias_spec *al;
};

/* Add recs[idx[0..nn)] (from j on, k of them) with their type's rules. */
static int
add_new(struct importer *im, enum rtype t, union add_specs sp, size_t j,
    size_t k, size_t *failed_r, struct err *err)
{
	switch (t) {
	case R_DOMAIN:
		return domain_add_many(im->m, sp.d + j, k, failed_r, err);
	case R_ALIAS_DOMAIN:
		return alias_domain_add_many(
		    im->m, sp.ad + j, k, failed_r, err);
	case R_MAILBOX:
		return mailbox_add_many(im->m, sp.mb + j, k, failed_r, err);
	default:
		return alias_add_many(im->m, sp.al + j, k, failed_r, err);
	}
}

static int
apply_set(struct importer *im, struct rec *recs, size_t n, bool rowwise,
    int *line_r, struct err *err)
{
	struct model *m = im->m;
	enum rtype t = recs[0].type;
	struct rec **sorted = xcalloc(n, sizeof(*sorted));
	bool *old = xcalloc(n, sizeof(*old));
	union add_specs sp;
	size_t *idx = xcalloc(n, sizeof(*idx));
	struct db_arg *args =
	    xcalloc(n < IMPORT_CHUNK ? n : IMPORT_CHUNK, sizeof(*args));
	size_t nn = 0, failed;
	int rc = -1;

	switch (t) {
	case R_DOMAIN:
		sp.d = xcalloc(n, sizeof(*sp.d));
		break;
	case R_ALIAS_DOMAIN:
		sp.ad = xcalloc(n, sizeof(*sp.ad));
		break;
	case R_MAILBOX:
		sp.mb = xcalloc(n, sizeof(*sp.mb));
		break;
	default:
		sp.al = xcalloc(n, sizeof(*sp.al));
		break;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &recs[i];
	qsort(sorted, n, sizeof(*sorted), rec_cmp_key);
	/* A name again in the batch finds the first one's row. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i]->key, sorted[i - 1]->key) == 0)
			old[sorted[i] - recs] = true;
	for (size_t i = 0; i < n; i += IMPORT_CHUNK) {
		size_t k = n - i < IMPORT_CHUNK ? n - i : IMPORT_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = DB_TEXT(sorted[i + j]->key);
		q = xasprintf(exists_sql[t], in);
		free(in);
		nx = db_query(m->db, q, args, k, 0, &r, err);
		free(q);
		if (nx == -1) {
			*line_r = recs[0].line;
			goto out;
		}
		while ((nx = db_next(r, err)) == 1) {
			const char *u = db_col(r, 0);

			size_t lo = i, hi = i + k;

			while (u != NULL && lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (strcasecmp(sorted[mid]->key, u) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; u != NULL && lo < i + k &&
			     strcasecmp(sorted[lo]->key, u) == 0;
			     lo++)
				old[sorted[lo] - recs] = true;
		}
		db_res_free(&r);
		if (nx == -1) {
			*line_r = recs[0].line;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct rec *r = &recs[i];

		if (old[i])
			continue;
		switch (t) {
		case R_DOMAIN:
			domain_spec_of(r, &sp.d[nn]);
			sp.d[nn].disabled = !flag(r, F_ACTIVE, true);
			sp.d[nn].created = r->f[F_CREATED];
			sp.d[nn].modified = r->f[F_MODIFIED];
			break;
		case R_ALIAS_DOMAIN:
			sp.ad[nn].alias = r->key;
			sp.ad[nn].target = r->f[F_TARGET_DOMAIN];
			sp.ad[nn].disabled = !flag(r, F_ACTIVE, true);
			sp.ad[nn].created = r->f[F_CREATED];
			sp.ad[nn].modified = r->f[F_MODIFIED];
			break;
		case R_MAILBOX:
			mailbox_spec_of(im, r, &sp.mb[nn]);
			break;
		default:
			sp.al[nn].address = r->key;
			sp.al[nn].gotos = r->f[F_GOTO];
			sp.al[nn].active = flag(r, F_ACTIVE, true);
			sp.al[nn].created = r->f[F_CREATED];
			sp.al[nn].modified = r->f[F_MODIFIED];
			break;
		}
		idx[nn++] = i;
	}
	if (rowwise) {
		/* After a failure no row was blamed for: find the row. */
		for (size_t j = 0; j < nn; j++)
			if (add_new(im, t, sp, j, 1, &failed, err) == -1) {
				*line_r = recs[idx[j]].line;
				goto out;
			}
	} else if (add_new(im, t, sp, 0, nn, &failed, err) == -1) {
		*line_r = failed < nn ? recs[idx[failed]].line : -1;
		goto out;
	}
	for (size_t j = 0; j < nn; j++) {
		struct rec *r = &recs[idx[j]];
		char detail[GOTO_MAX];
		struct err e2 = ERR_INIT;

		detail[0] = '\0';
		if (t == R_ALIAS)
			(void)addr_goto(
			    "goto", r->f[F_GOTO], detail, sizeof(detail), &e2);
		else if (t == R_ALIAS_DOMAIN)
			(void)addr_domain("target_domain",
			    r->f[F_TARGET_DOMAIN], detail, &e2);
		plan(im, "create", t, r->key, detail[0] ? detail : NULL);
		im->st->created++;
		if (t == R_MAILBOX && apply_identities(m, r, err) == -1) {
			*line_r = r->line;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (old[i]) {
			m->defer->tag = recs[i].line;
			if (apply(im, &recs[i], err) == -1) {
				*line_r = recs[i].line;
				goto out;
			}
		}
	rc = 0;
out:
	free(sorted);
	free(old);
	free(sp.d); /* any member: they share the pointer */
	free(idx);
	free(args);
	return rc;
}

static int
apply(struct importer *im, struct rec *r, struct err *err)
{
	switch (r->type) {
	case R_DOMAIN:
		return apply_domain(im, r, err);
	case R_ALIAS_DOMAIN:
		return apply_alias_domain(im, r, err);
	case R_MAILBOX:
		return apply_mailbox(im, r, err);
	default:
		return apply_alias(im, r, err);
	}
}

/* Hash the batch's plain passwords on all cores. */
struct hash_job {
	struct rec **recs;
	size_t n;
	size_t next;
	pthread_mutex_t mu;
	const struct postino_conf *conf;
	int failed_line;
	struct err err;
};

static void *
hash_worker(void *arg)
{
	struct hash_job *j = arg;

	for (;;) {
		struct rec *r;
		struct err e = ERR_INIT;

		pthread_mutex_lock(&j->mu);
		if (j->next >= j->n || j->failed_line) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		r = j->recs[j->next++];
		pthread_mutex_unlock(&j->mu);
		if (password_make(j->conf, NULL, r->f[F_PLAIN_PASSWORD],
			r->hash, sizeof(r->hash), &e) == -1) {
			pthread_mutex_lock(&j->mu);
			if (!j->failed_line) {
				j->failed_line = r->line;
				j->err = e;
			}
			pthread_mutex_unlock(&j->mu);
		}
	}
}

static int
hash_batch(struct importer *im, struct rec *recs, size_t n, struct err *err)
{
	struct hash_job j;
	pthread_t th[64];
	int nth = im->o->threads > 0 ? im->o->threads : 1;

	memset(&j, 0, sizeof(j));
	j.recs = xcalloc(n ? n : 1, sizeof(*j.recs));
	for (size_t i = 0; i < n; i++)
		if (recs[i].type == R_MAILBOX &&
		    recs[i].f[F_PLAIN_PASSWORD] != NULL)
			j.recs[j.n++] = &recs[i];
	if (j.n == 0) {
		free(j.recs);
		return 0;
	}
	pthread_mutex_init(&j.mu, NULL);
	j.conf = im->m->conf;
	if (nth > 64)
		nth = 64;
	if ((size_t)nth > j.n)
		nth = (int)j.n;
	for (int i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, hash_worker, &j) != 0)
			nth = i;
	if (nth == 0)
		hash_worker(&j);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.mu);
	free(j.recs);
	if (j.failed_line) {
		*err = j.err;
		return err_prefix(err, "%s:%d", im->name, j.failed_line);
	}
	return 0;
}

/* Apply one batch in one transaction; retries on deadlock. */
static int
run_batch(struct importer *im, struct rec *recs, size_t n, struct err *err)
{
	struct model *m = im->m;
	struct model_defer d;
	struct transfer_stats saved = *im->st;
	bool rowwise = false;
	int rc = -1;

	if (hash_batch(im, recs, n, err) == -1)
		return -1;
	if (im->o->dry_run) {
		for (size_t i = 0; i < n; i++)
			if (apply(im, &recs[i], err) == -1)
				return err_prefix(
				    err, "%s:%d", im->name, recs[i].line);
		return 0;
	}
	model_defer_init(&d, m->conf->virtual_mailbox_base);
	d.pool = im->pool;
	/* model_tx()'s retry policy, for a transaction of our own. */
	for (int attempt = 1; attempt <= MODEL_TX_ATTEMPTS; attempt++) {
		struct err perr = ERR_INIT;
		long pline = 0;
		int pr, fline;

		*im->st = saved;
		err_clear(err);
		if (m->db->broken && db_reconnect(m->db, err) == -1)
			break;
		m->defer = &d;
		if (db_begin(m->db, true, err) == -1) {
			m->defer = NULL;
			if (!model_tx_retryable(m->db, err) ||
			    attempt >= MODEL_TX_ATTEMPTS)
				break;
			model_tx_backoff(attempt);
			continue;
		}
		fline = 0;
		/* Set-wise: a few statements for the whole batch. */
		if (apply_set(im, recs, n, rowwise, &fline, err) == -1 &&
		    fline == 0)
			fline = recs[0].line;
		/* The maildirs exist before the rows that name them commit. */
		pr = d.pool != NULL
		    ? maildir_pool_wait(d.pool, d.undo, &pline, &perr)
		    : 0;
		if (fline == 0 && pr == 0 &&
		    model_defer_commit(m, &d, err) == 0) {
			m->defer = NULL;
			model_defer_finish(m, &d, true);
			rc = 0;
			break;
		}
		if (pr == -1 && (fline <= 0 || pline <= fline)) {
			*err = perr;
			err_prefix(err, "%s:%ld", im->name, pline);
			fline = 0;
		} else if (fline > 0)
			err_prefix(err, "%s:%d", im->name, fline);
		else if (fline == -1)
			err_prefix(err, "%s:%d-%d", im->name, recs[0].line,
			    recs[n - 1].line);
		db_rollback(m->db);
		m->defer = NULL;
		model_defer_finish(m, &d, false);
		for (size_t k = 0; k < d.nhooks; k++)
			free(d.hooks[k]);
		d.nhooks = 0;
		/*
		 * A set-wise statement failed with no row to blame: once more,
		 * a row at a time, in a new transaction, to name the line.
		 */
		if (fline == -1 && !rowwise &&
		    !model_tx_retryable(m->db, err)) {
			rowwise = true;
			attempt--;
			continue;
		}
		if (!model_tx_retryable(m->db, err) ||
		    attempt >= MODEL_TX_ATTEMPTS)
			break;
		model_tx_backoff(attempt);
	}
	if (rc == 0) {
		for (size_t k = 0; k < d.nhooks; k++) {
			struct err e = ERR_INIT;

			if (mailbox_run_hook(m, d.hooks[k], &e) == -1) {
				im->st->hooks_failed++;
				model_notifyf(m, "%s%s%s", e.msg,
				    e.hint[0] ? "; " : "", e.hint);
			}
		}
	}
	model_defer_release(&d);
	return rc;
}

static int
import_pass(struct importer *im, struct reader *rd, enum rtype t, int64_t total,
    int64_t *done, struct err *err)
{
	size_t bs = im->o->batch > 0 ? (size_t)im->o->batch : 500;
	struct rec *recs = xcalloc(bs, sizeof(*recs));
	size_t n = 0;
	int r, rc = 0;

	for (;;) {
		struct rec tmp;

		memset(&tmp, 0, sizeof(tmp));
		r = read_rec(rd, &tmp, err);
		if (r == 1 && tmp.type != t) {
			rec_clear(&tmp);
			continue;
		}
		if (r == 1) {
			/* Re-derive the normalised key (validated earlier). */
			struct err e2 = ERR_INIT;
			char dom[ADDR_MAX];

			switch (t) {
			case R_DOMAIN:
				(void)addr_domain(
				    "d", tmp.f[F_DOMAIN], tmp.key, &e2);
				break;
			case R_ALIAS_DOMAIN:
				(void)addr_domain(
				    "d", tmp.f[F_ALIAS_DOMAIN], tmp.key, &e2);
				break;
			case R_MAILBOX:
				(void)addr_address("u", tmp.f[F_USERNAME],
				    tmp.key, NULL, dom, &e2);
				break;
			default:
				(void)addr_alias("a", tmp.f[F_ADDRESS], tmp.key,
				    dom, NULL, &e2);
				break;
			}
			if (im->o->prune)
				strset_add(&im->keys[t], tmp.key);
			recs[n++] = tmp;
		}
		if ((r == 0 && n > 0) || n == bs) {
			rc = run_batch(im, recs, n, err);
			*done += (int64_t)n;
			if (im->o->progress != NULL)
				im->o->progress(
				    im->o->arg, rtype_names[t], *done, total);
			for (size_t i = 0; i < n; i++)
				rec_clear(&recs[i]);
			n = 0;
			if (rc == -1)
				break;
		}
		if (r == 0)
			break;
		if (r == -1) {
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		rec_clear(&recs[i]);
	free(recs);
	return rc;
}

/* Collect keys of one type in the named domains that the input lacks. */
struct prune_ctx {
	struct importer *im;
	char **keys;
	size_t n;
};

static int
prune_mailbox_cb(void *arg, const struct mailbox_rec *mb)
{
	struct prune_ctx *p = arg;

	if (strset_has(&p->im->domains, mb->domain) &&
	    !strset_has(&p->im->keys[R_MAILBOX], mb->username)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(mb->username);
	}
	return 0;
}

static int
prune_alias_cb(void *arg, const struct alias_rec *a)
{
	struct prune_ctx *p = arg;

	if (!a->mailbox && strset_has(&p->im->domains, a->domain) &&
	    !strset_has(&p->im->keys[R_ALIAS], a->address)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(a->address);
	}
	return 0;
}

static int
prune_adom_cb(void *arg, const struct alias_domain_rec *a)
{
	struct prune_ctx *p = arg;

	if (strset_has(&p->im->domains, a->alias_domain) &&
	    !strset_has(&p->im->keys[R_ALIAS_DOMAIN], a->alias_domain)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(a->alias_domain);
	}
	return 0;
}

static int
prune(struct importer *im, struct err *err)
{
	static const enum rtype order[] = { R_ALIAS, R_MAILBOX,
		R_ALIAS_DOMAIN };
	struct model *m = im->m;
	int rc = 0;

	for (size_t o = 0; o < 3 && rc == 0; o++) {
		struct prune_ctx p = { im, NULL, 0 };
		enum rtype t = order[o];
		struct model_defer d;

		if (t == R_ALIAS)
			rc = alias_foreach(
			    m, NULL, false, false, prune_alias_cb, &p, err);
		else if (t == R_MAILBOX)
			rc = mailbox_foreach(
			    m, NULL, true, false, prune_mailbox_cb, &p, err);
		else
			rc = alias_domain_foreach(
			    m, NULL, true, prune_adom_cb, &p, err);
		if (rc == 0 && !im->o->dry_run && p.n > 0) {
			model_defer_init(&d, m->conf->virtual_mailbox_base);
			m->defer = &d;
			rc = db_begin(m->db, true, err);
			for (size_t i = 0; rc == 0 && i < p.n; i++) {
				if (t == R_ALIAS)
					rc = alias_del(m, p.keys[i], err);
				else if (t == R_MAILBOX)
					rc = mailbox_del(
					    m, p.keys[i], false, err);
				else
					rc =
					    alias_domain_del(m, p.keys[i], err);
			}
			if (rc == 0)
				rc = model_defer_commit(m, &d, err);
			if (rc != 0)
				db_rollback(m->db); /* as run_batch() does */
			m->defer = NULL;
			model_defer_finish(m, &d, rc == 0);
			model_defer_release(&d);
		}
		for (size_t i = 0; i < p.n; i++) {
			if (rc == 0)
				plan(im, "prune", t, p.keys[i], NULL);
			free(p.keys[i]);
		}
		if (rc == 0)
			im->st->pruned += (int64_t)p.n;
		free(p.keys);
	}
	return rc;
}

int
transfer_import(struct model *m, FILE *in, const char *name,
    const struct transfer_opts *o, struct transfer_stats *st, struct err *err)
{
	struct importer im;
	struct reader rd;
	struct known k;
	struct rec r;
	FILE *f = in, *tmp = NULL;
	int64_t done = 0;
	int rc = -1, rr;

	memset(&im, 0, sizeof(im));
	memset(&rd, 0, sizeof(rd));
	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	im.m = m;
	im.o = o;
	im.st = st;
	im.name = name;
	/* The input is read once to validate and again per record type. */
	if (fseeko(in, 0, SEEK_SET) == -1) {
		char chunk[65536];
		size_t n;

		tmp = tmpfile();
		if (tmp == NULL)
			return err_set(err, ERR_FILESYSTEM,
			    "cannot create a "
			    "temporary file: %s",
			    strerror(errno));
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			if (fwrite(chunk, 1, n, tmp) != n) {
				fclose(tmp);
				return err_set(err, ERR_FILESYSTEM,
				    "cannot "
				    "buffer the input: %s",
				    strerror(errno));
			}
		f = tmp;
	}
	rd.f = f;
	rd.name = name;
	rd.fmt = o->format;
	/* Pass 1: validate everything, touch nothing. */
	rewind(f);
	if (read_header(&rd, err) == -1)
		goto out;
	while ((rr = read_rec(&rd, &r, err)) == 1) {
		if (validate(m, &r, name, &k, err) == -1)
			goto out;
		if (r.type == R_DOMAIN)
			strset_add(&im.domains, r.key);
		st->records++;
	}
	if (rr == -1)
		goto out;
	if (!o->dry_run)
		im.pool = maildir_pool_new(m->conf->virtual_mailbox_base,
		    m->conf->vmail_uid, m->conf->vmail_gid, o->threads);
	/* Prune works within the domains the input names. */
	for (int t = 0; t < R__COUNT; t++) {
		rewind(f);
		rd.line = 0;
		if (read_header(&rd, err) == -1)
			goto out;
		if (import_pass(
			&im, &rd, (enum rtype)t, st->records, &done, err) == -1)
			goto out;
	}
	if (o->prune && prune(&im, err) == -1)
		goto out;
	rc = 0;
out:
	rec_clear(&r);
	free(rd.buf);
	for (int t = 0; t < R__COUNT; t++)
		strset_free(&im.keys[t]);
	strset_free(&im.domains);
	maildir_pool_free(im.pool);
	strset_free(&k.in_file);
	strset_free(&k.in_db);
	strset_free(&k.not_in_db);
	if (tmp != NULL)
		fclose(tmp);
	return rc;
}
