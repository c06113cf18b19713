/*
 * actionlog.c - the action log as a list (see actionlog.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actionlog.h"
#include "evrec.h"
#include "actions.h"
#include "buf.h"
#include "mapping.h"

static int
str_is(const pt_json *o, const char *key, const char *want)
{
	const char *s = pt_json_str(pt_json_get(o, key), NULL);

	return s != NULL && strcmp(s, want) == 0;
}

static int
matches(const struct pt_action_query *q, const pt_json *rec)
{
	const pt_json *key;

	if ((q->source && !str_is(rec, "source", q->source)) ||
	    (q->environment && !str_is(rec, "environment", q->environment)) ||
	    (q->action && !str_is(rec, "action", q->action)) ||
	    (q->status && !str_is(rec, "status", q->status)) ||
	    (q->event_type && !str_is(rec, "event_type", q->event_type)))
		return 0;
	if (q->workflow != NULL) {
		/* A workflow action's key: resolved, else as configured. */
		key = pt_json_get(pt_json_get(rec, "payload"), "key");
		if (key == NULL)
			key = pt_json_get(pt_json_get(rec, "params"), "key");
		if (pt_json_type(key) == PT_J_OBJECT)
			key = pt_json_get(key, "value");
		if (pt_json_str(key, NULL) == NULL ||
		    strcmp(pt_json_str(key, NULL), q->workflow) != 0)
			return 0;
	}
	return 1;
}

enum pt_err
pt_actions_query(struct pt_txn *txn, const struct pt_action_query *q,
    pt_action_cb cb, void *arg, struct pt_action_page *pg)
{
	struct pt_cursor *c = NULL;
	struct pt_val k, v;
	uint8_t start[PT_ID_BIN];
	size_t limit = q->limit ? q->limit : 50, got = 0;
	pt_json *rec;
	enum pt_err rc;
	int stop = 0, m;

	memset(pg, 0, sizeof(*pg));
	if ((rc = pt_cursor_open(txn, PT_T_ACTIONS, &c)) != PT_OK)
		return rc;
	if (q->before != NULL) {
		rc = pt_cursor_seek(c, q->before, PT_ID_BIN, PT_SEEK_LE, &k, &v);
		/* "before" is exclusive. */
		if (rc == PT_OK && k.len == PT_ID_BIN &&
		    memcmp(k.data, q->before, PT_ID_BIN) == 0)
			rc = pt_cursor_prev(c, &k, &v);
	} else if (q->until > 0) {
		pt_be64_put(start, (uint64_t)q->until);
		memset(start + 8, 0xff, PT_ID_BIN - 8);
		rc = pt_cursor_seek(c, start, PT_ID_BIN, PT_SEEK_LE, &k, &v);
	} else
		rc = pt_cursor_seek(c, NULL, 0, PT_SEEK_LE, &k, &v);
	for (; rc == PT_OK && !stop; rc = pt_cursor_prev(c, &k, &v)) {
		if (k.len != PT_ID_BIN)
			continue;
		if (q->since > 0 && pt_id_time(k.data) < q->since)
			break;
		if (q->max_scan && pg->scanned == q->max_scan) {
			pg->more = 1;
			break;
		}
		pg->scanned++;
		/* Values die with the transaction: parsed here, a copy. */
		rec = pt_evrec_parse_json(txn, &v);
		m = rec != NULL && matches(q, rec);
		if (m && got == limit) {
			/* One match too many: the next page starts with it. */
			pg->more = 1;
			pt_json_put(rec);
			break;
		}
		memcpy(pg->last, k.data, PT_ID_BIN);
		pg->have_last = 1;
		if (m) {
			got++;
			stop = cb(arg, k.data, rec);
		}
		pt_json_put(rec);
	}
	pt_cursor_close(c);
	return rc == PT_ENOTFOUND || rc == PT_OK ? PT_OK : rc;
}

int
pt_actions_check_filters(const struct pt_action_query *q, char *why,
    size_t whylen)
{
	struct pt_buf names = { 0 };
	size_t i;

	if (q->action != NULL && pt_action_lookup(q->action) < 0) {
		for (i = 0; i < PT_A__MAX; i++)
			pt_buf_printf(&names, "%s%s", i ? ", " : "",
			    pt_action_spec((enum pt_action)i)->name);
		snprintf(why, whylen, "unknown action \"%.64s\" (want %s)",
		    q->action, names.data ? names.data : "");
		pt_buf_free(&names);
		return -1;
	}
	if (q->status != NULL) {
		for (i = 0; i <= PT_ACT_FILTERED; i++)
			if (strcmp(q->status, pt_action_status_name(
			    (enum pt_action_status)i)) == 0)
				return 0;
		for (i = 0; i <= PT_ACT_FILTERED; i++)
			pt_buf_printf(&names, "%s%s", i ? ", " : "",
			    pt_action_status_name((enum pt_action_status)i));
		snprintf(why, whylen, "unknown action status \"%.64s\" (want "
		    "%s)", q->status, names.data ? names.data : "");
		pt_buf_free(&names);
		return -1;
	}
	return 0;
}
