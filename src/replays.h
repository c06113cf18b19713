/*
 * replays.h - replay in bulk: the logged events a filter selects, each run
 * again as pt_replay runs one (replay.h), with a report of what was done.
 * `porterctl replay --where ...` and POST /admin/api/replays.
 */
#ifndef PT_REPLAYS_H
#define PT_REPLAYS_H

#include <stddef.h>

#include "ctx.h"
#include "eventlog.h"
#include "json.h"
#include "path.h"

/* Events one bulk replay runs at most. */
#define PT_REPLAYS_MAX	10000

struct pt_replays_req {
	struct pt_log_query	 q;	/* the log's filters; its limit and
					   cursors are ignored */
	const struct pt_path	*where;	/* and a value at a path, or NULL */
	const char		*value;
	size_t			 limit;	/* events replayed at most (1 to
					   PT_REPLAYS_MAX) */
	int			 dry_run;
	int			 force;	/* also those pt_replay_allowed
					   refuses */
	const char		*who;	/* "porterctl", a token's name */
};

/*
 * Select the newest "limit" events the filters match and, oldest first,
 * replay each (unless dry_run).  *out is the report: {"dry_run",
 * "matched", "more" (more events match than "limit"), "replayed":
 * [{"event_id", "replay_id", "status"}] (a dry run: "would_replay":
 * [{"event_id", "event_type", "status"}]), "failed": [{"event_id",
 * "status", "error", "message"}], "skipped": [{"event_id", "reason"}]}.
 * An event whose replay would need force is skipped, with the reason,
 * unless "force".  Returns PT_OK, or the store's error reading the log
 * (then nothing was replayed); "why" says what failed.
 */
enum pt_err	pt_replays(struct pt_ctx *, const struct pt_replays_req *,
		    pt_json **out, char *why, size_t whylen);

#endif
