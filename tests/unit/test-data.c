/*
 * test-data.c - users, objects, tenants, subscriptions, audiences and runs
 * (data.c) on a real store in a temporary directory.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "data.h"
#include "ids.h"
#include "json.h"
#include "store.h"
#include "tap.h"
#include "testutil.h"

/* Parse test JSON; abort on a typo. */
static pt_json *
J(const char *text)
{
	struct pt_json_error e;
	pt_json *j;

	if (pt_json_parse(text, strlen(text), 64, &j, &e) != PT_OK) {
		fprintf(stderr, "bad test JSON %s: %s\n", text, e.message);
		abort();
	}
	return j;
}

static const char *
S(const pt_json *rec, const char *key)
{
	return pt_json_str(pt_json_get(rec, key), NULL);
}

/*
 * Does every member of "want" (JSON text) equal the same member of
 * "rec"?  A null in "want" needs a null member, not a missing one.
 */
static int
has(const pt_json *rec, const char *want)
{
	struct pt_json_iter it = { 0 };
	pt_json *w = J(want), *v, *got;
	const char *k;
	int good = rec != NULL;

	while (good && pt_json_iter_next(w, &it, &k, &v)) {
		if (!pt_json_get_ex(rec, k, &got) || !pt_json_equal(got, v)) {
			size_t n;

			diag("member %s: got %s", k, got ? pt_json_text(got,
			    PT_JSON_PLAIN, &n) : "(missing or null)");
			good = 0;
		}
	}
	pt_json_put(w);
	return good;
}

/* A callback that keeps copies of the records; stops after "stop" if set. */
struct collect {
	pt_json	*arr;
	size_t	 stop;
};

static int
collect(void *arg, pt_json *rec)
{
	struct collect *c = arg;

	pt_json_append(c->arr, pt_json_copy(rec));
	return c->stop && pt_json_len(c->arr) >= c->stop;
}

static void
collect_reset(struct collect *c)
{
	pt_json_put(c->arr);
	c->arr = pt_json_new_array();
	c->stop = 0;
}

/* Member "key" of every record in "arr", joined with commas. */
static const char *
joined(const pt_json *arr, const char *key)
{
	static char out[2048];
	size_t i, n = 0;
	const char *s;

	out[0] = '\0';
	for (i = 0; i < pt_json_len(arr); i++) {
		s = S(pt_json_index(arr, i), key);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
		    i ? "," : "", s ? s : "null");
		if (n >= sizeof(out))
			break;
	}
	return out;
}

/* Entries in a table. */
static size_t
count(struct pt_txn *t, enum pt_table table)
{
	struct pt_cursor *cur;
	struct pt_val k, v;
	size_t n = 0;
	enum pt_err rc;

	if (pt_cursor_open(t, table, &cur) != PT_OK)
		abort();
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v))
		n++;
	pt_cursor_close(cur);
	return n;
}

#define T0	1700000000000000LL	/* µs */

struct merge_step {
	const char	*desc;
	const char	*fields;	/* NULL: no fields */
	int		 created;
	const char	*expect;	/* members the record must have */
};

static const struct merge_step user_steps[] = {
	{ "new user", "{\"name\":\"Ann\",\"email\":\"a@x.io\","
	    "\"properties\":{\"plan\":\"free\",\"n\":1}}", 1,
	    "{\"id\":\"u1\",\"name\":\"Ann\",\"email\":\"a@x.io\","
	    "\"phone_number\":null,\"avatar\":null,\"locale\":null,"
	    "\"timezone\":null,\"properties\":{\"plan\":\"free\",\"n\":1},"
	    "\"created_at\":\"2023-11-14T22:13:20.000000Z\","
	    "\"updated_at\":\"2023-11-14T22:13:20.000000Z\"}" },
	{ "absent members stay, properties merge by key",
	    "{\"email\":\"b@x.io\",\"properties\":{\"plan\":\"pro\"}}", 0,
	    "{\"name\":\"Ann\",\"email\":\"b@x.io\","
	    "\"properties\":{\"plan\":\"pro\",\"n\":1},"
	    "\"created_at\":\"2023-11-14T22:13:20.000000Z\","
	    "\"updated_at\":\"2023-11-14T22:13:21.000000Z\"}" },
	{ "null overwrites a member and a property",
	    "{\"name\":null,\"properties\":{\"n\":null,\"l\":[1,2]}}", 0,
	    "{\"name\":null,\"email\":\"b@x.io\","
	    "\"properties\":{\"plan\":\"pro\",\"n\":null,\"l\":[1,2]}}" },
	{ "id, created_at and updated_at are not the caller's",
	    "{\"id\":\"evil\",\"created_at\":\"x\",\"updated_at\":\"y\","
	    "\"locale\":\"fr\"}", 0,
	    "{\"id\":\"u1\",\"locale\":\"fr\","
	    "\"created_at\":\"2023-11-14T22:13:20.000000Z\","
	    "\"updated_at\":\"2023-11-14T22:13:23.000000Z\"}" },
	{ "other members are kept too", "{\"channel_data\":{\"a\":1}}", 0,
	    "{\"channel_data\":{\"a\":1},\"locale\":\"fr\"}" },
	{ "no fields: only updated_at", NULL, 0,
	    "{\"email\":\"b@x.io\",\"updated_at\":"
	    "\"2023-11-14T22:13:25.000000Z\"}" },
	{ "properties null empties them", "{\"properties\":null}", 0,
	    "{\"properties\":{},\"email\":\"b@x.io\"}" },
	{ "properties merge into emptied ones",
	    "{\"properties\":{\"z\":true}}", 0,
	    "{\"properties\":{\"z\":true}}" },
};

