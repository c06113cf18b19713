/*
 * wbuf.h - a transaction's writes held back, per table, to be sent as one
 * statement a table (store_pg.c): a database backend's write costs a
 * statement, and an event writes some twenty rows.
 *
 * Each key of a table has at most one write held: a later write to it is
 * merged (a put replaces, adds sum, an add to a put adds to its value) or,
 * when it cannot be (pt_wbuf_add says so), the caller sends the table's
 * writes first.  A key's held put is what a read of it must see.  Keys and
 * values are copied; what pt_wbuf_find returns lives until pt_wbuf_free,
 * past pt_wbuf_clear.  Pure: no database here.
 */
#ifndef PT_WBUF_H
#define PT_WBUF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

enum pt_wop {
	PT_WOP_PUT,	/* insert or overwrite */
	PT_WOP_INSERT,	/* a new key: one that exists is an error */
	PT_WOP_ADD,	/* add the 8-byte big-endian value (pt_add_u64) */
	PT_WOP_MAX,	/* raise to it (pt_max_u64) */
	PT_WOP__MAX
};

struct pt_wbuf;

struct pt_wbuf_write {
	enum pt_wop		 op;
	const unsigned char	*val;
	size_t			 len;
};

struct pt_wbuf	*pt_wbuf_new(void);
void		 pt_wbuf_free(struct pt_wbuf *);

/*
 * Hold a write: 0 held (or merged into the key's), 1 when the key holds a
 * write this one does not merge with (an add after a raise, a new key's
 * insert after anything): send the table's writes, then hold it again.
 * -1: out of memory.
 */
int		 pt_wbuf_add(struct pt_wbuf *, enum pt_table, enum pt_wop,
		    const void *key, size_t keylen, const void *val,
		    size_t vallen);
/* The write held for "key", or NULL. */
const struct pt_wbuf_write *pt_wbuf_find(struct pt_wbuf *, enum pt_table,
		    const void *key, size_t keylen);
/* Writes held for table "t" (all tables: PT_T__MAX), and their bytes. */
size_t		 pt_wbuf_count(const struct pt_wbuf *, enum pt_table);
size_t		 pt_wbuf_bytes(const struct pt_wbuf *);
/*
 * Table "t"'s held writes of kind "op" as two arrays in PostgreSQL's
 * binary format (bytea[]: keys, values) appended to "keys" and "vals";
 * returns how many.
 */
size_t		 pt_wbuf_arrays(const struct pt_wbuf *, enum pt_table,
		    enum pt_wop, struct pt_buf *keys, struct pt_buf *vals);
/* Forget table "t"'s held writes (PT_T__MAX: all): sent, or undone. */
void		 pt_wbuf_clear(struct pt_wbuf *, enum pt_table);

#endif
