/*
 * test-headers.c - what the pipeline makes of request headers, without a
 * server: a header name that comes twice (CGI names "svix-id" and
 * "svix_id" alike) has one meaning, and is refused where the endpoint
 * reads it with two values; credential headers are redacted in the log
 * whatever their name; a rejected request's body names its type,
 * unverified; log lines quote what the client sent escaped.
 */
#include "config.h"

#include <string.h>

#include "eventlog.h"
#include "handler.h"
#include "scheme.h"
#include "tap.h"
#include "testutil.h"

#define CLERK		"/receive/src_clerk_prod_0001"
#define HOOK		"/receive/src_hook_prod_00001"
#define BEAR		"/receive/src_bear_prod_00001"
#define OPEN		"/receive/src_open_prod_00001"
#define IDEM		"/receive/src_idem_prod_00001"
#define ALLH		"/receive/src_allh_prod_00001"
#define SVIX_KEY	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define HOOK_KEY	"hook-secret-1"
#define BEAR_KEY	"bear-token-1"
#define NOW		1764000000

static const char config_text[] =
    "{\"sources\":["
    "{\"key\":\"clerk\",\"type\":\"clerk\",\"environments\":{\"prod\":{"
    "\"endpoint_id\":\"src_clerk_prod_0001\","
    "\"signing_keys\":[{\"secret\":\"" SVIX_KEY "\"}]}}},"
    "{\"key\":\"hooks\",\"type\":\"custom\",\"environments\":{"
    "\"prod\":{\"endpoint_id\":\"src_hook_prod_00001\",\"verify\":true,"
    "\"signature\":{\"kind\":\"header\",\"header\":\"x-hook-key\"},"
    "\"signing_keys\":[{\"secret\":\"" HOOK_KEY "\"}],"
    "\"mappings\":[{\"event_type\":\"task.assigned\",\"action\":"
    "\"users_identify\",\"params\":{\"id\":\"data.user\"}}]},"
    "\"bear\":{\"endpoint_id\":\"src_bear_prod_00001\",\"verify\":true,"
    "\"signature\":{\"kind\":\"bearer\",\"header\":\"x-auth\"},"
    "\"signing_keys\":[{\"secret\":\"" BEAR_KEY "\"}]},"
    "\"open\":{\"endpoint_id\":\"src_open_prod_00001\",\"signature\":null},"
    "\"idem\":{\"endpoint_id\":\"src_idem_prod_00001\",\"signature\":null,"
    "\"idempotency\":{\"enabled\":true,\"key_path\":\"headers.x-delivery\"}},"
    "\"allh\":{\"endpoint_id\":\"src_allh_prod_00001\",\"signature\":null,"
    "\"mappings\":[{\"event_type\":\"t\",\"action\":\"users_identify\","
    "\"params\":{\"id\":\"data.id\",\"properties\":{\"h\":\"headers\"}}}]}"
    "}}]}";

#define USER_CREATED "{\"type\":\"user.created\",\"data\":{\"id\":\"user_1\"}}"
#define TASK "{\"type\":\"task.assigned\",\"data\":{\"user\":\"u1\"}}"

/* NOW, a microsecond further at every call: event ids keep their order. */
static int64_t
clock_now(void)
{
	static int64_t n;

	return (int64_t)NOW * 1000000 + n++;
}

/* A request being built: headers point into "text". */
struct rq {
	struct pt_header	 h[16];
	char			 text[16][160];
	size_t			 n;
};

static void
rq_add(struct rq *r, const char *name, const char *value)
{
	char *t = r->text[r->n];

	snprintf(t, sizeof(r->text[0]), "%s", name);
	r->h[r->n].name = t;
	t += strlen(t) + 1;
	snprintf(t, sizeof(r->text[0]) - strlen(name) - 1, "%s", value);
	r->h[r->n].value = t;
	r->h[r->n].value_len = strlen(t);
	r->n++;
}

