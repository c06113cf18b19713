/*
 * admin_metrics.c - GET <mount>/metrics, the Prometheus text format.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "metrics.h"

/* ------------------------------------------------------------- metrics */

/* Is the client on the loopback interface? */
static int
loopback(const char *addr)
{
	return addr != NULL && (strncmp(addr, "127.", 4) == 0 ||
	    strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0);
}

/*
 * GET /metrics: the Prometheus text format (metrics.h).  A token (a
 * read-only one will do), unless PORTER_METRICS_AUTH=loopback and the
 * client is on the loopback interface.
 * NOTE: behind a reverse proxy on the same host every client looks like
 * loopback; keep the default there.
 */
int
adm_metrics(struct admin *a)
{
	const char *mode = getenv("PORTER_METRICS_AUTH");
	enum pt_err rc;

	if (!(mode != NULL && strcmp(mode, "loopback") == 0 &&
	    loopback(a->req->remote_addr)) && adm_authenticate(a) < 0)
		return adm_unauthorized(a);
	if (strcmp(a->method, "GET") != 0) {
		pt_resp_header(a->resp, "Allow", "GET, HEAD");
		return adm_fail(a, 405, "method_not_allowed", "use GET on /metrics");
	}
	pt_txn_abort(a->txn);
	a->txn = NULL;
	/*
	 * This process's latest refusals first (a failed flush keeps them
	 * for later: the scrape goes on).
	 */
	pt_metrics_flush(a->ctx->store, a->ctx->committer);
	pt_buf_reset(&a->resp->body);
	if ((rc = pt_metrics_render(a->ctx->store,
	    a->ctx->cfg ? a->ctx->cfg->log_retention_days : 0, &a->resp->body)) != PT_OK)
		return adm_store_fail(a, rc, "rendering the metrics");
	a->resp->status = 200;
	a->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}
