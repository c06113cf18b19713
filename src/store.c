/*
 * store.c - the calls of store.h, each passed to the backend of the store
 * it is given (store_int.h), and what every backend shares: the tables'
 * names and the thread's error text.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

static const char *const table_names[PT_T__MAX] = {
	[PT_T_META] = "meta",
	[PT_T_CONFIG] = "config",
	[PT_T_ENDPOINTS] = "endpoints",
	[PT_T_EVENTS] = "events",
	[PT_T_EV_SOURCE] = "ev_source",
	[PT_T_EV_ENV] = "ev_env",
	[PT_T_EV_TYPE] = "ev_type",
	[PT_T_EV_STATUS] = "ev_status",
	[PT_T_EV_TYPES] = "ev_types",
	[PT_T_ACTIONS] = "actions",
	[PT_T_USERS] = "users",
	[PT_T_OBJECTS] = "objects",
	[PT_T_TENANTS] = "tenants",
	[PT_T_SUBS] = "subscriptions",
	[PT_T_AUDIENCES] = "audiences",
	[PT_T_AUD_MEMBERS] = "audience_members",
	[PT_T_RUNS] = "runs",
	[PT_T_RUNS_BY_KEY] = "runs_by_key",
	[PT_T_IDEM] = "idempotency",
	[PT_T_IDEM_TIME] = "idempotency_time",
	[PT_T_TOKENS] = "tokens",
	[PT_T_AUX] = "aux",
	[PT_T_BODIES] = "bodies",
	[PT_T_ACT_IDX] = "action_idx",
};

static __thread char last_err[256];
/* The last commit of the thread found the store full before it wrote. */
static __thread int commit_unwritten;

const char *
pt_store_errstr(void)
{
	return last_err;
}

int
pt_store_commit_unwritten(void)
{
	return commit_unwritten;
}

void
pt_store_set_unwritten(int unwritten)
{
	commit_unwritten = unwritten;
}

void
pt_store_set_errstr(const char *text)
{
	snprintf(last_err, sizeof(last_err), "%s", text ? text : "");
}

void
pt_store_errf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
}

const char *
pt_table_name(enum pt_table t)
{
	return (unsigned)t < PT_T__MAX ? table_names[t] : "?";
}

int
pt_store_is_uri(const char *name)
{
	return name != NULL && (strncmp(name, "postgresql://", 13) == 0 ||
	    strncmp(name, "postgres://", 11) == 0);
}

const char *
pt_store_display(const char *name, char *buf, size_t len)
{
	const char *p, *at, *colon, *q;
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (!pt_store_is_uri(name)) {
		snprintf(buf, len, "%s", name ? name : "");
		return buf;
	}
	p = strstr(name, "://") + 3;
	/* The user part ends at the '@' before the host's '/' or '?'. */
	at = memchr(p, '@', strcspn(p, "/?"));
	colon = memchr(p, ':', at ? (size_t)(at - p) : 0);
	if (at != NULL && colon != NULL)
		n = (size_t)snprintf(buf, len, "%.*s:***%.*s",
		    (int)(colon - name), name, (int)(strcspn(at, "?")), at);
	else
		n = (size_t)snprintf(buf, len, "%.*s", (int)strcspn(name, "?"),
		    name);
	/* The query: every parameter but a password, as given. */
	if ((q = strchr(name, '?')) != NULL && n < len)
		for (; *q != '\0' && n < len; ) {
			size_t plen = strcspn(q + 1, "&");

			if (strncmp(q + 1, "password=", 9) == 0)
				n += (size_t)snprintf(buf + n, len - n,
				    "%cpassword=***", *q);
			else
				n += (size_t)snprintf(buf + n, len - n, "%c%.*s",
				    *q, (int)plen, q + 1);
			q += 1 + plen;
		}
	return buf;
}

enum pt_err
pt_store_open(const char *name, const struct pt_store_opts *opts,
    struct pt_store **out, char *errbuf, size_t errlen)
{
	if (pt_store_is_uri(name))
		return pt_pg_open(name, opts, out, errbuf, errlen);
	return pt_lmdb_open(name, opts, out, errbuf, errlen);
}

const char *
pt_store_backend(struct pt_store *s)
{
	return s != NULL ? s->be->name : "lmdb";
}

int
pt_store_remote(struct pt_store *s)
{
	return s != NULL && s->be->remote;
}

void
pt_store_close(struct pt_store *s)
{
	if (s != NULL)
		s->be->close(s);
}

enum pt_err
pt_store_sync(struct pt_store *s)
{
	return s->be->sync(s);
}

void
pt_store_set_durability(struct pt_store *s, enum pt_durability d)
{
	s->be->set_durability(s, d);
}

enum pt_err
pt_store_stat(struct pt_store *s, struct pt_store_stat *st)
{
	return s->be->stat(s, st);
}

uint64_t
pt_store_room(struct pt_store *s)
{
	return s->be->room(s);
}

enum pt_err
pt_store_has_room(struct pt_store *s, uint64_t need)
{
	uint64_t room = pt_store_room(s);

	if (room >= need)
		return PT_OK;
	pt_store_errf("%llu bytes left in the store, %llu needed",
	    (unsigned long long)room, (unsigned long long)need);
	return PT_EFULL;
}

enum pt_err
pt_store_check_room(struct pt_store *s, uint64_t need)
{
	return s->be->check_room(s, need);
}

