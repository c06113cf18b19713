/*
 * test-scheme.c - the signature engine.
 *
 * Every vector of tests/vectors/signature-vectors.json must give its
 * "expect"; then the JSON vocabulary (round trips, error pointers),
 * sign-then-verify for every preset, key rotation, reasons and their log
 * names, and allocation failures.
 *
 * The vectors file is argv[1], else $PT_VECTORS, else
 * $srcdir/tests/vectors/signature-vectors.json.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "scheme.h"
#include "tap.h"

#define MAX_HEADERS	16

/* Request headers built by a test; names and values are copies. */
struct hdrs {
	struct pt_header	 h[MAX_HEADERS];
	char			 names[MAX_HEADERS][64];
	char			*values[MAX_HEADERS];
	size_t			 n;
};

static void
hdrs_add(struct hdrs *hs, const char *name, const char *value, size_t vlen,
    int lowercase)
{
	size_t i;

	if (hs->n == MAX_HEADERS)
		abort();
	snprintf(hs->names[hs->n], sizeof(hs->names[0]), "%s", name);
	if (lowercase)
		for (i = 0; hs->names[hs->n][i] != '\0'; i++)
			if (hs->names[hs->n][i] >= 'A' &&
			    hs->names[hs->n][i] <= 'Z')
				hs->names[hs->n][i] += 'a' - 'A';
	if ((hs->values[hs->n] = malloc(vlen + 1)) == NULL)
		abort();
	memcpy(hs->values[hs->n], value, vlen);
	hs->values[hs->n][vlen] = '\0';
	hs->h[hs->n].name = hs->names[hs->n];
	hs->h[hs->n].value = hs->values[hs->n];
	hs->h[hs->n].value_len = vlen;
	hs->n++;
}

static void
hdrs_free(struct hdrs *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		free(hs->values[i]);
	hs->n = 0;
}

