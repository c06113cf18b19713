/*
 * test-httpc.c - Porter's HTTP client (httpc.c) against a local receiver.
 *
 * The receiver is tests/unit/receiver.py, started here on 127.0.0.1 (plain
 * HTTP and, with a CA and certificate made by the openssl command in a
 * temporary directory, HTTPS).  It checks Standard Webhooks signatures
 * with its own code, so pt_httpc_sign_std is judged by an independent
 * verifier.  The cases: signed posts verified (and refused when tampered
 * with or signed with another key), what goes on the wire (method,
 * headers, body, no Expect), a 500, a 302 that must not be followed, a
 * receiver that never answers in time, a huge answer cut at the cap, a
 * refused connection, a connection closed without an answer, proxies
 * from the environment (http_proxy, no_proxy; HTTP_PROXY ignored),
 * kept-alive connections reused, 8 threads at once, TLS verified against
 * the given CA only (and the host name checked), and, when built with
 * seccomp, all of it inside the responder's filter.
 *
 * "test-httpc --bench N" instead measures the cost of one POST (us per
 * call) with and without connection reuse, against a minimal C responder
 * (plain HTTP) and the Python receiver (HTTP and HTTPS).
 * Skipped when python3 or the openssl command is missing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "tap.h"
#ifdef HAVE_SECCOMP
#include "sandbox.h"
#endif

/* base64 of "porter-httpc-test-key-0123456789" and of another key. */
#define SECRET	"whsec_cG9ydGVyLWh0dHBjLXRlc3Qta2V5LTAxMjM0NTY3ODk="
#define OTHER	"whsec_YW5vdGhlci1rZXktZm9yLXRoZS13cm9uZy1zZWNyZXQ="
#define BODY	"{\"run\":{\"id\":\"run_test\",\"workflow\":\"k\"}}"
#define TIMEOUT	10000			/* ms, for calls that should answer */
#define CAP	(1024 * 1024)		/* body bytes kept, by default */
#define NTHREADS 8
#define PER_THREAD 25

static char *tmp;			/* certificates */
static char ca_pem[600], other_pem[600];
static int port, tls_port;		/* the receiver's */
static pid_t rcv_pid = -1;
static int rcv_stdin = -1;

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* Run "cmd" in "tmp" through the shell; 0 when it exited 0. */
static int
sh(const char *cmd)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "cd '%s' && (%s) >openssl.log 2>&1", tmp,
	    cmd);
	return system(buf) == 0 ? 0 : -1;
}

/*
 * A CA, a server certificate it signed for 127.0.0.1 and localhost (not
 * app.localhost, which also reaches 127.0.0.1: the host-name check), and
 * a second, unrelated CA.  EC keys: fast to make.
 */
static int
make_certs(void)
{
	static const char *cmds[] = {
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
		" -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=porter-test-ca",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
		" -nodes -keyout other.key -out other.pem -days 2"
		" -subj /CN=porter-other-ca",
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
		" -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1",
		"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
		"basicConstraints=CA:FALSE\\n' > srv.ext",
		"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key"
		" -CAcreateserial -out srv.pem -days 2 -extfile srv.ext",
	};
	size_t i;

	for (i = 0; i < nitems(cmds); i++)
		if (sh(cmds[i]) == -1)
			return -1;
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tmp);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", tmp);
	return 0;
}

/* tests/unit/receiver.py in the source tree. */
static void
receiver_path(char *buf, size_t len)
{
	const char *top = getenv("top_srcdir");
	const char *me = __FILE__, *slash = strrchr(me, '/');

	if (top != NULL && *top != '\0')
		snprintf(buf, len, "%s/tests/unit/receiver.py", top);
	else if (slash != NULL)
		snprintf(buf, len, "%.*s/receiver.py", (int)(slash - me), me);
	else
		snprintf(buf, len, "receiver.py");
}

