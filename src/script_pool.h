/*
 * script_pool.h - the worker processes behind preprocess scripts (the
 * pool of script.h): how script.c hands a request frame to a worker and
 * gets the reply back within a time limit.  Frames are script_wire.h's.
 */
#ifndef PT_SCRIPT_POOL_H
#define PT_SCRIPT_POOL_H

#include <stddef.h>

#include "buf.h"
#include "script.h"

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
