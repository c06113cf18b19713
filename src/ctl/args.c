/*
 * args.c - porterctl's one command-line parser, and the usage texts made
 * from the same declarations (args.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define WIDTH		79	/* columns of the usage texts */
#define HELP_COL	24	/* where an option's help starts in ctl_help */
#define SUMMARY_COL	31	/* where a summary starts in ctl_help_line */
#define UNIT_SPACE	'\x1f'	/* a space inside "[--header 'Name: value']" */

/* Matches "--help" and its prefixes as if it were one of the options. */
static const struct ctl_opt help_opt = { -1, "help", NULL, 0, 0, 0, 0, NULL,
    "print this help and exit" };

int
ctl_refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return CTL_BAD;
}

/*
 * "s" as a message may quote it: at most 60 bytes of it, control
 * characters as '?' (a value may hold a line break), in "buf".
 */
static const char *
shown(const char *s, char buf[72])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 60; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	strcpy(buf + i, s[i] != '\0' ? "..." : "");
	return buf;
}

/* Append to "b" (size "size", used "*n") without overflowing it. */
static void __attribute__((format(printf, 4, 5)))
add(char *b, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= size)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b + *n, size - *n, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n = *n + (size_t)r < size ? *n + (size_t)r : size - 1;
}

/* The i-th option a "--name" may stand for: the command's, then --help. */
static const struct ctl_opt *
nth_opt(const struct ctl_cmd *cmd, size_t i)
{
	size_t n = 0;

	while (cmd->opts != NULL && cmd->opts[n].name != NULL)
		n++;
	return i < n ? &cmd->opts[i] : i == n ? &help_opt : NULL;
}

/*
 * The option "--name" (its first "len" bytes) stands for: an exact match,
 * else the one option it is a prefix of, as getopt_long has it.  NULL with
 * the reason in "why".
 */
static const struct ctl_opt *
find_opt(const struct ctl_cmd *cmd, const char *name, size_t len, char *why,
    size_t whylen)
{
	const struct ctl_opt *o, *found = NULL;
	char names[256], buf[72];
	size_t i, nfound = 0, used = 0;

	for (i = 0; (o = nth_opt(cmd, i)) != NULL; i++)
		if (strncmp(o->name, name, len) == 0 && o->name[len] == '\0')
			return o;
	for (i = 0; (o = nth_opt(cmd, i)) != NULL; i++) {
		if (len == 0 || strncmp(o->name, name, len) != 0)
			continue;
		found = o;
		add(names, sizeof(names), &used, "%s--%s", nfound++ ? ", " : "",
		    o->name);
	}
	if (nfound == 1)
		return found;
	if (nfound == 0)
		ctl_refuse(why, whylen, "unknown option --%.*s",
		    (int)len, shown(name, buf));
	else
		ctl_refuse(why, whylen, "ambiguous option --%.*s (%s)",
		    (int)len, shown(name, buf), names);
	return NULL;
}

/* A whole number from "min" to "max", or -1. */
static int
parse_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
take_value(const struct ctl_opt *o, char *val, struct ctl_args *a, char *why,
    size_t whylen)
{
	char reason[256], buf[72];

	if ((o->flags & CTL_NUMBER) &&
	    parse_number(val, o->min, o->max, &a->num[o->key]) < 0)
		return ctl_refuse(why, whylen, "--%s %s: want a whole number "
		    "from %lld to %lld", o->name, shown(val, buf), o->min,
		    o->max);
	if (o->check != NULL && o->check(val, reason, sizeof(reason)) < 0)
		return ctl_refuse(why, whylen, "--%s %s: %s", o->name,
		    shown(val, buf), reason);
	if (o->flags & CTL_REPEAT) {
		if (a->nrep == CTL_REPEAT_MAX)
			return ctl_refuse(why, whylen, "at most %d --%s",
			    CTL_REPEAT_MAX, o->name);
		a->rep[a->nrep].key = o->key;
		a->rep[a->nrep++].val = val;
	}
	a->str[o->key] = val;
	a->given[o->key]++;
	return CTL_PARSED;
}

