/*
 * script.c - preprocess scripts (script.h): limits, the request frames
 * sent to a worker and the checking of what comes back.  A reply comes
 * from a process that ran hostile input, so every part of it is checked
 * again here: its status, its text (one line, bounded, no secrets) and
 * the result, parsed by Porter's own strict parser.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "script.h"
#include "script_pool.h"
#include "script_wire.h"

struct pt_script {
	char		*src;
	size_t		 len;
	unsigned	 timeout_ms;
	unsigned	 memory_kb;
};

static const char *const res_codes[PT_SCRIPT__MAX] = {
	[PT_SCRIPT_OK] = "ok",
	[PT_SCRIPT_TIMEOUT] = "script_timeout",
	[PT_SCRIPT_MEMORY] = "script_memory",
	[PT_SCRIPT_ERROR] = "script_error",
	[PT_SCRIPT_BAD_RESULT] = "script_bad_result",
	[PT_SCRIPT_SYNTAX] = "script_syntax",
	[PT_SCRIPT_UNAVAILABLE] = "script_unavailable",
};

/* A worker's message is cut to this many bytes before " at line N". */
#define MESSAGE_MAX	300
/* A run of a variable's first bytes this long is masked too: engines
 * quote a long string in a message by its beginning ('sk_live_ab...'). */
#define SECRET_PREFIX_MIN 6

const char *
pt_script_res_code(enum pt_script_res r)
{
	return r >= 0 && r < PT_SCRIPT__MAX ? res_codes[r] : "script_error";
}

static void
put_u32(struct pt_buf *b, uint32_t v)
{
	(void)pt_buf_add(b, &v, sizeof(v));
}

static void
put_str(struct pt_buf *b, const char *s, size_t len)
{
	if (len > UINT32_MAX) {
		b->failed = 1;
		return;
	}
	put_u32(b, (uint32_t)len);
	(void)pt_buf_add(b, s, len);
}

/* A variable's value as the script sees it: strings as they are. */
static void
put_var_value(struct pt_buf *b, const pt_json *v, struct pt_buf *tmp)
{
	const char *s;
	size_t n;

	if (pt_json_type(v) == PT_J_STRING) {
		s = pt_json_str(v, &n);
		put_str(b, s, n);
		return;
	}
	pt_buf_reset(tmp);
	if (pt_json_write(tmp, (pt_json *)v, PT_JSON_PLAIN) != PT_OK) {
		b->failed = 1;
		return;
	}
	put_str(b, tmp->data, tmp->len);
}

/*
 * The request frame for "op" (script_wire.h) into "b"; "c" NULL for a
 * check.  PT_ENOMEM, or PT_ETOOBIG past PT_SW_MAX_FRAME.
 */
static enum pt_err
encode(struct pt_buf *b, int op, const struct pt_script *s,
    const struct pt_script_ctx *c)
{
	struct pt_buf tmp = { 0 };
	struct pt_json_iter it = { 0 };
	uint8_t head[PT_SW_REQ_HEAD] = { 0 };
	const char *key;
	pt_json *val;
	uint32_t n;
	int64_t now = c ? c->now_ms : 0;
	size_t i;

	head[4] = (uint8_t)op;
	memcpy(head + 8, &s->memory_kb, sizeof(uint32_t));
	memcpy(head + 12, &s->timeout_ms, sizeof(uint32_t));
	memcpy(head + 16, &now, sizeof(now));
	pt_buf_reset(b);
	(void)pt_buf_add(b, head, sizeof(head));
	put_str(b, s->src, s->len);

	if (c != NULL && c->vars != NULL &&
	    pt_json_type(c->vars) == PT_J_OBJECT) {
		put_u32(b, (uint32_t)pt_json_len(c->vars));
		while (pt_json_iter_next(c->vars, &it, &key, &val)) {
			put_str(b, key, strlen(key));
			put_var_value(b, val, &tmp);
		}
	} else
		put_u32(b, 0);

	n = c != NULL ? (uint32_t)c->nheaders : 0;
	put_u32(b, n);
	for (i = 0; i < n; i++) {
		put_str(b, c->headers[i].name, strlen(c->headers[i].name));
		put_str(b, c->headers[i].value, c->headers[i].value_len);
	}

	if (c != NULL)
		put_str(b, c->raw ? c->raw : "", c->raw ? c->raw_len : 0);
	else
		put_str(b, "", 0);
	if (c != NULL && c->body_json != NULL)
		put_str(b, c->body_json, c->body_json_len);
	else {
		pt_buf_reset(&tmp);
		if (pt_json_write(&tmp, c ? (pt_json *)c->body : NULL,
		    PT_JSON_PLAIN) != PT_OK)
			b->failed = 1;
		else
			put_str(b, tmp.data, tmp.len);
	}
	pt_buf_free(&tmp);
	if (b->failed)
		return PT_ENOMEM;
	if (b->len - 4 > PT_SW_MAX_FRAME)
		return PT_ETOOBIG;
	n = (uint32_t)(b->len - 4);
	memcpy(b->data, &n, sizeof(n));
	return PT_OK;
}

