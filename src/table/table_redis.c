/*
 * table_redis: keys looked up with GET on a Redis server (hiredis).
 *
 * The parameter is ENDPOINT[?OPTIONS]: ENDPOINT is unix:/path/redis.sock
 * (or just /path), or inet:HOST:PORT, HOST:PORT or HOST (port 6379);
 * OPTIONS are '&'-separated: prefix=P (prepended to every key), db=N
 * (SELECT N), password_file=/path (AUTH with the file's first line).  A
 * private dict key is "key/user" (table.h).  Dict commits run in one
 * MULTI/EXEC: S is SET, U DEL, A INCRBY, P APPEND, each written key
 * followed by EXPIRE when the transaction has an expiry (Dovecot 2.4's
 * "doveadm dict set -e", as Dovecot's own Redis dict does).  Iteration SCANs
 * for prefix+path*; a private one (a user given) for prefix+path*\/user only,
 * and rows are keys without the "/user": a user never sees another's keys.
 *
 * Each thread takes a connection from a pool and gives it back.  Network
 * waits are bounded by table_env.timeout_ms; a connection that fails is
 * dropped and the command is tried once more on a new one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "proto_dict.h"
#include "strutil.h"
#include "table.h"
#include "table_private.h"
#include "xalloc.h"
#include "banned.h"

#define REDIS_SCAN_COUNT "1000"

struct redistab {
	char *path; /* UNIX socket, or NULL */
	char *host;
	int port;
	char *prefix;
	int db;
	char *password;
	struct timeval tv;
	struct table_hpool conns;
};

static void
redistab_free(struct redistab *r)
{
	if (r == NULL)
		return;
	free(r->path);
	free(r->host);
	free(r->prefix);
	str_wipe(r->password);
	free(r->password);
	free(r);
}

