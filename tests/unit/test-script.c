/*
 * test-script.c - preprocess scripts (script.h) through real worker
 * processes: verdicts, returned keys, errors with their lines, every
 * bound (time, memory, recursion), no state between runs, no way out of
 * the sandbox, concurrent callers, a worker replaced after a timeout.
 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "script.h"
#include "tap.h"
#include "timeutil.h"

/* Time a killed run may take beyond its timeout: an ASan build on a
 * loaded two-CPU machine, not a statement about speed. */
#define MARGIN_MS	1500

static struct pt_script_pool *pool;

static const char secret[] = "sk_live_4f9a2c7e1b3d5a6f8e0c9b7a";

static const char body_text[] =
    "{\"kind\":\"task\",\"data\":{\"id\":\"t_1\",\"n\":41,\"tags\":[\"a\","
    "\"b\"]},\"name\":\"Zo\\u00eb\"}";

static const struct pt_header headers[] = {
	{ "content-type", "application/json", 16 },
	{ "x-webhook-secret", secret, sizeof(secret) - 1 },
	{ "x-action", "assigned", 8 },
};

static pt_json *vars, *body;

static void
fill_ctx(struct pt_script_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->vars = vars;
	c->body = body;
	c->raw = body_text;
	c->raw_len = sizeof(body_text) - 1;
	c->headers = headers;
	c->nheaders = nitems(headers);
	c->now_ms = 1795000000123;
}

/*
 * Compile and run "src" once with the test ctx; *outp gets the result
 * (or NULL), "why" the text.  Returns the run's result, or the compile's
 * when it fails (then "compiled" is 0).
 */
static enum pt_script_res
run_src(const char *src, unsigned timeout_ms, unsigned memory_kb,
    pt_json **outp, char *why, size_t whylen, int *compiled)
{
	struct pt_script_ctx c;
	struct pt_script *s;
	enum pt_script_res r;

	*outp = NULL;
	/* Time is what test_timeout is about; elsewhere a loaded machine
	 * (CI runs two builds at once, one with ASan) must not turn a run
	 * into a timeout. */
	if (timeout_ms == 0)
		timeout_ms = 1000;
	r = pt_script_compile(pool, src, strlen(src), timeout_ms, memory_kb, &s,
	    why, whylen);
	*compiled = r == PT_SCRIPT_OK;
	if (r != PT_SCRIPT_OK)
		return r;
	fill_ctx(&c);
	r = pt_script_run(pool, s, &c, outp, why, whylen);
	pt_script_free(s);
	return r;
}

