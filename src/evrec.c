/*
 * evrec.c - the event record's format and its dictionaries (see evrec.h).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "compress.h"
#include "evrec.h"
#include "nitems.h"
#include "timeutil.h"

#define HOUR_US		(3600LL * 1000000)
#define WEEK_US		(7 * 24 * HOUR_US)
/* Training: records sampled at most, and their bytes at most. */
#define TRAIN_RECORDS	2000
#define TRAIN_BYTES	((size_t)8 << 20)
/* A claim to train lapses after this: its process may have died. */
#define CLAIM_US	(10 * 60 * 1000000LL)
/* Below this many events at its training, a dictionary is retrained. */
#define RETRAIN_YOUNG	100000

static const char cur_key[] = "zdict:current";
static const char claim_key[] = "zdict:claim";
#define DICT_PREFIX	"zdict:"
#define DICT_KEY_LEN	(sizeof(DICT_PREFIX) - 1 + 4)

/* One cache for the process: dictionaries are the store's, not a txn's. */
static pthread_once_t	 zc_once = PTHREAD_ONCE_INIT;
static struct pt_zcache	*zc;	/* NULL if it could not be made: no dict */

static void
zc_init(void)
{
	if (pt_zcache_new(0, &zc) != PT_OK)
		zc = NULL;
}

