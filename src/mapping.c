/*
 * mapping.c - actions, parameter specs, mapping compilation and parameter
 * resolution (see mapping.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "filter.h"
#include "mapping.h"

#define B(i)	(1u << (i))

/*
 * The actions in priority order, with their parameters; required ones are
 * the "required" bits.  Parameter names follow Knock's REST API.
 */
static const struct pt_action_spec specs[PT_A__MAX] = {
	[PT_A_USERS_IDENTIFY] = { "users_identify",
	    { "id", "name", "email", "phone_number", "avatar", "locale",
	      "timezone", "properties", NULL }, B(0), B(7), 0 },
	[PT_A_USERS_DELETE] = { "users_delete", { "id", NULL }, B(0), 0, 0 },
	[PT_A_OBJECTS_SET] = { "objects_set",
	    { "collection", "id", "name", "properties", NULL }, B(0) | B(1),
	    B(3), 0 },
	[PT_A_OBJECTS_DELETE] = { "objects_delete", { "collection", "id",
	    NULL }, B(0) | B(1), 0, 0 },
	[PT_A_TENANTS_SET] = { "tenants_set",
	    { "id", "name", "settings", "properties", NULL }, B(0),
	    B(2) | B(3), 0 },
	[PT_A_TENANTS_DELETE] = { "tenants_delete", { "id", NULL }, B(0), 0,
	    0 },
	[PT_A_OBJECTS_SUBSCRIBE] = { "objects_subscribe",
	    { "collection", "id", "recipients", "properties", NULL },
	    B(0) | B(1) | B(2), B(3), 0 },
	[PT_A_OBJECTS_UNSUBSCRIBE] = { "objects_unsubscribe",
	    { "collection", "id", "recipients", NULL }, B(0) | B(1) | B(2), 0,
	    0 },
	[PT_A_AUDIENCES_ADD_MEMBER] = { "audiences_add_member",
	    { "key", "users", "tenant", NULL }, B(0) | B(1), 0, B(0) },
	[PT_A_AUDIENCES_REMOVE_MEMBER] = { "audiences_remove_member",
	    { "key", "users", "tenant", NULL }, B(0) | B(1), 0, B(0) },
	[PT_A_WORKFLOWS_CANCEL] = { "workflows_cancel",
	    { "key", "cancellation_key", "recipients", NULL }, B(0) | B(1), 0,
	    B(0) },
	[PT_A_WORKFLOWS_TRIGGER] = { "workflows_trigger",
	    { "key", "recipients", "actor", "tenant", "data",
	      "cancellation_key", NULL }, B(0) | B(1), B(4), B(0) },
};

const struct pt_action_spec *
pt_action_spec(enum pt_action a)
{
	return (unsigned)a < PT_A__MAX ? &specs[a] : NULL;
}

int
pt_action_lookup(const char *name)
{
	int i;

	for (i = 0; i < PT_A__MAX; i++)
		if (strcmp(specs[i].name, name) == 0)
			return i;
	return -1;
}

int
pt_action_param(enum pt_action a, const char *param)
{
	int i;

	for (i = 0; i < PT_MAX_PARAMS && specs[a].params[i]; i++)
		if (strcmp(specs[a].params[i], param) == 0)
			return i;
	return -1;
}

static void
param_clear(struct pt_param *p)
{
	size_t i;

	for (i = 0; i < p->npaths; i++)
		pt_path_free(p->paths[i]);
	for (i = 0; i < p->nomit; i++)
		pt_free(p->omit[i]);
	pt_free(p->omit);
	pt_json_put(p->literal);
	for (i = 0; i < p->nfields; i++) {
		pt_free(p->names[i]);
		param_clear(&p->fields[i]);
	}
	pt_free(p->names);
	pt_free(p->fields);
	memset(p, 0, sizeof(*p));
}

void
pt_mapping_clear(struct pt_mapping *m)
{
	size_t i;

	pt_free(m->event_type);
	for (i = 0; i < PT_MAX_PARAMS; i++)
		param_clear(&m->params[i]);
	pt_json_put(m->spec);
	pt_free(m->spec_text);
	pt_filter_free(m->filter);
	memset(m, 0, sizeof(*m));
}

/* Is "obj" a reference form ({"value"} or {"path"[, "default"]})? */
static int
is_reference(const pt_json *obj)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *v;
	int has_value = 0, has_path = 0, other = 0, has_default = 0;

	while (pt_json_iter_next(obj, &it, &k, &v)) {
		if (strcmp(k, "value") == 0)
			has_value = 1;
		else if (strcmp(k, "path") == 0)
			has_path = 1;
		else if (strcmp(k, "default") == 0 || strcmp(k, "omit") == 0)
			has_default = 1;
		else
			other = 1;
	}
	if (other)
		return 0;
	return (has_value && !has_path && !has_default) ||
	    (has_path && !has_value);
}