static int
read_password(struct redistab *r, const char *path, struct err *err)
{
	char line[1024];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return err_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	r->password = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int
parse_options(struct redistab *r, const char *opts, struct err *err)
{
	char *copy = xstrdup(opts), *tok, *save = NULL;
	int ret = 0;

	for (tok = strtok_r(copy, "&", &save); tok != NULL && ret == 0;
	     tok = strtok_r(NULL, "&", &save)) {
		if (str_prefix(tok, "prefix=")) {
			free(r->prefix);
			r->prefix = xstrdup(tok + 7);
		} else if (str_prefix(tok, "db=")) {
			if (str_to_int(tok + 3, 0, 100000, &r->db) == -1)
				ret = err_set(
				    err, ERR_CONFIG, "bad db '%s'", tok + 3);
		} else if (str_prefix(tok, "password_file="))
			ret = read_password(r, tok + 14, err);
		else
			ret = err_set(err, ERR_CONFIG,
			    "unknown option '%s' (prefix=, db=, password_file=)",
			    tok);
	}
	free(copy);
	return ret;
}

static int
redis_open(struct table *t, struct err *err)
{
	struct redistab *r = xcalloc(1, sizeof(*r));
	char *ep = xstrdup(t->param), *q, *colon;
	int64_t ms = t->env->timeout_ms > 0 ? t->env->timeout_ms : 5000;

	r->prefix = xstrdup("");
	r->port = 6379;
	r->tv.tv_sec = ms / 1000;
	r->tv.tv_usec = (ms % 1000) * 1000;
	if ((q = strchr(ep, '?')) != NULL) {
		*q++ = '\0';
		if (parse_options(r, q, err) == -1)
			goto fail;
	}
	if (str_prefix(ep, "unix:"))
		r->path = xstrdup(ep + 5);
	else if (ep[0] == '/')
		r->path = xstrdup(ep);
	else {
		char *h = str_prefix(ep, "inet:") ? ep + 5 : ep;

		if ((colon = strrchr(h, ':')) != NULL) {
			*colon = '\0';
			if (str_to_int(colon + 1, 1, 65535, &r->port) == -1) {
				err_set(err, ERR_CONFIG, "bad port '%s'",
				    colon + 1);
				goto fail;
			}
		}
		if (*h == '\0') {
			err_set(err, ERR_CONFIG,
			    "needs a server: unix:/path or host:port");
			goto fail;
		}
		r->host = xstrdup(h);
	}
	free(ep);
	table_hpool_init(&r->conns);
	t->handle = r;
	return 0;
fail:
	free(ep);
	redistab_free(r);
	return -1;
}

static void
destroy_conn(void *c)
{
	redisFree(c);
}

static void
redis_close(struct table *t)
{
	struct redistab *r = t->handle;

	if (r == NULL)
		return;
	table_hpool_release(&r->conns, destroy_conn);
	redistab_free(r);
	t->handle = NULL;
}

static const char *
where(const struct redistab *r, char *buf, size_t size)
{
	if (r->path != NULL)
		snprintf(buf, size, "redis at %s", r->path);
	else
		snprintf(buf, size, "redis at %s:%d", r->host, r->port);
	return buf;
}

/* Expect a status reply "OK"; 0 or -1. */
static int
expect_ok(redisContext *c, redisReply *rep, const char *what, struct err *err)
{
	int r = 0;

	if (rep == NULL)
		r = err_set(err, ERR_TEMP, "%s: %s", what, c->errstr);
	else if (rep->type == REDIS_REPLY_ERROR)
		r = err_set(err, ERR_CONFIG, "%s: %s", what, rep->str);
	freeReplyObject(rep);
	return r;
}

static redisContext *
connect_new(struct redistab *r, struct err *err)
{
	char w[300];
	redisContext *c;

	c = r->path != NULL ? redisConnectUnixWithTimeout(r->path, r->tv)
			    : redisConnectWithTimeout(r->host, r->port, r->tv);
	if (c == NULL || c->err) {
		err_set(err, ERR_TEMP, "cannot connect to %s: %s",
		    where(r, w, sizeof(w)),
		    c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, r->tv);
	if (r->password != NULL &&
	    expect_ok(c, redisCommand(c, "AUTH %s", r->password), "AUTH",
		err) == -1) {
		redisFree(c);
		return NULL;
	}
	if (r->db != 0 &&
	    expect_ok(c, redisCommand(c, "SELECT %d", r->db), "SELECT", err) ==
		-1) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * Run one command (argv form), reconnecting once if a pooled connection
 * turns out to be broken.  Returns the reply (caller frees), or NULL with
 * err (ERR_TEMP).
 */
static redisReply *
command(struct redistab *r, int argc, const char **argv, const size_t *lens,
    struct err *err)
{
	redisContext *c = table_hpool_get(&r->conns);
	bool reused = c != NULL;
	redisReply *rep;
	char w[300];

	for (int attempt = 0; attempt < 2; attempt++) {
		if (c == NULL && (c = connect_new(r, err)) == NULL)
			return NULL;
		rep = redisCommandArgv(c, argc, argv, lens);
		if (rep != NULL) {
			table_hpool_put(&r->conns, c);
			return rep;
		}
		err_set(
		    err, ERR_TEMP, "%s: %s", where(r, w, sizeof(w)), c->errstr);
		redisFree(c);
		c = NULL;
		if (!reused)
			break;
		reused = false;
	}
	return NULL;
}

static void
full_key(const struct redistab *r, const char *key, const char *user,
    struct buf *out)
{
	buf_reset(out);
	buf_puts(out, r->prefix);
	buf_puts(out, key);
	if (user != NULL) {
		buf_putc(out, '/');
		buf_puts(out, user);
	}
}

static int
get_value(struct redistab *r, const char *k, size_t klen, struct buf *value_r,
    struct err *err)
{
	const char *argv[2] = { "GET", k };
	size_t lens[2] = { 3, klen };
	redisReply *rep = command(r, 2, argv, lens, err);
	int ret;

	if (rep == NULL)
		return -1;
	switch (rep->type) {
	case REDIS_REPLY_NIL:
		ret = 0;
		break;
	case REDIS_REPLY_STRING:
		buf_reset(value_r);
		if (memchr(rep->str, '\0', rep->len) != NULL)
			ret = err_set(err, ERR_INVALID,
			    "value of '%.200s' contains a NUL byte", k);
		else if (buf_append(value_r, rep->str, rep->len) == -1)
			ret = err_set(err, ERR_TOOLARGE, "value too large");
		else
			ret = 1;
		break;
	case REDIS_REPLY_ERROR:
		ret = err_set(err, ERR_CONFIG, "GET '%.200s': %s", k, rep->str);
		break;
	default:
		ret = err_set(err, ERR_CONFIG,
		    "GET '%.200s': unexpected reply type %d", k, rep->type);
		break;
	}
	freeReplyObject(rep);
	return ret;
}

static int
redis_lookup(struct table *t, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *err)
{
	struct redistab *r = t->handle;
	struct buf k;
	int ret;

	(void)ttl_ms_r;
	buf_init(&k, TABLE_KEY_MAX * 3);
	full_key(r, key, user, &k);
	ret = get_value(r, k.data, k.len, value_r, err);
	buf_release(&k);
	return ret;
}

/* Escape glob characters for SCAN MATCH. */
static void
glob_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			buf_putc(out, '\\');
		buf_putc(out, *s);
	}
}

static int
redis_iterate(struct table *t, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *fn, void *arg,
    struct err *err)
{
	struct redistab *r = t->handle;
	struct buf pat, val, cursor;
	size_t plen = strlen(r->prefix);
	uint64_t rows = 0;
	int ret = 0;

	size_t ulen = user != NULL ? strlen(user) + 1 : 0;
	struct buf rel;

	buf_init(&pat, TABLE_KEY_MAX * 3);
	buf_init(&rel, TABLE_KEY_MAX * 3);
	buf_init(&val, 64 * 1024 * 1024);
	buf_init(&cursor, 64);
	glob_escape(&pat, r->prefix);
	glob_escape(&pat, path);
	buf_putc(&pat, '*');
	if (user != NULL) {
		buf_putc(&pat, '/');
		glob_escape(&pat, user);
	}
	buf_puts(&cursor, "0");
	do {
		const char *argv[6] = { "SCAN", cursor.data, "MATCH", pat.data,
			"COUNT", REDIS_SCAN_COUNT };
		size_t lens[6] = { 4, cursor.len, 5, pat.len, 5,
			strlen(REDIS_SCAN_COUNT) };
		redisReply *rep = command(r, 6, argv, lens, err);

		if (rep == NULL) {
			ret = -1;
			break;
		}
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			ret = err_set(err, ERR_TEMP, "SCAN: unexpected reply");
			break;
		}
		buf_reset(&cursor);
		buf_append(&cursor, rep->element[0]->str, rep->element[0]->len);
		for (size_t i = 0; i < rep->element[1]->elements && ret == 0;
		     i++) {
			redisReply *k = rep->element[1]->element[i];
			int found;

			if (k->type != REDIS_REPLY_STRING ||
			    k->len < plen + ulen ||
			    memchr(k->str, '\0', k->len) != NULL)
				continue;
			/* A private row must end in "/user" exactly. */
			if (user != NULL &&
			    (k->str[k->len - ulen] != '/' ||
				memcmp(k->str + k->len - ulen + 1, user,
				    ulen - 1) != 0))
				continue;
			buf_reset(&rel);
			buf_append(&rel, k->str + plen, k->len - plen - ulen);
			if (!table_iter_match(path, buf_cstr(&rel), flags))
				continue;
			if (max_rows > 0 && rows >= max_rows) {
				buf_reset(&cursor);
				buf_puts(&cursor, "0");
				break;
			}
			found = get_value(r, k->str, k->len, &val, err);
			if (found == -1)
				ret = -1;
			else if (found == 1) {
				ret = fn(
				    arg, buf_cstr(&rel), buf_cstr(&val), err);
				rows++;
			}
		}
		freeReplyObject(rep);
	} while (ret == 0 && strcmp(cursor.data, "0") != 0);
	buf_release(&pat);
	buf_release(&rel);
	buf_release(&val);
	buf_release(&cursor);
	return ret;
}

