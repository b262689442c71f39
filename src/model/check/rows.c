/*
 * Row probes: rows that refer to each other, limits, quotas, identity rows.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cf.h"
#include "check.h"
#include "db.h"
#include "domain.h"
#include "identity.h"
#include "mapgen.h"
#include "maildir.h"
#include "model.h"
#include "password.h"
#include "pfchroot.h"
#include "schema.h"
#include "strutil.h"
#include "xalloc.h"
#include "probe.h"

#include "banned.h"

/*
 * postino_domain rows that no longer belong to a domain: PostfixAdmin
 * deleted the domain (and perhaps created it again, with a new `created`).
 * postino does not apply them; their default quota is gone.
 */
void
probe_domain_ext(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct sample stale, gone;
	struct db_res *r;
	int rc;

	rc = db_column_exists(c->db, "postino_domain", "domain_created", &err);
	if (rc == 0)
		return; /* schema_version reports the missing migration */
	if (rc == 1)
		rc = db_query(c->db,
		    "SELECT p.domain, CASE WHEN EXISTS (SELECT 1 FROM domain "
		    "x WHERE x.domain = p.domain) THEN 1 ELSE 0 END FROM "
		    "postino_domain p LEFT JOIN domain d ON d.domain = "
		    "p.domain AND d.created = p.domain_created WHERE d.domain "
		    "IS NULL ORDER BY p.domain",
		    NULL, 0, 0, &r, &err);
	if (rc == -1) {
		finding(c, "postino_domain_stale", CHECK_INFO,
		    "not checked: %s", err.msg);
		return;
	}
	sample_init(&stale);
	sample_init(&gone);
	while ((rc = db_next(r, &err)) == 1)
		sample_add(
		    db_col_int(r, 1, 0) ? &stale : &gone, "'%s'", col(r, 0));
	db_res_free(&r);
	/* Created again: the admin's default quota silently went away. */
	if (stale.n > 0)
		finding(c, "postino_domain_stale", CHECK_WARN,
		    "%zu %s deleted and created again outside postino, so the default quota postino kept no longer applies: %s; set it again ('postino import --update') and delete the old postino_domain rows",
		    stale.n,
		    plural((int64_t)stale.n, "domain was", "domains were"),
		    sample_text(&stale));
	/* Gone: a harmless leftover, removed by the next 'domain add'. */
	if (gone.n > 0)
		finding(c, "postino_domain_stale", CHECK_INFO,
		    "%zu postino_domain %s for a domain deleted outside postino and not applied: %s",
		    gone.n, plural((int64_t)gone.n, "row is", "rows are"),
		    sample_text(&gone));
	if (stale.n == 0 && gone.n == 0)
		finding(c, "postino_domain_stale", CHECK_INFO,
		    "every postino_domain row belongs to its domain");
	sample_release(&stale);
	sample_release(&gone);
}

/*
 * domain.maxquota / domain.quota are megabytes in PostfixAdmin; Python
 * postino stored bytes there, which read as petabytes: no limit at all.
 */
void
probe_quota_units(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct db_arg t[] = { DB_INT(SCHEMA_BYTE_QUOTA_MIN),
		DB_INT(SCHEMA_BYTE_QUOTA_MIN) };
	struct sample big;

	sample_init(&big);
	if (sample_query(c,
		"SELECT domain FROM domain WHERE domain <> 'ALL' AND "
		"(maxquota >= ? OR quota >= ?) ORDER BY domain",
		t, DB_NARGS(t), &big, NULL, &err) == -1)
		finding(c, "domain_quota_units", CHECK_INFO, "not checked: %s",
		    err.msg);
	else
		finding_if(c, big.n > 0, "domain_quota_units", CHECK_WARN,
		    "every domain quota is in PostfixAdmin's megabytes",
		    "%zu %s a maximum or total quota of a terabyte or more per PostfixAdmin megabyte, most likely bytes written by Python postino, so nothing is enforced: %s; 'postino schema migrate --dry-run' shows the conversion",
		    big.n, plural((int64_t)big.n, "domain has", "domains have"),
		    sample_text(&big));
	sample_release(&big);
}

