/*
 * inspect.c - one event with its action logs, and rehearsals (see
 * inspect.h).  Moved out of porterctl.c (cmd_log, cmd_rehearse) so that
 * the admin API shows exactly what the command line shows.
 */
#include "config.h"

#include <string.h>

#include "action_params.h"
#include "actions.h"
#include "alloc.h"
#include "eventlog.h"
#include "filter.h"
#include "form.h"
#include "identify.h"
#include "inspect.h"
#include "mapping.h"
#include "path.h"
#include "sig.h"

/* "len" bytes as a JSON string when UTF-8 (else NULL with *b64 set). */
static enum pt_err
set_bytes(pt_json *obj, const char *text_key, const char *b64_key,
    const uint8_t *data, size_t len)
{
	enum pt_err rc;
	char *b64;

	if (pt_utf8_valid((const char *)data, len))
		return pt_json_set(obj, text_key, pt_json_new_str((const char *)data,
		    len));
	if ((b64 = pt_malloc(PT_BASE64_LEN(len) + 1)) == NULL)
		return PT_ENOMEM;
	rc = pt_json_set(obj, b64_key, pt_json_new_str(b64, pt_base64_encode(data,
	    len, b64)));
	pt_free(b64);
	return rc;
}

/*
 * The body for display: parsed JSON when it is JSON, else the text when it
 * is UTF-8, else base64.  Sets the right member of "meta".
 */
static enum pt_err
attach_body(pt_json *meta, const uint8_t *body, size_t len)
{
	struct pt_json_error jerr;
	pt_json *doc;
	enum pt_err rc;

	rc = pt_json_parse((const char *)body, len, PT_JSON_MAX_DEPTH, &doc,
	    &jerr);
	/* A body of "null" parses to NULL. */
	if (rc == PT_OK)
		return doc != NULL ? pt_json_set(meta, "body", doc) :
		    pt_json_set_null(meta, "body");
	if (rc == PT_ENOMEM)
		return rc;
	return set_bytes(meta, "body_text", "body_base64", body, len);
}

enum pt_err
pt_inspect_event(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], int flags,
    pt_json **out)
{
	struct pt_buf meta = { 0 }, body = { 0 };
	pt_json *m = NULL, *acts, *logs = NULL, *a;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	*out = NULL;
	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK)
		goto out;
	rc = PT_ECORRUPT;
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
		goto out;
	if ((rc = attach_body(m, (const uint8_t *)body.data, body.len)) !=
	    PT_OK)
		goto out;
	if ((flags & PT_INSPECT_RAW) && (rc = set_bytes(m, "raw_body",
	    "raw_body_base64", (const uint8_t *)body.data, body.len)) !=
	    PT_OK)
		goto out;
	if (pt_json_get_ex(m, "actions", &acts)) {
		rc = PT_ENOMEM;
		if ((logs = pt_json_new_array()) == NULL)
			goto out;
		for (i = 0; i < pt_json_len(acts); i++) {
			if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i),
			    NULL), aid) < 0)
				continue;
			rc = pt_action_get(txn, aid, &a);
			if (rc == PT_ENOTFOUND || rc == PT_ECORRUPT)
				continue;
			if (rc != PT_OK || (rc = pt_json_append(logs, a)) !=
			    PT_OK)
				goto out;
		}
		rc = pt_json_set(m, "action_logs", logs);
		logs = NULL;
		if (rc != PT_OK)
			goto out;
	}
	*out = m;
	m = NULL;
	rc = PT_OK;
out:
	pt_json_put(logs);
	pt_json_put(m);
	pt_buf_free(&meta);
	pt_buf_free(&body);
	return rc;
}

/* How many of the rehearsed mappings have status "status". */
static int64_t
count_status(const pt_json *maps, const char *status)
{
	const char *s;
	size_t i;
	int64_t n = 0;

	for (i = 0; i < pt_json_len(maps); i++)
		if ((s = pt_json_str(pt_json_get(pt_json_index(maps, i),
		    "status"), NULL)) != NULL && strcmp(s, status) == 0)
			n++;
	return n;
}

