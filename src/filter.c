/*
 * filter.c - compile Hookdeck-style filters to a small tree of conditions
 * and match events against it (see filter.h for the rules).
 *
 * Compilation turns every operator name into an "enum op" once, checks
 * every operand, and leaves literals in the filter's own copy of the
 * document, where the nodes borrow them.  Matching walks the tree against
 * the event's values with a step budget; a failure records the node and a
 * static reason, and the JSON pointer is only spelt out when asked for
 * (pt_filter_why_pointer): nodes keep their own segment and a parent link.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "filter.h"
#include "nitems.h"

/* Recursion of one match: filter nodes plus arrays nested in the event. */
#define MATCH_MAX_DEPTH		256
/* Longest chain of nodes: at most three per level of the document. */
#define MAX_CHAIN		(3 * PT_FILTER_MAX_DEPTH + 8)
/* Bytes searched or compared per step. */
#define BYTES_PER_STEP		64

#ifndef nitems
#endif

enum op {
	OP_VALUE,	/* a scalar: equal, or an element of an array */
	OP_ALL,		/* an array: each element matched by some element */
	OP_SHAPE,	/* an object's members, by name */
	OP_EQ,
	OP_NEQ,
	OP_IN,
	OP_NIN,
	OP_GT,
	OP_GTE,
	OP_LT,
	OP_LTE,
	OP_STARTS,
	OP_ENDS,
	OP_EXIST,
	OP_OR,
	OP_AND,		/* $and, and an object with operators */
	OP_NOT,
	OP__MAX
};

/* What an operator takes. */
enum arg {
	ARG_ANY,		/* any JSON value, compared */
	ARG_LIST_OR_STRING,	/* an array of values, or a string */
	ARG_ORDERED,		/* a number or a string */
	ARG_STRINGS,		/* a string or a non-empty array of them */
	ARG_BOOL,
	ARG_FILTERS,		/* a non-empty array of filters */
	ARG_FILTER,		/* one filter */
	ARG__MAX
};

/* Where a filter applies: this decides which members it may name. */
enum ctx {
	CTX_ROOT,		/* {"body", "headers", "preprocess"} */
	CTX_HEADERS,		/* header names, matched lower-cased */
	CTX_VALUE		/* anything in the event */
};

static const struct opspec {
	const char	*name;
	enum op		 op;
	enum arg	 arg;
} opspecs[] = {
	{ "$eq",		OP_EQ,		ARG_ANY },
	{ "$neq",		OP_NEQ,		ARG_ANY },
	{ "$in",		OP_IN,		ARG_LIST_OR_STRING },
	{ "$nin",		OP_NIN,		ARG_LIST_OR_STRING },
	{ "$gt",		OP_GT,		ARG_ORDERED },
	{ "$gte",		OP_GTE,		ARG_ORDERED },
	{ "$lt",		OP_LT,		ARG_ORDERED },
	{ "$lte",		OP_LTE,		ARG_ORDERED },
	{ "$startsWith",	OP_STARTS,	ARG_STRINGS },
	{ "$endsWith",		OP_ENDS,	ARG_STRINGS },
	{ "$exist",		OP_EXIST,	ARG_BOOL },
	{ "$or",		OP_OR,		ARG_FILTERS },
	{ "$and",		OP_AND,		ARG_FILTERS },
	{ "$not",		OP_NOT,		ARG_FILTER },
};

static const char *const arg_want[ARG__MAX] = {
	[ARG_ANY] = "",
	[ARG_LIST_OR_STRING] = "must be an array of values or a string",
	[ARG_ORDERED] = "must be a number or a string",
	[ARG_STRINGS] = "must be a string or a non-empty array of strings",
	[ARG_BOOL] = "must be true or false",
	[ARG_FILTERS] = "must be a non-empty array of filters",
	[ARG_FILTER] = "",
};

/* The members a filter may name at its root (filter.h). */
static const char *const root_members[] = { "body", "headers", "preprocess" };

/* Reasons of a failed condition, by the type of the value that met it. */
static const char *const wrong_type[] = {
	[PT_J_NULL] = "wrong type (null)",
	[PT_J_BOOL] = "wrong type (a boolean)",
	[PT_J_INT] = "wrong type (an integer)",
	[PT_J_DOUBLE] = "wrong type (a number)",
	[PT_J_STRING] = "wrong type (a string)",
	[PT_J_OBJECT] = "wrong type (an object)",
	[PT_J_ARRAY] = "wrong type (an array)",
};

static const char R_MISSING[] = "missing";
static const char R_NOT_EQUAL[] = "not equal";
static const char R_NO_ELEMENT[] = "no array element matches";
static const char R_BUDGET[] = "more work than a filter may do on one event";
static const char R_DEEP[] = "the event is nested too deeply";

