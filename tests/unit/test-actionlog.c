/*
 * test-actionlog.c - the action log's queries and their index (actidx.h):
 * a status filter finds an old failure behind 10,000 newer successes in
 * one page, the index gives the pages the scan gives, recovery moves a
 * status entry, retention deletes entries with records, a store without
 * the index is backfilled, and `porterctl check` names what is missing.
 */
#include "config.h"

#include <string.h>

#include "actidx.h"
#include "actionlog.h"
#include "actions.h"
#include "eventlog.h"
#include "nitems.h"
#include "retention.h"
#include "tap.h"
#include "testutil.h"

#define T0	1700000000000000LL	/* µs */
#define DAY	(86400LL * 1000000)
#define MANY	10000			/* the API's max_scan */

/*
 * Write an action record at "us" without going through actions.c; its
 * index entries too when "indexed".  Its id into "id".
 */
static void
put_action(struct pt_txn *txn, int64_t us, const char *status,
    const char *action, const char *wf, const char *evt, int indexed,
    uint8_t id[PT_ID_BIN])
{
	struct pt_akeys ks;
	char text[PT_ID_MAX], rec[512];
	pt_json *j;

	if (pt_id_new("act", us, id, text) != PT_OK)
		abort();
	snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"event_id\":\"%s\","
	    "\"source\":\"tasks\",\"environment\":\"production\","
	    "\"event_type\":\"task.assigned\",\"action\":\"%s\","
	    "\"params\":{\"key\":\"%s\"},\"status\":\"%s\",\"payload\":null}",
	    text, evt ? evt : "evt_000SGEH1F0KHPSA1ZE6V3EDRED", action, wf,
	    status);
	if (pt_put(txn, PT_T_ACTIONS, id, PT_ID_BIN, rec, strlen(rec), 0) !=
	    PT_OK)
		abort();
	if (!indexed)
		return;
	if ((j = pt_json_parse_trusted(rec, strlen(rec))) == NULL)
		abort();
	pt_akeys_of(j, &ks);
	if (pt_action_index(txn, id, NULL, &ks) != PT_OK)
		abort();
	pt_json_put(j);
}

/* A query's ids, newest first. */
struct got {
	uint8_t		ids[64][PT_ID_BIN];
	size_t		n;
};

static int
collect(void *arg, const uint8_t id[PT_ID_BIN], pt_json *rec)
{
	struct got *g = arg;

	(void)rec;
	if (g->n < 64)
		memcpy(g->ids[g->n++], id, PT_ID_BIN);
	return 0;
}

static void
query(struct pt_store *s, const struct pt_action_query *q, struct got *g,
    struct pt_action_page *pg)
{
	struct pt_txn *txn;

	memset(g, 0, sizeof(*g));
	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	if (pt_actions_query(txn, q, collect, g, pg) != PT_OK)
		abort();
	pt_txn_abort(txn);
}

static int
indexed(struct pt_store *s)
{
	struct pt_txn *txn;
	int r;

	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	r = pt_actions_indexed(txn);
	pt_txn_abort(txn);
	return r;
}

static size_t chunks;

static void
count_chunk(void *arg, size_t done)
{
	(void)arg;
	(void)done;
	chunks++;
}

/*
 * An old failure behind MANY newer successes, written the way a store
 * from before the index has them: the scan cannot reach it within
 * max_scan; after the backfill the index finds it in one page.
 */
static void
test_backfill(struct pt_store *s, uint8_t failed[PT_ID_BIN])
{
	struct pt_action_query q;
	struct pt_action_page pg;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	struct got g;
	int i;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	put_action(txn, T0, "failed", "workflows_trigger", "flaky", NULL, 0,
	    failed);
	for (i = 1; i <= MANY; i++)
		put_action(txn, T0 + i, "success", "workflows_trigger",
		    i % 2 ? "task-assigned" : "welcome", NULL, 0, id);
	if (pt_txn_commit(txn) != PT_OK)
		abort();
	memset(&q, 0, sizeof(q));
	q.status = "failed";
	q.max_scan = MANY;
	query(s, &q, &g, &pg);
	ok(!indexed(s) && g.n == 0 && pg.more && pg.scanned == MANY,
	    "no index yet: the scan stops at max_scan before the failure");
	is_int(tu_problems(s), 0, "check: an index not yet built is no problem");

	chunks = 0;
	ok(pt_actions_index_build(s, 3000, count_chunk, NULL) == PT_OK &&
	    indexed(s), "backfill: built and marked");
	is_int(chunks, 4, "backfill: 10,001 records in chunks of 3,000");
	is_int(tu_entries(s, PT_T_ACT_IDX), 3 * (MANY + 1), "backfill: "
	    "status, action and workflow entries for every record");
	ok(pt_actions_index_build(s, 3000, count_chunk, NULL) == PT_OK &&
	    chunks == 4, "backfill: nothing to do the second time");
	query(s, &q, &g, &pg);
	ok(g.n == 1 && memcmp(g.ids[0], failed, PT_ID_BIN) == 0 && !pg.more &&
	    pg.scanned == 1, "status=failed: the old failure in one page, one "
	    "record read");
	q.status = NULL;
	q.workflow = "flaky";
	query(s, &q, &g, &pg);
	ok(g.n == 1 && memcmp(g.ids[0], failed, PT_ID_BIN) == 0 && !pg.more,
	    "workflow=flaky: the same, by the workflow entries");
	is_int(tu_problems(s), 0, "check: the built index agrees");
}