static const struct merge_step tenant_steps[] = {
	{ "new tenant", "{\"name\":\"Acme\",\"settings\":{\"branding\":"
	    "{\"logo_url\":\"l\"}},\"properties\":{\"a\":1}}", 1,
	    "{\"id\":\"t1\",\"name\":\"Acme\",\"settings\":{\"branding\":"
	    "{\"logo_url\":\"l\"}},\"properties\":{\"a\":1}}" },
	{ "settings merge by key", "{\"settings\":{\"preference_set\":\"p\"},"
	    "\"properties\":{\"b\":2}}", 0,
	    "{\"name\":\"Acme\",\"settings\":{\"branding\":{\"logo_url\":"
	    "\"l\"},\"preference_set\":\"p\"},\"properties\":{\"a\":1,"
	    "\"b\":2}}" },
	{ "a settings member is replaced whole",
	    "{\"settings\":{\"branding\":{\"icon_url\":\"i\"}}}", 0,
	    "{\"settings\":{\"branding\":{\"icon_url\":\"i\"},"
	    "\"preference_set\":\"p\"}}" },
};

static const struct merge_step object_steps[] = {
	{ "new object", "{\"name\":\"Proj\",\"properties\":{\"a\":1}}", 1,
	    "{\"collection\":\"projects\",\"id\":\"p1\",\"name\":\"Proj\","
	    "\"properties\":{\"a\":1}}" },
	{ "collection cannot be overwritten",
	    "{\"collection\":\"x\",\"properties\":{\"b\":2}}", 0,
	    "{\"collection\":\"projects\",\"name\":\"Proj\","
	    "\"properties\":{\"a\":1,\"b\":2}}" },
};

enum which { USER, TENANT, OBJECT };

static void
run_steps(struct pt_store *s, enum which w, const struct merge_step *steps,
    size_t n)
{
	static const char *const names[] = { "user", "tenant", "object" };
	struct pt_txn *t;
	pt_json *f, *rec;
	enum pt_err rc = PT_EINVAL;
	size_t i;
	int created;

	for (i = 0; i < n; i++) {
		f = steps[i].fields ? J(steps[i].fields) : NULL;
		created = -1;
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		switch (w) {
		case USER:
			rc = pt_user_merge(t, "u1", f, T0 + (int64_t)i * 1000000,
			    &created);
			break;
		case TENANT:
			rc = pt_tenant_merge(t, "t1", f, T0 + (int64_t)i *
			    1000000, &created);
			break;
		case OBJECT:
			rc = pt_object_merge(t, "projects", "p1", f, T0 +
			    (int64_t)i * 1000000, &created);
			break;
		}
		pt_txn_commit(t);
		pt_json_put(f);
		ok(rc == PT_OK && created == steps[i].created,
		    "%s merge: %s (rc %d created %d)", names[w], steps[i].desc,
		    rc, created);
		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		rec = NULL;
		switch (w) {
		case USER:
			rc = pt_user_get(t, "u1", &rec);
			break;
		case TENANT:
			rc = pt_tenant_get(t, "t1", &rec);
			break;
		case OBJECT:
			rc = pt_object_get(t, "projects", "p1", &rec);
			break;
		}
		pt_txn_abort(t);
		ok(rc == PT_OK && has(rec, steps[i].expect), "%s record after: "
		    "%s", names[w], steps[i].desc);
		pt_json_put(rec);
	}
}

/* A string of "n" bytes: "c" repeated, "last" at the end. */
static char *
longstr(char c, size_t n, char last)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		abort();
	memset(p, c, n);
	p[n - 1] = last;
	p[n] = '\0';
	return p;
}

static void
test_merges(struct pt_store *s)
{
	struct pt_txn *t;
	pt_json *rec = (pt_json *)1;

	run_steps(s, USER, user_steps, nitems(user_steps));
	run_steps(s, TENANT, tenant_steps, nitems(tenant_steps));
	run_steps(s, OBJECT, object_steps, nitems(object_steps));

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	rec = J("[1]");
	ok(pt_user_merge(t, "bad", rec, T0, NULL) == PT_EINVAL,
	    "fields that are not an object: EINVAL");
	pt_json_put(rec);
	rec = (pt_json *)1;
	ok(pt_user_get(t, "bad", &rec) == PT_ENOTFOUND && rec == NULL,
	    "... and nothing was created; *out is NULL");
	pt_txn_abort(t);
}

