/*
 * Dovecot's part of "postino config gen": the passdb/userdb for 2.3 and
 * 2.4, mail location, quota.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cf.h"
#include "maildir.h"
#include "mapgen.h"
#include "strutil.h"
#include "xalloc.h"
#include "gen.h"

#include "banned.h"

/* "CASE WHEN quota > 0 THEN <x> END": no limit for 0, as postino means. */
static void
quota_field(struct gen *g, struct buf *b)
{
	if (g->v24)
		buf_printf(b,
		    "CASE WHEN quota > 0 THEN %squota%s'B') END AS "
		    "quota_storage_size",
		    concat_open(g), concat_sep(g));
	else
		buf_printf(b,
		    "CASE WHEN quota > 0 THEN %s'*:bytes='%squota) "
		    "END AS quota_rule",
		    concat_open(g), concat_sep(g));
}

static void
password_query(struct gen *g, struct buf *b)
{
	buf_printf(b,
	    "SELECT username AS user, password FROM mailbox WHERE "
	    "username = '%s' AND active = '1' AND password <> '{NOAUTH}'",
	    g->v24 ? "%{user}" : "%u");
}

static void
user_query(struct gen *g, struct buf *b)
{
	buf_printf(b, "SELECT %s'%s/'%smaildir) AS home, ", concat_open(g),
	    g->base, concat_sep(g));
	if (g->c->vmail_uid >= 0 && g->c->vmail_gid >= 0)
		buf_printf(b, "%lld AS uid, %lld AS gid, ",
		    (long long)g->c->vmail_uid, (long long)g->c->vmail_gid);
	quota_field(g, b);
	buf_printf(b, " FROM mailbox WHERE username = '%s' AND active = '1'",
	    g->v24 ? "%{user}" : "%u");
}

static const char *const iterate_query =
    "SELECT username AS user FROM mailbox WHERE active = '1'";

/* Dovecot 2.3's connect string. */
static void
connect_23(struct gen *g, struct buf *b)
{
	struct host h;
	size_t n;

	if (g->p->engine == DB_ENGINE_SQLITE) {
		buf_printf(b, "connect = %s\n", g->p->dbpath);
		return;
	}
	n = first_host(g->p->hosts, &h);
	if (g->p->engine == DB_ENGINE_PGSQL && h.socket)
		pg_socket(&h);
	if (n > 1)
		buf_printf(b,
		    "# postino's hosts list has %zu servers; Dovecot is given the first.\n",
		    n);
	buf_printf(b, "connect = host=%s", h.name);
	if (h.port > 0)
		buf_printf(b, " port=%d", h.port);
	buf_printf(b, " dbname=%s user=%s password=%s\n",
	    g->p->dbname ? g->p->dbname : "", g->p->user ? g->p->user : "",
	    g->p->password ? g->p->password : "");
}

/* Dovecot 2.4's SQL connection settings. */
static void
connect_24(struct gen *g, struct buf *b)
{
	const char *engine = db_engine_name(g->p->engine), *indent;
	struct host h;
	size_t n;

	buf_printf(b, "sql_driver = %s\n", engine);
	if (g->p->engine == DB_ENGINE_SQLITE) {
		buf_printf(b, "sqlite_path = %s\n", g->p->dbpath);
		return;
	}
	n = first_host(g->p->hosts, &h);
	if (g->p->engine == DB_ENGINE_PGSQL && h.socket)
		pg_socket(&h);
	if (n > 1)
		buf_printf(b,
		    "# postino's hosts list has %zu servers; Dovecot is given the first.\n",
		    n);
	if (g->p->engine == DB_ENGINE_MYSQL) {
		buf_printf(b, "mysql %s {\n", h.name);
		if (h.port > 0)
			buf_printf(b, "  port = %d\n", h.port);
		indent = "  ";
	} else {
		buf_printf(b, "pgsql %s {\n  parameters {\n", h.name);
		if (h.port > 0)
			buf_printf(b, "    port = %d\n", h.port);
		indent = "    ";
	}
	buf_printf(b, "%suser = ", indent);
	quote_24(b, g->p->user ? g->p->user : "");
	buf_printf(b, "\n%spassword = ", indent);
	quote_24(b, g->p->password ? g->p->password : "");
	buf_printf(b, "\n%sdbname = ", indent);
	quote_24(b, g->p->dbname ? g->p->dbname : "");
	buf_puts(b, g->p->engine == DB_ENGINE_MYSQL ? "\n}\n" : "\n  }\n}\n");
}

/* result_* of the first passdb: how the chain goes on after it. */
static void
chain_results(struct gen *g, struct buf *b, const char *indent)
{
	if (!g->idp || g->v24)
		return;
	buf_printf(b,
	    "%sresult_success = %s\n%sresult_failure = continue\n"
	    "%sresult_internalfail = continue\n",
	    indent,
	    g->o->identity == IDENTITY_HYBRID ? "return-ok" : "continue-ok",
	    indent, indent);
}

