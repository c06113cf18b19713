/*
 * test-actions.c - each action's parameter validation, table-driven
 * (pt_action_prepare: no store, no effects).
 */
#include "config.h"

#include <string.h>

#include "action_params.h"
#include "actions.h"
#include "mapping.h"
#include "tap.h"

/* The roots of an event that is only a body. */
#define BODY(b)	(&(struct pt_roots){ (b), NULL, NULL })

static const char body_text[] =
    "{\"data\":{\"id\":\"u_1\",\"num\":42,\"flt\":1.5,\"email\":\"a@b.c\","
    "\"bad_email\":\"nope\",\"phone\":\"+14155550100\",\"bad_phone\":\"555\","
    "\"name\":\"Ann\",\"slash\":\"a/b\",\"hash\":\"a#b\",\"empty\":\"\","
    "\"ids\":[\"u_1\",\"u_2\"],\"mixed\":[\"u_1\",{\"id\":\"u_3\","
    "\"email\":\"c@d.e\",\"plan\":\"pro\"},{\"id\":\"p1\",\"collection\":"
    "\"projects\",\"name\":\"P\"}],\"obj\":{\"k\":1},\"arr\":[1,2],"
    "\"nullv\":null,\"bool\":true,\"tenant\":{\"id\":\"t1\",\"name\":\"T\"},"
    "\"noid\":{\"name\":\"x\"},\"empty_list\":[]}}";

struct vcase {
	const char	*desc;
	const char	*mapping;	/* the mapping JSON */
	const char	*want;		/* NULL: ok; else "field: message part" */
	const char	*payload;	/* when ok: a substring of the payload */
};

#define M(action, params) "{\"event_type\":\"e\",\"action\":\"" action \
	"\",\"params\":" params "}"

