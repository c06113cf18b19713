/*
 * check.c - store consistency: do the indexes agree with the records?
 * (see check.h).  Read-only; runs in one read transaction, so it sees one
 * snapshot even while responders write.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actidx.h"
#include "actions.h"
#include "alloc.h"
#include "check.h"
#include "eventlog.h"
#include "evrec.h"
#include "idem.h"
#include "ids.h"

struct ck {
	struct pt_txn	*txn;
	pt_check_report	 report;
	void		*arg;
	size_t		 problems;
	size_t		 events;
	void		(*progress)(void *arg, size_t events);
};

static void __attribute__((format(printf, 2, 3)))
problem(struct ck *c, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->arg, line);
}

/* pt_idem_check counts its own problems: only pass the line on. */
static void
report_idem(void *arg, const char *line)
{
	struct ck *c = arg;

	c->report(c->arg, line);
}

/* Does index "table" hold "parts... id"? */
static int
has_index(struct pt_txn *txn, enum pt_table table, const char *a,
    const char *b, const char *c, const uint8_t *id)
{
	struct pt_buf k = { 0 };
	struct pt_val v;
	int found;

	if (a)
		pt_buf_add(&k, a, strlen(a) + 1);
	if (b)
		pt_buf_add(&k, b, strlen(b) + 1);
	if (c)
		pt_buf_add(&k, c, strlen(c) + 1);
	pt_buf_add(&k, id, PT_ID_BIN);
	found = !k.failed && pt_get(txn, table, k.data, k.len, &v) == PT_OK;
	pt_buf_free(&k);
	return found;
}

static const char *
jstr(pt_json *o, const char *k)
{
	return pt_json_str(pt_json_get(o, k), NULL);
}

/* Is stored member "have" (NULL when missing) the key part "want"? */
static int
same(const char *want, const char *have)
{
	return have != NULL && strcmp(want, have) == 0;
}

/* Every event: its index entries exist, its action logs exist. */
static int
check_event(void *arg, const uint8_t id[PT_ID_BIN], pt_json *m,
    const uint8_t *body, size_t len)
{
	struct ck *c = arg;
	const char *src = jstr(m, "source"), *env = jstr(m, "environment"),
	    *type = jstr(m, "event_type"), *st = jstr(m, "status"),
	    *text = jstr(m, "id");
	pt_json *acts = pt_json_get(m, "actions"), *a;
	uint8_t aid[PT_ID_BIN], back[PT_ID_BIN];
	size_t i;

	char idt[PT_ID_MAX];
	const char *missing;

	(void)body;
	c->events++;
	if (c->progress != NULL && c->events % 1000 == 0)
		c->progress(c->arg, c->events);
	pt_id_text("evt", id, idt);
	/* Recovery, retention and the indexes go by these: name the gap. */
	missing = text == NULL ? "id" : src == NULL ? "source" : env == NULL ?
	    "environment" : st == NULL ? "status" : NULL;
	if (missing != NULL) {
		problem(c, "event %s: the record has no %s; recovery skips it",
		    idt, missing);
		return 0;
	}
	if (pt_id_parse("evt", text, back) < 0 ||
	    memcmp(back, id, PT_ID_BIN) != 0) {
		problem(c, "event %s: metadata does not match its key", idt);
		return 0;
	}
	if ((size_t)pt_json_int(pt_json_get(m, "body_bytes")) != len)
		problem(c, "event %s: body is %zu bytes, metadata says %lld",
		    text, len, (long long)pt_json_int(pt_json_get(m,
		    "body_bytes")));
	if (!has_index(c->txn, PT_T_EV_SOURCE, src, NULL, NULL, id))
		problem(c, "event %s: missing from the source index", text);
	if (!has_index(c->txn, PT_T_EV_ENV, src, env, NULL, id))
		problem(c, "event %s: missing from the environment index",
		    text);
	if (!has_index(c->txn, PT_T_EV_STATUS, st, NULL, NULL, id))
		problem(c, "event %s: missing from the status index (%s)", text,
		    st);
	if (type != NULL && strlen(type) <= PT_EVENT_TYPE_MAX &&
	    !has_index(c->txn, PT_T_EV_TYPE, src, env, type, id))
		problem(c, "event %s: missing from the event type index", text);
	for (i = 0; i < pt_json_len(acts); i++) {
		if (pt_id_parse("act", pt_json_str(pt_json_index(acts, i), NULL),
		    aid) < 0) {
			problem(c, "event %s: bad action id", text);
			continue;
		}
		if (pt_action_get(c->txn, aid, &a) != PT_OK) {
			problem(c, "event %s: action log %s is missing", text,
			    pt_json_str(pt_json_index(acts, i), NULL));
			continue;
		}
		if (jstr(a, "event_id") == NULL ||
		    strcmp(jstr(a, "event_id"), text) != 0)
			problem(c, "action %s names event %s, not %s",
			    jstr(a, "id"), jstr(a, "event_id"), text);
		pt_json_put(a);
	}
	return 0;
}

