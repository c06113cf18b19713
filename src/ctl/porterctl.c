/*
 * porterctl.c - the operator's command line (porterctl(1)): main and the
 * command table.
 *
 * The table is the one place that lists the commands (cgit's cmd.c), each
 * with its options and arguments declared once: args.c parses them and
 * makes every usage text from them, `porterctl --help-man` the command
 * lines of porterctl(1) (tests/e2e/test_ctl.py compares the two).  A
 * command is one function in the file of its group (ctl.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "ctl.h"
#include "dumpable.h"
#include "nitems.h"
#include "size.h"
#include "store.h"

#define END_OPTS	{ 0, NULL, NULL, 0, 0, 0, 0, NULL, NULL }
#define END_POS		{ NULL, 0, NULL, NULL }

/* Options several commands take, spelled the same everywhere. */
#define OPT_SOURCE(flags, help) \
	{ CTL_K_SOURCE, "source", "S", flags, 0, 0, 0, NULL, help }
#define OPT_ENV(flags, help) \
	{ CTL_K_ENV, "env", "E", flags, 0, 0, 0, NULL, help }
#define OPT_HEADER(help) \
	{ CTL_K_HEADER, "header", "'Name: value'", CTL_REPEAT, 0, 0, 0, \
	  ctl_check_header, help }
#define OPT_LIMIT(def, help) \
	{ CTL_K_LIMIT, "limit", "N", CTL_NUMBER, 1, 100000, def, NULL, help }
/* --json: NDJSON for streams of records, one document otherwise. */
#define OPT_JSON_LINES \
	{ CTL_K_JSON, "json", NULL, 0, 0, 0, 0, NULL, \
	  "print NDJSON: one JSON object a line, a record each" }
#define OPT_JSON_DOC(what) \
	{ CTL_K_JSON, "json", NULL, 0, 0, 0, 0, NULL, "print " what " as one " \
	  "JSON document" }
#define OPT_JSON_RECORD(what) \
	{ CTL_K_JSON, "json", NULL, 0, 0, 0, 0, NULL, \
	  "print NDJSON: one JSON object a line, a record each; with " what \
	  ", the record as one JSON document" }

