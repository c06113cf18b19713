/*
 * admin.c - the admin API, the console's files and /metrics (see admin.h;
 * every route with an example: porter-api(7)).
 *
 * Order for an API call: authenticate (401) -> route (404, 405) ->
 * authorise (403) -> read and validate the body (411, 413, 415, 400) ->
 * answer.  Nothing about a route, not even whether it exists, is said
 * before the token checked out.  Reads run in one read transaction; the
 * two calls that write (replay, config apply) go through pt_write like
 * every write of the ingest path (group commit included).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "alloc.h"
#include "commit.h"
#include "eventlog.h"
#include "handlerdir.h"
#include "ids.h"
#include "inspect.h"
#include "json.h"
#include "metrics.h"
#include "retention.h"
#include "sig.h"
#include "timeutil.h"
#include "tokens.h"

#define API_PREFIX	"/admin/api"
#define MAX_SEGS	4		/* "logs/<id>/replay" has 3 */
#define MAX_PARAMS	16
#define MAX_QUERY	4096
#define MAX_BODY	(17 * 1024 * 1024)	/* a 16 MiB payload, wrapped */
#define MAX_FILE	(2 * 1024 * 1024)	/* a console file */
#define LOGS_DEFAULT	50
#define LOGS_MAX	200
/*
 * Records one log query examines at most.  Filters the chosen index does
 * not cover (status with a source, verification, idempotency key) are
 * applied while scanning; a query that found fewer matches than asked for
 * within this many says so ("scan_limited") and gives the cursor to go on
 * from.  There is no index of idempotency keys: a key is looked for by
 * scanning, at most this many records per call.
 */
#define MAX_SCAN	10000
/* Events counted per status call at most ("events_count_capped"). */
#define COUNT_MAX	1000000
#define RECENT_DAYS	30
#define DAY_US		(86400LL * 1000000)

#define CSP_CONSOLE	"default-src 'self'; base-uri 'none'; " \
			"form-action 'none'; frame-ancestors 'none'"
#define CSP_API		"default-src 'none'; frame-ancestors 'none'"

/* One admin request, freed in admin_free(). */
struct admin {
	struct pt_ctx		*ctx;
	const struct pt_req	*req;
	struct pt_resp		*resp;
	const char		*method;	/* GET for HEAD */
	const char		*route;
	char			*segs_buf;	/* the API path, split */
	char			*seg[MAX_SEGS];
	size_t			 nseg;
	char			*pname[MAX_PARAMS];	/* query, decoded */
	char			*pval[MAX_PARAMS];
	size_t			 nparams;
	struct pt_token_info	 tok;
	struct pt_txn		*txn;		/* read transaction, lazily */
	char			 prefix[256];	/* mount, for endpoint paths */
	char			 why[512];	/* a refused filter's reason */
};

/*
 * An error answer and its log line; returns the status.  The log gets
 * the detail "fmt"; the client gets "client_msg", or the same text when
 * that is NULL.
 */
static int
vfail(struct admin *a, int status, const char *code, const char *client_msg,
    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pt_ctx_log(a->ctx, "%d %s %s %s: %s", status, code, a->req->method ?
	    a->req->method : "-", a->route, msg);
	return pt_resp_error(a->resp, status, code, "%s", client_msg ?
	    client_msg : msg);
}

