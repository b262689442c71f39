/*
 * transfer: "postino export", every domain, alias domain, mailbox and
 * alias as CSV or JSON Lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "strutil.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

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
		    "cannot write the export: %s", strerror(errno));
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
		    "{\"type\":\"postino-export\",\"version\":%d,\"created\":\"%s\",\"engine\":\"%s\"}",
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
