/*
 * conf_env.c - one environment of a source: its fields checked, compiled
 * and normalised, with what the source type gives by default, and the
 * headers its scheme and paths read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "conf_int.h"
#include "form.h"
#include "http.h"
#include "ids.h"
#include "util.h"

#define MAX_WINDOW		(90 * 86400)

/* An endpoint id appears in URLs: 8-128 of [A-Za-z0-9_-]. */
static int
valid_endpoint(const char *s, size_t n)
{
	size_t i;

	if (n < 8 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * Add header "name" to the list "*names" of "*n", normalised as the
 * FastCGI loop names headers (lower-case, "_" as "-": CGI cannot tell
 * them apart), once.  Returns 0, or -1 when out of memory.
 */
static int
names_add(char ***names, size_t *n, const char *name)
{
	char *c, *p, **grown;

	if ((c = pt_strdup(name)) == NULL)
		return -1;
	for (p = c; *p != '\0'; p++)
		*p = *p == '_' ? '-' : (*p >= 'A' && *p <= 'Z') ?
		    (char)(*p - 'A' + 'a') : *p;
	if (pt_env_names_have(*names, *n, c)) {
		pt_free(c);
		return 0;
	}
	if ((grown = pt_realloc(*names, (*n + 1) * sizeof(*grown))) == NULL) {
		pt_free(c);
		return -1;
	}
	*names = grown;
	(*names)[(*n)++] = c;
	return 0;
}

/* The header path "p" reads, if it reads one (or all of them). */
static int
path_deps(struct pt_env *e, const struct pt_path *p)
{
	if (p == NULL || p->ns != PT_NS_HEADERS)
		return 0;
	if (p->nsegs == 0) {
		e->all_headers = 1;
		return 0;
	}
	return names_add(&e->header_deps, &e->nheader_deps, p->segs[0].key);
}

/* Every path of a mapping parameter, objects built field by field too. */
static int
param_deps(struct pt_env *e, const struct pt_param *p)
{
	size_t i;

	for (i = 0; i < p->npaths; i++)
		if (path_deps(e, p->paths[i]) < 0)
			return -1;
	for (i = 0; i < p->nfields; i++)
		if (param_deps(e, &p->fields[i]) < 0)
			return -1;
	return 0;
}

/*
 * Fill the header lists of a compiled environment (conf.h): what its
 * scheme reads and what the paths identify() and the mappings resolve
 * read.  Returns 0, or -1 when out of memory.
 */
static int
header_deps(struct pt_env *e)
{
	struct pt_scheme_read reads[PT_SCHEME_MAX_READS];
	size_t i, j, n;

	n = e->scheme != NULL ? pt_scheme_reads(e->scheme, reads) : 0;
	for (i = 0; i < n; i++)
		if (names_add(&e->header_deps, &e->nheader_deps,
		    reads[i].name) < 0 || (reads[i].credential &&
		    names_add(&e->credential_headers, &e->ncredential_headers,
		    reads[i].name) < 0))
			return -1;
	if (e->type_rule == PT_RULE_PATH && e->type_template != NULL) {
		for (i = 0; i < e->type_template->nparts; i++)
			if (path_deps(e, e->type_template->paths[i]) < 0)
				return -1;
	} else if (e->type_rule == PT_RULE_PATH &&
	    path_deps(e, e->event_type_path) < 0)
		return -1;
	if (path_deps(e, e->timestamp_path) < 0 ||
	    path_deps(e, e->batch_path) < 0 ||
	    (e->idem_enabled && path_deps(e, e->idem_key_path) < 0))
		return -1;
	for (i = 0; i < e->nmappings; i++)
		for (j = 0; j < PT_MAX_PARAMS; j++)
			if (param_deps(e, &e->mappings[i].params[j]) < 0)
				return -1;
	return 0;
}

/* A path-valued field; "dflt" when absent; JSON null allowed if "nullable". */
static int
parse_path_field(struct vctx *v, const char *ptr, const pt_json *env,
    const char *field, const char *dflt, int nullable, pt_json *norm,
    struct pt_path **out)
{
	pt_json *val;
	const char *s, *msg;
	char sub[512];
	size_t n;
	int present;

	conf_ptr_join(sub, sizeof(sub), ptr, field);
	present = pt_json_get_ex(env, field, &val);
	if (!present) {
		if (dflt == NULL)
			return pt_json_set(norm, field, NULL) == PT_OK ? 0 :
			    conf_fail(v, sub, "out of memory");
		s = dflt;
		n = strlen(dflt);
	} else if (val == NULL) {
		if (!nullable)
			return conf_fail(v, sub, "must be a path string");
		return pt_json_set(norm, field, NULL) == PT_OK ? 0 :
		    conf_fail(v, sub, "out of memory");
	} else if (pt_json_type(val) != PT_J_STRING)
		return conf_fail(v, sub, "must be a path string%s", nullable ?
		    " or null" : "");
	else
		s = pt_json_str(val, &n);
	if (pt_path_compile(s, n, out, &msg) != PT_OK)
		return conf_fail(v, sub, "bad path \"%.80s\": %s", s, msg ? msg : "?");
	if (pt_json_set(norm, field, pt_json_new_str(s, n)) != PT_OK)
		return conf_fail(v, sub, "out of memory");
	return 0;
}

static int
mapping_cmp(const void *a, const void *b)
{
	const struct pt_mapping *x = a, *y = b;

	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Generate "src_" + 20 base32 characters from the CSPRNG. */
static int
new_endpoint_id(char out[32])
{
	memcpy(out, "src_", 4);
	return pt_random_b32(out + 4, 20) == PT_OK ? 0 : -1;
}

/* "names" (NULL-terminated) as "a, b, c" in "out". */
static const char *
join_names(const char *const *names, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; names[i] != NULL && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
		    names[i]);
	return out;
}

/* The Content-Types an environment takes, by their names in the config. */
static const struct {
	const char	*name;
	int		 format;
} body_formats[] = {
	{ "json", PT_BODY_JSON },
	{ "form", PT_BODY_FORM },
};

/* The type's default for "field" ("text", JSON), or the field's own value. */
static pt_json *
field_or_default(const pt_json *env, const char *field, const char *text)
{
	pt_json *val;

	if (pt_json_get_ex(env, field, &val))
		return pt_json_ref(val);
	return pt_json_parse_trusted(text, strlen(text));
}

/*
 * body_formats (a non-empty set of "json", "form") and form_json_fields
 * (form fields whose values are JSON text) of environment "e" at "ptr".
 */
static int
parse_body_formats(struct vctx *v, const char *ptr, const pt_json *env,
    const struct pt_source_type *type, pt_json *norm, struct pt_env *e)
{
	pt_json *fmts = NULL, *names = NULL, *one;
	const char *s;
	char sub[512], sub2[600];
	size_t i, j, n, len;
	int rc = -1, f;

	conf_ptr_join(sub, sizeof(sub), ptr, "body_formats");
	if ((fmts = field_or_default(env, "body_formats",
	    pt_catalog_body_formats(type))) == NULL &&
	    pt_json_get_ex(env, "body_formats", NULL) == 0)
		goto nomem;
	if (pt_json_type(fmts) != PT_J_ARRAY || pt_json_len(fmts) == 0) {
		conf_fail(v, sub, "must be a non-empty array of \"json\" and "
		    "\"form\" (application/x-www-form-urlencoded)");
		goto out;
	}
	e->body_formats = 0;
	for (i = 0; i < pt_json_len(fmts); i++) {
		conf_ptr_index(sub2, sizeof(sub2), sub, i);
		s = pt_json_str(pt_json_index(fmts, i), NULL);
		for (j = 0, f = 0; s != NULL && j < PT_NITEMS(body_formats); j++)
			if (strcmp(s, body_formats[j].name) == 0)
				f = body_formats[j].format;
		if (f == 0) {
			conf_fail(v, sub2, "must be \"json\" or \"form\"");
			goto out;
		}
		if (e->body_formats & f) {
			conf_fail(v, sub2, "\"%s\" is listed twice", s);
			goto out;
		}
		e->body_formats |= f;
	}

	conf_ptr_join(sub, sizeof(sub), ptr, "form_json_fields");
	if ((names = field_or_default(env, "form_json_fields",
	    pt_catalog_form_json_fields(type))) == NULL &&
	    pt_json_get_ex(env, "form_json_fields", NULL) == 0)
		goto nomem;
	if (pt_json_type(names) != PT_J_ARRAY ||
	    (n = pt_json_len(names)) > PT_MAX_FORM_JSON) {
		conf_fail(v, sub, "must be an array of at most %d field names",
		    PT_MAX_FORM_JSON);
		goto out;
	}
	if (n > 0 && (e->form_json = pt_calloc(n, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		conf_ptr_index(sub2, sizeof(sub2), sub, i);
		one = pt_json_index(names, i);
		if ((s = pt_json_str(one, &len)) == NULL || len == 0 ||
		    len > PT_FORM_MAX_NAME || memchr(s, '\0', len) != NULL) {
			conf_fail(v, sub2, "must be a field name of 1 to %d bytes",
			    PT_FORM_MAX_NAME);
			goto out;
		}
		for (j = 0; j < e->nform_json; j++)
			if (strcmp(e->form_json[j], s) == 0) {
				conf_fail(v, sub2, "\"%.80s\" is listed twice", s);
				goto out;
			}
		if ((e->form_json[i] = pt_strdup(s)) == NULL)
			goto nomem;
		e->nform_json = i + 1;
	}
	if ((one = pt_json_copy(fmts)) == NULL ||
	    pt_json_set(norm, "body_formats", one) != PT_OK ||
	    (one = pt_json_copy(names)) == NULL ||
	    pt_json_set(norm, "form_json_fields", one) != PT_OK)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = conf_fail(v, ptr, "out of memory");
out:
	pt_json_put(fmts);
	pt_json_put(names);
	return rc;
}

/*
 * One environment "name" of source "src" (already checked) at "ptr".
 */
int
conf_parse_env(struct vctx *v, const char *ptr, const pt_json *src_obj,
    const struct pt_source_type *type, const char *src_key,
    const char *src_name, const char *name, const pt_json *env,
    struct pt_env **out)
{
	static const char *const fields[] = {
		"endpoint_id", "verify", "signature", "signing_keys",
		"event_type_path", "event_type_template", "event_type_rule",
		"batch_path", "timestamp_path", "idempotency",
		"max_body_bytes", "body_formats", "form_json_fields",
		"mappings", "public_url", NULL
	};
	struct pt_json_iter it = { 0 };
	const struct pt_env *old_env;
	struct pt_env *e = NULL;
	pt_json *val, *norm = NULL, *nkeys = NULL, *maps = NULL, *idem, *iv;
	pt_json *dflt = NULL;
	const char *k, *s;
	char sub[512], sub2[600], eid[32];
	size_t i, n;
	int rc = -1, found;

	(void)src_obj;
	if (pt_json_type(env) != PT_J_OBJECT)
		return conf_fail(v, ptr, "an environment must be an object");
	while (pt_json_iter_next(env, &it, &k, &val)) {
		for (i = 0; fields[i] && strcmp(fields[i], k) != 0; i++)
			;
		if (fields[i] == NULL) {
			char want[400];

			conf_ptr_join(sub, sizeof(sub), ptr, k);
			return conf_fail(v, sub, "unknown field (want %s)",
			    join_names(fields, want, sizeof(want)));
		}
	}
	if ((e = pt_calloc(1, sizeof(*e))) == NULL ||
	    (norm = pt_json_new_object()) == NULL)
		goto nomem;
	if ((e->source_key = pt_strdup(src_key)) == NULL ||
	    (e->source_name = pt_strdup(src_name)) == NULL ||
	    (e->source_type = pt_strdup(type->name)) == NULL ||
	    (e->name = pt_strdup(name)) == NULL)
		goto nomem;
	old_env = pt_config_env(v->old, src_key, name);

	/* endpoint_id: given, kept from before, or new. */
	conf_ptr_join(sub, sizeof(sub), ptr, "endpoint_id");
	if ((val = pt_json_get(env, "endpoint_id")) != NULL) {
		s = pt_json_str(val, &n);
		if (s == NULL || !valid_endpoint(s, n)) {
			conf_fail(v, sub, "must be 8 to 128 characters of "
			    "[A-Za-z0-9_-]");
			goto out;
		}
		e->endpoint_id = pt_strndup(s, n);
	} else if (old_env != NULL)
		e->endpoint_id = pt_strdup(old_env->endpoint_id);
	else {
		if (new_endpoint_id(eid) < 0) {
			conf_fail(v, sub, "cannot read random bytes");
			goto out;
		}
		e->endpoint_id = pt_strdup(eid);
	}
	if (e->endpoint_id == NULL || pt_json_set(norm, "endpoint_id",
	    pt_json_new_cstr(e->endpoint_id)) != PT_OK)
		goto nomem;

	/* signature: a preset name, an object, or null for none. */
	conf_ptr_join(sub, sizeof(sub), ptr, "signature");
	found = pt_json_get_ex(env, "signature", &val);
	if (!found && type->scheme != NULL) {
		e->scheme = pt_scheme_preset(type->scheme);
		if (pt_json_set(norm, "signature",
		    pt_json_new_cstr(type->scheme)) != PT_OK)
			goto nomem;
	} else if (!found || val == NULL) {
		e->scheme = NULL;
		if (pt_json_set(norm, "signature", NULL) != PT_OK)
			goto nomem;
	} else {
		char serr[300];
		struct pt_scheme *sch = NULL;
		enum pt_err src;

		if ((src = pt_scheme_from_json(val, &sch, serr,
		    sizeof(serr))) != PT_OK) {
			v->oom |= src == PT_ENOMEM;
			/* serr starts with its own pointer below "sub". */
			snprintf(v->err, v->errlen, "%s%s", sub, serr);
			goto out;
		}
		e->scheme = sch;
		if (pt_json_set(norm, "signature", pt_json_copy(val)) != PT_OK)
			goto nomem;
	}

	/* signing_keys */
	conf_ptr_join(sub, sizeof(sub), ptr, "signing_keys");
	if ((nkeys = pt_json_new_array()) == NULL)
		goto nomem;
	if ((val = pt_json_get(env, "signing_keys")) != NULL) {
		if (pt_json_type(val) != PT_J_ARRAY) {
			conf_fail(v, sub, "must be an array of {\"secret\": ..., "
			    "\"expires_at\": ...}");
			goto out;
		}
		n = pt_json_len(val);
		if (n > 16) {
			conf_fail(v, sub, "at most 16 keys");
			goto out;
		}
		if ((e->keys = pt_calloc(n, sizeof(*e->keys))) == NULL ||
		    (e->secrets = pt_calloc(n, sizeof(*e->secrets))) == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			conf_ptr_index(sub2, sizeof(sub2), sub, i);
			if (conf_parse_key(v, sub2, pt_json_index(val, i),
			    old_env ? old_env->norm : NULL, nkeys,
			    &e->keys[i]) < 0)
				goto out;
			e->nkeys = i + 1;
			if (e->scheme != NULL) {
				char kerr[300], sub3[700];

				if (pt_scheme_check_secret(e->scheme,
				    e->keys[i].secret, e->keys[i].len, kerr,
				    sizeof(kerr)) != PT_OK) {
					conf_ptr_join(sub3, sizeof(sub3), sub2, "secret");
					conf_fail(v, sub3, "not usable with signature "
					    "scheme %s: %s", pt_scheme_name(e->scheme),
					    kerr);
					goto out;
				}
			}
			e->secrets[i].data = e->keys[i].secret;
			e->secrets[i].len = e->keys[i].len;
			e->secrets[i].expires_at = e->keys[i].expires_at;
		}
	}

	/* verify */
	conf_ptr_join(sub, sizeof(sub), ptr, "verify");
	if ((val = pt_json_get(env, "verify")) != NULL) {
		if (pt_json_type(val) != PT_J_BOOL) {
			conf_fail(v, sub, "must be true or false");
			goto out;
		}
		e->verify = pt_json_bool(val);
	} else
		e->verify = type->verify < 0 ? e->nkeys > 0 : type->verify;
	if (e->verify && e->scheme == NULL) {
		conf_fail(v, sub, "true, but \"signature\" is null: nothing to verify "
		    "with");
		goto out;
	}
	if (e->verify && e->nkeys == 0) {
		conf_fail(v, sub, "true, but there are no signing_keys");
		goto out;
	}
	if (pt_json_set(norm, "verify", pt_json_new_bool(e->verify)) != PT_OK ||
	    pt_json_set(norm, "signing_keys", nkeys) != PT_OK) {
		nkeys = NULL;
		goto nomem;
	}
	nkeys = NULL;

	if (parse_path_field(v, ptr, env, "event_type_path",
	    type->event_type_path, 0, norm, &e->event_type_path) < 0 ||
	    parse_path_field(v, ptr, env, "timestamp_path", type->timestamp_path,
	    1, norm, &e->timestamp_path) < 0 ||
	    parse_path_field(v, ptr, env, "batch_path", type->batch_path, 1,
	    norm, &e->batch_path) < 0)
		goto out;

	/*
	 * event_type_template: used instead of event_type_path when set.  The
	 * type's default applies only where the environment names neither,
	 * so that an operator's own event_type_path is never overridden.
	 */
	conf_ptr_join(sub, sizeof(sub), ptr, "event_type_template");
	found = pt_json_get_ex(env, "event_type_template", &val);
	if (!found && !pt_json_get_ex(env, "event_type_path", NULL) &&
	    type->event_type_template != NULL) {
		if ((dflt = pt_json_parse_trusted(type->event_type_template,
		    strlen(type->event_type_template))) == NULL)
			goto nomem;
		val = dflt;
	} else if (!found)
		val = NULL;
	if (conf_parse_templates(v, sub, val, &e->type_template) < 0)
		goto out;
	if ((iv = val ? pt_json_copy(val) : NULL) == NULL && val != NULL)
		goto nomem;
	if (pt_json_set(norm, "event_type_template", iv) != PT_OK)
		goto nomem;

	/* event_type_rule: how CDP payloads name their events. */
	conf_ptr_join(sub, sizeof(sub), ptr, "event_type_rule");
	found = pt_json_get_ex(env, "event_type_rule", &val);
	s = found ? (val ? pt_json_str(val, NULL) : NULL) : type->event_type_rule;
	e->type_rule = PT_RULE_PATH;
	if (s != NULL && strcmp(s, "segment") == 0)
		e->type_rule = PT_RULE_SEGMENT;
	else if (s != NULL && strcmp(s, "rudderstack") == 0)
		e->type_rule = PT_RULE_RUDDERSTACK;
	else if (s != NULL || (found && val != NULL)) {
		conf_fail(v, sub, "must be \"segment\", \"rudderstack\" or null");
		goto out;
	}
	if (pt_json_set(norm, "event_type_rule", s ? pt_json_new_cstr(s) :
	    NULL) != PT_OK)
		goto nomem;

	/* idempotency */
	conf_ptr_join(sub, sizeof(sub), ptr, "idempotency");
	e->idem_enabled = type->idempotency_enabled;
	e->idem_window = PT_IDEM_WINDOW_DEFAULT;
	if ((idem = pt_json_new_object()) == NULL ||
	    pt_json_set(norm, "idempotency", idem) != PT_OK)
		goto nomem;
	val = pt_json_get(env, "idempotency");
	if (val != NULL && pt_json_type(val) != PT_J_OBJECT) {
		conf_fail(v, sub, "must be an object {\"enabled\", \"key_path\", "
		    "\"window_seconds\"}");
		goto out;
	}
	memset(&it, 0, sizeof(it));
	while (val != NULL && pt_json_iter_next(val, &it, &k, &iv)) {
		conf_ptr_join(sub2, sizeof(sub2), sub, k);
		if (strcmp(k, "enabled") == 0) {
			if (pt_json_type(iv) != PT_J_BOOL) {
				conf_fail(v, sub2, "must be true or false");
				goto out;
			}
			e->idem_enabled = pt_json_bool(iv);
		} else if (strcmp(k, "window_seconds") == 0) {
			if (pt_json_type(iv) != PT_J_INT ||
			    pt_json_int(iv) < 1 ||
			    pt_json_int(iv) > MAX_WINDOW) {
				conf_fail(v, sub2, "must be an integer from 1 to %d",
				    MAX_WINDOW);
				goto out;
			}
			e->idem_window = pt_json_int(iv);
		} else if (strcmp(k, "key_path") != 0) {
			conf_fail(v, sub2, "unknown field (want enabled, key_path, "
			    "window_seconds)");
			goto out;
		}
	}
	if (parse_path_field(v, sub, val, "key_path", type->idempotency_key_path,
	    1, idem, &e->idem_key_path) < 0)
		goto out;
	if (e->idem_enabled && e->idem_key_path == NULL) {
		conf_ptr_join(sub2, sizeof(sub2), sub, "key_path");
		conf_fail(v, sub2, "required when idempotency is enabled");
		goto out;
	}
	if (pt_json_set(idem, "enabled", pt_json_new_bool(e->idem_enabled)) !=
	    PT_OK || pt_json_set(idem, "window_seconds",
	    pt_json_new_int(e->idem_window)) != PT_OK)
		goto nomem;

	/* max_body_bytes */
	conf_ptr_join(sub, sizeof(sub), ptr, "max_body_bytes");
	e->max_body = PT_MAX_BODY_DEFAULT;
	if ((val = pt_json_get(env, "max_body_bytes")) != NULL) {
		if (pt_json_type(val) != PT_J_INT || pt_json_int(val) < 1 ||
		    pt_json_int(val) > PT_MAX_BODY_CAP) {
			conf_fail(v, sub, "must be an integer from 1 to %d (16 MiB)",
			    PT_MAX_BODY_CAP);
			goto out;
		}
		e->max_body = (uint64_t)pt_json_int(val);
	}
	if (pt_json_set(norm, "max_body_bytes",
	    pt_json_new_int((int64_t)e->max_body)) != PT_OK)
		goto nomem;

	/* body_formats and form_json_fields: what the endpoint can parse. */
	if (parse_body_formats(v, ptr, env, type, norm, e) < 0)
		goto out;

	/* public_url */
	conf_ptr_join(sub, sizeof(sub), ptr, "public_url");
	if ((val = pt_json_get(env, "public_url")) != NULL) {
		if (pt_json_type(val) != PT_J_STRING ||
		    (strncmp(pt_json_str(val, NULL), "https://", 8) != 0 &&
		    strncmp(pt_json_str(val, NULL), "http://", 7) != 0)) {
			conf_fail(v, sub, "must be an http(s) URL");
			goto out;
		}
		if ((e->public_url = pt_strdup(pt_json_str(val, NULL))) == NULL ||
		    pt_json_set(norm, "public_url", pt_json_copy(val)) != PT_OK)
			goto nomem;
	} else if (e->verify && e->scheme != NULL &&
	    pt_scheme_signs_url(e->scheme)) {
		/* Else every request would fail its check: say so now. */
		conf_fail(v, sub, "required: scheme %s signs the URL the sender "
		    "calls; give its scheme and host, such as "
		    "\"https://hooks.example.com\"", pt_scheme_name(e->scheme));
		goto out;
	}

	/* mappings: as given, or the type's defaults */
	conf_ptr_join(sub, sizeof(sub), ptr, "mappings");
	if ((val = pt_json_get(env, "mappings")) != NULL) {
		if (pt_json_type(val) != PT_J_ARRAY) {
			conf_fail(v, sub, "must be an array");
			goto out;
		}
		maps = pt_json_copy(val);
	} else
		maps = pt_json_parse_trusted(type->default_mappings,
		    strlen(type->default_mappings));
	if (maps == NULL)
		goto nomem;
	n = pt_json_len(maps);
	if (n > 1000) {
		conf_fail(v, sub, "at most 1000 mappings");
		goto out;
	}
	if (n > 0 && (e->mappings = pt_calloc(n, sizeof(*e->mappings))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		char merr[400];
		enum pt_err mrc;

		if ((mrc = pt_mapping_compile(pt_json_index(maps, i),
		    &e->mappings[i], merr, sizeof(merr))) != PT_OK) {
			v->oom |= mrc == PT_ENOMEM;
			e->nmappings = i + 1;
			conf_ptr_index(sub2, sizeof(sub2), sub, i);
			conf_fail(v, sub2, "%s", merr[0] == ':' ? merr + 2 : merr);
			if (merr[0] == '/')
				snprintf(v->err, v->errlen, "%s%s", sub2, merr);
			goto out;
		}
		e->mappings[i].order = i;
		e->nmappings = i + 1;
	}
	if (n > 1)
		qsort(e->mappings, n, sizeof(*e->mappings), mapping_cmp);
	if (pt_json_set(norm, "mappings", maps) != PT_OK) {
		maps = NULL;
		goto nomem;
	}
	maps = NULL;
	if (header_deps(e) < 0)
		goto nomem;

	e->norm = norm;
	norm = NULL;
	*out = e;
	e = NULL;
	rc = 0;
	goto out;
nomem:
	rc = conf_fail(v, ptr, "out of memory");
out:
	pt_json_put(dflt);
	pt_json_put(maps);
	pt_json_put(nkeys);
	pt_json_put(norm);
	conf_env_free(e);
	return rc;
}
