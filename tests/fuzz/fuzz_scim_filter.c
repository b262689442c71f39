/*
 * Fuzz postinod's SCIM filter compiler over the three attribute maps.
 * Beyond "no crash, no leak, no UB": a compiled condition has exactly one
 * bound value per '?', and no client text ever reaches the SQL as a
 * string literal (the only quotes are the compiler's own constants).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postinod/timefmt.c"
#include "../../src/postinod/scim_filter.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what, const char *filter)
{
	if (!cond) {
		fprintf(stderr,
		    "fuzz_scim_filter: invariant broken: %s\n"
		    "filter: %s\n",
		    what, filter);
		abort();
	}
}

/* Remove every occurrence of a known constant from s, in place. */
static void
strip(char *s, const char *k)
{
	size_t n = strlen(k);
	char *p;

	while ((p = strstr(s, k)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
}

static void
one(const char *filter, const struct scim_attr *map, const char *urn)
{
	struct scim_where w;
	struct err err = ERR_INIT;
	size_t marks = 0;
	char *sql;

	scim_where_init(&w);
	if (scim_filter_compile(filter, map, urn, &w, &err) == 0) {
		sql = xstrdup(buf_cstr(&w.sql));
		for (const char *p = sql; *p != '\0'; p++)
			marks += *p == '?';
		check(
		    marks == w.nargs, "placeholders and values differ", filter);
		strip(sql, "ESCAPE '!'");
		strip(sql, "'{NOAUTH}'");
		strip(sql, "<> ''");
		strip(sql, "= ''");	     /* "eq null": absent or empty */
		strip(sql, "COLLATE \"C\""); /* PostgreSQL's code-point order */
		if (strchr(sql, '\'') != NULL || strchr(sql, '"') != NULL ||
		    strchr(sql, ';') != NULL)
			fprintf(stderr, "sql (constants stripped): %s\n", sql);
		check(strchr(sql, '\'') == NULL && strchr(sql, '"') == NULL &&
			strchr(sql, ';') == NULL,
		    "client text in the SQL", filter);
		free(sql);
	} else
		check(err.kind == ERR_INVALID && err.msg[0] != '\0',
		    "a refusal without ERR_INVALID and a message", filter);
	scim_where_release(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	one(s, scim_user_attrs, "urn:ietf:params:scim:schemas:core:2.0:User");
	one(s, scim_alias_attrs,
	    "urn:postino:params:scim:schemas:core:2.0:Alias");
	one(s, scim_domain_attrs,
	    "urn:postino:params:scim:schemas:core:2.0:Domain");
	free(s);
	return 0;
}