/*
 * Duktape keeps a string made in JavaScript ("\ud83d\ude00") as CESU-8:
 * each UTF-16 surrogate as its own 3-byte sequence, which is not UTF-8.
 * Append "n" bytes of "s" to "out" with each surrogate pair as the one
 * 4-byte sequence it stands for and a lone surrogate as U+FFFD; all else
 * is copied (Porter's parser judges it).
 */
static void
cesu_to_utf8(struct pt_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned hi, lo, cp;
	char u[4];

	while (p < end) {
		if (end - p < 3 || p[0] != 0xed || p[1] < 0xa0 ||
		    (p[2] & 0xc0) != 0x80) {
			(void)pt_buf_addc(out, (char)*p++);
			continue;
		}
		hi = (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);	/* +0xd000 */
		if (p[1] < 0xb0 && end - p >= 6 && p[3] == 0xed &&
		    p[4] >= 0xb0 && p[4] <= 0xbf && (p[5] & 0xc0) == 0x80) {
			lo = (unsigned)(p[4] & 0x3f) << 6 | (p[5] & 0x3f);
			cp = 0x10000 + ((hi - 0x800) << 10) + (lo - 0xc00);
			u[0] = (char)(0xf0 | cp >> 18);
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			(void)pt_buf_add(out, u, 4);
			p += 6;
		} else {
			(void)pt_buf_add(out, "\xef\xbf\xbd", 3);
			p += 3;
		}
	}
}

/* Does "v" ("vlen" bytes) start at "m" (of "left" bytes)?  How far. */
static size_t
match_len(const char *m, size_t left, const char *v, size_t vlen)
{
	size_t k = 0;

	while (k < left && k < vlen && m[k] == v[k])
		k++;
	return k;
}

/*
 * Copy "len" bytes of a worker's message "msg" into "out", masking every
 * variable value of "vars" (and every run of SECRET_PREFIX_MIN or more of
 * its first bytes) with "***".
 */
static void
scrub(struct pt_buf *out, const char *msg, size_t len, const pt_json *vars)
{
	struct pt_json_iter it;
	const char *key, *v;
	pt_json *val;
	size_t i = 0, k, best, vlen;

	while (i < len) {
		best = 0;
		if (vars != NULL && pt_json_type(vars) == PT_J_OBJECT) {
			memset(&it, 0, sizeof(it));
			while (pt_json_iter_next(vars, &it, &key, &val)) {
				if (pt_json_type(val) != PT_J_STRING)
					continue;
				v = pt_json_str(val, &vlen);
				if (vlen == 0)
					continue;
				k = match_len(msg + i, len - i, v, vlen);
				if ((k == vlen || k >= SECRET_PREFIX_MIN) &&
				    k > best)
					best = k;
			}
		}
		if (best > 0) {
			(void)pt_buf_adds(out, "***");
			i += best;
		} else
			(void)pt_buf_addc(out, msg[i++]);
	}
}

