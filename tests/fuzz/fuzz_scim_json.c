/*
 * Fuzz postinod's SCIM body readers: User, Alias and PatchOp documents.
 * Invariants: a parsed PATCH has at most SCIM_PATCH_MAX operations and
 * every string operation carries its string; a refusal is ERR_USAGE or
 * ERR_INVALID with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postinod/scim_json.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_scim_json: invariant broken: %s\n", what);
		abort();
	}
}

static void
refusal(const struct err *e)
{
	check((e->kind == ERR_USAGE || e->kind == ERR_INVALID) &&
		e->msg[0] != '\0',
	    "a refusal without a kind and a message");
}

/*
 * A PATCH may also be refused for its path (SCIM invalidPath, noTarget) or
 * for touching a read-only attribute (SCIM mutability).
 */
static void
patch_refusal(const struct err *e)
{
	check((e->kind == ERR_USAGE || e->kind == ERR_INVALID ||
		  e->kind == ERR_BADPATH || e->kind == ERR_NOTARGET ||
		  e->kind == ERR_READONLY) &&
		e->msg[0] != '\0',
	    "a PATCH refusal without a kind and a message");
}

static struct scim_op ops[SCIM_PATCH_MAX];

static void
patch(json_t *j, enum scim_resource res)
{
	struct err err = ERR_INIT;
	size_t n = 0;

	if (scim_json_patch(j, res, ops, &n, &err) == -1) {
		patch_refusal(&err);
		return;
	}
	check(n <= SCIM_PATCH_MAX, "too many operations");
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == SOP_NAME || ops[i].kind == SOP_PASSWORD ||
		    ops[i].kind == SOP_GOTO)
			check(ops[i].str != NULL,
			    "a string operation without "
			    "its string");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct scim_user_in u;
	struct scim_alias_in a;
	struct err err = ERR_INIT;

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	if (scim_json_user(j, &u, &err) == 0)
		check(u.user_name != NULL && *u.user_name != '\0',
		    "a user without userName");
	else
		refusal(&err);
	err_clear(&err);
	if (scim_json_alias(j, &a, &err) == 0) {
		check(a.address != NULL && a.gotos != NULL,
		    "an alias without "
		    "address or goto");
		free(a.gotos);
	} else
		refusal(&err);
	patch(j, SCIM_RES_USER);
	patch(j, SCIM_RES_ALIAS);
	json_decref(j);
	return 0;
}
