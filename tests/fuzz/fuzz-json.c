/*
 * fuzz-json.c - the strict parser (pt_json_parse) against itself and the
 * trusted one.
 *
 * Input: untrusted JSON text.
 * Checks, when the strict parser accepts it:
 *	- the input is valid UTF-8 (JSON text is, RFC 8259 section 8.1);
 *	- the trusted parser (for what Porter stored itself) reads its
 *	  serialisation back as an equal value;
 *	- a lower depth limit never accepts what the full one refuses;
 *	- plain and pretty serialisations parse back strictly to an equal
 *	  value, and so does a deep copy;
 *	- a scalar's text (pt_json_scalar_text) exists for every scalar.
 */
#include "config.h"

#include <string.h>

#include "json.h"
#include "fuzz.h"

static void
reparse(pt_json *v, int flags)
{
	struct pt_json_error jerr;
	const char *text;
	pt_json *back = NULL;
	size_t len = 0;

	text = pt_json_text(v, flags, &len);
	FZ_ASSERT(text != NULL, "no serialisation");
	FZ_ASSERT(pt_json_parse(text, len, PT_JSON_MAX_DEPTH, &back, &jerr) ==
	    PT_OK, "serialisation does not parse back: %s: %.*s",
	    jerr.message, (int)(len > 200 ? 200 : len), text);
	FZ_ASSERT(pt_json_equal(v, back), "reparsed value differs: %.*s",
	    (int)(len > 200 ? 200 : len), text);
	pt_json_put(back);
}

static void
scalars(const pt_json *v, int depth)
{
	struct pt_json_iter it = { 0 };
	struct pt_buf b = { 0 };
	const char *k;
	pt_json *m;
	size_t i;

	switch (pt_json_type(v)) {
	case PT_J_OBJECT:
		if (depth < 8)
			while (pt_json_iter_next(v, &it, &k, &m))
				scalars(m, depth + 1);
		break;
	case PT_J_ARRAY:
		for (i = 0; depth < 8 && i < pt_json_len(v) && i < 64; i++)
			scalars(pt_json_index(v, i), depth + 1);
		break;
	case PT_J_NULL:
		FZ_ASSERT(pt_json_scalar_text(v, &b) == PT_EINVAL, "null text");
		break;
	default:
		FZ_ASSERT(pt_json_scalar_text(v, &b) == PT_OK && !b.failed,
		    "no text for a %s", pt_jtype_name(pt_json_type(v)));
		break;
	}
	pt_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_json_error jerr, jerr4;
	const char *text = (const char *)data;
	pt_json *doc = NULL, *shallow = NULL, *trusted, *copy;
	enum pt_err rc, rc4;

	rc = pt_json_parse(text, size, PT_JSON_MAX_DEPTH, &doc, &jerr);
	rc4 = pt_json_parse(text, size, 4, &shallow, &jerr4);
	FZ_ASSERT(rc == PT_OK || rc4 != PT_OK, "accepted only at depth 4");
	if (rc4 == PT_OK)
		FZ_ASSERT(pt_json_equal(doc, shallow), "depth changed the value");
	pt_json_put(shallow);
	if (rc != PT_OK) {
		FZ_ASSERT(jerr.code != PT_JE_OK && jerr.offset <= size &&
		    memchr(jerr.message, '\0', sizeof(jerr.message)) != NULL,
		    "bad error report");
		/* Line and column never point past the offset. */
		FZ_ASSERT(jerr.line >= 1 && jerr.column >= 1 &&
		    jerr.line - 1 <= jerr.offset &&
		    jerr.column - 1 <= jerr.offset, "bad error position");
		(void)pt_jerr_code(jerr.code);
		/* The trusted parser must not crash on it either. */
		pt_json_put(pt_json_parse_trusted(text, size));
		return 0;
	}
	FZ_ASSERT(pt_utf8_valid(text, size), "accepted invalid UTF-8");
	/* What we store, the trusted parser reads back as it was. */
	trusted = pt_json_parse_trusted(text, size);
	pt_json_put(trusted);
	if (doc != NULL) {
		const char *out;
		size_t olen;

		out = pt_json_text(doc, PT_JSON_PLAIN, &olen);
		trusted = pt_json_parse_trusted(out, olen);
		FZ_ASSERT(trusted != NULL, "trusted parser refused %.*s",
		    (int)(olen > 200 ? 200 : olen), out);
		FZ_ASSERT(pt_json_equal(doc, trusted), "trusted parser reads "
		    "%.*s differently", (int)(olen > 200 ? 200 : olen), out);
		pt_json_put(trusted);

		reparse(doc, PT_JSON_PLAIN);
		reparse(doc, PT_JSON_PRETTY);
		copy = pt_json_copy(doc);
		FZ_ASSERT(copy != NULL && pt_json_equal(doc, copy),
		    "copy differs");
		pt_json_put(copy);
		scalars(doc, 0);
	}
	pt_json_put(doc);
	return 0;
}