/* Reasons of a comparison that does not hold, by operator. */
static const char *const op_failed[OP__MAX] = {
	[OP_EQ] = R_NOT_EQUAL,
	[OP_NEQ] = "equal",
	[OP_GT] = "not greater",
	[OP_GTE] = "less",
	[OP_LT] = "not less",
	[OP_LTE] = "greater",
	[OP_STARTS] = "does not start with it",
	[OP_ENDS] = "does not end with it",
	[OP_OR] = "no alternative matches",
	[OP_NOT] = "the negated filter matches",
};

struct pt_filter_node {
	enum op				 op;
	const struct pt_filter_node	*parent;
	char				*seg;	/* escaped pointer segment;
						   NULL: the parent's pointer */
	const pt_json			*lit;	/* borrowed from the filter */
	int				 want;	/* $exist */
	struct pt_filter_node		**kids;
	char				**keys;	/* SHAPE: names of kids[i] */
	size_t				 nkids;
};

struct pt_filter {
	pt_json			*doc;	/* our copy: the literals live here */
	struct pt_filter_node	*root;
};

/* ---- pointers ---- */

/* A segment of a JSON pointer (RFC 6901: "~" is "~0", "/" is "~1"). */
static char *
escape_seg(const char *s)
{
	size_t n = 0, i;
	char *e, *p;

	for (i = 0; s[i]; i++)
		n += (s[i] == '~' || s[i] == '/') ? 2 : 1;
	if ((e = p = pt_malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; s[i]; i++) {
		if (s[i] == '~' || s[i] == '/') {
			*p++ = '~';
			*p++ = s[i] == '~' ? '0' : '1';
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return e;
}

/* Append "n" bytes of "s" at *at in "buf" ("len" bytes), cut like snprintf. */
static void
put(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	size_t room;

	if (*at < len) {
		room = len - 1 - *at;
		if (n < room)
			room = n;
		memcpy(buf + *at, s, room);
		buf[*at + room] = '\0';
	}
	*at += n;
}

/*
 * The pointer of "n", then "extra" (an array index, or -1), into "buf";
 * returns the length the whole pointer needs.
 */
static size_t
pointer_of(const struct pt_filter_node *n, long extra, char *buf, size_t len)
{
	const struct pt_filter_node *chain[MAX_CHAIN];
	size_t depth = 0, at = 0;
	char num[24];

	for (; n != NULL && depth < MAX_CHAIN; n = n->parent)
		if (n->seg != NULL)
			chain[depth++] = n;
	if (len > 0)
		buf[0] = '\0';
	while (depth > 0) {
		const char *s = chain[--depth]->seg;

		put(buf, len, &at, "/", 1);
		put(buf, len, &at, s, strlen(s));
	}
	if (extra >= 0) {
		snprintf(num, sizeof(num), "/%ld", extra);
		put(buf, len, &at, num, strlen(num));
	}
	return at;
}

/* ---- compilation ---- */

struct cstate {
	size_t		 nodes;		/* nodes and literal values so far */
	size_t		 bytes;		/* strings and names so far */
	char		*ptr;
	size_t		 ptrlen;
	char		*err;
	size_t		 errlen;
};

/* Refuse the filter at node "n" (and element "extra" of it, or -1). */
static enum pt_err __attribute__((format(printf, 4, 5)))
cerr(struct cstate *st, const struct pt_filter_node *n, long extra,
    const char *fmt, ...)
{
	va_list ap;

	if (st->ptrlen > 0)
		(void)pointer_of(n, extra, st->ptr, st->ptrlen);
	if (st->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(st->err, st->errlen, fmt, ap);
		va_end(ap);
	}
	return PT_EINVAL;
}

static void
node_free(struct pt_filter_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++) {
		node_free(n->kids[i]);
		if (n->keys != NULL)
			pt_free(n->keys[i]);
	}
	pt_free(n->kids);
	pt_free(n->keys);
	pt_free(n->seg);
	pt_free(n);
}

/* Account for "nodes" more nodes or literal values, and "bytes" bytes. */
static enum pt_err
charge(struct cstate *st, const struct pt_filter_node *at, size_t nodes,
    size_t bytes)
{
	if ((st->nodes += nodes) > PT_FILTER_MAX_NODES)
		return cerr(st, at, -1, "filter has more than %d conditions "
		    "and values", PT_FILTER_MAX_NODES);
	if (bytes > PT_FILTER_MAX_BYTES - st->bytes)
		return cerr(st, at, -1, "filter has more than %d bytes of "
		    "strings and names", PT_FILTER_MAX_BYTES);
	st->bytes += bytes;
	return PT_OK;
}

/*
 * A new node under "parent", as its kid number "slot" (the parent's kids
 * array is sized beforehand), with segment "seg" (a name, escaped here),
 * or the index "index" when "seg" is NULL and "index" >= 0, or no segment.
 * The parent owns it from here on, even when this fails halfway.
 */
static enum pt_err
node_add(struct cstate *st, struct pt_filter_node *parent, size_t slot,
    const char *seg, long index, struct pt_filter_node **out)
{
	struct pt_filter_node *n;
	char num[24];

	*out = NULL;
	if ((n = pt_calloc(1, sizeof(*n))) == NULL)
		return PT_ENOMEM;
	n->parent = parent;
	parent->kids[slot] = n;
	if (parent->nkids < slot + 1)
		parent->nkids = slot + 1;
	if (seg == NULL && index >= 0) {
		snprintf(num, sizeof(num), "%ld", index);
		seg = num;
	}
	if (seg != NULL && (n->seg = escape_seg(seg)) == NULL)
		return PT_ENOMEM;
	*out = n;
	return charge(st, n, 1, seg ? strlen(seg) : 0);
}

static enum pt_err
kids_alloc(struct pt_filter_node *n, size_t count, int keyed)
{
	if ((n->kids = pt_calloc(count ? count : 1, sizeof(*n->kids))) == NULL)
		return PT_ENOMEM;
	if (keyed && (n->keys = pt_calloc(count ? count : 1,
	    sizeof(*n->keys))) == NULL)
		return PT_ENOMEM;
	return PT_OK;
}

/*
 * Count a literal "v" at nesting "depth" into the bounds; "counted": its
 * node is already (a scalar filter is its own literal).
 */
static enum pt_err
literal_charge(struct cstate *st, const struct pt_filter_node *at,
    const pt_json *v, int depth, int counted)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *m;
	size_t i, n = 0;
	enum pt_err rc;

	if (depth > PT_FILTER_MAX_DEPTH)
		return cerr(st, at, -1, "filter nested more than %d levels "
		    "deep", PT_FILTER_MAX_DEPTH);
	if (pt_json_type(v) == PT_J_STRING)
		(void)pt_json_str(v, &n);
	if ((rc = charge(st, at, counted ? 0 : 1, n)) != PT_OK)
		return rc;
	switch (pt_json_type(v)) {
	case PT_J_ARRAY:
		for (i = 0; i < pt_json_len(v); i++)
			if ((rc = literal_charge(st, at, pt_json_index(v, i),
			    depth + 1, 0)) != PT_OK)
				return rc;
		break;
	case PT_J_OBJECT:
		while (pt_json_iter_next(v, &it, &k, &m)) {
			if ((rc = charge(st, at, 0, strlen(k))) != PT_OK ||
			    (rc = literal_charge(st, at, m, depth + 1, 0)) !=
			    PT_OK)
				return rc;
		}
		break;
	default:
		break;
	}
	return PT_OK;
}

static enum pt_err compile(struct cstate *, const pt_json *,
    struct pt_filter_node *, enum ctx, int);

/* Each element of array "v" (at "depth") as a filter, a kid of "n". */
static enum pt_err
compile_elements(struct cstate *st, const pt_json *v, struct pt_filter_node *n,
    enum ctx ctx, int depth)
{
	struct pt_filter_node *kid;
	size_t i, len = pt_json_len(v);
	enum pt_err rc;

	if ((rc = kids_alloc(n, len, 0)) != PT_OK)
		return rc;
	for (i = 0; i < len; i++)
		if ((rc = node_add(st, n, i, NULL, (long)i, &kid)) != PT_OK ||
		    (rc = compile(st, pt_json_index(v, i), kid, ctx,
		    depth + 1)) != PT_OK)
			return rc;
	return PT_OK;
}

/* The operand "v" of operator "spec" at node "n" (at nesting "depth"). */
static enum pt_err
compile_op(struct cstate *st, const struct opspec *spec, const pt_json *v,
    struct pt_filter_node *n, enum ctx ctx, int depth)
{
	struct pt_filter_node *kid;
	enum pt_jtype t = pt_json_type(v);
	size_t i, len = pt_json_len(v);
	enum pt_err rc;

	n->op = spec->op;
	if (ctx == CTX_ROOT && spec->arg != ARG_FILTERS &&
	    spec->arg != ARG_FILTER)
		return cerr(st, n, -1, "only $or, $and and $not apply to the "
		    "whole event; name body, headers or preprocess first");
	switch (spec->arg) {
	case ARG_ANY:
		break;
	case ARG_LIST_OR_STRING:
		if (t != PT_J_ARRAY && t != PT_J_STRING)
			return cerr(st, n, -1, "%s", arg_want[spec->arg]);
		break;
	case ARG_ORDERED:
		if (t != PT_J_INT && t != PT_J_DOUBLE && t != PT_J_STRING)
			return cerr(st, n, -1, "%s", arg_want[spec->arg]);
		break;
	case ARG_STRINGS:
		if ((t != PT_J_ARRAY && t != PT_J_STRING) ||
		    (t == PT_J_ARRAY && len == 0))
			return cerr(st, n, -1, "%s", arg_want[spec->arg]);
		for (i = 0; t == PT_J_ARRAY && i < len; i++)
			if (pt_json_type(pt_json_index(v, i)) != PT_J_STRING)
				return cerr(st, n, (long)i, "must be a string");
		break;
	case ARG_BOOL:
		if (t != PT_J_BOOL)
			return cerr(st, n, -1, "%s", arg_want[spec->arg]);
		n->want = pt_json_bool(v);
		return PT_OK;
	case ARG_FILTERS:
		if (t != PT_J_ARRAY || len == 0)
			return cerr(st, n, -1, "%s", arg_want[spec->arg]);
		return compile_elements(st, v, n, ctx, depth);
	case ARG_FILTER:
		if ((rc = kids_alloc(n, 1, 0)) != PT_OK ||
		    (rc = node_add(st, n, 0, NULL, -1, &kid)) != PT_OK)
			return rc;
		return compile(st, v, kid, ctx, depth);
	default:
		return PT_EINVAL;
	}
	n->lit = v;
	return literal_charge(st, n, v, depth, 0);
}

static const struct opspec *
op_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(opspecs); i++)
		if (strcmp(opspecs[i].name, name) == 0)
			return &opspecs[i];
	return NULL;
}

