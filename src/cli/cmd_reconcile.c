/*
 * postino reconcile --source scim-json FILE | zitadel: compare the people
 * of an identity provider with the mailboxes, and with --apply make the
 * changes its receiver (the SCIM API, the Zitadel webhook) would have
 * made.  The sources (the SCIM ListResponse reader below, the Zitadel
 * user service client in reconcile_zitadel.c) only produce a struct
 * people (reconcile.h); the rules below are the same for every source.
 *
 * A person is matched to a mailbox by its subject stored under the
 * source's issuer (identity.h: "scim" for the SCIM externalId,
 * "zitadel:<instanceID>" for the Zitadel user id), else by its address,
 * else by any of its other addresses.  A person without a mailbox whose
 * address is of a domain postino does not manage is counted and left
 * out.  The domains of the matched mailboxes and of the missing ones are
 * the covered domains: only their mailboxes can be without a person.
 * Findings:
 *
 *   missing         an active person has no mailbox     (apply: create)
 *   unlinked        the person's mailbox is not tied to its subject
 *                   (Zitadel only: the webhook ties it) (apply: tie)
 *   still-active    an inactive person's mailbox is active (apply: disable)
 *   name            the display name differs            (apply: rename)
 *   absent          an active IdP mailbox ({NOAUTH} or with a subject of
 *                   the issuer) whose person is not listed (apply: disable)
 *   no-person       any other mailbox of a covered domain without a
 *                   person: a warning, never changed
 *
 * For Zitadel (whole_issuer), every active mailbox tied to a user of the
 * instance that the listing lacks is absent, whatever its domain (a
 * removed user is no longer listed).  Errors exit 4 as in "check";
 * warnings alone exit 0.  One transaction per person, through the model
 * functions that write the audit rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "domain.h"
#include "identity.h"
#include "mailbox.h"
#include "reconcile.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define EX_FINDINGS 4

enum kind {
	K_MISSING,
	K_UNLINKED,
	K_STILL_ACTIVE,
	K_NAME,
	K_ABSENT,
	K_NO_PERSON
};

static const char *const kind_names[] = { "missing", "unlinked", "still-active",
	"name", "absent", "no-person" };

struct finding {
	enum kind kind;
	char address[ADDR_MAX];
	char subject[IDENTITY_SUBJECT_MAX];
	char name[256];	    /* the IdP's name (missing, name) */
	char old_name[256]; /* the mailbox's (name) */
	char given[256];    /* the IdP's names (keep_names) */
	char family[256];
	bool applied;
	char error[512];
};

struct rec {
	struct cli *c;
	struct people *pp;
	struct finding *v;
	size_t n, cap;
	char **domains; /* covered, lower case */
	size_t ndomains;
	char **unmanaged; /* domains postino does not manage */
	size_t nunmanaged;
	size_t other_domain; /* people of those */
	char **seen;	     /* mailboxes matched to a person, then sorted */
	size_t nseen, seencap;
};

/* --- people ------------------------------------------------------------ */

struct person *
people_add(struct people *pp, const char *address, const char *subject,
    const char *name, bool active)
{
	struct person *p;

	if (pp->n == pp->cap) {
		pp->cap = pp->cap ? 2 * pp->cap : 64;
		pp->v = xrealloc(pp->v, pp->cap * sizeof(*pp->v));
	}
	p = &pp->v[pp->n];
	memset(p, 0, sizeof(*p));
	p->index = pp->n++;
	p->address = xstrdup(address);
	p->subject =
	    subject != NULL && *subject != '\0' ? xstrdup(subject) : NULL;
	p->name = xstrdup(name != NULL ? name : "");
	p->active = active;
	return p;
}

void
people_alt(struct person *p, const char *address)
{
	if (address == NULL || *address == '\0')
		return;
	p->alt = xrealloc(p->alt, (p->nalt + 1) * sizeof(*p->alt));
	p->alt[p->nalt++] = xstrdup(address);
}