/* Start the receiver; learn its ports from its first line. */
static void
start_receiver(void)
{
	char script[1024], cert[700], key[700], line[64];
	int in[2], out[2];
	size_t n = 0;
	ssize_t r;
	struct pollfd pfd;

	receiver_path(script, sizeof(script));
	snprintf(cert, sizeof(cert), "%s/srv.pem", tmp);
	snprintf(key, sizeof(key), "%s/srv.key", tmp);
	if (pipe(in) == -1 || pipe(out) == -1)
		bail("pipe");
	if ((rcv_pid = fork()) == -1)
		bail("fork");
	if (rcv_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, "--secret", SECRET,
		    "--cert", cert, "--key", key, "--lifetime", "600",
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	rcv_stdin = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (n < sizeof(line) - 1 && memchr(line, '\n', n) == NULL) {
		if (poll(&pfd, 1, 20000) != 1)
			bail("the receiver did not start within 20 s");
		if ((r = read(out[0], line + n, sizeof(line) - 1 - n)) <= 0)
			bail("the receiver exited at start (see its stderr)");
		n += (size_t)r;
	}
	line[n] = '\0';
	close(out[0]);
	if (sscanf(line, "%d %d", &port, &tls_port) != 2 || port <= 0 ||
	    tls_port <= 0)
		bail("the receiver's first line is not two ports");
}

static void
stop_receiver(void)
{
	if (rcv_stdin >= 0)
		close(rcv_stdin);
	if (rcv_pid > 0)
		(void)waitpid(rcv_pid, NULL, 0);
}

static void
url_of(char *buf, size_t len, int tls, const char *host, const char *path)
{
	snprintf(buf, len, "%s://%s:%d%s", tls ? "https" : "http", host,
	    tls ? tls_port : port, path);
}

/* One call with the defaults of these tests. */
static enum pt_err
call(const char *method, const char *url, const char *headers,
    const char *body, int64_t timeout_ms, size_t max, const char *ca,
    struct pt_httpc_res *res)
{
	struct pt_httpc_req req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.headers_len = headers ? strlen(headers) : 0;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = timeout_ms;
	req.max_body = max;
	req.ca_file = ca;
	return pt_httpc_send(&req, res);
}

/*
 * POST "sent" signed as "signed_body" with "secret" for message "id";
 * "extra" header lines go after the signature.
 */
static enum pt_err
post_signed(const char *url, const char *secret, const char *id,
    const char *signed_body, const char *sent, const char *ca,
    struct pt_httpc_res *res)
{
	struct pt_buf h = { 0 };
	enum pt_err rc;

	if (pt_httpc_sign_std((const uint8_t *)secret, strlen(secret), id,
	    (int64_t)time(NULL), signed_body, strlen(signed_body), &h) != PT_OK)
		bail("pt_httpc_sign_std failed on a good secret");
	rc = call("POST", url, h.data, sent, TIMEOUT, CAP, ca, res);
	pt_buf_free(&h);
	return rc;
}

static const char *
body_of(const struct pt_httpc_res *res)
{
	return res->body.data ? res->body.data : "";
}

/* A count from the receiver's /stats ("key" with its quotes, colon and
 * space), asked on this thread; -1 when it cannot be had. */
static int
stat_of(const char *key)
{
	struct pt_httpc_res res;
	char url[128];
	const char *p;
	int n = -1;

	url_of(url, sizeof(url), 0, "127.0.0.1", "/stats");
	if (call("GET", url, NULL, NULL, TIMEOUT, CAP, NULL, &res) == PT_OK &&
	    (p = strstr(body_of(&res), key)) != NULL)
		n = atoi(p + strlen(key));
	pt_httpc_res_free(&res);
	return n;
}

/* TCP connections the receiver accepted so far. */
static int
connections(void)
{
	return stat_of("\"connections\": ");
}

static void
test_signing(void)
{
	struct pt_buf h = { 0 };
	char url[128], err[256];
	const uint8_t *s = (const uint8_t *)SECRET;
	struct pt_httpc_res res;
	enum pt_err rc;

	url_of(url, sizeof(url), 0, "127.0.0.1", "/hook");
	rc = post_signed(url, SECRET, "run_sig1", BODY, BODY, NULL, &res);
	is_int(rc, PT_OK, "signed post: an answer");
	is_int(res.status, 200, "signed post: the receiver verified it");
	ok(strstr(body_of(&res), "\"verified\": true") != NULL &&
	    strstr(body_of(&res), "\"id\": \"run_sig1\"") != NULL,
	    "signed post: verified by the receiver's own code, webhook-id is "
	    "the run id");
	ok(pt_httpc_ok(&res), "signed post: pt_httpc_ok");
	pt_httpc_res_free(&res);

	rc = post_signed(url, SECRET, "run_sig1", BODY, BODY, NULL, &res);
	ok(rc == PT_OK && strstr(body_of(&res), "\"seen\": 2") != NULL,
	    "the same run id again: the app can dedupe on webhook-id");
	pt_httpc_res_free(&res);

	rc = post_signed(url, SECRET, "run_sig2", BODY, "{\"run\":{}}", NULL,
	    &res);
	ok(rc == PT_OK && res.status == 401 && !pt_httpc_ok(&res),
	    "a body other than the one signed: 401 from the receiver");
	pt_httpc_res_free(&res);
	rc = post_signed(url, OTHER, "run_sig3", BODY, BODY, NULL, &res);
	ok(rc == PT_OK && res.status == 401,
	    "signed with another secret: 401 from the receiver");
	pt_httpc_res_free(&res);
	rc = call("POST", url, NULL, BODY, TIMEOUT, CAP, NULL, &res);
	ok(rc == PT_OK && res.status == 401, "unsigned: 401");
	pt_httpc_res_free(&res);

	/* The lines themselves. */
	rc = pt_httpc_sign_std(s, strlen(SECRET), "run_x", 1700000000, "{}", 2,
	    &h);
	ok(rc == PT_OK && strstr(h.data, "webhook-id: run_x\n") != NULL &&
	    strstr(h.data, "webhook-timestamp: 1700000000\n") != NULL &&
	    strstr(h.data, "webhook-signature: v1,") != NULL,
	    "pt_httpc_sign_std: webhook-id, webhook-timestamp, "
	    "webhook-signature v1,");
	ok(strstr(h.data, SECRET + 6) == NULL, "the secret is not in the lines");
	pt_buf_free(&h);
	rc = pt_httpc_sign_std(s + 6, strlen(SECRET) - 6, "run_x", 1700000000,
	    "{}", 2, &h);
	is_int(rc, PT_OK, "a secret without whsec_ signs too");
	pt_buf_free(&h);
	rc = pt_httpc_sign_std((const uint8_t *)"whsec_!!!", 9, "run_x", 1, "{}",
	    2, &h);
	is_int(rc, PT_EINVAL, "a secret that is not base64: PT_EINVAL");
	pt_buf_free(&h);
	rc = pt_httpc_sign_std(s, strlen(SECRET), "run\nx", 1, "{}", 2, &h);
	is_int(rc, PT_EINVAL, "an id with a newline: PT_EINVAL");
	pt_buf_free(&h);
	rc = pt_httpc_sign_std(s, strlen(SECRET), NULL, 1, "{}", 2, &h);
	is_int(rc, PT_EINVAL, "no id: PT_EINVAL");
	pt_buf_free(&h);
	is_int(pt_httpc_check_secret(s, strlen(SECRET), err, sizeof(err)),
	    PT_OK, "pt_httpc_check_secret: a whsec_ secret");
	is_int(pt_httpc_check_secret((const uint8_t *)"whsec_", 6, err,
	    sizeof(err)), PT_EINVAL, "pt_httpc_check_secret: empty after whsec_");
}

static void
test_wire(void)
{
	struct pt_httpc_res res;
	char url[128];
	const char *b;
	enum pt_err rc;

	url_of(url, sizeof(url), 0, "127.0.0.1", "/echo");
	rc = call(NULL, url, "X-Porter-Test: one\nAuthorization: Bearer t0k\n"
	    "X-Empty:  \n", BODY, TIMEOUT, CAP, NULL, &res);
	b = body_of(&res);
	ok(rc == PT_OK && res.status == 200, "echo: 200");
	is_str(res.status_line, "HTTP/1.1 200 OK", "the status line is kept");
	ok(strstr(b, "\"method\": \"POST\"") && strstr(b,
	    "\"version\": \"HTTP/1.1\""), "POST over HTTP/1.1 by default");
	ok(strstr(b, "[\"content-type\", \"application/json\"]") != NULL,
	    "Content-Type: application/json by default");
	ok(strstr(b, "[\"user-agent\", \"porter/") != NULL,
	    "User-Agent: porter/VERSION");
	ok(strstr(b, "[\"x-porter-test\", \"one\"]") != NULL &&
	    strstr(b, "[\"authorization\", \"Bearer t0k\"]") != NULL,
	    "the caller's headers arrive");
	ok(strstr(b, "[\"x-empty\", \"\"]") != NULL,
	    "a header with an empty value is sent, empty");
	ok(strstr(b, "\"expect\"") == NULL, "no Expect: 100-continue");
	ok(strstr(b, "\"accept-encoding\"") == NULL,
	    "no Accept-Encoding: answers are not decompressed");
	ok(strstr(b, "\"body\": \"{\\\"run\\\":") != NULL,
	    "the body arrives as sent");
	pt_httpc_res_free(&res);

	rc = call("PUT", url, "Content-Type: text/plain\nUser-Agent: porterctl/x",
	    "hi", TIMEOUT, CAP, NULL, &res);
	b = body_of(&res);
	ok(rc == PT_OK && strstr(b, "\"method\": \"PUT\"") &&
	    strstr(b, "[\"content-type\", \"text/plain\"]") &&
	    !strstr(b, "application/json") &&
	    strstr(b, "[\"user-agent\", \"porterctl/x\"]"),
	    "another method; the caller's Content-Type and User-Agent replace "
	    "the defaults");
	pt_httpc_res_free(&res);

	/* The cap exactly at the answer's size keeps it whole. */
	rc = call("POST", url, NULL, "", TIMEOUT, CAP, NULL, &res);
	{
		size_t whole = res.body.len;

		pt_httpc_res_free(&res);
		rc = call("POST", url, NULL, "", TIMEOUT, whole, NULL, &res);
		ok(rc == PT_OK && res.body.len == whole && !res.truncated,
		    "an answer exactly max_body long is whole (%zu bytes)",
		    whole);
		pt_httpc_res_free(&res);
		rc = call("POST", url, NULL, "", TIMEOUT, whole - 1, NULL, &res);
		ok(rc == PT_OK && res.body.len == whole - 1 && res.truncated &&
		    res.status == 200, "one byte more than max_body: cut, "
		    "still an answer");
		pt_httpc_res_free(&res);
	}
}

static void
test_bad_requests(void)
{
	static const struct {
		const char	*desc;
		const char	*url;
		const char	*headers;
		int64_t		 timeout_ms;
	} cases[] = {
		{ "ftp:// URL", "ftp://127.0.0.1/x", NULL, TIMEOUT },
		{ "file:// URL", "file:///etc/passwd", NULL, TIMEOUT },
		{ "no URL", NULL, NULL, TIMEOUT },
		{ "no timeout", "http://127.0.0.1:1/", NULL, 0 },
		{ "a header without a colon", "http://127.0.0.1:1/", "NoColon\n",
		    TIMEOUT },
		{ "a header name with a space", "http://127.0.0.1:1/",
		    "Bad Name: x\n", TIMEOUT },
		{ "a header value with CR", "http://127.0.0.1:1/",
		    "X-A: a\rInjected: b\n", TIMEOUT },
		{ "an empty header name", "http://127.0.0.1:1/", ": x\n",
		    TIMEOUT },
	};
	struct pt_httpc_res res;
	size_t i;
	enum pt_err rc;

	static const struct {
		const char	*desc;
		const char	*lines;
		size_t		 len;	/* 0: strlen */
		enum pt_err	 want;
	} hdrs[] = {
		{ "two lines, no final newline", "A: 1\nB-c_d.e~: x y", 0, PT_OK },
		{ "empty lines are skipped", "\n\nA: 1\n\n", 0, PT_OK },
		{ "a tab in a value", "A:\tb\tc\n", 0, PT_OK },
		{ "an empty value", "X-Empty:\n", 0, PT_OK },
		{ "nothing", "", 0, PT_OK },
		{ "a NUL in a line", "A: b\0c\n", 7, PT_EINVAL },
		{ "DEL in a value", "A: b\x7f\n", 0, PT_EINVAL },
		{ "a space before the colon", "A : b\n", 0, PT_EINVAL },
		{ "a second line without a colon", "A: b\nC\n", 0, PT_EINVAL },
	};
	char err[256], *big;
	const size_t bign = PT_HTTPC_MAX_LINE + 1;

	for (i = 0; i < nitems(cases); i++) {
		rc = call("POST", cases[i].url, cases[i].headers, "{}",
		    cases[i].timeout_ms, CAP, NULL, &res);
		ok(rc == PT_EINVAL && res.error[0] != '\0' && res.status == 0,
		    "%s: PT_EINVAL (%s)", cases[i].desc, res.error);
		pt_httpc_res_free(&res);
	}
	for (i = 0; i < nitems(hdrs); i++) {
		err[0] = '\0';
		rc = pt_httpc_check_headers(hdrs[i].lines, hdrs[i].len ?
		    hdrs[i].len : strlen(hdrs[i].lines), err, sizeof(err));
		ok(rc == hdrs[i].want && (rc == PT_OK) == (err[0] == '\0'),
		    "pt_httpc_check_headers: %s: %s", hdrs[i].desc,
		    rc == PT_OK ? "PT_OK" : err);
	}
	/* The longest line, and one byte more. */
	if ((big = malloc(bign + 1)) == NULL)
		bail("malloc");
	memset(big, 'v', bign);
	memcpy(big, "X-Big: ", 7);
	is_int(pt_httpc_check_headers(big, bign - 1, err, sizeof(err)), PT_OK,
	    "a header line of %d bytes", PT_HTTPC_MAX_LINE);
	is_int(pt_httpc_check_headers(big, bign, err, sizeof(err)), PT_EINVAL,
	    "a header line of %d bytes: too long", PT_HTTPC_MAX_LINE + 1);
	free(big);
	rc = pt_httpc_check_headers("Authorization: Bearer s3cr3t\r", 29, err,
	    sizeof(err));
	ok(rc == PT_EINVAL && strstr(err, "Authorization") != NULL &&
	    strstr(err, "s3cr3t") == NULL, "a bad line is named, its value "
	    "(a credential) never quoted: %s", err);
}

static void
test_failures(void)
{
	struct pt_httpc_res res;
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	char url[128], why[300];
	int64_t t0;
	enum pt_err rc;
	int fd;

	url_of(url, sizeof(url), 0, "127.0.0.1", "/fail");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	pt_httpc_describe(&res, why, sizeof(why));
	ok(rc == PT_OK && res.status == 500 && !pt_httpc_ok(&res) &&
	    strcmp(body_of(&res), "boom") == 0 && strcmp(why, "HTTP 500") == 0,
	    "500: an answer, not ok, body kept (%s)", why);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/redirect");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	pt_httpc_describe(&res, why, sizeof(why));
	ok(rc == PT_OK && res.status == 302 && !pt_httpc_ok(&res),
	    "302: not followed (the /hook it points to would say 401), not ok");
	ok(strstr(res.location, "/hook") != NULL &&
	    strstr(why, "not followed") != NULL, "302: %s", why);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/slow?ms=4000");
	t0 = time(NULL);
	rc = call("POST", url, NULL, "{}", 300, CAP, NULL, &res);
	ok(rc == PT_EIO && res.timed_out && res.status == 0 &&
	    strcmp(res.error, "timed out after 300 ms waiting for the answer")
	    == 0, "a receiver that does not answer in time: %s", res.error);
	ok(res.duration_ms >= 250 && res.duration_ms < 3000 &&
	    time(NULL) - t0 < 4, "the timeout is kept (%lld ms)",
	    (long long)res.duration_ms);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/huge");
	rc = call("POST", url, NULL, "{}", TIMEOUT, 65536, NULL, &res);
	ok(rc == PT_OK && res.status == 200 && res.truncated &&
	    res.body.len == 65536 && pt_httpc_ok(&res),
	    "an 8 MiB answer: 200, the first 64 KiB kept, truncated");
	ok(res.duration_ms < 5000, "... without reading the rest (%lld ms)",
	    (long long)res.duration_ms);
	pt_httpc_describe(&res, why, sizeof(why));
	ok(strstr(why, "cut") != NULL, "described: %s", why);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/close");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	ok(rc == PT_EIO && strstr(res.error, "without an answer") != NULL,
	    "closed without an answer: %s", res.error);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/garbage");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	ok(rc == PT_EIO && res.status == 0 && strstr(res.error, "not an HTTP "
	    "answer") != NULL, "bytes that are not HTTP: %s", res.error);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 0, "127.0.0.1", "/longstatus");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	ok(rc == PT_OK && res.status == 200 && strlen(res.status_line) ==
	    sizeof(res.status_line) - 1 && strncmp(res.status_line,
	    "HTTP/1.1 200 xxx", 16) == 0, "a 1000-byte reason phrase: the "
	    "status line is cut to %zu bytes", sizeof(res.status_line) - 1);
	pt_httpc_res_free(&res);

	/* A port bound but not listening refuses connections. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) == -1)
		bail("socket");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook",
	    ntohs(sa.sin_port));
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	snprintf(why, sizeof(why), "connection refused by 127.0.0.1 port %d",
	    ntohs(sa.sin_port));
	ok(rc == PT_EIO && strcmp(res.error, why) == 0 && !pt_httpc_ok(&res),
	    "connection refused: %s", res.error);
	pt_httpc_res_free(&res);
	close(fd);
}

/* The path the receiver saw, from /echo's answer ("" if none). */
static void
echoed_path(const struct pt_httpc_res *res, char *buf, size_t len)
{
	const char *p = strstr(body_of(res), "\"path\": \""), *e;

	buf[0] = '\0';
	if (p == NULL || (e = strchr(p + 9, '"')) == NULL)
		return;
	snprintf(buf, len, "%.*s", (int)(e - p - 9), p + 9);
}

