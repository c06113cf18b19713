/*
 * scheme_verify.c - verifying a request with a scheme (see scheme.h).
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

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "scheme.h"
#include "scheme_int.h"
#include "sig.h"

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

static int
name_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (scheme_lower(*a) != scheme_lower(*b) &&
		    !((*a == '_' || *a == '-') && (*b == '_' || *b == '-')))
			return 0;
	return *a == *b;
}

/* Does "s" start with "word" (any case) followed by a space or tab? */
static int
span_has_word(struct span s, const char *word)
{
	size_t n = strlen(word);

	if (s.len <= n || !scheme_name_eq_n(s.p, word, n))
		return 0;
	return s.p[n] == ' ' || s.p[n] == '\t';
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
 * Could "c" be the encoded MAC at all (right length and alphabet)?  Only
 * sorts bad candidates out for the reason; says nothing about secrets.
 */
static int
well_formed(const struct pt_scheme *s, struct span c)
{
	size_t i;
	char ch;

	if (c.len != scheme_encoded_len(s))
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
	elen = scheme_encode(s, mac, enc);
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
		buf[i] = s->encoding == ENC_HEX ? scheme_lower(c.p[i]) : c.p[i];
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

	if (scheme_secret_key(t->s, k->data, k->len, keybuf, &key,
	    &keylen) == -1)
		return -1;
	for (i = 0; i < t->nforms; i++) {
		t->in->url = (t->toks & (1 << TOK_URL)) ? &t->forms[i] : NULL;
		niov = scheme_signed_parts(t->s->signed_tpl, t->in, iov);
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
	toks = scheme_tpl_tokens(s->signed_tpl);
	tslen = s->ts_source == TS_ELEMENT ? strlen(s->ts_name) : 0;

	/* Candidates, and an element timestamp, from the signature headers. */
	for (i = 0; i < s->nheaders; i++) {
		if ((h = find_header(req, s->headers[i])) == NULL)
			continue;
		found = 1;
		v = header_value(h);
		pos = 0;
		while (scheme_next_element(v, s->separator, &pos, &e)) {
			if (tslen > 0 && e.len > tslen &&
			    memcmp(e.p, s->ts_name, tslen) == 0 &&
			    e.p[tslen] == '=') {
				ts.p = e.p + tslen + 1;
				ts.len = e.len - tslen - 1;
				nts++;
				continue;
			}
			if (!scheme_span_has_prefix(e, s->prefix, plen))
				continue;
			e.p += plen;
			e.len -= plen;
			if (well_formed(s, e) &&
			    ncand < SCHEME_MAX_CANDIDATES) {
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
		if (!scheme_id_ok(in.id))
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
		nforms = scheme_url_forms(req->url, forms);
	}
	reason = PT_SIG_NO_MATCH;
	if ((toks & (1 << TOK_PARAMS)) && req->url != NULL) {
		if (scheme_url_body_hash(req->url, &hash)) {
			pt_sha256(req->body, req->body_len, digest);
			pt_hex_encode(digest, sizeof(digest), hex);
			if (hash.len != sizeof(hex))
				goto out;
			for (i = 0; i < hash.len; i++)
				hashbuf[i] = scheme_lower(hash.p[i]);
			if (!pt_memeql_sec(hashbuf, hex, sizeof(hex)))
				goto out;
		} else if (scheme_form_params(req->body, req->body_len,
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
		v = scheme_span_trim(header_value(h));
		if (word != NULL) {
			if (!span_has_word(v, word))
				continue;
			v.p += strlen(word);
			v.len -= strlen(word);
			v = scheme_span_trim(v);
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