void
people_release(struct people *pp)
{
	for (size_t i = 0; i < pp->n; i++) {
		struct person *p = &pp->v[i];

		free(p->address);
		free(p->subject);
		free(p->name);
		free(p->given);
		free(p->family);
		for (size_t j = 0; j < p->nalt; j++)
			free(p->alt[j]);
		free(p->alt);
	}
	free(pp->v);
	pp->v = NULL;
	pp->n = pp->cap = 0;
}

/* --- comparison -------------------------------------------------------- */

static struct finding *
add_finding(struct rec *r, enum kind k, const char *address)
{
	struct finding *f;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	f = &r->v[r->n++];
	memset(f, 0, sizeof(*f));
	f->kind = k;
	str_copy(f->address, address, sizeof(f->address));
	return f;
}

static bool
in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
push(char ***v, size_t *n, const char *s)
{
	if (in_list(*v, *n, s))
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/* Seen mailboxes: appended while comparing, sorted before the scans. */
static void
seen_add(struct rec *r, const char *username)
{
	if (r->nseen == r->seencap) {
		r->seencap = r->seencap ? 2 * r->seencap : 64;
		r->seen = xrealloc(r->seen, r->seencap * sizeof(*r->seen));
	}
	r->seen[r->nseen++] = xstrdup(username);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
seen_has(struct rec *r, const char *username)
{
	const char *k = username;

	return r->nseen > 0 &&
	    bsearch(&k, r->seen, r->nseen, sizeof(*r->seen), cmp_str) != NULL;
}

/* Whether postino manages domain: 1, 0, -1 with err. */
static int
managed(struct rec *r, const char *domain, struct err *err)
{
	struct domain_rec d;
	int rc;

	if (in_list(r->domains, r->ndomains, domain))
		return 1;
	if (in_list(r->unmanaged, r->nunmanaged, domain))
		return 0;
	if ((rc = domain_get(&r->c->model, domain, &d, err)) == 1) {
		push(&r->domains, &r->ndomains, domain);
		return 1;
	}
	if (rc == -1 && err->kind != ERR_NOTFOUND)
		return -1;
	err_clear(err);
	push(&r->unmanaged, &r->nunmanaged, domain);
	return 0;
}

/* The first other address of p that is a mailbox: 1, 0 none, -1. */
static int
by_alt(struct model *m, const struct person *p, struct mailbox_rec *mb,
    struct err *err)
{
	for (size_t i = 0; i < p->nalt; i++) {
		char a[ADDR_MAX];
		int rc;

		if (addr_address("email", p->alt[i], a, NULL, NULL, err) ==
		    -1) {
			err_clear(err);
			continue;
		}
		if ((rc = mailbox_get(m, a, mb, err)) != 0)
			return rc;
		err_clear(err);
	}
	return 0;
}

static void
set_names(struct finding *f, const struct person *p)
{
	if (p->subject != NULL)
		str_copy(f->subject, p->subject, sizeof(f->subject));
	str_copy(f->given, p->given != NULL ? p->given : "", sizeof(f->given));
	str_copy(
	    f->family, p->family != NULL ? p->family : "", sizeof(f->family));
}

/* One person against the mailboxes. */
static int
compare(struct rec *r, const struct person *p, struct err *err)
{
	struct model *m = &r->c->model;
	char addr[ADDR_MAX], dom[ADDR_MAX], user[ADDR_MAX];
	struct mailbox_rec mb;
	struct finding *f;
	const char *at;
	bool linked = false;
	int rc = 0;

	if (addr_address("address", p->address, addr, NULL, dom, err) == -1) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return err_set(
			   err, ERR_INVALID, "person %zu: %s", p->index, msg),
		       -1;
	}
	user[0] = '\0';
	if (p->subject != NULL &&
	    (rc = identity_find(
		 m, r->pp->issuer, p->subject, user, sizeof(user), err)) == -1)
		return -1;
	linked = rc == 1;
	if (!linked)
		str_copy(user, addr, sizeof(user));
	if ((rc = mailbox_get(m, user, &mb, err)) == -1)
		return -1;
	err_clear(err);
	/* Entra's userName is the UPN: the mailbox may be an email. */
	if (rc == 0 && (rc = by_alt(m, p, &mb, err)) == -1)
		return -1;
	if (rc == 0) {
		/* No mailbox: one is due only in a domain postino manages. */
		if ((rc = managed(r, dom, err)) == -1)
			return -1;
		if (rc == 0) {
			r->other_domain++;
			return 0;
		}
		if (!p->active)
			return 0;
		f = add_finding(r, K_MISSING, addr);
		str_copy(f->name, p->name, sizeof(f->name));
		set_names(f, p);
		return 0;
	}
	seen_add(r, mb.username);
	if ((at = strrchr(mb.username, '@')) != NULL)
		push(&r->domains, &r->ndomains, at + 1);
	if (!linked && p->subject != NULL && r->pp->link) {
		f = add_finding(r, K_UNLINKED, mb.username);
		set_names(f, p);
	}
	if (!p->active && mb.active)
		add_finding(r, K_STILL_ACTIVE, mb.username);
	if (p->name[0] != '\0' && strcmp(p->name, mb.name) != 0) {
		f = add_finding(r, K_NAME, mb.username);
		str_copy(f->name, p->name, sizeof(f->name));
		str_copy(f->old_name, mb.name, sizeof(f->old_name));
		set_names(f, p);
	}
	return 0;
}

static int
orphan(void *arg, const struct mailbox_rec *mb)
{
	struct rec *r = arg;
	char subject[IDENTITY_SUBJECT_MAX];
	struct err err = ERR_INIT;
	int rc;

	if (seen_has(r, mb->username))
		return 0;
	rc = identity_subject(&r->c->model, r->pp->issuer, mb->username,
	    subject, sizeof(subject), &err);
	if (rc == -1)
		return -1;
	if (mb->idp_managed || rc == 1) {
		if (mb->active)
			add_finding(r, K_ABSENT, mb->username);
	} else
		add_finding(r, K_NO_PERSON, mb->username);
	return 0;
}

struct tied {
	const char *issuer;
	char **v;
	size_t n;
};

static int
tied_one(void *arg, const struct identity_rec *ir)
{
	struct tied *t = arg;

	if (strcmp(ir->issuer, t->issuer) == 0) {
		t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
		t->v[t->n++] = xstrdup(ir->username);
	}
	return 0;
}

/*
 * Mailboxes tied to the issuer that no listed person matched: absent
 * when active.  They join the seen ones, so the domain scan skips them.
 */
static int
absent_of_issuer(struct rec *r, struct err *err)
{
	struct tied t = { r->pp->issuer, NULL, 0 };
	int rc = 0;

	if (identity_foreach(&r->c->model, NULL, tied_one, &t, err) == -1)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < t.n; i++) {
		struct mailbox_rec mb;
		int g;

		if (seen_has(r, t.v[i])) {
			free(t.v[i]);
			t.v[i] = NULL;
			continue;
		}
		if ((g = mailbox_get(&r->c->model, t.v[i], &mb, err)) == -1) {
			rc = -1;
			break;
		}
		err_clear(err);
		if (g == 1 && mb.active)
			add_finding(r, K_ABSENT, mb.username);
	}
	/* Added after the look-ups: seen_has needs the array sorted. */
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i] != NULL && rc == 0)
			seen_add(r, t.v[i]);
		free(t.v[i]);
	}
	free(t.v);
	if (r->nseen > 0)
		qsort(r->seen, r->nseen, sizeof(*r->seen), cmp_str);
	return rc;
}

