/*
 * table_postfixadmin: native lookups on the PostfixAdmin schema
 * (model/lookup.h), so that no SQL has to be written for Postfix or Dovecot.
 *
 * The parameter is KIND[:SOURCE].  KIND is one of
 *
 *	domain		virtual_mailbox_domains
 *	relay_domain	relay_domains (backup MX)
 *	mailbox		virtual_mailbox_maps
 *	alias		virtual_alias_maps
 *	transport	transport_maps (the domain's transport)
 *	routes		transport_maps (postino's mailing-list routes)
 *	sender_login	smtpd_sender_login_maps
 *	quota_limit	virtual_mailbox_limit_maps
 *	dovecot		a dict for Dovecot <= 2.3: shared/passdb/USER,
 *			shared/userdb/USER (and iteration of shared/userdb/),
 *			priv/quota/storage and priv/quota/messages, which
 *			quota_clone (S) and the quota dict (A, U) write into
 *			quota2
 *
 * SOURCE says where the database is: a Postfix map file ("/x.cf", or
 * "mysql:/x.cf", "pgsql:/x.cf", "sqlite:/x.cf"), a DSN ("pgsql://u@h/db",
 * "sqlite:/path/db"), or nothing: postino's own
 * <postfix_sql_dir>/sql-virtual_mailbox_maps.cf.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cf.h"
#include "db.h"
#include "dbpool.h"
#include "lookup.h"
#include "proto_dict.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

enum pfa_kind {
	PFA_DOMAIN,
	PFA_RELAY_DOMAIN,
	PFA_MAILBOX,
	PFA_ALIAS,
	PFA_TRANSPORT,
	PFA_ROUTES,
	PFA_SENDER_LOGIN,
	PFA_QUOTA_LIMIT,
	PFA_DOVECOT,
};

static const struct {
	const char *name;
	enum pfa_kind kind;
} kinds[] = {
	{ "domain", PFA_DOMAIN },
	{ "relay_domain", PFA_RELAY_DOMAIN },
	{ "mailbox", PFA_MAILBOX },
	{ "alias", PFA_ALIAS },
	{ "transport", PFA_TRANSPORT },
	{ "routes", PFA_ROUTES },
	{ "sender_login", PFA_SENDER_LOGIN },
	{ "quota_limit", PFA_QUOTA_LIMIT },
	{ "dovecot", PFA_DOVECOT },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct pfa {
	enum pfa_kind kind;
	struct dbpool *pool;
	struct dbpool *wpool; /* dovecot: quota writes go to the primary */
	struct lookup_opts opts;
};

static int
source_params(const struct table *t, const char *src, struct db_params *p,
    struct err *err)
{
	enum db_engine engine = DB_ENGINE_NONE;
	const char *path = src, *colon;
	char *deflt = NULL;
	struct cf cf;
	int r;

	if (*src == '\0') {
		deflt = xasprintf("%s/sql-virtual_mailbox_maps.cf",
		    t->env->sql_dir != NULL ? t->env->sql_dir : "/etc/postfix");
		path = deflt;
	} else if ((colon = strchr(src, ':')) != NULL && src[0] != '/') {
		char *e = xstrndup(src, (size_t)(colon - src));

		engine = db_engine_parse(e);
		free(e);
		if (engine == DB_ENGINE_NONE)
			return err_set(
			    err, ERR_CONFIG, "unknown engine in '%s'", src);
		if (str_prefix(colon + 1, "//") || !str_suffix(src, ".cf"))
			return db_params_from_dsn(p, src, err);
		path = colon + 1;
	} else if (!str_suffix(src, ".cf"))
		return db_params_from_dsn(p, src, err);
	if (engine == DB_ENGINE_NONE && t->env->sql_engine != NULL)
		engine = db_engine_parse(t->env->sql_engine);
	r = cf_parse_file(&cf, path, err);
	free(deflt);
	if (r == -1)
		return -1;
	r = db_params_from_cf(p, &cf, engine, err);
	cf_release(&cf);
	return r;
}

