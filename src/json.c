/*
 * json.c - JSON values (see json.h).  The only file that includes json-c.
 *
 * Untrusted text goes through a strict validator first (RFC 8259 grammar,
 * UTF-8, depth, duplicate keys: things json-c either accepts or cannot
 * see), then through json-c in strict mode to build the tree.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "nitems.h"

struct vstate {
	const unsigned char	*p;
	const unsigned char	*end;
	const unsigned char	*start;
	int			 max_depth;
	struct pt_buf		 kbytes;	/* decoded keys, stacked */
	struct pt_buf		 sbuf;		/* a decoded string value */
	int			 trusted;	/* our own text: no dup check */
	struct pt_json_error	*err;
};

/*
 * Bytes that may stand in a string as they are: printable ASCII other
 * than '"' and '\\'.  Everything else takes the careful path.
 */
static unsigned char plain[256];

static void
init_plain(void)
{
	int c;

	for (c = 0x20; c < 0x80; c++)
		plain[c] = c != '"' && c != '\\';
}

/*
 * Fill st->err for a problem at "at": the byte offset, and the line and
 * column (json.h says how they count), found by one scan of the text
 * before it -- errors are rare, the happy path keeps no counters.
 * NOTE: everything before "at" was accepted, so it is valid UTF-8 (or,
 * for trusted text, counted as it comes).
 */
static int
verr(struct vstate *st, enum pt_jerr code, const unsigned char *at,
    const char *msg)
{
	const unsigned char *p, *bol = st->start;
	size_t line = 1, column = 1;

	for (p = st->start; p < at; p++)
		if (*p == '\n') {
			line++;
			bol = p + 1;
		}
	for (p = bol; p < at; p++)
		column += (*p & 0xc0) != 0x80;
	st->err->code = code;
	st->err->offset = (size_t)(at - st->start);
	st->err->line = line;
	st->err->column = column;
	snprintf(st->err->message, sizeof(st->err->message), "%s at line %zu, "
	    "column %zu (byte %zu)", msg, line, column, st->err->offset);
	return -1;
}

static void
skip_ws(struct vstate *st)
{
	while (st->p < st->end && (*st->p == ' ' || *st->p == '\t' ||
	    *st->p == '\n' || *st->p == '\r'))
		st->p++;
}

/*
 * Length of the UTF-8 sequence at "p" (at most "n" bytes available), or 0
 * if it is not well-formed (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF).
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

static int
read_u4(struct vstate *st, unsigned *out)
{
	unsigned v = 0;
	int i, h;

	if (st->end - st->p < 4)
		return verr(st, PT_JE_SYNTAX, st->p, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		if ((h = pt_hexval(st->p[i])) < 0)
			return verr(st, PT_JE_SYNTAX, st->p + i,
			    "bad hex digit in \\u escape");
		v = v << 4 | (unsigned)h;
	}
	st->p += 4;
	*out = v;
	return 0;
}

static enum pt_err
put_utf8(struct pt_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return pt_buf_add(b, u, n);
}

/*
 * Validate a string at st->p (which points at the opening quote) and, when
 * "out" is not NULL, make it a JSON string value.  When "key" is set the
 * decoded text is appended to st->kbytes instead.
 */
