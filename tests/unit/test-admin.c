/*
 * test-admin.c - the admin API, console routes, /metrics, tokens and log
 * retention, through pt_handle() without a server: a table of routes x
 * tokens (none, wrong, malformed, revoked, read-only, full) x methods ->
 * statuses; the shape of every route's answer; cursor pagination and the
 * filters; token compares that fail on any changed byte; configuration
 * apply; and retention's bounded deletes with an injected clock.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "alloc.h"
#include "check.h"
#include "eventlog.h"
#include "handler.h"
#include "ids.h"
#include "metrics.h"
#include "retention.h"
#include "tap.h"
#include "timeutil.h"
#include "testutil.h"
#include "tokens.h"

#define DEV	"src_dev_admin_0001"
#define PROD	"src_prod_admin_0001"
#define SECRET	"admin-test-signing-secret"
#define JSON	"application/json"
#define DAY	(86400LL * 1000000)

static const char config_text[] =
    "{\"settings\":{\"log_retention_days\":7},"
    "\"sources\":[{\"key\":\"tasks\",\"name\":\"Task app\",\"type\":\"custom\","
    "\"environments\":{"
    "\"development\":{\"endpoint_id\":\"" DEV "\",\"verify\":false,"
    "\"event_type_path\":\"body.type\","
    "\"idempotency\":{\"enabled\":true,\"key_path\":\"body.id\"},"
    "\"mappings\":[{\"event_type\":\"task.assigned\",\"action\":"
    "\"users_identify\",\"params\":{\"id\":\"data.user\"}}]},"
    "\"production\":{\"endpoint_id\":\"" PROD "\",\"verify\":true,"
    "\"signing_keys\":[{\"secret\":\"" SECRET "\"}],"
    "\"event_type_path\":\"body.type\"}}}]}";

/* The injected clock (µs). */
static int64_t clock_us = 1795000000LL * 1000000;

