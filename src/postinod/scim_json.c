#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "scim.h"
#include "scim_json.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

enum patch_verb { PV_ADD, PV_REPLACE, PV_REMOVE };

struct patch {
	enum scim_resource res;
	struct scim_op *ops;
	size_t n;
	struct err *err;
};

bool
scim_json_has_schema(json_t *o, const char *urn)
{
	json_t *s = json_object_get(o, "schemas"), *v;
	size_t i;

	if (!json_is_array(s))
		return false;
	json_array_foreach(s, i, v) if (json_is_string(v) &&
	    str_eq_nocase(json_string_value(v), urn)) return true;
	return false;
}

/* "given family" from a name object, or its "formatted"; 1/0/-1. */
static int
name_of(json_t *name, char *out, size_t size, struct err *err)
{
	json_t *f, *g, *fam;

	if (!json_is_object(name))
		return err_set(err, ERR_INVALID, "name must be an object");
	f = json_object_get(name, "formatted");
	g = json_object_get(name, "givenName");
	fam = json_object_get(name, "familyName");
	if ((f != NULL && !json_is_string(f)) ||
	    (g != NULL && !json_is_string(g)) ||
	    (fam != NULL && !json_is_string(fam)))
		return err_set(err, ERR_INVALID,
		    "name.formatted, name.givenName and name.familyName must be strings");
	if (f != NULL) {
		if (strlen(json_string_value(f)) >= size)
			return err_set(
			    err, ERR_INVALID, "name.formatted is too long");
		str_copy(out, json_string_value(f), size);
		return 1;
	}
	if (g == NULL && fam == NULL)
		return 0;
	if ((size_t)snprintf(out, size, "%s %s",
		g != NULL ? json_string_value(g) : "",
		fam != NULL ? json_string_value(fam) : "") >= size)
		return err_set(err, ERR_INVALID, "the name is too long");
	{
		char *t = str_trim(out);

		memmove(out, t, strlen(t) + 1);
	}
	return 1;
}

/* A boolean, or the strings "true"/"false" in any case: 0 or -1. */
static int
boolean(json_t *v, bool *b)
{
	if (json_is_boolean(v)) {
		*b = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && str_eq_nocase(json_string_value(v), "true")) {
		*b = true;
		return 0;
	}
	if (json_is_string(v) && str_eq_nocase(json_string_value(v), "false")) {
		*b = false;
		return 0;
	}
	return -1;
}

static int
quota_of(json_t *v, int64_t *q, struct err *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(err, ERR_INVALID,
		    "quotaBytes must be a non-negative integer");
	*q = json_integer_value(v);
	return 0;
}

