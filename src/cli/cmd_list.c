/* postino list ...: mailing lists run by mlmmj (model/mlmmj.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mlmmj.h"
#include "xalloc.h"
#include "banned.h"

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, out_jstr(v[i]));
	return a;
}

static json_t *
list_json(const struct mlmmj_list *l)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", out_jstr(l->address));
	json_object_set_new(o, "domain", out_jstr(l->domain));
	json_object_set_new(
	    o, "spool_dir", out_jstr(l->spool_dir ? l->spool_dir : ""));
	json_object_set_new(o, "owners", strv_json(l->owners, l->nowners));
	json_object_set_new(o, "subscriber_count",
	    l->subscriber_count >= 0 ? json_integer(l->subscriber_count)
				     : json_null());
	json_object_set_new(o, "routed", json_boolean(l->routed));
	return o;
}

/* "a, b, c" (caller frees). */
static char *
joined(char *const *v, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0, off = 0; i < n; i++)
		off += (size_t)snprintf(
		    s + off, len - off, "%s%s", i ? ", " : "", v[i]);
	return s;
}

static void
list_print(struct cli *c, const struct mlmmj_list *l, bool members)
{
	static const char *const keys[] = { "address", "owners", "subscribers",
		"spool", "routed", NULL };
	char count[32], *owners;
	const char *vals[5];

	if (c->json) {
		json_t *o = list_json(l);

		if (members)
			json_object_set_new(o, "subscribers",
			    strv_json(l->subscribers, l->nsubscribers));
		out_json(c, o);
		return;
	}
	owners = joined(l->owners, l->nowners);
	snprintf(count, sizeof(count), "%lld", (long long)l->subscriber_count);
	vals[0] = l->address;
	vals[1] = owners;
	vals[2] = count;
	vals[3] = l->spool_dir ? l->spool_dir : "";
	vals[4] = l->routed
	    ? "yes"
	    : "no (mail to it bounces; 'postino list rm' and 'list add' again)";
	out_kv(c, keys, vals);
	free(owners);
	if (members)
		for (size_t i = 0; i < l->nsubscribers; i++)
			printf("  %s\n", l->subscribers[i]);
}

static int
need_args(struct cli *c, int argc, char **argv, int want)
{
	if (argc < want)
		return cli_usage(c, "missing argument");
	if (argc > want)
		return cli_usage(c, "unexpected argument '%s'", argv[want]);
	return 0;
}

int
cmd_list_add(struct cli *c, int argc, char **argv)
{
	struct mlmmj_list l;
	struct err err = ERR_INIT;
	int n = cli_opt_count(c, O_OWNER), rc;
	const char **owners;

	if ((rc = need_args(c, argc, argv, 1)) != 0)
		return rc;
	if (n == 0)
		return cli_usage(c, "a list needs at least one --owner");
	owners = xcalloc((size_t)n, sizeof(*owners));
	for (int i = 0; i < n; i++)
		owners[i] = cli_opt_n(c, O_OWNER, i);
	rc = mlmmj_add(&c->model, argv[0], owners, (size_t)n, &l, &err);
	free(owners);
	if (rc == -1)
		return cli_fail(c, &err);
	list_print(c, &l, false);
	mlmmj_list_release(&l);
	return 0;
}

static int
subscription(struct cli *c, int argc, char **argv, bool sub)
{
	struct err err = ERR_INIT;
	bool changed;
	int rc;

	if ((rc = need_args(c, argc, argv, 2)) != 0)
		return rc;
	rc = sub ? mlmmj_sub(&c->model, argv[0], argv[1], &changed, &err)
		 : mlmmj_unsub(&c->model, argv[0], argv[1], &changed, &err);
	if (rc == -1)
		return cli_fail(c, &err);
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "list", out_jstr(argv[0]));
		json_object_set_new(o, "address", out_jstr(argv[1]));
		json_object_set_new(o, "subscribed", json_boolean(sub));
		json_object_set_new(o, "changed", json_boolean(changed));
		out_json(c, o);
	} else if (!changed)
		cli_infof(c, "%s was %s subscribed to %s; nothing to do",
		    argv[1], sub ? "already" : "not", argv[0]);
	return 0;
}

int
cmd_list_sub(struct cli *c, int argc, char **argv)
{
	return subscription(c, argc, argv, true);
}

int
cmd_list_unsub(struct cli *c, int argc, char **argv)
{
	return subscription(c, argc, argv, false);
}

int
cmd_list_show(struct cli *c, int argc, char **argv)
{
	struct mlmmj_list l;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, argv, 1)) != 0)
		return rc;
	if (mlmmj_show(&c->model, argv[0], &l, &err) == -1)
		return cli_fail(c, &err);
	list_print(c, &l, true);
	mlmmj_list_release(&l);
	return 0;
}

struct ls_ctx {
	struct cli *c;
	struct table *t;
};

static int
ls_row(void *arg, const struct mlmmj_list *l)
{
	struct ls_ctx *x = arg;
	char count[32], *owners;

	if (x->c->json) {
		out_json_item(x->c, list_json(l));
		return 0;
	}
	owners = joined(l->owners, l->nowners);
	if (l->subscriber_count >= 0)
		snprintf(count, sizeof(count), "%lld",
		    (long long)l->subscriber_count);
	else
		snprintf(count, sizeof(count), "?");
	{
		const char *cells[] = { l->address, owners, count,
			l->routed ? "yes" : "no" };
		int colors[] = { 0, 0, 0, l->routed ? 1 : 2 };

		table_add_colored(x->t, cells, colors);
	}
	free(owners);
	return 0;
}

int
cmd_list_ls(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "list", "owners", "subscribers",
		"routed", NULL };
	struct ls_ctx x = { c, NULL };
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, argv, 0)) != 0)
		return rc;
	if (c->json)
		out_json_begin(c);
	else
		x.t = table_new(c, hdr);
	rc = mlmmj_foreach(&c->model, cli_opt(c, O_DOMAIN), ls_row, &x, &err);
	if (c->json)
		out_json_end(c);
	else {
		if (rc == 0)
			table_print(x.t);
		table_free(x.t);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

int
cmd_list_rm(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	int rc;

	if ((rc = need_args(c, argc, argv, 1)) != 0)
		return rc;
	if (!cli_flag(c, 'y') &&
	    !cli_confirm(c, "Delete list %s%s?", argv[0],
		cli_flag(c, O_FORCE) ? " with its subscribers" : "")) {
		cli_errorf(c,
		    "not confirmed; nothing deleted (pass --yes to skip the question)");
		return 1;
	}
	if (mlmmj_rm(&c->model, argv[0], cli_flag(c, O_FORCE), &err) == -1)
		return cli_fail(c, &err);
	return 0;
}
