/*
 * admin.c - the admin API, the console's files and /metrics (see admin.h;
 * every route with an example: porter-api(7)): the entry, and the route
 * table that lists the API; each route's function is in the admin_*.c
 * file of its part (admin_int.h).
 *
 * Order for an API call: authenticate (401) -> route (404, 405) ->
 * authorise (403) -> read and validate the body (411, 413, 415, 400) ->
 * answer.  Nothing about a route, not even whether it exists, is said
 * before the token checked out.  Reads run in one read transaction; the
 * two calls that write (replay, config apply) go through pt_write like
 * every write of the ingest path (group commit included).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "alloc.h"
#include "json.h"
#include "nitems.h"

#define API_PREFIX	"/admin/api"
#define CSP_CONSOLE	"default-src 'self'; base-uri 'none'; " \
			"form-action 'none'; frame-ancestors 'none'"
#define CSP_API		"default-src 'none'; frame-ancestors 'none'"

/*
 * The URL prefix Porter is mounted under ("" at the root): REQUEST_URI's
 * path less the routed path, else PORTER_MOUNT, else SCRIPT_NAME.
 */
static void
mount_prefix(struct admin *a)
{
	const struct pt_req *req = a->req;
	const char *p = NULL;
	size_t n = 0, rl = strlen(a->route);

	if (req->request_uri != NULL) {
		n = strcspn(req->request_uri, "?#");
		if (n >= rl && memcmp(req->request_uri + n - rl, a->route,
		    rl) == 0) {
			p = req->request_uri;
			n -= rl;
		}
	}
	if (p == NULL && req->mount != NULL) {
		p = req->mount;
		n = strlen(p);
	} else if (p == NULL && req->script_name != NULL) {
		p = req->script_name;
		n = strlen(p);
	}
	while (p != NULL && n > 0 && p[n - 1] == '/')
		n--;
	if (p == NULL || n >= sizeof(a->prefix))
		n = 0;
	if (n)
		memcpy(a->prefix, p, n);
	a->prefix[n] = '\0';
}

/* -------------------------------------------------------------- whoami */

static int
api_whoami(struct admin *a)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	pt_json_set(o, "name", pt_json_new_cstr(a->tok.name));
	pt_json_set(o, "read_only", pt_json_new_bool(a->tok.read_only));
	adm_set_time(o, "created_at", a->tok.created_at);
	return adm_send_json(a, 200, o);
}

/* ------------------------------------------------------------- routing */

/*
 * The API.  A pattern is the path under <mount>/admin/api/, "*" matching
 * one segment.  "write": needs a token that is not read-only.  GET routes
 * answer HEAD too.
 */
static const struct route {
	const char	*method;
	const char	*pattern;
	int		(*fn)(struct admin *);
	int		 write;
} routes[] = {
	{ "GET", "whoami", api_whoami, 0 },
	{ "GET", "status", api_status, 0 },
	{ "GET", "sources", api_sources, 0 },
	{ "GET", "sources/*", api_source, 0 },
	{ "GET", "sources/*/status", api_source_status, 0 },
	{ "GET", "sources/*/events", api_source_events, 0 },
	{ "GET", "sources/*/logs", api_source_logs, 0 },
	{ "POST", "sources/*/rehearse", api_rehearse, 0 },
	{ "GET", "mapping_actions", api_mapping_actions, 0 },
	{ "GET", "event_types", api_event_types, 0 },
	{ "GET", "logs", api_logs, 0 },
	{ "GET", "logs/*", api_log, 0 },
	{ "POST", "logs/*/replay", api_replay, 1 },
	{ "POST", "replays", api_replays, 1 },
	{ "GET", "actions", api_actions, 0 },
	{ "GET", "users", api_data_list, 0 },
	{ "GET", "users/*", api_data_get, 0 },
	{ "GET", "objects/*", api_data_list, 0 },
	{ "GET", "objects/*/*", api_data_get, 0 },
	{ "GET", "tenants", api_data_list, 0 },
	{ "GET", "tenants/*", api_data_get, 0 },
	{ "GET", "audiences", api_data_list, 0 },
	{ "GET", "audiences/*", api_data_list, 0 },
	{ "GET", "runs", api_data_list, 0 },
	{ "GET", "runs/*", api_data_get, 0 },
	{ "GET", "config", api_config_get, 0 },
	{ "PUT", "config", api_config_put, 1 },
};

