/*
 * copy.c - porterctl migrate and copy: a store's schema, and a store moved
 * from one backend to the other (an LMDB directory to PostgreSQL and back).
 *
 * The copy goes through the storage interface only (store.h), so it is the
 * same for every pair of backends: each table walked in key order, CHUNK
 * entries a transaction on each side, then walked again on both sides in
 * step and compared entry by entry, then porterctl check on both.  Chunks
 * keep each transaction small: a reader held for the whole copy would pin
 * a PostgreSQL result per batch until its end.  So the source must not be
 * written meanwhile; if it was, the comparison says so.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ctl.h"
#include "store.h"

#define CHUNK		2000		/* entries a transaction */
#define CHUNK_BYTES	(8u << 20)	/* or this many bytes of values */
#define KEY_MAX		512
#define FULL_RETRIES	8

/* A backend's own bookkeeping in meta ("store:settled"): not copied. */
static int
private_key(enum pt_table t, const struct pt_val *k)
{
	return t == PT_T_META && k->len >= 6 &&
	    memcmp(k->data, "store:", 6) == 0;
}

/* Where a walk of one table is: after "key" (none yet: from the start). */
struct pos {
	unsigned char	key[KEY_MAX];
	size_t		len;
	int		have;
};

/* Position "c" at the first entry after "p", skipping private ones. */
static enum pt_err
seek_after(struct pt_cursor *c, enum pt_table t, const struct pos *p,
    struct pt_val *k, struct pt_val *v)
{
	enum pt_err rc;

	rc = pt_cursor_seek(c, p->have ? p->key : NULL, p->have ? p->len : 0,
	    PT_SEEK_GE, k, v);
	if (rc == PT_OK && p->have && k->len == p->len &&
	    memcmp(k->data, p->key, p->len) == 0)
		rc = pt_cursor_next(c, k, v);
	while (rc == PT_OK && private_key(t, k))
		rc = pt_cursor_next(c, k, v);
	return rc;
}

static enum pt_err
step(struct pt_cursor *c, enum pt_table t, struct pt_val *k,
    struct pt_val *v)
{
	enum pt_err rc;

	do
		rc = pt_cursor_next(c, k, v);
	while (rc == PT_OK && private_key(t, k));
	return rc;
}

static void
remember(struct pos *p, const struct pt_val *k)
{
	if (k->len > KEY_MAX)
		ctl_die("a key of %zu bytes: longer than any store keeps",
		    k->len);
	memcpy(p->key, k->data, k->len);
	p->len = k->len;
	p->have = 1;
}

/* A chunk's transactions: a read of the source, a write of the copy. */
struct pair {
	struct pt_txn		*rt, *wt;
	struct pt_cursor	*c;	/* on table "t" of one of them */
};

static enum pt_err
pair_begin(struct pair *p, struct pt_store *src, struct pt_store *dst,
    enum pt_table t, int cursor_on_copy)
{
	enum pt_err rc;

	memset(p, 0, sizeof(*p));
	if ((rc = pt_txn_begin(src, NULL, PT_TXN_READ, &p->rt)) != PT_OK ||
	    (rc = pt_txn_begin(dst, NULL, PT_TXN_WRITE, &p->wt)) != PT_OK)
		return rc;
	return pt_cursor_open(cursor_on_copy ? p->wt : p->rt, t, &p->c);
}

/* Commit the copy's write when "rc" is PT_OK; end the rest.  Its rc. */
static enum pt_err
pair_end(struct pair *p, enum pt_err rc)
{
	pt_cursor_close(p->c);
	if (rc == PT_OK && p->wt != NULL)
		rc = pt_txn_commit(p->wt);
	else if (p->wt != NULL)
		pt_txn_abort(p->wt);
	if (p->rt != NULL)
		pt_txn_abort(p->rt);
	memset(p, 0, sizeof(*p));
	return rc;
}

/*
 * One chunk of table "t" from "src" to "dst" after "p": *n entries,
 * *bytes of values; *end when the table is done.  PT_EFULL: the
 * destination had no room (nothing of the chunk is written, "p" kept).
 */
static enum pt_err
copy_chunk(struct pt_store *src, struct pt_store *dst, enum pt_table t,
    struct pos *p, size_t *n, uint64_t *bytes, int *end)
{
	struct pair pr;
	struct pt_val k, v;
	struct pos at = *p;
	enum pt_err rc;

	*n = 0;
	*bytes = 0;
	*end = 0;
	if ((rc = pair_begin(&pr, src, dst, t, 0)) != PT_OK)
		return pair_end(&pr, rc);
	for (rc = seek_after(pr.c, t, &at, &k, &v); rc == PT_OK;
	    rc = step(pr.c, t, &k, &v)) {
		/* Keys come in order: each the largest so far. */
		if ((rc = pt_put(pr.wt, t, k.data, k.len, v.data, v.len,
		    PT_PUT_APPEND)) != PT_OK)
			return pair_end(&pr, rc);
		remember(&at, &k);
		(*n)++;
		*bytes += v.len;
		if (*n >= CHUNK || *bytes >= CHUNK_BYTES)
			break;
	}
	if (rc == PT_ENOTFOUND) {
		*end = 1;
		rc = PT_OK;
	}
	if ((rc = pair_end(&pr, rc)) == PT_OK)
		*p = at;
	return rc;
}

