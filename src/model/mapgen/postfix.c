/*
 * Postfix's part of "postino config gen": main.cf, master.cf, the sql-*.cf
 * maps.
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

/* Where virtual_mailbox_maps gets the routes map, and why. */
#define LIST_RCPT_COMMENT                                                      \
	"\n# List addresses (list@, list+keyword@) are valid recipients "      \
	"through the routes\n# map; transport_maps sends their mail to "       \
	"mlmmj, never to a mailbox."

static const char *const mlmmj_services[] = { "mlmmj-receive", "mlmmj-bounce",
	"mlmmj-sub", "mlmmj-unsub", NULL };

void
gen_main_cf(struct gen *g)
{
	bool podop = g->o->lookups == MAPGEN_PODOP;
	struct buf *b = add_file(g, "main_cf", "postfix/main.cf", 0644);

	if (b == NULL)
		return;
	buf_printf(b,
	    "# main.cf settings for postino (%s, %s lookups), written by 'postino config gen'.\n# Add them to %s/main.cf (replacing earlier values of these parameters)\n# and run 'postfix reload'.\n#\n# postino, podop, Dovecot and mlmmj all use this delimiter: change it in\n# postino.toml and generate again, never here alone.\n",
	    db_engine_name(g->p->engine), podop ? "podop" : "SQL",
	    g->o->postfix_dir);
	if (podop || (g->lists && g->routes_podop) ||
	    g->p->engine != DB_ENGINE_SQLITE)
		buf_puts(b,
		    "#\n# proxy: maps are read by proxymap(8), outside the chroot Debian's smtpd,\n# cleanup and trivial-rewrite run in, as user postfix: keep sql-*.cf\n# root:postfix 0640, and these parameters in proxy_read_maps.\n");
	buf_printf(b, "recipient_delimiter = %s\n", g->c->recipient_delimiter);
	buf_printf(b,
	    "# Where postino creates the maildirs (Dovecot delivers them over LMTP).\nvirtual_mailbox_base = %s\n",
	    g->base);
	if (podop) {
		buf_printf(b,
		    "# podop answers for the whole PostfixAdmin schema (alias domains, catch-alls,\n# extensions) over socketmap: run it with podop-postfix.toml.\n");
		buf_puts(b, "virtual_mailbox_domains = ");
		sock_ref(g, b, "domain");
		buf_puts(b, "\nvirtual_alias_maps = ");
		sock_ref(g, b, "alias");
		if (g->lists)
			buf_puts(b, LIST_RCPT_COMMENT);
		buf_puts(b, "\nvirtual_mailbox_maps = ");
		sock_ref(g, b, "mailbox");
	} else {
		buf_puts(b, "virtual_mailbox_domains = ");
		map_ref(g, b, "sql-virtual_domains.cf");
		buf_puts(b, "\nvirtual_alias_maps = ");
		map_ref(g, b, "sql-virtual_alias_maps.cf");
		buf_puts(b, ",\n    ");
		map_ref(g, b, "sql-virtual_alias_alias_domain_maps.cf");
		buf_puts(b, ",\n    ");
		map_ref(g, b, "sql-virtual_alias_domain_catchall_maps.cf");
		if (g->lists)
			buf_puts(b, LIST_RCPT_COMMENT);
		buf_puts(b, "\nvirtual_mailbox_maps = ");
		map_ref(g, b, "sql-virtual_mailbox_maps.cf");
		buf_puts(b, ",\n    ");
		map_ref(g, b, "sql-virtual_mailbox_alias_domain_maps.cf");
	}
	if (g->lists) {
		buf_puts(b, ",\n    ");
		if (g->routes_podop)
			sock_ref(g, b, "routes");
		else
			map_ref(g, b, "sql-routes.cf");
	}
	buf_printf(b,
	    "\n# Mail for mailboxes goes to Dovecot over LMTP.\n"
	    "virtual_transport = lmtp:%s\n",
	    g->c->lmtp_destination);
	if (g->lists)
		buf_printf(b,
		    "# Mailing lists first (postino's routes table), then the domains' transports.\n");
	buf_puts(b, "transport_maps = ");
	if (g->lists) {
		if (g->routes_podop)
			sock_ref(g, b, "routes");
		else
			map_ref(g, b, "sql-routes.cf");
		buf_puts(b, ",\n    ");
	}
	if (podop)
		sock_ref(g, b, "transport");
	else
		map_ref(g, b, "sql-virtual_transport_maps.cf");
	buf_puts(b, "\nsmtpd_sender_login_maps = ");
	if (podop)
		sock_ref(g, b, "sender_login");
	else
		map_ref(g, b, "sql-virtual_sender_login_maps.cf");
	buf_putc(b, '\n');
	if (g->lists) {
		buf_printf(b,
		    "# pipe(8) finds a list's directory from ${user}: one recipient per delivery.\n");
		for (size_t i = 0; mlmmj_services[i] != NULL; i++)
			buf_printf(b, "%s_destination_recipient_limit = 1\n",
			    mlmmj_services[i]);
	}
}

