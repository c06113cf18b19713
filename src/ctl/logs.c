/*
 * logs.c - porterctl logs, log, events and actions: reading the event log
 * and the action log.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actionlog.h"
#include "alloc.h"
#include "conf.h"
#include "ctl.h"
#include "eventlog.h"
#include "ids.h"
#include "inspect.h"
#include "json.h"
#include "path.h"
#include "store.h"
#include "timeutil.h"

struct logs_out {
	int		 json;
	size_t		 n;
	/* --follow: the backlog, newest first, then what is new. */
	int		 follow;
	int		 priming;	/* only learn what is there */
	struct pt_path	*where;		/* --where PATH=VALUE, or NULL */
	const char	*value;
	/* Text: a page of "limit", then "more: --before" the last shown. */
	size_t		 limit;
	int		 more;
	char		 id_last[PT_ID_MAX];
	pt_json		*fresh;		/* actions --follow: one poll's */
	pt_json		**back;
	size_t		 nback;
	struct ctl_seen	 seen;
};

/* --follow: poll this often; rescan this far behind the newest event. */
#define FOLLOW_POLL_NS	300000000L
#define FOLLOW_LAG_US	(10LL * 1000000)
#define FOLLOW_BACKLOG	10

static int print_unseen(struct logs_out *, pt_json *meta);

static int
print_log_line(void *arg, const uint8_t id[PT_ID_BIN], pt_json *meta,
    const uint8_t *body, size_t body_len)
{
	struct logs_out *o = arg;

	if (o->follow && (!ctl_seen_add(&o->seen, id, FOLLOW_LAG_US) ||
	    o->priming))
		return 0;
	if (o->where != NULL && !pt_inspect_where(o->where, o->value, meta,
	    body, body_len))
		return 0;
	if (o->back != NULL) {		/* the backlog, printed oldest first */
		o->back[o->nback++] = pt_json_ref(meta);
		return 0;
	}
	return print_unseen(o, meta);
}

/* One record, as a line of text or of NDJSON. */
static int
print_unseen(struct logs_out *o, pt_json *meta)
{
	pt_json *vf = pt_json_get(meta, "verification");
	const char *type = pt_json_str(pt_json_get(meta, "event_type"), NULL);
	const char *reason = pt_json_str(pt_json_get(vf, "reason"), NULL);
	char typebuf[PT_EVENT_TYPE_MAX + 16], where[200];

	o->n++;
	if (o->json) {
		ctl_json_line(meta);
		if (o->follow && fflush(stdout) == EOF)
			ctl_die("stdout: %s", strerror(errno));
		return 0;
	}
	/* A rejected request's type is only what its body claims. */
	if (type != NULL && pt_json_get_ex(meta, "event_type_unverified",
	    NULL)) {
		snprintf(typebuf, sizeof(typebuf), "%s (unverified)", type);
		type = typebuf;
	}
	if (o->limit && o->n > o->limit) {	/* one more than a page */
		o->more = 1;
		return 1;
	}
	if (o->n == 1 && ctl_tty() && !o->follow)
		printf("%-27s  %-30s  %-24s %-24s %-14s %s\n", "RECEIVED", "ID",
		    "SOURCE/ENV", "TYPE", "STATUS", "VERIFICATION");
	snprintf(where, sizeof(where), "%s/%s", pt_json_str(pt_json_get(meta,
	    "source"), NULL), pt_json_str(pt_json_get(meta, "environment"),
	    NULL));
	printf("%-27s  %-30s  %-24s %-24s ",
	    pt_json_str(pt_json_get(meta, "received_at"), NULL),
	    pt_json_str(pt_json_get(meta, "id"), NULL), where,
	    type ? type : "-");
	ctl_print_status(pt_json_str(pt_json_get(meta, "status"), NULL), 15);
	ctl_print_status(pt_json_str(pt_json_get(vf, "status"), NULL), 0);
	printf("%s%s\n", reason ? " " : "", reason ? reason : "");
	snprintf(o->id_last, sizeof(o->id_last), "%s",
	    pt_json_str(pt_json_get(meta, "id"), NULL));
	if (o->follow && fflush(stdout) == EOF)
		ctl_die("stdout: %s", strerror(errno));
	return 0;
}

