/*
 * test-config.c - configuration validation (JSON pointers), compilation,
 * endpoint ids, secrets, export/apply round trip, diff.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>

#include "conf.h"
#include "http.h"
#include "json.h"
#include "sig.h"
#include "tap.h"
#include "testutil.h"

#define SRC(envs) "{\"sources\":[{\"key\":\"tasks\",\"type\":\"custom\"," \
	"\"environments\":" envs "}]}"

static const struct {
	const char	*desc;
	const char	*doc;
	const char	*want;	/* substring of the error; NULL = valid */
} cases[] = {
	{ "minimal", SRC("{\"dev\":{}}"), NULL },
	{ "empty document", "{}", NULL },
	{ "not an object", "[]", "/: the configuration must be a JSON object" },
	{ "unknown top field", "{\"source\":[]}", "/source: unknown field" },
	{ "sources not an array", "{\"sources\":{}}", "/sources: must be an array" },
	{ "source without key", "{\"sources\":[{\"environments\":{\"d\":{}}}]}",
	  "/sources/0/key: required" },
	{ "bad source key", "{\"sources\":[{\"key\":\"a b\",\"environments\":"
	  "{\"d\":{}}}]}", "/sources/0/key: must be" },
	{ "unknown type", "{\"sources\":[{\"key\":\"a\",\"type\":\"nope\","
	  "\"environments\":{\"d\":{}}}]}", "/sources/0/type: unknown source type" },
	{ "no environments", "{\"sources\":[{\"key\":\"a\"}]}",
	  "/sources/0/environments: required" },
	{ "empty environments", SRC("{}"), "/sources/0/environments: must be" },
	{ "bad env name", SRC("{\"a/b\":{}}"),
	  "/sources/0/environments/a~1b: an environment name" },
	{ "unknown env field", SRC("{\"d\":{\"verfy\":true}}"),
	  "/sources/0/environments/d/verfy: unknown field" },
	{ "verify not bool", SRC("{\"d\":{\"verify\":\"yes\"}}"),
	  "/sources/0/environments/d/verify: must be true or false" },
	{ "verify without keys", SRC("{\"d\":{\"verify\":true}}"),
	  "/sources/0/environments/d/verify: true, but there are no signing_keys" },
	{ "key not object", SRC("{\"d\":{\"signing_keys\":[\"s\"]}}"),
	  "/sources/0/environments/d/signing_keys/0: a signing key must be" },
	{ "key without secret", SRC("{\"d\":{\"signing_keys\":[{}]}}"),
	  "/sources/0/environments/d/signing_keys/0/secret: required" },
	{ "empty secret", SRC("{\"d\":{\"signing_keys\":[{\"secret\":\"\"}]}}"),
	  "/sources/0/environments/d/signing_keys/0/secret: secret is empty" },
	{ "bad expires_at", SRC("{\"d\":{\"signing_keys\":[{\"secret\":\"s\","
	  "\"expires_at\":\"tomorrow\"}]}}"),
	  "/sources/0/environments/d/signing_keys/0/expires_at: not an RFC 3339" },
	{ "missing env var", SRC("{\"d\":{\"signing_keys\":[{\"secret\":"
	  "{\"env\":\"PT_TEST_NO_SUCH_VAR\"}}]}}"),
	  "signing_keys/0/secret: environment variable PT_TEST_NO_SUCH_VAR is not set" },
	{ "relative secret file", SRC("{\"d\":{\"signing_keys\":[{\"secret\":"
	  "{\"file\":\"key.txt\"}}]}}"), "must be an absolute path" },
	{ "missing secret file", SRC("{\"d\":{\"signing_keys\":[{\"secret\":"
	  "{\"file\":\"/nonexistent/key\"}}]}}"), "cannot read secret file" },
	{ "unknown redacted", SRC("{\"d\":{\"signing_keys\":[{\"secret\":"
	  "{\"redacted\":\"sha256:000000000000\"}}]}}"), "matches no key" },
	{ "bad event_type_path", SRC("{\"d\":{\"event_type_path\":\"a..b\"}}"),
	  "/sources/0/environments/d/event_type_path: bad path \"a..b\": empty key" },
	{ "event_type_path null", SRC("{\"d\":{\"event_type_path\":null}}"),
	  "event_type_path: must be a path string" },
	{ "timestamp_path null ok", SRC("{\"d\":{\"timestamp_path\":null}}"), NULL },
	{ "max_body too big", SRC("{\"d\":{\"max_body_bytes\":16777217}}"),
	  "/sources/0/environments/d/max_body_bytes: must be an integer from 1" },
	{ "max_body zero", SRC("{\"d\":{\"max_body_bytes\":0}}"), "max_body_bytes" },
	{ "idempotency without path", SRC("{\"d\":{\"idempotency\":"
	  "{\"enabled\":true}}}"),
	  "/sources/0/environments/d/idempotency/key_path: required" },
	{ "idempotency bad window", SRC("{\"d\":{\"idempotency\":{\"enabled\":"
	  "true,\"key_path\":\"id\",\"window_seconds\":0}}}"),
	  "idempotency/window_seconds: must be an integer" },
	{ "idempotency unknown", SRC("{\"d\":{\"idempotency\":{\"on\":true}}}"),
	  "idempotency/on: unknown field" },
	{ "bad endpoint id", SRC("{\"d\":{\"endpoint_id\":\"x/y\"}}"),
	  "endpoint_id: must be 8 to 128" },
	{ "duplicate endpoint", SRC("{\"d\":{\"endpoint_id\":\"src_same_id\"},"
	  "\"p\":{\"endpoint_id\":\"src_same_id\"}}"), "src_same_id is used by both" },
	{ "duplicate source", "{\"sources\":[{\"key\":\"a\",\"environments\":"
	  "{\"d\":{}}},{\"key\":\"a\",\"environments\":{\"d\":{}}}]}",
	  "/sources/1/key: source \"a\" appears twice" },
	{ "mapping unknown action", SRC("{\"d\":{\"mappings\":[{\"event_type\":"
	  "\"x\",\"action\":\"users_idntify\"}]}}"),
	  "/sources/0/environments/d/mappings/0/action: unknown action" },
	{ "mapping unknown param", SRC("{\"d\":{\"mappings\":[{\"event_type\":"
	  "\"x\",\"action\":\"users_delete\",\"params\":{\"id\":\"a\",\"nme\":"
	  "\"b\"}}]}}"), "/sources/0/environments/d/mappings/0/params/nme: "
	  "users_delete has no parameter" },
	{ "mapping bad path", SRC("{\"d\":{\"mappings\":[{\"event_type\":\"x\","
	  "\"action\":\"users_delete\",\"params\":{\"id\":\"a[x]\"}}]}}"),
	  "/sources/0/environments/d/mappings/0/params/id: bad path" },
	{ "mapping filter", SRC("{\"d\":{\"mappings\":[{\"event_type\":\"x\","
	  "\"action\":\"users_delete\",\"params\":{\"id\":\"a\"},\"filter\":"
	  "{\"body\":{\"amount\":{\"$gte\":100}}}}]}}"), NULL },
	{ "mapping bad filter operator", SRC("{\"d\":{\"mappings\":[{"
	  "\"event_type\":\"x\",\"action\":\"users_delete\",\"params\":{\"id\":"
	  "\"a\"},\"filter\":{\"body\":{\"amount\":{\"$gtee\":1}}}}]}}"),
	  "/sources/0/environments/d/mappings/0/filter/body/amount/$gtee: " },
	{ "mapping filter root", SRC("{\"d\":{\"mappings\":[{\"event_type\":"
	  "\"x\",\"action\":\"users_delete\",\"params\":{\"id\":\"a\"},"
	  "\"filter\":{\"bdy\":{}}}]}}"),
	  "/sources/0/environments/d/mappings/0/filter/bdy: " },
	{ "mapping missing required", SRC("{\"d\":{\"mappings\":[{\"event_type\":"
	  "\"x\",\"action\":\"workflows_trigger\",\"params\":{\"key\":\"w\"}}]}}"),
	  "mappings/0/params/recipients: required by workflows_trigger" },
	{ "mapping builder where not allowed", SRC("{\"d\":{\"mappings\":[{"
	  "\"event_type\":\"x\",\"action\":\"users_delete\",\"params\":{\"id\":"
	  "{\"a\":\"b\"}}}]}}"), "params/id: must be a path string" },
	{ "mapping builder ok", SRC("{\"d\":{\"mappings\":[{\"event_type\":\"x\","
	  "\"action\":\"workflows_trigger\",\"params\":{\"key\":\"w\","
	  "\"recipients\":{\"path\":\"a\",\"default\":[\"u\"]},\"data\":{\"t\":"
	  "\"data.t\",\"lit\":{\"value\":3}}}}]}}"), NULL },
	{ "body_formats form only", SRC("{\"d\":{\"body_formats\":[\"form\"]}}"),
	  NULL },
	{ "body_formats both", SRC("{\"d\":{\"body_formats\":[\"form\","
	  "\"json\"]}}"), NULL },
	{ "body_formats empty", SRC("{\"d\":{\"body_formats\":[]}}"),
	  "/sources/0/environments/d/body_formats: must be a non-empty array" },
	{ "body_formats a string", SRC("{\"d\":{\"body_formats\":\"form\"}}"),
	  "/sources/0/environments/d/body_formats: must be a non-empty array" },
	{ "body_formats null", SRC("{\"d\":{\"body_formats\":null}}"),
	  "/sources/0/environments/d/body_formats: must be a non-empty array" },
	{ "body_formats unknown", SRC("{\"d\":{\"body_formats\":[\"json\","
	  "\"xml\"]}}"), "/sources/0/environments/d/body_formats/1: must be "
	  "\"json\" or \"form\"" },
	{ "body_formats twice", SRC("{\"d\":{\"body_formats\":[\"form\","
	  "\"form\"]}}"), "/sources/0/environments/d/body_formats/1: \"form\" "
	  "is listed twice" },
	{ "form_json_fields ok", SRC("{\"d\":{\"body_formats\":[\"form\"],"
	  "\"form_json_fields\":[\"mandrill_events\"]}}"), NULL },
	{ "form_json_fields not names", SRC("{\"d\":{\"form_json_fields\":"
	  "[\"\"]}}"), "/sources/0/environments/d/form_json_fields/0: must be a "
	  "field name" },
	{ "form_json_fields twice", SRC("{\"d\":{\"form_json_fields\":[\"p\","
	  "\"p\"]}}"), "form_json_fields/1: \"p\" is listed twice" },
	{ "form_json_fields an object", SRC("{\"d\":{\"form_json_fields\":"
	  "{}}}"), "/sources/0/environments/d/form_json_fields: must be an array" },
	{ "template alternatives", SRC("{\"d\":{\"event_type_template\":"
	  "[\"a.{body.a}\",\"{body.b}\"]}}"), NULL },
	{ "template alternatives empty", SRC("{\"d\":{\"event_type_template\":"
	  "[]}}"), "/sources/0/environments/d/event_type_template: must be a "
	  "template" },
	{ "template alternative not a string", SRC("{\"d\":{"
	  "\"event_type_template\":[\"{body.a}\",3]}}"),
	  "/sources/0/environments/d/event_type_template/1: must be a template "
	  "string" },
	{ "template alternative bad", SRC("{\"d\":{\"event_type_template\":"
	  "[\"{body.a}\",\"no path\"]}}"),
	  "/sources/0/environments/d/event_type_template/1: no {path}" },
	{ "template a number", SRC("{\"d\":{\"event_type_template\":3}}"),
	  "/sources/0/environments/d/event_type_template: must be a template" },
	{ "twilio verified without public_url", "{\"sources\":[{\"key\":\"t\","
	  "\"type\":\"twilio\",\"environments\":{\"p\":{\"signing_keys\":"
	  "[{\"secret\":\"tok\"}]}}}]}",
	  "/sources/0/environments/p/public_url: required: scheme twilio signs "
	  "the URL" },
	{ "twilio verified with public_url", "{\"sources\":[{\"key\":\"t\","
	  "\"type\":\"twilio\",\"environments\":{\"p\":{\"signing_keys\":"
	  "[{\"secret\":\"tok\"}],\"public_url\":\"https://h.example.com\"}}}]}",
	  NULL },
	{ "unknown env field lists the fields", SRC("{\"d\":{\"bodyformats\":"
	  "[]}}"), "bodyformats: unknown field (want endpoint_id, verify, "
	  "signature, signing_keys, event_type_path, event_type_template, "
	  "event_type_rule, batch_path, timestamp_path, idempotency, "
	  "max_body_bytes, body_formats, form_json_fields, preprocess, mappings, "
	  "public_url)" },
	{ "settings durability", "{\"settings\":{\"durability\":\"fast\"}}",
	  "/settings/durability: must be \"full\" or \"relaxed\"" },
	{ "workflow exec relative", "{\"workflows\":{\"w\":{\"exec\":[\"notify\"]}}}",
	  "/workflows/w/exec: the program must be an absolute path" },
	{ "workflow output too big", "{\"workflows\":{\"w\":"
	  "{\"max_output_bytes\":1048577}}}", "/workflows/w/max_output_bytes: "
	  "must be an integer from 0 to 1048576 (1 MiB)" },
	{ "workflow unknown field", "{\"workflows\":{\"w\":{\"run\":[]}}}",
	  "/workflows/w/run: unknown field (want exec, cancel_exec, timeout_ms, "
	  "max_output_bytes, http)" },
	{ "http handler", "{\"workflows\":{\"w\":{\"http\":{\"url\":"
	  "\"https://app.example/h\",\"headers\":{\"X-A\":\"b\"},"
	  "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\","
	  "\"timeout_ms\":100}}}}", NULL },
	{ "http handler beside exec", "{\"workflows\":{\"w\":{\"exec\":"
	  "[\"/bin/true\"],\"http\":{\"url\":\"http://a/\"}}}}",
	  "/workflows/w: give \"http\" or \"exec\"" },
	{ "http handler without a URL", "{\"workflows\":{\"w\":{\"http\":"
	  "{}}}}", "/workflows/w/http/url: required" },
	{ "http handler URL not http", "{\"workflows\":{\"w\":{\"http\":"
	  "{\"url\":\"file:///etc/passwd\"}}}}",
	  "/workflows/w/http/url: must be an http:// or https:// URL" },
	{ "http handler bad secret", "{\"workflows\":{\"w\":{\"http\":"
	  "{\"url\":\"http://a/\",\"secret\":\"whsec_%%%\"}}}}",
	  "/workflows/w/http/secret: " },
	{ "http handler header value not a string", "{\"workflows\":{\"w\":"
	  "{\"http\":{\"url\":\"http://a/\",\"headers\":{\"X\":1}}}}}",
	  "/workflows/w/http/headers: header X: the value must be a string" },
	{ "http handler resolved secret is ours", "{\"workflows\":{\"w\":"
	  "{\"http\":{\"url\":\"http://a/\",\"value\":\"x\"}}}}",
	  "/workflows/w/http/value: unknown field (want url, headers, secret, "
	  "timeout_ms, max_output_bytes, ca_file)" },
	{ "variables", "{\"variables\":{\"A_1\":\"x\",\"B\":{\"env\":"
	  "\"HOME\"}}}", NULL },
	{ "variable name with a dash", "{\"variables\":{\"a-b\":\"x\"}}",
	  "/variables/a-b: a variable name is 1 to 64 characters" },
	{ "variable empty", "{\"variables\":{\"A\":\"\"}}",
	  "/variables/A: is empty" },
	{ "variables not an object", "{\"variables\":[]}",
	  "/variables: must be an object" },
	{ "preprocess without a script", SRC("{\"d\":{\"preprocess\":{}}}"),
	  "/sources/0/environments/d/preprocess/script: required" },
	{ "preprocess timeout too long", SRC("{\"d\":{\"preprocess\":"
	  "{\"script\":\"function main(c){return {};}\",\"timeout_ms\":"
	  "1001}}}"), "/sources/0/environments/d/preprocess/timeout_ms: must be "
	  "an integer from 1 to 1000" },
	{ "preprocess script and file", SRC("{\"d\":{\"preprocess\":"
	  "{\"script\":\"x\",\"file\":\"/etc/hostname\"}}}"),
	  "/sources/0/environments/d/preprocess/script: give \"script\" or "
	  "\"file\", not both" },
	{ "verify by a script alone", SRC("{\"d\":{\"verify\":true,"
	  "\"preprocess\":{\"script\":\"function main(c){return {};}\"}}}"),
	  NULL },
	{ "a key's resolved value is ours, not an operator's",
	  SRC("{\"d\":{\"signing_keys\":[{\"secret\":\"s\",\"value\":\"t\"}]}}"),
	  "/sources/0/environments/d/signing_keys/0/value: unknown field (want "
	  "secret, expires_at)" },
	{ "secret of an unknown form", SRC("{\"d\":{\"signing_keys\":[{\"secret\":"
	  "{\"vault\":\"x\"}}]}}"), "signing_keys/0/secret: must be a string, "
	  "{\"file\": PATH}, {\"env\": NAME} or {\"redacted\": ...}" },
	{ "unknown settings field", "{\"settings\":{\"retention\":3}}",
	  "/settings/retention: unknown field (want durability, "
	  "log_retention_days, max_store_bytes, min_free_disk_bytes)" },
	{ "unknown source field", "{\"sources\":[{\"key\":\"a\",\"kind\":1,"
	  "\"environments\":{\"d\":{}}}]}", "/sources/0/kind: unknown field "
	  "(want key, name, type, description, environments)" },
};

