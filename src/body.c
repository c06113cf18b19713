/*
 * body.c - a request body as the pipeline reads it (see body.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "body.h"
#include "form.h"

#define CT_JSON	"application/json"
#define CT_FORM	"application/x-www-form-urlencoded"

const char *
pt_body_format_name(int format)
{
	switch (format) {
	case PT_BODY_JSON:
		return "json";
	case PT_BODY_FORM:
		return "form";
	default:
		return "?";
	}
}

int
pt_body_detect(const uint8_t *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
		    body[i] != '\n')
			break;
	return i < len && (body[i] == '{' || body[i] == '[') ? PT_BODY_JSON :
	    PT_BODY_FORM;
}

int
pt_body_accepts(const struct pt_env *env, int format,
    const char *content_type, char *msg, size_t msglen)
{
	int takes = env->body_formats;

	if (format != 0 && (takes & format))
		return 1;
	if (format == PT_BODY_FORM)
		snprintf(msg, msglen, "this endpoint takes JSON (Content-Type: "
		    CT_JSON "), not form-encoded bodies; to accept them add "
		    "\"form\" to the environment's \"body_formats\" "
		    "(porter.conf(5))");
	else if (format == PT_BODY_JSON)
		snprintf(msg, msglen, "this endpoint takes form-encoded bodies "
		    "(Content-Type: " CT_FORM "), not JSON; to accept both add "
		    "\"json\" to the environment's \"body_formats\"");
	else
		snprintf(msg, msglen, "the body must be %s, not %.60s",
		    takes == PT_BODY_JSON ? "JSON (Content-Type: " CT_JSON ")" :
		    takes == PT_BODY_FORM ? "form-encoded (Content-Type: "
		    CT_FORM ")" : "JSON (" CT_JSON ") or form-encoded ("
		    CT_FORM ")", content_type ? content_type : "(none)");
	return 0;
}

enum pt_err
pt_body_parse(const struct pt_env *env, int format, const uint8_t *body,
    size_t len, pt_json **doc, struct pt_body_error *err)
{
	struct pt_json_error jerr;
	struct pt_form_error ferr;
	enum pt_err rc;

	*doc = NULL;
	err->code = NULL;
	err->message[0] = '\0';
	if (format == PT_BODY_FORM) {
		rc = pt_form_parse(body, len, (const char *const *)env->form_json,
		    env->nform_json, doc, &ferr);
		if (rc == PT_EINVAL) {
			err->code = pt_form_err_code(&ferr);
			snprintf(err->message, sizeof(err->message), "%s",
			    ferr.message);
		}
		return rc;
	}
	rc = pt_json_parse((const char *)body, len, PT_JSON_MAX_DEPTH, doc,
	    &jerr);
	if (rc == PT_EINVAL) {
		err->code = pt_jerr_code(jerr.code);
		snprintf(err->message, sizeof(err->message), "%s", jerr.message);
		return rc;
	}
	if (rc != PT_OK || pt_json_type(*doc) == PT_J_OBJECT)
		return rc;
	err->code = "not_an_object";
	snprintf(err->message, sizeof(err->message), "the body is a JSON %s, "
	    "not an object", pt_jtype_name(pt_json_type(*doc)));
	pt_json_put(*doc);
	*doc = NULL;
	return PT_EINVAL;
}
