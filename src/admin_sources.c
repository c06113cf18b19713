/*
 * admin_sources.c - the configured sources, their status and the
 * event types they received (porter-api(7) "Sources").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "capacity.h"
#include "eventlog.h"
#include "ids.h"
#include "json.h"
#include "retention.h"

/* Events counted per status call at most ("events_count_capped"). */
#define COUNT_MAX	1000000
#define RECENT_DAYS	30
#define DAY_US		(86400LL * 1000000)

/* --------------------------------------------------------- sources */

/* Endpoint path and URL members of an exported environment. */
static void
add_endpoint(struct admin *a, pt_json *e, const struct pt_env *env)
{
	char path[512], url[1024];

	snprintf(path, sizeof(path), "%s/receive/%s", a->prefix,
	    env->endpoint_id);
	pt_json_set(e, "endpoint_path", pt_json_new_cstr(path));
	if (env->public_url != NULL) {
		snprintf(url, sizeof(url), "%s%s", env->public_url, path);
		pt_json_set(e, "endpoint_url", pt_json_new_cstr(url));
	} else
		pt_json_set_null(e, "endpoint_url");
	pt_json_set(e, "mappings_count", pt_json_new_int((int64_t)
	    env->nmappings));
}

/*
 * The configured sources as `porterctl export` shows them (secrets
 * masked), each environment with its endpoint path, URL (when a
 * public_url is configured) and mapping count.  A new reference.
 */
static pt_json *
sources_json(struct admin *a, const struct pt_config *cfg)
{
	pt_json *doc, *srcs, *out, *s, *envs, *e;
	struct pt_json_iter it;
	const struct pt_env *env;
	const char *name;
	size_t i;

	if ((doc = pt_config_export(cfg, 0)) == NULL)
		return NULL;
	srcs = pt_json_get(doc, "sources");
	for (i = 0; i < pt_json_len(srcs); i++) {
		s = pt_json_index(srcs, i);
		envs = pt_json_get(s, "environments");
		memset(&it, 0, sizeof(it));
		while (pt_json_iter_next(envs, &it, &name, &e))
			if ((env = pt_config_env(cfg, pt_json_str(pt_json_get(s,
			    "key"), NULL), name)) != NULL)
				add_endpoint(a, e, env);
	}
	out = pt_json_ref(srcs);
	pt_json_put(doc);
	return out;
}

/* The exported source "key" in "srcs", or NULL. */
static pt_json *
find_source(pt_json *srcs, const char *key)
{
	const char *k;
	size_t i;

	for (i = 0; i < pt_json_len(srcs); i++)
		if ((k = pt_json_str(pt_json_get(pt_json_index(srcs, i), "key"),
		    NULL)) != NULL && strcmp(k, key) == 0)
			return pt_json_index(srcs, i);
	return NULL;
}

/* Is "key" a configured source? */
int
adm_have_source(const struct pt_config *cfg, const char *key)
{
	size_t i;

	for (i = 0; i < cfg->nenvs; i++)
		if (strcmp(cfg->envs[i]->source_key, key) == 0)
			return 1;
	return 0;
}

int
api_sources(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o, *srcs;
	enum pt_err rc;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if ((srcs = sources_json(a, cfg)) == NULL ||
	    (o = pt_json_new_object()) == NULL) {
		pt_json_put(srcs);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "data", srcs);
	return adm_send_json(a, 200, o);
}

int
api_source(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *srcs, *s;
	enum pt_err rc;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if ((srcs = sources_json(a, cfg)) == NULL)
		return adm_fail(a, 500, "internal_error", "out of memory");
	if ((s = find_source(srcs, a->seg[1])) == NULL) {
		pt_json_put(srcs);
		return adm_fail(a, 404, "not_found", "no source %s", adm_shown(a->seg[1]));
	}
	pt_json_ref(s);
	pt_json_put(srcs);
	return adm_send_json(a, 200, s);
}

/* -------------------------------------------------------------- status */

/*
 * Walk index "table" under "prefix" ("plen" bytes, NUL-separated parts)
 * from the newest entry back to "since": *count entries (at most
 * COUNT_MAX, *capped set when cut), *last the newest entry's time.
 */