/* Event types from the Slack and Twilio types' template alternatives. */
static const struct {
	const char	*desc;
	const char	*source;	/* "slack" or "twilio" */
	const char	*body;
	const char	*want;		/* NULL: no alternative applies */
} typed[] = {
	{ "slack slash command", "slack", "{\"command\":\"/deploy\"}",
	  "/deploy" },
	{ "slack interactivity, before command", "slack",
	  "{\"payload\":{\"type\":\"block_actions\"},\"command\":\"x\"}",
	  "block_actions" },
	{ "slack Events API first", "slack", "{\"event\":{\"type\":"
	  "\"app_mention\"},\"payload\":{\"type\":\"x\"}}", "app_mention" },
	{ "twilio message status callback", "twilio", "{\"MessageStatus\":"
	  "\"delivered\",\"SmsStatus\":\"sent\",\"CallStatus\":\"x\"}",
	  "message.delivered" },
	{ "twilio incoming message", "twilio", "{\"SmsStatus\":\"received\","
	  "\"Body\":\"hi\"}", "message.received" },
	{ "twilio call status callback", "twilio", "{\"CallSid\":\"CA1\","
	  "\"CallStatus\":\"completed\"}", "call.completed" },
	{ "twilio recording, with its call's status", "twilio",
	  "{\"CallStatus\":\"completed\",\"RecordingStatus\":\"completed\"}",
	  "recording.completed" },
	{ "twilio without a status", "twilio", "{\"From\":\"+1\"}", NULL },
};