static int __attribute__((format(printf, 4, 5)))
fail(struct admin *a, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(a, status, code, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * An error whose detail (a path on the host, say) is for the operator's
 * log only: routes open to anyone must not tell a client how the host
 * is laid out.
 */
static int __attribute__((format(printf, 5, 6)))
fail_private(struct admin *a, int status, const char *code,
    const char *client_msg, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(a, status, code, client_msg, fmt, ap);
	va_end(ap);
	return rc;
}

/* A store error, answered as the one table says (http.h pt_err_answer). */
static int
store_fail(struct admin *a, enum pt_err rc, const char *what)
{
	const struct pt_err_answer *ea = pt_err_answer(rc);
	char msg[400];

	pt_err_text(rc, what, pt_store_errstr(), msg, sizeof(msg));
	if (ea->retry_after != NULL)
		pt_resp_header(a->resp, "Retry-After", ea->retry_after);
	return fail(a, ea->status, ea->code, "%s", msg);
}

/* Serialise "j" (taken) as the answer. */
static int
send_json(struct admin *a, int status, pt_json *j)
{
	if (j == NULL)
		return fail(a, 500, "internal_error", "out of memory");
	pt_buf_reset(&a->resp->body);
	if (pt_json_write(&a->resp->body, j, PT_JSON_PLAIN) != PT_OK ||
	    pt_buf_addc(&a->resp->body, '\n') != PT_OK) {
		pt_json_put(j);
		return fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_put(j);
	a->resp->status = status;
	a->resp->content_type = "application/json";
	return status;
}

/* Member "key" of "obj": the RFC 3339 time of "us", or null for 0. */
static enum pt_err
set_jtime(pt_json *obj, const char *key, int64_t us)
{
	char t[PT_RFC3339_LEN];

	if (us == 0)
		return pt_json_set_null(obj, key);
	pt_fmt_rfc3339(us, t);
	return pt_json_set(obj, key, pt_json_new_cstr(t));
}

/* ------------------------------------------------------------ requests */

/*
 * Percent-decode "n" bytes ("+" is a space); NULL if malformed or NUL, or
 * out of memory (then *oom is set).
 */
static char *
url_decode(const char *s, size_t n, int *oom)
{
	char *out, *o;
	size_t i;
	int h, l;

	if ((out = o = pt_malloc(n + 1)) == NULL) {
		*oom = 1;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] != '%')
			*o++ = s[i];
		else if (i + 2 < n && (h = pt_hexval(s[i + 1])) >= 0 &&
		    (l = pt_hexval(s[i + 2])) >= 0 && (h | l) != 0) {
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else {
			pt_free(out);
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

/*
 * Split QUERY_STRING into decoded names and values; -1 when malformed,
 * -2 out of memory (a 500, not a 400 that blames the client).
 */
static int
parse_query(struct admin *a)
{
	const char *q = a->req->query, *amp, *eq;
	size_t n;
	int oom = 0;

	if (q == NULL || *q == '\0')
		return 0;
	if (strlen(q) > MAX_QUERY)
		return -1;
	while (*q) {
		amp = strchr(q, '&');
		n = amp ? (size_t)(amp - q) : strlen(q);
		if (n > 0) {
			if (a->nparams == MAX_PARAMS)
				return -1;
			eq = memchr(q, '=', n);
			a->pname[a->nparams] = url_decode(q, eq ? (size_t)(eq - q) :
			    n, &oom);
			if (eq != NULL)
				a->pval[a->nparams] = url_decode(eq + 1,
				    n - (size_t)(eq - q) - 1, &oom);
			else if ((a->pval[a->nparams] = pt_strdup("")) == NULL)
				oom = 1;
			if (a->pname[a->nparams] == NULL ||
			    a->pval[a->nparams] == NULL) {
				pt_free(a->pname[a->nparams]);
				pt_free(a->pval[a->nparams]);
				return oom ? -2 : -1;
			}
			a->nparams++;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* The first value of query parameter "name", or NULL. */
static const char *
param(const struct admin *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nparams; i++)
		if (strcmp(a->pname[i], name) == 0)
			return a->pval[i];
	return NULL;
}

/* A query parameter outside "allowed" (NULL-terminated), or NULL. */
static const char *
unknown_param(const struct admin *a, const char *const *allowed)
{
	size_t i, j;

	for (i = 0; i < a->nparams; i++) {
		for (j = 0; allowed[j]; j++)
			if (strcmp(a->pname[i], allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			return a->pname[i];
	}
	return NULL;
}

/* "s" for an error message when it is short printable ASCII. */
static const char *
shown(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e || p - s > 60)
			return "(not shown)";
	return s;
}

/* "1", "true", "yes" */
static int
truthy(const char *s)
{
	return s != NULL && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "yes") == 0);
}

/* The read transaction of this request (one snapshot for the call). */
static enum pt_err
rtxn(struct admin *a, struct pt_txn **out)
{
	enum pt_err rc;

	if (a->txn == NULL && (rc = pt_txn_begin(a->ctx->store, NULL,
	    PT_TXN_READ, &a->txn)) != PT_OK)
		return rc;
	*out = a->txn;
	return PT_OK;
}

/*
 * The stored configuration, cached in the context like the ingest path
 * caches it: one read of the generation, a reload only after an apply.
 * The returned pointer lives until the next request of this context.
 */
static enum pt_err
config(struct admin *a, const struct pt_config **out)
{
	struct pt_config *cfg = NULL;
	struct pt_txn *txn;
	char err[512];
	enum pt_err rc;
	uint64_t gen;

	if ((rc = rtxn(a, &txn)) != PT_OK ||
	    (rc = pt_config_stored_gen(txn, &gen)) != PT_OK)
		return rc;
	if (a->ctx->cfg == NULL || a->ctx->cfg->gen != gen) {
		rc = pt_config_load(txn, &cfg, err, sizeof(err));
		if (rc != PT_OK && rc != PT_ENOTFOUND) {
			pt_config_free(cfg);
			return rc;
		}
		pt_config_free(a->ctx->cfg);
		a->ctx->cfg = cfg;
		pt_store_set_durability(a->ctx->store, cfg->durability);
	}
	*out = a->ctx->cfg;
	return PT_OK;
}

/*
 * Read the JSON body: Content-Type JSON (415), a Content-Length (411) of
 * at most MAX_BODY (413), that many bytes (400), strict JSON (400).
 * Returns 0 with *doc, or the error status already answered.
 */
static int
read_json(struct admin *a, pt_json **doc)
{
	const struct pt_req *req = a->req;
	struct pt_json_error jerr;
	uint64_t clen;
	size_t got = 0;
	ssize_t n;
	char *buf;
	enum pt_err rc;

	*doc = NULL;
	if (!pt_is_json_content_type(req->content_type))
		return fail(a, 415, "unsupported_media_type", "the body must be "
		    "JSON (Content-Type: application/json)");
	if (req->content_length == NULL ||
	    pt_parse_content_length(req->content_length, &clen) < 0)
		return fail(a, 411, "length_required", "a Content-Length header "
		    "is required");
	if (clen > MAX_BODY)
		return fail(a, 413, "body_too_large", "the body is %llu bytes; "
		    "at most %d", (unsigned long long)clen, MAX_BODY);
	if ((buf = pt_malloc((size_t)clen + 1)) == NULL)
		return fail(a, 500, "internal_error", "out of memory");
	while (got < clen) {
		if (req->read_body == NULL || (n = req->read_body(req->read_arg,
		    buf + got, (size_t)clen - got)) <= 0) {
			pt_free(buf);
			return fail(a, 400, "incomplete_body", "the body ended "
			    "before Content-Length (%llu) bytes",
			    (unsigned long long)clen);
		}
		got += (size_t)n;
	}
	rc = pt_json_parse(buf, (size_t)clen, PT_JSON_MAX_DEPTH, doc, &jerr);
	pt_free(buf);
	if (rc == PT_ENOMEM)
		return fail(a, 500, "internal_error", "out of memory");
	if (rc != PT_OK)
		return fail(a, 400, pt_jerr_code(jerr.code), "%s",
		    jerr.message);
	return 0;
}

/*
 * The URL prefix Porter is mounted under ("" at the root): REQUEST_URI's
 * path less the routed path, else PORTER_MOUNT, else SCRIPT_NAME.
 */
static void
mount_prefix(struct admin *a)
{
	const struct pt_req *req = a->req;
	const char *p = NULL;
	size_t n = 0, rl = strlen(a->route);

	if (req->request_uri != NULL) {
		n = strcspn(req->request_uri, "?#");
		if (n >= rl && memcmp(req->request_uri + n - rl, a->route,
		    rl) == 0) {
			p = req->request_uri;
			n -= rl;
		}
	}
	if (p == NULL && req->mount != NULL) {
		p = req->mount;
		n = strlen(p);
	} else if (p == NULL && req->script_name != NULL) {
		p = req->script_name;
		n = strlen(p);
	}
	while (p != NULL && n > 0 && p[n - 1] == '/')
		n--;
	if (p == NULL || n >= sizeof(a->prefix))
		n = 0;
	if (n)
		memcpy(a->prefix, p, n);
	a->prefix[n] = '\0';
}

/* ------------------------------------------------------------- tokens */

/*
 * Who is calling: the Bearer token of the Authorization header checked
 * against the stored hashes.  0, or -1 when there is none or it matches
 * none (the caller answers 401 without saying which).
 */
static int
authenticate(struct admin *a)
{
	const struct pt_header *h = pt_req_header(a->req, "authorization");
	struct pt_txn *txn;
	const char *v;
	size_t n;

	if (h == NULL || h->value_len < 7 ||
	    strncasecmp(h->value, "Bearer ", 7) != 0)
		return -1;
	v = h->value + 7;
	n = h->value_len - 7;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (rtxn(a, &txn) != PT_OK)
		return -1;
	return pt_token_check(txn, v, n, &a->tok) == PT_OK ? 0 : -1;
}

static int
unauthorized(struct admin *a)
{
	int status = fail(a, 401, "unauthorized", "a valid admin token is "
	    "required");

	pt_resp_header(a->resp, "WWW-Authenticate", "Bearer realm=\"porter\"");
	return status;
}

/* --------------------------------------------------------- sources */

/* Endpoint path and URL members of an exported environment. */
static void
add_endpoint(struct admin *a, pt_json *e, const struct pt_env *env)
{
	char path[512], url[1024];

	snprintf(path, sizeof(path), "%s/receive/%s", a->prefix,
	    env->endpoint_id);
	pt_json_set(e, "endpoint_path", pt_json_new_cstr(path));
	if (env->public_url != NULL) {
		snprintf(url, sizeof(url), "%s%s", env->public_url, path);
		pt_json_set(e, "endpoint_url", pt_json_new_cstr(url));
	} else
		pt_json_set_null(e, "endpoint_url");
	pt_json_set(e, "mappings_count", pt_json_new_int((int64_t)
	    env->nmappings));
}

/*
 * The configured sources as `porterctl export` shows them (secrets
 * masked), each environment with its endpoint path, URL (when a
 * public_url is configured) and mapping count.  A new reference.
 */
static pt_json *
sources_json(struct admin *a, const struct pt_config *cfg)
{
	pt_json *doc, *srcs, *out, *s, *envs, *e;
	struct pt_json_iter it;
	const struct pt_env *env;
	const char *name;
	size_t i;

	if ((doc = pt_config_export(cfg, 0)) == NULL)
		return NULL;
	srcs = pt_json_get(doc, "sources");
	for (i = 0; i < pt_json_len(srcs); i++) {
		s = pt_json_index(srcs, i);
		envs = pt_json_get(s, "environments");
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &name, &e))
			if ((env = pt_config_env(cfg, pt_json_str(pt_json_get(s,
			    "key"), NULL), name)) != NULL)
				add_endpoint(a, e, env);
	}
	out = pt_json_ref(srcs);
	pt_json_put(doc);
	return out;
}

/* The exported source "key" in "srcs", or NULL. */
static pt_json *
find_source(pt_json *srcs, const char *key)
{
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(srcs); i++)
		if ((k = pt_json_str(pt_json_get(pt_json_index(srcs, i), "key"),
		    NULL)) != NULL && strcmp(k, key) == 0)
			return pt_json_index(srcs, i);
	return NULL;
}

/* Is "key" a configured source? */
static int
have_source(const struct pt_config *cfg, const char *key)
{
	size_t i;

	for (i = 0; i < cfg->nenvs; i++)
		if (strcmp(cfg->envs[i]->source_key, key) == 0)
			return 1;
	return 0;
}

static int
api_sources(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o, *srcs;
	enum pt_err rc;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if ((srcs = sources_json(a, cfg)) == NULL ||
	    (o = pt_json_new_object()) == NULL) {
		pt_json_put(srcs);
		return fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "data", srcs);
	return send_json(a, 200, o);
}

static int
api_source(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *srcs, *s;
	enum pt_err rc;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if ((srcs = sources_json(a, cfg)) == NULL)
		return fail(a, 500, "internal_error", "out of memory");
	if ((s = find_source(srcs, a->seg[1])) == NULL) {
		pt_json_put(srcs);
		return fail(a, 404, "not_found", "no source %s", shown(a->seg[1]));
	}
	pt_json_ref(s);
	pt_json_put(srcs);
	return send_json(a, 200, s);
}

/* -------------------------------------------------------------- status */

/*
 * Walk index "table" under "prefix" ("plen" bytes, NUL-separated parts)
 * from the newest entry back to "since": *count entries (at most
 * COUNT_MAX, *capped set when cut), *last the newest entry's time.
 */
static enum pt_err
count_recent(struct pt_txn *txn, enum pt_table table, const char *prefix,
    size_t plen, int64_t since, uint64_t *count, int64_t *last, int *capped)
{
	struct pt_cursor *cur = NULL;
	struct pt_buf seek = { 0 };
	struct pt_val k;
	enum pt_err rc;
	int64_t t;
	static const uint8_t ones[PT_ID_BIN + 1] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	*count = 0;
	*last = 0;
	*capped = 0;
	pt_buf_add(&seek, prefix, plen);
	pt_buf_add(&seek, ones, sizeof(ones));
	if (seek.failed)
		return PT_ENOMEM;
	if ((rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, seek.data, seek.len, PT_SEEK_LE, &k,
	    NULL); rc == PT_OK; rc = pt_cursor_prev(cur, &k, NULL)) {
		if (k.len != plen + PT_ID_BIN || memcmp(k.data, prefix, plen) !=
		    0)
			break;
		t = pt_id_time((const uint8_t *)k.data + plen);
		if (*last == 0)
			*last = t;
		if (t < since)
			break;
		if (++*count >= COUNT_MAX) {
			*capped = 1;
			break;
		}
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	pt_buf_free(&seek);
	return rc;
}

/*
 * Status of source "key" as Knock's MAPI has it: events in the last 30
 * days, the last event received, the number of mappings; in total and per
 * environment.
 */
static enum pt_err
source_status(struct admin *a, const struct pt_config *cfg, const char *key,
    pt_json **out)
{
	struct pt_buf pfx = { 0 };
	struct pt_txn *txn;
	pt_json *o = NULL, *envs = NULL, *e;
	enum pt_err rc;
	int64_t since = a->ctx->now() - RECENT_DAYS * DAY_US, last;
	uint64_t count;
	size_t i, mappings = 0;
	int capped, any_capped = 0;

	*out = NULL;
	if ((rc = rtxn(a, &txn)) != PT_OK)
		return rc;
	rc = PT_ENOMEM;
	if ((o = pt_json_new_object()) == NULL ||
	    (envs = pt_json_new_array()) == NULL)
		goto out;
	pt_json_set(o, "source", pt_json_new_cstr(key));
	pt_buf_add(&pfx, key, strlen(key) + 1);
	if (pfx.failed)
		goto out;
	if ((rc = count_recent(txn, PT_T_EV_SOURCE, pfx.data, pfx.len, since,
	    &count, &last, &capped)) != PT_OK)
		goto out;
	any_capped |= capped;
	pt_json_set(o, "events_count", pt_json_new_int((int64_t)count));
	set_jtime(o, "last_event_received", last);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *env = cfg->envs[i];

		if (strcmp(env->source_key, key) != 0)
			continue;
		mappings += env->nmappings;
		pt_buf_reset(&pfx);
		pt_buf_add(&pfx, key, strlen(key) + 1);
		pt_buf_add(&pfx, env->name, strlen(env->name) + 1);
		rc = PT_ENOMEM;
		if (pfx.failed || (e = pt_json_new_object()) == NULL ||
		    pt_json_append(envs, e) != PT_OK)
			goto out;
		if ((rc = count_recent(txn, PT_T_EV_ENV, pfx.data, pfx.len,
		    since, &count, &last, &capped)) != PT_OK)
			goto out;
		any_capped |= capped;
		pt_json_set(e, "environment", pt_json_new_cstr(env->name));
		pt_json_set(e, "events_count", pt_json_new_int((int64_t)count));
		set_jtime(e, "last_event_received", last);
		pt_json_set(e, "mappings_count", pt_json_new_int((int64_t)
		    env->nmappings));
	}
	pt_json_set(o, "mappings_count", pt_json_new_int((int64_t)mappings));
	pt_json_set(o, "events_count_days", pt_json_new_int(RECENT_DAYS));
	pt_json_set(o, "events_count_capped", pt_json_new_bool(any_capped));
	pt_json_set(o, "environments", envs);
	envs = NULL;
	*out = o;
	o = NULL;
	rc = PT_OK;
out:
	pt_buf_free(&pfx);
	pt_json_put(envs);
	pt_json_put(o);
	return rc;
}

static int
api_source_status(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o;
	enum pt_err rc;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if (!have_source(cfg, a->seg[1]))
		return fail(a, 404, "not_found", "no source %s", shown(a->seg[1]));
	if ((rc = source_status(a, cfg, a->seg[1], &o)) != PT_OK)
		return store_fail(a, rc, "reading the log");
	return send_json(a, 200, o);
}

/* The store's size and map use; "nearly_full" above 90%. */
static pt_json *
store_json(struct admin *a)
{
	struct pt_store_stat st;
	pt_json *o, *counts;
	int t;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	if (pt_store_stat(a->ctx->store, &st) != PT_OK)
		return o;
	pt_json_set(o, "map_size", pt_json_new_int((int64_t)st.map_size));
	pt_json_set(o, "used", pt_json_new_int((int64_t)st.used));
	pt_json_set(o, "map_used_percent", pt_json_new_double(st.map_size ?
	    100.0 * (double)st.used / (double)st.map_size : 0.0));
	pt_json_set(o, "nearly_full", pt_json_new_bool(st.map_size &&
	    st.used * 10 > st.map_size * 9));
	pt_json_set(o, "readers", pt_json_new_int(st.readers));
	pt_json_set(o, "max_readers", pt_json_new_int(st.max_readers));
	if ((counts = pt_json_new_object()) != NULL) {
		for (t = 0; t < PT_T__MAX; t++)
			pt_json_set(counts, pt_table_name(t),
			    pt_json_new_int((int64_t)st.entries[t]));
		pt_json_set(o, "entries", counts);
	}
	return o;
}

static int
api_status(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o, *srcs, *s;
	enum pt_err rc;
	size_t i, j;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if ((o = pt_json_new_object()) == NULL ||
	    (srcs = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		return fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "store", store_json(a));
	pt_json_set(o, "log_retention_days", pt_json_new_int(
	    cfg->log_retention_days > 0 ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT));
	pt_json_set(o, "sources", srcs);
	/* Each source once (envs are sorted by endpoint, not source). */
	for (i = 0; i < cfg->nenvs; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(cfg->envs[j]->source_key,
			    cfg->envs[i]->source_key) == 0)
				break;
		if (j < i)
			continue;
		if ((rc = source_status(a, cfg, cfg->envs[i]->source_key, &s)) !=
		    PT_OK) {
			pt_json_put(o);
			return store_fail(a, rc, "reading the log");
		}
		pt_json_append(srcs, s);
	}
	return send_json(a, 200, o);
}

/* --------------------------------------------------------- event types */

struct types_walk {
	pt_json		*arr;
	const char	*source;
	const char	*env;
	int		 failed;
};

static int
add_type(void *arg, const char *type, uint64_t count, int64_t first,
    int64_t last)
{
	struct types_walk *w = arg;
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_append(w->arr, o) != PT_OK) {
		w->failed = 1;
		return 1;
	}
	pt_json_set(o, "source", pt_json_new_cstr(w->source));
	pt_json_set(o, "environment", pt_json_new_cstr(w->env));
	pt_json_set(o, "event", pt_json_new_cstr(type));
	pt_json_set(o, "count", pt_json_new_int((int64_t)count));
	set_jtime(o, "first_received_at", first);
	set_jtime(o, "last_received_at", last);
	return 0;
}

/*
 * Received event types per environment (count, first and last seen), of
 * source "only" (NULL: every source) and environment "env" (NULL: all).
 */
static int
types(struct admin *a, const char *only, const char *env)
{
	const struct pt_config *cfg;
	struct types_walk w;
	struct pt_txn *txn;
	pt_json *o;
	enum pt_err rc;
	size_t i;

	if ((rc = config(a, &cfg)) != PT_OK || (rc = rtxn(a, &txn)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if (only != NULL && !have_source(cfg, only))
		return fail(a, 404, "not_found", "no source %s", shown(only));
	memset(&w, 0, sizeof(w));
	if ((o = pt_json_new_object()) == NULL ||
	    (w.arr = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		return fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "data", w.arr);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *e = cfg->envs[i];

		if ((only && strcmp(e->source_key, only) != 0) ||
		    (env && strcmp(e->name, env) != 0))
			continue;
		w.source = e->source_key;
		w.env = e->name;
		if ((rc = pt_eventlog_types(txn, e->source_key, e->name,
		    add_type, &w)) != PT_OK) {
			pt_json_put(o);
			return store_fail(a, rc, "reading the event types");
		}
	}
	if (w.failed) {
		pt_json_put(o);
		return fail(a, 500, "internal_error", "out of memory");
	}
	return send_json(a, 200, o);
}

static int
api_event_types(struct admin *a)
{
	static const char *const allowed[] = { "source", "environment", NULL };
	const char *bad = unknown_param(a, allowed);

	if (bad != NULL)
		return fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want source, environment)", shown(bad));
	return types(a, param(a, "source"), param(a, "environment"));
}

static int
api_source_events(struct admin *a)
{
	static const char *const allowed[] = { "environment", NULL };
	const char *bad = unknown_param(a, allowed);

	if (bad != NULL)
		return fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want environment)", shown(bad));
	return types(a, a->seg[1], param(a, "environment"));
}

/* ---------------------------------------------------------------- logs */

/* The filters a log query applies while scanning. */
struct logs_walk {
	const char	*environment;
	const char	*event_type;
	const char	*status;
	const char	*verification;
	const char	*idem_key;
	pt_json		*data;
	size_t		 limit;
	size_t		 matched;
	size_t		 scanned;
	int		 full;		/* a match beyond "limit" exists */
	int		 failed;
	uint8_t		 last[PT_ID_BIN];	/* last record scanned */
	int		 have_last;
};

static int
str_eq(pt_json *obj, const char *key, const char *want)
{
	const char *s = pt_json_str(pt_json_get(obj, key), NULL);

	return s != NULL && strcmp(s, want) == 0;
}

static int
log_cb(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t body_len)
{
	struct logs_walk *w = arg;

	(void)body;
	(void)body_len;
	w->scanned++;
	memcpy(w->last, id, PT_ID_BIN);
	w->have_last = 1;
	if ((w->environment && !str_eq(meta, "environment", w->environment)) ||
	    (w->event_type && !str_eq(meta, "event_type", w->event_type)) ||
	    (w->status && !str_eq(meta, "status", w->status)) ||
	    (w->verification && !str_eq(pt_json_get(meta, "verification"),
	    "status", w->verification)) ||
	    (w->idem_key && !str_eq(pt_json_get(meta, "idempotency"), "key",
	    w->idem_key)))
		return 0;
	if (w->matched == w->limit) {
		w->full = 1;
		return 1;
	}
	if (pt_json_append(w->data, pt_json_ref(meta)) != PT_OK) {
		w->failed = 1;
		return 1;
	}
	w->matched++;
	return 0;
}

/* A time parameter: RFC 3339, or a duration back from now ("2h"). */
static int
parse_time(struct admin *a, const char *s, int64_t *us)
{
	int64_t secs;

	if (pt_parse_duration(s, &secs) == 0) {
		*us = a->ctx->now() - secs * 1000000;
		return 0;
	}
	return pt_parse_rfc3339(s, strlen(s), us);
}

/* A cursor id made of a time and a fill byte (0x00 or 0xff). */
static void
time_cursor(int64_t us, uint8_t fill, uint8_t id[PT_ID_BIN])
{
	pt_be64_put(id, (uint64_t)us);
	memset(id + 8, fill, PT_ID_BIN - 8);
}

/*
 * Can these filters match at all (pt_eventlog_check_filters)?  PT_EINVAL
 * with a->why naming the valid values, or a store error.
 */
static enum pt_err
check_filters(struct admin *a, const char *source, const char *env,
    const char *status, const char *verification)
{
	const struct pt_config *cfg;
	struct pt_log_query q;
	struct pt_txn *txn;
	enum pt_err rc;

	memset(&q, 0, sizeof(q));
	q.source = source;
	q.environment = env;
	q.status = status;
	q.verify_status = verification;
	if ((rc = config(a, &cfg)) != PT_OK || (rc = rtxn(a, &txn)) != PT_OK)
		return rc == PT_EINVAL ? PT_ECORRUPT : rc;	/* not the filters' */
	return pt_eventlog_check_filters(txn, cfg, &q, a->why,
	    sizeof(a->why));
}

/*
 * GET logs: filters source, environment, event_type, status,
 * verification, idempotency_key, since, until; cursors before/after;
 * limit.  Newest first.  The query is given only the filters its index
 * covers, so that every record it examines reaches log_cb: the rest are
 * applied there, and the cursor to go on from is exact even when the scan
 * stops at MAX_SCAN.
 */
static int
logs(struct admin *a, const char *source)
{
	static const char *const allowed[] = { "source", "environment",
	    "event_type", "status", "verification", "idempotency_key", "since",
	    "until", "before", "after", "limit", NULL };
	struct pt_log_query q;
	struct logs_walk w;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN], after[PT_ID_BIN], tc[PT_ID_BIN];
	char idt[PT_ID_MAX], *end;
	const char *s, *bad;
	pt_json *o = NULL, *pi, *rev;
	enum pt_err rc;
	size_t i, n;
	long lim;
	int forward, scan_limited;

	if ((bad = unknown_param(a, allowed)) != NULL)
		return fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want source, environment, event_type, status, "
		    "verification, idempotency_key, since, until, before, after, "
		    "limit)", shown(bad));
	memset(&q, 0, sizeof(q));
	memset(&w, 0, sizeof(w));
	if (source == NULL)
		source = param(a, "source");
	w.environment = param(a, "environment");
	w.event_type = param(a, "event_type");
	w.status = param(a, "status");
	w.verification = param(a, "verification");
	w.idem_key = param(a, "idempotency_key");
	if (w.environment && source == NULL)
		return fail(a, 400, "invalid_parameter", "environment needs "
		    "source");
	w.limit = LOGS_DEFAULT;
	if ((s = param(a, "limit")) != NULL) {
		errno = 0;
		lim = strtol(s, &end, 10);
		if (errno || end == s || *end || lim < 1 || lim > LOGS_MAX)
			return fail(a, 400, "invalid_parameter", "limit: 1 to "
			    "%d", LOGS_MAX);
		w.limit = (size_t)lim;
	}
	if ((s = param(a, "since")) != NULL && parse_time(a, s, &q.since) < 0)
		return fail(a, 400, "invalid_parameter", "since: want an RFC "
		    "3339 time or a duration (90s, 15m, 2h, 7d)");
	if ((s = param(a, "until")) != NULL && parse_time(a, s, &q.until) < 0)
		return fail(a, 400, "invalid_parameter", "until: want an RFC "
		    "3339 time or a duration (90s, 15m, 2h, 7d)");
	if ((s = param(a, "before")) != NULL) {
		if (pt_id_parse("evt", s, before) < 0)
			return fail(a, 400, "invalid_parameter", "before: not an "
			    "event id");
		q.before = before;
	}
	if ((s = param(a, "after")) != NULL) {
		if (q.before != NULL)
			return fail(a, 400, "invalid_parameter", "give before or "
			    "after, not both");
		if (pt_id_parse("evt", s, after) < 0)
			return fail(a, 400, "invalid_parameter", "after: not an "
			    "event id");
		q.after = after;
	}
	forward = q.after != NULL;
	/* Start at the time bound when it is nearer than the cursor. */
	if (forward && q.since) {
		time_cursor(q.since - 1, 0xff, tc);
		if (memcmp(tc, after, PT_ID_BIN) > 0)
			memcpy(after, tc, PT_ID_BIN);
	} else if (!forward && q.until) {
		time_cursor(q.until + 1, 0x00, tc);
		if (q.before == NULL || memcmp(tc, before, PT_ID_BIN) < 0) {
			memcpy(before, tc, PT_ID_BIN);
			q.before = before;
		}
	}
	if ((rc = check_filters(a, source, w.environment, w.status,
	    w.verification)) != PT_OK)
		return rc == PT_EINVAL ? fail(a, 400, "invalid_parameter", "%s",
		    a->why) : store_fail(a, rc, "reading the log");
	/* The index: pass exactly the filters it covers. */
	q.source = source;
	if (source && w.environment) {
		q.environment = w.environment;
		w.environment = NULL;
		if (w.event_type) {
			q.event_type = w.event_type;
			w.event_type = NULL;
		}
	} else if (source == NULL && w.status) {
		q.status = w.status;
		w.status = NULL;
	}
	q.limit = SIZE_MAX;
	q.max_scan = MAX_SCAN;

	if ((rc = rtxn(a, &txn)) != PT_OK)
		return store_fail(a, rc, "reading the log");
	if ((o = pt_json_new_object()) == NULL ||
	    (w.data = pt_json_new_array()) == NULL ||
	    (pi = pt_json_new_object()) == NULL) {
		pt_json_put(o);
		pt_json_put(w.data);
		return fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "page_info", pi);
	if ((rc = pt_eventlog_query(txn, &q, log_cb, &w)) != PT_OK) {
		pt_json_put(o);
		pt_json_put(w.data);
		return store_fail(a, rc, "reading the log");
	}
	if (w.failed) {
		pt_json_put(o);
		pt_json_put(w.data);
		return fail(a, 500, "internal_error", "out of memory");
	}
	scan_limited = !w.full && w.scanned >= MAX_SCAN;
	n = pt_json_len(w.data);
	/* Newest first in both directions. */
	if (forward && n > 1) {
		if ((rev = pt_json_new_array()) == NULL) {
			pt_json_put(o);
			pt_json_put(w.data);
			return fail(a, 500, "internal_error", "out of memory");
		}
		for (i = n; i > 0; i--)
			pt_json_append(rev, pt_json_ref(pt_json_index(w.data,
			    i - 1)));
		pt_json_put(w.data);
		w.data = rev;
	}
	pt_json_set(o, "data", w.data);
	/*
	 * Cursors: "before" gives the next older page, "after" newer
	 * entries.  In the direction walked, a scan cut short goes on from
	 * the last record it examined.
	 */
	pt_json_set_ref(pi, "before", n ? pt_json_get(pt_json_index(w.data,
	    n - 1), "id") : NULL);
	pt_json_set_ref(pi, "after", n ? pt_json_get(pt_json_index(w.data, 0),
	    "id") : NULL);
	if (scan_limited && w.have_last) {
		pt_id_text("evt", w.last, idt);
		pt_json_set(pi, forward ? "after" : "before",
		    pt_json_new_cstr(idt));
	}
	if (n == 0 && !scan_limited) {
		/* Nothing (more) here: keep the caller's cursor for polling. */
		if (forward && param(a, "after"))
			pt_json_set(pi, "after", pt_json_new_cstr(param(a,
			    "after")));
	}
	pt_json_set(pi, "limit", pt_json_new_int((int64_t)w.limit));
	pt_json_set(pi, "has_more", pt_json_new_bool(w.full || scan_limited));
	pt_json_set(pi, "scanned", pt_json_new_int((int64_t)w.scanned));
	pt_json_set(pi, "scan_limited", pt_json_new_bool(scan_limited));
	return send_json(a, 200, o);
}

