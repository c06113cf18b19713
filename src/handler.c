/*
 * handler.c - the request pipeline (see handler.h).
 *
 * Order (README "The ingest pipeline"): route -> bound -> authenticate ->
 * parse -> identify -> log durably -> answer.  Nothing is read from the
 * body before the endpoint and the length are known to be acceptable, and
 * json-c never sees a body before its signature was checked.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "eventlog.h"
#include "handler.h"
#include "ids.h"
#include "json.h"
#include "path.h"
#include "scheme.h"
#include "timeutil.h"

#define MAX_LOGGED_HEADERS	64
#define MAX_HEADER_VALUE	1024
#define RETRY_AFTER_FULL	"30"

/* Per-request state, freed in one place. */
struct ingest {
	const struct pt_env	*env;
	uint8_t			*body;
	size_t			 body_len;
	pt_json			*doc;		/* parsed body */
	pt_json			*headers;	/* all headers, for paths */
	pt_json			*logged;	/* redacted headers, for the log */
	pt_json			*warnings;
	pt_json			*extra;
	struct pt_buf		 type;		/* event type text */
	struct pt_event		 ev;
};

static void
default_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void
pt_ctx_init(struct pt_ctx *ctx, struct pt_store *store)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->store = store;
	ctx->now = pt_now_us;
	ctx->log = default_log;
}

void
pt_ctx_free(struct pt_ctx *ctx)
{
	pt_config_free(ctx->cfg);
	ctx->cfg = NULL;
}

static void __attribute__((format(printf, 2, 3)))
logf_(struct pt_ctx *ctx, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "porter[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_arg, line);
}

/*
 * An error response plus its log line ("status code method path: text").
 */
static int __attribute__((format(printf, 6, 7)))
reject(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	logf_(ctx, "%d %s %s %s: %s", status, code,
	    req->method ? req->method : "-",
	    req->request_uri ? req->request_uri :
	    (req->path_info ? req->path_info : "-"), msg);
	return pt_resp_error(resp, status, code, "%s", msg);
}

/* Store errors: map-full and busy are retryable (503), the rest 500. */
static int
store_failure(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, enum pt_err rc, const char *what)
{
	if (rc == PT_EFULL) {
		pt_resp_header(resp, "Retry-After", RETRY_AFTER_FULL);
		return reject(ctx, req, resp, 503, "store_full", "the store is "
		    "full; nothing was kept: retry later (%s: %s)", what,
		    pt_store_errstr());
	}
	if (rc == PT_EBUSY) {
		pt_resp_header(resp, "Retry-After", "5");
		return reject(ctx, req, resp, 503, "busy", "the store is busy: "
		    "retry later (%s)", what);
	}
	if (rc == PT_ENOMEM)
		return reject(ctx, req, resp, 500, "internal_error", "out of "
		    "memory (%s)", what);
	return reject(ctx, req, resp, 500, "internal_error", "%s: %s (%s)",
	    what, pt_strerror(rc), pt_store_errstr());
}

/*
 * Make sure ctx->cfg is the stored configuration: one cheap read of the
 * generation per request, a reload only when an apply changed it.
 */
static enum pt_err
refresh_config(struct pt_ctx *ctx, char *err, size_t errlen)
{
	struct pt_txn *txn = NULL;
	struct pt_config *cfg = NULL;
	enum pt_err rc;
	uint64_t gen;

	err[0] = '\0';
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK)
		goto out;
	if (ctx->cfg != NULL && ctx->cfg->gen == gen)
		goto out;
	rc = pt_config_load(txn, &cfg, err, errlen);
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
	if (rc != PT_OK)
		goto out;
	pt_config_free(ctx->cfg);
	ctx->cfg = cfg;
	pt_store_set_durability(ctx->store, cfg->durability);
out:
	pt_txn_abort(txn);
	return rc;
}

/* Headers whose values are credentials: never written to the log. */
static int
secret_header(const char *name)
{
	static const char *const exact[] = {
		"authorization", "proxy-authorization", "cookie", "set-cookie",
		"x-webhook-secret", "x-api-key", "api-key", "apikey", NULL
	};
	static const char *const parts[] = {
		"secret", "token", "password", "passwd", "api-key", "apikey",
		"credential", "session", NULL
	};
	size_t i;

	for (i = 0; exact[i]; i++)
		if (strcmp(name, exact[i]) == 0)
			return 1;
	for (i = 0; parts[i]; i++)
		if (strstr(name, parts[i]) != NULL)
			return 1;
	return 0;
}

