/*
 * test-compress.c - record compression (compress.c).
 *
 * Round trips from empty to PT_Z_MAX_LEN, with and without a dictionary,
 * and what is stored raw; dictionaries (training, ids, the cache); every
 * way a packed record can be wrong (a hand-made table of headers, every
 * bit of a small record flipped, every truncation, lengths over the
 * limit, frames that say another size, frames not made by us); records
 * of parts (PT_Z_CAT) packed apart; threads
 * sharing a cache while dictionaries are added; allocation failures.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "alloc.h"
#include "buf.h"
#include "compress.h"
#include "conf.h"
#include "tap.h"

_Static_assert(PT_Z_MAX_LEN >= PT_MAX_BODY_CAP,
    "every body the ingest path takes can be packed");

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64*: reproducible bodies without libc's rand(). */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static const char *const words[] = {
	"account", "billing", "checkout", "customer", "deploy", "invoice",
	"order", "payment", "refund", "review", "session", "task", "update",
	"webhook", "worker", "export", "import", "latency", "release", "plan"
};
static const char *const names[] = {
	"Ada Lopez", "Chen Wang", "Farah Haddad", "Jonas Becker", "Mai Ito",
	"Omar Silva", "Priya Singh", "Rosa Costa", "Theo Novak", "Zoe Kim"
};

static void
add_id(struct pt_buf *b, uint64_t *s, const char *prefix, int n)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789";
	int i;

	pt_buf_adds(b, prefix);
	for (i = 0; i < n; i++)
		pt_buf_addc(b, b62[rnd(s) % 62]);
}

/*
 * A webhook-like JSON body (300 B to 2 KB) of its own ids, times, amounts
 * and text; "shape" 1 changes the key names (another sender).
 */
static void
make_body(struct pt_buf *b, uint64_t *s, int shape)
{
	int i, items = 1 + (int)(rnd(s) % 4);

	pt_buf_printf(b, "{\"%s\":\"", shape ? "EventId" : "id");
	add_id(b, s, "evt_", 24);
	pt_buf_printf(b, "\",\"%s\":\"%s.%s\",\"created\":%llu,\"data\":{",
	    shape ? "Kind" : "type", words[rnd(s) % nitems(words)],
	    words[rnd(s) % nitems(words)],
	    1735689600ULL + rnd(s) % 10000000);
	pt_buf_printf(b, "\"customer\":{\"id\":\"");
	add_id(b, s, "cus_", 14);
	pt_buf_printf(b, "\",\"name\":\"%s\",\"email\":\"user%llu@example.com\"},",
	    names[rnd(s) % nitems(names)],
	    (unsigned long long)(rnd(s) % 100000));
	pt_buf_printf(b, "\"%s\":[", shape ? "Lines" : "items");
	for (i = 0; i < items; i++) {
		pt_buf_printf(b, "%s{\"sku\":\"SKU-%05llu\",\"amount\":%llu,"
		    "\"currency\":\"%s\",\"description\":\"%s %s %s\"}",
		    i ? "," : "", (unsigned long long)(rnd(s) % 100000),
		    (unsigned long long)(rnd(s) % 250000),
		    rnd(s) % 2 ? "usd" : "eur",
		    words[rnd(s) % nitems(words)],
		    words[rnd(s) % nitems(words)],
		    words[rnd(s) % nitems(words)]);
	}
	pt_buf_printf(b, "],\"url\":\"https://api.example.com/v1/%s/",
	    words[rnd(s) % nitems(words)]);
	add_id(b, s, "", 16);
	pt_buf_adds(b, "\"}}");
}

/* A dictionary trained on "n" bodies of "shape" from "seed", id "id". */
static void
train(struct pt_buf *dict, uint64_t seed, int shape, uint32_t id, size_t n)
{
	struct pt_buf all = { 0 };
	size_t *sizes = calloc(n, sizeof(*sizes)), i, before;

	if (sizes == NULL)
		abort();
	for (i = 0; i < n; i++) {
		before = all.len;
		make_body(&all, &seed, shape);
		sizes[i] = all.len - before;
	}
	if (pt_zdict_train(all.data, sizes, n, 8192, id, 0, dict) != PT_OK)
		abort();
	pt_buf_free(&all);
	free(sizes);
}

enum input { IN_EMPTY, IN_ZEROS, IN_BYTE, IN_JSON, IN_BODY, IN_BIG_JSON, IN_RANDOM };

/* "len" bytes of input "what" in "b" (reset first). */
static void
make_input(struct pt_buf *b, enum input what, size_t len, uint64_t seed)
{
	size_t i;

	pt_buf_reset(b);
	switch (what) {
	case IN_EMPTY:
		break;
	case IN_ZEROS:
		pt_buf_reserve(b, len);
		memset(b->data, 0, len + 1);
		b->len = len;
		break;
	case IN_BYTE:
		pt_buf_addc(b, '{');
		break;
	case IN_JSON:
		pt_buf_adds(b, "{\"event_type\":\"task.assigned\",\"event_id\":"
		    "\"evt_8c1f2a\",\"occurred_at\":\"2026-11-23T10:15:00Z\","
		    "\"data\":{\"task_id\":\"task_123\",\"title\":\"Review the "
		    "Q4 roadmap\",\"assigned_to\":\"user_456\",\"assigned_by\":"
		    "\"user_789\"}}");
		break;
	case IN_BODY:
		make_body(b, &seed, 0);
		break;
	case IN_BIG_JSON:
		/* Bodies end to end, cut to "len": a large JSON-ish log. */
		pt_buf_reserve(b, len + 4096);
		while (b->len < len)
			make_body(b, &seed, 0);
		b->len = len;
		b->data[len] = '\0';
		break;
	case IN_RANDOM:
		pt_buf_reserve(b, len);
		for (i = 0; i < len; i += 8) {
			uint64_t r = rnd(&seed);

			memcpy(b->data + i, &r, len - i < 8 ? len - i : 8);
		}
		b->len = len;
		b->data[len] = '\0';
		break;
	}
	if (b->data == NULL)
		pt_buf_reserve(b, 0);
}

