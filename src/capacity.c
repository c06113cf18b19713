/*
 * capacity.c - how the store fills, and what was deleted to make room
 * (see capacity.h).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "capacity.h"
#include "ids.h"
#include "timeutil.h"

#define DAY_US	(86400LL * 1000000)

static const char evicted_key[] = "evicted";

int
pt_capacity_nearly_full(const struct pt_store_stat *st)
{
	return st->room != UINT64_MAX && st->room < (st->used + st->room) / 10;
}

enum pt_err
pt_capacity_evicted(struct pt_txn *txn, uint64_t *count, int64_t *last_us)
{
	struct pt_val v;
	enum pt_err rc;

	*count = 0;
	*last_us = 0;
	rc = pt_get(txn, PT_T_META, evicted_key, sizeof(evicted_key) - 1, &v);
	if (rc == PT_OK && v.len == 16) {
		*count = pt_be64_get(v.data);
		*last_us = (int64_t)pt_be64_get((const uint8_t *)v.data + 8);
	}
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

/* Add "n" to the events deleted to make room. */
enum pt_err
pt_capacity_evicted_add(struct pt_txn *txn, size_t n)
{
	uint8_t rec[16];
	uint64_t count;
	int64_t last_us;
	enum pt_err rc;

	if ((rc = pt_capacity_evicted(txn, &count, &last_us)) != PT_OK)
		return rc;
	pt_be64_put(rec, count + n);
	pt_be64_put(rec + 8, (uint64_t)pt_now_us());
	return pt_put(txn, PT_T_META, evicted_key, sizeof(evicted_key) - 1,
	    rec, sizeof(rec), 0);
}

enum pt_err
pt_capacity_forecast(struct pt_txn *txn, const struct pt_store_stat *st,
    int64_t days, int64_t now, struct pt_forecast *f)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k;
	uint8_t from[PT_ID_BIN];
	uint64_t data, n = 0, grow;
	enum pt_err rc;

	memset(f, 0, sizeof(*f));
	f->days_to_full = -1;
	if (days <= 0)
		days = PT_CAPACITY_DAYS_DEFAULT;
	data = st->used > st->free ? st->used - st->free : 0;
	/* A database's room is its server's disk, which we cannot see. */
	f->limit = st->room == UINT64_MAX ? 0 : st->used + st->room;
	if (st->entries[PT_T_EVENTS] > 0)
		f->bytes_per_event = (double)data /
		    (double)st->entries[PT_T_EVENTS];
	if ((rc = pt_capacity_evicted(txn, &f->evicted, &f->evicted_at)) !=
	    PT_OK || (rc = pt_cursor_open(txn, PT_T_EVENTS, &cur)) != PT_OK)
		return rc;
	memset(from, 0, sizeof(from));
	pt_be64_put(from, (uint64_t)(now - DAY_US));
	for (rc = pt_cursor_seek(cur, from, sizeof(from), PT_SEEK_GE, &k, NULL);
	    rc == PT_OK && n < PT_FORECAST_SCAN; rc = pt_cursor_next(cur, &k,
	    NULL))
		n++;
	pt_cursor_close(cur);
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		return rc;
	f->events_per_day = n;
	if (n == 0 || f->bytes_per_event <= 0 || f->limit == 0)
		return PT_OK;
	/* What retention keeps: its days of events at today's rate. */
	f->steady_bytes = (uint64_t)(f->bytes_per_event * (double)n *
	    (double)(days + 1));
	if (f->steady_bytes < f->limit) {
		f->steady = 1;
		return PT_OK;
	}
	grow = f->limit > data ? f->limit - data : 0;
	f->days_to_full = (double)grow / (f->bytes_per_event * (double)n);
	return PT_OK;
}

