/*
 * test-evrec.c - the event record's formats and the store's compression
 * dictionaries, on a real LMDB store.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "compress.h"
#include "eventlog.h"
#include "evrec.h"
#include "store.h"
#include "tap.h"
#include "testutil.h"

#define HOUR	(3600LL * 1000000)

static void
mkid(uint8_t id[PT_ID_BIN], int64_t us, unsigned n)
{
	memset(id, 0, PT_ID_BIN);
	pt_be64_put(id, (uint64_t)us);
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* A realistic, varied record: metadata and body. */
static void
record(unsigned i, struct pt_buf *meta, struct pt_buf *body)
{
	pt_buf_reset(meta);
	pt_buf_reset(body);
	pt_buf_printf(meta, "{\"id\":\"evt_%08u\",\"source\":\"stripe\","
	    "\"environment\":\"production\",\"event_type\":\"invoice.paid\","
	    "\"status\":\"accepted\",\"headers\":{\"content-type\":"
	    "\"application/json\",\"user-agent\":\"Stripe/1.0\"},"
	    "\"body_bytes\":%u}", i, 300 + i % 200);
	pt_buf_printf(body, "{\"id\":\"in_%u%u\",\"object\":\"invoice\","
	    "\"amount_due\":%u,\"customer\":\"cus_%x\",\"lines\":[", i * 7919,
	    i, (i * 37) % 10000, i * 2654435761u);
	while (body->len < 300 + i % 200)
		pt_buf_printf(body, "{\"amount\":%u,\"currency\":\"eur\"},",
		    (unsigned)((i * body->len) % 9999));
	pt_buf_adds(body, "{}]}");
}

static uint32_t
dict_of(struct pt_store *s, enum pt_table t, const uint8_t id[PT_ID_BIN])
{
	struct pt_txn *txn;
	struct pt_val v;
	struct pt_zinfo zi;
	uint32_t d = UINT32_MAX;

	pt_txn_begin(s, NULL, PT_TXN_READ, &txn);
	if (pt_get(txn, t, id, PT_ID_BIN, &v) == PT_OK)
		d = pt_zinfo((const uint8_t *)v.data + (t == PT_T_EVENTS),
		    v.len - (t == PT_T_EVENTS), &zi) == PT_OK ? zi.dict_id :
		    UINT32_MAX - 1;
	pt_txn_abort(txn);
	return d;
}

