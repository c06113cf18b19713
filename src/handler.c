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

#include "actions.h"
#include "admin.h"	/* issue 6 */
#include "alloc.h"
#include "body.h"
#include "commit.h"
#include "eventlog.h"
#include "exec.h"
#include "idem.h"
#include "handler.h"
#include "ids.h"
#include "json.h"
#include "metrics.h"
#include "path.h"
#include "retention.h"	/* issue 6 */
#include "retl.h"
#include "catalog.h"
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
	struct pt_buf		 idem_key;	/* valid key, or empty */
	int			 has_idem;
	struct pt_action_log	*logs;
	size_t			 nlogs;
	int64_t			(*now)(void);	/* the context's clock */
};

#define LEASE_GRACE_US	(30 * 1000000LL)
/* Room kept, beyond the handlers' output, for the write recording it. */
#define HANDLER_ROOM	(64 * 1024)
#define RECOVER_PER_WRITE	2
#define PRUNE_PER_WRITE		4
#define HOUSEKEEP_EVERY		8

/* Is this write one that also does housekeeping?  (Threads may race on
 * the counter: a skipped or doubled round is harmless.) */
static int
housekeep_due(void)
{
	static unsigned n;

	return __atomic_fetch_add(&n, 1, __ATOMIC_RELAXED) % HOUSEKEEP_EVERY ==
	    0;
}

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

/* One "porter[pid]: " line to the context's log. */
void
pt_ctx_log(struct pt_ctx *ctx, const char *fmt, ...)
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
	pt_metrics_refused(status);
	pt_ctx_log(ctx, "%d %s %s %s: %s", status, code,
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
		else if (pt_utf8_valid(h->value, h->value_len >
		    MAX_HEADER_VALUE ? MAX_HEADER_VALUE : h->value_len))
			v = pt_json_new_str(h->value, h->value_len >
			    MAX_HEADER_VALUE ? MAX_HEADER_VALUE : h->value_len);
		else
			/* The log is JSON text: keep it valid UTF-8. */
			v = pt_json_new_cstr("[not UTF-8]");
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
 * Write the event record in "txn" and count it (an execution waiting for
 * its handlers is counted when they are done, with its final status).
 */
static enum pt_err
log_event_in(struct pt_txn *txn, struct ingest *in)
{
	enum pt_err rc;

	in->ev.headers = in->logged;
	in->ev.warnings = in->warnings;
	in->ev.extra = in->extra;
	in->ev.body = in->body;
	in->ev.body_len = in->body_len;
	if ((rc = pt_eventlog_append(txn, &in->ev)) != PT_OK)
		return rc;
	if (strcmp(in->ev.status, "pending") == 0)
		return PT_OK;
	return pt_metrics_event(txn, &in->ev, in->now ? in->now() :
	    pt_now_us());
}

static enum pt_err
log_event_fn(struct pt_txn *txn, void *arg)
{
	return log_event_in(txn, arg);
}

/*
 * Write the event record in its own transaction and commit (rejected and
 * invalid requests): the caller answers only when this returns PT_OK.
 */
static enum pt_err
log_event(struct pt_ctx *ctx, struct ingest *in)
{
	return pt_write(ctx->store, ctx->committer, log_event_fn, in);
}

/*
 * Identify the event: its type at event_type_path (scalars as text) and
 * its time at timestamp_path.  Problems are warnings, never failures.
 */
/* Where the event type comes from, for warnings. */
static const char *
type_source(const struct pt_env *env)
{
	if (env->type_rule == PT_RULE_SEGMENT)
		return "the Segment type/event";
	if (env->type_rule == PT_RULE_RUDDERSTACK)
		return "the RudderStack type/event";
	if (env->type_template != NULL)
		return env->type_template->next != NULL ?
		    "the event_type_template alternatives" :
		    env->type_template->source;
	return env->event_type_path->text;
}

/*
 * snake_case of a CDP event name, as RudderStack types track events:
 * "Order Completed" and "orderCompleted" both give "order_completed".
 */
static enum pt_err
snake_case(const char *s, size_t n, struct pt_buf *out)
{
	size_t i;
	int sep = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '-' || c == '.' || c == '_' || c == '\t') {
			sep = out->len > 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z') {
			if (i > 0 && s[i - 1] >= 'a' && s[i - 1] <= 'z')
				sep = 1;
			c = (unsigned char)(c + 32);
		}
		if (sep && out->len > 0 && out->data[out->len - 1] != '/')
			pt_buf_addc(out, '_');
		sep = 0;
		pt_buf_addc(out, (char)c);
	}
	return out->failed ? PT_ENOMEM : PT_OK;
}

/*
 * Segment-spec payloads: a track call is named by its "event", any other
 * call by its "type" (identify, group, page, ...).
 */