static pt_json *
jparse(const char *text)
{
	return pt_json_parse_trusted(text, strlen(text));
}

/* Parse and compile "text" with "old"; error text or NULL. */
static const char *
try_parse(const char *text, const struct pt_config *old,
    struct pt_config **out)
{
	static char err[1024];
	struct pt_json_error je;
	pt_json *doc;
	enum pt_err rc;

	*out = NULL;
	if (pt_json_parse(text, strlen(text), 64, &doc, &je) != PT_OK) {
		snprintf(err, sizeof(err), "json: %s", je.message);
		return err;
	}
	rc = pt_config_parse(doc, old, PT_CFG_OPERATOR, out, err, sizeof(err));
	pt_json_put(doc);
	return rc == PT_OK ? NULL : err;
}

/*
 * The diff covers every field: a base document, and one change at a time
 * (a text replaced in it, or a whole other document), each of which must
 * be reported (the line holds "want") and stored.
 */
#define D_TASKS "{\"key\":\"tasks\",\"name\":\"Task app\",\"type\":\"custom\"," \
	"\"description\":\"d\",\"environments\":{" \
	"\"dev\":{\"endpoint_id\":\"src_dev_00000001\",\"verify\":false," \
	"\"mappings\":[{\"event_type\":\"a\",\"action\":\"users_identify\"," \
	"\"params\":{\"id\":\"data.id\"}}]}," \
	"\"prod\":{\"endpoint_id\":\"src_prod_0000001\",\"signing_keys\":" \
	"[{\"secret\":\"k1\"}]}}}"
