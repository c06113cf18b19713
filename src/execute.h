/*
 * execute.h - an identified event's execution: one write stages its
 * actions, its log record and its idempotency record (or finds the key
 * taken); after the commit its workflow handlers run, outside any
 * transaction, and a second write records their outcome.
 */
#ifndef PT_EXECUTE_H
#define PT_EXECUTE_H

#include <stddef.h>

#include "ctx.h"
#include "err.h"
#include "exec.h"
#include "http.h"
#include "idem.h"
#include "store.h"

/*
 * Room kept for the write that records an event (beyond its handlers'
 * output): below it, /healthz says the store is full.
 */
#define PT_EVENT_ROOM	(64 * 1024)

struct intake;

/* What the first transaction decided, for the answer. */
enum pt_stage_kind {
	PT_STAGE_EXECUTED,	/* actions ran (maybe handlers pending) */
	PT_STAGE_REPLAYED,	/* idempotent: an earlier execution stands */
	PT_STAGE_CONFLICT	/* the key is held by a running execution */
};

struct pt_stage {
	struct pt_ctx		*ctx;
	struct intake		*in;
	enum pt_stage_kind	 kind;
	struct pt_idem_rec	 rec;		/* replayed/conflict: the holder */
	size_t			 pending;	/* handlers to run after commit */
	struct pt_exec_result	*res;		/* their outcomes */
	size_t			 failed;
};

/*
 * Stage everything in one write, commit, then answer (running the
 * workflow handlers first, when there are any): 200, 409 in_progress for
 * a key held by a running execution, 502 when a handler failed, or the
 * store's error.
 */
int		pt_execute(struct pt_ctx *, const struct pt_req *,
		    struct pt_resp *, struct intake *);
/*
 * Out of the single committer, in the request's thread, before the write:
 * pack the body and resolve the mappings' filters and parameters.  What
 * fails here the write does itself.
 */
void		pt_execute_prepare(struct pt_stage *);
/*
 * The first write of pt_execute, a pt_write() function over a struct
 * pt_stage: housekeeping, the idempotency check, every action's effects
 * and log, the event record and the idempotency record.  It may run
 * twice (pt_write), undoing what a first run left.
 */
enum pt_err	pt_execute_stage(struct pt_txn *, void *stage);
/*
 * After the commit of a stage with handlers pending: run them, record
 * their outcome, answer 200 (or 502 when one failed).
 */
int		pt_execute_handlers(struct pt_ctx *, const struct pt_req *,
		    struct pt_resp *, struct pt_stage *);

/*
 * The 2xx body: {"id", "event_type", "status", ...extra members}.  Returns
 * the status; 500 when there was no memory for the body (the event is
 * stored: the sender's retry is logged, and replayed if it has a key).
 */
int	pt_execute_answer(struct pt_resp *, int status, const struct intake *,
	    const char *extra);

#endif
