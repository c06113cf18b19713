/*
 * porterctl.c - the operator's command line (porterctl(1)).
 *
 * Each command is one function in the table at the bottom (cgit's cmd.c).
 * Commands that only read open the store read-only.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dumpable.h"
#include "size.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: porterctl [--db DIR] [--map-size SIZE] COMMAND [ARGS]\n"
"\n"
"Configuration\n"
"  apply [--dry-run] FILE       validate FILE (\"-\" = stdin) and make it the\n"
"                               configuration; prints what changed\n"
"  export [--with-secrets]      print the configuration (secrets masked)\n"
"  sources [--json] [--types]   each environment's endpoint; --types lists\n"
"                               the source types and their defaults\n"
"  sign --source S --env E [--url URL] FILE\n"
"                               print the headers a sender would send\n"
"  send --source S --env E [--url http://HOST:PORT/PREFIX] [--method M]\n"
"       [--path SUFFIX] [--header 'Name: value']... FILE\n"
"                               sign FILE and post it to the endpoint;\n"
"                               prints the answer, fails unless 2xx\n"
"  rehearse --source S --env E --body FILE [--content-type CT]\n"
"       [--header 'Name: value']...\n"
"                               run the mappings on a payload (JSON or a\n"
"                               form, as CT says or as it looks), no effects\n"
"Event log\n"
"  logs [--source S] [--env E] [--type T] [--status ST] [--verification V]\n"
"       [--since 2h|TIME] [--before EVT_ID] [--limit N] [--json]\n"
"                               events, newest first\n"
"  log EVT_ID [--json]          one event, everything, body pretty-printed\n"
"  replay EVT_ID [--force] [--json]\n"
"                               run a logged event's mappings again, as\n"
"                               configured now: a new event (replay_of);\n"
"                               as the store's owner only; --force for an\n"
"                               event not verified where it is enforced\n"
"  events --source S --env E [--json]\n"
"                               received event types: count, first, last\n"
"Data the actions made\n"
"  users [ID]  objects COLLECTION [ID]  tenants [ID]\n"
"  subscriptions COLLECTION ID  audiences [KEY]\n"
"  runs [--workflow K] [--status S] [--limit N] [--follow]\n"
"                               all with --json\n"
"Store\n"
"  status [--json]              store size, map use, record counts\n"
"  check                        verify that indexes agree with records\n"
"  load --source S --env E --count N [--days D] [--body-bytes B]\n"
"                               fill the log with synthetic events (benchmarks)\n"
"  prune                        remove expired idempotency records and\n"
"                               logs older than log_retention_days\n"
"  recover                      mark executions whose process died\n"
"                               while their handlers ran as interrupted\n"
"Admin API and console\n"
"  token create NAME [--read-only]\n"
"                               print a new admin API token (shown once)\n"
"  token revoke NAME            delete a token: its next call is refused\n"
"  token list [--json]          token names and rights (never the tokens)\n"
"\n"
"The store is --db DIR, else $PORTER_DB.  PORTER_CORE_DUMPS=1 allows core\n"
"dumps (off by default: they would hold the secrets).  See porterctl(1),\n"
"porter.conf(5).\n");
}

static const struct {
	const char	*name;
	int		(*fn)(int, char *[]);
} cmds[] = {
	{ "apply", cmd_apply },
	{ "export", cmd_export },
	{ "sources", cmd_sources },
	{ "sign", cmd_sign },
	{ "send", cmd_send },		/* issue 7: ctl_send.c */
	{ "token", cmd_token },		/* issue 6: ctl_admin.c */
	{ "replay", cmd_replay },	/* issue 6: ctl_admin.c */
	{ "logs", cmd_logs },
	{ "log", cmd_log },
	{ "events", cmd_events },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "prune", cmd_prune },
	{ "recover", cmd_recover },
	{ "rehearse", cmd_rehearse },
	{ "users", cmd_users },
	{ "objects", cmd_objects },
	{ "tenants", cmd_tenants },
	{ "subscriptions", cmd_subscriptions },
	{ "audiences", cmd_audiences },
	{ "runs", cmd_runs },
	{ "load", cmd_load },
};

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
	char why[200];
	size_t i;
	int ch;

	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	/* Stop at the command: its options are its own. */
	while ((ch = getopt_long(argc, argv, "+d:m:hV", opts, NULL)) != -1)
		switch (ch) {
		case 'd': ctl_db_dir = optarg; break;
		case 'm': ctl_map_size = parse_size("--map-size", optarg);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("porterctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	/* Before the first secret is read: no core dump may hold one. */
	if (pt_dumpable_set(why, sizeof(why)) == -1)
		ctl_die("%s", why);
	/* Empty counts as unset, as in the responder. */
	if (ctl_map_size == 0 && getenv("PORTER_MAP_SIZE") &&
	    getenv("PORTER_MAP_SIZE")[0] != '\0')
		ctl_map_size = parse_size("PORTER_MAP_SIZE",
		    getenv("PORTER_MAP_SIZE"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			optind = 1;
			return cmds[i].fn(argc, argv);
		}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "porterctl: unknown command %s\n", argv[0]);
	usage(stderr);
	return 2;
}
