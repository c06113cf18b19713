/*
 * script.h - preprocess scripts: JavaScript that an environment runs on
 * every request before anything else reads it (Knock's model): it gets
 * ctx = {vars, body, rawBody, headers} and returns an object, whose
 * "verified" is a verification verdict and whose other keys become
 * preprocess.<key> for the paths, filters and parameters downstream.
 *
 * The engine: Duktape 2.7 (Debian duktape-dev, pkg-config "duktape").
 * Weighed against MuJS 1.3.2 (libmujs-dev, pkg-config "mujs"):
 *  - interruption: neither Debian build can stop a running script.
 *    Duktape has a hook for it (DUK_USE_EXEC_TIMEOUT_CHECK with
 *    DUK_USE_INTERRUPT_COUNTER), but it is a compile-time option and
 *    Debian's duk_config.h has both #undef; MuJS has no hook at all.  So
 *    a run is abandoned from outside (script_guard.h: a timer signal on
 *    the caller's thread that jumps out only from Duktape's own code;
 *    Duktape keeps no state outside its heap, and Porter frees that heap
 *    block by block), or scripts run in helper processes (below).
 *  - memory limit: both take custom allocators (duk_create_heap,
 *    js_newstate); Duktape recovers from a refused allocation with a
 *    RangeError, so a budget is a clean per-run error.
 *  - errors: both give compile errors with the line; Duktape's error
 *    objects carry lineNumber for runtime errors too (MuJS 1.3.2 has no
 *    "stack" or line on error objects).
 *  - compile-only: both (duk_pcompile, js_ploadstring).
 *  - language: MuJS is strict ES5: no const, no String.prototype.includes,
 *    startsWith, Object.assign.  Duktape is ES5.1 with much of ES2015+:
 *    const, Object.assign, String includes/startsWith/endsWith/repeat,
 *    Symbol, Proxy, Reflect, typed arrays, TextEncoder/TextDecoder, the
 *    ** operator.  Neither has let, arrow functions, template strings,
 *    classes, destructuring or for-of: scripts are written in ES5 style
 *    (function main(ctx) { ... }).
 *  - a fresh state: about 200 us for a Duktape heap and 95 us for a MuJS
 *    state on this machine, both far above the budget per request, so a
 *    worker keeps one heap and makes it unable to carry anything from one
 *    run to the next instead (script_duk.c: a frozen realm, the top level
 *    rerun as a function per run).  Running main() itself costs about
 *    0.7 us in either engine.
 *  - maintenance: Duktape 2.7.0 (2022) is widely embedded, documents
 *    sandboxing, and is in Debian main with a -dev package; MuJS (Artifex,
 *    the engine of MuPDF) is maintained too, but its ES level is the gap.
 *
 * Where they run (script_pool.h): by default on the caller's thread, in
 * one of a few engines the pool keeps, each borrowed by one caller at a
 * time (script_guard.h bounds its time, script_duk.c's allocator its
 * memory); an abandoned run's engine is freed and a new one made on
 * demand.  Or, with PT_SCRIPT_PROCESS, in helper processes.
 *
 * The helper processes ("workers"): pt_script_pool_start forks a small
 * supervisor (the "zygote") at start-up, before the store is opened and
 * before threads start; it forks a worker whenever the pool needs one and
 * hands back a socket to it.  A worker sets rlimits (no core files, no
 * files written, an address-space ceiling), keeps only its socket, reads
 * the clock of no one (TZ is UTC), installs a seccomp allow-list (read and
 * write on its socket, memory, a CPU timer; sandbox.h) and then answers
 * runs one at a time.  One worker serves one caller at a time; the pool
 * starts workers on demand up to "max_workers" (the responder passes its
 * thread count, so no request ever waits for another's script).  When a
 * run overruns its timeout the caller has the zygote kill that worker
 * (SIGKILL), and the next caller that needs one gets a new one.  Besides,
 * each run arms a CPU-time timer in the worker at twice the timeout, so a
 * worker stops itself even if nobody kills it.
 *
 * Cost per run (bench/script: Knock's default script, a 1.5 KB body, a
 * dozen headers; this two-CPU VM, other work running): the engine itself
 * about 4-5 us of CPU (59,000 instructions under callgrind: ctx, the top
 * level, main, the result as JSON); on the caller's thread 6.0 us in all
 * (the frame, two timer_settime calls, the result parsed); through a
 * worker 36-51 us of CPU, most of it the round trip between processes
 * (two context switches and five system calls, about 1.1 us each on this
 * VM).  A heap takes 3-8 ms of CPU to set up, paid when an engine or a
 * worker starts (after a timeout too).
 *
 * What a script sees (script_duk.c):
 *  - ctx.vars (object of strings), ctx.headers (lower-case names, string
 *    values), ctx.rawBody (the body bytes as a string), ctx.body (the
 *    parsed body, parsed on first use).
 *  - the standard built-ins, frozen; no Duktape object, no require, no
 *    print, no performance, no Math.random (removed: a preprocess step
 *    must give the same answer when an event is rehearsed or retried),
 *    Date.now() and new Date() answer the caller's now_ms (the time the
 *    request arrived), never the machine's clock; local time is UTC.
 *  - nothing of an earlier run: globals and built-ins cannot be changed,
 *    and the top level runs afresh each time.
 *
 * Thread safety: a pool may be used by any number of threads at once; a
 * pt_script is read-only after pt_script_compile and may be shared.
 */
