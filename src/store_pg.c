/*
 * store_pg.c - the PostgreSQL backend of the storage interface (store.h,
 * store_int.h).  The only file that includes <libpq-fe.h>.
 *
 * Each pt_table is a table porter_<name> (k bytea primary key, v bytea):
 * bytea compares as unsigned bytes, shorter first, as LMDB does.  The
 * callers rely on one writer at a time (a read then a write inside a
 * write transaction, such as the idempotency check, is correct only if no
 * other writer runs between them), so every write transaction first takes
 * one transaction-level advisory lock: writers of every process on every
 * front server run one after another, exactly as LMDB's writers do on one
 * machine.  Write transactions are READ COMMITTED (WRITE_BEGIN); read
 * transactions REPEATABLE READ READ ONLY snapshots.  A writer commits
 * without waiting for the disk, which frees the lock at once; a durable
 * one then waits for its WAL flush outside the lock (flush_wal) before
 * pg_txn_commit returns, so no 2xx goes out before its flush.
 * Nested transactions are savepoints.
 *
 * Values handed out live in the PGresult they came in (or the write
 * buffer), kept until the transaction ends.  A process keeps a small pool
 * of connections (PORTER_PG_CONNECTIONS, default 8); a transaction holds
 * one.
 *
 * Round trips decide the speed, so writes do not wait: puts and counter
 * adds are held back per table (wbuf.h) and sent as one multi-row
 * statement a table, in pipeline mode, whose answers come with the next
 * statement that needs one (a read, a walk, COMMIT).  A read of a key
 * with a put held is answered from the buffer; a walk of a table, a
 * delete or an insert-if-absent sends the table's first.  A write the
 * server refuses so fails the transaction later than it would on LMDB,
 * at the next such statement or at commit: the same end (nothing of it
 * is written), for a failure that is the server's (full, gone), not the
 * caller's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "alloc.h"
#include "store_int.h"
#include "wbuf.h"

/* Porter's lock among the database's advisory locks ("porter" in hex). */
#define WRITER_LOCK	"7080727465720001"
#define SCHEMA_LOCK	"7080727465720002"
#define SCHEMA_VERSION	1
/*
 * Whatever the server's default (SERIALIZABLE on CockroachDB, or set by
 * an administrator): a write sees each commit made before its statement,
 * so that what the writer lock serialises is read fresh.  Under REPEATABLE
 * READ or SERIALIZABLE the snapshot would be taken by the statement that
 * waits for the lock, before the writer ahead of it committed, and the
 * first write of a row it changed would fail (40001).
 */
#define WRITE_BEGIN	"BEGIN ISOLATION LEVEL READ COMMITTED"
/*
 * What a commit that changed a watched table NOTIFYs (pg_meta_epoch): the
 * configuration and meta, written by apply and seldom else (dictionaries,
 * the action index's backfill).
 */
#define WATCHED(t)	((t) == PT_T_CONFIG || (t) == PT_T_ENDPOINTS || \
			    (t) == PT_T_META)
#define CONFIG_CHANNEL	"porter_config"
#define WATCH_RETRY_MS	1000
#define POOL_DEFAULT	8
#define POOL_WAIT_S	10
#define MAX_KEY		511	/* as LMDB's: the callers size keys for it */
#define BATCH_MAX	256
#define PIPE_MAX	512	/* writes piped before their answers are read */
/*
 * stat counts a table's rows up to about this many; a larger one is the
 * server's estimate (pg_class.reltuples, kept by autovacuum): /healthz and
 * /metrics must not scan millions of rows.
 */
#define COUNT_EXACT	200000

/* (Statements from OP_GE on take a LIMIT.) */
enum op { OP_GET, OP_PUT, OP_PUTNX, OP_INSERT, OP_DEL, OP_ADD, OP_MAX,
    OP_GE, OP_GT, OP_LE, OP_LT, OP_FIRST, OP_LAST, OP__MAX };

/* A value of 8 bytes, big-endian, as a bigint. */
#define U64(v)	"('x' || encode(" v ", 'hex'))::bit(64)::bigint"
#define ROWS	"SELECT * FROM unnest($1::bytea[], $2::bytea[]) "
/* The statement that sends a table's held writes of each kind. */
static const enum op wop_op[PT_WOP__MAX] = {
	[PT_WOP_PUT] = OP_PUT, [PT_WOP_INSERT] = OP_INSERT,
	[PT_WOP_ADD] = OP_ADD, [PT_WOP_MAX] = OP_MAX,
};
/* Held writes are sent once this many, or bytes, are held. */
#define HOLD_MAX	4096
#define HOLD_BYTES	(4u << 20)


static const char *const op_sql[OP__MAX] = {
	[OP_GET] = "SELECT v FROM porter_%s WHERE k = $1",
	/*
	 * A table's held writes (wbuf.h), one statement a kind: keys and
	 * values as two bytea[], unique keys.
	 */
	[OP_PUT] = "INSERT INTO porter_%s (k, v) " ROWS
	    "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
	[OP_PUTNX] = "INSERT INTO porter_%s (k, v) VALUES ($1, $2) "
	    "ON CONFLICT (k) DO NOTHING",
	/* New keys: one that exists fails the transaction. */
	[OP_INSERT] = "INSERT INTO porter_%s (k, v) " ROWS,
	[OP_DEL] = "DELETE FROM porter_%s WHERE k = $1",
	/* Counters added to, and raised, on the server: no read first. */
	[OP_ADD] = "INSERT INTO porter_%s AS t (k, v) " ROWS
	    "ON CONFLICT (k) DO UPDATE SET v = CASE WHEN length(t.v) = 8 "
	    "THEN int8send(" U64("t.v") " + " U64("EXCLUDED.v") ") "
	    "ELSE EXCLUDED.v END",
	[OP_MAX] = "INSERT INTO porter_%s AS t (k, v) " ROWS
	    "ON CONFLICT (k) DO UPDATE SET v = CASE WHEN length(t.v) = 8 AND "
	    U64("t.v") " >= " U64("EXCLUDED.v") " THEN t.v ELSE EXCLUDED.v "
	    "END",
	[OP_GE] = "SELECT k, v FROM porter_%s WHERE k >= $1 ORDER BY k "
	    "LIMIT $2",
	[OP_GT] = "SELECT k, v FROM porter_%s WHERE k > $1 ORDER BY k LIMIT $2",
	[OP_LE] = "SELECT k, v FROM porter_%s WHERE k <= $1 ORDER BY k DESC "
	    "LIMIT $2",
	[OP_LT] = "SELECT k, v FROM porter_%s WHERE k < $1 ORDER BY k DESC "
	    "LIMIT $2",
	[OP_FIRST] = "SELECT k, v FROM porter_%s ORDER BY k LIMIT $1",
	[OP_LAST] = "SELECT k, v FROM porter_%s ORDER BY k DESC LIMIT $1",
};

