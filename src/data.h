/*
 * data.h - the records actions create: users, objects, tenants,
 * subscriptions, audiences and workflow runs.
 *
 * Every function works inside the caller's transaction (write for changes),
 * so an event's effects commit or vanish together with its log records.
 * Records are JSON objects; what the getters and list callbacks return is
 * a NEW reference (getters) or borrowed for the call (callbacks).
 * Ids are at most 256 bytes; collection names at most 256; the store keys
 * they are part of stay within the engine's key limit whatever their length
 * (long parts are hashed), and records always carry the full values.
 */
#ifndef PT_DATA_H
#define PT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "json.h"
#include "store.h"

/*
 * Users: {"id", "name", "email", "phone_number", "avatar", "locale",
 * "timezone", "properties": {...}, "created_at", "updated_at"}.
 * pt_user_merge: members of "fields" overwrite, absent ones stay;
 * "properties" merges key by key.  Creates the user when new.  "now" is µs.
 * *created (may be NULL) says whether the user was new.
 */
enum pt_err	pt_user_merge(struct pt_txn *, const char *id, const pt_json *fields,
		    int64_t now, int *created);
enum pt_err	pt_user_get(struct pt_txn *, const char *id, pt_json **out);
enum pt_err	pt_user_delete(struct pt_txn *, const char *id);

/* Objects: {"collection", "id", "name", "properties", created/updated}. */
enum pt_err	pt_object_merge(struct pt_txn *, const char *collection,
		    const char *id, const pt_json *fields, int64_t now,
		    int *created);
enum pt_err	pt_object_get(struct pt_txn *, const char *collection,
		    const char *id, pt_json **out);
/* Deletes the object and its subscriptions. */
enum pt_err	pt_object_delete(struct pt_txn *, const char *collection,
		    const char *id);

/* Tenants: {"id", "name", "settings", "properties", created/updated};
 * "settings" and "properties" merge key by key. */
enum pt_err	pt_tenant_merge(struct pt_txn *, const char *id,
		    const pt_json *fields, int64_t now, int *created);
enum pt_err	pt_tenant_get(struct pt_txn *, const char *id, pt_json **out);
enum pt_err	pt_tenant_delete(struct pt_txn *, const char *id);

/*
 * Subscriptions of recipients to an object.  A recipient is a user id
 * (JSON string) or an object reference {"id", "collection"}.  Record:
 * {"collection", "id", "recipient", "properties", created/updated}.
 * Adding again replaces the properties.  Remove: PT_ENOTFOUND if absent.
 */
enum pt_err	pt_subscription_add(struct pt_txn *, const char *collection,
		    const char *id, const pt_json *recipient,
		    const pt_json *properties, int64_t now);
enum pt_err	pt_subscription_remove(struct pt_txn *, const char *collection,
		    const char *id, const pt_json *recipient);

/*
 * Audiences: {"key", "created_at", "updated_at"}; created on first add.
 * Members: {"audience", "user", "tenant" (or null), "added_at"}.  Remove:
 * PT_ENOTFOUND if absent.
 */
enum pt_err	pt_audience_add(struct pt_txn *, const char *key,
		    const char *user, const char *tenant, int64_t now);
enum pt_err	pt_audience_remove(struct pt_txn *, const char *key,
		    const char *user, const char *tenant);

/*
 * Workflow runs: {"id": "run_...", "workflow", "status", "cancellation_key"
 * (or null), "recipients", "actor", "tenant", "data", "event_id",
 * "action_id", "created_at", "updated_at", ...}.  pt_run_put inserts or
 * replaces run "id" and keeps the (workflow, cancellation key) index right.
 * pt_run_create is pt_run_put for an id just made (pt_id_new), which no
 * run has: it does not look for an old version (on a database server, a
 * round trip an event saved).
 */
enum pt_err	pt_run_put(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const pt_json *run);
enum pt_err	pt_run_create(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    const pt_json *run);
/* The same with "run" already packed (pt_evrec_prepack_json of its text). */
enum pt_err	pt_run_create_packed(struct pt_txn *,
		    const uint8_t id[PT_ID_BIN], const pt_json *run,
		    const void *packed, size_t len);
enum pt_err	pt_run_get(struct pt_txn *, const uint8_t id[PT_ID_BIN],
		    pt_json **out);

/* Callbacks get a borrowed record; nonzero stops the walk. */
typedef int (*pt_rec_cb)(void *arg, pt_json *rec);

/* Runs of "workflow" with "cancellation_key", oldest first. */
enum pt_err	pt_runs_by_cancellation(struct pt_txn *, const char *workflow,
		    const char *cancellation_key, pt_rec_cb, void *arg);

/* Listings, in key order (runs: oldest first, after "after" if given). */
enum pt_err	pt_users_list(struct pt_txn *, pt_rec_cb, void *);
enum pt_err	pt_objects_list(struct pt_txn *, const char *collection,
		    pt_rec_cb, void *);
enum pt_err	pt_tenants_list(struct pt_txn *, pt_rec_cb, void *);
enum pt_err	pt_subscriptions_list(struct pt_txn *, const char *collection,
		    const char *id, pt_rec_cb, void *);
enum pt_err	pt_audiences_list(struct pt_txn *, pt_rec_cb, void *);
enum pt_err	pt_audience_members(struct pt_txn *, const char *key,
		    pt_rec_cb, void *);
enum pt_err	pt_runs_list(struct pt_txn *, const uint8_t *after,
		    pt_rec_cb, void *);

#endif
