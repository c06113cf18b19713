/*
 * ids.c - random bytes and identifiers (see ids.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "ids.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

enum pt_err
pt_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return PT_EIO;
		}
		p += got;
		n -= (size_t)got;
	}
	return PT_OK;
}

enum pt_err
pt_random_b32(char *out, size_t nchars)
{
	unsigned char r[64];
	size_t i;

	if (nchars > sizeof(r))
		return PT_EINVAL;
	if (pt_random(r, nchars) != PT_OK)
		return PT_EIO;
	for (i = 0; i < nchars; i++)
		out[i] = b32[r[i] & 31];	/* 256 % 32 == 0: unbiased */
	out[nchars] = '\0';
	memset(r, 0, sizeof(r));
	return PT_OK;
}

void
pt_id_text(const char *prefix, const uint8_t bin[PT_ID_BIN],
    char text[PT_ID_MAX])
{
	size_t plen = strlen(prefix), i, in = 0;
	uint64_t acc = 0;
	unsigned nbits = 2;

	memcpy(text, prefix, plen);
	text[plen] = '_';
	/*
	 * 130 bits: two leading zero bits, then the 128 bits of "bin", five
	 * at a time from a window of the "nbits" bits not yet written.
	 */
	for (i = 0; i < PT_ID_B32; i++) {
		if (nbits < 5) {
			acc = acc << 8 | bin[in++];
			nbits += 8;
		}
		nbits -= 5;
		text[plen + 1 + i] = b32[(acc >> nbits) & 31];
	}
	text[plen + 1 + PT_ID_B32] = '\0';
}

int
pt_id_parse(const char *prefix, const char *text, uint8_t bin[PT_ID_BIN])
{
	size_t plen = strlen(prefix), i;
	const char *p;

	/* A stored record may lack the id: no id, not a crash. */
	if (text == NULL || strncmp(text, prefix, plen) != 0 ||
	    text[plen] != '_' ||
	    strlen(text + plen + 1) != PT_ID_B32)
		return -1;
	memset(bin, 0, PT_ID_BIN);
	for (i = 0; i < PT_ID_B32; i++) {
		char c = text[plen + 1 + i];
		unsigned v, j;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((p = strchr(b32, c)) == NULL || c == '\0')
			return -1;
		v = (unsigned)(p - b32);
		for (j = 0; j < 5; j++) {
			unsigned bit = (unsigned)(i * 5 + j);
			unsigned b = (v >> (4 - j)) & 1;

			if (bit < 2) {
				if (b)
					return -1;
				continue;
			}
			bit -= 2;
			bin[bit / 8] |= (uint8_t)(b << (7 - bit % 8));
		}
	}
	return 0;
}

enum pt_err
pt_id_new(const char *prefix, int64_t us, uint8_t bin[PT_ID_BIN],
    char text[PT_ID_MAX])
{
	pt_be64_put(bin, (uint64_t)us);
	if (pt_random(bin + 8, 8) != PT_OK)
		return PT_EIO;
	pt_id_text(prefix, bin, text);
	return PT_OK;
}

int64_t
pt_id_time(const uint8_t bin[PT_ID_BIN])
{
	return (int64_t)pt_be64_get(bin);
}