int
scim_json_user(json_t *root, struct scim_user_in *u, struct err *err)
{
	json_t *v, *ext;
	int r;

	memset(u, 0, sizeof(*u));
	if (!scim_json_has_schema(root, SCIM_URN_USER))
		return err_set(
		    err, ERR_USAGE, "schemas must include " SCIM_URN_USER);
	v = json_object_get(root, "userName");
	if (!json_is_string(v) || *json_string_value(v) == '\0')
		return err_set(err, ERR_INVALID,
		    "userName (the mailbox address) is required");
	u->user_name = json_string_value(v);
	if ((v = json_object_get(root, "name")) != NULL && !json_is_null(v)) {
		if ((r = name_of(v, u->name, sizeof(u->name), err)) == -1)
			return -1;
		u->has_name = r == 1;
	}
	if (!u->has_name &&
	    (v = json_object_get(root, "displayName")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) >= sizeof(u->name))
			return err_set(
			    err, ERR_INVALID, "displayName must be a string");
		str_copy(u->name, json_string_value(v), sizeof(u->name));
		u->has_name = true;
	}
	if ((v = json_object_get(root, "active")) != NULL && !json_is_null(v)) {
		if (boolean(v, &u->active) == -1)
			return err_set(
			    err, ERR_INVALID, "active must be a boolean");
		u->has_active = true;
	}
	if ((v = json_object_get(root, "password")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v))
			return err_set(
			    err, ERR_INVALID, "password must be a string");
		u->password = json_string_value(v);
	}
	if ((v = json_object_get(root, "emails")) != NULL && !json_is_null(v)) {
		size_t i;
		json_t *e;

		if (!json_is_array(v))
			return err_set(
			    err, ERR_INVALID, "emails must be an array");
		json_array_foreach(v, i, e) if (!json_is_object(e) ||
		    (json_object_get(e, "value") != NULL &&
			!json_is_string(json_object_get(
			    e, "value")))) return err_set(err, ERR_INVALID,
		    "emails must hold objects with a string value");
	}
	if ((v = json_object_get(root, "externalId")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_string(v))
			return err_set(
			    err, ERR_INVALID, "externalId must be a string");
		if (*json_string_value(v) != '\0')
			u->external_id = json_string_value(v);
	}
	if ((ext = json_object_get(root, SCIM_SCHEMA_MAILBOX)) != NULL &&
	    !json_is_null(ext)) {
		if (!json_is_object(ext))
			return err_set(err, ERR_INVALID,
			    SCIM_SCHEMA_MAILBOX " must be an object");
		if ((v = json_object_get(ext, "quotaBytes")) != NULL) {
			if (quota_of(v, &u->quota, err) == -1)
				return -1;
			u->has_quota = true;
		}
	}
	return 0;
}

/* A goto given as one string or an array of strings, joined by ",". */
static char *
gotos_of(json_t *v, struct err *err)
{
	struct buf b;
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!json_is_array(v) || json_array_size(v) == 0) {
		err_set(err, ERR_INVALID,
		    "goto must be a string or an array of strings");
		return NULL;
	}
	buf_init(&b, 64 * 1024);
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || (i > 0 && buf_putc(&b, ',') == -1) ||
		    buf_puts(&b, json_string_value(e)) == -1) {
			buf_release(&b);
			err_set(err, ERR_INVALID,
			    "goto must be a string or an array of strings");
			return NULL;
		}
	}
	return buf_detach(&b);
}

int
scim_json_alias(json_t *root, struct scim_alias_in *a, struct err *err)
{
	json_t *v;

	memset(a, 0, sizeof(*a));
	if (!scim_json_has_schema(root, SCIM_URN_ALIAS))
		return err_set(
		    err, ERR_USAGE, "schemas must include " SCIM_URN_ALIAS);
	v = json_object_get(root, "address");
	if (!json_is_string(v) || *json_string_value(v) == '\0')
		return err_set(err, ERR_INVALID, "address is required");
	a->address = json_string_value(v);
	if ((v = json_object_get(root, "active")) != NULL && !json_is_null(v)) {
		if (boolean(v, &a->active) == -1)
			return err_set(
			    err, ERR_INVALID, "active must be a boolean");
		a->has_active = true;
	}
	if ((v = json_object_get(root, "goto")) == NULL)
		return err_set(err, ERR_INVALID, "goto is required");
	if ((a->gotos = gotos_of(v, err)) == NULL)
		return -1;
	return 0;
}

/* --- PATCH ------------------------------------------------------------- */

