/*
 * The rows of the deep pass, each table read once into hash sets.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cf.h"
#include "check.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mapgen.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "pfchroot.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "probe.h"

#include "banned.h"

void
data_init(struct data *d)
{
	memset(d, 0, sizeof(*d));
	smap_init(&d->dom_ix, true);
	smap_init(&d->adom_ix, true);
	smap_init(&d->mbx_ix, true);
	smap_init(&d->als_ix, true);
	smap_init(&d->lists, true);
	sample_init(&d->quota2_sample);
}

void
data_release(struct data *d)
{
	smap_release(&d->dom_ix);
	smap_release(&d->adom_ix);
	smap_release(&d->mbx_ix);
	smap_release(&d->als_ix);
	smap_release(&d->lists);
	sample_release(&d->quota2_sample);
	free(d->doms);
	free(d->adoms);
	free(d->mbxs);
	free(d->alss);
	arena_release(&d->arena);
}

const char *
col(struct db_res *r, int i)
{
	const char *v = db_col(r, i);

	return v != NULL ? v : "";
}

static int
load_domains(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_arg a[] = { DB_TEXT("ALL") };
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT domain, aliases, mailboxes, maxquota, "
		"quota, transport, backupmx FROM domain WHERE domain <> ?",
		a, 1, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct dom *o;

		if (d->ndoms == cap) {
			cap = cap ? cap * 2 : 64;
			d->doms = xreallocarray(d->doms, cap, sizeof(*d->doms));
		}
		o = &d->doms[d->ndoms];
		memset(o, 0, sizeof(*o));
		o->name = arena_dup(&d->arena, col(r, 0));
		o->max_aliases = db_col_int(r, 1, 0);
		o->max_mailboxes = db_col_int(r, 2, 0);
		o->maxquota =
		    domain_units_to_bytes(&c->model, db_col_int(r, 3, 0));
		o->quota =
		    domain_units_to_bytes(&c->model, db_col_int(r, 4, 0));
		o->transport = arena_dup(&d->arena, col(r, 5));
		o->backupmx = model_bool(db_col(r, 6));
		(void)smap_put(&d->dom_ix, o->name, d->ndoms);
		d->ndoms++;
	}
	db_res_free(&r);
	return rc;
}

static int
load_adoms(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT alias_domain, target_domain, active FROM "
		"alias_domain",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct adom *o;

		if (d->nadoms == cap) {
			cap = cap ? cap * 2 : 16;
			d->adoms =
			    xreallocarray(d->adoms, cap, sizeof(*d->adoms));
		}
		o = &d->adoms[d->nadoms];
		o->alias = arena_dup(&d->arena, col(r, 0));
		o->target = arena_dup(&d->arena, col(r, 1));
		o->active = model_bool(db_col(r, 2));
		(void)smap_put(&d->adom_ix, o->alias, d->nadoms);
		d->nadoms++;
	}
	db_res_free(&r);
	return rc;
}

static int
load_mailboxes(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT username, password, maildir, quota, "
		"domain, active FROM mailbox",
		NULL, 0, DB_STREAM, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct mbx *o;
		char *md;
		size_t l;

		if (d->nmbxs == cap) {
			cap = cap ? cap * 2 : 1024;
			d->mbxs = xreallocarray(d->mbxs, cap, sizeof(*d->mbxs));
		}
		o = &d->mbxs[d->nmbxs];
		memset(o, 0, sizeof(*o));
		o->username = arena_dup(&d->arena, col(r, 0));
		o->password = arena_dup(&d->arena, col(r, 1));
		md = arena_dup(&d->arena, col(r, 2));
		l = strlen(md);
		if (l > 1 && md[l - 1] == '/')
			md[l - 1] = '\0';
		o->maildir = md;
		o->quota = db_col_int(r, 3, 0);
		o->domain = arena_dup(&d->arena, col(r, 4));
		o->active = model_bool(db_col(r, 5));
		(void)smap_put(&d->mbx_ix, o->username, d->nmbxs);
		d->nmbxs++;
		if (d->nmbxs % PROGRESS_EVERY == 0)
			progress(c, "mailboxes", d->nmbxs, 0);
	}
	db_res_free(&r);
	if (rc == 0)
		progress(c, "mailboxes", d->nmbxs, d->nmbxs);
	return rc;
}

static int
load_aliases(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db, "SELECT address, goto, domain, active FROM alias",
		NULL, 0, DB_STREAM, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct als *o;

		if (d->nalss == cap) {
			cap = cap ? cap * 2 : 1024;
			d->alss = xreallocarray(d->alss, cap, sizeof(*d->alss));
		}
		o = &d->alss[d->nalss];
		o->address = arena_dup(&d->arena, col(r, 0));
		o->gotos = arena_dup(&d->arena, col(r, 1));
		o->domain = arena_dup(&d->arena, col(r, 2));
		o->active = model_bool(db_col(r, 3));
		(void)smap_put(&d->als_ix, o->address, d->nalss);
		d->nalss++;
		if (d->nalss % PROGRESS_EVERY == 0)
			progress(c, "aliases", d->nalss, 0);
	}
	db_res_free(&r);
	if (rc == 0)
		progress(c, "aliases", d->nalss, d->nalss);
	return rc;
}

/* quota2 is matched against the mailboxes as it streams by. */
static int
load_quota2(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	int rc;

	if (db_query(c->db, "SELECT username FROM quota2", NULL, 0, DB_STREAM,
		&r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		size_t i;

		if (smap_get(&d->mbx_ix, col(r, 0), &i))
			d->mbxs[i].quota2 = true;
		else {
			d->quota2_orphans++;
			sample_add(&d->quota2_sample, "'%s'", col(r, 0));
		}
	}
	db_res_free(&r);
	return rc;
}

static int
load_lists(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	int rc;

	if ((rc = db_table_exists(c->db, "routes", err)) != 1)
		return rc;
	d->have_routes = true;
	if (db_query(c->db,
		"SELECT DISTINCT list_address FROM routes WHERE "
		"list_address IS NOT NULL",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1)
		(void)smap_put(&d->lists, arena_dup(&d->arena, col(r, 0)), 0);
	db_res_free(&r);
	return rc;
}

/* Load what the probe needs (once); -1 after reporting db_read. */
int
need_data(struct ctx *c, unsigned what)
{
	static const struct {
		unsigned bit;
		unsigned after;
		const char *table;
		int (*load)(struct ctx *, struct err *);
	} loaders[] = {
		{ D_DOMAIN, 0, "domain", load_domains },
		{ D_ADOM, 0, "alias_domain", load_adoms },
		{ D_MAILBOX, 0, "mailbox", load_mailboxes },
		{ D_ALIAS, 0, "alias", load_aliases },
		{ D_QUOTA2, D_MAILBOX, "quota2", load_quota2 },
		{ D_LISTS, 0, "routes", load_lists },
	};
	struct err err = ERR_INIT;

	if (c->data_failed)
		return -1;
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		if (!(what & loaders[i].bit) || (c->d.loaded & loaders[i].bit))
			continue;
		if (loaders[i].after != 0 &&
		    need_data(c, loaders[i].after) == -1)
			return -1;
		if (loaders[i].load(c, &err) == -1) {
			c->data_failed = true;
			finding(c, "db_read", CHECK_ERROR,
			    "cannot read table '%s': %s; the checks that need it did not run",
			    loaders[i].table, err.msg);
			return -1;
		}
		c->d.loaded |= loaders[i].bit;
	}
	return 0;
}
