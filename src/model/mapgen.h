/*
 * mapgen: the Postfix SQL lookup tables (sql-*.cf) for a database, with the
 * canonical PostfixAdmin queries in each engine's dialect.  Used by
 * "postino init" and "postino config gen".  The generated files carry the
 * database password (Postfix needs it): write them mode 0640.
 */
#ifndef POSTINO_MAPGEN_H
#define POSTINO_MAPGEN_H

#include "buf.h"
#include "db.h"

struct mapgen_map {
	const char	*file;		/* "sql-virtual_mailbox_maps.cf" */
	const char	*param;		/* main.cf parameter it feeds */
	const char	*comment;
};

/* The maps, NULL-file terminated, in Postfix lookup order. */
extern const struct mapgen_map mapgen_maps[];

/* Render one map file for the engine and connection into out. */
int	 mapgen_render(const struct mapgen_map *, const struct db_params *,
	    struct buf *out, struct err *);

#endif
