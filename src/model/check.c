/*
 * The probes of "postino check", in the order they run (the table at the
 * end of this file).  See check.h for the contract.  Every finding name,
 * with what makes it a warning (W) or an error (E); each is "info" when
 * its probe passed:
 *
 * Always:
 *   db_reachable            E credentials unreadable, database unreachable
 *   schema_tables           E no PostfixAdmin schema, or core tables missing
 *   schema_version          E postino schema older than this postino; W newer
 *   mailbox_base            E mail root missing, relative, not a directory,
 *                             world-writable; W owned by neither vmail, root
 *                             nor postino's user
 *   postcreation_hook       E relative, missing, not executable, not owned
 *                             by root (when run as root), group/other-writable
 *   postcreation_hook_syntax E no #!, interpreter missing, "sh -n" fails
 *   vmail_uid, vmail_gid    E 0, or unset while running as root; W no
 *                             passwd/group entry
 *   db_grants               E grants unreadable, no privileges at all, SQLite
 *                             file not read-writable or world-writable
 *   db_grants:TABLE         E TABLE lacks a privilege postino's SQL needs
 *   db_grants:overprivileged W more than the database: MySQL global, other
 *                             database, wildcard or GRANT OPTION grants;
 *                             PostgreSQL SUPERUSER, CREATEROLE, CREATEDB,
 *                             BYPASSRLS, REPLICATION, pg_*_server_files...;
 *                             SQLite world-readable or owned by another user
 *   postfix_sql_cf:FILE     E required map missing (alias-domain maps only
 *                             when alias domains exist), mode beyond 0640,
 *                             not root's (as root), unparseable, no query,
 *                             credentials differ; W legacy domain map name;
 *                             every other sql-*.cf there is checked too
 *   postfix_mailbox_base    E main.cf's virtual_mailbox_base is not ours
 *   postfix_chroot          E a chrooted smtpd/cleanup/trivial-rewrite
 *                             cannot reach a map (socket outside the
 *                             chroot, not proxy:); a proxy: map proxymap
 *                             cannot use; W main.cf/master.cf unreadable
 *   password_noauth         E {NOAUTH} rows under identity_backend=local;
 *                             W local hashes under noauth
 *   password_empty          E empty passwords
 *   password_unprefixed     W hashes without a {SCHEME} prefix (except the
 *                             bare crypt strings postfixadmin.encrypt asks for)
 *   password_schemes        W mailboxes per weak scheme (the census is info)
 *   password_dovecot24      E MD5-CRYPT/DES-CRYPT hashes while
 *                             dovecot_conf_dir is Dovecot 2.4's and does
 *                             not allow weak schemes
 *   password_expired        info: passwords past mailbox.password_expiry
 *   domain_quota_units      W domain quotas that look like bytes
 *   password_postfixadmin   W hashes PostfixAdmin's login cannot verify under
 *                             postfixadmin.encrypt (only when that is set)
 *   postino_domain_stale    W rows of a domain re-created outside postino
 *                             (info when the domain is just gone)
 *   db_read                 E a table could not be read
 * With mlmmj_spool_dir set:
 *   postfix-main-cf, postfix-transport-maps, postfix-transport-maps-order,
 *   postfix-transport-maps-type, recipient-delimiter, master-cf,
 *   master-cf-mlmmj-{receive,bounce,sub,unsub}, owner-aliases,
 *   owner-alias-LIST        E the Postfix wiring lists need
 * With --deep:
 *   dovecot_passdb_chain    (noauth, hybrid) E only SQL passdbs, hybrid
 *                             without SQL, a passdb ending the chain on
 *                             failure; W no configuration found
 *   quota2_pairing, maildir_present  info: not written/made yet (Dovecot
 *                             does on first use, as under PostfixAdmin)
 *   mailbox_domain_fk, alias_domain_fk, alias_destinations,
 *   alias_domain_chain, alias_domain_refs, maildir_path,
 *   maildir_duplicates, maildir_ownership, maildirpp_skeleton,
 *   maildir_symlinks        E
 *   mailbox_self_alias      W (E when the domain has a catch-all)
 *   self_alias_state        E active mailbox, inactive alias row;
 *                             W the reverse
 *   mailbox_row_orphans     W fetchmail/vacation/quota rows, no mailbox
 *   quota2_orphans, self_alias_orphans, domain_limits, mailbox_maxquota,
 *   domain_quota_total, maildir_permissions, orphan_maildirs,
 *   orphan_domain_maildirs, maildir_artefacts  W
 *   mailing_lists           W spool missing (with mlmmj_spool_dir)
 *   mlmmj_lists_corrupt, mlmmj_lists_orphan_domain, mlmmj_lists_symlinks,
 *   mlmmj_lists_routes      E;  mlmmj_lists_artefacts  W
 *   deep_skipped            info: deep probes that could not run
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
#include "banned.h"

#define SAMPLE_MAX 5 /* offenders named in one message */
#define PROGRESS_EVERY 2048
#define SYNTAX_TIMEOUT_MS 5000
#define WALK_DEPTH_MAX 16
#define ARENA_CHUNK (256 * 1024)
#define CONNECT_TIMEOUT 5
#define DOVECOT_FILES_MAX 128
#define DOVECOT_DEPTH_MAX 8

/* --- report --------------------------------------------------------------- */

void
check_report_init(struct check_report *r)
{
	r->v = NULL;
	r->n = 0;
	r->cap = 0;
}

void
check_report_release(struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].message);
	}
	free(r->v);
	check_report_init(r);
}

bool
check_report_ok(const struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].severity == CHECK_ERROR)
			return false;
	return true;
}

const char *
check_severity_name(enum check_severity s)
{
	switch (s) {
	case CHECK_INFO:
		return "info";
	case CHECK_WARN:
		return "warn";
	case CHECK_ERROR:
		return "error";
	}
	return "error";
}

/* --- small helpers: samples, arena, string map ---------------------------- */

/* Up to SAMPLE_MAX offenders, then "and N more". */
struct sample {
	size_t n;
	bool closed;
	struct buf b;
};

static void
sample_init(struct sample *s)
{
	s->n = 0;
	s->closed = false;
	buf_init(&s->b, 64 * 1024);
}

static void
sample_release(struct sample *s)
{
	buf_release(&s->b);
}

static void sample_add(struct sample *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sample_add(struct sample *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n++ >= SAMPLE_MAX)
		return;
	if (s->n > 1)
		buf_puts(&s->b, ", ");
	va_start(ap, fmt);
	buf_vprintf(&s->b, fmt, ap);
	va_end(ap);
}

static const char *
sample_text(struct sample *s)
{
	if (!s->closed && s->n > SAMPLE_MAX)
		buf_printf(&s->b, " and %zu more", s->n - SAMPLE_MAX);
	s->closed = true;
	return buf_cstr(&s->b);
}

struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	char data[];
};

struct arena {
	struct chunk *head;
};

static char *
arena_dup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (a->head == NULL || a->head->size - a->head->used < n) {
		size_t sz = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		struct chunk *c = xmalloc(sizeof(*c) + sz);

		c->next = a->head;
		c->used = 0;
		c->size = sz;
		a->head = c;
	}
	p = a->head->data + a->head->used;
	memcpy(p, s, n);
	a->head->used += n;
	return p;
}

static void
arena_release(struct arena *a)
{
	while (a->head != NULL) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

/* Open-addressing map from a borrowed string to an index. */
struct slot {
	const char *key;
	size_t val;
};

struct smap {
	struct slot *v;
	size_t cap;
	size_t n;
	bool nocase;
};

static uint64_t
smap_hash(const char *s, bool nocase)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (nocase && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + 32);
		h ^= ch;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
smap_eq(const struct smap *m, const char *a, const char *b)
{
	return m->nocase ? str_eq_nocase(a, b) : strcmp(a, b) == 0;
}

static void
smap_init(struct smap *m, bool nocase)
{
	m->v = NULL;
	m->cap = 0;
	m->n = 0;
	m->nocase = nocase;
}

static void
smap_release(struct smap *m)
{
	free(m->v);
	smap_init(m, m->nocase);
}

static struct slot *
smap_find(const struct smap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = (size_t)smap_hash(key, m->nocase) & (m->cap - 1);
	while (m->v[i].key != NULL) {
		if (smap_eq(m, m->v[i].key, key))
			return &m->v[i];
		i = (i + 1) & (m->cap - 1);
	}
	return &m->v[i];
}

static void
smap_grow(struct smap *m)
{
	struct slot *old = m->v;
	size_t oldcap = m->cap;

	m->cap = oldcap == 0 ? 64 : oldcap * 2;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (size_t i = 0; i < oldcap; i++) {
		struct slot *s;

		if (old[i].key == NULL)
			continue;
		s = smap_find(m, old[i].key);
		*s = old[i];
	}
	free(old);
}

/* Insert key (kept, not copied); false when it was already there. */
static bool
smap_put(struct smap *m, const char *key, size_t val)
{
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap)
		smap_grow(m);
	s = smap_find(m, key);
	if (s->key != NULL)
		return false;
	s->key = key;
	s->val = val;
	m->n++;
	return true;
}

static bool
smap_get(const struct smap *m, const char *key, size_t *val_r)
{
	const struct slot *s = smap_find(m, key);

	if (s == NULL || s->key == NULL)
		return false;
	if (val_r != NULL)
		*val_r = s->val;
	return true;
}

/* --- the rows of the deep pass -------------------------------------------- */

struct dom {
	const char *name;
	const char *transport;
	int64_t max_aliases;
	int64_t max_mailboxes;
	int64_t maxquota; /* bytes, 0 unlimited */
	int64_t quota;	  /* bytes, 0 unlimited */
	bool backupmx;
	int64_t nmailboxes;
	int64_t naliases; /* self-aliases not counted */
	int64_t sumquota;
	size_t nunlimited;
	bool catchall; /* an active "@domain" alias */
};

struct mbx {
	const char *username;
	const char *password;
	const char *maildir; /* without a trailing slash */
	const char *domain;
	int64_t quota;
	bool active;
	bool quota2;
	bool self_alias;
	bool seen;  /* found by the walk */
	bool valid; /* maildir path is acceptable */
};

struct als {
	const char *address;
	const char *gotos;
	const char *domain;
	bool active;
};

struct adom {
	const char *alias;
	const char *target;
	bool active;
};

enum {
	D_DOMAIN = 1 << 0,
	D_ADOM = 1 << 1,
	D_MAILBOX = 1 << 2,
	D_ALIAS = 1 << 3,
	D_QUOTA2 = 1 << 4,
	D_LISTS = 1 << 5,
};

struct data {
	struct arena arena;
	unsigned loaded;
	struct dom *doms;
	size_t ndoms;
	struct smap dom_ix;
	struct adom *adoms;
	size_t nadoms;
	struct smap adom_ix;
	struct mbx *mbxs;
	size_t nmbxs;
	struct smap mbx_ix;
	struct als *alss;
	size_t nalss;
	struct smap als_ix;
	size_t quota2_orphans;
	struct sample quota2_sample;
	bool have_routes;
	struct smap lists; /* list addresses from routes */
};

/* --- context and probe table ---------------------------------------------- */

struct ctx {
	const struct postino_conf *conf;
	const struct check_opts *opts;
	struct check_report *rep;
	struct db *db;
	struct model model;
	struct db_params params; /* in use */
	bool have_params;
	bool schema_ok;
	bool data_failed;
	bool walk_skipped;
	size_t skipped;
	struct data d;
};

enum probe_flags {
	P_DEEP = 1 << 0,   /* only with --deep */
	P_DB = 1 << 1,	   /* needs a database connection */
	P_SCHEMA = 1 << 2, /* needs the core PostfixAdmin tables */
	P_MLMMJ = 1 << 3,  /* only when mlmmj_spool_dir is set */
};

struct probe {
	const char *name;
	unsigned flags;
	void (*run)(struct ctx *);
};

static int need_data(struct ctx *, unsigned);
static void finding(struct ctx *, const char *, enum check_severity,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
finding(struct ctx *c, const char *name, enum check_severity sev,
    const char *fmt, ...)
{
	struct check_report *r = c->rep;
	struct buf b;
	va_list ap;

	buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 64 : r->cap * 2;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n].name = xstrdup(name);
	r->v[r->n].severity = sev;
	r->v[r->n].message = buf_detach(&b);
	r->n++;
	buf_release(&b);
}

static void
progress(struct ctx *c, const char *phase, uint64_t done, uint64_t total)
{
	if (c->opts->progress != NULL)
		c->opts->progress(c->opts->progress_arg, phase, done, total);
}

static const char *
plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The user name for a uid, or "uid N". */
static const char *
uid_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

/* --- database: reachable, schema ------------------------------------------ */

static void
probe_db(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct cf cf;
	char *path;
	enum db_engine engine = DB_ENGINE_NONE;
	int64_t one = 0;
	int rc;

	if (c->conf->postfix_sql_engine[0] != '\0')
		engine = db_engine_parse(c->conf->postfix_sql_engine);
	path = conf_sql_path(c->conf, "sql-virtual_mailbox_maps.cf");
	rc = cf_parse_file(&cf, path, &err);
	free(path);
	if (rc == -1) {
		finding(c, "db_reachable", CHECK_ERROR,
		    "cannot read the "
		    "database credentials: %s; postino, Postfix and this check "
		    "all take them from that file",
		    err.msg);
		return;
	}
	rc = db_params_from_cf(&c->params, &cf, engine, &err);
	cf_release(&cf);
	if (rc == -1) {
		finding(c, "db_reachable", CHECK_ERROR, "%s", err.msg);
		return;
	}
	c->have_params = true;
	{
		struct db_params p;

		db_params_copy(&p, &c->params);
		if (p.connect_timeout == 0)
			p.connect_timeout = CONNECT_TIMEOUT;
		c->db = db_open(&p, &err);
		db_params_release(&p);
	}
	if (c->db == NULL ||
	    db_query_int(c->db, "SELECT 1", NULL, 0, &one, &err) == -1) {
		db_close(&c->db);
		finding(c, "db_reachable", CHECK_ERROR, "%s%s%s", err.msg,
		    err.hint[0] ? "; " : "", err.hint);
		return;
	}
	model_init(&c->model, c->db, c->conf, "postino check");
	finding(
	    c, "db_reachable", CHECK_INFO, "connected to %s", db_where(c->db));
}

