/*
 * idem.c - idempotency records (see idem.h).
 *
 * PT_T_IDEM: scope key -> state(1) event id(16) recorded_at(8)
 * expires_at(8) owner(8), integers big-endian.
 * PT_T_IDEM_TIME: expires_at(8) scope key -> "", so expired records are
 * found oldest first without a scan.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "idem.h"
#include "sig.h"

#define REC_LEN	41

int
pt_idem_key_valid(const pt_json *v, char *why, size_t whylen)
{
	const char *s;
	size_t n, i, chars = 0;

	if (pt_json_type(v) != PT_J_STRING) {
		snprintf(why, whylen, "the key is %s, not a string",
		    pt_jtype_name(pt_json_type(v)));
		return 0;
	}
	s = pt_json_str(v, &n);
	if (n == 0) {
		snprintf(why, whylen, "the key is empty");
		return 0;
	}
	if (!pt_utf8_valid(s, n)) {
		snprintf(why, whylen, "the key is not valid UTF-8");
		return 0;
	}
	if (memchr(s, '\0', n) != NULL) {
		snprintf(why, whylen, "the key holds a NUL character");
		return 0;
	}
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	if (chars > PT_IDEM_KEY_MAX) {
		snprintf(why, whylen, "the key is %zu characters; at most %d",
		    chars, PT_IDEM_KEY_MAX);
		return 0;
	}
	return 1;
}

/*
 * A key part: as is when short, else 0xFF and its SHA-256 (store keys are
 * limited to 511 bytes).  Parts are separated by NUL, which none holds.
 */
static void
add_part(struct pt_buf *k, const char *s, size_t n)
{
	uint8_t d[PT_SHA256_LEN];

	if (n <= 128) {
		pt_buf_add(k, s, n);
	} else {
		pt_sha256(s, n, d);
		pt_buf_addc(k, (char)0xff);
		pt_buf_add(k, d, sizeof(d));
	}
}

static enum pt_err
scope_key(const struct pt_idem_scope *sc, struct pt_buf *k)
{
	add_part(k, sc->source, strlen(sc->source));
	pt_buf_addc(k, '\0');
	add_part(k, sc->environment, strlen(sc->environment));
	pt_buf_addc(k, '\0');
	add_part(k, sc->event_type, strlen(sc->event_type));
	pt_buf_addc(k, '\0');
	add_part(k, sc->key, sc->key_len);
	return k->failed ? PT_ENOMEM : PT_OK;
}

static int
decode(const struct pt_val *v, struct pt_idem_rec *r)
{
	const uint8_t *p = v->data;

	if (v->len != REC_LEN || p[0] < PT_IDEM_DONE || p[0] > PT_IDEM_PENDING)
		return -1;
	r->state = p[0];
	memcpy(r->event_id, p + 1, PT_ID_BIN);
	r->recorded_at = (int64_t)pt_be64_get(p + 17);
	r->expires_at = (int64_t)pt_be64_get(p + 25);
	r->owner = pt_be64_get(p + 33);
	return 0;
}

/* Time-index key: expires_at then the scope key. */
static enum pt_err
time_key(int64_t expires_at, const char *k, size_t klen, struct pt_buf *out)
{
	uint8_t be[8];

	pt_be64_put(be, (uint64_t)expires_at);
	pt_buf_reset(out);
	pt_buf_add(out, be, 8);
	pt_buf_add(out, k, klen);
	return out->failed ? PT_ENOMEM : PT_OK;
}

