/*
 * script_duk.c - the Duktape side of preprocess scripts (script_duk.h).
 * The only file that includes duktape.h.
 *
 * One heap serves every run of a worker; a run can leave nothing behind
 * for the next because:
 *  - the realm is frozen once, at set-up: every object reachable from the
 *    global object (built-ins, their prototypes, accessors) is frozen, the
 *    global object too, so no run can add, change or delete a global or a
 *    built-in;
 *  - a script's top level runs again for every run, as the body of a
 *    function (the wrapper), so its "var"s, functions and closures are new
 *    each time; the wrapper function itself is frozen (arguments.callee);
 *  - ctx and everything in it is built for the run.
 * What would carry state or reach outside is removed before the freeze:
 * the Duktape object (finalizers, coroutines, gc, env), performance.now,
 * Math.random (a generator whose state survives runs; a preprocess step
 * must give the same answer when an event is rehearsed or retried).
 * Date reads the clock the caller gives (the time the request arrived),
 * never the machine's.
 *
 * Memory: every allocation of the heap goes through alloc_cb and friends,
 * which count the bytes in use; during a run, what the run allocates
 * beyond what was in use when it started may not exceed memory_kb.  A
 * refused allocation makes Duktape collect garbage and retry, then throw
 * a RangeError; the run is reported as PT_SW_MEMORY whatever the script
 * did with that error, and its garbage is collected before the reply.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duktape.h>

#include "alloc.h"
#include "nitems.h"
#include "sandbox.h"	/* PT_SANITIZED */
#include "script_duk.h"
#include "script_guard.h"
#include "script_wire.h"

/* Compiled scripts kept per heap: an environment has at most one. */
#define CACHE_SLOTS	8

/*
 * Before every allocation: its size, and its links in the heap's list of
 * blocks, so that a heap abandoned in the middle of a run (script_guard.h)
 * can be freed without Duktape.  HDR keeps max_align_t.
 */
struct blk {
	struct blk	*prev, *next;
	size_t		 size;
};
#define HDR	((sizeof(struct blk) + _Alignof(max_align_t) - 1) & \
		    ~(_Alignof(max_align_t) - 1))

/*
 * Small blocks (most of what a run allocates: strings, objects, property
 * tables) come from free lists of the engine's own, a list for every 16
 * bytes up to 512, keeping at most SMALL_KEEP bytes in all: a run then
 * costs few calls of malloc and free, whose arenas 32 request threads
 * share.  None kept in sanitizer builds, so that ASan sees every free.
 */
#define SMALL_STEP	16
#define SMALL_MAX	512
#define SMALL_CLASSES	(SMALL_MAX / SMALL_STEP)
#ifdef PT_SANITIZED
#define SMALL_KEEP	0
#else
#define SMALL_KEEP	(256 * 1024)	/* bytes, all lists together */
#endif

struct cache_slot {
	char		*src;		/* the source as sent, or NULL */
	size_t		 len;
	uint64_t	 used;		/* last use, for eviction */
};

/* What the native helpers of a run read. */
struct run {
	const char	*body;		/* JSON text of ctx.body */
	size_t		 body_len;
	const char	*raw;		/* ctx.rawBody */
	size_t		 raw_len;
	double		 now_ms;
};

struct pt_sduk {
	duk_context		*ctx;
	struct blk		 blocks;	/* list head: every allocation */
	struct blk		*freel[SMALL_CLASSES];	/* free small blocks */
	size_t			 free_bytes;	/* what the lists keep */
	struct pt_buf		 wrap;		/* a script in its wrapper */
	size_t			 mem_used;	/* bytes held by the heap */
	size_t			 mem_limit;	/* SIZE_MAX outside runs */
	int			 mem_refused;	/* a run hit mem_limit */
	struct cache_slot	 cache[CACHE_SLOTS];
	uint64_t		 clock;		/* use counter for the cache */
	struct run		 run;
};

/*
 * The realm's set-up, called once per heap as f(global, clock, mark):
 * "clock" answers the run's now_ms; "mark", a hidden symbol (which no
 * script can name or list), marks what the walk has frozen already,
 * so that it visits each object once.
 * Override mistake: assigning e.g. "toString" or "name" to an object
 * whose prototype chain has the frozen built-in fails silently; those few
 * names become accessors that define the property on the object assigned
 * to instead (what SES calls taming), so ordinary code keeps working.
 */
