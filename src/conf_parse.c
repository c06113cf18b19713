/*
 * conf_parse.c - validate and compile a configuration document: its top
 * level, settings, workflows and sources (environments: conf_env.c).
 * Errors name the place as a JSON pointer (RFC 6901).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "conf_int.h"
#include "ids.h"

#define MAX_NAME		64

int __attribute__((format(printf, 3, 4)))
conf_fail(struct vctx *v, const char *ptr, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message alone: the pointer holds the document's own keys. */
	if (strcmp(msg, "out of memory") == 0)
		v->oom = 1;
	snprintf(v->err, v->errlen, "%s: %s", ptr[0] ? ptr : "/", msg);
	return -1;
}

/* "base" + "/" + escaped "key" (RFC 6901) into "out". */
void
conf_ptr_join(char *out, size_t cap, const char *base, const char *key)
{
	size_t n;

	n = (size_t)snprintf(out, cap, "%s/", base);
	for (; *key && n + 3 < cap; key++) {
		if (*key == '~') {
			out[n++] = '~';
			out[n++] = '0';
		} else if (*key == '/') {
			out[n++] = '~';
			out[n++] = '1';
		} else
			out[n++] = *key;
	}
	out[n < cap ? n : cap - 1] = '\0';
}

void
conf_ptr_index(char *out, size_t cap, const char *base, size_t i)
{
	snprintf(out, cap, "%s/%zu", base, i);
}

/* A name (source key, environment): 1-64 of [A-Za-z0-9_.-], not "." first. */
static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MAX_NAME || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* settings: {"durability": "full"|"relaxed", "log_retention_days": N} */
static int
parse_settings(struct vctx *v, const pt_json *s, struct pt_config *c,
    pt_json *norm)
{
	struct pt_json_iter it = { 0 };
	const char *k, *d;
	pt_json *val;
	char sub[512];

	c->durability = PT_DURABLE_FULL;
	c->log_retention_days = 30;
	if (s != NULL && pt_json_type(s) != PT_J_OBJECT)
		return conf_fail(v, "/settings", "must be an object");
	while (s != NULL && pt_json_iter_next(s, &it, &k, &val)) {
		conf_ptr_join(sub, sizeof(sub), "/settings", k);
		if (strcmp(k, "durability") == 0) {
			d = pt_json_str(val, NULL);
			if (d != NULL && strcmp(d, "full") == 0)
				c->durability = PT_DURABLE_FULL;
			else if (d != NULL && strcmp(d, "relaxed") == 0)
				c->durability = PT_DURABLE_RELAXED;
			else
				return conf_fail(v, sub, "must be \"full\" or "
				    "\"relaxed\"");
		} else if (strcmp(k, "log_retention_days") == 0) {
			if (pt_json_type(val) != PT_J_INT ||
			    pt_json_int(val) < 1 || pt_json_int(val) > 3650)
				return conf_fail(v, sub, "must be an integer from 1 "
				    "to 3650");
			c->log_retention_days = pt_json_int(val);
		} else
			return conf_fail(v, sub, "unknown field (want durability, "
			    "log_retention_days)");
	}
	if (pt_json_set(norm, "durability", pt_json_new_cstr(c->durability ==
	    PT_DURABLE_FULL ? "full" : "relaxed")) != PT_OK ||
	    pt_json_set(norm, "log_retention_days",
	    pt_json_new_int(c->log_retention_days)) != PT_OK)
		return conf_fail(v, "/settings", "out of memory");
	return 0;
}

/* An argv array at "ptr": 1-64 strings, the first an absolute path. */
static int
parse_argv(struct vctx *v, const char *ptr, const pt_json *fv, char ***argvp,
    size_t *argcp)
{
	size_t n = pt_json_len(fv), j, alen;
	const char *as;
	char **argv;

	if (pt_json_type(fv) != PT_J_ARRAY || n == 0 || n > 64)
		return conf_fail(v, ptr, "must be a non-empty array of strings (argv)");
	if ((argv = pt_calloc(n + 1, sizeof(*argv))) == NULL)
		return conf_fail(v, ptr, "out of memory");
	*argvp = argv;
	for (j = 0; j < n; j++) {
		as = pt_json_str(pt_json_index(fv, j), &alen);
		if (as == NULL || memchr(as, '\0', alen))
			return conf_fail(v, ptr, "element %zu must be a string", j);
		if ((argv[j] = pt_strdup(as)) == NULL)
			return conf_fail(v, ptr, "out of memory");
		*argcp = j + 1;
	}
	if (argv[0][0] != '/')
		return conf_fail(v, ptr, "the program must be an absolute path (there "
		    "is no shell and no PATH search)");
	return 0;
}

