/* postino user ... */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "domain.h"
#include "identity.h"
#include "mailbox.h"
#include "password.h"
#include "pwpolicy.h"
#include "banned.h"

/*
 * A hash in a scheme Dovecot 2.4 refuses by default (MD5-CRYPT): the
 * mailbox cannot log in there until auth_allow_weak_schemes = yes.
 */
static void
warn_weak(struct cli *c, const char *scheme)
{
	char up[32];
	size_t i;
	struct pfa_encrypt e;
	struct err err = ERR_INIT;

	/* postfixadmin.encrypt decides the scheme when it is set. */
	if (scheme == NULL &&
	    pfa_encrypt_parse(c->conf.postfixadmin.encrypt, &e, &err) == 0 &&
	    e.kind != PFA_NONE)
		scheme = e.scheme;
	if (scheme == NULL)
		scheme = c->conf.default_password_scheme;
	if (scheme == NULL)
		return;
	for (i = 0; scheme[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)scheme[i]);
	up[i] = '\0';
	if (!password_scheme_weak(up))
		return;
	cli_warnf(c,
	    "%s is a weak scheme: Dovecot 2.4 refuses such logins unless auth_allow_weak_schemes = yes; prefer BLF-CRYPT or ARGON2ID",
	    up);
}

static json_t *
mailbox_json(const struct mailbox_rec *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "username", out_jstr(m->username));
	json_object_set_new(o, "name", out_jstr(m->name));
	json_object_set_new(o, "maildir", out_jstr(m->maildir));
	json_object_set_new(o, "quota_bytes", json_integer(m->quota_bytes));
	json_object_set_new(o, "local_part", out_jstr(m->local_part));
	json_object_set_new(o, "domain", out_jstr(m->domain));
	json_object_set_new(o, "status", json_integer(m->active ? 1 : 0));
	json_object_set_new(o, "created", out_time(m->created));
	json_object_set_new(o, "modified", out_time(m->modified));
	json_object_set_new(o, "password_scheme", out_jstr(m->scheme));
	return o;
}

static void
mailbox_human(struct cli *c, const struct mailbox_rec *m)
{
	static const char *const keys[] = { "username", "name", "maildir",
		"quota", "status", "password", "created", "modified", NULL };
	char q[32], pw[64];
	const char *vals[] = { m->username, m->name, m->maildir,
		quota_format(m->quota_bytes, q, sizeof(q)),
		m->active ? "active" : "disabled", pw, m->created,
		m->modified };

	if (m->idp_managed)
		snprintf(pw, sizeof(pw), "IdP-managed ({NOAUTH})");
	else
		snprintf(pw, sizeof(pw), "%s", m->scheme);
	out_kv(c, keys, vals);
}

static int
mailbox_print(struct cli *c, const struct mailbox_rec *m)
{
	if (c->json)
		out_json(c, mailbox_json(m));
	else
		mailbox_human(c, m);
	return 0;
}

static int
need_args(struct cli *c, int argc, int want)
{
	if (argc < want)
		return cli_usage(c, "missing argument");
	if (argc > want)
		return cli_usage(c, "unexpected argument");
	return 0;
}

/*
 * Everything that can be told before asking for a password: the address,
 * its domain, a mailbox already there.  mailbox_add checks them again, in
 * its transaction.
 */
static int
precheck_new(struct cli *c, const char *username, struct err *err)
{
	char norm[ADDR_MAX], local[ADDR_MAX], dom[ADDR_MAX];
	struct domain_rec d;
	struct mailbox_rec m;
	int rc;

	if (addr_address("mailbox", username, norm, local, dom, err) == -1)
		return -1;
	if ((rc = domain_get(&c->model, dom, &d, err)) != 1) {
		if (rc == 0)
			err_hint(err,
			    "add it first with 'postino domain add %s'", dom);
		return -1;
	}
	if ((rc = mailbox_get(&c->model, norm, &m, err)) == 1)
		return err_set(
		    err, ERR_EXISTS, "mailbox '%s' already exists", norm);
	if (rc == -1)
		return -1;
	err_clear(err);
	return 0;
}