/*
 * An object filter at node "n": a SHAPE of its plain members; with
 * operators, an AND of them and the shape (when there are plain members).
 */
static enum pt_err
compile_object(struct cstate *st, const pt_json *v, struct pt_filter_node *n,
    enum ctx ctx, int depth)
{
	struct pt_json_iter it = { 0 };
	struct pt_filter_node *shape = n, *kid;
	const struct opspec *spec;
	const char *k;
	pt_json *m;
	size_t nops = 0, nkeys = 0, iop = 0, ikey = 0, i;
	enum ctx sub;
	enum pt_err rc;
	char *c;

	while (pt_json_iter_next(v, &it, &k, &m))
		if (k[0] == '$')
			nops++;
		else
			nkeys++;
	if (nops > 0) {
		n->op = OP_AND;
		if ((rc = kids_alloc(n, nops + (nkeys > 0), 0)) != PT_OK)
			return rc;
		if (nkeys > 0 && (rc = node_add(st, n, nops, NULL, -1,
		    &shape)) != PT_OK)
			return rc;
	}
	if (nops == 0 || nkeys > 0)
		shape->op = OP_SHAPE;
	if (nkeys > 0 && (rc = kids_alloc(shape, nkeys, 1)) != PT_OK)
		return rc;
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(v, &it, &k, &m)) {
		if (k[0] == '$') {
			/* The AND's kids: the operators, then the shape. */
			if ((rc = node_add(st, n, iop++, k, -1, &kid)) != PT_OK)
				return rc;
			if (strcmp(k, "$ref") == 0)
				return cerr(st, kid, -1, "$ref (field "
				    "references) is not supported");
			if ((spec = op_lookup(k)) == NULL)
				return cerr(st, kid, -1, "unknown operator "
				    "\"%.60s\" (one of $eq, $neq, $in, $nin, "
				    "$gt, $gte, $lt, $lte, $startsWith, "
				    "$endsWith, $exist, $or, $and, $not)", k);
			if ((rc = compile_op(st, spec, m, kid, ctx,
			    depth + 1)) != PT_OK)
				return rc;
			continue;
		}
		if ((rc = node_add(st, shape, ikey, k, -1, &kid)) != PT_OK)
			return rc;
		if ((shape->keys[ikey++] = pt_strdup(k)) == NULL)
			return PT_ENOMEM;
		sub = CTX_VALUE;
		if (ctx == CTX_ROOT) {
			for (i = 0; i < nitems(root_members) &&
			    strcmp(root_members[i], k) != 0; i++)
				;
			if (i == nitems(root_members))
				return cerr(st, kid, -1, "unknown member (a "
				    "filter matches body, headers and "
				    "preprocess)");
			if (strcmp(k, "headers") == 0)
				sub = CTX_HEADERS;
		} else if (ctx == CTX_HEADERS)
			for (c = shape->keys[ikey - 1]; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
		if ((rc = compile(st, m, kid, sub, depth + 1)) != PT_OK)
			return rc;
	}
	return PT_OK;
}

