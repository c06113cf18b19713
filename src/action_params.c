/*
 * action_params.c - an action's parameters: resolved from the event by
 * its mapping and validated as Knock's API validates them (see
 * action_params.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "action_params.h"
#include "json.h"

#define MAX_ID			256
#define MAX_PROPERTIES		(256 * 1024)
#define MAX_DATA		(10 * 1024 * 1024)
#define MAX_RECIPIENTS		1000
#define MAX_SUB_RECIPIENTS	100
#define MAX_AUDIENCE_USERS	1000

/* Where a validation failure goes. */
struct verr {
	char	*field;
	size_t	 fieldlen;
	char	*msg;
	size_t	 msglen;
};

/*
 * A value that is only read from here on: share it (a reference) rather
 * than copy it; payloads, runs and inline records never change one in
 * place (omitting members makes a new object).
 */
static pt_json *
share(const pt_json *v)
{
	return v ? pt_json_ref((pt_json *)v) : NULL;
}

static enum pt_err __attribute__((format(printf, 3, 4)))
skip(struct verr *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, e->fieldlen, "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->msg, e->msglen, fmt, ap);
	va_end(ap);
	return PT_EINVAL;
}

/* Number of characters (code points) in valid UTF-8. */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/*
 * An id: a string (or an integer, taken as decimal text) of 1-256 UTF-8
 * characters without "/", "#" or NUL.  Returns a new JSON string.
 */
static enum pt_err
want_id(const pt_json *v, const char *field, struct verr *e, pt_json **out)
{
	struct pt_buf b = { 0 };
	const char *s;
	size_t n;

	*out = NULL;
	switch (pt_json_type(v)) {
	case PT_J_STRING:
		s = pt_json_str(v, &n);
		break;
	case PT_J_INT:
		if (pt_json_scalar_text(v, &b) != PT_OK)
			return PT_ENOMEM;
		s = b.data;
		n = b.len;
		break;
	default:
		return skip(e, field, "must be a string id, not %s",
		    pt_jtype_name(pt_json_type(v)));
	}
	if (n == 0) {
		pt_buf_free(&b);
		return skip(e, field, "must not be empty");
	}
	if (utf8_chars(s, n) > MAX_ID) {
		pt_buf_free(&b);
		return skip(e, field, "is longer than %d characters", MAX_ID);
	}
	if (memchr(s, '/', n) || memchr(s, '#', n) || memchr(s, '\0', n)) {
		pt_buf_free(&b);
		return skip(e, field, "must not contain \"/\", \"#\" or NUL "
		    "(\"%.40s\")", s);
	}
	/*
	 * JSON bodies only carry UTF-8, but reverse ETL ids come from
	 * percent-decoded URLs: a record's id must read back as its key.
	 */
	if (!pt_utf8_valid(s, n)) {
		pt_buf_free(&b);
		return skip(e, field, "is not valid UTF-8");
	}
	*out = pt_json_new_str(s, n);
	pt_buf_free(&b);
	return *out ? PT_OK : PT_ENOMEM;
}

/* A string field (null allowed when "nullable"); a copy in *out. */
static enum pt_err
want_string(const pt_json *v, const char *field, size_t max, int nullable,
    struct verr *e, pt_json **out)
{
	size_t n;

	*out = NULL;
	if (v == NULL && nullable)
		return PT_OK;
	if (pt_json_type(v) != PT_J_STRING)
		return skip(e, field, "must be a string, not %s",
		    pt_jtype_name(pt_json_type(v)));
	pt_json_str(v, &n);
	if (n > max)
		return skip(e, field, "is longer than %zu bytes", max);
	*out = share(v);
	return PT_OK;
}

/*
 * An object of at most "max" bytes serialised (shared in *out).  "bound"
 * (0: unknown) is an upper bound on any value's size -- the body's length:
 * when it is under the limit with room to spare, nothing is serialised to
 * measure.
 */
static enum pt_err
want_object(const pt_json *v, const char *field, size_t max, size_t bound,
    struct verr *e, pt_json **out)
{
	size_t n;

