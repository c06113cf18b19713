/*
 * size.h - byte counts as operators write them ("4G", "512M", "1048576"),
 * for PORTER_MAP_SIZE and porterctl --map-size alike.
 */
#ifndef PT_SIZE_H
#define PT_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse "text": decimal digits and an optional K, M, G or T (powers of
 * 1024, either case), nothing else.  Refuses an empty or malformed text, a
 * value that does not fit in 64 bits, and one below "min" bytes (0
 * included).  Returns 0 with *out set, else -1 with the reason, naming
 * the text, in "why".
 */
int	pt_parse_size(const char *text, uint64_t min, uint64_t *out,
	    char *why, size_t whylen);

#endif