static void
probe_schema(struct ctx *c)
{
	struct schema_status st;
	struct err err = ERR_INIT;

	if (schema_status(c->db, &st, &err) == -1) {
		finding(c, "schema_tables", CHECK_ERROR,
		    "cannot inspect the "
		    "schema: %s",
		    err.msg);
		return;
	}
	if (st.empty) {
		finding(c, "schema_tables", CHECK_ERROR,
		    "no PostfixAdmin "
		    "schema in %s; create it with 'postino schema init'",
		    db_where(c->db));
		return;
	}
	if (st.missing_pfa > 0)
		finding(c, "schema_tables", CHECK_ERROR,
		    "the PostfixAdmin "
		    "schema lacks %s: %s; run PostfixAdmin's upgrade.php, then "
		    "'postino schema migrate'",
		    plural(st.missing_pfa, "a table", "tables"), st.missing);
	else {
		c->schema_ok = true;
		finding(c, "schema_tables", CHECK_INFO,
		    "every PostfixAdmin "
		    "table postino uses is present");
	}
	if (st.postino_version < SCHEMA_POSTINO_VERSION)
		finding(c, "schema_version", CHECK_ERROR,
		    "the database is at "
		    "postino schema version %d, this postino needs %d; run "
		    "'postino schema migrate' (it only adds tables and "
		    "indexes)",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
	else if (st.postino_version > SCHEMA_POSTINO_VERSION)
		finding(c, "schema_version", CHECK_WARN,
		    "the database is at "
		    "postino schema version %d, newer than this postino (%d); "
		    "upgrade postino on this host",
		    st.postino_version, SCHEMA_POSTINO_VERSION);
	else
		finding(c, "schema_version", CHECK_INFO,
		    "PostfixAdmin config "
		    "version %s, postino schema version %d",
		    st.pfa_version[0] ? st.pfa_version : "(none)",
		    st.postino_version);
}

/* --- mail root, hook, vmail ids ------------------------------------------- */

static void
probe_mailbox_base(struct ctx *c)
{
	const char *base = c->conf->virtual_mailbox_base;
	int64_t uid = c->conf->vmail_uid;
	struct stat st;
	char who[64];

	if (base[0] != '/') {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "virtual_mailbox_base "
		    "'%s' is not an absolute path; set it in postino.toml",
		    base);
		return;
	}
	if (stat(base, &st) == -1) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s': %s; "
		    "create it (owned by the vmail user) or fix "
		    "virtual_mailbox_base",
		    base, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s' is not "
		    "a directory; fix virtual_mailbox_base",
		    base);
		return;
	}
	if (st.st_mode & S_IWOTH) {
		finding(c, "mailbox_base", CHECK_ERROR,
		    "mail root '%s' is "
		    "writable by everyone (mode %04o); chmod o-w it",
		    base, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (uid >= 0 && st.st_uid != (uid_t)uid && st.st_uid != 0 &&
	    st.st_uid != geteuid()) {
		finding(c, "mailbox_base", CHECK_WARN,
		    "mail root '%s' is "
		    "owned by %s, neither the vmail user (uid %lld) nor root, "
		    "who can replace every maildir; chown it to the vmail user",
		    base, uid_name(st.st_uid, who, sizeof(who)),
		    (long long)uid);
		return;
	}
	finding(c, "mailbox_base", CHECK_INFO,
	    "mail root '%s' is a directory "
	    "owned by %s, mode %04o",
	    base, uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run argv[0] with argv, stdin from /dev/null, collecting up to outsize-1
 * bytes of its output.  Returns the exit status, -2 on timeout, -1 when it
 * could not be started.
 */
static int
run_capture(char *const argv[], int timeout_ms, char *out, size_t outsize)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:"
		"/usr/local/bin",
		"HOME=/", "LANG=C", NULL
	};
	size_t n = 0;
	int pfd[2], status = 0;
	int64_t deadline;
	bool timed_out = false;
	pid_t pid;

	out[0] = '\0';
	if (pipe(pfd) == -1)
		return -1;
	(void)fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - now_ms();
		char junk[512];
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (n + 1 < outsize)
			r = read(pfd[0], out + n, outsize - 1 - n);
		else
			r = read(pfd[0], junk, sizeof(junk));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n + 1 < outsize)
			n += (size_t)r;
	}
	out[n] = '\0';
	close(pfd[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out)
		return -2;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The first word of s (skipping blanks) into w; returns what follows. */
static const char *
next_word(const char *s, char *w, size_t size)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strcspn(s, " \t\r\n");
	snprintf(w, size, "%.*s", (int)n, s);
	return s + n;
}

/* An interpreter named without a path ("env bash"), found on PATH. */
static bool
find_on_path(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin",
		"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };

	if (strchr(name, '/') != NULL) {
		snprintf(out, size, "%s", name);
		return access(out, X_OK) == 0;
	}
	for (size_t i = 0; dirs[i] != NULL; i++) {
		int n = snprintf(out, size, "%s/%s", dirs[i], name);

		if (n > 0 && (size_t)n < size && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

static void
hook_syntax(struct ctx *c, const char *hook)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ksh",
		"mksh", "zsh", "posh", NULL };
	char head[257], word[PATH_MAX], interp[PATH_MAX], path[PATH_MAX];
	char out[4096], *nl, *argv[4];
	const char *p, *base;
	bool shell = false;
	ssize_t n;
	int fd, rc;

	if ((fd = open(hook, O_RDONLY | O_CLOEXEC)) == -1) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: "
		    "cannot read '%s': %s",
		    hook, strerror(errno));
		return;
	}
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	head[n] = '\0';
	if (n >= 4 && memcmp(head, "\177ELF", 4) == 0) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: "
		    "'%s' is a compiled program",
		    hook);
		return;
	}
	if (n < 2 || head[0] != '#' || head[1] != '!') {
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s' has "
		    "no '#!' line, so it cannot be executed (exec format "
		    "error); start it with '#!/bin/sh'",
		    hook);
		return;
	}
	if ((nl = strchr(head, '\n')) != NULL)
		*nl = '\0';
	p = next_word(head + 2, interp, sizeof(interp));
	base = strrchr(interp, '/') != NULL ? strrchr(interp, '/') + 1 : interp;
	if (strcmp(base, "env") == 0) {
		/* #!/usr/bin/env [-S] [-opts] [VAR=x] interp */
		do {
			p = next_word(p, word, sizeof(word));
		} while (word[0] != '\0' &&
		    (word[0] == '-' || strchr(word, '=') != NULL));
		if (word[0] == '\0') {
			finding(c, "postcreation_hook_syntax", CHECK_ERROR,
			    "'%s': '#!%s' names no interpreter", hook, interp);
			return;
		}
		if (!find_on_path(word, interp, sizeof(interp))) {
			finding(c, "postcreation_hook_syntax", CHECK_ERROR,
			    "'%s': interpreter '%s' is not on the hook's PATH; "
			    "install it or fix the '#!' line",
			    hook, word);
			return;
		}
		base = strrchr(interp, '/') + 1;
	} else if (access(interp, X_OK) == -1) {
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s': "
		    "interpreter '%s': %s; install it or fix the '#!' line",
		    hook, interp, strerror(errno));
		return;
	}
	for (size_t i = 0; shells[i] != NULL; i++)
		if (strcmp(base, shells[i]) == 0)
			shell = true;
	if (!shell) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "skipped: "
		    "'%s' is run by %s, which has no syntax-only mode postino "
		    "knows",
		    hook, base);
		return;
	}
	snprintf(path, sizeof(path), "%s", hook);
	argv[0] = interp;
	argv[1] = xstrdup("-n");
	argv[2] = path;
	argv[3] = NULL;
	rc = run_capture(argv, SYNTAX_TIMEOUT_MS, out, sizeof(out));
	free(argv[1]);
	if (rc == 0) {
		finding(c, "postcreation_hook_syntax", CHECK_INFO,
		    "'%s -n' "
		    "accepts '%s'",
		    base, hook);
		return;
	}
	for (char *q = out; *q != '\0'; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
	if (rc == -2)
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s -n "
		    "%s' did not finish within %d s",
		    base, hook, SYNTAX_TIMEOUT_MS / 1000);
	else
		finding(c, "postcreation_hook_syntax", CHECK_ERROR,
		    "'%s' has "
		    "a syntax error (%s -n exited %d): %.200s; fix it before "
		    "the next 'user add'",
		    hook, base, rc, str_trim(out));
}

static void
probe_hook(struct ctx *c)
{
	const char *hook = c->conf->postcreation_hook;
	struct stat st;
	char who[64];

	if (hook[0] == '\0') {
		finding(c, "postcreation_hook", CHECK_INFO,
		    "no post-creation "
		    "hook configured");
		return;
	}
	if (hook[0] != '/') {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "postcreation_hook '%s' is not an absolute path; the hook "
		    "runs from '/', so give its full path",
		    hook);
		return;
	}
	if (stat(hook, &st) == -1) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation "
		    "hook '%s': %s; every 'user add' will fail until it exists "
		    "(or clear postcreation_hook)",
		    hook, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation "
		    "hook '%s' is not a regular file",
		    hook);
		return;
	}
	if (access(hook, X_OK) == -1) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation "
		    "hook '%s' is not executable; chmod 755 it",
		    hook);
		return;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation "
		    "hook '%s' is owned by %s but runs as root; chown root it",
		    hook, uid_name(st.st_uid, who, sizeof(who)));
		return;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		finding(c, "postcreation_hook", CHECK_ERROR,
		    "post-creation "
		    "hook '%s' is writable by its group or others (mode %04o) "
		    "and runs as %s; chmod go-w it",
		    hook, (unsigned)(st.st_mode & 07777),
		    geteuid() == 0 ? "root" : "postino's user");
		return;
	}
	finding(c, "postcreation_hook", CHECK_INFO,
	    "'%s' is executable, "
	    "owned by %s, mode %04o",
	    hook, uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
	hook_syntax(c, hook);
}

static void
vmail_id(struct ctx *c, bool is_uid, int64_t id)
{
	const char *name = is_uid ? "vmail_uid" : "vmail_gid";
	const char *what = is_uid ? "uid" : "gid";
	const char *resolved = NULL;

	if (id < 0) {
		if (geteuid() == 0)
			finding(c, name, CHECK_ERROR,
			    "%s is not set, so "
			    "maildirs are created owned by root, which Dovecot "
			    "refuses to deliver to; set %s in postino.toml",
			    name, name);
		else
			finding(c, name, CHECK_INFO,
			    "%s is not set: maildirs "
			    "belong to the user postino runs as (%s %ld)",
			    name, what,
			    is_uid ? (long)geteuid() : (long)getegid());
		return;
	}
	if (id == 0) {
		finding(c, name, CHECK_ERROR,
		    "%s is 0 (root): Dovecot and "
		    "Postfix's virtual(8) refuse to deliver as root; create a "
		    "dedicated user (useradd -r vmail) and set %s to its %s",
		    name, name, what);
		return;
	}
	if (is_uid) {
		struct passwd *pw = getpwuid((uid_t)id);

		if (pw != NULL)
			resolved = pw->pw_name;
	} else {
		struct group *gr = getgrgid((gid_t)id);

		if (gr != NULL)
			resolved = gr->gr_name;
	}
	if (resolved == NULL) {
		finding(c, name, CHECK_WARN,
		    "%s %lld has no %s entry; create "
		    "the vmail %s with that id so file listings and Dovecot "
		    "logs name it",
		    what, (long long)id, is_uid ? "passwd" : "group",
		    is_uid ? "user" : "group");
		return;
	}
	finding(c, name, CHECK_INFO, "%s %lld is '%s'", what, (long long)id,
	    resolved);
}

static void
probe_vmail(struct ctx *c)
{
	vmail_id(c, true, c->conf->vmail_uid);
	vmail_id(c, false, c->conf->vmail_gid);
}

/* --- database grants ------------------------------------------------------ */

enum {
	PRIV_SELECT = 1 << 0,
	PRIV_INSERT = 1 << 1,
	PRIV_UPDATE = 1 << 2,
	PRIV_DELETE = 1 << 3,
	PRIV_DATA = 0xf,
};

/* What postino's statements need, per table (only existing ones count). */
static const struct {
	const char *table;
	unsigned privs;
} needs[] = {
	{ "domain", PRIV_DATA },
	{ "mailbox", PRIV_DATA },
	{ "alias", PRIV_DATA },
	{ "alias_domain", PRIV_DATA },
	{ "quota2", PRIV_DATA },
	{ "log", PRIV_SELECT | PRIV_INSERT },
	{ "domain_admins", PRIV_SELECT | PRIV_DELETE },
	{ "vacation", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "vacation_notification", PRIV_SELECT | PRIV_DELETE },
	{ "fetchmail", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "quota", PRIV_SELECT | PRIV_UPDATE | PRIV_DELETE },
	{ "config", PRIV_SELECT },
	{ "routes", PRIV_DATA },
	{ "postino_domain", PRIV_DATA },
	{ "postino_change", PRIV_SELECT | PRIV_INSERT | PRIV_UPDATE },
	{ "postino_schema_version", PRIV_SELECT },
};
#define NNEEDS (sizeof(needs) / sizeof(needs[0]))

static void
priv_names(unsigned p, char *out, size_t size)
{
	static const char *const names[] = { "SELECT", "INSERT", "UPDATE",
		"DELETE" };
	size_t l = 0;

	out[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (p & (1u << i))
			l += (size_t)snprintf(out + l, l < size ? size - l : 0,
			    "%s%s", l ? ", " : "", names[i]);
}

/* Report what is missing per table; returns whether anything was. */
static bool
grants_missing(
    struct ctx *c, const unsigned *have, const bool *exists, const char *scope)
{
	bool any = false;

	for (size_t i = 0; i < NNEEDS; i++) {
		unsigned miss = needs[i].privs & ~have[i];
		char name[64], p[64], all[64];

		if (!exists[i] || miss == 0)
			continue;
		any = true;
		priv_names(miss, p, sizeof(p));
		priv_names(needs[i].privs, all, sizeof(all));
		snprintf(name, sizeof(name), "db_grants:%s", needs[i].table);
		finding(c, name, CHECK_ERROR,
		    "the database user lacks %s on "
		    "table '%s'%s; grant %s on it",
		    p, needs[i].table, scope, all);
	}
	return any;
}

/* MySQL GRANT database patterns: '%' and '_' wildcards, '\' escapes. */
static bool
like_match(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '%') {
			for (const char *t = s;; t++) {
				if (like_match(pat + 1, t))
					return true;
				if (*t == '\0')
					return false;
			}
		}
		if (*pat == '\\' && pat[1] != '\0')
			pat++;
		else if (*pat == '_') {
			if (*s == '\0')
				return false;
			continue;
		}
		if (*s != *pat)
			return false;
	}
	return *s == '\0';
}

static bool
like_has_percent(const char *pat)
{
	for (; *pat != '\0'; pat++) {
		if (*pat == '\\' && pat[1] != '\0')
			pat++;
		else if (*pat == '%')
			return true;
	}
	return false;
}

/* `name` or name up to stop; returns what follows, NULL on bad syntax. */
static const char *
mysql_ident(const char *s, char stop, char *out, size_t size)
{
	size_t n = 0;

	if (*s == '`') {
		for (s++; *s != '\0'; s++) {
			if (*s == '`') {
				if (s[1] != '`')
					break;
				s++;
			}
			if (n + 1 < size)
				out[n++] = *s;
		}
		if (*s != '`')
			return NULL;
		s++;
	} else {
		while (*s != '\0' && *s != stop && *s != ' ') {
			if (n + 1 < size)
				out[n++] = *s;
			s++;
		}
	}
	out[n] = '\0';
	return s;
}

struct mysql_grants {
	unsigned all; /* on every table of our database */
	unsigned have[NNEEDS];
	bool any_scope;
	struct sample over;
};

