/*
 * test-handler.c - the request pipeline without a server: a table of bad
 * requests (status, error code, what got logged), good requests, and the
 * store filling up.
 */
#include "config.h"

#include <string.h>

#include "eventlog.h"
#include "handler.h"
#include "metrics.h"
#include "retention.h"
#include "sig.h"
#include "tap.h"
#include "testutil.h"
#include "timeutil.h"

#define PROD	"/receive/src_prod_tasks_0001"
#define DEV	"/receive/src_dev_tasks_0001"
#define KEY	"whsec-test-key-1"
#define OLDKEY	"expired-key-000"
#define JSON	"application/json"
#define FORMS	"/receive/src_form_tasks_0001"
#define FORM	"application/x-www-form-urlencoded"

static const char config_text[] =
    "{\"sources\":[{\"key\":\"tasks\",\"name\":\"Task app\",\"type\":\"custom\","
    "\"environments\":{"
    "\"production\":{\"endpoint_id\":\"src_prod_tasks_0001\",\"verify\":true,"
    "\"signing_keys\":[{\"secret\":\"" OLDKEY "\",\"expires_at\":"
    "\"2001-01-01T00:00:00Z\"},{\"secret\":\"" KEY "\"}],"
    "\"event_type_path\":\"body.event_type\","
    "\"timestamp_path\":\"body.occurred_at\",\"max_body_bytes\":4096},"
    "\"development\":{\"endpoint_id\":\"src_dev_tasks_0001\",\"verify\":false,"
    "\"signing_keys\":[{\"secret\":\"" KEY "\"}],"
    "\"event_type_path\":\"event_type\"},"
    "\"forms\":{\"endpoint_id\":\"src_form_tasks_0001\",\"verify\":false,"
    "\"body_formats\":[\"form\"],\"event_type_path\":\"event_type\"},"
    "\"fbatch\":{\"endpoint_id\":\"src_fbat_tasks_0001\",\"verify\":false,"
    "\"body_formats\":[\"form\"],\"form_json_fields\":[\"batch\"],"
    "\"batch_path\":\"body.batch\",\"event_type_path\":\"type\"}}}]}";

static const char good[] = "{\"event_type\":\"task.assigned\",\"event_id\":"
    "\"e1\",\"occurred_at\":\"2026-11-23T10:15:00Z\",\"data\":{\"task_id\":"
    "\"task_123\",\"assigned_to\":\"user_456\",\"assigned_by\":\"user_789\"}}";

/* Signature choices for a case. */
#define SIG_NONE	NULL
#define SIG_GOOD	"good"		/* correct hex HMAC of the body */
#define SIG_UPPER	"upper"		/* correct, but upper-case hex */
#define SIG_OLDKEY	"oldkey"	/* made with the expired key */

struct rcase {
	const char	*desc;
	const char	*method;
	const char	*path;
	const char	*ctype;
	const char	*clen;		/* NULL: none; "auto": body length */
	const char	*body;
	size_t		 body_len;	/* 0: strlen(body) */
	size_t		 avail;		/* bytes the client sends; 0 = all */
	const char	*sig;
	int		 status;
	const char	*code;		/* error code, or the 200 status */
	const char	*logged;	/* event log status; NULL: not logged */
	const char	*reason;	/* verification reason logged */
};

static char deep_body[2100];

