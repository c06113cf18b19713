/*
 * test-json.c - the strict JSON parser, table-driven.
 */
#include "config.h"

#include <string.h>

#include "json.h"
#include "tap.h"

static const struct {
	const char	*desc;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	enum pt_jerr	 want;
} cases[] = {
	{ "empty object", "{}", 0, PT_JE_OK },
	{ "bare number", "42", 0, PT_JE_OK },
	{ "bare number, blanks after", "-1.5e3  ", 0, PT_JE_OK },
	{ "bare string", "\"x\"", 0, PT_JE_OK },
	{ "bare literal", "true", 0, PT_JE_OK },
	{ "nested", "{\"a\":[1,2,{\"b\":null}],\"c\":true}", 0, PT_JE_OK },
	{ "white space around", " \t\r\n{\"a\": 1} \n", 0, PT_JE_OK },
	{ "numbers", "[0, -0, 1.5e10, -2E-3, 123456789012345678]", 0, PT_JE_OK },
	{ "escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"]", 0, PT_JE_OK },
	{ "surrogate pair", "[\"\\ud83d\\ude00\"]", 0, PT_JE_OK },
	{ "raw UTF-8", "{\"k\":\"\xe2\x99\xa5 caf\xc3\xa9\"}", 0, PT_JE_OK },
	{ "escaped NUL is valid JSON", "{\"k\":\"a\\u0000b\"}", 0, PT_JE_OK },
	{ "NUL in a key is refused", "{\"a\\u0000b\":1}", 0, PT_JE_SYNTAX },
	{ "same key in different objects", "{\"a\":{\"x\":1},\"b\":{\"x\":2}}",
	  0, PT_JE_OK },
	{ "empty input", "", 0, PT_JE_EMPTY },
	{ "only blanks", "   ", 0, PT_JE_EMPTY },
	{ "truncated object", "{\"a\": 1", 0, PT_JE_SYNTAX },
	{ "truncated string", "{\"a\": \"xy", 0, PT_JE_SYNTAX },
	{ "trailing comma", "{\"a\": 1,}", 0, PT_JE_SYNTAX },
	{ "single quotes", "{'a': 1}", 0, PT_JE_SYNTAX },
	{ "bare word", "{\"a\": tru}", 0, PT_JE_SYNTAX },
	{ "leading zero", "[01]", 0, PT_JE_SYNTAX },
	{ "plus sign", "[+1]", 0, PT_JE_SYNTAX },
	{ "dot without digits", "[1.]", 0, PT_JE_SYNTAX },
	{ "NaN", "[NaN]", 0, PT_JE_SYNTAX },
	{ "comment", "{\"a\":1 /* x */}", 0, PT_JE_SYNTAX },
	{ "raw control char in string", "{\"a\":\"x\ny\"}", 0, PT_JE_SYNTAX },
	{ "raw NUL byte", "{\"a\":\"x\0y\"}", 13, PT_JE_SYNTAX },
	{ "NUL after value", "{}\0", 3, PT_JE_TRAILING },
	{ "bad escape", "[\"\\x41\"]", 0, PT_JE_SYNTAX },
	{ "short \\u", "[\"\\u12\"]", 0, PT_JE_SYNTAX },
	{ "lone high surrogate", "[\"\\ud800\"]", 0, PT_JE_UTF8 },
	{ "lone low surrogate", "[\"\\udc00x\"]", 0, PT_JE_UTF8 },
	{ "invalid UTF-8 byte", "{\"a\":\"\xff\"}", 0, PT_JE_UTF8 },
	{ "overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", 0, PT_JE_UTF8 },
	{ "UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0, PT_JE_UTF8 },
	{ "truncated UTF-8", "{\"a\":\"\xe2\x99\"}", 0, PT_JE_UTF8 },
	{ "above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", 0, PT_JE_UTF8 },
	{ "duplicate key", "{\"a\":1,\"a\":2}", 0, PT_JE_DUPKEY },
	{ "duplicate key by escape", "{\"a\":1,\"\\u0061\":2}", 0, PT_JE_DUPKEY },
	{ "duplicate key nested", "{\"o\":{\"k\":1,\"j\":2,\"k\":3}}", 0,
	  PT_JE_DUPKEY },
	{ "two values", "{} {}", 0, PT_JE_TRAILING },
	{ "garbage after", "{\"a\":1}x", 0, PT_JE_TRAILING },
};

/*
 * Where an error is reported: the byte offset, and the line and column an
 * editor shows (lines end at "\n", so CRLF counts once; a column counts
 * characters, not bytes, from 1).
 */
static const struct {
	const char	*desc;
	const char	*text;
	enum pt_jerr	 want;
	size_t		 offset, line, column;
	const char	*message;	/* the message holds this */
} positions[] = {
	{ "first byte", "x", PT_JE_SYNTAX, 0, 1, 1, "at line 1, column 1 "
	  "(byte 0)" },
	{ "a duplicate key at its own place", "{\"a\":1,\"a\":2}",
	  PT_JE_DUPKEY, 7, 1, 8, "duplicate key \"a\" at line 1, column 8" },
	{ "a duplicate key deep inside", "{\n  \"o\": {\n    \"p\": [1, {\n"
	  "      \"k\": 1,\n      \"j\": 2,\n      \"k\": 3\n    }]\n  }\n}\n",
	  PT_JE_DUPKEY, 60, 6, 7, "duplicate key \"k\" at line 6, column 7 "
	  "(byte 60)" },
	{ "a duplicate key before a later error", "{\"a\":1,\"a\":{\"b\":1,"
	  "\"b\":2}}", PT_JE_DUPKEY, 7, 1, 8, "duplicate key \"a\"" },
	{ "a duplicate key by escape", "{\"ab\":1,\n\"\\u0061b\":2}",
	  PT_JE_DUPKEY, 9, 2, 1, "line 2, column 1" },
	{ "LF lines", "{\n\"a\": 1,\n\"b\": tru\n}", PT_JE_SYNTAX, 15, 3, 6,
	  "line 3, column 6" },
	{ "CRLF lines count once", "{\r\n\"a\": 1,\r\n\"b\": tru\r\n}",
	  PT_JE_SYNTAX, 17, 3, 6, "line 3, column 6" },
	{ "a lone CR is no line break", "{\"a\": 1,\r\"b\": x}", PT_JE_SYNTAX,
	  14, 1, 15, "line 1, column 15" },
	{ "UTF-8 counts characters", "{\"caf\xc3\xa9\": \"\xe2\x99\xa5\", "
	  "\"x\": nul}", PT_JE_SYNTAX, 22, 1, 20, "line 1, column 20 (byte 22)" },
	{ "UTF-8 on an earlier line does not count", "{\"\xe2\x99\xa5\": 1,\n"
	  " \"x\": [1,,]}", PT_JE_SYNTAX, 20, 2, 10, "line 2, column 10" },
	{ "invalid UTF-8 at its byte", "{\"\xc3\xa9\":\"a\xff\"}",
	  PT_JE_UTF8, 8, 1, 8, "invalid UTF-8 at line 1, column 8" },
	{ "truncated at the end", "{\n\"a\": [1,\n", PT_JE_SYNTAX, 11, 3, 1,
	  "line 3, column 1" },
	{ "trailing data", "{}\n\n  {}", PT_JE_TRAILING, 6, 3, 3,
	  "line 3, column 3" },
	{ "nested too deep", "[[[\n[", PT_JE_DEPTH, 4, 2, 1, "line 2, "
	  "column 1" },
};

static void
test_positions(void)
{
	struct pt_json_error e;
	pt_json *j;
	size_t i;

	for (i = 0; i < nitems(positions); i++) {
		j = NULL;
		/* Depth 3 for the one case that nests too deep. */
		pt_json_parse(positions[i].text, strlen(positions[i].text),
		    positions[i].want == PT_JE_DEPTH ? 3 : 64, &j, &e);
		ok(e.code == positions[i].want && e.offset == positions[i].offset &&
		    e.line == positions[i].line &&
		    e.column == positions[i].column &&
		    strstr(e.message, positions[i].message) != NULL,
		    "position: %s", positions[i].desc);
		if (e.code != positions[i].want || e.offset !=
		    positions[i].offset || e.line != positions[i].line ||
		    e.column != positions[i].column)
			diag("got %s at %zu, line %zu, column %zu: %s",
			    pt_jerr_code(e.code), e.offset, e.line, e.column,
			    e.message);
		pt_json_put(j);
	}
}

/*
 * A number used as text (an event type, an id) is the number as sent,
 * whatever its size; and stays so through the stored form.
 */
static const char *const numbers[] = {
	"0", "-0", "42", "-7", "1.50", "1e3", "1E+2", "-2.5e-3",
	"9223372036854775807", "9223372036854775808", "18446744073709551615",
	"18446744073709551616", "-9223372036854775808", "-9223372036854775809",
	"123456789012345678901234",
	"1234567890123456789012345678901234567890123456789012345678901234567890",
	"0.1000000000000000055511151231257827",
};

static void
test_number_text(void)
{
	struct pt_json_error e;
	struct pt_buf doc = { 0 }, got = { 0 }, again = { 0 };
	pt_json *j, *back;
	const char *stored;
	size_t i;

	for (i = 0; i < nitems(numbers); i++) {
		pt_buf_reset(&doc);
		pt_buf_reset(&got);
		pt_buf_reset(&again);
		pt_buf_printf(&doc, "{\"type\": %s}", numbers[i]);
		j = back = NULL;
		if (pt_json_parse(doc.data, doc.len, 64, &j, &e) != PT_OK ||
		    pt_json_scalar_text(pt_json_get(j, "type"), &got) != PT_OK) {
			ok(0, "number %s parses (%s)", numbers[i], e.message);
			pt_json_put(j);
			continue;
		}
		is_str(got.data, numbers[i], "number %s as text", numbers[i]);
		stored = pt_json_text(j, PT_JSON_PLAIN, NULL);
		back = pt_json_parse_trusted(stored, strlen(stored));
		if (pt_json_scalar_text(pt_json_get(back, "type"), &again) !=
		    PT_OK)
			pt_buf_adds(&again, "(not a scalar)");
		is_str(again.data, numbers[i], "  ... and after the stored form "
		    "%s", stored);
		pt_json_put(back);
		pt_json_put(j);
	}
	pt_buf_free(&doc);
	pt_buf_free(&got);
	pt_buf_free(&again);
}

static void
deep(int levels, int want_ok)
{
	char *s = malloc((size_t)levels * 2 + 1);
	struct pt_json_error e;
	pt_json *j = NULL;
	enum pt_err rc;
	int i;

	for (i = 0; i < levels; i++) {
		s[i] = '[';
		s[levels * 2 - 1 - i] = ']';
	}
	s[levels * 2] = '\0';
	rc = pt_json_parse(s, (size_t)levels * 2, 64, &j, &e);
	if (want_ok)
		ok(rc == PT_OK, "nesting %d levels parses", levels);
	else {
		ok(rc == PT_EINVAL && e.code == PT_JE_DEPTH,
		    "nesting %d levels is too deep", levels);
	}
	pt_json_put(j);
	free(s);
}

/*
 * The reference for pt_buf_add_json_str, byte by byte: "ref" gets the JSON
 * literal of s[0..n).  "utf8" says whether the whole (valid) sequence
 * starting at each byte >= 0x80 is to be copied, and how long it is.
 */
static void
ref_json_str(const unsigned char *s, size_t n, struct pt_buf *ref)
{
	size_t i, k;

	pt_buf_reset(ref);
	pt_buf_addc(ref, '"');
	for (i = 0; i < n; i++) {
		if (s[i] >= 0x80) {
			k = s[i] == 0xc3 && i + 1 < n && (s[i + 1] & 0xc0) == 0x80 ?
			    2 : s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x82 &&
			    s[i + 2] == 0xac ? 3 : 0;
			if (k) {
				pt_buf_add(ref, s + i, k);
				i += k - 1;
			} else
				pt_buf_adds(ref, "\\ufffd");
		} else if (s[i] == '"' || s[i] == '\\' || s[i] < 0x20)
			pt_buf_add_json_esc(ref, s[i]);
		else
			pt_buf_addc(ref, (char)s[i]);
	}
	pt_buf_addc(ref, '"');
}

/*
 * pt_buf_add_json_str skips plain text eight bytes at a time: every byte
 * value at every place of strings of 1 to 19 bytes, and UTF-8 sequences
 * across the 8-byte words, against the byte-by-byte reference.
 */
static void
json_str_words(void)
{
	static const char *const seqs[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xc3", "\xe2\x82", "\xff" };
	struct pt_buf got = { 0 }, ref = { 0 };
	unsigned char s[32];
	size_t len, at, q, bad = 0, ncase = 0;
	unsigned c;

	/* A string of 'a' with "ins" (ilen bytes) at "at", checked. */
#define CASE(ins, ilen) do {						\
		memset(s, 'a', len);					\
		memcpy(s + at, (ins), (ilen));				\
		pt_buf_reset(&got);					\
		pt_buf_add_json_str(&got, (char *)s, len);		\
		ref_json_str(s, len, &ref);				\
		ncase++;						\
		bad += got.len != ref.len ||				\
		    memcmp(got.data, ref.data, ref.len) != 0;		\
	} while (0)
	for (len = 1; len < 20; len++)
		for (at = 0; at < len; at++) {
			for (c = 0; c < 256; c++) {
				unsigned char one = (unsigned char)c;

				CASE(&one, 1);
			}
			for (q = 0; q < nitems(seqs); q++)
				if (at + strlen(seqs[q]) <= len)
					CASE(seqs[q], strlen(seqs[q]));
		}
#undef CASE
	ok(bad == 0, "JSON string literals: %zu cases match the byte-by-byte "
	    "reference (%zu differ)", ncase, bad);
	pt_buf_free(&got);
	pt_buf_free(&ref);
}

int
main(void)
{
	struct pt_json_error e;
	struct pt_buf b = { 0 };
	pt_json *j;
	size_t i, n;
	enum pt_err rc;
	const char *s;

	for (i = 0; i < nitems(cases); i++) {
		n = cases[i].len ? cases[i].len : strlen(cases[i].text);
		j = NULL;
		rc = pt_json_parse(cases[i].text, n, 64, &j, &e);
		if (cases[i].want == PT_JE_OK) {
			pt_json *ref = pt_json_parse_trusted(cases[i].text, n);

			ok(rc == PT_OK, "%s (%s)", cases[i].desc, e.message);
			/* The one-pass builder agrees with json-c's tokener. */
			ok(pt_json_equal(j, ref), "  ... same tree as json-c's own "
			    "parser");
			{
				/* Porter's serialiser writes what json-c does. */
				struct pt_buf w = { 0 };
				const char *jt = pt_json_text(ref, PT_JSON_PLAIN,
				    NULL);

				pt_json_write(&w, ref, PT_JSON_PLAIN);
				ok(w.data && jt && strcmp(w.data, jt) == 0,
				    "  ... and serialises as json-c does");
				pt_buf_free(&w);
			}
			pt_json_put(ref);
		}
		else {
			ok(rc == PT_EINVAL && e.code == cases[i].want,
			    "%s: rejected as %s (%s)", cases[i].desc,
			    pt_jerr_code(cases[i].want), e.message);
		}
		pt_json_put(j);
	}
	json_str_words();
	test_positions();
	test_number_text();
	deep(64, 1);
	deep(65, 0);
	deep(1000, 0);

	/* A very wide object with one duplicate at the end stays fast. */
	{
		struct pt_buf w = { 0 };

		pt_buf_addc(&w, '{');
		for (i = 0; i < 200000; i++)
			pt_buf_printf(&w, "\"k%zu\":%zu,", i, i);
		pt_buf_adds(&w, "\"k7\":0}");
		rc = pt_json_parse(w.data, w.len, 64, &j, &e);
		ok(rc == PT_EINVAL && e.code == PT_JE_DUPKEY,
		    "duplicate among 200000 keys found");
		pt_buf_free(&w);
	}

	/* Values and scalar text. */
	s = "{\"s\":\"a\\u0000b\",\"i\":42,\"d\":1.50,\"t\":true,\"n\":null}";
	rc = pt_json_parse(s, strlen(s), 64, &j, &e);
	ok(rc == PT_OK, "value document parses");
	{
		pt_json *v;
		const char *str;

		str = pt_json_str(pt_json_get(j, "s"), &n);
		ok(n == 3 && memcmp(str, "a\0b", 3) == 0,
		    "string with escaped NUL keeps its length");
		pt_json_scalar_text(pt_json_get(j, "i"), &b);
		is_str(b.data, "42", "integer as text");
		pt_buf_reset(&b);
		pt_json_scalar_text(pt_json_get(j, "d"), &b);
		is_str(b.data, "1.50", "double keeps its written form");
		pt_buf_reset(&b);
		pt_json_scalar_text(pt_json_get(j, "t"), &b);
		is_str(b.data, "true", "boolean as text");
		ok(pt_json_get_ex(j, "n", &v) && v == NULL,
		    "null member is present and NULL");
		ok(!pt_json_get_ex(j, "missing", &v), "missing member");
		ok(pt_json_scalar_text(pt_json_get(j, "n"), &b) == PT_EINVAL,
		    "null has no scalar text");
	}
	pt_json_put(j);
	pt_buf_free(&b);

	/* Serialisation never escapes "/". */
	j = pt_json_new_object();
	pt_json_set(j, "url", pt_json_new_cstr("https://x/y"));
	is_str(pt_json_text(j, PT_JSON_PLAIN, NULL), "{\"url\":\"https://x/y\"}",
	    "slashes are not escaped");
	pt_json_put(j);

	ok(pt_utf8_valid("caf\xc3\xa9", 5), "utf8_valid accepts UTF-8");
	ok(!pt_utf8_valid("\xc3", 1), "utf8_valid rejects a cut sequence");

	/*
	 * Regression (fuzz-handler): a header name with a byte that is no
	 * UTF-8 went into the log as it was, and GET logs answered with text
	 * that is no JSON.  pt_json_write keeps UTF-8, replaces the rest.
	 */
	j = pt_json_new_object();
	pt_json_set(j, "content-typ\xaa" "e", pt_json_new_cstr("caf\xc3\xa9 \xc3"));
	pt_json_write(&b, j, PT_JSON_PLAIN);
	is_str(b.data, "{\"content-typ\\ufffde\":\"caf\xc3\xa9 \\ufffd\"}",
	    "pt_json_write: bytes that are no UTF-8 become U+FFFD");
	ok(b.data && pt_utf8_valid(b.data, b.len), "  ... and the text is UTF-8");
	pt_buf_free(&b);
	pt_json_put(j);
	return tap_done();
}