static int
api_logs(struct admin *a)
{
	return logs(a, NULL);
}

static int
api_source_logs(struct admin *a)
{
	enum pt_err rc;

	if (param(a, "source") != NULL)
		return fail(a, 400, "invalid_parameter", "the source is in the "
		    "path");
	/* A source in the path that cannot exist is a missing resource. */
	if ((rc = check_filters(a, a->seg[1], NULL, NULL, NULL)) != PT_OK)
		return rc == PT_EINVAL ? fail(a, 404, "not_found", "%s",
		    a->why) : store_fail(a, rc, "reading the log");
	return logs(a, a->seg[1]);
}

static int
api_log(struct admin *a)
{
	const struct pt_config *cfg;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	pt_json *o;
	enum pt_err rc;

	if (pt_id_parse("evt", a->seg[1], id) < 0)
		return fail(a, 400, "invalid_id", "%s is not an event id",
		    shown(a->seg[1]));
	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if ((rc = rtxn(a, &txn)) != PT_OK)
		return store_fail(a, rc, "reading the log");
	rc = pt_inspect_event(txn, id, PT_INSPECT_RAW, &o);
	if (rc == PT_ENOTFOUND)
		return fail(a, 404, "not_found", "no event %s", a->seg[1]);
	if (rc == PT_ECORRUPT)
		return fail(a, 500, "internal_error", "event %s does not "
		    "decode", a->seg[1]);
	if (rc != PT_OK)
		return store_fail(a, rc, "reading the log");
	/* Whether a replay needs force (the console offers none then). */
	pt_json_set(o, "replayable", pt_json_new_bool(pt_replay_allowed(cfg,
	    o)));
	return send_json(a, 200, o);
}