#define MAX_BUILD_DEPTH 8

/* "path": one path string, or an array of alternatives tried in order. */
static enum pt_err
compile_paths(const pt_json *pv, struct pt_param *p, const char *ptr,
    char *err, size_t errlen)
{
	const pt_json *one;
	const char *s, *msg;
	size_t i, n, len;
	enum pt_err rc;

	n = pt_json_type(pv) == PT_J_ARRAY ? pt_json_len(pv) : 1;
	if ((pt_json_type(pv) != PT_J_STRING && pt_json_type(pv) != PT_J_ARRAY) ||
	    n == 0 || n > PT_MAX_ALTS) {
		snprintf(err, errlen, "%s/path: must be a path string or an array "
		    "of 1 to %d of them", ptr, PT_MAX_ALTS);
		return PT_EINVAL;
	}
	for (i = 0; i < n; i++) {
		one = pt_json_type(pv) == PT_J_ARRAY ? pt_json_index(pv, i) : pv;
		if ((s = pt_json_str(one, &len)) == NULL) {
			snprintf(err, errlen, "%s/path/%zu: must be a string", ptr,
			    i);
			return PT_EINVAL;
		}
		if ((rc = pt_path_compile(s, len, &p->paths[i], &msg)) !=
		    PT_OK) {
			snprintf(err, errlen, "%s/path: bad path \"%.80s\": %s",
			    ptr, s, msg ? msg : "?");
			return rc;
		}
		p->npaths = i + 1;
	}
	return PT_OK;
}

/* "omit": names of members to leave out of an object value. */
static enum pt_err
compile_omit(const pt_json *ov, struct pt_param *p, const char *ptr,
    char *err, size_t errlen)
{
	size_t i, n;

	if (ov == NULL)
		return PT_OK;
	n = pt_json_len(ov);
	if (pt_json_type(ov) != PT_J_ARRAY || n > 64) {
		snprintf(err, errlen, "%s/omit: must be an array of member names",
		    ptr);
		return PT_EINVAL;
	}
	if ((p->omit = pt_calloc(n ? n : 1, sizeof(*p->omit))) == NULL)
		return PT_ENOMEM;
	for (i = 0; i < n; i++) {
		if (pt_json_type(pt_json_index(ov, i)) != PT_J_STRING) {
			snprintf(err, errlen, "%s/omit/%zu: must be a string", ptr,
			    i);
			return PT_EINVAL;
		}
		if ((p->omit[i] = pt_strdup(pt_json_str(pt_json_index(ov, i),
		    NULL))) == NULL)
			return PT_ENOMEM;
		p->nomit = i + 1;
	}
	return PT_OK;
}

/*
 * Compile one parameter value at pointer "ptr" (for messages).
 * "builder": objects other than references build objects; "literal_key": a
 * plain string is a literal.
 */
static enum pt_err
param_compile(const pt_json *v, struct pt_param *p, int builder,
    int literal_key, int depth, const char *ptr, char *err, size_t errlen)
{
	const char *s, *msg;
	size_t n, i;
	pt_json *pv;
	enum pt_err rc;

	memset(p, 0, sizeof(*p));
	switch (pt_json_type(v)) {
	case PT_J_STRING:
		s = pt_json_str(v, &n);
		if (literal_key) {
			p->kind = PT_P_LITERAL;
			if ((p->literal = pt_json_copy(v)) == NULL)
				return PT_ENOMEM;
			return PT_OK;
		}
		p->kind = PT_P_PATH;
		if ((rc = pt_path_compile(s, n, &p->paths[0], &msg)) != PT_OK) {
			snprintf(err, errlen, "%s: bad path \"%.80s\": %s", ptr, s,
			    msg ? msg : "?");
			return rc;
		}
		p->npaths = 1;
		return PT_OK;
	case PT_J_OBJECT:
		if (is_reference(v)) {
			if (pt_json_get_ex(v, "value", &pv)) {
				p->kind = PT_P_LITERAL;
				if (pv != NULL && (p->literal = pt_json_copy(pv)) ==
				    NULL)
					return PT_ENOMEM;
				return PT_OK;
			}
			pv = pt_json_get(v, "path");
			p->kind = PT_P_PATH;
			if ((rc = compile_paths(pv, p, ptr, err, errlen)) != PT_OK)
				return rc;
			if ((rc = compile_omit(pt_json_get(v, "omit"), p, ptr, err,
			    errlen)) != PT_OK)
				return rc;
			if (pt_json_get_ex(v, "default", &pv)) {
				p->has_default = 1;
				if (pv != NULL && (p->literal = pt_json_copy(pv)) ==
				    NULL)
					return PT_ENOMEM;
			}
			return PT_OK;
		}
		if (!builder) {
			snprintf(err, errlen, "%s: must be a path string, "
			    "{\"value\": ...} or {\"path\": ..., \"default\": "
			    "...}", ptr);
			return PT_EINVAL;
		}
		if (depth >= MAX_BUILD_DEPTH) {
			snprintf(err, errlen, "%s: object built more than %d "
			    "levels deep", ptr, MAX_BUILD_DEPTH);
			return PT_EINVAL;
		}
		p->kind = PT_P_BUILD;
		n = pt_json_len(v);
		if ((p->names = pt_calloc(n, sizeof(*p->names))) == NULL ||
		    (p->fields = pt_calloc(n, sizeof(*p->fields))) == NULL)
			return PT_ENOMEM;
		{
			struct pt_json_iter it = { 0 };
			const char *k;
			char sub[512];

			i = 0;
			while (pt_json_iter_next(v, &it, &k, &pv)) {
				snprintf(sub, sizeof(sub), "%s/%s", ptr, k);
				if ((p->names[i] = pt_strdup(k)) == NULL)
					return PT_ENOMEM;
				p->nfields = i + 1;
				if ((rc = param_compile(pv, &p->fields[i], 1, 0,
				    depth + 1, sub, err, errlen)) != PT_OK)
					return rc;
				i++;
			}
		}
		return PT_OK;
	default:
		snprintf(err, errlen, "%s: must be a path string or an object "
		    "(got %s)", ptr, pt_jtype_name(pt_json_type(v)));
		return PT_EINVAL;
	}
}

