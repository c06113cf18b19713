#!/usr/bin/env python3
"""test_core.py - Porter's core HTTP contract, end to end (TAP).

Through a real lighttpd running lighttpd.conf.example with Porter mounted at
the root and under "/porter"; then porter.fcgi as a plain CGI program; then
under spawn-fcgi, reached with cgi-fcgi.  Each check compares the HTTP
status, the JSON error code and what the event log recorded
(porterctl logs --json / porterctl log ID --json).

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_core.py
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 600          # seconds for the whole file

PROD_SECRET = "whsec_prod_4f9c1e7a2b"
STAGING_SECRET = "whsec_staging_77d2"
DEV_ENDPOINT = "src_dev_tasks_3k9f2"
UNKNOWN_ENDPOINT = "src_AAAAAAAAAAAAAAAAAAAA"
ENDPOINT_RE = re.compile(r"^src_[0-9A-Za-z]{20}$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

# The task-management example (examples/task-assigned.json).
TASK_ASSIGNED = {
    "event_type": "task.assigned", "event_id": "evt_8c1f2a",
    "occurred_at": "2026-11-23T10:15:00Z",
    "data": {"task_id": "task_123", "title": "Review the Q4 roadmap",
             "assigned_to": "user_456", "assigned_by": "user_789",
             "project_id": "proj_42"}}
TASK_BODY = json.dumps(TASK_ASSIGNED).encode()

RECORD_KEYS = ("id", "received_at", "source", "environment", "endpoint_id",
               "event_type", "event_time", "status", "verification",
               "headers", "warnings")


def tasks_config(prod_secret=PROD_SECRET, durability=None, extra=()):
    """The example source "tasks" (development: verify false; production:
    verify true with a signing key) plus a "misc" source for edge cases."""
    cfg = {"sources": [
        {"key": "tasks", "name": "Task app", "type": "custom",
         "environments": {
             "development": {"endpoint_id": DEV_ENDPOINT, "verify": False},
             "staging": {"verify": False, "signing_keys": [
                 {"secret": STAGING_SECRET, "expires_at": None}]},
             "production": {
                 "verify": True,
                 "signing_keys": [{"secret": prod_secret,
                                   "expires_at": None}],
                 "event_type_path": "body.event_type",
                 "timestamp_path": "body.occurred_at",
                 "max_body_bytes": 1048576}}},
        {"key": "misc", "name": "Edge cases", "type": "custom",
         "environments": {
             "hdr": {"verify": False,
                     "event_type_path": "headers.x-event-type"},
             "bare": {"verify": False, "event_type_path": "kind",
                      "max_body_bytes": 64}}}]}
    if durability is not None:
        cfg["settings"] = {"durability": durability}
    cfg["sources"].extend(extra)
    return cfg


def signed(secret, body):
    return {"X-Knock-Signature": h.sign(secret, body)}


def is_error(tap, r, status, code, desc):
    """Status, error code, and the {"error", "message"} shape."""
    ok = tap.eq(r.status, status, "%s: HTTP %d" % (desc, status),
                "  body: %r" % r.raw[:300])
    ok &= tap.eq(r.error_code(), code, "%s: error %s" % (desc, code))
    j = r.json if isinstance(r.json, dict) else {}
    ok &= tap.ok(sorted(j) == ["error", "message"] and
                 isinstance(j.get("message"), str) and j["message"] != "",
                 "%s: body is {error, message}" % desc,
                 "  body: %r" % r.raw[:300])
    return ok


def newest(wd, *filters):
    recs = wd.logs("--limit", "1", *filters)
    return recs[0] if recs else None


def log_count(wd):
    return len(wd.logs("--limit", "100000"))


# ------------------------------------------------------------- lighttpd, /

def healthy(r):
    """A 200 health answer with the store's use."""
    store = (r.json or {}).get("store") or {}
    # (a PostgreSQL store has no map: its server's disk is the limit)
    return r.status == 200 and (r.json or {}).get("status") == "ok" and \
        (store.get("map_size", 0) > 0 or
         store.get("backend") == "postgresql") and \
        store.get("used", 0) > 0 and \
        isinstance(store.get("map_used_percent"), (int, float)) and \
        isinstance(store.get("room"), int)


def t_healthz(tap, s):
    r = s.get(s.url("/healthz"))
    tap.eq(r.status, 200, "GET healthz: 200")
    tap.ok(healthy(r), "GET healthz: {\"status\": \"ok\", \"store\": "
           "{map_size, used, map_used_percent, room}}", repr(r))
    tap.ok(r.headers.get("content-type", "").startswith("application/json"),
           "GET healthz: JSON content type", repr(r.headers))