/* One line of SHOW GRANTS. */
static void
mysql_grant_line(struct ctx *c, struct mysql_grants *g, const char *line)
{
	const char *dbname = c->params.dbname != NULL ? c->params.dbname : "";
	char privs[1024], db[256], table[256], item[128];
	const char *on, *to, *p;
	unsigned data = 0;
	bool other = false, global, ours;
	struct buf extra;

	if (!str_prefix(line, "GRANT ") ||
	    (on = strstr(line, " ON ")) == NULL ||
	    (to = strstr(on, " TO ")) == NULL)
		return; /* a role grant: not inspected */
	snprintf(privs, sizeof(privs), "%.*s", (int)(on - line - 6), line + 6);
	p = on + 4;
	if (str_prefix(p, "FUNCTION ") || str_prefix(p, "PROCEDURE ") ||
	    str_prefix(p, "PACKAGE ") || strcmp(privs, "PROXY") == 0)
		return;
	if ((p = mysql_ident(p, '.', db, sizeof(db))) == NULL || *p != '.' ||
	    mysql_ident(p + 1, ' ', table, sizeof(table)) == NULL)
		return;
	buf_init(&extra, 4096);
	for (p = privs; *p != '\0';) {
		size_t n = 0;
		int depth = 0;

		while (p[n] != '\0' && (p[n] != ',' || depth > 0)) {
			if (p[n] == '(')
				depth++;
			else if (p[n] == ')')
				depth--;
			n++;
		}
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
		{
			char *it = str_trim(item);

			if (strchr(it, '(') != NULL)
				continue; /* column privileges */
			if (strcmp(it, "ALL PRIVILEGES") == 0 ||
			    strcmp(it, "ALL") == 0) {
				data |= PRIV_DATA;
				other = true;
				buf_printf(
				    &extra, "%sALL", extra.len ? "+" : "");
			} else if (strcmp(it, "SELECT") == 0)
				data |= PRIV_SELECT;
			else if (strcmp(it, "INSERT") == 0)
				data |= PRIV_INSERT;
			else if (strcmp(it, "UPDATE") == 0)
				data |= PRIV_UPDATE;
			else if (strcmp(it, "DELETE") == 0)
				data |= PRIV_DELETE;
			else if (strcmp(it, "USAGE") != 0) {
				other = true;
				buf_printf(
				    &extra, "%s%s", extra.len ? "+" : "", it);
			}
		}
	}
	global = strcmp(db, "*") == 0;
	ours = !global && like_match(db, dbname);
	if (global && (data != 0 || other))
		sample_add(&g->over, "%s on *.* (every database)",
		    extra.len ? buf_cstr(&extra) : "data privileges");
	else if (!global && !ours && (data != 0 || other))
		sample_add(&g->over, "privileges on database '%s'", db);
	else if (ours && like_has_percent(db) && (data != 0 || other))
		sample_add(&g->over,
		    "privileges on every database matching "
		    "'%s'",
		    db);
	if (strstr(to, "WITH GRANT OPTION") != NULL)
		sample_add(&g->over, "GRANT OPTION on %s.%s", db, table);
	buf_release(&extra);
	if (!global && !ours)
		return;
	if (data != 0 || other)
		g->any_scope = true;
	if (strcmp(table, "*") == 0) {
		g->all |= data;
		return;
	}
	for (size_t i = 0; i < NNEEDS; i++)
		if (strcmp(needs[i].table, table) == 0)
			g->have[i] |= data;
}

static void
grants_mysql(struct ctx *c)
{
	struct mysql_grants g;
	struct err err = ERR_INIT;
	struct db_res *r;
	bool exists[NNEEDS];
	char scope[300];
	int rc;

	memset(&g, 0, sizeof(g));
	sample_init(&g.over);
	memset(exists, 0, sizeof(exists));
	if (db_query(c->db,
		"SELECT table_name FROM information_schema.tables "
		"WHERE table_schema = DATABASE()",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1)
		for (size_t i = 0; i < NNEEDS; i++)
			if (db_col(r, 0) != NULL &&
			    strcmp(db_col(r, 0), needs[i].table) == 0)
				exists[i] = true;
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	if (db_query(c->db, "SHOW GRANTS", NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1)
		if (db_col(r, 0) != NULL)
			mysql_grant_line(c, &g, db_col(r, 0));
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	for (size_t i = 0; i < NNEEDS; i++)
		g.have[i] |= g.all;
	snprintf(scope, sizeof(scope), " of database '%s'",
	    c->params.dbname != NULL ? c->params.dbname : "");
	if (!g.any_scope)
		finding(c, "db_grants", CHECK_ERROR,
		    "the database user has no "
		    "privileges on database '%s'; grant SELECT, INSERT, "
		    "UPDATE, DELETE on it",
		    c->params.dbname != NULL ? c->params.dbname : "");
	else if (!grants_missing(c, g.have, exists, scope))
		finding(c, "db_grants", CHECK_INFO,
		    "the database user holds "
		    "the privileges postino needs on '%s'",
		    c->params.dbname);
	if (g.over.n > 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "the "
		    "database user, whose password every Postfix map file "
		    "holds, has more than postino needs: %s; revoke them",
		    sample_text(&g.over));
	sample_release(&g.over);
	return;
fail:
	sample_release(&g.over);
	finding(
	    c, "db_grants", CHECK_ERROR, "cannot read the grants: %s", err.msg);
}

static void
grants_pgsql(struct ctx *c)
{
	static const char *const dangerous[] = { "pg_read_server_files",
		"pg_write_server_files", "pg_execute_server_program",
		"pg_read_all_data", "pg_write_all_data", "pg_signal_backend",
		NULL };
	struct err err = ERR_INIT;
	struct db_res *r;
	struct sample over;
	unsigned have[NNEEDS];
	bool exists[NNEEDS];
	int rc;

	memset(have, 0, sizeof(have));
	memset(exists, 0, sizeof(exists));
	sample_init(&over);
	if (db_query(c->db,
		"SELECT c.relname, "
		"has_table_privilege(c.oid, 'SELECT'), "
		"has_table_privilege(c.oid, 'INSERT'), "
		"has_table_privilege(c.oid, 'UPDATE'), "
		"has_table_privilege(c.oid, 'DELETE') "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		"ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
		"AND c.relkind IN ('r', 'p')",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	while ((rc = db_next(r, &err)) == 1) {
		const char *t = db_col(r, 0);

		for (size_t i = 0; t != NULL && i < NNEEDS; i++) {
			if (strcmp(t, needs[i].table) != 0)
				continue;
			exists[i] = true;
			for (int k = 0; k < 4; k++)
				if (model_bool(db_col(r, k + 1)))
					have[i] |= 1u << k;
		}
	}
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	if (db_query(c->db,
		"SELECT rolsuper, rolcreaterole, rolcreatedb, "
		"rolbypassrls, rolreplication FROM pg_catalog.pg_roles "
		"WHERE rolname = current_user",
		NULL, 0, 0, &r, &err) == -1)
		goto fail;
	if ((rc = db_next(r, &err)) == 1) {
		static const char *const attr[] = { "SUPERUSER", "CREATEROLE",
			"CREATEDB", "BYPASSRLS", "REPLICATION" };

		for (int k = 0; k < 5; k++)
			if (model_bool(db_col(r, k)))
				sample_add(&over, "role attribute %s", attr[k]);
	}
	db_res_free(&r);
	if (rc == -1)
		goto fail;
	for (size_t i = 0; dangerous[i] != NULL; i++) {
		struct db_arg a[] = { DB_TEXT(dangerous[i]) };
		int64_t n = 0;

		if (db_query_int(c->db,
			"SELECT COUNT(*) FROM "
			"pg_catalog.pg_roles r WHERE r.rolname = ? AND "
			"r.rolname <> current_user AND "
			"pg_has_role(current_user, r.oid, 'USAGE')",
			a, 1, &n, &err) == -1)
			goto fail;
		if (n > 0)
			sample_add(&over, "membership in %s", dangerous[i]);
	}
	if (!grants_missing(c, have, exists, ""))
		finding(c, "db_grants", CHECK_INFO,
		    "the database role holds "
		    "the privileges postino needs on every table");
	if (over.n > 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "the "
		    "database role, whose password every Postfix map file "
		    "holds, has more than postino needs: %s; ALTER ROLE or "
		    "REVOKE them",
		    sample_text(&over));
	sample_release(&over);
	return;
fail:
	sample_release(&over);
	finding(c, "db_grants", CHECK_ERROR, "cannot read the privileges: %s",
	    err.msg);
}

static void
grants_sqlite(struct ctx *c)
{
	const char *path = c->params.dbpath;
	char dir[PATH_MAX], who[64], *slash;
	struct stat st;

	if (path == NULL || stat(path, &st) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "cannot stat the SQLite "
		    "database '%s': %s",
		    path ? path : "", strerror(errno));
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (!S_ISREG(st.st_mode)) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is "
		    "not a regular file",
		    path);
		return;
	}
	if (access(path, R_OK | W_OK) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is "
		    "not readable and writable by postino: %s; fix its owner "
		    "or mode",
		    path, strerror(errno));
		return;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		finding(c, "db_grants", CHECK_ERROR,
		    "cannot write in '%s', "
		    "where SQLite keeps the journal of '%s': %s",
		    dir, path, strerror(errno));
		return;
	}
	if (st.st_mode & S_IWOTH) {
		finding(c, "db_grants", CHECK_ERROR,
		    "SQLite database '%s' is "
		    "writable by everyone (mode %04o): anyone can change "
		    "passwords; chmod 640 it",
		    path, (unsigned)(st.st_mode & 07777));
		return;
	}
	finding(c, "db_grants", CHECK_INFO,
	    "SQLite database '%s' is owned "
	    "by %s, mode %04o",
	    path, uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777));
	if (st.st_mode & S_IROTH)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "SQLite "
		    "database '%s' is readable by everyone (mode %04o), "
		    "password hashes included; chmod o-r it",
		    path, (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		finding(c, "db_grants:overprivileged", CHECK_WARN,
		    "SQLite "
		    "database '%s' is owned by %s, who can change every "
		    "password in it; chown it to root (Dovecot and Postfix "
		    "need only group access)",
		    path, uid_name(st.st_uid, who, sizeof(who)));
}

static void
probe_grants(struct ctx *c)
{
	switch (db_engine(c->db)) {
	case DB_ENGINE_MYSQL:
		grants_mysql(c);
		break;
	case DB_ENGINE_PGSQL:
		grants_pgsql(c);
		break;
	case DB_ENGINE_SQLITE:
		grants_sqlite(c);
		break;
	default:
		break;
	}
}

/* --- Postfix map files ---------------------------------------------------- */

enum cf_need { CF_OPTIONAL, CF_ALWAYS, CF_ALIAS_DOMAINS };

static const struct {
	const char *file;
	enum cf_need need;
	const char *legacy; /* older name, accepted, warned */
} cf_rules[] = {
	{ "sql-virtual_domains.cf", CF_ALWAYS, "sql-virtual_domain_maps.cf" },
	{ "sql-virtual_alias_maps.cf", CF_ALWAYS, NULL },
	{ "sql-virtual_mailbox_maps.cf", CF_ALWAYS, NULL },
	{ "sql-virtual_alias_alias_domain_maps.cf", CF_ALIAS_DOMAINS, NULL },
	{ "sql-virtual_alias_domain_catchall_maps.cf", CF_ALIAS_DOMAINS, NULL },
	{ "sql-virtual_mailbox_alias_domain_maps.cf", CF_ALIAS_DOMAINS, NULL },
};

static bool
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool
same_path(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (same_str(a, b))
		return true;
	if (a == NULL || b == NULL || realpath(a, ra) == NULL ||
	    realpath(b, rb) == NULL)
		return false;
	return strcmp(ra, rb) == 0;
}

/* Which credentials differ from the ones in use ("" when none). */
static void
cf_differences(const struct db_params *in_use, const struct db_params *p,
    char *out, size_t size)
{
	size_t l = 0;

	out[0] = '\0';
#define DIFF(what)                                                             \
	l += (size_t)snprintf(                                                 \
	    out + l, l < size ? size - l : 0, "%s%s", l ? ", " : "", what)
	if (in_use->engine == DB_ENGINE_SQLITE) {
		if (!same_path(in_use->dbpath, p->dbpath))
			DIFF("dbpath");
		return;
	}
	if (!same_str(in_use->hosts, p->hosts))
		DIFF("hosts");
	if (!same_str(in_use->user, p->user))
		DIFF("user");
	if (!str_ct_equal(in_use->password != NULL ? in_use->password : "",
		p->password != NULL ? p->password : ""))
		DIFF("password");
	if (!same_str(in_use->dbname, p->dbname))
		DIFF("dbname");
#undef DIFF
}

static void
check_cf_file(struct ctx *c, const char *file, const char *shown)
{
	char name[128], who[64], diff[128], *path;
	struct err err = ERR_INIT;
	struct db_params p;
	struct stat st;
	struct cf cf;
	unsigned mode;

	snprintf(name, sizeof(name), "postfix_sql_cf:%s", shown);
	path = conf_sql_path(c->conf, file);
	if (stat(path, &st) == -1) {
		finding(c, name, CHECK_ERROR, "cannot stat '%s': %s", path,
		    strerror(errno));
		free(path);
		return;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISREG(st.st_mode))
		finding(
		    c, name, CHECK_ERROR, "'%s' is not a regular file", path);
	else if (mode & ~0640u)
		finding(c, name, CHECK_ERROR,
		    "'%s' has mode %04o but holds "
		    "the database password; chmod 640 and chown root:postfix "
		    "it",
		    path, mode);
	else if (geteuid() == 0 && st.st_uid != 0)
		finding(c, name, CHECK_ERROR,
		    "'%s' is owned by %s, who can "
		    "change what Postfix and postino connect to; chown "
		    "root:postfix it",
		    path, uid_name(st.st_uid, who, sizeof(who)));
	else if (cf_parse_file(&cf, path, &err) == -1)
		finding(c, name, CHECK_ERROR, "%s", err.msg);
	else {
		if (cf_get(&cf, "query") == NULL ||
		    *cf_get(&cf, "query") == '\0')
			finding(c, name, CHECK_ERROR,
			    "'%s' has no 'query'; "
			    "regenerate it with 'postino config gen --only "
			    "sql_maps --out DIR' and copy DIR/postfix/%s over "
			    "it",
			    path, file);
		else if (db_params_from_cf(&p, &cf,
			     c->have_params ? c->params.engine : DB_ENGINE_NONE,
			     &err) == -1)
			finding(c, name, CHECK_ERROR, "%s", err.msg);
		else {
			diff[0] = '\0';
			if (c->have_params)
				cf_differences(
				    &c->params, &p, diff, sizeof(diff));
			if (diff[0] != '\0')
				finding(c, name, CHECK_ERROR,
				    "'%s': %s "
				    "%s from sql-virtual_mailbox_maps.cf, "
				    "whose credentials postino uses, so "
				    "Postfix would query another database; "
				    "make them equal",
				    path, diff,
				    strchr(diff, ',') != NULL ? "differ"
							      : "differs");
			else
				finding(c, name, CHECK_INFO,
				    "mode %04o, owned "
				    "by %s, credentials match",
				    mode,
				    uid_name(st.st_uid, who, sizeof(who)));
			db_params_release(&p);
		}
		cf_release(&cf);
	}
	free(path);
}

static bool
cf_exists(const struct ctx *c, const char *file)
{
	char *path = conf_sql_path(c->conf, file);
	struct stat st;
	bool r = lstat(path, &st) == 0;

	free(path);
	return r;
}

/*
 * Every other sql-*.cf beside them (the routes map "config gen" writes,
 * legacy or hand-made maps) holds the same password: same rules.
 */
static void
sql_cf_others(struct ctx *c)
{
	char *pat = conf_sql_path(c->conf, "sql-*.cf");
	glob_t g;

	if (glob(pat, 0, NULL, &g) != 0) {
		free(pat);
		return;
	}
	free(pat);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		bool known = false;

		base = base != NULL ? base + 1 : g.gl_pathv[i];
		for (const struct mapgen_map *m = mapgen_maps; m->file != NULL;
		     m++)
			if (strcmp(m->file, base) == 0)
				known = true;
		/* A legacy name stood in for a missing map: checked above. */
		for (size_t k = 0; k < sizeof(cf_rules) / sizeof(cf_rules[0]);
		     k++)
			if (cf_rules[k].legacy != NULL &&
			    strcmp(cf_rules[k].legacy, base) == 0 &&
			    !cf_exists(c, cf_rules[k].file))
				known = true;
		if (!known)
			check_cf_file(c, base, base);
	}
	globfree(&g);
}

