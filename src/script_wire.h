/*
 * script_wire.h - the frames between the responder and a script worker
 * (script.c writes requests and reads replies, script_duk.c the other way
 * round; script_pool.c moves them).  Both ends are the same binary on the
 * same machine, so integers are native; the worker still checks every
 * length against the frame, and the responder checks every reply, since
 * a worker runs hostile input.
 *
 * Every frame starts with a u32: the number of bytes after it.
 *
 * Request:
 *	u32 len
 *	u8  op			PT_SW_RUN or PT_SW_CHECK
 *	u8  pad[3]
 *	u32 memory_kb		the run's allocation budget
 *	u32 timeout_ms		the run's time budget (the worker's own
 *				CPU-time backstop is twice this)
 *	i64 now_ms		what Date.now() answers
 *	str source		(str = u32 length + bytes)
 *	u32 nvars,    nvars    x (str name, str value)
 *	u32 nheaders, nheaders x (str name, str value)
 *	str raw			the body bytes
 *	str body		the parsed body as JSON text ("null" if none)
 * Reply:
 *	u32 len
 *	u8  status		enum pt_sw_status
 *	u8  pad[3]
 *	u32 line		of the error, 0 when unknown
 *	... text		the result as JSON text, or the error message
 */
#ifndef PT_SCRIPT_WIRE_H
#define PT_SCRIPT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PT_SW_RUN	1	/* run main(ctx) */
#define PT_SW_CHECK	2	/* compile, run the top level, find main */

/* What the worker says; script.c turns it into a pt_script_res. */
enum pt_sw_status {
	PT_SW_OK = 0,		/* text: the returned object as JSON */
	PT_SW_ERROR,		/* text: "<Name>: <message>" */
	PT_SW_SYNTAX,		/* text: the compiler's message */
	PT_SW_NO_MAIN,		/* the script defines no main function */
	PT_SW_MEMORY,		/* the run hit its allocation budget */
	PT_SW_BAD_RESULT,	/* text: what was wrong with the result */
	PT_SW_BAD_FRAME,	/* the request did not decode */
	PT_SW__MAX
};

#define PT_SW_REQ_HEAD	24	/* len, op + pad, memory_kb, timeout_ms,
				   now_ms */
#define PT_SW_REPLY_HEAD 12	/* len, status + pad, line */

/*
 * The largest frame either side accepts: the biggest body Porter takes
 * (conf.h PT_MAX_BODY_CAP) twice, as raw bytes and as JSON, plus room for
 * headers, variables and the source.
 */
#define PT_SW_MAX_FRAME	(40u * 1024 * 1024)

/* A cursor over a received frame. */
struct pt_sw_cur {
	const uint8_t	*p;
	const uint8_t	*end;
	int		 bad;	/* sticky: something did not fit */
};

static inline uint32_t
pt_sw_u32(struct pt_sw_cur *c)
{
	uint32_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < sizeof(v)) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, sizeof(v));
	c->p += sizeof(v);
	return v;
}

/* A length-prefixed string, borrowed from the frame; NULL when bad. */
static inline const char *
pt_sw_str(struct pt_sw_cur *c, size_t *lenp)
{
	uint32_t n = pt_sw_u32(c);
	const char *s;

	*lenp = 0;
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return NULL;
	}
	s = (const char *)c->p;
	c->p += n;
	*lenp = n;
	return s;
}

#endif