struct pg_conn {
	PGconn		*conn;
	struct pg_conn	*next;		/* in the idle list */
	unsigned char	 prepared[PT_T__MAX][OP__MAX];
	/*
	 * Writes sent in pipeline mode whose results are not read yet
	 * (send_table), and the transaction they belong to: read with the
	 * next statement that needs an answer (finish).
	 */
	unsigned	 piped;
	struct pg_txn	*piped_txn;
	int		 spoilt;	/* a pipeline failed: close, not pool */
};

struct pg_store {
	struct pt_store		 pub;
	char			*uri;
	enum pt_durability	 durability;
	/*
	 * Can a durable writer commit without waiting and flush after the
	 * lock is released (flush_wal)?  It needs pg_logical_emit_message
	 * (PostgreSQL 9.6 on; not every server that speaks the protocol):
	 * -1 not asked yet, 0 no, 1 yes.  Atomic.
	 */
	int			 late_flush;
	pthread_mutex_t		 lock;
	pthread_cond_t		 freed;
	struct pg_conn		*idle;
	unsigned		 open, max;
	/*
	 * The watcher of the configuration and meta (pg_meta_epoch): a
	 * thread on a connection of its own that LISTENs on CONFIG_CHANNEL.
	 * "epoch" moves at every notification and whenever the watcher may
	 * have missed one (connecting again); "watch_ok" while it listens.
	 */
	int			 listen;	/* opts.watch, PORTER_PG_LISTEN */
	int			 watching;	/* the thread was started */
	pthread_t		 watcher;
	int			 wake[2];	/* a pipe: close wakes it */
	int			 stop;		/* atomic */
	uint64_t		 epoch;		/* atomic */
	int			 watch_ok;	/* atomic */
};

/* What a transaction and its savepoints keep until the end. */
struct pg_keep {
	PGresult	*res;
	struct pg_keep	*next;
};

struct pg_txn {
	struct pt_txn	 pub;
	struct pg_store	*store;
	struct pg_conn	*c;
	struct pg_txn	*root;		/* the top-level transaction */
	unsigned	 depth;		/* 0 top level, else savepoint n */
	unsigned	 writes;	/* writes so far (cursors refetch) */
	int		 notify;	/* root: a WATCHED table changed */
	int		 flush;		/* root: wait for the WAL after COMMIT */
	struct pg_keep	*keep;		/* root only */
	struct pt_wbuf	*wb;		/* root: writes held back, or NULL */
};

struct pg_cursor {
	struct pt_cursor pub;
	struct pg_txn	*txn;
	enum pt_table	 tab;
	PGresult	*res;		/* the batch (kept by the root) */
	int		 row, nrows;	/* position in it */
	int		 dir;		/* 1: the batch ascends, -1 descends */
	int		 full;		/* the batch reached its limit */
	unsigned	 writes;	/* txn writes when fetched */
	int		 have;		/* "key" is the current entry */
	unsigned char	 key[MAX_KEY];
	size_t		 keylen;
	int		 deleted;	/* the current entry was deleted */
};

static enum pt_err	send_all(struct pg_txn *);

/* Map a failed result (or a lost connection) to pt_err, with its text. */
static enum pt_err
pg_rc(PGconn *conn, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res,
	    PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res && *PQresultErrorMessage(res) ?
	    PQresultErrorMessage(res) : PQerrorMessage(conn);
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	pt_store_errf("%s: %.*s%s%s", what, (int)n, msg, state ? " SQLSTATE " :
	    "", state ? state : "");
	if (PQstatus(conn) != CONNECTION_OK || state == NULL)
		return PT_EBUSY;	/* the server went: retry later */
	if (strcmp(state, "53100") == 0)
		return PT_EFULL;	/* disk full */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "25006") == 0)
		return PT_EBUSY;
	if (strcmp(state, "23505") == 0)
		return PT_EEXIST;
	if (strcmp(state, "54000") == 0)
		return PT_ETOOBIG;
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "42", 2) == 0)
		return PT_EINVAL;
	return PT_EIO;
}

/* Run "sql" (simple protocol, several statements allowed). */
static enum pt_err
pg_exec(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	enum pt_err rc = PT_OK;
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_rc(conn, res, what);
	PQclear(res);
	return rc;
}

/*
 * Create the tables when they are missing (one process at a time), or
 * check the schema's version.  Read-only: only check.
 */
static enum pt_err
pg_schema(PGconn *conn, int read_only, char *errbuf, size_t errlen)
{
	char sql[256];
	PGresult *res;
	enum pt_err rc;
	int t, v = 0;

	res = PQexec(conn, "SELECT version FROM porter_schema");
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v == SCHEMA_VERSION)
		return PT_OK;
	if (v > SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "the database holds Porter schema "
		    "version %d, newer than this Porter's %d", v,
		    SCHEMA_VERSION);
		return PT_EINVAL;
	}
	if (read_only) {
		snprintf(errbuf, errlen, "the database has no Porter tables: "
		    "run porterctl --db URI migrate");
		return PT_ENOTFOUND;
	}
	if ((rc = pg_exec(conn, WRITE_BEGIN "; SELECT pg_advisory_xact_lock(x'"
	    SCHEMA_LOCK "'::bigint); CREATE TABLE IF NOT EXISTS porter_schema "
	    "(version integer NOT NULL)", "creating the schema")) != PT_OK)
		goto fail;
	for (t = 0; t < PT_T__MAX; t++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS "
		    "porter_%s (k bytea PRIMARY KEY, v bytea NOT NULL)",
		    pt_table_name((enum pt_table)t));
		if ((rc = pg_exec(conn, sql, "creating the schema")) != PT_OK)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "DELETE FROM porter_schema; INSERT INTO "
	    "porter_schema VALUES (%d); COMMIT", SCHEMA_VERSION);
	if ((rc = pg_exec(conn, sql, "creating the schema")) != PT_OK)
		goto fail;
	return PT_OK;
fail:
	snprintf(errbuf, errlen, "%s%s", pt_store_errstr(), strstr(
	    pt_store_errstr(), "42501") ? " (this role may not create "
	    "Porter's tables: run porterctl migrate as one that may)" : "");
	(void)pg_exec(conn, "ROLLBACK", "rollback");
	return rc;
}

static PGconn *
pg_connect(const char *uri, char *errbuf, size_t errlen)
{
	PGconn *conn = PQconnectdb(uri);

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	snprintf(errbuf, errlen, "cannot connect to PostgreSQL: %s",
	    conn ? PQerrorMessage(conn) : "out of memory");
	/* libpq's messages end with a newline. */
	errbuf[strcspn(errbuf, "\n")] = '\0';
	PQfinish(conn);
	return NULL;
}

