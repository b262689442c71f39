/*
 * db_cf: database parameters from a Postfix map file, the single source of
 * truth for credentials (Postfix must be able to read them anyway).
 */
#include <stdlib.h>
#include <string.h>

#include "cf.h"
#include "db.h"
#include "xalloc.h"
#include "banned.h"

int
db_params_from_cf(struct db_params *p, const struct cf *cf,
    enum db_engine engine, struct err *err)
{
	const char *dbpath = cf_get(cf, "dbpath");
	const char *v;

	memset(p, 0, sizeof(*p));
	p->source = xstrdup(cf->path);
	if (engine == DB_ENGINE_NONE)
		engine = dbpath != NULL ? DB_ENGINE_SQLITE : DB_ENGINE_MYSQL;
	p->engine = engine;
	if (engine == DB_ENGINE_SQLITE) {
		if (dbpath == NULL || *dbpath == '\0') {
			err_set(err, ERR_CONFIG,
			    "%s: no 'dbpath' for the SQLite engine", cf->path);
			db_params_release(p);
			return -1;
		}
		p->dbpath = xstrdup(dbpath);
		return 0;
	}
	if ((v = cf_get(cf, "dbname")) == NULL || *v == '\0') {
		err_set(err, ERR_CONFIG,
		    "%s: missing required parameter 'dbname'", cf->path);
		db_params_release(p);
		return -1;
	}
	p->dbname = xstrdup(v);
	p->hosts = xstrdup((v = cf_get(cf, "hosts")) != NULL ? v : "");
	if ((v = cf_get(cf, "user")) != NULL)
		p->user = xstrdup(v);
	if ((v = cf_get(cf, "password")) != NULL)
		p->password = xstrdup(v);
	return 0;
}