static const char bootstrap_src[] =
"(function (G, clock, MARK) {\n"
"	'use strict';\n"
"	var seen = [], D = G.Date, has = Object.prototype.hasOwnProperty;\n"
"	delete G.Duktape;\n"
"	delete G.performance;\n"
"	delete Math.random;\n"
"	function Date(y, mo, d, h, mi, s, ms) {\n"
"		var n = arguments.length;\n"
"		if (!(this instanceof Date))\n"
"			return new D(clock()).toString();\n"
"		if (n === 0)\n"
"			return new D(clock());\n"
"		if (n === 1)\n"
"			return new D(y);\n"
"		return new D(y, mo, n > 2 ? d : 1, n > 3 ? h : 0,\n"
"		    n > 4 ? mi : 0, n > 5 ? s : 0, n > 6 ? ms : 0);\n"
"	}\n"
"	Date.prototype = D.prototype;\n"
"	Object.defineProperty(D.prototype, 'constructor', { value: Date,\n"
"	    writable: true, configurable: true });\n"
"	Date.now = function now() { return clock(); };\n"
"	Date.parse = D.parse;\n"
"	Date.UTC = D.UTC;\n"
"	Object.defineProperty(G, 'Date', { value: Date, writable: true,\n"
"	    configurable: true });\n"
"	function tame(o, name) {\n"
"		var d = Object.getOwnPropertyDescriptor(o, name), v;\n"
"		if (!d || !('value' in d))\n"
"			return;\n"
"		v = d.value;\n"
"		Object.defineProperty(o, name, {\n"
"			get: function () { return v; },\n"
"			set: function (nv) {\n"
"				if (this === o || Object(this) !== this)\n"
"					throw new TypeError('cannot change the built-in ' + name);\n"
"				Object.defineProperty(this, name, { value: nv,\n"
"				    writable: true, enumerable: true, configurable: true });\n"
"			},\n"
"			enumerable: d.enumerable, configurable: false\n"
"		});\n"
"	}\n"
"	['constructor', 'toString', 'toLocaleString', 'valueOf',\n"
"	    'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']\n"
"	    .forEach(function (k) { tame(Object.prototype, k); });\n"
"	[Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError,\n"
"	    URIError].forEach(function (E) {\n"
"		['constructor', 'name', 'message', 'toString'].forEach(\n"
"		    function (k) { tame(E.prototype, k); });\n"
"	});\n"
"	tame(Function.prototype, 'toString');\n"
"	function walk(o) {\n"
"		var keys, d, i;\n"
"		if (o === null || (typeof o !== 'object' && typeof o !== 'function'))\n"
"			return;\n"
"		if (has.call(o, MARK))\n"
"			return;\n"
"		if (Object.isExtensible(o))\n"
"			Object.defineProperty(o, MARK, { value: true });\n"
"		else if (seen.indexOf(o) >= 0)\n"
"			return;\n"
"		else\n"
"			seen.push(o);\n"
"		Object.freeze(o);\n"
"		keys = Object.getOwnPropertyNames(o).concat(\n"
"		    Object.getOwnPropertySymbols(o));\n"
"		for (i = 0; i < keys.length; i++) {\n"
"			d = Object.getOwnPropertyDescriptor(o, keys[i]);\n"
"			walk(d.value);\n"
"			walk(d.get);\n"
"			walk(d.set);\n"
"		}\n"
"		walk(Object.getPrototypeOf(o));\n"
"	}\n"
"	walk(G);\n"
"})";

/* The wrapper around a script (see the top); the prefix keeps line 1. */
static const char wrap_head[] = "function(){";
static const char wrap_tail[] =
    "\n;return typeof main === 'function' ? main : void 0;}";

static void
link_blk(struct pt_sduk *e, struct blk *b, size_t size)
{
	b->size = size;
	b->prev = &e->blocks;
	b->next = e->blocks.next;
	b->next->prev = b;
	e->blocks.next = b;
}

static size_t
unlink_blk(struct blk *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
	return b->size;
}

/* The size class of a small block, and the bytes a block of it holds. */
static size_t
class_of(size_t size)
{
	return (size - 1) / SMALL_STEP;
}

static size_t
class_bytes(size_t c)
{
	return (c + 1) * SMALL_STEP;
}