#define DICT_ID		7
#define OTHER_ID	8

static const struct {
	const char	*name;
	enum input	 in;
	size_t		 len;		/* IN_ZEROS, IN_BIG_JSON, IN_RANDOM */
	uint32_t	 dict;		/* 0: none */
	enum pt_zmethod	 want;
} trips[] = {
	{ "empty", IN_EMPTY, 0, 0, PT_Z_RAW },
	{ "empty, dictionary", IN_EMPTY, 0, DICT_ID, PT_Z_RAW },
	{ "1 byte", IN_BYTE, 1, 0, PT_Z_RAW },
	{ "1 byte, dictionary", IN_BYTE, 1, DICT_ID, PT_Z_RAW },
	{ "9 zero bytes: shorter than any frame", IN_ZEROS, 9, 0, PT_Z_RAW },
	{ "10 zero bytes", IN_ZEROS, 10, 0, PT_Z_RAW },
	{ "100 zero bytes", IN_ZEROS, 100, 0, PT_Z_ZSTD },
	{ "small JSON", IN_JSON, 0, 0, PT_Z_ZSTD },
	{ "small JSON, dictionary", IN_JSON, 0, DICT_ID, PT_Z_DICT },
	{ "a body", IN_BODY, 0, 0, PT_Z_ZSTD },
	{ "a body, dictionary", IN_BODY, 0, DICT_ID, PT_Z_DICT },
	{ "1 MiB of JSON", IN_BIG_JSON, 1 << 20, 0, PT_Z_ZSTD },
	{ "16 MiB of JSON", IN_BIG_JSON, 16 << 20, 0, PT_Z_ZSTD },
	{ "16 MiB of JSON, dictionary", IN_BIG_JSON, 16 << 20, DICT_ID,
	    PT_Z_DICT },
	{ "PT_Z_MAX_LEN of JSON", IN_BIG_JSON, PT_Z_MAX_LEN, 0, PT_Z_ZSTD },
	{ "64 random bytes", IN_RANDOM, 64, 0, PT_Z_RAW },
	{ "1 MiB of random bytes", IN_RANDOM, 1 << 20, 0, PT_Z_RAW },
	{ "1 MiB of random bytes, dictionary", IN_RANDOM, 1 << 20, DICT_ID,
	    PT_Z_RAW },
	{ "16 MiB of random bytes", IN_RANDOM, 16 << 20, 0, PT_Z_RAW },
};

static struct pt_zcache	*cache;		/* holds DICT_ID */
static struct pt_buf	 dict, dict_other, dict_same_id;

static void
test_round_trips(void)
{
	struct pt_buf in = { 0 }, packed = { 0 }, out = { 0 };
	struct pt_zinfo zi;
	size_t i, plen;
	enum pt_err rc;

	for (i = 0; i < nitems(trips); i++) {
		size_t len = trips[i].len;

		make_input(&in, trips[i].in, len, 1000 + i);
		/* Packing appends: what was in "packed" stays. */
		pt_buf_reset(&packed);
		pt_buf_adds(&packed, "head");
		rc = pt_zpack(cache, trips[i].dict, in.data, in.len, &packed);
		is_int(rc, PT_OK, "%s: packs", trips[i].name);
		ok(memcmp(packed.data, "head", 4) == 0, "%s: appended",
		    trips[i].name);
		plen = packed.len - 4;
		is_int(pt_zinfo(packed.data + 4, plen, &zi), PT_OK,
		    "%s: header reads", trips[i].name);
		is_int(zi.method, trips[i].want, "%s: method", trips[i].name);
		is_int(zi.len, in.len, "%s: header length", trips[i].name);
		is_int(zi.dict_id, zi.method == PT_Z_DICT ? trips[i].dict : 0,
		    "%s: dictionary id", trips[i].name);
		ok(plen <= in.len + PT_Z_OVERHEAD, "%s: %zu bytes packed into "
		    "%zu (at most %d more)", trips[i].name, in.len, plen,
		    PT_Z_OVERHEAD);
		pt_buf_reset(&out);
		pt_buf_adds(&out, "x");
		rc = pt_zunpack(cache, packed.data + 4, plen, &out);
		is_int(rc, PT_OK, "%s: unpacks", trips[i].name);
		ok(out.len == in.len + 1 && out.data[0] == 'x' &&
		    memcmp(out.data + 1, in.data, in.len) == 0 &&
		    out.data[out.len] == '\0', "%s: the same bytes back",
		    trips[i].name);
	}
	/* What the dictionary is for: a body shrinks several-fold more. */
	make_input(&in, IN_BODY, 0, 77);
	pt_buf_reset(&packed);
	pt_zpack(NULL, 0, in.data, in.len, &packed);
	plen = packed.len;
	pt_buf_reset(&packed);
	pt_zpack(cache, DICT_ID, in.data, in.len, &packed);
	ok(packed.len * 2 < plen, "a %zu-byte body: %zu bytes without the "
	    "dictionary, %zu with it", in.len, plen, packed.len);

	/* Over the limit: refused, nothing appended. */
	pt_buf_reset(&packed);
	rc = pt_zpack(cache, 0, in.data, PT_Z_MAX_LEN + 1, &packed);
	is_int(rc, PT_ETOOBIG, "PT_Z_MAX_LEN + 1 bytes: refused");
	is_int(packed.len, 0, "PT_Z_MAX_LEN + 1 bytes: nothing appended");
	pt_buf_free(&in);
	pt_buf_free(&packed);
	pt_buf_free(&out);
}