/*
 * The text of a reply for a log line: secrets masked, control characters
 * as spaces, at most MESSAGE_MAX bytes (cut on a character boundary),
 * then " at line N" when the worker knew the line.  Into "why".
 */
static void
message(char *why, size_t whylen, const char *msg, size_t len,
    uint32_t line, const pt_json *vars)
{
	struct pt_buf b = { 0 };
	size_t i, n;

	scrub(&b, msg, len, vars);
	n = b.len;
	if (n > MESSAGE_MAX) {
		n = MESSAGE_MAX;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	if (b.failed || n == 0)
		snprintf(why, whylen, "%s", b.failed ? "out of memory" :
		    "(no message)");
	else if (line > 0)
		snprintf(why, whylen, "%.*s at line %u", (int)n, b.data, line);
	else
		snprintf(why, whylen, "%.*s", (int)n, b.data);
	pt_buf_free(&b);
}

/* Duktape ends a compiler message with " (line N)" or " (line N, ...)":
 * the line is said separately. */
static size_t
strip_line_note(const char *msg, size_t len)
{
	size_t i;

	for (i = len; i >= 7; i--)
		if (memcmp(msg + i - 7, " (line ", 7) == 0 && msg[len - 1] == ')')
			return i - 7;
	return len;
}

/* The reply "reply" of a run or check, its text "text" in UTF-8. */
static enum pt_script_res
decode_text(const struct pt_buf *reply, const struct pt_script *s,
    const pt_json *vars, const char *text, size_t tlen, uint32_t line,
    pt_json **out, char *why, size_t whylen)
{
	struct pt_json_error jerr;
	pt_json *res = NULL;
	enum pt_err e;

	switch ((unsigned char)reply->data[4]) {
	case PT_SW_OK:
		if (out == NULL)
			return PT_SCRIPT_OK;
		e = pt_json_parse(text, tlen, PT_JSON_MAX_DEPTH, &res, &jerr);
		if (e == PT_ENOMEM) {
			snprintf(why, whylen, "out of memory");
			return PT_SCRIPT_UNAVAILABLE;
		}
		if (e != PT_OK) {
			snprintf(why, whylen, "main's result is not acceptable "
			    "JSON: %s", jerr.message);
			return PT_SCRIPT_BAD_RESULT;
		}
		if (pt_json_type(res) != PT_J_OBJECT) {
			pt_json_put(res);
			snprintf(why, whylen, "main returned something other "
			    "than an object");
			return PT_SCRIPT_BAD_RESULT;
		}
		*out = res;
		return PT_SCRIPT_OK;
	case PT_SW_ERROR:
		message(why, whylen, text, tlen, line, vars);
		return PT_SCRIPT_ERROR;
	case PT_SW_SYNTAX: {
		char m[MESSAGE_MAX + 64];

		message(m, sizeof(m), text, strip_line_note(text, tlen), 0,
		    vars);
		if (line > 0)
			snprintf(why, whylen, "line %u: %s", line, m);
		else
			snprintf(why, whylen, "%s", m);
		return PT_SCRIPT_SYNTAX;
	}
	case PT_SW_NO_MAIN:
		snprintf(why, whylen, "the script defines no function main(ctx)");
		return PT_SCRIPT_ERROR;
	case PT_SW_MEMORY:
		snprintf(why, whylen, "allocated more than %u kB", s->memory_kb);
		return PT_SCRIPT_MEMORY;
	case PT_SW_BAD_RESULT:
		message(why, whylen, text, tlen, 0, vars);
		return PT_SCRIPT_BAD_RESULT;
	default:
		snprintf(why, whylen, "the script worker could not read the "
		    "request");
		return PT_SCRIPT_UNAVAILABLE;
	}
}

/*
 * Turn the reply frame of a run or a check into a result.  *out gets
 * the parsed object for a run that succeeded.
 */
static enum pt_script_res
decode_reply(const struct pt_buf *reply, const struct pt_script *s,
    const pt_json *vars, pt_json **out, char *why, size_t whylen)
{
	struct pt_buf fixed = { 0 };
	const char *text = reply->data + PT_SW_REPLY_HEAD;
	size_t tlen = reply->len - PT_SW_REPLY_HEAD;
	uint32_t line;
	enum pt_script_res r;

	memcpy(&line, reply->data + 8, sizeof(line));
	if (tlen > PT_SCRIPT_RESULT_MAX && reply->data[4] == PT_SW_OK) {
		snprintf(why, whylen, "main returned more than %u bytes of JSON",
		    (unsigned)PT_SCRIPT_RESULT_MAX);
		return PT_SCRIPT_BAD_RESULT;
	}
	if (!pt_utf8_valid(text, tlen)) {
		cesu_to_utf8(&fixed, text, tlen);
		if (fixed.failed) {
			pt_buf_free(&fixed);
			snprintf(why, whylen, "out of memory");
			return PT_SCRIPT_UNAVAILABLE;
		}
		text = fixed.data;
		tlen = fixed.len;
	}
	r = decode_text(reply, s, vars, text, tlen, line, out, why, whylen);
	pt_buf_free(&fixed);
	return r;
}

/*
 * A thread's request and reply frames, kept from one call to the next: a
 * few kB each, whose malloc and free at every request made glibc
 * consolidate its fast bins (perf, bench/run).  What grew past FRAME_KEEP
 * is freed after its call.
 */
#define FRAME_KEEP	(64 * 1024)

struct frames {
	struct pt_buf	req, reply;
};

static pthread_key_t	frames_key;
static pthread_once_t	frames_once = PTHREAD_ONCE_INIT;
static int		frames_ok;

static void
frames_free(void *p)
{
	struct frames *f = p;

	pt_buf_free(&f->req);
	pt_buf_free(&f->reply);
	pt_free(f);
}

static void
frames_init(void)
{
	frames_ok = pthread_key_create(&frames_key, frames_free) == 0;
}

/* This thread's frames, or NULL (out of memory: the call makes its own). */
static struct frames *
thread_frames(void)
{
	struct frames *f;

	(void)pthread_once(&frames_once, frames_init);
	if (!frames_ok)
		return NULL;
	if ((f = pthread_getspecific(frames_key)) != NULL)
		return f;
	if ((f = pt_calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (pthread_setspecific(frames_key, f) != 0) {
		pt_free(f);
		return NULL;
	}
	return f;
}

static void
frame_done(struct pt_buf *b, int kept)
{
	if (!kept || b->cap > FRAME_KEEP || b->failed)
		pt_buf_free(b);
	else
		pt_buf_reset(b);
}

/* Send "op" for "s" through "pool" and decode the answer. */
static enum pt_script_res
call(struct pt_script_pool *pool, int op, const struct pt_script *s,
    const struct pt_script_ctx *c, pt_json **out, char *why, size_t whylen)
{
	struct pt_buf own_req = { 0 }, own_reply = { 0 };
	struct frames *f = thread_frames();
	struct pt_buf *req = f ? &f->req : &own_req;
	struct pt_buf *reply = f ? &f->reply : &own_reply;
	enum pt_script_res r;
	enum pt_err e;

	if ((e = encode(req, op, s, c)) != PT_OK) {
		snprintf(why, whylen, "%s", e == PT_ETOOBIG ? "the request is "
		    "too large for a script" : "out of memory");
		r = e == PT_ETOOBIG ? PT_SCRIPT_ERROR : PT_SCRIPT_UNAVAILABLE;
		goto out;
	}
	switch (pt_spool_call(pool, req->data, req->len, s->timeout_ms, reply,
	    why, whylen)) {
	case PT_SPOOL_OK:
		r = decode_reply(reply, s, c ? c->vars : NULL, out, why,
		    whylen);
		break;
	case PT_SPOOL_TIMEOUT:
		r = PT_SCRIPT_TIMEOUT;
		break;
	case PT_SPOOL_DIED:
		r = PT_SCRIPT_ERROR;
		break;
	default:
		r = PT_SCRIPT_UNAVAILABLE;
		break;
	}
out:
	frame_done(req, f != NULL);
	frame_done(reply, f != NULL);
	return r;
}

enum pt_script_res
pt_script_new(const char *src, size_t len, unsigned timeout_ms,
    unsigned memory_kb, struct pt_script **out, char *why, size_t whylen)
{
	struct pt_script *s;

	*out = NULL;
	if (timeout_ms == 0)
		timeout_ms = PT_SCRIPT_TIMEOUT_DEFAULT;
	if (memory_kb == 0)
		memory_kb = PT_SCRIPT_MEMORY_DEFAULT;
	if (timeout_ms > PT_SCRIPT_TIMEOUT_MAX) {
		snprintf(why, whylen, "timeout_ms %u: at most %u", timeout_ms,
		    PT_SCRIPT_TIMEOUT_MAX);
		return PT_SCRIPT_SYNTAX;
	}
	if (memory_kb < PT_SCRIPT_MEMORY_MIN || memory_kb > PT_SCRIPT_MEMORY_MAX) {
		snprintf(why, whylen, "memory_kb %u: from %u to %u", memory_kb,
		    PT_SCRIPT_MEMORY_MIN, PT_SCRIPT_MEMORY_MAX);
		return PT_SCRIPT_SYNTAX;
	}
	if (len > PT_SCRIPT_SOURCE_MAX) {
		snprintf(why, whylen, "the script is longer than %u bytes",
		    (unsigned)PT_SCRIPT_SOURCE_MAX);
		return PT_SCRIPT_SYNTAX;
	}
	if ((s = pt_calloc(1, sizeof(*s))) == NULL ||
	    (s->src = pt_malloc(len ? len : 1)) == NULL) {
		pt_free(s);
		snprintf(why, whylen, "out of memory");
		return PT_SCRIPT_UNAVAILABLE;
	}
	memcpy(s->src, src, len);
	s->len = len;
	s->timeout_ms = timeout_ms;
	s->memory_kb = memory_kb;
	*out = s;
	return PT_SCRIPT_OK;
}

enum pt_script_res
pt_script_check(struct pt_script_pool *pool, const struct pt_script *s,
    char *why, size_t whylen)
{
	struct pt_script_pool *own = NULL;
	enum pt_script_res r;

	if (pool == NULL) {
		if (pt_script_pool_start(PT_SCRIPT_AUTO, 1, &own, why,
		    whylen) != PT_OK)
			return PT_SCRIPT_UNAVAILABLE;
		pool = own;
	}
	r = call(pool, PT_SW_CHECK, s, NULL, NULL, why, whylen);
	pt_script_pool_stop(own);
	return r;
}

enum pt_script_res
pt_script_compile(struct pt_script_pool *pool, const char *src, size_t len,
    unsigned timeout_ms, unsigned memory_kb, struct pt_script **out,
    char *why, size_t whylen)
{
	struct pt_script *s;
	enum pt_script_res r;

	*out = NULL;
	if ((r = pt_script_new(src, len, timeout_ms, memory_kb, &s, why,
	    whylen)) != PT_SCRIPT_OK)
		return r;
	if ((r = pt_script_check(pool, s, why, whylen)) != PT_SCRIPT_OK) {
		pt_script_free(s);
		return r;
	}
	*out = s;
	return PT_SCRIPT_OK;
}

void
pt_script_free(struct pt_script *s)
{
	if (s == NULL)
		return;
	pt_free(s->src);
	pt_free(s);
}

unsigned
pt_script_timeout_ms(const struct pt_script *s)
{
	return s->timeout_ms;
}

unsigned
pt_script_memory_kb(const struct pt_script *s)
{
	return s->memory_kb;
}

enum pt_script_res
pt_script_run(struct pt_script_pool *pool, const struct pt_script *s,
    const struct pt_script_ctx *c, pt_json **out, char *why, size_t whylen)
{
	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	return call(pool, PT_SW_RUN, s, c, out, why, whylen);
}
