/*
 * retention.h - event and action logs older than the configured
 * "log_retention_days" (settings, default 30, for the whole store) are
 * deleted, a bounded number at a time, so that the store levels off
 * instead of growing.
 *
 * Event ids and action log ids begin with their time (ids.h), so the
 * oldest records are the first keys of PT_T_EVENTS and PT_T_ACTIONS: each
 * step costs one cursor seek when nothing is due.  An event goes with its
 * action logs and its index entries (pt_eventlog_delete); an action log
 * whose event is already gone is deleted on its own once it is as old.
 * Workflow runs, the data actions made, idempotency records (idem.h) and
 * the event type counts are not logs and are left alone.
 */
#ifndef PT_RETENTION_H
#define PT_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "store.h"

#define PT_RETENTION_DAYS_DEFAULT	30
/*
 * Events (and stray action logs) deleted per housekeeping write at most.
 * The responder does housekeeping on every 8th write of a process
 * (execute.c), so this deletes up to 4 old events per new one: enough to
 * catch up after a pause while keeping every write's extra work small.
 */
#define PT_RETENTION_PER_ROUND		32

struct pt_retention_stats {
	size_t	events;		/* event logs deleted */
	size_t	actions;	/* action logs deleted (with events or alone) */
	int	more;		/* stopped at the bound: more may be due */
};

/*
 * Delete, oldest first, event logs received before "now" - "days" days
 * (µs clock), each with its action logs, then action logs as old whose
 * event is gone: at most "max" of each (0 = no limit).  Adds to "st".
 */
enum pt_err	pt_retention_prune(struct pt_txn *, int64_t now, int64_t days,
		    size_t max, struct pt_retention_stats *st);

/*
 * The bounded step the responder runs inside a write (execute.c
 * housekeep): pt_retention_prune with the retention of "cfg" (NULL: the
 * default) and "rounds" (at least 1) times PT_RETENTION_PER_ROUND.
 */
enum pt_err	pt_retention_step(struct pt_txn *, const struct pt_config *cfg,
		    int64_t now, unsigned rounds);

/*
 * At the store's ceiling (store.h pt_room_fn): delete the oldest event
 * logs with their action logs -- a bounded chunk in one transaction, never
 * an event whose handlers still run (pending), never data, runs or
 * idempotency records -- and count them (pt_retention_evicted).  PT_OK
 * when something went, PT_ENOTFOUND when nothing may, PT_EFULL when the
 * deletes themselves found no room.
 */
#define PT_EVICT_MIN	64	/* events per call at least */
#define PT_EVICT_MAX	2000	/* and at most */
enum pt_err	pt_retention_make_room(struct pt_store *, void *arg);
/*
 * Near the ceiling (pt_store_near_ceiling), inside a write: delete up to
 * "max" oldest event logs, counted like pt_retention_make_room's.
 */
enum pt_err	pt_retention_evict_step(struct pt_txn *, size_t max);
#endif