def t_routes(tap, s):
    is_error(tap, s.get(s.url("/nope")), 404, "not_found", "GET /nope")
    is_error(tap, s.post(s.url("/nope"), b"{}"), 404, "not_found",
             "POST /nope")
    is_error(tap, s.post(s.url("/receive/"), b"{}"), 404, "not_found",
             "POST /receive/ without an id")
    before = log_count(s)
    is_error(tap, s.post(s.url("/receive/" + UNKNOWN_ENDPOINT), b"{}"), 404,
             "unknown_endpoint", "POST to an unknown endpoint")
    tap.eq(log_count(s), before, "unknown endpoint: not logged")
    r = s.post(s.url("/healthz"), b"{}")
    is_error(tap, r, 405, "method_not_allowed", "POST healthz")
    tap.has(r.headers.get("allow", ""), "GET", "POST healthz: Allow: GET")
    r = s.get(s.url("/receive/" + DEV_ENDPOINT))   # a configured one
    is_error(tap, r, 405, "method_not_allowed", "GET receive")
    tap.has(r.headers.get("allow", ""), "POST", "GET receive: Allow: POST")


def t_apply(tap, s):
    rc, out, err = s.apply(tasks_config())
    tap.eq(rc, 0, "apply tasks config", out, err)
    src = s.sources()
    tap.eq(src.get(("tasks", "development")), DEV_ENDPOINT,
           "development keeps its configured endpoint_id")
    prod = src.get(("tasks", "production"))
    tap.ok(prod is not None and ENDPOINT_RE.match(prod),
           "production gets a generated src_ + 20 char endpoint_id",
           repr(prod))
    rc, out, err = s.apply(tasks_config())
    tap.ok(rc == 0 and s.sources().get(("tasks", "production")) == prod,
           "re-applying keeps the generated endpoint_id", out, err)
    rc, out, err = s.porterctl("export")
    tap.ok(rc == 0 and PROD_SECRET not in out,
           "export masks signing secrets", out[:500])
    rc, out, err = s.porterctl("export", "--with-secrets")
    tap.ok(rc == 0 and PROD_SECRET in out,
           "export --with-secrets shows them", err)


def t_task_example(tap, s):
    prod = s.sources()[("tasks", "production")]
    r = s.post(s.url("/receive/" + prod), TASK_BODY,
               signed(PROD_SECRET, TASK_BODY))
    tap.eq(r.status, 200, "signed task.assigned: 200", repr(r))
    j = r.json if isinstance(r.json, dict) else {}
    tap.ok(str(j.get("id", "")).startswith("evt_"),
           "signed task.assigned: id evt_...", repr(j))
    tap.eq(j.get("event_type"), "task.assigned",
           "signed task.assigned: event_type")
    # No mapping is configured here: the event is logged no_mapping
    # (tests/e2e/test_actions.py runs the mapped example).
    tap.eq(j.get("status"), "no_mapping", "signed task.assigned: no_mapping")
    evt = j.get("id")

    recs = s.logs()
    tap.ok(recs and recs[0].get("id") == evt,
           "porterctl logs --json lists it first",
           repr(recs[:1]))
    rec = s.log(evt) or {}
    missing = [k for k in RECORD_KEYS if k not in rec]
    tap.eq(missing, [], "log record has all contract fields")
    tap.ok(RFC3339_RE.match(str(rec.get("received_at"))),
           "received_at is RFC 3339", repr(rec.get("received_at")))
    tap.eq((rec.get("source"), rec.get("environment"),
            rec.get("endpoint_id")), ("tasks", "production", prod),
           "record: source, environment, endpoint_id")
    tap.eq((rec.get("event_type"), rec.get("status")),
           ("task.assigned", "no_mapping"), "record: event_type, status")
    tap.ok(str(rec.get("event_time", "")).startswith("2026-11-23T10:15:00"),
           "record: event_time from timestamp_path",
           repr(rec.get("event_time")))
    tap.eq(rec.get("verification"),
           {"status": "enforced:verified", "reason": None},
           "record: verification enforced:verified")
    tap.eq(rec.get("body"), TASK_ASSIGNED, "record: body as sent")
    hdrs = rec.get("headers") or {}
    tap.ok(hdrs and all(k == k.lower() for k in hdrs),
           "record: header names lower-case", repr(hdrs))
    rc, out, err = s.porterctl("log", evt)
    tap.ok(rc == 0 and "task.assigned" in out and "user_456" in out,
           "porterctl log ID (text) shows the event", out[:400], err)
    rc, out, err = s.porterctl("events", "--source", "tasks", "--env",
                               "production", "--json")
    tap.ok(rc == 0 and "task.assigned" in out,
           "porterctl events lists task.assigned", out[:400], err)