static int
pfa_open(struct table *t, struct err *err)
{
	const char *colon = strchr(t->param, ':');
	size_t klen =
	    colon != NULL ? (size_t)(colon - t->param) : strlen(t->param);
	struct db_params p;
	struct dbpool *wpool = NULL;
	struct pfa *a;
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (strlen(kinds[i].name) == klen &&
		    strncmp(kinds[i].name, t->param, klen) == 0)
			break;
	if (i == NKINDS) {
		const char *names[NKINDS + 1];
		char *k = xstrndup(t->param, klen);
		const char *near;

		for (size_t j = 0; j < NKINDS; j++)
			names[j] = kinds[j].name;
		names[NKINDS] = NULL;
		near = str_nearest(k, names);
		err_set(err, ERR_CONFIG, "unknown lookup '%s'", k);
		free(k);
		if (near != NULL)
			return err_hint(err, "did you mean '%s'?", near);
		return err_hint(err,
		    "use domain, relay_domain, mailbox, alias, transport, routes, sender_login, quota_limit or dovecot");
	}
	if (source_params(t, colon != NULL ? colon + 1 : "", &p, err) == -1)
		return -1;
	if (kinds[i].kind == PFA_DOVECOT && db_engine_available(p.engine))
		wpool = dbpool_get_writer(&p, t->env->timeout_ms);
	table_read_hosts(t, &p);
	if (!db_engine_available(p.engine)) {
		err_set(err, ERR_CONFIG,
		    "this podop was built without %s support",
		    db_engine_name(p.engine));
		db_params_release(&p);
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->kind = kinds[i].kind;
	a->pool = dbpool_get(&p, t->env->timeout_ms);
	a->wpool = wpool;
	a->opts.delimiters = t->env->recipient_delimiter;
	a->opts.mailbox_base = t->env->mailbox_base;
	a->opts.uid = t->env->vmail_uid;
	a->opts.gid = t->env->vmail_gid;
	db_params_release(&p);
	t->handle = a;
	return 0;
}

struct pfa_call {
	const struct pfa *a;
	const char *key;
	const char *user;
	struct buf *value_r;
};

static int
pfa_call(struct db *db, void *arg, struct err *err)
{
	struct pfa_call *c = arg;
	const struct lookup_opts *o = &c->a->opts;

	switch (c->a->kind) {
	case PFA_DOMAIN:
		return lookup_domain(db, c->key, c->value_r, err);
	case PFA_RELAY_DOMAIN:
		return lookup_relay_domain(db, c->key, c->value_r, err);
	case PFA_MAILBOX:
		return lookup_mailbox(db, o, c->key, c->value_r, err);
	case PFA_ALIAS:
		return lookup_alias(db, o, c->key, c->value_r, err);
	case PFA_TRANSPORT:
		return lookup_transport(db, c->key, c->value_r, err);
	case PFA_ROUTES:
		return lookup_routes(db, c->key, c->value_r, err);
	case PFA_SENDER_LOGIN:
		return lookup_sender_login(db, o, c->key, c->value_r, err);
	case PFA_QUOTA_LIMIT:
		return lookup_quota_limit(db, o, c->key, c->value_r, err);
	case PFA_DOVECOT:
		if (c->user == NULL && str_prefix(c->key, "passdb/"))
			return lookup_passdb(
			    db, o, c->key + 7, c->value_r, err);
		if (c->user == NULL && str_prefix(c->key, "userdb/"))
			return lookup_userdb(
			    db, o, c->key + 7, c->value_r, err);
		if (c->user != NULL && str_prefix(c->key, "quota/"))
			return lookup_quota_usage(
			    db, c->user, c->key + 6, c->value_r, err);
		return 0;
	}
	return err_set(err, ERR_INTERNAL, "unknown lookup kind");
}

static int
pfa_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	struct pfa_call c = { t->handle, key, user, value_r };
	const struct pfa *a = t->handle;

	(void)ttl_ms_r;
	/* Socketmap kinds know no users: a private dict key is not there. */
	if (a->kind != PFA_DOVECOT && user != NULL)
		return 0;
	return dbpool_run_read(a->pool, pfa_call, &c, err);
}

struct pfa_iter {
	const struct pfa *a;
	const char *path;
	unsigned int flags;
	uint64_t max_rows;
	uint64_t rows;
	table_row_fn *fn;
	void *arg;
	struct buf key;
	bool stopped;
};

static int
pfa_iter_row(void *arg, const char *user, const char *json, struct err *err)
{
	struct pfa_iter *it = arg;

	if (it->max_rows > 0 && it->rows >= it->max_rows) {
		it->stopped = true;
		return -1;
	}
	buf_reset(&it->key);
	if (buf_puts(&it->key, "userdb/") == -1 ||
	    buf_puts(&it->key, user) == -1)
		return 0;
	if (!table_iter_match(it->path, it->key.data, it->flags))
		return 0;
	it->rows++;
	return it->fn(it->arg, it->key.data, json, err);
}

static int
pfa_iter_call(struct db *db, void *arg, struct err *err)
{
	struct pfa_iter *it = arg;
	int r;

	it->rows = 0;
	it->stopped = false;
	r = lookup_userdb_each(db, &it->a->opts, pfa_iter_row, it, err);
	if (r == -1 && it->stopped)
		return 0;
	return r;
}