/*
 * --follow: the last events (the query's limit) oldest first, then each
 * new one as it lands, until killed.  An event is printed once, as it was
 * when first met (a pending one as pending).
 */
static void
follow(struct pt_store *s, struct pt_log_query *q, struct logs_out *o)
{
	struct timespec nap = { 0, FOLLOW_POLL_NS };
	uint8_t after[PT_ID_BIN];
	pt_json **back;
	struct pt_txn *txn;
	enum pt_err rc;
	size_t i;

	if ((back = pt_calloc(q->limit, sizeof(*back))) == NULL)
		ctl_die("out of memory");
	o->back = back;
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_eventlog_query(txn, q, print_log_line, o);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading the log: %s", pt_strerror(rc));
	o->back = NULL;
	for (i = o->nback; i > 0; i--) {
		(void)print_unseen(o, back[i - 1]);
		pt_json_put(back[i - 1]);
	}
	pt_free(back);
	if (fflush(stdout) == EOF)
		ctl_die("stdout: %s", strerror(errno));
	/*
	 * Then what lands, oldest first from just behind the newest: the
	 * window is rescanned each time (a write that commits late has an
	 * older id), so first learn what it holds now, printing nothing.
	 */
	q->before = NULL;
	q->since = 0;
	q->limit = 100000;
	if (o->seen.newest == 0)	/* nothing yet: from now on */
		o->seen.newest = pt_now_us();
	o->priming = 1;
	for (;; o->priming = 0) {
		if (!o->priming)
			nanosleep(&nap, NULL);
		q->after = ctl_seen_cursor(&o->seen, FOLLOW_LAG_US, after);
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
			ctl_die("store: %s", pt_strerror(rc));
		rc = pt_eventlog_query(txn, q, print_log_line, o);
		pt_txn_abort(txn);
		if (rc != PT_OK)
			ctl_die("reading the log: %s", pt_strerror(rc));
	}
}

int
cmd_logs(const struct ctl_args *a)
{
	struct pt_log_query q;
	struct logs_out o;
	struct pt_config *cfg;
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN];
	char why[512];
	enum pt_err rc;

	memset(&q, 0, sizeof(q));
	memset(&o, 0, sizeof(o));
	q.source = a->str[CTL_K_SOURCE];
	q.environment = a->str[CTL_K_ENV];
	q.event_type = a->str[CTL_K_TYPE];
	q.status = a->str[CTL_K_STATUS];
	q.verify_status = a->str[CTL_K_VERIFICATION];
	if (a->given[CTL_K_SINCE])
		q.since = ctl_since_us(a->str[CTL_K_SINCE]);
	if (a->given[CTL_K_BEFORE] && pt_id_parse("evt", a->str[CTL_K_BEFORE],
	    before) == 0)
		q.before = before;
	o.follow = a->given[CTL_K_FOLLOW] > 0;
	q.limit = a->given[CTL_K_LIMIT] ? (size_t)a->num[CTL_K_LIMIT] :
	    o.follow ? FOLLOW_BACKLOG : 50;
	o.json = a->given[CTL_K_JSON] > 0;
	/* Text pages say whether there is more: ask for one more. */
	if (!o.json && !o.follow) {
		o.limit = q.limit;
		q.limit++;
	}
	if (a->given[CTL_K_WHERE])
		o.where = ctl_where(a->str[CTL_K_WHERE], &o.value);
	q.want_body = o.where != NULL;
	s = ctl_open_store(1);
	cfg = ctl_load_config(s);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	/* A filter that cannot match is a mistake, not "no events". */
	rc = pt_eventlog_check_filters(txn, cfg, &q, why, sizeof(why));
	pt_config_free(cfg);
	if (rc == PT_EINVAL)
		ctl_usage_die("logs: %s", why);
	if (rc == PT_OK && o.follow) {
		pt_txn_abort(txn);
		follow(s, &q, &o);	/* until killed */
	}
	if (rc == PT_OK)
		rc = pt_eventlog_query(txn, &q, print_log_line, &o);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading the log: %s", pt_strerror(rc));
	if (!o.json && o.n == 0)
		printf("no events\n");
	if (o.more)
		printf("more: --before %s\n", o.id_last);
	pt_path_free(o.where);
	pt_store_close(s);
	return 0;
}

