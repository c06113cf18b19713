/*
 * compress.c - record compression with zstd (see compress.h).
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>
#include <zdict.h>

#include "alloc.h"
#include "compress.h"

/* RFC 8878 section 3.1.1: every frame starts with it (little-endian). */
static const uint8_t zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

/*
 * The frame header descriptor of every frame we make (RFC 8878 section
 * 3.1.1.1.1), in its low 5 bits: checksum on, no dictionary id, the
 * unused and reserved bits clear.  Anything else is no frame of ours, so
 * a flipped bit there cannot go unnoticed either.
 */
#define FHD_MASK	0x1f
#define FHD_OURS	0x04

/*
 * The smallest frame we make without its magic: header descriptor, one
 * byte of content size, a block header, one byte of block, the checksum.
 * Shorter records cannot gain: they are stored raw without trying.
 */
#define FRAME_MIN	10

#define UVAR_MAX	5	/* LEB128 bytes of a uint32_t */

/* A dictionary: its bytes (for the CDict, made on first use) and DDict. */
struct zdict {
	uint32_t		 id;
	uint8_t			*bytes;
	size_t			 len;
	ZSTD_DDict		*ddict;
	_Atomic(ZSTD_CDict *)	 cdict;
};

struct pt_zcache {
	int			 level;
	pthread_rwlock_t	 lock;		/* "dicts" and "n" */
	pthread_mutex_t		 cdict_mu;	/* making a CDict */
	struct zdict		**dicts;	/* never removed until the end */
	size_t			 n, cap;
};

/* This thread's decompression context (compression: the pool below). */
struct zctx {
	ZSTD_DCtx	*dctx;
};

static pthread_once_t	ctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t	ctx_key;
static int		ctx_key_ok;

static void
ctx_free(void *p)
{
	struct zctx *c = p;

	if (c == NULL)
		return;
	ZSTD_freeDCtx(c->dctx);
	pt_free(c);
}

