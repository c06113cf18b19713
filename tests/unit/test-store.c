/*
 * test-store.c - the storage interface on real LMDB files in a temp dir.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commit.h"
#include "store.h"
#include "tap.h"
#include "testutil.h"

/* A group-commit job: one 4000-byte value under key *(int *)arg. */
static enum pt_err
put_big(struct pt_txn *t, void *arg)
{
	char key[16], val[4000];
	int n;

	memset(val, 'v', sizeof(val));
	n = snprintf(key, sizeof(key), "g%06d", *(int *)arg);
	return pt_put(t, PT_T_AUX, key, (size_t)n, val, sizeof(val), 0);
}

/* A make_room owner like retention's: delete the 40 oldest AUX values. */
static int hook_calls;
static enum pt_err
drop_oldest(struct pt_store *s, void *arg)
{
	struct pt_txn *t;
	struct pt_cursor *cur;
	struct pt_val k, v;
	enum pt_err rc;
	int n = 0;

	(void)arg;
	hook_calls++;
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &t)) != PT_OK)
		return rc;
	if ((rc = pt_cursor_open(t, PT_T_AUX, &cur)) == PT_OK) {
		rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
		while (rc == PT_OK && n < 40 &&
		    (rc = pt_cursor_del(cur)) == PT_OK) {
			n++;
			rc = pt_cursor_next(cur, &k, &v);
		}
		pt_cursor_close(cur);
	}
	if (rc != PT_OK && rc != PT_ENOTFOUND) {
		pt_txn_abort(t);
		return rc;
	}
	if ((rc = pt_txn_commit(t)) != PT_OK)
		return rc;
	return n == 0 ? PT_ENOTFOUND : PT_OK;
}