static const struct rcase bad[] = {
	{ "GET on an endpoint", "GET", PROD, JSON, "auto", good, 0, 0, SIG_GOOD,
	  405, "method_not_allowed", NULL, NULL },
	{ "PUT on an endpoint", "PUT", PROD, JSON, "auto", good, 0, 0, SIG_GOOD,
	  405, "method_not_allowed", NULL, NULL },
	{ "unknown endpoint", "POST", "/receive/src_nope_nope_nope", JSON, "auto",
	  good, 0, 0, SIG_GOOD, 404, "unknown_endpoint", NULL, NULL },
	{ "unknown route", "POST", "/nope", JSON, "auto", good, 0, 0, SIG_GOOD,
	  404, "not_found", NULL, NULL },
	{ "empty endpoint id", "POST", "/receive/", JSON, "auto", good, 0, 0,
	  SIG_GOOD, 404, "not_found", NULL, NULL },
	{ "endpoint with a sub-path", "POST", PROD "/x", JSON, "auto", good, 0,
	  0, SIG_GOOD, 404, "not_found", NULL, NULL },
	{ "missing Content-Length", "POST", PROD, JSON, NULL, good, 0, 0,
	  SIG_GOOD, 411, "length_required", NULL, NULL },
	{ "negative Content-Length", "POST", PROD, JSON, "-1", good, 0, 0,
	  SIG_GOOD, 411, "length_required", NULL, NULL },
	{ "non-numeric Content-Length", "POST", PROD, JSON, "12abc", good, 0, 0,
	  SIG_GOOD, 411, "length_required", NULL, NULL },
	{ "overflowing Content-Length", "POST", PROD, JSON,
	  "99999999999999999999999", good, 0, 0, SIG_GOOD, 411,
	  "length_required", NULL, NULL },
	{ "huge Content-Length", "POST", PROD, JSON, "17000000", good, 0, 0,
	  SIG_GOOD, 413, "body_too_large", NULL, NULL },
	{ "above max_body_bytes", "POST", PROD, JSON, "4097", good, 0, 0,
	  SIG_GOOD, 413, "body_too_large", NULL, NULL },
	{ "short body", "POST", PROD, JSON, "auto", good, 0, 20, SIG_GOOD, 400,
	  "incomplete_body", NULL, NULL },
	{ "wrong content type", "POST", PROD, "text/plain", "auto", good, 0, 0,
	  SIG_GOOD, 415, "unsupported_media_type", NULL, NULL },
	{ "form content type", "POST", PROD,
	  "application/x-www-form-urlencoded", "auto", good, 0, 0, SIG_GOOD, 415,
	  "unsupported_media_type", NULL, NULL },
	{ "no content type", "POST", PROD, NULL, "auto", good, 0, 0, SIG_GOOD,
	  415, "unsupported_media_type", NULL, NULL },
	{ "missing signature", "POST", PROD, JSON, "auto", good, 0, 0, SIG_NONE,
	  401, "invalid_signature", "rejected", "missing_signature" },
	{ "odd-length signature", "POST", PROD, JSON, "auto", good, 0, 0, "abc",
	  401, "invalid_signature", "rejected", "malformed_signature" },
	{ "non-hex signature", "POST", PROD, JSON, "auto", good, 0, 0,
	  "zz3aa2f5fb5c0a4b49dd0c8e1fbdbf2a5b1b7e7a5a1b8bb6e3e1f8d2e0e7c5d1",
	  401, "invalid_signature", "rejected", "malformed_signature" },
	{ "wrong key", "POST", PROD, JSON, "auto", good, 0, 0,
	  "3b1d1e3c7e9f0d6a2b4c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b",
	  401, "invalid_signature", "rejected", "no_matching_key" },
	{ "expired key", "POST", PROD, JSON, "auto", good, 0, 0, SIG_OLDKEY, 401,
	  "invalid_signature", "rejected", "key_expired" },
	{ "empty body", "POST", DEV, JSON, "0", "", 0, 0, SIG_NONE, 400,
	  "empty_body", "invalid", NULL },
	{ "invalid JSON", "POST", DEV, JSON, "auto", "{\"a\" 1}", 0, 0, SIG_NONE,
	  400, "invalid_json", "invalid", NULL },
	{ "truncated JSON", "POST", DEV, JSON, "auto", "{\"event_type\":\"x\"", 0,
	  0, SIG_NONE, 400, "invalid_json", "invalid", NULL },
	{ "JSON not an object", "POST", DEV, JSON, "auto", "[1,2,3]", 0, 0,
	  SIG_NONE, 400, "not_an_object", "invalid", NULL },
	{ "JSON string", "POST", DEV, JSON, "auto", "\"task.assigned\"", 0, 0,
	  SIG_NONE, 400, "not_an_object", "invalid", NULL },
	{ "nested 1000 deep", "POST", DEV, JSON, "auto", deep_body, 0, 0,
	  SIG_NONE, 400, "too_deep", "invalid", NULL },
	{ "invalid UTF-8", "POST", DEV, JSON, "auto", "{\"a\":\"\xc3\x28\"}", 0, 0,
	  SIG_NONE, 400, "invalid_utf8", "invalid", NULL },
	{ "NUL byte", "POST", DEV, JSON, "auto", "{\"a\":\"x\0y\"}", 11, 0,
	  SIG_NONE, 400, "invalid_json", "invalid", NULL },
	{ "duplicate keys", "POST", DEV, JSON, "auto",
	  "{\"event_type\":\"a\",\"event_type\":\"b\"}", 0, 0, SIG_NONE, 400,
	  "duplicate_key", "invalid", NULL },
	{ "trailing garbage", "POST", DEV, JSON, "auto", "{} x", 0, 0, SIG_NONE,
	  400, "invalid_json", "invalid", NULL },
	{ "JSON to a form-only endpoint", "POST", FORMS, JSON, "auto", good, 0,
	  0, SIG_NONE, 415, "unsupported_media_type", NULL, NULL },
	{ "no content type to a form-only endpoint", "POST", FORMS, NULL,
	  "auto", "event_type=x", 0, 0, SIG_NONE, 415, "unsupported_media_type",
	  NULL, NULL },
	{ "form with a bad %-escape", "POST", FORMS, FORM, "auto",
	  "event_type=task%2Gassigned", 0, 0, SIG_NONE, 400, "invalid_form",
	  "invalid", NULL },
	{ "form with invalid UTF-8", "POST", FORMS, FORM, "auto",
	  "event_type=caf%E9", 0, 0, SIG_NONE, 400, "invalid_utf8", "invalid",
	  NULL },
	{ "form with a NUL in a name", "POST", FORMS, FORM, "auto",
	  "event%00type=x", 0, 0, SIG_NONE, 400, "invalid_form", "invalid",
	  NULL },
	{ "signed, then tampered", "POST", PROD, JSON, "auto", good, 0, 0,
	  "tamper", 401, "invalid_signature", "rejected", "no_matching_key" },
	{ "POST on healthz", "POST", "/healthz", JSON, "auto", good, 0, 0,
	  SIG_NONE, 405, "method_not_allowed", NULL, NULL },
};

