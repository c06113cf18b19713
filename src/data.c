/*
 * data.c - users, objects, tenants, subscriptions, audiences and workflow
 * runs (see data.h).
 *
 * Store keys are components joined with a NUL byte.  A component is kept
 * as it is when it is at most KEY_RAW_MAX bytes, holds no NUL and does not
 * begin with 0xFF; otherwise it becomes 0xFF and its SHA-256 (33 bytes).
 * Either way a key reads back unambiguously from the left (a component
 * that starts with 0xFF is exactly 33 bytes long, any other ends at the
 * next NUL), so every key stays far below LMDB's 511-byte limit, distinct
 * tuples get distinct keys, and a prefix of whole components selects
 * exactly the records under it.  The records carry the full values.
 *
 *	PT_T_USERS		E(id)
 *	PT_T_OBJECTS		E(collection) 0 E(id)
 *	PT_T_TENANTS		E(id)
 *	PT_T_SUBS		E(collection) 0 E(id) 0 recipient, where
 *				recipient = 'u' E(user id)
 *				          | 'o' E(collection) 0 E(id)
 *	PT_T_AUDIENCES		E(key)
 *	PT_T_AUD_MEMBERS	E(key) 0 E(user) 0 [E(tenant)]
 *	PT_T_RUNS		16-byte binary run id
 *	PT_T_RUNS_BY_KEY	E(workflow) 0 E(cancellation key) 0 run id
 *
 * Values are the records as plain JSON text.
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "data.h"
#include "evrec.h"
#include "sig.h"
#include "timeutil.h"

#define KEY_RAW_MAX	128
#define KEY_HASHED	0xff

/*
 * Append component "s" ("len" bytes) to key "k": as is, or as 0xFF and its
 * SHA-256 when it is long, holds a NUL or itself begins with 0xFF.
 * NOTE: failures are sticky in "k" (k->failed).
 */
static void
key_add(struct pt_buf *k, const char *s, size_t len)
{
	uint8_t h[1 + PT_SHA256_LEN];

	if (len > KEY_RAW_MAX || memchr(s, '\0', len) != NULL ||
	    (len > 0 && (unsigned char)s[0] == KEY_HASHED)) {
		h[0] = KEY_HASHED;
		pt_sha256(s, len, h + 1);
		pt_buf_add(k, h, sizeof(h));
	} else
		pt_buf_add(k, s, len);
}

/* Append component "s" and the NUL separator. */
static void
key_part(struct pt_buf *k, const char *s)
{
	key_add(k, s, strlen(s));
	pt_buf_add(k, "", 1);
}

/*
 * Parse a stored record (plain or packed: runs are packed, evrec.h) into
 * a new reference; it must be an object.
 */
static enum pt_err
decode(struct pt_txn *txn, const struct pt_val *v, pt_json **out)
{
	if ((*out = pt_evrec_parse_json(txn, v)) == NULL)
		return PT_ECORRUPT;
	return PT_OK;
}

/* Read the record at "key" of "table" as a new reference. */
static enum pt_err
load(struct pt_txn *txn, enum pt_table table, const struct pt_buf *key,
    pt_json **out)
{
	struct pt_val v;
	enum pt_err rc;

	*out = NULL;
	if (key->failed)
		return PT_ENOMEM;
	if ((rc = pt_get(txn, table, key->data, key->len, &v)) != PT_OK)
		return rc;
	return decode(txn, &v, out);
}

/* Write record "rec" at "key" of "table". */
static enum pt_err
save(struct pt_txn *txn, enum pt_table table, const struct pt_buf *key,
    pt_json *rec)
{
	struct pt_buf text = { 0 };
	enum pt_err rc;

	if (key->failed)
		return PT_ENOMEM;
	if ((rc = pt_json_write(&text, rec, PT_JSON_PLAIN)) == PT_OK)
		rc = pt_put(txn, table, key->data, key->len, text.data,
		    text.len, 0);
	pt_buf_free(&text);
	return rc;
}

