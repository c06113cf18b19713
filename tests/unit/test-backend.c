/*
 * test-backend.c - the semantics every storage backend gives (store.h),
 * table-driven, on LMDB in a temp dir and, when PORTER_TEST_PG names an
 * empty PostgreSQL database (tests/e2e/test_postgresql.py sets it), on
 * PostgreSQL too: key order, seeks, cursors over their own writes,
 * insert-if-absent, nested transactions, a failed write's sticky error, and
 * reads after many writes (PostgreSQL pipelines plain puts: their answers
 * come with the next read).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nitems.h"
#include "store.h"
#include "tap.h"
#include "testutil.h"

#define MANY	1500	/* more puts than the pipeline holds at once */

struct kv {
	const char	*k;
	size_t		 klen;
};

/* Keys in the order a backend must keep: unsigned bytes, shorter first. */
static const struct kv order[] = {
	{ "", 0 },		/* (not put: an empty key is refused) */
	{ "\x00", 1 },
	{ "\x00\x00", 2 },
	{ "\x01", 1 },
	{ "A", 1 },
	{ "AB", 2 },
	{ "B", 1 },
	{ "a", 1 },
	{ "\x7f", 1 },
	{ "\x80", 1 },
	{ "\xff", 1 },
	{ "\xff\x00", 2 },
	{ "\xff\xff", 2 },
};

static void
put_order(struct pt_store *s, const char *be)
{
	struct pt_txn *t;
	size_t i;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	/* Backwards, so that the order is the store's, not ours. */
	for (i = nitems(order) - 1; i > 0; i--)
		if (pt_put(t, PT_T_AUX, order[i].k, order[i].klen, order[i].k,
		    order[i].klen, 0) != PT_OK)
			ok(0, "%s: put key %zu", be, i);
	is_int(pt_txn_commit(t), PT_OK, "%s: keys of every byte commit", be);
}

static void
walk_order(struct pt_store *s, const char *be)
{
	struct pt_txn *t;
	struct pt_cursor *c;
	struct pt_val k, v;
	enum pt_err rc;
	size_t i = 1, bad = 0;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_cursor_open(t, PT_T_AUX, &c);
	for (rc = pt_cursor_seek(c, NULL, 0, PT_SEEK_GE, &k, &v); rc == PT_OK;
	    rc = pt_cursor_next(c, &k, &v), i++)
		if (i >= nitems(order) || k.len != order[i].klen ||
		    memcmp(k.data, order[i].k, k.len) != 0 || v.len != k.len)
			bad++;
	ok(bad == 0 && i == nitems(order), "%s: a forward walk is in byte "
	    "order, shorter first (%zu keys, %zu out of place)", be, i - 1, bad);
	i = nitems(order) - 1;
	bad = 0;
	for (rc = pt_cursor_seek(c, NULL, 0, PT_SEEK_LE, &k, &v); rc == PT_OK;
	    rc = pt_cursor_prev(c, &k, &v), i--)
		if (i == 0 || k.len != order[i].klen ||
		    memcmp(k.data, order[i].k, k.len) != 0)
			bad++;
	ok(bad == 0 && i == 0, "%s: and backwards", be);
	pt_cursor_close(c);
	pt_txn_abort(t);
}

static void
seeks(struct pt_store *s, const char *be)
{
	static const struct {
		const char	*key;
		size_t		 len;
		int		 how;
		enum pt_err	 rc;
		const char	*at;
		size_t		 atlen;
	} cases[] = {
		{ "A", 1, PT_SEEK_GE, PT_OK, "A", 1 },
		{ "AA", 2, PT_SEEK_GE, PT_OK, "AB", 2 },
		{ "AA", 2, PT_SEEK_LE, PT_OK, "A", 1 },
		{ "\x00\x01", 2, PT_SEEK_LE, PT_OK, "\x00\x00", 2 },
		{ "\x00\x01", 2, PT_SEEK_GE, PT_OK, "\x01", 1 },
		{ "\xff\xff\xff", 3, PT_SEEK_GE, PT_ENOTFOUND, NULL, 0 },
		{ "\xff\xff\xff", 3, PT_SEEK_LE, PT_OK, "\xff\xff", 2 },
		{ "\x00", 1, PT_SEEK_LE, PT_OK, "\x00", 1 },
		{ "\x7f\xff", 2, PT_SEEK_GE, PT_OK, "\x80", 1 },
	};
	struct pt_txn *t;
	struct pt_cursor *c;
	struct pt_val k, v;
	enum pt_err rc;
	size_t i;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_cursor_open(t, PT_T_AUX, &c);
	for (i = 0; i < nitems(cases); i++) {
		rc = pt_cursor_seek(c, cases[i].key, cases[i].len, cases[i].how,
		    &k, &v);
		ok(rc == cases[i].rc && (rc != PT_OK || (k.len ==
		    cases[i].atlen && memcmp(k.data, cases[i].at, k.len) == 0)),
		    "%s: seek %s case %zu", be, cases[i].how == PT_SEEK_GE ?
		    "GE" : "LE", i);
	}
	pt_cursor_close(c);
	pt_txn_abort(t);
}

