/*
 * httpc.h - Porter's outbound HTTP: one request, one answer, bounded.
 *
 * Used by the "http" workflow handler (a run POSTed to the operator's
 * app, signed the Standard Webhooks way) and by `porterctl send`.
 * httpc.c is the only file that includes libcurl.  What every call gets,
 * whatever the caller asks:
 *   - http:// and https:// only; redirects are not followed (a 3xx is an
 *     answer like any other, and not a success);
 *   - TLS verification of the peer and of the host name, against the
 *     system's CA store or the caller's "ca_file";
 *   - proxies from the environment, as libcurl reads them: http_proxy
 *     for http:// URLs, https_proxy (or HTTPS_PROXY) for https://,
 *     all_proxy as the fallback, no_proxy (or NO_PROXY) for the hosts
 *     to reach directly.  Upper-case HTTP_PROXY is ignored on purpose: in
 *     a CGI environment it is the request's "Proxy:" header ("httpoxy");
 *   - HTTP/1.1, no compression (the answer's bytes are what was sent),
 *     no Expect: 100-continue round trip, no signals.
 *
 * Threads: each thread keeps one libcurl handle of its own, and with it
 * the open connections, so that calls to the same host reuse a kept-alive
 * connection (and its TLS session).  pt_httpc_init() must run once before
 * threads start; pt_httpc_thread_end() releases the calling thread's
 * handle (threads that exit release theirs by themselves).
 */
#ifndef PT_HTTPC_H
#define PT_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct pt_httpc_req {
	const char	*method;	/* NULL: "POST" */
	const char	*url;		/* http://... or https://... */
	const char	*headers;	/* "Name: value\n" lines, or NULL */
	size_t		 headers_len;
	const void	*body;		/* sent as is, "body_len" bytes */
	size_t		 body_len;
	int64_t		 timeout_ms;	/* the whole call; > 0 */
	size_t		 max_body;	/* bytes of the answer's body kept */
	const char	*ca_file;	/* PEM CAs to trust instead of the
					   system's, or NULL */
};

struct pt_httpc_res {
	int		 status;	/* the answer's HTTP status, or 0 */
	char		 status_line[128]; /* "HTTP/1.1 200 OK", or "" */
	struct pt_buf	 body;		/* at most max_body bytes */
	int		 truncated;	/* the body was longer: the rest was
					   not read */
	int		 timed_out;
	int64_t		 duration_ms;
	char		 location[256];	/* a 3xx's Location (not followed) */
	char		 error[256];	/* why there is no answer, or "" */
};

/*
 * Set libcurl up for the process.  Call once from main before any thread
 * starts (libcurl's rule); later calls do nothing.  Returns PT_OK, or
 * PT_EIO with the reason in "why".
 */
enum pt_err	pt_httpc_init(char *why, size_t whylen);

/*
 * Send "req" and wait for the answer, at most req->timeout_ms in all
 * (resolving, connecting, TLS, sending, the answer).  "headers" are
 * added as given (a "Content-Type" or "User-Agent" among them replaces
 * Porter's "application/json" and "porter/VERSION"); each line must be a
 * token, ':' and a value without control characters.
 * Returns PT_OK when an answer came, whatever its status (see
 * pt_httpc_ok); PT_EIO when none did, with "error" saying why (cannot
 * resolve, connection refused, certificate not trusted, timed out after
 * N ms...); PT_EINVAL for an unusable request ("error" says what);
 * PT_ENOMEM.  An answer whose body is longer than max_body is an answer:
 * the first max_body bytes are kept, "truncated" is set and the rest is
 * not read (the connection is closed).
 * "res" is reset first; free it with pt_httpc_res_free() in every case.
 * NOTE: never call this while holding a write transaction.
 */
enum pt_err	pt_httpc_send(const struct pt_httpc_req *req,
		    struct pt_httpc_res *res);

#define PT_HTTPC_MAX_LINE	8191	/* bytes of one header line */
/*
 * Would pt_httpc_send take these "Name: value\n" lines ("len" bytes; empty
 * lines are skipped)?  For config validation, so that a bad header is
 * refused when applied rather than when a run is sent.  PT_OK, or
 * PT_EINVAL with the line named in "errbuf" (by its name, never its
 * value).
 */
enum pt_err	pt_httpc_check_headers(const char *lines, size_t len,
		    char *errbuf, size_t errlen);
void		pt_httpc_res_free(struct pt_httpc_res *);

/* Did the call get a 2xx answer? */
int		pt_httpc_ok(const struct pt_httpc_res *);

/*
 * One line for logs: "HTTP 200", "HTTP 302 (redirect to X, not
 * followed)", "HTTP 500", "timed out after 5000 ms waiting for the
 * answer", "connection refused by 127.0.0.1 port 9", ...
 */
void		pt_httpc_describe(const struct pt_httpc_res *, char *buf,
		    size_t len);

/* Release the calling thread's handle and its connections. */
void		pt_httpc_thread_end(void);

/*
 * Standard Webhooks signing (standardwebhooks.com): append the three
 * header lines the receiver verifies to "out":
 *	webhook-id: <id>
 *	webhook-timestamp: <now>
 *	webhook-signature: v1,<base64 HMAC-SHA256 of "id.now.body">
 * "secret" is the "whsec_<base64>" text as configured ("whsec_" may be
 * left out); "id" is what the receiver dedupes on (the run id), at most
 * 255 bytes without control characters; "now" is unix seconds.
 * Returns PT_OK, PT_EINVAL for an unusable secret or id, PT_ENOMEM.
 * NOTE: the lines carry no secret, but the key is wiped after use.
 */
enum pt_err	pt_httpc_sign_std(const uint8_t *secret, size_t secret_len,
		    const char *id, int64_t now, const void *body,
		    size_t body_len, struct pt_buf *out);

/*
 * Can "secret" sign for pt_httpc_sign_std?  For config validation:
 * PT_OK, or PT_EINVAL with the reason in "errbuf".
 */
enum pt_err	pt_httpc_check_secret(const uint8_t *secret, size_t len,
		    char *errbuf, size_t errlen);

#endif
