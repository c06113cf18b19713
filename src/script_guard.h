/*
 * script_guard.h - running a preprocess script on the caller's own thread
 * within its time limit, although Debian's Duktape has no interrupt hook
 * (script.h says why it has none).
 *
 * A run arms a one-shot timer that signals this thread at the deadline.
 * The handler looks at where the thread was interrupted: if it was inside
 * Duktape's own code (the text of libduktape.so), it jumps back to the
 * start of the run (siglongjmp), abandoning the run and the heap it was
 * using; anywhere else (the C library, Porter's own helpers that Duktape
 * called, the allocator) it re-arms the timer for a millisecond and lets
 * the thread go on until it is back in Duktape.  So a run is never
 * abandoned while it holds a lock of the C library (malloc's, the time
 * zone's) or is half-way through Porter's bookkeeping, and Duktape itself
 * keeps no state outside its heap.  The caller must then throw that heap
 * away without calling into it again (script_duk.h: pt_sduk_abandon).
 *
 * Supported where the handler can read the interrupted program counter
 * (x86-64, AArch64, i386 Linux) and Duktape is a shared library;
 * elsewhere pt_sguard_init says why not, and scripts run in helper
 * processes instead (script_pool.h).
 */
#ifndef PT_SCRIPT_GUARD_H
#define PT_SCRIPT_GUARD_H

#include <stddef.h>

enum pt_sguard_res {
	PT_SGUARD_OK = 0,	/* fn returned */
	PT_SGUARD_TIMEOUT,	/* abandoned at the deadline */
	PT_SGUARD_FATAL,	/* abandoned by pt_sguard_fatal */
	PT_SGUARD_UNAVAILABLE	/* not run: no timer for this thread */
};

/*
 * Once per process, before threads start (later calls return the first
 * answer): find Duktape's code, install the signal handler, and make
 * local time UTC for every script (TZ=UTC: the worker processes do the
 * same; Porter itself reads no local time).  0, or -1 with "why".
 */
int		 pt_sguard_init(char *why, size_t whylen);

/*
 * Call fn(arg) on this thread; abandon it when it runs longer than
 * "timeout_ms" (see the top).  fn must keep everything it allocates where
 * the caller can free it after an abandoned run.  Not reentrant: fn may
 * not call pt_sguard_run.
 */
enum pt_sguard_res pt_sguard_run(unsigned timeout_ms, void (*fn)(void *),
		    void *arg);

/*
 * Duktape's fatal error (script_duk.c): inside a guarded run, abandon it
 * (PT_SGUARD_FATAL) and do not return; outside one, return.
 */
void		 pt_sguard_fatal(void);

#endif
