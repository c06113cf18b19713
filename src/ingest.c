/*
 * ingest.c - POST <mount>/receive/<endpoint_id> (see ingest.h).
 *
 * Order (README "The ingest pipeline"): route -> bound -> authenticate ->
 * parse -> identify -> log durably -> answer.  Nothing is read from the
 * body before the endpoint, the headers it reads and the length are known
 * to be acceptable, and no body is parsed before its signature was
 * checked (a rejected one afterwards, only to name its type in the log).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "batch.h"
#include "body.h"
#include "catalog.h"
#include "commit.h"
#include "execute.h"
#include "ids.h"
#include "ingest.h"
#include "intake.h"
#include "json.h"
#include "path.h"
#include "preprocess.h"
#include "retl.h"
#include "scheme.h"

/* Read exactly "len" body bytes; -1 on a short read or error. */
static int
read_body(const struct pt_req *req, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (req->read_body == NULL)
			return -1;
		n = req->read_body(req->read_arg, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static enum pt_err
log_event_fn(struct pt_txn *txn, void *arg)
{
	return pt_intake_log(txn, arg);
}

/*
 * Write the event record in its own transaction and commit (rejected and
 * invalid requests): the caller answers only when this returns PT_OK.
 */
static enum pt_err
log_event(struct pt_ctx *ctx, struct intake *in)
{
	enum pt_err rc;

	pt_intake_pack(ctx->store, in);
	if ((rc = pt_write(ctx->store, ctx->committer, log_event_fn, in)) ==
	    PT_OK)
		in->committed = 1;
	return rc;
}

/*
 * What a request that failed an enforced signature check says its type
 * is, so that the operator debugging the sender sees "invoice.paid
 * (unverified)" rather than nothing.  The body is parsed with the same
 * strict, bounded parser as any other and identified the same way; the
 * result is marked unverified (eventlog.h: indexed, never counted as
 * received), its warnings are dropped (the event failed for another
 * reason) and its event time is not taken.  A body that does not parse,
 * a batch (several types) or no type at all leave the type empty.
 * Returns PT_OK or PT_ENOMEM.
 */
static enum pt_err
identify_unverified(struct intake *in)
{
	struct pt_json_error jerr;
	pt_json *warnings = in->warnings, *arr;
	struct pt_roots roots;
	enum pt_err rc;

	rc = pt_json_parse((const char *)in->body, in->body_len,
	    PT_JSON_MAX_DEPTH, &in->doc, &jerr);
	if (rc == PT_ENOMEM)
		return rc;
	roots = pt_intake_roots(in);
	if (rc != PT_OK || pt_json_type(in->doc) != PT_J_OBJECT ||
	    (in->env->batch_path != NULL && pt_path_resolve(in->env->batch_path,
	    &roots, &arr, NULL, 0) == PT_PATH_FOUND &&
	    pt_json_type(arr) == PT_J_ARRAY))
		return PT_OK;
	if ((in->warnings = pt_json_new_array()) == NULL) {
		in->warnings = warnings;
		return PT_ENOMEM;
	}
	rc = pt_intake_identify(in);
	pt_json_put(in->warnings);
	in->warnings = warnings;
	in->ev.event_time = 0;
	in->ev.type_unverified = in->ev.event_type != NULL;
	return rc;
}

/*
 * Authenticate: fills ev.verify_status / verify_reason.  Returns 0 to go
 * on, -1 when an enforced check failed.
 */
static int
authenticate(struct pt_ctx *ctx, const struct pt_req *req, struct intake *in)
{
	const struct pt_env *env = in->env;
	struct pt_sig_request sr;
	struct pt_sig_result res;
	enum pt_sig_reason why;
	char url[1024];

	if (env->scheme == NULL) {
		in->ev.verify_status = "not_enforced:unsigned";
		in->ev.verify_reason = NULL;
		return 0;
	}
	memset(&sr, 0, sizeof(sr));
	sr.headers = req->headers;
	sr.nheaders = req->nheaders;
	sr.body = in->body;
	sr.body_len = in->body_len;
	sr.now = ctx->now() / 1000000;
	if (env->public_url != NULL) {
		/* The URL the sender signed: configured base + request URI. */
		snprintf(url, sizeof(url), "%s%s", env->public_url,
		    req->request_uri ? req->request_uri : "");
		sr.url = url;
	}
	why = pt_scheme_verify(env->scheme, &sr, env->secrets, env->nkeys,
	    &res);
	if (why == PT_SIG_VERIFIED) {
		in->ev.verify_status = env->verify ? "enforced:verified" :
		    "not_enforced:verified";
		in->ev.verify_reason = NULL;
		return 0;
	}
	in->ev.verify_reason = pt_sig_reason_name(env->scheme, why);
	if (env->verify) {
		in->ev.verify_status = "enforced:failed";
		return -1;
	}
	in->ev.verify_status = why == PT_SIG_MISSING_SIGNATURE ?
	    "not_enforced:unsigned" : "not_enforced:failed";
	return 0;
}

/*
 * A header the environment depends on (conf.h, header_deps) that arrives
 * more than once with different values, or NULL.  Every reader takes the
 * first value (http.h), but a sender that signed one value and an
 * attacker who appended another must not get a request whose verifier,
 * idempotency key and log could be read two ways: such a request is
 * refused before its body is read, like a bad Content-Length, and is no
 * event (nothing of it is stored).
 */
static const char *
ambiguous_header(const struct pt_req *req, const struct pt_env *env)
{
	const char *name;
	size_t i;

	if (env->all_headers)
		return pt_req_ambiguous(req, NULL);
	for (i = 0; i < env->nheader_deps; i++)
		if ((name = pt_req_ambiguous(req, env->header_deps[i])) != NULL)
			return name;
	return NULL;
}

/* One call of pt_ingest: what its steps share. */
struct call {
	struct pt_ctx			*ctx;
	const struct pt_req		*req;
	struct pt_resp			*resp;
	struct intake			 in;
	const struct pt_source_type	*type;	/* the catalogue's, or NULL */
	const char			*sub;	/* reverse ETL: the call's path */
	struct pt_retl_route		 retl;	/* ... and what it names */
	int				 bodiless;	/* a call without a body */
	int				 format;	/* the body's PT_BODY_* */
};

/* What the pipeline refuses once it has read the body. */
enum refusal {
	REFUSE_SIGNATURE,	/* an enforced signature check failed */
	REFUSE_BODY,		/* the body does not parse */
	REFUSE_CALL,		/* a reverse ETL call of the wrong shape */
	REFUSE_BATCH,		/* an empty or oversized batch */
	REFUSE_UNVERIFIED,	/* the preprocess script did not verify it */
	REFUSE_SCRIPT,		/* the preprocess script failed */
	REFUSE_SCRIPT_BUSY	/* no script worker could run it */
};

static const struct {
	const char	*logged;	/* the event's status */
	int		 status;
	const char	*code;		/* NULL: the parser's */
	const char	*lead;		/* the answer's words before the reason */
	const char	*what;		/* the record, should its write fail */
} refusals[] = {
	[REFUSE_SIGNATURE] = { "rejected", 401, "invalid_signature",
	    "signature check failed: ", "logging a rejected event" },
	[REFUSE_BODY] = { "invalid", 400, NULL, "", "logging an invalid event" },
	[REFUSE_CALL] = { "invalid", 400, "invalid_request", "",
	    "logging an invalid call" },
	[REFUSE_BATCH] = { "invalid", 400, "invalid_batch", "",
	    "logging an invalid batch" },
	[REFUSE_UNVERIFIED] = { "rejected", 401, "script_not_verified",
	    "the preprocess script did not verify it: ",
	    "logging a rejected event" },
	/*
	 * A failed script is ours to fix, not the sender's: a 5xx makes it
	 * retry, and the retry, with its real headers, goes through once
	 * the script is fixed (README "Preprocess scripts").
	 */
	[REFUSE_SCRIPT] = { "script_failed", 500, NULL,
	    "the preprocess script failed: ", "logging a failed script" },
	[REFUSE_SCRIPT_BUSY] = { "script_failed", 503, NULL,
	    "the preprocess script could not run: ",
	    "logging a failed script" },
};

/*
 * Refuse an event whose body was read: log it with refusal "r"'s status
 * and the error "code" (NULL: r's) and "reason", then answer r's status
 * with the same code and reason, naming the logged event.  When the log
 * cannot be written, the store's failure is the answer: a refusal is
 * only said once it is on record.
 */
static int
refuse(struct call *c, enum refusal r, const char *code, const char *reason)
{
	struct intake *in = &c->in;
	enum pt_err rc;

	in->ev.status = refusals[r].logged;
	in->ev.event_time = 0;
	in->ev.error_code = code != NULL ? code : refusals[r].code;
	in->ev.error_message = reason;
	in->answer = refusals[r].status;
	in->answer_code = in->ev.error_code;
	in->answer_retry = refusals[r].status == 503 ? 1 : 0;
	if ((rc = log_event(c->ctx, in)) != PT_OK)
		return pt_reject_store(c->ctx, c->req, c->resp, rc,
		    refusals[r].what);
	if (in->answer_retry > 0)
		pt_resp_header(c->resp, "Retry-After", "1");
	return pt_reject(c->ctx, c->req, c->resp, refusals[r].status,
	    in->ev.error_code, "%s%s (event %s)", refusals[r].lead, reason,
	    in->ev.id_text);
}

static int
out_of_memory(struct call *c)
{
	return pt_reject(c->ctx, c->req, c->resp, 500, "internal_error",
	    "out of memory");
}

/*
 * 1. Route: the endpoint's environment, its headers read one way, and
 * the method (or, for a reverse ETL source, the call the path names).
 * 0 to go on, or the status answered.
 */
static int
route(struct call *c, const char *endpoint)
{
	const struct pt_req *req = c->req;
	const char *method = req->method ? req->method : "", *allow, *amb;
	char err[512];
	enum pt_err rc;

	if ((rc = pt_ctx_refresh(c->ctx, err, sizeof(err))) != PT_OK)
		return err[0] ? pt_reject(c->ctx, req, c->resp, 500,
		    "internal_error", "configuration: %s", err) :
		    pt_reject_store(c->ctx, req, c->resp, rc,
		    "reading configuration");
	if ((c->in.env = pt_config_endpoint(c->ctx->cfg, endpoint)) == NULL)
		return pt_reject(c->ctx, req, c->resp, 404, "unknown_endpoint",
		    "no source environment has endpoint %.80s", endpoint);
	if ((amb = ambiguous_header(req, c->in.env)) != NULL)
		return pt_reject(c->ctx, req, c->resp, 400, "ambiguous_header",
		    "header %.64s arrives more than once with different "
		    "values (\"-\" and \"_\" in a name look alike to the "
		    "server); this endpoint reads it, so it must have one "
		    "value", amb);
	c->type = pt_catalog_lookup(c->in.env->source_type);
	if (c->sub == NULL) {
		if (strcmp(method, "POST") == 0)
			return 0;
		pt_resp_header(c->resp, "Allow", "POST");
		return pt_reject(c->ctx, req, c->resp, 405,
		    "method_not_allowed", "webhooks are delivered with POST, "
		    "not %.16s", method);
	}
	/* Reverse ETL: Knock-REST-shaped calls under the endpoint. */
	if (c->type == NULL || c->type->kind != PT_KIND_RETL)
		return pt_reject(c->ctx, req, c->resp, 404, "not_found",
		    "no such resource: %s is a %s source, which takes POST "
		    "/receive/<endpoint_id> only", endpoint,
		    c->in.env->source_type);
	switch (pt_retl_route(c->sub, method, &c->retl, &allow, err,
	    sizeof(err))) {
	case 0:
		break;
	case 405:
		pt_resp_header(c->resp, "Allow", allow);
		return pt_reject(c->ctx, req, c->resp, 405,
		    "method_not_allowed", "%s takes %s, not %.16s", c->sub,
		    allow, method);
	default:
		return pt_reject(c->ctx, req, c->resp, 404, "not_found", "%s",
		    err);
	}
	/*
	 * A delete takes no body.  lighttpd's FastCGI passes
	 * CONTENT_LENGTH=0 for a request that came with none, so "0" counts
	 * as no body too: else a bare DELETE (no body, no Content-Type, as
	 * curl -X DELETE sends it) was refused 415 behind lighttpd.
	 */
	c->bodiless = !pt_retl_needs_body(&c->retl) &&
	    (req->content_length == NULL ||
	    strcmp(req->content_length, "0") == 0);
	return 0;
}

/*
 * 2. Bound: the length first, so nothing oversized is ever read; then
 * the format the environment takes; then exactly that many bytes.
 */
static int
read_bounded(struct call *c)
{
	const struct pt_req *req = c->req;
	struct intake *in = &c->in;
	char err[512];
	uint64_t clen = 0;

	if (c->bodiless)
		clen = 0;
	else if (req->content_length == NULL)
		return pt_reject(c->ctx, req, c->resp, 411, "length_required",
		    "a Content-Length header is required");
	else if (pt_parse_content_length(req->content_length, &clen) < 0)
		return pt_reject(c->ctx, req, c->resp, 411, "length_required",
		    "Content-Length must be a decimal number of bytes");
	if (clen > in->env->max_body)
		return pt_reject(c->ctx, req, c->resp, 413, "body_too_large",
		    "the body is %llu bytes; this endpoint takes at most %llu",
		    (unsigned long long)clen,
		    (unsigned long long)in->env->max_body);
	/* The formats are per environment: a form only where it opted in. */
	c->format = pt_body_format_of(req->content_type);
	if (!c->bodiless && !pt_body_accepts(in->env, c->format,
	    req->content_type, err, sizeof(err)))
		return pt_reject(c->ctx, req, c->resp, 415,
		    "unsupported_media_type", "%s", err);
	if ((in->body = pt_malloc((size_t)clen + 1)) == NULL)
		return pt_reject(c->ctx, req, c->resp, 500, "internal_error",
		    "out of memory for a %llu byte body",
		    (unsigned long long)clen);
	if (read_body(req, in->body, (size_t)clen) < 0)
		return pt_reject(c->ctx, req, c->resp, 400, "incomplete_body",
		    "the body ended before Content-Length (%llu) bytes",
		    (unsigned long long)clen);
	in->body_len = (size_t)clen;
	in->body[in->body_len] = '\0';
	return 0;
}

/* From here on every outcome is logged as an event: give it its id. */
static int
start_event(struct call *c)
{
	const struct pt_req *req = c->req;
	struct intake *in = &c->in;

	in->ev.received_at = c->ctx->now();
	if (pt_id_new("evt", in->ev.received_at, in->ev.id, in->ev.id_text) !=
	    PT_OK)
		return pt_reject(c->ctx, req, c->resp, 500, "internal_error",
		    "no random bytes for an event id");
	in->ev.source = in->env->source_key;
	in->ev.environment = in->env->name;
	in->ev.endpoint_id = in->env->endpoint_id;
	in->ev.event_time = in->ev.received_at;
	in->vars = c->ctx->cfg->vars;
	if (pt_intake_headers(req, in) != PT_OK ||
	    (in->warnings = pt_json_new_array()) == NULL ||
	    (in->extra = pt_json_new_object()) == NULL ||
	    (req->remote_addr && pt_json_set(in->extra, "remote_addr",
	    pt_json_new_cstr(req->remote_addr)) != PT_OK) ||
	    /* How the body was read: a replay reads it the same way. */
	    (c->format != 0 && pt_json_set(in->extra, "body_format",
	    pt_json_new_cstr(pt_body_format_name(c->format))) != PT_OK))
		return out_of_memory(c);
	return 0;
}

/* 3. Authenticate, before json-c sees a byte. */
static int
check_signature(struct call *c)
{
	if (authenticate(c->ctx, c->req, &c->in) == 0)
		return 0;
	/* Reverse ETL calls are typed by their URL, not their body. */
	if (c->sub == NULL && identify_unverified(&c->in) != PT_OK)
		return out_of_memory(c);
	return refuse(c, REFUSE_SIGNATURE, NULL, c->in.ev.verify_reason);
}

/* 4. Parse strictly, as the Content-Type says. */
static int
parse(struct call *c)
{
	struct intake *in = &c->in;
	struct pt_body_error berr;
	enum pt_err rc;

	if (c->sub != NULL && in->body_len == 0 &&
	    !pt_retl_needs_body(&c->retl))
		rc = (in->doc = pt_json_new_object()) ? PT_OK : PT_ENOMEM;
	else
		rc = pt_body_parse(in->env, c->format, in->body, in->body_len,
		    &in->doc, &berr);
	if (rc == PT_ENOMEM)
		return pt_reject(c->ctx, c->req, c->resp, 500, "internal_error",
		    "out of memory parsing the body");
	if (rc != PT_OK)
		return refuse(c, REFUSE_BODY, berr.code, berr.message);
	return 0;
}

/*
 * The verification status once the script has spoken (its "verified",
 * "v"): without a scheme of its own the environment goes by the script;
 * with one, both must pass, and a script that does not say keeps the
 * scheme's verdict.  1 when an enforced check failed.
 */
static int
script_verdict(struct intake *in, int verified)
{
	const struct pt_env *env = in->env;

	if (env->scheme != NULL && verified != 0)
		return 0;
	if (verified == 1) {
		in->ev.verify_status = env->verify ? "enforced:verified" :
		    "not_enforced:verified";
		in->ev.verify_reason = NULL;
		return 0;
	}
	in->ev.verify_reason = "script_not_verified";
	if (env->verify) {
		in->ev.verify_status = "enforced:failed";
		return 1;
	}
	in->ev.verify_status = verified < 0 && env->scheme == NULL ?
	    "not_enforced:unsigned" : "not_enforced:failed";
	if (verified < 0)
		in->ev.verify_reason = NULL;
	return 0;
}

/*
 * 4b. Preprocess: the environment's script on the parsed body, before
 * anything reads the event's type or key.  A skip is logged (status ignored) and answered
 * 200 with no actions; a failure is logged with the script's error.
 */
static int
preprocess(struct call *c)
{
	struct intake *in = &c->in;
	struct pt_pre_verdict v;
	enum pt_script_res r;
	char why[400];
	enum pt_err rc;

	if (in->env->script == NULL)
		return 0;
	r = pt_preprocess(pt_ctx_scripts(c->ctx), c->req, in,
	    c->format == PT_BODY_JSON && c->sub == NULL && in->body_len > 0,
	    &v, why, sizeof(why));
	if (r != PT_SCRIPT_OK) {
		/* Not verified by the script: it never said. */
		if (in->env->scheme == NULL && in->env->verify) {
			in->ev.verify_status = "enforced:failed";
			in->ev.verify_reason = pt_script_res_code(r);
		}
		return refuse(c, r == PT_SCRIPT_UNAVAILABLE ?
		    REFUSE_SCRIPT_BUSY : REFUSE_SCRIPT, pt_script_res_code(r),
		    why);
	}
	if (script_verdict(in, v.verified))
		return refuse(c, REFUSE_UNVERIFIED, NULL, "its answer has no "
		    "\"verified\": true");
	if (!v.skip)
		return 0;
	in->ev.status = "ignored";
	in->answer = 200;
	if (pt_intake_identify(in) != PT_OK)
		return out_of_memory(c);
	if ((rc = log_event(c->ctx, in)) != PT_OK)
		return pt_reject_store(c->ctx, c->req, c->resp, rc,
		    "logging an ignored event");
	return pt_execute_answer(c->resp, 200, in, NULL);
}

/* A reverse ETL call: one event per document it carries. */
static int
take_call(struct call *c)
{
	pt_json *docs;
	char err[512];
	int status;

	if ((docs = pt_retl_docs(&c->retl, c->in.doc, err, sizeof(err))) ==
	    NULL)
		return strcmp(err, "out of memory") == 0 ? out_of_memory(c) :
		    refuse(c, REFUSE_CALL, NULL, err);
	status = pt_ingest_batch(c->ctx, c->req, c->resp, &c->in, docs);
	pt_json_put(docs);
	return status;
}

/*
 * A provider's handshake (catalog.h), logged as an accepted event and
 * answered as the provider wants; 0 when the body is not one.
 */
static int
take_handshake(struct call *c)
{
	struct pt_buf answer = { 0 };
	const char *type;
	char what[96];
	enum pt_err rc;
	int is;

	if (c->type == NULL || c->type->handshake == NULL)
		return 0;
	if ((is = c->type->handshake(c->in.doc, &type, &answer)) <= 0) {
		pt_buf_free(&answer);
		return is < 0 ? out_of_memory(c) : 0;
	}
	c->in.ev.status = "accepted";
	c->in.ev.event_type = type;
	c->in.answer = 200;
	if ((rc = log_event(c->ctx, &c->in)) != PT_OK) {
		pt_buf_free(&answer);
		snprintf(what, sizeof(what), "logging a %s", type);
		return pt_reject_store(c->ctx, c->req, c->resp, rc, what);
	}
	pt_buf_free(&c->resp->body);
	c->resp->body = answer;
	c->resp->content_type = "application/json";
	return c->resp->status = 200;
}

/* A batch (the environment's batch_path): 0 when the body is not one. */
static int
take_batch(struct call *c)
{
	struct pt_roots roots = pt_intake_roots(&c->in);
	pt_json *arr;
	size_t n;

	if (c->in.env->batch_path == NULL ||
	    pt_path_resolve(c->in.env->batch_path, &roots, &arr, NULL, 0) !=
	    PT_PATH_FOUND || pt_json_type(arr) != PT_J_ARRAY)
		return 0;
	if ((n = pt_json_len(arr)) == 0 || n > PT_MAX_BATCH)
		return refuse(c, REFUSE_BATCH, NULL, n ? "more than 1000 "
		    "elements" : "an empty batch");
	return pt_ingest_batch(c->ctx, c->req, c->resp, &c->in, arr);
}

/* 5. Identify; 6. execute and log durably in one write, then answer. */
static int
take_event(struct call *c)
{
	if (pt_intake_identify(&c->in) != PT_OK ||
	    pt_intake_idem_key(&c->in) != PT_OK)
		return out_of_memory(c);
	return pt_execute(c->ctx, c->req, c->resp, &c->in);
}

int
pt_ingest(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    const char *endpoint, const char *sub, int *logged)
{
	struct call c;
	int status;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.req = req;
	c.resp = resp;
	c.sub = sub;
	c.in.now = ctx->now;
	if ((status = route(&c, endpoint)) == 0 &&
	    (status = read_bounded(&c)) == 0 &&
	    (status = start_event(&c)) == 0 &&
	    (status = check_signature(&c)) == 0 &&
	    (status = parse(&c)) == 0 &&
	    (status = preprocess(&c)) == 0) {
		/* The shape of what was sent. */
		if (sub != NULL)
			status = take_call(&c);
		else if ((status = take_handshake(&c)) == 0 &&
		    (status = take_batch(&c)) == 0)
			status = take_event(&c);
	}
	*logged = c.in.committed;
	pt_intake_free(&c.in);
	return status;
}
