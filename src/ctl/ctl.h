/*
 * ctl.h - what porterctl's command files share: the helpers in ctl.c and
 * the commands the table in porterctl.c names, one file each group.
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "handler.h"
#include "json.h"
#include "store.h"

/* The store: --db DIR (else $PORTER_DB) and --map-size, set by main. */
extern const char	*ctl_db_dir;
extern uint64_t		 ctl_map_size;

/* Print "porterctl: <message>" on stderr and exit 1. */
void		 ctl_die(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* A usage error (porterctl(1) EXIT STATUS): the message, exit 2. */
void		 ctl_usage_die(const char *fmt, ...)
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

/* The commands, argv[0] being the command's name.  config.c: */
int		 cmd_apply(int argc, char *argv[]);
int		 cmd_export(int argc, char *argv[]);
int		 cmd_sources(int argc, char *argv[]);
/* sign.c */
int		 cmd_sign(int argc, char *argv[]);
/* rehearse.c */
int		 cmd_rehearse(int argc, char *argv[]);
/* logs.c */
int		 cmd_logs(int argc, char *argv[]);
int		 cmd_log(int argc, char *argv[]);
int		 cmd_events(int argc, char *argv[]);
/* store.c */
int		 cmd_status(int argc, char *argv[]);
int		 cmd_check(int argc, char *argv[]);
int		 cmd_prune(int argc, char *argv[]);
int		 cmd_recover(int argc, char *argv[]);
/* data.c */
int		 cmd_users(int argc, char *argv[]);
int		 cmd_objects(int argc, char *argv[]);
int		 cmd_tenants(int argc, char *argv[]);
int		 cmd_subscriptions(int argc, char *argv[]);
int		 cmd_audiences(int argc, char *argv[]);
int		 cmd_runs(int argc, char *argv[]);
/* load.c */
int		 cmd_load(int argc, char *argv[]);
/* send.c */
int		 cmd_send(int argc, char *argv[]);
/* tokens.c */
int		 cmd_token(int argc, char *argv[]);
/* replay.c */
int		 cmd_replay(int argc, char *argv[]);

#endif