static struct scim_op *
new_op(struct patch *p, enum scim_op_kind kind)
{
	struct scim_op *op;

	if (p->n == SCIM_PATCH_MAX) {
		err_set(p->err, ERR_INVALID,
		    "more than %d changes in one PATCH", SCIM_PATCH_MAX);
		return NULL;
	}
	op = &p->ops[p->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static int
bad_path(struct patch *p, const char *path)
{
	return err_set(
	    p->err, ERR_BADPATH, "'%.100s' cannot be changed here", path);
}

static int apply_path(
    struct patch *, enum patch_verb, const char *path, json_t *value);

/* A value object without a path: each member is a path of its own. */
static int
apply_members(
    struct patch *p, enum patch_verb verb, const char *prefix, json_t *value)
{
	const char *key;
	json_t *v;
	char path[512];

	json_object_foreach(value, key, v)
	{
		/* "name": {...} stays whole; URN objects spread out. */
		if (prefix == NULL && json_is_object(v) &&
		    strncasecmp(key, "urn:", 4) == 0) {
			if (apply_members(p, verb, key, v) == -1)
				return -1;
			continue;
		}
		snprintf(path, sizeof(path), "%s%s%s",
		    prefix != NULL ? prefix : "", prefix != NULL ? ":" : "",
		    key);
		if (apply_path(p, verb, path, v) == -1)
			return -1;
	}
	return 0;
}

/* "active", the same for users and aliases. */
static int
active_op(struct patch *p, enum patch_verb verb, json_t *v)
{
	struct scim_op *op;

	if (verb == PV_REMOVE)
		return err_set(p->err, ERR_INVALID, "active cannot be removed");
	if ((op = new_op(p, SOP_ACTIVE)) == NULL)
		return -1;
	if (boolean(v, &op->flag) == -1)
		return err_set(p->err, ERR_INVALID, "active must be a boolean");
	return 0;
}

/*
 * Core User attributes (RFC 7643 4.1) postino keeps nowhere, emails
 * (always the userName), and the enterprise extension: a PATCH of them is
 * accepted and changes nothing.  path may go on with ".sub" or "[...]".
 */
/* Attributes no client may change: id, meta (and its parts), schemas. */
static bool
readonly_attr(const char *path)
{
	static const char *const names[] = { "id", "meta", "schemas", NULL };

	for (size_t i = 0; names[i] != NULL; i++) {
		size_t n = strlen(names[i]);

		if (strncasecmp(path, names[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '.'))
			return true;
	}
	return false;
}

static bool
unkept_attr(const char *path)
{
	static const char *const names[] = { "emails", "nickName", "profileUrl",
		"title", "userType", "preferredLanguage", "locale", "timezone",
		"phoneNumbers", "ims", "photos", "addresses", "groups",
		"entitlements", "roles", "x509Certificates", "name.middleName",
		"name.honorificPrefix", "name.honorificSuffix", NULL };
	static const char ent[] =
	    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

	if (strncasecmp(path, ent, sizeof(ent) - 1) == 0 &&
	    (path[sizeof(ent) - 1] == '\0' || path[sizeof(ent) - 1] == ':'))
		return true;
	for (size_t i = 0; names[i] != NULL; i++) {
		size_t n = strlen(names[i]);

		if (strncasecmp(path, names[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '.' || path[n] == '['))
			return true;
	}
	return false;
}

static int
user_path(struct patch *p, enum patch_verb verb, const char *path, json_t *v)
{
	struct scim_op *op;

	if (str_eq_nocase(path, "active"))
		return active_op(p, verb, v);
	if (str_eq_nocase(path, "name.formatted") ||
	    str_eq_nocase(path, "displayName")) {
		if ((op = new_op(p, SOP_NAME)) == NULL)
			return -1;
		op->str = op->buf;
		if (verb == PV_REMOVE || json_is_null(v))
			return 0;
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) >= sizeof(op->buf))
			return err_set(
			    p->err, ERR_INVALID, "%s must be a string", path);
		str_copy(op->buf, json_string_value(v), sizeof(op->buf));
		return 0;
	}
	if (str_eq_nocase(path, "name") && json_is_object(v) &&
	    verb != PV_REMOVE && json_object_get(v, "formatted") == NULL &&
	    (json_object_get(v, "givenName") != NULL ||
		json_object_get(v, "familyName") != NULL)) {
		/* Only the parts sent change: the others keep their value. */
		if (json_object_get(v, "givenName") != NULL &&
		    user_path(p, verb, "name.givenName",
			json_object_get(v, "givenName")) == -1)
			return -1;
		if (json_object_get(v, "familyName") != NULL &&
		    user_path(p, verb, "name.familyName",
			json_object_get(v, "familyName")) == -1)
			return -1;
		return 0;
	}
	if (str_eq_nocase(path, "name")) {
		if ((op = new_op(p, SOP_NAME)) == NULL)
			return -1;
		op->str = op->buf;
		if (verb == PV_REMOVE || json_is_null(v))
			return 0;
		switch (name_of(v, op->buf, sizeof(op->buf), p->err)) {
		case -1:
			return -1;
		case 0:
			p->n--; /* nothing we keep was given */
			return 0;
		default:
			return 0;
		}
	}
	if (str_eq_nocase(path, "name.givenName") ||
	    str_eq_nocase(path, "name.familyName")) {
		bool given = strlen(path) == strlen("name.givenName");

		if ((op = new_op(p, given ? SOP_GIVEN : SOP_FAMILY)) == NULL)
			return -1;
		op->str = op->buf;
		if (verb == PV_REMOVE || json_is_null(v))
			return 0;
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) >= sizeof(op->buf))
			return err_set(p->err, ERR_INVALID,
			    "%.40s must be a string", path);
		str_copy(op->buf, json_string_value(v), sizeof(op->buf));
		return 0;
	}
	if (str_eq_nocase(path, "externalId")) {
		if ((op = new_op(p, SOP_EXTERNAL)) == NULL)
			return -1;
		if (verb == PV_REMOVE || json_is_null(v))
			return 0;
		if (!json_is_string(v))
			return err_set(
			    p->err, ERR_INVALID, "externalId must be a string");
		if (strlen(json_string_value(v)) >= sizeof(op->buf))
			return err_set(
			    p->err, ERR_INVALID, "externalId is too long");
		str_copy(op->buf, json_string_value(v), sizeof(op->buf));
		if (op->buf[0] != '\0')
			op->str = op->buf;
		return 0;
	}
	if (str_eq_nocase(path, "userName")) {
		if (verb == PV_REMOVE || !json_is_string(v))
			return err_set(p->err, ERR_READONLY,
			    "userName is the mailbox address: it cannot be removed or renamed through SCIM");
		if ((op = new_op(p, SOP_USERNAME)) == NULL)
			return -1;
		op->str = op->buf;
		if (strlen(json_string_value(v)) >= sizeof(op->buf))
			return err_set(
			    p->err, ERR_INVALID, "userName is too long");
		str_copy(op->buf, json_string_value(v), sizeof(op->buf));
		return 0;
	}
	if (readonly_attr(path))
		return err_set(
		    p->err, ERR_READONLY, "'%.100s' is read-only", path);
	if (unkept_attr(path))
		return 0;
	if (str_eq_nocase(path, "password")) {
		if (verb == PV_REMOVE || json_is_null(v) ||
		    (json_is_string(v) && *json_string_value(v) == '\0'))
			return new_op(p, SOP_RELEASE) == NULL ? -1 : 0;
		if (!json_is_string(v))
			return err_set(
			    p->err, ERR_INVALID, "password must be a string");
		if ((op = new_op(p, SOP_PASSWORD)) == NULL)
			return -1;
		op->str = json_string_value(v);
		return 0;
	}
	if (str_eq_nocase(path, SCIM_SCHEMA_MAILBOX ":quotaBytes")) {
		if (verb == PV_REMOVE)
			return err_set(p->err, ERR_INVALID,
			    "quotaBytes cannot be removed (0 means unlimited)");
		if ((op = new_op(p, SOP_QUOTA)) == NULL)
			return -1;
		return quota_of(v, &op->num, p->err);
	}
	return bad_path(p, path);
}