static const struct ctl_opt apply_opts[] = {
	{ CTL_K_DRY_RUN, "dry-run", NULL, 0, 0, 0, 0, NULL,
	  "print what would change, and apply nothing" },
	{ CTL_K_ALLOW_DELETE, "allow-delete", NULL, 0, 0, 0, 0, NULL,
	  "apply even though environments or endpoints go away (senders "
	  "calling them get 404)" },
	END_OPTS
};
static const struct ctl_pos file_pos[] = {
	{ "FILE", 0, NULL, "the file (\"-\": standard input)" },
	END_POS
};
static const struct ctl_opt export_opts[] = {
	{ CTL_K_WITH_SECRETS, "with-secrets", NULL, 0, 0, 0, 0, NULL,
	  "print inline secrets as they are, not masked" },
	END_OPTS
};
static const struct ctl_opt sources_opts[] = {
	OPT_JSON_DOC("the environments (or the types)"),
	{ CTL_K_TYPES, "types", NULL, 0, 0, 0, 0, NULL,
	  "list the source types and their defaults instead" },
	END_OPTS
};
static const struct ctl_opt sign_opts[] = {
	OPT_SOURCE(CTL_REQUIRED, "the source's key"),
	OPT_ENV(CTL_REQUIRED, "its environment, whose first active key signs"),
	{ CTL_K_URL, "url", "URL", 0, 0, 0, 0, NULL,
	  "the URL the request goes to, for schemes that sign it" },
	END_OPTS
};
static const struct ctl_opt send_opts[] = {
	OPT_SOURCE(CTL_REQUIRED, "the source's key"),
	OPT_ENV(CTL_REQUIRED, "its environment, whose first active key signs"),
	{ CTL_K_URL, "url", "BASE", 0, 0, 0, 0, NULL,
	  "the server and mount, http[s]://HOST[:PORT][/PREFIX] (default "
	  "http://127.0.0.1:8080)" },
	{ CTL_K_METHOD, "method", "M", 0, 0, 0, 0, ctl_check_method,
	  "the HTTP method (default POST)" },
	{ CTL_K_PATH, "path", "SUFFIX", 0, 0, 0, 0, ctl_check_path,
	  "a path after the endpoint's (bearer-key calls: /v1/users/ID)" },
	OPT_HEADER("a header to send too (a form needs Content-Type: "
	    "application/x-www-form-urlencoded)"),
	{ CTL_K_CACERT, "cacert", "FILE", 0, 0, 0, 0, NULL,
	  "for https, trust only the PEM certificates in FILE (the server's "
	  "certificate is always verified)" },
	{ CTL_K_SAMPLE, "sample", "TYPE:NAME", 0, 0, 0, 0, NULL,
	  "send the sample event NAME of source type TYPE instead of FILE "
	  "(porterctl sources --types lists them)" },
	END_OPTS
};
static const struct ctl_pos send_pos[] = {
	{ "FILE", CTL_OPTIONAL, NULL, "the body (\"-\": standard input); "
	  "not with --sample" },
	END_POS
};
static const struct ctl_opt rehearse_opts[] = {
	OPT_SOURCE(CTL_REQUIRED, "the source's key"),
	OPT_ENV(CTL_REQUIRED, "its environment, whose mappings run"),
	{ CTL_K_BODY, "body", "FILE", CTL_REQUIRED, 0, 0, 0, NULL,
	  "the payload (\"-\": standard input)" },
	{ CTL_K_CONTENT_TYPE, "content-type", "CT", 0, 0, 0, 0, NULL,
	  "read the body as this Content-Type says (else as the body looks: "
	  "JSON when it starts with { or [, a form otherwise)" },
	OPT_HEADER("a request header the mappings and paths may read"),
	OPT_JSON_DOC("the result"),
	END_OPTS
};
static const struct ctl_opt logs_opts[] = {
	OPT_SOURCE(0, "only events of this source"),
	OPT_ENV(0, "only events of this environment"),
	{ CTL_K_TYPE, "type", "T", 0, 0, 0, 0, NULL,
	  "only events of this type" },
	{ CTL_K_STATUS, "status", "ST", 0, 0, 0, 0, NULL,
	  "only events with this status (accepted, no_mapping, ...)" },
	{ CTL_K_VERIFICATION, "verification", "V", 0, 0, 0, 0, NULL,
	  "only events with this verification status (enforced:verified, "
	  "...)" },
	{ CTL_K_SINCE, "since", "2h|TIME", 0, 0, 0, 0, ctl_check_since,
	  "only events this recent (90s, 15m, 2h, 7d) or since an RFC 3339 "
	  "time" },
	{ CTL_K_BEFORE, "before", "EVT_ID", 0, 0, 0, 0, ctl_check_evt_id,
	  "only events older than this one: the cursor for the next page" },
	{ CTL_K_WHERE, "where", "PATH=VALUE", 0, 0, 0, 0, ctl_check_where,
	  "only events with VALUE at PATH (body.data.id=123; also headers.* "
	  "and preprocess.*), found by reading each record" },
	OPT_LIMIT(0, "at most N events (default 50; the last 10 with "
	    "--follow)"),
	{ CTL_K_FOLLOW, "follow", NULL, 0, 0, 0, 0, NULL,
	  "then print each new event as it lands, oldest first, until "
	  "killed" },
	OPT_JSON_LINES,
	END_OPTS
};
static const struct ctl_opt actions_opts[] = {
	OPT_SOURCE(0, "only actions of this source"),
	OPT_ENV(0, "only actions of this environment"),
	{ CTL_K_ACTION, "action", "A", 0, 0, 0, 0, NULL,
	  "only this action (workflows_trigger, users_identify, ...)" },
	{ CTL_K_STATUS, "status", "ST", 0, 0, 0, 0, NULL,
	  "only actions with this status (success, skipped, failed, pending, "
	  "interrupted, filtered)" },
	{ CTL_K_WORKFLOW, "workflow", "K", 0, 0, 0, 0, NULL,
	  "only actions of this workflow" },
	{ CTL_K_TYPE, "type", "T", 0, 0, 0, 0, NULL,
	  "only actions of events of this type" },
	{ CTL_K_SINCE, "since", "2h|TIME", 0, 0, 0, 0, ctl_check_since,
	  "only actions this recent (90s, 15m, 2h, 7d) or since an RFC 3339 "
	  "time" },
	{ CTL_K_BEFORE, "before", "ACT_ID", 0, 0, 0, 0, ctl_check_act_id,
	  "only actions older than this one: the cursor for the next page" },
	OPT_LIMIT(50, "at most N actions"),
	{ CTL_K_FOLLOW, "follow", NULL, 0, 0, 0, 0, NULL,
	  "print each new action log as it lands, oldest first, until "
	  "killed" },
	OPT_JSON_LINES,
	END_OPTS
};
static const struct ctl_pos evt_pos[] = {
	{ "EVT_ID", CTL_LEAD, ctl_check_evt_id, "the event's id (evt_...)" },
	END_POS
};
static const struct ctl_opt log_opts[] = {
	OPT_JSON_DOC("the event"),
	END_OPTS
};
static const struct ctl_opt replay_opts[] = {
	{ CTL_K_FORCE, "force", NULL, 0, 0, 0, 0, NULL,
	  "replay an event that was not verified where verification is "
	  "enforced" },
	/* Without EVT_ID: every event these select (logs' filters). */
	OPT_SOURCE(0, "in bulk: the events of this source"),
	OPT_ENV(0, "... of this environment"),
	{ CTL_K_TYPE, "type", "T", 0, 0, 0, 0, NULL, "... of this type" },
	{ CTL_K_STATUS, "status", "ST", 0, 0, 0, 0, NULL,
	  "... with this status (failed, no_mapping, ...)" },
	{ CTL_K_SINCE, "since", "2h|TIME", 0, 0, 0, 0, ctl_check_since,
	  "... this recent" },
	{ CTL_K_WHERE, "where", "PATH=VALUE", 0, 0, 0, 0, ctl_check_where,
	  "... with VALUE at PATH" },
	OPT_LIMIT(0, "in bulk: the newest N at most (default 100)"),
	{ CTL_K_DRY_RUN, "dry-run", NULL, 0, 0, 0, 0, NULL,
	  "in bulk: print which would be replayed and which skipped, and "
	  "replay nothing" },
	OPT_JSON_DOC("the responder's answer (in bulk: the report)"),
	END_OPTS
};
static const struct ctl_pos replay_pos[] = {
	{ "EVT_ID", CTL_LEAD | CTL_OPTIONAL, ctl_check_evt_id,
	  "the event's id (evt_...); without it, the filters select" },
	END_POS
};
static const struct ctl_opt events_opts[] = {
	OPT_SOURCE(CTL_REQUIRED, "the source's key"),
	OPT_ENV(CTL_REQUIRED, "its environment"),
	OPT_JSON_DOC("the types"),
	END_OPTS
};
static const struct ctl_opt users_opts[] = {
	OPT_JSON_RECORD("ID"),
	END_OPTS
};
static const struct ctl_pos users_pos[] = {
	{ "ID", CTL_LEAD | CTL_OPTIONAL, NULL, "show this one" },
	END_POS
};
static const struct ctl_pos objects_pos[] = {
	{ "COLLECTION", CTL_LEAD, NULL, "the collection" },
	{ "ID", CTL_LEAD | CTL_OPTIONAL, NULL, "show this object" },
	END_POS
};
static const struct ctl_opt lines_opts[] = {
	OPT_JSON_LINES,
	END_OPTS
};
static const struct ctl_pos subscriptions_pos[] = {
	{ "COLLECTION", CTL_LEAD, NULL, "the object's collection" },
	{ "ID", CTL_LEAD, NULL, "the object" },
	END_POS
};
static const struct ctl_pos audiences_pos[] = {
	{ "KEY", CTL_LEAD | CTL_OPTIONAL, NULL,
	  "list this audience's members" },
	END_POS
};
static const struct ctl_opt runs_opts[] = {
	{ CTL_K_WORKFLOW, "workflow", "K", 0, 0, 0, 0, NULL,
	  "only runs of this workflow" },
	{ CTL_K_STATUS, "status", "S", 0, 0, 0, 0, NULL,
	  "only runs with this status (queued, success, failed, ...)" },
	OPT_LIMIT(0, "the last N runs (default 50; 10 with --follow)"),
	{ CTL_K_FOLLOW, "follow", NULL, 0, 0, 0, 0, NULL,
	  "then print each new run as it comes, until killed (NDJSON)" },
	OPT_JSON_LINES,
	END_OPTS
};
static const struct ctl_opt status_opts[] = {
	OPT_JSON_DOC("the figures"),
	END_OPTS
};
static const struct ctl_opt copy_opts[] = {
	{ CTL_K_FROM, "from", "DIR|URI", CTL_REQUIRED, 0, 0, 0, NULL,
	  "the store to copy: an LMDB directory or a postgresql:// URI" },
	{ CTL_K_TO, "to", "DIR|URI", CTL_REQUIRED, 0, 0, 0, NULL,
	  "an empty store to copy it into (made when missing)" },
	END_OPTS
};
static const struct ctl_opt load_opts[] = {
	OPT_SOURCE(CTL_REQUIRED, "the source's key"),
	OPT_ENV(CTL_REQUIRED, "the environment whose log to fill"),
	{ CTL_K_COUNT, "count", "N", CTL_REQUIRED | CTL_NUMBER, 1, 1000000000,
	  0, NULL, "how many events" },
	{ CTL_K_DAYS, "days", "D", CTL_NUMBER, 1, 36500, 7, NULL,
	  "spread over the last D days" },
	{ CTL_K_BODY_BYTES, "body-bytes", "B", CTL_NUMBER, 64, 65536, 400, NULL,
	  "each body this long, in bytes" },
	END_OPTS
};
static const struct ctl_pos token_pos[] = {
	{ "NAME", CTL_LEAD, ctl_check_token_name,
	  "1 to 64 letters, digits, \".\", \"_\" or \"-\"" },
	END_POS
};
static const struct ctl_opt token_create_opts[] = {
	{ CTL_K_READ_ONLY, "read-only", NULL, 0, 0, 0, 0, NULL,
	  "reads, rehearse and metrics only" },
	END_OPTS
};
static const struct ctl_opt token_list_opts[] = {
	OPT_JSON_DOC("the tokens"),
	END_OPTS
};
static const struct ctl_pos help_pos[] = {
	{ "COMMAND", CTL_OPTIONAL | CTL_MANY, NULL, "a command, such as logs "
	  "or token create" },
	END_POS
};

