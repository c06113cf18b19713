/*
 * test-faults.c - allocation failure injection (SQLite's "anomaly tests"):
 * make the Nth allocation of a whole request fail, for every N.  Each time
 * the answer is a clean 200 or 500 (a JSON error body when there is
 * memory for one), the next request is served normally, and in the end the
 * store is consistent; the sanitizer build of `make check` reports any
 * leak.  JSON values made through json.h (constructors, copies) count as
 * allocations; json-c's own inside and LMDB allocate with malloc directly,
 * their failures are not injected here.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "check.h"
#include "eventlog.h"
#include "handler.h"
#include "ids.h"
#include "metrics.h"
#include "sig.h"
#include "tap.h"
#include "timeutil.h"
#include "testutil.h"

#define KEY "fault-key"

static const char config_text[] =
    "{\"workflows\":{\"w\":{}},"
    "\"sources\":[{\"key\":\"app\",\"environments\":{\"p\":{"
    "\"endpoint_id\":\"src_faults_0001\",\"verify\":true,"
    "\"signing_keys\":[{\"secret\":\"" KEY "\"}],"
    "\"timestamp_path\":\"body.at\","
    "\"idempotency\":{\"enabled\":true,\"key_path\":\"body.id\"},"
    "\"mappings\":["
    "{\"event_type\":\"order.paid\",\"action\":\"users_identify\","
    "\"params\":{\"id\":\"data.user\",\"email\":\"data.email\","
    "\"properties\":{\"plan\":\"data.plan\"}}},"
    "{\"event_type\":\"order.paid\",\"action\":\"workflows_trigger\","
    "\"params\":{\"key\":\"w\",\"recipients\":\"data.user\",\"data\":"
    "\"data\"}},"
    "{\"event_type\":\"order.paid\",\"action\":\"audiences_add_member\","
    "\"params\":{\"key\":\"buyers\",\"users\":\"data.user\"}}]}}}]}";

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
problem(void *arg, const char *line)
{
	(void)arg;
	diag("%s", line);
}

/* One signed request with idempotency key "id"; returns the status. */
static int
request(struct pt_ctx *ctx, int id, int *json_ok)
{
	struct pt_header h[2];
	struct pt_json_error je;
	struct pt_resp resp;
	struct pt_req req;
	struct tu_body b;
	struct pt_iov iov;
	pt_json *rb = NULL;
	uint8_t mac[32];
	char body[512], sig[65], clen[16];
	int n, status;

	n = snprintf(body, sizeof(body), "{\"type\":\"order.paid\",\"id\":"
	    "\"o-%d\",\"at\":\"2027-01-01T00:00:00Z\",\"data\":{\"user\":"
	    "\"u%d\",\"email\":\"u%d@example.com\",\"plan\":\"pro\","
	    "\"items\":[1,2,3]}}", id, id % 50, id % 50);
	iov.data = body;
	iov.len = (size_t)n;
	pt_mac(PT_MAC_HMAC_SHA256, (const uint8_t *)KEY, strlen(KEY), &iov, 1,
	    mac);
	pt_hex_encode(mac, 32, sig);
	sig[64] = '\0';
	h[0].name = "x-knock-signature";
	h[0].value = sig;
	h[0].value_len = 64;
	h[1].name = "user-agent";
	h[1].value = "faults";
	h[1].value_len = 6;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path_info = "/receive/src_faults_0001";
	req.content_type = "application/json";
	snprintf(clen, sizeof(clen), "%d", n);
	req.content_length = clen;
	req.headers = h;
	req.nheaders = 2;
	b.data = body;
	b.len = (size_t)n;
	b.pos = 0;
	b.chunk = 0;
	req.read_body = tu_read;
	req.read_arg = &b;
	status = pt_handle(ctx, &req, &resp);
	/* The injection covers the request only, not this test's checks. */
	pt_alloc_fail_nth(-1);
	if (getenv("FAULTS_DEBUG"))
		diag("status %d body [%.*s]", status, (int)resp.body.len,
		    resp.body.data ? resp.body.data : "");
	*json_ok = resp.body.len == 0 ||
	    (pt_json_parse(resp.body.data, resp.body.len, 64, &rb, &je) ==
	    PT_OK && (status == 200 || pt_json_get(rb, "error") != NULL));
	pt_json_put(rb);
	pt_resp_free(&resp);
	return status;
}