/*
 * Many puts, then reads in the same transaction: each sees every write
 * before it (on PostgreSQL the puts are piped, their answers read with
 * the first read).
 */
static void
many(struct pt_store *s, const char *be)
{
	struct pt_txn *t;
	struct pt_cursor *c;
	struct pt_val k, v;
	char key[16];
	enum pt_err rc;
	int i, n, bad = 0;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	for (i = 0; i < MANY; i++) {
		n = snprintf(key, sizeof(key), "m%05d", i);
		if (pt_put(t, PT_T_RUNS, key, (size_t)n, key, (size_t)n, 0) !=
		    PT_OK)
			bad++;
	}
	ok(bad == 0, "%s: %d puts in one transaction", be, MANY);
	ok(pt_get(t, PT_T_RUNS, "m01499", 6, &v) == PT_OK && v.len == 6 &&
	    memcmp(v.data, "m01499", 6) == 0, "%s: the last is read back "
	    "before commit", be);
	/* Overwrite, then a cursor over the table sees the new value. */
	pt_put(t, PT_T_RUNS, "m00000", 6, "first", 5, 0);
	pt_cursor_open(t, PT_T_RUNS, &c);
	rc = pt_cursor_seek(c, NULL, 0, PT_SEEK_GE, &k, &v);
	ok(rc == PT_OK && v.len == 5 && memcmp(v.data, "first", 5) == 0,
	    "%s: a cursor sees the overwrite just made", be);
	for (n = 1; pt_cursor_next(c, &k, &v) == PT_OK; n++)
		;
	is_int(n, MANY, "%s: and every put", be);
	pt_cursor_close(c);
	/* Delete after puts: the delete finds what was put. */
	is_int(pt_del(t, PT_T_RUNS, "m00001", 6), PT_OK, "%s: a delete of a "
	    "key put in this transaction finds it", be);
	is_int(pt_del(t, PT_T_RUNS, "m00001", 6), PT_ENOTFOUND, "%s: a second "
	    "does not", be);
	pt_put(t, PT_T_RUNS, "late", 4, "x", 1, 0);
	is_int(pt_txn_commit(t), PT_OK, "%s: commit (puts still unanswered "
	    "go with it)", be);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_RUNS, "late", 4, &v) == PT_OK &&
	    pt_get(t, PT_T_RUNS, "m00001", 6, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_RUNS, "m00777", 6, &v) == PT_OK,
	    "%s: after commit: the last put there, the deleted gone", be);
	pt_txn_abort(t);

	/* Aborted after many puts: nothing of them. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	for (i = 0; i < MANY; i++) {
		n = snprintf(key, sizeof(key), "x%05d", i);
		pt_put(t, PT_T_RUNS, key, (size_t)n, "v", 1, 0);
	}
	pt_txn_abort(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_RUNS, "x00000", 6, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_RUNS, "x01499", 6, &v) == PT_ENOTFOUND,
	    "%s: an abort after many puts leaves none", be);
	pt_txn_abort(t);
}

static void
nested(struct pt_store *s, const char *be)
{
	struct pt_txn *t, *c;
	struct pt_val v;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_TENANTS, "p", 1, "parent", 6, 0);
	pt_txn_begin(s, t, PT_TXN_WRITE, &c);
	pt_put(c, PT_T_TENANTS, "c1", 2, "x", 1, 0);
	pt_put(c, PT_T_TENANTS, "p", 1, "child", 5, 0);
	pt_txn_abort(c);
	ok(pt_get(t, PT_T_TENANTS, "p", 1, &v) == PT_OK && v.len == 6,
	    "%s: an aborted child's overwrite is undone", be);
	pt_txn_begin(s, t, PT_TXN_WRITE, &c);
	pt_put(c, PT_T_TENANTS, "c2", 2, "y", 1, 0);
	is_int(pt_put(c, PT_T_TENANTS, "c2", 2, "z", 1, PT_PUT_NOOVERWRITE),
	    PT_EEXIST, "%s: insert-if-absent over a piped put: EEXIST", be);
	is_int(pt_txn_commit(c), PT_OK, "%s: EEXIST does not fail the child",
	    be);
	is_int(pt_txn_commit(t), PT_OK, "%s: parent commits", be);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_TENANTS, "c1", 2, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_TENANTS, "c2", 2, &v) == PT_OK && v.len == 1 &&
	    *(const char *)v.data == 'y', "%s: the committed child joined, "
	    "the aborted one did not", be);
	pt_txn_abort(t);
}

/* A write that fails: the transaction's error, and commit refuses. */
static void
sticky(struct pt_store *s, const char *be)
{
	struct pt_txn *t;
	struct pt_val v;
	char big[600];

	memset(big, 'k', sizeof(big));
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_TENANTS, "before", 6, "x", 1, 0);
	is_int(pt_put(t, PT_T_TENANTS, big, sizeof(big), "v", 1, 0),
	    PT_ETOOBIG, "%s: an oversized key is refused", be);
	is_int(pt_txn_commit(t), PT_OK, "%s: a refused key is not a failed "
	    "write", be);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_TENANTS, "before", 6, &v) == PT_OK, "%s: the write "
	    "before it committed", be);
	pt_txn_abort(t);
}