/* Set member "key" of "obj" to the RFC 3339 text of "us". */
static enum pt_err
set_time(pt_json *obj, const char *key, int64_t us)
{
	char t[PT_RFC3339_LEN];

	pt_fmt_rfc3339(us, t);
	return pt_json_set(obj, key, pt_json_new_cstr(t));
}

/* What kind of record a merge builds. */
struct kind {
	enum pt_table		 table;
	int			 has_collection;
	const char *const	*nulls;		/* members null in a new record */
	const char *const	*merged;	/* object members merged by key */
};

static const char *const user_nulls[] = {
	"name", "email", "phone_number", "avatar", "locale", "timezone", NULL
};
static const char *const name_null[] = { "name", NULL };
static const char *const props_only[] = { "properties", NULL };
static const char *const tenant_merged[] = { "settings", "properties", NULL };

static const struct kind user_kind = {
	PT_T_USERS, 0, user_nulls, props_only
};
static const struct kind object_kind = {
	PT_T_OBJECTS, 1, name_null, props_only
};
static const struct kind tenant_kind = {
	PT_T_TENANTS, 0, name_null, tenant_merged
};

static int
in_list(const char *const *list, const char *k)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, k) == 0)
			return 1;
	return 0;
}

/*
 * A new record of kind "kd": ["collection"], "id", the null members, the
 * merged members as empty objects, "created_at" and "updated_at" (both
 * "now").  Returns a new reference or NULL when out of memory.
 */
static pt_json *
skeleton(const struct kind *kd, const char *collection, const char *id,
    int64_t now)
{
	const char *const *p;
	pt_json *rec;
	int bad = 0;

	if ((rec = pt_json_new_object()) == NULL)
		return NULL;
	if (kd->has_collection)
		bad |= pt_json_set(rec, "collection",
		    pt_json_new_cstr(collection)) != PT_OK;
	bad |= pt_json_set(rec, "id", pt_json_new_cstr(id)) != PT_OK;
	for (p = kd->nulls; *p != NULL; p++)
		bad |= pt_json_set_null(rec, *p) != PT_OK;
	for (p = kd->merged; *p != NULL; p++)
		bad |= pt_json_set(rec, *p, pt_json_new_object()) != PT_OK;
	bad |= set_time(rec, "created_at", now) != PT_OK;
	bad |= set_time(rec, "updated_at", now) != PT_OK;
	if (bad) {
		pt_json_put(rec);
		return NULL;
	}
	return rec;
}

/*
 * Merge the members of "fields" into "rec": "id", "collection",
 * "created_at" and "updated_at" are ours and skipped; a member named in
 * kd->merged that is an object merges key by key (a null inside it is
 * stored as null), and a null one empties it; every other member
 * overwrites (null included).
 */
static enum pt_err
merge_fields(const struct kind *kd, pt_json *rec, const pt_json *fields)
{
	struct pt_json_iter it = { 0 }, it2;
	const char *k, *k2;
	pt_json *v, *v2, *dst;
	enum pt_err rc;

	while (pt_json_iter_next(fields, &it, &k, &v)) {
		if (strcmp(k, "id") == 0 || strcmp(k, "collection") == 0 ||
		    strcmp(k, "created_at") == 0 ||
		    strcmp(k, "updated_at") == 0)
			continue;
		if (!in_list(kd->merged, k) || (v != NULL &&
		    pt_json_type(v) != PT_J_OBJECT)) {
			if ((rc = pt_json_set_copy(rec, k, v)) != PT_OK)
				return rc;
			continue;
		}
		dst = pt_json_get(rec, k);
		if (v == NULL || pt_json_type(dst) != PT_J_OBJECT) {
			if ((dst = pt_json_new_object()) == NULL)
				return PT_ENOMEM;
			if ((rc = pt_json_set(rec, k, dst)) != PT_OK)
				return rc;
		}
		memset(&it2, 0, sizeof(it2));
		while (v != NULL && pt_json_iter_next(v, &it2, &k2, &v2))
			if ((rc = pt_json_set_copy(dst, k2, v2)) != PT_OK)
				return rc;
	}
	return PT_OK;
}