#ifndef PT_SCRIPT_H
#define PT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "script_pool.h"

/* Limits of one run (porter.conf(5) "preprocess"). */
#define PT_SCRIPT_TIMEOUT_DEFAULT	50	/* ms */
#define PT_SCRIPT_TIMEOUT_MAX		1000
#define PT_SCRIPT_MEMORY_DEFAULT	8192	/* kB */
#define PT_SCRIPT_MEMORY_MIN		64
#define PT_SCRIPT_MEMORY_MAX		262144	/* 256 MB */
/* The longest source accepted, and the largest result. */
#define PT_SCRIPT_SOURCE_MAX		(1024 * 1024)
#define PT_SCRIPT_RESULT_MAX		(1024 * 1024)

/* How a run (or a compile) ended; pt_script_res_code() names it. */
enum pt_script_res {
	PT_SCRIPT_OK = 0,
	PT_SCRIPT_TIMEOUT,	/* "script_timeout": ran past timeout_ms */
	PT_SCRIPT_MEMORY,	/* "script_memory": allocated past memory_kb */
	PT_SCRIPT_ERROR,	/* "script_error": threw, or main missing */
	PT_SCRIPT_BAD_RESULT,	/* "script_bad_result": not an object */
	PT_SCRIPT_SYNTAX,	/* "script_syntax": does not compile */
	PT_SCRIPT_UNAVAILABLE,	/* "script_unavailable": no worker could
				   be had (fork failed, out of memory): not
				   the script's fault, retry later */
	PT_SCRIPT__MAX
};

const char	*pt_script_res_code(enum pt_script_res);

struct pt_script;

/*
 * Check and keep a script for later runs: "src" ("len" bytes, at most
 * PT_SCRIPT_SOURCE_MAX) must compile and, when its top level has run (in
 * a worker, within the limits), define a function main.  "timeout_ms"
 * and "memory_kb" of 0 mean the defaults; larger than the maxima (or a
 * memory_kb below PT_SCRIPT_MEMORY_MIN) is PT_SCRIPT_SYNTAX with a
 * message.  "pool" NULL runs the check in a private pool of one worker
 * (porterctl; the same NOTE as pt_script_pool_start applies).
 * Returns PT_SCRIPT_OK with *out set (free with pt_script_free), or why
 * not, with the text in "why": for a syntax error "line N: <message>",
 * else "<message> at line N" as pt_script_run gives it.
 */
enum pt_script_res pt_script_compile(struct pt_script_pool *pool,
		    const char *src, size_t len, unsigned timeout_ms,
		    unsigned memory_kb, struct pt_script **out, char *why,
		    size_t whylen);
/*
 * The two halves of pt_script_compile.  pt_script_new checks the limits
 * and keeps a copy of the source without running anything (the
 * responder's stored configuration, checked when it was applied);
 * pt_script_check compiles it and runs its top level in a worker of
 * "pool" (NULL: a private pool, as above).  Same results and texts.
 */
enum pt_script_res pt_script_new(const char *src, size_t len,
		    unsigned timeout_ms, unsigned memory_kb,
		    struct pt_script **out, char *why, size_t whylen);
enum pt_script_res pt_script_check(struct pt_script_pool *pool,
		    const struct pt_script *, char *why, size_t whylen);
void		 pt_script_free(struct pt_script *);	/* NULL ok */
unsigned	 pt_script_timeout_ms(const struct pt_script *);
unsigned	 pt_script_memory_kb(const struct pt_script *);

/*
 * What a run gets.  "vars" is an object whose members are strings (any
 * other value is passed as its JSON text), or NULL for {}.  "body" is the
 * parsed body (NULL: JSON null); when the caller has its JSON text at hand
 * (the raw body it was parsed from, unchanged), "body_json" saves
 * serialising it again.  Header names must already be lower-case
 * (struct pt_header says so).  "now_ms" is what Date.now() answers.
 */
struct pt_script_ctx {
	const pt_json		*vars;
	const pt_json		*body;
	const char		*body_json;	/* or NULL */
	size_t			 body_json_len;
	const char		*raw;
	size_t			 raw_len;
	const struct pt_header	*headers;
	size_t			 nheaders;
	int64_t			 now_ms;
};

/*
 * Run main(ctx).  Returns PT_SCRIPT_OK with *out holding one reference to
 * the returned object (a JSON object; free with pt_json_put), or the
 * reason with *out NULL and a one-line text in "why":
 *	script_timeout		"ran longer than 50 ms"
 *	script_memory		"allocated more than 8192 kB"
 *	script_error		"<Name>: <message> at line N" (no line when
 *				the thrown value says none)
 *	script_bad_result	"main returned an array, not an object", ...
 *	script_unavailable	why no worker could run it
 * The log line is then "<code>: <why>" (pt_script_res_code).  No value of
 * "vars", nor a prefix of one, appears in "why": variables are secrets.
 */
enum pt_script_res pt_script_run(struct pt_script_pool *pool,
		    const struct pt_script *, const struct pt_script_ctx *,
		    pt_json **out, char *why, size_t whylen);

#endif
