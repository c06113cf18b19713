/*
 * httpc.c - outbound HTTP on libcurl (see httpc.h); the only libcurl user.
 *
 * One easy handle per thread, kept in thread-specific data: libcurl
 * handles must not be shared between threads at once, and a handle that
 * lives on keeps its connection cache, DNS cache and TLS sessions, so a
 * responder thread that posts to the same app again reuses the
 * kept-alive connection (curl_easy_reset clears the options of the last
 * call, not the connections).  libcurl checks that a cached connection
 * is still alive before reusing it, and drops connections idle for more
 * than two minutes.  What reuse saves, measured with "test-httpc --bench"
 * on the 2-CPU test machine: a POST to a local responder takes ~50 us
 * kept alive and ~150 us on a new connection; over TLS ~0.2 ms against
 * ~3.5 ms (the handshake), before any network round trip.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "alloc.h"
#include "buf.h"
#include "httpc.h"
#include "scheme.h"

#define USER_AGENT	"porter/" PACKAGE_VERSION

static pthread_once_t	 init_once = PTHREAD_ONCE_INIT;
static CURLcode		 init_rc = CURLE_FAILED_INIT;
static int		 key_made;
static pthread_key_t	 handle_key;

/* A thread that exits takes its handle and connections with it. */
static void
drop_handle(void *h)
{
	curl_easy_cleanup(h);
}

static void
init_process(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (init_rc == CURLE_OK && pthread_key_create(&handle_key,
	    drop_handle) == 0)
		key_made = 1;
}

enum pt_err
pt_httpc_init(char *why, size_t whylen)
{
	pthread_once(&init_once, init_process);
	if (init_rc != CURLE_OK) {
		snprintf(why, whylen, "libcurl: %s", curl_easy_strerror(init_rc));
		return PT_EIO;
	}
	if (!key_made) {
		snprintf(why, whylen, "libcurl: no thread-specific key left");
		return PT_EIO;
	}
	return PT_OK;
}

void
pt_httpc_thread_end(void)
{
	CURL *h;

	if (!key_made || (h = pthread_getspecific(handle_key)) == NULL)
		return;
	(void)pthread_setspecific(handle_key, NULL);
	curl_easy_cleanup(h);
}

/*
 * The calling thread's handle (options reset after each call); NULL when
 * out of memory.
 */
static CURL *
thread_handle(void)
{
	CURL *h;

	if ((h = pthread_getspecific(handle_key)) != NULL)
		return h;
	if ((h = curl_easy_init()) == NULL)
		return NULL;
	if (pthread_setspecific(handle_key, h) != 0) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the callbacks fill. */
struct sink {
	struct pt_httpc_res	*res;
	size_t			 max_body;
	int			 nomem;
};

/*
 * Copy what the server sent ("len" bytes of "p") into "buf" as one line
 * of text, cut to fit, control bytes as '?': it goes to logs and
 * terminals.
 */
static void
copy_text(char *buf, size_t size, const char *p, size_t len)
{
	size_t i, keep = len < size ? len : size - 1;

	for (i = 0; i < keep; i++)
		buf[i] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
	buf[keep] = '\0';
}

/*
 * Each line of the answer's head.  A status line starts a new answer (an
 * interim 100 is followed by the real one): keep the last, without CRLF.
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t len = n;

	(void)size;			/* always 1 (libcurl's documentation) */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			len--;
		copy_text(k->res->status_line, sizeof(k->res->status_line), p,
		    len);
	}
	return n;
}

/*
 * Body bytes: keep up to max_body, then stop the transfer (returning less
 * than "n" makes libcurl fail with CURLE_WRITE_ERROR), so that an endless
 * answer costs neither memory nor the rest of the timeout.
 */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	struct pt_buf *b = &k->res->body;
	size_t room = k->max_body - b->len;

	(void)size;
	if (n > room) {
		if (room > 0 && pt_buf_add(b, p, room) != PT_OK)
			k->nomem = 1;
		k->res->truncated = 1;
		return 0;
	}
	if (n > 0 && pt_buf_add(b, p, n) != PT_OK) {
		k->nomem = 1;
		return 0;
	}
	return n;
}