/*
 * POST logs/<evt>/replay, with no body or {"force": true|false}: force
 * replays an event that was not verified where verification is enforced
 * (pt_replay).
 */
static int
api_replay(struct admin *a)
{
	struct pt_json_iter it = { 0 };
	uint8_t bin[PT_ID_BIN];
	char id[PT_ID_MAX];
	const char *k;
	pt_json *doc = NULL, *v;
	uint64_t clen = 0;
	int status, force = 0;

	if (pt_id_parse("evt", a->seg[1], bin) < 0)
		return fail(a, 400, "invalid_id", "%s is not an event id",
		    shown(a->seg[1]));
	/* An empty body, whatever its type, asks for nothing. */
	if (a->req->content_length != NULL &&
	    (pt_parse_content_length(a->req->content_length, &clen) < 0 ||
	    clen > 0)) {
		if ((status = read_json(a, &doc)) != 0)
			return status;
		if (pt_json_type(doc) != PT_J_OBJECT) {
			pt_json_put(doc);
			return fail(a, 400, "invalid_request", "want no body or "
			    "{\"force\": true}");
		}
		while (pt_json_iter_next(doc, &it, &k, &v)) {
			if (strcmp(k, "force") != 0 || pt_json_type(v) !=
			    PT_J_BOOL) {
				status = fail(a, 400, "invalid_request", "%s: "
				    "want no body or {\"force\": true}",
				    strcmp(k, "force") == 0 ? "force must be "
				    "true or false" : "unknown field");
				pt_json_put(doc);
				return status;
			}
			force = pt_json_bool(v);
		}
		pt_json_put(doc);
	}
	/* pt_replay fills the response (and logs its refusals). */
	pt_id_text("evt", bin, id);
	pt_txn_abort(a->txn);
	a->txn = NULL;
	status = pt_replay(a->ctx, id, a->tok.name, force, a->resp);
	if (status == 200)
		pt_ctx_log(a->ctx, "replay of %s by token %s", id, a->tok.name);
	return status;
}