static int
alias_path(struct patch *p, enum patch_verb verb, const char *path, json_t *v)
{
	struct scim_op *op;

	if (str_eq_nocase(path, "active"))
		return active_op(p, verb, v);
	if (str_eq_nocase(path, "goto")) {
		char *g;

		if (verb == PV_REMOVE)
			return err_set(p->err, ERR_INVALID,
			    "goto cannot be removed; delete the alias");
		if ((op = new_op(p, SOP_GOTO)) == NULL)
			return -1;
		if ((g = gotos_of(v, p->err)) == NULL)
			return -1;
		if (strlen(g) >= sizeof(op->buf)) {
			free(g);
			return err_set(p->err, ERR_INVALID, "goto is too long");
		}
		str_copy(op->buf, g, sizeof(op->buf));
		free(g);
		op->str = op->buf;
		return 0;
	}
	return bad_path(p, path);
}

static int
apply_path(struct patch *p, enum patch_verb verb, const char *path, json_t *v)
{
	const char *urn =
	    p->res == SCIM_RES_USER ? SCIM_URN_USER : SCIM_URN_ALIAS;
	size_t ul = strlen(urn);

	if (strchr(path, '[') != NULL) {
		if (p->res == SCIM_RES_USER && unkept_attr(path))
			return 0;
		return err_set(p->err, ERR_BADPATH,
		    "filtered paths are not supported: '%.100s'", path);
	}
	if (strlen(path) > ul + 1 && path[ul] == ':' &&
	    strncasecmp(path, urn, ul) == 0)
		path += ul + 1;
	if (verb != PV_REMOVE && v == NULL)
		return err_set(
		    p->err, ERR_INVALID, "'%.100s': a value is required", path);
	return p->res == SCIM_RES_USER ? user_path(p, verb, path, v)
				       : alias_path(p, verb, path, v);
}