static void
test_dictionaries(void)
{
	struct pt_zcache *zc = NULL, *other = NULL;
	struct pt_buf in = { 0 }, packed = { 0 }, out = { 0 }, tmp = { 0 };
	size_t sizes[3] = { 100, 100, 100 };
	uint32_t id;

	is_int(pt_zdict_id(dict.data, dict.len), DICT_ID,
	    "a trained dictionary carries the id asked for");
	ok(dict.len <= 8192 && dict.len > 1024, "dictionary of %zu bytes",
	    dict.len);
	is_int(pt_zdict_id("{}", 2), 0, "JSON is no dictionary");

	is_int(pt_zcache_new(0, &zc), PT_OK, "a cache at the default level");
	is_int(pt_zcache_has(zc, DICT_ID), 0, "a new cache is empty");
	is_int(pt_zcache_add(zc, dict.data, dict.len, &id), PT_OK,
	    "add a dictionary");
	is_int(id, DICT_ID, "its id");
	is_int(pt_zcache_has(zc, DICT_ID), 1, "the cache has it");
	is_int(pt_zcache_add(zc, dict.data, dict.len, NULL), PT_OK,
	    "adding it again is a no-op");
	is_int(pt_zcache_add(zc, dict_same_id.data, dict_same_id.len, &id),
	    PT_EEXIST, "other bytes under the same id are refused");
	is_int(id, 0, "no id for a refused dictionary");
	is_int(pt_zcache_add(zc, "{\"not\":\"a dictionary\"}", 22, NULL),
	    PT_ECORRUPT, "JSON as a dictionary is refused");
	is_int(pt_zcache_add(zc, dict.data, 64, NULL), PT_ECORRUPT,
	    "a dictionary cut in its tables is refused");
	pt_buf_reserve(&tmp, PT_ZDICT_MAX_LEN + 1);
	memcpy(tmp.data, dict.data, dict.len);
	memset(tmp.data + dict.len, 'x', PT_ZDICT_MAX_LEN + 1 - dict.len);
	is_int(pt_zcache_add(zc, tmp.data, PT_ZDICT_MAX_LEN + 1, NULL),
	    PT_ETOOBIG, "a dictionary over PT_ZDICT_MAX_LEN is refused");

	is_int(pt_zcache_new(20, &other), PT_EINVAL, "level 20 is refused");
	ok(other == NULL, "no cache for a bad level");
	is_int(pt_zcache_new(-1000000, &other), PT_EINVAL,
	    "level -1000000 is refused");

	/* Training refuses what it cannot use. */
	pt_buf_reset(&tmp);
	is_int(pt_zdict_train("aaaa", sizes, 0, 8192, 1, 0, &tmp), PT_EINVAL,
	    "training on no samples");
	is_int(pt_zdict_train("aaaa", sizes, 1, 8192, 0, 0, &tmp), PT_EINVAL,
	    "training for id 0");
	is_int(pt_zdict_train("aaaa", sizes, 1, 100, 1, 0, &tmp), PT_EINVAL,
	    "training a dictionary under PT_ZDICT_MIN_LEN");
	{
		char three[300];

		memset(three, 'a', sizeof(three));
		is_int(pt_zdict_train(three, sizes, 3, 8192, 1, 0, &tmp),
		    PT_EINVAL, "training on three samples");
	}
	is_int(tmp.len, 0, "failed training appends nothing");

	/* A record made with dictionary DICT_ID... */
	make_input(&in, IN_BODY, 0, 5);
	pt_zpack(cache, DICT_ID, in.data, in.len, &packed);
	/* ...needs it: PT_ENOTFOUND until it is added, then it reads. */
	other = NULL;
	pt_zcache_new(0, &other);
	is_int(pt_zunpack(other, packed.data, packed.len, &out), PT_ENOTFOUND,
	    "missing dictionary: not found");
	is_int(pt_zunpack(NULL, packed.data, packed.len, &out), PT_ENOTFOUND,
	    "no cache: not found");
	is_int(out.len, 0, "nothing appended");
	is_int(pt_zpack(other, DICT_ID, in.data, in.len, &out), PT_ENOTFOUND,
	    "packing with a dictionary the cache lacks: not found");
	is_int(pt_zpack(NULL, DICT_ID, in.data, in.len, &out), PT_ENOTFOUND,
	    "packing with a dictionary and no cache: not found");
	pt_zcache_add(other, dict.data, dict.len, NULL);
	is_int(pt_zunpack(other, packed.data, packed.len, &out), PT_OK,
	    "after adding it, the record reads");
	ok(out.len == in.len && memcmp(out.data, in.data, in.len) == 0,
	    "the same bytes back");
	pt_zcache_free(other);

	/* The wrong dictionary under the right id: corrupt, not garbage. */
	pt_zcache_new(0, &other);
	is_int(pt_zcache_add(other, dict_same_id.data, dict_same_id.len, &id),
	    PT_OK, "another dictionary with id %u", DICT_ID);
	pt_buf_reset(&out);
	is_int(pt_zunpack(other, packed.data, packed.len, &out), PT_ECORRUPT,
	    "the wrong dictionary: corrupt");
	is_int(out.len, 0, "nothing appended");
	/* A record relabelled with another dictionary's id: the same. */
	pt_zcache_add(other, dict_other.data, dict_other.len, NULL);
	pt_zcache_add(cache, dict_other.data, dict_other.len, NULL);
	{
		struct pt_zinfo zi;

		pt_zinfo(packed.data, packed.len, &zi);
		ok(zi.header_len >= 3 && (uint8_t)packed.data[zi.header_len - 1]
		    == DICT_ID, "the id is the header's last byte");
		packed.data[zi.header_len - 1] = OTHER_ID;
		is_int(pt_zunpack(cache, packed.data, packed.len, &out),
		    PT_ECORRUPT, "a record relabelled with another dictionary");
		/* Made without one, read with one: the same. */
		pt_buf_reset(&tmp);
		pt_zpack(NULL, 0, in.data, in.len, &tmp);
		pt_buf_reset(&packed);
		pt_buf_addc(&packed, PT_Z_DICT);
		pt_buf_add(&packed, tmp.data + 1, 2);	/* 2-byte length */
		pt_buf_addc(&packed, DICT_ID);
		pt_buf_add(&packed, tmp.data + 3, tmp.len - 3);
		/* A frame that uses no dictionary reads the same with one. */
		pt_buf_reset(&out);
		ok(pt_zunpack(cache, packed.data, packed.len, &out) == PT_OK &&
		    out.len == in.len && memcmp(out.data, in.data, in.len) == 0,
		    "a frame made without a dictionary, read with one: the "
		    "same bytes");
	}
	pt_zcache_free(other);
	pt_zcache_free(zc);
	pt_buf_free(&in);
	pt_buf_free(&packed);
	pt_buf_free(&out);
	pt_buf_free(&tmp);
}

