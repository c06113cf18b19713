/*
 * replay.c - a logged event run again through today's mappings (see
 * replay.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "body.h"
#include "eventlog.h"
#include "execute.h"
#include "ids.h"
#include "intake.h"
#include "json.h"
#include "nitems.h"
#include "preprocess.h"
#include "replay.h"

/*
 * Which verification statuses a replay may stand on without force.  A
 * replay runs the mappings as if the event were authentic, so it needs an
 * event that was verified, or one the operator chose not to verify (the
 * environment does not enforce) and still does not.
 */
enum replay_when { REPLAY_ALWAYS, REPLAY_UNLESS_ENFORCED };

static const struct {
	const char		*status;
	enum replay_when	 when;
} replay_rules[] = {
	{ "enforced:verified", REPLAY_ALWAYS },
	{ "not_enforced:verified", REPLAY_ALWAYS },
	{ "not_enforced:unsigned", REPLAY_UNLESS_ENFORCED },
	{ "not_enforced:failed", REPLAY_UNLESS_ENFORCED },
	/* enforced:failed, and anything unknown: never without force. */
};

/*
 * The verification status logged event "meta" stands on: its own, or for
 * a replay its original's (kept as the reason), so that replaying a
 * replay launders nothing.  NULL when the record has none.
 */
static const char *
replay_root_status(const pt_json *meta)
{
	const pt_json *vf = pt_json_get(meta, "verification");
	const char *st = pt_json_str(pt_json_get(vf, "status"), NULL);

	if (st != NULL && strcmp(st, "replayed") == 0)
		return pt_json_str(pt_json_get(vf, "reason"), NULL);
	return st;
}

/*
 * May logged event "meta" be replayed into "env" without force?  1, or 0
 * with the reason in "why".
 */
static int
replay_verdict(const struct pt_env *env, const pt_json *meta, char *why,
    size_t whylen)
{
	const char *st = replay_root_status(meta);
	size_t i;

	for (i = 0; st != NULL && i < nitems(replay_rules); i++) {
		if (strcmp(st, replay_rules[i].status) != 0)
			continue;
		if (replay_rules[i].when == REPLAY_ALWAYS || !env->verify)
			return 1;
		snprintf(why, whylen, "it was not verified (%s) and %s/%s now "
		    "enforces verification", st, env->source_key, env->name);
		return 0;
	}
	snprintf(why, whylen, "it was not verified where verification was "
	    "enforced (%s)", st ? st : "no verification status");
	return 0;
}

int
pt_replay_allowed(const struct pt_config *cfg, const pt_json *meta)
{
	const struct pt_env *env;
	const char *src = pt_json_str(pt_json_get(meta, "source"), NULL),
	    *envname = pt_json_str(pt_json_get(meta, "environment"), NULL);
	char why[256];

	if (src == NULL || envname == NULL || cfg == NULL ||
	    (env = pt_config_env(cfg, src, envname)) == NULL)
		return 0;
	return replay_verdict(env, meta, why, sizeof(why));
}

/*
 * Read logged event "evt_id": *m gets its metadata and in->body a copy of
 * its body, both outliving the read transaction (its values die with
 * it).  0, or the status answered.
 */
static int
load_original(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, const char *evt_id, struct intake *in, pt_json **m)
{
	struct pt_buf meta = { 0 }, body = { 0 };
	struct pt_txn *txn = NULL;
	uint8_t id[PT_ID_BIN];
	char err[512];
	enum pt_err rc;
	int status = 0;

	if (pt_id_parse("evt", evt_id, id) < 0)
		return pt_reject(ctx, req, resp, 400, "invalid_id", "%.80s is not "
		    "an event id", evt_id);
	if ((rc = pt_ctx_refresh(ctx, err, sizeof(err))) != PT_OK)
		return err[0] ? pt_reject(ctx, req, resp, 500, "internal_error",
		    "configuration: %s", err) : pt_reject_store(ctx, req, resp,
		    rc, "reading configuration");
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return pt_reject_store(ctx, req, resp, rc, "reading the log");
	if ((rc = pt_eventlog_get(txn, id, &meta, &body)) != PT_OK)
		status = rc == PT_ENOTFOUND ? pt_reject(ctx, req, resp, 404,
		    "not_found", "no event %s", evt_id) : pt_reject_store(ctx,
		    req, resp, rc, "reading the log");
	else if ((*m = pt_json_parse_trusted(meta.data, meta.len)) == NULL ||
	    pt_buf_add(&body, "", 0) != PT_OK)
		status = pt_reject(ctx, req, resp, 500, "internal_error",
		    "cannot read event %s", evt_id);
	else	/* NUL-terminated, as every pt_buf */
		in->body = (uint8_t *)pt_buf_take(&body, &in->body_len);
	pt_txn_abort(txn);
	pt_buf_free(&meta);
	pt_buf_free(&body);
	return status;
}

