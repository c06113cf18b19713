/*
 * testutil.h - helpers shared by the unit tests: temporary stores and a
 * memory body reader.  Header-only; each test includes it once.
 */
#ifndef PT_TESTUTIL_H
#define PT_TESTUTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "commit.h"
#include "conf.h"
#include "json.h"
#include "store.h"

/* A fresh directory under $TMPDIR; removed by tu_rmdir(). */
static __attribute__((unused)) char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL)
		base = "/tmp";
	if ((p = malloc(strlen(base) + 32)) == NULL)
		abort();
	sprintf(p, "%s/porter-test-XXXXXX", base);
	if (mkdtemp(p) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return p;
}

static void __attribute__((unused))
tu_rmdir(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

static __attribute__((unused)) struct pt_store *
tu_store(const char *dir, uint64_t map_size)
{
	struct pt_store_opts o = { 0 };
	struct pt_store *s;
	char err[256];

	o.map_size = map_size;
	if (pt_store_open(dir, &o, &s, err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "store: %s\n", err);
		abort();
	}
	return s;
}

/* Apply config text to a store; returns the error text or NULL. */
static __attribute__((unused)) const char *
tu_apply(struct pt_store *s, const char *text)
{
	static char err[1024];
	struct pt_json_error jerr;
	struct pt_config *old = NULL, *cfg = NULL;
	struct pt_txn *txn;
	pt_json *doc;
	enum pt_err rc;

	if (pt_json_parse(text, strlen(text), 64, &doc, &jerr) != PT_OK) {
		snprintf(err, sizeof(err), "json: %s", jerr.message);
		return err;
	}
	if (pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn) != PT_OK)
		abort();
	rc = pt_config_load(txn, &old, err, sizeof(err));
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		abort();
	rc = pt_config_parse(doc, old, PT_CFG_OPERATOR, &cfg, err, sizeof(err));
	pt_json_put(doc);
	pt_config_free(old);
	if (rc != PT_OK) {
		pt_txn_abort(txn);
		return err;
	}
	if (pt_config_save(txn, cfg) != PT_OK || pt_txn_commit(txn) != PT_OK)
		abort();
	pt_config_free(cfg);
	return NULL;
}

/* The number of entries in table "t". */
static __attribute__((unused)) uint64_t
tu_entries(struct pt_store *s, enum pt_table t)
{
	struct pt_store_stat st;

	pt_store_stat(s, &st);
	return st.entries[t];
}

/* What pt_check finds wrong in "s", each problem a TAP diagnostic. */
static void __attribute__((unused))
tu_report(void *arg, const char *problem)
{
	(void)arg;
	printf("# check: %s\n", problem);
}

static __attribute__((unused)) size_t
tu_problems(struct pt_store *s)
{
	struct pt_txn *txn;
	size_t n;

	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	n = pt_check(txn, tu_report, NULL, NULL);
	pt_txn_abort(txn);
	return n;
}

/* A context's log lines, one per "\n": set ctx.log = tu_capture. */
static struct pt_buf tu_log __attribute__((unused));

static void __attribute__((unused))
tu_capture(void *arg, const char *line)
{
	(void)arg;
	pt_buf_adds(&tu_log, line);
	pt_buf_addc(&tu_log, '\n');
}

/* A body reader over memory that can stop short or come in pieces. */
struct tu_body {
	const char	*data;
	size_t		 len;	/* bytes available */
	size_t		 pos;
	size_t		 chunk;	/* at most this many per read; 0: all */
};

static ssize_t __attribute__((unused))
tu_read(void *arg, void *buf, size_t len)
{
	struct tu_body *b = arg;
	size_t n = b->len - b->pos;

	if (n > len)
		n = len;
	if (b->chunk > 0 && n > b->chunk)
		n = b->chunk;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

/*
 * Hold a group committer with a job that waits, so that the jobs queued
 * meanwhile make one batch: tu_hold() returns once the job runs,
 * tu_queued() waits (up to 5 s) until "n" jobs are queued behind it,
 * tu_release() lets it finish.
 */
struct tu_hold {
	pthread_t		 th;
	struct pt_committer	*gc;
	int			 started, release;
};

static enum pt_err __attribute__((unused))
tu_hold_fn(struct pt_txn *txn, void *arg)
{
	struct tu_hold *h = arg;
	struct timespec ts = { 0, 1000000 };
	int i;

	(void)txn;
	__atomic_store_n(&h->started, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 10000 && !__atomic_load_n(&h->release,
	    __ATOMIC_SEQ_CST); i++)
		nanosleep(&ts, NULL);
	return PT_OK;
}

static void * __attribute__((unused))
tu_hold_thread(void *arg)
{
	struct tu_hold *h = arg;

	pt_committer_run(h->gc, tu_hold_fn, h);
	return NULL;
}

static void __attribute__((unused))
tu_hold(struct tu_hold *h, struct pt_committer *gc)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	memset(h, 0, sizeof(*h));
	h->gc = gc;
	if (pthread_create(&h->th, NULL, tu_hold_thread, h) != 0)
		abort();
	for (i = 0; i < 5000 && !__atomic_load_n(&h->started,
	    __ATOMIC_SEQ_CST); i++)
		nanosleep(&ts, NULL);
}

static int __attribute__((unused))
tu_queued(struct tu_hold *h, size_t n)
{
	struct pt_commit_stats st;
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000; i++) {
		pt_committer_stats(h->gc, &st);
		if (st.waiting >= n)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void __attribute__((unused))
tu_release(struct tu_hold *h)
{
	__atomic_store_n(&h->release, 1, __ATOMIC_SEQ_CST);
	pthread_join(h->th, NULL);
}

#endif
