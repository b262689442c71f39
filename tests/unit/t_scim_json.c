/*
 * postinod's SCIM request bodies: User and Alias resources and PatchOp
 * messages into plain structs, with the error keywords RFC 7644 asks for;
 * and the plain HTTP helpers the handlers answer with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "../../src/postinod/http.c"
#include "../../src/postinod/scim_json.c"

#define USER "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define ALIAS "\"schemas\":[\"urn:postino:params:scim:schemas:core:2.0:Alias\"]"
#define PATCH "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"
#define EXT "urn:postino:params:scim:schemas:extension:mailbox:2.0:User"

static json_t *
load(const char *s)
{
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);

	if (j == NULL)
		diag("bad test JSON: %s", s);
	return j;
}

static void
test_user(void)
{
	struct scim_user_in u;
	struct err err = ERR_INIT;
	json_t *j;

	j = load(
	    "{" USER ",\"userName\":\"a@b.org\",\"name\":{\"formatted\":"
	    "\"Ann\"},\"active\":false,\"password\":\"pw\",\"emails\":[{"
	    "\"value\""
	    ":\"a@b.org\",\"primary\":true}],\"" EXT "\":{\"quotaBytes\":5},"
	    "\"externalId\":\"x\"}");
	ok(scim_json_user(j, &u, &err) == 0 &&
		strcmp(u.user_name, "a@b.org") == 0 && u.has_name &&
		strcmp(u.name, "Ann") == 0 && u.has_active && !u.active &&
		u.password != NULL && u.has_quota && u.quota == 5,
	    "a full user");
	json_decref(j);
	j = load("{" USER ",\"userName\":\"a@b.org\",\"name\":{\"givenName\":"
		 "\"Ann\",\"familyName\":\"Lee\"},\"active\":\"TRUE\"}");
	ok(scim_json_user(j, &u, &err) == 0 && strcmp(u.name, "Ann Lee") == 0 &&
		u.active && u.password == NULL,
	    "given + family, \"TRUE\"");
	json_decref(j);
	j = load("{" USER ",\"userName\":\"a@b.org\",\"displayName\":\"D\","
		 "\"password\":null}");
	ok(scim_json_user(j, &u, &err) == 0 && strcmp(u.name, "D") == 0 &&
		u.password == NULL,
	    "displayName, null password");
	json_decref(j);

#define BAD(text, want, what)                                                  \
	do {                                                                   \
		struct err e = ERR_INIT;                                       \
		json_t *b = load(text);                                        \
		ok(b != NULL && scim_json_user(b, &u, &e) == -1 &&             \
			e.kind == (want),                                      \
		    "%s (%s)", what, e.msg);                                   \
		json_decref(b);                                                \
	} while (0)
	BAD("{\"userName\":\"a@b.org\"}", ERR_USAGE, "no schemas");
	BAD("{\"schemas\":\"x\",\"userName\":\"a@b.org\"}", ERR_USAGE,
	    "schemas not an array");
	BAD("{" USER "}", ERR_INVALID, "no userName");
	BAD("{" USER ",\"userName\":\"\"}", ERR_INVALID, "empty userName");
	BAD("{" USER ",\"userName\":7}", ERR_INVALID, "userName a number");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"name\":\"Ann\"}", ERR_INVALID,
	    "name a string");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"name\":{\"formatted\":1}}",
	    ERR_INVALID, "formatted a number");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"active\":1}", ERR_INVALID,
	    "active a number");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"password\":true}",
	    ERR_INVALID, "password a boolean");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"emails\":\"a@b.org\"}",
	    ERR_INVALID, "emails a string");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"emails\":[{\"value\":1}]}",
	    ERR_INVALID, "an email value a number");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"" EXT "\":{\"quotaBytes\":"
	    "\"5\"}}",
	    ERR_INVALID, "quota a string");
	BAD("{" USER ",\"userName\":\"a@b.org\",\"" EXT "\":[]}", ERR_INVALID,
	    "extension not an object");
#undef BAD
}

static void
test_alias(void)
{
	struct scim_alias_in a;
	struct err err = ERR_INIT;
	json_t *j;

	j = load("{" ALIAS ",\"address\":\"x@b.org\",\"goto\":[\"a@b.org\","
		 "\"c@d.org\"],\"active\":false}");
	ok(scim_json_alias(j, &a, &err) == 0 &&
		strcmp(a.gotos, "a@b.org,c@d.org") == 0 && a.has_active &&
		!a.active,
	    "an alias with a goto array");
	free(a.gotos);
	json_decref(j);
	j = load("{" ALIAS ",\"address\":\"x@b.org\",\"goto\":[]}");
	ok(scim_json_alias(j, &a, &err) == -1, "an empty goto array");
	json_decref(j);
	j = load("{" ALIAS ",\"address\":\"x@b.org\",\"goto\":[\"a\",2]}");
	ok(scim_json_alias(j, &a, &err) == -1, "a goto array with a number");
	json_decref(j);
	j = load("{" ALIAS ",\"address\":\"x@b.org\"}");
	ok(scim_json_alias(j, &a, &err) == -1, "no goto");
	json_decref(j);
	j = load("{" USER ",\"address\":\"x@b.org\",\"goto\":\"a@b.org\"}");
	ok(scim_json_alias(j, &a, &err) == -1 && err.kind == ERR_USAGE,
	    "the User schema is not the Alias schema");
	json_decref(j);
}

static int
patch(const char *ops, enum scim_resource res, struct scim_op *out, size_t *n,
    struct err *err)
{
	char *text = xasprintf("{" PATCH ",\"Operations\":[%s]}", ops);
	json_t *j = load(text);
	int rc = j != NULL ? scim_json_patch(j, res, out, n, err) : -2;

	free(text);
	json_decref(j);
	return rc;
}

/* The scimType the error table gives a kind. */
static bool
type_is(enum err_kind kind, const char *want)
{
	return strcmp(err_info(kind)->scim_type, want) == 0;
}