/*
 * Every entry of an index whose keys end in an event id names an event
 * that exists and whose metadata agrees with the key's parts.
 */
static void
check_index(struct ck *c, enum pt_table table, int nparts)
{
	struct pt_cursor *cur = NULL;
	struct pt_buf meta = { 0 };
	struct pt_val k;
	enum pt_err rc;
	const char *parts[3], *p, *end;
	char idt[PT_ID_MAX];
	pt_json *m;
	int i;

	if (pt_cursor_open(c->txn, table, &cur) != PT_OK) {
		problem(c, "%s: cannot open", pt_table_name(table));
		return;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, NULL)) {
		const uint8_t *id;

		if (k.len < PT_ID_BIN + (size_t)nparts) {
			problem(c, "%s: short key", pt_table_name(table));
			continue;
		}
		id = (const uint8_t *)k.data + k.len - PT_ID_BIN;
		pt_id_text("evt", id, idt);
		p = k.data;
		end = (const char *)id;
		for (i = 0; i < nparts; i++) {
			parts[i] = p;
			p = memchr(p, '\0', (size_t)(end - p));
			if (p == NULL)
				break;
			p++;
		}
		if (i < nparts || p != end) {
			problem(c, "%s: malformed key for %s",
			    pt_table_name(table), idt);
			continue;
		}
		pt_buf_reset(&meta);
		if (pt_eventlog_get(c->txn, id, &meta, NULL) != PT_OK) {
			problem(c, "%s: entry for %s, which does not exist",
			    pt_table_name(table), idt);
			continue;
		}
		if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL)
			continue;	/* reported by the record walk */
		switch (table) {
		case PT_T_EV_STATUS:
			if (!same(parts[0], jstr(m, "status")))
				problem(c, "status index says %s is %s; it is %s",
				    idt, parts[0], jstr(m, "status") ?
				    jstr(m, "status") : "(no status)");
			break;
		case PT_T_EV_TYPE:
			if (!same(parts[2], jstr(m, "event_type")))
				problem(c, "type index says %s is %s", idt,
				    parts[2]);
			/* FALLTHROUGH */
		case PT_T_EV_ENV:
			if (!same(parts[1], jstr(m, "environment")))
				problem(c, "environment index disagrees on %s",
				    idt);
			/* FALLTHROUGH */
		case PT_T_EV_SOURCE:
			if (!same(parts[0], jstr(m, "source")))
				problem(c, "source index disagrees on %s", idt);
			break;
		default:
			break;
		}
		pt_json_put(m);
	}
	pt_cursor_close(cur);
	pt_buf_free(&meta);
}

/* Every action record has its index entries (actidx.h). */
static void
check_action_records(struct ck *c)
{
	struct pt_cursor *cur = NULL;
	struct pt_akeys ks;
	struct pt_val k, v;
	uint8_t key[PT_AK_KEY_MAX];
	char idt[PT_ID_MAX];
	enum pt_err rc;
	pt_json *rec;
	size_t n;
	int i;

	if (pt_cursor_open(c->txn, PT_T_ACTIONS, &cur) != PT_OK) {
		problem(c, "%s: cannot open", pt_table_name(PT_T_ACTIONS));
		return;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len != PT_ID_BIN)
			continue;
		pt_id_text("act", k.data, idt);
		if ((rec = pt_evrec_parse_json(c->txn, &v)) == NULL) {
			problem(c, "action %s: the record does not decode", idt);
			continue;
		}
		pt_akeys_of(rec, &ks);
		for (i = 0; i < PT_AK__MAX; i++) {
			if ((n = pt_akey_prefix(i, ks.v[i], key)) == 0)
				continue;
			memcpy(key + n, k.data, PT_ID_BIN);
			if (pt_get(c->txn, PT_T_ACT_IDX, key, n + PT_ID_BIN,
			    &v) != PT_OK)
				problem(c, "action %s: missing from the action "
				    "index (%s %s)", idt, pt_akind_name(i),
				    ks.v[i]);
		}
		pt_json_put(rec);
	}
	pt_cursor_close(cur);
}