static enum pt_err
cdp_type(struct ingest *in, enum pt_type_rule rule)
{
	const char *type = pt_json_str(pt_json_get(in->doc, "type"), NULL);
	const char *ev;
	size_t n;

	if (type == NULL)
		return warn(in, "no event type: a Segment-spec call needs a "
		    "string \"type\"");
	if (strcmp(type, "track") != 0)
		return pt_buf_adds(&in->type, type);
	if ((ev = pt_json_str(pt_json_get(in->doc, "event"), &n)) == NULL ||
	    n == 0)
		return warn(in, "no event type: a track call needs a string "
		    "\"event\"");
	if (rule == PT_RULE_SEGMENT)
		return pt_buf_add(&in->type, ev, n);
	pt_buf_adds(&in->type, "track/");
	return snake_case(ev, n, &in->type);
}

/*
 * Identify the event: its type (from the template, the CDP rule, or the
 * path; scalars as text) and its time at timestamp_path.  Problems are
 * warnings, never failures.
 */
static enum pt_err
identify(struct ingest *in)
{
	const struct pt_env *env = in->env;
	pt_json *v;
	char why[300];
	enum pt_path_res res;
	enum pt_err rc;
	int64_t us;

	if (env->type_rule != PT_RULE_PATH) {
		if ((rc = cdp_type(in, env->type_rule)) != PT_OK)
			return rc;
		if (in->type.len == 0)
			goto timestamp;
	} else if (env->type_template != NULL) {
		if (pt_template_eval(env->type_template, in->doc, in->headers,
		    &in->type, why, sizeof(why)) < 0) {
			pt_buf_reset(&in->type);
			return warn(in, "no event type from %s: %s",
			    type_source(env), why);
		}
	} else {
		res = pt_path_resolve(env->event_type_path, in->doc,
		    in->headers, &v, why, sizeof(why));
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
			return warn(in, "no event type at %s: the value is %s, "
			    "not a string", env->event_type_path->text,
			    pt_jtype_name(pt_json_type(v)));
		}
	}
	if (in->type.len == 0)
		return warn(in, "no event type: the value at %s is empty",
		    type_source(env));
	if (memchr(in->type.data, '\0', in->type.len) != NULL) {
		pt_buf_reset(&in->type);
		return warn(in, "no event type: the value at %s holds a NUL byte",
		    type_source(env));
	}
	if (in->type.len > PT_EVENT_TYPE_MAX) {
		pt_buf_reset(&in->type);
		return warn(in, "no event type: the value at %s is longer than "
		    "%d bytes", type_source(env), PT_EVENT_TYPE_MAX);
	}
	in->ev.event_type = in->type.data;

timestamp:
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
	pt_buf_free(&in->idem_key);
	pt_action_logs_free(in->logs, in->nlogs);
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
 * The idempotency key, when the environment has one: a valid key is kept
 * in in->idem_key; an invalid one is dropped with a warning that does not
 * repeat it; no value means no key.
 */
static enum pt_err
idempotency_key(struct ingest *in)
{
	const struct pt_env *env = in->env;
	char why[200];
	pt_json *v;
	const char *s;
	size_t n;

	if (!env->idem_enabled || env->idem_key_path == NULL ||
	    in->ev.event_type == NULL)
		return PT_OK;
	if (pt_path_resolve(env->idem_key_path, in->doc, in->headers, &v, why,
	    sizeof(why)) != PT_PATH_FOUND || v == NULL)
		return PT_OK;
	if (!pt_idem_key_valid(v, why, sizeof(why)))
		return warn(in, "invalid idempotency key at %s dropped: %s; the "
		    "event ran without idempotency", env->idem_key_path->text,
		    why);
	s = pt_json_str(v, &n);
	if (pt_buf_add(&in->idem_key, s, n) != PT_OK)
		return PT_ENOMEM;
	in->has_idem = 1;
	return PT_OK;
}

static void
idem_scope(const struct ingest *in, struct pt_idem_scope *sc)
{
	sc->source = in->env->source_key;
	sc->environment = in->env->name;
	sc->event_type = in->ev.event_type;
	sc->key = in->idem_key.data;
	sc->key_len = in->idem_key.len;
}

/*
 * An execution whose process died while its handlers ran: its event, its
 * pending actions and runs become "interrupted", and its idempotency key is
 * released so that the sender's retry (it never got an answer) runs.
 */
