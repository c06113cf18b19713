/*
 * test-commit.c - the group committer and pt_write (commit.c): a batch runs
 * flat, and when one of its jobs fails it runs again with each job nested,
 * so that the failing job leaves nothing and the others keep their writes
 * exactly once.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "testutil.h"

/* A job that writes "k<key>" (and "flat<key>" when run flat). */
struct rec {
	int		 key;
	enum pt_err	 fail;		/* returned after writing */
	enum pt_err	 fail_flat;	/* the same, only when run flat */
	size_t		 big;		/* also put this many bytes, and
					 * ignore the error (a bad job) */
	int		 calls;
	int		 flat_calls;
	enum pt_err	 rc;		/* what pt_committer_run returned */
	struct pt_committer *gc;
};

static enum pt_err
rec_fn(struct pt_txn *txn, void *arg)
{
	struct rec *r = arg;
	char k[32];
	enum pt_err rc;
	int n, flat = pt_txn_flat(txn);

	r->calls++;
	r->flat_calls += flat;
	n = snprintf(k, sizeof(k), "k%d", r->key);
	if ((rc = pt_put(txn, PT_T_AUX, k, (size_t)n, "v", 1, 0)) != PT_OK)
		return rc;

	if (flat) {
		n = snprintf(k, sizeof(k), "flat%d", r->key);
		if ((rc = pt_put(txn, PT_T_AUX, k, (size_t)n, "v", 1, 0)) !=
		    PT_OK)
			return rc;
		if (r->fail_flat != PT_OK)
			return r->fail_flat;
	}
	if (r->big) {
		char *v = calloc(1, r->big);

		n = snprintf(k, sizeof(k), "big%d", r->key);
		(void)pt_put(txn, PT_T_AUX, k, (size_t)n, v, r->big, 0);
		free(v);
	}
	return r->fail;
}

static void *
rec_thread(void *arg)
{
	struct rec *r = arg;

	r->rc = pt_committer_run(r->gc, rec_fn, r);
	return NULL;
}

/* Is "k" in the store? */
static int
has(struct pt_store *s, const char *k)
{
	struct pt_txn *t;
	struct pt_val v;
	int found;

	if (pt_txn_begin(s, NULL, PT_TXN_READ, &t) != PT_OK)
		return -1;
	found = pt_get(t, PT_T_AUX, k, strlen(k), &v) == PT_OK;
	pt_txn_abort(t);
	return found;
}

/*
 * Queue "n" jobs behind a held committer so that they make one batch,
 * then let them run; returns when all are done.
 */
