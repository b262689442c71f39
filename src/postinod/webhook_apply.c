/*
 * The webhook's handler (webhook.h): the pure checks of webhook.c, then
 * the model.  Kept apart from webhook.c so that the fuzzer and the unit
 * tests reach the parsers without linking the daemon.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "event.h"
#include "identity.h"
#include "log.h"
#include "mailbox.h"
#include "postinod.h"
#include "stats.h"
#include "strutil.h"
#include "webhook.h"
#include "banned.h"

#define PRUNE_EVERY_S 60

struct apply_ctx {
	const struct webhook_event *ev;
	char username[ADDR_MAX]; /* the mailbox the event applied to */
	bool duplicate;
	bool recorded_before; /* a concurrent delivery recorded it */
};

/*
 * The mailbox an event is about: through its aggregateID, else (postino's
 * own older sender only) the payload's email.  1 found, -1 with err.
 */
static int
resolve(struct model *m, const struct webhook_event *ev, char *username,
    size_t size, bool *linked, struct err *err)
{
	int r = 0;

	*linked = false;
	if (ev->subject[0] != '\0' &&
	    (r = identity_find(
		 m, ev->issuer, ev->subject, username, size, err)) == -1)
		return -1;
	if (r == 1) {
		*linked = true;
		return 1;
	}
	if (ev->email[0] != '\0') {
		str_copy(username, ev->email, size);
		return 1;
	}
	err_set(err, ERR_NOTFOUND,
	    "no mailbox belongs to Zitadel user '%s' (%s); it was not created through user.human.added, or its mailbox was deleted",
	    ev->subject, ev->issuer);
	return -1;
}

/* The new name of a profile change: the stored half keeps its value. */
static int
profile_name(struct model *m, const struct webhook_event *ev,
    const char *username, bool linked, char *name, size_t size, struct err *err)
{
	char given[256], family[256];
	int r = 0;

	given[0] = family[0] = '\0';
	if (linked &&
	    (r = identity_names(m, ev->issuer, ev->subject, given, family,
		 sizeof(given), err)) == -1)
		return -1;
	if ((!ev->has_first && given[0] == '\0') ||
	    (!ev->has_last && family[0] == '\0')) {
		struct mailbox_rec mb;
		char cur[256], *sp;

		/* Nothing stored yet: split the current name at its first
		 * space. */
		if (mailbox_get(m, username, &mb, err) != 1)
			return -1;
		str_copy(cur, mb.name, sizeof(cur));
		sp = strchr(cur, ' ');
		if (!ev->has_first && given[0] == '\0')
			str_copy(given, cur,
			    sp != NULL ? (size_t)(sp - cur) + 1
				       : sizeof(given));
		if (!ev->has_last && family[0] == '\0' && sp != NULL)
			str_copy(family, sp + 1, sizeof(family));
	}
	if (webhook_join_name(ev->has_first ? ev->first : given,
		ev->has_last ? ev->last : family, name, size) == -1)
		return err_set(err, ERR_INVALID, "the name is too long");
	return 0;
}

/* Record the event and apply it in one transaction. */
static int
apply_tx(struct model *m, void *arg, struct err *err)
{
	struct apply_ctx *c = arg;
	const struct webhook_event *ev = c->ev;
	char name[256];
	bool linked;
	int r;

	if ((r = event_record(m, ev->id, err)) == -1)
		return -1;
	if (r == 0) {
		c->duplicate = true;
		return err_set(err, ERR_EXISTS, "duplicate event");
	}
	if (resolve(m, ev, c->username, sizeof(c->username), &linked, err) ==
	    -1)
		return -1;
	switch (ev->type) {
	case WH_PROFILE:
		/* A profile change without a name change changes nothing. */
		if (!ev->has_name)
			return 0;
		if (profile_name(m, ev, c->username, linked, name, sizeof(name),
			err) == -1 ||
		    mailbox_set_name(m, c->username, name, err) == -1)
			return -1;
		return linked ? identity_set_names(m, ev->issuer, ev->subject,
				    ev->has_first ? ev->first : NULL,
				    ev->has_last ? ev->last : NULL, err)
			      : 0;
	case WH_DEACTIVATED:
	case WH_REMOVED:
		return mailbox_set_active(m, c->username, false, err);
	case WH_REACTIVATED:
		return mailbox_set_active(m, c->username, true, err);
	default:
		return err_set(err, ERR_INTERNAL, "unexpected event type");
	}
}

