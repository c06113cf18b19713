/*
 * admin_rehearse.c - a source's mappings tried on a payload, with no
 * side effects (porter-api(7) "Rehearse").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_int.h"
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
 * POST sources/<key>/rehearse {"environment": E, "payload": {"body":
 * {...} or "text", "headers": {...}}}: the mappings' resolved payloads or
 * field errors, with no side effects (so a read-only token may rehearse).
 */
int
api_rehearse(struct admin *a)
{
	const struct pt_config *cfg;
	const struct pt_env *env = NULL;
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
	if ((rc = pt_inspect_rehearse(env, &roots, &out)) != PT_OK) {
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