static int
pfa_iterate(struct table *t, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *fn, void *arg,
    struct err *err)
{
	struct pfa_iter it = { t->handle, path, flags, max_rows, 0, fn, arg,
		{ NULL, 0, 0, 0 }, false };
	const struct pfa *a = t->handle;
	int r;

	if (a->kind != PFA_DOVECOT)
		return err_set(err, ERR_UNSUPPORTED,
		    "only the dovecot lookup can be iterated");
	/* Only userdb rows exist to iterate; anything else is empty. */
	if (user != NULL ||
	    !(str_prefix("userdb/", path) || str_prefix(path, "userdb/")))
		return 0;
	buf_init(&it.key, TABLE_KEY_MAX * 2);
	r = dbpool_run_read(a->pool, pfa_iter_call, &it, err);
	buf_release(&it.key);
	return r == -1 ? -1 : 0;
}

struct pfa_store {
	const char *user;
	const struct quota_change *change;
};

static int
pfa_store_call(struct db *db, void *arg, struct err *err)
{
	struct pfa_store *s = arg;

	return lookup_quota_store(db, s->user, s->change, err);
}

static int
pfa_commit(
    struct table *t, const struct table_op *ops, size_t n, struct err *err)
{
	const struct pfa *a = t->handle;
	bool *done;
	int r = 1;

	if (a->kind != PFA_DOVECOT)
		return err_set(
		    err, ERR_UNSUPPORTED, "'%s' is read-only", t->name);
	for (size_t i = 0; i < n; i++)
		if (ops[i].user == NULL ||
		    (strcmp(ops[i].key, "quota/storage") != 0 &&
			strcmp(ops[i].key, "quota/messages") != 0) ||
		    ops[i].op == 'P')
			return err_set(err, ERR_UNSUPPORTED,
			    "only priv/quota/storage and priv/quota/messages can be written (not %s '%.200s')",
			    ops[i].user != NULL ? "priv" : "shared",
			    ops[i].key);
	/* One quota2 change per user, in the order the ops came. */
	done = xcalloc(n, sizeof(*done));
	for (size_t i = 0; i < n && r == 1; i++) {
		struct quota_change c;
		struct pfa_store s;

		if (done[i])
			continue;
		memset(&c, 0, sizeof(c));
		for (size_t j = i; j < n; j++) {
			bool storage;
			int64_t v = 0;

			if (done[j] || strcmp(ops[j].user, ops[i].user) != 0)
				continue;
			done[j] = true;
			storage = strcmp(ops[j].key, "quota/storage") == 0;
			if (ops[j].op == 'S' &&
			    str_to_i64(ops[j].value, &v) == -1) {
				r = err_set(err, ERR_INVALID,
				    "'%.200s' is not a number", ops[j].value);
				break;
			}
			if (ops[j].op == 'A')
				v = ops[j].diff;
			if (storage) {
				if (ops[j].op == 'A' &&
				    (c.bytes_set || c.bytes_add))
					v += c.bytes;
				c.bytes_add = ops[j].op == 'A' && !c.bytes_set;
				c.bytes_set = !c.bytes_add;
				c.bytes = v;
			} else {
				if (ops[j].op == 'A' &&
				    (c.messages_set || c.messages_add))
					v += c.messages;
				c.messages_add =
				    ops[j].op == 'A' && !c.messages_set;
				c.messages_set = !c.messages_add;
				c.messages = v;
			}
		}
		if (r != 1)
			break;
		s.user = ops[i].user;
		s.change = &c;
		r = dbpool_run(a->wpool, pfa_store_call, &s, err);
	}
	free(done);
	return r == 1 ? 1 : -1;
}

static uint64_t
pfa_generation(struct table *t)
{
	return dbpool_generation(((struct pfa *)t->handle)->pool);
}

static bool
pfa_tracked(struct table *t)
{
	return dbpool_tracked(((struct pfa *)t->handle)->pool);
}

static void
pfa_close(struct table *t)
{
	struct pfa *a = t->handle;

	if (a == NULL)
		return;
	dbpool_put(&a->pool);
	dbpool_put(&a->wpool);
	free(a);
	t->handle = NULL;
}

const struct table_backend table_backend_postfixadmin = {
	.name = "postfixadmin",
	.open = pfa_open,
	.lookup = pfa_lookup,
	.iterate = pfa_iterate,
	.commit = pfa_commit,
	.generation = pfa_generation,
	.tracked = pfa_tracked,
	.close = pfa_close,
};
