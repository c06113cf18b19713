/*
 * admin_int.h - what the admin files share (admin.h is the interface):
 * one request's state, the helpers every route uses (admin_http.c), and
 * the routes' functions, listed once in the route table of admin.c.
 *
 * Names: adm_ for the helpers, api_ for a route's function; neither is
 * for use outside the admin files.
 */
#ifndef PT_ADMIN_INT_H
#define PT_ADMIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ctx.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "store.h"
#include "tokens.h"

#define MAX_SEGS	4		/* "logs/<id>/replay" has 3 */
#define MAX_PARAMS	16

/* One admin request, freed at the end of pt_admin_handle(). */
struct admin {
	struct pt_ctx		*ctx;
	const struct pt_req	*req;
	struct pt_resp		*resp;
	const char		*method;	/* GET for HEAD */
	const char		*route;
	char			*segs_buf;	/* the API path, split */
	char			*seg[MAX_SEGS];
	size_t			 nseg;
	char			*pname[MAX_PARAMS];	/* query, decoded */
	char			*pval[MAX_PARAMS];
	size_t			 nparams;
	struct pt_token_info	 tok;
	struct pt_txn		*txn;		/* read transaction, lazily */
	char			 prefix[256];	/* mount, for endpoint paths */
	char			 why[512];	/* a refused filter's reason */
};

/* ----------------------------------------------- answers (admin_http.c) */

/* An error answer and its log line; returns the status. */
int		adm_fail(struct admin *, int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, the detail "fmt" for the log only, "client_msg" answered. */
int		adm_fail_private(struct admin *, int status, const char *code,
		    const char *client_msg, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* A store error, answered as the one table says (http.h pt_err_answer). */
int		adm_store_fail(struct admin *, enum pt_err, const char *what);
/* Serialise "j" (taken; NULL: out of memory) as the answer. */
int		adm_send_json(struct admin *, int status, pt_json *j);
/* Member "key" of "obj": the RFC 3339 time of "us", or null for 0. */
enum pt_err	adm_set_time(pt_json *obj, const char *key, int64_t us);

/* ----------------------------------------------- requests (admin_http.c) */

/* Split the query string: 0, -1 malformed, -2 out of memory. */
int		 adm_parse_query(struct admin *);
/* The first value of query parameter "name", or NULL. */
const char	*adm_param(const struct admin *, const char *name);
/* A query parameter outside "allowed" (NULL-terminated), or NULL. */
const char	*adm_unknown_param(const struct admin *,
		    const char *const *allowed);
/* "s" for an error message when it is short printable ASCII. */
const char	*adm_shown(const char *s);
/* "1", "true", "yes" */
int		 adm_truthy(const char *s);
/* The read transaction of this request (one snapshot for the call). */
enum pt_err	 adm_txn(struct admin *, struct pt_txn **);
/* The stored configuration, cached in the context; lives until the next
 * request of this context. */
enum pt_err	 adm_config(struct admin *, const struct pt_config **);
/* Read a JSON body: 0 with *doc, or the error status already answered. */
int		 adm_read_json(struct admin *, pt_json **doc);
/* Check the Bearer token into a->tok: 0, or -1 (answer 401). */
int		 adm_authenticate(struct admin *);
int		 adm_unauthorized(struct admin *);

/* ------------------------------------------------------------- routes */

/* Is "key" a configured source? (admin_sources.c) */
int	adm_have_source(const struct pt_config *, const char *key);

/* admin_sources.c */
int	api_status(struct admin *);
int	api_sources(struct admin *);
int	api_source(struct admin *);
int	api_source_status(struct admin *);
int	api_source_events(struct admin *);
int	api_event_types(struct admin *);
/* admin_logs.c */
int	api_logs(struct admin *);
int	api_source_logs(struct admin *);
int	api_log(struct admin *);
int	api_replay(struct admin *);
int	api_replays(struct admin *);
int	api_actions(struct admin *);
/* admin_data.c */
int	api_data_list(struct admin *);
int	api_data_get(struct admin *);
/* admin_rehearse.c */
int	api_rehearse(struct admin *);
int	api_mapping_actions(struct admin *);
/* admin_config.c */
int	api_config_get(struct admin *);
int	api_config_put(struct admin *);

/* GET /metrics (admin_metrics.c) */
int	adm_metrics(struct admin *);
/* A console file, "name" the path under /admin/ (admin_console.c) */
int	adm_console(struct admin *, const char *name);

#endif
