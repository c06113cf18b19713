/*
 * json.h - JSON values, the only window onto json-c.
 *
 * "pt_json" is json-c's json_object, kept opaque so that only json.c
 * includes <json-c/...>.  Ownership follows json-c: a value is reference
 * counted; pt_json_put() drops one reference; values returned by the getters
 * (pt_json_get, pt_json_index, iteration) are BORROWED from their parent and
 * live as long as it does.  The setters (pt_json_set, pt_json_append) TAKE
 * OWNERSHIP of the value they are given, even on failure.
 * NOTE: JSON null is a NULL pointer, as in json-c; use pt_json_get_ex() to
 * tell a null member from a missing one.  A NULL given to a setter is
 * never taken for null, though: it is what a constructor returns when it
 * ran out of memory, so the setter fails with PT_ENOMEM and stores
 * nothing.  Null is stored on purpose with pt_json_set_null(), and a value
 * read from a document, which may be null, with pt_json_set_copy() or
 * pt_json_set_ref().
 */
#ifndef PT_JSON_H
#define PT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "buf.h"

typedef struct json_object pt_json;

enum pt_jtype {
	PT_J_NULL,
	PT_J_BOOL,
	PT_J_INT,
	PT_J_DOUBLE,
	PT_J_STRING,
	PT_J_OBJECT,
	PT_J_ARRAY
};

/* Why untrusted text is not acceptable JSON. */
enum pt_jerr {
	PT_JE_OK = 0,
	PT_JE_EMPTY,		/* no value at all */
	PT_JE_SYNTAX,		/* not RFC 8259 JSON (includes raw NUL bytes) */
	PT_JE_UTF8,		/* invalid UTF-8 in a string */
	PT_JE_DEPTH,		/* nested deeper than allowed */
	PT_JE_DUPKEY,		/* the same key twice in one object */
	PT_JE_TRAILING,		/* bytes after the value */
	PT_JE_NOMEM
};

/*
 * Where: the byte offset, and the line and column an editor shows.  A line
 * ends at "\n" (so CRLF counts once, a lone CR not at all); the column
 * counts characters (UTF-8 sequences), not bytes, from 1.  The message
 * names all three: "... at line 3, column 7 (byte 42)".
 */
struct pt_json_error {
	enum pt_jerr	 code;
	size_t		 offset;	/* byte offset of the problem */
	size_t		 line;		/* from 1 */
	size_t		 column;	/* characters from 1 */
	char		 message[160];	/* human text, NUL-terminated */
};

#define PT_JSON_MAX_DEPTH 64

/*
 * Parse "len" bytes of untrusted text strictly: RFC 8259 grammar, valid
 * UTF-8, nesting at most "max_depth", no duplicate keys, the whole input
 * consumed (surrounding white space allowed).  On success *out holds one
 * reference (NULL if the text is "null").  On failure "err" says why.
 */
enum pt_err	 pt_json_parse(const char *text, size_t len, int max_depth,
		    pt_json **out, struct pt_json_error *err);
const char	*pt_jerr_code(enum pt_jerr);	/* "invalid_json", ... */

enum pt_jtype	 pt_json_type(const pt_json *);
const char	*pt_jtype_name(enum pt_jtype);	/* "string", "object", ... */

/* Members and elements (borrowed). */
pt_json		*pt_json_get(const pt_json *obj, const char *key);
int		 pt_json_get_ex(const pt_json *obj, const char *key,
		    pt_json **val);
size_t		 pt_json_len(const pt_json *);	/* array or object size */
pt_json		*pt_json_index(const pt_json *arr, size_t);

/*
 * Object iteration in insertion order:
 *	struct pt_json_iter it = { 0 };
 *	while (pt_json_iter_next(obj, &it, &key, &val)) ...
 */
struct pt_json_iter {
	void	*entry;
	int	 started;
};
int		 pt_json_iter_next(const pt_json *obj, struct pt_json_iter *,
		    const char **key, pt_json **val);