/*
 * Build the two header objects: every header (paths such as headers.x-id
 * read these) and the bounded, redacted copy the log keeps.
 */
static enum pt_err
build_headers(const struct pt_req *req, struct ingest *in)
{
	const struct pt_header *h;
	size_t i, kept = 0;
	pt_json *v;

	if ((in->headers = pt_json_new_object()) == NULL ||
	    (in->logged = pt_json_new_object()) == NULL)
		return PT_ENOMEM;
	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if ((v = pt_json_new_str(h->value, h->value_len)) == NULL ||
		    pt_json_set(in->headers, h->name, v) != PT_OK)
			return PT_ENOMEM;
		if (kept == MAX_LOGGED_HEADERS)
			continue;
		if (secret_header(h->name))
			v = pt_json_new_cstr("[redacted]");
		else
			v = pt_json_new_str(h->value, h->value_len >
			    MAX_HEADER_VALUE ? MAX_HEADER_VALUE : h->value_len);
		if (v == NULL || pt_json_set(in->logged, h->name, v) != PT_OK)
			return PT_ENOMEM;
		kept++;
	}
	return PT_OK;
}

static enum pt_err __attribute__((format(printf, 2, 3)))
warn(struct ingest *in, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pt_json_append(in->warnings, pt_json_new_cstr(msg));
}

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

/*
 * Write the event record in one transaction and commit: the caller answers
 * 2xx only when this returns PT_OK.
 */
static enum pt_err
log_event(struct pt_ctx *ctx, struct ingest *in)
{
	struct pt_txn *txn = NULL;
	enum pt_err rc;

	in->ev.headers = in->logged;
	in->ev.warnings = in->warnings;
	in->ev.extra = in->extra;
	in->ev.body = in->body;
	in->ev.body_len = in->body_len;
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		return rc;
	if ((rc = pt_eventlog_append(txn, &in->ev)) != PT_OK) {
		pt_txn_abort(txn);
		return rc;
	}
	return pt_txn_commit(txn);
}

/*
 * Identify the event: its type at event_type_path (scalars as text) and
 * its time at timestamp_path.  Problems are warnings, never failures.
 */
static enum pt_err
identify(struct ingest *in)
{
	const struct pt_env *env = in->env;
	pt_json *v;
	char why[300];
	enum pt_path_res res;
	int64_t us;

	res = pt_path_resolve(env->event_type_path, in->doc, in->headers, &v,
	    why, sizeof(why));
	if (res != PT_PATH_FOUND)
		return warn(in, "no event type at %s: %s",
		    env->event_type_path->text, why);
	switch (pt_json_type(v)) {
	case PT_J_STRING:
	case PT_J_INT:
	case PT_J_DOUBLE:
	case PT_J_BOOL:
		if (pt_json_scalar_text(v, &in->type) != PT_OK)
			return PT_ENOMEM;
		break;
	default:
		return warn(in, "no event type at %s: the value is %s, not a "
		    "string", env->event_type_path->text,
		    pt_jtype_name(pt_json_type(v)));
	}
	if (in->type.len == 0)
		return warn(in, "no event type at %s: the value is empty",
		    env->event_type_path->text);
	if (memchr(in->type.data, '\0', in->type.len) != NULL) {
		pt_buf_reset(&in->type);
		return warn(in, "no event type at %s: the value holds a NUL byte",
		    env->event_type_path->text);
	}
	if (in->type.len > PT_EVENT_TYPE_MAX) {
		pt_buf_reset(&in->type);
		return warn(in, "no event type at %s: the value is longer than "
		    "%d bytes", env->event_type_path->text, PT_EVENT_TYPE_MAX);
	}
	in->ev.event_type = in->type.data;

	if (env->timestamp_path == NULL)
		return PT_OK;
	res = pt_path_resolve(env->timestamp_path, in->doc, in->headers, &v,
	    why, sizeof(why));
	if (res != PT_PATH_FOUND)
		return warn(in, "no timestamp at %s (%s): using the time "
		    "received", env->timestamp_path->text, why);
	if (pt_json_time(v, &us, why, sizeof(why)) < 0)
		return warn(in, "unreadable timestamp at %s: %s; using the time "
		    "received", env->timestamp_path->text, why);
	in->ev.event_time = us;
	return PT_OK;
}

