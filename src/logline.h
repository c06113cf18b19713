/*
 * logline.h - the one place an operational log line's text is formed.
 *
 * Log lines quote what clients sent: the request path, header values,
 * error texts that name them.  Written raw, a newline in any of them ends
 * the line and lets the client write the next one ("porter[1]: 200 ..."),
 * and other control bytes drive the terminal of whoever reads the log.  So
 * every message goes through pt_log_vformat(), which escapes them:
 *	\	\\
 *	LF CR TAB	\n \r \t
 *	other C0 bytes, DEL	\xHH
 *	C1 controls, U+2028, U+2029 (line breaks to some log viewers)
 *			\xHH for each of their UTF-8 bytes
 *	a byte that is not part of valid UTF-8	\xHH
 * Everything else, valid UTF-8 included, is kept as it is.
 */
#ifndef PT_LOGLINE_H
#define PT_LOGLINE_H

#include <stdarg.h>
#include <stddef.h>

#define PT_LOG_LINE_MAX	1024	/* bytes of a line, NUL included */

/*
 * Escape "len" bytes of "in" into "out" ("cap" bytes, cap > 0), always
 * NUL-terminated; an escape or a UTF-8 sequence that does not fit is left
 * out whole, with what follows.  Returns the bytes written (NUL excluded).
 */
size_t	pt_log_escape(const char *in, size_t len, char *out, size_t cap);

/* printf "fmt" into "out" ("cap" bytes), then escape it in place. */
size_t	pt_log_vformat(char *out, size_t cap, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));

/*
 * A whole line, "porter[pid]: " and the escaped message, into "out"
 * ("cap" bytes).  Returns its length.
 */
size_t	pt_log_vline(char *out, size_t cap, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));

/*
 * One such line on stderr, for the responder's own messages outside a
 * request context (fcgi_main.c).
 */
void	pt_log_stderr(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