/* The index gives the pages, cursors and counts the scan gives. */
static void
test_same_pages(struct pt_store *s)
{
	static const struct {
		const char *status, *action, *workflow;
		int64_t since, until;
		size_t limit;
	} cases[] = {
		{ "success", NULL, "welcome", 0, 0, 3 },
		{ NULL, "workflows_trigger", NULL, 0, 0, 7 },
		{ NULL, NULL, "task-assigned", T0 + 9990, 0, 4 },
		{ "success", "workflows_trigger", NULL, 0, T0 + 9000, 5 },
		{ "failed", NULL, NULL, 0, 0, 1 },
		{ "skipped", NULL, NULL, 0, 0, 5 },
	};
	struct pt_action_query q;
	struct pt_action_page pi, ps;
	struct got gi, gs;
	struct pt_txn *txn;
	size_t i, page, bad = 0;
	uint8_t cur[PT_ID_BIN];

	for (i = 0; i < nitems(cases); i++) {
		memset(&q, 0, sizeof(q));
		q.status = cases[i].status;
		q.action = cases[i].action;
		q.workflow = cases[i].workflow;
		q.since = cases[i].since;
		q.until = cases[i].until;
		q.limit = cases[i].limit;
		for (page = 0; page < 3; page++) {
			query(s, &q, &gi, &pi);
			/* The scan: the same query while unmarked. */
			pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
			pt_del(txn, PT_T_META, "action_idx", 10);
			memset(&gs, 0, sizeof(gs));
			pt_actions_query(txn, &q, collect, &gs, &ps);
			pt_txn_abort(txn);
			/*
			 * The cursors may name different records (the last
			 * one read differs when some do not match): the
			 * index's, given to both, must page both alike.
			 */
			if (gi.n != gs.n || memcmp(gi.ids, gs.ids, gi.n *
			    PT_ID_BIN) != 0 || pi.more != ps.more) {
				diag("case %zu page %zu: index %zu more %d, "
				    "scan %zu more %d", i, page, gi.n, pi.more,
				    gs.n, ps.more);
				bad++;
			}
			if (!pi.more)
				break;
			memcpy(cur, pi.last, PT_ID_BIN);
			q.before = cur;
		}
	}
	is_int(bad, 0, "every filter: the index's pages are the scan's");
}

/* Recovery moves the status entry; check names stale entries. */
static void
test_status_move(struct pt_store *s)
{
	struct pt_action_query q;
	struct pt_action_page pg;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	struct got g;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	put_action(txn, T0 + MANY + 1, "pending", "workflows_trigger", "slow",
	    NULL, 1, id);
	pt_txn_commit(txn);
	memset(&q, 0, sizeof(q));
	q.status = "pending";
	query(s, &q, &g, &pg);
	ok(g.n == 1 && memcmp(g.ids[0], id, PT_ID_BIN) == 0,
	    "status=pending finds the pending one");
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	ok(pt_action_interrupt(txn, id, T0 + MANY + 2) == PT_OK &&
	    pt_txn_commit(txn) == PT_OK, "recovery interrupts it");
	query(s, &q, &g, &pg);
	is_int(g.n, 0, "status=pending: no longer");
	q.status = "interrupted";
	query(s, &q, &g, &pg);
	ok(g.n == 1 && memcmp(g.ids[0], id, PT_ID_BIN) == 0 && pg.scanned == 1,
	    "status=interrupted: found by its moved entry");
	is_int(tu_problems(s), 0, "check: no stale entry");
}

struct lines {
	char	text[4][200];
	size_t	n;
};

static void
keep_line(void *arg, const char *line)
{
	struct lines *l = arg;

	if (l->n < 4)
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", line);
	l->n++;
}

