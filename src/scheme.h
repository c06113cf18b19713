/*
 * scheme.h - the signature engine: one verifier, driven by data.
 *
 * A scheme says how a sender authenticates a request: which MAC, which
 * encoding, which header(s) carry the signature, timestamp and id, what
 * string is signed, the timestamp unit and tolerance, and how the secret is
 * decoded -- or, for the static-credential schemes, which credential must
 * match.  Built-in presets ("knock", "stripe", "standard-webhooks", "svix",
 * "clerk", "supabase-auth-hook", "workos", "github", "shopify", "slack",
 * "segment", "twilio", "bearer", "basic", "shared-header") are entries of
 * one table; a config may also describe its own scheme as a JSON object
 * (pt_scheme_from_json) in the same vocabulary pt_scheme_to_json() prints.
 */
#ifndef PT_SCHEME_H
#define PT_SCHEME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "json.h"

struct pt_scheme;

/* A configured secret (the text as configured) and when it stops working. */
struct pt_secret {
	const uint8_t	*data;
	size_t		 len;
	int64_t		 expires_at;	/* unix seconds; 0 = never */
};

/* What the engine needs of a request. */
struct pt_sig_request {
	const struct pt_header	*headers;	/* lower-case names */
	size_t			 nheaders;
	const uint8_t		*body;
	size_t			 body_len;
	const char		*url;		/* full public URL (twilio) or NULL */
	int64_t			 now;		/* unix seconds */
};

enum pt_sig_reason {
	PT_SIG_VERIFIED = 0,
	PT_SIG_MISSING_SIGNATURE,	/* no signature/credential header */
	PT_SIG_MISSING_HEADER,		/* timestamp or id header absent */
	PT_SIG_MALFORMED_SIGNATURE,	/* signature header unreadable */
	PT_SIG_MALFORMED_HEADER,	/* timestamp/id header unreadable */
	PT_SIG_TIMESTAMP,		/* timestamp outside the tolerance */
	PT_SIG_NO_MATCH,		/* no candidate matched any active key */
	PT_SIG_NO_ACTIVE_KEY,		/* every key expired, or none given */
	PT_SIG_KEY_EXPIRED,		/* only an expired key matched */
	PT_SIG__MAX
};

struct pt_sig_result {
	enum pt_sig_reason	 reason;
	int			 key_index;	/* which secret matched, or -1 */
	int64_t			 timestamp;	/* signed timestamp (unix s), or 0 */
	char			 id[256];	/* signed message id, or "" */
};
/* NOTE: timestamp and id are filled as read even when verification fails
 * (for logs); trust them only with PT_SIG_VERIFIED. */

/* The preset called "name", or NULL.  Presets are static: never free them. */
const struct pt_scheme	*pt_scheme_preset(const char *name);
/* Names of every preset, NULL-terminated. */
const char * const	*pt_scheme_preset_names(void);

/*
 * Compile a scheme from config: either a preset name (JSON string) or an
 * object in the vocabulary of pt_scheme_to_json().  On PT_EINVAL, "errbuf"
 * names the bad field relative to "desc" as a JSON pointer and says why
 * ("/tolerance_seconds: must be a non-negative integer").
 * NOTE: the pointer is empty for "desc" itself (": unknown preset \"x\""),
 * so a caller can prefix its own ("/sources/0/scheme" + errbuf).
 *
 * The vocabulary (unknown fields are errors):
 *   "preset"		 start from this preset, the other fields override
 *   "kind"		 "hmac" (default), "bearer", "basic" or "header"
 * kind "hmac":
 *   "mac"		 "hmac-sha1", "hmac-sha256", "hmac-sha512" (required)
 *   "encoding"		 "hex" (the default; either case is read) or
 *			 "base64"
 *   "signature_header"	 a name, or an array of up to 4 (any present)
 *   "separator"	 " ", "," or ";": the header is a list; null: one value
 *   "prefix"		 before each signature ("sha256=", "v1,", "v1=");
 *			 list elements without it are skipped
 *   "signed"		 template over {body} {timestamp} {id} {url} {params}
 *			 ("{url}{params}": Twilio's URL + sorted form fields)
 *   "timestamp"	 {"header": name} or {"element": key} (a key=value
 *			 element of the signature header), "unit": "s"/"ms"
 *   "id"		 {"header": name}
 *   "tolerance_seconds" 0 = no window; "tolerance_direction" "both"/"past"
 *   "secret_encoding"	 "raw", "whsec" (base64 after an optional "whsec_"),
 *			 "v1,whsec" (also after an optional "v1,")
 * kinds "bearer", "basic", "header":
 *   "header"		 the credential header ("authorization",
 *			 "x-webhook-secret" by default)
 */
