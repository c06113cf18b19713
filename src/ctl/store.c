/*
 * store.c - porterctl status, check, prune and recover: the store's
 * health and upkeep.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "capacity.h"
#include "check.h"
#include "conf.h"
#include "ctl.h"
#include "evrec.h"
#include "handler.h"
#include "idem.h"
#include "json.h"
#include "retention.h"
#include "store.h"
#include "timeutil.h"

/* Events deleted per transaction by `porterctl prune`. */
#define PRUNE_BATCH	5000


/* What records are packed with (evrec.h). */
static pt_json *
dicts_json(const struct pt_evrec_dicts *d)
{
	char t[PT_RFC3339_LEN];
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	pt_json_set(o, "method", pt_json_new_cstr(d->current ? "zstd+dictionary" :
	    "zstd"));
	if (d->current) {
		pt_fmt_rfc3339(d->trained_at, t);
		pt_json_set(o, "dictionary", pt_json_new_int(d->current));
		pt_json_set(o, "trained_at", pt_json_new_cstr(t));
		pt_json_set(o, "trained_on_events",
		    pt_json_new_int((int64_t)d->trained_events));
	} else
		pt_json_set_null(o, "dictionary");
	pt_json_set(o, "dictionaries", pt_json_new_int(d->count));
	pt_json_set(o, "dictionary_bytes", pt_json_new_int((int64_t)d->bytes));
	return o;
}

static void
dicts_text(const struct pt_evrec_dicts *d)
{
	char t[PT_RFC3339_LEN];

	if (d->current == 0) {
		printf("compress   zstd; a dictionary is trained once %d events "
		    "are logged\n", PT_EVREC_TRAIN_MIN);
		return;
	}
	pt_fmt_rfc3339(d->trained_at, t);
	printf("compress   zstd, dictionary %u trained %s on %llu events "
	    "(%u kept, %.1f KiB)\n", (unsigned)d->current, t,
	    (unsigned long long)d->trained_events, d->count,
	    (double)d->bytes / 1024.0);
}

static pt_json *
forecast_json(const struct pt_store_stat *st, const struct pt_forecast *f)
{
	char t[PT_RFC3339_LEN];
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	pt_json_set(o, "ceiling", pt_json_new_int((int64_t)st->ceiling));
	pt_json_set(o, "limit", pt_json_new_int((int64_t)f->limit));
	pt_json_set(o, "bytes_per_event", pt_json_new_double(
	    f->bytes_per_event));
	pt_json_set(o, "events_last_day", pt_json_new_int((int64_t)
	    f->events_per_day));
	if (f->steady || f->days_to_full < 0)
		pt_json_set_null(o, "days_to_full");
	else
		pt_json_set(o, "days_to_full", pt_json_new_double(
		    f->days_to_full));
	pt_json_set(o, "steady", pt_json_new_bool(f->steady));
	pt_json_set(o, "steady_bytes", pt_json_new_int((int64_t)
	    f->steady_bytes));
	pt_json_set(o, "evicted_events", pt_json_new_int((int64_t)f->evicted));
	if (f->evicted_at) {
		pt_fmt_rfc3339(f->evicted_at, t);
		pt_json_set(o, "evicted_at", pt_json_new_cstr(t));
	} else
		pt_json_set_null(o, "evicted_at");
	return o;
}

static void
forecast_text(const struct pt_forecast *f, int64_t days)
{
	char t[PT_RFC3339_LEN];

	printf("capacity   %.0f bytes per event, %llu events in the last day; ",
	    f->bytes_per_event, (unsigned long long)f->events_per_day);
	if (f->limit == 0)
		printf("the database server's disk is the limit\n");
	else if (f->steady)
		printf("steady: %lld days of retention keep it at %.1f MiB "
		    "of %.1f MiB\n", (long long)(days > 0 ? days :
		    PT_RETENTION_DAYS_DEFAULT), (double)f->steady_bytes /
		    1048576.0, (double)f->limit / 1048576.0);
	else if (f->days_to_full >= 0)
		printf("full in %.0f days at this rate (limit %.1f MiB), then "
		    "the oldest logs go\n", f->days_to_full,
		    (double)f->limit / 1048576.0);
	else
		printf("no rate yet (limit %.1f MiB)\n",
		    (double)f->limit / 1048576.0);
	if (f->evicted) {
		pt_fmt_rfc3339(f->evicted_at, t);
		printf("evicted    %llu oldest events deleted at the ceiling, "
		    "last at %s\n", (unsigned long long)f->evicted, t);
	}
}