static void
hex_to_buf(struct pt_buf *b, const char *hex)
{
	unsigned v;

	pt_buf_reset(b);
	for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
		if (*hex == ' ') {
			hex--;
			continue;
		}
		sscanf(hex, "%2x", &v);
		pt_buf_addc(b, (char)v);
	}
	if (b->data == NULL)
		pt_buf_reserve(b, 0);
}

/* Hand-made packed records that must not read. */
static const struct {
	const char	*name;
	const char	*hex;
	enum pt_err	 want;
} bad[] = {
	{ "empty", "", PT_ECORRUPT },
	{ "a method alone", "00", PT_ECORRUPT },
	{ "an unknown method", "04 00", PT_ECORRUPT },
	/* PT_Z_CAT: parts of "{" (00 01 7b) and "}" (00 01 7d). */
	{ "parts: none", "03 00", PT_ECORRUPT },
	{ "parts: one", "03 01 03 00017b", PT_ECORRUPT },
	{ "parts: their sum short of the length", "03 03 03 00017b 03 00017d",
	    PT_ECORRUPT },
	{ "parts: their sum past the length", "03 01 03 00017b 03 00017d",
	    PT_ECORRUPT },
	{ "parts: a length short of the part", "03 02 03 00017b 02 00017d",
	    PT_ECORRUPT },
	{ "parts: a length past the end", "03 02 03 00017b 09 00017d",
	    PT_ECORRUPT },
	{ "parts: a part of no bytes", "03 01 00 03 00017b", PT_ECORRUPT },
	{ "parts: a part that is parts", "03 03 03 00017b 0a 03 02 03 00017b "
	    "03 00017d", PT_ECORRUPT },
	{ "parts: five", "03 05 03 000161 03 000161 03 000161 03 000161 "
	    "03 000161", PT_ECORRUPT },
	{ "parts: trailing byte", "03 02 03 00017b 03 00017d 00", PT_ECORRUPT },
	{ "parts: a part's bad frame", "03 04 03 00017b 06 01 02 2402 1100 "
	    "03 00017d", PT_ECORRUPT },
	{ "parts: a part of PT_Z_MAX_LEN + 1", "03 02 03 00017b 05 01 8180c008 "
	    "24", PT_ECORRUPT },
	{ "parts: PT_Z_MAX_LEN + 1 in all", "03 8180c008 03 00017b 03 00017d",
	    PT_ETOOBIG },
	{ "method 255", "ff 00", PT_ECORRUPT },
	{ "raw, shorter than its length", "00 03 6162", PT_ECORRUPT },
	{ "raw, longer than its length", "00 01 6162", PT_ECORRUPT },
	{ "a length that does not end", "00 80", PT_ECORRUPT },
	{ "a length not in its shortest form", "00 8100 61", PT_ECORRUPT },
	{ "a length of 6 bytes", "00 8080808080 00", PT_ECORRUPT },
	{ "a length past 32 bits", "00 ffffffff7f", PT_ECORRUPT },
	{ "PT_Z_MAX_LEN + 1", "01 8180c008 24", PT_ETOOBIG },
	{ "PT_Z_MAX_LEN + 1, raw", "00 8180c008 61", PT_ETOOBIG },
	{ "4 GiB - 1", "01 ffffffff0f", PT_ETOOBIG },
	{ "dictionary id 0", "02 05 00 24", PT_ECORRUPT },
	{ "dictionary id missing", "02 05", PT_ECORRUPT },
	{ "a dictionary id not in its shortest form", "02 05 8700 24",
	    PT_ECORRUPT },
	{ "no frame", "01 05", PT_ECORRUPT },
	{ "a frame of one byte", "01 05 24", PT_ECORRUPT },
	/*
	 * "{}" as a frame of ours (RFC 8878): header descriptor 24 (single
	 * segment, checksum), content size 02, a raw last block of 2 bytes
	 * (110000), the bytes, the low 32 bits of their XXH64.
	 */
	{ "a frame cut short", "01 02 2402 110000 7b7d d194f2", PT_ECORRUPT },
	{ "a frame that says another size", "01 03 2402 110000 7b7d d194f27a",
	    PT_ECORRUPT },
	{ "the unused header bit set", "01 02 3402 110000 7b7d d194f27a",
	    PT_ECORRUPT },
	{ "a frame without checksum (zstd reads it)",
	    "01 0a 200a 510000 30313233343536373839", PT_ECORRUPT },
	{ "a frame with a dictionary id", "01 02 2507 02 110000 7b7d d194f27a",
	    PT_ECORRUPT },
	{ "the right checksum, another byte", "01 02 2402 110000 7b7e d194f27a",
	    PT_ECORRUPT },
	{ "trailing bytes after the frame",
	    "01 02 2402 110000 7b7d d194f27a 00", PT_ECORRUPT },
	{ "the frame's magic left in", "01 02 28b52ffd 2402 110000 7b7d d194f27a",
	    PT_ECORRUPT },
};

