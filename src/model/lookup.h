/*
 * lookup: the read side of the PostfixAdmin schema, as Postfix and Dovecot
 * ask for it, with no SQL for the administrator to write.  podop's
 * postfixadmin table calls these; so can anything else that wants the same
 * answers.
 *
 * Postfix only sends the full key through a socketmap (protocols.md 1.4),
 * so what it would do itself with partial keys on an SQL map is done here:
 * case folding, the recipient delimiter (extension stripped, and re-appended
 * to alias results), alias domains and catch-alls.  The order is the one of
 * protocols.md 8.1.  For an alias key local[+ext]@dom, the first of these
 * that exists wins (only active rows count):
 *
 *	1. alias local+ext@dom
 *	2. alias local@dom			(+ext re-appended to each
 *target)
 *	3. if dom is an active alias domain of the active domain T:
 *	   alias local+ext@T, then local@T	(+ext re-appended)
 *	4. catch-all @dom
 *	5. catch-all @T
 *
 * mailbox, sender_login and quota_limit use steps 1 to 3 on mailbox rows.
 * The extension is only split off when the local part holds one of the
 * delimiter characters after its first character, and (as Postfix does)
 * never for owner-* or *-request local parts when '-' is a delimiter.
 * The domain row 'ALL' that PostfixAdmin uses internally never matches.
 *
 * Every function takes a connection the caller owns, returns 1 found (the
 * value written to value_r, which is reset first), 0 not found, or -1 with
 * err, and never prints.  Nothing is cached here.
 */
#ifndef POSTINO_LOOKUP_H
#define POSTINO_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "err.h"

struct lookup_opts {
	const char *delimiters;	  /* recipient_delimiter; NULL/"" none */
	const char *mailbox_base; /* userdb home = base/maildir */
	int64_t uid;		  /* -1: not in userdb answers */
	int64_t gid;
};

/* virtual_mailbox_domains: the domain, if active, not a backup MX, or an
 * active alias domain of an active domain. */
int lookup_domain(
    struct db *, const char *key, struct buf *value_r, struct err *);
/* relay_domains: active backup MX domains. */
int lookup_relay_domain(
    struct db *, const char *key, struct buf *value_r, struct err *);
/* virtual_mailbox_maps: the maildir. */
int lookup_mailbox(struct db *, const struct lookup_opts *, const char *key,
    struct buf *value_r, struct err *);
/* virtual_alias_maps: the comma-separated targets. */
int lookup_alias(struct db *, const struct lookup_opts *, const char *key,
    struct buf *value_r, struct err *);
/* transport_maps: domain.transport of the key's domain ("virtual" -> ":"). */
int lookup_transport(
    struct db *, const char *key, struct buf *value_r, struct err *);
/*
 * smtpd_sender_login_maps: the logins that may use the sender address:
 * the mailbox itself and the active mailboxes an alias at that address
 * forwards to, comma-separated.
 */
int lookup_sender_login(struct db *, const struct lookup_opts *,
    const char *key, struct buf *value_r, struct err *);
/*
 * transport_maps for postino's routes table (mailing lists): the transport
 * of the first active route of the key's domain, by priority, whose pattern
 * (a POSIX extended regular expression, case-insensitive) matches the
 * address.  Invalid patterns never match.
 */
int lookup_routes(
    struct db *, const char *key, struct buf *value_r, struct err *);
/* virtual_mailbox_limit_maps: mailbox.quota in bytes. */
int lookup_quota_limit(struct db *, const struct lookup_opts *, const char *key,
    struct buf *value_r, struct err *);

/*
 * Dovecot (passdb/userdb driver = dict, Dovecot <= 2.3): flat JSON objects.
 * passdb: {"password": ...} for an active mailbox (no "password" member
 * when the stored one is empty, so the login fails).  userdb: "home"
 * (mailbox_base/maildir), "uid" and "gid" when >= 0, and "quota_rule"
 * ("*:bytes=N") when the quota is not 0.
 */
int lookup_passdb(struct db *, const struct lookup_opts *, const char *user,
    struct buf *json_r, struct err *);
int lookup_userdb(struct db *, const struct lookup_opts *, const char *user,
    struct buf *json_r, struct err *);

/* Called once per active mailbox, in username order; 0 go on, -1 stop. */
typedef int lookup_user_fn(
    void *arg, const char *user, const char *json, struct err *);
/* Every active mailbox with its userdb JSON.  0, or -1 with err. */
int lookup_userdb_each(struct db *, const struct lookup_opts *,
    lookup_user_fn *, void *arg, struct err *);

/* quota2 usage ("storage" = bytes, "messages"), as Dovecot's quota dict. */
int lookup_quota_usage(struct db *, const char *user, const char *what,
    struct buf *value_r, struct err *);

/* What Dovecot's quota_clone (S) or quota dict (A, U) writes for a user. */
struct quota_change {
	bool bytes_set; /* bytes = value (S, U) */
	bool bytes_add; /* bytes += value (A) */
	int64_t bytes;
	bool messages_set;
	bool messages_add;
	int64_t messages;
};

/*
 * Apply a change to the user's quota2 row (created if missing), in its own
 * transaction.  Returns 1, or -1 with err.
 */
int lookup_quota_store(
    struct db *, const char *user, const struct quota_change *, struct err *);

#endif
