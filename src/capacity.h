/*
 * capacity.h - the store's forecast for `porterctl status` and /metrics,
 * and the count of event logs deleted at the ceiling (retention.c
 * deletes them, store.h says when).
 */
#ifndef PT_CAPACITY_H
#define PT_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* The retention a forecast assumes when none is configured. */
#define PT_CAPACITY_DAYS_DEFAULT	30

/*
 * How the store fills: data bytes per logged event now (the pages holding
 * data over the events), events logged in the day before "now" (counted,
 * at most PT_FORECAST_SCAN), and the days until the ceiling (or the disk's
 * limit) at that rate -- or, when retention keeps the log below it,
 * "steady" with the size it keeps.  days < 0: cannot tell (no events).
 */
#define PT_FORECAST_SCAN	2000000
struct pt_forecast {
	double		bytes_per_event;
	uint64_t	events_per_day;
	double		days_to_full;	/* -1: cannot tell */
	int		steady;		/* retention keeps it below the limit */
	uint64_t	steady_bytes;
	uint64_t	limit;		/* the ceiling, or used + room; 0: not
					   known (a database server's disk) */
	uint64_t	evicted;	/* events deleted to make room */
	int64_t		evicted_at;
};
enum pt_err	pt_capacity_forecast(struct pt_txn *,
		    const struct pt_store_stat *, int64_t retention_days,
		    int64_t now, struct pt_forecast *);
/*
 * Is more than 90 % of what the store can reach (in use plus its room:
 * the ceiling, or the disk) in use?  The map's own size says nothing: it
 * grows itself.
 */
int		pt_capacity_nearly_full(const struct pt_store_stat *);
/* Events deleted so far to make room, and when last (µs; 0: never). */
enum pt_err	pt_capacity_evicted(struct pt_txn *, uint64_t *count,
		    int64_t *last_us);
/* Add "n" to them, now. */
enum pt_err	pt_capacity_evicted_add(struct pt_txn *, size_t n);

#endif
