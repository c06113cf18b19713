/*
 * scheme_int.h - the inside of the signature engine, shared by scheme.c,
 * scheme_verify.c, scheme_tpl.c, scheme_sign.c and scheme_json.c: what a
 * scheme is made of, and the helpers more than one of them uses.
 */
#ifndef PT_SCHEME_INT_H
#define PT_SCHEME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "scheme.h"
#include "sig.h"

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

/* The request URL in the forms Twilio may have signed (signatures.md). */
struct url_form {
	struct span	 head;		/* URL up to the port */
	const char	*mid;		/* a default port, or "" */
	struct span	 tail;		/* the rest */
};

/* What the tokens of a template stand for in one request. */
struct signed_in {
	struct span		 ts;
	struct span		 id;
	const uint8_t		*body;
	size_t			 body_len;
	const struct url_form	*url;
	struct span		 params;
};

/* Text helpers (scheme.c). */
char		scheme_lower(char c);
int		scheme_name_eq_n(const char *a, const char *b, size_t n);
int		scheme_span_has_prefix(struct span s, const char *pre,
		    size_t prelen);
struct span	scheme_span_trim(struct span s);
int		scheme_next_element(struct span v, char sep, size_t *pos,
		    struct span *out);
int		scheme_has_ctl(const void *p, size_t len);
enum pt_err	scheme_fail(char *buf, size_t len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Secrets as MAC keys and MACs as text (scheme.c). */
int		scheme_secret_key(const struct pt_scheme *s,
		    const uint8_t *data, size_t len,
		    uint8_t buf[SCHEME_MAX_SECRET],
		    const uint8_t **key, size_t *keylen);
size_t		scheme_encoded_len(const struct pt_scheme *s);
size_t		scheme_encode(const struct pt_scheme *s, const uint8_t *mac,
		    char *out);

/* The signed message (scheme_tpl.c). */
int		scheme_tpl_tokens(const char *tpl);
size_t		scheme_url_forms(const char *url, struct url_form f[2]);
enum pt_err	scheme_form_params(const uint8_t *body, size_t len,
		    struct pt_buf *out);
int		scheme_url_body_hash(const char *url, struct span *out);
size_t		scheme_signed_parts(const char *tpl, const struct signed_in *in,
		    struct pt_iov iov[SCHEME_MAX_IOV]);
int		scheme_id_ok(struct span id);

#endif