static void
test_get_delete(struct pt_store *s)
{
	struct pt_txn *t;
	pt_json *rec;

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_user_merge(t, "gone", NULL, T0, NULL) == PT_OK &&
	    pt_tenant_merge(t, "gone", NULL, T0, NULL) == PT_OK &&
	    pt_object_merge(t, "c", "gone", NULL, T0, NULL) == PT_OK,
	    "create user, tenant and object with no fields");
	ok(pt_user_get(t, "gone", &rec) == PT_OK && has(rec,
	    "{\"id\":\"gone\",\"name\":null,\"properties\":{}}"),
	    "a user with no fields has the full shape");
	pt_json_put(rec);
	ok(pt_tenant_get(t, "gone", &rec) == PT_OK && has(rec,
	    "{\"id\":\"gone\",\"name\":null,\"settings\":{},"
	    "\"properties\":{}}"), "tenant shape");
	pt_json_put(rec);
	ok(pt_object_get(t, "c", "gone", &rec) == PT_OK && has(rec,
	    "{\"collection\":\"c\",\"id\":\"gone\",\"name\":null,"
	    "\"properties\":{}}"), "object shape");
	pt_json_put(rec);
	ok(pt_user_delete(t, "gone") == PT_OK, "delete user");
	ok(pt_user_delete(t, "gone") == PT_ENOTFOUND, "delete again: ENOTFOUND");
	ok(pt_user_get(t, "gone", &rec) == PT_ENOTFOUND && rec == NULL,
	    "get deleted user: ENOTFOUND");
	ok(pt_tenant_delete(t, "gone") == PT_OK &&
	    pt_tenant_delete(t, "gone") == PT_ENOTFOUND &&
	    pt_tenant_get(t, "gone", &rec) == PT_ENOTFOUND,
	    "tenant delete, again, get");
	ok(pt_object_delete(t, "c", "gone") == PT_OK &&
	    pt_object_delete(t, "c", "gone") == PT_ENOTFOUND &&
	    pt_object_get(t, "c", "gone", &rec) == PT_ENOTFOUND,
	    "object delete, again, get");
	ok(pt_object_get(t, "c2", "gone", &rec) == PT_ENOTFOUND,
	    "object in another collection: ENOTFOUND");
	pt_txn_commit(t);
}

static void
test_lists(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	struct pt_txn *t;

	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_object_merge(t, "proj", "a", NULL, T0, NULL);
	pt_object_merge(t, "projects2", "b", NULL, T0, NULL);
	pt_object_merge(t, "projects", "p0", NULL, T0, NULL);
	pt_object_merge(t, "projects", "p2", NULL, T0, NULL);
	ok(pt_objects_list(t, "projects", collect, &c) == PT_OK,
	    "objects list");
	is_str(joined(c.arr, "id"), "p0,p1,p2",
	    "only that collection, in key order");
	collect_reset(&c);
	pt_objects_list(t, "proj", collect, &c);
	is_str(joined(c.arr, "id"), "a", "a collection that prefixes another");
	collect_reset(&c);
	c.stop = 2;
	pt_objects_list(t, "projects", collect, &c);
	is_int(pt_json_len(c.arr), 2, "a nonzero callback stops the walk");
	collect_reset(&c);
	pt_user_merge(t, "u0", NULL, T0, NULL);
	pt_users_list(t, collect, &c);
	is_str(joined(c.arr, "id"), "u0,u1", "users list");
	collect_reset(&c);
	pt_tenants_list(t, collect, &c);
	is_str(joined(c.arr, "id"), "t1", "tenants list");
	pt_txn_commit(t);
	pt_json_put(c.arr);
}