static int
workflow_cmp(const void *a, const void *b)
{
	const struct pt_workflow *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/*
 * workflows: {"KEY": {"exec": [...], "timeout_ms": N,
 * "max_output_bytes": N}}; an empty object records runs only.
 */
static int
parse_workflows(struct vctx *v, const pt_json *w, struct pt_config *c)
{
	struct pt_json_iter it = { 0 }, it2;
	const char *k, *f;
	pt_json *val, *fv;
	char sub[512], sub2[600];
	size_t i;

	if (w == NULL)
		return 0;
	if (pt_json_type(w) != PT_J_OBJECT)
		return conf_fail(v, "/workflows", "must be an object of workflow key "
		    "-> {\"exec\": [...], \"timeout_ms\": N}");
	if ((c->workflows = pt_calloc(pt_json_len(w),
	    sizeof(*c->workflows))) == NULL)
		return conf_fail(v, "/workflows", "out of memory");
	while (pt_json_iter_next(w, &it, &k, &val)) {
		struct pt_workflow *wf = &c->workflows[c->nworkflows];

		conf_ptr_join(sub, sizeof(sub), "/workflows", k);
		if (strlen(k) == 0 || strlen(k) > 256 || strchr(k, '/') ||
		    strchr(k, '#'))
			return conf_fail(v, sub, "a workflow key is 1-256 characters "
			    "without / or #");
		if (pt_json_type(val) != PT_J_OBJECT)
			return conf_fail(v, sub, "must be an object");
		if ((wf->key = pt_strdup(k)) == NULL)
			return conf_fail(v, sub, "out of memory");
		c->nworkflows++;
		wf->timeout_ms = 5000;
		wf->max_output = 65536;
		memset(&it2, 0, sizeof(it2));
		while (pt_json_iter_next(val, &it2, &f, &fv)) {
			conf_ptr_join(sub2, sizeof(sub2), sub, f);
			if (strcmp(f, "exec") == 0) {
				if (parse_argv(v, sub2, fv, &wf->argv,
				    &wf->argc) < 0)
					return -1;
			} else if (strcmp(f, "cancel_exec") == 0) {
				if (parse_argv(v, sub2, fv, &wf->cancel_argv,
				    &wf->cancel_argc) < 0)
					return -1;
			} else if (strcmp(f, "timeout_ms") == 0) {
				if (pt_json_type(fv) != PT_J_INT ||
				    pt_json_int(fv) < 1 ||
				    pt_json_int(fv) > 600000)
					return conf_fail(v, sub2, "must be an integer "
					    "from 1 to 600000");
				wf->timeout_ms = pt_json_int(fv);
			} else if (strcmp(f, "max_output_bytes") == 0) {
				if (pt_json_type(fv) != PT_J_INT ||
				    pt_json_int(fv) < 0 ||
				    pt_json_int(fv) > 1048576)
					return conf_fail(v, sub2, "must be an integer "
					    "from 0 to 1048576");
				wf->max_output = (size_t)pt_json_int(fv);
			} else
				return conf_fail(v, sub2, "unknown field (want exec, "
				    "cancel_exec, timeout_ms, max_output_bytes)");
		}
	}
	qsort(c->workflows, c->nworkflows, sizeof(*c->workflows), workflow_cmp);
	for (i = 1; i < c->nworkflows; i++)
		if (strcmp(c->workflows[i - 1].key, c->workflows[i].key) == 0)
			return conf_fail(v, "/workflows", "workflow %s twice",
			    c->workflows[i].key);
	return 0;
}

static int
env_cmp(const void *a, const void *b)
{
	const struct pt_env *const *x = a, *const *y = b;

	return strcmp((*x)->endpoint_id, (*y)->endpoint_id);
}

/* One source object at "ptr": key, name, type, description, environments. */
static int
parse_source(struct vctx *v, const char *ptr, const pt_json *src,
    struct pt_config *c, pt_json *nsources)
{
	struct pt_json_iter it = { 0 };
	const struct pt_source_type *type;
	const char *k, *key = NULL, *name = NULL, *tname = "custom";
	pt_json *val, *envs = NULL, *nsrc = NULL, *nenvs;
	struct pt_env *e = NULL, **grown;
	char sub[512], sub2[600];
	size_t n, i;

	if (pt_json_type(src) != PT_J_OBJECT)
		return conf_fail(v, ptr, "a source must be an object");
	while (pt_json_iter_next(src, &it, &k, &val)) {
		conf_ptr_join(sub, sizeof(sub), ptr, k);
		if (strcmp(k, "key") == 0) {
			key = pt_json_str(val, &n);
			if (key == NULL || !valid_name(key, n))
				return conf_fail(v, sub, "must be 1 to 64 characters "
				    "of [A-Za-z0-9_.-]");
		} else if (strcmp(k, "name") == 0) {
			if (pt_json_type(val) != PT_J_STRING ||
			    pt_json_len(val) > 256)
				return conf_fail(v, sub, "must be a string");
			name = pt_json_str(val, NULL);
		} else if (strcmp(k, "type") == 0) {
			if (pt_json_type(val) != PT_J_STRING ||
			    pt_catalog_lookup(pt_json_str(val, NULL)) == NULL) {
				struct pt_buf names = { 0 };
				const struct pt_source_type *all;
				size_t nt;

				all = pt_catalog_all(&nt);
				for (i = 0; i < nt; i++)
					pt_buf_printf(&names, "%s%s", i ? ", " :
					    "", all[i].name);
				conf_fail(v, sub, "unknown source type (one of %s)",
				    names.data ? names.data : "");
				pt_buf_free(&names);
				return -1;
			}
			tname = pt_json_str(val, NULL);
		} else if (strcmp(k, "description") == 0) {
			if (pt_json_type(val) != PT_J_STRING)
				return conf_fail(v, sub, "must be a string");
		} else if (strcmp(k, "environments") == 0) {
			if (pt_json_type(val) != PT_J_OBJECT ||
			    pt_json_len(val) == 0)
				return conf_fail(v, sub, "must be an object of "
				    "environment name -> settings, with at least "
				    "one");
			envs = val;
		} else
			return conf_fail(v, sub, "unknown field (want key, name, type, "
			    "description, environments)");
	}
	if (key == NULL) {
		conf_ptr_join(sub, sizeof(sub), ptr, "key");
		return conf_fail(v, sub, "required");
	}
	if (envs == NULL) {
		conf_ptr_join(sub, sizeof(sub), ptr, "environments");
		return conf_fail(v, sub, "required");
	}
	for (i = 0; i < c->nenvs; i++)
		if (strcmp(c->envs[i]->source_key, key) == 0) {
			conf_ptr_join(sub, sizeof(sub), ptr, "key");
			return conf_fail(v, sub, "source \"%s\" appears twice", key);
		}
	type = pt_catalog_lookup(tname);
	if (name == NULL)
		name = key;
	if ((nsrc = pt_json_new_object()) == NULL ||
	    pt_json_append(nsources, nsrc) != PT_OK)
		return conf_fail(v, ptr, "out of memory");
	if (pt_json_set(nsrc, "key", pt_json_new_cstr(key)) != PT_OK ||
	    pt_json_set(nsrc, "name", pt_json_new_cstr(name)) != PT_OK ||
	    pt_json_set(nsrc, "type", pt_json_new_cstr(tname)) != PT_OK)
		return conf_fail(v, ptr, "out of memory");
	if ((val = pt_json_get(src, "description")) != NULL &&
	    pt_json_set(nsrc, "description", pt_json_copy(val)) != PT_OK)
		return conf_fail(v, ptr, "out of memory");
	if ((nenvs = pt_json_new_object()) == NULL ||
	    pt_json_set(nsrc, "environments", nenvs) != PT_OK)
		return conf_fail(v, ptr, "out of memory");

	conf_ptr_join(sub, sizeof(sub), ptr, "environments");
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(envs, &it, &k, &val)) {
		conf_ptr_join(sub2, sizeof(sub2), sub, k);
		if (!valid_name(k, strlen(k)))
			return conf_fail(v, sub2, "an environment name is 1 to 64 "
			    "characters of [A-Za-z0-9_.-]");
		if (conf_parse_env(v, sub2, src, type, key, name, k, val, &e) < 0)
			return -1;
		if ((grown = pt_realloc(c->envs, (c->nenvs + 1) *
		    sizeof(*grown))) == NULL) {
			conf_env_free(e);
			return conf_fail(v, sub2, "out of memory");
		}
		c->envs = grown;
		c->envs[c->nenvs++] = e;
		if (pt_json_set(nenvs, k, pt_json_ref(e->norm)) != PT_OK)
			return conf_fail(v, sub2, "out of memory");
	}
	return 0;
}