/* Runs that end well: the result must equal "want" (JSON). */
static const struct {
	const char	*desc;
	const char	*src;
	const char	*want;
} good[] = {
	{ "Knock's default script: the secret matches",
	  "function main(ctx) { return {verified: ctx.headers[\"x-webhook-secret\"]"
	  " === ctx.vars.SECRET}; }",
	  "{\"verified\":true}" },
	{ "verdict false when the header differs",
	  "function main(ctx) { return {verified: ctx.headers[\"x-action\"] === "
	  "ctx.vars.SECRET}; }",
	  "{\"verified\":false}" },
	{ "verdict missing: an object without verified",
	  "function main(ctx) { return {}; }",
	  "{}" },
	{ "returned keys from the body, headers and vars",
	  "function main(ctx) {\n"
	  "  return {verified: true, id: ctx.body.data.id, n: ctx.body.data.n + 1,\n"
	  "    tags: ctx.body.data.tags.join('+'), name: ctx.body.name,\n"
	  "    region: ctx.vars.REGION, nested: {a: [1, {b: null}]}};\n"
	  "}",
	  "{\"verified\":true,\"id\":\"t_1\",\"n\":42,\"tags\":\"a+b\","
	  "\"name\":\"Zo\\u00eb\",\"region\":\"eu\",\"nested\":{\"a\":[1,{\"b\":null}]}}" },
	{ "event_type computed from body and headers",
	  "function main(ctx) { return {event_type: ctx.body.kind + '.' +"
	  " ctx.headers['x-action']}; }",
	  "{\"event_type\":\"task.assigned\"}" },
	{ "skip",
	  "function main(ctx) { if (ctx.body.kind === 'task') return {skip: true};"
	  " return {}; }",
	  "{\"skip\":true}" },
	{ "rawBody is the exact bytes; body parses them",
	  "function main(ctx) { return {same: ctx.rawBody === JSON.stringify("
	  "JSON.parse(ctx.rawBody)) ? 0 : ctx.rawBody.length,"
	  " kind: JSON.parse(ctx.rawBody).kind}; }",
	  "{\"same\":77,\"kind\":\"task\"}" },
	{ "header names as given, lower case",
	  "function main(ctx) { return {names: Object.keys(ctx.headers).join(',')}; }",
	  "{\"names\":\"content-type,x-webhook-secret,x-action\"}" },
	{ "the clock is the caller's: Date.now and new Date",
	  "function main(ctx) { return {now: Date.now(), d: new Date().getTime(),"
	  " iso: new Date(0).toISOString(), inst: new Date() instanceof Date,"
	  " parsed: Date.parse('2026-01-02T03:04:05Z'), hours: new Date(Date.UTC("
	  "2026, 0, 1, 5)).getHours()}; }",
	  "{\"now\":1795000000123,\"d\":1795000000123,"
	  "\"iso\":\"1970-01-01T00:00:00.000Z\",\"inst\":true,"
	  "\"parsed\":1767323045000,\"hours\":5}" },
	{ "no I/O and nothing engine-specific in reach",
	  "function main(ctx) { return {t: [typeof require, typeof Duktape,"
	  " typeof print, typeof performance, typeof Math.random, typeof process,"
	  " typeof module, typeof setTimeout].join(',')}; }",
	  "{\"t\":\"undefined,undefined,undefined,undefined,undefined,"
	  "undefined,undefined,undefined\"}" },
	{ "the modern-ish built-ins scripts use",
	  "function main(ctx) { const p = 'v1,abc'; return {inc: p.includes('abc'),"
	  " sw: p.startsWith('v1'), ew: p.endsWith('c'), rep: 'ab'.repeat(2),"
	  " asg: Object.assign({a: 1}, {b: 2}), hex: (255).toString(16),"
	  " keys: Object.keys({x: 1, y: 2}).length}; }",
	  "{\"inc\":true,\"sw\":true,\"ew\":true,\"rep\":\"abab\","
	  "\"asg\":{\"a\":1,\"b\":2},\"hex\":\"ff\",\"keys\":2}" },
	{ "built-in names can still be given to one's own objects",
	  "function E(m) { this.message = m; }\n"
	  "E.prototype.toString = function () { return 'E:' + this.message; };\n"
	  "E.prototype.constructor = E;\n"
	  "function main(ctx) { var e = new Error('x'); e.name = 'Mine';"
	  " return {s: String(new E('m')), n: String(e)}; }",
	  "{\"s\":\"E:m\",\"n\":\"Mine: x\"}" },
	{ "ctx.body may be replaced",
	  "function main(ctx) { ctx.body = {k: 1}; return {k: ctx.body.k}; }",
	  "{\"k\":1}" },
	{ "strings made in JavaScript come back as UTF-8",
	  "function main(ctx) { return {s: '\\ud83d\\ude00 \\u00e9',"
	  " lone: 'a\\ud800b', body: ctx.body.name + '\\ud83d\\ude00'}; }",
	  "{\"s\":\"\\ud83d\\ude00 \\u00e9\",\"lone\":\"a\\ufffdb\","
	  "\"body\":\"Zo\\u00eb\\ud83d\\ude00\"}" },
	{ "functions and undefined are left out of the result",
	  "function main(ctx) { return {a: 1, f: function () {}, u: undefined}; }",
	  "{\"a\":1}" },
};

static void
test_good(void)
{
	struct pt_json_error jerr;
	pt_json *out, *want;
	char why[512];
	size_t i;
	int compiled;

	for (i = 0; i < nitems(good); i++) {
		enum pt_script_res r = run_src(good[i].src, 0, 0, &out, why,
		    sizeof(why), &compiled);

		if (!ok(r == PT_SCRIPT_OK, "%s: runs", good[i].desc)) {
			diag("%s: %s", pt_script_res_code(r), why);
			continue;
		}
		if (pt_json_parse(good[i].want, strlen(good[i].want), 64, &want,
		    &jerr) != PT_OK)
			abort();
		if (!ok(pt_json_equal(out, want), "%s: result", good[i].desc)) {
			diag("got  %s", pt_json_text(out, 0, NULL));
			diag("want %s", good[i].want);
		}
		pt_json_put(want);
		pt_json_put(out);
	}
}

/* Runs that fail: the result code and the exact text ("timeout_ms" and
 * "memory_kb" 0: the defaults). */