static int
redis_commit(
    struct table *t, const struct table_op *ops, size_t n, struct err *err)
{
	struct redistab *r = t->handle;
	redisContext *c;
	redisReply *rep;
	struct buf k;
	int ret = 1;
	size_t nexp = 0;
	char w[300];

	/* Writes are not retried: a lost EXEC reply leaves them unknown. */
	if ((c = table_hpool_get(&r->conns)) == NULL &&
	    (c = connect_new(r, err)) == NULL)
		return -1;
	buf_init(&k, TABLE_KEY_MAX * 3);
	redisAppendCommand(c, "MULTI");
	for (size_t i = 0; i < n; i++) {
		full_key(r, ops[i].key, ops[i].user, &k);
		switch (ops[i].op) {
		case 'S':
			redisAppendCommand(
			    c, "SET %b %s", k.data, k.len, ops[i].value);
			break;
		case 'P':
			redisAppendCommand(
			    c, "APPEND %b %s", k.data, k.len, ops[i].value);
			break;
		case 'U':
			redisAppendCommand(c, "DEL %b", k.data, k.len);
			break;
		default:
			redisAppendCommand(c, "INCRBY %b %lld", k.data, k.len,
			    (long long)ops[i].diff);
			break;
		}
		if (ops[i].op != 'U' && ops[i].expire_secs > 0) {
			redisAppendCommand(c, "EXPIRE %b %lld", k.data, k.len,
			    (long long)ops[i].expire_secs);
			nexp++;
		}
	}
	redisAppendCommand(c, "EXEC");
	buf_release(&k);
	for (size_t i = 0; i < n + nexp + 2; i++) {
		void *v = NULL;

		if (redisGetReply(c, &v) != REDIS_OK) {
			err_set(err, ERR_TEMP, "%s: %s", where(r, w, sizeof(w)),
			    c->errstr);
			redisFree(c);
			return -1;
		}
		rep = v;
		if (i == n + nexp + 1 && (rep->type != REDIS_REPLY_ARRAY))
			ret = err_set(err, ERR_TEMP, "EXEC failed: %s",
			    rep->type == REDIS_REPLY_ERROR
				? rep->str
				: "transaction aborted");
		else if (i == n + nexp + 1) {
			for (size_t j = 0; j < rep->elements; j++)
				if (rep->element[j]->type ==
				    REDIS_REPLY_ERROR) {
					ret = err_set(err, ERR_INVALID, "%s",
					    rep->element[j]->str);
					break;
				}
		} else if (rep->type == REDIS_REPLY_ERROR && ret == 1)
			ret = err_set(err, ERR_INVALID, "%s", rep->str);
		freeReplyObject(rep);
	}
	table_hpool_put(&r->conns, c);
	return ret;
}

const struct table_backend table_backend_redis = {
	.name = "redis",
	.open = redis_open,
	.lookup = redis_lookup,
	.iterate = redis_iterate,
	.commit = redis_commit,
	.close = redis_close,
};
