/*
 * identify.c - an event's type and time (see identify.h), apart from the
 * pipeline so that rehearsals (inspect.c) use the very same rules.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "eventlog.h"
#include "identify.h"
#include "path.h"
#include "timeutil.h"

static enum pt_err __attribute__((format(printf, 2, 3)))
warn(pt_json *warnings, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pt_json_append(warnings, pt_json_new_cstr(msg));
}

/* Where the event type comes from, for warnings. */
static const char *
type_source(const struct pt_env *env)
{
	if (env->type_rule == PT_RULE_SEGMENT)
		return "the Segment type/event";
	if (env->type_rule == PT_RULE_RUDDERSTACK)
		return "the RudderStack type/event";
	if (env->type_template != NULL)
		return env->type_template->next != NULL ?
		    "the event_type_template alternatives" :
		    env->type_template->source;
	return env->event_type_path->text;
}

/*
 * snake_case of a CDP event name, as RudderStack types track events:
 * "Order Completed" and "orderCompleted" both give "order_completed".
 */
static enum pt_err
snake_case(const char *s, size_t n, struct pt_buf *out)
{
	size_t i;
	int sep = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '-' || c == '.' || c == '_' || c == '\t') {
			sep = out->len > 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z') {
			if (i > 0 && s[i - 1] >= 'a' && s[i - 1] <= 'z')
				sep = 1;
			c = (unsigned char)(c + 32);
		}
		if (sep && out->len > 0 && out->data[out->len - 1] != '/')
			pt_buf_addc(out, '_');
		sep = 0;
		pt_buf_addc(out, (char)c);
	}
	return out->failed ? PT_ENOMEM : PT_OK;
}

/*
 * The type text into "type": 0, or -1 with "why" when there is none.
 * Segment-spec payloads (rule SEGMENT or RUDDERSTACK): a track call is
 * named by its "event", any other call by its "type" (identify, group,
 * page, ...).  Else the template, or the value at event_type_path
 * (scalars as text).
 */
static int
type_text(const struct pt_env *env, const struct pt_roots *r,
    struct pt_buf *type, char *why, size_t whylen)
{
	const char *t, *ev;
	char res[300];
	pt_json *v;
	size_t n;

	if (env->type_rule != PT_RULE_PATH) {
		if ((t = pt_json_str(pt_json_get(r->body, "type"), NULL)) == NULL) {
			snprintf(why, whylen, "no event type: a Segment-spec call "
			    "needs a string \"type\"");
			return -1;
		}
		if (strcmp(t, "track") != 0) {
			pt_buf_adds(type, t);
			return 0;
		}
		if ((ev = pt_json_str(pt_json_get(r->body, "event"), &n)) == NULL ||
		    n == 0) {
			snprintf(why, whylen, "no event type: a track call needs a "
			    "string \"event\"");
			return -1;
		}
		if (env->type_rule == PT_RULE_SEGMENT)
			pt_buf_add(type, ev, n);
		else {
			pt_buf_adds(type, "track/");
			snake_case(ev, n, type);
		}
		return 0;
	}
	if (env->type_template != NULL) {
		if (pt_template_eval(env->type_template, r, type, res,
		    sizeof(res)) < 0) {
			snprintf(why, whylen, "no event type from %s: %s",
			    type_source(env), res);
			return -1;
		}
		return 0;
	}
	if (pt_path_resolve(env->event_type_path, r, &v, res,
	    sizeof(res)) != PT_PATH_FOUND) {
		snprintf(why, whylen, "no event type at %s: %s",
		    env->event_type_path->text, res);
		return -1;
	}
	switch (pt_json_type(v)) {
	case PT_J_STRING:
	case PT_J_INT:
	case PT_J_DOUBLE:
	case PT_J_BOOL:
		pt_json_scalar_text(v, type);
		return 0;
	default:
		snprintf(why, whylen, "no event type at %s: the value is %s, not "
		    "a string", env->event_type_path->text,
		    pt_jtype_name(pt_json_type(v)));
		return -1;
	}
}

enum pt_err
pt_identify(const struct pt_env *env, const struct pt_roots *r,
    struct pt_buf *type, int64_t *event_time,
    pt_json *warnings)
{
	struct pt_path *tp = env->timestamp_path;
	enum pt_err rc = PT_OK;
	char why[400];
	size_t start = type->len;
	pt_json *v;
	int64_t us;

	why[0] = '\0';
	if (type_text(env, r, type, why, sizeof(why)) == 0) {
		if (type->failed)
			return PT_ENOMEM;
		if (type->len == start)
			snprintf(why, sizeof(why), "no event type: the value at %s "
			    "is empty", type_source(env));
		else if (memchr(type->data + start, '\0', type->len - start))
			snprintf(why, sizeof(why), "no event type: the value at %s "
			    "holds a NUL byte", type_source(env));
		else if (type->len - start > PT_EVENT_TYPE_MAX)
			snprintf(why, sizeof(why), "no event type: the value at %s "
			    "is longer than %d bytes", type_source(env),
			    PT_EVENT_TYPE_MAX);
	}
	if (why[0] != '\0') {
		if (type->failed)
			return PT_ENOMEM;
		type->len = start;
		if (type->data != NULL)
			type->data[start] = '\0';
		if ((rc = warn(warnings, "%s", why)) != PT_OK)
			return rc;
	}

	if (tp == NULL)
		return PT_OK;
	if (pt_path_resolve(tp, r, &v, why, sizeof(why)) !=
	    PT_PATH_FOUND)
		return warn(warnings, "no timestamp at %s (%s): using the time "
		    "received", tp->text, why);
	if (pt_json_time(v, &us, why, sizeof(why)) < 0)
		return warn(warnings, "unreadable timestamp at %s: %s; using the "
		    "time received", tp->text, why);
	*event_time = us;
	return PT_OK;
}
