/*
 * compress.h - record compression with zstd, the only window onto libzstd.
 *
 * pt_zpack() turns a record's bytes into a "packed record", a
 * self-describing byte string that pt_zunpack() turns back into exactly
 * those bytes:
 *
 *	byte 0	method (enum pt_zmethod)
 *	varint	the original length (LEB128, minimal, at most PT_Z_MAX_LEN)
 *	varint	the dictionary id (PT_Z_DICT only; never 0)
 *	rest	PT_Z_RAW: the bytes themselves;
 *		PT_Z_ZSTD, PT_Z_DICT: a zstd frame (RFC 8878) without its
 *		4-byte magic number, with the content size and a checksum,
 *		without a dictionary id (it is in the header above);
 *		PT_Z_CAT: 2 to PT_Z_CAT_MAX parts, each a varint length and
 *		a packed record of one of the other methods; the bytes are
 *		theirs end to end (the varint above is their sum)
 *
 * PT_Z_CAT let the large part of an action log be packed ahead, in a
 * request thread, and only the small rest by the single committer (builds
 * of 2026-12-03; the whole record is now packed ahead for its likely
 * outcome instead, which is smaller).  Such records are still read.
 *
 * A record for which compression does not pay (tiny, or incompressible)
 * is stored raw: it costs 2-5 bytes more than the bytes, and unlike a
 * frame carries no checksum (it is what a record was before compression).
 * A compressed record does: a flipped bit is PT_ECORRUPT (or, in the few
 * bits zstd's entropy coding ignores, changes nothing), never other bytes.  The length in the header is checked against the
 * frame's and bounds the only large allocation, so a hostile or corrupt
 * record cannot make us allocate more than PT_Z_MAX_LEN.
 *
 * Dictionaries: pt_zdict_train() makes one from sample records, with an
 * id chosen by the caller (e.g. a version number: small ids take one
 * byte per record).  A dictionary is self-describing (RFC 8878 section 5:
 * its id is in its header), so the caller stores only its bytes and hands
 * them to pt_zcache_add() after start-up or when pt_zunpack() says
 * PT_ENOTFOUND.  The module knows nothing of where they are kept.
 *
 * Threads: a struct pt_zcache is shared by every thread (its digested
 * dictionaries are read-only); compression contexts are shared through a
 * small pool, each used by one thread at a time; decompression contexts
 * are per thread, made on first use and freed when the thread exits (or
 * by pt_zthread_free()).
 */
#ifndef PT_COMPRESS_H
#define PT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum pt_zmethod {
	PT_Z_RAW = 0,		/* the bytes as they are */
	PT_Z_ZSTD = 1,		/* a zstd frame, no dictionary */
	PT_Z_DICT = 2,		/* a zstd frame made with a dictionary */
	PT_Z_CAT = 3,		/* packed parts end to end */
	PT_Z__MAX
};

/*
 * The largest record: the largest body (16 MiB, conf.h's PT_MAX_BODY_CAP)
 * with room to spare for the metadata that may be packed with it.
 */
#define PT_Z_MAX_LEN		((size_t)17 << 20)
/*
 * By measurement (bench/compress on bench/bodies, 2,000 bodies of 1.1 KB
 * on average): with a 64 KiB dictionary level 1 packs to 0.233 of the
 * bytes in 3.2 µs, level 3 to 0.219 in 3.8 µs; without one level 1 to
 * 0.516 in 7.5 µs, level 3 to 0.514 in 10.4 µs.  Records are packed on
 * the write path (the committer packs metadata and action logs): level 1.
 * Higher levels gain 2 % for four times the time; a 64 KiB dictionary is
 * 3 % better than 32 KiB, 110 KiB no better.
 */
#define PT_Z_LEVEL		1
/* Dictionary sizes: the one to train, and what pt_zcache_add() takes. */
#define PT_ZDICT_SIZE		((size_t)64 << 10)
#define PT_ZDICT_MIN_LEN	((size_t)1 << 10)
#define PT_ZDICT_MAX_LEN	((size_t)1 << 20)
/* A packed record is at most this much longer than the original. */
#define PT_Z_OVERHEAD		5
/* The most parts of a PT_Z_CAT record. */
#define PT_Z_CAT_MAX		4

/* What a packed record's header says (pt_zinfo). */
struct pt_zinfo {
	enum pt_zmethod	 method;
	size_t		 len;		/* the original length */
	uint32_t	 dict_id;	/* PT_Z_DICT: the dictionary; else 0
					   (PT_Z_CAT: see pt_zdicts) */
	size_t		 header_len;	/* bytes before the payload */
};

/* Dictionaries by id, digested for compression and decompression. */
struct pt_zcache;

/*
 * A new, empty cache that compresses at "level" (0: PT_Z_LEVEL; zstd's
 * negative fast levels down to ZSTD_minCLevel() and up to 19 are allowed).
 * PT_EINVAL for a level out of range.
 */
