/*
 * test-idem.c - idempotency records: key validity, scope, window expiry
 * (injected clock), leases, release, bounded pruning, consistency.
 */
#include "config.h"

#include <string.h>

#include "idem.h"
#include "tap.h"
#include "testutil.h"

#define SEC 1000000LL

static pt_json *
str_n(char c, size_t n)
{
	char *s = malloc(n + 1);
	pt_json *j;

	memset(s, c, n);
	s[n] = '\0';
	j = pt_json_new_str(s, n);
	free(s);
	return j;
}

/* "n" copies of "é" (2 bytes, 1 character). */
static pt_json *
accents(size_t n)
{
	char *s = malloc(2 * n + 1);
	pt_json *j;
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	j = pt_json_new_str(s, 2 * n);
	free(s);
	return j;
}

static void
report(void *arg, const char *line)
{
	(void)arg;
	diag("%s", line);
}

int
main(void)
{
	struct {
		const char	*desc;
		pt_json		*v;
		int		 valid;
		const char	*why;
	} keys[] = {
		{ "1 character", pt_json_new_cstr("k"), 1, NULL },
		{ "255 characters", str_n('a', 255), 1, NULL },
		{ "256 characters", str_n('a', 256), 0, "256 characters" },
		{ "255 two-byte characters", accents(255), 1, NULL },
		{ "256 two-byte characters", accents(256), 0, "256 characters" },
		{ "empty", pt_json_new_cstr(""), 0, "empty" },
		{ "integer", pt_json_new_int(42), 0, "integer, not a string" },
		{ "boolean", pt_json_new_bool(1), 0, "boolean, not a string" },
		{ "object", pt_json_new_object(), 0, "object, not a string" },
		{ "null", NULL, 0, "null, not a string" },
		{ "NUL inside", pt_json_new_str("a\0b", 3), 0, "NUL" },
		{ "invalid UTF-8", pt_json_new_str("a\xff", 2), 0, "UTF-8" },
	};
	struct pt_idem_scope sc = { "tasks", "production", "task.assigned",
	    "evt-1", 5 }, other;
	struct pt_idem_rec r;
	struct pt_store *s;
	struct pt_txn *t;
	uint8_t e1[PT_ID_BIN], e2[PT_ID_BIN];
	char *dir = tu_tmpdir(), why[200], text[PT_ID_MAX];
	int64_t now = 1700000000 * SEC, win = 86400 * SEC;
	size_t i, n;

	for (i = 0; i < nitems(keys); i++) {
		why[0] = '\0';
		is_int(pt_idem_key_valid(keys[i].v, why, sizeof(why)),
		    keys[i].valid, "key %s is %s", keys[i].desc,
		    keys[i].valid ? "valid" : "invalid");
		if (!keys[i].valid)
			ok(strstr(why, keys[i].why) != NULL, "  ... because %s",
			    why);
		pt_json_put(keys[i].v);
	}

	s = tu_store(dir, 0);
	pt_id_new("evt", now, e1, text);
	pt_id_new("evt", now, e2, text);

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_idem_lookup(t, &sc, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "unknown key: execute");
	ok(pt_idem_put(t, &sc, PT_IDEM_DONE, e1, now, now + win, 0) == PT_OK,
	    "record the execution");
	pt_txn_commit(t);

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_idem_lookup(t, &sc, now + 10 * SEC, win, &r);
	ok(r.state == PT_IDEM_DONE && memcmp(r.event_id, e1, PT_ID_BIN) == 0,
	    "same scope: replay, with the original event id");
	other = sc;
	other.event_type = "task.completed";
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "same key, other event type: executes");
	other = sc;
	other.environment = "development";
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "same key, other environment: executes");
	other = sc;
	other.source = "tasks2";
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "same key, other source: executes");
	other = sc;
	other.key = "evt-1x";
	other.key_len = 6;
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "other key: executes");
	pt_idem_lookup(t, &sc, now + win - 1, win, &r);
	is_int(r.state, PT_IDEM_DONE, "one microsecond before the window ends: "
	    "replay");
	pt_idem_lookup(t, &sc, now + win, win, &r);
	is_int(r.state, PT_IDEM_NONE, "at the end of the window: executes again");
	pt_idem_lookup(t, &sc, now + 3600 * SEC, 3600 * SEC, &r);
	is_int(r.state, PT_IDEM_NONE, "a shorter window applies at lookup");
	pt_txn_abort(t);

	/* A pending reservation: 409 until the lease ends, then stale. */
	other = sc;
	other.key = "evt-2";
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_idem_put(t, &other, PT_IDEM_PENDING, e2, now, now + 60 * SEC, 77);
	pt_idem_lookup(t, &other, now + 59 * SEC, win, &r);
	ok(r.state == PT_IDEM_PENDING && r.owner == 77, "pending within its "
	    "lease, with its owner");
	pt_idem_lookup(t, &other, now + 60 * SEC, win, &r);
	is_int(r.state, PT_IDEM_STALE, "pending past its lease: stale");
	ok(pt_idem_put(t, &other, PT_IDEM_DONE, e2, now + 61 * SEC,
	    now + 61 * SEC + win, 0) == PT_OK, "the owner finishes: done");
	pt_idem_lookup(t, &other, now + 62 * SEC, win, &r);
	is_int(r.state, PT_IDEM_DONE, "now it replays");
	ok(pt_idem_release(t, &other) == PT_OK, "release");
	pt_idem_lookup(t, &other, now + 62 * SEC, win, &r);
	is_int(r.state, PT_IDEM_NONE, "released: executes again");
	ok(pt_idem_release(t, &other) == PT_OK, "releasing twice is fine");
	pt_txn_commit(t);

	/* Long keys are hashed into the store key and still distinct. */
	{
		char a[300], b[300];

		memset(a, 'x', 255);
		memcpy(b, a, 255);
		b[254] = 'y';
		other = sc;
		other.key = a;
		other.key_len = 255;
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		ok(pt_idem_put(t, &other, PT_IDEM_DONE, e2, now, now + win, 0) ==
		    PT_OK, "a 255-byte key is stored");
		other.key = b;
		pt_idem_lookup(t, &other, now, win, &r);
		is_int(r.state, PT_IDEM_NONE, "a key differing in its last byte "
		    "does not match");
		other.key = a;
		pt_idem_lookup(t, &other, now, win, &r);
		is_int(r.state, PT_IDEM_DONE, "the same long key matches");
		pt_txn_commit(t);
	}

	/* Pruning: bounded, oldest first, only what expired. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	for (i = 0; i < 20; i++) {
		char k[16];

		other = sc;
		snprintf(k, sizeof(k), "p-%02zu", i);
		other.key = k;
		other.key_len = strlen(k);
		pt_idem_put(t, &other, PT_IDEM_DONE, e2, now, now + (int64_t)i *
		    SEC, 0);
	}
	pt_txn_commit(t);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_idem_prune(t, now + 9 * SEC, 4, &n);
	is_int(n, 4, "prune removes at most the bound");
	pt_idem_prune(t, now + 9 * SEC, 0, &n);
	is_int(n, 6, "then the rest that expired by then (p-04..p-09)");
	other.key = "p-09";
	other.key_len = 4;
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "p-09 is gone");
	other.key = "p-10";
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_DONE, "p-10 stays");
	is_int(pt_idem_check(t, report, NULL), 0, "indexes consistent");
	pt_txn_commit(t);

	/* Replacing a record moves its time-index entry. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	other.key = "p-15";
	pt_idem_put(t, &other, PT_IDEM_DONE, e1, now, now + 1000 * SEC, 0);
	pt_idem_prune(t, now + 20 * SEC, 0, &n);
	pt_idem_lookup(t, &other, now, win, &r);
	ok(r.state == PT_IDEM_DONE && memcmp(r.event_id, e1, PT_ID_BIN) == 0,
	    "a re-recorded key survives the prune of its old expiry");
	is_int(pt_idem_check(t, report, NULL), 0, "still consistent");
	pt_txn_commit(t);

	/*
	 * A pending reservation whose lease ran out is recovery's: the
	 * prune leaves it (its retry must find it stale and mark the dead
	 * execution), until PT_IDEM_PENDING_GRACE_US after the lease.
	 */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	other.key = "lease";
	other.key_len = 5;
	pt_idem_put(t, &other, PT_IDEM_PENDING, e1, now, now + 30 * SEC, 7);
	pt_idem_prune(t, now + 60 * SEC, 0, &n);
	is_int(n, 0, "prune: an expired lease is left to recovery");
	pt_idem_lookup(t, &other, now + 60 * SEC, win, &r);
	is_int(r.state, PT_IDEM_STALE, "  ... and a retry finds it stale");
	pt_idem_prune(t, now + 30 * SEC + PT_IDEM_PENDING_GRACE_US, 0, &n);
	pt_idem_lookup(t, &other, now, win, &r);
	is_int(r.state, PT_IDEM_NONE, "  ... removed once the grace after "
	    "its lease is over");
	is_int(n, 2, "  ... with p-15, the one other record left");
	is_int(pt_idem_check(t, report, NULL), 0, "consistent after it");
	pt_txn_commit(t);

	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
