/*
 * handler.c - the request pipeline (see handler.h).
 *
 * Order (README "The ingest pipeline"): route -> bound -> authenticate ->
 * parse -> identify -> log durably -> answer.  Nothing is read from the
 * body before the endpoint, the headers it reads and the length are known
 * to be acceptable, and no body is parsed before its signature was
 * checked (a rejected one afterwards, only to name its type in the log).
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
#include "identify.h"
#include "handler.h"
#include "ids.h"
#include "json.h"
#include "logline.h"
#include "metrics.h"
#include "path.h"
#include "retention.h"	/* issue 6 */
#include "retl.h"
#include "catalog.h"
#include "scheme.h"
#include "timeutil.h"

#define MAX_LOGGED_HEADERS	64
#define MAX_HEADER_VALUE	1024
/* Seconds a client waits before asking a store that did not open again. */
#define STORE_RETRY_AFTER	"30"

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
	int			 committed;	/* its event was written */
};

#define LEASE_GRACE_US	(30 * 1000000LL)
/*
 * Room kept for the write that records an event (beyond its handlers'
 * output): below it, /healthz says the store is full.
 */
#define EVENT_ROOM	(64 * 1024)
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

/*
 * One "porter[pid]: " line to the context's log, the message escaped
 * (logline.h): it quotes paths, headers and errors a client chose.
 */
void
pt_ctx_log(struct pt_ctx *ctx, const char *fmt, ...)
{
	char line[PT_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	pt_log_vline(line, sizeof(line), fmt, ap);
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
	pt_ctx_log(ctx, "%d %s %s %s: %s", status, code,
	    req->method ? req->method : "-",
	    req->request_uri ? req->request_uri :
	    (req->path_info ? req->path_info : "-"), msg);
	return pt_resp_error(resp, status, code, "%s", msg);
}

/* A store error, answered as the one table says (http.h pt_err_answer). */
static int
store_failure(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, enum pt_err rc, const char *what)
{
	const struct pt_err_answer *ea = pt_err_answer(rc);
	char msg[400];

	pt_err_text(rc, what, pt_store_errstr(), msg, sizeof(msg));
	if (ea->retry_after != NULL)
		pt_resp_header(resp, "Retry-After", ea->retry_after);
	return reject(ctx, req, resp, ea->status, ea->code, "%s", msg);
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

/*
 * Headers whose values are credentials: never written to the log.  Those
 * the environment's scheme reads its secret from, whatever their name
 * (conf.h, credential_headers), and a fixed list of names that usually
 * carry one.
 */
static int
secret_header(const struct pt_env *env, const char *name)
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

	if (env != NULL && pt_env_names_have(env->credential_headers,
	    env->ncredential_headers, name))
		return 1;
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
 * read these) and the bounded, redacted copy the log keeps.  A name that
 * comes twice keeps its first value, the one the verifier reads (scheme.h);
 * where that matters, ingest refused the request already.
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
		if (pt_json_get_ex(in->headers, h->name, NULL))
			continue;
		if ((v = pt_json_new_str(h->value, h->value_len)) == NULL ||
		    pt_json_set(in->headers, h->name, v) != PT_OK)
			return PT_ENOMEM;
		if (kept == MAX_LOGGED_HEADERS)
			continue;
		if (secret_header(in->env, h->name))
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
	enum pt_err rc;

	if ((rc = pt_write(ctx->store, ctx->committer, log_event_fn, in)) ==
	    PT_OK)
		in->committed = 1;
	return rc;
}

