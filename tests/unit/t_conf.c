/*
 * The configuration loader: defaults, file and environment precedence,
 * origins, validation messages and conf_describe().
 *
 * HOME points at a temporary directory and every variable conf knows is
 * unset first, so the user's own files and environment never leak in.
 * The two system files cannot be redirected; if one exists the test skips.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"
#include "xalloc.h"

static char tmp[] = "/tmp/t_conf.XXXXXX";
static char user_path[512], cfg_path[512], other_path[512];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		printf(
		    "Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Forget every variable conf reads, and every file but the ones named. */
static void
reset_env(void)
{
	struct postino_conf c;
	struct conf_item *items;
	size_t n;

	conf_defaults(&c);
	conf_describe(&c, &items, &n);
	for (size_t i = 0; i < n; i++)
		if (items[i].env != NULL)
			unsetenv(items[i].env);
	conf_items_free(items, n);
	conf_release(&c);
	unsetenv("POSTINO_CONFIG");
	setenv("HOME", tmp, 1);
	unlink(user_path);
	unlink(cfg_path);
	unlink(other_path);
}

static const struct conf_item *
item(const struct conf_item *items, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].name, name) == 0)
			return &items[i];
	return NULL;
}

/* Load, expecting failure, and return the message (static). */
static const char *
load_fails(const char *explicit_path)
{
	static struct err err;
	struct postino_conf c;

	err_clear(&err);
	if (conf_load(&c, explicit_path, &err) == 0) {
		conf_release(&c);
		return "(loaded)";
	}
	if (c.files != NULL || c.postfix_sql_dir != NULL || c.origins != NULL)
		return "(failed load left data behind)";
	if (err.kind != ERR_CONFIG)
		return "(wrong error kind)";
	return err.msg;
}

/* Write text to cfg_path and return the message of loading it. */
static const char *
cfg_fails(const char *text)
{
	write_file(cfg_path, text);
	return load_fails(cfg_path);
}

static char *
at(const char *path, int line, const char *rest)
{
	static char s[1024];

	snprintf(s, sizeof(s), "%s:%d: %s", path, line, rest);
	return s;
}

