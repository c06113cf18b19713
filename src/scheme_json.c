/*
 * scheme_json.c - a scheme as JSON: compiled from the configuration's
 * vocabulary (pt_scheme_from_json), and printed in it (pt_scheme_to_json).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "scheme.h"
#include "scheme_int.h"
#include "sig.h"
#include "nitems.h"

static const char *const kind_names[KIND__MAX] = {
	"hmac", "bearer", "basic", "header"
};
static const char *const enc_names[ENC__MAX] = { "hex", "base64" };
static const char *const unit_names[UNIT__MAX] = { "s", "ms" };
static const char *const dir_names[DIR__MAX] = { "both", "past" };
static const char *const secret_names[SEC__MAX] = {
	"raw", "whsec", "v1,whsec"
};

/*
 * Compiling a scheme from JSON.  Each field of the vocabulary has a parser
 * that checks one value and stores it; pt_scheme_from_json() then checks
 * the fields against each other (check_scheme).  Errors are written as
 * "<JSON pointer>: <why>", the pointer relative to the description and
 * empty for the description itself, so that a caller can prefix its own
 * pointer ("/sources/0/scheme" + "/mac: ...").
 */


/* Keep a copy of "len" bytes of "p" in the scheme; NULL on ENOMEM. */
static const char *
keep(struct pt_scheme *s, const char *p, size_t len, int lowercase)
{
	char *c;
	size_t i;

	if (s->nstore == SCHEME_MAX_STORE || (c = pt_strndup(p, len)) == NULL)
		return NULL;
	if (lowercase)
		for (i = 0; i < len; i++)
			c[i] = scheme_lower(c[i]);
	s->store[s->nstore++] = c;
	return c;
}

/* Is "p" a header name or element key: 1..64 of [A-Za-z0-9_-]? */
static int
valid_name(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > SCHEME_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
			return 0;
	return 1;
}

/* Is "p" of "len" bytes all within "lo".."~"? */
static int
all_printable(const char *p, size_t len, char lo)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < lo || p[i] > '~')
			return 0;
	return 1;
}

/* Index of the string "j" in "names", or -1. */
static int
enum_value(const pt_json *j, const char *const *names, size_t n)
{
	const char *str;
	size_t len, i;

	if ((str = pt_json_str(j, &len)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], str, len) == 0)
			return (int)i;
	return -1;
}