/* Headers from pt_scheme_sign() output: "Name: value\n" lines. */
static void
hdrs_parse(struct hdrs *hs, const char *text)
{
	const char *nl, *colon;
	char name[64];

	while (*text != '\0') {
		if ((nl = strchr(text, '\n')) == NULL ||
		    (colon = strstr(text, ": ")) == NULL || colon > nl ||
		    (size_t)(colon - text) >= sizeof(name))
			abort();
		memcpy(name, text, (size_t)(colon - text));
		name[colon - text] = '\0';
		hdrs_add(hs, name, colon + 2, (size_t)(nl - colon - 2), 1);
		text = nl + 1;
	}
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf = NULL, *nbuf;
	size_t cap = 0, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 > cap) {
			cap = (cap + 4096) * 2;
			if ((nbuf = realloc(buf, cap)) == NULL)
				abort();
			buf = nbuf;
		}
		if ((n = fread(buf + len, 1, cap - len - 1, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static const char *
vectors_path(int argc, char *argv[], char *buf, size_t len)
{
	const char *p;

	if (argc > 1)
		return argv[1];
	if ((p = getenv("PT_VECTORS")) != NULL && *p != '\0')
		return p;
	if ((p = getenv("srcdir")) == NULL || *p == '\0')
		p = ".";
	snprintf(buf, len, "%s/tests/vectors/signature-vectors.json", p);
	return buf;
}

/* The vectors' scheme names that are not preset names. */
static const char *
vector_preset(const char *scheme)
{
	if (strcmp(scheme, "hmac-sha256-hex") == 0)
		return "knock";
	if (strcmp(scheme, "x-webhook-secret") == 0)
		return "shared-header";
	return scheme;
}

/*
 * One vector, with the header names as given (mixed case) or lower-cased
 * as the FastCGI layer hands them over.  Returns the reason.
 */
static enum pt_sig_reason
run_vector(pt_json *v, int lowercase, const struct pt_scheme **sp)
{
	struct pt_json_iter it = { 0 };
	struct hdrs hs = { .n = 0 };
	struct pt_sig_request req;
	struct pt_sig_result res;
	struct pt_secret key;
	const struct pt_scheme *s;
	const char *name, *str;
	pt_json *hv, *u;
	size_t len;
	enum pt_sig_reason r;

	s = pt_scheme_preset(vector_preset(pt_json_str(pt_json_get(v,
	    "scheme"), NULL)));
	*sp = s;
	if (s == NULL)
		return PT_SIG__MAX;
	while (pt_json_iter_next(pt_json_get(v, "headers"), &it, &name, &hv)) {
		str = pt_json_str(hv, &len);
		hdrs_add(&hs, name, str, len, lowercase);
	}
	memset(&req, 0, sizeof(req));
	req.headers = hs.h;
	req.nheaders = hs.n;
	req.body = (const uint8_t *)pt_json_str(pt_json_get(v, "body"),
	    &req.body_len);
	u = pt_json_get(v, "url");
	req.url = u != NULL ? pt_json_str(u, NULL) : NULL;
	req.now = pt_json_int(pt_json_get(v, "now"));
	key.data = (const uint8_t *)pt_json_str(pt_json_get(v, "secret"),
	    &key.len);
	key.expires_at = 0;
	r = pt_scheme_verify(s, &req, &key, 1, &res);
	hdrs_free(&hs);
	return r;
}

static void
test_vectors(const char *path)
{
	struct pt_json_error jerr;
	const struct pt_scheme *s;
	pt_json *doc = NULL, *v;
	char *text;
	size_t len, i, pass = 0;
	enum pt_sig_reason r1, r2;
	int want;

	if ((text = slurp(path, &len)) == NULL) {
		ok(0, "read vectors from %s", path);
		return;
	}
	if (pt_json_parse(text, len, PT_JSON_MAX_DEPTH, &doc, &jerr) != PT_OK) {
		ok(0, "parse %s: %s", path, jerr.message);
		free(text);
		return;
	}
	for (i = 0; i < pt_json_len(doc); i++) {
		v = pt_json_index(doc, i);
		want = strcmp(pt_json_str(pt_json_get(v, "expect"), NULL),
		    "valid") == 0;
		r1 = run_vector(v, 0, &s);
		r2 = run_vector(v, 1, &s);
		if (s == NULL) {
			ok(0, "vector #%zu: no preset for scheme %s", i,
			    pt_json_str(pt_json_get(v, "scheme"), NULL));
			continue;
		}
		if (ok((r1 == PT_SIG_VERIFIED) == want &&
		    (r2 == PT_SIG_VERIFIED) == want && r1 == r2,
		    "vector #%zu %s %s (%s)", i, pt_scheme_name(s),
		    want ? "valid" : "invalid", pt_sig_reason_name(s, r1)))
			pass++;
		else
			diag("note: %s", pt_json_str(pt_json_get(v, "note"),
			    NULL));
	}
	is_int(pass, 117, "all 117 vectors give their expected result");
	pt_json_put(doc);
	free(text);
}

static pt_json *
parse(const char *text)
{
	struct pt_json_error jerr;
	pt_json *a = NULL, *j;
	char buf[1024];

	/* In an array, so that a bare number is complete too. */
	snprintf(buf, sizeof(buf), "[%s]", text);
	if (pt_json_parse(buf, strlen(buf), PT_JSON_MAX_DEPTH, &a,
	    &jerr) != PT_OK) {
		fprintf(stderr, "bad test JSON %s: %s\n", text, jerr.message);
		abort();
	}
	j = pt_json_ref(pt_json_index(a, 0));
	pt_json_put(a);
	return j;
}

/* to_json(from_json(to_json(preset))) is to_json(preset), for all. */
static void
test_roundtrip(void)
{
	const char *const *names = pt_scheme_preset_names();
	const struct pt_scheme *p;
	struct pt_scheme *s, *s2;
	pt_json *j, *j2, *nm;
	char err[200];
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		p = pt_scheme_preset(names[i]);
		if (!ok(p != NULL, "preset %s exists", names[i]))
			continue;
		is_str(pt_scheme_name(p), names[i], "preset %s: name",
		    names[i]);
		nm = pt_json_new_cstr(names[i]);
		ok(pt_scheme_from_json(nm, &s, err, sizeof(err)) == PT_OK &&
		    s == p, "preset %s: from_json(\"%s\") is the preset",
		    names[i], names[i]);
		pt_scheme_free(s);
		pt_json_put(nm);

		j = pt_scheme_to_json(p);
		s = NULL;
		if (!ok(j != NULL && pt_scheme_from_json(j, &s, err,
		    sizeof(err)) == PT_OK, "preset %s: from_json(to_json) "
		    "compiles", names[i])) {
			diag("%s", err);
			pt_json_put(j);
			continue;
		}
		j2 = pt_scheme_to_json(s);
		if (!ok(pt_json_equal(j, j2), "preset %s: round trip",
		    names[i]))
			diag("%s\n# %s", pt_json_text(j, 0, NULL),
			    pt_json_text(j2, 0, NULL));
		is_str(pt_scheme_name(s), names[i], "preset %s: the copy "
		    "keeps the name", names[i]);
		is_int(pt_scheme_has_id(s), pt_scheme_has_id(p),
		    "preset %s: has_id", names[i]);
		/* Without "preset" it is a custom scheme that prints alike. */
		pt_json_del(j, "preset");
		pt_scheme_free(s);
		s2 = NULL;
		ok(pt_scheme_from_json(j, &s2, err, sizeof(err)) == PT_OK,
		    "preset %s: the description alone compiles", names[i]);
		pt_json_put(j2);
		j2 = s2 != NULL ? pt_scheme_to_json(s2) : NULL;
		ok(j2 != NULL && pt_json_equal(j, j2) &&
		    strcmp(pt_scheme_name(s2), "custom") == 0,
		    "preset %s: the description alone round-trips as "
		    "\"custom\"", names[i]);
		pt_scheme_free(s2);
		pt_json_put(j);
		pt_json_put(j2);
	}
	is_int(i, 15, "15 presets");
}

/* The exact vocabulary of a few presets (documentation by example). */
static void
test_vocabulary(void)
{
	static const struct {
		const char	*preset;
		const char	*json;
	} golden[] = {
		{ "knock", "{\"preset\":\"knock\",\"kind\":\"hmac\","
		  "\"mac\":\"hmac-sha256\",\"encoding\":\"hex\","
		  "\"signature_header\":\"x-knock-signature\","
		  "\"signed\":\"{body}\",\"secret_encoding\":\"raw\"}" },
		{ "stripe", "{\"preset\":\"stripe\",\"kind\":\"hmac\","
		  "\"mac\":\"hmac-sha256\",\"encoding\":\"hex\","
		  "\"signature_header\":\"stripe-signature\","
		  "\"separator\":\",\",\"prefix\":\"v1=\","
		  "\"signed\":\"{timestamp}.{body}\","
		  "\"timestamp\":{\"element\":\"t\",\"unit\":\"s\"},"
		  "\"tolerance_seconds\":300,\"tolerance_direction\":\"past\","
		  "\"secret_encoding\":\"raw\"}" },
		{ "standard-webhooks", "{\"preset\":\"standard-webhooks\","
		  "\"kind\":\"hmac\",\"mac\":\"hmac-sha256\","
		  "\"encoding\":\"base64\","
		  "\"signature_header\":\"webhook-signature\","
		  "\"separator\":\" \",\"prefix\":\"v1,\","
		  "\"signed\":\"{id}.{timestamp}.{body}\","
		  "\"timestamp\":{\"header\":\"webhook-timestamp\","
		  "\"unit\":\"s\"},\"id\":{\"header\":\"webhook-id\"},"
		  "\"tolerance_seconds\":300,\"tolerance_direction\":\"both\","
		  "\"secret_encoding\":\"whsec\"}" },
		{ "segment", "{\"preset\":\"segment\",\"kind\":\"hmac\","
		  "\"mac\":\"hmac-sha1\",\"encoding\":\"hex\","
		  "\"signature_header\":[\"x-signature\","
		  "\"x-segment-signature\"],\"signed\":\"{body}\","
		  "\"secret_encoding\":\"raw\"}" },
		{ "twilio", "{\"preset\":\"twilio\",\"kind\":\"hmac\","
		  "\"mac\":\"hmac-sha1\",\"encoding\":\"base64\","
		  "\"signature_header\":\"x-twilio-signature\","
		  "\"signed\":\"{url}{params}\",\"secret_encoding\":\"raw\"}" },
		{ "bearer", "{\"preset\":\"bearer\",\"kind\":\"bearer\","
		  "\"header\":\"authorization\"}" },
		{ "shared-header", "{\"preset\":\"shared-header\","
		  "\"kind\":\"header\",\"header\":\"x-webhook-secret\"}" },
	};
	pt_json *j;
	size_t i;

	for (i = 0; i < nitems(golden); i++) {
		j = pt_scheme_to_json(pt_scheme_preset(golden[i].preset));
		is_str(j != NULL ? pt_json_text(j, PT_JSON_PLAIN, NULL) : NULL,
		    golden[i].json, "to_json(%s)", golden[i].preset);
		pt_json_put(j);
	}
}

static const struct {
	const char	*json;
	const char	*err;		/* expected error text, prefix */
} bad_schemes[] = {
	{ "\"nope\"", ": unknown preset \"nope\"" },
	{ "42", ": must be a preset name or an object" },
	{ "[\"stripe\"]", ": must be a preset name or an object" },
	{ "{\"preset\":\"nope\"}", "/preset: must be one of \"knock\"" },
	{ "{\"preset\":7}", "/preset: must be one of" },
	{ "{\"preset\":\"stripe\",\"bogus\":1}", "/bogus: unknown field" },
	{ "{\"preset\":\"stripe\",\"a/b~c\":1}", "/a~1b~0c: unknown field" },
	{ "{\"preset\":\"stripe\",\"tolerance_seconds\":-1}",
	  "/tolerance_seconds: must be an integer from 0" },
	{ "{\"preset\":\"stripe\",\"tolerance_seconds\":\"300\"}",
	  "/tolerance_seconds: must be an integer" },
	{ "{\"preset\":\"stripe\",\"tolerance_seconds\":1.5}",
	  "/tolerance_seconds: must be an integer" },
	{ "{\"preset\":\"stripe\",\"tolerance_direction\":\"future\"}",
	  "/tolerance_direction: must be \"both\" or \"past\"" },
	{ "{\"preset\":\"stripe\",\"timestamp\":{\"header\":\"x-ts\","
	  "\"unit\":\"us\"}}", "/timestamp/unit: must be \"s\" or \"ms\"" },
	{ "{\"preset\":\"stripe\",\"timestamp\":{\"foo\":1}}",
	  "/timestamp/foo: unknown field" },
	{ "{\"preset\":\"stripe\",\"timestamp\":{\"unit\":\"ms\"}}",
	  "/timestamp: needs \"header\" or \"element\"" },
	{ "{\"preset\":\"stripe\",\"timestamp\":{\"header\":\"a\","
	  "\"element\":\"t\"}}", "/timestamp: \"header\" and \"element\"" },
	{ "{\"preset\":\"stripe\",\"timestamp\":\"t\"}",
	  "/timestamp: must be an object" },
	{ "{\"preset\":\"stripe\",\"timestamp\":{\"element\":\"t\"},"
	  "\"separator\":null}", "/timestamp/element: needs a \"separator\"" },
	{ "{\"preset\":\"stripe\",\"timestamp\":null}",
	  "/signed: uses {timestamp} but there is no \"timestamp\"" },
	{ "{\"preset\":\"workos\",\"prefix\":\"v1,\"}",
	  "/prefix: must not contain the separator" },
	{ "{\"preset\":\"knock\",\"prefix\":\"a b\"}", "/prefix: must be" },
	{ "{\"preset\":\"knock\",\"separator\":\"|\"}", "/separator: must be" },
	{ "{\"preset\":\"knock\",\"mac\":null}", "/mac: must not be null" },
	{ "{\"preset\":\"knock\",\"mac\":\"hmac-md5\"}",
	  "/mac: must be one of \"hmac-sha1\", \"hmac-sha256\" or "
	  "\"hmac-sha512\"" },
	{ "{\"preset\":\"knock\",\"encoding\":\"base32\"}",
	  "/encoding: must be \"hex\" or \"base64\"" },
	{ "{\"preset\":\"knock\",\"secret_encoding\":\"b64\"}",
	  "/secret_encoding: must be one of \"raw\", \"whsec\" or "
	  "\"v1,whsec\"" },
	{ "{\"preset\":\"knock\",\"signed\":\"{bdy}\"}",
	  "/signed: unknown token" },
	{ "{\"preset\":\"knock\",\"signed\":\"{body\"}",
	  "/signed: unknown token or unbalanced braces" },
	{ "{\"preset\":\"knock\",\"signed\":\"}{body}\"}",
	  "/signed: unknown token or unbalanced braces" },
	{ "{\"preset\":\"knock\",\"signed\":\"\"}", "/signed: must be" },
	{ "{\"preset\":\"knock\",\"signed\":\"{url}\"}",
	  "/signed: must include {body}" },
	{ "{\"preset\":\"knock\",\"signed\":\"{params}\"}",
	  "/signed: {params} needs {url}" },
	{ "{\"preset\":\"knock\",\"signed\":\"{id}.{body}\"}",
	  "/signed: uses {id} but there is no \"id\"" },
	{ "{\"preset\":\"knock\",\"timestamp\":{\"header\":\"x-ts\"}}",
	  "/timestamp: an unsigned timestamp proves nothing" },
	{ "{\"preset\":\"svix\",\"signed\":\"{timestamp}.{body}\"}",
	  "/id: an unsigned id proves nothing" },
	{ "{\"preset\":\"svix\",\"id\":{\"header\":\"Bad Name\"}}",
	  "/id/header: must be a header name" },
	{ "{\"preset\":\"svix\",\"id\":{\"head\":\"x\"}}",
	  "/id/head: unknown field" },
	{ "{\"preset\":\"svix\",\"id\":{}}", "/id: needs \"header\"" },
	{ "{\"preset\":\"github\",\"tolerance_seconds\":10}",
	  "/tolerance_seconds: there is no timestamp" },
	{ "{\"preset\":\"github\",\"tolerance_direction\":\"past\"}",
	  "/tolerance_direction: there is no timestamp" },
	{ "{\"preset\":\"bearer\",\"mac\":\"hmac-sha1\"}",
	  "/mac: not used by kind \"bearer\"" },
	{ "{\"preset\":\"github\",\"header\":\"x\"}",
	  "/header: not used by kind \"hmac\"" },
	{ "{\"preset\":\"shared-header\",\"header\":\"\"}",
	  "/header: must be a header name" },
	{ "{\"preset\":\"stripe\",\"kind\":\"bearer\"}",
	  "/kind: preset \"stripe\" is of kind \"hmac\"" },
	{ "{\"kind\":\"sha\"}", "/kind: must be one of \"hmac\"" },
	{ "{\"signature_header\":\"x-sig\"}", "/mac: required" },
	{ "{\"mac\":\"hmac-sha256\"}", "/signature_header: required" },
	{ "{\"mac\":\"hmac-sha256\",\"signature_header\":[\"a\",\"b c\"]}",
	  "/signature_header/1: must be a header name" },
	{ "{\"mac\":\"hmac-sha256\",\"signature_header\":[]}",
	  "/signature_header: must be a header name or an array of 1 to 4" },
	{ "{\"mac\":\"hmac-sha256\",\"signature_header\":"
	  "[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
	  "/signature_header: must be a header name or an array of 1 to 4" },
};

static void
test_errors(void)
{
	struct pt_scheme *s;
	pt_json *j;
	char err[300];
	size_t i;
	enum pt_err rc;

	for (i = 0; i < nitems(bad_schemes); i++) {
		j = parse(bad_schemes[i].json);
		s = (struct pt_scheme *)1;
		memset(err, 0, sizeof(err));
		rc = pt_scheme_from_json(j, &s, err, sizeof(err));
		ok(rc == PT_EINVAL && s == NULL &&
		    strncmp(err, bad_schemes[i].err,
		    strlen(bad_schemes[i].err)) == 0, "error for %s",
		    bad_schemes[i].json);
		if (strncmp(err, bad_schemes[i].err,
		    strlen(bad_schemes[i].err)) != 0)
			diag("got \"%s\", want \"%s...\"", err,
			    bad_schemes[i].err);
		pt_json_put(j);
	}
	/* A tiny error buffer is fine, and so is none. */
	j = parse("{\"preset\":\"stripe\",\"bogus\":1}");
	ok(pt_scheme_from_json(j, &s, err, 5) == PT_EINVAL &&
	    strcmp(err, "/bog") == 0, "error text is cut to the buffer");
	ok(pt_scheme_from_json(j, &s, NULL, 0) == PT_EINVAL,
	    "no error buffer");
	pt_json_put(j);
}

/* Sign "body" with key "secret", parse the headers into "hs". */
static enum pt_err
sign(const struct pt_scheme *s, const char *secret, const char *body,
    const char *url, int64_t now, const char *id, struct hdrs *hs)
{
	struct pt_buf out = { 0 };
	enum pt_err rc;

	rc = pt_scheme_sign(s, (const uint8_t *)secret, strlen(secret),
	    (const uint8_t *)body, strlen(body), url, now, id, &out);
	if (rc == PT_OK)
		hdrs_parse(hs, out.data);
	pt_buf_free(&out);
	return rc;
}

static enum pt_sig_reason
verify(const struct pt_scheme *s, const struct hdrs *hs, const char *body,
    const char *url, int64_t now, const struct pt_secret *keys, size_t n,
    struct pt_sig_result *res)
{
	struct pt_sig_request req;

	memset(&req, 0, sizeof(req));
	req.headers = hs->h;
	req.nheaders = hs->n;
	req.body = (const uint8_t *)body;
	req.body_len = strlen(body);
	req.url = url;
	req.now = now;
	return pt_scheme_verify(s, &req, keys, n, res);
}

static struct pt_secret
key(const char *secret, int64_t expires_at)
{
	struct pt_secret k;

	k.data = (const uint8_t *)secret;
	k.len = strlen(secret);
	k.expires_at = expires_at;
	return k;
}

/* A secret that suits the preset's secret encoding and kind. */
static const char *
secret_for(const char *preset, int which)
{
	if (strcmp(preset, "standard-webhooks") == 0 ||
	    strcmp(preset, "svix") == 0 || strcmp(preset, "clerk") == 0)
		return which ? "whsec_c2Vjb25kLXNlY3JldC1rZXktMjQtYnl0ZXM=" :
		    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	if (strcmp(preset, "supabase-auth-hook") == 0)
		return which ? "v1,whsec_c2Vjb25kLXNlY3JldC1rZXktMjQtYnl0ZXM=" :
		    "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	if (strcmp(preset, "basic") == 0)
		return which ? "user:other" : "user:p4ss:word";
	return which ? "second-secret" : "first-secret";
}

#define NOW	1700000000
#define Z64	"00000000000000000000000000000000" \
		"00000000000000000000000000000000"
#define BODY	"{\"type\":\"user.created\",\"data\":{\"id\":\"u_1\"}}"
#define URL	"https://example.com/hooks/twilio?x=1"
#define FORM	"b=2&a=1&a=0&c=%2B1+2"
#define BODY_URL "https://example.com/t?x=1&bodySHA256=" \
		"dde66628d07fefa4a2d89023c4090e3c" \
		"418d79e9e99638ec260bd5bc486adda8"

/* Sign-then-verify for every preset, and tampering. */
static void
test_sign_verify(void)
{
	const char *const *names = pt_scheme_preset_names();
	const struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[1];
	struct hdrs hs = { .n = 0 };
	const char *body;
	size_t i;
	int hmac;

	for (i = 0; names[i] != NULL; i++) {
		s = pt_scheme_preset(names[i]);
		body = strcmp(names[i], "twilio") == 0 ? FORM : BODY;
		hmac = strcmp(names[i], "bearer") != 0 &&
		    strcmp(names[i], "basic") != 0 &&
		    strcmp(names[i], "shared-header") != 0;
		k[0] = key(secret_for(names[i], 0), 0);
		if (!ok(sign(s, secret_for(names[i], 0), body, URL, NOW,
		    "msg_test_1", &hs) == PT_OK, "%s: sign", names[i]))
			continue;
		is_int(verify(s, &hs, body, URL, NOW + 10, k, 1, &res),
		    PT_SIG_VERIFIED, "%s: sign then verify", names[i]);
		is_int(res.key_index, 0, "%s: key index", names[i]);
		if (pt_scheme_has_id(s))
			is_str(res.id, "msg_test_1", "%s: id", names[i]);
		if (strcmp(names[i], "stripe") == 0 ||
		    strcmp(names[i], "slack") == 0 ||
		    strcmp(names[i], "workos") == 0 ||
		    strcmp(names[i], "svix") == 0)
			is_int(res.timestamp, NOW, "%s: timestamp", names[i]);
		if (hmac) {
			is_int(verify(s, &hs, "{}", URL, NOW, k, 1, &res),
			    PT_SIG_NO_MATCH, "%s: other body", names[i]);
		}
		k[0] = key(secret_for(names[i], 1), 0);
		is_int(verify(s, &hs, body, URL, NOW, k, 1, &res),
		    PT_SIG_NO_MATCH, "%s: other key", names[i]);
		is_int(verify(s, &hs, body, URL, NOW, k, 0, &res),
		    PT_SIG_NO_ACTIVE_KEY, "%s: no key", names[i]);
		hdrs_free(&hs);
		/* Without any header at all. */
		is_int(verify(s, &hs, body, URL, NOW, k, 1, &res),
		    PT_SIG_MISSING_SIGNATURE, "%s: no headers", names[i]);
	}

	/* Sign makes up an id when given none; it verifies. */
	s = pt_scheme_preset("svix");
	k[0] = key(secret_for("svix", 0), 0);
	ok(sign(s, secret_for("svix", 0), BODY, NULL, NOW, NULL, &hs) == PT_OK,
	    "svix: sign without an id");
	ok(verify(s, &hs, BODY, NULL, NOW, k, 1, &res) == PT_SIG_VERIFIED &&
	    strncmp(res.id, "msg_", 4) == 0 && strlen(res.id) == 30,
	    "svix: made-up id \"%s\" verifies", res.id);
	hdrs_free(&hs);

	/* Twilio with a JSON body: the URL carries the body's SHA-256. */
	s = pt_scheme_preset("twilio");
	k[0] = key("12345", 0);
	ok(sign(s, "12345", BODY, BODY_URL, NOW, NULL, &hs) == PT_OK,
	    "twilio: sign URL-only");
	is_int(verify(s, &hs, BODY, BODY_URL, NOW, k, 1, &res),
	    PT_SIG_VERIFIED, "twilio: JSON body with bodySHA256 verifies");
	is_int(verify(s, &hs, "{}", BODY_URL, NOW, k, 1, &res),
	    PT_SIG_NO_MATCH, "twilio: a body hash that does not match fails");
	hdrs_free(&hs);
	is_int(sign(s, "12345", BODY, NULL, NOW, NULL, &hs), PT_EINVAL,
	    "twilio: sign needs a URL");
	ok(sign(s, "12345", FORM, "http://example.com/t", NOW, NULL, &hs) ==
	    PT_OK, "twilio: sign http URL");
	is_int(verify(s, &hs, FORM, "http://example.com:80/t", NOW, k, 1,
	    &res), PT_SIG_VERIFIED, "twilio: verify with the default port");
	is_int(verify(s, &hs, FORM, "http://example.com:8080/t", NOW, k, 1,
	    &res), PT_SIG_VERIFIED, "twilio: verify with another port");
	is_int(verify(s, &hs, FORM, NULL, NOW, k, 1, &res),
	    PT_SIG_MISSING_HEADER, "twilio: verify without a URL");
	is_int(verify(s, &hs, "a=%zz", "http://example.com/t", NOW, k, 1,
	    &res), PT_SIG_NO_MATCH, "twilio: bad %%-escape in the body");
	hdrs_free(&hs);

	/* Unusable secrets. */
	is_int(sign(pt_scheme_preset("svix"), "whsec_!!!!", BODY, NULL, NOW,
	    NULL, &hs), PT_EINVAL, "svix: sign with a non-base64 secret");
	is_int(sign(pt_scheme_preset("basic"), "nocolon", BODY, NULL, NOW,
	    NULL, &hs), PT_EINVAL, "basic: sign with a secret without ':'");
	is_int(sign(pt_scheme_preset("bearer"), "a\r\nb", BODY, NULL, NOW,
	    NULL, &hs), PT_EINVAL, "bearer: sign with CR LF in the secret");
	is_int(sign(pt_scheme_preset("knock"), "", BODY, NULL, NOW,
	    NULL, &hs), PT_EINVAL, "knock: sign with an empty secret");
	is_int(pt_scheme_check_secret(pt_scheme_preset("stripe"),
	    (const uint8_t *)"whsec_!!", 8, NULL, 0), PT_OK,
	    "stripe: the whsec_ text is the key, no base64 needed");
	k[0] = key("whsec_!!!!", 0);
	hdrs_add(&hs, "svix-id", "msg_1", 5, 1);
	hdrs_add(&hs, "svix-timestamp", "1700000000", 10, 1);
	hdrs_add(&hs, "svix-signature",
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 47, 1);
	is_int(verify(pt_scheme_preset("svix"), &hs, BODY, NULL, NOW, k, 1,
	    &res), PT_SIG_NO_ACTIVE_KEY, "svix: an undecodable key is no key");
	hdrs_free(&hs);
}

/* A scheme described in full, not from a preset. */
static void
test_custom(void)
{
	struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[1];
	struct hdrs hs = { .n = 0 };
	pt_json *j;
	char err[200];

	j = parse("{\"mac\": \"hmac-sha256\", \"encoding\": \"hex\", "
	    "\"signature_header\": \"X-Sig\", \"prefix\": \"sha256=\", "
	    "\"signed\": \"{timestamp}.{body}\", \"timestamp\": "
	    "{\"header\": \"x-ts\", \"unit\": \"ms\"}, "
	    "\"tolerance_seconds\": 300, \"secret_encoding\": \"raw\"}");
	if (!ok(pt_scheme_from_json(j, &s, err, sizeof(err)) == PT_OK,
	    "custom scheme compiles")) {
		diag("%s", err);
		pt_json_put(j);
		return;
	}
	pt_json_put(j);
	is_str(pt_scheme_name(s), "custom", "custom: name");
	k[0] = key("s3cret", 0);
	ok(sign(s, "s3cret", BODY, NULL, NOW, NULL, &hs) == PT_OK,
	    "custom: sign");
	is_str(hs.h[0].name, "x-ts", "custom: timestamp header first");
	is_str(hs.h[0].value, "1700000000000", "custom: milliseconds");
	ok(strncmp(hs.h[1].value, "sha256=", 7) == 0 &&
	    strlen(hs.h[1].value) == 7 + 64, "custom: x-sig: sha256=<hex>");
	is_int(verify(s, &hs, BODY, NULL, NOW + 299, k, 1, &res),
	    PT_SIG_VERIFIED, "custom: verify 299 s later");
	is_int(res.timestamp, NOW, "custom: timestamp in seconds");
	is_int(verify(s, &hs, BODY, NULL, NOW - 299, k, 1, &res),
	    PT_SIG_VERIFIED, "custom: verify 299 s earlier");
	is_int(verify(s, &hs, BODY, NULL, NOW + 301, k, 1, &res),
	    PT_SIG_TIMESTAMP, "custom: 301 s later is too old");
	is_int(verify(s, &hs, BODY, NULL, NOW - 301, k, 1, &res),
	    PT_SIG_TIMESTAMP, "custom: 301 s earlier is too new");
	is_int(verify(s, &hs, BODY, NULL, NOW + 300, k, 1, &res),
	    PT_SIG_VERIFIED, "custom: exactly 300 s passes");
	hdrs_free(&hs);
	pt_scheme_free(s);

	/* Overrides: a past-only window of 600 s on top of Slack. */
	j = parse("{\"preset\": \"slack\", \"tolerance_seconds\": 600, "
	    "\"tolerance_direction\": \"past\"}");
	ok(pt_scheme_from_json(j, &s, err, sizeof(err)) == PT_OK,
	    "slack override compiles");
	pt_json_put(j);
	k[0] = key("sl4ck", 0);
	ok(sign(s, "sl4ck", BODY, NULL, NOW, NULL, &hs) == PT_OK,
	    "slack override: sign");
	is_int(verify(s, &hs, BODY, NULL, NOW + 599, k, 1, &res),
	    PT_SIG_VERIFIED, "slack override: 599 s old passes");
	is_int(verify(s, &hs, BODY, NULL, NOW - 100000, k, 1, &res),
	    PT_SIG_VERIFIED, "slack override: the future passes");
	is_str(pt_sig_reason_name(s, PT_SIG_NO_MATCH), "no_matching_signature",
	    "slack override: reason names of the preset");
	hdrs_free(&hs);
	pt_scheme_free(s);

	/* Tolerance 0: no window. */
	j = parse("{\"preset\": \"stripe\", \"tolerance_seconds\": 0}");
	ok(pt_scheme_from_json(j, &s, err, sizeof(err)) == PT_OK,
	    "stripe without a window compiles");
	pt_json_put(j);
	k[0] = key("whsec_x", 0);
	ok(sign(s, "whsec_x", BODY, NULL, 1, NULL, &hs) == PT_OK &&
	    verify(s, &hs, BODY, NULL, NOW, k, 1, &res) == PT_SIG_VERIFIED,
	    "stripe without a window: any age passes");
	hdrs_free(&hs);
	pt_scheme_free(s);

	/* The knock preset, customised, keeps its reason names. */
	j = parse("{\"preset\": \"knock\", \"mac\": \"hmac-sha512\", "
	    "\"encoding\": \"base64\"}");
	ok(pt_scheme_from_json(j, &s, err, sizeof(err)) == PT_OK,
	    "knock override compiles");
	pt_json_put(j);
	k[0] = key("k", 0);
	ok(sign(s, "k", BODY, NULL, NOW, NULL, &hs) == PT_OK &&
	    strlen(hs.h[0].value) == 88, "knock override: base64 SHA-512");
	is_int(verify(s, &hs, BODY, NULL, NOW, k, 1, &res), PT_SIG_VERIFIED,
	    "knock override: verify");
	is_str(pt_sig_reason_name(s, PT_SIG_NO_MATCH), "no_matching_key",
	    "knock override: knock's reason names");
	hdrs_free(&hs);
	pt_scheme_free(s);
}

/* Two keys during rotation, one expired; boundaries of expires_at. */
static void
test_rotation(void)
{
	const char *const presets[] = { "stripe", "svix", "knock", "bearer",
	    "basic", "twilio" };
	const struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[2];
	struct hdrs hs = { .n = 0 }, hs2 = { .n = 0 };
	const char *body;
	size_t i, j;

	for (i = 0; i < nitems(presets); i++) {
		s = pt_scheme_preset(presets[i]);
		body = strcmp(presets[i], "twilio") == 0 ? FORM : BODY;
		/* Key 0 expired a second ago. */
		k[0] = key(secret_for(presets[i], 0), NOW - 1);
		k[1] = key(secret_for(presets[i], 1), 0);
		/* Signed with the new key: matches key 1. */
		sign(s, secret_for(presets[i], 1), body, URL, NOW, NULL, &hs);
		is_int(verify(s, &hs, body, URL, NOW, k, 2, &res),
		    PT_SIG_VERIFIED, "%s rotation: new key verifies",
		    presets[i]);
		is_int(res.key_index, 1, "%s rotation: key index 1",
		    presets[i]);
		hdrs_free(&hs);
		/* Signed with the expired key: refused, saying so. */
		sign(s, secret_for(presets[i], 0), body, URL, NOW, NULL, &hs);
		is_int(verify(s, &hs, body, URL, NOW, k, 2, &res),
		    PT_SIG_KEY_EXPIRED, "%s rotation: expired key does not "
		    "verify: key_expired", presets[i]);
		is_int(res.key_index, -1, "%s rotation: no key index",
		    presets[i]);
		/* ... but it worked the second before it expired. */
		is_int(verify(s, &hs, body, URL, NOW - 2, k, 2, &res),
		    PT_SIG_VERIFIED, "%s rotation: before expiry it verifies",
		    presets[i]);
		is_int(res.key_index, 0, "%s rotation: key index 0",
		    presets[i]);
		/* expires_at == now is expired. */
		k[1].expires_at = NOW;
		is_int(verify(s, &hs, body, URL, NOW, k, 2, &res),
		    PT_SIG_KEY_EXPIRED, "%s rotation: all keys expired, an "
		    "expired one matches", presets[i]);
		k[0] = key(secret_for(presets[i], 1), NOW - 1);
		is_int(verify(s, &hs, body, URL, NOW, k, 2, &res),
		    PT_SIG_NO_ACTIVE_KEY, "%s rotation: all keys expired, none "
		    "matches", presets[i]);
		k[1].expires_at = 0;
		hdrs_free(&hs);
	}

	/* Stripe while rolling: two v1 signatures, the second one ours. */
	s = pt_scheme_preset("stripe");
	sign(s, "whsec_old", BODY, NULL, NOW, NULL, &hs);
	sign(s, "whsec_new", BODY, NULL, NOW, NULL, &hs2);
	{
		char both[300];

		snprintf(both, sizeof(both), "%s,%s", hs.h[0].value,
		    strchr(hs2.h[0].value, ',') + 1);
		hdrs_free(&hs);
		hdrs_add(&hs, "stripe-signature", both, strlen(both), 1);
	}
	for (j = 0; j < 2; j++) {
		k[0] = key(j == 0 ? "whsec_new" : "whsec_old", 0);
		is_int(verify(s, &hs, BODY, NULL, NOW, k, 1, &res),
		    PT_SIG_VERIFIED, "stripe rolled header verifies with "
		    "either key (%zu)", j);
	}
	hdrs_free(&hs);
	hdrs_free(&hs2);
}

/* Reasons for specific failures, and their names per scheme. */
static void
test_reasons(void)
{
	static const struct {
		const char		*preset;
		const char		*hdr[3][2];	/* name, value */
		enum pt_sig_reason	 want;
		const char		*name;
	} cases[] = {
		{ "knock", { { NULL } }, PT_SIG_MISSING_SIGNATURE,
		  "missing_signature" },
		{ "knock", { { "x-knock-signature", "abc" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_signature" },
		{ "knock", { { "x-knock-signature", "" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_signature" },
		{ "knock", { { "x-knock-signature", Z64 } },
		  PT_SIG_NO_MATCH, "no_matching_key" },
		{ "stripe", { { NULL } }, PT_SIG_MISSING_SIGNATURE,
		  "missing_header" },
		{ "stripe", { { "stripe-signature", "t=1,v1=zz" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "stripe", { { "stripe-signature", "t=1,t=2,v1=" Z64 } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "stripe", { { "stripe-signature", "t=-1,v1=" Z64 } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "stripe", { { "stripe-signature", "t=99999999999999999999,"
		  "v1=" Z64 } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "stripe", { { "stripe-signature", "t=1,v1=" Z64 } },
		  PT_SIG_TIMESTAMP, "timestamp_out_of_tolerance" },
		{ "stripe", { { "stripe-signature", "t=1700000000,v1=" Z64 } },
		  PT_SIG_NO_MATCH, "no_matching_signature" },
		{ "slack", { { "x-slack-signature", "v0=" Z64 } },
		  PT_SIG_MISSING_HEADER, "missing_header" },
		{ "slack", { { "x-slack-signature", "v0=" Z64 },
		  { "x-slack-request-timestamp", "+1700000000" } },
		  PT_SIG_MALFORMED_HEADER, "malformed_header" },
		{ "slack", { { "x-slack-signature", "v0=" Z64 },
		  { "x-slack-request-timestamp", "9223372036854775808" } },
		  PT_SIG_MALFORMED_HEADER, "malformed_header" },
		{ "slack", { { "x-slack-signature", "v0=" Z64 },
		  { "x-slack-request-timestamp", "9223372036854775807" } },
		  PT_SIG_TIMESTAMP, "timestamp_out_of_tolerance" },
		{ "svix", { { "svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAA=" },
		  { "svix-timestamp", "1700000000" } },
		  PT_SIG_MISSING_HEADER, "missing_header" },
		{ "svix", { { "svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAA=" },
		  { "svix-timestamp", "1700000000" }, { "svix-id", "" } },
		  PT_SIG_MALFORMED_HEADER, "malformed_header" },
		{ "bearer", { { "authorization", "Basic abc" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "bearer", { { "authorization", "Bearer" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		{ "bearer", { { "authorization", "Bearer  first-secret" } },
		  PT_SIG_VERIFIED, "verified" },
		{ "basic", { { "authorization", "Basic dXNlcjpwNHNzOndvcmQ" } },
		  PT_SIG_NO_MATCH, "no_matching_signature" },
		{ "shared-header", { { "x-webhook-secret", "" } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_header" },
		/* A name twice: the first occurrence is the one read. */
		{ "shared-header", { { "x-webhook-secret", "first-secret" },
		  { "x-webhook-secret", "wrong" } },
		  PT_SIG_VERIFIED, "verified" },
		{ "shared-header", { { "x-webhook-secret", "wrong" },
		  { "x-webhook-secret", "first-secret" } },
		  PT_SIG_NO_MATCH, "no_matching_signature" },
		{ "bearer", { { "authorization", "Bearer wrong" },
		  { "authorization", "Bearer first-secret" } },
		  PT_SIG_NO_MATCH, "no_matching_signature" },
		{ "knock", { { "x-knock-signature", Z64 },
		  { "x-knock-signature", "zz" } },
		  PT_SIG_NO_MATCH, "no_matching_key" },
		{ "knock", { { "x-knock-signature", "zz" },
		  { "x-knock-signature", Z64 } },
		  PT_SIG_MALFORMED_SIGNATURE, "malformed_signature" },
	};
	const struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[1];
	struct hdrs hs = { .n = 0 };
	size_t i, h;
	enum pt_sig_reason r;

	for (i = 0; i < nitems(cases); i++) {
		s = pt_scheme_preset(cases[i].preset);
		for (h = 0; h < 3 && cases[i].hdr[h][0] != NULL; h++)
			hdrs_add(&hs, cases[i].hdr[h][0], cases[i].hdr[h][1],
			    strlen(cases[i].hdr[h][1]), 1);
		k[0] = key(secret_for(cases[i].preset, 0), 0);
		r = verify(s, &hs, BODY, NULL, NOW, k, 1, &res);
		is_int(r, cases[i].want, "%s case %zu: reason", cases[i].preset,
		    i);
		is_str(pt_sig_reason_name(s, r), cases[i].name,
		    "%s case %zu: reason name", cases[i].preset, i);
		is_int(res.reason, r, "%s case %zu: res.reason",
		    cases[i].preset, i);
		hdrs_free(&hs);
	}
	s = pt_scheme_preset("knock");
	is_str(pt_sig_reason_name(s, PT_SIG_VERIFIED), "verified",
	    "knock: verified");
	is_str(pt_sig_reason_name(s, PT_SIG_NO_ACTIVE_KEY), "no_active_key",
	    "knock: no_active_key");
	s = pt_scheme_preset("github");
	is_str(pt_sig_reason_name(s, PT_SIG_NO_ACTIVE_KEY), "no_active_key",
	    "github: no_active_key");
	is_str(pt_sig_reason_name(s, PT_SIG_MISSING_HEADER), "missing_header",
	    "github: missing_header");
	is_str(pt_sig_reason_name(NULL, PT_SIG_NO_MATCH),
	    "no_matching_signature", "no scheme: generic names");
	ok(pt_scheme_preset("nope") == NULL && pt_scheme_preset(NULL) == NULL,
	    "unknown preset is NULL");
}

/* A third secret of the preset's form, which no test key holds. */
static const char *
unknown_secret(const char *preset)
{
	if (strcmp(secret_for(preset, 0), "first-secret") == 0)
		return "third-secret";
	if (strcmp(preset, "basic") == 0)
		return "user:third";
	return strcmp(preset, "supabase-auth-hook") == 0 ?
	    "v1,whsec_dGhpcmQtc2VjcmV0LWtleQ==" : "whsec_dGhpcmQtc2VjcmV0LWtleQ==";
}

/* Upper-case the hex digits after the last "=" of a signature header. */
static void
upper_hex(struct hdrs *hs, const char *name)
{
	size_t i;
	char *p, *v;

	for (i = 0; i < hs->n; i++) {
		if (strcmp(hs->names[i], name) != 0)
			continue;
		v = hs->values[i];
		p = strrchr(v, '=');
		for (p = p ? p + 1 : v; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
	}
}

/*
 * Hex in either case, and keys that expired: a table of (preset,
 * signature in upper case, which key signed, is an active key
 * configured) -> reason.  Key 0 expired a second ago; key 1, when
 * configured, is active; "unknown" is a key neither is.
 */
static void
test_case_and_expiry(void)
{
	enum { ACTIVE, EXPIRED, UNKNOWN };
	static const struct {
		const char		*preset;
		const char		*header;	/* to upper-case, or NULL */
		int			 signer;
		int			 with_active;
		enum pt_sig_reason	 want;
		const char		*name;
	} cases[] = {
		{ "knock", "x-knock-signature", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "stripe", "stripe-signature", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "workos", "workos-signature", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "github", "x-hub-signature-256", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "slack", "x-slack-signature", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "segment", "x-signature", ACTIVE, 1, PT_SIG_VERIFIED,
		  "verified" },
		{ "knock", "x-knock-signature", UNKNOWN, 1, PT_SIG_NO_MATCH,
		  "no_matching_key" },
		{ "github", "x-hub-signature-256", UNKNOWN, 1, PT_SIG_NO_MATCH,
		  "no_matching_signature" },
		{ "knock", "x-knock-signature", EXPIRED, 1, PT_SIG_KEY_EXPIRED,
		  "key_expired" },
		{ "knock", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "knock", NULL, EXPIRED, 0, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "knock", NULL, UNKNOWN, 1, PT_SIG_NO_MATCH, "no_matching_key" },
		{ "knock", NULL, UNKNOWN, 0, PT_SIG_NO_ACTIVE_KEY,
		  "no_active_key" },
		{ "stripe", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "svix", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "svix", NULL, UNKNOWN, 1, PT_SIG_NO_MATCH,
		  "no_matching_signature" },
		{ "svix", NULL, EXPIRED, 0, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "shopify", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED,
		  "key_expired" },
		{ "twilio", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "bearer", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "bearer", NULL, UNKNOWN, 1, PT_SIG_NO_MATCH,
		  "no_matching_signature" },
		{ "basic", NULL, EXPIRED, 0, PT_SIG_KEY_EXPIRED, "key_expired" },
		{ "shared-header", NULL, EXPIRED, 1, PT_SIG_KEY_EXPIRED,
		  "key_expired" },
	};
	const struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[2];
	struct hdrs hs = { .n = 0 };
	const char *body, *signer;
	size_t i;
	enum pt_sig_reason r;

	for (i = 0; i < nitems(cases); i++) {
		s = pt_scheme_preset(cases[i].preset);
		body = strcmp(cases[i].preset, "twilio") == 0 ? FORM : BODY;
		k[0] = key(secret_for(cases[i].preset, 0), NOW - 1);
		k[1] = key(secret_for(cases[i].preset, 1), 0);
		signer = cases[i].signer == ACTIVE ?
		    secret_for(cases[i].preset, 1) : cases[i].signer == EXPIRED ?
		    secret_for(cases[i].preset, 0) :
		    unknown_secret(cases[i].preset);
		if (sign(s, signer, body, URL, NOW, NULL, &hs) != PT_OK) {
			ok(0, "%s case %zu: signs", cases[i].preset, i);
			continue;
		}
		if (cases[i].header != NULL)
			upper_hex(&hs, cases[i].header);
		r = verify(s, &hs, body, URL, NOW, k, cases[i].with_active ? 2 :
		    1, &res);
		is_int(r, cases[i].want, "%s case %zu (%s%s key): %s",
		    cases[i].preset, i, cases[i].header ? "upper-case hex, " :
		    "", cases[i].signer == ACTIVE ? "active" : cases[i].signer ==
		    EXPIRED ? "expired" : "unknown", cases[i].name);
		is_str(pt_sig_reason_name(s, r), cases[i].name,
		    "%s case %zu: reason name", cases[i].preset, i);
		is_int(res.key_index, r == PT_SIG_VERIFIED ? 1 : -1,
		    "%s case %zu: key index", cases[i].preset, i);
		hdrs_free(&hs);
	}

	/* Base64 is case-sensitive: upper-casing it breaks the signature. */
	s = pt_scheme_preset("shopify");
	k[0] = key("first-secret", 0);
	sign(s, "first-secret", BODY, NULL, NOW, NULL, &hs);
	for (i = 0; hs.values[0][i] != '\0'; i++)
		if (hs.values[0][i] >= 'a' && hs.values[0][i] <= 'z')
			hs.values[0][i] = (char)(hs.values[0][i] - 'a' + 'A');
	is_int(verify(s, &hs, BODY, NULL, NOW, k, 1, &res), PT_SIG_NO_MATCH,
	    "shopify: upper-cased base64 does not verify");
	hdrs_free(&hs);
}

/*
 * Allocation failures: compiling a scheme and verifying Twilio under
 * every possible failing allocation must fail cleanly (ASan checks
 * leaks) and never verify wrongly.
 */
static void
test_alloc_failures(void)
{
	const struct pt_scheme *tw = pt_scheme_preset("twilio");
	struct pt_scheme *s;
	struct pt_sig_result res;
	struct pt_secret k[1];
	struct hdrs hs = { .n = 0 };
	pt_json *j;
	char err[200];
	long n, total;
	int bad = 0;
	enum pt_err rc;
	enum pt_sig_reason r;

	j = parse("{\"preset\": \"svix\", \"signature_header\": [\"a\", "
	    "\"b\"], \"timestamp\": {\"header\": \"ts\"}, \"id\": "
	    "{\"header\": \"id\"}, \"prefix\": \"v1,\", \"signed\": "
	    "\"{id}.{timestamp}.{body}\"}");
	pt_alloc_fail_after(-1);
	rc = pt_scheme_from_json(j, &s, err, sizeof(err));
	total = pt_alloc_fail_after(-1);
	ok(rc == PT_OK && total > 0, "from_json makes %ld allocations", total);
	pt_scheme_free(s);
	for (n = 0; n < total; n++) {
		pt_alloc_fail_after(n);
		rc = pt_scheme_from_json(j, &s, err, sizeof(err));
		pt_alloc_fail_after(-1);
		if (rc != PT_ENOMEM)
			bad++;
		if (rc == PT_OK)
			pt_scheme_free(s);
	}
	is_int(bad, 0, "from_json: every failing allocation gives ENOMEM");
	pt_json_put(j);

	k[0] = key("12345", 0);
	sign(tw, "12345", FORM, URL, NOW, NULL, &hs);
	pt_alloc_fail_after(-1);
	r = verify(tw, &hs, FORM, URL, NOW, k, 1, &res);
	total = pt_alloc_fail_after(-1);
	ok(r == PT_SIG_VERIFIED, "twilio verify makes %ld allocations", total);
	bad = 0;
	for (n = 0; n < total; n++) {
		pt_alloc_fail_after(n);
		r = verify(tw, &hs, FORM, URL, NOW, k, 1, &res);
		pt_alloc_fail_after(-1);
		if (r != PT_SIG_NO_MATCH)
			bad++;
	}
	is_int(bad, 0, "twilio verify: failing allocations fail closed");
	hdrs_free(&hs);
}

int
main(int argc, char *argv[])
{
	char path[1024];

	test_vectors(vectors_path(argc, argv, path, sizeof(path)));
	test_roundtrip();
	test_vocabulary();
	test_errors();
	test_sign_verify();
	test_custom();
	test_rotation();
	test_reasons();
	test_case_and_expiry();
	test_alloc_failures();
	return tap_done();
}
