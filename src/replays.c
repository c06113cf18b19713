/*
 * replays.c - replay in bulk (see replays.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "inspect.h"
#include "replay.h"
#include "replays.h"

/* What the selection keeps: the matches, newest first. */
struct pick {
	const struct pt_replays_req	*r;
	pt_json				**metas;
	size_t				 n;
	int				 more;
};

static int
pick_cb(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t body_len)
{
	struct pick *p = arg;

	(void)id;
	if (p->r->where != NULL && !pt_inspect_where(p->r->where, p->r->value,
	    meta, body, body_len))
		return 0;
	if (p->n == p->r->limit) {
		p->more = 1;
		return 1;
	}
	p->metas[p->n++] = pt_json_ref(meta);
	return 0;
}

/* {"event_id": ..., k1: v1, k2: v2} appended to "arr"; -1 out of memory. */
static int
item(pt_json *arr, const char *evt, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		return -1;
	if (pt_json_append(arr, o) != PT_OK ||
	    pt_json_set_cstr(o, "event_id", evt) != PT_OK ||
	    pt_json_set_cstr(o, k1, v1) != PT_OK ||
	    (k2 != NULL && pt_json_set_cstr(o, k2, v2) != PT_OK))
		return -1;
	return 0;
}

/* Replay "evt" and note the outcome in "rep"; -1 out of memory. */
static int
run_one(struct pt_ctx *ctx, const struct pt_replays_req *r, const char *evt,
    pt_json *rep)
{
	struct pt_json_error jerr;
	struct pt_resp resp;
	pt_json *j = NULL, *f;
	int status, rc;

	status = pt_replay(ctx, evt, r->who, r->force, &resp);
	(void)pt_json_parse(resp.body.data ? resp.body.data : "",
	    resp.body.len, PT_JSON_MAX_DEPTH, &j, &jerr);
	if (status == 200)
		rc = item(pt_json_get(rep, "replayed"), evt, "replay_id",
		    pt_json_str(pt_json_get(j, "id"), NULL), "status",
		    pt_json_str(pt_json_get(j, "status"), NULL));
	else if ((rc = item(pt_json_get(rep, "failed"), evt, "error",
	    pt_json_str(pt_json_get(j, "error"), NULL), "message",
	    pt_json_str(pt_json_get(j, "message"), NULL))) == 0) {
		f = pt_json_index(pt_json_get(rep, "failed"),
		    pt_json_len(pt_json_get(rep, "failed")) - 1);
		rc = pt_json_set(f, "status", pt_json_new_int(status)) ==
		    PT_OK ? 0 : -1;
	}
	pt_json_put(j);
	pt_resp_free(&resp);
	return rc;
}

enum pt_err
pt_replays(struct pt_ctx *ctx, const struct pt_replays_req *r, pt_json **out,
    char *why, size_t whylen)
{
	struct pick p = { r, NULL, 0, 0 };
	struct pt_log_query q = r->q;
	struct pt_txn *txn = NULL;
	pt_json *rep = NULL, *m;
	const char *evt;
	enum pt_err rc;
	size_t i;

	*out = NULL;
	why[0] = '\0';
	if ((rc = pt_ctx_refresh(ctx, why, whylen)) != PT_OK)
		return rc;
	if ((p.metas = pt_calloc(r->limit ? r->limit : 1, sizeof(*p.metas))) ==
	    NULL)
		goto nomem;
	q.before = q.after = NULL;
	q.limit = (size_t)-1;	/* pick_cb stops the walk */
	q.want_body = r->where != NULL;
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK ||
	    (rc = pt_eventlog_query(txn, &q, pick_cb, &p)) != PT_OK) {
		snprintf(why, whylen, "reading the log: %s", pt_strerror(rc));
		goto out;
	}
	pt_txn_abort(txn);
	txn = NULL;
	rc = PT_ENOMEM;
	if ((rep = pt_json_new_object()) == NULL ||
	    pt_json_set(rep, "dry_run", pt_json_new_bool(r->dry_run)) != PT_OK ||
	    pt_json_set(rep, "matched", pt_json_new_int((int64_t)p.n)) != PT_OK ||
	    pt_json_set(rep, "more", pt_json_new_bool(p.more)) != PT_OK ||
	    pt_json_set(rep, r->dry_run ? "would_replay" : "replayed",
	    pt_json_new_array()) != PT_OK ||
	    pt_json_set(rep, "failed", pt_json_new_array()) != PT_OK ||
	    pt_json_set(rep, "skipped", pt_json_new_array()) != PT_OK)
		goto nomem;
	/* Oldest first: the order the sender sent them in. */
	for (i = p.n; i > 0; i--) {
		m = p.metas[i - 1];
		evt = pt_json_str(pt_json_get(m, "id"), NULL);
		if (!r->force && !pt_replay_allowed(ctx->cfg, m)) {
			if (item(pt_json_get(rep, "skipped"), evt, "reason",
			    "not verified where verification is enforced, or "
			    "its environment is gone (force to replay it)", NULL,
			    NULL) < 0)
				goto nomem;
			continue;
		}
		if (r->dry_run) {
			if (item(pt_json_get(rep, "would_replay"), evt,
			    "event_type", pt_json_str(pt_json_get(m,
			    "event_type"), NULL), "status", pt_json_str(
			    pt_json_get(m, "status"), NULL)) < 0)
				goto nomem;
		} else if (run_one(ctx, r, evt, rep) < 0)
			goto nomem;
	}
	*out = rep;
	rep = NULL;
	rc = PT_OK;
	goto out;
nomem:
	rc = PT_ENOMEM;
	snprintf(why, whylen, "out of memory");
out:
	if (txn != NULL)
		pt_txn_abort(txn);
	for (i = 0; i < p.n; i++)
		pt_json_put(p.metas[i]);
	pt_free(p.metas);
	pt_json_put(rep);
	return rc;
}
