/*
 * http.c - request helpers and responses (see http.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "nitems.h"

const struct pt_header *
pt_req_header(const struct pt_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return &r->headers[i];
	return NULL;
}

const char *
pt_req_ambiguous(const struct pt_req *r, const char *name)
{
	const struct pt_header *a, *b;
	size_t i, j;

	for (i = 0; i < r->nheaders; i++) {
		a = &r->headers[i];
		if (name != NULL && strcmp(a->name, name) != 0)
			continue;
		for (j = i + 1; j < r->nheaders; j++) {
			b = &r->headers[j];
			if (strcmp(a->name, b->name) == 0 &&
			    (a->value_len != b->value_len || (a->value_len > 0 &&
			    memcmp(a->value, b->value, a->value_len) != 0)))
				return a->name;
		}
		if (name != NULL)
			return NULL;	/* the first occurrence was compared */
	}
	return NULL;
}

/* Does "path" start with "prefix" at a segment boundary? */
static size_t
strip_prefix(const char *path, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n == 0 || n > len || memcmp(path, prefix, n) != 0)
		return 0;
	if (n < len && path[n] != '/')
		return 0;
	return n;
}

enum pt_err
pt_req_route(const struct pt_req *r, struct pt_buf *out)
{
	const char *p;
	size_t len, skip = 0;

	pt_buf_reset(out);
	if (r->path_info != NULL && r->path_info[0] != '\0') {
		p = r->path_info;
		len = strlen(p);
	} else if (r->request_uri != NULL && r->request_uri[0] != '\0') {
		p = r->request_uri;
		len = strcspn(p, "?#");
		/*
		 * No PATH_INFO: lighttpd at the root gives the whole path as
		 * SCRIPT_NAME; under a prefix the mount must come off.
		 */
		if (r->mount != NULL && r->mount[0] != '\0')
			skip = strip_prefix(p, len, r->mount);
		else if (r->script_name != NULL &&
		    strlen(r->script_name) < len)
			skip = strip_prefix(p, len, r->script_name);
	} else if (r->script_name != NULL && r->script_name[0] != '\0') {
		p = r->script_name;
		len = strlen(p);
	} else {
		p = "/";
		len = 1;
	}
	p += skip;
	len -= skip;
	if (len == 0)
		return pt_buf_add(out, "/", 1);
	if (p[0] != '/')
		return PT_EINVAL;
	return pt_buf_add(out, p, len);
}

int
pt_parse_content_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* The media type of Content-Type "ct" (no parameters): *n bytes at it. */
static const char *
media_type(const char *ct, size_t *n)
{
	while (*ct == ' ' || *ct == '\t')
		ct++;
	*n = strcspn(ct, "; \t");
	return ct;
}

int
pt_is_json_content_type(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return 0;
	ct = media_type(ct, &n);
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* A structured-syntax suffix: type/subtype+json (RFC 6839). */
	if (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 &&
	    memchr(ct, '/', n) != NULL)
		return 1;
	return 0;
}

/*
 * Every status Porter sends, with its reason phrase (RFC 9110 section 15).
 * tests/unit/test-http.c finds the statuses the sources use and checks
 * that each is here.
 */
static const struct {
	int		 status;
	const char	*text;
} statuses[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 302, "Found" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};
int
pt_is_form_content_type(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n;

	if (ct == NULL)
		return 0;
	ct = media_type(ct, &n);
	return n == sizeof(form) - 1 && strncasecmp(ct, form, n) == 0;
}

int
pt_body_format_of(const char *ct)
{
	if (pt_is_json_content_type(ct))
		return PT_BODY_JSON;
	if (pt_is_form_content_type(ct))
		return PT_BODY_FORM;
	return 0;
}

