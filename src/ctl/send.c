/*
 * send.c - "porterctl send": sign a JSON file as a source's sender
 * would and post it to Porter, so that an operator can try a source by
 * hand without writing HMAC code.
 *
 *	porterctl send --source S --env E [--url BASE] [--method M]
 *	    [--path SUFFIX] [--header 'Name: value']... [--cacert FILE]
 *	    FILE | --sample TYPE:NAME
 *
 * The body is signed with the environment's first active key through
 * pt_scheme_sign() (every scheme: HMAC presets, bearer, basic, shared
 * header) and sent over HTTP or HTTPS (httpc.c: libcurl, certificates
 * verified, proxies from the environment) to
 * BASE/receive/<endpoint_id>[SUFFIX].  The status line and the body of
 * the answer go to stdout; the exit status is 0 for a 2xx, 1 otherwise.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "httpc.h"

#define SEND_TIMEOUT_MS	30000			/* the whole call */
#define MAX_ANSWER	(16 * 1024 * 1024)	/* bytes of answer kept */
#define MAX_HEADERS	64			/* --header options */
#define DEFAULT_URL	"http://127.0.0.1:8080"	/* tools/demo, lighttpd.conf.example */

/*
 * Check "url" ("http[s]://host[:port][/prefix]") and copy it into "out"
 * without trailing slashes; exits with a message on anything else.
 * Returns where the prefix starts in "out".  libcurl checks the host and
 * port.
 */
static size_t
check_base(const char *url, struct pt_buf *out)
{
	const char *host, *slash;
	size_t n = strlen(url);

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		ctl_die("--url %s: want http[s]://HOST[:PORT][/PREFIX]", url);
	slash = strchr(host, '/');
	if (host[0] == '\0' || host == slash)
		ctl_die("--url %s: no host", url);
	if (strpbrk(host, "?# \t\r\n@") != NULL)
		ctl_die("--url %s: want a plain path prefix, no query, "
		    "fragment or user", url);
	while (slash != NULL && n > (size_t)(slash - url) && url[n - 1] == '/')
		n--;
	if (pt_buf_add(out, url, n) != PT_OK)
		ctl_die("out of memory");
	return slash != NULL ? (size_t)(slash - url) : n;
}

/* Status line and body on stdout, the body ending in a newline. */
static void
print_answer(const struct pt_httpc_res *res)
{
	const char *b = res->body.data;
	size_t n = res->body.len;

	printf("%s\n", res->status_line[0] ? res->status_line : "HTTP");
	if (n > 0) {
		fwrite(b, 1, n, stdout);
		if (b[n - 1] != '\n')
			fputc('\n', stdout);
	}
	if (res->truncated)
		fprintf(stderr, "porterctl: the answer is longer than %d bytes: "
		    "only those are shown\n", MAX_ANSWER);
}

int
cmd_send(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env_name = a->str[CTL_K_ENV],
	    *base = a->str[CTL_K_URL] ? a->str[CTL_K_URL] : DEFAULT_URL,
	    *method = a->str[CTL_K_METHOD] ? a->str[CTL_K_METHOD] : "POST",
	    *suffix = a->str[CTL_K_PATH] ? a->str[CTL_K_PATH] : "",
	    *cacert = a->str[CTL_K_CACERT];
	char *headers[MAX_HEADERS], *body, *h, why[256];
	struct ctl_sample smp;
	const struct pt_env *env;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_buf head = { 0 }, url = { 0 }, signed_url = { 0 };
	struct pt_httpc_req req;
	struct pt_httpc_res res;
	size_t nheaders = 0, len, i, prefix, at = 0;
	int good;

	/* --header, --method and --path were checked (ctl_check_*). */
	while ((h = ctl_each(a, CTL_K_HEADER, &at)) != NULL) {
		if (nheaders == MAX_HEADERS)
			ctl_die("at most %d --header", MAX_HEADERS);
		headers[nheaders++] = h;
	}
	prefix = check_base(base, &url);
	if (pt_httpc_init(why, sizeof(why)) != PT_OK)
		ctl_die("%s", why);
	/* A server that closes early is an error to report, not a signal
	 * (libcurl avoids SIGPIPE where it can, not everywhere). */
	signal(SIGPIPE, SIG_IGN);

	if ((a->pos[0] != NULL) == (a->given[CTL_K_SAMPLE] > 0))
		ctl_usage_die("send: give FILE or --sample TYPE:NAME (one of "
		    "them)");
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	memset(&smp, 0, sizeof(smp));
	if (a->given[CTL_K_SAMPLE]) {
		/* The sample's own method, path and headers, unless given. */
		ctl_sample_load(a->str[CTL_K_SAMPLE], env->source_type, &smp);
		body = smp.body;
		len = smp.len;
		smp.body = NULL;
		if (a->str[CTL_K_METHOD] == NULL && smp.method != NULL)
			method = smp.method;
		if (a->str[CTL_K_PATH] == NULL && smp.path != NULL)
			suffix = smp.path;
	} else
		body = ctl_read_file(a->pos[0], &len);

	/* The URL posted to, and the one the sender signs (schemes that
	 * sign it: twilio): with the environment's public base, when it has
	 * one, before the path Porter sees (mount included). */
	pt_buf_printf(&url, "/receive/%s%s", env->endpoint_id, suffix);
	if (env->public_url != NULL)
		pt_buf_printf(&signed_url, "%s%s", env->public_url,
		    url.data + prefix);
	if (url.failed || signed_url.failed)
		ctl_die("out of memory");

	/* Ours, then the signature, then --header (which may replace). */
	pt_buf_printf(&head, "User-Agent: porterctl/%s\n", PACKAGE_VERSION);
	if (env->scheme == NULL)
		fprintf(stderr, "porterctl: %s/%s has no signature scheme: "
		    "sending unsigned\n", source, env_name);
	else
		ctl_sign(env, source, env_name, body, len, env->public_url ?
		    signed_url.data : url.data, &head);
	if (smp.headers.len > 0)
		pt_buf_add(&head, smp.headers.data, smp.headers.len);
	for (i = 0; i < nheaders; i++)
		pt_buf_printf(&head, "%s\n", headers[i]);
	if (head.failed)
		ctl_die("out of memory");

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url.data;
	req.headers = head.data;
	req.headers_len = head.len;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = SEND_TIMEOUT_MS;
	req.max_body = MAX_ANSWER;
	req.ca_file = cacert;
	if (pt_httpc_send(&req, &res) != PT_OK) {
		pt_wipe(head.data, head.len);
		ctl_die("%s: %s", url.data, res.error);
	}
	print_answer(&res);
	good = pt_httpc_ok(&res);

	/* The head carries the credential for bearer/basic schemes. */
	pt_wipe(head.data, head.len);
	pt_httpc_res_free(&res);
	pt_httpc_thread_end();
	pt_buf_free(&head);
	pt_buf_free(&url);
	pt_buf_free(&signed_url);
	pt_free(body);
	ctl_sample_free(&smp);
	pt_config_free(cfg);
	pt_store_close(s);
	return good ? 0 : 1;
}
