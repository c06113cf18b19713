/*
 * test-logline.c - escaping the text of operational log lines: a table of
 * inputs and what the log gets, then truncation at the buffer's end.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "logline.h"
#include "tap.h"

#ifndef nitems
#endif

static size_t __attribute__((format(printf, 3, 4)))
fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, f);
	n = pt_log_vformat(out, cap, f, ap);
	va_end(ap);
	return n;
}

int
main(void)
{
	static const struct {
		const char	*desc;
		const char	*in;
		size_t		 len;		/* 0: strlen */
		const char	*want;
	} cases[] = {
		{ "plain text", "404 not_found GET /x: no such resource", 0,
		  "404 not_found GET /x: no such resource" },
		{ "a forged line", "/x\nporter[1]: 200 FORGED", 0,
		  "/x\\nporter[1]: 200 FORGED" },
		{ "CR LF", "a\r\nb", 0, "a\\r\\nb" },
		{ "tab", "a\tb", 0, "a\\tb" },
		{ "backslash, so that escapes cannot be forged", "a\\nb", 0,
		  "a\\\\nb" },
		{ "terminal escape", "\x1b[31mred", 0, "\\x1b[31mred" },
		{ "DEL and BEL", "\x7f\x07", 0, "\\x7f\\x07" },
		{ "NUL inside", "a\0b", 3, "a\\x00b" },
		{ "valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6", 0,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6" },
		{ "invalid byte", "a\xff" "b", 0, "a\\xffb" },
		{ "truncated sequence", "a\xe2\x82", 0, "a\\xe2\\x82" },
		{ "overlong slash", "\xc0\xaf", 0, "\\xc0\\xaf" },
		{ "overlong three bytes", "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf" },
		{ "surrogate", "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", 0,
		  "\\xf4\\x90\\x80\\x80" },
		{ "C1 NEL", "a\xc2\x85" "b", 0, "a\\xc2\\x85b" },
		{ "C1 CSI", "\xc2\x9b" "31m", 0, "\\xc2\\x9b31m" },
		{ "U+00A0 is not C1", "\xc2\xa0", 0, "\xc2\xa0" },
		{ "line separator U+2028", "a\xe2\x80\xa8" "b", 0,
		  "a\\xe2\\x80\\xa8b" },
		{ "paragraph separator U+2029", "\xe2\x80\xa9", 0,
		  "\\xe2\\x80\\xa9" },
		{ "empty", "", 0, "" },
	};
	char out[PT_LOG_LINE_MAX], small[8];
	size_t i, n, len;

	for (i = 0; i < nitems(cases); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		n = pt_log_escape(cases[i].in, len, out, sizeof(out));
		is_str(out, cases[i].want, "escape: %s", cases[i].desc);
		is_int(n, strlen(cases[i].want), "escape: %s: length",
		    cases[i].desc);
	}

	/* An escape that does not fit is left out whole. */
	n = pt_log_escape("abcde\n", 6, small, 7);
	is_str(small, "abcde", "truncation: no half escape");
	is_int(n, 5, "truncation: length");
	n = pt_log_escape("abcd\xc3\xa9", 6, small, 6);
	is_str(small, "abcd", "truncation: no half UTF-8 sequence");
	n = pt_log_escape("abc", 3, small, 1);
	ok(n == 0 && small[0] == '\0', "truncation: room for the NUL only");

	/* Through printf formatting, as pt_ctx_log uses it. */
	fmt(out, sizeof(out), "%d %s %s: %s", 404, "not_found",
	    "/admin/api/x\nporter[1]: 200 FORGED", "no such resource");
	is_str(out, "404 not_found /admin/api/x\\nporter[1]: 200 FORGED: no "
	    "such resource", "vformat: arguments are escaped");
	ok(strchr(out, '\n') == NULL, "vformat: no newline left");
	return tap_done();
}