/* --- the SCIM export --------------------------------------------------- */

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The address of a SCIM user: userName, else the primary (first) email. */
static const char *
scim_address(json_t *u)
{
	const char *un = jstr(u, "userName");
	json_t *ems = json_object_get(u, "emails"), *e;
	const char *first = NULL;
	size_t i;

	if (un != NULL && strchr(un, '@') != NULL)
		return un;
	json_array_foreach(ems, i, e)
	{
		const char *v = jstr(e, "value");

		if (v == NULL)
			continue;
		if (json_is_true(json_object_get(e, "primary")))
			return v;
		if (first == NULL)
			first = v;
	}
	return first != NULL ? first : un;
}

/* The name postino keeps: formatted, else "given family", else display. */
static void
scim_name(json_t *u, char *out, size_t size)
{
	json_t *n = json_object_get(u, "name");
	const char *f = jstr(n, "formatted"), *g = jstr(n, "givenName");
	const char *fam = jstr(n, "familyName"), *d = jstr(u, "displayName");
	char buf[512];

	out[0] = '\0';
	if (f != NULL && *f != '\0')
		str_copy(out, f, size);
	else if (g != NULL || fam != NULL) {
		snprintf(buf, sizeof(buf), "%s %s", g ? g : "", fam ? fam : "");
		str_copy(out, str_trim(buf), size);
	} else if (d != NULL)
		str_copy(out, d, size);
}