/* Every entry of "t"; returns how many. */
static size_t
copy_table(struct pt_store *src, struct pt_store *dst, enum pt_table t,
    struct ctl_progress *pr, size_t *total, uint64_t *total_bytes)
{
	struct pos p = { .have = 0 };
	size_t n, copied = 0;
	uint64_t bytes;
	enum pt_err rc;
	int end = 0, full = 0;

	while (!end) {
		rc = copy_chunk(src, dst, t, &p, &n, &bytes, &end);
		if (rc == PT_EFULL && full++ < FULL_RETRIES &&
		    pt_store_make_room(dst, CHUNK_BYTES * 2ULL) == PT_OK)
			continue;	/* the destination grew: again */
		if (rc != PT_OK)
			ctl_die("copying %s: %s (%s)", pt_table_name(t),
			    pt_strerror(rc), pt_store_errstr());
		full = 0;
		copied += n;
		*total += n;
		*total_bytes += bytes;
		ctl_progress(pr, (uint64_t)*total);
	}
	return copied;
}

/*
 * Meta entries the destination has and the source has not (written when
 * it was opened): gone, so that both say the same of themselves.
 */
static void
drop_extra_meta(struct pt_store *src, struct pt_store *dst)
{
	struct pair pr;
	struct pt_val k, v, sv;
	enum pt_err rc;

	if ((rc = pair_begin(&pr, src, dst, PT_T_META, 1)) != PT_OK)
		goto out;
	for (rc = pt_cursor_seek(pr.c, NULL, 0, PT_SEEK_GE, &k, &v);
	    rc == PT_OK; rc = pt_cursor_next(pr.c, &k, &v)) {
		if (private_key(PT_T_META, &k))
			continue;
		rc = pt_get(pr.rt, PT_T_META, k.data, k.len, &sv);
		if (rc == PT_ENOTFOUND)
			rc = pt_cursor_del(pr.c);
		if (rc != PT_OK)
			break;
	}
	if (rc == PT_ENOTFOUND)
		rc = PT_OK;
out:
	if ((rc = pair_end(&pr, rc)) != PT_OK)
		ctl_die("copying meta: %s (%s)", pt_strerror(rc),
		    pt_store_errstr());
}

/* "k" for a message: printable bytes as they are, others as \xNN. */
static const char *
shown_key(const struct pt_val *k, char *buf, size_t len)
{
	const unsigned char *b = k->data;
	size_t i, o = 0;

	for (i = 0; i < k->len && i < 64 && o + 5 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, b[i] >= 0x20 &&
		    b[i] < 0x7f && b[i] != '\\' ? "%c" : "\\x%02x", b[i]);
	buf[o] = '\0';
	return buf;
}

/*
 * Walk "t" on both sides in step, CHUNK entries a transaction each: 0
 * when every entry is the same, else 1 with the first difference said.
 * *n: entries compared.
 */
static int
compare_table(struct pt_store *src, struct pt_store *dst, enum pt_table t,
    size_t *n)
{
	struct pt_txn *at = NULL, *bt = NULL;
	struct pt_cursor *ac = NULL, *bc = NULL;
	struct pt_val ak, av, bk, bv;
	struct pos p = { .have = 0 };
	enum pt_err ra, rb;
	char shown[300];
	size_t i;
	int bad = -1;

	*n = 0;
	while (bad < 0) {
		if (pt_txn_begin(src, NULL, PT_TXN_READ, &at) != PT_OK ||
		    pt_txn_begin(dst, NULL, PT_TXN_READ, &bt) != PT_OK ||
		    pt_cursor_open(at, t, &ac) != PT_OK ||
		    pt_cursor_open(bt, t, &bc) != PT_OK)
			ctl_die("comparing %s: %s", pt_table_name(t),
			    pt_store_errstr());
		ra = seek_after(ac, t, &p, &ak, &av);
		rb = seek_after(bc, t, &p, &bk, &bv);
		for (i = 0; i < CHUNK; i++) {
			if (ra != PT_OK && ra != PT_ENOTFOUND)
				ctl_die("comparing %s: %s", pt_table_name(t),
				    pt_strerror(ra));
			if (rb != PT_OK && rb != PT_ENOTFOUND)
				ctl_die("comparing %s: %s", pt_table_name(t),
				    pt_strerror(rb));
			if (ra == PT_ENOTFOUND && rb == PT_ENOTFOUND) {
				bad = 0;
				break;
			}
			if (ra == PT_ENOTFOUND || rb == PT_ENOTFOUND ||
			    ak.len != bk.len ||
			    memcmp(ak.data, bk.data, ak.len) != 0) {
				printf("problem: %s: key %s only in the %s\n",
				    pt_table_name(t), shown_key(ra ==
				    PT_ENOTFOUND ? &bk : &ak, shown,
				    sizeof(shown)), ra == PT_ENOTFOUND ?
				    "destination" : "source");
				bad = 1;
				break;
			}
			if (av.len != bv.len ||
			    memcmp(av.data, bv.data, av.len) != 0) {
				printf("problem: %s: key %s has another value "
				    "in the destination\n", pt_table_name(t),
				    shown_key(&ak, shown, sizeof(shown)));
				bad = 1;
				break;
			}
			remember(&p, &ak);
			(*n)++;
			ra = step(ac, t, &ak, &av);
			rb = step(bc, t, &bk, &bv);
		}
		pt_cursor_close(ac);
		pt_cursor_close(bc);
		pt_txn_abort(at);
		pt_txn_abort(bt);
		ac = bc = NULL;
		at = bt = NULL;
	}
	return bad;
}

