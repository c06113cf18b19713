/*
 * actionlog.c - the action log as a list (see actionlog.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actidx.h"
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
	const char *key;

	if ((q->source && !str_is(rec, "source", q->source)) ||
	    (q->environment && !str_is(rec, "environment", q->environment)) ||
	    (q->action && !str_is(rec, "action", q->action)) ||
	    (q->status && !str_is(rec, "status", q->status)) ||
	    (q->event_type && !str_is(rec, "event_type", q->event_type)))
		return 0;
	if (q->workflow != NULL) {
		key = pt_action_workflow_key(pt_json_get(rec, "payload"),
		    pt_json_get(rec, "params"));
		if (key == NULL || strcmp(key, q->workflow) != 0)
			return 0;
	}
	return 1;
}

/*
 * The index entries to walk for "q" into "prefix" (PT_AK_KEY_MAX bytes):
 * its length, or 0 to walk the log itself.  Status first ("what
 * failed?" is the usual question), then workflow, then action.
 */
static size_t
pick_index(struct pt_txn *txn, const struct pt_action_query *q,
    uint8_t *prefix)
{
	size_t n = 0;

	/* Incomplete while a store from before it is indexed: not used. */
	if ((q->status == NULL && q->workflow == NULL && q->action == NULL) ||
	    !pt_actions_indexed(txn))
		return 0;
	if (q->status != NULL)
		n = pt_akey_prefix(PT_AK_STATUS, q->status, prefix);
	if (n == 0 && q->workflow != NULL)
		n = pt_akey_prefix(PT_AK_WORKFLOW, q->workflow, prefix);
	if (n == 0 && q->action != NULL)
		n = pt_akey_prefix(PT_AK_ACTION, q->action, prefix);
	return n;
}

/*
 * Newest first: the log itself, or the entries of one indexed value (keys
 * "prefix" + id), fetching each record.  Either way "scanned" counts the
 * records read and "last" is the last one's id, so a page's cursor is the
 * same whichever is walked.
 */
enum pt_err
pt_actions_query(struct pt_txn *txn, const struct pt_action_query *q,
    pt_action_cb cb, void *arg, struct pt_action_page *pg)
{
	struct pt_cursor *c = NULL;
	struct pt_val k, v;
	uint8_t seek[PT_AK_KEY_MAX];
	const uint8_t *id;
	size_t limit = q->limit ? q->limit : 50, got = 0, plen;
	enum pt_table table;
	pt_json *rec;
	enum pt_err rc;
	int stop = 0, m;

	memset(pg, 0, sizeof(*pg));
	plen = pick_index(txn, q, seek);
	table = plen ? PT_T_ACT_IDX : PT_T_ACTIONS;
	if ((rc = pt_cursor_open(txn, table, &c)) != PT_OK)
		return rc;
	if (q->before != NULL)
		memcpy(seek + plen, q->before, PT_ID_BIN);
	else if (q->until > 0) {
		pt_be64_put(seek + plen, (uint64_t)q->until);
		memset(seek + plen + 8, 0xff, PT_ID_BIN - 8);
	} else
		memset(seek + plen, 0xff, PT_ID_BIN);
	rc = pt_cursor_seek(c, seek, plen + PT_ID_BIN, PT_SEEK_LE, &k, &v);
	/* "before" is exclusive. */
	if (rc == PT_OK && q->before != NULL && k.len == plen + PT_ID_BIN &&
	    memcmp(k.data, seek, plen + PT_ID_BIN) == 0)
		rc = pt_cursor_prev(c, &k, &v);
	for (; rc == PT_OK && !stop; rc = pt_cursor_prev(c, &k, &v)) {
		if (k.len != plen + PT_ID_BIN) {
			if (plen == 0)
				continue;
			break;
		}
		if (plen && memcmp(k.data, seek, plen) != 0)
			break;		/* past this value's entries */
		id = (const uint8_t *)k.data + plen;
		if (q->since > 0 && pt_id_time(id) < q->since)
			break;
		if (q->max_scan && pg->scanned == q->max_scan) {
			pg->more = 1;
			break;
		}
		pg->scanned++;
		if (plen) {
			rc = pt_get(txn, PT_T_ACTIONS, id, PT_ID_BIN, &v);
			if (rc != PT_OK && rc != PT_ENOTFOUND)
				break;
			/* Not found: an entry without its record (check). */
			if (rc == PT_ENOTFOUND)
				v.len = 0;
			rc = PT_OK;
		}
		/* Values die with the transaction: parsed here, a copy. */
		rec = v.len ? pt_evrec_parse_json(txn, &v) : NULL;
		m = rec != NULL && matches(q, rec);
		if (m && got == limit) {
			/* One match too many: the next page starts with it. */
			pg->more = 1;
			pt_json_put(rec);
			break;
		}
		memcpy(pg->last, id, PT_ID_BIN);
		pg->have_last = 1;
		if (m) {
			got++;
			stop = cb(arg, id, rec);
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