int
main(void)
{
	struct pt_store_opts ro = { 0 };
	struct pt_store *s, *r;
	struct pt_txn *t, *c;
	struct pt_cursor *cur;
	struct pt_val k, v;
	struct stat st;
	char *dir = tu_tmpdir(), sub[600], err[700], key[16];
	enum pt_err rc;
	int i, n;

	snprintf(sub, sizeof(sub), "%s/db", dir);
	s = tu_store(sub, 0);
	ok(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "store directory created 0700");
	snprintf(err, sizeof(err), "%s/data.mdb", sub);
	ok(stat(err, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "data file created 0600");

	ok(pt_txn_begin(s, NULL, PT_TXN_WRITE, &t) == PT_OK, "write txn");
	ok(pt_put(t, PT_T_META, "a", 1, "1", 1, 0) == PT_OK, "put a");
	ok(pt_put(t, PT_T_META, "a", 1, "2", 1, PT_PUT_NOOVERWRITE) == PT_EEXIST,
	    "no-overwrite put of an existing key is EEXIST");
	ok(pt_txn_commit(t) == PT_OK, "commit");

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_META, "a", 1, &v) == PT_OK && v.len == 1 &&
	    memcmp(v.data, "1", 1) == 0, "get after commit");
	ok(pt_get(t, PT_T_META, "zz", 2, &v) == PT_ENOTFOUND, "missing key");
	ok(pt_put(t, PT_T_META, "b", 1, "", 0, 0) == PT_EINVAL,
	    "read txn refuses writes");
	pt_txn_abort(t);

	/*
	 * PT_PUT_APPEND: a key above the last fills the last page; any other
	 * is put as usual (overwriting, or EEXIST with NOOVERWRITE).
	 */
	{
		static const struct {
			const char	*key, *val;
			int		 flags;
			enum pt_err	 want;
			const char	*what;
		} ap[] = {
			{ "k2", "a", PT_PUT_APPEND, PT_OK, "first key" },
			{ "k3", "b", PT_PUT_APPEND, PT_OK, "above the last" },
			{ "k1", "c", PT_PUT_APPEND, PT_OK, "below the last" },
			{ "k3", "d", PT_PUT_APPEND, PT_OK, "the last (overwrites)" },
			{ "k2", "e", PT_PUT_APPEND | PT_PUT_NOOVERWRITE,
			  PT_EEXIST, "existing, no-overwrite" },
			{ "k3", "f", PT_PUT_APPEND | PT_PUT_NOOVERWRITE,
			  PT_EEXIST, "the last, no-overwrite" },
		};
		static const char *const want[][2] = {
			{ "k1", "c" }, { "k2", "a" }, { "k3", "d" },
		};
		size_t j;

		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		for (j = 0; j < nitems(ap); j++)
			is_int(pt_put(t, PT_T_RUNS, ap[j].key, 2, ap[j].val, 1,
			    ap[j].flags), ap[j].want, "append put: %s",
			    ap[j].what);
		ok(pt_txn_commit(t) == PT_OK, "append puts commit");
		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		for (j = 0; j < 3; j++)
			ok(pt_get(t, PT_T_RUNS, want[j][0], 2, &v) == PT_OK &&
			    v.len == 1 && memcmp(v.data, want[j][1], 1) == 0,
			    "after the append puts: %s = %s", want[j][0],
			    want[j][1]);
		pt_txn_abort(t);
	}

	/* Abort leaves nothing behind. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_META, "gone", 4, "x", 1, 0);
	pt_txn_abort(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_META, "gone", 4, &v) == PT_ENOTFOUND,
	    "aborted write is invisible");
	pt_txn_abort(t);

	/* Nested transactions. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_txn_begin(s, t, PT_TXN_WRITE, &c) == PT_OK, "child txn");
	pt_put(c, PT_T_META, "child1", 6, "x", 1, 0);
	pt_txn_abort(c);
	pt_txn_begin(s, t, PT_TXN_WRITE, &c);
	pt_put(c, PT_T_META, "child2", 6, "y", 1, 0);
	pt_txn_commit(c);
	pt_txn_commit(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_META, "child1", 6, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_META, "child2", 6, &v) == PT_OK,
	    "aborted child vanishes, committed child joins the parent");
	pt_txn_abort(t);

	/* Cursors: order, seek GE/LE, delete while walking. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	for (i = 0; i < 10; i++) {
		n = snprintf(key, sizeof(key), "k%02d", i * 2);
		pt_put(t, PT_T_AUX, key, (size_t)n, "v", 1, 0);
	}
	pt_txn_commit(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_cursor_open(t, PT_T_AUX, &cur);
	ok(pt_cursor_seek(cur, "k05", 3, PT_SEEK_GE, &k, &v) == PT_OK &&
	    k.len == 3 && memcmp(k.data, "k06", 3) == 0, "seek GE k05 -> k06");
	ok(pt_cursor_seek(cur, "k05", 3, PT_SEEK_LE, &k, &v) == PT_OK &&
	    memcmp(k.data, "k04", 3) == 0, "seek LE k05 -> k04");
	ok(pt_cursor_seek(cur, "k06", 3, PT_SEEK_LE, &k, &v) == PT_OK &&
	    memcmp(k.data, "k06", 3) == 0, "seek LE exact");
	ok(pt_cursor_seek(cur, "z", 1, PT_SEEK_LE, &k, &v) == PT_OK &&
	    memcmp(k.data, "k18", 3) == 0, "seek LE past the end -> last");
	ok(pt_cursor_seek(cur, "a", 1, PT_SEEK_LE, &k, &v) == PT_ENOTFOUND,
	    "seek LE before the first -> not found");
	ok(pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v) == PT_OK &&
	    memcmp(k.data, "k00", 3) == 0, "first");
	for (n = 1; pt_cursor_next(cur, &k, &v) == PT_OK; n++)
		;
	is_int(n, 10, "walk visits every key");
	pt_cursor_close(cur);
	pt_txn_abort(t);

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_cursor_open(t, PT_T_AUX, &cur);
	n = 0;
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v); rc == PT_OK;
	    rc = pt_cursor_next(cur, &k, &v))
		if (((const char *)k.data)[2] == '0' ||
		    ((const char *)k.data)[2] == '4') {
			pt_cursor_del(cur);
			n++;
		}
	pt_cursor_close(cur);
	pt_txn_commit(t);
	is_int(n, 4, "deleted k00 k04 k10 k14 while walking");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_AUX, "k02", 3, &v) == PT_OK &&
	    pt_get(t, PT_T_AUX, "k04", 3, &v) == PT_ENOTFOUND &&
	    pt_get(t, PT_T_AUX, "k16", 3, &v) == PT_OK,
	    "the right keys are gone");
	pt_txn_abort(t);

	/* Oversized key. */
	{
		char big[600];

		memset(big, 'x', sizeof(big));
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		ok(pt_put(t, PT_T_AUX, big, sizeof(big), "v", 1, 0) ==
		    PT_ETOOBIG, "a key above the engine limit is ETOOBIG");
		pt_txn_abort(t);
	}

	/* A read-only second handle sees committed data. */
	ro.read_only = 1;
	ok(pt_store_open(sub, &ro, &r, err, sizeof(err)) == PT_OK,
	    "read-only open");
	pt_txn_begin(r, NULL, PT_TXN_READ, &t);
	ok(pt_get(t, PT_T_META, "a", 1, &v) == PT_OK, "read-only handle reads");
	pt_txn_abort(t);
	ok(pt_txn_begin(r, NULL, PT_TXN_WRITE, &t) == PT_EINVAL,
	    "read-only handle refuses a write txn");
	pt_store_close(r);
	pt_store_close(s);

	/* Map full: the write fails cleanly and earlier data survives. */
	snprintf(sub, sizeof(sub), "%s/tiny", dir);
	s = tu_store(sub, 256 * 1024);
	{
		char val[4000];
		int full = 0;

		memset(val, 'v', sizeof(val));
		for (i = 0; i < 1000 && !full; i++) {
			pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
			n = snprintf(key, sizeof(key), "%06d", i);
			rc = pt_put(t, PT_T_AUX, key, (size_t)n, val, sizeof(val),
			    0);
			if (rc == PT_OK)
				rc = pt_txn_commit(t);
			else
				pt_txn_abort(t);
			if (rc == PT_EFULL)
				full = 1;
		}
		ok(full, "a small map fills up with EFULL (after %d puts)", i);
		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		ok(pt_get(t, PT_T_AUX, "000000", 6, &v) == PT_OK &&
		    v.len == sizeof(val), "data before the full write survives");
		pt_txn_abort(t);
	}
	pt_store_close(s);

	/*
	 * Map full through the group committer: the waiting thread gets the
	 * committer thread's error text (it used to get an empty one, and
	 * logged "503 store_full ... (recording the event: )").
	 */
	snprintf(sub, sizeof(sub), "%s/tiny-group", dir);
	s = tu_store(sub, 256 * 1024);
	/* It grows itself (store.h): to no more than 1 MiB here. */
	pt_store_set_limits(s, 1 << 20, 0);
	{
		struct pt_committer *gc = NULL;

		ok(pt_committer_start(s, 8, &gc) == PT_OK, "committer starts");
		pt_store_set_errstr("");	/* not the text of the test above */
		rc = PT_OK;
		for (i = 0; i < 1000 && rc == PT_OK; i++)
			rc = pt_committer_run(gc, put_big, &i);
		is_int(rc, PT_EFULL, "group commit on a small map: EFULL "
		    "(after %d jobs)", i);
		ok(strstr(pt_store_errstr(), "MDB_MAP_FULL") != NULL ||
		    strstr(pt_store_errstr(), "ceiling") != NULL,
		    "  ... and this thread has the error text: %s",
		    pt_store_errstr());
		{
			struct pt_store_stat ss;
			enum pt_err src;

			/* Stat first: the arguments' order is unspecified. */
			memset(&ss, 0, sizeof(ss));
			src = pt_store_stat(s, &ss);
			ok(src == PT_OK && ss.map_size >
			    256 * 1024 && ss.map_size <= 1 << 20,
			    "  ... after the map grew to its ceiling (%llu)",
			    (unsigned long long)ss.map_size);
		}
		pt_committer_stop(gc);
	}
	pt_store_close(s);

	/*
	 * At the ceiling with an owner that deletes: every write goes in,
	 * and the map is let past the ceiling only for the deletes' own
	 * copies, then clamped back (writes that took that room left the
	 * next deletes none: 503s under load).
	 */
	/* A URI fit to print: no password, whichever way it is given. */
	{
		static const struct { const char *in, *out; } uris[] = {
			{ "/var/lib/porter", "/var/lib/porter" },
			{ "postgresql://porter@db/porter",
			    "postgresql://porter@db/porter" },
			{ "postgresql://porter:s3cret@db:5432/porter",
			    "postgresql://porter:***@db:5432/porter" },
			{ "postgres://u:p@h/d?sslmode=require&password=s3cret",
			    "postgres://u:***@h/d?sslmode=require&password=***" },
			{ "postgresql://h/d?password=s3cret",
			    "postgresql://h/d?password=***" },
			{ "postgresql://h/d?x=a@b", "postgresql://h/d?x=a@b" },
		};
		char shown[200];
		size_t u;

		for (u = 0; u < sizeof(uris) / sizeof(uris[0]); u++)
			is_str(pt_store_display(uris[u].in, shown,
			    sizeof(shown)), uris[u].out, "display: %s",
			    uris[u].in);
	}

	snprintf(sub, sizeof(sub), "%s/clamp", dir);
	s = tu_store(sub, 256 * 1024);
	pt_store_set_limits(s, 1 << 20, 0);
	pt_store_set_make_room(s, drop_oldest, NULL);
	rc = PT_OK;
	for (i = 0; i < 2000 && rc == PT_OK; i++)
		rc = pt_write(s, NULL, put_big, &i);
	is_int(rc, PT_OK, "at the ceiling, deleting the oldest: 2000 writes "
	    "of 4 KB in a 1 MiB store go in (%d, %s)", i, pt_store_errstr());
	ok(hook_calls > 10, "  ... the owner made room (%d calls)",
	    hook_calls);
	{
		struct pt_store_stat ss;
		enum pt_err src;

		memset(&ss, 0, sizeof(ss));
		src = pt_store_stat(s, &ss);
		ok(src == PT_OK && ss.map_size <= (ss.used > (1 << 20) ?
		    ss.used : 1 << 20), "  ... the map is back within the "
		    "ceiling or the pages in use (map %llu, used %llu)",
		    (unsigned long long)ss.map_size,
		    (unsigned long long)ss.used);
	}
	pt_store_close(s);

	/*
	 * Another process grows the map past this one's: the process adopts
	 * the new size, threads or not; only when its own transactions do not
	 * end (one is held here) does it refuse and ask to restart.
	 */
	{
		int threaded;

		for (threaded = 0; threaded < 2; threaded++) {
			struct pt_txn *held;
			pid_t pid;
			int wst;

			snprintf(sub, sizeof(sub), "%s/grow%d", dir, threaded);
			s = tu_store(sub, 256 * 1024);
			held = NULL;
			if (threaded) {
				pt_store_set_threaded(s);
				/* A snapshot this thread keeps open. */
				pt_txn_begin(s, NULL, PT_TXN_READ, &held);
			}
			if ((pid = fork()) == 0) {
				struct pt_store *big = tu_store(sub, 4 << 20);
				enum pt_err wrc = PT_OK;

				for (i = 0; i < 200 && wrc == PT_OK; i++)
					if ((wrc = pt_txn_begin(big, NULL,
					    PT_TXN_WRITE, &t)) == PT_OK &&
					    (wrc = put_big(t, &i)) == PT_OK)
						wrc = pt_txn_commit(t);
				pt_store_close(big);
				_exit(wrc == PT_OK ? 0 : 1);
			}
			waitpid(pid, &wst, 0);
			ok(WIFEXITED(wst) && WEXITSTATUS(wst) == 0,
			    "%s: another process wrote 800 KB past a 256 KB "
			    "map", threaded ? "threaded" : "alone");
			if (threaded) {
				rc = pt_txn_begin(s, NULL, PT_TXN_READ, &t);
				is_int(rc, PT_EFULL, "threaded, a transaction "
				    "held: EFULL (a retryable 503)");
				ok(pt_store_resized(s), "  ... and a restart "
				    "is asked: %s", pt_store_errstr());
				if (held != NULL)
					pt_txn_abort(held);
			}
			rc = pt_txn_begin(s, NULL, PT_TXN_READ, &t);
			is_int(rc, PT_OK, "%s: the new size is adopted",
			    threaded ? "threaded, none held" : "alone");
			if (rc == PT_OK)
				pt_txn_abort(t);
			if (!threaded)
				ok(!pt_store_resized(s), "  ... no restart "
				    "asked");
			pt_store_close(s);
		}
	}

	/* A world-writable directory is refused. */
	snprintf(sub, sizeof(sub), "%s/open", dir);
	mkdir(sub, 0700);
	chmod(sub, 0777);
	ok(pt_store_open(sub, NULL, &s, err, sizeof(err)) == PT_EINVAL &&
	    strstr(err, "world-writable") != NULL,
	    "world-writable directory refused: %s", err);
	tu_rmdir(dir);
	return tap_done();
}
