/*
 * bench/core - the pure core's cost per event, without a server: the bench
 * pipeline (1 identify + 1 trigger mapping, the same ~1.5 KB event as
 * bench/run) through pt_handle() on a real store in a temporary directory,
 * by "threads" request threads sharing one group committer, as in
 * porter.fcgi (0: one thread, no committer).  Prints the events per second
 * and the CPU time per event (user + system, every thread).
 *
 * Where the time goes: run it under callgrind, whose instruction counts
 * do not depend on what else the machine is doing:
 *	valgrind --tool=callgrind bench/core 3200 32
 * and, with "dict", counting only the measured events:
 *	valgrind --tool=callgrind --toggle-collect=worker \
 *	    --toggle-collect=committer bench/core 3200 32 dict
 *
 * Usage: bench/core [events [threads [none|dict|script]]]	(10000, 32;
 * "none": no mappings, the event is only logged; "dict": first log
 * PT_EVREC_TRAIN_MIN + 200 events and train the store's compression
 * dictionary, as a store in service has one, then measure; "script": as
 * "none", with bench/run's preprocess script (Knock's default check),
 * run on the request threads: against "none", what a script costs)
 *
 * BENCH_CORE_KEEP=DIR keeps the store in DIR (made; it must not exist),
 * with one event first whose identify is skipped (its body lacks the
 * user): for timing queries on a big log, e.g. `porterctl --db DIR
 * actions --status skipped`, which must find that one behind every
 * newer action.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "commit.h"
#include "conf.h"
#include "evrec.h"
#include "handler.h"
#include "http.h"
#include "json.h"
#include "script_pool.h"
#include "store.h"
#include "timeutil.h"
/* A store in $TMPDIR, the config applied, a body read from memory. */
#include "../tests/unit/testutil.h"
#include "event.h"

#define EP	"bench_core_0001"

static const char config_head[] =
    "{\"settings\":{\"durability\":\"relaxed\"},"
    "\"workflows\":{\"task-assigned\":{}},"
    "\"sources\":[{\"key\":\"pipeline\",\"environments\":{\"bench\":{"
    "\"endpoint_id\":\"" EP "\",\"verify\":false,"
    "\"event_type_path\":\"body.event_type\","
    "\"timestamp_path\":\"body.occurred_at\",\"mappings\":";
static const char script_env[] =
    "[],\"preprocess\":{\"script\":\"function main(ctx) { return "
    "{verified: ctx.headers['x-webhook-secret'] === ctx.vars.SECRET}; }\"}";
static const char mappings[] =
    "[{\"event_type\":\"task.assigned\",\"action\":\"users_identify\","
    "\"params\":{\"id\":\"data.assigned_to\","
    "\"properties\":{\"project\":\"data.project_id\"}}},"
    "{\"event_type\":\"task.assigned\",\"action\":\"workflows_trigger\","
    "\"params\":{\"key\":\"task-assigned\",\"recipients\":"
    "\"data.assigned_to\",\"actor\":\"data.assigned_by\",\"data\":\"data\"}}]";

static struct pt_store		*store;
static struct pt_committer	*committer;
static struct pt_script_pool	*scripts;
static char			 event[2048], clen[32];
static size_t			 event_len;
static long			 per_thread, answered_ok;
static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static long
post_events(long count)
{
	struct pt_header h[3] = { { "content-type", "application/json", 16 },
	    { "user-agent", "bench-core/1", 12 },
	    { "x-webhook-secret", "s3cr3t-s3cr3t-s3cr3t", 20 } };
	struct pt_ctx ctx;
	struct pt_resp resp;
	struct pt_req req;
	struct tu_body b;
	long i, n = 0;

	pt_ctx_init(&ctx, store);
	ctx.committer = committer;
	ctx.scripts = scripts;
	ctx.log = quiet;
	for (i = 0; i < count; i++) {
		memset(&req, 0, sizeof(req));
		memset(&resp, 0, sizeof(resp));
		b.data = event;
		b.len = event_len;
		b.pos = 0;
		b.chunk = 0;
		req.method = "POST";
		req.path_info = "/receive/" EP;
		req.content_type = "application/json";
		req.content_length = clen;
		req.headers = h;
		req.nheaders = 3;
		req.read_body = tu_read;
		req.read_arg = &b;
		if (pt_handle(&ctx, &req, &resp) == 200)
			n++;
		else if (n == 0 && i == 0)
			fprintf(stderr, "bench/core: %d %.*s", resp.status,
			    (int)resp.body.len, resp.body.data);
		pt_resp_free(&resp);
	}
	pt_ctx_free(&ctx);
	return n;
}

