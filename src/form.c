/*
 * form.c - application/x-www-form-urlencoded bodies (see form.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "form.h"

/* Answer codes, by enum pt_form_err (PT_FORM_JSON: the JSON parser's). */
static const char *const err_codes[] = {
	[PT_FORM_OK] = "ok",
	[PT_FORM_ESCAPE] = "invalid_form",
	[PT_FORM_UTF8] = "invalid_utf8",
	[PT_FORM_NUL] = "invalid_form",
	[PT_FORM_TOO_MANY] = "too_many_fields",
	[PT_FORM_TOO_LARGE] = "field_too_large",
	[PT_FORM_JSON] = "invalid_json",
};

const char *
pt_form_err_code(const struct pt_form_error *e)
{
	/* An empty JSON field is bad JSON, not an empty body. */
	if (e->code == PT_FORM_JSON && e->jcode != PT_JE_EMPTY)
		return pt_jerr_code(e->jcode);
	return err_codes[e->code];
}

int
pt_form_next(const char *body, size_t len, size_t *pos,
    struct pt_form_field *f)
{
	const char *amp, *eq;
	size_t start, end;

	for (start = *pos; start < len; start = end + 1) {
		amp = memchr(body + start, '&', len - start);
		end = amp != NULL ? (size_t)(amp - body) : len;
		if (end == start)
			continue;
		f->offset = start;
		f->name = body + start;
		if ((eq = memchr(body + start, '=', end - start)) != NULL) {
			f->nlen = (size_t)(eq - f->name);
			f->value = eq + 1;
			f->vlen = end - (size_t)(eq + 1 - body);
		} else {
			f->nlen = end - start;
			f->value = body + end;
			f->vlen = 0;
		}
		*pos = end + 1;
		return 1;
	}
	*pos = len;
	return 0;
}

int
pt_form_decode(const char *in, size_t len, char *out, size_t *outlen,
    size_t *bad)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '+')
			out[n++] = ' ';
		else if (in[i] == '%') {
			if (i + 2 >= len || (hi = pt_hexval(in[i + 1])) < 0 ||
			    (lo = pt_hexval(in[i + 2])) < 0) {
				*bad = i;
				return -1;
			}
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[n++] = in[i];
	}
	*outlen = n;
	return 0;
}

static enum pt_err __attribute__((format(printf, 4, 5)))
fail(struct pt_form_error *err, enum pt_form_err code, size_t offset,
    const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return PT_EINVAL;
}