/* The key of a record of kind "kd": [E(collection) 0] E(id). */
static void
record_key(const struct kind *kd, struct pt_buf *k, const char *collection,
    const char *id)
{
	if (kd->has_collection)
		key_part(k, collection);
	key_add(k, id, strlen(id));
}

/*
 * Create or update the record ("collection" NULL for kinds without one)
 * of kind "kd": merge "fields", set "updated_at" (and "created_at" when
 * new) to "now".  *created (may be NULL) says whether it was new.
 */
static enum pt_err
merge(struct pt_txn *txn, const struct kind *kd, const char *collection,
    const char *id, const pt_json *fields, int64_t now, int *created)
{
	struct pt_buf key = { 0 };
	pt_json *rec = NULL;
	enum pt_err rc;
	int fresh = 0;

	if (created)
		*created = 0;
	if (fields != NULL && pt_json_type(fields) != PT_J_OBJECT)
		return PT_EINVAL;
	record_key(kd, &key, collection, id);
	rc = load(txn, kd->table, &key, &rec);
	if (rc == PT_ENOTFOUND) {
		fresh = 1;
		if ((rec = skeleton(kd, collection, id, now)) == NULL) {
			rc = PT_ENOMEM;
			goto out;
		}
	} else if (rc != PT_OK)
		goto out;
	if ((fields != NULL && (rc = merge_fields(kd, rec, fields)) !=
	    PT_OK) || (rc = set_time(rec, "updated_at", now)) != PT_OK ||
	    (rc = save(txn, kd->table, &key, rec)) != PT_OK)
		goto out;
	if (created)
		*created = fresh;
out:
	pt_json_put(rec);
	pt_buf_free(&key);
	return rc;
}

/* Read the record of kind "kd" as a new reference. */
static enum pt_err
record_get(struct pt_txn *txn, const struct kind *kd, const char *collection,
    const char *id, pt_json **out)
{
	struct pt_buf key = { 0 };
	enum pt_err rc;

	record_key(kd, &key, collection, id);
	rc = load(txn, kd->table, &key, out);
	pt_buf_free(&key);
	return rc;
}

/* Delete the record at "key" of "table"; PT_ENOTFOUND when absent. */
static enum pt_err
drop(struct pt_txn *txn, enum pt_table table, const struct pt_buf *key)
{
	if (key->failed)
		return PT_ENOMEM;
	return pt_del(txn, table, key->data, key->len);
}

/* Delete the record of kind "kd"; PT_ENOTFOUND when absent. */
static enum pt_err
record_delete(struct pt_txn *txn, const struct kind *kd,
    const char *collection, const char *id)
{
	struct pt_buf key = { 0 };
	enum pt_err rc;

	record_key(kd, &key, collection, id);
	rc = drop(txn, kd->table, &key);
	pt_buf_free(&key);
	return rc;
}

/*
 * Call "cb" with each record of "table" whose key begins with "prefix"
 * ("plen" bytes; 0: all), in key order.  Keys of another length than
 * "keylen" (0: any) are skipped.
 */