static void
test_defaults(void)
{
	static const char *const names[] = {
		"identity_backend",
		"postfix_sql_dir",
		"postfix_sql_engine",
		"virtual_mailbox_base",
		"postcreation_hook",
		"postcreation_hook_timeout",
		"vmail_uid",
		"vmail_gid",
		"default_password_scheme",
		"bcrypt_cost",
		"default_quota_bytes",
		"lmtp_destination",
		"recipient_delimiter",
		"vacation_domain",
		"dovecot_conf_dir",
		"mlmmj_spool_dir",
		"mlmmj_uid",
		"mlmmj_gid",
		"log_format",
		"postinod.listen",
		"postinod.log_level",
		"postinod.zitadel_issuer",
		"postinod.scim_issuer",
		"postinod.scim_audience",
		"postinod.scim_jwks_url",
		"postinod.scim_jwks_file",
		"postinod.scim_jwks_refresh_seconds",
		"postinod.scim_max_token_age_seconds",
		"postinod.tls_cert",
		"postinod.tls_key",
		"postinod.user",
		"postinod.threads",
		"postinod.seccomp",
		"postinod.public_url",
		"postinod.metrics_listen",
		"password.min_length",
		"password.min_letters",
		"password.min_digits",
		"postfixadmin.encrypt",
		"zitadel.url",
		"zitadel.organization_id",
		"zitadel.instance_id",
		"zitadel.token_file",
		"zitadel.ca_file",
		"zitadel.ca_path",
		"zitadel.timeout_seconds",
		"zitadel.page_size",
		"podop.socket",
		"podop.mode",
		"podop.user",
		"podop.socket_owner",
		"podop.socket_mode",
		"podop.workers",
		"podop.timeout_ms",
		"podop.cache_ttl",
		"podop.cache_negative_ttl",
		"podop.cache_stale_ttl",
		"podop.cache_size",
		"podop.table_cache",
		"podop.dns_resolver",
		"podop.seccomp",
		"podop.metrics_listen",
		"podop.read_hosts",
	};
	size_t nn = sizeof(names) / sizeof(names[0]);
	struct postino_conf c;
	struct conf_item *items;
	size_t n;

	conf_defaults(&c);
	is_int(c.identity_backend, IDENTITY_LOCAL, "default identity_backend");
	is_str(c.postfix_sql_dir, "/etc/postfix", "default postfix_sql_dir");
	is_str(c.postfix_sql_engine, "", "default postfix_sql_engine");
	is_str(c.virtual_mailbox_base, "/var/vmail", "default mailbox base");
	is_str(c.postcreation_hook, "", "default hook");
	is_int(c.postcreation_hook_timeout, 30, "default hook timeout");
	is_int(c.vmail_uid, -1, "default vmail_uid");
	is_int(c.vmail_gid, -1, "default vmail_gid");
	is_str(c.default_password_scheme, "BLF-CRYPT", "default scheme");
	is_int(c.bcrypt_cost, 12, "default bcrypt_cost");
	is_int(c.default_quota_bytes, 0, "default quota");
	is_str(c.lmtp_destination, "unix:private/dovecot-lmtp",
	    "default lmtp_destination");
	is_str(c.recipient_delimiter, "+", "default recipient_delimiter");
	is_str(c.vacation_domain, "autoreply.change-this-to-your.domain.tld",
	    "default vacation_domain");
	is_str(c.dovecot_conf_dir, "/etc/dovecot", "default dovecot_conf_dir");
	is_str(c.mlmmj_spool_dir, "", "default mlmmj_spool_dir");
	is_int(c.mlmmj_uid, -1, "default mlmmj_uid");
	is_int(c.mlmmj_gid, -1, "default mlmmj_gid");
	is_str(c.log_format, "text", "default log_format");
	is_str(c.postinod.listen, "127.0.0.1:8443", "default listen");
	is_str(c.postinod.log_level, "info", "default log_level");
	is_int(c.postinod.scim_jwks_refresh_seconds, 3600, "default refresh");
	is_int(
	    c.postinod.scim_max_token_age_seconds, 3600, "default token age");
	is_int(c.postinod.threads, 4, "default threads");
	is_str(c.podop.socket, "unix:/run/podop/podop.sock",
	    "default podop socket");
	is_str(c.podop.mode, "postfix", "default podop mode");
	is_str(c.podop.socket_mode, "0660", "default socket_mode");
	is_int(c.podop.workers, 2, "default workers");
	is_int(c.podop.timeout_ms, 5000, "default timeout_ms");
	is_int(c.podop.cache_ttl, 60, "default cache_ttl");
	is_int(c.podop.cache_negative_ttl, 10, "default negative ttl");
	is_int(c.podop.cache_stale_ttl, 300, "default stale ttl");
	is_int(c.podop.cache_size, 1000000, "default cache_size");
	is_str(c.zitadel.url, "", "default zitadel url");
	is_int(c.zitadel.timeout_seconds, 30, "default zitadel timeout");
	is_int(c.zitadel.page_size, 100, "default zitadel page_size");
	is_int((int64_t)c.podop.ntables, 0, "no podop tables by default");
	is_int(c.password.min_length, 8, "default password.min_length");
	is_int(c.password.min_letters, 0, "default password.min_letters");
	is_int(c.password.min_digits, 0, "default password.min_digits");
	is_str(c.postfixadmin.encrypt, "", "default postfixadmin.encrypt");
	is_int((int64_t)c.nfiles, 0, "no files by default");

	is_int(conf_describe(&c, &items, &n), 0, "describe returns 0");
	is_int((int64_t)n, (int64_t)nn, "describe lists every setting");
	for (size_t i = 0; i < n && i < nn; i++) {
		const struct conf_item *it = &items[i];
		char env[128];
		const char *dot = strchr(it->name, '.');
		size_t j = 0;

		is_str(it->name, names[i], "setting %zu is %s", i, names[i]);
		/* Defaults are written once; rendering must agree. */
		is_str(it->value, it->default_value,
		    "%s: default renders as "
		    "its documented default",
		    it->name);
		is_str(it->origin, "default", "%s: origin default", it->name);
		ok(it->is_default, "%s: is_default", it->name);
		ok(it->description != NULL && it->description[0] != '\0' &&
			it->description[strlen(it->description) - 1] != '.',
		    "%s: one-line description", it->name);
		/*
		 * POSTINO_KEY, POSTINOD_KEY, PODOP_KEY; POSTINO_TABLE_KEY for
		 * the other tables.
		 */
		j = (size_t)snprintf(env, sizeof(env), "%s",
		    dot == NULL					 ? "POSTINO_"
			: strncmp(it->name, "postinod.", 9) == 0 ? "POSTINOD_"
			: strncmp(it->name, "podop.", 6) == 0	 ? "PODOP_"
								 : "POSTINO_");
		for (const char *p = dot &&
			     (strncmp(it->name, "postinod.", 9) == 0 ||
				 strncmp(it->name, "podop.", 6) == 0)
			 ? dot + 1
			 : it->name;
		     *p; p++)
			env[j++] = *p == '.'
			    ? '_'
			    : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A'
							    : *p);
		env[j] = '\0';
		is_str(it->env, env, "%s: environment variable", it->name);
	}
	conf_items_free(items, n);
	conf_release(&c);
	ok(c.postfix_sql_dir == NULL && c.origins == NULL,
	    "release clears the struct");
	conf_release(&c);
	ok(1, "release twice is harmless");
}

static void
test_no_files(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;

	reset_env();
	if (!ok(conf_load(&c, NULL, &err) == 0, "load with nothing set")) {
		diag("%s", err.msg);
		return;
	}
	is_int((int64_t)c.nfiles, 0, "no files read");
	is_int(c.bcrypt_cost, 12, "defaults in force");
	ok(err.kind == ERR_OK && err.msg[0] == '\0',
	    "missing optional files leave err clear: '%s'", err.msg);
	conf_release(&c);

	unsetenv("HOME");
	ok(conf_load(&c, NULL, &err) == 0, "load without HOME");
	conf_release(&c);
	setenv("HOME", tmp, 1);
}