static int64_t
fake_now(void)
{
	return clock_us;
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* One request; "token" NULL: no Authorization; "=..." a raw header. */
struct call {
	const char	*method;
	const char	*path;
	const char	*query;
	const char	*token;
	const char	*body;
	const char	*ctype;		/* NULL: JSON when there is a body */
	const char	*remote;	/* NULL: 192.0.2.1 */
	const char	*request_uri;
};

static int
call(struct pt_ctx *ctx, const struct call *c, struct pt_resp *resp)
{
	struct pt_header h[2];
	struct tu_body b;
	struct pt_req r;
	char auth[256], clen[32];
	size_t nh = 0;

	memset(&r, 0, sizeof(r));
	memset(&b, 0, sizeof(b));
	r.method = c->method;
	r.path_info = c->path;
	r.request_uri = c->request_uri;
	r.query = c->query;
	r.remote_addr = c->remote ? c->remote : "192.0.2.1";
	if (c->token != NULL) {
		if (c->token[0] == '=')
			snprintf(auth, sizeof(auth), "%s", c->token + 1);
		else
			snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		h[nh].name = "authorization";
		h[nh].value = auth;
		h[nh].value_len = strlen(auth);
		nh++;
	}
	if (c->body != NULL) {
		b.data = c->body;
		b.len = strlen(c->body);
		snprintf(clen, sizeof(clen), "%zu", b.len);
		r.content_length = clen;
		r.content_type = c->ctype ? c->ctype : JSON;
		r.read_body = tu_read;
		r.read_arg = &b;
	}
	r.headers = h;
	r.nheaders = nh;
	return pt_handle(ctx, &r, resp);
}

/* GET "path" with "token"; the parsed answer (a new reference) or NULL. */
static pt_json *
get_json(struct pt_ctx *ctx, const char *path, const char *query,
    const char *token, int *status)
{
	struct call c = { "GET", path, query, token, NULL, NULL, NULL, NULL };
	struct pt_resp resp;
	pt_json *j;

	*status = call(ctx, &c, &resp);
	j = pt_json_parse_trusted(resp.body.data ? resp.body.data : "",
	    resp.body.len);
	pt_resp_free(&resp);
	return j;
}

static const char *
jstr(const pt_json *o, const char *k)
{
	return pt_json_str(pt_json_get(o, k), NULL);
}

/* POST an event to the development endpoint; returns its id in "id". */
static int
ingest(struct pt_ctx *ctx, const char *type, const char *key, char *id)
{
	char body[512];
	struct call c = { "POST", "/receive/" DEV, NULL, NULL, body, NULL, NULL,
	    NULL };
	struct pt_resp resp;
	pt_json *j;
	int status;

	snprintf(body, sizeof(body), "{\"type\":\"%s\",\"id\":\"%s\",\"data\":"
	    "{\"user\":\"u-%s\"}}", type, key, key);
	status = call(ctx, &c, &resp);
	j = pt_json_parse_trusted(resp.body.data, resp.body.len);
	if (id != NULL)
		snprintf(id, PT_ID_MAX, "%s", jstr(j, "id") ? jstr(j, "id") : "");
	pt_json_put(j);
	pt_resp_free(&resp);
	return status;
}

static char full_tok[PT_TOKEN_LEN + 1], ro_tok[PT_TOKEN_LEN + 1];
static char revoked_tok[PT_TOKEN_LEN + 1];
static char first_id[PT_ID_MAX];
static char *export_text;

static void
setup_tokens(struct pt_store *s)
{
	struct pt_txn *txn;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	if (pt_token_create(txn, "full", 0, clock_us, full_tok) != PT_OK ||
	    pt_token_create(txn, "ro", PT_TOKEN_READ_ONLY, clock_us, ro_tok) !=
	    PT_OK ||
	    pt_token_create(txn, "gone", 0, clock_us, revoked_tok) != PT_OK ||
	    pt_token_revoke(txn, "gone") != PT_OK ||
	    pt_txn_commit(txn) != PT_OK)
		abort();
}

/* ------------------------------------------------------------- routes */

struct route_case {
	const char	*method;
	const char	*path;		/* "EVT" is replaced by first_id */
	const char	*body;		/* "EXPORT": the exported config */
	int		 anon;		/* no/wrong/malformed/revoked token */
	int		 ro;		/* read-only token */
	int		 full;		/* full token */
};

static const char rehearse_body[] = "{\"environment\":\"development\","
    "\"payload\":{\"body\":{\"type\":\"task.assigned\",\"data\":{\"user\":"
    "\"u1\"}}}}";

static const struct route_case routes[] = {
	{ "GET", "/admin/api/whoami", NULL, 401, 200, 200 },
	{ "HEAD", "/admin/api/whoami", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/status", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/sources", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/sources/tasks", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/sources/nope", NULL, 401, 404, 404 },
	{ "GET", "/admin/api/sources/tasks/status", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/sources/nope/status", NULL, 401, 404, 404 },
	{ "GET", "/admin/api/sources/tasks/events", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/sources/tasks/logs", NULL, 401, 200, 200 },
	{ "POST", "/admin/api/sources/tasks/rehearse", rehearse_body, 401, 200,
	  200 },
	{ "GET", "/admin/api/sources/tasks/rehearse", NULL, 401, 405, 405 },
	{ "GET", "/admin/api/event_types", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/logs", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/logs/EVT", NULL, 401, 200, 200 },
	{ "GET", "/admin/api/logs/evt_nope", NULL, 401, 400, 400 },
	{ "POST", "/admin/api/logs/EVT/replay", "", 401, 403, 200 },
	{ "GET", "/admin/api/logs/EVT/replay", NULL, 401, 405, 405 },
	{ "GET", "/admin/api/config", NULL, 401, 200, 200 },
	{ "PUT", "/admin/api/config", "EXPORT", 401, 403, 200 },
	{ "POST", "/admin/api/config", "EXPORT", 401, 405, 405 },
	{ "DELETE", "/admin/api/logs", NULL, 401, 405, 405 },
	{ "POST", "/admin/api/logs", "{}", 401, 405, 405 },
	{ "PUT", "/admin/api/whoami", "{}", 401, 405, 405 },
	{ "GET", "/admin/api/nope", NULL, 401, 404, 404 },
	{ "GET", "/admin/api", NULL, 401, 404, 404 },
	{ "GET", "/admin/api/", NULL, 401, 404, 404 },
	{ "GET", "/admin/api/logs/", NULL, 401, 404, 404 },
	{ "GET", "/admin/api//logs", NULL, 401, 404, 404 },
	/* Regression (fuzz-admin): an empty segment inside the path. */
	{ "GET", "/admin/api/sources//logs", NULL, 401, 404, 404 },
	{ "GET", "/admin/api/sources//status", NULL, 401, 404, 404 },
	{ "POST", "/admin/api/logs//replay", "", 401, 404, 404 },
	{ "GET", "/admin/api/logs/EVT/replay/x", NULL, 401, 404, 404 },
	{ "POST", "/admin/api/receive/" DEV, "{\"type\":\"x\"}", 401, 404, 404 },
	{ "GET", "/metrics", NULL, 401, 200, 200 },
	{ "POST", "/metrics", "{}", 401, 405, 405 },
	/* The console's files are public; nothing else is served. */
	{ "GET", "/admin/", NULL, 200, 200, 200 },
	{ "GET", "/admin/index.html", NULL, 200, 200, 200 },
	{ "GET", "/admin/app.js", NULL, 200, 200, 200 },
	{ "GET", "/admin/style.css", NULL, 200, 200, 200 },
	{ "GET", "/admin/favicon.svg", NULL, 200, 200, 200 },
	{ "GET", "/admin/../etc/passwd", NULL, 404, 404, 404 },
	{ "GET", "/admin/README", NULL, 404, 404, 404 },
	{ "POST", "/admin/", "{}", 405, 405, 405 },
	{ "GET", "/admin", NULL, 302, 302, 302 },
	/* No admin route on an ingest path, no ingest on an admin path. */
	{ "POST", "/receive/admin", "{\"type\":\"x\"}", 404, 404, 404 },
	{ "GET", "/receive/" DEV "/admin/api/whoami", NULL, 404, 404, 404 },
	{ "GET", "/adminx", NULL, 404, 404, 404 },
	{ "GET", "/metrics/x", NULL, 404, 404, 404 },
};

static void
test_routes(struct pt_ctx *ctx)
{
	const char *anon[] = { NULL, "ptk_00000000000000000000000000000000",
	    "=Basic b3BzOnNlY3JldA==", "=Bearer", "=bearer  ptk_x", "nope",
	    revoked_tok };
	char path[256];
	struct pt_resp resp;
	size_t i, j;
	int st;

	for (i = 0; i < nitems(routes); i++) {
		const struct route_case *rc = &routes[i];
		const char *p = strstr(rc->path, "EVT");
		struct call c = { rc->method, path, NULL, NULL, rc->body, NULL,
		    NULL, NULL };

		if (p != NULL)
			snprintf(path, sizeof(path), "%.*s%s%s", (int)(p -
			    rc->path), rc->path, first_id, p + 3);
		else
			snprintf(path, sizeof(path), "%s", rc->path);
		if (rc->body != NULL && strcmp(rc->body, "EXPORT") == 0)
			c.body = export_text;
		for (j = 0; j < nitems(anon); j++) {
			c.token = anon[j];
			st = call(ctx, &c, &resp);
			is_int(st, rc->anon, "%s %s, token %zu (no good token)",
			    rc->method, rc->path, j);
			if (st == 401 && j == 1)
				ok(strstr(resp.body.data, "\"unauthorized\"") &&
				    strcmp(resp.headers[0].name,
				    "WWW-Authenticate") == 0,
				    "%s %s: 401 says only unauthorized",
				    rc->method, rc->path);
			pt_resp_free(&resp);
		}
		c.token = ro_tok;
		is_int(call(ctx, &c, &resp), rc->ro, "%s %s, read-only token",
		    rc->method, rc->path);
		pt_resp_free(&resp);
		c.token = full_tok;
		is_int(call(ctx, &c, &resp), rc->full, "%s %s, full token",
		    rc->method, rc->path);
		pt_resp_free(&resp);
	}
}

/* 401s do not differ by why the token failed. */
static void
test_no_detail(struct pt_ctx *ctx)
{
	const char *toks[] = { NULL, "ptk_00000000000000000000000000000000",
	    revoked_tok, "=Basic eDp5" };
	struct call c = { "GET", "/admin/api/logs", NULL, NULL, NULL, NULL, NULL,
	    NULL };
	struct pt_resp resp;
	char first[256] = "";
	size_t i;

	for (i = 0; i < nitems(toks); i++) {
		c.token = toks[i];
		call(ctx, &c, &resp);
		if (i == 0)
			snprintf(first, sizeof(first), "%.*s", (int)resp.body.len,
			    resp.body.data);
		else
			is_str(resp.body.data, first, "401 body %zu is the same "
			    "as with no token", i);
		pt_resp_free(&resp);
	}
}

/* ------------------------------------------------------------- tokens */

/* Every single changed character of a good token is refused. */
static void
test_token_compare(struct pt_store *s)
{
	struct pt_token_info info;
	struct pt_txn *txn;
	char t[PT_TOKEN_LEN + 2];
	size_t i, bad = 0;
	static const char alt[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	is_int(pt_token_check(txn, full_tok, strlen(full_tok), &info), PT_OK,
	    "the full token matches");
	is_str(info.name, "full", "... as its name");
	is_int(info.read_only, 0, "... not read-only");
	is_int(pt_token_check(txn, ro_tok, strlen(ro_tok), &info), PT_OK,
	    "the read-only token matches");
	is_int(info.read_only, 1, "... read-only");
	for (i = 0; i < PT_TOKEN_LEN; i++) {
		memcpy(t, full_tok, PT_TOKEN_LEN + 1);
		t[i] = t[i] == alt[i % 32] ? alt[(i + 1) % 32] : alt[i % 32];
		if (pt_token_check(txn, t, PT_TOKEN_LEN, &info) != PT_ENOTFOUND)
			bad++;
		t[i] ^= 0x20;
		if (pt_token_check(txn, t, PT_TOKEN_LEN, &info) != PT_ENOTFOUND)
			bad++;
	}
	is_int(bad, 0, "a token differing in any one character is refused");
	memcpy(t, full_tok, PT_TOKEN_LEN + 1);
	is_int(pt_token_check(txn, t, PT_TOKEN_LEN - 1, &info), PT_ENOTFOUND,
	    "a truncated token is refused");
	t[PT_TOKEN_LEN] = 'A';
	t[PT_TOKEN_LEN + 1] = '\0';
	is_int(pt_token_check(txn, t, PT_TOKEN_LEN + 1, &info), PT_ENOTFOUND,
	    "a token with a character more is refused");
	is_int(pt_token_check(txn, "", 0, &info), PT_ENOTFOUND,
	    "an empty token is refused");
	is_int(pt_token_check(txn, revoked_tok, PT_TOKEN_LEN, &info),
	    PT_ENOTFOUND, "a revoked token is refused");
	pt_txn_abort(txn);

	ok(!pt_token_name_valid("") && !pt_token_name_valid("-x") &&
	    !pt_token_name_valid("a b") && !pt_token_name_valid("a/b") &&
	    pt_token_name_valid("ci.deploy_1-x"), "token names are checked");
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	is_int(pt_token_create(txn, "full", 0, clock_us, t), PT_EEXIST,
	    "a token name cannot be taken twice");
	pt_txn_abort(txn);
}

/* -------------------------------------------------------------- shapes */

static void
test_shapes(struct pt_ctx *ctx)
{
	struct call c = { "POST", "/admin/api/sources/tasks/rehearse", NULL,
	    full_tok, rehearse_body, NULL, NULL, NULL };
	struct pt_resp resp;
	pt_json *j, *e, *m;
	char path[128];
	int st;

	j = get_json(ctx, "/admin/api/whoami", NULL, ro_tok, &st);
	ok(st == 200 && strcmp(jstr(j, "name"), "ro") == 0 &&
	    pt_json_bool(pt_json_get(j, "read_only")) && jstr(j, "created_at"),
	    "whoami: name, read_only, created_at");
	pt_json_put(j);

	j = get_json(ctx, "/admin/api/sources", NULL, full_tok, &st);
	e = pt_json_get(pt_json_get(pt_json_index(pt_json_get(j, "data"), 0),
	    "environments"), "development");
	is_str(jstr(e, "endpoint_path"), "/receive/" DEV,
	    "sources: endpoint path");
	is_int(pt_json_int(pt_json_get(e, "mappings_count")), 1,
	    "sources: mappings count");
	e = pt_json_get(pt_json_get(pt_json_index(pt_json_get(j, "data"), 0),
	    "environments"), "production");
	m = pt_json_get(pt_json_index(pt_json_get(e, "signing_keys"), 0),
	    "secret");
	ok(jstr(m, "redacted") != NULL && strncmp(jstr(m, "redacted"),
	    "sha256:", 7) == 0, "sources: secrets are masked");
	ok(strstr(pt_json_text(j, 0, NULL), SECRET) == NULL,
	    "sources: the secret appears nowhere");
	pt_json_put(j);

	/* Under a mount, endpoint paths carry it. */
	{
		struct call cm = { "GET", "/admin/api/sources/tasks", NULL,
		    full_tok, NULL, NULL, NULL,
		    "/porter/admin/api/sources/tasks?x=1" };

		call(ctx, &cm, &resp);
		ok(strstr(resp.body.data, "\"endpoint_path\":\"/porter/receive/"
		    DEV "\"") != NULL, "sources: endpoint path under /porter");
		pt_resp_free(&resp);
	}

	j = get_json(ctx, "/admin/api/status", NULL, full_tok, &st);
	ok(pt_json_int(pt_json_get(pt_json_get(j, "store"), "map_size")) > 0 &&
	    pt_json_get_ex(pt_json_get(j, "store"), "nearly_full", NULL),
	    "status: store size and nearly_full");
	is_int(pt_json_int(pt_json_get(j, "log_retention_days")), 7,
	    "status: log retention");
	e = pt_json_index(pt_json_get(j, "sources"), 0);
	ok(pt_json_int(pt_json_get(e, "events_count")) >= 30 &&
	    jstr(e, "last_event_received") != NULL &&
	    pt_json_int(pt_json_get(e, "mappings_count")) == 1,
	    "status: per source events_count, last_event_received, "
	    "mappings_count");
	pt_json_put(j);

	j = get_json(ctx, "/admin/api/sources/tasks/status", NULL, full_tok,
	    &st);
	ok(st == 200 && jstr(j, "source") && pt_json_len(pt_json_get(j,
	    "environments")) == 2, "source status: both environments");
	pt_json_put(j);

	j = get_json(ctx, "/admin/api/sources/tasks/events", "environment="
	    "development", full_tok, &st);
	e = pt_json_index(pt_json_get(j, "data"), 0);
	ok(st == 200 && jstr(e, "event") && pt_json_int(pt_json_get(e,
	    "count")) > 0 && jstr(e, "last_received_at") &&
	    strcmp(jstr(e, "environment"), "development") == 0,
	    "event types: event, count, last_received_at");
	pt_json_put(j);

	snprintf(path, sizeof(path), "/admin/api/logs/%s", first_id);
	j = get_json(ctx, path, NULL, full_tok, &st);
	ok(st == 200 && strcmp(jstr(j, "id"), first_id) == 0 &&
	    pt_json_get(j, "body") && jstr(j, "raw_body") &&
	    pt_json_get(j, "verification") && pt_json_get(j, "headers"),
	    "event: metadata, body, raw body, verification, headers");
	e = pt_json_index(pt_json_get(j, "action_logs"), 0);
	ok(jstr(e, "action") && jstr(e, "status") && pt_json_get(e, "payload") &&
	    pt_json_get(e, "params") && strcmp(jstr(e, "event_id"),
	    first_id) == 0, "event: action logs with params and payload");
	pt_json_put(j);

	st = call(ctx, &c, &resp);
	j = pt_json_parse_trusted(resp.body.data, resp.body.len);
	e = pt_json_index(pt_json_get(j, "mappings"), 0);
	ok(st == 200 && strcmp(jstr(j, "status"), "ok") == 0 &&
	    strcmp(jstr(pt_json_get(e, "payload"), "id"), "u1") == 0 &&
	    pt_json_int(pt_json_get(j, "successful_action_logs_count")) == 1,
	    "rehearse: resolved payload and counts");
	pt_json_put(j);
	pt_resp_free(&resp);

	c.body = "{\"environment\":\"development\",\"payload\":{\"body\":"
	    "\"{\\\"type\\\": \\\"task.assigned\\\"}\",\"headers\":"
	    "{\"X-Id\":\"7\"}}}";
	st = call(ctx, &c, &resp);
	ok(st == 200 && strstr(resp.body.data, "\"status\":\"skipped\""),
	    "rehearse: a body as text, a missing field skips");
	pt_resp_free(&resp);
	c.body = "{\"environment\":\"development\",\"payload\":{\"body\":"
	    "\"{\\\"a\\\": 1, \\\"a\\\": 2}\"}}";
	is_int(call(ctx, &c, &resp), 400, "rehearse: a duplicate key is 400");
	pt_resp_free(&resp);
	c.body = "{\"payload\":{\"body\":{}}}";
	is_int(call(ctx, &c, &resp), 400, "rehearse: two environments, none "
	    "named: 400");
	pt_resp_free(&resp);
	c.body = "{\"environment\":\"staging\",\"payload\":{\"body\":{}}}";
	is_int(call(ctx, &c, &resp), 404, "rehearse: unknown environment: 404");
	pt_resp_free(&resp);
	c.body = "{\"environment\":\"development\",\"payload\":{\"body\":[1]}}";
	is_int(call(ctx, &c, &resp), 400, "rehearse: a body that is no object");
	pt_resp_free(&resp);
	c.ctype = "text/plain";
	is_int(call(ctx, &c, &resp), 415, "rehearse: not JSON: 415");
	pt_resp_free(&resp);

	j = get_json(ctx, "/admin/api/config", NULL, ro_tok, &st);
	ok(st == 200 && pt_json_get(j, "sources") && pt_json_get(j, "settings"),
	    "config: the exported document");
	pt_json_put(j);

	{
		struct call cm = { "GET", "/metrics", NULL, ro_tok, NULL, NULL,
		    NULL, NULL };

		st = call(ctx, &cm, &resp);
		ok(st == 200 && strncmp(resp.content_type, "text/plain", 10) ==
		    0 && strstr(resp.body.data, "porter_events_total{") &&
		    strstr(resp.body.data, "porter_store_nearly_full"),
		    "metrics: Prometheus text with a read-only token");
		pt_resp_free(&resp);
	}
}

/* --------------------------------------------------------- pagination */

/* Page through the log "limit" at a time; ids newest first. */
static size_t
page_all(struct pt_ctx *ctx, const char *filter, size_t limit,
    char ids[][PT_ID_MAX], size_t max, size_t *pages)
{
	char q[512], before[PT_ID_MAX] = "";
	pt_json *j, *pi, *d;
	size_t n = 0, i;
	int st;

	*pages = 0;
	for (;;) {
		snprintf(q, sizeof(q), "limit=%zu%s%s%s%s", limit, filter[0] ?
		    "&" : "", filter, before[0] ? "&before=" : "", before);
		j = get_json(ctx, "/admin/api/logs", q, full_tok, &st);
		if (st != 200) {
			pt_json_put(j);
			return n;
		}
		(*pages)++;
		d = pt_json_get(j, "data");
		for (i = 0; i < pt_json_len(d) && n < max; i++)
			snprintf(ids[n++], PT_ID_MAX, "%s", jstr(pt_json_index(d,
			    i), "id"));
		pi = pt_json_get(j, "page_info");
		if (!pt_json_bool(pt_json_get(pi, "has_more")) ||
		    jstr(pi, "before") == NULL || *pages > 100) {
			pt_json_put(j);
			return n;
		}
		snprintf(before, sizeof(before), "%s", jstr(pi, "before"));
		pt_json_put(j);
	}
}

static void
test_pagination(struct pt_ctx *ctx, char made[][PT_ID_MAX], size_t nmade)
{
	static char ids[200][PT_ID_MAX];
	char q[512];
	pt_json *j, *d;
	size_t n, i, pages, sorted = 1;
	int st;

	n = page_all(ctx, "event_type=task.listed&source=tasks&environment="
	    "development", 10, ids, 200, &pages);
	is_int(n, nmade, "paging by 10 returns every event of the type");
	is_int(pages, (nmade + 9) / 10, "... in %zu pages", (nmade + 9) / 10);
	for (i = 1; i < n; i++)
		if (strcmp(ids[i - 1], ids[i]) <= 0)
			sorted = 0;
	ok(sorted, "... newest first, no duplicates");
	ok(n == nmade && strcmp(ids[0], made[nmade - 1]) == 0 &&
	    strcmp(ids[n - 1], made[0]) == 0, "... from the last to the first");

	/* after: the entries newer than a cursor, newest first. */
	snprintf(q, sizeof(q), "event_type=task.listed&limit=5&after=%.40s",
	    made[9]);
	j = get_json(ctx, "/admin/api/logs", q, full_tok, &st);
	d = pt_json_get(j, "data");
	ok(st == 200 && pt_json_len(d) == 5 && strcmp(jstr(pt_json_index(d, 0),
	    "id"), made[14]) == 0 && strcmp(jstr(pt_json_index(d, 4), "id"),
	    made[10]) == 0, "after: the next 5 newer, newest first");
	ok(pt_json_bool(pt_json_get(pt_json_get(j, "page_info"), "has_more")) &&
	    strcmp(jstr(pt_json_get(j, "page_info"), "after"), made[14]) == 0,
	    "after: has_more, and the cursor to go on from");
	pt_json_put(j);
	j = get_json(ctx, "/admin/api/logs", "limit=1", full_tok, &st);
	snprintf(q, sizeof(q), "after=%.40s", jstr(pt_json_index(pt_json_get(j,
	    "data"), 0), "id"));
	pt_json_put(j);
	j = get_json(ctx, "/admin/api/logs", q, full_tok, &st);
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 0 &&
	    jstr(pt_json_get(j, "page_info"), "after") != NULL,
	    "after the newest: the cursor stays for polling");
	pt_json_put(j);

	/* A time range: events 10 to 19. */
	{
		char since[PT_RFC3339_LEN], until[PT_RFC3339_LEN];
		uint8_t bin[PT_ID_BIN];

		pt_id_parse("evt", made[10], bin);
		pt_fmt_rfc3339(pt_id_time(bin), since);
		pt_id_parse("evt", made[19], bin);
		pt_fmt_rfc3339(pt_id_time(bin), until);
		snprintf(q, sizeof(q), "since=%s&until=%s", since, until);
		n = page_all(ctx, q, 4, ids, 200, &pages);
		ok(n == 10 && strcmp(ids[0], made[19]) == 0 &&
		    strcmp(ids[9], made[10]) == 0, "since/until: the 10 events "
		    "in the range, paged by 4");
		snprintf(q, sizeof(q), "limit=3&since=%s&after=%.40s", since,
		    made[0]);
		j = get_json(ctx, "/admin/api/logs", q, full_tok, &st);
		d = pt_json_get(j, "data");
		ok(pt_json_len(d) == 3 && strcmp(jstr(pt_json_index(d, 2), "id"),
		    made[10]) == 0, "after with since starts at since");
		pt_json_put(j);
	}
}

struct filter_case {
	const char	*desc;
	const char	*query;
	int		 status;
	long		 count;		/* -1: any */
};

static const struct filter_case filters[] = {
	{ "source", "source=tasks&limit=200", 200, 42 },
	{ "source and environment", "source=tasks&environment=development&"
	  "limit=200", 200, 42 },
	{ "unknown source", "source=nope", 200, 0 },
	{ "event type without source", "event_type=task.assigned", 200, 2 },
	{ "status", "status=no_mapping&limit=200", 200, 40 },
	{ "status with source", "source=tasks&status=accepted", 200, 2 },
	{ "verification", "verification=not_enforced:unsigned&limit=200", 200,
	  41 },
	{ "verification none", "verification=enforced:failed", 200, 0 },
	{ "idempotency key", "idempotency_key=l7", 200, 1 },
	{ "idempotency key, encoded", "idempotency_key=%6C7", 200, 1 },
	{ "idempotency key none", "idempotency_key=zz", 200, 0 },
	{ "since, a duration", "since=1h&limit=200", 200, -1 },
	{ "limit 0", "limit=0", 400, -1 },
	{ "limit 201", "limit=201", 400, -1 },
	{ "limit not a number", "limit=5x", 400, -1 },
	{ "before and after", "before=evt_000SGEH1F0KHPSA1ZE6V3EDRED&after="
	  "evt_000SGEH1F0KHPSA1ZE6V3EDRED", 400, -1 },
	{ "a bad cursor", "before=evt_nope", 400, -1 },
	{ "a bad time", "since=yesterday", 400, -1 },
	{ "environment without source", "environment=development", 400, -1 },
	{ "an unknown parameter", "type=task.assigned", 400, -1 },
	{ "a bad escape", "status=%zz", 400, -1 },
	{ "an escaped NUL", "status=a%00b", 400, -1 },
};

static void
test_filters(struct pt_ctx *ctx)
{
	pt_json *j;
	size_t i;
	int st;

	for (i = 0; i < nitems(filters); i++) {
		j = get_json(ctx, "/admin/api/logs", filters[i].query, full_tok,
		    &st);
		is_int(st, filters[i].status, "logs: %s: status",
		    filters[i].desc);
		if (filters[i].count >= 0)
			is_int(pt_json_len(pt_json_get(j, "data")),
			    filters[i].count, "logs: %s: count", filters[i].desc);
		pt_json_put(j);
	}
	j = get_json(ctx, "/admin/api/sources/tasks/logs", "status=accepted",
	    full_tok, &st);
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 2,
	    "source logs: filtered by status (the event and its replay)");
	pt_json_put(j);
	j = get_json(ctx, "/admin/api/sources/tasks/logs", "source=x", full_tok,
	    &st);
	is_int(st, 400, "source logs: no second source");
	pt_json_put(j);
}

/* ---------------------------------------------------- direct records */

/* Append an event at "us" (with an action log when "action"). */
static void
append(struct pt_txn *txn, int64_t us, const char *type, const char *idem,
    int action, char *id_out)
{
	struct pt_event ev;
	uint8_t aid[PT_ID_BIN];
	char atext[PT_ID_MAX], rec[256];
	pt_json *extra = pt_json_new_object(), *o, *arr;

	memset(&ev, 0, sizeof(ev));
	if (pt_id_new("evt", us, ev.id, ev.id_text) != PT_OK)
		abort();
	ev.received_at = us;
	ev.source = "tasks";
	ev.environment = "development";
	ev.endpoint_id = DEV;
	ev.event_type = type;
	ev.event_time = us;
	ev.status = "accepted";
	ev.verify_status = "not_enforced:unsigned";
	ev.body = (const uint8_t *)"{}";
	ev.body_len = 2;
	if (idem != NULL) {
		o = pt_json_new_object();
		pt_json_set(o, "key", pt_json_new_cstr(idem));
		pt_json_set(extra, "idempotency", o);
	}
	if (action) {
		pt_id_new("act", us, aid, atext);
		snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"event_id\":\"%s\","
		    "\"action\":\"users_identify\",\"status\":\"success\"}",
		    atext, ev.id_text);
		if (pt_put(txn, PT_T_ACTIONS, aid, PT_ID_BIN, rec, strlen(rec),
		    0) != PT_OK)
			abort();
		arr = pt_json_new_array();
		pt_json_append(arr, pt_json_new_cstr(atext));
		pt_json_set(extra, "actions", arr);
	}
	ev.extra = extra;
	if (pt_eventlog_append(txn, &ev) != PT_OK)
		abort();
	if (id_out != NULL)
		snprintf(id_out, PT_ID_MAX, "%s", ev.id_text);
	pt_json_put(extra);
}

/* A fresh store with the config and a full token, for one test. */
static struct pt_store *
fresh(char **dir, struct pt_ctx *ctx, const char *cfg)
{
	struct pt_store *s;

	*dir = tu_tmpdir();
	s = tu_store(*dir, 0);
	if (tu_apply(s, cfg) != NULL)
		abort();
	setup_tokens(s);
	pt_ctx_init(ctx, s);
	ctx->now = fake_now;
	ctx->log = quiet;
	return s;
}

/*
 * A search that scans more than MAX_SCAN (10,000) records stops there,
 * says so, and gives the cursor to go on from; the next page finds what
 * is further back.
 */
static void
test_scan_limit(void)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	struct pt_txn *txn;
	char *dir, needle[PT_ID_MAX], q[128];
	pt_json *j, *pi;
	int64_t t0 = clock_us;
	size_t i;
	int st;

	s = fresh(&dir, &ctx, config_text);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	append(txn, t0, "task.listed", "needle", 0, needle);
	for (i = 1; i <= 10050; i++)
		append(txn, t0 + (int64_t)i * 10, "task.listed", NULL, 0, NULL);
	if (pt_txn_commit(txn) != PT_OK)
		abort();
	j = get_json(&ctx, "/admin/api/logs", "idempotency_key=needle",
	    full_tok, &st);
	pi = pt_json_get(j, "page_info");
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 0 &&
	    pt_json_bool(pt_json_get(pi, "scan_limited")) &&
	    pt_json_bool(pt_json_get(pi, "has_more")) &&
	    pt_json_int(pt_json_get(pi, "scanned")) == 10000,
	    "an unindexed search stops after 10000 records and says so");
	snprintf(q, sizeof(q), "idempotency_key=needle&before=%s",
	    jstr(pi, "before") ? jstr(pi, "before") : "");
	pt_json_put(j);
	j = get_json(&ctx, "/admin/api/logs", q, full_tok, &st);
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 1 &&
	    strcmp(jstr(pt_json_index(pt_json_get(j, "data"), 0), "id"),
	    needle) == 0 && !pt_json_bool(pt_json_get(pt_json_get(j,
	    "page_info"), "has_more")), "... and its cursor finds the rest");
	pt_json_put(j);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------ config */