static const struct {
	const char		*desc;
	const char		*src;
	enum pt_script_res	 res;
	const char		*why;
	unsigned		 timeout_ms, memory_kb;
} bad[] = {
	{ "a thrown Error: its message and line",
	  "function main(ctx) {\n  var x = 1;\n  throw new Error('boom');\n}",
	  PT_SCRIPT_ERROR, "Error: boom at line 3", 0, 0 },
	{ "an engine TypeError: its line",
	  "function main(ctx) {\n  return {v: ctx.nothing.here};\n}",
	  PT_SCRIPT_ERROR, "TypeError: cannot read property 'here' of undefined "
	  "at line 2", 0, 0 },
	{ "a thrown string: no line to tell",
	  "function main(ctx) { throw 'plain words'; }",
	  PT_SCRIPT_ERROR, "plain words", 0, 0 },
	{ "a custom error name",
	  "function main(ctx) {\n var e = new TypeError('bad input');\n"
	  " e.name = 'InputError';\n throw e;\n}",
	  PT_SCRIPT_ERROR, "InputError: bad input at line 2", 0, 0 },
	{ "a message of several lines becomes one line",
	  "function main(ctx) { throw new Error('a\\nb\\tc'); }",
	  PT_SCRIPT_ERROR, "Error: a b c at line 1", 0, 0 },
	{ "an array is no result",
	  "function main(ctx) { return [1, 2]; }",
	  PT_SCRIPT_BAD_RESULT, "main returned an array, not an object", 0, 0 },
	{ "null is no result",
	  "function main(ctx) { return null; }",
	  PT_SCRIPT_BAD_RESULT, "main returned null, not an object", 0, 0 },
	{ "nothing is no result",
	  "function main(ctx) { }",
	  PT_SCRIPT_BAD_RESULT, "main returned nothing (undefined), not an "
	  "object", 0, 0 },
	{ "a number is no result",
	  "function main(ctx) { return 5; }",
	  PT_SCRIPT_BAD_RESULT, "main returned something other than an object", 0, 0 },
	{ "a function is no result",
	  "function main(ctx) { return main; }",
	  PT_SCRIPT_BAD_RESULT, "main returned something other than an object", 0, 0 },
	{ "a cyclic object has no JSON",
	  "function main(ctx) { var o = {}; o.self = o; return o; }",
	  PT_SCRIPT_BAD_RESULT, "TypeError: cyclic input", 0, 0 },
	{ "nesting deeper than Porter's JSON takes",
	  "function main(ctx) { var o = {}; for (var i = 0; i < 100; i++)"
	  " o = {o: o}; return o; }",
	  PT_SCRIPT_BAD_RESULT, "main's result is not acceptable JSON: nested "
	  "too deep at line 1, column 321 (byte 320)", 0, 0 },
	{ "deep recursion ends in the call-stack limit",
	  "function f(n) { return f(n + 1) + 1; }\n"
	  "function main(ctx) {\n  return {n: f(0)};\n}",
	  PT_SCRIPT_ERROR, "RangeError: callstack limit at line 1", 1000, 0 },
	{ "one huge allocation against memory_kb",
	  "function main(ctx) { return {s: 'x'.repeat(64 * 1024 * 1024).length}; }",
	  PT_SCRIPT_MEMORY, "allocated more than 8192 kB", 0, 0 },
	{ "growing without end against memory_kb",
	  "function main(ctx) { var a = [];"
	  " for (;;) a.push('x'.repeat(1024) + a.length); }",
	  PT_SCRIPT_MEMORY, "allocated more than 1024 kB", 1000, 1024 },
	{ "a memory error caught by the script is still one",
	  "function main(ctx) { try { 'x'.repeat(1e8); } catch (e) { }"
	  " return {}; }",
	  PT_SCRIPT_MEMORY, "allocated more than 8192 kB", 0, 0 },
};

static void
test_bad(void)
{
	pt_json *out;
	char why[512];
	size_t i;
	int compiled;

	for (i = 0; i < nitems(bad); i++) {
		enum pt_script_res r = run_src(bad[i].src, bad[i].timeout_ms,
		    bad[i].memory_kb, &out, why, sizeof(why), &compiled);

		ok(compiled, "%s: compiles", bad[i].desc);
		if (!ok(r == bad[i].res, "%s: %s", bad[i].desc,
		    pt_script_res_code(bad[i].res)))
			diag("got %s: %s", pt_script_res_code(r), why);
		is_str(why, bad[i].why, "%s: text", bad[i].desc);
		ok(out == NULL, "%s: no result", bad[i].desc);
	}
}