/* One mapping's rehearsal, appended to "maps"; counts into the totals. */
static enum pt_err
rehearse_one(const struct pt_mapping *m, const struct pt_roots *r,
    const pt_json *input, pt_json *maps, pt_json *errors, size_t *ok_n,
    size_t *skipped)
{
	struct pt_filter_why why;
	char field[200], msg[400];
	pt_json *o, *e, *payload = NULL;
	enum pt_err rc;

	if ((o = pt_json_new_object()) == NULL)
		return PT_ENOMEM;
	if ((rc = pt_json_append(maps, o)) != PT_OK ||
	    (rc = pt_json_set(o, "action", pt_json_new_cstr(pt_action_spec(
	    m->action)->name))) != PT_OK ||
	    (rc = pt_json_set(o, "mapping", pt_json_new_int((int64_t)m->order))) !=
	    PT_OK ||
	    (rc = pt_json_set(o, "active", pt_json_new_bool(m->active))) != PT_OK ||
	    (rc = pt_json_set_copy(o, "params", m->spec)) != PT_OK)
		return rc;
	if (m->filter != NULL && !pt_filter_match(m->filter, input, &why)) {
		/* As ingest logs it: the condition that failed. */
		pt_filter_why_pointer(&why, field, sizeof(field));
		if ((rc = pt_json_set(o, "status", pt_json_new_cstr(m->active ?
		    "filtered" : "inactive"))) != PT_OK ||
		    (e = pt_json_new_object()) == NULL ||
		    (rc = pt_json_set(o, "filter", e)) != PT_OK ||
		    (rc = pt_json_set(e, "pointer", pt_json_new_cstr(field))) !=
		    PT_OK)
			return rc ? rc : PT_ENOMEM;
		return pt_json_set(e, "reason", pt_json_new_cstr(why.reason));
	}
	rc = pt_action_prepare(m, r, &payload, field, sizeof(field), msg,
	    sizeof(msg));
	if (rc == PT_OK) {
		*ok_n += m->active;
		if ((rc = pt_json_set(o, "status", pt_json_new_cstr(m->active ?
		    "ok" : "inactive"))) != PT_OK)
			goto out;
		rc = pt_json_set(o, "payload", payload);
		payload = NULL;
		goto out;
	}
	if (rc != PT_EINVAL)
		goto out;
	*skipped += m->active;
	if ((rc = pt_json_set(o, "status", pt_json_new_cstr(m->active ? "skipped" :
	    "inactive"))) != PT_OK ||
	    (e = pt_json_new_object()) == NULL ||
	    (rc = pt_json_set(o, "error", e)) != PT_OK ||
	    (rc = pt_json_set(e, "field", pt_json_new_cstr(field))) != PT_OK ||
	    (rc = pt_json_set(e, "message", pt_json_new_cstr(msg))) != PT_OK)
		goto out;
	if (m->active)
		rc = pt_json_append(errors, pt_json_copy(e));
out:
	pt_json_put(payload);
	return rc;
}

enum pt_err
pt_inspect_rehearse(const struct pt_env *env, const struct pt_roots *given,
    pt_json **out)
{
	struct pt_roots roots = *given, *r = &roots;
	struct pt_buf type = { 0 };
	pt_json *o = NULL, *maps = NULL, *errors = NULL, *hdrs = NULL,
	    *warnings = NULL, *input = NULL;
	enum pt_err rc = PT_ENOMEM;
	size_t i, ok_n = 0, skipped = 0;
	int64_t event_time = 0;

	*out = NULL;
	if (r->headers == NULL && (r->headers = hdrs = pt_json_new_object()) ==
	    NULL)
		goto out;
	if ((input = pt_filter_input(r)) == NULL)
		goto out;
	if ((o = pt_json_new_object()) == NULL ||
	    (maps = pt_json_new_array()) == NULL ||
	    (errors = pt_json_new_array()) == NULL ||
	    (warnings = pt_json_new_array()) == NULL ||
	    (rc = pt_json_set(o, "source", pt_json_new_cstr(env->source_key))) !=
	    PT_OK ||
	    (rc = pt_json_set(o, "environment", pt_json_new_cstr(env->name))) !=
	    PT_OK)
		goto out;
	/* The responder's own rules (identify.h), CDP ones included. */
	if ((rc = pt_identify(env, r, &type, &event_time,
	    warnings)) != PT_OK)
		goto out;
	if (type.len == 0) {
		/* The type's warning comes first. */
		if ((rc = pt_json_set_null(o, "event_type")) != PT_OK ||
		    (rc = pt_json_set(o, "status", pt_json_new_cstr(
		    "no_event_type"))) != PT_OK ||
		    (rc = pt_json_set(o, "message", pt_json_new_cstr(pt_json_str(
		    pt_json_index(warnings, 0), NULL)))) != PT_OK)
			goto out;
	} else {
		if ((rc = pt_json_set(o, "event_type", pt_json_new_str(type.data,
		    type.len))) != PT_OK)
			goto out;
		for (i = 0; i < env->nmappings; i++) {
			if (strcmp(env->mappings[i].event_type, type.data) != 0)
				continue;
			if ((rc = rehearse_one(&env->mappings[i], r, input,
			    maps, errors, &ok_n, &skipped)) != PT_OK)
				goto out;
		}
		if ((rc = pt_json_set(o, "status", pt_json_new_cstr(pt_json_len(maps) ?
		    "ok" : "no_mapping"))) != PT_OK ||
		    (rc = pt_json_set(o, "ok", pt_json_new_int((int64_t)ok_n))) !=
		    PT_OK ||
		    (rc = pt_json_set(o, "skipped", pt_json_new_int((int64_t)
		    skipped))) != PT_OK ||
		    (rc = pt_json_set(o, "filtered", pt_json_new_int(
		    count_status(maps, "filtered")))) != PT_OK)
			goto out;
	}
	rc = pt_json_set(o, "mappings", maps);
	maps = NULL;
	if (rc != PT_OK ||
	    (rc = pt_json_set(o, "action_logs_count", pt_json_new_int((int64_t)
	    (ok_n + skipped)))) != PT_OK ||
	    (rc = pt_json_set(o, "successful_action_logs_count", pt_json_new_int(
	    (int64_t)ok_n))) != PT_OK ||
	    (rc = pt_json_set(o, "failed_action_logs_count", pt_json_new_int(
	    (int64_t)skipped))) != PT_OK)
		goto out;
	rc = pt_json_set(o, "errors", errors);
	errors = NULL;
	if (rc != PT_OK)
		goto out;
	rc = pt_json_set(o, "warnings", warnings);
	warnings = NULL;
	if (rc != PT_OK)
		goto out;
	*out = o;
	o = NULL;
out:
	pt_buf_free(&type);
	pt_json_put(input);
	pt_json_put(hdrs);
	pt_json_put(warnings);
	pt_json_put(errors);
	pt_json_put(maps);
	pt_json_put(o);
	return rc;
}

