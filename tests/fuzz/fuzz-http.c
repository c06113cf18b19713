/*
 * fuzz-http.c - the request helpers: pt_parse_content_length,
 * pt_is_json_content_type, pt_body_format_of and pt_req_route.
 *
 * Input: lines.
 *	1: a Content-Length value (also tried as a Content-Type)
 *	2: a Content-Type value
 *	3..6: PATH_INFO, REQUEST_URI, SCRIPT_NAME, PORTER_MOUNT; a line "-"
 *	   (or a missing line) means the variable is unset
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "http.h"
#include "fuzz.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c;
	struct pt_req req;
	struct pt_buf out = { 0 };
	const char *vars[4] = { NULL, NULL, NULL, NULL };
	char *line;
	size_t i, n;

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
	fz_close(&c);
	return 0;
}