static void
probe_sql_cf(struct ctx *c)
{
	int64_t nadoms = -1;

	if (c->db != NULL && c->schema_ok) {
		struct err err = ERR_INIT;

		if (db_query_int(c->db, "SELECT COUNT(*) FROM alias_domain",
			NULL, 0, &nadoms, &err) == -1)
			nadoms = -1;
	}
	for (const struct mapgen_map *m = mapgen_maps; m->file != NULL; m++) {
		enum cf_need need = CF_OPTIONAL;
		const char *legacy = NULL;
		char name[128];

		for (size_t i = 0; i < sizeof(cf_rules) / sizeof(cf_rules[0]);
		     i++)
			if (strcmp(cf_rules[i].file, m->file) == 0) {
				need = cf_rules[i].need;
				legacy = cf_rules[i].legacy;
			}
		if (cf_exists(c, m->file)) {
			check_cf_file(c, m->file, m->file);
			continue;
		}
		snprintf(name, sizeof(name), "postfix_sql_cf:%s", m->file);
		if (legacy != NULL && cf_exists(c, legacy)) {
			finding(c, name, CHECK_WARN,
			    "only the legacy name "
			    "'%s' exists; rename it to '%s' and update main.cf",
			    legacy, m->file);
			check_cf_file(c, legacy, legacy);
			continue;
		}
		if (need == CF_ALWAYS ||
		    (need == CF_ALIAS_DOMAINS && nadoms > 0))
			finding(c, name, CHECK_ERROR,
			    "'%s/%s' is missing%s; write it with 'postino "
			    "config gen --only %s --out DIR' and copy "
			    "DIR/postfix/%s there (mode 0640)",
			    c->conf->postfix_sql_dir, m->file,
			    need == CF_ALIAS_DOMAINS ? " but alias domains "
						       "exist"
						     : "",
			    m->artefact, m->file);
	}
	sql_cf_others(c);
}

/* --- Postfix main.cf / master.cf ------------------------------------------ */

/* <postfix_sql_dir>/<name>, else its parent's: "" when neither exists. */
static void
postfix_file(const struct ctx *c, const char *name, char *out, size_t size)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	snprintf(out, size, "%s/%s", c->conf->postfix_sql_dir, name);
	if (stat(out, &st) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", c->conf->postfix_sql_dir);
	while ((slash = strrchr(dir, '/')) != NULL && slash[1] == '\0' &&
	    slash != dir)
		*slash = '\0';
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((size_t)snprintf(out, size, "%s/%s", dir, name) < size &&
		    stat(out, &st) == 0)
			return;
	}
	out[0] = '\0';
}

static void
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Postfix's virtual_mailbox_base, when main.cf sets it, must be ours. */
static void
probe_postfix_base(struct ctx *c)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct err err = ERR_INIT;
	const char *v;
	struct cf cf;

	postfix_file(c, "main.cf", path, sizeof(path));
	if (path[0] == '\0' || cf_parse_file(&cf, path, &err) == -1)
		return;
	v = cf_get(&cf, "virtual_mailbox_base");
	if (v != NULL && strchr(v, '$') == NULL) {
		snprintf(a, sizeof(a), "%s", v);
		snprintf(b, sizeof(b), "%s", c->conf->virtual_mailbox_base);
		strip_slashes(a);
		strip_slashes(b);
		if (!same_path(a, b))
			finding(c, "postfix_mailbox_base", CHECK_ERROR,
			    "%s:%d: virtual_mailbox_base is '%s' but postino "
			    "creates maildirs under '%s'; make them the same",
			    path, cf_line(&cf, "virtual_mailbox_base"), a, b);
		else
			finding(c, "postfix_mailbox_base", CHECK_INFO,
			    "Postfix and postino agree on '%s'", b);
	}
	cf_release(&cf);
}

/* A main.cf list ("a, b c") split into words. */
static size_t
split_list(const char *v, char words[][PATH_MAX], size_t max)
{
	size_t n = 0;

	while (*v != '\0' && n < max) {
		size_t l;

		v += strspn(v, " \t,");
		l = strcspn(v, " \t,");
		if (l == 0)
			break;
		snprintf(words[n++], PATH_MAX, "%.*s", (int)l, v);
		v += l;
	}
	return n;
}

/* The map types that reach our database for this engine. */
static bool
map_type_ok(const struct ctx *c, const char *src)
{
	const char *t = src;

	if (str_prefix(t, "proxy:"))
		t += 6;
	if (str_prefix(t, "socketmap:") || str_prefix(t, "tcp:"))
		return true; /* podop */
	switch (c->have_params ? c->params.engine : DB_ENGINE_NONE) {
	case DB_ENGINE_MYSQL:
		return str_prefix(t, "mysql:");
	case DB_ENGINE_PGSQL:
		return str_prefix(t, "pgsql:");
	case DB_ENGINE_SQLITE:
		return str_prefix(t, "sqlite:");
	default:
		return true;
	}
}

static void
check_transport_maps(struct ctx *c, const struct cf *cf, const char *path)
{
	static char words[16][PATH_MAX];
	const char *v = cf_get(cf, "transport_maps");
	size_t n, routes = SIZE_MAX;

	if (v == NULL || *v == '\0') {
		finding(c, "postfix-transport-maps", CHECK_ERROR,
		    "%s sets no "
		    "transport_maps, so list mail never reaches mlmmj; set it "
		    "to the routes map followed by the domain transports",
		    path);
		return;
	}
	n = split_list(v, words, 16);
	for (size_t i = 0; i < n; i++)
		if (strstr(words[i], "routes") != NULL) {
			routes = i;
			break;
		}
	if (routes == SIZE_MAX) {
		finding(c, "postfix-transport-maps", CHECK_ERROR,
		    "%s:%d: "
		    "transport_maps has no routes map, so list mail never "
		    "reaches mlmmj; put the routes map first",
		    path, cf_line(cf, "transport_maps"));
		return;
	}
	finding(
	    c, "postfix-transport-maps", CHECK_INFO, "transport_maps: %s", v);
	if (routes != 0)
		finding(c, "postfix-transport-maps-order", CHECK_ERROR,
		    "%s:%d: the routes map comes after '%s', which answers "
		    "first for list domains; move it to the front",
		    path, cf_line(cf, "transport_maps"), words[0]);
	else
		finding(c, "postfix-transport-maps-order", CHECK_INFO,
		    "the "
		    "routes map is looked up first");
	if (!map_type_ok(c, words[routes]))
		finding(c, "postfix-transport-maps-type", CHECK_ERROR,
		    "%s:%d: "
		    "'%s' is not a %s map (nor socketmap/proxy of one) but the "
		    "routes live in the %s database; fix its type",
		    path, cf_line(cf, "transport_maps"), words[routes],
		    db_engine_name(c->params.engine),
		    db_engine_name(c->params.engine));
	else
		finding(c, "postfix-transport-maps-type", CHECK_INFO,
		    "the "
		    "routes map reads the database postino writes");
}

/* A master.cf service: its whole logical entry, or "" when absent. */
static void
master_entry(const char *text, const char *service, struct buf *out)
{
	const char *line = text;
	bool in = false;

	buf_reset(out);
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		char w[128];

		if (line[0] == ' ' || line[0] == '\t') {
			if (in && line[strspn(line, " \t")] != '#')
				buf_append(out, line, n);
		} else if (line[0] != '#' && n > 0) {
			next_word(line, w, sizeof(w));
			w[strcspn(w, "\n")] = '\0';
			in = strcmp(w, service) == 0;
			if (in)
				buf_append(out, line, n);
		} else if (line[0] == '#')
			; /* a comment does not end an entry */
		else
			in = false;
		line += n;
		if (*line == '\n')
			line++;
	}
}

static void
probe_mlmmj_wiring(struct ctx *c)
{
	static const char *const services[] = { "mlmmj-receive", "mlmmj-bounce",
		"mlmmj-sub", "mlmmj-unsub", NULL };
	char path[PATH_MAX], name[64];
	struct err err = ERR_INIT;
	struct cf cf;
	struct buf text, entry;
	int fd;

	postfix_file(c, "main.cf", path, sizeof(path));
	if (path[0] == '\0')
		finding(c, "postfix-main-cf", CHECK_ERROR,
		    "no main.cf in '%s' "
		    "or its parent, so the mailing-list wiring cannot be "
		    "checked; mlmmj_spool_dir is set",
		    c->conf->postfix_sql_dir);
	else if (cf_parse_file(&cf, path, &err) == -1)
		finding(c, "postfix-main-cf", CHECK_ERROR, "%s", err.msg);
	else {
		const char *d = cf_get(&cf, "recipient_delimiter");
		const char *want = c->conf->recipient_delimiter[0] != '\0'
		    ? c->conf->recipient_delimiter
		    : "+";
		bool ok = d != NULL;

		finding(c, "postfix-main-cf", CHECK_INFO, "%s", path);
		check_transport_maps(c, &cf, path);
		for (const char *p = want; ok && *p != '\0'; p++)
			if (strchr(d, *p) == NULL)
				ok = false;
		if (!ok)
			finding(c, "recipient-delimiter", CHECK_ERROR,
			    "%s: "
			    "recipient_delimiter is %s%s%s, but list commands "
			    "(list+subscribe@...) need '%s'; set "
			    "recipient_delimiter = %s",
			    path, d ? "'" : "", d ? d : "unset", d ? "'" : "",
			    want, want);
		else
			finding(c, "recipient-delimiter", CHECK_INFO,
			    "recipient_delimiter = %s", d);
		cf_release(&cf);
	}
	postfix_file(c, "master.cf", path, sizeof(path));
	if (path[0] == '\0') {
		finding(c, "master-cf", CHECK_ERROR,
		    "no master.cf in '%s' or "
		    "its parent; the mlmmj pipe services cannot be checked",
		    c->conf->postfix_sql_dir);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		finding(c, "master-cf", CHECK_ERROR, "cannot open '%s': %s",
		    path, strerror(errno));
		return;
	}
	buf_init(&text, CF_MAX_SIZE);
	buf_init(&entry, CF_MAX_SIZE);
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r <= 0 || buf_append(&text, chunk, (size_t)r) == -1)
			break;
	}
	close(fd);
	finding(c, "master-cf", CHECK_INFO, "%s", path);
	for (size_t i = 0; services[i] != NULL; i++) {
		snprintf(name, sizeof(name), "master-cf-%s", services[i]);
		master_entry(buf_cstr(&text), services[i], &entry);
		if (entry.len == 0)
			finding(c, name, CHECK_ERROR,
			    "%s has no '%s' service; "
			    "add the pipe service postino(8) shows",
			    path, services[i]);
		else if (strstr(buf_cstr(&entry), "pipe") == NULL ||
		    strstr(buf_cstr(&entry) + strlen(services[i]),
			services[i]) == NULL)
			finding(c, name, CHECK_ERROR,
			    "%s: service '%s' does "
			    "not pipe to the %s program; fix its argv=",
			    path, services[i], services[i]);
		else
			finding(c, name, CHECK_INFO, "pipe service present");
	}
	buf_release(&entry);
	buf_release(&text);
}

/* postino's maps reachable by Postfix's chrooted daemons (pfchroot.h). */
static void
probe_postfix_chroot(struct ctx *c)
{
	char main_cf[PATH_MAX], master_cf[PATH_MAX];
	struct err err = ERR_INIT;
	struct pfchroot r;

	postfix_file(c, "main.cf", main_cf, sizeof(main_cf));
	postfix_file(c, "master.cf", master_cf, sizeof(master_cf));
	if (main_cf[0] == '\0' || master_cf[0] == '\0')
		return;
	if (pfchroot_scan(main_cf, master_cf, &r, &err) == -1) {
		finding(c, "postfix_chroot", CHECK_WARN,
		    "%s; cannot tell whether Postfix reaches postino's maps",
		    err.msg);
		return;
	}
	if (r.nproblems > 0 && r.service[0] != '\0')
		finding(c, "postfix_chroot", CHECK_ERROR,
		    "%s runs chrooted in %s (%s:%d), and %s; write such maps "
		    "as proxy:TYPE:... (proxymap runs outside the chroot), as "
		    "'postino config gen' does",
		    r.service, r.queue_dir, master_cf, r.service_line,
		    buf_cstr(&r.problems));
	else if (r.nproblems > 0)
		finding(c, "postfix_chroot", CHECK_ERROR, "%s: %s", main_cf,
		    buf_cstr(&r.problems));
	else if (r.service[0] != '\0')
		finding(c, "postfix_chroot", CHECK_INFO,
		    "%s runs chrooted in %s; the %zu %s reach postino's "
		    "lookups from there",
		    r.service, r.queue_dir, r.nmaps,
		    plural((int64_t)r.nmaps, "map", "maps"));
	else
		finding(c, "postfix_chroot", CHECK_INFO,
		    "no daemon that reads postino's maps runs chrooted (%s)",
		    master_cf);
	pfchroot_release(&r);
}

/* Every list needs its "<local>-owner@<domain>" alias. */
static void
probe_owner_aliases(struct ctx *c)
{
	const struct smap *l = &c->d.lists;
	size_t missing = 0;

	if (need_data(c, D_ALIAS | D_LISTS) == -1)
		return;
	if (!c->d.have_routes) {
		finding(c, "owner-aliases", CHECK_ERROR,
		    "no routes table, so "
		    "mailing lists cannot be routed; run 'postino schema "
		    "migrate'");
		return;
	}
	for (size_t i = 0; i < l->cap; i++) {
		const char *list = l->v[i].key, *at;
		char owner[ADDR_MAX * 2], name[ADDR_MAX + 16];

		if (list == NULL || (at = strrchr(list, '@')) == NULL)
			continue;
		snprintf(owner, sizeof(owner), "%.*s-owner%s", (int)(at - list),
		    list, at);
		if (smap_get(&c->d.als_ix, owner, NULL))
			continue;
		missing++;
		snprintf(name, sizeof(name), "owner-alias-%s", list);
		finding(c, name, CHECK_ERROR,
		    "list '%s' has no '%s' alias, so "
		    "mail to its owner bounces; add it ('postino alias add %s "
		    "OWNER')",
		    list, owner, owner);
	}
	if (missing == 0)
		finding(c, "owner-aliases", CHECK_INFO,
		    "%zu %s, each with its "
		    "-owner alias",
		    l->n, plural((int64_t)l->n, "list", "lists"));
}

/* --- loading rows --------------------------------------------------------- */

static void
data_init(struct data *d)
{
	memset(d, 0, sizeof(*d));
	smap_init(&d->dom_ix, true);
	smap_init(&d->adom_ix, true);
	smap_init(&d->mbx_ix, true);
	smap_init(&d->als_ix, true);
	smap_init(&d->lists, true);
	sample_init(&d->quota2_sample);
}

static void
data_release(struct data *d)
{
	smap_release(&d->dom_ix);
	smap_release(&d->adom_ix);
	smap_release(&d->mbx_ix);
	smap_release(&d->als_ix);
	smap_release(&d->lists);
	sample_release(&d->quota2_sample);
	free(d->doms);
	free(d->adoms);
	free(d->mbxs);
	free(d->alss);
	arena_release(&d->arena);
}