static void
test_subscriptions(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	struct pt_txn *t;
	pt_json *u1 = J("\"u1\""), *u2 = J("\"u2\""),
	    *u2ref = J("{\"collection\":\"$users\",\"id\":\"u2\"}"),
	    *team = J("{\"id\":\"t1\",\"collection\":\"teams\"}"),
	    *p1 = J("{\"a\":1}"), *p2 = J("{\"b\":2}"), *bad = J("42"),
	    *noid = J("{\"collection\":\"teams\"}"), *rec;

	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_subscription_add(t, "projects", "p1", u1, p1, T0) == PT_OK,
	    "subscribe a user");
	ok(pt_subscription_add(t, "projects", "p1", team, NULL, T0) == PT_OK,
	    "subscribe an object");
	ok(pt_subscription_add(t, "projects", "p1", u2ref, NULL, T0) == PT_OK,
	    "subscribe a user by {collection: $users}");
	ok(pt_subscription_add(t, "projects", "p10", u1, NULL, T0) == PT_OK,
	    "subscribe to p10 (its key extends p1's)");
	ok(pt_subscription_add(t, "projects", "p1", bad, NULL, T0) ==
	    PT_EINVAL && pt_subscription_add(t, "projects", "p1", noid, NULL,
	    T0) == PT_EINVAL, "a number or an id-less reference: EINVAL");
	pt_subscriptions_list(t, "projects", "p1", collect, &c);
	is_int(pt_json_len(c.arr), 3, "three subscriptions to p1");
	ok(has(pt_json_index(c.arr, 0), "{\"collection\":\"projects\","
	    "\"id\":\"p1\",\"recipient\":{\"id\":\"t1\",\"collection\":"
	    "\"teams\"},\"properties\":{}}"),
	    "object recipient first (key 'o' < 'u'), properties {}");
	ok(has(pt_json_index(c.arr, 1), "{\"recipient\":\"u1\","
	    "\"properties\":{\"a\":1},\"created_at\":"
	    "\"2023-11-14T22:13:20.000000Z\"}"), "user recipient u1");
	ok(has(pt_json_index(c.arr, 2), "{\"recipient\":\"u2\"}"),
	    "a $users reference is stored as the user id");

	ok(pt_subscription_add(t, "projects", "p1", u1, p2, T0 + 5000000) ==
	    PT_OK, "subscribe u1 again");
	collect_reset(&c);
	pt_subscriptions_list(t, "projects", "p1", collect, &c);
	is_int(pt_json_len(c.arr), 3, "still three");
	ok(has(pt_json_index(c.arr, 1), "{\"recipient\":\"u1\","
	    "\"properties\":{\"b\":2},\"created_at\":"
	    "\"2023-11-14T22:13:20.000000Z\",\"updated_at\":"
	    "\"2023-11-14T22:13:25.000000Z\"}"),
	    "properties replaced, created_at kept");

	ok(pt_subscription_remove(t, "projects", "p1", u1) == PT_OK,
	    "unsubscribe u1");
	ok(pt_subscription_remove(t, "projects", "p1", u1) == PT_ENOTFOUND,
	    "unsubscribe u1 again: ENOTFOUND");
	ok(pt_subscription_remove(t, "projects", "p1", u2) == PT_OK,
	    "unsubscribe u2 by plain id");
	ok(pt_subscription_remove(t, "projects", "p2", team) == PT_ENOTFOUND,
	    "unsubscribe from another object: ENOTFOUND");
	ok(pt_subscription_remove(t, "projects", "p1", bad) == PT_EINVAL,
	    "unsubscribe a number: EINVAL");
	collect_reset(&c);
	pt_subscriptions_list(t, "projects", "p1", collect, &c);
	is_int(pt_json_len(c.arr), 1, "one left");

	pt_subscription_add(t, "projects", "p1", u1, NULL, T0);
	ok(pt_object_delete(t, "projects", "p1") == PT_OK,
	    "delete object p1");
	collect_reset(&c);
	pt_subscriptions_list(t, "projects", "p1", collect, &c);
	is_int(pt_json_len(c.arr), 0, "its subscriptions are gone");
	collect_reset(&c);
	pt_subscriptions_list(t, "projects", "p10", collect, &c);
	is_int(pt_json_len(c.arr), 1, "p10's subscription stays");
	ok(pt_object_get(t, "projects", "p1", &rec) == PT_ENOTFOUND,
	    "p1 is gone");
	ok(pt_object_delete(t, "projects", "p10") == PT_ENOTFOUND,
	    "delete an object never set: ENOTFOUND...");
	collect_reset(&c);
	pt_subscriptions_list(t, "projects", "p10", collect, &c);
	is_int(pt_json_len(c.arr), 0, "... but its subscriptions go");
	pt_txn_commit(t);

	pt_json_put(c.arr);
	pt_json_put(u1);
	pt_json_put(u2);
	pt_json_put(u2ref);
	pt_json_put(team);
	pt_json_put(p1);
	pt_json_put(p2);
	pt_json_put(bad);
	pt_json_put(noid);
}

