/*
 * route.h - the pure core's entry: a request in, a response out.
 *
 * pt_handle() routes a request to /healthz, a webhook endpoint (ingest.h)
 * or the operators' side (admin.h) using only the store and the request
 * struct, so it runs the same under FastCGI, CGI and the tests.
 */
#ifndef PT_ROUTE_H
#define PT_ROUTE_H

#include "ctx.h"
#include "http.h"

/*
 * Handle one request; fills "resp" (freed with pt_resp_free) and returns
 * its status.  Never fails: internal errors become 500/503 responses.
 */
int	pt_handle(struct pt_ctx *, const struct pt_req *, struct pt_resp *);

/*
 * Housekeeping between requests (relaxed durability: fsync at most once a
 * second).  Call after the response was sent.
 */
void	pt_idle(struct pt_ctx *);

#endif
