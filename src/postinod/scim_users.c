/*
 * /scim/v2/Users: mailboxes as SCIM users.
 *
 *   GET    /Users          list (filter, sort, page: scim_query_users)
 *   GET    /Users/{id}     one mailbox; id is its address
 *   POST   /Users          mailbox_add, as "postino user add" (maildir,
 *                          hook, audit); no password = {NOAUTH}
 *   PATCH  /Users/{id}     every operation in one transaction
 *   DELETE /Users/{id}     mailbox_del keeping the maildir, as
 *                          "postino user del --keep-maildir"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mailbox.h"
#include "scim.h"
#include "scim_json.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

static json_t *
user_json(const struct mailbox_rec *mb)
{
	json_t *o = json_object(), *s = json_array(), *ems = json_array();
	json_t *em = json_object(), *ext = json_object();
	char loc[3 * ADDR_MAX + 64];

	json_array_append_new(s, json_string(SCIM_URN_USER));
	json_array_append_new(s, json_string(SCIM_SCHEMA_MAILBOX));
	json_object_set_new(o, "schemas", s);
	json_object_set_new(o, "id", http_json_str(mb->username));
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
list_row(void *arg, const struct mailbox_rec *mb)
{
	json_array_append_new(arg, user_json(mb));
	return 0;
}

static int
list_page(struct model *m, const struct scim_page *page, json_t *res,
    int64_t *total_r, struct err *err)
{
	return scim_query_users(m, page, list_row, res, total_r, err);
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
	if (status == 201)
		scim_location("Users", mb->username, q->w->location,
		    sizeof(q->w->location));
	scim_reply(q, status, user_json(mb));
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

/* Every operation, inside the one transaction model_tx() opened. */
static int
patch_tx(struct model *m, void *arg, struct err *err)
{
	struct patch_ctx *c = arg;

	c->claimed = false;
	for (size_t i = 0; i < c->n; i++) {
		const struct scim_op *op = &c->ops[i];
		bool flag = false;
		int rc;

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
		default:
			rc = err_set(err, ERR_INVALID, "not a user change");
			break;
		}
		if (rc == -1)
			return err_prefix(err, "operation %zu", i + 1);
	}
	return 0;
}

static void
patch(struct scim_req *q)
{
	struct scim_op *ops = NULL;
	struct patch_ctx c;
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
	c.user = mb.username;
	c.ops = ops;
	c.n = n;
	c.claimed = false;
	if (model_tx(&q->rdb.m, patch_tx, &c, &err) == -1)
		goto fail;
	if (c.claimed)
		log_warn("scim: %s claimed %s into SQL auth", q->r->subject,
		    mb.username);
	if (mailbox_get(&q->rdb.m, mb.username, &mb, &err) != 1)
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
			scim_list(q, scim_user_attrs, SCIM_URN_USER, list_page);
		else
			create(q);
	} else if (strcmp(m, "GET") == 0) {
		if (fetch(q, &mb) == 1)
			reply_user(q, 200, &mb);
	} else if (strcmp(m, "PATCH") == 0)
		patch(q);
	else
		del(q);
}
