/*
 * admin_http.c - what every admin request uses (see admin_int.h):
 * its error answers, JSON answers, query, body, token and configuration.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin_int.h"
#include "alloc.h"
#include "json.h"
#include "timeutil.h"
#include "tokens.h"

#define MAX_QUERY	4096
#define MAX_BODY	(17 * 1024 * 1024)	/* a 16 MiB payload, wrapped */

/*
 * An error answer and its log line; returns the status.  The log gets
 * the detail "fmt"; the client gets "client_msg", or the same text when
 * that is NULL.
 */
static int __attribute__((format(printf, 5, 0)))
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

int
adm_fail(struct admin *a, int status, const char *code, const char *fmt, ...)
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
int
adm_fail_private(struct admin *a, int status, const char *code,
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
int
adm_store_fail(struct admin *a, enum pt_err rc, const char *what)
{
	const struct pt_err_answer *ea = pt_err_answer(rc);
	char msg[400];

	pt_err_text(rc, what, pt_store_errstr(), msg, sizeof(msg));
	if (ea->retry_after != NULL)
		pt_resp_header(a->resp, "Retry-After", ea->retry_after);
	return adm_fail(a, ea->status, ea->code, "%s", msg);
}

/* Serialise "j" (taken) as the answer. */
int
adm_send_json(struct admin *a, int status, pt_json *j)
{
	if (j == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	pt_buf_reset(&a->resp->body);
	if (pt_json_write(&a->resp->body, j, PT_JSON_PLAIN) != PT_OK ||
	    pt_buf_addc(&a->resp->body, '\n') != PT_OK) {
		pt_json_put(j);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_put(j);
	a->resp->status = status;
	a->resp->content_type = "application/json";
	return status;
}

/* Member "key" of "obj": the RFC 3339 time of "us", or null for 0. */
enum pt_err
adm_set_time(pt_json *obj, const char *key, int64_t us)
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
int
adm_parse_query(struct admin *a)
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
const char *
adm_param(const struct admin *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nparams; i++)
		if (strcmp(a->pname[i], name) == 0)
			return a->pval[i];
	return NULL;
}

/* A query parameter outside "allowed" (NULL-terminated), or NULL. */
const char *
adm_unknown_param(const struct admin *a, const char *const *allowed)
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
const char *
adm_shown(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e || p - s > 60)
			return "(not shown)";
	return s;
}

/* "1", "true", "yes" */
int
adm_truthy(const char *s)
{
	return s != NULL && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "yes") == 0);
}

/* The read transaction of this request (one snapshot for the call). */
enum pt_err
adm_txn(struct admin *a, struct pt_txn **out)
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
enum pt_err
adm_config(struct admin *a, const struct pt_config **out)
{
	struct pt_txn *txn;
	char err[512];
	enum pt_err rc;

	if ((rc = adm_txn(a, &txn)) != PT_OK ||
	    (rc = pt_ctx_config(a->ctx, txn, err, sizeof(err))) != PT_OK)
		return rc;
	*out = a->ctx->cfg;
	return PT_OK;
}

/*
 * Read the JSON body: Content-Type JSON (415), a Content-Length (411) of
 * at most MAX_BODY (413), that many bytes (400), strict JSON (400).
 * Returns 0 with *doc, or the error status already answered.
 */
int
adm_read_json(struct admin *a, pt_json **doc)
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
		return adm_fail(a, 415, "unsupported_media_type", "the body must be "
		    "JSON (Content-Type: application/json)");
	if (req->content_length == NULL ||
	    pt_parse_content_length(req->content_length, &clen) < 0)
		return adm_fail(a, 411, "length_required", "a Content-Length header "
		    "is required");
	if (clen > MAX_BODY)
		return adm_fail(a, 413, "body_too_large", "the body is %llu bytes; "
		    "at most %d", (unsigned long long)clen, MAX_BODY);
	if ((buf = pt_malloc((size_t)clen + 1)) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	while (got < clen) {
		if (req->read_body == NULL || (n = req->read_body(req->read_arg,
		    buf + got, (size_t)clen - got)) <= 0) {
			pt_free(buf);
			return adm_fail(a, 400, "incomplete_body", "the body ended "
			    "before Content-Length (%llu) bytes",
			    (unsigned long long)clen);
		}
		got += (size_t)n;
	}
	rc = pt_json_parse(buf, (size_t)clen, PT_JSON_MAX_DEPTH, doc, &jerr);
	pt_free(buf);
	if (rc == PT_ENOMEM)
		return adm_fail(a, 500, "internal_error", "out of memory");
	if (rc != PT_OK)
		return adm_fail(a, 400, pt_jerr_code(jerr.code), "%s",
		    jerr.message);
	return 0;
}

/* ------------------------------------------------------------- tokens */

/*
 * Who is calling: the Bearer token of the Authorization header checked
 * against the stored hashes.  0, or -1 when there is none or it matches
 * none (the caller answers 401 without saying which).
 */
int
adm_authenticate(struct admin *a)
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
	if (adm_txn(a, &txn) != PT_OK)
		return -1;
	return pt_token_check(txn, v, n, &a->tok) == PT_OK ? 0 : -1;
}

int
adm_unauthorized(struct admin *a)
{
	int status = adm_fail(a, 401, "unauthorized", "a valid admin token is "
	    "required");

	pt_resp_header(a->resp, "WWW-Authenticate", "Bearer realm=\"porter\"");
	return status;
}
