/*
 * ids.h - random bytes and Porter's identifiers.
 *
 * Record ids ("evt_...", "act_...", "run_...") are 16 bytes: 8 bytes of
 * big-endian microsecond time, then 8 random bytes, so the binary form sorts
 * by time and serves as a store key.  The text form is the prefix and the
 * 16 bytes in 26 characters of Crockford base32, which sorts the same way.
 */
#ifndef PT_IDS_H
#define PT_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PT_ID_BIN	16
#define PT_ID_B32	26
#define PT_ID_MAX	(8 + PT_ID_B32 + 1)	/* prefix_ + text + NUL */

/* Fill with bytes from the kernel's CSPRNG (getrandom). */
enum pt_err	pt_random(void *, size_t);

/* Base32 (Crockford alphabet, upper case) of "n" random bytes' worth. */
enum pt_err	pt_random_b32(char *out, size_t nchars);

/* New time-ordered id at time "us": binary and text ("evt", -> "evt_..."). */
enum pt_err	pt_id_new(const char *prefix, int64_t us,
		    uint8_t bin[PT_ID_BIN], char text[PT_ID_MAX]);
/* Text of a binary id. */
void		pt_id_text(const char *prefix, const uint8_t bin[PT_ID_BIN],
		    char text[PT_ID_MAX]);
/* Parse "prefix_XXXX" back; -1 if it is not such an id. */
int		pt_id_parse(const char *prefix, const char *text,
		    uint8_t bin[PT_ID_BIN]);
/* Microsecond time inside a binary id. */
int64_t		pt_id_time(const uint8_t bin[PT_ID_BIN]);

#endif