/*
 * The format logged event "m"'s body is parsed as, as it was at ingest:
 * the logged body_format, else what the logged Content-Type says (events
 * logged before forms were taken are all JSON).
 */
static int
logged_format(const pt_json *m)
{
	const char *bf = pt_json_str(pt_json_get(m, "body_format"), NULL);
	int format;

	if (bf != NULL)
		return strcmp(bf, pt_body_format_name(PT_BODY_FORM)) == 0 ?
		    PT_BODY_FORM : PT_BODY_JSON;
	if ((format = pt_body_format_of(pt_json_str(pt_json_get(pt_json_get(m,
	    "headers"), "content-type"), NULL))) == 0)
		format = PT_BODY_JSON;
	return format;
}

/*
 * The logged headers "lh" as a request's (*hv, freed with pt_free; the
 * names and values are borrowed from "lh"): they stand in for the
 * request's.  PT_OK or PT_ENOMEM.
 */
static enum pt_err
logged_headers(const pt_json *lh, struct pt_header **hv, size_t *nh)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *v;

	*nh = 0;
	if ((*hv = pt_calloc(pt_json_len(lh) + 1, sizeof(**hv))) == NULL)
		return PT_ENOMEM;
	while (pt_json_iter_next(lh, &it, &k, &v)) {
		if (pt_json_type(v) != PT_J_STRING)
			continue;
		(*hv)[*nh].name = k;
		(*hv)[*nh].value = pt_json_str(v, &(*hv)[*nh].value_len);
		(*nh)++;
	}
	return PT_OK;
}

/*
 * The environment's preprocess script, run again on the logged body and
 * headers (credentials among them redacted), for the keys today's
 * mappings read; its "verified" is not asked again (the replay stands on
 * the original's verification, as above).  0 to go on, or the status
 * answered: the script failed, or it skips the event.
 */
static int
replay_preprocess(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, struct intake *in, const char *evt_id, int format)
{
	struct pt_pre_verdict v;
	enum pt_script_res r;
	char why[400];

	if (in->env->script == NULL)
		return 0;
	r = pt_preprocess(pt_ctx_scripts(ctx), req, in, format == PT_BODY_JSON,
	    &v, why, sizeof(why));
	if (r != PT_SCRIPT_OK)
		return pt_reject(ctx, req, resp, r == PT_SCRIPT_UNAVAILABLE ?
		    503 : 500, pt_script_res_code(r), "replay of %s: the "
		    "preprocess script failed: %s", evt_id, why);
	if (v.skip)
		return pt_reject(ctx, req, resp, 409, "ignored", "replay of %s: "
		    "the preprocess script skips it; nothing ran", evt_id);
	return 0;
}

/*
 * Replay a logged event: run its mappings again as they are configured
 * now, as a new event linked to the original ("replay_of").  For events
 * that were no_mapping, no_event_type or had failed actions before the
 * operator fixed the config.  The replay skips the signature check (the
 * original was checked when it arrived, see replay_verdict) and
 * idempotency (the operator asks for a second execution); headers the log
 * redacted stay redacted.
 */
