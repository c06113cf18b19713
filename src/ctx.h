/*
 * ctx.h - the request context every path of the responder shares: the
 * store, the cached configuration, the clock and the log; and the two
 * ways a request is refused with a log line.
 */
#ifndef PT_CTX_H
#define PT_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "http.h"
#include "store.h"

/* Where one-line operational log messages go (stderr by default). */
typedef void (*pt_log_fn)(void *arg, const char *line);

struct pt_committer;

struct pt_ctx {
	struct pt_store		*store;		/* NULL: it did not open */
	const char		*store_error;	/* then: why (not owned) */
	struct pt_committer	*committer;	/* group commit, or NULL */
	struct pt_config	*cfg;		/* cached; reloaded on a new gen */
	uint64_t		 cfg_epoch;	/* pt_store_meta_epoch's, */
	int64_t			 cfg_read_us;	/* when "cfg" was last known
						   current (a watched store) */
	int64_t			(*now)(void);	/* µs clock */
	pt_log_fn		 log;
	void			*log_arg;
	/*
	 * Preprocess script workers (script_pool.h): the process's pool,
	 * not owned; or, with "scripts_on_demand" (CGI: one request per
	 * process, no threads), a pool of the context's own, started by
	 * the first request that needs one.  NULL: scripts answer
	 * script_unavailable.
	 */
	struct pt_script_pool	*scripts;
	int			 scripts_on_demand;
	struct pt_script_pool	*scripts_own;
};

/*
 * Set up "ctx" over an open store (not owned), or over none (NULL, with
 * the reason in ctx->store_error): then every request is answered 503
 * store_unavailable, /healthz included.
 */
void	pt_ctx_init(struct pt_ctx *, struct pt_store *);
void	pt_ctx_free(struct pt_ctx *);
/* The script pool a request may use now, or NULL (see scripts). */
struct pt_script_pool *pt_ctx_scripts(struct pt_ctx *);
/* Log one line, "porter[pid]: " and the printf-formatted message. */
void	pt_ctx_log(struct pt_ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Make sure ctx->cfg is the stored configuration: one cheap read of the
 * generation, a reload only when an apply changed it; on a store that
 * says when it changes (pt_store_meta_epoch), no read while it says
 * nothing, for PT_CONFIG_RECHECK_US at most.  A stored
 * configuration that does not load returns its error with the reason in
 * "err" (err[0] is '\0' for a storage error).
 */
#define PT_CONFIG_RECHECK_US	(5 * 1000000LL)
enum pt_err	pt_ctx_refresh(struct pt_ctx *, char *err, size_t errlen);
/* The same in read transaction "txn" (one snapshot for a whole call). */
enum pt_err	pt_ctx_config(struct pt_ctx *, struct pt_txn *txn, char *err,
		    size_t errlen);

/*
 * Answer "status" with the JSON error {"error": "code", "message": ...}
 * and log "status code method path: message"; returns "status".
 */
int	pt_reject(struct pt_ctx *, const struct pt_req *, struct pt_resp *,
	    int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/*
 * Answer store error "rc" as the one table says (http.h pt_err_answer),
 * Retry-After included; "what" names what was being done.
 */
int	pt_reject_store(struct pt_ctx *, const struct pt_req *,
	    struct pt_resp *, enum pt_err rc, const char *what);

#endif