static void
oauth2_settings(struct gen *g, struct buf *b, const char *indent)
{
	const char *iss = g->c->postinod.zitadel_issuer;

	buf_printf(b,
	    "%s# EDIT: your IdP's token introspection endpoint and this server's client\n%s# credentials (https://ID:SECRET@host/...).\n",
	    indent, indent);
	buf_printf(b, "%sintrospection_mode = post\n", indent);
	if (iss != NULL && *iss != '\0')
		buf_printf(b, "%sintrospection_url = %s%soauth/v2/introspect\n",
		    indent, iss, str_suffix(iss, "/") ? "" : "/");
	else
		buf_printf(b,
		    "%sintrospection_url = https://idp.example.invalid/oauth/v2/introspect\n",
		    indent);
	buf_printf(b,
	    "%susername_attribute = email\n%sactive_attribute = active\n%sactive_value = true\n",
	    indent, indent, indent);
}

static void
auth_header(struct gen *g, struct buf *b)
{
	static const char *const why[] = {
		[IDENTITY_LOCAL] =
		    "every mailbox has its password in the database",
		[IDENTITY_NOAUTH] =
		    "the IdP checks every login; the database only knows who exists",
		[IDENTITY_HYBRID] =
		    "a local password is tried\n# first; mailboxes without one ({NOAUTH}) or whose password does not\n# match fall through to the IdP",
	};

	buf_printf(b,
	    "# Dovecot %s passdb and userdb for postino, written by 'postino config gen'.\n# identity_backend = %s: %s.\n",
	    g->v24 ? "2.4" : "2.3", identity_backend_name(g->o->identity),
	    g->v24 && g->o->identity == IDENTITY_HYBRID
		? "a local password is checked in\n# the database; mailboxes without one ({NOAUTH}) log in with the IdP's tokens"
		: why[g->o->identity]);
	if (g->idp && g->v24)
		buf_printf(b,
		    "# Dovecot 2.4 checks the IdP's tokens in its OAUTHBEARER and XOAUTH2\n# mechanisms (auth_mechanisms and oauth2 below), not in a passdb: its oauth2\n# passdb only does password grants.\n");
	else if (g->idp)
		buf_printf(b,
		    "# The IdP's passdb comes second; any non-SQL passdb (oauth2, ldap,\n# checkpassword...) may take its place.\n");
}

/*
 * Dovecot 2.3.19 (Debian 12) aborts its auth process at start when an
 * oauth2 passdb (its HTTP client) and the pgsql driver (which waits for
 * its connection in a nested I/O loop) are both configured.
 */
static bool
pg_oauth2_panics(const struct gen *g)
{
	return !g->v24 && !g->dict_auth && g->p->engine == DB_ENGINE_PGSQL;
}