static int
bad(struct err *err, size_t i, const char *what)
{
	return err_set(err, ERR_INVALID, "Resources[%zu]: %s", i, what), -1;
}

/* One SCIM user into a person. */
static int
scim_person(struct people *pp, json_t *u, size_t i, struct err *err)
{
	const char *addr = scim_address(u), *ext = jstr(u, "externalId");
	json_t *act = json_object_get(u, "active"), *e;
	struct person *p;
	char name[256], a[ADDR_MAX];
	size_t k;

	if (!json_is_object(u))
		return bad(err, i, "not an object");
	if (addr == NULL)
		return bad(err, i, "no userName");
	if (act != NULL && !json_is_boolean(act))
		return bad(err, i, "active is not a boolean");
	if (json_object_get(u, "externalId") != NULL && ext == NULL)
		return bad(err, i, "externalId is not a string");
	if (addr_address("userName", addr, a, NULL, NULL, err) == -1) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return bad(err, i, msg);
	}
	scim_name(u, name, sizeof(name));
	p = people_add(pp, addr, ext, name, act == NULL || json_is_true(act));
	p->index = i;
	json_array_foreach(json_object_get(u, "emails"), k, e)
	    people_alt(p, jstr(e, "value"));
	return 0;
}

/* Read and check FILE: a ListResponse with a Resources array. */
static int
scim_load(const char *path, struct people *pp, struct err *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	json_t *res, *tot, *u;
	size_t i;
	int rc = -1;

	if (root == NULL)
		return err_set(
		    err, ERR_INVALID, "%s:%d: %s", path, je.line, je.text);
	res = json_object_get(root, "Resources");
	tot = json_object_get(root, "totalResults");
	if (!json_is_object(root) || (res != NULL && !json_is_array(res)))
		err_set(err, ERR_INVALID,
		    "%s: not a SCIM ListResponse (an object with a \"Resources\" array)",
		    path);
	else if (tot != NULL && !json_is_integer(tot))
		err_set(
		    err, ERR_INVALID, "%s: totalResults is not a number", path);
	else if (res == NULL && (tot == NULL || json_integer_value(tot) != 0))
		err_set(err, ERR_INVALID,
		    "%s: no \"Resources\" array (a SCIM ListResponse is expected, not a single User)",
		    path);
	/* One page of several: people would look absent. */
	else if (tot != NULL &&
	    json_integer_value(tot) > (json_int_t)json_array_size(res))
		err_set(err, ERR_INVALID,
		    "%s: holds %zu of %lld users (totalResults); export every page into one file",
		    path, json_array_size(res),
		    (long long)json_integer_value(tot));
	else
		rc = 0;
	json_array_foreach(res, i, u)
	{
		if (rc == 0 && scim_person(pp, u, i, err) == -1)
			rc = -1;
	}
	json_decref(root);
	return rc;
}

