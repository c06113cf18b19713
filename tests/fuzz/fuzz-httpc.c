/*
 * fuzz-httpc.c - what httpc.c makes of text it is given: header lines
 * (pt_httpc_check_headers, from config and the command line) and
 * Standard Webhooks signing (pt_httpc_sign_std) of any secret, id and
 * body.  No request is sent.
 *
 * Input: the whole input is tried as header lines; then it is split at
 * the first two "\n--\n" into secret, id and body for signing.
 * Checks: an error names the line without quoting more than 64 bytes of
 * it and is terminated; accepted lines each have a name, a colon and no
 * CR, LF or NUL; signing that succeeds gives exactly the three header
 * lines, in the form pt_httpc_check_headers accepts, the id as given,
 * and not the secret (when longer than 16 bytes, a chance match aside).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "httpc.h"
#include "fuzz.h"

static void
check_lines(const char *p, size_t n)
{
	char err[256];
	const char *end = p + n, *nl, *colon;

	memset(err, 'x', sizeof(err));
	if (pt_httpc_check_headers(p, n, err, sizeof(err)) != PT_OK) {
		FZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL,
		    "error not terminated");
		return;
	}
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		colon = memchr(p, ':', (size_t)(nl - p));
		FZ_ASSERT(colon != NULL && colon > p, "accepted a line without "
		    "a name: \"%.*s\"", (int)(nl - p), p);
		FZ_ASSERT(memchr(p, '\r', (size_t)(nl - p)) == NULL &&
		    memchr(p, '\0', (size_t)(nl - p)) == NULL,
		    "accepted a control byte");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_buf out = { 0 };
	struct fz_cur c;
	char *secret, *id, *body;
	size_t slen, idlen, blen;
	int lines = 0;
	const char *p;

	fz_open(&c, data, size);
	check_lines(c.buf, size);

	secret = fz_part(&c, "\n--\n", &slen);
	id = fz_part(&c, "\n--\n", &idlen);
	body = fz_rest(&c, &blen);
	if (id != NULL)
		idlen = strlen(id);	/* the API takes the id as a C string */
	if (secret != NULL && id != NULL && body != NULL &&
	    pt_httpc_sign_std((const uint8_t *)secret, slen, id, 1700000000,
	    body, blen, &out) == PT_OK && !out.failed) {
		FZ_ASSERT(pt_httpc_check_headers(out.data, out.len, NULL, 0) ==
		    PT_OK, "signed lines refused: %s", out.data);
		for (p = out.data; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		FZ_ASSERT(lines == 3, "%d lines: %s", lines, out.data);
		FZ_ASSERT(strstr(out.data, "webhook-timestamp: 1700000000\n") &&
		    strstr(out.data, "webhook-signature: v1,"),
		    "not Standard Webhooks: %s", out.data);
		FZ_ASSERT((p = strstr(out.data, "webhook-id: ")) != NULL &&
		    strncmp(p + 12, id, idlen) == 0 && p[12 + idlen] == '\n',
		    "the id changed: %s", out.data);
		/* (A secret that is also the id's text is shown as the id.) */
		FZ_ASSERT(slen <= 16 || memmem(id, idlen, secret, slen) ||
		    !memmem(out.data, out.len, secret, slen),
		    "the secret is in the lines");
	}
	pt_buf_free(&out);
	fz_close(&c);
	return 0;
}
