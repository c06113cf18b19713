/*
 * test-http.c - Content-Length and Content-Type parsing, routing.
 */
#include "config.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * Every enum pt_err answers with a status that has a reason phrase, an
 * error code in snake_case, a message, and a Retry-After (digits) exactly
 * when the status is 503.
 */
static void
test_err_answers(void)
{
	const struct pt_err_answer *a;
	char text[200];
	int e, good;

	for (e = 0; e < PT_ERR__MAX; e++) {
		a = pt_err_answer((enum pt_err)e);
		good = a != NULL && pt_status_text(a->status) != NULL &&
		    a->status >= 500 && a->code != NULL && a->code[0] != '\0' &&
		    strspn(a->code, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(a->code) && a->message != NULL &&
		    a->message[0] != '\0' &&
		    (a->status == 503) == (a->retry_after != NULL) &&
		    (a->retry_after == NULL || (a->retry_after[0] != '\0' &&
		    strspn(a->retry_after, "0123456789") ==
		    strlen(a->retry_after)));
		ok(good, "error %d (%s): %d %s%s%s", e,
		    pt_strerror((enum pt_err)e), a ? a->status : 0,
		    a ? a->code : "?", a && a->retry_after ? ", Retry-After " :
		    "", a && a->retry_after ? a->retry_after : "");
	}
	a = pt_err_answer(PT_EFULL);
	ok(a->status == 503 && strcmp(a->code, "store_full") == 0,
	    "a full store is 503 store_full");
	a = pt_err_answer(PT_EBUSY);
	ok(a->status == 503 && strcmp(a->code, "busy") == 0,
	    "a busy store is 503 busy");
	ok(pt_err_answer((enum pt_err)PT_ERR__MAX)->status == 500 &&
	    pt_err_answer((enum pt_err)-1)->status == 500,
	    "an out-of-range error answers 500");
	pt_err_text(PT_EFULL, "recording the event", "MDB_MAP_FULL: x", text,
	    sizeof(text));
	is_str(text, "the store is full; nothing was kept: retry later "
	    "(recording the event: MDB_MAP_FULL: x)", "a message names what "
	    "failed and the engine's text");
	pt_err_text(PT_ENOMEM, "parsing", "stale engine text", text,
	    sizeof(text));
	is_str(text, "out of memory (parsing)", "... not for an error the "
	    "engine did not make");
}

/*
 * Collect the statuses the responder's sources answer with: a three-digit
 * number followed by an error code string (pt_reject(..., 404, "not_found"),
 * adm_fail(a, 403, "forbidden"), pt_resp_error(r, 500, "internal_error")), or
 * assigned to a status (resp->status = 302, status == 200).  Sets
 * seen[status]; returns how many files were read.
 */
static int
scan_statuses(const char *srcdir, int seen[600])
{
	static const char *const patterns[] = {
		"[^0-9]([1-5][0-9][0-9]),[[:space:]]*\"[a-z_]+\"",
		"status (=|==) ([1-5][0-9][0-9])[^0-9]",
		"answer\\(resp, ([1-5][0-9][0-9])[^0-9]",
	};
	char dir[1024], file[1200];
	struct dirent *de;
	regmatch_t m[3];
	regex_t re[3];
	size_t i, n, len;
	char *text, *p;
	DIR *d;
	FILE *f;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/src", srcdir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	for (i = 0; i < nitems(patterns); i++)
		if (regcomp(&re[i], patterns[i], REG_EXTENDED) != 0)
			abort();
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		/* ctl_*.c are the client side: statuses it reads, not sends. */
		if (len < 3 || strcmp(de->d_name + len - 2, ".c") != 0 ||
		    strncmp(de->d_name, "ctl_", 4) == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		if ((f = fopen(file, "r")) == NULL)
			continue;
		text = malloc(1 << 22);
		n = fread(text, 1, (1 << 22) - 1, f);
		text[n] = '\0';
		fclose(f);
		files++;
		for (i = 0; i < nitems(patterns); i++)
			for (p = text; regexec(&re[i], p, 3, m, 0) == 0;
			    p += m[0].rm_eo) {
				int g = i == 1 ? 2 : 1;

				seen[atoi(p + m[g].rm_so)] = 1;
			}
		free(text);
	}
	closedir(d);
	for (i = 0; i < nitems(patterns); i++)
		regfree(&re[i]);
	return files;
}

/* Every status the sources send has its reason phrase in the table. */
static void
test_sent_statuses(void)
{
	const char *srcdir = getenv("top_srcdir");
	static int seen[600];
	struct pt_resp resp;
	struct pt_buf b = { 0 };
	char want[64];
	int st, n = 0, files;

	files = scan_statuses(srcdir ? srcdir : ".", seen);
	ok(files > 20, "read the responder's sources (%d files in %s/src)",
	    files, srcdir ? srcdir : ".");
	/* The scan itself must see the ones known to be sent. */
	ok(seen[200] && seen[302] && seen[400] && seen[404] && seen[409] &&
	    seen[502] && seen[503], "the scan finds 200, 302, 400, 404, 409, "
	    "502 and 503");
	for (st = 100; st < 600; st++) {
		if (!seen[st])
			continue;
		n++;
		memset(&resp, 0, sizeof(resp));
		resp.status = st;
		pt_buf_reset(&b);
		pt_resp_head(&resp, &b);
		snprintf(want, sizeof(want), "Status: %d %s\r\n", st,
		    pt_status_text(st) ? pt_status_text(st) : "?");
		ok(pt_status_text(st) != NULL &&
		    strcmp(pt_status_text(st), "Unknown") != 0 && b.data != NULL &&
		    strncmp(b.data, want, strlen(want)) == 0,
		    "status %d sent as \"Status: %d %s\"", st, st,
		    pt_status_text(st) ? pt_status_text(st) : "(no phrase)");
	}
	pt_buf_free(&b);
	diag("%d statuses found in the sources", n);
	memset(&resp, 0, sizeof(resp));
	resp.status = 599;
	pt_resp_head(&resp, &b);
	ok(strncmp(b.data, "Status: 599 Server Error\r\n", 26) == 0,
	    "a status without a phrase gets its class's, not \"Unknown\"");
	pt_buf_free(&b);
}

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
	test_err_answers();
	test_sent_statuses();
	return tap_done();
}
