/*
 * postino reconcile --source scim-json FILE: compare the people of an
 * identity provider's SCIM ListResponse export (RFC 7644 section 3.4.2)
 * with the mailboxes, and with --apply make the changes the SCIM API
 * would have made.
 *
 * A person is matched to a mailbox by the externalId stored under the
 * "scim" issuer (identity.h), else by userName (or, when userName is not
 * an address, the primary email), else by any of its emails.  The
 * export covers the domains its people's addresses name; only mailboxes
 * of those domains can be without a person.  Findings:
 *
 *   missing         an active person has no mailbox     (apply: create)
 *   still-active    an inactive person's mailbox is active (apply: disable)
 *   name            the display name differs            (apply: rename)
 *   absent          an active IdP mailbox ({NOAUTH} or with a SCIM
 *                   externalId) whose person is not in the export
 *                                                        (apply: disable)
 *   no-person       any other mailbox of a covered domain without a
 *                   person: a warning, never changed
 *
 * Errors exit 4 as in "check"; warnings alone exit 0.  One transaction
 * per person, through the model functions that write the audit rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "domain.h"
#include "identity.h"
#include "mailbox.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

#define EX_FINDINGS 4
#define LIST_URN "urn:ietf:params:scim:api:messages:2.0:ListResponse"

enum kind { K_MISSING, K_STILL_ACTIVE, K_NAME, K_ABSENT, K_NO_PERSON };

static const char *const kind_names[] = { "missing", "still-active", "name",
	"absent", "no-person" };

struct finding {
	enum kind kind;
	char address[ADDR_MAX];
	char external_id[IDENTITY_SUBJECT_MAX];
	char name[256];	    /* the IdP's name (missing, name) */
	char old_name[256]; /* the mailbox's (name) */
	bool applied;
	char error[512];
};

struct rec {
	struct cli *c;
	struct finding *v;
	size_t n, cap;
	char **domains; /* covered, lower case */
	size_t ndomains;
	char **seen; /* mailboxes matched to a person */
	size_t nseen;
};

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

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The address of a person: userName, else the primary (first) email. */
static const char *
person_address(json_t *u)
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
person_name(json_t *u, char *out, size_t size)
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

/* The first of the person's emails that is a mailbox: 1, 0 none, -1. */
static int
by_email(struct model *m, json_t *u, struct mailbox_rec *mb, struct err *err)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(u, "emails"), i, e)
	{
		char a[ADDR_MAX];
		const char *v = jstr(e, "value");
		int rc;

		if (v == NULL ||
		    addr_address("email", v, a, NULL, NULL, err) == -1) {
			err_clear(err);
			continue;
		}
		if ((rc = mailbox_get(m, a, mb, err)) != 0)
			return rc;
		err_clear(err);
	}
	return 0;
}

static int
bad(struct err *err, size_t i, const char *what)
{
	return err_set(err, ERR_INVALID, "Resources[%zu]: %s", i, what), -1;
}

/* One person of the export against the mailboxes. */
static int
person(struct rec *r, json_t *u, size_t i, struct err *err)
{
	struct model *m = &r->c->model;
	const char *addr_in = person_address(u), *ext = jstr(u, "externalId");
	json_t *act = json_object_get(u, "active");
	char addr[ADDR_MAX], dom[ADDR_MAX], user[ADDR_MAX], name[256];
	struct mailbox_rec mb;
	struct finding *f;
	bool active;
	int rc = 0;

	if (!json_is_object(u))
		return bad(err, i, "not an object");
	if (addr_in == NULL)
		return bad(err, i, "no userName");
	if (act != NULL && !json_is_boolean(act))
		return bad(err, i, "active is not a boolean");
	if (json_object_get(u, "externalId") != NULL && ext == NULL)
		return bad(err, i, "externalId is not a string");
	if (ext != NULL && *ext == '\0')
		ext = NULL;
	if (addr_address("userName", addr_in, addr, NULL, dom, err) == -1) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return bad(err, i, msg);
	}
	active = act == NULL || json_is_true(act);
	person_name(u, name, sizeof(name));
	push(&r->domains, &r->ndomains, dom);
	user[0] = '\0';
	if (ext != NULL &&
	    (rc = identity_find(
		 m, IDENTITY_SCIM, ext, user, sizeof(user), err)) == -1)
		return -1;
	if (user[0] == '\0')
		str_copy(user, addr, sizeof(user));
	if ((rc = mailbox_get(m, user, &mb, err)) == -1)
		return -1;
	err_clear(err);
	/* Entra's userName is the UPN: the mailbox may be an email. */
	if (rc == 0 && (rc = by_email(m, u, &mb, err)) == -1)
		return -1;
	if (rc == 0) {
		if (!active)
			return 0;
		f = add_finding(r, K_MISSING, addr);
		str_copy(f->name, name, sizeof(f->name));
		if (ext != NULL)
			str_copy(f->external_id, ext, sizeof(f->external_id));
		return 0;
	}
	push(&r->seen, &r->nseen, mb.username);
	if (!active && mb.active)
		add_finding(r, K_STILL_ACTIVE, mb.username);
	if (name[0] != '\0' && strcmp(name, mb.name) != 0) {
		f = add_finding(r, K_NAME, mb.username);
		str_copy(f->name, name, sizeof(f->name));
		str_copy(f->old_name, mb.name, sizeof(f->old_name));
	}
	return 0;
}

static int
orphan(void *arg, const struct mailbox_rec *mb)
{
	struct rec *r = arg;
	char ext[IDENTITY_SUBJECT_MAX];
	struct err err = ERR_INIT;
	int rc;

	if (in_list(r->seen, r->nseen, mb->username))
		return 0;
	rc = identity_subject(
	    &r->c->model, IDENTITY_SCIM, mb->username, ext, sizeof(ext), &err);
	if (rc == -1)
		return -1;
	if (mb->idp_managed || rc == 1) {
		if (mb->active)
			add_finding(r, K_ABSENT, mb->username);
	} else
		add_finding(r, K_NO_PERSON, mb->username);
	return 0;
}

