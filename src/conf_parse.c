/*
 * conf_parse.c - validate and compile a configuration document: its top
 * level, settings, workflows and sources (environments: conf_env.c).
 * Errors name the place as a JSON pointer (RFC 6901).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "catalog.h"
#include "conf.h"
#include "conf_int.h"
#include "httpc.h"
#include "ids.h"
#include "nitems.h"

#define MAX_NAME		64

int __attribute__((format(printf, 3, 4)))
conf_fail(struct vctx *v, const char *ptr, const char *fmt, ...)
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
void
conf_ptr_join(char *out, size_t cap, const char *base, const char *key)
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

void
conf_ptr_index(char *out, size_t cap, const char *base, size_t i)
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

/* The table's field called "name", or NULL. */
static const struct conf_field *
field_named(const struct conf_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	return NULL;
}

/* May an operator write field "f" in this mode? */
static int
field_visible(const struct vctx *v, const struct conf_field *f)
{
	return !(f->flags & CF_STORED) || v->mode == PT_CFG_STORED;
}

/* The names of the fields an operator may write, "a, b, c", into "buf". */
static const char *
field_names(const struct vctx *v, const struct conf_table *t, char *buf,
    size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < t->n && used < len; i++)
		if (field_visible(v, &t->fields[i]))
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    used ? ", " : "", t->fields[i].name);
	return buf;
}

const char *
conf_shape(const struct vctx *v, const struct conf_table *t, char *buf,
    size_t len)
{
	size_t i, used;

	used = (size_t)snprintf(buf, len, "{");
	for (i = 0; i < t->n && used < len; i++)
		if (field_visible(v, &t->fields[i]))
			used += (size_t)snprintf(buf + used, len - used,
			    "%s\"%s\": ...", used > 1 ? ", " : "",
			    t->fields[i].name);
	if (used < len)
		snprintf(buf + used, len - used, "}");
	return buf;
}

