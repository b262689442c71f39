/*
 * transfer: reading "postino import"'s input, a record per CSV or JSON
 * Lines line, checked against the fields its type accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "strutil.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Read one line (without the newline); 1 ok, 0 EOF, -1 too long.  The
 * stream is this reader's alone: getc_unlocked, not a lock per byte.
 */
static int
read_line(struct reader *rd)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(rd->f)) != EOF) {
		if (c == '\n')
			break;
		if (n + 2 > TRANSFER_LINE_MAX) {
			while ((c = getc_unlocked(rd->f)) != EOF && c != '\n')
				;
			rd->line++;
			return -1;
		}
		if (n + 2 > rd->cap)
			rd->buf =
			    xrealloc(rd->buf, rd->cap = rd->cap * 2 + 256);
		rd->buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (rd->buf == NULL)
		rd->buf = xmalloc(rd->cap = 256);
	if (n > 0 && rd->buf[n - 1] == '\r')
		n--;
	rd->buf[n] = '\0';
	rd->line++;
	return 1;
}

static int
field_index(const char *name)
{
	for (int i = 0; i < F__COUNT; i++)
		if (strcmp(field_names[i], name) == 0)
			return i;
	return -1;
}

/* Split a CSV line into cells (RFC 4180 quoting, no embedded newlines). */
static int
csv_split(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *start;

		if (n >= max)
			return -1;
		if (*p == '"') {
			char *o;

			start = o = ++p;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*o++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*o++ = *p++;
			}
			if (*p != ',' && *p != '\0')
				return -1;
			*o = '\0';
		} else {
			start = p;
			while (*p != ',' && *p != '\0') {
				if (*p == '"')
					return -1;
				p++;
			}
		}
		cells[n++] = start;
		if (*p == '\0')
			break;
		*p++ = '\0';
		if (*p == '\0') {
			if (n >= max)
				return -1;
			cells[n++] = p;
			break;
		}
	}
	return n;
}

static int
rd_err(struct reader *rd, struct err *err, const char *msg)
{
	return err_set(err, ERR_INVALID, "%s:%d: %s", rd->name, rd->line, msg);
}

/* Parse the header; 0 ok, -1 error. */
int
read_header(struct reader *rd, struct err *err)
{
	int r = read_line(rd);

	if (r == 0)
		return err_set(err, ERR_INVALID, "%s: empty input", rd->name);
	if (r == -1)
		return rd_err(rd, err, "line too long");
	if (rd->fmt == TRANSFER_CSV) {
		char *cells[F__COUNT + 8];
		int n = csv_split(rd->buf, cells, F__COUNT + 8);

		if (n <= 0)
			return rd_err(rd, err, "malformed CSV header");
		for (int i = 0; i < n; i++) {
			int fi = field_index(str_trim(cells[i]));

			if (fi < 0) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "unknown column '%.40s'", cells[i]);
				return rd_err(rd, err, msg);
			}
			rd->cols[i] = fi;
		}
		rd->ncols = n;
		if (rd->cols[0] != F_TYPE)
			return rd_err(
			    rd, err, "the first column must be 'type'");
		return 0;
	} else {
		json_error_t je;
		json_t *h = json_loads(rd->buf, 0, &je);
		json_t *t, *v;
		int rc = 0;

		if (h == NULL || !json_is_object(h) ||
		    (t = json_object_get(h, "type")) == NULL ||
		    !json_is_string(t) ||
		    strcmp(json_string_value(t), "postino-export") != 0)
			rc = rd_err(rd, err,
			    "not a postino export (expected a {\"type\":\"postino-export\",...} header line)");
		else if ((v = json_object_get(h, "version")) == NULL ||
		    !json_is_integer(v) ||
		    json_integer_value(v) != TRANSFER_VERSION) {
			char msg[128];

			snprintf(msg, sizeof(msg),
			    "unsupported export version (this postino reads version %d)",
			    TRANSFER_VERSION);
			rc = rd_err(rd, err, msg);
		}
		json_decref(h);
		return rc;
	}
}

/* Read the next record; 1 record, 0 EOF, -1 error. */
int
read_rec(struct reader *rd, struct rec *r, struct err *err)
{
	int rl;

	rec_clear(r);
	do {
		rl = read_line(rd);
		if (rl == 0)
			return 0;
		if (rl == -1)
			return rd_err(rd, err, "line too long");
	} while (str_trim(rd->buf)[0] == '\0');
	r->line = rd->line;
	if (rd->fmt == TRANSFER_CSV) {
		char *cells[F__COUNT + 8];
		int n = csv_split(rd->buf, cells, F__COUNT + 8);

		if (n != rd->ncols)
			return rd_err(rd, err,
			    n < 0 ? "malformed CSV row"
				  : "wrong number of cells");
		for (int i = 0; i < n; i++)
			if (cells[i][0] != '\0')
				r->f[rd->cols[i]] = xstrdup(cells[i]);
	} else {
		json_error_t je;
		json_t *o = json_loads(rd->buf, JSON_REJECT_DUPLICATES, &je);
		const char *k;
		json_t *v;

		if (o == NULL || !json_is_object(o)) {
			char msg[200];

			snprintf(msg, sizeof(msg), "not a JSON object: %s",
			    o == NULL ? je.text : "wrong type");
			json_decref(o);
			return rd_err(rd, err, msg);
		}
		json_object_foreach(o, k, v)
		{
			int fi = field_index(k);
			char num[32];

			if (fi < 0) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "unknown field '%.40s'", k);
				json_decref(o);
				return rd_err(rd, err, msg);
			}
			if (json_is_string(v))
				r->f[fi] = xstrdup(json_string_value(v));
			else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%lld",
				    (long long)json_integer_value(v));
				r->f[fi] = xstrdup(num);
			} else if (json_is_boolean(v))
				r->f[fi] =
				    xstrdup(json_is_true(v) ? "true" : "false");
			else if (!json_is_null(v)) {
				char msg[128];

				snprintf(msg, sizeof(msg),
				    "field '%s' has the wrong type", k);
				json_decref(o);
				return rd_err(rd, err, msg);
			}
		}
		json_decref(o);
	}
	if (r->f[F_TYPE] == NULL)
		return rd_err(rd, err, "record without a type");
	for (int t = 0; t < R__COUNT; t++)
		if (strcmp(r->f[F_TYPE], rtype_names[t]) == 0) {
			r->type = (enum rtype)t;
			for (int i = 0; i < F__COUNT; i++)
				if (r->f[i] != NULL &&
				    !(type_fields[t] & B(i))) {
					char msg[128];

					snprintf(msg, sizeof(msg),
					    "field '%s' does not belong to a %s",
					    field_names[i], rtype_names[t]);
					return rd_err(rd, err, msg);
				}
			return 1;
		}
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "unknown record type '%.40s'",
		    r->f[F_TYPE]);
		return rd_err(rd, err, msg);
	}
}