/* Does the split path match "pattern"? */
static int
match(const struct admin *a, const char *pattern)
{
	const char *p = pattern;
	size_t i, n;

	for (i = 0; i < a->nseg; i++) {
		if (*p == '\0')
			return 0;
		n = strcspn(p, "/");
		if (!(n == 1 && *p == '*') && (strlen(a->seg[i]) != n ||
		    memcmp(a->seg[i], p, n) != 0))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return *p == '\0';
}

/*
 * Split the path under /admin/api/ into segments; -1 when malformed, -2
 * out of memory.
 */
static int
split(struct admin *a, const char *sub)
{
	char *p, *slash;

	if ((a->segs_buf = pt_strdup(sub)) == NULL)
		return -2;
	for (p = a->segs_buf; ; p = slash + 1) {
		/*
		 * Too deep, or an empty segment: at the end ("\0") or inside
		 * ("/": else "sources//logs" listed the logs of source "").
		 */
		if (a->nseg == MAX_SEGS || *p == '\0' || *p == '/')
			return -1;
		a->seg[a->nseg++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			return 0;
		*slash = '\0';
	}
}

static int
api(struct admin *a, const char *sub)
{
	const struct route *r = NULL;
	char allow[64];
	size_t i;
	int rc;

	if (adm_authenticate(a) < 0)
		return adm_unauthorized(a);
	if ((rc = adm_parse_query(a)) == -2)
		return adm_fail(a, 500, "internal_error", "out of memory");
	if (rc < 0)
		return adm_fail(a, 400, "invalid_parameter", "the query string is "
		    "malformed");
	allow[0] = '\0';
	if (*sub != '\0' && (rc = split(a, sub)) == -2)
		return adm_fail(a, 500, "internal_error", "out of memory");
	if (*sub != '\0' && rc == 0)
		for (i = 0; i < nitems(routes); i++) {
			if (!match(a, routes[i].pattern))
				continue;
			if (strcmp(routes[i].method, a->method) == 0)
				r = &routes[i];
			snprintf(allow + strlen(allow), sizeof(allow) -
			    strlen(allow), "%s%s%s", allow[0] ? ", " : "",
			    routes[i].method, strcmp(routes[i].method, "GET") ==
			    0 ? ", HEAD" : "");
		}
	if (r == NULL && allow[0] == '\0')
		return adm_fail(a, 404, "not_found", "no such API route");
	if (r == NULL) {
		pt_resp_header(a->resp, "Allow", allow);
		return adm_fail(a, 405, "method_not_allowed", "use %s", allow);
	}
	if (r->write && a->tok.read_only)
		return adm_fail(a, 403, "forbidden", "token %s is read-only",
		    a->tok.name);
	return r->fn(a);
}

/* ------------------------------------------------------------ the entry */

int
pt_admin_owns(const char *route)
{
	return strcmp(route, "/metrics") == 0 || strcmp(route, "/admin") == 0 ||
	    strncmp(route, "/admin/", 7) == 0;
}

int
pt_admin_handle(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, const char *route)
{
	struct admin a;
	size_t i;
	int status;

	memset(&a, 0, sizeof(a));
	a.ctx = ctx;
	a.req = req;
	a.resp = resp;
	a.route = route;
	a.method = req->method ? req->method : "";
	if (strcmp(a.method, "HEAD") == 0)
		a.method = "GET";
	mount_prefix(&a);

	if (strcmp(route, "/metrics") == 0)
		status = adm_metrics(&a);
	else if (strcmp(route, API_PREFIX) == 0)
		status = api(&a, "");
	else if (strncmp(route, API_PREFIX "/", sizeof(API_PREFIX)) == 0)
		status = api(&a, route + sizeof(API_PREFIX));
	else if (strcmp(route, "/admin") == 0) {
		/* Relative, so that it works under any mount. */
		resp->status = status = 302;
		resp->content_type = "text/plain; charset=utf-8";
		pt_resp_header(resp, "Location", "admin/");
		pt_buf_adds(&resp->body, "admin/\n");
	} else
		status = adm_console(&a, route + 7);

	if (resp->content_type != NULL &&
	    strncmp(resp->content_type, "text/html", 9) == 0) {
		pt_resp_header(resp, "Content-Security-Policy", CSP_CONSOLE);
		pt_resp_header(resp, "X-Frame-Options", "DENY");
	} else
		pt_resp_header(resp, "Content-Security-Policy", CSP_API);
	pt_resp_header(resp, "Referrer-Policy", "no-referrer");

	pt_txn_abort(a.txn);
	for (i = 0; i < a.nparams; i++) {
		pt_free(a.pname[i]);
		pt_free(a.pval[i]);
	}
	pt_free(a.segs_buf);
	pt_wipe(&a.tok, sizeof(a.tok));
	return status;
}