int
conf_fields(struct vctx *v, const char *ptr, const pt_json *obj,
    const struct conf_table *t, void *arg, pt_json *norm)
{
	struct pt_json_iter it = { 0 };
	struct conf_in in;
	const struct conf_field *f;
	pt_json *val, *made[CONF_MAX_FIELDS] = { NULL };
	const char *k;
	char sub[600], want[400];
	unsigned omit = 0;
	size_t i;
	int late, r, rc = -1;

	if (t->n > CONF_MAX_FIELDS)
		abort();
	memset(&in, 0, sizeof(in));
	in.v = v;
	in.table = t;
	in.arg = arg;
	while (obj != NULL && pt_json_iter_next(obj, &it, &k, &val)) {
		if ((f = field_named(t, k)) == NULL || !field_visible(v, f)) {
			conf_ptr_join(sub, sizeof(sub), ptr, k);
			return conf_fail(v, sub, "unknown field (want %s)",
			    field_names(v, t, want, sizeof(want)));
		}
		in.vals[f - t->fields] = val;
		in.given |= 1u << (f - t->fields);
	}
	for (late = 0; late <= 1; late++)
		for (i = 0; i < t->n; i++) {
			f = &t->fields[i];
			if (((f->flags & CF_LATE) != 0) != late)
				continue;
			conf_ptr_join(sub, sizeof(sub), ptr, f->name);
			if ((r = f->parse(&in, f, sub, in.vals[i],
			    (in.given >> i) & 1, &made[i])) < 0)
				goto out;
			if (r == CONF_OMIT)
				omit |= 1u << i;
		}
	for (i = 0; norm != NULL && i < t->n; i++) {
		if ((omit >> i) & 1)
			continue;
		val = made[i];
		made[i] = NULL;
		if ((val != NULL ? pt_json_set(norm, t->fields[i].name, val) :
		    pt_json_set_null(norm, t->fields[i].name)) != PT_OK) {
			conf_ptr_join(sub, sizeof(sub), ptr, t->fields[i].name);
			conf_fail(v, sub, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < t->n; i++)
		pt_json_put(made[i]);
	return rc;
}

const pt_json *
conf_sibling(const struct conf_in *in, const char *name, int *present)
{
	const struct conf_field *f;
	size_t i;

	if ((f = field_named(in->table, name)) == NULL)
		abort();
	i = (size_t)(f - in->table->fields);
	if (present != NULL)
		*present = (in->given >> i) & 1;
	return in->vals[i];
}

int
conf_int(struct vctx *v, const struct conf_field *f, const char *ptr,
    const pt_json *val, int given, int64_t *out)
{
	char mib[32] = "";

	if (!given) {
		*out = f->dflt;
		return 0;
	}
	if (pt_json_type(val) == PT_J_INT && pt_json_int(val) >= f->min &&
	    pt_json_int(val) <= f->max) {
		*out = pt_json_int(val);
		return 0;
	}
	if ((f->flags & CF_BYTES) && f->max % (1024 * 1024) == 0)
		snprintf(mib, sizeof(mib), " (%lld MiB)",
		    (long long)(f->max / (1024 * 1024)));
	return conf_fail(v, ptr, "must be an integer from %lld to %lld%s",
	    (long long)f->min, (long long)f->max, mib);
}

int
conf_bool(struct vctx *v, const char *ptr, const pt_json *val, int given,
    int dflt, int *out)
{
	if (!given) {
		*out = dflt;
		return 0;
	}
	if (pt_json_type(val) != PT_J_BOOL)
		return conf_fail(v, ptr, "must be true or false");
	*out = pt_json_bool(val);
	return 0;
}

int
conf_norm(struct vctx *v, const char *ptr, pt_json *made, pt_json **norm)
{
	if (made == NULL)
		return conf_fail(v, ptr, "out of memory");
	*norm = made;
	return 0;
}

int
conf_norm_copy(struct vctx *v, const char *ptr, const pt_json *val,
    pt_json **norm)
{
	*norm = NULL;
	return val == NULL ? 0 : conf_norm(v, ptr, pt_json_copy(val), norm);
}

/*
 * settings: {"durability": "full"|"relaxed", "log_retention_days": N,
 * "max_store_bytes": N, "min_free_disk_bytes": N}
 */
static int
set_durability(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct pt_config *c = in->arg;
	const char *d = pt_json_str(val, NULL);

	(void)f;
	c->durability = PT_DURABLE_FULL;
	if (present && d != NULL && strcmp(d, "relaxed") == 0)
		c->durability = PT_DURABLE_RELAXED;
	else if (present && (d == NULL || strcmp(d, "full") != 0))
		return conf_fail(in->v, ptr, "must be \"full\" or \"relaxed\"");
	return conf_norm(in->v, ptr, pt_json_new_cstr(c->durability ==
	    PT_DURABLE_FULL ? "full" : "relaxed"), norm);
}

static int
set_retention(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct pt_config *c = in->arg;

	if (conf_int(in->v, f, ptr, val, present, &c->log_retention_days) < 0)
		return -1;
	return conf_norm(in->v, ptr, pt_json_new_int(c->log_retention_days),
	    norm);
}

/* The store's ceiling and the disk it leaves free (store.h). */
static int
set_store_limit(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct pt_config *c = in->arg;
	int64_t *out = strcmp(f->name, "max_store_bytes") == 0 ?
	    &c->max_store_bytes : &c->min_free_disk_bytes;

	*norm = NULL;
	if (!present && strcmp(f->name, "min_free_disk_bytes") == 0) {
		*out = -1;	/* the store's default (store.h) */
		return CONF_OMIT;
	}
	if (conf_int(in->v, f, ptr, val, present, out) < 0)
		return -1;
	if (f->min == 0 && *out > 0 && *out < (1 << 20) &&
	    strcmp(f->name, "max_store_bytes") == 0)
		return conf_fail(in->v, ptr, "must be 0 (no ceiling) or at "
		    "least 1048576 (1 MiB)");
	return conf_norm(in->v, ptr, pt_json_new_int(*out), norm);
}

#define STORE_BYTES_MAX	(1LL << 50)
static const struct conf_field settings_fields[] = {
	{ "durability",		set_durability, 0, 0, 0, 0, NULL },
	{ "log_retention_days",	set_retention, 0, 1, 3650, 30, NULL },
	{ "max_store_bytes",	set_store_limit, CF_BYTES, 0,
	    STORE_BYTES_MAX, 0, NULL },
	{ "min_free_disk_bytes", set_store_limit, CF_BYTES, 0,
	    STORE_BYTES_MAX, 0, NULL },
};
static const struct conf_table settings_table = {
	settings_fields, nitems(settings_fields)
};

/* An argv array at "ptr": 1-64 strings, the first an absolute path. */
static int
parse_argv(struct vctx *v, const char *ptr, const pt_json *fv, char ***argvp,
    size_t *argcp)
{
	size_t n = pt_json_len(fv), j, alen;
	const char *as;
	char **argv;

	if (pt_json_type(fv) != PT_J_ARRAY || n == 0 || n > 64)
		return conf_fail(v, ptr, "must be a non-empty array of strings "
		    "(argv)");
	if ((argv = pt_calloc(n + 1, sizeof(*argv))) == NULL)
		return conf_fail(v, ptr, "out of memory");
	*argvp = argv;
	for (j = 0; j < n; j++) {
		as = pt_json_str(pt_json_index(fv, j), &alen);
		if (as == NULL || memchr(as, '\0', alen))
			return conf_fail(v, ptr, "element %zu must be a string",
			    j);
		if ((argv[j] = pt_strdup(as)) == NULL)
			return conf_fail(v, ptr, "out of memory");
		*argcp = j + 1;
	}
	if (argv[0][0] != '/')
		return conf_fail(v, ptr, "the program must be an absolute path "
		    "(there is no shell and no PATH search)");
	return 0;
}

/*
 * A workflow's fields.  The document keeps the workflows as written (the
 * workflow handlers' own argv, exactly): these compile, they give no
 * normalised values.
 */
static int
wf_exec(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct pt_workflow *wf = in->arg;

	(void)f;
	(void)norm;
	return present ? parse_argv(in->v, ptr, val, &wf->argv, &wf->argc) : 0;
}

static int
wf_cancel_exec(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct pt_workflow *wf = in->arg;

	(void)f;
	(void)norm;
	return present ? parse_argv(in->v, ptr, val, &wf->cancel_argv,
	    &wf->cancel_argc) : 0;
}

static int
wf_timeout(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct pt_workflow *wf = in->arg;

	(void)norm;
	return conf_int(in->v, f, ptr, val, present, &wf->timeout_ms);
}

static int
wf_max_output(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct pt_workflow *wf = in->arg;
	int64_t n;

	(void)norm;
	if (conf_int(in->v, f, ptr, val, present, &n) < 0)
		return -1;
	wf->max_output = (size_t)n;
	return 0;
}

/* What an HTTP handler's fields fill. */
struct http_in {
	struct pt_workflow	*wf;
	const char		*key;		/* the workflow's */
	struct conf_secret	 sec;
};

static int
http_url(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in *hi = in->arg;
	const char *s;
	size_t n;

	(void)f;
	(void)norm;
	if (!present)
		return conf_fail(in->v, ptr, "required: where to POST the run");
	if ((s = pt_json_str(val, &n)) == NULL || n > 2048 ||
	    memchr(s, '\0', n) != NULL ||
	    (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
		return conf_fail(in->v, ptr, "must be an http:// or https:// URL "
		    "(at most 2048 bytes)");
	if ((hi->wf->http_url = pt_strdup(s)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	return 0;
}

/*
 * A header value: a string, or {"redacted": FINGERPRINT} (what an export
 * shows) for the value workflow "key"'s stored header "name" has.
 */
static const char *
header_value(struct vctx *v, const char *key, const char *name,
    const pt_json *val)
{
	const char *fp, *s;
	size_t n;

	if ((s = pt_json_str(val, NULL)) != NULL)
		return s;
	if ((fp = pt_json_str(pt_json_get(val, "redacted"), NULL)) == NULL ||
	    pt_json_len(val) != 1 || v->old == NULL)
		return NULL;
	s = pt_json_str(pt_json_get(pt_json_get(pt_json_get(pt_json_get(
	    pt_json_get(v->old->doc, "workflows"), key), "http"), "headers"),
	    name), &n);
	return s != NULL && conf_fingerprint_is(v->old, fp,
	    (const uint8_t *)s, n) ? s : NULL;
}

static int
http_headers(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in *hi = in->arg;
	struct pt_json_iter it = { 0 };
	struct pt_buf lines = { 0 };
	const char *k, *s;
	pt_json *v;
	char err[200];
	int rc = -1;

	(void)f;
	(void)norm;
	if (!present || val == NULL)
		return 0;
	if (pt_json_type(val) != PT_J_OBJECT || pt_json_len(val) > 32)
		return conf_fail(in->v, ptr, "must be an object of at most 32 "
		    "header name -> value");
	if ((hi->wf->http_header_values = pt_json_new_object()) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	while (pt_json_iter_next(val, &it, &k, &v)) {
		if ((s = header_value(in->v, hi->key, k, v)) == NULL) {
			conf_fail(in->v, ptr, "header %s: the value must be a "
			    "string (or the {\"redacted\": ...} of the value "
			    "this workflow has now)", k);
			goto out;
		}
		pt_buf_printf(&lines, "%s: %s\n", k, s);
		if (pt_json_set_cstr(hi->wf->http_header_values, k, s) !=
		    PT_OK)
			lines.failed = 1;
	}
	if (lines.failed) {
		conf_fail(in->v, ptr, "out of memory");
		goto out;
	}
	if (pt_httpc_check_headers(lines.data ? lines.data : "", lines.len, err,
	    sizeof(err)) != PT_OK) {
		conf_fail(in->v, ptr, "%s", err);
		goto out;
	}
	hi->wf->http_headers = lines.data;
	hi->wf->http_headers_len = lines.len;
	lines.data = NULL;
	rc = 0;
out:
	if (lines.data != NULL)
		pt_wipe(lines.data, lines.cap);
	pt_buf_free(&lines);
	return rc;
}

static int
http_ca_file(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in *hi = in->arg;
	const char *s;

	(void)f;
	(void)norm;
	if (!present || val == NULL)
		return 0;
	if ((s = pt_json_str(val, NULL)) == NULL || s[0] != '/')
		return conf_fail(in->v, ptr, "must be an absolute path to PEM "
		    "certificates");
	if ((hi->wf->http_ca_file = pt_strdup(s)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	return 0;
}

/* timeout_ms, max_output_bytes: the workflow's, given here. */
static int
http_limit(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in *hi = in->arg;
	int64_t n;

	(void)norm;
	if (!present)
		return 0;
	if (conf_int(in->v, f, ptr, val, present, &n) < 0)
		return -1;
	if (strcmp(f->name, "timeout_ms") == 0)
		hi->wf->timeout_ms = n;
	else
		hi->wf->max_output = (size_t)n;
	return 0;
}

/* The stored "value" of workflow "arg"'s HTTP handler, by fingerprint. */
static const pt_json *
find_http_secret(const struct pt_config *old, const void *arg, const char *fp)
{
	const pt_json *http = old ? pt_json_get(pt_json_get(pt_json_get(
	    old->doc, "workflows"), arg), "http") : NULL;
	const char *s;
	size_t n;

	if ((s = pt_json_str(pt_json_get(http, "value"), &n)) == NULL ||
	    !conf_fingerprint_is(old, fp, (const uint8_t *)s, n))
		return NULL;
	return http;
}

static int
http_secret(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in *hi = in->arg;
	const pt_json *spec = val;
	const char *s;
	char err[200];
	size_t n;

	(void)f;
	(void)norm;
	if (!present || val == NULL)
		return 0;	/* the calls go unsigned */
	if (in->v->mode == PT_CFG_STORED) {
		if ((s = pt_json_str(conf_sibling(in, "value", NULL),
		    &n)) == NULL)
			return conf_fail(in->v, ptr, "stored secret without a "
			    "value");
		if (pt_buf_add(&hi->sec.val, s, n) != PT_OK)
			return conf_fail(in->v, ptr, "out of memory");
	} else if (conf_resolve_secret(in->v, ptr, &hi->sec, &spec) < 0)
		return -1;
	if (pt_httpc_check_secret((const uint8_t *)hi->sec.val.data,
	    hi->sec.val.len, err, sizeof(err)) != PT_OK)
		return conf_fail(in->v, ptr, "%s", err);
	if ((hi->wf->http_secret = pt_malloc(hi->sec.val.len)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	memcpy(hi->wf->http_secret, hi->sec.val.data, hi->sec.val.len);
	hi->wf->http_secret_len = hi->sec.val.len;
	/* What the stored form keeps of it (a fingerprint's own spec). */
	if ((hi->wf->http_spec = pt_json_copy(spec)) == NULL)
		return conf_fail(in->v, ptr, "out of memory");
	return 0;
}

/* value: the resolved secret, in our stored form only. */
static int
http_secret_value(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	(void)in;
	(void)f;
	(void)ptr;
	(void)val;
	(void)present;
	(void)norm;
	return 0;
}

static const struct conf_field http_fields[] = {
	{ "url",		http_url, 0, 0, 0, 0, NULL },
	{ "headers",		http_headers, 0, 0, 0, 0, NULL },
	{ "secret",		http_secret, CF_LATE, 0, 0, 0, NULL },
	{ "timeout_ms",		http_limit, 0, 1, 600000, 5000, NULL },
	{ "max_output_bytes",	http_limit, CF_BYTES, 0, 1048576, 65536,
				NULL },
	{ "ca_file",		http_ca_file, 0, 0, 0, 0, NULL },
	{ "value",		http_secret_value, CF_STORED, 0, 0, 0, NULL },
};
static const struct conf_table http_table = {
	http_fields, nitems(http_fields)
};

/*
 * http: {"url", "headers", "secret"}: the run POSTed to the app.  Its
 * secret is resolved like a signing key's; doc_workflows keeps the value
 * beside it in the stored form.
 */
static int
wf_http(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct http_in hi;
	char shape[200];
	int rc;

	(void)f;
	(void)norm;
	if (!present || val == NULL)
		return 0;
	if (pt_json_type(val) != PT_J_OBJECT)
		return conf_fail(in->v, ptr, "must be an object %s",
		    conf_shape(in->v, &http_table, shape, sizeof(shape)));
	memset(&hi, 0, sizeof(hi));
	hi.wf = in->arg;
	hi.key = hi.wf->key;
	hi.sec.find = find_http_secret;
	hi.sec.arg = hi.wf->key;
	hi.sec.what = "secret of this workflow";
	rc = conf_fields(in->v, ptr, val, &http_table, &hi, NULL);
	conf_secret_wipe(&hi.sec);
	return rc;
}

static const struct conf_field workflow_fields[] = {
	{ "exec",		wf_exec, 0, 0, 0, 0, NULL },
	{ "cancel_exec",	wf_cancel_exec, 0, 0, 0, 0, NULL },
	{ "timeout_ms",		wf_timeout, 0, 1, 600000, 5000, NULL },
	{ "max_output_bytes",	wf_max_output, CF_BYTES, 0, 1048576, 65536,
				NULL },
	{ "http",		wf_http, 0, 0, 0, 0, NULL },
};
static const struct conf_table workflow_table = {
	workflow_fields, nitems(workflow_fields)
};

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
parse_workflows(struct vctx *v, const char *ptr, const pt_json *w,
    struct pt_config *c)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *val;
	char sub[512];
	size_t i;

	if (pt_json_type(w) != PT_J_OBJECT)
		return conf_fail(v, ptr, "must be an object of workflow key "
		    "-> {\"exec\": [...], \"timeout_ms\": N}");
	if ((c->workflows = pt_calloc(pt_json_len(w),
	    sizeof(*c->workflows))) == NULL)
		return conf_fail(v, ptr, "out of memory");
	while (pt_json_iter_next(w, &it, &k, &val)) {
		struct pt_workflow *wf = &c->workflows[c->nworkflows];

		conf_ptr_join(sub, sizeof(sub), ptr, k);
		if (strlen(k) == 0 || strlen(k) > 256 || strchr(k, '/') ||
		    strchr(k, '#'))
			return conf_fail(v, sub, "a workflow key is 1-256 "
			    "characters without / or #");
		if (pt_json_type(val) != PT_J_OBJECT)
			return conf_fail(v, sub, "must be an object");
		if ((wf->key = pt_strdup(k)) == NULL)
			return conf_fail(v, sub, "out of memory");
		c->nworkflows++;
		if (conf_fields(v, sub, val, &workflow_table, wf, NULL) < 0)
			return -1;
		if (wf->http_url != NULL && (wf->argv || wf->cancel_argv))
			return conf_fail(v, sub, "give \"http\" or \"exec\" "
			    "(and \"cancel_exec\"), not both");
	}
	qsort(c->workflows, c->nworkflows, sizeof(*c->workflows), workflow_cmp);
	for (i = 1; i < c->nworkflows; i++)
		if (strcmp(c->workflows[i - 1].key, c->workflows[i].key) == 0)
			return conf_fail(v, ptr, "workflow %s twice",
			    c->workflows[i].key);
	return 0;
}

/* What a source's fields read and fill. */
struct source_in {
	struct pt_config		*c;
	const char			*key;
	const char			*name;
	const char			*tname;
	const struct pt_source_type	*type;
};

static int
src_key(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct source_in *si = in->arg;
	size_t i, n;

	(void)f;
	if (!present)
		return conf_fail(in->v, ptr, "required");
	si->key = pt_json_str(val, &n);
	if (si->key == NULL || !valid_name(si->key, n))
		return conf_fail(in->v, ptr, "must be 1 to 64 characters of "
		    "[A-Za-z0-9_.-]");
	for (i = 0; i < si->c->nenvs; i++)
		if (strcmp(si->c->envs[i]->source_key, si->key) == 0)
			return conf_fail(in->v, ptr, "source \"%s\" appears "
			    "twice", si->key);
	return conf_norm(in->v, ptr, pt_json_new_cstr(si->key), norm);
}

static int
src_name(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct source_in *si = in->arg;

	(void)f;
	if (present && pt_json_type(val) != PT_J_STRING)
		return conf_fail(in->v, ptr, "must be a string");
	si->name = present ? pt_json_str(val, NULL) : si->key;
	return conf_norm(in->v, ptr, pt_json_new_cstr(si->name), norm);
}

static int
src_type(struct conf_in *in, const struct conf_field *f, const char *ptr,
    const pt_json *val, int present, pt_json **norm)
{
	struct source_in *si = in->arg;
	struct pt_buf names = { 0 };
	const struct pt_source_type *all;
	size_t i, nt;

	(void)f;
	si->tname = present ? pt_json_str(val, NULL) : "custom";
	if (si->tname == NULL ||
	    (si->type = pt_catalog_lookup(si->tname)) == NULL) {
		all = pt_catalog_all(&nt);
		for (i = 0; i < nt; i++)
			pt_buf_printf(&names, "%s%s", i ? ", " : "",
			    all[i].name);
		conf_fail(in->v, ptr, "unknown source type (one of %s)",
		    names.data ? names.data : "");
		pt_buf_free(&names);
		return -1;
	}
	return conf_norm(in->v, ptr, pt_json_new_cstr(si->tname), norm);
}

static int
src_description(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	(void)f;
	if (!present)
		return CONF_OMIT;
	if (pt_json_type(val) != PT_J_STRING)
		return conf_fail(in->v, ptr, "must be a string");
	return conf_norm_copy(in->v, ptr, val, norm);
}

/* The environments of the source, each compiled into the configuration. */
static int
src_environments(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct source_in *si = in->arg;
	struct pt_config *c = si->c;
	struct pt_json_iter it = { 0 };
	struct pt_env *e = NULL, **grown;
	pt_json *env, *nenvs;
	const char *k;
	char sub[600];

	(void)f;
	if (!present)
		return conf_fail(in->v, ptr, "required");
	if (pt_json_type(val) != PT_J_OBJECT || pt_json_len(val) == 0)
		return conf_fail(in->v, ptr, "must be an object of environment "
		    "name -> settings, with at least one");
	if (conf_norm(in->v, ptr, pt_json_new_object(), norm) < 0)
		return -1;
	nenvs = *norm;
	while (pt_json_iter_next(val, &it, &k, &env)) {
		conf_ptr_join(sub, sizeof(sub), ptr, k);
		if (!valid_name(k, strlen(k)))
			return conf_fail(in->v, sub, "an environment name is 1 "
			    "to 64 characters of [A-Za-z0-9_.-]");
		if (conf_parse_env(in->v, sub, si->type, si->key, si->name, k,
		    env, &e) < 0)
			return -1;
		if ((grown = pt_realloc(c->envs, (c->nenvs + 1) *
		    sizeof(*grown))) == NULL) {
			conf_env_free(e);
			return conf_fail(in->v, sub, "out of memory");
		}
		c->envs = grown;
		c->envs[c->nenvs++] = e;
		if (pt_json_set_ref(nenvs, k, e->norm) != PT_OK)
			return conf_fail(in->v, sub, "out of memory");
	}
	return 0;
}

static const struct conf_field source_fields[] = {
	{ "key",		src_key, 0, 0, 0, 0, NULL },
	{ "name",		src_name, 0, 0, 0, 0, NULL },
	{ "type",		src_type, 0, 0, 0, 0, NULL },
	{ "description",	src_description, 0, 0, 0, 0, NULL },
	{ "environments",	src_environments, CF_OWN_DIFF, 0, 0, 0, NULL },
};
const struct conf_table conf_source_table = {
	source_fields, nitems(source_fields)
};

/* The top level: settings, sources and workflows. */
static int
doc_settings(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	(void)present;
	if (val != NULL && pt_json_type(val) != PT_J_OBJECT)
		return conf_fail(in->v, ptr, "must be an object");
	if (conf_norm(in->v, ptr, pt_json_new_object(), norm) < 0)
		return -1;
	return conf_fields(in->v, ptr, val, f->members, in->arg, *norm);
}

static int
doc_sources(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	struct source_in si;
	const pt_json *src;
	pt_json *nsrc = NULL;
	char sub[64];
	size_t i;

	(void)f;
	(void)present;
	if (val != NULL && pt_json_type(val) != PT_J_ARRAY)
		return conf_fail(in->v, ptr, "must be an array of sources");
	if (conf_norm(in->v, ptr, pt_json_new_array(), norm) < 0)
		return -1;
	for (i = 0; i < pt_json_len(val); i++) {
		conf_ptr_index(sub, sizeof(sub), ptr, i);
		src = pt_json_index(val, i);
		if (pt_json_type(src) != PT_J_OBJECT)
			return conf_fail(in->v, sub, "a source must be an "
			    "object");
		memset(&si, 0, sizeof(si));
		si.c = in->arg;
		if (conf_norm(in->v, sub, pt_json_new_object(), &nsrc) < 0)
			return -1;
		if (pt_json_append(*norm, nsrc) != PT_OK)
			return conf_fail(in->v, sub, "out of memory");
		if (conf_fields(in->v, sub, src, &conf_source_table, &si,
		    nsrc) < 0)
			return -1;
	}
	return 0;
}

/*
 * The stored form keeps each HTTP handler's resolved secret beside what
 * the operator wrote (an export takes it out again, conf_export.c).
 */
static int
keep_http_secrets(struct vctx *v, const char *ptr, const struct pt_config *c,
    pt_json *norm)
{
	pt_json *http;
	size_t i;

	for (i = 0; i < c->nworkflows; i++) {
		http = pt_json_get(pt_json_get(norm, c->workflows[i].key),
		    "http");
		/* Header values as resolved (an export's are fingerprints). */
		if (c->workflows[i].http_header_values != NULL &&
		    pt_json_set_copy(http, "headers",
		    c->workflows[i].http_header_values) != PT_OK)
			return conf_fail(v, ptr, "out of memory");
		if (c->workflows[i].http_secret == NULL)
			continue;
		if (pt_json_set(http, "value", pt_json_new_str(
		    (const char *)c->workflows[i].http_secret,
		    c->workflows[i].http_secret_len)) != PT_OK ||
		    pt_json_set_copy(http, "secret",
		    c->workflows[i].http_spec) != PT_OK)
			return conf_fail(v, ptr, "out of memory");
	}
	return 0;
}

static int
doc_workflows(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	(void)f;
	(void)present;
	if (val == NULL)
		return CONF_OMIT;
	if (parse_workflows(in->v, ptr, val, in->arg) < 0)
		return -1;
	if (conf_norm_copy(in->v, ptr, val, norm) < 0)
		return -1;
	return keep_http_secrets(in->v, ptr, in->arg, *norm);
}

static int
doc_variables(struct conf_in *in, const struct conf_field *f,
    const char *ptr, const pt_json *val, int present, pt_json **norm)
{
	(void)f;
	(void)present;
	return conf_parse_vars(in->v, ptr, val, in->arg, norm);
}

static const struct conf_field doc_fields[] = {
	{ "settings",	doc_settings, 0, 0, 0, 0, &settings_table },
	{ "variables",	doc_variables, 0, 0, 0, 0, NULL },
	{ "sources",	doc_sources, CF_OWN_DIFF, 0, 0, 0, NULL },
	{ "workflows",	doc_workflows, 0, 0, 0, 0, NULL },
};
const struct conf_table conf_doc_table = {
	doc_fields, nitems(doc_fields)
};

static int
env_cmp(const void *a, const void *b)
{
	const struct pt_env *const *x = a, *const *y = b;

	return strcmp((*x)->endpoint_id, (*y)->endpoint_id);
}

enum pt_err
pt_config_parse(const pt_json *doc, const struct pt_config *old, int mode,
    struct pt_config **out, char *err, size_t errlen)
{
	struct vctx v = { old, mode, err, errlen, 0 };
	struct pt_config *c = NULL;
	size_t i;
	enum pt_err rc = PT_EINVAL;

	*out = NULL;
	err[0] = '\0';
	if (pt_json_type(doc) != PT_J_OBJECT) {
		conf_fail(&v, "", "the configuration must be a JSON object");
		goto out;
	}
	if ((c = pt_calloc(1, sizeof(*c))) == NULL ||
	    (c->doc = pt_json_new_object()) == NULL) {
		rc = PT_ENOMEM;
		conf_fail(&v, "", "out of memory");
		goto out;
	}
	/* Without a "settings" object its fields are never parsed. */
	c->min_free_disk_bytes = -1;
	if (old != NULL) {
		memcpy(c->fp_key, old->fp_key, sizeof(c->fp_key));
		c->fp_key_stored = old->fp_key_stored;
	} else if (pt_random(c->fp_key, sizeof(c->fp_key)) != PT_OK) {
		conf_fail(&v, "", "cannot read random bytes");
		goto out;
	}
	if (conf_fields(&v, "", doc, &conf_doc_table, c, c->doc) < 0)
		goto out;
	if (c->nenvs > 1)
		qsort(c->envs, c->nenvs, sizeof(*c->envs), env_cmp);
	for (i = 1; i < c->nenvs; i++)
		if (strcmp(c->envs[i - 1]->endpoint_id,
		    c->envs[i]->endpoint_id) == 0) {
			snprintf(err, errlen, "/sources: endpoint_id %s is "
			    "used by both %s/%s and %s/%s",
			    c->envs[i]->endpoint_id, c->envs[i - 1]->source_key,
			    c->envs[i - 1]->name, c->envs[i]->source_key,
			    c->envs[i]->name);
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