static void
test_proxy_env(void)
{
	struct pt_httpc_res res;
	char proxy[64], url[128], path[256];
	enum pt_err rc;
	int t0;

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");

	/* The receiver plays the proxy: it sees the absolute URL.  The
	 * target's name is never resolved here (the proxy's job). */
	setenv("http_proxy", proxy, 1);
	rc = call("POST", "http://app.invalid/echo", NULL, "{}", TIMEOUT, CAP,
	    NULL, &res);
	echoed_path(&res, path, sizeof(path));
	ok(rc == PT_OK && res.status == 200 &&
	    strcmp(path, "http://app.invalid/echo") == 0,
	    "http_proxy is honoured: the proxy got %s", path);
	pt_httpc_res_free(&res);

	/* no_proxy: straight to the host (app.localhost is 127.0.0.1). */
	setenv("no_proxy", "app.localhost", 1);
	url_of(url, sizeof(url), 0, "app.localhost", "/echo");
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	echoed_path(&res, path, sizeof(path));
	ok(rc == PT_OK && strcmp(path, "/echo") == 0,
	    "no_proxy is honoured: direct, path %s", path);
	pt_httpc_res_free(&res);
	unsetenv("no_proxy");
	unsetenv("http_proxy");

	/* https_proxy: a CONNECT tunnel; the status line is the origin's. */
	setenv("https_proxy", proxy, 1);
	url_of(url, sizeof(url), 1, "127.0.0.1", "/hook");
	t0 = stat_of("\"tunnels\": ");
	rc = post_signed(url, SECRET, "run_px1", BODY, BODY, ca_pem, &res);
	ok(rc == PT_OK && res.status == 200 &&
	    strcmp(res.status_line, "HTTP/1.1 200 OK") == 0 &&
	    strstr(body_of(&res), "\"verified\": true") != NULL &&
	    stat_of("\"tunnels\": ") == t0 + 1,
	    "https_proxy is honoured: through a CONNECT tunnel, TLS verified "
	    "end to end, the origin's status line (%s)", res.status_line);
	pt_httpc_res_free(&res);
	unsetenv("https_proxy");
	url_of(url, sizeof(url), 0, "app.localhost", "/echo");

	/* HTTP_PROXY is what a "Proxy:" request header becomes under CGI. */
	setenv("HTTP_PROXY", proxy, 1);
	rc = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res);
	echoed_path(&res, path, sizeof(path));
	ok(rc == PT_OK && strcmp(path, "/echo") == 0,
	    "upper-case HTTP_PROXY is ignored (httpoxy): direct, path %s",
	    path);
	pt_httpc_res_free(&res);
	unsetenv("HTTP_PROXY");
}