	*out = NULL;
	if (pt_json_type(v) != PT_J_OBJECT)
		return skip(e, field, "must be an object, not %s",
		    pt_jtype_name(pt_json_type(v)));
	/* Fields built from the body add at most their names: 64 KiB room. */
	if (bound > 0 && bound + 65536 <= max) {
		*out = share(v);
		return PT_OK;
	}
	if (pt_json_text((pt_json *)v, PT_JSON_PLAIN, &n) == NULL)
		return PT_ENOMEM;
	if (n > max)
		return skip(e, field, "is %zu bytes; the limit is %zu", n, max);
	*out = share(v);
	return PT_OK;
}

/* E.164: "+" then 2 to 15 digits, the first not 0. */
static int
e164(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Known user fields in an inline user / identify. */
static const char *const user_field_names[] = {
	"name", "email", "phone_number", "avatar", "locale", "timezone", NULL
};

/*
 * Validate one user field value (string or null); phone numbers E.164,
 * e-mail with an "@".
 */
static enum pt_err
want_user_field(const char *name, const pt_json *v, const char *field,
    struct verr *e, pt_json **out)
{
	enum pt_err rc;
	const char *s;
	size_t n;

	if ((rc = want_string(v, field, 1024, 1, e, out)) != PT_OK || v == NULL)
		return rc;
	s = pt_json_str(v, &n);
	if (strcmp(name, "phone_number") == 0 && !e164(s, n)) {
		pt_json_put(*out);
		*out = NULL;
		return skip(e, field, "must be an E.164 number such as "
		    "+14155550100 (\"%.30s\")", s);
	}
	if (strcmp(name, "email") == 0 && memchr(s, '@', n) == NULL) {
		pt_json_put(*out);
		*out = NULL;
		return skip(e, field, "is not an e-mail address (\"%.40s\")", s);
	}
	return PT_OK;
}

int
pt_action_user_field(const char *k)
{
	size_t i;

	for (i = 0; user_field_names[i]; i++)
		if (strcmp(user_field_names[i], k) == 0)
			return 1;
	return 0;
}

/*
 * A recipient: a user id (string/integer), an inline user {"id", ...} or
 * an object {"id", "collection", ...}.  Normalised to an object with
 * "collection" ("$users" for users) and "id", plus the inline fields.
 */
static enum pt_err
want_recipient(const pt_json *v, const char *field, struct verr *e,
    pt_json **out)
{
	struct pt_json_iter it = { 0 };
	pt_json *id = NULL, *r = NULL, *coll = NULL, *fv, *c;
	const char *k;
	char sub[96];
	enum pt_err rc;

	*out = NULL;
	if (pt_json_type(v) == PT_J_STRING || pt_json_type(v) == PT_J_INT) {
		if ((rc = want_id(v, field, e, &id)) != PT_OK)
			return rc;
		if ((r = pt_json_new_object()) == NULL ||
		    pt_json_set(r, "collection", pt_json_new_cstr("$users")) !=
		    PT_OK) {
			pt_json_put(id);
			pt_json_put(r);
			return PT_ENOMEM;
		}
		if (pt_json_set(r, "id", id) != PT_OK) {
			pt_json_put(r);
			return PT_ENOMEM;
		}
		*out = r;
		return PT_OK;
	}
	if (pt_json_type(v) != PT_J_OBJECT)
		return skip(e, field, "a recipient must be a user id, a user "
		    "{\"id\", ...} or an object {\"id\", \"collection\"}, not %s",
		    pt_jtype_name(pt_json_type(v)));
	snprintf(sub, sizeof(sub), "%s.id", field);
	if (!pt_json_get_ex(v, "id", &fv))
		return skip(e, sub, "is missing");
	if ((rc = want_id(fv, sub, e, &id)) != PT_OK)
		return rc;
	if ((r = pt_json_new_object()) == NULL)
		goto nomem;
	if ((c = pt_json_get(v, "collection")) != NULL) {
		snprintf(sub, sizeof(sub), "%s.collection", field);
		if ((rc = want_id(c, sub, e, &coll)) != PT_OK)
			goto fail;
	} else if ((coll = pt_json_new_cstr("$users")) == NULL)
		goto nomem;
	if (pt_json_set(r, "collection", coll) != PT_OK) {
		coll = NULL;
		goto nomem;
	}
	coll = NULL;
	if (pt_json_set(r, "id", id) != PT_OK) {
		id = NULL;
		goto nomem;
	}
	id = NULL;
	while (pt_json_iter_next(v, &it, &k, &fv)) {
		pt_json *copy;

		if (strcmp(k, "id") == 0 || strcmp(k, "collection") == 0)
			continue;
		if (pt_action_user_field(k) && strcmp(pt_json_str(pt_json_get(r,
		    "collection"), NULL), "$users") == 0) {
			snprintf(sub, sizeof(sub), "%s.%s", field, k);
			if ((rc = want_user_field(k, fv, sub, e, &copy)) != PT_OK)
				goto fail;
		} else
			copy = share(fv);
		if ((copy != NULL ? pt_json_set(r, k, copy) :
		    pt_json_set_null(r, k)) != PT_OK)
			goto nomem;
	}
	*out = r;
	return PT_OK;
nomem:
	rc = PT_ENOMEM;
fail:
	pt_json_put(id);
	pt_json_put(coll);
	pt_json_put(r);
	return rc;
}

/* A validator of one value: a new JSON value in *out, or a skip. */
typedef enum pt_err (*want_fn)(const pt_json *v, const char *field,
    struct verr *e, pt_json **out);

/*
 * A list of 1 to "max" values, each taken by "each" (named field[i]); a
 * value that is not a list is a list of one, taken by "one" (named field).
 */
static enum pt_err
want_list(const pt_json *v, const char *field, size_t max, want_fn one,
    want_fn each, struct verr *e, pt_json **out)
{
	pt_json *arr, *el;
	enum pt_err rc;
	char sub[96];
	size_t i, n;

	*out = NULL;
	if ((arr = pt_json_new_array()) == NULL)
		return PT_ENOMEM;
	if (pt_json_type(v) != PT_J_ARRAY) {
		if ((rc = one(v, field, e, &el)) != PT_OK ||
		    (rc = pt_json_append(arr, el)) != PT_OK) {
			pt_json_put(arr);
			return rc;
		}
		*out = arr;
		return PT_OK;
	}
	n = pt_json_len(v);
	if (n == 0 || n > max) {
		pt_json_put(arr);
		return n == 0 ? skip(e, field, "must not be empty") :
		    skip(e, field, "has %zu entries; the limit is %zu", n, max);
	}
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", field, i);
		if ((rc = each(pt_json_index(v, i), sub, e, &el)) != PT_OK ||
		    (rc = pt_json_append(arr, el)) != PT_OK) {
			pt_json_put(arr);
			return rc;
		}
	}
	*out = arr;
	return PT_OK;
}

