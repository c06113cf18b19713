/*
 * intake.h - one event on its way in: the state every path that makes an
 * event (a webhook, a batch element, a replay) fills, and the steps they
 * share: its headers (all of them for paths, a redacted copy for the
 * log), its type and time, its idempotency key, its log record.
 */
#ifndef PT_INTAKE_H
#define PT_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "buf.h"
#include "conf.h"
#include "eventlog.h"
#include "http.h"
#include "json.h"
#include "store.h"

/* Per-request state, freed in one place (pt_intake_free). */
struct intake {
	const struct pt_env	*env;
	uint8_t			*body;
	size_t			 body_len;
	struct pt_buf		 packed;	/* the body packed before the
						   write, or empty */
	struct pt_buf		 guess;		/* the expected outcome's */
	struct pt_buf		 meta_packed;	/* metadata, packed for it
						   (eventlog.h), or empty */
	pt_json			*doc;		/* parsed body */
	pt_json			*headers;	/* all headers, for paths */
	pt_json			*pre;		/* the preprocess result, or
						   NULL: no script ran */
	const pt_json		*vars;		/* the config's variables
						   (borrowed), or NULL */
	pt_json			*logged;	/* redacted headers, for the log */
	pt_json			*warnings;
	pt_json			*extra;
	struct pt_buf		 type;		/* event type text */
	struct pt_event		 ev;
	struct pt_buf		 idem_key;	/* valid key, or empty */
	int			 has_idem;
	struct pt_action_log	*logs;
	size_t			 nlogs;
	struct pt_action_preps	 preps;		/* made before the write, or
						   empty */
	int64_t			(*now)(void);	/* the context's clock */
	int			 committed;	/* its event was written */
	/*
	 * What the sender is answered, logged with the event as
	 * "response" (0: not known when the record is written; a later
	 * update says it).
	 */
	int			 answer;
	const char		*answer_code;	/* NULL: a 2xx */
	int64_t			 answer_retry;	/* Retry-After seconds, or 0 */
};

/*
 * Pack the body for the log in the request's thread, before the write
 * (evrec.h): the committer then only copies it.  On failure the write
 * packs it instead.
 */
void		pt_intake_pack(struct pt_store *, struct intake *);
/*
 * The same for the metadata of "ev", the event as the write is expected
 * to leave it (eventlog.h, pt_eventlog_prepack).
 */
void		pt_intake_pack_meta(struct pt_store *, struct intake *,
		    const struct pt_event *ev);

/* What paths, filters and parameters of this event read. */
struct pt_roots	pt_intake_roots(const struct intake *);

/*
 * Build in->headers (every header of "req", the first value of a name
 * that comes twice) and in->logged (at most 64, values cut at 1 KiB,
 * credentials redacted: those the scheme reads its secret from, usual
 * credential names, and any value holding one of in->vars).  PT_OK or
 * PT_ENOMEM.
 */
enum pt_err	pt_intake_headers(const struct pt_req *, struct intake *);
/*
 * Write the event record in "txn" and count it (an execution waiting for
 * its handlers is counted when they are done, with its final status).
 */
enum pt_err	pt_intake_log(struct pt_txn *, struct intake *);
/*
 * {"status", "error", "retry_after"}: what a sender was answered, as the
 * event log keeps it ("code" NULL and "retry" 0 are nulls).  NULL when
 * out of memory.
 */
pt_json		*pt_intake_answer(int status, const char *code, int64_t retry);
/* Identify the event (identify.h): its type, its time, warnings. */
enum pt_err	pt_intake_identify(struct intake *);
/*
 * The idempotency key, when the environment has one: a valid key is kept
 * in in->idem_key; an invalid one is dropped with a warning that does not
 * repeat it; no value means no key.
 */
enum pt_err	pt_intake_idem_key(struct intake *);
/*
 * Does text "s" of "n" bytes give away one of the variables "vars" (NULL
 * ok): equal to a value, or holding one of 6 bytes or more?
 */
int		pt_intake_holds_var(const pt_json *vars, const char *s,
		    size_t n);
/*
 * A copy of "j" for the log with every string that holds a variable
 * (pt_intake_holds_var) replaced by "[redacted]"; NULL when out of memory.
 */
pt_json		*pt_intake_mask(const pt_json *vars, const pt_json *j);
void		pt_intake_free(struct intake *);

#endif
