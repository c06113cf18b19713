/*
 * filter.h - filters on mappings: Hookdeck's JSON filter syntax, compiled
 * once at apply and matched against every event of the mapping.
 *
 * A filter is a JSON document matched against the event as
 *	{"body": <parsed body>, "headers": {<lower-case name>: "<value>"},
 *	 "preprocess": <what the preprocess script returned>}
 * the way Hookdeck matches its filters (hookdeck.com/docs/filters, and the
 * behaviour of its matcher, simple-json-match):
 *  - a string, number, boolean or null matches an equal value, or an
 *    array that has an equal element;
 *  - an object matches an object that has every member of the filter,
 *    each matching; members the filter does not name are ignored; against
 *    an array it matches when one element matches it as a whole;
 *  - an array matches an array that contains, for every element of the
 *    filter, an element matching it ("contains all"; order and extra
 *    elements do not matter);
 *  - a member whose name starts with "$" is an operator on the value
 *    itself: $eq $neq $in $nin $gt $gte $lt $lte $startsWith $endsWith
 *    $exist $or $and $not.  Operators and plain members of one object
 *    must all match.
 *  - a type mismatch ($gt on a string against a number, $startsWith on a
 *    number, a member of a string, ...) never matches; neither does a
 *    missing value, except under {"$exist": false} and $not.
 *
 * Rules chosen where Hookdeck's documentation is silent (porter.conf(5)
 * "Filters" says the same for users):
 *  - equality is strict JSON equality: 1 and "1" differ, 1 and 1.0 are
 *    equal, integers and doubles compare exactly (no rounding through
 *    double); objects are equal whatever their member order;
 *  - the root of a filter is an object whose members are body, headers,
 *    preprocess and the operators $or, $and, $not (whose operands are
 *    again such objects); a misspelt member is a compile error, not a
 *    filter that never matches;
 *  - header names in a filter are matched lower-cased, like header paths;
 *  - $exist: true matches any present value, null included; a member of
 *    a missing value is missing too, so {"a": {"b": {"$exist": false}}}
 *    matches when "a" is absent; {} matches any object (and not a missing
 *    value);
 *  - $gt, $gte, $lt, $lte compare two numbers, or two strings byte by byte
 *    (UTF-8 code point order); anything else does not match;
 *  - $in takes an array (the value equals one of its elements; an array
 *    value matches when one of its elements does - Hookdeck's matcher
 *    rejects arrays there) or a string (a string value contains it as a
 *    substring; an array value has it as an element); $nin is the
 *    negation of $in where $in is defined, and a type mismatch does not
 *    match either;
 *  - $startsWith and $endsWith take a string or a non-empty array of
 *    strings (any of them);
 *  - $neq, like every comparison, needs a value: a missing one does not
 *    match (use $not to include it);
 *  - $ref (Hookdeck's field references) is refused at compile time.
 *
 * Bounds (filters come from admins, events from senders; both are
 * hostile): at most PT_FILTER_MAX_DEPTH levels of nesting,
 * PT_FILTER_MAX_NODES conditions and literal values, PT_FILTER_MAX_BYTES of
 * strings; a match does at most PT_FILTER_MAX_STEPS steps (one per
 * condition tried on one value, per literal value compared, per 64 bytes
 * searched) and then does not match, saying so.
 */
#ifndef PT_FILTER_H
#define PT_FILTER_H

#include <stddef.h>

#include "err.h"
#include "json.h"
#include "path.h"

#define PT_FILTER_MAX_DEPTH	16
#define PT_FILTER_MAX_NODES	512
#define PT_FILTER_MAX_BYTES	65536
#define PT_FILTER_MAX_STEPS	1000000

struct pt_filter;
struct pt_filter_node;

/*
 * Why a filter did not match: the condition that failed and a short,
 * static reason ("not equal", "missing", "no alternative matches").
 * NOTE: the reason never quotes a value - neither the event's (a header
 * may carry a credential) nor the filter's (it may compare a secret).
 * "node" is borrowed from the filter and lives as long as it does.
 */
struct pt_filter_why {
	const struct pt_filter_node	*node;
	const char			*reason;
};

/*
 * Compile "doc" (borrowed; the filter keeps its own copy).  On PT_EINVAL
 * "ptr" gets the JSON pointer (RFC 6901) of the bad part, relative to the
 * filter ("" for the whole filter, "/body/status/$in"), and "err" what is
 * wrong with it ("must be an array or a string").  PT_ENOMEM when out of
 * memory.  The result is freed with pt_filter_free().
 */
enum pt_err	 pt_filter_compile(const pt_json *doc, struct pt_filter **out,
		    char *ptr, size_t ptrlen, char *err, size_t errlen);
void		 pt_filter_free(struct pt_filter *);

/*
 * Does filter document "doc" (valid or not) test root "root" ("headers")
 * anywhere: at its top level or under $and, $or or $not?
 */
int		 pt_filter_reads(const pt_json *doc, const char *root);

/*
 * The input filters match: {"body", "headers", "preprocess"} sharing the
 * roots' values (absent ones left out), or NULL when out of memory.
 */
pt_json		*pt_filter_input(const struct pt_roots *);

/*
 * Match "input" ({"body", "headers", "preprocess"}, borrowed; any member
 * may be absent).  Returns 1 on a match; 0 otherwise, and then "why" (if
 * not NULL) says which condition failed.  No allocation, no side effects:
 * one filter may be matched by several threads at once.
 */
int		 pt_filter_match(const struct pt_filter *, const pt_json *input,
		    struct pt_filter_why *why);

/*
 * The JSON pointer of the failed condition ("/body/type"), and the whole
 * explanation ("/body/type: not equal"), NUL-terminated in "buf" (cut to
 * "len").  Both return the length the full text needs, like snprintf.
 */
size_t		 pt_filter_why_pointer(const struct pt_filter_why *, char *buf,
		    size_t len);
size_t		 pt_filter_why_text(const struct pt_filter_why *, char *buf,
		    size_t len);

#endif
