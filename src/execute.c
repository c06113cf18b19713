/*
 * execute.c - an event's execution (see execute.h): one write that stages
 * its actions, its log record and its idempotency record; then its
 * workflow handlers and a second write for their outcome; then the answer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "alloc.h"
#include "commit.h"
#include "eventlog.h"
#include "exec.h"
#include "execute.h"
#include "httpc.h"
#include "idem.h"
#include "ids.h"
#include "intake.h"
#include "json.h"
#include "metrics.h"
#include "recover.h"
#include "retention.h"

#define LEASE_GRACE_US	(30 * 1000000LL)
#define RECOVER_PER_WRITE	2
#define PRUNE_PER_WRITE		4
#define EVICT_PER_WRITE		4
/*
 * Writes between two rounds of housekeeping.  On a database server each
 * round's walks are round trips inside the writer lock (about five), so
 * rounds are rarer there and do as much more: the work per write is the
 * same.
 */
#define HOUSEKEEP_EVERY		8
#define HOUSEKEEP_EVERY_REMOTE	32

/*
 * Is this write one that also does housekeeping?  The number of writes
 * its round stands for (the amounts scale with it), or 0.  (Threads may
 * race on the counter: a skipped or doubled round is harmless.)
 */
static unsigned
housekeep_due(struct pt_txn *txn)
{
	static unsigned n;
	unsigned every = pt_store_remote(pt_txn_store(txn)) ?
	    HOUSEKEEP_EVERY_REMOTE : HOUSEKEEP_EVERY;

	return __atomic_fetch_add(&n, 1, __ATOMIC_RELAXED) % every == 0 ?
	    every : 0;
}

int
pt_execute_answer(struct pt_resp *resp, int status, const struct intake *in,
    const char *extra)
{
	resp->status = status;
	resp->content_type = "application/json";
	pt_buf_reset(&resp->body);
	pt_buf_adds(&resp->body, "{\"id\": ");
	pt_buf_add_json_str(&resp->body, in->ev.id_text,
	    strlen(in->ev.id_text));
	pt_buf_adds(&resp->body, ", \"event_type\": ");
	if (in->ev.event_type)
		pt_buf_add_json_str(&resp->body, in->type.data, in->type.len);
	else
		pt_buf_adds(&resp->body, "null");
	pt_buf_adds(&resp->body, ", \"status\": ");
	pt_buf_add_json_str(&resp->body, in->ev.status, strlen(in->ev.status));
	if (extra)
		pt_buf_adds(&resp->body, extra);
	pt_buf_adds(&resp->body, "}\n");
	if (!resp->body.failed)
		return status;
	pt_buf_free(&resp->body);
	resp->status = 500;
	/* Static text: there is no memory to format anything. */
	pt_buf_adds(&resp->body, "{\"error\": \"internal_error\", "
	    "\"message\": \"out of memory writing the answer; the event was "
	    "stored\"}\n");
	return 500;
}

/* Set member "key" of in->extra. */
static enum pt_err
extra(struct intake *in, const char *key, pt_json *val)
{
	return pt_json_set(in->extra, key, val);
}