/*
 * The JSON setters under allocation failure: a constructor or copy that
 * fails inside a set or an append is PT_ENOMEM and nothing is stored --
 * never a stored null and PT_OK, which is how a failed allocation used to
 * end up in events and records as a null.  Null itself is stored only on
 * purpose.
 */
static pt_json *new_object(void) { return pt_json_new_object(); }
static pt_json *new_array(void) { return pt_json_new_array(); }
static pt_json *new_str(void) { return pt_json_new_str("v", 1); }
static pt_json *new_cstr(void) { return pt_json_new_cstr("v"); }
static pt_json *new_int(void) { return pt_json_new_int(7); }
static pt_json *new_double(void) { return pt_json_new_double(0.5); }
static pt_json *new_bool(void) { return pt_json_new_bool(1); }

static pt_json *
copy_doc(void)
{
	static const char text[] = "{\"a\":[1,2]}";
	pt_json *doc = pt_json_parse_trusted(text, strlen(text)), *c;

	pt_alloc_fail_nth(0);
	c = pt_json_copy(doc);
	pt_alloc_fail_nth(-1);
	pt_json_put(doc);
	return c;
}

static void
test_json_setters(void)
{
	static const struct {
		const char	*name;
		pt_json		*(*make)(void);
	} makers[] = {
		{ "pt_json_new_object", new_object },
		{ "pt_json_new_array", new_array },
		{ "pt_json_new_str", new_str },
		{ "pt_json_new_cstr", new_cstr },
		{ "pt_json_new_int", new_int },
		{ "pt_json_new_double", new_double },
		{ "pt_json_new_bool", new_bool },
	};
	static const char src_text[] = "{\"x\":{\"y\":1}}";
	pt_json *o, *a, *src, *v;
	enum pt_err rc, rc2;
	size_t i;

	for (i = 0; i < nitems(makers); i++) {
		o = pt_json_new_object();
		a = pt_json_new_array();
		pt_alloc_fail_nth(0);
		rc = pt_json_set(o, "k", makers[i].make());
		pt_alloc_fail_nth(0);
		rc2 = pt_json_append(a, makers[i].make());
		pt_alloc_fail_nth(-1);
		ok(rc == PT_ENOMEM && !pt_json_get_ex(o, "k", NULL) &&
		    rc2 == PT_ENOMEM && pt_json_len(a) == 0, "%s failing inside "
		    "a set and an append: PT_ENOMEM, nothing stored", makers[i].name);
		pt_json_put(o);
		pt_json_put(a);
	}
	o = pt_json_new_object();
	ok(pt_json_set(o, "k", copy_doc()) == PT_ENOMEM &&
	    !pt_json_get_ex(o, "k", NULL), "pt_json_copy failing inside a set: "
	    "PT_ENOMEM, nothing stored");
	src = pt_json_parse_trusted(src_text, strlen(src_text));
	pt_alloc_fail_nth(0);
	rc = pt_json_set_copy(o, "k", pt_json_get(src, "x"));
	pt_alloc_fail_nth(0);
	rc2 = pt_json_set_cstr(o, "s", "text");
	pt_alloc_fail_nth(-1);
	ok(rc == PT_ENOMEM && rc2 == PT_ENOMEM && pt_json_len(o) == 0,
	    "pt_json_set_copy and pt_json_set_cstr failing: PT_ENOMEM, nothing "
	    "stored");
	ok(pt_json_set(o, "k", NULL) == PT_ENOMEM && pt_json_len(o) == 0,
	    "a NULL given to pt_json_set is a failed constructor, not null");
	ok(pt_json_set_null(o, "n") == PT_OK && pt_json_get_ex(o, "n", &v) &&
	    v == NULL, "pt_json_set_null stores null");
	ok(pt_json_set_copy(o, "c", pt_json_get(src, "nope")) == PT_OK &&
	    pt_json_set_ref(o, "r", NULL) == PT_OK &&
	    pt_json_set_cstr(o, "s", NULL) == PT_OK &&
	    pt_json_get_ex(o, "c", &v) && v == NULL &&
	    pt_json_get_ex(o, "r", &v) && v == NULL &&
	    pt_json_get_ex(o, "s", &v) && v == NULL, "a null to copy, share "
	    "or a NULL string: stored as null");
	ok(pt_json_set_copy(o, "c", pt_json_get(src, "x")) == PT_OK &&
	    pt_json_equal(pt_json_get(o, "c"), pt_json_get(src, "x")) &&
	    pt_json_set_ref(o, "r", pt_json_get(src, "x")) == PT_OK &&
	    pt_json_get(o, "r") == pt_json_get(src, "x"), "pt_json_set_copy "
	    "copies, pt_json_set_ref shares");
	a = pt_json_new_array();
	ok(pt_json_append(a, NULL) == PT_ENOMEM && pt_json_append_null(a) ==
	    PT_OK && pt_json_append_copy(a, NULL) == PT_OK &&
	    pt_json_append_ref(a, pt_json_get(src, "x")) == PT_OK &&
	    pt_json_len(a) == 3 && pt_json_index(a, 0) == NULL &&
	    pt_json_index(a, 2) == pt_json_get(src, "x"), "appends: NULL is a "
	    "failure, null on purpose, copies and shares");
	pt_json_put(a);
	pt_json_put(src);
	pt_json_put(o);
}