static enum pt_err
walk(struct pt_txn *txn, enum pt_table table, const void *prefix,
    size_t plen, size_t keylen, pt_rec_cb cb, void *arg)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	pt_json *rec;
	enum pt_err rc;
	int stop;

	if ((rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		return rc;
	for (rc = pt_cursor_seek(cur, plen ? prefix : NULL, plen, PT_SEEK_GE,
	    &k, &v); rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (plen && (k.len < plen || memcmp(k.data, prefix, plen) != 0))
			break;
		if (keylen && k.len != keylen)
			continue;
		if ((rc = decode(txn, &v, &rec)) != PT_OK)
			goto out;
		stop = cb(arg, rec);
		pt_json_put(rec);
		if (stop)
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	return rc;
}

/* Users, objects and tenants: records of a kind, by id. */

enum pt_err
pt_user_merge(struct pt_txn *txn, const char *id, const pt_json *fields,
    int64_t now, int *created)
{
	return merge(txn, &user_kind, NULL, id, fields, now, created);
}

enum pt_err
pt_user_get(struct pt_txn *txn, const char *id, pt_json **out)
{
	return record_get(txn, &user_kind, NULL, id, out);
}

enum pt_err
pt_user_delete(struct pt_txn *txn, const char *id)
{
	return record_delete(txn, &user_kind, NULL, id);
}

enum pt_err
pt_users_list(struct pt_txn *txn, pt_rec_cb cb, void *arg)
{
	return walk(txn, PT_T_USERS, NULL, 0, 0, cb, arg);
}

enum pt_err
pt_tenant_merge(struct pt_txn *txn, const char *id, const pt_json *fields,
    int64_t now, int *created)
{
	return merge(txn, &tenant_kind, NULL, id, fields, now, created);
}

enum pt_err
pt_tenant_get(struct pt_txn *txn, const char *id, pt_json **out)
{
	return record_get(txn, &tenant_kind, NULL, id, out);
}

enum pt_err
pt_tenant_delete(struct pt_txn *txn, const char *id)
{
	return record_delete(txn, &tenant_kind, NULL, id);
}

enum pt_err
pt_tenants_list(struct pt_txn *txn, pt_rec_cb cb, void *arg)
{
	return walk(txn, PT_T_TENANTS, NULL, 0, 0, cb, arg);
}

enum pt_err
pt_object_merge(struct pt_txn *txn, const char *collection, const char *id,
    const pt_json *fields, int64_t now, int *created)
{
	return merge(txn, &object_kind, collection, id, fields, now, created);
}

enum pt_err
pt_object_get(struct pt_txn *txn, const char *collection, const char *id,
    pt_json **out)
{
	return record_get(txn, &object_kind, collection, id, out);
}

/*
 * Delete the object and every subscription to it.
 * NOTE: the subscriptions go even when the object itself was never set
 * (subscribing does not require it); PT_ENOTFOUND still says the object
 * record was absent.
 */
enum pt_err
pt_object_delete(struct pt_txn *txn, const char *collection, const char *id)
{
	struct pt_buf k = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val kv, vv;
	enum pt_err rc, found;

	record_key(&object_kind, &k, collection, id);
	if ((found = drop(txn, PT_T_OBJECTS, &k)) != PT_OK &&
	    found != PT_ENOTFOUND) {
		rc = found;
		goto out;
	}
	/* Subscriptions: the object key plus a separator is their prefix. */
	if (pt_buf_add(&k, "", 1) != PT_OK) {
		rc = PT_ENOMEM;
		goto out;
	}
	if ((rc = pt_cursor_open(txn, PT_T_SUBS, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, k.data, k.len, PT_SEEK_GE, &kv, &vv);
	    rc == PT_OK; rc = pt_cursor_next(cur, &kv, &vv)) {
		if (kv.len < k.len || memcmp(kv.data, k.data, k.len) != 0)
			break;
		if ((rc = pt_cursor_del(cur)) != PT_OK)
			goto out;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
	if (rc == PT_OK)
		rc = found;
out:
	pt_cursor_close(cur);
	pt_buf_free(&k);
	return rc;
}

enum pt_err
pt_objects_list(struct pt_txn *txn, const char *collection, pt_rec_cb cb,
    void *arg)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if (collection != NULL)
		key_part(&k, collection);
	rc = k.failed ? PT_ENOMEM : walk(txn, PT_T_OBJECTS, k.data, k.len, 0,
	    cb, arg);
	pt_buf_free(&k);
	return rc;
}

/* Subscriptions. */

/*
 * The key of the subscription of "recipient" to (collection, id), and
 * (when "canon" is not NULL) the recipient as the record keeps it: a user
 * id string, or {"id", "collection"}.  A reference whose collection is
 * "$users" is the user of that id.  PT_EINVAL for anything but a string
 * or an object with string "id" and "collection".
 */
static enum pt_err
sub_key(struct pt_buf *k, const char *collection, const char *id,
    const pt_json *recipient, pt_json **canon)
{
	const char *rid, *rcoll;
	size_t idlen, colllen;
	pt_json *c = NULL;

	if (canon)
		*canon = NULL;
	if (pt_json_type(recipient) == PT_J_STRING) {
		rid = pt_json_str(recipient, &idlen);
		rcoll = "$users";
		colllen = 6;
	} else if (pt_json_type(recipient) == PT_J_OBJECT &&
	    pt_json_type(pt_json_get(recipient, "id")) == PT_J_STRING &&
	    pt_json_type(pt_json_get(recipient, "collection")) ==
	    PT_J_STRING) {
		rid = pt_json_str(pt_json_get(recipient, "id"), &idlen);
		rcoll = pt_json_str(pt_json_get(recipient, "collection"),
		    &colllen);
	} else
		return PT_EINVAL;
	key_part(k, collection);
	key_part(k, id);
	if (colllen == 6 && memcmp(rcoll, "$users", 6) == 0) {
		pt_buf_addc(k, 'u');
		key_add(k, rid, idlen);
		if (canon && (c = pt_json_new_str(rid, idlen)) == NULL)
			return PT_ENOMEM;
	} else {
		pt_buf_addc(k, 'o');
		key_add(k, rcoll, colllen);
		pt_buf_add(k, "", 1);
		key_add(k, rid, idlen);
		if (canon && ((c = pt_json_new_object()) == NULL ||
		    pt_json_set(c, "id", pt_json_new_str(rid, idlen)) !=
		    PT_OK || pt_json_set(c, "collection",
		    pt_json_new_str(rcoll, colllen)) != PT_OK)) {
			pt_json_put(c);
			return PT_ENOMEM;
		}
	}
	if (k->failed) {
		pt_json_put(c);
		return PT_ENOMEM;
	}
	if (canon)
		*canon = c;
	return PT_OK;
}

/*
 * Subscribe "recipient" to (collection, id) with "properties" (NULL or
 * JSON null: {}); subscribing again replaces the properties and keeps
 * "created_at".
 */
enum pt_err
pt_subscription_add(struct pt_txn *txn, const char *collection,
    const char *id, const pt_json *recipient, const pt_json *properties,
    int64_t now)
{
	struct pt_buf k = { 0 };
	pt_json *rec = NULL, *canon = NULL, *props;
	enum pt_err rc;

	if ((rc = sub_key(&k, collection, id, recipient, &canon)) != PT_OK)
		goto out;
	rc = load(txn, PT_T_SUBS, &k, &rec);
	if (rc == PT_ENOTFOUND) {
		rc = PT_ENOMEM;
		if ((rec = pt_json_new_object()) == NULL ||
		    pt_json_set(rec, "collection",
		    pt_json_new_cstr(collection)) != PT_OK ||
		    pt_json_set(rec, "id", pt_json_new_cstr(id)) != PT_OK)
			goto out;
		/* The set takes "canon", failing or not. */
		rc = pt_json_set(rec, "recipient", canon);
		canon = NULL;
		if (rc != PT_OK)
			goto out;
		rc = PT_ENOMEM;
		if (pt_json_set_null(rec, "properties") != PT_OK ||
		    set_time(rec, "created_at", now) != PT_OK)
			goto out;
	} else if (rc != PT_OK)
		goto out;
	rc = PT_ENOMEM;
	if ((props = properties != NULL ? pt_json_copy(properties) :
	    pt_json_new_object()) == NULL)
		goto out;
	if (pt_json_set(rec, "properties", props) != PT_OK ||
	    set_time(rec, "updated_at", now) != PT_OK)
		goto out;
	rc = save(txn, PT_T_SUBS, &k, rec);
out:
	pt_json_put(canon);
	pt_json_put(rec);
	pt_buf_free(&k);
	return rc;
}

enum pt_err
pt_subscription_remove(struct pt_txn *txn, const char *collection,
    const char *id, const pt_json *recipient)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if ((rc = sub_key(&k, collection, id, recipient, NULL)) == PT_OK)
		rc = drop(txn, PT_T_SUBS, &k);
	pt_buf_free(&k);
	return rc;
}

enum pt_err
pt_subscriptions_list(struct pt_txn *txn, const char *collection,
    const char *id, pt_rec_cb cb, void *arg)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	key_part(&k, collection);
	key_part(&k, id);
	rc = k.failed ? PT_ENOMEM : walk(txn, PT_T_SUBS, k.data, k.len, 0, cb,
	    arg);
	pt_buf_free(&k);
	return rc;
}

/* Audiences. */

/* Member key: E(key) 0 E(user) 0 [E(tenant)]; "" counts as no tenant. */
static void
member_key(struct pt_buf *k, const char *key, const char *user,
    const char *tenant)
{
	key_part(k, key);
	key_part(k, user);
	if (tenant != NULL)
		key_add(k, tenant, strlen(tenant));
}

/* Set the audience's "updated_at", creating it when "create" is set. */
static enum pt_err
touch_audience(struct pt_txn *txn, const char *key, int64_t now, int create)
{
	struct pt_buf k = { 0 };
	pt_json *rec = NULL;
	enum pt_err rc;

	key_add(&k, key, strlen(key));
	rc = load(txn, PT_T_AUDIENCES, &k, &rec);
	if (rc == PT_ENOTFOUND && create) {
		rc = PT_ENOMEM;
		if ((rec = pt_json_new_object()) == NULL ||
		    pt_json_set(rec, "key", pt_json_new_cstr(key)) != PT_OK ||
		    set_time(rec, "created_at", now) != PT_OK)
			goto out;
	} else if (rc == PT_ENOTFOUND) {
		rc = PT_OK;
		goto out;
	} else if (rc != PT_OK)
		goto out;
	if ((rc = set_time(rec, "updated_at", now)) == PT_OK)
		rc = save(txn, PT_T_AUDIENCES, &k, rec);
out:
	pt_json_put(rec);
	pt_buf_free(&k);
	return rc;
}

/*
 * Add "user" (with "tenant", or NULL) to audience "key", creating the
 * audience on first use.  Adding an existing member changes nothing.
 */
enum pt_err
pt_audience_add(struct pt_txn *txn, const char *key, const char *user,
    const char *tenant, int64_t now)
{
	struct pt_buf k = { 0 };
	struct pt_val v;
	pt_json *rec = NULL;
	enum pt_err rc;

	if (tenant != NULL && *tenant == '\0')
		tenant = NULL;
	member_key(&k, key, user, tenant);
	if (k.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	if ((rc = pt_get(txn, PT_T_AUD_MEMBERS, k.data, k.len, &v)) !=
	    PT_ENOTFOUND)
		goto out;	/* PT_OK: a member already */
	rc = PT_ENOMEM;
	if ((rec = pt_json_new_object()) == NULL ||
	    pt_json_set(rec, "audience", pt_json_new_cstr(key)) != PT_OK ||
	    pt_json_set(rec, "user", pt_json_new_cstr(user)) != PT_OK ||
	    pt_json_set_cstr(rec, "tenant", tenant) != PT_OK ||
	    set_time(rec, "added_at", now) != PT_OK)
		goto out;
	if ((rc = save(txn, PT_T_AUD_MEMBERS, &k, rec)) != PT_OK)
		goto out;
	rc = touch_audience(txn, key, now, 1);
out:
	pt_json_put(rec);
	pt_buf_free(&k);
	return rc;
}

/*
 * Remove the member; the audience stays, even empty.
 * NOTE: there is no "now" here, so the audience's "updated_at" takes the
 * wall clock (pt_now_us).
 */
enum pt_err
pt_audience_remove(struct pt_txn *txn, const char *key, const char *user,
    const char *tenant)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if (tenant != NULL && *tenant == '\0')
		tenant = NULL;
	member_key(&k, key, user, tenant);
	if ((rc = drop(txn, PT_T_AUD_MEMBERS, &k)) == PT_OK)
		rc = touch_audience(txn, key, pt_now_us(), 0);
	pt_buf_free(&k);
	return rc;
}

enum pt_err
pt_audiences_list(struct pt_txn *txn, pt_rec_cb cb, void *arg)
{
	return walk(txn, PT_T_AUDIENCES, NULL, 0, 0, cb, arg);
}

enum pt_err
pt_audience_members(struct pt_txn *txn, const char *key, pt_rec_cb cb,
    void *arg)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	key_part(&k, key);
	rc = k.failed ? PT_ENOMEM : walk(txn, PT_T_AUD_MEMBERS, k.data, k.len,
	    0, cb, arg);
	pt_buf_free(&k);
	return rc;
}