/* pt_script_compile refusing a script, with the text. */
static const struct {
	const char		*desc;
	const char		*src;
	unsigned		 timeout_ms, memory_kb;
	enum pt_script_res	 res;
	const char		*why;
} refused[] = {
	{ "a syntax error names its line",
	  "// a comment\nfunction main(ctx) {\n  var x = ;\n}",
	  0, 0, PT_SCRIPT_SYNTAX,
	  "line 3: SyntaxError: empty expression not allowed" },
	{ "an unterminated function",
	  "function main(ctx) {\n  return {};\n",
	  0, 0, PT_SCRIPT_SYNTAX, "line 3: SyntaxError: parse error" },
	{ "a source that would close the wrapper",
	  "}); (function () {\nfunction main(ctx) { return {}; }",
	  0, 0, PT_SCRIPT_SYNTAX, "line 1: SyntaxError: parse error" },
	{ "let is not in the language",
	  "function main(ctx) {\n  let x = 1;\n  return {x: x};\n}",
	  0, 0, PT_SCRIPT_SYNTAX, "line 2: SyntaxError: unterminated statement" },
	{ "no main",
	  "function handler(ctx) { return {}; }",
	  0, 0, PT_SCRIPT_ERROR, "the script defines no function main(ctx)" },
	{ "main that is no function",
	  "var main = 3;",
	  0, 0, PT_SCRIPT_ERROR, "the script defines no function main(ctx)" },
	{ "a top level that throws",
	  "var cfg = JSON.parse('{');\nfunction main(ctx) { return {}; }",
	  0, 0, PT_SCRIPT_ERROR, "SyntaxError: invalid json (at offset 2) "
	  "at line 1" },
	{ "a top level that never ends",
	  "for (;;) {}\nfunction main(ctx) { return {}; }",
	  40, 0, PT_SCRIPT_TIMEOUT, "ran longer than 40 ms" },
	{ "timeout_ms above the maximum",
	  "function main(ctx) { return {}; }",
	  1001, 0, PT_SCRIPT_SYNTAX, "timeout_ms 1001: at most 1000" },
	{ "memory_kb above the maximum",
	  "function main(ctx) { return {}; }",
	  0, 262145, PT_SCRIPT_SYNTAX, "memory_kb 262145: from 64 to 262144" },
	{ "memory_kb below the minimum",
	  "function main(ctx) { return {}; }",
	  0, 10, PT_SCRIPT_SYNTAX, "memory_kb 10: from 64 to 262144" },
};

static void
test_refused(void)
{
	struct pt_script *s;
	char why[512];
	size_t i;

	for (i = 0; i < nitems(refused); i++) {
		enum pt_script_res r = pt_script_compile(pool, refused[i].src,
		    strlen(refused[i].src), refused[i].timeout_ms,
		    refused[i].memory_kb, &s, why, sizeof(why));

		if (!ok(r == refused[i].res, "compile, %s: %s", refused[i].desc,
		    pt_script_res_code(refused[i].res)))
			diag("got %s: %s", pt_script_res_code(r), why);
		is_str(why, refused[i].why, "compile, %s: text", refused[i].desc);
		ok(s == NULL, "compile, %s: nothing kept", refused[i].desc);
	}
	/* The limits kept on a script that compiles. */
	if (pt_script_compile(pool, "function main(c) { return {}; }", 31, 0, 0,
	    &s, why, sizeof(why)) != PT_SCRIPT_OK)
		abort();
	is_int(pt_script_timeout_ms(s), PT_SCRIPT_TIMEOUT_DEFAULT,
	    "compile: default timeout_ms");
	is_int(pt_script_memory_kb(s), PT_SCRIPT_MEMORY_DEFAULT,
	    "compile: default memory_kb");
	pt_script_free(s);
	/* porterctl's way: no pool of its own. */
	ok(pt_script_compile(NULL, "function main(c) { return {}; }", 31, 0, 0,
	    &s, why, sizeof(why)) == PT_SCRIPT_OK, "compile without a pool");
	pt_script_free(s);
	ok(pt_script_compile(NULL, "function main(c) {", 18, 0, 0,
	    &s, why, sizeof(why)) == PT_SCRIPT_SYNTAX,
	    "compile without a pool: a syntax error");
}