/* ------------------------------------------------------------ rehearse */

/* Rehearsal headers: an object of strings, names lower-cased. */
static pt_json *
rehearse_headers(const pt_json *in, char *why, size_t whylen)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *out, *v;
	char name[128];
	size_t i, n;

	if ((out = pt_json_new_object()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (in != NULL && pt_json_type(in) != PT_J_OBJECT) {
		snprintf(why, whylen, "payload.headers must be an object");
		goto bad;
	}
	while (in != NULL && pt_json_iter_next(in, &it, &k, &v)) {
		if ((s = pt_json_str(v, &n)) == NULL) {
			snprintf(why, whylen, "payload.headers.%s must be a "
			    "string", shown(k));
			goto bad;
		}
		if (strlen(k) >= sizeof(name) || k[0] == '\0') {
			snprintf(why, whylen, "a header name is empty or too "
			    "long");
			goto bad;
		}
		for (i = 0; k[i]; i++)
			name[i] = (k[i] >= 'A' && k[i] <= 'Z') ?
			    (char)(k[i] + 32) : k[i];
		name[i] = '\0';
		pt_json_set(out, name, pt_json_new_str(s, n));
	}
	return out;
bad:
	pt_json_put(out);
	return NULL;
}

/*
 * POST sources/<key>/rehearse {"environment": E, "payload": {"body":
 * {...} or "text", "headers": {...}}}: the mappings' resolved payloads or
 * field errors, with no side effects (so a read-only token may rehearse).
 */
static int
api_rehearse(struct admin *a)
{
	const struct pt_config *cfg;
	const struct pt_env *env = NULL;
	struct pt_body_error berr;
	pt_json *doc = NULL, *payload, *bj, *body = NULL, *hdrs = NULL, *out;
	const char *envname, *text, *ctype;
	char why[200];
	enum pt_err rc;
	size_t i, n, found = 0;
	int status;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	if (!have_source(cfg, a->seg[1]))
		return fail(a, 404, "not_found", "no source %s", shown(a->seg[1]));
	if ((status = read_json(a, &doc)) != 0)
		return status;
	if (pt_json_type(doc) != PT_J_OBJECT) {
		status = fail(a, 400, "invalid_request", "want {\"environment\": "
		    "..., \"payload\": {\"body\": ..., \"headers\": ...}}");
		goto out;
	}
	if ((envname = pt_json_str(pt_json_get(doc, "environment"), NULL)) ==
	    NULL)
		envname = param(a, "environment");
	for (i = 0; i < cfg->nenvs; i++)
		if (strcmp(cfg->envs[i]->source_key, a->seg[1]) == 0 &&
		    (envname == NULL || strcmp(cfg->envs[i]->name, envname) ==
		    0)) {
			env = cfg->envs[i];
			found++;
		}
	if (found != 1) {
		status = envname ? fail(a, 404, "not_found", "source %s has no "
		    "environment %s", shown(a->seg[1]), shown(envname)) :
		    fail(a, 400, "invalid_request", "source %s has several "
		    "environments: name one (\"environment\")",
		    shown(a->seg[1]));
		goto out;
	}
	payload = pt_json_get(doc, "payload");
	if ((hdrs = rehearse_headers(pt_json_get(payload, "headers"), why,
	    sizeof(why))) == NULL) {
		status = fail(a, 400, "invalid_request", "%s", why);
		goto out;
	}
	bj = pt_json_get(payload, "body");
	if (pt_json_type(bj) == PT_J_STRING) {
		/*
		 * Raw text: JSON or a form as payload.content_type (or a
		 * Content-Type header) says, else as it looks, parsed as
		 * strictly as the responder would.
		 */
		text = pt_json_str(bj, &n);
		if ((ctype = pt_json_str(pt_json_get(payload, "content_type"),
		    NULL)) == NULL)
			ctype = pt_json_str(pt_json_get(hdrs, "content-type"),
			    NULL);
		if ((rc = pt_inspect_body(env, ctype, text, n, &body, &status,
		    &berr)) != PT_OK) {
			status = rc == PT_ENOMEM ? fail(a, 500, "internal_error",
			    "out of memory") : fail(a, status, berr.code, "the "
			    "responder would answer %d: %s", status, berr.message);
			goto out;
		}
	} else
		body = pt_json_ref(bj);
	if (pt_json_type(body) != PT_J_OBJECT) {
		status = fail(a, 400, "not_an_object", "payload.body must be a "
		    "JSON object (or the text of a JSON or form body)");
		goto out;
	}
	if ((rc = pt_inspect_rehearse(env, body, hdrs, &out)) != PT_OK) {
		status = fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	status = send_json(a, 200, out);
out:
	pt_json_put(hdrs);
	pt_json_put(body);
	pt_json_put(doc);
	return status;
}

/* -------------------------------------------------------------- config */

static int
api_config_get(struct admin *a)
{
	const struct pt_config *cfg;
	enum pt_err rc;

	if ((rc = config(a, &cfg)) != PT_OK)
		return store_fail(a, rc, "reading the configuration");
	return send_json(a, 200, pt_config_export(cfg, 0));
}

/* Stored signing keys of source "src", environment "env", or NULL. */
static pt_json *
stored_keys(const struct pt_config *cur, const char *src, const char *env)
{
	pt_json *srcs = pt_json_get(cur->doc, "sources"), *s;
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(srcs); i++) {
		s = pt_json_index(srcs, i);
		if ((k = pt_json_str(pt_json_get(s, "key"), NULL)) != NULL &&
		    strcmp(k, src) == 0)
			return pt_json_get(pt_json_get(pt_json_get(s,
			    "environments"), env), "signing_keys");
	}
	return NULL;
}

/*
 * Secret references over HTTP.  {"file": ...} and {"env": ...} name
 * files and variables of the host `porterctl apply` runs on; the
 * responder does not read them for a remote caller.  A reference the
 * current configuration already has (an export shows it as it was
 * written) is kept, by rewriting it to that key's {"redacted": ...}
 * fingerprint; any other is refused.  Returns 0, or -1 with "err".
 */
static int
keep_refs(pt_json *doc, const struct pt_config *cur, char *err,
    size_t errlen)
{
	struct pt_json_iter it;
	pt_json *srcs = pt_json_get(doc, "sources"), *envs, *keys, *old, *sec,
	    *red;
	const char *src, *envname, *val;
	char fp[PT_FINGERPRINT_MAX];
	size_t i, j, m, n;

	for (i = 0; i < pt_json_len(srcs); i++) {
		src = pt_json_str(pt_json_get(pt_json_index(srcs, i), "key"),
		    NULL);
		envs = pt_json_get(pt_json_index(srcs, i), "environments");
		if (src == NULL || pt_json_type(envs) != PT_J_OBJECT)
			continue;	/* pt_config_parse says why */
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &envname, &keys)) {
			keys = pt_json_get(keys, "signing_keys");
			for (j = 0; j < pt_json_len(keys); j++) {
				sec = pt_json_get(pt_json_index(keys, j),
				    "secret");
				if (pt_json_type(sec) != PT_J_OBJECT ||
				    (pt_json_get(sec, "file") == NULL &&
				    pt_json_get(sec, "env") == NULL))
					continue;
				old = stored_keys(cur, src, envname);
				for (m = 0; m < pt_json_len(old); m++)
					if (pt_json_equal(pt_json_get(
					    pt_json_index(old, m), "secret"), sec))
						break;
				if (m == pt_json_len(old) || (val = pt_json_str(
				    pt_json_get(pt_json_index(old, m), "value"),
				    &n)) == NULL) {
					snprintf(err, errlen, "/sources/%zu/"
					    "environments/%s/signing_keys/%zu/"
					    "secret: a file or environment "
					    "reference is resolved by `porterctl "
					    "apply` on the host; over the API give "
					    "the secret itself or {\"redacted\": "
					    "...}", i, envname, j);
					return -1;
				}
				pt_secret_fingerprint(cur, (const uint8_t *)val,
				    n, fp);
				if ((red = pt_json_new_object()) == NULL ||
				    pt_json_set(red, "redacted",
				    pt_json_new_cstr(fp)) != PT_OK ||
				    pt_json_set(pt_json_index(keys, j), "secret",
				    red) != PT_OK) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
		}
	}
	return 0;
}