static void
test_audiences(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	struct pt_txn *t;

	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_audiences_list(t, collect, &c);
	is_int(pt_json_len(c.arr), 0, "no audiences yet");
	ok(pt_audience_add(t, "aud", "u1", NULL, T0) == PT_OK, "add u1");
	collect_reset(&c);
	pt_audiences_list(t, collect, &c);
	ok(pt_json_len(c.arr) == 1 && has(pt_json_index(c.arr, 0),
	    "{\"key\":\"aud\",\"created_at\":\"2023-11-14T22:13:20.000000Z\","
	    "\"updated_at\":\"2023-11-14T22:13:20.000000Z\"}"),
	    "audience created on first add");
	ok(pt_audience_add(t, "aud", "u1", "t1", T0 + 1000000) == PT_OK,
	    "add u1 with tenant t1");
	ok(pt_audience_add(t, "aud", "u2", "", T0 + 2000000) == PT_OK,
	    "add u2 (empty tenant = none)");
	ok(pt_audience_add(t, "aud", "u1", NULL, T0 + 3000000) == PT_OK,
	    "add u1 again");
	ok(pt_audience_add(t, "aud2", "u9", NULL, T0) == PT_OK,
	    "add to aud2 (its key extends aud's)");
	collect_reset(&c);
	ok(pt_audience_members(t, "aud", collect, &c) == PT_OK, "members");
	is_str(joined(c.arr, "user"), "u1,u1,u2", "members in key order");
	is_str(joined(c.arr, "tenant"), "null,t1,null", "their tenants");
	ok(has(pt_json_index(c.arr, 0), "{\"audience\":\"aud\",\"user\":"
	    "\"u1\",\"tenant\":null,\"added_at\":"
	    "\"2023-11-14T22:13:20.000000Z\"}"),
	    "member record; adding again kept added_at");
	collect_reset(&c);
	pt_audiences_list(t, collect, &c);
	is_str(joined(c.arr, "key"), "aud,aud2", "two audiences");
	is_str(S(pt_json_index(c.arr, 0), "updated_at"),
	    "2023-11-14T22:13:22.000000Z", "updated_at follows real changes");
	ok(pt_audience_remove(t, "aud", "u1", "t1") == PT_OK,
	    "remove u1/t1");
	ok(pt_audience_remove(t, "aud", "u1", "t1") == PT_ENOTFOUND,
	    "remove u1/t1 again: ENOTFOUND");
	ok(pt_audience_remove(t, "aud", "u2", NULL) == PT_OK,
	    "remove u2 (added with \"\") with NULL");
	ok(pt_audience_remove(t, "nope", "u1", NULL) == PT_ENOTFOUND,
	    "remove from a missing audience: ENOTFOUND");
	collect_reset(&c);
	pt_audience_members(t, "aud", collect, &c);
	is_str(joined(c.arr, "user"), "u1", "one member left");
	collect_reset(&c);
	pt_audience_members(t, "nope", collect, &c);
	is_int(pt_json_len(c.arr), 0, "a missing audience has no members");
	pt_txn_commit(t);
	pt_json_put(c.arr);
}

/* Put a run record with id #i, workflow "wf", cancellation key "ck". */
static enum pt_err
put_run(struct pt_txn *t, uint8_t ids[][PT_ID_BIN], int i, const char *wf,
    const char *ck)
{
	char text[PT_ID_MAX];
	pt_json *r = pt_json_new_object();
	enum pt_err rc;

	pt_id_text("run", ids[i], text);
	pt_json_set(r, "id", pt_json_new_cstr(text));
	pt_json_set_cstr(r, "workflow", wf);
	pt_json_set(r, "status", pt_json_new_cstr("queued"));
	pt_json_set_cstr(r, "cancellation_key", ck);
	pt_json_set(r, "n", pt_json_new_int(i));
	rc = pt_run_put(t, ids[i], r);
	pt_json_put(r);
	return rc;
}

static const char *
by_key(struct pt_txn *t, const char *wf, const char *ck)
{
	static char out[256];
	struct collect c = { NULL, 0 };
	size_t i, n = 0;

	collect_reset(&c);
	if (pt_runs_by_cancellation(t, wf, ck, collect, &c) != PT_OK)
		snprintf(out, sizeof(out), "error");
	else {
		out[0] = '\0';
		for (i = 0; i < pt_json_len(c.arr); i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld",
			    i ? "," : "", (long long)pt_json_int(pt_json_get(
			    pt_json_index(c.arr, i), "n")));
	}
	pt_json_put(c.arr);
	return out;
}