/* An endless loop costs its timeout, then the worker is replaced. */
static void
test_timeout(void)
{
	struct pt_script_pool_stats before, after;
	pt_json *out;
	char why[512];
	int64_t t0, spent;
	int compiled;
	enum pt_script_res r;

	pt_script_pool_stats(pool, &before);
	t0 = pt_mono_ms();
	r = run_src("function main(ctx) { while (true) {} }", 100, 0, &out, why,
	    sizeof(why), &compiled);
	spent = pt_mono_ms() - t0;
	is_int(r, PT_SCRIPT_TIMEOUT, "endless loop: script_timeout");
	is_str(why, "ran longer than 100 ms", "endless loop: text");
	ok(spent >= 100 && spent <= 100 + MARGIN_MS, "endless loop: %lld ms, "
	    "bounded by the timeout", (long long)spent);
	pt_script_pool_stats(pool, &after);
	is_int(after.killed, before.killed + 1, "endless loop: worker killed");

	/* Recursion that allocates, bounded by either limit, never a hang. */
	t0 = pt_mono_ms();
	r = run_src("function f(a) { return f([a, a]) ; }\n"
	    "function main(ctx) { return f([]); }", 200, 1024, &out, why,
	    sizeof(why), &compiled);
	spent = pt_mono_ms() - t0;
	ok(r == PT_SCRIPT_ERROR || r == PT_SCRIPT_MEMORY ||
	    r == PT_SCRIPT_TIMEOUT, "allocating recursion: bounded (%s: %s)",
	    pt_script_res_code(r), why);
	ok(spent <= 200 + MARGIN_MS, "allocating recursion: %lld ms",
	    (long long)spent);

	r = run_src("function main(ctx) { return {ok: 1}; }", 0, 0, &out, why,
	    sizeof(why), &compiled);
	ok(r == PT_SCRIPT_OK && pt_json_int(pt_json_get(out, "ok")) == 1,
	    "a run after the timeout works (a new worker)");
	pt_json_put(out);
	pt_script_pool_stats(pool, &after);
	ok(after.started > before.started, "a worker was started again "
	    "(%llu started in all)", (unsigned long long)after.started);
	ok(after.alive >= 1 && after.alive <= 4, "workers alive: %u",
	    after.alive);
}

/* Nothing a run does is seen by the next one, on the same worker. */
static void
test_no_state(void)
{
	static const char *const leaky[] = {
		/* globals, built-ins, a global through this */
		"var n = 0;\n"
		"function main(ctx) {\n"
		"  n++; count = (typeof count === 'number' ? count : 0) + 1;\n"
		"  globalThis.leak = (globalThis.leak || 0) + 1;\n"
		"  this.viaThis = (this.viaThis || 0) + 1;\n"
		"  try { Object.prototype.polluted = 1; } catch (e) { }\n"
		"  try { JSON.stringify = null; } catch (e) { }\n"
		"  try { Array.prototype.push = null; } catch (e) { }\n"
		"  try { delete Math.max; } catch (e) { }\n"
		"  try { String.prototype.x = 1; } catch (e) { }\n"
		"  try { Object.defineProperty(globalThis, 'def', {value: 1}); }"
		"  catch (e) { }\n"
		"  try { (0, eval)('var evalled = 1'); } catch (e) { }\n"
		"  return {n: n, leak: globalThis.leak || 0, count: typeof count ==="
		"    'number' ? count : 0, viaThis: globalThis.viaThis || 0,"
		"    polluted: ({}).polluted === 1,"
		"    json: typeof JSON.stringify, push: typeof [].push,"
		"    max: typeof Math.max, x: typeof ''.x, def: typeof def,"
		"    evalled: typeof evalled};\n"
		"}",
		/* a closure */
		"var main = (function () { var c = 0;\n"
		"  return function (ctx) { c++; return {n: c}; }; })();",
		/* the wrapper itself */
		"var w = arguments.callee; w.count = (w.count || 0) + 1;\n"
		"function main(ctx) { return {n: w.count || 0}; }",
		/* main, a function object */
		"function main(ctx) { main.calls = (main.calls || 0) + 1;"
		" return {n: main.calls}; }",
		/* the shared accessor of ctx.body */
		"function main(ctx) {\n"
		"  var g = Object.getOwnPropertyDescriptor(ctx, 'body').get;\n"
		"  try { g.mark = (g.mark || 0) + 1; } catch (e) { }\n"
		"  return {n: g.mark || 0};\n"
		"}",
	};
	struct pt_script_ctx c;
	struct pt_script *s;
	pt_json *first, *second;
	char why[512];
	size_t i;

	fill_ctx(&c);
	for (i = 0; i < nitems(leaky); i++) {
		if (pt_script_compile(pool, leaky[i], strlen(leaky[i]), 1000, 0, &s,
		    why, sizeof(why)) != PT_SCRIPT_OK) {
			ok(0, "no state %zu: compiles (%s)", i, why);
			continue;
		}
		first = second = NULL;
		if (pt_script_run(pool, s, &c, &first, why, sizeof(why)) !=
		    PT_SCRIPT_OK ||
		    pt_script_run(pool, s, &c, &second, why, sizeof(why)) !=
		    PT_SCRIPT_OK) {
			ok(0, "no state %zu: runs twice (%s)", i, why);
			pt_json_put(first);
			continue;
		}
		if (!ok(pt_json_equal(first, second), "no state %zu: the second "
		    "run sees what the first saw", i)) {
			diag("first  %s", pt_json_text(first, 0, NULL));
			diag("second %s", pt_json_text(second, 0, NULL));
		}
		if (i == 0)
			ok(pt_json_int(pt_json_get(first, "n")) == 1 &&
			    !pt_json_bool(pt_json_get(first, "polluted")) &&
			    strcmp(pt_json_str(pt_json_get(first, "json"), NULL),
			    "function") == 0 &&
			    pt_json_int(pt_json_get(first, "leak")) == 0 &&
			    pt_json_int(pt_json_get(first, "count")) == 0 &&
			    pt_json_int(pt_json_get(first, "viaThis")) == 0 &&
			    strcmp(pt_json_str(pt_json_get(first, "evalled"), NULL),
			    "undefined") == 0, "no state: nothing changed even "
			    "within the run");
		pt_json_put(first);
		pt_json_put(second);
		pt_script_free(s);
	}
}