/* A connection of the pool, connecting when none is idle. */
static enum pt_err
conn_get(struct pg_store *s, struct pg_conn **out)
{
	struct pg_conn *c = NULL;
	struct timespec until;
	char err[256];
	int rc = 0, reserved = 0;

	*out = NULL;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_WAIT_S;
	pthread_mutex_lock(&s->lock);
	while (s->idle == NULL && s->open >= s->max && rc == 0)
		rc = pthread_cond_timedwait(&s->freed, &s->lock, &until);
	if (s->idle != NULL) {
		c = s->idle;
		s->idle = c->next;
	} else if (s->open < s->max) {
		s->open++;
		reserved = 1;
	}
	pthread_mutex_unlock(&s->lock);
	if (c == NULL && !reserved) {
		pt_store_errf("all %u PostgreSQL connections of this process "
		    "are busy (PORTER_PG_CONNECTIONS)", s->max);
		return PT_EBUSY;
	}
	if (c == NULL) {
		if ((c = pt_calloc(1, sizeof(*c))) == NULL ||
		    (c->conn = pg_connect(s->uri, err, sizeof(err))) == NULL) {
			if (c != NULL)
				pt_store_set_errstr(err);
			pt_free(c);
			pthread_mutex_lock(&s->lock);
			s->open--;
			pthread_cond_signal(&s->freed);
			pthread_mutex_unlock(&s->lock);
			return c == NULL ? PT_ENOMEM : PT_EBUSY;
		}
	}
	*out = c;
	return PT_OK;
}

/* Back to the pool; a connection that broke or is inside a transaction
 * (a lost ROLLBACK) is closed instead. */