const char *
pt_status_text(int status)
{
	size_t i;

	for (i = 0; i < nitems(statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].text;
	return NULL;
}

/*
 * How each error answers over HTTP.  Only a full store and a busy one are
 * worth a retry soon (503 with Retry-After); everything else is Porter's
 * own failure (500), which senders retry on their own schedule.  "engine"
 * rows append the storage engine's text (pt_store_errstr), which only
 * failures inside the engine set.
 */
static const struct pt_err_answer err_answers[PT_ERR__MAX] = {
	[PT_OK] = { 500, "internal_error", "the operation failed without a "
	    "reason", NULL, 0 },
	[PT_ENOMEM] = { 500, "internal_error", "out of memory", NULL, 0 },
	[PT_ENOTFOUND] = { 500, "internal_error", "a stored record is missing",
	    NULL, 0 },
	[PT_EEXIST] = { 500, "internal_error", "a stored record exists "
	    "already", NULL, 1 },
	[PT_EFULL] = { 503, "store_full", "the store is full; nothing was "
	    "kept: retry later", "30", 1 },
	[PT_EIO] = { 500, "internal_error", "storage failure", NULL, 1 },
	[PT_EINVAL] = { 500, "internal_error", "the store refused the "
	    "operation", NULL, 1 },
	[PT_EBUSY] = { 503, "busy", "the store is busy: retry later", "5", 1 },
	[PT_ETOOBIG] = { 500, "internal_error", "a value exceeds a storage "
	    "limit", NULL, 1 },
	[PT_ECORRUPT] = { 500, "internal_error", "stored data is corrupt",
	    NULL, 1 },
	[PT_ERETRY] = { 500, "internal_error", "a write was not run again",
	    NULL, 0 },
};

const struct pt_err_answer *
pt_err_answer(enum pt_err err)
{
	if ((unsigned)err < PT_ERR__MAX && err_answers[err].code != NULL)
		return &err_answers[err];
	return &err_answers[PT_OK];
}

void
pt_err_text(enum pt_err err, const char *what, const char *engine,
    char *buf, size_t len)
{
	const struct pt_err_answer *a = pt_err_answer(err);

	if (a->engine && engine != NULL && engine[0] != '\0')
		snprintf(buf, len, "%s (%s: %s)", a->message, what, engine);
	else
		snprintf(buf, len, "%s (%s)", a->message, what);
}

void
pt_resp_header(struct pt_resp *r, const char *name, const char *value)
{
	if (r->nheaders == PT_RESP_MAX_HEADERS)
		return;
	snprintf(r->headers[r->nheaders].name, sizeof(r->headers[0].name),
	    "%s", name);
	snprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value),
	    "%s", value);
	r->nheaders++;
}

int
pt_resp_error(struct pt_resp *r, int status, const char *code,
    const char *fmt, ...)
{
	struct pt_buf msg = { 0 };
	va_list ap;

	r->status = status;
	r->content_type = "application/json";
	pt_buf_reset(&r->body);
	va_start(ap, fmt);
	pt_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	pt_buf_adds(&r->body, "{\"error\": ");
	pt_buf_add_json_str(&r->body, code, strlen(code));
	pt_buf_adds(&r->body, ", \"message\": ");
	pt_buf_add_json_str(&r->body, msg.data ? msg.data : "", msg.len);
	pt_buf_adds(&r->body, "}\n");
	pt_buf_free(&msg);
	return status;
}

void
pt_resp_free(struct pt_resp *r)
{
	pt_buf_free(&r->body);
	r->nheaders = 0;
}

enum pt_err
pt_resp_head(const struct pt_resp *r, struct pt_buf *out)
{
	const char *text;
	size_t i;

	/* A status without a phrase of its own gets its class's. */
	if ((text = pt_status_text(r->status)) == NULL)
		text = r->status >= 500 ? "Server Error" : r->status >= 400 ?
		    "Client Error" : r->status >= 300 ? "Redirection" :
		    "Success";
	pt_buf_printf(out, "Status: %d %s\r\n", r->status, text);
	pt_buf_printf(out, "Content-Type: %s\r\n", r->content_type ?
	    r->content_type : "application/json");
	pt_buf_printf(out, "Content-Length: %lu\r\n",
	    (unsigned long)r->body.len);
	pt_buf_adds(out, "Cache-Control: no-store\r\n");
	pt_buf_adds(out, "X-Content-Type-Options: nosniff\r\n");
	for (i = 0; i < r->nheaders; i++)
		pt_buf_printf(out, "%s: %s\r\n", r->headers[i].name,
		    r->headers[i].value);
	pt_buf_adds(out, "\r\n");
	return out->failed ? PT_ENOMEM : PT_OK;
}