/* Variables are secrets: never in a message, not even a prefix. */
static void
test_secrets(void)
{
	static const char *const leaks[] = {
		"function main(ctx) { ctx.vars.SECRET.nothing(); }",
		"function main(ctx) { throw new Error('key=' + ctx.vars.SECRET); }",
		"function main(ctx) { throw ctx.vars.SECRET.slice(0, 12); }",
		"function main(ctx) { return [ctx.vars.SECRET]; }",
	};
	pt_json *out;
	char why[512], prefix[9];
	size_t i;
	int compiled;
	enum pt_script_res r;

	memcpy(prefix, secret, 8);
	prefix[8] = '\0';
	for (i = 0; i < nitems(leaks); i++) {
		r = run_src(leaks[i], 0, 0, &out, why, sizeof(why), &compiled);
		ok(r == PT_SCRIPT_ERROR || r == PT_SCRIPT_BAD_RESULT,
		    "secret %zu: fails (%s)", i, why);
		ok(strstr(why, prefix) == NULL && strstr(why, "4f9a2c") == NULL,
		    "secret %zu: not in the text \"%s\"", i, why);
		pt_json_put(out);
	}
}

/* The body from its tree when the caller has no JSON text at hand. */
static void
test_body_forms(void)
{
	struct pt_script_ctx c;
	struct pt_script *s;
	pt_json *out;
	char why[512];
	const char *src = "function main(ctx) { return {b: ctx.body}; }";

	if (pt_script_compile(pool, src, strlen(src), 1000, 0, &s, why,
	    sizeof(why)) != PT_SCRIPT_OK)
		abort();
	fill_ctx(&c);
	ok(pt_script_run(pool, s, &c, &out, why, sizeof(why)) == PT_SCRIPT_OK &&
	    pt_json_equal(pt_json_get(out, "b"), body), "body from the tree");
	pt_json_put(out);
	c.body_json = body_text;
	c.body_json_len = sizeof(body_text) - 1;
	c.body = NULL;
	ok(pt_script_run(pool, s, &c, &out, why, sizeof(why)) == PT_SCRIPT_OK &&
	    pt_json_equal(pt_json_get(out, "b"), body), "body from its text");
	pt_json_put(out);
	c.body_json = NULL;
	c.vars = NULL;
	c.headers = NULL;
	c.nheaders = 0;
	c.raw = NULL;
	c.raw_len = 0;
	ok(pt_script_run(pool, s, &c, &out, why, sizeof(why)) == PT_SCRIPT_OK &&
	    pt_json_get_ex(out, "b", NULL) && pt_json_get(out, "b") == NULL,
	    "no body: null");
	pt_json_put(out);
	pt_script_free(s);
}

/* Several callers at once, each with its own variables. */
struct caller {
	int		 id;
	int		 good;
	pthread_t	 th;
};

static struct pt_script *concurrent;

static void *
caller_main(void *arg)
{
	struct caller *k = arg;
	struct pt_script_ctx c;
	pt_json *v, *out;
	char why[256], id[16];
	enum pt_script_res r;
	int i;

	snprintf(id, sizeof(id), "c%d", k->id);
	v = pt_json_new_object();
	pt_json_set(v, "ID", pt_json_new_cstr(id));
	fill_ctx(&c);
	c.vars = v;
	for (i = 0; i < 40; i++) {
		out = NULL;
		r = pt_script_run(pool, concurrent, &c, &out, why, sizeof(why));
		if (r == PT_SCRIPT_OK && strcmp(pt_json_str(pt_json_get(out,
		    "who"), NULL), id) == 0 && pt_json_int(pt_json_get(out,
		    "n")) == 42)
			k->good++;
		else
			printf("# caller %d run %d: %s: %s\n", k->id, i,
			    pt_script_res_code(r), why);
		pt_json_put(out);
	}
	pt_json_put(v);
	return NULL;
}

