/*
 * actions.c - resolve, validate and apply an event's actions; the action
 * log (see actions.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "action_params.h"
#include "actidx.h"
#include "actions.h"
#include "evrec.h"
#include "alloc.h"
#include "data.h"
#include "filter.h"
#include "metrics.h"
#include "timeutil.h"

#define MAX_OUTPUT_LOGGED	65536

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

const char *
pt_action_status_name(enum pt_action_status s)
{
	switch (s) {
	case PT_ACT_SUCCESS: return "success";
	case PT_ACT_SKIPPED: return "skipped";
	case PT_ACT_FAILED: return "failed";
	case PT_ACT_PENDING: return "pending";
	case PT_ACT_INTERRUPTED: return "interrupted";
	case PT_ACT_FILTERED: return "filtered";
	}
	return "?";
}

static enum pt_err
put(pt_json *obj, const char *key, pt_json *val)
{
	return pt_json_set(obj, key, val);
}

/* Fields for pt_user_merge from an inline user / identify payload. */
static pt_json *
user_fields(const pt_json *src, int from_inline)
{
	struct pt_json_iter it = { 0 };
	pt_json *f, *props = NULL, *v;
	const char *k;

	if ((f = pt_json_new_object()) == NULL)
		return NULL;
	while (pt_json_iter_next(src, &it, &k, &v)) {
		if (strcmp(k, "id") == 0 || strcmp(k, "collection") == 0)
			continue;
		if (pt_action_user_field(k) || strcmp(k, "properties") == 0) {
			if (pt_json_set_ref(f, k, v) != PT_OK)
				goto fail;
			continue;
		}
		if (!from_inline)
			continue;
		/* Inline users: anything else is a custom property. */
		if (props == NULL && ((props = pt_json_new_object()) == NULL ||
		    pt_json_set(f, "properties", props) != PT_OK))
			goto fail;
		if (pt_json_set_ref(props, k, v) != PT_OK)
			goto fail;
	}
	return f;
fail:
	pt_json_put(f);
	return NULL;
}

/* Object fields from an inline object: name, and the rest as properties. */
static pt_json *
object_fields(const pt_json *src)
{
	struct pt_json_iter it = { 0 };
	pt_json *f, *props, *v;
	const char *k;

	if ((f = pt_json_new_object()) == NULL ||
	    (props = pt_json_new_object()) == NULL ||
	    pt_json_set(f, "properties", props) != PT_OK) {
		pt_json_put(f);
		return NULL;
	}
	while (pt_json_iter_next(src, &it, &k, &v)) {
		if (strcmp(k, "id") == 0 || strcmp(k, "collection") == 0)
			continue;
		if (pt_json_set_ref(strcmp(k, "name") == 0 ? f : props, k,
		    v) != PT_OK) {
			pt_json_put(f);
			return NULL;
		}
	}
	return f;
}

static const char *
jstr(const pt_json *obj, const char *key)
{
	return pt_json_str(pt_json_get(obj, key), NULL);
}

/*
 * Identify inline recipients (users with fields, objects) on the way;
 * plain references (only collection and id) change nothing.
 */
static enum pt_err
upsert_recipient(struct pt_txn *txn, const pt_json *r, int64_t now)
{
	const char *coll = jstr(r, "collection"), *id = jstr(r, "id");
	pt_json *f;
	enum pt_err rc;

	if (pt_json_len(r) <= 2)
		return PT_OK;
	if (strcmp(coll, "$users") == 0) {
		if ((f = user_fields(r, 1)) == NULL)
			return PT_ENOMEM;
		rc = pt_user_merge(txn, id, f, now, NULL);
	} else {
		if ((f = object_fields(r)) == NULL)
			return PT_ENOMEM;
		rc = pt_object_merge(txn, coll, id, f, now, NULL);
	}
	pt_json_put(f);
	return rc;
}

/* A reference {"collection", "id"} (new reference) of a recipient. */
static pt_json *
recipient_ref(const pt_json *r)
{
	pt_json *ref = pt_json_new_object();

	if (ref == NULL ||
	    pt_json_set_ref(ref, "collection", pt_json_get(r,
	    "collection")) != PT_OK ||
	    pt_json_set_ref(ref, "id", pt_json_get(r, "id")) != PT_OK) {
		pt_json_put(ref);
		return NULL;
	}
	return ref;
}

/* The subscription API's recipient form: a user id, or {"id","collection"}. */
static pt_json *
sub_recipient(const pt_json *r)
{
	if (strcmp(jstr(r, "collection"), "$users") == 0)
		return share(pt_json_get(r, "id"));
	return recipient_ref(r);
}

static enum pt_err
set_count(pt_json *result, const char *key, int64_t n)
{
	return pt_json_set(result, key, pt_json_new_int(n));
}

/* Will a run of "wf" have a handler to wait for? */
static int
has_handler(const struct pt_workflow *wf)
{
	return wf != NULL && (wf->argv != NULL || wf->http_url != NULL);
}

/*
 * The run record of trigger payload "p" (queued, or pending when a
 * handler will run), as of "now": pure, so made ahead too
 * (pt_actions_pack).  NULL when out of memory.
 */
