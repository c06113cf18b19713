/*
 * eventlog.c - the event log and its indexes (see eventlog.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "conf.h"
#include "eventlog.h"
#include "evrec.h"
#include "timeutil.h"

const char *const pt_event_statuses[] = {
	"accepted",		/* its actions ran (or it has none to run) */
	"no_mapping",		/* typed, but no mapping for the type */
	"no_event_type",	/* no type: logged so the path can be fixed */
	"pending",		/* its workflow handlers are running */
	"failed",		/* a workflow handler failed */
	"interrupted",		/* its responder died while handlers ran */
	"idempotent",		/* a repeat of an executed event */
	"conflict",		/* a repeat while the first still runs */
	"rejected",		/* an enforced signature check failed */
	"invalid",		/* the body is not an acceptable payload */
	"ignored",		/* its preprocess script said skip */
	"script_failed",	/* its preprocess script failed: retried */
	NULL
};

const char *const pt_verify_statuses[] = {
	"enforced:verified",
	"enforced:failed",
	"not_enforced:verified",
	"not_enforced:failed",
	"not_enforced:unsigned",
	"replayed",
	NULL
};

static int
in_table(const char *const *table, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && table[i] != NULL; i++)
		if (strcmp(table[i], s) == 0)
			return 1;
	return 0;
}

/* Append "s" and its NUL to a key, as they are (data.c hashes long ones). */
static void
key_raw(struct pt_buf *k, const char *s)
{
	pt_buf_add(k, s, strlen(s) + 1);
}

/* Append ,"key":"value" (or null) to the metadata text. */
static void
member_str(struct pt_buf *b, const char *key, const char *value)
{
	pt_buf_adds(b, ",\"");
	pt_buf_adds(b, key);
	pt_buf_adds(b, "\":");
	if (value == NULL)
		pt_buf_adds(b, "null");
	else
		pt_buf_add_json_str(b, value, strlen(value));
}

static void
member_time(struct pt_buf *b, const char *key, int64_t us)
{
	char t[PT_RFC3339_LEN];

	if (us == 0) {
		member_str(b, key, NULL);
		return;
	}
	pt_fmt_rfc3339(us, t);
	member_str(b, key, t);
}

/*
 * The metadata JSON of a record, written as text: building a json-c tree
 * for it cost more than everything else the log does.  Its members fixed
 * before the write (add_fixed: the request, its verification, its
 * headers), then those the write decides (add_outcome).  Each starts with
 * a comma but the first.
 */
static void
add_fixed(const struct pt_event *ev, struct pt_buf *b)
{
	pt_buf_adds(b, "\"id\":");
	pt_buf_add_json_str(b, ev->id_text, strlen(ev->id_text));
	member_time(b, "received_at", ev->received_at);
	member_str(b, "source", ev->source);
	member_str(b, "environment", ev->environment);
	member_str(b, "endpoint_id", ev->endpoint_id);
	member_str(b, "event_type", ev->event_type);
	if (ev->event_type != NULL && ev->type_unverified)
		pt_buf_adds(b, ",\"event_type_unverified\":true");
	member_time(b, "event_time", ev->event_time);
	pt_buf_adds(b, ",\"verification\":{\"status\":");
	pt_buf_add_json_str(b, ev->verify_status, strlen(ev->verify_status));
	member_str(b, "reason", ev->verify_reason);
	pt_buf_adds(b, "},\"headers\":");
	if (ev->headers)
		pt_json_write(b, ev->headers, PT_JSON_PLAIN);
	else
		pt_buf_adds(b, "{}");
	pt_buf_adds(b, ",\"body_bytes\":");
	pt_buf_add_uint(b, ev->body_len);
}

