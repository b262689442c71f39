/*
 * SCIM discovery (RFC 7644 section 4): /ServiceProviderConfig,
 * /ResourceTypes[/{id}] and /Schemas[/{id}], generated from the tables
 * below, which describe exactly what scim_users.c, scim_aliases.c and
 * scim_domains.c read and write.
 */
#include <stdbool.h>
#include <string.h>

#include "conf.h"
#include "scim.h"
#include "strutil.h"
#include "banned.h"

struct attr_def {
	const char *name;
	const char *type; /* string boolean integer complex ... */
	bool multi;
	bool required;
	const char *mutability;
	const char *returned;
	const char *uniqueness;	    /* NULL = none */
	const struct attr_def *sub; /* NULL-name terminated */
	const char *description;
};

#define END                                                                    \
	{                                                                      \
		NULL, NULL, false, false, NULL, NULL, NULL, NULL, NULL         \
	}

static const struct attr_def name_sub[] = {
	{ "formatted", "string", false, false, "readWrite", "default", NULL,
	    NULL, "the full name, stored as the mailbox name" },
	{ "givenName", "string", false, false, "writeOnly", "never", NULL, NULL,
	    "the first word of the name; joined with familyName when formatted is absent" },
	{ "familyName", "string", false, false, "writeOnly", "never", NULL,
	    NULL,
	    "the rest of the name; joined with givenName when formatted is absent" },
	END
};

static const struct attr_def email_sub[] = { { "value", "string", false, false,
						 "readOnly", "default", NULL,
						 NULL, "the mailbox address" },
	{ "type", "string", false, false, "readOnly", "default", NULL, NULL,
	    "always \"work\"" },
	{ "primary", "boolean", false, false, "readOnly", "default", NULL, NULL,
	    "always true" },
	END };

static const struct attr_def user_attrs[] = {
	{ "userName", "string", false, true, "immutable", "always", "server",
	    NULL, "the mailbox address, local@domain" },
	{ "name", "complex", false, false, "readWrite", "default", NULL,
	    name_sub, "the mailbox owner's name" },
	{ "displayName", "string", false, false, "readWrite", "default", NULL,
	    NULL, "the same as name.formatted" },
	{ "emails", "complex", true, false, "readOnly", "default", NULL,
	    email_sub, "the mailbox address" },
	{ "externalId", "string", false, false, "readWrite", "default",
	    "server", NULL,
	    "the provisioning client's id for the person, compared exactly" },
	{ "active", "boolean", false, false, "readWrite", "default", NULL, NULL,
	    "whether the mailbox receives mail and may log in" },
	{ "password", "string", false, false, "writeOnly", "never", NULL, NULL,
	    "set a local password (claims an IdP-managed mailbox under identity_backend=hybrid); remove it, or set null or \"\", to hand the mailbox back to the IdP" },
	END
};

static const struct attr_def mailbox_attrs[] = {
	{ "domain", "string", false, false, "readOnly", "default", NULL, NULL,
	    "the mailbox's domain" },
	{ "quotaBytes", "integer", false, false, "readWrite", "default", NULL,
	    NULL, "mailbox quota in bytes; 0 is unlimited" },
	{ "idpManaged", "boolean", false, false, "readOnly", "default", NULL,
	    NULL,
	    "true when the identity provider authenticates the mailbox ({NOAUTH})" },
	END
};

static const struct attr_def alias_attrs[] = {
	{ "address", "string", false, true, "immutable", "always", "server",
	    NULL, "the forwarding address, local@domain or @domain" },
	{ "goto", "string", false, true, "readWrite", "default", NULL, NULL,
	    "comma-separated destinations" },
	{ "active", "boolean", false, false, "readWrite", "default", NULL, NULL,
	    "whether the alias forwards" },
	END
};