static int
v_string(struct vstate *st, int key, json_object **out)
{
	const unsigned char *run, *open;
	struct pt_buf *dst = key ? &st->kbytes : &st->sbuf;
	unsigned cp, lo;
	size_t n;
	int escaped = 0;

	open = ++st->p;
	run = st->p;
	if (!key)
		pt_buf_reset(&st->sbuf);
	for (;;) {
		while (st->p < st->end && plain[*st->p])
			st->p++;
		if (st->p >= st->end)
			return verr(st, PT_JE_SYNTAX, st->p, "unterminated string");
		if (*st->p == '"')
			break;
		if (*st->p < 0x20)
			return verr(st, PT_JE_SYNTAX, st->p,
			    "control character in string");
		if (*st->p == '\\') {
			escaped = 1;
			if (pt_buf_add(dst, run, (size_t)(st->p - run)) != PT_OK)
				return verr(st, PT_JE_NOMEM, st->p, "out of memory");
			st->p++;
			if (st->p >= st->end)
				return verr(st, PT_JE_SYNTAX, st->p,
				    "unterminated string");
			switch (*st->p++) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (read_u4(st, &cp) < 0)
					return -1;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return verr(st, PT_JE_UTF8, st->p - 6,
					    "unpaired surrogate escape");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (st->end - st->p < 6 || st->p[0] != '\\' ||
					    st->p[1] != 'u')
						return verr(st, PT_JE_UTF8, st->p - 6,
						    "unpaired surrogate escape");
					st->p += 2;
					if (read_u4(st, &lo) < 0)
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return verr(st, PT_JE_UTF8, st->p - 6,
						    "unpaired surrogate escape");
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
				}
				break;
			default:
				return verr(st, PT_JE_SYNTAX, st->p - 1,
				    "bad escape in string");
			}
			if (put_utf8(dst, cp) != PT_OK)
				return verr(st, PT_JE_NOMEM, st->p, "out of memory");
			run = st->p;
			continue;
		}
		if ((n = utf8_len(st->p, (size_t)(st->end - st->p))) == 0) {
			/* Our own records keep whatever bytes they were given. */
			if (!st->trusted)
				return verr(st, PT_JE_UTF8, st->p,
				    "invalid UTF-8");
			n = 1;
		}
		st->p += n;
	}
	if (key || escaped) {
		if (pt_buf_add(dst, run, (size_t)(st->p - run)) != PT_OK)
			return verr(st, PT_JE_NOMEM, st->p, "out of memory");
	}
	if (out != NULL) {
		/* Unescaped text is taken straight from the input. */
		*out = escaped ? json_object_new_string_len(st->sbuf.data ?
		    st->sbuf.data : "", (int)st->sbuf.len) :
		    json_object_new_string_len((const char *)open,
		    (int)(st->p - open));
		if (*out == NULL)
			return verr(st, PT_JE_NOMEM, st->p, "out of memory");
	}
	st->p++;
	return 0;
}

/*
 * Minus zero is the integer 0 that keeps its text "-0" (as a double keeps
 * its own), so that its text as an event type or id is the number as
 * sent.  json-c frees the text with free() (and copies it with strdup).
 */
