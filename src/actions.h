/*
 * actions.h - run an event's mappings: resolve and validate each action's
 * parameters (action_params.h), apply it to the data (data.h), and write
 * the action log.
 *
 * A missing required field, a type mismatch or a limit exceeded SKIPS that
 * action, and its log says which field and why; the event's other actions
 * still run.
 */
#ifndef PT_ACTIONS_H
#define PT_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "exec.h"
#include "ids.h"
#include "json.h"
#include "mapping.h"
#include "store.h"

enum pt_action_status {
	PT_ACT_SUCCESS,
	PT_ACT_SKIPPED,		/* a field failed validation */
	PT_ACT_FAILED,		/* a workflow handler failed */
	PT_ACT_PENDING,		/* a workflow handler is to run */
	PT_ACT_INTERRUPTED,	/* the handler's process died (recovery) */
	PT_ACT_FILTERED		/* the mapping's filter did not match */
};

const char	*pt_action_status_name(enum pt_action_status);

/* A handler to run after the commit, outside any transaction. */
struct pt_job {
	char *const	*argv;		/* exec, or NULL with "http" */
	const struct pt_workflow *http;	/* an HTTP handler's workflow */
	int64_t		 timeout_ms;
	size_t		 max_output;
	pt_json		*input;		/* JSON for its stdin */
	char		 run_text[PT_ID_MAX];	/* "run_..." or "" */
	const char	*workflow;
	const char	*kind;		/* "trigger" or "cancel" */
};

struct pt_action_prep;

/* What one mapping did for one event. */
struct pt_action_log {
	const struct pt_mapping	*mapping;
	enum pt_action_status	 status;
	uint8_t			 id[PT_ID_BIN];
	char			 id_text[PT_ID_MAX];
	pt_json			*payload;	/* resolved values, or NULL */
	const struct pt_buf	*text;		/* payload as JSON (its
						   prep's), or NULL */
	const struct pt_action_prep *ahead;	/* its prep, made ahead
						   (pt_actions_pack), or
						   NULL */
	pt_json			*result;	/* {"id": "run_..."}, counts */
	char			 field[64];	/* skipped: the field */
	char			 message[400];	/* skipped/failed: why */
	int			 has_job;
	struct pt_job		 job;
	uint8_t			 run_id[PT_ID_BIN];	/* trigger: its run */
	pt_json			*run;		/* trigger: the run record */
	struct pt_buf		 head;		/* the record's fixed members */
	enum pt_action_status	 logged;	/* the stored record's status
						   (its index entry) */
	int			 stored;	/* written once already */
};

struct pt_event_ctx {
	const struct pt_config	*cfg;
	const struct pt_env	*env;
	const char		*event_type;
	const char		*event_id;	/* "evt_..." */
	struct pt_roots		 roots;		/* body, headers, preprocess */
	size_t			 body_len;	/* raw bytes (0: unknown) */
	int64_t			 now;		/* µs */
};

/*
 * What an event's mappings come to before anything is read or written:
 * for each active mapping of ctx->event_type, in priority order, the
 * filter's verdict, or its resolved parameters (a skip says which field
 * and why).  Pure, so made in the request's thread: the single committer
 * then only applies them.
 */
struct pt_action_prep {
	const struct pt_mapping	*mapping;
	enum pt_action_status	 status;	/* FILTERED, SKIPPED, or
						   SUCCESS: to apply */
	pt_json			*payload;	/* SUCCESS: resolved values */
	struct pt_buf		 text;		/* the payload as JSON */
	uint8_t			 id[PT_ID_BIN];	/* with "packed": the log's */
	char			 id_text[PT_ID_MAX];
	/* Made ahead (pt_actions_pack), or empty: */
	struct pt_buf		 tail;		/* the log record's fixed
						   members and payload */
	struct pt_buf		 guess;		/* its likely outcome, */
	struct pt_buf		 packed;	/* the whole record packed
						   for it */
	uint8_t			 run_id[PT_ID_BIN];	/* a trigger's run, */
	char			 run_text[PT_ID_MAX];	/* made ahead too, */
	pt_json			*run;			/* or NULL */
	struct pt_buf		 run_packed;
	char			 field[64];
	char			 message[400];
};

struct pt_action_preps {
	struct pt_action_prep	*v;
	size_t			 n;
	int			 made;
};

enum pt_err	pt_actions_prepare(const struct pt_event_ctx *,
		    struct pt_action_preps *);
/*
 * Make each action log record's members known before the write (its id,
 * the event's, the mapping's, the time "ctx->now", the payload) and a
 * trigger's run record ahead, in the request's thread, and pack the whole
 * log record for its likely outcome: when the write's outcome is that,
 * the committer only copies it, else it packs the record itself.  Best
 * effort: a prep without is written as before.
 */
void		pt_actions_pack(struct pt_store *, const struct pt_event_ctx *,
		    struct pt_action_preps *);
void		pt_action_preps_free(struct pt_action_preps *);

/*
 * Run every active mapping for ctx->event_type, in priority order, inside
 * "txn" (each action in a nested transaction, so a failed one leaves
 * nothing), and write their action log records.  "preps" is what
 * pt_actions_prepare made for this event (kept until the logs are freed),
 * or NULL: made here.  *logs is an array of *n (0: no active mapping),
 * freed with pt_action_logs_free.  A storage error is returned as such:
 * the caller must abort the whole event.  In a PT_TXN_FLAT transaction the
 * actions run without nesting, and an action the data refuses returns
 * PT_ERETRY (run it all again without the flag).
 */
enum pt_err	pt_actions_run(struct pt_txn *, const struct pt_event_ctx *,
		    const struct pt_action_preps *, struct pt_action_log **logs,
		    size_t *n);

/*
 * Record what a handler did: the action (success/failed) and, for a
 * trigger, its run (completed/failed).
 */
enum pt_err	pt_action_finish(struct pt_txn *, struct pt_action_log *,
		    const struct pt_exec_result *, int64_t now);

/* Mark a pending action (and its run) interrupted, by action id. */
enum pt_err	pt_action_interrupt(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    int64_t now);

/* The stored action log record (a new reference). */
enum pt_err	pt_action_get(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    pt_json **out);

void		pt_action_logs_free(struct pt_action_log *, size_t);

#endif