/* The environment a workflow handler gets: nothing inherited. */
static void
job_env(const struct intake *in, const struct pt_action_log *al,
    char buf[8][300], char *envp[9])
{
	int i = 0;

	snprintf(buf[i++], 300, "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(buf[i++], 300, "LANG=C.UTF-8");
	snprintf(buf[i++], 300, "TZ=UTC");
	snprintf(buf[i++], 300, "PORTER_EVENT_ID=%s", in->ev.id_text);
	snprintf(buf[i++], 300, "PORTER_RUN_ID=%s", al->job.run_text);
	snprintf(buf[i++], 300, "PORTER_WORKFLOW=%s", al->job.workflow);
	snprintf(buf[i++], 300, "PORTER_ACTION=%s", al->job.kind);
	snprintf(buf[i++], 300, "PORTER_SOURCE=%s/%s", in->env->source_key,
	    in->env->name);
	for (i = 0; i < 8; i++)
		envp[i] = buf[i];
	envp[8] = NULL;
}

/* Seconds a sender waits after a failed handler (Retry-After). */
#define HANDLER_RETRY	60
#define PT_STR_(x)	#x
#define PT_STR(x)	PT_STR_(x)

/* Retry-After for a repeat while the first still runs: its lease. */
static int64_t
conflict_retry(const struct intake *in, const struct pt_idem_rec *rec)
{
	int64_t secs = (rec->expires_at - in->ev.received_at + 999999) /
	    1000000;

	return secs < 1 ? 1 : secs;
}

static void
idem_scope(const struct intake *in, struct pt_idem_scope *sc)
{
	sc->source = in->env->source_key;
	sc->environment = in->env->name;
	sc->event_type = in->ev.event_type;
	sc->key = in->idem_key.data;
	sc->key_len = in->idem_key.len;
}

/*
 * A little housekeeping every few writes keeps the store bounded: a round
 * every HOUSEKEEP_EVERY writes of this process does, for each of them,
 * PRUNE_PER_WRITE and EVICT_PER_WRITE, and per HOUSEKEEP_EVERY of them
 * RECOVER_PER_WRITE and PT_RETENTION_PER_ROUND: expired idempotency
 * records, executions whose process died, logs past their retention.
 */
static enum pt_err
housekeep(struct pt_txn *txn, const struct pt_config *cfg, int64_t now)
{
	size_t pruned, recovered;
	unsigned n = housekeep_due(txn), rounds;
	enum pt_err rc;

	if (n == 0)
		return PT_OK;
	rounds = (n + HOUSEKEEP_EVERY - 1) / HOUSEKEEP_EVERY;
	if ((rc = pt_idem_prune(txn, now, PRUNE_PER_WRITE * (size_t)n,
	    &pruned)) != PT_OK ||
	    (rc = pt_recover(txn, now, RECOVER_PER_WRITE * rounds,
	    &recovered)) != PT_OK)
		return rc;
	/* Near the ceiling: the oldest logs go, faster than events come. */
	if (pt_store_near_ceiling(pt_txn_store(txn)) &&
	    (rc = pt_retention_evict_step(txn, EVICT_PER_WRITE *
	    (size_t)n)) != PT_OK)
		return rc;
	return pt_retention_step(txn, cfg, now, rounds);
}

/* Undo what a first run of the stage left (pt_write may run it twice). */
static void
stage_reset(struct pt_stage *st)
{
	struct intake *in = st->in;

	if (st->kind == PT_STAGE_CONFLICT) {
		in->ev.error_code = NULL;
		in->ev.error_message = NULL;
	}
	pt_json_del(in->extra, "actions");
	pt_json_del(in->extra, "idempotency");
	pt_json_del(in->extra, "lease_until_us");
	pt_json_del(in->extra, "lease_owner");
	st->kind = PT_STAGE_EXECUTED;
	st->pending = 0;
	pt_action_logs_free(in->logs, in->nlogs);
	in->logs = NULL;
	in->nlogs = 0;
}

/*
 * The idempotency check: *ij gets the event's "idempotency" member (its
 * key).  When an earlier execution holds the key -- done: this is a
 * replay; still running: a conflict -- the event is logged as such, names
 * the holder, and *held is set: nothing runs.  A holder whose process
 * died is interrupted first.
 */
static enum pt_err
stage_idem(struct pt_txn *txn, struct pt_stage *st, int64_t now,
    pt_json **ij, int *held)
{
	struct intake *in = st->in;
	struct pt_idem_scope sc;
	char orig[PT_ID_MAX];
	enum pt_err rc;

	*held = 0;
	idem_scope(in, &sc);
	if ((rc = pt_idem_lookup(txn, &sc, now, in->env->idem_window *
	    1000000, &st->rec)) != PT_OK)
		return rc;
	if ((*ij = pt_json_new_object()) == NULL ||
	    pt_json_set(*ij, "key", pt_json_new_str(in->idem_key.data,
	    in->idem_key.len)) != PT_OK)
		return PT_ENOMEM;
	if (st->rec.state == PT_IDEM_STALE)
		return pt_recover_event(txn, st->rec.event_id, now);
	if (st->rec.state != PT_IDEM_DONE && st->rec.state != PT_IDEM_PENDING)
		return PT_OK;
	*held = 1;
	pt_id_text("evt", st->rec.event_id, orig);
	if (pt_json_set(*ij, "original_event_id", pt_json_new_cstr(orig)) !=
	    PT_OK)
		return PT_ENOMEM;
	rc = extra(in, "idempotency", *ij);
	*ij = NULL;
	if (rc != PT_OK)
		return PT_ENOMEM;
	if (st->rec.state == PT_IDEM_DONE) {
		st->kind = PT_STAGE_REPLAYED;
		in->ev.status = "idempotent";
		in->answer = 200;
	} else {
		st->kind = PT_STAGE_CONFLICT;
		in->ev.status = "conflict";
		in->ev.error_code = "in_progress";
		in->ev.error_message = "the same event is being executed by "
		    "another request";
		in->answer = 409;
		in->answer_code = "in_progress";
		in->answer_retry = conflict_retry(in, &st->rec);
	}
	return pt_intake_log(txn, in);
}

/*
 * Run the event's mappings (actions.h): in->logs, the event's "actions"
 * member and its status; st->pending counts the handlers to run, *lease
 * grows by their time limits.
 */
static void
event_ctx(const struct pt_stage *st, int64_t now, struct pt_event_ctx *ectx)
{
	const struct intake *in = st->in;

	memset(ectx, 0, sizeof(*ectx));
	ectx->cfg = st->ctx->cfg;
	ectx->env = in->env;
	ectx->event_type = in->ev.event_type;
	ectx->event_id = in->ev.id_text;
	ectx->roots = pt_intake_roots(in);
	ectx->body_len = in->body_len;
	ectx->now = now;
}

static enum pt_err
stage_actions(struct pt_txn *txn, struct pt_stage *st, int64_t now,
    int64_t *lease)
{
	struct intake *in = st->in;
	struct pt_event_ctx ectx;
	pt_json *ids;
	enum pt_err rc;
	size_t i;

	if (in->ev.event_type == NULL) {
		in->ev.status = "no_event_type";
		return PT_OK;
	}
	event_ctx(st, now, &ectx);
	if ((rc = pt_actions_run(txn, &ectx, &in->preps, &in->logs,
	    &in->nlogs)) != PT_OK)
		return rc;
	if ((ids = pt_json_new_array()) == NULL)
		return PT_ENOMEM;
	for (i = 0; i < in->nlogs; i++) {
		if (in->logs[i].status == PT_ACT_PENDING) {
			st->pending++;
			*lease += in->logs[i].job.timeout_ms * 1000;
		}
		if (pt_json_append(ids, pt_json_new_cstr(in->logs[i].id_text)) !=
		    PT_OK) {
			pt_json_put(ids);
			return PT_ENOMEM;
		}
	}
	if (extra(in, "actions", ids) != PT_OK)
		return PT_ENOMEM;
	in->ev.status = in->nlogs == 0 ? "no_mapping" : st->pending ?
	    "pending" : "accepted";
	return PT_OK;
}

/*
 * Handlers run between this write and the one that records their
 * outcome.  Should that second write find the store full, the event would
 * stay pending and the sender's retry would run the handlers again once
 * the lease ran out: so start them only with room left for their output
 * (and a margin), else refuse now, before anything has run, with the
 * retryable 503 of a full store.
 */
static enum pt_err
room_for_handlers(struct pt_txn *txn, const struct intake *in)
{
	uint64_t need = PT_EVENT_ROOM;
	size_t i;

	for (i = 0; i < in->nlogs; i++)
		if (in->logs[i].status == PT_ACT_PENDING)
			need += 2 * (uint64_t)in->logs[i].job.max_output;
	return pt_store_has_room(pt_txn_store(txn), need);
}

/*
 * The lease of an execution with handlers pending, the idempotency record
 * "ij" (taken; pending until the handlers are done, else done) and the
 * event record.
 */
static enum pt_err
stage_record(struct pt_txn *txn, struct pt_stage *st, int64_t now,
    int64_t lease, pt_json **ij)
{
	struct intake *in = st->in;
	struct pt_idem_scope sc;
	enum pt_err rc;

	if (st->pending) {
		lease += now + LEASE_GRACE_US;
		if (extra(in, "lease_until_us", pt_json_new_int(lease)) != PT_OK ||
		    extra(in, "lease_owner", pt_json_new_cstr(
		    pt_idem_owner_name())) != PT_OK)
			return PT_ENOMEM;
	}
	/* Handlers decide the answer; it is logged when they are done. */
	in->answer = st->pending ? 0 : 200;
	if (in->has_idem) {
		rc = extra(in, "idempotency", *ij);
		*ij = NULL;
		if (rc != PT_OK)
			return PT_ENOMEM;
		idem_scope(in, &sc);
		if ((rc = st->pending ? pt_idem_put(txn, &sc, PT_IDEM_PENDING,
		    in->ev.id, now, lease, pt_idem_owner()) : pt_idem_put(txn,
		    &sc, PT_IDEM_DONE, in->ev.id, now, now +
		    in->env->idem_window * 1000000, 0)) != PT_OK)
			return rc;
	}
	return pt_intake_log(txn, in);
}

/*
 * Step 6, as one write: housekeeping, the idempotency check, every
 * action's effects and log, the event record and the idempotency record.
 * Runs in whatever transaction pt_write() gives it (its own, or a nested
 * one inside a group commit).
 */
enum pt_err
pt_execute_stage(struct pt_txn *txn, void *arg)
{
	struct pt_stage *st = arg;
	struct intake *in = st->in;
	pt_json *ij = NULL;
	enum pt_err rc;
	int64_t now = in->ev.received_at, lease = 0;
	int held = 0;

	if ((rc = housekeep(txn, st->ctx->cfg, now)) != PT_OK)
		return rc;
	stage_reset(st);
	if (in->has_idem && ((rc = stage_idem(txn, st, now, &ij, &held)) !=
	    PT_OK || held))
		goto out;
	if ((rc = stage_actions(txn, st, now, &lease)) != PT_OK ||
	    (st->pending && (rc = room_for_handlers(txn, in)) != PT_OK))
		goto out;
	rc = stage_record(txn, st, now, lease, &ij);
out:
	/*
	 * The request thread needs the action logs only to run handlers:
	 * free them here, in the thread (and malloc arena) that built them.
	 */
	if (rc == PT_OK && st->pending == 0) {
		pt_action_logs_free(in->logs, in->nlogs);
		in->logs = NULL;
		in->nlogs = 0;
	}
	pt_json_put(ij);
	return rc;
}

/*
 * The second write of an execution with handlers: their outcomes, the
 * event's final status, and the idempotency record -- done when every
 * handler succeeded, released otherwise so that the sender's retry runs.
 */
static enum pt_err
finish_fn(struct pt_txn *txn, void *arg)
{
	struct pt_stage *st = arg;
	struct intake *in = st->in;
	struct pt_idem_scope sc;
	pt_json *set = NULL, *e;
	enum pt_err rc;
	size_t i;
	int64_t now = st->ctx->now();

	st->failed = 0;
	for (i = 0; i < in->nlogs; i++) {
		struct pt_action_log *al = &in->logs[i];

		/* Not al->status: a first run of this write changed it. */
		if (!al->has_job)
			continue;
		if ((rc = pt_action_finish(txn, al, &st->res[i], now)) != PT_OK)
			return rc;
		if (al->status == PT_ACT_FAILED)
			st->failed++;
	}
	in->ev.status = st->failed ? "failed" : "accepted";
	rc = PT_ENOMEM;
	if ((set = pt_json_new_object()) == NULL ||
	    pt_json_set_null(set, "lease_until_us") != PT_OK ||
	    pt_json_set_null(set, "lease_owner") != PT_OK ||
	    pt_json_set(set, "response", st->failed ? pt_intake_answer(502,
	    "handler_failed", HANDLER_RETRY) : pt_intake_answer(200, NULL,
	    0)) != PT_OK)
		goto out;
	if (st->failed && ((e = pt_json_new_object()) == NULL ||
	    pt_json_set(set, "error", e) != PT_OK ||
	    pt_json_set(e, "code", pt_json_new_cstr("handler_failed")) != PT_OK ||
	    pt_json_set(e, "message", pt_json_new_cstr("a workflow handler "
	    "failed; see the action log")) != PT_OK))
		goto out;
	if ((rc = pt_eventlog_update(txn, in->ev.id, in->ev.status, set)) !=
	    PT_OK || (rc = pt_metrics_event(txn, &in->ev, now)) != PT_OK)
		goto out;
	if (in->has_idem) {
		idem_scope(in, &sc);
		rc = st->failed ? pt_idem_release(txn, &sc) : pt_idem_put(txn,
		    &sc, PT_IDEM_DONE, in->ev.id, now, now +
		    in->env->idem_window * 1000000, 0);
	}
out:
	pt_json_put(set);
	return rc;
}

/*
 * An HTTP handler (conf.h): POST the job's input to the workflow's URL,
 * signed the Standard Webhooks way with the run id (a cancellation's
 * action id) as webhook-id, so that the app can drop a repeat; the
 * answer fills "res" as an exec's would (its body as "stdout").
 */
static void
run_http(const struct pt_action_log *al, const char *input, size_t n,
    int64_t now_s, struct pt_exec_result *res)
{
	const struct pt_workflow *wf = al->job.http;
	struct pt_httpc_req rq;
	struct pt_httpc_res hr;
	struct pt_buf hdrs = { 0 };
	const char *id = al->job.run_text[0] ? al->job.run_text : al->id_text;

	memset(&rq, 0, sizeof(rq));
	memset(&hr, 0, sizeof(hr));
	if (wf->http_headers != NULL)
		(void)pt_buf_add(&hdrs, wf->http_headers, wf->http_headers_len);
	pt_buf_printf(&hdrs, "X-Porter-Action: %s\n", al->job.kind);
	if (hdrs.failed || (wf->http_secret != NULL &&
	    pt_httpc_sign_std(wf->http_secret, wf->http_secret_len, id, now_s,
	    input, n, &hdrs) != PT_OK)) {
		snprintf(res->error, sizeof(res->error), "cannot sign the call");
		goto out;
	}
	rq.url = wf->http_url;
	rq.headers = hdrs.data;
	rq.headers_len = hdrs.len;
	rq.body = input;
	rq.body_len = n;
	rq.timeout_ms = al->job.timeout_ms;
	rq.max_body = al->job.max_output;
	rq.ca_file = wf->http_ca_file;
	(void)pt_httpc_send(&rq, &hr);
	res->duration_ms = hr.duration_ms;
	res->timed_out = hr.timed_out;
	res->http_status = hr.status;
	if (hr.error[0] != '\0' && !hr.timed_out)
		snprintf(res->error, sizeof(res->error), "%s", hr.error);
	else if (hr.status >= 300 && hr.status < 400)
		pt_httpc_describe(&hr, res->error, sizeof(res->error));
	res->out = hr.body;
	res->out_truncated = hr.truncated;
	hr.body.data = NULL;
	hr.body.len = hr.body.cap = 0;
out:
	pt_httpc_res_free(&hr);
	if (hdrs.data != NULL)
		pt_wipe(hdrs.data, hdrs.cap);	/* configured credentials */
	pt_buf_free(&hdrs);
}

/*
 * Run the pending handlers, outside any transaction, then record their
 * outcome; answer 200, or 502 when one failed.
 */
int
pt_execute_handlers(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    struct pt_stage *st)
{
	struct intake *in = st->in;
	char envbuf[8][300], *envp[9];
	const char *input;
	enum pt_err rc;
	size_t i, n;
	int status;

	if ((st->res = pt_calloc(in->nlogs, sizeof(*st->res))) == NULL)
		return pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory (event %s stays pending)", in->ev.id_text);
	for (i = 0; i < in->nlogs; i++) {
		struct pt_action_log *al = &in->logs[i];

		if (al->status != PT_ACT_PENDING || !al->has_job)
			continue;
		job_env(in, al, envbuf, envp);
		if ((input = pt_json_text(al->job.input, PT_JSON_PLAIN, &n)) ==
		    NULL) {
			snprintf(st->res[i].error, sizeof(st->res[i].error),
			    "out of memory");
			continue;
		}
		if (al->job.http != NULL)
			run_http(al, input, n, ctx->now() / 1000000,
			    &st->res[i]);
		else if (pt_exec(al->job.argv, envp, input, n,
		    al->job.timeout_ms, al->job.max_output, &st->res[i]) !=
		    PT_OK && st->res[i].error[0] == '\0')
			snprintf(st->res[i].error, sizeof(st->res[i].error),
			    "could not start");
	}
	rc = pt_write(ctx->store, ctx->committer, finish_fn, st);
	for (i = 0; i < in->nlogs; i++)
		pt_exec_result_free(&st->res[i]);
	pt_free(st->res);
	st->res = NULL;
	if (rc != PT_OK)
		return pt_reject_store(ctx, req, resp, rc, "recording handler "
		    "results (the event stays pending until recovered)");
	for (i = 0; i < in->nlogs; i++)
		if (in->logs[i].status == PT_ACT_FAILED && in->logs[i].has_job)
			pt_ctx_log(ctx, "workflow handler failed: event %s action %s: "
			    "%s; see `porterctl log %s`", in->ev.id_text,
			    in->logs[i].id_text, in->logs[i].message,
			    in->ev.id_text);
	if (st->failed) {
		/*
		 * The sender is not the operator: it gets the event id to quote
		 * and a neutral text; what failed and how to look is in the log
		 * lines above.
		 */
		pt_resp_header(resp, "Retry-After", PT_STR(HANDLER_RETRY));
		status = pt_reject(ctx, req, resp, 502, "handler_failed", "event %s "
		    "was received but could not be processed; retry later",
		    in->ev.id_text);
		return status;
	}
	return pt_execute_answer(resp, 200, in, NULL);
}

/*
 * The event as its write will leave it when nothing surprises it: no
 * idempotency record to consult, no handler to wait for, each action with
 * the id it was packed ahead with (stage_actions, stage_record and
 * pt_intake_log, in the common case).  Its metadata is then packed ahead
 * too; the write checks the guess and packs it itself when it was wrong.
 */
static void
guess_meta(struct pt_stage *st)
{
	struct intake *in = st->in;
	const struct pt_action_prep *ap;
	struct pt_event ev = in->ev;
	pt_json *more = NULL, *ids;
	size_t i;

	if (in->has_idem || in->ev.event_type == NULL || !in->preps.made ||
	    in->extra == NULL || in->packed.len == 0)
		return;
	for (i = 0; i < in->preps.n; i++) {
		ap = &in->preps.v[i];
		/* Its id made ahead (its own record guessed or not). */
		if (ap->tail.len == 0)
			return;
		/* A trigger's handler makes the event pending. */
		if (ap->status == PT_ACT_SUCCESS && ap->mapping->action ==
		    PT_A_WORKFLOWS_TRIGGER && (ap->run == NULL || strcmp(
		    pt_json_str(pt_json_get(ap->run, "status"), NULL),
		    "queued") != 0))
			return;
	}
	if ((more = pt_json_copy(in->extra)) == NULL ||
	    (ids = pt_json_new_array()) == NULL)
		goto out;
	for (i = 0; i < in->preps.n; i++)
		if (pt_json_append(ids, pt_json_new_cstr(
		    in->preps.v[i].id_text)) != PT_OK) {
			pt_json_put(ids);
			goto out;
		}
	if (pt_json_set(more, "actions", ids) != PT_OK ||
	    pt_json_set(more, "response", pt_intake_answer(200,
	    in->answer_code, in->answer_retry)) != PT_OK)
		goto out;
	ev.status = in->preps.n == 0 ? "no_mapping" : "accepted";
	ev.warnings = in->warnings;
	ev.extra = more;
	pt_intake_pack_meta(st->ctx->store, in, &ev);
out:
	pt_json_put(more);
}

void
pt_execute_prepare(struct pt_stage *st)
{
	struct intake *in = st->in;
	struct pt_event_ctx ectx;

	pt_intake_pack(st->ctx->store, in);
	if (in->ev.event_type != NULL) {
		/* The records' time, as stage() has it: the event's arrival. */
		event_ctx(st, in->ev.received_at, &ectx);
		if (pt_actions_prepare(&ectx, &in->preps) == PT_OK) {
			pt_actions_pack(st->ctx->store, &ectx, &in->preps);
			guess_meta(st);
		}
	}
}

/*
 * Step 6: stage everything in one write, commit, then answer (running the
 * workflow handlers first, when there are any).
 */
int
pt_execute(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    struct intake *in)
{
	struct pt_stage st;
	char orig[PT_ID_MAX], extra_text[200], ra[32];
	enum pt_err rc;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.in = in;
	pt_execute_prepare(&st);
	if ((rc = pt_write(ctx->store, ctx->committer, pt_execute_stage, &st)) != PT_OK)
		return pt_reject_store(ctx, req, resp, rc, "recording the event");
	in->committed = 1;
	switch (st.kind) {
	case PT_STAGE_REPLAYED:
		pt_id_text("evt", st.rec.event_id, orig);
		snprintf(extra_text, sizeof(extra_text), ", \"idempotent\": true, "
		    "\"original_event_id\": \"%s\"", orig);
		return pt_execute_answer(resp, 200, in, extra_text);
	case PT_STAGE_CONFLICT:
		pt_id_text("evt", st.rec.event_id, orig);
		snprintf(ra, sizeof(ra), "%lld", (long long)conflict_retry(in,
		    &st.rec));
		pt_resp_header(resp, "Retry-After", ra);
		return pt_reject(ctx, req, resp, 409, "in_progress", "event %s with "
		    "this idempotency key is still executing; retry later "
		    "(logged as %s)", orig, in->ev.id_text);
	case PT_STAGE_EXECUTED:
	default:
		break;
	}
	if (st.pending)
		return pt_execute_handlers(ctx, req, resp, &st);
	return pt_execute_answer(resp, 200, in, NULL);
}
