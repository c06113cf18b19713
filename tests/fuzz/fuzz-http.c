/*
 * fuzz-http.c - the request helpers: pt_parse_content_length,
 * pt_is_json_content_type, pt_body_format_of, pt_req_route, pt_req_header
 * and pt_req_ambiguous; and pt_log_escape, which every log line quoting a
 * request goes through.
 *
 * Input: lines.
 *	1: a Content-Length value (also tried as a Content-Type)
 *	2: a Content-Type value
 *	3..6: PATH_INFO, REQUEST_URI, SCRIPT_NAME, PORTER_MOUNT; a line "-"
 *	   (or a missing line) means the variable is unset
 *	7..: headers, "name:value" (up to 32)
 * Checks: lookups give the first occurrence; pt_req_ambiguous agrees
 * with a plain reading of "twice with different values"; the escaped
 * input (all of it, NULs and newlines included) has no control byte, is
 * valid UTF-8 and unescapes to the input.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "logline.h"
#include "fuzz.h"

#define MAX_HEADERS	32

/* The strict reading of a Content-Length, to compare with. */
static int
reference_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

static void
check_length(const char *s)
{
	uint64_t got = 0, want = 0;
	int rc = pt_parse_content_length(s, &got);
	int ref = reference_length(s, &want);

	if (rc == 0)
		FZ_ASSERT(ref == 0 && got == want, "\"%s\" read as %" PRIu64,
		    s, got);
	else
		/* Refusing values within a few of overflow is fine. */
		FZ_ASSERT(ref != 0 || want > UINT64_MAX - 10,
		    "\"%s\" refused", s);
	(void)pt_is_json_content_type(s);
}

/* Is "name" twice in "h" with different values?  (The reference.) */
static int
reference_ambiguous(const struct pt_header *h, size_t n, const char *name)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (strcmp(h[i].name, h[j].name) == 0 &&
			    (name == NULL || strcmp(h[i].name, name) == 0) &&
			    (h[i].value_len != h[j].value_len ||
			    memcmp(h[i].value, h[j].value, h[i].value_len) != 0))
				return 1;
	return 0;
}

static void
check_headers(const struct pt_req *req)
{
	const struct pt_header *first;
	const char *amb;
	size_t i;

	amb = pt_req_ambiguous(req, NULL);
	FZ_ASSERT((amb != NULL) == reference_ambiguous(req->headers,
	    req->nheaders, NULL), "ambiguous: %s", amb ? amb : "(none)");
	for (i = 0; i < req->nheaders; i++) {
		first = pt_req_header(req, req->headers[i].name);
		FZ_ASSERT(first != NULL && first <= &req->headers[i] &&
		    strcmp(first->name, req->headers[i].name) == 0,
		    "header %s: not the first occurrence", req->headers[i].name);
		amb = pt_req_ambiguous(req, req->headers[i].name);
		FZ_ASSERT((amb != NULL) == reference_ambiguous(req->headers,
		    req->nheaders, req->headers[i].name) && (amb == NULL ||
		    strcmp(amb, req->headers[i].name) == 0),
		    "ambiguous %s: %s", req->headers[i].name, amb ? amb : "-");
	}
}

/* Undo pt_log_escape; the length, or -1 for text it cannot have made. */
static long
unescape(const char *s, char *out)
{
	size_t o = 0;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			out[o++] = *s;
			continue;
		}
		switch (*++s) {
		case '\\': out[o++] = '\\'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'x':
			if ((hi = pt_hexval(s[1])) < 0 || (lo = pt_hexval(s[2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			s += 2;
			break;
		default:
			return -1;
		}
	}
	return (long)o;
}

static void
check_escape(const char *in, size_t len)
{
	size_t cap = 4 * len + 1, n, i;
	char *out = malloc(cap), *back = malloc(len + 1);
	long blen;

	if (out == NULL || back == NULL)
		abort();
	n = pt_log_escape(in, len, out, cap);
	FZ_ASSERT(n == strlen(out), "length %zu, text %zu", n, strlen(out));
	for (i = 0; i < n; i++)
		FZ_ASSERT((unsigned char)out[i] >= 0x20 && out[i] != 0x7f,
		    "control byte 0x%02x at %zu", (unsigned char)out[i], i);
	FZ_ASSERT(pt_utf8_valid(out, n), "escaped text is not UTF-8");
	FZ_ASSERT(strstr(out, "\xc2\x85") == NULL &&
	    strstr(out, "\xe2\x80\xa8") == NULL &&
	    strstr(out, "\xe2\x80\xa9") == NULL, "a line break left");
	blen = unescape(out, back);
	FZ_ASSERT(blen == (long)len && memcmp(back, in, len) == 0,
	    "does not unescape to the input");
	/* Cut short anywhere: a prefix of the whole, never half an escape. */
	if (len > 0) {
		char small[16];

		n = pt_log_escape(in, len, small, 1 + len % sizeof(small));
		FZ_ASSERT(strncmp(out, small, n) == 0 && unescape(small, back) >=
		    0, "truncated \"%s\" is not a prefix", small);
	}
	free(out);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_header hdrs[MAX_HEADERS];
	struct fz_cur c;
	struct pt_req req;
	struct pt_buf out = { 0 };
	const char *vars[4] = { NULL, NULL, NULL, NULL };
	char *line, *colon;
	size_t i, n, nh = 0;

	check_escape((const char *)data, size);
	fz_open(&c, data, size);
	if ((line = fz_line(&c, &n)) != NULL)
		check_length(line);
	if ((line = fz_line(&c, &n)) != NULL) {
		int json = pt_is_json_content_type(line);
		int form = pt_is_form_content_type(line);

		FZ_ASSERT(!(json && form), "\"%s\" is JSON and a form", line);
		FZ_ASSERT(pt_body_format_of(line) == (json ? PT_BODY_JSON :
		    form ? PT_BODY_FORM : 0), "\"%s\": body format", line);
	}
	(void)pt_is_json_content_type(NULL);
	FZ_ASSERT(pt_body_format_of(NULL) == 0, "no Content-Type has a format");
	for (i = 0; i < 4 && (line = fz_line(&c, &n)) != NULL; i++)
		vars[i] = strcmp(line, "-") == 0 ? NULL : line;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path_info = vars[0];
	req.request_uri = vars[1];
	req.script_name = vars[2];
	req.mount = vars[3];
	if (pt_req_route(&req, &out) == PT_OK) {
		FZ_ASSERT(out.len > 0 && out.data != NULL && out.data[0] == '/' &&
		    out.data[out.len] == '\0', "route \"%.*s\"", (int)out.len,
		    out.data ? out.data : "");
		FZ_ASSERT(strlen(out.data) == out.len, "route has a NUL");
	}
	pt_buf_free(&out);

	while (nh < MAX_HEADERS && (line = fz_line(&c, &n)) != NULL) {
		if ((colon = memchr(line, ':', n)) == NULL)
			continue;
		*colon = '\0';
		hdrs[nh].name = line;
		hdrs[nh].value = colon + 1;
		hdrs[nh].value_len = n - (size_t)(colon + 1 - line);
		nh++;
	}
	req.headers = hdrs;
	req.nheaders = nh;
	check_headers(&req);
	fz_close(&c);
	return 0;
}