static const struct vcase cases[] = {
	/* users_identify */
	{ "identify", M("users_identify", "{\"id\":\"data.id\",\"email\":"
	  "\"data.email\",\"name\":\"data.name\",\"phone_number\":\"data.phone\"}"),
	  NULL, "\"phone_number\":\"+14155550100\"" },
	{ "identify: integer id becomes text", M("users_identify",
	  "{\"id\":\"data.num\"}"), NULL, "\"id\":\"42\"" },
	{ "identify: float id", M("users_identify", "{\"id\":\"data.flt\"}"),
	  "id: must be a string id, not number", NULL },
	{ "identify: id missing", M("users_identify", "{\"id\":\"data.nope\"}"),
	  "id: is required but missing: data.nope is missing", NULL },
	{ "identify: id null", M("users_identify", "{\"id\":\"data.nullv\"}"),
	  "id: is required but the value is null", NULL },
	{ "identify: id with /", M("users_identify", "{\"id\":\"data.slash\"}"),
	  "id: must not contain", NULL },
	{ "identify: id with #", M("users_identify", "{\"id\":\"data.hash\"}"),
	  "id: must not contain", NULL },
	{ "identify: empty id", M("users_identify", "{\"id\":\"data.empty\"}"),
	  "id: must not be empty", NULL },
	{ "identify: id is an object", M("users_identify",
	  "{\"id\":\"data.obj\"}"), "id: must be a string id, not object", NULL },
	{ "identify: bad email", M("users_identify", "{\"id\":\"data.id\","
	  "\"email\":\"data.bad_email\"}"), "email: is not an e-mail", NULL },
	{ "identify: bad phone", M("users_identify", "{\"id\":\"data.id\","
	  "\"phone_number\":\"data.bad_phone\"}"), "phone_number: must be an "
	  "E.164", NULL },
	{ "identify: name not a string", M("users_identify", "{\"id\":"
	  "\"data.id\",\"name\":\"data.num\"}"), "name: must be a string", NULL },
	{ "identify: null email clears", M("users_identify", "{\"id\":"
	  "\"data.id\",\"email\":\"data.nullv\"}"), NULL, "\"email\":null" },
	{ "identify: optional absent is left out", M("users_identify",
	  "{\"id\":\"data.id\",\"email\":\"data.nope\"}"), NULL, "{\"id\":\"u_1\"}" },
	{ "identify: properties object", M("users_identify", "{\"id\":"
	  "\"data.id\",\"properties\":\"data.obj\"}"), NULL,
	  "\"properties\":{\"k\":1}" },
	{ "identify: properties built", M("users_identify", "{\"id\":\"data.id\","
	  "\"properties\":{\"plan\":{\"value\":\"pro\"},\"n\":\"data.num\","
	  "\"gone\":\"data.nope\"}}"), NULL, "\"properties\":{\"plan\":\"pro\","
	  "\"n\":42}" },
	{ "identify: properties not an object", M("users_identify", "{\"id\":"
	  "\"data.id\",\"properties\":\"data.arr\"}"), "properties: must be an "
	  "object, not array", NULL },
	{ "identify: default used", M("users_identify", "{\"id\":{\"path\":"
	  "\"data.nope\",\"default\":\"anon\"}}"), NULL, "\"id\":\"anon\"" },
	{ "identify: literal id", M("users_identify", "{\"id\":{\"value\":"
	  "\"fixed\"}}"), NULL, "\"id\":\"fixed\"" },
	/* users_delete */
	{ "delete user", M("users_delete", "{\"id\":\"data.id\"}"), NULL,
	  "\"id\":\"u_1\"" },
	/* objects */
	{ "objects_set", M("objects_set", "{\"collection\":{\"value\":"
	  "\"projects\"},\"id\":\"data.id\",\"name\":\"data.name\"}"), NULL,
	  "\"collection\":\"projects\"" },
	{ "objects_set: collection missing", M("objects_set", "{\"collection\":"
	  "\"data.nope\",\"id\":\"data.id\"}"), "collection: is required", NULL },
	{ "objects_delete", M("objects_delete", "{\"collection\":{\"value\":"
	  "\"projects\"},\"id\":\"data.id\"}"), NULL, "\"id\":\"u_1\"" },
	/* tenants */
	{ "tenants_set", M("tenants_set", "{\"id\":\"data.id\",\"settings\":"
	  "\"data.obj\"}"), NULL, "\"settings\":{\"k\":1}" },
	{ "tenants_set: settings not object", M("tenants_set", "{\"id\":"
	  "\"data.id\",\"settings\":\"data.name\"}"), "settings: must be an "
	  "object", NULL },
	{ "tenants_delete", M("tenants_delete", "{\"id\":\"data.id\"}"), NULL,
	  "\"id\":\"u_1\"" },
	/* subscriptions */
	{ "subscribe: one id becomes a list", M("objects_subscribe",
	  "{\"collection\":{\"value\":\"projects\"},\"id\":{\"value\":\"p1\"},"
	  "\"recipients\":\"data.id\"}"), NULL,
	  "\"recipients\":[{\"collection\":\"$users\",\"id\":\"u_1\"}]" },
	{ "subscribe: mixed recipients", M("objects_subscribe",
	  "{\"collection\":{\"value\":\"projects\"},\"id\":{\"value\":\"p1\"},"
	  "\"recipients\":\"data.mixed\"}"), NULL,
	  "{\"collection\":\"projects\",\"id\":\"p1\",\"name\":\"P\"}" },
	{ "subscribe: empty list", M("objects_subscribe", "{\"collection\":"
	  "{\"value\":\"projects\"},\"id\":{\"value\":\"p1\"},\"recipients\":"
	  "\"data.empty_list\"}"), "recipients: must not be empty", NULL },
	{ "subscribe: recipient without id", M("objects_subscribe",
	  "{\"collection\":{\"value\":\"projects\"},\"id\":{\"value\":\"p1\"},"
	  "\"recipients\":\"data.noid\"}"), "recipients.id: is missing", NULL },
	{ "subscribe: boolean recipient", M("objects_subscribe",
	  "{\"collection\":{\"value\":\"projects\"},\"id\":{\"value\":\"p1\"},"
	  "\"recipients\":\"data.bool\"}"), "recipients: a recipient must be",
	  NULL },
	{ "unsubscribe", M("objects_unsubscribe", "{\"collection\":{\"value\":"
	  "\"projects\"},\"id\":{\"value\":\"p1\"},\"recipients\":\"data.ids\"}"),
	  NULL, "\"id\":\"u_2\"" },
	/* audiences */
	{ "audience add: key literal, users list", M("audiences_add_member",
	  "{\"key\":\"beta\",\"users\":\"data.ids\"}"), NULL,
	  "{\"key\":\"beta\",\"users\":[\"u_1\",\"u_2\"]}" },
	{ "audience add: one user", M("audiences_add_member", "{\"key\":\"beta\","
	  "\"users\":\"data.id\"}"), NULL, "\"users\":[\"u_1\"]" },
	{ "audience add: users from objects", M("audiences_add_member",
	  "{\"key\":\"beta\",\"users\":\"data.mixed\"}"), NULL,
	  "\"users\":[\"u_1\",\"u_3\",\"p1\"]" },
	{ "audience add: tenant", M("audiences_add_member", "{\"key\":\"beta\","
	  "\"users\":\"data.id\",\"tenant\":{\"value\":\"t1\"}}"), NULL,
	  "\"tenant\":\"t1\"" },
	{ "audience add: empty list", M("audiences_add_member", "{\"key\":"
	  "\"beta\",\"users\":\"data.empty_list\"}"), "users: must not be empty",
	  NULL },
	{ "audience add: bad element", M("audiences_add_member", "{\"key\":"
	  "\"beta\",\"users\":{\"value\":[\"ok\",\"b/ad\"]}}"), "users[1]: must "
	  "not contain", NULL },
	{ "audience add: a user object outside a list", M("audiences_add_member",
	  "{\"key\":\"beta\",\"users\":{\"value\":{\"id\":\"u_1\"}}}"),
	  "users: must be a string id, not object", NULL },
	{ "audience remove: users missing", M("audiences_remove_member",
	  "{\"key\":\"beta\",\"users\":\"data.nope\"}"), "users: is required",
	  NULL },
	{ "audience: key from the payload", M("audiences_add_member",
	  "{\"key\":{\"path\":\"data.name\"},\"users\":\"data.id\"}"), NULL,
	  "\"key\":\"Ann\"" },
	/* workflows */
	{ "trigger", M("workflows_trigger", "{\"key\":\"welcome\",\"recipients\":"
	  "\"data.id\",\"actor\":\"data.id\",\"data\":{\"e\":\"data.email\"},"
	  "\"cancellation_key\":\"data.num\"}"), NULL,
	  "\"cancellation_key\":\"42\"" },
	{ "trigger: inline tenant", M("workflows_trigger", "{\"key\":\"w\","
	  "\"recipients\":\"data.id\",\"tenant\":\"data.tenant\"}"), NULL,
	  "\"tenant\":{\"id\":\"t1\",\"name\":\"T\"}" },
	{ "trigger: data not an object", M("workflows_trigger", "{\"key\":\"w\","
	  "\"recipients\":\"data.id\",\"data\":\"data.arr\"}"), "data: must be an "
	  "object", NULL },
	{ "trigger: recipients missing", M("workflows_trigger", "{\"key\":\"w\","
	  "\"recipients\":\"data.nope\"}"), "recipients: is required but missing",
	  NULL },
	{ "trigger: recipients wrong type", M("workflows_trigger", "{\"key\":"
	  "\"w\",\"recipients\":\"data.flt\"}"), "recipients: a recipient must be",
	  NULL },
	{ "trigger: bad element", M("workflows_trigger", "{\"key\":\"w\","
	  "\"recipients\":{\"value\":[\"ok\",\"b/ad\"]}}"), "recipients[1]: must "
	  "not contain", NULL },
	{ "trigger: key with /", M("workflows_trigger", "{\"key\":\"a/b\","
	  "\"recipients\":\"data.id\"}"), "key: must not contain", NULL },
	{ "cancel", M("workflows_cancel", "{\"key\":\"w\",\"cancellation_key\":"
	  "\"data.id\"}"), NULL, "\"cancellation_key\":\"u_1\"" },
	{ "cancel: key missing", M("workflows_cancel", "{\"key\":\"w\","
	  "\"cancellation_key\":\"data.nope\"}"), "cancellation_key: is required",
	  NULL },
};

