/*
 * store_int.h - what a storage backend gives store.c: one table of
 * functions, and the first members of its store, transaction and cursor.
 *
 * store.c holds the calls of store.h and passes each to the backend of
 * the store it is given (pt_store_open picks one by the name it opens:
 * "postgresql://..." or "postgres://..." is store_pg.c, anything else an
 * LMDB directory, store_lmdb.c).  A backend's own structures begin with the public ones,
 * so a pointer to either is a pointer to both.  Nothing but store.c and
 * the backends includes this file.
 */
#ifndef PT_STORE_INT_H
#define PT_STORE_INT_H

#include <stdarg.h>

#include "store.h"

struct pt_backend;

struct pt_store {
	const struct pt_backend	*be;
	int			 read_only;	/* opened read-only */
};

struct pt_txn {
	struct pt_store	*store;
	int		 write;
	int		 flat;		/* PT_TXN_FLAT */
	int		 failed;	/* a write failed: commit must not */
	enum pt_err	 fail_rc;
};

struct pt_cursor {
	struct pt_txn	*txn;
};

struct pt_backend {
	const char	*name;
	int		 remote;	/* a read is a round trip to a server */
	void		(*close)(struct pt_store *);
	enum pt_err	(*sync)(struct pt_store *);
	void		(*set_durability)(struct pt_store *,
			    enum pt_durability);
	enum pt_err	(*stat)(struct pt_store *, struct pt_store_stat *);
	uint64_t	(*room)(struct pt_store *);
	enum pt_err	(*check_room)(struct pt_store *, uint64_t);
	void		(*set_limits)(struct pt_store *, uint64_t, uint64_t);
	void		(*set_make_room)(struct pt_store *, pt_room_fn,
			    void *);
	enum pt_err	(*make_room)(struct pt_store *, uint64_t);
	enum pt_err	(*reserve)(struct pt_store *, uint64_t);
	int		(*near_ceiling)(struct pt_store *);
	void		(*set_threaded)(struct pt_store *);
	int		(*resized)(struct pt_store *);
	int		(*meta_epoch)(struct pt_store *, uint64_t *);
	enum pt_err	(*txn_begin)(struct pt_store *, struct pt_txn *,
			    int, struct pt_txn **);
	enum pt_err	(*txn_commit)(struct pt_txn *);
	void		(*txn_abort)(struct pt_txn *);
	enum pt_err	(*get)(struct pt_txn *, enum pt_table, const void *,
			    size_t, struct pt_val *);
	enum pt_err	(*put)(struct pt_txn *, enum pt_table, const void *,
			    size_t, const void *, size_t, int);
	enum pt_err	(*del)(struct pt_txn *, enum pt_table, const void *,
			    size_t);
	enum pt_err	(*count)(struct pt_txn *, enum pt_table, const void *,
			    size_t, uint64_t, int max);
	enum pt_err	(*cursor_open)(struct pt_txn *, enum pt_table,
			    struct pt_cursor **);
	void		(*cursor_close)(struct pt_cursor *);
	enum pt_err	(*cursor_seek)(struct pt_cursor *, const void *,
			    size_t, int, struct pt_val *, struct pt_val *);
	enum pt_err	(*cursor_next)(struct pt_cursor *, struct pt_val *,
			    struct pt_val *);
	enum pt_err	(*cursor_prev)(struct pt_cursor *, struct pt_val *,
			    struct pt_val *);
	enum pt_err	(*cursor_del)(struct pt_cursor *);
};

/* The backends' openers (pt_store_open's arguments). */
enum pt_err	pt_lmdb_open(const char *dir, const struct pt_store_opts *,
		    struct pt_store **, char *errbuf, size_t errlen);
enum pt_err	pt_pg_open(const char *uri, const struct pt_store_opts *,
		    struct pt_store **, char *errbuf, size_t errlen);

/*
 * Fill the public part of a new transaction (a backend's txn_begin, after
 * store.c refused a write on a read-only store).
 */
void		pt_txn_init(struct pt_txn *, struct pt_store *, int flags);
/* pt_add_u64 / pt_max_u64 as a read, then a put (LMDB's). */
enum pt_err	pt_count_by_get(struct pt_txn *, enum pt_table, const void *,
		    size_t, uint64_t, int max);

/* The thread's error text (pt_store_errstr), printf-style. */
void		pt_store_errf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* Whether the thread's last commit wrote nothing (commit.c retries). */
void		pt_store_set_unwritten(int);

#endif
