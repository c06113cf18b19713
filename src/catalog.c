/*
 * catalog.c - the source type table (see catalog.h).
 *
 * Defaults follow Knock's pre-built sources (knock-sources.md §7) and each
 * provider's documented payloads.  Every value here can be overridden per
 * environment, and `porterctl export` shows the effective ones.
 */
#include "config.h"

#include <string.h>

#include "catalog.h"
#include "nitems.h"

/* The mappings of the reverse ETL documents retl.c builds. */
#define RETL_MAPPINGS "[" \
	"{\"event_type\":\"users.identify\",\"action\":\"users_identify\"," \
	"\"params\":{\"id\":\"id\",\"name\":\"data.name\",\"email\":" \
	"\"data.email\",\"phone_number\":\"data.phone_number\",\"avatar\":" \
	"\"data.avatar\",\"locale\":\"data.locale\",\"timezone\":" \
	"\"data.timezone\",\"properties\":{\"path\":\"data\",\"omit\":" \
	"[\"name\",\"email\",\"phone_number\",\"avatar\",\"locale\"," \
	"\"timezone\"]}}}," \
	"{\"event_type\":\"users.delete\",\"action\":\"users_delete\"," \
	"\"params\":{\"id\":\"id\"}}," \
	"{\"event_type\":\"objects.set\",\"action\":\"objects_set\"," \
	"\"params\":{\"collection\":\"collection\",\"id\":\"id\"," \
	"\"name\":\"data.name\",\"properties\":{\"path\":\"data\"," \
	"\"omit\":[\"name\"]}}}," \
	"{\"event_type\":\"objects.delete\",\"action\":\"objects_delete\"," \
	"\"params\":{\"collection\":\"collection\",\"id\":\"id\"}}," \
	"{\"event_type\":\"audiences.add_members\",\"action\":" \
	"\"audiences_add_member\",\"params\":{\"key\":{\"path\":\"key\"}," \
	"\"users\":\"users\",\"tenant\":\"tenant\"}}," \
	"{\"event_type\":\"audiences.remove_members\",\"action\":" \
	"\"audiences_remove_member\",\"params\":{\"key\":{\"path\":\"key\"}," \
	"\"users\":\"users\",\"tenant\":\"tenant\"}}]"

/*
 * What every reverse-ETL type shares: Knock-REST-shaped calls on the
 * endpoint with the source's bearer key, typed by the route.
 */
#define RETL_TYPE \
	.kind = PT_KIND_RETL, \
	.category = "Reverse ETL", \
	.scheme = "bearer", \
	.verify = 1, \
	.event_type_path = "body.type", \
	.event_types = "[\"users.identify\",\"users.delete\"," \
	    "\"objects.set\",\"objects.delete\"," \
	    "\"audiences.add_members\",\"audiences.remove_members\"]", \
	.default_mappings = RETL_MAPPINGS

/*
 * Slack checks a new Events API endpoint with {"type":
 * "url_verification", "challenge": C} and wants {"challenge": C} back.
 */
static int
slack_url_verification(const pt_json *doc, const char **event_type,
    struct pt_buf *answer)
{
	const char *type = pt_json_str(pt_json_get(doc, "type"), NULL), *c;
	size_t n;

	if (type == NULL || strcmp(type, "url_verification") != 0 ||
	    (c = pt_json_str(pt_json_get(doc, "challenge"), &n)) == NULL)
		return 0;
	*event_type = "url_verification";
	pt_buf_adds(answer, "{\"challenge\": ");
	pt_buf_add_json_str(answer, c, n);
	pt_buf_adds(answer, "}\n");
	return answer->failed ? -1 : 1;
}

