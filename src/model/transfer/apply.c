/*
 * transfer: applying "postino import"'s records: create, update or leave
 * each one, a batch per transaction (mailboxes set-wise, plain passwords
 * hashed on all cores), and prune what the input lacks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "alias.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mailbox.h"
#include "maildir.h"
#include "password.h"
#include "strutil.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

static void
plan(struct importer *im, const char *verb, enum rtype t, const char *key,
    const char *detail)
{
	if (im->o->plan != NULL)
		im->o->plan(im->o->arg, verb, rtype_names[t], key, detail);
}

static bool
flag(const struct rec *r, int f, bool dflt)
{
	const char *v = r->f[f];

	if (v == NULL)
		return dflt;
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0;
}

static int
set_times(struct model *m, const char *table, const char *keycol,
    const struct rec *r, struct err *err)
{
	char sql[160];

	if (r->f[F_CREATED] == NULL && r->f[F_MODIFIED] == NULL)
		return 0;
	snprintf(sql, sizeof(sql),
	    "UPDATE %s SET created = COALESCE(?, "
	    "created), modified = COALESCE(?, modified) WHERE %s = ?",
	    table, keycol);
	{
		struct db_arg a[] = { DB_TEXT(r->f[F_CREATED]),
			DB_TEXT(r->f[F_MODIFIED]), DB_TEXT(r->key) };
		struct db_arg k[] = { DB_TEXT(r->key), DB_TEXT(r->key) };

		if (db_exec(m->db, sql, a, DB_NARGS(a), err) == -1)
			return -1;
		/* postino_domain is tied to the domain's created. */
		if (strcmp(table, "domain") == 0 &&
		    db_exec(m->db,
			"UPDATE postino_domain SET domain_created = (SELECT "
			"created FROM domain WHERE domain = ?) WHERE domain = "
			"?",
			k, DB_NARGS(k), err) == -1)
			return -1;
		return 0;
	}
}

static void
domain_spec_of(const struct rec *r, struct domain_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->domain = r->key;
	s->description = r->f[F_DESCRIPTION] ? r->f[F_DESCRIPTION] : "";
	s->transport = r->f[F_TRANSPORT];
	if (r->f[F_MAX_ALIASES])
		(void)str_to_i64(r->f[F_MAX_ALIASES], &s->aliases);
	if (r->f[F_MAX_MAILBOXES])
		(void)str_to_i64(r->f[F_MAX_MAILBOXES], &s->mailboxes);
	if (r->f[F_MAX_QUOTA])
		(void)str_to_i64(r->f[F_MAX_QUOTA], &s->maxquota_bytes);
	if (r->f[F_DOMAIN_QUOTA])
		(void)str_to_i64(r->f[F_DOMAIN_QUOTA], &s->quota_bytes);
	if (r->f[F_DEFAULT_QUOTA])
		(void)str_to_i64(
		    r->f[F_DEFAULT_QUOTA], &s->default_quota_bytes);
	s->backupmx = flag(r, F_BACKUPMX, false);
}

static int
apply_domain(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct domain_rec cur, out;
	struct domain_spec s;
	bool active = flag(r, F_ACTIVE, true);
	int g;

	domain_spec_of(r, &s);
	g = domain_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_DOMAIN, r->key, NULL);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		if (domain_add(m, &s, &out, err) == -1)
			return -1;
		if (!active && domain_set_active(m, r->key, false, err) == -1)
			return -1;
		return set_times(m, "domain", "domain", r, err);
	}
	if (im->o->update) {
		char tr[256];
		bool same;

		/* Compare with what add would store. */
		if (s.transport == NULL || s.transport[0] == '\0' ||
		    strcmp(s.transport, "virtual") == 0)
			str_copy(tr, "virtual", sizeof(tr));
		else if (strcmp(s.transport, "lmtp") == 0)
			snprintf(tr, sizeof(tr), "lmtp:%s",
			    m->conf->lmtp_destination);
		else
			str_copy(tr, s.transport, sizeof(tr));
		same = strcmp(cur.description, s.description) == 0 &&
		    cur.aliases == s.aliases && cur.mailboxes == s.mailboxes &&
		    cur.maxquota_bytes ==
			domain_units_to_bytes(
			    m, domain_units_from_bytes(m, s.maxquota_bytes)) &&
		    cur.quota_bytes ==
			domain_units_to_bytes(
			    m, domain_units_from_bytes(m, s.quota_bytes)) &&
		    cur.default_quota_bytes == s.default_quota_bytes &&
		    strcmp(cur.transport, tr) == 0 &&
		    cur.backupmx == s.backupmx && cur.active == active;
		if (!same) {
			plan(im, "update", R_DOMAIN, r->key, NULL);
			im->st->updated++;
			if (im->o->dry_run)
				return 0;
			return domain_update(m, &s, active, NULL, err);
		}
	}
	im->st->unchanged++;
	return 0;
}

