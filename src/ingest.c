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
	enum pt_err rc;

	rc = pt_json_parse((const char *)in->body, in->body_len,
	    PT_JSON_MAX_DEPTH, &in->doc, &jerr);
	if (rc == PT_ENOMEM)
		return rc;
	if (rc != PT_OK || pt_json_type(in->doc) != PT_J_OBJECT ||
	    (in->env->batch_path != NULL && pt_path_resolve(in->env->batch_path,
	    in->doc, in->headers, &arr, NULL, 0) == PT_PATH_FOUND &&
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

/*
 * POST <mount>/receive/<endpoint_id>.  *logged: was an event committed for
 * it (then it counts in porter_events_total, not as a refusal)?
 */
int
pt_ingest(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    const char *endpoint, const char *sub, int *logged)
{
	const struct pt_source_type *type;
	struct pt_retl_route retl;
	struct intake in;
	struct pt_body_error berr;
	const char *method = req->method ? req->method : "", *allow, *amb;
	char err[512];
	uint64_t clen;
	enum pt_err rc;
	int status, bodiless = 0, format;

	memset(&in, 0, sizeof(in));
	in.now = ctx->now;

	/* 1. Route. */
	if ((rc = pt_ctx_refresh(ctx, err, sizeof(err))) != PT_OK) {
		status = err[0] ? pt_reject(ctx, req, resp, 500, "internal_error",
		    "configuration: %s", err) :
		    pt_reject_store(ctx, req, resp, rc, "reading configuration");
		goto out;
	}
	if ((in.env = pt_config_endpoint(ctx->cfg, endpoint)) == NULL) {
		status = pt_reject(ctx, req, resp, 404, "unknown_endpoint",
		    "no source environment has endpoint %.80s", endpoint);
		goto out;
	}
	if ((amb = ambiguous_header(req, in.env)) != NULL) {
		status = pt_reject(ctx, req, resp, 400, "ambiguous_header",
		    "header %.64s arrives more than once with different "
		    "values (\"-\" and \"_\" in a name look alike to the "
		    "server); this endpoint reads it, so it must have one "
		    "value", amb);
		goto out;
	}
	type = pt_catalog_lookup(in.env->source_type);
	if (sub != NULL) {
		/* Reverse ETL: Knock-REST-shaped calls under the endpoint. */
		if (type == NULL || type->kind != PT_KIND_RETL) {
			status = pt_reject(ctx, req, resp, 404, "not_found",
			    "no such resource: %s is a %s source, which takes "
			    "POST /receive/<endpoint_id> only", endpoint,
			    in.env->source_type);
			goto out;
		}
		switch (pt_retl_route(sub, method, &retl, &allow, err,
		    sizeof(err))) {
		case 0:
			break;
		case 405:
			pt_resp_header(resp, "Allow", allow);
			status = pt_reject(ctx, req, resp, 405, "method_not_allowed",
			    "%s takes %s, not %.16s", sub, allow, method);
			goto out;
		default:
			status = pt_reject(ctx, req, resp, 404, "not_found", "%s",
			    err);
			goto out;
		}
		/*
		 * A delete takes no body.  lighttpd's FastCGI passes
		 * CONTENT_LENGTH=0 for a request that came with none, so
		 * "0" counts as no body too: else a bare DELETE (no body,
		 * no Content-Type, as curl -X DELETE sends it) was refused
		 * 415 behind lighttpd.
		 */
		bodiless = !pt_retl_needs_body(&retl) &&
		    (req->content_length == NULL ||
		    strcmp(req->content_length, "0") == 0);
	} else if (strcmp(method, "POST") != 0) {
		pt_resp_header(resp, "Allow", "POST");
		status = pt_reject(ctx, req, resp, 405, "method_not_allowed",
		    "webhooks are delivered with POST, not %.16s", method);
		goto out;
	}

	/* 2. Bound: length first, so nothing oversized is ever read. */
	if (bodiless)
		clen = 0;
	else if (req->content_length == NULL) {
		status = pt_reject(ctx, req, resp, 411, "length_required",
		    "a Content-Length header is required");
		goto out;
	}
	else if (pt_parse_content_length(req->content_length, &clen) < 0) {
		status = pt_reject(ctx, req, resp, 411, "length_required",
		    "Content-Length must be a decimal number of bytes");
		goto out;
	}
	if (clen > in.env->max_body) {
		status = pt_reject(ctx, req, resp, 413, "body_too_large",
		    "the body is %llu bytes; this endpoint takes at most %llu",
		    (unsigned long long)clen,
		    (unsigned long long)in.env->max_body);
		goto out;
	}
	/* The formats are per environment: a form only where it opted in. */
	format = pt_body_format_of(req->content_type);
	if (!bodiless && !pt_body_accepts(in.env, format, req->content_type,
	    err, sizeof(err))) {
		status = pt_reject(ctx, req, resp, 415, "unsupported_media_type",
		    "%s", err);
		goto out;
	}
	if ((in.body = pt_malloc((size_t)clen + 1)) == NULL) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory for a %llu byte body",
		    (unsigned long long)clen);
		goto out;
	}
	if (read_body(req, in.body, (size_t)clen) < 0) {
		status = pt_reject(ctx, req, resp, 400, "incomplete_body",
		    "the body ended before Content-Length (%llu) bytes",
		    (unsigned long long)clen);
		goto out;
	}
	in.body_len = (size_t)clen;
	in.body[in.body_len] = '\0';

	/* From here on every outcome is logged as an event. */
	in.ev.received_at = ctx->now();
	if (pt_id_new("evt", in.ev.received_at, in.ev.id, in.ev.id_text) !=
	    PT_OK) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "no random bytes for an event id");
		goto out;
	}
	in.ev.source = in.env->source_key;
	in.ev.environment = in.env->name;
	in.ev.endpoint_id = in.env->endpoint_id;
	in.ev.event_time = in.ev.received_at;
	if (pt_intake_headers(req, &in) != PT_OK ||
	    (in.warnings = pt_json_new_array()) == NULL ||
	    (in.extra = pt_json_new_object()) == NULL ||
	    (req->remote_addr && pt_json_set(in.extra, "remote_addr",
	    pt_json_new_cstr(req->remote_addr)) != PT_OK) ||
	    /* How the body was read: a replay reads it the same way. */
	    (format != 0 && pt_json_set(in.extra, "body_format",
	    pt_json_new_cstr(pt_body_format_name(format))) != PT_OK)) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}

	/* 3. Authenticate, before json-c sees a byte. */
	if (authenticate(ctx, req, &in) < 0) {
		/* Reverse ETL calls are typed by their URL, not their body. */
		if (sub == NULL && identify_unverified(&in) != PT_OK) {
			status = pt_reject(ctx, req, resp, 500, "internal_error",
			    "out of memory");
			goto out;
		}
		in.ev.status = "rejected";
		in.ev.event_time = 0;
		in.ev.error_code = "invalid_signature";
		in.ev.error_message = in.ev.verify_reason;
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = pt_reject_store(ctx, req, resp, rc,
			    "logging a rejected event");
			goto out;
		}
		status = pt_reject(ctx, req, resp, 401, "invalid_signature",
		    "signature check failed: %s (event %s)", in.ev.verify_reason,
		    in.ev.id_text);
		goto out;
	}

	/* 4. Parse strictly, as the Content-Type says. */
	if (sub != NULL && in.body_len == 0 && !pt_retl_needs_body(&retl))
		rc = (in.doc = pt_json_new_object()) ? PT_OK : PT_ENOMEM;
	else
		rc = pt_body_parse(in.env, format, in.body, in.body_len, &in.doc,
		    &berr);
	if (rc == PT_ENOMEM) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory parsing the body");
		goto out;
	}
	if (rc != PT_OK) {
		in.ev.status = "invalid";
		in.ev.event_time = 0;
		in.ev.error_code = berr.code;
		in.ev.error_message = berr.message;
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = pt_reject_store(ctx, req, resp, rc,
			    "logging an invalid event");
			goto out;
		}
		status = pt_reject(ctx, req, resp, 400, berr.code, "%s (event %s)",
		    berr.message, in.ev.id_text);
		goto out;
	}

	/* 4a. Reverse ETL: the call becomes one event per document. */
	if (sub != NULL) {
		pt_json *docs;

		if ((docs = pt_retl_docs(&retl, in.doc, err, sizeof(err))) ==
		    NULL) {
			if (strcmp(err, "out of memory") == 0) {
				status = pt_reject(ctx, req, resp, 500,
				    "internal_error", "out of memory");
				goto out;
			}
			in.ev.status = "invalid";
			in.ev.event_time = 0;
			in.ev.error_code = "invalid_request";
			in.ev.error_message = err;
			if ((rc = log_event(ctx, &in)) != PT_OK) {
				status = pt_reject_store(ctx, req, resp, rc,
				    "logging an invalid call");
				goto out;
			}
			status = pt_reject(ctx, req, resp, 400, "invalid_request",
			    "%s (event %s)", err, in.ev.id_text);
			goto out;
		}
		status = pt_ingest_batch(ctx, req, resp, &in, docs);
		pt_json_put(docs);
		goto out;
	}

	/* 4a. Slack checks a new endpoint with a challenge to echo. */
	if (strcmp(in.env->source_type, "slack") == 0 &&
	    pt_json_str(pt_json_get(in.doc, "type"), NULL) != NULL &&
	    strcmp(pt_json_str(pt_json_get(in.doc, "type"), NULL),
	    "url_verification") == 0 &&
	    pt_json_str(pt_json_get(in.doc, "challenge"), NULL) != NULL) {
		in.ev.status = "accepted";
		in.ev.event_type = "url_verification";
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = pt_reject_store(ctx, req, resp, rc,
			    "logging a url_verification");
			goto out;
		}
		resp->status = status = 200;
		resp->content_type = "application/json";
		{
			size_t cn;
			const char *c = pt_json_str(pt_json_get(in.doc,
			    "challenge"), &cn);

			pt_buf_adds(&resp->body, "{\"challenge\": ");
			pt_buf_add_json_str(&resp->body, c, cn);
			pt_buf_adds(&resp->body, "}\n");
		}
		goto out;
	}

	/* 4b. A batch: one logged event per element. */
	if (in.env->batch_path != NULL) {
		pt_json *arr;
		char why[200];

		if (pt_path_resolve(in.env->batch_path, in.doc, in.headers, &arr,
		    why, sizeof(why)) == PT_PATH_FOUND &&
		    pt_json_type(arr) == PT_J_ARRAY) {
			if (pt_json_len(arr) == 0 ||
			    pt_json_len(arr) > PT_MAX_BATCH) {
				in.ev.status = "invalid";
				in.ev.event_time = 0;
				in.ev.error_code = "invalid_batch";
				in.ev.error_message = pt_json_len(arr) ? "more than "
				    "1000 elements" : "an empty batch";
				if ((rc = log_event(ctx, &in)) != PT_OK) {
					status = pt_reject_store(ctx, req, resp, rc,
					    "logging an invalid batch");
					goto out;
				}
				status = pt_reject(ctx, req, resp, 400,
				    "invalid_batch", "%s (event %s)",
				    in.ev.error_message, in.ev.id_text);
				goto out;
			}
			status = pt_ingest_batch(ctx, req, resp, &in, arr);
			goto out;
		}
	}

	/* 5. Identify. */
	if (pt_intake_identify(&in) != PT_OK || pt_intake_idem_key(&in) != PT_OK) {
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}

	/* 6. Execute and log durably in one transaction, then answer. */
	status = pt_execute(ctx, req, resp, &in);
out:
	*logged = in.committed;
	pt_intake_free(&in);
	return status;
}
