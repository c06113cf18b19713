/*
 * test-path.c - path compilation and resolution, table-driven.
 */
#include "config.h"

#include <string.h>

#include "json.h"
#include "path.h"
#include "tap.h"

static const char body_text[] =
    "{\"type\":\"task.assigned\",\"data\":{\"assigned_to\":\"u1\","
    "\"items\":[{\"id\":\"i0\"},{\"id\":\"i1\",\"tags\":[\"a\",\"b\"]}],"
    "\"count\":3,\"empty\":null,\"obj\":{\"k\":true},\"str\":\"text\"},"
    "\"body\":{\"x\":1},\"a.b\":2,\"preprocess\":7}";
static const char headers_text[] =
    "{\"x-request-id\":\"req-9\",\"svix-id\":\"msg_1\"}";
static const char pre_text[] =
    "{\"customer\":\"cus_1\",\"tags\":[\"x\",\"y\"]}";

enum { FOUND = PT_PATH_FOUND, MISSING = PT_PATH_MISSING,
    MISMATCH = PT_PATH_MISMATCH, BAD = 99 };

static const struct {
	const char	*path;
	int		 want;
	const char	*value;	/* JSON text of the result, or a "why" part */
} cases[] = {
	{ "type", FOUND, "\"task.assigned\"" },
	{ "body.type", FOUND, "\"task.assigned\"" },
	{ "data.assigned_to", FOUND, "\"u1\"" },
	{ "body.data.assigned_to", FOUND, "\"u1\"" },
	{ "data.items[0].id", FOUND, "\"i0\"" },
	{ "data.items[1].tags[1]", FOUND, "\"b\"" },
	{ "data.items[1]", FOUND, "{\"id\":\"i1\",\"tags\":[\"a\",\"b\"]}" },
	{ "data.obj", FOUND, "{\"k\":true}" },
	{ "data.count", FOUND, "3" },
	{ "data.empty", FOUND, "null" },
	{ "body", FOUND, NULL },		/* the whole body */
	{ "body.body.x", FOUND, "1" },		/* a key named "body" */
	{ "headers.x-request-id", FOUND, "\"req-9\"" },
	{ "headers.X-Request-ID", FOUND, "\"req-9\"" },
	{ "headers.svix-id", FOUND, "\"msg_1\"" },
	{ "headers", FOUND, NULL },
	{ "preprocess.customer", FOUND, "\"cus_1\"" },
	{ "preprocess.tags[1]", FOUND, "\"y\"" },
	{ "preprocess", FOUND, NULL },
	{ "body.preprocess", FOUND, "7" },	/* a body key "preprocess" */
	{ "preprocess.nope", MISSING, "preprocess.nope is missing" },
	{ "preprocess.customer.x", MISMATCH, "a string, not an object" },
	{ "Type", MISSING, "Type is missing" },	/* case-sensitive */
	{ "data.nope", MISSING, "data.nope is missing" },
	{ "data.items[5]", MISSING, "past the end" },
	{ "headers.x-missing", MISSING, "missing" },
	{ "data.str.k", MISMATCH, "data.str is a string, not an object" },
	{ "data.obj[0]", MISMATCH, "data.obj is an object, not an array" },
	{ "data.items.id", MISMATCH, "data.items is an array, not an object" },
	{ "data.empty.x", MISMATCH, "data.empty is null" },
	{ "data.count[0]", MISMATCH, "an integer, not an array" },
	{ "", BAD, "empty path" },
	{ "data..x", BAD, "empty key" },
	{ "data.", BAD, "ends with" },
	{ ".data", BAD, "empty key" },
	{ "items[", BAD, "bad array index" },
	{ "items[]", BAD, "bad array index" },
	{ "items[-1]", BAD, "bad array index" },
	{ "items[01]", BAD, "leading zero" },
	{ "items[0]x", BAD, "after ']'" },
	{ "items]", BAD, "after ']'" },
	{ "headers.a.b", BAD, "one name" },
	{ "headers.a[0]", BAD, "one name" },
	{ "[0]", BAD, "empty key" },
};

int
main(void)
{
	struct pt_json_error e;
	struct pt_path *p;
	struct pt_roots r, none = { NULL, NULL, NULL };
	pt_json *body, *headers, *pre, *v;
	const char *msg;
	char why[200];
	size_t i;
	int res;

	if (pt_json_parse(body_text, strlen(body_text), 64, &body, &e) != PT_OK ||
	    pt_json_parse(headers_text, strlen(headers_text), 64, &headers, &e) !=
	    PT_OK || pt_json_parse(pre_text, strlen(pre_text), 64, &pre, &e) !=
	    PT_OK) {
		printf("Bail out! fixture does not parse: %s\n", e.message);
		return 1;
	}
	r.body = body;
	r.headers = headers;
	r.preprocess = pre;
	for (i = 0; i < nitems(cases); i++) {
		msg = NULL;
		if (pt_path_compile(cases[i].path, strlen(cases[i].path), &p,
		    &msg) != PT_OK) {
			ok(cases[i].want == BAD && msg != NULL &&
			    strstr(msg, cases[i].value) != NULL,
			    "\"%s\" does not compile: %s", cases[i].path,
			    msg ? msg : "?");
			continue;
		}
		if (cases[i].want == BAD) {
			ok(0, "\"%s\" should not compile", cases[i].path);
			pt_path_free(p);
			continue;
		}
		res = pt_path_resolve(p, &r, &v, why, sizeof(why));
		if (cases[i].want != FOUND)
			ok(res == cases[i].want && strstr(why, cases[i].value),
			    "\"%s\": %s", cases[i].path, why);
		else if (cases[i].value == NULL)
			ok(res == FOUND && (v == body || v == headers ||
			    v == pre),
			    "\"%s\" is the whole namespace", cases[i].path);
		else
			ok(res == FOUND && strcmp(pt_json_text(v, PT_JSON_PLAIN,
			    NULL) ? pt_json_text(v, PT_JSON_PLAIN, NULL) : "null",
			    cases[i].value) == 0, "\"%s\" = %s", cases[i].path,
			    cases[i].value);
		pt_path_free(p);
	}
	/* A key holding a dot cannot be addressed: documented limit. */
	pt_path_compile("a.b", 3, &p, &msg);
	ok(pt_path_resolve(p, &r, &v, why, sizeof(why)) ==
	    PT_PATH_MISSING, "\"a.b\" means a -> b, not the key \"a.b\"");
	pt_path_free(p);
	/* No script ran: a preprocess path is missing, and says why. */
	pt_path_compile("preprocess.customer", 19, &p, &msg);
	ok(pt_path_resolve(p, &none, &v, why, sizeof(why)) ==
	    PT_PATH_MISSING && strstr(why, "no preprocess script ran"),
	    "preprocess path without a script: %s", why);
	pt_path_free(p);
	pt_json_put(pre);
	pt_json_put(body);
	pt_json_put(headers);
	return tap_done();
}
