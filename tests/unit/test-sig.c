/*
 * test-sig.c - the cryptographic primitives of sig.c.
 *
 * HMAC-SHA256/512 against RFC 4231, HMAC-SHA1 against RFC 2202, the hex
 * and base64 codecs (RFC 4648 section 10 vectors and malformed input),
 * and a bit-flip test of pt_memeql_sec() like nettle's memeql-test.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sig.h"
#include "tap.h"

/* Test data: hex ("0b0b...") or text; "rep" repeats a byte "n" times. */
struct tdata {
	const char	*hex;
	const char	*text;
	int		 rep;
	size_t		 n;
};
#define HEX(h)		{ (h), NULL, -1, 0 }
#define TXT(t)		{ NULL, (t), -1, 0 }
#define REP(b, count)	{ NULL, NULL, (b), (count) }

/* Decode test data into "out" (room for 256 bytes); returns the length. */
static size_t
tdata(const struct tdata *d, uint8_t out[256])
{
	size_t n = 0;
	unsigned v;

	if (d->hex != NULL) {
		for (; d->hex[2 * n] != '\0'; n++) {
			sscanf(d->hex + 2 * n, "%2x", &v);
			out[n] = (uint8_t)v;
		}
		return n;
	}
	if (d->text != NULL) {
		memcpy(out, d->text, strlen(d->text));
		return strlen(d->text);
	}
	memset(out, d->rep, d->n);
	return d->n;
}

/* "s" with control characters escaped, for test names (one at a time). */
static const char *
vis(const char *s)
{
	static char buf[128];
	size_t i = 0;

	for (; *s != '\0' && i + 5 < sizeof(buf); s++) {
		if ((unsigned char)*s < 0x20)
			i += (size_t)snprintf(buf + i, sizeof(buf) - i,
			    "\\x%02x", (unsigned char)*s);
		else
			buf[i++] = *s;
	}
	buf[i] = '\0';
	return buf;
}

#define HI_THERE	TXT("Hi There")
#define JEFE_DATA	TXT("what do ya want for nothing?")
#define KEY_1_25	\
	HEX("0102030405060708090a0b0c0d0e0f10111213141516171819")
#define BIG_KEY_DATA	\
	TXT("Test Using Larger Than Block-Size Key - Hash Key First")

