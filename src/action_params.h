/*
 * action_params.h - an action's parameters: resolved from the event by
 * its mapping, and validated.
 *
 * Validation follows Knock's API: ids are non-empty strings of at most 256
 * characters without "/" or "#" (integers are taken as their decimal text);
 * custom properties at most 256 KB; workflow data at most 10 MB; at most
 * 1,000 recipients (100 for subscriptions) and 1,000 audience users; a
 * string where a list of ids is expected is a one-element list.
 */
#ifndef PT_ACTION_PARAMS_H
#define PT_ACTION_PARAMS_H

#include <stddef.h>

#include "err.h"
#include "json.h"
#include "mapping.h"

/*
 * Resolve and validate one mapping against an event, touching nothing.
 * Returns PT_OK with *payload (a new reference), PT_EINVAL with
 * "field"/"msg" set when the action would be skipped, PT_ENOMEM.
 */
enum pt_err	pt_action_prepare(const struct pt_mapping *,
		    const struct pt_roots *, pt_json **payload, char *field,
		    size_t fieldlen, char *msg, size_t msglen);
/*
 * pt_action_prepare knowing "bound", the body's length (0: unknown): an
 * object shorter than a limit with room to spare is not measured.
 */
enum pt_err	pt_action_prepare_len(const struct pt_mapping *,
		    const struct pt_roots *, size_t bound, pt_json **payload,
		    char *field, size_t fieldlen, char *msg, size_t msglen);

/* Is "name" a user field (name, email, phone_number, ...)? */
int		pt_action_user_field(const char *name);

#endif
