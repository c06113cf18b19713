/*
 * catalog.c - the source type table (see catalog.h).
 */
#include "config.h"

#include <string.h>

#include "catalog.h"

static const struct pt_source_type types[] = {
	{
		.name = "custom",
		.title = "Custom source",
		.kind = PT_KIND_WEBHOOK,
		.category = "Custom",
		.scheme = "knock",
		.verify = -1,	/* on when signing keys are given */
		.event_type_path = "body.type",
		.timestamp_path = NULL,
		.idempotency_key_path = NULL,
		.idempotency_enabled = 0,
		.event_types = "[]",
		.default_mappings = "[]",
		.notes = "Any service; X-Knock-Signature: hex HMAC-SHA256 of "
		    "the body.",
	},
};

const struct pt_source_type *
pt_catalog_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const struct pt_source_type *
pt_catalog_all(size_t *n)
{
	*n = sizeof(types) / sizeof(types[0]);
	return types;
}