/* Give back every block the free lists keep. */
static void
drain_free(struct pt_sduk *e)
{
	struct blk *b;
	size_t c;

	for (c = 0; c < SMALL_CLASSES; c++) {
		while ((b = e->freel[c]) != NULL) {
			e->freel[c] = b->next;
			pt_free(b);
		}
	}
	e->free_bytes = 0;
}

/*
 * A block for "size" bytes, from its class's free list when it is small;
 * counted against the budget by the caller.
 */
static struct blk *
get_blk(struct pt_sduk *e, size_t size)
{
	struct blk *b;
	size_t c;

	if (size > SMALL_MAX)
		return pt_malloc(size + HDR);
	c = class_of(size);
	if ((b = e->freel[c]) != NULL) {
		e->freel[c] = b->next;
		e->free_bytes -= class_bytes(c);
		return b;
	}
	return pt_malloc(class_bytes(c) + HDR);
}

static void
put_blk(struct pt_sduk *e, struct blk *b)
{
	size_t c;

	if (b->size <= SMALL_MAX && e->free_bytes + class_bytes(c =
	    class_of(b->size)) <= SMALL_KEEP) {
		b->next = e->freel[c];
		e->freel[c] = b;
		e->free_bytes += class_bytes(c);
		return;
	}
	pt_free(b);
}

static void *
alloc_cb(void *udata, duk_size_t size)
{
	struct pt_sduk *e = udata;
	struct blk *b;

	if (size == 0)
		return NULL;
	if (size > e->mem_limit - e->mem_used || size > SIZE_MAX - HDR) {
		e->mem_refused = 1;
		return NULL;
	}
	if ((b = get_blk(e, size)) == NULL) {
		e->mem_refused = 1;	/* the worker's rlimit: memory too */
		return NULL;
	}
	link_blk(e, b, size);
	e->mem_used += size;
	return (unsigned char *)b + HDR;
}

static void
free_cb(void *udata, void *ptr)
{
	struct pt_sduk *e = udata;
	struct blk *b;

	if (ptr == NULL)
		return;
	b = (struct blk *)(void *)((unsigned char *)ptr - HDR);
	e->mem_used -= unlink_blk(b);
	put_blk(e, b);
}

static void *
realloc_cb(void *udata, void *ptr, duk_size_t size)
{
	struct pt_sduk *e = udata;
	struct blk *b, *nb;
	void *np;
	size_t old;

	if (ptr == NULL)
		return alloc_cb(udata, size);
	if (size == 0) {
		free_cb(udata, ptr);
		return NULL;
	}
	b = (struct blk *)(void *)((unsigned char *)ptr - HDR);
	old = b->size;
	if (size > old && (size - old > e->mem_limit - e->mem_used ||
	    size > SIZE_MAX - HDR)) {
		e->mem_refused = 1;
		return NULL;
	}
	/* Small to small in one class: the block has the room already. */
	if (old <= SMALL_MAX && size <= SMALL_MAX &&
	    class_of(old) == class_of(size)) {
		b->size = size;
		e->mem_used = e->mem_used - old + size;
		return ptr;
	}
	/* Into or out of the small classes: a new block, the bytes copied. */
	if (old <= SMALL_MAX || size <= SMALL_MAX) {
		if ((np = alloc_cb(udata, size)) == NULL)
			return NULL;
		memcpy(np, ptr, old < size ? old : size);
		free_cb(udata, ptr);
		return np;
	}
	(void)unlink_blk(b);
	if ((nb = pt_realloc(b, size + HDR)) == NULL) {
		link_blk(e, b, old);
		e->mem_refused = 1;
		return NULL;
	}
	link_blk(e, nb, size);
	e->mem_used = e->mem_used - old + size;
	return (unsigned char *)nb + HDR;
}

/*
 * Duktape's last resort (an error outside every protected call, an
 * internal assertion): nothing of the heap can be trusted.  A run on the
 * responder's thread is abandoned (script_guard.h) and its heap freed
 * without Duktape; a worker process ends, and the responder sees the
 * reply missing and starts another.
 */
static void
fatal_cb(void *udata, const char *msg)
{
	(void)udata;
	fprintf(stderr, "porter: script engine: fatal: %s\n",
	    msg ? msg : "(no message)");
	pt_sguard_fatal();
	_exit(70);
}

static struct pt_sduk *
engine_of(duk_context *ctx)
{
	duk_memory_functions mf;

	duk_get_memory_functions(ctx, &mf);
	return mf.udata;
}