def t_signature_failures(tap, s):
    prod = s.sources()[("tasks", "production")]
    cases = (
        ("missing", {}, "missing_signature"),
        ("malformed", {"X-Knock-Signature": "not-hex!"},
         "malformed_signature"),
        ("short hex", {"X-Knock-Signature": "abcd"}, "malformed_signature"),
        ("wrong key", signed("some-other-secret", TASK_BODY),
         "no_matching_key"),
        ("other body", signed(PROD_SECRET, TASK_BODY + b" "),
         "no_matching_key"),
    )
    for desc, hdrs, reason in cases:
        r = s.post(s.url("/receive/" + prod), TASK_BODY, hdrs)
        is_error(tap, r, 401, "invalid_signature", "%s signature" % desc)
        rec = newest(s) or {}
        rec = s.log(rec.get("id", "")) or rec
        tap.eq((rec.get("status"), rec.get("verification")),
               ("rejected", {"status": "enforced:failed", "reason": reason}),
               "%s signature: logged rejected, %s" % (desc, reason))
        tap.eq((rec.get("error") or {}).get("code"), "invalid_signature",
               "%s signature: logged error code" % desc)
        tap.eq(rec.get("body"), TASK_ASSIGNED,
               "%s signature: logged with its body" % desc)
    # Authentication comes before parsing.
    r = s.post(s.url("/receive/" + prod), b"{not json")
    is_error(tap, r, 401, "invalid_signature",
             "unsigned invalid JSON on a verified env")
    rec = s.log((newest(s) or {}).get("id", "")) or {}
    tap.eq(rec.get("body_text"), "{not json",
           "rejected unparseable body kept as body_text")


def t_unverified_envs(tap, s):
    src = s.sources()
    dev = s.url("/receive/" + src[("tasks", "development")])
    stg = s.url("/receive/" + src[("tasks", "staging")])
    body = b'{"type": "task.created", "id": 1}'
    cases = (
        ("development, unsigned", dev, {}, "not_enforced:unsigned", None),
        ("staging, unsigned", stg, {}, "not_enforced:unsigned", None),
        ("staging, good signature", stg, signed(STAGING_SECRET, body),
         "not_enforced:verified", None),
        ("staging, wrong signature", stg, signed("nope", body),
         "not_enforced:failed", "no_matching_key"),
        ("staging, malformed signature", stg, {"X-Knock-Signature": "xyz"},
         "not_enforced:failed", "malformed_signature"),
    )
    for desc, url, hdrs, vstatus, reason in cases:
        r = s.post(url, body, hdrs)
        tap.ok(r.status == 200 and
               str((r.json or {}).get("id", "")).startswith("evt_"),
               "%s: 200 with an event id" % desc, repr(r))
        rec = newest(s) or {}
        got = rec.get("verification") or {}
        if vstatus.endswith(":unsigned"):
            # The contract leaves the reason of "unsigned" open.
            reason = got.get("reason") if got.get("reason") in (
                None, "missing_signature") else None
        tap.eq(got, {"status": vstatus, "reason": reason},
               "%s: verification %s" % (desc, vstatus))


def t_event_type(tap, s):
    src = s.sources()
    dev = s.url("/receive/" + src[("tasks", "development")])
    r = s.post(dev, b'{"data": {}}')
    j = r.json or {}
    tap.eq((r.status, j.get("status"), j.get("event_type", "absent")),
           (200, "no_event_type", None), "no event type: 200 no_event_type")
    rec = s.log(j.get("id", "")) or {}
    tap.eq((rec.get("status"), rec.get("event_type", "absent")),
           ("no_event_type", None), "no event type: logged, event_type null")
    tap.ok(isinstance(rec.get("warnings"), list) and rec["warnings"],
           "no event type: a warning says why", repr(rec.get("warnings")))
    r = s.post(dev, b'{"type": "task.done"}')
    tap.eq((r.json or {}).get("event_type"), "task.done",
           "default event_type_path is body.type")
    hdr = s.url("/receive/" + src[("misc", "hdr")])
    r = s.post(hdr, b'{"type": "ignored"}', {"X-Event-Type": "from.header"})
    tap.eq((r.json or {}).get("event_type"), "from.header",
           "event_type_path headers.x-event-type")
    bare = s.url("/receive/" + src[("misc", "bare")])
    r = s.post(bare, b'{"kind": "bare.path"}')
    tap.eq((r.json or {}).get("event_type"), "bare.path",
           "event_type_path without a namespace reads the body")
    # A number as the type is its text as sent, whatever its size.
    for num in ("42", "-0", "1.50", "1e3", "18446744073709551616",
                "123456789012345678901234"):
        r = s.post(dev, ('{"type": %s}' % num).encode())
        j = r.json or {}
        rec = s.log(j.get("id", "")) or {}
        tap.eq((j.get("event_type"), rec.get("event_type")), (num, num),
               "the number %s as the event type, answered and logged" % num)


