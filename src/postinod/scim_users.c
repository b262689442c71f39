/*
 * /scim/v2/Users: mailboxes as SCIM users.
 *
 *   GET    /Users          list (filter, sort, page: scim_query_users)
 *   GET    /Users/{id}     one mailbox; id is its address
 *   POST   /Users          mailbox_add, as "postino user add" (maildir,
 *                          hook, audit); no password = {NOAUTH}
 *   PATCH  /Users/{id}     every operation in one transaction
 *   PUT    /Users/{id}     replace what a user has (Okta's update): the
 *                          same operations as PATCH, in one transaction
 *   DELETE /Users/{id}     mailbox_del keeping the maildir, as
 *                          "postino user del --keep-maildir"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "jsonw.h"
#include "log.h"
#include "mailbox.h"
#include "scim.h"
#include "scim_json.h"
#include "strutil.h"
#include "timefmt.h"
#include "xalloc.h"
#include "banned.h"

/* One user as a tree.  user_write() below writes the same: keep in step. */
static json_t *
user_json(const struct mailbox_rec *mb, const char *external_id)
{
	json_t *o = json_object(), *s = json_array(), *ems = json_array();
	json_t *em = json_object(), *ext = json_object();
	char loc[3 * ADDR_MAX + 64];

	json_array_append_new(s, json_string(SCIM_URN_USER));
	json_array_append_new(s, json_string(SCIM_SCHEMA_MAILBOX));
	json_object_set_new(o, "schemas", s);
	json_object_set_new(o, "id", http_json_str(mb->username));
	if (external_id != NULL && *external_id != '\0')
		json_object_set_new(
		    o, "externalId", http_json_str(external_id));
	json_object_set_new(o, "userName", http_json_str(mb->username));
	if (mb->name[0] != '\0') {
		json_t *n = json_object();

		json_object_set_new(n, "formatted", http_json_str(mb->name));
		json_object_set_new(o, "name", n);
		json_object_set_new(o, "displayName", http_json_str(mb->name));
	}
	json_object_set_new(em, "value", http_json_str(mb->username));
	json_object_set_new(em, "type", json_string("work"));
	json_object_set_new(em, "primary", json_true());
	json_array_append_new(ems, em);
	json_object_set_new(o, "emails", ems);
	json_object_set_new(o, "active", json_boolean(mb->active));
	json_object_set_new(ext, "domain", http_json_str(mb->domain));
	json_object_set_new(ext, "quotaBytes", json_integer(mb->quota_bytes));
	json_object_set_new(ext, "idpManaged", json_boolean(mb->idp_managed));
	json_object_set_new(o, SCIM_SCHEMA_MAILBOX, ext);
	json_object_set_new(o, "meta",
	    scim_meta_obj("User", mb->created, mb->modified,
		scim_location("Users", mb->username, loc, sizeof(loc))));
	return o;
}

static int
list_row(void *arg, const struct mailbox_rec *mb, const char *external_id)
{
	json_array_append_new(arg, user_json(mb, external_id));
	return 0;
}

static int
list_page(struct model *m, const struct scim_page *page, json_t *res,
    int64_t *total_r, struct err *err)
{
	return scim_query_users(m, page, list_row, res, total_r, err);
}

/*
 * --- lists, written directly -----------------------------------------
 *
 * A page of 100 users built as jansson trees, re-walked for the absolute
 * meta.location and then dumped cost ~14 times a one-user answer, most of
 * it allocating and freeing the nodes.  Without attributes= or
 * excludedAttributes= (which cut the trees: that path stays) each user is
 * written straight into the reply with jsonw.h, in the same order and with
 * the same bytes as user_json() + scim_reply() give (t5002 compares the
 * two answers byte for byte).
 */
struct tmemo {
	bool set;
	char in[32];
	char out[TIMEFMT_MAX];
};

struct wlist {
	struct buf *b;
	const char *base;
	struct tmemo created, modified;
	int64_t n;
};