static void
test_bad_headers(void)
{
	struct pt_buf b = { 0 }, out = { 0 };
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		hex_to_buf(&b, bad[i].hex);
		pt_buf_reset(&out);
		is_int(pt_zunpack(cache, b.data, b.len, &out), bad[i].want,
		    "%s: refused", bad[i].name);
		is_int(out.len, 0, "%s: nothing appended", bad[i].name);
	}
	/* The table's frame itself reads, so its variants test one thing. */
	hex_to_buf(&b, "01 02 2402 110000 7b7d d194f27a");
	pt_buf_reset(&out);
	ok(pt_zunpack(NULL, b.data, b.len, &out) == PT_OK && out.len == 2 &&
	    memcmp(out.data, "{}", 2) == 0, "the table's good frame reads "
	    "\"{}\"");
	/* An over-long length is refused before anything is allocated. */
	hex_to_buf(&b, "01 8180c008 24");
	pt_alloc_fail_after(0);
	is_int(pt_zunpack(cache, b.data, b.len, &out), PT_ETOOBIG,
	    "PT_Z_MAX_LEN + 1 is refused with no allocation");
	pt_alloc_fail_after(-1);
	pt_buf_free(&b);
	pt_buf_free(&out);
}

/*
 * Frames zstd makes for us with the library itself: they read when they
 * are the format (content size, checksum, no dictionary id), and a frame
 * whose size is not the header's never gets the memory it asks for.
 */
static void
test_foreign_frames(void)
{
	struct pt_buf b = { 0 }, out = { 0 }, in = { 0 };
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t n, cap;
	char *frame;

	make_input(&in, IN_BODY, 0, 99);
	cap = ZSTD_compressBound(in.len);
	frame = malloc(cap);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	n = ZSTD_compress2(cc, frame, cap, in.data, in.len);
	ok(!ZSTD_isError(n), "zstd makes a frame");
	pt_buf_addc(&b, PT_Z_ZSTD);
	pt_buf_addc(&b, (char)(0x80 | (in.len & 0x7f)));
	pt_buf_addc(&b, (char)(in.len >> 7));
	pt_buf_add(&b, frame + 4, n - 4);
	is_int(pt_zunpack(NULL, b.data, b.len, &out), PT_OK,
	    "a frame of zstd's own, without its magic, reads");
	ok(out.len == in.len && memcmp(out.data, in.data, in.len) == 0,
	    "the same bytes");
	free(frame);

	/* 16 MiB of zeros: a frame of a few hundred bytes. */
	pt_buf_reset(&in);
	pt_buf_reserve(&in, 16 << 20);
	memset(in.data, 0, 16 << 20);
	cap = ZSTD_compressBound(16 << 20);
	frame = malloc(cap);
	n = ZSTD_compress2(cc, frame, cap, in.data, 16 << 20);
	ok(!ZSTD_isError(n) && n < 4096, "16 MiB of zeros in %zu bytes", n);
	pt_buf_reset(&b);
	pt_buf_add(&b, "\x01\x64", 2);		/* says 100 bytes */
	pt_buf_add(&b, frame + 4, n - 4);
	pt_buf_reset(&out);
	/* One allocation (the frame's copy) and then none: no 16 MiB. */
	pt_alloc_fail_nth(1);
	is_int(pt_zunpack(NULL, b.data, b.len, &out), PT_ECORRUPT,
	    "a frame of 16 MiB in a record of 100 bytes: corrupt, and no "
	    "16 MiB asked for");
	pt_alloc_fail_nth(-1);
	is_int(out.len, 0, "nothing appended");
	free(frame);
	/* And the other way round: the header's length is not reserved
	 * for a frame that says it is smaller. */
	hex_to_buf(&b, "01 8080c008 2402 110000 7b7d d194f27a");
	pt_buf_reset(&out);
	pt_alloc_fail_nth(1);
	is_int(pt_zunpack(NULL, b.data, b.len, &out), PT_ECORRUPT,
	    "a frame of 2 bytes in a record of PT_Z_MAX_LEN: corrupt, and "
	    "no PT_Z_MAX_LEN asked for");
	pt_alloc_fail_nth(-1);
	ZSTD_freeCCtx(cc);
	pt_buf_free(&b);
	pt_buf_free(&out);
	pt_buf_free(&in);
}