/* The filter "v" at nesting "depth" into node "n" (already in the tree). */
static enum pt_err
compile(struct cstate *st, const pt_json *v, struct pt_filter_node *n,
    enum ctx ctx, int depth)
{
	if (depth > PT_FILTER_MAX_DEPTH)
		return cerr(st, n, -1, "filter nested more than %d levels deep",
		    PT_FILTER_MAX_DEPTH);
	switch (pt_json_type(v)) {
	case PT_J_OBJECT:
		return compile_object(st, v, n, ctx, depth);
	case PT_J_ARRAY:
		if (ctx != CTX_VALUE)
			break;
		n->op = OP_ALL;
		return compile_elements(st, v, n, ctx, depth);
	default:
		if (ctx != CTX_VALUE)
			break;
		n->op = OP_VALUE;
		n->lit = v;
		return literal_charge(st, n, v, depth, 1);
	}
	return cerr(st, n, -1, "must be an object (got %s)",
	    pt_jtype_name(pt_json_type(v)));
}

enum pt_err
pt_filter_compile(const pt_json *doc, struct pt_filter **out, char *ptr,
    size_t ptrlen, char *err, size_t errlen)
{
	struct cstate st = { 0 };
	struct pt_filter *f;
	enum pt_err rc;

	*out = NULL;
	if (ptrlen > 0)
		ptr[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';
	st.ptr = ptr;
	st.ptrlen = ptrlen;
	st.err = err;
	st.errlen = errlen;
	if (pt_json_type(doc) != PT_J_OBJECT) {
		snprintf(err, errlen, "must be an object (got %s)",
		    pt_jtype_name(pt_json_type(doc)));
		return PT_EINVAL;
	}
	if ((f = pt_calloc(1, sizeof(*f))) == NULL ||
	    (f->doc = pt_json_copy(doc)) == NULL ||
	    (f->root = pt_calloc(1, sizeof(*f->root))) == NULL)
		rc = PT_ENOMEM;
	else if ((rc = charge(&st, f->root, 1, 0)) == PT_OK)
		rc = compile(&st, f->doc, f->root, CTX_ROOT, 0);
	if (rc != PT_OK) {
		if (rc == PT_ENOMEM)
			snprintf(err, errlen, "out of memory");
		pt_filter_free(f);
		return rc;
	}
	*out = f;
	return PT_OK;
}

void
pt_filter_free(struct pt_filter *f)
{
	if (f == NULL)
		return;
	node_free(f->root);
	pt_json_put(f->doc);
	pt_free(f);
}

/* ---- values ---- */

enum num_kind {
	NUM_INT,	/* fits int64 */
	NUM_UINT,	/* above INT64_MAX */
	NUM_DOUBLE
};

struct num {
	enum num_kind	 kind;
	int64_t		 i;
	uint64_t	 u;
	double		 d;
};

static int
is_number(enum pt_jtype t)
{
	return t == PT_J_INT || t == PT_J_DOUBLE;
}

static void
num_of(const pt_json *j, struct num *n)
{
	if (pt_json_type(j) == PT_J_DOUBLE) {
		n->kind = NUM_DOUBLE;
		n->d = pt_json_double(j);
		return;
	}
	n->kind = NUM_INT;
	n->i = pt_json_int(j);
	if (n->i == INT64_MAX && (n->u = pt_json_uint(j)) > (uint64_t)INT64_MAX)
		n->kind = NUM_UINT;
}

#define SIGN(a, b)	((a) < (b) ? -1 : (a) > (b) ? 1 : 0)
#define TWO_63		9223372036854775808.0
#define TWO_64		18446744073709551616.0

/* An integer against a double, exactly: -1, 0, 1, or -2 for NaN. */
static int
cmp_int_double(const struct num *a, double d)
{
	double t;

	if (isnan(d))
		return -2;
	if (a->kind == NUM_INT) {
		if (d >= TWO_63)
			return -1;
		if (d < -TWO_63)
			return 1;
		t = trunc(d);
		if (a->i != (int64_t)t)
			return SIGN(a->i, (int64_t)t);
	} else {
		if (d >= TWO_64)
			return -1;
		if (d < TWO_63)
			return 1;
		t = trunc(d);
		if (a->u != (uint64_t)t)
			return SIGN(a->u, (uint64_t)t);
	}
	return SIGN(0.0, d - t);
}

/* Two JSON numbers: -1, 0, 1, or -2 when they do not compare (NaN). */
static int
num_cmp(const pt_json *x, const pt_json *y)
{
	struct num a, b;
	int c;

	num_of(x, &a);
	num_of(y, &b);
	if (a.kind == NUM_DOUBLE && b.kind == NUM_DOUBLE)
		return isnan(a.d) || isnan(b.d) ? -2 : SIGN(a.d, b.d);
	if (a.kind == NUM_DOUBLE)
		return (c = cmp_int_double(&b, a.d)) == -2 ? -2 : -c;
	if (b.kind == NUM_DOUBLE)
		return cmp_int_double(&a, b.d);
	if (a.kind == NUM_UINT || b.kind == NUM_UINT)
		return a.kind != b.kind ? (a.kind == NUM_UINT ? 1 : -1) :
		    SIGN(a.u, b.u);
	return SIGN(a.i, b.i);
}

static int
str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? SIGN(c, 0) : SIGN(alen, blen);
}

