/*
 * Password probes: schemes, empty, unprefixed, NOAUTH, Dovecot 2.4, expiry.
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

struct census {
	char scheme[32];
	int64_t n;
};

static int
census_cmp(const void *a, const void *b)
{
	const struct census *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->scheme, y->scheme);
}

/*
 * Whether the Dovecot configuration in dovecot_conf_dir is for 2.4 or
 * later (its dovecot.conf starts with dovecot_config_version), and whether
 * it sets auth_allow_weak_schemes = yes (dovecot.conf, conf.d/ *.conf).
 */
static bool
dovecot_24(const struct ctx *c, bool *allow_weak, char *where, size_t size)
{
	char pat[PATH_MAX], line[1024];
	bool v24 = false;
	glob_t g;

	*allow_weak = false;
	snprintf(where, size, "%s/dovecot.conf", c->conf->dovecot_conf_dir);
	snprintf(
	    pat, sizeof(pat), "%s/conf.d/*.conf", c->conf->dovecot_conf_dir);
	if (glob(pat, 0, NULL, &g) != 0)
		g.gl_pathc = 0;
	for (size_t i = 0; i <= g.gl_pathc; i++) {
		FILE *f = fopen(i == 0 ? where : g.gl_pathv[i - 1], "re");

		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			char *k = str_trim(line), *eq = strchr(k, '=');
			int major = 0, minor = 0;

			if (eq == NULL || *k == '#')
				continue;
			*eq = '\0';
			k = str_trim(k);
			if (i == 0 &&
			    strcmp(k, "dovecot_config_version") == 0 &&
			    sscanf(eq + 1, " %d.%d", &major, &minor) == 2)
				v24 = major > 2 || (major == 2 && minor >= 4);
			else if (strcmp(k, "auth_allow_weak_schemes") == 0)
				*allow_weak =
				    str_eq_nocase(str_trim(eq + 1), "yes");
		}
		if (f != NULL)
			fclose(f);
	}
	if (g.gl_pathc > 0)
		globfree(&g);
	return v24;
}