static void
ingest_free(struct ingest *in)
{
	pt_free(in->body);
	pt_json_put(in->doc);
	pt_json_put(in->headers);
	pt_json_put(in->logged);
	pt_json_put(in->warnings);
	pt_json_put(in->extra);
	pt_buf_free(&in->type);
}

/*
 * Authenticate: fills ev.verify_status / verify_reason.  Returns 0 to go
 * on, -1 when an enforced check failed.
 */
static int
authenticate(struct pt_ctx *ctx, const struct pt_req *req, struct ingest *in)
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
 * POST <mount>/receive/<endpoint_id>.
 */
static int
ingest(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    const char *endpoint)
{
	struct ingest in;
	struct pt_json_error jerr;
	char err[512];
	uint64_t clen;
	enum pt_err rc;
	int status;

	memset(&in, 0, sizeof(in));

	/* 1. Route. */
	if ((rc = refresh_config(ctx, err, sizeof(err))) != PT_OK) {
		status = err[0] ? reject(ctx, req, resp, 500, "internal_error",
		    "configuration: %s", err) :
		    store_failure(ctx, req, resp, rc, "reading configuration");
		goto out;
	}
	if ((in.env = pt_config_endpoint(ctx->cfg, endpoint)) == NULL) {
		status = reject(ctx, req, resp, 404, "unknown_endpoint",
		    "no source environment has endpoint %.80s", endpoint);
		goto out;
	}

	/* 2. Bound: length first, so nothing oversized is ever read. */
	if (req->content_length == NULL) {
		status = reject(ctx, req, resp, 411, "length_required",
		    "a Content-Length header is required");
		goto out;
	}
	if (pt_parse_content_length(req->content_length, &clen) < 0) {
		status = reject(ctx, req, resp, 411, "length_required",
		    "Content-Length must be a decimal number of bytes");
		goto out;
	}
	if (clen > in.env->max_body) {
		status = reject(ctx, req, resp, 413, "body_too_large",
		    "the body is %llu bytes; this endpoint takes at most %llu",
		    (unsigned long long)clen,
		    (unsigned long long)in.env->max_body);
		goto out;
	}
	if (!pt_is_json_content_type(req->content_type)) {
		status = reject(ctx, req, resp, 415, "unsupported_media_type",
		    "the body must be JSON (Content-Type: application/json), "
		    "not %.60s", req->content_type ? req->content_type :
		    "(none)");
		goto out;
	}
	if ((in.body = pt_malloc((size_t)clen + 1)) == NULL) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory for a %llu byte body",
		    (unsigned long long)clen);
		goto out;
	}
	if (read_body(req, in.body, (size_t)clen) < 0) {
		status = reject(ctx, req, resp, 400, "incomplete_body",
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
		status = reject(ctx, req, resp, 500, "internal_error",
		    "no random bytes for an event id");
		goto out;
	}
	in.ev.source = in.env->source_key;
	in.ev.environment = in.env->name;
	in.ev.endpoint_id = in.env->endpoint_id;
	in.ev.event_time = in.ev.received_at;
	if (build_headers(req, &in) != PT_OK ||
	    (in.warnings = pt_json_new_array()) == NULL ||
	    (in.extra = pt_json_new_object()) == NULL ||
	    (req->remote_addr && pt_json_set(in.extra, "remote_addr",
	    pt_json_new_cstr(req->remote_addr)) != PT_OK)) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}

	/* 3. Authenticate, before json-c sees a byte. */
	if (authenticate(ctx, req, &in) < 0) {
		in.ev.status = "rejected";
		in.ev.event_time = 0;
		in.ev.error_code = "invalid_signature";
		in.ev.error_message = in.ev.verify_reason;
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = store_failure(ctx, req, resp, rc,
			    "logging a rejected event");
			goto out;
		}
		status = reject(ctx, req, resp, 401, "invalid_signature",
		    "signature check failed: %s (event %s)", in.ev.verify_reason,
		    in.ev.id_text);
		goto out;
	}

	/* 4. Parse strictly. */
	rc = pt_json_parse((const char *)in.body, in.body_len,
	    PT_JSON_MAX_DEPTH, &in.doc, &jerr);
	if (rc == PT_ENOMEM) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory parsing the body");
		goto out;
	}
	if (rc != PT_OK || pt_json_type(in.doc) != PT_J_OBJECT) {
		const char *code = rc != PT_OK ? pt_jerr_code(jerr.code) :
		    "not_an_object";
		char msg[200];

		if (rc != PT_OK)
			snprintf(msg, sizeof(msg), "%s", jerr.message);
		else
			snprintf(msg, sizeof(msg), "the body is a JSON %s, not an "
			    "object", pt_jtype_name(pt_json_type(in.doc)));
		in.ev.status = "invalid";
		in.ev.event_time = 0;
		in.ev.error_code = code;
		in.ev.error_message = msg;
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = store_failure(ctx, req, resp, rc,
			    "logging an invalid event");
			goto out;
		}
		status = reject(ctx, req, resp, 400, code, "%s (event %s)", msg,
		    in.ev.id_text);
		goto out;
	}

	/* 5. Identify. */
	if (identify(&in) != PT_OK) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	in.ev.status = in.ev.event_type ? "accepted" : "no_event_type";

	/* 6. Log durably, then answer. */
	if ((rc = log_event(ctx, &in)) != PT_OK) {
		status = store_failure(ctx, req, resp, rc, "logging the event");
		goto out;
	}
	resp->status = status = 200;
	resp->content_type = "application/json";
	pt_buf_adds(&resp->body, "{\"id\": ");
	pt_buf_add_json_str(&resp->body, in.ev.id_text, strlen(in.ev.id_text));
	pt_buf_adds(&resp->body, ", \"event_type\": ");
	if (in.ev.event_type)
		pt_buf_add_json_str(&resp->body, in.type.data, in.type.len);
	else
		pt_buf_adds(&resp->body, "null");
	pt_buf_adds(&resp->body, ", \"status\": ");
	pt_buf_add_json_str(&resp->body, in.ev.status, strlen(in.ev.status));
	pt_buf_adds(&resp->body, "}\n");
	if (resp->body.failed) {
		/* The event is stored; the sender's retry will be logged too. */
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory writing the response for %s", in.ev.id_text);
	}