enum pt_err
pt_mapping_compile(const pt_json *obj, struct pt_mapping *m, char *err,
    size_t errlen)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *v, *params = NULL;
	enum pt_err rc;
	int action = -1, idx;
	unsigned seen = 0;
	size_t n, i;
	char ptr[300];

	memset(m, 0, sizeof(*m));
	m->active = 1;
	if (pt_json_type(obj) != PT_J_OBJECT) {
		snprintf(err, errlen, ": a mapping must be an object");
		return PT_EINVAL;
	}
	while (pt_json_iter_next(obj, &it, &k, &v)) {
		if (strcmp(k, "event_type") == 0) {
			if (pt_json_type(v) != PT_J_STRING ||
			    (s = pt_json_str(v, &n), n == 0) || n > 255 ||
			    memchr(s, '\0', n) != NULL) {
				snprintf(err, errlen, "/event_type: must be a "
				    "string of 1 to 255 bytes");
				return PT_EINVAL;
			}
			if ((m->event_type = pt_strndup(s, n)) == NULL)
				return PT_ENOMEM;
		} else if (strcmp(k, "action") == 0) {
			if (pt_json_type(v) != PT_J_STRING ||
			    (action = pt_action_lookup(pt_json_str(v, NULL))) <
			    0) {
				snprintf(err, errlen, "/action: unknown action "
				    "\"%.60s\" (one of users_identify, "
				    "users_delete, objects_set, objects_delete, "
				    "tenants_set, tenants_delete, "
				    "objects_subscribe, objects_unsubscribe, "
				    "audiences_add_member, "
				    "audiences_remove_member, workflows_cancel, "
				    "workflows_trigger)",
				    pt_json_type(v) == PT_J_STRING ?
				    pt_json_str(v, NULL) : "");
				return PT_EINVAL;
			}
		} else if (strcmp(k, "active") == 0) {
			if (pt_json_type(v) != PT_J_BOOL) {
				snprintf(err, errlen, "/active: must be true or "
				    "false");
				return PT_EINVAL;
			}
			m->active = pt_json_bool(v);
		} else if (strcmp(k, "params") == 0) {
			if (pt_json_type(v) != PT_J_OBJECT) {
				snprintf(err, errlen, "/params: must be an object");
				return PT_EINVAL;
			}
			params = v;
		} else if (strcmp(k, "filter") == 0) {
			char fptr[200], ferr[200];

			if ((rc = pt_filter_compile(v, &m->filter, fptr,
			    sizeof(fptr), ferr, sizeof(ferr))) == PT_ENOMEM)
				return rc;
			if (rc != PT_OK) {
				snprintf(err, errlen, "/filter%s: %s", fptr,
				    ferr);
				return PT_EINVAL;
			}
		} else {
			snprintf(err, errlen, "/%s: unknown field (want "
			    "event_type, action, active, params, filter)", k);
			return PT_EINVAL;
		}
	}
	if (m->event_type == NULL) {
		snprintf(err, errlen, "/event_type: required");
		return PT_EINVAL;
	}
	if (action < 0) {
		snprintf(err, errlen, "/action: required");
		return PT_EINVAL;
	}
	m->action = (enum pt_action)action;
	if (params != NULL) {
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(params, &it, &k, &v)) {
			if ((idx = pt_action_param(m->action, k)) < 0) {
				struct pt_buf names = { 0 };

				for (i = 0; specs[action].params[i]; i++)
					pt_buf_printf(&names, "%s%s", i ? ", " :
					    "", specs[action].params[i]);
				snprintf(err, errlen, "/params/%s: %s has no "
				    "parameter \"%s\" (it takes %s)", k,
				    specs[action].name, k,
				    names.data ? names.data : "");
				pt_buf_free(&names);
				return PT_EINVAL;
			}
			snprintf(ptr, sizeof(ptr), "/params/%s", k);
			if ((rc = param_compile(v, &m->params[idx],
			    (specs[action].builders & B(idx)) != 0,
			    (specs[action].literal_key & B(idx)) != 0, 0, ptr,
			    err, errlen)) != PT_OK)
				return rc;
			seen |= B(idx);
		}
		if ((m->spec = pt_json_copy(params)) == NULL)
			return PT_ENOMEM;
	} else if ((m->spec = pt_json_new_object()) == NULL)
		return PT_ENOMEM;
	for (i = 0; specs[action].params[i]; i++)
		if ((specs[action].required & B(i)) && !(seen & B(i))) {
			snprintf(err, errlen, "/params/%s: required by %s",
			    specs[action].params[i], specs[action].name);
			return PT_EINVAL;
		}
	/* The action log repeats the params: serialise them once. */
	{
		const char *t = pt_json_text(m->spec, PT_JSON_PLAIN, &n);

		if (t == NULL || (m->spec_text = pt_strndup(t, n)) == NULL)
			return PT_ENOMEM;
	}
	return PT_OK;
}

