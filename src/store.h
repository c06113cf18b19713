/*
 * store.h - Porter's storage interface: ordered, transactional key/value
 * tables.
 *
 * Every byte Porter keeps (configuration, event and action logs, the data
 * actions create, idempotency records) goes through these calls; store.c
 * passes each to the store's backend (store_int.h).  The LMDB backend is
 * store_lmdb.c, the only file that includes <lmdb.h>; the PostgreSQL one
 * store_pg.c (one table per pt_table with a bytea primary key).  Both
 * give the same semantics:
 *	- keys are compared as unsigned bytes (memcmp, shorter first);
 *	- at most one write transaction at a time (a second waits);
 *	- a committed write transaction is durable when the durability is
 *	  PT_DURABLE_FULL, and atomic always;
 *	- read transactions see a snapshot.
 *
 * NOTE: values returned by pt_get() and cursors are BORROWED from the
 * transaction: they die when it commits or aborts, and after a write to the
 * same table.  Copy what must outlive it.
 * NOTE (LMDB): open the store after any fork(), never before.
 */
#ifndef PT_STORE_H
#define PT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum pt_table {
	PT_T_META,		/* schema version, config generation, ... */
	PT_T_CONFIG,		/* the applied configuration */
	PT_T_ENDPOINTS,		/* endpoint id -> compiled environment */
	PT_T_EVENTS,		/* event id (time-ordered) -> record */
	PT_T_EV_SOURCE,		/* source \0 id -> "" */
	PT_T_EV_ENV,		/* source \0 env \0 id -> "" */
	PT_T_EV_TYPE,		/* source \0 env \0 type \0 id -> "" */
	PT_T_EV_STATUS,		/* status \0 id -> "" */
	PT_T_EV_TYPES,		/* source \0 env \0 type -> counts */
	PT_T_ACTIONS,		/* action log id -> record */
	PT_T_USERS,		/* user id -> user */
	PT_T_OBJECTS,		/* collection \0 id -> object */
	PT_T_TENANTS,		/* tenant id -> tenant */
	PT_T_SUBS,		/* collection \0 id \0 recipient -> subscription */
	PT_T_AUDIENCES,		/* audience key -> audience */
	PT_T_AUD_MEMBERS,	/* key \0 user \0 tenant -> member */
	PT_T_RUNS,		/* run id -> workflow run */
	PT_T_RUNS_BY_KEY,	/* workflow \0 cancellation key \0 run id -> "" */
	PT_T_IDEM,		/* source \0 env \0 type \0 key -> record */
	PT_T_IDEM_TIME,		/* be64 expiry \0 idem key -> "" */
	PT_T_TOKENS,		/* admin token name -> hash */
	PT_T_AUX,		/* small indexes owned by later modules */
	PT_T_BODIES,		/* event id -> packed body (evrec.h) */
	PT_T_ACT_IDX,		/* kind, value \0 action id -> "" (actidx.h) */
	PT_T__MAX
};

const char	*pt_table_name(enum pt_table);
/* The storage engine behind a store: "lmdb" (NULL: the default's) or
 * "postgresql". */
struct pt_store;
const char	*pt_store_backend(struct pt_store *);
/*
 * Is every read of a store a round trip to a database server (work done
 * in bigger, rarer pieces there)?  0 for LMDB.
 */
int		 pt_store_remote(struct pt_store *);
/* Does "name" (PORTER_DB, --db) name a PostgreSQL database (a URI)? */
int		 pt_store_is_uri(const char *name);
/*
 * "name" fit to print: a URI's password ("user:secret@", "password=...")
 * as "***".  Into "buf" (always terminated); returns "buf".
 */
const char	*pt_store_display(const char *name, char *buf, size_t len);

enum pt_durability {
	PT_DURABLE_FULL,	/* fsync at every commit (default) */
	PT_DURABLE_RELAXED	/* no fsync at commit: see README "Durability" */
};

/*
 * The least map size an operator may ask for (PORTER_MAP_SIZE,
 * --map-size): below it "4" meant "4G" more likely than 4 bytes.
 */
#define PT_MAP_SIZE_MIN	(1ULL << 20)

/*
 * Free disk a store leaves when it grows, unless set (pt_store_set_limits
 * with PT_DISK_RESERVE_AUTO): 64 MiB, or a twentieth of a smaller file
 * system.
 */
#define PT_DISK_RESERVE_DEFAULT	(64ULL << 20)
#define PT_DISK_RESERVE_AUTO	UINT64_MAX

struct pt_store_opts {
	uint64_t		 map_size;	/* bytes; 0 = default (4 GiB) */
	int			 read_only;	/* open without creating */
	enum pt_durability	 durability;
	/*
	 * A long-lived server: a database store may keep a connection of
	 * its own to hear of changes (pt_store_meta_epoch).  Not for a
	 * command or a CGI process, one request long.
	 */
	int			 watch;
};

struct pt_store;
struct pt_txn;
struct pt_cursor;

