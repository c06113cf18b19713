/*
 * fuzz-store.h - what the fuzz targets that run pt_handle() on a store
 * share: the store in a temporary directory, its context, a fixed clock.
 * Include once, after handler.h, json.h, store.h, tokens.h and fuzz.h.
 */
#ifndef PT_FUZZ_STORE_H
#define PT_FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* tu_read and struct tu_body: the client's body, as the server reads it. */
#include "../unit/testutil.h"

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
 * A fresh store (in /dev/shm when there is one) with "config" applied,
 * tokens token_rw and token_ro made, and ctx over it.
 */
static void
fuzz_store_open(const char *config, uint64_t map_size)
{
	struct pt_store_opts o = { 0 };
	struct pt_json_error jerr;
	struct pt_config *cfg = NULL;
	struct pt_txn *txn;
	pt_json *doc;
	char err[1024];

	if (dir == NULL) {
		struct stat st;
		const char *base = getenv("TMPDIR");

		if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0)
			base = "/dev/shm";
		else if (base == NULL)
			base = "/tmp";
		if ((dir = malloc(strlen(base) + 32)) == NULL)
			abort();
		sprintf(dir, "%s/porter-fuzz-XXXXXX", base);
		if (mkdtemp(dir) == NULL) {
			perror(dir);
			abort();
		}
		snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
		atexit(cleanup);
	}
	o.map_size = map_size;
	if (pt_store_open(dbpath, &o, &store, err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "store: %s\n", err);
		abort();
	}
	if (pt_json_parse(config, strlen(config), PT_JSON_MAX_DEPTH,
	    &doc, &jerr) != PT_OK) {
		fprintf(stderr, "config: %s\n", jerr.message);
		abort();
	}
	if (pt_txn_begin(store, NULL, PT_TXN_WRITE, &txn) != PT_OK)
		abort();
	if (pt_config_parse(doc, NULL, PT_CFG_OPERATOR, &cfg, err,
	    sizeof(err)) != PT_OK) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
	if (pt_config_save(txn, cfg) != PT_OK ||
	    pt_token_create(txn, "fuzz-rw", 0, clock_us, token_rw) != PT_OK ||
	    pt_token_create(txn, "fuzz-ro", PT_TOKEN_READ_ONLY, clock_us,
	    token_ro) != PT_OK || pt_txn_commit(txn) != PT_OK)
		abort();
	pt_config_free(cfg);
	pt_json_put(doc);
	pt_ctx_init(&ctx, store);
	ctx.now = fake_now;
	ctx.log = quiet;
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