static void
add_outcome(const struct pt_event *ev, struct pt_buf *b)
{
	struct pt_json_iter it = { 0 };
	const char *k;
	pt_json *v;

	pt_buf_adds(b, "\"status\":");
	pt_buf_add_json_str(b, ev->status, strlen(ev->status));
	pt_buf_adds(b, ",\"warnings\":");
	if (ev->warnings)
		pt_json_write(b, ev->warnings, PT_JSON_PLAIN);
	else
		pt_buf_adds(b, "[]");
	if (ev->error_code) {
		pt_buf_adds(b, ",\"error\":{\"code\":");
		pt_buf_add_json_str(b, ev->error_code, strlen(ev->error_code));
		member_str(b, "message", ev->error_message ? ev->error_message :
		    "");
		pt_buf_addc(b, '}');
	}
	while (ev->extra && pt_json_iter_next(ev->extra, &it, &k, &v)) {
		pt_buf_addc(b, ',');
		pt_buf_add_json_str(b, k, strlen(k));
		pt_buf_addc(b, ':');
		if (v == NULL)
			pt_buf_adds(b, "null");
		else
			pt_json_write(b, v, PT_JSON_PLAIN);
	}
}

/* "{", the outcome and a comma: the start of the metadata. */
static void
meta_head(const struct pt_event *ev, struct pt_buf *b)
{
	pt_buf_addc(b, '{');
	add_outcome(ev, b);
	pt_buf_addc(b, ',');
}

enum pt_err
pt_eventlog_prepack(struct pt_store *st, const struct pt_event *ev,
    struct pt_buf *guess, struct pt_buf *packed)
{
	struct pt_buf b = { 0 };
	enum pt_err rc = PT_ENOMEM;

	meta_head(ev, guess);
	pt_buf_add(&b, guess->data, guess->len);
	add_fixed(ev, &b);
	pt_buf_addc(&b, '}');
	if (!b.failed && !guess->failed)
		rc = pt_evrec_prepack_meta(st, b.data, b.len, packed);
	pt_buf_free(&b);
	return rc;
}

/* Bump the (source, env, type) counter. */
static enum pt_err
count_type(struct pt_txn *txn, const struct pt_event *ev)
{
	struct pt_buf k = { 0 };
	struct pt_val v;
	uint8_t rec[24];
	enum pt_err rc;
	uint64_t count = 0;
	int64_t first = ev->received_at;

	key_raw(&k, ev->source);
	key_raw(&k, ev->environment);
	pt_buf_adds(&k, ev->event_type);
	if (k.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	rc = pt_get(txn, PT_T_EV_TYPES, k.data, k.len, &v);
	if (rc == PT_OK && v.len == 24) {
		count = pt_be64_get(v.data);
		first = (int64_t)pt_be64_get((const uint8_t *)v.data + 8);
	} else if (rc != PT_OK && rc != PT_ENOTFOUND)
		goto out;
	pt_be64_put(rec, count + 1);
	pt_be64_put(rec + 8, (uint64_t)first);
	pt_be64_put(rec + 16, (uint64_t)ev->received_at);
	rc = pt_put(txn, PT_T_EV_TYPES, k.data, k.len, rec, sizeof(rec), 0);
out:
	pt_buf_free(&k);
	return rc;
}

/* Put index entry "parts... id" -> "" into "table". */
static enum pt_err
put_index(struct pt_txn *txn, enum pt_table table, const char *a,
    const char *b, const char *c, const uint8_t *id)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if (a)
		key_raw(&k, a);
	if (b)
		key_raw(&k, b);
	if (c)
		key_raw(&k, c);
	pt_buf_add(&k, id, PT_ID_BIN);
	rc = k.failed ? PT_ENOMEM : pt_put(txn, table, k.data, k.len, "", 0, 0);
	pt_buf_free(&k);
	return rc;
}

static enum pt_err
del_index(struct pt_txn *txn, enum pt_table table, const char *a,
    const char *b, const char *c, const uint8_t *id)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if (a)
		key_raw(&k, a);
	if (b)
		key_raw(&k, b);
	if (c)
		key_raw(&k, c);
	pt_buf_add(&k, id, PT_ID_BIN);
	rc = k.failed ? PT_ENOMEM : pt_del(txn, table, k.data, k.len);
	pt_buf_free(&k);
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

