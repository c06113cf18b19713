/*
 * test-ctl-args.c - porterctl's one command-line parser (src/ctl/args.c):
 * options in every spelling and place, values checked by the
 * declaration (numbers in range, a check function, repeats), positional
 * arguments, --help, every usage error with its message, stopping at the
 * command for main's options, and the usage texts made from the same
 * declaration (synopsis, help, the man page's line).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/args.h"
#include "tap.h"


enum { K_SOURCE, K_STATUS, K_SINCE, K_LIMIT, K_JSON, K_HEADER, K_DB };

static int
check_colon(const char *v, char *why, size_t whylen)
{
	if (strchr(v, ':') == NULL) {
		snprintf(why, whylen, "want 'Name: value'");
		return -1;
	}
	return 0;
}

static const struct ctl_opt opts[] = {
	{ K_SOURCE, "source", "S", CTL_REQUIRED, 0, 0, 0, NULL, "the source" },
	{ K_STATUS, "status", "ST", 0, 0, 0, 0, NULL, "a status" },
	{ K_SINCE, "since", "WHEN", 0, 0, 0, 0, NULL, "how recent" },
	{ K_LIMIT, "limit", "N", CTL_NUMBER, 1, 100, 10, NULL, "at most N" },
	{ K_JSON, "json", NULL, 0, 0, 0, 0, NULL, "print JSON" },
	{ K_HEADER, "header", "'Name: value'", CTL_REPEAT, 0, 0, 0,
	  check_colon, "a header" },
	{ 0, NULL, NULL, 0, 0, 0, 0, NULL, NULL }
};
static const struct ctl_pos pos[] = {
	{ "FILE", 0, NULL, "the file" },
	{ "MORE", CTL_OPTIONAL, NULL, "another" },
	{ NULL, 0, NULL, NULL }
};
static const struct ctl_cmd cmd = { "try it", "Tests", NULL, opts, pos,
    "Try the parser", 0 };

static const struct ctl_pos lead_pos[] = {
	{ "ID", CTL_LEAD | CTL_OPTIONAL, NULL, NULL },
	{ NULL, 0, NULL, NULL }
};
static const struct ctl_cmd lead = { "users", "Tests", NULL, opts + 4,
    lead_pos, "Users", 0 };
static const struct ctl_pos many_pos[] = {
	{ "COMMAND", CTL_OPTIONAL | CTL_MANY, NULL, NULL },
	{ NULL, 0, NULL, NULL }
};
static const struct ctl_cmd many = { "help", "Tests", NULL, NULL, many_pos,
    "Help", 0 };
static const struct ctl_opt main_opts[] = {
	{ K_DB, "db", "DIR", 0, 0, 0, 0, NULL, "the store" },
	{ 0, NULL, NULL, 0, 0, 0, 0, NULL, NULL }
};
static const struct ctl_cmd top = { NULL, NULL, NULL, main_opts, NULL, NULL,
    CTL_STOP };

static const struct {
	const char		*desc;
	const struct ctl_cmd	*cmd;
	const char		*argv;	/* split at '|' */
	int			 rc;
	const char		*why;	/* CTL_BAD: the message */
	const char		*source, *status;
	long long		 limit;
	unsigned		 json;
	int			 npos;
	const char		*pos0, *pos1;
	const char		*headers;	/* joined with '|' */
} cases[] = {
	{ "the least", &cmd, "--source|s|f", CTL_PARSED, NULL, "s", NULL, 10,
	  0, 1, "f", NULL, "" },
	{ "--name=value and a positional first", &cmd, "f|--source=s",
	  CTL_PARSED, NULL, "s", NULL, 10, 0, 1, "f", NULL, "" },
	{ "every kind, in any order", &cmd,
	  "--json|f|--status|ok|--source|s|g|--limit|5|--json", CTL_PARSED,
	  NULL, "s", "ok", 5, 2, 2, "f", "g", "" },
	{ "a unique prefix", &cmd, "--sou|s|--lim=7|--j|f", CTL_PARSED, NULL,
	  "s", NULL, 7, 1, 1, "f", NULL, "" },
	{ "an exact name beats a longer one it begins", &cmd,
	  "--source|s|--status|x|f", CTL_PARSED, NULL, "s", "x", 10, 0, 1, "f",
	  NULL, "" },
	{ "the last value wins, as with getopt", &cmd,
	  "--source|a|--source|b|f", CTL_PARSED, NULL, "b", NULL, 10, 0, 1, "f",
	  NULL, "" },
	{ "a value may start with -", &cmd, "--source|-x|f", CTL_PARSED, NULL,
	  "-x", NULL, 10, 0, 1, "f", NULL, "" },
	{ "\"-\" is an argument", &cmd, "--source|s|-", CTL_PARSED, NULL, "s",
	  NULL, 10, 0, 1, "-", NULL, "" },
	{ "\"--\" ends the options", &cmd, "--source|s|--|--json", CTL_PARSED,
	  NULL, "s", NULL, 10, 0, 1, "--json", NULL, "" },
	{ "repeats, in order", &cmd,
	  "--header|A: 1|--source|s|--header=B: 2|f", CTL_PARSED, NULL, "s",
	  NULL, 10, 0, 1, "f", NULL, "A: 1|B: 2" },
	{ "range: the least", &cmd, "--limit|1|--source|s|f", CTL_PARSED, NULL,
	  "s", NULL, 1, 0, 1, "f", NULL, "" },
	{ "range: the most", &cmd, "--limit|100|--source|s|f", CTL_PARSED,
	  NULL, "s", NULL, 100, 0, 1, "f", NULL, "" },
	{ "--help", &cmd, "--help", CTL_HELP, NULL, NULL, NULL, 10, 0, 0,
	  NULL, NULL, "" },
	{ "-h, after a mistake would be found", &cmd, "-h|--bogus", CTL_HELP,
	  NULL, NULL, NULL, 10, 0, 0, NULL, NULL, "" },
	{ "--help's prefix", &cmd, "--hel", CTL_HELP, NULL, NULL, NULL, 10, 0,
	  0, NULL, NULL, "" },
	{ "a lead positional", &lead, "u1|--json", CTL_PARSED, NULL, NULL,
	  NULL, 0, 1, 1, "u1", NULL, "" },
	{ "an optional positional left out", &lead, "", CTL_PARSED, NULL, NULL,
	  NULL, 0, 0, 0, NULL, NULL, "" },
	{ "the rest of the arguments", &many, "token|create", CTL_PARSED,
	  NULL, NULL, NULL, 0, 0, 2, "token", "create", "" },

	{ "unknown option", &cmd, "--source|s|--bogus|f", CTL_BAD,
	  "unknown option --bogus", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "unknown short option", &cmd, "-s|s|f", CTL_BAD,
	  "unknown option -s", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "ambiguous prefix", &cmd, "--s|x|f", CTL_BAD,
	  "ambiguous option --s (--source, --status, --since)", NULL, NULL, 0,
	  0, 0, NULL, NULL, NULL },
	{ "--help is one of the options a prefix may mean", &cmd, "--h|f",
	  CTL_BAD, "ambiguous option --h (--header, --help)", NULL, NULL, 0,
	  0, 0, NULL, NULL, NULL },
	{ "no value", &cmd, "f|--source", CTL_BAD,
	  "--source needs a value (S)", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "a value for a flag", &cmd, "--json=1|--source|s|f", CTL_BAD,
	  "--json takes no value", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "range: below", &cmd, "--limit|0|--source|s|f", CTL_BAD,
	  "--limit 0: want a whole number from 1 to 100", NULL, NULL, 0, 0, 0,
	  NULL, NULL, NULL },
	{ "range: above", &cmd, "--limit|101|--source|s|f", CTL_BAD,
	  "--limit 101: want a whole number from 1 to 100", NULL, NULL, 0, 0,
	  0, NULL, NULL, NULL },
	{ "a number with junk", &cmd, "--limit|5x|--source|s|f", CTL_BAD,
	  "--limit 5x: want", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "an empty number", &cmd, "--limit=|--source|s|f", CTL_BAD,
	  "--limit : want", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "a number past 64 bits", &cmd,
	  "--limit|99999999999999999999|--source|s|f", CTL_BAD,
	  "--limit 99999999999999999999: want", NULL, NULL, 0, 0, 0, NULL,
	  NULL, NULL },
	{ "a value its check refuses", &cmd, "--header|nocolon|--source|s|f",
	  CTL_BAD, "--header nocolon: want 'Name: value'", NULL, NULL, 0, 0, 0,
	  NULL, NULL, NULL },
	{ "control characters are not echoed", &cmd,
	  "--header|a\r\nb|--source|s|f", CTL_BAD,
	  "--header a??b: want 'Name: value'", NULL, NULL, 0, 0, 0, NULL, NULL,
	  NULL },
	{ "a required option left out", &cmd, "f", CTL_BAD,
	  "missing --source S", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "a required argument left out", &cmd, "--source|s", CTL_BAD,
	  "missing FILE", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "one argument too many", &cmd, "--source|s|f|g|h", CTL_BAD,
	  "unexpected argument h", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
	{ "main's option without its value", &top, "--db", CTL_BAD,
	  "--db needs a value (DIR)", NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* "a|b|c" into argv (in "buf"); returns argc. */
static int
split(const char *s, char *buf, size_t len, char *argv[], int max)
{
	int n = 0;
	char *p;

	snprintf(buf, len, "%s", s);
	if (*buf == '\0')
		return 0;
	for (p = buf; n < max; p++) {
		argv[n++] = p;
		if ((p = strchr(p, '|')) == NULL)
			break;
		*p = '\0';
	}
	return n;
}

static void
t_cases(void)
{
	struct ctl_args a;
	char buf[512], why[256], joined[256], *argv[16], *v;
	size_t i, at, n;
	int argc, rc;

	for (i = 0; i < nitems(cases); i++) {
		argc = split(cases[i].argv, buf, sizeof(buf), argv, 16);
		why[0] = '\0';
		rc = ctl_parse(cases[i].cmd, argc, argv, &a, why, sizeof(why));
		is_int(rc, cases[i].rc, "%s: result", cases[i].desc);
		if (cases[i].rc == CTL_BAD) {
			n = strlen(cases[i].why);
			if (!ok(strncmp(why, cases[i].why, n) == 0, "%s: \"%s\"",
			    cases[i].desc, cases[i].why))
				diag("got \"%s\"", why);
			continue;
		}
		if (cases[i].rc != CTL_PARSED)
			continue;
		is_str(a.str[K_SOURCE], cases[i].source, "%s: --source",
		    cases[i].desc);
		is_str(a.str[K_STATUS], cases[i].status, "%s: --status",
		    cases[i].desc);
		is_int(a.num[K_LIMIT], cases[i].limit, "%s: --limit",
		    cases[i].desc);
		is_int(a.given[K_JSON], cases[i].json, "%s: --json given",
		    cases[i].desc);
		is_int(a.npos, cases[i].npos, "%s: arguments", cases[i].desc);
		is_str(a.npos > 0 ? a.pos[0] : NULL, cases[i].pos0,
		    "%s: first argument", cases[i].desc);
		is_str(a.npos > 1 ? a.pos[1] : NULL, cases[i].pos1,
		    "%s: second argument", cases[i].desc);
		joined[0] = '\0';
		for (at = 0, n = 0; (v = ctl_each(&a, K_HEADER, &at)) != NULL;)
			n += (size_t)snprintf(joined + n, sizeof(joined) - n,
			    "%s%s", n ? "|" : "", v);
		is_str(joined, cases[i].headers, "%s: --header values",
		    cases[i].desc);
	}
}

static void
t_repeat_cap(void)
{
	struct ctl_args a;
	char *argv[2 * CTL_REPEAT_MAX + 8], why[256];
	int argc = 0, i;

	argv[argc++] = "--source";
	argv[argc++] = "s";
	argv[argc++] = "f";
	for (i = 0; i < CTL_REPEAT_MAX; i++) {
		argv[argc++] = "--header";
		argv[argc++] = "A: 1";
	}
	is_int(ctl_parse(&cmd, argc, argv, &a, why, sizeof(why)), CTL_PARSED,
	    "%d --header: parsed", CTL_REPEAT_MAX);
	is_int(a.nrep, CTL_REPEAT_MAX, "... all kept");
	argv[argc++] = "--header";
	argv[argc++] = "A: 1";
	is_int(ctl_parse(&cmd, argc, argv, &a, why, sizeof(why)), CTL_BAD,
	    "one more: a usage error");
	is_str(why, "at most 64 --header", "... saying the most");
}

static void
t_stop(void)
{
	struct ctl_args a;
	char buf[128], why[256], *argv[8];
	int argc;

	argc = split("--db|/tmp/x|status|--json", buf, sizeof(buf), argv, 8);
	is_int(ctl_parse(&top, argc, argv, &a, why, sizeof(why)), CTL_PARSED,
	    "main's options: parsed up to the command");
	is_int(a.used, 2, "... the command is argument 2");
	is_str(a.str[K_DB], "/tmp/x", "... --db");
	argc = split("--db=/tmp/x|--json", buf, sizeof(buf), argv, 8);
	is_int(ctl_parse(&top, argc, argv, &a, why, sizeof(why)), CTL_BAD,
	    "main's options: a command's option before the command is unknown");
}

/* What "fn" prints for "c", in "out". */
static void
print(void (*fn)(FILE *, const struct ctl_cmd *), const struct ctl_cmd *c,
    char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");

	if (f == NULL) {
		out[0] = '\0';
		return;
	}
	fn(f, c);
	fclose(f);
}

static void
t_texts(void)
{
	char out[4096];

	print(ctl_synopsis, &cmd, out, sizeof(out));
	is_str(out, "usage: porterctl try it --source S [--status ST] "
	    "[--since WHEN] [--limit N]\n                        [--json] "
	    "[--header 'Name: value']... FILE [MORE]\n",
	    "synopsis: required bare, optional in brackets, repeats with ..., "
	    "wrapped under the first option");
	print(ctl_synopsis, &lead, out, sizeof(out));
	is_str(out, "usage: porterctl users [ID] [--json] [--header 'Name: "
	    "value']...\n", "synopsis: a lead argument before the options");
	print(ctl_man_line, &cmd, out, sizeof(out));
	is_str(out, ".It Cm try it Fl -source Ar s Oo Fl -status Ar st Oc "
	    "Oo Fl -since Ar when Oc Oo Fl -limit Ar n Oc Oo Fl -json Oc "
	    "Oo Fl -header Ar 'Name: value' Oc ... Ar file Op Ar more\n",
	    "man line: lower-case arguments but a quoted example; Oo/Oc, and "
	    "Op last");
	print(ctl_man_line, &many, out, sizeof(out));
	is_str(out, ".It Cm help Op Ar command ...\n", "man line: the rest of "
	    "the arguments");
	print(ctl_help, &cmd, out, sizeof(out));
	ok(strstr(out, "\nTry the parser\n") != NULL, "help: the summary");
	ok(strstr(out, "\n  FILE                  the file\n") != NULL,
	    "help: each argument");
	ok(strstr(out, "\n  --limit N             at most N (default 10; 1 "
	    "to 100)\n") != NULL, "help: a number's default and range");
	ok(strstr(out, "\n  --header 'Name: value'\n                        a "
	    "header\n") != NULL, "help: a long option's help on a line of its "
	    "own");
	ok(strstr(out, "\n  -h, --help            print this help and exit\n")
	    != NULL, "help: -h, --help, always");
	print(ctl_help_line, &lead, out, sizeof(out));
	is_str(out, "  users [ID] [--json] [--header 'Name: value']...\n"
	    "                               Users\n", "the list's line: a long "
	    "synopsis, the summary below");
}

int
main(void)
{
	t_cases();
	t_repeat_cap();
	t_stop();
	t_texts();
	return tap_done();
}