static void
conn_put(struct pg_store *s, struct pg_conn *c)
{
	int keep = PQstatus(c->conn) == CONNECTION_OK &&
	    PQtransactionStatus(c->conn) == PQTRANS_IDLE && !c->spoilt &&
	    PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF;

	if (!keep) {
		PQfinish(c->conn);
		pt_free(c);
	}
	pthread_mutex_lock(&s->lock);
	if (keep) {
		c->next = s->idle;
		s->idle = c;
	} else
		s->open--;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

static const struct pt_backend pg_backend;

enum pt_err
pt_pg_open(const char *uri, const struct pt_store_opts *opts,
    struct pt_store **out, char *errbuf, size_t errlen)
{
	struct pg_store *s;
	struct pg_conn *c;
	const char *env = getenv("PORTER_PG_CONNECTIONS");
	enum pt_err rc;
	long n;

	*out = NULL;
	if ((s = pt_calloc(1, sizeof(*s))) == NULL ||
	    (s->uri = strdup(uri)) == NULL) {
		pt_free(s);
		snprintf(errbuf, errlen, "out of memory");
		return PT_ENOMEM;
	}
	s->pub.be = &pg_backend;
	s->pub.read_only = opts ? opts->read_only : 0;
	s->durability = opts ? opts->durability : PT_DURABLE_FULL;
	s->late_flush = -1;
	s->max = POOL_DEFAULT;
	if (env != NULL && *env) {
		char *end;

		n = strtol(env, &end, 10);
		if (*end != '\0' || n < 2 || n > 1000) {
			snprintf(errbuf, errlen, "PORTER_PG_CONNECTIONS=%s: "
			    "want a number from 2 to 1000", env);
			free(s->uri);
			pt_free(s);
			return PT_EINVAL;
		}
		s->max = (unsigned)n;
	}
	env = getenv("PORTER_PG_LISTEN");
	s->listen = opts != NULL && opts->watch && !s->pub.read_only &&
	    (env == NULL || strcmp(env, "0") != 0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	if ((rc = conn_get(s, &c)) != PT_OK) {
		snprintf(errbuf, errlen, "%s", pt_store_errstr());
		goto fail;
	}
	rc = pg_schema(c->conn, s->pub.read_only, errbuf, errlen);
	conn_put(s, c);
	if (rc != PT_OK)
		goto fail;
	*out = &s->pub;
	return PT_OK;
fail:
	s->pub.be->close(&s->pub);
	return rc;
}

static void
pg_close(struct pt_store *ps)
{
	struct pg_store *s = (struct pg_store *)ps;
	struct pg_conn *c;

	if (s->watching) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		(void)!write(s->wake[1], "", 1);
		pthread_join(s->watcher, NULL);
		close(s->wake[0]);
		close(s->wake[1]);
	}

	while ((c = s->idle) != NULL) {
		s->idle = c->next;
		PQfinish(c->conn);
		pt_free(c);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s->uri);
	pt_free(s);
}

/*
 * A transaction that waits for the WAL flush must have written WAL before
 * its commit: PostgreSQL commits one that only took an xid (SELECT
 * pg_current_xact_id()) without flushing (measured: pg_stat_wal.wal_sync
 * does not move).  A transactional logical message is WAL, takes an xid
 * and touches no table, so flushers never wait on each other's rows.
 */
#define FLUSH_SQL	"SELECT pg_logical_emit_message(true, 'porter', '')"

/* Is FLUSH_SQL there (and ours to call)?  Asked once a process. */
static int
late_flush(struct pg_store *s, PGconn *conn)
{
	int v = __atomic_load_n(&s->late_flush, __ATOMIC_RELAXED);
	PGresult *res;

	if (v >= 0)
		return v;
	/* Not transactional: no xid, nothing flushed, nothing to undo. */
	res = PQexec(conn, "SELECT pg_logical_emit_message(false, 'porter', "
	    "'')");
	v = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	if (PQstatus(conn) != CONNECTION_OK)
		return 0;	/* not known yet: ask again next time */
	__atomic_store_n(&s->late_flush, v, __ATOMIC_RELAXED);
	return v;
}

/*
 * Make every commit so far durable: a commit that waits for its WAL
 * flushes the WAL of the asynchronous commits before it too.  Without
 * FLUSH_SQL, a row of Porter's meta is written instead.
 */
static enum pt_err
pg_sync(struct pt_store *ps)
{
	struct pg_store *s = (struct pg_store *)ps;
	struct pg_conn *c;
	enum pt_err rc;

	if (s->pub.read_only)
		return PT_OK;
	if ((rc = conn_get(s, &c)) != PT_OK)
		return rc;
	rc = pg_exec(c->conn, late_flush(s, c->conn) ? "BEGIN; SET LOCAL "
	    "synchronous_commit TO on; " FLUSH_SQL "; COMMIT" : "BEGIN; SET "
	    "LOCAL synchronous_commit TO on; INSERT INTO porter_meta (k, v) "
	    "VALUES ('store:sync', '') ON CONFLICT (k) DO UPDATE SET v = "
	    "EXCLUDED.v; COMMIT", "sync");
	conn_put(s, c);
	return rc;
}

static void
pg_set_durability(struct pt_store *ps, enum pt_durability d)
{
	struct pg_store *s = (struct pg_store *)ps;

	if (d == PT_DURABLE_FULL && s->durability != d)
		(void)pg_sync(ps);
	s->durability = d;
}

static enum pt_err
pg_stat(struct pt_store *ps, struct pt_store_stat *st)
{
	struct pg_store *s = (struct pg_store *)ps;
	struct pg_conn *c;
	PGresult *res;
	enum pt_err rc;
	char sql[8192];
	struct timespec t0, t1;
	size_t n = 0;
	int t;

	memset(st, 0, sizeof(*st));
	st->room = UINT64_MAX;
	st->room_at_full = UINT64_MAX;
	st->read_only = s->pub.read_only;
	st->max_readers = s->max;
	if ((rc = conn_get(s, &c)) != PT_OK)
		return rc;
	snprintf(st->server, sizeof(st->server), "PostgreSQL %s",
	    PQparameterStatus(c->conn, "server_version") ?
	    PQparameterStatus(c->conn, "server_version") : "?");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = pg_exec(c->conn, "SELECT 1", "stat")) != PT_OK) {
		conn_put(s, c);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->round_trip_us = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	n = (size_t)snprintf(sql, sizeof(sql), "SELECT "
	    "pg_database_size(current_database())");
	for (t = 0; t < PT_T__MAX && n < sizeof(sql); t++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", (SELECT "
		    "CASE WHEN reltuples > %d THEN reltuples::bigint ELSE "
		    "(SELECT count(*) FROM porter_%s) END FROM pg_class "
		    "WHERE oid = 'porter_%s'::regclass)", COUNT_EXACT,
		    pt_table_name((enum pt_table)t),
		    pt_table_name((enum pt_table)t));
	res = PQexec(c->conn, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_rc(c->conn, res, "stat");
	else {
		st->used = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		st->map_size = 0;	/* no map: the server's disk */
		for (t = 0; t < PT_T__MAX; t++)
			st->entries[t] = strtoull(PQgetvalue(res, 0, t + 1),
			    NULL, 10);
	}
	PQclear(res);
	pthread_mutex_lock(&s->lock);
	st->readers = s->open;
	pthread_mutex_unlock(&s->lock);
	conn_put(s, c);
	return rc;
}

/* The database has no map to fill: the server's disk is its limit. */
static uint64_t
pg_room(struct pt_store *ps)
{
	(void)ps;
	return UINT64_MAX;
}

static enum pt_err
pg_check_room(struct pt_store *ps, uint64_t need)
{
	return pt_store_has_room(ps, need);
}

static void
pg_set_limits(struct pt_store *ps, uint64_t ceiling, uint64_t reserve)
{
	(void)ps;
	(void)ceiling;
	(void)reserve;
}

static void
pg_set_make_room(struct pt_store *ps, pt_room_fn fn, void *arg)
{
	(void)ps;
	(void)fn;
	(void)arg;
}

/* A full disk on the server is not ours to free: the write fails (503). */
static enum pt_err
pg_make_room(struct pt_store *ps, uint64_t need)
{
	(void)ps;
	(void)need;
	return PT_EFULL;
}

static enum pt_err
pg_reserve(struct pt_store *ps, uint64_t need)
{
	(void)ps;
	(void)need;
	return PT_OK;
}

static int
pg_near_ceiling(struct pt_store *ps)
{
	(void)ps;
	return 0;
}

static void
pg_set_threaded(struct pt_store *ps)
{
	(void)ps;
}

static int
pg_resized(struct pt_store *ps)
{
	(void)ps;
	return 0;
}

/* Remember a failed write: commit refuses, as LMDB's does. */
static enum pt_err
write_failed(struct pg_txn *t, enum pt_err e)
{
	if (e != PT_ENOTFOUND && e != PT_EEXIST && !t->pub.failed) {
		t->pub.failed = 1;
		t->pub.fail_rc = e;
	}
	return e;
}

/*
 * End the pipeline: a sync, then the results of the piped writes (the
 * first failure is their transaction's, as if the write had returned it)
 * and, when "last" is not NULL, of the statement sent after them, into
 * *last.  One round trip for all.  The first failure's rc, else PT_OK.
 */
static enum pt_err
finish(struct pg_conn *c, PGresult **last)
{
	PGconn *conn = c->conn;
	PGresult *res;
	enum pt_err rc = PT_OK;
	unsigned i, n = c->piped + (last != NULL);
	ExecStatusType st;

	if (last != NULL)
		*last = NULL;
	if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
		return PT_OK;
	if (PQpipelineSync(conn) != 1) {
		rc = pg_rc(conn, NULL, "pipeline");
		c->spoilt = 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((res = PQgetResult(conn)) == NULL) {
			rc = rc != PT_OK ? rc : pg_rc(conn, NULL, "pipeline");
			c->spoilt = 1;
			goto out;
		}
		st = PQresultStatus(res);
		if (i == c->piped && last != NULL && rc == PT_OK)
			*last = res;		/* the caller's to read */
		else {
			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
			    rc == PT_OK) {
				rc = st == PGRES_PIPELINE_ABORTED ? PT_EIO :
				    pg_rc(conn, res, "write");
				c->spoilt = 1;
			}
			PQclear(res);
		}
		/* Each statement's results end with a NULL. */
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
	}
	res = PQgetResult(conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		c->spoilt = 1;
	PQclear(res);
	if (PQexitPipelineMode(conn) != 1)
		c->spoilt = 1;
out:
	/* Whatever failed (an existing key too): the transaction has. */
	if (rc != PT_OK && c->piped_txn != NULL && !c->piped_txn->pub.failed) {
		c->piped_txn->pub.failed = 1;
		c->piped_txn->pub.fail_rc = rc;
	}
	c->piped = 0;
	c->piped_txn = NULL;
	return rc;
}

/* A simple-protocol statement of transaction "t", after what is piped. */
static enum pt_err
txn_exec(struct pg_txn *t, const char *sql, const char *what)
{
	(void)finish(t->c, NULL);
	return pg_exec(t->c->conn, sql, what);
}

/*
 * BEGIN write transaction "t" without waiting: its statements, the lock
 * among them, go in the pipeline and are answered with the first one
 * that needs an answer (a read, COMMIT): a round trip fewer a
 * transaction.  Their failure is the transaction's, found there.
 * "async": commit without waiting for the WAL flush.
 */
static enum pt_err
begin_piped(struct pg_txn *t, int async)
{
	static const char *const sql[] = { WRITE_BEGIN,
	    "SET LOCAL synchronous_commit TO off",
	    "SELECT pg_advisory_xact_lock(x'" WRITER_LOCK "'::bigint)" };
	PGconn *conn = t->c->conn;
	enum pt_err rc;
	size_t i;

	if (PQenterPipelineMode(conn) != 1)
		return pg_rc(conn, NULL, "begin");
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (i == 1 && !async)
			continue;
		if (PQsendQueryParams(conn, sql[i], 0, NULL, NULL, NULL, NULL,
		    0) != 1) {
			rc = pg_rc(conn, NULL, "begin");
			(void)finish(t->c, NULL);
			return rc;
		}
		t->c->piped++;
		t->c->piped_txn = t;
	}
	return PT_OK;
}

static enum pt_err
pg_txn_begin(struct pt_store *ps, struct pt_txn *pparent, int flags,
    struct pt_txn **out)
{
	struct pg_store *s = (struct pg_store *)ps;
	struct pg_txn *parent = (struct pg_txn *)pparent, *t;
	char sql[160];
	enum pt_err rc;