static void
test_patch(void)
{
	struct scim_op *ops = xcalloc(SCIM_PATCH_MAX, sizeof(*ops));
	struct err err = ERR_INIT;
	size_t n = 0;
	char many[8192];
	json_t *j;

	ok(patch("{\"op\":\"replace\",\"path\":\"active\",\"value\":false},"
		 "{\"op\":\"Add\",\"path\":\"name.formatted\",\"value\":\"N\"},"
		 "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"pw\"},"
		 "{\"op\":\"remove\",\"path\":\"password\"},"
		 "{\"op\":\"replace\",\"path\":\"" EXT
		 ":quotaBytes\",\"value\":9}",
	       SCIM_RES_USER, ops, &n, &err) == 0 &&
		n == 5,
	    "five user operations");
	ok(n == 5 && ops[0].kind == SOP_ACTIVE && !ops[0].flag &&
		ops[1].kind == SOP_NAME && strcmp(ops[1].str, "N") == 0 &&
		ops[2].kind == SOP_PASSWORD && ops[3].kind == SOP_RELEASE &&
		ops[4].kind == SOP_QUOTA && ops[4].num == 9,
	    "... in order");
	ok(patch("{\"op\":\"replace\",\"value\":{\"active\":true,\"name\":"
		 "{\"givenName\":\"A\",\"familyName\":\"B\"},\"" EXT "\":"
		 "{\"quotaBytes\":3},\"urn:ietf:params:scim:schemas:core:2.0:"
		 "User:"
		 "displayName\":\"D\"}}",
	       SCIM_RES_USER, ops, &n, &err) == 0 &&
		n == 5 && ops[0].kind == SOP_ACTIVE &&
		ops[1].kind == SOP_GIVEN && strcmp(ops[1].str, "A") == 0 &&
		ops[2].kind == SOP_FAMILY && strcmp(ops[2].str, "B") == 0 &&
		ops[3].kind == SOP_QUOTA && ops[4].kind == SOP_NAME,
	    "a value object without "
	    "path (%s)",
	    err.msg);
	ok(patch("{\"op\":\"replace\",\"path\":\"password\",\"value\":null},"
		 "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"\"}",
	       SCIM_RES_USER, ops, &n, &err) == 0 &&
		n == 2 && ops[0].kind == SOP_RELEASE &&
		ops[1].kind == SOP_RELEASE,
	    "null and \"\" passwords release");
	ok(patch(
	       "{\"op\":\"replace\",\"path\":\"goto\",\"value\":[\"a@b.c\","
	       "\"d@e.f\"]},{\"op\":\"replace\",\"path\":\"active\",\"value\":"
	       "\"false\"}",
	       SCIM_RES_ALIAS, ops, &n, &err) == 0 &&
		n == 2 && strcmp(ops[0].str, "a@b.c,d@e.f") == 0 &&
		ops[1].kind == SOP_ACTIVE && !ops[1].flag,
	    "alias operations");

#define BAD(text, res, want_type, what)                                        \
	do {                                                                   \
		struct err e = ERR_INIT;                                       \
		ok(patch(text, res, ops, &n, &e) == -1 &&                      \
			type_is(e.kind, want_type),                            \
		    "%s (%s)", what, e.msg);                                   \
	} while (0)
	BAD("{\"op\":\"replace\",\"path\":\"frobnicate\",\"value\":\"x\"}",
	    SCIM_RES_USER, "invalidPath", "unknown path");
	BAD("{\"op\":\"replace\",\"path\":\"frob[type eq \\\"work\\\"]."
	    "value\",\"value\":\"x\"}",
	    SCIM_RES_USER, "invalidPath", "a filtered path");
	ok(patch("{\"op\":\"Replace\",\"path\":\"emails[type eq "
		 "\\\"work\\\"].value\",\"value\":\"x@y.org\"},{\"op\":"
		 "\"Add\",\"path\":\"addresses[type eq \\\"work\\\"]."
		 "locality\",\"value\":\"L\"},{\"op\":\"Replace\",\"path\":"
		 "\"title\",\"value\":\"T\"},{\"op\":\"Replace\",\"path\":"
		 "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
		 "User:department\",\"value\":\"D\"},{\"op\":\"Replace\","
		 "\"path\":\"active\",\"value\":\"False\"}",
	       SCIM_RES_USER, ops, &n, &err) == 0 &&
		n == 1 && ops[0].kind == SOP_ACTIVE && !ops[0].flag,
	    "Entra: value paths, title and the enterprise extension are "
	    "accepted and change nothing (%s)",
	    err.msg);
	ok(patch("{\"op\":\"replace\",\"path\":\"externalId\",\"value\":"
		 "\"e-1\"},{\"op\":\"remove\",\"path\":\"externalId\"},{"
		 "\"op\":\"replace\",\"path\":\"name.familyName\",\"value\":"
		 "\"F\"}",
	       SCIM_RES_USER, ops, &n, &err) == 0 &&
		n == 3 && ops[0].kind == SOP_EXTERNAL &&
		strcmp(ops[0].str, "e-1") == 0 && ops[1].kind == SOP_EXTERNAL &&
		ops[1].str == NULL && ops[2].kind == SOP_FAMILY &&
		strcmp(ops[2].str, "F") == 0,
	    "externalId and name.familyName (%s)", err.msg);
	BAD("{\"op\":\"replace\",\"path\":\"goto\",\"value\":\"x\"}",
	    SCIM_RES_USER, "invalidPath", "goto is not a user attribute");
	BAD("{\"op\":\"replace\",\"path\":\"password\",\"value\":\"x\"}",
	    SCIM_RES_ALIAS, "invalidPath",
	    "password is not an alias "
	    "attribute");
	BAD("{\"op\":\"replace\",\"path\":7,\"value\":\"x\"}", SCIM_RES_USER,
	    "invalidPath", "path a number");
	BAD("{\"op\":\"remove\"}", SCIM_RES_USER, "noTarget",
	    "remove without path");
	BAD("{\"op\":\"replace\",\"value\":5}", SCIM_RES_USER, "invalidValue",
	    "no path and a value that is no object");
	BAD("{\"op\":\"replace\",\"path\":\"active\"}", SCIM_RES_USER,
	    "invalidValue", "no value");
	BAD("{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}",
	    SCIM_RES_USER, "invalidValue", "active maybe");
	BAD("{\"op\":\"remove\",\"path\":\"active\"}", SCIM_RES_USER,
	    "invalidValue", "active cannot be removed");
	BAD("{\"op\":\"copy\",\"path\":\"active\",\"value\":true}",
	    SCIM_RES_USER, "invalidSyntax", "an unknown op");
	BAD("{\"path\":\"active\",\"value\":true}", SCIM_RES_USER,
	    "invalidSyntax", "no op");
	BAD("17", SCIM_RES_USER, "invalidSyntax",
	    "an operation that is no "
	    "object");
	BAD("", SCIM_RES_USER, "invalidSyntax", "no operations");
#undef BAD
	{
		size_t o = 0;

		for (int i = 0; i <= SCIM_PATCH_MAX; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o,
			    "%s{\"op\":\"replace\",\"path\":\"active\","
			    "\"value\":true}",
			    i ? "," : "");
		ok(patch(many, SCIM_RES_USER, ops, &n, &err) == -1,
		    "more than %d operations", SCIM_PATCH_MAX);
	}
	j = load("{\"Operations\":[]}");
	ok(scim_json_patch(j, SCIM_RES_USER, ops, &n, &err) == -1 &&
		err.kind == ERR_USAGE,
	    "no PatchOp schema: invalidSyntax");
	json_decref(j);
	free(ops);
}

