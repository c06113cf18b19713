/*
 * actionlog.h - the action log as a list of its own, across events:
 * `porterctl actions` and GET /admin/api/actions.  Action ids are
 * time-ordered (ids.h), so the table itself is the index of time.  With
 * a status, workflow or action filter a query walks that value's entries
 * of the action index instead (actidx.h: status first, then workflow, then
 * action), which are in time order too, fetching each record; without one,
 * or while the index of an older store is still being built, it walks the
 * log.  Either way newest first from its cursor ("before") or its "until",
 * stopping at "since"; the other filters are applied to each record it
 * reads, at most "max_scan" of them per call, with the cursor to go on
 * from (as the event log's unindexed filters are).
 */
#ifndef PT_ACTIONLOG_H
#define PT_ACTIONLOG_H

#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "json.h"
#include "store.h"

struct pt_action_query {
	const char	*source;
	const char	*environment;
	const char	*action;	/* "workflows_trigger", ... */
	const char	*status;	/* "failed", ... */
	const char	*workflow;	/* a workflow action's key */
	const char	*event_type;
	int64_t		 since;		/* µs; 0 = no bound */
	int64_t		 until;		/* µs; 0 = no bound */
	const uint8_t	*before;	/* newest-first cursor, or NULL */
	size_t		 limit;		/* matches at most; 0 = 50 */
	size_t		 max_scan;	/* records read at most; 0 = all */
};

/* What a query did besides calling back: for the page's cursor. */
struct pt_action_page {
	size_t		 scanned;
	int		 more;		/* a match beyond "limit" exists, or
					   the scan stopped at max_scan */
	uint8_t		 last[PT_ID_BIN];	/* the last record read */
	int		 have_last;
};

/* Per matching record, newest first; nonzero stops the walk. */
typedef int (*pt_action_cb)(void *arg, const uint8_t id[PT_ID_BIN],
		    pt_json *rec);

enum pt_err	pt_actions_query(struct pt_txn *, const struct pt_action_query *,
		    pt_action_cb, void *arg, struct pt_action_page *);

/*
 * Can "action" and "status" match (either may be NULL)?  0, or -1 with
 * the valid values in "why".
 */
int		pt_actions_check_filters(const struct pt_action_query *,
		    char *why, size_t whylen);

#endif