/* Runs. */

/*
 * The cancellation index key of run "rec" (id "id") into "k": empty (and
 * PT_OK) when the run has no string "workflow" or "cancellation_key".
 */
static enum pt_err
run_index_key(struct pt_buf *k, const pt_json *rec,
    const uint8_t id[PT_ID_BIN])
{
	pt_json *wf = pt_json_get(rec, "workflow");
	pt_json *ck = pt_json_get(rec, "cancellation_key");
	const char *s;
	size_t n;

	if (pt_json_type(wf) != PT_J_STRING || pt_json_type(ck) != PT_J_STRING)
		return PT_OK;
	s = pt_json_str(wf, &n);
	key_add(k, s, n);
	pt_buf_add(k, "", 1);
	s = pt_json_str(ck, &n);
	key_add(k, s, n);
	pt_buf_add(k, "", 1);
	pt_buf_add(k, id, PT_ID_BIN);
	return k->failed ? PT_ENOMEM : PT_OK;
}

/*
 * Insert or replace run "id".  The (workflow, cancellation key) entry of
 * the previous version goes when either changed (or the key was cleared);
 * the new version's is written.
 */
static enum pt_err
run_write(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const pt_json *run, int fresh, const void *packed, size_t packed_len)
{
	struct pt_buf oldk = { 0 }, newk = { 0 };
	struct pt_val v;
	pt_json *old = NULL;
	enum pt_err rc;

	if (pt_json_type(run) != PT_J_OBJECT)
		return PT_EINVAL;
	rc = fresh ? PT_ENOTFOUND : pt_get(txn, PT_T_RUNS, id, PT_ID_BIN, &v);
	if (rc == PT_OK) {
		/* An undecodable old version has no entry we can find. */
		if (decode(txn, &v, &old) == PT_OK &&
		    (rc = run_index_key(&oldk, old, id)) != PT_OK)
			goto out;
	} else if (rc != PT_ENOTFOUND)
		goto out;
	if ((rc = run_index_key(&newk, run, id)) != PT_OK)
		goto out;
	if (oldk.len > 0 && (oldk.len != newk.len ||
	    memcmp(oldk.data, newk.data, oldk.len) != 0)) {
		rc = pt_del(txn, PT_T_RUNS_BY_KEY, oldk.data, oldk.len);
		if (rc != PT_OK && rc != PT_ENOTFOUND)
			goto out;
	}
	if (newk.len > 0 && (rc = pt_put(txn, PT_T_RUNS_BY_KEY, newk.data,
	    newk.len, "", 0, 0)) != PT_OK)
		goto out;
	if (packed != NULL)
		rc = pt_put(txn, PT_T_RUNS, id, PT_ID_BIN, packed, packed_len,
		    PT_PUT_APPEND);
	else {
		struct pt_buf text = { 0 }, b = { 0 };

		/* A run holds the event's data: packed like the event. */
		if ((rc = pt_json_write(&text, (pt_json *)run, PT_JSON_PLAIN)) ==
		    PT_OK && (rc = pt_evrec_pack_json(txn, text.data, text.len,
		    &b)) == PT_OK)
			rc = pt_put(txn, PT_T_RUNS, id, PT_ID_BIN, b.data, b.len,
			    old == NULL ? PT_PUT_APPEND : 0);
		pt_buf_free(&text);
		pt_buf_free(&b);
	}
out:
	pt_json_put(old);
	pt_buf_free(&oldk);
	pt_buf_free(&newk);
	return rc;
}

