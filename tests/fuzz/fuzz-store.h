/*
 * fuzz-store.h - what the fuzz targets that run pt_handle() on a store
 * share: the store in a temporary directory, its context, a fixed clock.
 * Include once, after handler.h, json.h, store.h, tokens.h and fuzz.h.
 */
#ifndef PT_FUZZ_STORE_H
#define PT_FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FUZZ_NOW	1800000000LL		/* unix seconds of the clock */

static char		 token_rw[PT_TOKEN_LEN + 1], token_ro[PT_TOKEN_LEN + 1];
static char		*dir;		/* holds the store "db" */
static char		 dbpath[600];
static struct pt_store	*store;
static struct pt_ctx	 ctx;
static unsigned long	 inputs;
static int		 verbose = -1;	/* $PT_FUZZ_VERBOSE: print replies */
static int64_t		 clock_us = FUZZ_NOW * 1000000LL;

static int64_t
fake_now(void)
{
	return clock_us += 1000;	/* 1 ms per call */
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
rm_store(void)
{
	char p[700];

	snprintf(p, sizeof(p), "%s/data.mdb", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dbpath);
	unlink(p);
	rmdir(dbpath);
}

static void
close_store(void)
{
	if (store == NULL)
		return;
	pt_ctx_free(&ctx);
	pt_store_close(store);
	store = NULL;
	rm_store();
}

static void
cleanup(void)
{
	close_store();
	if (dir != NULL) {
		rmdir(dir);
		free(dir);
		dir = NULL;
	}
}

/*
 * What every answer must be: a plausible status, 500 only when an
 * allocation was made to fail, a JSON body when it says JSON, a head that
 * can be written.
 */
static void
check_response(const struct pt_resp *resp, int status, int oom)
{
	struct pt_json_error jerr;
	struct pt_buf head = { 0 };
	pt_json *j = NULL;

	FZ_ASSERT(status == resp->status, "returned %d, response %d", status,
	    resp->status);
	FZ_ASSERT(status >= 200 && status <= 599, "status %d", status);
	FZ_ASSERT(status != 500 || oom, "500 without a failed allocation: "
	    "%.*s", (int)resp->body.len, resp->body.data ? resp->body.data :
	    "");
	FZ_ASSERT(resp->nheaders <= PT_RESP_MAX_HEADERS, "headers");
	if ((resp->content_type == NULL || strncmp(resp->content_type,
	    "application/json", 16) == 0) && (resp->body.len > 0 || !oom)) {
		FZ_ASSERT(pt_json_parse(resp->body.data, resp->body.len,
		    PT_JSON_MAX_DEPTH, &j, &jerr) == PT_OK || oom,
		    "response body is no JSON (%s): %.*s", jerr.message,
		    (int)(resp->body.len > 300 ? 300 : resp->body.len),
		    resp->body.data ? resp->body.data : "");
		pt_json_put(j);
	}
	FZ_ASSERT(pt_resp_head(resp, &head) == PT_OK || oom, "head");
	pt_buf_free(&head);
}

#endif /* PT_FUZZ_STORE_H */