static void
print_problem(void *arg, const char *line)
{
	printf("problem: %s: %s\n", (const char *)arg, line);
}

/* porterctl check of one side; returns its problems. */
static size_t
check_side(struct pt_store *s, const char *side, size_t *events)
{
	struct pt_txn *txn;
	enum pt_err rc;
	size_t problems;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("checking the %s: %s", side, pt_strerror(rc));
	problems = pt_check(txn, print_problem, (void *)side, events);
	pt_txn_abort(txn);
	return problems;
}

int
cmd_copy(const struct ctl_args *a)
{
	const char *from = a->str[CTL_K_FROM], *to = a->str[CTL_K_TO];
	struct pt_store *src, *dst;
	struct pt_store_stat st;
	struct ctl_progress pr;
	char fshown[512], tshown[512];
	size_t total = 0, n, compared = 0, pa, pb, ea, eb;
	uint64_t bytes = 0, others = 0;
	int t, differ = 0;

	if (strcmp(from, to) == 0)
		ctl_usage_die("copy: --from and --to name the same store");
	pt_store_display(from, fshown, sizeof(fshown));
	pt_store_display(to, tshown, sizeof(tshown));
	src = ctl_open_at(from, CTL_OPEN_READ);
	dst = ctl_open_at(to, CTL_OPEN_BARE);
	if (pt_store_stat(dst, &st) != PT_OK)
		ctl_die("%s: %s", tshown, pt_store_errstr());
	for (t = 0; t < PT_T__MAX; t++)
		if (t != PT_T_META)
			others += st.entries[t];
	if (others)
		ctl_die("%s holds Porter data already (%llu entries, %llu "
		    "events): copy into an empty store (a new directory, or "
		    "a database without Porter's tables)", tshown,
		    (unsigned long long)others,
		    (unsigned long long)st.entries[PT_T_EVENTS]);
	/* One fsync at the end instead of one per chunk. */
	pt_store_set_durability(dst, PT_DURABLE_RELAXED);
	ctl_progress_start(&pr, "copying entries");
	for (t = 0; t < PT_T__MAX; t++)
		(void)copy_table(src, dst, (enum pt_table)t, &pr, &total,
		    &bytes);
	drop_extra_meta(src, dst);
	ctl_progress_end(&pr, (uint64_t)total);
	if (pt_store_sync(dst) != PT_OK)
		ctl_die("%s: making the copy durable: %s", tshown,
		    pt_store_errstr());
	pt_store_set_durability(dst, PT_DURABLE_FULL);
	printf("%zu entries (%.1f MiB of values) copied from %s to %s\n",
	    total, (double)bytes / 1048576.0, fshown, tshown);

	for (t = 0; t < PT_T__MAX; t++) {
		differ += compare_table(src, dst, (enum pt_table)t, &n);
		compared += n;
	}
	if (differ)
		printf("compared: %d table%s differ; was the source written "
		    "during the copy?  Stop what writes to it, empty the "
		    "destination and copy again\n", differ, differ == 1 ? "" :
		    "s");
	else
		printf("compared: all %zu entries of the %d tables are the "
		    "same on both sides\n", compared, PT_T__MAX);
	pa = check_side(src, "source", &ea);
	pb = check_side(dst, "destination", &eb);
	printf("check: source %zu events, %zu problem%s; destination %zu "
	    "events, %zu problem%s\n", ea, pa, pa == 1 ? "" : "s", eb, pb,
	    pb == 1 ? "" : "s");
	pt_store_close(dst);
	pt_store_close(src);
	return differ || pa || pb || ea != eb ? 1 : 0;
}

int
cmd_migrate(const struct ctl_args *a)
{
	struct pt_store *s;
	char shown[512];

	(void)a;
	/*
	 * Opening to write creates a database's tables (or checks that
	 * their version is this Porter's) and completes the action index.
	 */
	s = ctl_open_store(0);
	printf("%s: the %s store is ready for this Porter (%s)\n",
	    pt_store_display(ctl_db_dir, shown, sizeof(shown)),
	    pt_store_backend(s), PACKAGE_VERSION);
	pt_store_close(s);
	return 0;
}