/* RFC 9110 5.6.2: tchar. */
static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Is "p" ("n" bytes, no newline) "token: value" without control bytes? */
static int
header_line_ok(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return 0;
	for (i++; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f)
			return 0;
	return 1;
}

/* Does line "p" ("n" bytes) name header "name" (lower-case, with ':')? */
static int
names(const char *p, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n >= len && strncasecmp(p, name, len) == 0;
}

/*
 * Say which header line is unusable: by its name when that is short and
 * printable (never its value, which may be a credential), else by number.
 */
static void
bad_line(const char *p, size_t n, size_t i, char *errbuf, size_t errlen)
{
	const char *colon = memchr(p, ':', n);
	size_t nlen = colon ? (size_t)(colon - p) : n, j;
	int printable = nlen > 0 && nlen <= 64;

	if (errlen == 0)
		return;
	for (j = 0; printable && j < nlen; j++)
		printable = p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"';
	if (printable)
		snprintf(errbuf, errlen, "header \"%.*s\": want a token, ':' "
		    "and a value without control characters, at most %d bytes",
		    (int)nlen, p, PT_HTTPC_MAX_LINE);
	else
		snprintf(errbuf, errlen, "header line %zu: want \"Name: value\" "
		    "without control characters, at most %d bytes", i + 1,
		    PT_HTTPC_MAX_LINE);
}

/* Wipe and free a header list: its lines may carry credentials. */
static void
free_lines(struct curl_slist *l)
{
	struct curl_slist *e;

	for (e = l; e != NULL; e = e->next)
		pt_wipe(e->data, strlen(e->data));
	curl_slist_free_all(l);
}

enum pt_err
pt_httpc_check_headers(const char *lines, size_t len, char *errbuf,
    size_t errlen)
{
	const char *p = lines, *end = lines + (lines ? len : 0), *nl;
	size_t n, i = 0;

	for (; p != NULL && p < end; p = nl + 1, i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && (n > PT_HTTPC_MAX_LINE ||
		    memchr(p, '\0', n) != NULL || !header_line_ok(p, n))) {
			bad_line(p, n, i, errbuf, errlen);
			return PT_EINVAL;
		}
	}
	return PT_OK;
}

/*
 * The request's header list: the caller's lines (checked), then the
 * defaults they do not override.  Returns PT_OK, PT_EINVAL (a bad line,
 * said in res->error) or PT_ENOMEM.
 */
static enum pt_err
build_headers(const struct pt_httpc_req *req, struct curl_slist **out,
    struct pt_httpc_res *res)
{
	const char *p = req->headers, *end = p + (p ? req->headers_len : 0),
	    *nl;
	struct curl_slist *l = NULL, *t;
	char line[PT_HTTPC_MAX_LINE + 1], *colon;
	int has_type = 0, has_expect = 0;
	size_t n;
	enum pt_err rc;

	if ((rc = pt_httpc_check_headers(p, req->headers_len, res->error,
	    sizeof(res->error))) != PT_OK)
		return rc;
	for (; p != NULL && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((n = (size_t)(nl - p)) == 0)
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		/* "Name:" alone would make libcurl drop the header; "Name;"
		 * sends it empty, as given. */
		colon = memchr(line, ':', n);
		if (strspn(colon + 1, " \t") == n - (size_t)(colon - line) - 1) {
			colon[0] = ';';
			colon[1] = '\0';
		}
		has_type |= names(p, n, "content-type:");
		has_expect |= names(p, n, "expect:");
		t = curl_slist_append(l, line);
		pt_wipe(line, n);
		if (t == NULL)
			goto nomem;
		l = t;
	}
	/* Porter posts JSON; libcurl would say form-urlencoded. */
	if (!has_type) {
		if ((t = curl_slist_append(l, "Content-Type: application/json"))
		    == NULL)
			goto nomem;
		l = t;
	}
	/* No 100-continue round trip (one second lost on servers that do
	 * not answer it). */
	if (!has_expect) {
		if ((t = curl_slist_append(l, "Expect:")) == NULL)
			goto nomem;
		l = t;
	}
	*out = l;
	return PT_OK;
nomem:
	snprintf(res->error, sizeof(res->error), "out of memory");
	free_lines(l);
	return PT_ENOMEM;
}