/* headers: one "Name: value" line each, as they came (redacted). */
static void
print_header_lines(const pt_json *h)
{
	struct pt_json_iter it = { 0 };
	const char *k, *s;
	pt_json *v;

	printf("headers:\n");
	while (pt_json_iter_next(h, &it, &k, &v))
		printf("  %s: %s\n", k, (s = pt_json_str(v, NULL)) ? s : "");
}

/*
 * action_logs: one line per action -- its id, action, status, the run it
 * made, its handler's outcome, the error and the first line of stderr.
 */
static void
print_action_lines(const pt_json *acts)
{
	const pt_json *a, *hd, *err;
	const char *run, *msg, *stderr_text;
	size_t i, n;

	printf("actions:\n");
	for (i = 0; i < pt_json_len(acts); i++) {
		a = pt_json_index(acts, i);
		hd = pt_json_get(pt_json_get(a, "result"), "handler");
		err = pt_json_get(a, "error");
		run = pt_json_str(pt_json_get(pt_json_get(a, "result"), "id"),
		    NULL);
		printf("  %s  %-20s ", pt_json_str(pt_json_get(a, "id"), NULL),
		    pt_json_str(pt_json_get(a, "action"), NULL));
		ctl_print_status(pt_json_str(pt_json_get(a, "status"), NULL), 12);
		if (run != NULL)
			printf("  %s", run);
		if (pt_json_get(hd, "http_status") != NULL)
			printf("  handler: HTTP %lld", (long long)pt_json_int(
			    pt_json_get(hd, "http_status")));
		else if (pt_json_bool(pt_json_get(hd, "timed_out")))
			printf("  handler: timed out");
		else if (pt_json_type(pt_json_get(hd, "exit_code")) == PT_J_INT)
			printf("  handler: exit %lld", (long long)pt_json_int(
			    pt_json_get(hd, "exit_code")));
		if ((msg = pt_json_str(pt_json_get(err, "message"), NULL)) !=
		    NULL)
			printf("  %s%s%s", pt_json_str(pt_json_get(err, "field"),
			    NULL) ? pt_json_str(pt_json_get(err, "field"), NULL) :
			    "", pt_json_str(pt_json_get(err, "field"), NULL) ?
			    ": " : "", msg);
		stderr_text = pt_json_str(pt_json_get(hd, "stderr"), &n);
		if (stderr_text != NULL && n > 0)
			printf("  stderr: %.*s", (int)strcspn(stderr_text, "\n"),
			    stderr_text);
		printf("\n");
	}
}

/* "response: 502 handler_failed (Retry-After: 60)": what the sender got. */
static void
print_response(const pt_json *r)
{
	const char *code = pt_json_str(pt_json_get(r, "error"), NULL);
	const pt_json *ra = pt_json_get(r, "retry_after");

	printf("response: %lld", (long long)pt_json_int(pt_json_get(r,
	    "status")));
	if (code != NULL)
		printf(" %s", code);
	if (ra != NULL)
		printf(" (Retry-After: %lld)", (long long)pt_json_int(ra));
	printf("\n");
}

int
cmd_log(const struct ctl_args *a)
{
	const char *evt = a->pos[0];
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t id[PT_ID_BIN];
	enum pt_err rc;
	pt_json *m;
	int json = a->given[CTL_K_JSON] > 0;

	if (pt_id_parse("evt", evt, id) < 0)
		ctl_die("%s: not an event id", evt);
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	/* Shared with the admin API (inspect.c). */
	if ((rc = pt_inspect_event(txn, id, 0, &m)) != PT_OK)
		ctl_die("%s: %s", evt, rc == PT_ENOTFOUND ? "no such event" :
		    rc == PT_ECORRUPT ? "stored record does not decode" :
		    pt_strerror(rc));
	pt_txn_abort(txn);
	if (json)
		ctl_json_doc(m);
	else {
		struct pt_json_iter it = { 0 };
		const char *k;
		pt_json *v;

		while (pt_json_iter_next(m, &it, &k, &v)) {
			if (strcmp(k, "body") == 0) {
				printf("%s:\n", k);
				ctl_print_json(v, PT_JSON_PRETTY);
			} else if (strcmp(k, "action_logs") == 0)
				print_action_lines(v);
			else if (strcmp(k, "headers") == 0 &&
			    pt_json_type(v) == PT_J_OBJECT)
				print_header_lines(v); else if (strcmp(k, "event_type") == 0 &&
			    pt_json_get_ex(m, "event_type_unverified", NULL))
				printf("%s: %s (unverified: the request failed "
				    "its signature check)\n", k,
				    pt_json_str(v, NULL));
			else if (strcmp(k, "response") == 0)
				print_response(v);
			else if (pt_json_type(v) == PT_J_STRING)
				printf("%s: %s\n", k, pt_json_str(v, NULL));
			else {
				printf("%s: ", k);
				ctl_print_json(v, PT_JSON_PLAIN);
			}
		}
	}
	pt_json_put(m);
	pt_store_close(s);
	return 0;
}