enum pt_err	pt_scheme_from_json(const pt_json *desc, struct pt_scheme **out,
		    char *errbuf, size_t errlen);
/*
 * Can "secret" ("len" bytes, as configured) serve as a key of this scheme?
 * Not empty; for the "whsec" secret encodings, base64 after the optional
 * "whsec_" (or "v1,whsec_") prefix; for bearer/basic/header at most 1024
 * bytes without control characters, and "user:password" for basic; for
 * bearer/header no space at either end (header values are trimmed).
 * Returns PT_OK, or PT_EINVAL with the reason in "errbuf" (no pointer).
 * For config validation; pt_scheme_verify() skips keys that fail this.
 */
enum pt_err	pt_scheme_check_secret(const struct pt_scheme *,
		    const uint8_t *secret, size_t len, char *errbuf,
		    size_t errlen);
/* Release a scheme from pt_scheme_from_json (presets: no-op). */
void		pt_scheme_free(const struct pt_scheme *);
/* The full description, as config would spell it (for export/--types). */
pt_json		*pt_scheme_to_json(const struct pt_scheme *);
const char	*pt_scheme_name(const struct pt_scheme *);
/* Does the scheme carry a message id usable as an idempotency key? */
int		pt_scheme_has_id(const struct pt_scheme *);
/* Does it sign the request URL (Twilio), so that it needs a public_url? */
int		pt_scheme_signs_url(const struct pt_scheme *);

/*
 * A header a scheme reads.  "credential": its value is the secret itself
 * (the bearer, basic and header kinds), so it must never be shown; a MAC
 * only proves this one body and may be.
 */
struct pt_scheme_read {
	const char	*name;		/* lower-case, as configured */
	int		 credential;
};
#define PT_SCHEME_MAX_READS	8
/* Every header the scheme reads; returns how many went into "out". */
size_t		pt_scheme_reads(const struct pt_scheme *,
		    struct pt_scheme_read out[PT_SCHEME_MAX_READS]);

/*
 * Verify "req" with every candidate signature against every active secret
 * (constant-time comparisons; a key with expires_at <= now does not
 * verify, but when no active key matched, one that would have matched is
 * reported as PT_SIG_KEY_EXPIRED).  Each header is read at its first
 * occurrence in "req".  Hex signatures are read in either case.
 * Returns the reason (PT_SIG_VERIFIED on success) and fills "res".
 */
enum pt_sig_reason pt_scheme_verify(const struct pt_scheme *,
		    const struct pt_sig_request *, const struct pt_secret *keys,
		    size_t nkeys, struct pt_sig_result *res);

/*
 * Log name of a reason under this scheme.  The "knock" preset (the custom
 * source) names them missing_signature, malformed_signature and
 * no_matching_key; the others use missing_header, malformed_header,
 * timestamp_out_of_tolerance, no_matching_signature and no_active_key;
 * both say key_expired.
 */
const char	*pt_sig_reason_name(const struct pt_scheme *, enum pt_sig_reason);

/*
 * Sign "body" as a sender would (tests, `porterctl send`, the bench):
 * appends "Name: value\n" lines to "out" for every header to send.
 * "now" is unix seconds; "id" is used by schemes that sign a message id
 * (a fresh one is made up when NULL).
 */
enum pt_err	pt_scheme_sign(const struct pt_scheme *, const uint8_t *secret,
		    size_t secret_len, const uint8_t *body, size_t body_len,
		    const char *url, int64_t now, const char *id,
		    struct pt_buf *out);

#endif
