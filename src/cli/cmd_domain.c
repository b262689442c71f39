/* postino domain ... and postino domain alias ... */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "domain.h"
#include "banned.h"

static json_t *
domain_json(const struct domain_rec *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "domain", out_jstr(d->domain));
	json_object_set_new(o, "description", out_jstr(d->description));
	json_object_set_new(o, "max_aliases", json_integer(d->aliases));
	json_object_set_new(o, "max_mailboxes", json_integer(d->mailboxes));
	json_object_set_new(
	    o, "max_quota_bytes", json_integer(d->maxquota_bytes));
	json_object_set_new(
	    o, "default_quota_bytes", json_integer(d->default_quota_bytes));
	json_object_set_new(
	    o, "domain_quota_bytes", json_integer(d->quota_bytes));
	json_object_set_new(
	    o, "transport", out_jstr(domain_transport_kind(d->transport)));
	json_object_set_new(o, "backupmx", json_boolean(d->backupmx));
	json_object_set_new(o, "status", json_integer(d->active ? 1 : 0));
	json_object_set_new(o, "created", out_time(d->created));
	json_object_set_new(o, "modified", out_time(d->modified));
	return o;
}

static const char *
limit_str(int64_t v, char *buf, size_t size)
{
	if (v == 0)
		return "unlimited";
	if (v < 0)
		return "disabled";
	snprintf(buf, size, "%lld", (long long)v);
	return buf;
}