/* Date's clock: the run's now_ms. */
static duk_ret_t
clock_fn(duk_context *ctx)
{
	duk_push_number(ctx, engine_of(ctx)->run.now_ms);
	return 1;
}

/* Make "this"."key" a plain property holding the value on the stack top. */
static void
settle(duk_context *ctx, const char *key)
{
	duk_push_this(ctx);
	duk_push_string(ctx, key);
	duk_dup(ctx, -3);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
	duk_pop(ctx);
}

/* The properties of ctx made on first use, by their accessors' magic. */
enum { LAZY_BODY, LAZY_RAW };
static const char *const lazy_names[] = { "body", "rawBody" };

/*
 * ctx.body and ctx.rawBody are made on first use: a script that only
 * looks at headers (the usual verification) pays nothing for the body.
 * Each becomes a plain property then, and may be assigned to.
 */
static duk_ret_t
lazy_get(duk_context *ctx)
{
	struct pt_sduk *e = engine_of(ctx);
	int which = duk_get_current_magic(ctx);

	if (which == LAZY_BODY) {
		duk_push_lstring(ctx, e->run.body, e->run.body_len);
		duk_json_decode(ctx, -1);
	} else
		duk_push_lstring(ctx, e->run.raw, e->run.raw_len);
	settle(ctx, lazy_names[which]);
	return 1;
}

static duk_ret_t
lazy_set(duk_context *ctx)
{
	settle(ctx, lazy_names[duk_get_current_magic(ctx)]);
	return 0;
}

/* The accessors above, kept frozen in the stash (a script reaches them
 * through Object.getOwnPropertyDescriptor, so they must hold nothing). */
static const struct {
	const char	*name;
	duk_c_function	 fn;
	duk_idx_t	 nargs;
	int		 magic;
} accessors[] = {
	{ "body_get", lazy_get, 0, LAZY_BODY },
	{ "body_set", lazy_set, 1, LAZY_BODY },
	{ "raw_get", lazy_get, 0, LAZY_RAW },
	{ "raw_set", lazy_set, 1, LAZY_RAW },
};

/* The realm set-up, in a protected call. */
static duk_ret_t
setup_safe(duk_context *ctx, void *udata)
{
	size_t i;

	(void)udata;
	duk_push_global_stash(ctx);
	duk_push_array(ctx);
	duk_put_prop_string(ctx, -2, "cache");
	for (i = 0; i < nitems(accessors); i++) {
		duk_push_c_function(ctx, accessors[i].fn, accessors[i].nargs);
		duk_set_magic(ctx, -1, accessors[i].magic);
		duk_freeze(ctx, -1);
		duk_put_prop_string(ctx, -2, accessors[i].name);
	}
	duk_pop(ctx);

	duk_push_string(ctx, "bootstrap");
	duk_compile_lstring_filename(ctx, DUK_COMPILE_EVAL, bootstrap_src,
	    sizeof(bootstrap_src) - 1);
	duk_call(ctx, 0);		/* -> the set-up function */
	duk_push_global_object(ctx);
	duk_push_c_function(ctx, clock_fn, 0);
	duk_push_string(ctx, DUK_HIDDEN_SYMBOL("pt_frozen"));
	duk_call(ctx, 3);
	duk_pop(ctx);
	return 0;
}