enum pt_err
pt_eventlog_append(struct pt_txn *txn, const struct pt_event *ev)
{
	struct pt_buf rec = { 0 };
	enum pt_err rc = PT_ENOMEM;
	int guessed, typed = ev->event_type != NULL &&
	    strlen(ev->event_type) <= PT_EVENT_TYPE_MAX;

	if (!in_table(pt_event_statuses, ev->status) ||
	    !in_table(pt_verify_statuses, ev->verify_status))
		return PT_EINVAL;
	if (pt_buf_reserve(&rec, 1024) != PT_OK)
		goto out;
	/* The outcome, and the rest unless it was guessed right ahead. */
	meta_head(ev, &rec);
	guessed = ev->packed_body != NULL && ev->packed_meta != NULL &&
	    rec.len == ev->guess_len && memcmp(rec.data, ev->guess,
	    rec.len) == 0;
	if (!guessed) {
		add_fixed(ev, &rec);
		pt_buf_addc(&rec, '}');
	}
	rc = PT_ENOMEM;
	if (rec.failed ||
	    (rc = ev->packed_body != NULL ? pt_evrec_put_packed(txn, ev->id,
	    rec.data, rec.len, guessed ? ev->packed_meta : NULL,
	    ev->packed_meta_len, ev->packed_body, ev->packed_body_len) :
	    pt_evrec_put(txn, ev->id, rec.data, rec.len, ev->body,
	    ev->body_len)) != PT_OK)
		goto out;
	if ((rc = put_index(txn, PT_T_EV_SOURCE, ev->source, NULL, NULL,
	    ev->id)) != PT_OK ||
	    (rc = put_index(txn, PT_T_EV_ENV, ev->source, ev->environment, NULL,
	    ev->id)) != PT_OK ||
	    (rc = put_index(txn, PT_T_EV_STATUS, ev->status, NULL, NULL,
	    ev->id)) != PT_OK)
		goto out;
	if (typed && ((rc = put_index(txn, PT_T_EV_TYPE, ev->source,
	    ev->environment, ev->event_type, ev->id)) != PT_OK ||
	    (!ev->type_unverified && (rc = count_type(txn, ev)) != PT_OK)))
		goto out;
	rc = PT_OK;
out:
	pt_buf_free(&rec);
	return rc;
}

enum pt_err
pt_eventlog_get(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    struct pt_buf *meta, struct pt_buf *body)
{
	return pt_evrec_get(txn, id, meta, body);
}

static int
str_is(pt_json *obj, const char *key, const char *want)
{
	const char *s = pt_json_str(pt_json_get(obj, key), NULL);

	return s != NULL && strcmp(s, want) == 0;
}

/* Does "meta" pass the filters the chosen index did not apply? */
static int
matches(const struct pt_log_query *q, pt_json *meta)
{
	if (q->source && !str_is(meta, "source", q->source))
		return 0;
	if (q->environment && !str_is(meta, "environment", q->environment))
		return 0;
	if (q->event_type && !str_is(meta, "event_type", q->event_type))
		return 0;
	if (q->status && !str_is(meta, "status", q->status))
		return 0;
	if (q->verify_status && !str_is(pt_json_get(meta, "verification"),
	    "status", q->verify_status))
		return 0;
	return 1;
}