static int	 cmd_help(const struct ctl_args *);

#define CONFIG	"Configuration"
#define EVLOG	"Event log"
#define DATA	"Data the actions made"
#define STORE	"Store"
#define ADMIN	"Admin API"
#define HELP	"Help"

static const struct ctl_cmd cmds[] = {
	{ "apply", CONFIG, cmd_apply, apply_opts, file_pos,
	  "Validate FILE and make it the configuration, in one transaction; "
	  "prints what changed", 0 },
	{ "export", CONFIG, cmd_export, export_opts, NULL,
	  "Print the configuration as apply reads it (JSON), secrets masked",
	  0 },
	{ "sources", CONFIG, cmd_sources, sources_opts, NULL,
	  "Each environment's endpoint; --types: the source types and their "
	  "defaults", 0 },
	{ "sign", CONFIG, cmd_sign, sign_opts, file_pos,
	  "Print the headers a sender would send with FILE as the body", 0 },
	{ "send", CONFIG, cmd_send, send_opts, send_pos,
	  "Sign FILE and post it to the endpoint; prints the answer, fails "
	  "unless 2xx", 0 },
	{ "rehearse", CONFIG, cmd_rehearse, rehearse_opts, NULL,
	  "Run the mappings on a payload (JSON or a form), with no effects",
	  0 },
	{ "logs", EVLOG, cmd_logs, logs_opts, NULL,
	  "Events, newest first", 0 },
	{ "log", EVLOG, cmd_log, log_opts, evt_pos,
	  "One event, everything, body pretty-printed", 0 },
	{ "replay", EVLOG, cmd_replay, replay_opts, replay_pos,
	  "Run a logged event's mappings again, as configured now: a new "
	  "event (replay_of); as the store's owner only", 0 },
	{ "actions", EVLOG, cmd_actions, actions_opts, NULL,
	  "Action logs across events, newest first: find what failed", 0 },
	{ "events", EVLOG, cmd_events, events_opts, NULL,
	  "Received event types: count, first and last seen", 0 },
	{ "users", DATA, cmd_users, users_opts, users_pos,
	  "The users, or one", 0 },
	{ "objects", DATA, cmd_objects, users_opts, objects_pos,
	  "The objects of a collection, or one", 0 },
	{ "tenants", DATA, cmd_tenants, users_opts, users_pos,
	  "The tenants, or one", 0 },
	{ "subscriptions", DATA, cmd_subscriptions, lines_opts,
	  subscriptions_pos, "The recipients subscribed to an object", 0 },
	{ "audiences", DATA, cmd_audiences, lines_opts, audiences_pos,
	  "The audiences, or one audience's members", 0 },
	{ "runs", DATA, cmd_runs, runs_opts, NULL,
	  "The latest workflow runs, oldest first", 0 },
	{ "status", STORE, cmd_status, status_opts, NULL,
	  "Store size, record counts, compression and the forecast", 0 },
	{ "check", STORE, cmd_check, NULL, NULL,
	  "Verify that indexes agree with records", 0 },
	{ "migrate", STORE, cmd_migrate, NULL, NULL,
	  "Create the store's tables, or bring them up to this Porter "
	  "(a database's schema; the action index)", 0 },
	{ "copy", STORE, cmd_copy, copy_opts, NULL,
	  "Copy a whole store into an empty one, LMDB to PostgreSQL or back, "
	  "then compare both and check both", 0 },
	{ "load", STORE, cmd_load, load_opts, NULL,
	  "Fill the log with synthetic events (benchmarks)", 0 },
	{ "prune", STORE, cmd_prune, NULL, NULL,
	  "Remove expired idempotency records and logs older than "
	  "log_retention_days", 0 },
	{ "recover", STORE, cmd_recover, NULL, NULL,
	  "Mark executions whose process died while their handlers ran as "
	  "interrupted", 0 },
	{ "token create", ADMIN, cmd_token_create, token_create_opts,
	  token_pos, "Print a new admin API token (shown once)", 0 },
	{ "token revoke", ADMIN, cmd_token_revoke, NULL, token_pos,
	  "Delete a token: its next call is refused", 0 },
	{ "token list", ADMIN, cmd_token_list, token_list_opts, NULL,
	  "Token names and rights (never the tokens)", 0 },
	{ "help", HELP, cmd_help, NULL, help_pos,
	  "The commands, or a command's usage (as COMMAND --help does)", 0 },
};
#define NCMDS	(nitems(cmds))