def t_media_types(tap, s):
    dev = s.url("/receive/" + DEV_ENDPOINT)
    body = b'{"type": "media"}'
    before = log_count(s)
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "application/jsonx", None):
        is_error(tap, s.post(dev, body, content_type=ctype), 415,
                 "unsupported_media_type", "Content-Type %s" % ctype)
    tap.eq(log_count(s), before, "415s are not logged")
    for ctype in ("application/json; charset=utf-8", "APPLICATION/JSON",
                  "application/vnd.tasks+json"):
        r = s.post(dev, body, content_type=ctype)
        tap.eq(r.status, 200, "Content-Type %s accepted" % ctype, repr(r))


def t_body_limits(tap, s):
    src = s.sources()
    bare = s.url("/receive/" + src[("misc", "bare")])
    dev = s.url("/receive/" + DEV_ENDPOINT)
    before = log_count(s)
    body = b'{"kind": "x", "pad": "' + b"a" * 30 + b'"}'
    body += b" " * (65 - len(body))
    is_error(tap, s.post(bare, body), 413, "body_too_large",
             "65 bytes over max_body_bytes 64")
    tap.eq(log_count(s), before, "413 is not logged")
    r = s.post(bare, body[:64])
    tap.eq(r.status, 200, "exactly max_body_bytes (64) accepted", repr(r))
    mib = 1 << 20
    big = b'{"type": "big", "pad": "' + b"b" * (mib - 40) + b'"}'
    big += b" " * (mib - len(big))
    r = s.post(dev, big)
    tap.eq(r.status, 200, "1 MiB body (default limit) accepted", repr(r))
    is_error(tap, s.post(dev, big + b" "), 413, "body_too_large",
             "1 MiB + 1 over the default limit")


INVALID_BODIES = (
    ("truncated JSON", b'{"a": ', "invalid_json"),
    ("trailing garbage", b'{"a": 1} x', "invalid_json"),
    ("not an object", b'[1, 2]', "not_an_object"),
    ("a string", b'"type"', "not_an_object"),
    ("duplicate key", b'{"type": "a", "type": "b"}', "duplicate_key"),
    ("bad UTF-8", b'{"type": "\xff"}', "invalid_utf8"),
    ("depth 65", b'{"a": ' * 65 + b'1' + b'}' * 65, "too_deep"),
    ("empty body", b'', "empty_body"),
)


def t_invalid_json(tap, s):
    dev = s.url("/receive/" + DEV_ENDPOINT)
    for desc, body, code in INVALID_BODIES:
        r = s.post(dev, body)
        is_error(tap, r, 400, code, desc)
        rec = newest(s) or {}
        rec = s.log(rec.get("id", "")) or rec
        tap.eq((rec.get("status"), (rec.get("error") or {}).get("code")),
               ("invalid", code), "%s: logged invalid, %s" % (desc, code))
        if code in ("invalid_json", "duplicate_key"):
            tap.eq(rec.get("body_text"), body.decode(),
                   "%s: raw body logged as body_text" % desc)
    r = s.post(dev, b'{"a": ' * 64 + b'1' + b'}' * 64)
    tap.eq(r.status, 200, "depth 64 accepted", repr(r))
    # Where: a duplicate key at its own place, with line and column.
    body = b'{"type": "a",\r\n "data": {"k": 1},\r\n "type": "b"}'
    r = s.post(dev, body)
    where = "line 3, column 2 (byte 36)"
    tap.ok(r.status == 400 and where in (r.json or {}).get("message", ""),
           "a duplicate key is reported at %s" % where, repr(r))
    rec = s.log((newest(s) or {}).get("id", "")) or {}
    tap.ok(where in (rec.get("error") or {}).get("message", ""),
           "... and logged so", repr(rec.get("error")))