void
gen_dovecot_23(struct gen *g)
{
	const char *dir = g->o->dovecot_dir;
	const char *drv = g->dict_auth ? "dict" : "sql";
	const char *args = g->dict_auth ? "dovecot-dict-auth.conf.ext"
					: "dovecot-sql.conf.ext";
	char rel[64];
	struct buf *b;

	snprintf(rel, sizeof(rel), "dovecot/conf.d/auth-%s.conf.ext", drv);
	if ((b = add_file(g, "dovecot_auth", rel, 0644)) != NULL) {
		auth_header(g, b);
		buf_printf(b,
		    "# Include it from conf.d/10-auth.conf ('!include auth-%s.conf.ext').\n",
		    drv);
		buf_printf(b, "passdb {\n  driver = %s\n  args = %s/%s\n", drv,
		    dir, args);
		chain_results(g, b, "  ");
		buf_puts(b, "}\n");
		if (g->idp && pg_oauth2_panics(g))
			buf_printf(b,
			    "# EDIT: a checkpassword program that asks your IdP.  (Dovecot 2.3 panics at\n"
			    "# start when an oauth2 passdb shares the auth process with a PostgreSQL\n# database; with Dovecot 2.4 or --lookups podop, oauth2 is generated.)\n"
			    "passdb {\n  driver = checkpassword\n  args = %s/postino-idp-checkpassword\n}\n",
			    dir);
		else if (g->idp)
			buf_printf(b,
			    "passdb {\n  driver = oauth2\n  args = %s/dovecot-oauth2.conf.ext\n}\n",
			    dir);
		buf_printf(b, "userdb {\n  driver = %s\n  args = %s/%s\n}\n",
		    drv, dir, args);
	}
	if (g->dict_auth) {
		const char *s = g->o->podop_dict_socket;

		if ((b = add_file(g, "dovecot_dict",
			 "dovecot/dovecot-dict-auth.conf.ext", 0644)) != NULL)
			buf_printf(b,
			    "# Dovecot 2.3 passdb/userdb through podop's dict (podop-dovecot.toml),\n# written by 'postino config gen'.\nuri = proxy:%s:auth\n"
			    "password_key = passdb/%%u\nuser_key = userdb/%%u\n"
			    "iterate_prefix = userdb/\ndefault_pass_scheme = CRYPT\n",
			    str_prefix(s, "unix:") ? s + 5 : s);
	} else if ((b = add_file(g, "dovecot_sql",
			"dovecot/dovecot-sql.conf.ext", 0640)) != NULL) {
		buf_printf(b,
		    "# Dovecot 2.3 SQL passdb/userdb for postino (%s), written by 'postino config gen'.\n# It holds the database password: keep it mode 0640, root:dovecot.\n"
		    "# home is the maildir postino creates; {NOAUTH} marks IdP-managed mailboxes.\n",
		    db_engine_name(g->p->engine));
		buf_printf(b, "driver = %s\n", db_engine_name(g->p->engine));
		connect_23(g, b);
		buf_puts(b, "default_pass_scheme = CRYPT\npassword_query = ");
		password_query(g, b);
		buf_puts(b, "\nuser_query = ");
		user_query(g, b);
		buf_printf(b, "\niterate_query = %s\n", iterate_query);
	}
	if (g->idp && !pg_oauth2_panics(g) &&
	    (b = add_file(g, "dovecot_oauth2",
		 "dovecot/dovecot-oauth2.conf.ext", 0640)) != NULL) {
		buf_printf(b,
		    "# Dovecot OAuth2 passdb for IdP-managed mailboxes (identity_backend = %s),\n# written by 'postino config gen'.\n",
		    identity_backend_name(g->o->identity));
		oauth2_settings(g, b, "");
		buf_puts(b,
		    "tls_ca_cert_file = /etc/ssl/certs/ca-certificates.crt\n");
	}
}

void
gen_dovecot_24(struct gen *g)
{
	struct buf *b;

	if ((b = add_file(g, "dovecot_auth", "dovecot/conf.d/auth-sql.conf.ext",
		 0640)) == NULL)
		return;
	auth_header(g, b);
	buf_puts(b,
	    "# Include it from conf.d/10-auth.conf ('!include auth-sql.conf.ext'),\n# in place of auth-system.conf.ext.\n");
	buf_printf(b,
	    "# It holds the database password: keep it mode 0640, root:dovecot.\n# home is the maildir postino creates; {NOAUTH} marks IdP-managed mailboxes.\n");
	connect_24(g, b);
	if (g->o->weak_hashes > 0)
		buf_printf(b,
		    "# %lld mailbox%s a password hash in a scheme Dovecot 2.4 refuses as weak\n# (MD5-CRYPT...): they cannot log in until their passwords are set again\n# ('postino user passwd'), unless weak schemes are allowed:\n"
		    "#auth_allow_weak_schemes = yes\n",
		    g->o->weak_hashes,
		    g->o->weak_hashes == 1 ? " has" : "es have");
	buf_puts(b,
	    "passdb sql {\n  default_password_scheme = CRYPT\n"
	    "  query = ");
	password_query(g, b);
	buf_putc(b, '\n');
	chain_results(g, b, "  ");
	buf_puts(b, "}\n");
	if (g->idp) {
		buf_puts(b,
		    "auth_mechanisms {\n  oauthbearer = yes\n"
		    "  xoauth2 = yes\n}\noauth2 {\n");
		oauth2_settings(g, b, "  ");
		buf_puts(b,
		    "}\n# Passwords checked by the IdP need its password grant (Zitadel has none):\n# EDIT: the token endpoint and this server's client, then uncomment.\n#passdb oauth2 {\n"
		    "#  oauth2 {\n#    grant_url = https://idp.example.invalid/oauth/v2/token\n#    client_id = ID\n#    client_secret = SECRET\n#  }\n#}\n");
	}
	buf_puts(b, "userdb sql {\n  query = ");
	user_query(g, b);
	buf_printf(b, "\n  iterate_query = %s\n}\n", iterate_query);
}

