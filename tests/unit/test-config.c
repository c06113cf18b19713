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
	  "max_body_bytes, body_formats, form_json_fields, mappings, "
	  "public_url)" },
	{ "settings durability", "{\"settings\":{\"durability\":\"fast\"}}",
	  "/settings/durability: must be \"full\" or \"relaxed\"" },
	{ "workflow exec relative", "{\"workflows\":{\"w\":{\"exec\":[\"notify\"]}}}",
	  "/workflows/w/exec: the program must be an absolute path" },
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
			r = pt_template_eval(te->type_template, body, hdrs, &type,
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
		    strstr(text, "\"redacted\":\"sha256:") != NULL &&
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
	tu_rmdir(dir);
	return tap_done();
}