static void
test_precedence(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;
	struct conf_item *items;
	const struct conf_item *it;
	char want[1024];
	size_t n;

	reset_env();
	write_file(user_path,
	    "# user file\n"
	    "vmail_uid = 100\n"
	    "vmail_gid = 100\n"
	    "bcrypt_cost = 10\n"
	    "[postinod]\n"
	    "threads = 8\n"
	    "[podop.tables]\n"
	    "virtual = \"sql:/etc/postfix/user.cf\"\n"
	    "domains = 'static:example.org'\n");
	write_file(cfg_path,
	    "vmail_gid = 200\n"
	    "bcrypt_cost = 11\n"
	    "[podop.tables]\n"
	    "virtual = \"sql:/etc/postfix/cfg.cf\"\n");
	write_file(other_path, "bcrypt_cost = 5\n");
	setenv("POSTINO_CONFIG", cfg_path, 1);
	setenv("POSTINO_BCRYPT_COST", "1_3", 1);
	if (!ok(conf_load(&c, NULL, &err) == 0, "layered load")) {
		diag("%s", err.msg);
		return;
	}
	is_int(c.vmail_uid, 100, "user file beats default");
	is_int(c.vmail_gid, 200, "POSTINO_CONFIG beats user file");
	is_int(c.bcrypt_cost, 13, "env beats files (with '_' as in TOML)");
	is_int(c.postinod.threads, 8, "[postinod] from user file");
	is_int((int64_t)c.nfiles, 2, "two files read");
	if (c.nfiles == 2) {
		is_str(c.files[0], user_path, "user file read first");
		is_str(c.files[1], cfg_path, "then POSTINO_CONFIG");
	}
	is_int((int64_t)c.podop.ntables, 2, "tables merged by name");
	if (c.podop.ntables == 2) {
		is_str(c.podop.tables[0].name, "virtual", "table 0 name");
		is_str(c.podop.tables[0].type, "sql", "later file's type");
		is_str(c.podop.tables[0].param, "/etc/postfix/cfg.cf",
		    "later file's param");
		is_str(c.podop.tables[1].name, "domains", "table 1 name");
		is_str(c.podop.tables[1].type, "static", "table 1 type");
		is_str(c.podop.tables[1].param, "example.org", "table 1 param");
	}

	conf_describe(&c, &items, &n);
	it = item(items, n, "vmail_uid");
	snprintf(want, sizeof(want), "%s:2", user_path);
	ok(it != NULL && strcmp(it->origin, want) == 0 && !it->is_default &&
		strcmp(it->value, "100") == 0,
	    "vmail_uid origin %s", it ? it->origin : "?");
	it = item(items, n, "vmail_gid");
	snprintf(want, sizeof(want), "%s:1", cfg_path);
	ok(it != NULL && strcmp(it->origin, want) == 0, "vmail_gid origin %s",
	    it ? it->origin : "?");
	it = item(items, n, "bcrypt_cost");
	ok(it != NULL && strcmp(it->origin, "env POSTINO_BCRYPT_COST") == 0 &&
		strcmp(it->value, "13") == 0 &&
		strcmp(it->default_value, "12") == 0,
	    "bcrypt_cost origin %s", it ? it->origin : "?");
	it = item(items, n, "postinod.threads");
	snprintf(want, sizeof(want), "%s:6", user_path);
	ok(it != NULL && strcmp(it->origin, want) == 0,
	    "postinod.threads origin %s", it ? it->origin : "?");
	it = item(items, n, "postfix_sql_dir");
	ok(it != NULL && it->is_default && strcmp(it->origin, "default") == 0,
	    "untouched setting stays default");
	it = item(items, n, "podop.tables.virtual");
	snprintf(want, sizeof(want), "%s:4", cfg_path);
	ok(it != NULL && strcmp(it->origin, want) == 0 &&
		strcmp(it->value, "\"sql:/etc/postfix/cfg.cf\"") == 0 &&
		it->env == NULL && it->default_value == NULL && !it->is_default,
	    "podop.tables.virtual described");
	it = item(items, n, "podop.tables.domains");
	snprintf(want, sizeof(want), "%s:9", user_path);
	ok(it != NULL && strcmp(it->origin, want) == 0,
	    "podop.tables.domains from the user file");
	is_int((int64_t)n, 63 + 2, "describe adds one item per table");
	conf_items_free(items, n);
	conf_release(&c);

	/* An explicit file takes the place of $POSTINO_CONFIG. */
	unsetenv("POSTINO_BCRYPT_COST");
	if (ok(conf_load(&c, other_path, &err) == 0, "explicit file")) {
		is_int(c.bcrypt_cost, 5, "explicit file value");
		is_int(c.vmail_gid, 100, "POSTINO_CONFIG not read");
		is_int((int64_t)c.nfiles, 2, "user + explicit");
		if (c.nfiles == 2)
			is_str(c.files[1], other_path, "explicit file listed");
		conf_release(&c);
	}

	/* An empty POSTINO_CONFIG is the same as an unset one. */
	setenv("POSTINO_CONFIG", "", 1);
	if (ok(conf_load(&c, NULL, &err) == 0, "empty POSTINO_CONFIG")) {
		is_int((int64_t)c.nfiles, 1, "only the user file");
		conf_release(&c);
	}
	reset_env();
}