out:
	ingest_free(&in);
	return status;
}

static int
healthz(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp)
{
	struct pt_txn *txn;
	enum pt_err rc;

	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return store_failure(ctx, req, resp, rc, "opening the store");
	pt_txn_abort(txn);
	resp->status = 200;
	resp->content_type = "application/json";
	pt_buf_adds(&resp->body, "{\"status\": \"ok\"}\n");
	return 200;
}

int
pt_handle(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp)
{
	struct pt_buf route = { 0 };
	const char *method = req->method ? req->method : "";
	const char *p, *endpoint;
	int status;

	memset(resp, 0, sizeof(*resp));
	if (pt_req_route(req, &route) != PT_OK) {
		status = reject(ctx, req, resp, 404, "not_found",
		    "no such resource");
		goto out;
	}
	p = route.data;
	if (strcmp(p, "/healthz") == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			pt_resp_header(resp, "Allow", "GET, HEAD");
			status = reject(ctx, req, resp, 405,
			    "method_not_allowed", "use GET on /healthz");
			goto out;
		}
		status = healthz(ctx, req, resp);
		goto out;
	}
	if (strncmp(p, "/receive/", 9) == 0) {
		endpoint = p + 9;
		if (endpoint[0] == '\0' || strchr(endpoint, '/') != NULL) {
			status = reject(ctx, req, resp, 404, "not_found",
			    "no such resource: want /receive/<endpoint_id>");
			goto out;
		}
		if (strcmp(method, "POST") != 0) {
			pt_resp_header(resp, "Allow", "POST");
			status = reject(ctx, req, resp, 405,
			    "method_not_allowed", "webhooks are delivered with "
			    "POST, not %.16s", method);
			goto out;
		}
		status = ingest(ctx, req, resp, endpoint);
		goto out;
	}
	status = reject(ctx, req, resp, 404, "not_found", "no such resource");
out:
	pt_buf_free(&route);
	return status;
}

void
pt_idle(struct pt_ctx *ctx)
{
	int64_t now;

	if (ctx->cfg == NULL || ctx->cfg->durability != PT_DURABLE_RELAXED)
		return;
	now = ctx->now();
	if (now - ctx->last_sync >= 1000000) {
		pt_store_sync(ctx->store);
		ctx->last_sync = now;
	}
}
