/*
 * fuzz-form.c - form-encoded bodies: pt_form_parse, pt_form_next,
 * pt_form_decode and pt_body_detect.
 *
 * Input: a form body as a sender would post it.  The first byte picks the
 * JSON fields: odd declares "payload" (as Slack's type does) and "p", even
 * none; the rest is the body.
 * Checks, besides the sanitizers:
 *	- an accepted body is an object whose members are strings (valid
 *	  UTF-8), or arrays of them for a repeated name, or JSON values for a
 *	  declared JSON field; as many values as pt_form_next finds fields;
 *	  its serialisation parses back strictly to an equal value;
 *	- a refused body has an error code and a UTF-8 message, and one of
 *	  the fields (or the field count) really breaks a rule;
 *	- the decoder never grows a field and agrees with the parse.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "form.h"
#include "json.h"
#include "fuzz.h"

static const char *const json_fields[] = { "payload", "p" };

static int
is_json_field(const char *name, size_t n, size_t njson)
{
	size_t i;

	for (i = 0; i < njson; i++)
		if (strlen(json_fields[i]) == n &&
		    memcmp(json_fields[i], name, n) == 0)
			return 1;
	return 0;
}

/* Count the fields and check each one's decoding; 1 if one is bad. */
static int
scan(const char *body, size_t len, size_t *nfields)
{
	struct pt_form_field f;
	size_t pos = 0, n, bad;
	char *out = malloc(len + 1);
	int broken = 0;

	FZ_ASSERT(out != NULL, "malloc");
	*nfields = 0;
	while (pt_form_next(body, len, &pos, &f)) {
		FZ_ASSERT(f.nlen + f.vlen <= len && f.offset < len &&
		    f.name == body + f.offset, "a field outside the body");
		FZ_ASSERT(memchr(f.name, '&', f.nlen) == NULL &&
		    memchr(f.name, '=', f.nlen) == NULL &&
		    memchr(f.value, '&', f.vlen) == NULL, "a field not split");
		FZ_ASSERT(f.nlen + f.vlen > 0 || f.value > f.name,
		    "an empty field");
		(*nfields)++;
		if (pt_form_decode(f.name, f.nlen, out, &n, &bad) < 0) {
			FZ_ASSERT(bad < f.nlen && f.name[bad] == '%',
			    "a bad escape that is no \"%%\"");
			broken = 1;
		} else {
			FZ_ASSERT(n <= f.nlen, "decoding grew a name");
			if (n > PT_FORM_MAX_NAME || memchr(out, '\0', n) != NULL ||
			    !pt_utf8_valid(out, n))
				broken = 1;
		}
		if (pt_form_decode(f.value, f.vlen, out, &n, &bad) < 0)
			broken = 1;
		else {
			FZ_ASSERT(n <= f.vlen, "decoding grew a value");
			if (n > PT_FORM_MAX_VALUE || !pt_utf8_valid(out, n))
				broken = 1;
		}
	}
	free(out);
	return broken;
}

/* The values an accepted body holds; checks their types. */
static size_t
count_values(const pt_json *doc, size_t njson)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *v;
	size_t total = 0, i, n;

	FZ_ASSERT(pt_json_type(doc) == PT_J_OBJECT, "not an object");
	while (pt_json_iter_next(doc, &it, &k, &v)) {
		if (is_json_field(k, strlen(k), njson)) {
			/* A repeated JSON field is an array of its values,
			 * a single one can be an array itself: no count. */
			return (size_t)-1;
		}
		if (pt_json_type(v) == PT_J_ARRAY) {
			FZ_ASSERT(pt_json_len(v) >= 2, "an array of one value");
			for (i = 0; i < pt_json_len(v); i++) {
				s = pt_json_str(pt_json_index(v, i), &n);
				FZ_ASSERT(s != NULL && pt_utf8_valid(s, n),
				    "an element that is no UTF-8 string");
			}
			total += pt_json_len(v);
		} else {
			s = pt_json_str(v, &n);
			FZ_ASSERT(s != NULL && pt_utf8_valid(s, n),
			    "a value that is no UTF-8 string");
			total++;
		}
	}
	return total;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_form_error err;
	struct pt_json_error jerr;
	pt_json *doc = NULL, *back = NULL;
	const char *body, *text;
	size_t len, njson, nfields, nvalues, tlen;
	enum pt_err rc;
	int broken;

	if (size == 0)
		return 0;
	njson = data[0] & 1 ? 2 : 0;
	body = (const char *)data + 1;
	len = size - 1;
	(void)pt_body_detect((const uint8_t *)body, len);

	broken = scan(body, len, &nfields);
	rc = pt_form_parse((const uint8_t *)body, len, json_fields, njson, &doc,
	    &err);
	if (rc == PT_ENOMEM)
		return 0;
	if (rc != PT_OK) {
		FZ_ASSERT(rc == PT_EINVAL && doc == NULL, "rc %d", (int)rc);
		FZ_ASSERT(pt_form_err_code(&err) != NULL &&
		    err.message[0] != '\0' && pt_utf8_valid(err.message,
		    strlen(err.message)), "an error without code or message");
		FZ_ASSERT(broken || nfields > PT_FORM_MAX_FIELDS ||
		    err.code == PT_FORM_JSON, "refused (%s) but every field is "
		    "fine", err.message);
		return 0;
	}
	FZ_ASSERT(!broken && nfields <= PT_FORM_MAX_FIELDS,
	    "accepted a body that breaks a rule");
	nvalues = count_values(doc, njson);
	FZ_ASSERT(nvalues == (size_t)-1 || nvalues == nfields,
	    "%zu values for %zu fields", nvalues, nfields);
	text = pt_json_text(doc, PT_JSON_PLAIN, &tlen);
	FZ_ASSERT(text != NULL, "no serialisation");
	FZ_ASSERT(pt_json_parse(text, tlen, PT_JSON_MAX_DEPTH, &back, &jerr) ==
	    PT_OK && pt_json_equal(doc, back), "does not parse back: %s",
	    jerr.message);
	pt_json_put(back);
	pt_json_put(doc);
	return 0;
}
