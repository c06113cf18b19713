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
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "alloc.h"
#include "eventlog.h"
#include "handler.h"
#include "ids.h"
#include "metrics.h"
#include "retention.h"
#include "sig.h"
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

/* An x-knock-signature header for the next calls, or NULL. */
static const char *sig_header;

static int
call(struct pt_ctx *ctx, const struct call *c, struct pt_resp *resp)
{
	struct pt_header h[3];
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
	if (sig_header != NULL) {
		h[nh].name = "x-knock-signature";
		h[nh].value = sig_header;
		h[nh].value_len = strlen(sig_header);
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

/* The log lines a test keeps (one buffer, lines joined by "\n"). */
static struct pt_buf kept_log;

static void
keep_log(void *arg, const char *line)
{
	(void)arg;
	pt_buf_adds(&kept_log, line);
	pt_buf_addc(&kept_log, '\n');
}

/*
 * The console is open to anyone: with its files missing, the answer
 * says so without naming where they were looked for; the log does.
 */
static void
test_console_missing(struct pt_ctx *ctx)
{
	static const char *const names[] = { "/admin/", "/admin/app.js" };
	struct call c = { "GET", NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	const char *was = getenv("PORTER_CONSOLE_DIR");
	char *keep = was ? strdup(was) : NULL;
	struct pt_resp resp;
	size_t i;

	setenv("PORTER_CONSOLE_DIR", "/nonexistent/porter-install-dir", 1);
	ctx->log = keep_log;
	for (i = 0; i < nitems(names); i++) {
		pt_buf_reset(&kept_log);
		c.path = names[i];
		is_int(call(ctx, &c, &resp), 404, "console missing: %s is 404",
		    names[i]);
		ok(resp.body.data && strstr(resp.body.data,
		    "\"console_missing\"") && !strstr(resp.body.data,
		    "porter-install-dir") && !strstr(resp.body.data, "/"),
		    "  ... the answer names no path: %s", resp.body.data);
		ok(kept_log.data && strstr(kept_log.data,
		    "/nonexistent/porter-install-dir/"),
		    "  ... the log line does");
		pt_resp_free(&resp);
	}
	ctx->log = quiet;
	pt_buf_free(&kept_log);
	if (keep != NULL)
		setenv("PORTER_CONSOLE_DIR", keep, 1);
	free(keep);
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
	    "hmac:", 5) == 0, "sources: secrets are masked");
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
	{ "unknown source", "source=nope", 400, -1 },
	{ "unknown environment", "source=tasks&environment=staging", 400, -1 },
	{ "unknown status", "status=bogus", 400, -1 },
	{ "an action's status is no event status", "status=skipped", 400, -1 },
	{ "unknown verification", "verification=enforced", 400, -1 },
	{ "known but unused status", "status=conflict", 200, 0 },
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
	j = get_json(ctx, "/admin/api/sources/nope/logs", NULL, full_tok, &st);
	ok(st == 404 && jstr(j, "message") && strstr(jstr(j, "message"),
	    "(want tasks)") != NULL,
	    "source logs: an unknown source is 404, naming the sources");
	pt_json_put(j);
	/* The refusal names the valid values, from the event log's table. */
	j = get_json(ctx, "/admin/api/logs", "status=skipped", full_tok, &st);
	{
		struct pt_buf want = { 0 };

		for (i = 0; pt_event_statuses[i] != NULL; i++)
			pt_buf_printf(&want, "%s%s", i ? ", " : "",
			    pt_event_statuses[i]);
		ok(jstr(j, "message") && strstr(jstr(j, "message"),
		    want.data) != NULL &&
		    strcmp(jstr(j, "error"), "invalid_parameter") == 0,
		    "logs: an unknown status names the valid ones: %s",
		    jstr(j, "message"));
		pt_buf_free(&want);
	}
	pt_json_put(j);
	j = get_json(ctx, "/admin/api/logs", "verification=x", full_tok, &st);
	ok(jstr(j, "message") && strstr(jstr(j, "message"),
	    "not_enforced:unsigned, replayed") != NULL,
	    "logs: an unknown verification names the valid ones");
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
 * A source removed from the configuration while its events are still
 * logged can still be searched (the log is where to look for it); one
 * neither configured nor logged is refused, naming both kinds.
 */
static void
test_removed_source(void)
{
	static const char two[] = "{\"sources\":[{\"key\":\"tasks\","
	    "\"environments\":{\"development\":{\"endpoint_id\":\"" DEV "\","
	    "\"verify\":false}}},{\"key\":\"old\",\"environments\":{"
	    "\"live\":{\"endpoint_id\":\"src_old_live_0001\","
	    "\"verify\":false}}}]}";
	struct call c = { "POST", "/receive/src_old_live_0001", NULL, NULL,
	    "{\"type\":\"x\"}", NULL, NULL, NULL };
	struct pt_resp resp;
	struct pt_ctx ctx;
	struct pt_store *s;
	char *dir;
	pt_json *j;
	int st;

	s = fresh(&dir, &ctx, two);
	is_int(call(&ctx, &c, &resp), 200, "removed source: an event of old");
	pt_resp_free(&resp);
	if (tu_apply(s, config_text) != NULL)
		abort();
	j = get_json(&ctx, "/admin/api/logs", "source=old", full_tok, &st);
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 1,
	    "removed source: still searchable while logged");
	pt_json_put(j);
	j = get_json(&ctx, "/admin/api/logs", "source=old&environment=live",
	    full_tok, &st);
	ok(st == 200 && pt_json_len(pt_json_get(j, "data")) == 1,
	    "removed source: ... and its environment");
	pt_json_put(j);
	j = get_json(&ctx, "/admin/api/logs", "source=old&environment=dev",
	    full_tok, &st);
	ok(st == 400 && jstr(j, "message") && strstr(jstr(j, "message"),
	    "live") != NULL,
	    "removed source: an environment it never had is refused (%s)",
	    jstr(j, "message"));
	pt_json_put(j);
	j = get_json(&ctx, "/admin/api/sources/old/logs", NULL, full_tok, &st);
	is_int(st, 200, "removed source: sources/old/logs");
	pt_json_put(j);
	j = get_json(&ctx, "/admin/api/logs", "source=nope", full_tok, &st);
	is_str(jstr(j, "message"), "unknown source \"nope\" (want tasks; no longer "
	    "configured but in the log: old)",
	    "removed source: an unknown one names configured and logged ones");
	pt_json_put(j);
	/* Nothing outside the tables can be logged: they stay complete. */
	{
		struct pt_event ev;
		struct pt_txn *txn;

		memset(&ev, 0, sizeof(ev));
		pt_id_new("evt", clock_us, ev.id, ev.id_text);
		ev.source = "tasks";
		ev.environment = "development";
		ev.endpoint_id = DEV;
		ev.status = "skipped";
		ev.verify_status = "not_enforced:unsigned";
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn);
		is_int(pt_eventlog_append(txn, &ev), PT_EINVAL, "the log refuses "
		    "a status outside its table");
		ev.status = "accepted";
		ev.verify_status = "enforced";
		is_int(pt_eventlog_append(txn, &ev), PT_EINVAL, "... and a "
		    "verification status outside its table");
		pt_txn_abort(txn);
	}
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
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

/*
 * What a workflow runs on the host: over the API a new or changed exec
 * must name a handler in PORTER_HANDLER_DIR, and without one it cannot be
 * changed at all; an unchanged one (the export put back) and a removed
 * one pass.
 */
static const char exec_cfg[] = "{\"workflows\":{\"w\":{\"exec\":"
    "[\"/bin/true\"]}},\"sources\":[{\"key\":\"x\",\"type\":\"custom\","
    "\"environments\":{\"p\":{\"endpoint_id\":\"src_exec_0001\","
    "\"verify\":false}}}]}";

/* PUT exec_cfg with workflows replaced by "wf"; the status, *code. */
static int
put_workflows(struct pt_ctx *ctx, const char *query, const char *wf,
    char *code, size_t codelen)
{
	char body[2048];
	const char *tail = strstr(exec_cfg, ",\"sources\"");
	pt_json *j;
	int st;

	snprintf(body, sizeof(body), "{\"workflows\":%s%s", wf, tail);
	st = put_config(ctx, query, body, NULL, &j);
	snprintf(code, codelen, "%s", jstr(j, "error") ? jstr(j, "error") :
	    "");
	pt_json_put(j);
	return st;
}

/* The stored exec of workflow "w", as its export shows it. */
static int
stored_exec_is(struct pt_ctx *ctx, const char *want)
{
	pt_json *j;
	int st, same;

	j = get_json(ctx, "/admin/api/config", NULL, full_tok, &st);
	same = st == 200 && strstr(pt_json_text(j, 0, NULL), want) != NULL;
	pt_json_put(j);
	return same;
}

static void
test_config_exec(void)
{
	static const struct {
		const char	*wf;	/* "D": the handler directory */
		const char	*dir;	/* PORTER_HANDLER_DIR; "D", "L": link */
		int		 status;
		const char	*code;
		const char	*what;
	} cases[] = {
		{ "{\"w\":{\"exec\":[\"/bin/true\"]}}", NULL, 200, "",
		    "the stored exec unchanged, no handler directory" },
		{ "{\"w\":{}}", NULL, 200, "", "an exec removed" },
		{ "{\"w\":{\"exec\":[\"/bin/sh\",\"-c\",\"id\"]}}", NULL, 403,
		    "host_access_required", "/bin/sh -c: no handler directory" },
		{ "{\"w\":{\"exec\":[\"/bin/true\",\"x\"]}}", NULL, 403,
		    "host_access_required", "an argument added" },
		{ "{\"w\":{\"exec\":[\"/bin/true\"],\"cancel_exec\":"
		    "[\"/bin/true\"]}}", NULL, 403, "host_access_required",
		    "a cancel_exec added" },
		{ "{\"v\":{\"exec\":[\"/bin/true\"]}}", NULL, 403,
		    "host_access_required", "the same program for a new workflow" },
		{ "{\"w\":{\"exec\":[\"D/ok\"]}}", "rel/dir", 403,
		    "host_access_required", "a relative PORTER_HANDLER_DIR" },
		{ "{\"w\":{\"exec\":[\"D/ok\",\"--any\"]}}", "D", 200, "",
		    "a handler in the directory" },
		{ "{\"w\":{\"exec\":[\"D/inner\"]}}", "D", 200, "",
		    "a link to a handler in the directory" },
		{ "{\"w\":{\"exec\":[\"D/sub/deep\"],\"cancel_exec\":"
		    "[\"D/ok\"]}}", "D", 200, "", "a subdirectory; cancel_exec" },
		{ "{\"w\":{\"exec\":[\"L/ok\"]}}", "L", 200, "",
		    "through a linked PORTER_HANDLER_DIR" },
		{ "{\"w\":{\"exec\":[\"D/ok\"]}}", "L", 200, "",
		    "the resolved directory of a linked PORTER_HANDLER_DIR" },
		{ "{\"w\":{\"exec\":[\"/bin/sh\",\"-c\",\"id\"]}}", "D",
		    403, "handler_not_allowed", "/bin/sh: outside" },
		{ "{\"w\":{\"exec\":[\"D/escape\",\"-c\",\"id\"]}}", "D",
		    403, "handler_not_allowed", "a link in the directory to "
		    "/bin/sh" },
		{ "{\"w\":{\"exec\":[\"D/sub/../ok\"]}}", "D", 403,
		    "handler_not_allowed", "a .. component" },
		{ "{\"w\":{\"exec\":[\"D/../outside\"]}}", "D", 403,
		    "handler_not_allowed", "a .. out of the directory" },
		{ "{\"w\":{\"exec\":[\"D-evil/ok\"]}}", "D", 403,
		    "handler_not_allowed", "a sibling whose name starts alike" },
		{ "{\"w\":{\"exec\":[\"D/plain\"]}}", "D", 403,
		    "handler_not_allowed", "a file that is not executable" },
		{ "{\"w\":{\"exec\":[\"D/missing\"]}}", "D", 403,
		    "handler_not_allowed", "a file that does not exist" },
		{ "{\"w\":{\"exec\":[\"D/sub\"]}}", "D", 403,
		    "handler_not_allowed", "a directory" },
	};
	struct pt_ctx ctx;
	struct pt_store *s;
	char *dir, hd[300], link[320], evil[320], buf[700], wf[4096], code[64];
	const char *p;
	size_t i, n;
	int st;
	FILE *f;

	s = fresh(&dir, &ctx, exec_cfg);
	snprintf(hd, sizeof(hd), "%s/handlers", dir);
	snprintf(link, sizeof(link), "%s/handlers-link", dir);
	snprintf(evil, sizeof(evil), "%s/handlers-evil", dir);
	snprintf(buf, sizeof(buf), "%s/sub", hd);
	if (mkdir(hd, 0755) == -1 || mkdir(buf, 0755) == -1 ||
	    mkdir(evil, 0755) == -1 || symlink(hd, link) == -1)
		abort();
	{
		static const struct { const char *name; int mode; } files[] = {
			{ "ok", 0755 }, { "plain", 0644 }, { "sub/deep", 0755 },
			{ "../outside", 0755 }, { "../handlers-evil/ok", 0755 },
		};

		for (i = 0; i < nitems(files); i++) {
			snprintf(buf, sizeof(buf), "%s/%s", hd, files[i].name);
			if ((f = fopen(buf, "w")) == NULL)
				abort();
			fputs("#!/bin/sh\nexit 0\n", f);
			fclose(f);
			chmod(buf, (mode_t)files[i].mode);
		}
	}
	snprintf(buf, sizeof(buf), "%s/inner", hd);
	if (symlink("sub/deep", buf) == -1)
		abort();
	snprintf(buf, sizeof(buf), "%s/escape", hd);
	if (symlink("/bin/sh", buf) == -1)
		abort();

	for (i = 0; i < nitems(cases); i++) {
		/* Reset, as the host: the stored exec is /bin/true again. */
		unsetenv("PORTER_HANDLER_DIR");
		if (tu_apply(s, exec_cfg) != NULL)
			abort();
		if (cases[i].dir != NULL)
			setenv("PORTER_HANDLER_DIR", strcmp(cases[i].dir, "D") ==
			    0 ? hd : strcmp(cases[i].dir, "L") == 0 ? link :
			    cases[i].dir, 1);
		/* "D" and "L" in the document: the directory, the link. */
		for (p = cases[i].wf, n = 0; *p && n < sizeof(wf) - 700; p++)
			if (*p == 'D' && (p[1] == '/' || p[1] == '-'))
				n += (size_t)snprintf(wf + n, sizeof(wf) - n, "%s",
				    hd);
			else if (*p == 'L' && p[1] == '/')
				n += (size_t)snprintf(wf + n, sizeof(wf) - n, "%s",
				    link);
			else
				wf[n++] = *p;
		wf[n] = '\0';
		if (cases[i].status == 403) {
			st = put_workflows(&ctx, "dry_run=1", wf, code,
			    sizeof(code));
			ok(st == 403 && strcmp(code, cases[i].code) == 0,
			    "exec over the API, dry run: %s: %d %s", cases[i].what,
			    st, code);
		}
		st = put_workflows(&ctx, NULL, wf, code, sizeof(code));
		ok(st == cases[i].status && strcmp(code, cases[i].code) == 0,
		    "exec over the API: %s: %d %s", cases[i].what, st, code);
		if (cases[i].status == 403)
			ok(stored_exec_is(&ctx, "\"/bin/true\"]"), "  ... and the "
			    "stored exec stays /bin/true");
	}
	unsetenv("PORTER_HANDLER_DIR");
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

	pt_metrics_render(ctx->store, 0, &b);
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

/* POST "body" to the production endpoint, signed with "key"; the id. */
static int
ingest_prod(struct pt_ctx *ctx, const char *body, const char *key, char *id)
{
	struct call c = { "POST", "/receive/" PROD, NULL, NULL, body, NULL,
	    NULL, NULL };
	struct pt_iov iov = { body, strlen(body) };
	struct pt_resp resp;
	const char *logged;
	uint8_t mac[32];
	char hex[65];
	pt_json *j;
	int st;

	pt_mac(PT_MAC_HMAC_SHA256, (const uint8_t *)key, strlen(key), &iov, 1,
	    mac);
	pt_hex_encode(mac, 32, hex);
	hex[64] = '\0';
	sig_header = hex;
	st = call(ctx, &c, &resp);
	sig_header = NULL;
	j = pt_json_parse_trusted(resp.body.data, resp.body.len);
	pt_resp_free(&resp);
	/* An accepted event's id, or the one a refusal names "(event ...)". */
	if ((logged = jstr(j, "id")) == NULL && jstr(j, "message") != NULL)
		logged = strstr(jstr(j, "message"), "evt_");
	snprintf(id, PT_ID_MAX, "%.*s", logged ? (int)strcspn(logged, ")") :
	    0, logged ? logged : "");
	pt_json_put(j);
	return st;
}

/* POST logs/<id>/replay with "body" (NULL: none); status, *j the answer. */
static int
replay_call(struct pt_ctx *ctx, const char *id, const char *body,
    pt_json **j)
{
	struct call c = { "POST", NULL, NULL, full_tok, body, NULL, NULL,
	    NULL };
	struct pt_resp resp;
	char path[128];
	int st;

	snprintf(path, sizeof(path), "/admin/api/logs/%s/replay", id);
	c.path = path;
	st = call(ctx, &c, &resp);
	*j = pt_json_parse_trusted(resp.body.data, resp.body.len);
	pt_resp_free(&resp);
	return st;
}

/* GET logs/<id>: is it "replayable"?  -1 when it cannot be read. */
static int
replayable(struct pt_ctx *ctx, const char *id)
{
	char path[128];
	pt_json *j, *v;
	int st, r = -1;

	snprintf(path, sizeof(path), "/admin/api/logs/%s", id);
	j = get_json(ctx, path, NULL, full_tok, &st);
	if (st == 200 && (v = pt_json_get(j, "replayable")) != NULL &&
	    pt_json_type(v) == PT_J_BOOL)
		r = pt_json_bool(v);
	pt_json_put(j);
	return r;
}

/*
 * A replay runs the mappings as if the event were authentic: one that
 * failed an enforced check is 409 not_verified unless forced, and the
 * forced replay says so (and is not itself replayable without force); a
 * verified one and an unverified one where verification is off replay;
 * once the environment enforces, the unverified one needs force too.
 */
static void
test_replay_verification(void)
{
	static const char body[] = "{\"type\":\"task.assigned\",\"id\":"
	    "\"v1\"}";
	static const struct {
		const char	*body;
		int		 status;
		const char	*code;
		const char	*what;
	} refusals[] = {
		{ NULL, 409, "not_verified", "no body" },
		{ "", 409, "not_verified", "an empty body" },
		{ "{}", 409, "not_verified", "{}" },
		{ "{\"force\":false}", 409, "not_verified", "force false" },
		{ "{\"force\":\"yes\"}", 400, "invalid_request",
		    "force not a boolean" },
		{ "{\"forse\":true}", 400, "invalid_request", "an unknown field" },
		{ "[true]", 400, "invalid_request", "not an object" },
	};
	struct pt_ctx ctx;
	struct pt_store *s;
	char *dir, *cfg, bad[PT_ID_MAX], good[PT_ID_MAX], dev[PT_ID_MAX],
	    forced[PT_ID_MAX], again[PT_ID_MAX], path[128];
	pt_json *j, *vf;
	size_t i;
	int st;

	s = fresh(&dir, &ctx, config_text);
	is_int(ingest_prod(&ctx, body, "not-the-key", bad), 401,
	    "replay rule: a forged production event is refused");
	is_int(ingest_prod(&ctx, body, SECRET, good), 200,
	    "replay rule: a signed one is accepted");
	is_int(ingest(&ctx, "task.assigned", "d1", dev), 200,
	    "replay rule: an unsigned development event is accepted");
	is_int(replayable(&ctx, bad), 0, "replay rule: the forged event is "
	    "not replayable");
	is_int(replayable(&ctx, good), 1, "replay rule: the verified one is");
	is_int(replayable(&ctx, dev), 1, "replay rule: the unverified one in "
	    "an environment that does not verify is");

	for (i = 0; i < nitems(refusals); i++) {
		st = replay_call(&ctx, bad, refusals[i].body, &j);
		ok(st == refusals[i].status && jstr(j, "error") &&
		    strcmp(jstr(j, "error"), refusals[i].code) == 0,
		    "replay of enforced:failed, %s: %d %s", refusals[i].what,
		    st, jstr(j, "error") ? jstr(j, "error") : "");
		if (i == 0)
			ok(jstr(j, "message") && strstr(jstr(j, "message"),
			    "enforced:failed") && strstr(jstr(j, "message"),
			    "force"), "  ... the message says why and how: %s",
			    jstr(j, "message") ? jstr(j, "message") : "");
		pt_json_put(j);
	}
	st = replay_call(&ctx, bad, "{\"force\":true}", &j);
	snprintf(forced, sizeof(forced), "%s", jstr(j, "id") ? jstr(j, "id") :
	    "");
	ok(st == 200 && strcmp(jstr(j, "replay_of"), bad) == 0,
	    "replay of enforced:failed, forced: 200");
	pt_json_put(j);
	snprintf(path, sizeof(path), "/admin/api/logs/%s", forced);
	j = get_json(&ctx, path, NULL, full_tok, &st);
	vf = pt_json_get(j, "verification");
	ok(st == 200 && pt_json_bool(pt_json_get(j, "replay_forced")) &&
	    jstr(j, "replayed_by") && strcmp(jstr(j, "replayed_by"), "full") ==
	    0 && strcmp(jstr(vf, "status"), "replayed") == 0 &&
	    strcmp(jstr(vf, "reason"), "enforced:failed") == 0,
	    "  ... the new event is logged as forced, by token full, replayed "
	    "from enforced:failed");
	ok(pt_json_get(j, "replayable") && !pt_json_bool(pt_json_get(j,
	    "replayable")), "  ... and is not replayable itself");
	pt_json_put(j);
	st = replay_call(&ctx, forced, NULL, &j);
	ok(st == 409 && strcmp(jstr(j, "error"), "not_verified") == 0,
	    "a replay of the forced replay needs force too");
	pt_json_put(j);

	st = replay_call(&ctx, good, NULL, &j);
	snprintf(again, sizeof(again), "%s", jstr(j, "id") ? jstr(j, "id") :
	    "");
	ok(st == 200, "replay of enforced:verified: 200");
	pt_json_put(j);
	snprintf(path, sizeof(path), "/admin/api/logs/%s", again);
	j = get_json(&ctx, path, NULL, full_tok, &st);
	ok(pt_json_get(j, "replay_forced") == NULL && jstr(j, "replayed_by") &&
	    strcmp(jstr(j, "replayed_by"), "full") == 0,
	    "  ... not forced, by token full");
	pt_json_put(j);
	is_int(replay_call(&ctx, again, NULL, &j), 200,
	    "a replay of a verified replay: 200");
	pt_json_put(j);
	st = replay_call(&ctx, dev, "", &j);
	is_int(st, 200, "replay of not_enforced:unsigned, verification off: "
	    "200");
	pt_json_put(j);

	/* The operator turns verification on for development. */
	{
		const char *off = strstr(config_text, "\"verify\":false");
		size_t n = sizeof(config_text) + 64;

		if ((cfg = pt_malloc(n)) == NULL)
			abort();
		snprintf(cfg, n, "%.*s\"verify\":true,\"signing_keys\":[{"
		    "\"secret\":\"dev-key\"}]%s", (int)(off - config_text),
		    config_text, off + 14);
		if (tu_apply(s, cfg) != NULL)
			abort();
		pt_free(cfg);
	}
	is_int(replayable(&ctx, dev), 0, "verification now on: the unsigned "
	    "development event is not replayable");
	st = replay_call(&ctx, dev, NULL, &j);
	ok(st == 409 && strstr(jstr(j, "message"), "now enforces") != NULL,
	    "  ... replay 409: %s", jstr(j, "message") ? jstr(j, "message") :
	    "");
	pt_json_put(j);
	is_int(replay_call(&ctx, dev, "{\"force\":true}", &j), 200,
	    "  ... forced: 200");
	pt_json_put(j);
	is_int(replayable(&ctx, good), 1, "the verified one still is");
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
}

/* ---------------------------------------------------------- retention */


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
	is_int(tu_entries(s, PT_T_EVENTS), 105, "retention: 105 events");
	is_int(tu_entries(s, PT_T_ACTIONS), 106, "retention: 106 action logs");

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
			is_int(tu_entries(s, PT_T_EVENTS), 95, "retention: one "
			    "bounded step deletes 10 events");
		if (!rs.more)
			break;
	}
	is_int(bad, 0, "retention: each step deletes at most 10 events, each "
	    "with its action log");
	is_int(tu_entries(s, PT_T_EVENTS), 5, "retention: the day-2 events stay");
	is_int(tu_entries(s, PT_T_ACTIONS), 5, "retention: their action logs "
	    "stay; the stray one went");
	is_int(tu_entries(s, PT_T_EV_SOURCE) + tu_entries(s, PT_T_EV_ENV) +
	    tu_entries(s, PT_T_EV_TYPE) + tu_entries(s, PT_T_EV_STATUS), 20,
	    "retention: index entries went with the events");
	is_int(tu_problems(s), 0, "retention: porterctl check finds no problem");

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

		before = tu_entries(s, PT_T_EVENTS);
		for (i = 0; i < 8; i++) {
			snprintf(key, sizeof(key), "r%zu-%zu", round, i);
			if (ingest(&ctx, "task.listed", key, NULL) != 200)
				bad++;
		}
		is_int(before + 8 - tu_entries(s, PT_T_EVENTS), want,
		    "retention: 8 writes on day 6 delete %zu old events", want);
	}
	is_int(tu_entries(s, PT_T_EVENTS), 32, "retention: what is left: the 32 "
	    "new events");
	is_int(tu_entries(s, PT_T_ACTIONS), 0, "retention: no action log is left "
	    "(the new events map to nothing)");
	is_int(bad, 0, "retention: every write answered 200");
	is_int(tu_problems(s), 0, "retention: porterctl check finds no problem");
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
	test_console_missing(&ctx);
	test_token_compare(s);
	test_shapes(&ctx);
	test_pagination(&ctx, made, nitems(made));
	test_filters(&ctx);
	test_metrics_auth(&ctx);
	test_metrics_content(&ctx);
	test_replay(&ctx);
	test_config(&ctx);
	test_config_refs();
	test_config_exec();
	test_replay_verification();
	test_scan_limit();
	test_removed_source();
	test_retention();

	pt_free(export_text);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