/*
 * How far the call got, for a timeout: "resolving the host", ...  A
 * reused connection has no connect times, but a pre-transfer time.
 */
static const char *
phase(CURL *h, int https, int status)
{
	curl_off_t dns = 0, tcp = 0, tls = 0, pre = 0;

	(void)curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	(void)curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &tcp);
	(void)curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls);
	(void)curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	if (status > 0)
		return "reading the answer";
	if (pre > 0)
		return "waiting for the answer";
	if (dns == 0 && tcp == 0)
		return "resolving the host";
	if (tcp == 0)
		return "connecting";
	if (https && tls == 0)
		return "in the TLS handshake";
	return "waiting for the answer";
}

/*
 * "HOST port N" out of libcurl's "Failed to connect to HOST port N after
 * T ms: ..." (the peer it tried last: the proxy when there is one), or
 * NULL.  libcurl does not say it otherwise after a failed connect.
 */
static const char *
refused_peer(const char *detail, char *buf, size_t len)
{
	static const char lead[] = "Failed to connect to ";
	const char *p, *end;

	if (strncmp(detail, lead, sizeof(lead) - 1) != 0)
		return NULL;
	p = detail + sizeof(lead) - 1;
	if ((end = strstr(p, " after ")) == NULL &&
	    (end = strchr(p, ':')) == NULL)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return buf;
}

/*
 * Say why there is no answer, in res->error, from libcurl's code "rc"
 * and its message "detail".  Returns the pt_err for it.
 */
static enum pt_err
explain(CURL *h, CURLcode rc, const char *detail,
    const struct pt_httpc_req *req, struct pt_httpc_res *res)
{
	char peerbuf[200];
	long oserr = 0;
	const char *d = detail[0] ? detail : curl_easy_strerror(rc), *peer;
	char *e = res->error;
	size_t el = sizeof(res->error);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		res->timed_out = 1;
		snprintf(e, el, "timed out after %lld ms %s",
		    (long long)req->timeout_ms, phase(h, strncasecmp(req->url,
		    "https:", 6) == 0, res->status));
		return PT_EIO;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(e, el, "DNS: %s", d);
		return PT_EIO;
	case CURLE_COULDNT_CONNECT:
		(void)curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED && (peer = refused_peer(d, peerbuf,
		    sizeof(peerbuf))) != NULL)
			snprintf(e, el, "connection refused by %s", peer);
		else if (oserr == ECONNREFUSED)
			snprintf(e, el, "connection refused: %s", d);
		else
			snprintf(e, el, "cannot connect: %s", d);
		return PT_EIO;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(e, el, "TLS: the server's certificate is not "
		    "trusted: %s", d);
		return PT_EIO;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(e, el, "TLS handshake failed: %s", d);
		return PT_EIO;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(e, el, "TLS: cannot use CA file %s: %s",
		    req->ca_file ? req->ca_file : "(system)", d);
		return PT_EIO;
	case CURLE_GOT_NOTHING:
		snprintf(e, el, "the server closed the connection without "
		    "an answer");
		return PT_EIO;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		snprintf(e, el, "connection lost: %s", d);
		return PT_EIO;
	case CURLE_URL_MALFORMAT:
		snprintf(e, el, "unusable URL: %s", d);
		return PT_EINVAL;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WEIRD_SERVER_REPLY:
		/* The URL's scheme was checked: this is the answer (HTTP/0.9,
		 * not HTTP at all) or a proxy's scheme. */
		snprintf(e, el, "not an HTTP answer: %s", d);
		return PT_EIO;
	case CURLE_OUT_OF_MEMORY:
		snprintf(e, el, "out of memory");
		return PT_ENOMEM;
	default:
		snprintf(e, el, "%s", d);
		return PT_EIO;
	}
}

void
pt_httpc_res_free(struct pt_httpc_res *res)
{
	pt_buf_free(&res->body);
}

