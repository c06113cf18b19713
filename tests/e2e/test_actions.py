#!/usr/bin/env python3
"""test_actions.py - mappings, actions, workflow handlers, end to end (TAP).

Through a real lighttpd running lighttpd.conf.example: the task-management
example (task.assigned -> the task-assigned workflow, whose handler is the
repo's examples/handlers/append-run), customer.created with two mappings
(priority order visible in the action log), a missing required field
(skipped, the other mapping runs), a handler that fails and one that times
out, porterctl rehearse, porterctl runs --follow, and the action log's
filters on status and workflow through its index (an old failure behind
11,000 newer successes, found in one page).
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "tasks-prod-secret-1"
APPEND_RUN = os.path.join(h.TOP_SRCDIR, "examples", "handlers", "append-run")

TASK_ASSIGNED = {
    "event_type": "task.assigned", "event_id": "evt_8c1f2a",
    "occurred_at": "2026-11-23T10:15:00Z",
    "data": {"task_id": "task_123", "title": "Review the Q4 roadmap",
             "assigned_to": "user_456", "assigned_by": "user_789",
             "project_id": "proj_42"}}


def config(runs_file):
    return {
        "workflows": {
            "task-assigned": {"exec": [APPEND_RUN, runs_file],
                              "timeout_ms": 5000},
            "welcome": {},
            "flaky": {"exec": ["/bin/sh", "-c",
                               "echo 'smtp refused' >&2; exit 3"]},
            "slow": {"exec": ["/bin/sleep", "30"], "timeout_ms": 500},
        },
        "sources": [{"key": "tasks", "name": "Task app", "type": "custom",
                     "environments": {"production": {
                         "verify": True,
                         "signing_keys": [{"secret": SECRET}],
                         "event_type_path": "body.event_type",
                         "timestamp_path": "body.occurred_at",
                         "mappings": [
                             {"event_type": "task.assigned",
                              "action": "workflows_trigger",
                              "params": {"key": "task-assigned",
                                         "recipients": "data.assigned_to",
                                         "actor": "data.assigned_by",
                                         "data": {"task_id": "data.task_id",
                                                  "title": "data.title"}}},
                             # File order: trigger first, identify second.
                             {"event_type": "customer.created",
                              "action": "workflows_trigger",
                              "params": {"key": "welcome",
                                         "recipients": "data.id",
                                         "data": {"plan": "data.plan"}}},
                             {"event_type": "customer.created",
                              "action": "users_identify",
                              "params": {"id": "data.id",
                                         "email": "data.email",
                                         "name": "data.name",
                                         "properties": {"plan": "data.plan"}}},
                             {"event_type": "project.created",
                              "action": "objects_set",
                              "params": {"collection": {"value": "projects"},
                                         "id": "data.project_id",
                                         "name": "data.name"}},
                             {"event_type": "project.created",
                              "action": "objects_subscribe",
                              "params": {"collection": {"value": "projects"},
                                         "id": "data.project_id",
                                         "recipients": "data.members"}},
                             {"event_type": "invoice.failed",
                              "action": "workflows_trigger",
                              "params": {"key": "flaky",
                                         "recipients": "data.user"}},
                             {"event_type": "report.ready",
                              "action": "workflows_trigger",
                              "params": {"key": "slow",
                                         "recipients": "data.user"}},
                         ]}}},
                    # Many actions cheaply: batches of unsigned calls.
                    {"key": "bulk", "type": "custom", "environments": {
                        "production": {
                            "verify": False, "batch_path": "body.batch",
                            "mappings": [
                                {"event_type": "bulk.done",
                                 "action": "objects_set",
                                 "params": {"collection": {"value": "bulk"},
                                            "id": "data.id"}}]}}}]}


def send(srv, ep, doc):
    body = json.dumps(doc).encode()
    return srv.post(srv.url("/receive/" + ep), body,
                    {"X-Knock-Signature": h.sign(SECRET, body)})


def action_logs(srv, evt_id):
    rec = srv.log(evt_id)
    return rec.get("action_logs", []) if rec else []


def t_many(t, srv, failed_evt):
    """An old failure behind more newer successes than the API reads a
    call (10,000): the status filter walks the action index and finds it
    in one page; a filter without an index stops at the 10,000."""
    failed = [a.get("id") for a in action_logs(srv, failed_evt)]
    ep = srv.sources()[("bulk", "production")]
    codes = []
    for b in range(11):
        body = {"batch": [{"type": "bulk.done", "data": {"id": "b%d" % i}}
                          for i in range(b * 1000, (b + 1) * 1000)]}
        codes.append(srv.post(srv.url("/receive/" + ep),
                              json.dumps(body).encode()).status)
    t.eq(codes, [200] * 11, "11,000 successful actions in 11 batches")
    rc, tok, err = srv.porterctl("token", "create", "acts-ro", "--read-only")
    auth = {"Authorization": "Bearer " + tok.strip()}
    r = srv.get(srv.url("/admin/api/actions?status=failed&limit=50"), auth)
    j = r.json or {}
    got = [x.get("id") for x in j.get("data") or []]
    pi = j.get("page_info") or {}
    t.ok(r.status == 200 and failed and failed[0] in got and
         pi.get("has_more") is False and pi.get("scanned") == len(got),
         "GET /admin/api/actions?status=failed: the old failure in one "
         "page, reading only the failures", repr(r))
    r = srv.get(srv.url("/admin/api/actions?workflow=flaky&action="
                        "workflows_trigger"), auth)
    t.ok(failed and failed[0] in [x.get("id") for x in
                                  (r.json or {}).get("data") or []],
         "  ... workflow=flaky finds it too", repr(r))
    r = srv.get(srv.url("/admin/api/actions?event_type=invoice.failed"),
                auth)
    j = r.json or {}
    t.ok(r.status == 200 and not j.get("data") and
         (j.get("page_info") or {}).get("scanned") == 10000 and
         (j.get("page_info") or {}).get("has_more") is True,
         "  ... where event_type alone (no index) stops at 10,000 read",
         (j.get("page_info") or {}))
    rc, out, err = srv.porterctl("actions", "--status", "failed", "--json")
    t.ok(failed and failed[0] in [x.get("id") for x in h.json_lines(out)],
         "porterctl actions --status failed finds it", out, err)
    # On PostgreSQL check reads 11,000 events in some 30 s here (round
    # trips for each): more than a command's usual time.
    rc, out, err = srv.porterctl("check", timeout=4 * h.CMD_TIMEOUT)
    t.ok(rc == 0 and "0 problems" in out,
         "porterctl check: every action has its index entries", out, err)


def main():
    t = h.Tap()
    h.require_binaries()
    with h.Server(mount="/", max_procs=2) as srv:
        runs_file = srv.path("task-assigned.ndjson")
        rc, out, err = srv.apply(config(runs_file))
        t.eq(rc, 0, "config with mappings and workflows applies", err)
        ep = srv.sources()[("tasks", "production")]

        # porterctl runs --follow prints runs as they land.
        follow = subprocess.Popen(
            [h.PORTERCTL, "--db", srv.db, "runs", "--follow"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        time.sleep(0.5)

        # The seed's example: task.assigned -> task-assigned workflow.
        r = send(srv, ep, TASK_ASSIGNED)
        t.eq(r.status, 200, "task.assigned: 200", r)
        t.eq((r.json or {}).get("status"), "accepted", "  ... accepted")
        logs = action_logs(srv, (r.json or {}).get("id"))
        t.eq([a.get("action") for a in logs], ["workflows_trigger"],
             "  ... one action log: workflows_trigger")
        a = logs[0] if logs else {}
        t.eq(a.get("status"), "success", "  ... success (handler exit 0)")
        payload = a.get("payload") or {}
        t.eq(payload.get("recipients"),
             [{"collection": "$users", "id": "user_456"}],
             "  ... recipients resolved from data.assigned_to")
        t.eq((payload.get("actor") or {}).get("id"), "user_789",
             "  ... actor from data.assigned_by")
        t.eq(payload.get("data"), {"task_id": "task_123",
                                   "title": "Review the Q4 roadmap"},
             "  ... data built field by field")
        run_id = ((a.get("result") or {}).get("id")) or ""
        t.ok(run_id.startswith("run_"), "  ... result names the run",
             a.get("result"))
        try:
            with open(runs_file) as f:
                lines = [json.loads(x) for x in f if x.strip()]
        except OSError:
            lines = []
        t.ok(len(lines) == 1 and lines[0].get("id") == run_id,
             "  ... append-run got the run on stdin and wrote it", lines)
        # Its status entry moved from pending to success (actidx.h).
        rc, out, err = srv.porterctl("actions", "--status", "success",
                                     "--workflow", "task-assigned", "--json")
        t.ok(a.get("id") in [x.get("id") for x in h.json_lines(out)],
             "  ... actions --status success --workflow finds it", out, err)
        rc, out, err = srv.porterctl("actions", "--status", "pending",
                                     "--json")
        t.ok(rc == 0 and a.get("id") not in
             [x.get("id") for x in h.json_lines(out)],
             "  ... and --status pending no longer does", out, err)
        rc, out, err = srv.porterctl("runs", "--json")
        runs = h.json_lines(out) if rc == 0 else []
        mine = [x for x in runs if x.get("id") == run_id]
        t.ok(mine and mine[0].get("status") == "completed",
             "  ... porterctl runs shows it completed", out, err)

        # Two mappings, one event, priority order (not file order).
        r = send(srv, ep, {"event_type": "customer.created",
                           "data": {"id": "cus_1", "email": "ann@x.io",
                                    "name": "Ann", "plan": "pro"}})
        t.eq(r.status, 200, "customer.created: 200", r)
        logs = action_logs(srv, (r.json or {}).get("id"))
        t.eq([a.get("action") for a in logs],
             ["users_identify", "workflows_trigger"],
             "  ... identify ran before trigger")
        t.eq([a.get("status") for a in logs], ["success", "success"],
             "  ... both succeeded")
        rc, out, err = srv.porterctl("users", "cus_1", "--json")
        user = json.loads(out) if rc == 0 and out.strip() else {}
        t.ok(user.get("email") == "ann@x.io" and
             (user.get("properties") or {}).get("plan") == "pro",
             "  ... porterctl users shows the identified user", out, err)

        # A missing required field skips that action; the other runs.
        r = send(srv, ep, {"event_type": "customer.created",
                           "data": {"email": "nobody@x.io"}})
        t.eq(r.status, 200, "missing id: still 200", r)
        logs = action_logs(srv, (r.json or {}).get("id"))
        t.eq([a.get("status") for a in logs], ["skipped", "skipped"],
             "  ... both actions skipped (both need data.id)")
        err0 = (logs[0].get("error") or {}) if logs else {}
        t.eq(err0.get("field"), "id", "  ... the action log names the field")
        t.ok("data.id is missing" in (err0.get("message") or ""),
             "  ... and why", err0)
        r = send(srv, ep, {"event_type": "project.created",
                           "data": {"project_id": "p1", "name": "Roadmap"}})
        logs = action_logs(srv, (r.json or {}).get("id"))
        t.eq([(a.get("action"), a.get("status")) for a in logs],
             [("objects_set", "success"), ("objects_subscribe", "skipped")],
             "missing recipients: subscribe skipped, objects_set ran")
        rc, out, err = srv.porterctl("objects", "projects", "p1", "--json")
        t.ok(rc == 0 and '"Roadmap"' in out, "  ... the object exists", out,
             err)

        # A handler that fails, and one that times out.
        r = send(srv, ep, {"event_type": "invoice.failed",
                           "data": {"user": "u1"}})
        t.eq(r.status, 502, "failing handler: 502", r)
        t.eq(r.error_code(), "handler_failed", "  ... handler_failed")
        t.ok("retry-after" in r.headers, "  ... with Retry-After")
        rec = srv.logs("--type", "invoice.failed", "--source", "tasks",
                       "--env", "production", "--limit", "1")
        logs = action_logs(srv, rec[0]["id"]) if rec else []
        a = logs[0] if logs else {}
        t.eq(a.get("status"), "failed", "  ... action failed")
        t.ok("exit 3" in ((a.get("error") or {}).get("message") or ""),
             "  ... with the exit status", a.get("error"))
        t.eq((((a.get("result") or {}).get("handler")) or {}).get("stderr"),
             "smtp refused\n", "  ... and its stderr")
        t.eq(rec[0].get("status") if rec else None, "failed",
             "  ... the event is logged failed")
        evt = rec[0]["id"] if rec else "?"
        msg = (r.json or {}).get("message") or ""
        t.ok(evt in msg and "porterctl" not in msg and "exit 3" not in msg,
             "  ... the sender gets the event id, no operator hint", msg)
        logged = srv.log_text()
        t.ok("porterctl log %s" % evt in logged and "exit 3" in logged,
             "  ... the error log has the cause and the hint", srv.tail())

        started = time.time()
        r = send(srv, ep, {"event_type": "report.ready",
                           "data": {"user": "u1"}})
        took = time.time() - started
        t.eq(r.status, 502, "handler past its timeout: 502", r)
        t.ok(took < h.scaled(10),
             "  ... killed at its 500 ms timeout (%.1f s)" % took)
        rec = srv.logs("--type", "report.ready", "--source", "tasks",
                       "--env", "production", "--limit", "1")
        logs = action_logs(srv, rec[0]["id"]) if rec else []
        a = logs[0] if logs else {}
        t.ok("timed out" in ((a.get("error") or {}).get("message") or ""),
             "  ... the action log says it timed out", a.get("error"))

        # rehearse: no side effects, payload or field errors per mapping.
        body = srv.path("rehearse.json")
        with open(body, "w") as f:
            json.dump({"event_type": "customer.created",
                       "data": {"email": "x@y.z"}}, f)
        before = len(srv.logs("--limit", "1000"))
        rc, out, err = srv.porterctl("rehearse", "--source", "tasks",
                                     "--env", "production", "--body", body,
                                     "--json")
        rh = json.loads(out) if rc == 0 and out.strip() else {}
        maps = rh.get("mappings") or []
        t.eq([(m.get("action"), m.get("status")) for m in maps],
             [("users_identify", "skipped"), ("workflows_trigger", "skipped")],
             "rehearse: per-mapping outcome", out, err)
        t.eq(((maps[0].get("error") or {}).get("field")) if maps else None,
             "id", "  ... with the field error")
        t.eq(len(srv.logs("--limit", "1000")), before,
             "  ... and nothing logged")

        t_many(t, srv, evt)

        # runs --follow saw the runs as NDJSON.
        lines = h.read_ndjson(follow, 2, h.scaled(5))
        os.killpg(follow.pid, signal.SIGTERM)
        follow.wait(timeout=h.scaled(5))
        t.ok(len(lines) >= 2 and lines[0].get("id") == run_id,
             "runs --follow printed the runs as they landed", lines)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 300)       # seconds (plain build; scaled)
    sys.exit(main())