enum pt_err
pt_idem_lookup(struct pt_txn *txn, const struct pt_idem_scope *sc,
    int64_t now, int64_t window_us, struct pt_idem_rec *out)
{
	struct pt_buf k = { 0 };
	struct pt_val v;
	enum pt_err rc;

	memset(out, 0, sizeof(*out));
	out->state = PT_IDEM_NONE;
	if ((rc = scope_key(sc, &k)) != PT_OK)
		goto out;
	rc = pt_get(txn, PT_T_IDEM, k.data, k.len, &v);
	if (rc == PT_ENOTFOUND) {
		rc = PT_OK;
		goto out;
	}
	if (rc != PT_OK)
		goto out;
	if (decode(&v, out) < 0) {
		rc = PT_ECORRUPT;
		goto out;
	}
	if (out->state == PT_IDEM_DONE) {
		if (now - out->recorded_at >= window_us)
			out->state = PT_IDEM_NONE;	/* outside the window */
	} else if (now >= out->expires_at)
		out->state = PT_IDEM_STALE;		/* owner gone */
out:
	pt_buf_free(&k);
	return rc;
}

/* Delete the record behind "k" and its time-index entry, if any. */
static enum pt_err
remove_rec(struct pt_txn *txn, const struct pt_buf *k)
{
	struct pt_buf tk = { 0 };
	struct pt_idem_rec r;
	struct pt_val v;
	enum pt_err rc;

	rc = pt_get(txn, PT_T_IDEM, k->data, k->len, &v);
	if (rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return rc;
	if (decode(&v, &r) == 0) {
		if ((rc = time_key(r.expires_at, k->data, k->len, &tk)) != PT_OK)
			goto out;
		rc = pt_del(txn, PT_T_IDEM_TIME, tk.data, tk.len);
		if (rc != PT_OK && rc != PT_ENOTFOUND)
			goto out;
	}
	rc = pt_del(txn, PT_T_IDEM, k->data, k->len);
out:
	pt_buf_free(&tk);
	return rc;
}

enum pt_err
pt_idem_put(struct pt_txn *txn, const struct pt_idem_scope *sc,
    enum pt_idem_state state, const uint8_t event_id[PT_ID_BIN], int64_t now,
    int64_t expires_at, uint64_t owner)
{
	struct pt_buf k = { 0 }, tk = { 0 };
	uint8_t rec[REC_LEN];
	enum pt_err rc;

	if ((rc = scope_key(sc, &k)) != PT_OK)
		goto out;
	if ((rc = remove_rec(txn, &k)) != PT_OK)
		goto out;
	rec[0] = (uint8_t)state;
	memcpy(rec + 1, event_id, PT_ID_BIN);
	pt_be64_put(rec + 17, (uint64_t)now);
	pt_be64_put(rec + 25, (uint64_t)expires_at);
	pt_be64_put(rec + 33, owner);
	if ((rc = pt_put(txn, PT_T_IDEM, k.data, k.len, rec, sizeof(rec), 0)) !=
	    PT_OK)
		goto out;
	if ((rc = time_key(expires_at, k.data, k.len, &tk)) != PT_OK)
		goto out;
	rc = pt_put(txn, PT_T_IDEM_TIME, tk.data, tk.len, "", 0, 0);
out:
	pt_buf_free(&k);
	pt_buf_free(&tk);
	return rc;
}

enum pt_err
pt_idem_release(struct pt_txn *txn, const struct pt_idem_scope *sc)
{
	struct pt_buf k = { 0 };
	enum pt_err rc;

	if ((rc = scope_key(sc, &k)) == PT_OK)
		rc = remove_rec(txn, &k);
	pt_buf_free(&k);
	return rc;
}

enum pt_err
pt_idem_prune(struct pt_txn *txn, int64_t now, size_t max, size_t *removed)
{
	struct pt_cursor *cur = NULL;
	struct pt_val k, v;
	struct pt_buf sk = { 0 };
	struct pt_idem_rec r;
	enum pt_err rc;
	size_t n = 0, seen = 0;
	int64_t exp;
	int current;

	*removed = 0;
	if ((rc = pt_cursor_open(txn, PT_T_IDEM_TIME, &cur)) != PT_OK)
		return rc;
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	    rc == PT_OK && (max == 0 || seen < max);
	    rc = pt_cursor_next(cur, &k, NULL)) {
		if (k.len < 8)
			continue;
		exp = (int64_t)pt_be64_get(k.data);
		if (exp > now)
			break;
		seen++;
		/* Copy the scope key: the cursor's data dies at the delete. */
		pt_buf_reset(&sk);
		if (pt_buf_add(&sk, (const char *)k.data + 8, k.len - 8) !=
		    PT_OK) {
			rc = PT_ENOMEM;
			break;
		}
		/* The record goes only if this entry is its current one. */
		current = pt_get(txn, PT_T_IDEM, sk.data, sk.len, &v) == PT_OK &&
		    decode(&v, &r) == 0 && r.expires_at == exp;
		/*
		 * A lease that ran out is recovery's to end (it marks the
		 * execution interrupted, then releases the key), or the
		 * retry's that finds it stale: deleted here first, the retry
		 * would run anew and leave the dead execution pending.  Only
		 * one recovery never reached (its event unreadable) goes,
		 * long after.
		 */
		if (current && r.state == PT_IDEM_PENDING &&
		    now - exp < PT_IDEM_PENDING_GRACE_US)
			continue;
		if ((rc = pt_cursor_del(cur)) != PT_OK)
			break;
		if (current &&
		    (rc = pt_del(txn, PT_T_IDEM, sk.data, sk.len)) != PT_OK)
			break;
		n++;
	}
	if (rc == PT_ENOTFOUND || rc == PT_OK)
		rc = PT_OK;
	pt_cursor_close(cur);
	pt_buf_free(&sk);
	*removed = n;
	return rc;
}

