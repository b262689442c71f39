/* The error table is an interface: pin every mapping. */
#include <string.h>

#include "err.h"
#include "tap.h"

static const struct {
	enum err_kind kind;
	int exit_code;
	int http;
	const char *scim;
	const char *sm;
	char dict;
} want[] = {
	{ ERR_OK, 0, 200, NULL, "OK", 'O' },
	{ ERR_NOTFOUND, 1, 404, NULL, "NOTFOUND", 'N' },
	{ ERR_EXISTS, 2, 409, "uniqueness", "PERM", 'F' },
	{ ERR_CAPACITY, 3, 400, "tooMany", "PERM", 'F' },
	{ ERR_CONFIG, 4, 500, NULL, "PERM", 'F' },
	{ ERR_INVALID, 4, 400, "invalidValue", "PERM", 'F' },
	{ ERR_DATABASE, 5, 503, NULL, "TEMP", 'F' },
	{ ERR_FILESYSTEM, 6, 500, NULL, "TEMP", 'F' },
	{ ERR_HOOK, 7, 500, NULL, "TEMP", 'F' },
	{ ERR_DEADLOCK, 8, 503, NULL, "TEMP", 'F' },
	{ ERR_MLMMJ, 9, 500, NULL, "TEMP", 'F' },
	{ ERR_RULE, 10, 400, "invalidValue", "PERM", 'F' },
	{ ERR_UNSUPPORTED, 4, 403, "mutability", "PERM", 'F' },
	{ ERR_DENIED, 77, 401, NULL, "PERM", 'F' },
	{ ERR_TOOLARGE, 4, 413, NULL, "PERM", 'F' },
	{ ERR_TEMP, 75, 503, NULL, "TEMP", 'F' },
	{ ERR_USAGE, 64, 400, "invalidSyntax", "PERM", 'F' },
	{ ERR_BADFILTER, 4, 400, "invalidFilter", "PERM", 'F' },
	{ ERR_BADPATH, 4, 400, "invalidPath", "PERM", 'F' },
	{ ERR_NOTARGET, 4, 400, "noTarget", "PERM", 'F' },
	{ ERR_READONLY, 4, 400, "mutability", "PERM", 'F' },
	{ ERR_INTERNAL, 99, 500, NULL, "TEMP", 'F' },
};

int
main(void)
{
	struct err e = ERR_INIT;
	size_t n = sizeof(want) / sizeof(want[0]);

	is_int((int64_t)n, ERR__COUNT, "every kind has a row in this test");
	for (size_t i = 0; i < n; i++) {
		const struct err_info *in = err_info(want[i].kind);

		is_int(in->kind, want[i].kind, "%s: row is its own", in->name);
		is_int(in->exit_code, want[i].exit_code, "%s: exit code",
		    in->name);
		is_int(in->http_status, want[i].http, "%s: http", in->name);
		is_str(in->scim_type, want[i].scim, "%s: scimType", in->name);
		is_str(in->socketmap, want[i].sm, "%s: socketmap", in->name);
		is_int(in->dict, want[i].dict, "%s: dict", in->name);
	}
	is_int(err_info((enum err_kind)999)->kind, ERR_INTERNAL,
	    "unknown kinds map to internal");
	is_int(err_set(&e, ERR_EXISTS, "domain '%s' exists", "a.example"), -1,
	    "err_set returns -1");
	is_str(e.msg, "domain 'a.example' exists", "message formatted");
	err_prefix(&e, "cannot add");
	is_str(e.msg, "cannot add: domain 'a.example' exists", "prefixed");
	is_int(e.kind, ERR_EXISTS, "prefix keeps kind");
	return done_testing();
}