def t_redaction(tap, s):
    dev = s.url("/receive/" + DEV_ENDPOINT)
    r = s.post(dev, b'{"type": "redact"}', {
        "Authorization": "Bearer tok_secret", "Cookie": "sid=abc",
        "X-Api-Key": "key_secret", "X-Custom-Thing": "visible"})
    tap.eq(r.status, 200, "request with secret headers: 200")
    rec = s.log((r.json or {}).get("id", "")) or {}
    hdrs = rec.get("headers") or {}
    tap.eq(hdrs.get("authorization"), "[redacted]", "authorization redacted")
    tap.eq(hdrs.get("cookie"), "[redacted]", "cookie redacted")
    tap.eq(hdrs.get("x-api-key"), "[redacted]", "x-api-key redacted")
    tap.eq(hdrs.get("x-custom-thing"), "visible", "other headers kept")
    text = json.dumps(rec)
    tap.ok("tok_secret" not in text and "key_secret" not in text,
           "no secret value anywhere in the record")


def t_log_queries(tap, s):
    every = ("--limit", "100000")
    recs = s.logs(*every)
    stamps = [r.get("received_at") for r in recs]
    tap.ok(len(recs) > 10 and stamps == sorted(stamps, reverse=True),
           "logs: newest first", repr(stamps[:5]))
    sel = s.logs("--source", "tasks", "--env", "production")
    tap.ok(sel and all(r["source"] == "tasks" and
                       r["environment"] == "production" for r in sel),
           "logs --source --env filters", len(sel))
    sel = s.logs("--status", "rejected")
    tap.ok(sel and all(r["status"] == "rejected" for r in sel),
           "logs --status rejected filters", len(sel))
    sel = s.logs("--type", "task.assigned")
    tap.ok(sel and all(r["event_type"] == "task.assigned" for r in sel),
           "logs --type filters", len(sel))
    tap.eq(len(s.logs("--limit", "3")), 3, "logs --limit 3")
    pivot = recs[2]["id"]
    older = s.logs("--before", pivot, *every)
    tap.eq([r["id"] for r in older], [r["id"] for r in recs[3:]],
           "logs --before EVT_ID: strictly older ones")
    tap.eq(len(s.logs("--since", "2h", *every)), len(recs),
           "logs --since 2h")
    tap.eq(s.logs("--since", "2099-01-01T00:00:00Z"), [],
           "logs --since a future time: none")
    rc, out, err = s.porterctl("log", "evt_00000000000000000000000000")
    tap.ok(rc != 0, "log of an unknown id fails", out, err)


def t_reload(tap, s):
    pid = s.proc.pid
    billing = {"key": "billing", "name": "Billing", "type": "custom",
               "environments": {"live": {"verify": True, "signing_keys": [
                   {"secret": "k1", "expires_at": None}]}}}
    rc, out, err = s.apply(tasks_config(durability="relaxed",
                                        extra=[billing]))
    tap.eq(rc, 0, "apply: new source billing, durability relaxed", out, err)
    url = s.url("/receive/" + s.sources()[("billing", "live")])
    body = b'{"type": "invoice.paid"}'
    got = [s.post(url, body, signed("k1", body)).status for _ in range(6)]
    tap.eq(got, [200] * 6, "new source answers at once, every responder")
    rc, out, err = s.porterctl("export")
    tap.ok('"relaxed"' in out, "export shows durability relaxed")
    billing["environments"]["live"]["signing_keys"] = [
        {"secret": "k2", "expires_at": None}]
    rc, out, err = s.apply(tasks_config(extra=[billing]))
    tap.eq(rc, 0, "apply: rotate billing key to k2", out, err)
    got = [s.post(url, body, signed("k1", body)).status for _ in range(4)]
    tap.eq(got, [401] * 4, "old key rejected after rotation")
    got = [s.post(url, body, signed("k2", body)).status for _ in range(4)]
    tap.eq(got, [200] * 4, "new key accepted after rotation")
    rc, out, err = s.apply(tasks_config())
    got = s.post(url, body, signed("k2", body))
    is_error(tap, got, 404, "unknown_endpoint", "removed source: 404")
    tap.ok(s.proc.poll() is None and s.proc.pid == pid,
           "lighttpd never restarted")