static int
heap_open(struct pt_sduk *e, char *why, size_t whylen)
{
	e->mem_used = 0;
	e->mem_limit = SIZE_MAX;
	e->mem_refused = 0;
	e->blocks.prev = e->blocks.next = &e->blocks;
	e->ctx = duk_create_heap(alloc_cb, realloc_cb, free_cb, e, fatal_cb);
	if (e->ctx == NULL) {
		snprintf(why, whylen, "cannot create a JavaScript heap");
		return -1;
	}
	if (duk_safe_call(e->ctx, setup_safe, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
		snprintf(why, whylen, "script realm set-up failed: %s",
		    duk_safe_to_string(e->ctx, -1));
		duk_destroy_heap(e->ctx);
		e->ctx = NULL;
		return -1;
	}
	duk_pop(e->ctx);
	duk_gc(e->ctx, 0);
	return 0;
}

static void
heap_close(struct pt_sduk *e)
{
	size_t i;

	if (e->ctx != NULL)
		duk_destroy_heap(e->ctx);
	e->ctx = NULL;
	drain_free(e);
	pt_buf_free(&e->wrap);
	for (i = 0; i < CACHE_SLOTS; i++) {
		pt_free(e->cache[i].src);
		e->cache[i].src = NULL;
	}
}

struct pt_sduk *
pt_sduk_new(char *why, size_t whylen)
{
	struct pt_sduk *e;

	if ((e = pt_calloc(1, sizeof(*e))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (heap_open(e, why, whylen) == -1) {
		pt_free(e);
		return NULL;
	}
	return e;
}

void
pt_sduk_free(struct pt_sduk *e)
{
	if (e == NULL)
		return;
	heap_close(e);
	pt_free(e);
}

void
pt_sduk_abandon(struct pt_sduk *e)
{
	struct blk *b, *next;

	if (e == NULL)
		return;
	if (e->blocks.next != NULL)	/* the heap was begun */
		for (b = e->blocks.next; b != &e->blocks; b = next) {
			next = b->next;
			pt_free(b);
		}
	e->ctx = NULL;
	heap_close(e);
	pt_free(e);
}

/* One decoded request. */
struct req {
	int		 op;
	uint32_t	 memory_kb;
	uint32_t	 timeout_ms;
	int64_t		 now_ms;
	const char	*src;
	size_t		 src_len;
	struct pt_sw_cur vars;		/* positioned at nvars */
	struct pt_sw_cur headers;	/* positioned at nheaders */
	const char	*raw;
	size_t		 raw_len;
	const char	*body;
	size_t		 body_len;
};

/* Skip "n" name/value pairs. */
static void
skip_pairs(struct pt_sw_cur *c, uint32_t n)
{
	size_t len;

	while (n-- > 0 && !c->bad) {
		(void)pt_sw_str(c, &len);
		(void)pt_sw_str(c, &len);
	}
}

static int
decode(const uint8_t *p, size_t len, struct req *r)
{
	struct pt_sw_cur c = { p, p + len, 0 };
	uint32_t n;
	int64_t now;

	if (len < PT_SW_REQ_HEAD - 4)
		return -1;
	r->op = p[0];
	c.p += 4;
	r->memory_kb = pt_sw_u32(&c);
	r->timeout_ms = pt_sw_u32(&c);
	if ((size_t)(c.end - c.p) < sizeof(now))
		return -1;
	memcpy(&now, c.p, sizeof(now));
	c.p += sizeof(now);
	r->now_ms = now;
	r->src = pt_sw_str(&c, &r->src_len);
	r->vars = c;
	n = pt_sw_u32(&c);
	skip_pairs(&c, n);
	r->headers = c;
	n = pt_sw_u32(&c);
	skip_pairs(&c, n);
	r->raw = pt_sw_str(&c, &r->raw_len);
	r->body = pt_sw_str(&c, &r->body_len);
	if (c.bad || c.p != c.end || (r->op != PT_SW_RUN && r->op != PT_SW_CHECK))
		return -1;
	return 0;
}

/* What a run ended with, filled by the protected calls. */
struct outcome {
	enum pt_sw_status	 status;
	uint32_t		 line;
	int			 encoding;	/* the error came from JSON */
	const char		*bad_result;	/* why the result is refused */
};

/* The "line" property of the value on top, as an error gives it. */
static uint32_t
error_line(duk_context *ctx, duk_idx_t idx)
{
	double v;
	uint32_t line = 0;

	if (!duk_is_error(ctx, idx))
		return 0;
	duk_get_prop_string(ctx, idx, "lineNumber");
	v = duk_get_number_default(ctx, -1, 0);
	if (v > 0 && v < 4294967295.0)
		line = (uint32_t)v;
	duk_pop(ctx);
	return line;
}

/*
 * Compile "src" (the source as it came) into cache slot "*slotp": first
 * alone, so that a syntax error names the script's own line and a source
 * that would close the wrapper is refused, then wrapped.  On a syntax
 * error leaves the error on the stack and returns -1.
 */
static int
compile_slot(duk_context *ctx, struct pt_sduk *e, const struct req *r,
    size_t *slotp)
{
	struct pt_buf *w = &e->wrap;
	size_t i, victim = 0;

	for (i = 0; i < CACHE_SLOTS; i++)
		if (e->cache[i].src != NULL && e->cache[i].len == r->src_len &&
		    memcmp(e->cache[i].src, r->src, r->src_len) == 0) {
			e->cache[i].used = ++e->clock;
			*slotp = i;
			return 0;
		}
	duk_push_string(ctx, "script");
	if (duk_pcompile_lstring_filename(ctx, 0, r->src, r->src_len) != 0)
		return -1;
	duk_pop(ctx);

	/* Kept in the engine, which frees it even after an abandoned run. */
	pt_buf_reset(w);
	if (pt_buf_add(w, wrap_head, sizeof(wrap_head) - 1) != PT_OK ||
	    pt_buf_add(w, r->src, r->src_len) != PT_OK ||
	    pt_buf_add(w, wrap_tail, sizeof(wrap_tail) - 1) != PT_OK) {
		pt_buf_free(w);
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	}
	duk_push_string(ctx, "script");
	if (duk_pcompile_lstring_filename(ctx, DUK_COMPILE_FUNCTION, w->data,
	    w->len) != 0) {
		pt_buf_free(w);
		return -1;
	}
	pt_buf_free(w);
	duk_get_prop_string(ctx, -1, "prototype");
	duk_freeze(ctx, -1);
	duk_pop(ctx);
	duk_freeze(ctx, -1);

	for (i = 0; i < CACHE_SLOTS; i++) {
		if (e->cache[i].src == NULL) {
			victim = i;
			break;
		}
		if (e->cache[i].used < e->cache[victim].used)
			victim = i;
	}
	pt_free(e->cache[victim].src);
	e->cache[victim].src = NULL;
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, "cache");
	duk_dup(ctx, -3);
	duk_put_prop_index(ctx, -2, (duk_uarridx_t)victim);
	duk_pop_3(ctx);
	if ((e->cache[victim].src = pt_malloc(r->src_len ? r->src_len : 1)) ==
	    NULL)
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	memcpy(e->cache[victim].src, r->src, r->src_len);
	e->cache[victim].len = r->src_len;
	e->cache[victim].used = ++e->clock;
	*slotp = victim;
	return 0;
}

/* Push an object of the name/value pairs at "c". */
static void
push_pairs(duk_context *ctx, struct pt_sw_cur c)
{
	const char *name, *value;
	size_t nlen, vlen;
	uint32_t n = pt_sw_u32(&c);

	duk_push_object(ctx);
	while (n-- > 0) {
		name = pt_sw_str(&c, &nlen);
		value = pt_sw_str(&c, &vlen);
		if (c.bad)
			break;
		duk_push_lstring(ctx, value, vlen);
		duk_put_prop_lstring(ctx, -2, name, nlen);
	}
}

/* Give the object on top a lazy "key" (see body_get). */
static void
def_lazy(duk_context *ctx, const char *key, const char *get, const char *set)
{
	duk_push_string(ctx, key);
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, get);
	duk_get_prop_string(ctx, -2, set);
	duk_remove(ctx, -3);
	duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
	    DUK_DEFPROP_SET_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}

/* The ctx argument of main. */
static void
push_ctx(duk_context *ctx, const struct req *r)
{
	duk_push_object(ctx);
	push_pairs(ctx, r->vars);
	duk_put_prop_string(ctx, -2, "vars");
	push_pairs(ctx, r->headers);
	duk_put_prop_string(ctx, -2, "headers");
	def_lazy(ctx, "rawBody", "raw_get", "raw_set");
	def_lazy(ctx, "body", "body_get", "body_set");
}

struct run_args {
	struct pt_sduk		*e;
	const struct req	*r;
	struct outcome		*o;
};

/*
 * The run, in a protected call: leaves one value, the result's JSON text
 * (or anything, when the outcome says otherwise), or throws.
 */
static duk_ret_t
run_safe(duk_context *ctx, void *udata)
{
	struct run_args *a = udata;
	size_t slot;

	if (compile_slot(ctx, a->e, a->r, &slot) == -1) {
		a->o->status = PT_SW_SYNTAX;
		return duk_throw(ctx);
	}
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, "cache");
	duk_get_prop_index(ctx, -1, (duk_uarridx_t)slot);
	duk_call(ctx, 0);			/* the top level -> main */
	if (!duk_is_function(ctx, -1)) {
		a->o->status = PT_SW_NO_MAIN;
		return 1;
	}
	if (a->r->op == PT_SW_CHECK) {
		duk_push_string(ctx, "{}");
		return 1;
	}
	push_ctx(ctx, a->r);
	duk_call(ctx, 1);
	if (!duk_is_object(ctx, -1) || duk_is_array(ctx, -1) ||
	    duk_is_function(ctx, -1)) {
		a->o->status = PT_SW_BAD_RESULT;
		a->o->bad_result = duk_is_array(ctx, -1) ? "main returned an "
		    "array, not an object" : duk_is_null(ctx, -1) ? "main "
		    "returned null, not an object" : duk_is_undefined(ctx, -1) ?
		    "main returned nothing (undefined), not an object" :
		    "main returned something other than an object";
		return 1;
	}
	a->o->encoding = 1;
	duk_json_encode(ctx, -1);
	if (!duk_is_string(ctx, -1)) {
		a->o->status = PT_SW_BAD_RESULT;
		a->o->bad_result = "main returned an object with no JSON form";
	}
	return 1;
}