enum pt_err
pt_eventlog_query(struct pt_txn *txn, const struct pt_log_query *q,
    pt_log_cb cb, void *arg)
{
	struct pt_buf prefix = { 0 }, seek = { 0 }, meta = { 0 }, body = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_table table;
	enum pt_err rc;
	pt_json *m;
	const uint8_t *id;
	size_t limit = q->limit ? q->limit : 50, got = 0, scanned = 0;
	int forward = q->after != NULL;
	static const uint8_t ones[PT_ID_BIN + 1] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	/* The narrowest index the query allows. */
	if (q->source && q->environment && q->event_type) {
		table = PT_T_EV_TYPE;
		key_raw(&prefix, q->source);
		key_raw(&prefix, q->environment);
		key_raw(&prefix, q->event_type);
	} else if (q->source && q->environment) {
		table = PT_T_EV_ENV;
		key_raw(&prefix, q->source);
		key_raw(&prefix, q->environment);
	} else if (q->source) {
		table = PT_T_EV_SOURCE;
		key_raw(&prefix, q->source);
	} else if (q->status) {
		table = PT_T_EV_STATUS;
		key_raw(&prefix, q->status);
	} else
		table = PT_T_EVENTS;
	if (prefix.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	pt_buf_add(&seek, prefix.data, prefix.len);
	if (forward)
		pt_buf_add(&seek, q->after, PT_ID_BIN);
	else if (q->before)
		pt_buf_add(&seek, q->before, PT_ID_BIN);
	else
		pt_buf_add(&seek, ones, sizeof(ones));
	if (seek.failed) {
		rc = PT_ENOMEM;
		goto out;
	}
	if ((rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		goto out;
	rc = pt_cursor_seek(cur, seek.data, seek.len, forward ? PT_SEEK_GE :
	    PT_SEEK_LE, &k, &v);
	/* Cursors are exclusive: skip the record named by before/after. */
	if (rc == PT_OK && (forward || q->before) && k.len == seek.len &&
	    memcmp(k.data, seek.data, seek.len) == 0)
		rc = forward ? pt_cursor_next(cur, &k, &v) :
		    pt_cursor_prev(cur, &k, &v);
	for (; rc == PT_OK; rc = forward ? pt_cursor_next(cur, &k, &v) :
	    pt_cursor_prev(cur, &k, &v)) {
		if (k.len != prefix.len + PT_ID_BIN ||
		    (prefix.len && memcmp(k.data, prefix.data, prefix.len) != 0))
			break;
		id = (const uint8_t *)k.data + prefix.len;
		if (q->since && !forward && pt_id_time(id) < q->since)
			break;
		if (q->until && forward && pt_id_time(id) > q->until)
			break;
		if ((q->since && pt_id_time(id) < q->since) ||
		    (q->until && pt_id_time(id) > q->until))
			continue;
		if (q->max_scan && ++scanned > q->max_scan)
			break;
		if (table != PT_T_EVENTS) {
			if ((rc = pt_get(txn, PT_T_EVENTS, id, PT_ID_BIN, &v)) ==
			    PT_ENOTFOUND)
				continue;	/* index ahead of a prune */
			if (rc != PT_OK)
				goto out;
		}
		pt_buf_reset(&meta);
		pt_buf_reset(&body);
		if ((rc = pt_evrec_decode(txn, id, &v, &meta, q->want_body ?
		    &body : NULL)) != PT_OK)
			goto out;
		if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL) {
			rc = PT_ECORRUPT;
			goto out;
		}
		if (matches(q, m)) {
			got++;
			if (cb(arg, id, m, (const uint8_t *)body.data,
			    body.len)) {
				pt_json_put(m);
				break;
			}
		}
		pt_json_put(m);
		if (got >= limit)
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	pt_buf_free(&prefix);
	pt_buf_free(&seek);
	pt_buf_free(&meta);
	pt_buf_free(&body);
	return rc;
}

enum pt_err
pt_eventlog_types(struct pt_txn *txn, const char *source, const char *env,
    pt_types_cb cb, void *arg)
{
	struct pt_buf prefix = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_err rc;
	char type[PT_EVENT_TYPE_MAX + 1];
	size_t n;

	key_raw(&prefix, source);
	key_raw(&prefix, env);
	if (prefix.failed)
		return PT_ENOMEM;
	if ((rc = pt_cursor_open(txn, PT_T_EV_TYPES, &cur)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(cur, prefix.data, prefix.len, PT_SEEK_GE, &k,
	    &v); rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len < prefix.len ||
		    memcmp(k.data, prefix.data, prefix.len) != 0)
			break;
		if (v.len != 24)
			continue;
		n = k.len - prefix.len;
		if (n > PT_EVENT_TYPE_MAX)
			continue;
		memcpy(type, (const char *)k.data + prefix.len, n);
		type[n] = '\0';
		if (cb(arg, type, pt_be64_get(v.data),
		    (int64_t)pt_be64_get((const uint8_t *)v.data + 8),
		    (int64_t)pt_be64_get((const uint8_t *)v.data + 16)))
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	pt_cursor_close(cur);
	pt_buf_free(&prefix);
	return rc;
}

enum pt_err
pt_eventlog_update(struct pt_txn *txn, const uint8_t id[PT_ID_BIN],
    const char *status, const pt_json *set)
{
	struct pt_json_iter it = { 0 };
	struct pt_buf meta = { 0 }, old_status = { 0 };
	const char *k, *text, *os;
	pt_json *m = NULL, *val;
	enum pt_err rc;
	size_t n;

	if (status != NULL && !in_table(pt_event_statuses, status))
		return PT_EINVAL;
	if ((rc = pt_evrec_get(txn, id, &meta, NULL)) != PT_OK)
		goto out;
	rc = PT_ECORRUPT;
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
		goto out;
	if ((os = pt_json_str(pt_json_get(m, "status"), NULL)) == NULL)
		goto out;
	rc = PT_ENOMEM;
	if (pt_buf_adds(&old_status, os) != PT_OK)
		goto out;
	while (set != NULL && pt_json_iter_next(set, &it, &k, &val))
		if (pt_json_set_copy(m, k, val) != PT_OK)
			goto out;
	if (status != NULL && pt_json_set(m, "status",
	    pt_json_new_cstr(status)) != PT_OK)
		goto out;
	if ((text = pt_json_text(m, PT_JSON_PLAIN, &n)) == NULL)
		goto out;
	if ((rc = pt_evrec_replace_meta(txn, id, text, n)) != PT_OK)
		goto out;
	if (status != NULL && strcmp(status, old_status.data) != 0) {
		if ((rc = del_index(txn, PT_T_EV_STATUS, old_status.data, NULL,
		    NULL, id)) != PT_OK ||
		    (rc = put_index(txn, PT_T_EV_STATUS, status, NULL, NULL,
		    id)) != PT_OK)
			goto out;
	}
	rc = PT_OK;
out:
	pt_buf_free(&meta);
	pt_buf_free(&old_status);
	pt_json_put(m);
	return rc;
}

enum pt_err
pt_eventlog_delete(struct pt_txn *txn, const uint8_t id[PT_ID_BIN])
{
	struct pt_buf meta = { 0 };
	pt_json *m = NULL;
	const char *src, *env, *type, *status;
	enum pt_err rc;

	if ((rc = pt_evrec_get(txn, id, &meta, NULL)) != PT_OK)
		return rc;
	if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL) {
		pt_buf_free(&meta);
		return PT_ECORRUPT;
	}
	src = pt_json_str(pt_json_get(m, "source"), NULL);
	env = pt_json_str(pt_json_get(m, "environment"), NULL);
	type = pt_json_str(pt_json_get(m, "event_type"), NULL);
	status = pt_json_str(pt_json_get(m, "status"), NULL);
	rc = PT_ECORRUPT;
	if (src == NULL || env == NULL || status == NULL)
		goto out;
	if ((rc = del_index(txn, PT_T_EV_SOURCE, src, NULL, NULL, id)) !=
	    PT_OK ||
	    (rc = del_index(txn, PT_T_EV_ENV, src, env, NULL, id)) != PT_OK ||
	    (rc = del_index(txn, PT_T_EV_STATUS, status, NULL, NULL, id)) !=
	    PT_OK)
		goto out;
	if (type != NULL && strlen(type) <= PT_EVENT_TYPE_MAX &&
	    (rc = del_index(txn, PT_T_EV_TYPE, src, env, type, id)) != PT_OK)
		goto out;
	rc = pt_evrec_del(txn, id);
out:
	pt_json_put(m);
	pt_buf_free(&meta);
	return rc;
}

/* ------------------------------------------------------------- filters */

/* "a, b, c" of a table into "out". */
static void
table_names(const char *const *table, struct pt_buf *out)
{
	size_t i;

	for (i = 0; table[i] != NULL; i++)
		pt_buf_printf(out, "%s%s", i ? ", " : "", table[i]);
}

/* The names a source or environment filter may take, and the one asked. */
struct names {
	const char	*want;
	int		 found;
	struct pt_buf	 configured;	/* "a, b" */
	struct pt_buf	 logged;	/* logged, no longer configured */
};

/* Is "name" in the ", "-separated list "b"? */
static int
listed(const struct pt_buf *b, const char *name)
{
	const char *p;
	size_t n = strlen(name);

	for (p = b->data; p != NULL && (p = strstr(p, name)) != NULL; p += n)
		if ((p == b->data || p[-1] == ' ') && (p[n] == ',' ||
		    p[n] == '\0'))
			return 1;
	return 0;
}

static void
list_add(struct pt_buf *b, const char *name)
{
	if (!listed(b, name))
		pt_buf_printf(b, "%s%s", b->len ? ", " : "", name);
}

static enum pt_err
note_configured(struct names *nm, const char *name)
{
	nm->found |= strcmp(name, nm->want) == 0;
	list_add(&nm->configured, name);
	return nm->configured.failed ? PT_ENOMEM : PT_OK;
}

static enum pt_err
note_logged(void *arg, const char *name)
{
	struct names *nm = arg;

	nm->found |= strcmp(name, nm->want) == 0;
	if (!listed(&nm->configured, name))
		list_add(&nm->logged, name);
	return nm->logged.failed ? PT_ENOMEM : PT_OK;
}

/*
 * Call "cb" with each distinct name in "table" after "prefix" (keys:
 * prefix, NUL, name, NUL, id; no prefix: name, NUL, id): the sources in
 * PT_T_EV_SOURCE, a source's environments in PT_T_EV_ENV.  One seek per
 * name, not one per record.
 */
static enum pt_err
names_logged(struct pt_txn *txn, enum pt_table table, const char *prefix,
    enum pt_err (*cb)(void *, const char *), void *arg)
{
	struct pt_buf seek = { 0 }, name = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	const char *p, *nul;
	size_t plen = prefix ? strlen(prefix) + 1 : 0;
	enum pt_err rc;

	if ((rc = pt_cursor_open(txn, table, &cur)) != PT_OK)
		return rc;
	if (prefix != NULL)
		key_raw(&seek, prefix);
	while (!seek.failed && (rc = pt_cursor_seek(cur, seek.data, seek.len,
	    PT_SEEK_GE, &k, &v)) == PT_OK) {
		p = k.data;
		if (k.len <= plen || (plen && memcmp(p, seek.data, plen) != 0) ||
		    (nul = memchr(p + plen, '\0', k.len - plen)) == NULL)
			break;
		pt_buf_reset(&name);
		if ((rc = pt_buf_add(&name, p + plen, (size_t)(nul - (p +
		    plen)))) != PT_OK || (rc = cb(arg, name.data)) != PT_OK)
			break;
		/* Past every key of this name: name + 0x01 sorts after them. */
		seek.len = plen;
		pt_buf_add(&seek, name.data, name.len);
		pt_buf_addc(&seek, '\x01');
	}
	if (seek.failed)
		rc = PT_ENOMEM;
	pt_cursor_close(cur);
	pt_buf_free(&seek);
	pt_buf_free(&name);
	return rc == PT_ENOTFOUND ? PT_OK : rc;
}

/* The environments logged under one logged source. */
struct env_walk {
	struct pt_txn	*txn;
	struct names	*nm;
};

static enum pt_err
source_envs(void *arg, const char *source)
{
	struct env_walk *w = arg;

	return names_logged(w->txn, PT_T_EV_ENV, source, note_logged, w->nm);
}

/* "why" for an unknown source or environment. */
static void
names_why(const struct names *nm, const char *what, char *why,
    size_t whylen)
{
	const char *c = nm->configured.len ? nm->configured.data : NULL;
	const char *l = nm->logged.len ? nm->logged.data : NULL;

	snprintf(why, whylen, "unknown %s \"%.64s\" (%s%s%s%s%s)", what,
	    nm->want, c ? "want " : "", c ? c : "", c && l ? "; " : "",
	    l ? "no longer configured but in the log: " : "", l ? l :
	    c ? "" : "nothing is configured or logged");
}

enum pt_err
pt_eventlog_check_filters(struct pt_txn *txn, const struct pt_config *cfg,
    const struct pt_log_query *q, char *why, size_t whylen)
{
	struct pt_buf list = { 0 };
	struct names nm;
	enum pt_err rc = PT_OK;
	const char *const *table = NULL;
	const char *what = NULL, *value = NULL;
	size_t i;

	why[0] = '\0';
	if (q->status != NULL && !in_table(pt_event_statuses, q->status)) {
		table = pt_event_statuses;
		what = "status";
		value = q->status;
	} else if (q->verify_status != NULL &&
	    !in_table(pt_verify_statuses, q->verify_status)) {
		table = pt_verify_statuses;
		what = "verification status";
		value = q->verify_status;
	}
	if (table != NULL) {
		table_names(table, &list);
		snprintf(why, whylen, "unknown %s \"%.64s\" (want %s)", what,
		    value, list.data ? list.data : "");
		pt_buf_free(&list);
		return PT_EINVAL;
	}

	/* The log is read only when the configuration does not settle it. */
	memset(&nm, 0, sizeof(nm));
	if (q->source != NULL) {
		nm.want = q->source;
		for (i = 0; cfg != NULL && i < cfg->nenvs && rc == PT_OK; i++)
			rc = note_configured(&nm, cfg->envs[i]->source_key);
		if (rc == PT_OK && !nm.found)
			rc = names_logged(txn, PT_T_EV_SOURCE, NULL, note_logged,
			    &nm);
		if (rc == PT_OK && !nm.found) {
			names_why(&nm, "source", why, whylen);
			rc = PT_EINVAL;
		}
		pt_buf_free(&nm.configured);
		pt_buf_free(&nm.logged);
		if (rc != PT_OK)
			return rc;
	}
	if (q->environment != NULL) {
		struct env_walk w = { txn, &nm };

		memset(&nm, 0, sizeof(nm));
		nm.want = q->environment;
		for (i = 0; cfg != NULL && i < cfg->nenvs && rc == PT_OK; i++)
			if (q->source == NULL || strcmp(cfg->envs[i]->source_key,
			    q->source) == 0)
				rc = note_configured(&nm, cfg->envs[i]->name);
		if (rc == PT_OK && !nm.found)
			rc = q->source != NULL ? names_logged(txn, PT_T_EV_ENV,
			    q->source, note_logged, &nm) : names_logged(txn,
			    PT_T_EV_SOURCE, NULL, source_envs, &w);
		if (rc == PT_OK && !nm.found) {
			names_why(&nm, q->source ? "environment of the source" :
			    "environment", why, whylen);
			rc = PT_EINVAL;
		}
		pt_buf_free(&nm.configured);
		pt_buf_free(&nm.logged);
	}
	return rc;
}