/* Svix headers signing "body" with message id "id". */
static void
rq_svix(struct rq *r, const char *body, const char *id)
{
	struct pt_buf out = { 0 };
	char *line, *save = NULL, *colon;

	if (pt_scheme_sign(pt_scheme_preset("clerk"), (const uint8_t *)SVIX_KEY,
	    strlen(SVIX_KEY), (const uint8_t *)body, strlen(body), NULL, NOW,
	    id, &out) != PT_OK)
		abort();
	for (line = strtok_r(out.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		colon = strchr(line, ':');
		*colon = '\0';
		for (char *p = line; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		rq_add(r, line, colon + 2);
	}
	pt_buf_free(&out);
}

static int
post(struct pt_ctx *ctx, const char *path, const char *body, struct rq *r,
    struct pt_resp *resp)
{
	struct tu_body b = { body, strlen(body), 0, 0 };
	struct pt_req req;
	char clen[32];

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path_info = path;
	req.request_uri = path;
	req.content_type = "application/json";
	snprintf(clen, sizeof(clen), "%zu", strlen(body));
	req.content_length = clen;
	req.headers = r->h;
	req.nheaders = r->n;
	req.read_body = tu_read;
	req.read_arg = &b;
	return pt_handle(ctx, &req, resp);
}

static int
take_meta(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t len)
{
	(void)id;
	(void)body;
	(void)len;
	*(pt_json **)arg = pt_json_ref(meta);
	return 1;
}

/* The newest event (of type "type" in hooks/prod when given), or NULL. */
static pt_json *
newest(struct pt_store *s, const char *type)
{
	struct pt_log_query q;
	struct pt_txn *t;
	pt_json *m = NULL;

	memset(&q, 0, sizeof(q));
	q.limit = 1;
	if (type != NULL) {
		q.source = "hooks";
		q.environment = "prod";
		q.event_type = type;
	}
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_eventlog_query(t, &q, take_meta, &m);
	pt_txn_abort(t);
	return m;
}

static const char *
logged_header(const pt_json *m, const char *name)
{
	return pt_json_str(pt_json_get(pt_json_get(m, "headers"), name), NULL);
}

static const char *
answer_code(const struct pt_resp *resp, int status)
{
	static char code[64];
	struct pt_json_error je;
	pt_json *j = NULL;
	const char *c;

	code[0] = '\0';

	if (pt_json_parse(resp->body.data, resp->body.len, 64, &j, &je) ==
	    PT_OK && (c = pt_json_str(pt_json_get(j, status < 300 ? "status" :
	    "error"), NULL)) != NULL)
		snprintf(code, sizeof(code), "%s", c);
	pt_json_put(j);
	return code;
}

/*
 * A header twice: (endpoint, signed?, extra headers in order) -> status,
 * code, logged or not, and the value the log keeps.
 */
static void
test_twice(struct pt_ctx *ctx, struct pt_store *s)
{
	static const struct {
		const char	*desc;
		const char	*path;
		int		 svix;		/* 1: svix headers first, 2: after */
		const char	*extra[3][2];
		int		 status;
		const char	*code;
		int		 logged;
		const char	*check[2];	/* logged header, value */
	} cases[] = {
		{ "signed, once", CLERK, 1, { { NULL } }, 200, "accepted", 1,
		  { "svix-id", "msg_case0" } },
		{ "signed, svix-id again with another value", CLERK, 1,
		  { { "svix-id", "msg_other" } }, 400, "ambiguous_header", 0,
		  { NULL } },
		{ "signed, another svix-id before the signed one", CLERK, 2,
		  { { "svix-id", "msg_other" } }, 400, "ambiguous_header", 0,
		  { NULL } },
		{ "signed, svix-id again with the same value", CLERK, 1,
		  { { "svix-id", "msg_case3" } }, 200, "accepted", 1,
		  { "svix-id", "msg_case3" } },
		{ "signed, a second svix-signature", CLERK, 1,
		  { { "svix-signature", "v1,AAAA" } }, 400, "ambiguous_header",
		  0, { NULL } },
		{ "signed, a second svix-timestamp", CLERK, 1,
		  { { "svix-timestamp", "1" } }, 400, "ambiguous_header", 0,
		  { NULL } },
		{ "signed, a header nobody reads, twice", CLERK, 1,
		  { { "x-note", "first" }, { "x-note", "second" } }, 200,
		  "accepted", 1, { "x-note", "first" } },
		{ "shared header key twice", HOOK, 0, { { "x-hook-key", HOOK_KEY },
		  { "x-hook-key", "guess" } }, 400, "ambiguous_header", 0,
		  { NULL } },
		{ "idempotency key header twice", IDEM, 0,
		  { { "x-delivery", "d1" }, { "x-delivery", "d2" } }, 400,
		  "ambiguous_header", 0, { NULL } },
		{ "idempotency key header twice, same value", IDEM, 0,
		  { { "x-delivery", "d1" }, { "x-delivery", "d1" } }, 200,
		  "no_mapping", 1, { "x-delivery", "d1" } },
		{ "any header twice where a mapping reads them all", ALLH, 0,
		  { { "x-any", "1" }, { "x-any", "2" } }, 400,
		  "ambiguous_header", 0, { NULL } },
		{ "any header twice where nothing reads headers", OPEN, 0,
		  { { "x-any", "1" }, { "x-any", "2" } }, 200, "no_mapping", 1,
		  { "x-any", "1" } },
	};
	struct pt_resp resp;
	struct rq r;
	pt_json *m;
	char id[32];
	const char *body;
	size_t i, h;
	uint64_t before;
	int status;

	for (i = 0; i < nitems(cases); i++) {
		memset(&r, 0, sizeof(r));
		body = strcmp(cases[i].path, CLERK) == 0 ? USER_CREATED : TASK;
		snprintf(id, sizeof(id), "msg_case%zu", i);
		if (cases[i].svix == 1)
			rq_svix(&r, body, id);
		for (h = 0; h < 3 && cases[i].extra[h][0] != NULL; h++)
			rq_add(&r, cases[i].extra[h][0], cases[i].extra[h][1]);
		if (cases[i].svix == 2)
			rq_svix(&r, body, id);
		before = tu_entries(s, PT_T_EVENTS);
		pt_buf_reset(&tu_log);
		status = post(ctx, cases[i].path, body, &r, &resp);
		ok(status == cases[i].status && strcmp(answer_code(&resp,
		    status), cases[i].code) == 0, "twice: %s: %d %s",
		    cases[i].desc, cases[i].status, cases[i].code);
		if (status != cases[i].status)
			diag("got %d %.*s", status, (int)resp.body.len,
			    resp.body.data);
		is_int(tu_entries(s, PT_T_EVENTS), before + (uint64_t)cases[i].logged,
		    "twice: %s: %s", cases[i].desc, cases[i].logged ? "logged" :
		    "not logged");
		if (status == 400)
			ok(strstr(tu_log.data ? tu_log.data : "",
			    "400 ambiguous_header") != NULL, "twice: %s: a log "
			    "line", cases[i].desc);
		if (cases[i].check[0] != NULL) {
			m = newest(s, NULL);
			is_str(logged_header(m, cases[i].check[0]),
			    cases[i].check[1], "twice: %s: the log keeps the "
			    "first value", cases[i].desc);
			pt_json_put(m);
		}
		pt_resp_free(&resp);
	}
}

/*
 * The replay of issue: one signed Svix request, sent again with an extra
 * svix-id, must not run a second time.
 */
static void
test_replay(struct pt_ctx *ctx, struct pt_store *s)
{
	struct pt_resp resp;
	struct rq r;
	uint64_t acts;
	int status;

	memset(&r, 0, sizeof(r));
	rq_svix(&r, USER_CREATED, "msg_replay");
	status = post(ctx, CLERK, USER_CREATED, &r, &resp);
	is_int(status, 200, "replay: the signed request runs");
	pt_resp_free(&resp);
	acts = tu_entries(s, PT_T_ACTIONS);
	rq_add(&r, "svix-id", "msg_replay_2");
	status = post(ctx, CLERK, USER_CREATED, &r, &resp);
	is_int(status, 400, "replay: again with another svix-id: 400");
	pt_resp_free(&resp);
	r.n--;
	status = post(ctx, CLERK, USER_CREATED, &r, &resp);
	ok(status == 200 && strstr(resp.body.data, "\"idempotent\": true") !=
	    NULL, "replay: again as it was: idempotent");
	pt_resp_free(&resp);
	is_int(tu_entries(s, PT_T_ACTIONS), acts, "replay: no second execution");
}

/* Credential headers are redacted by what the scheme reads. */
static void
test_redaction(struct pt_ctx *ctx, struct pt_store *s)
{
	static const struct {
		const char	*desc;
		const char	*path;
		const char	*name, *value;
		int		 status;
		const char	*shown;
	} cases[] = {
		{ "shared header, right key", HOOK, "x-hook-key", HOOK_KEY, 200,
		  "[redacted]" },
		{ "shared header, wrong key", HOOK, "x-hook-key", "hook-guess",
		  401, "[redacted]" },
		{ "bearer in a header of its own", BEAR, "x-auth",
		  "Bearer " BEAR_KEY, 200, "[redacted]" },
		{ "bearer, wrong token", BEAR, "x-auth", "Bearer nope", 401,
		  "[redacted]" },
		{ "the same header where no scheme reads it", OPEN,
		  "x-hook-key", "not-a-credential-here", 200,
		  "not-a-credential-here" },
		{ "a name on the fixed list, anywhere", OPEN, "x-api-key", "k1",
		  200, "[redacted]" },
	};
	struct pt_resp resp;
	struct rq r;
	pt_json *m;
	size_t i;
	int status;

	for (i = 0; i < nitems(cases); i++) {
		memset(&r, 0, sizeof(r));
		rq_add(&r, cases[i].name, cases[i].value);
		status = post(ctx, cases[i].path, TASK, &r, &resp);
		is_int(status, cases[i].status, "redaction: %s: %d",
		    cases[i].desc, cases[i].status);
		m = newest(s, NULL);
		is_str(logged_header(m, cases[i].name), cases[i].shown,
		    "redaction: %s: logged as %s", cases[i].desc,
		    cases[i].shown);
		ok(strstr(pt_json_text(m, PT_JSON_PLAIN, NULL),
		    cases[i].value) == NULL || strcmp(cases[i].shown,
		    "[redacted]") != 0, "redaction: %s: the value appears "
		    "nowhere in the record", cases[i].desc);
		pt_json_put(m);
		pt_resp_free(&resp);
	}
}

static int
count_types(void *arg, const char *type, uint64_t count, int64_t first,
    int64_t last)
{
	(void)first;
	(void)last;
	if (strcmp(type, "task.assigned") == 0)
		*(uint64_t *)arg = count;
	return 0;
}

static uint64_t
received(struct pt_store *s)
{
	struct pt_txn *t;
	uint64_t n = 0;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_eventlog_types(t, "hooks", "prod", count_types, &n);
	pt_txn_abort(t);
	return n;
}

/* A rejected request's type: shown, unverified, not counted, not run. */
static void
test_unverified(struct pt_ctx *ctx, struct pt_store *s)
{
	static const struct {
		const char	*desc;
		const char	*body;
		const char	*key;
		int		 status;
		const char	*type;		/* logged event_type */
		int		 unverified;
		uint64_t	 counted;	/* received task.assigned after */
	} cases[] = {
		{ "rejected, typed body", TASK, "wrong", 401, "task.assigned", 1,
		  0 },
		{ "rejected, body without a type", "{\"data\":{}}", "wrong", 401,
		  NULL, 0, 0 },
		{ "rejected, not JSON", "{\"type\":", "wrong", 401, NULL, 0, 0 },
		{ "rejected, not an object", "[\"task.assigned\"]", "wrong", 401,
		  NULL, 0, 0 },
		{ "verified, typed body", TASK, HOOK_KEY, 200, "task.assigned", 0,
		  1 },
		{ "rejected again, typed body", TASK, "wrong", 401,
		  "task.assigned", 1, 1 },
	};
	struct pt_resp resp;
	struct rq r;
	pt_json *m;
	uint64_t users, acts, base = received(s);
	size_t i;
	int status;

	for (i = 0; i < nitems(cases); i++) {
		memset(&r, 0, sizeof(r));
		rq_add(&r, "x-hook-key", cases[i].key);
		users = tu_entries(s, PT_T_USERS);
		acts = tu_entries(s, PT_T_ACTIONS);
		status = post(ctx, HOOK, cases[i].body, &r, &resp);
		is_int(status, cases[i].status, "unverified: %s: %d",
		    cases[i].desc, cases[i].status);
		m = newest(s, NULL);
		is_str(pt_json_str(pt_json_get(m, "event_type"), NULL),
		    cases[i].type, "unverified: %s: event type", cases[i].desc);
		is_int(pt_json_get_ex(m, "event_type_unverified", NULL),
		    cases[i].unverified, "unverified: %s: %s", cases[i].desc,
		    cases[i].unverified ? "marked unverified" : "no marker");
		is_int(received(s) - base, cases[i].counted,
		    "unverified: %s: received task.assigned counted %d",
		    cases[i].desc, (int)cases[i].counted);
		if (status != 200)
			ok(tu_entries(s, PT_T_USERS) == users &&
			    tu_entries(s, PT_T_ACTIONS) == acts &&
			    pt_json_get(m, "actions") == NULL,
			    "unverified: %s: no action ran", cases[i].desc);
		pt_json_put(m);
		pt_resp_free(&resp);
	}
	/* The type index finds the rejected ones too, marked. */
	m = newest(s, "task.assigned");
	ok(m != NULL && strcmp(pt_json_str(pt_json_get(m, "status"), NULL),
	    "rejected") == 0, "unverified: listed under its type");
	pt_json_put(m);
	is_int(tu_problems(s), 0, "unverified: porterctl check finds the "
	    "indexes consistent");
}

/* Log lines quote what the client sent, escaped: no forged line. */
static void
test_log_lines(struct pt_ctx *ctx)
{
	static const struct {
		const char	*desc;
		const char	*method, *path, *ctype, *clen;
		const char	*want;		/* in the one line logged */
	} cases[] = {
		{ "a newline in PATH_INFO", "GET", "/nope\nporter[1]: 200 FORGED",
		  NULL, NULL, "/nope\\nporter[1]: 200 FORGED" },
		{ "CR, LF and ESC in a header", "POST", OPEN,
		  "text/plain\r\nporter[1]: \x1b[31mred", "2",
		  "text/plain\\r\\nporter[1]: \\x1b[31mred" },
		{ "invalid UTF-8 in PATH_INFO", "GET", "/\xff\xc2\x85", NULL, NULL,
		  "/\\xff\\xc2\\x85" },
	};
	struct pt_resp resp;
	struct pt_req req;
	const char *l;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		memset(&req, 0, sizeof(req));
		req.method = cases[i].method;
		req.path_info = cases[i].path;
		req.content_type = cases[i].ctype;
		req.content_length = cases[i].clen;
		pt_buf_reset(&tu_log);
		pt_handle(ctx, &req, &resp);
		pt_resp_free(&resp);
		l = tu_log.data ? tu_log.data : "";
		ok(strstr(l, cases[i].want) != NULL &&
		    strchr(l, '\n') == l + strlen(l) - 1 &&
		    strchr(l, '\r') == NULL && strchr(l, 0x1b) == NULL,
		    "log lines: %s: escaped, one line: %s", cases[i].desc, l);
	}
}

int
main(void)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	const char *err;
	char *dir = tu_tmpdir(), path[600];

	snprintf(path, sizeof(path), "%s/db", dir);
	s = tu_store(path, 0);
	err = tu_apply(s, config_text);
	ok(err == NULL, "config applies (%s)", err ? err : "");
	pt_ctx_init(&ctx, s);
	ctx.log = tu_capture;
	ctx.now = clock_now;

	test_twice(&ctx, s);
	test_replay(&ctx, s);
	test_redaction(&ctx, s);
	test_unverified(&ctx, s);
	test_log_lines(&ctx);

	pt_ctx_free(&ctx);
	pt_store_close(s);
	pt_buf_free(&tu_log);
	tu_rmdir(dir);
	return tap_done();
}
