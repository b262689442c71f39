/*
 * postino config gen: the Postfix, Dovecot and podop configuration that
 * agrees with this postino (model/mapgen.h), written atomically into an
 * output directory of its own.  The database is the one postino uses; its
 * schema must be in place, since the generated queries read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "mapgen.h"
#include "mlmmj.h"
#include "password.h"
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

/* Where the Dovecot programs usually are, after the caller's PATH. */
#define SBIN_PATH "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin"

/*
 * What "dovecot --version" prints ("2.4.1-4 (7d8c0e5759)"), from the
 * dovecot on the caller's PATH or in the usual places; false when there is
 * none or it says nothing within a few seconds.
 */
static bool
dovecot_version(char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *search, *save = NULL, prog[512], envpath[4096];
	char *const argv[] = { prog, (char *)(uintptr_t) "--version", NULL };
	char *env[] = { envpath, (char *)(uintptr_t) "LANG=C", NULL };
	size_t n = 0;
	int pfd[2], status;
	bool found = false;
	pid_t pid;

	snprintf(envpath, sizeof(envpath), "PATH=%s%s" SBIN_PATH,
	    path != NULL ? path : "", path != NULL && *path ? ":" : "");
	search = xstrdup(envpath + 5);
	for (char *d = strtok_r(search, ":", &save); d != NULL && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(prog, sizeof(prog), "%s/dovecot", d);
		found = d[0] == '/' && access(prog, X_OK) == 0;
	}
	free(search);
	if (!found || pipe(pfd) == -1)
		return false;
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return false;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull != -1) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		dup2(pfd[1], STDOUT_FILENO);
		execve(prog, argv, env);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if ((r = read(pfd[0], out + n, size - 1 - n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		if ((n += (size_t)r) == size - 1)
			break;
	}
	out[n] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	out[strcspn(out, " \n")] = '\0';
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] >= '0' &&
	    out[0] <= '9';
}

/* 2.4 syntax for Dovecot 2.4 and later, 2.3 for anything older. */
static enum mapgen_dovecot
dovecot_syntax(const char *version)
{
	long major, minor = 0;
	char *end;

	major = strtol(version, &end, 10);
	if (*end == '.')
		minor = strtol(end + 1, NULL, 10);
	return major > 2 || (major == 2 && minor >= 4) ? MAPGEN_DOVECOT_24
						       : MAPGEN_DOVECOT_23;
}

/*
 * How many mailbox passwords are hashes in a scheme Dovecot 2.4 refuses
 * unless auth_allow_weak_schemes is set (plain text is not refused).
 */
static long long
weak_hashes(struct cli *c)
{
	struct db_res *res = NULL;
	struct err err = ERR_INIT;
	long long n = 0;

	if (db_query(c->db, "SELECT password FROM mailbox", NULL, 0, 0, &res,
		&err) == -1) {
		err_clear(&err);
		return 0;
	}
	while (db_next(res, &err) == 1) {
		const char *pw = db_col(res, 0);
		char scheme[32];

		if (pw == NULL)
			continue;
		password_scheme_of(pw, scheme, sizeof(scheme));
		if (password_scheme_weak(scheme) &&
		    strcmp(scheme, "PLAIN") != 0 &&
		    strcmp(scheme, "CLEAR") != 0 &&
		    strcmp(scheme, "CLEARTEXT") != 0 &&
		    strcmp(scheme, "UNPREFIXED") != 0)
			n++;
	}
	err_clear(&err);
	db_res_free(&res);
	return n;
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
	struct postino_conf over = c->conf; /* shallow: options override */
	const struct postino_conf *conf = &over;
	const char *v, *out = opt_or(c, O_OUT, DEFAULT_OUT);
	struct mapgen_opts o;
	struct mapgen_set set;
	struct err err = ERR_INIT;
	char *user = NULL, *bindir = NULL, *backup = NULL;
	int rc;

	if (argc > 0)
		return cli_usage(c, "unexpected argument '%s'", argv[0]);
	if (cli_opt(c, O_DB_URL) != NULL) {
		/* Python's URL carried the password on the command line. */
		err_set(&err, ERR_USAGE,
		    "--db-url is not taken: config gen uses the database of %s/sql-virtual_mailbox_maps.cf, as every postino command does",
		    c->conf.postfix_sql_dir);
		err_hint(&err,
		    "write that map with 'postino init' (the password from stdin, never argv), or point -c at a postino.toml whose postfix_sql_dir holds it");
		return cli_fail(c, &err);
	}
	if ((v = cli_opt(c, O_VMAIL_UID)) != NULL &&
	    cli_int(c, "--vmail-uid", v, -1, 4294967294LL, &over.vmail_uid,
		&err) == -1)
		return cli_fail(c, &err);
	if ((v = cli_opt(c, O_VMAIL_GID)) != NULL &&
	    cli_int(c, "--vmail-gid", v, -1, 4294967294LL, &over.vmail_gid,
		&err) == -1)
		return cli_fail(c, &err);
	if ((v = cli_opt(c, O_MLMMJ_SPOOL)) != NULL)
		over.mlmmj_spool_dir = (char *)(uintptr_t)v;
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
	if ((v = cli_opt(c, O_DOVECOT)) == NULL) {
		char version[64];

		v = "2.3";
		if (dovecot_version(version, sizeof(version)) &&
		    dovecot_syntax(version) == MAPGEN_DOVECOT_24) {
			v = "2.4";
			cli_infof(c,
			    "Dovecot %s is installed: writing Dovecot 2.4 syntax (--dovecot 2.3 for the older one)",
			    version);
		}
	}
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

	if (o.dovecot == MAPGEN_DOVECOT_24 && o.identity != IDENTITY_NOAUTH)
		o.weak_hashes = weak_hashes(c);
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
	if (o.weak_hashes > 0)
		cli_warnf(c,
		    "%lld mailbox password%s a scheme Dovecot 2.4 refuses as weak (MD5-CRYPT...): set them again with 'postino user passwd', or set auth_allow_weak_schemes = yes in Dovecot (see conf.d/auth-sql.conf.ext)",
		    o.weak_hashes, o.weak_hashes == 1 ? " uses" : "s use");
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
