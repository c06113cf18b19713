/*
 * catalog.h - source types: the templates a source's "type" selects.
 *
 * A type supplies defaults for everything an environment can set: the
 * signature scheme, where the event type, timestamp and idempotency key are,
 * the known event types and the default mappings.  Config overrides any of
 * them; `porterctl export` and `porterctl sources --types` show them.
 */
#ifndef PT_CATALOG_H
#define PT_CATALOG_H

#include <stdint.h>

#include "buf.h"
#include "json.h"

enum pt_source_kind {
	PT_KIND_WEBHOOK,	/* a sender posts signed webhooks */
	PT_KIND_CDP,		/* Segment-spec events (track/identify...) */
	PT_KIND_RETL		/* reverse ETL: Knock-REST-shaped API calls */
};

/*
 * A provider's handshake: a request that checks the endpoint instead of
 * reporting an event (Slack's url_verification wants its challenge echoed).
 * Given the verified, parsed body "doc": 0 when it is an event; 1 when it
 * is a handshake, with *event_type the type it is logged as and "answer"
 * (empty) the JSON body of the 200; -1 when out of memory.
 */
typedef int (*pt_handshake_fn)(const pt_json *doc, const char **event_type,
    struct pt_buf *answer);

struct pt_source_type {
	const char		*name;
	const char		*title;		/* "Stripe" */
	enum pt_source_kind	 kind;
	const char		*category;	/* "Billing", ... */
	const char		*scheme;	/* preset name; NULL = none */
	int			 verify;	/* default of "verify" */
	const char		*event_type_path;
	/* JSON text: a template, or an array of alternatives; NULL = none */
	const char		*event_type_template;
	const char		*event_type_rule;	/* NULL, "segment", ... */
	const char		*batch_path;		/* NULL = none */
	const char		*timestamp_path;	/* NULL = none */
	const char		*idempotency_key_path;	/* NULL = none */
	int			 idempotency_enabled;
	const char		*body_formats;	/* JSON array; NULL = ["json"] */
	const char		*form_json_fields;	/* JSON array; NULL = [] */
	const char		*event_types;	/* JSON array text */
	const char		*default_mappings;	/* JSON array text */
	const char		*notes;		/* one line for --types */
	pt_handshake_fn		 handshake;	/* NULL: none */
};

/* The type called "name", or NULL. */
const struct pt_source_type	*pt_catalog_lookup(const char *name);
/* Every type, in display order; *n gets the count. */
const struct pt_source_type	*pt_catalog_all(size_t *n);
/* The type's body_formats and form_json_fields (JSON text), defaulted. */
const char	*pt_catalog_body_formats(const struct pt_source_type *);
const char	*pt_catalog_form_json_fields(const struct pt_source_type *);

#endif
