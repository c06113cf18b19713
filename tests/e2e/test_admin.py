#!/usr/bin/env python3
"""test_admin.py - the admin API, console files and /metrics through a real
lighttpd (TAP), mounted at "/" and at "/porter".

For each mount: tokens made with porterctl (shown once, stored as hashes);
a table of routes x tokens (none, wrong, revoked, read-only, full) ->
statuses, so the Authorization header is known to reach the responder
through FastCGI; admin and ingest paths kept apart; sources with endpoint
URLs under the mount and masked secrets; logs by type with cursors; one
event with its action logs and raw body; status; event types; rehearse;
replay over HTTP and with `porterctl replay`; a config change applied over
HTTP taking effect at the next request; /metrics with a token, and open to
loopback clients when PORTER_METRICS_AUTH=loopback; porterctl prune; filters
that cannot match refused (HTTP 400, porterctl exit 2) and porterctl's
stderr free of responder lines; a missing console answered without paths.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "admin-e2e-signing-key"
DEV = "src_dev_admin_e2e_0001"
PROD = "src_prod_admin_e2e_001"
CONSOLE_DIR = os.path.join(h.TOP_SRCDIR, "console")


def config(dev_mappings=None):
    return {"sources": [{"key": "tasks", "name": "Task app", "type": "custom",
                         "environments": {
        "development": {
            "endpoint_id": DEV, "verify": False,
            "event_type_path": "body.event_type",
            "idempotency": {"enabled": True, "key_path": "body.event_id"},
            "mappings": dev_mappings if dev_mappings is not None else [
                {"event_type": "task.assigned", "action": "users_identify",
                 "params": {"id": "data.assigned_to"}}]},
        "production": {
            "endpoint_id": PROD, "verify": True,
            "signing_keys": [{"secret": SECRET}],
            "event_type_path": "body.event_type"}}}]}


def auth(tok):
    return {"Authorization": "Bearer " + tok} if tok else {}


def api(srv, method, path, tok, body=None, query=""):
    url = srv.url("/admin/api/" + path) + ("?" + query if query else "")
    hdrs = auth(tok)
    data = None
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) \
            else body
        hdrs["Content-Type"] = "application/json"
    return srv.request(method, url, data, hdrs)


def ingest(srv, endpoint, body, secret=None):
    raw = json.dumps(body).encode()
    hdrs = {"X-Knock-Signature": h.sign(secret, raw)} if secret else {}
    return srv.post(srv.url("/receive/" + endpoint), raw, hdrs)


def metric(text, series):
    """The value of "series" (name{labels}) in a scrape, 0 when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    return 0


def refusals(text, status):
    """Refusals of "status" in a scrape, in whatever series counts them
    (porter_*refused_total{status=...}), summed."""
    return sum(float(m.group(1)) for m in re.finditer(
        r'^porter_[a-z_]*refused_total\{status="%d"[^}]*\} ([0-9.]+)$' %
        status, text, re.M))


def metrics_counts(t, srv, label, ro):
    """Each request counts once, refusals from every responder process
    end up in one series, and the build and last event are there."""
    refused = 'porter_requests_refused_total{status="404"}'
    rejected = ('porter_events_total{source="tasks",environment='
                '"production",status="rejected"}')
    before = srv.get(srv.url("/metrics"), auth(ro)).raw.decode()
    for i in range(6):
        srv.post(srv.url("/receive/src_nobody_e2e_0001"), b"{}")
    r = ingest(srv, PROD, {"event_type": "invoice.paid", "id": "x"})
    t.eq(r.status, 401, "%s: an unsigned request to production: 401" %
         label)
    # The processes add their refusals to the store about once a second.
    deadline = time.time() + 10
    while True:
        time.sleep(0.3)
        srv.get(srv.url("/healthz"))
        text = srv.get(srv.url("/metrics"), auth(ro)).raw.decode()
        if metric(text, refused) >= metric(before, refused) + 6 or \
                time.time() > deadline:
            break
    t.eq(metric(text, refused) - metric(before, refused), 6,
         "%s: six 404s, six refusals, summed over the processes" % label)
    t.eq((refusals(text, 401) - refusals(before, 401),
          metric(text, rejected) - metric(before, rejected)), (0, 1),
         "%s: the logged 401 is an event, not also a refusal" % label)
    t.ok("pid=" not in text and "porter_process_" not in text,
         "%s: no series per process" % label)
    backend = "postgresql" if srv.db.startswith("postgresql:") else "lmdb"
    t.ok(re.search(r'^porter_build_info\{version="[^"]+",backend="%s"\} 1$'
                   % backend, text, re.M),
         "%s: porter_build_info with version and backend" % label)
    m = re.search(r'^porter_last_event_timestamp_seconds\{source="tasks",'
                  r'environment="production"\} ([0-9.]+)$', text, re.M)
    t.ok(m and abs(float(m.group(1)) - time.time()) < 120,
         "%s: porter_last_event_timestamp_seconds of production is now" %
         label, m and m.group(0))


