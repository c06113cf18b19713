/*
 * fuzz-scheme.c - the signature engine: every preset's (and a fuzzed
 * custom scheme's) pt_scheme_verify over fuzzed headers and body, and
 * pt_scheme_from_json over fuzzed descriptions.
 *
 * Input: lines, then the body.
 *	1: a preset name, "*" (every preset), or a scheme description as
 *	   JSON (a preset name string or an object)
 *	2: the secret (one key; an empty line: no key at all)
 *	3: "NOW [URL]": unix seconds, and the URL for schemes that sign it
 *	then "Name: value" header lines up to an empty line, then the body.
 * Checks: the result and its reason name are sane; a description that
 * compiles prints (pt_scheme_to_json) a description that compiles to the
 * same print; and what pt_scheme_sign makes with an acceptable secret
 * verifies with it (a sender and the receiver agree; not checked for a
 * URL carrying a bodySHA256, which the sender does not compute).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "scheme.h"
#include "fuzz.h"

#define MAX_HEADERS	16

struct hdrs {
	struct pt_header	h[MAX_HEADERS];
	size_t			n;
};

static void
verify_one(const struct pt_scheme *s, const struct pt_sig_request *req,
    const struct pt_secret *keys, size_t nkeys)
{
	struct pt_sig_result res;
	enum pt_sig_reason r;
	const char *name;

	memset(&res, 0xa5, sizeof(res));
	r = pt_scheme_verify(s, req, keys, nkeys, &res);
	FZ_ASSERT((unsigned)r < PT_SIG__MAX, "reason %d", (int)r);
	FZ_ASSERT(memchr(res.id, '\0', sizeof(res.id)) != NULL,
	    "id not terminated");
	FZ_ASSERT(r != PT_SIG_VERIFIED || (res.key_index >= 0 &&
	    (size_t)res.key_index < nkeys), "verified by key %d of %zu",
	    res.key_index, nkeys);
	name = pt_sig_reason_name(s, r);
	FZ_ASSERT(name != NULL && name[0] != '\0', "no reason name");
}

/* Headers from pt_scheme_sign's "Name: value\n" lines (in place). */
static void
signed_headers(char *text, struct hdrs *hs)
{
	char *line, *colon, *save = NULL;

	hs->n = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL &&
	    hs->n < MAX_HEADERS; line = strtok_r(NULL, "\n", &save)) {
		if ((colon = strstr(line, ": ")) == NULL)
			continue;
		*colon = '\0';
		fz_header_name(line);
		hs->h[hs->n].name = line;
		hs->h[hs->n].value = colon + 2;
		hs->h[hs->n].value_len = strlen(colon + 2);
		hs->n++;
	}
}

/* Sign as a sender, then verify as the receiver: they must agree. */
static void
round_trip(const struct pt_scheme *s, const uint8_t *secret, size_t slen,
    const struct pt_sig_request *req)
{
	struct pt_buf out = { 0 };
	struct pt_sig_request vr;
	struct pt_sig_result res;
	struct pt_secret key;
	struct hdrs hs;
	enum pt_sig_reason r;
	char err[256];

	if (pt_scheme_check_secret(s, secret, slen, err, sizeof(err)) != PT_OK)
		return;
	/* A sender puts the body's hash in the URL and signs the URL alone:
	 * with a wrong hash there, refusing is right. */
	if (req->url != NULL && strstr(req->url, "bodySHA256=") != NULL)
		return;
	if (pt_scheme_sign(s, secret, slen, req->body, req->body_len, req->url,
	    req->now, "msg_2fuzz0000000000000000000000", &out) != PT_OK) {
		pt_buf_free(&out);
		return;
	}
	FZ_ASSERT(!out.failed && out.data != NULL, "signing made nothing");
	signed_headers(out.data, &hs);
	vr = *req;
	vr.headers = hs.h;
	vr.nheaders = hs.n;
	key.data = secret;
	key.len = slen;
	key.expires_at = 0;
	r = pt_scheme_verify(s, &vr, &key, 1, &res);
	FZ_ASSERT(r == PT_SIG_VERIFIED, "%s: own signature refused (%s)",
	    pt_scheme_name(s), pt_sig_reason_name(s, r));
	pt_buf_free(&out);
}