static void
test_concurrent(void)
{
	struct caller k[8];
	const char *src = "function main(ctx) { var s = 0;"
	    " for (var i = 0; i < 2000; i++) s += i % 3;"
	    " return {who: ctx.vars.ID, n: ctx.body.data.n + 1}; }";
	char why[256];
	size_t i;
	int all = 0;

	/* A timeout for a loaded machine: this is about who gets what. */
	if (pt_script_compile(pool, src, strlen(src), 1000, 0, &concurrent, why,
	    sizeof(why)) != PT_SCRIPT_OK)
		abort();
	for (i = 0; i < nitems(k); i++) {
		k[i].id = (int)i;
		k[i].good = 0;
		pthread_create(&k[i].th, NULL, caller_main, &k[i]);
	}
	for (i = 0; i < nitems(k); i++) {
		pthread_join(k[i].th, NULL);
		all += k[i].good;
	}
	is_int(all, 8 * 40, "8 threads x 40 runs on 4 workers: every result "
	    "right and their own");
	pt_script_free(concurrent);
}

/*
 * A process named "comm" whose parent is "parent" (0: whose grandparent
 * is this process), from /proc; 0 when there is none.
 */
static long
find_proc(const char *want, long parent)
{
	char path[64], comm[64];
	long pid, ppid, gpid, found = 0;
	struct dirent *de;
	DIR *d;
	FILE *f;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && found == 0) {
		if ((pid = atol(de->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%*d (%63[^)]) %c %ld", comm, path, &ppid) != 3 ||
		    path[0] == 'Z' || strcmp(comm, want) != 0) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (parent != 0) {
			if (ppid == parent)
				found = pid;
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%ld/stat", ppid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%*d (%*[^)]) %*c %ld", &gpid) == 1 &&
		    gpid == (long)getpid())
			found = pid;
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The workers are confined: their seccomp mode and core-file limit. */
static void
test_confined(void)
{
	char path[64], line[256];
	int seccomp = -1, nocore = 0;
	long pid = find_proc("porter-script", 0);
	FILE *f;

	ok(pid > 0, "workers: one found, a grandchild of this process");
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "Seccomp:", 8) == 0)
				seccomp = atoi(line + 8);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%ld/limits", pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "Max core file size", 18) == 0 &&
			    strstr(line + 18, " 0 ") != NULL)
				nocore = 1;
		fclose(f);
	}
	ok(nocore, "workers: no core files");
#ifdef HAVE_SECCOMP
	is_int(seccomp, 2, "workers: under a seccomp filter");
#else
	ok(1, "workers: seccomp not built (mode %d)", seccomp);
#endif
}

/* Run the trivial script once; its result. */
static enum pt_script_res
run_trivial(char *why, size_t whylen)
{
	pt_json *out;
	int compiled;
	enum pt_script_res r;

	r = run_src("function main(ctx) { return {}; }", 0, 0, &out, why,
	    whylen, &compiled);
	pt_json_put(out);
	return r;
}

/*
 * Processes that die under the pool: an idle worker is replaced without
 * failing the run that finds it dead; without the zygote, runs are
 * script_unavailable (retry later), never a hang or a crash.
 */
static void
test_deaths(void)
{
	struct pt_script_pool_stats before, after;
	char why[256];
	long pid, zygote;
	int i, n;

	pt_script_pool_stats(pool, &before);
	for (i = 0; (pid = find_proc("porter-script", 0)) > 0 && i < 16; i++) {
		kill((pid_t)pid, SIGKILL);
		usleep(50 * 1000);
	}
	ok(i > 0 && pid == 0, "every idle worker killed (%d)", i);
	for (n = 0; n < 4; n++)
		if (run_trivial(why, sizeof(why)) != PT_SCRIPT_OK)
			break;
	is_int(n, 4, "runs after it all succeed (%s)", n < 4 ? why : "ok");
	pt_script_pool_stats(pool, &after);
	ok(after.died > before.died && after.died <= before.died + (unsigned)i,
	    "the dead workers were noticed (%llu)",
	    (unsigned long long)(after.died - before.died));

	zygote = find_proc("porter-scripts", (long)getpid());
	ok(zygote > 0 && kill((pid_t)zygote, SIGKILL) == 0, "the zygote killed");
	usleep(200 * 1000);
	for (i = 0; i < 8; i++)
		if (run_trivial(why, sizeof(why)) == PT_SCRIPT_UNAVAILABLE)
			break;
	ok(i < 8, "without it, script_unavailable");
	is_str(why, "the script supervisor process is gone", "... saying why");
}

/* A caller of test_abandon: its script, how it must end, how it did. */
struct abandoner {
	pthread_t		 th;
	const char		*src;
	enum pt_script_res	 want;
	int			 good;
	char			 why[256];
};

