/*
 * script_duk.h - the JavaScript engine side of preprocess scripts: one
 * Duktape heap that answers request frames (script_wire.h).  Runs on a
 * responder's thread under script_guard.h's deadline, or inside a script
 * worker process (script_pool.c).
 *
 * Not thread-safe: one thread at a time uses an engine.
 */
#ifndef PT_SCRIPT_DUK_H
#define PT_SCRIPT_DUK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct pt_sduk;

/*
 * A fresh heap with the script realm set up (script.h "What a script
 * sees").  NULL when out of memory or when the set-up fails, with the
 * reason in "why".
 */
struct pt_sduk	*pt_sduk_new(char *why, size_t whylen);
void		 pt_sduk_free(struct pt_sduk *);	/* NULL ok */
/*
 * Free an engine whose run was abandoned in the middle (script_guard.h):
 * every block its heap allocated, without calling Duktape.  NULL ok.
 */
void		 pt_sduk_abandon(struct pt_sduk *);

/*
 * Answer one request: "req" is the frame after its length word ("len"
 * bytes); the reply frame, length word included, replaces the contents of
 * "reply".  Returns 0, or -1 when no reply could be built (out of memory):
 * the worker must then exit.
 * NOTE: a run that hit its memory budget has its garbage collected
 * before the reply, so that the next run starts from a clean heap.
 */
int		 pt_sduk_handle(struct pt_sduk *, const uint8_t *req,
		    size_t len, struct pt_buf *reply);

#endif
