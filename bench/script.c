/*
 * bench/script - what a preprocess script costs per run, for Knock's
 * default custom-source script (compare x-webhook-secret with a variable)
 * on the same ~1.5 KB event and a dozen headers as bench/core:
 *   1. the engine alone, in this process (script_duk.c: ctx built, the
 *      top level and main run, the result serialised), no worker;
 *   2. pt_script_run through a pool from "threads" callers: the frame,
 *      the run on the caller's own thread under its deadline timer
 *      (PORTER_SCRIPT_ISOLATION=thread, the default), the result parsed;
 *   3. the same through worker processes (=process): the frame's round
 *      trip to a worker and back.
 * Prints the time a worker's heap takes to set up, then microseconds per
 * run (wall, and CPU of this process plus the workers) and runs per
 * second.  Set against bench/core's CPU per event
 * to see the share a script adds to an event.
 *
 * Usage: bench/script [runs [threads]]	(20000, 1)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "json.h"
#include "script.h"
#include "script_duk.h"
#include "script_wire.h"
#include "event.h"

static const char default_script[] =
    "function main(ctx) { return {verified: "
    "ctx.headers[\"x-webhook-secret\"] === ctx.vars.SECRET}; }";

static const struct pt_header headers[] = {
	{ "content-type", "application/json", 16 },
	{ "user-agent", "bench-script/1", 14 },
	{ "x-webhook-secret", "s3cr3t-s3cr3t-s3cr3t", 20 },
	{ "accept", "*/*", 3 },
	{ "accept-encoding", "gzip", 4 },
	{ "host", "hooks.example.com", 17 },
	{ "x-forwarded-for", "203.0.113.7", 11 },
	{ "x-forwarded-proto", "https", 5 },
	{ "x-request-id", "7d3c9a52-4b1e-4f0a-9d55-1c2b3a4d5e6f", 36 },
	{ "content-length", "1502", 4 },
	{ "connection", "keep-alive", 10 },
	{ "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    55 },
};

static char event[2048];
static size_t event_len;
static pt_json *vars;
static struct pt_script_pool *pool;
static struct pt_script *script;
static long per_thread, failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double
seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

static double
cpu_children(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill_ctx(struct pt_script_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->vars = vars;
	c->raw = event;
	c->raw_len = event_len;
	c->body_json = event;
	c->body_json_len = event_len;
	c->headers = headers;
	c->nheaders = sizeof(headers) / sizeof(headers[0]);
	c->now_ms = 1795000000000;
}

/* 1: the engine in this process, on the frame pt_script_run would send. */
static int
bench_engine(long runs)
{
	struct pt_buf frame = { 0 }, reply = { 0 };
	struct pt_script_ctx c;
	struct pt_sduk *e;
	char why[256];
	uint8_t head[PT_SW_REQ_HEAD] = { 0 };
	uint32_t u, n, i;
	long r;
	double t0, c0, wall, cpu;

	t0 = now();
	c0 = cpu_self();
	if ((e = pt_sduk_new(why, sizeof(why))) == NULL) {
		fprintf(stderr, "bench/script: %s\n", why);
		return -1;
	}
	printf("a worker's heap: %8.2f ms to set up (CPU %.2f ms), paid when "
	    "a worker starts (after a timeout too)\n", (now() - t0) * 1e3,
	    (cpu_self() - c0) * 1e3);
	fill_ctx(&c);
	/* The frame as script.c writes it (script_wire.h). */
	head[4] = 1;
	u = PT_SCRIPT_MEMORY_DEFAULT;
	memcpy(head + 8, &u, 4);
	u = PT_SCRIPT_TIMEOUT_DEFAULT;
	memcpy(head + 12, &u, 4);
	memcpy(head + 16, &c.now_ms, 8);
	pt_buf_add(&frame, head, sizeof(head));
#define STR(s, l) do { u = (uint32_t)(l); pt_buf_add(&frame, &u, 4); \
	pt_buf_add(&frame, (s), (l)); } while (0)
	STR(default_script, sizeof(default_script) - 1);
	u = 1;
	pt_buf_add(&frame, &u, 4);
	STR("SECRET", 6);
	STR("s3cr3t-s3cr3t-s3cr3t", 20);
	n = (uint32_t)c.nheaders;
	pt_buf_add(&frame, &n, 4);
	for (i = 0; i < n; i++) {
		STR(headers[i].name, strlen(headers[i].name));
		STR(headers[i].value, headers[i].value_len);
	}
	STR(event, event_len);
	STR(event, event_len);
#undef STR
	u = (uint32_t)(frame.len - 4);
	memcpy(frame.data, &u, 4);

	t0 = now();
	c0 = cpu_self();
	for (r = 0; r < runs; r++)
		if (pt_sduk_handle(e, (uint8_t *)frame.data + 4, frame.len - 4,
		    &reply) == -1 || reply.data[4] != 0 ||
		    strstr(reply.data + PT_SW_REPLY_HEAD, "true") == NULL) {
			fprintf(stderr, "bench/script: the engine did not say "
			    "verified\n");
			return -1;
		}
	wall = now() - t0;
	cpu = cpu_self() - c0;
	printf("engine alone:    %8.2f us per run (CPU %.2f us), %8.0f runs/s\n",
	    wall * 1e6 / (double)runs, cpu * 1e6 / (double)runs,
	    (double)runs / wall);
	pt_sduk_free(e);
	pt_buf_free(&frame);
	pt_buf_free(&reply);
	return 0;
}