/* After the create: tie the subject, keep the names, record the event. */
static int
created_tx(struct model *m, void *arg, struct err *err)
{
	struct apply_ctx *c = arg;
	const struct webhook_event *ev = c->ev;

	if (ev->subject[0] != '\0') {
		if (identity_link(
			m, ev->issuer, ev->subject, c->username, err) == -1 ||
		    identity_set_names(m, ev->issuer, ev->subject,
			ev->has_first ? ev->first : "",
			ev->has_last ? ev->last : "", err) == -1)
			return -1;
	}
	/*
	 * A concurrent delivery may have recorded it first: that is fine, but
	 * on PostgreSQL the duplicate lost this transaction, so roll it back.
	 */
	switch (event_record(m, ev->id, err)) {
	case -1:
		return -1;
	case 0:
		c->recorded_before = true;
		return err_set(err, ERR_EXISTS, "duplicate event");
	default:
		return 0;
	}
}

static int
create(
    struct postinod *d, struct model *m, struct apply_ctx *c, struct err *err)
{
	const struct webhook_event *ev = c->ev;
	struct mailbox_spec s;
	struct mailbox_rec rec;
	int r = 0;

	/* A subject tied already (a redelivery, or renamed since): done. */
	if (ev->subject[0] != '\0' &&
	    (r = identity_find(m, ev->issuer, ev->subject, c->username,
		 sizeof(c->username), err)) == -1)
		return -1;
	if (r == 1) {
		c->duplicate = true;
		return event_record(m, ev->id, err) == -1 ? -1 : 0;
	}
	memset(&s, 0, sizeof(s));
	s.username = ev->email;
	s.name = ev->name;
	s.quota_bytes = d->conf->default_quota_bytes > 0
	    ? d->conf->default_quota_bytes
	    : -1;
	s.password = NULL;
	s.active = true;
	s.run_hook = true;
	if (ev->subject[0] != '\0') {
		s.idp_issuer = ev->issuer;
		s.idp_subject = ev->subject;
	}
	if (mailbox_add(m, &s, &rec, err) == -1) {
		struct err e2 = ERR_INIT;

		/*
		 * The mailbox exists already (an alias of that name does not
		 * count): it is adopted, unless another subject has it.
		 */
		if (err->kind != ERR_EXISTS ||
		    mailbox_get(m, ev->email, &rec, &e2) != 1)
			return -1;
		err_clear(err);
		c->duplicate = ev->subject[0] == '\0';
	}
	str_copy(c->username, rec.username, sizeof(c->username));
	c->recorded_before = false;
	if (model_tx(m, created_tx, c, err) == -1) {
		if (!c->recorded_before)
			return -1;
		err_clear(err);
		c->duplicate = true;
	}
	return 0;
}

static void
maybe_prune(struct postinod *d, struct model *m, time_t now)
{
	static atomic_llong last;
	long long prev = atomic_load(&last);
	struct err e = ERR_INIT;

	if (now - prev < PRUNE_EVERY_S ||
	    !atomic_compare_exchange_strong(&last, &prev, (long long)now))
		return;
	if (event_prune(m, 2 * d->replay_window + 60, &e) == -1)
		log_warnx("zitadel: cannot prune old events: %s", e.msg);
}

static void
reply_ok(struct http_response *w, const char *note)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_true());
	if (note != NULL)
		json_object_set_new(o, note, json_true());
	http_reply_json(w, 200, "application/json", o);
}

static void
reply_err(struct http_response *w, const struct err *err)
{
	const struct err_info *ei = err_info(err->kind);

	if (ei->http_status >= 500)
		http_reply_error(w, ei->http_status, ei->name,
		    err->kind == ERR_DATABASE || err->kind == ERR_DEADLOCK
			? "database unavailable"
			: "internal error");
	else
		http_reply_error(w, ei->http_status, ei->name, err->msg);
}

void
webhook_handle(
    struct postinod *d, struct http_request *r, struct http_response *w)
{
	struct webhook_event ev;
	struct err err = ERR_INIT;
	struct reqdb rdb;
	struct apply_ctx c;
	const char *sig;
	enum webhook_sig why;
	time_t now = time(NULL);
	char who[160], safe[160];
	int rc;

