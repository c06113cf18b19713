/*
 * scheme.c - the signature engine (see scheme.h).
 *
 * One verifier driven by a "struct pt_scheme": a description of how a
 * sender authenticates its requests.  The built-in presets are entries of
 * one static table; pt_scheme_from_json() compiles the same description
 * from config.  Provider details: the reference notes "signatures.md".
 *
 * Rules kept everywhere below:
 *  - the expected signature is computed and ENCODED (lower-case hex or
 *    padded base64) and compared as text with the received one, length
 *    first, then pt_memeql_sec(); a hex candidate is lower-cased first
 *    (hex is case-insensitive, RFC 4648 section 8), base64 is compared as
 *    received;
 *  - every candidate signature is tried against every active key, and an
 *    unreadable candidate next to a good one is simply skipped; only when
 *    none matched are the expired keys tried, to report key_expired;
 *  - a header is read at its first occurrence, everywhere: a request may
 *    carry one name twice (CGI gives "svix-id" and "svix_id" one name),
 *    and the verifier must read the value the rest of Porter reads;
 *  - timestamps are all-digit decimal, parsed with overflow checks, and
 *    signed as the text received;
 *  - decoded secrets and computed MACs are wiped with pt_wipe().
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "form.h"
#include "ids.h"
#include "json.h"
#include "scheme.h"
#include "sig.h"
#include "util.h"

#define SCHEME_MAX_HEADERS	4	/* alternative signature headers */
#define SCHEME_MAX_CANDIDATES	16	/* signatures tried */
#define SCHEME_MAX_STORE	12	/* owned strings of a scheme */
#define SCHEME_MAX_NAME		64	/* header or element name */
#define SCHEME_MAX_PREFIX	32
#define SCHEME_MAX_TEMPLATE	128
#define SCHEME_MAX_TOKENS	8	/* {...} in one template */
/* Parts of a signed message: {url} is 3, literals go between tokens. */
#define SCHEME_MAX_IOV		(SCHEME_MAX_TOKENS * 4 + 1)
#define SCHEME_MAX_SECRET	1024	/* bytes of a secret as a key */
#define SCHEME_MAX_TOLERANCE	(10LL * 366 * 86400)
#define SCHEME_MAX_TS_TEXT	32	/* digits of a timestamp */
#define SCHEME_ENC_MAX		(PT_BASE64_LEN(PT_MAC_MAX_LEN) + 1)

enum kind {
	KIND_HMAC,		/* a MAC over a signed string */
	KIND_BEARER,		/* Authorization: Bearer <secret> */
	KIND_BASIC,		/* Authorization: Basic base64(<secret>) */
	KIND_HEADER,		/* <header>: <secret> */
	KIND__MAX
};

enum encoding {
	ENC_HEX,		/* lower-case hex */
	ENC_BASE64,		/* standard, padded base64 */
	ENC__MAX
};

enum ts_source {
	TS_NONE,
	TS_HEADER,		/* a header of its own (webhook-timestamp) */
	TS_ELEMENT,		/* key=value in the signature header */
	TS__MAX
};

enum ts_unit {
	UNIT_S,
	UNIT_MS,
	UNIT__MAX
};

enum direction {
	DIR_BOTH,		/* reject too old and too new */
	DIR_PAST,		/* reject too old only (Stripe's SDKs) */
	DIR__MAX
};

enum secret_enc {
	SEC_RAW,		/* the configured bytes are the key */
	SEC_WHSEC,		/* base64, optionally after "whsec_" */
	SEC_V1_WHSEC,		/* same after an optional "v1," */
	SEC__MAX
};

/* Tokens of a signed-string template. */
enum tok {
	TOK_BODY,		/* the raw body */
	TOK_TIMESTAMP,		/* the timestamp text as received */
	TOK_ID,			/* the message id as received */
	TOK_URL,		/* the request URL, with and without port */
	TOK_PARAMS,		/* sorted form parameters (Twilio) */
	TOK__MAX,
	TOK_LITERAL = TOK__MAX
};

struct pt_scheme {
	const char	*name;		/* preset name, or "custom" */
	int		 owned;		/* from from_json: free */
	enum kind	 kind;
	enum pt_mac	 mac;
	enum encoding	 encoding;
	const char	*headers[SCHEME_MAX_HEADERS]; /* lower-case names */
	size_t		 nheaders;
	char		 separator;	/* '\0': one signature */
	const char	*prefix;	/* before each signature, or "" */
	const char	*signed_tpl;	/* "{timestamp}.{body}" */
	enum ts_source	 ts_source;
	const char	*ts_name;	/* header name or element key */
	enum ts_unit	 ts_unit;
	const char	*id_header;	/* NULL: no message id */
	int64_t		 tolerance;	/* seconds; 0: no window */
	enum direction	 direction;
	enum secret_enc	 secret_enc;
	char		*store[SCHEME_MAX_STORE]; /* owned strings */
	size_t		 nstore;
};

/* A piece of borrowed text. */
struct span {
	const char	*p;
	size_t		 len;
};

static const char *const kind_names[KIND__MAX] = {
	"hmac", "bearer", "basic", "header"
};
static const char *const enc_names[ENC__MAX] = { "hex", "base64" };
static const char *const unit_names[UNIT__MAX] = { "s", "ms" };
static const char *const dir_names[DIR__MAX] = { "both", "past" };
static const char *const secret_names[SEC__MAX] = {
	"raw", "whsec", "v1,whsec"
};
static const char *const tok_names[TOK__MAX] = {
	"body", "timestamp", "id", "url", "params"
};

#define HMAC_PRESET(n, m, e, h0, h1, sep, pre, tpl, tss, tsn, unit, idh,  \
	    tol, dir, sec)						\
	{ .name = (n), .kind = KIND_HMAC, .mac = (m), .encoding = (e),	\
	  .headers = { (h0), (h1) }, .nheaders = (h1) == NULL ? 1 : 2,	\
	  .separator = (sep), .prefix = (pre), .signed_tpl = (tpl),	\
	  .ts_source = (tss), .ts_name = (tsn), .ts_unit = (unit),	\
	  .id_header = (idh), .tolerance = (tol), .direction = (dir),	\
	  .secret_enc = (sec) }
#define STATIC_PRESET(n, k, h)						\
	{ .name = (n), .kind = (k), .headers = { (h) }, .nheaders = 1,	\
	  .prefix = "", .signed_tpl = "" }

/*
 * The presets, one line per provider (signatures.md, "Summary table").
 * NOTE: Stripe's SDKs only reject old timestamps; the others reject both
 * ways.  WorkOS timestamps are milliseconds.  Stripe's key is the whole
 * "whsec_..." text; Standard Webhooks base64-decodes what follows it.
 */
