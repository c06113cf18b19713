/*
 * fuzz-admin.c - the admin API's request parsing (src/admin*.c): the path
 * under /admin/api/ split into segments and matched against the routes,
 * the query string split and percent-decoded, and the filters, times,
 * cursors and limits the read routes take from it.  Through pt_handle() on
 * a fixed configuration and a real LMDB store (on tmpfs when /dev/shm is
 * there) that holds a few logged requests, so that log queries have
 * records to walk and filter.
 *
 * Input: up to MAX_REQUESTS requests, one per line:
 *
 *	[METHOD] PATH[?QUERY] [FLAG ...] [body=TEXT]
 *
 * METHOD is a word of capitals; without one the line is a GET.  A PATH
 * that does not start with "/" is under /admin/api/ ("logs?limit=5").  "@0" to "@7" anywhere
 * in the line stand for the ids of the logged requests (evt_..., random at
 * every store reset); "@8" and "@9" for ids no event has.  Flags:
 *	ro		a read-only token (default: a read-write one)
 *	anon		no Authorization header
 *	uri		route by REQUEST_URI, no PATH_INFO
 *	mount=/P	PORTER_MOUNT (implies uri)
 *	script=/P	SCRIPT_NAME (implies uri)
 *	oom=N		allocations fail after N more (pt_alloc_fail_after)
 *	body=TEXT	the rest of the line is a JSON body (rehearse, config)
 *
 * Checks, besides those of fuzz-handler (plausible status, JSON bodies,
 * no 500 unless allocations were made to fail): without a token every API
 * path answers 401, whatever its route or query; with one, an API path
 * with an empty segment ("sources//logs") 404 (or 400 for its query); a 200 from a log listing
 * holds at most page_info.limit entries, each with an id; a GET made to
 * run out of memory answers what it answers with memory, or 500, or 401
 * (the token check fails closed), never a 4xx that blames the client.
 * The store is reset every RESET_EVERY inputs, when it is full and after a
 * configuration was applied.  PT_FUZZ_VERBOSE prints every reply.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "handler.h"
#include "ids.h"
#include "json.h"
#include "nitems.h"
#include "tokens.h"
#include "fuzz.h"
#include "fuzz-store.h"

#define RESET_EVERY	2000
#define MAP_SIZE	(32ULL * 1024 * 1024)
#define MAX_REQUESTS	8
#define MAX_IDS		10

static const char config_text[] =
"{\"settings\":{\"durability\":\"relaxed\",\"log_retention_days\":1},"
" \"workflows\":{\"task-assigned\":{}},"
" \"sources\":["
"  {\"key\":\"open\",\"type\":\"custom\",\"environments\":{"
"   \"prod\":{\"endpoint_id\":\"src_open_0001\",\"verify\":false,"
"    \"signing_keys\":[{\"secret\":\"k1\"}],"
"    \"event_type_path\":\"body.type\",\"timestamp_path\":\"body.ts\","
"    \"idempotency\":{\"enabled\":true,\"key_path\":\"body.id\"},"
"    \"mappings\":[{\"event_type\":\"task.assigned\","
"      \"action\":\"workflows_trigger\",\"params\":{\"key\":\"task-assigned\","
"      \"recipients\":\"data.to\"}}]},"
"   \"dev\":{\"endpoint_id\":\"src_open_dev1\",\"verify\":false,"
"    \"event_type_path\":\"body.type\"}}},"
"  {\"key\":\"signed\",\"type\":\"custom\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_signed_0001\",\"verify\":true,"
"    \"signing_keys\":[{\"secret\":\"k2\"}],"
"    \"event_type_path\":\"body.type\"}}},"
"  {\"key\":\"seg\",\"type\":\"segment\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_seg_0001\",\"verify\":false}}}"
" ]}";

/* Requests logged into every fresh store (endpoint, body). */
static const struct {
	const char	*path;
	const char	*body;
} logged[] = {
	{ "/receive/src_open_0001", "{\"type\":\"task.assigned\",\"id\":\"e1\","
	    "\"ts\":\"2026-11-23T10:15:00Z\",\"data\":{\"to\":\"u1\"}}" },
	{ "/receive/src_open_0001", "{\"type\":\"task.assigned\",\"id\":\"e1\","
	    "\"data\":{\"to\":\"u1\"}}" },			/* duplicate */
	{ "/receive/src_open_0001", "{\"type\":\"other\",\"id\":\"e2\"}" },
	{ "/receive/src_open_dev1", "{\"type\":\"task.assigned\"}" },
	{ "/receive/src_signed_0001", "{\"type\":\"x\"}" },	/* unsigned */
	{ "/receive/src_open_0001", "{\"type\":" },		/* not JSON */
	{ "/receive/src_seg_0001", "{\"type\":\"identify\",\"userId\":\"u1\","
	    "\"messageId\":\"m1\"}" },
	{ "/receive/src_seg_0001", "{\"type\":\"track\",\"event\":\"Signed Up\","
	    "\"userId\":\"u2\",\"messageId\":\"m2\"}" },
};

static char		 ids[MAX_IDS][PT_ID_MAX];


