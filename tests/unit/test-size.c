/*
 * test-size.c - byte counts as PORTER_MAP_SIZE and porterctl --map-size
 * take them (size.h): suffixes, junk, overflow, 0 and the least size.
 */
#include "config.h"

#include <string.h>

#include "size.h"
#include "store.h"
#include "tap.h"

#define MIN	PT_MAP_SIZE_MIN

static const struct {
	const char		*text;
	uint64_t		 min;
	int			 ok;
	unsigned long long	 want;
	const char		*why;	/* in the message when refused */
} cases[] = {
	{ "1048576", MIN, 1, 1048576, NULL },
	{ "1M", MIN, 1, 1ULL << 20, NULL },
	{ "1m", MIN, 1, 1ULL << 20, NULL },
	{ "512M", MIN, 1, 512ULL << 20, NULL },
	{ "4G", MIN, 1, 4ULL << 30, NULL },
	{ "4g", MIN, 1, 4ULL << 30, NULL },
	{ "1024K", MIN, 1, 1ULL << 20, NULL },
	{ "2T", MIN, 1, 2ULL << 40, NULL },
	{ "16777215T", MIN, 1, 16777215ULL << 40, NULL },
	{ "18446744073709551615", MIN, 1, 18446744073709551615ULL, NULL },
	{ "0008M", MIN, 1, 8ULL << 20, NULL },
	{ "1", 0, 1, 1, NULL },
	/* Overflow: in the digits, or in the suffix's shift. */
	{ "18446744073709551616", MIN, 0, 0, "64 bits" },
	{ "99999999999999999999999", MIN, 0, 0, "64 bits" },
	{ "16777216T", MIN, 0, 0, "64 bits" },
	{ "17179869184G", MIN, 0, 0, "64 bits" },
	{ "99999999999G", MIN, 0, 0, "64 bits" },
	{ "17179869183G", MIN, 1, 17179869183ULL << 30, NULL },
	{ "999999999999999G", MIN, 0, 0, "64 bits" },
	{ "18014398509481984K", MIN, 0, 0, "64 bits" },
	/* 0 and too small. */
	{ "0", MIN, 0, 0, "0 is not a size" },
	{ "0G", MIN, 0, 0, "0 is not a size" },
	{ "0", 0, 1, 0, NULL },
	{ "4", MIN, 0, 0, "4G, not 4" },
	{ "1023K", MIN, 0, 0, "below the least" },
	/* Junk. */
	{ "", MIN, 0, 0, "empty" },
	{ "G", MIN, 0, 0, "want bytes" },
	{ "4GB", MIN, 0, 0, "want bytes" },
	{ "4 G", MIN, 0, 0, "want bytes" },
	{ " 4G", MIN, 0, 0, "want bytes" },
	{ "4G ", MIN, 0, 0, "want bytes" },
	{ "-4G", MIN, 0, 0, "want bytes" },
	{ "+4G", MIN, 0, 0, "want bytes" },
	{ "4.5G", MIN, 0, 0, "want bytes" },
	{ "0x100000", MIN, 0, 0, "want bytes" },
	{ "4P", MIN, 0, 0, "want bytes" },
	{ "4E", MIN, 0, 0, "want bytes" },
	{ "4GG", MIN, 0, 0, "want bytes" },
	{ "four", MIN, 0, 0, "want bytes" },
};

int
main(void)
{
	char why[200];
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < nitems(cases); i++) {
		v = 12345;
		why[0] = '\0';
		rc = pt_parse_size(cases[i].text, cases[i].min, &v, why,
		    sizeof(why));
		if (cases[i].ok) {
			ok(rc == 0 && v == cases[i].want, "\"%s\" is %llu",
			    cases[i].text, cases[i].want);
			if (rc != 0 || v != cases[i].want)
				diag("got rc %d, %llu: %s", rc,
				    (unsigned long long)v, why);
		} else {
			ok(rc == -1 && v == 12345 && strstr(why,
			    cases[i].why) != NULL, "\"%s\" refused: %s",
			    cases[i].text, why);
			if (strstr(why, cases[i].why) == NULL)
				diag("want \"%s\" in the message",
				    cases[i].why);
		}
	}
	ok(pt_parse_size(NULL, MIN, &v, why, sizeof(why)) == -1 &&
	    strstr(why, "empty") != NULL, "no text refused: %s", why);
	ok(pt_parse_size("99999999999999999999999999999999999999999999999999"
	    "9999999999", MIN, &v, why, sizeof(why)) == -1 && strlen(why) < 120,
	    "a long text is cut in the message: %s", why);
	return tap_done();
}
