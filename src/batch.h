/*
 * batch.h - a batch payload ({"batch": [...]}, as Segment-spec CDPs send,
 * and the documents of a reverse ETL call): one event per element, all in
 * one write.
 */
#ifndef PT_BATCH_H
#define PT_BATCH_H

#include "ctx.h"
#include "http.h"
#include "json.h"

/* Elements a batch may have. */
#define PT_MAX_BATCH	1000

struct intake;

/*
 * Identify, execute and log every element of "arr" (1 to PT_MAX_BATCH) as
 * an event of its own, with "parent"'s headers and metadata.  The answer
 * lists each element's outcome; it is 2xx only when every element was
 * accepted, replayed or logged, so that a sender retries a batch in which
 * a handler failed or an element's key was busy.
 */
int	pt_ingest_batch(struct pt_ctx *, const struct pt_req *,
	    struct pt_resp *, struct intake *parent, const pt_json *arr);

#endif