static struct pt_buf reports;

static void
collect(void *arg, const char *line)
{
	(void)arg;
	pt_buf_adds(&reports, line);
	pt_buf_addc(&reports, '\n');
}

/* Log a pending execution whose lease ran out long ago: "id" gets its id. */
static void
pending_event(struct pt_store *s, int64_t at, uint8_t id[PT_ID_BIN],
    char text[PT_ID_MAX])
{
	struct pt_event ev;
	struct pt_txn *t;
	pt_json *extra = pt_json_new_object();

	memset(&ev, 0, sizeof(ev));
	pt_id_new("evt", at, ev.id, ev.id_text);
	ev.received_at = ev.event_time = at;
	ev.source = "app";
	ev.environment = "p";
	ev.endpoint_id = "src_faults_0001";
	ev.event_type = "order.paid";
	ev.status = "pending";
	ev.verify_status = "enforced:verified";
	ev.body = (const uint8_t *)"{}";
	ev.body_len = 2;
	pt_json_set(extra, "lease_until_us", pt_json_new_int(at + 1));
	ev.extra = extra;
	ok(pt_txn_begin(s, NULL, PT_TXN_WRITE, &t) == PT_OK &&
	    pt_eventlog_append(t, &ev) == PT_OK && pt_txn_commit(t) == PT_OK,
	    "a pending event %s", ev.id_text);
	pt_json_put(extra);
	memcpy(id, ev.id, PT_ID_BIN);
	memcpy(text, ev.id_text, PT_ID_MAX);
}

/*
 * Rewrite event "id" by hand as a record without "status" (what a bug or
 * an old version could leave), in the first format (evrec.h): 4-byte
 * big-endian metadata length, the
 * metadata, the body.  Its "pending" index entry stays.
 */
static void
drop_status(struct pt_store *s, const uint8_t id[PT_ID_BIN])
{
	struct pt_buf meta = { 0 }, body = { 0 };
	struct pt_buf rec = { 0 };
	struct pt_txn *t;
	const char *text;
	pt_json *m;
	uint8_t len[4];
	size_t n;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_eventlog_get(t, id, &meta, &body);
	m = pt_json_parse_trusted(meta.data, meta.len);
	pt_json_del(m, "status");
	text = pt_json_text(m, PT_JSON_PLAIN, &n);
	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	pt_buf_add(&rec, len, 4);
	pt_buf_add(&rec, text, n);
	pt_buf_add(&rec, body.data, body.len);
	ok(pt_put(t, PT_T_EVENTS, id, PT_ID_BIN, rec.data, rec.len, 0) ==
	    PT_OK && pt_txn_commit(t) == PT_OK, "  ... rewritten without its "
	    "status");
	pt_json_put(m);
	pt_buf_free(&rec);
	pt_buf_free(&meta);
	pt_buf_free(&body);
}

