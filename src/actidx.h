/*
 * actidx.h - the action log's index (PT_T_ACT_IDX), so that a filter on
 * status, action or workflow walks the actions that have that value
 * instead of the whole log (actionlog.h).
 *
 * A key is one kind byte ('s' status, 'a' action name, 'w' workflow key),
 * the value, '\0' and the 16-byte action id; the value is empty.  Ids are
 * time-ordered, so the entries of one value are in time order too.  Every
 * write of an action record writes its entries in the same transaction
 * (actions.c); pt_action_delete removes record and entries together.
 *
 * A store from before the index has none: pt_actions_index_build fills it
 * in, then sets PT_T_META "action_idx" = "1".  Until then the index is
 * incomplete and queries must not use it (pt_actions_indexed).
 */
#ifndef PT_ACTIDX_H
#define PT_ACTIDX_H

#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "json.h"
#include "store.h"

enum pt_akind {
	PT_AK_STATUS,
	PT_AK_ACTION,
	PT_AK_WORKFLOW,
	PT_AK__MAX
};

/*
 * Longest value indexed.  A longer one (only a workflow key can be) has no
 * entry, and a query for it walks the log instead.
 */
#define PT_AK_VALUE_MAX	400
/* A key: kind, value, '\0', id. */
#define PT_AK_KEY_MAX	(1 + PT_AK_VALUE_MAX + 1 + PT_ID_BIN)

/* "status", "action", "workflow". */
const char	*pt_akind_name(enum pt_akind);
/* The kind a key's first byte names, or -1. */
int		 pt_akind_of(uint8_t byte);

/* The values one record is indexed under; NULL: no entry of that kind. */
struct pt_akeys {
	const char	*v[PT_AK__MAX];
};

/*
 * A workflow action's key as the log shows it: the resolved "payload"'s
 * "key", else the configured "params"' (the string or its {"value"}).
 * NULL when there is none.  Borrowed from the arguments.
 */
const char	*pt_action_workflow_key(const pt_json *payload,
		    const pt_json *params);
/* The values of record "rec" (borrowed from it). */
void		 pt_akeys_of(const pt_json *rec, struct pt_akeys *);
/*
 * The index prefix of "kind" = "value" (kind byte, value, '\0') into
 * "key" (PT_AK_KEY_MAX bytes): its length, or 0 when the value is not
 * indexed (NULL or too long).
 */
size_t		 pt_akey_prefix(enum pt_akind, const char *value,
		    uint8_t *key);
/*
 * Move action "id"'s entries from "old" to "new" (either may be NULL:
 * none): delete those "new" does not keep, put those "old" lacked.
 */
enum pt_err	 pt_action_index(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const struct pt_akeys *old, const struct pt_akeys *new);
/*
 * Delete action record "id" with its entries; PT_ENOTFOUND when absent.
 * A record that does not decode goes alone (`porterctl check` reports
 * entries left without a record).
 */
enum pt_err	 pt_action_delete(struct pt_txn *, const uint8_t id[PT_ID_BIN]);

/* Is the index complete ("action_idx" = "1")?  1 yes, 0 no. */
int		 pt_actions_indexed(struct pt_txn *);
/*
 * Index a store's existing action records, "chunk" (0: 10,000) a write
 * transaction, then mark the index complete; returns at once when it is.
 * The position is kept in the store between chunks, so processes doing it
 * at once share the work, and one stopped goes on where it was.
 * "progress" (may be NULL) gets the records done so far after each chunk.
 */
enum pt_err	 pt_actions_index_build(struct pt_store *, size_t chunk,
		    void (*progress)(void *arg, size_t done), void *arg);
/*
 * One chunk of that, in its own write: *done says whether the index is
 * complete.  The responder runs it between requests (route.c pt_idle), so
 * that no request waits for the whole build.
 */
enum pt_err	 pt_actions_index_step(struct pt_store *, int *done);

#endif
