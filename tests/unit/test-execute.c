/*
 * test-execute.c - the whole pipeline with mappings, workflow handlers and
 * idempotency, through pt_handle() on a real store (no server).
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "data.h"
#include "eventlog.h"
#include "handler.h"
#include "idem.h"
#include "nitems.h"
#include "tap.h"
#include "testutil.h"

#define EP	"/receive/src_app_prod_0001"

static char config_text[4096];
static int64_t fake_now = 1800000000LL * 1000000;

static int64_t
clock_fn(void)
{
	return fake_now += 1000;	/* 1 ms per call: ids stay ordered */
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* The responder's log lines since the last reset, for what only it says. */
static char	 logged[8192];

static void
capture(void *arg, const char *line)
{
	size_t n = strlen(logged);

	(void)arg;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

struct reply {
	int	 status;
	pt_json	*body;
	char	 retry_after[32];
};

static void
post(struct pt_ctx *ctx, const char *body, struct reply *r)
{
	struct pt_header h[1] = { { "user-agent", "t", 1 } };
	struct tu_body b = { body, strlen(body), 0, 0 };
	struct pt_json_error je;
	struct pt_resp resp;
	struct pt_req req;
	char clen[32];
	size_t i;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path_info = EP;
	req.content_type = "application/json";
	snprintf(clen, sizeof(clen), "%zu", strlen(body));
	req.content_length = clen;
	req.headers = h;
	req.nheaders = 1;
	req.read_body = tu_read;
	req.read_arg = &b;
	r->status = pt_handle(ctx, &req, &resp);
	r->body = NULL;
	pt_json_parse(resp.body.data, resp.body.len, 64, &r->body, &je);
	r->retry_after[0] = '\0';
	for (i = 0; i < resp.nheaders; i++)
		if (strcmp(resp.headers[i].name, "Retry-After") == 0)
			snprintf(r->retry_after, sizeof(r->retry_after), "%s",
			    resp.headers[i].value);
	pt_resp_free(&resp);
}

static const char *
jstr(pt_json *o, const char *k)
{
	return pt_json_str(pt_json_get(o, k), NULL);
}

/* The event record (with "action_logs") of the id in a reply. */
static pt_json *
event(struct pt_store *s, const char *idtext)
{
	struct pt_buf meta = { 0 };
	struct pt_txn *t;
	pt_json *m = NULL, *logs, *a;
	uint8_t id[PT_ID_BIN], aid[PT_ID_BIN];
	size_t i;

	if (idtext == NULL || pt_id_parse("evt", idtext, id) < 0)
		return NULL;
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	if (pt_eventlog_get(t, id, &meta, NULL) == PT_OK)
		m = pt_json_parse_trusted(meta.data, meta.len);
	pt_buf_free(&meta);
	if (m != NULL) {
		logs = pt_json_new_array();
		for (i = 0; i < pt_json_len(pt_json_get(m, "actions")); i++)
			if (pt_id_parse("act", pt_json_str(pt_json_index(
			    pt_json_get(m, "actions"), i), NULL), aid) == 0 &&
			    pt_action_get(t, aid, &a) == PT_OK)
				pt_json_append(logs, a);
		pt_json_set(m, "action_logs", logs);
	}
	pt_txn_abort(t);
	return m;
}

static int
take_id(void *arg, const uint8_t id[PT_ID_BIN], pt_json *m, const uint8_t *b,
    size_t len)
{
	(void)m;
	(void)b;
	(void)len;
	pt_id_text("evt", id, arg);
	return 1;
}

/* Text id of the newest event (static buffer). */
static const char *
newest_id(struct pt_store *s)
{
	static char text[PT_ID_MAX];
	struct pt_log_query q;
	struct pt_txn *t;

	memset(&q, 0, sizeof(q));
	q.limit = 1;
	text[0] = '\0';
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_eventlog_query(t, &q, take_id, text);
	pt_txn_abort(t);
	return text;
}

static pt_json *
run_of(struct pt_store *s, pt_json *action)
{
	struct pt_txn *t;
	pt_json *run = NULL;
	uint8_t id[PT_ID_BIN];
	const char *rid = jstr(pt_json_get(action, "result"), "id");

	if (rid == NULL || pt_id_parse("run", rid, id) < 0)
		return NULL;
	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_run_get(t, id, &run);
	pt_txn_abort(t);
	return run;
}

static pt_json *
user(struct pt_store *s, const char *id)
{
	struct pt_txn *t;
	pt_json *u = NULL;

	pt_txn_begin(s, NULL, PT_TXN_READ, &t);
	pt_user_get(t, id, &u);
	pt_txn_abort(t);
	return u;
}

/* The clock for several threads. */
static int64_t
clock_mt(void)
{
	return __atomic_add_fetch(&fake_now, 1000, __ATOMIC_SEQ_CST);
}

/* One request of the group-commit test, from a thread of its own. */
struct poster {
	pthread_t		 th;
	struct pt_store		*store;
	struct pt_committer	*gc;
	char			 body[256];
	struct reply		 r;
};

static void *
post_thread(void *arg)
{
	struct poster *p = arg;
	struct pt_ctx ctx;

	pt_ctx_init(&ctx, p->store);
	ctx.committer = p->gc;
	ctx.now = clock_mt;
	ctx.log = quiet;
	post(&ctx, p->body, &p->r);
	pt_ctx_free(&ctx);
	return NULL;
}

/* A job that writes, then fails: its batch runs again, nested. */
static enum pt_err
failing_job(struct pt_txn *txn, void *arg)
{
	(void)arg;
	if (pt_put(txn, PT_T_AUX, "failing", 7, "x", 1, 0) != PT_OK)
		return PT_ENOMEM;
	return PT_EIO;
}

static void *
failing_thread(void *arg)
{
	pt_committer_run(arg, failing_job, NULL);
	return NULL;
}

static uint64_t
entries(struct pt_store *s, enum pt_table t)
{
	struct pt_store_stat st;

	if (pt_store_stat(s, &st) != PT_OK)
		return 0;
	return st.entries[t];
}

/*
 * Events that share a batch with a failing job: the batch runs flat,
 * fails, runs again with every job nested.  Each event's effects must be
 * there exactly once, and nothing the flat run set may show in its record.
 */
static void
group_commit_rerun(const char *dir)
{
	struct pt_committer *gc = NULL;
	struct pt_commit_stats cst;
	struct pt_store *s;
	struct poster p[6];
	struct tu_hold h;
	pthread_t ft;
	pt_json *ev, *al;
	uint64_t events0, actions0, runs0, users0;
	char path[600];
	const char *err, *st, *first = NULL;
	char orig[PT_ID_MAX] = "";
	int i, accepted = 0, replayed = 0;

	snprintf(path, sizeof(path), "%s/group", dir);
	s = tu_store(path, 0);
	err = tu_apply(s, config_text);
	ok(err == NULL, "group: config applies (%s)", err ? err : "");
	pt_store_set_threaded(s);
	ok(pt_committer_start(s, 16, &gc) == PT_OK, "group: committer starts");
	events0 = entries(s, PT_T_EVENTS);
	actions0 = entries(s, PT_T_ACTIONS);
	runs0 = entries(s, PT_T_RUNS);
	users0 = entries(s, PT_T_USERS);

	tu_hold(&h, gc);
	memset(p, 0, sizeof(p));
	for (i = 0; i < 6; i++) {
		p[i].store = s;
		p[i].gc = gc;
		/* The last repeats the first's idempotency key. */
		snprintf(p[i].body, sizeof(p[i].body), "{\"type\":"
		    "\"customer.created\",\"id\":\"g-%d\",\"data\":{\"id\":"
		    "\"cus_g%d\",\"email\":\"g%d@example.com\"}}",
		    i == 5 ? 0 : i, i == 5 ? 0 : i, i == 5 ? 0 : i);
		pthread_create(&p[i].th, NULL, post_thread, &p[i]);
	}
	ok(tu_queued(&h, 6), "group: six events queued behind the hold");
	pthread_create(&ft, NULL, failing_thread, gc);
	ok(tu_queued(&h, 7), "group: and a failing job with them");
	tu_release(&h);
	for (i = 0; i < 6; i++)
		pthread_join(p[i].th, NULL);
	pthread_join(ft, NULL);
	pt_committer_stats(gc, &cst);
	ok(cst.nested >= 1, "group: the batch ran again nested (%llu)",
	    cst.nested);

	for (i = 0; i < 6; i++) {
		ok(p[i].r.status == 200, "group: event %d answered %d", i,
		    p[i].r.status);
		ev = event(s, jstr(p[i].r.body, "id"));
		st = jstr(ev, "status");
		al = pt_json_get(ev, "action_logs");
		if (st != NULL && strcmp(st, "accepted") == 0) {
			accepted++;
			if (i == 0 || i == 5)
				first = jstr(p[i].r.body, "id");
			ok(pt_json_len(al) == 2 && strcmp(jstr(pt_json_index(al,
			    0), "status"), "success") == 0 &&
			    strcmp(jstr(pt_json_index(al, 1), "status"),
			    "success") == 0 && pt_json_get(ev, "error") == NULL,
			    "group: event %d accepted, two actions succeeded, "
			    "no error", i);
		} else if (st != NULL && strcmp(st, "idempotent") == 0) {
			replayed++;
			/* A copy: "ev" is freed below. */
			st = jstr(pt_json_get(ev, "idempotency"),
			    "original_event_id");
			snprintf(orig, sizeof(orig), "%s", st ? st : "");
			ok(pt_json_get(ev, "actions") == NULL &&
			    (i == 0 || i == 5), "group: event %d replayed, "
			    "no actions of its own", i);
		} else
			ok(0, "group: event %d has status %s", i, st ? st :
			    "(none)");
		pt_json_put(ev);
	}
	ok(accepted == 5 && replayed == 1, "group: 5 executed, 1 replayed "
	    "(%d, %d)", accepted, replayed);
	ok(first != NULL && strcmp(orig, first) == 0,
	    "group: the replay names the execution that stands");
	ok(entries(s, PT_T_EVENTS) - events0 == 6 &&
	    entries(s, PT_T_ACTIONS) - actions0 == 10 &&
	    entries(s, PT_T_RUNS) - runs0 == 5 &&
	    entries(s, PT_T_USERS) - users0 == 5,
	    "group: 6 events, 10 action logs, 5 runs, 5 users: once each");
	for (i = 0; i < 6; i++)
		pt_json_put(p[i].r.body);
	pt_committer_stop(gc);
	pt_store_close(s);
}

int
main(void)
{
	struct pt_ctx ctx;
	struct pt_store *s;
	struct reply r, r2;
	pt_json *ev, *al, *run, *u;
	const char *err;
	char *dir = tu_tmpdir(), path[600], stdin_file[600], body[1024];
	char hint[64];
	FILE *f;

	snprintf(stdin_file, sizeof(stdin_file), "%s/stdin.json", dir);
	snprintf(config_text, sizeof(config_text),
	    "{\"workflows\":{"
	    "\"welcome\":{},"
	    "\"notify-ok\":{\"exec\":[\"/bin/sh\",\"-c\",\"cat > %s; echo sent\"],"
	    "\"timeout_ms\":5000},"
	    "\"notify-fail\":{\"exec\":[\"/bin/sh\",\"-c\",\"echo oops >&2; exit 3\"]},"
	    "\"notify-slow\":{\"exec\":[\"/bin/sleep\",\"10\"],\"timeout_ms\":300}},"
	    "\"sources\":[{\"key\":\"app\",\"environments\":{\"prod\":{"
	    "\"endpoint_id\":\"src_app_prod_0001\",\"verify\":false,"
	    "\"idempotency\":{\"enabled\":true,\"key_path\":\"body.id\"},"
	    "\"mappings\":["
	    "{\"event_type\":\"customer.created\",\"action\":\"workflows_trigger\","
	    "\"params\":{\"key\":\"welcome\",\"recipients\":\"data.id\","
	    "\"data\":{\"email\":\"data.email\"}}},"
	    "{\"event_type\":\"customer.created\",\"action\":\"users_identify\","
	    "\"params\":{\"id\":\"data.id\",\"email\":\"data.email\","
	    "\"name\":\"data.name\",\"properties\":{\"plan\":\"data.plan\"}}},"
	    "{\"event_type\":\"task.assigned\",\"action\":\"workflows_trigger\","
	    "\"params\":{\"key\":\"task-assigned\",\"recipients\":"
	    "\"data.assigned_to\",\"actor\":\"data.assigned_by\",\"data\":"
	    "{\"task_id\":\"data.task_id\"},\"cancellation_key\":\"data.task_id\"}},"
	    "{\"event_type\":\"task.cancelled\",\"action\":\"workflows_cancel\","
	    "\"params\":{\"key\":\"task-assigned\",\"cancellation_key\":"
	    "\"data.task_id\"}},"
	    "{\"event_type\":\"broken\",\"action\":\"users_identify\","
	    "\"params\":{\"id\":\"data.missing\"}},"
	    "{\"event_type\":\"broken\",\"action\":\"tenants_set\","
	    "\"params\":{\"id\":\"data.tenant\",\"name\":\"data.tname\"}},"
	    "{\"event_type\":\"handler.ok\",\"action\":\"workflows_trigger\","
	    "\"params\":{\"key\":\"notify-ok\",\"recipients\":\"data.user\"}},"
	    "{\"event_type\":\"handler.fail\",\"action\":\"workflows_trigger\","
	    "\"params\":{\"key\":\"notify-fail\",\"recipients\":\"data.user\"}},"
	    "{\"event_type\":\"handler.slow\",\"action\":\"workflows_trigger\","
	    "\"params\":{\"key\":\"notify-slow\",\"recipients\":\"data.user\"}},"
	    "{\"event_type\":\"inactive.only\",\"action\":\"users_delete\","
	    "\"active\":false,\"params\":{\"id\":\"data.id\"}}"
	    "]}}}]}", stdin_file);

	snprintf(path, sizeof(path), "%s/db", dir);
	s = tu_store(path, 0);
	err = tu_apply(s, config_text);
	ok(err == NULL, "config applies (%s)", err ? err : "");
	pt_ctx_init(&ctx, s);
	ctx.now = clock_fn;
	ctx.log = capture;

	/* Two mappings, one event: priority order, not file order. */
	post(&ctx, "{\"type\":\"customer.created\",\"id\":\"e-1\",\"data\":"
	    "{\"id\":\"cus_1\",\"email\":\"ann@example.com\",\"name\":\"Ann\","
	    "\"plan\":\"pro\"}}", &r);
	is_int(r.status, 200, "customer.created: 200");
	is_str(jstr(r.body, "status"), "accepted", "status accepted");
	ev = event(s, jstr(r.body, "id"));
	al = pt_json_get(ev, "action_logs");
	ok(pt_json_len(al) == 2 &&
	    strcmp(jstr(pt_json_index(al, 0), "action"), "users_identify") == 0 &&
	    strcmp(jstr(pt_json_index(al, 1), "action"), "workflows_trigger") == 0,
	    "identify ran before trigger (priority order)");
	ok(strcmp(jstr(pt_json_index(al, 0), "status"), "success") == 0 &&
	    strcmp(jstr(pt_json_index(al, 1), "status"), "success") == 0,
	    "both succeeded");
	is_int(pt_json_int(pt_json_get(pt_json_index(al, 0), "mapping")), 1,
	    "identify is mapping 1 in the file");
	/* Packed ahead for a user who exists: this one is new. */
	ok(pt_json_bool(pt_json_get(pt_json_get(pt_json_index(al, 0),
	    "result"), "created")), "identify of a new user: created (not "
	    "the outcome guessed ahead)");
	{
		/* Made and packed ahead: every member read back. */
		static const char *const members[] = { "id", "event_id",
		    "source", "environment", "event_type", "inserted_at",
		    "action", "mapping", "params", "updated_at", "status",
		    "payload", "result" };
		pt_json *a = pt_json_index(al, 1);
		size_t k, have = 0;

		ok(strncmp(pt_json_text(a, PT_JSON_PLAIN, &k),
		    "{\"updated_at\":", 14) == 0, "an action log starts with "
		    "its outcome");
		for (k = 0; k < nitems(members); k++)
			have += pt_json_get(a, members[k]) != NULL;
		is_int(have, nitems(members), "  ... with every member "
		    "(\"error\" is null)");
		ok(strstr(pt_json_text(a, PT_JSON_PLAIN, &k), "\"error\":null")
		    != NULL, "  ... \"error\": null");
		is_str(jstr(pt_json_get(a, "payload"), "key"), "welcome",
		    "  ... its payload");
		is_str(jstr(a, "event_id"), jstr(r.body, "id"), "  ... and its "
		    "event's id");
	}
	u = user(s, "cus_1");
	ok(u && strcmp(jstr(u, "email"), "ann@example.com") == 0 &&
	    strcmp(jstr(pt_json_get(u, "properties"), "plan"), "pro") == 0,
	    "user identified with email and properties");
	pt_json_put(u);
	run = run_of(s, pt_json_index(al, 1));
	ok(run && strcmp(jstr(run, "status"), "queued") == 0 &&
	    strcmp(jstr(pt_json_get(run, "data"), "email"), "ann@example.com") ==
	    0 && strcmp(jstr(pt_json_index(pt_json_get(run, "recipients"), 0),
	    "id"), "cus_1") == 0, "workflow run recorded (queued, no handler)");
	ok(run && strcmp(jstr(run, "created_at"), jstr(pt_json_index(al, 1),
	    "inserted_at")) == 0 && strcmp(jstr(run, "action_id"),
	    jstr(pt_json_index(al, 1), "id")) == 0, "  ... at its action log's "
	    "time, with its action's id");
	pt_json_put(run);
	pt_json_put(ev);

	/* The same key again: idempotent, no actions, the original id. */
	post(&ctx, "{\"type\":\"customer.created\",\"id\":\"e-1\",\"data\":"
	    "{\"id\":\"cus_1\",\"email\":\"other@example.com\"}}", &r2);
	ok(r2.status == 200 && strcmp(jstr(r2.body, "status"), "idempotent") ==
	    0 && pt_json_bool(pt_json_get(r2.body, "idempotent")) &&
	    strcmp(jstr(r2.body, "original_event_id"), jstr(r.body, "id")) == 0,
	    "duplicate: 200 idempotent with the original event id");
	ev = event(s, jstr(r2.body, "id"));
	ok(ev && strcmp(jstr(ev, "status"), "idempotent") == 0 &&
	    pt_json_len(pt_json_get(ev, "action_logs")) == 0 &&
	    strcmp(jstr(pt_json_get(ev, "idempotency"), "original_event_id"),
	    jstr(r.body, "id")) == 0, "logged idempotent, no actions, linked");
	u = user(s, "cus_1");
	is_str(jstr(u, "email"), "ann@example.com", "the duplicate changed "
	    "nothing");
	pt_json_put(u);
	pt_json_put(ev);
	pt_json_put(r2.body);
	pt_json_put(r.body);

	/* Same key, other event type: runs. */
	post(&ctx, "{\"type\":\"task.assigned\",\"id\":\"e-1\",\"data\":"
	    "{\"task_id\":\"task_123\",\"assigned_to\":\"user_456\","
	    "\"assigned_by\":\"user_789\"}}", &r);
	ok(r.status == 200 && strcmp(jstr(r.body, "status"), "accepted") == 0,
	    "same key, other event type: executes");
	ev = event(s, jstr(r.body, "id"));
	run = run_of(s, pt_json_index(pt_json_get(ev, "action_logs"), 0));
	ok(run && strcmp(jstr(run, "cancellation_key"), "task_123") == 0 &&
	    strcmp(jstr(pt_json_get(run, "actor"), "id"), "user_789") == 0,
	    "task-assigned run with actor and cancellation key");
	pt_json_put(ev);
	pt_json_put(r.body);

	/* Cancel it. */
	post(&ctx, "{\"type\":\"task.cancelled\",\"id\":\"e-9\",\"data\":"
	    "{\"task_id\":\"task_123\"}}", &r);
	ev = event(s, jstr(r.body, "id"));
	al = pt_json_index(pt_json_get(ev, "action_logs"), 0);
	is_int(pt_json_int(pt_json_get(pt_json_get(al, "result"), "cancelled")),
	    1, "cancel found one run");
	{
		pt_json *again = NULL;
		struct pt_txn *t;
		uint8_t id[PT_ID_BIN];

		pt_id_parse("run", jstr(run, "id"), id);
		pt_txn_begin(s, NULL, PT_TXN_READ, &t);
		pt_run_get(t, id, &again);
		pt_txn_abort(t);
		is_str(jstr(again, "status"), "cancelled", "the run is cancelled");
		pt_json_put(again);
	}
	pt_json_put(run);
	pt_json_put(ev);
	pt_json_put(r.body);

	/* A skipped action does not stop the others; still 200. */
	post(&ctx, "{\"type\":\"broken\",\"data\":{\"tenant\":\"t1\","
	    "\"tname\":\"Tenant One\"}}", &r);
	is_int(r.status, 200, "missing required field: still 200");
	ev = event(s, jstr(r.body, "id"));
	al = pt_json_get(ev, "action_logs");
	ok(pt_json_len(al) == 2 &&
	    strcmp(jstr(pt_json_index(al, 0), "status"), "skipped") == 0 &&
	    strcmp(jstr(pt_json_get(pt_json_index(al, 0), "error"), "field"),
	    "id") == 0, "identify skipped, naming the field");
	ok(strstr(jstr(pt_json_get(pt_json_index(al, 0), "error"), "message"),
	    "data.missing is missing") != NULL, "  ... and why");
	is_str(jstr(pt_json_index(al, 1), "status"), "success",
	    "the tenant mapping still ran");
	pt_json_put(ev);
	pt_json_put(r.body);

	/* No mapping; inactive mapping only. */
	post(&ctx, "{\"type\":\"nobody.cares\"}", &r);
	is_str(jstr(r.body, "status"), "no_mapping", "no mapping: no_mapping");
	pt_json_put(r.body);
	post(&ctx, "{\"type\":\"inactive.only\",\"data\":{\"id\":\"x\"}}", &r);
	is_str(jstr(r.body, "status"), "no_mapping", "inactive mapping: "
	    "no_mapping");
	pt_json_put(r.body);

	/* A handler that succeeds, with the run on stdin. */
	post(&ctx, "{\"type\":\"handler.ok\",\"id\":\"h-1\",\"data\":{\"user\":"
	    "\"u1\"}}", &r);
	is_int(r.status, 200, "handler exit 0: 200");
	ev = event(s, jstr(r.body, "id"));
	is_str(jstr(ev, "status"), "accepted", "event accepted after the handler");
	al = pt_json_index(pt_json_get(ev, "action_logs"), 0);
	is_str(jstr(al, "status"), "success", "action success");
	is_str(jstr(pt_json_get(pt_json_get(al, "result"), "handler"), "stdout"),
	    "sent\n", "handler stdout captured");
	run = run_of(s, al);
	is_str(jstr(run, "status"), "completed", "run completed");
	if ((f = fopen(stdin_file, "r")) != NULL) {
		size_t n = fread(body, 1, sizeof(body) - 1, f);

		body[n] = '\0';
		fclose(f);
	} else
		body[0] = '\0';
	ok(strstr(body, jstr(run, "id")) != NULL && strstr(body,
	    "\"workflow\":\"notify-ok\"") != NULL, "the handler got the run as "
	    "JSON on stdin");
	pt_json_put(run);
	pt_json_put(ev);
	pt_json_put(r.body);
	post(&ctx, "{\"type\":\"handler.ok\",\"id\":\"h-1\",\"data\":{\"user\":"
	    "\"u1\"}}", &r);
	is_str(jstr(r.body, "status"), "idempotent", "a successful handler "
	    "execution is recorded for replay");
	pt_json_put(r.body);

	/* A handler that fails: 502, recorded, key released. */
	logged[0] = '\0';
	post(&ctx, "{\"type\":\"handler.fail\",\"id\":\"h-2\",\"data\":{\"user\":"
	    "\"u1\"}}", &r);
	ok(r.status == 502 && strcmp(jstr(r.body, "error"), "handler_failed") ==
	    0 && r.retry_after[0], "handler exit 3: 502 handler_failed with "
	    "Retry-After");
	snprintf(hint, sizeof(hint), "porterctl log %s", newest_id(s));
	ok(strstr(jstr(r.body, "message"), newest_id(s)) != NULL &&
	    strstr(jstr(r.body, "message"), "porterctl") == NULL &&
	    strstr(jstr(r.body, "message"), "exit 3") == NULL, "the sender gets "
	    "the event id and no operator hint: %s", jstr(r.body, "message"));
	ok(strstr(logged, hint) != NULL && strstr(logged, "exit 3") != NULL,
	    "the log line has the operator's hint and the cause: %s", logged);
	ev = event(s, newest_id(s));
	is_str(jstr(ev, "status"), "failed", "the event is logged failed");
	al = pt_json_index(pt_json_get(ev, "action_logs"), 0);
	ok(strcmp(jstr(al, "status"), "failed") == 0 && strstr(jstr(
	    pt_json_get(al, "error"), "message"), "exit 3") != NULL,
	    "action failed: %s", jstr(pt_json_get(al, "error"), "message"));
	is_str(jstr(pt_json_get(pt_json_get(al, "result"), "handler"), "stderr"),
	    "oops\n", "handler stderr captured");
	run = run_of(s, al);
	is_str(jstr(run, "status"), "failed", "run failed");
	pt_json_put(run);
	pt_json_put(ev);
	pt_json_put(r.body);
	post(&ctx, "{\"type\":\"handler.fail\",\"id\":\"h-2\",\"data\":{\"user\":"
	    "\"u1\"}}", &r);
	is_int(r.status, 502, "the retry runs again (the failure released the "
	    "key), and fails again");
	pt_json_put(r.body);

	/* A handler that times out. */
	post(&ctx, "{\"type\":\"handler.slow\",\"id\":\"h-3\",\"data\":{\"user\":"
	    "\"u1\"}}", &r);
	ok(r.status == 502 && strstr(jstr(r.body, "message"), "could not be "
	    "processed") != NULL, "handler past its timeout: 502");
	pt_json_put(r.body);

	/* Invalid key: executes, key dropped, not shown. */
	post(&ctx, "{\"type\":\"customer.created\",\"id\":12345,\"data\":"
	    "{\"id\":\"cus_2\"}}", &r);
	is_str(jstr(r.body, "status"), "accepted", "numeric key: executes");
	ev = event(s, jstr(r.body, "id"));
	ok(pt_json_get(ev, "idempotency") == NULL &&
	    strstr(pt_json_str(pt_json_index(pt_json_get(ev, "warnings"), 0),
	    NULL), "invalid idempotency key at body.id dropped") != NULL &&
	    strstr(pt_json_str(pt_json_index(pt_json_get(ev, "warnings"), 0),
	    NULL), "12345") == NULL, "the log says only that it was dropped");
	pt_json_put(ev);
	pt_json_put(r.body);
	post(&ctx, "{\"type\":\"customer.created\",\"id\":12345,\"data\":"
	    "{\"id\":\"cus_2\"}}", &r);
	is_str(jstr(r.body, "status"), "accepted", "  ... and again: executes "
	    "again");
	pt_json_put(r.body);

	/* A live reservation by another process: 409 with Retry-After. */
	{
		struct pt_idem_scope sc = { "app", "prod", "handler.ok", "busy",
		    4 };
		struct pt_txn *t;
		uint8_t other[PT_ID_BIN];
		char text[PT_ID_MAX];

		pt_id_new("evt", fake_now, other, text);
		pt_txn_begin(s, NULL, PT_TXN_WRITE, &t);
		pt_idem_put(t, &sc, PT_IDEM_PENDING, other, fake_now,
		    fake_now + 20 * 1000000LL, 99);
		pt_txn_commit(t);
		post(&ctx, "{\"type\":\"handler.ok\",\"id\":\"busy\",\"data\":"
		    "{\"user\":\"u1\"}}", &r);
		ok(r.status == 409 && strcmp(jstr(r.body, "error"),
		    "in_progress") == 0 && atoi(r.retry_after) >= 19 &&
		    atoi(r.retry_after) <= 20, "in flight elsewhere: 409, "
		    "Retry-After %s", r.retry_after);
		pt_json_put(r.body);
		/* Past the lease the owner is presumed dead: take over. */
		fake_now += 21 * 1000000LL;
		post(&ctx, "{\"type\":\"handler.ok\",\"id\":\"busy\",\"data\":"
		    "{\"user\":\"u1\"}}", &r);
		is_int(r.status, 200, "after the lease: the retry executes");
		pt_json_put(r.body);
	}

	pt_ctx_free(&ctx);
	pt_store_close(s);

	/*
	 * A nearly full store: an event whose handlers' output might not fit
	 * is refused before they run (else the write recording their outcome
	 * could fail and a retry would run them twice); others still go in.
	 */
	{
		char pad[4001];
		int n = 0;

		memset(pad, 'x', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		remove(stdin_file);
		static char small[4200];

		snprintf(path, sizeof(path), "%s/small", dir);
		s = tu_store(path, 512 * 1024);
		/*
		 * It grows itself: to its ceiling (1 MiB), where no
		 * make_room function is set here, so it fills.
		 */
		snprintf(small, sizeof(small), "{\"settings\": "
		    "{\"max_store_bytes\": 1048576},%s", config_text + 1);
		err = tu_apply(s, small);
		ok(err == NULL, "small store: config applies (%s)",
		    err ? err : "");
		pt_ctx_init(&ctx, s);
		ctx.now = clock_fn;
		ctx.log = quiet;
		while (pt_store_room(s) >= 150 * 1024 && n < 3000) {
			snprintf(body, sizeof(body), "{\"type\":\"filler\","
			    "\"id\":\"f-%d\",\"pad\":\"%.900s\"}", n++, pad);
			post(&ctx, body, &r);
			pt_json_put(r.body);
			if (r.status != 200)
				break;
		}
		ok(pt_store_room(s) < 150 * 1024 && r.status == 200,
		    "store filled to %llu bytes of room with %d events",
		    (unsigned long long)pt_store_room(s), n);
		post(&ctx, "{\"type\":\"handler.ok\",\"id\":\"tight\","
		    "\"data\":{\"user\":\"u1\"}}", &r);
		ok(r.status == 503 && strcmp(jstr(r.body, "error"),
		    "store_full") == 0 && r.retry_after[0] != '\0',
		    "handler event with too little room: 503 store_full, "
		    "Retry-After %s", r.retry_after);
		pt_json_put(r.body);
		ok(access(stdin_file, F_OK) != 0, "  ... its handler did not "
		    "run");
		post(&ctx, "{\"type\":\"filler\",\"id\":\"after\"}", &r);
		is_int(r.status, 200, "  ... an event without handlers still "
		    "goes in");
		pt_json_put(r.body);
		pt_ctx_free(&ctx);
		pt_store_close(s);
	}
	group_commit_rerun(dir);
	tu_rmdir(dir);
	return tap_done();
}