void
probe_passwords(struct ctx *c)
{
	enum identity_backend ib = c->conf->identity_backend;
	struct sample noauth, hashed, empty, unprefixed, weak, refused;
	struct census cs[64];
	size_t ncs = 0;
	int64_t nweak = 0, total = 0, nrefused = 0;
	struct buf b;
	char where[PATH_MAX];
	bool allow_weak, v24 = dovecot_24(c, &allow_weak, where, sizeof(where));
	/*
	 * PostfixAdmin's md5crypt and php_crypt write bare crypt strings,
	 * which Dovecot's default_pass_scheme = CRYPT verifies.
	 */
	struct pfa_encrypt pe;
	struct err pe_err = ERR_INIT;
	bool bare_ok = pfa_encrypt_parse(
			   c->conf->postfixadmin.encrypt, &pe, &pe_err) == 0 &&
	    (pe.kind == PFA_MD5CRYPT || pe.kind == PFA_PHP_CRYPT);

	if (need_data(c, D_MAILBOX) == -1)
		return;
	sample_init(&noauth);
	sample_init(&hashed);
	sample_init(&empty);
	sample_init(&unprefixed);
	sample_init(&weak);
	sample_init(&refused);
	for (size_t i = 0; i < c->d.nmbxs; i++) {
		const struct mbx *m = &c->d.mbxs[i];
		char scheme[32];
		size_t k;

		if (strcmp(m->password, PASSWORD_NOAUTH) == 0) {
			sample_add(&noauth, "'%s'", m->username);
			continue;
		}
		if (m->password[0] == '\0') {
			sample_add(&empty, "'%s'", m->username);
			continue;
		}
		sample_add(&hashed, "'%s'", m->username);
		if (m->password[0] != '{' &&
		    !(bare_ok && password_hash_recognised(m->password)))
			sample_add(&unprefixed, "'%s'", m->username);
		password_scheme_of(m->password, scheme, sizeof(scheme));
		total++;
		if (password_scheme_weak(scheme)) {
			nweak++;
			sample_add(&weak, "'%s'", m->username);
		}
		/* Dovecot 2.4 refuses these at login (auth_allow_weak_schemes).
		 */
		if (strcmp(scheme, "MD5-CRYPT") == 0 ||
		    strcmp(scheme, "MD5") == 0 ||
		    strcmp(scheme, "DES-CRYPT") == 0) {
			nrefused++;
			sample_add(&refused, "'%s'", m->username);
		}
		for (k = 0; k < ncs; k++)
			if (strcmp(cs[k].scheme, scheme) == 0)
				break;
		if (k == ncs && ncs < sizeof(cs) / sizeof(cs[0])) {
			str_copy(cs[ncs].scheme, scheme, sizeof(cs[k].scheme));
			cs[ncs++].n = 0;
		}
		if (k < ncs)
			cs[k].n++;
	}
	if (ib == IDENTITY_LOCAL && noauth.n > 0)
		finding(c, "password_noauth", CHECK_ERROR,
		    "%zu %s the {NOAUTH} placeholder but identity_backend is local, so nobody can log in to them: %s; set passwords ('postino user passwd') or switch identity_backend to hybrid",
		    noauth.n,
		    plural(
			(int64_t)noauth.n, "mailbox holds", "mailboxes hold"),
		    sample_text(&noauth));
	else if (ib == IDENTITY_NOAUTH && hashed.n > 0)
		finding(c, "password_noauth", CHECK_WARN,
		    "%zu %s a local password although identity_backend is noauth, so Dovecot's SQL passdb still accepts it: %s; release them or switch to hybrid",
		    hashed.n,
		    plural((int64_t)hashed.n, "mailbox has", "mailboxes have"),
		    sample_text(&hashed));
	else
		finding(c, "password_noauth", CHECK_INFO,
		    "%zu IdP-managed ({NOAUTH}), %zu local, as identity_backend=%s allows",
		    noauth.n, hashed.n + empty.n, identity_backend_name(ib));
	finding_if(c, empty.n > 0, "password_empty", CHECK_ERROR,
	    "no empty passwords",
	    "%zu %s an empty password, which a PLAIN default_pass_scheme accepts with no password at all: %s; set one ('postino user passwd') or disable the mailbox",
	    empty.n, plural((int64_t)empty.n, "mailbox has", "mailboxes have"),
	    sample_text(&empty));
	finding_if(c, unprefixed.n > 0, "password_unprefixed", CHECK_WARN,
	    "every stored password names its scheme",
	    "%zu %s stored without a {SCHEME} prefix, so Dovecot guesses the scheme from default_pass_scheme: %s; have them set new passwords ('postino user passwd')",
	    unprefixed.n,
	    plural((int64_t)unprefixed.n, "password is", "passwords are"),
	    sample_text(&unprefixed));
	qsort(cs, ncs, sizeof(cs[0]), census_cmp);
	buf_init(&b, 64 * 1024);
	for (size_t k = 0; k < ncs; k++)
		if (nweak == 0 || password_scheme_weak(cs[k].scheme))
			buf_printf(&b, "%s%s %lld", b.len ? ", " : "",
			    cs[k].scheme, (long long)cs[k].n);
	if (nweak > 0)
		finding(c, "password_schemes", CHECK_WARN,
		    "%lld of %lld password hashes use weak schemes (%s): %s; have those users set new passwords ('postino user passwd') to store %s",
		    (long long)nweak, (long long)total, buf_cstr(&b),
		    sample_text(&weak), c->conf->default_password_scheme);
	else
		finding(c, "password_schemes", CHECK_INFO,
		    "%lld password %s%s%s", (long long)total,
		    plural(total, "hash", "hashes"), b.len ? ": " : "",
		    buf_cstr(&b));
	if (v24 && nrefused > 0 && !allow_weak)
		finding(c, "password_dovecot24", CHECK_ERROR,
		    "%lld password %s MD5-CRYPT or DES-CRYPT, which Dovecot 2.4 (%s) refuses at login unless auth_allow_weak_schemes = yes: %s; have those users set new passwords ('postino user passwd'), or allow weak schemes until they have",
		    (long long)nrefused,
		    plural(nrefused, "hash uses", "hashes use"), where,
		    sample_text(&refused));
	else if (v24)
		finding(c, "password_dovecot24", CHECK_INFO,
		    "Dovecot 2.4 (%s) accepts every stored scheme%s", where,
		    nrefused > 0 ? " (auth_allow_weak_schemes = yes)" : "");
	buf_release(&b);
	sample_release(&refused);
	sample_release(&noauth);
	sample_release(&hashed);
	sample_release(&empty);
	sample_release(&unprefixed);
	sample_release(&weak);
}

