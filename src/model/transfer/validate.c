/*
 * transfer: pass 1 of "postino import": every record is checked (and its
 * key normalised) before anything is written.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alias.h"
#include "domain.h"
#include "identity.h"
#include "password.h"
#include "pwpolicy.h"
#include "strutil.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

static int
num(const struct rec *r, int f, int64_t dflt, int64_t min, int64_t *out,
    const char *name, int line, struct err *err)
{
	if (r->f[f] == NULL) {
		*out = dflt;
		return 0;
	}
	if (str_to_i64(r->f[f], out) == -1 || *out < min)
		return err_set(err, ERR_INVALID, "%s:%d: invalid %s '%.32s'",
		    name, line, field_names[f], r->f[f]);
	return 0;
}

static int
check_flag(const struct rec *r, int f, const char *name, struct err *err)
{
	static const char *const ok[] = { "true", "false", "1", "0", "yes",
		"no", NULL };

	if (r->f[f] == NULL)
		return 0;
	for (size_t i = 0; ok[i] != NULL; i++)
		if (strcmp(r->f[f], ok[i]) == 0)
			return 0;
	return err_set(err, ERR_INVALID, "%s:%d: %s must be true or false",
	    name, r->line, field_names[f]);
}

static int
domain_known(struct model *m, struct known *k, const char *d, struct err *err)
{
	struct db_res *res;
	int r;

	if (strset_has(&k->in_file, d) || strset_has(&k->in_db, d))
		return 1;
	if (k->loaded)
		return 0;
	/* One statement for all, not one per domain the records name. */
	if (db_query(m->db, "SELECT domain FROM domain WHERE domain <> 'ALL'",
		NULL, 0, DB_STREAM, &res, err) == -1)
		return -1;
	while ((r = db_next(res, err)) == 1)
		if (db_col(res, 0) != NULL) {
			char *v = xstrdup(db_col(res, 0));

			/* Names as the database compares them. */
			if (db_engine(m->db) == DB_ENGINE_MYSQL)
				str_lower(v);
			strset_add(&k->in_db, v);
			free(v);
		}
	db_res_free(&res);
	if (r == -1)
		return -1;
	k->loaded = true;
	return strset_has(&k->in_db, d) ? 1 : 0;
}

/* Validate one record; fills r->key.  Messages carry name:line. */
/* Whether an "identities" value decodes (identity.h). */
static int
identities_check(const char *v)
{
	char iss[IDENTITY_ISSUER_MAX], sub[IDENTITY_SUBJECT_MAX];
	struct err e = ERR_INIT;
	int r;

	while ((r = identity_decode_next(
		    &v, iss, sizeof(iss), sub, sizeof(sub))) == 1)
		if (identity_valid(iss, sub, &e) == -1)
			return -1;
	return r;
}

int
validate(struct model *m, struct rec *r, const char *name, struct known *k,
    struct err *err)
{
	char dom[ADDR_MAX], tgt[ADDR_MAX];
	int64_t v;
	const char *need = NULL;
	int kr;
	struct pw_policy pol = { m->conf->password.min_length,
		m->conf->password.min_letters, m->conf->password.min_digits };