static struct pt_zcache *
cache(void)
{
	pthread_once(&zc_once, zc_init);
	return zc;
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
dict_key(uint8_t k[DICT_KEY_LEN], uint32_t id)
{
	memcpy(k, DICT_PREFIX, sizeof(DICT_PREFIX) - 1);
	be32_put(k + sizeof(DICT_PREFIX) - 1, id);
}

/* A dictionary's value: 8 bytes of its time (µs), then its bytes. */
static enum pt_err
load_dict(struct pt_txn *txn, uint32_t id)
{
	uint8_t k[DICT_KEY_LEN];
	struct pt_val v;
	uint32_t got = 0;
	enum pt_err rc;

	if (cache() == NULL)
		return PT_ENOMEM;
	dict_key(k, id);
	if ((rc = pt_get(txn, PT_T_META, k, sizeof(k), &v)) != PT_OK)
		return rc;
	if (v.len <= 8)
		return PT_ECORRUPT;
	rc = pt_zcache_add(cache(), (const uint8_t *)v.data + 8, v.len - 8,
	    &got);
	if (rc == PT_OK && got != id)
		rc = PT_ECORRUPT;
	return rc;
}

/* "zdict:current": id, time, events (20 bytes). */
static enum pt_err
read_current(struct pt_txn *txn, struct pt_evrec_dicts *d)
{
	struct pt_val v;
	enum pt_err rc;

	memset(d, 0, sizeof(*d));
	rc = pt_get(txn, PT_T_META, cur_key, sizeof(cur_key) - 1, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (v.len != 20)
		return PT_ECORRUPT;
	d->current = be32_get(v.data);
	d->trained_at = (int64_t)pt_be64_get((const uint8_t *)v.data + 4);
	d->trained_events = pt_be64_get((const uint8_t *)v.data + 12);
	return PT_OK;
}

/*
 * The current dictionary's id as last read.  On a store that says when
 * its meta table changes (pt_store_meta_epoch: PostgreSQL, where reading
 * it is a round trip or three) it is valid while the epoch stays,
 * RECHECK_US at most, for every reader; on one that does not (LMDB,
 * where a write reads it for nothing) for RECHECK_US, for the request
 * threads' packing only, which would otherwise begin a transaction for
 * each record.  A dictionary is trained once a week at most, and packing
 * with the one before is harmless: it is kept.
 */
#define RECHECK_US	(5 * 1000000LL)
static struct {
	pthread_mutex_t	 mu;
	struct pt_store	*store;
	uint64_t	 epoch;
	int64_t		 at;
	uint32_t	 id;
} known = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0 };

static int
cached_current(struct pt_store *st, uint64_t *epoch, uint32_t *id)
{
	int64_t now = pt_now_us();
	int hit;

	if (!pt_store_meta_epoch(st, epoch))
		*epoch = 0;
	pthread_mutex_lock(&known.mu);
	hit = known.store == st && known.epoch == *epoch && now >= known.at &&
	    now - known.at < RECHECK_US;
	*id = known.id;
	pthread_mutex_unlock(&known.mu);
	return hit;
}

static void
remember_current(struct pt_store *st, uint64_t epoch, uint32_t id)
{
	pthread_mutex_lock(&known.mu);
	known.store = st;
	known.epoch = epoch;
	known.at = pt_now_us();
	known.id = id;
	pthread_mutex_unlock(&known.mu);
}

/* The current dictionary, loaded; 0 without a usable one. */
static uint32_t
current_dict(struct pt_txn *txn)
{
	struct pt_store *st = pt_txn_store(txn);
	struct pt_evrec_dicts d;
	uint64_t epoch = 0;
	uint32_t id;
	int watched;

	if (cache() == NULL)
		return 0;
	watched = pt_store_meta_epoch(st, &epoch);
	if (!watched || !cached_current(st, &epoch, &id)) {
		if (read_current(txn, &d) != PT_OK)
			return 0;
		id = d.current;
		remember_current(st, watched ? epoch : 0, id);
	}
	if (id != 0 && (pt_zcache_has(cache(), id) ||
	    load_dict(txn, id) == PT_OK))
		return id;
	return 0;
}

/*
 * Pack with the current dictionary.  Without a usable one (none yet, or
 * unreadable: `porterctl check` says so) a body is packed without, and
 * metadata is kept raw: small JSON gains little from zstd alone, and
 * each frame costs some 50,000 instructions, on the committer's thread.
 * The write goes on either way.
 */
#define PACK_BODY	0
#define PACK_META	1

static enum pt_err
pack(struct pt_txn *txn, const void *p, size_t n, struct pt_buf *out,
    int kind)
{
	uint32_t id = current_dict(txn);

	if (id == 0 && kind == PACK_META)
		return pt_zpack_raw(p, n, out);
	return pt_zpack(cache(), id, p, n, out);
}

static enum pt_err
unpack(struct pt_txn *txn, const void *p, size_t n, struct pt_buf *out)
{
	uint32_t ids[PT_Z_CAT_MAX];
	enum pt_err rc;
	size_t k, i;

	if ((rc = pt_zunpack(cache(), p, n, out)) != PT_ENOTFOUND)
		return rc;
	/* Dictionaries this process has not met yet: load them, once. */
	if (pt_zdicts(p, n, ids, nitems(ids), &k) != PT_OK || k == 0)
		return PT_ECORRUPT;
	for (i = 0; i < k; i++)
		if (!pt_zcache_has(cache(), ids[i]) &&
		    load_dict(txn, ids[i]) != PT_OK)
			return PT_ECORRUPT;
	rc = pt_zunpack(cache(), p, n, out);
	return rc == PT_ENOTFOUND ? PT_ECORRUPT : rc;
}

int
pt_evrec_version(const struct pt_val *v)
{
	const uint8_t *p = v->data;

	if (v->len >= 4 && p[0] == 0)
		return 1;
	if (v->len >= 2 && p[0] == PT_EVREC_V2)
		return 2;
	return 0;
}

/* Write the v2 record and, unless "body" is NULL, its body. */
static enum pt_err
put_v2(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], const char *meta,
    size_t meta_len, const void *packed_meta, size_t packed_meta_len,
    const void *body, size_t body_len, int flags)
{
	struct pt_buf rec = { 0 };
	enum pt_err rc;

	pt_buf_addc(&rec, PT_EVREC_V2);
	if (rec.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	if ((rc = packed_meta != NULL ? pt_buf_add(&rec, packed_meta,
	    packed_meta_len) : pack(txn, meta, meta_len, &rec, PACK_META)) !=
	    PT_OK ||
	    (rc = pt_put(txn, PT_T_EVENTS, id, PT_ID_BIN, rec.data, rec.len,
	    flags)) != PT_OK || body == NULL)
		goto out;
	pt_buf_reset(&rec);
	if ((rc = pack(txn, body, body_len, &rec, PACK_BODY)) != PT_OK)
		goto out;
	rc = pt_put(txn, PT_T_BODIES, id, PT_ID_BIN, rec.data, rec.len,
	    flags);
out:
	pt_buf_free(&rec);
	return rc;
}

enum pt_err
pt_evrec_put(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const char *meta, size_t meta_len, const void *body, size_t body_len)
{
	/* An empty body has a row too: a missing one is damage. */
	return put_v2(txn, id, meta, meta_len, NULL, 0, body ? body : "", body_len,
	    PT_PUT_NOOVERWRITE | PT_PUT_APPEND);
}

enum pt_err
pt_evrec_replace_meta(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const char *meta, size_t meta_len)
{
	struct pt_buf body = { 0 };
	struct pt_val v;
	enum pt_err rc;
	int ver;

	if ((rc = pt_get(txn, PT_T_EVENTS, id, PT_ID_BIN, &v)) != PT_OK)
		return rc;
	if ((ver = pt_evrec_version(&v)) == 2)
		return put_v2(txn, id, meta, meta_len, NULL, 0, NULL, 0, 0);
	if (ver != 1)
		return PT_ECORRUPT;
	/* v1: the body moves to its own row ("v" dies at the first put). */
	if ((rc = pt_evrec_decode(txn, id, &v, NULL, &body)) == PT_OK)
		rc = put_v2(txn, id, meta, meta_len, NULL, 0, body.data ?
		    body.data : "", body.len, 0);
	pt_buf_free(&body);
	return rc;
}

enum pt_err
pt_evrec_decode(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const struct pt_val *v, struct pt_buf *meta, struct pt_buf *body)
{
	const uint8_t *p = v->data;
	struct pt_val b;
	enum pt_err rc;
	size_t n;

	switch (pt_evrec_version(v)) {
	case 1:
		n = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
		    (size_t)p[2] << 8 | p[3];
		if (n > v->len - 4)
			return PT_ECORRUPT;
		if (meta != NULL && pt_buf_add(meta, p + 4, n) != PT_OK)
			return PT_ENOMEM;
		if (body != NULL && pt_buf_add(body, p + 4 + n,
		    v->len - 4 - n) != PT_OK)
			return PT_ENOMEM;
		return PT_OK;
	case 2:
		if (meta != NULL && (rc = unpack(txn, p + 1, v->len - 1,
		    meta)) != PT_OK)
			return rc;
		if (body == NULL)
			return PT_OK;
		rc = pt_get(txn, PT_T_BODIES, id, PT_ID_BIN, &b);
		if (rc == PT_ENOTFOUND)
			return PT_ECORRUPT;
		return rc == PT_OK ? unpack(txn, b.data, b.len, body) : rc;
	default:
		return PT_ECORRUPT;
	}
}

enum pt_err
pt_evrec_get(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    struct pt_buf *meta, struct pt_buf *body)
{
	struct pt_val v;
	enum pt_err rc;

	if ((rc = pt_get(txn, PT_T_EVENTS, id, PT_ID_BIN, &v)) != PT_OK)
		return rc;
	return pt_evrec_decode(txn, id, &v, meta, body);
}

enum pt_err
pt_evrec_del(struct pt_txn *txn, const uint8_t id[PT_ID_BIN])
{
	enum pt_err rc;

	if ((rc = pt_del(txn, PT_T_EVENTS, id, PT_ID_BIN)) != PT_OK)
		return rc;
	rc = pt_del(txn, PT_T_BODIES, id, PT_ID_BIN);
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

enum pt_err
pt_evrec_pack_json(struct pt_txn *txn, const char *text, size_t len,
    struct pt_buf *out)
{
	/* Plain when short, or while there is no dictionary (see pack). */
	if (len > 0 && text[0] == '{' && (len < PT_EVREC_PACK_MIN ||
	    current_dict(txn) == 0))
		return pt_buf_add(out, text, len);
	return pack(txn, text, len, out, PACK_META);
}

/* pack() outside the caller's transactions: see pt_evrec_prepack. */
static enum pt_err
prepack(struct pt_store *st, const void *p, size_t n, struct pt_buf *out,
    int kind)
{
	struct pt_txn *txn;
	enum pt_err rc;
	uint64_t epoch;
	uint32_t id;

	/* Known and loaded: no transaction to begin. */
	if (cache() != NULL && cached_current(st, &epoch, &id) && (id == 0 ||
	    pt_zcache_has(cache(), id))) {
		if (id == 0 && kind == PACK_META)
			return pt_zpack_raw(p, n, out);
		return pt_zpack(cache(), id, p, n, out);
	}
	if ((rc = pt_txn_begin(st, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	rc = pack(txn, p, n, out, kind);
	pt_txn_abort(txn);
	return rc;
}

enum pt_err
pt_evrec_prepack(struct pt_store *st, const void *body, size_t len,
    struct pt_buf *out)
{
	return prepack(st, body ? body : "", len, out, PACK_BODY);
}

enum pt_err
pt_evrec_prepack_meta(struct pt_store *st, const char *meta, size_t len,
    struct pt_buf *out)
{
	return prepack(st, meta, len, out, PACK_META);
}

enum pt_err
pt_evrec_prepack_json(struct pt_store *st, const char *text, size_t len,
    struct pt_buf *out)
{
	uint64_t epoch;
	uint32_t id;

	/* As pt_evrec_pack_json: plain when short or with no dictionary. */
	if (len > 0 && text[0] == '{' && (len < PT_EVREC_PACK_MIN ||
	    (cache() != NULL && cached_current(st, &epoch, &id) && id == 0)))
		return pt_buf_add(out, text, len);
	return prepack(st, text, len, out, PACK_META);
}

enum pt_err
pt_evrec_put_packed(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const char *meta, size_t meta_len, const void *packed_meta,
    size_t packed_meta_len, const void *packed, size_t packed_len)
{
	enum pt_err rc;

	if ((rc = put_v2(txn, id, meta, meta_len, packed_meta, packed_meta_len,
	    NULL, 0,
	    PT_PUT_NOOVERWRITE | PT_PUT_APPEND)) != PT_OK)
		return rc;
	return pt_put(txn, PT_T_BODIES, id, PT_ID_BIN, packed, packed_len,
	    PT_PUT_NOOVERWRITE | PT_PUT_APPEND);
}

pt_json *
pt_evrec_parse_json(struct pt_txn *txn, const struct pt_val *v)
{
	struct pt_buf b = { 0 };
	pt_json *j = NULL;

	if (v->len > 0 && ((const char *)v->data)[0] == '{')
		j = pt_json_parse_trusted(v->data, v->len);
	else if (unpack(txn, v->data, v->len, &b) == PT_OK)
		j = pt_json_parse_trusted(b.data, b.len);
	pt_buf_free(&b);
	if (j != NULL && pt_json_type(j) != PT_J_OBJECT) {
		pt_json_put(j);
		j = NULL;
	}
	return j;
}

/* ------------------------------------------------------- dictionaries */

/*
 * Call "cb" with each kept dictionary in id order: id, time, size.
 * Nonzero from "cb" stops the walk.
 */
static enum pt_err
walk_dicts(struct pt_txn *txn, int (*cb)(void *, uint32_t, int64_t, size_t),
    void *arg)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_err rc;

	if ((rc = pt_cursor_open(txn, PT_T_META, &cur)) != PT_OK)
		return rc;
	for (rc = pt_cursor_seek(cur, DICT_PREFIX, sizeof(DICT_PREFIX) - 1,
	    PT_SEEK_GE, &k, &v); rc == PT_OK; rc = pt_cursor_next(cur, &k,
	    &v)) {
		if (k.len < sizeof(DICT_PREFIX) - 1 || memcmp(k.data,
		    DICT_PREFIX, sizeof(DICT_PREFIX) - 1) != 0)
			break;
		if (k.len != DICT_KEY_LEN || v.len <= 8)
			continue;	/* "zdict:current", "zdict:claim" */
		if (cb(arg, be32_get((const uint8_t *)k.data + k.len - 4),
		    (int64_t)pt_be64_get(v.data), v.len - 8))
			break;
	}
	pt_cursor_close(cur);
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

static int
count_dict(void *arg, uint32_t id, int64_t at, size_t len)
{
	struct pt_evrec_dicts *d = arg;

	(void)id;
	(void)at;
	d->count++;
	d->bytes += len;
	return 0;
}

enum pt_err
pt_evrec_dicts(struct pt_txn *txn, struct pt_evrec_dicts *d)
{
	enum pt_err rc;

	if ((rc = read_current(txn, d)) != PT_OK)
		return rc;
	return walk_dicts(txn, count_dict, d);
}

/* The newest records' metadata and bodies, end to end, as samples. */
struct samples {
	struct pt_buf	 bytes;
	size_t		*sizes;
	size_t		 n, cap;
};

static enum pt_err
sample_add(struct samples *s, size_t from)
{
	size_t *p;

	if (s->bytes.failed)
		return PT_ENOMEM;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		if ((p = pt_realloc(s->sizes, s->cap * sizeof(*p))) == NULL)
			return PT_ENOMEM;
		s->sizes = p;
	}
	s->sizes[s->n++] = s->bytes.len - from;
	return PT_OK;
}

static enum pt_err
collect(struct pt_txn *txn, struct samples *s)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_err rc;
	size_t records = 0, from;

	if ((rc = pt_cursor_open(txn, PT_T_EVENTS, &cur)) != PT_OK)
		return rc;
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_LE, &k, &v);
	    rc == PT_OK && records < TRAIN_RECORDS &&
	    s->bytes.len < TRAIN_BYTES; rc = pt_cursor_prev(cur, &k, &v)) {
		if (k.len != PT_ID_BIN)
			continue;
		from = s->bytes.len;
		if (pt_evrec_decode(txn, k.data, &v, &s->bytes, NULL) !=
		    PT_OK) {
			s->bytes.len = from;	/* check reports it */
			continue;
		}
		if ((rc = sample_add(s, from)) != PT_OK)
			break;
		from = s->bytes.len;
		if (pt_evrec_decode(txn, k.data, &v, NULL, &s->bytes) ==
		    PT_OK && s->bytes.len > from &&
		    (rc = sample_add(s, from)) != PT_OK)
			break;
		records++;
	}
	pt_cursor_close(cur);
	return rc == PT_ENOTFOUND || rc == PT_OK ? PT_OK : rc;
}

/* Make "dict" (trained as "id") the current one, unless one is newer. */
static enum pt_err
install(struct pt_store *st, uint32_t id, int64_t now,
    const struct pt_buf *dict)
{
	struct pt_store_stat ss;
	struct pt_evrec_dicts d;
	struct pt_buf v = { 0 };
	struct pt_txn *txn = NULL;
	uint8_t k[DICT_KEY_LEN], cur[20], t[8];
	enum pt_err rc;

	if ((rc = pt_store_stat(st, &ss)) != PT_OK ||
	    (rc = pt_txn_begin(st, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		return rc;
	if ((rc = read_current(txn, &d)) != PT_OK && rc != PT_ECORRUPT)
		goto out;
	if (rc == PT_OK && d.current >= id) {
		rc = PT_OK;	/* another process was quicker */
		goto out;
	}
	pt_be64_put(t, (uint64_t)now);
	pt_buf_add(&v, t, 8);
	pt_buf_add(&v, dict->data, dict->len);
	dict_key(k, id);
	be32_put(cur, id);
	pt_be64_put(cur + 4, (uint64_t)now);
	pt_be64_put(cur + 12, ss.entries[PT_T_EVENTS]);
	if (v.failed)
		rc = PT_ENOMEM;
	else if ((rc = pt_put(txn, PT_T_META, k, sizeof(k), v.data, v.len,
	    PT_PUT_NOOVERWRITE)) == PT_OK &&
	    (rc = pt_put(txn, PT_T_META, cur_key, sizeof(cur_key) - 1, cur,
	    sizeof(cur), 0)) == PT_OK &&
	    ((rc = pt_del(txn, PT_T_META, claim_key, sizeof(claim_key) - 1)) ==
	    PT_OK || rc == PT_ENOTFOUND)) {
		rc = pt_txn_commit(txn);
		txn = NULL;
	}
out:
	if (txn != NULL)
		pt_txn_abort(txn);
	pt_buf_free(&v);
	return rc;
}

enum pt_err
pt_evrec_train(struct pt_store *st, int64_t now)
{
	struct samples s = { { 0 }, NULL, 0, 0 };
	struct pt_evrec_dicts d;
	struct pt_buf dict = { 0 };
	struct pt_txn *txn = NULL;
	enum pt_err rc;

	if ((rc = pt_txn_begin(st, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	if ((rc = read_current(txn, &d)) == PT_ECORRUPT)
		d.current = 0;
	else if (rc != PT_OK)
		goto out;
	rc = collect(txn, &s);
	/* No transaction open while zstd trains: it takes a while. */
	pt_txn_abort(txn);
	txn = NULL;
	if (rc != PT_OK)
		goto out;
	if (s.n < PT_EVREC_TRAIN_MIN) {
		rc = PT_EINVAL;
		goto out;
	}
	if ((rc = pt_zdict_train(s.bytes.data, s.sizes, s.n, PT_ZDICT_SIZE,
	    d.current + 1, 0, &dict)) != PT_OK)
		goto out;
	rc = install(st, d.current + 1, now, &dict);
out:
	if (txn != NULL)
		pt_txn_abort(txn);
	pt_buf_free(&s.bytes);
	pt_free(s.sizes);
	pt_buf_free(&dict);
	return rc;
}

/*
 * Due: none yet (or unreadable); a week old (bodies change); or trained
 * on a log a tenth of today's while it was young.
 */
static int
due_in(struct pt_txn *txn, int64_t now, uint64_t n)
{
	struct pt_evrec_dicts d;

	if (read_current(txn, &d) != PT_OK || d.current == 0)
		return 1;
	return now - d.trained_at >= WEEK_US ||
	    (d.trained_events < RETRAIN_YOUNG && n >= 10 * d.trained_events);
}

static int
due(struct pt_store *st, int64_t now, uint64_t n)
{
	struct pt_txn *txn;
	int r;

	if (pt_txn_begin(st, NULL, PT_TXN_READ, &txn) != PT_OK)
		return 0;
	r = due_in(txn, now, n);
	pt_txn_abort(txn);
	return r;
}

/* Is training due, and did this process win the claim to do it? */
static int
claim(struct pt_store *st, int64_t now)
{
	struct pt_store_stat ss;
	struct pt_txn *txn = NULL;
	struct pt_val v;
	uint64_t n;
	uint8_t until[8];
	int won = 0;

	if (pt_store_stat(st, &ss) != PT_OK)
		return 0;
	n = ss.entries[PT_T_EVENTS];
	/* Asked every few seconds by every process: a read decides. */
	if (n < PT_EVREC_TRAIN_MIN || !due(st, now, n) ||
	    pt_txn_begin(st, NULL, PT_TXN_WRITE, &txn) != PT_OK)
		return 0;
	if (!due_in(txn, now, n))
		goto out;
	if (pt_get(txn, PT_T_META, claim_key, sizeof(claim_key) - 1, &v) ==
	    PT_OK && v.len == 8 && (int64_t)pt_be64_get(v.data) > now)
		goto out;	/* another process is at it */
	pt_be64_put(until, (uint64_t)(now + CLAIM_US));
	if (pt_put(txn, PT_T_META, claim_key, sizeof(claim_key) - 1, until,
	    sizeof(until), 0) == PT_OK) {
		won = pt_txn_commit(txn) == PT_OK;
		txn = NULL;
	}
out:
	if (txn != NULL)
		pt_txn_abort(txn);
	return won;
}

enum pt_err
pt_evrec_maintain(struct pt_store *st, int64_t now, int *trained)
{
	enum pt_err rc;

	if (trained != NULL)
		*trained = 0;
	if (!claim(st, now))
		return PT_OK;
	rc = pt_evrec_train(st, now);
	if (rc == PT_OK && trained != NULL)
		*trained = 1;
	/* Samples zstd cannot train on: try again when the claim lapses. */
	return rc == PT_EINVAL ? PT_OK : rc;
}

/* Dictionaries that may go: every one before the last "needed". */
struct retire {
	int64_t		 oldest_us;
	uint32_t	 current;
	uint32_t	 prev;		/* the dictionary before this one */
	uint32_t	 drop[64];
	size_t		 ndrop;
};

static int
retire_cb(void *arg, uint32_t id, int64_t at, size_t len)
{
	struct retire *r = arg;

	(void)len;
	/*
	 * Records older than "at" (and newer ones, for an hour of clock
	 * and commit order) may use the one before: keep it while any is.
	 */
	if (r->prev != 0 && id <= r->current && at + HOUR_US <= r->oldest_us &&
	    r->ndrop < sizeof(r->drop) / sizeof(r->drop[0]))
		r->drop[r->ndrop++] = r->prev;
	r->prev = id;
	return 0;
}

enum pt_err
pt_evrec_retire(struct pt_txn *txn, int64_t oldest_us)
{
	struct pt_evrec_dicts d;
	struct retire r;
	uint8_t k[DICT_KEY_LEN];
	enum pt_err rc;
	size_t i;

	memset(&r, 0, sizeof(r));
	if ((rc = read_current(txn, &d)) != PT_OK || d.current == 0)
		return rc == PT_ECORRUPT ? PT_OK : rc;
	r.oldest_us = oldest_us;
	r.current = d.current;
	if ((rc = walk_dicts(txn, retire_cb, &r)) != PT_OK)
		return rc;
	for (i = 0; i < r.ndrop; i++) {
		dict_key(k, r.drop[i]);
		if ((rc = pt_del(txn, PT_T_META, k, sizeof(k))) != PT_OK &&
		    rc != PT_ENOTFOUND)
			return rc;
	}
	return PT_OK;
}
