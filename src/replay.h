/*
 * replay.h - a logged event run again through the mappings as they are
 * configured now, as a new event linked to the original.
 */
#ifndef PT_REPLAY_H
#define PT_REPLAY_H

#include "conf.h"
#include "ctx.h"
#include "http.h"
#include "json.h"

/*
 * Run logged event "evt_id" ("evt_...") again through the mappings as they
 * are configured now, as a new event linked by "replay_of" (no signature
 * check, no idempotency), recorded as "replayed_by" "who" (a token's name,
 * "porterctl").  Fills "resp" like pt_handle: 200 with the new event,
 * 404/409 with a JSON error.  An event that was not verified where
 * verification is enforced (pt_replay_allowed) is 409 not_verified unless
 * "force", which the new event records as "replay_forced".
 */
int	pt_replay(struct pt_ctx *, const char *evt_id, const char *who,
	    int force, struct pt_resp *);

/*
 * May logged event "meta" (its metadata) be replayed without force under
 * "cfg"?  Yes (1) when it was verified (enforced:verified,
 * not_enforced:verified), or not verified (not_enforced:unsigned,
 * not_enforced:failed) in an environment that still does not enforce
 * verification; a replay is judged by its original's status.  No (0)
 * for enforced:failed, an unknown status, or an environment that is gone.
 */
int	pt_replay_allowed(const struct pt_config *, const pt_json *meta);

#endif