static void
ctx_key_init(void)
{
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

static struct zctx *
thread_ctx(void)
{
	struct zctx *c;

	pthread_once(&ctx_once, ctx_key_init);
	if (!ctx_key_ok)
		return NULL;
	if ((c = pthread_getspecific(ctx_key)) != NULL)
		return c;
	if ((c = pt_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_setspecific(ctx_key, c) != 0) {
		pt_free(c);
		return NULL;
	}
	return c;
}

void
pt_zthread_free(void)
{
	pthread_once(&ctx_once, ctx_key_init);
	if (!ctx_key_ok)
		return;
	ctx_free(pthread_getspecific(ctx_key));
	pthread_setspecific(ctx_key, NULL);
}

/*
 * Compression contexts are shared through a pool, not one a thread: with
 * 32 request threads packing, a context each meant 32 sets of zstd's
 * tables going cold in the caches between uses (bench/core: more CPU an
 * event for the same instructions).  A thread takes one for a frame and
 * gives it back; at most CCTX_POOL wait unused.
 */
#define CCTX_POOL	8
static struct {
	pthread_mutex_t	 mu;
	ZSTD_CCtx	*idle[CCTX_POOL];
	int		 n;
} pool = { PTHREAD_MUTEX_INITIALIZER, { NULL }, 0 };

/* A compression context set up for our frames, or NULL. */
static ZSTD_CCtx *
cctx_take(void)
{
	ZSTD_CCtx *cc = NULL;

	pthread_mutex_lock(&pool.mu);
	if (pool.n > 0)
		cc = pool.idle[--pool.n];
	pthread_mutex_unlock(&pool.mu);
	if (cc != NULL)
		return cc;
	if ((cc = ZSTD_createCCtx()) == NULL)
		return NULL;
	/* The decoder checks both; the dictionary id is in our header. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag,
	    1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_dictIDFlag, 0))) {
		ZSTD_freeCCtx(cc);
		return NULL;
	}
	return cc;
}

static void
cctx_give(ZSTD_CCtx *cc)
{
	pthread_mutex_lock(&pool.mu);
	if (pool.n < CCTX_POOL) {
		pool.idle[pool.n++] = cc;
		cc = NULL;
	}
	pthread_mutex_unlock(&pool.mu);
	ZSTD_freeCCtx(cc);
}

static ZSTD_DCtx *
thread_dctx(void)
{
	struct zctx *c = thread_ctx();

	if (c == NULL)
		return NULL;
	if (c->dctx == NULL)
		c->dctx = ZSTD_createDCtx();
	return c->dctx;
}

/* zstd's error "r" as ours: memory, or else what "other" says. */
static enum pt_err
zerr(size_t r, enum pt_err other)
{
	return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ?
	    PT_ENOMEM : other;
}

/* LEB128 of "v" at "p" (room for UVAR_MAX); returns the bytes written. */
static size_t
uvar_put(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t
uvar_len(uint32_t v)
{
	uint8_t tmp[UVAR_MAX];

	return uvar_put(tmp, v);
}

/*
 * Read a LEB128 uint32_t from "p" ("n" bytes); returns the bytes read, 0
 * when it is cut short, longer than 5 bytes, past 32 bits or not minimal
 * (one value, one encoding: a record has exactly one packed form).
 */
static size_t
uvar_get(const uint8_t *p, size_t n, uint32_t *vp)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && i < UVAR_MAX; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (v > UINT32_MAX || (i > 0 && p[i] == 0))
				return 0;
			*vp = (uint32_t)v;
			return i + 1;
		}
	}
	return 0;
}

enum pt_err
pt_zinfo(const void *src, size_t len, struct pt_zinfo *zi)
{
	const uint8_t *p = src;
	uint32_t v;
	size_t k, off;

	memset(zi, 0, sizeof(*zi));
	if (len < 2 || p[0] >= PT_Z__MAX)
		return PT_ECORRUPT;
	zi->method = p[0];
	if ((k = uvar_get(p + 1, len - 1, &v)) == 0)
		return PT_ECORRUPT;
	if (v > PT_Z_MAX_LEN)
		return PT_ETOOBIG;
	zi->len = v;
	off = 1 + k;
	if (zi->method == PT_Z_DICT) {
		if ((k = uvar_get(p + off, len - off, &v)) == 0 || v == 0)
			return PT_ECORRUPT;
		zi->dict_id = v;
		off += k;
	}
	zi->header_len = off;
	return PT_OK;
}

/* Write a header at "p" (room for 1 + 2 * UVAR_MAX); returns its length. */
static size_t
header_put(uint8_t *p, enum pt_zmethod m, size_t len, uint32_t dict_id)
{
	size_t n = 1;

	p[0] = (uint8_t)m;
	n += uvar_put(p + n, (uint32_t)len);
	if (m == PT_Z_DICT)
		n += uvar_put(p + n, dict_id);
	return n;
}

static struct zdict *
find_locked(struct pt_zcache *zc, uint32_t id)
{
	size_t i;

	for (i = 0; i < zc->n; i++)
		if (zc->dicts[i]->id == id)
			return zc->dicts[i];
	return NULL;
}

/* The dictionary "id", or NULL; it lives as long as the cache. */
static struct zdict *
find(struct pt_zcache *zc, uint32_t id)
{
	struct zdict *d;

	if (zc == NULL)
		return NULL;
	pthread_rwlock_rdlock(&zc->lock);
	d = find_locked(zc, id);
	pthread_rwlock_unlock(&zc->lock);
	return d;
}

/*
 * The dictionary's CDict, made by the first thread that compresses with
 * it: a cache that only reads old records never pays for one.
 */
static enum pt_err
dict_cdict(struct pt_zcache *zc, struct zdict *d, ZSTD_CDict **cdp)
{
	ZSTD_CDict *cd;
	enum pt_err rc = PT_OK;

	if ((cd = atomic_load_explicit(&d->cdict, memory_order_acquire)) !=
	    NULL) {
		*cdp = cd;
		return PT_OK;
	}
	pthread_mutex_lock(&zc->cdict_mu);
	if ((cd = atomic_load_explicit(&d->cdict, memory_order_relaxed)) ==
	    NULL) {
		/* It loaded as a DDict: failing here is memory, or a dictionary
		 * whose tables cannot compress (a hostile one). */
		if ((cd = ZSTD_createCDict(d->bytes, d->len, zc->level)) ==
		    NULL)
			rc = PT_ECORRUPT;
		else
			atomic_store_explicit(&d->cdict, cd,
			    memory_order_release);
	}
	pthread_mutex_unlock(&zc->cdict_mu);
	*cdp = cd;
	return rc;
}

static void
zdict_free(struct zdict *d)
{
	if (d == NULL)
		return;
	ZSTD_freeCDict(atomic_load(&d->cdict));
	ZSTD_freeDDict(d->ddict);
	pt_free(d->bytes);
	pt_free(d);
}

enum pt_err
pt_zcache_new(int level, struct pt_zcache **zcp)
{
	struct pt_zcache *zc;

	*zcp = NULL;
	if (level == 0)
		level = PT_Z_LEVEL;
	if (level < ZSTD_minCLevel() || level > 19)
		return PT_EINVAL;
	if ((zc = pt_calloc(1, sizeof(*zc))) == NULL)
		return PT_ENOMEM;
	zc->level = level;
	if (pthread_rwlock_init(&zc->lock, NULL) != 0) {
		pt_free(zc);
		return PT_ENOMEM;
	}
	if (pthread_mutex_init(&zc->cdict_mu, NULL) != 0) {
		pthread_rwlock_destroy(&zc->lock);
		pt_free(zc);
		return PT_ENOMEM;
	}
	*zcp = zc;
	return PT_OK;
}

void
pt_zcache_free(struct pt_zcache *zc)
{
	size_t i;

	if (zc == NULL)
		return;
	for (i = 0; i < zc->n; i++)
		zdict_free(zc->dicts[i]);
	pt_free(zc->dicts);
	pthread_mutex_destroy(&zc->cdict_mu);
	pthread_rwlock_destroy(&zc->lock);
	pt_free(zc);
}

uint32_t
pt_zdict_id(const void *dict, size_t len)
{
	return len < 8 ? 0 : ZDICT_getDictID(dict, len);
}

enum pt_err
pt_zcache_add(struct pt_zcache *zc, const void *dict, size_t len,
    uint32_t *idp)
{
	struct zdict *d = NULL, *old, **v;
	enum pt_err rc;
	uint32_t id;
	size_t cap;

	if (idp != NULL)
		*idp = 0;
	if (len > PT_ZDICT_MAX_LEN)
		return PT_ETOOBIG;
	/* A dictionary of ours has a zstd header: raw content has no id. */
	if ((id = pt_zdict_id(dict, len)) == 0)
		return PT_ECORRUPT;
	if ((d = pt_calloc(1, sizeof(*d))) == NULL ||
	    (d->bytes = pt_malloc(len)) == NULL) {
		rc = PT_ENOMEM;
		goto out;
	}
	memcpy(d->bytes, dict, len);
	d->len = len;
	d->id = id;
	/* Digest it outside the lock: it also checks the entropy tables. */
	if ((d->ddict = ZSTD_createDDict(d->bytes, len)) == NULL) {
		rc = PT_ECORRUPT;
		goto out;
	}
	pthread_rwlock_wrlock(&zc->lock);
	if ((old = find_locked(zc, id)) != NULL) {
		rc = old->len == len && memcmp(old->bytes, dict, len) == 0 ?
		    PT_OK : PT_EEXIST;
	} else if (zc->n == zc->cap) {
		cap = zc->cap ? zc->cap * 2 : 8;
		if ((v = pt_realloc(zc->dicts, cap * sizeof(*v))) == NULL)
			rc = PT_ENOMEM;
		else {
			zc->dicts = v;
			zc->cap = cap;
			rc = PT_OK;
		}
	} else
		rc = PT_OK;
	if (rc == PT_OK && old == NULL) {
		zc->dicts[zc->n++] = d;
		d = NULL;
	}
	pthread_rwlock_unlock(&zc->lock);
	if (rc == PT_OK && idp != NULL)
		*idp = id;
out:
	zdict_free(d);
	return rc;
}

int
pt_zcache_has(struct pt_zcache *zc, uint32_t id)
{
	return find(zc, id) != NULL;
}

/* Append "src" as a raw record; room is reserved. */
static void
pack_raw(const void *src, size_t len, struct pt_buf *out)
{
	uint8_t *p = (uint8_t *)out->data + out->len;
	size_t h = header_put(p, PT_Z_RAW, len, 0);

	if (len > 0)
		memcpy(p + h, src, len);
	out->len += h + len;
	out->data[out->len] = '\0';
}

enum pt_err
pt_zpack_raw(const void *src, size_t len, struct pt_buf *out)
{
	if (len > PT_Z_MAX_LEN)
		return PT_ETOOBIG;
	if (pt_buf_reserve(out, 1 + uvar_len((uint32_t)len) + len) != PT_OK)
		return PT_ENOMEM;
	pack_raw(src, len, out);
	return PT_OK;
}

enum pt_err
pt_zpack(struct pt_zcache *zc, uint32_t dict_id, const void *src,
    size_t len, struct pt_buf *out)
{
	ZSTD_CDict *cdict = NULL;
	struct zdict *d = NULL;
	enum pt_zmethod m = dict_id ? PT_Z_DICT : PT_Z_ZSTD;
	ZSTD_CCtx *cc;
	enum pt_err rc;
	size_t hlen, bound, r;
	uint8_t *p;

	if (len > PT_Z_MAX_LEN)
		return PT_ETOOBIG;
	if (dict_id != 0) {
		if ((d = find(zc, dict_id)) == NULL)
			return PT_ENOTFOUND;
		if ((rc = dict_cdict(zc, d, &cdict)) != PT_OK)
			return rc;
	}
	hlen = 1 + uvar_len((uint32_t)len) + (d ? uvar_len(dict_id) : 0);
	if (len < FRAME_MIN) {
		if (pt_buf_reserve(out, hlen + len) != PT_OK)
			return PT_ENOMEM;
		pack_raw(src, len, out);
		return PT_OK;
	}
	bound = ZSTD_compressBound(len);
	if (pt_buf_reserve(out, hlen + bound) != PT_OK)
		return PT_ENOMEM;
	if ((cc = cctx_take()) == NULL)
		return PT_ENOMEM;
	p = (uint8_t *)out->data + out->len;
	if (ZSTD_isError(r = ZSTD_CCtx_refCDict(cc, cdict)) ||
	    (cdict == NULL && ZSTD_isError(r = ZSTD_CCtx_setParameter(cc,
	    ZSTD_c_compressionLevel, zc ? zc->level : PT_Z_LEVEL))) ||
	    ZSTD_isError(r = ZSTD_compress2(cc, p + hlen, bound, src, len))) {
		cctx_give(cc);
		return zerr(r, PT_EIO);
	}
	cctx_give(cc);
	if (r < sizeof(zmagic) || memcmp(p + hlen, zmagic, sizeof(zmagic)) != 0)
		return PT_EIO;
	r -= sizeof(zmagic);
	/* Raw when the frame is no smaller: reading that costs nothing. */
	if (hlen + r >= 1 + uvar_len((uint32_t)len) + len) {
		pack_raw(src, len, out);
		return PT_OK;
	}
	header_put(p, m, len, dict_id);
	memmove(p + hlen, p + hlen + sizeof(zmagic), r);
	out->len += hlen + r;
	out->data[out->len] = '\0';
	return PT_OK;
}

/* One record of a method other than PT_Z_CAT, described by "zi". */
static enum pt_err
unpack_one(struct pt_zcache *zc, const void *src, size_t len,
    const struct pt_zinfo *zi0, struct pt_buf *out)
{
	const struct pt_zinfo zi = *zi0;
	const uint8_t *payload;
	ZSTD_DDict *ddict = NULL;
	unsigned long long fcs;
	ZSTD_DCtx *dc;
	uint8_t *frame = NULL;
	enum pt_err rc;
	size_t plen, flen, r;

	payload = (const uint8_t *)src + zi.header_len;
	plen = len - zi.header_len;
	if (zi.method == PT_Z_RAW) {
		if (plen != zi.len)
			return PT_ECORRUPT;
		return pt_buf_add(out, payload, plen);
	}
	if (plen < FRAME_MIN - 1 || (payload[0] & FHD_MASK) != FHD_OURS)
		return PT_ECORRUPT;
	if (zi.method == PT_Z_DICT) {
		struct zdict *d = find(zc, zi.dict_id);

		if (d == NULL)
			return PT_ENOTFOUND;
		ddict = d->ddict;
	}
	/* The frame as zstd reads it: the magic put back in front. */
	flen = sizeof(zmagic) + plen;
	if ((frame = pt_malloc(flen)) == NULL)
		return PT_ENOMEM;
	memcpy(frame, zmagic, sizeof(zmagic));
	memcpy(frame + sizeof(zmagic), payload, plen);
	/* One frame, nothing after it, of the size the header says. */
	fcs = ZSTD_getFrameContentSize(frame, flen);
	if (fcs != zi.len || ZSTD_findFrameCompressedSize(frame, flen) != flen) {
		rc = PT_ECORRUPT;
		goto out;
	}
	if (pt_buf_reserve(out, zi.len) != PT_OK ||
	    (dc = thread_dctx()) == NULL) {
		rc = PT_ENOMEM;
		goto out;
	}
	/* Into exactly zi.len bytes: a frame cannot write more. */
	if (ddict != NULL)
		r = ZSTD_decompress_usingDDict(dc, out->data + out->len, zi.len,
		    frame, flen, ddict);
	else
		r = ZSTD_decompressDCtx(dc, out->data + out->len, zi.len, frame,
		    flen);
	if (ZSTD_isError(r) || r != zi.len) {
		rc = ZSTD_isError(r) ? zerr(r, PT_ECORRUPT) : PT_ECORRUPT;
		out->data[out->len] = '\0';
		goto out;
	}
	out->len += zi.len;
	out->data[out->len] = '\0';
	rc = PT_OK;
out:
	pt_free(frame);
	return rc;
}

/*
 * Walk the parts of the PT_Z_CAT record "src" (header "zi"): each one's
 * bytes and header in parts[] and infos[], their number in *n.  Checks
 * what can be checked without decoding: 2 to PT_Z_CAT_MAX parts, none of
 * them PT_Z_CAT, lengths that add up to the header's, nothing after.
 */
static enum pt_err
cat_parts(const void *src, size_t len, const struct pt_zinfo *zi,
    struct pt_zpart *parts, struct pt_zinfo *infos, size_t *n)
{
	const uint8_t *p = src;
	size_t off = zi->header_len, k, sum = 0, i = 0;
	uint32_t v;
	enum pt_err rc;

	while (off < len) {
		if (i == PT_Z_CAT_MAX ||
		    (k = uvar_get(p + off, len - off, &v)) == 0 ||
		    v > len - off - k)
			return PT_ECORRUPT;
		off += k;
		if ((rc = pt_zinfo(p + off, v, &infos[i])) != PT_OK)
			return rc == PT_ETOOBIG ? PT_ECORRUPT : rc;
		if (infos[i].method == PT_Z_CAT ||
		    infos[i].len > zi->len - sum)
			return PT_ECORRUPT;
		sum += infos[i].len;
		parts[i].p = p + off;
		parts[i].len = v;
		off += v;
		i++;
	}
	if (i < 2 || sum != zi->len)
		return PT_ECORRUPT;
	*n = i;
	return PT_OK;
}

enum pt_err
pt_zunpack(struct pt_zcache *zc, const void *src, size_t len,
    struct pt_buf *out)
{
	struct pt_zpart parts[PT_Z_CAT_MAX];
	struct pt_zinfo zi, infos[PT_Z_CAT_MAX];
	size_t n, i, start = out->len;
	enum pt_err rc;

	if ((rc = pt_zinfo(src, len, &zi)) != PT_OK)
		return rc;
	if (zi.method != PT_Z_CAT)
		return unpack_one(zc, src, len, &zi, out);
	if ((rc = cat_parts(src, len, &zi, parts, infos, &n)) != PT_OK)
		return rc;
	/*
	 * Each part reserves its own length once its frame says the same:
	 * the whole's is not asked for ahead, so a tiny hostile record
	 * cannot make us allocate PT_Z_MAX_LEN.
	 */
	for (i = 0; i < n; i++)
		if ((rc = unpack_one(zc, parts[i].p, parts[i].len, &infos[i],
		    out)) != PT_OK) {
			/* Nothing appended on error. */
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return rc;
		}
	return PT_OK;
}

enum pt_err
pt_zdicts(const void *src, size_t len, uint32_t *ids, size_t cap, size_t *n)
{
	struct pt_zpart parts[PT_Z_CAT_MAX];
	struct pt_zinfo zi, infos[PT_Z_CAT_MAX];
	size_t np, i, j, k = 0;
	enum pt_err rc;

	*n = 0;
	if ((rc = pt_zinfo(src, len, &zi)) != PT_OK)
		return rc;
	if (zi.method != PT_Z_CAT) {
		infos[0] = zi;
		np = 1;
	} else if ((rc = cat_parts(src, len, &zi, parts, infos, &np)) !=
	    PT_OK)
		return rc;
	for (i = 0; i < np; i++) {
		if (infos[i].dict_id == 0)
			continue;
		for (j = 0; j < k && ids[j] != infos[i].dict_id; j++)
			;
		if (j == k && k < cap)
			ids[k++] = infos[i].dict_id;
	}
	*n = k;
	return PT_OK;
}

enum pt_err
pt_zcat(const struct pt_zpart *parts, size_t n, struct pt_buf *out)
{
	struct pt_zinfo zi;
	size_t i, sum = 0, bytes = 0, start = out->len;
	uint8_t *p;
	enum pt_err rc;

	if (n == 0 || n > PT_Z_CAT_MAX)
		return PT_EINVAL;
	for (i = 0; i < n; i++) {
		if ((rc = pt_zinfo(parts[i].p, parts[i].len, &zi)) != PT_OK)
			return rc;
		if (zi.method == PT_Z_CAT)
			return PT_EINVAL;
		if (zi.len > PT_Z_MAX_LEN - sum)
			return PT_ETOOBIG;
		sum += zi.len;
		bytes += UVAR_MAX + parts[i].len;
	}
	if (n == 1)
		return pt_buf_add(out, parts[0].p, parts[0].len);
	if (pt_buf_reserve(out, 1 + UVAR_MAX + bytes) != PT_OK)
		return PT_ENOMEM;
	p = (uint8_t *)out->data + start;
	p += header_put(p, PT_Z_CAT, sum, 0);
	for (i = 0; i < n; i++) {
		p += uvar_put(p, (uint32_t)parts[i].len);
		memcpy(p, parts[i].p, parts[i].len);
		p += parts[i].len;
	}
	out->len = (size_t)((char *)p - out->data);
	out->data[out->len] = '\0';
	return PT_OK;
}

enum pt_err
pt_zdict_train(const void *samples, const size_t *sizes, size_t count,
    size_t cap, uint32_t id, int level, struct pt_buf *out)
{
	ZDICT_params_t params;
	uint8_t *tmp = NULL;
	enum pt_err rc;
	size_t r, hdr;

	if (count == 0 || count > UINT_MAX || id == 0 ||
	    cap < PT_ZDICT_MIN_LEN || cap > PT_ZDICT_MAX_LEN)
		return PT_EINVAL;
	if ((tmp = pt_malloc(cap)) == NULL)
		return PT_ENOMEM;
	r = ZDICT_trainFromBuffer(tmp, cap, samples, sizes, (unsigned)count);
	if (ZDICT_isError(r)) {
		rc = zerr(r, PT_EINVAL);
		goto out;
	}
	/*
	 * Training picks an id from a hash of the content; finalising its
	 * content again gives it ours, and entropy tables for our level.
	 */
	hdr = ZDICT_getDictHeaderSize(tmp, r);
	if (ZDICT_isError(hdr) || hdr >= r) {
		rc = PT_EIO;
		goto out;
	}
	if (pt_buf_reserve(out, cap) != PT_OK) {
		rc = PT_ENOMEM;
		goto out;
	}
	memset(&params, 0, sizeof(params));
	params.compressionLevel = level ? level : PT_Z_LEVEL;
	params.dictID = id;
	r = ZDICT_finalizeDictionary(out->data + out->len, cap, tmp + hdr,
	    r - hdr, samples, sizes, (unsigned)count, params);
	if (ZDICT_isError(r)) {
		rc = zerr(r, PT_EINVAL);
		goto out;
	}
	out->len += r;
	out->data[out->len] = '\0';
	rc = PT_OK;
out:
	pt_free(tmp);
	return rc;
}