static int
apply_alias_domain(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct alias_domain_rec cur, out;
	char tgt[ADDR_MAX];
	bool active = flag(r, F_ACTIVE, true);
	int g;

	if (addr_domain("target_domain", r->f[F_TARGET_DOMAIN], tgt, err) == -1)
		return -1;
	g = alias_domain_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_ALIAS_DOMAIN, r->key, tgt);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		if (alias_domain_add(m, r->key, tgt, &out, err) == -1)
			return -1;
		if (!active &&
		    alias_domain_set_active(m, r->key, false, err) == -1)
			return -1;
		return set_times(m, "alias_domain", "alias_domain", r, err);
	}
	if (im->o->update &&
	    (strcmp(cur.target_domain, tgt) != 0 || cur.active != active)) {
		plan(im, "update", R_ALIAS_DOMAIN, r->key, tgt);
		im->st->updated++;
		if (im->o->dry_run)
			return 0;
		if (strcmp(cur.target_domain, tgt) != 0 &&
		    alias_domain_retarget(m, r->key, tgt, &out, err) == -1)
			return -1;
		if (cur.active != active &&
		    alias_domain_set_active(m, r->key, active, err) == -1)
			return -1;
		return 0;
	}
	im->st->unchanged++;
	return 0;
}

/* Tie the record's identities to its mailbox. */
static int
apply_identities(struct model *m, const struct rec *r, struct err *err)
{
	char iss[IDENTITY_ISSUER_MAX], sub[IDENTITY_SUBJECT_MAX];
	const char *v = r->f[F_IDENTITIES];
	int d;

	if (v == NULL)
		return 0;
	while ((d = identity_decode_next(
		    &v, iss, sizeof(iss), sub, sizeof(sub))) == 1)
		if (identity_set(m, iss, r->key, sub, err) == -1)
			return -1;
	return d == -1 ? err_set(err, ERR_INVALID, "bad identities") : 0;
}

/* What mailbox_add_many() is to make of a mailbox record. */
static void
mailbox_spec_of(
    struct importer *im, const struct rec *r, struct mailbox_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->username = r->key;
	s->name = r->f[F_NAME] ? r->f[F_NAME] : "";
	s->quota_bytes = -1;
	if (r->f[F_QUOTA] != NULL)
		(void)str_to_i64(r->f[F_QUOTA], &s->quota_bytes);
	s->password = r->f[F_PASSWORD] != NULL ? r->f[F_PASSWORD]
	    : r->hash[0] != '\0'	       ? r->hash
					       : NULL;
	s->prehashed = true;
	s->active = flag(r, F_ACTIVE, true);
	s->run_hook = im->o->run_hooks;
	s->created = r->f[F_CREATED];
	s->modified = r->f[F_MODIFIED];
	if (r->f[F_BYTES_USED] != NULL)
		(void)str_to_i64(r->f[F_BYTES_USED], &s->bytes_used);
	if (r->f[F_MESSAGES] != NULL)
		(void)str_to_i64(r->f[F_MESSAGES], &s->messages);
	s->tag = r->line;
}

