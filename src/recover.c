/*
 * recover.c - executions whose process died while their handlers ran
 * (see recover.h).
 */
#include "config.h"

#include <string.h>

#include "actions.h"
#include "alloc.h"
#include "eventlog.h"
#include "idem.h"
#include "ids.h"
#include "json.h"
#include "recover.h"

/*
 * *out gets the metadata of event "id" when it is a pending execution
 * recovery can interrupt, else NULL (put it).  A record that is gone, does
 * not decode, or lacks the status, source or environment recovery goes
 * by, is left alone for `porterctl check` to report: one bad record must
 * not fail every write that does housekeeping.  Returns a storage error
 * other than those.
 */
static enum pt_err
pending_meta(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], pt_json **out)
{
	struct pt_buf meta = { 0 };
	const char *st;
	enum pt_err rc;
	pt_json *m;

	*out = NULL;
	rc = pt_eventlog_get(txn, id, &meta, NULL);
	m = rc == PT_OK ? pt_json_parse_trusted(meta.data, meta.len) : NULL;
	pt_buf_free(&meta);
	if (rc != PT_OK)
		return rc == PT_ENOTFOUND || rc == PT_ECORRUPT ? PT_OK : rc;
	if (m == NULL)
		return PT_OK;
	st = pt_json_str(pt_json_get(m, "status"), NULL);
	if (st == NULL || strcmp(st, "pending") != 0 ||
	    pt_json_str(pt_json_get(m, "source"), NULL) == NULL ||
	    pt_json_str(pt_json_get(m, "environment"), NULL) == NULL) {
		pt_json_put(m);
		return PT_OK;
	}
	*out = m;
	return PT_OK;
}

/*
 * An execution whose process died while its handlers ran: its event, its
 * pending actions and runs become "interrupted", and its idempotency key is
 * released so that the sender's retry (it never got an answer) runs.
 * Anything but a readable pending event is skipped (pending_meta).
 */
enum pt_err
pt_recover_event(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], int64_t now)
{
	struct pt_idem_scope sc;
	struct pt_idem_rec r;
	pt_json *m, *acts, *idem, *set = NULL;
	uint8_t aid[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	if ((rc = pending_meta(txn, id, &m)) != PT_OK || m == NULL)
		return rc;
	acts = pt_json_get(m, "actions");
	for (i = 0; i < pt_json_len(acts); i++)
		if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i), NULL),
		    aid) == 0 && (rc = pt_action_interrupt(txn, aid, now)) !=
		    PT_OK && rc != PT_ENOTFOUND)
			goto out;
	idem = pt_json_get(m, "idempotency");
	/* Without its event type, the key's scope cannot be named. */
	if (idem != NULL && pt_json_str(pt_json_get(idem, "key"), NULL) &&
	    pt_json_str(pt_json_get(m, "event_type"), NULL)) {
		sc.source = pt_json_str(pt_json_get(m, "source"), NULL);
		sc.environment = pt_json_str(pt_json_get(m, "environment"), NULL);
		sc.event_type = pt_json_str(pt_json_get(m, "event_type"), NULL);
		sc.key = pt_json_str(pt_json_get(idem, "key"), &sc.key_len);
		/* Release only the reservation this event holds. */
		if ((rc = pt_idem_lookup(txn, &sc, now, INT64_MAX, &r)) !=
		    PT_OK)
			goto out;
		if ((r.state == PT_IDEM_STALE || r.state == PT_IDEM_PENDING) &&
		    memcmp(r.event_id, id, PT_ID_BIN) == 0 &&
		    (rc = pt_idem_release(txn, &sc)) != PT_OK)
			goto out;
	}
	rc = PT_ENOMEM;
	if ((set = pt_json_new_object()) == NULL ||
	    pt_json_set(set, "error", pt_json_new_object()) != PT_OK ||
	    pt_json_set(pt_json_get(set, "error"), "code",
	    pt_json_new_cstr("interrupted")) != PT_OK ||
	    pt_json_set(pt_json_get(set, "error"), "message", pt_json_new_cstr(
	    "the process died while the workflow handlers ran; the outcome is "
	    "unknown")) != PT_OK)
		goto out;
	rc = pt_eventlog_update(txn, id, "interrupted", set);
out:
	pt_json_put(set);
	pt_json_put(m);
	return rc;
}

enum pt_err
pt_recover(struct pt_txn *txn, int64_t now, size_t max, size_t *done)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k;
	uint8_t (*ids)[PT_ID_BIN];
	static const char prefix[] = "pending";
	enum pt_err rc;
	size_t n = 0, i;
	pt_json *m;

	*done = 0;
	if (max == 0 || max > 100000)
		max = 100000;
	if ((ids = pt_calloc(max, PT_ID_BIN)) == NULL)
		return PT_ENOMEM;

	/* Not "return": "ids" is ours (leaked when the cursor failed). */
	if ((rc = pt_cursor_open(txn, PT_T_EV_STATUS, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, prefix, sizeof(prefix), PT_SEEK_GE, &k,
	    NULL); rc == PT_OK && n < max;
	    rc = pt_cursor_next(cur, &k, NULL)) {
		const uint8_t *id = (const uint8_t *)k.data + sizeof(prefix);
		int64_t lease;

		if (k.len != sizeof(prefix) + PT_ID_BIN ||
		    memcmp(k.data, prefix, sizeof(prefix)) != 0)
			break;
		/*
		 * Skipped, not counted: a bad record must not take the
		 * place of a good one in every round, for ever.
		 */
		if (pending_meta(txn, id, &m) != PT_OK || m == NULL)
			continue;
		lease = pt_json_int(pt_json_get(m, "lease_until_us"));
		pt_json_put(m);
		if (lease > now)
			break;	/* oldest first: the rest are younger */
		memcpy(ids[n++], id, PT_ID_BIN);
	}
	pt_cursor_close(cur);
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = pt_recover_event(txn, ids[i], now)) != PT_OK)
			goto out;
	*done = n;
	rc = PT_OK;
out:
	pt_free(ids);
	return rc;
}