void
probe_references(struct ctx *c)
{
	struct sample mb, al;

	if (need_data(c, D_DOMAIN | D_MAILBOX | D_ALIAS) == -1)
		return;
	sample_init(&mb);
	sample_init(&al);
	for (size_t i = 0; i < c->d.nmbxs; i++)
		if (!smap_get(&c->d.dom_ix, c->d.mbxs[i].domain, NULL))
			sample_add(&mb, "'%s' (domain '%s')",
			    c->d.mbxs[i].username, c->d.mbxs[i].domain);
	for (size_t i = 0; i < c->d.nalss; i++)
		if (!smap_get(&c->d.dom_ix, c->d.alss[i].domain, NULL))
			sample_add(&al, "'%s' (domain '%s')",
			    c->d.alss[i].address, c->d.alss[i].domain);
	finding_if(c, mb.n > 0, "mailbox_domain_fk", CHECK_ERROR,
	    "every mailbox belongs to an existing domain",
	    "%zu %s to a domain that does not exist, so Postfix rejects their mail: %s; add the domain or delete the mailboxes",
	    mb.n, plural((int64_t)mb.n, "mailbox belongs", "mailboxes belong"),
	    sample_text(&mb));
	finding_if(c, al.n > 0, "alias_domain_fk", CHECK_ERROR,
	    "every alias belongs to an existing domain",
	    "%zu %s to a domain that does not exist: %s; add the domain or delete the aliases",
	    al.n, plural((int64_t)al.n, "alias belongs", "aliases belong"),
	    sample_text(&al));
	sample_release(&mb);
	sample_release(&al);
}

void
probe_quota2(struct ctx *c)
{
	struct sample miss;

	if (need_data(c, D_MAILBOX | D_QUOTA2) == -1)
		return;
	sample_init(&miss);
	for (size_t i = 0; i < c->d.nmbxs; i++)
		if (!c->d.mbxs[i].quota2)
			sample_add(&miss, "'%s'", c->d.mbxs[i].username);
	if (miss.n > 0)
		/*
		 * PostfixAdmin never writes quota2: Dovecot's dict quota
		 * adds the row on first use.  Normal, not a fault.
		 */
		finding(c, "quota2_pairing", CHECK_INFO,
		    "%zu %s no quota2 row yet (Dovecot writes one on first use, as on PostfixAdmin's mailboxes): %s; 'doveadm quota recalc -A' fills them now",
		    miss.n,
		    plural((int64_t)miss.n, "mailbox has", "mailboxes have"),
		    sample_text(&miss));
	else
		finding(c, "quota2_pairing", CHECK_INFO,
		    "every mailbox has a quota2 row");
	finding_if(c, c->d.quota2_orphans > 0, "quota2_orphans", CHECK_WARN,
	    "every quota2 row belongs to a mailbox",
	    "%zu quota2 %s no mailbox: %s; delete them", c->d.quota2_orphans,
	    plural((int64_t)c->d.quota2_orphans, "row has", "rows have"),
	    sample_text(&c->d.quota2_sample));
	sample_release(&miss);
}

/*
 * PostfixAdmin's other per-mailbox rows (fetchmail jobs, vacation, its
 * notifications, the old quota table) whose mailbox is gone: a fetchmail
 * job still polls into nothing, a vacation row would answer again for a
 * re-created address.
 */
