/*
 * actidx.c - the action log's index (see actidx.h).
 */
#include "config.h"

#include <string.h>

#include "actidx.h"
#include "evrec.h"

#define BUILD_CHUNK	10000	/* records indexed per write transaction */

static const struct {
	char		 byte;
	const char	*name;
} kinds[PT_AK__MAX] = {
	[PT_AK_STATUS] = { 's', "status" },
	[PT_AK_ACTION] = { 'a', "action" },
	[PT_AK_WORKFLOW] = { 'w', "workflow" },
};

static const char done_key[] = "action_idx";	/* "1": complete */
static const char at_key[] = "action_idx_at";	/* last id indexed */

const char *
pt_action_workflow_key(const pt_json *payload, const pt_json *params)
{
	const pt_json *key;

	key = pt_json_get(payload, "key");
	if (key == NULL)
		key = pt_json_get(params, "key");
	if (pt_json_type(key) == PT_J_OBJECT)
		key = pt_json_get(key, "value");
	return pt_json_str(key, NULL);
}

void
pt_akeys_of(const pt_json *rec, struct pt_akeys *ks)
{
	ks->v[PT_AK_STATUS] = pt_json_str(pt_json_get(rec, "status"), NULL);
	ks->v[PT_AK_ACTION] = pt_json_str(pt_json_get(rec, "action"), NULL);
	ks->v[PT_AK_WORKFLOW] = pt_action_workflow_key(pt_json_get(rec,
	    "payload"), pt_json_get(rec, "params"));
}

const char *
pt_akind_name(enum pt_akind kind)
{
	return (unsigned)kind < PT_AK__MAX ? kinds[kind].name : "?";
}

int
pt_akind_of(uint8_t byte)
{
	int k;

	for (k = 0; k < PT_AK__MAX; k++)
		if ((uint8_t)kinds[k].byte == byte)
			return k;
	return -1;
}

size_t
pt_akey_prefix(enum pt_akind kind, const char *value, uint8_t *key)
{
	size_t n;

	if (value == NULL || (n = strlen(value)) > PT_AK_VALUE_MAX)
		return 0;
	key[0] = (uint8_t)kinds[kind].byte;
	memcpy(key + 1, value, n + 1);
	return n + 2;
}

enum pt_err
pt_action_index(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const struct pt_akeys *old, const struct pt_akeys *new)
{
	uint8_t key[PT_AK_KEY_MAX];
	const char *o, *n;
	enum pt_err rc;
	size_t len;
	int k;

	for (k = 0; k < PT_AK__MAX; k++) {
		o = old ? old->v[k] : NULL;
		n = new ? new->v[k] : NULL;
		if (o != NULL && n != NULL && strcmp(o, n) == 0)
			continue;
		if ((len = pt_akey_prefix(k, o, key)) > 0) {
			memcpy(key + len, id, PT_ID_BIN);
			/* Absent: written before the index was built. */
			rc = pt_del(txn, PT_T_ACT_IDX, key, len + PT_ID_BIN);
			if (rc != PT_OK && rc != PT_ENOTFOUND)
				return rc;
		}
		if ((len = pt_akey_prefix(k, n, key)) > 0) {
			memcpy(key + len, id, PT_ID_BIN);
			if ((rc = pt_put(txn, PT_T_ACT_IDX, key, len + PT_ID_BIN,
			    "", 0, 0)) != PT_OK)
				return rc;
		}
	}
	return PT_OK;
}

enum pt_err
pt_action_delete(struct pt_txn *txn, const uint8_t id[PT_ID_BIN])
{
	struct pt_akeys ks;
	struct pt_val v;
	pt_json *rec;
	enum pt_err rc;

	if ((rc = pt_get(txn, PT_T_ACTIONS, id, PT_ID_BIN, &v)) != PT_OK)
		return rc;
	if ((rec = pt_evrec_parse_json(txn, &v)) != NULL) {
		pt_akeys_of(rec, &ks);
		rc = pt_action_index(txn, id, &ks, NULL);
		pt_json_put(rec);
		if (rc != PT_OK)
			return rc;
	}
	return pt_del(txn, PT_T_ACTIONS, id, PT_ID_BIN);
}