static pt_json *
make_run(const struct pt_event_ctx *ctx, const pt_json *p,
    const char *run_text, const char *action_id, int64_t now)
{
	const struct pt_workflow *wf = pt_config_workflow(ctx->cfg,
	    jstr(p, "key"));
	pt_json *recips = pt_json_get(p, "recipients"), *refs, *run, *v;
	char t[PT_RFC3339_LEN];
	size_t i;

	if ((run = pt_json_new_object()) == NULL)
		return NULL;
	if ((refs = pt_json_new_array()) == NULL)
		goto fail;
	for (i = 0; i < pt_json_len(recips); i++)
		if (pt_json_append(refs, recipient_ref(pt_json_index(recips,
		    i))) != PT_OK) {
			pt_json_put(refs);
			goto fail;
		}
	pt_fmt_rfc3339(now, t);
	v = pt_json_get(p, "tenant");
	if (put(run, "id", pt_json_new_cstr(run_text)) != PT_OK ||
	    pt_json_set_ref(run, "workflow", pt_json_get(p, "key")) != PT_OK ||
	    put(run, "status", pt_json_new_cstr(has_handler(wf) ? "pending" :
	    "queued")) != PT_OK) {
		pt_json_put(refs);
		goto fail;
	}
	/* The run takes "refs" even when the setter fails. */
	if (put(run, "recipients", refs) != PT_OK)
		goto fail;
	if ((pt_json_get(p, "actor") ? put(run, "actor", recipient_ref(
	    pt_json_get(p, "actor"))) : pt_json_set_null(run, "actor")) !=
	    PT_OK ||
	    pt_json_set_ref(run, "tenant", v == NULL ? NULL : pt_json_type(v) ==
	    PT_J_OBJECT ? pt_json_get(v, "id") : v) != PT_OK ||
	    put(run, "data", pt_json_get(p, "data") ? share(pt_json_get(p,
	    "data")) : pt_json_new_object()) != PT_OK ||
	    pt_json_set_ref(run, "cancellation_key", pt_json_get(p,
	    "cancellation_key")) != PT_OK ||
	    put(run, "source", pt_json_new_cstr(ctx->env->source_key)) !=
	    PT_OK ||
	    put(run, "environment", pt_json_new_cstr(ctx->env->name)) != PT_OK ||
	    put(run, "event_type", pt_json_new_cstr(ctx->event_type)) !=
	    PT_OK ||
	    put(run, "event_id", pt_json_new_cstr(ctx->event_id)) != PT_OK ||
	    put(run, "action_id", pt_json_new_cstr(action_id)) != PT_OK ||
	    put(run, "created_at", pt_json_new_cstr(t)) != PT_OK ||
	    put(run, "updated_at", pt_json_new_cstr(t)) != PT_OK)
		goto fail;
	return run;
fail:
	pt_json_put(run);
	return NULL;
}

/*
 * workflows_trigger: identify inline recipients/actor, set an inline
 * tenant, record the run (made and packed ahead when al->ahead has it).
 */
static enum pt_err
do_trigger(struct pt_txn *txn, const struct pt_event_ctx *ctx,
    struct pt_action_log *al, const pt_json *p)
{
	const struct pt_workflow *wf = pt_config_workflow(ctx->cfg,
	    jstr(p, "key"));
	const struct pt_action_prep *ap = al->ahead;
	pt_json *recips = pt_json_get(p, "recipients"), *run = NULL, *v, *f;
	enum pt_err rc = PT_ENOMEM;
	size_t i;

	for (i = 0; i < pt_json_len(recips); i++)
		if ((rc = upsert_recipient(txn, pt_json_index(recips, i),
		    ctx->now)) != PT_OK)
			goto out;
	if ((v = pt_json_get(p, "actor")) != NULL &&
	    (rc = upsert_recipient(txn, v, ctx->now)) != PT_OK)
		goto out;
	if ((v = pt_json_get(p, "tenant")) != NULL &&
	    pt_json_type(v) == PT_J_OBJECT) {
		struct pt_json_iter it = { 0 };
		const char *k;
		pt_json *fv, *props;

		rc = PT_ENOMEM;
		if ((f = pt_json_new_object()) == NULL)
			goto out;
		if ((props = pt_json_new_object()) == NULL ||
		    pt_json_set(f, "properties", props) != PT_OK) {
			pt_json_put(f);
			goto out;
		}
		while (pt_json_iter_next(v, &it, &k, &fv))
			if (strcmp(k, "id") != 0 && pt_json_set_ref(strcmp(k,
			    "name") == 0 || strcmp(k, "settings") == 0 ? f :
			    props, k, fv) != PT_OK) {
				pt_json_put(f);
				goto out;
			}
		rc = pt_tenant_merge(txn, jstr(v, "id"), f, ctx->now, NULL);
		pt_json_put(f);
		if (rc != PT_OK)
			goto out;
	}
	rc = PT_ENOMEM;
	if (ap != NULL && ap->run != NULL && p == ap->payload) {
		/* Made ahead; the handler's outcome changes a copy. */
		memcpy(al->run_id, ap->run_id, sizeof(al->run_id));
		memcpy(al->job.run_text, ap->run_text, sizeof(ap->run_text));
		if ((run = has_handler(wf) ? pt_json_copy(ap->run) :
		    pt_json_ref(ap->run)) == NULL)
			goto out;
		rc = pt_run_create_packed(txn, al->run_id, run,
		    ap->run_packed.data, ap->run_packed.len);
	} else {
		if (pt_id_new("run", ctx->now, al->run_id, al->job.run_text) !=
		    PT_OK || (run = make_run(ctx, p, al->job.run_text,
		    al->id_text, ctx->now)) == NULL)
			goto out;
		rc = pt_run_create(txn, al->run_id, run);
	}
	if (rc != PT_OK)
		goto out;
	rc = PT_ENOMEM;
	if (put(al->result, "id", pt_json_new_cstr(al->job.run_text)) != PT_OK)
		goto out;
	if (has_handler(wf)) {
		al->has_job = 1;
		al->job.argv = wf->argv;
		al->job.http = wf->http_url ? wf : NULL;
		al->job.timeout_ms = wf->timeout_ms;
		al->job.max_output = wf->max_output;
		al->job.workflow = wf->key;
		al->job.kind = "trigger";
		if ((al->job.input = pt_json_copy(run)) == NULL)
			goto out;
		al->status = PT_ACT_PENDING;
	}
	al->run = run;
	run = NULL;
	rc = PT_OK;
out:
	pt_json_put(run);
	return rc;
}

struct cancel_walk {
	struct pt_txn		*txn;
	const pt_json		*recipients;	/* filter, or NULL */
	int64_t			 now;
	pt_json			*cancelled;	/* run ids */
	pt_json			*runs;		/* records, for the handler */
	enum pt_err		 rc;
	size_t			 n;
	uint8_t			(*ids)[PT_ID_BIN];
};