/* ---- matching ---- */

struct mstate {
	unsigned long			 steps;
	int				 over;	/* gave up: too much work */
	int				 depth;
	const struct pt_filter_node	*fail;
	const char			*reason;
};

/* Give up the whole match at node "n": the event is too much for it. */
static int
give_up(struct mstate *st, const struct pt_filter_node *n, const char *reason)
{
	if (!st->over) {
		st->over = 1;
		st->fail = n;
		st->reason = reason;
	}
	return 0;
}

/* Spend "n" steps; 0 once the budget is gone (the failure is recorded). */
static int
spend(struct mstate *st, const struct pt_filter_node *at, unsigned long n)
{
	if (st->over)
		return 0;
	st->steps += n;
	if (st->steps <= PT_FILTER_MAX_STEPS)
		return 1;
	return give_up(st, at, R_BUDGET);
}

/* Record why node "n" failed (unless the match gave up) and return 0. */
static int
miss(struct mstate *st, const struct pt_filter_node *n, const char *reason)
{
	if (!st->over) {
		st->fail = n;
		st->reason = reason;
	}
	return 0;
}

/*
 * Is the event's "v" equal to the literal "lit"?  Walks the literal, so
 * the cost is bounded by the filter, not the event.
 */
static int
equal(struct mstate *st, const struct pt_filter_node *at, const pt_json *lit,
    const pt_json *v)
{
	enum pt_jtype tl = pt_json_type(lit), tv = pt_json_type(v);
	struct pt_json_iter it = { 0 };
	const char *k, *a, *b;
	pt_json *lm, *vm;
	size_t i, alen, blen;

	if (!spend(st, at, 1))
		return 0;
	if (is_number(tl) && is_number(tv))
		return num_cmp(lit, v) == 0;
	if (tl != tv)
		return 0;
	switch (tl) {
	case PT_J_NULL:
		return 1;
	case PT_J_BOOL:
		return pt_json_bool(lit) == pt_json_bool(v);
	case PT_J_STRING:
		a = pt_json_str(lit, &alen);
		b = pt_json_str(v, &blen);
		return alen == blen && spend(st, at, alen / BYTES_PER_STEP) &&
		    memcmp(a, b, alen) == 0;
	case PT_J_ARRAY:
		if (pt_json_len(lit) != pt_json_len(v))
			return 0;
		for (i = 0; i < pt_json_len(lit); i++)
			if (!equal(st, at, pt_json_index(lit, i),
			    pt_json_index(v, i)))
				return 0;
		return 1;
	case PT_J_OBJECT:
		if (pt_json_len(lit) != pt_json_len(v))
			return 0;
		while (pt_json_iter_next(lit, &it, &k, &lm))
			if (!pt_json_get_ex(v, k, &vm) ||
			    !equal(st, at, lm, vm))
				return 0;
		return 1;
	default:
		return 0;
	}
}

