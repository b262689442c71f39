/*
 * table: the backend registry and the work every lookup shares.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "proto_dict.h"
#include "strutil.h"
#include "db.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

static const struct table_backend *const backends[] = { &table_backend_static,
	&table_backend_file,
#ifdef HAVE_REDIS
	&table_backend_redis,
#endif
#ifdef HAVE_CURL
	&table_backend_url,
#endif
#ifdef HAVE_CARES
	&table_backend_dns,
#endif
	&table_backend_sql, &table_backend_mysql, &table_backend_pgsql,
	&table_backend_sqlite, &table_backend_postfixadmin, NULL };

static const char *backend_names[sizeof(backends) / sizeof(backends[0])];

const struct table_backend *
table_backend_find(const char *name)
{
	for (size_t i = 0; backends[i] != NULL; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *const *
table_backend_names(void)
{
	for (size_t i = 0; backends[i] != NULL; i++)
		backend_names[i] = backends[i]->name;
	return backend_names;
}

void
table_env_init(struct table_env *env)
{
	memset(env, 0, sizeof(*env));
	env->timeout_ms = 5000;
	env->recipient_delimiter = xstrdup("+");
	env->mailbox_base = xstrdup("/var/vmail");
	env->vmail_uid = -1;
	env->vmail_gid = -1;
	env->sql_dir = xstrdup("/etc/postfix");
	env->sql_engine = xstrdup("");
	env->dns_resolver = xstrdup("");
	env->read_hosts = xstrdup("");
}

void
table_env_release(struct table_env *env)
{
	free(env->recipient_delimiter);
	free(env->mailbox_base);
	free(env->sql_dir);
	free(env->sql_engine);
	free(env->dns_resolver);
	free(env->read_hosts);
	memset(env, 0, sizeof(*env));
}

void
table_read_hosts(const struct table *t, struct db_params *p)
{
	const char *rh = t->env->read_hosts;

	if (rh == NULL || *rh == '\0' || p->engine == DB_ENGINE_SQLITE)
		return;
	free(p->hosts);
	p->hosts = xstrdup(rh);
}

int
table_open(struct table **t_r, const char *name, const char *type,
    const char *param, const struct table_env *env, struct err *err)
{
	const struct table_backend *be;
	struct table *t;

	*t_r = NULL;
	if (name == NULL || *name == '\0')
		return err_set(err, ERR_CONFIG, "a table needs a name");
	if (strchr(name, ' ') != NULL || strchr(name, '\t') != NULL)
		return err_set(err, ERR_CONFIG,
		    "table name '%s' contains white space", name);
	if (type == NULL || (be = table_backend_find(type)) == NULL) {
		const char *near = type != NULL
		    ? str_nearest(type, table_backend_names())
		    : NULL;

		err_set(err, ERR_CONFIG, "table '%s': unknown type '%s'", name,
		    type != NULL ? type : "");
		if (near != NULL)
			return err_hint(err, "did you mean '%s'?", near);
		return err_hint(err,
		    "this podop knows: static, file, sql, mysql, pgsql, sqlite, postfixadmin"
#ifdef HAVE_REDIS
		    ", redis"
#endif
#ifdef HAVE_CURL
		    ", url"
#endif
#ifdef HAVE_CARES
		    ", dns"
#endif
		);
	}
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->type = xstrdup(type);
	t->param = xstrdup(param != NULL ? param : "");
	t->backend = be;
	t->env = env;
	if (be->open != NULL && be->open(t, err) == -1) {
		err_prefix(err, "table '%s' (%s)", name, type);
		free(t->name);
		free(t->type);
		free(t->param);
		free(t);
		return -1;
	}
	*t_r = t;
	return 0;
}

int
table_open_spec(struct table **t_r, const char *name, const char *spec,
    const struct table_env *env, struct err *err)
{
	const char *colon = strchr(spec, ':');
	char *type;
	int r;

	if (colon == NULL) {
		*t_r = NULL;
		err_set(err, ERR_CONFIG,
		    "table '%s': '%s' is not of the form type:parameter", name,
		    spec);
		return err_hint(err,
		    "for example \"postfixadmin:alias\" or \"mysql:/etc/postfix/sql-virtual_alias_maps.cf\"");
	}
	type = xstrndup(spec, (size_t)(colon - spec));
	r = table_open(t_r, name, type, colon + 1, env, err);
	free(type);
	return r;
}

void
table_close(struct table **tp)
{
	struct table *t = *tp;

	if (t == NULL)
		return;
	if (t->backend->close != NULL)
		t->backend->close(t);
	free(t->name);
	free(t->type);
	free(t->param);
	free(t);
	*tp = NULL;
}

/* Refuse a key over the limit: an error, never "not found". */
static int
key_too_long(const struct table *t, const char *key, struct err *err)
{
	return err_set(err, ERR_TOOLARGE,
	    "table '%s': a key of %zu bytes is longer than the %d allowed",
	    t->name, strlen(key), TABLE_KEY_MAX);
}