static const char *
col(struct db_res *r, int i)
{
	const char *v = db_col(r, i);

	return v != NULL ? v : "";
}

static int
load_domains(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_arg a[] = { DB_TEXT("ALL") };
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT domain, aliases, mailboxes, maxquota, "
		"quota, transport, backupmx FROM domain WHERE domain <> ?",
		a, 1, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct dom *o;

		if (d->ndoms == cap) {
			cap = cap ? cap * 2 : 64;
			d->doms = xreallocarray(d->doms, cap, sizeof(*d->doms));
		}
		o = &d->doms[d->ndoms];
		memset(o, 0, sizeof(*o));
		o->name = arena_dup(&d->arena, col(r, 0));
		o->max_aliases = db_col_int(r, 1, 0);
		o->max_mailboxes = db_col_int(r, 2, 0);
		o->maxquota =
		    domain_units_to_bytes(&c->model, db_col_int(r, 3, 0));
		o->quota =
		    domain_units_to_bytes(&c->model, db_col_int(r, 4, 0));
		o->transport = arena_dup(&d->arena, col(r, 5));
		o->backupmx = model_bool(db_col(r, 6));
		(void)smap_put(&d->dom_ix, o->name, d->ndoms);
		d->ndoms++;
	}
	db_res_free(&r);
	return rc;
}

static int
load_adoms(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT alias_domain, target_domain, active FROM "
		"alias_domain",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct adom *o;

		if (d->nadoms == cap) {
			cap = cap ? cap * 2 : 16;
			d->adoms =
			    xreallocarray(d->adoms, cap, sizeof(*d->adoms));
		}
		o = &d->adoms[d->nadoms];
		o->alias = arena_dup(&d->arena, col(r, 0));
		o->target = arena_dup(&d->arena, col(r, 1));
		o->active = model_bool(db_col(r, 2));
		(void)smap_put(&d->adom_ix, o->alias, d->nadoms);
		d->nadoms++;
	}
	db_res_free(&r);
	return rc;
}

static int
load_mailboxes(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db,
		"SELECT username, password, maildir, quota, "
		"domain, active FROM mailbox",
		NULL, 0, DB_STREAM, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct mbx *o;
		char *md;
		size_t l;

		if (d->nmbxs == cap) {
			cap = cap ? cap * 2 : 1024;
			d->mbxs = xreallocarray(d->mbxs, cap, sizeof(*d->mbxs));
		}
		o = &d->mbxs[d->nmbxs];
		memset(o, 0, sizeof(*o));
		o->username = arena_dup(&d->arena, col(r, 0));
		o->password = arena_dup(&d->arena, col(r, 1));
		md = arena_dup(&d->arena, col(r, 2));
		l = strlen(md);
		if (l > 1 && md[l - 1] == '/')
			md[l - 1] = '\0';
		o->maildir = md;
		o->quota = db_col_int(r, 3, 0);
		o->domain = arena_dup(&d->arena, col(r, 4));
		o->active = model_bool(db_col(r, 5));
		(void)smap_put(&d->mbx_ix, o->username, d->nmbxs);
		d->nmbxs++;
		if (d->nmbxs % PROGRESS_EVERY == 0)
			progress(c, "mailboxes", d->nmbxs, 0);
	}
	db_res_free(&r);
	if (rc == 0)
		progress(c, "mailboxes", d->nmbxs, d->nmbxs);
	return rc;
}

static int
load_aliases(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	size_t cap = 0;
	int rc;

	if (db_query(c->db, "SELECT address, goto, domain, active FROM alias",
		NULL, 0, DB_STREAM, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		struct als *o;

		if (d->nalss == cap) {
			cap = cap ? cap * 2 : 1024;
			d->alss = xreallocarray(d->alss, cap, sizeof(*d->alss));
		}
		o = &d->alss[d->nalss];
		o->address = arena_dup(&d->arena, col(r, 0));
		o->gotos = arena_dup(&d->arena, col(r, 1));
		o->domain = arena_dup(&d->arena, col(r, 2));
		o->active = model_bool(db_col(r, 3));
		(void)smap_put(&d->als_ix, o->address, d->nalss);
		d->nalss++;
		if (d->nalss % PROGRESS_EVERY == 0)
			progress(c, "aliases", d->nalss, 0);
	}
	db_res_free(&r);
	if (rc == 0)
		progress(c, "aliases", d->nalss, d->nalss);
	return rc;
}

/* quota2 is matched against the mailboxes as it streams by. */
static int
load_quota2(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	int rc;

	if (db_query(c->db, "SELECT username FROM quota2", NULL, 0, DB_STREAM,
		&r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		size_t i;

		if (smap_get(&d->mbx_ix, col(r, 0), &i))
			d->mbxs[i].quota2 = true;
		else {
			d->quota2_orphans++;
			sample_add(&d->quota2_sample, "'%s'", col(r, 0));
		}
	}
	db_res_free(&r);
	return rc;
}

static int
load_lists(struct ctx *c, struct err *err)
{
	struct data *d = &c->d;
	struct db_res *r;
	int rc;

	if ((rc = db_table_exists(c->db, "routes", err)) != 1)
		return rc;
	d->have_routes = true;
	if (db_query(c->db,
		"SELECT DISTINCT list_address FROM routes WHERE "
		"list_address IS NOT NULL",
		NULL, 0, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1)
		(void)smap_put(&d->lists, arena_dup(&d->arena, col(r, 0)), 0);
	db_res_free(&r);
	return rc;
}

/* Load what the probe needs (once); -1 after reporting db_read. */
static int
need_data(struct ctx *c, unsigned what)
{
	static const struct {
		unsigned bit;
		unsigned after;
		const char *table;
		int (*load)(struct ctx *, struct err *);
	} loaders[] = {
		{ D_DOMAIN, 0, "domain", load_domains },
		{ D_ADOM, 0, "alias_domain", load_adoms },
		{ D_MAILBOX, 0, "mailbox", load_mailboxes },
		{ D_ALIAS, 0, "alias", load_aliases },
		{ D_QUOTA2, D_MAILBOX, "quota2", load_quota2 },
		{ D_LISTS, 0, "routes", load_lists },
	};
	struct err err = ERR_INIT;

	if (c->data_failed)
		return -1;
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		if (!(what & loaders[i].bit) || (c->d.loaded & loaders[i].bit))
			continue;
		if (loaders[i].after != 0 &&
		    need_data(c, loaders[i].after) == -1)
			return -1;
		if (loaders[i].load(c, &err) == -1) {
			c->data_failed = true;
			finding(c, "db_read", CHECK_ERROR,
			    "cannot read table "
			    "'%s': %s; the checks that need it did not run",
			    loaders[i].table, err.msg);
			return -1;
		}
		c->d.loaded |= loaders[i].bit;
	}
	return 0;
}

/* --- passwords ------------------------------------------------------------ */

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

static void
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
		    "%zu %s the "
		    "{NOAUTH} placeholder but identity_backend is local, so "
		    "nobody can log in to them: %s; set passwords ('postino "
		    "user passwd') or switch identity_backend to hybrid",
		    noauth.n,
		    plural(
			(int64_t)noauth.n, "mailbox holds", "mailboxes hold"),
		    sample_text(&noauth));
	else if (ib == IDENTITY_NOAUTH && hashed.n > 0)
		finding(c, "password_noauth", CHECK_WARN,
		    "%zu %s a local "
		    "password although identity_backend is noauth, so "
		    "Dovecot's SQL passdb still accepts it: %s; release them "
		    "or switch to hybrid",
		    hashed.n,
		    plural((int64_t)hashed.n, "mailbox has", "mailboxes have"),
		    sample_text(&hashed));
	else
		finding(c, "password_noauth", CHECK_INFO,
		    "%zu IdP-managed "
		    "({NOAUTH}), %zu local, as identity_backend=%s allows",
		    noauth.n, hashed.n + empty.n, identity_backend_name(ib));
	if (empty.n > 0)
		finding(c, "password_empty", CHECK_ERROR,
		    "%zu %s an empty "
		    "password, which a PLAIN default_pass_scheme accepts "
		    "with no password at all: %s; set one ('postino user "
		    "passwd') or disable the mailbox",
		    empty.n,
		    plural((int64_t)empty.n, "mailbox has", "mailboxes have"),
		    sample_text(&empty));
	else
		finding(c, "password_empty", CHECK_INFO, "no empty passwords");
	if (unprefixed.n > 0)
		finding(c, "password_unprefixed", CHECK_WARN,
		    "%zu %s stored "
		    "without a {SCHEME} prefix, so Dovecot guesses the scheme "
		    "from default_pass_scheme: %s; have them set new passwords "
		    "('postino user passwd')",
		    unprefixed.n,
		    plural(
			(int64_t)unprefixed.n, "password is", "passwords are"),
		    sample_text(&unprefixed));
	else
		finding(c, "password_unprefixed", CHECK_INFO,
		    "every stored "
		    "password names its scheme");
	qsort(cs, ncs, sizeof(cs[0]), census_cmp);
	buf_init(&b, 64 * 1024);
	for (size_t k = 0; k < ncs; k++)
		if (nweak == 0 || password_scheme_weak(cs[k].scheme))
			buf_printf(&b, "%s%s %lld", b.len ? ", " : "",
			    cs[k].scheme, (long long)cs[k].n);
	if (nweak > 0)
		finding(c, "password_schemes", CHECK_WARN,
		    "%lld of %lld "
		    "password hashes use weak schemes (%s): %s; have those "
		    "users set new passwords ('postino user passwd') to store "
		    "%s",
		    (long long)nweak, (long long)total, buf_cstr(&b),
		    sample_text(&weak), c->conf->default_password_scheme);
	else
		finding(c, "password_schemes", CHECK_INFO,
		    "%lld password "
		    "%s%s%s",
		    (long long)total, plural(total, "hash", "hashes"),
		    b.len ? ": " : "", buf_cstr(&b));
	if (v24 && nrefused > 0 && !allow_weak)
		finding(c, "password_dovecot24", CHECK_ERROR,
		    "%lld password %s MD5-CRYPT or DES-CRYPT, which Dovecot "
		    "2.4 (%s) refuses at login unless auth_allow_weak_schemes "
		    "= yes: %s; have those users set new passwords ('postino "
		    "user passwd'), or allow weak schemes until they have",
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
static void
probe_expiry(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct sample exp;
	struct db_res *r;
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
	if (db_query(c->db, sql, NULL, 0, 0, &r, &err) == -1) {
		finding(c, "password_expired", CHECK_INFO, "not checked: %s",
		    err.msg);
		return;
	}
	sample_init(&exp);
	while ((rc = db_next(r, &err)) == 1)
		sample_add(&exp, "'%s'", col(r, 0));
	db_res_free(&r);
	if (rc == -1)
		finding(c, "password_expired", CHECK_INFO, "not checked: %s",
		    err.msg);
	else if (exp.n > 0)
		finding(c, "password_expired", CHECK_INFO,
		    "%zu %s expired under the domain's password_expiry "
		    "days, so PostfixAdmin's passdb query refuses them: %s; "
		    "'postino user passwd' sets a new one",
		    exp.n,
		    plural((int64_t)exp.n, "password has", "passwords have"),
		    sample_text(&exp));
	else
		finding(c, "password_expired", CHECK_INFO,
		    "no password has expired");
	sample_release(&exp);
}

/*
 * postino_domain rows that no longer belong to a domain: PostfixAdmin
 * deleted the domain (and perhaps created it again, with a new `created`).
 * postino does not apply them; their default quota is gone.
 */
static void
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
		    "%zu %s deleted and created again outside postino, so "
		    "the default quota postino kept no longer applies: %s; "
		    "set it again ('postino import --update') and delete the "
		    "old postino_domain rows",
		    stale.n,
		    plural((int64_t)stale.n, "domain was", "domains were"),
		    sample_text(&stale));
	/* Gone: a harmless leftover, removed by the next 'domain add'. */
	if (gone.n > 0)
		finding(c, "postino_domain_stale", CHECK_INFO,
		    "%zu postino_domain %s for a domain deleted outside "
		    "postino and not applied: %s",
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
static void
probe_quota_units(struct ctx *c)
{
	struct err err = ERR_INIT;
	struct db_arg t[] = { DB_INT(SCHEMA_BYTE_QUOTA_MIN),
		DB_INT(SCHEMA_BYTE_QUOTA_MIN) };
	struct sample big;
	struct db_res *r;
	int rc;

	if (db_query(c->db,
		"SELECT domain FROM domain WHERE domain <> 'ALL' AND "
		"(maxquota >= ? OR quota >= ?) ORDER BY domain",
		t, DB_NARGS(t), 0, &r, &err) == -1) {
		finding(c, "domain_quota_units", CHECK_INFO, "not checked: %s",
		    err.msg);
		return;
	}
	sample_init(&big);
	while ((rc = db_next(r, &err)) == 1)
		sample_add(&big, "'%s'", col(r, 0));
	db_res_free(&r);
	if (big.n > 0)
		finding(c, "domain_quota_units", CHECK_WARN,
		    "%zu %s a maximum or total quota of a terabyte or more "
		    "per PostfixAdmin megabyte, most likely bytes written by "
		    "Python postino, so nothing is enforced: %s; 'postino "
		    "schema migrate --dry-run' shows the conversion",
		    big.n, plural((int64_t)big.n, "domain has", "domains have"),
		    sample_text(&big));
	else
		finding(c, "domain_quota_units", CHECK_INFO,
		    "every domain quota is in PostfixAdmin's megabytes");
	sample_release(&big);
}

/* --- deep: rows that refer to each other ---------------------------------- */

static void
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
	if (mb.n > 0)
		finding(c, "mailbox_domain_fk", CHECK_ERROR,
		    "%zu %s to a "
		    "domain that does not exist, so Postfix rejects their "
		    "mail: %s; add the domain or delete the mailboxes",
		    mb.n,
		    plural(
			(int64_t)mb.n, "mailbox belongs", "mailboxes belong"),
		    sample_text(&mb));
	else
		finding(c, "mailbox_domain_fk", CHECK_INFO,
		    "every mailbox "
		    "belongs to an existing domain");
	if (al.n > 0)
		finding(c, "alias_domain_fk", CHECK_ERROR,
		    "%zu %s to a domain "
		    "that does not exist: %s; add the domain or delete the "
		    "aliases",
		    al.n,
		    plural((int64_t)al.n, "alias belongs", "aliases belong"),
		    sample_text(&al));
	else
		finding(c, "alias_domain_fk", CHECK_INFO,
		    "every alias belongs "
		    "to an existing domain");
	sample_release(&mb);
	sample_release(&al);
}

static void
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
		    "%zu %s no quota2 "
		    "row yet (Dovecot writes one on first use, as on "
		    "PostfixAdmin's mailboxes): %s; 'doveadm quota recalc -A' "
		    "fills them now",
		    miss.n,
		    plural((int64_t)miss.n, "mailbox has", "mailboxes have"),
		    sample_text(&miss));
	else
		finding(c, "quota2_pairing", CHECK_INFO,
		    "every mailbox has a "
		    "quota2 row");
	if (c->d.quota2_orphans > 0)
		finding(c, "quota2_orphans", CHECK_WARN,
		    "%zu quota2 %s no "
		    "mailbox: %s; delete them",
		    c->d.quota2_orphans,
		    plural(
			(int64_t)c->d.quota2_orphans, "row has", "rows have"),
		    sample_text(&c->d.quota2_sample));
	else
		finding(c, "quota2_orphans", CHECK_INFO,
		    "every quota2 row "
		    "belongs to a mailbox");
	sample_release(&miss);
}

