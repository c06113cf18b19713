/*
 * metrics.c - Prometheus metrics kept in the store (see metrics.h).
 *
 * Key: "m" NUL name NUL labels, where labels is the Prometheus label text
 * ('source="tasks",environment="production"'); value: 8-byte big-endian
 * count.  A histogram is a counter per bucket ("le" label, cumulative when
 * rendered), plus _sum (in microseconds) and _count.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "commit.h"
#include "metrics.h"
#include "nitems.h"
#include "capacity.h"
#include "timeutil.h"

static const char prefix[] = "m";	/* then a NUL */

/* Latency buckets, in seconds (and microseconds). */
static const struct {
	const char	*le;
	int64_t		 us;
} buckets[] = {
	{ "0.001", 1000 }, { "0.0025", 2500 }, { "0.005", 5000 },
	{ "0.01", 10000 }, { "0.025", 25000 }, { "0.05", 50000 },
	{ "0.1", 100000 }, { "0.25", 250000 }, { "0.5", 500000 },
	{ "1", 1000000 }, { "2.5", 2500000 }, { "5", 5000000 },
	{ "10", 10000000 }, { "+Inf", INT64_MAX },
};
#define NBUCKETS (nitems(buckets))

/*
 * Refusals this process counted and has not yet added to the store's
 * counters (pt_metrics_flush), by status; "refused_any" says whether any.
 */
#define NSTATUS	600
static uint64_t refused[NSTATUS];
static int refused_any;

/*
 * Label text on the stack: these run in every event's write, where
 * allocations showed up in profiles.  Text that does not fit is marked
 * "over" and the metric is skipped (keys stay within the store's limit).
 */
struct lbuf {
	char	d[384];
	size_t	len;
	int	over;
};

static void
lput(struct lbuf *l, const char *s, size_t n)
{
	/* memcpy from NULL is undefined even for 0 bytes (fuzz-handler). */
	if (n == 0)
		return;
	if (l->over || n > sizeof(l->d) - l->len) {
		l->over = 1;
		return;
	}
	memcpy(l->d + l->len, s, n);
	l->len += n;
}

/* Label values are escaped as Prometheus wants: \\, \", \n. */
static void
label(struct lbuf *l, const char *name, const char *value)
{
	if (l->len)
		lput(l, ",", 1);
	lput(l, name, strlen(name));
	lput(l, "=\"", 2);
	for (; value && *value; value++) {
		if (*value == '\\' || *value == '"')
			lput(l, "\\", 1);
		if (*value == '\n')
			lput(l, "\\n", 2);
		else
			lput(l, value, 1);
	}
	lput(l, "\"", 1);
}

/*
 * Key "m" NUL name NUL labels of a stored metric, into "k" (at least 512
 * bytes); 0 for absurd labels, which are skipped (keys stay within the
 * store's limit).
 */
static size_t
metric_key(char *k, const char *name, const struct lbuf *labels)
{
	size_t nl = strlen(name), kl;

	kl = sizeof(prefix) + nl + 1 + labels->len;
	if (labels->over || kl > 400)
		return 0;
	memcpy(k, prefix, sizeof(prefix));
	memcpy(k + sizeof(prefix), name, nl + 1);
	memcpy(k + sizeof(prefix) + nl + 1, labels->d, labels->len);
	return kl;
}

/*
 * Gauge name{labels} becomes "v" unless it holds more already: writes
 * of one process's threads commit in any order.
 */
static enum pt_err
raise_to(struct pt_txn *txn, const char *name, const struct lbuf *labels,
    uint64_t v)
{
	char k[512];
	size_t kl;

	if ((kl = metric_key(k, name, labels)) == 0)
		return PT_OK;
	return pt_max_u64(txn, PT_T_AUX, k, kl, v);
}

/* Add "delta" to counter name{labels}. */
static enum pt_err
add(struct pt_txn *txn, const char *name, const struct lbuf *labels,
    uint64_t delta)
{
	char k[512];
	size_t kl;

	if ((kl = metric_key(k, name, labels)) == 0)
		return PT_OK;
	return pt_add_u64(txn, PT_T_AUX, k, kl, delta);
}