static int
put_config(struct pt_ctx *ctx, const char *query, const char *body,
    const char *ctype, pt_json **out)
{
	struct call c = { "PUT", "/admin/api/config", query, full_tok, body,
	    ctype, NULL, NULL };
	struct pt_resp resp;
	int st;

	st = call(ctx, &c, &resp);
	*out = pt_json_parse_trusted(resp.body.data, resp.body.len);
	pt_resp_free(&resp);
	return st;
}

static void
test_config(struct pt_ctx *ctx)
{
	pt_json *j;
	char *changed, *p;
	int st;
	int64_t gen;

	j = get_json(ctx, "/admin/api/status", NULL, full_tok, &st);
	pt_json_put(j);
	st = put_config(ctx, NULL, export_text, NULL, &j);
	ok(st == 200 && pt_json_int(pt_json_get(j, "changes")) == 0 &&
	    !pt_json_bool(pt_json_get(j, "applied")),
	    "config: putting the export back changes nothing");
	gen = pt_json_int(pt_json_get(j, "generation"));
	pt_json_put(j);

	st = put_config(ctx, NULL, "{\"sources\":[{\"key\":\"tasks\","
	    "\"typo\":1}]}", NULL, &j);
	ok(st == 422 && strstr(jstr(j, "message"), "/sources/0/") != NULL,
	    "config: an invalid document is 422 with a JSON pointer");
	pt_json_put(j);
	st = put_config(ctx, NULL, "{\"sources\":[{\"key\":\"x\",\"type\":"
	    "\"custom\",\"environments\":{\"e\":{\"signing_keys\":[{\"secret\":"
	    "{\"file\":\"/etc/passwd\"}}]}}}]}", NULL, &j);
	ok(st == 422 && strstr(jstr(j, "message"), "porterctl apply") != NULL,
	    "config: a file reference is refused over HTTP");
	pt_json_put(j);
	is_int(put_config(ctx, NULL, "{", NULL, &j), 400, "config: bad JSON");
	pt_json_put(j);
	is_int(put_config(ctx, NULL, "{}", "text/plain", &j), 415,
	    "config: not JSON");
	pt_json_put(j);
	is_int(put_config(ctx, "dry=1", "{}", NULL, &j), 400,
	    "config: unknown parameter");
	pt_json_put(j);

	/* A change: the production key's event type path. */
	changed = pt_strdup(export_text);
	p = strstr(strstr(changed, "\"production\""), "body.type");
	memcpy(p, "body.kind", 9);
	st = put_config(ctx, "dry_run=1", changed, NULL, &j);
	ok(st == 200 && pt_json_bool(pt_json_get(j, "dry_run")) &&
	    !pt_json_bool(pt_json_get(j, "applied")) &&
	    pt_json_int(pt_json_get(j, "changes")) == 1 &&
	    strstr(pt_json_str(pt_json_index(pt_json_get(j, "diff"), 0), NULL),
	    "tasks/production: event_type_path") != NULL &&
	    pt_json_int(pt_json_get(j, "generation")) == gen,
	    "config: a dry run reports the change and applies nothing");
	pt_json_put(j);
	st = put_config(ctx, NULL, changed, NULL, &j);
	ok(st == 200 && pt_json_bool(pt_json_get(j, "applied")) &&
	    pt_json_int(pt_json_get(j, "generation")) == gen + 1,
	    "config: the change is applied as a new generation");
	pt_json_put(j);
	j = get_json(ctx, "/admin/api/config", NULL, full_tok, &st);
	ok(strstr(pt_json_text(j, 0, NULL), "body.kind") != NULL,
	    "config: the export shows it");
	pt_json_put(j);
	st = put_config(ctx, NULL, export_text, NULL, &j);
	ok(st == 200 && pt_json_bool(pt_json_get(j, "applied")),
	    "config: and back");
	pt_json_put(j);
	pt_free(changed);
}

