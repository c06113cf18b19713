/*
 * form.h - application/x-www-form-urlencoded bodies, as the paths read
 * them.
 *
 * Twilio, Slack slash commands and interactivity, Mailgun and others post
 * HTML form encoding rather than JSON.  pt_form_parse() turns such a body
 * into the JSON object that "body.*" paths and mappings read: every field a
 * string, a repeated name an array of its values in order, and the fields
 * an environment declares as JSON (Slack's "payload") parsed.  The field
 * splitting and decoding are shared with the Twilio signature (scheme.c),
 * so what was signed and what the paths see are the same fields.
 *
 * The rules are WHATWG URL's "application/x-www-form-urlencoded parsing":
 * fields split on "&" (not ";"), empty fields skipped, name and value split
 * at the first "=" (no "=": an empty value), "+" a space, "%XY" a byte.
 * Stricter than WHATWG, which keeps a bad escape as text and replaces
 * invalid UTF-8: a webhook body with either is refused, not guessed at.
 */
#ifndef PT_FORM_H
#define PT_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"

/* Bounds on one body (the body as a whole is max_body_bytes). */
#define PT_FORM_MAX_FIELDS	1000
#define PT_FORM_MAX_NAME	256		/* bytes, decoded */
#define PT_FORM_MAX_VALUE	(1024 * 1024)	/* bytes, decoded */

/* Why a body is not an acceptable form. */
enum pt_form_err {
	PT_FORM_OK = 0,
	PT_FORM_ESCAPE,		/* "%" not followed by two hex digits */
	PT_FORM_UTF8,		/* a decoded name or value is not UTF-8 */
	PT_FORM_NUL,		/* a decoded name holds a NUL byte */
	PT_FORM_TOO_MANY,	/* more than PT_FORM_MAX_FIELDS fields */
	PT_FORM_TOO_LARGE,	/* a name or value over its bound */
	PT_FORM_JSON		/* a JSON field's value is not JSON */
};

struct pt_form_error {
	enum pt_form_err	 code;
	enum pt_jerr		 jcode;		/* PT_FORM_JSON: why */
	size_t			 offset;	/* byte offset in the body */
	char			 message[200];
};

/* The error's code for answers and the log: "invalid_form", ... */
const char	*pt_form_err_code(const struct pt_form_error *);

/* One field as it appears in the body, not yet decoded. */
struct pt_form_field {
	const char	*name;
	size_t		 nlen;
	const char	*value;		/* "" when the field has no "=" */
	size_t		 vlen;
	size_t		 offset;	/* of the field in the body */
};

/*
 * The next field of "len" bytes of "body" from *pos (start at 0), skipping
 * empty ones; returns 1 and fills "f", or 0 at the end.  "f" points into
 * "body".
 */
int		pt_form_next(const char *body, size_t len, size_t *pos,
		    struct pt_form_field *f);

/*
 * Decode one name or value: "+" is a space, "%XY" the byte 0xXY.  "out"
 * has room for "len" bytes (decoding never grows).  Returns 0 and sets
 * *outlen, or -1 with *bad the offset in "in" of a "%" without two hex
 * digits after it.
 */
int		pt_form_decode(const char *in, size_t len, char *out,
		    size_t *outlen, size_t *bad);

/*
 * Parse "len" bytes of "body" into a new object (*out, one reference):
 * each name maps to its decoded value (a string), or to an array of them
 * in order when the name repeats.  The "njson" names in "json_fields" hold
 * JSON text: their values are parsed strictly (nested at most
 * PT_JSON_MAX_DEPTH - 2 deep, so the body stays within the limit).
 * An empty body is an empty object.
 * Returns PT_OK, PT_EINVAL with "err" filled, or PT_ENOMEM.
 */
enum pt_err	pt_form_parse(const uint8_t *body, size_t len,
		    const char *const *json_fields, size_t njson, pt_json **out,
		    struct pt_form_error *err);

#endif
