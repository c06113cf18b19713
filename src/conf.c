/*
 * conf.c - validate, compile, store, export and diff the configuration
 * (see conf.h; the format is documented in porter.conf(5)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "form.h"
#include "http.h"
#include "ids.h"
#include "sig.h"
#include "timeutil.h"
#include "util.h"

#define MAX_NAME		64
#define MAX_SECRET_FILE		65536
#define MAX_WINDOW		(90 * 86400)

/* Where we are in the document, as a JSON pointer, and where errors go. */
struct vctx {
	const struct pt_config	*old;
	int			 mode;
	char			*err;
	size_t			 errlen;
	int			 oom;	/* a failure was "out of memory" */
};

static int __attribute__((format(printf, 3, 4)))
fail(struct vctx *v, const char *ptr, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message alone: the pointer holds the document's own keys. */
	if (strcmp(msg, "out of memory") == 0)
		v->oom = 1;
	snprintf(v->err, v->errlen, "%s: %s", ptr[0] ? ptr : "/", msg);
	return -1;
}

/* "base" + "/" + escaped "key" (RFC 6901) into "out". */
static void
ptr_join(char *out, size_t cap, const char *base, const char *key)
{
	size_t n;

	n = (size_t)snprintf(out, cap, "%s/", base);
	for (; *key && n + 3 < cap; key++) {
		if (*key == '~') {
			out[n++] = '~';
			out[n++] = '0';
		} else if (*key == '/') {
			out[n++] = '~';
			out[n++] = '1';
		} else
			out[n++] = *key;
	}
	out[n < cap ? n : cap - 1] = '\0';
}

static void
ptr_index(char *out, size_t cap, const char *base, size_t i)
{
	snprintf(out, cap, "%s/%zu", base, i);
}