#define D_BILLING "{\"key\":\"billing\",\"type\":\"custom\",\"environments\":" \
	"{\"live\":{\"endpoint_id\":\"src_live_0000001\"}}}"
#define D_TOP "{\"settings\":{\"durability\":\"full\"},\"workflows\":" \
	"{\"wf\":{\"timeout_ms\":1000}},\"sources\":["
#define D_BASE D_TOP D_TASKS "," D_BILLING "]}"

static const struct {
	const char	*desc;
	const char	*find;		/* NULL: "replace" is the document */
	const char	*replace;
	const char	*want;		/* a line of the diff holds this */
} diff_cases[] = {
	{ "a source's name", "\"name\":\"Task app\"", "\"name\":\"Tasks\"",
	  "~ source tasks: name" },
	{ "a source's description", "\"description\":\"d\"",
	  "\"description\":\"e\"", "~ source tasks: description" },
	{ "a source's description removed", "\"description\":\"d\",", "",
	  "~ source tasks: description" },
	{ "a source's name given for the first time",
	  "{\"key\":\"billing\",", "{\"key\":\"billing\",\"name\":\"Billing\",",
	  "~ source billing: name" },
	{ "a source's type", "\"billing\",\"type\":\"custom\"",
	  "\"billing\",\"type\":\"posthog\"", "~ source billing: type" },
	{ "an environment's setting", "\"verify\":false", "\"verify\":true,"
	  "\"signing_keys\":[{\"secret\":\"k2\"}]", "~ tasks/dev: verify, "
	  "signing_keys" },
	{ "a mapping", "\"data.id\"", "\"data.user\"", "~ tasks/dev: mappings" },
	{ "a signing key", "\"k1\"", "\"k3\"", "~ tasks/prod: signing_keys" },
	{ "an endpoint id", "src_dev_00000001", "src_dev_00000002",
	  "~ tasks/dev: endpoint_id" },
	{ "an environment added", "\"live\":{", "\"test\":{},\"live\":{",
	  "+ billing/test" },
	{ "an environment removed", ",\"prod\":{\"endpoint_id\":"
	  "\"src_prod_0000001\",\"signing_keys\":[{\"secret\":\"k1\"}]}", "",
	  "- tasks/prod" },
	{ "a source removed", "," D_BILLING, "", "- billing/live" },
	{ "the sources' order", NULL, D_TOP D_BILLING "," D_TASKS "]}",
	  "~ order of the sources: billing, tasks" },
	{ "a setting", "\"full\"", "\"relaxed\"", "~ settings: durability" },
	{ "a setting given", "\"full\"}", "\"full\",\"log_retention_days\":9}",
	  "~ settings: log_retention_days" },
	{ "a workflow's field", "1000", "2000", "~ workflows: wf" },
	{ "a workflow added", "\"wf\":{", "\"wf2\":{},\"wf\":{",
	  "~ workflows: wf2" },
	{ "the workflows removed", "\"workflows\":{\"wf\":{\"timeout_ms\":"
	  "1000}},", "", "~ workflows" },
};

/*
 * Every field an environment takes, with a value other than its default:
 * the list must be the one "unknown field (want ...)" gives, each field
 * is in the normalised document, and changed alone it is what the diff
 * reports, and all it reports.
 */
#define ENV_BASE "\"endpoint_id\":\"src_base_0000001\",\"signing_keys\":" \
	"[{\"secret\":\"k1\"}]"
static const struct {
	const char	*field;
	const char	*value;		/* JSON */
} env_changes[] = {
	{ "endpoint_id",	 "\"src_other_000001\"" },
	{ "verify",		 "false" },
	{ "signature",		 "\"github\"" },
	{ "signing_keys",	 "[{\"secret\":\"k2\"}]" },
	{ "event_type_path",	 "\"body.kind\"" },
	{ "event_type_template", "\"{body.kind}\"" },
	{ "event_type_rule",	 "\"segment\"" },
	{ "batch_path",		 "\"body.items\"" },
	{ "timestamp_path",	 "\"body.at\"" },
	{ "idempotency",	 "{\"window_seconds\":60}" },
	{ "max_body_bytes",	 "1000" },
	{ "body_formats",	 "[\"form\"]" },
	{ "form_json_fields",	 "[\"payload\"]" },
	{ "preprocess",		 "{\"script\":\"function main(c) "
				 "{ return {}; }\"}" },
	{ "mappings",		 "[{\"event_type\":\"a\",\"action\":"
				 "\"users_delete\",\"params\":{\"id\":\"data.id\"}}]" },
	{ "public_url",		 "\"https://hooks.example.com\"" },
};

static void
test_env_fields(void)
{
	struct pt_buf names = { 0 }, doc = { 0 }, diff = { 0 }, want = { 0 };
	struct pt_config *base = NULL, *next = NULL;
	const char *err, *list;
	pt_json *exported;
	size_t i, changes;

	for (i = 0; i < nitems(env_changes); i++)
		pt_buf_printf(&names, "%s%s", i ? ", " : "",
		    env_changes[i].field);
	err = try_parse(SRC("{\"d\":{\"nope\":1}}"), NULL, &base);
	list = err ? strstr(err, "(want ") : NULL;
	ok(list != NULL && strncmp(list + 6, names.data, names.len) == 0 &&
	    strcmp(list + 6 + names.len, ")") == 0, "the fields an environment "
	    "takes are the ones its unknown-field message names (%s)",
	    err ? err : "accepted!");
	ok(try_parse(SRC("{\"d\":{" ENV_BASE "}}"), NULL, &base) == NULL,
	    "an environment to change field by field");
	for (i = 0; i < nitems(env_changes); i++) {
		pt_buf_reset(&doc);
		pt_buf_printf(&doc, SRC("{\"d\":{" ENV_BASE ",\"%s\":%s}}"),
		    env_changes[i].field, env_changes[i].value);
		/* The field given twice: the change replaces the base's. */
		if (strstr(ENV_BASE, env_changes[i].field) != NULL) {
			pt_buf_reset(&doc);
			pt_buf_printf(&doc, SRC("{\"d\":{\"%s\":%s%s}}"),
			    env_changes[i].field, env_changes[i].value,
			    strcmp(env_changes[i].field, "endpoint_id") == 0 ?
			    ",\"signing_keys\":[{\"secret\":\"k1\"}]" :
			    ",\"endpoint_id\":\"src_base_0000001\"");
		}
		if ((err = try_parse(doc.data, base, &next)) != NULL) {
			ok(0, "%s changed: %s", env_changes[i].field, err);
			continue;
		}
		pt_buf_reset(&diff);
		pt_buf_reset(&want);
		pt_buf_printf(&want, "~ tasks/d: %s\n", env_changes[i].field);
		changes = pt_config_diff(base, next, &diff);
		exported = pt_config_export(next, 0);
		ok(changes == 1 && strncmp(diff.data, want.data, want.len) == 0 &&
		    pt_json_get_ex(pt_json_get(pt_json_get(pt_json_index(
		    pt_json_get(exported, "sources"), 0), "environments"), "d"),
		    env_changes[i].field, NULL), "%s changed alone: in the "
		    "document, and the diff says so (%s)", env_changes[i].field,
		    diff.data);
		pt_json_put(exported);
		pt_config_free(next);
	}
	pt_config_free(base);
	pt_buf_free(&names);
	pt_buf_free(&doc);
	pt_buf_free(&diff);
	pt_buf_free(&want);
}