def t_bad_config(tap, s):
    before = s.sources()
    for desc, cfg in (
            ("unknown durability", {"settings": {"durability": "maybe"},
                                    "sources": []}),
            ("verify true without keys", {"sources": [
                {"key": "x", "type": "custom", "environments": {
                    "e": {"verify": True}}}]}),
            ("not JSON", "not json")):
        if isinstance(cfg, str):
            fn = s.path("bad.json")
            with open(fn, "w") as f:
                f.write(cfg)
            rc, out, err = s.porterctl("apply", fn)
        else:
            rc, out, err = s.apply(cfg)
        tap.ok(rc != 0 and err.strip() != "",
               "apply rejects %s with a message" % desc, out, err)
    tap.eq(s.sources(), before, "rejected applies change nothing")


def t_front_server(tap, s):
    """What lighttpd itself does with malformed requests before Porter
    sees them (Porter's own answers are checked through CGI below)."""
    dev = s.url("/receive/" + DEV_ENDPOINT).encode()
    head = b"POST " + dev + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" \
        b"Content-Type: application/json\r\n"
    before = log_count(s)
    r = s.raw(head + b"\r\n{}")
    tap.eq(r.status, 411, "no Content-Length: 411 (lighttpd)", repr(r))
    r = s.raw(head + b"Content-Length: 12abc\r\n\r\n{}")
    tap.eq(r.status, 400, "bogus Content-Length: 400 (lighttpd)", repr(r))
    r = s.raw(head + b"Content-Length: 100\r\n\r\n{}")
    tap.ok(r.status != 200, "short body: no 200", repr(r))
    tap.eq(log_count(s), before, "none of these reached the log")
    r = s.raw(head + b"Transfer-Encoding: chunked\r\n\r\n"
              b"11\r\n{\"type\": \"chunk\"}\r\n0\r\n\r\n")
    tap.eq((r.status, (r.json or {}).get("event_type")), (200, "chunk"),
           "chunked body: lighttpd passes a length, 200", repr(r))
    tap.eq(s.get(s.url("/healthz")).status, 200, "still healthy")


# -------------------------------------------------------- lighttpd, /porter

def t_prefix(tap):
    with h.Server(mount="/porter") as s:
        tap.ok(True, "lighttpd up with Porter under /porter")
        t_healthz(tap, s)
        r = s.get("/healthz")
        tap.ok(r.status == 404 and r.error_code() is None,
               "/healthz outside the mount is not Porter's", repr(r))
        is_error(tap, s.get("/porter/nope"), 404, "not_found",
                 "GET /porter/nope")
        rc, out, err = s.apply(tasks_config())
        tap.eq(rc, 0, "apply under /porter", out, err)
        prod = s.sources()[("tasks", "production")]
        r = s.post("/porter/receive/" + prod, TASK_BODY,
                   signed(PROD_SECRET, TASK_BODY))
        tap.eq((r.status, (r.json or {}).get("event_type")),
               (200, "task.assigned"), "/porter: signed task.assigned 200")
        rec = newest(s) or {}
        tap.eq((rec.get("id"), rec.get("source"), rec.get("event_type")),
               ((r.json or {}).get("id"), "tasks", "task.assigned"),
               "/porter: logged")
        r = s.post("/porter/receive/" + prod, TASK_BODY)
        is_error(tap, r, 401, "invalid_signature", "/porter: unsigned")
        is_error(tap, s.post("/porter/receive/" + UNKNOWN_ENDPOINT, b"{}"),
                 404, "unknown_endpoint", "/porter: unknown endpoint")
        r = s.get("/porter/receive/" + prod)
        is_error(tap, r, 405, "method_not_allowed", "/porter: GET receive")


# ---------------------------------------------- lighttpd, mod_cgi variant

def t_lighttpd_cgi(tap):
    for mount in ("/", "/hooks"):
        s = h.Server(mount=mount)
        s.conf = h.cgi_variant_conf(s.path("lighttpd-cgi.conf"))
        with s:
            tap.ok(True, "lighttpd mod_cgi variant up at %s" % mount)
            s.apply(tasks_config())
            prod = s.sources()[("tasks", "production")]
            r = s.post(s.url("/receive/" + prod), TASK_BODY,
                       signed(PROD_SECRET, TASK_BODY))
            tap.eq((r.status, (r.json or {}).get("event_type")),
                   (200, "task.assigned"),
                   "mod_cgi at %s: signed task.assigned 200" % mount,
                   repr(r))
            tap.eq((newest(s) or {}).get("id"), (r.json or {}).get("id"),
                   "mod_cgi at %s: logged" % mount)
            is_error(tap, s.get(s.url("/nope")), 404, "not_found",
                     "mod_cgi at %s: GET /nope" % mount)


# ----------------------------------------------------------------- CGI

