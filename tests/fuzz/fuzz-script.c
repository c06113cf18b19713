/*
 * fuzz-script.c - preprocess scripts: pt_script_compile and pt_script_run
 * through real worker processes, with tight limits (20 ms, 512 kB).
 *
 * Input: parts separated by a line "--".
 *	1: the script source
 *	2: the body; when it parses as JSON it is ctx.body too, else
 *	   ctx.body is null
 *	3: headers, one "name: value" a line (names lower-cased here)
 * ctx.vars is fixed ({"SECRET": ..., "REGION": "eu"}); a script that does
 * not compile is also run as the body of a fixed main, so that the
 * fuzzer reaches the run with arbitrary code too.
 *
 * Besides the sanitizers, checks that: every answer is one of the
 * documented results with a text, a result is a JSON object, no text
 * holds the secret, and no worker ever ends on its own (a crash of the
 * engine or a seccomp kill would; a timeout kill is counted apart).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "script.h"
#include "fuzz.h"

#define SECRET	"fz-secret-0123456789abcdef"
#define MAX_HEADERS 32

static struct pt_script_pool *pool;
static pt_json *vars;

static void
init(void)
{
	char why[256];

	if (pt_script_pool_start(PT_SCRIPT_AUTO, 1, &pool, why, sizeof(why)) != PT_OK) {
		fprintf(stderr, "fuzz-script: %s\n", why);
		abort();
	}
	if ((vars = pt_json_new_object()) == NULL ||
	    pt_json_set(vars, "SECRET", pt_json_new_cstr(SECRET)) != PT_OK ||
	    pt_json_set(vars, "REGION", pt_json_new_cstr("eu")) != PT_OK)
		abort();
}

static void
check_answer(enum pt_script_res r, const char *why, pt_json *out)
{
	FZ_ASSERT(r >= PT_SCRIPT_OK && r < PT_SCRIPT__MAX, "result %d", (int)r);
	FZ_ASSERT(r != PT_SCRIPT_UNAVAILABLE, "no worker: %s", why);
	if (r == PT_SCRIPT_OK)
		FZ_ASSERT(out != NULL && pt_json_type(out) == PT_J_OBJECT,
		    "a result that is no object");
	else
		FZ_ASSERT(out == NULL && why[0] != '\0', "no text for %s",
		    pt_script_res_code(r));
	FZ_ASSERT(strstr(why, SECRET) == NULL && strstr(why, "fz-secret") ==
	    NULL, "the secret in \"%s\"", why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_header headers[MAX_HEADERS];
	struct pt_script_pool_stats before, after;
	struct pt_json_error jerr;
	struct pt_script_ctx c;
	struct pt_script *s = NULL;
	struct pt_buf wrapped = { 0 };
	struct fz_cur cur;
	pt_json *body = NULL, *out = NULL;
	char why[512], *src, *raw, *hdrs, *line, *colon, *p;
	size_t src_len, raw_len, hlen, n = 0;
	enum pt_script_res r;

	if (pool == NULL)
		init();
	pt_script_pool_stats(pool, &before);
	fz_open(&cur, data, size);
	src = fz_part(&cur, "\n--\n", &src_len);
	if (src == NULL)
		goto out;
	if ((raw = fz_part(&cur, "\n--\n", &raw_len)) == NULL) {
		raw = "";
		raw_len = 0;
	}
	if ((hdrs = fz_part(&cur, "\n--\n", &hlen)) != NULL) {
		struct fz_cur hc;

		fz_open(&hc, (const uint8_t *)hdrs, hlen);
		while ((line = fz_line(&hc, NULL)) != NULL && n < MAX_HEADERS) {
			if ((colon = strchr(line, ':')) == NULL)
				continue;
			*colon++ = '\0';
			while (*colon == ' ')
				colon++;
			for (p = line; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			/* Names and values live in the copy until the end. */
			headers[n].name = strdup(line);
			headers[n].value = strdup(colon);
			if (headers[n].name == NULL || headers[n].value == NULL)
				abort();
			headers[n].value_len = strlen(colon);
			n++;
		}
		fz_close(&hc);
	}
	if (pt_json_parse(raw, raw_len, PT_JSON_MAX_DEPTH, &body, &jerr) !=
	    PT_OK)
		body = NULL;

	memset(&c, 0, sizeof(c));
	c.vars = vars;
	c.body = body;
	c.raw = raw;
	c.raw_len = raw_len;
	c.headers = headers;
	c.nheaders = n;
	c.now_ms = 1795000000000;

	why[0] = '\0';
	r = pt_script_compile(pool, src, src_len, 20, 512, &s, why, sizeof(why));
	if (r != PT_SCRIPT_OK) {
		FZ_ASSERT(s == NULL && why[0] != '\0', "compile: no text");
		check_answer(r, why, NULL);
		/* The same text as the body of main. */
		pt_buf_adds(&wrapped, "function main(ctx) {\n");
		pt_buf_add(&wrapped, src, src_len);
		pt_buf_adds(&wrapped, "\n}");
		if (wrapped.failed || pt_script_compile(pool, wrapped.data,
		    wrapped.len, 20, 512, &s, why, sizeof(why)) != PT_SCRIPT_OK)
			goto out;
	}
	r = pt_script_run(pool, s, &c, &out, why, sizeof(why));
	check_answer(r, why, out);
	pt_json_put(out);
out:
	pt_script_pool_stats(pool, &after);
	FZ_ASSERT(after.died == before.died, "a worker ended on its own");
	while (n-- > 0) {
		free((char *)headers[n].name);
		free((char *)headers[n].value);
	}
	pt_buf_free(&wrapped);
	pt_script_free(s);
	pt_json_put(body);
	fz_close(&cur);
	return 0;
}