static enum pt_err
interrupt_event(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], int64_t now)
{
	struct pt_val meta, body;
	struct pt_idem_scope sc;
	struct pt_idem_rec r;
	pt_json *m, *acts, *idem, *set = NULL;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK)
		return rc == PT_ENOTFOUND ? PT_OK : rc;
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
		return PT_ECORRUPT;
	if (strcmp(pt_json_str(pt_json_get(m, "status"), NULL), "pending") !=
	    0) {
		pt_json_put(m);
		return PT_OK;
	}
	acts = pt_json_get(m, "actions");
	for (i = 0; i < pt_json_len(acts); i++)
		if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i), NULL),
		    aid) == 0 && (rc = pt_action_interrupt(txn, aid, now)) !=
		    PT_OK && rc != PT_ENOTFOUND)
			goto out;
	idem = pt_json_get(m, "idempotency");
	if (idem != NULL && pt_json_str(pt_json_get(idem, "key"), NULL)) {
		sc.source = pt_json_str(pt_json_get(m, "source"), NULL);
		sc.environment = pt_json_str(pt_json_get(m, "environment"), NULL);
		sc.event_type = pt_json_str(pt_json_get(m, "event_type"), NULL);
		sc.key = pt_json_str(pt_json_get(idem, "key"), &sc.key_len);
		/* Release only the reservation this event holds. */
		if ((rc = pt_idem_lookup(txn, &sc, now, INT64_MAX, &r)) !=
		    PT_OK)
			goto out;
		if ((r.state == PT_IDEM_STALE || r.state == PT_IDEM_PENDING) &&
		    memcmp(r.event_id, id, PT_ID_BIN) == 0 &&
		    (rc = pt_idem_release(txn, &sc)) != PT_OK)
			goto out;
	}
	rc = PT_ENOMEM;
	if ((set = pt_json_new_object()) == NULL ||
	    pt_json_set(set, "error", pt_json_new_object()) != PT_OK ||
	    pt_json_set(pt_json_get(set, "error"), "code",
	    pt_json_new_cstr("interrupted")) != PT_OK ||
	    pt_json_set(pt_json_get(set, "error"), "message", pt_json_new_cstr(
	    "the process died while the workflow handlers ran; the outcome is "
	    "unknown")) != PT_OK)
		goto out;
	rc = pt_eventlog_update(txn, id, "interrupted", set);
out:
	pt_json_put(set);
	pt_json_put(m);
	return rc;
}

enum pt_err
pt_recover(struct pt_txn *txn, int64_t now, size_t max, size_t *done)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, meta, body;
	uint8_t (*ids)[PT_ID_BIN];
	static const char prefix[] = "pending";
	enum pt_err rc;
	size_t n = 0, i;
	pt_json *m;

	*done = 0;
	if (max == 0 || max > 100000)
		max = 100000;
	if ((ids = pt_calloc(max, PT_ID_BIN)) == NULL)
		return PT_ENOMEM;

	/* Not "return": "ids" is ours (leaked when the cursor failed). */
	if ((rc = pt_cursor_open(txn, PT_T_EV_STATUS, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, prefix, sizeof(prefix), PT_SEEK_GE, &k,
	    NULL); rc == PT_OK && n < max;
	    rc = pt_cursor_next(cur, &k, NULL)) {
		const uint8_t *id = (const uint8_t *)k.data + sizeof(prefix);
		int64_t lease;

		if (k.len != sizeof(prefix) + PT_ID_BIN ||
		    memcmp(k.data, prefix, sizeof(prefix)) != 0)
			break;
		if (pt_eventlog_get(txn, id, &meta, &body) != PT_OK)
			continue;
		if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
			continue;
		lease = pt_json_int(pt_json_get(m, "lease_until_us"));
		pt_json_put(m);
		if (lease > now)
			break;	/* oldest first: the rest are younger */
		memcpy(ids[n++], id, PT_ID_BIN);
	}
	pt_cursor_close(cur);
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = interrupt_event(txn, ids[i], now)) != PT_OK)
			goto out;
	*done = n;
	rc = PT_OK;
out:
	pt_free(ids);
	return rc;
}

/*
 * The 2xx body: {"id", "event_type", "status", ...extra members}.  Returns
 * the status; 500 when there was no memory for the body (the event is
 * stored: the sender's retry is logged, and replayed if it has a key).
 */
