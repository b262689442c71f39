/*
 * transfer: "postino import": pass 1 validates the whole input, then one
 * pass per record type applies it in batches, then prune.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "maildir.h"
#include "transfer_impl.h"
#include "xalloc.h"
#include "banned.h"

static int
import_pass(struct importer *im, struct reader *rd, enum rtype t, int64_t total,
    int64_t *done, struct err *err)
{
	size_t bs = im->o->batch > 0 ? (size_t)im->o->batch : 500;
	struct rec *recs = xcalloc(bs, sizeof(*recs));
	size_t n = 0;
	int r, rc = 0;

	for (;;) {
		struct rec tmp;

		memset(&tmp, 0, sizeof(tmp));
		r = read_rec(rd, &tmp, err);
		if (r == 1 && tmp.type != t) {
			rec_clear(&tmp);
			continue;
		}
		if (r == 1) {
			/* Re-derive the normalised key (validated earlier). */
			struct err e2 = ERR_INIT;
			char dom[ADDR_MAX];

			switch (t) {
			case R_DOMAIN:
				(void)addr_domain(
				    "d", tmp.f[F_DOMAIN], tmp.key, &e2);
				break;
			case R_ALIAS_DOMAIN:
				(void)addr_domain(
				    "d", tmp.f[F_ALIAS_DOMAIN], tmp.key, &e2);
				break;
			case R_MAILBOX:
				(void)addr_address("u", tmp.f[F_USERNAME],
				    tmp.key, NULL, dom, &e2);
				break;
			default:
				(void)addr_alias("a", tmp.f[F_ADDRESS], tmp.key,
				    dom, NULL, &e2);
				break;
			}
			if (im->o->prune)
				strset_add(&im->keys[t], tmp.key);
			recs[n++] = tmp;
		}
		if ((r == 0 && n > 0) || n == bs) {
			rc = run_batch(im, recs, n, err);
			*done += (int64_t)n;
			if (im->o->progress != NULL)
				im->o->progress(
				    im->o->arg, rtype_names[t], *done, total);
			for (size_t i = 0; i < n; i++)
				rec_clear(&recs[i]);
			n = 0;
			if (rc == -1)
				break;
		}
		if (r == 0)
			break;
		if (r == -1) {
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		rec_clear(&recs[i]);
	free(recs);
	return rc;
}

int
transfer_import(struct model *m, FILE *in, const char *name,
    const struct transfer_opts *o, struct transfer_stats *st, struct err *err)
{
	struct importer im;
	struct reader rd;
	struct known k;
	struct rec r;
	FILE *f = in, *tmp = NULL;
	int64_t done = 0;
	int rc = -1, rr;

	memset(&im, 0, sizeof(im));
	memset(&rd, 0, sizeof(rd));
	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	im.m = m;
	im.o = o;
	im.st = st;
	im.name = name;
	/* The input is read once to validate and again per record type. */
	if (fseeko(in, 0, SEEK_SET) == -1) {
		char chunk[65536];
		size_t n;

		tmp = tmpfile();
		if (tmp == NULL)
			return err_set(err, ERR_FILESYSTEM,
			    "cannot create a temporary file: %s",
			    strerror(errno));
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			if (fwrite(chunk, 1, n, tmp) != n) {
				fclose(tmp);
				return err_set(err, ERR_FILESYSTEM,
				    "cannot buffer the input: %s",
				    strerror(errno));
			}
		f = tmp;
	}
	rd.f = f;
	rd.name = name;
	rd.fmt = o->format;
	/* Pass 1: validate everything, touch nothing. */
	rewind(f);
	if (read_header(&rd, err) == -1)
		goto out;
	while ((rr = read_rec(&rd, &r, err)) == 1) {
		if (validate(m, &r, name, &k, err) == -1)
			goto out;
		if (r.type == R_DOMAIN)
			strset_add(&im.domains, r.key);
		st->records++;
	}
	if (rr == -1)
		goto out;
	if (!o->dry_run)
		im.pool = maildir_pool_new(m->conf->virtual_mailbox_base,
		    m->conf->vmail_uid, m->conf->vmail_gid, o->threads);
	/* Prune works within the domains the input names. */
	for (int t = 0; t < R__COUNT; t++) {
		rewind(f);
		rd.line = 0;
		if (read_header(&rd, err) == -1)
			goto out;
		if (import_pass(
			&im, &rd, (enum rtype)t, st->records, &done, err) == -1)
			goto out;
	}
	if (o->prune && prune(&im, err) == -1)
		goto out;
	rc = 0;
out:
	rec_clear(&r);
	free(rd.buf);
	for (int t = 0; t < R__COUNT; t++)
		strset_free(&im.keys[t]);
	strset_free(&im.domains);
	maildir_pool_free(im.pool);
	strset_free(&k.in_file);
	strset_free(&k.in_db);
	strset_free(&k.not_in_db);
	if (tmp != NULL)
		fclose(tmp);
	return rc;
}
