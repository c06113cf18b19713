/*
 * fuzz-handler.c - the whole request pipeline: pt_handle() on a fixed
 * configuration and a real LMDB store (on tmpfs when /dev/shm is there).
 *
 * Input: up to four requests separated by a line "====".  Each is
 *
 *	METHOD PATH[?QUERY] [FLAG ...]
 *	Name: value			(headers, up to an empty line)
 *
 *	body...
 *
 * Header names are made what the FastCGI layer makes of HTTP_* variables
 * (lower case, "_" as "-"); values end at a NUL as in a CGI environment.
 * Content-Type and Content-Length lines also fill the CGI variables; with
 * no Content-Length line the body's length is sent, with no Content-Type
 * line "application/json".  The "open" source also takes forms (its
 * "data" field as JSON), and so do Slack and Twilio.  Flags:
 *	uri		route by REQUEST_URI, no PATH_INFO
 *	mount=/P	PORTER_MOUNT (implies uri)
 *	script=/P	SCRIPT_NAME (implies uri)
 *	sign[=ID]	sign the body as the endpoint's sender would, with its
 *			configured key (and ID as the message id)
 *	nolen		no Content-Length at all
 *	short		the client sends half the body, then stops
 *	chunk=N		the body arrives N bytes per read
 *	oom=N		allocations fail after N more (pt_alloc_fail_after)
 *	replay		replay the event the response names (pt_replay)
 *	admin		Authorization: Bearer <an admin token> (first header)
 *	admin-ro	the same with a read-only token
 *
 * The admin API (src/admin*.c: query strings, logs, rehearse, config PUT)
 * is reached through pt_handle with the admin flags.
 * The store is reset every RESET_EVERY inputs, whenever it is full, and
 * after a configuration was applied over the admin API.
 * Checks: every response has a plausible status and, when it says it is
 * JSON, a JSON body; its head serialises; no 500 happens unless
 * allocations were made to fail.
 * No workflow has an "exec": nothing forks.  With PT_FUZZ_VERBOSE set in
 * the environment every reply is printed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "handler.h"
#include "json.h"
#include "nitems.h"
#include "scheme.h"
#include "tokens.h"
#include "fuzz.h"
#include "fuzz-store.h"

#define RESET_EVERY	4000
#define MAP_SIZE	(64ULL * 1024 * 1024)
#define MAX_REQUESTS	4
#define MAX_HEADERS	24

#define KEY		"fuzz-key-1"
#define WHSEC		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static const char config_text[] =
"{\"settings\":{\"durability\":\"relaxed\",\"log_retention_days\":1},"
" \"workflows\":{\"task-assigned\":{},\"welcome\":{},\"order-completed\":{}},"
" \"sources\":["
/* A custom source, unverified, with a mapping for every action. */
"  {\"key\":\"open\",\"type\":\"custom\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_open_0001\",\"verify\":false,"
"    \"signing_keys\":[{\"secret\":\"" KEY "\"}],"
"    \"event_type_path\":\"body.type\",\"timestamp_path\":\"body.ts\","
"    \"idempotency\":{\"enabled\":true,\"key_path\":\"body.id\","
"      \"window_seconds\":60},"
"    \"max_body_bytes\":65536,"
"    \"body_formats\":[\"json\",\"form\"],\"form_json_fields\":[\"data\"],"
"    \"mappings\":["
"     {\"event_type\":\"user\",\"action\":\"users_identify\",\"params\":{"
"       \"id\":\"data.id\",\"name\":{\"path\":[\"data.name\",\"data.full_name\"]},"
"       \"email\":{\"path\":\"data.email\",\"default\":\"none@example.com\"},"
"       \"phone_number\":\"data.phone\",\"avatar\":\"data.avatar\","
"       \"locale\":{\"value\":\"en\"},\"timezone\":\"headers.x-tz\","
"       \"properties\":{\"path\":\"data\",\"omit\":[\"id\",\"name\"]}}},"
"     {\"event_type\":\"user\",\"action\":\"users_identify\",\"params\":{"
"       \"id\":\"data.id\",\"properties\":{\"plan\":\"data.plan\","
"       \"nested\":{\"a\":\"data.a\",\"b\":{\"value\":[1,2]}}}}},"
"     {\"event_type\":\"user.deleted\",\"action\":\"users_delete\","
"       \"params\":{\"id\":\"data.id\"}},"
"     {\"event_type\":\"object\",\"action\":\"objects_set\",\"params\":{"
"       \"collection\":\"data.collection\",\"id\":\"data.id\","
"       \"name\":\"data.name\","
"       \"properties\":{\"path\":\"data.props\",\"default\":{}}}},"
"     {\"event_type\":\"object.deleted\",\"action\":\"objects_delete\","
"       \"params\":{\"collection\":{\"value\":\"projects\"},\"id\":\"data.id\"}},"
"     {\"event_type\":\"tenant\",\"action\":\"tenants_set\",\"params\":{"
"       \"id\":\"data.id\",\"name\":\"data.name\","
"       \"settings\":{\"branding\":\"data.branding\"},"
"       \"properties\":\"data.props\"}},"
"     {\"event_type\":\"tenant.deleted\",\"action\":\"tenants_delete\","
"       \"params\":{\"id\":\"data.id\"}},"
"     {\"event_type\":\"sub\",\"action\":\"objects_subscribe\",\"params\":{"
"       \"collection\":\"data.collection\",\"id\":\"data.id\","
"       \"recipients\":\"data.recipients\",\"properties\":{\"role\":\"data.role\"}}},"
"     {\"event_type\":\"unsub\",\"action\":\"objects_unsubscribe\",\"params\":{"
"       \"collection\":\"data.collection\",\"id\":\"data.id\","
"       \"recipients\":\"data.recipients\"}},"
"     {\"event_type\":\"aud.add\",\"action\":\"audiences_add_member\","
"       \"params\":{\"key\":\"vip\",\"users\":\"data.users\","
"       \"tenant\":\"data.tenant\"}},"
"     {\"event_type\":\"aud.remove\",\"action\":\"audiences_remove_member\","
"       \"params\":{\"key\":{\"path\":\"data.key\"},\"users\":\"data.users\","
"       \"tenant\":\"data.tenant\"}},"
"     {\"event_type\":\"task.cancelled\",\"action\":\"workflows_cancel\","
"       \"params\":{\"key\":\"task-assigned\","
"       \"cancellation_key\":\"data.task_id\",\"recipients\":\"data.recipients\"}},"
"     {\"event_type\":\"task.assigned\",\"action\":\"workflows_trigger\","
"       \"params\":{\"key\":\"task-assigned\",\"recipients\":\"data.assigned_to\","
"       \"actor\":\"data.assigned_by\",\"tenant\":\"data.tenant\","
"       \"data\":{\"task_id\":\"data.task_id\","
"       \"title\":{\"path\":\"data.title\",\"default\":null}},"
"       \"cancellation_key\":\"data.task_id\"}},"
"     {\"event_type\":\"dyn\",\"action\":\"workflows_trigger\",\"params\":{"
"       \"key\":{\"path\":\"data.workflow\"},\"recipients\":\"data.recipients\","
"       \"data\":\"data\"}},"
"     {\"event_type\":\"off\",\"action\":\"users_delete\",\"active\":false,"
"       \"params\":{\"id\":\"data.id\"}}]}}},"
/* A custom source that enforces its signature; a type template. */
"  {\"key\":\"signed\",\"type\":\"custom\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_signed_0001\",\"verify\":true,"
"    \"signing_keys\":[{\"secret\":\"old-key\","
"      \"expires_at\":\"2001-01-01T00:00:00Z\"},{\"secret\":\"" KEY "\"}],"
"    \"event_type_template\":\"{body.kind}:{headers.x-sub}\","
"    \"timestamp_path\":\"body.occurred_at\","
"    \"idempotency\":{\"enabled\":true,\"key_path\":\"headers.x-id\"},"
"    \"mappings\":[{\"event_type\":\"task:assigned\","
"      \"action\":\"workflows_trigger\",\"params\":{\"key\":\"welcome\","
"      \"recipients\":{\"path\":[\"data.to\",\"data.user\"]}}}]}}},"
/* Svix headers, ids as idempotency keys. */
"  {\"key\":\"clerk\",\"type\":\"clerk\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_clerk_0001\","
"    \"signing_keys\":[{\"secret\":\"" WHSEC "\"}]}}},"
/* A CDP: batches, the Segment rule, a track mapping. */
"  {\"key\":\"seg\",\"type\":\"segment\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_seg_0001\",\"verify\":false,"
"    \"signing_keys\":[{\"secret\":\"seg-secret\"}],"
"    \"mappings\":[{\"event_type\":\"identify\",\"action\":\"users_identify\","
"      \"params\":{\"id\":\"userId\",\"email\":{\"path\":[\"traits.email\","
"      \"context.traits.email\"]},\"properties\":{\"path\":\"traits\","
"      \"omit\":[\"email\"]}}},"
"     {\"event_type\":\"Order Completed\",\"action\":\"workflows_trigger\","
"      \"params\":{\"key\":\"order-completed\",\"recipients\":\"userId\","
"      \"data\":\"properties\"}},"
"     {\"event_type\":\"group\",\"action\":\"tenants_set\","
"      \"params\":{\"id\":\"groupId\",\"name\":\"traits.name\"}}]}}},"
"  {\"key\":\"rudder\",\"type\":\"rudderstack\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_rudder_0001\"}}},"
/* Supabase: the type template, a shared-header secret. */
"  {\"key\":\"supa\",\"type\":\"supabase\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_supa_0001\","
"    \"signing_keys\":[{\"secret\":\"supa-secret\"}]}}},"
/* Reverse ETL with a bearer key. */
"  {\"key\":\"ht\",\"type\":\"hightouch\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_ht_0001\","
"    \"signing_keys\":[{\"secret\":\"ht-token\"}]}}},"
/* Slack: url_verification challenges. */
"  {\"key\":\"slack\",\"type\":\"slack\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_slack_0001\","
"    \"signing_keys\":[{\"secret\":\"slack-secret\"}]}}},"
/* Twilio: a scheme that signs the URL and the form's fields. */
"  {\"key\":\"tw\",\"type\":\"twilio\",\"environments\":{\"prod\":{"
"    \"endpoint_id\":\"src_tw_0001\",\"verify\":false,"
"    \"signature\":\"twilio\",\"public_url\":\"https://example.com/porter\","
"    \"signing_keys\":[{\"secret\":\"tw-token\"}]}}}"
" ]}";

