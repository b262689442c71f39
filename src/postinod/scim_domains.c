/*
 * /scim/v2/Domains: postino's read-only extension resource for mail domains
 * (schema urn:postino:params:scim:schemas:core:2.0:Domain).  Domains are
 * managed with "postino domain ..."; PostfixAdmin's "ALL" is never shown.
 */
#include <string.h>

#include "domain.h"
#include "scim.h"
#include "banned.h"

static json_t *
domain_json(const struct domain_rec *d)
{
	json_t *o = json_object(), *s = json_array();
	char loc[3 * ADDR_MAX + 64];

	json_array_append_new(s, json_string(SCIM_URN_DOMAIN));
	json_object_set_new(o, "schemas", s);
	json_object_set_new(o, "id", http_json_str(d->domain));
	json_object_set_new(o, "domain", http_json_str(d->domain));
	json_object_set_new(o, "description", http_json_str(d->description));
	json_object_set_new(o, "transport", http_json_str(d->transport));
	json_object_set_new(o, "maxAliases", json_integer(d->aliases));
	json_object_set_new(o, "maxMailboxes", json_integer(d->mailboxes));
	json_object_set_new(
	    o, "maxQuotaBytes", json_integer(d->maxquota_bytes));
	json_object_set_new(o, "quotaBytes", json_integer(d->quota_bytes));
	json_object_set_new(
	    o, "defaultQuotaBytes", json_integer(d->default_quota_bytes));
	json_object_set_new(o, "backupmx", json_boolean(d->backupmx));
	json_object_set_new(o, "active", json_boolean(d->active));
	json_object_set_new(o, "meta",
	    scim_meta_obj("Domain", d->created, d->modified,
		scim_location("Domains", d->domain, loc, sizeof(loc))));
	return o;
}

static int
list_row(void *arg, const struct domain_rec *d)
{
	json_array_append_new(arg, domain_json(d));
	return 0;
}

static int
list_page(struct model *m, const struct scim_page *page, json_t *res,
    int64_t *total_r, struct err *err)
{
	return scim_query_domains(m, page, list_row, res, total_r, err);
}

void
scim_domains(struct scim_req *q)
{
	struct domain_rec d;
	struct err err = ERR_INIT;
	int rc;

	if (q->id != NULL) {
		if (scim_db(q, &err) == -1) {
			scim_fail(q, &err);
			return;
		}
		rc = domain_get(&q->rdb.m, q->id, &d, &err);
		if (rc == 1) {
			scim_reply(q, 200, domain_json(&d));
			return;
		}
		if (rc == 0 || err.kind == ERR_INVALID)
			err_set(&err, ERR_NOTFOUND,
			    "domain '%.253s' does not exist", q->id);
		scim_fail(q, &err);
		return;
	}
	scim_list(q, scim_domain_attrs, SCIM_URN_DOMAIN, list_page);
}