/* Two NULL-terminated argument vectors (either may be NULL) alike? */
static int
argv_equal(char *const *a, char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == b[i];
}

/*
 * What runs on the host takes host access (handlerdir.h).  Over the API a
 * workflow's exec or cancel_exec that is new or differs from the stored
 * one of the same workflow must name a handler in PORTER_HANDLER_DIR;
 * without that directory it cannot be changed here (`porterctl apply` on
 * the host can).  An unchanged one (an export put back) and a removed one
 * pass.  Returns NULL, or the error code (answered 403) with "err" set.
 */
static const char *
exec_refused(const struct pt_config *cur, const struct pt_config *next,
    char *err, size_t errlen)
{
	const char *dir = getenv("PORTER_HANDLER_DIR");
	const struct pt_workflow *wf, *was;
	char *const *argv, *const *stored;
	char why[600];
	size_t i, k;

	for (i = 0; i < next->nworkflows; i++) {
		wf = &next->workflows[i];
		was = pt_config_workflow(cur, wf->key);
		for (k = 0; k < 2; k++) {
			argv = k == 0 ? wf->argv : wf->cancel_argv;
			stored = was == NULL ? NULL : k == 0 ? was->argv :
			    was->cancel_argv;
			if (argv == NULL || argv_equal(argv, stored))
				continue;
			switch (pt_handler_dir_allows(dir, argv[0], why,
			    sizeof(why))) {
			case PT_HD_OK:
				continue;
			case PT_HD_OFF:
				snprintf(err, errlen, "/workflows/%s/%s: what a "
				    "workflow runs on the host is changed with "
				    "`porterctl apply` on the host; %s, so the "
				    "API may not change it", wf->key, k == 0 ?
				    "exec" : "cancel_exec", why);
				return "host_access_required";
			case PT_HD_OUTSIDE:
				snprintf(err, errlen, "/workflows/%s/%s: over "
				    "the API a handler must be a program in the "
				    "host's directory of handlers: %s", wf->key,
				    k == 0 ? "exec" : "cancel_exec", why);
				return "handler_not_allowed";
			}
		}
	}
	return NULL;
}