/* Observe "us" microseconds in histogram "name" with "labels". */
static enum pt_err
observe(struct pt_txn *txn, const char *name, const struct lbuf *labels,
    int64_t us)
{
	struct lbuf l = *labels;
	char n[96];
	enum pt_err rc;
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < NBUCKETS && us > buckets[i].us; i++)
		;
	label(&l, "le", buckets[i].le);
	snprintf(n, sizeof(n), "%s_bucket", name);
	if ((rc = add(txn, n, &l, 1)) != PT_OK)
		return rc;
	snprintf(n, sizeof(n), "%s_sum_us", name);
	if ((rc = add(txn, n, labels, (uint64_t)us)) != PT_OK)
		return rc;
	snprintf(n, sizeof(n), "%s_count", name);
	return add(txn, n, labels, 1);
}

enum pt_err
pt_metrics_event(struct pt_txn *txn, const struct pt_event *ev, int64_t now)
{
	struct lbuf l = { .len = 0 }, base;
	enum pt_err rc;

	label(&l, "source", ev->source);
	label(&l, "environment", ev->environment);
	base = l;
	label(&l, "status", ev->status);
	if ((rc = add(txn, "porter_events_total", &l, 1)) != PT_OK)
		return rc;
	if (ev->verify_status && strstr(ev->verify_status, ":failed")) {
		l = base;
		label(&l, "reason", ev->verify_reason ? ev->verify_reason : "");
		label(&l, "enforced", strncmp(ev->verify_status, "enforced", 8) ==
		    0 ? "true" : "false");
		if ((rc = add(txn, "porter_verification_failures_total", &l,
		    1)) != PT_OK)
			return rc;
	}
	if (strcmp(ev->status, "idempotent") == 0 &&
	    (rc = add(txn, "porter_idempotent_replays_total", &base, 1)) !=
	    PT_OK)
		return rc;
	if ((rc = raise_to(txn, "porter_last_event_timestamp_seconds", &base,
	    (uint64_t)(ev->received_at > 0 ? ev->received_at : 0))) != PT_OK)
		return rc;
	l.len = 0;
	l.over = 0;
	label(&l, "source", ev->source);
	return observe(txn, "porter_request_duration_seconds", &l,
	    now - ev->received_at);
}

enum pt_err
pt_metrics_action(struct pt_txn *txn, const char *action, const char *status)
{
	struct lbuf l = { .len = 0 };

	label(&l, "action", action);
	label(&l, "status", status);
	return add(txn, "porter_actions_total", &l, 1);
}

enum pt_err
pt_metrics_handler(struct pt_txn *txn, const char *workflow,
    int64_t duration_ms, int ok)
{
	struct lbuf l = { .len = 0 };
	enum pt_err rc;

	label(&l, "workflow", workflow);
	if ((rc = observe(txn, "porter_handler_duration_seconds", &l,
	    duration_ms * 1000)) != PT_OK)
		return rc;
	label(&l, "result", ok ? "success" : "failed");
	return add(txn, "porter_handlers_total", &l, 1);
}

void
pt_metrics_refused(int status)
{
	if (status < 0 || status >= NSTATUS)
		return;
	__atomic_fetch_add(&refused[status], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&refused_any, 1, __ATOMIC_RELAXED);
}

/* The refusals taken out of the per-process counts, for one write. */
struct flush {
	uint64_t	n[NSTATUS];
};

static enum pt_err
flush_fn(struct pt_txn *txn, void *arg)
{
	const struct flush *f = arg;
	struct lbuf l;
	char st[8];
	enum pt_err rc;
	int i;

	/* From "f" alone: pt_write may run this twice. */
	for (i = 0; i < NSTATUS; i++) {
		if (f->n[i] == 0)
			continue;
		l.len = 0;
		l.over = 0;
		snprintf(st, sizeof(st), "%d", i);
		label(&l, "status", st);
		if ((rc = add(txn, "porter_requests_refused_total", &l,
		    f->n[i])) != PT_OK)
			return rc;
	}
	return PT_OK;
}

