/*
 * fuzz-path.c - the path resolver: pt_path_compile and pt_path_resolve,
 * and mapping parameters (pt_mapping_compile, pt_param_resolve).
 *
 * Input: lines.
 *	1: a path (bytes up to the newline; NUL bytes included)
 *	2: a mapping object as JSON ({"event_type", "action", "params"})
 *	3..: a JSON document to resolve against (the body); when it is
 *	   absent or no JSON, a fixed document is used
 * Every path is resolved against the body and a fixed header set, and
 * every configured parameter of the mapping is resolved too.
 */
#include "config.h"

#include <string.h>

#include "json.h"
#include "mapping.h"
#include "path.h"
#include "fuzz.h"

static const char fixed_body[] =
    "{\"type\":\"task.assigned\",\"id\":\"e1\",\"n\":42,\"f\":1.5,"
    "\"t\":true,\"z\":null,\"data\":{\"task_id\":\"t1\",\"assigned_to\":"
    "[\"u1\",{\"id\":\"u2\",\"email\":\"b@example.com\"}],\"tenant\":\"acme\","
    "\"traits\":{\"name\":\"Ann\",\"email\":\"a@example.com\",\"plan\":"
    "\"pro\"},\"items\":[[1,2],[3,[4,5]]],\"\":\"empty key\"},"
    "\"batch\":[{\"type\":\"track\",\"event\":\"Order Completed\"},"
    "{\"type\":\"identify\",\"userId\":\"u1\"}]}";

static pt_json *body_fixed, *headers;

static void
init(void)
{
	struct pt_json_error jerr;

	if (pt_json_parse(fixed_body, strlen(fixed_body), PT_JSON_MAX_DEPTH,
	    &body_fixed, &jerr) != PT_OK)
		abort();
	if ((headers = pt_json_new_object()) == NULL ||
	    pt_json_set(headers, "x-event-type", pt_json_new_cstr("h.type")) !=
	    PT_OK ||
	    pt_json_set(headers, "content-type",
	    pt_json_new_cstr("application/json")) != PT_OK ||
	    pt_json_set(headers, "x-id", pt_json_new_cstr("42")) != PT_OK)
		abort();
}

static void
resolve_path(const struct pt_path *p, const pt_json *body)
{
	/* The body stands in for a preprocess result too. */
	struct pt_roots roots = { body, headers, body };
	char why[200];
	pt_json *v;
	enum pt_path_res r;

	r = pt_path_resolve(p, &roots, &v, why, sizeof(why));
	FZ_ASSERT(r == PT_PATH_FOUND || (why[0] != '\0' && v == NULL),
	    "no reason for a failed resolution");
	/* A zero-length reason buffer must be left alone. */
	(void)pt_path_resolve(p, &roots, &v, NULL, 0);
	(void)pt_path_resolve(p, &roots, &v, why, 1);
}

static void
resolve_param(const struct pt_param *p, const pt_json *body)
{
	struct pt_roots roots = { body, headers, NULL };
	char why[200];
	pt_json *v = NULL;
	enum pt_path_res r;

	why[0] = '\0';
	r = pt_param_resolve(p, &roots, &v, why, sizeof(why));
	if (r == PT_PATH_FOUND)
		pt_json_put(v);
	else
		FZ_ASSERT(v == NULL, "value on failure");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_json_error jerr;
	struct pt_mapping m;
	struct pt_path *p = NULL;
	struct fz_cur c;
	pt_json *mdoc = NULL, *body = NULL;
	const char *msg = NULL;
	char *line, *rest, err[512];
	size_t n, i, j;

	if (headers == NULL)
		init();
	fz_open(&c, data, size);
	if ((line = fz_line(&c, &n)) == NULL)
		goto out;
	if (pt_path_compile(line, n, &p, &msg) == PT_OK) {
		FZ_ASSERT(p != NULL && p->text != NULL &&
		    memcmp(p->text, line, n) == 0, "path text differs");
		for (i = 0; i < p->nsegs; i++)
			FZ_ASSERT(p->segs[i].text_end <= n, "segment end past "
			    "the text");
	} else
		FZ_ASSERT(p == NULL && msg != NULL, "no message for a bad path");

	/* The document: the rest of the input after the mapping line. */
	line = fz_line(&c, &n);
	rest = fz_rest(&c, &j);
	if (j == 0 || pt_json_parse(rest, j, PT_JSON_MAX_DEPTH, &body, &jerr) !=
	    PT_OK)
		body = pt_json_ref(body_fixed);
	if (p != NULL) {
		resolve_path(p, body);
		resolve_path(p, body_fixed);
		resolve_path(p, NULL);
	}

	if (line != NULL && pt_json_parse(line, n, PT_JSON_MAX_DEPTH, &mdoc,
	    &jerr) == PT_OK) {
		memset(&m, 0, sizeof(m));
		err[0] = '\0';
		if (pt_mapping_compile(mdoc, &m, err, sizeof(err)) == PT_OK) {
			for (i = 0; i < PT_MAX_PARAMS; i++) {
				if (m.params[i].kind == PT_P_NONE)
					continue;
				resolve_param(&m.params[i], body);
				resolve_param(&m.params[i], NULL);
			}
		} else
			FZ_ASSERT(err[0] != '\0', "no message for a bad mapping");
		pt_mapping_clear(&m);
	}
out:
	pt_json_put(mdoc);
	pt_json_put(body);
	pt_path_free(p);
	fz_close(&c);
	return 0;
}