def scenario(t, srv, label):
    rc, out, err = srv.apply(config())
    if rc != 0:
        h.bail_out("apply: " + err)
    rc, full, err = srv.porterctl("token", "create", "ops")
    full = full.strip()
    t.ok(rc == 0 and full.startswith("ptk_") and len(full) == 36,
         "%s: token create prints a ptk_ token once" % label, err)
    ro = srv.porterctl("token", "create", "viewer", "--read-only")[1].strip()
    gone = srv.porterctl("token", "create", "gone")[1].strip()
    t.eq(srv.porterctl("token", "revoke", "gone")[0], 0,
         "%s: token revoke" % label)
    rc, out, err = srv.porterctl("token", "list", "--json")
    names = [(x["name"], x["read_only"]) for x in json.loads(out)]
    t.eq(names, [("ops", False), ("viewer", True)],
         "%s: token list shows names and rights" % label)
    t.ok(full not in out and ro not in out,
         "%s: token list never shows a token" % label)
    rc, out, err = srv.porterctl("token", "create", "ops")
    t.ok(rc != 0 and "exists" in err, "%s: a name is taken once" % label)

    # Events: two types, one signed production event, one markup body.
    ids = []
    for i in range(5):
        r = ingest(srv, DEV, {"event_type": "task.created",
                              "event_id": "c%d" % i, "data": {}})
        ids.append(r.json["id"])
    r = ingest(srv, DEV, {"event_type": "task.assigned", "event_id": "a1",
                          "data": {"assigned_to": "user_456",
                                   "title": "<script>x</script>"}})
    assigned = r.json["id"]
    r = ingest(srv, PROD, {"event_type": "invoice.paid", "id": "p1"},
               SECRET)
    t.eq(r.status, 200, "%s: a signed production event" % label)

    # Routes x tokens.
    cases = [
        ("GET", "whoami", None, 200, 200),
        ("GET", "sources", None, 200, 200),
        ("GET", "sources/tasks/status", None, 200, 200),
        ("GET", "sources/tasks/events", None, 200, 200),
        ("GET", "event_types", None, 200, 200),
        ("GET", "status", None, 200, 200),
        ("GET", "logs", None, 200, 200),
        ("GET", "logs/" + assigned, None, 200, 200),
        ("POST", "sources/tasks/rehearse",
         {"environment": "development",
          "payload": {"body": {"event_type": "task.assigned",
                               "data": {"assigned_to": "u1"}}}}, 200, 200),
        ("GET", "config", None, 200, 200),
        ("POST", "logs/%s/replay" % ids[0], b"", 403, 200),
        ("DELETE", "logs", None, 405, 405),
        ("GET", "nope", None, 404, 404),
    ]
    replayed = None
    for method, path, body, want_ro, want_full in cases:
        got = []
        for tok in (None, "ptk_" + "0" * 32, gone, ro, full):
            r = api(srv, method, path, tok, body)
            got.append(r.status)
            if path.endswith("/replay") and r.status == 200:
                replayed = r.json["id"]
        t.eq(got, [401, 401, 401, want_ro, want_full],
             "%s: %s %s: none, wrong, revoked, read-only, full" %
             (label, method, path))
    r = api(srv, "GET", "logs", None)
    t.eq((r.json, r.headers.get("www-authenticate")),
         ({"error": "unauthorized",
           "message": "a valid admin token is required"},
          'Bearer realm="porter"'), "%s: a 401 gives no detail" % label)

    # Admin and ingest paths stay apart.
    r = srv.post(srv.url("/receive/admin"), {"event_type": "x"})
    t.eq((r.status, r.error_code()), (404, "unknown_endpoint"),
         "%s: /receive/admin is no admin route" % label)
    r = srv.post(srv.url("/admin/api/receive/" + DEV), {"event_type": "x"},
                 auth(full))
    t.eq(r.status, 404, "%s: an endpoint path under /admin/api is not "
         "ingest" % label)
    r = srv.get(srv.url("/receive/%s/admin/api/whoami" % DEV), auth(full))
    t.eq(r.status, 404, "%s: an admin path under /receive is not admin" %
         label)

    # Sources: endpoint URLs under the mount, secrets masked.
    r = api(srv, "GET", "sources", ro)
    envs = r.json["data"][0]["environments"]
    t.eq(envs["development"]["endpoint_path"], srv.url("/receive/" + DEV),
         "%s: endpoint path under the mount" % label)
    t.ok(SECRET not in r.raw.decode() and envs["production"]["signing_keys"]
         [0]["secret"]["redacted"].startswith("hmac:"),
         "%s: signing secrets are masked" % label)

    # Logs by type, paged.
    r = api(srv, "GET", "logs", ro, query="event_type=task.created&limit=2")
    pi = r.json["page_info"]
    seen = [e["id"] for e in r.json["data"]]
    while pi["has_more"]:
        r = api(srv, "GET", "logs", ro, query="event_type=task.created&"
                "limit=2&before=" + pi["before"])
        seen += [e["id"] for e in r.json["data"]]
        pi = r.json["page_info"]
    t.eq(seen, [replayed] + list(reversed(ids)),
         "%s: paging by 2 with before (the replay first)" % label)
    r = api(srv, "GET", "logs", ro, query="after=" + ids[2] +
            "&event_type=task.created")
    t.eq([e["id"] for e in r.json["data"]], [replayed, ids[4], ids[3]],
         "%s: after gives the newer entries" % label)
    r = api(srv, "GET", "logs", ro, query="idempotency_key=c3")
    t.eq([e["id"] for e in r.json["data"]], [ids[3]],
         "%s: by idempotency key" % label)
    r = api(srv, "GET", "logs", ro,
            query="source=tasks&environment=production&"
                  "verification=enforced:verified")
    t.eq([e["event_type"] for e in r.json["data"]], ["invoice.paid"],
         "%s: by environment and verification status" % label)

    # Filters that cannot match are refused, naming what can.
    for query, want in (("status=bogus", "(want accepted, no_mapping, "),
                        ("verification=enforced", "not_enforced:unsigned"),
                        ("source=nope", "(want tasks)"),
                        ("source=tasks&environment=staging",
                         "(want development, production)")):
        r = api(srv, "GET", "logs", ro, query=query)
        t.ok(r.status == 400 and r.json["error"] == "invalid_parameter" and
             want in r.json["message"], "%s: logs?%s is 400" % (label, query),
             repr(r))
    r = api(srv, "GET", "sources/nope/logs", ro)
    t.eq(r.status, 404, "%s: sources/nope/logs is 404" % label)
    for args, want in ((("--status", "skipped"),
                        'porterctl: logs: unknown status "skipped" (want '
                        'accepted, no_mapping, '),
                       (("--source", "nope"),
                        'porterctl: logs: unknown source "nope" (want '
                        'tasks)'),
                       (("--source", "tasks", "--env", "staging"),
                        "unknown environment of the source"),
                       (("--verification", "bogus"),
                        "unknown verification status")):
        rc, out, err = srv.porterctl("logs", *args)
        t.ok(rc == 2 and out == "" and err.startswith("porterctl: ") and
             err.count("\n") == 1 and want in err,
             "%s: porterctl logs %s exits 2" %
             (label, " ".join(args)), repr((rc, out, err)))
    rc, out, err = srv.porterctl("logs", "--status", "conflict")
    t.eq((rc, out.strip()), (0, "no events"),
         "%s: porterctl logs --status conflict: none, but valid" % label)

    # One event, with its action logs and raw body.
    r = api(srv, "GET", "logs/" + assigned, ro)
    ev = r.json
    t.eq((ev["event_type"], ev["body"]["data"]["assigned_to"],
          json.loads(ev["raw_body"])["event_id"]),
         ("task.assigned", "user_456", "a1"),
         "%s: the event with its body and raw body" % label)
    t.eq([(a["action"], a["status"], a["payload"]) for a in
          ev["action_logs"]],
         [("users_identify", "success", {"id": "user_456"})],
         "%s: ... and its action logs with resolved values" % label)
    t.eq(ev["verification"]["status"], "not_enforced:unsigned",
         "%s: ... and its verification status" % label)

    # Status and types.
    r = api(srv, "GET", "sources/tasks/status", ro)
    t.eq((r.json["events_count"], r.json["mappings_count"]), (8, 1),
         "%s: status: events in 30 days, mappings" % label)
    t.ok(r.json["last_event_received"], "%s: status: last event" % label)
    r = api(srv, "GET", "sources/tasks/events", ro,
            query="environment=development")
    t.eq(sorted((x["event"], x["count"]) for x in r.json["data"]),
         [("task.assigned", 1), ("task.created", 6)],
         "%s: received event types (the replay counts)" % label)

    # Rehearse.
    r = api(srv, "POST", "sources/tasks/rehearse", ro, {
        "environment": "development",
        "payload": {"body": {"event_type": "task.assigned", "data": {}}}})
    t.eq((r.json["status"], r.json["errors"][0]["field"]), ("ok", "id"),
         "%s: rehearse reports a missing field" % label)

    # Replay, over HTTP and from the command line.
    r = api(srv, "POST", "logs/%s/replay" % assigned, full, b"")
    t.eq((r.status, r.json["replay_of"]), (200, assigned),
         "%s: replay over HTTP" % label)
    r2 = api(srv, "GET", "logs/" + r.json["id"], ro)
    t.eq((r2.json["replay_of"], r2.json["action_logs"][0]["status"]),
         (assigned, "success"), "%s: the replay is a new linked entry" %
         label)
    rc, out, err = srv.porterctl("replay", assigned, "--json")
    if srv.db.startswith("postgresql:") and os.geteuid() == 0:
        # A database has no owner to run handlers as: root is refused.
        t.ok(rc == 1 and "not as root" in err, "%s: porterctl replay "
             "refuses root on a database store" % label, rc, err)
    else:
        t.eq((rc, json.loads(out)["replay_of"]), (0, assigned),
             "%s: porterctl replay" % label)
    rc, out, err = srv.porterctl("replay", "evt_000SGEH1F0KHPSA1ZE6V3EDRED")
    if not (srv.db.startswith("postgresql:") and os.geteuid() == 0):
        t.ok(rc == 1 and "not_found" in err,
             "%s: porterctl replay of an unknown event fails" % label)
        t.ok(err.count("\n") == 1 and err.startswith("porterctl: replay ")
             and "porter[" not in err, "%s: ... with porterctl's own message "
             "only, no responder lines" % label, repr(err))

    # A config change over HTTP takes effect at the next request.
    doc = api(srv, "GET", "config", full).json
    doc["sources"][0]["environments"]["development"]["mappings"].append(
        {"event_type": "task.created", "action": "users_identify",
         "params": {"id": "event_id"}})
    r = api(srv, "PUT", "config", full, doc, query="dry_run=1")
    t.eq((r.status, r.json["applied"], r.json["changes"]), (200, False, 1),
         "%s: config dry run" % label)
    r = api(srv, "PUT", "config", full, doc)
    t.eq((r.status, r.json["applied"]), (200, True),
         "%s: config applied over HTTP" % label)
    r = ingest(srv, DEV, {"event_type": "task.created", "event_id": "new"})
    if srv.db.startswith("postgresql:"):
        # Another responder process learns of the apply by NOTIFY, a few
        # milliseconds later (README "More than one machine"): within a
        # second, not necessarily at the very next request.
        deadline = time.monotonic() + h.scaled(1)
        n = 0
        while r.json.get("status") != "accepted" and \
                time.monotonic() < deadline:
            time.sleep(0.01)
            n += 1
            r = ingest(srv, DEV, {"event_type": "task.created",
                                  "event_id": "new-%d" % n})
        t.eq(r.json["status"], "accepted",
             "%s: the new mapping runs within a second of the apply "
             "(%d requests before it)" % (label, n))
    else:
        t.eq(r.json["status"], "accepted",
             "%s: the new mapping runs at the next request" % label)
    bad = json.loads(json.dumps(doc))
    bad["sources"][0]["environments"]["development"]["mappings"][0][
        "action"] = "nope"
    r = api(srv, "PUT", "config", full, bad)
    t.ok(r.status == 422 and "/mappings/0" in r.json["message"],
         "%s: an invalid config is refused with a pointer" % label,
         repr(r))
    r = api(srv, "PUT", "config", ro, doc)
    t.eq(r.status, 403, "%s: a read-only token cannot apply" % label)

    # Metrics.
    r = srv.get(srv.url("/metrics"))
    want = 200 if srv.extra_env.get("PORTER_METRICS_AUTH") == "loopback" \
        else 401
    t.eq(r.status, want, "%s: /metrics without a token from loopback: %d" %
         (label, want))
    r = srv.get(srv.url("/metrics"), auth(ro))
    text = r.raw.decode()
    t.ok(r.status == 200 and 'porter_events_total{source="tasks",'
         'environment="development",status="accepted"}' in text and
         "porter_store_nearly_full 0" in text and
         r.headers["content-type"].startswith("text/plain; version=0.0.4"),
         "%s: /metrics with a read-only token" % label)
    metrics_counts(t, srv, label, ro)

    # The console's files.
    r = srv.get(srv.url("/admin/"))
    t.ok(r.status == 200 and b"app.js" in r.raw and "default-src 'self'" in
         r.headers.get("content-security-policy", "") and
         r.headers.get("x-frame-options") == "DENY",
         "%s: the console page, with a CSP" % label)
    r = srv.get(srv.url("/admin"))
    t.eq((r.status, r.headers.get("location")), (302, "admin/"),
         "%s: <mount>/admin redirects" % label)
    r = srv.get(srv.url("/admin/app.js"))
    t.ok(r.status == 200 and r.headers["content-type"].startswith(
        "text/javascript"), "%s: the console script" % label)

    rc, out, err = srv.porterctl("prune")
    t.ok(rc == 0 and "0 event logs and 0 action logs older than 30 days" in
         out, "%s: porterctl prune reports retention" % label, out, err)
    rc, out, err = srv.porterctl("check")
    t.eq(rc, 0, "%s: porterctl check" % label, out)


def missing_console(t, srv, where):
    """Files missing: anyone may ask, so the answer names no path; the
    responder's log line (lighttpd's error output) does."""
    for name in ("/admin/", "/admin/app.js"):
        r = srv.get(srv.url(name))
        t.ok(r.status == 404 and r.error_code() == "console_missing" and
             where not in r.raw.decode() and "/" not in r.json["message"],
             "missing console: %s is 404 without a path" % name, repr(r))
    t.ok(where + "/app.js" in srv.tail(),
         "missing console: the log line names the path")


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    t = h.Tap()
    for mount, env in (("/", {"PORTER_METRICS_AUTH": "loopback"}),
                       ("/porter", {})):
        env["PORTER_CONSOLE_DIR"] = CONSOLE_DIR
        with h.Server(mount=mount, env=env) as srv:
            t.run(scenario, t, srv, "mount " + mount)
    where = "/nonexistent/porter-install-dir"
    with h.Server(env={"PORTER_CONSOLE_DIR": where}) as srv:
        t.run(missing_console, t, srv, where)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 120)       # seconds (plain build; scaled)
    sys.exit(main())