static int
is_json_field(const char *name, const char *const *json_fields, size_t njson)
{
	size_t i;

	for (i = 0; i < njson; i++)
		if (strcmp(json_fields[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Decode field "f" of "body": its name (NUL-terminated) into "name" and
 * its value into "val", both with room for the raw lengths, checking the
 * bounds and the encoding.
 */
static enum pt_err
decode_field(const char *body, const struct pt_form_field *f, char *name,
    char *val, size_t *vlen, struct pt_form_error *err)
{
	size_t nlen, bad;

	if (pt_form_decode(f->name, f->nlen, name, &nlen, &bad) < 0)
		return fail(err, PT_FORM_ESCAPE, f->offset + bad, "bad percent-"
		    "escape at byte %zu: \"%%\" must be followed by two hex "
		    "digits", f->offset + bad);
	if (pt_form_decode(f->value, f->vlen, val, vlen, &bad) < 0)
		return fail(err, PT_FORM_ESCAPE, (size_t)(f->value - body) + bad,
		    "bad percent-escape at byte %zu: \"%%\" must be followed by "
		    "two hex digits", (size_t)(f->value - body) + bad);
	if (nlen > PT_FORM_MAX_NAME)
		return fail(err, PT_FORM_TOO_LARGE, f->offset, "the name of the "
		    "field at byte %zu is longer than %d bytes", f->offset,
		    PT_FORM_MAX_NAME);
	if (*vlen > PT_FORM_MAX_VALUE)
		return fail(err, PT_FORM_TOO_LARGE, f->offset, "the value of the "
		    "field at byte %zu is longer than %d bytes", f->offset,
		    PT_FORM_MAX_VALUE);
	/* Names become object keys, which are C strings. */
	if (memchr(name, '\0', nlen) != NULL)
		return fail(err, PT_FORM_NUL, f->offset, "the name of the field "
		    "at byte %zu holds a NUL byte (%%00)", f->offset);
	if (!pt_utf8_valid(name, nlen) || !pt_utf8_valid(val, *vlen))
		return fail(err, PT_FORM_UTF8, f->offset, "the %s of the field at "
		    "byte %zu is not UTF-8 once decoded", pt_utf8_valid(name,
		    nlen) ? "value" : "name", f->offset);
	name[nlen] = '\0';
	return PT_OK;
}

enum pt_err
pt_form_parse(const uint8_t *body, size_t len, const char *const *json_fields,
    size_t njson, pt_json **out, struct pt_form_error *err)
{
	const char *b = (const char *)body;
	struct pt_form_field f;
	struct pt_json_error jerr;
	struct pt_json_iter it = { 0 };
	pt_json *lists = NULL, *obj = NULL, *arr, *v;
	const char *k;
	char *name = NULL, *val;
	size_t pos = 0, nfields = 0, vlen;
	enum pt_err rc = PT_ENOMEM;

	memset(err, 0, sizeof(*err));
	*out = NULL;
	/*
	 * Values are gathered per name first (in arrays, in order), then a
	 * name seen once gets its value alone.  One scratch buffer holds a
	 * decoded name, its NUL and its value: together they are shorter
	 * than the body.
	 */
	if ((lists = pt_json_new_object()) == NULL ||
	    (name = pt_malloc(len + 1)) == NULL)
		goto out;
	while (pt_form_next(b, len, &pos, &f)) {
		if (++nfields > PT_FORM_MAX_FIELDS) {
			rc = fail(err, PT_FORM_TOO_MANY, f.offset, "more than %d "
			    "fields (the field at byte %zu is one too many)",
			    PT_FORM_MAX_FIELDS, f.offset);
			goto out;
		}
		val = name + f.nlen + 1;
		if ((rc = decode_field(b, &f, name, val, &vlen, err)) != PT_OK)
			goto out;
		if (!is_json_field(name, json_fields, njson))
			v = pt_json_new_str(val, vlen);
		else if ((rc = pt_json_parse(val, vlen, PT_JSON_MAX_DEPTH - 2, &v,
		    &jerr)) != PT_OK) {
			if (rc == PT_ENOMEM)
				goto out;
			err->jcode = jerr.code;
			rc = fail(err, PT_FORM_JSON, f.offset, "field \"%.64s\" (at "
			    "byte %zu) must hold JSON: %s", name, f.offset,
			    jerr.message);
			goto out;
		}
		rc = PT_ENOMEM;
		if (!is_json_field(name, json_fields, njson) && v == NULL)
			goto out;
		if ((arr = pt_json_get(lists, name)) == NULL) {
			if ((arr = pt_json_new_array()) == NULL) {
				pt_json_put(v);
				goto out;
			}
			if (pt_json_set(lists, name, arr) != PT_OK) {
				pt_json_put(v);
				goto out;
			}
		}
		/* A JSON field may hold null: NULL here is that, not a failure. */
		if ((v != NULL ? pt_json_append(arr, v) :
		    pt_json_append_null(arr)) != PT_OK)
			goto out;
	}
	if ((obj = pt_json_new_object()) == NULL)
		goto out;
	while (pt_json_iter_next(lists, &it, &k, &arr)) {
		v = pt_json_len(arr) == 1 ? pt_json_index(arr, 0) : arr;
		if (pt_json_set_ref(obj, k, v) != PT_OK)
			goto out;
	}
	*out = obj;
	obj = NULL;
	rc = PT_OK;
out:
	pt_free(name);
	pt_json_put(lists);
	pt_json_put(obj);
	return rc;
}
