/*
 * batch.c - a batch payload: one event per element, all in one write (see
 * batch.h).
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "batch.h"
#include "body.h"
#include "commit.h"
#include "execute.h"
#include "ids.h"
#include "intake.h"
#include "json.h"

struct batch {
	struct pt_ctx	*ctx;
	struct pt_stage	*st;
	size_t		 n;
	/* After the fact: the whole batch's answer, for every element. */
	struct intake	*subs;
	int		 answer;
	const char	*code;
	int64_t		 retry;
};

/* Write the batch's answer into every element's record. */
static enum pt_err
answer_fn(struct pt_txn *txn, void *arg)
{
	struct batch *b = arg;
	pt_json *set;
	enum pt_err rc = PT_OK;
	size_t i;

	if ((set = pt_json_new_object()) == NULL ||
	    pt_json_set(set, "response", pt_intake_answer(b->answer, b->code,
	    b->retry)) != PT_OK) {
		pt_json_put(set);
		return PT_ENOMEM;
	}
	for (i = 0; i < b->n && rc == PT_OK; i++)
		rc = pt_eventlog_update(txn, b->subs[i].ev.id, NULL, set);
	pt_json_put(set);
	return rc;
}

/*
 * Stage every element of a batch.  One failing element fails the whole
 * write, so the elements need no nested transactions of their own.
 */