struct pt_val {
	const void	*data;
	size_t		 len;
};

/*
 * Open (creating with mode 0700/0600 unless read_only) the store in
 * directory "dir".  Refuses a world-writable directory (PT_EINVAL, with a
 * message in "errbuf").
 */
enum pt_err	pt_store_open(const char *dir, const struct pt_store_opts *,
		    struct pt_store **out, char *errbuf, size_t errlen);
void		pt_store_close(struct pt_store *);
/* Force everything committed so far to disk (relaxed mode). */
enum pt_err	pt_store_sync(struct pt_store *);
void		pt_store_set_durability(struct pt_store *, enum pt_durability);

struct pt_store_stat {
	uint64_t	map_size;	/* bytes the map spans now */
	uint64_t	ceiling;	/* it grows to at most this; 0: none
					   but the disk's */
	uint64_t	used;		/* bytes in use (pages * page size) */
	uint64_t	free;		/* of those, free pages writes reuse */
	uint64_t	room;		/* what writes can still use */
	uint64_t	entries[PT_T__MAX];
	unsigned	readers;	/* reader slots in use */
	unsigned	max_readers;
	int		read_only;	/* opened read-only: no writes */
	uint64_t	room_at_full;	/* room when a write of this process
					   last found the map or disk full;
					   UINT64_MAX: none did */
	/* A database server's (PostgreSQL: "readers" are then this
	   process's connections): */
	char		server[64];	/* "PostgreSQL 15.14"; "": embedded */
	uint64_t	round_trip_us;	/* one query there and back */
};
enum pt_err	pt_store_stat(struct pt_store *, struct pt_store_stat *);
/*
 * Bytes writes can still use: the free pages inside the file plus the
 * map's unused tail (no more than the file system has left), as of the
 * last commit.  An estimate: pages freed while a reader still sees them
 * are not reusable yet.  UINT64_MAX when it cannot be told.
 */
uint64_t	pt_store_room(struct pt_store *);
/*
 * PT_OK when pt_store_room() is at least "need" bytes, else PT_EFULL with
 * the numbers in pt_store_errstr(): the test the ingest path applies
 * before it runs handlers, inside its write (a caller of
 * pt_store_make_room then makes room, outside it).
 */
enum pt_err	pt_store_has_room(struct pt_store *, uint64_t need);
/*
 * The same, making room first when it is short (pt_store_make_room): for
 * /healthz.  Never with a transaction of this thread open: making room
 * writes.
 */
enum pt_err	pt_store_check_room(struct pt_store *, uint64_t need);
/*
 * The map grows itself: a write that finds it full calls
 * pt_store_make_room(), which doubles it (at most to "ceiling", 0: no
 * ceiling; and never leaving less than "disk_reserve" bytes free on the
 * file system), waiting for the process's other transactions to end as
 * LMDB requires.  When it cannot grow, the "make_room" function the
 * owner set frees room its own way (Porter deletes the oldest logs) and
 * returns PT_OK when it did, PT_ENOTFOUND when nothing may go, PT_EFULL
 * when its own deletes found no room (the map is then let past the
 * ceiling by the little they need, for them only, and it is asked
 * again).  Before deleting, and after, it waits for the pages deletes
 * freed to be reusable (LMDB reuses them a commit later, once no reader
 * sees them).  PT_EFULL when nothing helped: the write fails, and the
 * sender is told to retry (503).  "need": bytes the write wants.
 * pt_store_check_room() calls "make_room" too when the room is short.
 * Other processes adopt the new size at their next transaction; under a
 * ceiling, no process maps more than the ceiling or the pages in use.
 */
typedef enum pt_err (*pt_room_fn)(struct pt_store *, void *arg);
void		pt_store_set_limits(struct pt_store *, uint64_t ceiling,
		    uint64_t disk_reserve);
void		pt_store_set_make_room(struct pt_store *, pt_room_fn,
		    void *arg);
enum pt_err	pt_store_make_room(struct pt_store *, uint64_t need);
/*
 * Make sure the map has "need" bytes past its last page (growing it by
 * that much, whatever the ceiling, as far as the disk allows): for an
 * operator's command, whose writes are small and must get in even when
 * the store is full (porterctl apply raising the ceiling).
 */
enum pt_err	pt_store_reserve(struct pt_store *, uint64_t need);
/*
 * Under a ceiling, and with a make_room function set, do the pages
 * holding data (used less free) come within the room kept for deletes of
 * it?  Then the owner deletes old logs as it writes, before any write
 * finds the store full.
 */
int		pt_store_near_ceiling(struct pt_store *);

/*
 * Several threads use the store: when another process has grown the map
 * beyond this one's, transactions then fail (PT_EFULL) and
 * pt_store_resized() turns true, for the caller to restart the process
 * (LMDB can only remap with no transaction open in the process).
 */
void		pt_store_set_threaded(struct pt_store *);
int		pt_store_resized(struct pt_store *);