static void
test_reuse(void)
{
	struct pt_httpc_res res;
	char url[128];
	int c0, c1, c2, i, good = 0;

	pt_httpc_thread_end();
	c0 = connections();
	url_of(url, sizeof(url), 0, "127.0.0.1", "/echo");
	for (i = 0; i < 5; i++) {
		good += call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res) ==
		    PT_OK && res.status == 200;
		pt_httpc_res_free(&res);
	}
	c1 = connections();
	is_int(good, 5, "five posts on one thread");
	ok(c0 > 0 && c1 == c0, "... over the kept-alive connection (%d, %d)",
	    c0, c1);
	pt_httpc_thread_end();
	c2 = connections();
	ok(c2 == c1 + 1, "pt_httpc_thread_end closes it: a new one after "
	    "(%d)", c2);

	/* The server drops the connection libcurl keeps: the next call
	 * must not fail for it. */
	url_of(url, sizeof(url), 0, "127.0.0.1", "/drop");
	good = call("POST", url, NULL, "{}", TIMEOUT, CAP, NULL, &res) ==
	    PT_OK && res.status == 200;
	pt_httpc_res_free(&res);
	usleep(100 * 1000);
	url_of(url, sizeof(url), 0, "127.0.0.1", "/hook");
	good &= post_signed(url, SECRET, "run_drop", BODY, BODY, NULL, &res) ==
	    PT_OK && res.status == 200;
	pt_httpc_res_free(&res);
	ok(good, "a kept-alive connection the server dropped: the next call "
	    "opens a new one");
}