/* Does "list" (an array literal) have an element equal to "v"? */
static int
listed(struct mstate *st, const struct pt_filter_node *at, const pt_json *list,
    const pt_json *v)
{
	size_t i;

	for (i = 0; i < pt_json_len(list); i++)
		if (equal(st, at, pt_json_index(list, i), v))
			return 1;
	return 0;
}

/* $in at "n": 1 in, 0 not in, -1 a type that $in does not apply to. */
static int
in(struct mstate *st, const struct pt_filter_node *n, const pt_json *v)
{
	enum pt_jtype tv = pt_json_type(v);
	const char *s, *needle;
	size_t i, slen, nlen;

	if (pt_json_type(n->lit) == PT_J_ARRAY) {
		if (tv == PT_J_OBJECT)
			return -1;
		if (tv != PT_J_ARRAY)
			return listed(st, n, n->lit, v);
		for (i = 0; i < pt_json_len(v); i++)
			if (listed(st, n, n->lit, pt_json_index(v, i)))
				return 1;
		return 0;
	}
	if (tv == PT_J_ARRAY) {
		for (i = 0; i < pt_json_len(v); i++)
			if (equal(st, n, n->lit, pt_json_index(v, i)))
				return 1;
		return 0;
	}
	if (tv != PT_J_STRING)
		return -1;
	s = pt_json_str(v, &slen);
	needle = pt_json_str(n->lit, &nlen);
	if (!spend(st, n, slen / BYTES_PER_STEP))
		return 0;
	return nlen == 0 || memmem(s, slen, needle, nlen) != NULL;
}