/* What "sign" signs with, per endpoint. */
static const struct {
	const char	*endpoint;
	const char	*scheme;
	const char	*secret;
} signers[] = {
	{ "src_open_0001", "knock", KEY },
	{ "src_signed_0001", "knock", KEY },
	{ "src_clerk_0001", "clerk", WHSEC },
	{ "src_seg_0001", "segment", "seg-secret" },
	{ "src_rudder_0001", "shared-header", "none" },
	{ "src_supa_0001", "shared-header", "supa-secret" },
	{ "src_ht_0001", "bearer", "ht-token" },
	{ "src_slack_0001", "slack", "slack-secret" },
	{ "src_tw_0001", "twilio", "tw-token" },
};

/* A fresh store with the configuration applied. */
static void
open_store(void)
{
	fuzz_store_open(config_text, MAP_SIZE);
}


struct request {
	struct pt_req		 req;
	struct pt_header	 h[MAX_HEADERS];
	struct tu_body		 body;
	struct pt_buf		 signed_hdrs;
	char			 clen[32];
	char			 uri[1024];
	char			 bearer[16 + PT_TOKEN_LEN];
	long			 oom;		/* -1: none */
	int			 replay;
	int			 applies;	/* may change the config */
};

/* Headers from pt_scheme_sign's "Name: value\n" lines. */
static void
add_signed(struct request *r)
{
	char *line, *colon, *save = NULL;

	if (r->signed_hdrs.data == NULL)
		return;
	for (line = strtok_r(r->signed_hdrs.data, "\n", &save); line != NULL &&
	    r->req.nheaders < MAX_HEADERS; line = strtok_r(NULL, "\n", &save)) {
		if ((colon = strstr(line, ": ")) == NULL)
			continue;
		*colon = '\0';
		fz_header_name(line);
		r->h[r->req.nheaders].name = line;
		r->h[r->req.nheaders].value = colon + 2;
		r->h[r->req.nheaders].value_len = strlen(colon + 2);
		r->req.nheaders++;
	}
}