	switch (r->type) {
	case R_DOMAIN:
		if (r->f[F_DOMAIN] == NULL)
			need = "domain";
		else if (addr_domain("domain", r->f[F_DOMAIN], r->key, err) ==
		    -1)
			break;
		else if (num(r, F_MAX_ALIASES, 0, -1, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_MAX_MAILBOXES, 0, -1, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_MAX_QUOTA, 0, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_DEFAULT_QUOTA, 0, 0, &v, name, r->line, err) ==
			-1 ||
		    num(r, F_DOMAIN_QUOTA, 0, 0, &v, name, r->line, err) ==
			-1 ||
		    check_flag(r, F_BACKUPMX, name, err) == -1 ||
		    check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			strset_add(&k->in_file, r->key);
			return 0;
		}
		break;
	case R_ALIAS_DOMAIN:
		if (r->f[F_ALIAS_DOMAIN] == NULL)
			need = "alias_domain";
		else if (r->f[F_TARGET_DOMAIN] == NULL)
			need = "target_domain";
		else if (addr_domain("alias_domain", r->f[F_ALIAS_DOMAIN],
			     r->key, err) == -1 ||
		    addr_domain(
			"target_domain", r->f[F_TARGET_DOMAIN], tgt, err) == -1)
			break;
		else if (check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			if ((kr = domain_known(m, k, r->key, err)) != 1 ||
			    (kr = domain_known(m, k, tgt, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: unknown domain in alias domain '%s' -> '%s'",
				    name, r->line, r->key, tgt);
			}
			return 0;
		}
		break;
	case R_MAILBOX:
		if (r->f[F_USERNAME] == NULL)
			need = "username";
		else if (addr_address("username", r->f[F_USERNAME], r->key,
			     NULL, dom, err) == -1)
			break;
		else if (num(r, F_QUOTA, -1, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_BYTES_USED, 0, 0, &v, name, r->line, err) == -1 ||
		    num(r, F_MESSAGES, 0, 0, &v, name, r->line, err) == -1 ||
		    check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else if (r->f[F_PASSWORD] != NULL &&
		    r->f[F_PLAIN_PASSWORD] != NULL)
			return err_set(err, ERR_INVALID,
			    "%s:%d: give password (a hash) or plain_password, not both",
			    name, r->line);
		else if (r->f[F_PASSWORD] != NULL &&
		    !password_hash_recognised(r->f[F_PASSWORD]))
			return err_set(err, ERR_INVALID,
			    "%s:%d: the password of '%s' is not a hash postino can verify",
			    name, r->line, r->key);
		else if (r->f[F_PLAIN_PASSWORD] != NULL &&
		    r->f[F_PLAIN_PASSWORD][0] == '\0')
			return err_set(err, ERR_INVALID,
			    "%s:%d: empty plain_password", name, r->line);
		else if (r->f[F_PLAIN_PASSWORD] != NULL &&
		    pwpolicy_check(&pol, r->f[F_PLAIN_PASSWORD], err) == -1)
			return err_prefix(err,
			    "%s:%d: the plain_password of '%s'", name, r->line,
			    r->key);
		else if (r->f[F_IDENTITIES] != NULL &&
		    identities_check(r->f[F_IDENTITIES]) == -1)
			return err_set(err, ERR_INVALID,
			    "%s:%d: the identities of '%s' are not \"issuer subject\" pairs",
			    name, r->line, r->key);
		else {
			if ((kr = domain_known(m, k, dom, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: mailbox '%s': unknown domain '%s'",
				    name, r->line, r->key, dom);
			}
			return 0;
		}
		break;
	case R_ALIAS: {
		char gotos[GOTO_MAX];

		if (r->f[F_ADDRESS] == NULL)
			need = "address";
		else if (r->f[F_GOTO] == NULL)
			need = "goto";
		else if (addr_alias("address", r->f[F_ADDRESS], r->key, dom,
			     NULL, err) == -1 ||
		    addr_goto(
			"goto", r->f[F_GOTO], gotos, sizeof(gotos), err) == -1)
			break;
		else if (check_flag(r, F_ACTIVE, name, err) == -1)
			return -1;
		else {
			if ((kr = domain_known(m, k, dom, err)) != 1) {
				if (kr == -1)
					return -1;
				return err_set(err, ERR_NOTFOUND,
				    "%s:%d: alias '%s': unknown domain '%s'",
				    name, r->line, r->key, dom);
			}
			return 0;
		}
		break;
	}
	default:
		break;
	}
	if (need != NULL)
		return err_set(err, ERR_INVALID, "%s:%d: a %s needs '%s'", name,
		    r->line, rtype_names[r->type], need);
	return err_prefix(err, "%s:%d", name, r->line);
}
