/*
 * test-http.c - Content-Length and Content-Type parsing, routing.
 */
#include "config.h"

#include <string.h>

#include "http.h"
#include "tap.h"

static const struct {
	const char	*text;
	int		 ok;
	unsigned long long value;
} lengths[] = {
	{ "0", 1, 0 },
	{ "1536", 1, 1536 },
	{ "16777216", 1, 16777216 },
	{ "18446744073709551605", 1, 18446744073709551605ULL },
	{ "", 0, 0 },
	{ "-1", 0, 0 },
	{ "+5", 0, 0 },
	{ " 5", 0, 0 },
	{ "5 ", 0, 0 },
	{ "0x10", 0, 0 },
	{ "1e3", 0, 0 },
	{ "abc", 0, 0 },
	{ "99999999999999999999999", 0, 0 },
};

static const struct {
	const char	*ct;
	int		 json;
	int		 format;	/* pt_body_format_of */
} types[] = {
	{ "application/json", 1, PT_BODY_JSON },
	{ "application/json; charset=utf-8", 1, PT_BODY_JSON },
	{ "Application/JSON", 1, PT_BODY_JSON },
	{ "application/vnd.api+json", 1, PT_BODY_JSON },
	{ "application/cloudevents+json; charset=UTF-8", 1, PT_BODY_JSON },
	{ "text/plain", 0, 0 },
	{ "application/x-www-form-urlencoded", 0, PT_BODY_FORM },
	{ "application/x-www-form-urlencoded; charset=utf-8", 0, PT_BODY_FORM },
	{ "Application/X-WWW-Form-URLEncoded", 0, PT_BODY_FORM },
	{ " application/x-www-form-urlencoded;charset=UTF-8", 0, PT_BODY_FORM },
	{ "application/x-www-form-urlencodedx", 0, 0 },
	{ "application/x-www-form", 0, 0 },
	{ "multipart/form-data; boundary=x", 0, 0 },
	{ "application/jsonx", 0, 0 },
	{ "json", 0, 0 },
	{ "+json", 0, 0 },
	{ "", 0, 0 },
	{ NULL, 0, 0 },
};

static const struct {
	const char	*path_info, *uri, *script, *mount;
	const char	*want;
} routes[] = {
	{ "/receive/abc", "/porter/receive/abc", "/porter", NULL, "/receive/abc" },
	{ NULL, "/receive/abc?x=1", "/receive/abc", NULL, "/receive/abc" },
	{ "", "/healthz", "/healthz", NULL, "/healthz" },
	{ NULL, "/porter/receive/abc", "/porter", NULL, "/receive/abc" },
	{ NULL, "/hooks/receive/abc", NULL, "/hooks", "/receive/abc" },
	{ NULL, "/hooks/receive/abc", NULL, "/hooks/", "/receive/abc" },
	{ NULL, "/hooksx/receive/abc", NULL, "/hooks", "/hooksx/receive/abc" },
	{ NULL, "/porter", "/porter", NULL, "/porter" },
	{ NULL, NULL, NULL, NULL, "/" },
};

int
main(void)
{
	struct pt_buf b = { 0 };
	struct pt_req r;
	struct pt_resp resp;
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < nitems(lengths); i++) {
		v = 0;
		rc = pt_parse_content_length(lengths[i].text, &v);
		ok((rc == 0) == lengths[i].ok && (!lengths[i].ok ||
		    v == lengths[i].value), "Content-Length \"%s\" %s",
		    lengths[i].text, lengths[i].ok ? "accepted" : "rejected");
	}
	ok(pt_parse_content_length(NULL, &v) < 0, "no Content-Length rejected");
	for (i = 0; i < nitems(types); i++) {
		is_int(pt_is_json_content_type(types[i].ct), types[i].json,
		    "Content-Type \"%s\"", types[i].ct ? types[i].ct : "(none)");
		is_int(pt_body_format_of(types[i].ct), types[i].format,
		    "Content-Type \"%s\": body format %d",
		    types[i].ct ? types[i].ct : "(none)", types[i].format);
	}
	for (i = 0; i < nitems(routes); i++) {
		memset(&r, 0, sizeof(r));
		r.path_info = routes[i].path_info;
		r.request_uri = routes[i].uri;
		r.script_name = routes[i].script;
		r.mount = routes[i].mount;
		rc = pt_req_route(&r, &b);
		ok(rc == PT_OK && strcmp(b.data, routes[i].want) == 0,
		    "route %s -> %s (got %s)", routes[i].uri ? routes[i].uri :
		    "-", routes[i].want, b.data ? b.data : "?");
	}
	pt_buf_free(&b);

	memset(&resp, 0, sizeof(resp));
	pt_resp_error(&resp, 404, "not_found", "no \"such\" thing");
	is_str(resp.body.data,
	    "{\"error\": \"not_found\", \"message\": \"no \\\"such\\\" thing\"}\n",
	    "error body is JSON with escapes");
	pt_resp_header(&resp, "Retry-After", "30");
	pt_resp_head(&resp, &b);
	ok(strstr(b.data, "Status: 404 Not Found\r\n") &&
	    strstr(b.data, "Retry-After: 30\r\n") &&
	    strstr(b.data, "Content-Type: application/json\r\n") &&
	    b.len > 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0,
	    "response head");
	pt_buf_free(&b);
	pt_resp_free(&resp);
	return tap_done();
}