/*
 * PostfixAdmin's other per-mailbox rows (fetchmail jobs, vacation, its
 * notifications, the old quota table) whose mailbox is gone: a fetchmail
 * job still polls into nothing, a vacation row would answer again for a
 * re-created address.
 */
static void
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
		struct db_res *r;
		int rc = db_table_exists(c->db, t[i].table, &err);

		if (rc == 0)
			continue;
		if (rc == 1) {
			snprintf(sql, sizeof(sql),
			    "SELECT DISTINCT %s FROM %s WHERE %s NOT IN "
			    "(SELECT username FROM mailbox) ORDER BY %s",
			    t[i].col, t[i].table, t[i].col, t[i].col);
			rc = db_query(c->db, sql, NULL, 0, 0, &r, &err);
		}
		if (rc == -1) {
			finding(c, "mailbox_row_orphans", CHECK_INFO,
			    "not checked: %s", err.msg);
			sample_release(&orph);
			return;
		}
		while ((rc = db_next(r, &err)) == 1)
			sample_add(&orph, "%s '%s'", t[i].table, col(r, 0));
		db_res_free(&r);
		if (rc == -1) {
			finding(c, "mailbox_row_orphans", CHECK_INFO,
			    "not checked: %s", err.msg);
			sample_release(&orph);
			return;
		}
	}
	if (orph.n > 0)
		finding(c, "mailbox_row_orphans", CHECK_WARN,
		    "%zu PostfixAdmin %s no mailbox: %s; delete them "
		    "(postino does on 'user del')",
		    orph.n, plural((int64_t)orph.n, "row has", "rows have"),
		    sample_text(&orph));
	else
		finding(c, "mailbox_row_orphans", CHECK_INFO,
		    "every fetchmail, vacation and quota row belongs to a "
		    "mailbox");
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

static void
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
	if (miss.n > 0)
		finding(c, "mailbox_self_alias",
		    swallowed ? CHECK_ERROR : CHECK_WARN,
		    "%zu %s no self-alias row (alias address = "
		    "goto = the mailbox)%s: %s; add it with 'postino alias add "
		    "ADDR ADDR'",
		    miss.n,
		    plural((int64_t)miss.n, "mailbox has", "mailboxes have"),
		    swallowed ? ", so a catch-all takes "
				"their mail"
			      : ", which PostfixAdmin expects and a future "
				"catch-all would need",
		    sample_text(&miss));
	else
		finding(c, "mailbox_self_alias", CHECK_INFO,
		    "every mailbox "
		    "has its self-alias");
	if (dead.n > 0)
		finding(c, "self_alias_state", CHECK_ERROR,
		    "%zu active %s an inactive alias row, so Postfix "
		    "sends their mail to a catch-all or bounces it: %s; "
		    "run 'postino user enable' on them",
		    dead.n,
		    plural((int64_t)dead.n, "mailbox has", "mailboxes have"),
		    sample_text(&dead));
	if (live.n > 0)
		finding(c, "self_alias_state", CHECK_WARN,
		    "%zu disabled %s an active alias row, so their "
		    "forwards and vacation replies go on: %s; run 'postino "
		    "user disable' on them",
		    live.n,
		    plural((int64_t)live.n, "mailbox has", "mailboxes have"),
		    sample_text(&live));
	if (dead.n == 0 && live.n == 0)
		finding(c, "self_alias_state", CHECK_INFO,
		    "every mailbox's alias row is as active as the mailbox");
	if (orphans.n > 0)
		finding(c, "self_alias_orphans", CHECK_WARN,
		    "%zu %s to "
		    "itself but no mailbox exists, so that copy bounces: %s; "
		    "delete the alias or remove itself from its destinations",
		    orphans.n,
		    plural((int64_t)orphans.n, "alias delivers",
			"aliases deliver"),
		    sample_text(&orphans));
	else
		finding(c, "self_alias_orphans", CHECK_INFO,
		    "every self-alias "
		    "has its mailbox");
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

static void
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
	if (bad.n > 0)
		finding(c, "alias_destinations", CHECK_ERROR,
		    "%zu alias %s "
		    "to local addresses that do not exist, so those copies "
		    "bounce: %s; fix them with 'postino alias edit'",
		    bad.n,
		    plural((int64_t)bad.n, "destination points",
			"destinations point"),
		    sample_text(&bad));
	else
		finding(c, "alias_destinations", CHECK_INFO,
		    "every local "
		    "alias destination exists");
	sample_release(&bad);
}

static void
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
			    "'%s' -> '%s', itself an alias "
			    "domain",
			    a->alias, a->target);
		if (!smap_get(&d->dom_ix, a->alias, NULL))
			sample_add(&refs, "alias domain '%s' is not a domain",
			    a->alias);
		if (!smap_get(&d->dom_ix, a->target, NULL))
			sample_add(&refs,
			    "target '%s' of '%s' is not a "
			    "domain",
			    a->target, a->alias);
	}
	if (chain.n > 0)
		finding(c, "alias_domain_chain", CHECK_ERROR,
		    "Postfix "
		    "rewrites an alias domain only once, so these never "
		    "deliver: %s; point them at the final domain ('postino "
		    "domain alias retarget')",
		    sample_text(&chain));
	else
		finding(c, "alias_domain_chain", CHECK_INFO,
		    "%zu alias %s, "
		    "none chained",
		    d->nadoms, plural((int64_t)d->nadoms, "domain", "domains"));
	if (refs.n > 0)
		finding(c, "alias_domain_refs", CHECK_ERROR,
		    "%s; add the "
		    "domains or delete the alias domains",
		    sample_text(&refs));
	else
		finding(c, "alias_domain_refs", CHECK_INFO,
		    "every alias "
		    "domain and its target are domains");
	sample_release(&chain);
	sample_release(&refs);
}

static void
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
			    "'%s' (%zu unlimited %s, domain "
			    "total %s)",
			    o->name, o->nunlimited,
			    plural(
				(int64_t)o->nunlimited, "mailbox", "mailboxes"),
			    quota_format(o->quota, a, sizeof(a)));
		else if (o->quota > 0 && o->sumquota > o->quota)
			sample_add(&total,
			    "'%s' (%s allotted, domain total "
			    "%s)",
			    o->name, quota_format(o->sumquota, a, sizeof(a)),
			    quota_format(o->quota, b, sizeof(b)));
	}
	if (lim.n > 0)
		finding(c, "domain_limits", CHECK_WARN,
		    "over their limits "
		    "(-1 = none allowed): %s; raise the limits or remove "
		    "entries",
		    sample_text(&lim));
	else
		finding(c, "domain_limits", CHECK_INFO,
		    "every domain is "
		    "within its mailbox and alias limits");
	if (maxq.n > 0)
		finding(c, "mailbox_maxquota", CHECK_WARN,
		    "%zu %s over their "
		    "domain's per-mailbox maximum: %s; lower them ('postino "
		    "user quota --set') or raise the maximum",
		    maxq.n,
		    plural((int64_t)maxq.n, "mailbox is", "mailboxes are"),
		    sample_text(&maxq));
	else
		finding(c, "mailbox_maxquota", CHECK_INFO,
		    "every mailbox "
		    "quota is within its domain's maximum");
	if (total.n > 0)
		finding(c, "domain_quota_total", CHECK_WARN,
		    "mailbox quotas "
		    "add up to more than the domain total: %s; lower them or "
		    "raise the total",
		    sample_text(&total));
	else
		finding(c, "domain_quota_total", CHECK_INFO,
		    "every domain's "
		    "mailbox quotas fit its total");
	sample_release(&lim);
	sample_release(&maxq);
	sample_release(&total);
}

/* --- deep: the mail root -------------------------------------------------- */

enum { T_GONE, T_DIR, T_LINK, T_OTHER };

/* An entry's type without following it. */
static int
entry_type(int dirfd, const struct dirent *e)
{
	struct stat st;

#ifdef _DIRENT_HAVE_D_TYPE
	if (e->d_type == DT_DIR)
		return T_DIR;
	if (e->d_type == DT_LNK)
		return T_LINK;
	if (e->d_type != DT_UNKNOWN)
		return T_OTHER;
#endif
	if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return T_GONE;
	if (S_ISDIR(st.st_mode))
		return T_DIR;
	if (S_ISLNK(st.st_mode))
		return T_LINK;
	return T_OTHER;
}

static bool
dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

struct walk {
	struct ctx *c;
	struct data *d;
	struct smap maildirs; /* maildir path -> mailbox index */
	struct smap prefixes; /* ancestors of maildirs */
	struct smap links;    /* symlinks found (relative paths) */
	uint64_t done;
	struct sample orphans, orphan_doms, artefacts, symlinks, owners, perms,
	    skeleton, unreadable;
};

static void
walk_maildir(
    struct walk *w, int dirfd, const char *name, const char *rel, struct mbx *m)
{
	int64_t uid = w->c->conf->vmail_uid, gid = w->c->conf->vmail_gid;
	bool have[3] = { false, false, false };
	static const char *const sk[] = { "cur", "new", "tmp" };
	struct dirent *e;
	struct stat st;
	DIR *dp;
	int fd;