static void
test_missing(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;
	char path[600], want[700];

	reset_env();
	snprintf(path, sizeof(path), "%s/nope.toml", tmp);
	snprintf(want, sizeof(want), "config file '%s' not found", path);
	is_int(conf_load(&c, path, &err), -1, "missing explicit file fails");
	is_str(err.msg, want, "missing explicit file message");
	is_int(err.kind, ERR_CONFIG, "missing explicit file is ERR_CONFIG");
	is_str(err.hint, "check the path given with -c", "hint for -c");

	setenv("POSTINO_CONFIG", path, 1);
	is_int(conf_load(&c, NULL, &err), -1, "missing POSTINO_CONFIG fails");
	is_str(err.msg, want, "missing POSTINO_CONFIG message");
	ok(strstr(err.hint, "$POSTINO_CONFIG") != NULL,
	    "hint names the "
	    "variable: %s",
	    err.hint);
	unsetenv("POSTINO_CONFIG");

	/* The user file is optional, but must be valid if present. */
	write_file(user_path, "vmail_uid = nope\n");
	is_str(load_fails(NULL),
	    at(user_path, 1,
		"invalid value 'nope' "
		"(strings must be quoted)"),
	    "malformed user file is an error");
	unlink(user_path);
}

static void
test_unknown(void)
{
	reset_env();
	is_str(cfg_fails("vmial_uid = 1\n"),
	    at(cfg_path, 1,
		"unknown key "
		"'vmial_uid' (did you mean 'vmail_uid'?)"),
	    "did you mean");
	is_str(cfg_fails("\n[postinod]\nlisen = 'x'\n"),
	    at(cfg_path, 3,
		"unknown key 'lisen' in [postinod] (did you mean 'listen'?)"),
	    "did you mean in a table");
	is_str(cfg_fails("[postinod]\nlisten = ':1'\nvmail_uid = 5\n"),
	    at(cfg_path, 3,
		"unknown key 'vmail_uid' in [postinod] "
		"('vmail_uid' is a top-level key: move it above the first "
		"[table] header)"),
	    "top-level key under a table");
	is_str(cfg_fails("[podop]\nthreads = 2\n"),
	    at(cfg_path, 2,
		"unknown key 'threads' in [podop] ('threads' belongs in "
		"[postinod])"),
	    "key under the wrong table");
	is_str(cfg_fails("frobnicate = 1\n"),
	    at(cfg_path, 1,
		"unknown key "
		"'frobnicate'"),
	    "unknown key without a suggestion");
	is_str(cfg_fails("[postinodd]\n"),
	    at(cfg_path, 1,
		"unknown table "
		"[postinodd] (did you mean [postinod]?)"),
	    "unknown table");
	is_str(cfg_fails("a=1\n[foo.bar]\n"),
	    at(cfg_path, 1,
		"unknown key "
		"'a'"),
	    "first error wins");
	is_str(cfg_fails("[frob.bar]\n"),
	    at(cfg_path, 1,
		"unknown table "
		"[frob.bar]"),
	    "unknown dotted table");
	is_str(cfg_fails("[podop.table]\n"),
	    at(cfg_path, 1,
		"unknown table "
		"[podop.table] (did you mean [podop.tables]?)"),
	    "unknown podop subtable");
	is_str(cfg_fails("[podop.tables.x]\n"),
	    at(cfg_path, 1,
		"unknown "
		"table [podop.tables.x] (did you mean [podop.tables]?)"),
	    "tables do not nest");
}

