/*
 * commit.c - the group committer (see commit.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "commit.h"

struct job {
	pt_write_fn	 fn;
	void		*arg;
	enum pt_err	 rc;
	char		 err[256];	/* engine error text when rc != PT_OK */
	int		 done;
	pthread_cond_t	 cv;		/* signalled when done */
	struct job	*next;
};

/*
 * Keep the committer thread's error text with a failed job: the text is
 * per thread (pt_store_errstr), and the waiting request thread logs it.
 * Without this, its "503 store_full" line said "(recording the event: )".
 */
static void
job_failed(struct job *j, enum pt_err rc)
{
	j->rc = rc;
	snprintf(j->err, sizeof(j->err), "%s", pt_store_errstr());
}

struct pt_committer {
	struct pt_store		*store;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;		/* a job arrived / stop */
	struct job		*head, *tail;	/* waiting jobs */
	size_t			 max_batch;
	int			 stop;
	struct pt_commit_stats	 stats;
};

/*
 * A batch that found the store full runs again once it made room (the
 * map grew, or old logs went: store.h), at most GROW_TRIES times.
 */
#define GROW_TRIES	8
#define GROW_NEED	((uint64_t)4 << 20)
#define FLAT_FULL	2

/*
 * Before running again: pages the deletes freed are reused only once no
 * reader still sees them, so from the second try on, wait for the
 * readers a little (1, 2, 4 ... ms; 127 ms in all at most).
 */
static void
full_backoff(int tries)
{
	struct timespec ts = { 0, 0 };

	if (tries == 0)
		return;
	ts.tv_nsec = (1000000L << (tries - 1)) % 1000000000L;
	nanosleep(&ts, NULL);
}

/*
 * Every job of the batch straight in one flat transaction: 1 when that
 * committed (or could not even begin: every job has failed), 0 when a job
 * failed and the batch must run again, nested, FLAT_FULL when a write
 * found the store full (nothing was written).
 */
static int
run_flat(struct pt_committer *c, struct job *jobs)
{
	struct pt_txn *txn = NULL;
	struct job *j;
	enum pt_err rc;

	if ((rc = pt_txn_begin(c->store, NULL, PT_TXN_WRITE | PT_TXN_FLAT,
	    &txn)) != PT_OK) {
		for (j = jobs; j; j = j->next)
			job_failed(j, rc);
		return 1;
	}
	for (j = jobs; j; j = j->next) {
		/* A write failed that the job did not report: as if it had. */
		if ((rc = j->fn(txn, j->arg)) == PT_OK)
			rc = pt_txn_error(txn);
		if (rc == PT_EFULL) {
			pt_txn_abort(txn);
			return FLAT_FULL;
		}
		if (rc != PT_OK) {
			/* Alone, it would fail the same way nested. */
			if (jobs->next == NULL && rc != PT_ERETRY) {
				job_failed(j, rc);
				pt_txn_abort(txn);
				return 1;
			}
			pt_txn_abort(txn);
			return 0;
		}
	}
	/*
	 * A failed commit is not run again nested: it may have reached the
	 * disk all the same (a failed final sync), and the jobs would then
	 * run twice.  Every job fails, as it would have nested.
	 */
	if ((rc = pt_txn_commit(txn)) == PT_EFULL &&
	    pt_store_commit_unwritten())
		return FLAT_FULL;
	if (rc != PT_OK)
		for (j = jobs; j; j = j->next)
			job_failed(j, rc);
	return 1;
}

/* Run one batch "jobs" (n of them, linked) in one transaction. */
static void
run_batch(struct pt_committer *c, struct job *jobs)
{
	struct pt_txn *txn = NULL, *child;
	struct job *j;
	enum pt_err rc;
	size_t n = 0;
	int r, tries;

	for (j = jobs; j; j = j->next)
		n++;
	c->stats.batches++;
	c->stats.jobs += n;
	if (n > c->stats.largest)
		c->stats.largest = n;
	for (tries = 0; (r = run_flat(c, jobs)) == FLAT_FULL; tries++) {
		if (tries == GROW_TRIES ||
		    pt_store_make_room(c->store, GROW_NEED) != PT_OK) {
			/* Still full: nested, the jobs that fit go in. */
			r = 0;
			break;
		}
		full_backoff(tries);
	}
	if (r)
		return;
	c->stats.nested++;
	if ((rc = pt_txn_begin(c->store, NULL, PT_TXN_WRITE, &txn)) != PT_OK) {
		for (j = jobs; j; j = j->next)
			job_failed(j, rc);
		return;
	}
	for (j = jobs; j; j = j->next) {
		if ((rc = pt_txn_begin(c->store, txn, PT_TXN_WRITE,
		    &child)) != PT_OK) {
			job_failed(j, rc);
			continue;
		}
		if ((rc = j->fn(child, j->arg)) == PT_OK)
			rc = pt_txn_commit(child);
		else
			pt_txn_abort(child);
		if (rc != PT_OK)
			job_failed(j, rc);
	}
	rc = pt_txn_commit(txn);
	for (j = jobs; j; j = j->next)
		if (j->rc == PT_OK && rc != PT_OK)
			job_failed(j, rc);
}