	fd = openat(
	    dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		sample_add(&w->unreadable, "'%s' (%s)", rel, strerror(errno));
		if (fd != -1)
			close(fd);
		m->seen = true;
		return;
	}
	m->seen = true;
	if (uid >= 0 && gid >= 0 &&
	    (st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid))
		sample_add(&w->owners, "'%s' (%ld:%ld)", rel, (long)st.st_uid,
		    (long)st.st_gid);
	if (st.st_mode & S_IRWXO)
		sample_add(&w->perms, "'%s' (mode %04o)", rel,
		    (unsigned)(st.st_mode & 07777));
	if ((dp = fdopendir(fd)) == NULL) {
		sample_add(&w->unreadable, "'%s' (%s)", rel, strerror(errno));
		close(fd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		int t;

		if (dot_or_dotdot(e->d_name))
			continue;
		t = entry_type(fd, e);
		if (t == T_LINK)
			sample_add(&w->symlinks, "'%s/%s'", rel, e->d_name);
		for (int k = 0; k < 3; k++)
			if (strcmp(e->d_name, sk[k]) == 0 &&
			    (t == T_DIR || t == T_LINK))
				have[k] = true;
	}
	closedir(dp);
	if (!have[0] || !have[1] || !have[2])
		sample_add(&w->skeleton, "'%s' (lacks%s%s%s)", rel,
		    have[0] ? "" : " cur", have[1] ? "" : " new",
		    have[2] ? "" : " tmp");
	if (++w->done % PROGRESS_EVERY == 0)
		progress(w->c, "maildirs", w->done, w->d->nmbxs);
}

static void
walk_dir(struct walk *w, int fd, char *rel, size_t rlen, int depth)
{
	struct dirent *e;
	DIR *dp;
	int dfd = dup(fd);

	if (dfd == -1 || (dp = fdopendir(dfd)) == NULL) {
		sample_add(&w->unreadable, "'%s' (%s)", rlen ? rel : ".",
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		size_t nl = strlen(n), i;
		int t;

		if (dot_or_dotdot(n))
			continue;
		if (rlen + nl + 2 >= PATH_MAX)
			continue;
		if (rlen > 0)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen > 0), n, nl + 1);
		t = entry_type(fd, e);
		if (t == T_LINK) {
			sample_add(&w->symlinks, "'%s'", rel);
			(void)smap_put(
			    &w->links, arena_dup(&w->d->arena, rel), 0);
		} else if (str_prefix(n, ".deleting."))
			sample_add(&w->artefacts, "'%s'", rel);
		else if (t == T_DIR && smap_get(&w->maildirs, rel, &i))
			walk_maildir(w, fd, n, rel, &w->d->mbxs[i]);
		else if (t != T_DIR ||
		    (depth == 0 &&
			(n[0] == '.' || strcmp(n, "lost+found") == 0)))
			; /* files, and the file system's own directories */
		else if (smap_get(&w->prefixes, rel, NULL) ||
		    (depth == 0 && smap_get(&w->d->dom_ix, n, NULL))) {
			int cfd = openat(fd, n,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (cfd == -1)
				sample_add(&w->unreadable, "'%s' (%s)", rel,
				    strerror(errno));
			else if (depth + 1 >= WALK_DEPTH_MAX)
				close(cfd);
			else {
				walk_dir(w, cfd, rel, rlen + (rlen > 0) + nl,
				    depth + 1);
				close(cfd);
			}
		} else if (depth == 0)
			sample_add(&w->orphan_doms, "'%s'", rel);
		else
			sample_add(&w->orphans, "'%s'", rel);
		rel[rlen] = '\0';
	}
	closedir(dp);
}

/* Whether rel or one of its ancestors is a symlink the walk reported. */
static bool
behind_link(const struct walk *w, const char *rel)
{
	char p[PATH_MAX];
	size_t n = strlen(rel);

	if (n >= sizeof(p))
		return false;
	memcpy(p, rel, n + 1);
	for (;;) {
		char *slash;

		if (smap_get(&w->links, p, NULL))
			return true;
		if ((slash = strrchr(p, '/')) == NULL)
			return false;
		*slash = '\0';
	}
}

static void
walk_report(struct walk *w)
{
	struct ctx *c = w->c;
	int64_t uid = c->conf->vmail_uid, gid = c->conf->vmail_gid;
	struct sample missing, paths, dups;
	struct err err = ERR_INIT;

	sample_init(&missing);
	sample_init(&paths);
	sample_init(&dups);
	for (size_t i = 0; i < w->d->nmbxs; i++) {
		const struct mbx *m = &w->d->mbxs[i];
		size_t j;

		if (!m->valid) {
			if (maildir_rel_valid(m->maildir, &err) == -1)
				sample_add(&paths, "'%s' ('%s')", m->username,
				    m->maildir);
			else if (smap_get(&w->maildirs, m->maildir, &j) &&
			    j != i)
				sample_add(&dups, "'%s' and '%s' ('%s')",
				    w->d->mbxs[j].username, m->username,
				    m->maildir);
		} else if (!m->seen && !behind_link(w, m->maildir))
			sample_add(
			    &missing, "'%s' ('%s')", m->username, m->maildir);
	}
	/*
	 * PostfixAdmin never creates maildirs: Dovecot does on first
	 * delivery or login.  A missing one is normal there; ownership and
	 * permission faults below are what stop delivery.
	 */
	if (missing.n > 0)
		finding(c, "maildir_present", CHECK_INFO,
		    "%zu %s no maildir "
		    "under '%s' yet (Dovecot makes it on first delivery or "
		    "login, as for PostfixAdmin's mailboxes): %s; restore it "
		    "if the mailbox had mail",
		    missing.n,
		    plural((int64_t)missing.n, "mailbox has", "mailboxes have"),
		    c->conf->virtual_mailbox_base, sample_text(&missing));
	else
		finding(c, "maildir_present", CHECK_INFO, "%zu %s present",
		    w->d->nmbxs - paths.n - dups.n,
		    plural((int64_t)(w->d->nmbxs - paths.n - dups.n), "maildir",
			"maildirs"));
	if (paths.n > 0)
		finding(c, "maildir_path", CHECK_ERROR,
		    "%zu %s a maildir path "
		    "outside the mail root or with '.', '..' or empty parts: "
		    "%s; fix mailbox.maildir",
		    paths.n,
		    plural((int64_t)paths.n, "mailbox has", "mailboxes have"),
		    sample_text(&paths));
	else
		finding(c, "maildir_path", CHECK_INFO,
		    "every maildir path is "
		    "relative and clean");
	if (dups.n > 0)
		finding(c, "maildir_duplicates", CHECK_ERROR,
		    "mailboxes share "
		    "a maildir, so they read each other's mail: %s; give each "
		    "its own",
		    sample_text(&dups));
	else
		finding(c, "maildir_duplicates", CHECK_INFO,
		    "no two mailboxes "
		    "share a maildir");
	if (uid < 0 || gid < 0)
		finding(c, "maildir_ownership", CHECK_INFO,
		    "not checked: "
		    "vmail_uid/vmail_gid are not set");
	else if (w->owners.n > 0)
		finding(c, "maildir_ownership", CHECK_ERROR,
		    "%zu %s not owned "
		    "by the vmail user %lld:%lld, so Dovecot cannot deliver to "
		    "%s: %s; chown -R them",
		    w->owners.n,
		    plural((int64_t)w->owners.n, "maildir is", "maildirs are"),
		    (long long)uid, (long long)gid,
		    plural((int64_t)w->owners.n, "it", "them"),
		    sample_text(&w->owners));
	else
		finding(c, "maildir_ownership", CHECK_INFO,
		    "every maildir is "
		    "owned by %lld:%lld",
		    (long long)uid, (long long)gid);
	if (w->perms.n > 0)
		finding(c, "maildir_permissions", CHECK_WARN,
		    "%zu %s open to "
		    "other users: %s; chmod o-rwx them",
		    w->perms.n,
		    plural((int64_t)w->perms.n, "maildir is", "maildirs are"),
		    sample_text(&w->perms));
	else
		finding(c, "maildir_permissions", CHECK_INFO,
		    "no maildir is "
		    "open to other users");
	if (w->skeleton.n > 0 || w->unreadable.n > 0)
		finding(c, "maildirpp_skeleton", CHECK_ERROR,
		    "%s%s%s%s; "
		    "create the missing cur, new and tmp directories",
		    w->skeleton.n ? "incomplete Maildir++ skeleton: " : "",
		    w->skeleton.n ? sample_text(&w->skeleton) : "",
		    w->unreadable.n
			? (w->skeleton.n ? "; unreadable: " : "unreadable: ")
			: "",
		    w->unreadable.n ? sample_text(&w->unreadable) : "");
	else
		finding(c, "maildirpp_skeleton", CHECK_INFO,
		    "every maildir "
		    "has cur, new and tmp");
	if (w->orphans.n > 0)
		finding(c, "orphan_maildirs", CHECK_WARN,
		    "%zu %s under '%s' "
		    "%s to no mailbox (a new mailbox of that name would "
		    "inherit the mail): %s; archive and remove them",
		    w->orphans.n,
		    plural((int64_t)w->orphans.n, "directory", "directories"),
		    c->conf->virtual_mailbox_base,
		    plural((int64_t)w->orphans.n, "belongs", "belong"),
		    sample_text(&w->orphans));
	else
		finding(c, "orphan_maildirs", CHECK_INFO,
		    "every maildir "
		    "belongs to a mailbox");
	if (w->orphan_doms.n > 0)
		finding(c, "orphan_domain_maildirs", CHECK_WARN,
		    "%zu top-level %s under '%s' %s no domain: %s; archive "
		    "and remove them",
		    w->orphan_doms.n,
		    plural(
			(int64_t)w->orphan_doms.n, "directory", "directories"),
		    c->conf->virtual_mailbox_base,
		    plural((int64_t)w->orphan_doms.n, "matches", "match"),
		    sample_text(&w->orphan_doms));
	else
		finding(c, "orphan_domain_maildirs", CHECK_INFO,
		    "every domain "
		    "directory belongs to a domain");
	if (w->artefacts.n > 0)
		finding(c, "maildir_artefacts", CHECK_WARN,
		    "%zu unfinished "
		    "%s left: %s; remove them once nothing is running",
		    w->artefacts.n,
		    plural((int64_t)w->artefacts.n, "deletion", "deletions"),
		    sample_text(&w->artefacts));
	else
		finding(c, "maildir_artefacts", CHECK_INFO,
		    "no .deleting.* "
		    "leftovers");
	if (w->symlinks.n > 0)
		finding(c, "maildir_symlinks", CHECK_ERROR,
		    "%zu %s in the "
		    "mail root, which postino refuses to follow and which can "
		    "redirect mail elsewhere: %s; replace them with real "
		    "directories",
		    w->symlinks.n,
		    plural((int64_t)w->symlinks.n, "symlink", "symlinks"),
		    sample_text(&w->symlinks));
	else
		finding(c, "maildir_symlinks", CHECK_INFO,
		    "no symlinks in the "
		    "mail root");
	sample_release(&missing);
	sample_release(&paths);
	sample_release(&dups);
}

static void
probe_maildirs(struct ctx *c)
{
	struct data *d = &c->d;
	struct err err = ERR_INIT;
	char rel[PATH_MAX];
	struct walk w;
	int fd;

	if (need_data(c, D_DOMAIN | D_MAILBOX) == -1)
		return;
	fd = open(
	    c->conf->virtual_mailbox_base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		c->walk_skipped = true;
		c->skipped++;
		return; /* mailbox_base has said why */
	}
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.d = d;
	smap_init(&w.maildirs, false);
	smap_init(&w.prefixes, false);
	smap_init(&w.links, false);
	sample_init(&w.orphans);
	sample_init(&w.orphan_doms);
	sample_init(&w.artefacts);
	sample_init(&w.symlinks);
	sample_init(&w.owners);
	sample_init(&w.perms);
	sample_init(&w.skeleton);
	sample_init(&w.unreadable);
	for (size_t i = 0; i < d->nmbxs; i++) {
		struct mbx *m = &d->mbxs[i];
		char *p;

		if (maildir_rel_valid(m->maildir, &err) == -1 ||
		    !smap_put(&w.maildirs, m->maildir, i))
			continue;
		m->valid = true;
		/* Every ancestor of the maildir, "a" then "a/b". */
		snprintf(rel, sizeof(rel), "%s", m->maildir);
		while ((p = strrchr(rel, '/')) != NULL) {
			*p = '\0';
			if (!smap_put(
				&w.prefixes, arena_dup(&d->arena, rel), 0))
				break;
		}
	}
	rel[0] = '\0';
	walk_dir(&w, fd, rel, 0, 0);
	close(fd);
	progress(c, "maildirs", w.done, d->nmbxs);
	walk_report(&w);
	smap_release(&w.maildirs);
	smap_release(&w.prefixes);
	smap_release(&w.links);
	sample_release(&w.orphans);
	sample_release(&w.orphan_doms);
	sample_release(&w.artefacts);
	sample_release(&w.symlinks);
	sample_release(&w.owners);
	sample_release(&w.perms);
	sample_release(&w.skeleton);
	sample_release(&w.unreadable);
}

/* --- deep: the mlmmj spool (<spool>/<domain>/<local>/) -------------------- */

struct spool {
	struct ctx *c;
	struct smap found; /* list addresses on disk */
	struct sample corrupt, orphan_doms, artefacts, symlinks, unrouted;
	size_t nlists;
};

static bool
spool_artefact(const char *n)
{
	return str_prefix(n, ".deleting.") || str_prefix(n, ".tmp-");
}

/* Whether <fd>/control/owner holds at least one owner. */
static bool
list_has_owner(int fd)
{
	char buf[4096];
	ssize_t n;
	int cfd, ofd;

	cfd = openat(
	    fd, "control", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd == -1)
		return false;
	ofd = openat(cfd, "owner", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(cfd);
	if (ofd == -1)
		return false;
	n = read(ofd, buf, sizeof(buf) - 1);
	close(ofd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!isspace((unsigned char)buf[i]))
			return true;
	return false;
}

static void
spool_domain(struct spool *s, int dfd, const char *dom)
{
	struct arena *ar = &s->c->d.arena;
	struct dirent *e;
	int fd = dup(dfd);
	DIR *dp;

	if (fd == -1 || (dp = fdopendir(fd)) == NULL) {
		sample_add(&s->corrupt, "'%s' (%s)", dom, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		char addr[ADDR_MAX * 2];
		int t, lfd;

		if (dot_or_dotdot(n))
			continue;
		t = entry_type(dfd, e);
		if (t == T_LINK) {
			sample_add(&s->symlinks, "'%s/%s'", dom, n);
			continue;
		}
		if (spool_artefact(n)) {
			sample_add(&s->artefacts, "'%s/%s'", dom, n);
			continue;
		}
		if (n[0] == '.' || t != T_DIR)
			continue;
		s->nlists++;
		snprintf(addr, sizeof(addr), "%s@%s", n, dom);
		(void)smap_put(&s->found, arena_dup(ar, addr), 0);
		lfd = openat(
		    dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (lfd == -1 || !list_has_owner(lfd))
			sample_add(&s->corrupt, "'%s/%s'", dom, n);
		if (lfd != -1)
			close(lfd);
	}
	closedir(dp);
}

static void
probe_mlmmj_spool(struct ctx *c)
{
	const char *root = c->conf->mlmmj_spool_dir;
	bool db = c->db != NULL && c->schema_ok &&
	    need_data(c, D_DOMAIN | D_LISTS) == 0;
	struct spool s;
	struct dirent *e;
	DIR *dp;
	int fd;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		finding(c, "mailing_lists", CHECK_WARN,
		    "cannot open the mlmmj "
		    "spool '%s': %s; create it or fix mlmmj_spool_dir",
		    root, strerror(errno));
		return;
	}
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		finding(c, "mailing_lists", CHECK_WARN,
		    "cannot read the mlmmj "
		    "spool '%s': %s",
		    root, strerror(errno));
		return;
	}
	memset(&s, 0, sizeof(s));
	s.c = c;
	smap_init(&s.found, true);
	sample_init(&s.corrupt);
	sample_init(&s.orphan_doms);
	sample_init(&s.artefacts);
	sample_init(&s.symlinks);
	sample_init(&s.unrouted);
	while ((e = readdir(dp)) != NULL) {
		const char *n = e->d_name;
		int t, dfd;

		if (dot_or_dotdot(n))
			continue;
		t = entry_type(fd, e);
		if (t == T_LINK) {
			sample_add(&s.symlinks, "'%s'", n);
			continue;
		}
		if (spool_artefact(n)) {
			sample_add(&s.artefacts, "'%s'", n);
			continue;
		}
		if (n[0] == '.' || t != T_DIR)
			continue; /* .create.lock and the like */
		if (db && !smap_get(&c->d.dom_ix, n, NULL))
			sample_add(&s.orphan_doms, "'%s'", n);
		dfd = openat(
		    fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd == -1) {
			sample_add(&s.corrupt, "'%s' (%s)", n, strerror(errno));
			continue;
		}
		spool_domain(&s, dfd, n);
		close(dfd);
	}
	closedir(dp);
	if (db && c->d.have_routes) {
		for (size_t i = 0; i < c->d.lists.cap; i++) {
			const char *l = c->d.lists.v[i].key;

			if (l != NULL && !smap_get(&s.found, l, NULL))
				sample_add(&s.unrouted,
				    "'%s' is routed but "
				    "has no spool directory",
				    l);
		}
		for (size_t i = 0; i < s.found.cap; i++) {
			const char *l = s.found.v[i].key;

			if (l != NULL && !smap_get(&c->d.lists, l, NULL))
				sample_add(&s.unrouted,
				    "'%s' has a spool but "
				    "no routes",
				    l);
		}
	}
	finding(c, "mailing_lists", CHECK_INFO, "%zu %s in '%s'", s.nlists,
	    plural((int64_t)s.nlists, "list", "lists"), root);
	if (s.corrupt.n > 0)
		finding(c, "mlmmj_lists_corrupt", CHECK_ERROR,
		    "%zu spool %s "
		    "no owner in control/owner, so mlmmj cannot run %s: %s; "
		    "recreate the list or restore control/owner",
		    s.corrupt.n,
		    plural((int64_t)s.corrupt.n, "entry has", "entries have"),
		    plural((int64_t)s.corrupt.n, "it", "them"),
		    sample_text(&s.corrupt));
	else
		finding(c, "mlmmj_lists_corrupt", CHECK_INFO,
		    "every list has "
		    "an owner");
	if (db && s.orphan_doms.n > 0)
		finding(c, "mlmmj_lists_orphan_domain", CHECK_ERROR,
		    "spool "
		    "domains that are not domains here, so their lists receive "
		    "nothing: %s; add the domains or remove the lists",
		    sample_text(&s.orphan_doms));
	else if (db)
		finding(c, "mlmmj_lists_orphan_domain", CHECK_INFO,
		    "every "
		    "spool domain is a domain");
	if (s.artefacts.n > 0)
		finding(c, "mlmmj_lists_artefacts", CHECK_WARN,
		    "unfinished "
		    "list creations or deletions: %s; remove them once nothing "
		    "is running",
		    sample_text(&s.artefacts));
	else
		finding(c, "mlmmj_lists_artefacts", CHECK_INFO,
		    "no "
		    ".deleting.* or .tmp-* leftovers");
	if (s.symlinks.n > 0)
		finding(c, "mlmmj_lists_symlinks", CHECK_ERROR,
		    "symlinks in "
		    "the spool, which postino refuses to follow: %s; replace "
		    "them with real directories",
		    sample_text(&s.symlinks));
	else
		finding(c, "mlmmj_lists_symlinks", CHECK_INFO,
		    "no symlinks in "
		    "the spool");
	if (db && c->d.have_routes && s.unrouted.n > 0)
		finding(c, "mlmmj_lists_routes", CHECK_ERROR,
		    "spool and "
		    "routes disagree, so mail to these lists bounces: %s; "
		    "recreate or remove the lists",
		    sample_text(&s.unrouted));
	else if (db && c->d.have_routes)
		finding(c, "mlmmj_lists_routes", CHECK_INFO,
		    "every list has "
		    "both routes and a spool directory");
	smap_release(&s.found);
	sample_release(&s.corrupt);
	sample_release(&s.orphan_doms);
	sample_release(&s.artefacts);
	sample_release(&s.symlinks);
	sample_release(&s.unrouted);
}

/* --- deep: Dovecot's passdb chain ----------------------------------------- */

struct passdb {
	char driver[64];
	char result_failure[32];
	char result_internalfail[32];
	char where[PATH_MAX + 16];
	bool skip;  /* master or deny passdb: not in the chain */
	bool grant; /* 2.4 oauth2: grant_url set */
};

struct dovecot {
	struct passdb v[32];
	size_t n;
	/* Dovecot 2.4 checks IdP tokens in its mechanisms, not a passdb. */
	bool v24;	 /* dovecot_config_version set */
	bool mech_oauth; /* auth_mechanisms has oauthbearer or xoauth2 */
	bool oauth2_url; /* oauth2 { introspection_url or tokeninfo_url } */
	size_t nfiles;
	struct sample files;
};

static void dovecot_file(struct dovecot *, const char *, int);

static bool
has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || strchr(" \t,", p[-1]) != NULL) &&
		    strchr(" \t,", p[n]) != NULL)
			return true;
	return false;
}

