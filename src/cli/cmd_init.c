/*
 * postino init: a working configuration in one command.  Writes
 * DIR/postino.toml and the Postfix maps DIR/postfix/sql-*.cf (the single
 * source of database credentials), creates the mail root and, unless
 * --no-schema, creates (SQLite: the database file too) or migrates the
 * schema.  Existing files are never overwritten without --force; every
 * file is written to a temporary name and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "mapgen.h"
#include "password.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

static int
mkdir_p(const char *path, mode_t mode, struct err *err)
{
	char tmp[PATH_MAX];
	size_t n;

	if (str_copy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return err_set(err, ERR_FILESYSTEM, "path too long");
	n = strlen(tmp);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return err_set(err, ERR_FILESYSTEM,
			    "cannot create '%s': %s", tmp, strerror(errno));
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

/*
 * The maps directory and files go to group postfix when it exists and we
 * are root: main.cf reads them through proxymap(8), which opens them as
 * the postfix user (outside the chroot of Debian's smtpd and cleanup).
 */
static int
postfix_group(const char *path, struct err *err)
{
	struct group *gr;

	if (geteuid() != 0 || (gr = getgrnam("postfix")) == NULL)
		return 0;
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
		return err_set(err, ERR_FILESYSTEM, "cannot chgrp '%s': %s",
		    path, strerror(errno));
	return 0;
}

