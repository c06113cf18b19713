/*
 * replay.c - porterctl replay: run a logged event's mappings again, as
 * configured now.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "handler.h"
#include "http.h"
#include "sandbox.h"

/*
 * Replay a logged event through the mappings as they are configured now
 * (pt_replay): the new run is a new event linked by "replay_of".  It runs
 * workflow handlers, so only as the store's owner and under the
 * responder's seccomp filter; --force replays an event that was not
 * verified where verification is enforced.
 */
int
cmd_replay(const struct ctl_args *a)
{
	struct pt_json_error jerr;
	struct pt_resp resp;
	struct pt_store *s;
	struct pt_ctx ctx;
	const char *id = a->pos[0];
	pt_json *j = NULL;
	char why[512];
	int json = a->given[CTL_K_JSON] > 0, force = a->given[CTL_K_FORCE] > 0;
	int status;

	s = ctl_open_store(0);
	ctl_require_owner("replay");
	/* The handlers get the responder's seccomp filter too (sandbox.h). */
	if (pt_sandbox(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	ctl_ctx_init(&ctx, s);
	status = pt_replay(&ctx, id, "porterctl", force, &resp);
	pt_ctx_free(&ctx);
	pt_store_close(s);
	if (pt_json_parse(resp.body.data ? resp.body.data : "", resp.body.len,
	    PT_JSON_MAX_DEPTH, &j, &jerr) != PT_OK) {
		if (json)	/* not JSON: as it came */
			fwrite(resp.body.data ? resp.body.data : "", 1,
			    resp.body.len, stdout);
	} else if (json)
		ctl_json_doc(j);
	else {
		if (status == 200)
			printf("%s replayed as %s: %s\n", id, pt_json_str(
			    pt_json_get(j, "id"), NULL), pt_json_str(pt_json_get(
			    j, "status"), NULL));
		else
			fprintf(stderr, "porterctl: replay %s: %d %s: %s\n", id,
			    status, pt_json_str(pt_json_get(j, "error"), NULL),
			    pt_json_str(pt_json_get(j, "message"), NULL));
	}
	pt_json_put(j);
	pt_resp_free(&resp);
	return status == 200 ? 0 : 1;
}
