/*
 * test-form.c - application/x-www-form-urlencoded bodies (form.c): the
 * WHATWG splitting and decoding, repeated names, JSON fields, the strict
 * refusals (bad escapes, invalid UTF-8, NUL in a name) and the bounds.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "form.h"
#include "json.h"
#include "tap.h"

static const char *const slack[] = { "payload" };

static const struct {
	const char	*desc;
	const char	*body;
	int		 json;		/* use slack[] as the JSON fields */
	const char	*want;		/* JSON text of the object, or NULL */
	const char	*code;		/* the error code when "want" is NULL */
	size_t		 offset;	/* and its offset */
} cases[] = {
	{ "empty body", "", 0, "{}", NULL, 0 },
	{ "one field", "a=1", 0, "{\"a\":\"1\"}", NULL, 0 },
	{ "a name without =", "a", 0, "{\"a\":\"\"}", NULL, 0 },
	{ "an empty value", "a=", 0, "{\"a\":\"\"}", NULL, 0 },
	{ "an empty name", "=b", 0, "{\"\":\"b\"}", NULL, 0 },
	{ "a=&=b", "a=&=b", 0, "{\"a\":\"\",\"\":\"b\"}", NULL, 0 },
	{ "only the first = splits", "a=b=c", 0, "{\"a\":\"b=c\"}", NULL, 0 },
	{ "; is not a separator", "a=1;b=2", 0, "{\"a\":\"1;b=2\"}", NULL, 0 },
	{ "empty fields are skipped", "&&a=1&&b=2&", 0,
	  "{\"a\":\"1\",\"b\":\"2\"}", NULL, 0 },
	{ "only separators", "&&&", 0, "{}", NULL, 0 },
	{ "a repeated name is an array in order", "a=3&a=1&a=2", 0,
	  "{\"a\":[\"3\",\"1\",\"2\"]}", NULL, 0 },
	{ "repeats around another name", "a=1&b=x&a=2", 0,
	  "{\"a\":[\"1\",\"2\"],\"b\":\"x\"}", NULL, 0 },
	{ "+ is a space in names and values", "a+b=c+d", 0,
	  "{\"a b\":\"c d\"}", NULL, 0 },
	{ "%2B is a plus, %20 a space", "a=%2B%20", 0, "{\"a\":\"+ \"}", NULL,
	  0 },
	{ "escaped & and =", "a=x%26y%3Dz", 0, "{\"a\":\"x&y=z\"}", NULL, 0 },
	{ "escaped UTF-8, upper case hex", "k=%C3%A9t%C3%A9", 0,
	  "{\"k\":\"\xc3\xa9t\xc3\xa9\"}", NULL, 0 },
	{ "escaped UTF-8, lower case hex", "k=%e2%82%ac", 0,
	  "{\"k\":\"\xe2\x82\xac\"}", NULL, 0 },
	{ "raw UTF-8", "k=\xc3\xa9", 0, "{\"k\":\"\xc3\xa9\"}", NULL, 0 },
	{ "a NUL in a value is kept", "a=x%00y", 0, "{\"a\":\"x\\u0000y\"}",
	  NULL, 0 },
	{ "% at the end", "a=%", 0, NULL, "invalid_form", 2 },
	{ "% with one digit", "a=%4", 0, NULL, "invalid_form", 2 },
	{ "% with non-hex digits", "a=%zz", 0, NULL, "invalid_form", 2 },
	{ "a bad escape in a name", "ok=1&%g1=x", 0, NULL, "invalid_form", 5 },
	{ "a bad escape in a later value", "a=1&b=%zz", 0, NULL, "invalid_form",
	  6 },
	{ "invalid UTF-8 after decoding", "a=%FF", 0, NULL, "invalid_utf8", 0 },
	{ "a truncated UTF-8 sequence", "a=1&b=%C3", 0, NULL, "invalid_utf8",
	  4 },
	{ "a UTF-16 surrogate", "a=%ED%A0%80", 0, NULL, "invalid_utf8", 0 },
	{ "invalid UTF-8 in a name", "%C3=x", 0, NULL, "invalid_utf8", 0 },
	{ "raw invalid UTF-8", "a=\xff", 0, NULL, "invalid_utf8", 0 },
	{ "a NUL in a name", "a%00b=1", 0, NULL, "invalid_form", 0 },
	{ "a JSON field is parsed",
	  "payload=%7B%22type%22%3A%22block_actions%22%7D&x=1", 1,
	  "{\"payload\":{\"type\":\"block_actions\"},\"x\":\"1\"}", NULL, 0 },
	{ "a JSON field with + as spaces",
	  "payload=%7B%22a%22+%3A+%5B1%2C+2%5D%7D", 1,
	  "{\"payload\":{\"a\":[1,2]}}", NULL, 0 },
	{ "an undeclared field stays text", "payload=%7B%7D", 0,
	  "{\"payload\":\"{}\"}", NULL, 0 },
	{ "a repeated JSON field", "payload=1&payload=%22x%22", 1,
	  "{\"payload\":[1,\"x\"]}", NULL, 0 },
	{ "a JSON field holding null", "payload=null", 1, "{\"payload\":null}",
	  NULL, 0 },
	{ "a JSON field that is not JSON", "x=1&payload=nope", 1, NULL,
	  "invalid_json", 4 },
	{ "an empty JSON field", "payload=", 1, NULL, "invalid_json", 0 },
	{ "a JSON field with a duplicate key",
	  "payload=%7B%22a%22%3A1%2C%22a%22%3A2%7D", 1, NULL, "duplicate_key",
	  0 },
	{ "a JSON field with trailing bytes", "payload=%7B%7Dx", 1, NULL,
	  "invalid_json", 0 },
};