static size_t
count_pos(const struct ctl_cmd *cmd, size_t *required)
{
	size_t n = 0;

	*required = 0;
	if (cmd->pos == NULL)
		return 0;
	for (; cmd->pos[n].name != NULL; n++)
		if (!(cmd->pos[n].flags & CTL_OPTIONAL))
			(*required)++;
	return n;
}

static int
take_pos(const struct ctl_cmd *cmd, char *arg, struct ctl_args *a, char *why,
    size_t whylen)
{
	const struct ctl_pos *p;
	size_t req, n = count_pos(cmd, &req);
	char reason[256], buf[72];

	if ((size_t)a->npos >= n && (n == 0 ||
	    !(cmd->pos[n - 1].flags & CTL_MANY)))
		return ctl_refuse(why, whylen, "unexpected argument %s",
		    shown(arg, buf));
	if (a->npos == CTL_POS_MAX)
		return ctl_refuse(why, whylen, "too many arguments (%s)",
		    shown(arg, buf));
	p = &cmd->pos[(size_t)a->npos < n ? (size_t)a->npos : n - 1];
	if (p->check != NULL && p->check(arg, reason, sizeof(reason)) < 0)
		return ctl_refuse(why, whylen, "%s: %s", shown(arg, buf),
		    reason);
	a->pos[a->npos++] = arg;
	return CTL_PARSED;
}