static void
test_http(void)
{
	struct http_request r;
	struct http_response w;
	json_t *s;

	memset(&r, 0, sizeof(r));
	r.headers[0].name = "Content-Type";
	r.headers[0].value = "application/json";
	r.nheaders = 1;
	r.query[0].name = "filter";
	r.query[0].value = "a";
	r.query[1].name = "Filter";
	r.query[1].value = "b";
	r.nquery = 2;
	is_str(http_header(&r, "content-type"), "application/json",
	    "headers are found without regard to case");
	ok(http_header(&r, "Authorization") == NULL, "absent header");
	is_str(http_query(&r, "FILTER"), "a", "the first query argument");
	is_int((int64_t)http_query_count(&r, "filter"), 2, "counted twice");
	s = http_json_str("caf\xff");
	is_str(json_string_value(s), "caf?", "invalid UTF-8 is replaced");
	json_decref(s);
	http_response_init(&w);
	http_reply_error(&w, 404, "not_found", "no \xc3\xa9");
	is_int(w.status, 404, "error status");
	is_str(buf_cstr(&w.body),
	    "{\"status\":404,\"error\":\"not_found\","
	    "\"detail\":\"no \xc3\xa9\"}",
	    "error body");
	http_reply_empty(&w, 204);
	ok(w.body.len == 0 && w.content_type == NULL, "an empty reply");
	http_response_release(&w);
	is_str(http_reason(413), "Payload Too Large", "reason phrase");
}

int
main(void)
{
	test_user();
	test_alias();
	test_patch();
	test_http();
	return done_testing();
}
