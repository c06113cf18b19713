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
	return pt_buf_add(b, &c, 1);
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
 * Append "s" ("n" bytes) as a JSON string literal.  Control characters are
 * escaped; bytes >= 0x80 are copied as they are (callers hand in UTF-8).
 */
enum pt_err
pt_buf_add_json_str(struct pt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start;
	unsigned char c;
	char esc[6];

	if (pt_buf_addc(b, '"') != PT_OK)
		return PT_ENOMEM;
	for (start = i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (pt_buf_add(b, s + start, i - start) != PT_OK)
			return PT_ENOMEM;
		start = i + 1;
		esc[0] = '\\';
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
			if (pt_buf_add(b, esc, 6) != PT_OK)
				return PT_ENOMEM;
			continue;
		}
		if (pt_buf_add(b, esc, 2) != PT_OK)
			return PT_ENOMEM;
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