/* Does run "rec" include one of the filter's recipients? */
static int
run_has_recipient(const pt_json *rec, const pt_json *filter)
{
	pt_json *rr = pt_json_get(rec, "recipients");
	size_t i, j;

	for (i = 0; i < pt_json_len(filter); i++)
		for (j = 0; j < pt_json_len(rr); j++)
			if (pt_json_equal(pt_json_get(pt_json_index(filter, i),
			    "id"), pt_json_get(pt_json_index(rr, j), "id")) &&
			    pt_json_equal(pt_json_get(pt_json_index(filter, i),
			    "collection"), pt_json_get(pt_json_index(rr, j),
			    "collection")))
				return 1;
	return 0;
}

static int
collect_cancel(void *arg, pt_json *rec)
{
	struct cancel_walk *w = arg;
	const char *st = jstr(rec, "status");

	if (st == NULL || (strcmp(st, "queued") != 0 &&
	    strcmp(st, "pending") != 0))
		return 0;
	if (w->recipients && !run_has_recipient(rec, w->recipients))
		return 0;
	/* The record is ours (parsed for this walk): keep it, change it. */
	if (pt_json_append(w->runs, share(rec)) != PT_OK) {
		w->rc = PT_ENOMEM;
		return 1;
	}
	return 0;
}

/*
 * workflows_cancel: runs of the workflow with this cancellation key that
 * have not finished become "cancelled".
 */
static enum pt_err
do_cancel(struct pt_txn *txn, const struct pt_event_ctx *ctx,
    struct pt_action_log *al, const pt_json *p)
{
	const struct pt_workflow *wf = pt_config_workflow(ctx->cfg,
	    jstr(p, "key"));
	struct cancel_walk w;
	pt_json *ids = NULL, *rec;
	char t[PT_RFC3339_LEN];
	uint8_t bin[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.txn = txn;
	w.recipients = pt_json_get(p, "recipients");
	w.now = ctx->now;
	if ((w.runs = pt_json_new_array()) == NULL ||
	    (ids = pt_json_new_array()) == NULL) {
		rc = PT_ENOMEM;
		goto out;
	}
	/* Collect first: the walk must not see its own writes. */
	if ((rc = pt_runs_by_cancellation(txn, jstr(p, "key"),
	    jstr(p, "cancellation_key"), collect_cancel, &w)) != PT_OK ||
	    (rc = w.rc) != PT_OK)
		goto out;
	pt_fmt_rfc3339(ctx->now, t);
	for (i = 0; i < pt_json_len(w.runs); i++) {
		rec = pt_json_index(w.runs, i);
		if (pt_id_parse("run", jstr(rec, "id"), bin) < 0)
			continue;
		rc = PT_ENOMEM;
		if (pt_json_set(rec, "status", pt_json_new_cstr("cancelled")) !=
		    PT_OK || pt_json_set(rec, "updated_at",
		    pt_json_new_cstr(t)) != PT_OK ||
		    pt_json_set(rec, "cancelled_by", pt_json_new_cstr(
		    ctx->event_id)) != PT_OK ||
		    pt_json_append(ids, pt_json_new_cstr(jstr(rec, "id"))) !=
		    PT_OK)
			goto out;
		if ((rc = pt_run_put(txn, bin, rec)) != PT_OK)
			goto out;
	}
	rc = PT_ENOMEM;
	if (set_count(al->result, "cancelled", (int64_t)pt_json_len(ids)) !=
	    PT_OK || pt_json_set(al->result, "runs", ids) != PT_OK) {
		ids = NULL;
		goto out;
	}
	ids = NULL;
	if (wf != NULL && (wf->cancel_argv != NULL || wf->http_url != NULL) &&
	    pt_json_len(w.runs) > 0) {
		pt_json *in = pt_json_new_object();

		if (in == NULL || pt_json_set(in, "kind",
		    pt_json_new_cstr("cancel")) != PT_OK ||
		    pt_json_set_copy(in, "workflow", pt_json_get(p, "key")) !=
		    PT_OK ||
		    pt_json_set_copy(in, "cancellation_key", pt_json_get(p,
		    "cancellation_key")) != PT_OK ||
		    pt_json_set(in, "event_id", pt_json_new_cstr(ctx->event_id)) !=
		    PT_OK || pt_json_set(in, "runs", pt_json_ref(w.runs)) !=
		    PT_OK) {
			pt_json_put(in);
			goto out;
		}
		al->has_job = 1;
		al->job.argv = wf->cancel_argv;
		al->job.http = wf->http_url ? wf : NULL;
		al->job.timeout_ms = wf->timeout_ms;
		al->job.max_output = wf->max_output;
		al->job.workflow = wf->key;
		al->job.kind = "cancel";
		al->job.input = in;
		al->status = PT_ACT_PENDING;
	}
	rc = PT_OK;
out:
	pt_json_put(ids);
	pt_json_put(w.runs);
	return rc;
}

/*
 * Apply a validated payload.  Runs inside a nested transaction the caller
 * commits only on PT_OK, or in a flat one the caller aborts on an error.
 */
static enum pt_err
apply(struct pt_txn *txn, const struct pt_event_ctx *ctx,
    struct pt_action_log *al, const pt_json *p)
{
	const char *id = jstr(p, "id"), *coll = jstr(p, "collection");
	pt_json *f = NULL, *list, *props;
	enum pt_err rc = PT_OK;
	size_t i, hit = 0;
	int created = 0;