void
pt_store_set_limits(struct pt_store *s, uint64_t ceiling,
    uint64_t disk_reserve)
{
	s->be->set_limits(s, ceiling, disk_reserve);
}

void
pt_store_set_make_room(struct pt_store *s, pt_room_fn fn, void *arg)
{
	s->be->set_make_room(s, fn, arg);
}

enum pt_err
pt_store_make_room(struct pt_store *s, uint64_t need)
{
	return s->be->make_room(s, need);
}

enum pt_err
pt_store_reserve(struct pt_store *s, uint64_t need)
{
	return s->be->reserve(s, need);
}

int
pt_store_near_ceiling(struct pt_store *s)
{
	return s->be->near_ceiling(s);
}

void
pt_store_set_threaded(struct pt_store *s)
{
	s->be->set_threaded(s);
}

int
pt_store_resized(struct pt_store *s)
{
	return s->be->resized(s);
}

int
pt_store_meta_epoch(struct pt_store *s, uint64_t *epoch)
{
	return s->be->meta_epoch(s, epoch);
}

enum pt_err
pt_txn_begin(struct pt_store *s, struct pt_txn *parent, int flags,
    struct pt_txn **out)
{
	*out = NULL;
	if ((flags & PT_TXN_WRITE) && s->read_only) {
		pt_store_set_errstr("the store is open read-only");
		return PT_EINVAL;
	}
	return s->be->txn_begin(s, parent, flags, out);
}

void
pt_txn_init(struct pt_txn *t, struct pt_store *s, int flags)
{
	t->store = s;
	t->write = (flags & PT_TXN_WRITE) != 0;
	t->flat = t->write && (flags & PT_TXN_FLAT) != 0;
}

enum pt_err
pt_txn_commit(struct pt_txn *t)
{
	return t->store->be->txn_commit(t);
}

void
pt_txn_abort(struct pt_txn *t)
{
	if (t != NULL)
		t->store->be->txn_abort(t);
}

struct pt_store *
pt_txn_store(struct pt_txn *t)
{
	return t->store;
}

int
pt_txn_flat(const struct pt_txn *t)
{
	return t->flat;
}

enum pt_err
pt_txn_error(const struct pt_txn *t)
{
	return t->failed ? t->fail_rc : PT_OK;
}

enum pt_err
pt_get(struct pt_txn *t, enum pt_table tab, const void *key, size_t keylen,
    struct pt_val *val)
{
	return t->store->be->get(t, tab, key, keylen, val);
}

enum pt_err
pt_put(struct pt_txn *t, enum pt_table tab, const void *key, size_t keylen,
    const void *val, size_t vallen, int flags)
{
	return t->store->be->put(t, tab, key, keylen, val, vallen, flags);
}

enum pt_err
pt_del(struct pt_txn *t, enum pt_table tab, const void *key, size_t keylen)
{
	return t->store->be->del(t, tab, key, keylen);
}

enum pt_err
pt_add_u64(struct pt_txn *t, enum pt_table tab, const void *key,
    size_t keylen, uint64_t n)
{
	return t->store->be->count(t, tab, key, keylen, n, 0);
}

enum pt_err
pt_max_u64(struct pt_txn *t, enum pt_table tab, const void *key,
    size_t keylen, uint64_t n)
{
	return t->store->be->count(t, tab, key, keylen, n, 1);
}

enum pt_err
pt_count_by_get(struct pt_txn *t, enum pt_table tab, const void *key,
    size_t keylen, uint64_t n, int max)
{
	struct pt_val v;
	uint64_t old = 0;
	uint8_t be[8];
	enum pt_err rc;
	int i;

	rc = pt_get(t, tab, key, keylen, &v);
	if (rc == PT_OK && v.len == 8)
		for (i = 0; i < 8; i++)
			old = old << 8 | ((const uint8_t *)v.data)[i];
	else if (rc != PT_OK && rc != PT_ENOTFOUND)
		return rc;
	if (max && rc == PT_OK && v.len == 8 && old >= n)
		return PT_OK;
	if (!max)
		n += old;
	for (i = 7; i >= 0; i--, n >>= 8)
		be[i] = (uint8_t)n;
	return pt_put(t, tab, key, keylen, be, sizeof(be), 0);
}

enum pt_err
pt_cursor_open(struct pt_txn *t, enum pt_table tab, struct pt_cursor **out)
{
	return t->store->be->cursor_open(t, tab, out);
}

void
pt_cursor_close(struct pt_cursor *c)
{
	if (c != NULL)
		c->txn->store->be->cursor_close(c);
}

enum pt_err
pt_cursor_seek(struct pt_cursor *c, const void *key, size_t keylen, int how,
    struct pt_val *k, struct pt_val *v)
{
	return c->txn->store->be->cursor_seek(c, key, keylen, how, k, v);
}

enum pt_err
pt_cursor_next(struct pt_cursor *c, struct pt_val *k, struct pt_val *v)
{
	return c->txn->store->be->cursor_next(c, k, v);
}

enum pt_err
pt_cursor_prev(struct pt_cursor *c, struct pt_val *k, struct pt_val *v)
{
	return c->txn->store->be->cursor_prev(c, k, v);
}

enum pt_err
pt_cursor_del(struct pt_cursor *c)
{
	return c->txn->store->be->cursor_del(c);
}
