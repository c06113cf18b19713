/*
 * fuzz-filter.c - mapping filters: pt_filter_compile, pt_filter_match and
 * the explanations of a non-match.
 *
 * Input: lines.
 *	1: a filter document (JSON); when it does not compile as it is, it
 *	   is also tried as the body's filter, {"body": <line 1>}
 *	2..: the event: an object with "body"/"headers"/"preprocess" is
 *	   matched as it is, any other JSON as the body of an event with a
 *	   fixed header set; when it is absent or no JSON, a fixed event
 * Every filter that compiles is matched against the event and the fixed
 * one.  Besides the sanitizers (leaks included) it checks: a refused
 * filter comes with a message and a pointer; a non-match names a
 * condition and a reason; the explanation's length is what its text
 * needs; matching is deterministic; and {"$not": F} answers the opposite
 * of F unless the match gave up (budget, depth).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "filter.h"
#include "json.h"
#include "fuzz.h"

static const char fixed_event[] =
    "{\"body\":{\"type\":\"order.created\",\"id\":\"e1\",\"n\":42,\"f\":1.5,"
    "\"t\":true,\"z\":null,\"big\":18446744073709551615,\"neg\":-1e300,"
    "\"data\":{\"tags\":[\"gift\",\"x\"],\"items\":[{\"sku\":\"a\","
    "\"qty\":2},{\"sku\":\"b\",\"qty\":[1,[2]]}],\"s\":\"some-text\","
    "\"\":\"empty key\",\"a/b~c\":0}},"
    "\"headers\":{\"x-event\":\"order\",\"content-type\":"
    "\"application/json\"},"
    "\"preprocess\":{\"tier\":\"gold\",\"score\":7}}";

static pt_json *event_fixed, *headers_fixed;

static void
init(void)
{
	struct pt_json_error jerr;

	if (pt_json_parse(fixed_event, strlen(fixed_event), PT_JSON_MAX_DEPTH,
	    &event_fixed, &jerr) != PT_OK)
		abort();
	headers_fixed = pt_json_get(event_fixed, "headers");
}

/* Did the match give up rather than decide? */
static int
gave_up(const struct pt_filter_why *w)
{
	return w->reason != NULL && (strstr(w->reason, "more work") != NULL ||
	    strstr(w->reason, "too deeply") != NULL);
}

static int
match(const struct pt_filter *f, const pt_json *event,
    struct pt_filter_why *w)
{
	char text[256], ptr[256];
	size_t n, p;
	int r;

	r = pt_filter_match(f, event, w);
	FZ_ASSERT(r == 0 || r == 1, "match returned %d", r);
	if (r == 1) {
		FZ_ASSERT(w->node == NULL && w->reason == NULL,
		    "a reason for a match");
		return r;
	}
	FZ_ASSERT(w->node != NULL && w->reason != NULL, "no reason");
	n = pt_filter_why_text(w, text, sizeof(text));
	p = pt_filter_why_pointer(w, ptr, sizeof(ptr));
	FZ_ASSERT(n == pt_filter_why_text(w, NULL, 0), "lengths differ");
	FZ_ASSERT(n < sizeof(text) ? strlen(text) == n :
	    strlen(text) == sizeof(text) - 1, "text length");
	FZ_ASSERT(p == 0 || ptr[0] == '/', "pointer \"%s\"", ptr);
	FZ_ASSERT(p < n, "no reason after the pointer");
	if (n < sizeof(text))
		FZ_ASSERT(strncmp(text, ptr, p) == 0, "text does not start "
		    "with the pointer");
	FZ_ASSERT(pt_filter_match(f, event, NULL) == 0, "not deterministic");
	return r;
}

/* "f" (compiled from "doc") and its negation against "event". */
static void
check(const struct pt_filter *f, const pt_json *doc, const pt_json *event)
{
	struct pt_filter_why w, wn;
	struct pt_filter *nf = NULL;
	pt_json *ndoc;
	char ptr[128], err[256];
	int r, rn;

	r = match(f, event, &w);
	if ((ndoc = pt_json_new_object()) == NULL ||
	    pt_json_set_copy(ndoc, "$not", doc) != PT_OK)
		abort();
	if (pt_filter_compile(ndoc, &nf, ptr, sizeof(ptr), err, sizeof(err)) ==
	    PT_OK) {
		rn = match(nf, event, &wn);
		if (!gave_up(&w) && !gave_up(&wn))
			FZ_ASSERT(rn == !r, "$not answers %d like the filter",
			    rn);
		pt_filter_free(nf);
	}
	pt_json_put(ndoc);
}

/* Compile "doc"; on success match it against both events. */
static int
try_filter(const pt_json *doc, const pt_json *event)
{
	struct pt_filter *f = (struct pt_filter *)&f;
	char ptr[128], err[256];
	enum pt_err rc;

	ptr[0] = err[0] = 'X';
	rc = pt_filter_compile(doc, &f, ptr, sizeof(ptr), err, sizeof(err));
	if (rc != PT_OK) {
		FZ_ASSERT(rc == PT_EINVAL && f == NULL, "refused with %d", rc);
		FZ_ASSERT(err[0] != '\0' && err[0] != 'X', "no message");
		FZ_ASSERT(ptr[0] == '\0' || ptr[0] == '/', "pointer \"%s\"",
		    ptr);
		return 0;
	}
	FZ_ASSERT(f != NULL, "no filter");
	if (event != NULL)
		check(f, doc, event);
	check(f, doc, event_fixed);
	pt_filter_free(f);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_json_error jerr;
	struct fz_cur c;
	pt_json *doc = NULL, *wrapped = NULL, *ev = NULL, *event = NULL;
	char *line, *rest;
	size_t n, j;

	if (event_fixed == NULL)
		init();
	fz_open(&c, data, size);
	if ((line = fz_line(&c, &n)) == NULL ||
	    pt_json_parse(line, n, PT_JSON_MAX_DEPTH, &doc, &jerr) != PT_OK)
		goto out;
	rest = fz_rest(&c, &j);
	if (j > 0 && pt_json_parse(rest, j, PT_JSON_MAX_DEPTH, &ev, &jerr) ==
	    PT_OK) {
		if (pt_json_type(ev) == PT_J_OBJECT &&
		    (pt_json_get_ex(ev, "body", NULL) ||
		    pt_json_get_ex(ev, "headers", NULL) ||
		    pt_json_get_ex(ev, "preprocess", NULL)))
			event = pt_json_ref(ev);
		else if ((event = pt_json_new_object()) == NULL ||
		    pt_json_set_ref(event, "body", ev) != PT_OK ||
		    pt_json_set(event, "headers", pt_json_ref(headers_fixed)) !=
		    PT_OK)
			abort();
	}
	if (!try_filter(doc, event)) {
		if ((wrapped = pt_json_new_object()) == NULL ||
		    pt_json_set_ref(wrapped, "body", doc) != PT_OK)
			abort();
		(void)try_filter(wrapped, event);
	}
out:
	pt_json_put(wrapped);
	pt_json_put(doc);
	pt_json_put(ev);
	pt_json_put(event);
	fz_close(&c);
	return 0;
}