static void *
worker(void *arg)
{
	long n;

	(void)arg;
	n = post_events(per_thread);
	pthread_mutex_lock(&mu);
	answered_ok += n;
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* A store in service: a log, and a dictionary trained on it. */
static int
prefill(void)
{
	if (post_events(PT_EVREC_TRAIN_MIN + 200) != PT_EVREC_TRAIN_MIN + 200 ||
	    pt_evrec_train(store, pt_now_us()) != PT_OK) {
		fprintf(stderr, "bench/core: cannot train a dictionary\n");
		return -1;
	}
	return 0;
}

static double
seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct pt_commit_stats cs;
	struct timespec t0, t1;
	struct rusage ru, ru0;
	pthread_t th[256];
	char *dir, path[600], config[4096];
	const char *keep, *mode = argc > 3 ? argv[3] : "";
	const char *err;
	char why[256];
	long events = argc > 1 ? atol(argv[1]) : 10000;
	int threads = argc > 2 ? atoi(argv[2]) : 32, i, rc = 1;
	double wall, cpu;

	if (events <= 0 || threads < 0 || threads > 256) {
		fprintf(stderr, "usage: bench/core [events [threads "
		    "[none|dict|script]]]\n");
		return 2;
	}
	/* Before any thread, as porter.fcgi starts it. */
	if (strcmp(mode, "script") == 0 && pt_script_pool_start(
	    PT_SCRIPT_THREAD, 4, &scripts, why, sizeof(why)) != PT_OK) {
		fprintf(stderr, "bench/core: scripts: %s\n", why);
		return 1;
	}
	keep = getenv("BENCH_CORE_KEEP");
	dir = keep ? NULL : tu_tmpdir();
	snprintf(path, sizeof(path), "%s%s", keep ? keep : dir,
	    keep ? "" : "/db");
	store = tu_store(path, 16ULL << 30);
	snprintf(config, sizeof(config), "%s%s%s}}}]}", strcmp(mode,
	    "script") == 0 ? "{\"variables\":{\"SECRET\":"
	    "\"s3cr3t-s3cr3t-s3cr3t\"}," : "{", config_head + 1,
	    strcmp(mode, "none") == 0 ? "[]" : strcmp(mode, "script") == 0 ?
	    script_env : mappings);
	if ((err = tu_apply(store, config)) != NULL) {
		fprintf(stderr, "bench/core: config: %s\n", err);
		goto out;
	}
	if (keep != NULL) {
		/* The rare one: no data.assigned_to, so identify is skipped. */
		event_len = (size_t)snprintf(event, sizeof(event),
		    "{\"event_type\":\"task.assigned\",\"data\":{}}");
		snprintf(clen, sizeof(clen), "%zu", event_len);
		post_events(1);
	}
	event_len = bench_event(event, sizeof(event));
	snprintf(clen, sizeof(clen), "%zu", event_len);
	if (strcmp(mode, "dict") == 0 && prefill() < 0)
		goto out;
	getrusage(RUSAGE_SELF, &ru0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (threads == 0) {
		per_thread = events;
		worker(NULL);
	} else {
		pt_store_set_threaded(store);
		if (pt_committer_start(store, 64, &committer) != PT_OK) {
			fprintf(stderr, "bench/core: no committer\n");
			goto out;
		}
		per_thread = events / threads;
		for (i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, worker, NULL);
		for (i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		pt_committer_stats(committer, &cs);
		pt_committer_stop(committer);
		printf("batches %llu, %.1f events each on average, %llu run "
		    "again nested\n", cs.batches, (double)cs.jobs /
		    (double)(cs.batches ? cs.batches : 1), cs.nested);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	wall = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = seconds(ru.ru_utime) + seconds(ru.ru_stime) -
	    seconds(ru0.ru_utime) - seconds(ru0.ru_stime);
	if (answered_ok == 0) {
		fprintf(stderr, "bench/core: no event was answered 200\n");
		goto out;
	}
	printf("%ld events answered 200 in %.2f s: %.0f events/s, CPU %.1f us "
	    "per event (user %.1f, system %.1f)\n", answered_ok, wall,
	    (double)answered_ok / wall, cpu * 1e6 / (double)answered_ok,
	    (seconds(ru.ru_utime) - seconds(ru0.ru_utime)) * 1e6 /
	    (double)answered_ok, (seconds(ru.ru_stime) -
	    seconds(ru0.ru_stime)) * 1e6 / (double)answered_ok);
	rc = 0;
out:
	pt_store_close(store);
	pt_script_pool_stop(scripts);
	if (dir != NULL)
		tu_rmdir(dir);
	return rc;
}