static void
test_types_and_ranges(void)
{
	reset_env();
	is_str(cfg_fails("vmail_uid = '5'\n"),
	    at(cfg_path, 1,
		"'vmail_uid' "
		"must be an integer, not a string"),
	    "string for an integer");
	is_str(cfg_fails("[postinod]\nlisten = 8443\n"),
	    at(cfg_path, 2,
		"'postinod.listen' must be a string, not an integer"),
	    "integer for a string");
	is_str(cfg_fails("bcrypt_cost = true\n"),
	    at(cfg_path, 1, "'bcrypt_cost' must be an integer, not a boolean"),
	    "boolean");
	is_str(cfg_fails("postfix_sql_dir = ['a']\n"),
	    at(cfg_path, 1, "'postfix_sql_dir' must be a string, not an array"),
	    "array");
	is_str(cfg_fails("bcrypt_cost = 3\n"),
	    at(cfg_path, 1,
		"'bcrypt_cost' "
		"must be between 4 and 31 (got 3)"),
	    "below the range");
	is_str(cfg_fails("\n\nbcrypt_cost = 32\n"),
	    at(cfg_path, 3, "'bcrypt_cost' must be between 4 and 31 (got 32)"),
	    "above the range");
	is_str(cfg_fails("default_quota_bytes = -1\n"),
	    at(cfg_path, 1,
		"'default_quota_bytes' must be at least 0 (got -1)"),
	    "open-ended range");
	is_str(cfg_fails("vmail_uid = -2\n"),
	    at(cfg_path, 1,
		"'vmail_uid' "
		"must be between -1 and 4294967294 (got -2)"),
	    "uid range");
	is_str(cfg_fails("[podop]\nworkers = 0\n"),
	    at(cfg_path, 2,
		"'podop.workers' must be between 1 and 256 (got 0)"),
	    "[podop] range");
	is_str(cfg_fails("postfix_sql_dir = ''\n"),
	    at(cfg_path, 1, "'postfix_sql_dir' must not be empty"),
	    "empty path");
	is_str(cfg_fails("[podop]\nsocket_mode = '0999'\n"),
	    at(cfg_path, 2,
		"'podop.socket_mode' must be an octal mode such as \"0660\" "
		"(got '0999')"),
	    "socket_mode must be octal");
	is_str(cfg_fails("identity_backend = 'ldap'\n"),
	    at(cfg_path, 1,
		"'identity_backend' must be one of local, noauth, hybrid (got "
		"'ldap')"),
	    "bad identity backend");
	is_str(cfg_fails("identity_backend = 'hybird'\n"),
	    at(cfg_path, 1,
		"'identity_backend' must be one of local, noauth, hybrid (got "
		"'hybird'; did you mean 'hybrid'?)"),
	    "near identity backend");
	is_str(cfg_fails("postfix_sql_engine = 'oracle'\n"),
	    at(cfg_path, 1,
		"'postfix_sql_engine' must be empty or one of sqlite, mysql, "
		"pgsql (got 'oracle')"),
	    "bad engine");
	is_str(cfg_fails("default_password_scheme = 'PLAIN'\n"),
	    at(cfg_path, 1,
		"'default_password_scheme' must be one of "
		"BLF-CRYPT, SHA512-CRYPT, ARGON2I, ARGON2ID, MD5-CRYPT (got "
		"'PLAIN')"),
	    "bad scheme");
	is_str(cfg_fails("[postinod]\nlog_level = 'verbose'\n"),
	    at(cfg_path, 2,
		"'postinod.log_level' must be one of debug, info, "
		"warn, error (got 'verbose')"),
	    "bad log level");
	is_str(cfg_fails("[podop]\nmode = 'dict'\n"),
	    at(cfg_path, 2,
		"'podop.mode' must be one of postfix, dovecot (got 'dict')"),
	    "bad podop mode");
}

static void
test_values(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;
	struct conf_item *items;
	const struct conf_item *it;
	size_t n;

	reset_env();
	write_file(cfg_path,
	    "identity_backend = 'NOAUTH'\n"
	    "default_password_scheme = \"argon2id\"\n"
	    "postfix_sql_engine = 'PgSQL'\n"
	    "vacation_domain = \"auto\\u00e9.example\"\n"
	    "recipient_delimiter = ''\n"
	    "[postinod]\n"
	    "log_level = 'DEBUG'\n"
	    "[podop]\n"
	    "socket_mode = '600'\n"
	    "mode = 'dovecot'\n"
	    "[podop.tables]\n"
	    "web = 'url:http://127.0.0.1:8080/x?k={key}'\n"
	    "empty = 'static:'\n");
	setenv("POSTINO_POSTCREATION_HOOK", "/bin/hook \"a\"\\b\tc", 1);
	if (!ok(conf_load(&c, cfg_path, &err) == 0, "values load")) {
		diag("%s", err.msg);
		return;
	}
	is_int(c.identity_backend, IDENTITY_NOAUTH, "choices ignore case");
	is_str(c.default_password_scheme, "ARGON2ID", "scheme canonical");
	is_str(c.postfix_sql_engine, "pgsql", "engine canonical");
	is_str(c.postinod.log_level, "debug", "log level canonical");
	is_str(c.vacation_domain, "auto\xc3\xa9.example", "escape decoded");
	is_str(c.recipient_delimiter, "", "empty delimiter allowed");
	is_str(c.podop.socket_mode, "600", "three-digit mode");
	is_str(c.podop.mode, "dovecot", "podop mode");
	is_str(c.postcreation_hook, "/bin/hook \"a\"\\b\tc", "env string raw");
	if (c.podop.ntables == 2) {
		is_str(c.podop.tables[0].type, "url", "split at first ':'");
		is_str(c.podop.tables[0].param,
		    "http://127.0.0.1:8080/x?k={key}",
		    "param keeps later colons");
		is_str(c.podop.tables[1].param, "", "empty param allowed");
	} else
		ok(0, "two podop tables");

	conf_describe(&c, &items, &n);
	it = item(items, n, "identity_backend");
	is_str(it ? it->value : NULL, "\"noauth\"", "enum rendered as string");
	it = item(items, n, "postcreation_hook");
	is_str(it ? it->value : NULL, "\"/bin/hook \\\"a\\\"\\\\b\\tc\"",
	    "strings rendered escaped");
	is_str(it ? it->origin : NULL, "env POSTINO_POSTCREATION_HOOK",
	    "env origin");
	it = item(items, n, "vacation_domain");
	is_str(it ? it->value : NULL, "\"auto\xc3\xa9.example\"",
	    "UTF-8 rendered as is");
	it = item(items, n, "vmail_uid");
	is_str(it ? it->value : NULL, "-1", "integer rendered bare");
	it = item(items, n, "podop.tables.web");
	is_str(it ? it->value : NULL, "\"url:http://127.0.0.1:8080/x?k={key}\"",
	    "table rendered");
	conf_items_free(items, n);
	conf_release(&c);
	unsetenv("POSTINO_POSTCREATION_HOOK");

	is_str(cfg_fails("[podop.tables]\nx = 'nocolon'\n"),
	    at(cfg_path, 2,
		"podop table 'x': expected \"type:param\" such as "
		"\"sql:/etc/postfix/virtual.cf\" (got 'nocolon')"),
	    "table without type");
	is_str(cfg_fails("[podop.tables]\nx = ':/p'\n"),
	    at(cfg_path, 2,
		"podop table 'x': expected \"type:param\" such as "
		"\"sql:/etc/postfix/virtual.cf\" (got ':/p')"),
	    "table with empty type");
	is_str(cfg_fails("[podop.tables]\nx = 'a b:/p'\n"),
	    at(cfg_path, 2, "podop table 'x': bad table type 'a b'"),
	    "table type chars");
	is_str(cfg_fails("[podop.tables]\nx = 1\n"),
	    at(cfg_path, 2,
		"podop table 'x' must be a string \"type:param\", not an "
		"integer"),
	    "table value type");
}

