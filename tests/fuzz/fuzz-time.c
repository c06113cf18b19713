/*
 * fuzz-time.c - timestamps and the other quantities people write:
 * pt_parse_rfc3339, pt_parse_duration, pt_json_time and pt_parse_size.
 *
 * Input: the text itself, tried as an RFC 3339 time (with its length), as
 * a duration and as a byte size (up to the first NUL), as a JSON string
 * value, and, when it parses as JSON, as that value.
 * Checks: a time that parses formats and parses back to itself; a
 * duration is a non-negative number of seconds that fits in microseconds;
 * a numeric timestamp is never negative; a size is at least its minimum,
 * reads back the same written as bytes, and a refusal says why.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "size.h"
#include "timeutil.h"
#include "fuzz.h"

static void
check_rfc3339(const char *s, size_t n)
{
	char text[PT_RFC3339_LEN];
	int64_t us, back;

	if (pt_parse_rfc3339(s, n, &us) < 0)
		return;
	pt_fmt_rfc3339(us, text);
	if (strcmp(text, "(out of range)") == 0)
		return;		/* before year 0 after a negative offset */
	FZ_ASSERT(pt_parse_rfc3339(text, strlen(text), &back) == 0 &&
	    back == us, "\"%.*s\" -> %" PRId64 " -> %s", (int)n, s, us, text);
}

static void
check_json_time(const pt_json *v, int numeric)
{
	char why[200];
	int64_t us;

	if (pt_json_time(v, &us, why, sizeof(why)) == 0) {
		if (numeric)
			FZ_ASSERT(us >= 0, "unix time read as %" PRId64, us);
	} else
		FZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL,
		    "reason not terminated");
}

static void
check_size(const char *s)
{
	char why[200], text[32];
	uint64_t v, back;

	why[0] = '\0';
	if (pt_parse_size(s, 1 << 20, &v, why, sizeof(why)) < 0) {
		FZ_ASSERT(why[0] != '\0' && memchr(why, '\0', sizeof(why)),
		    "size \"%s\" refused without a reason", s);
		return;
	}
	FZ_ASSERT(v >= 1 << 20, "size \"%s\" = %" PRIu64 " below the least",
	    s, v);
	snprintf(text, sizeof(text), "%" PRIu64, v);
	FZ_ASSERT(pt_parse_size(text, 0, &back, why, sizeof(why)) == 0 &&
	    back == v, "size \"%s\" = %" PRIu64 " does not read back", s, v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_json_error jerr;
	struct fz_cur c;
	pt_json *v = NULL;
	int64_t secs;
	size_t i;
	int digits;

	fz_open(&c, data, size);
	check_rfc3339(c.buf, size);
	if (pt_parse_duration(c.buf, &secs) == 0)
		FZ_ASSERT(secs >= 0 && secs <= INT64_MAX / 1000000,
		    "duration \"%s\" = %" PRId64 " s", c.buf, secs);
	check_size(c.buf);

	/* As a JSON string (what a payload's timestamp field holds). */
	if ((v = pt_json_new_str(c.buf, size)) != NULL) {
		for (i = 0; i < size && c.buf[i] >= '0' && c.buf[i] <= '9'; i++)
			;
		digits = size > 0 && i == size;
		check_json_time(v, digits);
		pt_json_put(v);
	}
	/* As a JSON value of any type. */
	v = NULL;
	if (pt_json_parse(c.buf, size, 8, &v, &jerr) == PT_OK) {
		enum pt_jtype t = pt_json_type(v);

		check_json_time(v, t == PT_J_INT || t == PT_J_DOUBLE);
		pt_json_put(v);
	}
	fz_close(&c);
	return 0;
}