/*
 * What `porterctl apply` does: load, parse over the old config, diff,
 * save when something changed.  The number of changes, the diff in "out".
 */
static size_t
apply_diff(struct pt_store *s, const char *text, struct pt_buf *out)
{
	struct pt_json_error je;
	struct pt_config *old = NULL, *next = NULL;
	struct pt_txn *t;
	char err[512];
	pt_json *doc;
	size_t changes;

	pt_buf_reset(out);
	if (pt_json_parse(text, strlen(text), 64, &doc, &je) != PT_OK ||
	    pt_txn_begin(s, NULL, PT_TXN_WRITE, &t) != PT_OK)
		abort();
	if (pt_config_load(t, &old, err, sizeof(err)) != PT_OK &&
	    old == NULL)
		abort();
	if (pt_config_parse(doc, old, PT_CFG_OPERATOR, &next, err,
	    sizeof(err)) != PT_OK) {
		fprintf(stderr, "apply_diff: %s: %s\n", err, text);
		abort();
	}
	changes = pt_config_diff(old, next, out);
	if (changes > 0 && pt_config_save(t, next) != PT_OK)
		abort();
	if (pt_txn_commit(t) != PT_OK)
		abort();
	pt_json_put(doc);
	pt_config_free(old);
	pt_config_free(next);
	return changes;
}

/* The stored configuration's document equals that of "text" applied? */
static int
stored_is(struct pt_store *s, const char *text)
{
	struct pt_config *cur = NULL, *want = NULL;
	struct pt_txn *t;
	char err[512];
	int same;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_config_load(t, &cur, err, sizeof(err));
	pt_txn_abort(t);
	if (try_parse(text, cur, &want) != NULL)
		abort();
	same = cur != NULL && pt_json_equal(cur->doc, want->doc);
	pt_config_free(cur);
	pt_config_free(want);
	return same;
}

/* Each kind of field changed alone is reported and stored. */
static void
test_diff(const char *dir)
{
	struct pt_buf diff = { 0 }, doc = { 0 };
	struct pt_store *s;
	char path[600];
	const char *at;
	size_t i, changes;

	snprintf(path, sizeof(path), "%s/diff", dir);
	s = tu_store(path, 0);
	ok(apply_diff(s, D_BASE, &diff) > 0, "diff: the base applies");
	is_int(apply_diff(s, D_BASE, &diff), 0, "diff: the base again: no "
	    "changes");
	for (i = 0; i < nitems(diff_cases); i++) {
		pt_buf_reset(&doc);
		if (diff_cases[i].find == NULL)
			pt_buf_adds(&doc, diff_cases[i].replace);
		else if ((at = strstr(D_BASE, diff_cases[i].find)) != NULL) {
			pt_buf_add(&doc, D_BASE, (size_t)(at - D_BASE));
			pt_buf_adds(&doc, diff_cases[i].replace);
			pt_buf_adds(&doc, at + strlen(diff_cases[i].find));
		} else {
			ok(0, "diff: %s: the case's text is in the base",
			    diff_cases[i].desc);
			continue;
		}
		changes = apply_diff(s, doc.data, &diff);
		ok(changes > 0 && strstr(diff.data, diff_cases[i].want) != NULL,
		    "diff: %s is reported (%s)", diff_cases[i].desc,
		    diff_cases[i].want);
		if (changes == 0 || strstr(diff.data, diff_cases[i].want) == NULL)
			diag("diff: %s", diff.data);
		ok(stored_is(s, doc.data), "  ... and stored");
		ok(apply_diff(s, D_BASE, &diff) > 0 && stored_is(s, D_BASE),
		    "  ... and undone");
	}
	pt_store_close(s);
	pt_buf_free(&diff);
	pt_buf_free(&doc);
}

/* The redacted fingerprint of the first key of tasks/p in an export. */
static const char *
export_fp(const struct pt_config *c, char out[PT_FINGERPRINT_MAX])
{
	pt_json *x = pt_config_export(c, 0), *envs, *k;
	const char *fp;

	envs = pt_json_get(pt_json_index(pt_json_get(x, "sources"), 0),
	    "environments");
	k = pt_json_index(pt_json_get(pt_json_get(envs, "p"), "signing_keys"),
	    0);
	fp = pt_json_str(pt_json_get(pt_json_get(k, "secret"), "redacted"),
	    NULL);
	snprintf(out, PT_FINGERPRINT_MAX, "%s", fp ? fp : "");
	pt_json_put(x);
	return out;
}

/* The stored configuration of "s" (freed by the caller). */
static struct pt_config *
load(struct pt_store *s)
{
	struct pt_config *c = NULL;
	struct pt_txn *t;
	char err[512];

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_config_load(t, &c, err, sizeof(err));
	pt_txn_abort(t);
	return c;
}

#define WEAK_SRC SRC("{\"p\":{\"signing_keys\":[{\"secret\":\"hunter2\"}]}}")

/*
 * Fingerprints are keyed per store: stable within one, different across
 * two, not the unkeyed hash; an export applied back keeps the secret; a
 * store from before the key gets one and keeps it.
 */