static void
test_runs(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	uint8_t ids[6][PT_ID_BIN], missing[PT_ID_BIN];
	char text[PT_ID_MAX];
	struct pt_txn *t;
	pt_json *rec, *arr;
	int i;

	for (i = 0; i < 6; i++)
		pt_id_new("run", T0 + i, ids[i], text);
	pt_id_new("run", T0 + 99, missing, text);
	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(put_run(t, ids, 0, "w", "k1") == PT_OK &&
	    put_run(t, ids, 1, "w", "k1") == PT_OK &&
	    put_run(t, ids, 2, "w", "k2") == PT_OK &&
	    put_run(t, ids, 3, "w2", "k1") == PT_OK &&
	    put_run(t, ids, 4, "w", NULL) == PT_OK &&
	    put_run(t, ids, 5, NULL, "k1") == PT_OK, "put six runs");
	is_str(by_key(t, "w", "k1"), "0,1", "(w, k1): runs 0 and 1, oldest "
	    "first");
	is_str(by_key(t, "w", "k2"), "2", "(w, k2): run 2");
	is_str(by_key(t, "w2", "k1"), "3", "(w2, k1): run 3");
	is_str(by_key(t, "w", "k"), "", "(w, k): a prefix of k1 matches none");
	is_int(count(t, PT_T_RUNS_BY_KEY), 4, "four index entries");
	ok(put_run(t, ids, 0, "w", "k2") == PT_OK, "run 0 moves to k2");
	is_str(by_key(t, "w", "k1"), "1", "(w, k1): run 1");
	is_str(by_key(t, "w", "k2"), "0,2", "(w, k2): runs 0 and 2");
	ok(put_run(t, ids, 1, "w", NULL) == PT_OK, "run 1 loses its key");
	is_str(by_key(t, "w", "k1"), "", "(w, k1): none");
	ok(put_run(t, ids, 2, "w3", "k2") == PT_OK, "run 2 changes workflow");
	is_str(by_key(t, "w", "k2"), "0", "(w, k2): run 0");
	is_str(by_key(t, "w3", "k2"), "2", "(w3, k2): run 2");
	ok(put_run(t, ids, 4, "w", "k1") == PT_OK, "run 4 gains a key");
	ok(put_run(t, ids, 4, "w", "k1") == PT_OK, "run 4 put unchanged");
	is_str(by_key(t, "w", "k1"), "4", "(w, k1): run 4");
	is_int(count(t, PT_T_RUNS_BY_KEY), 4, "still one entry per keyed run");
	is_int(count(t, PT_T_RUNS), 6, "six runs");

	ok(pt_run_get(t, ids[3], &rec) == PT_OK && has(rec,
	    "{\"workflow\":\"w2\",\"cancellation_key\":\"k1\",\"n\":3}"),
	    "get run 3");
	pt_json_put(rec);
	rec = (pt_json *)1;
	ok(pt_run_get(t, missing, &rec) == PT_ENOTFOUND && rec == NULL,
	    "get a missing run: ENOTFOUND");
	arr = pt_json_new_array();
	ok(pt_run_put(t, missing, arr) == PT_EINVAL, "a non-object run: EINVAL");
	pt_json_put(arr);

	ok(pt_runs_list(t, NULL, collect, &c) == PT_OK, "runs list");
	is_int(pt_json_len(c.arr), 6, "all six");
	is_int(pt_json_int(pt_json_get(pt_json_index(c.arr, 0), "n")), 0,
	    "oldest first");
	collect_reset(&c);
	pt_runs_list(t, ids[2], collect, &c);
	is_int(pt_json_len(c.arr), 3, "after run 2: three");
	is_int(pt_json_int(pt_json_get(pt_json_index(c.arr, 0), "n")), 3,
	    "starting with run 3");
	collect_reset(&c);
	pt_runs_list(t, missing, collect, &c);
	is_int(pt_json_len(c.arr), 0, "after the newest: none");
	pt_txn_commit(t);
	pt_json_put(c.arr);
}

