/*
 * http.h - the request and response as the pure core sees them.
 *
 * The FastCGI loop (fcgi_main.c) and the tests fill a "struct pt_req" and
 * hand it to pt_handle() (route.h); nothing below depends on a server.
 */
#ifndef PT_HTTP_H
#define PT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* One request header; "name" is lower-case with "-" separators. */
struct pt_header {
	const char	*name;
	const char	*value;
	size_t		 value_len;
};

/*
 * Reads up to "len" body bytes into "buf"; returns the count read, 0 at end
 * of input, -1 on error.
 */
typedef ssize_t (*pt_body_reader)(void *arg, void *buf, size_t len);

struct pt_req {
	const char		*method;	/* "POST" */
	const char		*path_info;	/* PATH_INFO, may be NULL */
	const char		*request_uri;	/* REQUEST_URI, may be NULL */
	const char		*script_name;	/* SCRIPT_NAME, may be NULL */
	const char		*mount;		/* PORTER_MOUNT, may be NULL */
	const char		*query;		/* QUERY_STRING, may be NULL */
	const char		*content_type;	/* may be NULL */
	const char		*content_length; /* raw text, may be NULL */
	const char		*remote_addr;	/* may be NULL */
	const char		*scheme_host;	/* "https://example.com", may be NULL */
	const struct pt_header	*headers;
	size_t			 nheaders;
	pt_body_reader		 read_body;
	void			*read_arg;
};

/*
 * Lookup by lower-case name; NULL when absent.  A name that comes twice
 * gives its first occurrence, as every reader of headers takes it.
 * NOTE: CGI gives "svix-id" and "svix_id" one name (HTTP_SVIX_ID), so a
 * request can carry one name twice: see pt_req_ambiguous.
 */
const struct pt_header	*pt_req_header(const struct pt_req *, const char *);
/*
 * Does header "name" (NULL: any header) arrive more than once with
 * values that differ?  Returns the name, or NULL.
 */
const char		*pt_req_ambiguous(const struct pt_req *,
			    const char *name);

/*
 * The path Porter routes on: PATH_INFO when the server gives one, else the
 * path of REQUEST_URI (query removed) with "mount" (or, failing that,
 * SCRIPT_NAME when it is a strict prefix) removed.  Writes into "out".
 * Returns PT_EINVAL for a path that cannot be routed.
 */
enum pt_err	pt_req_route(const struct pt_req *, struct pt_buf *out);

/*
 * Parse a Content-Length value strictly: decimal digits only, no sign, no
 * white space, no overflow.  Returns 0 and sets *out, -1 otherwise.
 */
int		pt_parse_content_length(const char *, uint64_t *out);

/* "application/json", "application/json; charset=utf-8", "x/y+json". */
int		pt_is_json_content_type(const char *);
/* "application/x-www-form-urlencoded", with any parameters. */
int		pt_is_form_content_type(const char *);

/* The body formats Porter parses; an environment's "body_formats" is a set. */
enum pt_body_format {
	PT_BODY_JSON = 0x1,
	PT_BODY_FORM = 0x2
};
/* The format a Content-Type announces, or 0 for one Porter does not parse. */
int		pt_body_format_of(const char *content_type);

#define PT_RESP_MAX_HEADERS 8

struct pt_resp {
	int		 status;
	const char	*content_type;	/* static string */
	struct {
		char	name[32];
		char	value[96];
	}		 headers[PT_RESP_MAX_HEADERS];
	size_t		 nheaders;
	struct pt_buf	 body;
};

/* The reason phrase of "status" ("Not Found"); NULL for one Porter never
 * sends. */
const char	*pt_status_text(int status);

/*
 * How an error answers over HTTP, one row per enum pt_err: used by the
 * ingest path and the admin API alike, so the same failure gets the same
 * answer everywhere.
 */
struct pt_err_answer {
	int		 status;	/* 500, 503 */
	const char	*code;		/* "store_full" */
	const char	*message;	/* what the client reads first */
	const char	*retry_after;	/* seconds, or NULL */
	int		 engine;	/* the engine's text says more */
};
const struct pt_err_answer *pt_err_answer(enum pt_err);
/*
 * The answer's message for "err" while doing "what" ("recording the
 * event"), with "engine" (pt_store_errstr(), may be NULL) when the row
 * says the engine's text explains it: "the store is full; nothing was kept:
 * retry later (recording the event: mdb_put: MDB_MAP_FULL: ...)".
 */
void		pt_err_text(enum pt_err, const char *what, const char *engine,
		    char *buf, size_t len);
void		pt_resp_header(struct pt_resp *, const char *, const char *);
/*
 * Set an error response: status, {"error": code, "message": message}.
 * Returns the status, for "return pt_resp_error(...)".
 */
int		pt_resp_error(struct pt_resp *, int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void		pt_resp_free(struct pt_resp *);

/*
 * Serialise status line + headers as CGI response headers ("Status: ...")
 * into "out", followed by the blank line; the body is written separately.
 */
enum pt_err	pt_resp_head(const struct pt_resp *, struct pt_buf *out);

#endif