static void *
caller(void *arg)
{
	struct pt_script_ctx c;
	pt_json *out;
	char why[256];
	long i, bad = 0;

	(void)arg;
	fill_ctx(&c);
	for (i = 0; i < per_thread; i++) {
		if (pt_script_run(pool, script, &c, &out, why, sizeof(why)) !=
		    PT_SCRIPT_OK || !pt_json_bool(pt_json_get(out, "verified"))) {
			if (bad++ == 0)
				fprintf(stderr, "bench/script: %s\n", why);
		}
		pt_json_put(out);
	}
	pthread_mutex_lock(&mu);
	failures += bad;
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* 2: through the pool, "threads" callers at once. */
static int
bench_pool(enum pt_script_where where, long runs, int threads)
{
	pthread_t th[64];
	char why[256];
	double t0, c0, k0, wall, cpu;
	long total;
	int i;

	if (pt_script_pool_start(where, (unsigned)threads, &pool, why,
	    sizeof(why)) != PT_OK) {
		fprintf(stderr, "bench/script: %s\n", why);
		return -1;
	}
	if (pt_script_compile(pool, default_script, sizeof(default_script) - 1,
	    0, 0, &script, why, sizeof(why)) != PT_SCRIPT_OK) {
		fprintf(stderr, "bench/script: compile: %s\n", why);
		return -1;
	}
	per_thread = runs / threads;
	total = per_thread * threads;
	/* Warm up: every worker started, the script compiled in each. */
	{
		long save = per_thread;

		per_thread = 10;
		for (i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, caller, NULL);
		for (i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		per_thread = save;
	}
	t0 = now();
	c0 = cpu_self();
	k0 = cpu_children();
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, caller, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	wall = now() - t0;
	cpu = cpu_self() - c0;
	/* The workers' CPU is counted once the zygote has reaped them and
	 * this process has reaped the zygote. */
	pt_script_free(script);
	pt_script_pool_stop(pool);
	cpu += cpu_children() - k0;
	if (failures > 0) {
		fprintf(stderr, "bench/script: %ld runs failed\n", failures);
		return -1;
	}
	printf("%s %8.2f us per run (CPU %.2f us, this process "
	    "and the workers), %8.0f runs/s, %d caller%s\n",
	    where == PT_SCRIPT_THREAD ? "on the caller's thread:" :
	    "through worker processes:", wall * 1e6 / (double)total, cpu * 1e6 / (double)total,
	    (double)total / wall, threads, threads == 1 ? "" : "s");
	return 0;
}

int
main(int argc, char **argv)
{
	long runs = argc > 1 ? atol(argv[1]) : 20000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;

	if (runs <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench/script [runs [threads]]\n");
		return 2;
	}
	event_len = bench_event(event, sizeof(event));
	if ((vars = pt_json_new_object()) == NULL ||
	    pt_json_set(vars, "SECRET", pt_json_new_cstr("s3cr3t-s3cr3t-s3cr3t"))
	    != PT_OK)
		return 1;
	printf("Knock's default script, %zu-byte body, %zu headers, %ld runs\n",
	    event_len, sizeof(headers) / sizeof(headers[0]), runs);
	if (bench_engine(runs) == -1 ||
	    bench_pool(PT_SCRIPT_THREAD, runs, threads) == -1 ||
	    bench_pool(PT_SCRIPT_PROCESS, runs, threads) == -1)
		return 1;
	pt_json_put(vars);
	return 0;
}
