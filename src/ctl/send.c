/*
 * ctl_send.c - "porterctl send": sign a JSON file as a source's sender
 * would and post it to Porter, so that an operator can try a source by
 * hand without writing HMAC code.
 *
 *	porterctl send --source S --env E [--url BASE] [--method M]
 *	    [--path SUFFIX] [--header 'Name: value']... FILE
 *
 * The body is signed with the environment's first active key through
 * pt_scheme_sign() (every scheme: HMAC presets, bearer, basic, shared
 * header) and sent with plain HTTP/1.1 over a TCP socket to
 * BASE/receive/<endpoint_id>[SUFFIX].  The status line and the body of
 * the answer go to stdout; the exit status is 0 for a 2xx, 1 otherwise.
 * NOTE: no TLS library here on purpose; https:// is refused with the
 * curl + "porterctl sign" recipe instead.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "scheme.h"
#include "timeutil.h"

#define SEND_TIMEOUT_S	30			/* connect, each send/recv */
#define MAX_ANSWER	(16 * 1024 * 1024)	/* bytes of answer kept */
#define MAX_HEADERS	64			/* --header options */
#define DEFAULT_URL	"http://127.0.0.1:8080"	/* tools/demo, lighttpd.conf.example */

/* The parts of "http://host[:port][/prefix]" (owned by the struct). */
struct send_url {
	char	 host[256];	/* without brackets */
	char	 port[8];
	char	 hostport[300];	/* for the Host header: as given */
	char	 prefix[1024];	/* "" or "/porter" (no trailing slash) */
};

/*
 * Split "url" into "u"; exits with a message on anything but http://.
 */
static void
parse_url(const char *url, struct send_url *u)
{
	const char *p, *end, *slash, *colon;
	size_t hlen, n;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "https://", 8) == 0)
		ctl_die("%s: porterctl send speaks plain HTTP only.  For HTTPS, "
		    "print the headers with \"porterctl sign --source S --env E "
		    "--url URL FILE\" and send them with curl -H ... "
		    "--data-binary @FILE", url);
	if (strncasecmp(url, "http://", 7) != 0)
		ctl_die("--url %s: want http://HOST[:PORT][/PREFIX]", url);
	p = url + 7;
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	if (end == p)
		ctl_die("--url %s: no host", url);
	if ((size_t)(end - p) >= sizeof(u->hostport))
		ctl_die("--url %s: host too long", url);
	memcpy(u->hostport, p, (size_t)(end - p));
	if (*p == '[') {			/* [::1]:8080 */
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			ctl_die("--url %s: unbalanced [", url);
		hlen = (size_t)(rb - p - 1);
		memcpy(u->host, p + 1, hlen < sizeof(u->host) ? hlen :
		    sizeof(u->host) - 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < end && colon == NULL)
			ctl_die("--url %s: junk after ]", url);
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hlen = (size_t)((colon ? colon : end) - p);
		memcpy(u->host, p, hlen < sizeof(u->host) ? hlen :
		    sizeof(u->host) - 1);
	}
	if (u->host[0] == '\0')
		ctl_die("--url %s: no host", url);
	if (colon != NULL) {
		n = (size_t)(end - colon - 1);
		if (n == 0 || n >= sizeof(u->port) ||
		    strspn(colon + 1, "0123456789") < n)
			ctl_die("--url %s: bad port", url);
		memcpy(u->port, colon + 1, n);
	} else
		snprintf(u->port, sizeof(u->port), "80");
	if (slash != NULL) {
		n = strlen(slash);
		while (n > 0 && slash[n - 1] == '/')
			n--;
		if (n >= sizeof(u->prefix))
			ctl_die("--url %s: path too long", url);
		if (strcspn(slash, "?# \t\r\n") < n)
			ctl_die("--url %s: want a plain path prefix", url);
		memcpy(u->prefix, slash, n);
	}
}

/* A connected TCP socket to "u", with send and receive timeouts. */
static int
dial(const struct send_url *u)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	int fd = -1, rc, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		ctl_die("%s: %s", u->host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		/* Linux applies SO_SNDTIMEO to connect(2) as well. */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		ctl_die("connect to %s:%s: %s", u->host, u->port,
		    strerror(saved));
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			ctl_die("send: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Everything until the server closes (at most MAX_ANSWER bytes). */
static void
recv_all(int fd, struct pt_buf *in)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				ctl_die("no complete answer within %d s",
				    SEND_TIMEOUT_S);
			/* A reset after a complete answer is still an answer. */
			if (in->len > 0)
				break;
			ctl_die("recv: %s", strerror(errno));
		}
		if (in->len + (size_t)n > MAX_ANSWER)
			ctl_die("answer larger than %d bytes", MAX_ANSWER);
		if (pt_buf_add(in, chunk, (size_t)n) != PT_OK)
			ctl_die("out of memory");
	}
}

/* Is header "name" (case-insensitive) among the "lines" ("Name: v")? */
static int
has_header(char **lines, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (strncasecmp(lines[i], name, len) == 0 &&
		    lines[i][len] == ':')
			return 1;
	return 0;
}

/*
 * Decode a chunked body (RFC 9112 7.1) in place; trailers are dropped.
 * Returns the decoded length, or (size_t)-1 when malformed.
 */
static size_t
dechunk(char *p, size_t len)
{
	size_t in = 0, out = 0, size;
	char *end;

	for (;;) {
		errno = 0;
		size = strtoul(p + in, &end, 16);
		if (errno != 0 || end == p + in)
			return (size_t)-1;
		if ((end = memchr(end, '\n', len - (size_t)(end - p))) == NULL)
			return (size_t)-1;
		in = (size_t)(end - p) + 1;
		if (size == 0)
			return out;
		if (size > len - in)
			return (size_t)-1;
		memmove(p + out, p + in, size);
		out += size;
		in += size;
		if (in < len && p[in] == '\r')
			in++;
		if (in < len && p[in] == '\n')
			in++;
		if (in >= len)
			return (size_t)-1;
	}
}