static int
answer(struct pt_resp *resp, int status, const struct ingest *in,
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
extra(struct ingest *in, const char *key, pt_json *val)
{
	return pt_json_set(in->extra, key, val);
}

/* The environment a workflow handler gets: nothing inherited. */
static void
job_env(const struct ingest *in, const struct pt_action_log *al,
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

/* What the first transaction decided, for the answer. */
enum stage_kind {
	STAGE_EXECUTED,		/* actions ran (maybe handlers pending) */
	STAGE_REPLAYED,		/* idempotent: an earlier execution stands */
	STAGE_CONFLICT		/* the key is held by a running execution */
};

struct stage {
	struct pt_ctx		*ctx;
	struct ingest		*in;
	enum stage_kind		 kind;
	struct pt_idem_rec	 rec;		/* replayed/conflict: the holder */
	size_t			 pending;	/* handlers to run after commit */
	struct pt_exec_result	*res;		/* their outcomes */
	size_t			 failed;
};

/*
 * Step 6, as one write: housekeeping, the idempotency check, every
 * action's effects and log, the event record and the idempotency record.
 * Runs in whatever transaction pt_write() gives it (its own, or a nested
 * one inside a group commit).
 */
static enum pt_err
stage_fn(struct pt_txn *txn, void *arg)
{
	struct stage *st = arg;
	struct ingest *in = st->in;
	struct pt_event_ctx ectx;
	struct pt_idem_scope sc;
	pt_json *ids = NULL, *ij = NULL;
	char orig[PT_ID_MAX];
	enum pt_err rc;
	size_t i, pruned, recovered;
	int64_t now = in->ev.received_at, lease = 0;

	/*
	 * A little housekeeping every few writes keeps the store bounded
	 * (every HOUSEKEEP_EVERY-th write of this process does
	 * PRUNE_PER_WRITE/RECOVER_PER_WRITE times as much).
	 */
	if (housekeep_due() &&
	    ((rc = pt_idem_prune(txn, now, PRUNE_PER_WRITE * HOUSEKEEP_EVERY,
	    &pruned)) != PT_OK ||
	    (rc = pt_recover(txn, now, RECOVER_PER_WRITE, &recovered)) !=
	    PT_OK ||
	    /* issue 6: old logs go, a bounded number (retention.h). */
	    (rc = pt_retention_step(txn, st->ctx->cfg, now)) != PT_OK))
		return rc;
	/* Undo what a first run left (pt_write may run this twice). */
	if (st->kind == STAGE_CONFLICT) {
		in->ev.error_code = NULL;
		in->ev.error_message = NULL;
	}
	pt_json_del(in->extra, "actions");
	pt_json_del(in->extra, "idempotency");
	pt_json_del(in->extra, "lease_until_us");
	st->kind = STAGE_EXECUTED;
	st->pending = 0;
	pt_action_logs_free(in->logs, in->nlogs);
	in->logs = NULL;
	in->nlogs = 0;

	if (in->has_idem) {
		idem_scope(in, &sc);
		if ((rc = pt_idem_lookup(txn, &sc, now, in->env->idem_window *
		    1000000, &st->rec)) != PT_OK)
			return rc;
		rc = PT_ENOMEM;
		if ((ij = pt_json_new_object()) == NULL ||
		    pt_json_set(ij, "key", pt_json_new_str(in->idem_key.data,
		    in->idem_key.len)) != PT_OK)
			goto out;
		if (st->rec.state == PT_IDEM_DONE ||
		    st->rec.state == PT_IDEM_PENDING) {
			pt_id_text("evt", st->rec.event_id, orig);
			if (pt_json_set(ij, "original_event_id",
			    pt_json_new_cstr(orig)) != PT_OK ||
			    extra(in, "idempotency", ij) != PT_OK) {
				ij = NULL;
				goto out;
			}
			ij = NULL;
			if (st->rec.state == PT_IDEM_DONE) {
				st->kind = STAGE_REPLAYED;
				in->ev.status = "idempotent";
			} else {
				st->kind = STAGE_CONFLICT;
				in->ev.status = "conflict";
				in->ev.error_code = "in_progress";
				in->ev.error_message = "the same event is being "
				    "executed by another request";
			}
			rc = log_event_in(txn, in);
			goto out;
		}
		if (st->rec.state == PT_IDEM_STALE &&
		    (rc = interrupt_event(txn, st->rec.event_id, now)) != PT_OK)
			goto out;
	}

	if (in->ev.event_type != NULL) {
		memset(&ectx, 0, sizeof(ectx));
		ectx.cfg = st->ctx->cfg;
		ectx.env = in->env;
		ectx.event_type = in->ev.event_type;
		ectx.event_id = in->ev.id_text;
		ectx.body = in->doc;
		ectx.body_len = in->body_len;
		ectx.headers = in->headers;
		ectx.now = now;
		if ((rc = pt_actions_run(txn, &ectx, &in->logs, &in->nlogs)) !=
		    PT_OK)
			goto out;
		rc = PT_ENOMEM;
		if ((ids = pt_json_new_array()) == NULL)
			goto out;
		for (i = 0; i < in->nlogs; i++) {
			if (in->logs[i].status == PT_ACT_PENDING) {
				st->pending++;
				lease += in->logs[i].job.timeout_ms * 1000;
			}
			if (pt_json_append(ids, pt_json_new_cstr(
			    in->logs[i].id_text)) != PT_OK)
				goto out;
		}
		if (extra(in, "actions", ids) != PT_OK) {
			ids = NULL;
			goto out;
		}
		ids = NULL;
		in->ev.status = in->nlogs == 0 ? "no_mapping" : st->pending ?
		    "pending" : "accepted";
	} else
		in->ev.status = "no_event_type";

	/*
	 * Handlers run between this write and the one that records their
	 * outcome.  Should that second write find the store full, the event
	 * would stay pending and the sender's retry would run the handlers
	 * again once the lease ran out: so start them only with room left
	 * for their output (and a margin), else refuse now, before anything
	 * has run, with the retryable 503 of a full store.
	 */
	if (st->pending) {
		uint64_t need = HANDLER_ROOM;

		for (i = 0; i < in->nlogs; i++)
			if (in->logs[i].status == PT_ACT_PENDING)
				need += 2 * (uint64_t)in->logs[i].job.max_output;
		if (pt_store_room(pt_txn_store(txn)) < need) {
			pt_store_set_errstr("too little room left to record "
			    "workflow handler results");
			rc = PT_EFULL;
			goto out;
		}
	}
	rc = PT_ENOMEM;
	if (st->pending) {
		lease += now + LEASE_GRACE_US;
		if (extra(in, "lease_until_us", pt_json_new_int(lease)) != PT_OK)
			goto out;
	}
	if (in->has_idem) {
		if (extra(in, "idempotency", ij) != PT_OK) {
			ij = NULL;
			goto out;
		}
		ij = NULL;
		idem_scope(in, &sc);
		if ((rc = st->pending ? pt_idem_put(txn, &sc, PT_IDEM_PENDING,
		    in->ev.id, now, lease, pt_idem_owner()) : pt_idem_put(txn,
		    &sc, PT_IDEM_DONE, in->ev.id, now, now +
		    in->env->idem_window * 1000000, 0)) != PT_OK)
			goto out;
	}
	rc = log_event_in(txn, in);
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
	pt_json_put(ids);
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
	struct stage *st = arg;
	struct ingest *in = st->in;
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
	    pt_json_set(set, "lease_until_us", NULL) != PT_OK)
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
 * Run the pending handlers, outside any transaction, then record their
 * outcome; answer 200, or 502 when one failed.
 */
static int
run_jobs(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    struct stage *st)
{
	struct ingest *in = st->in;
	char envbuf[8][300], *envp[9];
	const char *input;
	enum pt_err rc;
	size_t i, n;
	int status;

	if ((st->res = pt_calloc(in->nlogs, sizeof(*st->res))) == NULL)
		return reject(ctx, req, resp, 500, "internal_error",
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
		if (pt_exec(al->job.argv, envp, input, n, al->job.timeout_ms,
		    al->job.max_output, &st->res[i]) != PT_OK &&
		    st->res[i].error[0] == '\0')
			snprintf(st->res[i].error, sizeof(st->res[i].error),
			    "could not start");
	}
	rc = pt_write(ctx->store, ctx->committer, finish_fn, st);
	for (i = 0; i < in->nlogs; i++)
		pt_exec_result_free(&st->res[i]);
	pt_free(st->res);
	st->res = NULL;
	if (rc != PT_OK)
		return store_failure(ctx, req, resp, rc, "recording handler "
		    "results (the event stays pending until recovered)");
	for (i = 0; i < in->nlogs; i++)
		if (in->logs[i].status == PT_ACT_FAILED && in->logs[i].has_job)
			pt_ctx_log(ctx, "workflow handler failed: event %s action %s: "
			    "%s", in->ev.id_text, in->logs[i].id_text,
			    in->logs[i].message);
	if (st->failed) {
		pt_resp_header(resp, "Retry-After", "60");
		status = reject(ctx, req, resp, 502, "handler_failed", "%zu "
		    "workflow handler%s failed (event %s); see `porterctl log "
		    "%s`", st->failed, st->failed == 1 ? "" : "s",
		    in->ev.id_text, in->ev.id_text);
		return status;
	}
	return answer(resp, 200, in, NULL);
}

/*
 * Step 6: stage everything in one write, commit, then answer (running the
 * workflow handlers first, when there are any).
 */
static int
execute(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    struct ingest *in)
{
	struct stage st;
	char orig[PT_ID_MAX], extra_text[200], ra[32];
	enum pt_err rc;
	int64_t secs;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.in = in;
	if ((rc = pt_write(ctx->store, ctx->committer, stage_fn, &st)) != PT_OK)
		return store_failure(ctx, req, resp, rc, "recording the event");
	switch (st.kind) {
	case STAGE_REPLAYED:
		pt_id_text("evt", st.rec.event_id, orig);
		snprintf(extra_text, sizeof(extra_text), ", \"idempotent\": true, "
		    "\"original_event_id\": \"%s\"", orig);
		return answer(resp, 200, in, extra_text);
	case STAGE_CONFLICT:
		pt_id_text("evt", st.rec.event_id, orig);
		secs = (st.rec.expires_at - in->ev.received_at + 999999) /
		    1000000;
		snprintf(ra, sizeof(ra), "%lld", (long long)(secs < 1 ? 1 :
		    secs));
		pt_resp_header(resp, "Retry-After", ra);
		return reject(ctx, req, resp, 409, "in_progress", "event %s with "
		    "this idempotency key is still executing; retry later "
		    "(logged as %s)", orig, in->ev.id_text);
	case STAGE_EXECUTED:
	default:
		break;
	}
	if (st.pending)
		return run_jobs(ctx, req, resp, &st);
	return answer(resp, 200, in, NULL);
}

#define MAX_BATCH 1000

struct batch {
	struct pt_ctx	*ctx;
	struct stage	*st;
	size_t		 n;
};

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
		struct ingest *in = b->st[i].in;

		/* Not ev.status, which staging sets: this may run twice. */
		if (in->doc == NULL)	/* an invalid element: log it */
			rc = log_event_in(txn, in);
		else
			rc = stage_fn(txn, &b->st[i]);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

/*
 * A batch payload ({"batch": [...]}, as Segment-spec CDPs send): every
 * element is identified, executed and logged as an event of its own, all in
 * one write.  The answer lists each element's outcome; it is 2xx only when
 * every element was accepted, replayed or logged, so that a sender retries
 * a batch in which a handler failed or an element's key was busy.
 */
static int
ingest_batch(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, struct ingest *parent, const pt_json *arr)
{
	struct ingest *subs = NULL;
	struct stage *st = NULL;
	struct batch b;
	struct pt_resp one;
	enum pt_err rc;
	size_t i, n = pt_json_len(arr), bad = 0;
	int status = 200, s1;
	const char *text;
	size_t tlen;

	if ((subs = pt_calloc(n, sizeof(*subs))) == NULL ||
	    (st = pt_calloc(n, sizeof(*st))) == NULL) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory for a batch of %zu", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ingest *in = &subs[i];
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
			status = reject(ctx, req, resp, 500, "internal_error",
			    "out of memory for a batch of %zu", n);
			goto out;
		}
		memcpy(in->body, text, tlen);
		in->body_len = tlen;
		in->headers = pt_json_ref(parent->headers);
		in->logged = pt_json_ref(parent->logged);
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
		if (identify(in) != PT_OK || idempotency_key(in) != PT_OK) {
			status = reject(ctx, req, resp, 500, "internal_error",
			    "out of memory");
			goto out;
		}
	}
	b.ctx = ctx;
	b.st = st;
	b.n = n;
	if ((rc = pt_write(ctx->store, ctx->committer, batch_fn, &b)) !=
	    PT_OK) {
		status = store_failure(ctx, req, resp, rc, "recording a batch");
		goto out;
	}

	/* Handlers run after the commit, element by element. */
	pt_buf_reset(&resp->body);
	pt_buf_printf(&resp->body, "{\"batch\": true, \"count\": %zu, "
	    "\"events\": [", n);
	for (i = 0; i < n; i++) {
		struct ingest *in = &subs[i];

		s1 = 200;
		memset(&one, 0, sizeof(one));
		if (in->doc != NULL && st[i].kind == STAGE_EXECUTED &&
		    st[i].pending)
			s1 = run_jobs(ctx, req, &one, &st[i]);
		if (st[i].kind == STAGE_CONFLICT)
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
		status = reject(ctx, req, resp, status == 200 ? 400 : status,
		    status == 200 ? "invalid_batch_element" : status == 409 ?
		    "in_progress" : status == 502 ? "handler_failed" :
		    "batch_failed", "%zu of %zu batch elements were not "
		    "executed; the others were (idempotency keys make a retry "
		    "safe): %.*s", bad + (status != 200), n,
		    (int)(list.len > 300 ? 300 : list.len),
		    list.data ? list.data : "");
		pt_buf_free(&list);
	}
out:
	for (i = 0; subs != NULL && i < n; i++)
		ingest_free(&subs[i]);
	pt_free(subs);
	pt_free(st);
	return status;
}