/* An {"env": ...} secret the stored config has is kept on a round trip. */
static void
test_config_refs(void)
{
	static const char cfg[] = "{\"sources\":[{\"key\":\"r\",\"type\":"
	    "\"custom\",\"environments\":{\"p\":{\"endpoint_id\":\"src_ref_0001\","
	    "\"verify\":true,\"signing_keys\":[{\"secret\":{\"env\":"
	    "\"PT_TEST_ADMIN_KEY\"}}]}}}]}";
	struct pt_ctx ctx;
	struct pt_store *s;
	char *dir, *text;
	pt_json *j;
	int st;

	setenv("PT_TEST_ADMIN_KEY", "from-the-environment", 1);
	s = fresh(&dir, &ctx, cfg);
	unsetenv("PT_TEST_ADMIN_KEY");
	j = get_json(&ctx, "/admin/api/config", NULL, full_tok, &st);
	text = pt_strdup(pt_json_text(j, 0, NULL));
	pt_json_put(j);
	ok(strstr(text, "PT_TEST_ADMIN_KEY") != NULL, "an env reference is "
	    "exported as written");
	st = put_config(&ctx, NULL, text, NULL, &j);
	ok(st == 200 && pt_json_int(pt_json_get(j, "changes")) == 0,
	    "... and kept when put back over the API");
	pt_json_put(j);
	pt_free(text);
	st = put_config(&ctx, NULL, "{\"sources\":[{\"key\":\"r\",\"type\":"
	    "\"custom\",\"environments\":{\"p\":{\"endpoint_id\":\"src_ref_0001\","
	    "\"verify\":true,\"signing_keys\":[{\"secret\":{\"env\":"
	    "\"HOME\"}}]}}}]}", NULL, &j);
	is_int(st, 422, "... but a new one is refused");
	pt_json_put(j);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
}