/* Log logged[i]; its id (from the answer) into ids[i] when there is one. */
static void
log_one(size_t i)
{
	struct pt_req req;
	struct pt_resp resp;
	struct pt_json_error jerr;
	struct tu_body b;
	pt_json *j = NULL;
	const char *id;
	char clen[32];

	memset(&req, 0, sizeof(req));
	b.data = logged[i].body;
	b.len = strlen(b.data);
	b.pos = 0;
	b.chunk = 0;
	snprintf(clen, sizeof(clen), "%zu", b.len);
	req.method = "POST";
	req.path_info = logged[i].path;
	req.request_uri = logged[i].path;
	req.content_type = "application/json";
	req.content_length = clen;
	req.remote_addr = "192.0.2.1";
	req.read_body = tu_read;
	req.read_arg = &b;
	pt_handle(&ctx, &req, &resp);
	if (resp.body.len > 0 && pt_json_parse(resp.body.data, resp.body.len,
	    PT_JSON_MAX_DEPTH, &j, &jerr) == PT_OK &&
	    (id = pt_json_str(pt_json_get(j, "id"), NULL)) != NULL)
		snprintf(ids[i], sizeof(ids[i]), "%s", id);
	pt_json_put(j);
	pt_resp_free(&resp);
	pt_idle(&ctx);
}

/* A fresh store with the configuration applied and logged[] logged. */
static void
open_store(void)
{
	size_t i;

	fuzz_store_open(config_text, MAP_SIZE);
	/* No console files: its routes answer 404, never 500. */
	setenv("PORTER_CONSOLE_DIR", dir, 1);
	unsetenv("PORTER_METRICS_AUTH");

	/* Ids no event has, well-formed: "@8", "@9" and the gaps. */
	for (i = 0; i < MAX_IDS; i++) {
		uint8_t bin[PT_ID_BIN];

		pt_be64_put(bin, (uint64_t)(FUZZ_NOW * 1000000LL));
		memset(bin + 8, (int)i, PT_ID_BIN - 8);
		pt_id_text("evt", bin, ids[i]);
	}
	for (i = 0; i < nitems(logged); i++)
		log_one(i);
}

struct request {
	struct pt_req		 req;
	struct pt_header	 h[1];
	struct tu_body		 body;
	char			 line[4096];	/* "@N" replaced */
	char			 path[4200];
	char			 uri[4300];
	char			 clen[32];
	char			 bearer[16 + PT_TOKEN_LEN];
	long			 oom;		/* -1: none */
	int			 api;		/* routed under /admin/api */
	int			 logs;		/* a log listing */
	int			 empty_seg;	/* "//" in the API path */
	int			 anon;
};

/* Copy "s" ("n" bytes) into r->line with "@0".."@9" replaced; -1: too long. */
static int
expand(struct request *r, const char *s, size_t n)
{
	size_t i, o = 0, l;
	const char *add;
	char one[2];

	for (i = 0; i < n; i++) {
		if (s[i] == '@' && i + 1 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '9') {
			add = ids[s[i + 1] - '0'];
			i++;
		} else {
			one[0] = s[i];
			one[1] = '\0';
			add = one;
		}
		if ((l = strlen(add)) == 0)
			l = 1;		/* a NUL byte of the input */
		if (o + l >= sizeof(r->line))
			return -1;
		memcpy(r->line + o, add, l);
		o += l;
	}
	r->line[o] = '\0';
	return 0;
}

/* Parse one request line; -1 to skip it. */
static int
parse_request(const char *text, size_t len, struct request *r)
{
	char *tok, *save = NULL, *first, *path, *q, *body;
	size_t n;
	int uri = 0, ro = 0;

	memset(r, 0, sizeof(*r));
	r->oom = -1;
	if (expand(r, text, len) < 0)
		return -1;
	/* The body runs to the end of the line, blanks included. */
	if ((body = strstr(r->line, " body=")) != NULL) {
		*body = '\0';
		r->body.data = body + 6;
		r->body.len = strlen(r->body.data);
	}
	if ((first = strtok_r(r->line, " ", &save)) == NULL)
		return -1;
	if (first[strspn(first, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")] == '\0' &&
	    (path = strtok_r(NULL, " ", &save)) != NULL)
		r->req.method = first;
	else {
		r->req.method = "GET";
		path = first;
	}
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(tok, "ro") == 0)
			ro = 1;
		else if (strcmp(tok, "anon") == 0)
			r->anon = 1;
		else if (strcmp(tok, "uri") == 0)
			uri = 1;
		else if (strncmp(tok, "mount=", 6) == 0) {
			uri = 1;
			r->req.mount = tok + 6;
		} else if (strncmp(tok, "script=", 7) == 0) {
			uri = 1;
			r->req.script_name = tok + 7;
		} else if (strncmp(tok, "oom=", 4) == 0)
			r->oom = strtol(tok + 4, NULL, 10) & 0xffff;
	}
	snprintf(r->path, sizeof(r->path), "%s%s", *path == '/' ? "" :
	    "/admin/api/", path);
	/* REQUEST_URI as sent; PATH_INFO and QUERY_STRING split from it. */
	snprintf(r->uri, sizeof(r->uri), "%s%s", r->req.mount ? r->req.mount :
	    "", r->path);
	r->req.request_uri = r->uri;
	if ((q = strchr(r->path, '?')) != NULL) {
		*q = '\0';
		r->req.query = q + 1;
	}
	if (!uri)
		r->req.path_info = r->path;
	/* What the route is is only sure when PATH_INFO gives it. */
	r->api = !uri && (strcmp(r->path, "/admin/api") == 0 ||
	    strncmp(r->path, "/admin/api/", 11) == 0);
	n = strlen(r->path);
	r->logs = r->api && n >= 5 && strcmp(r->path + n - 5, "/logs") == 0;
	r->empty_seg = r->api && strstr(r->path + 10, "//") != NULL;
	r->req.remote_addr = "127.0.0.1";
	if (!r->anon) {
		snprintf(r->bearer, sizeof(r->bearer), "Bearer %s",
		    ro ? token_ro : token_rw);
		r->h[0].name = "authorization";
		r->h[0].value = r->bearer;
		r->h[0].value_len = strlen(r->bearer);
		r->req.nheaders = 1;
	}
	r->req.headers = r->h;
	if (r->body.data == NULL)
		r->body.data = "";
	else {
		snprintf(r->clen, sizeof(r->clen), "%zu", r->body.len);
		r->req.content_length = r->clen;
	}
	r->req.content_type = "application/json";
	r->req.read_body = tu_read;
	r->req.read_arg = &r->body;
	return 0;
}

