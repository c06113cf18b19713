/*
 * conf_vars.c - the top-level "variables": named secrets a preprocess
 * script reads as ctx.vars (porter.conf(5) "Variables").  Each is given
 * as a signing key's secret is (conf_key.c): inline, from a file, from
 * the environment, or as the fingerprint an export shows.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "conf_int.h"

#define MAX_VARS	64
#define MAX_VAR_NAME	64

/* [A-Za-z_][A-Za-z0-9_]*: a name a script writes as ctx.vars.NAME. */
static int
valid_var_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > MAX_VAR_NAME || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_'))
			return 0;
	return 1;
}

/* The stored variable whose value fingerprint "fp" names, or NULL. */
static const pt_json *
find_var(const struct pt_config *old, const void *arg, const char *fp)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *ent;
	size_t n;

	(void)arg;
	if (old == NULL)
		return NULL;
	while (pt_json_iter_next(pt_json_get(old->doc, "variables"), &it, &k,
	    &ent))
		if ((s = pt_json_str(pt_json_get(ent, "value"), &n)) != NULL &&
		    conf_fingerprint_is(old, fp, (const uint8_t *)s, n))
			return ent;
	return NULL;
}

/* One variable at "ptr": its resolved value into c->vars, "nvars". */
static int
parse_var(struct vctx *v, const char *ptr, const char *name,
    const pt_json *val, struct pt_config *c, pt_json *nvars)
{
	struct conf_secret cs = { find_var, NULL, "variable", { 0 } };
	const pt_json *spec = val;
	pt_json *ent = NULL;
	const char *s;
	size_t n;
	int rc = -1;

	if (v->mode == PT_CFG_STORED) {
		s = pt_json_str(pt_json_get(val, "value"), &n);
		spec = pt_json_get(val, "secret");
		if (s == NULL || spec == NULL) {
			conf_fail(v, ptr, "stored variable without a value");
			goto out;
		}
		if (pt_buf_add(&cs.val, s, n) != PT_OK) {
			conf_fail(v, ptr, "out of memory");
			goto out;
		}
	} else if (conf_resolve_secret(v, ptr, &cs, &spec) < 0)
		goto out;
	if (cs.val.len == 0) {
		conf_fail(v, ptr, "is empty");
		goto out;
	}
	if (memchr(cs.val.data, '\0', cs.val.len) != NULL) {
		conf_fail(v, ptr, "contains a NUL byte");
		goto out;
	}
	if (conf_norm(v, ptr, pt_json_new_object(), &ent) < 0)
		goto out;
	if (pt_json_set(ent, "secret", pt_json_copy(spec)) != PT_OK ||
	    pt_json_set(ent, "value", pt_json_new_str(cs.val.data,
	    cs.val.len)) != PT_OK ||
	    pt_json_set(c->vars, name, pt_json_new_str(cs.val.data,
	    cs.val.len)) != PT_OK ||
	    pt_json_set(nvars, name, ent) != PT_OK) {
		ent = NULL;	/* the setters take it even when they fail */
		conf_fail(v, ptr, "out of memory");
		goto out;
	}
	ent = NULL;
	rc = 0;
out:
	pt_json_put(ent);
	conf_secret_wipe(&cs);
	return rc;
}

int
conf_parse_vars(struct vctx *v, const char *ptr, const pt_json *val,
    struct pt_config *c, pt_json **norm)
{
	struct pt_json_iter it = { 0 };
	const char *name;
	pt_json *one;
	char sub[200];

	if ((c->vars = pt_json_new_object()) == NULL)
		return conf_fail(v, ptr, "out of memory");
	if (val == NULL)
		return CONF_OMIT;
	if (pt_json_type(val) != PT_J_OBJECT)
		return conf_fail(v, ptr, "must be an object of NAME -> value, "
		    "{\"env\": NAME}, {\"file\": PATH} or {\"redacted\": ...}");
	if (pt_json_len(val) > MAX_VARS)
		return conf_fail(v, ptr, "at most %d variables", MAX_VARS);
	if (conf_norm(v, ptr, pt_json_new_object(), norm) < 0)
		return -1;
	while (pt_json_iter_next(val, &it, &name, &one)) {
		conf_ptr_join(sub, sizeof(sub), ptr, name);
		if (!valid_var_name(name))
			return conf_fail(v, sub, "a variable name is 1 to 64 "
			    "characters of [A-Za-z0-9_], not starting with a "
			    "digit");
		if (parse_var(v, sub, name, one, c, *norm) < 0)
			return -1;
	}
	return 0;
}

enum pt_err
conf_export_vars(const struct pt_config *c, pt_json *doc, int with_secrets)
{
	struct pt_json_iter it = { 0 };
	pt_json *vars = pt_json_get(doc, "variables"), *ent, *spec;
	const char *name, *s;
	size_t n;

	while (pt_json_iter_next(vars, &it, &name, &ent)) {
		spec = pt_json_get(ent, "secret");
		if (pt_json_type(spec) == PT_J_STRING && !with_secrets) {
			s = pt_json_str(spec, &n);
			if ((spec = pt_secret_redacted(c, (const uint8_t *)s,
			    n)) == NULL)
				return PT_ENOMEM;
		} else if ((spec = pt_json_copy(spec)) == NULL)
			return PT_ENOMEM;
		/* Replacing the member while iterating: json-c keeps the key. */
		if (pt_json_set(vars, name, spec) != PT_OK)
			return PT_ENOMEM;
	}
	return PT_OK;
}
