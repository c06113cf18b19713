/*
 * admin_logs.c - the event log over the API: queries, one event
 * in detail, replays (porter-api(7) "Logs").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actionlog.h"
#include "admin_int.h"
#include "eventlog.h"
#include "ids.h"
#include "inspect.h"
#include "json.h"
#include "path.h"
#include "replay.h"
#include "replays.h"
#include "timeutil.h"

#define LOGS_DEFAULT	50
#define LOGS_MAX	200
/*
 * Records one log query examines at most.  Filters the chosen index does
 * not cover (status with a source, verification, idempotency key) are
 * applied while scanning; a query that found fewer matches than asked for
 * within this many says so ("scan_limited") and gives the cursor to go on
 * from.  There is no index of idempotency keys: a key is looked for by
 * scanning, at most this many records per call.
 */
#define MAX_SCAN	10000

/* ---------------------------------------------------------------- logs */

/* The filters a log query applies while scanning. */
struct logs_walk {
	const char	*environment;
	const char	*event_type;
	const char	*status;
	const char	*verification;
	const char	*idem_key;
	struct pt_path	*where;		/* ?path=...&value=..., or NULL */
	const char	*value;
	pt_json		*data;
	size_t		 limit;
	size_t		 matched;
	size_t		 scanned;
	int		 full;		/* a match beyond "limit" exists */
	int		 failed;
	uint8_t		 last[PT_ID_BIN];	/* last record scanned */
	int		 have_last;
};

static int
str_eq(pt_json *obj, const char *key, const char *want)
{
	const char *s = pt_json_str(pt_json_get(obj, key), NULL);

	return s != NULL && strcmp(s, want) == 0;
}

static int
log_cb(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t body_len)
{
	struct logs_walk *w = arg;

	w->scanned++;
	memcpy(w->last, id, PT_ID_BIN);
	w->have_last = 1;
	if ((w->environment && !str_eq(meta, "environment", w->environment)) ||
	    (w->event_type && !str_eq(meta, "event_type", w->event_type)) ||
	    (w->status && !str_eq(meta, "status", w->status)) ||
	    (w->verification && !str_eq(pt_json_get(meta, "verification"),
	    "status", w->verification)) ||
	    (w->idem_key && !str_eq(pt_json_get(meta, "idempotency"), "key",
	    w->idem_key)) ||
	    (w->where && !pt_inspect_where(w->where, w->value, meta, body,
	    body_len)))
		return 0;
	if (w->matched == w->limit) {
		w->full = 1;
		return 1;
	}
	if (pt_json_append(w->data, pt_json_ref(meta)) != PT_OK) {
		w->failed = 1;
		return 1;
	}
	w->matched++;
	return 0;
}

/* A time parameter: RFC 3339, or a duration back from now ("2h"). */
static int
parse_time(struct admin *a, const char *s, int64_t *us)
{
	int64_t secs;

	if (pt_parse_duration(s, &secs) == 0) {
		*us = a->ctx->now() - secs * 1000000;
		return 0;
	}
	return pt_parse_rfc3339(s, strlen(s), us);
}

/* A cursor id made of a time and a fill byte (0x00 or 0xff). */
static void
time_cursor(int64_t us, uint8_t fill, uint8_t id[PT_ID_BIN])
{
	pt_be64_put(id, (uint64_t)us);
	memset(id + 8, fill, PT_ID_BIN - 8);
}

/*
 * Can these filters match at all (pt_eventlog_check_filters)?  PT_EINVAL
 * with a->why naming the valid values, or a store error.
 */
static enum pt_err
check_filters(struct admin *a, const char *source, const char *env,
    const char *status, const char *verification)
{
	const struct pt_config *cfg;
	struct pt_log_query q;
	struct pt_txn *txn;
	enum pt_err rc;

	memset(&q, 0, sizeof(q));
	q.source = source;
	q.environment = env;
	q.status = status;
	q.verify_status = verification;
	if ((rc = adm_config(a, &cfg)) != PT_OK || (rc = adm_txn(a, &txn)) != PT_OK)
		return rc == PT_EINVAL ? PT_ECORRUPT : rc;	/* not the filters' */
	return pt_eventlog_check_filters(txn, cfg, &q, a->why,
	    sizeof(a->why));
}

/*
 * The window of a log query from its parameters: limit, since, until, and
 * the cursor, before or after ("before" and "after" hold the ids q points
 * to).  0, or the status answered.
 */
