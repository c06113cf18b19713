/*
 * test-sources.c - the source catalogue: every type applies with its
 * defaults, and a realistic payload per type goes from a signed request to
 * the default mapping's effect in the store; plus a tampered body, a stale
 * timestamp and a rotated key per signed type.  (No server: pt_handle.)
 */
#include "config.h"

#include <string.h>

#include "catalog.h"
#include "data.h"
#include "eventlog.h"
#include "handler.h"
#include "inspect.h"
#include "scheme.h"
#include "tap.h"
#include "testutil.h"

#define NOW	1800000000LL		/* unix seconds of the fake clock */
#define WHSEC	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define WHSEC2	"whsec_dGhpcy1pcy1hLXNlY29uZC1zZWNyZXQhIQ=="
/* Every environment's public_url: what Twilio signs, with the path. */
#define PUBLIC_URL	"https://hooks.example.com"

static int64_t clock_us = NOW * 1000000LL;

static int64_t
fake_now(void)
{
	return clock_us += 1000;
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* A secret every scheme accepts: whsec for the Svix family, user:pass for
 * basic, plain text for the rest. */
static const char *
secret_for(const char *scheme, int second)
{
	const struct pt_scheme *s = scheme ? pt_scheme_preset(scheme) : NULL;
	char err[200];

	if (s == NULL)
		return second ? "second-secret-2" : "first-secret-1";
	if (pt_scheme_check_secret(s, (const uint8_t *)WHSEC, strlen(WHSEC), err,
	    sizeof(err)) == PT_OK && strcmp(scheme, "stripe") != 0 &&
	    strcmp(scheme, "workos") != 0 && strcmp(scheme, "github") != 0 &&
	    strcmp(scheme, "shopify") != 0 && strcmp(scheme, "slack") != 0 &&
	    strcmp(scheme, "segment") != 0 && strcmp(scheme, "bearer") != 0 &&
	    strcmp(scheme, "shared-header") != 0 && strcmp(scheme, "basic") != 0)
		return second ? WHSEC2 : WHSEC;
	if (strcmp(scheme, "supabase-auth-hook") == 0)
		return second ? "v1," WHSEC2 : "v1," WHSEC;
	if (strcmp(scheme, "basic") == 0)
		return second ? "porter:second" : "porter:first";
	return second ? "second-secret-2" : "first-secret-1";
}

struct req_out {
	int	 status;
	pt_json	*body;
};

/*
 * Send "body" to "path" with the headers a sender of "scheme" signed with
 * "secret" at unix time "at" (+ "extra" header lines, "Name: value\n").
 * "tamper" changes one byte of the body after signing.
 */
static void
send_as(struct pt_ctx *ctx, const char *method, const char *path,
    const char *scheme, const char *secret, int64_t at, const char *body,
    const char *extra, int tamper, struct req_out *out)
{
	struct pt_buf signed_hdrs = { 0 }, all = { 0 };
	struct pt_header h[16];
	struct tu_body b;
	struct pt_resp resp;
	struct pt_req req;
	struct pt_json_error je;
	char *copy = strdup(body), clen[32], *line, *save = NULL, url[400];
	size_t nh = 0;

	snprintf(url, sizeof(url), "%s%s", PUBLIC_URL, path);
	if (scheme != NULL && secret != NULL) {
		const struct pt_scheme *s = pt_scheme_preset(scheme);

		pt_scheme_sign(s, (const uint8_t *)secret, strlen(secret),
		    (const uint8_t *)body, strlen(body), url, at, NULL,
		    &signed_hdrs);
	}
	if (signed_hdrs.data)
		pt_buf_add(&all, signed_hdrs.data, signed_hdrs.len);
	if (extra)
		pt_buf_adds(&all, extra);
	for (line = all.data ? strtok_r(all.data, "\n", &save) : NULL;
	    line && nh < 15; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *p;

		if (colon == NULL)
			continue;
		*colon = '\0';
		for (p = line; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		for (p = colon + 1; *p == ' '; p++)
			;
		h[nh].name = line;
		h[nh].value = p;
		h[nh].value_len = strlen(p);
		nh++;
	}
	if (tamper && copy[0])
		copy[strlen(copy) / 2] ^= 1;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path_info = path;
	req.request_uri = path;
	/* Bodies that are not JSON are forms (Twilio, Slack commands). */
	req.content_type = body[0] == '\0' || body[0] == '{' ? "application/json" :
	    "application/x-www-form-urlencoded";
	snprintf(clen, sizeof(clen), "%zu", strlen(copy));
	req.content_length = clen;
	req.headers = h;
	req.nheaders = nh;
	b.data = copy;
	b.len = strlen(copy);
	b.pos = 0;
	b.chunk = 0;
	req.read_body = tu_read;
	req.read_arg = &b;
	out->status = pt_handle(ctx, &req, &resp);
	out->body = NULL;
	pt_json_parse(resp.body.data, resp.body.len, 64, &out->body, &je);
	pt_resp_free(&resp);
	pt_buf_free(&signed_hdrs);
	pt_buf_free(&all);
	free(copy);
}

static const char *
jstr(const pt_json *o, const char *k)
{
	return pt_json_str(pt_json_get(o, k), NULL);
}

/* The data checks after a case. */
enum effect { NONE, USER, TENANT, OBJECT, SUB, RUN, AUDIENCE_MEMBER };

struct scase {
	const char	*desc;
	const char	*type;
	const char	*method;
	const char	*sub;		/* path after the endpoint, or NULL */
	const char	*body;
	const char	*extra;		/* more header lines */
	int		 status;
	const char	*event_type;	/* logged type of the (first) event */
	enum effect	 effect;
	const char	*a, *b, *c;	/* effect: ids to look up, a field */
};

static const struct scase cases[] = {
	{ "stripe customer.created identifies", "stripe", "POST", NULL,
	  "{\"id\":\"evt_1N\",\"object\":\"event\",\"type\":\"customer.created\","
	  "\"created\":1800000000,\"data\":{\"object\":{\"id\":\"cus_123\","
	  "\"object\":\"customer\",\"email\":\"jenny@example.com\",\"name\":"
	  "\"Jenny Rosen\",\"currency\":\"usd\",\"metadata\":{}}}}", NULL, 200,
	  "customer.created", USER, "cus_123", "email", "jenny@example.com" },
	{ "stripe invoice.paid triggers", "stripe", "POST", NULL,
	  "{\"id\":\"evt_2N\",\"type\":\"invoice.paid\",\"created\":1800000000,"
	  "\"data\":{\"object\":{\"id\":\"in_1\",\"customer\":\"cus_123\","
	  "\"amount_paid\":2000,\"currency\":\"usd\"}}}", NULL, 200,
	  "invoice.paid", RUN, "invoice-paid", "cus_123", NULL },
	{ "clerk user.created identifies", "clerk", "POST", NULL,
	  "{\"type\":\"user.created\",\"object\":\"event\",\"timestamp\":"
	  "1800000000000,\"data\":{\"id\":\"user_2abc\",\"first_name\":\"Ada\","
	  "\"last_name\":\"L\",\"image_url\":\"https://img.clerk.com/x\","
	  "\"email_addresses\":[{\"id\":\"idn_1\",\"email_address\":"
	  "\"ada@example.com\"}]}}", NULL, 200, "user.created", USER,
	  "user_2abc", "email", "ada@example.com" },
	{ "clerk organization.created sets a tenant", "clerk", "POST", NULL,
	  "{\"type\":\"organization.created\",\"timestamp\":1800000000000,"
	  "\"data\":{\"id\":\"org_1\",\"name\":\"Acme\",\"slug\":\"acme\"}}",
	  NULL, 200, "organization.created", TENANT, "org_1", "name", "Acme" },
	{ "clerk membership subscribes", "clerk", "POST", NULL,
	  "{\"type\":\"organizationMembership.created\",\"timestamp\":"
	  "1800000000000,\"data\":{\"role\":\"admin\",\"organization\":{\"id\":"
	  "\"org_1\"},\"public_user_data\":{\"user_id\":\"user_2abc\"}}}", NULL,
	  200, "organizationMembership.created", SUB, "organizations", "org_1",
	  "user_2abc" },
	{ "workos dsync.user.created identifies", "workos", "POST", NULL,
	  "{\"id\":\"event_01\",\"event\":\"dsync.user.created\",\"created_at\":"
	  "\"2027-01-15T08:00:00.000Z\",\"data\":{\"id\":\"directory_user_1\","
	  "\"first_name\":\"Rosa\",\"emails\":[{\"primary\":true,\"type\":"
	  "\"work\",\"value\":\"rosa@example.com\"}],\"directory_id\":\"d1\"}}",
	  NULL, 200, "dsync.user.created", USER, "directory_user_1", "email",
	  "rosa@example.com" },
	{ "workos group user_added subscribes", "workos", "POST", NULL,
	  "{\"id\":\"event_02\",\"event\":\"dsync.group.user_added\","
	  "\"data\":{\"user\":{\"id\":\"directory_user_1\"},\"group\":{\"id\":"
	  "\"grp_1\",\"name\":\"Eng\"}}}", NULL, 200, "dsync.group.user_added",
	  SUB, "groups", "grp_1", "directory_user_1" },
	{ "supabase auth.users INSERT identifies", "supabase", "POST", NULL,
	  "{\"type\":\"INSERT\",\"table\":\"users\",\"schema\":\"auth\","
	  "\"record\":{\"id\":\"2b5c\",\"email\":\"sb@example.com\","
	  "\"raw_user_meta_data\":{\"plan\":\"free\"}},\"old_record\":null}",
	  NULL, 200, "auth.users:INSERT", USER, "2b5c", "email",
	  "sb@example.com" },
	{ "posthog $identify identifies", "posthog", "POST", NULL,
	  "{\"type\":\"track\",\"event\":\"$identify\",\"userId\":\"ph_1\","
	  "\"messageId\":\"0190-aa\",\"timestamp\":\"2027-01-15T08:00:00Z\","
	  "\"properties\":{\"$set\":{\"email\":\"ph@example.com\",\"name\":\"P\","
	  "\"plan\":\"team\"}}}", NULL, 200, "$identify", USER, "ph_1", "email",
	  "ph@example.com" },
	{ "github push (type from the header)", "github", "POST", NULL,
	  "{\"ref\":\"refs/heads/main\",\"repository\":{\"full_name\":\"a/b\"}}",
	  "X-GitHub-Event: push\nX-GitHub-Delivery: 72d3162e-cc78\n", 200, "push",
	  NONE, NULL, NULL, NULL },
	{ "shopify customers/create (numeric id)", "shopify", "POST", NULL,
	  "{\"id\":706405506930370084,\"email\":\"bob@example.com\","
	  "\"first_name\":\"Bob\",\"last_name\":\"Norman\"}",
	  "X-Shopify-Topic: customers/create\nX-Shopify-Webhook-Id: b54557e4\n",
	  200, "customers/create", USER, "706405506930370084", "email",
	  "bob@example.com" },
	{ "shopify orders/create identifies and triggers", "shopify", "POST",
	  NULL, "{\"id\":820982911946154508,\"email\":\"jon@example.com\","
	  "\"customer\":{\"id\":115310627314723954,\"email\":\"jon@example.com\"},"
	  "\"total_price\":\"199.00\"}", "X-Shopify-Topic: orders/create\n"
	  "X-Shopify-Webhook-Id: 5f2a\n", 200, "orders/create", RUN,
	  "order-confirmation", "115310627314723954", NULL },
	{ "slack slash command (a form) is typed by its command", "slack",
	  "POST", NULL, "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&"
	  "team_domain=example&channel_id=C2147483705&user_id=U2147483697&"
	  "user_name=Steve&command=%2Fweather&text=94070&response_url="
	  "https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&"
	  "trigger_id=13345224609.738474920.8088930838d88f008e0", NULL, 200,
	  "/weather", NONE, NULL, NULL, NULL },
	{ "slack interactivity (a form with a JSON payload)", "slack", "POST",
	  NULL, "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A"
	  "%7B%22id%22%3A%22U123%22%7D%2C%22actions%22%3A%5B%7B%22action_id"
	  "%22%3A%22approve%22%7D%5D%7D", NULL, 200, "block_actions", NONE,
	  NULL, NULL, NULL },
	{ "twilio message status callback (a form)", "twilio", "POST", NULL,
	  "AccountSid=AC1&ApiVersion=2010-04-01&From=%2B15017250604&"
	  "MessageSid=SM1&MessageStatus=delivered&SmsSid=SM1&"
	  "SmsStatus=delivered&To=%2B15558675310", NULL, 200,
	  "message.delivered", NONE, NULL, NULL, NULL },
	{ "twilio call status callback", "twilio", "POST", NULL,
	  "AccountSid=AC1&CallSid=CA1&CallStatus=completed&CallDuration=42&"
	  "Direction=outbound-api", NULL, 200, "call.completed", NONE, NULL,
	  NULL, NULL },
	{ "slack app_mention", "slack", "POST", NULL,
	  "{\"type\":\"event_callback\",\"event_id\":\"Ev01\",\"event_time\":"
	  "1800000000,\"event\":{\"type\":\"app_mention\",\"user\":\"U1\","
	  "\"text\":\"hi\"}}", NULL, 200, "app_mention", NONE, NULL, NULL, NULL },
	{ "segment identify (traits)", "segment", "POST", NULL,
	  "{\"type\":\"identify\",\"userId\":\"seg_1\",\"messageId\":\"m-1\","
	  "\"timestamp\":\"2027-01-15T08:00:00Z\",\"traits\":{\"email\":"
	  "\"seg@example.com\",\"name\":\"Sue\",\"plan\":\"pro\"}}", NULL, 200,
	  "identify", USER, "seg_1", "email", "seg@example.com" },
	{ "segment track (named by its event)", "segment", "POST", NULL,
	  "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":"
	  "\"seg_2\",\"messageId\":\"m-6\"}", NULL, 200, "Order Completed",
	  NONE, NULL, NULL, NULL },
	{ "rudderstack track Order Completed", "rudderstack", "POST", NULL,
	  "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"rs_1\","
	  "\"messageId\":\"m-2\",\"properties\":{\"order_id\":\"o1\","
	  "\"total\":10}}", NULL, 200, "track/order_completed", RUN,
	  "order-completed", "rs_1", NULL },
	{ "rudderstack identify (context.traits)", "rudderstack", "POST", NULL,
	  "{\"type\":\"identify\",\"userId\":\"rs_2\",\"messageId\":\"m-3\","
	  "\"context\":{\"traits\":{\"email\":\"rs@example.com\"}}}", NULL, 200,
	  "identify", USER, "rs_2", "email", "rs@example.com" },
	{ "freshpaint identify", "freshpaint", "POST", NULL,
	  "{\"type\":\"identify\",\"userId\":\"fp_1\",\"messageId\":\"m-4\","
	  "\"traits\":{\"email\":\"fp@example.com\"}}", NULL, 200, "identify",
	  USER, "fp_1", "email", "fp@example.com" },
	{ "jitsu identify", "jitsu", "POST", NULL,
	  "{\"type\":\"identify\",\"userId\":\"js_1\",\"messageId\":\"m-5\","
	  "\"traits\":{\"email\":\"js@example.com\"}}", NULL, 200, "identify",
	  USER, "js_1", "email", "js@example.com" },
	{ "hightouch PUT /v1/users/{id}", "hightouch", "PUT", "/v1/users/ht%201",
	  "{\"name\":\"Hi Touch\",\"email\":\"ht@example.com\",\"plan\":\"pro\"}",
	  NULL, 200, "users.identify", USER, "ht 1", "email", "ht@example.com" },
	{ "hightouch audience members", "hightouch", "POST",
	  "/v1/audiences/beta-testers/members", "{\"members\":[{\"user\":{\"id\":"
	  "\"ht 1\"}},{\"user\":{\"id\":\"u9\"},\"tenant\":\"t1\"}]}", NULL, 200,
	  "audiences.add_members", AUDIENCE_MEMBER, "beta-testers", "u9", NULL },
	{ "census bulk identify", "census", "POST", "/v1/users/bulk/identify",
	  "{\"users\":[{\"id\":\"c1\",\"email\":\"c1@example.com\"},{\"id\":\"c2\","
	  "\"email\":\"c2@example.com\"}]}", NULL, 200, "users.identify", USER,
	  "c2", "email", "c2@example.com" },
	{ "polytomic PUT /v1/objects/{c}/{id}", "polytomic", "PUT",
	  "/v1/objects/projects/p1", "{\"name\":\"Roadmap\",\"owner\":\"u1\"}",
	  NULL, 200, "objects.set", OBJECT, "projects", "p1", "Roadmap" },
};

struct find {
	const char	*k1, *v1;	/* member k1 must equal v1 */
	const char	*list;		/* or: array member "list" holds id v2 */
	const char	*v2;
	int		 found;
};

/* Does "rec" match what "f" looks for? */
static int
matches(void *arg, pt_json *rec)
{
	struct find *f = arg;
	pt_json *r, *arr;
	size_t i;

	if (f->k1 && (jstr(rec, f->k1) == NULL ||
	    strcmp(jstr(rec, f->k1), f->v1) != 0))
		return 0;
	if (f->list == NULL) {
		f->found = 1;
		return 1;
	}
	arr = pt_json_get(rec, f->list);
	if (pt_json_type(arr) != PT_J_ARRAY) {
		/* A single recipient: a string id or {"id"}. */
		r = arr;
		if ((pt_json_str(r, NULL) && strcmp(pt_json_str(r, NULL), f->v2) ==
		    0) || (jstr(r, "id") && strcmp(jstr(r, "id"), f->v2) == 0)) {
			f->found = 1;
			return 1;
		}
		return 0;
	}
	for (i = 0; i < pt_json_len(arr); i++) {
		r = pt_json_index(arr, i);
		if (jstr(r, "id") && strcmp(jstr(r, "id"), f->v2) == 0) {
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

/* Does the effect a case names exist in the store? */
static int
effect_ok(struct pt_store *s, const struct scase *c, char *why, size_t n)
{
	struct find f;
	struct pt_txn *t;
	pt_json *rec = NULL;
	int good = 0;

	memset(&f, 0, sizeof(f));
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	switch (c->effect) {
	case NONE:
		good = 1;
		break;
	case USER:
		good = pt_user_get(t, c->a, &rec) == PT_OK &&
		    jstr(rec, c->b) && strcmp(jstr(rec, c->b), c->c) == 0;
		break;
	case TENANT:
		good = pt_tenant_get(t, c->a, &rec) == PT_OK &&
		    jstr(rec, c->b) && strcmp(jstr(rec, c->b), c->c) == 0;
		break;
	case OBJECT:
		good = pt_object_get(t, c->a, c->b, &rec) == PT_OK &&
		    jstr(rec, "name") && strcmp(jstr(rec, "name"), c->c) == 0;
		break;
	case SUB:
		f.list = "recipient";
		f.v2 = c->c;
		pt_subscriptions_list(t, c->a, c->b, matches, &f);
		good = f.found;
		break;
	case RUN:
		f.k1 = "workflow";
		f.v1 = c->a;
		f.list = "recipients";
		f.v2 = c->b;
		pt_runs_list(t, NULL, matches, &f);
		good = f.found;
		break;
	case AUDIENCE_MEMBER:
		f.k1 = "user";
		f.v1 = c->b;
		pt_audience_members(t, c->a, matches, &f);
		good = f.found;
		break;
	}
	pt_txn_abort(t);
	if (!good)
		snprintf(why, n, "%s", rec ? pt_json_text(rec, PT_JSON_PLAIN,
		    NULL) : "no such record");
	else
		why[0] = '\0';
	pt_json_put(rec);
	return good;
}

/* The first logged event's type in a (batch-shaped or plain) answer. */
static const char *
answer_type(const pt_json *b)
{
	pt_json *evs = pt_json_get(b, "events");

	if (evs != NULL)
		return jstr(pt_json_index(evs, 0), "event_type");
	return jstr(b, "event_type");
}

/*
 * What a rehearsal of "body" with the header lines "extra" ("Name: value\n")
 * in "type"'s environment "e" names the event: a new string, or NULL.
 */
static char *
rehearsed_type(struct pt_store *s, const char *type, const char *body,
    const char *extra)
{
	struct pt_body_error be;
	struct pt_config *cfg = NULL;
	struct pt_txn *t;
	const struct pt_env *e;
	const char *p, *colon, *nl, *got;
	int status;
	char err[300], name[64];
	pt_json *doc = NULL, *hdrs = pt_json_new_object(), *out = NULL;
	char *res = NULL;
	size_t i;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_config_load(t, &cfg, err, sizeof(err));
	pt_txn_abort(t);
	for (p = extra; p != NULL && (colon = strchr(p, ':')) != NULL;
	    p = nl + 1) {
		nl = strchr(colon, '\n');
		for (i = 0; i < (size_t)(colon - p) && i + 1 < sizeof(name);
		    i++)
			name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 :
			    p[i]);
		name[i] = '\0';
		pt_json_set(hdrs, name, pt_json_new_str(colon + 2,
		    (size_t)(nl - colon - 2)));
	}
	/* The body as ingest takes it: JSON or a form, by its first byte. */
	if ((e = pt_config_env(cfg, type, "e")) != NULL &&
	    pt_inspect_body(e, NULL, body, strlen(body), &doc, &status,
	    &be) == PT_OK &&
	    pt_inspect_rehearse(e, &(struct pt_roots){ doc, hdrs, NULL },
	    &out) == PT_OK &&
	    (got = jstr(out, "event_type")) != NULL)
		res = strdup(got);
	pt_json_put(out);
	pt_json_put(doc);
	pt_json_put(hdrs);
	pt_config_free(cfg);
	return res;
}

/* A small body of the kind "st"'s sender posts: a form for Twilio. */
static const char *
probe_body(const struct pt_source_type *st)
{
	if (strcmp(st->name, "twilio") == 0)
		return "MessageSid=SM9&MessageStatus=sent";
	return "{\"type\":\"x\",\"event\":\"x\",\"id\":\"1\"}";
}

/* The endpoint of "type"'s environment "e". */
static const char *
endpoint(struct pt_store *s, const char *type)
{
	static char buf[160];
	struct pt_config *cfg = NULL;
	struct pt_txn *t;
	char err[300];
	const struct pt_env *e;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_config_load(t, &cfg, err, sizeof(err));
	pt_txn_abort(t);
	e = pt_config_env(cfg, type, "e");
	snprintf(buf, sizeof(buf), "/receive/%s", e ? e->endpoint_id : "?");
	pt_config_free(cfg);
	return buf;
}

int
main(void)
{
	const struct pt_source_type *types;
	struct pt_buf doc = { 0 };
	struct pt_ctx ctx;
	struct pt_store *s;
	struct req_out r;
	const char *err;
	char *dir = tu_tmpdir(), why[600], path[300];
	size_t n, i;

	/* Every type applies with its defaults, keys where it verifies. */
	types = pt_catalog_all(&n);
	ok(n >= 16, "the catalogue has %zu source types", n);
	pt_buf_adds(&doc, "{\"workflows\":{},\"sources\":[");
	for (i = 0; i < n; i++) {
		const char *sch = types[i].scheme;

		pt_buf_printf(&doc, "%s{\"key\":\"%s\",\"type\":\"%s\","
		    "\"environments\":{\"e\":{\"public_url\":\"" PUBLIC_URL "\",",
		    i ? "," : "", types[i].name, types[i].name);
		if (sch != NULL)
			pt_buf_printf(&doc, "\"signing_keys\":[{\"secret\":\"%s\","
			    "\"expires_at\":null}]", secret_for(sch, 0));
		else
			doc.data[--doc.len] = '\0';	/* the "," */
		pt_buf_adds(&doc, "}}}");
	}
	pt_buf_adds(&doc, "]}");
	s = tu_store(dir, 0);
	err = tu_apply(s, doc.data);
	ok(err == NULL, "every source type applies with its defaults (%s)",
	    err ? err : "");
	pt_ctx_init(&ctx, s);
	ctx.now = fake_now;
	ctx.log = quiet;

	for (i = 0; i < nitems(cases); i++) {
		const struct pt_source_type *st = pt_catalog_lookup(cases[i].type);
		const char *sec = st && st->scheme ? secret_for(st->scheme, 0) :
		    NULL;

		snprintf(path, sizeof(path), "%s%s", endpoint(s, cases[i].type),
		    cases[i].sub ? cases[i].sub : "");
		send_as(&ctx, cases[i].method, path, st ? st->scheme : NULL, sec,
		    NOW, cases[i].body, cases[i].extra, 0, &r);
		ok(r.status == cases[i].status, "%s: %d", cases[i].desc,
		    cases[i].status);
		if (r.status != cases[i].status)
			diag("got %d %s", r.status, r.body ? pt_json_text(r.body,
			    PT_JSON_PLAIN, NULL) : "");
		is_str(answer_type(r.body), cases[i].event_type,
		    "  ... event type %s", cases[i].event_type);
		ok(effect_ok(s, &cases[i], why, sizeof(why)),
		    "  ... the default mapping's effect is in the store%s%s",
		    why[0] ? ": " : "", why);
		pt_json_put(r.body);
		/*
		 * A rehearsal names the event as ingest does (bodies posted
		 * to the endpoint itself; a reverse-ETL route names its own).
		 */
		if (cases[i].sub == NULL) {
			char *rt = rehearsed_type(s, cases[i].type,
			    cases[i].body, cases[i].extra);

			is_str(rt, cases[i].event_type, "  ... and a rehearsal "
			    "names it so");
			free(rt);
		}
	}

	/* Slack's url_verification is answered with its challenge. */
	{
		const char *sec = secret_for("slack", 0);

		send_as(&ctx, "POST", endpoint(s, "slack"), "slack", sec, NOW,
		    "{\"token\":\"x\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3"
		    "gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}",
		    NULL, 0, &r);
		is_str(jstr(r.body, "challenge"),
		    "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
		    "slack url_verification: the challenge is echoed");
		pt_json_put(r.body);
	}

	/*
	 * The handshake is the catalogue's hook, not a name the pipeline
	 * tests: Slack's type alone has one, and it takes only a
	 * url_verification that carries a challenge.
	 */
	{
		const struct pt_source_type *all = pt_catalog_all(&n), *sl;
		static const struct {
			const char	*body;
			int		 is;
		} hs[] = {
			{ "{\"type\":\"url_verification\",\"challenge\":\"c\\\"1\"}",
			  1 },
			{ "{\"type\":\"url_verification\"}", 0 },
			{ "{\"type\":\"event_callback\",\"challenge\":\"c\"}", 0 },
			{ "{\"challenge\":\"c\"}", 0 },
		};
		struct pt_json_error je;
		struct pt_buf b = { 0 };
		const char *ty;
		size_t k, with = 0;
		pt_json *d;

		for (k = 0; k < n; k++)
			with += all[k].handshake != NULL;
		sl = pt_catalog_lookup("slack");
		ok(with == 1 && sl != NULL && sl->handshake != NULL,
		    "one source type has a handshake hook: slack's");
		for (k = 0; sl != NULL && sl->handshake && k < nitems(hs); k++) {
			d = NULL;
			ty = NULL;
			pt_buf_reset(&b);
			pt_json_parse(hs[k].body, strlen(hs[k].body), 8, &d, &je);
			ok(sl->handshake(d, &ty, &b) == hs[k].is && (hs[k].is == 0 ||
			    (strcmp(ty, "url_verification") == 0 && b.data &&
			    strcmp(b.data, "{\"challenge\": \"c\\\"1\"}\n") == 0)),
			    "slack handshake of %s: %d", hs[k].body, hs[k].is);
			pt_json_put(d);
		}
		pt_buf_free(&b);
	}

	/* Segment batches: one logged event per call. */
	{
		const char *sec = secret_for("segment", 0);

		send_as(&ctx, "POST", endpoint(s, "segment"), "segment", sec, NOW,
		    "{\"batch\":[{\"type\":\"identify\",\"userId\":\"b1\","
		    "\"messageId\":\"bm-1\",\"traits\":{\"email\":\"b1@x.io\"}},"
		    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":"
		    "\"b1\",\"messageId\":\"bm-2\"},{\"type\":\"page\","
		    "\"userId\":\"b1\",\"messageId\":\"bm-3\"}]}", NULL, 0, &r);
		ok(r.status == 200 && pt_json_int(pt_json_get(r.body, "count")) ==
		    3, "segment batch: 200, 3 events");
		ok(r.status == 200 && strcmp(jstr(pt_json_index(pt_json_get(
		    r.body, "events"), 1), "event_type"), "Order Completed") == 0 &&
		    strcmp(jstr(pt_json_index(pt_json_get(r.body, "events"), 2),
		    "event_type"), "page") == 0, "  ... typed by event name (track) "
		    "and by type (page)");
		pt_json_put(r.body);
		send_as(&ctx, "POST", endpoint(s, "segment"), "segment", sec, NOW,
		    "{\"batch\":[{\"type\":\"identify\",\"userId\":\"b1\","
		    "\"messageId\":\"bm-1\",\"traits\":{\"email\":\"b1@x.io\"}}]}",
		    NULL, 0, &r);
		is_str(jstr(pt_json_index(pt_json_get(r.body, "events"), 0),
		    "status"), "idempotent", "  ... a replayed batch element is "
		    "idempotent (messageId)");
		pt_json_put(r.body);
	}

	/* Reverse ETL: a wrong bearer key, a wrong method, a bad shape. */
	send_as(&ctx, "PUT", "/receive/x", NULL, NULL, NOW, "{}", NULL, 0, &r);
	is_int(r.status, 404, "reverse ETL call on an unknown endpoint: 404");
	pt_json_put(r.body);
	snprintf(path, sizeof(path), "%s/v1/users/u1", endpoint(s, "hightouch"));
	send_as(&ctx, "PUT", path, "bearer", "not-the-key", NOW, "{}", NULL, 0,
	    &r);
	is_int(r.status, 401, "reverse ETL with a wrong bearer key: 401");
	pt_json_put(r.body);
	send_as(&ctx, "GET", path, "bearer", secret_for("bearer", 0), NOW, "{}",
	    NULL, 0, &r);
	is_int(r.status, 405, "GET on a reverse ETL call: 405");
	pt_json_put(r.body);
	snprintf(path, sizeof(path), "%s/v1/users/bulk/identify",
	    endpoint(s, "hightouch"));
	send_as(&ctx, "POST", path, "bearer", secret_for("bearer", 0), NOW,
	    "{\"people\":[]}", NULL, 0, &r);
	ok(r.status == 400 && strcmp(jstr(r.body, "error"), "invalid_request") ==
	    0, "bulk identify without users: 400 invalid_request");
	pt_json_put(r.body);
	snprintf(path, sizeof(path), "%s/v1/users/ht%%201", endpoint(s,
	    "hightouch"));
	send_as(&ctx, "DELETE", path, "bearer", secret_for("bearer", 0), NOW,
	    "", NULL, 0, &r);
	is_int(r.status, 200, "DELETE /v1/users/{id} without a body: 200");
	pt_json_put(r.body);
	/* An id that is not UTF-8 (percent-decoded): the action is skipped. */
	snprintf(path, sizeof(path), "%s/v1/users/%%FFbad", endpoint(s,
	    "hightouch"));
	send_as(&ctx, "PUT", path, "bearer", secret_for("bearer", 0), NOW,
	    "{\"email\":\"x@example.com\"}", NULL, 0, &r);
	is_int(r.status, 200, "PUT /v1/users/%%FF...: the call is received");
	pt_json_put(r.body);
	{
		struct pt_txn *t;
		pt_json *rec = NULL;

		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		ok(pt_user_get(t, "\xff" "bad", &rec) == PT_ENOTFOUND,
		    "  ... but no user with an id that is not UTF-8 is made");
		pt_json_put(rec);
		pt_txn_abort(t);
	}
	snprintf(path, sizeof(path), "%s/v1/users/u1", endpoint(s, "stripe"));
	send_as(&ctx, "PUT", path, "stripe", secret_for("stripe", 0), NOW, "{}",
	    NULL, 0, &r);
	is_int(r.status, 404, "a webhook source takes no REST calls: 404");
	pt_json_put(r.body);

	/* Per signed type: tampered body, stale timestamp, rotated key. */
	for (i = 0; i < n; i++) {
		const struct pt_source_type *st = &types[i];
		const char *body = probe_body(st);
		int timed;

		if (st->scheme == NULL || st->kind == PT_KIND_RETL)
			continue;
		timed = strcmp(st->scheme, "stripe") == 0 ||
		    strcmp(st->scheme, "clerk") == 0 ||
		    strcmp(st->scheme, "workos") == 0 ||
		    strcmp(st->scheme, "slack") == 0;
		if (strcmp(st->scheme, "shared-header") == 0) {
			/* A static credential signs nothing: a wrong one. */
			send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
			    "not-the-secret", NOW, body, NULL, 0, &r);
			is_int(r.status, 401, "%s: a wrong shared secret is refused",
			    st->name);
			pt_json_put(r.body);
			continue;
		}
		send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
		    secret_for(st->scheme, 0), NOW, body,
		    "X-GitHub-Event: x\nX-Shopify-Topic: x\n", 1, &r);
		is_int(r.status, 401, "%s: a tampered body is refused", st->name);
		pt_json_put(r.body);
		if (timed) {
			send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
			    secret_for(st->scheme, 0), NOW - 1000, body, NULL, 0,
			    &r);
			is_int(r.status, 401, "%s: a stale timestamp is refused",
			    st->name);
			pt_json_put(r.body);
		}
	}
	/*
	 * Rotation, type by type (each apply keeps only the type it rotates:
	 * the endpoint stays, the other sources are done with).
	 */
	for (i = 0; i < n; i++) {
		const struct pt_source_type *st = &types[i];
		const char *body = probe_body(st);
		struct pt_buf cfg = { 0 };

		if (st->scheme == NULL || st->kind == PT_KIND_RETL)
			continue;
		/* Rotate: the new key joins; the old one expires later. */
		pt_buf_printf(&cfg, "{\"sources\":[{\"key\":\"%s\",\"type\":\"%s\","
		    "\"environments\":{\"e\":{\"verify\":true,"
		    "\"public_url\":\"" PUBLIC_URL "\",\"signing_keys\":["
		    "{\"secret\":\"%s\",\"expires_at\":%lld},{\"secret\":\"%s\"}]}}}]}",
		    st->name, st->name, secret_for(st->scheme, 0),
		    (long long)NOW + 3600, secret_for(st->scheme, 1));
		err = tu_apply(s, cfg.data);
		ok(err == NULL, "%s: rotation config applies (%s)", st->name,
		    err ? err : "");
		send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
		    secret_for(st->scheme, 0), NOW, body,
		    "X-GitHub-Event: x\nX-Shopify-Topic: x\n", 0, &r);
		ok(r.status == 200, "%s: the old key works until it expires",
		    st->name);
		pt_json_put(r.body);
		send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
		    secret_for(st->scheme, 1), NOW, body,
		    "X-GitHub-Event: x\nX-Shopify-Topic: x\n", 0, &r);
		ok(r.status == 200, "%s: the new key works", st->name);
		pt_json_put(r.body);
		/* Past expires_at: only the new key. */
		clock_us = (NOW + 3601) * 1000000LL;
		send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
		    secret_for(st->scheme, 0), NOW + 3601, body,
		    "X-GitHub-Event: x\nX-Shopify-Topic: x\n", 0, &r);
		is_int(r.status, 401, "%s: the old key is refused after "
		    "expires_at", st->name);
		pt_json_put(r.body);
		send_as(&ctx, "POST", endpoint(s, st->name), st->scheme,
		    secret_for(st->scheme, 1), NOW + 3601, body,
		    "X-GitHub-Event: x\nX-Shopify-Topic: x\n", 0, &r);
		is_int(r.status, 200, "%s: the new key still works", st->name);
		pt_json_put(r.body);
		clock_us = NOW * 1000000LL;
		pt_buf_free(&cfg);
	}

	pt_ctx_free(&ctx);
	pt_store_close(s);
	pt_buf_free(&doc);
	tu_rmdir(dir);
	return tap_done();
}