/* A name (source key, environment): 1-64 of [A-Za-z0-9_.-], not "." first. */
static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MAX_NAME || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* An endpoint id appears in URLs: 8-128 of [A-Za-z0-9_-]. */
static int
valid_endpoint(const char *s, size_t n)
{
	size_t i;

	if (n < 8 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Free "t" and its alternatives. */
static void
template_free(struct pt_template *t)
{
	struct pt_template *next;
	size_t i;

	for (; t != NULL; t = next) {
		next = t->next;
		for (i = 0; i < t->nparts; i++) {
			pt_free(t->text[i]);
			pt_path_free(t->paths[i]);
		}
		pt_free(t->text);
		pt_free(t->paths);
		pt_free(t->tail);
		pt_free(t->source);
		pt_free(t);
	}
}

/*
 * Compile "{path}literal{path}..." into parts.  On failure "msg" says why.
 */
static int
template_compile(const char *s, size_t n, struct pt_template **out,
    const char **msg)
{
	struct pt_template *t;
	const char *p = s, *end = s + n, *open, *close, *pmsg;
	size_t cap = 8;

	*out = NULL;
	*msg = "out of memory";
	if ((t = pt_calloc(1, sizeof(*t))) == NULL ||
	    (t->text = pt_calloc(cap, sizeof(*t->text))) == NULL ||
	    (t->paths = pt_calloc(cap, sizeof(*t->paths))) == NULL ||
	    (t->source = pt_strndup(s, n)) == NULL)
		goto fail;
	while (p < end) {
		open = memchr(p, '{', (size_t)(end - p));
		if (open == NULL)
			break;
		close = memchr(open, '}', (size_t)(end - open));
		if (close == NULL) {
			*msg = "a \"{\" without its \"}\"";
			goto fail;
		}
		if (memchr(p, '}', (size_t)(open - p)) != NULL) {
			*msg = "a \"}\" without its \"{\"";
			goto fail;
		}
		if (t->nparts == cap) {
			*msg = "more than 8 paths";
			goto fail;
		}
		if ((t->text[t->nparts] = pt_strndup(p, (size_t)(open - p))) ==
		    NULL)
			goto fail;
		if (pt_path_compile(open + 1, (size_t)(close - open - 1),
		    &t->paths[t->nparts], &pmsg) != PT_OK) {
			pt_free(t->text[t->nparts]);
			t->text[t->nparts] = NULL;
			*msg = pmsg ? pmsg : "bad path";
			goto fail;
		}
		t->nparts++;
		p = close + 1;
	}
	if (t->nparts == 0) {
		*msg = "no {path} in the template";
		goto fail;
	}
	if (memchr(p, '}', (size_t)(end - p)) != NULL) {
		*msg = "a \"}\" without its \"{\"";
		goto fail;
	}
	if ((t->tail = pt_strndup(p, (size_t)(end - p))) == NULL)
		goto fail;
	*out = t;
	return 0;
fail:
	template_free(t);
	return -1;
}

/* One alternative: 0, or -1 with "why". */
static int
template_eval_one(const struct pt_template *t, const pt_json *body,
    const pt_json *headers, struct pt_buf *out, char *why, size_t whylen)
{
	pt_json *v;
	size_t i;

	for (i = 0; i < t->nparts; i++) {
		pt_buf_adds(out, t->text[i]);
		if (pt_path_resolve(t->paths[i], body, headers, &v, why,
		    whylen) != PT_PATH_FOUND)
			return -1;
		if (pt_json_scalar_text(v, out) != PT_OK) {
			snprintf(why, whylen, "%s is %s, not a scalar",
			    t->paths[i]->text, pt_jtype_name(pt_json_type(v)));
			return -1;
		}
	}
	pt_buf_adds(out, t->tail);
	return out->failed ? -1 : 0;
}

int
pt_template_eval(const struct pt_template *t, const pt_json *body,
    const pt_json *headers, struct pt_buf *out, char *why, size_t whylen)
{
	size_t start = out->len;
	char last[300] = "";

	if (t->next == NULL)
		return template_eval_one(t, body, headers, out, why, whylen);
	for (; t != NULL; t = t->next) {
		if (template_eval_one(t, body, headers, out, last,
		    sizeof(last)) == 0)
			return 0;
		if (out->failed)
			return -1;
		/* Undo the failed alternative's partial text. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	snprintf(why, whylen, "none of the templates applies (the last: %s)",
	    last);
	return -1;
}

static void
env_free(struct pt_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	pt_free(e->source_key);
	pt_free(e->source_name);
	pt_free(e->source_type);
	pt_free(e->name);
	pt_free(e->endpoint_id);
	pt_scheme_free(e->scheme);
	for (i = 0; i < e->nkeys; i++) {
		if (e->keys[i].secret) {
			pt_wipe(e->keys[i].secret, e->keys[i].len);
			pt_free(e->keys[i].secret);
		}
	}
	pt_free(e->keys);
	pt_free(e->secrets);
	pt_path_free(e->event_type_path);
	pt_path_free(e->timestamp_path);
	template_free(e->type_template);
	pt_path_free(e->batch_path);
	pt_path_free(e->idem_key_path);
	pt_free(e->public_url);
	for (i = 0; i < e->nform_json; i++)
		pt_free(e->form_json[i]);
	pt_free(e->form_json);
	for (i = 0; i < e->nmappings; i++)
		pt_mapping_clear(&e->mappings[i]);
	pt_free(e->mappings);
	pt_json_put(e->norm);
	for (i = 0; i < e->nheader_deps; i++)
		pt_free(e->header_deps[i]);
	pt_free(e->header_deps);
	for (i = 0; i < e->ncredential_headers; i++)
		pt_free(e->credential_headers[i]);
	pt_free(e->credential_headers);
	pt_free(e);
}

int
pt_env_names_have(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Add header "name" to the list "*names" of "*n", normalised as the
 * FastCGI loop names headers (lower-case, "_" as "-": CGI cannot tell
 * them apart), once.  Returns 0, or -1 when out of memory.
 */
static int
names_add(char ***names, size_t *n, const char *name)
{
	char *c, *p, **grown;

	if ((c = pt_strdup(name)) == NULL)
		return -1;
	for (p = c; *p != '\0'; p++)
		*p = *p == '_' ? '-' : (*p >= 'A' && *p <= 'Z') ?
		    (char)(*p - 'A' + 'a') : *p;
	if (pt_env_names_have(*names, *n, c)) {
		pt_free(c);
		return 0;
	}
	if ((grown = pt_realloc(*names, (*n + 1) * sizeof(*grown))) == NULL) {
		pt_free(c);
		return -1;
	}
	*names = grown;
	(*names)[(*n)++] = c;
	return 0;
}

/* The header path "p" reads, if it reads one (or all of them). */
static int
path_deps(struct pt_env *e, const struct pt_path *p)
{
	if (p == NULL || p->ns != PT_NS_HEADERS)
		return 0;
	if (p->nsegs == 0) {
		e->all_headers = 1;
		return 0;
	}
	return names_add(&e->header_deps, &e->nheader_deps, p->segs[0].key);
}

/* Every path of a mapping parameter, objects built field by field too. */
static int
param_deps(struct pt_env *e, const struct pt_param *p)
{
	size_t i;

	for (i = 0; i < p->npaths; i++)
		if (path_deps(e, p->paths[i]) < 0)
			return -1;
	for (i = 0; i < p->nfields; i++)
		if (param_deps(e, &p->fields[i]) < 0)
			return -1;
	return 0;
}

/*
 * Fill the header lists of a compiled environment (conf.h): what its
 * scheme reads and what the paths identify() and the mappings resolve
 * read.  Returns 0, or -1 when out of memory.
 */
static int
header_deps(struct pt_env *e)
{
	struct pt_scheme_read reads[PT_SCHEME_MAX_READS];
	size_t i, j, n;

	n = e->scheme != NULL ? pt_scheme_reads(e->scheme, reads) : 0;
	for (i = 0; i < n; i++)
		if (names_add(&e->header_deps, &e->nheader_deps,
		    reads[i].name) < 0 || (reads[i].credential &&
		    names_add(&e->credential_headers, &e->ncredential_headers,
		    reads[i].name) < 0))
			return -1;
	if (e->type_rule == PT_RULE_PATH && e->type_template != NULL) {
		for (i = 0; i < e->type_template->nparts; i++)
			if (path_deps(e, e->type_template->paths[i]) < 0)
				return -1;
	} else if (e->type_rule == PT_RULE_PATH &&
	    path_deps(e, e->event_type_path) < 0)
		return -1;
	if (path_deps(e, e->timestamp_path) < 0 ||
	    path_deps(e, e->batch_path) < 0 ||
	    (e->idem_enabled && path_deps(e, e->idem_key_path) < 0))
		return -1;
	for (i = 0; i < e->nmappings; i++)
		for (j = 0; j < PT_MAX_PARAMS; j++)
			if (param_deps(e, &e->mappings[i].params[j]) < 0)
				return -1;
	return 0;
}

void
pt_config_free(struct pt_config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nenvs; i++)
		env_free(c->envs[i]);
	pt_free(c->envs);
	for (i = 0; i < c->nworkflows; i++) {
		pt_free(c->workflows[i].key);
		for (j = 0; j < c->workflows[i].argc; j++)
			pt_free(c->workflows[i].argv[j]);
		pt_free(c->workflows[i].argv);
		for (j = 0; j < c->workflows[i].cancel_argc; j++)
			pt_free(c->workflows[i].cancel_argv[j]);
		pt_free(c->workflows[i].cancel_argv);
	}
	pt_free(c->workflows);
	pt_json_put(c->doc);
	pt_wipe(c->fp_key, sizeof(c->fp_key));
	pt_free(c);
}

const struct pt_env *
pt_config_env(const struct pt_config *c, const char *source, const char *env)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nenvs; i++)
		if (strcmp(c->envs[i]->source_key, source) == 0 &&
		    strcmp(c->envs[i]->name, env) == 0)
			return c->envs[i];
	return NULL;
}

const struct pt_env *
pt_config_endpoint(const struct pt_config *c, const char *id)
{
	size_t lo = 0, hi, mid;
	int cmp;

	if (c == NULL)
		return NULL;
	hi = c->nenvs;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(id, c->envs[mid]->endpoint_id);
		if (cmp == 0)
			return c->envs[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct pt_workflow *
pt_config_workflow(const struct pt_config *c, const char *key)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nworkflows; i++)
		if (strcmp(c->workflows[i].key, key) == 0)
			return &c->workflows[i];
	return NULL;
}

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
		return fail(v, ptr, "secret file \"%s\" must be an absolute "
		    "path", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return fail(v, ptr, "cannot read secret file %s: %s", path,
		    strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > MAX_SECRET_FILE) {
			close(fd);
			pt_wipe(chunk, sizeof(chunk));
			return fail(v, ptr, "secret file %s is larger than 64 KiB",
			    path);
		}
		if (pt_buf_add(out, chunk, (size_t)n) != PT_OK) {
			close(fd);
			pt_wipe(chunk, sizeof(chunk));
			return fail(v, ptr, "out of memory");
		}
	}
	pt_wipe(chunk, sizeof(chunk));
	close(fd);
	if (n < 0)
		return fail(v, ptr, "cannot read secret file %s: %s", path,
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
static int
parse_key(struct vctx *v, const char *ptr, const pt_json *k,
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
		return fail(v, ptr, "a signing key must be an object "
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
			ptr_join(sub, sizeof(sub), ptr, key);
			return fail(v, sub, "unknown field (want secret, "
			    "expires_at)");
		}
	}
	ptr_join(sub, sizeof(sub), ptr, "secret");
	if (secret == NULL)
		return fail(v, sub, "required");

	/* expires_at: null, RFC 3339 text, or unix seconds. */
	out->expires_at = 0;
	if (have_exp && exp != NULL) {
		char esub[512];

		ptr_join(esub, sizeof(esub), ptr, "expires_at");
		if (pt_json_type(exp) == PT_J_STRING) {
			s = pt_json_str(exp, &n);
			if (pt_parse_rfc3339(s, n, &us) < 0)
				return fail(v, esub, "not an RFC 3339 time: "
				    "\"%.40s\"", s);
			out->expires_at = us / 1000000;
			if (out->expires_at <= 0)
				out->expires_at = 1;
		} else if (pt_json_type(exp) == PT_J_INT &&
		    pt_json_int(exp) > 0)
			out->expires_at = pt_json_int(exp);
		else
			return fail(v, esub, "must be null, an RFC 3339 time or "
			    "unix seconds");
	}

	if (v->mode == PT_CFG_STORED) {
		if ((s = pt_json_str(stored, &n)) == NULL)
			return fail(v, sub, "stored key without a value");
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
				fail(v, sub, "\"file\" must be a path");
				goto out;
			}
			if (read_secret_file(v, sub, pt_json_str(f, NULL), &val) <
			    0)
				goto out;
		} else if ((f = pt_json_get(secret, "env")) != NULL) {
			const char *e;

			if (pt_json_type(f) != PT_J_STRING) {
				fail(v, sub, "\"env\" must be a variable name");
				goto out;
			}
			if ((e = getenv(pt_json_str(f, NULL))) == NULL) {
				fail(v, sub, "environment variable %s is not set",
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
				fail(v, sub, "redacted secret %s matches no key "
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
			fail(v, sub, "must be a string, {\"file\": PATH}, "
			    "{\"env\": NAME} or {\"redacted\": ...}");
			goto out;
		}
	} else {
		fail(v, sub, "must be a string, {\"file\": PATH}, {\"env\": "
		    "NAME} or {\"redacted\": ...}");
		goto out;
	}
	if (val.len == 0) {
		fail(v, sub, "secret is empty");
		goto out;
	}
	if (memchr(val.data, '\0', val.len) != NULL) {
		fail(v, sub, "secret contains a NUL byte");
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
	rc = fail(v, sub, "out of memory");
out:
	pt_json_put(nk);
	if (val.data)
		pt_wipe(val.data, val.cap);
	pt_buf_free(&val);
	return rc;
}

/* A path-valued field; "dflt" when absent; JSON null allowed if "nullable". */
static int
parse_path_field(struct vctx *v, const char *ptr, const pt_json *env,
    const char *field, const char *dflt, int nullable, pt_json *norm,
    struct pt_path **out)
{
	pt_json *val;
	const char *s, *msg;
	char sub[512];
	size_t n;
	int present;

	ptr_join(sub, sizeof(sub), ptr, field);
	present = pt_json_get_ex(env, field, &val);
	if (!present) {
		if (dflt == NULL)
			return pt_json_set(norm, field, NULL) == PT_OK ? 0 :
			    fail(v, sub, "out of memory");
		s = dflt;
		n = strlen(dflt);
	} else if (val == NULL) {
		if (!nullable)
			return fail(v, sub, "must be a path string");
		return pt_json_set(norm, field, NULL) == PT_OK ? 0 :
		    fail(v, sub, "out of memory");
	} else if (pt_json_type(val) != PT_J_STRING)
		return fail(v, sub, "must be a path string%s", nullable ?
		    " or null" : "");
	else
		s = pt_json_str(val, &n);
	if (pt_path_compile(s, n, out, &msg) != PT_OK)
		return fail(v, sub, "bad path \"%.80s\": %s", s, msg ? msg : "?");
	if (pt_json_set(norm, field, pt_json_new_str(s, n)) != PT_OK)
		return fail(v, sub, "out of memory");
	return 0;
}

static int
mapping_cmp(const void *a, const void *b)
{
	const struct pt_mapping *x = a, *y = b;

	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Generate "src_" + 20 base32 characters from the CSPRNG. */
static int
new_endpoint_id(char out[32])
{
	memcpy(out, "src_", 4);
	return pt_random_b32(out + 4, 20) == PT_OK ? 0 : -1;
}

/* "names" (NULL-terminated) as "a, b, c" in "out". */
static const char *
join_names(const char *const *names, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; names[i] != NULL && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
		    names[i]);
	return out;
}

/*
 * An event type template at "ptr": "val" is one template (a string), an
 * array of alternatives, or NULL for none.  Compiled into *out, chained.
 */
static int
parse_templates(struct vctx *v, const char *ptr, const pt_json *val,
    struct pt_template **out)
{
	struct pt_template **tail = out;
	const pt_json *one;
	const char *s, *tmsg;
	char sub[600];
	size_t i, n, count;
	int array = pt_json_type(val) == PT_J_ARRAY;

	*out = NULL;
	if (val == NULL)
		return 0;
	count = array ? pt_json_len(val) : 1;
	if ((!array && pt_json_type(val) != PT_J_STRING) || count == 0 ||
	    count > PT_MAX_TEMPLATES)
		return fail(v, ptr, "must be a template such as "
		    "\"{body.a}:{body.b}\", an array of 1 to %d of them (the "
		    "first whose paths all have values names the event), or null",
		    PT_MAX_TEMPLATES);
	for (i = 0; i < count; i++) {
		one = array ? pt_json_index(val, i) : val;
		if (array)
			ptr_index(sub, sizeof(sub), ptr, i);
		else
			snprintf(sub, sizeof(sub), "%s", ptr);
		if ((s = pt_json_str(one, &n)) == NULL)
			return fail(v, sub, "must be a template string");
		if (template_compile(s, n, tail, &tmsg) < 0)
			return fail(v, sub, "%s", tmsg);
		tail = &(*tail)->next;
	}
	return 0;
}

/* The Content-Types an environment takes, by their names in the config. */
static const struct {
	const char	*name;
	int		 format;
} body_formats[] = {
	{ "json", PT_BODY_JSON },
	{ "form", PT_BODY_FORM },
};

/* The type's default for "field" ("text", JSON), or the field's own value. */
static pt_json *
field_or_default(const pt_json *env, const char *field, const char *text)
{
	pt_json *val;

	if (pt_json_get_ex(env, field, &val))
		return pt_json_ref(val);
	return pt_json_parse_trusted(text, strlen(text));
}

/*
 * body_formats (a non-empty set of "json", "form") and form_json_fields
 * (form fields whose values are JSON text) of environment "e" at "ptr".
 */
static int
parse_body_formats(struct vctx *v, const char *ptr, const pt_json *env,
    const struct pt_source_type *type, pt_json *norm, struct pt_env *e)
{
	pt_json *fmts = NULL, *names = NULL, *one;
	const char *s;
	char sub[512], sub2[600];
	size_t i, j, n, len;
	int rc = -1, f;

	ptr_join(sub, sizeof(sub), ptr, "body_formats");
	if ((fmts = field_or_default(env, "body_formats",
	    pt_catalog_body_formats(type))) == NULL &&
	    pt_json_get_ex(env, "body_formats", NULL) == 0)
		goto nomem;
	if (pt_json_type(fmts) != PT_J_ARRAY || pt_json_len(fmts) == 0) {
		fail(v, sub, "must be a non-empty array of \"json\" and "
		    "\"form\" (application/x-www-form-urlencoded)");
		goto out;
	}
	e->body_formats = 0;
	for (i = 0; i < pt_json_len(fmts); i++) {
		ptr_index(sub2, sizeof(sub2), sub, i);
		s = pt_json_str(pt_json_index(fmts, i), NULL);
		for (j = 0, f = 0; s != NULL && j < PT_NITEMS(body_formats); j++)
			if (strcmp(s, body_formats[j].name) == 0)
				f = body_formats[j].format;
		if (f == 0) {
			fail(v, sub2, "must be \"json\" or \"form\"");
			goto out;
		}
		if (e->body_formats & f) {
			fail(v, sub2, "\"%s\" is listed twice", s);
			goto out;
		}
		e->body_formats |= f;
	}

	ptr_join(sub, sizeof(sub), ptr, "form_json_fields");
	if ((names = field_or_default(env, "form_json_fields",
	    pt_catalog_form_json_fields(type))) == NULL &&
	    pt_json_get_ex(env, "form_json_fields", NULL) == 0)
		goto nomem;
	if (pt_json_type(names) != PT_J_ARRAY ||
	    (n = pt_json_len(names)) > PT_MAX_FORM_JSON) {
		fail(v, sub, "must be an array of at most %d field names",
		    PT_MAX_FORM_JSON);
		goto out;
	}
	if (n > 0 && (e->form_json = pt_calloc(n, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		ptr_index(sub2, sizeof(sub2), sub, i);
		one = pt_json_index(names, i);
		if ((s = pt_json_str(one, &len)) == NULL || len == 0 ||
		    len > PT_FORM_MAX_NAME || memchr(s, '\0', len) != NULL) {
			fail(v, sub2, "must be a field name of 1 to %d bytes",
			    PT_FORM_MAX_NAME);
			goto out;
		}
		for (j = 0; j < e->nform_json; j++)
			if (strcmp(e->form_json[j], s) == 0) {
				fail(v, sub2, "\"%.80s\" is listed twice", s);
				goto out;
			}
		if ((e->form_json[i] = pt_strdup(s)) == NULL)
			goto nomem;
		e->nform_json = i + 1;
	}
	if ((one = pt_json_copy(fmts)) == NULL ||
	    pt_json_set(norm, "body_formats", one) != PT_OK ||
	    (one = pt_json_copy(names)) == NULL ||
	    pt_json_set(norm, "form_json_fields", one) != PT_OK)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = fail(v, ptr, "out of memory");
out:
	pt_json_put(fmts);
	pt_json_put(names);
	return rc;
}

/*
 * One environment "name" of source "src" (already checked) at "ptr".
 */
static int
parse_env(struct vctx *v, const char *ptr, const pt_json *src_obj,
    const struct pt_source_type *type, const char *src_key,
    const char *src_name, const char *name, const pt_json *env,
    struct pt_env **out)
{
	static const char *const fields[] = {
		"endpoint_id", "verify", "signature", "signing_keys",
		"event_type_path", "event_type_template", "event_type_rule",
		"batch_path", "timestamp_path", "idempotency",
		"max_body_bytes", "body_formats", "form_json_fields",
		"mappings", "public_url", NULL
	};
	struct pt_json_iter it = { 0 };
	const struct pt_env *old_env;
	struct pt_env *e = NULL;
	pt_json *val, *norm = NULL, *nkeys = NULL, *maps = NULL, *idem, *iv;
	pt_json *dflt = NULL;
	const char *k, *s;
	char sub[512], sub2[600], eid[32];
	size_t i, n;
	int rc = -1, found;

	(void)src_obj;
	if (pt_json_type(env) != PT_J_OBJECT)
		return fail(v, ptr, "an environment must be an object");
	while (pt_json_iter_next(env, &it, &k, &val)) {
		for (i = 0; fields[i] && strcmp(fields[i], k) != 0; i++)
			;
		if (fields[i] == NULL) {
			char want[400];

			ptr_join(sub, sizeof(sub), ptr, k);
			return fail(v, sub, "unknown field (want %s)",
			    join_names(fields, want, sizeof(want)));
		}
	}
	if ((e = pt_calloc(1, sizeof(*e))) == NULL ||
	    (norm = pt_json_new_object()) == NULL)
		goto nomem;
	if ((e->source_key = pt_strdup(src_key)) == NULL ||
	    (e->source_name = pt_strdup(src_name)) == NULL ||
	    (e->source_type = pt_strdup(type->name)) == NULL ||
	    (e->name = pt_strdup(name)) == NULL)
		goto nomem;
	old_env = pt_config_env(v->old, src_key, name);

	/* endpoint_id: given, kept from before, or new. */
	ptr_join(sub, sizeof(sub), ptr, "endpoint_id");
	if ((val = pt_json_get(env, "endpoint_id")) != NULL) {
		s = pt_json_str(val, &n);
		if (s == NULL || !valid_endpoint(s, n)) {
			fail(v, sub, "must be 8 to 128 characters of "
			    "[A-Za-z0-9_-]");
			goto out;
		}
		e->endpoint_id = pt_strndup(s, n);
	} else if (old_env != NULL)
		e->endpoint_id = pt_strdup(old_env->endpoint_id);
	else {
		if (new_endpoint_id(eid) < 0) {
			fail(v, sub, "cannot read random bytes");
			goto out;
		}
		e->endpoint_id = pt_strdup(eid);
	}
	if (e->endpoint_id == NULL || pt_json_set(norm, "endpoint_id",
	    pt_json_new_cstr(e->endpoint_id)) != PT_OK)
		goto nomem;

	/* signature: a preset name, an object, or null for none. */
	ptr_join(sub, sizeof(sub), ptr, "signature");
	found = pt_json_get_ex(env, "signature", &val);
	if (!found && type->scheme != NULL) {
		e->scheme = pt_scheme_preset(type->scheme);
		if (pt_json_set(norm, "signature",
		    pt_json_new_cstr(type->scheme)) != PT_OK)
			goto nomem;
	} else if (!found || val == NULL) {
		e->scheme = NULL;
		if (pt_json_set(norm, "signature", NULL) != PT_OK)
			goto nomem;
	} else {
		char serr[300];
		struct pt_scheme *sch = NULL;
		enum pt_err src;

		if ((src = pt_scheme_from_json(val, &sch, serr,
		    sizeof(serr))) != PT_OK) {
			v->oom |= src == PT_ENOMEM;
			/* serr starts with its own pointer below "sub". */
			snprintf(v->err, v->errlen, "%s%s", sub, serr);
			goto out;
		}
		e->scheme = sch;
		if (pt_json_set(norm, "signature", pt_json_copy(val)) != PT_OK)
			goto nomem;
	}

	/* signing_keys */
	ptr_join(sub, sizeof(sub), ptr, "signing_keys");
	if ((nkeys = pt_json_new_array()) == NULL)
		goto nomem;
	if ((val = pt_json_get(env, "signing_keys")) != NULL) {
		if (pt_json_type(val) != PT_J_ARRAY) {
			fail(v, sub, "must be an array of {\"secret\": ..., "
			    "\"expires_at\": ...}");
			goto out;
		}
		n = pt_json_len(val);
		if (n > 16) {
			fail(v, sub, "at most 16 keys");
			goto out;
		}
		if ((e->keys = pt_calloc(n, sizeof(*e->keys))) == NULL ||
		    (e->secrets = pt_calloc(n, sizeof(*e->secrets))) == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			ptr_index(sub2, sizeof(sub2), sub, i);
			if (parse_key(v, sub2, pt_json_index(val, i),
			    old_env ? old_env->norm : NULL, nkeys,
			    &e->keys[i]) < 0)
				goto out;
			e->nkeys = i + 1;
			if (e->scheme != NULL) {
				char kerr[300], sub3[700];

				if (pt_scheme_check_secret(e->scheme,
				    e->keys[i].secret, e->keys[i].len, kerr,
				    sizeof(kerr)) != PT_OK) {
					ptr_join(sub3, sizeof(sub3), sub2, "secret");
					fail(v, sub3, "not usable with signature "
					    "scheme %s: %s", pt_scheme_name(e->scheme),
					    kerr);
					goto out;
				}
			}
			e->secrets[i].data = e->keys[i].secret;
			e->secrets[i].len = e->keys[i].len;
			e->secrets[i].expires_at = e->keys[i].expires_at;
		}
	}

	/* verify */
	ptr_join(sub, sizeof(sub), ptr, "verify");
	if ((val = pt_json_get(env, "verify")) != NULL) {
		if (pt_json_type(val) != PT_J_BOOL) {
			fail(v, sub, "must be true or false");
			goto out;
		}
		e->verify = pt_json_bool(val);
	} else
		e->verify = type->verify < 0 ? e->nkeys > 0 : type->verify;
	if (e->verify && e->scheme == NULL) {
		fail(v, sub, "true, but \"signature\" is null: nothing to verify "
		    "with");
		goto out;
	}
	if (e->verify && e->nkeys == 0) {
		fail(v, sub, "true, but there are no signing_keys");
		goto out;
	}
	if (pt_json_set(norm, "verify", pt_json_new_bool(e->verify)) != PT_OK ||
	    pt_json_set(norm, "signing_keys", nkeys) != PT_OK) {
		nkeys = NULL;
		goto nomem;
	}
	nkeys = NULL;

	if (parse_path_field(v, ptr, env, "event_type_path",
	    type->event_type_path, 0, norm, &e->event_type_path) < 0 ||
	    parse_path_field(v, ptr, env, "timestamp_path", type->timestamp_path,
	    1, norm, &e->timestamp_path) < 0 ||
	    parse_path_field(v, ptr, env, "batch_path", type->batch_path, 1,
	    norm, &e->batch_path) < 0)
		goto out;

	/*
	 * event_type_template: used instead of event_type_path when set.  The
	 * type's default applies only where the environment names neither,
	 * so that an operator's own event_type_path is never overridden.
	 */
	ptr_join(sub, sizeof(sub), ptr, "event_type_template");
	found = pt_json_get_ex(env, "event_type_template", &val);
	if (!found && !pt_json_get_ex(env, "event_type_path", NULL) &&
	    type->event_type_template != NULL) {
		if ((dflt = pt_json_parse_trusted(type->event_type_template,
		    strlen(type->event_type_template))) == NULL)
			goto nomem;
		val = dflt;
	} else if (!found)
		val = NULL;
	if (parse_templates(v, sub, val, &e->type_template) < 0)
		goto out;
	if ((iv = val ? pt_json_copy(val) : NULL) == NULL && val != NULL)
		goto nomem;
	if (pt_json_set(norm, "event_type_template", iv) != PT_OK)
		goto nomem;

	/* event_type_rule: how CDP payloads name their events. */
	ptr_join(sub, sizeof(sub), ptr, "event_type_rule");
	found = pt_json_get_ex(env, "event_type_rule", &val);
	s = found ? (val ? pt_json_str(val, NULL) : NULL) : type->event_type_rule;
	e->type_rule = PT_RULE_PATH;
	if (s != NULL && strcmp(s, "segment") == 0)
		e->type_rule = PT_RULE_SEGMENT;
	else if (s != NULL && strcmp(s, "rudderstack") == 0)
		e->type_rule = PT_RULE_RUDDERSTACK;
	else if (s != NULL || (found && val != NULL)) {
		fail(v, sub, "must be \"segment\", \"rudderstack\" or null");
		goto out;
	}
	if (pt_json_set(norm, "event_type_rule", s ? pt_json_new_cstr(s) :
	    NULL) != PT_OK)
		goto nomem;

	/* idempotency */
	ptr_join(sub, sizeof(sub), ptr, "idempotency");
	e->idem_enabled = type->idempotency_enabled;
	e->idem_window = PT_IDEM_WINDOW_DEFAULT;
	if ((idem = pt_json_new_object()) == NULL ||
	    pt_json_set(norm, "idempotency", idem) != PT_OK)
		goto nomem;
	val = pt_json_get(env, "idempotency");
	if (val != NULL && pt_json_type(val) != PT_J_OBJECT) {
		fail(v, sub, "must be an object {\"enabled\", \"key_path\", "
		    "\"window_seconds\"}");
		goto out;
	}
	memset(&it, 0, sizeof(it));
	while (val != NULL && pt_json_iter_next(val, &it, &k, &iv)) {
		ptr_join(sub2, sizeof(sub2), sub, k);
		if (strcmp(k, "enabled") == 0) {
			if (pt_json_type(iv) != PT_J_BOOL) {
				fail(v, sub2, "must be true or false");
				goto out;
			}
			e->idem_enabled = pt_json_bool(iv);
		} else if (strcmp(k, "window_seconds") == 0) {
			if (pt_json_type(iv) != PT_J_INT ||
			    pt_json_int(iv) < 1 ||
			    pt_json_int(iv) > MAX_WINDOW) {
				fail(v, sub2, "must be an integer from 1 to %d",
				    MAX_WINDOW);
				goto out;
			}
			e->idem_window = pt_json_int(iv);
		} else if (strcmp(k, "key_path") != 0) {
			fail(v, sub2, "unknown field (want enabled, key_path, "
			    "window_seconds)");
			goto out;
		}
	}
	if (parse_path_field(v, sub, val, "key_path", type->idempotency_key_path,
	    1, idem, &e->idem_key_path) < 0)
		goto out;
	if (e->idem_enabled && e->idem_key_path == NULL) {
		ptr_join(sub2, sizeof(sub2), sub, "key_path");
		fail(v, sub2, "required when idempotency is enabled");
		goto out;
	}
	if (pt_json_set(idem, "enabled", pt_json_new_bool(e->idem_enabled)) !=
	    PT_OK || pt_json_set(idem, "window_seconds",
	    pt_json_new_int(e->idem_window)) != PT_OK)
		goto nomem;

	/* max_body_bytes */
	ptr_join(sub, sizeof(sub), ptr, "max_body_bytes");
	e->max_body = PT_MAX_BODY_DEFAULT;
	if ((val = pt_json_get(env, "max_body_bytes")) != NULL) {
		if (pt_json_type(val) != PT_J_INT || pt_json_int(val) < 1 ||
		    pt_json_int(val) > PT_MAX_BODY_CAP) {
			fail(v, sub, "must be an integer from 1 to %d (16 MiB)",
			    PT_MAX_BODY_CAP);
			goto out;
		}
		e->max_body = (uint64_t)pt_json_int(val);
	}
	if (pt_json_set(norm, "max_body_bytes",
	    pt_json_new_int((int64_t)e->max_body)) != PT_OK)
		goto nomem;

	/* body_formats and form_json_fields: what the endpoint can parse. */
	if (parse_body_formats(v, ptr, env, type, norm, e) < 0)
		goto out;

	/* public_url */
	ptr_join(sub, sizeof(sub), ptr, "public_url");
	if ((val = pt_json_get(env, "public_url")) != NULL) {
		if (pt_json_type(val) != PT_J_STRING ||
		    (strncmp(pt_json_str(val, NULL), "https://", 8) != 0 &&
		    strncmp(pt_json_str(val, NULL), "http://", 7) != 0)) {
			fail(v, sub, "must be an http(s) URL");
			goto out;
		}
		if ((e->public_url = pt_strdup(pt_json_str(val, NULL))) == NULL ||
		    pt_json_set(norm, "public_url", pt_json_copy(val)) != PT_OK)
			goto nomem;
	} else if (e->verify && e->scheme != NULL &&
	    pt_scheme_signs_url(e->scheme)) {
		/* Else every request would fail its check: say so now. */
		fail(v, sub, "required: scheme %s signs the URL the sender "
		    "calls; give its scheme and host, such as "
		    "\"https://hooks.example.com\"", pt_scheme_name(e->scheme));
		goto out;
	}

	/* mappings: as given, or the type's defaults */
	ptr_join(sub, sizeof(sub), ptr, "mappings");
	if ((val = pt_json_get(env, "mappings")) != NULL) {
		if (pt_json_type(val) != PT_J_ARRAY) {
			fail(v, sub, "must be an array");
			goto out;
		}
		maps = pt_json_copy(val);
	} else
		maps = pt_json_parse_trusted(type->default_mappings,
		    strlen(type->default_mappings));
	if (maps == NULL)
		goto nomem;
	n = pt_json_len(maps);
	if (n > 1000) {
		fail(v, sub, "at most 1000 mappings");
		goto out;
	}
	if (n > 0 && (e->mappings = pt_calloc(n, sizeof(*e->mappings))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		char merr[400];
		enum pt_err mrc;

		if ((mrc = pt_mapping_compile(pt_json_index(maps, i),
		    &e->mappings[i], merr, sizeof(merr))) != PT_OK) {
			v->oom |= mrc == PT_ENOMEM;
			e->nmappings = i + 1;
			ptr_index(sub2, sizeof(sub2), sub, i);
			fail(v, sub2, "%s", merr[0] == ':' ? merr + 2 : merr);
			if (merr[0] == '/')
				snprintf(v->err, v->errlen, "%s%s", sub2, merr);
			goto out;
		}
		e->mappings[i].order = i;
		e->nmappings = i + 1;
	}
	if (n > 1)
		qsort(e->mappings, n, sizeof(*e->mappings), mapping_cmp);
	if (pt_json_set(norm, "mappings", maps) != PT_OK) {
		maps = NULL;
		goto nomem;
	}
	maps = NULL;
	if (header_deps(e) < 0)
		goto nomem;

	e->norm = norm;
	norm = NULL;
	*out = e;
	e = NULL;
	rc = 0;
	goto out;
nomem:
	rc = fail(v, ptr, "out of memory");
out:
	pt_json_put(dflt);
	pt_json_put(maps);
	pt_json_put(nkeys);
	pt_json_put(norm);
	env_free(e);
	return rc;
}

/* settings: {"durability": "full"|"relaxed", "log_retention_days": N} */
static int
parse_settings(struct vctx *v, const pt_json *s, struct pt_config *c,
    pt_json *norm)
{
	struct pt_json_iter it = { 0 };
	const char *k, *d;
	pt_json *val;
	char sub[512];

	c->durability = PT_DURABLE_FULL;
	c->log_retention_days = 30;
	if (s != NULL && pt_json_type(s) != PT_J_OBJECT)
		return fail(v, "/settings", "must be an object");
	while (s != NULL && pt_json_iter_next(s, &it, &k, &val)) {
		ptr_join(sub, sizeof(sub), "/settings", k);
		if (strcmp(k, "durability") == 0) {
			d = pt_json_str(val, NULL);
			if (d != NULL && strcmp(d, "full") == 0)
				c->durability = PT_DURABLE_FULL;
			else if (d != NULL && strcmp(d, "relaxed") == 0)
				c->durability = PT_DURABLE_RELAXED;
			else
				return fail(v, sub, "must be \"full\" or "
				    "\"relaxed\"");
		} else if (strcmp(k, "log_retention_days") == 0) {
			if (pt_json_type(val) != PT_J_INT ||
			    pt_json_int(val) < 1 || pt_json_int(val) > 3650)
				return fail(v, sub, "must be an integer from 1 "
				    "to 3650");
			c->log_retention_days = pt_json_int(val);
		} else
			return fail(v, sub, "unknown field (want durability, "
			    "log_retention_days)");
	}
	if (pt_json_set(norm, "durability", pt_json_new_cstr(c->durability ==
	    PT_DURABLE_FULL ? "full" : "relaxed")) != PT_OK ||
	    pt_json_set(norm, "log_retention_days",
	    pt_json_new_int(c->log_retention_days)) != PT_OK)
		return fail(v, "/settings", "out of memory");
	return 0;
}

/* An argv array at "ptr": 1-64 strings, the first an absolute path. */
static int
parse_argv(struct vctx *v, const char *ptr, const pt_json *fv, char ***argvp,
    size_t *argcp)
{
	size_t n = pt_json_len(fv), j, alen;
	const char *as;
	char **argv;

	if (pt_json_type(fv) != PT_J_ARRAY || n == 0 || n > 64)
		return fail(v, ptr, "must be a non-empty array of strings (argv)");
	if ((argv = pt_calloc(n + 1, sizeof(*argv))) == NULL)
		return fail(v, ptr, "out of memory");
	*argvp = argv;
	for (j = 0; j < n; j++) {
		as = pt_json_str(pt_json_index(fv, j), &alen);
		if (as == NULL || memchr(as, '\0', alen))
			return fail(v, ptr, "element %zu must be a string", j);
		if ((argv[j] = pt_strdup(as)) == NULL)
			return fail(v, ptr, "out of memory");
		*argcp = j + 1;
	}
	if (argv[0][0] != '/')
		return fail(v, ptr, "the program must be an absolute path (there "
		    "is no shell and no PATH search)");
	return 0;
}

static int
workflow_cmp(const void *a, const void *b)
{
	const struct pt_workflow *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/*
 * workflows: {"KEY": {"exec": [...], "timeout_ms": N,
 * "max_output_bytes": N}}; an empty object records runs only.
 */
static int
parse_workflows(struct vctx *v, const pt_json *w, struct pt_config *c)
{
	struct pt_json_iter it = { 0 }, it2;
	const char *k, *f;
	pt_json *val, *fv;
	char sub[512], sub2[600];
	size_t i;

	if (w == NULL)
		return 0;
	if (pt_json_type(w) != PT_J_OBJECT)
		return fail(v, "/workflows", "must be an object of workflow key "
		    "-> {\"exec\": [...], \"timeout_ms\": N}");
	if ((c->workflows = pt_calloc(pt_json_len(w),
	    sizeof(*c->workflows))) == NULL)
		return fail(v, "/workflows", "out of memory");
	while (pt_json_iter_next(w, &it, &k, &val)) {
		struct pt_workflow *wf = &c->workflows[c->nworkflows];

		ptr_join(sub, sizeof(sub), "/workflows", k);
		if (strlen(k) == 0 || strlen(k) > 256 || strchr(k, '/') ||
		    strchr(k, '#'))
			return fail(v, sub, "a workflow key is 1-256 characters "
			    "without / or #");
		if (pt_json_type(val) != PT_J_OBJECT)
			return fail(v, sub, "must be an object");
		if ((wf->key = pt_strdup(k)) == NULL)
			return fail(v, sub, "out of memory");
		c->nworkflows++;
		wf->timeout_ms = 5000;
		wf->max_output = 65536;
		memset(&it2, 0, sizeof(it2));
		while (pt_json_iter_next(val, &it2, &f, &fv)) {
			ptr_join(sub2, sizeof(sub2), sub, f);
			if (strcmp(f, "exec") == 0) {
				if (parse_argv(v, sub2, fv, &wf->argv,
				    &wf->argc) < 0)
					return -1;
			} else if (strcmp(f, "cancel_exec") == 0) {
				if (parse_argv(v, sub2, fv, &wf->cancel_argv,
				    &wf->cancel_argc) < 0)
					return -1;
			} else if (strcmp(f, "timeout_ms") == 0) {
				if (pt_json_type(fv) != PT_J_INT ||
				    pt_json_int(fv) < 1 ||
				    pt_json_int(fv) > 600000)
					return fail(v, sub2, "must be an integer "
					    "from 1 to 600000");
				wf->timeout_ms = pt_json_int(fv);
			} else if (strcmp(f, "max_output_bytes") == 0) {
				if (pt_json_type(fv) != PT_J_INT ||
				    pt_json_int(fv) < 0 ||
				    pt_json_int(fv) > 1048576)
					return fail(v, sub2, "must be an integer "
					    "from 0 to 1048576");
				wf->max_output = (size_t)pt_json_int(fv);
			} else
				return fail(v, sub2, "unknown field (want exec, "
				    "cancel_exec, timeout_ms, max_output_bytes)");
		}
	}
	qsort(c->workflows, c->nworkflows, sizeof(*c->workflows), workflow_cmp);
	for (i = 1; i < c->nworkflows; i++)
		if (strcmp(c->workflows[i - 1].key, c->workflows[i].key) == 0)
			return fail(v, "/workflows", "workflow %s twice",
			    c->workflows[i].key);
	return 0;
}

static int
env_cmp(const void *a, const void *b)
{
	const struct pt_env *const *x = a, *const *y = b;

	return strcmp((*x)->endpoint_id, (*y)->endpoint_id);
}

/* One source object at "ptr": key, name, type, description, environments. */
static int
parse_source(struct vctx *v, const char *ptr, const pt_json *src,
    struct pt_config *c, pt_json *nsources)
{
	struct pt_json_iter it = { 0 };
	const struct pt_source_type *type;
	const char *k, *key = NULL, *name = NULL, *tname = "custom";
	pt_json *val, *envs = NULL, *nsrc = NULL, *nenvs;
	struct pt_env *e = NULL, **grown;
	char sub[512], sub2[600];
	size_t n, i;

	if (pt_json_type(src) != PT_J_OBJECT)
		return fail(v, ptr, "a source must be an object");
	while (pt_json_iter_next(src, &it, &k, &val)) {
		ptr_join(sub, sizeof(sub), ptr, k);
		if (strcmp(k, "key") == 0) {
			key = pt_json_str(val, &n);
			if (key == NULL || !valid_name(key, n))
				return fail(v, sub, "must be 1 to 64 characters "
				    "of [A-Za-z0-9_.-]");
		} else if (strcmp(k, "name") == 0) {
			if (pt_json_type(val) != PT_J_STRING ||
			    pt_json_len(val) > 256)
				return fail(v, sub, "must be a string");
			name = pt_json_str(val, NULL);
		} else if (strcmp(k, "type") == 0) {
			if (pt_json_type(val) != PT_J_STRING ||
			    pt_catalog_lookup(pt_json_str(val, NULL)) == NULL) {
				struct pt_buf names = { 0 };
				const struct pt_source_type *all;
				size_t nt;

				all = pt_catalog_all(&nt);
				for (i = 0; i < nt; i++)
					pt_buf_printf(&names, "%s%s", i ? ", " :
					    "", all[i].name);
				fail(v, sub, "unknown source type (one of %s)",
				    names.data ? names.data : "");
				pt_buf_free(&names);
				return -1;
			}
			tname = pt_json_str(val, NULL);
		} else if (strcmp(k, "description") == 0) {
			if (pt_json_type(val) != PT_J_STRING)
				return fail(v, sub, "must be a string");
		} else if (strcmp(k, "environments") == 0) {
			if (pt_json_type(val) != PT_J_OBJECT ||
			    pt_json_len(val) == 0)
				return fail(v, sub, "must be an object of "
				    "environment name -> settings, with at least "
				    "one");
			envs = val;
		} else
			return fail(v, sub, "unknown field (want key, name, type, "
			    "description, environments)");
	}
	if (key == NULL) {
		ptr_join(sub, sizeof(sub), ptr, "key");
		return fail(v, sub, "required");
	}
	if (envs == NULL) {
		ptr_join(sub, sizeof(sub), ptr, "environments");
		return fail(v, sub, "required");
	}
	for (i = 0; i < c->nenvs; i++)
		if (strcmp(c->envs[i]->source_key, key) == 0) {
			ptr_join(sub, sizeof(sub), ptr, "key");
			return fail(v, sub, "source \"%s\" appears twice", key);
		}
	type = pt_catalog_lookup(tname);
	if (name == NULL)
		name = key;
	if ((nsrc = pt_json_new_object()) == NULL ||
	    pt_json_append(nsources, nsrc) != PT_OK)
		return fail(v, ptr, "out of memory");
	if (pt_json_set(nsrc, "key", pt_json_new_cstr(key)) != PT_OK ||
	    pt_json_set(nsrc, "name", pt_json_new_cstr(name)) != PT_OK ||
	    pt_json_set(nsrc, "type", pt_json_new_cstr(tname)) != PT_OK)
		return fail(v, ptr, "out of memory");
	if ((val = pt_json_get(src, "description")) != NULL &&
	    pt_json_set(nsrc, "description", pt_json_copy(val)) != PT_OK)
		return fail(v, ptr, "out of memory");
	if ((nenvs = pt_json_new_object()) == NULL ||
	    pt_json_set(nsrc, "environments", nenvs) != PT_OK)
		return fail(v, ptr, "out of memory");

	ptr_join(sub, sizeof(sub), ptr, "environments");
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(envs, &it, &k, &val)) {
		ptr_join(sub2, sizeof(sub2), sub, k);
		if (!valid_name(k, strlen(k)))
			return fail(v, sub2, "an environment name is 1 to 64 "
			    "characters of [A-Za-z0-9_.-]");
		if (parse_env(v, sub2, src, type, key, name, k, val, &e) < 0)
			return -1;
		if ((grown = pt_realloc(c->envs, (c->nenvs + 1) *
		    sizeof(*grown))) == NULL) {
			env_free(e);
			return fail(v, sub2, "out of memory");
		}
		c->envs = grown;
		c->envs[c->nenvs++] = e;
		if (pt_json_set(nenvs, k, pt_json_ref(e->norm)) != PT_OK)
			return fail(v, sub2, "out of memory");
	}
	return 0;
}

enum pt_err
pt_config_parse(const pt_json *doc, const struct pt_config *old, int mode,
    struct pt_config **out, char *err, size_t errlen)
{
	struct vctx v = { old, mode, err, errlen, 0 };
	struct pt_json_iter it = { 0 };
	struct pt_config *c = NULL;
	pt_json *val, *sources = NULL, *settings = NULL, *nsettings,
	    *nsources, *workflows = NULL;
	const char *k;
	char sub[64];
	size_t i;
	enum pt_err rc = PT_EINVAL;

	*out = NULL;
	err[0] = '\0';
	if (pt_json_type(doc) != PT_J_OBJECT) {
		fail(&v, "", "the configuration must be a JSON object");
		goto out;
	}
	while (pt_json_iter_next(doc, &it, &k, &val)) {
		if (strcmp(k, "sources") == 0)
			sources = val;
		else if (strcmp(k, "settings") == 0)
			settings = val;
		else if (strcmp(k, "workflows") == 0)
			workflows = val;
		else {
			char p[300];

			ptr_join(p, sizeof(p), "", k);
			fail(&v, p, "unknown field (want settings, sources, "
			    "workflows)");
			goto out;
		}
	}
	if ((c = pt_calloc(1, sizeof(*c))) == NULL ||
	    (c->doc = pt_json_new_object()) == NULL ||
	    (nsettings = pt_json_new_object()) == NULL ||
	    pt_json_set(c->doc, "settings", nsettings) != PT_OK ||
	    (nsources = pt_json_new_array()) == NULL ||
	    pt_json_set(c->doc, "sources", nsources) != PT_OK) {
		rc = PT_ENOMEM;
		fail(&v, "", "out of memory");
		goto out;
	}
	if (old != NULL) {
		memcpy(c->fp_key, old->fp_key, sizeof(c->fp_key));
		c->fp_key_stored = old->fp_key_stored;
	} else if (pt_random(c->fp_key, sizeof(c->fp_key)) != PT_OK) {
		fail(&v, "", "cannot read random bytes");
		goto out;
	}
	if (parse_settings(&v, settings, c, nsettings) < 0)
		goto out;
	if (sources != NULL && pt_json_type(sources) != PT_J_ARRAY) {
		fail(&v, "/sources", "must be an array of sources");
		goto out;
	}
	for (i = 0; i < pt_json_len(sources); i++) {
		ptr_index(sub, sizeof(sub), "/sources", i);
		if (parse_source(&v, sub, pt_json_index(sources, i), c,
		    nsources) < 0)
			goto out;
	}
	if (parse_workflows(&v, workflows, c) < 0)
		goto out;
	if (workflows != NULL && pt_json_set(c->doc, "workflows",
	    pt_json_copy(workflows)) != PT_OK) {
		fail(&v, "/workflows", "out of memory");
		goto out;
	}
	if (c->nenvs > 1)
		qsort(c->envs, c->nenvs, sizeof(*c->envs), env_cmp);
	for (i = 1; i < c->nenvs; i++)
		if (strcmp(c->envs[i - 1]->endpoint_id,
		    c->envs[i]->endpoint_id) == 0) {
			snprintf(err, errlen, "/sources: endpoint_id %s is used by "
			    "both %s/%s and %s/%s", c->envs[i]->endpoint_id,
			    c->envs[i - 1]->source_key, c->envs[i - 1]->name,
			    c->envs[i]->source_key, c->envs[i]->name);
			goto out;
		}
	*out = c;
	c = NULL;
	rc = PT_OK;
out:
	/*
	 * Not strstr(err, ...): a key named "out of memory" made an invalid
	 * document a 500 (fuzz-handler, PUT /admin/api/config).
	 */
	if (rc != PT_OK && v.oom)
		rc = PT_ENOMEM;
	pt_config_free(c);
	return rc;
}

static const char config_key[] = "doc";
static const char gen_key[] = "config_gen";
static const char fp_key_key[] = "fingerprint_key";

/*
 * Read the store's fingerprint key into "c", if it has one.  The value
 * dies with the transaction: copied.
 */
static enum pt_err
fp_key_read(struct pt_txn *txn, struct pt_config *c)
{
	struct pt_val v;
	enum pt_err rc;

	rc = pt_get(txn, PT_T_META, fp_key_key, sizeof(fp_key_key) - 1, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (v.len != PT_FP_KEY_LEN)
		return PT_ECORRUPT;
	memcpy(c->fp_key, v.data, PT_FP_KEY_LEN);
	c->fp_key_stored = 1;
	return PT_OK;
}

/* The stored key into "c", or c's key into a store that has none. */
static enum pt_err
fp_key_keep(struct pt_txn *txn, struct pt_config *c)
{
	enum pt_err rc;

	c->fp_key_stored = 0;
	if ((rc = fp_key_read(txn, c)) != PT_OK || c->fp_key_stored)
		return rc;
	if ((rc = pt_put(txn, PT_T_META, fp_key_key, sizeof(fp_key_key) - 1,
	    c->fp_key, sizeof(c->fp_key), PT_PUT_NOOVERWRITE)) != PT_OK)
		return rc;
	c->fp_key_stored = 1;
	return PT_OK;
}

enum pt_err
pt_config_fp_key_init(struct pt_store *store)
{
	struct pt_config c;
	struct pt_txn *txn = NULL;
	enum pt_err rc;

	memset(&c, 0, sizeof(c));
	if ((rc = pt_txn_begin(store, NULL, PT_TXN_READ, &txn)) != PT_OK)
		return rc;
	rc = fp_key_read(txn, &c);
	pt_txn_abort(txn);
	if (rc != PT_OK || c.fp_key_stored)
		goto out;
	/* Another process may make it meanwhile: fp_key_keep reads again. */
	if ((rc = pt_random(c.fp_key, sizeof(c.fp_key))) != PT_OK ||
	    (rc = pt_txn_begin(store, NULL, PT_TXN_WRITE, &txn)) != PT_OK)
		goto out;
	if ((rc = fp_key_keep(txn, &c)) != PT_OK) {
		pt_txn_abort(txn);
		goto out;
	}
	rc = pt_txn_commit(txn);
out:
	pt_wipe(c.fp_key, sizeof(c.fp_key));
	return rc;
}

enum pt_err
pt_config_stored_gen(struct pt_txn *txn, uint64_t *gen)
{
	struct pt_val v;
	enum pt_err rc;

	*gen = 0;
	rc = pt_get(txn, PT_T_META, gen_key, sizeof(gen_key) - 1, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (v.len != 8)
		return PT_ECORRUPT;
	*gen = pt_be64_get(v.data);
	return PT_OK;
}

enum pt_err
pt_config_load(struct pt_txn *txn, struct pt_config **out, char *err,
    size_t errlen)
{
	struct pt_val v;
	pt_json *doc = NULL;
	enum pt_err rc;
	uint64_t gen;

	*out = NULL;
	err[0] = '\0';
	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK) {
		snprintf(err, errlen, "reading config generation: %s",
		    pt_strerror(rc));
		return rc;
	}
	rc = pt_get(txn, PT_T_CONFIG, config_key, sizeof(config_key) - 1, &v);
	if (rc == PT_ENOTFOUND) {
		/* Never applied: an empty configuration. */
		if ((doc = pt_json_new_object()) == NULL)
			return PT_ENOMEM;
		rc = pt_config_parse(doc, NULL, PT_CFG_STORED, out, err, errlen);
		pt_json_put(doc);
		if (rc == PT_OK) {
			(*out)->gen = gen;
			rc = fp_key_read(txn, *out);
		}
		return rc == PT_OK ? PT_ENOTFOUND : rc;
	}
	if (rc != PT_OK) {
		snprintf(err, errlen, "reading config: %s", pt_strerror(rc));
		return rc;
	}
	/* The value dies with the transaction: json-c copies what it keeps. */
	if ((doc = pt_json_parse_trusted(v.data, v.len)) == NULL) {
		snprintf(err, errlen, "stored config does not parse");
		return PT_ECORRUPT;
	}
	rc = pt_config_parse(doc, NULL, PT_CFG_STORED, out, err, errlen);
	pt_json_put(doc);
	if (rc == PT_OK) {
		(*out)->gen = gen;
		if ((rc = fp_key_read(txn, *out)) != PT_OK)
			snprintf(err, errlen, "reading the fingerprint key: %s",
			    pt_strerror(rc));
	} else if (rc == PT_EINVAL)
		rc = PT_ECORRUPT;
	return rc;
}

enum pt_err
pt_config_save(struct pt_txn *txn, struct pt_config *c)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k;
	struct pt_buf val = { 0 };
	enum pt_err rc;
	const char *text;
	uint8_t g[8];
	uint64_t gen;
	size_t i, n;

	if ((rc = pt_config_stored_gen(txn, &gen)) != PT_OK ||
	    (rc = fp_key_keep(txn, c)) != PT_OK)
		return rc;
	if ((text = pt_json_text(c->doc, PT_JSON_PLAIN, &n)) == NULL)
		return PT_ENOMEM;
	if ((rc = pt_put(txn, PT_T_CONFIG, config_key, sizeof(config_key) - 1,
	    text, n, 0)) != PT_OK)
		return rc;
	/* Rebuild the endpoint index: endpoint id -> "source\0env". */
	if ((rc = pt_cursor_open(txn, PT_T_ENDPOINTS, &cur)) != PT_OK)
		return rc;
	while ((rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL)) ==
	    PT_OK)
		if ((rc = pt_cursor_del(cur)) != PT_OK)
			break;
	pt_cursor_close(cur);
	if (rc != PT_ENOTFOUND)
		return rc;
	for (i = 0; i < c->nenvs; i++) {
		pt_buf_reset(&val);
		pt_buf_adds(&val, c->envs[i]->source_key);
		pt_buf_addc(&val, '\0');
		pt_buf_adds(&val, c->envs[i]->name);
		if (val.failed) {
			pt_buf_free(&val);
			return PT_ENOMEM;
		}
		if ((rc = pt_put(txn, PT_T_ENDPOINTS, c->envs[i]->endpoint_id,
		    strlen(c->envs[i]->endpoint_id), val.data, val.len, 0)) !=
		    PT_OK) {
			pt_buf_free(&val);
			return rc;
		}
	}
	pt_buf_free(&val);
	pt_be64_put(g, gen + 1);
	if ((rc = pt_put(txn, PT_T_META, gen_key, sizeof(gen_key) - 1, g, 8,
	    0)) != PT_OK)
		return rc;
	c->gen = gen + 1;
	return PT_OK;
}

/*
 * Export transformation of one normalised key: drop the resolved value and,
 * unless "with_secrets", replace an inline secret by its fingerprint.
 */
static enum pt_err
export_key(const struct pt_config *c, pt_json *k, int with_secrets)
{
	pt_json *secret = pt_json_get(k, "secret"), *red;
	const char *s;
	char fp[PT_FINGERPRINT_MAX];
	size_t n;

	if (pt_json_type(secret) == PT_J_STRING && !with_secrets) {
		s = pt_json_str(secret, &n);
		pt_secret_fingerprint(c, (const uint8_t *)s, n, fp);
		if ((red = pt_json_new_object()) == NULL ||
		    pt_json_set(red, "redacted", pt_json_new_cstr(fp)) != PT_OK ||
		    pt_json_set(k, "secret", red) != PT_OK)
			return PT_ENOMEM;
	}
	pt_json_del(k, "value");
	return PT_OK;
}

pt_json *
pt_config_export(const struct pt_config *c, int with_secrets)
{
	pt_json *doc, *sources, *envs, *env, *keys;
	struct pt_json_iter it;
	const char *name;
	size_t i, j;

	if ((doc = pt_json_copy(c->doc)) == NULL)
		return NULL;
	sources = pt_json_get(doc, "sources");
	for (i = 0; i < pt_json_len(sources); i++) {
		envs = pt_json_get(pt_json_index(sources, i), "environments");
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &name, &env)) {
			keys = pt_json_get(env, "signing_keys");
			for (j = 0; j < pt_json_len(keys); j++)
				if (export_key(c, pt_json_index(keys, j),
				    with_secrets) != PT_OK) {
					pt_json_put(doc);
					return NULL;
				}
		}
	}
	return doc;
}

/*
 * Names of the members of "a" and "b" that differ, into "out", leaving
 * out "skip" (or NULL).  Returns how many.
 */
static size_t
diff_fields(const pt_json *a, const pt_json *b, const char *skip,
    struct pt_buf *out)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *va, *vb;
	size_t n = 0;

	while (pt_json_iter_next(b, &it, &k, &vb)) {
		if ((skip && strcmp(k, skip) == 0) ||
		    (pt_json_get_ex(a, k, &va) && pt_json_equal(va, vb)))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	memset(&it, 0, sizeof(it));
	while (pt_json_iter_next(a, &it, &k, &va)) {
		if ((skip && strcmp(k, skip) == 0) || pt_json_get_ex(b, k, NULL))
			continue;
		pt_buf_printf(out, "%s%s", n++ ? ", " : "", k);
	}
	return n;
}

/* The source "key" of the stored document's "sources", or NULL. */
static pt_json *
doc_source(const pt_json *sources, const char *key, size_t *at)
{
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(sources); i++) {
		k = pt_json_str(pt_json_get(pt_json_index(sources, i), "key"),
		    NULL);
		if (k != NULL && strcmp(k, key) == 0) {
			if (at != NULL)
				*at = i;
			return pt_json_index(sources, i);
		}
	}
	return NULL;
}

/*
 * "~ <what>: <fields>" when "a" and "b" differ (a member's name alone when
 * they are not both objects).  Returns 1 for a change, else 0.
 */
static size_t
diff_line(const char *what, const pt_json *a, const pt_json *b,
    const char *skip, struct pt_buf *out)
{
	struct pt_buf f = { 0 };
	size_t n;

	if (pt_json_type(a) != PT_J_OBJECT || pt_json_type(b) != PT_J_OBJECT) {
		if (pt_json_equal(a, b))
			return 0;
		pt_buf_printf(out, "~ %s\n", what);
		return 1;
	}
	if ((n = diff_fields(a, b, skip, &f)) > 0)
		pt_buf_printf(out, "~ %s: %s\n", what, f.data);
	pt_buf_free(&f);
	return n > 0;
}

/*
 * The diff walks the stored documents (c->doc), which hold every field
 * the parser keeps: each environment's normalised settings (e->norm is
 * the document's), each source's own members, the order of the sources,
 * and every other top-level member, whatever it is.  So a field added to
 * the parser is in the diff without being named here, and applying a
 * change to any one field is never "no changes".
 */
size_t
pt_config_diff(const struct pt_config *prev, const struct pt_config *next,
    struct pt_buf *out)
{
	struct pt_json_iter it = { 0 };
	const struct pt_env *e, *o;
	const pt_json *pdoc = prev ? prev->doc : NULL;
	pt_json *a, *b, *psrc = pt_json_get(pdoc, "sources"),
	    *nsrc = pt_json_get(next->doc, "sources");
	struct pt_buf order = { 0 }, what = { 0 };
	const char *k;
	size_t i, at, last = 0, changes = 0, same = 0;
	int moved = 0;

	for (i = 0; i < next->nenvs; i++) {
		e = next->envs[i];
		o = pt_config_env(prev, e->source_key, e->name);
		if (o == NULL) {
			pt_buf_printf(out, "+ %s/%s  POST /receive/%s%s\n",
			    e->source_key, e->name, e->endpoint_id, e->verify ?
			    "" : "  (verify off: accepts unsigned requests)");
			changes++;
		} else if (!pt_json_equal(o->norm, e->norm)) {
			pt_buf_reset(&what);
			pt_buf_printf(&what, "%s/%s", e->source_key, e->name);
			changes += diff_line(what.data, o->norm, e->norm, NULL,
			    out);
		} else
			same++;
	}
	for (i = 0; prev != NULL && i < prev->nenvs; i++) {
		o = prev->envs[i];
		if (pt_config_env(next, o->source_key, o->name) == NULL) {
			pt_buf_printf(out, "- %s/%s  (endpoint %s removed)\n",
			    o->source_key, o->name, o->endpoint_id);
			changes++;
		}
	}
	/* A source's own members (name, type, ...) and the sources' order. */
	for (i = 0; i < pt_json_len(nsrc); i++) {
		b = pt_json_index(nsrc, i);
		k = pt_json_str(pt_json_get(b, "key"), NULL);
		pt_buf_printf(&order, "%s%s", i ? ", " : "", k);
		if ((a = doc_source(psrc, k, &at)) == NULL)
			continue;
		if (at < last)
			moved = 1;
		last = at;
		pt_buf_reset(&what);
		pt_buf_printf(&what, "source %s", k);
		changes += diff_line(what.data, a, b, "environments", out);
	}
	if (moved) {
		pt_buf_printf(out, "~ order of the sources: %s\n", order.data);
		changes++;
	}
	/* Every other top-level member, in either document. */
	while (pt_json_iter_next(next->doc, &it, &k, &b))
		if (strcmp(k, "sources") != 0)
			changes += diff_line(k, pt_json_get(pdoc, k), b, NULL,
			    out);
	memset(&it, 0, sizeof(it));
	while (pdoc != NULL && pt_json_iter_next(pdoc, &it, &k, &a))
		if (strcmp(k, "sources") != 0 && !pt_json_get_ex(next->doc, k,
		    NULL))
			changes += diff_line(k, a, NULL, NULL, out);
	pt_buf_free(&order);
	pt_buf_free(&what);
	if (changes == 0)
		pt_buf_printf(out, "no changes (%zu environment%s)\n", same,
		    same == 1 ? "" : "s");
	else if (same)
		pt_buf_printf(out, "= %zu environment%s unchanged\n", same,
		    same == 1 ? "" : "s");
	return changes;
}
