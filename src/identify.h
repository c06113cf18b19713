/*
 * identify.h - what kind of event a payload is: its type (the
 * environment's template, CDP rule or event_type_path) and its time
 * (timestamp_path).
 *
 * One code path for the responder (intake.c) and for rehearsals
 * (inspect.c), so that a rehearsal names an event exactly as ingest
 * would.
 */
#ifndef PT_IDENTIFY_H
#define PT_IDENTIFY_H

#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "json.h"

/*
 * Identify an event (its parsed body, headers and preprocess result) as
 * "env" does.  The event type is appended to "type", which is left empty
 * when there is none (or when it would be empty, hold a NUL or exceed
 * PT_EVENT_TYPE_MAX bytes); the event time goes into *event_time (µs),
 * which is left alone when there is none.  Every problem is a warning
 * appended to "warnings" (an array of strings), never a failure.
 * Returns PT_OK, or PT_ENOMEM.
 */
enum pt_err	pt_identify(const struct pt_env *env, const struct pt_roots *,
		    struct pt_buf *type, int64_t *event_time,
		    pt_json *warnings);

#endif