static const struct rcase fine[] = {
	{ "signed event", "POST", PROD, JSON, "auto", good, 0, 0, SIG_GOOD, 200,
	  "no_mapping", "no_mapping", NULL },
	{ "upper-case hex signature", "POST", PROD, JSON, "auto", good, 0, 0,
	  SIG_UPPER, 200, "no_mapping", "no_mapping", NULL },
	{ "JSON with charset", "POST", PROD, "application/json; charset=utf-8",
	  "auto", good, 0, 0, SIG_GOOD, 200, "no_mapping", "no_mapping", NULL },
	{ "+json content type", "POST", DEV, "application/cloudevents+json",
	  "auto", good, 0, 0, SIG_NONE, 200, "no_mapping", "no_mapping", NULL },
	{ "unsigned, not enforced", "POST", DEV, JSON, "auto", good, 0, 0,
	  SIG_NONE, 200, "no_mapping", "no_mapping", "missing_signature" },
	{ "bad signature, not enforced", "POST", DEV, JSON, "auto", good, 0, 0,
	  "3b1d1e3c7e9f0d6a2b4c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b",
	  200, "no_mapping", "no_mapping", "no_matching_key" },
	{ "no event type", "POST", DEV, JSON, "auto", "{\"kind\":\"x\"}", 0, 0,
	  SIG_NONE, 200, "no_event_type", "no_event_type", "missing_signature" },
	{ "exactly max_body_bytes", "POST", PROD, JSON, "auto", NULL, 4096, 0,
	  SIG_GOOD, 200, "no_mapping", "no_mapping", NULL },
	{ "form event", "POST", FORMS, FORM, "auto",
	  "event_type=task.assigned&task_id=task_123", 0, 0, SIG_NONE, 200,
	  "no_mapping", "no_mapping", "missing_signature" },
	{ "form with a charset", "POST", FORMS, FORM "; charset=UTF-8", "auto",
	  "event_type=task.assigned", 0, 0, SIG_NONE, 200, "no_mapping",
	  "no_mapping", NULL },
	{ "empty form", "POST", FORMS, FORM, "0", "", 0, 0, SIG_NONE, 200,
	  "no_event_type", "no_event_type", NULL },
};

/* Newest event in the log (meta copied), or NULL; count of events. */
struct newest {
	pt_json	*meta;
	char	*body;
	size_t	 body_len;
};

static int
take_newest(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t len)
{
	struct newest *n = arg;

	(void)id;
	n->meta = pt_json_ref(meta);
	n->body = malloc(len + 1);
	memcpy(n->body, body, len);
	n->body_len = len;
	return 1;
}

static void
newest(struct pt_store *s, struct newest *n)
{
	struct pt_log_query q;
	struct pt_txn *t;

	memset(&q, 0, sizeof(q));
	memset(n, 0, sizeof(*n));
	q.limit = 1;
	q.want_body = 1;
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_eventlog_query(t, &q, take_newest, n);
	pt_txn_abort(t);
}

static uint64_t
count_events(struct pt_store *s)
{
	struct pt_store_stat st;

	pt_store_stat(s, &st);
	return st.entries[PT_T_EVENTS];
}

static void
hmac_hex(const char *key, const char *body, size_t len, char out[65])
{
	struct pt_iov iov = { body, len };
	uint8_t mac[32];

	pt_mac(PT_MAC_HMAC_SHA256, (const uint8_t *)key, strlen(key), &iov, 1,
	    mac);
	pt_hex_encode(mac, 32, out);
	out[64] = '\0';
}