/* timefmt_scim(), remembered for the last value (a page shares a few). */
static const char *
memo_time(struct tmemo *m, const char *stored)
{
	if (!m->set || strcmp(m->in, stored) != 0) {
		str_copy(m->in, stored, sizeof(m->in));
		timefmt_scim(stored, m->out, sizeof(m->out));
		m->set = strlen(stored) < sizeof(m->in);
	}
	return m->out;
}

static int
user_write(struct wlist *w, const struct mailbox_rec *mb, const char *ext)
{
	struct buf *b = w->b;
	char loc[3 * ADDR_MAX + 64], abs[sizeof(loc) + 320];
	const char *t;

	if (jsonw_raw(b,
		"{\"schemas\":[\"" SCIM_URN_USER "\",\"" SCIM_SCHEMA_MAILBOX
		"\"],\"id\":") == -1 ||
	    jsonw_str(b, mb->username) == -1)
		return -1;
	if (ext != NULL && *ext != '\0' &&
	    (jsonw_raw(b, ",\"externalId\":") == -1 || jsonw_str(b, ext) == -1))
		return -1;
	if (jsonw_raw(b, ",\"userName\":") == -1 ||
	    jsonw_str(b, mb->username) == -1)
		return -1;
	if (mb->name[0] != '\0' &&
	    (jsonw_raw(b, ",\"name\":{\"formatted\":") == -1 ||
		jsonw_str(b, mb->name) == -1 ||
		jsonw_raw(b, "},\"displayName\":") == -1 ||
		jsonw_str(b, mb->name) == -1))
		return -1;
	if (jsonw_raw(b, ",\"emails\":[{\"value\":") == -1 ||
	    jsonw_str(b, mb->username) == -1 ||
	    jsonw_raw(b, ",\"type\":\"work\",\"primary\":true}],\"active\":") ==
		-1 ||
	    jsonw_raw(b, mb->active ? "true" : "false") == -1 ||
	    jsonw_raw(b, ",\"" SCIM_SCHEMA_MAILBOX "\":{\"domain\":") == -1 ||
	    jsonw_str(b, mb->domain) == -1 ||
	    jsonw_raw(b, ",\"quotaBytes\":") == -1 ||
	    jsonw_int(b, mb->quota_bytes) == -1 ||
	    jsonw_raw(b, ",\"idpManaged\":") == -1 ||
	    jsonw_raw(b, mb->idp_managed ? "true" : "false") == -1 ||
	    jsonw_raw(b, "},\"meta\":{\"resourceType\":\"User\"") == -1)
		return -1;
	if (*(t = memo_time(&w->created, mb->created)) != '\0' &&
	    (jsonw_raw(b, ",\"created\":") == -1 || jsonw_str(b, t) == -1))
		return -1;
	if (*(t = memo_time(&w->modified, mb->modified)) != '\0' &&
	    (jsonw_raw(b, ",\"lastModified\":") == -1 || jsonw_str(b, t) == -1))
		return -1;
	snprintf(abs, sizeof(abs), "%s%s", w->base,
	    scim_location("Users", mb->username, loc, sizeof(loc)));
	if (jsonw_raw(b, ",\"location\":") == -1 || jsonw_str(b, abs) == -1 ||
	    jsonw_raw(b, "}}") == -1)
		return -1;
	return 0;
}

static int
wlist_row(void *arg, const struct mailbox_rec *mb, const char *external_id)
{
	struct wlist *w = arg;

	if (w->n > 0 && jsonw_raw(w->b, ",") == -1)
		return -1;
	w->n++;
	return user_write(w, mb, external_id);
}