static const struct attr_def domain_attrs[] = {
	{ "domain", "string", false, true, "readOnly", "always", "server", NULL,
	    "the domain name" },
	{ "description", "string", false, false, "readOnly", "default", NULL,
	    NULL, NULL },
	{ "transport", "string", false, false, "readOnly", "default", NULL,
	    NULL, "the Postfix transport, as stored" },
	{ "maxAliases", "integer", false, false, "readOnly", "default", NULL,
	    NULL, "0 unlimited, -1 none" },
	{ "maxMailboxes", "integer", false, false, "readOnly", "default", NULL,
	    NULL, "0 unlimited, -1 none" },
	{ "maxQuotaBytes", "integer", false, false, "readOnly", "default", NULL,
	    NULL, "largest quota of one mailbox; 0 unlimited" },
	{ "quotaBytes", "integer", false, false, "readOnly", "default", NULL,
	    NULL, "the domain's total quota; 0 unlimited" },
	{ "defaultQuotaBytes", "integer", false, false, "readOnly", "default",
	    NULL, NULL, "quota of new mailboxes" },
	{ "backupmx", "boolean", false, false, "readOnly", "default", NULL,
	    NULL, NULL },
	{ "active", "boolean", false, false, "readOnly", "default", NULL, NULL,
	    NULL },
	END
};

struct schema_def {
	const char *id;
	const char *name;
	const char *description;
	const struct attr_def *attrs;
};

static const struct schema_def schemas[] = {
	{ SCIM_URN_USER, "User", "a mailbox", user_attrs },
	{ SCIM_SCHEMA_MAILBOX, "Mailbox", "postino's mailbox attributes",
	    mailbox_attrs },
	{ SCIM_URN_ALIAS, "Alias", "a forwarding address", alias_attrs },
	{ SCIM_URN_DOMAIN, "Domain", "a mail domain", domain_attrs },
};

struct rtype_def {
	const char *id;
	const char *endpoint;
	const char *description;
	const char *schema;
	const char *extension; /* NULL = none */
};

static const struct rtype_def rtypes[] = {
	{ "User", "/Users", "mailboxes", SCIM_URN_USER, SCIM_SCHEMA_MAILBOX },
	{ "Alias", "/Aliases", "forwarding addresses", SCIM_URN_ALIAS, NULL },
	{ "Domain", "/Domains", "mail domains (read-only)", SCIM_URN_DOMAIN,
	    NULL },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static json_t *
schemas_of(const char *urn)
{
	json_t *s = json_array();

	json_array_append_new(s, json_string(urn));
	return s;
}

static json_t *
meta_of(const char *type, const char *resource, const char *id)
{
	char loc[512];

	return scim_meta_obj(type, NULL, NULL,
	    id != NULL ? scim_location(resource, id, loc, sizeof(loc))
		       : SCIM_BASE "/ServiceProviderConfig");
}

static json_t *
attrs_json(const struct attr_def *a)
{
	json_t *arr = json_array();

	for (; a->name != NULL; a++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(a->name));
		json_object_set_new(o, "type", json_string(a->type));
		json_object_set_new(o, "multiValued", json_boolean(a->multi));
		if (a->description != NULL)
			json_object_set_new(
			    o, "description", json_string(a->description));
		json_object_set_new(o, "required", json_boolean(a->required));
		if (strcmp(a->type, "string") == 0)
			json_object_set_new(o, "caseExact", json_false());
		json_object_set_new(
		    o, "mutability", json_string(a->mutability));
		json_object_set_new(o, "returned", json_string(a->returned));
		if (strcmp(a->type, "complex") != 0)
			json_object_set_new(o, "uniqueness",
			    json_string(a->uniqueness != NULL ? a->uniqueness
							      : "none"));
		if (a->sub != NULL)
			json_object_set_new(
			    o, "subAttributes", attrs_json(a->sub));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
schema_json(const struct schema_def *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "schemas", schemas_of(SCIM_URN_SCHEMA));
	json_object_set_new(o, "id", json_string(s->id));
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "description", json_string(s->description));
	json_object_set_new(o, "attributes", attrs_json(s->attrs));
	json_object_set_new(o, "meta", meta_of("Schema", "Schemas", s->id));
	return o;
}