enum pt_err
pt_metrics_flush(struct pt_store *s, struct pt_committer *c)
{
	struct flush *f;
	enum pt_err rc;
	int i, any = 0;

	if (!__atomic_exchange_n(&refused_any, 0, __ATOMIC_RELAXED))
		return PT_OK;
	if ((f = pt_calloc(1, sizeof(*f))) == NULL) {
		__atomic_store_n(&refused_any, 1, __ATOMIC_RELAXED);
		return PT_ENOMEM;
	}
	for (i = 0; i < NSTATUS; i++)
		any |= (f->n[i] = __atomic_exchange_n(&refused[i], 0,
		    __ATOMIC_RELAXED)) != 0;
	rc = any ? pt_write(s, c, flush_fn, f) : PT_OK;
	/* Not written: keep them for the next flush. */
	if (rc != PT_OK) {
		for (i = 0; i < NSTATUS; i++)
			if (f->n[i])
				__atomic_fetch_add(&refused[i], f->n[i],
				    __ATOMIC_RELAXED);
		__atomic_store_n(&refused_any, 1, __ATOMIC_RELAXED);
	}
	pt_free(f);
	return rc;
}

/*
 * What each stored metric is, for # HELP / # TYPE; "us": stored in
 * microseconds, shown in seconds.
 */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 us;
} families[] = {
	{ "porter_events_total", "counter", "Events logged, by source, "
	  "environment and status.", 0 },
	{ "porter_verification_failures_total", "counter", "Requests whose "
	  "signature check failed, by reason.", 0 },
	{ "porter_idempotent_replays_total", "counter", "Duplicates answered "
	  "from an earlier execution.", 0 },
	{ "porter_actions_total", "counter", "Actions that reached a final "
	  "status, by action and status.", 0 },
	{ "porter_handlers_total", "counter", "Workflow handler runs, by "
	  "workflow and result.", 0 },
	{ "porter_handler_duration_seconds", "histogram", "Workflow handler "
	  "run time.", 0 },
	{ "porter_request_duration_seconds", "histogram", "Time from a "
	  "request's arrival to its event's write (before the commit).", 0 },
	{ "porter_requests_refused_total", "counter", "Requests refused "
	  "before an event was logged (unknown endpoint, bad length or type, "
	  "store full or unavailable, ...), by HTTP status; a request is "
	  "counted here or in porter_events_total, never both.", 0 },
	{ "porter_last_event_timestamp_seconds", "gauge", "When the newest "
	  "event logged for a source and environment arrived (unix time).",
	  1 },
};

/* Get counter "name{labels}" (labels "n" bytes); 0 when absent. */
static uint64_t
get(struct pt_txn *txn, const char *name, const char *labels, size_t n)
{
	struct pt_buf k = { 0 };
	struct pt_val v;
	uint64_t c = 0;

	pt_buf_add(&k, prefix, sizeof(prefix));
	pt_buf_add(&k, name, strlen(name) + 1);
	pt_buf_add(&k, labels, n);
	if (!k.failed && pt_get(txn, PT_T_AUX, k.data, k.len, &v) == PT_OK &&
	    v.len == 8)
		c = pt_be64_get(v.data);
	pt_buf_free(&k);
	return c;
}

/*
 * Render one family: counters as they are; histograms per series as
 * cumulative buckets, _sum (seconds) and _count, all in one group.
 */
