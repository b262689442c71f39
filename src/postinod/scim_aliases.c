/*
 * /scim/v2/Aliases: postino's extension resource for forwarding addresses
 * (schema urn:postino:params:scim:schemas:core:2.0:Alias).
 *
 *   GET    /Aliases          list (filter, sort, page)
 *   GET    /Aliases/{id}     one alias; id is its address
 *   POST   /Aliases          alias_add, as "postino alias add"
 *   PATCH  /Aliases/{id}     replace active and/or goto, atomically
 *   DELETE /Aliases/{id}     alias_del, as "postino alias del"
 *
 * A mailbox's own alias row (address = goto = the mailbox) is part of the
 * mailbox, not an alias: it is neither listed nor served here, as
 * "postino alias list" does not show it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "log.h"
#include "scim.h"
#include "scim_json.h"
#include "xalloc.h"
#include "banned.h"

static json_t *
alias_json(const struct alias_rec *a)
{
	json_t *o = json_object(), *s = json_array();
	char loc[3 * ADDR_MAX + 64];

	json_array_append_new(s, json_string(SCIM_URN_ALIAS));
	json_object_set_new(o, "schemas", s);
	json_object_set_new(o, "id", http_json_str(a->address));
	json_object_set_new(o, "address", http_json_str(a->address));
	json_object_set_new(o, "goto", http_json_str(a->goto_list));
	json_object_set_new(o, "active", json_boolean(a->active));
	json_object_set_new(o, "meta",
	    scim_meta_obj("Alias", a->created, a->modified,
		scim_location("Aliases", a->address, loc, sizeof(loc))));
	return o;
}

static int
list_row(void *arg, const struct alias_rec *a)
{
	json_array_append_new(arg, alias_json(a));
	return 0;
}

static int
list_page(struct model *m, const struct scim_page *page, json_t *res,
    int64_t *total_r, struct err *err)
{
	return scim_query_aliases(m, page, list_row, res, total_r, err);
}

/* The alias the URL names (release *a); answers 404 itself.  1 or -1. */
static int
fetch(struct scim_req *q, struct alias_rec *a)
{
	struct err err = ERR_INIT;
	int rc;

	memset(a, 0, sizeof(*a));
	if (scim_db(q, &err) == -1) {
		scim_fail(q, &err);
		return -1;
	}
	rc = alias_get(&q->rdb.m, q->id, a, &err);
	if (rc == 1 && a->mailbox && strcmp(a->goto_list, a->address) == 0)
		rc = 0;
	if (rc == 1)
		return 1;
	alias_rec_release(a);
	if (rc == 0 || err.kind == ERR_INVALID)
		err_set(
		    &err, ERR_NOTFOUND, "alias '%.320s' does not exist", q->id);
	scim_fail(q, &err);
	return -1;
}

static void
reply_alias(struct scim_req *q, int status, const struct alias_rec *a)
{
	if (status == 201)
		scim_location("Aliases", a->address, q->w->location,
		    sizeof(q->w->location));
	scim_reply(q, status, alias_json(a));
}

struct add_ctx {
	const struct scim_alias_in *in;
	struct alias_rec rec;
};

static int
add_tx(struct model *m, void *arg, struct err *err)
{
	struct add_ctx *c = arg;

	alias_rec_release(&c->rec);
	if (alias_add(m, c->in->address, c->in->gotos, &c->rec, err) == -1)
		return -1;
	if (c->in->has_active && !c->in->active &&
	    alias_set_active(m, c->rec.address, false, err) == -1)
		return -1;
	return 0;
}

static void
create(struct scim_req *q)
{
	struct scim_alias_in in;
	struct add_ctx c;
	struct alias_rec a;
	struct err err = ERR_INIT;
	json_t *root = NULL;

	memset(&in, 0, sizeof(in));
	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	if (scim_body(q, &root, &err) == -1 ||
	    scim_json_alias(root, &in, &err) == -1 || scim_db(q, &err) == -1)
		goto fail;
	c.in = &in;
	if (model_tx(&q->rdb.m, add_tx, &c, &err) == -1) {
		/* The domain the address names is missing: a bad value. */
		if (err.kind == ERR_NOTFOUND)
			err.kind = ERR_INVALID;
		goto fail;
	}
	if (alias_get(&q->rdb.m, c.rec.address, &a, &err) != 1)
		goto fail;
	log_info("scim: %s created alias %s", q->r->subject, a.address);
	reply_alias(q, 201, &a);
	goto out;
fail:
	scim_fail(q, &err);
out:
	alias_rec_release(&a);
	alias_rec_release(&c.rec);
	free(in.gotos);
	json_decref(root);
}

struct patch_ctx {
	const char *address;
	const struct scim_op *ops;
	size_t n;
};

static int
patch_tx(struct model *m, void *arg, struct err *err)
{
	struct patch_ctx *c = arg;

	for (size_t i = 0; i < c->n; i++) {
		const struct scim_op *op = &c->ops[i];
		struct alias_rec out;
		int rc;

		memset(&out, 0, sizeof(out));
		if (op->kind == SOP_ACTIVE)
			rc = alias_set_active(m, c->address, op->flag, err);
		else if (op->kind == SOP_GOTO) {
			rc = alias_edit(m, c->address, op->str, &out, err);
			alias_rec_release(&out);
		} else
			rc = err_set(err, ERR_INVALID, "not an alias change");
		if (rc == -1)
			return err_prefix(err, "operation %zu", i + 1);
	}
	return 0;
}

static void
patch(struct scim_req *q)
{
	struct scim_op *ops;
	struct patch_ctx c;
	struct alias_rec a;
	struct err err = ERR_INIT;
	json_t *root = NULL;
	size_t n = 0;

	if (fetch(q, &a) != 1)
		return;
	ops = xcalloc(SCIM_PATCH_MAX, sizeof(*ops));
	if (scim_body(q, &root, &err) == -1 ||
	    scim_json_patch(root, SCIM_RES_ALIAS, ops, &n, &err) == -1)
		goto fail;
	c.address = a.address;
	c.ops = ops;
	c.n = n;
	if (model_tx(&q->rdb.m, patch_tx, &c, &err) == -1)
		goto fail;
	alias_rec_release(&a);
	if (alias_get(&q->rdb.m, q->id, &a, &err) != 1)
		goto fail;
	reply_alias(q, 200, &a);
	goto out;
fail:
	scim_fail(q, &err);
out:
	alias_rec_release(&a);
	json_decref(root);
	free(ops);
}

static void
del(struct scim_req *q)
{
	struct alias_rec a;
	struct err err = ERR_INIT;

	if (fetch(q, &a) != 1)
		return;
	if (alias_del(&q->rdb.m, a.address, &err) == -1)
		scim_fail(q, &err);
	else {
		log_info("scim: %s deleted alias %s", q->r->subject, a.address);
		http_reply_empty(q->w, 204);
	}
	alias_rec_release(&a);
}

void
scim_aliases(struct scim_req *q)
{
	struct alias_rec a;
	const char *m = q->r->method;

	if (q->id == NULL) {
		if (strcmp(m, "GET") == 0)
			scim_list(
			    q, scim_alias_attrs, SCIM_URN_ALIAS, list_page);
		else
			create(q);
	} else if (strcmp(m, "GET") == 0) {
		if (fetch(q, &a) == 1) {
			reply_alias(q, 200, &a);
			alias_rec_release(&a);
		}
	} else if (strcmp(m, "PATCH") == 0)
		patch(q);
	else
		del(q);
}