void
probe_mailbox_rows(struct ctx *c)
{
	static const struct {
		const char *table, *col;
	} t[] = {
		{ "fetchmail", "mailbox" },
		{ "vacation", "email" },
		{ "vacation_notification", "on_vacation" },
		{ "quota", "username" },
	};
	struct sample orph;
	struct err err = ERR_INIT;
	char sql[256];

	sample_init(&orph);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = db_table_exists(c->db, t[i].table, &err);

		if (rc == 0)
			continue;
		if (rc == 1) {
			snprintf(sql, sizeof(sql),
			    "SELECT DISTINCT %s FROM %s WHERE %s NOT IN "
			    "(SELECT username FROM mailbox) ORDER BY %s",
			    t[i].col, t[i].table, t[i].col, t[i].col);
			rc = sample_query(
			    c, sql, NULL, 0, &orph, t[i].table, &err);
		}
		if (rc == -1) {
			finding(c, "mailbox_row_orphans", CHECK_INFO,
			    "not checked: %s", err.msg);
			sample_release(&orph);
			return;
		}
	}
	finding_if(c, orph.n > 0, "mailbox_row_orphans", CHECK_WARN,
	    "every fetchmail, vacation and quota row belongs to a mailbox",
	    "%zu PostfixAdmin %s no mailbox: %s; delete them (postino does on 'user del')",
	    orph.n, plural((int64_t)orph.n, "row has", "rows have"),
	    sample_text(&orph));
	sample_release(&orph);
}