/* Read and check FILE: a ListResponse with a Resources array. */
static json_t *
load(const char *path, struct err *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	json_t *res, *tot;

	if (root == NULL) {
		err_set(err, ERR_INVALID, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	res = json_object_get(root, "Resources");
	if (!json_is_object(root) || (res != NULL && !json_is_array(res))) {
		err_set(err, ERR_INVALID,
		    "%s: not a SCIM ListResponse (an object with a "
		    "\"Resources\" array)",
		    path);
		json_decref(root);
		return NULL;
	}
	tot = json_object_get(root, "totalResults");
	if (tot != NULL && !json_is_integer(tot)) {
		err_set(
		    err, ERR_INVALID, "%s: totalResults is not a number", path);
		json_decref(root);
		return NULL;
	}
	if (res == NULL && (tot == NULL || json_integer_value(tot) != 0)) {
		err_set(err, ERR_INVALID,
		    "%s: no \"Resources\" array (a SCIM ListResponse is "
		    "expected, not a single User)",
		    path);
		json_decref(root);
		return NULL;
	}
	/* One page of several: people would look absent. */
	if (tot != NULL &&
	    json_integer_value(tot) > (json_int_t)json_array_size(res)) {
		err_set(err, ERR_INVALID,
		    "%s: holds %zu of %lld users (totalResults); export every "
		    "page into one file",
		    path, json_array_size(res),
		    (long long)json_integer_value(tot));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The findings v[0..n) of one mailbox, in one transaction. */
struct apply_ctx {
	struct finding *v;
	size_t n;
};

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
			rc = mailbox_set_name(m, f->address, f->name, err);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Apply the findings v[0..n) of one person (one mailbox). */
static int
apply_person(struct cli *c, struct finding *v, size_t n, struct err *err)
{
	struct apply_ctx a = { v, n };
	struct finding *f = &v[0];
	struct mailbox_spec s;

	if (f->kind != K_MISSING)
		return model_tx(&c->model, apply_tx, &a, err);
	if (c->conf.identity_backend == IDENTITY_LOCAL)
		return err_set(err, ERR_CONFIG,
			   "identity_backend=local: a mailbox without a "
			   "password cannot be created; use postino user add"),
		       -1;
	memset(&s, 0, sizeof(s));
	s.username = f->address;
	s.name = f->name;
	s.quota_bytes =
	    c->conf.default_quota_bytes > 0 ? c->conf.default_quota_bytes : -1;
	s.password = NULL;
	s.active = true;
	s.run_hook = true;
	if (f->external_id[0] != '\0') {
		s.idp_issuer = IDENTITY_SCIM;
		s.idp_subject = f->external_id;
	}
	return mailbox_add(&c->model, &s, NULL, err);
}

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
			    "IdP mailbox active, person not in export");
			break;
		default:
			snprintf(detail, sizeof(detail),
			    "no person in export (left alone)");
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
		if (f->external_id[0] != '\0')
			json_object_set_new(
			    o, "externalId", out_jstr(f->external_id));
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
	json_object_set_new(doc, "domains", doms);
	json_object_set_new(doc, "findings", arr);
	out_json(c, doc);
}

int
cmd_reconcile(struct cli *c, int argc, char **argv)
{
	const char *src = cli_opt(c, O_SOURCE);
	bool apply = cli_flag(c, O_APPLY);
	struct rec r;
	struct err err = ERR_INIT;
	json_t *root, *res, *u;
	size_t i, nerr = 0, nfix = 0;
	int rc = 0;

	if (src == NULL)
		return cli_usage(c, "--source is required");
	if (strcmp(src, "scim-json") != 0)
		return cli_usage(c,
		    "unknown --source '%.64s' (scim-json FILE; the Zitadel "
		    "API is not supported yet)",
		    src);
	if (argc != 1)
		return cli_usage(c, "expected one FILE");
	if ((root = load(argv[0], &err)) == NULL)
		return cli_fail(c, &err);
	memset(&r, 0, sizeof(r));
	r.c = c;
	res = json_object_get(root, "Resources");
	json_array_foreach(res, i, u)
	{
		if (person(&r, u, i, &err) == -1) {
			rc = cli_fail(c, &err);
			goto out;
		}
	}
	for (i = 0; i < r.ndomains; i++) {
		struct domain_rec d;

		if (domain_get(&c->model, r.domains[i], &d, &err) != 1) {
			if (err.kind != ERR_NOTFOUND && err.kind != ERR_OK) {
				rc = cli_fail(c, &err);
				goto out;
			}
			err_clear(&err);
			continue;
		}
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
			    "not confirmed; nothing changed (pass --yes to "
			    "skip the question)");
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
			if (apply_person(c, &r.v[i], j - i, &err) == -1) {
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
			    json_array_size(res),
			    json_array_size(res) == 1 ? "person" : "people",
			    r.ndomains, r.ndomains == 1 ? "" : "s");
	} else
		print_table(c, &r, apply);
	for (i = 0; i < r.n; i++)
		if (is_error(&r.v[i]) && !r.v[i].applied)
			nerr++;
	rc = nerr > 0 ? EX_FINDINGS : 0;
out:
	json_decref(root);
	for (i = 0; i < r.ndomains; i++)
		free(r.domains[i]);
	for (i = 0; i < r.nseen; i++)
		free(r.seen[i]);
	free(r.domains);
	free(r.seen);
	free(r.v);
	return rc;
}