	*out = NULL;
	if ((t = pt_calloc(1, sizeof(*t))) == NULL)
		return PT_ENOMEM;
	pt_txn_init(&t->pub, ps, flags);
	t->store = s;
	if (parent != NULL) {
		t->c = parent->c;
		t->root = parent->root;
		t->depth = parent->depth + 1;
		snprintf(sql, sizeof(sql), "SAVEPOINT s%u", t->depth);
		/* The parent's held writes are the parent's: before it. */
		(void)send_all(parent);
		if ((rc = txn_exec(t, sql, "savepoint")) != PT_OK) {
			pt_free(t);
			return rc;
		}
		*out = &t->pub;
		return PT_OK;
	}
	t->root = t;
	if ((rc = conn_get(s, &t->c)) != PT_OK) {
		pt_free(t);
		return rc;
	}
	/*
	 * Writers one at a time, across every process and server.  Each
	 * commits without waiting for its WAL flush, which releases the lock
	 * at once; a durable one then waits for the flush outside the lock
	 * (flush_wal), so the next writer works while the disk does.
	 */
	if (t->pub.write) {
		t->flush = s->durability == PT_DURABLE_FULL &&
		    late_flush(s, t->c->conn);
		rc = begin_piped(t, s->durability == PT_DURABLE_RELAXED ||
		    t->flush);
	} else
		rc = pg_exec(t->c->conn, "BEGIN ISOLATION LEVEL REPEATABLE "
		    "READ READ ONLY", "begin");
	if (rc != PT_OK) {
		conn_put(s, t->c);
		pt_free(t);
		return rc;
	}
	*out = &t->pub;
	return PT_OK;
}

static void
txn_end(struct pg_txn *t)
{
	struct pg_keep *k;

	if (t->depth == 0) {
		while ((k = t->keep) != NULL) {
			t->keep = k->next;
			PQclear(k->res);
			pt_free(k);
		}
		pt_wbuf_free(t->wb);
		conn_put(t->store, t->c);
	}
	pt_free(t);
}

/*
 * What COMMIT answered.  A transaction a failed statement aborted is
 * rolled back by COMMIT, with no error but its tag: that is no commit.
 */
static enum pt_err
commit_answer(PGconn *conn, PGresult *res)
{
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_rc(conn, res, "commit");
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		pt_store_errf("COMMIT: the server rolled the transaction back "
		    "(one of its statements had failed)");
		return PT_EBUSY;
	}
	return PT_OK;
}

/*
 * COMMIT (and NOTIFY) sent after the piped writes, one round trip for all.
 * PT_ERETRY when a write failed (the transaction is to be rolled back),
 * else COMMIT's outcome.
 */
static enum pt_err
piped_commit(struct pg_txn *t)
{
	PGconn *conn = t->c->conn;
	PGresult *res;
	enum pt_err rc;

	int sent = 1;

	if (t->notify) {
		sent = PQsendQueryParams(conn, "NOTIFY " CONFIG_CHANNEL, 0, NULL,
		    NULL, NULL, NULL, 0) == 1;
		t->c->piped += sent;	/* read before COMMIT's */
	}
	if (!sent || PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL,
	    NULL, 0) != 1) {
		rc = pg_rc(conn, NULL, "commit");
		(void)finish(t->c, NULL);
		return rc;
	}
	if (finish(t->c, &res) != PT_OK) {
		PQclear(res);
		/* The server answered and took nothing; or it went. */
		return PQstatus(conn) == CONNECTION_OK ? PT_ERETRY : PT_EBUSY;
	}
	rc = commit_answer(conn, res);
	PQclear(res);
	return rc;
}

/*
 * Wait until transaction "t"'s commit, made asynchronously, is on disk:
 * FLUSH_SQL commits with the session's synchronous_commit (the server's),
 * and its commit record comes after ours in the WAL, so its flush is ours
 * too (and a synchronous standby's confirmation).
 * Committed but not known flushed is an unknown outcome: PT_EBUSY, and
 * the caller must neither answer 2xx nor run it again.
 */
static enum pt_err
flush_wal(struct pg_txn *t)
{
	if (pg_exec(t->c->conn, FLUSH_SQL, "flush") == PT_OK)
		return PT_OK;
	pt_store_errf("PostgreSQL committed, but the WAL flush that makes it "
	    "durable was not confirmed: whether it survives a crash is "
	    "unknown");
	return PT_EBUSY;
}

static enum pt_err
pg_txn_commit(struct pt_txn *pt)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	PGconn *conn = t->c->conn;
	PGresult *res;
	char sql[96];
	enum pt_err rc;

	pt_store_set_unwritten(0);
	/* A savepoint's writes answer before it ends. */
	if (!t->pub.failed)
		(void)send_all(t);
	if (t->depth > 0)
		(void)finish(t->c, NULL);
	if (t->pub.failed) {
		if (t->root->wb != NULL)
			pt_wbuf_clear(t->root->wb, PT_T__MAX);
		rc = t->pub.fail_rc;
		if (t->depth == 0)
			(void)txn_exec(t, "ROLLBACK", "rollback");
		else {
			snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT s%u; "
			    "RELEASE SAVEPOINT s%u", t->depth, t->depth);
			(void)pg_exec(conn, sql, "rollback to savepoint");
		}
		if (t->depth == 0)
			pt_store_set_unwritten(1);
		txn_end(t);
		return rc;
	}
	if (t->depth > 0) {
		snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT s%u", t->depth);
		rc = pg_exec(conn, sql, "release savepoint");
		if (rc != PT_OK && !t->root->pub.failed) {
			t->root->pub.failed = 1;
			t->root->pub.fail_rc = rc;
		}
		txn_end(t);
		return rc;
	}
	if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF)
		rc = piped_commit(t);
	else {
		res = PQexec(conn, t->notify ? "NOTIFY " CONFIG_CHANNEL
		    "; COMMIT" : "COMMIT");
		rc = commit_answer(conn, res);
		PQclear(res);
	}
	if (rc == PT_ERETRY) {
		/* A piped write failed: nothing was written. */
		rc = t->pub.fail_rc;
		(void)pg_exec(conn, "ROLLBACK", "rollback");
		pt_store_set_unwritten(1);
		txn_end(t);
		return rc;
	}
	/*
	 * The server answered: it committed or it rolled back (nothing
	 * written).  No answer (the connection went during COMMIT): the
	 * outcome is unknown, and the caller must not run it again.
	 */
	if (rc == PT_OK && t->flush)
		rc = flush_wal(t);
	else if (rc != PT_OK && PQstatus(conn) == CONNECTION_OK)
		pt_store_set_unwritten(1);
	else if (rc != PT_OK)
		pt_store_errf("the connection to PostgreSQL was lost during "
		    "COMMIT: whether it committed is unknown");
	txn_end(t);
	return rc;
}

static void
pg_txn_abort(struct pt_txn *pt)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	char sql[96];

	/* What it holds is its own (a savepoint began after the rest). */
	if (t->root->wb != NULL)
		pt_wbuf_clear(t->root->wb, PT_T__MAX);
	if (t->depth == 0)
		(void)txn_exec(t, "ROLLBACK", "rollback");
	else {
		snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT s%u; "
		    "RELEASE SAVEPOINT s%u", t->depth, t->depth);
		(void)txn_exec(t, sql, "rollback to savepoint");
	}
	txn_end(t);
}