static int
log_window(struct admin *a, struct pt_log_query *q, struct logs_walk *w,
    uint8_t before[PT_ID_BIN], uint8_t after[PT_ID_BIN])
{
	uint8_t tc[PT_ID_BIN];
	const char *s;
	char *end;
	long lim;

	w->limit = LOGS_DEFAULT;
	if ((s = adm_param(a, "limit")) != NULL) {
		errno = 0;
		lim = strtol(s, &end, 10);
		if (errno || end == s || *end || lim < 1 || lim > LOGS_MAX)
			return adm_fail(a, 400, "invalid_parameter", "limit: 1 to "
			    "%d", LOGS_MAX);
		w->limit = (size_t)lim;
	}
	if ((s = adm_param(a, "since")) != NULL && parse_time(a, s, &q->since) <
	    0)
		return adm_fail(a, 400, "invalid_parameter", "since: want an RFC "
		    "3339 time or a duration (90s, 15m, 2h, 7d)");
	if ((s = adm_param(a, "until")) != NULL && parse_time(a, s, &q->until) <
	    0)
		return adm_fail(a, 400, "invalid_parameter", "until: want an RFC "
		    "3339 time or a duration (90s, 15m, 2h, 7d)");
	if ((s = adm_param(a, "before")) != NULL) {
		if (pt_id_parse("evt", s, before) < 0)
			return adm_fail(a, 400, "invalid_parameter", "before: not an "
			    "event id");
		q->before = before;
	}
	if ((s = adm_param(a, "after")) != NULL) {
		if (q->before != NULL)
			return adm_fail(a, 400, "invalid_parameter", "give before or "
			    "after, not both");
		if (pt_id_parse("evt", s, after) < 0)
			return adm_fail(a, 400, "invalid_parameter", "after: not an "
			    "event id");
		q->after = after;
	}
	/* Start at the time bound when it is nearer than the cursor. */
	if (q->after != NULL && q->since) {
		time_cursor(q->since - 1, 0xff, tc);
		if (memcmp(tc, after, PT_ID_BIN) > 0)
			memcpy(after, tc, PT_ID_BIN);
	} else if (q->after == NULL && q->until) {
		time_cursor(q->until + 1, 0x00, tc);
		if (q->before == NULL || memcmp(tc, before, PT_ID_BIN) < 0) {
			memcpy(before, tc, PT_ID_BIN);
			q->before = before;
		}
	}
	return 0;
}

/*
 * The answer to a log query that walked "w" (its matches taken), forward
 * (after a cursor) or back: the matches newest first, and the cursors to
 * go on from.
 */
static int
logs_answer(struct admin *a, struct logs_walk *w, int forward)
{
	pt_json *o, *pi, *rev;
	char idt[PT_ID_MAX];
	size_t i, n = pt_json_len(w->data);
	int scan_limited = !w->full && w->scanned >= MAX_SCAN;

	/* Newest first in both directions. */
	if (forward && n > 1) {
		if ((rev = pt_json_new_array()) == NULL) {
			pt_json_put(w->data);
			return adm_fail(a, 500, "internal_error", "out of memory");
		}
		for (i = n; i > 0; i--)
			pt_json_append(rev, pt_json_ref(pt_json_index(w->data,
			    i - 1)));
		pt_json_put(w->data);
		w->data = rev;
	}
	if ((o = pt_json_new_object()) == NULL ||
	    (pi = pt_json_new_object()) == NULL) {
		pt_json_put(o);
		pt_json_put(w->data);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "page_info", pi);
	pt_json_set(o, "data", w->data);
	/*
	 * Cursors: "before" gives the next older page, "after" newer
	 * entries.  In the direction walked, a scan cut short goes on from
	 * the last record it examined.
	 */
	pt_json_set_ref(pi, "before", n ? pt_json_get(pt_json_index(w->data,
	    n - 1), "id") : NULL);
	pt_json_set_ref(pi, "after", n ? pt_json_get(pt_json_index(w->data, 0),
	    "id") : NULL);
	if (scan_limited && w->have_last) {
		pt_id_text("evt", w->last, idt);
		pt_json_set(pi, forward ? "after" : "before",
		    pt_json_new_cstr(idt));
	}
	if (n == 0 && !scan_limited) {
		/* Nothing (more) here: keep the caller's cursor for polling. */
		if (forward && adm_param(a, "after"))
			pt_json_set(pi, "after", pt_json_new_cstr(adm_param(a,
			    "after")));
	}
	pt_json_set(pi, "limit", pt_json_new_int((int64_t)w->limit));
	pt_json_set(pi, "has_more", pt_json_new_bool(w->full || scan_limited));
	pt_json_set(pi, "scanned", pt_json_new_int((int64_t)w->scanned));
	pt_json_set(pi, "scan_limited", pt_json_new_bool(scan_limited));
	return adm_send_json(a, 200, o);
}