int
table_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	int64_t ttl = -1;
	int r;

	buf_reset(value_r);
	if (ttl_ms_r != NULL)
		*ttl_ms_r = -1;
	if (strlen(key) > TABLE_KEY_MAX)
		return key_too_long(t, key, err);
	if (t->backend->lookup == NULL)
		return err_set(err, ERR_CONFIG,
		    "table '%s' (%s) cannot look keys up", t->name, t->type);
	r = t->backend->lookup(t, key, user, value_r, &ttl, err);
	if (r == 1 && value_r->len == 0)
		r = 0; /* an empty value is no value (as in Postfix) */
	if (ttl_ms_r != NULL)
		*ttl_ms_r = ttl;
	return r;
}

int
table_iterate(struct table *t, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *fn, void *arg,
    struct err *err)
{
	if (strlen(path) > TABLE_KEY_MAX)
		return key_too_long(t, path, err);
	if (t->backend->iterate == NULL)
		return err_set(err, ERR_UNSUPPORTED,
		    "table '%s' (%s) cannot be iterated", t->name, t->type);
	return t->backend->iterate(
	    t, path, user, flags, max_rows, fn, arg, err);
}

int
table_commit(
    struct table *t, const struct table_op *ops, size_t n, struct err *err)
{
	if (t->backend->commit == NULL)
		return err_set(err, ERR_UNSUPPORTED,
		    "table '%s' (%s) is read-only", t->name, t->type);
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (ops[i].key != NULL && strlen(ops[i].key) > TABLE_KEY_MAX)
			return key_too_long(t, ops[i].key, err);
	return t->backend->commit(t, ops, n, err);
}

uint64_t
table_generation(struct table *t)
{
	return t->backend->generation != NULL ? t->backend->generation(t) : 0;
}

bool
table_tracked(struct table *t)
{
	return t->backend->tracked != NULL && t->backend->tracked(t);
}

bool
table_can_iterate(const struct table *t)
{
	return t->backend->iterate != NULL;
}

bool
table_is_inline(const struct table *t)
{
	return (t->backend->flags & TABLE_F_INLINE) != 0;
}

bool
table_can_commit(const struct table *t)
{
	return t->backend->commit != NULL;
}

int
table_flat_key(struct buf *out, const char *key, const char *user)
{
	buf_reset(out);
	if (buf_puts(out, key) == -1)
		return -1;
	if (user != NULL &&
	    (buf_putc(out, '/') == -1 || buf_puts(out, user) == -1))
		return -1;
	return 0;
}

bool
table_iter_match(const char *path, const char *key, unsigned int flags)
{
	size_t pl = strlen(path);

	if (flags & DICT_ITER_EXACT_KEY)
		return strcmp(path, key) == 0;
	if (strncmp(key, path, pl) != 0)
		return false;
	if (flags & DICT_ITER_RECURSE)
		return true;
	return strchr(key + pl, '/') == NULL;
}

void
table_hpool_init(struct table_hpool *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->idle = NULL;
	p->n = p->cap = 0;
}

void *
table_hpool_get(struct table_hpool *p)
{
	void *h = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->n > 0)
		h = p->idle[--p->n];
	pthread_mutex_unlock(&p->lock);
	return h;
}

void
table_hpool_put(struct table_hpool *p, void *h)
{
	pthread_mutex_lock(&p->lock);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->idle = xreallocarray(p->idle, p->cap, sizeof(*p->idle));
	}
	p->idle[p->n++] = h;
	pthread_mutex_unlock(&p->lock);
}

void
table_hpool_release(struct table_hpool *p, void (*destroy)(void *))
{
	for (size_t i = 0; i < p->n; i++)
		destroy(p->idle[i]);
	free(p->idle);
	p->idle = NULL;
	p->n = p->cap = 0;
	pthread_mutex_destroy(&p->lock);
}