/* Run one case; returns the response status. */
static int
run(struct pt_ctx *ctx, const struct rcase *c, struct pt_resp *resp,
    const char *mount_prefix)
{
	struct pt_header hdrs[4];
	struct tu_body body;
	struct pt_req req;
	char sig[65], clen[32], uri[256];
	const char *b = c->body;
	size_t len = c->body_len ? c->body_len : (b ? strlen(b) : 0), nh = 0;
	static char filler[4096];

	if (b == NULL) {
		/* A valid object of exactly "len" bytes. */
		memset(filler, ' ', sizeof(filler));
		memcpy(filler, "{\"event_type\":\"big\"}", 20);
		b = filler;
	}
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	snprintf(uri, sizeof(uri), "%s%s", mount_prefix, c->path);
	req.request_uri = uri;
	if (mount_prefix[0] != '\0')
		req.mount = mount_prefix;
	else
		req.path_info = c->path;
	req.content_type = c->ctype;
	if (c->clen && strcmp(c->clen, "auto") == 0) {
		snprintf(clen, sizeof(clen), "%zu", len);
		req.content_length = clen;
	} else
		req.content_length = c->clen;
	if (c->sig != NULL) {
		if (strcmp(c->sig, SIG_GOOD) == 0 || strcmp(c->sig, "tamper") ==
		    0 || strcmp(c->sig, SIG_UPPER) == 0)
			hmac_hex(KEY, strcmp(c->sig, "tamper") == 0 ?
			    "{\"other\":1}" : b, strcmp(c->sig, "tamper") == 0 ?
			    11 : len, sig);
		else if (strcmp(c->sig, SIG_OLDKEY) == 0)
			hmac_hex(OLDKEY, b, len, sig);
		else
			snprintf(sig, sizeof(sig), "%s", c->sig);
		if (strcmp(c->sig, SIG_UPPER) == 0) {
			char *p;

			for (p = sig; *p; p++)
				if (*p >= 'a' && *p <= 'f')
					*p = (char)(*p - 32);
		}
		hdrs[nh].name = "x-knock-signature";
		hdrs[nh].value = sig;
		hdrs[nh++].value_len = strlen(sig);
	}
	hdrs[nh].name = "user-agent";
	hdrs[nh].value = "test-handler/1";
	hdrs[nh++].value_len = 14;
	hdrs[nh].name = "authorization";
	hdrs[nh].value = "Bearer very-secret";
	hdrs[nh++].value_len = 18;
	req.headers = hdrs;
	req.nheaders = nh;
	body.data = b;
	body.len = c->avail ? c->avail : len;
	body.pos = 0;
	body.chunk = 0;
	req.read_body = tu_read;
	req.read_arg = &body;
	return pt_handle(ctx, &req, resp);
}

static void
check(struct pt_ctx *ctx, struct pt_store *s, const struct rcase *c,
    const char *mount)
{
	struct pt_resp resp;
	struct pt_json_error je;
	struct newest n;
	pt_json *rb = NULL;
	uint64_t before = count_events(s);
	const char *code;
	size_t len = c->body_len ? c->body_len : (c->body ? strlen(c->body) : 0);
	int status;

	pt_buf_reset(&tu_log);
	status = run(ctx, c, &resp, mount);
	pt_json_parse(resp.body.data, resp.body.len, 64, &rb, &je);
	code = pt_json_str(pt_json_get(rb, status == 200 ? "status" : "error"),
	    NULL);
	ok(status == c->status && code && strcmp(code, c->code) == 0,
	    "%s%s: %d %s", mount[0] ? "[mounted] " : "", c->desc, c->status,
	    c->code);
	if (status != c->status || !code || strcmp(code, c->code) != 0)
		diag("got %d %s", status, resp.body.data);
	if (status != 200)
		ok(pt_json_str(pt_json_get(rb, "message"), NULL) != NULL &&
		    strstr(tu_log.data ? tu_log.data : "", c->code) != NULL,
		    "  ... has a message and an operational log line");
	if (c->logged == NULL) {
		is_int(count_events(s), before, "  ... nothing in the event log");
	} else {
		newest(s, &n);
		ok(count_events(s) == before + 1 && n.meta &&
		    strcmp(pt_json_str(pt_json_get(n.meta, "status"), NULL),
		    c->logged) == 0, "  ... logged as %s", c->logged);
		if (c->reason)
			is_str(pt_json_str(pt_json_get(pt_json_get(n.meta,
			    "verification"), "reason"), NULL), c->reason,
			    "  ... with verification reason");
		if (c->body)
			ok(n.body_len == len && memcmp(n.body, c->body, len) == 0,
			    "  ... with the raw body as received");
		is_str(pt_json_str(pt_json_get(pt_json_get(n.meta, "headers"),
		    "authorization"), NULL), "[redacted]",
		    "  ... authorization redacted");
		if (status == 200)
			ok(strcmp(pt_json_str(pt_json_get(rb, "id"), NULL),
			    pt_json_str(pt_json_get(n.meta, "id"), NULL)) == 0,
			    "  ... response id is the logged id");
		pt_json_put(n.meta);
		free(n.body);
	}
	pt_json_put(rb);
	pt_resp_free(&resp);
}