/*
 * A new object with the members of "v" but the omitted ones; the member
 * values are shared, "v" itself is left alone (it may be the body's).
 */
static pt_json *
omitting(const pt_json *v, const struct pt_param *p)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *o, *mv;
	size_t i;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	while (pt_json_iter_next(v, &it, &k, &mv)) {
		for (i = 0; i < p->nomit && strcmp(p->omit[i], k) != 0; i++)
			;
		if (i < p->nomit)
			continue;
		if (pt_json_set_ref(o, k, mv) != PT_OK) {
			pt_json_put(o);
			return NULL;
		}
	}
	return o;
}

enum pt_path_res
pt_param_resolve(const struct pt_param *p, const struct pt_roots *r,
    pt_json **out, char *why, size_t whylen)
{
	enum pt_path_res res;
	pt_json *v, *obj;
	size_t i;

	*out = NULL;
	switch (p->kind) {
	case PT_P_LITERAL:
		*out = p->literal ? pt_json_ref(p->literal) : NULL;
		return PT_PATH_FOUND;
	case PT_P_PATH:
		/* The first alternative with a value; "why" from the first. */
		res = PT_PATH_MISSING;
		v = NULL;
		for (i = 0; i < p->npaths; i++) {
			char w2[200];

			res = pt_path_resolve(p->paths[i], r, &v,
			    i == 0 ? why : w2, i == 0 ? whylen : sizeof(w2));
			if (res == PT_PATH_FOUND && v != NULL)
				break;
		}
		if (res != PT_PATH_FOUND || (v == NULL && p->has_default)) {
			if (!p->has_default)
				return res;
			v = p->literal;
		}
		if (p->nomit > 0 && pt_json_type(v) == PT_J_OBJECT)
			*out = omitting(v, p);
		else
			*out = v ? pt_json_ref(v) : NULL;
		if (v != NULL && *out == NULL) {
			snprintf(why, whylen, "out of memory");
			return PT_PATH_MISMATCH;
		}
		return PT_PATH_FOUND;
	case PT_P_BUILD:
		if ((obj = pt_json_new_object()) == NULL) {
			snprintf(why, whylen, "out of memory");
			return PT_PATH_MISMATCH;
		}
		for (i = 0; i < p->nfields; i++) {
			char sub[8];

			if (pt_param_resolve(&p->fields[i], r, &v, sub,
			    sizeof(sub)) != PT_PATH_FOUND)
				continue;
			/* A value found may be null. */
			if ((v != NULL ? pt_json_set(obj, p->names[i], v) :
			    pt_json_set_null(obj, p->names[i])) != PT_OK) {
				pt_json_put(obj);
				snprintf(why, whylen, "out of memory");
				return PT_PATH_MISMATCH;
			}
		}
		*out = obj;
		return PT_PATH_FOUND;
	case PT_P_NONE:
	default:
		snprintf(why, whylen, "not configured");
		return PT_PATH_MISSING;
	}
}
