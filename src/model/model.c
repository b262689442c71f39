#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdlib.h>
#include <sys/random.h>

#include "maildir.h"
#include "model.h"
#include "xalloc.h"
#include "banned.h"

/* The first wait between attempts, doubled each time (20, 40, 80 ms...). */
#define TX_BACKOFF_NS 20000000L

void
model_init(struct model *m, struct db *db, const struct postino_conf *conf,
    const char *actor)
{
	memset(m, 0, sizeof(*m));
	m->db = db;
	m->conf = conf;
	m->actor = actor != NULL ? actor : "postino";
	m->has_change = -1;
	m->has_domain_ext = -1;
	m->has_pw_expiry = -1;
}

void
model_notifyf(struct model *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (m->notify == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->notify(m->notify_arg, msg);
}

bool
model_bool(const char *v)
{
	return v != NULL &&
	    (strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
		strcmp(v, "true") == 0);
}

/*
 * A transaction lost in a way that makes running it again safe and
 * useful: a deadlock, lock wait timeout or (Galera) certification
 * conflict, which rolled it back; or a connection that broke before the
 * COMMIT was sent (the server rolls back what it had), which is retried
 * on a new connection.  Never after a COMMIT whose outcome is unknown.
 */
bool
model_tx_retryable(const struct db *db, const struct err *err)
{
	if (db->commit_unknown)
		return false;
	return err->kind == ERR_DEADLOCK ||
	    (db->broken && err->kind == ERR_DATABASE);
}

void
model_tx_backoff(int attempt)
{
	unsigned int r = 0;
	long base, ns;
	struct timespec ts;

	/* Exponential, with jitter so that two losers do not meet again. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid() * 2654435761u ^
		    (unsigned int)time(NULL);
	if (attempt < 1)
		attempt = 1;
	if (attempt > 6)
		attempt = 6;
	base = TX_BACKOFF_NS << (attempt - 1);
	ns = base / 2 + (long)(r % (unsigned long)base);
	ts.tv_sec = ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	nanosleep(&ts, NULL);
}

static int bump(struct model *, struct err *);

/*
 * On a Galera cluster, a write transaction's first statement writes the
 * change serial row.  Row locks (domain_lock()'s FOR UPDATE) are local to
 * a node, and certification only compares what transactions wrote, so a
 * rule that reads before it writes (a domain's mailbox cap) could pass on
 * two nodes at once.  With this write first, a transaction either starts
 * reading after every conflicting one committed here (InnoDB takes its
 * snapshot at the first plain read, which comes after), or is aborted by
 * it (a brute-force abort on the row, or a certification conflict) and
 * retried.  Once per transaction, also inside a caller's (bulk import).
 */
static int
galera_claim(struct model *m, struct err *err)
{
	if (!m->db->galera || !m->db->in_tx || m->galera_tx == m->db->tx_seq)
		return 0;
	m->galera_tx = m->db->tx_seq;
	return bump(m, err);
}

int
model_tx(struct model *m, model_tx_fn *fn, void *arg, struct err *err)
{
	int attempt;

	/*
	 * Inside a caller's transaction (a SCIM PATCH applying several
	 * operations atomically), run in it: the caller commits and retries.
	 */
	if (m->db->in_tx)
		return galera_claim(m, err) == -1 ? -1 : fn(m, arg, err);
	for (attempt = 1;; attempt++) {
		err_clear(err);
		if (m->db->broken && db_reconnect(m->db, err) == -1)
			break;
		if (db_begin(m->db, true, err) == 0) {
			if (galera_claim(m, err) == 0 && fn(m, arg, err) == 0 &&
			    db_commit(m->db, err) == 0)
				return 0;
			db_rollback(m->db);
		}
		if (!model_tx_retryable(m->db, err) ||
		    attempt >= MODEL_TX_ATTEMPTS)
			break;
		model_tx_backoff(attempt);
	}
	if (err->kind == ERR_DEADLOCK && err->hint[0] == '\0')
		err_hint(err,
		    "the database stayed busy after %d attempts; try again",
		    attempt);
	return -1;
}

/* Tell caches (podop, postinod) that the tables changed. */
static int
bump(struct model *m, struct err *err)
{
	if (m->has_change == -1) {
		int r = db_table_exists(m->db, "postino_change", err);

		if (r == -1)
			return -1;
		m->has_change = r;
	}
	if (m->has_change &&
	    db_exec(m->db,
		"UPDATE postino_change SET "
		"serial = serial + 1 WHERE id = 1",
		NULL, 0, err) == -1)
		return -1;
	return 0;
}

int
model_audit_many(struct model *m, size_t n, const char *const *domains,
    const char *action, const char *const *data, struct err *err)
{
	char now[32];
	struct db_arg *a;
	int64_t r;

	if (n == 0)
		return 0;
	db_now(now, sizeof(now));
	a = xcalloc(n * 5, sizeof(*a));
	for (size_t i = 0; i < n; i++) {
		a[i * 5] = DB_TEXT(now);
		a[i * 5 + 1] = DB_TEXT(m->actor);
		a[i * 5 + 2] = DB_TEXT(domains[i]);
		a[i * 5 + 3] = DB_TEXT(action);
		a[i * 5 + 4] = DB_TEXT(data[i]);
	}
	r = db_insert_rows(m->db,
	    "INSERT INTO log (timestamp, username, domain, action, data)", 5, a,
	    n, err);
	free(a);
	if (r == -1)
		return err_prefix(err, "cannot write the audit row");
	if (m->defer != NULL) {
		m->defer->changed = true;
		return 0;
	}
	return bump(m, err);
}

int
model_audit(struct model *m, const char *domain, const char *action,
    const char *data, struct err *err)
{
	return model_audit_many(m, 1, &domain, action, &data, err);
}

int
model_defer_commit(struct model *m, struct model_defer *d, struct err *err)
{
	if (d->changed && bump(m, err) == -1)
		return -1;
	return db_commit(m->db, err);
}

void
model_defer_init(struct model_defer *d, const char *base)
{
	memset(d, 0, sizeof(*d));
	d->undo = xcalloc(1, sizeof(*d->undo));
	maildir_undo_init(d->undo, base);
}

void
model_defer_grave(struct model_defer *d, const char *grave, const char *rel)
{
	d->graves =
	    xreallocarray(d->graves, d->ngraves + 1, sizeof(*d->graves));
	d->rels = xreallocarray(d->rels, d->ngraves + 1, sizeof(*d->rels));
	d->graves[d->ngraves] = xstrdup(grave);
	d->rels[d->ngraves] = xstrdup(rel);
	d->ngraves++;
}

void
model_defer_hook(struct model_defer *d, const char *username)
{
	d->hooks = xreallocarray(d->hooks, d->nhooks + 1, sizeof(*d->hooks));
	d->hooks[d->nhooks++] = xstrdup(username);
}

void
model_defer_finish(struct model *m, struct model_defer *d, bool committed)
{
	const char *base = m->conf->virtual_mailbox_base;

	for (size_t i = d->ngraves; i-- > 0;) {
		struct err e = ERR_INIT;

		if (committed) {
			if (maildir_purge(base, d->graves[i], &e) == -1)
				model_notifyf(m, "could not remove '%s': %s",
				    d->graves[i], e.msg);
		} else
			(void)maildir_unstage(
			    base, d->graves[i], d->rels[i], &e);
		free(d->graves[i]);
		free(d->rels[i]);
	}
	d->ngraves = 0;
	/*
	 * A COMMIT lost with its connection may have committed: the maildirs
	 * made for it stay (staged deletions were restored above, so no mail
	 * is lost either way).
	 */
	if (!committed && !m->db->commit_unknown)
		maildir_undo_run(d->undo);
	maildir_undo_release(d->undo);
	maildir_undo_init(d->undo, base);
}

void
model_defer_release(struct model_defer *d)
{
	for (size_t i = 0; i < d->ngraves; i++) {
		free(d->graves[i]);
		free(d->rels[i]);
	}
	for (size_t i = 0; i < d->nhooks; i++)
		free(d->hooks[i]);
	free(d->graves);
	free(d->rels);
	free(d->hooks);
	if (d->undo != NULL) {
		maildir_undo_release(d->undo);
		free(d->undo);
	}
	memset(d, 0, sizeof(*d));
}
