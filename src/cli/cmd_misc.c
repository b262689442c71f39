/* postino status, quota show, schema ..., config show */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "schema.h"
#include "banned.h"

int
cmd_status(struct cli *c, int argc, char **argv)
{
	struct status_counts s;
	struct err err = ERR_INIT;

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	if (report_status(&c->model, &s, &err) == -1)
		return cli_fail(c, &err);
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "domains", json_integer(s.domains));
		json_object_set_new(o, "mailboxes", json_integer(s.mailboxes));
		json_object_set_new(o, "aliases", json_integer(s.aliases));
		json_object_set_new(
		    o, "alias_domains", json_integer(s.alias_domains));
		json_object_set_new(o, "quota2", json_integer(s.quota2));
		json_object_set_new(o, "lists", json_integer(s.lists));
		out_json(c, o);
	} else {
		static const char *const keys[] = { "database", "domains",
			"mailboxes", "aliases", "alias_domains", "quota2",
			"lists", NULL };
		char v[6][32];
		const char *vals[] = { db_where(c->db), v[0], v[1], v[2], v[3],
			v[4], v[5] };

		snprintf(v[0], sizeof(v[0]), "%lld", (long long)s.domains);
		snprintf(v[1], sizeof(v[1]), "%lld", (long long)s.mailboxes);
		snprintf(v[2], sizeof(v[2]), "%lld", (long long)s.aliases);
		snprintf(
		    v[3], sizeof(v[3]), "%lld", (long long)s.alias_domains);
		snprintf(v[4], sizeof(v[4]), "%lld", (long long)s.quota2);
		snprintf(v[5], sizeof(v[5]), "%lld", (long long)s.lists);
		out_kv(c, keys, vals);
	}
	return 0;
}

struct quota_ctx {
	struct cli *c;
	struct table *t;
	bool single;
	json_t *one;
};

static json_t *
usage_json(const struct quota_usage *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "username", out_jstr(q->username));
	json_object_set_new(o, "bytes_used", json_integer(q->bytes));
	json_object_set_new(o, "messages", json_integer(q->messages));
	json_object_set_new(o, "quota_bytes", json_integer(q->quota_bytes));
	json_object_set_new(o, "percent",
	    q->percent < 0 ? json_null() : json_integer(q->percent));
	return o;
}

static int
quota_row(void *arg, const struct quota_usage *q)
{
	struct quota_ctx *l = arg;
	char used[32], lim[32], msgs[32], pct[16];

	if (l->c->json) {
		if (l->single)
			l->one = usage_json(q);
		else
			out_json_item(l->c, usage_json(q));
		return 0;
	}
	snprintf(msgs, sizeof(msgs), "%lld", (long long)q->messages);
	if (q->percent < 0)
		snprintf(pct, sizeof(pct), "-");
	else
		snprintf(pct, sizeof(pct), "%d%%", q->percent);
	if (q->bytes <= 0)
		snprintf(used, sizeof(used), "0 B");
	else
		quota_format(q->bytes, used, sizeof(used));
	{
		const char *cells[] = { q->username, used, msgs,
			quota_format(q->quota_bytes, lim, sizeof(lim)), pct };
		int colors[] = { 0, 0, 0, 0,
			q->percent >= 90       ? 2
			    : q->percent >= 75 ? 3
					       : 0 };

		table_add_colored(l->t, cells, colors);
	}
	return 0;
}

int
cmd_quota_show(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "username", "used", "messages",
		"quota", "percent", NULL };
	struct quota_ctx l = { c, NULL, argc == 1, NULL };
	struct err err = ERR_INIT;
	int rc;

	if (argc > 1)
		return cli_usage(c, "unexpected argument");
	if (c->json && !l.single)
		out_json_begin(c);
	else if (!c->json)
		l.t = table_new(c, hdr);
	rc = report_quota(&c->model, argc == 1 ? argv[0] : NULL,
	    cli_opt(c, O_DOMAIN), quota_row, &l, &err);
	if (c->json && !l.single)
		out_json_end(c);
	else if (c->json && l.one != NULL)
		out_json(c, l.one);
	else if (!c->json) {
		if (rc == 0)
			table_print(l.t);
		table_free(l.t);
	}
	return rc == -1 ? cli_fail(c, &err) : 0;
}

