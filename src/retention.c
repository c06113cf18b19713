/*
 * retention.c - delete logs older than the retention period, a bounded
 * number per write (see retention.h).
 */
#include "config.h"

#include <string.h>

#include "actidx.h"
#include "actions.h"
#include "eventlog.h"
#include "evrec.h"
#include "capacity.h"
#include "ids.h"
#include "json.h"
#include "logline.h"
#include "retention.h"
#include "timeutil.h"

#define DAY_US	(86400LL * 1000000)

/*
 * The first key of "table" when its time is before "cutoff": 0 and the
 * id in "id"; 1 when nothing is that old; -1 with *rc on a store error.
 * A cursor per call: the deletes that follow would invalidate it.
 */
static int
oldest(struct pt_txn *txn, enum pt_table table, int64_t cutoff,
    uint8_t id[PT_ID_BIN], enum pt_err *rc)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k;
	int found = 1;

	if ((*rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		return -1;
	*rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	if (*rc == PT_OK && k.len == PT_ID_BIN &&
	    pt_id_time(k.data) < cutoff) {
		memcpy(id, k.data, PT_ID_BIN);
		found = 0;
	}
	/* (A key of another length is never written: it stops the walk.) */
	pt_cursor_close(cur);
	if (*rc == PT_ENOTFOUND) {
		*rc = PT_OK;
		return 1;
	}
	return *rc == PT_OK ? found : -1;
}

/* Delete event "id" with its action logs; counts into "st". */
static enum pt_err
delete_event(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    struct pt_retention_stats *st)
{
	struct pt_buf meta = { 0 };
	pt_json *m = NULL, *acts;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	if ((rc = pt_eventlog_get(txn, id, &meta, NULL)) != PT_OK &&
	    rc != PT_ECORRUPT)
		goto out;
	if (rc == PT_OK && (m = pt_json_parse_trusted(meta.data, meta.len)) !=
	    NULL) {
		acts = pt_json_get(m, "actions");
		for (i = 0; i < pt_json_len(acts); i++) {
			if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i),
			    NULL), aid) < 0)
				continue;
			rc = pt_action_delete(txn, aid);
			if (rc == PT_OK)
				st->actions++;
			else if (rc != PT_ENOTFOUND)
				goto out;
		}
	}
	rc = pt_eventlog_delete(txn, id);
	/*
	 * A record that does not decode cannot name its index entries: drop
	 * the record alone (queries skip index entries without one, and
	 * `porterctl check` reports them).
	 */
	if (rc == PT_ECORRUPT)
		rc = pt_evrec_del(txn, id);
	if (rc == PT_OK)
		st->events++;
out:
	pt_json_put(m);
	pt_buf_free(&meta);
	return rc;
}

/*
 * Does the event of action log "id" still exist?  1 yes (or the record
 * cannot say: keep it), 0 no, -1 with *rc on a store error.
 */
static int
event_exists(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], enum pt_err *rc)
{
	struct pt_val v;
	uint8_t eid[PT_ID_BIN];
	pt_json *a = NULL;
	int r = 1;

	if ((*rc = pt_action_get(txn, id, &a)) != PT_OK) {
		if (*rc == PT_ECORRUPT) {
			*rc = PT_OK;
			return 0;	/* an unreadable log: nothing to keep */
		}
		return -1;
	}
	if (pt_id_parse("evt", pt_json_str(pt_json_get(a, "event_id"), NULL),
	    eid) < 0)
		r = 0;
	else if ((*rc = pt_get(txn, PT_T_EVENTS, eid, PT_ID_BIN, &v)) ==
	    PT_ENOTFOUND)
		r = 0;
	else if (*rc != PT_OK && *rc != PT_ECORRUPT)
		r = -1;
	pt_json_put(a);
	if (r >= 0)
		*rc = PT_OK;
	return r;
}

enum pt_err
pt_retention_prune(struct pt_txn *txn, int64_t now, int64_t days,
    size_t max, struct pt_retention_stats *st)
{
	uint8_t id[PT_ID_BIN];
	enum pt_err rc = PT_OK;
	int64_t cutoff;
	size_t n;
	int r = 1;

	if (days <= 0)
		days = PT_RETENTION_DAYS_DEFAULT;
	cutoff = now - days * DAY_US;
	for (n = 0; max == 0 || n < max; n++) {
		if ((r = oldest(txn, PT_T_EVENTS, cutoff, id, &rc)) != 0)
			break;
		if ((rc = delete_event(txn, id, st)) != PT_OK)
			return rc;
	}
	if (r < 0)
		return rc;
	if (max != 0 && n == max) {
		/* Old events remain: their action logs go with them later. */
		st->more = 1;
		return PT_OK;
	}
	/*
	 * Action logs left behind by an event deleted some other way.  One
	 * whose event still exists stops the walk: it goes with its event.
	 */
	for (n = 0; max == 0 || n < max; n++) {
		if ((r = oldest(txn, PT_T_ACTIONS, cutoff, id, &rc)) != 0)
			break;
		if ((r = event_exists(txn, id, &rc)) != 0)
			break;
		if ((rc = pt_action_delete(txn, id)) != PT_OK)
			return rc;
		st->actions++;
	}
	if (r < 0)
		return rc;
	if (max != 0 && n == max)
		st->more = 1;
	return PT_OK;
}