/* Identify the event (identify.h): its type, its time, warnings. */
static enum pt_err
identify(struct ingest *in)
{
	enum pt_err rc;

	rc = pt_identify(in->env, in->doc, in->headers, &in->type,
	    &in->ev.event_time, in->warnings);
	if (rc == PT_OK && in->type.len > 0)
		in->ev.event_type = in->type.data;
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
identify_unverified(struct ingest *in)
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
	rc = identify(in);
	pt_json_put(in->warnings);
	in->warnings = warnings;
	in->ev.event_time = 0;
	in->ev.type_unverified = in->ev.event_type != NULL;
	return rc;
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
 * *out gets the metadata of event "id" when it is a pending execution
 * recovery can interrupt, else NULL (put it).  A record that is gone, does
 * not decode, or lacks the status, source or environment recovery goes
 * by, is left alone for `porterctl check` to report: one bad record must
 * not fail every write that does housekeeping.  Returns a storage error
 * other than those.
 */
static enum pt_err
pending_meta(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], pt_json **out)
{
	struct pt_val meta, body;
	const char *st;
	enum pt_err rc;
	pt_json *m;

	*out = NULL;
	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK)
		return rc == PT_ENOTFOUND || rc == PT_ECORRUPT ? PT_OK : rc;
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
		return PT_OK;
	st = pt_json_str(pt_json_get(m, "status"), NULL);
	if (st == NULL || strcmp(st, "pending") != 0 ||
	    pt_json_str(pt_json_get(m, "source"), NULL) == NULL ||
	    pt_json_str(pt_json_get(m, "environment"), NULL) == NULL) {
		pt_json_put(m);
		return PT_OK;
	}
	*out = m;
	return PT_OK;
}

/*
 * An execution whose process died while its handlers ran: its event, its
 * pending actions and runs become "interrupted", and its idempotency key is
 * released so that the sender's retry (it never got an answer) runs.
 * Anything but a readable pending event is skipped (pending_meta).
 */
