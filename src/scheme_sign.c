/*
 * scheme_sign.c - signing a body as a sender would, for tests, `porterctl
 * send` and the benchmark.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "ids.h"
#include "scheme.h"
#include "scheme_int.h"
#include "sig.h"

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
	toks = scheme_tpl_tokens(s->signed_tpl);
	if (scheme_secret_key(s, secret, secret_len, keybuf, &key,
	    &keylen) == -1)
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
		if (!scheme_id_ok(in.id))
			goto out;
	}
	if (toks & (1 << TOK_URL)) {
		if (url == NULL || scheme_has_ctl(url, strlen(url)))
			goto out;
		form.head.p = url;
		form.head.len = strlen(url);
		form.mid = "";
		form.tail.p = url + form.head.len;
		form.tail.len = 0;
		in.url = &form;
	}
	if ((toks & (1 << TOK_PARAMS)) && url != NULL &&
	    !scheme_url_body_hash(url, &hash)) {
		if ((rc = scheme_form_params(body, body_len, &params)) != PT_OK)
			goto out;
		in.params.p = params.data;
		in.params.len = params.len;
	}
	niov = scheme_signed_parts(s->signed_tpl, &in, iov);
	pt_mac(s->mac, key, keylen, iov, niov, mac);
	elen = scheme_encode(s, mac, enc);

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
