/*
 * test-faults.c - allocation failure injection (SQLite's "anomaly tests"):
 * make the Nth allocation of a whole request fail, for every N.  Each time
 * the answer is a clean 200 or 500 (a JSON error body when there is
 * memory for one), the next request is served normally, and in the end the
 * store is consistent; the sanitizer build of `make check` reports any
 * leak.  (json-c and LMDB allocate with malloc directly: their failures are
 * not injected here.)
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "check.h"
#include "handler.h"
#include "metrics.h"
#include "sig.h"
#include "tap.h"
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
		rc = pt_metrics_render(s, &out);
		all = pt_alloc_fail_after(-1);
		ok(rc == PT_OK && strstr(out.data ? out.data : "",
		    "_bucket{workflow=\"w\",le=") != NULL,
		    "metrics render with it (%ld allocations)", all);
		for (n = 0; n < all + 2; n++) {
			pt_buf_free(&out);
			pt_alloc_fail_nth(n);
			rc = pt_metrics_render(s, &out);
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
	tu_rmdir(dir);
	return tap_done();
}