/* Sign the body for the endpoint named in "path" (see signers). */
static void
sign(struct request *r, const char *path, const char *id)
{
	const struct pt_scheme *s;
	char url[1100];
	size_t i;

	for (i = 0; i < nitems(signers); i++)
		if (strstr(path, signers[i].endpoint) != NULL)
			break;
	if (i == nitems(signers) ||
	    (s = pt_scheme_preset(signers[i].scheme)) == NULL)
		return;
	snprintf(url, sizeof(url), "https://example.com/porter%s",
	    r->req.request_uri ? r->req.request_uri : "");
	pt_scheme_sign(s, (const uint8_t *)signers[i].secret,
	    strlen(signers[i].secret), (const uint8_t *)r->body.data,
	    r->body.len, url, clock_us / 1000000, id, &r->signed_hdrs);
}

/* Parse one request of the input (NUL-terminated at "len"). */
static int
parse_request(char *text, size_t len, struct request *r)
{
	struct fz_cur c;
	char *line, *tok, *save = NULL, *colon, *path, *q, *sign_id = NULL;
	size_t n;
	int uri = 0, nolen = 0, half = 0, want_sign = 0, have_type = 0;

	memset(r, 0, sizeof(*r));
	r->oom = -1;
	/* A cursor over the part, without a copy: "text" is ours. */
	c.buf = c.p = text;
	c.end = text + len;
	c.done = 0;
	if ((line = fz_line(&c, &n)) == NULL)
		return -1;
	if ((r->req.method = strtok_r(line, " ", &save)) == NULL ||
	    (path = strtok_r(NULL, " ", &save)) == NULL)
		return -1;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(tok, "uri") == 0)
			uri = 1;
		else if (strncmp(tok, "mount=", 6) == 0) {
			uri = 1;
			r->req.mount = tok + 6;
		} else if (strncmp(tok, "script=", 7) == 0) {
			uri = 1;
			r->req.script_name = tok + 7;
		} else if (strcmp(tok, "sign") == 0)
			want_sign = 1;
		else if (strncmp(tok, "sign=", 5) == 0) {
			want_sign = 1;
			sign_id = tok + 5;
		} else if (strcmp(tok, "nolen") == 0)
			nolen = 1;
		else if (strcmp(tok, "short") == 0)
			half = 1;
		else if (strncmp(tok, "chunk=", 6) == 0)
			r->body.chunk = strtoul(tok + 6, NULL, 10);
		else if (strncmp(tok, "oom=", 4) == 0)
			r->oom = strtol(tok + 4, NULL, 10) & 0xffff;
		else if (strcmp(tok, "replay") == 0)
			r->replay = 1;
		else if (strcmp(tok, "admin") == 0 ||
		    strcmp(tok, "admin-ro") == 0) {
			snprintf(r->bearer, sizeof(r->bearer), "Bearer %s",
			    tok[5] == '\0' ? token_rw : token_ro);
			r->h[0].name = "authorization";
			r->h[0].value = r->bearer;
			r->h[0].value_len = strlen(r->bearer);
			r->req.nheaders = 1;
		}
	}
	/* REQUEST_URI as sent; PATH_INFO and QUERY_STRING split from it. */
	snprintf(r->uri, sizeof(r->uri), "%s%s", r->req.mount ? r->req.mount :
	    "", path);
	r->req.request_uri = r->uri;
	if ((q = strchr(path, '?')) != NULL) {
		*q = '\0';
		r->req.query = q + 1;
	}
	if (!uri)
		r->req.path_info = path;
	r->req.remote_addr = "192.0.2.1";
	r->applies = strcmp(r->req.method, "PUT") == 0 &&
	    strstr(path, "/admin/api/config") != NULL;

	while ((line = fz_line(&c, &n)) != NULL && n > 0) {
		if (r->req.nheaders == MAX_HEADERS ||
		    (colon = strchr(line, ':')) == NULL || colon == line)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		fz_header_name(line);
		if (strcmp(line, "content-type") == 0) {
			r->req.content_type = colon;
			have_type = 1;
		} else if (strcmp(line, "content-length") == 0) {
			r->req.content_length = colon;
			nolen = 1;	/* given: do not make one up */
		}
		r->h[r->req.nheaders].name = line;
		r->h[r->req.nheaders].value = colon;
		r->h[r->req.nheaders].value_len = strlen(colon);
		r->req.nheaders++;
	}
	r->body.data = fz_rest(&c, &r->body.len);
	if (!have_type)
		r->req.content_type = "application/json";
	if (!nolen) {
		snprintf(r->clen, sizeof(r->clen), "%zu", r->body.len);
		r->req.content_length = r->clen;
	}
	if (want_sign) {
		sign(r, path, sign_id);
		add_signed(r);
	}
	if (half)
		r->body.len /= 2;
	r->req.headers = r->h;
	r->req.read_body = tu_read;
	r->req.read_arg = &r->body;
	return 0;
}