struct worker {
	int	 n;
	int	 good;
	int	 end;		/* call pt_httpc_thread_end, or let exit do it */
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct pt_httpc_res res;
	char url[128], id[64];
	int i;

	url_of(url, sizeof(url), 0, "127.0.0.1", "/hook");
	for (i = 0; i < PER_THREAD; i++) {
		snprintf(id, sizeof(id), "run_t%d_%d", w->n, i);
		if (post_signed(url, SECRET, id, BODY, BODY, NULL, &res) ==
		    PT_OK && res.status == 200 &&
		    strstr(body_of(&res), "\"seen\": 1") != NULL)
			w->good++;
		pt_httpc_res_free(&res);
	}
	if (w->end)
		pt_httpc_thread_end();
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[NTHREADS];
	struct worker w[NTHREADS];
	int i, good = 0;

	for (i = 0; i < NTHREADS; i++) {
		w[i].n = i;
		w[i].good = 0;
		w[i].end = i % 2;
		if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
			bail("pthread_create");
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		good += w[i].good;
	}
	is_int(good, NTHREADS * PER_THREAD, "%d threads x %d signed posts at "
	    "once: all verified", NTHREADS, PER_THREAD);
}

static void
test_tls(void)
{
	struct pt_httpc_res res;
	char url[128], bad[700];
	enum pt_err rc;

	url_of(url, sizeof(url), 1, "127.0.0.1", "/hook");
	rc = post_signed(url, SECRET, "run_tls0", BODY, BODY, NULL, &res);
	ok(rc == PT_EIO && res.status == 0 &&
	    strstr(res.error, "certificate is not trusted") != NULL,
	    "https, self-made CA not given: refused (%s)", res.error);
	pt_httpc_res_free(&res);

	rc = post_signed(url, SECRET, "run_tls1", BODY, BODY, ca_pem, &res);
	ok(rc == PT_OK && res.status == 200 &&
	    strstr(body_of(&res), "\"verified\": true") != NULL,
	    "https with ca_file: verified post (%s)", res.error);
	pt_httpc_res_free(&res);

	rc = post_signed(url, SECRET, "run_tls2", BODY, BODY, other_pem, &res);
	ok(rc == PT_EIO && strstr(res.error, "not trusted") != NULL,
	    "ca_file is the only trust: another CA refuses (%s)", res.error);
	pt_httpc_res_free(&res);

	url_of(url, sizeof(url), 1, "app.localhost", "/hook");
	rc = post_signed(url, SECRET, "run_tls3", BODY, BODY, ca_pem, &res);
	ok(rc == PT_EIO && strstr(res.error, "app.localhost") != NULL,
	    "the host name is checked: app.localhost is not in the certificate "
	    "(%s)", res.error);
	pt_httpc_res_free(&res);

	snprintf(bad, sizeof(bad), "%s/none.pem", tmp);
	url_of(url, sizeof(url), 1, "127.0.0.1", "/hook");
	rc = post_signed(url, SECRET, "run_tls4", BODY, BODY, bad, &res);
	ok(rc == PT_EIO && strstr(res.error, "CA file") != NULL,
	    "a CA file that does not exist: %s", res.error);
	pt_httpc_res_free(&res);

	/* https to a plain-HTTP port. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", port);
	rc = post_signed(url, SECRET, "run_tls5", BODY, BODY, ca_pem, &res);
	ok(rc == PT_EIO && strstr(res.error, "TLS") != NULL,
	    "https to a plain-HTTP server: %s", res.error);
	pt_httpc_res_free(&res);
}

/*
 * A name /etc/hosts gives 127.0.0.1 other than localhost (which libcurl
 * answers itself), so that getaddrinfo runs -- in libcurl's resolver
 * thread -- without asking DNS; "" when there is none.
 */
static void
hosts_name(char *buf, size_t len)
{
	char line[512], *tok, *save;
	FILE *f = fopen("/etc/hosts", "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	while (buf[0] == '\0' && fgets(line, sizeof(line), f) != NULL) {
		if ((tok = strtok_r(line, " \t\n", &save)) == NULL ||
		    strcmp(tok, "127.0.0.1") != 0)
			continue;
		while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL &&
		    tok[0] != '#')
			if (strcasecmp(tok, "localhost") != 0 &&
			    strlen(tok) < len && strstr(tok, "localhost") ==
			    NULL) {
				snprintf(buf, len, "%s", tok);
				break;
			}
	}
	fclose(f);
}

