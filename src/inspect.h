/*
 * inspect.h - what an operator looks at, built once for both porterctl and
 * the admin API (admin.c): one logged event with its action logs, and a
 * rehearsal of a payload through an environment's mappings.
 *
 * Both return a new JSON reference that the caller frees with pt_json_put.
 */
#ifndef PT_INSPECT_H
#define PT_INSPECT_H

#include <stdint.h>

#include "body.h"
#include "conf.h"
#include "err.h"
#include "ids.h"
#include "json.h"
#include "store.h"

/* pt_inspect_event flags. */
#define PT_INSPECT_RAW	0x1	/* add the body exactly as received */

/*
 * Logged event "id" as `porterctl log --json` prints it: the stored
 * metadata, the body for display ("body" when it is JSON, else "body_text"
 * when it is UTF-8, else "body_base64") and, when the event ran mappings,
 * "action_logs" (the records in PT_T_ACTIONS, in the event's order; a log
 * that is gone is left out).  With PT_INSPECT_RAW also "raw_body" (UTF-8
 * text) or "raw_body_base64".  Everything is copied out of "txn".
 * Returns PT_ENOTFOUND, PT_ECORRUPT (the record does not decode), PT_ENOMEM.
 */
enum pt_err	pt_inspect_event(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    int flags, pt_json **out);

/*
 * Rehearse: identify the roots' body (an object) with their headers (an
 * object with lower-case names; may be NULL) and preprocess result the
 * way environment "env" would, match every mapping's filter and resolve
 * and validate the mappings of the event type, touching nothing.
 * The result is `porterctl rehearse --json`'s object: source, environment,
 * event_type, status ("ok", "no_mapping" or "no_event_type"), message (no
 * event type), ok / skipped / filtered counts and "mappings" (action,
 * mapping, active, params, status "ok"/"skipped"/"filtered"/"inactive",
 * payload or error {field, message} or filter {pointer, reason}), plus Knock's rehearse counts: action_logs_count,
 * successful_action_logs_count, failed_action_logs_count and errors
 * [{field, message}], and the warnings ingest would log (no event type, an
 * unreadable timestamp).  The event is identified by pt_identify, as the
 * responder does (template, event_type_path, or a CDP source's Segment or
 * RudderStack rule).
 */
enum pt_err	pt_inspect_rehearse(const struct pt_env *env,
		    const struct pt_roots *, pt_json **out);

/*
 * The raw body of a rehearsal ("len" bytes of "text") as environment "env"
 * would take it: "content_type" picks JSON or a form (NULL: the body's
 * first byte does, pt_body_detect).  Returns PT_OK with *doc (an object),
 * PT_EINVAL with *status the responder's answer (415 or 400) and "err" its
 * code and message, or PT_ENOMEM.
 */
enum pt_err	pt_inspect_body(const struct pt_env *env,
		    const char *content_type, const char *text, size_t len,
		    pt_json **doc, int *status, struct pt_body_error *err);

/*
 * A logged event's filter by value (porterctl logs --where, GET logs
 * ?path=&value=): does "path" resolve, in logged record "meta" and its
 * body ("len" bytes, parsed as it was logged: JSON or a form), to
 * "value" (a string equal to it, or a number, boolean or null whose JSON
 * text is)?  Headers are the logged ones (credentials redacted).  Only a
 * path into the body parses it.
 */
struct pt_path;
int		pt_inspect_where(const struct pt_path *path, const char *value,
		    const pt_json *meta, const uint8_t *body, size_t len);

#endif