uint64_t
pt_idem_owner(void)
{
	static uint64_t owner;
	uint32_t r = 0;

	if (owner == 0) {
		pt_random(&r, sizeof(r));
		owner = (uint64_t)getpid() << 32 | r;
	}
	return owner;
}

const char *
pt_idem_owner_name(void)
{
	static char name[PT_IDEM_OWNER_NAME];
	char host[64];

	if (*name == '\0') {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "?");
		host[sizeof(host) - 1] = '\0';
		snprintf(name, sizeof(name), "%s pid %ld", host,
		    (long)getpid());
	}
	return name;
}

size_t
pt_idem_check(struct pt_txn *txn, void (*report)(void *, const char *),
    void *arg)
{
	struct pt_cursor *cur = NULL;
	struct pt_buf tk = { 0 };
	struct pt_val k, v, tv;
	struct pt_idem_rec r;
	size_t problems = 0;
	char line[200];
	enum pt_err rc;

	if (pt_cursor_open(txn, PT_T_IDEM, &cur) != PT_OK)
		return 1;
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, &v); rc == PT_OK;
	    rc = pt_cursor_next(cur, &k, &v)) {
		if (decode(&v, &r) < 0) {
			report(arg, "idempotency: a record does not decode");
			problems++;
			continue;
		}
		if (time_key(r.expires_at, k.data, k.len, &tk) != PT_OK ||
		    pt_get(txn, PT_T_IDEM_TIME, tk.data, tk.len, &tv) != PT_OK) {
			report(arg, "idempotency: a record has no time-index "
			    "entry");
			problems++;
		}
	}
	pt_cursor_close(cur);
	if (pt_cursor_open(txn, PT_T_IDEM_TIME, &cur) != PT_OK) {
		pt_buf_free(&tk);
		return problems + 1;
	}
	for (rc = pt_cursor_seek(cur, NULL, 0, PT_SEEK_GE, &k, NULL);
	    rc == PT_OK; rc = pt_cursor_next(cur, &k, NULL)) {
		if (k.len < 8 || pt_get(txn, PT_T_IDEM, (const char *)k.data + 8,
		    k.len - 8, &v) != PT_OK || decode(&v, &r) < 0 ||
		    r.expires_at != (int64_t)pt_be64_get(k.data)) {
			snprintf(line, sizeof(line), "idempotency: a time-index "
			    "entry names no matching record");
			report(arg, line);
			problems++;
		}
	}
	pt_cursor_close(cur);
	pt_buf_free(&tk);
	return problems;
}
