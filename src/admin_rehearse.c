/*
 * admin_rehearse.c - a source's mappings tried on a payload, with no
 * side effects (porter-api(7) "Rehearse").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "mapping.h"
#include "alloc.h"
#include "inspect.h"
#include "preprocess.h"
#include "json.h"

/* ------------------------------------------------------------ rehearse */

/* Rehearsal headers: an object of strings, names lower-cased. */
static pt_json *
rehearse_headers(const pt_json *in, char *why, size_t whylen)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *out, *v;
	char name[128];
	size_t i, n;

	if ((out = pt_json_new_object()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (in != NULL && pt_json_type(in) != PT_J_OBJECT) {
		snprintf(why, whylen, "payload.headers must be an object");
		goto bad;
	}
	while (in != NULL && pt_json_iter_next(in, &it, &k, &v)) {
		if ((s = pt_json_str(v, &n)) == NULL) {
			snprintf(why, whylen, "payload.headers.%s must be a "
			    "string", adm_shown(k));
			goto bad;
		}
		if (strlen(k) >= sizeof(name) || k[0] == '\0') {
			snprintf(why, whylen, "a header name is empty or too "
			    "long");
			goto bad;
		}
		for (i = 0; k[i]; i++)
			name[i] = (k[i] >= 'A' && k[i] <= 'Z') ?
			    (char)(k[i] + 32) : k[i];
		name[i] = '\0';
		pt_json_set(out, name, pt_json_new_str(s, n));
	}
	return out;
bad:
	pt_json_put(out);
	return NULL;
}

/*
 * GET mapping_actions: every action a mapping may name, with its
 * parameters (required, object builder, literal key): what the console's
 * mapping editor builds its form from.
 */
int
api_mapping_actions(struct admin *a)
{
	const struct pt_action_spec *sp;
	pt_json *arr, *o, *ps, *pj;
	size_t i, j;

	if ((arr = pt_json_new_array()) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	for (i = 0; i < PT_A__MAX; i++) {
		sp = pt_action_spec((enum pt_action)i);
		if ((o = pt_json_new_object()) == NULL ||
		    pt_json_append(arr, o) != PT_OK ||
		    pt_json_set(o, "action", pt_json_new_cstr(sp->name)) !=
		    PT_OK || (ps = pt_json_new_array()) == NULL ||
		    pt_json_set(o, "params", ps) != PT_OK)
			goto nomem;
		for (j = 0; j < PT_MAX_PARAMS && sp->params[j] != NULL; j++)
			if ((pj = pt_json_new_object()) == NULL ||
			    pt_json_append(ps, pj) != PT_OK ||
			    pt_json_set(pj, "name", pt_json_new_cstr(
			    sp->params[j])) != PT_OK ||
			    pt_json_set(pj, "required", pt_json_new_bool(
			    (sp->required >> j) & 1)) != PT_OK ||
			    pt_json_set(pj, "builder", pt_json_new_bool(
			    (sp->builders >> j) & 1)) != PT_OK ||
			    pt_json_set(pj, "literal_key", pt_json_new_bool(
			    (sp->literal_key >> j) & 1)) != PT_OK)
				goto nomem;
	}
	return adm_send_json(a, 200, arr);
nomem:
	pt_json_put(arr);
	return adm_fail(a, 500, "internal_error", "out of memory");
}

/* Knock's priority order, as conf_env.c keeps an environment's. */
static int
by_priority(const void *x, const void *y)
{
	const struct pt_mapping *a = x, *b = y;

	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * "mappings" in a rehearsal: the environment as it would be with these
 * instead of its own (the console's editor, before saving).  0 with *tmp
 * filled (free with free_proposed), or the status answered.
 */
static int
proposed(struct admin *a, const struct pt_env *env, const pt_json *maps,
    struct pt_env *tmp)
{
	char err[400];
	enum pt_err rc;
	size_t i, n;

	*tmp = *env;
	/* Never the configuration's own: free_proposed frees these. */
	tmp->nmappings = 0;
	tmp->mappings = NULL;
	if (pt_json_type(maps) != PT_J_ARRAY || (n = pt_json_len(maps)) > 1000)
		return adm_fail(a, 400, "invalid_request", "mappings: an array "
		    "of at most 1000 mappings");
	if (n > 0 && (tmp->mappings = pt_calloc(n, sizeof(*tmp->mappings))) ==
	    NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	for (i = 0; i < n; i++) {
		if ((rc = pt_mapping_compile(pt_json_index(maps, i),
		    &tmp->mappings[i], err, sizeof(err))) != PT_OK) {
			tmp->nmappings = i + 1;
			return rc == PT_ENOMEM ? adm_fail(a, 500,
			    "internal_error", "out of memory") : adm_fail(a, 422,
			    "invalid_mapping", "/mappings/%zu%s%s", i,
			    err[0] == '/' ? "" : ": ", err[0] == ':' ? err + 2 :
			    err);
		}
		tmp->mappings[i].order = i;
		tmp->nmappings = i + 1;
	}
	if (n > 1)
		qsort(tmp->mappings, n, sizeof(*tmp->mappings), by_priority);
	return 0;
}

static void
free_proposed(struct pt_env *tmp)
{
	size_t i;

	for (i = 0; i < tmp->nmappings; i++)
		pt_mapping_clear(&tmp->mappings[i]);
	pt_free(tmp->mappings);
}

/*
 * POST sources/<key>/rehearse {"environment": E, "mappings": [...]
 * (optional: instead of the environment's own), "payload": {"body":
 * {...} or "text", "headers": {...}}}: the mappings' resolved payloads or
 * field errors, with no side effects (so a read-only token may rehearse).
 */
int
api_rehearse(struct admin *a)
{
	const struct pt_config *cfg;
	const struct pt_env *env = NULL;
	struct pt_env tmp;
	int own = 0;
	struct pt_body_error berr;
	pt_json *doc = NULL, *payload, *bj, *body = NULL, *hdrs = NULL, *out,
	    *pre = NULL, *report = NULL;
	struct pt_roots roots = { NULL, NULL, NULL };
	const char *envname, *text = NULL, *ctype;
	char why[200];
	enum pt_err rc;
	size_t i, n = 0, found = 0;
	int status;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if (!adm_have_source(cfg, a->seg[1]))
		return adm_fail(a, 404, "not_found", "no source %s", adm_shown(a->seg[1]));
	if ((status = adm_read_json(a, &doc)) != 0)
		return status;
	if (pt_json_type(doc) != PT_J_OBJECT) {
		status = adm_fail(a, 400, "invalid_request", "want {\"environment\": "
		    "..., \"payload\": {\"body\": ..., \"headers\": ...}}");
		goto out;
	}
	if ((envname = pt_json_str(pt_json_get(doc, "environment"), NULL)) ==
	    NULL)
		envname = adm_param(a, "environment");
	for (i = 0; i < cfg->nenvs; i++)
		if (strcmp(cfg->envs[i]->source_key, a->seg[1]) == 0 &&
		    (envname == NULL || strcmp(cfg->envs[i]->name, envname) ==
		    0)) {
			env = cfg->envs[i];
			found++;
		}
	if (found != 1) {
		status = envname ? adm_fail(a, 404, "not_found", "source %s has no "
		    "environment %s", adm_shown(a->seg[1]), adm_shown(envname)) :
		    adm_fail(a, 400, "invalid_request", "source %s has several "
		    "environments: name one (\"environment\")",
		    adm_shown(a->seg[1]));
		goto out;
	}
	payload = pt_json_get(doc, "payload");
	if ((hdrs = rehearse_headers(pt_json_get(payload, "headers"), why,
	    sizeof(why))) == NULL) {
		status = adm_fail(a, 400, "invalid_request", "%s", why);
		goto out;
	}
	bj = pt_json_get(payload, "body");
	if (pt_json_type(bj) == PT_J_STRING) {
		/*
		 * Raw text: JSON or a form as payload.content_type (or a
		 * Content-Type header) says, else as it looks, parsed as
		 * strictly as the responder would.
		 */
		text = pt_json_str(bj, &n);
		if ((ctype = pt_json_str(pt_json_get(payload, "content_type"),
		    NULL)) == NULL)
			ctype = pt_json_str(pt_json_get(hdrs, "content-type"),
			    NULL);
		if ((rc = pt_inspect_body(env, ctype, text, n, &body, &status,
		    &berr)) != PT_OK) {
			status = rc == PT_ENOMEM ? adm_fail(a, 500, "internal_error",
			    "out of memory") : adm_fail(a, status, berr.code, "the "
			    "responder would answer %d: %s", status, berr.message);
			goto out;
		}
	} else
		body = pt_json_ref(bj);
	if (pt_json_type(body) != PT_J_OBJECT) {
		status = adm_fail(a, 400, "not_an_object", "payload.body must be a "
		    "JSON object (or the text of a JSON or form body)");
		goto out;
	}
	/* The script runs as ingest would run it, nothing logged. */
	if (pt_preprocess_rehearse(pt_ctx_scripts(a->ctx), env, cfg->vars,
	    body, text, n, hdrs, a->ctx->now() / 1000, &pre, &report) !=
	    PT_OK) {
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	roots.body = body;
	roots.headers = hdrs;
	roots.preprocess = pre;
	if (pt_json_get(doc, "mappings") != NULL) {
		if ((status = proposed(a, env, pt_json_get(doc, "mappings"),
		    &tmp)) != 0) {
			free_proposed(&tmp);
			goto out;
		}
		env = &tmp;
		own = 1;
	}
	rc = pt_inspect_rehearse(env, &roots, &out);
	if (own)
		free_proposed(&tmp);
	if (rc != PT_OK) {
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	if (pt_preprocess_report(out, report) != PT_OK) {
		report = NULL;
		pt_json_put(out);
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	report = NULL;
	status = adm_send_json(a, 200, out);
out:
	pt_json_put(pre);
	pt_json_put(report);
	pt_json_put(hdrs);
	pt_json_put(body);
	pt_json_put(doc);
	return status;
}