/* ----------------------------------------------------- metrics, replay */

static void
test_metrics_auth(struct pt_ctx *ctx)
{
	static const struct {
		const char	*mode;
		const char	*remote;
		const char	*token;
		int		 status;
	} cases[] = {
		{ NULL, "127.0.0.1", NULL, 401 },
		{ "token", "127.0.0.1", NULL, 401 },
		{ "loopback", "127.0.0.1", NULL, 200 },
		{ "loopback", "::1", NULL, 200 },
		{ "loopback", "127.8.9.1", NULL, 200 },
		{ "loopback", "10.0.0.1", NULL, 401 },
		{ "loopback", "1270.0.0.1", NULL, 401 },
		{ "loopback", "10.0.0.1", "RO", 200 },
		{ "loopback", NULL, NULL, 401 },
	};
	struct call c = { "GET", "/metrics", NULL, NULL, NULL, NULL, NULL,
	    NULL };
	struct pt_resp resp;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		if (cases[i].mode)
			setenv("PORTER_METRICS_AUTH", cases[i].mode, 1);
		else
			unsetenv("PORTER_METRICS_AUTH");
		c.remote = cases[i].remote ? cases[i].remote : "";
		c.token = cases[i].token ? ro_tok : NULL;
		is_int(call(ctx, &c, &resp), cases[i].status, "metrics: "
		    "PORTER_METRICS_AUTH=%s from %s, %s", cases[i].mode ?
		    cases[i].mode : "(unset)", c.remote, cases[i].token ?
		    "a token" : "no token");
		pt_resp_free(&resp);
	}
	unsetenv("PORTER_METRICS_AUTH");
}