/* $startsWith / $endsWith "lit" (one string) against string "s". */
static int
affix(int ends, const pt_json *lit, const char *s, size_t slen)
{
	const char *a;
	size_t alen;

	a = pt_json_str(lit, &alen);
	return alen <= slen && memcmp(ends ? s + slen - alen : s, a, alen) == 0;
}

static int eval(struct mstate *, const struct pt_filter_node *,
    const pt_json *, int);

/* Does some element of array "v" match node "n"? */
static int
some_element(struct mstate *st, const struct pt_filter_node *n,
    const pt_json *v)
{
	size_t i;

	for (i = 0; i < pt_json_len(v); i++) {
		if (eval(st, n, pt_json_index(v, i), 1))
			return 1;
		if (st->over)
			return 0;
	}
	return miss(st, n, R_NO_ELEMENT);
}

static int
eval_shape(struct mstate *st, const struct pt_filter_node *n,
    const pt_json *v, int present)
{
	enum pt_jtype t = pt_json_type(v);
	pt_json *m;
	size_t i;
	int found;

	if (!present && n->nkids == 0)
		return miss(st, n, R_MISSING);
	if (present && t == PT_J_ARRAY)
		return some_element(st, n, v);
	if (present && t != PT_J_OBJECT)
		return miss(st, n, wrong_type[t]);
	for (i = 0; i < n->nkids; i++) {
		m = NULL;
		found = present && pt_json_get_ex(v, n->keys[i], &m);
		if (!eval(st, n->kids[i], m, found))
			return 0;
	}
	return 1;
}

/* Node "n" against the event's value "v" ("present" 0: there is none). */
static int
eval_op(struct mstate *st, const struct pt_filter_node *n, const pt_json *v,
    int present)
{
	enum pt_jtype t = pt_json_type(v);
	const char *s;
	size_t i, slen, j;
	int r, c;

	switch (n->op) {
	case OP_SHAPE:
		return eval_shape(st, n, v, present);
	case OP_EXIST:
		return present == n->want ? 1 :
		    miss(st, n, n->want ? R_MISSING : "exists");
	case OP_OR:
		for (i = 0; i < n->nkids; i++) {
			if (eval(st, n->kids[i], v, present))
				return 1;
			if (st->over)
				return 0;
		}
		return miss(st, n, op_failed[n->op]);
	case OP_AND:
		for (i = 0; i < n->nkids; i++)
			if (!eval(st, n->kids[i], v, present))
				return 0;
		return 1;
	case OP_NOT:
		r = eval(st, n->kids[0], v, present);
		if (st->over)
			return 0;
		return r ? miss(st, n, op_failed[n->op]) : 1;
	default:
		break;
	}
	/* Every other condition needs a value. */
	if (!present)
		return miss(st, n, R_MISSING);
	switch (n->op) {
	case OP_VALUE:
		if (t == PT_J_ARRAY)
			return some_element(st, n, v);
		return equal(st, n, n->lit, v) ? 1 : miss(st, n, R_NOT_EQUAL);
	case OP_ALL:
		if (t != PT_J_ARRAY)
			return miss(st, n, wrong_type[t]);
		for (i = 0; i < n->nkids; i++) {
			for (j = 0; j < pt_json_len(v); j++) {
				if (eval(st, n->kids[i], pt_json_index(v, j), 1))
					break;
				if (st->over)
					return 0;
			}
			if (j == pt_json_len(v))
				return miss(st, n->kids[i], R_NO_ELEMENT);
		}
		return 1;
	case OP_EQ:
	case OP_NEQ:
		r = equal(st, n, n->lit, v);
		if (st->over)
			return 0;
		return r == (n->op == OP_EQ) ? 1 : miss(st, n, op_failed[n->op]);
	case OP_IN:
	case OP_NIN:
		r = in(st, n, v);
		if (st->over)
			return 0;
		if (r < 0)
			return miss(st, n, wrong_type[t]);
		if (r == (n->op == OP_IN))
			return 1;
		if (pt_json_type(n->lit) == PT_J_ARRAY)
			return miss(st, n, r ? "in the list" : "not in the list");
		return miss(st, n, r ? "contains it" : "does not contain it");
	case OP_GT:
	case OP_GTE:
	case OP_LT:
	case OP_LTE:
		if (is_number(t) && is_number(pt_json_type(n->lit)))
			c = num_cmp(v, n->lit);
		else if (t == PT_J_STRING &&
		    pt_json_type(n->lit) == PT_J_STRING) {
			const char *a;
			size_t alen;

			s = pt_json_str(v, &slen);
			a = pt_json_str(n->lit, &alen);
			if (!spend(st, n, (slen < alen ? slen : alen) /
			    BYTES_PER_STEP))
				return 0;
			c = str_cmp(s, slen, a, alen);
		} else
			return miss(st, n, wrong_type[t]);
		if (c == -2)
			return miss(st, n, wrong_type[t]);
		r = n->op == OP_GT ? c > 0 : n->op == OP_GTE ? c >= 0 :
		    n->op == OP_LT ? c < 0 : c <= 0;
		return r ? 1 : miss(st, n, op_failed[n->op]);
	case OP_STARTS:
	case OP_ENDS:
		if (t != PT_J_STRING)
			return miss(st, n, wrong_type[t]);
		s = pt_json_str(v, &slen);
		if (pt_json_type(n->lit) == PT_J_STRING)
			r = affix(n->op == OP_ENDS, n->lit, s, slen);
		else
			for (r = 0, i = 0; !r && i < pt_json_len(n->lit); i++)
				r = spend(st, n, 1) && affix(n->op == OP_ENDS,
				    pt_json_index(n->lit, i), s, slen);
		if (st->over)
			return 0;
		return r ? 1 : miss(st, n, op_failed[n->op]);
	default:
		return miss(st, n, R_NOT_EQUAL);
	}
}