static const struct pt_scheme presets[] = {
	HMAC_PRESET("knock", PT_MAC_HMAC_SHA256, ENC_HEX,
	    "x-knock-signature", NULL, '\0', "", "{body}",
	    TS_NONE, NULL, UNIT_S, NULL, 0, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("stripe", PT_MAC_HMAC_SHA256, ENC_HEX,
	    "stripe-signature", NULL, ',', "v1=", "{timestamp}.{body}",
	    TS_ELEMENT, "t", UNIT_S, NULL, 300, DIR_PAST, SEC_RAW),
	HMAC_PRESET("standard-webhooks", PT_MAC_HMAC_SHA256, ENC_BASE64,
	    "webhook-signature", NULL, ' ', "v1,", "{id}.{timestamp}.{body}",
	    TS_HEADER, "webhook-timestamp", UNIT_S, "webhook-id",
	    300, DIR_BOTH, SEC_WHSEC),
	HMAC_PRESET("svix", PT_MAC_HMAC_SHA256, ENC_BASE64,
	    "svix-signature", NULL, ' ', "v1,", "{id}.{timestamp}.{body}",
	    TS_HEADER, "svix-timestamp", UNIT_S, "svix-id",
	    300, DIR_BOTH, SEC_WHSEC),
	HMAC_PRESET("clerk", PT_MAC_HMAC_SHA256, ENC_BASE64,
	    "svix-signature", NULL, ' ', "v1,", "{id}.{timestamp}.{body}",
	    TS_HEADER, "svix-timestamp", UNIT_S, "svix-id",
	    300, DIR_BOTH, SEC_WHSEC),
	HMAC_PRESET("supabase-auth-hook", PT_MAC_HMAC_SHA256, ENC_BASE64,
	    "webhook-signature", NULL, ' ', "v1,", "{id}.{timestamp}.{body}",
	    TS_HEADER, "webhook-timestamp", UNIT_S, "webhook-id",
	    300, DIR_BOTH, SEC_V1_WHSEC),
	HMAC_PRESET("workos", PT_MAC_HMAC_SHA256, ENC_HEX,
	    "workos-signature", NULL, ',', "v1=", "{timestamp}.{body}",
	    TS_ELEMENT, "t", UNIT_MS, NULL, 180, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("github", PT_MAC_HMAC_SHA256, ENC_HEX,
	    "x-hub-signature-256", NULL, '\0', "sha256=", "{body}",
	    TS_NONE, NULL, UNIT_S, NULL, 0, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("shopify", PT_MAC_HMAC_SHA256, ENC_BASE64,
	    "x-shopify-hmac-sha256", "shopify-hmac-sha256", '\0', "",
	    "{body}", TS_NONE, NULL, UNIT_S, NULL, 0, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("slack", PT_MAC_HMAC_SHA256, ENC_HEX,
	    "x-slack-signature", NULL, '\0', "v0=", "v0:{timestamp}:{body}",
	    TS_HEADER, "x-slack-request-timestamp", UNIT_S, NULL,
	    300, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("segment", PT_MAC_HMAC_SHA1, ENC_HEX,
	    "x-signature", "x-segment-signature", '\0', "", "{body}",
	    TS_NONE, NULL, UNIT_S, NULL, 0, DIR_BOTH, SEC_RAW),
	HMAC_PRESET("twilio", PT_MAC_HMAC_SHA1, ENC_BASE64,
	    "x-twilio-signature", NULL, '\0', "", "{url}{params}",
	    TS_NONE, NULL, UNIT_S, NULL, 0, DIR_BOTH, SEC_RAW),
	STATIC_PRESET("bearer", KIND_BEARER, "authorization"),
	STATIC_PRESET("basic", KIND_BASIC, "authorization"),
	STATIC_PRESET("shared-header", KIND_HEADER, "x-webhook-secret"),
};

static const char *const preset_names[] = {
	"knock", "stripe", "standard-webhooks", "svix", "clerk",
	"supabase-auth-hook", "workos", "github", "shopify", "slack",
	"segment", "twilio", "bearer", "basic", "shared-header", NULL
};

/* Log names of the reasons (scheme.h, pt_sig_reason_name). */
static const char *const reason_names[PT_SIG__MAX] = {
	"verified", "missing_header", "missing_header", "malformed_header",
	"malformed_header", "timestamp_out_of_tolerance",
	"no_matching_signature", "no_active_key", "key_expired"
};
static const char *const knock_reason_names[PT_SIG__MAX] = {
	"verified", "missing_signature", "missing_header",
	"malformed_signature", "malformed_header",
	"timestamp_out_of_tolerance", "no_matching_key", "no_active_key",
	"key_expired"
};

/*
 * Small text helpers.  Header names are compared without regard to ASCII
 * case (locale-independent, unlike strcasecmp), and with "_" equal to "-":
 * CGI passes both as "_" in HTTP_* variables, which the FastCGI loop turns
 * into "-", so a configured "x_sig" must match the "x-sig" that arrives.
 */
static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
name_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (lower(*a) != lower(*b) && !((*a == '_' || *a == '-') &&
		    (*b == '_' || *b == '-')))
			return 0;
	return *a == *b;
}

/* Are the "n" bytes at "a" equal to the lower-case "b", in any case? */
static int
name_eq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != b[i])
			return 0;
	return 1;
}

static int
span_has_prefix(struct span s, const char *pre, size_t prelen)
{
	return s.len >= prelen && memcmp(s.p, pre, prelen) == 0;
}

/* Does "s" start with "word" (any case) followed by a space or tab? */
static int
span_has_word(struct span s, const char *word)
{
	size_t n = strlen(word);

	if (s.len <= n || !name_eq_n(s.p, word, n))
		return 0;
	return s.p[n] == ' ' || s.p[n] == '\t';
}

static struct span
span_trim(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/*
 * Next element of "v" split on "sep" ('\0': the whole value is one),
 * trimmed of spaces and tabs; empty elements are skipped.  "*pos" is the
 * scan position (start at 0).
 * Returns 0 when there are no more elements.
 */
static int
next_element(struct span v, char sep, size_t *pos, struct span *out)
{
	size_t start;

	while (*pos < v.len) {
		start = *pos;
		while (*pos < v.len && (sep == '\0' || v.p[*pos] != sep))
			(*pos)++;
		out->p = v.p + start;
		out->len = *pos - start;
		if (*pos < v.len)
			(*pos)++;	/* the separator */
		*out = span_trim(*out);
		if (out->len > 0)
			return 1;
	}
	return 0;
}

/* First header called "name" (any case), or NULL. */
static const struct pt_header *
find_header(const struct pt_sig_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name != NULL &&
		    name_eq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

static struct span
header_value(const struct pt_header *h)
{
	struct span v;

	v.p = h->value != NULL ? h->value : "";
	v.len = h->value != NULL ? h->value_len : 0;
	return v;
}

/*
 * Parse an all-digit decimal of at most SCHEME_MAX_TS_TEXT digits into
 * "*out" with an overflow check.  No sign, no space, no fraction ("1.0").
 * Returns 0, or -1.
 */
static int
parse_digits(struct span t, int64_t *out)
{
	int64_t v = 0;
	size_t i;
	int d;

	if (t.len == 0 || t.len > SCHEME_MAX_TS_TEXT)
		return -1;
	for (i = 0; i < t.len; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return -1;
		d = t.p[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Is the signed timestamp "ts" (unix seconds) acceptable at "now"?
 * NOTE: the differences are taken in uint64_t: with ts >= 0 the true
 * difference is below 2^64, so nothing overflows.
 */
static int
in_window(const struct pt_scheme *s, int64_t ts, int64_t now)
{
	uint64_t d;

	if (s->tolerance == 0)
		return 1;
	if (ts >= now) {
		if (s->direction == DIR_PAST)
			return 1;
		d = (uint64_t)ts - (uint64_t)now;
	} else
		d = (uint64_t)now - (uint64_t)ts;
	return d <= (uint64_t)s->tolerance;
}

static int
key_active(const struct pt_secret *k, int64_t now)
{
	return k->len > 0 && (k->expires_at == 0 || k->expires_at > now);
}

/*
 * The key bytes of secret "data"/"len" under the scheme's secret encoding:
 * the text itself ("raw"), or the base64 after an optional "whsec_" (and,
 * for "v1,whsec", an optional "v1," before that) decoded into "buf".
 * Returns 0 and sets *key and *keylen, or -1 if the secret cannot be a key
 * (empty, too long, bad base64).
 */
static int
secret_key(const struct pt_scheme *s, const uint8_t *data, size_t len,
    uint8_t buf[SCHEME_MAX_SECRET], const uint8_t **key, size_t *keylen)
{
	const char *t = (const char *)data;

	if (len == 0)
		return -1;
	if (s->secret_enc == SEC_RAW) {
		*key = data;
		*keylen = len;
		return 0;
	}
	if (s->secret_enc == SEC_V1_WHSEC && len >= 3 &&
	    memcmp(t, "v1,", 3) == 0) {
		t += 3;
		len -= 3;
	}
	if (len >= 6 && memcmp(t, "whsec_", 6) == 0) {
		t += 6;
		len -= 6;
	}
	if (pt_base64_decode(t, len, buf, SCHEME_MAX_SECRET, keylen) == -1 ||
	    *keylen == 0)
		return -1;
	*key = buf;
	return 0;
}

/* Length of the encoded MAC as it appears on the wire. */
static size_t
encoded_len(const struct pt_scheme *s)
{
	size_t n = pt_mac_len(s->mac);

	return s->encoding == ENC_HEX ? 2 * n : PT_BASE64_LEN(n);
}

static size_t
encode(const struct pt_scheme *s, const uint8_t *mac, char *out)
{
	size_t n = pt_mac_len(s->mac);

	if (s->encoding == ENC_HEX) {
		pt_hex_encode(mac, n, out);
		return 2 * n;
	}
	return pt_base64_encode(mac, n, out);
}

/*
 * Could "c" be the encoded MAC at all (right length and alphabet)?  Only
 * sorts bad candidates out for the reason; says nothing about secrets.
 */
static int
well_formed(const struct pt_scheme *s, struct span c)
{
	size_t i;
	char ch;

	if (c.len != encoded_len(s))
		return 0;
	for (i = 0; i < c.len; i++) {
		ch = c.p[i];
		if (s->encoding == ENC_HEX) {
			if (!((ch >= '0' && ch <= '9') ||
			    (ch >= 'a' && ch <= 'f') ||
			    (ch >= 'A' && ch <= 'F')))
				return 0;
		} else if (!((ch >= 'A' && ch <= 'Z') ||
		    (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '+' || ch == '/' || ch == '='))
			return 0;
	}
	return 1;
}

/*
 * Signed-string templates: literal text with {body}, {timestamp}, {id},
 * {url} and {params}.  tpl_next() returns the next piece from "*pos":
 * TOK_LITERAL with the text in "lit", a token, or -1 at the end; -2 for
 * a syntax error (unknown token, unbalanced braces).
 */
static int
tpl_next(const char *tpl, size_t *pos, struct span *lit)
{
	size_t start = *pos, end, i;

	if (tpl[start] == '\0')
		return -1;
	if (tpl[start] == '{') {
		end = start + 1;
		while (tpl[end] != '\0' && tpl[end] != '}')
			end++;
		if (tpl[end] != '}')
			return -2;
		for (i = 0; i < TOK__MAX; i++)
			if (strlen(tok_names[i]) == end - start - 1 &&
			    memcmp(tpl + start + 1, tok_names[i],
			    end - start - 1) == 0) {
				*pos = end + 1;
				return (int)i;
			}
		return -2;
	}
	for (end = start; tpl[end] != '\0' && tpl[end] != '{'; end++)
		if (tpl[end] == '}')
			return -2;
	lit->p = tpl + start;
	lit->len = end - start;
	*pos = end;
	return TOK_LITERAL;
}

/* Bit mask of the tokens "tpl" uses, or -1 if it is not a template. */
static int
tpl_tokens(const char *tpl)
{
	struct span lit;
	size_t pos = 0, n = 0;
	int t, mask = 0;

	while ((t = tpl_next(tpl, &pos, &lit)) != -1) {
		if (t == -2)
			return -1;
		if (t != TOK_LITERAL) {
			if (++n > SCHEME_MAX_TOKENS)
				return -1;
			mask |= 1 << t;
		}
	}
	return mask;
}

/* The request URL in the forms Twilio may have signed (signatures.md). */
struct url_form {
	struct span	 head;		/* URL up to the port */
	const char	*mid;		/* a default port, or "" */
	struct span	 tail;		/* the rest */
};

/*
 * Twilio signs the URL it called, inconsistently with or without the
 * default port, so twilio-python's RequestValidator tries both: the URL
 * with a port (the one given, else 443/80 by scheme) and without any.
 * Fills "f" and returns how many distinct forms there are (1 or 2).
 * A URL that does not parse as scheme://authority... is used as given.
 */
static size_t
url_forms(const char *url, struct url_form f[2])
{
	size_t len = strlen(url), a, end, host, colon, i;
	const char *sep = strstr(url, "://");
	const char *defport = NULL;

	f[0].head.p = url;
	f[0].head.len = len;
	f[0].mid = "";
	f[0].tail.p = url + len;
	f[0].tail.len = 0;
	if (sep == NULL)
		return 1;
	a = (size_t)(sep - url) + 3;
	for (end = a; end < len && url[end] != '/' && url[end] != '?' &&
	    url[end] != '#'; end++)
		continue;
	host = a;
	for (i = a; i < end; i++)
		if (url[i] == '@')
			host = i + 1;
	colon = end;
	if (host < end && url[host] == '[') {
		for (i = host; i < end && url[i] != ']'; i++)
			continue;
		if (i + 1 < end && url[i + 1] == ':')
			colon = i + 1;
	} else {
		for (i = host; i < end; i++)
			if (url[i] == ':')
				colon = i;
	}
	if (colon < end) {
		/* Has a port: as given, and without it. */
		f[1].head.p = url;
		f[1].head.len = colon;
		f[1].mid = "";
		f[1].tail.p = url + end;
		f[1].tail.len = len - end;
		return 2;
	}
	if ((size_t)(sep - url) == 5 && name_eq_n(url, "https", 5))
		defport = ":443";
	else if ((size_t)(sep - url) == 4 && name_eq_n(url, "http", 4))
		defport = ":80";
	if (defport == NULL)
		return 1;
	f[1].head.p = url;
	f[1].head.len = end;
	f[1].mid = defport;
	f[1].tail.p = url + end;
	f[1].tail.len = len - end;
	return 2;
}

/* One decoded form parameter; the text lives in form_params()' buffer. */
struct param {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
param_cmp(const void *x, const void *y)
{
	const struct param *a = x, *b = y;
	int c;

	if ((c = cmp_bytes(a->name, a->nlen, b->name, b->nlen)) != 0)
		return c;
	return cmp_bytes(a->val, a->vlen, b->val, b->vlen);
}

/*
 * Twilio's {params}: the form parameters of "body", decoded, sorted by
 * name and then by value, repeated pairs dropped, appended to "out" as
 * name then value with no separator (twilio-python RequestValidator,
 * compute_signature).  A pair without "=" has an empty value.
 * Returns PT_OK, PT_EINVAL for a bad %-escape, or PT_ENOMEM.
 * NOTE: byte order of UTF-8 is code point order, which Python sorts by.
 */
static enum pt_err
form_params(const uint8_t *body, size_t len, struct pt_buf *out)
{
	const char *b = (const char *)body;
	struct pt_form_field f;
	struct param *params = NULL;
	char *text = NULL;
	size_t npairs = 1, n = 0, used = 0, i, pos = 0, dlen, bad;
	enum pt_err rc = PT_ENOMEM;

	for (i = 0; i < len; i++)
		if (b[i] == '&')
			npairs++;
	if ((params = pt_calloc(npairs, sizeof(*params))) == NULL ||
	    (text = pt_malloc(len + 1)) == NULL)
		goto out;
	rc = PT_EINVAL;
	/* The fields as form.c splits and decodes them for body.* paths. */
	while (pt_form_next(b, len, &pos, &f)) {
		params[n].name = text + used;
		if (pt_form_decode(f.name, f.nlen, text + used, &dlen, &bad) ==
		    -1)
			goto out;
		params[n].nlen = dlen;
		used += dlen;
		params[n].val = text + used;
		if (pt_form_decode(f.value, f.vlen, text + used, &dlen, &bad) ==
		    -1)
			goto out;
		params[n].vlen = dlen;
		used += dlen;
		n++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), param_cmp);
	rc = PT_ENOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0 && param_cmp(&params[i - 1], &params[i]) == 0)
			continue;
		if (pt_buf_add(out, params[i].name, params[i].nlen) != PT_OK ||
		    pt_buf_add(out, params[i].val, params[i].vlen) != PT_OK)
			goto out;
	}
	rc = PT_OK;
out:
	pt_free(params);
	pt_free(text);
	return rc;
}

/* The value of the query parameter "bodySHA256" of "url", if it has one. */
static int
url_body_hash(const char *url, struct span *out)
{
	const char *q = strchr(url, '?'), *frag;
	struct span query, e;
	size_t pos = 0;

	if (q == NULL)
		return 0;
	query.p = q + 1;
	frag = strchr(query.p, '#');
	query.len = frag != NULL ? (size_t)(frag - query.p) : strlen(query.p);
	while (next_element(query, '&', &pos, &e))
		if (span_has_prefix(e, "bodySHA256=", 11)) {
			out->p = e.p + 11;
			out->len = e.len - 11;
			return 1;
		}
	return 0;
}

/* What the tokens of a template stand for in one request. */
struct signed_in {
	struct span		 ts;
	struct span		 id;
	const uint8_t		*body;
	size_t			 body_len;
	const struct url_form	*url;
	struct span		 params;
};

static void
add_part(struct pt_iov *iov, size_t *n, const void *p, size_t len)
{
	if (len == 0 || *n == SCHEME_MAX_IOV)
		return;
	iov[*n].data = p;
	iov[*n].len = len;
	(*n)++;
}

/*
 * The signed message of template "tpl" as parts for pt_mac(); returns the
 * count.  Empty parts are left out.
 * NOTE: the template was checked when the scheme was made, so at most
 * SCHEME_MAX_TOKENS tokens and as many literals plus one: it fits.
 */
static size_t
signed_parts(const char *tpl, const struct signed_in *in,
    struct pt_iov iov[SCHEME_MAX_IOV])
{
	struct span lit;
	size_t pos = 0, n = 0;
	int t;

	while ((t = tpl_next(tpl, &pos, &lit)) >= 0) {
		switch (t) {
		case TOK_LITERAL:
			add_part(iov, &n, lit.p, lit.len);
			break;
		case TOK_BODY:
			add_part(iov, &n, in->body, in->body_len);
			break;
		case TOK_TIMESTAMP:
			add_part(iov, &n, in->ts.p, in->ts.len);
			break;
		case TOK_ID:
			add_part(iov, &n, in->id.p, in->id.len);
			break;
		case TOK_URL:
			if (in->url == NULL)
				break;
			add_part(iov, &n, in->url->head.p, in->url->head.len);
			add_part(iov, &n, in->url->mid, strlen(in->url->mid));
			add_part(iov, &n, in->url->tail.p, in->url->tail.len);
			break;
		case TOK_PARAMS:
			add_part(iov, &n, in->params.p, in->params.len);
			break;
		default:
			break;
		}
	}
	return n;
}

/*
 * Does "key" sign the message "iov" to one of the "ncand" candidates?
 * The expected signature is encoded and compared as text with each
 * candidate of the same length, all of them, in constant time.
 */
static int
match_key(const struct pt_scheme *s, const uint8_t *key, size_t keylen,
    const struct pt_iov *iov, size_t niov, const struct span *cand,
    size_t ncand)
{
	uint8_t mac[PT_MAC_MAX_LEN];
	char enc[SCHEME_ENC_MAX];
	size_t elen, i;
	int match = 0;

	pt_mac(s->mac, key, keylen, iov, niov, mac);
	elen = encode(s, mac, enc);
	for (i = 0; i < ncand; i++)
		if (cand[i].len == elen)
			match |= pt_memeql_sec(cand[i].p, enc, elen);
	pt_wipe(mac, sizeof(mac));
	pt_wipe(enc, sizeof(enc));
	return match;
}

/*
 * Try the keys: "match" says whether one key signs the request (1), not
 * (0), or cannot be a key of the scheme (-1, skipped).  The first active
 * key that matches verifies; with none, the expired keys are tried too,
 * only to name the reason: a sender still signing with a key the operator
 * retired hears key_expired, not no_matching_*.
 */
static enum pt_sig_reason
try_keys(const struct pt_secret *keys, size_t nkeys, int64_t now,
    int (*match)(void *, const struct pt_secret *), void *arg,
    struct pt_sig_result *res)
{
	size_t k, nactive = 0;
	int m;

	for (k = 0; k < nkeys; k++) {
		if (!key_active(&keys[k], now) ||
		    (m = match(arg, &keys[k])) == -1)
			continue;
		nactive++;
		if (m) {
			res->key_index = (int)k;
			return PT_SIG_VERIFIED;
		}
	}
	for (k = 0; k < nkeys; k++)
		if (keys[k].len > 0 && !key_active(&keys[k], now) &&
		    match(arg, &keys[k]) == 1)
			return PT_SIG_KEY_EXPIRED;
	return nactive > 0 ? PT_SIG_NO_MATCH : PT_SIG_NO_ACTIVE_KEY;
}

/* Could "id" be a message id: 1..255 bytes, no control characters? */
static int
id_ok(struct span id)
{
	size_t i;

	if (id.len == 0 || id.len >= sizeof(((struct pt_sig_result *)0)->id))
		return 0;
	for (i = 0; i < id.len; i++)
		if ((unsigned char)id.p[i] < 0x20 || id.p[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * Copy candidate "c" into "buf" (room for SCHEME_ENC_MAX bytes) in the
 * form the expected signature is encoded in: hex lower-cased, base64 as
 * received.  The candidate is the sender's text, not a secret: branching
 * on it leaks nothing.  Returns the copy.
 */
static struct span
normalise(const struct pt_scheme *s, struct span c, char *buf)
{
	struct span out;
	size_t i;

	for (i = 0; i < c.len && i < SCHEME_ENC_MAX; i++)
		buf[i] = s->encoding == ENC_HEX ? lower(c.p[i]) : c.p[i];
	out.p = buf;
	out.len = i;
	return out;
}

/* What a MAC key is tried against (verify_hmac, hmac_match). */
struct hmac_try {
	const struct pt_scheme	*s;
	struct signed_in	*in;
	const struct url_form	*forms;
	size_t			 nforms;
	int			 toks;
	const struct span	*cand;
	size_t			 ncand;
};

/* try_keys() callback: does key "k" sign the message to a candidate? */
static int
hmac_match(void *arg, const struct pt_secret *k)
{
	struct hmac_try *t = arg;
	struct pt_iov iov[SCHEME_MAX_IOV];
	uint8_t keybuf[SCHEME_MAX_SECRET];
	const uint8_t *key;
	size_t keylen, niov, i;
	int matched = 0;

	if (secret_key(t->s, k->data, k->len, keybuf, &key, &keylen) == -1)
		return -1;
	for (i = 0; i < t->nforms; i++) {
		t->in->url = (t->toks & (1 << TOK_URL)) ? &t->forms[i] : NULL;
		niov = signed_parts(t->s->signed_tpl, t->in, iov);
		matched |= match_key(t->s, key, keylen, iov, niov, t->cand,
		    t->ncand);
	}
	if (key == keybuf)
		pt_wipe(keybuf, keylen);
	return matched;
}

/*
 * Verify a MAC scheme.  Order: the signature header(s) (missing, or no
 * readable candidate: MISSING/MALFORMED_SIGNATURE), the timestamp and id
 * (MISSING/MALFORMED_HEADER; an element timestamp is part of the signature
 * header), the window (TIMESTAMP), the URL and body hash for Twilio, then
 * every candidate against the keys (try_keys).
 * NOTE: running out of memory while form-decoding a Twilio body fails
 * closed as PT_SIG_NO_MATCH.
 */
static enum pt_sig_reason
verify_hmac(const struct pt_scheme *s, const struct pt_sig_request *req,
    const struct pt_secret *keys, size_t nkeys, struct pt_sig_result *res)
{
	struct span cand[SCHEME_MAX_CANDIDATES], v, e, hash;
	struct span ts = { "", 0 };
	struct url_form forms[2];
	struct signed_in in;
	struct hmac_try try;
	struct pt_buf params = { 0 };
	uint8_t digest[PT_SHA256_LEN];
	char hex[2 * PT_SHA256_LEN], hashbuf[SCHEME_ENC_MAX];
	char candbuf[SCHEME_MAX_CANDIDATES][SCHEME_ENC_MAX];
	const struct pt_header *h;
	size_t ncand = 0, nforms = 1, nts = 0;
	size_t plen = strlen(s->prefix), tslen, i, pos;
	int found = 0, toks;
	int64_t t = 0;
	enum pt_sig_reason reason;

	memset(&in, 0, sizeof(in));
	in.body = req->body;
	in.body_len = req->body_len;
	toks = tpl_tokens(s->signed_tpl);
	tslen = s->ts_source == TS_ELEMENT ? strlen(s->ts_name) : 0;

	/* Candidates, and an element timestamp, from the signature headers. */
	for (i = 0; i < s->nheaders; i++) {
		if ((h = find_header(req, s->headers[i])) == NULL)
			continue;
		found = 1;
		v = header_value(h);
		pos = 0;
		while (next_element(v, s->separator, &pos, &e)) {
			if (tslen > 0 && e.len > tslen &&
			    memcmp(e.p, s->ts_name, tslen) == 0 &&
			    e.p[tslen] == '=') {
				ts.p = e.p + tslen + 1;
				ts.len = e.len - tslen - 1;
				nts++;
				continue;
			}
			if (!span_has_prefix(e, s->prefix, plen))
				continue;
			e.p += plen;
			e.len -= plen;
			if (well_formed(s, e) && ncand < SCHEME_MAX_CANDIDATES) {
				cand[ncand] = normalise(s, e, candbuf[ncand]);
				ncand++;
			}
		}
	}
	if (!found)
		return PT_SIG_MISSING_SIGNATURE;
	if (ncand == 0)
		return PT_SIG_MALFORMED_SIGNATURE;

	/* The timestamp and the message id. */
	if (s->ts_source == TS_HEADER) {
		if ((h = find_header(req, s->ts_name)) == NULL)
			return PT_SIG_MISSING_HEADER;
		ts = header_value(h);
		if (parse_digits(ts, &t) == -1)
			return PT_SIG_MALFORMED_HEADER;
	} else if (s->ts_source == TS_ELEMENT) {
		if (nts != 1 || parse_digits(ts, &t) == -1)
			return PT_SIG_MALFORMED_SIGNATURE;
	}
	if (s->id_header != NULL) {
		if ((h = find_header(req, s->id_header)) == NULL)
			return PT_SIG_MISSING_HEADER;
		in.id = header_value(h);
		if (!id_ok(in.id))
			return PT_SIG_MALFORMED_HEADER;
		memcpy(res->id, in.id.p, in.id.len);
		res->id[in.id.len] = '\0';
	}
	if (s->ts_source != TS_NONE) {
		in.ts = ts;
		res->timestamp = s->ts_unit == UNIT_MS ? t / 1000 : t;
		if (!in_window(s, res->timestamp, req->now))
			return PT_SIG_TIMESTAMP;
	}

	/* Twilio: the URL forms, and the body as parameters or a hash. */
	if (toks & (1 << TOK_URL)) {
		if (req->url == NULL)
			return PT_SIG_MISSING_HEADER;
		nforms = url_forms(req->url, forms);
	}
	reason = PT_SIG_NO_MATCH;
	if ((toks & (1 << TOK_PARAMS)) && req->url != NULL) {
		if (url_body_hash(req->url, &hash)) {
			pt_sha256(req->body, req->body_len, digest);
			pt_hex_encode(digest, sizeof(digest), hex);
			if (hash.len != sizeof(hex))
				goto out;
			for (i = 0; i < hash.len; i++)
				hashbuf[i] = lower(hash.p[i]);
			if (!pt_memeql_sec(hashbuf, hex, sizeof(hex)))
				goto out;
		} else if (form_params(req->body, req->body_len,
		    &params) != PT_OK)
			goto out;
		in.params.p = params.data;
		in.params.len = params.len;
	}

	try.s = s;
	try.in = &in;
	try.forms = forms;
	try.nforms = nforms;
	try.toks = toks;
	try.cand = cand;
	try.ncand = ncand;
	reason = try_keys(keys, nkeys, req->now, hmac_match, &try, res);
out:
	pt_buf_free(&params);
	return reason;
}

/* What a static credential is tried against (verify_static). */
struct static_try {
	const struct pt_scheme	*s;
	const struct span	*cand;
	size_t			 ncand;
};

/*
 * try_keys() callback: is key "k" one of the candidates?  Basic compares
 * base64(secret) with the header's base64 as text.
 */
static int
static_match(void *arg, const struct pt_secret *k)
{
	struct static_try *t = arg;
	char enc[PT_BASE64_LEN(SCHEME_MAX_SECRET)];
	const void *want = k->data;
	size_t wlen = k->len, i;
	int matched = 0;

	if (t->s->kind == KIND_BASIC) {
		if (wlen > SCHEME_MAX_SECRET)
			return -1;
		wlen = pt_base64_encode(k->data, wlen, enc);
		want = enc;
	}
	for (i = 0; i < t->ncand; i++)
		if (t->cand[i].len == wlen)
			matched |= pt_memeql_sec(t->cand[i].p, want, wlen);
	if (t->s->kind == KIND_BASIC)
		pt_wipe(enc, wlen);
	return matched;
}

/*
 * Verify a static credential: the token of "Authorization: Bearer <t>"
 * (scheme word in any case, RFC 7235), the base64 of "Authorization:
 * Basic <b64>" compared with base64(secret) as text, or the whole value
 * of a named header.  Every candidate header against the keys.
 */
static enum pt_sig_reason
verify_static(const struct pt_scheme *s, const struct pt_sig_request *req,
    const struct pt_secret *keys, size_t nkeys, struct pt_sig_result *res)
{
	struct span cand[SCHEME_MAX_CANDIDATES], v;
	struct static_try try;
	const struct pt_header *h;
	const char *word = NULL;
	size_t ncand = 0, i;
	int found = 0;

	if (s->kind == KIND_BEARER)
		word = "bearer";
	else if (s->kind == KIND_BASIC)
		word = "basic";
	for (i = 0; i < s->nheaders; i++) {
		if ((h = find_header(req, s->headers[i])) == NULL)
			continue;
		found = 1;
		v = span_trim(header_value(h));
		if (word != NULL) {
			if (!span_has_word(v, word))
				continue;
			v.p += strlen(word);
			v.len -= strlen(word);
			v = span_trim(v);
		}
		if (v.len > 0 && ncand < SCHEME_MAX_CANDIDATES)
			cand[ncand++] = v;
	}
	if (!found)
		return PT_SIG_MISSING_SIGNATURE;
	if (ncand == 0)
		return PT_SIG_MALFORMED_SIGNATURE;
	try.s = s;
	try.cand = cand;
	try.ncand = ncand;
	return try_keys(keys, nkeys, req->now, static_match, &try, res);
}

enum pt_sig_reason
pt_scheme_verify(const struct pt_scheme *s, const struct pt_sig_request *req,
    const struct pt_secret *keys, size_t nkeys, struct pt_sig_result *res)
{
	struct pt_sig_result scratch;
	enum pt_sig_reason reason;
	size_t k;

	if (res == NULL)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	res->key_index = -1;
	if (s->kind == KIND_HMAC)
		reason = verify_hmac(s, req, keys, nkeys, res);
	else
		reason = verify_static(s, req, keys, nkeys, res);
	for (k = 0; k < nkeys && !key_active(&keys[k], req->now); k++)
		continue;
	/*
	 * Nothing to verify with: that is what the operator must fix,
	 * whatever else is wrong -- unless the request is unsigned (for the
	 * sender to fix) or a retired key matched.
	 */
	if (k == nkeys && reason != PT_SIG_MISSING_SIGNATURE &&
	    reason != PT_SIG_KEY_EXPIRED)
		reason = PT_SIG_NO_ACTIVE_KEY;
	res->reason = reason;
	return reason;
}

const char *
pt_sig_reason_name(const struct pt_scheme *s, enum pt_sig_reason r)
{
	if ((unsigned)r >= PT_SIG__MAX)
		return "unknown";
	if (s != NULL && strcmp(s->name, "knock") == 0)
		return knock_reason_names[r];
	return reason_names[r];
}

/* Does "p" hold a byte that would break a header line? */
static int
has_ctl(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] < 0x20 || c[i] == 0x7f)
			return 1;
	return 0;
}

static enum pt_err __attribute__((format(printf, 3, 4)))
fail(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return PT_EINVAL;
}

/*
 * Check that "secret" can be a key of "s": not empty; for the whsec
 * encodings valid base64 after the optional prefix; for the static kinds
 * at most SCHEME_MAX_SECRET bytes without control characters, and for
 * "basic" of the form "user:password".
 */
enum pt_err
pt_scheme_check_secret(const struct pt_scheme *s, const uint8_t *secret,
    size_t len, char *errbuf, size_t errlen)
{
	uint8_t buf[SCHEME_MAX_SECRET];
	const uint8_t *key;
	size_t keylen;
	int rc;

	if (len == 0)
		return fail(errbuf, errlen, "secret is empty");
	if (s->kind == KIND_HMAC) {
		rc = secret_key(s, secret, len, buf, &key, &keylen);
		if (rc == 0 && key == buf)
			pt_wipe(buf, keylen);
		if (rc == -1)
			return fail(errbuf, errlen, "secret is not base64 "
			    "(after an optional \"%s\"), or decodes to more "
			    "than %d bytes", s->secret_enc == SEC_V1_WHSEC ?
			    "v1,whsec_" : "whsec_", SCHEME_MAX_SECRET);
		return PT_OK;
	}
	if (len > SCHEME_MAX_SECRET)
		return fail(errbuf, errlen, "secret is longer than %d bytes",
		    SCHEME_MAX_SECRET);
	if (has_ctl(secret, len))
		return fail(errbuf, errlen,
		    "secret must not contain control characters");
	/* verify_static trims the header value: such a key never matches. */
	if (s->kind != KIND_BASIC && (secret[0] == ' ' ||
	    secret[len - 1] == ' '))
		return fail(errbuf, errlen,
		    "secret must not begin or end with a space");
	if (s->kind == KIND_BASIC && memchr(secret, ':', len) == NULL)
		return fail(errbuf, errlen,
		    "secret must be \"user:password\"");
	return PT_OK;
}

/*
 * Sign as a sender would (scheme.h).  The timestamp is "now" in the
 * scheme's unit; the id is "id", or "msg_" and 26 random base32
 * characters; Twilio signs "url" as given, with the body's form parameters
 * unless "url" carries bodySHA256 (then the URL alone).
 * Returns PT_EINVAL for an unusable secret, id or URL.
 */
enum pt_err
pt_scheme_sign(const struct pt_scheme *s, const uint8_t *secret,
    size_t secret_len, const uint8_t *body, size_t body_len,
    const char *url, int64_t now, const char *id, struct pt_buf *out)
{
	uint8_t keybuf[SCHEME_MAX_SECRET], mac[PT_MAC_MAX_LEN];
	char enc[PT_BASE64_LEN(SCHEME_MAX_SECRET) + 1];
	char tsbuf[24], idbuf[4 + PT_ID_B32 + 1];
	struct pt_iov iov[SCHEME_MAX_IOV];
	struct pt_buf params = { 0 };
	struct url_form form;
	struct signed_in in;
	struct span hash;
	const uint8_t *key = NULL;
	size_t keylen = 0, elen = 0, niov;
	enum pt_err rc;
	int toks;

	if ((rc = pt_scheme_check_secret(s, secret, secret_len, NULL, 0)) !=
	    PT_OK)
		return rc;
	switch (s->kind) {
	case KIND_BEARER:
		return pt_buf_printf(out, "%s: Bearer %.*s\n", s->headers[0],
		    (int)secret_len, (const char *)secret);
	case KIND_BASIC:
		elen = pt_base64_encode(secret, secret_len, enc);
		rc = pt_buf_printf(out, "%s: Basic %.*s\n", s->headers[0],
		    (int)elen, enc);
		pt_wipe(enc, elen);
		return rc;
	case KIND_HEADER:
		return pt_buf_printf(out, "%s: %.*s\n", s->headers[0],
		    (int)secret_len, (const char *)secret);
	default:
		break;
	}

	rc = PT_EINVAL;
	memset(&in, 0, sizeof(in));
	in.body = body;
	in.body_len = body_len;
	toks = tpl_tokens(s->signed_tpl);
	if (secret_key(s, secret, secret_len, keybuf, &key, &keylen) == -1)
		goto out;
	if (s->ts_source != TS_NONE) {
		if (now < 0 ||
		    (s->ts_unit == UNIT_MS && now > INT64_MAX / 1000))
			goto out;
		snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)(s->ts_unit ==
		    UNIT_MS ? now * 1000 : now));
		in.ts.p = tsbuf;
		in.ts.len = strlen(tsbuf);
	}
	if (s->id_header != NULL) {
		if (id == NULL) {
			memcpy(idbuf, "msg_", 4);
			if ((rc = pt_random_b32(idbuf + 4, PT_ID_B32)) != PT_OK)
				goto out;
			rc = PT_EINVAL;
			id = idbuf;
		}
		in.id.p = id;
		in.id.len = strlen(id);
		if (!id_ok(in.id))
			goto out;
	}
	if (toks & (1 << TOK_URL)) {
		if (url == NULL || has_ctl(url, strlen(url)))
			goto out;
		form.head.p = url;
		form.head.len = strlen(url);
		form.mid = "";
		form.tail.p = url + form.head.len;
		form.tail.len = 0;
		in.url = &form;
	}
	if ((toks & (1 << TOK_PARAMS)) && url != NULL &&
	    !url_body_hash(url, &hash)) {
		if ((rc = form_params(body, body_len, &params)) != PT_OK)
			goto out;
		in.params.p = params.data;
		in.params.len = params.len;
	}
	niov = signed_parts(s->signed_tpl, &in, iov);
	pt_mac(s->mac, key, keylen, iov, niov, mac);
	elen = encode(s, mac, enc);

	rc = PT_OK;
	if (s->ts_source == TS_HEADER)
		rc = pt_buf_printf(out, "%s: %s\n", s->ts_name, tsbuf);
	if (rc == PT_OK && s->id_header != NULL)
		rc = pt_buf_printf(out, "%s: %s\n", s->id_header, id);
	if (rc == PT_OK)
		rc = pt_buf_printf(out, "%s: ", s->headers[0]);
	if (rc == PT_OK && s->ts_source == TS_ELEMENT)
		rc = pt_buf_printf(out, "%s=%s%c", s->ts_name, tsbuf,
		    s->separator);
	if (rc == PT_OK)
		rc = pt_buf_printf(out, "%s%.*s\n", s->prefix, (int)elen, enc);
out:
	if (key == keybuf)
		pt_wipe(keybuf, keylen);
	pt_wipe(mac, sizeof(mac));
	pt_wipe(enc, elen);
	pt_buf_free(&params);
	return rc;
}

const struct pt_scheme *
pt_scheme_preset(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < PT_NITEMS(presets); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const char * const *
pt_scheme_preset_names(void)
{
	return preset_names;
}

const char *
pt_scheme_name(const struct pt_scheme *s)
{
	return s->name;
}

int
pt_scheme_has_id(const struct pt_scheme *s)
{
	return s->id_header != NULL;
}

/* The signature headers, a timestamp header and an id header. */
_Static_assert(SCHEME_MAX_HEADERS + 2 <= PT_SCHEME_MAX_READS,
    "pt_scheme_reads() output too small");

size_t
pt_scheme_reads(const struct pt_scheme *s,
    struct pt_scheme_read out[PT_SCHEME_MAX_READS])
{
	size_t i, n = 0;

	for (i = 0; i < s->nheaders; i++) {
		out[n].name = s->headers[i];
		out[n++].credential = s->kind != KIND_HMAC;
	}
	if (s->ts_source == TS_HEADER) {
		out[n].name = s->ts_name;
		out[n++].credential = 0;
	}
	if (s->id_header != NULL) {
		out[n].name = s->id_header;
		out[n++].credential = 0;
	}
	return n;
}

int
pt_scheme_signs_url(const struct pt_scheme *s)
{
	int toks = s->kind == KIND_HMAC ? tpl_tokens(s->signed_tpl) : 0;

	return toks > 0 && (toks & (1 << TOK_URL)) != 0;
}

void
pt_scheme_free(const struct pt_scheme *cs)
{
	struct pt_scheme *s = (struct pt_scheme *)cs;
	size_t i;

	if (s == NULL || !s->owned)
		return;
	for (i = 0; i < s->nstore; i++)
		pt_free(s->store[i]);
	pt_free(s);
}

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
			c[i] = lower(c[i]);
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
		return fail(eb, el, "%s: must be %s%s", ptr, n > 2 ?
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
		return fail(eb, el, "%s: must be a header name (1 to %d "
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
		return fail(eb, el, "/signature_header: must be a header name "
		    "or an array of 1 to %d header names", SCHEME_MAX_HEADERS);
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
		return fail(eb, el, "/separator: must be \" \", \",\", \";\" "
		    "or null");
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
		return fail(eb, el, "/prefix: must be a string of at most %d "
		    "printable characters without spaces", SCHEME_MAX_PREFIX);
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
		return fail(eb, el, "/signed: must be a string of 1 to %d "
		    "printable characters", SCHEME_MAX_TEMPLATE);
	if ((s->signed_tpl = keep(s, str, len, 0)) == NULL)
		return PT_ENOMEM;
	if (tpl_tokens(s->signed_tpl) == -1)
		return fail(eb, el, "/signed: unknown token or unbalanced "
		    "braces (tokens: {body} {timestamp} {id} {url} {params}, "
		    "at most %d)", SCHEME_MAX_TOKENS);
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
		return fail(eb, el, "/timestamp: must be an object "
		    "({\"header\": ...} or {\"element\": ...}) or null");
	while (pt_json_iter_next(j, &it, &key, &val)) {
		if (strcmp(key, "header") == 0 || strcmp(key, "element") == 0) {
			if (s->ts_source != TS_NONE)
				return fail(eb, el, "/timestamp: \"header\" "
				    "and \"element\" exclude each other");
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
				return fail(eb, el, "/timestamp/element: must "
				    "be an element key (1 to %d letters, "
				    "digits, \"-\" or \"_\")", SCHEME_MAX_NAME);
			if ((s->ts_name = keep(s, str, len, 0)) == NULL)
				return PT_ENOMEM;
		} else if (strcmp(key, "unit") == 0) {
			if ((rc = enum_field(val, "/timestamp/unit",
			    unit_names, UNIT__MAX, &v, eb, el)) != PT_OK)
				return rc;
			s->ts_unit = (enum ts_unit)v;
		} else
			return fail(eb, el, "/timestamp/%s: unknown field",
			    ptr_escape(key, esc, sizeof(esc)));
	}
	if (s->ts_source == TS_NONE)
		return fail(eb, el, "/timestamp: needs \"header\" or "
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
		return fail(eb, el, "/id: must be an object "
		    "({\"header\": ...}) or null");
	while (pt_json_iter_next(j, &it, &key, &val)) {
		if (strcmp(key, "header") != 0)
			return fail(eb, el, "/id/%s: unknown field",
			    ptr_escape(key, esc, sizeof(esc)));
		if ((rc = name_field(s, val, "/id/header", &s->id_header, eb,
		    el)) != PT_OK)
			return rc;
	}
	if (s->id_header == NULL)
		return fail(eb, el, "/id: needs \"header\"");
	return PT_OK;
}

static enum pt_err
f_tolerance(struct pt_scheme *s, const pt_json *j, char *eb, size_t el)
{
	int64_t v;

	if (pt_json_type(j) != PT_J_INT || (v = pt_json_int(j)) < 0 ||
	    v > SCHEME_MAX_TOLERANCE)
		return fail(eb, el, "/tolerance_seconds: must be an integer "
		    "from 0 (no window) to %lld", SCHEME_MAX_TOLERANCE);
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
		return fail(eb, el, "/mac: required");
	if (s->nheaders == 0)
		return fail(eb, el, "/signature_header: required");
	toks = tpl_tokens(s->signed_tpl);
	if (!(toks & (1 << TOK_BODY | 1 << TOK_PARAMS)))
		return fail(eb, el, "/signed: must include {body} (or "
		    "{params})");
	if ((toks & (1 << TOK_PARAMS)) && !(toks & (1 << TOK_URL)))
		return fail(eb, el, "/signed: {params} needs {url}");
	if ((toks & (1 << TOK_TIMESTAMP)) && s->ts_source == TS_NONE)
		return fail(eb, el, "/signed: uses {timestamp} but there is "
		    "no \"timestamp\"");
	if (!(toks & (1 << TOK_TIMESTAMP)) && s->ts_source != TS_NONE)
		return fail(eb, el, "/timestamp: an unsigned timestamp proves "
		    "nothing: put {timestamp} in \"signed\"");
	if ((toks & (1 << TOK_ID)) && s->id_header == NULL)
		return fail(eb, el, "/signed: uses {id} but there is no "
		    "\"id\"");
	if (!(toks & (1 << TOK_ID)) && s->id_header != NULL)
		return fail(eb, el, "/id: an unsigned id proves nothing: put "
		    "{id} in \"signed\"");
	if (s->ts_source == TS_ELEMENT && s->separator == '\0')
		return fail(eb, el, "/timestamp/element: needs a \"separator\" "
		    "to split the signature header into elements");
	if (s->separator != '\0' && strchr(s->prefix, s->separator) != NULL)
		return fail(eb, el, "/prefix: must not contain the separator");
	if (s->ts_source == TS_NONE && (seen & (1u << F_TOLERANCE)))
		return fail(eb, el, "/tolerance_seconds: there is no "
		    "timestamp");
	if (s->ts_source == TS_NONE && (seen & (1u << F_DIRECTION)))
		return fail(eb, el, "/tolerance_direction: there is no "
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
			return fail(errbuf, errlen, ": unknown preset "
			    "\"%.64s\"", str);
		/* Presets are never written through "out". */
		*out = (struct pt_scheme *)base;
		return PT_OK;
	}
	if (pt_json_type(desc) != PT_J_OBJECT)
		return fail(errbuf, errlen, ": must be a preset name or an "
		    "object");
	if ((s = pt_calloc(1, sizeof(*s))) == NULL)
		return PT_ENOMEM;

	if (pt_json_get_ex(desc, "preset", &val)) {
		if ((str = pt_json_str(val, &len)) == NULL ||
		    strlen(str) != len ||
		    (base = pt_scheme_preset(str)) == NULL) {
			rc = fail(errbuf, errlen, "/preset: must be one of %s",
			    choices(preset_names, PT_NITEMS(presets), list,
			    sizeof(list)));
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
			rc = fail(errbuf, errlen, "/kind: preset \"%s\" is of "
			    "kind \"%s\"", base->name, kind_names[base->kind]);
			goto out;
		}
		if (base == NULL)
			scheme_defaults(s, (enum kind)k);
		s->owned = 1;
	}

	while (pt_json_iter_next(desc, &it, &key, &val)) {
		f = NULL;
		for (i = 0; i < PT_NITEMS(fields); i++)
			if (strcmp(fields[i].name, key) == 0)
				f = &fields[i];
		if (f == NULL) {
			rc = fail(errbuf, errlen, "/%s: unknown field",
			    ptr_escape(key, esc, sizeof(esc)));
			goto out;
		}
		if (f->parse == NULL)
			continue;
		if (!(f->kinds & (1u << s->kind))) {
			rc = fail(errbuf, errlen, "/%s: not used by kind "
			    "\"%s\"", key, kind_names[s->kind]);
			goto out;
		}
		if (val == NULL && !f->nullable) {
			rc = fail(errbuf, errlen, "/%s: must not be null", key);
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

/* Set o[key] = v; -1 (and "v" dropped) if "v" is NULL or on ENOMEM. */
static int
jset(pt_json *o, const char *key, pt_json *v)
{
	if (v == NULL)
		return -1;
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