enum pt_err
pt_run_put(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const pt_json *run)
{
	return run_write(txn, id, run, 0, NULL, 0);
}

enum pt_err
pt_run_create(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const pt_json *run)
{
	return run_write(txn, id, run, 1, NULL, 0);
}

enum pt_err
pt_run_create_packed(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const pt_json *run, const void *packed, size_t len)
{
	return run_write(txn, id, run, 1, packed, len);
}

enum pt_err
pt_run_get(struct pt_txn *txn, const uint8_t id[PT_ID_BIN], pt_json **out)
{
	struct pt_val v;
	enum pt_err rc;

	*out = NULL;
	if ((rc = pt_get(txn, PT_T_RUNS, id, PT_ID_BIN, &v)) != PT_OK)
		return rc;
	return decode(txn, &v, out);
}

/* Does string member "key" of "rec" equal "s"? */
static int
str_member_is(const pt_json *rec, const char *key, const char *s)
{
	pt_json *v = pt_json_get(rec, key);
	const char *t;
	size_t n;

	if (pt_json_type(v) != PT_J_STRING)
		return 0;
	t = pt_json_str(v, &n);
	return n == strlen(s) && memcmp(t, s, n) == 0;
}

/*
 * Runs of "workflow" with "cancellation_key", oldest first (the index
 * ends in the time-ordered run id).
 * NOTE: "cb" must not write runs while the walk is on: collect, then
 * write.
 */