static json_object *
minus_zero(void)
{
	json_object *o;
	char *t;

	if ((o = json_object_new_int64(0)) == NULL)
		return NULL;
	if ((t = strdup("-0")) == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_object_set_serializer(o, json_object_userdata_to_json_string, t,
	    json_object_free_userdata);
	return o;
}

/*
 * A number, as json-c's own tokener would make it: int64 when it is an
 * integer that fits, uint64 above that, else a double.  A double keeps
 * the text it was written as -- an integer too large for 64 bits too --
 * so that a number used as text (an event type, an id) is exactly what
 * the sender sent.
 */
static int
v_number(struct vstate *st, json_object **out)
{
	const unsigned char *p = st->p, *start = st->p;
	char text[64];
	int integral = 1;
	size_t n;

	if (p < st->end && *p == '-')
		p++;
	if (p >= st->end || *p < '0' || *p > '9')
		return verr(st, PT_JE_SYNTAX, p, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < st->end && *p >= '0' && *p <= '9')
			p++;
	if (p < st->end && *p == '.') {
		integral = 0;
		p++;
		if (p >= st->end || *p < '0' || *p > '9')
			return verr(st, PT_JE_SYNTAX, p, "bad number");
		while (p < st->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < st->end && (*p == 'e' || *p == 'E')) {
		integral = 0;
		p++;
		if (p < st->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= st->end || *p < '0' || *p > '9')
			return verr(st, PT_JE_SYNTAX, p, "bad number");
		while (p < st->end && *p >= '0' && *p <= '9')
			p++;
	}
	st->p = p;
	if (out == NULL)
		return 0;
	n = (size_t)(p - start);
	if (n >= sizeof(text)) {
		/* Too long for an integer: a double keeps the text. */
		char *big = pt_strndup((const char *)start, n);

		if (big == NULL)
			return verr(st, PT_JE_NOMEM, p, "out of memory");
		*out = json_object_new_double_s(strtod(big, NULL), big);
		pt_free(big);
	} else {
		memcpy(text, start, n);
		text[n] = '\0';
		if (integral) {
			char *end;

			errno = 0;
			if (text[0] != '-') {
				unsigned long long u = strtoull(text, &end, 10);

				*out = errno == 0 ? (u <= INT64_MAX ?
				    json_object_new_int64((int64_t)u) :
				    json_object_new_uint64(u)) :
				    json_object_new_double_s(strtod(text, NULL),
				    text);
			} else if (strcmp(text, "-0") == 0)
				*out = minus_zero();
			else {
				long long v = strtoll(text, &end, 10);

				*out = errno == 0 ? json_object_new_int64(v) :
				    json_object_new_double_s(strtod(text, NULL),
				    text);
			}
		} else
			*out = json_object_new_double_s(strtod(text, NULL), text);
	}
	if (*out == NULL)
		return verr(st, PT_JE_NOMEM, p, "out of memory");
	return 0;
}

static int v_value(struct vstate *, int, json_object **);

/*
 * An object.  A key is checked against the keys before it as soon as it
 * is read, so that a duplicate is reported at its own place, before
 * anything after it.  json-c's object is a hash table with a random seed:
 * the lookup costs what the insertion would have (which then skips its
 * own), and a million keys cannot be made to collide.
 */
static int
v_object(struct vstate *st, int depth, json_object **out)
{
	size_t kstart = st->kbytes.len, klen;
	const unsigned char *kat;
	json_object *obj, *val;
	const char *key;

	if ((obj = *out = json_object_new_object()) == NULL)
		return verr(st, PT_JE_NOMEM, st->p, "out of memory");
	st->p++;
	skip_ws(st);
	if (st->p < st->end && *st->p == '}') {
		st->p++;
		return 0;
	}
	for (;;) {
		size_t off;

		skip_ws(st);
		if (st->p >= st->end || *st->p != '"')
			return verr(st, PT_JE_SYNTAX, st->p, "expected a key");
		off = st->kbytes.len;
		kat = st->p;
		if (v_string(st, 1, NULL) < 0)
			return -1;
		klen = st->kbytes.len - off;
		/* json-c keys are C strings: a NUL would cut one short. */
		if (memchr(st->kbytes.data + off, '\0', klen) != NULL)
			return verr(st, PT_JE_SYNTAX, st->p, "NUL in an object "
			    "key");
		/* A NUL after each key: json-c's keys are C strings. */
		if (pt_buf_addc(&st->kbytes, '\0') != PT_OK)
			return verr(st, PT_JE_NOMEM, st->p, "out of memory");
		key = st->kbytes.data + off;
		if (!st->trusted && json_object_object_get_ex(obj, key, NULL)) {
			char msg[120];

			snprintf(msg, sizeof(msg), "duplicate key \"%.40s\"", key);
			return verr(st, PT_JE_DUPKEY, kat, msg);
		}
		skip_ws(st);
		if (st->p >= st->end || *st->p != ':')
			return verr(st, PT_JE_SYNTAX, st->p, "expected ':'");
		st->p++;
		val = NULL;
		if (v_value(st, depth, &val) < 0) {
			json_object_put(val);
			return -1;
		}
		/*
		 * The key may have moved with kbytes: take it by offset.
		 * Untrusted text was checked above, so its key is new; our
		 * own keeps json-c's last-wins lookup.
		 */
		if (json_object_object_add_ex(obj, st->kbytes.data + off, val,
		    st->trusted ? 0 : JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
			json_object_put(val);
			return verr(st, PT_JE_NOMEM, st->p, "out of memory");
		}
		skip_ws(st);
		if (st->p < st->end && *st->p == ',') {
			st->p++;
			continue;
		}
		if (st->p < st->end && *st->p == '}')
			break;
		return verr(st, PT_JE_SYNTAX, st->p, "expected ',' or '}'");
	}
	st->p++;
	st->kbytes.len = kstart;
	return 0;
}

static int
v_array(struct vstate *st, int depth, json_object **out)
{
	json_object *arr, *val;

	if ((arr = *out = json_object_new_array()) == NULL)
		return verr(st, PT_JE_NOMEM, st->p, "out of memory");
	st->p++;
	skip_ws(st);
	if (st->p < st->end && *st->p == ']') {
		st->p++;
		return 0;
	}
	for (;;) {
		val = NULL;
		if (v_value(st, depth, &val) < 0) {
			json_object_put(val);
			return -1;
		}
		if (json_object_array_add(arr, val) != 0) {
			json_object_put(val);
			return verr(st, PT_JE_NOMEM, st->p, "out of memory");
		}
		skip_ws(st);
		if (st->p < st->end && *st->p == ',') {
			st->p++;
			continue;
		}
		if (st->p < st->end && *st->p == ']') {
			st->p++;
			return 0;
		}
		return verr(st, PT_JE_SYNTAX, st->p, "expected ',' or ']'");
	}
}

static int
v_literal(struct vstate *st, const char *lit, json_object **out)
{
	size_t n = strlen(lit);

	if ((size_t)(st->end - st->p) < n || memcmp(st->p, lit, n) != 0)
		return verr(st, PT_JE_SYNTAX, st->p, "unexpected character");
	st->p += n;
	if (lit[0] == 'n')
		*out = NULL;
	else if ((*out = json_object_new_boolean(lit[0] == 't')) == NULL)
		return verr(st, PT_JE_NOMEM, st->p, "out of memory");
	return 0;
}

/*
 * One value at st->p, built into *out (NULL for JSON null).  On failure
 * *out holds whatever was built so far, for the caller to put.
 */
static int
v_value(struct vstate *st, int depth, json_object **out)
{
	*out = NULL;
	skip_ws(st);
	if (st->p >= st->end)
		return verr(st, PT_JE_SYNTAX, st->p, "unexpected end of input");
	switch (*st->p) {
	case '{':
	case '[':
		if (depth + 1 > st->max_depth)
			return verr(st, PT_JE_DEPTH, st->p, "nested too deep");
		return *st->p == '{' ? v_object(st, depth + 1, out) :
		    v_array(st, depth + 1, out);
	case '"':
		return v_string(st, 0, out);
	case 't':
		return v_literal(st, "true", out);
	case 'f':
		return v_literal(st, "false", out);
	case 'n':
		return v_literal(st, "null", out);
	default:
		if (*st->p == '-' || (*st->p >= '0' && *st->p <= '9'))
			return v_number(st, out);
		if (*st->p == '\0')
			return verr(st, PT_JE_SYNTAX, st->p, "NUL byte");
		return verr(st, PT_JE_SYNTAX, st->p, "unexpected character");
	}
}

/*
 * Parse "len" bytes strictly, building the json-c tree in the same pass:
 * 0 and *out, or -1 with "err" filled (and nothing left allocated).
 */
static int
parse_strict(const char *text, size_t len, int max_depth, int trusted,
    json_object **out, struct pt_json_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct vstate st;
	json_object *val = NULL;
	int rc = -1;

	pthread_once(&once, init_plain);
	*out = NULL;
	memset(&st, 0, sizeof(st));
	st.p = st.start = (const unsigned char *)text;
	st.end = st.p + len;
	st.max_depth = max_depth;
	st.trusted = trusted;
	st.err = err;
	skip_ws(&st);
	if (st.p >= st.end) {
		verr(&st, PT_JE_EMPTY, st.p, "no JSON value");
		goto out;
	}
	if (len > INT32_MAX) {
		verr(&st, PT_JE_SYNTAX, st.p, "document too large");
		goto out;
	}
	if (v_value(&st, 0, &val) < 0)
		goto out;
	skip_ws(&st);
	if (st.p != st.end) {
		verr(&st, PT_JE_TRAILING, st.p, "unexpected data after the value");
		goto out;
	}
	*out = val;
	val = NULL;
	rc = 0;
out:
	json_object_put(val);
	pt_buf_free(&st.kbytes);
	pt_buf_free(&st.sbuf);
	return rc;
}

int
pt_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_len(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

enum pt_err
pt_json_parse(const char *text, size_t len, int max_depth, pt_json **out,
    struct pt_json_error *err)
{
	memset(err, 0, sizeof(*err));
	if (max_depth <= 0 || max_depth > PT_JSON_MAX_DEPTH)
		max_depth = PT_JSON_MAX_DEPTH;
	if (parse_strict(text, len, max_depth, 0, out, err) < 0)
		return err->code == PT_JE_NOMEM ? PT_ENOMEM : PT_EINVAL;
	return PT_OK;
}

pt_json *
pt_json_parse_trusted(const char *text, size_t len)
{
	struct pt_json_error err;
	json_object *obj;

	/* The one-pass builder, without the duplicate-key check. */
	if (parse_strict(text, len, PT_JSON_MAX_DEPTH + 8, 1, &obj, &err) < 0)
		return NULL;
	return obj;
}

const char *
pt_jerr_code(enum pt_jerr e)
{
	switch (e) {
	case PT_JE_OK:
		return "ok";
	case PT_JE_EMPTY:
		return "empty_body";
	case PT_JE_UTF8:
		return "invalid_utf8";
	case PT_JE_DEPTH:
		return "too_deep";
	case PT_JE_DUPKEY:
		return "duplicate_key";
	case PT_JE_NOMEM:
		return "internal_error";
	case PT_JE_TRAILING:
	case PT_JE_SYNTAX:
	default:
		return "invalid_json";
	}
}

enum pt_jtype
pt_json_type(const pt_json *j)
{
	switch (json_object_get_type(j)) {
	case json_type_boolean:
		return PT_J_BOOL;
	case json_type_int:
		return PT_J_INT;
	case json_type_double:
		return PT_J_DOUBLE;
	case json_type_string:
		return PT_J_STRING;
	case json_type_object:
		return PT_J_OBJECT;
	case json_type_array:
		return PT_J_ARRAY;
	case json_type_null:
	default:
		return PT_J_NULL;
	}
}

const char *
pt_jtype_name(enum pt_jtype t)
{
	static const char *const names[] = {
		"null", "boolean", "integer", "number", "string", "object",
		"array"
	};

	return (size_t)t < nitems(names) ? names[t] : "?";
}

pt_json *
pt_json_get(const pt_json *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_get_ex(obj, key, &v);
	return v;
}

int
pt_json_get_ex(const pt_json *obj, const char *key, pt_json **val)
{
	json_object *v = NULL;
	int found;

	if (!json_object_is_type(obj, json_type_object)) {
		if (val)
			*val = NULL;
		return 0;
	}
	found = json_object_object_get_ex(obj, key, &v);
	if (val)
		*val = v;
	return found;
}

size_t
pt_json_len(const pt_json *j)
{
	if (json_object_is_type(j, json_type_array))
		return json_object_array_length(j);
	if (json_object_is_type(j, json_type_object))
		return (size_t)json_object_object_length(j);
	return 0;
}

pt_json *
pt_json_index(const pt_json *arr, size_t i)
{
	if (!json_object_is_type(arr, json_type_array) ||
	    i >= json_object_array_length(arr))
		return NULL;
	return json_object_array_get_idx(arr, i);
}

int
pt_json_iter_next(const pt_json *obj, struct pt_json_iter *it, const char **key,
    pt_json **val)
{
	struct lh_entry *e;

	if (!json_object_is_type(obj, json_type_object))
		return 0;
	if (!it->started) {
		e = lh_table_head(json_object_get_object(obj));
		it->started = 1;
	} else
		e = it->entry ? lh_entry_next((struct lh_entry *)it->entry) :
		    NULL;
	it->entry = e;
	if (e == NULL)
		return 0;
	*key = lh_entry_k(e);
	*val = lh_entry_v(e);
	return 1;
}

const char *
pt_json_str(const pt_json *j, size_t *lenp)
{
	if (!json_object_is_type(j, json_type_string)) {
		if (lenp)
			*lenp = 0;
		return NULL;
	}
	if (lenp)
		*lenp = (size_t)json_object_get_string_len(j);
	return json_object_get_string((json_object *)j);
}

int64_t
pt_json_int(const pt_json *j)
{
	return json_object_get_int64(j);
}

uint64_t
pt_json_uint(const pt_json *j)
{
	return json_object_get_uint64(j);
}

double
pt_json_double(const pt_json *j)
{
	return json_object_get_double(j);
}

int
pt_json_bool(const pt_json *j)
{
	return json_object_get_boolean(j);
}

pt_json *
pt_json_new_object(void)
{
	return pt_alloc_fault() ? NULL : json_object_new_object();
}

pt_json *
pt_json_new_array(void)
{
	return pt_alloc_fault() ? NULL : json_object_new_array();
}

pt_json *
pt_json_new_str(const char *s, size_t n)
{
	if (n > INT32_MAX || pt_alloc_fault())
		return NULL;
	return json_object_new_string_len(s, (int)n);
}

pt_json *
pt_json_new_cstr(const char *s)
{
	return pt_alloc_fault() ? NULL : json_object_new_string(s);
}

pt_json *
pt_json_new_int(int64_t v)
{
	return pt_alloc_fault() ? NULL : json_object_new_int64(v);
}

pt_json *
pt_json_new_double(double v)
{
	return pt_alloc_fault() ? NULL : json_object_new_double(v);
}

pt_json *
pt_json_new_bool(int v)
{
	return pt_alloc_fault() ? NULL : json_object_new_boolean(v != 0);
}

/*
 * Store "val" (owned; NULL for JSON null only when "null_ok") as member
 * "key" of "obj", or append it to "arr" when "obj" is NULL.
 */
static enum pt_err
store(pt_json *obj, const char *key, pt_json *arr, pt_json *val, int null_ok)
{
	enum pt_err rc = PT_EINVAL;

	if (obj != NULL ? !json_object_is_type(obj, json_type_object) :
	    !json_object_is_type(arr, json_type_array))
		goto fail;
	rc = PT_ENOMEM;
	if (val == NULL && !null_ok)
		goto fail;
	if ((obj != NULL ? json_object_object_add(obj, key, val) :
	    json_object_array_add(arr, val)) != 0)
		goto fail;
	return PT_OK;
fail:
	json_object_put(val);
	return rc;
}

enum pt_err
pt_json_set(pt_json *obj, const char *key, pt_json *val)
{
	return store(obj, key, NULL, val, 0);
}

enum pt_err
pt_json_set_null(pt_json *obj, const char *key)
{
	return store(obj, key, NULL, NULL, 1);
}

enum pt_err
pt_json_set_cstr(pt_json *obj, const char *key, const char *s)
{
	return s == NULL ? pt_json_set_null(obj, key) :
	    store(obj, key, NULL, pt_json_new_cstr(s), 0);
}

enum pt_err
pt_json_set_copy(pt_json *obj, const char *key, const pt_json *val)
{
	return val == NULL ? pt_json_set_null(obj, key) :
	    store(obj, key, NULL, pt_json_copy(val), 0);
}

enum pt_err
pt_json_set_ref(pt_json *obj, const char *key, pt_json *val)
{
	return store(obj, key, NULL, pt_json_ref(val), 1);
}

enum pt_err
pt_json_append(pt_json *arr, pt_json *val)
{
	return store(NULL, NULL, arr, val, 0);
}

enum pt_err
pt_json_append_null(pt_json *arr)
{
	return store(NULL, NULL, arr, NULL, 1);
}

enum pt_err
pt_json_append_copy(pt_json *arr, const pt_json *val)
{
	return val == NULL ? pt_json_append_null(arr) :
	    store(NULL, NULL, arr, pt_json_copy(val), 0);
}

enum pt_err
pt_json_append_ref(pt_json *arr, pt_json *val)
{
	return store(NULL, NULL, arr, pt_json_ref(val), 1);
}

void
pt_json_del(pt_json *obj, const char *key)
{
	if (json_object_is_type(obj, json_type_object))
		json_object_object_del(obj, key);
}

pt_json *
pt_json_ref(pt_json *j)
{
	return json_object_get(j);
}

void
pt_json_put(pt_json *j)
{
	json_object_put(j);
}

pt_json *
pt_json_copy(const pt_json *j)
{
	json_object *dst = NULL;

	if (j == NULL || pt_alloc_fault())
		return NULL;
	if (json_object_deep_copy((json_object *)j, &dst, NULL) != 0)
		return NULL;
	return dst;
}

int
pt_json_equal(const pt_json *a, const pt_json *b)
{
	return json_object_equal((json_object *)a, (json_object *)b);
}

const char *
pt_json_text(pt_json *j, int flags, size_t *lenp)
{
	int f = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;
	size_t n;

	f |= (flags & PT_JSON_PRETTY) ? JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	s = json_object_to_json_string_length(j, f, &n);
	if (lenp)
		*lenp = s ? n : 0;
	return s;
}

/*
 * A string literal.  Strings built from request bytes (header names, cut
 * messages) need not be UTF-8, and the output must stay JSON text (RFC 8259
 * section 8.1): pt_buf_add_json_str makes other bytes U+FFFD.
 */
static void
write_str(struct pt_buf *b, const char *s, size_t n)
{
	pt_buf_add_json_str(b, s, n);
}

/* Decimal text of an integer, without printf. */
static void
write_int(struct pt_buf *b, const json_object *j)
{
	int64_t v = json_object_get_int64(j);
	const char *s;
	size_t n;

	/* An integer that keeps its text (minus_zero). */
	if (json_object_get_userdata((json_object *)j) != NULL) {
		if ((s = json_object_to_json_string_length((json_object *)j,
		    JSON_C_TO_STRING_PLAIN, &n)) != NULL)
			pt_buf_add(b, s, n);
		else
			b->failed = 1;
		return;
	}

	/* Values above INT64_MAX are stored as uint64 by json-c. */
	if (v == INT64_MAX)
		pt_buf_add_uint(b, json_object_get_uint64(j));
	else
		pt_buf_add_int(b, v);
}

/* The compact serialisation of "j", as json-c's PLAIN would write it. */
static void
write_plain(struct pt_buf *b, const json_object *j)
{
	struct lh_entry *e;
	const char *s;
	size_t i, n;
	int first = 1;

	switch (json_object_get_type(j)) {
	case json_type_null:
		pt_buf_adds(b, "null");
		break;
	case json_type_boolean:
		pt_buf_adds(b, json_object_get_boolean(j) ? "true" : "false");
		break;
	case json_type_int:
		write_int(b, j);
		break;
	case json_type_double:
		/* json-c keeps the text a double was parsed from. */
		s = json_object_to_json_string_length((json_object *)j,
		    JSON_C_TO_STRING_PLAIN, &n);
		if (s != NULL)
			pt_buf_add(b, s, n);
		else
			b->failed = 1;
		break;
	case json_type_string:
		write_str(b, json_object_get_string((json_object *)j),
		    (size_t)json_object_get_string_len(j));
		break;
	case json_type_object:
		pt_buf_addc(b, '{');
		for (e = lh_table_head(json_object_get_object(j)); e;
		    e = lh_entry_next(e)) {
			if (!first)
				pt_buf_addc(b, ',');
			first = 0;
			s = lh_entry_k(e);
			write_str(b, s, strlen(s));
			pt_buf_addc(b, ':');
			write_plain(b, lh_entry_v(e));
		}
		pt_buf_addc(b, '}');
		break;
	case json_type_array:
		pt_buf_addc(b, '[');
		n = json_object_array_length(j);
		for (i = 0; i < n; i++) {
			if (i)
				pt_buf_addc(b, ',');
			write_plain(b, json_object_array_get_idx(j, i));
		}
		pt_buf_addc(b, ']');
		break;
	}
}

enum pt_err
pt_json_write(struct pt_buf *b, pt_json *j, int flags)
{
	const char *s;
	size_t n;

	if (flags & PT_JSON_PRETTY) {
		if ((s = pt_json_text(j, flags, &n)) == NULL)
			return PT_ENOMEM;
		return pt_buf_add(b, s, n);
	}
	write_plain(b, j);
	return b->failed ? PT_ENOMEM : PT_OK;
}

enum pt_err
pt_json_scalar_text(const pt_json *j, struct pt_buf *b)
{
	const char *s;
	size_t n;

	switch (pt_json_type(j)) {
	case PT_J_STRING:
		s = pt_json_str(j, &n);
		return pt_buf_add(b, s, n);
	case PT_J_BOOL:
		return pt_buf_adds(b, pt_json_bool(j) ? "true" : "false");
	case PT_J_INT:
	case PT_J_DOUBLE:
		if ((s = json_object_to_json_string_length((json_object *)j,
		    JSON_C_TO_STRING_PLAIN, &n)) == NULL)
			return PT_ENOMEM;
		return pt_buf_add(b, s, n);
	default:
		return PT_EINVAL;
	}
}