/* Recipients limits: 1,001 recipients, 101 for subscriptions. */
static void
limits(void)
{
	struct pt_buf b = { 0 }, mb = { 0 };
	struct pt_json_error je;
	struct pt_mapping m;
	pt_json *body, *mj, *payload;
	char field[64], msg[400], err[400];
	size_t i;

	pt_buf_adds(&b, "{\"many\":[");
	for (i = 0; i < 1001; i++)
		pt_buf_printf(&b, "%s\"u%zu\"", i ? "," : "", i);
	pt_buf_adds(&b, "],\"hundred\":[");
	for (i = 0; i < 100; i++)
		pt_buf_printf(&b, "%s\"u%zu\"", i ? "," : "", i);
	pt_buf_adds(&b, "],\"big\":{\"s\":\"");
	for (i = 0; i < 270000; i++)
		pt_buf_addc(&b, 'x');
	pt_buf_adds(&b, "\"}}");
	pt_json_parse(b.data, b.len, 64, &body, &je);

	pt_buf_adds(&mb, M("workflows_trigger", "{\"key\":\"w\",\"recipients\":"
	    "\"many\"}"));
	mj = pt_json_parse_trusted(mb.data, mb.len);
	pt_mapping_compile(mj, &m, err, sizeof(err));
	ok(pt_action_prepare(&m, BODY(body), &payload, field, sizeof(field), msg,
	    sizeof(msg)) == PT_EINVAL && strcmp(field, "recipients") == 0 &&
	    strstr(msg, "1001 entries; the limit is 1000"),
	    "1,001 recipients skip: %s", msg);
	pt_mapping_clear(&m);
	pt_json_put(mj);

	pt_buf_reset(&mb);
	pt_buf_adds(&mb, M("audiences_add_member", "{\"key\":\"a\",\"users\":"
	    "\"many\"}"));
	mj = pt_json_parse_trusted(mb.data, mb.len);
	pt_mapping_compile(mj, &m, err, sizeof(err));
	ok(pt_action_prepare(&m, BODY(body), &payload, field, sizeof(field), msg,
	    sizeof(msg)) == PT_EINVAL && strcmp(field, "users") == 0 &&
	    strstr(msg, "1001 entries; the limit is 1000"),
	    "1,001 audience users skip: %s", msg);
	pt_mapping_clear(&m);
	pt_json_put(mj);

	pt_buf_reset(&mb);
	pt_buf_adds(&mb, M("objects_subscribe", "{\"collection\":{\"value\":"
	    "\"c\"},\"id\":{\"value\":\"i\"},\"recipients\":\"hundred\"}"));
	mj = pt_json_parse_trusted(mb.data, mb.len);
	pt_mapping_compile(mj, &m, err, sizeof(err));
	ok(pt_action_prepare(&m, BODY(body), &payload, field, sizeof(field), msg,
	    sizeof(msg)) == PT_OK, "100 subscription recipients pass");
	pt_json_put(payload);
	pt_mapping_clear(&m);
	pt_json_put(mj);

	pt_buf_reset(&mb);
	pt_buf_adds(&mb, M("users_identify", "{\"id\":{\"value\":\"u\"},"
	    "\"properties\":\"big\"}"));
	mj = pt_json_parse_trusted(mb.data, mb.len);
	pt_mapping_compile(mj, &m, err, sizeof(err));
	ok(pt_action_prepare(&m, BODY(body), &payload, field, sizeof(field), msg,
	    sizeof(msg)) == PT_EINVAL && strcmp(field, "properties") == 0 &&
	    strstr(msg, "the limit is 262144"), "properties over 256 KB skip: %s",
	    msg);
	pt_mapping_clear(&m);
	pt_json_put(mj);
	pt_json_put(body);
	pt_buf_free(&b);
	pt_buf_free(&mb);
}