/* porterctl's own options, before the command. */
static const struct ctl_opt main_opts[] = {
	{ CTL_K_DB, "db", "DIR", 0, 0, 0, 0, NULL,
	  "the store's directory (else $PORTER_DB, else " PT_LOCALSTATEDIR
	  "/lib/porter)" },
	{ CTL_K_MAP_SIZE, "map-size", "SIZE", 0, 0, 0, 0, NULL,
	  "the most the store may grow to (else $PORTER_MAP_SIZE)" },
	{ CTL_K_VERSION, "version", NULL, 0, 0, 0, 0, NULL,
	  "print the version and exit" },
	{ CTL_K_HELP_MAN, "help-man", NULL, 0, 0, 0, 0, NULL,
	  "print the command lines of porterctl(1) (mdoc), from the table" },
	END_OPTS
};
static const struct ctl_pos main_pos[] = {
	{ "COMMAND", 0, NULL, NULL },
	{ "ARGS", CTL_OPTIONAL | CTL_MANY, NULL, NULL },
	END_POS
};
static const struct ctl_cmd main_cmd = { NULL, NULL, NULL, main_opts,
    main_pos, NULL, CTL_STOP };

static void
usage(FILE *f)
{
	const char *section = NULL;
	size_t i;

	ctl_synopsis(f, &main_cmd);
	fprintf(f, "       porterctl COMMAND --help | porterctl help "
	    "[COMMAND]\n");
	for (i = 0; i < NCMDS; i++) {
		if (section == NULL || strcmp(section, cmds[i].section) != 0)
			fprintf(f, "\n%s\n", section = cmds[i].section);
		ctl_help_line(f, &cmds[i]);
	}
	fprintf(f, "\n"
"The store is --db DIR (or a postgresql:// URI), else $PORTER_DB, else " PT_LOCALSTATEDIR "/lib/porter\n"
"(which must exist); --map-size SIZE (else\n"
"$PORTER_MAP_SIZE) is the most it may grow to.  PORTER_CORE_DUMPS=1 allows\n"
"core dumps (off by default: they would hold the secrets).  See\n"
"porterctl(1), porter.conf(5).\n");
}