struct apply {
	pt_json		*doc;
	int		 dry;
	struct pt_buf	 diff;
	size_t		 changes;
	uint64_t	 gen;
	int		 invalid;	/* PT_EINVAL: "err" says why */
	const char	*refused;	/* PT_EINVAL, 403 with this code */
	char		 err[1024];
};

/*
 * What `porterctl apply` does, in the caller's transaction: validate the
 * document against the current configuration (kept endpoint ids,
 * redacted secrets), diff, and save unless a dry run.
 */
static enum pt_err
apply_fn(struct pt_txn *txn, void *arg)
{
	struct apply *ap = arg;
	struct pt_config *old = NULL, *next = NULL;
	enum pt_err rc;

	pt_buf_reset(&ap->diff);
	ap->invalid = 0;
	ap->refused = NULL;
	rc = pt_config_load(txn, &old, ap->err, sizeof(ap->err));
	if (rc != PT_OK && rc != PT_ENOTFOUND)
		goto out;
	if (keep_refs(ap->doc, old, ap->err, sizeof(ap->err)) < 0) {
		ap->invalid = 1;
		rc = PT_EINVAL;
		goto out;
	}
	if ((rc = pt_config_parse(ap->doc, old, PT_CFG_OPERATOR, &next,
	    ap->err, sizeof(ap->err))) != PT_OK) {
		ap->invalid = rc == PT_EINVAL;
		goto out;
	}
	if ((ap->refused = exec_refused(old, next, ap->err,
	    sizeof(ap->err))) != NULL) {
		rc = PT_EINVAL;
		goto out;
	}
	ap->changes = pt_config_diff(old, next, &ap->diff);
	ap->gen = old->gen;
	if (!ap->dry && ap->changes > 0) {
		if ((rc = pt_config_save(txn, next)) != PT_OK)
			goto out;
		ap->gen = next->gen;
	}
	rc = PT_OK;
out:
	pt_config_free(old);
	pt_config_free(next);
	return rc;
}

/*
 * PUT config: the document `porterctl apply` reads, validated the same
 * way; ?dry_run=1 validates and diffs only.  422 names the bad field
 * with a JSON pointer and changes nothing.
 */
static int
api_config_put(struct admin *a)
{
	static const char *const allowed[] = { "dry_run", NULL };
	struct apply ap;
	struct pt_txn *txn = NULL;
	pt_json *o, *lines;
	const char *bad, *p, *nl;
	enum pt_err rc;
	int status;

	if ((bad = unknown_param(a, allowed)) != NULL)
		return fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want dry_run)", shown(bad));
	memset(&ap, 0, sizeof(ap));
	ap.dry = truthy(param(a, "dry_run"));
	if ((status = read_json(a, &ap.doc)) != 0)
		return status;
	pt_txn_abort(a->txn);
	a->txn = NULL;
	if (ap.dry) {
		if ((rc = pt_txn_begin(a->ctx->store, NULL, PT_TXN_READ, &txn)) ==
		    PT_OK)
			rc = apply_fn(txn, &ap);
		pt_txn_abort(txn);
	} else
		rc = pt_write(a->ctx->store, a->ctx->committer, apply_fn, &ap);
	if (rc != PT_OK && ap.refused != NULL) {
		pt_ctx_log(a->ctx, "configuration refused for token %s: %s",
		    a->tok.name, ap.refused);
		status = fail(a, 403, ap.refused, "%s", ap.err);
		goto out;
	}
	if (rc != PT_OK) {
		status = ap.invalid ? fail(a, 422, "invalid_config", "%s",
		    ap.err) : rc == PT_EINVAL ? fail(a, 500, "internal_error",
		    "stored configuration: %s", ap.err) : store_fail(a, rc,
		    "applying the configuration");
		goto out;
	}
	if ((o = pt_json_new_object()) == NULL ||
	    (lines = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		status = fail(a, 500, "internal_error", "out of memory");
		goto out;
	}
	pt_json_set(o, "dry_run", pt_json_new_bool(ap.dry));
	pt_json_set(o, "applied", pt_json_new_bool(!ap.dry && ap.changes > 0));
	pt_json_set(o, "changes", pt_json_new_int((int64_t)ap.changes));
	pt_json_set(o, "generation", pt_json_new_int((int64_t)ap.gen));
	pt_json_set(o, "diff", lines);
	for (p = ap.diff.data; ap.changes > 0 && p && *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		if (nl > p || *p != '\n')
			pt_json_append(lines, pt_json_new_str(p, (size_t)(nl -
			    p) + (*nl != '\n')));
	}
	if (!ap.dry && ap.changes > 0)
		pt_ctx_log(a->ctx, "configuration applied by token %s (generation "
		    "%llu)", a->tok.name, (unsigned long long)ap.gen);
	status = send_json(a, 200, o);
out:
	pt_buf_free(&ap.diff);
	pt_json_put(ap.doc);
	return status;
}

/* -------------------------------------------------------------- whoami */

static int
api_whoami(struct admin *a)
{
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL)
		return fail(a, 500, "internal_error", "out of memory");
	pt_json_set(o, "name", pt_json_new_cstr(a->tok.name));
	pt_json_set(o, "read_only", pt_json_new_bool(a->tok.read_only));
	set_jtime(o, "created_at", a->tok.created_at);
	return send_json(a, 200, o);
}

/* ------------------------------------------------------------- routing */

/*
 * The API.  A pattern is the path under <mount>/admin/api/, "*" matching
 * one segment.  "write": needs a token that is not read-only.  GET routes
 * answer HEAD too.
 */
static const struct route {
	const char	*method;
	const char	*pattern;
	int		(*fn)(struct admin *);
	int		 write;
} routes[] = {
	{ "GET", "whoami", api_whoami, 0 },
	{ "GET", "status", api_status, 0 },
	{ "GET", "sources", api_sources, 0 },
	{ "GET", "sources/*", api_source, 0 },
	{ "GET", "sources/*/status", api_source_status, 0 },
	{ "GET", "sources/*/events", api_source_events, 0 },
	{ "GET", "sources/*/logs", api_source_logs, 0 },
	{ "POST", "sources/*/rehearse", api_rehearse, 0 },
	{ "GET", "event_types", api_event_types, 0 },
	{ "GET", "logs", api_logs, 0 },
	{ "GET", "logs/*", api_log, 0 },
	{ "POST", "logs/*/replay", api_replay, 1 },
	{ "GET", "config", api_config_get, 0 },
	{ "PUT", "config", api_config_put, 1 },
};