static void
test_resolver(const char *name)
{
	struct pt_httpc_res res;
	char url[300];
	enum pt_err rc;

	url_of(url, sizeof(url), 0, name, "/hook");
	rc = post_signed(url, SECRET, "run_dns1", BODY, BODY, NULL, &res);
	ok(rc == PT_OK && res.status == 200, "a host name from /etc/hosts "
	    "(%s) through the resolver", name);
	pt_httpc_res_free(&res);
}

#ifdef HAVE_SECCOMP
/* Same test as sandbox.c: ASan builds change what the filter allows. */
static void
test_seccomp(const char *name)
{
	struct pt_httpc_res res;
	char url[300], why[256];
	pid_t pid;
	int st, bad = 0;

	/* The child must not share this thread's connections. */
	pt_httpc_thread_end();
	fflush(stdout);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		if (pt_sandbox_install(why, sizeof(why)) == -1) {
			fprintf(stderr, "%s\n", why);
			_exit(90);
		}
		url_of(url, sizeof(url), 0, "127.0.0.1", "/hook");
		bad |= post_signed(url, SECRET, "run_sc1", BODY, BODY, NULL,
		    &res) != PT_OK || res.status != 200;
		pt_httpc_res_free(&res);
		url_of(url, sizeof(url), 1, "127.0.0.1", "/hook");
		bad |= post_signed(url, SECRET, "run_sc2", BODY, BODY, ca_pem,
		    &res) != PT_OK || res.status != 200;
		pt_httpc_res_free(&res);
		url_of(url, sizeof(url), 0, "127.0.0.1", "/slow?ms=2000");
		bad |= call("POST", url, NULL, "{}", 200, CAP, NULL, &res) !=
		    PT_EIO || !res.timed_out;
		pt_httpc_res_free(&res);
		if (name[0] != '\0') {
			url_of(url, sizeof(url), 0, name, "/hook");
			bad |= post_signed(url, SECRET, "run_sc3", BODY, BODY,
			    NULL, &res) != PT_OK || res.status != 200;
			pt_httpc_res_free(&res);
		}
		pt_httpc_thread_end();
		_exit(bad ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) == -1)
		bail("waitpid");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "inside the seccomp filter: "
	    "http, https, a timeout%s work", name[0] ? " and the resolver" :
	    "");
	if (WIFSIGNALED(st))
		diag("killed by signal %d (31 = SIGSYS: a call the filter "
		    "refuses)", WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		diag("exit %d", WEXITSTATUS(st));
}
#endif