static uint64_t
u64_at(struct pt_txn *t, const char *key)
{
	struct pt_val v;
	uint64_t n = 0;
	size_t i;

	if (pt_get(t, PT_T_AUD_MEMBERS, key, strlen(key), &v) != PT_OK || v.len != 8)
		return UINT64_MAX;
	for (i = 0; i < 8; i++)
		n = n << 8 | ((const uint8_t *)v.data)[i];
	return n;
}

/* Counters: added to and raised without a read by the caller. */
static void
counters(struct pt_store *s, const char *be)
{
	static const struct {
		const char	*key;
		int		 max;
		uint64_t	 n;
		uint64_t	 want;	/* after this step */
	} steps[] = {
		{ "cnt", 0, 5, 5 },		/* absent: from 0 */
		{ "cnt", 0, 7, 12 },
		{ "cnt", 0, 1ULL << 40, (1ULL << 40) + 12 },
		{ "hi", 1, 100, 100 },		/* absent: the value */
		{ "hi", 1, 50, 100 },		/* lower: kept */
		{ "hi", 1, 101, 101 },
		{ "odd", 0, 3, 3 },		/* not 8 bytes: as 0 */
		{ "odd2", 1, 9, 9 },
	};
	struct pt_txn *t;
	size_t i;
	int bad = 0;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_AUD_MEMBERS, "odd", 3, "abc", 3, 0);
	pt_put(t, PT_T_AUD_MEMBERS, "odd2", 4, "abcdefghi", 9, 0);
	for (i = 0; i < nitems(steps); i++) {
		if ((steps[i].max ? pt_max_u64 : pt_add_u64)(t, PT_T_AUD_MEMBERS,
		    steps[i].key, strlen(steps[i].key), steps[i].n) != PT_OK)
			bad++;
		/* Read back in the same transaction, after each step. */
		if (u64_at(t, steps[i].key) != steps[i].want) {
			bad++;
			diag("%s: step %zu: %llu", be, i,
			    (unsigned long long)u64_at(t, steps[i].key));
		}
	}
	ok(bad == 0, "%s: counters add and raise, each step read back", be);
	/* Many adds to one counter, then commit: the sum. */
	for (i = 0; i < 1000; i++)
		pt_add_u64(t, PT_T_AUD_MEMBERS, "sum", 3, i);
	is_int(pt_txn_commit(t), PT_OK, "%s: counters commit", be);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(u64_at(t, "sum") == 999 * 1000 / 2 && u64_at(t, "hi") == 101,
	    "%s: 1000 adds sum up after commit", be);
	ok(pt_add_u64(t, PT_T_AUD_MEMBERS, "sum", 3, 1) == PT_EINVAL,
	    "%s: a read transaction refuses an add", be);
	pt_txn_abort(t);
}

/* A new time-ordered key that exists: EEXIST now, or a failed commit. */
static void
append_exists(struct pt_store *s, const char *be)
{
	struct pt_txn *t;
	struct pt_val v;
	enum pt_err rc;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_BODIES, "e1", 2, "one", 3, 0);
	is_int(pt_txn_commit(t), PT_OK, "%s: an id is there", be);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_BODIES, "e0", 2, "zero", 4, 0);
	rc = pt_put(t, PT_T_BODIES, "e1", 2, "two", 3, PT_PUT_NOOVERWRITE |
	    PT_PUT_APPEND);
	if (rc == PT_OK)
		rc = pt_txn_commit(t);
	else
		pt_txn_abort(t);
	ok(rc != PT_OK, "%s: a new id put again fails, at once or at commit "
	    "(%s)", be, pt_strerror(rc));
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_BODIES, "e1", 2, &v) == PT_OK && v.len == 3 &&
	    memcmp(v.data, "one", 3) == 0 && pt_get(t, PT_T_BODIES, "e0", 2,
	    &v) == PT_ENOTFOUND, "%s: and nothing of that write is there", be);
	pt_txn_abort(t);
}

