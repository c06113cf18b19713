/*
 * preprocess.h - an environment's preprocess script run on one event
 * (script.h is the engine): what it is given, what its answer means and
 * what of it the event log keeps.  Ingest runs it after the body is
 * parsed and before the event is identified, so its keys are there for
 * every path (preprocess.<key>), filter and parameter; a replay runs it
 * again on the logged body.
 */
#ifndef PT_PREPROCESS_H
#define PT_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "intake.h"
#include "script.h"

/* The keys of a script's answer that are not preprocess.<key>. */
struct pt_pre_verdict {
	int	verified;	/* "verified": 1 true, 0 any other value,
				   -1 absent */
	int	skip;		/* "skip": true */
};

/*
 * Run in->env's script through "pool" (NULL: PT_SCRIPT_UNAVAILABLE) on
 * in->doc, in->body and the headers of "req", with ctx.vars from
 * in->vars and Date.now() the time the event arrived.  "body_is_json":
 * in->body is the JSON text in->doc was parsed from (saves writing it
 * again).  On PT_SCRIPT_OK in->pre holds the answer without "verified"
 * and "skip", in->extra "preprocess" a masked copy for the log
 * (pt_intake_mask), and *v what those two said.  Otherwise "why" says
 * what went wrong (no variable in it; script.h).
 */
enum pt_script_res pt_preprocess(struct pt_script_pool *pool,
		    const struct pt_req *req, struct intake *in,
		    int body_is_json, struct pt_pre_verdict *v, char *why,
		    size_t whylen);

/*
 * Rehearse's run (inspect.h): "env"'s script on "body" (its text "raw",
 * or NULL: the body's JSON) with the headers object "headers" (lower-case
 * names) at "now_ms", nothing logged.  PT_OK with *pre the keys for the
 * rehearsal's roots (NULL: no script, or it failed) and *report what the
 * answer's "preprocess" shows: {"output" (masked), "verified" (true,
 * false or null: not said), "skip"} or {"error": {"code", "message"}};
 * NULL without a script.  PT_ENOMEM otherwise.
 */
enum pt_err	pt_preprocess_rehearse(struct pt_script_pool *pool,
		    const struct pt_env *env, const pt_json *vars,
		    const pt_json *body, const char *raw, size_t rawlen,
		    const pt_json *headers, int64_t now_ms, pt_json **pre,
		    pt_json **report);
/*
 * Put rehearse's "report" (taken, NULL ok) into its answer "out" as
 * "preprocess"; a failed or skipping script sets the answer's status
 * ("script_failed", "skipped") and message.  PT_OK or PT_ENOMEM.
 */
enum pt_err	pt_preprocess_report(pt_json *out, pt_json *report);

#endif