/*
 * Every bit of a small packed record flipped in turn, and every cut: an
 * error, or (where zstd's entropy coding has bits that change nothing,
 * e.g. a bit stream's padding) the very same bytes; never other bytes.
 */
static void
flip_all(const char *what, const struct pt_buf *packed, size_t from,
    size_t to, const struct pt_buf *orig)
{
	struct pt_buf b = { 0 }, out = { 0 };
	size_t i, same = 0, other = 0, appended = 0, tried = 0, read;
	int bit;

	for (i = from; i < to; i++)
		for (bit = 0; bit < 8; bit++) {
			pt_buf_reset(&b);
			pt_buf_add(&b, packed->data, packed->len);
			b.data[i] ^= (char)(1 << bit);
			pt_buf_reset(&out);
			tried++;
			if (pt_zunpack(cache, b.data, b.len, &out) != PT_OK) {
				if (out.len != 0)
					appended++;
			} else if (out.len == orig->len &&
			    memcmp(out.data, orig->data, out.len) == 0)
				same++;
			else
				other++;
		}
	is_int(other, 0, "%s: %zu bit flips, none gives other bytes", what,
	    tried);
	ok(same * 50 <= tried, "%s: %zu of them an error, %zu the same bytes",
	    what, tried - same, same);
	is_int(appended, 0, "%s: nothing appended on error", what);
	for (read = i = 0; i < packed->len; i++) {
		pt_buf_reset(&out);
		if (pt_zunpack(cache, packed->data, i, &out) == PT_OK)
			read++;
	}
	is_int(read, 0, "%s: every one of %zu cuts an error", what,
	    packed->len);
	pt_buf_reset(&b);
	pt_buf_add(&b, packed->data, packed->len);
	pt_buf_addc(&b, 0);
	pt_buf_reset(&out);
	ok(pt_zunpack(cache, b.data, b.len, &out) != PT_OK,
	    "%s: a byte more is an error", what);
	pt_buf_free(&b);
	pt_buf_free(&out);
}

static void
test_corruption(void)
{
	struct pt_buf in = { 0 }, packed = { 0 };
	struct pt_zinfo zi;

	make_input(&in, IN_JSON, 0, 0);
	pt_zpack(NULL, 0, in.data, in.len, &packed);
	flip_all("small JSON, no dictionary", &packed, 0, packed.len, &in);
	pt_buf_reset(&packed);
	pt_zpack(cache, DICT_ID, in.data, in.len, &packed);
	flip_all("small JSON, dictionary", &packed, 0, packed.len, &in);
	make_input(&in, IN_BODY, 0, 3);
	pt_buf_reset(&packed);
	pt_zpack(cache, DICT_ID, in.data, in.len, &packed);
	flip_all("a body, dictionary", &packed, 0, packed.len, &in);
	/* Raw records have no checksum: only their header is checked. */
	make_input(&in, IN_RANDOM, 200, 3);
	pt_buf_reset(&packed);
	pt_zpack(cache, DICT_ID, in.data, in.len, &packed);
	pt_zinfo(packed.data, packed.len, &zi);
	is_int(zi.method, PT_Z_RAW, "200 random bytes are stored raw");
	flip_all("raw, its header", &packed, 0, zi.header_len, &in);
	pt_buf_free(&in);
	pt_buf_free(&packed);
}

/* Threads sharing "cache" while another thread adds dictionaries. */
#define THREADS		8
#define ROUNDS		300

static struct pt_buf	late[3];	/* added while the threads run */

struct worker {
	pthread_t	th;
	uint64_t	seed;
	long		failures, done;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct pt_buf in = { 0 }, packed = { 0 }, out = { 0 };
	uint32_t ids[] = { 0, DICT_ID, 101, 102, 103 };
	int r;

