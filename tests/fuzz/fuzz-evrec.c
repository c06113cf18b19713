/*
 * fuzz-evrec.c - event records as a damaged store holds them: the
 * format dispatch, v1 lengths, v2 packed metadata and body rows, packed
 * JSON records (evrec.h), and `porterctl check` over them.
 *
 * Input: a 2-byte big-endian length n, then n bytes stored as the event
 * record (PT_T_EVENTS), the rest as its body row (PT_T_BODIES; none when
 * the input ends at the record).  In one write transaction, never
 * committed, on a store in a temporary directory (with a dictionary
 * trained once at start, so PT_Z_DICT records can name a real one).
 * Checks, besides the sanitizers:
 *	- a record that reads gives a body and, rewritten with new
 *	  metadata, reads back that body and the new metadata exactly;
 *	- nothing is appended to the buffers of a read that fails;
 *	- pt_check walks it without crashing, and reports a problem for
 *	  a record that does not read;
 *	- a packed JSON record that parses is an object.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "evrec.h"
#include "fuzz.h"
#include "store.h"
#include "../unit/testutil.h"

static struct pt_store	*store;
static char		*dir;

static void
cleanup(void)
{
	pt_store_close(store);
	store = NULL;
	if (dir != NULL)
		tu_rmdir(dir);
	dir = NULL;
}

/* A store with 1,200 small records and a dictionary trained on them. */
static void
setup(void)
{
	struct pt_txn *t;
	char p[700], meta[200], body[300];
	uint8_t id[PT_ID_BIN];
	int i, n, m;

	dir = tu_tmpdir();
	snprintf(p, sizeof(p), "%s/db", dir);
	store = tu_store(p, 64ULL << 20);
	atexit(cleanup);
	if (pt_txn_begin(store, NULL, PT_TXN_WRITE, &t) != PT_OK)
		abort();
	for (i = 0; i < PT_EVREC_TRAIN_MIN + 200; i++) {
		memset(id, 0, sizeof(id));
		pt_be64_put(id, 1000000 + (uint64_t)i);
		m = snprintf(meta, sizeof(meta), "{\"id\":\"evt_%d\",\"source\":"
		    "\"s\",\"environment\":\"e\",\"status\":\"accepted\","
		    "\"body_bytes\":%d}", i, i % 50);
		n = snprintf(body, sizeof(body), "{\"type\":\"thing.%d\","
		    "\"amount\":%d,\"customer\":\"cus_%x\"}", i % 7, i * 31,
		    i * 2654435761u);
		pt_evrec_put(t, id, meta, (size_t)m, body, (size_t)n);
	}
	if (pt_txn_commit(t) != PT_OK || pt_evrec_train(store,
	    1700000000LL * 1000000) != PT_OK)
		abort();
	/* Only the record under test is walked by check. */
	if (pt_txn_begin(store, NULL, PT_TXN_WRITE, &t) != PT_OK)
		abort();
	for (i = 0; i < PT_EVREC_TRAIN_MIN + 200; i++) {
		memset(id, 0, sizeof(id));
		pt_be64_put(id, 1000000 + (uint64_t)i);
		pt_evrec_del(t, id);
	}
	if (pt_txn_commit(t) != PT_OK)
		abort();
}

static void
quiet(void *arg, const char *line)
{
	(*(size_t *)arg)++;
	(void)line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_buf meta = { 0 }, body = { 0 }, m2 = { 0 }, b2 = { 0 };
	struct pt_txn *t;
	struct pt_val v;
	uint8_t id[PT_ID_BIN];
	size_t n, lines = 0, events, problems;
	enum pt_err rc;
	pt_json *j;

	if (store == NULL)
		setup();
	if (size < 2)
		return 0;
	n = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	if (n == 0)
		return 0;	/* LMDB stores no empty record here */
	memset(id, 0, sizeof(id));
	pt_be64_put(id, 5000000);
	if (pt_txn_begin(store, NULL, PT_TXN_WRITE, &t) != PT_OK)
		abort();
	pt_put(t, PT_T_EVENTS, id, PT_ID_BIN, data, n, 0);
	if (size > n)
		pt_put(t, PT_T_BODIES, id, PT_ID_BIN, data + n, size - n, 0);

	rc = pt_evrec_get(t, id, &meta, &body);
	if (rc != PT_OK)
		FZ_ASSERT(meta.len == 0 || body.len == 0,
		    "a failed read appended to both");
	problems = pt_check(t, quiet, &lines, &events);
	FZ_ASSERT(problems == lines, "check counts what it reports");
	if (rc != PT_OK)
		FZ_ASSERT(problems > 0, "check passed a record that does not "
		    "read: %s", pt_strerror(rc));
	else {
		FZ_ASSERT(pt_evrec_replace_meta(t, id, "{\"x\":1}", 7) == PT_OK,
		    "rewrite a record that reads");
		FZ_ASSERT(pt_evrec_get(t, id, &m2, &b2) == PT_OK &&
		    m2.len == 7 && memcmp(m2.data, "{\"x\":1}", 7) == 0 &&
		    b2.len == body.len && (body.len == 0 ||
		    memcmp(b2.data, body.data, body.len) == 0),
		    "a rewritten record keeps its body");
	}
	v.data = data;
	v.len = n;
	if ((j = pt_evrec_parse_json(t, &v)) != NULL) {
		FZ_ASSERT(pt_json_type(j) == PT_J_OBJECT, "not an object");
		pt_json_put(j);
	}
	pt_txn_abort(t);
	pt_buf_free(&meta);
	pt_buf_free(&body);
	pt_buf_free(&m2);
	pt_buf_free(&b2);
	return 0;
}