def t_cgi(tap):
    wd = h.Workdir()
    try:
        rc, out, err = wd.apply(tasks_config())
        tap.eq(rc, 0, "CGI: apply", out, err)
        src = wd.sources()
        prod = "/receive/" + src[("tasks", "production")]
        bare = "/receive/" + src[("misc", "bare")]
        dev = "/receive/" + DEV_ENDPOINT

        def cgi(path, body=b"", length="auto", ctype="application/json",
                headers=None, method="POST", **kw):
            if length == "auto":
                length = len(body)
            kw.setdefault("path_info", path.partition("?")[0])
            env = h.cgi_environ(method, path, wd.db, length, ctype,
                                headers, **kw)
            resp, rc, err = h.run_cgi(env, body)
            if rc != 0:
                tap.diag("porter.fcgi exited %d: %s" % (rc, err))
            last_stderr[0] = err
            return resp

        last_stderr = [""]

        r = cgi(prod, TASK_BODY, headers=signed(PROD_SECRET, TASK_BODY))
        tap.eq((r.status, (r.json or {}).get("event_type")),
               (200, "task.assigned"), "CGI: signed task.assigned 200",
               repr(r))
        rec = newest(wd) or {}
        tap.eq((rec.get("id"), rec.get("event_type")),
               ((r.json or {}).get("id"), "task.assigned"), "CGI: logged")
        r = cgi("/healthz", method="GET", length=None, ctype=None)
        tap.ok(healthy(r), "CGI: healthz", repr(r))

        # Routing without PATH_INFO.
        r = cgi("/hooks/receive/" + DEV_ENDPOINT + "?x=1", b"{}",
                path_info=None, mount="/hooks")
        tap.eq(r.status, 200, "CGI: REQUEST_URI minus PORTER_MOUNT",
               repr(r))
        r = cgi("/cgi-bin/porter.cgi/healthz", method="GET", length=None,
                ctype=None, path_info=None, script_name="/cgi-bin/porter.cgi")
        tap.eq(r.status, 200, "CGI: REQUEST_URI minus SCRIPT_NAME", repr(r))

        before = log_count(wd)
        is_error(tap, cgi(dev, b"{}", length=None), 411, "length_required",
                 "CGI: no CONTENT_LENGTH")
        for bogus in ("", "12abc", "-2", "+2", " 2", "0x2", "2.0",
                      "99999999999999999999999"):
            is_error(tap, cgi(dev, b"{}", length=bogus), 411,
                     "length_required", "CGI: CONTENT_LENGTH %r" % bogus)
        is_error(tap, cgi(bare, b"", length=1000), 413, "body_too_large",
                 "CGI: 413 decided before reading")
        is_error(tap, cgi(dev, b"", length=(16 << 20) + 1), 413,
                 "body_too_large", "CGI: over the 16 MiB cap")
        is_error(tap, cgi(dev, b'{"a": 1}', length=100), 400,
                 "incomplete_body", "CGI: short body")
        is_error(tap, cgi(prod, TASK_BODY, ctype="text/plain"), 415,
                 "unsupported_media_type", "CGI: 415 before signature")
        is_error(tap, cgi("/receive/" + UNKNOWN_ENDPOINT, b"",
                          length=1 << 30, ctype="text/plain"), 404,
                 "unknown_endpoint", "CGI: unknown endpoint first, body "
                 "unread")
        tap.eq(log_count(wd), before, "CGI: steps 1-2 failures not logged")

        # A refusal is counted even by a process that serves only it.
        rc, tok, err = wd.porterctl("token", "create", "metrics", "--read-only")
        auth = {"Authorization": "Bearer " + tok.strip()}
        series = 'porter_requests_refused_total{status="404"} '

        def refused():
            r = cgi("/metrics", method="GET", length=None, ctype=None,
                    headers=auth)
            return sum(int(line[len(series):]) for line in
                       r.raw.decode().splitlines() if line.startswith(series))
        n = refused()
        cgi("/receive/" + UNKNOWN_ENDPOINT, b"{}")
        tap.eq(refused(), n + 1, "CGI: a 404 counts in "
               "porter_requests_refused_total")

        # A store that cannot be used: health says so, as webhooks get it.
        # (A world-writable directory: LMDB's; PostgreSQL's store is no
        # directory, test_postgresql.py stops its server instead.)
        if os.path.isdir(wd.db):
            os.chmod(wd.db, 0o777)
            try:
                r = cgi("/healthz", method="GET", length=None, ctype=None)
                tap.ok(r.status == 503 and r.error_code() == "store_unavailable"
                       and (r.json or {}).get("status") == "unavailable" and
                       "world-writable" not in r.raw.decode("utf-8", "replace")
                       and "world-writable" in last_stderr[0] and
                       (r.json or {}).get("store", 0) is None and
                       r.headers.get("retry-after", "").isdigit(),
                       "CGI: healthz on a world-writable store: 503 "
                       "store_unavailable, Retry-After, the reason in the log "
                       "only", repr(r))
                is_error(tap, cgi(dev, b"{}"), 503, "store_unavailable",
                         "CGI: a webhook to a world-writable store")
            finally:
                os.chmod(wd.db, 0o700)

        # A map size that overflows is refused, not wrapped around.
        for size in ("99999999999G", "18446744073709551616", "4GB", "0"):
            r = cgi("/healthz", method="GET", length=None, ctype=None,
                    extra={"PORTER_MAP_SIZE": size})
            tap.ok(r.status == 503 and r.error_code() == "store_unavailable"
                   and "PORTER_MAP_SIZE" in last_stderr[0],
                   "CGI: PORTER_MAP_SIZE=%s: 503 store_unavailable, the log "
                   "saying why" % size, repr(r))
            env = dict(os.environ, PORTER_MAP_SIZE=size)
            rc, out, err = h.run([h.PORTERCTL, "--db", wd.db, "status"],
                                 env=env)
            tap.ok(rc == 2 and "PORTER_MAP_SIZE" in err, "porterctl with "
                   "PORTER_MAP_SIZE=%s: exit 2 with a message" % size, err)
            rc, out, err = wd.porterctl("--map-size", size, "status")
            tap.ok(rc == 2 and "--map-size" in err, "porterctl --map-size "
                   "%s: exit 2 with a message" % size, err)
        r = cgi("/healthz", method="GET", length=None, ctype=None,
                extra={"PORTER_MAP_SIZE": "64M"})
        # (LMDB's map; a PostgreSQL store has none and ignores it.)
        tap.ok(healthy(r) and (r.json["store"]["map_size"] == 64 << 20 or
                               not os.path.isdir(wd.db)),
               "CGI: PORTER_MAP_SIZE=64M is the map size", repr(r))
    finally:
        wd.close()


