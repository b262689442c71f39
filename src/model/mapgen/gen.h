/*
 * The inside of "postino config gen" (mapgen.h is its contract): what one
 * generation knows (struct gen), the helpers its renderers share, and the
 * renderers, one file per server: postfix.c, dovecot.c, podop.c.  The
 * driver is generate.c, installing the files write.c, and the Postfix SQL
 * maps of "postino init" maps.c.
 */
#ifndef POSTINO_MAPGEN_GEN_H
#define POSTINO_MAPGEN_GEN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "err.h"
#include "mapgen.h"

struct gen {
	const struct mapgen_opts *o;
	const struct postino_conf *c;
	const struct db_params *p;
	struct mapgen_set *set;
	const char *only;
	const char *skip;
	const char *type;    /* Postfix map type */
	char base[PATH_MAX]; /* no final '/' */
	bool lists;	     /* mlmmj is set up */
	bool routes_podop;   /* via socketmap */
	bool dict_auth;	     /* Dovecot via podop */
	bool idp;	     /* noauth or hybrid */
	bool v24;
};

/* One entry of a Postfix "hosts" value. */
struct host {
	char name[PATH_MAX]; /* host, or socket path */
	int port;	     /* 0: default */
	bool socket;
};

bool listed(const char *list, const char *artefact);
bool selected(const struct gen *g, const char *artefact);
struct buf *add_file(
    struct gen *g, const char *artefact, const char *rel, mode_t mode);
int plain(const char *what, const char *v, struct err *err);
int secret_plain(const char *what, const char *v, struct err *err);
int secret_24(const char *what, const char *v, struct err *err);
void quote_24(struct buf *b, const char *v);
const char *engine_regexp(enum db_engine e);
size_t first_host(const char *hosts, struct host *h);
void pg_socket(struct host *h);
char *routes_sql(enum db_engine e);
const char *concat_open(const struct gen *g);
const char *concat_sep(const struct gen *g);
void map_ref(struct gen *g, struct buf *b, const char *file);
void sock_ref(struct gen *g, struct buf *b, const char *table);
void gen_main_cf(struct gen *g);
void gen_master_cf(struct gen *g);
int gen_sql_maps(struct gen *g, struct err *err);
void gen_dovecot_23(struct gen *g);
void gen_dovecot_24(struct gen *g);
void gen_dovecot_mail(struct gen *g);
void gen_dovecot_quota(struct gen *g);
void gen_podop(struct gen *g);

#endif