enum pt_err	pt_zcache_new(int level, struct pt_zcache **);
/* Free the cache; no other thread may be using it.  NULL is a no-op. */
void		pt_zcache_free(struct pt_zcache *);
/*
 * Add the dictionary "dict" ("len" bytes, copied) under the id in its
 * header, returned in *idp (may be NULL).  Adding the same bytes again is
 * PT_OK; other bytes under an id the cache has are PT_EEXIST.  Bytes that
 * are no zstd dictionary (or one that does not load) are PT_ECORRUPT,
 * more than PT_ZDICT_MAX_LEN PT_ETOOBIG.  Safe while other threads pack
 * and unpack.
 */
enum pt_err	pt_zcache_add(struct pt_zcache *, const void *dict, size_t len,
		    uint32_t *idp);
/* Does the cache hold dictionary "id"?  (NULL cache: no.) */
int		pt_zcache_has(struct pt_zcache *, uint32_t id);

/*
 * Append the packed form of "src" ("len" bytes) to "out": compressed with
 * the dictionary "dict_id" of "cache" (0: none, and "cache" may be NULL:
 * the level is then PT_Z_LEVEL), or raw when that is not smaller.  The
 * result is at most len + PT_Z_OVERHEAD bytes.
 * PT_ETOOBIG above PT_Z_MAX_LEN, PT_ENOTFOUND for a dictionary the cache
 * does not hold, PT_ENOMEM; on error nothing is appended.
 */
enum pt_err	pt_zpack(struct pt_zcache *, uint32_t dict_id, const void *src,
		    size_t len, struct pt_buf *out);
/*
 * Append "src" as a raw packed record (no compression: what pt_zpack
 * stores when compression does not pay).  PT_ETOOBIG, PT_ENOMEM.
 */
enum pt_err	pt_zpack_raw(const void *src, size_t len, struct pt_buf *out);
/*
 * Append the original bytes of the packed record "src" ("len" bytes) to
 * "out" (NUL-terminated as every pt_buf, the length is the header's).
 * PT_ECORRUPT for bytes that are no packed record or do not decode to
 * exactly what was packed, PT_ETOOBIG for a declared length above
 * PT_Z_MAX_LEN (before anything is allocated), PT_ENOTFOUND when the
 * record needs a dictionary "cache" (may be NULL) does not hold: add it
 * and call again.  On error nothing is appended.
 */
enum pt_err	pt_zunpack(struct pt_zcache *, const void *src, size_t len,
		    struct pt_buf *out);
/* Read a packed record's header only (PT_ECORRUPT, PT_ETOOBIG as above). */
enum pt_err	pt_zinfo(const void *src, size_t len, struct pt_zinfo *);
/*
 * The dictionaries the packed record needs, at most "cap" (PT_Z_CAT_MAX
 * is enough) in ids[], their number in *n: what to add when pt_zunpack
 * says PT_ENOTFOUND.  PT_ECORRUPT, PT_ETOOBIG as pt_zinfo.
 */
enum pt_err	pt_zdicts(const void *src, size_t len, uint32_t *ids,
		    size_t cap, size_t *n);

/* A packed record (of any method but PT_Z_CAT), as part of a PT_Z_CAT. */
struct pt_zpart {
	const void	*p;
	size_t		 len;
};
/*
 * Append the packed record whose bytes are those of parts[0..n-1] end to
 * end: the one part itself when n is 1, else a PT_Z_CAT record (n at most
 * PT_Z_CAT_MAX).  The parts are copied, not packed again.  PT_EINVAL for
 * no part or too many, or a part that is PT_Z_CAT; PT_ECORRUPT for a part
 * that is no packed record; PT_ETOOBIG when the sum passes PT_Z_MAX_LEN.
 */
enum pt_err	pt_zcat(const struct pt_zpart *parts, size_t n,
		    struct pt_buf *out);

/*
 * Train a dictionary of at most "cap" bytes (PT_ZDICT_MIN_LEN to
 * PT_ZDICT_MAX_LEN) with id "id" (not 0) for compression at "level" (0:
 * PT_Z_LEVEL) from "count" samples: "samples" holds them end to end,
 * sample i being sizes[i] bytes.  Appends the dictionary to "out".
 * PT_EINVAL for bad arguments or samples zstd cannot train on (too few,
 * too small, all alike: compress without a dictionary then).
 * NOTE: the dictionary holds pieces of the samples: keep it as safe as
 * the records, and retire it when they are gone.
 * NOTE: takes time (0.1-0.4 s of CPU for 2,000 samples of 1 KB) and
 * about 6 MB: not in a request's path.
 */
enum pt_err	pt_zdict_train(const void *samples, const size_t *sizes,
		    size_t count, size_t cap, uint32_t id, int level,
		    struct pt_buf *out);
/* The id in a dictionary's header, 0 if it is none. */
uint32_t	pt_zdict_id(const void *dict, size_t len);

/* Free the calling thread's contexts now (they are remade when needed). */
void		pt_zthread_free(void);

#endif