int
cmd_user_add(struct cli *c, int argc, char **argv)
{
	struct mailbox_spec s;
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	char pw[PASSWORD_INPUT_MAX + 2];
	const char *v;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	memset(&s, 0, sizeof(s));
	s.username = argv[0];
	s.name = cli_opt(c, O_NAME);
	s.quota_bytes = -1;
	s.scheme = cli_opt(c, O_SCHEME);
	s.active = !cli_flag(c, O_DISABLED);
	s.run_hook = !cli_flag(c, O_NO_HOOK);
	if ((v = cli_opt(c, O_QUOTA)) != NULL &&
	    cli_quota(c, "--quota", v, &s.quota_bytes, &err) == -1)
		return cli_fail(c, &err);
	if (s.scheme != NULL && !password_scheme_valid(s.scheme)) {
		err_set(&err, ERR_INVALID, "unknown password scheme '%s'",
		    s.scheme);
		err_hint(&err,
		    "use BLF-CRYPT, SHA512-CRYPT, ARGON2I, ARGON2ID or MD5-CRYPT");
		return cli_fail(c, &err);
	}
	if (c->conf.identity_backend == IDENTITY_NOAUTH) {
		err_set(&err, ERR_UNSUPPORTED,
		    "identity_backend=noauth: mailboxes are provisioned by the identity provider");
		err_hint(&err,
		    "use postinod (SCIM or the Zitadel webhook), or identity_backend=hybrid");
		return cli_fail(c, &err);
	}
	if (precheck_new(c, s.username, &err) == -1)
		return cli_fail(c, &err);
	if (cli_read_password(c, cli_flag(c, O_PASSWORD_STDIN), "Password", pw,
		sizeof(pw), &err) == -1)
		return cli_fail(c, &err);
	s.password = pw;
	rc = mailbox_add(&c->model, &s, &m, &err);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -1)
		return cli_fail(c, &err);
	warn_weak(c, s.scheme);
	return mailbox_print(c, &m);
}

int
cmd_user_del(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (!cli_flag(c, 'y')) {
		/* Nothing to ask about what does not exist. */
		struct mailbox_rec m;

		if (mailbox_get(&c->model, argv[0], &m, &err) != 1)
			return cli_fail(c, &err);
	}
	if (!cli_flag(c, 'y') &&
	    !cli_confirm(c, "Delete mailbox %s%s?", argv[0],
		cli_flag(c, O_KEEP_MAILDIR) ? "" : " and its mail")) {
		cli_errorf(c,
		    "not confirmed; nothing deleted (pass --yes to skip the question)");
		return 1;
	}
	if (mailbox_del(&c->model, argv[0],
		cli_flag(c, O_KEEP_MAILDIR) && !cli_flag(c, O_REMOVE_MAILDIR),
		&err) == -1)
		return cli_fail(c, &err);
	return 0;
}

struct list_ctx {
	struct cli *c;
	struct table *t;
};

static int
mailbox_row(void *arg, const struct mailbox_rec *m)
{
	struct list_ctx *l = arg;
	char q[32];

	if (l->c->json) {
		/* The same object as mailbox_json(), without a json_t. */
		out_obj_begin(l->c);
		out_obj_str(l->c, "username", m->username);
		out_obj_str(l->c, "name", m->name);
		out_obj_str(l->c, "maildir", m->maildir);
		out_obj_int(l->c, "quota_bytes", m->quota_bytes);
		out_obj_str(l->c, "local_part", m->local_part);
		out_obj_str(l->c, "domain", m->domain);
		out_obj_int(l->c, "status", m->active ? 1 : 0);
		out_obj_time(l->c, "created", m->created);
		out_obj_time(l->c, "modified", m->modified);
		out_obj_str(l->c, "password_scheme", m->scheme);
		out_obj_end(l->c);
		return 0;
	}
	{
		const char *cells[] = { m->username, m->name,
			quota_format(m->quota_bytes, q, sizeof(q)),
			m->active ? "active" : "disabled",
			m->idp_managed ? "IdP" : m->scheme, m->created };
		int colors[] = { 0, 0, 0, m->active ? 1 : 2,
			m->idp_managed ? 3 : 0, 4 };

		table_add_colored(l->t, cells, colors);
	}
	return 0;
}