static void
list_users(struct scim_req *q)
{
	struct scim_list l;
	struct err err = ERR_INIT;
	struct buf res;
	struct wlist w;
	struct buf *out = &q->w->body;
	char base[320];
	int64_t total = 0;

	if (scim_projected(q)) {
		scim_list(q, scim_user_attrs, SCIM_URN_USER, list_page);
		return;
	}
	buf_init(&res, HTTP_REPLY_MAX);
	if (scim_list_begin(q, scim_user_attrs, SCIM_URN_USER, &l) == -1)
		goto out;
	scim_base_url(q, base, sizeof(base));
	memset(&w, 0, sizeof(w));
	w.b = &res;
	w.base = base;
	if (scim_db(q, &err) == -1 ||
	    scim_query_users(&q->rdb.m, &l.page, wlist_row, &w, &total, &err) ==
		-1) {
		scim_fail(q, &err);
		goto out;
	}
	buf_reset(out);
	q->w->status = 200;
	q->w->content_type = SCIM_MEDIA;
	if (jsonw_raw(out,
		"{\"schemas\":[\"" SCIM_URN_LIST
		"\"],\"totalResults\":") == -1 ||
	    jsonw_int(out, total) == -1 ||
	    jsonw_raw(out, ",\"itemsPerPage\":") == -1 ||
	    jsonw_int(out, w.n) == -1 ||
	    jsonw_raw(out, ",\"startIndex\":") == -1 ||
	    jsonw_int(out, l.start) == -1 ||
	    jsonw_raw(out, ",\"Resources\":[") == -1 ||
	    buf_append(out, res.data != NULL ? res.data : "", res.len) == -1 ||
	    jsonw_raw(out, "]}") == -1) {
		err_set(&err, ERR_INTERNAL, "the reply is too large");
		scim_fail(q, &err);
	}
out:
	buf_release(&res);
	scim_list_release(&l);
}

/* Fetch the mailbox named by the URL; answers 404 itself.  1 or -1. */
static int
fetch(struct scim_req *q, struct mailbox_rec *mb)
{
	struct err err = ERR_INIT;
	int rc;

	if (scim_db(q, &err) == -1) {
		scim_fail(q, &err);
		return -1;
	}
	rc = mailbox_get(&q->rdb.m, q->id, mb, &err);
	if (rc == 1)
		return 1;
	if (rc == 0 || err.kind == ERR_INVALID)
		err_set(
		    &err, ERR_NOTFOUND, "user '%.320s' does not exist", q->id);
	scim_fail(q, &err);
	return -1;
}

static void
reply_user(struct scim_req *q, int status, const struct mailbox_rec *mb)
{
	char ext[IDENTITY_SUBJECT_MAX];
	struct err err = ERR_INIT;
	int r;

	if ((r = identity_subject(&q->rdb.m, IDENTITY_SCIM, mb->username, ext,
		 sizeof(ext), &err)) == -1) {
		scim_fail(q, &err);
		return;
	}
	if (status == 201)
		scim_location("Users", mb->username, q->w->location,
		    sizeof(q->w->location));
	scim_reply(q, status, user_json(mb, r == 1 ? ext : NULL));
}

static void
create(struct scim_req *q)
{
	struct scim_user_in in;
	struct mailbox_spec s;
	struct mailbox_rec mb;
	struct err err = ERR_INIT;
	json_t *root = NULL;

	if (scim_body(q, &root, &err) == -1 ||
	    scim_json_user(root, &in, &err) == -1 || scim_db(q, &err) == -1)
		goto fail;
	memset(&s, 0, sizeof(s));
	s.username = in.user_name;
	s.name = in.has_name ? in.name : "";
	if (in.has_quota)
		s.quota_bytes = in.quota;
	else
		s.quota_bytes = q->d->conf->default_quota_bytes > 0
		    ? q->d->conf->default_quota_bytes
		    : -1;
	s.password = in.password;
	s.active = in.has_active ? in.active : true;
	s.run_hook = true;
	if (in.external_id != NULL) {
		s.idp_issuer = IDENTITY_SCIM;
		s.idp_subject = in.external_id;
	}
	if (mailbox_add(&q->rdb.m, &s, &mb, &err) == -1) {
		/* The domain the address names is missing: a bad value. */
		if (err.kind == ERR_NOTFOUND)
			err.kind = ERR_INVALID;
		goto fail;
	}
	log_info("scim: %s created %s%s", q->r->subject, mb.username,
	    mb.idp_managed ? " (IdP-managed)" : "");
	reply_user(q, 201, &mb);
	json_decref(root);
	return;
fail:
	json_decref(root);
	scim_fail(q, &err);
}