/*
 * The bench's plain responder: one connection at a time, each request
 * answered "200 ok" with keep-alive.  Just enough HTTP/1.1 for libcurl.
 */
static void *
bench_serve(void *arg)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Content-Type: text/plain\r\n\r\nok";
	char buf[65536], *end, *cl;
	int lfd = *(int *)arg, fd;
	size_t have, head, clen, used;
	ssize_t n;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		have = 0;
		for (;;) {
			while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
				if (have == sizeof(buf) ||
				    (n = read(fd, buf + have, sizeof(buf) - have))
				    <= 0)
					goto closed;
				have += (size_t)n;
			}
			head = (size_t)(end - buf) + 4;
			buf[head - 1] = '\0';
			clen = 0;
			if ((cl = strcasestr(buf, "\r\ncontent-length:")) != NULL)
				clen = strtoul(cl + 17, NULL, 10);
			if (head + clen > sizeof(buf))
				goto closed;
			while (have < head + clen) {
				if ((n = read(fd, buf + have, sizeof(buf) - have))
				    <= 0)
					goto closed;
				have += (size_t)n;
			}
			if (write(fd, answer, sizeof(answer) - 1) !=
			    (ssize_t)sizeof(answer) - 1)
				goto closed;
			used = head + clen;
			memmove(buf, buf + used, have - used);
			have -= used;
		}
