/*
 * db_util: helpers shared by db.c and the engine drivers.  The MariaDB and
 * PostgreSQL drivers are loadable modules that link their own copy of this
 * file, so it must stay free of state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_private.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

size_t
db_hosts_parse(const char *hosts, struct db_host **hosts_r)
{
	struct db_host *v = NULL;
	size_t n = 0;
	char *copy, *tok, *save = NULL;

	copy = xstrdup(hosts != NULL ? hosts : "");
	for (tok = strtok_r(copy, " \t,\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t,\n", &save)) {
		struct db_host h = { NULL, 0, NULL };
		char *port;

		if (str_prefix(tok, "unix:"))
			h.socket = xstrdup(tok + 5);
		else if (tok[0] == '/')
			h.socket = xstrdup(tok);
		else {
			if (str_prefix(tok, "inet:"))
				tok += 5;
			if (tok[0] == '[') {
				char *end = strchr(tok, ']');

				if (end == NULL)
					continue;
				h.host =
				    xstrndup(tok + 1, (size_t)(end - tok - 1));
				port = end[1] == ':' ? end + 2 : NULL;
			} else {
				port = strrchr(tok, ':');
				if (port != NULL && strchr(tok, ':') != port)
					port = NULL; /* bare IPv6 */
				h.host = port != NULL
				    ? xstrndup(tok, (size_t)(port - tok))
				    : xstrdup(tok);
				if (port != NULL)
					port++;
			}
			if (port != NULL &&
			    str_to_int(port, 1, 65535, &h.port) == -1)
				h.port = -1;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = h;
	}
	free(copy);
	if (n == 0) {
		v = xmalloc(sizeof(*v));
		v[0].host = xstrdup("localhost");
		v[0].port = 0;
		v[0].socket = NULL;
		n = 1;
	}
	*hosts_r = v;
	return n;
}

void
db_hosts_free(struct db_host *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].socket);
	}
	free(v);
}

void
db_host_describe(
    const struct db_host *h, int default_port, char *buf, size_t size)
{
	if (h->socket != NULL)
		snprintf(buf, size, "%s", h->socket);
	else
		snprintf(buf, size, "%s:%d", h->host,
		    h->port > 0 ? h->port : default_port);
}

char *
db_rewrite_dollar(const char *sql)
{
	size_t len = strlen(sql), cap = len * 2 + 16, o = 0;
	char *out = xmalloc(cap);
	char quote = 0;
	int n = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (o + 16 >= cap)
			out = xrealloc(out, cap *= 2);
		if (quote) {
			if (*p == quote)
				quote = 0;
			out[o++] = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p;
		} else if (*p == '?') {
			o += (size_t)snprintf(out + o, cap - o, "$%d", ++n);
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

const char *
db_arg_text(const struct db_arg *a, char *buf, size_t size)
{
	switch (a->type) {
	case DB_ARG_TEXT:
		return a->s;
	case DB_ARG_INT:
		snprintf(buf, size, "%" PRId64, a->i);
		return buf;
	default:
		return NULL;
	}
}
