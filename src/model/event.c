#include <string.h>
#include <time.h>

#include "event.h"
#include "banned.h"

int
event_seen(struct model *m, const char *id, struct err *err)
{
	struct db_arg a[] = { DB_TEXT(id) };
	int64_t n;

	if (db_query_int(m->db,
		"SELECT COUNT(*) FROM postino_event WHERE "
		"id = ?",
		a, DB_NARGS(a), &n, err) == -1)
		return -1;
	return n > 0;
}

struct record_ctx {
	const char *id;
	int fresh;
};

static int
record_tx(struct model *m, void *arg, struct err *err)
{
	struct record_ctx *c = arg;
	char now[32];
	struct db_arg a[] = { DB_TEXT(c->id),
		DB_TEXT(db_now(now, sizeof(now))) };

	c->fresh = 1;
	if (db_exec(m->db,
		"INSERT INTO postino_event (id, received) "
		"VALUES (?, ?)",
		a, DB_NARGS(a), err) == -1) {
		if (err->kind == ERR_EXISTS)
			c->fresh = 0;
		return -1;
	}
	return 0;
}

int
event_record(struct model *m, const char *id, struct err *err)
{
	struct record_ctx c = { id, 0 };

	if (strlen(id) >= EVENT_ID_MAX)
		return err_set(err, ERR_INVALID, "event id too long");
	if (model_tx(m, record_tx, &c, err) == -1) {
		if (c.fresh != 0 || err->kind != ERR_EXISTS)
			return -1;
		/* A duplicate: the transaction (ours or the caller's) is lost.
		 */
		err_clear(err);
		return 0;
	}
	return 1;
}

int
event_prune(struct model *m, int64_t max_age, struct err *err)
{
	char cut[32];
	struct tm tm;
	time_t t = time(NULL) - (time_t)max_age;
	struct db_arg a[] = { DB_TEXT(cut) };

	localtime_r(&t, &tm);
	strftime(cut, sizeof(cut), "%Y-%m-%d %H:%M:%S", &tm);
	return db_exec(m->db, "DELETE FROM postino_event WHERE received < ?", a,
		   DB_NARGS(a), err) == -1
	    ? -1
	    : 0;
}
