/*
 * route.c - a request in, a response out (see route.h): /healthz, the
 * webhook endpoints (ingest.h) and the operators' side (admin.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actidx.h"
#include "admin.h"
#include "alloc.h"
#include "evrec.h"
#include "execute.h"
#include "ingest.h"
#include "metrics.h"
#include "route.h"

/* Seconds a client waits before asking a store that did not open again. */
#define STORE_RETRY_AFTER	"30"

/* The store's use, for /healthz: what GET /admin/api/status says. */
static pt_json *
store_use(struct pt_store *s, const struct pt_store_stat *st)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_set(o, "backend", pt_json_new_cstr(pt_store_backend(s))) !=
	    PT_OK ||
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
		return pt_reject_store(ctx, req, resp, rc, "reading the store's "
		    "use");
	else if (st.read_only) {
		state = "read_only";
		code = "store_read_only";
		status = 503;
		snprintf(msg, sizeof(msg), "the store is open read-only: no "
		    "webhook can be recorded");
	} else if ((rc = pt_store_check_room(ctx->store, PT_EVENT_ROOM)) != PT_OK ||
	    (st.room_at_full != UINT64_MAX &&
	    st.room < st.room_at_full + PT_EVENT_ROOM)) {
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
	    (ctx->store != NULL && (use = store_use(ctx->store, &st)) == NULL) ||
	    (use != NULL ? pt_json_set(o, "store", use) :
	    pt_json_set_null(o, "store")) != PT_OK) {
		pt_json_put(o);
		return pt_reject(ctx, req, resp, 500, "internal_error",
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
		return pt_reject(ctx, req, resp, 500, "internal_error",
		    "out of memory");
	}
	pt_json_put(o);
	return status;
}

/* GET /healthz, answered with the store open or not. */
static int
serve_healthz(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, char *route, int *logged)
{
	const char *method = req->method ? req->method : "";

	(void)route;
	(void)logged;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		pt_resp_header(resp, "Allow", "GET, HEAD");
		return pt_reject(ctx, req, resp, 405, "method_not_allowed",
		    "use GET on /healthz");
	}
	return healthz(ctx, req, resp);
}

/* /receive/<endpoint_id>, and a reverse ETL call's path under it. */
static int
serve_receive(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, char *route, int *logged)
{
	char *endpoint = route + strlen("/receive/"), *slash, *sub = NULL;
	int status;

	if ((slash = strchr(endpoint, '/')) != NULL) {
		/* Keep the sub-path ("/v1/users/u1") apart. */
		if ((sub = pt_strdup(slash)) == NULL)
			return pt_reject(ctx, req, resp, 500, "internal_error",
			    "out of memory");
		*slash = '\0';
	}
	if (endpoint[0] == '\0' || (sub != NULL && sub[1] == '\0'))
		status = pt_reject(ctx, req, resp, 404, "not_found",
		    "no such resource: want /receive/<endpoint_id>");
	else
		status = pt_ingest(ctx, req, resp, endpoint, sub, logged);
	pt_free(sub);
	return status;
}

/* The admin API, the console and /metrics (admin.h). */
static int
serve_admin(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, char *route, int *logged)
{
	(void)logged;
	return pt_admin_handle(ctx, req, resp, route);
}

static int
serve_nothing(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, char *route, int *logged)
{
	(void)route;
	(void)logged;
	return pt_reject(ctx, req, resp, 404, "not_found", "no such resource");
}

static int
is_healthz(const char *route)
{
	return strcmp(route, "/healthz") == 0;
}

static int
is_receive(const char *route)
{
	return strncmp(route, "/receive/", strlen("/receive/")) == 0;
}

/*
 * What the responder serves, the first match taking the route (mount
 * removed); what matches nothing is 404.  "store": without the store it
 * is answered 503 store_unavailable.  "webhook": its refusals count in
 * porter_requests_refused_total unless an event was logged (that counts in
 * porter_events_total); health answers and the admin API are not
 * webhooks refused.
 */
static const struct {
	int	(*owns)(const char *route);
	int	 store;
	int	 webhook;
	int	(*serve)(struct pt_ctx *, const struct pt_req *,
		    struct pt_resp *, char *route, int *logged);
} routes[] = {
	{ is_healthz, 0, 0, serve_healthz },
	{ is_receive, 1, 1, serve_receive },
	{ pt_admin_owns, 1, 0, serve_admin },
	{ NULL, 1, 1, serve_nothing },		/* anything else */
};

int
pt_handle(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp)
{
	struct pt_buf route = { 0 };
	enum pt_err rc;
	size_t i;
	int status, logged = 0, webhook = 1;

	memset(resp, 0, sizeof(*resp));
	if ((rc = pt_req_route(req, &route)) != PT_OK) {
		status = rc == PT_ENOMEM ? pt_reject(ctx, req, resp, 500,
		    "internal_error", "out of memory") : pt_reject(ctx, req, resp,
		    404, "not_found", "no such resource");
		goto out;
	}
	for (i = 0; routes[i].owns != NULL && !routes[i].owns(route.data); i++)
		continue;
	webhook = routes[i].webhook;
	if (routes[i].store && ctx->store == NULL) {
		pt_resp_header(resp, "Retry-After", STORE_RETRY_AFTER);
		/* The reason names paths and settings: for the log only. */
		pt_ctx_log(ctx, "store unavailable: %s", ctx->store_error ?
		    ctx->store_error : "(no reason)");
		status = pt_reject(ctx, req, resp, 503, "store_unavailable", "the "
		    "store cannot be opened; retry later");
		goto out;
	}
	status = routes[i].serve(ctx, req, resp, route.data, &logged);
out:
	if (webhook && status >= 400 && !logged)
		pt_metrics_refused(status);
	pt_buf_free(&route);
	return status;
}

void
pt_idle(struct pt_ctx *ctx)
{
	/* Once a second per process, whichever thread gets there. */
	static int64_t last_sync, last_flush, last_dict, last_index;
	static int indexed;
	int done = 0;
	int64_t now, last;

	if (ctx->store == NULL)
		return;
	now = ctx->now();
	/* Refusals counted in the process join the store's counters. */
	last = __atomic_load_n(&last_flush, __ATOMIC_RELAXED);
	if (now - last >= 1000000 && __atomic_compare_exchange_n(&last_flush,
	    &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_metrics_flush(ctx->store, ctx->committer);
	/*
	 * A store from before the action index gets it a chunk a second,
	 * between requests (while incomplete, queries read the log).
	 */
	if (!__atomic_load_n(&indexed, __ATOMIC_RELAXED) &&
	    now - __atomic_load_n(&last_index, __ATOMIC_RELAXED) >= 1000000) {
		__atomic_store_n(&last_index, now, __ATOMIC_RELAXED);
		if (pt_actions_index_step(ctx->store, &done) == PT_OK && done)
			__atomic_store_n(&indexed, 1, __ATOMIC_RELAXED);
	}
	/* Every 10 s: is a compression dictionary due (evrec.h)? */
	last = __atomic_load_n(&last_dict, __ATOMIC_RELAXED);
	if (now - last >= 10 * 1000000LL && __atomic_compare_exchange_n(
	    &last_dict, &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_evrec_maintain(ctx->store, now, NULL);
	if (ctx->cfg == NULL || ctx->cfg->durability != PT_DURABLE_RELAXED)
		return;
	last = __atomic_load_n(&last_sync, __ATOMIC_RELAXED);
	if (now - last >= 1000000 && __atomic_compare_exchange_n(&last_sync,
	    &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		pt_store_sync(ctx->store);
}