/* The thrown value on top, as "Name: message" text, in a protected call. */
static duk_ret_t
describe_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_to_string(ctx, -1);
	return 1;
}

static int
reply_head(struct pt_buf *reply, enum pt_sw_status status, uint32_t line)
{
	uint8_t head[PT_SW_REPLY_HEAD] = { 0 };

	head[4] = (uint8_t)status;
	memcpy(head + 8, &line, sizeof(line));
	pt_buf_reset(reply);
	return pt_buf_add(reply, head, sizeof(head)) == PT_OK ? 0 : -1;
}

static int
reply_finish(struct pt_buf *reply)
{
	uint32_t n;

	if (reply->failed || reply->len < 4)
		return -1;
	n = (uint32_t)(reply->len - 4);
	memcpy(reply->data, &n, sizeof(n));
	return 0;
}

int
pt_sduk_handle(struct pt_sduk *e, const uint8_t *p, size_t len,
    struct pt_buf *reply)
{
	struct outcome o = { PT_SW_OK, 0, 0, NULL };
	struct run_args a;
	struct req r;
	duk_context *ctx;
	const char *text;
	duk_size_t tlen;
	char why[160];
	int rc;

	if (e->ctx == NULL && heap_open(e, why, sizeof(why)) == -1)
		return -1;
	ctx = e->ctx;
	if (decode(p, len, &r) == -1) {
		if (reply_head(reply, PT_SW_BAD_FRAME, 0) == -1)
			return -1;
		return reply_finish(reply);
	}
	e->run.body = r.body;
	e->run.body_len = r.body_len;
	e->run.raw = r.raw;
	e->run.raw_len = r.raw_len;
	e->run.now_ms = (double)r.now_ms;
	e->mem_refused = 0;
	e->mem_limit = (size_t)r.memory_kb * 1024 > SIZE_MAX - e->mem_used ?
	    SIZE_MAX : e->mem_used + (size_t)r.memory_kb * 1024;

