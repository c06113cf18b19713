/*
 * conf_key.c - signing keys: a secret given inline, from a file, from the
 * environment or as a fingerprint of a key already stored, its expiry,
 * and the keyed fingerprints exports show instead of secrets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "conf.h"
#include "conf_int.h"
#include "sig.h"
#include "timeutil.h"

#define MAX_SECRET_FILE		65536

void
pt_secret_fingerprint(const struct pt_config *c, const uint8_t *s, size_t n,
    char out[PT_FINGERPRINT_MAX])
{
	struct pt_iov iov = { s, n };
	uint8_t d[PT_SHA256_LEN];

	pt_mac(PT_MAC_HMAC_SHA256, c->fp_key, sizeof(c->fp_key), &iov, 1, d);
	memcpy(out, "hmac:", 5);
	pt_hex_encode(d, 8, out + 5);
	out[21] = '\0';
	pt_wipe(d, sizeof(d));
}

/*
 * Does "fp" name secret "s"?  Besides our fingerprint, the unkeyed
 * "sha256:" + 12 hex digits that exports made before keyed fingerprints
 * show is still taken as input, so that a file exported then applies
 * unchanged; it is never written any more.
 */
static int
fingerprint_is(const struct pt_config *c, const char *fp, const uint8_t *s,
    size_t n)
{
	uint8_t d[PT_SHA256_LEN];
	char have[PT_FINGERPRINT_MAX];

	if (strncmp(fp, "sha256:", 7) == 0) {
		pt_sha256(s, n, d);
		pt_hex_encode(d, 6, have);
		have[12] = '\0';
		pt_wipe(d, sizeof(d));
		return strcmp(fp + 7, have) == 0;
	}
	if (c == NULL)
		return 0;
	pt_secret_fingerprint(c, s, n, have);
	return strcmp(fp, have) == 0;
}

/* Read a secret from a file: at most 64 KiB, trailing newline dropped. */
static int
read_secret_file(struct vctx *v, const char *ptr, const char *path,
    struct pt_buf *out)
{
	char chunk[4096];
	ssize_t n;
	int fd;

	if (path[0] != '/')
		return conf_fail(v, ptr, "secret file \"%s\" must be an absolute "
		    "path", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return conf_fail(v, ptr, "cannot read secret file %s: %s", path,
		    strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > MAX_SECRET_FILE) {
			close(fd);
			pt_wipe(chunk, sizeof(chunk));
			return conf_fail(v, ptr, "secret file %s is larger than 64 KiB",
			    path);
		}
		if (pt_buf_add(out, chunk, (size_t)n) != PT_OK) {
			close(fd);
			pt_wipe(chunk, sizeof(chunk));
			return conf_fail(v, ptr, "out of memory");
		}
	}
	pt_wipe(chunk, sizeof(chunk));
	close(fd);
	if (n < 0)
		return conf_fail(v, ptr, "cannot read secret file %s: %s", path,
		    strerror(errno));
	while (out->len > 0 && (out->data[out->len - 1] == '\n' ||
	    out->data[out->len - 1] == '\r'))
		out->len--;
	return 0;
}

/* Find an existing key of env "old_env" of config "old" by fingerprint. */
static pt_json *
find_redacted(const struct pt_config *old, const pt_json *old_env,
    const char *fp)
{
	pt_json *keys = pt_json_get(old_env, "signing_keys"), *k, *val;
	const char *s;
	size_t i, n;

	for (i = 0; i < pt_json_len(keys); i++) {
		k = pt_json_index(keys, i);
		val = pt_json_get(k, "value");
		if ((s = pt_json_str(val, &n)) == NULL)
			continue;
		if (fingerprint_is(old, fp, (const uint8_t *)s, n))
			return k;
	}
	return NULL;
}

/*
 * One signing key at "ptr": validate, resolve, and append its normalised
 * form {"secret": spec, "expires_at": ..., "value": resolved} to "nkeys".
 */