	for (r = 0; r < ROUNDS; r++) {
		uint32_t id = ids[r % nitems(ids)];
		enum pt_err rc;

		make_input(&in, IN_BODY, 0, w->seed + (uint64_t)r);
		pt_buf_reset(&packed);
		rc = pt_zpack(cache, id, in.data, in.len, &packed);
		if (rc == PT_ENOTFOUND && id > 100)
			continue;	/* not added yet */
		pt_buf_reset(&out);
		if (rc != PT_OK ||
		    pt_zunpack(cache, packed.data, packed.len, &out) != PT_OK ||
		    out.len != in.len || memcmp(out.data, in.data, in.len) != 0)
			w->failures++;
		else
			w->done++;
	}
	pt_buf_free(&in);
	pt_buf_free(&packed);
	pt_buf_free(&out);
	/* Half the threads leave their contexts to the key's destructor. */
	if (w->seed % 20000 == 0)
		pt_zthread_free();
	return NULL;
}

static void *
adder(void *arg)
{
	long *failures = arg;
	size_t i;

	for (i = 0; i < nitems(late); i++)
		if (pt_zcache_add(cache, late[i].data, late[i].len, NULL) !=
		    PT_OK)
			(*failures)++;
	return NULL;
}

static void
test_threads(void)
{
	struct worker w[THREADS];
	pthread_t add_th;
	long failures = 0, done = 0, add_failures = 0;
	int i;

	for (i = 0; i < (int)nitems(late); i++)
		train(&late[i], 500 + (uint64_t)i, i % 2, 101 + (uint32_t)i,
		    300);
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].seed = 10000 * (uint64_t)(i + 1);
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	pthread_create(&add_th, NULL, adder, &add_failures);
	pthread_join(add_th, NULL);
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].th, NULL);
		failures += w[i].failures;
		done += w[i].done;
	}
	is_int(add_failures, 0, "dictionaries added while threads work");
	is_int(failures, 0, "%d threads: %ld round trips, none failed",
	    THREADS, done);
	ok(done >= THREADS * ROUNDS * 2 / 5, "at least the rounds without a "
	    "late dictionary ran (%ld)", done);
	for (i = 0; i < (int)nitems(late); i++) {
		ok(pt_zcache_has(cache, 101 + (uint32_t)i), "late dictionary "
		    "%d is there", 101 + i);
		pt_buf_free(&late[i]);
	}
}

/* Every allocation failing in turn: PT_ENOMEM and nothing appended. */
static void
test_alloc_failures(void)
{
	struct pt_buf in = { 0 }, packed = { 0 }, out = { 0 };
	struct pt_zcache *zc = NULL;
	enum pt_err rc;
	long n, bad_rc = 0, bad_len = 0;

	make_input(&in, IN_BODY, 0, 11);
	for (n = 0; n < 100; n++) {
		pt_zthread_free();	/* the contexts are made again */
		pt_zcache_free(zc);
		zc = NULL;
		pt_buf_free(&packed);
		pt_buf_free(&out);
		pt_alloc_fail_nth(n);
		rc = pt_zcache_new(0, &zc);
		if (rc == PT_OK)
			rc = pt_zcache_add(zc, dict.data, dict.len, NULL);
		if (rc == PT_OK) {
			rc = pt_zpack(zc, DICT_ID, in.data, in.len, &packed);
			if (rc != PT_OK && packed.len != 0)
				bad_len++;
		}
		if (rc == PT_OK) {
			rc = pt_zunpack(zc, packed.data, packed.len, &out);
			if (rc != PT_OK && out.len != 0)
				bad_len++;
		}
		pt_alloc_fail_nth(-1);
		if (rc == PT_OK)
			break;
		if (rc != PT_ENOMEM)
			bad_rc++;
	}
	ok(n > 3 && n < 100, "a run with %ld allocations failing in turn", n);
	is_int(bad_rc, 0, "every failure is PT_ENOMEM");
	is_int(bad_len, 0, "nothing appended on failure");
	ok(out.len == in.len && memcmp(out.data, in.data, in.len) == 0,
	    "the last run gives the bytes back");
	pt_zcache_free(zc);
	pt_buf_free(&in);
	pt_buf_free(&packed);
	pt_buf_free(&out);
}

/*
 * PT_Z_CAT: parts packed apart (with the dictionary, without, raw) read
 * as their bytes end to end; the dictionaries they need are listed; a
 * missing one is PT_ENOTFOUND with nothing appended; every cut fails.
 */