static void
stmt_name(enum pt_table tab, enum op op, char name[32])
{
	snprintf(name, 32, "p%d_%d", (int)tab, (int)op);
}

/*
 * Statement "op" on "tab", prepared once per connection as "name" (in
 * the pipeline when one is open: its answer is read with the rest).
 */
static enum pt_err
prepare(struct pg_txn *t, enum pt_table tab, enum op op, char name[32])
{
	PGconn *conn = t->c->conn;
	/* The table's name where the text has "%s". */
	const char *at = strstr(op_sql[op], "%s");
	char sql[512];
	PGresult *res;
	enum pt_err rc;

	stmt_name(tab, op, name);
	if (t->c->prepared[tab][op])
		return PT_OK;
	if ((size_t)snprintf(sql, sizeof(sql), "%.*s%s%s", (int)(at -
	    op_sql[op]), op_sql[op], pt_table_name(tab), at + 2) >=
	    sizeof(sql)) {
		pt_store_errf("statement %d on %s: too long", (int)op,
		    pt_table_name(tab));
		return PT_EINVAL;
	}
	if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
		if (PQsendPrepare(conn, name, sql, 0, NULL) != 1) {
			rc = pg_rc(conn, NULL, "prepare");
			(void)finish(t->c, NULL);
			return rc;
		}
		t->c->piped++;
	} else {
		res = PQprepare(conn, name, sql, 0, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_rc(conn, res, "prepare");
			PQclear(res);
			return rc;
		}
		PQclear(res);
	}
	t->c->prepared[tab][op] = 1;
	return PT_OK;
}

/*
 * Send table "tab"'s held writes, one statement a kind, in pipeline mode:
 * their answers are read with the next statement that needs one (a read,
 * a delete, COMMIT), in the same round trip.  A failure then fails the
 * transaction, as a failed put does (commit refuses).
 */
static enum pt_err
send_table(struct pg_txn *t, enum pt_table tab)
{
	struct pt_wbuf *wb = t->root->wb;
	PGconn *conn = t->c->conn;
	struct pt_buf keys = { 0 }, vals = { 0 };
	const char *pv[2];
	int lens[2], fmts[2] = { 1, 1 }, op;
	char name[32];
	enum pt_err rc = PT_OK;

	if (wb == NULL || pt_wbuf_count(wb, tab) == 0)
		return PT_OK;
	/* Bounded: results the server cannot send us block it, then us. */
	if (t->c->piped >= PIPE_MAX && finish(t->c, NULL) != PT_OK)
		rc = t->pub.fail_rc;
	else if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(conn) != 1)
		rc = pg_rc(conn, NULL, "pipeline");
	for (op = 0; rc == PT_OK && op < PT_WOP__MAX; op++) {
		pt_buf_reset(&keys);
		pt_buf_reset(&vals);
		if (pt_wbuf_arrays(wb, tab, (enum pt_wop)op, &keys, &vals) == 0)
			continue;
		if (keys.failed || vals.failed) {
			rc = PT_ENOMEM;
			break;
		}
		if ((rc = prepare(t, tab, wop_op[op], name)) != PT_OK)
			break;
		pv[0] = keys.data;
		pv[1] = vals.data;
		lens[0] = (int)keys.len;
		lens[1] = (int)vals.len;
		if (PQsendQueryPrepared(conn, name, 2, pv, lens, fmts, 1) != 1) {
			rc = pg_rc(conn, NULL, "write");
			(void)finish(t->c, NULL);
			break;
		}
		t->c->piped++;
		t->c->piped_txn = t;
	}
	pt_buf_free(&keys);
	pt_buf_free(&vals);
	pt_wbuf_clear(wb, tab);
	return rc == PT_OK ? PT_OK : write_failed(t, rc);
}

/* Every table's held writes (before a savepoint, a savepoint's end,
 * COMMIT). */
static enum pt_err
send_all(struct pg_txn *t)
{
	enum pt_err rc = PT_OK;
	int tab;

	if (t->root->wb == NULL)
		return PT_OK;
	for (tab = 0; tab < PT_T__MAX && rc == PT_OK; tab++)
		rc = send_table(t, (enum pt_table)tab);
	return rc;
}

/*
 * A write whose answer nobody waits for (a put, a counter's add): held
 * back (wbuf.h) to go with the table's others, unless it does not merge
 * with the key's held one (then the table's go first).
 */
static enum pt_err
hold(struct pg_txn *t, enum pt_table tab, enum pt_wop op, const void *key,
    size_t keylen, const void *val, size_t vallen)
{
	struct pg_txn *r = t->root;
	enum pt_err rc;
	int x;

	if (t->pub.failed)
		return t->pub.fail_rc;
	if (r->wb == NULL && (r->wb = pt_wbuf_new()) == NULL)
		return write_failed(t, PT_ENOMEM);
	if ((x = pt_wbuf_add(r->wb, tab, op, key, keylen, val, vallen)) == 1) {
		if ((rc = send_table(t, tab)) != PT_OK)
			return rc;
		x = pt_wbuf_add(r->wb, tab, op, key, keylen, val, vallen);
	}
	if (x != 0)
		return write_failed(t, PT_ENOMEM);
	if (pt_wbuf_count(r->wb, PT_T__MAX) >= HOLD_MAX ||
	    pt_wbuf_bytes(r->wb) >= HOLD_BYTES)
		return send_all(t);
	return PT_OK;
}

/*
 * Run statement "op" on table "tab" with up to two bytea parameters and
 * an int limit.  A result with rows is kept by the transaction (*res);
 * else it is cleared.  Statements are prepared once per connection.
 */
static enum pt_err
run(struct pg_txn *t, enum pt_table tab, enum op op, const void *a,
    size_t alen, const void *b, size_t blen, int limit, PGresult **out)
{
	PGconn *conn = t->c->conn;
	const char *vals[3];
	int lens[3], fmts[3] = { 1, 1, 1 }, n = 0;
	/* LIMIT takes a bigint: 8 bytes, big-endian, in binary. */
	unsigned char lim[8] = { 0, 0, 0, 0, (unsigned char)(limit >> 24),
	    (unsigned char)(limit >> 16), (unsigned char)(limit >> 8),
	    (unsigned char)limit };
	char name[32];
	PGresult *res;
	ExecStatusType st;
	struct pg_keep *k;
	enum pt_err rc;

	*out = NULL;
	if ((rc = prepare(t, tab, op, name)) != PT_OK)
		return rc;
	if (a != NULL) {
		vals[n] = a;
		lens[n++] = (int)alen;
	}
	if (b != NULL) {
		vals[n] = b;
		lens[n++] = (int)blen;
	}
	if (op >= OP_GE) {
		vals[n] = (const char *)lim;
		lens[n++] = sizeof(lim);
	}
	if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
		res = PQexecPrepared(conn, name, n, vals, lens, fmts, 1);
	else if (PQsendQueryPrepared(conn, name, n, vals, lens, fmts, 1) != 1) {
		rc = pg_rc(conn, NULL, "query");
		(void)finish(t->c, NULL);
		return rc;
	} else if ((rc = finish(t->c, &res)) != PT_OK) {
		/* After the piped writes, in the same round trip. */
		PQclear(res);
		return rc;
	}
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = pg_rc(conn, res, "query");
		PQclear(res);
		/* The server aborted the transaction: so must we. */
		if (t->pub.write && !t->pub.failed) {
			t->pub.failed = 1;
			t->pub.fail_rc = rc;
		}
		return rc;
	}
	if (st == PGRES_COMMAND_OK) {
		rc = strcmp(PQcmdTuples(res), "0") == 0 ? PT_ENOTFOUND : PT_OK;
		PQclear(res);
		return rc;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return PT_ENOTFOUND;
	}
	if ((k = pt_calloc(1, sizeof(*k))) == NULL) {
		PQclear(res);
		return PT_ENOMEM;
	}
	k->res = res;
	k->next = t->root->keep;
	t->root->keep = k;
	*out = res;
	return PT_OK;
}

