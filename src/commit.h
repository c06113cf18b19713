/*
 * commit.h - group commit: many requests, one durable LMDB commit.
 *
 * Worker threads hand their write work (a function that writes in a
 * transaction) to one committer thread.  The committer takes every job
 * waiting, opens one write transaction (PT_TXN_FLAT), runs every job in it,
 * commits once -- one fsync for the whole batch -- and only then wakes the
 * workers, which answer their requests.  A job sees the writes of the jobs
 * before it in its batch, so a duplicate idempotency key in the same batch
 * is caught like any other.
 *
 * Should a job fail, the batch is aborted and run again, each job in a
 * nested transaction of its own: a failing job then leaves nothing and
 * does not harm the others.  (Nesting every job always would be simpler,
 * but LMDB's nested transactions copy every page they touch: it cost a
 * quarter of the CPU of an event with two actions.)  So a job function
 * may run twice: it must start from its inputs, not from what a first run
 * left in its argument, and only the run that returns PT_OK in the
 * committed transaction counts.
 */
#ifndef PT_COMMIT_H
#define PT_COMMIT_H

#include <stddef.h>

#include "err.h"
#include "store.h"

/* Writes into "txn"; PT_OK to keep the writes, anything else to drop them. */
typedef enum pt_err (*pt_write_fn)(struct pt_txn *txn, void *arg);

struct pt_committer;

struct pt_commit_stats {
	unsigned long long	batches;	/* commits */
	unsigned long long	jobs;		/* jobs committed or refused */
	size_t			largest;	/* biggest batch */
	unsigned long long	nested;		/* batches run again, nested */
	size_t			waiting;	/* jobs queued now */
};

/* Start the committer thread; at most "max_batch" jobs per commit. */
enum pt_err	pt_committer_start(struct pt_store *, size_t max_batch,
		    struct pt_committer **out);
/* Finish the jobs queued, stop the thread, free everything. */
void		pt_committer_stop(struct pt_committer *);
/*
 * Run "fn" in the next batch and wait until that batch committed.  Returns
 * fn's error, or the commit's error when the batch failed to commit.
 */
enum pt_err	pt_committer_run(struct pt_committer *, pt_write_fn fn,
		    void *arg);
void		pt_committer_stats(struct pt_committer *,
		    struct pt_commit_stats *);

/*
 * Without a committer: begin (PT_TXN_FLAT), fn, commit; when fn returns
 * PT_ERETRY, abort and run it again in a transaction without the flag.
 * With one: pt_committer_run.  Every write of the request path goes
 * through here.
 */
enum pt_err	pt_write(struct pt_store *, struct pt_committer *, pt_write_fn,
		    void *arg);

#endif