static const struct {
	const char	*name;
	enum pt_mac	 mac;
	struct tdata	 key;
	struct tdata	 data;
	const char	*want;		/* hex, possibly truncated */
} macs[] = {
	/* RFC 4231 section 4, test cases 1-7. */
	{ "RFC 4231 case 1 sha256", PT_MAC_HMAC_SHA256, REP(0x0b, 20), HI_THERE,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "RFC 4231 case 1 sha512", PT_MAC_HMAC_SHA512, REP(0x0b, 20), HI_THERE,
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "RFC 4231 case 2 sha256", PT_MAC_HMAC_SHA256, TXT("Jefe"), JEFE_DATA,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 case 2 sha512", PT_MAC_HMAC_SHA512, TXT("Jefe"), JEFE_DATA,
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "RFC 4231 case 3 sha256", PT_MAC_HMAC_SHA256, REP(0xaa, 20),
	  REP(0xdd, 50),
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "RFC 4231 case 3 sha512", PT_MAC_HMAC_SHA512, REP(0xaa, 20),
	  REP(0xdd, 50),
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ "RFC 4231 case 4 sha256", PT_MAC_HMAC_SHA256, KEY_1_25, REP(0xcd, 50),
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "RFC 4231 case 4 sha512", PT_MAC_HMAC_SHA512, KEY_1_25, REP(0xcd, 50),
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	/* Case 5 is truncated to 128 bits. */
	{ "RFC 4231 case 5 sha256 (truncated)", PT_MAC_HMAC_SHA256,
	  REP(0x0c, 20), TXT("Test With Truncation"),
	  "a3b6167473100ee06e0c796c2955552b" },
	{ "RFC 4231 case 5 sha512 (truncated)", PT_MAC_HMAC_SHA512,
	  REP(0x0c, 20), TXT("Test With Truncation"),
	  "415fad6271580a531d4179bc891d87a6" },
	{ "RFC 4231 case 6 sha256", PT_MAC_HMAC_SHA256, REP(0xaa, 131),
	  BIG_KEY_DATA,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "RFC 4231 case 6 sha512", PT_MAC_HMAC_SHA512, REP(0xaa, 131),
	  BIG_KEY_DATA,
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "RFC 4231 case 7 sha256", PT_MAC_HMAC_SHA256, REP(0xaa, 131),
	  TXT("This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being used "
	  "by the HMAC algorithm."),
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	{ "RFC 4231 case 7 sha512", PT_MAC_HMAC_SHA512, REP(0xaa, 131),
	  TXT("This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being used "
	  "by the HMAC algorithm."),
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
	/* RFC 2202 section 3, test cases 1-7. */
	{ "RFC 2202 case 1 sha1", PT_MAC_HMAC_SHA1, REP(0x0b, 20), HI_THERE,
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "RFC 2202 case 2 sha1", PT_MAC_HMAC_SHA1, TXT("Jefe"), JEFE_DATA,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "RFC 2202 case 3 sha1", PT_MAC_HMAC_SHA1, REP(0xaa, 20),
	  REP(0xdd, 50),
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ "RFC 2202 case 4 sha1", PT_MAC_HMAC_SHA1, KEY_1_25, REP(0xcd, 50),
	  "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ "RFC 2202 case 5 sha1", PT_MAC_HMAC_SHA1, REP(0x0c, 20),
	  TXT("Test With Truncation"),
	  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ "RFC 2202 case 6 sha1", PT_MAC_HMAC_SHA1, REP(0xaa, 80), BIG_KEY_DATA,
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "RFC 2202 case 7 sha1", PT_MAC_HMAC_SHA1, REP(0xaa, 80),
	  TXT("Test Using Larger Than Block-Size Key and Larger Than One "
	  "Block-Size Data"),
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

static void
test_macs(void)
{
	uint8_t key[256], data[256], mac[PT_MAC_MAX_LEN], mac2[PT_MAC_MAX_LEN];
	char hex[2 * PT_MAC_MAX_LEN + 1];
	struct pt_iov one, three[3];
	size_t i, klen, dlen, wlen;

	for (i = 0; i < nitems(macs); i++) {
		klen = tdata(&macs[i].key, key);
		dlen = tdata(&macs[i].data, data);
		one.data = data;
		one.len = dlen;
		pt_mac(macs[i].mac, key, klen, &one, 1, mac);
		wlen = strlen(macs[i].want);
		pt_hex_encode(mac, wlen / 2, hex);
		hex[wlen] = '\0';
		is_str(hex, macs[i].want, "%s", macs[i].name);

		/* The same message in three parts, one of them empty. */
		three[0].data = data;
		three[0].len = dlen / 2;
		three[1].data = data + dlen / 2;
		three[1].len = 0;
		three[2].data = data + dlen / 2;
		three[2].len = dlen - dlen / 2;
		pt_mac(macs[i].mac, key, klen, three, 3, mac2);
		ok(memcmp(mac, mac2, pt_mac_len(macs[i].mac)) == 0,
		    "%s: split message gives the same MAC", macs[i].name);
	}
	is_int(pt_mac_len(PT_MAC_HMAC_SHA1), 20, "sha1 MAC is 20 bytes");
	is_int(pt_mac_len(PT_MAC_HMAC_SHA256), 32, "sha256 MAC is 32 bytes");
	is_int(pt_mac_len(PT_MAC_HMAC_SHA512), 64, "sha512 MAC is 64 bytes");
	is_str(pt_mac_name(PT_MAC_HMAC_SHA1), "hmac-sha1", "sha1 name");
	is_str(pt_mac_name(PT_MAC_HMAC_SHA256), "hmac-sha256", "sha256 name");
	is_str(pt_mac_name(PT_MAC_HMAC_SHA512), "hmac-sha512", "sha512 name");
}

static void
test_sha256(void)
{
	uint8_t d[PT_SHA256_LEN];
	char hex[2 * PT_SHA256_LEN + 1];

	/* FIPS 180-2 appendix B.1, and the empty message. */
	pt_sha256("abc", 3, d);
	pt_hex_encode(d, sizeof(d), hex);
	hex[sizeof(hex) - 1] = '\0';
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "sha256(\"abc\")");
	pt_sha256(NULL, 0, d);
	pt_hex_encode(d, sizeof(d), hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "sha256(\"\")");
}

static void
test_hex(void)
{
	static const uint8_t bytes[] = { 0x00, 0xff, 0x10, 0xab };
	static const struct {
		const char	*in;
		size_t		 cap;
		int		 rc;
		size_t		 len;
	} dec[] = {
		{ "", 8, 0, 0 },
		{ "00ff10ab", 8, 0, 4 },
		{ "00FF10AB", 8, 0, 4 },
		{ "00Ff10aB", 8, 0, 4 },
		{ "00ff10ab", 4, 0, 4 },
		{ "00ff10ab", 3, -1, 0 },	/* no room */
		{ "00ff10a", 8, -1, 0 },	/* odd length */
		{ "0g", 8, -1, 0 },
		{ " 00ff", 8, -1, 0 },		/* white space */
		{ "00ff ", 8, -1, 0 },
		{ "00\nff", 8, -1, 0 },
		{ "0x00", 8, -1, 0 },
		{ "-1", 8, -1, 0 },
	};
	uint8_t out[8];
	char text[16];
	size_t i, len;
	int rc;

	pt_hex_encode(bytes, sizeof(bytes), text);
	text[8] = '\0';
	is_str(text, "00ff10ab", "hex encode is lower case");
	memset(text, 'x', sizeof(text));
	pt_hex_encode(bytes, 0, text);
	ok(text[0] == 'x', "hex encode of nothing writes nothing");

	for (i = 0; i < nitems(dec); i++) {
		len = 99;
		rc = pt_hex_decode(dec[i].in, strlen(dec[i].in), out,
		    dec[i].cap, &len);
		is_int(rc, dec[i].rc, "hex decode \"%s\" (room %zu)",
		    vis(dec[i].in), dec[i].cap);
		if (rc == 0) {
			is_int(len, dec[i].len, "hex decode \"%s\": length",
			    vis(dec[i].in));
			ok(memcmp(out, bytes, len) == 0,
			    "hex decode \"%s\": bytes", vis(dec[i].in));
		}
	}
	/* The length is explicit: a NUL inside is just a bad digit. */
	ok(pt_hex_decode("00\0f", 4, out, sizeof(out), &len) == -1,
	    "hex decode rejects an embedded NUL");
}

static void
test_base64(void)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char	*plain;
		const char	*b64;
	} rfc[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const struct {
		const char	*in;
		const char	*why;
	} bad[] = {
		{ "Z", "one character is not base64" },
		{ "Zm9vY", "length 1 modulo 4" },
		{ "Zg=", "padded but not a multiple of 4" },
		{ "Zg===", "three padding characters" },
		{ "Z===", "three padding characters in a group" },
		{ "====", "padding only" },
		{ "Z=g=", "padding in the middle" },
		{ "Zg==Zg==", "data after padding" },
		{ "Zm9v Yg==", "inner space" },
		{ " Zm9v", "leading space" },
		{ "Zm9v\n", "trailing newline" },
		{ "Zm9v\r\nYg==", "CRLF" },
		{ "Zh==", "non-canonical trailing bits (1 byte)" },
		{ "Zm9=", "non-canonical trailing bits (2 bytes)" },
		{ "Zh", "non-canonical trailing bits, unpadded" },
		{ "Zm-v", "URL-safe alphabet" },
		{ "Zm_v", "URL-safe alphabet" },
		{ "Zm9v.", "dot" },
		{ "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
		  "non-canonical 32-byte value (vector #20)" },
	};
	uint8_t out[64], data[100], back[100];
	char text[256];
	size_t i, n, len;
	int rc;

	for (i = 0; i < nitems(rfc); i++) {
		n = pt_base64_encode((const uint8_t *)rfc[i].plain,
		    strlen(rfc[i].plain), text);
		text[n] = '\0';
		is_str(text, rfc[i].b64, "base64 encode \"%s\"", rfc[i].plain);
		is_int(n, PT_BASE64_LEN(strlen(rfc[i].plain)),
		    "PT_BASE64_LEN(%zu)", strlen(rfc[i].plain));
		len = 99;
		rc = pt_base64_decode(rfc[i].b64, strlen(rfc[i].b64), out,
		    sizeof(out), &len);
		ok(rc == 0 && len == strlen(rfc[i].plain) &&
		    memcmp(out, rfc[i].plain, len) == 0,
		    "base64 decode \"%s\"", rfc[i].b64);
		/* Unpadded is accepted too. */
		n = strlen(rfc[i].b64);
		while (n > 0 && rfc[i].b64[n - 1] == '=')
			n--;
		len = 99;
		rc = pt_base64_decode(rfc[i].b64, n, out, sizeof(out), &len);
		ok(rc == 0 && len == strlen(rfc[i].plain) &&
		    memcmp(out, rfc[i].plain, len) == 0,
		    "base64 decode unpadded \"%.*s\"", (int)n, rfc[i].b64);
	}
	for (i = 0; i < nitems(bad); i++)
		ok(pt_base64_decode(bad[i].in, strlen(bad[i].in), out,
		    sizeof(out), &len) == -1, "base64 rejects \"%s\": %s",
		    vis(bad[i].in), bad[i].why);
	ok(pt_base64_decode("Zm9v\0Yg==", 9, out, sizeof(out), &len) == -1,
	    "base64 rejects an embedded NUL");

	/* Room: exactly enough works, one byte less fails. */
	ok(pt_base64_decode("Zm9vYmE=", 8, out, 5, &len) == 0 && len == 5,
	    "base64 decode into exactly 5 bytes of room");
	ok(pt_base64_decode("Zm9vYmE=", 8, out, 4, &len) == -1,
	    "base64 decode into 4 bytes of room fails");
	ok(pt_base64_decode("Zm9vYmE", 7, out, 4, &len) == -1,
	    "base64 decode unpadded into 4 bytes of room fails");

	/* Round trips over every length 0..99 and all byte values. */
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	rc = 0;
	for (n = 0; n < sizeof(data); n++) {
		len = pt_base64_encode(data, n, text);
		if (len != PT_BASE64_LEN(n) ||
		    pt_base64_decode(text, len, back, sizeof(back),
		    &len) != 0 ||
		    len != n || memcmp(back, data, n) != 0)
			rc++;
		pt_hex_encode(data, n, text);
		if (pt_hex_decode(text, 2 * n, back, sizeof(back), &len) != 0 ||
		    len != n || memcmp(back, data, n) != 0)
			rc++;
	}
	is_int(rc, 0, "base64 and hex round trips, lengths 0..99");
}

/*
 * Like nettle's memeql-test.c: for every length 0..49, equal regions
 * compare equal, and flipping any single bit makes them differ.
 */
static void
test_memeql(void)
{
	uint8_t a[49], b[49];
	size_t n, i;
	unsigned bit;
	int fails = 0;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 151 + 7);
	for (n = 0; n <= sizeof(a); n++) {
		memcpy(b, a, n);
		if (!pt_memeql_sec(a, b, n))
			fails++;
		for (i = 0; i < n; i++)
			for (bit = 0; bit < 8; bit++) {
				b[i] ^= (uint8_t)(1u << bit);
				if (pt_memeql_sec(a, b, n))
					fails++;
				b[i] ^= (uint8_t)(1u << bit);
			}
		if (!pt_memeql_sec(a, b, n))
			fails++;
	}
	is_int(fails, 0, "pt_memeql_sec: equal and every bit flip, "
	    "lengths 0..49");
	ok(pt_memeql_sec("x", "y", 0), "zero-length regions are equal");
}

int
main(void)
{
	test_macs();
	test_sha256();
	test_hex();
	test_base64();
	test_memeql();
	return tap_done();
}