/* "\"a\", \"b\" or \"c\"" into "buf". */
static const char *
choices(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t i, used = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		w = snprintf(buf + used, len - used, "%s\"%s\"",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* "key" escaped for a JSON pointer (RFC 6901: "~" as "~0", "/" as "~1"). */
static const char *
ptr_escape(const char *key, char *buf, size_t len)
{
	size_t i = 0;

	for (; *key != '\0' && i + 3 < len; key++) {
		if (*key == '~' || *key == '/') {
			buf[i++] = '~';
			buf[i++] = *key == '~' ? '0' : '1';
		} else
			buf[i++] = *key;
	}
	buf[i] = '\0';
	return buf;
}

static enum pt_err
enum_field(const pt_json *j, const char *ptr, const char *const *names,
    size_t n, int *out, char *eb, size_t el)
{
	char list[128];
	int v;

	if ((v = enum_value(j, names, n)) < 0)
		return scheme_fail(eb, el, "%s: must be %s%s", ptr, n > 2 ?
		    "one of " : "", choices(names, n, list, sizeof(list)));
	*out = v;
	return PT_OK;
}

/* A header name at "ptr", kept lower-case in *out. */
static enum pt_err
name_field(struct pt_scheme *s, const pt_json *j, const char *ptr,
    const char **out, char *eb, size_t el)
{
	const char *str;
	size_t len;

	if ((str = pt_json_str(j, &len)) == NULL || !valid_name(str, len))
		return scheme_fail(eb, el, "%s: must be a header name (1 to %d "
		    "letters, digits, \"-\" or \"_\")", ptr, SCHEME_MAX_NAME);
	if ((*out = keep(s, str, len, 1)) == NULL)
		return PT_ENOMEM;
	return PT_OK;
}

static enum pt_err
f_mac(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	static const char *const names[] = {
		"hmac-sha1", "hmac-sha256", "hmac-sha512"
	};
	enum pt_err rc;
	int v = 0;

	if ((rc = enum_field(j, "/mac", names, 3, &v, eb, el)) == PT_OK)
		s->mac = (enum pt_mac)v;
	return rc;
}

static enum pt_err
f_encoding(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	enum pt_err rc;
	int v = 0;

	if ((rc = enum_field(j, "/encoding", enc_names, ENC__MAX, &v, eb,
	    el)) == PT_OK)
		s->encoding = (enum encoding)v;
	return rc;
}

/* "signature_header": a name, or an array of 1..4 names (any present). */
static enum pt_err
f_sig_header(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	char ptr[48];
	size_t i, n;
	enum pt_err rc;

	if (pt_json_type(j) == PT_J_STRING) {
		s->nheaders = 0;
		if ((rc = name_field(s, j, "/signature_header", &s->headers[0],
		    eb, el)) != PT_OK)
			return rc;
		s->nheaders = 1;
		return PT_OK;
	}
	if (pt_json_type(j) != PT_J_ARRAY || (n = pt_json_len(j)) == 0 ||
	    n > SCHEME_MAX_HEADERS)
		return scheme_fail(eb, el, "/signature_header: must be a "
		    "header name or an array of 1 to %d header names",
		    SCHEME_MAX_HEADERS);
	s->nheaders = 0;
	for (i = 0; i < n; i++) {
		snprintf(ptr, sizeof(ptr), "/signature_header/%zu", i);
		if ((rc = name_field(s, pt_json_index(j, i), ptr,
		    &s->headers[i], eb, el)) != PT_OK)
			return rc;
	}
	s->nheaders = n;
	return PT_OK;
}

static enum pt_err
f_separator(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	const char *str;
	size_t len;

	if (j == NULL) {
		s->separator = '\0';
		return PT_OK;
	}
	if ((str = pt_json_str(j, &len)) == NULL || len != 1 ||
	    strchr(" ,;", str[0]) == NULL)
		return scheme_fail(eb, el, "/separator: must be \" \", \",\", "
		    "\";\" or null");
	s->separator = str[0];
	return PT_OK;
}

static enum pt_err
f_prefix(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	const char *str;
	size_t len;

	if ((str = pt_json_str(j, &len)) == NULL || len > SCHEME_MAX_PREFIX ||
	    !all_printable(str, len, '!'))
		return scheme_fail(eb, el, "/prefix: must be a string of at "
		    "most %d printable characters without spaces",
		    SCHEME_MAX_PREFIX);
	if ((s->prefix = keep(s, str, len, 0)) == NULL)
		return PT_ENOMEM;
	return PT_OK;
}

static enum pt_err
f_signed(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	const char *str;
	size_t len;

	if ((str = pt_json_str(j, &len)) == NULL || len == 0 ||
	    len > SCHEME_MAX_TEMPLATE || !all_printable(str, len, ' '))
		return scheme_fail(eb, el, "/signed: must be a string of 1 to "
		    "%d printable characters", SCHEME_MAX_TEMPLATE);
	if ((s->signed_tpl = keep(s, str, len, 0)) == NULL)
		return PT_ENOMEM;
	if (scheme_tpl_tokens(s->signed_tpl) == -1)
		return scheme_fail(eb, el, "/signed: unknown token or "
		    "unbalanced braces (tokens: {body} {timestamp} {id} {url} "
		    "{params}, at most %d)", SCHEME_MAX_TOKENS);
	return PT_OK;
}

/*
 * "timestamp": null, or {"header": name} or {"element": key} with an
 * optional "unit" ("s", the default, or "ms").  The object replaces the
 * whole timestamp description.
 */
static enum pt_err
f_timestamp(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	struct pt_json_iter it = { 0 };
	const char *key, *str;
	char esc[80];
	pt_json *val;
	size_t len;
	enum pt_err rc;
	int v = 0;

	s->ts_source = TS_NONE;
	s->ts_name = NULL;
	s->ts_unit = UNIT_S;
	if (j == NULL)
		return PT_OK;
	if (pt_json_type(j) != PT_J_OBJECT)
		return scheme_fail(eb, el, "/timestamp: must be an object "
		    "({\"header\": ...} or {\"element\": ...}) or null");
	while (pt_json_iter_next(j, &it, &key, &val)) {
		if (strcmp(key, "header") == 0 || strcmp(key, "element") == 0) {
			if (s->ts_source != TS_NONE)
				return scheme_fail(eb, el, "/timestamp: "
				    "\"header\" and \"element\" exclude each "
				    "other");
			if (key[0] == 'h') {
				s->ts_source = TS_HEADER;
				rc = name_field(s, val, "/timestamp/header",
				    &s->ts_name, eb, el);
				if (rc != PT_OK)
					return rc;
				continue;
			}
			s->ts_source = TS_ELEMENT;
			if ((str = pt_json_str(val, &len)) == NULL ||
			    !valid_name(str, len))
				return scheme_fail(eb, el,
				    "/timestamp/element: must be an element "
				    "key (1 to %d letters, digits, \"-\" or "
				    "\"_\")", SCHEME_MAX_NAME);
			if ((s->ts_name = keep(s, str, len, 0)) == NULL)
				return PT_ENOMEM;
		} else if (strcmp(key, "unit") == 0) {
			if ((rc = enum_field(val, "/timestamp/unit",
			    unit_names, UNIT__MAX, &v, eb, el)) != PT_OK)
				return rc;
			s->ts_unit = (enum ts_unit)v;
		} else
			return scheme_fail(eb, el, "/timestamp/%s: unknown "
			    "field", ptr_escape(key, esc, sizeof(esc)));
	}
	if (s->ts_source == TS_NONE)
		return scheme_fail(eb, el, "/timestamp: needs \"header\" or "
		    "\"element\"");
	return PT_OK;
}

/* "id": null, or {"header": name}. */
static enum pt_err
f_id(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	struct pt_json_iter it = { 0 };
	const char *key;
	char esc[80];
	pt_json *val;
	enum pt_err rc;

	s->id_header = NULL;
	if (j == NULL)
		return PT_OK;
	if (pt_json_type(j) != PT_J_OBJECT)
		return scheme_fail(eb, el, "/id: must be an object "
		    "({\"header\": ...}) or null");
	while (pt_json_iter_next(j, &it, &key, &val)) {
		if (strcmp(key, "header") != 0)
			return scheme_fail(eb, el, "/id/%s: unknown field",
			    ptr_escape(key, esc, sizeof(esc)));
		if ((rc = name_field(s, val, "/id/header", &s->id_header, eb,
		    el)) != PT_OK)
			return rc;
	}
	if (s->id_header == NULL)
		return scheme_fail(eb, el, "/id: needs \"header\"");
	return PT_OK;
}

static enum pt_err
f_tolerance(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	int64_t v;

	if (pt_json_type(j) != PT_J_INT || (v = pt_json_int(j)) < 0 ||
	    v > SCHEME_MAX_TOLERANCE)
		return scheme_fail(eb, el, "/tolerance_seconds: must be an "
		    "integer from 0 (no window) to %lld", SCHEME_MAX_TOLERANCE);
	s->tolerance = v;
	return PT_OK;
}

static enum pt_err
f_direction(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	enum pt_err rc;
	int v = 0;

	if ((rc = enum_field(j, "/tolerance_direction", dir_names, DIR__MAX,
	    &v, eb, el)) == PT_OK)
		s->direction = (enum direction)v;
	return rc;
}

static enum pt_err
f_secret(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	enum pt_err rc;
	int v = 0;

	if ((rc = enum_field(j, "/secret_encoding", secret_names, SEC__MAX,
	    &v, eb, el)) == PT_OK)
		s->secret_enc = (enum secret_enc)v;
	return rc;
}

static enum pt_err
f_header(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	enum pt_err rc;

	if ((rc = name_field(s, j, "/header", &s->headers[0], eb, el)) ==
	    PT_OK)
		s->nheaders = 1;
	return rc;
}

#define K_HMAC		(1u << KIND_HMAC)
#define K_STATIC	((1u << KIND_BEARER) | (1u << KIND_BASIC) | \
			    (1u << KIND_HEADER))


/* The vocabulary; "preset" and "kind" are read before the others. */
static const struct field {
	const char	*name;
	unsigned	 kinds;		/* K_* where the field applies */
	int		 nullable;	/* null clears it */
	enum pt_err	(*parse)(struct pt_scheme *, const pt_json *, char *,
			    size_t);
} fields[] = {
	{ "preset",		K_HMAC | K_STATIC, 0, NULL },
	{ "kind",		K_HMAC | K_STATIC, 0, NULL },
	{ "mac",		K_HMAC, 0, f_mac },
	{ "encoding",		K_HMAC, 0, f_encoding },
	{ "signature_header",	K_HMAC, 0, f_sig_header },
	{ "separator",		K_HMAC, 1, f_separator },
	{ "prefix",		K_HMAC, 0, f_prefix },
	{ "signed",		K_HMAC, 0, f_signed },
	{ "timestamp",		K_HMAC, 1, f_timestamp },
	{ "id",			K_HMAC, 1, f_id },
	{ "tolerance_seconds",	K_HMAC, 0, f_tolerance },
	{ "tolerance_direction", K_HMAC, 0, f_direction },
	{ "secret_encoding",	K_HMAC, 0, f_secret },
	{ "header",		K_STATIC, 0, f_header },
};
#define F_TOLERANCE	10	/* indexes into fields[] */
#define F_DIRECTION	11

/*
 * Check the fields of "s" against each other; "seen" has bit i set for
 * each fields[i] the description gave.
 */
static enum pt_err
check_scheme(const struct pt_scheme *s, unsigned seen, char *eb, size_t el)
{
	int toks;

	if (s->kind != KIND_HMAC)
		return PT_OK;
	if (s->mac == PT_MAC__MAX)
		return scheme_fail(eb, el, "/mac: required");
	if (s->nheaders == 0)
		return scheme_fail(eb, el, "/signature_header: required");
	toks = scheme_tpl_tokens(s->signed_tpl);
	if (!(toks & (1 << TOK_BODY | 1 << TOK_PARAMS)))
		return scheme_fail(eb, el, "/signed: must include {body} (or "
		    "{params})");
	if ((toks & (1 << TOK_PARAMS)) && !(toks & (1 << TOK_URL)))
		return scheme_fail(eb, el, "/signed: {params} needs {url}");
	if ((toks & (1 << TOK_TIMESTAMP)) && s->ts_source == TS_NONE)
		return scheme_fail(eb, el, "/signed: uses {timestamp} but "
		    "there is no \"timestamp\"");
	if (!(toks & (1 << TOK_TIMESTAMP)) && s->ts_source != TS_NONE)
		return scheme_fail(eb, el, "/timestamp: an unsigned timestamp "
		    "proves nothing: put {timestamp} in \"signed\"");
	if ((toks & (1 << TOK_ID)) && s->id_header == NULL)
		return scheme_fail(eb, el, "/signed: uses {id} but there is no "
		    "\"id\"");
	if (!(toks & (1 << TOK_ID)) && s->id_header != NULL)
		return scheme_fail(eb, el, "/id: an unsigned id proves "
		    "nothing: put {id} in \"signed\"");
	if (s->ts_source == TS_ELEMENT && s->separator == '\0')
		return scheme_fail(eb, el, "/timestamp/element: needs a "
		    "\"separator\" to split the signature header into "
		    "elements");
	if (s->separator != '\0' && strchr(s->prefix, s->separator) != NULL)
		return scheme_fail(eb, el, "/prefix: must not contain the "
		    "separator");
	if (s->ts_source == TS_NONE && (seen & (1u << F_TOLERANCE)))
		return scheme_fail(eb, el, "/tolerance_seconds: there is no "
		    "timestamp");
	if (s->ts_source == TS_NONE && (seen & (1u << F_DIRECTION)))
		return scheme_fail(eb, el, "/tolerance_direction: there is no "
		    "timestamp");
	return PT_OK;
}

/* Start a scheme of kind "k" from nothing (no preset). */
static void
scheme_defaults(struct pt_scheme *s, enum kind k)
{
	memset(s, 0, sizeof(*s));
	s->name = "custom";
	s->kind = k;
	s->mac = PT_MAC__MAX;		/* required */
	s->encoding = ENC_HEX;
	s->prefix = "";
	s->signed_tpl = k == KIND_HMAC ? "{body}" : "";
	s->tolerance = 300;
	s->direction = DIR_BOTH;
	s->secret_enc = SEC_RAW;
	if (k == KIND_BEARER || k == KIND_BASIC) {
		s->headers[0] = "authorization";
		s->nheaders = 1;
	} else if (k == KIND_HEADER) {
		s->headers[0] = "x-webhook-secret";
		s->nheaders = 1;
	}
}

enum pt_err
pt_scheme_from_json(const pt_json *desc, struct pt_scheme **out,
    char *errbuf, size_t errlen)
{
	struct pt_json_iter it = { 0 };
	struct pt_scheme *s = NULL;
	const struct pt_scheme *base = NULL;
	const struct field *f;
	const char *key, *str;
	char esc[80], list[256];
	pt_json *val;
	size_t len, i;
	unsigned seen = 0;
	enum pt_err rc = PT_EINVAL;
	int k = 0;

	*out = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (pt_json_type(desc) == PT_J_STRING) {
		str = pt_json_str(desc, &len);
		if (strlen(str) != len ||
		    (base = pt_scheme_preset(str)) == NULL)
			return scheme_fail(errbuf, errlen, ": unknown preset "
			    "\"%.64s\"", str);
		/* Presets are never written through "out". */
		*out = (struct pt_scheme *)base;
		return PT_OK;
	}
	if (pt_json_type(desc) != PT_J_OBJECT)
		return scheme_fail(errbuf, errlen, ": must be a preset name or "
		    "an object");
	if ((s = pt_calloc(1, sizeof(*s))) == NULL)
		return PT_ENOMEM;

	if (pt_json_get_ex(desc, "preset", &val)) {
		if ((str = pt_json_str(val, &len)) == NULL ||
		    strlen(str) != len ||
		    (base = pt_scheme_preset(str)) == NULL) {
			const char *const *names = pt_scheme_preset_names();

			for (i = 0; names[i] != NULL; i++)
				;
			rc = scheme_fail(errbuf, errlen, "/preset: must be one "
			    "of %s", choices(names, i, list, sizeof(list)));
			goto out;
		}
		*s = *base;
	} else
		scheme_defaults(s, KIND_HMAC);
	s->owned = 1;
	if (pt_json_get_ex(desc, "kind", &val)) {
		if ((rc = enum_field(val, "/kind", kind_names, KIND__MAX, &k,
		    errbuf, errlen)) != PT_OK)
			goto out;
		if (base != NULL && (enum kind)k != base->kind) {
			rc = scheme_fail(errbuf, errlen, "/kind: preset \"%s\" "
			    "is of kind \"%s\"", base->name,
			    kind_names[base->kind]);
			goto out;
		}
		if (base == NULL)
			scheme_defaults(s, (enum kind)k);
		s->owned = 1;
	}

	while (pt_json_iter_next(desc, &it, &key, &val)) {
		f = NULL;
		for (i = 0; i < nitems(fields); i++)
			if (strcmp(fields[i].name, key) == 0)
				f = &fields[i];
		if (f == NULL) {
			rc = scheme_fail(errbuf, errlen, "/%s: unknown field",
			    ptr_escape(key, esc, sizeof(esc)));
			goto out;
		}
		if (f->parse == NULL)
			continue;
		if (!(f->kinds & (1u << s->kind))) {
			rc = scheme_fail(errbuf, errlen, "/%s: not used by "
			    "kind \"%s\"", key, kind_names[s->kind]);
			goto out;
		}
		if (val == NULL && !f->nullable) {
			rc = scheme_fail(errbuf, errlen, "/%s: must not be "
			    "null", key);
			goto out;
		}
		if ((rc = f->parse(s, val, errbuf, errlen)) != PT_OK)
			goto out;
		seen |= 1u << (f - fields);
	}
	rc = check_scheme(s, seen, errbuf, errlen);
out:
	if (rc != PT_OK) {
		s->owned = 1;	/* even if the preset copy cleared it */
		pt_scheme_free(s);
		return rc;
	}
	*out = s;
	return PT_OK;
}

/* Set o[key] = v, a constructor's result: 0, or -1 if it or the set failed. */
static int
jset(pt_json *o, const char *key, pt_json *v)
{
	return pt_json_set(o, key, v) == PT_OK ? 0 : -1;
}

/* {"<key>": name} plus an optional "unit". */
static pt_json *
jsource(const char *key, const char *name, const char *unit)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	if (jset(o, key, pt_json_new_cstr(name)) == -1 ||
	    (unit != NULL && jset(o, "unit", pt_json_new_cstr(unit)) == -1)) {
		pt_json_put(o);
		return NULL;
	}
	return o;
}