static void
test_parts(void)
{
	struct pt_buf a = { 0 }, b = { 0 }, c = { 0 }, in = { 0 }, pa = { 0 },
	    pb = { 0 }, pc = { 0 }, cat = { 0 }, out = { 0 }, cut = { 0 };
	struct pt_zpart parts[PT_Z_CAT_MAX + 1];
	struct pt_zcache *bare;
	uint32_t ids[PT_Z_CAT_MAX];
	size_t n, i, wrong = 0;

	make_input(&a, IN_BODY, 0, 11);
	make_input(&b, IN_BODY, 0, 12);
	pt_buf_adds(&c, "}");
	pt_buf_add(&in, a.data, a.len);
	pt_buf_add(&in, b.data, b.len);
	pt_buf_add(&in, c.data, c.len);
	ok(pt_zpack(cache, DICT_ID, a.data, a.len, &pa) == PT_OK &&
	    pt_zpack(cache, 0, b.data, b.len, &pb) == PT_OK &&
	    pt_zpack(cache, DICT_ID, c.data, c.len, &pc) == PT_OK &&
	    pa.data[0] == PT_Z_DICT && pb.data[0] == PT_Z_ZSTD &&
	    pc.data[0] == PT_Z_RAW, "three parts: dictionary, zstd, raw");
	parts[0].p = pa.data, parts[0].len = pa.len;
	parts[1].p = pb.data, parts[1].len = pb.len;
	parts[2].p = pc.data, parts[2].len = pc.len;
	is_int(pt_zcat(parts, 3, &cat), PT_OK, "pt_zcat of three");
	ok(cat.data[0] == PT_Z_CAT && cat.len <= pa.len + pb.len + pc.len +
	    1 + 4 * 5, "a PT_Z_CAT record, the parts' size and a header "
	    "(%zu bytes)", cat.len);
	is_int(pt_zunpack(cache, cat.data, cat.len, &out), PT_OK, "it reads");
	ok(out.len == in.len && memcmp(out.data, in.data, in.len) == 0 &&
	    out.data[out.len] == '\0', "the parts' bytes end to end");
	ok(pt_zdicts(cat.data, cat.len, ids, nitems(ids), &n) == PT_OK &&
	    n == 1 && ids[0] == DICT_ID, "it needs the one dictionary, once");
	if (pt_zcache_new(0, &bare) != PT_OK)
		abort();
	pt_buf_reset(&out);
	pt_buf_adds(&out, "kept");
	is_int(pt_zunpack(bare, cat.data, cat.len, &out), PT_ENOTFOUND,
	    "without it: PT_ENOTFOUND");
	ok(out.len == 4 && strcmp(out.data, "kept") == 0,
	    "  ... with what came before kept and nothing appended");
	{
		/* Its first part the one that fails, into an unused buffer. */
		struct pt_buf fresh = { 0 };

		parts[0].p = pa.data, parts[0].len = pa.len;
		parts[1].p = pc.data, parts[1].len = pc.len;
		pt_buf_reset(&cut);
		ok(pt_zcat(parts, 2, &cut) == PT_OK &&
		    pt_zunpack(bare, cut.data, cut.len, &fresh) ==
		    PT_ENOTFOUND && fresh.len == 0, "  ... also into a buffer "
		    "that holds nothing yet");
		pt_buf_free(&fresh);
	}
	pt_zcache_free(bare);
	/* One part is that part; a part that is parts is refused. */
	pt_buf_reset(&out);
	ok(pt_zcat(parts, 1, &out) == PT_OK && out.len == pa.len &&
	    memcmp(out.data, pa.data, pa.len) == 0, "one part: the part");
	parts[3].p = cat.data, parts[3].len = cat.len;
	pt_buf_reset(&out);
	is_int(pt_zcat(parts + 2, 2, &out), PT_EINVAL, "parts in parts: "
	    "refused");
	is_int(pt_zcat(parts, 0, &out), PT_EINVAL, "no part: refused");
	parts[3] = parts[4] = parts[0];
	is_int(pt_zcat(parts, PT_Z_CAT_MAX + 1, &out), PT_EINVAL,
	    "%d parts: refused", PT_Z_CAT_MAX + 1);
	is_int(out.len, 0, "nothing appended");
	ok(pt_zcat(parts, PT_Z_CAT_MAX, &out) == PT_OK &&
	    pt_zinfo(out.data, out.len, &(struct pt_zinfo){ 0 }) == PT_OK,
	    "%d parts: taken", PT_Z_CAT_MAX);
	parts[0].p = "\x05\x00", parts[0].len = 2;
	pt_buf_reset(&out);
	is_int(pt_zcat(parts, 2, &out), PT_ECORRUPT, "a part that is no "
	    "packed record: refused");
	/* Every cut of the record fails, and appends nothing. */
	for (i = 0; i < cat.len; i++) {
		pt_buf_reset(&cut);
		pt_buf_reset(&out);
		pt_buf_add(&cut, cat.data, i);
		if (pt_zunpack(cache, cut.data, cut.len, &out) == PT_OK ||
		    out.len != 0)
			wrong++;
	}
	is_int(wrong, 0, "each of its %zu cuts is refused", cat.len);
	pt_buf_free(&a);
	pt_buf_free(&b);
	pt_buf_free(&c);
	pt_buf_free(&in);
	pt_buf_free(&pa);
	pt_buf_free(&pb);
	pt_buf_free(&pc);
	pt_buf_free(&cat);
	pt_buf_free(&out);
	pt_buf_free(&cut);
}

int
main(void)
{
	uint32_t id;

	train(&dict, 1, 0, DICT_ID, 400);
	train(&dict_other, 2, 1, OTHER_ID, 400);
	train(&dict_same_id, 3, 1, DICT_ID, 400);
	if (pt_zcache_new(0, &cache) != PT_OK ||
	    pt_zcache_add(cache, dict.data, dict.len, &id) != PT_OK)
		abort();

	test_round_trips();
	test_dictionaries();
	test_bad_headers();
	test_parts();
	test_foreign_frames();
	test_corruption();
	test_threads();
	test_alloc_failures();

	pt_zcache_free(cache);
	pt_buf_free(&dict);
	pt_buf_free(&dict_other);
	pt_buf_free(&dict_same_id);
	pt_zthread_free();
	return tap_done();
}