enum pt_err
pt_runs_by_cancellation(struct pt_txn *txn, const char *workflow,
    const char *cancellation_key, pt_rec_cb cb, void *arg)
{
	struct pt_buf prefix = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val k, v, rv;
	pt_json *rec;
	enum pt_err rc;
	int stop;

	key_part(&prefix, workflow);
	key_part(&prefix, cancellation_key);
	if (prefix.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	if ((rc = pt_cursor_open(txn, PT_T_RUNS_BY_KEY, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, prefix.data, prefix.len, PT_SEEK_GE, &k,
	    &v); rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len < prefix.len ||
		    memcmp(k.data, prefix.data, prefix.len) != 0)
			break;
		if (k.len != prefix.len + PT_ID_BIN)
			continue;
		rc = pt_get(txn, PT_T_RUNS, (const uint8_t *)k.data +
		    prefix.len, PT_ID_BIN, &rv);
		if (rc == PT_ENOTFOUND)
			continue;	/* a stale entry */
		if (rc != PT_OK || (rc = decode(txn, &rv, &rec)) != PT_OK)
			goto out;
		/* Hashed parts: make sure it is really this pair. */
		if (!str_member_is(rec, "workflow", workflow) ||
		    !str_member_is(rec, "cancellation_key", cancellation_key)) {
			pt_json_put(rec);
			continue;
		}
		stop = cb(arg, rec);
		pt_json_put(rec);
		if (stop)
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	pt_buf_free(&prefix);
	return rc;
}

/* All runs oldest first, strictly after run id "after" when given. */
enum pt_err
pt_runs_list(struct pt_txn *txn, const uint8_t *after, pt_rec_cb cb,
    void *arg)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	pt_json *rec;
	enum pt_err rc;
	int stop;

	if ((rc = pt_cursor_open(txn, PT_T_RUNS, &cur)) != PT_OK)
		return rc;
	rc = pt_cursor_seek(cur, after, after ? PT_ID_BIN : 0, PT_SEEK_GE, &k,
	    &v);
	if (rc == PT_OK && after != NULL && k.len == PT_ID_BIN &&
	    memcmp(k.data, after, PT_ID_BIN) == 0)
		rc = pt_cursor_next(cur, &k, &v);
	for (; rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len != PT_ID_BIN)
			continue;
		if ((rc = decode(txn, &v, &rec)) != PT_OK)
			goto out;
		stop = cb(arg, rec);
		pt_json_put(rec);
		if (stop)
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	return rc;
}
