/*
 * podop's part of "postino config gen": its configuration when Postfix or
 * Dovecot ask it.
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

static void
podop_common(struct gen *g, struct buf *b, const char *socket, const char *mode,
    const char *owner)
{
	buf_printf(b,
	    "postfix_sql_dir = \"%s\"\npostfix_sql_engine = \"%s\"\n"
	    "virtual_mailbox_base = \"%s\"\nvmail_uid = %lld\nvmail_gid = %lld\nrecipient_delimiter = \"%s\"\n\n[podop]\nsocket = \"%s\"\n"
	    "mode = \"%s\"\n",
	    g->c->postfix_sql_dir, db_engine_name(g->p->engine),
	    g->c->virtual_mailbox_base, (long long)g->c->vmail_uid,
	    (long long)g->c->vmail_gid, g->c->recipient_delimiter, socket,
	    mode);
	if (g->c->podop.user[0] != '\0')
		buf_printf(b, "user = \"%s\"\n", g->c->podop.user);
	buf_printf(b,
	    "socket_owner = \"%s\"\nsocket_mode = \"%s\"\n\n"
	    "[podop.tables]\n",
	    g->c->podop.socket_owner[0] != '\0' ? g->c->podop.socket_owner
						: owner,
	    g->c->podop.socket_mode);
}

void
gen_podop(struct gen *g)
{
	static const char *const tables[] = { "domain", "alias", "mailbox",
		"routes", "transport", "sender_login", NULL };
	struct buf *b;

	if ((g->o->lookups == MAPGEN_PODOP || (g->lists && g->routes_podop)) &&
	    (b = add_file(g, "podop_postfix", "podop/podop-postfix.toml",
		 0644)) != NULL) {
		buf_printf(b,
		    "# podop for Postfix (socketmap), written by 'postino config gen'.\n# Run: podop -c <this file>.  The database is the one of\n# <postfix_sql_dir>/sql-virtual_mailbox_maps.cf, as for postino.\n");
		podop_common(g, b, g->o->podop_socket, "postfix", "postfix");
		for (size_t i = 0; tables[i] != NULL; i++)
			if (g->o->lookups == MAPGEN_PODOP ||
			    strcmp(tables[i], "routes") == 0)
				buf_printf(b, "%s = \"postfixadmin:%s\"\n",
				    tables[i], tables[i]);
	}
	if (g->o->lookups == MAPGEN_PODOP &&
	    (b = add_file(g, "podop_dovecot", "podop/podop-dovecot.toml",
		 0644)) != NULL) {
		buf_printf(b,
		    "# podop for Dovecot %s (%squota_clone), written by 'postino config gen'.\n# Run: podop -c <this file>.\n",
		    g->v24 ? "2.4" : "2.3",
		    g->dict_auth ? "dict passdb/userdb, " : "");
		podop_common(
		    g, b, g->o->podop_dict_socket, "dovecot", "dovecot");
		buf_puts(b, "auth = \"postfixadmin:dovecot\"\n");
	}
}
