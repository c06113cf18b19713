/*
 * timeutil.c - clocks, RFC 3339, durations (see timeutil.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

int64_t
pt_now_us(void)
{
	static int64_t offset_us = -1;
	struct timespec ts;

	if (offset_us == -1) {
		const char *s = getenv("PORTER_CLOCK_OFFSET");

		offset_us = s ? (int64_t)strtoll(s, NULL, 10) * 1000000 : 0;
		if (offset_us == -1)
			offset_us = 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_us;
}

int64_t
pt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int
pt_parse_rfc3339(const char *s, size_t n, int64_t *us)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, t;
	size_t i = 19, fd = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0))
		return -1;
	if (sec == 60)
		sec = 59;	/* leap second: clamp */
	if (s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (fd < 6) {
				frac = frac * 10 + (s[i] - '0');
				fd++;
			}
			i++;
		}
		if (fd == 0)
			return -1;
		while (fd < 6) {
			frac *= 10;
			fd++;
		}
	}
	if (i >= n)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		if (n - i < 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &oh) ||
		    digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		i += 6;
	} else
		return -1;
	if (i != n)
		return -1;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*us = t * 1000000 + frac;
	return 0;
}

/* Write "v" as "width" decimal digits (zero-padded) at "p". */
static void
digits_out(char *p, unsigned v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * "2026-11-23T10:00:00.123456Z".  Formatted by hand: it is on the hot path
 * of every event, where snprintf showed up in profiles.
 */
void
pt_fmt_rfc3339(int64_t us, char out[PT_RFC3339_LEN])
{
	time_t secs;
	int64_t frac;
	struct tm tm;

	secs = (time_t)(us / 1000000);
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		snprintf(out, PT_RFC3339_LEN, "(out of range)");
		return;
	}
	memcpy(out, "0000-00-00T00:00:00.000000Z", 28);
	digits_out(out, (unsigned)(tm.tm_year + 1900), 4);
	digits_out(out + 5, (unsigned)(tm.tm_mon + 1), 2);
	digits_out(out + 8, (unsigned)tm.tm_mday, 2);
	digits_out(out + 11, (unsigned)tm.tm_hour, 2);
	digits_out(out + 14, (unsigned)tm.tm_min, 2);
	digits_out(out + 17, (unsigned)tm.tm_sec, 2);
	digits_out(out + 20, (unsigned)frac, 6);
}

int
pt_parse_duration(const char *s, int64_t *seconds)
{
	int64_t v = 0, mult;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	switch (*p) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -1;
	}
	if (p[1] != '\0' || v > INT64_MAX / mult / 1000000)
		return -1;
	*seconds = v * mult;
	return 0;
}

/* Unix seconds or milliseconds (by magnitude) to microseconds. */
static int
epoch_to_us(double v, int64_t *us, char *why, size_t whylen)
{
	/* Milliseconds up to 9e15 (year 287,000) fit in int64 microseconds. */
	if (!isfinite(v) || v < 0 || v > 9e15) {
		snprintf(why, whylen, "number out of range for a timestamp");
		return -1;
	}
	if (v > 1e11)
		*us = (int64_t)llround(v * 1000.0);	/* milliseconds */
	else
		*us = (int64_t)llround(v * 1000000.0);
	return 0;
}

int
pt_json_time(const pt_json *v, int64_t *us, char *why, size_t whylen)
{
	const char *s;
	size_t n, i;

	switch (pt_json_type(v)) {
	case PT_J_INT:
		return epoch_to_us((double)pt_json_int(v), us, why, whylen);
	case PT_J_DOUBLE:
		return epoch_to_us(pt_json_double(v), us, why, whylen);
	case PT_J_STRING:
		s = pt_json_str(v, &n);
		for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (n > 0 && n <= 17 && i == n)
			return epoch_to_us(strtod(s, NULL), us, why, whylen);
		if (pt_parse_rfc3339(s, n, us) == 0)
			return 0;
		snprintf(why, whylen, "\"%.60s\" is neither RFC 3339 nor unix "
		    "time", s);
		return -1;
	default:
		snprintf(why, whylen, "a timestamp cannot be %s",
		    pt_jtype_name(pt_json_type(v)));
		return -1;
	}
}