void
gen_dovecot_mail(struct gen *g)
{
	const char *lmtp = g->c->lmtp_destination;
	struct buf *b =
	    add_file(g, "dovecot_mail", "dovecot/conf.d/90-postino.conf", 0644);

	if (b == NULL)
		return;
	buf_printf(b,
	    "# Dovecot %s settings for postino's mailboxes, written by 'postino config gen'.\n# The userdb's home is <%s>/<maildir>, the maildir postino creates;\n# the mail is right there, with no Maildir/ below it.\n",
	    g->v24 ? "2.4" : "2.3", "virtual_mailbox_base");
	if (g->v24)
		buf_puts(b,
		    "mail_driver = maildir\nmail_path = ~\n"
		    "# INBOX is the maildir itself, not the mbox a stock 10-mail.conf names\n# (Debian 13: mail_inbox_path = /var/mail/%{user}).\nmail_inbox_path = ~\n");
	else
		buf_puts(b, "mail_location = maildir:~\n");
	if (g->c->vmail_uid < 0 || g->c->vmail_gid < 0)
		buf_puts(b,
		    "# vmail_uid/vmail_gid are -1 in postino.toml, so the userdb names no owner:\n# EDIT: set mail_uid and mail_gid to the owner of the maildirs.\n");
	else if (g->c->vmail_uid < 500)
		buf_printf(
		    b, "first_valid_uid = %lld\n", (long long)g->c->vmail_uid);
	buf_printf(b,
	    "# The same delimiter as Postfix and postino.\n"
	    "recipient_delimiter = %s\n",
	    g->c->recipient_delimiter);
	buf_printf(b,
	    "# Postfix delivers here (virtual_transport = lmtp:%s).\nservice lmtp {\n",
	    lmtp);
	if (str_prefix(lmtp, "unix:")) {
		const char *path = lmtp + 5;

		if (path[0] == '/')
			buf_printf(b, "  unix_listener %s {\n", path);
		else
			buf_printf(b, "  unix_listener %s/%s {\n",
			    g->o->queue_dir, path);
		buf_puts(b,
		    "    mode = 0600\n    user = postfix\n    group = postfix\n  }\n");
	} else {
		struct host h;

		(void)first_host(lmtp, &h);
		buf_printf(b,
		    "  inet_listener lmtp {\n    address = %s\n"
		    "    port = %d\n  }\n",
		    h.name, h.port > 0 ? h.port : 24);
	}
	buf_puts(b, "}\n");
	if (g->v24)
		buf_puts(b,
		    "# LMTP looks the recipient up by the whole address (a stock 20-lmtp.conf\n# keeps only the local part: %{user | username | lower}).\nprotocol lmtp {\n"
		    "  auth_username_format = %{user | lower}\n}\n");
}

/*
 * --lookups podop: Dovecot clones each mailbox's usage into quota2 through
 * podop's dict (the "auth" dict of podop-dovecot.toml, whose
 * postfixadmin:dovecot table takes priv/quota/storage and
 * priv/quota/messages).  That table stores nothing else, so IMAP METADATA
 * is left commented out: it needs a table that can (redis:, url:).
 */
void
gen_dovecot_quota(struct gen *g)
{
	const char *s = g->o->podop_dict_socket;
	struct buf *b;

	if (g->o->lookups != MAPGEN_PODOP ||
	    (b = add_file(g, "dovecot_quota",
		 "dovecot/conf.d/91-postino-podop.conf", 0644)) == NULL)
		return;
	if (str_prefix(s, "unix:"))
		s += 5;
	buf_printf(b,
	    "# Dovecot %s: mailbox usage copied into PostfixAdmin's quota2 table through\n# podop's dict (podop-dovecot.toml), written by 'postino config gen'.\n# The limit is the userdb's %s.\n",
	    g->v24 ? "2.4" : "2.3",
	    g->v24 ? "quota_storage_size" : "quota_rule");
	if (g->v24) {
		buf_printf(b,
		    "mail_plugins {\n  quota = yes\n  quota_clone = yes\n}\n"
		    "quota \"User quota\" {\n  driver = count\n}\n"
		    "quota_clone {\n  dict proxy {\n"
		    "    dict_proxy_socket_path = %s\n"
		    "    dict_proxy_name = auth\n  }\n}\n",
		    s);
		buf_printf(b,
		    "# IMAP METADATA needs a podop table that stores any key (redis: or url:),\n# EDIT: add it to podop-dovecot.toml as \"metadata\", then uncomment:\n"
		    "#mail_attribute {\n#  dict proxy {\n"
		    "#    dict_proxy_socket_path = %s\n"
		    "#    dict_proxy_name = metadata\n#  }\n#}\n"
		    "#protocol imap {\n#  imap_metadata = yes\n#}\n",
		    s);
		return;
	}
	buf_printf(b,
	    "mail_plugins = $mail_plugins quota quota_clone\nplugin {\n"
	    "  quota = count:User quota\n  quota_vsizes = yes\n"
	    "  quota_clone_dict = proxy:%s:auth\n}\n",
	    s);
	buf_printf(b,
	    "# IMAP METADATA needs a podop table that stores any key (redis: or url:),\n# EDIT: add it to podop-dovecot.toml as \"metadata\", then uncomment:\n"
	    "#mail_attribute_dict = proxy:%s:metadata\n"
	    "#protocol imap {\n#  imap_metadata = yes\n#}\n",
	    s);
}