struct types_out {
	int	 json;
	pt_json	*arr;
};

static int
print_type(void *arg, const char *type, uint64_t count, int64_t first,
    int64_t last)
{
	struct types_out *o = arg;
	char f[PT_RFC3339_LEN], l[PT_RFC3339_LEN];
	pt_json *obj;

	pt_fmt_rfc3339(first, f);
	pt_fmt_rfc3339(last, l);
	if (!o->json) {
		printf("%-32s %10llu  first %s  last %s\n", type,
		    (unsigned long long)count, f, l);
		return 0;
	}
	if ((obj = pt_json_new_object()) == NULL)
		ctl_die("out of memory");
	pt_json_append(o->arr, obj);
	pt_json_set(obj, "event_type", pt_json_new_cstr(type));
	pt_json_set(obj, "count", pt_json_new_int((int64_t)count));
	pt_json_set(obj, "first_seen", pt_json_new_cstr(f));
	pt_json_set(obj, "last_seen", pt_json_new_cstr(l));
	return 0;
}

int
cmd_events(const struct ctl_args *a)
{
	const char *source = a->str[CTL_K_SOURCE], *env = a->str[CTL_K_ENV];
	struct types_out o = { 0, NULL };
	struct pt_store *s;
	struct pt_txn *txn;
	enum pt_err rc;

	o.json = a->given[CTL_K_JSON] > 0;
	if ((o.arr = pt_json_new_array()) == NULL)
		ctl_die("out of memory");
	s = ctl_open_store(1);
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_eventlog_types(txn, source, env, print_type, &o);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading event types: %s", pt_strerror(rc));
	if (o.json)
		ctl_json_doc(o.arr);
	pt_json_put(o.arr);
	pt_store_close(s);
	return 0;
}

/*
 * actions --follow: each poll collects the unseen records of the window
 * (newest first) and prints them oldest first.
 */
static int
collect_action(void *arg, const uint8_t id[PT_ID_BIN], pt_json *rec)
{
	struct logs_out *o = arg;

	if (!ctl_seen_add(&o->seen, id, FOLLOW_LAG_US) || o->priming)
		return 0;
	if (pt_json_append(o->fresh, pt_json_ref(rec)) != PT_OK)
		ctl_die("out of memory");
	return 0;
}

static int print_action(void *, const uint8_t id[PT_ID_BIN], pt_json *);

static void
follow_actions(struct pt_store *s, struct pt_action_query *q,
    struct logs_out *o)
{
	struct timespec nap = { 0, FOLLOW_POLL_NS };
	struct pt_action_page pg;
	struct pt_txn *txn;
	enum pt_err rc;
	size_t i;

	q->before = NULL;
	q->limit = 100000;
	for (;;) {
		if ((o->fresh = pt_json_new_array()) == NULL)
			ctl_die("out of memory");
		q->since = o->seen.newest > FOLLOW_LAG_US ? o->seen.newest -
		    FOLLOW_LAG_US : 0;
		if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
			ctl_die("store: %s", pt_strerror(rc));
		rc = pt_actions_query(txn, q, collect_action, o, &pg);
		pt_txn_abort(txn);
		if (rc != PT_OK)
			ctl_die("reading the action log: %s", pt_strerror(rc));
		for (i = pt_json_len(o->fresh); i > 0; i--)
			(void)print_action(o, NULL, pt_json_index(o->fresh,
			    i - 1));
		pt_json_put(o->fresh);
		if (fflush(stdout) == EOF)
			ctl_die("stdout: %s", strerror(errno));
		o->priming = 0;
		nanosleep(&nap, NULL);
	}
}