/* Ids and collections of 300+ bytes, and ids that look like hashed parts. */
static void
test_long(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	char *la = longstr('a', 300, 'x'), *lb = longstr('a', 300, 'y'),
	    *lc = longstr('c', 400, 'c'), *ff = strdup("\xff" "abc");
	char text[PT_ID_MAX];
	uint8_t id[PT_ID_BIN];
	struct pt_txn *t;
	pt_json *rec, *r, *recip;
	int created;

	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_user_merge(t, la, NULL, T0, &created) == PT_OK && created,
	    "user with a 300-byte id");
	ok(pt_user_merge(t, lb, NULL, T0, &created) == PT_OK && created,
	    "another, differing in the last byte, is new");
	ok(pt_user_merge(t, ff, NULL, T0, &created) == PT_OK && created,
	    "a short id starting with 0xFF");
	ok(pt_user_get(t, la, &rec) == PT_OK && strcmp(S(rec, "id"), la) == 0,
	    "the record holds the full id");
	pt_json_put(rec);
	/* Stored text is JSON: such a key reads back as U+FFFD (actions
	 * refuse ids that are not UTF-8, so none is written this way). */
	ok(pt_user_get(t, ff, &rec) == PT_OK &&
	    strcmp(S(rec, "id"), "\xef\xbf\xbd" "abc") == 0,
	    "0xFF id: the record reads back with U+FFFD");
	pt_json_put(rec);

	ok(pt_object_merge(t, lc, la, NULL, T0, NULL) == PT_OK &&
	    pt_object_merge(t, lc, lb, NULL, T0, NULL) == PT_OK &&
	    pt_object_merge(t, la, la, NULL, T0, NULL) == PT_OK,
	    "objects with a 400-byte collection and 300-byte ids");
	pt_objects_list(t, lc, collect, &c);
	ok(pt_json_len(c.arr) == 2 && strcmp(S(pt_json_index(c.arr, 0),
	    "collection"), lc) == 0, "list the long collection: two");

	recip = pt_json_new_object();
	pt_json_set(recip, "collection", pt_json_new_cstr(lc));
	pt_json_set(recip, "id", pt_json_new_cstr(lb));
	ok(pt_subscription_add(t, lc, la, recip, NULL, T0) == PT_OK,
	    "long object subscribes to a long object");
	r = pt_json_new_cstr(lb);
	ok(pt_subscription_add(t, lc, la, r, NULL, T0) == PT_OK,
	    "long user subscribes to a long object");
	collect_reset(&c);
	pt_subscriptions_list(t, lc, la, collect, &c);
	ok(pt_json_len(c.arr) == 2 && pt_json_equal(pt_json_get(
	    pt_json_index(c.arr, 0), "recipient"), recip),
	    "both listed, full recipient kept");
	ok(pt_object_delete(t, lc, la) == PT_OK, "delete the long object");
	collect_reset(&c);
	pt_subscriptions_list(t, lc, la, collect, &c);
	is_int(pt_json_len(c.arr), 0, "its subscriptions went with it");
	collect_reset(&c);
	pt_objects_list(t, lc, collect, &c);
	is_int(pt_json_len(c.arr), 1, "the other object stays");
	pt_json_put(recip);
	pt_json_put(r);

	ok(pt_audience_add(t, lc, la, lb, T0) == PT_OK &&
	    pt_audience_add(t, lc, la, NULL, T0) == PT_OK,
	    "long audience key, user and tenant");
	collect_reset(&c);
	pt_audience_members(t, lc, collect, &c);
	ok(pt_json_len(c.arr) == 2 && strcmp(S(pt_json_index(c.arr, 1),
	    "tenant"), lb) == 0, "two members, full tenant kept");
	ok(pt_audience_remove(t, lc, la, lb) == PT_OK, "remove the long one");

	pt_id_new("run", T0 + 500, id, text);
	r = pt_json_new_object();
	pt_json_set(r, "workflow", pt_json_new_cstr(lc));
	pt_json_set(r, "cancellation_key", pt_json_new_cstr(la));
	ok(pt_run_put(t, id, r) == PT_OK, "run with long workflow and key");
	is_str(by_key(t, lc, la), "0", "found by (long workflow, long key)");
	is_str(by_key(t, lc, lb), "", "not by a key differing in the last "
	    "byte");
	pt_json_put(r);
	pt_txn_commit(t);

	pt_json_put(c.arr);
	free(la);
	free(lb);
	free(lc);
	free(ff);
}