static enum pt_err
render_family(struct pt_txn *txn, size_t f, struct pt_buf *out)
{
	struct pt_cursor *cur = NULL;
	struct pt_buf seek = { 0 }, l = { 0 };
	struct pt_val k, v;
	enum pt_err rc;
	const char *labels;
	char name[128];
	size_t n, b;
	int hist = strcmp(families[f].type, "histogram") == 0, header = 0;
	uint64_t cum;

	snprintf(name, sizeof(name), "%s%s", families[f].name, hist ?
	    "_count" : "");
	pt_buf_add(&seek, prefix, sizeof(prefix));
	pt_buf_add(&seek, name, strlen(name) + 1);
	if (seek.failed)
		return PT_ENOMEM;
	if ((rc = pt_cursor_open(txn, PT_T_AUX, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, seek.data, seek.len, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len < seek.len || memcmp(k.data, seek.data, seek.len) != 0)
			break;
		if (v.len != 8)
			continue;
		if (!header) {
			pt_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
			    families[f].name, families[f].help, families[f].name,
			    families[f].type);
			header = 1;
		}
		labels = (const char *)k.data + seek.len;
		n = k.len - seek.len;
		if (!hist && families[f].us) {
			pt_buf_printf(out, "%s{%.*s} %.6f\n", name, (int)n, labels,
			    (double)pt_be64_get(v.data) / 1e6);
			continue;
		}
		if (!hist) {
			pt_buf_printf(out, "%s{%.*s} %llu\n", name, (int)n, labels,
			    (unsigned long long)pt_be64_get(v.data));
			continue;
		}
		/* Copy the series' labels: the cursor's data may move. */
		pt_buf_reset(&l);
		if (pt_buf_add(&l, labels, n) != PT_OK) {
			rc = PT_ENOMEM;
			goto out;
		}
		snprintf(name, sizeof(name), "%s_bucket", families[f].name);
		for (cum = 0, b = 0; b < NBUCKETS; b++) {
			struct lbuf bl = { .len = 0 };

			lput(&bl, l.data, l.len);
			label(&bl, "le", buckets[b].le);
			if (bl.over)
				continue;
			cum += get(txn, name, bl.d, bl.len);
			pt_buf_printf(out, "%s{%.*s} %llu\n", name, (int)bl.len,
			    bl.d, (unsigned long long)cum);
		}
		snprintf(name, sizeof(name), "%s_sum_us", families[f].name);
		pt_buf_printf(out, "%s_sum{%.*s} %.6f\n", families[f].name,
		    (int)l.len, l.data, (double)get(txn, name, l.data, l.len) /
		    1e6);
		pt_buf_printf(out, "%s_count{%.*s} %llu\n", families[f].name,
		    (int)l.len, l.data, (unsigned long long)pt_be64_get(v.data));
		snprintf(name, sizeof(name), "%s_count", families[f].name);
	}
	rc = rc == PT_ENOTFOUND ? PT_OK : rc;
out:
	pt_cursor_close(cur);
	pt_buf_free(&seek);
	pt_buf_free(&l);
	return rc;
}

/* The store's growth (capacity.h pt_capacity_forecast). */
static void
forecast_metrics(struct pt_buf *out, const struct pt_store_stat *st,
    const struct pt_forecast *f)
{
	pt_buf_printf(out, "# HELP porter_store_ceiling_bytes The most the "
	    "store grows to (settings.max_store_bytes; 0: the disk "
	    "decides).\n# TYPE porter_store_ceiling_bytes gauge\n"
	    "porter_store_ceiling_bytes %llu\n",
	    (unsigned long long)st->ceiling);
	pt_buf_printf(out, "# HELP porter_store_limit_bytes What the store "
	    "can reach: in use plus the room left (0: not known, a "
	    "database server's disk).\n# TYPE "
	    "porter_store_limit_bytes gauge\nporter_store_limit_bytes %llu\n",
	    (unsigned long long)f->limit);
	pt_buf_printf(out, "# HELP porter_store_bytes_per_event Data bytes "
	    "per logged event now.\n# TYPE porter_store_bytes_per_event "
	    "gauge\nporter_store_bytes_per_event %.1f\n", f->bytes_per_event);
	pt_buf_printf(out, "# HELP porter_store_events_last_day Events "
	    "logged in the last 24 hours.\n# TYPE "
	    "porter_store_events_last_day gauge\n"
	    "porter_store_events_last_day %llu\n",
	    (unsigned long long)f->events_per_day);
	pt_buf_printf(out, "# HELP porter_store_days_to_full Days until the "
	    "store reaches its limit at the last day's rate; -1 when "
	    "retention keeps it below (or it cannot be told).\n# TYPE "
	    "porter_store_days_to_full gauge\nporter_store_days_to_full "
	    "%.1f\n", f->steady ? -1.0 : f->days_to_full);
	pt_buf_printf(out, "# HELP porter_store_evicted_events_total Oldest "
	    "event logs deleted to make room at the ceiling.\n# TYPE "
	    "porter_store_evicted_events_total counter\n"
	    "porter_store_evicted_events_total %llu\n",
	    (unsigned long long)f->evicted);
}