	switch (al->mapping->action) {
	case PT_A_USERS_IDENTIFY:
		if ((f = user_fields(p, 0)) == NULL)
			return PT_ENOMEM;
		if ((rc = pt_user_merge(txn, id, f, ctx->now, &created)) ==
		    PT_OK)
			rc = pt_json_set(al->result, "created",
			    pt_json_new_bool(created));
		break;
	case PT_A_USERS_DELETE:
		rc = pt_user_delete(txn, id);
		if (rc == PT_OK || rc == PT_ENOTFOUND)
			rc = pt_json_set(al->result, "existed",
			    pt_json_new_bool(rc == PT_OK));
		break;
	case PT_A_OBJECTS_SET:
		if ((f = pt_json_new_object()) == NULL ||
		    (pt_json_get(p, "name") && pt_json_set(f, "name",
		    share(pt_json_get(p, "name"))) != PT_OK) ||
		    (pt_json_get(p, "properties") && pt_json_set(f, "properties",
		    share(pt_json_get(p, "properties"))) != PT_OK)) {
			rc = PT_ENOMEM;
			break;
		}
		if ((rc = pt_object_merge(txn, coll, id, f, ctx->now,
		    &created)) == PT_OK)
			rc = pt_json_set(al->result, "created",
			    pt_json_new_bool(created));
		break;
	case PT_A_OBJECTS_DELETE:
		rc = pt_object_delete(txn, coll, id);
		if (rc == PT_OK || rc == PT_ENOTFOUND)
			rc = pt_json_set(al->result, "existed",
			    pt_json_new_bool(rc == PT_OK));
		break;
	case PT_A_TENANTS_SET:
		if ((f = pt_json_copy(p)) == NULL) {
			rc = PT_ENOMEM;
			break;
		}
		pt_json_del(f, "id");
		if ((rc = pt_tenant_merge(txn, id, f, ctx->now, &created)) ==
		    PT_OK)
			rc = pt_json_set(al->result, "created",
			    pt_json_new_bool(created));
		break;
	case PT_A_TENANTS_DELETE:
		rc = pt_tenant_delete(txn, id);
		if (rc == PT_OK || rc == PT_ENOTFOUND)
			rc = pt_json_set(al->result, "existed",
			    pt_json_new_bool(rc == PT_OK));
		break;
	case PT_A_OBJECTS_SUBSCRIBE:
	case PT_A_OBJECTS_UNSUBSCRIBE:
		list = pt_json_get(p, "recipients");
		props = pt_json_get(p, "properties");
		for (i = 0; i < pt_json_len(list) && rc == PT_OK; i++) {
			pt_json *r = pt_json_index(list, i), *sr;

			if (al->mapping->action == PT_A_OBJECTS_SUBSCRIBE &&
			    (rc = upsert_recipient(txn, r, ctx->now)) != PT_OK)
				break;
			if ((sr = sub_recipient(r)) == NULL) {
				rc = PT_ENOMEM;
				break;
			}
			if (al->mapping->action == PT_A_OBJECTS_SUBSCRIBE)
				rc = pt_subscription_add(txn, coll, id, sr, props,
				    ctx->now);
			else {
				rc = pt_subscription_remove(txn, coll, id, sr);
				if (rc == PT_OK)
					hit++;
				if (rc == PT_ENOTFOUND)
					rc = PT_OK;
			}
			pt_json_put(sr);
		}
		if (rc == PT_OK)
			rc = set_count(al->result, al->mapping->action ==
			    PT_A_OBJECTS_SUBSCRIBE ? "subscribed" : "removed",
			    (int64_t)(al->mapping->action ==
			    PT_A_OBJECTS_SUBSCRIBE ? pt_json_len(list) : hit));
		break;
	case PT_A_AUDIENCES_ADD_MEMBER:
	case PT_A_AUDIENCES_REMOVE_MEMBER:
		list = pt_json_get(p, "users");
		for (i = 0; i < pt_json_len(list) && rc == PT_OK; i++) {
			const char *u = pt_json_str(pt_json_index(list, i), NULL);

			if (al->mapping->action == PT_A_AUDIENCES_ADD_MEMBER)
				rc = pt_audience_add(txn, jstr(p, "key"), u,
				    jstr(p, "tenant"), ctx->now);
			else {
				rc = pt_audience_remove(txn, jstr(p, "key"), u,
				    jstr(p, "tenant"));
				if (rc == PT_OK)
					hit++;
				if (rc == PT_ENOTFOUND)
					rc = PT_OK;
			}
		}
		if (rc == PT_OK)
			rc = set_count(al->result, al->mapping->action ==
			    PT_A_AUDIENCES_ADD_MEMBER ? "added" : "removed",
			    (int64_t)(al->mapping->action ==
			    PT_A_AUDIENCES_ADD_MEMBER ? pt_json_len(list) : hit));
		break;
	case PT_A_WORKFLOWS_TRIGGER:
		rc = do_trigger(txn, ctx, al, p);
		break;
	case PT_A_WORKFLOWS_CANCEL:
		rc = do_cancel(txn, ctx, al, p);
		break;
	default:
		rc = PT_EINVAL;
	}
	pt_json_put(f);
	return rc;
}

/*
 * Text safe to put in JSON: invalid UTF-8 bytes become U+FFFD, so a
 * handler printing binary cannot break the action log.
 */
static pt_json *
safe_text(const char *s, size_t n)
{
	struct pt_buf b = { 0 };
	size_t i = 0, j;
	pt_json *j_;

	if (pt_utf8_valid(s, n))
		return pt_json_new_str(s, n);
	while (i < n) {
		for (j = 1; j <= 4 && i + j <= n; j++)
			if (pt_utf8_valid(s + i, j))
				break;
		if (j <= 4 && i + j <= n) {
			pt_buf_add(&b, s + i, j);
			i += j;
		} else {
			pt_buf_adds(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	j_ = b.failed ? NULL : pt_json_new_str(b.data ? b.data : "", b.len);
	pt_buf_free(&b);
	return j_;
}

/* Action logs hold resolved parameters (the event's data): packed. */
static enum pt_err
put_packed(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], const char *text,
    size_t n, int flags)
{
	struct pt_buf b = { 0 };
	enum pt_err rc;

	if ((rc = pt_evrec_pack_json(txn, text, n, &b)) == PT_OK)
		rc = pt_put(txn, PT_T_ACTIONS, id, PT_ID_BIN, b.data, b.len,
		    flags);
	pt_buf_free(&b);
	return rc;
}

/*
 * The index entries of "al"'s record (actidx.h): all of them when "first"
 * written, else only the status can have changed (pending to its outcome).
 */
static enum pt_err
index_record(struct pt_txn *txn, struct pt_action_log *al, int first)
{
	struct pt_akeys old, new;
	enum pt_err rc;

	new.v[PT_AK_STATUS] = pt_action_status_name(al->status);
	new.v[PT_AK_ACTION] = pt_action_spec(al->mapping->action)->name;
	new.v[PT_AK_WORKFLOW] = pt_action_workflow_key(al->payload,
	    al->mapping->spec);
	old = new;
	old.v[PT_AK_STATUS] = pt_action_status_name(al->logged);
	rc = pt_action_index(txn, al->id, first ? NULL : &old, &new);
	if (rc == PT_OK)
		al->logged = al->status;
	return rc;
}

/*
 * The members of an action log record fixed at its creation, without
 * braces.  Not printf: this runs for every action.
 */
static void
add_head(struct pt_buf *h, const struct pt_event_ctx *ctx,
    const struct pt_mapping *m, const char *id_text, int64_t now)
{
	char t[PT_RFC3339_LEN];

	pt_fmt_rfc3339(now, t);
	pt_buf_adds(h, "\"id\":");
	pt_buf_add_json_str(h, id_text, strlen(id_text));
	pt_buf_adds(h, ",\"event_id\":");
	pt_buf_add_json_str(h, ctx->event_id, strlen(ctx->event_id));
	pt_buf_adds(h, ",\"source\":");
	pt_buf_add_json_str(h, ctx->env->source_key,
	    strlen(ctx->env->source_key));
	pt_buf_adds(h, ",\"environment\":");
	pt_buf_add_json_str(h, ctx->env->name, strlen(ctx->env->name));
	pt_buf_adds(h, ",\"event_type\":");
	pt_buf_add_json_str(h, ctx->event_type, strlen(ctx->event_type));
	pt_buf_adds(h, ",\"inserted_at\":\"");
	pt_buf_adds(h, t);
	pt_buf_adds(h, "\",\"action\":\"");
	pt_buf_adds(h, pt_action_spec(m->action)->name);
	pt_buf_adds(h, "\",\"mapping\":");
	pt_buf_add_uint(h, m->order);
	pt_buf_adds(h, ",\"params\":");
	pt_buf_adds(h, m->spec_text ? m->spec_text : "{}");
}

/*
 * The members of an action log record its outcome decides, without
 * braces: the time "t", status, result ("result", or null when empty) and
 * error ("field" and "message", or null).
 */
static void
add_outcome(struct pt_buf *b, const char *t, enum pt_action_status status,
    const pt_json *result, const char *field, const char *message)
{
	pt_buf_adds(b, "\"updated_at\":\"");
	pt_buf_adds(b, t);
	pt_buf_adds(b, "\",\"status\":\"");
	pt_buf_adds(b, pt_action_status_name(status));
	pt_buf_adds(b, "\",\"result\":");
	if (result && pt_json_len(result))
		pt_json_write(b, (pt_json *)result, PT_JSON_PLAIN);
	else
		pt_buf_adds(b, "null");
	pt_buf_adds(b, ",\"error\":");
	if (message[0]) {
		pt_buf_adds(b, "{\"field\":");
		if (field[0])
			pt_buf_add_json_str(b, field, strlen(field));
		else
			pt_buf_adds(b, "null");
		pt_buf_adds(b, ",\"message\":");
		pt_buf_add_json_str(b, message, strlen(message));
		pt_buf_addc(b, '}');
	} else
		pt_buf_adds(b, "null");
}

/*
 * Build and store the action log record for "al": its outcome, then the
 * members fixed at creation with the payload (kept as text in al->head
 * for the later update, or made ahead: al->ahead).  Written as text, not
 * a json-c tree: this runs for every action.  When the outcome is the one
 * guessed ahead, the record packed then is only copied.
 */
static enum pt_err
write_record(struct pt_txn *txn, const struct pt_event_ctx *ctx,
    struct pt_action_log *al, int64_t now)
{
	const struct pt_action_prep *ap = al->ahead;
	const char *name = pt_action_spec(al->mapping->action)->name;
	struct pt_buf b = { 0 }, *h = &al->head;
	char t[PT_RFC3339_LEN];
	enum pt_err rc;
	int first = !al->stored;

	if (first && ap == NULL) {
		add_head(h, ctx, al->mapping, al->id_text, now);
		pt_buf_adds(h, ",\"payload\":");
		if (al->text != NULL)
			pt_buf_add(h, al->text->data, al->text->len);
		else if (al->payload)
			pt_json_write(h, al->payload, PT_JSON_PLAIN);
		else
			pt_buf_adds(h, "null");
		pt_buf_addc(h, '}');
		if (h->failed)
			return PT_ENOMEM;
	}
	pt_fmt_rfc3339(now, t);
	pt_buf_addc(&b, '{');
	add_outcome(&b, t, al->status, al->result, al->field, al->message);
	pt_buf_addc(&b, ',');
	if (ap != NULL && ap->packed.len > 0 && b.len == ap->guess.len &&
	    memcmp(b.data, ap->guess.data, b.len) == 0)
		rc = b.failed ? PT_ENOMEM : pt_put(txn, PT_T_ACTIONS, al->id,
		    PT_ID_BIN, ap->packed.data, ap->packed.len, PT_PUT_APPEND);
	else {
		if (ap != NULL)
			pt_buf_add(&b, ap->tail.data, ap->tail.len);
		else
			pt_buf_add(&b, h->data, h->len);
		rc = b.failed ? PT_ENOMEM : put_packed(txn, al->id, b.data,
		    b.len, PT_PUT_APPEND);
	}
	pt_buf_free(&b);
	if (rc != PT_OK || (rc = index_record(txn, al, first)) != PT_OK)
		return rc;
	al->stored = 1;
	/* Count each action once, at its final status. */
	if (al->status == PT_ACT_PENDING)
		return PT_OK;
	return pt_metrics_action(txn, name, pt_action_status_name(al->status));
}

void
pt_action_logs_free(struct pt_action_log *logs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pt_json_put(logs[i].payload);
		pt_json_put(logs[i].result);
		pt_json_put(logs[i].job.input);
		pt_json_put(logs[i].run);
		pt_buf_free(&logs[i].head);
	}
	pt_free(logs);
}

void
pt_action_preps_free(struct pt_action_preps *pp)
{
	size_t i;

	for (i = 0; i < pp->n; i++) {
		pt_json_put(pp->v[i].payload);
		pt_buf_free(&pp->v[i].text);
		pt_buf_free(&pp->v[i].packed);
		pt_buf_free(&pp->v[i].tail);
		pt_buf_free(&pp->v[i].guess);
		pt_json_put(pp->v[i].run);
		pt_buf_free(&pp->v[i].run_packed);
	}
	pt_free(pp->v);
	memset(pp, 0, sizeof(*pp));
}

enum pt_err
pt_actions_prepare(const struct pt_event_ctx *ctx, struct pt_action_preps *pp)
{
	const struct pt_env *env = ctx->env;
	struct pt_action_prep *ap;
	pt_json *input = NULL;		/* what filters see, made once */
	enum pt_err rc = PT_OK;
	size_t i, want = 0;

	memset(pp, 0, sizeof(*pp));
	for (i = 0; i < env->nmappings; i++)
		if (env->mappings[i].active &&
		    strcmp(env->mappings[i].event_type, ctx->event_type) == 0)
			want++;
	if (want > 0 && (pp->v = pt_calloc(want, sizeof(*pp->v))) == NULL)
		return PT_ENOMEM;
	/* env->mappings is sorted in priority order, ties in file order. */
	for (i = 0; i < env->nmappings; i++) {
		const struct pt_mapping *m = &env->mappings[i];

		if (!m->active || strcmp(m->event_type, ctx->event_type) != 0)
			continue;
		ap = &pp->v[pp->n++];
		ap->mapping = m;
		if (m->filter != NULL) {
			struct pt_filter_why why;

			if (input == NULL &&
			    (input = pt_filter_input(&ctx->roots)) == NULL) {
				rc = PT_ENOMEM;
				goto out;
			}
			if (!pt_filter_match(m->filter, input, &why)) {
				ap->status = PT_ACT_FILTERED;
				pt_filter_why_pointer(&why, ap->field,
				    sizeof(ap->field));
				pt_filter_why_text(&why, ap->message,
				    sizeof(ap->message));
				continue;
			}
		}
		rc = pt_action_prepare_len(m, &ctx->roots, ctx->body_len,
		    &ap->payload, ap->field, sizeof(ap->field), ap->message,
		    sizeof(ap->message));
		if (rc == PT_EINVAL) {
			ap->status = PT_ACT_SKIPPED;
			rc = PT_OK;
			continue;
		}
		if (rc != PT_OK)
			goto out;
		ap->status = PT_ACT_SUCCESS;
		if ((rc = pt_json_write(&ap->text, ap->payload, PT_JSON_PLAIN)) !=
		    PT_OK)
			goto out;
	}
	pp->made = 1;
out:
	pt_json_put(input);
	if (rc != PT_OK)
		pt_action_preps_free(pp);
	return rc;
}

/* A trigger's run record, made and packed ahead; none if that fails. */
static void
run_ahead(struct pt_store *st, const struct pt_event_ctx *ctx,
    struct pt_action_prep *ap)
{
	struct pt_buf text = { 0 };

	if (pt_id_new("run", ctx->now, ap->run_id, ap->run_text) == PT_OK &&
	    (ap->run = make_run(ctx, ap->payload, ap->run_text, ap->id_text,
	    ctx->now)) != NULL && pt_json_write(&text, ap->run, PT_JSON_PLAIN) ==
	    PT_OK && pt_evrec_prepack_json(st, text.data, text.len,
	    &ap->run_packed) ==
	    PT_OK) {
		pt_buf_free(&text);
		return;
	}
	pt_json_put(ap->run);
	ap->run = NULL;
	pt_buf_free(&ap->run_packed);
	pt_buf_free(&text);
}

/*
 * The outcome write_record will give "ap"'s log at its first write when
 * things go as they usually do: filters and skips as decided, a trigger
 * with its run made ahead, an identify of a user who exists.  0: no
 * guess for this action.
 */
static int
guess_outcome(const struct pt_event_ctx *ctx, const struct pt_action_prep *ap,
    struct pt_buf *out)
{
	enum pt_action_status status = ap->status;
	char t[PT_RFC3339_LEN];
	pt_json *result;
	int ok = 1;

	if ((result = pt_json_new_object()) == NULL)
		return 0;
	if (status != PT_ACT_SUCCESS)
		;
	else if (ap->mapping->action == PT_A_WORKFLOWS_TRIGGER && ap->run) {
		if (strcmp(jstr(ap->run, "status"), "pending") == 0)
			status = PT_ACT_PENDING;
		ok = put(result, "id", pt_json_new_cstr(ap->run_text)) == PT_OK;
	} else if (ap->mapping->action == PT_A_USERS_IDENTIFY)
		ok = pt_json_set(result, "created", pt_json_new_bool(0)) ==
		    PT_OK;
	else
		ok = 0;
	if (ok) {
		pt_fmt_rfc3339(ctx->now, t);
		pt_buf_addc(out, '{');
		add_outcome(out, t, status, result, status == ap->status ?
		    ap->field : "", status == ap->status ? ap->message : "");
		pt_buf_addc(out, ',');
		ok = !out->failed;
	}
	pt_json_put(result);
	return ok;
}

void
pt_actions_pack(struct pt_store *st, const struct pt_event_ctx *ctx,
    struct pt_action_preps *pp)
{
	struct pt_action_prep *ap;
	struct pt_buf b = { 0 };
	size_t i;

	for (i = 0; i < pp->n; i++) {
		ap = &pp->v[i];
		if (pt_id_new("act", ctx->now, ap->id, ap->id_text) != PT_OK)
			continue;
		/* The record's end: see write_record. */
		if (pt_buf_reserve(&ap->tail, ap->text.len + 512) != PT_OK)
			continue;
		add_head(&ap->tail, ctx, ap->mapping, ap->id_text, ctx->now);
		pt_buf_adds(&ap->tail, ",\"payload\":");
		if (ap->status == PT_ACT_SUCCESS)
			pt_buf_add(&ap->tail, ap->text.data, ap->text.len);
		else
			pt_buf_adds(&ap->tail, "null");
		pt_buf_addc(&ap->tail, '}');
		if (ap->tail.failed) {
			pt_buf_free(&ap->tail);
			continue;
		}
		if (ap->status == PT_ACT_SUCCESS &&
		    ap->mapping->action == PT_A_WORKFLOWS_TRIGGER)
			run_ahead(st, ctx, ap);
		/* The whole record for the likely outcome, packed. */
		pt_buf_reset(&b);
		if (!guess_outcome(ctx, ap, &ap->guess) ||
		    pt_buf_reserve(&b, ap->guess.len + ap->tail.len) != PT_OK ||
		    pt_buf_add(&b, ap->guess.data, ap->guess.len) != PT_OK ||
		    pt_buf_add(&b, ap->tail.data, ap->tail.len) != PT_OK ||
		    pt_evrec_prepack_json(st, b.data, b.len, &ap->packed) !=
		    PT_OK) {
			pt_buf_free(&ap->guess);
			pt_buf_free(&ap->packed);
		}
	}
	pt_buf_free(&b);
}

enum pt_err
pt_actions_run(struct pt_txn *txn, const struct pt_event_ctx *ctx,
    const struct pt_action_preps *preps, struct pt_action_log **logsp,
    size_t *np)
{
	struct pt_action_preps here = { 0 };
	const struct pt_action_prep *ap;
	struct pt_action_log *logs = NULL, *al;
	struct pt_txn *child = NULL;
	enum pt_err rc = PT_OK;
	size_t i, n = 0;

	*logsp = NULL;
	*np = 0;
	/* Made here, they go at the end: the logs do not borrow their text. */
	if (preps == NULL || !preps->made) {
		if ((rc = pt_actions_prepare(ctx, &here)) != PT_OK)
			return rc;
		preps = &here;
	}
	if (preps->n == 0)
		goto out;
	if ((logs = pt_calloc(preps->n, sizeof(*logs))) == NULL) {
		rc = PT_ENOMEM;
		goto out;
	}
	for (i = 0; i < preps->n; i++) {
		ap = &preps->v[i];
		al = &logs[n++];
		al->mapping = ap->mapping;
		/* Packed ahead: with its id (pt_actions_pack). */
		if (preps != &here && ap->tail.len > 0) {
			al->ahead = ap;
			memcpy(al->id, ap->id, sizeof(al->id));
			memcpy(al->id_text, ap->id_text, sizeof(al->id_text));
		} else if ((rc = pt_id_new("act", ctx->now, al->id,
		    al->id_text)) != PT_OK)
			goto out;
		if ((al->result = pt_json_new_object()) == NULL) {
			rc = PT_ENOMEM;
			goto out;
		}
		if (ap->status != PT_ACT_SUCCESS) {
			/* Filtered out, or a field failed validation. */
			al->status = ap->status;
			memcpy(al->field, ap->field, sizeof(al->field));
			memcpy(al->message, ap->message, sizeof(al->message));
			if ((rc = write_record(txn, ctx, al, ctx->now)) != PT_OK)
				goto out;
			continue;
		}
		al->payload = pt_json_ref(ap->payload);
		al->text = preps == &here ? NULL : &ap->text;
		if (pt_txn_flat(txn)) {
			/*
			 * No nested transaction to undo a refused action's
			 * partial writes: have the event run again in one
			 * that allows them (rare: validation comes first).
			 */
			al->status = PT_ACT_SUCCESS;
			rc = apply(txn, ctx, al, al->payload);
			if (rc == PT_EINVAL || rc == PT_ETOOBIG)
				rc = PT_ERETRY;
			if (rc != PT_OK)
				goto out;
		} else {
			/* Each action in a child: a failure leaves nothing. */
			al->status = PT_ACT_SUCCESS;
			if ((rc = pt_txn_begin(pt_txn_store(txn), txn,
			    PT_TXN_WRITE, &child)) != PT_OK)
				goto out;
			rc = apply(child, ctx, al, al->payload);
			if (rc == PT_OK)
				rc = pt_txn_commit(child);
			else
				pt_txn_abort(child);
			child = NULL;
			if (rc == PT_EINVAL || rc == PT_ETOOBIG) {
				/* The data refused it: this action fails. */
				al->status = PT_ACT_FAILED;
				al->has_job = 0;
				snprintf(al->message, sizeof(al->message),
				    "could not apply: %s", pt_strerror(rc));
			} else if (rc != PT_OK)
				goto out;	/* storage: abort the event */
		}
		if ((rc = write_record(txn, ctx, al, ctx->now)) != PT_OK)
			goto out;
	}
out:
	pt_action_preps_free(&here);
	if (rc != PT_OK) {
		pt_action_logs_free(logs, n);
		return rc;
	}
	*logsp = logs;
	*np = n;
	return PT_OK;
}

/* The handler's outcome as JSON for the action log and the run. */
static pt_json *
handler_json(const struct pt_exec_result *res)
{
	pt_json *h = pt_json_new_object();
	size_t n;

	if (h == NULL)
		return NULL;
	n = res->out.len > MAX_OUTPUT_LOGGED ? MAX_OUTPUT_LOGGED : res->out.len;
	if (res->http_status != 0 && put(h, "http_status",
	    pt_json_new_int(res->http_status)) != PT_OK)
		goto fail;
	if ((res->exited ? put(h, "exit_code", pt_json_new_int(
	    res->exit_code)) : pt_json_set_null(h, "exit_code")) != PT_OK ||
	    (res->signal ? put(h, "signal", pt_json_new_int(res->signal)) :
	    pt_json_set_null(h, "signal")) != PT_OK ||
	    put(h, "timed_out", pt_json_new_bool(res->timed_out)) != PT_OK ||
	    put(h, "duration_ms", pt_json_new_int(res->duration_ms)) != PT_OK ||
	    put(h, "stdout", safe_text(res->out.data ? res->out.data : "", n)) !=
	    PT_OK ||
	    put(h, "stdout_truncated", pt_json_new_bool(res->out_truncated ||
	    n < res->out.len)) != PT_OK)
		goto fail;
	n = res->err.len > MAX_OUTPUT_LOGGED ? MAX_OUTPUT_LOGGED : res->err.len;
	if (put(h, "stderr", safe_text(res->err.data ? res->err.data : "", n)) !=
	    PT_OK ||
	    put(h, "stderr_truncated", pt_json_new_bool(res->err_truncated ||
	    n < res->err.len)) != PT_OK)
		goto fail;
	return h;
fail:
	pt_json_put(h);
	return NULL;
}

enum pt_err
pt_action_finish(struct pt_txn *txn, struct pt_action_log *al,
    const struct pt_exec_result *res, int64_t now)
{
	struct pt_event_ctx none;
	char t[PT_RFC3339_LEN];
	pt_json *h;
	enum pt_err rc;
	int good = res->error[0] == '\0' && !res->timed_out &&
	    (res->http_status ? res->http_status >= 200 &&
	    res->http_status < 300 : res->exited && res->exit_code == 0);

	memset(&none, 0, sizeof(none));
	if ((h = handler_json(res)) == NULL)
		return PT_ENOMEM;
	al->status = good ? PT_ACT_SUCCESS : PT_ACT_FAILED;
	if (!good) {
		snprintf(al->field, sizeof(al->field), "%s", "");
		if (res->error[0])
			snprintf(al->message, sizeof(al->message),
			    "handler could not run: %s", res->error);
		else {
			char why[200];

			pt_exec_describe(res, why, sizeof(why));
			snprintf(al->message, sizeof(al->message), "handler "
			    "failed: %s", why);
		}
	}
	if (pt_json_set(al->result, "handler", pt_json_ref(h)) != PT_OK) {
		pt_json_put(h);
		return PT_ENOMEM;
	}
	if (al->run != NULL) {
		pt_fmt_rfc3339(now, t);
		if (pt_json_set(al->run, "status", pt_json_new_cstr(good ?
		    "completed" : "failed")) != PT_OK ||
		    pt_json_set(al->run, "updated_at", pt_json_new_cstr(t)) !=
		    PT_OK ||
		    pt_json_set(al->run, "handler", pt_json_ref(h)) != PT_OK ||
		    (good ? pt_json_set_null(al->run, "error") :
		    pt_json_set(al->run, "error", pt_json_new_cstr(
		    al->message))) != PT_OK) {
			pt_json_put(h);
			return PT_ENOMEM;
		}
		if ((rc = pt_run_put(txn, al->run_id, al->run)) != PT_OK) {
			pt_json_put(h);
			return rc;
		}
	}
	pt_json_put(h);
	if ((rc = pt_metrics_handler(txn, al->job.workflow, res->duration_ms,
	    good)) != PT_OK)
		return rc;
	/* The record exists: write_record only updates it. */
	return write_record(txn, &none, al, now);
}

enum pt_err
pt_action_get(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], pt_json **out)
{
	struct pt_val v;
	enum pt_err rc;

	*out = NULL;
	if ((rc = pt_get(txn, PT_T_ACTIONS, id, PT_ID_BIN, &v)) != PT_OK)
		return rc;
	if ((*out = pt_evrec_parse_json(txn, &v)) == NULL)
		return PT_ECORRUPT;
	return PT_OK;
}

enum pt_err
pt_action_interrupt(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    int64_t now)
{
	pt_json *rec = NULL, *run = NULL;
	struct pt_akeys old, new;
	char t[PT_RFC3339_LEN];
	const char *text, *runid;
	uint8_t rbin[PT_ID_BIN];
	enum pt_err rc;
	size_t n;

	if ((rc = pt_action_get(txn, id, &rec)) != PT_OK)
		return rc;
	if (strcmp(jstr(rec, "status"), "pending") != 0)
		goto out;
	pt_akeys_of(rec, &old);
	new = old;
	new.v[PT_AK_STATUS] = "interrupted";
	/* Before "rec" changes: "old" borrows from it. */
	if ((rc = pt_action_index(txn, id, &old, &new)) != PT_OK)
		goto out;
	pt_fmt_rfc3339(now, t);
	rc = PT_ENOMEM;
	if (put(rec, "status", pt_json_new_cstr("interrupted")) != PT_OK ||
	    put(rec, "updated_at", pt_json_new_cstr(t)) != PT_OK ||
	    pt_json_set_null(rec, "error") != PT_OK)
		goto out;
	{
		pt_json *err = pt_json_new_object();

		if (err == NULL || put(rec, "error", err) != PT_OK ||
		    pt_json_set_null(err, "field") != PT_OK ||
		    put(err, "message", pt_json_new_cstr("the process running "
		    "the handler died before it recorded the outcome")) != PT_OK)
			goto out;
	}
	if ((text = pt_json_text(rec, PT_JSON_PLAIN, &n)) == NULL)
		goto out;
	if ((rc = put_packed(txn, id, text, n, 0)) !=
	    PT_OK || (rc = pt_metrics_action(txn, jstr(rec, "action"),
	    "interrupted")) != PT_OK)
		goto out;
	runid = jstr(pt_json_get(rec, "result"), "id");
	if (runid != NULL && pt_id_parse("run", runid, rbin) == 0 &&
	    pt_run_get(txn, rbin, &run) == PT_OK &&
	    strcmp(jstr(run, "status"), "pending") == 0) {
		rc = PT_ENOMEM;
		if (put(run, "status", pt_json_new_cstr("interrupted")) != PT_OK ||
		    put(run, "updated_at", pt_json_new_cstr(t)) != PT_OK)
			goto out;
		if ((rc = pt_run_put(txn, rbin, run)) != PT_OK)
			goto out;
	}
	rc = PT_OK;
out:
	pt_json_put(run);
	pt_json_put(rec);
	return rc;
}
