/*
 * logline.c - escaping operational log lines (see logline.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "logline.h"

/*
 * Length of the valid UTF-8 sequence at "p" ("len" bytes left), or 0 when
 * the byte there does not start one: overlong forms, surrogates and code
 * points above U+10FFFF are not UTF-8 (RFC 3629 section 4).
 */
static size_t
utf8_len(const unsigned char *p, size_t len)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A valid sequence that is still a line break or control to a reader of
 * the log: C1 controls (U+0080..U+009F; U+0085 is NEL, U+009B the CSI of
 * terminal escapes) and U+2028/U+2029.
 */
static int
utf8_breaks(const unsigned char *p, size_t n)
{
	return (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f) ||
	    (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9));
}

size_t
pt_log_escape(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	char esc[4 * 4];
	size_t i = 0, o = 0, n, k, elen;
	int as_hex;

	while (i < len) {
		n = 1;
		as_hex = 0;
		if (p[i] < 0x20 || p[i] == 0x7f)
			as_hex = 1;
		else if (p[i] >= 0x80) {
			if ((n = utf8_len(p + i, len - i)) == 0) {
				n = 1;
				as_hex = 1;
			} else
				as_hex = utf8_breaks(p + i, n);
		}
		if (p[i] == '\\' || p[i] == '\n' || p[i] == '\r' ||
		    p[i] == '\t') {
			esc[0] = '\\';
			esc[1] = p[i] == '\\' ? '\\' : p[i] == '\n' ? 'n' :
			    p[i] == '\r' ? 'r' : 't';
			elen = 2;
		} else if (as_hex) {
			for (k = 0; k < n; k++) {
				esc[4 * k] = '\\';
				esc[4 * k + 1] = 'x';
				esc[4 * k + 2] = hex[p[i + k] >> 4];
				esc[4 * k + 3] = hex[p[i + k] & 0xf];
			}
			elen = 4 * n;
		} else {
			memcpy(esc, p + i, n);
			elen = n;
		}
		if (o + elen >= cap)
			break;
		memcpy(out + o, esc, elen);
		o += elen;
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t
pt_log_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
	char raw[PT_LOG_LINE_MAX];
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1;
	return pt_log_escape(raw, (size_t)n, out, cap);
}

size_t
pt_log_vline(char *out, size_t cap, const char *fmt, va_list ap)
{
	int n;

	n = snprintf(out, cap, "porter[%ld]: ", (long)getpid());
	if (n < 0 || (size_t)n >= cap)
		return n < 0 ? 0 : cap - 1;
	return (size_t)n + pt_log_vformat(out + n, cap - (size_t)n, fmt, ap);
}

void
pt_log_stderr(const char *fmt, ...)
{
	char line[PT_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	pt_log_vline(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
