/*
 * table_private.h: the backends table.c registers; not for use outside
 * src/table.
 */
#ifndef POSTINO_TABLE_PRIVATE_H
#define POSTINO_TABLE_PRIVATE_H

#include "table.h"

extern const struct table_backend table_backend_static;
extern const struct table_backend table_backend_file;
#ifdef HAVE_REDIS
extern const struct table_backend table_backend_redis;
#endif
#ifdef HAVE_CURL
extern const struct table_backend table_backend_url;
#endif
#ifdef HAVE_CARES
extern const struct table_backend table_backend_dns;
#endif
extern const struct table_backend table_backend_sql;
extern const struct table_backend table_backend_mysql;
extern const struct table_backend table_backend_pgsql;
extern const struct table_backend table_backend_sqlite;
extern const struct table_backend table_backend_postfixadmin;

struct db_params;
/*
 * The table_env's read_hosts, if set, in place of p's hosts (MariaDB and
 * PostgreSQL only; SQLite has no hosts).
 */
void table_read_hosts(const struct table *, struct db_params *p);

#endif