/* Everything done in an aborted transaction vanishes. */
static void
test_abort(struct pt_store *s)
{
	struct collect c = { NULL, 0 };
	struct pt_txn *t, *child;
	uint8_t id[PT_ID_BIN];
	char text[PT_ID_MAX];
	pt_json *rec, *u = J("\"ab\""), *r = J("{\"workflow\":\"wa\","
	    "\"cancellation_key\":\"ka\"}");
	size_t before[PT_T__MAX];
	int i, same = 1;

	pt_id_new("run", T0 + 900, id, text);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	for (i = 0; i < PT_T__MAX; i++)
		before[i] = count(t, (enum pt_table)i);
	pt_txn_abort(t);

	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	ok(pt_user_merge(t, "ab", NULL, T0, NULL) == PT_OK &&
	    pt_user_merge(t, "u1", NULL, T0, NULL) == PT_OK &&
	    pt_object_merge(t, "ab", "ab", NULL, T0, NULL) == PT_OK &&
	    pt_tenant_merge(t, "ab", NULL, T0, NULL) == PT_OK &&
	    pt_subscription_add(t, "ab", "ab", u, NULL, T0) == PT_OK &&
	    pt_audience_add(t, "ab", "ab", NULL, T0) == PT_OK &&
	    pt_run_put(t, id, r) == PT_OK &&
	    pt_object_delete(t, "projects", "p2") == PT_OK &&
	    pt_audience_remove(t, "aud", "u1", NULL) == PT_OK &&
	    pt_tenant_delete(t, "t1") == PT_OK,
	    "one of everything in a write transaction");
	pt_txn_abort(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	for (i = 0; i < PT_T__MAX; i++)
		same &= before[i] == count(t, (enum pt_table)i);
	ok(same, "every table is as it was after the abort");
	ok(pt_user_get(t, "ab", &rec) == PT_ENOTFOUND &&
	    pt_run_get(t, id, &rec) == PT_ENOTFOUND &&
	    pt_tenant_get(t, "t1", &rec) == PT_OK, "records too");
	pt_json_put(rec);
	is_str(by_key(t, "wa", "ka"), "", "no index entry");
	pt_txn_abort(t);

	/* A nested transaction's abort, the parent committing. */
	collect_reset(&c);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_txn_begin(s, t, PT_TXN_WRITE, &child);
	pt_audience_add(child, "nested", "x", NULL, T0);
	pt_run_put(child, id, r);
	pt_txn_abort(child);
	pt_user_merge(t, "kept", NULL, T0, NULL);
	pt_txn_commit(t);
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_audiences_list(t, collect, &c);
	ok(strstr(joined(c.arr, "key"), "nested") == NULL &&
	    pt_run_get(t, id, &rec) == PT_ENOTFOUND &&
	    pt_user_get(t, "kept", &rec) == PT_OK,
	    "aborted child vanishes, the parent's own write stays");
	pt_json_put(rec);
	pt_txn_abort(t);
	pt_json_put(c.arr);
	pt_json_put(u);
	pt_json_put(r);
}

/* Inputs for the allocation-failure test, made before faults are on. */
struct fault_in {
	pt_json	*fields, *user, *run;
	char	*coll;
	uint8_t	 id[PT_ID_BIN];
};

/* One of each write. */
static enum pt_err
writes(struct pt_txn *t, const struct fault_in *in)
{
	enum pt_err rc;

	if ((rc = pt_user_merge(t, "fu", in->fields, T0, NULL)) == PT_OK &&
	    (rc = pt_object_merge(t, in->coll, "fo", in->fields, T0, NULL)) ==
	    PT_OK &&
	    (rc = pt_subscription_add(t, in->coll, "fo", in->user, in->fields,
	    T0)) == PT_OK &&
	    (rc = pt_audience_add(t, "fa", "fu", in->coll, T0)) == PT_OK &&
	    (rc = pt_run_put(t, in->id, in->run)) == PT_OK)
		rc = pt_object_delete(t, in->coll, "fo");
	return rc;
}

/*
 * Every allocation of ours that fails ends in PT_ENOMEM with nothing
 * leaked (json-c's own allocations are not ours to fail).
 */
static void
test_alloc_failures(struct pt_store *s)
{
	struct fault_in in;
	struct pt_txn *t;
	char text[PT_ID_MAX];
	long n, total;
	int good = 1;
	enum pt_err rc;

	in.fields = J("{\"name\":\"N\",\"properties\":{\"a\":1}}");
	in.user = J("\"fu\"");
	in.run = J("{\"workflow\":\"fw\",\"cancellation_key\":\"fk\"}");
	in.coll = longstr('z', 200, 'z');
	pt_id_new("run", T0 + 7777, in.id, text);
	pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
	pt_alloc_fail_after(-1);
	rc = writes(t, &in);
	total = pt_alloc_fail_after(-1);
	pt_txn_abort(t);
	ok(rc == PT_OK && total > 0, "clean run: %ld allocations", total);
	for (n = 0; n < total; n++) {
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		pt_alloc_fail_after(n);
		rc = writes(t, &in);
		pt_alloc_fail_after(-1);
		pt_txn_abort(t);
		if (rc != PT_ENOMEM) {
			diag("failing after %ld: %s", n, pt_strerror(rc));
			good = 0;
		}
	}
	ok(good, "failing each allocation gives ENOMEM");
	pt_json_put(in.fields);
	pt_json_put(in.user);
	pt_json_put(in.run);
	free(in.coll);
}

/* Id text: fixed vectors (as stored ids were written) and round trips. */
static void
test_ids(void)
{
	static const struct {
		const char	*prefix;
		int		 fill;	/* 0: i*17+1, 1: 0x80>>(i%8), 2: 0, 3: 0xff */
		const char	*text;
	} v[] = {
		{ "act", 0, "act_0128HK8HAPCXW8K6NBQK6XXVR0" },
		{ "run", 1, "run_4080G10204080R0G10204080G1" },
		{ "evt", 2, "evt_00000000000000000000000000" },
		{ "evt", 3, "evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ" },
	};
	uint8_t bin[PT_ID_BIN], back[PT_ID_BIN];
	char text[PT_ID_MAX];
	size_t i, j;

	for (i = 0; i < nitems(v); i++) {
		for (j = 0; j < PT_ID_BIN; j++)
			bin[j] = (uint8_t)(v[i].fill == 0 ? j * 17 + 1 :
			    v[i].fill == 1 ? (size_t)0x80 >> (j % 8) :
			    v[i].fill == 2 ? 0 : (size_t)0xff);
		pt_id_text(v[i].prefix, bin, text);
		is_str(text, v[i].text, "id text of vector %zu", i);
		ok(pt_id_parse(v[i].prefix, text, back) == 0 &&
		    memcmp(bin, back, PT_ID_BIN) == 0, "  ... parses back");
	}
	/* A stored record whose id member is missing or not a string. */
	ok(pt_id_parse("act", NULL, back) < 0, "no id text does not parse");
	ok(pt_id_parse("act", "evt_00000000000000000000000000", back) < 0,
	    "another prefix does not parse");
}

int
main(void)
{
	char *dir = tu_tmpdir();
	struct pt_store *s = tu_store(dir, 64 << 20);

	test_ids();
	test_merges(s);
	test_get_delete(s);
	test_lists(s);
	test_subscriptions(s);
	test_audiences(s);
	test_runs(s);
	test_long(s);
	test_abort(s);
	test_alloc_failures(s);
	pt_store_close(s);
	tu_rmdir(dir);
	return tap_done();
}