static int
apply_mailbox(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct mailbox_rec cur;
	bool active = flag(r, F_ACTIVE, true);
	int64_t quota = -1;
	int g;

	if (r->f[F_QUOTA] != NULL)
		(void)str_to_i64(r->f[F_QUOTA], &quota);
	g = mailbox_get(m, r->key, &cur, err);
	if (g == -1)
		return -1;
	if (g == 0) {
		struct mailbox_spec s;
		size_t failed;

		err_clear(err);
		plan(im, "create", R_MAILBOX, r->key, NULL);
		im->st->created++;
		if (im->o->dry_run)
			return 0;
		mailbox_spec_of(im, r, &s);
		if (mailbox_add_many(m, &s, 1, &failed, err) == -1 ||
		    apply_identities(m, r, err) == -1)
			return -1;
		return 0;
	}
	if (im->o->update && !im->o->dry_run &&
	    apply_identities(m, r, err) == -1)
		return -1;
	if (im->o->update) {
		bool name_d =
		    r->f[F_NAME] != NULL && strcmp(cur.name, r->f[F_NAME]) != 0;
		bool quota_d = quota >= 0 && cur.quota_bytes != quota;
		bool active_d = cur.active != active;
		bool pw_d = false;

		if (r->f[F_PASSWORD] != NULL) {
			char *stored = NULL;
			struct db_arg a[] = { DB_TEXT(r->key) };

			if (db_query_value(m->db,
				"SELECT password FROM mailbox "
				"WHERE username = ?",
				a, 1, &stored, err) == -1)
				return -1;
			pw_d = stored == NULL ||
			    strcmp(stored, r->f[F_PASSWORD]) != 0;
			str_wipe(stored);
			free(stored);
		} else if (r->f[F_PLAIN_PASSWORD] != NULL) {
			char *stored = NULL;
			struct db_arg a[] = { DB_TEXT(r->key) };
			struct err e2 = ERR_INIT;

			if (db_query_value(m->db,
				"SELECT password FROM mailbox "
				"WHERE username = ?",
				a, 1, &stored, err) == -1)
				return -1;
			pw_d = stored == NULL ||
			    password_verify(
				stored, r->f[F_PLAIN_PASSWORD], &e2) != 1;
			str_wipe(stored);
			free(stored);
		}
		if (name_d || quota_d || active_d || pw_d) {
			plan(im, "update", R_MAILBOX, r->key, NULL);
			im->st->updated++;
			if (im->o->dry_run)
				return 0;
			if ((name_d &&
				mailbox_set_name(
				    m, r->key, r->f[F_NAME], err) == -1) ||
			    (quota_d &&
				mailbox_set_quota(m, r->key, quota, err) ==
				    -1) ||
			    (active_d &&
				mailbox_set_active(m, r->key, active, err) ==
				    -1) ||
			    (pw_d &&
				mailbox_set_password_hash(m, r->key,
				    r->f[F_PASSWORD] ? r->f[F_PASSWORD]
						     : r->hash,
				    err) == -1))
				return -1;
			return 0;
		}
	}
	im->st->unchanged++;
	return 0;
}

static int
apply_alias(struct importer *im, struct rec *r, struct err *err)
{
	struct model *m = im->m;
	struct alias_rec cur, out;
	char gotos[GOTO_MAX];
	bool active = flag(r, F_ACTIVE, true);
	int g, rc = 0;

	memset(&cur, 0, sizeof(cur));
	memset(&out, 0, sizeof(out));
	if (addr_goto("goto", r->f[F_GOTO], gotos, sizeof(gotos), err) == -1)
		return -1;
	g = alias_get(m, r->key, &cur, err);
	if (g == -1) {
		alias_rec_release(&cur);
		return -1;
	}
	if (g == 0) {
		err_clear(err);
		plan(im, "create", R_ALIAS, r->key, gotos);
		im->st->created++;
		if (!im->o->dry_run) {
			rc = alias_add(m, r->key, gotos, &out, err);
			if (rc == 0 && !active)
				rc = alias_set_active(m, r->key, false, err);
			if (rc == 0)
				rc = set_times(m, "alias", "address", r, err);
		}
	} else if ((im->o->update || cur.mailbox) &&
	    (strcmp(cur.goto_list, gotos) != 0 || cur.active != active)) {
		/*
		 * A mailbox's forwards live in its self-alias, which the
		 * mailbox record created: set them even without --update.
		 */
		plan(im, cur.mailbox ? "create" : "update", R_ALIAS, r->key,
		    gotos);
		if (cur.mailbox)
			im->st->created++;
		else
			im->st->updated++;
		if (!im->o->dry_run) {
			if (strcmp(cur.goto_list, gotos) != 0)
				rc = alias_edit(m, r->key, gotos, &out, err);
			if (rc == 0 && cur.active != active)
				rc = alias_set_active(m, r->key, active, err);
			if (rc == 0 && cur.mailbox)
				rc = set_times(m, "alias", "address", r, err);
		}
	} else
		im->st->unchanged++;
	alias_rec_release(&cur);
	alias_rec_release(&out);
	return rc;
}