	a.e = e;
	a.r = &r;
	a.o = &o;
	rc = duk_safe_call(ctx, run_safe, &a, 0, 1);
	if (rc != DUK_EXEC_SUCCESS) {
		o.line = error_line(ctx, -1);
		if (o.status != PT_SW_SYNTAX)
			o.status = o.encoding ? PT_SW_BAD_RESULT : PT_SW_ERROR;
		if (duk_safe_call(ctx, describe_safe, NULL, 1, 1) !=
		    DUK_EXEC_SUCCESS) {
			duk_pop(ctx);
			duk_push_string(ctx, "uncaught value");
		}
	}
	e->mem_limit = SIZE_MAX;
	if (e->mem_refused)
		o.status = PT_SW_MEMORY;

	if (reply_head(reply, o.status, o.line) == -1)
		goto fail;
	if (o.status == PT_SW_BAD_RESULT && o.bad_result != NULL)
		(void)pt_buf_adds(reply, o.bad_result);
	else if (o.status != PT_SW_NO_MAIN && o.status != PT_SW_MEMORY) {
		text = duk_get_lstring(ctx, -1, &tlen);
		if (text != NULL)
			(void)pt_buf_add(reply, text, tlen);
	}
	duk_pop(ctx);
	memset(&e->run, 0, sizeof(e->run));
	/* What the run left is unreachable; after a refused allocation it
	 * may be most of memory_kb, so it is collected now, before the
	 * reply, in this run's time rather than the next one's.  (Duktape
	 * leaves its heap consistent when an allocation fails.) */
	if (o.status == PT_SW_MEMORY)
		duk_gc(ctx, 0);
	return reply_finish(reply);
fail:
	duk_pop(ctx);
	return -1;
}