static void
report_step(void *arg, const char *what, bool changed)
{
	struct cli *c = arg;

	if (c->json)
		return;
	if (changed)
		printf("created %s\n", what);
	else
		printf("present %s\n", what);
}

static int
schema_print(struct cli *c)
{
	struct schema_status st;
	struct err err = ERR_INIT;

	if (schema_status(c->db, &st, &err) == -1)
		return cli_fail(c, &err);
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "database", out_jstr(db_where(c->db)));
		json_object_set_new(o, "postfixadmin_version",
		    st.pfa_version[0] ? out_jstr(st.pfa_version) : json_null());
		json_object_set_new(
		    o, "postino_version", json_integer(st.postino_version));
		json_object_set_new(o, "postino_version_needed",
		    json_integer(SCHEMA_POSTINO_VERSION));
		json_object_set_new(o, "missing_tables", out_jstr(st.missing));
		json_object_set_new(o, "ready",
		    json_boolean(!st.empty && st.missing_pfa == 0 &&
			st.postino_version >= SCHEMA_POSTINO_VERSION));
		out_json(c, o);
	} else {
		static const char *const keys[] = { "database", "postfixadmin",
			"postino", "missing", NULL };
		char pv[64];
		const char *vals[] = { db_where(c->db),
			st.pfa_version[0] ? st.pfa_version : "(none)", pv,
			st.missing[0] ? st.missing : "-" };

		snprintf(pv, sizeof(pv), "%d (this postino needs %d)",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
		out_kv(c, keys, vals);
	}
	return 0;
}

int
cmd_schema_init(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	if (schema_init(c->db, report_step, c, &err) == -1)
		return cli_fail(c, &err);
	return c->json ? schema_print(c) : 0;
}

static void
report_repair(void *arg, const char *what, const char *key, const char *detail)
{
	struct cli *c = arg;

	if (c->json)
		return;
	printf("%s %s %s: %s\n",
	    cli_flag(c, O_DRY_RUN) ? "would repair" : "repaired", what, key,
	    detail);
}

int
cmd_schema_migrate(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	bool dry = cli_flag(c, O_DRY_RUN);

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	if (!dry && schema_migrate(c->db, report_step, c, &err) == -1)
		return cli_fail(c, &err);
	/* What databases written by Python postino carry. */
	if (schema_repair(c->db, dry, report_repair, c, &err) == -1)
		return cli_fail(c, &err);
	return c->json ? schema_print(c) : 0;
}

int
cmd_schema_version(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	return schema_print(c);
}

int
cmd_config_show(struct cli *c, int argc, char **argv)
{
	struct conf_item *items;
	struct postino_conf defs;
	size_t n;
	bool nondef = cli_flag(c, 'n'), defaults = cli_flag(c, 'd');
	json_t *arr = NULL;

	(void)argv;
	if (argc > 0)
		return cli_usage(c, "unexpected argument");
	if (defaults) {
		conf_defaults(&defs);
		(void)conf_describe(&defs, &items, &n);
	} else
		(void)conf_describe(&c->conf, &items, &n);
	if (c->json)
		arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct conf_item *it = &items[i];

		if (nondef && it->is_default)
			continue;
		if (c->json) {
			json_t *o = json_object();

			json_object_set_new(o, "name", out_jstr(it->name));
			json_object_set_new(o, "value", out_jstr(it->value));
			json_object_set_new(o, "default",
			    it->default_value ? out_jstr(it->default_value)
					      : json_null());
			json_object_set_new(o, "origin", out_jstr(it->origin));
			json_object_set_new(o, "env",
			    it->env ? out_jstr(it->env) : json_null());
			json_array_append_new(arr, o);
		} else if (defaults)
			printf("%s = %s\n", it->name, it->value);
		else
			printf("%s = %s  %s# %s%s\n", it->name, it->value,
			    color_on(c, 4), it->origin, color_off(c));
	}
	if (c->json)
		out_json(c, arr);
	conf_items_free(items, n);
	if (defaults)
		conf_release(&defs);
	return 0;
}
