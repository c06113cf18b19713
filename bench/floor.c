/*
 * floor.c - the benchmark floor: the least a FastCGI responder can do for a
 * webhook and still be correct about the body.
 *
 * For every request it reads exactly CONTENT_LENGTH body bytes (the FastCGI
 * spec, section 6.2: the responder must consume FCGI_STDIN) and answers
 * 200 with a small JSON body.  No routing, no parsing, no storage: whatever
 * Porter does on top of this is what bench/run measures.
 *
 * A missing or malformed CONTENT_LENGTH counts as 0 (the server in front
 * has already enforced it); a body shorter than announced gets a 400 so
 * that the floor never answers "ok" for a request it did not fully read.
 *
 * NOTE: FastCGI only.  Started by a web server (lighttpd "bin-path",
 * spawn-fcgi) with the listening socket on fd 0; run from a shell it exits.
 */
#include <limits.h>
#include <stdio.h>

#include <fcgiapp.h>

/* Body bytes are read and dropped in chunks of this size. */
#define FLOOR_CHUNK	8192

static long long	floor_content_length(const char *);
static long long	floor_drain(FCGX_Stream *, long long);

/*
 * Parse the CONTENT_LENGTH parameter "value": plain decimal digits, no
 * sign, no white space.  Returns the length, or 0 when "value" is NULL,
 * empty or not a plain decimal number.
 */
static long long
floor_content_length(const char *value)
{
	long long	 len = 0;
	const char	*p;

	if (value == NULL || *value == '\0')
		return 0;
	for (p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		if (len > (LLONG_MAX - (*p - '0')) / 10)
			return 0;
		len = len * 10 + (*p - '0');
	}
	return len;
}

/*
 * Read and discard up to "want" bytes from "in".  Returns the number of
 * bytes read, smaller than "want" only when the stream ended early.
 */
static long long
floor_drain(FCGX_Stream *in, long long want)
{
	char		 buf[FLOOR_CHUNK];
	long long	 got = 0;
	int		 n, chunk;

	while (got < want) {
		chunk = want - got > (long long)sizeof(buf) ?
		    (int)sizeof(buf) : (int)(want - got);
		n = FCGX_GetStr(buf, chunk, in);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

int
main(void)
{
	FCGX_Request	 req;
	long long	 want, got;
	char		 out[256];
	int		 len;

	if (FCGX_IsCGI()) {
		fprintf(stderr, "floor.fcgi: FastCGI only: start it from "
		    "a web server or spawn-fcgi\n");
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "floor.fcgi: cannot initialise libfcgi\n");
		return 1;
	}

	while (FCGX_Accept_r(&req) >= 0) {
		want = floor_content_length(FCGX_GetParam("CONTENT_LENGTH",
		    req.envp));
		got = floor_drain(req.in, want);
		/* snprintf: libfcgi's own FCGX_FPrintF does not know "ll". */
		if (got < want)
			len = snprintf(out, sizeof(out),
			    "Status: 400 Bad Request\r\n"
			    "Content-Type: application/json\r\n\r\n"
			    "{\"error\":\"incomplete_body\",\"message\":"
			    "\"%lld of %lld bytes\"}\n", got, want);
		else
			len = snprintf(out, sizeof(out), "Status: 200 OK\r\n"
			    "Content-Type: application/json\r\n\r\n"
			    "{\"status\":\"ok\",\"bytes\":%lld}\n", got);
		if (len > 0 && (size_t)len < sizeof(out))
			FCGX_PutStr(out, len, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
