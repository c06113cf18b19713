/*
 * sig.h - cryptographic primitives, the only window onto nettle.
 *
 * Everything takes explicit lengths; nothing here reads NUL-terminated input.
 */
#ifndef PT_SIG_H
#define PT_SIG_H

#include <stddef.h>
#include <stdint.h>

enum pt_mac {
	PT_MAC_HMAC_SHA1,
	PT_MAC_HMAC_SHA256,
	PT_MAC_HMAC_SHA512,
	PT_MAC__MAX
};

#define PT_MAC_MAX_LEN	64	/* SHA-512 */

/* A piece of the signed message: MACs are computed over the concatenation. */
struct pt_iov {
	const void	*data;
	size_t		 len;
};

size_t		pt_mac_len(enum pt_mac);
const char	*pt_mac_name(enum pt_mac);	/* "hmac-sha256" */
/* MAC of the "n" parts concatenated, keyed with "key"; writes pt_mac_len(). */
void		pt_mac(enum pt_mac, const uint8_t *key, size_t keylen,
		    const struct pt_iov *parts, size_t n, uint8_t *out);

#define PT_SHA256_LEN	32
void		pt_sha256(const void *, size_t, uint8_t out[PT_SHA256_LEN]);

/* Lower-case hex; "out" has room for 2*len bytes (no NUL written). */
void		pt_hex_encode(const uint8_t *, size_t len, char *out);
/* Standard, padded base64; returns bytes written (4*ceil(len/3)). */
size_t		pt_base64_encode(const uint8_t *, size_t len, char *out);
#define PT_BASE64_LEN(n)	(4 * (((n) + 2) / 3))
/*
 * Strict decoders: hex accepts either case; base64 is the standard
 * alphabet, padding optional.  Return 0 and set *outlen on success,
 * -1 on malformed input or when the result would exceed "outcap".
 */
int		pt_hex_decode(const char *, size_t, uint8_t *out, size_t outcap,
		    size_t *outlen);
int		pt_base64_decode(const char *, size_t, uint8_t *out,
		    size_t outcap, size_t *outlen);

/* Constant-time equality of two "n"-byte regions: 1 if equal. */
int		pt_memeql_sec(const void *, const void *, size_t n);

#endif