int
pt_actions_indexed(struct pt_txn *txn)
{
	struct pt_val v;

	return pt_get(txn, PT_T_META, done_key, sizeof(done_key) - 1, &v) ==
	    PT_OK && v.len == 1 && *(const char *)v.data == '1';
}

/*
 * One chunk of the build in write transaction "txn": index at most "max"
 * records after the kept position, keep the new one or, at the end, mark
 * the index complete (*done).  *n gets the records indexed.
 */
static enum pt_err
build_chunk(struct pt_txn *txn, size_t max, size_t *n, int *done)
{
	struct pt_cursor *cur = NULL;
	struct pt_akeys ks;
	struct pt_val k, v;
	uint8_t at[PT_ID_BIN];
	pt_json *rec;
	enum pt_err rc;
	int have_at = 0;

	*n = 0;
	*done = pt_actions_indexed(txn);
	if (*done)
		return PT_OK;
	rc = pt_get(txn, PT_T_META, at_key, sizeof(at_key) - 1, &v);
	if (rc == PT_OK && v.len == PT_ID_BIN) {
		memcpy(at, v.data, PT_ID_BIN);
		have_at = 1;
	} else if (rc != PT_OK && rc != PT_ENOTFOUND)
		return rc;
	if ((rc = pt_cursor_open(txn, PT_T_ACTIONS, &cur)) != PT_OK)
		return rc;
	rc = pt_cursor_seek(cur, have_at ? at : NULL, have_at ? PT_ID_BIN : 0,
	    PT_SEEK_GE, &k, &v);
	if (rc == PT_OK && have_at && k.len == PT_ID_BIN &&
	    memcmp(k.data, at, PT_ID_BIN) == 0)
		rc = pt_cursor_next(cur, &k, &v);
	/* Writes to the index leave this cursor on the records valid. */
	for (; rc == PT_OK && *n < max; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len != PT_ID_BIN)
			continue;
		memcpy(at, k.data, PT_ID_BIN);
		have_at = 1;
		(*n)++;
		/* One that does not decode has no entries: check says so. */
		if ((rec = pt_evrec_parse_json(txn, &v)) == NULL)
			continue;
		pt_akeys_of(rec, &ks);
		rc = pt_action_index(txn, at, NULL, &ks);
		pt_json_put(rec);
		if (rc != PT_OK)
			goto out;
	}
	if (rc == PT_OK) {
		rc = have_at ? pt_put(txn, PT_T_META, at_key, sizeof(at_key) - 1,
		    at, PT_ID_BIN, 0) : PT_OK;
		goto out;
	}
	if (rc != PT_ENOTFOUND)
		goto out;
	/* Ran off the end: complete. */
	rc = pt_del(txn, PT_T_META, at_key, sizeof(at_key) - 1);
	if (rc == PT_OK || rc == PT_ENOTFOUND)
		rc = pt_put(txn, PT_T_META, done_key, sizeof(done_key) - 1, "1",
		    1, 0);
	*done = rc == PT_OK;
out:
	pt_cursor_close(cur);
	return rc;
}

enum pt_err
pt_actions_index_build(struct pt_store *s, size_t chunk,
    void (*progress)(void *, size_t), void *arg)
{
	struct pt_txn *txn = NULL;
	enum pt_err rc;
	size_t n, total = 0;
	int done;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	done = pt_actions_indexed(txn);
	pt_txn_abort(txn);
	while (!done) {
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
			return rc;
		if ((rc = build_chunk(txn, chunk ? chunk : BUILD_CHUNK, &n,
		    &done)) != PT_OK) {
			pt_txn_abort(txn);
			return rc;
		}
		if ((rc = pt_txn_commit(txn)) != PT_OK)
			return rc;
		total += n;
		if (progress != NULL)
			progress(arg, total);
	}
	return PT_OK;
}

enum pt_err
pt_actions_index_step(struct pt_store *s, int *done)
{
	struct pt_txn *txn = NULL;
	enum pt_err rc;
	size_t n;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	*done = pt_actions_indexed(txn);
	pt_txn_abort(txn);
	if (*done)
		return PT_OK;
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		return rc;
	if ((rc = build_chunk(txn, BUILD_CHUNK, &n, done)) != PT_OK) {
		pt_txn_abort(txn);
		return rc;
	}
	return pt_txn_commit(txn);
}