/* Every action index entry names a record with that value. */
static void
check_action_index(struct ck *c)
{
	struct pt_cursor *cur = NULL;
	struct pt_akeys ks;
	struct pt_val k, v;
	const uint8_t *id;
	const char *value;
	char idt[PT_ID_MAX];
	enum pt_err rc;
	pt_json *rec;
	int kind;

	if (pt_cursor_open(c->txn, PT_T_ACT_IDX, &cur) != PT_OK) {
		problem(c, "%s: cannot open", pt_table_name(PT_T_ACT_IDX));
		return;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, NULL)) {
		if (k.len < 2 + PT_ID_BIN) {
			problem(c, "action index: short key");
			continue;
		}
		id = (const uint8_t *)k.data + k.len - PT_ID_BIN;
		value = (const char *)k.data + 1;
		/* Kind, value, then its '\0' right before the id. */
		if ((kind = pt_akind_of(*(const uint8_t *)k.data)) < 0 ||
		    memchr(value, '\0', k.len - 1 - PT_ID_BIN) !=
		    (const void *)(id - 1)) {
			problem(c, "action index: malformed key");
			continue;
		}
		pt_id_text("act", id, idt);
		if (pt_get(c->txn, PT_T_ACTIONS, id, PT_ID_BIN, &v) != PT_OK) {
			problem(c, "action index: entry for %s, which does not "
			    "exist", idt);
			continue;
		}
		if ((rec = pt_evrec_parse_json(c->txn, &v)) == NULL)
			continue;	/* reported by the record walk */
		pt_akeys_of(rec, &ks);
		if (!same(value, ks.v[kind]))
			problem(c, "action index says %s's %s is %s; it is %s",
			    idt, pt_akind_name(kind), value, ks.v[kind] ?
			    ks.v[kind] : "(none)");
		pt_json_put(rec);
	}
	pt_cursor_close(cur);
}

size_t
pt_check(struct pt_txn *txn, pt_check_report report, void *arg,
    size_t *events)
{
	return pt_check_progress(txn, report, arg, events, NULL);
}

/*
 * Every record decodes (either format, its dictionary in the store, its
 * body the length its metadata says) and passes check_event.  A walk of
 * its own rather than a log query: one record that does not decode is a
 * finding, not the end of the walk.
 */
static void
check_records(struct ck *c)
{
	struct pt_buf meta = { 0 }, body = { 0 };
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_err rc;
	char idt[PT_ID_MAX];
	pt_json *m;

	if (pt_cursor_open(c->txn, PT_T_EVENTS, &cur) != PT_OK) {
		problem(c, "events: cannot open");
		return;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, &v)) {
		if (k.len != PT_ID_BIN) {
			problem(c, "events: a key of %zu bytes", k.len);
			continue;
		}
		pt_id_text("evt", k.data, idt);
		pt_buf_reset(&meta);
		pt_buf_reset(&body);
		if ((rc = pt_evrec_decode(c->txn, k.data, &v, &meta, &body)) !=
		    PT_OK) {
			problem(c, "event %s: the record (format %d) does not "
			    "decode: %s", idt, pt_evrec_version(&v),
			    pt_strerror(rc));
			continue;
		}
		if ((m = pt_json_parse_trusted(meta.data, meta.len)) == NULL) {
			problem(c, "event %s: its metadata is not JSON", idt);
			continue;
		}
		check_event(c, k.data, m, (const uint8_t *)body.data,
		    body.len);
		pt_json_put(m);
	}
	if (rc != PT_ENOTFOUND)
		problem(c, "event log: %s", pt_strerror(rc));
	pt_cursor_close(cur);
	pt_buf_free(&meta);
	pt_buf_free(&body);
}

/* Every body belongs to a record. */
static void
check_bodies(struct ck *c)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	enum pt_err rc;
	char idt[PT_ID_MAX];

	if (pt_cursor_open(c->txn, PT_T_BODIES, &cur) != PT_OK) {
		problem(c, "bodies: cannot open");
		return;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, NULL)) {
		if (k.len != PT_ID_BIN) {
			problem(c, "bodies: a key of %zu bytes", k.len);
			continue;
		}
		if (pt_get(c->txn, PT_T_EVENTS, k.data, PT_ID_BIN, &v) ==
		    PT_ENOTFOUND) {
			pt_id_text("evt", k.data, idt);
			problem(c, "bodies: a body for %s, which does not "
			    "exist", idt);
		}
	}
	pt_cursor_close(cur);
}

size_t
pt_check_progress(struct pt_txn *txn, pt_check_report report, void *arg,
    size_t *events, void (*progress)(void *, size_t))
{
	struct ck c;

	memset(&c, 0, sizeof(c));
	c.txn = txn;
	c.report = report;
	c.arg = arg;
	c.progress = progress;
	check_records(&c);
	check_bodies(&c);
	check_index(&c, PT_T_EV_SOURCE, 1);
	check_index(&c, PT_T_EV_ENV, 2);
	check_index(&c, PT_T_EV_TYPE, 3);
	check_index(&c, PT_T_EV_STATUS, 1);
	/* Incomplete until built (actidx.h): nothing to hold it to yet. */
	if (pt_actions_indexed(txn)) {
		check_action_records(&c);
		check_action_index(&c);
	}
	c.problems += pt_idem_check(txn, report_idem, &c);
	if (events)
		*events = c.events;
	return c.problems;
}