/* Whether the comma-separated list has addr (case-insensitive). */
static bool
goto_has(const char *list, const char *addr)
{
	size_t al = strlen(addr);

	while (*list != '\0') {
		size_t n;

		list += strspn(list, " ,");
		n = strcspn(list, " ,");
		if (n == al && strncasecmp(list, addr, n) == 0)
			return true;
		list += n;
	}
	return false;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

void
probe_self_alias(struct ctx *c)
{
	struct data *d = &c->d;
	struct sample miss, orphans, dead, live;
	bool swallowed = false;

	if (need_data(c, D_DOMAIN | D_MAILBOX | D_ALIAS) == -1)
		return;
	sample_init(&miss);
	sample_init(&orphans);
	sample_init(&dead);
	sample_init(&live);
	for (size_t i = 0; i < d->nalss; i++) {
		const struct als *a = &d->alss[i];
		size_t k;

		if (a->address[0] == '@' && a->active &&
		    smap_get(&d->dom_ix, a->address + 1, &k))
			d->doms[k].catchall = true;
	}
	for (size_t i = 0; i < d->nmbxs; i++) {
		const struct mbx *m = &d->mbxs[i];
		size_t k;

		if (smap_get(&d->als_ix, m->username, &k)) {
			if (m->active && !d->alss[k].active)
				sample_add(&dead, "'%s'", m->username);
			else if (!m->active && d->alss[k].active)
				sample_add(&live, "'%s'", m->username);
			continue;
		}
		if (smap_get(&d->dom_ix, domain_of(m->username), &k) &&
		    d->doms[k].catchall) {
			swallowed = true;
			sample_add(&miss, "'%s' (its domain has a catch-all)",
			    m->username);
		} else
			sample_add(&miss, "'%s'", m->username);
	}
	for (size_t i = 0; i < d->nalss; i++) {
		const struct als *a = &d->alss[i];

		if (a->address[0] != '@' && goto_has(a->gotos, a->address) &&
		    !smap_get(&d->mbx_ix, a->address, NULL))
			sample_add(&orphans, "'%s'", a->address);
	}
	finding_if(c, miss.n > 0, "mailbox_self_alias",
	    swallowed ? CHECK_ERROR : CHECK_WARN,
	    "every mailbox has its self-alias",
	    "%zu %s no self-alias row (alias address = goto = the mailbox)%s: %s; add it with 'postino alias add ADDR ADDR'",
	    miss.n, plural((int64_t)miss.n, "mailbox has", "mailboxes have"),
	    swallowed
		? ", so a catch-all takes their mail"
		: ", which PostfixAdmin expects and a future catch-all would need",
	    sample_text(&miss));
	if (dead.n > 0)
		finding(c, "self_alias_state", CHECK_ERROR,
		    "%zu active %s an inactive alias row, so Postfix sends their mail to a catch-all or bounces it: %s; run 'postino user enable' on them",
		    dead.n,
		    plural((int64_t)dead.n, "mailbox has", "mailboxes have"),
		    sample_text(&dead));
	if (live.n > 0)
		finding(c, "self_alias_state", CHECK_WARN,
		    "%zu disabled %s an active alias row, so their forwards and vacation replies go on: %s; run 'postino user disable' on them",
		    live.n,
		    plural((int64_t)live.n, "mailbox has", "mailboxes have"),
		    sample_text(&live));
	if (dead.n == 0 && live.n == 0)
		finding(c, "self_alias_state", CHECK_INFO,
		    "every mailbox's alias row is as active as the mailbox");
	finding_if(c, orphans.n > 0, "self_alias_orphans", CHECK_WARN,
	    "every self-alias has its mailbox",
	    "%zu %s to itself but no mailbox exists, so that copy bounces: %s; delete the alias or remove itself from its destinations",
	    orphans.n,
	    plural((int64_t)orphans.n, "alias delivers", "aliases deliver"),
	    sample_text(&orphans));
	sample_release(&miss);
	sample_release(&orphans);
	sample_release(&dead);
	sample_release(&live);
}

/* Whether addr (lower or mixed case) is an address this system accepts. */
static bool
dest_known(const struct ctx *c, const char *addr)
{
	const struct data *d = &c->d;
	char key[ADDR_MAX + 2];

	if (smap_get(&d->mbx_ix, addr, NULL) ||
	    smap_get(&d->als_ix, addr, NULL) || smap_get(&d->lists, addr, NULL))
		return true;
	snprintf(key, sizeof(key), "@%s", domain_of(addr));
	return smap_get(&d->als_ix, key, NULL);
}

/* Whether a local destination resolves; non-local ones always do. */
static bool
dest_resolves(const struct ctx *c, const char *dest)
{
	const struct data *d = &c->d;
	const char *at = strrchr(dest, '@'), *dom, *delim;
	char addr[ADDR_MAX + 2], local[ADDR_MAX];
	size_t k, ll;

	if (at == NULL || at == dest || strlen(dest) >= ADDR_MAX)
		return true; /* local Unix user, or not ours to judge */
	dom = at + 1;
	if (str_eq_nocase(dom, c->conf->vacation_domain))
		return true;
	ll = (size_t)(at - dest);
	snprintf(local, sizeof(local), "%.*s", (int)ll, dest);
	if (smap_get(&d->adom_ix, dom, &k))
		dom = d->adoms[k].target;
	if (!smap_get(&d->dom_ix, dom, &k))
		return true; /* a remote domain */
	if (d->doms[k].backupmx || str_prefix(d->doms[k].transport, "relay") ||
	    str_prefix(d->doms[k].transport, "smtp"))
		return true;
	snprintf(addr, sizeof(addr), "%s@%s", local, dom);
	if (dest_known(c, addr))
		return true;
	delim = c->conf->recipient_delimiter;
	if (delim[0] != '\0' && (ll = strcspn(local, delim)) < strlen(local)) {
		snprintf(addr, sizeof(addr), "%.*s@%s", (int)ll, local, dom);
		return dest_known(c, addr);
	}
	return false;
}

void
probe_destinations(struct ctx *c)
{
	struct data *d = &c->d;
	struct sample bad;
	char dest[ADDR_MAX + 2];

	if (need_data(c, D_DOMAIN | D_ADOM | D_MAILBOX | D_ALIAS | D_LISTS) ==
	    -1)
		return;
	sample_init(&bad);
	for (size_t i = 0; i < d->nalss; i++) {
		const struct als *a = &d->alss[i];
		const char *p = a->gotos;

		if (!a->active)
			continue;
		while (*p != '\0') {
			size_t n;

			p += strspn(p, " ,");
			n = strcspn(p, " ,");
			if (n == 0)
				break;
			snprintf(dest, sizeof(dest), "%.*s", (int)n, p);
			p += n;
			if (str_eq_nocase(dest, a->address))
				continue; /* self-alias: see above */
			if (!dest_resolves(c, dest))
				sample_add(
				    &bad, "'%s' -> '%s'", a->address, dest);
		}
	}
	finding_if(c, bad.n > 0, "alias_destinations", CHECK_ERROR,
	    "every local alias destination exists",
	    "%zu alias %s to local addresses that do not exist, so those copies bounce: %s; fix them with 'postino alias edit'",
	    bad.n,
	    plural((int64_t)bad.n, "destination points", "destinations point"),
	    sample_text(&bad));
	sample_release(&bad);
}

void
probe_alias_domains(struct ctx *c)
{
	struct data *d = &c->d;
	struct sample chain, refs;

	if (need_data(c, D_DOMAIN | D_ADOM) == -1)
		return;
	sample_init(&chain);
	sample_init(&refs);
	for (size_t i = 0; i < d->nadoms; i++) {
		const struct adom *a = &d->adoms[i];

		if (str_eq_nocase(a->alias, a->target))
			sample_add(&chain, "'%s' -> itself", a->alias);
		else if (smap_get(&d->adom_ix, a->target, NULL))
			sample_add(&chain,
			    "'%s' -> '%s', itself an alias domain", a->alias,
			    a->target);
		if (!smap_get(&d->dom_ix, a->alias, NULL))
			sample_add(&refs, "alias domain '%s' is not a domain",
			    a->alias);
		if (!smap_get(&d->dom_ix, a->target, NULL))
			sample_add(&refs, "target '%s' of '%s' is not a domain",
			    a->target, a->alias);
	}
	if (chain.n > 0)
		finding(c, "alias_domain_chain", CHECK_ERROR,
		    "Postfix rewrites an alias domain only once, so these never deliver: %s; point them at the final domain ('postino domain alias retarget')",
		    sample_text(&chain));
	else
		finding(c, "alias_domain_chain", CHECK_INFO,
		    "%zu alias %s, none chained", d->nadoms,
		    plural((int64_t)d->nadoms, "domain", "domains"));
	finding_if(c, refs.n > 0, "alias_domain_refs", CHECK_ERROR,
	    "every alias domain and its target are domains",
	    "%s; add the domains or delete the alias domains",
	    sample_text(&refs));
	sample_release(&chain);
	sample_release(&refs);
}

void
probe_limits(struct ctx *c)
{
	struct data *d = &c->d;
	struct sample lim, maxq, total;
	char a[64], b[64];

	if (need_data(c, D_DOMAIN | D_MAILBOX | D_ALIAS) == -1)
		return;
	sample_init(&lim);
	sample_init(&maxq);
	sample_init(&total);
	for (size_t i = 0; i < d->ndoms; i++) {
		d->doms[i].nmailboxes = d->doms[i].naliases = 0;
		d->doms[i].sumquota = 0;
		d->doms[i].nunlimited = 0;
	}
	for (size_t i = 0; i < d->nmbxs; i++) {
		const struct mbx *m = &d->mbxs[i];
		struct dom *o;
		size_t k;

		if (!smap_get(&d->dom_ix, m->domain, &k))
			continue;
		o = &d->doms[k];
		o->nmailboxes++;
		if (m->quota <= 0)
			o->nunlimited++;
		else if (o->sumquota <= INT64_MAX - m->quota)
			o->sumquota += m->quota;
		if (o->maxquota > 0 && m->quota <= 0)
			sample_add(&maxq, "'%s' (unlimited, domain maximum %s)",
			    m->username,
			    quota_format(o->maxquota, a, sizeof(a)));
		else if (o->maxquota > 0 && m->quota > o->maxquota)
			sample_add(&maxq, "'%s' (%s, domain maximum %s)",
			    m->username, quota_format(m->quota, a, sizeof(a)),
			    quota_format(o->maxquota, b, sizeof(b)));
	}
	for (size_t i = 0; i < d->nalss; i++) {
		size_t k;

		/* Like PostfixAdmin, mailbox self-aliases do not count. */
		if (smap_get(&d->mbx_ix, d->alss[i].address, NULL) ||
		    !smap_get(&d->dom_ix, d->alss[i].domain, &k))
			continue;
		d->doms[k].naliases++;
	}
	for (size_t i = 0; i < d->ndoms; i++) {
		const struct dom *o = &d->doms[i];

		if ((o->max_mailboxes > 0 &&
			o->nmailboxes > o->max_mailboxes) ||
		    (o->max_mailboxes < 0 && o->nmailboxes > 0))
			sample_add(&lim, "'%s' has %lld mailboxes, limit %lld",
			    o->name, (long long)o->nmailboxes,
			    (long long)o->max_mailboxes);
		if ((o->max_aliases > 0 && o->naliases > o->max_aliases) ||
		    (o->max_aliases < 0 && o->naliases > 0))
			sample_add(&lim, "'%s' has %lld aliases, limit %lld",
			    o->name, (long long)o->naliases,
			    (long long)o->max_aliases);
		if (o->quota > 0 && o->nunlimited > 0)
			sample_add(&total,
			    "'%s' (%zu unlimited %s, domain total %s)", o->name,
			    o->nunlimited,
			    plural(
				(int64_t)o->nunlimited, "mailbox", "mailboxes"),
			    quota_format(o->quota, a, sizeof(a)));
		else if (o->quota > 0 && o->sumquota > o->quota)
			sample_add(&total,
			    "'%s' (%s allotted, domain total %s)", o->name,
			    quota_format(o->sumquota, a, sizeof(a)),
			    quota_format(o->quota, b, sizeof(b)));
	}
	finding_if(c, lim.n > 0, "domain_limits", CHECK_WARN,
	    "every domain is within its mailbox and alias limits",
	    "over their limits (-1 = none allowed): %s; raise the limits or remove entries",
	    sample_text(&lim));
	finding_if(c, maxq.n > 0, "mailbox_maxquota", CHECK_WARN,
	    "every mailbox quota is within its domain's maximum",
	    "%zu %s over their domain's per-mailbox maximum: %s; lower them ('postino user quota --set') or raise the maximum",
	    maxq.n, plural((int64_t)maxq.n, "mailbox is", "mailboxes are"),
	    sample_text(&maxq));
	finding_if(c, total.n > 0, "domain_quota_total", CHECK_WARN,
	    "every domain's mailbox quotas fit its total",
	    "mailbox quotas add up to more than the domain total: %s; lower them or raise the total",
	    sample_text(&total));
	sample_release(&lim);
	sample_release(&maxq);
	sample_release(&total);
}

/* IdP subjects (identity.h): rows without a mailbox, mailboxes twice. */
void
probe_identity(struct ctx *c)
{
	struct identity_problems p;
	struct err err = ERR_INIT;
	int r = db_table_exists(c->db, "postino_identity", &err);

	if (r == 0)
		return; /* schema_version says to migrate */
	if (r == -1 || identity_problems(c->db, &p, &err) == -1) {
		finding(c, "identity_rows", CHECK_ERROR,
		    "cannot read postino_identity: %s", err.msg);
		return;
	}
	finding_if(c, p.dangling > 0, "identity_rows", CHECK_WARN,
	    "every identity row belongs to a mailbox",
	    "%zu identity %s no mailbox: %s; delete them from postino_identity (the IdP's events for them answer 404)",
	    p.dangling, plural((int64_t)p.dangling, "row has", "rows have"),
	    p.dangling_sample);
	finding_if(c, p.doubled > 0, "identity_claims", CHECK_ERROR,
	    "no mailbox is claimed by two subjects of one identity provider",
	    "%zu %s claimed by several subjects of one identity provider: %s; keep one row per mailbox and issuer in postino_identity",
	    p.doubled,
	    plural((int64_t)p.doubled, "mailbox is", "mailboxes are"),
	    p.doubled_sample);
}
