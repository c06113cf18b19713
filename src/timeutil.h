/*
 * timeutil.h - clocks, RFC 3339, durations.
 *
 * Times are int64 microseconds since the Unix epoch unless a name says
 * otherwise.
 */
#ifndef PT_TIMEUTIL_H
#define PT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/*
 * Wall clock in microseconds.  The environment variable
 * PORTER_CLOCK_OFFSET (seconds, may be negative) shifts it: for tests that
 * need time to pass (idempotency windows, retention), never in production.
 */
int64_t	pt_now_us(void);
/* A monotonic clock in milliseconds, for timeouts (never shifted). */
int64_t	pt_mono_ms(void);

/*
 * RFC 3339 date-time ("2026-11-23T10:00:00Z", "...T10:00:00.123+01:00").
 * Returns 0 and sets *us, or -1.
 */
int	pt_parse_rfc3339(const char *, size_t, int64_t *us);
/* "2026-11-23T10:00:00.123456Z" (27 chars + NUL). */
#define PT_RFC3339_LEN 32
void	pt_fmt_rfc3339(int64_t us, char out[PT_RFC3339_LEN]);

/* "90s", "15m", "2h", "7d", "1w" -> seconds.  0 or -1. */
int	pt_parse_duration(const char *, int64_t *seconds);

/*
 * An event time from a payload value: an RFC 3339 string, or unix seconds
 * or milliseconds as a number or an all-digit string (values above 1e11
 * are taken as milliseconds).  Returns 0 and sets *us, or -1 with a reason
 * in "why".
 */
int	pt_json_time(const pt_json *, int64_t *us, char *why, size_t whylen);

#endif
