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
#include "nitems.h"

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

pt_json *
pt_secret_redacted(const struct pt_config *c, const uint8_t *s, size_t n)
{
	char fp[PT_FINGERPRINT_MAX];
	pt_json *red;

	pt_secret_fingerprint(c, s, n, fp);
	if ((red = pt_json_new_object()) == NULL)
		return NULL;
	if (pt_json_set(red, "redacted", pt_json_new_cstr(fp)) != PT_OK) {
		pt_json_put(red);
		return NULL;
	}
	return red;
}

/*
 * Does "fp" name secret "s"?  Besides our fingerprint, the unkeyed
 * "sha256:" + 12 hex digits that exports made before keyed fingerprints
 * show is still taken as input, so that a file exported then applies
 * unchanged; it is never written any more.
 */
int
conf_fingerprint_is(const struct pt_config *c, const char *fp, const uint8_t *s,
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
	if (conf_read_file(v, ptr, "secret file", path, MAX_SECRET_FILE,
	    out) < 0)
		return -1;
	while (out->len > 0 && (out->data[out->len - 1] == '\n' ||
	    out->data[out->len - 1] == '\r'))
		out->len--;
	return 0;
}

int
conf_read_file(struct vctx *v, const char *ptr, const char *what,
    const char *path, size_t max, struct pt_buf *out)
{
	char chunk[4096];
	ssize_t n;
	int fd;

	if (path[0] != '/')
		return conf_fail(v, ptr, "%s \"%s\" must be an absolute "
		    "path", what, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return conf_fail(v, ptr, "cannot read %s %s: %s", what, path,
		    strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > max) {
			close(fd);
			pt_wipe(chunk, sizeof(chunk));
			return conf_fail(v, ptr, "%s %s is larger than %zu KiB",
			    what, path, max / 1024);
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
		return conf_fail(v, ptr, "cannot read %s %s: %s", what, path,
		    strerror(errno));
	return 0;
}

void
conf_secret_wipe(struct conf_secret *cs)
{
	if (cs->val.data)
		pt_wipe(cs->val.data, cs->val.cap);
	pt_buf_free(&cs->val);
}

/* Find an existing key of env "old_env" of config "old" by fingerprint. */
static const pt_json *
find_redacted(const struct pt_config *old, const void *arg, const char *fp)
{
	const pt_json *old_env = arg;
	pt_json *keys = pt_json_get(old_env, "signing_keys"), *k, *val;
	const char *s;
	size_t i, n;

	for (i = 0; i < pt_json_len(keys); i++) {
		k = pt_json_index(keys, i);
		val = pt_json_get(k, "value");
		if ((s = pt_json_str(val, &n)) == NULL)
			continue;
		if (conf_fingerprint_is(old, fp, (const uint8_t *)s, n))
			return k;
	}
	return NULL;
}

/* What a signing key's fields read and fill. */
struct key_in {
	struct conf_secret	 sec;	/* the secret, resolved */
	struct pt_key		*out;
};

/* {"file": PATH}: the file's content. */
static int
ref_file(struct vctx *v, const char *ptr, const pt_json *arg,
    struct conf_secret *cs, const pt_json **spec)
{
	(void)spec;
	if (pt_json_type(arg) != PT_J_STRING)
		return conf_fail(v, ptr, "\"file\" must be a path");
	return read_secret_file(v, ptr, pt_json_str(arg, NULL), &cs->val);
}

/* {"env": NAME}: the responder's (or porterctl's) environment variable. */
static int
ref_env(struct vctx *v, const char *ptr, const pt_json *arg,
    struct conf_secret *cs, const pt_json **spec)
{
	const char *e;

	(void)spec;
	if (pt_json_type(arg) != PT_J_STRING)
		return conf_fail(v, ptr, "\"env\" must be a variable name");
	if ((e = getenv(pt_json_str(arg, NULL))) == NULL)
		return conf_fail(v, ptr, "environment variable %s is not set",
		    pt_json_str(arg, NULL));
	if (pt_buf_adds(&cs->val, e) != PT_OK)
		return conf_fail(v, ptr, "out of memory");
	return 0;
}

/*
 * {"redacted": FINGERPRINT} (what an export shows): the stored secret
 * that has it (cs->find says where to look), kept as it was given then.
 */
static int
ref_redacted(struct vctx *v, const char *ptr, const pt_json *arg,
    struct conf_secret *cs, const pt_json **spec)
{
	const pt_json *old_key;
	const char *s;
	size_t n;

	if (pt_json_type(arg) != PT_J_STRING || (old_key = cs->find(v->old,
	    cs->arg, pt_json_str(arg, NULL))) == NULL)
		return conf_fail(v, ptr, "redacted secret %s matches no %s "
		    "stored now; give the secret itself",
		    pt_json_type(arg) == PT_J_STRING ? pt_json_str(arg, NULL) :
		    "?", cs->what);
	*spec = pt_json_get(old_key, "secret");
	s = pt_json_str(pt_json_get(old_key, "value"), &n);
	if (pt_buf_add(&cs->val, s, n) != PT_OK)
		return conf_fail(v, ptr, "out of memory");
	return 0;
}

/* A secret by reference: an object of one of these members. */
static const struct {
	const char	*name;
	const char	*arg;		/* what it takes, for messages */
	int		(*read)(struct vctx *, const char *, const pt_json *,
			    struct conf_secret *, const pt_json **);
} secret_refs[] = {
	{ "file",	"PATH",	ref_file },
	{ "env",	"NAME",	ref_env },
	{ "redacted",	"...",	ref_redacted },
};

int
conf_resolve_secret(struct vctx *v, const char *ptr, struct conf_secret *cs,
    const pt_json **spec)
{
	const pt_json *arg;
	const char *s;
	char forms[200];
	size_t i, n, used;

	if ((s = pt_json_str(*spec, &n)) != NULL)
		return pt_buf_add(&cs->val, s, n) == PT_OK ? 0 :
		    conf_fail(v, ptr, "out of memory");
	for (i = 0; pt_json_type(*spec) == PT_J_OBJECT &&
	    pt_json_len(*spec) == 1 && i < nitems(secret_refs); i++)
		if ((arg = pt_json_get(*spec, secret_refs[i].name)) != NULL)
			return secret_refs[i].read(v, ptr, arg, cs, spec);
	used = (size_t)snprintf(forms, sizeof(forms), "a string");
	for (i = 0; i < nitems(secret_refs) && used < sizeof(forms); i++)
		used += (size_t)snprintf(forms + used, sizeof(forms) - used,
		    "%s{\"%s\": %s}", i + 1 < nitems(secret_refs) ? ", " :
		    " or ", secret_refs[i].name, secret_refs[i].arg);
	return conf_fail(v, ptr, "must be %s", forms);
}

/* secret: the key itself, or where to find it; read after "value". */
static int
key_secret(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct key_in *ki = in->arg;
	const pt_json *spec = val;
	const char *s;
	size_t n;

	(void)f;
	(void)present;
	if (val == NULL)
		return conf_fail(in->v, ptr, "required");
	if (in->v->mode == PT_CFG_STORED) {
		/* Our own stored form: the resolved value is beside it. */
		if ((s = pt_json_str(conf_sibling(in, "value", NULL), &n)) ==
		    NULL)
			return conf_fail(in->v, ptr, "stored key without a "
			    "value");
		if (pt_buf_add(&ki->sec.val, s, n) != PT_OK)
			return conf_fail(in->v, ptr, "out of memory");
	} else if (conf_resolve_secret(in->v, ptr, &ki->sec, &spec) < 0)
		return -1;
	if (ki->sec.val.len == 0)
		return conf_fail(in->v, ptr, "secret is empty");
	if (memchr(ki->sec.val.data, '\0', ki->sec.val.len) != NULL)
		return conf_fail(in->v, ptr, "secret contains a NUL byte");
	if ((ki->out->secret = pt_malloc(ki->sec.val.len)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	memcpy(ki->out->secret, ki->sec.val.data, ki->sec.val.len);
	ki->out->len = ki->sec.val.len;
	return conf_norm_copy(in->v, ptr, spec, norm);
}

/* expires_at: null, RFC 3339 text, or unix seconds. */
static int
key_expires(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct key_in *ki = in->arg;
	const char *s;
	int64_t us;
	size_t n;

	(void)f;
	(void)present;
	ki->out->expires_at = 0;
	if (val != NULL && pt_json_type(val) == PT_J_STRING) {
		s = pt_json_str(val, &n);
		if (pt_parse_rfc3339(s, n, &us) < 0)
			return conf_fail(in->v, ptr, "not an RFC 3339 time: "
			    "\"%.40s\"", s);
		ki->out->expires_at = us / 1000000;
		if (ki->out->expires_at <= 0)
			ki->out->expires_at = 1;
	} else if (val != NULL && pt_json_type(val) == PT_J_INT &&
	    pt_json_int(val) > 0)
		ki->out->expires_at = pt_json_int(val);
	else if (val != NULL)
		return conf_fail(in->v, ptr, "must be null, an RFC 3339 time "
		    "or unix seconds");
	return conf_norm_copy(in->v, ptr, val, norm);
}

/* value: the resolved secret, in our stored form only. */
static int
key_value(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct key_in *ki = in->arg;

	(void)f;
	(void)val;
	(void)present;
	return conf_norm(in->v, ptr, pt_json_new_str(ki->sec.val.data,
	    ki->sec.val.len), norm);
}

static const struct conf_field key_fields[] = {
	{ "secret",	key_secret, CF_LATE, 0, 0, 0, NULL },
	{ "expires_at",	key_expires, 0, 0, 0, 0, NULL },
	{ "value",	key_value, CF_STORED | CF_LATE, 0, 0, 0, NULL },
};
static const struct conf_table key_table = {
	key_fields, nitems(key_fields)
};

/*
 * One signing key at "ptr": validate, resolve, and append its normalised
 * form {"secret": spec, "expires_at": ..., "value": resolved} to "nkeys".
 */
static int
parse_key(struct vctx *v, const char *ptr, const pt_json *k,
    const pt_json *old_env, pt_json *nkeys, struct pt_key *out)
{
	struct key_in ki = { { find_redacted, old_env, "key this environment "
	    "has", { 0 } }, out };
	pt_json *nk = NULL;
	char shape[100];
	int rc = -1;

	if (pt_json_type(k) != PT_J_OBJECT)
		return conf_fail(v, ptr, "a signing key must be an object %s",
		    conf_shape(v, &key_table, shape, sizeof(shape)));
	if (conf_norm(v, ptr, pt_json_new_object(), &nk) < 0 ||
	    conf_fields(v, ptr, k, &key_table, &ki, nk) < 0)
		goto out;
	rc = pt_json_append(nkeys, nk) == PT_OK ? 0 : conf_fail(v, ptr,
	    "out of memory");
	nk = NULL;
out:
	pt_json_put(nk);
	conf_secret_wipe(&ki.sec);
	return rc;
}

int
conf_parse_keys(struct vctx *v, const char *ptr, const pt_json *val,
    const pt_json *old_env, struct pt_env *e, pt_json **norm)
{
	char sub[600], sub2[700], kerr[300], shape[100];
	size_t i, n;

	if (conf_norm(v, ptr, pt_json_new_array(), norm) < 0)
		return -1;
	if (val == NULL)
		return 0;
	if (pt_json_type(val) != PT_J_ARRAY)
		return conf_fail(v, ptr, "must be an array of %s",
		    conf_shape(v, &key_table, shape, sizeof(shape)));
	if ((n = pt_json_len(val)) > 16)
		return conf_fail(v, ptr, "at most 16 keys");
	if ((e->keys = pt_calloc(n, sizeof(*e->keys))) == NULL ||
	    (e->secrets = pt_calloc(n, sizeof(*e->secrets))) == NULL)
		return conf_fail(v, ptr, "out of memory");
	for (i = 0; i < n; i++) {
		conf_ptr_index(sub, sizeof(sub), ptr, i);
		/* Counted first: the environment frees what a failure left. */
		e->nkeys = i + 1;
		if (parse_key(v, sub, pt_json_index(val, i), old_env, *norm,
		    &e->keys[i]) < 0)
			return -1;
		if (e->scheme != NULL && pt_scheme_check_secret(e->scheme,
		    e->keys[i].secret, e->keys[i].len, kerr, sizeof(kerr)) !=
		    PT_OK) {
			conf_ptr_join(sub2, sizeof(sub2), sub, "secret");
			return conf_fail(v, sub2, "not usable with signature "
			    "scheme %s: %s", pt_scheme_name(e->scheme), kerr);
		}
		e->secrets[i].data = e->keys[i].secret;
		e->secrets[i].len = e->keys[i].len;
		e->secrets[i].expires_at = e->keys[i].expires_at;
	}
	return 0;
}
