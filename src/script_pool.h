/*
 * script_pool.h - where preprocess scripts run: Duktape engines on the
 * callers' own threads (script_guard.h bounds their time) or the worker
 * processes script.h describes.  Starting and stopping the pool, and how
 * script.c hands a request frame to a worker (an engine or a process)
 * and gets the reply back within a time limit.  Frames are
 * script_wire.h's.
 */
#ifndef PT_SCRIPT_POOL_H
#define PT_SCRIPT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct pt_script_pool;

/* Where the scripts of a pool run (PORTER_SCRIPT_ISOLATION). */
enum pt_script_where {
	PT_SCRIPT_AUTO = 0,	/* THREAD where it is supported, else PROCESS */
	PT_SCRIPT_THREAD,	/* on the caller's thread */
	PT_SCRIPT_PROCESS	/* in sandboxed worker processes */
};

/*
 * Start the pool and its first worker: an engine, or the zygote and a
 * worker process.  "max_workers" (1 or more) bounds the workers alive at
 * once; callers beyond it wait for one to be free.  Returns PT_OK, or an
 * error with the reason in "why" (PT_EINVAL for THREAD where it is not
 * supported).
 * NOTE: call it from the main thread before starting other threads and
 * before opening the store: the zygote is a fork of this process, and
 * keeps only its socket, stderr and /dev/null; the zygote exits when this
 * process does (its socket closes; PR_SET_PDEATHSIG besides), and its
 * workers with it.  THREAD and AUTO set TZ=UTC in this process
 * (pt_sguard_init).
 */
enum pt_err	 pt_script_pool_start(enum pt_script_where, unsigned max_workers,
		    struct pt_script_pool **out, char *why, size_t whylen);
/* Stop every worker and the zygote.  No run may be in progress.  NULL ok. */
void		 pt_script_pool_stop(struct pt_script_pool *);

/* Counters since the pool started (tests, metrics). */
struct pt_script_pool_stats {
	uint64_t	runs;		/* frames answered */
	uint64_t	started;	/* workers started */
	uint64_t	killed;		/* workers killed at a timeout */
	uint64_t	died;		/* workers that ended on their own */
	unsigned	alive;		/* workers now alive */
	int		threads;	/* the workers are engines on the
					   callers' threads */
};
void		 pt_script_pool_stats(struct pt_script_pool *,
		    struct pt_script_pool_stats *);

enum pt_spool_res {
	PT_SPOOL_OK = 0,	/* "reply" holds the whole reply frame */
	PT_SPOOL_TIMEOUT,	/* no reply in time: the worker was killed */
	PT_SPOOL_DIED,		/* the worker ended, or replied garbage */
	PT_SPOOL_UNAVAILABLE	/* no worker could be had */
};

/*
 * Send the request frame "req" ("len" bytes, length word included) to a
 * free worker and wait at most "timeout_ms" for its reply, which replaces
 * the contents of "reply".  A worker that does not answer in time, or
 * answers garbage, is killed and replaced on a later call.  "why" says
 * what went wrong when the result is not PT_SPOOL_OK.
 */
enum pt_spool_res pt_spool_call(struct pt_script_pool *, const void *req,
		    size_t len, unsigned timeout_ms, struct pt_buf *reply,
		    char *why, size_t whylen);

#endif