/* "n" fields "f0=v&f1=v&..." (or all named "a"). */
static char *
many(size_t n, int same)
{
	struct pt_buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		if (same)
			pt_buf_printf(&b, "%sa=%zu", i ? "&" : "", i);
		else
			pt_buf_printf(&b, "%sf%zu=v", i ? "&" : "", i);
	return pt_buf_take(&b, NULL);
}

/* "name=value" with a name of "nlen" and a value of "vlen" bytes. */
static char *
sized(size_t nlen, size_t vlen, size_t *len)
{
	char *s = pt_malloc(nlen + vlen + 2);

	memset(s, 'n', nlen);
	s[nlen] = '=';
	memset(s + nlen + 1, 'v', vlen);
	s[nlen + vlen + 1] = '\0';
	*len = nlen + vlen + 1;
	return s;
}

static void
bound(const char *desc, const char *body, size_t len, const char *code)
{
	struct pt_form_error err;
	pt_json *doc = NULL;
	enum pt_err rc;

	rc = pt_form_parse((const uint8_t *)body, len, NULL, 0, &doc, &err);
	if (code == NULL)
		ok(rc == PT_OK && doc != NULL, "%s: accepted", desc);
	else {
		ok(rc == PT_EINVAL && doc == NULL, "%s: refused", desc);
		is_str(pt_form_err_code(&err), code, "%s: %s", desc, code);
	}
	pt_json_put(doc);
}