/* The .Ss and .It lines of porterctl(1)'s command list. */
static void
man_lines(FILE *f)
{
	const char *section = NULL;
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		if (section == NULL || strcmp(section, cmds[i].section) != 0)
			fprintf(f, ".Ss %s\n", section = cmds[i].section);
		ctl_man_line(f, &cmds[i]);
	}
}

/* Is "cmd" named "word", or (group) of the group "word" ("token")? */
static int
names(const struct ctl_cmd *cmd, const char *word, int group)
{
	size_t n = strlen(word);

	return strncmp(cmd->name, word, n) == 0 &&
	    cmd->name[n] == (group ? ' ' : '\0');
}

/*
 * The command "argv" names: its first word, or its first two for a
 * command of a group ("token create"); NULL if none.  *words is how many
 * words it took, or -1 when argv[0] names a group but not one of it.
 */
static const struct ctl_cmd *
find_cmd(int argc, char *const argv[], int *words)
{
	char name[128];
	size_t i;

	*words = 0;
	for (i = 0; i < NCMDS; i++)
		if (names(&cmds[i], argv[0], 0)) {
			*words = 1;
			return &cmds[i];
		}
	for (i = 0; i < NCMDS; i++)
		if (names(&cmds[i], argv[0], 1))
			*words = -1;
	if (*words == 0 || argc < 2)
		return NULL;
	snprintf(name, sizeof(name), "%s %s", argv[0], argv[1]);
	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0) {
			*words = 2;
			return &cmds[i];
		}
	return NULL;
}

