/*
 * ctl.h - what porterctl's command files share (porterctl.c has main and
 * the command table; ctl_data.c the commands that show action data).
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "json.h"
#include "store.h"

/* Print "porterctl: <message>" on stderr and exit 1. */
void		 ctl_die(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* The store named by --db or $PORTER_DB; exits on failure. */
struct pt_store	*ctl_open_store(int read_only);
/* The stored configuration (empty when none); exits on failure. */
struct pt_config *ctl_load_config(struct pt_store *);
/* Whole file ("-" = stdin), NUL-terminated; exits on failure. */
char		*ctl_read_file(const char *path, size_t *lenp);
/* JSON and a newline on stdout (PT_JSON_PLAIN or PT_JSON_PRETTY). */
void		 ctl_print_json(pt_json *, int flags);

/* Commands in ctl_data.c: argv[0] is the command name. */
int		 cmd_users(int argc, char *argv[]);
int		 cmd_objects(int argc, char *argv[]);
int		 cmd_tenants(int argc, char *argv[]);
int		 cmd_subscriptions(int argc, char *argv[]);
int		 cmd_audiences(int argc, char *argv[]);
int		 cmd_runs(int argc, char *argv[]);

#endif