/* A log listing: at most page_info.limit entries, each with an id. */
static void
check_logs(const struct pt_resp *resp)
{
	struct pt_json_error jerr;
	pt_json *j = NULL, *data, *e;
	int64_t limit;
	size_t i, n;

	if (pt_json_parse(resp->body.data, resp->body.len, PT_JSON_MAX_DEPTH,
	    &j, &jerr) != PT_OK)
		return;		/* check_response had its say */
	if ((data = pt_json_get(j, "data")) == NULL ||
	    pt_json_type(data) != PT_J_ARRAY) {
		pt_json_put(j);
		return;		/* not a listing: a single event */
	}
	n = pt_json_len(data);
	limit = pt_json_int(pt_json_get(pt_json_get(j, "page_info"), "limit"));
	FZ_ASSERT(limit >= 1 && (size_t)limit >= n, "%zu entries, "
	    "page_info.limit %lld", n, (long long)limit);
	for (i = 0; i < n; i++) {
		e = pt_json_index(data, i);
		FZ_ASSERT(pt_json_str(pt_json_get(e, "id"), NULL) != NULL,
		    "entry %zu has no id", i);
	}
	pt_json_put(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request *r;
	struct pt_resp resp;
	struct fz_cur c;
	char *line;
	size_t n, i;
	int status, ref, reset = 0;

	if (verbose < 0)
		verbose = getenv("PT_FUZZ_VERBOSE") != NULL;
	if (store == NULL || ++inputs % RESET_EVERY == 0) {
		close_store();
		open_store();
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	fz_open(&c, data, size);
	for (i = 0; i < MAX_REQUESTS && (line = fz_line(&c, &n)) != NULL;
	    i++) {
		if (parse_request(line, n, r) < 0)
			continue;
		/* What a read answers with memory, to compare. */
		ref = -1;
		if (r->oom >= 0 && (strcmp(r->req.method, "GET") == 0 ||
		    strcmp(r->req.method, "HEAD") == 0)) {
			ref = pt_handle(&ctx, &r->req, &resp);
			pt_resp_free(&resp);
			r->body.pos = 0;
		}
		if (r->oom >= 0)
			pt_alloc_fail_after(r->oom);
		status = pt_handle(&ctx, &r->req, &resp);
		if (r->oom >= 0)
			pt_alloc_fail_after(-1);
		if (verbose)
			fprintf(stderr, "%s %s -> %d %.*s", r->req.method,
			    r->req.request_uri, status, (int)resp.body.len,
			    resp.body.data ? resp.body.data : "\n");
		check_response(&resp, status, r->oom >= 0);
		if (ref >= 0)
			FZ_ASSERT(status == ref || status == 500 || status ==
			    401, "%d with memory, %d without on %s", ref, status,
			    r->req.request_uri);
		if (r->anon && r->api)
			FZ_ASSERT(status == 401 || r->oom >= 0, "%d without a "
			    "token on %s", status, r->req.request_uri);
		/* (The query is read before the route: 400 if malformed.) */
		if (r->empty_seg && !r->anon)
			FZ_ASSERT(status == 404 || (status == 400 &&
			    r->req.query != NULL) || r->oom >= 0, "%d on %s",
			    status, r->req.request_uri);
		if (status == 200 && r->logs)
			check_logs(&resp);
		if (status == 503 || (status == 200 &&
		    strcmp(r->req.method, "PUT") == 0))
			reset = 1;	/* full, or a new config: start over */
		pt_resp_free(&resp);
		pt_idle(&ctx);
	}
	fz_close(&c);
	free(r);
	if (reset) {
		close_store();
		open_store();
	}
	return 0;
}