static enum pt_err
pg_get(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen,
    struct pt_val *val)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	const struct pt_wbuf_write *w;
	PGresult *res;
	enum pt_err rc;

	if (keylen == 0 || keylen > MAX_KEY)
		return PT_ENOTFOUND;
	/* A write held for the key: its value, or (a count) send it. */
	if (t->root->wb != NULL &&
	    (w = pt_wbuf_find(t->root->wb, tab, key, keylen)) != NULL) {
		if (w->op == PT_WOP_PUT || w->op == PT_WOP_INSERT) {
			val->data = w->val;
			val->len = w->len;
			return PT_OK;
		}
		if ((rc = send_table(t, tab)) != PT_OK)
			return rc;
	}
	if ((rc = run(t, tab, OP_GET, key, keylen, NULL, 0, 0, &res)) != PT_OK)
		return rc;
	val->data = PQgetvalue(res, 0, 0);
	val->len = (size_t)PQgetlength(res, 0, 0);
	return PT_OK;
}

/* A put's or a count's key checked, and the write counted (cursors). */
static enum pt_err
write_starts(struct pg_txn *t, enum pt_table tab, size_t keylen)
{
	if (!t->pub.write)
		return PT_EINVAL;
	if (keylen == 0 || keylen > MAX_KEY) {
		pt_store_errf("key of %zu bytes for table %s", keylen,
		    pt_table_name(tab));
		return PT_ETOOBIG;
	}
	t->root->writes++;
	t->root->notify |= WATCHED(tab);
	return PT_OK;
}

static enum pt_err
pg_put(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen,
    const void *val, size_t vallen, int flags)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	PGresult *res;
	enum pt_err rc;
	static const char empty[1];

	if ((rc = write_starts(t, tab, keylen)) != PT_OK)
		return rc;
	if (!(flags & PT_PUT_NOOVERWRITE))
		return hold(t, tab, PT_WOP_PUT, key, keylen, vallen ? val :
		    empty, vallen);
	/*
	 * A new time-ordered id (an event's): it exists only if something
	 * is badly wrong, and then the whole write fails, later, instead of
	 * this put answering EEXIST now (which nobody handles but as a
	 * failure).
	 */
	if (flags & PT_PUT_APPEND)
		return hold(t, tab, PT_WOP_INSERT, key, keylen, vallen ? val :
		    empty, vallen);
	/* Insert-if-absent asks the server: what the table holds first. */
	if ((rc = send_table(t, tab)) != PT_OK)
		return rc;
	rc = run(t, tab, OP_PUTNX, key,
	    keylen, vallen ? val : empty, vallen, 0, &res);
	if (rc == PT_ENOTFOUND)		/* DO NOTHING: the key was there */
		return PT_EEXIST;
	return rc == PT_OK ? PT_OK : write_failed(t, rc);
}

static enum pt_err
pg_del(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	PGresult *res;
	enum pt_err rc;

	if (!t->pub.write)
		return PT_EINVAL;
	if (keylen == 0 || keylen > MAX_KEY)
		return PT_ENOTFOUND;
	t->root->writes++;
	t->root->notify |= WATCHED(tab);
	/* What the table holds first: the delete may be of one of them. */
	if ((rc = send_table(t, tab)) != PT_OK)
		return rc;
	rc = run(t, tab, OP_DEL, key, keylen, NULL, 0, 0, &res);
	return rc == PT_OK || rc == PT_ENOTFOUND ? rc : write_failed(t, rc);
}

/* "max": raise to "n" (else add it), on the server, piped. */
static enum pt_err
pg_count(struct pt_txn *pt, enum pt_table tab, const void *key,
    size_t keylen, uint64_t n, int max)
{
	struct pg_txn *t = (struct pg_txn *)pt;
	uint8_t be[8];
	int i;

	enum pt_err rc;

	if ((rc = write_starts(t, tab, keylen)) != PT_OK)
		return rc;
	for (i = 7; i >= 0; i--, n >>= 8)
		be[i] = (uint8_t)n;
	return hold(t, tab, max ? PT_WOP_MAX : PT_WOP_ADD, key, keylen, be, 8);
}

static enum pt_err
pg_cursor_open(struct pt_txn *pt, enum pt_table tab, struct pt_cursor **out)
{
	struct pg_cursor *c;

	*out = NULL;
	if ((c = pt_calloc(1, sizeof(*c))) == NULL)
		return PT_ENOMEM;
	c->pub.txn = pt;
	c->txn = (struct pg_txn *)pt;
	c->tab = tab;
	*out = &c->pub;
	return PT_OK;
}

static void
pg_cursor_close(struct pt_cursor *pc)
{
	pt_free(pc);
}

/* Position on row "row" of the batch; its key becomes the current one. */
static enum pt_err
cursor_at(struct pg_cursor *c, struct pt_val *ko, struct pt_val *vo)
{
	size_t len = (size_t)PQgetlength(c->res, c->row, 0);

	if (len > MAX_KEY)
		return PT_ECORRUPT;
	memcpy(c->key, PQgetvalue(c->res, c->row, 0), len);
	c->keylen = len;
	c->have = 1;
	c->deleted = 0;
	if (ko) {
		ko->data = PQgetvalue(c->res, c->row, 0);
		ko->len = len;
	}
	if (vo) {
		vo->data = PQgetvalue(c->res, c->row, 1);
		vo->len = (size_t)PQgetlength(c->res, c->row, 1);
	}
	return PT_OK;
}

/* Fetch a batch starting at "op" from the key (or the first/last). */
static enum pt_err
cursor_fetch(struct pg_cursor *c, enum op op, const void *key, size_t keylen,
    struct pt_val *ko, struct pt_val *vo)
{
	/* Few rows first (most walks stop early), more as it goes on. */
	int limit = c->nrows >= 16 ? (c->nrows * 2 > BATCH_MAX ? BATCH_MAX :
	    c->nrows * 2) : 16;
	enum pt_err rc;

