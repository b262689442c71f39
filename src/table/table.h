/*
 * table: podop's lookup tables.  A table has a name (the map name Postfix
 * sends, or the dict name Dovecot sends in its hello), a backend type and a
 * parameter, as in Postfix's "type:param" map syntax:
 *
 *	static:VALUE		every key has VALUE
 *	file:/path		"key value" lines, like a postmap(1) source
 *	redis:ENDPOINT[?opts]	GET on a Redis server (hiredis)
 *	url:TEMPLATE		HTTP GET/POST, Mailu Podop's url table (libcurl)
 *	sql:[ENGINE:]/x.cf	a Postfix mysql/pgsql/sqlite map file, as is;
 *				also mysql:/x.cf, pgsql:/x.cf, sqlite:/x.cf
 *	postfixadmin:KIND[:SRC]	native lookups on the PostfixAdmin schema
 *	dns:mx=HOST[,HOST]	domains whose MX points to us (c-ares)
 *
 * Each backend is a const struct table_backend in table_<name>.c, listed in
 * the registry in table.c (optional ones under #ifdef HAVE_*).  table.c does
 * the work shared by all of them: argument checks, the key length limit,
 * turning an operation a backend lacks into an error, and the dict helpers.
 *
 * Keys.  Socketmap keys reach a table unchanged.  Dovecot dict keys arrive
 * split (proto_dict.h): the part after "shared/" or "priv/", plus the user
 * for priv/ keys (NULL for shared ones).  Backends that have no notion of
 * users look up table_flat_key(): the key, or "key/user" for private keys
 * (Podop's convention).
 *
 * Threads.  Lookups, iterations and commits on one table run concurrently
 * in several threads; every backend is thread-safe (private state is
 * read-only after open, or guarded, or per connection from a pool).  A
 * backend call blocks; it bounds its own network waits by
 * table_env.timeout_ms, retries a broken connection once, and then fails
 * with a temporary error.
 *
 * Results.  lookup returns 1 found (value in value_r), 0 not found, -1
 * error with struct err set; the err kind decides the reply (err_info()).
 * value_r is a caller-owned buffer; a backend resets it and writes the value
 * there, never keeping a pointer to it.
 *
 * Ownership.  table_open() returns a table owned by the caller and freed by
 * table_close(); it copies name, type and param, and keeps a pointer to env,
 * which must outlive it.
 */
#ifndef POSTINO_TABLE_H
#define POSTINO_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Longer keys are refused (ERR_TOOLARGE: PERM, F), never queried. */
#define TABLE_KEY_MAX (64 * 1024)

/* Settings every table may use (postino.toml and podop's command line). */
struct table_env {
	int64_t timeout_ms;	   /* per backend call */
	char *recipient_delimiter; /* "" = none */
	char *mailbox_base;	   /* Dovecot home = base/maildir */
	int64_t vmail_uid;	   /* -1 = leave to Dovecot */
	int64_t vmail_gid;
	char *sql_dir;	    /* postfix_sql_dir */
	char *sql_engine;   /* "" = from the map file */
	char *dns_resolver; /* "" = the system's; "host:port[,...]" */
	/*
	 * "" = each map file's own hosts; else the hosts every MariaDB or
	 * PostgreSQL table (sql, postfixadmin) reads from instead (user,
	 * password and dbname stay the map file's): podop's nearby replica.
	 */
	char *read_hosts;
};

void table_env_init(struct table_env *); /* built-in defaults */
void table_env_release(struct table_env *);

/* One write of a dict transaction. */
struct table_op {
	char op;	     /* 'S' set, 'U' unset, 'A' add, 'P' append */
	const char *key;     /* without "shared/" or "priv/" */
	const char *user;    /* NULL for shared keys */
	const char *value;   /* S, P */
	int64_t diff;	     /* A */
	int64_t expire_secs; /* > 0: the key expires (Dovecot 2.4) */
};

/*
 * An iteration row: key relative to the namespace (like lookup keys),
 * value.  Return 0 to go on, -1 to stop (the iteration then fails with the
 * err the callback set).
 */