int
ctl_parse(const struct ctl_cmd *cmd, int argc, char *argv[],
    struct ctl_args *a, char *why, size_t whylen)
{
	const struct ctl_opt *o;
	char *arg, *eq, *val, buf[72];
	size_t len, req;
	int n, dashdash = 0, rc;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	for (o = cmd->opts; o != NULL && o->name != NULL; o++)
		if (o->flags & CTL_NUMBER)
			a->num[o->key] = o->def;
	for (n = 0; n < argc; n++) {
		arg = argv[n];
		if (!dashdash && strcmp(arg, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (cmd->flags & CTL_STOP)
				break;
			rc = take_pos(cmd, arg, a, why, whylen);
			if (rc != CTL_PARSED)
				return rc;
			continue;
		}
		if (arg[1] != '-') {
			if (strcmp(arg, "-h") == 0)
				return CTL_HELP;
			return ctl_refuse(why, whylen, "unknown option %s",
			    shown(arg, buf));
		}
		eq = strchr(arg + 2, '=');
		len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
		if ((o = find_opt(cmd, arg + 2, len, why, whylen)) == NULL)
			return CTL_BAD;
		if (o->arg == NULL && eq != NULL)
			return ctl_refuse(why, whylen, "--%s takes no value",
			    o->name);
		if (o == &help_opt)
			return CTL_HELP;
		if (o->arg == NULL) {
			a->given[o->key]++;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (n + 1 < argc)
			val = argv[++n];
		else
			return ctl_refuse(why, whylen, "--%s needs a value "
			    "(%s)", o->name, o->arg);
		if ((rc = take_value(o, val, a, why, whylen)) != CTL_PARSED)
			return rc;
	}
	a->used = n;
	for (o = cmd->opts; o != NULL && o->name != NULL; o++)
		if ((o->flags & CTL_REQUIRED) && a->given[o->key] == 0)
			return ctl_refuse(why, whylen, "missing --%s %s",
			    o->name, o->arg ? o->arg : "");
	count_pos(cmd, &req);
	if (!(cmd->flags & CTL_STOP) && (size_t)a->npos < req)
		return ctl_refuse(why, whylen, "missing %s",
		    cmd->pos[a->npos].name);
	return CTL_PARSED;
}

char *
ctl_each(const struct ctl_args *a, int key, size_t *i)
{
	while (*i < a->nrep)
		if (a->rep[(*i)++].key == key)
			return a->rep[*i - 1].val;
	return NULL;
}

/* ---------------------------------------------------------- usage texts */

/*
 * Print "text" from column "col": its words, breaking lines before column
 * WIDTH and going on at column "indent"; a space before each word but the
 * first, unless "text" starts with one.  Returns the column it ends at.
 */
static size_t
put_wrapped(FILE *f, const char *text, size_t col, size_t indent)
{
	const char *w = text;
	size_t len, i;
	int sep = *text == ' ';

	for (;;) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			return col;
		len = strcspn(w, " ");
		if (col > indent && col + (size_t)sep + len > WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (sep) {
			fputc(' ', f);
			col++;
		}
		for (i = 0; i < len; i++)
			fputc(w[i] == UNIT_SPACE ? ' ' : w[i], f);
		col += len;
		w += len;
		sep = 1;
	}
}

/* "arg" with its spaces kept inside its unit of the synopsis. */
static void
add_arg(char *b, size_t size, size_t *n, const char *arg)
{
	for (; *arg != '\0'; arg++)
		add(b, size, n, "%c", *arg == ' ' ? UNIT_SPACE : *arg);
}

static void
add_pos(char *b, size_t size, size_t *n, const struct ctl_pos *p)
{
	add(b, size, n, " %s", p->flags & CTL_OPTIONAL ? "[" : "");
	add_arg(b, size, n, p->name);
	add(b, size, n, "%s%s", p->flags & CTL_MANY ? "..." : "",
	    p->flags & CTL_OPTIONAL ? "]" : "");
}

/* The synopsis after the command's name: " [--source S] ... FILE". */
static void
synopsis_units(const struct ctl_cmd *cmd, char *b, size_t size)
{
	const struct ctl_opt *o;
	const struct ctl_pos *p;
	size_t n = 0;

	b[0] = '\0';
	for (p = cmd->pos; p != NULL && p->name != NULL; p++)
		if (p->flags & CTL_LEAD)
			add_pos(b, size, &n, p);
	for (o = cmd->opts; o != NULL && o->name != NULL; o++) {
		add(b, size, &n, " %s--%s", o->flags & CTL_REQUIRED ? "" : "[",
		    o->name);
		if (o->arg != NULL) {
			add(b, size, &n, "%c", UNIT_SPACE);
			add_arg(b, size, &n, o->arg);
		}
		add(b, size, &n, "%s%s", o->flags & CTL_REQUIRED ? "" : "]",
		    o->flags & CTL_REPEAT ? "..." : "");
	}
	for (p = cmd->pos; p != NULL && p->name != NULL; p++)
		if (!(p->flags & CTL_LEAD))
			add_pos(b, size, &n, p);
}

void
ctl_synopsis(FILE *f, const struct ctl_cmd *cmd)
{
	char units[1024];
	size_t col;

	synopsis_units(cmd, units, sizeof(units));
	col = (size_t)fprintf(f, "usage: porterctl%s%s", cmd->name ? " " : "",
	    cmd->name ? cmd->name : "");
	put_wrapped(f, units, col, col + 1);
	fputc('\n', f);
}

static void
help_item(FILE *f, const char *item, const char *help, const char *extra)
{
	size_t col = (size_t)fprintf(f, "  %s", item);

	if (col + 2 > HELP_COL) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s", (int)(HELP_COL - col), "");
	col = put_wrapped(f, help, HELP_COL, HELP_COL);
	if (extra != NULL)
		put_wrapped(f, extra, col, HELP_COL);
	fputc('\n', f);
}

void
ctl_help(FILE *f, const struct ctl_cmd *cmd)
{
	const struct ctl_opt *o;
	const struct ctl_pos *p;
	char item[256], range[80];

	ctl_synopsis(f, cmd);
	if (cmd->summary != NULL) {
		fputc('\n', f);
		put_wrapped(f, cmd->summary, 0, 0);
		fputc('\n', f);
	}
	if (cmd->pos != NULL && cmd->pos[0].name != NULL &&
	    cmd->pos[0].help != NULL) {
		fprintf(f, "\narguments:\n");
		for (p = cmd->pos; p->name != NULL; p++)
			if (p->help != NULL)
				help_item(f, p->name, p->help, NULL);
	}
	fprintf(f, "\noptions:\n");
	for (o = cmd->opts; o != NULL && o->name != NULL; o++) {
		snprintf(item, sizeof(item), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		if (o->def != 0)
			snprintf(range, sizeof(range), " (default %lld; %lld "
			    "to %lld)", o->def, o->min, o->max);
		else
			snprintf(range, sizeof(range), " (%lld to %lld)",
			    o->min, o->max);
		help_item(f, item, o->help, o->flags & CTL_NUMBER ? range :
		    NULL);
	}
	help_item(f, "-h, --help", help_opt.help, NULL);
}

void
ctl_help_line(FILE *f, const struct ctl_cmd *cmd)
{
	char units[1024];
	size_t col;

	synopsis_units(cmd, units, sizeof(units));
	col = (size_t)fprintf(f, "  %s", cmd->name);
	col = put_wrapped(f, units, col, 7);
	if (col + 2 > SUMMARY_COL) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s", (int)(SUMMARY_COL - col), "");
	put_wrapped(f, cmd->summary ? cmd->summary : "", SUMMARY_COL,
	    SUMMARY_COL);
	fputc('\n', f);
}

/*
 * An argument's name as porterctl(1) writes it: lower case (mdoc's
 * convention), but for a quoted example such as 'Name: value'.
 */
static void
man_arg(char *b, size_t size, size_t *n, const char *arg)
{
	int quoted = 0;

	for (; *arg != '\0'; arg++) {
		if (*arg == '\'')
			quoted = !quoted;
		add(b, size, n, "%c", quoted ? *arg :
		    tolower((unsigned char)*arg));
	}
}

/* One unit of a command's line in the page: "Fl -env Ar e", optional? */
struct man_unit {
	char	 text[160];
	int	 optional;
	int	 repeat;
};

static size_t
man_pos(struct man_unit *u, const struct ctl_pos *p)
{
	size_t n = 0;

	add(u->text, sizeof(u->text), &n, "Ar ");
	man_arg(u->text, sizeof(u->text), &n, p->name);
	u->optional = (p->flags & CTL_OPTIONAL) != 0;
	u->repeat = (p->flags & CTL_MANY) != 0;
	return 1;
}

/*
 * Its ".It Cm ..." line: an optional unit in "Oo ... Oc", but the last in
 * "Op ..." (which would take in the rest of the line).
 */
void
ctl_man_line(FILE *f, const struct ctl_cmd *cmd)
{
	struct man_unit u[CTL_KEYS_MAX + CTL_POS_MAX];
	const struct ctl_opt *o;
	const struct ctl_pos *p;
	size_t nu = 0, n, i;

	for (p = cmd->pos; p != NULL && p->name != NULL; p++)
		if (p->flags & CTL_LEAD)
			nu += man_pos(&u[nu], p);
	for (o = cmd->opts; o != NULL && o->name != NULL &&
	    nu < CTL_KEYS_MAX; o++) {
		n = 0;
		add(u[nu].text, sizeof(u[nu].text), &n, "Fl -%s", o->name);
		if (o->arg != NULL) {
			add(u[nu].text, sizeof(u[nu].text), &n, " Ar ");
			man_arg(u[nu].text, sizeof(u[nu].text), &n, o->arg);
		}
		u[nu].optional = !(o->flags & CTL_REQUIRED);
		u[nu++].repeat = (o->flags & CTL_REPEAT) != 0;
	}
	for (p = cmd->pos; p != NULL && p->name != NULL; p++)
		if (!(p->flags & CTL_LEAD))
			nu += man_pos(&u[nu], p);
	fprintf(f, ".It Cm %s", cmd->name);
	for (i = 0; i < nu; i++) {
		if (!u[i].optional)
			fprintf(f, " %s", u[i].text);
		else if (i + 1 < nu)
			fprintf(f, " Oo %s Oc", u[i].text);
		else
			fprintf(f, " Op %s", u[i].text);
		if (u[i].repeat)
			fputs(" ...", f);
	}
	fputc('\n', f);
}
