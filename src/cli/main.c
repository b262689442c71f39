/*
 * postino(8): administer Postfix + Dovecot mail on the PostfixAdmin schema.
 *
 * The command table below is the single source for dispatch, option
 * parsing, --help, "postino help" and the documentation check.  Global
 * options (--json, --quiet, --no-color, -c/--config) may appear anywhere on
 * the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf.h"
#include "cli.h"
#include "maildir.h"
#include "harden.h"
#include "log.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define EX_USAGE 64

static const struct cli_opt no_opts[] = { { NULL, 0, NULL, NULL } };

static const struct cli_opt domain_add_opts[] = {
	{ "description", O_DESCRIPTION, "TEXT", "free text shown in listings" },
	{ "max-mailboxes", O_MAX_MAILBOXES, "N",
	    "mailbox limit (0 unlimited, -1 none allowed)" },
	{ "max-aliases", O_MAX_ALIASES, "N",
	    "alias limit (0 unlimited, -1 none allowed)" },
	{ "max-quota", O_MAX_QUOTA, "QUOTA",
	    "largest quota one mailbox may have (0 unlimited)" },
	{ "default-quota", O_DEFAULT_QUOTA, "QUOTA",
	    "quota of new mailboxes (default: --max-quota, or unlimited)" },
	{ "domain-quota", O_DOMAIN_QUOTA, "QUOTA",
	    "total of all mailbox quotas (0 unlimited)" },
	{ "transport", O_TRANSPORT, "T",
	    "virtual (default), lmtp, relay or a Postfix transport" },
	{ "backupmx", O_BACKUPMX, NULL, "this host is a backup MX" },
	{ "no-backupmx", O_NO_BACKUPMX, NULL, "this host is not a backup MX" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt domain_del_opts[] = {
	{ "yes", 'y', NULL, "do not ask for confirmation" },
	{ "force", O_FORCE, NULL,
	    "also delete its mailboxes, aliases and alias domains" },
	{ "keep-maildir", O_KEEP_MAILDIR, NULL, "leave the maildirs on disk" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt adom_add_opts[] = {
	{ "target", O_TARGET, "DOMAIN", "the domain it is an alias of" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt adom_list_opts[] = {
	{ "target", O_TARGET, "DOMAIN", "only aliases of this domain" },
	{ "all", O_ALL, NULL, "include disabled alias domains" },
	{ "enabled-only", O_ENABLED_ONLY, NULL, "only enabled (the default)" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt yes_opts[] = { { "yes", 'y', NULL,
					       "do not ask for confirmation" },
	{ NULL, 0, NULL, NULL } };
static const struct cli_opt user_add_opts[] = { { "name", O_NAME, "TEXT",
						    "the person's name" },
	{ "quota", O_QUOTA, "QUOTA",
	    "mailbox quota (default: the domain's default quota)" },
	{ "scheme", O_SCHEME, "SCHEME",
	    "BLF-CRYPT, SHA512-CRYPT, ARGON2I, ARGON2ID or MD5-CRYPT" },
	{ "password-stdin", O_PASSWORD_STDIN, NULL,
	    "read the password as one line from stdin" },
	{ "disabled", O_DISABLED, NULL, "create the mailbox disabled" },
	{ "no-hook", O_NO_HOOK, NULL, "do not run the post-creation hook" },
	{ NULL, 0, NULL, NULL } };
static const struct cli_opt user_del_opts[] = {
	{ "yes", 'y', NULL, "do not ask for confirmation" },
	{ "keep-maildir", O_KEEP_MAILDIR, NULL, "leave the maildir on disk" },
	{ "remove-maildir", O_REMOVE_MAILDIR, NULL,
	    "remove the maildir (the default)" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt user_list_opts[] = {
	{ "domain", O_DOMAIN, "DOMAIN", "only mailboxes of this domain" },
	{ "all", O_ALL, NULL, "include disabled mailboxes" },
	{ "enabled-only", O_ENABLED_ONLY, NULL, "only enabled (the default)" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt user_passwd_opts[] = {
	{ "scheme", O_SCHEME, "SCHEME", "hash scheme (default from config)" },
	{ "claim", O_CLAIM, NULL,
	    "take an IdP-managed mailbox into SQL auth (hybrid)" },
	{ "password-stdin", O_PASSWORD_STDIN, NULL,
	    "read the password as one line from stdin" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt user_quota_opts[] = {
	{ "set", O_SET, "QUOTA", "set the quota (0 = unlimited)" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt alias_list_opts[] = {
	{ "domain", O_DOMAIN, "DOMAIN", "only aliases of this domain" },
	{ "mailboxes", O_MAILBOXES, NULL,
	    "include the self-alias rows of mailboxes" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt quota_opts[] = {
	{ "domain", O_DOMAIN, "DOMAIN", "only mailboxes of this domain" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt check_opts[] = {
	{ "deep", 'd', NULL,
	    "also check rows, maildirs, spools and Dovecot passdbs" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt reconcile_opts[] = {
	{ "source", O_SOURCE, "SOURCE",
	    "where the people come from: scim-json or zitadel" },
	{ "apply", O_APPLY, NULL,
	    "make the changes, one transaction per person" },
	{ "yes", 'y', NULL, "do not ask for confirmation" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt export_opts[] = {
	{ "domain", O_DOMAIN, "DOMAIN", "only this domain and what is in it" },
	{ "format", O_FORMAT, "FORMAT", "jsonl (default) or csv" },
	{ "output", 'o', "FILE",
	    "write to FILE (mode 0600) instead of stdout" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt schema_migrate_opts[] = {
	{ "dry-run", O_DRY_RUN, NULL,
	    "print the data repairs, change nothing" },
	{ NULL, 0, NULL, NULL },
};

static const struct cli_opt import_opts[] = {
	{ "dry-run", O_DRY_RUN, NULL, "print the plan, change nothing" },
	{ "update", O_UPDATE, NULL, "also change what differs" },
	{ "prune", O_PRUNE, NULL,
	    "also delete, in the domains named, what the input lacks" },
	{ "format", O_FORMAT, "FORMAT",
	    "jsonl (default; csv for *.csv) or csv" },
	{ "batch", O_BATCH, "N", "records per transaction (default 500)" },
	{ "no-hook", O_NO_HOOK, NULL, "do not run the post-creation hook" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt config_show_opts[] = {
	{ "nondefault", 'n', NULL,
	    "only settings that differ from the defaults" },
	{ "defaults", 'd', NULL, "the built-in defaults" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt config_gen_opts[] = {
	{ "out", O_OUT, "DIR", "output directory (default ./postino-cfg)" },
	{ "in-place", O_IN_PLACE, NULL,
	    "replace an existing DIR, keeping it as DIR.bak" },
	{ "lookups", O_LOOKUPS, "HOW",
	    "sql (default: sql-*.cf maps, Dovecot SQL) or podop" },
	{ "dovecot", O_DOVECOT, "VERSION",
	    "2.3 or 2.4 syntax (default: the installed Dovecot's)" },
	{ "only", O_ONLY, "NAMES",
	    "only these, comma-separated: postfix, dovecot, podop, or one file's name (main_cf, sql_maps, sql_mailbox, dovecot_auth...)" },
	{ "skip", O_SKIP, "NAMES", "all but these" },
	{ "identity-backend", O_IDENTITY, "B",
	    "local, noauth or hybrid (default from postino.toml)" },
	{ "postfix-dir", O_POSTFIX_DIR, "DIR",
	    "where the Postfix files go (default postfix_sql_dir)" },
	{ "dovecot-dir", O_DOVECOT_DIR, "DIR",
	    "where the Dovecot files go (default dovecot_conf_dir)" },
	{ "queue-dir", O_QUEUE_DIR, "DIR",
	    "Postfix's queue_directory (default /var/spool/postfix)" },
	{ "podop-socket", O_PODOP_SOCKET, "SOCKET",
	    "podop's socketmap for Postfix (default [podop] socket)" },
	{ "podop-dict-socket", O_PODOP_DICT_SOCKET, "SOCKET",
	    "podop's dict for Dovecot (default unix:/run/podop/podop-dict.sock)" },
	{ "mlmmj-user", O_MLMMJ_USER, "USER",
	    "who runs mlmmj (default: mlmmj_uid's name, or mlmmj)" },
	{ "dry-run", O_DRY_RUN, NULL, "list the files, write nothing" },
	/* Python postino's options, with their meaning in postino's model. */
	{ "vmail-uid", O_VMAIL_UID, "UID",
	    "owner of the maildirs, for Dovecot (default vmail_uid)" },
	{ "vmail-gid", O_VMAIL_GID, "GID",
	    "group of the maildirs, for Dovecot (default vmail_gid)" },
	{ "mlmmj-spool", O_MLMMJ_SPOOL, "DIR",
	    "the mlmmj spool (default mlmmj_spool_dir)" },
	{ "mlmmj-uid", O_MLMMJ_USER, "USER", "the same as --mlmmj-user" },
	{ "mlmmj-gid", O_MLMMJ_GID, "GROUP",
	    "taken and unused, as in Python postino" },
	{ "no-preflight", O_NO_PREFLIGHT, NULL,
	    "taken; there is no preflight to skip" },
	{ "no-postcheck", O_NO_POSTCHECK, NULL,
	    "taken; there is no post-check to skip" },
	{ "db-url", O_DB_URL, "URL",
	    "refused: the database is the one of the Postfix maps" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt list_add_opts[] = {
	{ "owner", O_OWNER, "ADDRESS",
	    "a list owner (repeat for more; at least one)" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt list_ls_opts[] = {
	{ "domain", O_DOMAIN, "DOMAIN", "only lists of this domain" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt list_rm_opts[] = {
	{ "yes", 'y', NULL, "do not ask for confirmation" },
	{ "force", O_FORCE, NULL, "delete it even with subscribers" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt init_opts[] = {
	{ "dir", O_DIR, "DIR", "where to write postino.toml and the maps" },
	{ "engine", O_ENGINE, "ENGINE", "sqlite (default), mysql or pgsql" },
	{ "db", O_DB, "PATH", "SQLite database (default DIR/postino.sqlite)" },
	{ "hosts", O_HOSTS, "HOSTS",
	    "MySQL/PostgreSQL server: host:port, unix:/path or inet:h:p" },
	{ "user", O_USER, "NAME", "database user" },
	{ "dbname", O_DBNAME, "NAME", "database name" },
	{ "password-stdin", O_PASSWORD_STDIN, NULL,
	    "read the database password from stdin" },
	{ "mail-root", O_MAIL_ROOT, "DIR",
	    "virtual_mailbox_base (default DIR/vmail)" },
	{ "vmail-uid", O_VMAIL_UID, "UID", "owner of maildirs (-1: no chown)" },
	{ "vmail-gid", O_VMAIL_GID, "GID", "group of maildirs (-1: no chown)" },
	{ "hook", O_HOOK, "PATH", "post-creation hook" },
	{ "identity-backend", O_IDENTITY, "B",
	    "local (default), noauth, hybrid" },
	{ "no-schema", O_NO_SCHEMA, NULL,
	    "do not create or migrate the schema" },
	{ "force", O_FORCE, NULL,
	    "rewrite the maps (old ones kept as .bak); postino.toml is kept" },
	{ NULL, 0, NULL, NULL }
};

const struct cli_cmd cli_commands[] = {
	{ "init", cmd_init, "--dir DIR", "set up a working configuration",
	    init_opts,
	    "postino init --dir /etc/postino\n"
	    "  printf '%s\\n' \"$DBPASS\" | postino init --dir /etc/postino --engine pgsql --hosts 127.0.0.1:5432 --user postfix --dbname postfix --password-stdin",
	    0 },
	{ "domain add", cmd_domain_add, "DOMAIN", "add a mail domain",
	    domain_add_opts,
	    "postino domain add example.org --max-mailboxes 100 --default-quota 5G --max-quota 50G",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain list", cmd_domain_list, "", "list domains", no_opts,
	    "postino domain list --json", CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain show", cmd_domain_show, "DOMAIN", "show one domain", no_opts,
	    "postino domain show example.org", CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain enable", cmd_domain_enable, "DOMAIN", "enable a domain",
	    no_opts, "postino domain enable example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain disable", cmd_domain_disable, "DOMAIN", "disable a domain",
	    no_opts, "postino domain disable example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain del", cmd_domain_del, "DOMAIN", "delete a domain",
	    domain_del_opts, "postino domain del example.org --yes",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias add", cmd_adom_add, "ALIAS-DOMAIN --target DOMAIN",
	    "make a domain an alias of another", adom_add_opts,
	    "postino domain alias add example.net --target example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias list", cmd_adom_list, "", "list alias domains",
	    adom_list_opts, "postino domain alias list --all",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias show", cmd_adom_show, "ALIAS-DOMAIN",
	    "show one alias domain", no_opts,
	    "postino domain alias show example.net",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias retarget", cmd_adom_retarget,
	    "ALIAS-DOMAIN --target DOMAIN", "point an alias domain elsewhere",
	    adom_add_opts,
	    "postino domain alias retarget example.net --target example.com",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias enable", cmd_adom_enable, "ALIAS-DOMAIN",
	    "enable an alias domain", no_opts,
	    "postino domain alias enable example.net",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias disable", cmd_adom_disable, "ALIAS-DOMAIN",
	    "disable an alias domain", no_opts,
	    "postino domain alias disable example.net",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "domain alias del", cmd_adom_del, "ALIAS-DOMAIN",
	    "delete an alias domain", yes_opts,
	    "postino domain alias del example.net --yes",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user add", cmd_user_add, "ADDRESS", "add a mailbox", user_add_opts,
	    "postino user add alice@example.org --name 'Alice' --quota 5G\n"
	    "  printf '%s\\n' \"$PW\" | postino user add bob@example.org --password-stdin",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user del", cmd_user_del, "ADDRESS", "delete a mailbox",
	    user_del_opts, "postino user del alice@example.org --yes",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user list", cmd_user_list, "", "list mailboxes", user_list_opts,
	    "postino user list --domain example.org --all",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user show", cmd_user_show, "ADDRESS", "show one mailbox", no_opts,
	    "postino user show alice@example.org --json",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user passwd", cmd_user_passwd, "ADDRESS", "set a mailbox password",
	    user_passwd_opts, "postino user passwd alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user enable", cmd_user_enable, "ADDRESS", "enable a mailbox",
	    no_opts, "postino user enable alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user disable", cmd_user_disable, "ADDRESS", "disable a mailbox",
	    no_opts, "postino user disable alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user quota", cmd_user_quota, "ADDRESS",
	    "show or set a mailbox quota", user_quota_opts,
	    "postino user quota alice@example.org --set 10G",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user release", cmd_user_release, "ADDRESS",
	    "hand a mailbox's password back to the IdP (hybrid)", no_opts,
	    "postino user release alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user rename", cmd_user_rename, "OLD NEW",
	    "rename a mailbox with its aliases and maildir", no_opts,
	    "postino user rename alice@example.org alice.smith@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "user name", cmd_user_name, "ADDRESS NAME",
	    "set the person's name of a mailbox", no_opts,
	    "postino user name alice@example.org 'Alice Smith'",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias add", cmd_alias_add, "ADDRESS DEST[,DEST...]",
	    "add an alias (ADDRESS may be @domain for a catch-all)", no_opts,
	    "postino alias add info@example.org alice@example.org,bob@example.org\n  postino alias add @example.org alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias edit", cmd_alias_edit, "ADDRESS DEST[,DEST...]",
	    "replace an alias's destinations", no_opts,
	    "postino alias edit info@example.org carol@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias list", cmd_alias_list, "", "list aliases", alias_list_opts,
	    "postino alias list --domain example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias show", cmd_alias_show, "ADDRESS", "show one alias", no_opts,
	    "postino alias show info@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias enable", cmd_alias_enable, "ADDRESS", "enable an alias",
	    no_opts, "postino alias enable info@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias disable", cmd_alias_disable, "ADDRESS", "disable an alias",
	    no_opts, "postino alias disable info@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "alias del", cmd_alias_del, "ADDRESS", "delete an alias", yes_opts,
	    "postino alias del info@example.org --yes",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list add", cmd_list_add, "LIST --owner ADDRESS",
	    "create an mlmmj mailing list", list_add_opts,
	    "postino list add team@lists.example.org --owner alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list sub", cmd_list_sub, "LIST ADDRESS",
	    "subscribe an address (silently)", no_opts,
	    "postino list sub team@lists.example.org bob@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list unsub", cmd_list_unsub, "LIST ADDRESS",
	    "unsubscribe an address (silently)", no_opts,
	    "postino list unsub team@lists.example.org bob@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list show", cmd_list_show, "LIST",
	    "show a list with its subscribers", no_opts,
	    "postino list show team@lists.example.org --json",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list ls", cmd_list_ls, "", "list the mailing lists", list_ls_opts,
	    "postino list ls --domain lists.example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "list rm", cmd_list_rm, "LIST",
	    "delete a list with its spool, routes and owner alias",
	    list_rm_opts, "postino list rm team@lists.example.org --yes",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "quota show", cmd_quota_show, "[ADDRESS]",
	    "bytes and messages used, from quota2", quota_opts,
	    "postino quota show alice@example.org",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "status", cmd_status, "", "row counts of the mail database", no_opts,
	    "postino status --json", CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "check", cmd_check, "",
	    "validate the database, Postfix maps, maildirs and list spools",
	    check_opts, "postino check --deep", CMD_CONF },
	{ "reconcile", cmd_reconcile, "--source scim-json FILE | zitadel",
	    "compare the identity provider's people with the mailboxes",
	    reconcile_opts,
	    "postino reconcile --source scim-json users.json\n"
	    "  postino reconcile --source scim-json users.json --apply --yes\n"
	    "  postino reconcile --source zitadel --json",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "export", cmd_export, "",
	    "write domains, mailboxes and aliases as JSON lines or CSV",
	    export_opts,
	    "postino export -o /root/mail.jsonl\n"
	    "  postino export --domain example.org --format csv",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "import", cmd_import, "FILE|-",
	    "create (and update) what a file describes", import_opts,
	    "postino import --dry-run mail.jsonl\n"
	    "  postino import --update mail.jsonl",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ "schema init", cmd_schema_init, "",
	    "create the PostfixAdmin schema on an empty database", no_opts,
	    "postino schema init", CMD_CONF | CMD_DB | CMD_CREATE },
	{ "schema migrate", cmd_schema_migrate, "",
	    "add what postino needs to an existing PostfixAdmin schema",
	    schema_migrate_opts, "postino schema migrate --dry-run",
	    CMD_CONF | CMD_DB },
	{ "schema version", cmd_schema_version, "",
	    "show the schema versions found", no_opts,
	    "postino schema version --json", CMD_CONF | CMD_DB },
	{ "config show", cmd_config_show, "",
	    "show effective settings and where they come from",
	    config_show_opts, "postino config show -n", CMD_CONF },
	{ "config gen", cmd_config_gen, "",
	    "write the Postfix, Dovecot and podop configuration",
	    config_gen_opts,
	    "postino config gen --out /root/mailcfg\n"
	    "  postino config gen --out /root/mailcfg --lookups podop --in-place",
	    CMD_CONF | CMD_DB | CMD_SCHEMA },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 }
};

static const char *progname = "postino";

/* --- messages ------------------------------------------------------- */

const char *
color_on(const struct cli *c, int color)
{
	static const char *const codes[] = { "", "\033[32m", "\033[31m",
		"\033[33m", "\033[2m", "\033[1m" };

	if (!c->color || color <= 0 || color > 5)
		return "";
	return codes[color];
}

const char *
color_off(const struct cli *c)
{
	return c->color ? "\033[0m" : "";
}

static void
vmsg(struct cli *c, const char *label, int color, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s%s%s", progname,
	    c->ecolor ? (color == 2 ? "\033[1;31m" : "\033[1;33m") : "", label,
	    c->ecolor ? "\033[0m" : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_errorf(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, "error: ", 2, fmt, ap);
	va_end(ap);
}

/*
 * Warnings and notes are diagnostics: they go through the daemons' logger
 * (log.h, set up in main()), one line each, "postino: warning: ..." and
 * "postino: ...".  Errors, hints, usage and the commands' output are the
 * CLI's own and stay below and in the commands.
 */
void
cli_warnf(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	(void)c;
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}

void
cli_infof(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

void
cli_error(struct cli *c, const struct err *e)
{
	cli_errorf(c, "%s", e->msg[0] ? e->msg : err_kind_name(e->kind));
	if (e->hint[0] != '\0')
		fprintf(stderr, "%s: hint: %s\n", progname, e->hint);
}

int
cli_fail(struct cli *c, const struct err *e)
{
	if (e->kind == ERR_INTERNAL)
		cli_errorf(c,
		    "internal error (a bug in postino; please report it): %s",
		    e->msg);
	else
		cli_error(c, e);
	return err_exit_code(e->kind == ERR_OK ? ERR_INTERNAL : e->kind);
}

static void
print_cmd_usage(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "usage: %s %s%s%s%s\n", progname, cmd->name,
	    cmd->opts[0].name != NULL ? " [options]" : "",
	    cmd->args[0] ? " " : "", cmd->args);
}

int
cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, "error: ", 2, fmt, ap);
	va_end(ap);
	if (c->cmd != NULL) {
		print_cmd_usage(stderr, c->cmd);
		fprintf(stderr, "Try '%s %s --help' for more.\n", progname,
		    c->cmd->name);
	} else
		fprintf(stderr, "Try '%s --help' for the list of commands.\n",
		    progname);
	return EX_USAGE;
}

/* --- help ------------------------------------------------------------ */

static void
print_opt_help(FILE *f, const struct cli_opt *o)
{
	char left[64];

	if (o->key < 256)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	fprintf(f, "  %-28s %s\n", left, o->help);
}

/*
 * The global options (floated out of argv by main()) and the options of
 * "help", for --help and the listings below.  Long-only options have a key
 * above 255, as in the command tables.
 */
static const struct cli_opt global_opts[] = {
	{ "json", 256, NULL, "one JSON document on stdout" },
	{ "quiet", 'q', NULL, "no informational messages" },
	{ "no-color", 256, NULL, "no colours (also NO_COLOR=1)" },
	{ "config", 'c', "FILE", "use FILE instead of $POSTINO_CONFIG" },
	{ "help", 'h', NULL,
	    "this help ('postino CMD --help' for one command)" },
	{ "version", 'V', NULL, "version and built-in features" },
	{ NULL, 0, NULL, NULL }
};
static const struct cli_opt help_opts[] = {
	{ "commands", 256, NULL, "list every command, one per line" },
	{ "options", 256, NULL,
	    "list the options of COMMAND (without one: the global options), one spelling per line" },
	{ "args", 256, NULL, "print the arguments COMMAND takes" },
	{ NULL, 0, NULL, NULL }
};

static void
print_cmd_help(const struct cli_cmd *cmd)
{
	print_cmd_usage(stdout, cmd);
	printf("\n%s.\n", cmd->summary);
	if (cmd->opts[0].name != NULL) {
		printf("\nOptions:\n");
		for (const struct cli_opt *o = cmd->opts; o->name != NULL; o++)
			print_opt_help(stdout, o);
	}
	printf(
	    "\nGlobal options: --json, --quiet, --no-color, -c/--config FILE (see 'postino --help').\n");
	printf("\nExample:\n  %s\n", cmd->example);
}

static void
print_main_help(void)
{
	char group[32] = "";

	printf(
	    "usage: %s [--json] [--quiet] [--no-color] [-c FILE] COMMAND [ARGS]\n\n",
	    progname);
	printf(
	    "Administer Postfix and Dovecot mail on the PostfixAdmin SQL schema.\n\nCommands:\n");
	for (const struct cli_cmd *c = cli_commands; c->name != NULL; c++) {
		char g[32];

		snprintf(
		    g, sizeof(g), "%.*s", (int)strcspn(c->name, " "), c->name);
		if (group[0] != '\0' && strcmp(g, group) != 0)
			printf("\n");
		str_copy(group, g, sizeof(group));
		printf("  %-24s %s\n", c->name, c->summary);
	}
	printf("\n  %-24s %s\n", "help [COMMAND]",
	    "this help, or one command's with an example");
	printf("\nGlobal options:\n");
	for (const struct cli_opt *o = global_opts; o->name != NULL; o++)
		print_opt_help(stdout, o);
	printf(
	    "\nExit status: 0 ok, 1 not found, 2 already exists, 3 capacity, 4 configuration\nor invalid input, 5 database, 6 filesystem, 7 hook, 8 deadlock, 9 mlmmj,\n10 rule violation, 64 usage, 75 temporary failure, 77 denied, 99 internal\nerror.  See postino(8).\n");
}

/*
 * The commands of a group: "postino user --help", "postino help domain
 * alias".  argv holds the group's words, then --help or -h when need_help.
 * Returns false, printing nothing, when they name no group.
 */
static bool
print_group_help(int argc, char **argv, bool need_help)
{
	char prefix[128] = "";
	size_t len = 0;
	int n = argc;
	bool any = false;

	if (n > 0 &&
	    (strcmp(argv[n - 1], "--help") == 0 ||
		strcmp(argv[n - 1], "-h") == 0))
		n--;
	else if (need_help)
		return false;
	for (int i = 0; i < n; i++) {
		int w = snprintf(prefix + len, sizeof(prefix) - len, "%s%s",
		    i > 0 ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(prefix) - len)
			return false;
		len += (size_t)w;
	}
	for (const struct cli_cmd *k = cli_commands; k->name && len > 0; k++)
		if (strncmp(k->name, prefix, len) == 0 && k->name[len] == ' ')
			any = true;
	if (!any)
		return false;
	printf("usage: %s %s COMMAND [ARGS]\n\nCommands:\n", progname, prefix);
	for (const struct cli_cmd *k = cli_commands; k->name; k++)
		if (strncmp(k->name, prefix, len) == 0 && k->name[len] == ' ')
			printf("  %-24s %s\n", k->name, k->summary);
	printf("\nRun '%s help %s COMMAND' for its options and an example.\n",
	    progname, prefix);
	return true;
}

static void
print_version(void)
{
	bool missing = false;

	/* Only the engines whose drivers load: a module its package did not
	 * install is named apart, with that package. */
	printf("postino %s\nengines:", POSTINO_VERSION);
	for (int e = DB_ENGINE_SQLITE; e <= DB_ENGINE_PGSQL; e++)
		if (db_engine_available((enum db_engine)e))
			printf(" %s", db_engine_name((enum db_engine)e));
		else if (db_engine_built((enum db_engine)e))
			missing = true;
	if (missing) {
		printf("\nnot installed:");
		for (int e = DB_ENGINE_SQLITE; e <= DB_ENGINE_PGSQL; e++)
			if (db_engine_built((enum db_engine)e) &&
			    !db_engine_available((enum db_engine)e))
				printf(" %s (package %s)",
				    db_engine_name((enum db_engine)e),
				    db_engine_package((enum db_engine)e));
	}
	printf("\nfeatures:");
#ifdef HAVE_REDIS
	printf(" redis");
#endif
#ifdef HAVE_CURL
	printf(" url");
#endif
#ifdef HAVE_MHD
	printf(" postinod");
#endif
	if (harden_seccomp_available())
		printf(" seccomp");
	printf(" argon2 bcrypt sha512-crypt\n");
#if defined(HAVE_MYSQL) || defined(HAVE_PGSQL)
	printf("modules: %s\n", POSTINO_MODULEDIR);
#endif
}

/*
 * Listings for programs, so that shell completion and the documentation
 * check (tests/e2e/t0003-docs.sh) keep no list of their own:
 *
 *   help --commands          every command, one per line, in table order
 *   help --options           the global options
 *   help --options COMMAND   the options of COMMAND
 *   help --args COMMAND      the arguments of COMMAND, as its usage shows
 *
 * An option is listed once per spelling ("-y", then "--yes"), followed by
 * " METAVAR" when it takes a value.  print_listing() returns the exit
 * status.
 */
static void
print_opt_list(const struct cli_opt *opts)
{
	for (const struct cli_opt *o = opts; o->name != NULL; o++) {
		if (o->key > 0 && o->key < 256)
			printf("-%c%s%s\n", o->key, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		printf("--%s%s%s\n", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
	}
}

static void
print_help_help(void)
{
	printf(
	    "usage: %s help [COMMAND]\n"
	    "       %s help --commands | --options [COMMAND] | --args COMMAND\n\nShow help, or list commands and options for programs.\n"
	    "\nOptions:\n",
	    progname, progname);
	for (const struct cli_opt *o = help_opts; o->name != NULL; o++)
		print_opt_help(stdout, o);
	printf("\nExample:\n  %s help --options user add\n", progname);
}

static const struct cli_cmd *find_command(int, char **, int *);
static int unknown_command(struct cli *, int, char **);

static int
print_listing(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = NULL;
	const char *what = argv[0];
	int used = 0;

	if (strcmp(what, "--commands") == 0) {
		if (argc > 1)
			return cli_usage(
			    c, "'help --commands' takes no argument");
		for (const struct cli_cmd *k = cli_commands; k->name; k++)
			printf("%s\n", k->name);
		printf("help\n");
		return 0;
	}
	if (argc == 1 && strcmp(what, "--options") == 0) {
		print_opt_list(global_opts);
		return 0;
	}
	if (argc == 1)
		return cli_usage(c, "'help %s' needs a COMMAND", what);
	if (strcmp(argv[1], "help") == 0 && argc == 2) {
		if (strcmp(what, "--options") == 0)
			print_opt_list(help_opts);
		else
			printf("[COMMAND]\n");
		return 0;
	}
	cmd = find_command(argc - 1, argv + 1, &used);
	if (cmd == NULL || used != argc - 1)
		return unknown_command(c, argc - 1, argv + 1);
	if (strcmp(what, "--options") == 0)
		print_opt_list(cmd->opts);
	else
		printf("%s\n", cmd->args);
	return 0;
}

/* --- option parsing -------------------------------------------------- */

const char *
cli_opt(const struct cli *c, int key)
{
	return key >= 0 && key < 512 ? c->optval[key] : NULL;
}

bool
cli_flag(const struct cli *c, int key)
{
	return key >= 0 && key < 512 && c->optcount[key] > 0;
}

int
cli_opt_count(const struct cli *c, int key)
{
	return key >= 0 && key < 512 ? c->optcount[key] : 0;
}

const char *
cli_opt_n(const struct cli *c, int key, int i)
{
	if (key < 0 || key >= 512 || i < 0 || i >= c->optcount[key])
		return NULL;
	return c->multi[key][i];
}

static const char *const *
option_names(const struct cli_cmd *cmd)
{
	static const char *names[64];
	size_t n = 0;

	for (const struct cli_opt *o = cmd->opts; o->name && n < 62; o++)
		names[n++] = o->name;
	names[n++] = "help";
	names[n] = NULL;
	return names;
}

/* Parse options; returns the index of the first positional or -1. */
static int
parse_opts(struct cli *c, int argc, char **argv)
{
	struct option lo[64];
	char shorts[128];
	size_t n = 0, s = 0;
	int ch;

	/*
	 * getopt_long accepts unambiguous abbreviations; scripts are safer
	 * when "--forc" is an error, so insist on full names first.
	 */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *hit = NULL;
		size_t len;

		if (strcmp(a, "--") == 0)
			break;
		if (!str_prefix(a, "--"))
			continue;
		len = strcspn(a + 2, "=");
		for (const struct cli_opt *o = c->cmd->opts; o->name; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, a + 2, len) == 0)
				hit = o;
		if (hit == NULL &&
		    !(len == 4 && strncmp(a + 2, "help", 4) == 0)) {
			char word[64];
			const char *near;

			snprintf(word, sizeof(word), "%.*s", (int)len, a + 2);
			near = str_nearest(word, option_names(c->cmd));
			if (near != NULL)
				return cli_usage(c,
					   "unknown option '--%s' (did you mean '--%s'?)",
					   word, near),
				       -1;
			return cli_usage(c, "unknown option '--%s'", word), -1;
		}
		/* Skip the value of an option that takes one. */
		if (hit != NULL && hit->arg != NULL && a[2 + len] != '=')
			i++;
	}
	shorts[s++] = ':'; /* report a missing value as ':' */
	for (const struct cli_opt *o = c->cmd->opts; o->name != NULL; o++) {
		lo[n].name = o->name;
		lo[n].has_arg = o->arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = o->key;
		n++;
		if (o->key < 256) {
			shorts[s++] = (char)o->key;
			if (o->arg)
				shorts[s++] = ':';
		}
	}
	lo[n].name = "help";
	lo[n].has_arg = no_argument;
	lo[n].flag = NULL;
	lo[n].val = 'h';
	n++;
	memset(&lo[n], 0, sizeof(lo[n]));
	shorts[s++] = 'h';
	shorts[s] = '\0';
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (ch == 'h') {
			print_cmd_help(c->cmd);
			exit(0);
		}
		if (ch == ':')
			return cli_usage(c, "option '%s' needs a value",
				   argv[optind - 1]),
			       -1;
		if (ch == '?') {
			if (optopt > 0 && optopt < 256)
				return cli_usage(c,
					   "unknown option '-%c' (use '--' before arguments that start with '-')",
					   optopt),
				       -1;
			return cli_usage(
				   c, "unknown option '%s'", argv[optind - 1]),
			       -1;
		}
		if (ch >= 0 && ch < 512) {
			c->optval[ch] = optarg != NULL ? optarg : "1";
			c->multi[ch] = xreallocarray(c->multi[ch],
			    (size_t)c->optcount[ch] + 1, sizeof(char *));
			c->multi[ch][c->optcount[ch]++] = optarg;
		}
	}
	return optind;
}

/* --- bootstrap -------------------------------------------------------- */

/*
 * Python postino's Typer options: completion is not written into the
 * user's shell startup files; it comes with the package.  Say where.
 */
static void
print_completion_where(const char *opt)
{
	static const char bash[] = POSTINO_BASHCOMPDIR,
			  zsh[] = POSTINO_ZSHCOMPDIR;

	printf(
	    "postino: %s is not needed: completion comes with postino.\n", opt);
	if (strcmp(bash, "no") != 0)
		printf(
		    "bash: %s/postino (loaded by bash-completion on first use; without it: . %s/postino)\n",
		    bash, bash);
	if (strcmp(zsh, "no") != 0)
		printf(
		    "zsh:  %s/_postino (in $fpath; compinit loads it)\n", zsh);
	if (strcmp(bash, "no") == 0 && strcmp(zsh, "no") == 0)
		printf(
		    "this build installs no completion files (see etc/completion/ in the sources)\n");
}

/* A misspelt variable is otherwise silently ignored. */
static void
env_unknown_cb(void *arg, const char *name, const char *near)
{
	if (near != NULL)
		cli_warnf(arg,
		    "%s is not a postino variable and is ignored (did you mean %s?)",
		    name, near);
	else
		cli_warnf(
		    arg, "%s is not a postino variable and is ignored", name);
}

int
cli_need_conf(struct cli *c, struct err *err)
{
	if (c->conf_loaded)
		return 0;
	if (conf_load(&c->conf, c->config_path, err) == -1)
		return -1;
	c->conf_loaded = true;
	conf_env_unknown("POSTINO_", env_unknown_cb, c);
	return 0;
}

static void
notify_cb(void *arg, const char *msg)
{
	cli_warnf(arg, "%s", msg);
}

int
cli_need_db(struct cli *c, bool create, struct err *err)
{
	struct db_params p;
	struct cf cf;
	char *path;
	enum db_engine engine = DB_ENGINE_NONE;
	int rc;

	if (c->db != NULL)
		return 0;
	if (cli_need_conf(c, err) == -1)
		return -1;
	if (c->conf.postfix_sql_engine[0] != '\0')
		engine = db_engine_parse(c->conf.postfix_sql_engine);
	path = conf_sql_path(&c->conf, "sql-virtual_mailbox_maps.cf");
	rc = cf_parse_file(&cf, path, err);
	free(path);
	if (rc == -1)
		return -1;
	rc = db_params_from_cf(&p, &cf, engine, err);
	cf_release(&cf);
	if (rc == -1)
		return -1;
	p.create = create;
	c->db = db_open(&p, err);
	db_params_release(&p);
	if (c->db == NULL)
		return -1;
	model_init(&c->model, c->db, &c->conf, c->actor);
	c->model.notify = notify_cb;
	c->model.notify_arg = c;
	return 0;
}

static int
need_schema(struct cli *c, struct err *err)
{
	struct schema_status st;
	int64_t v = 0;

	/*
	 * Fast path: a current version row means a complete schema (every
	 * command pays for this check; the full probe takes ~20 queries).
	 */
	if (db_query_int(c->db,
		"SELECT version FROM postino_schema_version "
		"WHERE id = 1",
		NULL, 0, &v, err) == 1 &&
	    v >= SCHEMA_POSTINO_VERSION)
		return 0;
	/* PostgreSQL must forget the failed statement before going on. */
	if (db_engine(c->db) == DB_ENGINE_PGSQL) {
		db_close(&c->db);
		if (cli_need_db(c, false, err) == -1)
			return -1;
	}
	err_clear(err);
	if (schema_status(c->db, &st, err) == -1)
		return -1;
	if (st.empty) {
		err_set(err, ERR_DATABASE, "no PostfixAdmin schema in %s",
		    db_where(c->db));
		return err_hint(err, "create it with 'postino schema init'");
	}
	if (st.missing_pfa > 0) {
		err_set(err, ERR_DATABASE,
		    "the PostfixAdmin schema in %s lacks tables: %s",
		    db_where(c->db), st.missing);
		return err_hint(err,
		    "run PostfixAdmin's upgrade, then 'postino schema migrate'");
	}
	if (st.postino_version < SCHEMA_POSTINO_VERSION) {
		err_set(err, ERR_DATABASE,
		    "the database is at postino schema version %d, this postino needs %d",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
		return err_hint(err,
		    "run 'postino schema migrate' (it only adds tables and indexes)");
	}
	return 0;
}

static void
set_actor(struct cli *c)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo != NULL && *sudo != '\0')
		snprintf(c->actor, sizeof(c->actor), "%s", sudo);
	else if ((pw = getpwuid(getuid())) != NULL)
		snprintf(c->actor, sizeof(c->actor), "%s", pw->pw_name);
	else
		snprintf(c->actor, sizeof(c->actor), "uid:%ld", (long)getuid());
}

static bool
env_no_color(void)
{
	const char *nc = getenv("NO_COLOR"), *ci = getenv("CI");

	return (nc != NULL && *nc != '\0') ||
	    (ci != NULL && str_eq_nocase(ci, "true"));
}

/* Find the command whose words match the most leading arguments. */
static const struct cli_cmd *
find_command(int argc, char **argv, int *used_r)
{
	const struct cli_cmd *best = NULL;
	int bestn = 0;

	for (const struct cli_cmd *cmd = cli_commands; cmd->name; cmd++) {
		const char *p = cmd->name;
		int n = 0;
		bool ok = true;

		while (*p != '\0') {
			size_t w = strcspn(p, " ");

			if (n >= argc || strlen(argv[n]) != w ||
			    strncmp(argv[n], p, w) != 0) {
				ok = false;
				break;
			}
			n++;
			p += w;
			if (*p == ' ')
				p++;
		}
		if (ok && n > bestn) {
			best = cmd;
			bestn = n;
		}
	}
	*used_r = bestn;
	return best;
}

static int
unknown_command(struct cli *c, int argc, char **argv)
{
	const char *words[128];
	char prefix[128] = "";
	size_t n = 0, depth = 0;
	const char *near;

	/* Suggest among the names that share the words matched so far. */
	for (int i = 0; i < argc && i < 3; i++) {
		bool any = false;
		char try[128];

		snprintf(try, sizeof(try), "%s%s%s", prefix,
		    prefix[0] ? " " : "", argv[i]);
		for (const struct cli_cmd *cmd = cli_commands; cmd->name; cmd++)
			if (str_prefix(cmd->name, try) &&
			    (cmd->name[strlen(try)] == ' ' ||
				cmd->name[strlen(try)] == '\0'))
				any = true;
		if (!any)
			break;
		str_copy(prefix, try, sizeof(prefix));
		depth++;
	}
	for (const struct cli_cmd *cmd = cli_commands; cmd->name && n < 127;
	     cmd++) {
		const char *p = cmd->name;

		if (depth > 0) {
			if (!str_prefix(p, prefix) || p[strlen(prefix)] != ' ')
				continue;
			p += strlen(prefix) + 1;
		}
		/* Offer only the next word. */
		{
			static char wordbuf[128][32];
			size_t w = strcspn(p, " ");
			bool dup = false;

			snprintf(
			    wordbuf[n], sizeof(wordbuf[n]), "%.*s", (int)w, p);
			for (size_t k = 0; k < n; k++)
				if (strcmp(words[k], wordbuf[n]) == 0)
					dup = true;
			if (!dup) {
				words[n] = wordbuf[n];
				n++;
			}
		}
	}
	words[n] = NULL;
	if ((int)depth >= argc) {
		cli_errorf(c, "'%s' needs a subcommand: one of", prefix);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  %s %s\n", prefix, words[i]);
		return EX_USAGE;
	}
	near = str_nearest(argv[depth], words);
	if (near != NULL)
		return cli_usage(c,
		    "unknown command '%s%s%s' (did you mean '%s%s%s'?)", prefix,
		    prefix[0] ? " " : "", argv[depth], prefix,
		    prefix[0] ? " " : "", near);
	return cli_usage(c, "unknown command '%s%s%s'", prefix,
	    prefix[0] ? " " : "", argv[depth]);
}

int
main(int argc, char **argv)
{
	static struct cli c;
	struct err err = ERR_INIT;
	char **rest;
	int nrest = 0, used, rc = 0;
	bool no_color = false, help = false, version = false;
	const struct cli_cmd *cmd;

	/* No core file, no tracing: postino holds database passwords. */
	if (harden_process(&err) == -1)
		return cli_fail(&c, &err);
	maildir_note_umask();
	/* Float global options out of argv, wherever they are. */
	rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0)
			c.json = true;
		else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
			c.quiet = true;
		else if (strcmp(a, "--no-color") == 0 ||
		    strcmp(a, "--no-colour") == 0)
			no_color = true;
		else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				rc = cli_usage(
				    &c, "option '%s' needs a file", a);
				goto out;
			}
			c.config_path = argv[++i];
		} else if (str_prefix(a, "--config="))
			c.config_path = a + 9;
		else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
			version = true;
		else if ((strcmp(a, "--install-completion") == 0 ||
			     strcmp(a, "--show-completion") == 0) &&
		    nrest == 1) {
			print_completion_where(a);
			rc = 0;
			goto out;
		} else if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) &&
		    nrest == 1)
			help = true;
		else
			rest[nrest++] = argv[i];
	}
	rest[nrest] = NULL;
	c.color = !no_color && !env_no_color() && isatty(STDOUT_FILENO);
	c.ecolor = !no_color && !env_no_color() && isatty(STDERR_FILENO);
	log_init(progname, false, c.quiet ? LOG_LVL_WARN : LOG_LVL_INFO);
	log_set_color(c.ecolor);
	set_actor(&c);
	if (version) {
		print_version();
		rc = 0;
		goto out;
	}
	if (nrest >= 2 && strcmp(rest[1], "help") == 0) {
		if (nrest == 2) {
			print_main_help();
			rc = 0;
			goto out;
		}
		if (nrest == 3 && strcmp(rest[2], "help") == 0) {
			print_help_help();
			rc = 0;
			goto out;
		}
		if (strcmp(rest[2], "--commands") == 0 ||
		    strcmp(rest[2], "--options") == 0 ||
		    strcmp(rest[2], "--args") == 0) {
			rc = print_listing(&c, nrest - 2, rest + 2);
			goto out;
		}
		cmd = find_command(nrest - 2, rest + 2, &used);
		if ((cmd == NULL || used != nrest - 2) &&
		    print_group_help(nrest - 2, rest + 2, false)) {
			rc = 0;
			goto out;
		}
		if (cmd == NULL || used != nrest - 2) {
			rc = unknown_command(&c, nrest - 2, rest + 2);
			goto out;
		}
		print_cmd_help(cmd);
		rc = 0;
		goto out;
	}
	if (help || nrest == 1) {
		print_main_help();
		rc = nrest == 1 && !help ? EX_USAGE : 0;
		goto out;
	}
	cmd = find_command(nrest - 1, rest + 1, &used);
	if (cmd == NULL && print_group_help(nrest - 1, rest + 1, true)) {
		rc = 0;
		goto out;
	}
	if (cmd == NULL) {
		rc = unknown_command(&c, nrest - 1, rest + 1);
		goto out;
	}
	/* "domain alias" alone matches nothing fully: ask for the verb. */
	c.cmd = cmd;
	{
		int sub_argc = nrest - used;
		char **sub_argv = rest + used;
		int first;

		sub_argv[0] = (char *)(uintptr_t)cmd->name;
		first = parse_opts(&c, sub_argc, sub_argv);
		if (first < 0) {
			rc = EX_USAGE;
			goto out;
		}
		if ((cmd->flags & CMD_CONF) && cli_need_conf(&c, &err) == -1) {
			rc = cli_fail(&c, &err);
			goto out;
		}
		if ((cmd->flags & CMD_DB) &&
		    cli_need_db(&c, (cmd->flags & CMD_CREATE) != 0, &err) ==
			-1) {
			rc = cli_fail(&c, &err);
			goto out;
		}
		if ((cmd->flags & CMD_SCHEMA) && need_schema(&c, &err) == -1) {
			rc = cli_fail(&c, &err);
			goto out;
		}
		rc = cmd->fn(&c, sub_argc - first, sub_argv + first);
	}
out:
	db_close(&c.db);
	if (c.conf_loaded)
		conf_release(&c.conf);
	for (int i = 0; i < 512; i++)
		free(c.multi[i]);
	free(rest);
	fflush(stdout);
	if (ferror(stdout)) {
		cli_errorf(&c, "cannot write output: %s", strerror(errno));
		return rc != 0 ? rc : 99;
	}
	return rc;
}