static int
eval(struct mstate *st, const struct pt_filter_node *n, const pt_json *v,
    int present)
{
	int r;

	if (!spend(st, n, 1))
		return 0;
	if (st->depth >= MATCH_MAX_DEPTH)
		return give_up(st, n, R_DEEP);
	st->depth++;
	r = eval_op(st, n, v, present);
	st->depth--;
	return r && !st->over;
}

int
pt_filter_match(const struct pt_filter *f, const pt_json *input,
    struct pt_filter_why *why)
{
	struct mstate st = { 0 };
	int r;

	r = eval(&st, f->root, input, 1);
	if (why != NULL) {
		why->node = r ? NULL : st.fail;
		why->reason = r ? NULL : st.reason;
	}
	return r;
}

size_t
pt_filter_why_pointer(const struct pt_filter_why *why, char *buf, size_t len)
{
	if (why->node == NULL) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return pointer_of(why->node, -1, buf, len);
}

size_t
pt_filter_why_text(const struct pt_filter_why *why, char *buf, size_t len)
{
	const char *reason = why->reason ? why->reason : "matches";
	size_t at;

	at = pt_filter_why_pointer(why, buf, len);
	if (at > 0)
		put(buf, len, &at, ": ", 2);
	put(buf, len, &at, reason, strlen(reason));
	return at;
}

pt_json *
pt_filter_input(const struct pt_roots *r)
{
	pt_json *in = pt_json_new_object();

	if (in == NULL ||
	    (r->body != NULL && pt_json_set_ref(in, "body", (pt_json *)r->body) != PT_OK) ||
	    (r->headers != NULL && pt_json_set_ref(in, "headers", (pt_json *)r->headers) !=
	    PT_OK) ||
	    (r->preprocess != NULL && pt_json_set_ref(in, "preprocess",
	    (pt_json *)r->preprocess) != PT_OK)) {
		pt_json_put(in);
		return NULL;
	}
	return in;
}

int
pt_filter_reads(const pt_json *doc, const char *root)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *v;
	size_t i;

	if (pt_json_type(doc) == PT_J_ARRAY) {
		for (i = 0; i < pt_json_len(doc); i++)
			if (pt_filter_reads(pt_json_index(doc, i), root))
				return 1;
		return 0;
	}
	while (pt_json_iter_next(doc, &it, &k, &v))
		if (strcmp(k, root) == 0 || (k[0] == '$' &&
		    pt_filter_reads(v, root)))
			return 1;
	return 0;
}