closed:
		close(fd);
	}
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* us per POST of BODY to "url", over N calls; -1 if any failed. */
static double
bench_one(const char *url, const char *ca, int n, int fresh)
{
	struct pt_httpc_res res;
	double t0;
	int i, good = 1;

	pt_httpc_thread_end();
	t0 = now_us();
	for (i = 0; i < n; i++) {
		good &= call("POST", url, NULL, BODY, TIMEOUT, CAP, ca, &res) ==
		    PT_OK && res.status == 200;
		pt_httpc_res_free(&res);
		if (fresh)
			pt_httpc_thread_end();
	}
	return good ? (now_us() - t0) / n : -1;
}

static int
bench(int n)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	pthread_t t;
	char url[128];
	int lfd;
	static const struct {
		const char	*what;
		int		 c_server, tls;
	} rows[] = {
		{ "C responder, http", 1, 0 },
		{ "Python receiver, http", 0, 0 },
		{ "Python receiver, https", 0, 1 },
	};
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) == -1 ||
	    pthread_create(&t, NULL, bench_serve, &lfd) != 0)
		bail("bench responder");
	printf("one POST of %zu bytes, %d calls each, us per call:\n",
	    strlen(BODY), n);
	printf("%-26s %12s %12s\n", "", "keep-alive", "new conn");
	for (i = 0; i < nitems(rows); i++) {
		if (rows[i].c_server)
			snprintf(url, sizeof(url), "http://127.0.0.1:%d/",
			    ntohs(sa.sin_port));
		else
			url_of(url, sizeof(url), rows[i].tls, "127.0.0.1",
			    "/echo");
		printf("%-26s %12.0f %12.0f\n", rows[i].what,
		    bench_one(url, rows[i].tls ? ca_pem : NULL, n, 0),
		    bench_one(url, rows[i].tls ? ca_pem : NULL, n, 1));
	}
	return 0;
}

static int
have_tool(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf) == 0;
}

int
main(int argc, char *argv[])
{
	char why[256], host[256];
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	if (!have_tool("python3 -c 'import ssl, http.server'"))
		tap_skip_all("python3 (with ssl) is needed for the receiver");
	if (!have_tool("openssl version"))
		tap_skip_all("the openssl command is needed for the "
		    "certificates");
	if (pt_httpc_init(why, sizeof(why)) != PT_OK)
		bail(why);
	/* The environment of the machine must not route these calls. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	if ((tmp = mkdtemp(strdup("/tmp/porter-httpc-XXXXXX"))) == NULL)
		bail("mkdtemp");
	if (make_certs() == -1)
		bail("openssl could not make the test certificates");
	start_receiver();

	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		rc = bench(atoi(argv[2]));
	else {
		test_signing();
		test_wire();
		test_bad_requests();
		test_failures();
		test_proxy_env();
		test_reuse();
		test_threads();
		test_tls();
		hosts_name(host, sizeof(host));
		if (host[0] != '\0')
			test_resolver(host);
		else
			ok(1, "# SKIP no name for 127.0.0.1 in /etc/hosts "
			    "but localhost");
#ifdef HAVE_SECCOMP
		test_seccomp(host);
#endif
		rc = -1;
	}
	pt_httpc_thread_end();
	stop_receiver();
	snprintf(why, sizeof(why), "rm -rf '%s'", tmp);
	if (system(why) != 0)
		diag("could not remove %s", tmp);
	free(tmp);
	return rc == -1 ? tap_done() : rc;
}
