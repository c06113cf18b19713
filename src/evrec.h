/*
 * evrec.h - how an event's record is laid out in the store, and the
 * compression dictionaries its bytes are packed with.
 *
 * Two formats are read; only the second is written:
 *
 *	v1	PT_T_EVENTS: 4 bytes big-endian metadata length (its first
 *		byte is 0: metadata is far below 16 MiB), the metadata JSON,
 *		then the raw body.
 *	v2	PT_T_EVENTS: the byte 0x02, then the metadata JSON packed
 *		(compress.h); PT_T_BODIES: the body packed, under the same
 *		id.  The small record stays in its B-tree page; a walk of
 *		the log (queries, check) never reads a body it does not ask
 *		for.
 *
 * Records are packed with the store's current dictionary (none until one
 * is trained: plain zstd, or raw where that does not pay).  Dictionaries
 * live in PT_T_META under "zdict:" + a 4-byte big-endian id, and the
 * current one's id, time and the event count it was trained at under
 * "zdict:current".  A dictionary holds pieces of bodies: it goes with the
 * last record that may use it (pt_evrec_retire), and never leaves the
 * store (not in exports, logs or metrics).
 */
#ifndef PT_EVREC_H
#define PT_EVREC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ids.h"
#include "json.h"
#include "store.h"

#define PT_EVREC_V2		0x02

/*
 * Write a new record (PT_EEXIST when the id exists), or with "replace"
 * rewrite one's metadata keeping its body (a v1 record becomes v2).
 */
enum pt_err	pt_evrec_put(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const char *meta, size_t meta_len, const void *body,
		    size_t body_len);
/*
 * Pack bytes outside any transaction of the caller's (a request thread,
 * before its write) with the store's current dictionary: a body for
 * pt_evrec_put_packed.  The committer then only copies it.
 */
enum pt_err	pt_evrec_prepack(struct pt_store *, const void *body,
		    size_t len, struct pt_buf *out);
/* The same for an event's metadata (pt_evrec_put_packed). */
enum pt_err	pt_evrec_prepack_meta(struct pt_store *, const char *meta,
		    size_t len, struct pt_buf *out);
/*
 * pt_evrec_put with the body packed ahead, and the metadata too when
 * "packed_meta" is not NULL ("meta" is then not read).
 */
enum pt_err	pt_evrec_put_packed(struct pt_txn *,
		    const uint8_t id[PT_ID_BIN], const char *meta,
		    size_t meta_len, const void *packed_meta,
		    size_t packed_meta_len, const void *packed,
		    size_t packed_len);
enum pt_err	pt_evrec_replace_meta(struct pt_txn *,
		    const uint8_t id[PT_ID_BIN], const char *meta,
		    size_t meta_len);
/*
 * Append the record's metadata and/or body (either buffer may be NULL:
 * not read) to the buffers.  PT_ENOTFOUND when absent, PT_ECORRUPT when
 * it does not decode, or needs a dictionary the store no longer has.
 * pt_evrec_decode does the same for a value read by a cursor walk.
 */
enum pt_err	pt_evrec_get(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    struct pt_buf *meta, struct pt_buf *body);
enum pt_err	pt_evrec_decode(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const struct pt_val *v, struct pt_buf *meta,
		    struct pt_buf *body);
/* The format of a stored value: 1, 2, or 0 for neither. */
int		pt_evrec_version(const struct pt_val *v);
/* Delete the record and its body (PT_ENOTFOUND when absent). */
enum pt_err	pt_evrec_del(struct pt_txn *, const uint8_t id[PT_ID_BIN]);

/*
 * Other JSON records that grow with the log (action logs, workflow runs)
 * are packed the same way.  A stored value that starts with '{' is one
 * from before packing, read as it is; a packed one starts with its method
 * byte (compress.h), never '{'.  Records shorter than
 * PT_EVREC_PACK_MIN are kept plain: packing them saves little and costs
 * a zstd call on the write path.  A record of parts (PT_Z_CAT), which
 * builds of 2026-12-03 wrote for action logs, reads the same way.
 * pt_evrec_parse_json returns a new
 * reference to the object, or NULL (not JSON, not an object, or it does
 * not unpack).
 */
#define PT_EVREC_PACK_MIN	256
enum pt_err	pt_evrec_pack_json(struct pt_txn *, const char *text,
		    size_t len, struct pt_buf *out);
/* The same outside any transaction of the caller's, as pt_evrec_prepack. */
enum pt_err	pt_evrec_prepack_json(struct pt_store *, const char *text,
		    size_t len, struct pt_buf *out);
pt_json		*pt_evrec_parse_json(struct pt_txn *, const struct pt_val *v);

struct pt_evrec_dicts {
	uint32_t	current;	/* 0: none trained yet */
	int64_t		trained_at;	/* µs */
	uint64_t	trained_events;	/* the log's size then */
	unsigned	count;		/* dictionaries kept */
	uint64_t	bytes;		/* their size */
};
enum pt_err	pt_evrec_dicts(struct pt_txn *, struct pt_evrec_dicts *);

/*
 * Train a new current dictionary on the newest records if one is due
 * (none yet and PT_EVREC_TRAIN_MIN events logged; the last one trained
 * on a tenth of today's log; or a week old), claiming the work so that
 * one process of several does it.  Opens its own transactions and holds
 * none while it trains (0.1-0.4 s of CPU): call it outside a request's
 * path.  *trained (may be NULL) says whether it did.
 */
#define PT_EVREC_TRAIN_MIN	1000
enum pt_err	pt_evrec_maintain(struct pt_store *, int64_t now,
		    int *trained);
/* Train now, due or not (porterctl).  PT_EINVAL: too few records. */
enum pt_err	pt_evrec_train(struct pt_store *, int64_t now);
/*
 * Delete the dictionaries no record can use any more: those older than
 * the one current when the oldest record "oldest_us" was received (with
 * an hour to spare).  In the retention pass's transaction.
 */
enum pt_err	pt_evrec_retire(struct pt_txn *, int64_t oldest_us);

#endif
