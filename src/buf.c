/*
 * buf.c - growable byte buffers (see buf.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

/*
 * Make room for "extra" more bytes plus the terminating NUL.
 * Grows geometrically; checks size_t overflow.
 */
enum pt_err
pt_buf_reserve(struct pt_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return PT_ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return PT_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = pt_realloc(b->data, cap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = cap;
	return PT_OK;
fail:
	b->failed = 1;
	return PT_ENOMEM;
}

enum pt_err
pt_buf_add(struct pt_buf *b, const void *p, size_t n)
{
	if (pt_buf_reserve(b, n) != PT_OK)
		return PT_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PT_OK;
}

enum pt_err
pt_buf_adds(struct pt_buf *b, const char *s)
{
	return pt_buf_add(b, s, strlen(s));
}

enum pt_err
pt_buf_addc(struct pt_buf *b, char c)
{
	if (!b->failed && b->len + 2 <= b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return PT_OK;
	}
	return pt_buf_add(b, &c, 1);
}

enum pt_err
pt_buf_add_uint(struct pt_buf *b, uint64_t u)
{
	char d[24], *q = d + sizeof(d);

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return pt_buf_add(b, q, (size_t)(d + sizeof(d) - q));
}

enum pt_err
pt_buf_add_int(struct pt_buf *b, int64_t v)
{
	if (v >= 0)
		return pt_buf_add_uint(b, (uint64_t)v);
	if (pt_buf_addc(b, '-') != PT_OK)
		return PT_ENOMEM;
	return pt_buf_add_uint(b, (uint64_t)0 - (uint64_t)v);
}

enum pt_err
pt_buf_vprintf(struct pt_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return PT_EINVAL;
	if (pt_buf_reserve(b, (size_t)n) != PT_OK)
		return PT_ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PT_OK;
}

enum pt_err
pt_buf_printf(struct pt_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum pt_err rc;

	va_start(ap, fmt);
	rc = pt_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Length of the well-formed UTF-8 sequence at "p" ("n" bytes left), or 0
 * (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned cp;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Append the JSON escape of "c": a quote, a backslash or a control byte. */
enum pt_err
pt_buf_add_json_esc(struct pt_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 0 };

	switch (c) {
	case '"': esc[1] = '"'; break;
	case '\\': esc[1] = '\\'; break;
	case '\n': esc[1] = 'n'; break;
	case '\r': esc[1] = 'r'; break;
	case '\t': esc[1] = 't'; break;
	case '\b': esc[1] = 'b'; break;
	case '\f': esc[1] = 'f'; break;
	default:
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
		return pt_buf_add(b, esc, 6);
	}
	return pt_buf_add(b, esc, 2);
}

/*
 * Append "s" ("n" bytes) as a JSON string literal.  Control characters are
 * escaped; UTF-8 is copied as it is, other bytes >= 0x80 become U+FFFD.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * Does the word hold a byte a JSON string cannot take as it is: a control
 * byte, a quote, a backslash, or a byte >= 0x80 (to check as UTF-8)?
 * Exact as a yes/no (the bit tricks of "Bit Twiddling Hacks").
 */
static int
special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');

	return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
	    ((bs - ONES) & ~bs) | w) & HIGHS ? 1 : 0;
}

/* How many first bytes of "s" a JSON string takes as they are. */
static size_t
plain_prefix(const char *s, size_t n)
{
	size_t i;
	unsigned char c;
	uint64_t w;

	for (i = 0; n - i >= 8; i += 8) {
		memcpy(&w, s + i, 8);
		if (special8(w))
			break;
	}
	for (; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			break;
	}
	return i;
}

enum pt_err
pt_buf_add_json_str(struct pt_buf *b, const char *s, size_t n)
{
	size_t i, start, k;
	unsigned char c;
	uint64_t w;

	/*
	 * Most strings need no escape: room for them at once, and copied in
	 * one piece when they need none (this runs for every string of every
	 * record).
	 */
	if (pt_buf_reserve(b, n + 2) != PT_OK)
		return PT_ENOMEM;
	i = plain_prefix(s, n);
	b->data[b->len++] = '"';
	memcpy(b->data + b->len, s, i);
	b->len += i;
	if (i == n) {
		b->data[b->len++] = '"';
		b->data[b->len] = '\0';
		return PT_OK;
	}
	b->data[b->len] = '\0';
	for (start = i; i < n; i++) {
		/* Plain ASCII eight bytes at a time (text is mostly that). */
		while (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if (special8(w))
				break;
			i += 8;
		}
		if (i == n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			if ((k = utf8_seq((const unsigned char *)s + i, n - i)) >
			    0) {
				i += k - 1;
				continue;
			}
			/* Not UTF-8 (request bytes, a cut "%.60s"): U+FFFD. */
			if (pt_buf_add(b, s + start, i - start) != PT_OK ||
			    pt_buf_add(b, "\\ufffd", 6) != PT_OK)
				return PT_ENOMEM;
			start = i + 1;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (pt_buf_add(b, s + start, i - start) != PT_OK ||
		    pt_buf_add_json_esc(b, c) != PT_OK)
			return PT_ENOMEM;
		start = i + 1;
	}
	if (pt_buf_add(b, s + start, n - start) != PT_OK)
		return PT_ENOMEM;
	return pt_buf_addc(b, '"');
}

void
pt_buf_reset(struct pt_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
pt_buf_free(struct pt_buf *b)
{
	pt_free(b->data);
	memset(b, 0, sizeof(*b));
}

char *
pt_buf_take(struct pt_buf *b, size_t *lenp)
{
	char *p;

	if (b->data == NULL && pt_buf_reserve(b, 0) != PT_OK)
		return NULL;
	p = b->data;
	p[b->len] = '\0';
	if (lenp)
		*lenp = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

void
pt_be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

uint64_t
pt_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}