int
main(void)
{
	static const uint8_t bin[] = { 0, 1, 2, 0xff, 0, '{', 0x80, 0 };
	struct pt_buf meta = { 0 }, body = { 0 }, m2 = { 0 }, b2 = { 0 };
	struct pt_evrec_dicts d;
	struct pt_store *s;
	struct pt_txn *t;
	struct pt_val v;
	uint8_t id[PT_ID_BIN], id2[PT_ID_BIN], rec[64];
	char *dir = tu_tmpdir(), sub[600];
	int64_t now = 1700000000LL * 1000000;
	unsigned i, good;
	pt_json *j;
	int trained;

	snprintf(sub, sizeof(sub), "%s/db", dir);
	s = tu_store(sub, 0);

	/* v2: exact bytes back, binary and empty bodies too. */
	mkid(id, now, 1);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_evrec_put(t, id, "{\"a\":1}", 7, bin, sizeof(bin)) == PT_OK,
	    "v2 put");
	ok(pt_evrec_put(t, id, "{\"a\":1}", 7, bin, sizeof(bin)) == PT_EEXIST,
	    "a second put of the id is EEXIST");
	mkid(id2, now, 2);
	ok(pt_evrec_put(t, id2, "{\"b\":2}", 7, NULL, 0) == PT_OK,
	    "v2 put, empty body");
	ok(pt_txn_commit(t) == PT_OK, "commit");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_evrec_get(t, id, &meta, &body) == PT_OK && meta.len == 7 &&
	    memcmp(meta.data, "{\"a\":1}", 7) == 0 && body.len == sizeof(bin)
	    && memcmp(body.data, bin, sizeof(bin)) == 0,
	    "v2 get: the metadata and the binary body, byte for byte");
	pt_buf_reset(&body);
	ok(pt_evrec_get(t, id2, NULL, &body) == PT_OK && body.len == 0,
	    "v2 get: the empty body");
	ok(pt_get(t, PT_T_EVENTS, id, PT_ID_BIN, &v) == PT_OK &&
	    pt_evrec_version(&v) == 2, "the record says format 2");
	pt_txn_abort(t);

	/* v1, as an older Porter wrote it: read, and rewritten as v2. */
	mkid(id, now, 3);
	rec[0] = rec[1] = rec[2] = 0;
	rec[3] = 7;
	memcpy(rec + 4, "{\"c\":3}", 7);
	memcpy(rec + 11, "old body", 8);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_put(t, PT_T_EVENTS, id, PT_ID_BIN, rec, 19, 0);
	pt_buf_reset(&meta);
	pt_buf_reset(&body);
	ok(pt_evrec_get(t, id, &meta, &body) == PT_OK && meta.len == 7 &&
	    body.len == 8 && memcmp(body.data, "old body", 8) == 0,
	    "a v1 record reads");
	ok(pt_evrec_replace_meta(t, id, "{\"c\":4}", 7) == PT_OK,
	    "its metadata rewritten");
	pt_buf_reset(&meta);
	pt_buf_reset(&body);
	ok(pt_evrec_get(t, id, &meta, &body) == PT_OK &&
	    memcmp(meta.data, "{\"c\":4}", 7) == 0 && body.len == 8 &&
	    memcmp(body.data, "old body", 8) == 0 &&
	    pt_get(t, PT_T_EVENTS, id, PT_ID_BIN, &v) == PT_OK &&
	    pt_evrec_version(&v) == 2,
	    "... it is v2 now, with the same body in its own row");
	ok(pt_evrec_del(t, id) == PT_OK && pt_get(t, PT_T_BODIES, id,
	    PT_ID_BIN, &v) == PT_ENOTFOUND, "delete takes the body too");
	/* Damage: a bit flipped in a packed record, a body row missing. */
	mkid(id, now, 4);
	pt_evrec_put(t, id, "{\"d\":5}", 7, "body", 4);
	pt_del(t, PT_T_BODIES, id, PT_ID_BIN);
	pt_buf_reset(&body);
	ok(pt_evrec_get(t, id, NULL, &body) == PT_ECORRUPT,
	    "a missing body row is PT_ECORRUPT");
	rec[0] = PT_EVREC_V2;
	rec[1] = 9;	/* no method */
	pt_put(t, PT_T_EVENTS, id, PT_ID_BIN, rec, 8, 0);
	ok(pt_evrec_get(t, id, &meta, NULL) == PT_ECORRUPT,
	    "an unknown packing is PT_ECORRUPT");
	pt_evrec_del(t, id);
	pt_txn_commit(t);

	/* Dictionaries: none until trained. */
	ok(pt_evrec_maintain(s, now, &trained) == PT_OK && !trained,
	    "maintain: nothing due with 2 records");
	ok(pt_evrec_train(s, now) == PT_EINVAL,
	    "train refuses with too few records");
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	for (i = 10; i < 10 + PT_EVREC_TRAIN_MIN + 200; i++) {
		mkid(id, now + i, i);
		record(i, &meta, &body);
		pt_evrec_put(t, id, meta.data, meta.len, body.data, body.len);
	}
	ok(pt_txn_commit(t) == PT_OK, "%d records written",
	    PT_EVREC_TRAIN_MIN + 200);
	ok(dict_of(s, PT_T_BODIES, id) == 0, "... packed without a dictionary");
	ok(pt_evrec_maintain(s, now + HOUR, &trained) == PT_OK && trained,
	    "maintain trains the first dictionary when due");
	ok(pt_evrec_maintain(s, now + HOUR, &trained) == PT_OK && !trained,
	    "... and not again");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_evrec_dicts(t, &d) == PT_OK && d.current == 1 && d.count == 1 &&
	    d.bytes > 1000 && d.trained_at == now + HOUR &&
	    d.trained_events == PT_EVREC_TRAIN_MIN + 202,
	    "dictionary 1: its time and the log's size then");
	pt_txn_abort(t);

	mkid(id, now + 2 * HOUR, 5000);
	record(5000, &meta, &body);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_evrec_put(t, id, meta.data, meta.len, body.data, body.len);
	pt_txn_commit(t);
	ok(dict_of(s, PT_T_BODIES, id) == 1 && dict_of(s, PT_T_EVENTS, id) ==
	    1, "a new record is packed with it");
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	ok(pt_evrec_get(t, id, &m2, &b2) == PT_OK && m2.len == meta.len &&
	    memcmp(m2.data, meta.data, meta.len) == 0 && b2.len == body.len &&
	    memcmp(b2.data, body.data, body.len) == 0,
	    "... and reads back exactly");
	for (good = 0, i = 10; i < 10 + PT_EVREC_TRAIN_MIN + 200; i++) {
		mkid(id2, now + i, i);
		record(i, &meta, &body);
		pt_buf_reset(&m2);
		pt_buf_reset(&b2);
		good += pt_evrec_get(t, id2, &m2, &b2) == PT_OK &&
		    b2.len == body.len && memcmp(b2.data, body.data,
		    body.len) == 0;
	}
	is_int(good, PT_EVREC_TRAIN_MIN + 200,
	    "the records from before the dictionary still read");
	pt_txn_abort(t);

	/* A week on, a second; the first goes once no record may use it. */
	ok(pt_evrec_maintain(s, now + 8 * 24 * HOUR, &trained) == PT_OK &&
	    trained, "a week on, a second dictionary");
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_evrec_retire(t, now) == PT_OK && pt_evrec_dicts(t, &d) ==
	    PT_OK && d.current == 2 && d.count == 2,
	    "retire keeps the first while older records remain");
	ok(pt_evrec_retire(t, now + 8 * 24 * HOUR + HOUR / 2) == PT_OK &&
	    pt_evrec_dicts(t, &d) == PT_OK && d.count == 2,
	    "... and for an hour after the second was made");
	ok(pt_evrec_retire(t, now + 9 * 24 * HOUR) == PT_OK &&
	    pt_evrec_dicts(t, &d) == PT_OK && d.current == 2 && d.count == 1,
	    "... then it goes; the current one never does");
	pt_txn_commit(t);

	/* Other JSON records: plain ones from before, packed ones. */
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	v.data = "{\"x\":1}";
	v.len = 7;
	ok((j = pt_evrec_parse_json(t, &v)) != NULL &&
	    pt_json_int(pt_json_get(j, "x")) == 1, "a plain JSON record reads");
	pt_json_put(j);
	pt_buf_reset(&m2);
	ok(pt_evrec_pack_json(t, "{\"y\":[1,2,3]}", 13, &m2) == PT_OK &&
	    m2.len == 13 && m2.data[0] == '{',
	    "a short one is kept plain (below PT_EVREC_PACK_MIN)");
	pt_buf_reset(&body);
	pt_buf_adds(&body, "{\"y\":[1");
	while (body.len < PT_EVREC_PACK_MIN + 100)
		pt_buf_adds(&body, ",2");
	pt_buf_adds(&body, "]}");
	pt_buf_reset(&m2);
	ok(pt_evrec_pack_json(t, body.data, body.len, &m2) == PT_OK &&
	    m2.data[0] != '{' && m2.len < body.len,
	    "a longer one is packed: it does not start with '{'");
	v.data = m2.data;
	v.len = m2.len;
	ok((j = pt_evrec_parse_json(t, &v)) != NULL &&
	    pt_json_len(pt_json_get(j, "y")) > 100, "... and reads");
	pt_json_put(j);
	v.data = "[1]";
	v.len = 3;
	ok(pt_evrec_parse_json(t, &v) == NULL, "not an object: NULL");
	pt_txn_abort(t);

	/*
	 * Metadata packed ahead for a guessed outcome (eventlog.h): copied
	 * when the write's outcome is the guess, written from the event
	 * when it is not.
	 */
	{
		static const char *const outcome[] = { "accepted", "failed" };
		struct pt_buf guess = { 0 }, packed = { 0 }, pb = { 0 };
		struct pt_event ev;
		unsigned k;

		for (k = 0; k < 2; k++) {
			memset(&ev, 0, sizeof(ev));
			mkid(ev.id, now + HOUR, 100 + k);
			pt_id_text("evt", ev.id, ev.id_text);
			ev.received_at = now + HOUR;
			ev.source = "stripe";
			ev.environment = "production";
			ev.endpoint_id = "src_1";
			ev.event_type = "invoice.paid";
			ev.status = "accepted";
			ev.verify_status = "enforced:verified";
			ev.body = (const uint8_t *)"{\"x\":1}";
			ev.body_len = 7;
			pt_buf_reset(&guess);
			pt_buf_reset(&packed);
			pt_buf_reset(&pb);
			ok(pt_evrec_prepack(s, ev.body, ev.body_len, &pb) ==
			    PT_OK && pt_eventlog_prepack(s, &ev, &guess,
			    &packed) == PT_OK, "guess %u: packed ahead", k);
			ev.packed_body = pb.data;
			ev.packed_body_len = pb.len;
			ev.guess = guess.data;
			ev.guess_len = guess.len;
			ev.packed_meta = packed.data;
			ev.packed_meta_len = packed.len;
			ev.status = outcome[k];
			pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
			ok(pt_eventlog_append(t, &ev) == PT_OK &&
			    pt_txn_commit(t) == PT_OK, "  ... appended, the "
			    "outcome %s", outcome[k]);
			pt_txn_begin(s, NULL, PT_TXN_READ, &t);
			pt_buf_reset(&meta);
			pt_buf_reset(&body);
			j = pt_eventlog_get(t, ev.id, &meta, &body) == PT_OK ?
			    pt_json_parse_trusted(meta.data, meta.len) : NULL;
			pt_txn_abort(t);
			ok(j != NULL && strcmp(pt_json_str(pt_json_get(j,
			    "status"), NULL), outcome[k]) == 0 &&
			    strcmp(pt_json_str(pt_json_get(j, "id"), NULL),
			    ev.id_text) == 0 && body.len == 7, "  ... and reads "
			    "back as %s, with its id and body (%s)", outcome[k],
			    k ? "not the guess: written from the event" :
			    "the guess: copied");
			pt_json_put(j);
		}
		pt_buf_free(&guess);
		pt_buf_free(&packed);
		pt_buf_free(&pb);
	}

	pt_buf_free(&meta);
	pt_buf_free(&body);
	pt_buf_free(&m2);
	pt_buf_free(&b2);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