	c->res = NULL;
	c->nrows = c->row = 0;
	c->have = 0;
	c->dir = op == OP_GE || op == OP_GT || op == OP_FIRST ? 1 : -1;
	c->writes = c->txn->root->writes;
	/* A walk sees every write before it: the table's held ones go. */
	if ((rc = send_table(c->txn, c->tab)) != PT_OK)
		return rc;
	rc = run(c->txn, c->tab, op, key, keylen, NULL, 0, limit, &c->res);
	if (rc != PT_OK)
		return rc;
	c->nrows = PQntuples(c->res);
	c->full = c->nrows == limit;
	return cursor_at(c, ko, vo);
}

static enum pt_err
pg_cursor_seek(struct pt_cursor *pc, const void *key, size_t keylen, int how,
    struct pt_val *ko, struct pt_val *vo)
{
	struct pg_cursor *c = (struct pg_cursor *)pc;

	c->nrows = 0;
	if (key == NULL)
		return cursor_fetch(c, how == PT_SEEK_LE ? OP_LAST : OP_FIRST,
		    NULL, 0, ko, vo);
	if (keylen > MAX_KEY)
		keylen = MAX_KEY;
	return cursor_fetch(c, how == PT_SEEK_LE ? OP_LE : OP_GE,
	    keylen ? key : "", keylen, ko, vo);
}

/* One step in direction "dir" from the current entry. */
static enum pt_err
cursor_step(struct pg_cursor *c, int dir, struct pt_val *ko,
    struct pt_val *vo)
{
	if (!c->have)
		return cursor_fetch(c, dir > 0 ? OP_FIRST : OP_LAST, NULL, 0,
		    ko, vo);
	/* The batch still holds the next row, and nothing was written. */
	if (c->res != NULL && c->dir == dir && c->writes ==
	    c->txn->root->writes && c->row + 1 < c->nrows) {
		c->row++;
		return cursor_at(c, ko, vo);
	}
	if (c->res != NULL && c->dir == dir && c->writes ==
	    c->txn->root->writes && !c->full)
		return PT_ENOTFOUND;
	return cursor_fetch(c, dir > 0 ? OP_GT : OP_LT, c->key, c->keylen, ko,
	    vo);
}

static enum pt_err
pg_cursor_next(struct pt_cursor *pc, struct pt_val *ko, struct pt_val *vo)
{
	return cursor_step((struct pg_cursor *)pc, 1, ko, vo);
}

static enum pt_err
pg_cursor_prev(struct pt_cursor *pc, struct pt_val *ko, struct pt_val *vo)
{
	return cursor_step((struct pg_cursor *)pc, -1, ko, vo);
}

static enum pt_err
pg_cursor_del(struct pt_cursor *pc)
{
	struct pg_cursor *c = (struct pg_cursor *)pc;
	unsigned before = c->txn->root->writes;
	enum pt_err rc;

	if (!c->have || c->deleted || !c->txn->pub.write)
		return PT_EINVAL;
	rc = pg_del(&c->txn->pub, c->tab, c->key, c->keylen);
	/* Deleting the current entry changes none of the rows after it. */
	if (c->writes == before)
		c->writes = c->txn->root->writes;
	c->deleted = 1;
	return rc;
}


/* The watcher's connection, LISTENing; NULL when the server is away. */
static PGconn *
watch_connect(struct pg_store *s)
{
	char err[256];
	PGconn *conn;

	if ((conn = pg_connect(s->uri, err, sizeof(err))) == NULL)
		return NULL;
	if (pg_exec(conn, "LISTEN " CONFIG_CHANNEL, "listen") != PT_OK) {
		PQfinish(conn);
		return NULL;
	}
	/* What changed while no one listened: read it once more. */
	__atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&s->watch_ok, 1, __ATOMIC_RELEASE);
	return conn;
}

static void *
watch(void *arg)
{
	struct pg_store *s = arg;
	struct pollfd pfd[2];
	PGnotify *n;
	PGconn *conn = NULL;
	int r;

	pfd[1].fd = s->wake[0];
	pfd[1].events = POLLIN;
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (conn == NULL && (conn = watch_connect(s)) == NULL) {
			/* The server is away: again in a while. */
			(void)poll(&pfd[1], 1, WATCH_RETRY_MS);
			continue;
		}
		pfd[0].fd = PQsocket(conn);
		pfd[0].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, 2, -1);
		if (pfd[1].revents)
			break;		/* closing */
		if ((r < 0 && errno != EINTR) || (r > 0 &&
		    !PQconsumeInput(conn)) || PQstatus(conn) != CONNECTION_OK) {
			__atomic_store_n(&s->watch_ok, 0, __ATOMIC_RELEASE);
			__atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
			PQfinish(conn);
			conn = NULL;
			continue;
		}
		while ((n = PQnotifies(conn)) != NULL) {
			__atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
			PQfreemem(n);
		}
	}
	PQfinish(conn);
	return NULL;
}

/*
 * 1 and the epoch while the watcher listens (started on the first call):
 * the configuration is unchanged while the epoch is.  0 when it does not
 * (PORTER_PG_LISTEN=0, for a pooler in transaction mode that cannot
 * LISTEN; a command, a CGI process or a read-only store; the server
 * away): read it.
 */
static int
pg_meta_epoch(struct pt_store *ps, uint64_t *epoch)
{
	struct pg_store *s = (struct pg_store *)ps;
	int start = 0;

	if (!s->listen)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (!s->watching) {
		s->watching = start = 1;
		if (pipe2(s->wake, O_CLOEXEC) == -1)
			s->watching = s->listen = 0;
		else if (pthread_create(&s->watcher, NULL, watch, s) != 0) {
			close(s->wake[0]);
			close(s->wake[1]);
			s->watching = s->listen = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (start)
		return 0;
	*epoch = __atomic_load_n(&s->epoch, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->watch_ok, __ATOMIC_ACQUIRE);
}

static const struct pt_backend pg_backend = {
	.name = "postgresql",
	.remote = 1,
	.close = pg_close,
	.sync = pg_sync,
	.set_durability = pg_set_durability,
	.stat = pg_stat,
	.room = pg_room,
	.check_room = pg_check_room,
	.set_limits = pg_set_limits,
	.set_make_room = pg_set_make_room,
	.make_room = pg_make_room,
	.reserve = pg_reserve,
	.near_ceiling = pg_near_ceiling,
	.set_threaded = pg_set_threaded,
	.resized = pg_resized,
	.meta_epoch = pg_meta_epoch,
	.txn_begin = pg_txn_begin,
	.txn_commit = pg_txn_commit,
	.txn_abort = pg_txn_abort,
	.get = pg_get,
	.put = pg_put,
	.del = pg_del,
	.count = pg_count,
	.cursor_open = pg_cursor_open,
	.cursor_close = pg_cursor_close,
	.cursor_seek = pg_cursor_seek,
	.cursor_next = pg_cursor_next,
	.cursor_prev = pg_cursor_prev,
	.cursor_del = pg_cursor_del,
};