static enum pt_err
count_recent(struct pt_txn *txn, enum pt_table table, const char *prefix,
    size_t plen, int64_t since, uint64_t *count, int64_t *last, int *capped)
{
	struct pt_cursor *cur = NULL;
	struct pt_buf seek = { 0 };
	struct pt_val k;
	enum pt_err rc;
	int64_t t;
	static const uint8_t ones[PT_ID_BIN + 1] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	*count = 0;
	*last = 0;
	*capped = 0;
	pt_buf_add(&seek, prefix, plen);
	pt_buf_add(&seek, ones, sizeof(ones));
	if (seek.failed)
		return PT_ENOMEM;
	if ((rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, seek.data, seek.len, PT_SEEK_LE, &k,
	    NULL); rc == PT_OK; rc = pt_cursor_prev(cur, &k, NULL)) {
		if (k.len != plen + PT_ID_BIN || memcmp(k.data, prefix, plen) !=
		    0)
			break;
		t = pt_id_time((const uint8_t *)k.data + plen);
		if (*last == 0)
			*last = t;
		if (t < since)
			break;
		if (++*count >= COUNT_MAX) {
			*capped = 1;
			break;
		}
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	pt_buf_free(&seek);
	return rc;
}

/*
 * Status of source "key" as Knock's MAPI has it: events in the last 30
 * days, the last event received, the number of mappings; in total and per
 * environment.
 */
static enum pt_err
source_status(struct admin *a, const struct pt_config *cfg, const char *key,
    pt_json **out)
{
	struct pt_buf pfx = { 0 };
	struct pt_txn *txn;
	pt_json *o = NULL, *envs = NULL, *e;
	enum pt_err rc;
	int64_t since = a->ctx->now() - RECENT_DAYS * DAY_US, last;
	uint64_t count;
	size_t i, mappings = 0;
	int capped, any_capped = 0;

	*out = NULL;
	if ((rc = adm_txn(a, &txn)) != PT_OK)
		return rc;
	rc = PT_ENOMEM;
	if ((o = pt_json_new_object()) == NULL ||
	    (envs = pt_json_new_array()) == NULL)
		goto out;
	pt_json_set(o, "source", pt_json_new_cstr(key));
	pt_buf_add(&pfx, key, strlen(key) + 1);
	if (pfx.failed)
		goto out;
	if ((rc = count_recent(txn, PT_T_EV_SOURCE, pfx.data, pfx.len, since,
	    &count, &last, &capped)) != PT_OK)
		goto out;
	any_capped |= capped;
	pt_json_set(o, "events_count", pt_json_new_int((int64_t)count));
	adm_set_time(o, "last_event_received", last);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *env = cfg->envs[i];

		if (strcmp(env->source_key, key) != 0)
			continue;
		mappings += env->nmappings;
		pt_buf_reset(&pfx);
		pt_buf_add(&pfx, key, strlen(key) + 1);
		pt_buf_add(&pfx, env->name, strlen(env->name) + 1);
		rc = PT_ENOMEM;
		if (pfx.failed || (e = pt_json_new_object()) == NULL ||
		    pt_json_append(envs, e) != PT_OK)
			goto out;
		if ((rc = count_recent(txn, PT_T_EV_ENV, pfx.data, pfx.len,
		    since, &count, &last, &capped)) != PT_OK)
			goto out;
		any_capped |= capped;
		pt_json_set(e, "environment", pt_json_new_cstr(env->name));
		pt_json_set(e, "events_count", pt_json_new_int((int64_t)count));
		adm_set_time(e, "last_event_received", last);
		pt_json_set(e, "mappings_count", pt_json_new_int((int64_t)
		    env->nmappings));
	}
	pt_json_set(o, "mappings_count", pt_json_new_int((int64_t)mappings));
	pt_json_set(o, "events_count_days", pt_json_new_int(RECENT_DAYS));
	pt_json_set(o, "events_count_capped", pt_json_new_bool(any_capped));
	pt_json_set(o, "environments", envs);
	envs = NULL;
	*out = o;
	o = NULL;
	rc = PT_OK;
out:
	pt_buf_free(&pfx);
	pt_json_put(envs);
	pt_json_put(o);
	return rc;
}

int
api_source_status(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o;
	enum pt_err rc;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if (!adm_have_source(cfg, a->seg[1]))
		return adm_fail(a, 404, "not_found", "no source %s", adm_shown(a->seg[1]));
	if ((rc = source_status(a, cfg, a->seg[1], &o)) != PT_OK)
		return adm_store_fail(a, rc, "reading the log");
	return adm_send_json(a, 200, o);
}

/*
 * The store's size and map use; "nearly_full" above 90% of what it can
 * reach (capacity.h).
 */
static pt_json *
store_json(struct admin *a)
{
	struct pt_store_stat st;
	pt_json *o, *counts;
	int t;

	if ((o = pt_json_new_object()) == NULL)
		return NULL;
	if (pt_store_stat(a->ctx->store, &st) != PT_OK)
		return o;
	pt_json_set(o, "map_size", pt_json_new_int((int64_t)st.map_size));
	pt_json_set(o, "used", pt_json_new_int((int64_t)st.used));
	pt_json_set(o, "map_used_percent", pt_json_new_double(st.map_size ?
	    100.0 * (double)st.used / (double)st.map_size : 0.0));
	pt_json_set(o, "nearly_full", pt_json_new_bool(
	    pt_capacity_nearly_full(&st)));
	pt_json_set(o, "readers", pt_json_new_int(st.readers));
	pt_json_set(o, "max_readers", pt_json_new_int(st.max_readers));
	pt_json_set(o, "backend", pt_json_new_cstr(pt_store_backend(
	    a->ctx->store)));
	if (*st.server) {
		pt_json_set(o, "server", pt_json_new_cstr(st.server));
		pt_json_set(o, "round_trip_us", pt_json_new_int((int64_t)
		    st.round_trip_us));
		pt_json_set(o, "connections", pt_json_new_int(st.readers));
		pt_json_set(o, "max_connections", pt_json_new_int(
		    st.max_readers));
	}
	if ((counts = pt_json_new_object()) != NULL) {
		for (t = 0; t < PT_T__MAX; t++)
			pt_json_set(counts, pt_table_name(t),
			    pt_json_new_int((int64_t)st.entries[t]));
		pt_json_set(o, "entries", counts);
	}
	return o;
}