/* An audience member in a list: a user id, or a user {"id", ...}. */
static enum pt_err
want_member(const pt_json *v, const char *field, struct verr *e,
    pt_json **out)
{
	if (pt_json_type(v) == PT_J_OBJECT && pt_json_get(v, "id"))
		v = pt_json_get(v, "id");
	return want_id(v, field, e, out);
}

/*
 * Resolve parameter "name" of mapping "m".  *v gets a new reference or
 * NULL; *present says whether it has a value (a JSON null counts as
 * present).  A required parameter that resolves to nothing skips.
 */
static enum pt_err
param(const struct pt_mapping *m, const char *name, const struct pt_roots *r,
    pt_json **v, int *present, struct verr *e)
{
	const struct pt_action_spec *spec = pt_action_spec(m->action);
	enum pt_path_res res;
	char why[300];
	int i = pt_action_param(m->action, name);

	*v = NULL;
	*present = 0;
	if (i < 0 || m->params[i].kind == PT_P_NONE) {
		if (i >= 0 && (spec->required & (1u << i)))
			return skip(e, name, "is required but not mapped");
		return PT_OK;
	}
	res = pt_param_resolve(&m->params[i], r, v, why, sizeof(why));
	if (res == PT_PATH_FOUND) {
		*present = 1;
		if (*v == NULL && (spec->required & (1u << i)))
			return skip(e, name, "is required but the value is null");
		return PT_OK;
	}
	if (strcmp(why, "out of memory") == 0)
		return PT_ENOMEM;
	if (spec->required & (1u << i))
		return skip(e, name, "is required but missing: %s", why);
	return PT_OK;	/* optional and absent */
}

/*
 * Resolve and validate mapping "m": build the payload the action will use.
 */
enum pt_err
pt_action_prepare(const struct pt_mapping *m, const struct pt_roots *r,
    pt_json **payload, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	return pt_action_prepare_len(m, r, 0, payload, field, fieldlen, msg,
	    msglen);
}