int
cmd_status(const struct ctl_args *a)
{
	struct pt_store_stat st;
	struct pt_evrec_dicts d;
	struct pt_forecast f;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_txn *txn = NULL;
	enum pt_err rc;
	pt_json *o, *counts;
	int json = a->given[CTL_K_JSON] > 0, t;
	char shown[512];
	double pct;

	s = ctl_open_store(1);
	/* The configuration's ceiling decides the room and the forecast. */
	cfg = ctl_load_config(s);
	pt_store_set_limits(s, (uint64_t)cfg->max_store_bytes,
	    cfg->min_free_disk_bytes < 0 ? PT_DISK_RESERVE_AUTO :
	    (uint64_t)cfg->min_free_disk_bytes);
	if (pt_store_stat(s, &st) != PT_OK)
		ctl_die("store: %s", pt_store_errstr());
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK ||
	    (rc = pt_evrec_dicts(txn, &d)) != PT_OK ||
	    (rc = pt_capacity_forecast(txn, &st, cfg->log_retention_days,
	    pt_now_us(), &f)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	pt_txn_abort(txn);
	pct = st.map_size ? 100.0 * (double)st.used / (double)st.map_size : 0;
	if (json) {
		if ((o = pt_json_new_object()) == NULL ||
		    (counts = pt_json_new_object()) == NULL)
			ctl_die("out of memory");
		pt_json_set(o, "backend", pt_json_new_cstr(
		    pt_store_backend(s)));
		if (*st.server) {
			pt_json_set(o, "server", pt_json_new_cstr(st.server));
			pt_json_set(o, "round_trip_us", pt_json_new_int((int64_t)
			    st.round_trip_us));
			pt_json_set(o, "connections", pt_json_new_int(
			    st.readers));
			pt_json_set(o, "max_connections", pt_json_new_int(
			    st.max_readers));
		}
		pt_json_set(o, "map_size", pt_json_new_int((int64_t)st.map_size));
		pt_json_set(o, "used", pt_json_new_int((int64_t)st.used));
		/* Of "used", pages free for the next writes to reuse. */
		pt_json_set(o, "free", pt_json_new_int((int64_t)st.free));
		pt_json_set(o, "map_used_percent", pt_json_new_double(pct));
		pt_json_set(o, "readers", pt_json_new_int(st.readers));
		pt_json_set(o, "max_readers", pt_json_new_int(st.max_readers));
		pt_json_set(o, "entries", counts);
		for (t = 0; t < PT_T__MAX; t++)
			pt_json_set(counts, pt_table_name(t),
			    pt_json_new_int((int64_t)st.entries[t]));
		pt_json_set(o, "compression", dicts_json(&d));
		pt_json_set(o, "capacity", forecast_json(&st, &f));
		ctl_json_doc(o);
		pt_json_put(o);
	} else {
		printf("store      %s\n", pt_store_display(ctl_db_dir, shown,
		    sizeof(shown)));
		if (*st.server) {
			/* A database: its size, and how it answers. */
			printf("backend    %s, %s; a query's round trip %.2f "
			    "ms\n", pt_store_backend(s), st.server,
			    (double)st.round_trip_us / 1000.0);
			printf("size       %.1f MiB in the database\n",
			    (double)st.used / 1048576.0);
			printf("connections %u open of %u in this process "
			    "(PORTER_PG_CONNECTIONS)\n", st.readers,
			    st.max_readers);
		} else {
			printf("backend    %s\n", pt_store_backend(s));
			printf("map        %.1f MiB used of %.1f MiB (%.1f%%); "
			    "it grows itself, %s\n", (double)st.used /
			    1048576.0, (double)st.map_size / 1048576.0, pct,
			    st.ceiling ? "up to settings.max_store_bytes" :
			    "as far as the disk allows");
			printf("free       %.1f MiB of that, for writes to "
			    "reuse\n", (double)st.free / 1048576.0);
			printf("readers    %u of %u\n", st.readers,
			    st.max_readers);
		}
		printf("events     %llu\n",
		    (unsigned long long)st.entries[PT_T_EVENTS]);
		for (t = 0; t < PT_T__MAX; t++)
			if (t != PT_T_EVENTS && st.entries[t])
				printf("%-10.10s %llu  (%s)\n", "", (unsigned long
				    long)st.entries[t], pt_table_name(t));
		dicts_text(&d);
		forecast_text(&f, cfg->log_retention_days);
	}
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}

static void
print_problem(void *arg, const char *line)
{
	(void)arg;
	printf("problem: %s\n", line);
}

/* The check's progress: one line redrawn on a terminal's stderr. */
static struct ctl_progress check_pr;

static void
check_progress(void *arg, size_t events)
{
	(void)arg;
	ctl_progress(&check_pr, events);
}

int
cmd_check(const struct ctl_args *a)
{
	struct pt_store *s;
	struct pt_txn *txn;
	size_t problems, events;
	enum pt_err rc;

	(void)a;
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	ctl_progress_start(&check_pr, "checking events");
	problems = pt_check_progress(txn, print_problem, NULL, &events,
	    check_progress);
	ctl_progress_end(&check_pr, events);
	pt_txn_abort(txn);
	pt_store_close(s);
	printf("%zu events checked, %zu problem%s\n", events, problems,
	    problems == 1 ? "" : "s");
	return problems ? 1 : 0;
}

/*
 * Retention for `porterctl prune`: every event and action log older than
 * log_retention_days, PRUNE_BATCH events per transaction so that no
 * single write grows large.  Prints what went.
 */
static void
prune_logs(struct pt_store *s)
{
	struct pt_retention_stats st;
	struct pt_config *cfg;
	struct pt_txn *txn;
	enum pt_err rc;
	size_t events = 0, actions = 0;
	int64_t days, now = pt_now_us();
	struct ctl_progress pr;

	cfg = ctl_load_config(s);
	days = cfg->log_retention_days > 0 ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT;
	pt_config_free(cfg);
	ctl_progress_start(&pr, "pruning logs");
	do {
		memset(&st, 0, sizeof(st));
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
			ctl_die("store: %s", pt_strerror(rc));
		if ((rc = pt_retention_prune(txn, now, days, PRUNE_BATCH,
		    &st)) != PT_OK) {
			pt_txn_abort(txn);
			ctl_die("pruning logs: %s (%s)", pt_strerror(rc),
			    pt_store_errstr());
		}
		if ((rc = pt_txn_commit(txn)) != PT_OK)
			ctl_die("commit: %s (%s)", pt_strerror(rc),
			    pt_store_errstr());
		events += st.events;
		actions += st.actions;
		ctl_progress(&pr, (uint64_t)events);
	} while (st.more);
	ctl_progress_end(&pr, (uint64_t)events);
	printf("%zu event log%s and %zu action log%s older than %lld day%s "
	    "removed\n", events, events == 1 ? "" : "s", actions, actions == 1 ?
	    "" : "s", (long long)days, days == 1 ? "" : "s");
}

/*
 * One write transaction of a sweep without a limit ("sweep" is
 * pt_idem_prune or pt_recover: the responder runs them a few at a time
 * as it writes, porterctl all at once); returns how many it did.
 */
static size_t
sweep_all(struct pt_store *s, enum pt_err (*sweep)(struct pt_txn *,
    int64_t now, size_t max, size_t *done), const char *what)
{
	struct pt_txn *txn;
	enum pt_err rc;
	size_t n;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	if ((rc = sweep(txn, pt_now_us(), 0, &n)) != PT_OK) {
		pt_txn_abort(txn);
		ctl_die("%s: %s", what, pt_strerror(rc));
	}
	if ((rc = pt_txn_commit(txn)) != PT_OK)
		ctl_die("commit: %s", pt_strerror(rc));
	return n;
}

int
cmd_prune(const struct ctl_args *a)
{
	struct pt_store *s;
	size_t n;

	(void)a;
	s = ctl_open_store(0);
	n = sweep_all(s, pt_idem_prune, "pruning");
	printf("%zu expired idempotency record%s removed\n", n, n == 1 ? "" :
	    "s");
	prune_logs(s);	/* and the logs past their retention */
	pt_store_close(s);
	return 0;
}

int
cmd_recover(const struct ctl_args *a)
{
	struct pt_store *s;
	size_t n;

	(void)a;
	s = ctl_open_store(0);
	n = sweep_all(s, pt_recover, "recovering");
	printf("%zu interrupted execution%s marked\n", n, n == 1 ? "" : "s");
	pt_store_close(s);
	return 0;
}