static const struct pt_source_type types[] = {
	{
		.name = "custom",
		.title = "Custom source",
		.kind = PT_KIND_WEBHOOK,
		.category = "Custom",
		.scheme = "knock",
		.verify = -1,	/* on when signing keys are given */
		.event_type_path = "body.type",
		.event_types = "[]",
		.default_mappings = "[]",
		.notes = "Any service; X-Knock-Signature: hex HMAC-SHA256 of "
		    "the body.",
	},
	{
		.name = "stripe",
		.title = "Stripe",
		.kind = PT_KIND_WEBHOOK,
		.category = "Billing",
		.scheme = "stripe",
		.verify = 1,
		.event_type_path = "body.type",
		.timestamp_path = "body.created",
		.idempotency_key_path = "body.id",
		.idempotency_enabled = 1,
		.event_types = "[\"invoice.paid\",\"invoice.created\","
		    "\"invoice.payment_failed\",\"customer.created\","
		    "\"customer.updated\",\"customer.subscription.created\","
		    "\"customer.subscription.updated\","
		    "\"customer.subscription.deleted\",\"charge.refunded\"]",
		.default_mappings = "["
		    "{\"event_type\":\"customer.created\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"data.object.id\","
		    "\"email\":\"data.object.email\",\"name\":\"data.object.name\","
		    "\"properties\":{\"stripe_metadata\":\"data.object.metadata\","
		    "\"currency\":\"data.object.currency\"}}},"
		    "{\"event_type\":\"invoice.created\",\"action\":"
		    "\"workflows_trigger\",\"params\":{\"key\":\"invoice-created\","
		    "\"recipients\":\"data.object.customer\",\"data\":"
		    "\"data.object\"}},"
		    "{\"event_type\":\"invoice.paid\",\"action\":"
		    "\"workflows_trigger\",\"params\":{\"key\":\"invoice-paid\","
		    "\"recipients\":\"data.object.customer\",\"data\":"
		    "\"data.object\"}}]",
		.notes = "Stripe-Signature (t=, v1=); the whsec_ signing secret "
		    "as the key; event id as idempotency key.",
	},
	{
		.name = "clerk",
		.title = "Clerk",
		.kind = PT_KIND_WEBHOOK,
		.category = "Identity",
		.scheme = "clerk",
		.verify = 1,
		.event_type_path = "body.type",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "headers.svix-id",
		.idempotency_enabled = 1,
		.event_types = "[\"user.created\",\"user.updated\",\"user.deleted\","
		    "\"organization.created\",\"organization.updated\","
		    "\"organizationMembership.created\","
		    "\"organizationMembership.deleted\",\"session.created\"]",
		.default_mappings = "["
		    "{\"event_type\":\"user.created\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"data.id\",\"email\":"
		    "\"data.email_addresses[0].email_address\",\"avatar\":"
		    "\"data.image_url\",\"properties\":{\"first_name\":"
		    "\"data.first_name\",\"last_name\":\"data.last_name\","
		    "\"username\":\"data.username\"}}},"
		    "{\"event_type\":\"user.updated\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"data.id\",\"email\":"
		    "\"data.email_addresses[0].email_address\",\"avatar\":"
		    "\"data.image_url\",\"properties\":{\"first_name\":"
		    "\"data.first_name\",\"last_name\":\"data.last_name\","
		    "\"username\":\"data.username\"}}},"
		    "{\"event_type\":\"user.deleted\",\"action\":\"users_delete\","
		    "\"params\":{\"id\":\"data.id\"}},"
		    "{\"event_type\":\"organization.created\",\"action\":"
		    "\"tenants_set\",\"params\":{\"id\":\"data.id\",\"name\":"
		    "\"data.name\",\"properties\":{\"slug\":\"data.slug\"}}},"
		    "{\"event_type\":\"organization.updated\",\"action\":"
		    "\"tenants_set\",\"params\":{\"id\":\"data.id\",\"name\":"
		    "\"data.name\",\"properties\":{\"slug\":\"data.slug\"}}},"
		    "{\"event_type\":\"organizationMembership.created\",\"action\":"
		    "\"objects_subscribe\",\"params\":{\"collection\":{\"value\":"
		    "\"organizations\"},\"id\":\"data.organization.id\","
		    "\"recipients\":\"data.public_user_data.user_id\","
		    "\"properties\":{\"role\":\"data.role\"}}},"
		    "{\"event_type\":\"organizationMembership.deleted\",\"action\":"
		    "\"objects_unsubscribe\",\"params\":{\"collection\":{\"value\":"
		    "\"organizations\"},\"id\":\"data.organization.id\","
		    "\"recipients\":\"data.public_user_data.user_id\"}}]",
		.notes = "Svix headers (svix-id, svix-timestamp, svix-signature); "
		    "the whsec_ signing secret.",
	},
	{
		.name = "workos",
		.title = "WorkOS",
		.kind = PT_KIND_WEBHOOK,
		.category = "Identity",
		.scheme = "workos",
		.verify = 1,
		.event_type_path = "body.event",
		.timestamp_path = "body.created_at",
		.idempotency_key_path = "body.id",
		.idempotency_enabled = 1,
		.event_types = "[\"dsync.user.created\",\"dsync.user.updated\","
		    "\"dsync.user.deleted\",\"dsync.group.created\","
		    "\"dsync.group.updated\",\"dsync.group.deleted\","
		    "\"dsync.group.user_added\",\"dsync.group.user_removed\","
		    "\"connection.activated\",\"connection.deactivated\"]",
		.default_mappings = "["
		    "{\"event_type\":\"dsync.user.created\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"data.id\",\"email\":"
		    "{\"path\":[\"data.email\",\"data.emails[0].value\"]},"
		    "\"properties\":{\"first_name\":\"data.first_name\","
		    "\"last_name\":\"data.last_name\",\"directory_id\":"
		    "\"data.directory_id\"}}},"
		    "{\"event_type\":\"dsync.user.updated\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"data.id\",\"email\":"
		    "{\"path\":[\"data.email\",\"data.emails[0].value\"]},"
		    "\"properties\":{\"first_name\":\"data.first_name\","
		    "\"last_name\":\"data.last_name\",\"directory_id\":"
		    "\"data.directory_id\"}}},"
		    "{\"event_type\":\"dsync.user.deleted\",\"action\":"
		    "\"users_delete\",\"params\":{\"id\":\"data.id\"}},"
		    "{\"event_type\":\"dsync.group.created\",\"action\":"
		    "\"objects_set\",\"params\":{\"collection\":{\"value\":"
		    "\"groups\"},\"id\":\"data.id\",\"name\":\"data.name\"}},"
		    "{\"event_type\":\"dsync.group.updated\",\"action\":"
		    "\"objects_set\",\"params\":{\"collection\":{\"value\":"
		    "\"groups\"},\"id\":\"data.id\",\"name\":\"data.name\"}},"
		    "{\"event_type\":\"dsync.group.deleted\",\"action\":"
		    "\"objects_delete\",\"params\":{\"collection\":{\"value\":"
		    "\"groups\"},\"id\":\"data.id\"}},"
		    "{\"event_type\":\"dsync.group.user_added\",\"action\":"
		    "\"objects_subscribe\",\"params\":{\"collection\":{\"value\":"
		    "\"groups\"},\"id\":\"data.group.id\",\"recipients\":"
		    "\"data.user.id\"}},"
		    "{\"event_type\":\"dsync.group.user_removed\",\"action\":"
		    "\"objects_unsubscribe\",\"params\":{\"collection\":{\"value\":"
		    "\"groups\"},\"id\":\"data.group.id\",\"recipients\":"
		    "\"data.user.id\"}}]",
		.notes = "WorkOS-Signature (t= in milliseconds, v1=); event in "
		    "body.event.",
	},
	{
		.name = "supabase",
		.title = "Supabase",
		.kind = PT_KIND_WEBHOOK,
		.category = "Infrastructure",
		.scheme = "shared-header",
		.verify = -1,	/* a shared header only when keys are given */
		.event_type_path = "body.type",
		.event_type_template =
		    "\"{body.schema}.{body.table}:{body.type}\"",
		.event_types = "[\"auth.users:INSERT\",\"auth.users:UPDATE\","
		    "\"auth.users:DELETE\"]",
		.default_mappings = "["
		    "{\"event_type\":\"auth.users:INSERT\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"record.id\","
		    "\"email\":\"record.email\",\"properties\":"
		    "{\"path\":\"record.raw_user_meta_data\",\"default\":{}}}},"
		    "{\"event_type\":\"auth.users:UPDATE\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"record.id\","
		    "\"email\":\"record.email\",\"properties\":"
		    "{\"path\":\"record.raw_user_meta_data\",\"default\":{}}}},"
		    "{\"event_type\":\"auth.users:DELETE\",\"action\":"
		    "\"users_delete\",\"params\":{\"id\":\"old_record.id\"}}]",
		.notes = "Database webhooks: unsigned; add a secret header "
		    "(x-webhook-secret) in Supabase and a signing key here.",
	},
	{
		.name = "posthog",
		.title = "PostHog",
		.kind = PT_KIND_WEBHOOK,
		.category = "Analytics",
		.scheme = "shared-header",
		.verify = -1,
		.event_type_path = "body.event",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "body.messageId",
		.idempotency_enabled = 1,
		.event_types = "[\"$identify\",\"$set\"]",
		.default_mappings = "["
		    "{\"event_type\":\"$identify\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\",\"email\":"
		    "\"properties.$set.email\",\"name\":\"properties.$set.name\","
		    "\"properties\":{\"path\":\"properties.$set\",\"omit\":"
		    "[\"email\",\"name\"]}}},"
		    "{\"event_type\":\"$set\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\",\"email\":"
		    "\"properties.$set.email\",\"name\":\"properties.$set.name\","
		    "\"properties\":{\"path\":\"properties.$set\",\"omit\":"
		    "[\"email\",\"name\"]}}}]",
		.notes = "PostHog's Knock destination: unsigned; add a secret "
		    "header and a signing key to check it.",
	},
	{
		.name = "github",
		.title = "GitHub",
		.kind = PT_KIND_WEBHOOK,
		.category = "Developer tools",
		.scheme = "github",
		.verify = 1,
		.event_type_path = "headers.x-github-event",
		.idempotency_key_path = "headers.x-github-delivery",
		.idempotency_enabled = 1,
		.event_types = "[\"push\",\"pull_request\",\"issues\","
		    "\"issue_comment\",\"release\",\"ping\"]",
		.default_mappings = "[]",
		.notes = "X-Hub-Signature-256; the event name in X-GitHub-Event; "
		    "the delivery id as idempotency key.",
	},
	{
		.name = "shopify",
		.title = "Shopify",
		.kind = PT_KIND_WEBHOOK,
		.category = "Ecommerce",
		.scheme = "shopify",
		.verify = 1,
		.event_type_path = "headers.x-shopify-topic",
		.idempotency_key_path = "headers.x-shopify-webhook-id",
		.idempotency_enabled = 1,
		.event_types = "[\"customers/create\",\"customers/update\","
		    "\"orders/create\"]",
		.default_mappings = "["
		    "{\"event_type\":\"customers/create\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"id\",\"email\":"
		    "\"email\",\"properties\":{\"first_name\":\"first_name\","
		    "\"last_name\":\"last_name\"}}},"
		    "{\"event_type\":\"customers/update\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"id\",\"email\":"
		    "\"email\",\"properties\":{\"first_name\":\"first_name\","
		    "\"last_name\":\"last_name\"}}},"
		    "{\"event_type\":\"orders/create\",\"action\":"
		    "\"users_identify\",\"params\":{\"id\":\"customer.id\","
		    "\"email\":\"customer.email\"}},"
		    "{\"event_type\":\"orders/create\",\"action\":"
		    "\"workflows_trigger\",\"params\":{\"key\":"
		    "\"order-confirmation\",\"recipients\":\"customer.id\","
		    "\"data\":\"body\"}}]",
		.notes = "X-Shopify-Hmac-Sha256 (base64); the topic header as the "
		    "event type.",
	},
	{
		.name = "slack",
		.title = "Slack",
		.kind = PT_KIND_WEBHOOK,
		.category = "Communications",
		.scheme = "slack",
		.verify = 1,
		.event_type_path = "body.event.type",
		/*
		 * Events API (JSON): the event's type; interactivity (a form
		 * whose "payload" field is JSON): its type, "block_actions",
		 * "view_submission"...; a slash command (a form): the
		 * command, "/deploy".
		 */
		.event_type_template = "[\"{body.event.type}\","
		    "\"{body.payload.type}\",\"{body.command}\"]",
		.timestamp_path = "body.event_time",
		.idempotency_key_path = "body.event_id",
		.idempotency_enabled = 1,
		.body_formats = "[\"json\",\"form\"]",
		.form_json_fields = "[\"payload\"]",
		.event_types = "[\"app_mention\",\"message\",\"team_join\","
		    "\"block_actions\",\"view_submission\",\"shortcut\","
		    "\"message_action\"]",
		.default_mappings = "[]",
		.notes = "Events API (JSON), slash commands and interactivity "
		    "(forms): X-Slack-Signature v0; url_verification challenges "
		    "are answered.",
		.handshake = slack_url_verification,
	},
	{
		.name = "twilio",
		.title = "Twilio",
		.kind = PT_KIND_WEBHOOK,
		.category = "Communications",
		.scheme = "twilio",
		.verify = 1,
		.event_type_path = "body.MessageStatus",
		/*
		 * Status callbacks and incoming messages and calls name no
		 * event, only a status: the resource it belongs to, then the
		 * status ("message.delivered", "call.completed").  A recording
		 * callback carries its call's fields too, so it comes first;
		 * a message status callback has both MessageStatus and the
		 * older SmsStatus, an incoming message only SmsStatus.
		 */
		.event_type_template = "[\"recording.{body.RecordingStatus}\","
		    "\"message.{body.MessageStatus}\","
		    "\"message.{body.SmsStatus}\",\"call.{body.CallStatus}\"]",
		/*
		 * I-Twilio-Idempotency-Token: Twilio keeps it on a retry of
		 * the same callback (relied on widely, though not in the
		 * signing documentation); without it an event runs normally.
		 */
		.idempotency_key_path = "headers.i-twilio-idempotency-token",
		.idempotency_enabled = 1,
		.body_formats = "[\"form\",\"json\"]",
		.event_types = "[\"message.queued\",\"message.sent\","
		    "\"message.delivered\",\"message.undelivered\","
		    "\"message.failed\",\"message.read\",\"message.received\","
		    "\"call.ringing\",\"call.in-progress\",\"call.completed\","
		    "\"call.busy\",\"call.no-answer\",\"call.failed\","
		    "\"recording.completed\"]",
		.default_mappings = "[]",
		.notes = "X-Twilio-Signature over the public URL and the sorted "
		    "form fields: set public_url; the auth token as the key.",
	},
	/*
	 * CDPs: Segment-spec calls; track calls are typed by their event name
	 * (RudderStack: track/<snake_case name>), other calls by their type;
	 * {"batch": [...]} is split into one event per call.
	 */
	{
		.name = "segment",
		.title = "Segment",
		.kind = PT_KIND_CDP,
		.category = "CDP",
		.scheme = "segment",
		.verify = -1,
		.event_type_path = "body.type",
		.event_type_rule = "segment",
		.batch_path = "body.batch",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "body.messageId",
		.idempotency_enabled = 1,
		.event_types = "[\"identify\",\"group\"]",
		.default_mappings = "["
		    "{\"event_type\":\"identify\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\","
		    "\"name\":{\"path\":[\"traits.name\",\"context.traits.name\"]},"
		    "\"email\":{\"path\":[\"traits.email\","
		    "\"context.traits.email\"]},"
		    "\"avatar\":{\"path\":[\"traits.avatar\","
		    "\"context.traits.avatar\"]},"
		    "\"properties\":{\"path\":[\"traits\",\"context.traits\"],"
		    "\"omit\":[\"name\",\"email\",\"avatar\"]}}}]",
		.notes = "Webhooks (Actions) destination: X-Signature or "
		    "X-Segment-Signature, hex HMAC-SHA1 with the shared secret.",
	},
	{
		.name = "rudderstack",
		.title = "RudderStack",
		.kind = PT_KIND_CDP,
		.category = "CDP",
		.scheme = "shared-header",
		.verify = -1,
		.event_type_path = "body.type",
		.event_type_rule = "rudderstack",
		.batch_path = "body.batch",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "body.messageId",
		.idempotency_enabled = 1,
		.event_types = "[\"identify\",\"track/order_completed\"]",
		.default_mappings = "["
		    "{\"event_type\":\"identify\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\","
		    "\"name\":{\"path\":[\"context.traits.name\",\"traits.name\"]},"
		    "\"email\":{\"path\":[\"context.traits.email\","
		    "\"traits.email\"]},"
		    "\"properties\":{\"path\":[\"context.traits\",\"traits\"],"
		    "\"omit\":[\"name\",\"email\"]}}},"
		    "{\"event_type\":\"track/order_completed\",\"action\":"
		    "\"workflows_trigger\",\"params\":{\"key\":\"order-completed\","
		    "\"recipients\":\"userId\",\"data\":\"properties\"}}]",
		.notes = "Webhook destination: unsigned; add a secret header "
		    "and a signing key.",
	},
	{
		.name = "freshpaint",
		.title = "Freshpaint",
		.kind = PT_KIND_CDP,
		.category = "CDP",
		.scheme = "shared-header",
		.verify = -1,
		.event_type_path = "body.type",
		.event_type_rule = "segment",
		.batch_path = "body.batch",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "body.messageId",
		.idempotency_enabled = 1,
		.event_types = "[\"identify\"]",
		.default_mappings = "["
		    "{\"event_type\":\"identify\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\","
		    "\"name\":\"traits.name\",\"email\":\"traits.email\","
		    "\"properties\":{\"path\":\"traits\",\"omit\":[\"name\","
		    "\"email\"]}}}]",
		.notes = "Webhooks destination: unsigned; add a secret header.",
	},
	{
		.name = "jitsu",
		.title = "Jitsu",
		.kind = PT_KIND_CDP,
		.category = "CDP",
		.scheme = "shared-header",
		.verify = -1,
		.event_type_path = "body.type",
		.event_type_rule = "segment",
		.batch_path = "body.batch",
		.timestamp_path = "body.timestamp",
		.idempotency_key_path = "body.messageId",
		.idempotency_enabled = 1,
		.event_types = "[\"identify\"]",
		.default_mappings = "["
		    "{\"event_type\":\"identify\",\"action\":\"users_identify\","
		    "\"params\":{\"id\":\"userId\","
		    "\"name\":{\"path\":[\"traits.name\",\"context.traits.name\"]},"
		    "\"email\":{\"path\":[\"traits.email\","
		    "\"context.traits.email\"]},"
		    "\"properties\":{\"path\":[\"traits\",\"context.traits\"],"
		    "\"omit\":[\"name\",\"email\"]}}}]",
		.notes = "Webhook destination: unsigned; add a secret header (no "
		    "\":\" in its value).",
	},
	/*
	 * Reverse ETL: Knock-REST-shaped calls on the endpoint, with the
	 * source's bearer key (README "Reverse ETL").
	 */
	{
		.name = "hightouch",
		.title = "Hightouch",
		RETL_TYPE,
		.notes = "HTTP Request destination: PUT <endpoint>/v1/users/{id}, "
		    "POST <endpoint>/v1/audiences/{key}/members, ...",
	},
	{
		.name = "census",
		.title = "Census",
		RETL_TYPE,
		.notes = "HTTP destination: POST <endpoint>/v1/users/bulk/identify, "
		    "POST <endpoint>/v1/audiences/{key}/members.",
	},
	{
		.name = "polytomic",
		.title = "Polytomic",
		RETL_TYPE,
		.notes = "HTTP API sync: PUT <endpoint>/v1/users/{id} with the "
		    "bearer key.",
	},
};

const struct pt_source_type *
pt_catalog_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(types); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const struct pt_source_type *
pt_catalog_all(size_t *n)
{
	*n = nitems(types);
	return types;
}

const char *
pt_catalog_body_formats(const struct pt_source_type *t)
{
	/* Webhooks are JSON unless the type says otherwise. */
	return t->body_formats ? t->body_formats : "[\"json\"]";
}

const char *
pt_catalog_form_json_fields(const struct pt_source_type *t)
{
	return t->form_json_fields ? t->form_json_fields : "[]";
}