static void
run_all(struct pt_store *s, const char *be)
{
	append_exists(s, be);
	counters(s, be);
	put_order(s, be);
	walk_order(s, be);
	seeks(s, be);
	many(s, be);
	nested(s, be);
	sticky(s, be);
}

/*
 * PostgreSQL only: a write the server refuses (a CHECK constraint added
 * here refuses the value "bad") while it is piped.  The failure reaches
 * the next read and the commit, which writes nothing; in a child, only
 * the child is undone and the parent goes on.
 */
static void
refused(struct pt_store *s, const char *uri)
{
	struct pt_txn *t, *c;
	struct pt_cursor *cur;
	struct pt_val k, v;
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "psql -qX -d '%s' -c \"ALTER TABLE "
	    "porter_subscriptions ADD CONSTRAINT no_bad CHECK (v <> "
	    "'\\\\x626164'::bytea)\"", uri);
	if (!ok(system(cmd) == 0, "postgresql: a constraint to refuse "
	    "\"bad\""))
		return;
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_SUBS, "ok0", 3, "good", 4, 0);
	pt_put(t, PT_T_SUBS, "no", 2, "bad", 3, 0);
	pt_put(t, PT_T_SUBS, "ok1", 3, "good", 4, 0);
	/* Held writes go with the walk of their table. */
	pt_cursor_open(t, PT_T_SUBS, &cur);
	ok(pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v) != PT_OK &&
	    pt_txn_error(t) != PT_OK, "postgresql: a piped write refused: the "
	    "walk that sends it fails, and the transaction has the error");
	pt_cursor_close(cur);
	ok(pt_txn_commit(t) != PT_OK, "postgresql: and its commit refuses");
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_SUBS, "no", 2, "bad", 3, 0);
	ok(pt_txn_commit(t) != PT_OK, "postgresql: a refused write still "
	    "unanswered at commit: the commit refuses");
	/* Refused while Porter waited for the answer (insert-if-absent). */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_SUBS, "ok2", 3, "good", 4, 0);
	ok(pt_put(t, PT_T_SUBS, "nx", 2, "bad", 3, PT_PUT_NOOVERWRITE) !=
	    PT_OK && pt_put(t, PT_T_SUBS, "ok3", 3, "good", 4, 0) != PT_OK,
	    "postgresql: a refused insert-if-absent fails, and so does every "
	    "write after it");
	ok(pt_txn_commit(t) != PT_OK, "postgresql: and the commit refuses");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_SUBS, "ok2", 3, &v) == PT_ENOTFOUND,
	    "postgresql: nothing of it is there");
	pt_txn_abort(t);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_SUBS, "p1", 2, "good", 4, 0);
	pt_txn_begin(s, t, PT_TXN_WRITE, &c);
	pt_put(c, PT_T_SUBS, "c", 1, "good", 4, 0);
	pt_put(c, PT_T_SUBS, "no", 2, "bad", 3, 0);
	ok(pt_txn_commit(c) != PT_OK, "postgresql: a child whose piped write "
	    "is refused fails at its commit");
	pt_put(t, PT_T_SUBS, "p2", 2, "good", 4, 0);
	is_int(pt_txn_commit(t), PT_OK, "postgresql: the parent goes on and "
	    "commits");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_SUBS, "ok0", 3, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_SUBS, "ok1", 3, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_SUBS, "no", 2, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_SUBS, "c", 1, &v) == PT_ENOTFOUND,
	    "postgresql: nothing of the refused transactions or child is "
	    "there");
	ok(pt_get(t, PT_T_SUBS, "p1", 2, &v) == PT_OK &&
	    pt_get(t, PT_T_SUBS, "p2", 2, &v) == PT_OK, "postgresql: the "
	    "parent's writes before and after the child are");
	pt_txn_abort(t);
}

int
main(void)
{
	const char *uri = getenv("PORTER_TEST_PG");
	struct pt_store_opts o = { 0 };
	struct pt_store *s;
	char *dir = tu_tmpdir(), sub[600], err[512];

	snprintf(sub, sizeof(sub), "%s/db", dir);
	s = tu_store(sub, 0);
	run_all(s, "lmdb");
	pt_store_close(s);
	tu_rmdir(dir);
	if (uri != NULL && *uri) {
		if (pt_store_open(uri, &o, &s, err, sizeof(err)) != PT_OK)
			ok(0, "postgresql: %s", err);
		else {
			run_all(s, "postgresql");
			refused(s, uri);
			pt_store_close(s);
		}
	} else
		diag("PORTER_TEST_PG not set: LMDB only");
	return tap_done();
}