typedef int table_row_fn(
    void *arg, const char *key, const char *value, struct err *);

struct table;

/* Backend flags. */
#define TABLE_F_INLINE 0x01 /* lookups never block: no thread needed */

struct table_backend {
	const char *name;
	unsigned int flags;
	int (*open)(struct table *, struct err *);
	/*
	 * 1/0/-1 as above.  *ttl_ms_r starts at -1 (use the table's
	 * default); a backend that knows better sets it (0: do not cache).
	 */
	int (*lookup)(struct table *, const char *key, const char *user,
	    struct buf *value_r, int64_t *ttl_ms_r, struct err *);
	/* Rows under path (flags: DICT_ITER_*); 0 or -1. */
	int (*iterate)(struct table *, const char *path, const char *user,
	    unsigned int flags, uint64_t max_rows, table_row_fn *, void *arg,
	    struct err *);
	/* Apply all ops, atomically where the backend can; 1 ok, -1 error. */
	int (*commit)(
	    struct table *, const struct table_op *, size_t n, struct err *);
	/*
	 * The generation of the data behind the table; it changes when the
	 * data is known to have changed (see dbpool.h).  NULL: always 0.
	 */
	uint64_t (*generation)(struct table *);
	/*
	 * Whether generation() really moves with every change (the source
	 * has postino's change serial), so that answers may be cached by
	 * default.  NULL: never.
	 */
	bool (*tracked)(struct table *);
	void (*close)(struct table *);
};

struct table {
	char *name;
	const struct table_backend *backend;
	char *type; /* as given: "mysql", "file" */
	char *param;
	const struct table_env *env;
	void *handle; /* backend state */
};

/* The backend registered under name, or NULL. */
const struct table_backend *table_backend_find(const char *name);
/* Names of the compiled-in backends, NULL-terminated. */
const char *const *table_backend_names(void);

/*
 * Open a table.  Returns 0, or -1 with err (ERR_CONFIG for an unknown type
 * or a bad parameter, naming the table; ERR_DATABASE and the like when a
 * backend cannot reach what it needs at all).
 */
int table_open(struct table **t_r, const char *name, const char *type,
    const char *param, const struct table_env *, struct err *);
/* Split "type:param" (postino.toml's [podop.tables]) and open. */
int table_open_spec(struct table **t_r, const char *name, const char *spec,
    const struct table_env *, struct err *);
void table_close(struct table **);

int table_lookup(struct table *, const char *key, const char *user,
    struct buf *value_r, int64_t *ttl_ms_r, struct err *);
int table_iterate(struct table *, const char *path, const char *user,
    unsigned int flags, uint64_t max_rows, table_row_fn *, void *arg,
    struct err *);
int table_commit(
    struct table *, const struct table_op *, size_t n, struct err *);
uint64_t table_generation(struct table *);
/* Whether cached answers of this table can be invalidated (tracked). */
bool table_tracked(struct table *);
bool table_can_iterate(const struct table *);
/* Whether lookups may run on an event loop thread (TABLE_F_INLINE). */
bool table_is_inline(const struct table *);
bool table_can_commit(const struct table *);

/*
 * Helpers for backends.
 */

/* key, or "key/user" when user is not NULL, into out (reset first). */
int table_flat_key(struct buf *out, const char *key, const char *user);
/*
 * Whether key is a row of an iteration over path with flags: under path,
 * and (without DICT_ITER_RECURSE) with no further '/', or (with
 * DICT_ITER_EXACT_KEY) equal to path.
 */
bool table_iter_match(const char *path, const char *key, unsigned int flags);

/* A stack of idle per-connection handles, shared by a table's threads. */
struct table_hpool {
	pthread_mutex_t lock;
	void **idle;
	size_t n;
	size_t cap;
};

void table_hpool_init(struct table_hpool *);
/* An idle handle, or NULL if none (the caller makes one). */
void *table_hpool_get(struct table_hpool *);
void table_hpool_put(struct table_hpool *, void *);
/* Destroy every idle handle and release the pool. */
void table_hpool_release(struct table_hpool *, void (*destroy)(void *));

#endif