/* The stored status of event "id", copied into "out" ("" when none). */
static const char *
status_of(struct pt_store *s, const uint8_t id[PT_ID_BIN], char *out,
    size_t len)
{
	struct pt_buf meta = { 0 };
	struct pt_txn *t;
	pt_json *m;
	const char *st;

	out[0] = '\0';
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	if (pt_eventlog_get(t, id, &meta, NULL) == PT_OK &&
	    (m = pt_json_parse_trusted(meta.data, meta.len)) != NULL) {
		if ((st = pt_json_str(pt_json_get(m, "status"), NULL)) != NULL)
			snprintf(out, len, "%s", st);
		pt_json_put(m);
	}
	pt_txn_abort(t);
	pt_buf_free(&meta);
	return out;
}

/*
 * Records without a status, in a real store: recovery (which every few
 * writes run) skips them instead of crashing on them, a good pending
 * event behind them is still recovered, writes go on, and `porterctl
 * check` (pt_check) names them.
 */
static void
test_bad_record(const char *dir)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	struct pt_txn *t;
	uint8_t bad1[PT_ID_BIN], bad2[PT_ID_BIN], good[PT_ID_BIN];
	char t1[PT_ID_MAX], t2[PT_ID_MAX], tg[PT_ID_MAX], st[32], path[600];
	int64_t now = pt_now_us();
	size_t done = 99, problems;
	enum pt_err rc;
	int i, json_ok, ok200 = 0;

	snprintf(path, sizeof(path), "%s/bad-record", dir);
	s = tu_store(path, 0);
	ok(tu_apply(s, config_text) == NULL, "bad records: config applies");
	/* Oldest first: the bad two come before the good one. */
	pending_event(s, now - 3000000000LL, bad1, t1);
	drop_status(s, bad1);
	pending_event(s, now - 2000000000LL, bad2, t2);
	drop_status(s, bad2);
	pending_event(s, now - 1000000000LL, good, tg);

	/* As a write's housekeeping runs it: two per round. */
	ok(pt_txn_begin(s, NULL, PT_TXN_WRITE, &t) == PT_OK, "a write");
	rc = pt_recover(t, now, 2, &done);
	is_int(rc, PT_OK, "recovery with two records without a status: PT_OK");
	is_int(done, 1, "  ... skips them and recovers the good one behind "
	    "them");
	ok(pt_txn_commit(t) == PT_OK, "  ... and commits");
	is_str(status_of(s, good, st, sizeof(st)), "interrupted",
	    "the good pending event is interrupted");
	is_str(status_of(s, bad1, st, sizeof(st)), "", "the bad ones are left "
	    "as they are");

	/* Every write does housekeeping now and then: all go on. */
	pt_ctx_init(&ctx, s);
	ctx.log = quiet;
	for (i = 0; i < 20; i++)
		ok200 += request(&ctx, 5000 + i, &json_ok) == 200;
	is_int(ok200, 20, "writes go on with the bad records in the store");
	pt_ctx_free(&ctx);

	pt_buf_reset(&reports);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	problems = pt_check(t, collect, NULL, NULL);
	pt_txn_abort(t);
	ok(problems >= 2 && reports.data != NULL &&
	    strstr(reports.data, t1) != NULL && strstr(reports.data, t2) !=
	    NULL && strstr(reports.data, "has no status") != NULL,
	    "porterctl check names both records without a status (%zu "
	    "problems)", problems);
	if (reports.data)
		diag("%s", reports.data);
	pt_buf_free(&reports);
	pt_store_close(s);
}