int
main(void)
{
	struct pt_json_error je;
	struct pt_mapping m;
	pt_json *body, *mj, *payload;
	char field[64], msg[400], err[400], got[500];
	const char *text;
	enum pt_err rc;
	size_t i;

	if (pt_json_parse(body_text, strlen(body_text), 64, &body, &je) !=
	    PT_OK) {
		printf("Bail out! %s\n", je.message);
		return 1;
	}
	for (i = 0; i < nitems(cases); i++) {
		mj = pt_json_parse_trusted(cases[i].mapping,
		    strlen(cases[i].mapping));
		if (mj == NULL || pt_mapping_compile(mj, &m, err, sizeof(err)) !=
		    PT_OK) {
			ok(0, "%s: mapping compiles (%s)", cases[i].desc, err);
			pt_mapping_clear(&m);
			pt_json_put(mj);
			continue;
		}
		payload = NULL;
		rc = pt_action_prepare(&m, BODY(body), &payload, field,
		    sizeof(field), msg, sizeof(msg));
		if (cases[i].want == NULL) {
			text = payload ? pt_json_text(payload, PT_JSON_PLAIN, NULL) :
			    "";
			ok(rc == PT_OK && strstr(text, cases[i].payload) != NULL,
			    "%s", cases[i].desc);
			if (rc != PT_OK || strstr(text, cases[i].payload) == NULL)
				diag("got %d %s: %s / %s", rc, text, field, msg);
		} else {
			snprintf(got, sizeof(got), "%s: %s", field, msg);
			ok(rc == PT_EINVAL && strstr(got, cases[i].want) != NULL,
			    "%s skips: %s", cases[i].desc, got);
		}
		pt_json_put(payload);
		pt_mapping_clear(&m);
		pt_json_put(mj);
	}
	limits();
	pt_json_put(body);
	return tap_done();
}