/*
 * porter_requests_refused_total{status="<status>"} in the metrics, or -1
 * when the series is not there.
 */
static long long
refused(struct pt_store *s, int status)
{
	struct pt_buf b = { 0 };
	char series[80];
	const char *p;
	long long n = -1;

	snprintf(series, sizeof(series),
	    "\nporter_requests_refused_total{status=\"%d\"} ", status);
	if (pt_metrics_flush(s, NULL) == PT_OK &&
	    pt_metrics_render(s, 0, &b) == PT_OK && b.data != NULL &&
	    (p = strstr(b.data, series)) != NULL)
		n = strtoll(p + strlen(series), NULL, 10);
	pt_buf_free(&b);
	return n;
}

/*
 * After the "n" cases "c" ran on a fresh store: each refusal that logged
 * no event counted once in porter_requests_refused_total, by status (a
 * logged one counts as an event; /healthz answers are no webhooks
 * refused), and nothing else did.
 */
static void
refusals_counted(struct pt_store *s, const struct rcase *c, size_t n)
{
	long long want, got;
	size_t i, j;

	for (j = 0; j < n; j++) {
		/* Each status once, at its first case. */
		for (i = 0; i < j && c[i].status != c[j].status; i++)
			continue;
		if (i < j)
			continue;
		want = 0;
		for (i = 0; i < n; i++)
			want += c[i].status == c[j].status && c[i].logged == NULL &&
			    strcmp(c[i].path, "/healthz") != 0;
		got = refused(s, c[j].status);
		is_int(got < 0 ? 0 : got, want, "refused %d: counted once per "
		    "refusal that logged no event", c[j].status);
	}
}

/* One small record in its own write. */
static enum pt_err
put_small(struct pt_store *s)
{
	struct pt_txn *t;
	enum pt_err rc;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &t)) != PT_OK)
		return rc;
	if ((rc = pt_put(t, PT_T_AUX, "small", 5, "1", 1, 0)) != PT_OK) {
		pt_txn_abort(t);
		return rc;
	}
	return pt_txn_commit(t);
}

/*
 * Data no retention deletes (8 KB user records) until the store has no
 * room for more (as writes of the responder check it: pt_store_room
 * keeps the pages deletes need): what is left when every log has gone.
 * How many went in.
 */
static int
fill_with_data(struct pt_store *s)
{
	static char val[8000];
	struct pt_txn *t;
	char key[32];
	int n;

	memset(val, 'd', sizeof(val));
	for (n = 0; n < 10000 && pt_store_room(s) > 2 * sizeof(val); n++) {
		if (pt_txn_begin(s, NULL, PT_TXN_WRITE, &t) != PT_OK)
			break;
		snprintf(key, sizeof(key), "fill%06d", n);
		if (pt_put(t, PT_T_USERS, key, strlen(key), val, sizeof(val),
		    0) != PT_OK) {
			pt_txn_abort(t);
			break;
		}
		if (pt_txn_commit(t) != PT_OK)
			break;
	}
	return n;
}

/* GET /healthz: the status; *doc gets the parsed body (put it). */
static int
health(struct pt_ctx *ctx, pt_json **doc, int *retry_after)
{
	struct pt_json_error je;
	struct pt_resp resp;
	struct pt_req r;
	size_t i;
	int st;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path_info = "/healthz";
	st = pt_handle(ctx, &r, &resp);
	*doc = NULL;
	if (pt_json_parse(resp.body.data, resp.body.len, 64, doc, &je) != PT_OK)
		diag("healthz body: %s", resp.body.data);
	*retry_after = 0;
	for (i = 0; i < resp.nheaders; i++)
		if (strcmp(resp.headers[i].name, "Retry-After") == 0)
			*retry_after = atoi(resp.headers[i].value);
	pt_resp_free(&resp);
	return st;
}

/* Is "doc" a health answer with the store's use (or "store": null)? */
static int
health_shape(pt_json *doc, const char *state, const char *code, int use)
{
	pt_json *st = pt_json_get(doc, "store");
	const char *s = pt_json_str(pt_json_get(doc, "status"), NULL);
	const char *e = pt_json_str(pt_json_get(doc, "error"), NULL);

	if (s == NULL || strcmp(s, state) != 0)
		return 0;
	if (code != NULL && (e == NULL || strcmp(e, code) != 0 ||
	    pt_json_str(pt_json_get(doc, "message"), NULL) == NULL))
		return 0;
	if (!use)
		return pt_json_type(st) == PT_J_NULL;
	return pt_json_int(pt_json_get(st, "map_size")) > 0 &&
	    pt_json_int(pt_json_get(st, "used")) > 0 &&
	    pt_json_get(st, "map_used_percent") != NULL &&
	    pt_json_get(st, "room") != NULL;
}