int
main(void)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	struct pt_txn *t;
	const char *err;
	char *dir = tu_tmpdir();
	long total, n;
	int st, json_ok, id = 0, bad = 0, served = 0, c200 = 0, c500 = 0;
	size_t problems, events;

	s = tu_store(dir, 0);
	err = tu_apply(s, config_text);
	ok(err == NULL, "config applies (%s)", err ? err : "");
	pt_ctx_init(&ctx, s);
	ctx.log = quiet;

	/* A clean request first (config loaded), then one to count. */
	is_int(request(&ctx, id++, &json_ok), 200, "a clean request: 200");
	pt_alloc_fail_after(-1);
	st = request(&ctx, id++, &json_ok);
	total = pt_alloc_fail_after(-1);
	ok(st == 200 && total > 20, "a request makes %ld allocations", total);

	for (n = 0; n < total + 5; n++) {
		pt_alloc_fail_nth(n);
		st = request(&ctx, id++, &json_ok);
		pt_alloc_fail_nth(-1);
		if (st == 200)
			c200++;
		else if (st == 500)
			c500++;
		if ((st != 200 && st != 500) || !json_ok) {
			bad++;
			diag("allocation %ld failing: status %d, JSON body %s", n,
			    st, json_ok ? "ok" : "broken");
		}
		if (request(&ctx, id++, &json_ok) == 200)
			served++;
	}
	is_int(bad, 0, "every one of %ld injected failures answered a clean "
	    "200 or 500 (%d and %d)", total + 5, c200, c500);
	ok(c500 > 0, "failures do reach the answer as 500s");
	is_int(served, total + 5, "and the next request was served each time");

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	problems = pt_check(t, problem, NULL, &events);
	pt_txn_abort(t);
	is_int(problems, 0, "the store is consistent after %zu events", events);

	/*
	 * Regression (fuzz-handler): pt_recover returned without freeing its
	 * id array when its cursor could not be opened (the sanitizer build
	 * reports the leak).  Allocation 0 is that array, 1 the cursor.
	 */
	{
		enum pt_err rc;
		size_t done;

		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		pt_alloc_fail_nth(1);
		rc = pt_recover(t, 0, 0, &done);
		pt_alloc_fail_nth(-1);
		pt_txn_abort(t);
		is_int(rc, PT_ENOMEM, "pt_recover with no memory for a cursor");
	}

	/*
	 * Regression (fuzz-handler, UBSan): rendering a histogram series
	 * whose labels could not be copied passed NULL to memcpy.  Every
	 * allocation of a render fails in turn: PT_OK or PT_ENOMEM, nothing
	 * else (the sanitizer build stops on the undefined behaviour).
	 */
	{
		struct pt_buf out = { 0 };
		enum pt_err rc;
		long all, oom = 0, odd = 0;

		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		ok(pt_metrics_handler(t, "w", 12, 1) == PT_OK &&
		    pt_txn_commit(t) == PT_OK, "a histogram series is there");
		pt_alloc_fail_after(-1);
		rc = pt_metrics_render(s, 0, &out);
		all = pt_alloc_fail_after(-1);
		ok(rc == PT_OK && strstr(out.data ? out.data : "",
		    "_bucket{workflow=\"w\",le=") != NULL,
		    "metrics render with it (%ld allocations)", all);
		for (n = 0; n < all + 2; n++) {
			pt_buf_free(&out);
			pt_alloc_fail_nth(n);
			rc = pt_metrics_render(s, 0, &out);
			pt_alloc_fail_nth(-1);
			oom += rc == PT_ENOMEM;
			odd += rc != PT_OK && rc != PT_ENOMEM;
		}
		pt_buf_free(&out);
		ok(odd == 0 && oom > 0, "metrics render, each allocation "
		    "failing: PT_OK or PT_ENOMEM (%ld ENOMEM)", oom);
	}

	pt_ctx_free(&ctx);
	pt_store_close(s);
	test_json_setters();
	test_bad_record(dir);
	tu_rmdir(dir);
	return tap_done();
}