/* A compiled description prints one that compiles to the same print. */
static void
print_round_trip(const struct pt_scheme *s)
{
	struct pt_scheme *again = NULL;
	pt_json *j1, *j2;
	char err[256];

	j1 = pt_scheme_to_json(s);
	FZ_ASSERT(j1 != NULL, "no description");
	FZ_ASSERT(pt_scheme_from_json(j1, &again, err, sizeof(err)) == PT_OK,
	    "own description refused: %s: %s", err,
	    pt_json_text(j1, PT_JSON_PLAIN, NULL));
	j2 = pt_scheme_to_json(again);
	FZ_ASSERT(pt_json_equal(j1, j2), "description changed: %s",
	    pt_json_text(j1, PT_JSON_PLAIN, NULL));
	(void)pt_scheme_has_id(again);
	pt_json_put(j1);
	pt_json_put(j2);
	pt_scheme_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *names = pt_scheme_preset_names();
	struct pt_json_error jerr;
	struct pt_sig_request req;
	struct pt_secret keys[2];
	struct pt_scheme *custom = NULL;
	const struct pt_scheme *one = NULL;
	struct fz_cur c;
	struct hdrs hs;
	pt_json *desc = NULL;
	char *first, *secret, *timeline, *line, *colon, *end, err[256];
	size_t n, slen, i, nkeys;
	int all = 0;

	fz_open(&c, data, size);
	if ((first = fz_line(&c, &n)) == NULL)
		goto out;
	if (first[0] == '{' || first[0] == '"') {
		err[0] = '\0';
		if (pt_json_parse(first, n, PT_JSON_MAX_DEPTH, &desc, &jerr) !=
		    PT_OK)
			goto out;
		if (pt_scheme_from_json(desc, &custom, err, sizeof(err)) !=
		    PT_OK) {
			FZ_ASSERT(err[0] != '\0', "refused without a reason");
			goto out;
		}
		one = custom;
		print_round_trip(one);
	} else if (strcmp(first, "*") == 0)
		all = 1;
	else if ((one = pt_scheme_preset(first)) == NULL)
		all = 1;

	if ((secret = fz_line(&c, &slen)) == NULL)
		secret = "", slen = 0;
	memset(&req, 0, sizeof(req));
	if ((timeline = fz_line(&c, &n)) != NULL) {
		req.now = (int64_t)strtoll(timeline, &end, 10);
		if (*end == ' ')
			req.url = end + 1;
	}
	hs.n = 0;
	while ((line = fz_line(&c, &n)) != NULL && n > 0) {
		if (hs.n == MAX_HEADERS || (colon = strchr(line, ':')) == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ' || *colon == '\t')
			colon++;
		fz_header_name(line);
		hs.h[hs.n].name = line;
		hs.h[hs.n].value = colon;
		hs.h[hs.n].value_len = strlen(colon);
		hs.n++;
	}
	req.headers = hs.h;
	req.nheaders = hs.n;
	req.body = (const uint8_t *)fz_rest(&c, &req.body_len);

	/* The fuzzed secret, then an expired copy of it. */
	keys[0].data = (const uint8_t *)secret;
	keys[0].len = slen;
	keys[0].expires_at = 0;
	keys[1] = keys[0];
	keys[1].expires_at = 1;
	nkeys = slen > 0 ? 2 : 0;

	for (i = 0; all ? names[i] != NULL : i < 1; i++) {
		const struct pt_scheme *s = all ? pt_scheme_preset(names[i]) :
		    one;

		FZ_ASSERT(s != NULL, "preset %s missing", names[i]);
		verify_one(s, &req, keys, nkeys);
		verify_one(s, &req, keys + 1, 1);
		round_trip(s, keys[0].data, keys[0].len, &req);
		if (!all)
			print_round_trip(s);
	}
out:
	pt_scheme_free(custom);
	pt_json_put(desc);
	fz_close(&c);
	return 0;
}