int
main(void)
{
	struct pt_form_error err;
	struct pt_json_iter it = { 0 };
	pt_json *doc, *want;
	const char *k;
	pt_json *v;
	char *s;
	size_t i, len;
	enum pt_err rc;

	for (i = 0; i < nitems(cases); i++) {
		doc = NULL;
		rc = pt_form_parse((const uint8_t *)cases[i].body,
		    strlen(cases[i].body), cases[i].json ? slack : NULL,
		    cases[i].json ? nitems(slack) : 0, &doc, &err);
		if (cases[i].want != NULL) {
			want = pt_json_parse_trusted(cases[i].want,
			    strlen(cases[i].want));
			ok(rc == PT_OK && pt_json_equal(doc, want), "%s: %s",
			    cases[i].desc, cases[i].want);
			if (rc != PT_OK)
				diag("refused: %s", err.message);
			else if (!pt_json_equal(doc, want))
				diag("got %s", pt_json_text(doc, PT_JSON_PLAIN,
				    NULL));
			pt_json_put(want);
		} else {
			ok(rc == PT_EINVAL && doc == NULL, "%s: refused",
			    cases[i].desc);
			is_str(pt_form_err_code(&err), cases[i].code,
			    "%s: code %s", cases[i].desc, cases[i].code);
			is_int(err.offset, cases[i].offset, "%s: at byte %zu",
			    cases[i].desc, cases[i].offset);
			ok(err.message[0] != '\0' &&
			    pt_utf8_valid(err.message, strlen(err.message)),
			    "%s: a message (%s)", cases[i].desc, err.message);
		}
		pt_json_put(doc);
	}

	/* Names keep the order of their first field. */
	rc = pt_form_parse((const uint8_t *)"z=1&a=2&z=3&m=4", 15, NULL, 0,
	    &doc, &err);
	s = NULL;
	{
		struct pt_buf order = { 0 };

		while (rc == PT_OK && pt_json_iter_next(doc, &it, &k, &v))
			pt_buf_adds(&order, k);
		is_str(order.data, "zam", "names in the order first seen");
		pt_buf_free(&order);
	}
	pt_json_put(doc);

	/* Bounds. */
	s = many(PT_FORM_MAX_FIELDS, 0);
	bound("1000 fields", s, strlen(s), NULL);
	pt_free(s);
	s = many(PT_FORM_MAX_FIELDS + 1, 0);
	bound("1001 fields", s, strlen(s), "too_many_fields");
	pt_free(s);
	s = many(PT_FORM_MAX_FIELDS + 1, 1);
	bound("1001 values of one name", s, strlen(s), "too_many_fields");
	pt_free(s);
	{
		struct pt_buf b = { 0 };

		for (i = 0; i < 5000; i++)
			pt_buf_addc(&b, '&');
		pt_buf_adds(&b, "a=1");
		bound("5000 empty fields are not fields", b.data, b.len, NULL);
		pt_buf_free(&b);
	}
	s = sized(PT_FORM_MAX_NAME, 1, &len);
	bound("a 256-byte name", s, len, NULL);
	pt_free(s);
	s = sized(PT_FORM_MAX_NAME + 1, 1, &len);
	bound("a 257-byte name", s, len, "field_too_large");
	pt_free(s);
	s = sized(1, PT_FORM_MAX_VALUE, &len);
	bound("a 1 MiB value", s, len, NULL);
	pt_free(s);
	s = sized(1, PT_FORM_MAX_VALUE + 1, &len);
	bound("a value over 1 MiB", s, len, "field_too_large");
	pt_free(s);
	/* The bound is on the decoded size: 3 raw bytes per escape. */
	{
		struct pt_buf b = { 0 };

		pt_buf_adds(&b, "a=");
		for (i = 0; i < PT_FORM_MAX_VALUE; i++)
			pt_buf_adds(&b, "%41");
		bound("a 1 MiB value written as escapes", b.data, b.len, NULL);
		pt_buf_free(&b);
	}

	/* The splitter and decoder the Twilio signature shares. */
	{
		struct pt_form_field f;
		char out[16];
		size_t pos = 0, n, bad = 0;
		const char *body = "&x+y=%41b&&c";

		ok(pt_form_next(body, strlen(body), &pos, &f) && f.offset == 1 &&
		    f.nlen == 3 && memcmp(f.name, "x+y", 3) == 0 &&
		    f.vlen == 4 && memcmp(f.value, "%41b", 4) == 0,
		    "pt_form_next: the first field, raw");
		ok(pt_form_next(body, strlen(body), &pos, &f) && f.offset == 11 &&
		    f.nlen == 1 && f.vlen == 0, "pt_form_next: a field without =");
		ok(!pt_form_next(body, strlen(body), &pos, &f),
		    "pt_form_next: then the end");
		ok(pt_form_decode("x+%41%2b", 8, out, &n, &bad) == 0 && n == 4 &&
		    memcmp(out, "x A+", 4) == 0, "pt_form_decode: + and escapes");
		ok(pt_form_decode("ab%4", 4, out, &n, &bad) == -1 && bad == 2,
		    "pt_form_decode: a short escape, at its offset");
	}
	return tap_done();
}