/*
 * ?path=P&value=V: events whose body, logged headers or preprocess output
 * have V at P (pt_inspect_where), found by scanning like an idempotency
 * key.  0, or the status answered.
 */
static int
where_filter(struct admin *a, struct logs_walk *w)
{
	const char *path = adm_param(a, "path"), *msg = NULL;

	w->value = adm_param(a, "value");
	if (path == NULL && w->value == NULL)
		return 0;
	if (path == NULL || w->value == NULL)
		return adm_fail(a, 400, "invalid_parameter", "path and value go "
		    "together (?path=body.data.id&value=123)");
	if (pt_path_compile(path, strlen(path), &w->where, &msg) != PT_OK)
		return msg == NULL ? adm_fail(a, 500, "internal_error", "out of "
		    "memory") : adm_fail(a, 400, "invalid_parameter", "path %s: "
		    "%s", adm_shown(path), msg);
	return 0;
}

/*
 * GET logs: filters source, environment, event_type, status,
 * verification, idempotency_key, since, until; cursors before/after;
 * limit.  Newest first.  The query is given only the filters its index
 * covers, so that every record it examines reaches log_cb: the rest are
 * applied there, and the cursor to go on from is exact even when the scan
 * stops at MAX_SCAN.
 */
static int
logs(struct admin *a, const char *source)
{
	static const char *const allowed[] = { "source", "environment",
	    "event_type", "status", "verification", "idempotency_key", "path",
	    "value", "since", "until", "before", "after", "limit", NULL };
	struct pt_log_query q;
	struct logs_walk w;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN], after[PT_ID_BIN];
	const char *bad;
	enum pt_err rc;
	int status;

	if ((bad = adm_unknown_param(a, allowed)) != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want source, environment, event_type, status, "
		    "verification, idempotency_key, path, value, since, until, "
		    "before, after, limit)", adm_shown(bad));
	memset(&q, 0, sizeof(q));
	memset(&w, 0, sizeof(w));
	if (source == NULL)
		source = adm_param(a, "source");
	w.environment = adm_param(a, "environment");
	w.event_type = adm_param(a, "event_type");
	w.status = adm_param(a, "status");
	w.verification = adm_param(a, "verification");
	w.idem_key = adm_param(a, "idempotency_key");
	if (w.environment && source == NULL)
		return adm_fail(a, 400, "invalid_parameter", "environment needs "
		    "source");
	if ((status = log_window(a, &q, &w, before, after)) != 0)
		return status;
	if ((rc = check_filters(a, source, w.environment, w.status,
	    w.verification)) != PT_OK)
		return rc == PT_EINVAL ? adm_fail(a, 400, "invalid_parameter", "%s",
		    a->why) : adm_store_fail(a, rc, "reading the log");
	/* The index: pass exactly the filters it covers. */
	q.source = source;
	if (source && w.environment) {
		q.environment = w.environment;
		w.environment = NULL;
		if (w.event_type) {
			q.event_type = w.event_type;
			w.event_type = NULL;
		}
	} else if (source == NULL && w.status) {
		q.status = w.status;
		w.status = NULL;
	}
	q.limit = SIZE_MAX;
	q.max_scan = MAX_SCAN;

	if ((status = where_filter(a, &w)) != 0)
		return status;
	q.want_body = w.where != NULL;
	if ((rc = adm_txn(a, &txn)) != PT_OK) {
		status = adm_store_fail(a, rc, "reading the log");
		goto out;
	}
	if ((w.data = pt_json_new_array()) == NULL) {
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	if ((rc = pt_eventlog_query(txn, &q, log_cb, &w)) != PT_OK) {
		pt_json_put(w.data);
		status = adm_store_fail(a, rc, "reading the log");
		goto out;
	}
	if (w.failed) {
		pt_json_put(w.data);
		status = adm_fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	status = logs_answer(a, &w, q.after != NULL);
out:
	pt_path_free(w.where);
	return status;
}

int
api_logs(struct admin *a)
{
	return logs(a, NULL);
}

int
api_source_logs(struct admin *a)
{
	enum pt_err rc;

	if (adm_param(a, "source") != NULL)
		return adm_fail(a, 400, "invalid_parameter", "the source is in the "
		    "path");
	/* A source in the path that cannot exist is a missing resource. */
	if ((rc = check_filters(a, a->seg[1], NULL, NULL, NULL)) != PT_OK)
		return rc == PT_EINVAL ? adm_fail(a, 404, "not_found", "%s",
		    a->why) : adm_store_fail(a, rc, "reading the log");
	return logs(a, a->seg[1]);
}

int
api_log(struct admin *a)
{
	const struct pt_config *cfg;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	pt_json *o;
	enum pt_err rc;

	if (pt_id_parse("evt", a->seg[1], id) < 0)
		return adm_fail(a, 400, "invalid_id", "%s is not an event id",
		    adm_shown(a->seg[1]));
	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if ((rc = adm_txn(a, &txn)) != PT_OK)
		return adm_store_fail(a, rc, "reading the log");
	rc = pt_inspect_event(txn, id, PT_INSPECT_RAW, &o);
	if (rc == PT_ENOTFOUND)
		return adm_fail(a, 404, "not_found", "no event %s", a->seg[1]);
	if (rc == PT_ECORRUPT)
		return adm_fail(a, 500, "internal_error", "event %s does not "
		    "decode", a->seg[1]);
	if (rc != PT_OK)
		return adm_store_fail(a, rc, "reading the log");
	/* Whether a replay needs force (the console offers none then). */
	pt_json_set(o, "replayable", pt_json_new_bool(pt_replay_allowed(cfg,
	    o)));
	return adm_send_json(a, 200, o);
}

/*
 * POST logs/<evt>/replay, with no body or {"force": true|false}: force
 * replays an event that was not verified where verification is enforced
 * (pt_replay).
 */
int
api_replay(struct admin *a)
{
	struct pt_json_iter it = { 0 };
	uint8_t bin[PT_ID_BIN];
	char id[PT_ID_MAX];
	const char *k;
	pt_json *doc = NULL, *v;
	uint64_t clen = 0;
	int status, force = 0;

	if (pt_id_parse("evt", a->seg[1], bin) < 0)
		return adm_fail(a, 400, "invalid_id", "%s is not an event id",
		    adm_shown(a->seg[1]));
	/* An empty body, whatever its type, asks for nothing. */
	if (a->req->content_length != NULL &&
	    (pt_parse_content_length(a->req->content_length, &clen) < 0 ||
	    clen > 0)) {
		if ((status = adm_read_json(a, &doc)) != 0)
			return status;
		if (pt_json_type(doc) != PT_J_OBJECT) {
			pt_json_put(doc);
			return adm_fail(a, 400, "invalid_request", "want no body or "
			    "{\"force\": true}");
		}
		while (pt_json_iter_next(doc, &it, &k, &v)) {
			if (strcmp(k, "force") != 0 || pt_json_type(v) !=
			    PT_J_BOOL) {
				status = adm_fail(a, 400, "invalid_request", "%s: "
				    "want no body or {\"force\": true}",
				    strcmp(k, "force") == 0 ? "force must be "
				    "true or false" : "unknown field");
				pt_json_put(doc);
				return status;
			}
			force = pt_json_bool(v);
		}
		pt_json_put(doc);
	}
	/* pt_replay fills the response (and logs its refusals). */
	pt_id_text("evt", bin, id);
	pt_txn_abort(a->txn);
	a->txn = NULL;
	status = pt_replay(a->ctx, id, a->tok.name, force, a->resp);
	if (status == 200)
		pt_ctx_log(a->ctx, "replay of %s by token %s", id, a->tok.name);
	return status;
}

/*
 * POST replays: replay in bulk the events a filter selects (replays.h).
 * Body: the log's filters (source, environment, event_type, status,
 * verification, since, until, path and value), limit (1 to 1000, default
 * 100), dry_run, force.  One filter at least: a replay of everything is
 * never what was meant.  200 with the report (a failed replay is in it,
 * not the status).
 */
#define REPLAYS_API_MAX	1000

static const char *const replay_fields[] = { "source", "environment",
    "event_type", "status", "verification", "since", "until", "path",
    "value", "limit", "dry_run", "force", NULL };

int
api_replays(struct admin *a)
{
	struct pt_json_iter it = { 0 };
	struct pt_replays_req r;
	struct pt_path *where = NULL;
	const char *k, *s, *path, *msg = NULL;
	pt_json *doc = NULL, *v, *rep = NULL;
	int64_t us;
	size_t i, filters = 0;
	enum pt_err rc;
	int status;

	if ((status = adm_read_json(a, &doc)) != 0)
		return status;
	memset(&r, 0, sizeof(r));
	r.limit = 100;
	r.who = a->tok.name;
	if (pt_json_type(doc) != PT_J_OBJECT) {
		status = adm_fail(a, 400, "invalid_request", "want an object of "
		    "filters (source, environment, event_type, status, "
		    "verification, since, until, path and value) with limit, "
		    "dry_run, force");
		goto out;
	}
	while (pt_json_iter_next(doc, &it, &k, &v)) {
		for (i = 0; replay_fields[i] != NULL &&
		    strcmp(replay_fields[i], k) != 0; i++)
			;
		if (replay_fields[i] == NULL) {
			status = adm_fail(a, 400, "invalid_request", "unknown "
			    "field %s (want source, environment, event_type, "
			    "status, verification, since, until, path, value, "
			    "limit, dry_run, force)", adm_shown(k));
			goto out;
		}
		if (strcmp(k, "limit") == 0) {
			if (pt_json_type(v) != PT_J_INT || pt_json_int(v) < 1 ||
			    pt_json_int(v) > REPLAYS_API_MAX) {
				status = adm_fail(a, 400, "invalid_request",
				    "limit: from 1 to %d", REPLAYS_API_MAX);
				goto out;
			}
			r.limit = (size_t)pt_json_int(v);
		} else if (strcmp(k, "dry_run") == 0 ||
		    strcmp(k, "force") == 0) {
			if (pt_json_type(v) != PT_J_BOOL) {
				status = adm_fail(a, 400, "invalid_request", "%s "
				    "must be true or false", k);
				goto out;
			}
			*(k[0] == 'd' ? &r.dry_run : &r.force) = pt_json_bool(v);
		} else if ((s = pt_json_str(v, NULL)) == NULL) {
			status = adm_fail(a, 400, "invalid_request", "%s must be "
			    "a string", k);
			goto out;
		} else
			filters++;
	}
	if (filters == 0) {
		status = adm_fail(a, 400, "invalid_request", "name at least one "
		    "filter: a replay of every event is never what was meant");
		goto out;
	}
	r.q.source = pt_json_str(pt_json_get(doc, "source"), NULL);
	r.q.environment = pt_json_str(pt_json_get(doc, "environment"), NULL);
	r.q.event_type = pt_json_str(pt_json_get(doc, "event_type"), NULL);
	r.q.status = pt_json_str(pt_json_get(doc, "status"), NULL);
	r.q.verify_status = pt_json_str(pt_json_get(doc, "verification"), NULL);
	for (i = 0; i < 2; i++) {
		if ((s = pt_json_str(pt_json_get(doc, i ? "until" : "since"),
		    NULL)) == NULL)
			continue;
		if (parse_time(a, s, &us) < 0) {
			status = adm_fail(a, 400, "invalid_request", "%s: want "
			    "an RFC 3339 time or a duration (2h)", i ? "until" :
			    "since");
			goto out;
		}
		*(i ? &r.q.until : &r.q.since) = us;
	}
	path = pt_json_str(pt_json_get(doc, "path"), NULL);
	r.value = pt_json_str(pt_json_get(doc, "value"), NULL);
	if ((path == NULL) != (r.value == NULL)) {
		status = adm_fail(a, 400, "invalid_request", "path and value go "
		    "together");
		goto out;
	}
	if (path != NULL && pt_path_compile(path, strlen(path), &where, &msg) !=
	    PT_OK) {
		status = msg == NULL ? adm_fail(a, 500, "internal_error", "out "
		    "of memory") : adm_fail(a, 400, "invalid_request", "path "
		    "%s: %s", adm_shown(path), msg);
		goto out;
	}
	r.where = where;
	/* One call reads a bounded part of the log, like a log query. */
	r.q.max_scan = 10 * MAX_SCAN;
	if ((rc = check_filters(a, r.q.source, r.q.environment, r.q.status,
	    r.q.verify_status)) != PT_OK) {
		status = rc == PT_EINVAL ? adm_fail(a, 400, "invalid_parameter",
		    "%s", a->why) : adm_store_fail(a, rc, "reading the log");
		goto out;
	}
	/* Each replay is a write of its own: no read snapshot held. */
	pt_txn_abort(a->txn);
	a->txn = NULL;
	if ((rc = pt_replays(a->ctx, &r, &rep, a->why, sizeof(a->why))) !=
	    PT_OK) {
		status = adm_store_fail(a, rc, "replaying");
		goto out;
	}
	if (!r.dry_run)
		pt_ctx_log(a->ctx, "bulk replay by token %s: %zu replayed, %zu "
		    "failed, %zu skipped", a->tok.name,
		    pt_json_len(pt_json_get(rep, "replayed")),
		    pt_json_len(pt_json_get(rep, "failed")),
		    pt_json_len(pt_json_get(rep, "skipped")));
	status = adm_send_json(a, 200, rep);
out:
	pt_path_free(where);
	pt_json_put(doc);
	return status;
}

static int
action_cb(void *arg, const uint8_t id[PT_ID_BIN], pt_json *rec)
{
	(void)id;
	return pt_json_append(arg, pt_json_ref(rec)) == PT_OK ? 0 : 1;
}

/*
 * GET actions: the action log across events, newest first (actionlog.h):
 * filters source, environment, action, status, workflow, event_type,
 * since, until; cursor before; limit.  Reads at most MAX_SCAN records a
 * call; page_info says where to go on from.
 */
int
api_actions(struct admin *a)
{
	static const char *const allowed[] = { "source", "environment",
	    "action", "status", "workflow", "event_type", "since", "until",
	    "before", "limit", NULL };
	struct pt_action_query q;
	struct pt_action_page pg;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN];
	const char *bad, *s;
	char last[PT_ID_MAX];
	pt_json *o, *data, *pi;
	enum pt_err rc;
	long lim;
	char *end;

	if ((bad = adm_unknown_param(a, allowed)) != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want source, environment, action, status, workflow, "
		    "event_type, since, until, before, limit)", adm_shown(bad));
	memset(&q, 0, sizeof(q));
	q.source = adm_param(a, "source");
	q.environment = adm_param(a, "environment");
	q.action = adm_param(a, "action");
	q.status = adm_param(a, "status");
	q.workflow = adm_param(a, "workflow");
	q.event_type = adm_param(a, "event_type");
	if (pt_actions_check_filters(&q, a->why, sizeof(a->why)) < 0)
		return adm_fail(a, 400, "invalid_parameter", "%s", a->why);
	if ((s = adm_param(a, "since")) != NULL && parse_time(a, s, &q.since) <
	    0)
		return adm_fail(a, 400, "invalid_parameter", "since: want an RFC "
		    "3339 time or a duration (2h)");
	if ((s = adm_param(a, "until")) != NULL && parse_time(a, s, &q.until) <
	    0)
		return adm_fail(a, 400, "invalid_parameter", "until: want an RFC "
		    "3339 time or a duration (2h)");
	if ((s = adm_param(a, "before")) != NULL) {
		if (pt_id_parse("act", s, before) < 0)
			return adm_fail(a, 400, "invalid_parameter", "before: not "
			    "an action id");
		q.before = before;
	}
	q.limit = 50;
	if ((s = adm_param(a, "limit")) != NULL) {
		lim = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || lim < 1 || lim > LOGS_MAX)
			return adm_fail(a, 400, "invalid_parameter", "limit: from "
			    "1 to %d", LOGS_MAX);
		q.limit = (size_t)lim;
	}
	q.max_scan = MAX_SCAN;
	if ((rc = adm_txn(a, &txn)) != PT_OK)
		return adm_store_fail(a, rc, "reading the action log");
	if ((data = pt_json_new_array()) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	if ((rc = pt_actions_query(txn, &q, action_cb, data, &pg)) != PT_OK) {
		pt_json_put(data);
		return adm_store_fail(a, rc, "reading the action log");
	}
	if ((o = pt_json_new_object()) == NULL ||
	    (pi = pt_json_new_object()) == NULL) {
		pt_json_put(o);
		pt_json_put(data);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "page_info", pi);
	pt_json_set(o, "data", data);
	if (pg.more && pg.have_last) {
		pt_id_text("act", pg.last, last);
		pt_json_set(pi, "before", pt_json_new_cstr(last));
	} else
		pt_json_set_null(pi, "before");
	pt_json_set(pi, "limit", pt_json_new_int((int64_t)q.limit));
	pt_json_set(pi, "has_more", pt_json_new_bool(pg.more));
	pt_json_set(pi, "scanned", pt_json_new_int((int64_t)pg.scanned));
	return adm_send_json(a, 200, o);
}