static void
test_env(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;

	reset_env();
	setenv("POSTINO_BCRYPT_COST", "40", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_BCRYPT_COST: 'bcrypt_cost' must "
	    "be between 4 and 31 (got 40)",
	    "env range error");
	setenv("POSTINO_BCRYPT_COST", "5x", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_BCRYPT_COST: 'bcrypt_cost' must "
	    "be an integer ('5x': not a decimal integer)",
	    "env not integer");
	setenv("POSTINO_BCRYPT_COST", "010", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_BCRYPT_COST: 'bcrypt_cost' must "
	    "be an integer ('010': leading zeros are not allowed)",
	    "env leading zero");
	setenv("POSTINO_BCRYPT_COST", "", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_BCRYPT_COST: 'bcrypt_cost' must "
	    "be an integer ('': not a decimal integer)",
	    "env empty integer");
	setenv("POSTINO_BCRYPT_COST", " 5", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_BCRYPT_COST: 'bcrypt_cost' must "
	    "be an integer (' 5': not a decimal integer)",
	    "env no spaces");
	unsetenv("POSTINO_BCRYPT_COST");

	setenv("POSTINOD_LOG_LEVEL", "loud", 1);
	is_str(load_fails(NULL),
	    "env POSTINOD_LOG_LEVEL: 'postinod.log_level' "
	    "must be one of debug, info, warn, error (got 'loud')",
	    "POSTINOD_ choice error");
	unsetenv("POSTINOD_LOG_LEVEL");
	setenv("PODOP_SOCKET", "", 1);
	is_str(load_fails(NULL),
	    "env PODOP_SOCKET: 'podop.socket' must not "
	    "be empty",
	    "PODOP_ non-empty");
	unsetenv("PODOP_SOCKET");
	setenv("POSTINO_VMAIL_UID", "-1", 1);
	setenv("PODOP_CACHE_TTL", "0", 1);
	setenv("POSTINOD_LISTEN", "[::1]:9000", 1);
	setenv("POSTINO_MLMMJ_SPOOL_DIR", "/var/spool/mlmmj", 1);
	if (ok(conf_load(&c, NULL, &err) == 0, "env-only settings load")) {
		is_int(c.vmail_uid, -1, "POSTINO_VMAIL_UID");
		is_int(c.podop.cache_ttl, 0, "PODOP_CACHE_TTL");
		is_str(c.postinod.listen, "[::1]:9000", "POSTINOD_LISTEN");
		is_str(c.mlmmj_spool_dir, "/var/spool/mlmmj",
		    "POSTINO_MLMMJ_SPOOL_DIR");
		conf_release(&c);
	} else
		diag("%s", err.msg);
	setenv("POSTINO_RECIPIENT_DELIMITER", "a\nb", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_RECIPIENT_DELIMITER: control "
	    "characters are not allowed",
	    "env control character");
	setenv("POSTINO_RECIPIENT_DELIMITER", "\xff", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_RECIPIENT_DELIMITER: invalid "
	    "UTF-8",
	    "env bad UTF-8");
	reset_env();
}