/* A missing entry and one without its record: check reports both. */
static void
test_check(struct pt_store *s, const uint8_t failed[PT_ID_BIN])
{
	uint8_t key[PT_AK_KEY_MAX], ghost[PT_ID_BIN];
	char ftext[PT_ID_MAX], gtext[PT_ID_MAX], want[200];
	struct pt_txn *txn;
	struct lines l;
	size_t n;

	pt_id_text("act", failed, ftext);
	pt_id_new("act", T0 + 5, ghost, gtext);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	n = pt_akey_prefix(PT_AK_STATUS, "failed", key);
	memcpy(key + n, failed, PT_ID_BIN);
	ok(pt_del(txn, PT_T_ACT_IDX, key, n + PT_ID_BIN) == PT_OK,
	    "the failure's status entry deleted by hand");
	memcpy(key + n, ghost, PT_ID_BIN);
	pt_put(txn, PT_T_ACT_IDX, key, n + PT_ID_BIN, "", 0, 0);
	pt_txn_commit(txn);

	memset(&l, 0, sizeof(l));
	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	n = pt_check(txn, keep_line, &l, NULL);
	pt_txn_abort(txn);
	is_int(n, 2, "check: two problems");
	snprintf(want, sizeof(want), "action %s: missing from the action index "
	    "(status failed)", ftext);
	is_str(l.n > 0 ? l.text[0] : NULL, want, "check: the missing entry");
	snprintf(want, sizeof(want), "action index: entry for %s, which does "
	    "not exist", gtext);
	is_str(l.n > 1 ? l.text[1] : NULL, want, "check: the entry without a "
	    "record");

	/* Put right again for what follows. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	pt_del(txn, PT_T_ACT_IDX, key, n + PT_ID_BIN);
	n = pt_akey_prefix(PT_AK_STATUS, "failed", key);
	memcpy(key + n, ghost, PT_ID_BIN);
	pt_del(txn, PT_T_ACT_IDX, key, n + PT_ID_BIN);
	memcpy(key + n, failed, PT_ID_BIN);
	pt_put(txn, PT_T_ACT_IDX, key, n + PT_ID_BIN, "", 0, 0);
	pt_txn_commit(txn);
	is_int(tu_problems(s), 0, "check: clean again");
}

/* Retention deletes the entries with the records, both ways it goes. */
static void
test_retention(struct pt_store *s)
{
	struct pt_retention_stats st;
	struct pt_event ev;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	char atext[PT_ID_MAX];
	pt_json *extra, *arr;

	memset(&ev, 0, sizeof(ev));
	pt_id_new("evt", T0 + MANY + 10, ev.id, ev.id_text);
	ev.received_at = ev.event_time = T0 + MANY + 10;
	ev.source = "tasks";
	ev.environment = "production";
	ev.endpoint_id = "ep";
	ev.event_type = "task.assigned";
	ev.status = "accepted";
	ev.verify_status = "not_enforced:unsigned";
	ev.body = (const uint8_t *)"{}";
	ev.body_len = 2;
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	put_action(txn, T0 + MANY + 10, "failed", "workflows_trigger", "flaky",
	    ev.id_text, 1, id);
	pt_id_text("act", id, atext);
	extra = pt_json_new_object();
	arr = pt_json_new_array();
	pt_json_append(arr, pt_json_new_cstr(atext));
	pt_json_set(extra, "actions", arr);
	ev.extra = extra;
	ok(pt_eventlog_append(txn, &ev) == PT_OK && pt_txn_commit(txn) ==
	    PT_OK, "an event with its action log");
	pt_json_put(extra);

	memset(&st, 0, sizeof(st));
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	ok(pt_retention_prune(txn, T0 + 2 * DAY, 1, 0, &st) == PT_OK &&
	    pt_txn_commit(txn) == PT_OK, "retention: everything is a day old");
	ok(st.events == 1 && st.actions == MANY + 3, "retention: the event "
	    "with its action, and the actions without one (%zu)", st.actions);
	is_int(tu_entries(s, PT_T_ACTIONS), 0, "retention: no action record");
	is_int(tu_entries(s, PT_T_ACT_IDX), 0, "retention: no index entry");
	is_int(tu_problems(s), 0, "retention: check finds nothing");
}

int
main(void)
{
	uint8_t failed[PT_ID_BIN];
	struct pt_store *s;
	char *dir = tu_tmpdir();

	s = tu_store(dir, 0);
	test_backfill(s, failed);
	test_same_pages(s);
	test_status_move(s);
	test_check(s, failed);
	test_retention(s);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
