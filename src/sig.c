/*
 * sig.c - cryptographic primitives (see sig.h).
 *
 * The only file of Porter that includes nettle: HMAC (RFC 2104) over SHA-1,
 * SHA-256 and SHA-512, plain SHA-256, hex and base64 text, and nettle's
 * constant-time comparison.  Everything takes explicit lengths.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nettle/base16.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "alloc.h"
#include "buf.h"
#include "sig.h"

size_t
pt_mac_len(enum pt_mac mac)
{
	switch (mac) {
	case PT_MAC_HMAC_SHA1:
		return SHA1_DIGEST_SIZE;
	case PT_MAC_HMAC_SHA256:
		return SHA256_DIGEST_SIZE;
	case PT_MAC_HMAC_SHA512:
		return SHA512_DIGEST_SIZE;
	default:
		return 0;
	}
}

const char *
pt_mac_name(enum pt_mac mac)
{
	switch (mac) {
	case PT_MAC_HMAC_SHA1:
		return "hmac-sha1";
	case PT_MAC_HMAC_SHA256:
		return "hmac-sha256";
	case PT_MAC_HMAC_SHA512:
		return "hmac-sha512";
	default:
		return NULL;
	}
}

/*
 * HMAC (RFC 2104) keyed with "keylen" bytes of "key" over the "n" parts of
 * "parts" taken as one message; writes pt_mac_len("mac") bytes to "out".
 * The context holds key material (the padded inner and outer hash states),
 * so it is wiped before returning.
 * NOTE: an unknown "mac" writes nothing; callers only pass enum values.
 */
void
pt_mac(enum pt_mac mac, const uint8_t *key, size_t keylen,
    const struct pt_iov *parts, size_t n, uint8_t *out)
{
	union {
		struct hmac_sha1_ctx	sha1;
		struct hmac_sha256_ctx	sha256;
		struct hmac_sha512_ctx	sha512;
	} ctx;
	size_t i;

	switch (mac) {
	case PT_MAC_HMAC_SHA1:
		hmac_sha1_set_key(&ctx.sha1, keylen, key);
		for (i = 0; i < n; i++)
			hmac_sha1_update(&ctx.sha1, parts[i].len,
			    parts[i].data);
		hmac_sha1_digest(&ctx.sha1, SHA1_DIGEST_SIZE, out);
		break;
	case PT_MAC_HMAC_SHA256:
		hmac_sha256_set_key(&ctx.sha256, keylen, key);
		for (i = 0; i < n; i++)
			hmac_sha256_update(&ctx.sha256, parts[i].len,
			    parts[i].data);
		hmac_sha256_digest(&ctx.sha256, SHA256_DIGEST_SIZE, out);
		break;
	case PT_MAC_HMAC_SHA512:
		hmac_sha512_set_key(&ctx.sha512, keylen, key);
		for (i = 0; i < n; i++)
			hmac_sha512_update(&ctx.sha512, parts[i].len,
			    parts[i].data);
		hmac_sha512_digest(&ctx.sha512, SHA512_DIGEST_SIZE, out);
		break;
	default:
		break;
	}
	pt_wipe(&ctx, sizeof(ctx));
}

void
pt_sha256(const void *data, size_t len, uint8_t out[PT_SHA256_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	if (len > 0)
		sha256_update(&ctx, len, data);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void
pt_hex_encode(const uint8_t *data, size_t len, char *out)
{
	/* nettle's base16 alphabet is lower case. */
	base16_encode_update(out, len, data);
}

size_t
pt_base64_encode(const uint8_t *data, size_t len, char *out)
{
	base64_encode_raw(out, len, data);
	return BASE64_ENCODE_RAW_LENGTH(len);
}

/*
 * Decode "len" hex digits of "s" (either case) into "out".
 * Returns 0 and sets *outlen, or -1 for an odd length, a byte that is not a
 * hex digit (white space included), or a result longer than "outcap".
 * NOTE: written by hand because nettle's base16 decoder skips white space.
 */
int
pt_hex_decode(const char *s, size_t len, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	size_t i;
	int hi, lo;

	if (len % 2 != 0 || len / 2 > outcap)
		return -1;
	for (i = 0; i < len; i += 2) {
		if ((hi = pt_hexval(s[i])) < 0 ||
		    (lo = pt_hexval(s[i + 1])) < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return 0;
}

/* Is "c" in the standard base64 alphabet (RFC 4648 section 4)? */
static int
isb64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Decode standard base64 (RFC 4648 section 4), padding optional.
 * The text is checked here first: only alphabet characters, then at most
 * two "=" and only at the very end, and with padding the length must be a
 * multiple of 4; without it, a length of 1 modulo 4 cannot be base64.
 * Groups of 4 are then handed to nettle (the last one padded by us), whose
 * decoder also rejects non-canonical trailing bits ("QR==").
 * Returns 0 and sets *outlen, or -1 for malformed input or a result longer
 * than "outcap".
 * NOTE: nettle skips white space and base64_decode_final() rejects
 * unpadded input; both are why the text is checked and padded here.
 */
int
pt_base64_decode(const char *s, size_t len, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	struct base64_decode_ctx ctx;
	char group[4];
	uint8_t tmp[3];
	size_t data, pad, i, j, n, done = 0, tmplen;
	int rc = -1;

	/* Split off the padding, then validate. */
	for (pad = 0; pad < len && s[len - 1 - pad] == '='; pad++)
		continue;
	data = len - pad;
	if (pad > 2 || (pad > 0 && len % 4 != 0) || data % 4 == 1)
		return -1;
	for (i = 0; i < data; i++)
		if (!isb64(s[i]))
			return -1;
	/* 3 bytes per full group, 1 or 2 more for a partial one. */
	n = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
	if (n > outcap)
		return -1;

	base64_decode_init(&ctx);
	for (i = 0; i < data; i += 4) {
		for (j = 0; j < 4; j++)
			group[j] = i + j < data ? s[i + j] : '=';
		tmplen = sizeof(tmp);
		if (!base64_decode_update(&ctx, &tmplen, tmp, 4, group))
			goto out;
		if (tmplen > n - done)
			goto out;
		memcpy(out + done, tmp, tmplen);
		done += tmplen;
	}
	if (!base64_decode_final(&ctx) || done != n)
		goto out;
	*outlen = n;
	rc = 0;
out:
	pt_wipe(tmp, sizeof(tmp));
	pt_wipe(&ctx, sizeof(ctx));
	return rc;
}

int
pt_memeql_sec(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n);
}
