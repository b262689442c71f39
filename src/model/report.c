#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "strutil.h"
#include "banned.h"

int
report_status(struct model *m, struct status_counts *s, struct err *err)
{
	static const struct {
		const char *sql;
		size_t off;
	} q[] = {
		{ "SELECT COUNT(*) FROM domain WHERE domain <> 'ALL'",
		    offsetof(struct status_counts, domains) },
		{ "SELECT COUNT(*) FROM mailbox",
		    offsetof(struct status_counts, mailboxes) },
		{ "SELECT COUNT(*) FROM alias",
		    offsetof(struct status_counts, aliases) },
		{ "SELECT COUNT(*) FROM alias_domain",
		    offsetof(struct status_counts, alias_domains) },
		{ "SELECT COUNT(*) FROM quota2",
		    offsetof(struct status_counts, quota2) },
		{ "SELECT COUNT(DISTINCT list_address) FROM routes",
		    offsetof(struct status_counts, lists) },
	};

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		int64_t *v = (int64_t *)(void *)((char *)s + q[i].off);

		if (db_query_int(m->db, q[i].sql, NULL, 0, v, err) == -1)
			return -1;
	}
	return 0;
}

int
report_quota(struct model *m, const char *username, const char *domain,
    quota_each_fn *fn, void *arg, struct err *err)
{
	char sql[512], u[ADDR_MAX], d[ADDR_MAX];
	struct db_arg a[2];
	size_t n = 0;
	struct db_res *r;
	struct quota_usage q;
	int rc, rows = 0;

	if (username != NULL) {
		if (addr_address("mailbox", username, u, NULL, NULL, err) == -1)
			return -1;
		a[n++] = DB_TEXT(u);
	}
	if (domain != NULL) {
		if (addr_domain("domain", domain, d, err) == -1)
			return -1;
		a[n++] = DB_TEXT(d);
	}
	snprintf(sql, sizeof(sql),
	    "SELECT m.username, COALESCE(q.bytes, 0), "
	    "COALESCE(q.messages, 0), m.quota FROM mailbox m LEFT JOIN quota2 "
	    "q ON q.username = m.username WHERE 1 = 1%s%s ORDER BY m.username",
	    username != NULL ? " AND m.username = ?" : "",
	    domain != NULL ? " AND m.domain = ?" : "");
	if (db_query(m->db, sql, a, n, 0, &r, err) == -1)
		return -1;
	while ((rc = db_next(r, err)) == 1) {
		memset(&q, 0, sizeof(q));
		str_copy(q.username, db_col(r, 0) ? db_col(r, 0) : "",
		    sizeof(q.username));
		q.bytes = db_col_int(r, 1, 0);
		q.messages = db_col_int(r, 2, 0);
		q.quota_bytes = db_col_int(r, 3, 0);
		q.percent = q.quota_bytes > 0
		    ? (int)((q.bytes * 100) / q.quota_bytes)
		    : -1;
		rows++;
		if (fn(arg, &q) == -1) {
			rc = -1;
			err_set(err, ERR_INTERNAL, "stopped");
			break;
		}
	}
	db_res_free(&r);
	if (rc == 0 && username != NULL && rows == 0)
		return err_set(
		    err, ERR_NOTFOUND, "mailbox '%s' does not exist", u);
	return rc == -1 ? -1 : 0;
}