/* The value of series "series" (name{labels}) in "text", or -1. */
static double
metric(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while (p != NULL && *p) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

/*
 * Refusals of "status" in "text", in whatever series counts them
 * (porter_*refused_total{status="N"...}), summed.
 */
static double
refusals(const char *text, const char *status)
{
	const char *p = text, *q;
	char want[40];
	double n = 0;

	snprintf(want, sizeof(want), "{status=\"%s\"", status);
	for (; p != NULL && *p; p = (q = strchr(p, '\n')) ? q + 1 : NULL) {
		if (strncmp(p, "porter_", 7) != 0 ||
		    (q = strstr(p, "refused_total{")) == NULL ||
		    q > strchr(p, '\n') || strncmp(q + 13, want,
		    strlen(want)) != 0 || (q = strchr(q, ' ')) == NULL)
			continue;
		n += strtod(q + 1, NULL);
	}
	return n;
}

/* GET /metrics with the read-only token; the text (free it). */
static char *
scrape(struct pt_ctx *ctx)
{
	struct call c = { "GET", "/metrics", NULL, ro_tok, NULL, NULL, NULL,
	    NULL };
	struct pt_resp resp;
	char *text;

	call(ctx, &c, &resp);
	text = pt_strdup(resp.body.data ? resp.body.data : "");
	pt_resp_free(&resp);
	return text;
}

/* Render from the store alone, as another process's scrape would. */
static char *
render(struct pt_ctx *ctx)
{
	struct pt_buf b = { 0 };

	pt_metrics_render(ctx->store, &b);
	pt_buf_addc(&b, '\0');
	return b.data;
}

#define REFUSED(st)	"porter_requests_refused_total{status=\"" st "\"}"
#define EVENTS(env, st)	"porter_events_total{source=\"tasks\"," \
			"environment=\"" env "\",status=\"" st "\"}"

/* An absent series counts 0. */
static double
zero(double v)
{
	return v < 0 ? 0 : v;
}

/*
 * A request is counted once: as a refusal when no event was logged for
 * it, else as an event; refusals are in the store, with no per-process
 * label.  And the build and the last event's time.
 */
static void
test_metrics_content(struct pt_ctx *ctx)
{
	struct call miss = { "POST", "/receive/src_nobody_0001", NULL, NULL,
	    "{}", NULL, NULL, NULL };
	struct call unsigned_prod = { "POST", "/receive/" PROD, NULL, NULL,
	    "{\"type\":\"x\"}", NULL, NULL, NULL };
	struct call bad_json = { "POST", "/receive/" DEV, NULL, NULL, "[1",
	    NULL, NULL, NULL };
	struct pt_resp resp;
	char *m0, *m1, *m2, series[200], want[64];
	int i;

	m0 = scrape(ctx);
	for (i = 0; i < 3; i++) {
		is_int(call(ctx, &miss, &resp), 404, "metrics: a request to an "
		    "unknown endpoint: 404");
		pt_resp_free(&resp);
	}
	is_int(call(ctx, &unsigned_prod, &resp), 401, "metrics: an unsigned "
	    "request where verification is on: 401, logged as rejected");
	pt_resp_free(&resp);
	is_int(call(ctx, &bad_json, &resp), 400, "metrics: bad JSON: 400, "
	    "logged as invalid");
	pt_resp_free(&resp);
	m1 = scrape(ctx);
	is_int(zero(metric(m1, REFUSED("404"))), zero(metric(m0,
	    REFUSED("404"))) + 3, "metrics: the three 404s are refusals");
	is_int(refusals(m1, "401"), refusals(m0, "401"), "metrics: the logged "
	    "401 is not a refusal ...");
	is_int(metric(m1, EVENTS("production", "rejected")), zero(metric(m0,
	    EVENTS("production", "rejected"))) + 1, "  ... but an event, "
	    "rejected");
	is_int(refusals(m1, "400"), refusals(m0, "400"), "metrics: the logged "
	    "400 is not a refusal ...");
	is_int(metric(m1, EVENTS("development", "invalid")), zero(metric(m0,
	    EVENTS("development", "invalid"))) + 1, "  ... but an event, "
	    "invalid");
	ok(strstr(m1, "pid=") == NULL && strstr(m1, "porter_process_") == NULL,
	    "metrics: no per-process series");
	snprintf(series, sizeof(series), "porter_build_info{version=\"%s\","
	    "backend=\"lmdb\"}", PACKAGE_VERSION);
	is_int(metric(m1, series), 1, "metrics: %s 1", series);
	snprintf(want, sizeof(want), "%.6f", (double)clock_us / 1e6);
	ok(metric(m1, "porter_last_event_timestamp_seconds{source=\"tasks\","
	    "environment=\"development\"}") == strtod(want, NULL) &&
	    strstr(m1, "# TYPE porter_last_event_timestamp_seconds gauge"),
	    "metrics: the last event's time per source and environment (%s)",
	    want);

	/* They live in the store: any process's scrape sees them. */
	m2 = render(ctx);
	is_int(metric(m2, REFUSED("404")), metric(m1, REFUSED("404")),
	    "metrics: the refusals are in the store, not only in this "
	    "process");
	pt_free(m2);
	for (i = 0; i < 2; i++) {
		call(ctx, &miss, &resp);
		pt_resp_free(&resp);
	}
	m2 = render(ctx);
	is_int(metric(m2, REFUSED("404")), metric(m1, REFUSED("404")),
	    "metrics: new refusals wait in the process for a flush");
	pt_free(m2);
	is_int(pt_metrics_flush(ctx->store, ctx->committer), PT_OK,
	    "metrics: flush");
	m2 = render(ctx);
	is_int(metric(m2, REFUSED("404")), metric(m1, REFUSED("404")) + 2,
	    "metrics: ... and are added to the store's counter");
	pt_free(m2);
	pt_free(m0);
	pt_free(m1);
}

static void
test_replay(struct pt_ctx *ctx)
{
	struct call c = { "POST", NULL, NULL, NULL, "", NULL, NULL, NULL };
	struct pt_resp resp;
	char path[128], nid[PT_ID_MAX];
	pt_json *j;
	int st;

	snprintf(path, sizeof(path), "/admin/api/logs/%s/replay", first_id);
	c.path = path;
	c.token = full_tok;
	st = call(ctx, &c, &resp);
	j = pt_json_parse_trusted(resp.body.data, resp.body.len);
	ok(st == 200 && jstr(j, "id") && strcmp(jstr(j, "replay_of"), first_id)
	    == 0, "replay: a new event, linked to the original");
	snprintf(nid, sizeof(nid), "%s", jstr(j, "id") ? jstr(j, "id") : "");
	pt_json_put(j);
	pt_resp_free(&resp);
	snprintf(path, sizeof(path), "/admin/api/logs/%s", nid);
	j = get_json(ctx, path, NULL, full_tok, &st);
	ok(st == 200 && strcmp(jstr(j, "replay_of"), first_id) == 0 &&
	    pt_json_len(pt_json_get(j, "action_logs")) == 1,
	    "replay: the new entry ran the mappings again");
	pt_json_put(j);
	c.path = "/admin/api/logs/evt_000SGEH1F0KHPSA1ZE6V3EDRED/replay";
	is_int(call(ctx, &c, &resp), 404, "replay: an unknown event is 404");
	pt_resp_free(&resp);
	c.path = "/admin/api/logs/act_000SGEH1F0KHPSA1ZE6V3EDRED/replay";
	is_int(call(ctx, &c, &resp), 400, "replay: not an event id is 400");
	pt_resp_free(&resp);
}

/* ---------------------------------------------------------- retention */

static uint64_t
entries(struct pt_store *s, enum pt_table t)
{
	struct pt_store_stat st;

	pt_store_stat(s, &st);
	return st.entries[t];
}

static void
report(void *arg, const char *line)
{
	(void)arg;
	diag("check: %s", line);
}

static size_t
problems(struct pt_store *s)
{
	struct pt_txn *txn;
	size_t n;

	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	n = pt_check(txn, report, NULL, NULL);
	pt_txn_abort(txn);
	return n;
}

/*
 * Retention with an injected clock: 3 days kept.  100 events (with action
 * logs) on day 0, 5 on day 2, a stray action log on day 0.  On day 4 the
 * day-0 events go, a bounded number at a time, each with its action log;
 * the stray log goes once they are gone; day 2 stays.  Then the
 * responder's own per-write step: 100 more old events, and every 8
 * writes delete exactly PT_RETENTION_PER_ROUND of them.
 */
static void
test_retention(void)
{
	static char cfg[sizeof(config_text) + 16];
	struct pt_retention_stats rs;
	struct pt_ctx ctx;
	struct pt_store *s;
	struct pt_txn *txn;
	char *dir, key[16], stray[256], stext[PT_ID_MAX];
	uint8_t sid[PT_ID_BIN];
	int64_t t0 = clock_us, saved = clock_us;
	uint64_t before;
	size_t i, round, bad = 0;
	enum pt_err rc;

	snprintf(cfg, sizeof(cfg), "%s", config_text);
	memcpy(strstr(cfg, "\"log_retention_days\":7") + 21, "3", 1);
	s = fresh(&dir, &ctx, cfg);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	for (i = 0; i < 100; i++)
		append(txn, t0 + (int64_t)i, "task.listed", NULL, 1, NULL);
	for (i = 0; i < 5; i++)
		append(txn, t0 + 2 * DAY + (int64_t)i, "task.listed", NULL, 1,
		    NULL);
	pt_id_new("act", t0 + 50, sid, stext);
	snprintf(stray, sizeof(stray), "{\"id\":\"%s\",\"event_id\":"
	    "\"evt_000SGEH1F0KHPSA1ZE6V3EDRED\"}", stext);
	pt_put(txn, PT_T_ACTIONS, sid, PT_ID_BIN, stray, strlen(stray), 0);
	if (pt_txn_commit(txn) != PT_OK)
		abort();
	is_int(entries(s, PT_T_EVENTS), 105, "retention: 105 events");
	is_int(entries(s, PT_T_ACTIONS), 106, "retention: 106 action logs");

	/* Nothing is due before the period ends. */
	memset(&rs, 0, sizeof(rs));
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	rc = pt_retention_prune(txn, t0 + 3 * DAY - 1000, 3, 10, &rs);
	pt_txn_commit(txn);
	ok(rc == PT_OK && rs.events == 0 && rs.actions == 0 && !rs.more,
	    "retention: nothing younger than 3 days goes");

	for (round = 0; round < 20; round++) {
		memset(&rs, 0, sizeof(rs));
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
		rc = pt_retention_prune(txn, t0 + 4 * DAY, 3, 10, &rs);
		if (rc != PT_OK || pt_txn_commit(txn) != PT_OK)
			abort();
		if (round < 10 && (rs.events != 10 || rs.actions != 10 ||
		    !rs.more))
			bad++;
		if (round == 0)
			is_int(entries(s, PT_T_EVENTS), 95, "retention: one "
			    "bounded step deletes 10 events");
		if (!rs.more)
			break;
	}
	is_int(bad, 0, "retention: each step deletes at most 10 events, each "
	    "with its action log");
	is_int(entries(s, PT_T_EVENTS), 5, "retention: the day-2 events stay");
	is_int(entries(s, PT_T_ACTIONS), 5, "retention: their action logs "
	    "stay; the stray one went");
	is_int(entries(s, PT_T_EV_SOURCE) + entries(s, PT_T_EV_ENV) +
	    entries(s, PT_T_EV_TYPE) + entries(s, PT_T_EV_STATUS), 20,
	    "retention: index entries went with the events");
	is_int(problems(s), 0, "retention: porterctl check finds no problem");

	/* The responder's step, on every 8th write. */
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
	for (i = 0; i < 100; i++)
		append(txn, t0 + 2 * DAY + 1000 + (int64_t)i, "task.listed",
		    NULL, 1, NULL);
	pt_txn_commit(txn);
	clock_us = t0 + 6 * DAY;	/* 105 events are older than 3 days */
	for (round = 0; round < 4; round++) {
		size_t want = round < 3 ? PT_RETENTION_PER_ROUND :
		    105 - 3 * PT_RETENTION_PER_ROUND;

		before = entries(s, PT_T_EVENTS);
		for (i = 0; i < 8; i++) {
			snprintf(key, sizeof(key), "r%zu-%zu", round, i);
			if (ingest(&ctx, "task.listed", key, NULL) != 200)
				bad++;
		}
		is_int(before + 8 - entries(s, PT_T_EVENTS), want,
		    "retention: 8 writes on day 6 delete %zu old events", want);
	}
	is_int(entries(s, PT_T_EVENTS), 32, "retention: what is left: the 32 "
	    "new events");
	is_int(entries(s, PT_T_ACTIONS), 0, "retention: no action log is left "
	    "(the new events map to nothing)");
	is_int(bad, 0, "retention: every write answered 200");
	is_int(problems(s), 0, "retention: porterctl check finds no problem");
	clock_us = saved;
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------- main */

int
main(void)
{
	static char made[40][PT_ID_MAX];
	struct pt_ctx ctx;
	struct pt_store *s;
	char *dir, path[600];
	const char *srcdir = getenv("top_srcdir");
	size_t i;
	pt_json *j;
	int st;

	snprintf(path, sizeof(path), "%s/console", srcdir ? srcdir : "../..");
	setenv("PORTER_CONSOLE_DIR", path, 1);
	unsetenv("PORTER_METRICS_AUTH");
	dir = tu_tmpdir();
	s = tu_store(dir, 0);
	if (tu_apply(s, config_text) != NULL)
		abort();
	setup_tokens(s);
	pt_ctx_init(&ctx, s);
	ctx.now = fake_now;
	ctx.log = quiet;

	is_int(ingest(&ctx, "task.assigned", "k0", first_id), 200,
	    "an event to look at");
	for (i = 0; i < nitems(made); i++) {
		clock_us += 1000000;
		char key[16];

		snprintf(key, sizeof(key), "l%zu", i);
		if (ingest(&ctx, "task.listed", key, made[i]) != 200)
			break;
	}
	is_int(i, nitems(made), "%zu events to page through", nitems(made));
	j = get_json(&ctx, "/admin/api/config", NULL, full_tok, &st);
	export_text = pt_strdup(pt_json_text(j, 0, NULL));
	pt_json_put(j);

	test_routes(&ctx);
	test_no_detail(&ctx);
	test_token_compare(s);
	test_shapes(&ctx);
	test_pagination(&ctx, made, nitems(made));
	test_filters(&ctx);
	test_metrics_auth(&ctx);
	test_metrics_content(&ctx);
	test_replay(&ctx);
	test_config(&ctx);
	test_config_refs();
	test_scan_limit();
	test_retention();

	pt_free(export_text);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
