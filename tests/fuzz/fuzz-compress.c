/*
 * fuzz-compress.c - packed records (pt_zunpack, pt_zinfo, pt_zdicts, records
 * of parts), dictionaries (pt_zcache_add) and the pack -> unpack round
 * trip, whole and in parts (pt_zcat).
 *
 * Input: byte 0 chooses what the rest is (its low two bits):
 *	0	a packed record, read without dictionaries
 *	1	a dictionary, then a packed record read with it
 *	2	bytes to pack without a dictionary, then unpack
 *	3	a dictionary, then bytes to pack with it, then unpack
 * where "a dictionary" is a 2-byte big-endian length and that many bytes
 * (a hostile one: pt_zcache_add must refuse it or load it safely).
 * Checks, besides the sanitizers:
 *	- a record that reads gives exactly the length its header says, and
 *	  what it gives packs and unpacks back to the same bytes;
 *	- nothing is appended to the output on an error;
 *	- every pack unpacks to the bytes packed, is at most PT_Z_OVERHEAD
 *	  longer, and its header says the method and the dictionary used.
 */
#include "config.h"

#include <string.h>

#include "compress.h"
#include "fuzz.h"

/* Its halves packed apart (raw, then with "id"), as parts: the same bytes. */
static void
cat_trip(struct pt_zcache *zc, uint32_t id, const uint8_t *src, size_t len)
{
	struct pt_buf a = { 0 }, b = { 0 }, cat = { 0 }, out = { 0 };
	struct pt_zpart parts[2];
	uint32_t ids[PT_Z_CAT_MAX];
	size_t half = len / 2, n;
	enum pt_err rc;

	if (pt_zpack_raw(src, half, &a) != PT_OK ||
	    pt_zpack(zc, id, src + half, len - half, &b) != PT_OK)
		goto out;
	parts[0].p = a.data, parts[0].len = a.len;
	parts[1].p = b.data, parts[1].len = b.len;
	FZ_ASSERT(pt_zcat(parts, 2, &cat) == PT_OK, "parts");
	FZ_ASSERT(pt_zdicts(cat.data, cat.len, ids, PT_Z_CAT_MAX, &n) ==
	    PT_OK && n <= 1 && (n == 0 || ids[0] == id), "parts' dictionaries");
	rc = pt_zunpack(zc, cat.data, cat.len, &out);
	FZ_ASSERT(rc == PT_OK, "unpack parts: %s", pt_strerror(rc));
	FZ_ASSERT(out.len == len && (len == 0 || memcmp(out.data, src, len) ==
	    0), "parts changed the bytes");
out:
	pt_buf_free(&a);
	pt_buf_free(&b);
	pt_buf_free(&cat);
	pt_buf_free(&out);
}

/* Pack "src" with "id" of "zc", unpack, compare. */
static void
round_trip(struct pt_zcache *zc, uint32_t id, const uint8_t *src, size_t len)
{
	struct pt_buf packed = { 0 }, out = { 0 };
	struct pt_zinfo zi;
	enum pt_err rc;

	rc = pt_zpack(zc, id, src, len, &packed);
	FZ_ASSERT(rc == PT_OK || (id != 0 && rc == PT_ECORRUPT),
	    "pack: %s", pt_strerror(rc));
	if (rc != PT_OK) {
		/* A dictionary that decodes but cannot compress. */
		FZ_ASSERT(packed.len == 0, "appended on error");
		pt_buf_free(&packed);
		return;
	}
	FZ_ASSERT(packed.len <= len + PT_Z_OVERHEAD, "%zu bytes packed into %zu",
	    len, packed.len);
	FZ_ASSERT(pt_zinfo(packed.data, packed.len, &zi) == PT_OK &&
	    zi.len == len && (zi.method == PT_Z_RAW ||
	    zi.method == (id ? PT_Z_DICT : PT_Z_ZSTD)) && zi.dict_id ==
	    (zi.method == PT_Z_DICT ? id : 0), "header of a packed record");
	rc = pt_zunpack(zc, packed.data, packed.len, &out);
	FZ_ASSERT(rc == PT_OK, "unpack what was packed: %s", pt_strerror(rc));
	FZ_ASSERT(out.len == len && (len == 0 || memcmp(out.data, src, len) ==
	    0), "round trip changed the bytes");
	pt_buf_free(&packed);
	pt_buf_free(&out);
	cat_trip(zc, id, src, len);
}

/* Read the record "src"; when it reads, round-trip what it gave. */
static void
read_record(struct pt_zcache *zc, const uint8_t *src, size_t len)
{
	struct pt_buf out = { 0 };
	struct pt_zinfo zi;
	enum pt_err rc, irc;

	irc = pt_zinfo(src, len, &zi);
	rc = pt_zunpack(zc, src, len, &out);
	if (irc != PT_OK)
		FZ_ASSERT(rc == irc, "unpack %s, header %s", pt_strerror(rc),
		    pt_strerror(irc));
	if (rc == PT_ENOTFOUND) {
		uint32_t ids[PT_Z_CAT_MAX];
		size_t n, i, missing = 0;

		FZ_ASSERT(pt_zdicts(src, len, ids, PT_Z_CAT_MAX, &n) == PT_OK,
		    "no dictionary, but its list does not read");
		for (i = 0; i < n; i++)
			missing += !pt_zcache_has(zc, ids[i]);
		FZ_ASSERT(missing > 0, "no dictionary, none missing");
	}
	if (rc != PT_OK) {
		FZ_ASSERT(rc == PT_ECORRUPT || rc == PT_ETOOBIG ||
		    rc == PT_ENOTFOUND, "unpack: %s", pt_strerror(rc));
		FZ_ASSERT(out.len == 0, "appended on error");
		pt_buf_free(&out);
		return;
	}
	FZ_ASSERT(out.len == zi.len, "read %zu bytes, header says %zu",
	    out.len, zi.len);
	round_trip(zc, zi.method == PT_Z_DICT ? zi.dict_id : 0,
	    (const uint8_t *)out.data, out.len);
	pt_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_zcache *zc = NULL;
	uint32_t id = 0;
	int op;

	if (size < 1)
		return 0;
	op = data[0] & 3;
	data++;
	size--;
	if (op & 1) {
		size_t dlen;

		if (size < 2)
			return 0;
		dlen = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (dlen > size)
			dlen = size;
		FZ_ASSERT(pt_zcache_new(0, &zc) == PT_OK, "no cache");
		if (pt_zcache_add(zc, data, dlen, &id) == PT_OK)
			FZ_ASSERT(id != 0 && pt_zcache_has(zc, id) &&
			    id == pt_zdict_id(data, dlen), "loaded, but id %u",
			    id);
		data += dlen;
		size -= dlen;
	}
	if (op < 2)
		read_record(zc, data, size);
	else
		round_trip(zc, id, data, size);
	pt_zcache_free(zc);
	return 0;
}