static void *
abandoner_main(void *arg)
{
	struct abandoner *a = arg;
	pt_json *out;
	int compiled, i;
	enum pt_script_res r;

	for (i = 0; i < 5; i++) {
		r = run_src(a->src, 60, 2048, &out, a->why, sizeof(a->why),
		    &compiled);
		pt_json_put(out);
		if (r == a->want)
			a->good++;
	}
	return NULL;
}

/*
 * On the callers' threads, a run is abandoned wherever Duktape spends its
 * time (the bytecode loop, the regular-expression engine, the compiler,
 * a sort, JSON), its engine freed without Duktape and replaced, while
 * other threads' runs go on and come out right.  (Leaks of an abandoned
 * heap show in the ASan and valgrind runs of this test.)
 */
static void
test_abandon(void)
{
	static const char *const endless[] = {
		"function main(ctx) { for (;;) {} }",
		"function main(ctx) { return {m: /^(a+)+$/.test("
		    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')}; }",
		"function f(n) { return n < 1 ? 0 : f(n - 1) + f(n - 1); }\n"
		    "function main(ctx) { return {n: f(60)}; }",
		"function main(ctx) { var a = [3, 1, 2];\n"
		    "a.sort(function (x, y) { for (;;) {} }); return {}; }",
		"function main(ctx) { var o = {a: [1, 2, {b: 'c'}]}, s;\n"
		    "for (;;) s = JSON.parse(JSON.stringify(o)); }",
		"for (;;) {}\nfunction main(ctx) { return {}; }",
		"function main(ctx) { var s = 'x'; for (;;) s = s.slice(1) + "
		    "'y'; }",
	};
	struct abandoner k[nitems(endless) + 3];
	struct pt_script_pool_stats before, after;
	size_t i;
	int all = 0;

	pt_script_pool_stats(pool, &before);
	for (i = 0; i < nitems(k); i++) {
		k[i].src = i < nitems(endless) ? endless[i] :
		    "function main(ctx) { return {n: ctx.body.data.n + 1}; }";
		k[i].want = i < nitems(endless) ? PT_SCRIPT_TIMEOUT :
		    PT_SCRIPT_OK;
		k[i].good = 0;
		k[i].why[0] = '\0';
		pthread_create(&k[i].th, NULL, abandoner_main, &k[i]);
	}
	for (i = 0; i < nitems(k); i++) {
		pthread_join(k[i].th, NULL);
		ok(k[i].good == 5, "abandon %zu: 5 of 5 ended %s (%d; last: %s)",
		    i, pt_script_res_code(k[i].want), k[i].good, k[i].why);
		all += k[i].good;
	}
	pt_script_pool_stats(pool, &after);
	is_int(after.killed - before.killed, nitems(endless) * 5,
	    "every endless run abandoned its engine");
	is_int(after.died, before.died, "no engine failed otherwise");
	ok(after.alive <= 4, "engines alive: %u (made on demand)",
	    after.alive);
	is_int(run_trivial(k[0].why, sizeof(k[0].why)), PT_SCRIPT_OK,
	    "a run after them works");
}

/*
 * Where scripts run: the suite once on the callers' threads (the
 * default), once in worker processes.
 */
static void
suite(enum pt_script_where where)
{
	struct pt_script_pool_stats st;
	char why[256];

	printf("# scripts %s\n", where == PT_SCRIPT_THREAD ?
	    "on the callers' threads" : "in worker processes");
	if (pt_script_pool_start(where, 4, &pool, why, sizeof(why)) != PT_OK) {
		printf("Bail out! pool: %s\n", why);
		exit(1);
	}
	pt_script_pool_stats(pool, &st);
	is_int(st.threads, where == PT_SCRIPT_THREAD, "the pool runs where "
	    "asked");
	test_good();
	test_bad();
	test_refused();
	test_timeout();
	test_no_state();
	test_secrets();
	test_body_forms();
	test_concurrent();
	if (where == PT_SCRIPT_THREAD)
		test_abandon();
	else {
		test_confined();
		test_deaths();
	}
	pt_script_pool_stop(pool);
	pool = NULL;
}

int
main(void)
{
	struct pt_json_error jerr;

	setenv("PORTER_SECCOMP", "1", 0);
	if (pt_json_parse(body_text, sizeof(body_text) - 1, 64, &body, &jerr) !=
	    PT_OK)
		abort();
	vars = pt_json_new_object();
	pt_json_set(vars, "SECRET", pt_json_new_cstr(secret));
	pt_json_set(vars, "REGION", pt_json_new_cstr("eu"));

	suite(PT_SCRIPT_THREAD);
	suite(PT_SCRIPT_PROCESS);

	pt_json_put(vars);
	pt_json_put(body);
	return tap_done();
}