int
pt_replay(struct pt_ctx *ctx, const char *evt_id, const char *who,
    int force, struct pt_resp *resp)
{
	struct pt_req req;
	struct intake in;
	struct pt_body_error berr;
	struct pt_header *hv = NULL;
	pt_json *m = NULL;
	const char *src, *envname;
	char why[256];
	enum pt_err rc;
	int status, forced = 0, format;

	memset(&in, 0, sizeof(in));
	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	in.now = ctx->now;
	req.method = "REPLAY";
	req.request_uri = evt_id;
	if ((status = load_original(ctx, &req, resp, evt_id, &in, &m)) != 0)
		goto out;
	src = pt_json_str(pt_json_get(m, "source"), NULL);
	envname = pt_json_str(pt_json_get(m, "environment"), NULL);
	if (src == NULL || envname == NULL ||
	    (in.env = pt_config_env(ctx->cfg, src, envname)) == NULL) {
		status = pt_reject(ctx, &req, resp, 409, "source_gone", "event %s "
		    "came to %s/%s, which is no longer configured", evt_id,
		    src ? src : "?", envname ? envname : "?");
		goto out;
	}
	if (!replay_verdict(in.env, m, why, sizeof(why))) {
		if (!force) {
			status = pt_reject(ctx, &req, resp, 409, "not_verified",
			    "event %s cannot be replayed: %s; a replay would "
			    "run its mappings as if it were authentic (force "
			    "it only if you know it is)", evt_id, why);
			goto out;
		}
		forced = 1;
		pt_ctx_log(ctx, "replay of %s forced by %s: %s", evt_id, who,
		    why);
	}
	format = logged_format(m);
	if ((rc = pt_body_parse(in.env, format, in.body, in.body_len, &in.doc,
	    &berr)) != PT_OK) {
		status = rc == PT_ENOMEM ? pt_reject(ctx, &req, resp, 500,
		    "internal_error", "out of memory") : pt_reject(ctx, &req, resp,
		    409, "not_replayable", "event %s has no %s body to replay: "
		    "%s", evt_id, format == PT_BODY_FORM ? "form" :
		    "JSON object", berr.message);
		goto out;
	}
	if (logged_headers(pt_json_get(m, "headers"), &hv, &req.nheaders) !=
	    PT_OK) {
		status = pt_reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	req.headers = hv;

	in.ev.received_at = ctx->now();
	in.vars = ctx->cfg->vars;
	if (pt_id_new("evt", in.ev.received_at, in.ev.id, in.ev.id_text) !=
	    PT_OK || pt_intake_headers(&req, &in) != PT_OK ||
	    (in.warnings = pt_json_new_array()) == NULL ||
	    (in.extra = pt_json_new_object()) == NULL ||
	    pt_json_set(in.extra, "replay_of", pt_json_new_cstr(evt_id)) !=
	    PT_OK || pt_json_set(in.extra, "replayed_by", pt_json_new_cstr(
	    who)) != PT_OK || (forced && pt_json_set(in.extra,
	    "replay_forced", pt_json_new_bool(1)) != PT_OK) ||
	    pt_json_set(in.extra, "body_format", pt_json_new_cstr(
	    pt_body_format_name(format))) != PT_OK) {
		status = pt_reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	in.ev.source = in.env->source_key;
	in.ev.environment = in.env->name;
	in.ev.endpoint_id = in.env->endpoint_id;
	in.ev.event_time = in.ev.received_at;
	in.ev.verify_status = "replayed";
	in.ev.verify_reason = replay_root_status(m);
	if ((status = replay_preprocess(ctx, &req, resp, &in, evt_id,
	    format)) != 0)
		goto out;
	if (pt_intake_identify(&in) != PT_OK) {
		status = pt_reject(ctx, &req, resp, 500, "internal_error",
		    "out of memory");
		goto out;
	}
	/* An operator's replay runs whatever the idempotency records say. */
	in.has_idem = 0;
	status = pt_execute(ctx, &req, resp, &in);
	if (status == 200) {
		/* Name the original in the answer. */
		size_t n = resp->body.len;

		if (n >= 2 && resp->body.data[n - 2] == '}') {
			resp->body.len = n - 2;
			pt_buf_printf(&resp->body, ", \"replay_of\": \"%s\"}\n",
			    evt_id);
		}
	}
out:
	pt_free(hv);
	pt_json_put(m);
	pt_intake_free(&in);
	return status;
}
