/*
 * ingest.h - the webhook endpoints: POST <mount>/receive/<endpoint_id>
 * (and a reverse ETL source's calls under it) bounded, authenticated,
 * parsed, identified, executed and logged (README "The ingest pipeline").
 */
#ifndef PT_INGEST_H
#define PT_INGEST_H

#include "ctx.h"
#include "http.h"

/*
 * Serve a request to endpoint "endpoint", "sub" the path under it (a
 * reverse ETL call) or NULL.  Fills "resp" and returns its status; *logged
 * says whether an event was committed for it (then it counts in
 * porter_events_total, not as a refusal).
 */
int	pt_ingest(struct pt_ctx *, const struct pt_req *, struct pt_resp *,
	    const char *endpoint, const char *sub, int *logged);

#endif