int
cmd_user_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "username", "name", "quota",
		"status", "password", "created", NULL };
	struct list_ctx l = { c, NULL };
	struct err err = ERR_INIT;
	int rc;

	(void)argv;
	if ((rc = need_args(c, argc, 0)) != 0)
		return rc;
	if (c->json)
		out_json_begin(c);
	else
		l.t = table_new(c, hdr);
	rc = mailbox_foreach(&c->model, cli_opt(c, O_DOMAIN),
	    cli_flag(c, O_ALL) && !cli_flag(c, O_ENABLED_ONLY), c->json,
	    mailbox_row, &l, &err);
	if (c->json)
		out_json_end(c);
	else {
		if (rc == 0)
			table_print(l.t);
		table_free(l.t);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

#define SHOW_IDENTITIES 16

struct show_ids {
	struct identity_rec v[SHOW_IDENTITIES];
	size_t n;
};

static int
show_identity(void *arg, const struct identity_rec *r)
{
	struct show_ids *ids = arg;

	if (ids->n < SHOW_IDENTITIES)
		ids->v[ids->n++] = *r;
	return 0;
}

int
cmd_user_show(struct cli *c, int argc, char **argv)
{
	struct show_ids ids;
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (mailbox_get(&c->model, argv[0], &m, &err) != 1)
		return cli_fail(c, &err);
	memset(&ids, 0, sizeof(ids));
	if (identity_foreach(
		&c->model, m.username, show_identity, &ids, &err) == -1)
		return cli_fail(c, &err);
	if (c->json) {
		json_t *o = mailbox_json(&m), *a = json_array();

		for (size_t i = 0; i < ids.n; i++) {
			json_t *e = json_object();

			json_object_set_new(
			    e, "issuer", out_jstr(ids.v[i].issuer));
			json_object_set_new(
			    e, "subject", out_jstr(ids.v[i].subject));
			json_object_set_new(
			    e, "created", out_time(ids.v[i].created));
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "identities", a);
		out_json(c, o);
	} else {
		static const char *const keys[] = { "identity", NULL };

		mailbox_human(c, &m);
		for (size_t i = 0; i < ids.n; i++) {
			char line[IDENTITY_ISSUER_MAX + IDENTITY_SUBJECT_MAX];
			const char *vals[] = { line };

			snprintf(line, sizeof(line), "%s %s", ids.v[i].issuer,
			    ids.v[i].subject);
			out_kv(c, keys, vals);
		}
	}
	return 0;
}

int
cmd_user_passwd(struct cli *c, int argc, char **argv)
{
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	char pw[PASSWORD_INPUT_MAX + 2];
	const char *scheme = cli_opt(c, O_SCHEME);
	bool claimed = false;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (scheme != NULL && !password_scheme_valid(scheme)) {
		err_set(
		    &err, ERR_INVALID, "unknown password scheme '%s'", scheme);
		return cli_fail(c, &err);
	}
	if (c->conf.identity_backend == IDENTITY_NOAUTH) {
		err_set(&err, ERR_UNSUPPORTED,
		    "identity_backend=noauth: passwords belong to the identity provider");
		return cli_fail(c, &err);
	}
	/* Fail on a missing mailbox before asking for a password. */
	if (mailbox_get(&c->model, argv[0], &m, &err) != 1)
		return cli_fail(c, &err);
	/* As Python postino: a {NOAUTH} row is taken over only on purpose,
	 * under local as under hybrid (exit 2). */
	if (m.idp_managed && !cli_flag(c, O_CLAIM)) {
		err_set(&err, ERR_EXISTS,
		    "mailbox '%s' is managed by the identity provider ({NOAUTH})",
		    m.username);
		err_hint(&err, "pass --claim to move it to a local password");
		return cli_fail(c, &err);
	}
	if (cli_read_password(c, cli_flag(c, O_PASSWORD_STDIN), "New password",
		pw, sizeof(pw), &err) == -1)
		return cli_fail(c, &err);
	rc = mailbox_set_password(&c->model, argv[0], pw, scheme,
	    cli_flag(c, O_CLAIM), &claimed, &err);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -1)
		return cli_fail(c, &err);
	warn_weak(c, scheme);
	if (claimed)
		cli_infof(c, "%s claimed into SQL auth.", m.username);
	else
		cli_infof(c, "password of %s changed.", m.username);
	return 0;
}

static int
user_toggle(struct cli *c, int argc, char **argv, bool on)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (mailbox_set_active(&c->model, argv[0], on, &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

int
cmd_user_enable(struct cli *c, int argc, char **argv)
{
	return user_toggle(c, argc, argv, true);
}

int
cmd_user_disable(struct cli *c, int argc, char **argv)
{
	return user_toggle(c, argc, argv, false);
}

int
cmd_user_quota(struct cli *c, int argc, char **argv)
{
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	const char *v = cli_opt(c, O_SET);
	int64_t q;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (v != NULL) {
		if (cli_quota(c, "--set", v, &q, &err) == -1 ||
		    mailbox_set_quota(&c->model, argv[0], q, &err) == -1)
			return cli_fail(c, &err);
	}
	if (mailbox_get(&c->model, argv[0], &m, &err) != 1)
		return cli_fail(c, &err);
	return mailbox_print(c, &m);
}

int
cmd_user_release(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	bool changed = false;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (mailbox_release(&c->model, argv[0], &changed, &err) == -1)
		return cli_fail(c, &err);
	if (changed)
		cli_infof(c, "%s released to IdP-managed auth.", argv[0]);
	else
		cli_infof(c, "%s is already IdP-managed; no change.", argv[0]);
	return 0;
}

int
cmd_user_rename(struct cli *c, int argc, char **argv)
{
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 2)) != 0)
		return rc;
	if (mailbox_rename(&c->model, argv[0], argv[1], &m, &err) == -1)
		return cli_fail(c, &err);
	return mailbox_print(c, &m);
}

int
cmd_user_name(struct cli *c, int argc, char **argv)
{
	struct mailbox_rec m;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 2)) != 0)
		return rc;
	if (mailbox_set_name(&c->model, argv[0], argv[1], &err) == -1 ||
	    mailbox_get(&c->model, argv[0], &m, &err) != 1)
		return cli_fail(c, &err);
	return mailbox_print(c, &m);
}
