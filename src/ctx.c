/*
 * ctx.c - the request context: its log, the refusals every path answers
 * with, and the configuration it caches (see ctx.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "logline.h"
#include "script_pool.h"
#include "timeutil.h"

static void
default_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void
pt_ctx_init(struct pt_ctx *ctx, struct pt_store *store)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->store = store;
	ctx->now = pt_now_us;
	ctx->log = default_log;
}

void
pt_ctx_free(struct pt_ctx *ctx)
{
	pt_config_free(ctx->cfg);
	ctx->cfg = NULL;
	pt_script_pool_stop(ctx->scripts_own);
	ctx->scripts_own = NULL;
}

struct pt_script_pool *
pt_ctx_scripts(struct pt_ctx *ctx)
{
	char why[256];

	if (ctx->scripts != NULL || !ctx->scripts_on_demand)
		return ctx->scripts;
	if (ctx->scripts_own == NULL && pt_script_pool_start(PT_SCRIPT_AUTO,
	    1, &ctx->scripts_own, why, sizeof(why)) != PT_OK) {
		pt_ctx_log(ctx, "cannot start the script workers: %s", why);
		return NULL;
	}
	return ctx->scripts_own;
}

/*
 * One "porter[pid]: " line to the context's log, the message escaped
 * (logline.h): it quotes paths, headers and errors a client chose.
 */
void
pt_ctx_log(struct pt_ctx *ctx, const char *fmt, ...)
{
	char line[PT_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	pt_log_vline(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_arg, line);
}

/*
 * An error response plus its log line ("status code method path: text").
 */
int
pt_reject(struct pt_ctx *ctx, const struct pt_req *req, struct pt_resp *resp,
    int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pt_ctx_log(ctx, "%d %s %s %s: %s", status, code,
	    req->method ? req->method : "-",
	    req->request_uri ? req->request_uri :
	    (req->path_info ? req->path_info : "-"), msg);
	return pt_resp_error(resp, status, code, "%s", msg);
}

/* A store error, answered as the one table says (http.h pt_err_answer). */
int
pt_reject_store(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, enum pt_err rc, const char *what)
{
	const struct pt_err_answer *ea = pt_err_answer(rc);
	char msg[400];

	pt_err_text(rc, what, pt_store_errstr(), msg, sizeof(msg));
	if (ea->retry_after != NULL)
		pt_resp_header(resp, "Retry-After", ea->retry_after);
	return pt_reject(ctx, req, resp, ea->status, ea->code, "%s", msg);
}

enum pt_err
pt_ctx_config(struct pt_ctx *ctx, struct pt_txn *txn, char *err,
    size_t errlen)
{
	struct pt_config *cfg = NULL;
	enum pt_err rc;
	uint64_t gen;

	err[0] = '\0';
	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK)
		return rc;
	if (ctx->cfg != NULL && ctx->cfg->gen == gen)
		return PT_OK;
	rc = pt_config_load(txn, &cfg, err, errlen);
	if (rc != PT_OK && rc != PT_ENOTFOUND) {
		pt_config_free(cfg);
		return rc;
	}
	pt_config_free(ctx->cfg);
	ctx->cfg = cfg;
	pt_store_set_durability(ctx->store, cfg->durability);
	pt_store_set_limits(ctx->store, (uint64_t)cfg->max_store_bytes,
	    cfg->min_free_disk_bytes < 0 ? PT_DISK_RESERVE_AUTO :
	    (uint64_t)cfg->min_free_disk_bytes);
	return PT_OK;
}

enum pt_err
pt_ctx_refresh(struct pt_ctx *ctx, char *err, size_t errlen)
{
	struct pt_txn *txn = NULL;
	enum pt_err rc;
	uint64_t epoch = 0;
	int64_t now = ctx->now();
	int watched;

	err[0] = '\0';
	/*
	 * A store that says when the configuration changes (PostgreSQL) is
	 * not asked while it says nothing, for PT_CONFIG_RECHECK_US at most:
	 * a notification lost with its connection goes unseen no longer.
	 */
	watched = pt_store_meta_epoch(ctx->store, &epoch);
	if (watched && ctx->cfg != NULL && epoch == ctx->cfg_epoch &&
	    now >= ctx->cfg_read_us && now - ctx->cfg_read_us <
	    PT_CONFIG_RECHECK_US)
		return PT_OK;
	if ((rc = pt_txn_begin(ctx->store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	rc = pt_ctx_config(ctx, txn, err, errlen);
	pt_txn_abort(txn);
	if (rc == PT_OK) {
		ctx->cfg_epoch = watched ? epoch : 0;
		ctx->cfg_read_us = now;
	}
	return rc;
}
