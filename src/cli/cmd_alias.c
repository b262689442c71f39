/* postino alias ... */
#include <stdio.h>
#include <string.h>

#include "alias.h"
#include "cli.h"
#include "xalloc.h"
#include "banned.h"

static json_t *
alias_json(const struct alias_rec *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", out_jstr(a->address));
	json_object_set_new(o, "goto", out_jstr(a->goto_list));
	json_object_set_new(o, "domain", out_jstr(a->domain));
	json_object_set_new(o, "status", json_integer(a->active ? 1 : 0));
	json_object_set_new(o, "created", out_time(a->created));
	json_object_set_new(o, "modified", out_time(a->modified));
	json_object_set_new(o, "mailbox", json_boolean(a->mailbox));
	return o;
}

static int
alias_print(struct cli *c, const struct alias_rec *a)
{
	static const char *const keys[] = { "address", "goto", "domain",
		"status", "created", "modified", NULL };
	const char *vals[] = { a->address, a->goto_list, a->domain,
		a->active ? "active" : "disabled", a->created, a->modified };

	if (c->json)
		out_json(c, alias_json(a));
	else
		out_kv(c, keys, vals);
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

/* Destinations may be given as one comma list or several arguments. */
static char *
join_args(int argc, char **argv)
{
	size_t n = 0;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = xmalloc(n + 1);
	s[0] = '\0';
	n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (i > 0)
			s[n++] = ',';
		memcpy(s + n, argv[i], l);
		n += l;
		s[n] = '\0';
	}
	return s;
}

static int
add_or_edit(struct cli *c, int argc, char **argv, bool edit)
{
	struct alias_rec a;
	struct err err = ERR_INIT;
	char *dests;
	int rc;

	if (argc < 2)
		return cli_usage(c, "missing argument");
	dests = join_args(argc - 1, argv + 1);
	rc = edit ? alias_edit(&c->model, argv[0], dests, &a, &err)
		  : alias_add(&c->model, argv[0], dests, &a, &err);
	free(dests);
	if (rc == -1)
		return cli_fail(c, &err);
	alias_print(c, &a);
	alias_rec_release(&a);
	return 0;
}

int
cmd_alias_add(struct cli *c, int argc, char **argv)
{
	return add_or_edit(c, argc, argv, false);
}

int
cmd_alias_edit(struct cli *c, int argc, char **argv)
{
	return add_or_edit(c, argc, argv, true);
}

struct list_ctx {
	struct cli *c;
	struct table *t;
};

static int
alias_row(void *arg, const struct alias_rec *a)
{
	struct list_ctx *l = arg;

	if (l->c->json) {
		out_json_item(l->c, alias_json(a));
		return 0;
	}
	{
		const char *cells[] = { a->address, a->goto_list,
			a->active ? "active" : "disabled", a->created };
		int colors[] = { 0, 0, a->active ? 1 : 2, 4 };

		table_add_colored(l->t, cells, colors);
	}
	return 0;
}

int
cmd_alias_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "address", "goto", "status",
		"created", NULL };
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
	rc = alias_foreach(&c->model, cli_opt(c, O_DOMAIN),
	    cli_flag(c, O_MAILBOXES), c->json, alias_row, &l, &err);
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
cmd_alias_show(struct cli *c, int argc, char **argv)
{
	struct alias_rec a;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (alias_get(&c->model, argv[0], &a, &err) != 1) {
		alias_rec_release(&a);
		return cli_fail(c, &err);
	}
	alias_print(c, &a);
	alias_rec_release(&a);
	return 0;
}

static int
alias_toggle(struct cli *c, int argc, char **argv, bool on)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (alias_set_active(&c->model, argv[0], on, &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

int
cmd_alias_enable(struct cli *c, int argc, char **argv)
{
	return alias_toggle(c, argc, argv, true);
}

int
cmd_alias_disable(struct cli *c, int argc, char **argv)
{
	return alias_toggle(c, argc, argv, false);
}

int
cmd_alias_del(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, 1)) != 0)
		return rc;
	if (!cli_flag(c, 'y')) {
		/* Nothing to ask about what does not exist. */
		struct alias_rec a;

		if (alias_get(&c->model, argv[0], &a, &err) != 1)
			return cli_fail(c, &err);
		alias_rec_release(&a);
	}
	if (!cli_flag(c, 'y') && !cli_confirm(c, "Delete alias %s?", argv[0])) {
		cli_errorf(c,
		    "not confirmed; nothing deleted (pass --yes to skip the question)");
		return 1;
	}
	if (alias_del(&c->model, argv[0], &err) == -1)
		return cli_fail(c, &err);
	return 0;
}
