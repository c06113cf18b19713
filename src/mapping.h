/*
 * mapping.h - event-action mappings: the twelve actions, their parameters,
 * and parameter values compiled from config and resolved against an event.
 *
 * A parameter value in config is one of:
 *	"data.assigned_to"		a path (path.h)
 *	{"value": <JSON>}		a literal
 *	{"path": "...", "default": <JSON>}  a path with a fallback
 *	{"path": ["a", "b"], ...}	the first of several paths that has a value
 *	{"path": "traits", "omit": ["name"]}  an object less some members
 *	{"field": <param value>, ...}	an object built field by field (only
 *					for "data", "properties", "settings")
 * except the "key" parameter (a workflow or audience key), where a plain
 * string is the literal key; use {"path": ...} to take it from the event.
 */
#ifndef PT_MAPPING_H
#define PT_MAPPING_H

#include <stddef.h>

#include "err.h"
#include "json.h"
#include "path.h"

/* In Knock's execution priority order: the enum order IS the run order. */
enum pt_action {
	PT_A_USERS_IDENTIFY,
	PT_A_USERS_DELETE,
	PT_A_OBJECTS_SET,
	PT_A_OBJECTS_DELETE,
	PT_A_TENANTS_SET,
	PT_A_TENANTS_DELETE,
	PT_A_OBJECTS_SUBSCRIBE,
	PT_A_OBJECTS_UNSUBSCRIBE,
	PT_A_AUDIENCES_ADD_MEMBER,
	PT_A_AUDIENCES_REMOVE_MEMBER,
	PT_A_WORKFLOWS_CANCEL,
	PT_A_WORKFLOWS_TRIGGER,
	PT_A__MAX
};

#define PT_MAX_PARAMS	10

struct pt_action_spec {
	const char	*name;
	const char	*params[PT_MAX_PARAMS];	/* NULL-terminated */
	unsigned	 required;	/* bit i: params[i] is required */
	unsigned	 builders;	/* bit i: may be an object builder */
	unsigned	 literal_key;	/* bit i: a plain string is a literal */
};

const struct pt_action_spec	*pt_action_spec(enum pt_action);
/* -1 when "name" is no action. */
int				 pt_action_lookup(const char *name);
/* Index of "param" in the action's list, or -1. */
int				 pt_action_param(enum pt_action,
				    const char *param);

enum pt_param_kind {
	PT_P_NONE,	/* not configured */
	PT_P_PATH,
	PT_P_LITERAL,
	PT_P_BUILD
};

#define PT_MAX_ALTS	8

struct pt_param {
	enum pt_param_kind	 kind;
	struct pt_path		*paths[PT_MAX_ALTS];	/* PATH: tried in order */
	size_t			 npaths;
	char			**omit;		/* PATH: members left out */
	size_t			 nomit;
	pt_json			*literal;	/* LITERAL, or PATH's default */
	int			 has_default;
	char			**names;	/* BUILD: field names */
	struct pt_param		*fields;	/* BUILD: field values */
	size_t			 nfields;
};

struct pt_mapping {
	char			*event_type;
	enum pt_action		 action;
	int			 active;
	size_t			 order;		/* position in the file */
	struct pt_param		 params[PT_MAX_PARAMS];
	pt_json			*spec;		/* the params object as written */
	char			*spec_text;	/* ... serialised once */
	struct pt_filter	*filter;	/* run only when it matches, or
						   NULL: always (filter.h) */
};

struct pt_filter;

/*
 * Compile one mapping object {"event_type", "action", "active", "params",
 * "filter"}.
 * On PT_EINVAL "err" gets "<pointer suffix>: <why>" relative to the mapping
 * ("/params/recipients: bad path: empty key in path").
 */
enum pt_err	pt_mapping_compile(const pt_json *obj, struct pt_mapping *out,
		    char *err, size_t errlen);
void		pt_mapping_clear(struct pt_mapping *);

/*
 * Resolve parameter "p" against an event.  On FOUND, *out holds a new
 * reference (NULL for JSON null).  Objects built field by field leave out
 * fields that resolve to nothing.  MISSING/MISMATCH put a sentence in "why".
 * NOTE: the value may be SHARED with "body" or the config (a reference, not
 * a copy, to keep the hot path cheap): never change it in place.
 */
enum pt_path_res pt_param_resolve(const struct pt_param *p,
		    const struct pt_roots *, pt_json **out, char *why,
		    size_t whylen);

#endif