/* --- applying ---------------------------------------------------------- */

/* The findings v[0..n) of one mailbox, in one transaction. */
struct apply_ctx {
	struct people *pp;
	struct finding *v;
	size_t n;
};

static int
keep_names(struct model *m, const struct people *pp, const struct finding *f,
    struct err *err)
{
	if (!pp->keep_names || f->subject[0] == '\0')
		return 0;
	return identity_set_names(
	    m, pp->issuer, f->subject, f->given, f->family, err);
}

static int
apply_tx(struct model *m, void *arg, struct err *err)
{
	struct apply_ctx *a = arg;

	for (size_t i = 0; i < a->n; i++) {
		struct finding *f = &a->v[i];
		int rc = 0;

		if (f->kind == K_STILL_ACTIVE || f->kind == K_ABSENT)
			rc = mailbox_set_active(m, f->address, false, err);
		else if (f->kind == K_NAME)
			rc = mailbox_set_name(m, f->address, f->name, err) == -1
			    ? -1
			    : keep_names(m, a->pp, f, err);
		else if (f->kind == K_UNLINKED)
			rc = identity_link(m, a->pp->issuer, f->subject,
				 f->address, err) == -1
			    ? -1
			    : keep_names(m, a->pp, f, err);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Apply the findings v[0..n) of one person (one mailbox). */
static int
apply_person(struct cli *c, struct people *pp, struct finding *v, size_t n,
    struct err *err)
{
	struct apply_ctx a = { pp, v, n };
	struct finding *f = &v[0];
	struct mailbox_spec s;

	if (f->kind != K_MISSING)
		return model_tx(&c->model, apply_tx, &a, err);
	if (c->conf.identity_backend == IDENTITY_LOCAL)
		return err_set(err, ERR_CONFIG,
			   "identity_backend=local: a mailbox without a password cannot be created; use postino user add"),
		       -1;
	memset(&s, 0, sizeof(s));
	s.username = f->address;
	s.name = f->name;
	s.quota_bytes =
	    c->conf.default_quota_bytes > 0 ? c->conf.default_quota_bytes : -1;
	s.password = NULL;
	s.active = true;
	s.run_hook = true;
	if (f->subject[0] != '\0') {
		s.idp_issuer = pp->issuer;
		s.idp_subject = f->subject;
		/* As the webhook keeps them, in the create's transaction. */
		if (pp->keep_names) {
			s.idp_given = f->given;
			s.idp_family = f->family;
		}
	}
	return mailbox_add(&c->model, &s, NULL, err);
}

/* --- output ------------------------------------------------------------ */

static bool
is_error(const struct finding *f)
{
	return f->kind != K_NO_PERSON;
}

static void
print_table(struct cli *c, struct rec *r, bool apply)
{
	static const char *const hdr[] = { "FINDING", "MAILBOX", "DETAIL", NULL,
		NULL };
	static const char *const hdr_apply[] = { "FINDING", "MAILBOX", "DETAIL",
		"APPLIED", NULL };
	struct table *t = table_new(c, apply ? hdr_apply : hdr);

	for (size_t i = 0; i < r->n; i++) {
		struct finding *f = &r->v[i];
		char detail[600];
		const char *cells[4];
		int colors[4] = { is_error(f) ? 2 : 3, 0, 0, 0 };

		switch (f->kind) {
		case K_MISSING:
			snprintf(detail, sizeof(detail), "active person \"%s\"",
			    f->name);
			break;
		case K_UNLINKED:
			snprintf(detail, sizeof(detail), "not tied to %s %s",
			    r->pp->subject_key, f->subject);
			break;
		case K_STILL_ACTIVE:
			snprintf(detail, sizeof(detail),
			    "person inactive, mailbox active");
			break;
		case K_NAME:
			snprintf(detail, sizeof(detail), "\"%s\" -> \"%s\"",
			    f->old_name, f->name);
			break;
		case K_ABSENT:
			snprintf(detail, sizeof(detail),
			    "IdP mailbox active, person not in %s",
			    r->pp->whole_issuer ? "the IdP" : "export");
			break;
		default:
			snprintf(detail, sizeof(detail),
			    "no person in %s (left alone)",
			    r->pp->whole_issuer ? "the IdP" : "export");
		}
		for (char *p = detail; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		cells[0] = kind_names[f->kind];
		cells[1] = f->address;
		cells[2] = detail;
		cells[3] = f->kind == K_NO_PERSON ? "-"
		    : f->error[0]		  ? f->error
		    : f->applied		  ? "yes"
						  : "no";
		colors[3] = f->applied ? 1 : f->error[0] ? 2 : 0;
		table_add_colored(t, cells, colors);
	}
	table_print(t);
	table_free(t);
}

static void
print_json(struct cli *c, struct rec *r, bool apply)
{
	json_t *doc = json_object(), *arr = json_array(), *doms = json_array();

	for (size_t i = 0; i < r->ndomains; i++)
		json_array_append_new(doms, out_jstr(r->domains[i]));
	for (size_t i = 0; i < r->n; i++) {
		struct finding *f = &r->v[i];
		json_t *o = json_object();

		json_object_set_new(
		    o, "finding", out_jstr(kind_names[f->kind]));
		json_object_set_new(
		    o, "severity", out_jstr(is_error(f) ? "error" : "warning"));
		json_object_set_new(o, "mailbox", out_jstr(f->address));
		if (f->subject[0] != '\0')
			json_object_set_new(
			    o, r->pp->subject_key, out_jstr(f->subject));
		if (f->kind == K_MISSING || f->kind == K_NAME)
			json_object_set_new(o, "name", out_jstr(f->name));
		if (f->kind == K_NAME)
			json_object_set_new(
			    o, "mailbox_name", out_jstr(f->old_name));
		if (apply && f->kind != K_NO_PERSON)
			json_object_set_new(
			    o, "applied", json_boolean(f->applied));
		if (f->error[0] != '\0')
			json_object_set_new(o, "error", out_jstr(f->error));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "source", out_jstr(r->pp->source));
	json_object_set_new(doc, "people", json_integer((json_int_t)r->pp->n));
	json_object_set_new(
	    doc, "other_domains", json_integer((json_int_t)r->other_domain));
	json_object_set_new(
	    doc, "skipped", json_integer((json_int_t)r->pp->skipped));
	json_object_set_new(doc, "domains", doms);
	json_object_set_new(doc, "findings", arr);
	out_json(c, doc);
}

/* --- the command ------------------------------------------------------- */

static int
load(struct cli *c, const char *src, int argc, char **argv, struct people *pp,
    struct err *err)
{
	if (strcmp(src, "scim-json") == 0) {
		if (argc != 1)
			return cli_usage(c, "expected one FILE");
		str_copy(pp->issuer, IDENTITY_SCIM, sizeof(pp->issuer));
		str_copy(pp->source, "scim-json", sizeof(pp->source));
		pp->subject_key = "externalId";
		return scim_load(argv[0], pp, err) == -1 ? -1 : 0;
	}
	if (strcmp(src, "zitadel") == 0) {
		if (argc != 0)
			return cli_usage(c,
			    "--source zitadel takes no FILE (the API is read through [zitadel] url)");
		pp->subject_key = "userId";
		return reconcile_zitadel(c, pp, err) == -1 ? -1 : 0;
	}
	return cli_usage(
	    c, "unknown --source '%.64s' (scim-json FILE, or zitadel)", src);
}

int
cmd_reconcile(struct cli *c, int argc, char **argv)
{
	const char *src = cli_opt(c, O_SOURCE);
	bool apply = cli_flag(c, O_APPLY);
	struct people pp;
	struct rec r;
	struct err err = ERR_INIT;
	size_t i, nerr = 0, nfix = 0;
	int rc = 0;

	if (src == NULL)
		return cli_usage(c, "--source is required");
	memset(&pp, 0, sizeof(pp));
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.pp = &pp;
	if ((rc = load(c, src, argc, argv, &pp, &err)) != 0) {
		if (rc == -1)
			rc = cli_fail(c, &err);
		goto out;
	}
	for (i = 0; i < pp.n; i++) {
		if (compare(&r, &pp.v[i], &err) == -1) {
			rc = cli_fail(c, &err);
			goto out;
		}
	}
	if (r.nseen > 0)
		qsort(r.seen, r.nseen, sizeof(*r.seen), cmp_str);
	if (pp.whole_issuer && absent_of_issuer(&r, &err) == -1) {
		rc = cli_fail(c, &err);
		goto out;
	}
	for (i = 0; i < r.ndomains; i++) {
		if (mailbox_foreach(&c->model, r.domains[i], true, false,
			orphan, &r, &err) == -1) {
			rc = cli_fail(c, &err);
			goto out;
		}
	}
	for (i = 0; i < r.n; i++)
		if (is_error(&r.v[i]))
			nfix++;
	if (apply && nfix > 0) {
		if (!cli_flag(c, 'y') &&
		    !cli_confirm(
			c, "Apply %zu change%s?", nfix, nfix == 1 ? "" : "s")) {
			cli_errorf(c,
			    "not confirmed; nothing changed (pass --yes to skip the question)");
			rc = 1;
			goto out;
		}
		for (i = 0; i < r.n;) {
			size_t j = i + 1;

			if (!is_error(&r.v[i])) {
				i++;
				continue;
			}
			/* A person's findings follow each other. */
			while (j < r.n && is_error(&r.v[j]) &&
			    r.v[j].kind != K_MISSING &&
			    r.v[i].kind != K_MISSING &&
			    strcmp(r.v[j].address, r.v[i].address) == 0)
				j++;
			err_clear(&err);
			if (apply_person(c, &pp, &r.v[i], j - i, &err) == -1) {
				for (size_t k = i; k < j; k++)
					str_copy(r.v[k].error, err.msg,
					    sizeof(r.v[k].error));
			} else
				for (size_t k = i; k < j; k++)
					r.v[k].applied = true;
			i = j;
		}
	}
	if (c->json)
		print_json(c, &r, apply);
	else if (r.n == 0) {
		if (!c->quiet)
			printf("no drift: %zu %s checked in %zu domain%s\n",
			    pp.n - r.other_domain,
			    pp.n - r.other_domain == 1 ? "person" : "people",
			    r.ndomains, r.ndomains == 1 ? "" : "s");
	} else
		print_table(c, &r, apply);
	if (!c->json && !c->quiet && r.other_domain > 0)
		cli_infof(c,
		    "%zu %s of domains postino does not manage left out",
		    r.other_domain, r.other_domain == 1 ? "person" : "people");
	if (!c->json && !c->quiet && pp.skipped > 0)
		cli_infof(c,
		    "%zu user%s skipped (machine users, no email address, or an unknown state)",
		    pp.skipped, pp.skipped == 1 ? "" : "s");
	for (i = 0; i < r.n; i++)
		if (is_error(&r.v[i]) && !r.v[i].applied)
			nerr++;
	rc = nerr > 0 ? EX_FINDINGS : 0;
out:
	people_release(&pp);
	for (i = 0; i < r.ndomains; i++)
		free(r.domains[i]);
	for (i = 0; i < r.nunmanaged; i++)
		free(r.unmanaged[i]);
	for (i = 0; i < r.nseen; i++)
		free(r.seen[i]);
	free(r.domains);
	free(r.unmanaged);
	free(r.seen);
	free(r.v);
	return rc;
}
