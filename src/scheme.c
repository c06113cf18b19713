/*
 * scheme.c - the schemes themselves (see scheme.h): the presets, what a
 * scheme reads and needs, its secrets as MAC keys, the encoding of a MAC,
 * and the text helpers verification, templates and signing share.  The
 * rest of the engine: scheme_verify.c, scheme_tpl.c, scheme_sign.c and
 * scheme_json.c, behind scheme_int.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "scheme.h"
#include "scheme_int.h"
#include "sig.h"
#include "nitems.h"

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

/*
 * Small text helpers.  Header names are compared without regard to ASCII
 * case (locale-independent, unlike strcasecmp), and with "_" equal to "-":
 * CGI passes both as "_" in HTTP_* variables, which the FastCGI loop turns
 * into "-", so a configured "x_sig" must match the "x-sig" that arrives.
 */
char
scheme_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Are the "n" bytes at "a" equal to the lower-case "b", in any case? */
int
scheme_name_eq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (scheme_lower(a[i]) != b[i])
			return 0;
	return 1;
}

int
scheme_span_has_prefix(struct span s, const char *pre, size_t prelen)
{
	return s.len >= prelen && memcmp(s.p, pre, prelen) == 0;
}

struct span
scheme_span_trim(struct span s)
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
int
scheme_next_element(struct span v, char sep, size_t *pos, struct span *out)
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
		*out = scheme_span_trim(*out);
		if (out->len > 0)
			return 1;
	}
	return 0;
}

/*
 * The key bytes of secret "data"/"len" under the scheme's secret encoding:
 * the text itself ("raw"), or the base64 after an optional "whsec_" (and,
 * for "v1,whsec", an optional "v1," before that) decoded into "buf".
 * Returns 0 and sets *key and *keylen, or -1 if the secret cannot be a key
 * (empty, too long, bad base64).
 */
int
scheme_secret_key(const struct pt_scheme *s, const uint8_t *data, size_t len,
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
size_t
scheme_encoded_len(const struct pt_scheme *s)
{
	size_t n = pt_mac_len(s->mac);

	return s->encoding == ENC_HEX ? 2 * n : PT_BASE64_LEN(n);
}

size_t
scheme_encode(const struct pt_scheme *s, const uint8_t *mac, char *out)
{
	size_t n = pt_mac_len(s->mac);

	if (s->encoding == ENC_HEX) {
		pt_hex_encode(mac, n, out);
		return 2 * n;
	}
	return pt_base64_encode(mac, n, out);
}

/* Does "p" hold a byte that would break a header line? */
int
scheme_has_ctl(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] < 0x20 || c[i] == 0x7f)
			return 1;
	return 0;
}

enum pt_err __attribute__((format(printf, 3, 4)))
scheme_fail(char *buf, size_t len, const char *fmt, ...)
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
		return scheme_fail(errbuf, errlen, "secret is empty");
	if (s->kind == KIND_HMAC) {
		rc = scheme_secret_key(s, secret, len, buf, &key, &keylen);
		if (rc == 0 && key == buf)
			pt_wipe(buf, keylen);
		if (rc == -1)
			return scheme_fail(errbuf, errlen, "secret is not "
			    "base64 (after an optional \"%s\"), or decodes to "
			    "more than %d bytes", s->secret_enc ==
			    SEC_V1_WHSEC ? "v1,whsec_" : "whsec_",
			    SCHEME_MAX_SECRET);
		return PT_OK;
	}
	if (len > SCHEME_MAX_SECRET)
		return scheme_fail(errbuf, errlen, "secret is longer than %d "
		    "bytes", SCHEME_MAX_SECRET);
	if (scheme_has_ctl(secret, len))
		return scheme_fail(errbuf, errlen,
		    "secret must not contain control characters");
	/* verify_static trims the header value: such a key never matches. */
	if (s->kind != KIND_BASIC && (secret[0] == ' ' ||
	    secret[len - 1] == ' '))
		return scheme_fail(errbuf, errlen,
		    "secret must not begin or end with a space");
	if (s->kind == KIND_BASIC && memchr(secret, ':', len) == NULL)
		return scheme_fail(errbuf, errlen,
		    "secret must be \"user:password\"");
	return PT_OK;
}

const struct pt_scheme *
pt_scheme_preset(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < nitems(presets); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

/* The presets' names, NULL-terminated: made once from presets[]. */
static const char *preset_names[nitems(presets) + 1];
static pthread_once_t preset_names_once = PTHREAD_ONCE_INIT;

static void
preset_names_fill(void)
{
	size_t i;

	for (i = 0; i < nitems(presets); i++)
		preset_names[i] = presets[i].name;
}

const char * const *
pt_scheme_preset_names(void)
{
	pthread_once(&preset_names_once, preset_names_fill);
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
	int toks = s->kind == KIND_HMAC ? scheme_tpl_tokens(s->signed_tpl) : 0;

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