static int apply(struct importer *, struct rec *, struct err *);

static int
rec_cmp_key(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/*
 * A batch of records of one type, set-wise.  Which of them exist is one
 * query per IMPORT_CHUNK names; the new ones (each the first of its name)
 * go to the type's *_add_many() at once, which applies the single
 * commands' rules row by row and writes set-wise; the others (existing,
 * or a name seen earlier in the batch) go through apply() one by one
 * after them, as "unchanged" or, with update, an update.  *line_r: the
 * line to blame, or -1 when a set-wise statement failed as a whole (the
 * caller then retries the batch with rowwise, one row at a time, to name
 * the line).
 */
#define IMPORT_CHUNK 1000
static const char *const exists_sql[R__COUNT] = {
	[R_DOMAIN] = "SELECT domain FROM domain WHERE domain IN (%s)",
	[R_ALIAS_DOMAIN] = "SELECT alias_domain FROM alias_domain WHERE "
			   "alias_domain IN (%s)",
	[R_MAILBOX] = "SELECT username FROM mailbox WHERE username IN (%s)",
	[R_ALIAS] = "SELECT address FROM alias WHERE address IN (%s)",
};

/* The specs of the type's *_add_many(), one per new record. */
union add_specs {
	struct domain_spec *d;
	struct alias_domain_spec *ad;
	struct mailbox_spec *mb;
	struct alias_spec *al;
};

/* Add recs[idx[0..nn)] (from j on, k of them) with their type's rules. */
static int
add_new(struct importer *im, enum rtype t, union add_specs sp, size_t j,
    size_t k, size_t *failed_r, struct err *err)
{
	switch (t) {
	case R_DOMAIN:
		return domain_add_many(im->m, sp.d + j, k, failed_r, err);
	case R_ALIAS_DOMAIN:
		return alias_domain_add_many(
		    im->m, sp.ad + j, k, failed_r, err);
	case R_MAILBOX:
		return mailbox_add_many(im->m, sp.mb + j, k, failed_r, err);
	default:
		return alias_add_many(im->m, sp.al + j, k, failed_r, err);
	}
}

static int
apply_set(struct importer *im, struct rec *recs, size_t n, bool rowwise,
    int *line_r, struct err *err)
{
	struct model *m = im->m;
	enum rtype t = recs[0].type;
	struct rec **sorted = xcalloc(n, sizeof(*sorted));
	bool *old = xcalloc(n, sizeof(*old));
	union add_specs sp;
	size_t *idx = xcalloc(n, sizeof(*idx));
	struct db_arg *args =
	    xcalloc(n < IMPORT_CHUNK ? n : IMPORT_CHUNK, sizeof(*args));
	size_t nn = 0, failed;
	int rc = -1;

	switch (t) {
	case R_DOMAIN:
		sp.d = xcalloc(n, sizeof(*sp.d));
		break;
	case R_ALIAS_DOMAIN:
		sp.ad = xcalloc(n, sizeof(*sp.ad));
		break;
	case R_MAILBOX:
		sp.mb = xcalloc(n, sizeof(*sp.mb));
		break;
	default:
		sp.al = xcalloc(n, sizeof(*sp.al));
		break;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &recs[i];
	qsort(sorted, n, sizeof(*sorted), rec_cmp_key);
	/* A name again in the batch finds the first one's row. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(sorted[i]->key, sorted[i - 1]->key) == 0)
			old[sorted[i] - recs] = true;
	for (size_t i = 0; i < n; i += IMPORT_CHUNK) {
		size_t k = n - i < IMPORT_CHUNK ? n - i : IMPORT_CHUNK;
		char *in = db_placeholders(k), *q;
		struct db_res *r;
		int nx;

		for (size_t j = 0; j < k; j++)
			args[j] = DB_TEXT(sorted[i + j]->key);
		q = xasprintf(exists_sql[t], in);
		free(in);
		nx = db_query(m->db, q, args, k, 0, &r, err);
		free(q);
		if (nx == -1) {
			*line_r = recs[0].line;
			goto out;
		}
		while ((nx = db_next(r, err)) == 1) {
			const char *u = db_col(r, 0);

			size_t lo = i, hi = i + k;

			while (u != NULL && lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (strcasecmp(sorted[mid]->key, u) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; u != NULL && lo < i + k &&
			     strcasecmp(sorted[lo]->key, u) == 0;
			     lo++)
				old[sorted[lo] - recs] = true;
		}
		db_res_free(&r);
		if (nx == -1) {
			*line_r = recs[0].line;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct rec *r = &recs[i];

		if (old[i])
			continue;
		switch (t) {
		case R_DOMAIN:
			domain_spec_of(r, &sp.d[nn]);
			sp.d[nn].disabled = !flag(r, F_ACTIVE, true);
			sp.d[nn].created = r->f[F_CREATED];
			sp.d[nn].modified = r->f[F_MODIFIED];
			break;
		case R_ALIAS_DOMAIN:
			sp.ad[nn].alias = r->key;
			sp.ad[nn].target = r->f[F_TARGET_DOMAIN];
			sp.ad[nn].disabled = !flag(r, F_ACTIVE, true);
			sp.ad[nn].created = r->f[F_CREATED];
			sp.ad[nn].modified = r->f[F_MODIFIED];
			break;
		case R_MAILBOX:
			mailbox_spec_of(im, r, &sp.mb[nn]);
			break;
		default:
			sp.al[nn].address = r->key;
			sp.al[nn].gotos = r->f[F_GOTO];
			sp.al[nn].active = flag(r, F_ACTIVE, true);
			sp.al[nn].created = r->f[F_CREATED];
			sp.al[nn].modified = r->f[F_MODIFIED];
			break;
		}
		idx[nn++] = i;
	}
	if (rowwise) {
		/* After a failure no row was blamed for: find the row. */
		for (size_t j = 0; j < nn; j++)
			if (add_new(im, t, sp, j, 1, &failed, err) == -1) {
				*line_r = recs[idx[j]].line;
				goto out;
			}
	} else if (add_new(im, t, sp, 0, nn, &failed, err) == -1) {
		*line_r = failed < nn ? recs[idx[failed]].line : -1;
		goto out;
	}
	for (size_t j = 0; j < nn; j++) {
		struct rec *r = &recs[idx[j]];
		char detail[GOTO_MAX];
		struct err e2 = ERR_INIT;

		detail[0] = '\0';
		if (t == R_ALIAS)
			(void)addr_goto(
			    "goto", r->f[F_GOTO], detail, sizeof(detail), &e2);
		else if (t == R_ALIAS_DOMAIN)
			(void)addr_domain("target_domain",
			    r->f[F_TARGET_DOMAIN], detail, &e2);
		plan(im, "create", t, r->key, detail[0] ? detail : NULL);
		im->st->created++;
		if (t == R_MAILBOX && apply_identities(m, r, err) == -1) {
			*line_r = r->line;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (old[i]) {
			m->defer->tag = recs[i].line;
			if (apply(im, &recs[i], err) == -1) {
				*line_r = recs[i].line;
				goto out;
			}
		}
	rc = 0;
out:
	free(sorted);
	free(old);
	free(sp.d); /* any member: they share the pointer */
	free(idx);
	free(args);
	return rc;
}

static int
apply(struct importer *im, struct rec *r, struct err *err)
{
	switch (r->type) {
	case R_DOMAIN:
		return apply_domain(im, r, err);
	case R_ALIAS_DOMAIN:
		return apply_alias_domain(im, r, err);
	case R_MAILBOX:
		return apply_mailbox(im, r, err);
	default:
		return apply_alias(im, r, err);
	}
}

/* Hash the batch's plain passwords on all cores. */
struct hash_job {
	struct rec **recs;
	size_t n;
	size_t next;
	pthread_mutex_t mu;
	const struct postino_conf *conf;
	int failed_line;
	struct err err;
};

static void *
hash_worker(void *arg)
{
	struct hash_job *j = arg;

	for (;;) {
		struct rec *r;
		struct err e = ERR_INIT;

		pthread_mutex_lock(&j->mu);
		if (j->next >= j->n || j->failed_line) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		r = j->recs[j->next++];
		pthread_mutex_unlock(&j->mu);
		if (password_make(j->conf, NULL, r->f[F_PLAIN_PASSWORD],
			r->hash, sizeof(r->hash), &e) == -1) {
			pthread_mutex_lock(&j->mu);
			if (!j->failed_line) {
				j->failed_line = r->line;
				j->err = e;
			}
			pthread_mutex_unlock(&j->mu);
		}
	}
}

static int
hash_batch(struct importer *im, struct rec *recs, size_t n, struct err *err)
{
	struct hash_job j;
	pthread_t th[64];
	int nth = im->o->threads > 0 ? im->o->threads : 1;

	memset(&j, 0, sizeof(j));
	j.recs = xcalloc(n ? n : 1, sizeof(*j.recs));
	for (size_t i = 0; i < n; i++)
		if (recs[i].type == R_MAILBOX &&
		    recs[i].f[F_PLAIN_PASSWORD] != NULL)
			j.recs[j.n++] = &recs[i];
	if (j.n == 0) {
		free(j.recs);
		return 0;
	}
	pthread_mutex_init(&j.mu, NULL);
	j.conf = im->m->conf;
	if (nth > 64)
		nth = 64;
	if ((size_t)nth > j.n)
		nth = (int)j.n;
	for (int i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, hash_worker, &j) != 0)
			nth = i;
	if (nth == 0)
		hash_worker(&j);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.mu);
	free(j.recs);
	if (j.failed_line) {
		*err = j.err;
		return err_prefix(err, "%s:%d", im->name, j.failed_line);
	}
	return 0;
}

/* Apply one batch in one transaction; retries on deadlock. */
int
run_batch(struct importer *im, struct rec *recs, size_t n, struct err *err)
{
	struct model *m = im->m;
	struct model_defer d;
	struct transfer_stats saved = *im->st;
	bool rowwise = false;
	int rc = -1;

	if (hash_batch(im, recs, n, err) == -1)
		return -1;
	if (im->o->dry_run) {
		for (size_t i = 0; i < n; i++)
			if (apply(im, &recs[i], err) == -1)
				return err_prefix(
				    err, "%s:%d", im->name, recs[i].line);
		return 0;
	}
	model_defer_init(&d, m->conf->virtual_mailbox_base);
	d.pool = im->pool;
	/* model_tx()'s retry policy, for a transaction of our own. */
	for (int attempt = 1; attempt <= MODEL_TX_ATTEMPTS; attempt++) {
		struct err perr = ERR_INIT;
		long pline = 0;
		int pr, fline;

		*im->st = saved;
		err_clear(err);
		if (m->db->broken && db_reconnect(m->db, err) == -1)
			break;
		m->defer = &d;
		if (db_begin(m->db, true, err) == -1) {
			m->defer = NULL;
			if (!model_tx_retryable(m->db, err) ||
			    attempt >= MODEL_TX_ATTEMPTS)
				break;
			model_tx_backoff(attempt);
			continue;
		}
		fline = 0;
		/* Set-wise: a few statements for the whole batch. */
		if (apply_set(im, recs, n, rowwise, &fline, err) == -1 &&
		    fline == 0)
			fline = recs[0].line;
		/* The maildirs exist before the rows that name them commit. */
		pr = d.pool != NULL
		    ? maildir_pool_wait(d.pool, d.undo, &pline, &perr)
		    : 0;
		if (fline == 0 && pr == 0 &&
		    model_defer_commit(m, &d, err) == 0) {
			m->defer = NULL;
			model_defer_finish(m, &d, true);
			rc = 0;
			break;
		}
		if (pr == -1 && (fline <= 0 || pline <= fline)) {
			*err = perr;
			err_prefix(err, "%s:%ld", im->name, pline);
			fline = 0;
		} else if (fline > 0)
			err_prefix(err, "%s:%d", im->name, fline);
		else if (fline == -1)
			err_prefix(err, "%s:%d-%d", im->name, recs[0].line,
			    recs[n - 1].line);
		db_rollback(m->db);
		m->defer = NULL;
		model_defer_finish(m, &d, false);
		for (size_t k = 0; k < d.nhooks; k++)
			free(d.hooks[k]);
		d.nhooks = 0;
		/*
		 * A set-wise statement failed with no row to blame: once more,
		 * a row at a time, in a new transaction, to name the line.
		 */
		if (fline == -1 && !rowwise &&
		    !model_tx_retryable(m->db, err)) {
			rowwise = true;
			attempt--;
			continue;
		}
		if (!model_tx_retryable(m->db, err) ||
		    attempt >= MODEL_TX_ATTEMPTS)
			break;
		model_tx_backoff(attempt);
	}
	if (rc == 0) {
		for (size_t k = 0; k < d.nhooks; k++) {
			struct err e = ERR_INIT;

			if (mailbox_run_hook(m, d.hooks[k], &e) == -1) {
				im->st->hooks_failed++;
				model_notifyf(m, "%s%s%s", e.msg,
				    e.hint[0] ? "; " : "", e.hint);
			}
		}
	}
	model_defer_release(&d);
	return rc;
}

/* Collect keys of one type in the named domains that the input lacks. */
struct prune_ctx {
	struct importer *im;
	char **keys;
	size_t n;
};

static int
prune_mailbox_cb(void *arg, const struct mailbox_rec *mb)
{
	struct prune_ctx *p = arg;

	if (strset_has(&p->im->domains, mb->domain) &&
	    !strset_has(&p->im->keys[R_MAILBOX], mb->username)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(mb->username);
	}
	return 0;
}

static int
prune_alias_cb(void *arg, const struct alias_rec *a)
{
	struct prune_ctx *p = arg;

	if (!a->mailbox && strset_has(&p->im->domains, a->domain) &&
	    !strset_has(&p->im->keys[R_ALIAS], a->address)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(a->address);
	}
	return 0;
}

static int
prune_adom_cb(void *arg, const struct alias_domain_rec *a)
{
	struct prune_ctx *p = arg;

	if (strset_has(&p->im->domains, a->alias_domain) &&
	    !strset_has(&p->im->keys[R_ALIAS_DOMAIN], a->alias_domain)) {
		p->keys = xreallocarray(p->keys, p->n + 1, sizeof(*p->keys));
		p->keys[p->n++] = xstrdup(a->alias_domain);
	}
	return 0;
}

int
prune(struct importer *im, struct err *err)
{
	static const enum rtype order[] = { R_ALIAS, R_MAILBOX,
		R_ALIAS_DOMAIN };
	struct model *m = im->m;
	int rc = 0;

	for (size_t o = 0; o < 3 && rc == 0; o++) {
		struct prune_ctx p = { im, NULL, 0 };
		enum rtype t = order[o];
		struct model_defer d;

		if (t == R_ALIAS)
			rc = alias_foreach(
			    m, NULL, false, false, prune_alias_cb, &p, err);
		else if (t == R_MAILBOX)
			rc = mailbox_foreach(
			    m, NULL, true, false, prune_mailbox_cb, &p, err);
		else
			rc = alias_domain_foreach(
			    m, NULL, true, prune_adom_cb, &p, err);
		if (rc == 0 && !im->o->dry_run && p.n > 0) {
			model_defer_init(&d, m->conf->virtual_mailbox_base);
			m->defer = &d;
			rc = db_begin(m->db, true, err);
			for (size_t i = 0; rc == 0 && i < p.n; i++) {
				if (t == R_ALIAS)
					rc = alias_del(m, p.keys[i], err);
				else if (t == R_MAILBOX)
					rc = mailbox_del(
					    m, p.keys[i], false, err);
				else
					rc =
					    alias_domain_del(m, p.keys[i], err);
			}
			if (rc == 0)
				rc = model_defer_commit(m, &d, err);
			if (rc != 0)
				db_rollback(m->db); /* as run_batch() does */
			m->defer = NULL;
			model_defer_finish(m, &d, rc == 0);
			model_defer_release(&d);
		}
		for (size_t i = 0; i < p.n; i++) {
			if (rc == 0)
				plan(im, "prune", t, p.keys[i], NULL);
			free(p.keys[i]);
		}
		if (rc == 0)
			im->st->pruned += (int64_t)p.n;
		free(p.keys);
	}
	return rc;
}