static void
test_cross(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;
	char want[1024];

	reset_env();
	write_file(cfg_path,
	    "mlmmj_spool_dir = '/var/spool/mlmmj'\n"
	    "mlmmj_uid = 5000\n");
	snprintf(want, sizeof(want),
	    "'mlmmj_uid' and 'mlmmj_gid' must both "
	    "be set or both be -1 when 'mlmmj_spool_dir' is set (mlmmj_uid = "
	    "5000 from %s:2, mlmmj_gid = -1 from default)",
	    cfg_path);
	is_str(load_fails(cfg_path), want, "mlmmj uid without gid");
	setenv("POSTINO_MLMMJ_GID", "5001", 1);
	if (ok(conf_load(&c, cfg_path, &err) == 0,
		"gid from env completes "
		"the pair")) {
		is_int(c.mlmmj_gid, 5001, "mlmmj_gid");
		conf_release(&c);
	}
	setenv("POSTINO_MLMMJ_GID", "-1", 1);
	setenv("POSTINO_MLMMJ_UID", "-1", 1);
	ok(conf_load(&c, cfg_path, &err) == 0, "both -1 is fine");
	conf_release(&c);
	setenv("POSTINO_MLMMJ_UID", "7", 1);
	setenv("POSTINO_MLMMJ_SPOOL_DIR", "", 1);
	ok(conf_load(&c, cfg_path, &err) == 0, "no spool, no rule");
	conf_release(&c);
	reset_env();

	write_file(cfg_path, "[postinod]\ntls_cert = '/etc/ssl/c.pem'\n");
	snprintf(want, sizeof(want),
	    "'postinod.tls_cert' and "
	    "'postinod.tls_key' must be set together (tls_cert from %s:2, "
	    "tls_key from default)",
	    cfg_path);
	is_str(load_fails(cfg_path), want, "tls_cert without tls_key");
	setenv("POSTINOD_TLS_KEY", "/etc/ssl/k.pem", 1);
	ok(conf_load(&c, cfg_path, &err) == 0, "tls pair complete");
	conf_release(&c);
	reset_env();

	/* public_url: an http(s) base, never a query or fragment. */
	{
		static const char *const bad[] = { "mail.example.org",
			"ftp://mail.example.org", "https://",
			"https://mail.example.org/?a=b",
			"https://mail.example.org/#top",
			"https://u@mail.example.org", "https://a b.org" };
		size_t i;

		write_file(cfg_path, "");
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			setenv("POSTINOD_PUBLIC_URL", bad[i], 1);
			ok(strstr(load_fails(cfg_path),
			       "'postinod.public_url' (from env "
			       "POSTINOD_PUBLIC_URL)") != NULL,
			    "public_url %s is refused", bad[i]);
		}
		setenv("POSTINOD_PUBLIC_URL",
		    "https://mail.example.org:8443/idp/", 1);
		if (ok(conf_load(&c, cfg_path, &err) == 0,
			"public_url with port and path")) {
			is_str(c.postinod.public_url,
			    "https://mail.example.org:8443/idp/", "public_url");
			conf_release(&c);
		}
		reset_env();
	}
}

static void
test_misc(void)
{
	struct postino_conf c;
	char *p;

	conf_defaults(&c);
	p = conf_sql_path(&c, "sql-virtual_mailbox_maps.cf");
	is_str(p, "/etc/postfix/sql-virtual_mailbox_maps.cf", "sql path");
	free(p);
	free(c.postfix_sql_dir);
	c.postfix_sql_dir = xstrdup("/srv/pf/");
	p = conf_sql_path(&c, "x.cf");
	is_str(p, "/srv/pf/x.cf", "no doubled slash");
	free(p);
	conf_release(&c);

	is_str(identity_backend_name(IDENTITY_LOCAL), "local", "local");
	is_str(identity_backend_name(IDENTITY_NOAUTH), "noauth", "noauth");
	is_str(identity_backend_name(IDENTITY_HYBRID), "hybrid", "hybrid");
	is_str(identity_backend_name((enum identity_backend)7), "unknown",
	    "out of range");
}

/* Booleans (the seccomp keys): true/false in files and variables. */
static void
test_booleans(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;
	struct conf_item *items;
	const struct conf_item *it;
	size_t n;

	reset_env();
	if (ok(conf_load(&c, NULL, &err) == 0, "defaults load")) {
		ok(!c.podop.seccomp && !c.postinod.seccomp,
		    "seccomp is off by default");
		conf_describe(&c, &items, &n);
		it = item(items, n, "podop.seccomp");
		if (ok(it != NULL, "podop.seccomp is described")) {
			is_str(it->value, "false", "rendered as TOML");
			is_str(it->default_value, "false", "default as TOML");
			is_str(it->env, "PODOP_SECCOMP", "its variable");
		}
		conf_items_free(items, n);
		conf_release(&c);
	}
	write_file(cfg_path,
	    "[podop]\nseccomp = true\n[postinod]\n"
	    "seccomp = false\n");
	if (ok(conf_load(&c, cfg_path, &err) == 0, "booleans from a file")) {
		ok(c.podop.seccomp, "podop.seccomp = true");
		ok(!c.postinod.seccomp, "postinod.seccomp = false");
		conf_describe(&c, &items, &n);
		it = item(items, n, "podop.seccomp");
		if (ok(it != NULL, "described"))
			is_str(it->value, "true", "true rendered");
		conf_items_free(items, n);
		conf_release(&c);
	} else
		diag("%s", err.msg);
	is_str(cfg_fails("[podop]\nseccomp = \"yes\"\n"),
	    at(cfg_path, 2,
		"'podop.seccomp' must be true or false, not a string"),
	    "a string is not a boolean");
	is_str(cfg_fails("[postinod]\nseccomp = 1\n"),
	    at(cfg_path, 2,
		"'postinod.seccomp' must be true or false, not an integer"),
	    "an integer is not a boolean");
	is_str(cfg_fails("[podop]\nworkers = true\n"),
	    at(cfg_path, 2,
		"'podop.workers' must be an integer, not a boolean"),
	    "a boolean is not an integer");
	unlink(cfg_path);
	setenv("POSTINOD_SECCOMP", "true", 1);
	if (ok(conf_load(&c, NULL, &err) == 0,
		"a boolean from the "
		"environment")) {
		ok(c.postinod.seccomp, "POSTINOD_SECCOMP=true");
		conf_release(&c);
	}
	setenv("POSTINOD_SECCOMP", "1", 1);
	is_str(load_fails(NULL),
	    "env POSTINOD_SECCOMP: 'postinod.seccomp' "
	    "must be true or false (got '1')",
	    "env: only true or false");
	reset_env();
}