enum pt_err
pt_inspect_body(const struct pt_env *env, const char *content_type,
    const char *text, size_t len, pt_json **doc, int *status,
    struct pt_body_error *err)
{
	int format;

	*doc = NULL;
	format = content_type != NULL ? pt_body_format_of(content_type) :
	    pt_body_detect((const uint8_t *)text, len);
	if (!pt_body_accepts(env, format, content_type, err->message,
	    sizeof(err->message))) {
		*status = 415;
		err->code = "unsupported_media_type";
		return PT_EINVAL;
	}
	*status = 400;
	return pt_body_parse(env, format, (const uint8_t *)text, len, doc, err);
}

/* The logged body as JSON: a JSON body parsed, a form's fields, or NULL. */
static pt_json *
logged_body(const pt_json *meta, const uint8_t *body, size_t len)
{
	const char *fmt = pt_json_str(pt_json_get(meta, "body_format"), NULL);
	struct pt_form_error ferr;
	struct pt_json_error jerr;
	pt_json *doc = NULL;

	if (fmt != NULL && strcmp(fmt, "form") == 0) {
		if (pt_form_parse(body, len, NULL, 0, &doc, &ferr) != PT_OK)
			return NULL;
	} else if (pt_json_parse((const char *)body, len, PT_JSON_MAX_DEPTH,
	    &doc, &jerr) != PT_OK)
		return NULL;
	return doc;
}

int
pt_inspect_where(const struct pt_path *path, const char *value,
    const pt_json *meta, const uint8_t *body, size_t len)
{
	struct pt_roots roots = { NULL, NULL, NULL };
	struct pt_buf text = { 0 };
	pt_json *doc = NULL, *v;
	const char *s;
	size_t n;
	int match = 0;

	roots.headers = pt_json_get(meta, "headers");
	roots.preprocess = pt_json_get(meta, "preprocess");
	/* Only a path into the body costs a parse. */
	if (path->ns == PT_NS_BODY && (doc = logged_body(meta, body, len)) ==
	    NULL)
		return 0;
	roots.body = doc;
	if (pt_path_resolve(path, &roots, &v, NULL, 0) != PT_PATH_FOUND)
		goto out;
	if ((s = pt_json_str(v, &n)) != NULL)
		match = strlen(value) == n && memcmp(s, value, n) == 0;
	else if (pt_json_type(v) != PT_J_OBJECT &&
	    pt_json_type(v) != PT_J_ARRAY &&
	    pt_json_write(&text, v, PT_JSON_PLAIN) == PT_OK)
		match = text.len == strlen(value) && memcmp(text.data, value,
		    text.len) == 0;
out:
	pt_buf_free(&text);
	pt_json_put(doc);
	return match;
}