/*
 * Print the answer's status line and body; returns the HTTP status (0 if
 * the answer is not HTTP).
 */
static int
print_answer(char *a, size_t len)
{
	char *eol, *head_end, *body, *te;
	size_t blen, hlen;
	int status = 0, chunked = 0;

	if ((head_end = memmem(a, len, "\r\n\r\n", 4)) != NULL) {
		body = head_end + 4;
		hlen = (size_t)(head_end - a);
	} else if ((head_end = memmem(a, len, "\n\n", 2)) != NULL) {
		body = head_end + 2;
		hlen = (size_t)(head_end - a);
	} else
		ctl_die("the answer is not HTTP (%zu bytes, no header end)",
		    len);
	blen = len - (size_t)(body - a);
	if (len < 12 || strncmp(a, "HTTP/1.", 7) != 0 ||
	    sscanf(a + 9, "%3d", &status) != 1)
		ctl_die("the answer is not HTTP");
	eol = memchr(a, '\n', hlen);
	printf("%.*s\n", (int)((eol ? eol : a + hlen) - a -
	    (eol && eol > a && eol[-1] == '\r' ? 1 : 0)), a);
	/* Transfer-Encoding: chunked (any case) in the header block. */
	a[hlen] = '\0';
	for (te = a; (te = strchr(te, '\n')) != NULL; te++)
		if (strncasecmp(te + 1, "transfer-encoding:", 18) == 0 &&
		    strstr(te + 19, "chunked") != NULL)
			chunked = 1;
	if (chunked && (blen = dechunk(body, blen)) == (size_t)-1)
		ctl_die("malformed chunked answer");
	fwrite(body, 1, blen, stdout);
	if (blen > 0 && body[blen - 1] != '\n')
		fputc('\n', stdout);
	return status;
}

int
cmd_send(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env_name = a->str[CTL_K_ENV],
	    *base = a->str[CTL_K_URL] ? a->str[CTL_K_URL] : DEFAULT_URL,
	    *method = a->str[CTL_K_METHOD] ? a->str[CTL_K_METHOD] : "POST",
	    *suffix = a->str[CTL_K_PATH] ? a->str[CTL_K_PATH] : "";
	char *headers[MAX_HEADERS], *body, *sigs, *line, *nl, *h;
	const struct pt_env *env;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_buf req = { 0 }, sig = { 0 }, answer = { 0 }, url = { 0 };
	struct send_url u;
	size_t nheaders = 0, len, i, at = 0;
	int fd, status;

	/* --header, --method and --path were checked (ctl_check_*). */
	while ((h = ctl_each(a, CTL_K_HEADER, &at)) != NULL) {
		if (nheaders == MAX_HEADERS)
			ctl_die("at most %d --header", MAX_HEADERS);
		headers[nheaders++] = h;
	}
	parse_url(base, &u);

	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((env = pt_config_env(cfg, source, env_name)) == NULL)
		ctl_die("no environment %s/%s", source, env_name);
	body = ctl_read_file(a->pos[0], &len);

	/* The URL the sender signs (schemes that sign it: twilio). */
	pt_buf_printf(&req, "%s/receive/%s%s", u.prefix, env->endpoint_id,
	    suffix);
	if (env->public_url != NULL)
		pt_buf_printf(&url, "%s%s", env->public_url, req.data);
	else
		pt_buf_printf(&url, "http://%s%s", u.hostport, req.data);
	if (req.failed || url.failed)
		ctl_die("out of memory");

	if (env->scheme == NULL)
		fprintf(stderr, "porterctl: %s/%s has no signature scheme: "
		    "sending unsigned\n", source, env_name);
	else {
		ctl_sign(env, source, env_name, body, len, url.data, &sig);
	}

	/* The request head: ours, then the signature, then --header. */
	{
		struct pt_buf head = { 0 };

		pt_buf_printf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: porterctl/%s\r\nConnection: close\r\n"
		    "Content-Length: %zu\r\n", method, req.data, u.hostport,
		    PACKAGE_VERSION, len);
		if (!has_header(headers, nheaders, "content-type"))
			pt_buf_adds(&head, "Content-Type: application/json\r\n");
		pt_buf_addc(&sig, '\0');
		sigs = sig.data;
		for (line = sigs; line != NULL && *line != '\0'; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			pt_buf_printf(&head, "%s\r\n", line);
		}
		for (i = 0; i < nheaders; i++)
			pt_buf_printf(&head, "%s\r\n", headers[i]);
		pt_buf_adds(&head, "\r\n");
		if (head.failed)
			ctl_die("out of memory");
		pt_buf_free(&req);
		req = head;
	}

	fd = dial(&u);
	send_all(fd, req.data, req.len);
	send_all(fd, body, len);
	recv_all(fd, &answer);
	close(fd);
	if (answer.len == 0)
		ctl_die("%s:%s closed the connection without an answer", u.host,
		    u.port);
	status = print_answer(answer.data, answer.len);

	/* The head carries the credential for bearer/basic schemes. */
	pt_wipe(req.data, req.len);
	if (sig.data != NULL)
		pt_wipe(sig.data, sig.len);
	pt_buf_free(&req);
	pt_buf_free(&sig);
	pt_buf_free(&url);
	pt_buf_free(&answer);
	pt_free(body);
	pt_config_free(cfg);
	pt_store_close(s);
	return status >= 200 && status < 300 ? 0 : 1;
}