/*
 * Are the applied configuration (tables config, endpoints) and the meta
 * table known unchanged without asking the store?  1 with an epoch that
 * moves whenever they may have changed (PostgreSQL, told by LISTEN/NOTIFY:
 * reading them costs round trips on every request), 0 when they must be
 * read (LMDB, where reading costs next to nothing).
 */
int		pt_store_meta_epoch(struct pt_store *, uint64_t *epoch);

/*
 * Transactions.  "parent" (write only; may be NULL) makes a nested
 * transaction whose changes join the parent's on commit or vanish on abort.
 * Commit and abort free the transaction.
 */
#define PT_TXN_READ	0
#define PT_TXN_WRITE	1
/*
 * With PT_TXN_WRITE: no nested transactions inside.  A nested transaction
 * is dear in LMDB (it copies every page it touches), and most writes never
 * need the partial rollback it gives.  So code that would contain a
 * partial failure in one instead returns PT_ERETRY when pt_txn_flat(), and
 * whoever began the transaction aborts it and runs the same work again in
 * one begun without the flag (pt_write does; see commit.h).
 */
#define PT_TXN_FLAT	2
enum pt_err	pt_txn_begin(struct pt_store *, struct pt_txn *parent,
		    int flags, struct pt_txn **out);
enum pt_err	pt_txn_commit(struct pt_txn *);
/* The store a transaction belongs to (for nested transactions). */
struct pt_store	*pt_txn_store(struct pt_txn *);
/* Was it begun with PT_TXN_FLAT? */
int		pt_txn_flat(const struct pt_txn *);
/* The error of its first failed write (commit will refuse), or PT_OK. */
enum pt_err	pt_txn_error(const struct pt_txn *);
void		pt_txn_abort(struct pt_txn *);

/* PT_ENOTFOUND when absent. */
enum pt_err	pt_get(struct pt_txn *, enum pt_table, const void *key,
		    size_t keylen, struct pt_val *val);
#define PT_PUT_NOOVERWRITE 0x1	/* PT_EEXIST when the key exists */
/*
 * The key is most likely the table's largest (time-ordered ids): fill the
 * last page instead of splitting it in half, as an ordinary insert does.
 * Any other key is put as usual.  With PT_PUT_NOOVERWRITE, an existing key
 * is damage, not a case to handle: LMDB answers PT_EEXIST at once, a
 * database backend may fail the transaction with it later (at the next
 * read or at commit) instead.
 */
#define PT_PUT_APPEND	0x2
enum pt_err	pt_put(struct pt_txn *, enum pt_table, const void *key,
		    size_t keylen, const void *val, size_t vallen, int flags);
/* PT_ENOTFOUND when absent. */
enum pt_err	pt_del(struct pt_txn *, enum pt_table, const void *key,
		    size_t keylen);
/*
 * Counters: an 8-byte big-endian value at "key" (absent, or not 8 bytes
 * long: as 0) gets "n" added (pt_add_u64), or becomes "n" unless it holds
 * more (pt_max_u64).  No read comes back: a database backend sends it
 * without waiting, its failure failing the transaction (commit refuses).
 */
enum pt_err	pt_add_u64(struct pt_txn *, enum pt_table, const void *key,
		    size_t keylen, uint64_t n);
enum pt_err	pt_max_u64(struct pt_txn *, enum pt_table, const void *key,
		    size_t keylen, uint64_t n);

/*
 * Cursors walk a table in key order.  pt_cursor_seek positions at the first
 * key >= "key" (PT_SEEK_GE) or the last key <= "key" (PT_SEEK_LE); a NULL key
 * means the first (GE) or last (LE) entry.  next/prev move one step.  All
 * return PT_ENOTFOUND when they run off the end.  pt_cursor_del deletes the
 * current entry; the following pt_cursor_next returns the entry that came
 * after it.
 */
#define PT_SEEK_GE 0
#define PT_SEEK_LE 1
enum pt_err	pt_cursor_open(struct pt_txn *, enum pt_table,
		    struct pt_cursor **out);
void		pt_cursor_close(struct pt_cursor *);
enum pt_err	pt_cursor_seek(struct pt_cursor *, const void *key,
		    size_t keylen, int how, struct pt_val *k, struct pt_val *v);
enum pt_err	pt_cursor_next(struct pt_cursor *, struct pt_val *k,
		    struct pt_val *v);
enum pt_err	pt_cursor_prev(struct pt_cursor *, struct pt_val *k,
		    struct pt_val *v);
enum pt_err	pt_cursor_del(struct pt_cursor *);

/*
 * Last engine error text of the calling thread, for logs ("MDB_MAP_FULL:
 * ...").  pt_store_set_errstr sets it: the group committer hands a job's
 * error text from its own thread to the thread waiting for the job.
 */
const char	*pt_store_errstr(void);
/*
 * Did the calling thread's last failed commit find the map full before
 * it wrote anything (so that running the same work again, once there is
 * room, cannot do it twice)?
 */
int		 pt_store_commit_unwritten(void);
void		 pt_store_set_errstr(const char *);

#endif