static void
test_fingerprints(const char *dir)
{
	struct pt_store *s1, *s2;
	struct pt_config *c1, *c2, *c3, *next;
	struct pt_buf diff = { 0 };
	struct pt_txn *t;
	pt_json *x;
	const char *text, *err;
	char path[600], fp1[PT_FINGERPRINT_MAX], fp2[PT_FINGERPRINT_MAX];
	char fp3[PT_FINGERPRINT_MAX], legacy[64];
	uint8_t d[32];

	snprintf(path, sizeof(path), "%s/fp1", dir);
	s1 = tu_store(path, 0);
	snprintf(path, sizeof(path), "%s/fp2", dir);
	s2 = tu_store(path, 0);
	ok(tu_apply(s1, WEAK_SRC) == NULL && tu_apply(s2, WEAK_SRC) == NULL,
	    "fingerprints: the same weak secret applied to two stores");
	c1 = load(s1);
	c2 = load(s2);
	c3 = load(s1);
	ok(c1->fp_key_stored && c2->fp_key_stored,
	    "fingerprints: each store made its key at the first apply");
	export_fp(c1, fp1);
	export_fp(c3, fp3);
	export_fp(c2, fp2);
	ok(strncmp(fp1, "hmac:", 5) == 0 && strlen(fp1) == 21,
	    "fingerprints: \"hmac:\" and 16 hex digits (%s)", fp1);
	is_str(fp3, fp1, "fingerprints: same secret, same store: same "
	    "fingerprint");
	ok(strcmp(fp1, fp2) != 0, "fingerprints: same secret, two stores: "
	    "different (%s, %s)", fp1, fp2);
	pt_sha256("hunter2", 7, d);
	pt_hex_encode(d, 6, legacy);
	legacy[12] = '\0';
	ok(strstr(fp1, legacy) == NULL && strstr(fp2, legacy) == NULL,
	    "fingerprints: not the unkeyed SHA-256 prefix %s", legacy);

	/* export -> apply in the same store: a no-op that keeps the key. */
	x = pt_config_export(c1, 0);
	text = pt_json_text(x, PT_JSON_PLAIN, NULL);
	err = tu_apply(s1, text);
	ok(err == NULL, "fingerprints: export applies back (%s)", err ? err :
	    "");
	err = try_parse(text, c1, &next);
	pt_buf_reset(&diff);
	ok(err == NULL && pt_config_diff(c1, next, &diff) == 0,
	    "fingerprints: apply(export()) is a no-op");
	ok(next && memcmp(pt_config_env(next, "tasks", "p")->keys[0].secret,
	    "hunter2", 7) == 0, "fingerprints: the stored secret is kept");
	pt_config_free(next);
	/* ... but not in another store, whose key differs. */
	err = try_parse(text, c2, &next);
	ok(err != NULL && strstr(err, "matches no key") != NULL,
	    "fingerprints: another store's export matches no key (%s)",
	    err ? err : "");
	pt_config_free(next);
	pt_json_put(x);

	/* An export from before keyed fingerprints still applies. */
	snprintf(path, sizeof(path), SRC("{\"p\":{\"signing_keys\":[{"
	    "\"secret\":{\"redacted\":\"sha256:%s\"}}]}}"), legacy);
	err = try_parse(path, c1, &next);
	ok(err == NULL && next && memcmp(pt_config_env(next, "tasks",
	    "p")->keys[0].secret, "hunter2", 7) == 0,
	    "fingerprints: an old \"sha256:\" reference is still taken "
	    "(%s)", err ? err : "");
	pt_config_free(next);
	pt_config_free(c1);
	pt_config_free(c2);
	pt_config_free(c3);

	/* A store from before the key: none until made, then stable. */
	pt_txn_begin(s2, NULL, PT_TXN_WRITE, &t);
	pt_del(t, PT_T_META, "fingerprint_key", 15);
	pt_txn_commit(t);
	c1 = load(s2);
	c2 = load(s2);
	ok(!c1->fp_key_stored, "fingerprints: an old store has no key");
	ok(strcmp(export_fp(c1, fp1), export_fp(c2, fp2)) != 0,
	    "fingerprints: ... and no stable fingerprint either");
	pt_config_free(c1);
	pt_config_free(c2);
	ok(pt_config_fp_key_init(s2) == PT_OK, "fingerprints: key made for "
	    "the old store");
	c1 = load(s2);
	c2 = load(s2);
	ok(c1->fp_key_stored && strcmp(export_fp(c1, fp1),
	    export_fp(c2, fp2)) == 0, "fingerprints: stable from then on");
	ok(pt_config_fp_key_init(s2) == PT_OK, "fingerprints: making it "
	    "again is a no-op");
	c3 = load(s2);
	is_str(export_fp(c3, fp3), fp1, "fingerprints: ... that keeps the "
	    "key");
	pt_config_free(c1);
	pt_config_free(c2);
	pt_config_free(c3);
	pt_buf_free(&diff);
	pt_store_close(s1);
	pt_store_close(s2);
}

/*
 * The headers an environment depends on, worked out when it is
 * compiled: (environment JSON) -> header_deps, all_headers,
 * credential_headers.
 */
static void
test_header_deps(void)
{
	static const struct {
		const char	*desc;
		const char	*src;		/* a source object */
		const char	*deps;		/* space-separated, in order */
		int		 all;
		const char	*creds;
	} dcases[] = {
		{ "custom, knock", "{\"key\":\"a\",\"type\":\"custom\","
		  "\"environments\":{\"p\":{}}}", "x-knock-signature", 0, "" },
		{ "clerk: svix headers and the idempotency key",
		  "{\"key\":\"a\",\"type\":\"clerk\",\"environments\":{\"p\":{"
		  "\"verify\":false}}}",
		  "svix-signature svix-timestamp svix-id", 0, "" },
		{ "clerk without idempotency: the scheme still reads svix-id",
		  "{\"key\":\"a\",\"type\":\"clerk\",\"environments\":{\"p\":{"
		  "\"verify\":false,\"idempotency\":{\"enabled\":false}}}}",
		  "svix-signature svix-timestamp svix-id", 0, "" },
		{ "github: event type and delivery id from headers",
		  "{\"key\":\"a\",\"type\":\"github\",\"environments\":{\"p\":{"
		  "\"verify\":false}}}",
		  "x-hub-signature-256 x-github-event x-github-delivery", 0, "" },
		{ "shared header: a credential",
		  "{\"key\":\"a\",\"type\":\"custom\",\"environments\":{\"p\":{"
		  "\"signature\":{\"kind\":\"header\",\"header\":\"X-Hook_Key\"}}}}",
		  "x-hook-key", 0, "x-hook-key" },
		{ "bearer: authorization is a credential",
		  "{\"key\":\"a\",\"type\":\"hightouch\",\"environments\":{\"p\":{"
		  "\"verify\":false}}}",
		  "authorization", 0, "authorization" },
		{ "no signature; paths into headers",
		  "{\"key\":\"a\",\"type\":\"custom\",\"environments\":{\"p\":{"
		  "\"signature\":null,\"event_type_path\":\"headers.x-type\","
		  "\"timestamp_path\":\"headers.x-time\",\"batch_path\":"
		  "\"headers.x-batch\",\"idempotency\":{\"enabled\":true,"
		  "\"key_path\":\"headers.X_Id\"}}}}",
		  "x-type x-time x-batch x-id", 0, "" },
		{ "template and mapping parameters",
		  "{\"key\":\"a\",\"type\":\"custom\",\"environments\":{\"p\":{"
		  "\"signature\":null,\"event_type_path\":\"headers.unused\","
		  "\"event_type_template\":\"{headers.x-a}:{body.b}\","
		  "\"mappings\":[{\"event_type\":\"t\",\"action\":"
		  "\"users_identify\",\"params\":{\"id\":{\"path\":["
		  "\"headers.x-u\",\"body.id\"]},\"properties\":{\"r\":"
		  "\"headers.x-r\"}}}]}}}",
		  "x-a x-u x-r", 0, "" },
		{ "the whole headers object",
		  "{\"key\":\"a\",\"type\":\"custom\",\"environments\":{\"p\":{"
		  "\"signature\":null,\"mappings\":[{\"event_type\":\"t\","
		  "\"action\":\"users_identify\",\"params\":{\"id\":\"body.id\","
		  "\"properties\":{\"h\":\"headers\"}}}]}}}", "", 1, "" },
		{ "a CDP rule reads no header path",
		  "{\"key\":\"a\",\"type\":\"segment\",\"environments\":{\"p\":{}}}",
		  "x-signature x-segment-signature", 0, "" },
	};
	struct pt_config *c;
	const struct pt_env *e;
	struct pt_buf got = { 0 }, creds = { 0 };
	char doc[1024];
	const char *err;
	size_t i, j;

	for (i = 0; i < nitems(dcases); i++) {
		snprintf(doc, sizeof(doc), "{\"sources\":[%s]}", dcases[i].src);
		if ((err = try_parse(doc, NULL, &c)) != NULL) {
			ok(0, "header deps: %s: parses (%s)", dcases[i].desc, err);
			continue;
		}
		e = pt_config_env(c, "a", "p");
		pt_buf_reset(&got);
		pt_buf_reset(&creds);
		for (j = 0; j < e->nheader_deps; j++)
			pt_buf_printf(&got, "%s%s", j ? " " : "",
			    e->header_deps[j]);
		for (j = 0; j < e->ncredential_headers; j++)
			pt_buf_printf(&creds, "%s%s", j ? " " : "",
			    e->credential_headers[j]);
		is_str(got.data ? got.data : "", dcases[i].deps,
		    "header deps: %s", dcases[i].desc);
		is_int(e->all_headers, dcases[i].all, "header deps: %s: all "
		    "headers", dcases[i].desc);
		is_str(creds.data ? creds.data : "", dcases[i].creds,
		    "header deps: %s: credentials", dcases[i].desc);
		pt_config_free(c);
	}
	pt_buf_free(&got);
	pt_buf_free(&creds);
}

