/*
 * ctl.h - what porterctl's command files share: the helpers in ctl.c and
 * the commands the table in porterctl.c names, one file each group.
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "buf.h"
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
/*
 * The store "name" (a directory or a URI), opened to read, to write (as
 * ctl_open_store: old logs go when it is full, the action index is
 * completed) or bare (written, but nothing of its own done to it: a
 * copy's destination).  Exits on failure.
 */
#define CTL_OPEN_READ	0
#define CTL_OPEN_WRITE	1
#define CTL_OPEN_BARE	2
struct pt_store	*ctl_open_at(const char *name, int how);
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
/*
 * What --json prints, one shape per command (porterctl(1) JSON OUTPUT):
 * a stream of records as NDJSON, a line each (ctl_json_line), anything
 * else as one pretty-printed document (ctl_json_doc).
 */
void		 ctl_json_line(pt_json *);
void		 ctl_json_doc(pt_json *);

/*
 * Checks of option and argument values (ctl_check_fn, args.h), named in
 * the command table: a value that fails one is a usage error.
 */
int		 ctl_check_evt_id(const char *, char *why, size_t whylen);
int		 ctl_check_act_id(const char *, char *why, size_t whylen);
int		 ctl_check_since(const char *, char *why, size_t whylen);
int		 ctl_check_where(const char *, char *why, size_t whylen);
int		 ctl_check_header(const char *, char *why, size_t whylen);
int		 ctl_check_method(const char *, char *why, size_t whylen);
int		 ctl_check_path(const char *, char *why, size_t whylen);
int		 ctl_check_token_name(const char *, char *why, size_t whylen);
/* A --since value that passed ctl_check_since, as µs since the epoch. */
int64_t		 ctl_since_us(const char *);
/*
 * A --where value that passed ctl_check_where: its path (free with
 * pt_path_free) and a pointer to the value after the '='.
 */
struct pt_path;
struct pt_path	*ctl_where(const char *, const char **value);

/* The slots of struct ctl_args: every option of every command. */
enum ctl_key {
	CTL_K_DB, CTL_K_MAP_SIZE, CTL_K_VERSION, CTL_K_HELP_MAN,
	CTL_K_JSON, CTL_K_SOURCE, CTL_K_ENV, CTL_K_URL, CTL_K_DRY_RUN,
	CTL_K_WITH_SECRETS, CTL_K_TYPES, CTL_K_METHOD, CTL_K_PATH,
	CTL_K_HEADER, CTL_K_BODY, CTL_K_CONTENT_TYPE, CTL_K_TYPE,
	CTL_K_STATUS, CTL_K_VERIFICATION, CTL_K_SINCE, CTL_K_BEFORE,
	CTL_K_LIMIT, CTL_K_FORCE, CTL_K_WORKFLOW, CTL_K_FOLLOW, CTL_K_COUNT,
	CTL_K_DAYS, CTL_K_BODY_BYTES, CTL_K_READ_ONLY, CTL_K_CACERT,
	CTL_K_ALLOW_DELETE, CTL_K_WHERE, CTL_K_SAMPLE, CTL_K_ACTION,
	CTL_K_FROM, CTL_K_TO,
	CTL_K__MAX
};
_Static_assert(CTL_K__MAX <= CTL_KEYS_MAX, "raise CTL_KEYS_MAX");

/*
 * The commands, each given its parsed command line (args.h), which the
 * table in porterctl.c declares.  config.c:
 */
int		 cmd_apply(const struct ctl_args *);
int		 cmd_export(const struct ctl_args *);
int		 cmd_sources(const struct ctl_args *);
/* sign.c */
int		 cmd_sign(const struct ctl_args *);
/* rehearse.c */
int		 cmd_rehearse(const struct ctl_args *);
/* logs.c */
int		 cmd_logs(const struct ctl_args *);
int		 cmd_log(const struct ctl_args *);
int		 cmd_events(const struct ctl_args *);
int		 cmd_actions(const struct ctl_args *);
/* store.c */
int		 cmd_status(const struct ctl_args *);
int		 cmd_check(const struct ctl_args *);
int		 cmd_prune(const struct ctl_args *);
int		 cmd_recover(const struct ctl_args *);
int		 cmd_migrate(const struct ctl_args *);
int		 cmd_copy(const struct ctl_args *);
/* data.c */
int		 cmd_users(const struct ctl_args *);
int		 cmd_objects(const struct ctl_args *);
int		 cmd_tenants(const struct ctl_args *);
int		 cmd_subscriptions(const struct ctl_args *);
int		 cmd_audiences(const struct ctl_args *);
int		 cmd_runs(const struct ctl_args *);
/* load.c */
int		 cmd_load(const struct ctl_args *);
/* send.c */
int		 cmd_send(const struct ctl_args *);
/* tokens.c */
int		 cmd_token_create(const struct ctl_args *);
int		 cmd_token_revoke(const struct ctl_args *);
int		 cmd_token_list(const struct ctl_args *);
/* replay.c */
int		 cmd_replay(const struct ctl_args *);

/*
 * --follow: the ids met within "lag" µs of the newest one, so that a
 * rescan of that window (a write committed late, with an older id)
 * prints nothing twice.  ctl_seen_add is 0 for an id met before, else
 * adds it (forgetting those older than the window); ctl_seen_cursor puts
 * the id cursor the next scan starts from in "after" and returns it, or
 * NULL to scan from the start.
 */
struct ctl_seen {
	uint8_t		(*ids)[PT_ID_BIN];
	size_t		 n, cap;
	int64_t		 newest;	/* µs in the newest id met */
};
int		 ctl_seen_add(struct ctl_seen *, const uint8_t id[PT_ID_BIN],
		    int64_t lag);
const uint8_t	*ctl_seen_cursor(const struct ctl_seen *, int64_t lag,
		    uint8_t after[PT_ID_BIN]);

/*
 * Sample events (sample.c): "TYPE:NAME" loaded for an environment whose
 * source is of "env_type" (exits with a message otherwise): its body
 * (NUL-terminated, "len" bytes), method and path (NULL: the defaults) and
 * header lines (Content-Type and the provider's own).  ctl_sample_names:
 * the names of a type's samples, an array (empty without any).
 */
struct ctl_sample {
	char		*body;
	size_t		 len;
	char		*method;
	char		*path;
	struct pt_buf	 headers;
};
void		 ctl_sample_load(const char *spec, const char *env_type,
		    struct ctl_sample *);
void		 ctl_sample_free(struct ctl_sample *);
pt_json		*ctl_sample_names(const char *type);

/*
 * Output for people: ctl_tty says stdout is a terminal (then listings
 * print a header row); ctl_print_status prints a status word padded to
 * "width", in colour on a terminal (green good, red bad, yellow the rest)
 * unless NO_COLOR is set or TERM is dumb.
 */
int		 ctl_tty(void);
void		 ctl_print_status(const char *, int width);

/*
 * Progress of long work (load, prune), on stderr when it is a terminal:
 * a count and a rate, redrawn at most four times a second; nothing when
 * stderr is not a terminal.
 */
struct ctl_progress {
	const char	*what;
	int64_t		 start, last;	/* ms, monotonic */
	int		 on;
};
void		 ctl_progress_start(struct ctl_progress *, const char *what);
void		 ctl_progress(struct ctl_progress *, uint64_t done);
void		 ctl_progress_end(struct ctl_progress *, uint64_t done);

#endif