struct patch_ctx {
	const char *user;
	const struct scim_op *ops;
	size_t n;
	bool claimed;
};

/*
 * Replace the first word of the name (given) or the rest (family): postino
 * keeps one name, "given family", as PostfixAdmin does.
 */
static int
set_name_part(struct model *m, const char *user, bool given, const char *v,
    struct err *err)
{
	struct mailbox_rec mb;
	char first[SCIM_NAME_MAX], rest[SCIM_NAME_MAX], name[2 * SCIM_NAME_MAX];
	const char *sp;

	if (mailbox_get(m, user, &mb, err) != 1)
		return -1;
	sp = strchr(mb.name, ' ');
	str_copy(first, mb.name,
	    sp != NULL ? (size_t)(sp - mb.name) + 1 : sizeof(first));
	str_copy(rest, sp != NULL ? sp + 1 : "", sizeof(rest));
	snprintf(
	    name, sizeof(name), "%s %s", given ? v : first, given ? rest : v);
	return mailbox_set_name(m, user, str_trim(name), err);
}

/* Every operation, inside the one transaction model_tx() opened. */
static int
patch_tx(struct model *m, void *arg, struct err *err)
{
	struct patch_ctx *c = arg;

	const struct scim_op *given = NULL, *family = NULL;

	c->claimed = false;
	/* Both halves of the name in one PATCH: one name, in that order. */
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i].kind == SOP_GIVEN)
			given = &c->ops[i];
		else if (c->ops[i].kind == SOP_FAMILY)
			family = &c->ops[i];
	for (size_t i = 0; i < c->n; i++) {
		const struct scim_op *op = &c->ops[i];
		bool flag = false;
		int rc;

		if (given != NULL && family != NULL &&
		    (op->kind == SOP_GIVEN || op->kind == SOP_FAMILY)) {
			char name[2 * SCIM_NAME_MAX];

			if (op != given && op != family)
				continue;
			if ((op == given && family < given) ||
			    (op == family && given < family))
				continue; /* done at the first of the two */
			snprintf(name, sizeof(name), "%s %s", given->str,
			    family->str);
			if (mailbox_set_name(m, c->user, str_trim(name), err) ==
			    -1)
				return err_prefix(err, "operation %zu", i + 1);
			continue;
		}
		switch (op->kind) {
		case SOP_ACTIVE:
			rc = mailbox_set_active(m, c->user, op->flag, err);
			break;
		case SOP_NAME:
			rc = mailbox_set_name(m, c->user, op->str, err);
			break;
		case SOP_PASSWORD:
			rc = mailbox_set_password(
			    m, c->user, op->str, NULL, true, &flag, err);
			c->claimed |= flag;
			break;
		case SOP_RELEASE:
			rc = mailbox_release(m, c->user, &flag, err);
			break;
		case SOP_QUOTA:
			rc = mailbox_set_quota(m, c->user, op->num, err);
			break;
		case SOP_GIVEN:
		case SOP_FAMILY:
			rc = set_name_part(
			    m, c->user, op->kind == SOP_GIVEN, op->str, err);
			break;
		case SOP_EXTERNAL:
			rc = identity_set(
			    m, IDENTITY_SCIM, c->user, op->str, err);
			break;
		case SOP_USERNAME:
			rc = str_eq_nocase(op->str, c->user)
			    ? 0
			    : err_set(err, ERR_READONLY,
				  "userName '%.320s' is not this user's: a mailbox is not renamed through SCIM",
				  op->str);
			break;
		default:
			rc = err_set(err, ERR_INVALID, "not a user change");
			break;
		}
		if (rc == -1)
			return err_prefix(err, "operation %zu", i + 1);
	}
	return 0;
}

/*
 * Run ops on mb's mailbox in one transaction (PATCH and PUT alike), then
 * read the mailbox back into mb.
 */
