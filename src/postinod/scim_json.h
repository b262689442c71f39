/*
 * scim_json: reading SCIM request bodies (RFC 7643/7644) into plain
 * structs, before anything touches the database.
 *
 * Types are checked strictly (a string where a string is due, a boolean
 * where a boolean is due; the one leniency is "True"/"False" strings for
 * `active`, which Microsoft Entra sends).  Unknown attributes are ignored,
 * as RFC 7644 allows; so are, in a PATCH, the core User attributes postino
 * does not keep (title, addresses, phoneNumbers ..., and value paths into
 * them such as addresses[type eq "work"].locality), emails (derived from
 * userName) and the enterprise extension, as Entra ID and Okta send them.
 * Values are not validated here beyond their type: addresses, names and quotas
 * are the model's to judge.
 *
 * Strings in the structs are borrowed from the JSON document (or point
 * into the struct's own buffers) and live as long as the document.
 * Errors: ERR_USAGE for a body that is not the message asked for
 * (invalidSyntax), ERR_INVALID for a wrong value (invalidValue); for
 * PATCH also ERR_BADPATH (invalidPath), ERR_NOTARGET (noTarget) and
 * ERR_READONLY (mutability: id, meta, schemas; userName other than the
 * user's own).
 */
#ifndef POSTINOD_SCIM_JSON_H
#define POSTINOD_SCIM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

#define SCIM_PATCH_MAX 32
#define SCIM_NAME_MAX 512

struct scim_user_in {
	const char *user_name;
	char name[SCIM_NAME_MAX];
	bool has_name;
	const char *password; /* NULL = none */
	bool active;
	bool has_active;
	int64_t quota;
	bool has_quota;
	const char *external_id; /* NULL = none */
};

struct scim_alias_in {
	const char *address;
	char *gotos; /* joined with ","; owned, free() it */
	bool active;
	bool has_active;
};

enum scim_op_kind {
	SOP_ACTIVE,   /* flag */
	SOP_NAME,     /* str (user) */
	SOP_PASSWORD, /* str: set, or claim under hybrid */
	SOP_RELEASE,  /* hand the password back to the IdP */
	SOP_QUOTA,    /* num (user) */
	SOP_GOTO,     /* str (alias) */
	SOP_GIVEN,    /* str: the first word of the name (user) */
	SOP_FAMILY,   /* str: the rest of the name (user) */
	SOP_EXTERNAL, /* str: externalId, NULL = remove (user) */
	SOP_USERNAME, /* str: must be the user's own (no renames) */
};

struct scim_op {
	enum scim_op_kind kind;
	bool flag;
	const char *str;
	int64_t num;
	char buf[SCIM_NAME_MAX]; /* str may point here */
};

enum scim_resource { SCIM_RES_USER, SCIM_RES_ALIAS };

/* Whether the "schemas" array of o contains urn (case-insensitive). */
bool scim_json_has_schema(json_t *o, const char *urn);
int scim_json_user(json_t *root, struct scim_user_in *, struct err *);
int scim_json_alias(json_t *root, struct scim_alias_in *, struct err *);
/*
 * A PatchOp message into at most SCIM_PATCH_MAX operations (ops must hold
 * that many).  Returns 0 with *n_r set, or -1 with err.
 */
int scim_json_patch(json_t *root, enum scim_resource, struct scim_op *ops,
    size_t *n_r, struct err *);

#endif
