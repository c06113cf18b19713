/*
 * data.c - porterctl commands that show the data actions made:
 * users, objects, tenants, subscriptions, audiences and workflow runs.
 *
 * All read the store read-only, in short read transactions.  With --json a
 * listing prints one JSON object per line and a single record prints
 * pretty JSON; otherwise a table (or "key: value" lines).  Text from the
 * store is shown with control characters replaced: it came from webhooks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "ctl.h"
#include "data.h"
#include "ids.h"
#include "json.h"
#include "store.h"

#define RUNS_LIMIT		50	/* runs shown by default */
#define FOLLOW_BACKLOG		10	/* runs shown before following */
#define FOLLOW_POLL_NS		300000000L
/*
 * A run id carries the time its event arrived, not the time it was
 * committed: a slow request may commit a run older than one already
 * printed.  --follow rescans this far behind the newest run it has seen.
 */
#define FOLLOW_LAG_US		(10LL * 1000000)

static struct pt_txn *
begin_read(struct pt_store *s)
{
	struct pt_txn *txn;
	enum pt_err rc;

	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	return txn;
}

/* Print "len" bytes of "s" with control characters as '?'. */
static void
put_safe(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

/*
 * The display text of "v" into "b": strings as they are, null as "-",
 * anything else as compact JSON.
 */
static void
display(pt_json *v, struct pt_buf *b)
{
	const char *s;
	size_t n;

	pt_buf_reset(b);
	if (v == NULL)
		pt_buf_adds(b, "-");
	else if (pt_json_type(v) == PT_J_STRING) {
		s = pt_json_str(v, &n);
		pt_buf_add(b, s, n);
	} else
		pt_json_write(b, v, PT_JSON_PLAIN);
	if (b->failed)
		ctl_die("out of memory");
}

/* A subscription recipient: the user id, or "collection/id". */
static void
display_recipient(pt_json *r, struct pt_buf *b)
{
	if (pt_json_type(r) != PT_J_OBJECT) {
		display(r, b);
		return;
	}
	display(pt_json_get(r, "collection"), b);
	pt_buf_addc(b, '/');
	{
		struct pt_buf id = { 0 };

		display(pt_json_get(r, "id"), &id);
		pt_buf_add(b, id.data, id.len);
		pt_buf_free(&id);
	}
	if (b->failed)
		ctl_die("out of memory");
}

/* A column of a table: header, record member, minimum width. */
struct col {
	const char	*title;
	const char	*key;	/* "#members": the audience's member count */
	int		 width;	/* 0: last column */
};

/* A listing in progress. */
struct listing {
	const struct col	*cols;
	int			 json;
	size_t			 n;
	struct pt_txn		*txn;	/* for "#members" */
};

static int
count_cb(void *arg, pt_json *rec)
{
	(void)rec;
	(*(size_t *)arg)++;
	return 0;
}

static void
print_header(const struct col *cols)
{
	const struct col *c;

	for (c = cols; c->title != NULL; c++)
		if (c->width)
			printf("%-*s ", c->width, c->title);
		else
			fputs(c->title, stdout);
	putchar('\n');
}

/* One row of a table, or one JSON line. */
static int
print_row(void *arg, pt_json *rec)
{
	struct listing *l = arg;
	const struct col *c;
	struct pt_buf b = { 0 };
	size_t members;
	int i;

	if (l->json) {
		ctl_json_line(rec);
		l->n++;
		return 0;
	}
	if (l->n++ == 0)
		print_header(l->cols);
	for (c = l->cols; c->title != NULL; c++) {
		if (strcmp(c->key, "#members") == 0) {
			members = 0;
			if (pt_audience_members(l->txn, pt_json_str(pt_json_get(
			    rec, "key"), NULL), count_cb, &members) != PT_OK)
				ctl_die("reading members");
			pt_buf_reset(&b);
			pt_buf_printf(&b, "%zu", members);
		} else if (strcmp(c->key, "recipient") == 0)
			display_recipient(pt_json_get(rec, c->key), &b);
		else
			display(pt_json_get(rec, c->key), &b);
		put_safe(b.data, b.len);
		if (c->width) {
			for (i = (int)b.len; i < c->width; i++)
				putchar(' ');
			putchar(' ');
		}
	}
	putchar('\n');
	pt_buf_free(&b);
	return 0;
}

/* A single record: pretty JSON, or "key: value" lines. */
static void
print_record(pt_json *rec, int json)
{
	struct pt_json_iter it = { 0 };
	struct pt_buf b = { 0 };
	const char *k;
	pt_json *v;

	if (json) {
		ctl_json_doc(rec);
		return;
	}
	while (pt_json_iter_next(rec, &it, &k, &v)) {
		display(v, &b);
		put_safe(k, strlen(k));
		fputs(": ", stdout);
		put_safe(b.data, b.len);
		putchar('\n');
	}
	pt_buf_free(&b);
}

/* Finish a listing: the "none" line, the error, the store. */
static void
end_listing(struct pt_store *s, struct pt_txn *txn, enum pt_err rc,
    const struct listing *l, const char *what)
{
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading %s: %s", what, pt_strerror(rc));
	if (!l->json && l->n == 0)
		printf("no %s\n", what);
	if (fflush(stdout) == EOF)
		ctl_die("stdout: %s", strerror(errno));
	pt_store_close(s);
}

/* Show one record got by "rc"; dies when absent. */
static void
show_one(struct pt_store *s, struct pt_txn *txn, enum pt_err rc,
    pt_json *rec, int json, const char *what, const char *name)
{
	pt_txn_abort(txn);
	if (rc == PT_ENOTFOUND)
		ctl_die("%s %s: not found", what, name);
	if (rc != PT_OK)
		ctl_die("reading %s %s: %s", what, name, pt_strerror(rc));
	print_record(rec, json);
	pt_json_put(rec);
	pt_store_close(s);
}

static const struct col user_cols[] = {
	{ "ID", "id", 24 }, { "NAME", "name", 20 }, { "EMAIL", "email", 28 },
	{ "UPDATED", "updated_at", 0 }, { NULL, NULL, 0 }
};
static const struct col named_cols[] = {
	{ "ID", "id", 24 }, { "NAME", "name", 24 },
	{ "UPDATED", "updated_at", 0 }, { NULL, NULL, 0 }
};
static const struct col sub_cols[] = {
	{ "RECIPIENT", "recipient", 32 }, { "UPDATED", "updated_at", 27 },
	{ "PROPERTIES", "properties", 0 }, { NULL, NULL, 0 }
};
static const struct col audience_cols[] = {
	{ "KEY", "key", 32 }, { "MEMBERS", "#members", 8 },
	{ "UPDATED", "updated_at", 0 }, { NULL, NULL, 0 }
};
static const struct col member_cols[] = {
	{ "USER", "user", 24 }, { "TENANT", "tenant", 24 },
	{ "ADDED", "added_at", 0 }, { NULL, NULL, 0 }
};
static const struct col run_cols[] = {
	{ "ID", "id", 30 }, { "WORKFLOW", "workflow", 20 },
	{ "STATUS", "status", 10 }, { "CREATED", "created_at", 27 },
	{ "CANCELLATION KEY", "cancellation_key", 0 }, { NULL, NULL, 0 }
};

/* Users and tenants: one by its id, or all of them. */
struct by_id {
	const char		*one, *many;	/* "user", "users" */
	const struct col	*cols;
	enum pt_err		(*get)(struct pt_txn *, const char *id,
				    pt_json **);
	enum pt_err		(*list)(struct pt_txn *, pt_rec_cb, void *);
};

static int
show_by_id(const struct ctl_args *a, const struct by_id *k)
{
	struct listing l = { k->cols, 0, 0, NULL };
	struct pt_store *s;
	struct pt_txn *txn;
	pt_json *rec = NULL;
	enum pt_err rc;
	int json = a->given[CTL_K_JSON] > 0;

	s = ctl_open_store(1);
	txn = begin_read(s);
	if (a->npos == 1) {
		rc = k->get(txn, a->pos[0], &rec);
		show_one(s, txn, rc, rec, json, k->one, a->pos[0]);
		return 0;
	}
	l.json = json;
	rc = k->list(txn, print_row, &l);
	end_listing(s, txn, rc, &l, k->many);
	return 0;
}

/* porterctl users [ID] [--json] */
int
cmd_users(const struct ctl_args *a)
{
	static const struct by_id users = { "user", "users", user_cols,
	    pt_user_get, pt_users_list };

	return show_by_id(a, &users);
}

/* porterctl objects COLLECTION [ID] [--json] */
int
cmd_objects(const struct ctl_args *a)
{
	struct listing l = { named_cols, 0, 0, NULL };
	struct pt_store *s;
	struct pt_txn *txn;
	pt_json *rec = NULL;
	enum pt_err rc;
	int json = a->given[CTL_K_JSON] > 0;

	s = ctl_open_store(1);
	txn = begin_read(s);
	if (a->npos == 2) {
		rc = pt_object_get(txn, a->pos[0], a->pos[1], &rec);
		show_one(s, txn, rc, rec, json, "object", a->pos[1]);
		return 0;
	}
	l.json = json;
	rc = pt_objects_list(txn, a->pos[0], print_row, &l);
	end_listing(s, txn, rc, &l, "objects");
	return 0;
}

/* porterctl tenants [ID] [--json] */
int
cmd_tenants(const struct ctl_args *a)
{
	static const struct by_id tenants = { "tenant", "tenants",
	    named_cols, pt_tenant_get, pt_tenants_list };

	return show_by_id(a, &tenants);
}

/* porterctl subscriptions COLLECTION ID [--json] */
int
cmd_subscriptions(const struct ctl_args *a)
{
	struct listing l = { sub_cols, 0, 0, NULL };
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;
	int json = a->given[CTL_K_JSON] > 0;

	s = ctl_open_store(1);
	txn = begin_read(s);
	l.json = json;
	rc = pt_subscriptions_list(txn, a->pos[0], a->pos[1], print_row, &l);
	end_listing(s, txn, rc, &l, "subscriptions");
	return 0;
}

/* Does audience "key" exist?  (Found by a walk: audiences are few.) */
struct find_aud {
	const char	*key;
	int		 found;
};

static int
find_aud_cb(void *arg, pt_json *rec)
{
	struct find_aud *f = arg;
	const char *k;
	size_t n;

	k = pt_json_str(pt_json_get(rec, "key"), &n);
	if (k != NULL && n == strlen(f->key) && memcmp(k, f->key, n) == 0) {
		f->found = 1;
		return 1;
	}
	return 0;
}

/* porterctl audiences [KEY] [--json]; with KEY, its members. */
int
cmd_audiences(const struct ctl_args *a)
{
	struct listing l = { audience_cols, 0, 0, NULL };
	struct find_aud f;
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;
	int json = a->given[CTL_K_JSON] > 0;

	s = ctl_open_store(1);
	txn = begin_read(s);
	l.json = json;
	l.txn = txn;
	if (a->npos == 0) {
		rc = pt_audiences_list(txn, print_row, &l);
		end_listing(s, txn, rc, &l, "audiences");
		return 0;
	}
	f.key = a->pos[0];
	f.found = 0;
	if ((rc = pt_audiences_list(txn, find_aud_cb, &f)) != PT_OK)
		ctl_die("reading audiences: %s", pt_strerror(rc));
	if (!f.found)
		ctl_die("audience %s: not found", a->pos[0]);
	l.cols = member_cols;
	rc = pt_audience_members(txn, a->pos[0], print_row, &l);
	end_listing(s, txn, rc, &l, "members");
	return 0;
}

/*
 * runs: the last "limit" matching runs (a ring), then with --follow the
 * new ones.  "seen" holds, sorted, the ids of the runs within FOLLOW_LAG_US
 * of the newest one met, so a rescan of that window prints nothing twice.
 */
struct runs_walk {
	const char		*workflow, *status;	/* NULL: any */
	int			 follow;
	pt_json			**ring;
	size_t			 cap, head, count;
	int			 following;	/* print as found */
	struct ctl_seen		 seen;
};

static int
run_matches(const struct runs_walk *w, pt_json *rec)
{
	const char *s;

	if (w->workflow != NULL && ((s = pt_json_str(pt_json_get(rec,
	    "workflow"), NULL)) == NULL || strcmp(s, w->workflow) != 0))
		return 0;
	if (w->status != NULL && ((s = pt_json_str(pt_json_get(rec,
	    "status"), NULL)) == NULL || strcmp(s, w->status) != 0))
		return 0;
	return 1;
}

static void
print_json_line(pt_json *rec)
{
	ctl_json_line(rec);
	if (fflush(stdout) == EOF || ferror(stdout))
		ctl_die("stdout: %s", strerror(errno));
}

static int
runs_cb(void *arg, pt_json *rec)
{
	struct runs_walk *w = arg;
	uint8_t id[PT_ID_BIN];
	const char *text = pt_json_str(pt_json_get(rec, "id"), NULL);

	if (w->follow) {
		if (text == NULL || pt_id_parse("run", text, id) < 0)
			return 0;	/* cannot tell it apart: skip */
		if (!ctl_seen_add(&w->seen, id, FOLLOW_LAG_US))
			return 0;
	}
	if (!run_matches(w, rec))
		return 0;
	if (w->following) {
		print_json_line(rec);
		return 0;
	}
	/* The ring keeps the last "cap" matches. */
	if (w->count == w->cap) {
		pt_json_put(w->ring[w->head]);
		w->count--;
		w->head = (w->head + 1) % w->cap;
	}
	w->ring[(w->head + w->count) % w->cap] = pt_json_ref(rec);
	w->count++;
	return 0;
}

/* porterctl runs [--workflow K] [--status S] [--limit N] [--follow] */
int
cmd_runs(const struct ctl_args *a)
{
	struct listing l = { run_cols, 0, 0, NULL };
	struct timespec nap = { 0, FOLLOW_POLL_NS };
	struct runs_walk w;
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t after[PT_ID_BIN];
	enum pt_err rc;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.workflow = a->str[CTL_K_WORKFLOW];
	w.status = a->str[CTL_K_STATUS];
	w.follow = a->given[CTL_K_FOLLOW] > 0;
	w.cap = a->given[CTL_K_LIMIT] ? (size_t)a->num[CTL_K_LIMIT] :
	    w.follow ? FOLLOW_BACKLOG : RUNS_LIMIT;
	if ((w.ring = pt_calloc(w.cap, sizeof(*w.ring))) == NULL)
		ctl_die("out of memory");
	s = ctl_open_store(1);
	txn = begin_read(s);
	rc = pt_runs_list(txn, NULL, runs_cb, &w);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading runs: %s", pt_strerror(rc));
	l.json = a->given[CTL_K_JSON] || w.follow;
	for (i = 0; i < w.count; i++) {
		print_row(&l, w.ring[(w.head + i) % w.cap]);
		pt_json_put(w.ring[(w.head + i) % w.cap]);
	}
	pt_free(w.ring);
	if (!w.follow) {
		if (!l.json && l.n == 0)
			printf("no runs\n");
		if (fflush(stdout) == EOF)
			ctl_die("stdout: %s", strerror(errno));
		pt_store_close(s);
		return 0;
	}

	/* Follow: until killed. */
	if (fflush(stdout) == EOF)
		ctl_die("stdout: %s", strerror(errno));
	w.following = 1;
	for (;;) {
		nanosleep(&nap, NULL);
		txn = begin_read(s);
		rc = pt_runs_list(txn, ctl_seen_cursor(&w.seen, FOLLOW_LAG_US,
		    after), runs_cb, &w);
		pt_txn_abort(txn);
		if (rc != PT_OK)
			ctl_die("reading runs: %s", pt_strerror(rc));
	}
}
