/*
 * handler.h - the pure core: a request in, a response out.
 *
 * pt_handle() routes, bounds, authenticates, parses, identifies and logs a
 * request (README "The ingest pipeline") using only the store and the
 * request struct, so it runs the same under FastCGI, CGI and the tests.
 */
#ifndef PT_HANDLER_H
#define PT_HANDLER_H

#include <stdint.h>

#include "conf.h"
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
	int64_t			(*now)(void);	/* µs clock */
	pt_log_fn		 log;
	void			*log_arg;
};

/*
 * Set up "ctx" over an open store (not owned), or over none (NULL, with
 * the reason in ctx->store_error): then every request is answered 503
 * store_unavailable, /healthz included.
 */
void	pt_ctx_init(struct pt_ctx *, struct pt_store *);
void	pt_ctx_free(struct pt_ctx *);
/* Log one line, "porter[pid]: " and the printf-formatted message. */
void	pt_ctx_log(struct pt_ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Handle one request; fills "resp" (freed with pt_resp_free) and returns
 * its status.  Never fails: internal errors become 500/503 responses.
 */
int	pt_handle(struct pt_ctx *, const struct pt_req *, struct pt_resp *);

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

/*
 * Interrupt at most "max" (0: all) executions whose process died while their
 * workflow handlers ran: pending events whose lease has passed become
 * "interrupted", with their pending actions and runs, and release their
 * idempotency key.  *done gets the count.  Runs on every write (a few) and
 * from `porterctl recover` (all).
 */
enum pt_err	pt_recover(struct pt_txn *, int64_t now, size_t max,
		    size_t *done);

/*
 * Housekeeping between requests (relaxed durability: fsync at most once a
 * second).  Call after the response was sent.
 */
void	pt_idle(struct pt_ctx *);

#endif