/* porterctl actions: one line of text, or NDJSON. */
static int
print_action(void *arg, const uint8_t id[PT_ID_BIN], pt_json *rec)
{
	struct logs_out *o = arg;
	const pt_json *err = pt_json_get(rec, "error");
	const char *msg = pt_json_str(pt_json_get(err, "message"), NULL);
	char where[200];

	(void)id;
	o->n++;
	if (o->json) {
		ctl_json_line(rec);
		return 0;
	}
	if (o->n == 1 && ctl_tty())
		printf("%-27s  %-30s  %-30s  %-24s %-20s %-12s %s\n", "INSERTED",
		    "ID", "EVENT", "SOURCE/ENV", "ACTION", "STATUS", "ERROR");
	snprintf(where, sizeof(where), "%s/%s", pt_json_str(pt_json_get(rec,
	    "source"), NULL), pt_json_str(pt_json_get(rec, "environment"),
	    NULL));
	printf("%-27s  %-30s  %-30s  %-24s %-20s ",
	    pt_json_str(pt_json_get(rec, "inserted_at"), NULL),
	    pt_json_str(pt_json_get(rec, "id"), NULL),
	    pt_json_str(pt_json_get(rec, "event_id"), NULL), where,
	    pt_json_str(pt_json_get(rec, "action"), NULL));
	ctl_print_status(pt_json_str(pt_json_get(rec, "status"), NULL), 13);
	printf("%s\n", msg ? msg : "");
	return 0;
}

int
cmd_actions(const struct ctl_args *a)
{
	struct pt_action_query q;
	struct pt_action_page pg;
	struct logs_out o;
	struct pt_store *s;
	struct pt_txn *txn;
	uint8_t before[PT_ID_BIN];
	char why[512], last[PT_ID_MAX];
	enum pt_err rc;

	memset(&q, 0, sizeof(q));
	memset(&o, 0, sizeof(o));
	q.source = a->str[CTL_K_SOURCE];
	q.environment = a->str[CTL_K_ENV];
	q.action = a->str[CTL_K_ACTION];
	q.status = a->str[CTL_K_STATUS];
	q.workflow = a->str[CTL_K_WORKFLOW];
	q.event_type = a->str[CTL_K_TYPE];
	if (a->given[CTL_K_SINCE])
		q.since = ctl_since_us(a->str[CTL_K_SINCE]);
	if (a->given[CTL_K_BEFORE] && pt_id_parse("act", a->str[CTL_K_BEFORE],
	    before) == 0)
		q.before = before;
	q.limit = (size_t)a->num[CTL_K_LIMIT];
	o.json = a->given[CTL_K_JSON] > 0;
	/* A filter that cannot match is a mistake, not "no actions". */
	if (pt_actions_check_filters(&q, why, sizeof(why)) < 0)
		ctl_usage_die("actions: %s", why);
	s = ctl_open_store(1);
	if (a->given[CTL_K_FOLLOW]) {
		/* What is there now is known, not printed: from now on. */
		o.follow = 1;
		o.priming = 1;
		o.seen.newest = pt_now_us();
		follow_actions(s, &q, &o);	/* until killed */
	}
	if ((rc = pt_txn_begin(s, NULL, PT_TXN_READ, &txn)) != PT_OK)
		ctl_die("store: %s", pt_strerror(rc));
	rc = pt_actions_query(txn, &q, print_action, &o, &pg);
	pt_txn_abort(txn);
	if (rc != PT_OK)
		ctl_die("reading the action log: %s", pt_strerror(rc));
	if (!o.json && o.n == 0)
		printf("no actions\n");
	if (!o.json && pg.more && pg.have_last) {
		pt_id_text("act", pg.last, last);
		printf("more: --before %s\n", last);
	}
	pt_store_close(s);
	return 0;
}