static void
domain_human(struct cli *c, const struct domain_rec *d)
{
	static const char *const keys[] = { "domain", "description",
		"max_mailboxes", "max_aliases", "max_quota", "default_quota",
		"domain_quota", "transport", "backupmx", "status", "created",
		"modified", NULL };
	char a[32], b[32], q1[32], q2[32], q3[32];
	const char *vals[] = { d->domain, d->description,
		limit_str(d->mailboxes, a, sizeof(a)),
		limit_str(d->aliases, b, sizeof(b)),
		quota_format(d->maxquota_bytes, q1, sizeof(q1)),
		quota_format(d->default_quota_bytes, q2, sizeof(q2)),
		quota_format(d->quota_bytes, q3, sizeof(q3)), d->transport,
		d->backupmx ? "yes" : "no", d->active ? "active" : "disabled",
		d->created, d->modified };

	out_kv(c, keys, vals);
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

int
cmd_domain_add(struct cli *c, int argc, char **argv)
{
	struct domain_spec s;
	struct domain_rec d;
	struct err err = ERR_INIT;
	const char *v;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	memset(&s, 0, sizeof(s));
	s.domain = argv[0];
	s.description = cli_opt(c, O_DESCRIPTION);
	s.transport = cli_opt(c, O_TRANSPORT);
	s.backupmx = cli_flag(c, O_BACKUPMX) && !cli_flag(c, O_NO_BACKUPMX);
	if (((v = cli_opt(c, O_MAX_MAILBOXES)) != NULL &&
		cli_int(c, "--max-mailboxes", v, -1, 1000000000, &s.mailboxes,
		    &err) == -1) ||
	    ((v = cli_opt(c, O_MAX_ALIASES)) != NULL &&
		cli_int(c, "--max-aliases", v, -1, 1000000000, &s.aliases,
		    &err) == -1) ||
	    ((v = cli_opt(c, O_MAX_QUOTA)) != NULL &&
		cli_quota(c, "--max-quota", v, &s.maxquota_bytes, &err) ==
		    -1) ||
	    ((v = cli_opt(c, O_DEFAULT_QUOTA)) != NULL &&
		cli_quota(c, "--default-quota", v, &s.default_quota_bytes,
		    &err) == -1) ||
	    ((v = cli_opt(c, O_DOMAIN_QUOTA)) != NULL &&
		cli_quota(c, "--domain-quota", v, &s.quota_bytes, &err) == -1))
		return cli_fail(c, &err);
	if (domain_add(&c->model, &s, &d, &err) == -1)
		return cli_fail(c, &err);
	if (c->json)
		out_json(c, domain_json(&d));
	else
		domain_human(c, &d);
	return 0;
}

struct list_ctx {
	struct cli *c;
	struct table *t;
};

static int
domain_row(void *arg, const struct domain_rec *d)
{
	struct list_ctx *l = arg;
	char a[32], b[32], q1[32], q2[32];

	if (l->c->json) {
		out_json_item(l->c, domain_json(d));
		return 0;
	}
	{
		const char *cells[] = { d->domain,
			limit_str(d->mailboxes, a, sizeof(a)),
			limit_str(d->aliases, b, sizeof(b)),
			quota_format(d->maxquota_bytes, q1, sizeof(q1)),
			quota_format(d->default_quota_bytes, q2, sizeof(q2)),
			d->transport, /* whole, as domain show prints it */
			d->active ? "active" : "disabled", d->description };
		int colors[] = { 0, 0, 0, 0, 0, 0, d->active ? 1 : 2, 4 };

		table_add_colored(l->t, cells, colors);
	}
	return 0;
}

int
cmd_domain_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "domain", "max_mailboxes",
		"max_aliases", "max_quota", "default_quota", "transport",
		"status", "description", NULL };
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
	rc = domain_foreach(&c->model, domain_row, &l, &err);
	if (c->json)
		out_json_end(c);
	else {
		if (rc == 0)
			table_print(l.t);
		table_free(l.t);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

int
cmd_domain_show(struct cli *c, int argc, char **argv)
{
	struct domain_rec d;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (domain_get(&c->model, argv[0], &d, &err) != 1)
		return cli_fail(c, &err);
	if (c->json)
		out_json(c, domain_json(&d));
	else
		domain_human(c, &d);
	return 0;
}

static int
domain_toggle(struct cli *c, int argc, char **argv, bool on)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (domain_set_active(&c->model, argv[0], on, &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

int
cmd_domain_enable(struct cli *c, int argc, char **argv)
{
	return domain_toggle(c, argc, argv, true);
}

int
cmd_domain_disable(struct cli *c, int argc, char **argv)
{
	return domain_toggle(c, argc, argv, false);
}

int
cmd_domain_del(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (!cli_flag(c, 'y')) {
		/* Nothing to ask about what does not exist. */
		struct domain_rec d;

		if (domain_get(&c->model, argv[0], &d, &err) != 1)
			return cli_fail(c, &err);
	}
	if (!cli_flag(c, 'y') &&
	    !cli_confirm(c, "Delete domain %s%s?", argv[0],
		cli_flag(c, O_FORCE) ? " and everything in it" : "")) {
		cli_errorf(c,
		    "not confirmed; nothing deleted (pass --yes to skip the question)");
		return 1;
	}
	if (domain_del(&c->model, argv[0], cli_flag(c, O_FORCE),
		cli_flag(c, O_KEEP_MAILDIR), &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

/* --- alias domains -------------------------------------------------- */

static json_t *
adom_json(const struct alias_domain_rec *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "alias_domain", out_jstr(a->alias_domain));
	json_object_set_new(o, "target_domain", out_jstr(a->target_domain));
	json_object_set_new(o, "status", json_integer(a->active ? 1 : 0));
	json_object_set_new(o, "created", out_time(a->created));
	json_object_set_new(o, "modified", out_time(a->modified));
	return o;
}

static void
adom_human(struct cli *c, const struct alias_domain_rec *a)
{
	static const char *const keys[] = { "alias_domain", "target_domain",
		"status", "created", "modified", NULL };
	const char *vals[] = { a->alias_domain, a->target_domain,
		a->active ? "active" : "disabled", a->created, a->modified };

	out_kv(c, keys, vals);
}

static int
adom_print(struct cli *c, const struct alias_domain_rec *a)
{
	if (c->json)
		out_json(c, adom_json(a));
	else
		adom_human(c, a);
	return 0;
}

int
cmd_adom_add(struct cli *c, int argc, char **argv)
{
	struct alias_domain_rec a;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (cli_opt(c, O_TARGET) == NULL)
		return cli_usage(c, "--target is required");
	if (alias_domain_add(
		&c->model, argv[0], cli_opt(c, O_TARGET), &a, &err) == -1)
		return cli_fail(c, &err);
	return adom_print(c, &a);
}

int
cmd_adom_retarget(struct cli *c, int argc, char **argv)
{
	struct alias_domain_rec a;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (cli_opt(c, O_TARGET) == NULL)
		return cli_usage(c, "--target is required");
	if (alias_domain_retarget(
		&c->model, argv[0], cli_opt(c, O_TARGET), &a, &err) == -1)
		return cli_fail(c, &err);
	return adom_print(c, &a);
}

static int
adom_row(void *arg, const struct alias_domain_rec *a)
{
	struct list_ctx *l = arg;

	if (l->c->json) {
		out_json_item(l->c, adom_json(a));
		return 0;
	}
	{
		const char *cells[] = { a->alias_domain, a->target_domain,
			a->active ? "active" : "disabled", a->created };
		int colors[] = { 0, 0, a->active ? 1 : 2, 4 };

		table_add_colored(l->t, cells, colors);
	}
	return 0;
}

int
cmd_adom_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "alias_domain", "target_domain",
		"status", "created", NULL };
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
	rc = alias_domain_foreach(&c->model, cli_opt(c, O_TARGET),
	    cli_flag(c, O_ALL) && !cli_flag(c, O_ENABLED_ONLY), adom_row, &l,
	    &err);
	if (c->json)
		out_json_end(c);
	else {
		if (rc == 0)
			table_print(l.t);
		table_free(l.t);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

int
cmd_adom_show(struct cli *c, int argc, char **argv)
{
	struct alias_domain_rec a;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (alias_domain_get(&c->model, argv[0], &a, &err) != 1)
		return cli_fail(c, &err);
	return adom_print(c, &a);
}

static int
adom_toggle(struct cli *c, int argc, char **argv, bool on)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (alias_domain_set_active(&c->model, argv[0], on, &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

int
cmd_adom_enable(struct cli *c, int argc, char **argv)
{
	return adom_toggle(c, argc, argv, true);
}

int
cmd_adom_disable(struct cli *c, int argc, char **argv)
{
	return adom_toggle(c, argc, argv, false);
}

int
cmd_adom_del(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (!cli_flag(c, 'y')) {
		struct alias_domain_rec ad;

		if (alias_domain_get(&c->model, argv[0], &ad, &err) != 1)
			return cli_fail(c, &err);
	}
	if (!cli_flag(c, 'y') &&
	    !cli_confirm(c, "Delete alias domain %s?", argv[0])) {
		cli_errorf(c,
		    "not confirmed; nothing deleted (pass --yes to skip the question)");
		return 1;
	}
	if (alias_domain_del(&c->model, argv[0], &err) == -1)
		return cli_fail(c, &err);
	return 0;
}