static void
one_batch(struct pt_committer *gc, struct rec *r, int n)
{
	struct tu_hold h;
	pthread_t th[16];
	int i;

	tu_hold(&h, gc);
	/* One by one: the batch runs them in this order. */
	for (i = 0; i < n; i++) {
		r[i].gc = gc;
		pthread_create(&th[i], NULL, rec_thread, &r[i]);
		tu_queued(&h, (size_t)i + 1);
	}
	ok(tu_queued(&h, (size_t)n), "%d jobs queued behind the blocker", n);
	tu_release(&h);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* "n" jobs that write keys base, base + 1, ... and succeed. */
static void
fresh(struct rec *r, int n, int base)
{
	int i;

	memset(r, 0, sizeof(*r) * (size_t)n);
	for (i = 0; i < n; i++)
		r[i].key = base + i;
}

int
main(void)
{
	struct pt_commit_stats st;
	struct pt_committer *gc = NULL;
	struct pt_store *s;
	struct rec r[5];
	char *dir = tu_tmpdir(), path[600], k[32];
	int i;

	snprintf(path, sizeof(path), "%s/db", dir);
	s = tu_store(path, 0);
	pt_store_set_threaded(s);
	ok(pt_committer_start(s, 8, &gc) == PT_OK, "committer starts");

	/* A batch that succeeds runs once, flat, and commits once. */
	fresh(r, 5, 100);
	one_batch(gc, r, 5);
	for (i = 0; i < 5; i++) {
		ok(r[i].rc == PT_OK && r[i].calls == 1 && r[i].flat_calls == 1,
		    "good batch: job %d ran once, flat (rc %d, calls %d)", i,
		    r[i].rc, r[i].calls);
		snprintf(k, sizeof(k), "k%d", r[i].key);
		ok(has(s, k) == 1, "  ... its write is there");
	}
	pt_committer_stats(gc, &st);
	is_int((int)st.nested, 0, "no batch ran nested");
	ok(st.largest == 5, "the five jobs made one batch (largest %zu)",
	    st.largest);

	/*
	 * One job of five fails: the batch runs again nested, the others
	 * keep their writes (once), the failing one leaves nothing, and
	 * nothing of the flat run survives.
	 */
	fresh(r, 5, 200);
	r[2].fail = PT_EIO;
	one_batch(gc, r, 5);
	for (i = 0; i < 5; i++) {
		snprintf(k, sizeof(k), "k%d", r[i].key);
		if (i == 2) {
			is_int(r[i].rc, PT_EIO, "failing job: its error");
			ok(has(s, k) == 0, "  ... and none of its writes");
		} else {
			/* Flat only when queued before the failing one. */
			ok(r[i].rc == PT_OK && r[i].flat_calls <= 1 &&
			    r[i].calls - r[i].flat_calls == 1, "job %d beside "
			    "it: committed from one nested run (rc %d, calls "
			    "%d, flat %d)", i, r[i].rc, r[i].calls,
			    r[i].flat_calls);
			ok(has(s, k) == 1, "  ... its write is there");
		}
		snprintf(k, sizeof(k), "flat%d", r[i].key);
		ok(has(s, k) == 0, "  ... the flat run's write is gone");
	}
	pt_committer_stats(gc, &st);
	is_int((int)st.nested, 1, "one batch ran nested");

	/* PT_ERETRY from the flat run: the nested run commits. */
	fresh(r, 3, 300);
	r[1].fail_flat = PT_ERETRY;
	one_batch(gc, r, 3);
	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "k%d", r[i].key);
		ok(r[i].rc == PT_OK && r[i].calls - r[i].flat_calls == 1 &&
		    has(s, k) == 1, "PT_ERETRY in a batch: job %d committed "
		    "from one nested run (rc %d, calls %d)", i, r[i].rc,
		    r[i].calls);
	}

	/* Alone, a failing job is not run again: it would fail the same. */
	memset(r, 0, sizeof(r));
	r[0].key = 400;
	r[0].fail = PT_EINVAL;
	r[0].rc = pt_committer_run(gc, rec_fn, &r[0]);
	ok(r[0].rc == PT_EINVAL && r[0].calls == 1 && has(s, "k400") == 0,
	    "a lone failing job: its error, run once, nothing written");
	memset(r, 0, sizeof(r));
	r[0].key = 401;
	r[0].fail_flat = PT_ERETRY;
	r[0].rc = pt_committer_run(gc, rec_fn, &r[0]);
	ok(r[0].rc == PT_OK && r[0].calls == 2 && r[0].flat_calls == 1 &&
	    has(s, "k401") == 1 && has(s, "flat401") == 0,
	    "a lone PT_ERETRY job: run again nested and committed");
	pt_committer_stop(gc);

	/* pt_write without a committer: the same contract. */
	memset(r, 0, sizeof(r));
	r[0].key = 500;
	r[0].fail_flat = PT_ERETRY;
	ok(pt_write(s, NULL, rec_fn, &r[0]) == PT_OK && r[0].calls == 2 &&
	    r[0].flat_calls == 1 && has(s, "k500") == 1 &&
	    has(s, "flat500") == 0,
	    "pt_write: PT_ERETRY runs it again without PT_TXN_FLAT");
	memset(r, 0, sizeof(r));
	r[0].key = 501;
	r[0].fail = PT_EIO;
	ok(pt_write(s, NULL, rec_fn, &r[0]) == PT_EIO && r[0].calls == 1 &&
	    has(s, "k501") == 0, "pt_write: another error is returned, once");
	memset(r, 0, sizeof(r));
	r[0].key = 502;
	ok(pt_write(s, NULL, rec_fn, &r[0]) == PT_OK && r[0].calls == 1 &&
	    r[0].flat_calls == 1 && has(s, "k502") == 1 &&
	    has(s, "flat502") == 1, "pt_write: a good write runs once, flat");

	pt_store_close(s);

	/*
	 * A job that ignores a failed write (the map is full) and says PT_OK:
	 * its batch still runs again nested, and only that job fails.
	 */
	snprintf(path, sizeof(path), "%s/small", dir);
	s = tu_store(path, 256 * 1024);
	/* It grows itself: to no more than 512 KiB here. */
	pt_store_set_limits(s, 512 * 1024, 0);
	pt_store_set_threaded(s);
	ok(pt_committer_start(s, 8, &gc) == PT_OK, "small store: committer");
	fresh(r, 3, 600);
	r[2].big = 1 << 20;	/* last: nothing after it would fail */
	one_batch(gc, r, 3);
	is_int(r[2].rc, PT_EFULL, "a job hiding a failed write: its error");
	ok(r[0].rc == PT_OK && r[1].rc == PT_OK && has(s, "k600") == 1 &&
	    has(s, "k601") == 1 && has(s, "k602") == 0,
	    "  ... the jobs before it are committed, it is not");
	pt_committer_stop(gc);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