enum pt_err
pt_metrics_render(struct pt_store *s, int64_t retention_days,
    struct pt_buf *out)
{
	struct pt_store_stat st;
	struct pt_forecast f;
	struct pt_txn *txn = NULL;
	enum pt_err rc;
	size_t i;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	for (i = 0; i < nitems(families); i++)
		if ((rc = render_family(txn, i, out)) != PT_OK)
			goto out;

	/* The build, and the store itself. */
	pt_buf_printf(out, "# HELP porter_build_info The responder's version "
	    "and storage backend.\n# TYPE porter_build_info gauge\n"
	    "porter_build_info{version=\"%s\",backend=\"%s\"} 1\n",
	    PACKAGE_VERSION, pt_store_backend(s));
	if (pt_store_stat(s, &st) == PT_OK) {
		pt_buf_printf(out, "# HELP porter_store_map_bytes The largest "
		    "the store may grow to.\n# TYPE porter_store_map_bytes "
		    "gauge\nporter_store_map_bytes %llu\n",
		    (unsigned long long)st.map_size);
		pt_buf_printf(out, "# HELP porter_store_used_bytes Bytes of the "
		    "map in use.\n# TYPE porter_store_used_bytes gauge\n"
		    "porter_store_used_bytes %llu\n",
		    (unsigned long long)st.used);
		pt_buf_printf(out, "# HELP porter_store_map_used_ratio Share of "
		    "the map in use; above 0.9 the store is nearly full.\n"
		    "# TYPE porter_store_map_used_ratio gauge\n"
		    "porter_store_map_used_ratio %.4f\n", st.map_size ?
		    (double)st.used / (double)st.map_size : 0.0);
		pt_buf_printf(out, "# HELP porter_store_nearly_full 1 when more "
		    "than 90%% of what the store can reach (the ceiling, or "
		    "the disk) is in use.\n# TYPE porter_store_nearly_full "
		    "gauge\nporter_store_nearly_full %d\n",
		    pt_capacity_nearly_full(&st));
		if (*st.server) {
			pt_buf_printf(out, "# HELP porter_store_connections "
			    "This process's open connections to the database "
			    "server.\n# TYPE porter_store_connections gauge\n"
			    "porter_store_connections %u\n", st.readers);
			pt_buf_printf(out, "# HELP porter_store_connections_max "
			    "The most this process opens "
			    "(PORTER_PG_CONNECTIONS).\n# TYPE "
			    "porter_store_connections_max gauge\n"
			    "porter_store_connections_max %u\n",
			    st.max_readers);
			pt_buf_printf(out, "# HELP "
			    "porter_store_round_trip_seconds One query to the "
			    "database server and back, timed at this scrape.\n"
			    "# TYPE porter_store_round_trip_seconds gauge\n"
			    "porter_store_round_trip_seconds %.6f\n",
			    (double)st.round_trip_us / 1e6);
		}
		pt_buf_printf(out, "# HELP porter_store_events Events in the "
		    "log.\n# TYPE porter_store_events gauge\n"
		    "porter_store_events %llu\n",
		    (unsigned long long)st.entries[PT_T_EVENTS]);
		if ((rc = pt_capacity_forecast(txn, &st, retention_days,
		    pt_now_us(), &f)) != PT_OK)
			goto out;
		forecast_metrics(out, &st, &f);
	}
	if (out->failed)
		rc = PT_ENOMEM;
out:
	pt_txn_abort(txn);
	return rc;
}
