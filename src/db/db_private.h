/*
 * db_private.h: what drivers share with db.c; not for use above src/db.
 */
#ifndef POSTINO_DB_PRIVATE_H
#define POSTINO_DB_PRIVATE_H

#include "db.h"

/* Every driver's result struct starts with this. */
struct db_res {
	const struct db_driver *drv;
};

/* One parsed entry of a Postfix "hosts" list. */
struct db_host {
	char *host;   /* NULL when socket is set */
	int port;     /* 0 = engine default */
	char *socket; /* UNIX socket path, or NULL */
};

/*
 * Split a hosts value into entries (whitespace or comma separated).
 * Returns the number of entries; *hosts_r is freed with db_hosts_free().
 * An empty value yields one entry for "localhost".
 */
size_t db_hosts_parse(const char *hosts, struct db_host **hosts_r);
void db_hosts_free(struct db_host *, size_t);
/* "host:port" or the socket path, for messages. */
void db_host_describe(
    const struct db_host *, int default_port, char *buf, size_t size);

/*
 * Rewrite '?' placeholders outside quotes as $1, $2...; caller frees.
 */
char *db_rewrite_dollar(const char *sql);

/* Format an integer argument as text into buf. */
const char *db_arg_text(const struct db_arg *, char *buf, size_t size);

#ifdef HAVE_SQLITE
extern const struct db_driver db_driver_sqlite;
#endif
/* Exported by the loadable modules (see db.c). */
extern const struct db_driver db_driver_mysql
    __attribute__((visibility("default")));
extern const struct db_driver db_driver_pgsql
    __attribute__((visibility("default")));

#endif