static void *
committer(void *arg)
{
	struct pt_committer *c = arg;
	struct job *batch, *last, *j;
	size_t n;

	/* Named for top -H and perf: it is where every write happens. */
	pthread_setname_np(pthread_self(), "porter-commit");
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->head == NULL && !c->stop)
			pthread_cond_wait(&c->work, &c->mu);
		if (c->head == NULL && c->stop)
			break;
		/* Take up to max_batch jobs; the rest wait for the next. */
		batch = last = c->head;
		for (n = 1; n < c->max_batch && last->next; n++)
			last = last->next;
		c->head = last->next;
		if (c->head == NULL)
			c->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&c->mu);
		run_batch(c, batch);
		pthread_mutex_lock(&c->mu);
		/* Wake only the batch's threads, not every waiter. */
		for (j = batch; j; j = last) {
			last = j->next;
			j->done = 1;
			pthread_cond_signal(&j->cv);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

enum pt_err
pt_committer_start(struct pt_store *s, size_t max_batch,
    struct pt_committer **out)
{
	struct pt_committer *c;

	*out = NULL;
	if ((c = pt_calloc(1, sizeof(*c))) == NULL)
		return PT_ENOMEM;
	c->store = s;
	c->max_batch = max_batch ? max_batch : 64;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->work, NULL);
	if (pthread_create(&c->thread, NULL, committer, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->work);
		pt_free(c);
		return PT_EIO;
	}
	*out = c;
	return PT_OK;
}

void
pt_committer_stop(struct pt_committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->work);
	pt_free(c);
}

enum pt_err
pt_committer_run(struct pt_committer *c, pt_write_fn fn, void *arg)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.arg = arg;
	pthread_cond_init(&j.cv, NULL);
	pthread_mutex_lock(&c->mu);
	if (c->tail)
		c->tail->next = &j;
	else
		c->head = &j;
	c->tail = &j;
	pthread_cond_signal(&c->work);
	while (!j.done)
		pthread_cond_wait(&j.cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&j.cv);
	if (j.rc != PT_OK)
		pt_store_set_errstr(j.err);
	return j.rc;
}

void
pt_committer_stats(struct pt_committer *c, struct pt_commit_stats *st)
{
	struct job *j;

	pthread_mutex_lock(&c->mu);
	*st = c->stats;
	st->waiting = 0;
	for (j = c->head; j; j = j->next)
		st->waiting++;
	pthread_mutex_unlock(&c->mu);
}

enum pt_err
pt_write(struct pt_store *s, struct pt_committer *c, pt_write_fn fn,
    void *arg)
{
	struct pt_txn *txn;
	enum pt_err rc;

	int tries;

	if (c != NULL)
		return pt_committer_run(c, fn, arg);
	for (tries = 0;; tries++) {
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE | PT_TXN_FLAT,
		    &txn)) != PT_OK)
			return rc;
		if ((rc = fn(txn, arg)) == PT_OK)
			rc = pt_txn_error(txn);
		if (rc == PT_OK) {
			rc = pt_txn_commit(txn);
			if (rc != PT_EFULL || !pt_store_commit_unwritten())
				return rc;
		} else
			pt_txn_abort(txn);
		if (rc != PT_EFULL || tries == GROW_TRIES ||
		    pt_store_make_room(s, GROW_NEED) != PT_OK)
			break;
		full_backoff(tries);
	}
	if (rc != PT_ERETRY)
		return rc;
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		return rc;
	if ((rc = fn(txn, arg)) != PT_OK) {
		pt_txn_abort(txn);
		return rc;
	}
	return pt_txn_commit(txn);
}