enum pt_err
pt_config_parse(const pt_json *doc, const struct pt_config *old, int mode,
    struct pt_config **out, char *err, size_t errlen)
{
	struct vctx v = { old, mode, err, errlen, 0 };
	struct pt_json_iter it = { 0 };
	struct pt_config *c = NULL;
	pt_json *val, *sources = NULL, *settings = NULL, *nsettings,
	    *nsources, *workflows = NULL;
	const char *k;
	char sub[64];
	size_t i;
	enum pt_err rc = PT_EINVAL;

	*out = NULL;
	err[0] = '\0';
	if (pt_json_type(doc) != PT_J_OBJECT) {
		conf_fail(&v, "", "the configuration must be a JSON object");
		goto out;
	}
	while (pt_json_iter_next(doc, &it, &k, &val)) {
		if (strcmp(k, "sources") == 0)
			sources = val;
		else if (strcmp(k, "settings") == 0)
			settings = val;
		else if (strcmp(k, "workflows") == 0)
			workflows = val;
		else {
			char p[300];

			conf_ptr_join(p, sizeof(p), "", k);
			conf_fail(&v, p, "unknown field (want settings, sources, "
			    "workflows)");
			goto out;
		}
	}
	if ((c = pt_calloc(1, sizeof(*c))) == NULL ||
	    (c->doc = pt_json_new_object()) == NULL ||
	    (nsettings = pt_json_new_object()) == NULL ||
	    pt_json_set(c->doc, "settings", nsettings) != PT_OK ||
	    (nsources = pt_json_new_array()) == NULL ||
	    pt_json_set(c->doc, "sources", nsources) != PT_OK) {
		rc = PT_ENOMEM;
		conf_fail(&v, "", "out of memory");
		goto out;
	}
	if (old != NULL) {
		memcpy(c->fp_key, old->fp_key, sizeof(c->fp_key));
		c->fp_key_stored = old->fp_key_stored;
	} else if (pt_random(c->fp_key, sizeof(c->fp_key)) != PT_OK) {
		conf_fail(&v, "", "cannot read random bytes");
		goto out;
	}
	if (parse_settings(&v, settings, c, nsettings) < 0)
		goto out;
	if (sources != NULL && pt_json_type(sources) != PT_J_ARRAY) {
		conf_fail(&v, "/sources", "must be an array of sources");
		goto out;
	}
	for (i = 0; i < pt_json_len(sources); i++) {
		conf_ptr_index(sub, sizeof(sub), "/sources", i);
		if (parse_source(&v, sub, pt_json_index(sources, i), c,
		    nsources) < 0)
			goto out;
	}
	if (parse_workflows(&v, workflows, c) < 0)
		goto out;
	if (workflows != NULL && pt_json_set(c->doc, "workflows",
	    pt_json_copy(workflows)) != PT_OK) {
		conf_fail(&v, "/workflows", "out of memory");
		goto out;
	}
	if (c->nenvs > 1)
		qsort(c->envs, c->nenvs, sizeof(*c->envs), env_cmp);
	for (i = 1; i < c->nenvs; i++)
		if (strcmp(c->envs[i - 1]->endpoint_id,
		    c->envs[i]->endpoint_id) == 0) {
			snprintf(err, errlen, "/sources: endpoint_id %s is used by "
			    "both %s/%s and %s/%s", c->envs[i]->endpoint_id,
			    c->envs[i - 1]->source_key, c->envs[i - 1]->name,
			    c->envs[i]->source_key, c->envs[i]->name);
			goto out;
		}
	*out = c;
	c = NULL;
	rc = PT_OK;
out:
	/*
	 * Not strstr(err, ...): a key named "out of memory" made an invalid
	 * document a 500 (fuzz-handler, PUT /admin/api/config).
	 */
	if (rc != PT_OK && v.oom)
		rc = PT_ENOMEM;
	pt_config_free(c);
	return rc;
}