/* What a working Python postino configuration held is taken, or the
 * refusal says what to write instead. */
static void
test_python_values(void)
{
	struct postino_conf c;
	struct err err = ERR_INIT;

	reset_env();
	write_file(cfg_path,
	    "postcreation_hook_timeout = 30.0\n"
	    "[postinod]\n"
	    "log_level = \"WARNING\"\n"
	    "scim_jwks_refresh_seconds = 1.5e3\n"
	    "scim_max_token_age_seconds = 59.2\n");
	if (ok(conf_load(&c, cfg_path, &err) == 0, "python floats load")) {
		is_int(c.postcreation_hook_timeout, 30, "30.0 seconds");
		is_int(c.postinod.scim_jwks_refresh_seconds, 1500, "1.5e3");
		is_int(c.postinod.scim_max_token_age_seconds, 60,
		    "fractions are rounded up");
		is_str(c.postinod.log_level, "warn", "WARNING is warn");
		conf_release(&c);
	} else
		diag("%s", err.msg);
	for (size_t i = 0; i < 3; i++) {
		static const char *const in[] = { "CRITICAL", "fatal",
			"Error" };
		char text[128];

		snprintf(text, sizeof(text), "[postinod]\nlog_level = '%s'\n",
		    in[i]);
		write_file(cfg_path, text);
		err_clear(&err);
		if (ok(conf_load(&c, cfg_path, &err) == 0, "log level %s",
			in[i])) {
			is_str(c.postinod.log_level, "error", "%s is error",
			    in[i]);
			conf_release(&c);
		}
	}
	setenv("POSTINO_POSTCREATION_HOOK_TIMEOUT", "2.5", 1);
	setenv("POSTINOD_LOG_LEVEL", "critical", 1);
	err_clear(&err);
	if (ok(conf_load(&c, NULL, &err) == 0, "python values in env")) {
		is_int(c.postcreation_hook_timeout, 3, "env 2.5 seconds");
		is_str(c.postinod.log_level, "error", "env critical");
		conf_release(&c);
	}
	reset_env();
	is_str(cfg_fails("vmail_uid = 5000.0\n"),
	    at(cfg_path, 1,
		"'vmail_uid' must be an integer, not a float (write "
		"vmail_uid = 5000)"),
	    "a float uid says what to write");
	is_str(cfg_fails("[podop]\nworkers = 2.0\n"),
	    at(cfg_path, 2,
		"'podop.workers' must be an integer, not a float (write "
		"workers = 2)"),
	    "in a table: the key as written there");
	is_str(cfg_fails("vmail_uid = 1.5\n"),
	    at(cfg_path, 1,
		"'vmail_uid' must be an integer, not a float (got 1.5)"),
	    "a fractional uid");
	is_str(cfg_fails("postcreation_hook_timeout = 0.0\n"),
	    at(cfg_path, 1,
		"'postcreation_hook_timeout' must be between 1 and 3600 "
		"seconds (got 0)"),
	    "seconds out of range");
	is_str(cfg_fails("postcreation_hook_timeout = inf\n"),
	    at(cfg_path, 1,
		"'postcreation_hook_timeout' must be a number of seconds, "
		"not inf"),
	    "infinite seconds");
	is_str(cfg_fails("vmail_gid = 'x'\n[core]\nidentity_backend = "
			 "\"local\"\nvmail_uid = 5000\n"),
	    at(cfg_path, 2,
		"there is no [core] table (Python postino ignored it, so its "
		"keys were never read): delete the [core] line and write "
		"identity_backend = \"local\"; vmail_uid = 5000 at the top "
		"of the file, above any [table] header (unless already "
		"there)"),
	    "[core] says what to write, before any other check");
	setenv("POSTINO_VMAIL_UID", "5000.0", 1);
	is_str(load_fails(NULL),
	    "env POSTINO_VMAIL_UID: 'vmail_uid' must be an integer, not a "
	    "float (write POSTINO_VMAIL_UID=5000)",
	    "env: a float uid says what to write");
	reset_env();
}

int
main(void)
{
	char dir[300];

	if (access("/etc/postino/postino.toml", F_OK) == 0 ||
	    access("/usr/local/etc/postino/postino.toml", F_OK) == 0) {
		printf("1..0 # SKIP a system postino.toml exists\n");
		return 0;
	}
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/.config", tmp);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.config/postino", tmp);
	mkdir(dir, 0700);
	snprintf(user_path, sizeof(user_path), "%s/postino.toml", dir);
	snprintf(cfg_path, sizeof(cfg_path), "%s/cfg.toml", tmp);
	snprintf(other_path, sizeof(other_path), "%s/other.toml", tmp);

	test_defaults();
	test_no_files();
	test_precedence();
	test_missing();
	test_unknown();
	test_types_and_ranges();
	test_values();
	test_env();
	test_booleans();
	test_cross();
	test_misc();
	test_python_values();

	reset_env();
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/.config", tmp);
	rmdir(dir);
	rmdir(tmp);
	return done_testing();
}
