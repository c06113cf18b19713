/*
 * conf.c - the compiled configuration: its lookups and its release (see
 * conf.h; parsing is conf_parse.c, storing conf_store.c, export and diff
 * conf_export.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "conf_int.h"
#include "script.h"

void
conf_env_free(struct pt_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	pt_free(e->source_key);
	pt_free(e->source_name);
	pt_free(e->source_type);
	pt_free(e->name);
	pt_free(e->endpoint_id);
	pt_scheme_free(e->scheme);
	for (i = 0; i < e->nkeys; i++) {
		if (e->keys[i].secret) {
			pt_wipe(e->keys[i].secret, e->keys[i].len);
			pt_free(e->keys[i].secret);
		}
	}
	pt_free(e->keys);
	pt_free(e->secrets);
	pt_path_free(e->event_type_path);
	pt_path_free(e->timestamp_path);
	conf_template_free(e->type_template);
	pt_path_free(e->batch_path);
	pt_path_free(e->idem_key_path);
	pt_free(e->public_url);
	pt_script_free(e->script);
	pt_free(e->script_ptr);
	for (i = 0; i < e->nform_json; i++)
		pt_free(e->form_json[i]);
	pt_free(e->form_json);
	for (i = 0; i < e->nmappings; i++)
		pt_mapping_clear(&e->mappings[i]);
	pt_free(e->mappings);
	pt_json_put(e->norm);
	for (i = 0; i < e->nheader_deps; i++)
		pt_free(e->header_deps[i]);
	pt_free(e->header_deps);
	for (i = 0; i < e->ncredential_headers; i++)
		pt_free(e->credential_headers[i]);
	pt_free(e->credential_headers);
	pt_free(e);
}

int
pt_env_names_have(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

void
pt_config_free(struct pt_config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nenvs; i++)
		conf_env_free(c->envs[i]);
	pt_free(c->envs);
	for (i = 0; i < c->nworkflows; i++) {
		pt_free(c->workflows[i].key);
		for (j = 0; j < c->workflows[i].argc; j++)
			pt_free(c->workflows[i].argv[j]);
		pt_free(c->workflows[i].argv);
		for (j = 0; j < c->workflows[i].cancel_argc; j++)
			pt_free(c->workflows[i].cancel_argv[j]);
		pt_free(c->workflows[i].cancel_argv);
		pt_free(c->workflows[i].http_url);
		pt_free(c->workflows[i].http_headers);
		if (c->workflows[i].http_secret != NULL)
			pt_wipe(c->workflows[i].http_secret,
			    c->workflows[i].http_secret_len);
		pt_free(c->workflows[i].http_secret);
		pt_json_put(c->workflows[i].http_spec);
		pt_json_put(c->workflows[i].http_header_values);
		pt_free(c->workflows[i].http_ca_file);
	}
	pt_free(c->workflows);
	pt_json_put(c->doc);
	pt_json_put(c->vars);
	pt_wipe(c->fp_key, sizeof(c->fp_key));
	pt_free(c);
}

const struct pt_env *
pt_config_env(const struct pt_config *c, const char *source, const char *env)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nenvs; i++)
		if (strcmp(c->envs[i]->source_key, source) == 0 &&
		    strcmp(c->envs[i]->name, env) == 0)
			return c->envs[i];
	return NULL;
}

const struct pt_env *
pt_config_endpoint(const struct pt_config *c, const char *id)
{
	size_t lo = 0, hi, mid;
	int cmp;

	if (c == NULL)
		return NULL;
	hi = c->nenvs;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(id, c->envs[mid]->endpoint_id);
		if (cmp == 0)
			return c->envs[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct pt_workflow *
pt_config_workflow(const struct pt_config *c, const char *key)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nworkflows; i++)
		if (strcmp(c->workflows[i].key, key) == 0)
			return &c->workflows[i];
	return NULL;
}

enum pt_err
pt_config_check_scripts(const struct pt_config *c, struct pt_script_pool *pool,
    char *err, size_t errlen)
{
	const struct pt_env *e;
	enum pt_script_res r;
	char why[400];
	size_t i;

	for (i = 0; i < c->nenvs; i++) {
		e = c->envs[i];
		if (e->script == NULL)
			continue;
		if ((r = pt_script_check(pool, e->script, why, sizeof(why))) ==
		    PT_SCRIPT_OK)
			continue;
		if (r == PT_SCRIPT_UNAVAILABLE) {
			snprintf(err, errlen, "%s: cannot check the script "
			    "now: %s", e->script_ptr, why);
			return PT_EBUSY;
		}
		snprintf(err, errlen, "%s: %s", e->script_ptr, why);
		return PT_EINVAL;
	}
	return PT_OK;
}
