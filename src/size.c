/*
 * size.c - byte counts with a binary suffix (see size.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nitems.h"
#include "size.h"

#define WANT	"want bytes, or a number with K, M, G or T (512M, 4G)"

int
pt_parse_size(const char *text, uint64_t min, uint64_t *out, char *why,
    size_t whylen)
{
	static const struct {
		char		 suffix;
		unsigned	 shift;
	} units[] = {
		{ 'k', 10 }, { 'm', 20 }, { 'g', 30 }, { 't', 40 },
	};
	const char *p = text;
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i;

	if (text == NULL || *text == '\0') {
		snprintf(why, whylen, "empty: %s", WANT);
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 &&
		    (uint64_t)(*p - '0') > UINT64_MAX % 10))
			goto big;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == text)
		goto junk;
	if (*p != '\0') {
		for (i = 0; i < nitems(units); i++)
			if ((*p | 0x20) == units[i].suffix)
				shift = units[i].shift;
		if (shift == 0 || p[1] != '\0')
			goto junk;
		/* Shifting would lose the high bits: that is an overflow. */
		if (v > (UINT64_MAX >> shift))
			goto big;
		v <<= shift;
	}
	if (v < min) {
		if (v == 0)
			snprintf(why, whylen, "\"%.40s\": 0 is not a size; %s",
			    text, WANT);
		else
			snprintf(why, whylen, "\"%.40s\" is %llu bytes, below the "
			    "least of %llu (a bare number is bytes: 4G, not 4)",
			    text, (unsigned long long)v,
			    (unsigned long long)min);
		return -1;
	}
	*out = v;
	return 0;
junk:
	snprintf(why, whylen, "\"%.40s\": %s", text, WANT);
	return -1;
big:
	snprintf(why, whylen, "\"%.40s\" does not fit in 64 bits", text);
	return -1;
}