int
main(void)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	struct newest n;
	struct pt_resp resp;
	const char *err;
	char *dir = tu_tmpdir(), path[600];
	size_t i;

	/* {"a":[[[ ... ]]]}: an object holding 1000 nested arrays. */
	memcpy(deep_body, "{\"a\":", 5);
	for (i = 0; i < 1000; i++) {
		deep_body[5 + i] = '[';
		deep_body[5 + 1000 + i] = ']';
	}
	deep_body[2005] = '}';
	deep_body[2006] = '\0';

	snprintf(path, sizeof(path), "%s/db", dir);
	s = tu_store(path, 0);
	err = tu_apply(s, config_text);
	ok(err == NULL, "config applies (%s)", err ? err : "");
	pt_ctx_init(&ctx, s);
	ctx.log = tu_capture;

	for (i = 0; i < nitems(bad); i++)
		check(&ctx, s, &bad[i], "");
	refusals_counted(s, bad, nitems(bad));
	for (i = 0; i < nitems(fine); i++)
		check(&ctx, s, &fine[i], "");
	/* The same through a mount prefix with no PATH_INFO. */
	check(&ctx, s, &fine[0], "/porter");
	check(&ctx, s, &bad[2], "/porter");

	/* Identification details on the newest good event. */
	check(&ctx, s, &fine[0], "");
	newest(s, &n);
	is_str(pt_json_str(pt_json_get(n.meta, "event_type"), NULL),
	    "task.assigned", "event type from event_type_path");
	is_str(pt_json_str(pt_json_get(n.meta, "event_time"), NULL),
	    "2026-11-23T10:15:00.000000Z", "event time from timestamp_path");
	is_str(pt_json_str(pt_json_get(pt_json_get(n.meta, "verification"),
	    "status"), NULL), "enforced:verified", "verification status");
	is_str(pt_json_str(pt_json_get(pt_json_get(n.meta, "headers"),
	    "user-agent"), NULL), "test-handler/1", "user agent kept");
	pt_json_put(n.meta);
	free(n.body);

	/*
	 * A form where only JSON is taken: the answer says how to opt in.
	 * A form event's fields are body.* paths, and its replay parses the
	 * logged body as a form again.
	 */
	{
		static const struct rcase c = { "form to a JSON endpoint", "POST",
		    PROD, FORM, "auto", "event_type=x", 0, 0, SIG_NONE, 415,
		    "unsupported_media_type", NULL, NULL };
		static const struct rcase f = { "form event", "POST", FORMS,
		    FORM, "auto", "event_type=task+assigned&a=%C3%A9&a=2", 0, 0,
		    SIG_NONE, 200, "no_mapping", "no_mapping", NULL };
		char id[PT_ID_MAX];
		int st;

		st = run(&ctx, &c, &resp, "");
		ok(st == 415 && strstr(resp.body.data,
		    "add \\\"form\\\" to the environment's \\\"body_formats\\\"") !=
		    NULL, "415 for a form says how to opt in: %s",
		    resp.body.data);
		pt_resp_free(&resp);
		check(&ctx, s, &f, "");
		newest(s, &n);
		is_str(pt_json_str(pt_json_get(n.meta, "event_type"), NULL),
		    "task assigned", "form: the event type from a decoded field");
		snprintf(id, sizeof(id), "%s", pt_json_str(pt_json_get(n.meta,
		    "id"), NULL));
		pt_json_put(n.meta);
		free(n.body);
		st = pt_replay(&ctx, id, "test", 0, &resp);
		ok(st == 200 && strstr(resp.body.data, "\"task assigned\"") !=
		    NULL, "a form event replays: %s", resp.body.data);
		pt_resp_free(&resp);
		newest(s, &n);
		is_str(pt_json_str(pt_json_get(n.meta, "replay_of"), NULL), id,
		    "  ... as a new event of the same type");
		is_str(pt_json_str(pt_json_get(n.meta, "event_type"), NULL),
		    "task assigned", "  ... typed from the form again");
		pt_json_put(n.meta);
		free(n.body);
	}

	/* A batch in a form's JSON field: each element is a JSON event. */
	{
		static const struct rcase c = { "form batch", "POST",
		    "/receive/src_fbat_tasks_0001", FORM, "auto",
		    "batch=%5B%7B%22type%22%3A%22a%22%7D%2C%7B%22type%22%3A"
		    "%22b%22%7D%5D", 0, 0, SIG_NONE, 200, "?", NULL, NULL };
		char id[PT_ID_MAX];
		int st;

		st = run(&ctx, &c, &resp, "");
		ok(st == 200 && strstr(resp.body.data, "\"count\": 2") != NULL,
		    "a form's JSON batch: 2 events (%s)", resp.body.data);
		pt_resp_free(&resp);
		newest(s, &n);
		is_str(pt_json_str(pt_json_get(n.meta, "body_format"), NULL),
		    "json", "  ... an element is logged as JSON");
		snprintf(id, sizeof(id), "%s", pt_json_str(pt_json_get(n.meta,
		    "id"), NULL));
		pt_json_put(n.meta);
		free(n.body);
		st = pt_replay(&ctx, id, "test", 0, &resp);
		ok(st == 200 && strstr(resp.body.data, "\"b\"") != NULL,
		    "  ... and replays as JSON: %s", resp.body.data);
		pt_resp_free(&resp);
	}

	/* An unreadable timestamp is a warning, not a failure. */
	{
		static const struct rcase c = { "bad timestamp", "POST", PROD, JSON,
		    "auto", "{\"event_type\":\"t\",\"occurred_at\":\"yesterday\"}",
		    0, 0, SIG_GOOD, 200, "no_mapping", "no_mapping", NULL };
		pt_json *w;

		check(&ctx, s, &c, "");
		newest(s, &n);
		w = pt_json_get(n.meta, "warnings");
		ok(pt_json_len(w) == 1 && strstr(pt_json_str(pt_json_index(w, 0),
		    NULL), "unreadable timestamp at body.occurred_at") != NULL,
		    "warning recorded: %s", pt_json_str(pt_json_index(w, 0),
		    NULL));
		pt_json_put(n.meta);
		free(n.body);
	}
	{
		static const struct rcase c = { "numeric event type", "POST", DEV,
		    JSON, "auto", "{\"event_type\":42}", 0, 0, SIG_NONE, 200,
		    "no_mapping", "no_mapping", NULL };

		check(&ctx, s, &c, "");
		newest(s, &n);
		is_str(pt_json_str(pt_json_get(n.meta, "event_type"), NULL), "42",
		    "numbers become text");
		pt_json_put(n.meta);
		free(n.body);
	}

	/* healthz */
	{
		pt_json *h;
		int ra;

		ok(health(&ctx, &h, &ra) == 200 && health_shape(h, "ok", NULL,
		    1) && pt_json_int(pt_json_get(pt_json_get(h, "store"),
		    "map_size")) == 4LL << 30,
		    "healthz answers 200 with the store's use");
		pt_json_put(h);
	}

	/* A config change is picked up at the next request, no restart. */
	err = tu_apply(s, "{\"sources\":[]}");
	ok(err == NULL, "re-apply with no sources");
	pt_buf_reset(&tu_log);
	ok(run(&ctx, &fine[0], &resp, "") == 404, "removed endpoint is 404 at "
	    "once");
	pt_resp_free(&resp);
	pt_ctx_free(&ctx);
	pt_store_close(s);

	/*
	 * A store that reaches its ceiling: 503 store_full with Retry-After,
	 * data kept.  It starts at 192 KiB and grows itself to the 1 MiB of
	 * settings.max_store_bytes, and there the oldest logs go as it
	 * writes: every event is accepted.  Once data (which no retention
	 * deletes) fills it and no log is left, nothing may be deleted: 503.
	 */
	snprintf(path, sizeof(path), "%s/tiny", dir);
	s = tu_store(path, 192 * 1024);
	/* As the responder does (fcgi_main.c). */
	pt_store_set_make_room(s, pt_retention_make_room, NULL);
	{
		static char tiny[8192];

		snprintf(tiny, sizeof(tiny), "{\"settings\": "
		    "{\"max_store_bytes\": 1048576},%s", config_text + 1);
		err = tu_apply(s, tiny);
	}
	ok(err == NULL, "config applies to the tiny store");
	pt_ctx_init(&ctx, s);
	ctx.log = tu_capture;
	{
		static const struct rcase c = { "big", "POST", PROD, JSON, "auto",
		    NULL, 4000, 0, SIG_GOOD, 200, "no_mapping", "no_mapping", NULL };
		int st = 200, got503 = 0;
		uint64_t before;
		size_t k, j;

		for (k = 0; k < 1500 && st == 200; k++) {
			st = run(&ctx, &c, &resp, "");
			pt_resp_free(&resp);
		}
		is_int(k, 1500, "at its ceiling every event is accepted");
		ok(count_events(s) < 1500 && tu_entries(s, PT_T_BODIES) ==
		    count_events(s), "  ... the oldest event logs went (%zu "
		    "kept), each with its body", (size_t)count_events(s));
		/* No log left (all pruned), and data fills the rest. */
		{
			struct pt_retention_stats rs;
			struct pt_txn *t;

			memset(&rs, 0, sizeof(rs));
			pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
			ok(pt_retention_prune(t, pt_now_us() + 86400000000LL * 2,
			    1, 0, &rs) == PT_OK && pt_txn_commit(t) == PT_OK &&
			    count_events(s) == 0, "every log pruned");
		}
		ok(fill_with_data(s) > 0, "data fills the rest");
		for (k = 0; k < 3000 && st == 200; k++) {
			st = run(&ctx, &c, &resp, "");
			if (st == 503) {
				got503 = 1;
				ok(strstr(resp.body.data, "store_full") != NULL,
				    "503 store_full after %zu events", k);
				for (j = 0; j < resp.nheaders; j++)
					if (strcmp(resp.headers[j].name,
					    "Retry-After") == 0)
						break;
				ok(j < resp.nheaders, "503 carries Retry-After");
			}
			pt_resp_free(&resp);
		}
		ok(got503, "with no log left to delete, the store filled up");
		before = count_events(s);
		is_int(before, 0, "  ... only once no event log was left to "
		    "delete");
		st = run(&ctx, &c, &resp, "");
		pt_resp_free(&resp);
		ok(st == 503 && count_events(s) == before,
		    "still full: still 503, nothing half-written");
		/* Health says what the sender just got. */
		{
			pt_json *h;
			int ra;

			st = health(&ctx, &h, &ra);
			ok(st == 503 && ra > 0 && health_shape(h, "full",
			    "store_full", 1) &&
			    pt_json_int(pt_json_get(pt_json_get(h, "store"),
			    "map_size")) > 192 * 1024 &&
			    pt_json_int(pt_json_get(pt_json_get(h, "store"),
			    "map_size")) <= 1048576,
			    "healthz with the store full: 503 store_full, "
			    "Retry-After, the store's use (grown, to its "
			    "ceiling at most)");
			if (st != 503)
				diag("healthz %d", st);
			pt_json_put(h);
			/* A small write that still fits changes nothing. */
			ok(put_small(s) == PT_OK, "a small write still fits");
			st = health(&ctx, &h, &ra);
			ok(st == 503 && health_shape(h, "full", "store_full", 1),
			    "  ... and healthz still says 503 store_full");
			pt_json_put(h);
		}
	}
	pt_ctx_free(&ctx);
	pt_store_close(s);

	/* A store open read-only cannot record a webhook: not healthy. */
	{
		struct pt_store_opts o = { 0 };
		char oerr[256];
		pt_json *h;
		int ra;

		o.read_only = 1;
		ok(pt_store_open(path, &o, &s, oerr, sizeof(oerr)) == PT_OK,
		    "the tiny store opens read-only");
		pt_ctx_init(&ctx, s);
		ctx.log = tu_capture;
		ok(health(&ctx, &h, &ra) == 503 && health_shape(h, "read_only",
		    "store_read_only", 1), "healthz on a read-only store: 503 "
		    "store_read_only");
		pt_json_put(h);
		pt_ctx_free(&ctx);
		pt_store_close(s);
	}

	/* No store at all (it did not open): 503 everywhere; why is logged. */
	{
		static const struct rcase c = { "no store", "POST", PROD, JSON,
		    "auto", "{}", 0, 0, SIG_GOOD, 503, "store_unavailable",
		    NULL, NULL };
		pt_json *h;
		int ra;

		pt_ctx_init(&ctx, NULL);
		ctx.log = tu_capture;
		ctx.store_error = "/x is world-writable";
		pt_buf_reset(&tu_log);
		ok(health(&ctx, &h, &ra) == 503 && ra > 0 && health_shape(h,
		    "unavailable", "store_unavailable", 0) &&
		    strstr(pt_json_str(pt_json_get(h, "message"), NULL),
		    "world-writable") == NULL && tu_log.data &&
		    strstr(tu_log.data, "503 store_unavailable") != NULL,
		    "healthz without a store: 503 store_unavailable, \"store\": "
		    "null, a log line, no path in the answer");
		pt_json_put(h);
		pt_buf_reset(&tu_log);
		ok(run(&ctx, &c, &resp, "") == 503 && strstr(resp.body.data,
		    "store_unavailable") && !strstr(resp.body.data,
		    "world-writable") && tu_log.data && strstr(tu_log.data,
		    "world-writable"), "a webhook without a store: 503 "
		    "store_unavailable, the reason in the log only");
		pt_resp_free(&resp);
		pt_ctx_free(&ctx);
	}
	pt_buf_free(&tu_log);
	tu_rmdir(dir);
	return tap_done();
}