/* Scalars.  Strings are borrowed and may contain NUL: use the length. */
const char	*pt_json_str(const pt_json *, size_t *lenp);
int64_t		 pt_json_int(const pt_json *);
/* An integer above INT64_MAX (pt_json_int gives INT64_MAX for it). */
uint64_t	 pt_json_uint(const pt_json *);
double		 pt_json_double(const pt_json *);
int		 pt_json_bool(const pt_json *);

/* Constructors: each returns one reference, or NULL when out of memory. */
pt_json		*pt_json_new_object(void);
pt_json		*pt_json_new_array(void);
pt_json		*pt_json_new_str(const char *, size_t);
pt_json		*pt_json_new_cstr(const char *);
pt_json		*pt_json_new_int(int64_t);
pt_json		*pt_json_new_double(double);
pt_json		*pt_json_new_bool(int);

/*
 * Mutators.  pt_json_set and pt_json_append take ownership of "val", a
 * value: pass a constructor's result straight in, its failure (NULL) is
 * PT_ENOMEM here and nothing is stored.  The _null forms store JSON null;
 * the _copy forms a deep copy of "val" and the _ref forms "val" itself
 * (one more reference), a NULL "val" as null (a borrowed member may be
 * null), a failed copy as PT_ENOMEM.  PT_EINVAL when "obj" is not an
 * object ("arr" not an array).
 */
enum pt_err	 pt_json_set(pt_json *obj, const char *key, pt_json *val);
enum pt_err	 pt_json_set_null(pt_json *obj, const char *key);
/* The string "s", or null when "s" is NULL. */
enum pt_err	 pt_json_set_cstr(pt_json *obj, const char *key,
		    const char *s);
enum pt_err	 pt_json_set_copy(pt_json *obj, const char *key,
		    const pt_json *val);
enum pt_err	 pt_json_set_ref(pt_json *obj, const char *key, pt_json *val);
enum pt_err	 pt_json_append(pt_json *arr, pt_json *val);
enum pt_err	 pt_json_append_null(pt_json *arr);
enum pt_err	 pt_json_append_copy(pt_json *arr, const pt_json *val);
enum pt_err	 pt_json_append_ref(pt_json *arr, pt_json *val);
void		 pt_json_del(pt_json *obj, const char *key);

pt_json		*pt_json_ref(pt_json *);	/* add a reference */
void		 pt_json_put(pt_json *);	/* drop one (NULL ok) */
pt_json		*pt_json_copy(const pt_json *);	/* deep copy, NULL on ENOMEM */
int		 pt_json_equal(const pt_json *, const pt_json *);

/*
 * Serialise.  The text belongs to "j" and lives until "j" is changed or
 * freed.  PRETTY indents with two spaces.  "/" is never escaped.
 */
#define PT_JSON_PLAIN	0
#define PT_JSON_PRETTY	1
const char	*pt_json_text(pt_json *, int flags, size_t *lenp);
/*
 * Append the serialisation to a buffer.  PLAIN output comes from Porter's
 * own serialiser (the same text json-c writes, several times faster on
 * long strings): prefer it to pt_json_text on hot paths.
 */
enum pt_err	 pt_json_write(struct pt_buf *, pt_json *, int flags);

/*
 * Text of a scalar as an event type or id would use it: strings as they are,
 * integers in decimal, doubles in shortest form, booleans "true"/"false".
 * Returns PT_EINVAL for null, objects and arrays.
 */
enum pt_err	 pt_json_scalar_text(const pt_json *, struct pt_buf *);

/* Is "len" bytes of "s" well-formed UTF-8 (RFC 3629)? */
int		 pt_utf8_valid(const char *s, size_t len);

/* Trusted parse (our own stored data): no dup-key check. */
pt_json		*pt_json_parse_trusted(const char *text, size_t len);

#endif
