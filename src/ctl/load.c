/*
 * ctl_load.c - porterctl load: fill the event log with synthetic events,
 * for scaling benchmarks (bench/scale) and soak tests.
 *
 * The events go through the same pt_eventlog_append as real ones (record
 * and every index), in large transactions, with time-ordered ids spread
 * over the last --days days.  Nothing else is touched: no mappings run, no
 * idempotency records, no metrics.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "eventlog.h"
#include "ids.h"
#include "timeutil.h"

#define LOAD_BATCH	20000	/* events per transaction */

int
cmd_load(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env = a->str[CTL_K_ENV];
	const struct pt_env *e;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_txn *txn = NULL;
	struct pt_event ev;
	struct pt_buf body = { 0 };
	const char *types[] = { "task.assigned", "task.completed",
	    "task.created", "comment.added", "project.updated" };
	char type_buf[64];
	long long count = a->num[CTL_K_COUNT], i;
	long long days = a->num[CTL_K_DAYS];
	long long body_bytes = a->num[CTL_K_BODY_BYTES];
	int64_t now, span, step;
	struct ctl_progress pr;
	enum pt_err rc;

	s = ctl_open_store(0);
	cfg = ctl_load_config(s);
	if ((e = pt_config_env(cfg, source, env)) == NULL)
		ctl_die("no environment %s/%s", source, env);
	/* Loading is rebuildable: no fsync per batch, one at the end. */
	pt_store_set_durability(s, PT_DURABLE_RELAXED);

	now = pt_now_us();
	span = days * 86400LL * 1000000LL;
	step = span / count > 0 ? span / count : 1;
	memset(&ev, 0, sizeof(ev));
	ev.source = e->source_key;
	ev.environment = e->name;
	ev.endpoint_id = e->endpoint_id;
	ev.status = "accepted";
	ev.verify_status = "enforced:verified";
	ctl_progress_start(&pr, "loading");
	for (i = 0; i < count; i++) {
		if (txn == NULL && (rc = pt_txn_begin(s, NULL, PT_TXN_WRITE,
		    &txn)) != PT_OK)
			ctl_die("store: %s", pt_strerror(rc));
		ev.received_at = now - span + (int64_t)i * step;
		ev.event_time = ev.received_at;
		snprintf(type_buf, sizeof(type_buf), "%s", types[i % 5]);
		ev.event_type = type_buf;
		if (pt_id_new("evt", ev.received_at, ev.id, ev.id_text) != PT_OK)
			ctl_die("no random bytes");
		pt_buf_reset(&body);
		pt_buf_printf(&body, "{\"event_type\":\"%s\",\"event_id\":"
		    "\"load-%lld\",\"data\":{\"task_id\":\"task_%lld\","
		    "\"pad\":\"", type_buf, i, i % 100000);
		while ((long long)body.len < body_bytes - 3)
			pt_buf_addc(&body, 'x');
		pt_buf_adds(&body, "\"}}");
		if (body.failed)
			ctl_die("out of memory");
		ev.body = (const uint8_t *)body.data;
		ev.body_len = body.len;
		if ((rc = pt_eventlog_append(txn, &ev)) != PT_OK)
			ctl_die("append: %s (%s)", pt_strerror(rc),
			    pt_store_errstr());
		if ((i + 1) % LOAD_BATCH == 0 || i + 1 == count) {
			if ((rc = pt_txn_commit(txn)) != PT_OK)
				ctl_die("commit: %s (%s)", pt_strerror(rc),
				    pt_store_errstr());
			txn = NULL;
		}
		if ((i + 1) % 1000 == 0)
			ctl_progress(&pr, (uint64_t)(i + 1));
	}
	ctl_progress_end(&pr, (uint64_t)count);
	if ((rc = pt_store_sync(s)) != PT_OK)
		ctl_die("sync: %s", pt_strerror(rc));
	printf("%lld events loaded into %s/%s\n", count, source, env);
	pt_buf_free(&body);
	pt_config_free(cfg);
	pt_store_close(s);
	return 0;
}