	sig = http_header(r, "ZITADEL-Signature");
	if (sig == NULL)
		sig = http_header(r, "X-ZITADEL-Signature");
	if (webhook_verify(&d->hooks, sig, r->body, r->body_len, now,
		d->replay_window, &why, &err) == -1) {
		pstats_reject(why == WH_SIG_MISSING ? PR_NO_SIGNATURE
			: why == WH_SIG_EXPIRED	    ? PR_SIGNATURE_EXPIRED
						    : PR_BAD_SIGNATURE);
		log_warnx("zitadel: rejected from %s: %s", r->remote, err.msg);
		http_reply_error(w, err_info(ERR_DENIED)->http_status,
		    err_kind_name(ERR_DENIED), "invalid signature");
		return;
	}
	if (webhook_parse(r->body, r->body_len, &ev, &err) == -1) {
		pstats_reject(PR_BAD_EVENT);
		reply_err(w, &err);
		return;
	}
	snprintf(r->subject, sizeof(r->subject), "zitadel:%.100s", ev.user_id);
	if (ev.type == WH_UNKNOWN) {
		log_debug("zitadel: ignoring event type %s",
		    log_safe(ev.type_name, safe, sizeof(safe)));
		pstats_webhook(PW_IGNORED);
		reply_ok(w, "ignored");
		return;
	}
	if ((int64_t)now - ev.created > d->replay_window ||
	    (int64_t)ev.created - now > d->replay_window) {
		log_warnx("zitadel: %s event of %s outside the replay window",
		    log_safe(ev.type_name, safe, sizeof(safe)), ev.created_at);
		err_set(&err, ERR_INVALID,
		    "event outside the replay window (%llds > %llds)",
		    (long long)(now > ev.created ? now - ev.created
						 : ev.created - now),
		    (long long)d->replay_window);
		pstats_reject(PR_REPLAY_WINDOW);
		reply_err(w, &err);
		return;
	}
	if (ev.type == WH_EMAIL) {
		err_set(&err, ERR_UNSUPPORTED,
		    "changing a mailbox address through Zitadel is not supported");
		pstats_reject(PR_UNSUPPORTED);
		reply_err(w, &err);
		return;
	}
	log_safe(ev.user_id, safe, sizeof(safe));
	snprintf(who, sizeof(who), "zitadel:%.120s", safe);
	if (postinod_db_open(d, who, &rdb, &err) == -1) {
		log_error("zitadel: %s", err.msg);
		pstats_webhook(PW_FAILED);
		reply_err(w, &err);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.ev = &ev;
	if ((rc = event_seen(&rdb.m, ev.id, &err)) == 1) {
		c.duplicate = true;
		rc = 0;
	} else if (rc == 0) {
		if (ev.type == WH_ADDED)
			rc = create(d, &rdb.m, &c, &err);
		else if ((rc = model_tx(&rdb.m, apply_tx, &c, &err)) == -1 &&
		    c.duplicate) {
			err_clear(&err);
			rc = 0;
		}
	}
	if (rc == 0) {
		maybe_prune(d, &rdb.m, now);
		log_info("zitadel: %s %s%s", ev.type_name,
		    log_safe(c.username[0] != '\0' ? c.username : ev.email,
			safe, sizeof(safe)),
		    c.duplicate ? " (duplicate)" : "");
		pstats_webhook(c.duplicate ? PW_DUPLICATE : PW_APPLIED);
		reply_ok(w, c.duplicate ? "duplicate" : NULL);
	} else {
		if (err_info(err.kind)->http_status >= 500)
			pstats_webhook(PW_FAILED);
		else
			pstats_reject(err.kind == ERR_NOTFOUND
				? PR_UNKNOWN_SUBJECT
				: err.kind == ERR_UNSUPPORTED ? PR_UNSUPPORTED
							      : PR_INVALID);
		if (err_info(err.kind)->http_status >= 500)
			log_error("zitadel: %s: %s", ev.type_name, err.msg);
		else
			log_warnx("zitadel: %s not applied: %s", ev.type_name,
			    log_safe(err.msg, safe, sizeof(safe)));
		reply_err(w, &err);
	}
	postinod_db_close(d, &rdb, rc == 0 ? NULL : &err);
}
