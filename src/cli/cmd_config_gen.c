/*
 * postino config gen: the Postfix, Dovecot and podop configuration that
 * agrees with this postino (model/mapgen.h), written atomically into an
 * output directory of its own.  The database is the one postino uses; its
 * schema must be in place, since the generated queries read it.
 */
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mapgen.h"
#include "mlmmj.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define DEFAULT_OUT "postino-cfg"
#define DEFAULT_QUEUE_DIR "/var/spool/postfix"
#define DEFAULT_DICT_SOCKET "unix:/run/podop/podop-dict.sock"

static const char *
opt_or(struct cli *c, int key, const char *dflt)
{
	const char *v = cli_opt(c, key);

	return v != NULL ? v : dflt;
}

/* The user Postfix runs mlmmj as: mlmmj_uid's name, else "mlmmj". */
static char *
mlmmj_user(const struct postino_conf *conf)
{
	struct passwd *pw;

	if (conf->mlmmj_uid >= 0 &&
	    (pw = getpwuid((uid_t)conf->mlmmj_uid)) != NULL)
		return xstrdup(pw->pw_name);
	return xstrdup("mlmmj");
}

static char *
mlmmj_bindir(void)
{
	char path[256];

	if (mlmmj_program("mlmmj-receive", path, sizeof(path)) == NULL)
		return xstrdup("/usr/bin");
	return xstrdup(dirname(path));
}

static void
print_files(struct cli *c, const struct mapgen_set *set, const char *out,
    const char *backup, bool dry)
{
	if (c->json) {
		json_t *o = json_object(), *a = json_array();

		json_object_set_new(o, "out", out_jstr(out));
		json_object_set_new(o, "dry_run", json_boolean(dry));
		json_object_set_new(o, "backup",
		    backup != NULL ? out_jstr(backup) : json_null());
		for (size_t i = 0; i < set->n; i++) {
			const struct mapgen_file *f = &set->v[i];
			json_t *j = json_object();
			char mode[8];

			snprintf(mode, sizeof(mode), "%04o", (unsigned)f->mode);
			json_object_set_new(j, "path", out_jstr(f->path));
			json_object_set_new(
			    j, "artefact", out_jstr(f->artefact));
			json_object_set_new(j, "mode", out_jstr(mode));
			json_object_set_new(j, "installed",
			    f->installed ? out_jstr(f->installed)
					 : json_null());
			json_array_append_new(a, j);
		}
		json_object_set_new(o, "files", a);
		out_json(c, o);
		return;
	}
	if (c->quiet)
		return;
	printf("%s %zu file%s %s %s\n", dry ? "would write" : "wrote", set->n,
	    set->n == 1 ? "" : "s", dry ? "into" : "to", out);
	for (size_t i = 0; i < set->n; i++) {
		const struct mapgen_file *f = &set->v[i];

		printf("  %04o %-44s %s%s\n", (unsigned)f->mode, f->path,
		    f->installed ? "-> " : "",
		    f->installed ? f->installed : "(podop -c FILE)");
	}
	if (backup != NULL)
		printf("the previous files are in %s\n", backup);
}

int
cmd_config_gen(struct cli *c, int argc, char **argv)
{
	const struct postino_conf *conf = &c->conf;
	const char *v, *out = opt_or(c, O_OUT, DEFAULT_OUT);
	struct mapgen_opts o;
	struct mapgen_set set;
	struct err err = ERR_INIT;
	char *user = NULL, *bindir = NULL, *backup = NULL;
	int rc;

	if (argc > 0)
		return cli_usage(c, "unexpected argument '%s'", argv[0]);
	memset(&o, 0, sizeof(o));
	o.conf = conf;
	o.db = &c->db->params;
	o.identity = conf->identity_backend;
	if ((v = cli_opt(c, O_IDENTITY)) != NULL) {
		if (strcmp(v, "local") == 0)
			o.identity = IDENTITY_LOCAL;
		else if (strcmp(v, "noauth") == 0)
			o.identity = IDENTITY_NOAUTH;
		else if (strcmp(v, "hybrid") == 0)
			o.identity = IDENTITY_HYBRID;
		else
			return cli_usage(c,
			    "unknown identity backend '%s' (use local, noauth or hybrid)",
			    v);
	}
	v = opt_or(c, O_LOOKUPS, "sql");
	if (strcmp(v, "sql") == 0)
		o.lookups = MAPGEN_SQL;
	else if (strcmp(v, "podop") == 0)
		o.lookups = MAPGEN_PODOP;
	else
		return cli_usage(
		    c, "unknown --lookups '%s' (use sql or podop)", v);
	v = opt_or(c, O_DOVECOT, "2.3");
	if (strcmp(v, "2.3") == 0)
		o.dovecot = MAPGEN_DOVECOT_23;
	else if (strcmp(v, "2.4") == 0)
		o.dovecot = MAPGEN_DOVECOT_24;
	else
		return cli_usage(
		    c, "unknown --dovecot '%s' (use 2.3 or 2.4)", v);
	o.postfix_dir = opt_or(c, O_POSTFIX_DIR, conf->postfix_sql_dir);
	o.dovecot_dir = opt_or(c, O_DOVECOT_DIR, conf->dovecot_conf_dir);
	o.queue_dir = opt_or(c, O_QUEUE_DIR, DEFAULT_QUEUE_DIR);
	o.podop_socket = opt_or(c, O_PODOP_SOCKET,
	    strcmp(conf->podop.mode, "postfix") == 0
		? conf->podop.socket
		: "unix:/run/podop/podop.sock");
	o.podop_dict_socket = opt_or(c, O_PODOP_DICT_SOCKET,
	    strcmp(conf->podop.mode, "dovecot") == 0 ? conf->podop.socket
						     : DEFAULT_DICT_SOCKET);
	if ((v = cli_opt(c, O_MLMMJ_USER)) != NULL)
		user = xstrdup(v);
	else
		user = mlmmj_user(conf);
	o.mlmmj_user = user;
	bindir = mlmmj_bindir();
	o.mlmmj_bindir = bindir;

	if (mapgen_generate(
		&o, cli_opt(c, O_ONLY), cli_opt(c, O_SKIP), &set, &err) == -1) {
		rc = cli_fail(c, &err);
		goto out;
	}
	if (conf->mlmmj_spool_dir[0] != '\0' &&
	    strchr(conf->recipient_delimiter, '+') == NULL)
		cli_warnf(c,
		    "recipient_delimiter is '%s' but mlmmj addresses its commands as list+keyword: add '+' to it in postino.toml",
		    conf->recipient_delimiter);
	if (cli_flag(c, O_DRY_RUN))
		print_files(c, &set, out, NULL, true);
	else if (mapgen_write(
		     out, &set, cli_flag(c, O_IN_PLACE), &backup, &err) == -1) {
		mapgen_set_release(&set);
		rc = cli_fail(c, &err);
		goto out;
	} else
		print_files(c, &set, out, backup, false);
	for (size_t i = 0; i < set.n; i++)
		if (strcmp(set.v[i].path, "podop/podop-postfix.toml") == 0 &&
		    o.lookups == MAPGEN_SQL)
			cli_infof(c,
			    "%s has no regular expressions, so Postfix asks podop for the list routes: run 'podop -c %s/%s'",
			    db_engine_name(o.db->engine), out, set.v[i].path);
	mapgen_set_release(&set);
	rc = 0;
out:
	free(user);
	free(bindir);
	free(backup);
	return rc;
}