enum pt_err
pt_httpc_send(const struct pt_httpc_req *req, struct pt_httpc_res *res)
{
	static const char empty[1];
	char detail[CURL_ERROR_SIZE];
	const char *method = req->method ? req->method : "POST";
	struct curl_slist *hdrs = NULL;
	struct sink k;
	CURL *h;
	CURLcode rc;
	char *loc = NULL;
	long status = 0;
	int64_t t0 = mono_ms();
	enum pt_err err;

	memset(res, 0, sizeof(*res));
	memset(&k, 0, sizeof(k));
	k.res = res;
	k.max_body = req->max_body;
	detail[0] = '\0';
	if ((err = pt_httpc_init(res->error, sizeof(res->error))) != PT_OK)
		return err;
	if (req->url == NULL || (strncasecmp(req->url, "http://", 7) != 0 &&
	    strncasecmp(req->url, "https://", 8) != 0)) {
		snprintf(res->error, sizeof(res->error), "unusable URL: want "
		    "http:// or https://");
		return PT_EINVAL;
	}
	if (req->timeout_ms <= 0) {
		snprintf(res->error, sizeof(res->error), "no timeout given");
		return PT_EINVAL;
	}
	if ((err = build_headers(req, &hdrs, res)) != PT_OK)
		return err;
	if ((h = thread_handle()) == NULL) {
		free_lines(hdrs);
		snprintf(res->error, sizeof(res->error), "out of memory");
		return PT_ENOMEM;
	}

	/* Each setopt below only copies or stores; failures show at perform
	 * (an unknown option would be a build against an older libcurl,
	 * which configure refuses). */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* The responder is threaded: no SIGALRM around name lookups. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL) {
		/* Only these CAs: the system's directory is not searched. */
		curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* The status line is the origin's, not an https proxy's CONNECT. */
	curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body :
		    empty);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
	}
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &k);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);

	rc = curl_easy_perform(h);
	res->duration_ms = mono_ms() - t0;
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	res->status = (int)status;
	if (status >= 300 && status < 400 &&
	    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
	    loc != NULL)
		copy_text(res->location, sizeof(res->location), loc,
		    strlen(loc));

	if (k.nomem) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		err = PT_ENOMEM;
	} else if (rc == CURLE_OK ||
	    (rc == CURLE_WRITE_ERROR && res->truncated))
		err = status > 0 ? PT_OK : PT_EIO;
	else
		err = explain(h, rc, detail, req, res);
	if (err == PT_EIO && res->error[0] == '\0')
		snprintf(res->error, sizeof(res->error), "no HTTP answer");
	/* The handle (and its connections) outlives this call; the buffers
	 * its options point to do not. */
	curl_easy_reset(h);
	free_lines(hdrs);
	return err;
}

int
pt_httpc_ok(const struct pt_httpc_res *res)
{
	return res->error[0] == '\0' && res->status >= 200 &&
	    res->status < 300;
}

void
pt_httpc_describe(const struct pt_httpc_res *res, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (res->error[0] != '\0')
		snprintf(buf, len, "%s", res->error);
	else if (res->status >= 300 && res->status < 400)
		snprintf(buf, len, "HTTP %d (a redirect%s%s, not followed)",
		    res->status, res->location[0] ? " to " : "", res->location);
	else
		snprintf(buf, len, "HTTP %d%s", res->status, res->truncated ?
		    " (answer cut at the size limit)" : "");
}

/* The scheme Porter signs its own calls with. */
static const struct pt_scheme *
std_scheme(void)
{
	return pt_scheme_preset("standard-webhooks");
}

enum pt_err
pt_httpc_check_secret(const uint8_t *secret, size_t len, char *errbuf,
    size_t errlen)
{
	return pt_scheme_check_secret(std_scheme(), secret, len, errbuf,
	    errlen);
}

enum pt_err
pt_httpc_sign_std(const uint8_t *secret, size_t secret_len, const char *id,
    int64_t now, const void *body, size_t body_len, struct pt_buf *out)
{
	if (id == NULL)
		return PT_EINVAL;
	return pt_scheme_sign(std_scheme(), secret, secret_len, body,
	    body_len, NULL, now, id, out);
}