int
api_status(struct admin *a)
{
	const struct pt_config *cfg;
	pt_json *o, *srcs, *s;
	enum pt_err rc;
	size_t i, j;

	if ((rc = adm_config(a, &cfg)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if ((o = pt_json_new_object()) == NULL ||
	    (srcs = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "store", store_json(a));
	pt_json_set(o, "log_retention_days", pt_json_new_int(
	    cfg->log_retention_days > 0 ? cfg->log_retention_days :
	    PT_RETENTION_DAYS_DEFAULT));
	pt_json_set(o, "sources", srcs);
	/* Each source once (envs are sorted by endpoint, not source). */
	for (i = 0; i < cfg->nenvs; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(cfg->envs[j]->source_key,
			    cfg->envs[i]->source_key) == 0)
				break;
		if (j < i)
			continue;
		if ((rc = source_status(a, cfg, cfg->envs[i]->source_key, &s)) !=
		    PT_OK) {
			pt_json_put(o);
			return adm_store_fail(a, rc, "reading the log");
		}
		pt_json_append(srcs, s);
	}
	return adm_send_json(a, 200, o);
}

/* --------------------------------------------------------- event types */

struct types_walk {
	pt_json		*arr;
	const char	*source;
	const char	*env;
	int		 failed;
};

static int
add_type(void *arg, const char *type, uint64_t count, int64_t first,
    int64_t last)
{
	struct types_walk *w = arg;
	pt_json *o;

	if ((o = pt_json_new_object()) == NULL ||
	    pt_json_append(w->arr, o) != PT_OK) {
		w->failed = 1;
		return 1;
	}
	pt_json_set(o, "source", pt_json_new_cstr(w->source));
	pt_json_set(o, "environment", pt_json_new_cstr(w->env));
	pt_json_set(o, "event", pt_json_new_cstr(type));
	pt_json_set(o, "count", pt_json_new_int((int64_t)count));
	adm_set_time(o, "first_received_at", first);
	adm_set_time(o, "last_received_at", last);
	return 0;
}

/*
 * Received event types per environment (count, first and last seen), of
 * source "only" (NULL: every source) and environment "env" (NULL: all).
 */
static int
types(struct admin *a, const char *only, const char *env)
{
	const struct pt_config *cfg;
	struct types_walk w;
	struct pt_txn *txn;
	pt_json *o;
	enum pt_err rc;
	size_t i;

	if ((rc = adm_config(a, &cfg)) != PT_OK || (rc = adm_txn(a, &txn)) != PT_OK)
		return adm_store_fail(a, rc, "reading the configuration");
	if (only != NULL && !adm_have_source(cfg, only))
		return adm_fail(a, 404, "not_found", "no source %s", adm_shown(only));
	memset(&w, 0, sizeof(w));
	if ((o = pt_json_new_object()) == NULL ||
	    (w.arr = pt_json_new_array()) == NULL) {
		pt_json_put(o);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	pt_json_set(o, "data", w.arr);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct pt_env *e = cfg->envs[i];

		if ((only && strcmp(e->source_key, only) != 0) ||
		    (env && strcmp(e->name, env) != 0))
			continue;
		w.source = e->source_key;
		w.env = e->name;
		if ((rc = pt_eventlog_types(txn, e->source_key, e->name,
		    add_type, &w)) != PT_OK) {
			pt_json_put(o);
			return adm_store_fail(a, rc, "reading the event types");
		}
	}
	if (w.failed) {
		pt_json_put(o);
		return adm_fail(a, 500, "internal_error", "out of memory");
	}
	return adm_send_json(a, 200, o);
}

int
api_event_types(struct admin *a)
{
	static const char *const allowed[] = { "source", "environment", NULL };
	const char *bad = adm_unknown_param(a, allowed);

	if (bad != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want source, environment)", adm_shown(bad));
	return types(a, adm_param(a, "source"), adm_param(a, "environment"));
}

int
api_source_events(struct admin *a)
{
	static const char *const allowed[] = { "environment", NULL };
	const char *bad = adm_unknown_param(a, allowed);

	if (bad != NULL)
		return adm_fail(a, 400, "invalid_parameter", "unknown parameter "
		    "%s (want environment)", adm_shown(bad));
	return types(a, a->seg[1], adm_param(a, "environment"));
}