void
gen_master_cf(struct gen *g)
{
	const char *spool = g->c->mlmmj_spool_dir, *bin = g->o->mlmmj_bindir;
	struct buf *b;

	if (!g->lists ||
	    (b = add_file(g, "master_cf", "postfix/master.cf", 0644)) == NULL)
		return;
	buf_printf(b,
	    "# master.cf services for postino's mailing lists (mlmmj), written by\n# 'postino config gen'.  Add them to %s/master.cf and run\n# 'postfix reload'.\n#\n# A list's route sends list@ and every list+keyword@ address mlmmj uses\n"
	    "# (bounces, confirmations, commands) to mlmmj-receive, which runs the other\n"
	    "# mlmmj programs itself; mlmmj-bounce, mlmmj-sub and mlmmj-unsub serve the\n# routes the Python postino wrote.\n",
	    g->o->postfix_dir);
	buf_printf(b,
	    "mlmmj-receive unix - n n - - pipe\n  flags=DRhu user=%s argv=%s/mlmmj-receive -F\n  -L %s/${domain}/${user}\n",
	    g->o->mlmmj_user, bin, spool);
	buf_printf(b,
	    "mlmmj-bounce unix - n n - - pipe\n  flags=DRhu user=%s argv=%s/mlmmj-bounce\n  -L %s/${domain}/${user} -a ${sender}\n",
	    g->o->mlmmj_user, bin, spool);
	buf_printf(b,
	    "mlmmj-sub unix - n n - - pipe\n  flags=DRhu user=%s argv=%s/mlmmj-sub\n  -L %s/${domain}/${user} -m ${extension}\n",
	    g->o->mlmmj_user, bin, spool);
	buf_printf(b,
	    "mlmmj-unsub unix - n n - - pipe\n  flags=DRhu user=%s argv=%s/mlmmj-unsub\n  -L %s/${domain}/${user} -m ${extension}\n",
	    g->o->mlmmj_user, bin, spool);
}

int
gen_sql_maps(struct gen *g, struct err *err)
{
	char *sql;
	struct buf *b;

	if (g->o->lookups != MAPGEN_SQL)
		return 0;
	for (const struct mapgen_map *m = mapgen_maps; m->file != NULL; m++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "postfix/%s", m->file);
		if ((b = add_file(g, m->artefact, rel, 0640)) != NULL &&
		    mapgen_render(m, g->p, b, err) == -1)
			return -1;
	}
	if (!g->lists || g->routes_podop ||
	    (b = add_file(g, "sql_routes", "postfix/sql-routes.cf", 0640)) ==
		NULL)
		return 0;
	sql = routes_sql(g->p->engine); /* not NULL: !routes_podop */
	buf_printf(b,
	    "# sql-routes.cf: mailing-list routes (transport_maps first, and\n# virtual_mailbox_maps)\n# Generated by postino; read by Postfix.\n");
	buf_printf(b, "hosts = %s\nuser = %s\npassword = %s\ndbname = %s\n",
	    g->p->hosts ? g->p->hosts : "localhost",
	    g->p->user ? g->p->user : "", g->p->password ? g->p->password : "",
	    g->p->dbname ? g->p->dbname : "");
	buf_printf(b, "query = %s\n", sql);
	free(sql);
	return 0;
}
