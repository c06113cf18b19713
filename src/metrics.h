/*
 * metrics.h - Prometheus metrics.
 *
 * Counters and histograms live in the store (PT_T_AUX, keys "m\0..."),
 * updated inside the write transactions that already happen for an event,
 * so every FastCGI process adds to the same numbers and a scrape of any
 * process sees them all, and they survive restarts.  Requests refused
 * before anything is logged (404, 405, 411, 413, 415, short bodies, a full
 * store) are counted in the process first and added to the store's
 * counters at most once a second (pt_metrics_flush), so that a flood of
 * them costs one write a second, not one each.
 */
#ifndef PT_METRICS_H
#define PT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "eventlog.h"
#include "store.h"

/*
 * One logged event: events by source/environment/status, verification
 * failures by reason, idempotent replays, and the request latency up to
 * the write ("now" - received_at).
 */
enum pt_err	pt_metrics_event(struct pt_txn *, const struct pt_event *,
		    int64_t now);
/* One action reaching a final status (success, skipped, failed, ...). */
enum pt_err	pt_metrics_action(struct pt_txn *, const char *action,
		    const char *status);
/* One workflow handler run. */
enum pt_err	pt_metrics_handler(struct pt_txn *, const char *workflow,
		    int64_t duration_ms, int ok);
/* A request refused before an event was logged: counted in the process. */
void		pt_metrics_refused(int status);
struct pt_committer;
/*
 * Add the refusals this process counted since the last flush to the
 * store's counters, in one write (through "committer" when not NULL).
 * When the write fails they are kept for the next flush.
 */
enum pt_err	pt_metrics_flush(struct pt_store *, struct pt_committer *);

/* Everything, in the Prometheus text format (version 0.0.4). */
/* "retention_days" (0: the default) for the store's forecast. */
enum pt_err	pt_metrics_render(struct pt_store *, int64_t retention_days,
		    struct pt_buf *out);

#endif
