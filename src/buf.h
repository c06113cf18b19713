/*
 * buf.h - growable byte buffers.
 *
 * A "struct pt_buf" owns "data" (allocated with pt_malloc); "len" bytes are
 * used.  The data is always NUL-terminated one byte past "len" once anything
 * has been appended, so text can be handed to C string functions, but
 * raw bytes are always passed with their length.
 * A zeroed struct is a valid empty buffer; pt_buf_free() may be called on it
 * any number of times.
 */
#ifndef PT_BUF_H
#define PT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "err.h"

struct pt_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* sticky: an append ran out of memory */
};

enum pt_err	pt_buf_reserve(struct pt_buf *, size_t extra);
enum pt_err	pt_buf_add(struct pt_buf *, const void *, size_t);
enum pt_err	pt_buf_adds(struct pt_buf *, const char *);
enum pt_err	pt_buf_addc(struct pt_buf *, char);
/* Decimal text of an integer (no printf: these run per record). */
enum pt_err	pt_buf_add_uint(struct pt_buf *, uint64_t);
enum pt_err	pt_buf_add_int(struct pt_buf *, int64_t);
enum pt_err	pt_buf_printf(struct pt_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum pt_err	pt_buf_vprintf(struct pt_buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
/*
 * Append "len" bytes as a JSON string literal, quotes included; bytes that
 * are not UTF-8 become U+FFFD, so the result is always valid JSON.
 */
/* Value of hex digit "c", either case, or -1. */
static inline int
pt_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum pt_err	pt_buf_add_json_esc(struct pt_buf *, unsigned char);
enum pt_err	pt_buf_add_json_str(struct pt_buf *, const char *, size_t);
void		pt_buf_reset(struct pt_buf *);
void		pt_buf_free(struct pt_buf *);
/* Give up ownership: returns data (never NULL on success), clears "b". */
char		*pt_buf_take(struct pt_buf *, size_t *lenp);

/* Big-endian integer encoding for sortable store keys. */
void		pt_be64_put(uint8_t *, uint64_t);
uint64_t	pt_be64_get(const uint8_t *);

#endif