/* Replay the event a response names. */
static void
replay(const struct pt_resp *resp)
{
	struct pt_json_error jerr;
	struct pt_resp r2;
	pt_json *j = NULL;
	const char *id;
	int st;

	if (pt_json_parse(resp->body.data, resp->body.len, PT_JSON_MAX_DEPTH,
	    &j, &jerr) != PT_OK)
		return;
	if ((id = pt_json_str(pt_json_get(j, "id"), NULL)) != NULL) {
		st = pt_replay(&ctx, id, "fuzz", 0, &r2);
		check_response(&r2, st, 0);
		pt_resp_free(&r2);
		/* An unverified event: the forced path too. */
		if (st == 409) {
			st = pt_replay(&ctx, id, "fuzz", 1, &r2);
			check_response(&r2, st, 0);
			pt_resp_free(&r2);
		}
	}
	pt_json_put(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request *r;
	struct pt_resp resp;
	struct fz_cur c;
	char *part;
	size_t n, i;
	int status, full = 0;

	if (verbose < 0)
		verbose = getenv("PT_FUZZ_VERBOSE") != NULL;
	if (store == NULL || ++inputs % RESET_EVERY == 0) {
		close_store();
		open_store();
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	fz_open(&c, data, size);
	for (i = 0; i < MAX_REQUESTS &&
	    (part = fz_part(&c, "\n====\n", &n)) != NULL; i++) {
		if (parse_request(part, n, r) < 0)
			continue;
		if (r->oom >= 0)
			pt_alloc_fail_after(r->oom);
		status = pt_handle(&ctx, &r->req, &resp);
		if (r->oom >= 0)
			pt_alloc_fail_after(-1);
		check_response(&resp, status, r->oom >= 0);
		if (verbose)
			fprintf(stderr, "%s %s -> %d %.*s", r->req.method,
			    r->req.request_uri, status, (int)resp.body.len,
			    resp.body.data ? resp.body.data : "\n");
		if (status == 503 || (r->applies && status == 200))
			full = 1;	/* full, or a new config: start over */
		if (r->replay && status == 200)
			replay(&resp);
		pt_resp_free(&resp);
		pt_buf_free(&r->signed_hdrs);
		pt_idle(&ctx);
	}
	fz_close(&c);
	free(r);
	if (full) {
		close_store();
		open_store();
	}
	return 0;
}