static enum pt_err
batch_fn(struct pt_txn *txn, void *arg)
{
	struct batch *b = arg;
	enum pt_err rc;
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct intake *in = b->st[i].in;

		/* Not ev.status, which staging sets: this may run twice. */
		if (in->doc == NULL)	/* an invalid element: log it */
			rc = pt_intake_log(txn, in);
		else
			rc = pt_execute_stage(txn, &b->st[i]);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

/*
 * Each element's record says what the sender was answered: a batch that
 * was not 2xx (the elements were logged as if it were).
 */
static void
record_answer(struct pt_ctx *ctx, struct intake *subs, size_t n, int status)
{
	struct batch b;
	enum pt_err rc;

	memset(&b, 0, sizeof(b));
	b.answer = status;
	b.code = status == 400 ? "invalid_batch_element" : status == 409 ?
	    "in_progress" : status == 502 ? "handler_failed" : "batch_failed";
	b.retry = status == 409 ? 5 : status == 502 ? 60 : 0;
	b.subs = subs;
	b.n = n;
	if ((rc = pt_write(ctx->store, ctx->committer, answer_fn, &b)) != PT_OK)
		pt_ctx_log(ctx, "batch %s: recording the answer: %s",
		    subs[0].ev.id_text, pt_strerror(rc));
}

/*
 * A batch payload ({"batch": [...]}, as Segment-spec CDPs send): every
 * element is identified, executed and logged as an event of its own, all in
 * one write.  The answer lists each element's outcome; it is 2xx only when
 * every element was accepted, replayed or logged, so that a sender retries
 * a batch in which a handler failed or an element's key was busy.
 */
int
pt_ingest_batch(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, struct intake *parent, const pt_json *arr)
{
	struct intake *subs = NULL;
	struct pt_stage *st = NULL;
	struct batch b;
	struct pt_resp one;
	enum pt_err rc;
	size_t i, n = pt_json_len(arr), bad = 0;
	int status = 200, s1;
	const char *text;
	size_t tlen;

	if ((subs = pt_calloc(n, sizeof(*subs))) == NULL ||
	    (st = pt_calloc(n, sizeof(*st))) == NULL) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory for a batch of %zu", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct intake *in = &subs[i];
		pt_json *el = pt_json_index(arr, i), *bj;

		in->env = parent->env;
		in->now = parent->now;
		in->ev = parent->ev;
		in->ev.status = NULL;
		in->ev.event_type = NULL;
		in->ev.received_at = parent->ev.received_at + (int64_t)i;
		in->ev.event_time = in->ev.received_at;
		if (pt_id_new("evt", in->ev.received_at, in->ev.id,
		    in->ev.id_text) != PT_OK ||
		    (text = pt_json_text(el, PT_JSON_PLAIN, &tlen)) == NULL ||
		    (in->body = pt_malloc(tlen + 1)) == NULL ||
		    (in->warnings = pt_json_new_array()) == NULL ||
		    (in->extra = pt_json_copy(parent->extra)) == NULL ||
		    /* An element's logged body is JSON, whatever the batch's. */
		    pt_json_set(in->extra, "body_format", pt_json_new_cstr(
		    pt_body_format_name(PT_BODY_JSON))) != PT_OK ||
		    (bj = pt_json_new_object()) == NULL ||
		    pt_json_set(in->extra, "batch", bj) != PT_OK ||
		    pt_json_set(bj, "index", pt_json_new_int((int64_t)i)) !=
		    PT_OK ||
		    pt_json_set(bj, "count", pt_json_new_int((int64_t)n)) !=
		    PT_OK ||
		    pt_json_set(bj, "first_event_id", pt_json_new_cstr(i == 0 ?
		    in->ev.id_text : subs[0].ev.id_text)) != PT_OK) {
			status = pt_reject(ctx, req, resp, 500, "internal_error",
			    "out of memory for a batch of %zu", n);
			goto out;
		}
		memcpy(in->body, text, tlen);
		in->body_len = tlen;
		in->headers = pt_json_ref(parent->headers);
		in->logged = pt_json_ref(parent->logged);
		in->pre = parent->pre ? pt_json_ref(parent->pre) : NULL;
		in->vars = parent->vars;
		st[i].ctx = ctx;
		st[i].in = in;
		if (pt_json_type(el) != PT_J_OBJECT) {
			in->ev.status = "invalid";
			in->ev.event_time = 0;
			in->ev.error_code = "not_an_object";
			in->ev.error_message = "a batch element must be an object";
			bad++;
			continue;
		}
		in->doc = pt_json_ref(el);
		if (pt_intake_identify(in) != PT_OK || pt_intake_idem_key(in) != PT_OK) {
			status = pt_reject(ctx, req, resp, 500, "internal_error",
			    "out of memory");
			goto out;
		}
		pt_execute_prepare(&st[i]);
	}
	b.ctx = ctx;
	b.st = st;
	b.n = n;
	if ((rc = pt_write(ctx->store, ctx->committer, batch_fn, &b)) !=
	    PT_OK) {
		status = pt_reject_store(ctx, req, resp, rc, "recording a batch");
		goto out;
	}
	parent->committed = 1;

	/* Handlers run after the commit, element by element. */
	pt_buf_reset(&resp->body);
	pt_buf_printf(&resp->body, "{\"batch\": true, \"count\": %zu, "
	    "\"events\": [", n);
	for (i = 0; i < n; i++) {
		struct intake *in = &subs[i];

		s1 = 200;
		memset(&one, 0, sizeof(one));
		if (in->doc != NULL && st[i].kind == PT_STAGE_EXECUTED &&
		    st[i].pending)
			s1 = pt_execute_handlers(ctx, req, &one, &st[i]);
		if (st[i].kind == PT_STAGE_CONFLICT)
			s1 = 409;
		if (s1 != 200 && status == 200)
			status = s1;
		pt_buf_printf(&resp->body, "%s{\"id\": \"%s\", \"event_type\": ",
		    i ? ", " : "", in->ev.id_text);
		if (in->ev.event_type)
			pt_buf_add_json_str(&resp->body, in->type.data,
			    in->type.len);
		else
			pt_buf_adds(&resp->body, "null");
		pt_buf_printf(&resp->body, ", \"status\": \"%s\"}",
		    in->ev.status ? in->ev.status : "?");
		pt_resp_free(&one);
	}
	pt_buf_adds(&resp->body, "]}\n");
	resp->content_type = "application/json";
	if (status == 200 && bad == 0) {
		resp->status = 200;
		goto out;
	}
	/* Keep the per-element list in the log; answer with an error code. */
	{
		struct pt_buf list = { 0 };

		pt_buf_add(&list, resp->body.data, resp->body.len);
		if (status == 409)
			pt_resp_header(resp, "Retry-After", "5");
		else if (status == 502)
			pt_resp_header(resp, "Retry-After", "60");
		status = pt_reject(ctx, req, resp, status == 200 ? 400 : status,
		    status == 200 ? "invalid_batch_element" : status == 409 ?
		    "in_progress" : status == 502 ? "handler_failed" :
		    "batch_failed", "%zu of %zu batch elements were not "
		    "executed; the others were (idempotency keys make a retry "
		    "safe): %.*s", bad + (status != 200), n,
		    (int)(list.len > 300 ? 300 : list.len),
		    list.data ? list.data : "");
		pt_buf_free(&list);
		record_answer(ctx, subs, n, status);
	}
out:
	for (i = 0; subs != NULL && i < n; i++)
		pt_intake_free(&subs[i]);
	pt_free(subs);
	pt_free(st);
	return status;
}
