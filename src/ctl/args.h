/*
 * args.h - porterctl's one command-line parser.  Each command declares
 * its options and positional arguments once, in the command table
 * (porterctl.c): name, argument, help text.  From that one declaration
 * come the parsing, -h/--help, the usage errors (exit 2, usage on
 * stderr), the command's lines in `porterctl --help` and its line in
 * porterctl(1) (`porterctl --help-man`).
 *
 * Options are long ("--source S", "--source=S", a unique prefix such as
 * "--sou S"), in any order among the positional arguments; "--" ends
 * them, "-" is a positional argument (standard input).  A value is the
 * next argument even when it starts with "-", as getopt_long has it.
 */
#ifndef PT_CTL_ARGS_H
#define PT_CTL_ARGS_H

#include <stddef.h>
#include <stdio.h>

#define CTL_KEYS_MAX	40	/* option keys are 0 to CTL_KEYS_MAX - 1 */
#define CTL_POS_MAX	4	/* positional arguments a command takes */
#define CTL_REPEAT_MAX	64	/* values of repeatable options, in all */

/* 0 when "val" will do, else -1 with the reason in "why" (ctl_refuse). */
typedef int	(*ctl_check_fn)(const char *val, char *why, size_t whylen);

/* struct ctl_opt flags */
#define CTL_REQUIRED	0x01	/* must be given */
#define CTL_REPEAT	0x02	/* may be given many times (ctl_each) */
#define CTL_NUMBER	0x04	/* a whole number from "min" to "max" */

/* struct ctl_pos flags */
#define CTL_OPTIONAL	0x01	/* may be left out (after the required) */
#define CTL_LEAD	0x02	/* shown before the options (log EVT_ID) */
#define CTL_MANY	0x04	/* the last: takes every argument left */

struct ctl_opt {
	int		 key;		/* its slot in struct ctl_args */
	const char	*name;		/* "source" for --source; NULL ends */
	const char	*arg;		/* "S": takes a value; NULL: a flag */
	unsigned	 flags;
	long long	 min, max;	/* CTL_NUMBER's range */
	long long	 def;		/* CTL_NUMBER's value when not given */
	ctl_check_fn	 check;		/* NULL, or what a value must pass */
	const char	*help;
};

struct ctl_pos {
	const char	*name;		/* "FILE"; NULL ends */
	unsigned	 flags;
	ctl_check_fn	 check;
	const char	*help;
};

struct ctl_args;

/* struct ctl_cmd flags */
#define CTL_STOP	0x01	/* stop at the first positional (main's) */

/* A command: "opts" and "pos" are NULL or end with a NULL name. */
struct ctl_cmd {
	const char		*name;	/* "logs", "token create" */
	const char		*section; /* its heading (--help, the page) */
	int			(*fn)(const struct ctl_args *);
	const struct ctl_opt	*opts;
	const struct ctl_pos	*pos;
	const char		*summary; /* what it does, in a line */
	unsigned		 flags;
};

/*
 * A parsed command line.  The strings point into the argv given to
 * ctl_parse, which must outlive it.
 */
struct ctl_args {
	const struct ctl_cmd	*cmd;
	unsigned		 given[CTL_KEYS_MAX];	/* times given */
	char			*str[CTL_KEYS_MAX];	/* the last value */
	long long		 num[CTL_KEYS_MAX];	/* CTL_NUMBER's (def) */
	char			*pos[CTL_POS_MAX];
	int			 npos;
	struct {
		int		 key;
		char		*val;
	}			 rep[CTL_REPEAT_MAX];	/* CTL_REPEAT's */
	size_t			 nrep;
	int			 used;	/* arguments parsed (CTL_STOP) */
};

#define CTL_PARSED	0
#define CTL_HELP	1	/* -h or --help: print ctl_help, exit 0 */
#define CTL_BAD		(-1)	/* a usage error, said in "why" */

/*
 * Parse "argc" arguments "argv" (those after the command's name) for
 * "cmd" into "a": CTL_PARSED, CTL_HELP or CTL_BAD with the reason in
 * "why" (no program or command name in it).
 */
int	 ctl_parse(const struct ctl_cmd *cmd, int argc, char *argv[],
	    struct ctl_args *a, char *why, size_t whylen);
/* Print the reason into "why" and return -1 (CTL_BAD): for a check. */
int	 ctl_refuse(char *why, size_t whylen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The values of the repeatable option "key" in the order given: start
 * with *i = 0; NULL after the last.
 */
char	*ctl_each(const struct ctl_args *a, int key, size_t *i);

/* "usage: porterctl logs [--source S] ...", wrapped, and a newline. */
void	 ctl_synopsis(FILE *, const struct ctl_cmd *);
/* The synopsis, the summary, then each argument and option explained. */
void	 ctl_help(FILE *, const struct ctl_cmd *);
/*
 * One line of `porterctl --help`: the command's synopsis and, in a
 * column of its own, its summary.
 */
void	 ctl_help_line(FILE *, const struct ctl_cmd *);
/* Its ".It Cm ..." line for porterctl(1) (mdoc). */
void	 ctl_man_line(FILE *, const struct ctl_cmd *);

#endif