/* Does the split path match "pattern"? */
static int
match(const struct admin *a, const char *pattern)
{
	const char *p = pattern;
	size_t i, n;

	for (i = 0; i < a->nseg; i++) {
		if (*p == '\0')
			return 0;
		n = strcspn(p, "/");
		if (!(n == 1 && *p == '*') && (strlen(a->seg[i]) != n ||
		    memcmp(a->seg[i], p, n) != 0))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return *p == '\0';
}

/*
 * Split the path under /admin/api/ into segments; -1 when malformed, -2
 * out of memory.
 */
static int
split(struct admin *a, const char *sub)
{
	char *p, *slash;

	if ((a->segs_buf = pt_strdup(sub)) == NULL)
		return -2;
	for (p = a->segs_buf; ; p = slash + 1) {
		/*
		 * Too deep, or an empty segment: at the end ("\0") or inside
		 * ("/": else "sources//logs" listed the logs of source "").
		 */
		if (a->nseg == MAX_SEGS || *p == '\0' || *p == '/')
			return -1;
		a->seg[a->nseg++] = p;
		if ((slash = strchr(p, '/')) == NULL)
			return 0;
		*slash = '\0';
	}
}

static int
api(struct admin *a, const char *sub)
{
	const struct route *r = NULL;
	char allow[64];
	size_t i;
	int rc;

	if (authenticate(a) < 0)
		return unauthorized(a);
	if ((rc = parse_query(a)) == -2)
		return fail(a, 500, "internal_error", "out of memory");
	if (rc < 0)
		return fail(a, 400, "invalid_parameter", "the query string is "
		    "malformed");
	allow[0] = '\0';
	if (*sub != '\0' && (rc = split(a, sub)) == -2)
		return fail(a, 500, "internal_error", "out of memory");
	if (*sub != '\0' && rc == 0)
		for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			if (!match(a, routes[i].pattern))
				continue;
			if (strcmp(routes[i].method, a->method) == 0)
				r = &routes[i];
			snprintf(allow + strlen(allow), sizeof(allow) -
			    strlen(allow), "%s%s%s", allow[0] ? ", " : "",
			    routes[i].method, strcmp(routes[i].method, "GET") ==
			    0 ? ", HEAD" : "");
		}
	if (r == NULL && allow[0] == '\0')
		return fail(a, 404, "not_found", "no such API route");
	if (r == NULL) {
		pt_resp_header(a->resp, "Allow", allow);
		return fail(a, 405, "method_not_allowed", "use %s", allow);
	}
	if (r->write && a->tok.read_only)
		return fail(a, 403, "forbidden", "token %s is read-only",
		    a->tok.name);
	return r->fn(a);
}

/* ------------------------------------------------------------- metrics */

/* Is the client on the loopback interface? */
static int
loopback(const char *addr)
{
	return addr != NULL && (strncmp(addr, "127.", 4) == 0 ||
	    strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0);
}

/*
 * GET /metrics: the Prometheus text format (metrics.h).  A token (a
 * read-only one will do), unless PORTER_METRICS_AUTH=loopback and the
 * client is on the loopback interface.
 * NOTE: behind a reverse proxy on the same host every client looks like
 * loopback; keep the default there.
 */
static int
metrics(struct admin *a)
{
	const char *mode = getenv("PORTER_METRICS_AUTH");
	enum pt_err rc;

	if (!(mode != NULL && strcmp(mode, "loopback") == 0 &&
	    loopback(a->req->remote_addr)) && authenticate(a) < 0)
		return unauthorized(a);
	if (strcmp(a->method, "GET") != 0) {
		pt_resp_header(a->resp, "Allow", "GET, HEAD");
		return fail(a, 405, "method_not_allowed", "use GET on /metrics");
	}
	pt_txn_abort(a->txn);
	a->txn = NULL;
	/*
	 * This process's latest refusals first (a failed flush keeps them
	 * for later: the scrape goes on).
	 */
	pt_metrics_flush(a->ctx->store, a->ctx->committer);
	pt_buf_reset(&a->resp->body);
	if ((rc = pt_metrics_render(a->ctx->store, &a->resp->body)) != PT_OK)
		return store_fail(a, rc, "rendering the metrics");
	a->resp->status = 200;
	a->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}

/* ------------------------------------------------------------- console */

/* The console's files: nothing else under <mount>/admin/ is served. */
static const struct {
	const char	*name;		/* after /admin/ */
	const char	*file;
	const char	*type;
} files[] = {
	{ "", "index.html", "text/html; charset=utf-8" },
	{ "index.html", "index.html", "text/html; charset=utf-8" },
	{ "app.js", "app.js", "text/javascript; charset=utf-8" },
	{ "style.css", "style.css", "text/css; charset=utf-8" },
	{ "favicon.svg", "favicon.svg", "image/svg+xml" },
};

/* Serve console file "i" from PORTER_CONSOLE_DIR or the installed copy. */
static int
console_file(struct admin *a, size_t i)
{
	const char *dir = getenv("PORTER_CONSOLE_DIR");
	char path[1024], chunk[16384];
	struct stat st;
	ssize_t n;
	int fd, status;

	if (dir == NULL || dir[0] == '\0')
		dir = PT_PKGDATADIR "/console";
	/* The console is open to anyone: paths go to the log, not the client. */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i].file) >=
	    sizeof(path))
		return fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "console path too long: %.200s", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return fail_private(a, errno == ENOENT ? 404 : 500,
		    "console_missing", "the console is not installed",
		    "the console is not installed (%s: %s)", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_FILE) {
		close(fd);
		return fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "%s is not a console file", path);
	}
	pt_buf_reset(&a->resp->body);
	status = 200;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || a->resp->body.len + (size_t)n > MAX_FILE ||
		    pt_buf_add(&a->resp->body, chunk, (size_t)n) != PT_OK) {
			status = -1;
			break;
		}
	}
	close(fd);
	if (status < 0)
		return fail_private(a, 500, "internal_error", "the console "
		    "cannot be served", "cannot read %s", path);
	a->resp->status = 200;
	a->resp->content_type = files[i].type;
	return 200;
}

static int
console(struct admin *a, const char *name)
{
	size_t i;

	if (strcmp(a->method, "GET") != 0) {
		pt_resp_header(a->resp, "Allow", "GET, HEAD");
		return fail(a, 405, "method_not_allowed", "the console is read "
		    "with GET");
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(files[i].name, name) == 0)
			return console_file(a, i);
	return fail(a, 404, "not_found", "no such resource");
}

/* ------------------------------------------------------------ the entry */

int
pt_admin_owns(const char *route)
{
	return strcmp(route, "/metrics") == 0 || strcmp(route, "/admin") == 0 ||
	    strncmp(route, "/admin/", 7) == 0;
}

int
pt_admin_handle(struct pt_ctx *ctx, const struct pt_req *req,
    struct pt_resp *resp, const char *route)
{
	struct admin a;
	size_t i;
	int status;

	memset(&a, 0, sizeof(a));
	a.ctx = ctx;
	a.req = req;
	a.resp = resp;
	a.route = route;
	a.method = req->method ? req->method : "";
	if (strcmp(a.method, "HEAD") == 0)
		a.method = "GET";
	mount_prefix(&a);

	if (strcmp(route, "/metrics") == 0)
		status = metrics(&a);
	else if (strcmp(route, API_PREFIX) == 0)
		status = api(&a, "");
	else if (strncmp(route, API_PREFIX "/", sizeof(API_PREFIX)) == 0)
		status = api(&a, route + sizeof(API_PREFIX));
	else if (strcmp(route, "/admin") == 0) {
		/* Relative, so that it works under any mount. */
		resp->status = status = 302;
		resp->content_type = "text/plain; charset=utf-8";
		pt_resp_header(resp, "Location", "admin/");
		pt_buf_adds(&resp->body, "admin/\n");
	} else
		status = console(&a, route + 7);

	if (resp->content_type != NULL &&
	    strncmp(resp->content_type, "text/html", 9) == 0) {
		pt_resp_header(resp, "Content-Security-Policy", CSP_CONSOLE);
		pt_resp_header(resp, "X-Frame-Options", "DENY");
	} else
		pt_resp_header(resp, "Content-Security-Policy", CSP_API);
	pt_resp_header(resp, "Referrer-Policy", "no-referrer");

	pt_txn_abort(a.txn);
	for (i = 0; i < a.nparams; i++) {
		pt_free(a.pname[i]);
		pt_free(a.pval[i]);
	}
	pt_free(a.segs_buf);
	pt_wipe(&a.tok, sizeof(a.tok));
	return status;
}