/* Delete the oldest "max" events (not a pending one); *n gets how many. */
static enum pt_err
evict(struct pt_txn *txn, size_t max, size_t *n, int64_t *first,
    int64_t *last)
{
	struct pt_retention_stats st;
	struct pt_buf meta = { 0 };
	uint8_t id[PT_ID_BIN];
	enum pt_err rc = PT_OK;
	const char *status;
	pt_json *m;
	int r;

	memset(&st, 0, sizeof(st));
	for (*n = 0; *n < max; ) {
		if ((r = oldest(txn, PT_T_EVENTS, INT64_MAX, id, &rc)) != 0)
			break;
		pt_buf_reset(&meta);
		m = pt_eventlog_get(txn, id, &meta, NULL) == PT_OK ?
		    pt_json_parse_trusted(meta.data, meta.len) : NULL;
		status = pt_json_str(pt_json_get(m, "status"), NULL);
		/* Its handlers still run: recovery needs the record. */
		r = status != NULL && strcmp(status, "pending") == 0;
		pt_json_put(m);
		if (r)
			break;
		if ((rc = delete_event(txn, id, &st)) != PT_OK)
			break;
		if (*n == 0)
			*first = pt_id_time(id);
		*last = pt_id_time(id);
		(*n)++;
	}
	pt_buf_free(&meta);
	return rc;
}

enum pt_err
pt_retention_evict_step(struct pt_txn *txn, size_t max)
{
	int64_t first = 0, last = 0;
	enum pt_err rc;
	size_t n = 0;

	static int64_t logged;	/* once a minute per process, not per write */
	char t[PT_RFC3339_LEN];
	int64_t now = pt_now_us(), was;

	if ((rc = evict(txn, max, &n, &first, &last)) != PT_OK || n == 0 ||
	    (rc = pt_capacity_evicted_add(txn, n)) != PT_OK)
		return rc;
	was = __atomic_load_n(&logged, __ATOMIC_RELAXED);
	if (now - was >= 60 * 1000000LL && __atomic_compare_exchange_n(&logged,
	    &was, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		pt_fmt_rfc3339(last, t);
		pt_log_stderr("store near its ceiling (settings.max_store_bytes): "
		    "deleted the %zu oldest event logs, up to %s, to make room "
		    "(and goes on as it writes; porterctl status counts them)",
		    n, t);
	}
	return PT_OK;
}

enum pt_err
pt_retention_make_room(struct pt_store *s, void *arg)
{
	struct pt_store_stat ss;
	struct pt_txn *txn = NULL;
	int64_t first = 0, last = 0;
	size_t max, n = 0;
	enum pt_err rc;
	char a[PT_RFC3339_LEN], b[PT_RFC3339_LEN];

	(void)arg;
	if ((rc = pt_store_stat(s, &ss)) != PT_OK)
		return rc;
	/* A two-hundredth of the log: a few calls free what a burst needs. */
	max = (size_t)(ss.entries[PT_T_EVENTS] / 200);
	max = max < PT_EVICT_MIN ? PT_EVICT_MIN : max > PT_EVICT_MAX ?
	    PT_EVICT_MAX : max;
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		return rc;
	if ((rc = evict(txn, max, &n, &first, &last)) != PT_OK || n == 0 ||
	    (rc = pt_capacity_evicted_add(txn, n)) != PT_OK)
		goto out;
	rc = pt_txn_commit(txn);
	txn = NULL;
	if (rc == PT_OK) {
		pt_fmt_rfc3339(first, a);
		pt_fmt_rfc3339(last, b);
		pt_log_stderr("store at its ceiling (%.1f MiB in use): deleted "
		    "the %zu oldest event logs (received %s to %s) to make "
		    "room", (double)ss.used / 1048576.0, n, a, b);
	}
out:
	pt_txn_abort(txn);
	if (rc == PT_OK && n == 0)
		rc = PT_ENOTFOUND;	/* nothing may be deleted */
	return rc;
}

enum pt_err
pt_retention_step(struct pt_txn *txn, const struct pt_config *cfg,
    int64_t now, unsigned rounds)
{
	struct pt_retention_stats st;

	struct pt_cursor *cur = NULL;
	struct pt_val k;
	enum pt_err rc;
	int64_t oldest = INT64_MAX;

	memset(&st, 0, sizeof(st));
	if ((rc = pt_retention_prune(txn, now, cfg ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT, PT_RETENTION_PER_ROUND * (rounds ? rounds :
	    1), &st)) != PT_OK)
		return rc;
	/* Dictionaries go with the last record that may use them. */
	if ((rc = pt_cursor_open(txn, PT_T_EVENTS, &cur)) != PT_OK)
		return rc;
	rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	if (rc == PT_OK && k.len == PT_ID_BIN)
		oldest = pt_id_time(k.data);
	pt_cursor_close(cur);
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		return rc;
	return pt_evrec_retire(txn, oldest);
}