/*
 * Passwords past mailbox.password_expiry on domains that set expiry days:
 * the passdb query PostfixAdmin documents refuses them.  Information only:
 * expiry is a policy, not a fault.
 */
void
probe_expiry(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct sample exp;
	const char *now;
	char sql[384];
	int rc;

	rc = db_column_exists(c->db, "mailbox", "password_expiry", &err);
	if (rc == 1)
		rc = db_column_exists(c->db, "domain", "password_expiry", &err);
	if (rc == -1)
		finding(c, "password_expired", CHECK_INFO, "not checked: %s",
		    err.msg);
	if (rc != 1)
		return;
	now =
	    db_engine(c->db) == DB_ENGINE_SQLITE ? "datetime('now')" : "now()";
	snprintf(sql, sizeof(sql),
	    "SELECT m.username FROM mailbox m JOIN domain d ON "
	    "d.domain = m.domain WHERE d.password_expiry > 0 AND "
	    "m.password_expiry <= %s ORDER BY m.username",
	    now);
	sample_init(&exp);
	if (sample_query(c, sql, NULL, 0, &exp, NULL, &err) == -1)
		finding(c, "password_expired", CHECK_INFO, "not checked: %s",
		    err.msg);
	else
		finding_if(c, exp.n > 0, "password_expired", CHECK_INFO,
		    "no password has expired",
		    "%zu %s expired under the domain's password_expiry days, so PostfixAdmin's passdb query refuses them: %s; 'postino user passwd' sets a new one",
		    exp.n,
		    plural((int64_t)exp.n, "password has", "passwords have"),
		    sample_text(&exp));
	sample_release(&exp);
}

/*
 * postfixadmin.encrypt set: hashes PostfixAdmin's login (pacrypt() under
 * that mode) cannot verify, so their users cannot log in to its web UI.
 * Dovecot may still verify them; that is password_schemes' business.
 */
void
probe_pfa_passwords(struct ctx *c)
{
	struct pfa_encrypt e;
	struct err err = ERR_INIT;
	struct census cs[64];
	size_t ncs = 0;
	struct sample bad;
	struct buf b;

	if (pfa_encrypt_parse(c->conf->postfixadmin.encrypt, &e, &err) == -1 ||
	    e.kind == PFA_NONE || need_data(c, D_MAILBOX) == -1)
		return;
	sample_init(&bad);
	for (size_t i = 0; i < c->d.nmbxs; i++) {
		const struct mbx *m = &c->d.mbxs[i];
		char scheme[32], label[40];
		size_t k;

		if (password_pfa_verifiable(&e, m->password))
			continue;
		sample_add(&bad, "'%s'", m->username);
		/* "{BLF-CRYPT}" prefixed, "SHA512-CRYPT" bare. */
		password_scheme_of(m->password, scheme, sizeof(scheme));
		snprintf(label, sizeof(label),
		    m->password[0] == '{' ? "{%s}" : "%s", scheme);
		for (k = 0; k < ncs; k++)
			if (strcmp(cs[k].scheme, label) == 0)
				break;
		if (k == ncs && ncs < sizeof(cs) / sizeof(cs[0])) {
			str_copy(cs[ncs].scheme, label, sizeof(cs[k].scheme));
			cs[ncs++].n = 0;
		}
		if (k < ncs)
			cs[k].n++;
	}
	if (bad.n == 0) {
		finding(c, "password_postfixadmin", CHECK_INFO,
		    "PostfixAdmin (encrypt = '%s') can verify every stored password",
		    c->conf->postfixadmin.encrypt);
		sample_release(&bad);
		return;
	}
	qsort(cs, ncs, sizeof(cs[0]), census_cmp);
	buf_init(&b, 1024);
	for (size_t k = 0; k < ncs; k++)
		buf_printf(&b, "%s%lld %s", b.len ? ", " : "",
		    (long long)cs[k].n, cs[k].scheme);
	finding(c, "password_postfixadmin", CHECK_WARN,
	    "%zu %s in a form PostfixAdmin (encrypt = '%s') cannot verify (%s), so those users cannot log in to its web UI: %s; a new password ('postino user passwd') is stored in its form",
	    bad.n,
	    plural(
		(int64_t)bad.n, "mailbox password is", "mailbox passwords are"),
	    c->conf->postfixadmin.encrypt, buf_cstr(&b), sample_text(&bad));
	buf_release(&b);
	sample_release(&bad);
}