static json_t *
rtype_json(const struct rtype_def *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "schemas", schemas_of(SCIM_URN_RTYPE));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "name", json_string(r->id));
	json_object_set_new(o, "endpoint", json_string(r->endpoint));
	json_object_set_new(o, "description", json_string(r->description));
	json_object_set_new(o, "schema", json_string(r->schema));
	if (r->extension != NULL) {
		json_t *ext = json_object(), *arr = json_array();

		json_object_set_new(ext, "schema", json_string(r->extension));
		json_object_set_new(ext, "required", json_false());
		json_array_append_new(arr, ext);
		json_object_set_new(o, "schemaExtensions", arr);
	}
	json_object_set_new(
	    o, "meta", meta_of("ResourceType", "ResourceTypes", r->id));
	return o;
}

static json_t *
supported(bool yes)
{
	json_t *o = json_object();

	json_object_set_new(o, "supported", json_boolean(yes));
	return o;
}

static json_t *
spc_json(const struct postino_conf *conf)
{
	json_t *o = json_object(), *bulk = supported(false);
	json_t *filter = supported(true), *schemes = json_array();
	json_t *bearer = json_object();

	json_object_set_new(o, "schemas", schemas_of(SCIM_URN_SPC));
	json_object_set_new(o, "patch", supported(true));
	json_object_set_new(bulk, "maxOperations", json_integer(0));
	json_object_set_new(bulk, "maxPayloadSize", json_integer(0));
	json_object_set_new(o, "bulk", bulk);
	json_object_set_new(filter, "maxResults", json_integer(SCIM_COUNT_MAX));
	json_object_set_new(o, "filter", filter);
	json_object_set_new(o, "changePassword",
	    supported(conf->identity_backend != IDENTITY_NOAUTH));
	json_object_set_new(o, "sort", supported(true));
	json_object_set_new(o, "etag", supported(false));
	json_object_set_new(bearer, "type", json_string("oauthbearertoken"));
	json_object_set_new(bearer, "name", json_string("OAuth Bearer Token"));
	json_object_set_new(bearer, "description",
	    json_string(
		"a JWT signed by the configured issuer (RS256, PS256, ES256 or EdDSA)"));
	json_object_set_new(bearer, "primary", json_true());
	json_array_append_new(schemes, bearer);
	json_object_set_new(o, "authenticationSchemes", schemes);
	json_object_set_new(
	    o, "meta", meta_of("ServiceProviderConfig", NULL, NULL));
	return o;
}

static void
list_reply(struct scim_req *q, json_t *res)
{
	struct scim_list l;

	memset(&l, 0, sizeof(l));
	l.start = 1;
	scim_list_reply(q, &l, (int64_t)json_array_size(res), res);
}

static void
not_found(struct scim_req *q, const char *what)
{
	struct err err = ERR_INIT;

	err_set(&err, ERR_NOTFOUND, "no %s '%.200s'", what, q->id);
	scim_fail(q, &err);
}

void
scim_meta(struct scim_req *q, const char *endpoint)
{
	json_t *res;

	if (strcmp(endpoint, "ServiceProviderConfig") == 0) {
		scim_reply(q, 200, spc_json(q->d->conf));
		return;
	}
	if (strcmp(endpoint, "ResourceTypes") == 0) {
		if (q->id != NULL) {
			for (size_t i = 0; i < NELEM(rtypes); i++)
				if (strcmp(rtypes[i].id, q->id) == 0) {
					scim_reply(
					    q, 200, rtype_json(&rtypes[i]));
					return;
				}
			not_found(q, "resource type");
			return;
		}
		res = json_array();
		for (size_t i = 0; i < NELEM(rtypes); i++)
			json_array_append_new(res, rtype_json(&rtypes[i]));
		list_reply(q, res);
		return;
	}
	if (q->id != NULL) {
		for (size_t i = 0; i < NELEM(schemas); i++)
			if (str_eq_nocase(schemas[i].id, q->id)) {
				scim_reply(q, 200, schema_json(&schemas[i]));
				return;
			}
		not_found(q, "schema");
		return;
	}
	res = json_array();
	for (size_t i = 0; i < NELEM(schemas); i++)
		json_array_append_new(res, schema_json(&schemas[i]));
	list_reply(q, res);
}
