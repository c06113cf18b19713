/*
 * fuzz-retl.c - reverse ETL calls: pt_retl_route and pt_retl_docs.
 *
 * Input: "METHOD SUBPATH" on the first line ("PUT /v1/users/u%201"), then
 * the body as JSON.  An unparsable body is tried as an empty object.
 * Checks: 405 names the allowed methods; a routed call has NUL-terminated
 * identifiers; documents are a non-empty array of objects with a "type".
 */
#include "config.h"

#include <string.h>

#include "json.h"
#include "retl.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_retl_route r;
	struct pt_json_error jerr;
	struct fz_cur c;
	pt_json *body = NULL, *docs, *d;
	const char *allow = NULL, *method;
	char *line, *sp, *sub, *rest, why[300];
	size_t n, i;
	int st;

	fz_open(&c, data, size);
	if ((line = fz_line(&c, &n)) == NULL)
		goto out;
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		method = line;
		sub = sp + 1;
	} else {
		method = "PUT";
		sub = line;
	}
	why[0] = '\0';
	st = pt_retl_route(sub, method, &r, &allow, why, sizeof(why));
	FZ_ASSERT(st == 0 || st == 404 || st == 405, "status %d", st);
	if (st == 404) {
		FZ_ASSERT(why[0] != '\0', "404 without a reason");
		goto out;
	}
	FZ_ASSERT(allow != NULL, "no Allow for %d", st);
	FZ_ASSERT(memchr(r.a, '\0', sizeof(r.a)) != NULL &&
	    memchr(r.b, '\0', sizeof(r.b)) != NULL, "ids not terminated");
	if (st != 0)
		goto out;
	rest = fz_rest(&c, &n);
	if (pt_json_parse(rest, n, PT_JSON_MAX_DEPTH, &body, &jerr) != PT_OK ||
	    pt_json_type(body) != PT_J_OBJECT) {
		pt_json_put(body);
		if ((body = pt_json_new_object()) == NULL)
			abort();
	}
	(void)pt_retl_needs_body(&r);
	if ((docs = pt_retl_docs(&r, body, why, sizeof(why))) == NULL) {
		FZ_ASSERT(why[0] != '\0', "no documents and no reason");
		goto out;
	}
	FZ_ASSERT(pt_json_type(docs) == PT_J_ARRAY && pt_json_len(docs) > 0,
	    "no documents");
	for (i = 0; i < pt_json_len(docs); i++) {
		d = pt_json_index(docs, i);
		FZ_ASSERT(pt_json_type(d) == PT_J_OBJECT &&
		    pt_json_str(pt_json_get(d, "type"), NULL) != NULL,
		    "document %zu has no type", i);
	}
	pt_json_put(docs);
out:
	pt_json_put(body);
	fz_close(&c);
	return 0;
}