/* pt_action_prepare, knowing the body's length (0: unknown). */
enum pt_err
pt_action_prepare_len(const struct pt_mapping *m, const struct pt_roots *r,
    size_t bound, pt_json **payload, char *field, size_t fieldlen, char *msg,
    size_t msglen)
{
	struct verr e = { field, fieldlen, msg, msglen };
	const struct pt_action_spec *spec = pt_action_spec(m->action);
	pt_json *p = NULL, *raw = NULL, *val = NULL;
	enum pt_err rc = PT_OK;
	size_t i;
	int present;

	*payload = NULL;
	field[0] = msg[0] = '\0';
	if ((p = pt_json_new_object()) == NULL)
		return PT_ENOMEM;
	for (i = 0; i < PT_MAX_PARAMS && spec->params[i]; i++) {
		const char *name = spec->params[i];

		if ((rc = param(m, name, r, &raw, &present, &e)) !=
		    PT_OK)
			goto out;
		if (!present)
			continue;
		val = NULL;
		if (strcmp(name, "id") == 0 || strcmp(name, "collection") == 0 ||
		    strcmp(name, "key") == 0 ||
		    (strcmp(name, "tenant") == 0 &&
		    m->action != PT_A_WORKFLOWS_TRIGGER))
			rc = raw == NULL ? PT_OK : want_id(raw, name, &e, &val);
		else if (strcmp(name, "properties") == 0)
			rc = raw == NULL ? PT_OK : want_object(raw, name,
			    MAX_PROPERTIES, bound, &e, &val);
		else if (strcmp(name, "settings") == 0)
			rc = raw == NULL ? PT_OK : want_object(raw, name,
			    MAX_PROPERTIES, bound, &e, &val);
		else if (strcmp(name, "data") == 0)
			rc = raw == NULL ? PT_OK : want_object(raw, name, MAX_DATA,
			    bound, &e, &val);
		else if (strcmp(name, "recipients") == 0)
			rc = want_list(raw, name,
			    m->action == PT_A_WORKFLOWS_TRIGGER ||
			    m->action == PT_A_WORKFLOWS_CANCEL ? MAX_RECIPIENTS :
			    MAX_SUB_RECIPIENTS, want_recipient, want_recipient, &e,
			    &val);
		else if (strcmp(name, "users") == 0)
			rc = want_list(raw, name, MAX_AUDIENCE_USERS, want_id,
			    want_member, &e, &val);
		else if (strcmp(name, "actor") == 0)
			rc = raw == NULL ? PT_OK : want_recipient(raw, name, &e,
			    &val);
		else if (strcmp(name, "tenant") == 0) {
			/* Trigger: a tenant id or an inline tenant. */
			if (raw == NULL)
				rc = PT_OK;
			else if (pt_json_type(raw) == PT_J_OBJECT) {
				pt_json *tid;

				rc = want_id(pt_json_get(raw, "id"), "tenant.id", &e,
				    &tid);
				pt_json_put(tid);
				if (rc == PT_OK)
					val = share(raw);
			} else
				rc = want_id(raw, name, &e, &val);
		} else if (strcmp(name, "cancellation_key") == 0) {
			if (raw == NULL)
				rc = m->action == PT_A_WORKFLOWS_CANCEL ?
				    skip(&e, name, "is required but null") : PT_OK;
			else
				rc = want_id(raw, name, &e, &val);
		} else if (strcmp(name, "name") == 0 && m->action !=
		    PT_A_USERS_IDENTIFY)
			rc = want_string(raw, name, 1024, 1, &e, &val);
		else if (pt_action_user_field(name))
			rc = want_user_field(name, raw, name, &e, &val);
		else
			rc = skip(&e, name, "unsupported parameter");
		pt_json_put(raw);
		raw = NULL;
		if (rc != PT_OK)
			goto out;
		/* Optional parameters that resolved to null are left out, but
		 * user fields keep null: identify clears them. */
		if (val == NULL && !pt_action_user_field(name))
			continue;
		if ((rc = val != NULL ? pt_json_set(p, name, val) :
		    pt_json_set_null(p, name)) != PT_OK)
			goto out;
	}
	*payload = p;
	p = NULL;
out:
	pt_json_put(raw);
	pt_json_put(p);
	return rc;
}
