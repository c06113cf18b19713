/*
 * ctl.h - what porterctl's command files share (porterctl.c has main and
 * the command table; ctl_data.c the commands that show action data).
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "handler.h"
#include "json.h"
#include "store.h"

/* Print "porterctl: <message>" on stderr and exit 1. */
void		 ctl_die(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/*
 * A core context over "s" whose log lines (pt_ctx_log) stay off
 * porterctl's stderr: porterctl reports each outcome itself.
 */
void		 ctl_ctx_init(struct pt_ctx *, struct pt_store *s);
/* The store named by --db or $PORTER_DB; exits on failure. */
struct pt_store	*ctl_open_store(int read_only);
/* Exits unless we run as the store's owner ("what" names the command). */
void		 ctl_require_owner(const char *what);
/* The stored configuration (empty when none); exits on failure. */
struct pt_config *ctl_load_config(struct pt_store *);
/* Whole file ("-" = stdin), NUL-terminated; exits on failure. */
char		*ctl_read_file(const char *path, size_t *lenp);
/* Sign "body" with the first unexpired key of "env" into "out"; or exit. */
void		 ctl_sign(const struct pt_env *, const char *source,
		    const char *env_name, const char *body, size_t len,
		    const char *url, struct pt_buf *out);
/* JSON and a newline on stdout (PT_JSON_PLAIN or PT_JSON_PRETTY). */
void		 ctl_print_json(pt_json *, int flags);

/* Commands in ctl_data.c: argv[0] is the command name. */
int		 cmd_users(int argc, char *argv[]);
int		 cmd_objects(int argc, char *argv[]);
int		 cmd_tenants(int argc, char *argv[]);
int		 cmd_subscriptions(int argc, char *argv[]);
int		 cmd_audiences(int argc, char *argv[]);
int		 cmd_runs(int argc, char *argv[]);
/* ctl_load.c */
int		 cmd_load(int argc, char *argv[]);
/* issue 7: in ctl_send.c, sign a file and post it to an endpoint. */
int		 cmd_send(int argc, char *argv[]);
/* issue 6: in ctl_admin.c, admin tokens, replay, log retention. */
int		 cmd_token(int argc, char *argv[]);
int		 cmd_replay(int argc, char *argv[]);
/* `porterctl prune`: delete logs older than log_retention_days. */
void		 ctl_prune_logs(struct pt_store *);

#endif