static enum pt_err
interrupt_event(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], int64_t now)
{
	struct pt_idem_scope sc;
	struct pt_idem_rec r;
	pt_json *m, *acts, *idem, *set = NULL;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	if ((rc = pending_meta(txn, id, &m)) != PT_OK || m == NULL)
		return rc;
	acts = pt_json_get(m, "actions");
	for (i = 0; i < pt_json_len(acts); i++)
		if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i), NULL),
		    aid) == 0 && (rc = pt_action_interrupt(txn, aid, now)) !=
		    PT_OK && rc != PT_ENOTFOUND)
			goto out;
	idem = pt_json_get(m, "idempotency");
	/* Without its event type, the key's scope cannot be named. */
	if (idem != NULL && pt_json_str(pt_json_get(idem, "key"), NULL) &&
	    pt_json_str(pt_json_get(m, "event_type"), NULL)) {
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
	struct pt_val k;
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
		/*
		 * Skipped, not counted: a bad record must not take the
		 * place of a good one in every round, for ever.
		 */
		if (pending_meta(txn, id, &m) != PT_OK || m == NULL)
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
		uint64_t need = EVENT_ROOM;

		for (i = 0; i < in->nlogs; i++)
			if (in->logs[i].status == PT_ACT_PENDING)
				need += 2 * (uint64_t)in->logs[i].job.max_output;
		if ((rc = pt_store_check_room(pt_txn_store(txn), need)) !=
		    PT_OK)
			goto out;
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
	    pt_json_set_null(set, "lease_until_us") != PT_OK)
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
			    "%s; see `porterctl log %s`", in->ev.id_text,
			    in->logs[i].id_text, in->logs[i].message,
			    in->ev.id_text);
	if (st->failed) {
		/*
		 * The sender is not the operator: it gets the event id to quote
		 * and a neutral text; what failed and how to look is in the log
		 * lines above.
		 */
		pt_resp_header(resp, "Retry-After", "60");
		status = reject(ctx, req, resp, 502, "handler_failed", "event %s "
		    "was received but could not be processed; retry later",
		    in->ev.id_text);
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
	in->committed = 1;
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
	parent->committed = 1;

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
static int
ingest(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    const char *endpoint, const char *sub, int *logged)
{
	const struct pt_source_type *type;
	struct pt_retl_route retl;
	struct ingest in;
	struct pt_body_error berr;
	const char *method = req->method ? req->method : "", *allow, *amb;
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
	if ((amb = ambiguous_header(req, in.env)) != NULL) {
		status = reject(ctx, req, resp, 400, "ambiguous_header",
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
		/* Reverse ETL calls are typed by their URL, not their body. */
		if (sub == NULL && identify_unverified(&in) != PT_OK) {
			status = reject(ctx, req, resp, 500, "internal_error",
			    "out of memory");
			goto out;
		}
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
	*logged = in.committed;
	ingest_free(&in);
	return status;
}

/*
 * Which verification statuses a replay may stand on without force.  A
 * replay runs the mappings as if the event were authentic, so it needs an
 * event that was verified, or one the operator chose not to verify (the
 * environment does not enforce) and still does not.
 */
enum replay_when { REPLAY_ALWAYS, REPLAY_UNLESS_ENFORCED };

static const struct {
	const char		*status;
	enum replay_when	 when;
} replay_rules[] = {
	{ "enforced:verified", REPLAY_ALWAYS },
	{ "not_enforced:verified", REPLAY_ALWAYS },
	{ "not_enforced:unsigned", REPLAY_UNLESS_ENFORCED },
	{ "not_enforced:failed", REPLAY_UNLESS_ENFORCED },
	/* enforced:failed, and anything unknown: never without force. */
};

/*
 * The verification status logged event "meta" stands on: its own, or for
 * a replay its original's (kept as the reason), so that replaying a
 * replay launders nothing.  NULL when the record has none.
 */
static const char *
replay_root_status(const pt_json *meta)
{
	const pt_json *vf = pt_json_get(meta, "verification");
	const char *st = pt_json_str(pt_json_get(vf, "status"), NULL);

	if (st != NULL && strcmp(st, "replayed") == 0)
		return pt_json_str(pt_json_get(vf, "reason"), NULL);
	return st;
}

/*
 * May logged event "meta" be replayed into "env" without force?  1, or 0
 * with the reason in "why".
 */
static int
replay_verdict(const struct pt_env *env, const pt_json *meta, char *why,
    size_t whylen)
{
	const char *st = replay_root_status(meta);
	size_t i;

	for (i = 0; st != NULL && i < sizeof(replay_rules) /
	    sizeof(replay_rules[0]); i++) {
		if (strcmp(st, replay_rules[i].status) != 0)
			continue;
		if (replay_rules[i].when == REPLAY_ALWAYS || !env->verify)
			return 1;
		snprintf(why, whylen, "it was not verified (%s) and %s/%s now "
		    "enforces verification", st, env->source_key, env->name);
		return 0;
	}
	snprintf(why, whylen, "it was not verified where verification was "
	    "enforced (%s)", st ? st : "no verification status");
	return 0;
}

int
pt_replay_allowed(const struct pt_config *cfg, const pt_json *meta)
{
	const struct pt_env *env;
	const char *src = pt_json_str(pt_json_get(meta, "source"), NULL),
	    *envname = pt_json_str(pt_json_get(meta, "environment"), NULL);
	char why[256];

	if (src == NULL || envname == NULL || cfg == NULL ||
	    (env = pt_config_env(cfg, src, envname)) == NULL)
		return 0;
	return replay_verdict(env, meta, why, sizeof(why));
}

/*
 * Replay a logged event: run its mappings again as they are configured
 * now, as a new event linked to the original ("replay_of").  For events
 * that were no_mapping, no_event_type or had failed actions before the
 * operator fixed the config.  The replay skips the signature check (the
 * original was checked when it arrived, see replay_verdict) and
 * idempotency (the operator asks for a second execution); headers the log
 * redacted stay redacted.
 */
int
pt_replay(struct pt_ctx *ctx, const char *evt_id, const char *who,
    int force, struct pt_resp *resp)
{
	struct pt_req req;
	struct ingest in;
	struct pt_body_error berr;
	struct pt_val meta, body;
	struct pt_txn *txn = NULL;
	const struct pt_header *hdrs = NULL;
	struct pt_header *hv = NULL;
	struct pt_json_iter it = { 0 };
	pt_json *m = NULL, *lh, *hvj;
	uint8_t id[PT_ID_BIN];
	const char *src, *envname, *k, *bf;
	char err[512], why[256];
	enum pt_err rc;
	size_t nh = 0;
	int status, forced = 0, format;

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
	if (!replay_verdict(in.env, m, why, sizeof(why))) {
		if (!force) {
			status = reject(ctx, &req, resp, 409, "not_verified",
			    "event %s cannot be replayed: %s; a replay would "
			    "run its mappings as if it were authentic (force "
			    "it only if you know it is)", evt_id, why);
			goto out;
		}
		forced = 1;
		pt_ctx_log(ctx, "replay of %s forced by %s: %s", evt_id, who,
		    why);
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
	    PT_OK || pt_json_set(in.extra, "replayed_by", pt_json_new_cstr(
	    who)) != PT_OK || (forced && pt_json_set(in.extra,
	    "replay_forced", pt_json_new_bool(1)) != PT_OK) ||
	    pt_json_set(in.extra, "body_format", pt_json_new_cstr(
	    pt_body_format_name(format))) != PT_OK) {
		status = reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	in.ev.source = in.env->source_key;
	in.ev.environment = in.env->name;
	in.ev.endpoint_id = in.env->endpoint_id;
	in.ev.event_time = in.ev.received_at;
	in.ev.verify_status = "replayed";
	in.ev.verify_reason = replay_root_status(m);
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

/* The store's use, for /healthz: what GET /admin/api/status says. */
static pt_json *
store_use(const struct pt_store_stat *st)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_set(o, "map_size", pt_json_new_int((int64_t)st->map_size)) !=
	    PT_OK ||
	    pt_json_set(o, "used", pt_json_new_int((int64_t)st->used)) !=
	    PT_OK ||
	    pt_json_set(o, "map_used_percent", pt_json_new_double(st->map_size ?
	    100.0 * (double)st->used / (double)st->map_size : 0.0)) != PT_OK ||
	    pt_json_set(o, "room", pt_json_new_int(st->room == UINT64_MAX ? -1 :
	    (int64_t)st->room)) != PT_OK) {
		pt_json_put(o);
		return NULL;
	}
	return o;
}

/*
 * GET /healthz: what a sender would get now.  200 {"status": "ok", "store":
 * use}; 503 with {"status", "error", "message", "store"} when the store is
 * unavailable (not open: "store" is null), read-only, or full: less room
 * than an event's write needs (the test the ingest path applies before it
 * runs handlers, pt_store_check_room), or a write of this process found
 * none and there is not an event's room more now than then -- room
 * counted is not always room LMDB can use, and a small write that still
 * fits says nothing about the next event.
 */
static int
healthz(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp)
{
	const struct pt_err_answer *ea = NULL;
	struct pt_store_stat st;
	pt_json *o = NULL, *use = NULL;
	const char *state = "ok", *code = NULL;
	char msg[400] = "";
	enum pt_err rc;
	int status = 200;

	if (ctx->store == NULL) {
		state = "unavailable";
		code = "store_unavailable";
		status = 503;
		/* The reason names paths and settings: for the log only. */
		pt_ctx_log(ctx, "store unavailable: %s", ctx->store_error ?
		    ctx->store_error : "(no reason)");
		snprintf(msg, sizeof(msg), "the store cannot be opened; the "
		    "responder's log says why");
		pt_resp_header(resp, "Retry-After", STORE_RETRY_AFTER);
	} else if ((rc = pt_store_stat(ctx->store, &st)) != PT_OK)
		return store_failure(ctx, req, resp, rc, "reading the store's "
		    "use");
	else if (st.read_only) {
		state = "read_only";
		code = "store_read_only";
		status = 503;
		snprintf(msg, sizeof(msg), "the store is open read-only: no "
		    "webhook can be recorded");
	} else if ((rc = pt_store_check_room(ctx->store, EVENT_ROOM)) != PT_OK ||
	    (st.room_at_full != UINT64_MAX &&
	    st.room < st.room_at_full + EVENT_ROOM)) {
		ea = pt_err_answer(PT_EFULL);
		state = "full";
		code = ea->code;
		status = ea->status;
		snprintf(msg, sizeof(msg), "the store is full: webhooks are "
		    "refused %d %s (%s)", ea->status, ea->code, rc != PT_OK ?
		    pt_store_errstr() : "a write found no room, and there is "
		    "not an event's more now");
		if (ea->retry_after != NULL)
			pt_resp_header(resp, "Retry-After", ea->retry_after);
	}
	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_set(o, "status", pt_json_new_cstr(state)) != PT_OK ||
	    (code != NULL && (pt_json_set(o, "error", pt_json_new_cstr(code)) !=
	    PT_OK || pt_json_set(o, "message", pt_json_new_cstr(msg)) !=
	    PT_OK)) ||
	    (ctx->store != NULL && (use = store_use(&st)) == NULL) ||
	    (use != NULL ? pt_json_set(o, "store", use) :
	    pt_json_set_null(o, "store")) != PT_OK) {
		pt_json_put(o);
		return reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
	}
	/* Unhealthy is worth a line in the log; a probe's 200 is not. */
	if (code != NULL)
		pt_ctx_log(ctx, "%d %s %s %s: %s", status, code, req->method ?
		    req->method : "-", req->request_uri ? req->request_uri :
		    "/healthz", msg);
	resp->status = status;
	resp->content_type = "application/json";
	pt_buf_reset(&resp->body);
	if (pt_json_write(&resp->body, o, PT_JSON_PLAIN) != PT_OK ||
	    pt_buf_addc(&resp->body, '\n') != PT_OK) {
		pt_json_put(o);
		return reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
	}
	pt_json_put(o);
	return status;
}

int
pt_handle(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp)
{
	struct pt_buf route = { 0 };
	const char *method = req->method ? req->method : "";
	const char *p, *endpoint;
	enum pt_err rc;
	/*
	 * Refusals count in porter_requests_refused_total unless an event
	 * was logged (it counts in porter_events_total then); health
	 * answers and the admin API are not webhooks refused.
	 */
	int status, logged = 0, refusal = 1;

	memset(resp, 0, sizeof(*resp));
	if ((rc = pt_req_route(req, &route)) != PT_OK) {
		status = rc == PT_ENOMEM ? reject(ctx, req, resp, 500,
		    "internal_error", "out of memory") : reject(ctx, req, resp,
		    404, "not_found", "no such resource");
		goto out;
	}
	p = route.data;
	if (strcmp(p, "/healthz") == 0) {
		refusal = 0;
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			pt_resp_header(resp, "Allow", "GET, HEAD");
			status = reject(ctx, req, resp, 405,
			    "method_not_allowed", "use GET on /healthz");
			goto out;
		}
		status = healthz(ctx, req, resp);
		goto out;
	}
	if (ctx->store == NULL) {
		refusal = !pt_admin_owns(p);
		pt_resp_header(resp, "Retry-After", STORE_RETRY_AFTER);
		/* The reason names paths and settings: for the log only. */
		pt_ctx_log(ctx, "store unavailable: %s", ctx->store_error ?
		    ctx->store_error : "(no reason)");
		status = reject(ctx, req, resp, 503, "store_unavailable", "the "
		    "store cannot be opened; retry later");
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
		status = ingest(ctx, req, resp, endpoint, sub, &logged);
		pt_free(sub);
		goto out;
	}
	/* issue 6: admin API, console and metrics (admin.c). */
	if (pt_admin_owns(p)) {
		refusal = 0;
		status = pt_admin_handle(ctx, req, resp, p);
		goto out;
	}
	status = reject(ctx, req, resp, 404, "not_found", "no such resource");
out:
	if (refusal && status >= 400 && !logged)
		pt_metrics_refused(status);
	pt_buf_free(&route);
	return status;
}

void
pt_idle(struct pt_ctx *ctx)
{
	/* Once a second per process, whichever thread gets there. */
	static int64_t last_sync, last_flush;
	int64_t now, last;

	if (ctx->store == NULL)
		return;
	now = ctx->now();
	/* Refusals counted in the process join the store's counters. */
	last = __atomic_load_n(&last_flush, __ATOMIC_RELAXED);
	if (now - last >= 1000000 && __atomic_compare_exchange_n(&last_flush,
	    &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_metrics_flush(ctx->store, ctx->committer);
	if (ctx->cfg == NULL || ctx->cfg->durability != PT_DURABLE_RELAXED)
		return;
	last = __atomic_load_n(&last_sync, __ATOMIC_RELAXED);
	if (now - last >= 1000000 && __atomic_compare_exchange_n(&last_sync,
	    &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_store_sync(ctx->store);
}