int
conf_parse_key(struct vctx *v, const char *ptr, const pt_json *k,
    const pt_json *old_env, pt_json *nkeys, struct pt_key *out)
{
	struct pt_json_iter it = { 0 };
	struct pt_buf val = { 0 };
	pt_json *secret = NULL, *exp = NULL, *stored = NULL, *sv, *nk = NULL;
	const char *key, *s;
	char sub[512];
	int rc = -1, have_exp = 0;
	size_t n;
	int64_t us;

	if (pt_json_type(k) != PT_J_OBJECT)
		return conf_fail(v, ptr, "a signing key must be an object "
		    "{\"secret\": ..., \"expires_at\": ...}");
	while (pt_json_iter_next(k, &it, &key, &sv)) {
		if (strcmp(key, "secret") == 0)
			secret = sv;
		else if (strcmp(key, "expires_at") == 0) {
			exp = sv;
			have_exp = 1;
		} else if (strcmp(key, "value") == 0 && v->mode == PT_CFG_STORED)
			stored = sv;
		else {
			conf_ptr_join(sub, sizeof(sub), ptr, key);
			return conf_fail(v, sub, "unknown field (want secret, "
			    "expires_at)");
		}
	}
	conf_ptr_join(sub, sizeof(sub), ptr, "secret");
	if (secret == NULL)
		return conf_fail(v, sub, "required");

	/* expires_at: null, RFC 3339 text, or unix seconds. */
	out->expires_at = 0;
	if (have_exp && exp != NULL) {
		char esub[512];

		conf_ptr_join(esub, sizeof(esub), ptr, "expires_at");
		if (pt_json_type(exp) == PT_J_STRING) {
			s = pt_json_str(exp, &n);
			if (pt_parse_rfc3339(s, n, &us) < 0)
				return conf_fail(v, esub, "not an RFC 3339 time: "
				    "\"%.40s\"", s);
			out->expires_at = us / 1000000;
			if (out->expires_at <= 0)
				out->expires_at = 1;
		} else if (pt_json_type(exp) == PT_J_INT &&
		    pt_json_int(exp) > 0)
			out->expires_at = pt_json_int(exp);
		else
			return conf_fail(v, esub, "must be null, an RFC 3339 time or "
			    "unix seconds");
	}

	if (v->mode == PT_CFG_STORED) {
		if ((s = pt_json_str(stored, &n)) == NULL)
			return conf_fail(v, sub, "stored key without a value");
		if (pt_buf_add(&val, s, n) != PT_OK)
			goto nomem;
	} else if (pt_json_type(secret) == PT_J_STRING) {
		s = pt_json_str(secret, &n);
		if (pt_buf_add(&val, s, n) != PT_OK)
			goto nomem;
	} else if (pt_json_type(secret) == PT_J_OBJECT &&
	    pt_json_len(secret) == 1) {
		pt_json *f;

		if ((f = pt_json_get(secret, "file")) != NULL) {
			if (pt_json_type(f) != PT_J_STRING) {
				conf_fail(v, sub, "\"file\" must be a path");
				goto out;
			}
			if (read_secret_file(v, sub, pt_json_str(f, NULL), &val) <
			    0)
				goto out;
		} else if ((f = pt_json_get(secret, "env")) != NULL) {
			const char *e;

			if (pt_json_type(f) != PT_J_STRING) {
				conf_fail(v, sub, "\"env\" must be a variable name");
				goto out;
			}
			if ((e = getenv(pt_json_str(f, NULL))) == NULL) {
				conf_fail(v, sub, "environment variable %s is not set",
				    pt_json_str(f, NULL));
				goto out;
			}
			if (pt_buf_adds(&val, e) != PT_OK)
				goto nomem;
		} else if ((f = pt_json_get(secret, "redacted")) != NULL) {
			pt_json *old_key;

			if (pt_json_type(f) != PT_J_STRING || (old_key =
			    find_redacted(v->old, old_env, pt_json_str(f, NULL))) ==
			    NULL) {
				conf_fail(v, sub, "redacted secret %s matches no key "
				    "this environment has now; give the secret "
				    "itself", pt_json_type(f) == PT_J_STRING ?
				    pt_json_str(f, NULL) : "?");
				goto out;
			}
			secret = pt_json_get(old_key, "secret");
			s = pt_json_str(pt_json_get(old_key, "value"), &n);
			if (pt_buf_add(&val, s, n) != PT_OK)
				goto nomem;
		} else {
			conf_fail(v, sub, "must be a string, {\"file\": PATH}, "
			    "{\"env\": NAME} or {\"redacted\": ...}");
			goto out;
		}
	} else {
		conf_fail(v, sub, "must be a string, {\"file\": PATH}, {\"env\": "
		    "NAME} or {\"redacted\": ...}");
		goto out;
	}
	if (val.len == 0) {
		conf_fail(v, sub, "secret is empty");
		goto out;
	}
	if (memchr(val.data, '\0', val.len) != NULL) {
		conf_fail(v, sub, "secret contains a NUL byte");
		goto out;
	}
	if ((nk = pt_json_new_object()) == NULL ||
	    pt_json_set(nk, "secret", pt_json_copy(secret)) != PT_OK ||
	    pt_json_set(nk, "expires_at", exp ? pt_json_copy(exp) : NULL) !=
	    PT_OK ||
	    pt_json_set(nk, "value", pt_json_new_str(val.data, val.len)) !=
	    PT_OK)
		goto nomem;
	if (pt_json_append(nkeys, nk) != PT_OK) {
		nk = NULL;
		goto nomem;
	}
	nk = NULL;
	out->len = val.len;
	if ((out->secret = pt_malloc(val.len)) == NULL)
		goto nomem;
	memcpy(out->secret, val.data, val.len);
	rc = 0;
	goto out;
nomem:
	rc = conf_fail(v, sub, "out of memory");
out:
	pt_json_put(nk);
	if (val.data)
		pt_wipe(val.data, val.cap);
	pt_buf_free(&val);
	return rc;
}