/* An absolute path without "." components or repeated slashes. */
static char *
absolute(const char *p)
{
	char cwd[PATH_MAX], *full, *o;
	const char *s;

	if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		full = xstrdup(p);
	else
		full = xasprintf("%s/%s", cwd, p);
	for (s = o = full; *s != '\0';) {
		if (s[0] == '/' &&
		    (s[1] == '/' ||
			(s[1] == '.' && (s[2] == '/' || s[2] == '\0')))) {
			s += s[1] == '/' ? 1 : 2;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	if (o > full + 1 && o[-1] == '/')
		o[-1] = '\0';
	if (full[0] == '\0') {
		free(full);
		full = xstrdup("/");
	}
	return full;
}

/* Write data to path atomically with mode. */
static int
write_file(const char *path, const char *data, mode_t mode, struct err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	size_t len = strlen(data), off = 0;
	int fd;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd == -1) {
		err_set(err, ERR_FILESYSTEM, "cannot create '%s': %s", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	(void)fchmod(fd, mode);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0) {
			err_set(err, ERR_FILESYSTEM, "cannot write '%s': %s",
			    tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		err_set(err, ERR_FILESYSTEM, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/*
 * Before path is replaced: keep what it holds as path.bak (or .bak.1,
 * .bak.2 ... if that is taken), a hard link, so nothing is copied and the
 * old file survives the rename over it.  *same_r tells the caller that
 * the file already holds data (nothing to write, nothing to keep).
 */
static int
backup_file(struct cli *c, const char *path, const char *data, bool *same_r,
    struct err *err)
{
	struct stat st;
	char *old = NULL, *bak = NULL;
	size_t len = 0;
	FILE *f;

	*same_r = false;
	if (lstat(path, &st) == -1)
		return errno == ENOENT
		    ? 0
		    : err_set(err, ERR_FILESYSTEM, "cannot stat '%s': %s", path,
			  strerror(errno));
	if (S_ISREG(st.st_mode) && (f = fopen(path, "re")) != NULL) {
		old = xmalloc((size_t)st.st_size + 1);
		len = fread(old, 1, (size_t)st.st_size, f);
		fclose(f);
		old[len] = '\0';
		*same_r = len == strlen(data) && memcmp(old, data, len) == 0;
		free(old);
		if (*same_r)
			return 0;
	}
	for (int i = 0; i < 100; i++) {
		free(bak);
		bak = i == 0 ? xasprintf("%s.bak", path)
			     : xasprintf("%s.bak.%d", path, i);
		if (link(path, bak) == 0) {
			if (!c->quiet && !c->json)
				printf(
				    "kept the previous %s as %s\n", path, bak);
			free(bak);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	err_set(err, ERR_FILESYSTEM, "cannot keep '%s' as '%s': %s", path, bak,
	    strerror(errno));
	free(bak);
	return -1;
}

/* write_file, keeping any different file it replaces (backup_file). */
static int
replace_file(struct cli *c, const char *path, const char *data, mode_t mode,
    struct err *err)
{
	bool same;

	if (backup_file(c, path, data, &same, err) == -1)
		return -1;
	if (same)
		return 0;
	return write_file(path, data, mode, err);
}

/* TOML basic string. */
static void
toml_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_printf(b, "\\u%04x", (unsigned char)*s);
		else
			buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
default_vmail(int64_t *uid, int64_t *gid, struct cli *c)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		*uid = getuid();
		*gid = getgid();
		return;
	}
	pw = getpwnam("vmail");
	if (pw != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return;
	}
	*uid = *gid = -1;
	cli_warnf(c,
	    "no 'vmail' user: maildirs will not be chowned (set vmail_uid and vmail_gid in postino.toml)");
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	struct err err = ERR_INIT;
	struct db_params p;
	struct buf b;
	char *dir = NULL, *pfdir = NULL, *mailroot = NULL, *toml = NULL;
	char pw[PASSWORD_INPUT_MAX + 2] = "";
	const char *engine_s = cli_opt(c, O_ENGINE), *v, *ib;
	int64_t uid, gid;
	bool keep_toml = false;
	int rc = -1;

	(void)argv;
	memset(&p, 0, sizeof(p));
	buf_init(&b, 1024 * 1024);
	if (argc > 0)
		return cli_usage(c, "unexpected argument '%s'", argv[0]);
	if (cli_opt(c, O_DIR) == NULL)
		return cli_usage(c, "--dir is required");
	p.engine = db_engine_parse(engine_s != NULL ? engine_s : "sqlite");
	if (p.engine == DB_ENGINE_NONE)
		return cli_usage(c,
		    "unknown engine '%s' (use sqlite, mysql or pgsql)",
		    engine_s);
	ib = cli_opt(c, O_IDENTITY) != NULL ? cli_opt(c, O_IDENTITY) : "local";
	if (strcmp(ib, "local") != 0 && strcmp(ib, "noauth") != 0 &&
	    strcmp(ib, "hybrid") != 0)
		return cli_usage(c, "unknown identity backend '%s'", ib);
	if (db_engine_usable(p.engine, &err) == -1)
		return cli_fail(c, &err);
	dir = absolute(cli_opt(c, O_DIR));
	pfdir = xasprintf("%s/postfix", dir);
	toml = xasprintf("%s/postino.toml", dir);
	mailroot =
	    absolute(cli_opt(c, O_MAIL_ROOT) != NULL ? cli_opt(c, O_MAIL_ROOT)
						     : "vmail");
	if (cli_opt(c, O_MAIL_ROOT) == NULL) {
		free(mailroot);
		mailroot = xasprintf("%s/vmail", dir);
	}
	if (p.engine == DB_ENGINE_SQLITE) {
		p.dbpath =
		    absolute(cli_opt(c, O_DB) != NULL ? cli_opt(c, O_DB)
						      : "postino.sqlite");
		if (cli_opt(c, O_DB) == NULL) {
			free(p.dbpath);
			p.dbpath = xasprintf("%s/postino.sqlite", dir);
		}
	} else {
		if (cli_opt(c, O_DBNAME) == NULL || cli_opt(c, O_USER) == NULL)
			return cli_usage(c,
			    "--user and --dbname are required for %s",
			    db_engine_name(p.engine));
		p.hosts =
		    xstrdup(cli_opt(c, O_HOSTS) != NULL ? cli_opt(c, O_HOSTS)
							: "localhost");
		p.user = xstrdup(cli_opt(c, O_USER));
		p.dbname = xstrdup(cli_opt(c, O_DBNAME));
	}
	p.source = xasprintf("%s/sql-virtual_mailbox_maps.cf", pfdir);
	if ((v = cli_opt(c, O_VMAIL_UID)) != NULL) {
		if (cli_int(c, "--vmail-uid", v, -1, 0x7fffffff, &uid, &err) ==
		    -1)
			goto fail;
	}
	if ((v = cli_opt(c, O_VMAIL_GID)) != NULL) {
		if (cli_int(c, "--vmail-gid", v, -1, 0x7fffffff, &gid, &err) ==
		    -1)
			goto fail;
	}
	if (cli_opt(c, O_VMAIL_UID) == NULL ||
	    cli_opt(c, O_VMAIL_GID) == NULL) {
		int64_t du, dg;

		default_vmail(&du, &dg, c);
		if (cli_opt(c, O_VMAIL_UID) == NULL)
			uid = du;
		if (cli_opt(c, O_VMAIL_GID) == NULL)
			gid = dg;
	}
	/*
	 * Refuse to clobber an existing setup unless asked to; asked to, an
	 * existing postino.toml is kept and every other file replaced is
	 * kept as FILE.bak.
	 */
	{
		struct stat st;

		keep_toml = stat(toml, &st) == 0;
		if (keep_toml && !cli_flag(c, O_FORCE)) {
			err_set(&err, ERR_EXISTS, "'%s' already exists", toml);
			err_hint(&err,
			    "pass --force to rewrite the maps (the old ones kept as .bak; postino.toml is left as it is)");
			goto fail;
		}
	}
	/* Last, once every argument is known to be good. */
	if (p.engine != DB_ENGINE_SQLITE) {
		if (cli_read_secret(c, cli_flag(c, O_PASSWORD_STDIN),
			"Database password", pw, sizeof(pw), &err) == -1)
			goto fail;
		p.password = xstrdup(pw);
		explicit_bzero(pw, sizeof(pw));
	}
	if (mkdir_p(dir, 0755, &err) == -1 ||
	    mkdir_p(pfdir, 0750, &err) == -1 ||
	    postfix_group(pfdir, &err) == -1)
		goto fail;
	for (const struct mapgen_map *m = mapgen_maps; m->file != NULL; m++) {
		char *path = xasprintf("%s/%s", pfdir, m->file);

		buf_reset(&b);
		if (mapgen_render(m, &p, &b, &err) == -1 ||
		    replace_file(c, path, buf_cstr(&b), 0640, &err) == -1 ||
		    postfix_group(path, &err) == -1) {
			free(path);
			goto fail;
		}
		free(path);
	}
	if (mkdir_p(mailroot, 0750, &err) == -1)
		goto fail;
	if (uid >= 0 && gid >= 0 &&
	    chown(mailroot, (uid_t)uid, (gid_t)gid) == -1) {
		err_set(&err, ERR_FILESYSTEM, "cannot chown '%s': %s", mailroot,
		    strerror(errno));
		goto fail;
	}
	buf_reset(&b);
	buf_printf(&b,
	    "# postino.toml, written by 'postino init'.  See postino.toml(5).\n# Database credentials live in the Postfix maps under postfix_sql_dir.\n\n");
	buf_printf(&b, "identity_backend = ");
	toml_str(&b, ib);
	buf_printf(&b, "\npostfix_sql_dir = ");
	toml_str(&b, pfdir);
	buf_printf(&b, "\npostfix_sql_engine = ");
	toml_str(&b, db_engine_name(p.engine));
	buf_printf(&b, "\nvirtual_mailbox_base = ");
	toml_str(&b, mailroot);
	buf_printf(&b, "\nvmail_uid = %lld\nvmail_gid = %lld\n", (long long)uid,
	    (long long)gid);
	if ((v = cli_opt(c, O_HOOK)) != NULL) {
		char *h = absolute(v);

		buf_printf(&b, "postcreation_hook = ");
		toml_str(&b, h);
		buf_putc(&b, '\n');
		free(h);
	}
	if (keep_toml) {
		/* Its settings (hook, ids, [postinod], ...) are the admin's. */
		if (!c->quiet && !c->json)
			printf(
			    "kept %s as it is (move it away for a new one)\n",
			    toml);
	} else if (write_file(toml, buf_cstr(&b), 0644, &err) == -1)
		goto fail;
	if (!cli_flag(c, O_NO_SCHEMA)) {
		struct schema_status st;
		struct db *db;

		if (p.dbpath != NULL) {
			char *dbdir = xstrdup(p.dbpath);
			char *slash = strrchr(dbdir, '/');

			if (slash != NULL && slash != dbdir) {
				*slash = '\0';
				if (mkdir_p(dbdir, 0750, &err) == -1) {
					free(dbdir);
					goto fail;
				}
			}
			free(dbdir);
		}
		p.create = true;
		db = db_open(&p, &err);
		if (db == NULL)
			goto fail;
		if (schema_status(db, &st, &err) == -1 ||
		    (st.empty ? schema_init(db, NULL, NULL, &err)
			      : schema_migrate(db, NULL, NULL, &err)) == -1) {
			db_close(&db);
			goto fail;
		}
		if (p.engine == DB_ENGINE_SQLITE)
			(void)chmod(p.dbpath, 0640);
		db_close(&db);
	}
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "config", out_jstr(toml));
		json_object_set_new(o, "postfix_sql_dir", out_jstr(pfdir));
		json_object_set_new(
		    o, "engine", out_jstr(db_engine_name(p.engine)));
		json_object_set_new(
		    o, "virtual_mailbox_base", out_jstr(mailroot));
		if (p.dbpath != NULL)
			json_object_set_new(o, "database", out_jstr(p.dbpath));
		out_json(c, o);
	} else if (!c->quiet) {
		size_t nmaps = 0;

		while (mapgen_maps[nmaps].file != NULL)
			nmaps++;
		printf("wrote %s\nwrote %s/sql-*.cf (%zu Postfix maps)\n", toml,
		    pfdir, nmaps);
		if (p.dbpath != NULL)
			printf("database %s\n", p.dbpath);
		printf("mail root %s\n\nNext: export POSTINO_CONFIG=%s\n",
		    mailroot, toml);
	}
	rc = 0;
fail:
	if (rc == -1)
		rc = cli_fail(c, &err);
	explicit_bzero(pw, sizeof(pw));
	db_params_release(&p);
	buf_release(&b);
	free(dir);
	free(pfdir);
	free(mailroot);
	free(toml);
	return rc;
}