static int
is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/*
 * The usage of what "argv" names: asked for (stdout, 0), or after a
 * "mistake" (stderr, 2) that "why" says, when the parser found it.
 */
static int
answer_usage(int argc, char *const argv[], int mistake, const char *why)
{
	const struct ctl_cmd *cmd;
	FILE *f = mistake ? stderr : stdout;
	size_t i;
	int words;

	if (argc == 0) {
		if (why != NULL)
			fprintf(f, "porterctl: %s\n", why);
		usage(f);
		return mistake ? 2 : 0;
	}
	if ((cmd = find_cmd(argc, argv, &words)) != NULL) {
		if (!mistake) {
			ctl_help(f, cmd);
			return 0;
		}
		fprintf(f, "porterctl: %s: %s\n", cmd->name, why);
		ctl_synopsis(f, cmd);
		return 2;
	}
	if (words == 0) {
		fprintf(stderr, "porterctl: unknown command %s\n", argv[0]);
		usage(stderr);
		return 2;
	}
	/* A group: "token", "token --help", "token nosuch". */
	if (argc == 1 ? !mistake : is_help(argv[1]))
		f = stdout;
	else {
		f = stderr;
		fprintf(f, "porterctl: %s: %s%s\n", argv[0], argc == 1 ?
		    "missing subcommand" : "unknown subcommand ", argc == 1 ?
		    "" : argv[1]);
	}
	fprintf(f, "usage:\n");
	for (i = 0; i < NCMDS; i++)
		if (names(&cmds[i], argv[0], 1))
			ctl_help_line(f, &cmds[i]);
	return f == stdout ? 0 : 2;
}

static int
cmd_help(const struct ctl_args *a)
{
	return answer_usage(a->npos, a->pos, 0, NULL);
}

/* "4G", "512M" -> bytes; a size it cannot read is a usage error (2). */
static uint64_t
parse_size(const char *what, const char *s)
{
	char why[200];
	uint64_t v;

	if (pt_parse_size(s, PT_MAP_SIZE_MIN, &v, why, sizeof(why)) < 0)
		ctl_usage_die("%s %s", what, why);
	return v;
}

int
main(int argc, char *argv[])
{
	const struct ctl_cmd *cmd;
	struct ctl_args g, a;
	char why[512];
	int rc, words;

	rc = ctl_parse(&main_cmd, argc - 1, argv + 1, &g, why, sizeof(why));
	if (rc != CTL_PARSED)
		return answer_usage(0, NULL, rc == CTL_BAD,
		    rc == CTL_BAD ? why : NULL);
	if (g.given[CTL_K_VERSION]) {
		printf("porterctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (g.given[CTL_K_HELP_MAN]) {
		man_lines(stdout);
		return 0;
	}
	argc -= 1 + g.used;
	argv += 1 + g.used;
	if (argc == 0)
		return answer_usage(0, NULL, 1, "no command");
	if (g.given[CTL_K_MAP_SIZE])
		ctl_map_size = parse_size("--map-size", g.str[CTL_K_MAP_SIZE]);
	ctl_db_dir = g.str[CTL_K_DB];
	if ((cmd = find_cmd(argc, argv, &words)) == NULL)
		return answer_usage(argc, argv, 1, NULL);
	rc = ctl_parse(cmd, argc - words, argv + words, &a, why, sizeof(why));
	if (rc != CTL_PARSED)
		return answer_usage(argc, argv, rc == CTL_BAD, rc == CTL_BAD ?
		    why : NULL);
	/* Before the first secret is read: no core dump may hold one. */
	if (pt_dumpable_set(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	/* Empty counts as unset, as in the responder. */
	if (ctl_map_size == 0 && getenv("PORTER_MAP_SIZE") &&
	    getenv("PORTER_MAP_SIZE")[0] != '\0')
		ctl_map_size = parse_size("PORTER_MAP_SIZE",
		    getenv("PORTER_MAP_SIZE"));
	return cmd->fn(&a);
}
