/*
 * path.h - the dot paths used everywhere a payload value is selected
 * (event type, timestamp, idempotency key, mapping parameters).
 *
 * Syntax: NAMESPACE? SEGMENT ( "." SEGMENT )*, where a SEGMENT is a key of
 * one or more bytes other than ".[]" followed by any number of "[N]" array
 * indexes (N decimal, no sign, no leading zeros).  Namespaces:
 *	body.a.b	the parsed JSON body (also the default: "a.b")
 *	body		the whole body
 *	headers.x-id	a request header; names are matched lower-cased
 *	headers		all headers as an object
 *	preprocess.k	a member of what the environment's preprocess
 *			script returned (script.h)
 *	preprocess	all of it
 * Paths are case-sensitive except for header names.
 */
#ifndef PT_PATH_H
#define PT_PATH_H

#include <stddef.h>

#include "err.h"
#include "json.h"

enum pt_path_ns {
	PT_NS_BODY,
	PT_NS_HEADERS,
	PT_NS_PREPROCESS
};

/*
 * What paths are resolved against: the parsed body, the headers (an
 * object of lower-case names to string values) and the preprocess
 * script's result.  Any may be NULL: absent (a path into it is missing).
 */
struct pt_roots {
	const pt_json	*body;
	const pt_json	*headers;
	const pt_json	*preprocess;
};

struct pt_path_seg {
	char	*key;		/* NUL-terminated; NULL for a bare index */
	size_t	 index;		/* when key == NULL */
	size_t	 text_end;	/* offset in "text" just past the segment */
};

struct pt_path {
	enum pt_path_ns		 ns;
	struct pt_path_seg	*segs;
	size_t			 nsegs;
	char			*text;	/* the path as written */
};

/*
 * Compile "text" ("len" bytes).  On PT_EINVAL, "errmsg" (if not NULL) gets a
 * static description of the problem.  The result is freed with
 * pt_path_free().
 */
enum pt_err	pt_path_compile(const char *text, size_t len,
		    struct pt_path **out, const char **errmsg);
void		pt_path_free(struct pt_path *);

enum pt_path_res {
	PT_PATH_FOUND,		/* *out is the value (may be NULL = null) */
	PT_PATH_MISSING,	/* a key or index is absent */
	PT_PATH_MISMATCH	/* a segment met the wrong type */
};

/*
 * Resolve against the roots.  The result is borrowed from them.  On anything
 * but FOUND, "why" (if not NULL, "whylen" bytes) gets a sentence such as
 * "data.items is a string, not an array".
 */
enum pt_path_res pt_path_resolve(const struct pt_path *,
		    const struct pt_roots *, pt_json **out, char *why,
		    size_t whylen);

#endif