/* What Dovecot 2.4 token logins need, outside any passdb. */
static void
dovecot_24_key(struct dovecot *dc, int depth, const char *top, const char *key,
    const char *val)
{
	bool yes = str_eq_nocase(val, "yes");

	if (depth == 0 && strcmp(key, "dovecot_config_version") == 0)
		dc->v24 = true;
	else if (depth == 0 && strcmp(key, "auth_mechanisms") == 0)
		dc->mech_oauth = dc->mech_oauth ||
		    has_word(val, "oauthbearer") || has_word(val, "xoauth2");
	else if (depth == 1 && strcmp(top, "auth_mechanisms") == 0 && yes &&
	    (strcmp(key, "oauthbearer") == 0 || strcmp(key, "xoauth2") == 0))
		dc->mech_oauth = true;
	else if (val[0] != '\0' &&
	    ((depth == 1 && strcmp(top, "oauth2") == 0 &&
		 (strcmp(key, "introspection_url") == 0 ||
		     strcmp(key, "tokeninfo_url") == 0 ||
		     (strcmp(key, "introspection_mode") == 0 &&
			 strcmp(val, "local") == 0))) ||
		(depth == 0 &&
		    (strcmp(key, "oauth2_introspection_url") == 0 ||
			strcmp(key, "oauth2_tokeninfo_url") == 0))))
		dc->oauth2_url = true;
}

/* !include / !include_try: paths relative to the including file. */
static void
dovecot_include(
    struct dovecot *dc, const char *from, const char *pat, int depth)
{
	char full[PATH_MAX], dir[PATH_MAX], *slash;
	glob_t g;

	if (pat[0] == '/')
		snprintf(full, sizeof(full), "%s", pat);
	else {
		snprintf(dir, sizeof(dir), "%s", from);
		if ((slash = strrchr(dir, '/')) != NULL)
			*slash = '\0';
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, pat) >=
		    sizeof(full))
			return;
	}
	if (glob(full, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		dovecot_file(dc, g.gl_pathv[i], depth + 1);
	globfree(&g);
}

static void
dovecot_file(struct dovecot *dc, const char *path, int depth)
{
	struct passdb *cur = NULL;
	char line[4096], key[64], val[256], top[32] = "";
	int depth_braces = 0, passdb_depth = -1, lineno = 0;
	FILE *f;

	if (depth > DOVECOT_DEPTH_MAX || dc->nfiles >= DOVECOT_FILES_MAX ||
	    (f = fopen(path, "re")) == NULL)
		return;
	dc->nfiles++;
	sample_add(&dc->files, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *hash, *eq;
		size_t n;

		lineno++;
		if ((hash = strchr(s, '#')) != NULL && strchr(s, '"') == NULL)
			*hash = '\0';
		s = str_trim(s);
		if (*s == '\0')
			continue;
		if (str_prefix(s, "!include")) {
			const char *p = s + 8;

			if (str_prefix(p, "_try"))
				p += 4;
			while (*p == ' ' || *p == '\t')
				p++;
			dovecot_include(dc, path, p, depth);
			continue;
		}
		n = strlen(s);
		if (s[n - 1] == '{') {
			char w1[64], w2[64];
			const char *p = next_word(s, w1, sizeof(w1));

			next_word(p, w2, sizeof(w2));
			if (strcmp(w2, "{") == 0)
				w2[0] = '\0';
			if (depth_braces == 0)
				str_copy(top, w1, sizeof(top));
			depth_braces++;
			if (strcmp(w1, "passdb") == 0 && cur == NULL &&
			    dc->n < sizeof(dc->v) / sizeof(dc->v[0])) {
				cur = &dc->v[dc->n++];
				memset(cur, 0, sizeof(*cur));
				/* 2.4: "passdb sql {" names the driver */
				snprintf(
				    cur->driver, sizeof(cur->driver), "%s", w2);
				snprintf(cur->where, sizeof(cur->where),
				    "%s:%d", path, lineno);
				passdb_depth = depth_braces;
			}
			continue;
		}
		if (strcmp(s, "}") == 0) {
			if (cur != NULL && depth_braces == passdb_depth) {
				cur = NULL;
				passdb_depth = -1;
			}
			if (depth_braces > 0)
				depth_braces--;
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		snprintf(key, sizeof(key), "%s", str_trim(s));
		snprintf(val, sizeof(val), "%s", str_trim(eq + 1));
		dovecot_24_key(dc, depth_braces, top, key, val);
		if (cur != NULL && val[0] != '\0' &&
		    (strcmp(key, "grant_url") == 0 ||
			strcmp(key, "oauth2_grant_url") == 0))
			cur->grant = true;
		if (cur == NULL || depth_braces != passdb_depth)
			continue;
		if (strcmp(key, "driver") == 0)
			str_copy(cur->driver, val, sizeof(cur->driver));
		else if (strcmp(key, "result_failure") == 0)
			str_copy(cur->result_failure, val,
			    sizeof(cur->result_failure));
		else if (strcmp(key, "result_internalfail") == 0)
			str_copy(cur->result_internalfail, val,
			    sizeof(cur->result_internalfail));
		else if ((strcmp(key, "master") == 0 ||
			     strcmp(key, "deny") == 0) &&
		    str_eq_nocase(val, "yes"))
			cur->skip = true;
	}
	fclose(f);
}

static bool
continues(const char *result)
{
	/* Dovecot's default for both is "continue". */
	return result[0] == '\0' || str_prefix(result, "continue");
}

static void
probe_dovecot(struct ctx *c)
{
	enum identity_backend ib = c->conf->identity_backend;
	const char *dir = c->conf->dovecot_conf_dir;
	char path[PATH_MAX];
	struct dovecot dc;
	struct passdb *chain[32];
	size_t n = 0, first_sql = SIZE_MAX, nonsql = SIZE_MAX;
	const struct passdb *grantless = NULL;
	struct buf b;
	struct stat st;

	if (ib == IDENTITY_LOCAL)
		return; /* SQL alone is right for local */
	memset(&dc, 0, sizeof(dc));
	sample_init(&dc.files);
	snprintf(path, sizeof(path), "%s/dovecot.conf", dir);
	if (stat(path, &st) == 0)
		dovecot_file(&dc, path, 0);
	else {
		snprintf(path, sizeof(path), "%s/conf.d/auth-*.conf.ext", dir);
		dovecot_include(&dc, "/", path, 0);
	}
	if (dc.nfiles == 0 || dc.n == 0) {
		finding(c, "dovecot_passdb_chain", CHECK_WARN,
		    "%s under '%s', "
		    "so the passdb chain identity_backend=%s needs cannot be "
		    "verified; set dovecot_conf_dir",
		    dc.nfiles == 0 ? "no Dovecot configuration" : "no passdb",
		    dir, identity_backend_name(ib));
		sample_release(&dc.files);
		return;
	}
	for (size_t i = 0; i < dc.n; i++)
		if (!dc.v[i].skip)
			chain[n++] = &dc.v[i];
	for (size_t i = 0; i < n; i++) {
		if (strcmp(chain[i]->driver, "sql") == 0) {
			if (first_sql == SIZE_MAX)
				first_sql = i;
		} else if (nonsql == SIZE_MAX)
			nonsql = i;
	}
	buf_init(&b, 4096);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " -> " : "",
		    chain[i]->driver[0] ? chain[i]->driver : "?");
	for (size_t i = 0; dc.v24 && i < n && grantless == NULL; i++)
		if (strcmp(chain[i]->driver, "oauth2") == 0 && !chain[i]->grant)
			grantless = chain[i];
	if (grantless != NULL)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "the oauth2 passdb at %s has no grant_url: Dovecot 2.4's "
		    "oauth2 passdb only does password grants, so every "
		    "password it is asked about fails temporarily; remove it "
		    "(tokens are checked by the oauthbearer and xoauth2 "
		    "mechanisms with oauth2 { introspection_url }) or give it "
		    "grant_url, client_id and client_secret",
		    grantless->where);
	else if (dc.v24 && dc.mech_oauth && dc.oauth2_url &&
	    !(ib == IDENTITY_HYBRID && first_sql == SIZE_MAX))
		finding(c, "dovecot_passdb_chain", CHECK_INFO,
		    "Dovecot 2.4: IdP tokens through the oauthbearer/xoauth2 "
		    "mechanisms and oauth2 { }, passdb chain %s (from %s)",
		    buf_cstr(&b), sample_text(&dc.files));
	else if (dc.v24 && nonsql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "Dovecot 2.4 with only SQL passdbs (%s) and %s, so "
		    "IdP-managed ({NOAUTH}) mailboxes cannot log in under "
		    "identity_backend=%s; set auth_mechanisms { oauthbearer = "
		    "yes  xoauth2 = yes } and oauth2 { introspection_url = ... "
		    "}",
		    buf_cstr(&b),
		    dc.mech_oauth ? "no oauth2 { introspection_url }"
				  : "no oauthbearer/xoauth2 mechanism",
		    identity_backend_name(ib));
	else if (nonsql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "only SQL "
		    "passdbs (%s), so IdP-managed ({NOAUTH}) mailboxes cannot "
		    "log in under identity_backend=%s; chain the IdP's passdb "
		    "(oauth2, ldap, checkpassword...) after the SQL one",
		    buf_cstr(&b), identity_backend_name(ib));
	else if (ib == IDENTITY_HYBRID && first_sql == SIZE_MAX)
		finding(c, "dovecot_passdb_chain", CHECK_ERROR,
		    "no SQL passdb "
		    "(%s), so local passwords are ignored under "
		    "identity_backend=hybrid; add 'passdb { driver = sql }'",
		    buf_cstr(&b));
	else {
		size_t stop = SIZE_MAX;

		for (size_t i = 0; i + 1 < n && stop == SIZE_MAX; i++)
			if (!continues(chain[i]->result_failure) ||
			    !continues(chain[i]->result_internalfail))
				stop = i;
		if (stop != SIZE_MAX)
			finding(c, "dovecot_passdb_chain", CHECK_ERROR,
			    "passdb '%s' at %s ends the chain (%s) when it "
			    "fails, so the passdbs after it are never asked; "
			    "set result_failure = continue and "
			    "result_internalfail = continue",
			    chain[stop]->driver, chain[stop]->where,
			    buf_cstr(&b));
		else
			finding(c, "dovecot_passdb_chain", CHECK_INFO,
			    "passdb "
			    "chain %s (from %s)",
			    buf_cstr(&b), sample_text(&dc.files));
	}
	buf_release(&b);
	sample_release(&dc.files);
}

/* --- the table ------------------------------------------------------------ */

static void
probe_deep_skipped(struct ctx *c)
{
	if (c->skipped > 0)
		finding(c, "deep_skipped", CHECK_INFO,
		    "%zu deep %s did not "
		    "run because of the errors above",
		    c->skipped, plural((int64_t)c->skipped, "probe", "probes"));
}

/* IdP subjects (identity.h): rows without a mailbox, mailboxes twice. */
static void
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
	if (p.dangling > 0)
		finding(c, "identity_rows", CHECK_WARN,
		    "%zu identity %s no mailbox: %s; delete them from "
		    "postino_identity (the IdP's events for them answer 404)",
		    p.dangling,
		    plural((int64_t)p.dangling, "row has", "rows have"),
		    p.dangling_sample);
	else
		finding(c, "identity_rows", CHECK_INFO,
		    "every identity row belongs to a mailbox");
	if (p.doubled > 0)
		finding(c, "identity_claims", CHECK_ERROR,
		    "%zu %s claimed by several subjects of one identity "
		    "provider: %s; keep one row per mailbox and issuer in "
		    "postino_identity",
		    p.doubled,
		    plural((int64_t)p.doubled, "mailbox is", "mailboxes are"),
		    p.doubled_sample);
	else
		finding(c, "identity_claims", CHECK_INFO,
		    "no mailbox is claimed by two subjects of one identity "
		    "provider");
}

/*
 * postfixadmin.encrypt set: hashes PostfixAdmin's login (pacrypt() under
 * that mode) cannot verify, so their users cannot log in to its web UI.
 * Dovecot may still verify them; that is password_schemes' business.
 */
static void
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
		    "PostfixAdmin (encrypt = '%s') can verify every stored "
		    "password",
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
	    "%zu %s in a form PostfixAdmin (encrypt = '%s') cannot verify "
	    "(%s), so those users cannot log in to its web UI: %s; a new "
	    "password ('postino user passwd') is stored in its form",
	    bad.n,
	    plural(
		(int64_t)bad.n, "mailbox password is", "mailbox passwords are"),
	    c->conf->postfixadmin.encrypt, buf_cstr(&b), sample_text(&bad));
	buf_release(&b);
	sample_release(&bad);
}

static const struct probe probes[] = {
	{ "db_reachable", 0, probe_db },
	{ "schema_tables", P_DB, probe_schema },
	{ "mailbox_base", 0, probe_mailbox_base },
	{ "postcreation_hook", 0, probe_hook },
	{ "vmail_uid", 0, probe_vmail },
	{ "db_grants", P_DB, probe_grants },
	{ "postfix_sql_cf", 0, probe_sql_cf },
	{ "postfix_mailbox_base", 0, probe_postfix_base },
	{ "postfix_chroot", 0, probe_postfix_chroot },
	{ "postfix-main-cf", P_MLMMJ, probe_mlmmj_wiring },
	{ "owner-aliases", P_MLMMJ | P_SCHEMA, probe_owner_aliases },
	{ "password_schemes", P_SCHEMA, probe_passwords },
	{ "password_expired", P_SCHEMA, probe_expiry },
	{ "postino_domain_stale", P_SCHEMA, probe_domain_ext },
	{ "domain_quota_units", P_SCHEMA, probe_quota_units },
	{ "password_postfixadmin", P_SCHEMA, probe_pfa_passwords },
	{ "dovecot_passdb_chain", P_DEEP, probe_dovecot },
	{ "mailbox_domain_fk", P_DEEP | P_SCHEMA, probe_references },
	{ "quota2_pairing", P_DEEP | P_SCHEMA, probe_quota2 },
	{ "identity_rows", P_DEEP | P_SCHEMA, probe_identity },
	{ "mailbox_row_orphans", P_DEEP | P_SCHEMA, probe_mailbox_rows },
	{ "mailbox_self_alias", P_DEEP | P_SCHEMA, probe_self_alias },
	{ "alias_destinations", P_DEEP | P_SCHEMA, probe_destinations },
	{ "alias_domain_chain", P_DEEP | P_SCHEMA, probe_alias_domains },
	{ "domain_limits", P_DEEP | P_SCHEMA, probe_limits },
	{ "maildir_present", P_DEEP | P_SCHEMA, probe_maildirs },
	{ "mailing_lists", P_DEEP | P_MLMMJ, probe_mlmmj_spool },
	{ "deep_skipped", P_DEEP, probe_deep_skipped },
};

int
check_run(const struct postino_conf *conf, const struct check_opts *opts,
    struct check_report *rep)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.opts = opts;
	c.rep = rep;
	data_init(&c.d);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *p = &probes[i];

		if (p->run == NULL)
			continue;
		if ((p->flags & P_DEEP) && !opts->deep)
			continue;
		if ((p->flags & P_MLMMJ) && conf->mlmmj_spool_dir[0] == '\0')
			continue;
		if (((p->flags & P_DB) && c.db == NULL) ||
		    ((p->flags & P_SCHEMA) && !c.schema_ok)) {
			if (p->flags & P_DEEP)
				c.skipped++;
			continue;
		}
		p->run(&c);
	}
	data_release(&c.d);
	db_close(&c.db);
	if (c.have_params)
		db_params_release(&c.params);
	return 0;
}
