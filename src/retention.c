/*
 * retention.c - delete logs older than the retention period, a bounded
 * number per write (see retention.h).
 */
#include "config.h"

#include <string.h>

#include "actidx.h"
#include "actions.h"
#include "eventlog.h"
#include "ids.h"
#include "json.h"
#include "retention.h"

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
	struct pt_val meta, body;
	pt_json *m = NULL, *acts;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK &&
	    rc != PT_ECORRUPT)
		return rc;
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
		rc = pt_del(txn, PT_T_EVENTS, id, PT_ID_BIN);
	if (rc == PT_OK)
		st->events++;
out:
	pt_json_put(m);
	return rc;
}

/*
 * Does the event of action log "id" still exist?  1 yes (or the record
 * cannot say: keep it), 0 no, -1 with *rc on a store error.
 */
static int
event_exists(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], enum pt_err *rc)
{
	struct pt_val meta, body;
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
	else if ((*rc = pt_eventlog_get(txn, eid, &meta, &body)) ==
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

enum pt_err
pt_retention_step(struct pt_txn *txn, const struct pt_config *cfg,
    int64_t now)
{
	struct pt_retention_stats st;

	memset(&st, 0, sizeof(st));
	return pt_retention_prune(txn, now, cfg ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT, PT_RETENTION_PER_ROUND, &st);
}