/*
 * POST <mount>/receive/<endpoint_id>.
 */
static int
ingest(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    const char *endpoint, const char *sub)
{
	const struct pt_source_type *type;
	struct pt_retl_route retl;
	struct ingest in;
	struct pt_body_error berr;
	const char *method = req->method ? req->method : "", *allow;
	char err[512];
	uint64_t clen;
	enum pt_err rc;
	int status, bodiless = 0, format;

	memset(&in, 0, sizeof(in));
	in.now = ctx->now;

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
	type = pt_catalog_lookup(in.env->source_type);
	if (sub != NULL) {
		/* Reverse ETL: Knock-REST-shaped calls under the endpoint. */
		if (type == NULL || type->kind != PT_KIND_RETL) {
			status = reject(ctx, req, resp, 404, "not_found",
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
			status = reject(ctx, req, resp, 405, "method_not_allowed",
			    "%s takes %s, not %.16s", sub, allow, method);
			goto out;
		default:
			status = reject(ctx, req, resp, 404, "not_found", "%s",
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
		status = reject(ctx, req, resp, 405, "method_not_allowed",
		    "webhooks are delivered with POST, not %.16s", method);
		goto out;
	}

	/* 2. Bound: length first, so nothing oversized is ever read. */
	if (bodiless)
		clen = 0;
	else if (req->content_length == NULL) {
		status = reject(ctx, req, resp, 411, "length_required",
		    "a Content-Length header is required");
		goto out;
	}
	else if (pt_parse_content_length(req->content_length, &clen) < 0) {
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
	/* The formats are per environment: a form only where it opted in. */
	format = pt_body_format_of(req->content_type);
	if (!bodiless && !pt_body_accepts(in.env, format, req->content_type,
	    err, sizeof(err))) {
		status = reject(ctx, req, resp, 415, "unsupported_media_type",
		    "%s", err);
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
	    pt_json_new_cstr(req->remote_addr)) != PT_OK) ||
	    /* How the body was read: a replay reads it the same way. */
	    (format != 0 && pt_json_set(in.extra, "body_format",
	    pt_json_new_cstr(pt_body_format_name(format))) != PT_OK)) {
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

	/* 4. Parse strictly, as the Content-Type says. */
	if (sub != NULL && in.body_len == 0 && !pt_retl_needs_body(&retl))
		rc = (in.doc = pt_json_new_object()) ? PT_OK : PT_ENOMEM;
	else
		rc = pt_body_parse(in.env, format, in.body, in.body_len, &in.doc,
		    &berr);
	if (rc == PT_ENOMEM) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory parsing the body");
		goto out;
	}
	if (rc != PT_OK) {
		in.ev.status = "invalid";
		in.ev.event_time = 0;
		in.ev.error_code = berr.code;
		in.ev.error_message = berr.message;
		if ((rc = log_event(ctx, &in)) != PT_OK) {
			status = store_failure(ctx, req, resp, rc,
			    "logging an invalid event");
			goto out;
		}
		status = reject(ctx, req, resp, 400, berr.code, "%s (event %s)",
		    berr.message, in.ev.id_text);
		goto out;
	}

	/* 4a. Reverse ETL: the call becomes one event per document. */
	if (sub != NULL) {
		pt_json *docs;

		if ((docs = pt_retl_docs(&retl, in.doc, err, sizeof(err))) ==
		    NULL) {
			if (strcmp(err, "out of memory") == 0) {
				status = reject(ctx, req, resp, 500,
				    "internal_error", "out of memory");
				goto out;
			}
			in.ev.status = "invalid";
			in.ev.event_time = 0;
			in.ev.error_code = "invalid_request";
			in.ev.error_message = err;
			if ((rc = log_event(ctx, &in)) != PT_OK) {
				status = store_failure(ctx, req, resp, rc,
				    "logging an invalid call");
				goto out;
			}
			status = reject(ctx, req, resp, 400, "invalid_request",
			    "%s (event %s)", err, in.ev.id_text);
			goto out;
		}
		status = ingest_batch(ctx, req, resp, &in, docs);
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
			status = store_failure(ctx, req, resp, rc,
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
			    pt_json_len(arr) > MAX_BATCH) {
				in.ev.status = "invalid";
				in.ev.event_time = 0;
				in.ev.error_code = "invalid_batch";
				in.ev.error_message = pt_json_len(arr) ? "more than "
				    "1000 elements" : "an empty batch";
				if ((rc = log_event(ctx, &in)) != PT_OK) {
					status = store_failure(ctx, req, resp, rc,
					    "logging an invalid batch");
					goto out;
				}
				status = reject(ctx, req, resp, 400,
				    "invalid_batch", "%s (event %s)",
				    in.ev.error_message, in.ev.id_text);
				goto out;
			}
			status = ingest_batch(ctx, req, resp, &in, arr);
			goto out;
		}
	}

	/* 5. Identify. */
	if (identify(&in) != PT_OK || idempotency_key(&in) != PT_OK) {
		status = reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}

	/* 6. Execute and log durably in one transaction, then answer. */
	status = execute(ctx, req, resp, &in);
out:
	ingest_free(&in);
	return status;
}

/*
 * Replay a logged event: run its mappings again as they are configured
 * now, as a new event linked to the original ("replay_of").  For events
 * that were no_mapping, no_event_type or had failed actions before the
 * operator fixed the config.  The replay skips the signature check (the
 * original was checked when it arrived) and idempotency (the operator asks
 * for a second execution); headers the log redacted stay redacted.
 */
int
pt_replay(struct pt_ctx *ctx, const char *evt_id, struct pt_resp *resp)
{
	struct pt_req req;
	struct ingest in;
	struct pt_body_error berr;
	struct pt_val meta, body;
	struct pt_txn *txn = NULL;
	const struct pt_header *hdrs = NULL;
	struct pt_header *hv = NULL;
	struct pt_json_iter it = { 0 };
	pt_json *m = NULL, *lh, *hvj, *vf;
	uint8_t id[PT_ID_BIN];
	const char *src, *envname, *k, *bf;
	char err[512];
	enum pt_err rc;
	size_t nh = 0;
	int status, format;

	memset(&in, 0, sizeof(in));
	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	in.now = ctx->now;
	req.method = "REPLAY";
	req.request_uri = evt_id;
	if (pt_id_parse("evt", evt_id, id) < 0) {
		status = reject(ctx, &req, resp, 400, "invalid_id", "%.80s is not "
		    "an event id", evt_id);
		goto out;
	}
	if ((rc = refresh_config(ctx, err, sizeof(err))) != PT_OK) {
		status = err[0] ? reject(ctx, &req, resp, 500, "internal_error",
		    "configuration: %s", err) : store_failure(ctx, &req, resp,
		    rc, "reading configuration");
		goto out;
	}
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK) {
		status = store_failure(ctx, &req, resp, rc, "reading the log");
		goto out;
	}
	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK) {
		status = rc == PT_ENOTFOUND ? reject(ctx, &req, resp, 404,
		    "not_found", "no event %s", evt_id) : store_failure(ctx,
		    &req, resp, rc, "reading the log");
		goto out;
	}
	/* Copy out before the transaction ends: its values die with it. */
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL ||
	    (in.body = pt_malloc(body.len + 1)) == NULL) {
		status = reject(ctx, &req, resp, 500, "internal_error",
		    "cannot read event %s", evt_id);
		goto out;
	}
	memcpy(in.body, body.data, body.len);
	in.body_len = body.len;
	in.body[in.body_len] = '\0';
	pt_txn_abort(txn);
	txn = NULL;

	src = pt_json_str(pt_json_get(m, "source"), NULL);
	envname = pt_json_str(pt_json_get(m, "environment"), NULL);
	if (src == NULL || envname == NULL ||
	    (in.env = pt_config_env(ctx->cfg, src, envname)) == NULL) {
		status = reject(ctx, &req, resp, 409, "source_gone", "event %s "
		    "came to %s/%s, which is no longer configured", evt_id,
		    src ? src : "?", envname ? envname : "?");
		goto out;
	}
	/*
	 * The body is parsed as it was at ingest: as the logged body_format,
	 * else the logged Content-Type says (events logged before forms were
	 * taken are all JSON).
	 */
	lh = pt_json_get(m, "headers");
	if ((bf = pt_json_str(pt_json_get(m, "body_format"), NULL)) != NULL)
		format = strcmp(bf, pt_body_format_name(PT_BODY_FORM)) == 0 ?
		    PT_BODY_FORM : PT_BODY_JSON;
	else if ((format = pt_body_format_of(pt_json_str(pt_json_get(lh,
	    "content-type"), NULL))) == 0)
		format = PT_BODY_JSON;
	if ((rc = pt_body_parse(in.env, format, in.body, in.body_len, &in.doc,
	    &berr)) != PT_OK) {
		status = rc == PT_ENOMEM ? reject(ctx, &req, resp, 500,
		    "internal_error", "out of memory") : reject(ctx, &req, resp,
		    409, "not_replayable", "event %s has no %s body to replay: "
		    "%s", evt_id, format == PT_BODY_FORM ? "form" :
		    "JSON object", berr.message);
		goto out;
	}
	/* The logged headers stand in for the request's. */
	if ((hv = pt_calloc(pt_json_len(lh) + 1, sizeof(*hv))) == NULL) {
		status = reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	while (pt_json_iter_next(lh, &it, &k, &hvj)) {
		if (pt_json_type(hvj) != PT_J_STRING)
			continue;
		hv[nh].name = k;
		hv[nh].value = pt_json_str(hvj, &hv[nh].value_len);
		nh++;
	}
	hdrs = hv;
	req.headers = hdrs;
	req.nheaders = nh;

	in.ev.received_at = ctx->now();
	if (pt_id_new("evt", in.ev.received_at, in.ev.id, in.ev.id_text) !=
	    PT_OK || build_headers(&req, &in) != PT_OK ||
	    (in.warnings = pt_json_new_array()) == NULL ||
	    (in.extra = pt_json_new_object()) == NULL ||
	    pt_json_set(in.extra, "replay_of", pt_json_new_cstr(evt_id)) !=
	    PT_OK || pt_json_set(in.extra, "body_format", pt_json_new_cstr(
	    pt_body_format_name(format))) != PT_OK) {
		status = reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	in.ev.source = in.env->source_key;
	in.ev.environment = in.env->name;
	in.ev.endpoint_id = in.env->endpoint_id;
	in.ev.event_time = in.ev.received_at;
	vf = pt_json_get(m, "verification");
	in.ev.verify_status = "replayed";
	in.ev.verify_reason = pt_json_str(pt_json_get(vf, "status"), NULL);
	if (identify(&in) != PT_OK) {
		status = reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	/* An operator's replay runs whatever the idempotency records say. */
	in.has_idem = 0;
	status = execute(ctx, &req, resp, &in);
	if (status == 200) {
		/* Name the original in the answer. */
		size_t n = resp->body.len;

		if (n >= 2 && resp->body.data[n - 2] == '}') {
			resp->body.len = n - 2;
			pt_buf_printf(&resp->body, ", \"replay_of\": \"%s\"}\n",
			    evt_id);
		}
	}
out:
	pt_txn_abort(txn);
	pt_free(hv);
	pt_json_put(m);
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
	enum pt_err rc;
	int status;

	memset(resp, 0, sizeof(*resp));
	if ((rc = pt_req_route(req, &route)) != PT_OK) {
		status = rc == PT_ENOMEM ? reject(ctx, req, resp, 500,
		    "internal_error", "out of memory") : reject(ctx, req, resp,
		    404, "not_found", "no such resource");
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
		char *slash, *sub = NULL;

		endpoint = route.data + 9;
		if ((slash = strchr(endpoint, '/')) != NULL) {
			/* Keep the sub-path ("/v1/users/u1") apart. */
			if ((sub = pt_strdup(slash)) == NULL) {
				status = reject(ctx, req, resp, 500,
				    "internal_error", "out of memory");
				goto out;
			}
			*slash = '\0';
		}
		if (endpoint[0] == '\0' || (sub != NULL && sub[1] == '\0')) {
			pt_free(sub);
			status = reject(ctx, req, resp, 404, "not_found",
			    "no such resource: want /receive/<endpoint_id>");
			goto out;
		}
		status = ingest(ctx, req, resp, endpoint, sub);
		pt_free(sub);
		goto out;
	}
	/* issue 6: admin API, console and metrics (admin.c). */
	if (pt_admin_owns(p)) {
		status = pt_admin_handle(ctx, req, resp, p);
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
	/* One flush a second per process, whichever thread gets there. */
	static int64_t last_sync;
	int64_t now, last;

	if (ctx->cfg == NULL || ctx->cfg->durability != PT_DURABLE_RELAXED)
		return;
	now = ctx->now();
	last = __atomic_load_n(&last_sync, __ATOMIC_RELAXED);
	if (now - last >= 1000000 && __atomic_compare_exchange_n(&last_sync,
	    &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_store_sync(ctx->store);
}
