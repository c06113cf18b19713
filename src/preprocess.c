/*
 * preprocess.c - an environment's preprocess script on one event (see
 * preprocess.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "preprocess.h"

/* Take "key" out of "res": 1 when it was boolean true, 0 else, -1 absent. */
static int
take_flag(pt_json *res, const char *key)
{
	pt_json *val;
	int flag;

	if (!pt_json_get_ex(res, key, &val))
		return -1;
	flag = pt_json_type(val) == PT_J_BOOL && pt_json_bool(val);
	pt_json_del(res, key);
	return flag;
}

enum pt_script_res
pt_preprocess(struct pt_script_pool *pool, const struct pt_req *req,
    struct intake *in, int body_is_json, struct pt_pre_verdict *v, char *why,
    size_t whylen)
{
	struct pt_script_ctx sc;
	enum pt_script_res r;
	pt_json *res = NULL, *logged = NULL;

	v->verified = -1;
	v->skip = 0;
	if (pool == NULL) {
		snprintf(why, whylen, "no script workers are running in this "
		    "process");
		return PT_SCRIPT_UNAVAILABLE;
	}
	memset(&sc, 0, sizeof(sc));
	sc.vars = in->vars;
	sc.body = in->doc;
	if (body_is_json) {
		sc.body_json = (const char *)in->body;
		sc.body_json_len = in->body_len;
	}
	sc.raw = (const char *)in->body;
	sc.raw_len = in->body_len;
	sc.headers = req->headers;
	sc.nheaders = req->nheaders;
	sc.now_ms = in->ev.received_at / 1000;
	if ((r = pt_script_run(pool, in->env->script, &sc, &res, why,
	    whylen)) != PT_SCRIPT_OK)
		return r;
	v->verified = take_flag(res, "verified");
	v->skip = take_flag(res, "skip") == 1;
	if ((logged = pt_intake_mask(in->vars, res)) == NULL ||
	    pt_json_set(in->extra, "preprocess", logged) != PT_OK) {
		pt_json_put(res);
		snprintf(why, whylen, "out of memory");
		return PT_SCRIPT_UNAVAILABLE;
	}
	pt_json_put(in->pre);
	in->pre = res;
	return PT_SCRIPT_OK;
}

/* {"code", "message"} of a failed run. */
static pt_json *
run_error(enum pt_script_res r, const char *why)
{
	pt_json *e;

	if ((e = pt_json_new_object()) == NULL)
		return NULL;
	if (pt_json_set(e, "code", pt_json_new_cstr(pt_script_res_code(r))) !=
	    PT_OK || pt_json_set(e, "message", pt_json_new_cstr(why)) !=
	    PT_OK) {
		pt_json_put(e);
		return NULL;
	}
	return e;
}

enum pt_err
pt_preprocess_rehearse(struct pt_script_pool *pool, const struct pt_env *env,
    const pt_json *vars, const pt_json *body, const char *raw, size_t rawlen,
    const pt_json *headers, int64_t now_ms, pt_json **pre, pt_json **report)
{
	struct pt_json_iter it = { 0 };
	struct pt_header *hv = NULL;
	struct pt_req req;
	struct intake in;
	struct pt_pre_verdict v;
	enum pt_script_res r;
	const char *name;
	pt_json *val, *rep = NULL;
	struct pt_buf text = { 0 };
	char why[400];
	size_t n = 0;
	enum pt_err rc = PT_ENOMEM;

	*pre = NULL;
	*report = NULL;
	if (env->script == NULL)
		return PT_OK;
	memset(&req, 0, sizeof(req));
	memset(&in, 0, sizeof(in));
	if (raw == NULL) {
		if (pt_json_write(&text, (pt_json *)body, PT_JSON_PLAIN) !=
		    PT_OK)
			goto out;
		raw = text.data;
		rawlen = text.len;
	}
	if ((hv = pt_calloc(pt_json_len(headers) + 1, sizeof(*hv))) == NULL)
		goto out;
	while (pt_json_iter_next(headers, &it, &name, &val)) {
		hv[n].name = name;
		hv[n].value = pt_json_str(val, &hv[n].value_len);
		if (hv[n].value != NULL)
			n++;
	}
	req.headers = hv;
	req.nheaders = n;
	in.env = env;
	in.vars = vars;
	in.doc = (pt_json *)body;	/* borrowed: not freed below */
	in.body = (uint8_t *)raw;
	in.body_len = rawlen;
	in.ev.received_at = now_ms * 1000;
	if ((in.extra = pt_json_new_object()) == NULL ||
	    (rep = pt_json_new_object()) == NULL)
		goto out;
	r = pt_preprocess(pool, &req, &in, text.data != NULL, &v, why,
	    sizeof(why));
	if (r != PT_SCRIPT_OK) {
		if (pt_json_set(rep, "error", run_error(r, why)) != PT_OK)
			goto out;
	} else if (pt_json_set_ref(rep, "output", pt_json_get(in.extra,
	    "preprocess")) != PT_OK ||
	    (v.verified < 0 ? pt_json_set_null(rep, "verified") :
	    pt_json_set(rep, "verified", pt_json_new_bool(v.verified))) !=
	    PT_OK ||
	    pt_json_set(rep, "skip", pt_json_new_bool(v.skip)) != PT_OK)
		goto out;
	*pre = in.pre;
	in.pre = NULL;
	*report = rep;
	rep = NULL;
	rc = PT_OK;
out:
	pt_json_put(in.pre);
	pt_json_put(in.extra);
	pt_json_put(rep);
	pt_free(hv);
	pt_buf_free(&text);
	return rc;
}

enum pt_err
pt_preprocess_report(pt_json *out, pt_json *report)
{
	const char *status = NULL, *msg = NULL;

	if (report == NULL)
		return PT_OK;
	if (pt_json_get(report, "error") != NULL) {
		status = "script_failed";
		msg = "the preprocess script failed: the event would be logged "
		    "as script_failed and answered 5xx, so that the sender "
		    "retries";
	} else if (pt_json_bool(pt_json_get(report, "skip"))) {
		status = "ignored";
		msg = "the preprocess script skips this event: it would be "
		    "logged as ignored, and no mapping runs";
	}
	if (status != NULL && (pt_json_set(out, "status",
	    pt_json_new_cstr(status)) != PT_OK || pt_json_set(out, "message",
	    pt_json_new_cstr(msg)) != PT_OK)) {
		pt_json_put(report);
		return PT_ENOMEM;
	}
	return pt_json_set(out, "preprocess", report);
}
