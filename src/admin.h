/*
 * admin.h - the operators' side of the responder: the admin HTTP API
 * (<mount>/admin/api/...), the web console's files (<mount>/admin/...) and
 * the Prometheus metrics (<mount>/metrics).  Routes and examples:
 * porter-api(7).
 *
 * The API is closed: every call needs "Authorization: Bearer <token>"
 * (tokens.h; `porterctl token create`).  A missing or wrong token gets 401
 * with no detail, a read-only token 403 on a call that changes something.
 * The console's files are static and public: they hold no data, and sign
 * in with a token kept in the browser tab's session storage.
 *
 * Environment (read per request):
 *	PORTER_CONSOLE_DIR	the console's files (default
 *				$(pkgdatadir)/console)
 *	PORTER_METRICS_AUTH	"token" (default): /metrics needs a token, as
 *				the API does; "loopback": clients on 127/8 or
 *				::1 need none, others still do
 */
#ifndef PT_ADMIN_H
#define PT_ADMIN_H

#include "ctx.h"
#include "http.h"

/*
 * Is "route" (the routed path, mount removed) one of ours: "/metrics",
 * "/admin" or anything under "/admin/"?  Ingest paths (/receive/...) never
 * are, so no admin route answers on an endpoint path and no endpoint on an
 * admin path.
 */
int	pt_admin_owns(const char *route);

/*
 * Serve "route" (pt_admin_owns said yes): fill "resp" like pt_handle does
 * and return its status.  Never fails: internal errors become 500/503.
 */
int	pt_admin_handle(struct pt_ctx *, const struct pt_req *,
	    struct pt_resp *, const char *route);

#endif