/*
 * The description in the vocabulary of pt_scheme_from_json(), with every
 * field that applies spelled out ("preset" only for a scheme made from
 * one).  Returns one reference, or NULL when out of memory.
 */
pt_json *
pt_scheme_to_json(const struct pt_scheme *s)
{
	pt_json *o, *a, *v;
	char sep[2];
	size_t i;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	if (strcmp(s->name, "custom") != 0 &&
	    jset(o, "preset", pt_json_new_cstr(s->name)) == -1)
		goto fail;
	if (jset(o, "kind", pt_json_new_cstr(kind_names[s->kind])) == -1)
		goto fail;
	if (s->kind != KIND_HMAC) {
		if (jset(o, "header", pt_json_new_cstr(s->headers[0])) == -1)
			goto fail;
		return o;
	}
	if (jset(o, "mac", pt_json_new_cstr(pt_mac_name(s->mac))) == -1 ||
	    jset(o, "encoding", pt_json_new_cstr(enc_names[s->encoding])) == -1)
		goto fail;
	if (s->nheaders == 1) {
		if (jset(o, "signature_header",
		    pt_json_new_cstr(s->headers[0])) == -1)
			goto fail;
	} else {
		if ((a = pt_json_new_array()) == NULL)
			goto fail;
		for (i = 0; i < s->nheaders; i++)
			if ((v = pt_json_new_cstr(s->headers[i])) == NULL ||
			    pt_json_append(a, v) != PT_OK) {
				pt_json_put(a);
				goto fail;
			}
		if (jset(o, "signature_header", a) == -1)
			goto fail;
	}
	sep[0] = s->separator;
	sep[1] = '\0';
	if (s->separator != '\0' &&
	    jset(o, "separator", pt_json_new_cstr(sep)) == -1)
		goto fail;
	if (s->prefix[0] != '\0' &&
	    jset(o, "prefix", pt_json_new_cstr(s->prefix)) == -1)
		goto fail;
	if (jset(o, "signed", pt_json_new_cstr(s->signed_tpl)) == -1)
		goto fail;
	if (s->ts_source != TS_NONE &&
	    jset(o, "timestamp", jsource(s->ts_source == TS_HEADER ?
	    "header" : "element", s->ts_name, unit_names[s->ts_unit])) == -1)
		goto fail;
	if (s->id_header != NULL &&
	    jset(o, "id", jsource("header", s->id_header, NULL)) == -1)
		goto fail;
	if (s->ts_source != TS_NONE &&
	    (jset(o, "tolerance_seconds",
	    pt_json_new_int(s->tolerance)) == -1 ||
	    jset(o, "tolerance_direction",
	    pt_json_new_cstr(dir_names[s->direction])) == -1))
		goto fail;
	if (jset(o, "secret_encoding",
	    pt_json_new_cstr(secret_names[s->secret_enc])) == -1)
		goto fail;
	return o;
fail:
	pt_json_put(o);
	return NULL;
}