int
main(void)
{
	struct pt_config *a, *b, *c;
	struct pt_buf diff = { 0 };
	const struct pt_env *e;
	const char *err;
	char *dir = tu_tmpdir(), path[600], doc[2048];
	size_t i;
	int fd;

	for (i = 0; i < nitems(cases); i++) {
		err = try_parse(cases[i].doc, NULL, &a);
		if (cases[i].want == NULL)
			ok(err == NULL, "%s: valid (%s)", cases[i].desc,
			    err ? err : "");
		else
			ok(err != NULL && strstr(err, cases[i].want) != NULL,
			    "%s: %s", cases[i].desc, err ? err : "accepted!");
		pt_config_free(a);
	}

	/* Generated endpoint ids: src_ + 20 base32, kept across applies. */
	err = try_parse(SRC("{\"dev\":{}}"), NULL, &a);
	e = pt_config_env(a, "tasks", "dev");
	ok(err == NULL && e != NULL && strncmp(e->endpoint_id, "src_", 4) == 0 &&
	    strlen(e->endpoint_id) == 24, "endpoint id generated: %s",
	    e ? e->endpoint_id : "?");
	err = try_parse(SRC("{\"dev\":{},\"prod\":{}}"), a, &b);
	ok(err == NULL && strcmp(pt_config_env(b, "tasks", "dev")->endpoint_id,
	    e->endpoint_id) == 0, "endpoint id kept on re-apply");
	ok(strcmp(pt_config_env(b, "tasks", "prod")->endpoint_id,
	    e->endpoint_id) != 0, "new environment gets a new id");
	ok(pt_config_endpoint(b, e->endpoint_id) == pt_config_env(b, "tasks",
	    "dev"), "lookup by endpoint id");
	ok(pt_config_endpoint(b, "src_nope") == NULL, "unknown endpoint id");
	pt_config_diff(a, b, &diff);
	ok(strstr(diff.data, "+ tasks/prod  POST /receive/src_") != NULL &&
	    strstr(diff.data, "= 1 environment unchanged") != NULL,
	    "diff shows the new environment");
	pt_config_free(a);
	pt_config_free(b);

	/* Defaults: verify follows keys; custom type's event_type_path. */
	err = try_parse(SRC("{\"d\":{\"signing_keys\":[{\"secret\":\"k1\"}]},"
	    "\"u\":{}}"), NULL, &a);
	ok(err == NULL && pt_config_env(a, "tasks", "d")->verify == 1 &&
	    pt_config_env(a, "tasks", "u")->verify == 0,
	    "verify defaults to on with keys, off without");
	is_str(pt_config_env(a, "tasks", "d")->event_type_path->text, "body.type",
	    "default event_type_path");
	is_int(pt_config_env(a, "tasks", "d")->max_body, 1048576,
	    "default max_body_bytes");
	pt_config_free(a);

	/*
	 * Body formats per type: JSON unless the type takes forms (Slack,
	 * Twilio) or the environment opts in; Slack's "payload" is JSON.
	 */
	err = try_parse("{\"sources\":["
	    "{\"key\":\"c\",\"type\":\"custom\",\"environments\":"
	    "{\"d\":{},\"f\":{\"body_formats\":[\"form\"]}}},"
	    "{\"key\":\"s\",\"type\":\"slack\",\"environments\":{\"d\":"
	    "{\"verify\":false},\"p\":{\"verify\":false,"
	    "\"event_type_path\":\"body.type\"}}},"
	    "{\"key\":\"t\",\"type\":\"twilio\",\"environments\":{\"d\":"
	    "{\"verify\":false}}},"
	    "{\"key\":\"u\",\"type\":\"supabase\",\"environments\":"
	    "{\"d\":{},\"p\":{\"event_type_path\":\"body.table\"}}}]}",
	    NULL, &a);
	ok(err == NULL, "a custom, slack, twilio and supabase source (%s)",
	    err ? err : "");
	if (a != NULL) {
		const struct pt_env *sl = pt_config_env(a, "s", "d");
		const struct pt_env *tw = pt_config_env(a, "t", "d");
		struct pt_buf type = { 0 };
		char why[300];
		pt_json *body, *hdrs = pt_json_new_object();
		size_t n = 0;
		const struct pt_template *t;

		is_int(pt_config_env(a, "c", "d")->body_formats, PT_BODY_JSON,
		    "custom: JSON only by default");
		is_int(pt_config_env(a, "c", "f")->body_formats, PT_BODY_FORM,
		    "custom: form only when it says so");
		is_int(sl->body_formats, PT_BODY_JSON | PT_BODY_FORM,
		    "slack: JSON and forms");
		ok(sl->nform_json == 1 && strcmp(sl->form_json[0], "payload") ==
		    0, "slack: payload is a JSON field");
		is_int(tw->body_formats, PT_BODY_JSON | PT_BODY_FORM,
		    "twilio: forms and JSON");
		is_int(tw->nform_json, 0, "twilio: no JSON fields");
		for (t = sl->type_template; t != NULL; t = t->next)
			n++;
		is_int(n, 3, "slack: three event type alternatives");
		ok(pt_config_env(a, "s", "p")->type_template == NULL,
		    "slack: an operator's event_type_path wins over the type's "
		    "template");
		ok(pt_config_env(a, "u", "d")->type_template != NULL &&
		    pt_config_env(a, "u", "p")->type_template == NULL,
		    "supabase: the same");
		for (i = 0; i < nitems(typed); i++) {
			const struct pt_env *te = typed[i].source[0] == 's' ? sl :
			    tw;
			int r;

			body = jparse(typed[i].body);
			pt_buf_reset(&type);
			r = pt_template_eval(te->type_template,
			    &(struct pt_roots){ body, hdrs, NULL }, &type,
			    why, sizeof(why));
			if (typed[i].want != NULL)
				ok(r == 0 && strcmp(type.data, typed[i].want) == 0,
				    "%s: %s (got %s)", typed[i].desc, typed[i].want,
				    r == 0 ? type.data : why);
			else
				ok(r < 0 && type.len == 0 && strstr(why,
				    "none of the templates") != NULL,
				    "%s: none applies, nothing left (%s)",
				    typed[i].desc, why);
			pt_json_put(body);
		}
		pt_buf_free(&type);
		pt_json_put(hdrs);

		/* The new fields round-trip through the export. */
		{
			pt_json *x = pt_config_export(a, 0);

			err = try_parse(pt_json_text(x, PT_JSON_PLAIN, NULL), a, &b);
			pt_buf_reset(&diff);
			ok(err == NULL && pt_config_diff(a, b, &diff) == 0 &&
			    pt_config_env(b, "c", "f")->body_formats ==
			    PT_BODY_FORM && pt_config_env(b, "s", "p")->
			    type_template == NULL, "apply(export()) keeps "
			    "body_formats and the templates (%s)", err ? err : "");
			pt_config_free(b);
			pt_json_put(x);
		}
	}
	pt_config_free(a);

	/* Secrets from a file and from the environment. */
	snprintf(path, sizeof(path), "%s/key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (write(fd, "file-secret\n", 12) != 12)
		abort();
	close(fd);
	setenv("PT_TEST_KEY", "env-secret", 1);
	snprintf(doc, sizeof(doc), SRC("{\"p\":{\"signing_keys\":["
	    "{\"secret\":{\"file\":\"%s\"}},{\"secret\":{\"env\":\"PT_TEST_KEY\"},"
	    "\"expires_at\":\"2030-01-01T00:00:00Z\"},{\"secret\":\"inline-secret\"}"
	    "]}}"), path);
	err = try_parse(doc, NULL, &a);
	ok(err == NULL, "secret references resolve (%s)", err ? err : "");
	e = pt_config_env(a, "tasks", "p");
	ok(e && e->nkeys == 3 && e->keys[0].len == 11 &&
	    memcmp(e->keys[0].secret, "file-secret", 11) == 0,
	    "file secret read, newline dropped");
	ok(e && memcmp(e->keys[1].secret, "env-secret", 10) == 0 &&
	    e->keys[1].expires_at == 1893456000, "env secret and expiry");

	/* Export masks inline secrets; applying the export changes nothing. */
	{
		pt_json *x = pt_config_export(a, 0), *y;
		const char *text = pt_json_text(x, PT_JSON_PLAIN, NULL);

		ok(strstr(text, "inline-secret") == NULL &&
		    strstr(text, "\"redacted\":\"hmac:") != NULL &&
		    strstr(text, "\"file\":") != NULL &&
		    strstr(text, "\"env\":\"PT_TEST_KEY\"") != NULL,
		    "export masks inline secrets, keeps references");
		ok(strstr(text, "file-secret") == NULL &&
		    strstr(text, "env-secret") == NULL,
		    "export never prints resolved values");
		err = try_parse(text, a, &b);
		ok(err == NULL, "export parses back (%s)", err ? err : "");
		pt_buf_reset(&diff);
		ok(b != NULL && pt_config_diff(a, b, &diff) == 0,
		    "apply(export()) is a no-op");
		ok(b && memcmp(pt_config_env(b, "tasks", "p")->keys[2].secret,
		    "inline-secret", 13) == 0, "redacted secret restored");
		y = pt_config_export(a, 1);
		ok(strstr(pt_json_text(y, PT_JSON_PLAIN, NULL),
		    "\"inline-secret\"") != NULL, "--with-secrets shows them");
		pt_json_put(x);
		pt_json_put(y);
		pt_config_free(b);
	}

	/* Store round trip through LMDB. */
	{
		struct pt_store *s;
		struct pt_txn *t;
		char err2[512];

		snprintf(path, sizeof(path), "%s/db", dir);
		s = tu_store(path, 0);
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		ok(pt_config_save(t, a) == PT_OK && pt_txn_commit(t) == PT_OK,
		    "saved");
		is_int(a->gen, 1, "first generation is 1");
		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		ok(pt_config_load(t, &c, err2, sizeof(err2)) == PT_OK,
		    "loaded (%s)", err2);
		pt_txn_abort(t);
		pt_buf_reset(&diff);
		ok(c && c->gen == 1 && pt_config_diff(a, c, &diff) == 0,
		    "stored config equals the applied one");
		e = c ? pt_config_env(c, "tasks", "p") : NULL;
		ok(e && e->nkeys == 3 && memcmp(e->keys[0].secret, "file-secret",
		    11) == 0, "stored form keeps resolved secrets");
		pt_config_free(c);
		pt_store_close(s);
	}
	pt_config_free(a);
	pt_buf_free(&diff);

	/*
	 * Regression (fuzz-handler): a key named "out of memory" made an
	 * invalid document PT_ENOMEM (a 500 from PUT /admin/api/config).
	 */
	{
		static const char text[] = "{\"out of memory\":1}";
		struct pt_json_error je;
		struct pt_config *x = NULL;
		char xerr[256];
		pt_json *xdoc = NULL;

		pt_json_parse(text, strlen(text), 64, &xdoc, &je);
		is_int(pt_config_parse(xdoc, NULL, PT_CFG_OPERATOR, &x, xerr,
		    sizeof(xerr)), PT_EINVAL, "a key \"out of memory\" is "
		    "invalid, not out of memory");
		pt_config_free(x);
		pt_json_put(xdoc);
	}
	test_diff(dir);
	test_env_fields();
	test_fingerprints(dir);
	test_header_deps();
	tu_rmdir(dir);
	return tap_done();
}