int
scim_json_patch(json_t *root, enum scim_resource res, struct scim_op *ops,
    size_t *n_r, struct err *err)
{
	struct patch p = { res, ops, 0, err };
	json_t *list, *o;
	size_t i;

	*n_r = 0;
	if (!scim_json_has_schema(root, SCIM_URN_PATCH))
		return err_set(
		    err, ERR_USAGE, "schemas must include " SCIM_URN_PATCH);
	list = json_object_get(root, "Operations");
	if (!json_is_array(list) || json_array_size(list) == 0)
		return err_set(
		    err, ERR_USAGE, "Operations must be a non-empty array");
	json_array_foreach(list, i, o)
	{
		const char *verb, *path;
		json_t *value;
		enum patch_verb pv;
		int rc;

		if (!json_is_object(o) ||
		    (verb = json_string_value(json_object_get(o, "op"))) ==
			NULL) {
			rc = err_set(err, ERR_USAGE,
			    "operation %zu: \"op\" is required", i + 1);
			goto out;
		}
		if (str_eq_nocase(verb, "add"))
			pv = PV_ADD;
		else if (str_eq_nocase(verb, "replace"))
			pv = PV_REPLACE;
		else if (str_eq_nocase(verb, "remove"))
			pv = PV_REMOVE;
		else {
			rc = err_set(err, ERR_USAGE,
			    "operation %zu: unknown op '%.20s'", i + 1, verb);
			goto out;
		}
		value = json_object_get(o, "value");
		if (json_object_get(o, "path") != NULL) {
			if ((path = json_string_value(
				 json_object_get(o, "path"))) == NULL ||
			    *path == '\0') {
				rc = err_set(err, ERR_BADPATH,
				    "operation %zu: path must be a string",
				    i + 1);
				goto out;
			}
			rc = apply_path(&p, pv, path, value);
		} else if (pv == PV_REMOVE) {
			rc = err_set(err, ERR_NOTARGET,
			    "operation %zu: remove needs a path", i + 1);
		} else if (!json_is_object(value)) {
			rc = err_set(err, ERR_INVALID,
			    "operation %zu: without a path, value must be an object",
			    i + 1);
		} else
			rc = apply_members(&p, pv, NULL, value);
		if (rc == -1)
			goto out;
	}
	*n_r = p.n;
	return 0;
out:
	return -1;
}
