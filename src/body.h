/*
 * body.h - a request body as the pipeline reads it.
 *
 * A body is JSON or a form (enum pt_body_format, http.h): at ingest its
 * Content-Type says which, at replay the logged Content-Type, at a
 * rehearsal the operator or the body's first byte.  Either way it becomes
 * the JSON object that body.* paths and mappings read, so an environment's
 * event type paths, mappings and idempotency key work on both.
 */
#ifndef PT_BODY_H
#define PT_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "http.h"
#include "json.h"

struct pt_body_error {
	const char	*code;		/* "invalid_json", "invalid_form"... */
	char		 message[220];
};

/* "json" or "form" (the names body_formats uses), "?" for 0. */
const char	*pt_body_format_name(int format);

/*
 * The format of a body that came without a Content-Type: JSON when its
 * first byte after white space is "{" or "[", else a form.
 */
int		pt_body_detect(const uint8_t *, size_t);

/*
 * Does "env" take a body of "format" (0: a Content-Type "content_type"
 * that Porter does not parse)?  1, or 0 with "msg" saying what the
 * endpoint takes and, for a format it could take, how to opt in.
 */
int		pt_body_accepts(const struct pt_env *env, int format,
		    const char *content_type, char *msg, size_t msglen);

/*
 * Parse "len" bytes of "body" as "format" for environment "env" (a form's
 * JSON fields are the environment's form_json_fields) into *doc, a new
 * object.  Returns PT_OK, PT_EINVAL with "err" saying why (strict JSON
 * that is an object, a well-formed form), or PT_ENOMEM.
 */
enum pt_err	pt_body_parse(const struct pt_env *env, int format,
		    const uint8_t *body, size_t len, pt_json **doc,
		    struct pt_body_error *err);

#endif
