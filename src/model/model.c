#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdlib.h>

#include "maildir.h"
#include "model.h"
#include "xalloc.h"
#include "banned.h"

#define TX_ATTEMPTS 5

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

int
model_tx(struct model *m, model_tx_fn *fn, void *arg, struct err *err)
{
	/*
	 * Inside a caller's transaction (a SCIM PATCH applying several
	 * operations atomically), run in it: the caller commits and retries.
	 */
	if (m->db->in_tx)
		return fn(m, arg, err);
	for (int attempt = 1;; attempt++) {
		err_clear(err);
		if (db_begin(m->db, true, err) == 0) {
			if (fn(m, arg, err) == 0 && db_commit(m->db, err) == 0)
				return 0;
			db_rollback(m->db);
		}
		if (err->kind != ERR_DEADLOCK || attempt >= TX_ATTEMPTS)
			break;
		/* Back off a little, more each time, before retrying. */
		{
			struct timespec ts = { 0, 20000000L * attempt };

			nanosleep(&ts, NULL);
		}
	}
	if (err->kind == ERR_DEADLOCK && err->hint[0] == '\0')
		err_hint(err,
		    "the database stayed busy after %d attempts; "
		    "try again",
		    TX_ATTEMPTS);
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
	if (!committed)
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