def t_cgi_fcgi(tap):
    wd = h.Workdir()
    try:
        rc, out, err = wd.apply(tasks_config())
        tap.eq(rc, 0, "cgi-fcgi: apply", out, err)
        prod = "/receive/" + wd.sources()[("tasks", "production")]
        with h.FcgiSpawn(wd.db) as f:
            env = h.cgi_environ("POST", prod, wd.db, len(TASK_BODY),
                                "application/json",
                                signed(PROD_SECRET, TASK_BODY),
                                path_info=prod)
            r, rc, err = f.request(env, TASK_BODY)
            tap.eq((r.status, (r.json or {}).get("event_type")),
                   (200, "task.assigned"),
                   "cgi-fcgi -> spawn-fcgi porter.fcgi: signed event 200",
                   repr(r), err)
            rec = newest(wd) or {}
            tap.eq(rec.get("id"), (r.json or {}).get("id"),
                   "cgi-fcgi: logged")
            env = h.cgi_environ("POST", prod, wd.db, len(TASK_BODY),
                                "application/json", path_info=prod)
            r, rc, err = f.request(env, TASK_BODY)
            is_error(tap, r, 401, "invalid_signature", "cgi-fcgi: unsigned")
    finally:
        wd.close()


def main():
    tap = h.Tap()

    h.watchdog(tap, WATCHDOG)
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    h.require_binaries()

    try:
        s = h.Server(mount="/").start()
    except Exception as e:
        h.bail_out("cannot start lighttpd: %s" % e)
    try:
        tap.ok(True, "lighttpd up with Porter at /")
        for fn in (t_healthz, t_apply, t_routes, t_task_example,
                   t_signature_failures, t_unverified_envs, t_event_type,
                   t_media_types, t_body_limits, t_invalid_json,
                   t_redaction, t_log_queries, t_front_server, t_bad_config,
                   t_reload):
            tap.run(fn, tap, s)
        tap.ok(s.proc.poll() is None, "lighttpd still running at the end",
               s.tail())
    finally:
        s.close()

    tap.run(t_prefix, tap)
    tap.run(t_lighttpd_cgi, tap)
    tap.run(t_cgi, tap)
    if h.which("spawn-fcgi") and h.which("cgi-fcgi"):
        tap.run(t_cgi_fcgi, tap)
    else:
        tap.skip("cgi-fcgi", "spawn-fcgi or cgi-fcgi not installed")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