static int
apply_ops(struct scim_req *q, struct mailbox_rec *mb, const struct scim_op *ops,
    size_t n, struct err *err)
{
	struct patch_ctx c = { mb->username, ops, n, false };

	if (model_tx(&q->rdb.m, patch_tx, &c, err) == -1)
		return -1;
	if (c.claimed)
		log_warnx("scim: %s claimed %s into SQL auth", q->r->subject,
		    mb->username);
	return mailbox_get(&q->rdb.m, mb->username, mb, err) == 1 ? 0 : -1;
}

static void
patch(struct scim_req *q)
{
	struct scim_op *ops = NULL;
	struct mailbox_rec mb;
	struct err err = ERR_INIT;
	json_t *root = NULL;
	size_t n = 0;

	if (fetch(q, &mb) != 1)
		return;
	ops = xcalloc(SCIM_PATCH_MAX, sizeof(*ops));
	if (scim_body(q, &root, &err) == -1 ||
	    scim_json_patch(root, SCIM_RES_USER, ops, &n, &err) == -1)
		goto fail;
	if (apply_ops(q, &mb, ops, n, &err) == -1)
		goto fail;
	reply_user(q, 200, &mb);
	json_decref(root);
	free(ops);
	return;
fail:
	json_decref(root);
	free(ops);
	scim_fail(q, &err);
}

/* PUT: every mutable attribute takes the body's value, or its default. */
static void
replace(struct scim_req *q)
{
	struct scim_user_in in;
	struct scim_op *ops;
	struct mailbox_rec mb;
	struct err err = ERR_INIT;
	json_t *root = NULL;
	size_t n = 0;

	if (fetch(q, &mb) != 1)
		return;
	ops = xcalloc(8, sizeof(*ops));
	if (scim_body(q, &root, &err) == -1 ||
	    scim_json_user(root, &in, &err) == -1)
		goto fail;
	if (!str_eq_nocase(in.user_name, mb.username)) {
		err_set(&err, ERR_INVALID,
		    "userName '%.320s' is not this user's: a mailbox is not renamed through SCIM",
		    in.user_name);
		goto fail;
	}
	ops[n].kind = SOP_NAME;
	str_copy(ops[n].buf, in.has_name ? in.name : "", sizeof(ops[n].buf));
	ops[n].str = ops[n].buf;
	n++;
	ops[n].kind = SOP_ACTIVE;
	ops[n++].flag = in.has_active ? in.active : true;
	ops[n].kind = SOP_EXTERNAL;
	ops[n++].str = in.external_id;
	if (in.has_quota) {
		ops[n].kind = SOP_QUOTA;
		ops[n++].num = in.quota;
	}
	/* password is writeOnly: a PUT without one keeps it. */
	if (in.password != NULL) {
		ops[n].kind = SOP_PASSWORD;
		ops[n++].str = in.password;
	}
	if (apply_ops(q, &mb, ops, n, &err) == -1)
		goto fail;
	log_info("scim: %s replaced %s", q->r->subject, mb.username);
	reply_user(q, 200, &mb);
	json_decref(root);
	free(ops);
	return;
fail:
	json_decref(root);
	free(ops);
	scim_fail(q, &err);
}

static void
del(struct scim_req *q)
{
	struct mailbox_rec mb;
	struct err err = ERR_INIT;

	if (fetch(q, &mb) != 1)
		return;
	if (mailbox_del(&q->rdb.m, mb.username, true, &err) == -1) {
		scim_fail(q, &err);
		return;
	}
	log_info(
	    "scim: %s deleted %s (maildir kept)", q->r->subject, mb.username);
	http_reply_empty(q->w, 204);
}

void
scim_users(struct scim_req *q)
{
	struct mailbox_rec mb;
	const char *m = q->r->method;

	if (q->id == NULL) {
		if (strcmp(m, "GET") == 0)
			list_users(q);
		else
			create(q);
	} else if (strcmp(m, "GET") == 0) {
		if (fetch(q, &mb) == 1)
			reply_user(q, 200, &mb);
	} else if (strcmp(m, "PATCH") == 0)
		patch(q);
	else if (strcmp(m, "PUT") == 0)
		replace(q);
	else
		del(q);
}
