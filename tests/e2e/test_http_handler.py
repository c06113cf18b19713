#!/usr/bin/env python3
"""test_http_handler.py - HTTP workflow handlers through a real lighttpd
(TAP).

One lighttpd (lighttpd.conf.example, Porter over FastCGI under /porter)
and the test receiver (tests/unit/receiver.py, on 127.0.0.1), which checks
Standard Webhooks signatures with its own code, never Porter's.  One
custom source whose mappings trigger four workflows, each an "http"
handler (porter.conf(5) "workflows"):

  notify   POSTs to /hook with the right secret: the app verifies it
  forged   /hook, signed with another secret: the app refuses it (401)
  broken   /fail: the app answers 500
  sleepy   /slow?ms=3000 with timeout_ms 500
  plain    /echo, no secret: unsigned

Checked: a verified delivery completes the run, the action log keeps the
app's status and answer, and the webhook-id is the run id (the app
counts one delivery); a refused, failing or slow app fails the action,
the event is "failed" and the sender gets 502 handler_failed with
Retry-After (so it retries); without a secret the call goes unsigned;
the secret and the header values are masked in an export, which applies
back; apply refuses "http" beside "exec", a bad URL and a bad
secret; over the admin API a {"env"} secret is refused.

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_http_handler.py
"""

import base64
import json
import os
import pty
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 900 if h.VALGRIND else 180   # seconds for the whole file
MOUNT = "/porter"
SECRET = "whsec_" + base64.b64encode(b"porter-http-handler-test-key!").decode()
OTHER = "whsec_" + base64.b64encode(b"a different key, not the app's").decode()
RECEIVER = os.path.join(h.TOP_SRCDIR, "tests", "unit", "receiver.py")


def config(port, extra_wf=None):
    base = "http://127.0.0.1:%d" % port
    wfs = {
        "notify": {"http": {"url": base + "/hook", "secret": SECRET,
                            "headers": {"X-App": "porter-test"}}},
        "forged": {"http": {"url": base + "/hook", "secret": OTHER}},
        "broken": {"http": {"url": base + "/fail", "secret": SECRET}},
        "sleepy": {"http": {"url": base + "/slow?ms=3000", "secret": SECRET,
                            "timeout_ms": 500}},
        "plain": {"http": {"url": base + "/echo"}},
    }
    wfs.update(extra_wf or {})
    maps = [{"event_type": "go." + k, "action": "workflows_trigger",
             "params": {"key": {"value": k}, "recipients": "user",
                        "data": "data"}} for k in
            ("notify", "forged", "broken", "sleepy", "plain")]
    return {"workflows": wfs,
            "sources": [{"key": "app", "type": "custom", "environments": {
                "production": {"verify": False, "mappings": maps},
                "batching": {"verify": False, "batch_path": "body.batch",
                             "mappings": maps},
                "strict": {"verify": True,
                           "signing_keys": [{"secret": "strict-key-1"}],
                           "mappings": maps}}}]}


class Ctx:
    def __init__(self, tap, srv, port):
        self.tap = tap
        self.srv = srv
        self.port = port
        self.path = srv.url("/receive/%s" % srv.sources()[("app",
                                                           "production")])

    def send(self, kind, data=None):
        body = {"type": "go." + kind, "user": "u1", "data": data or {"n": 1}}
        r = self.srv.post(self.path, json.dumps(body).encode())
        rid = (r.json or {}).get("id") or \
            ((r.json or {}).get("message") or "").split("event ")[-1] \
            .split(" ")[0]
        return r, (self.srv.log(rid) or {})


def action(rec):
    acts = rec.get("action_logs") or [{}]
    return acts[0]


def t_delivered(c):
    r, rec = c.send("notify", {"n": 7})
    a = action(rec)
    hd = (a.get("result") or {}).get("handler") or {}
    c.tap.eq((r.status, rec.get("status"), a.get("status")),
             (200, "accepted", "success"),
             "an HTTP handler the app verifies: 200, the action succeeds",
             repr(r), a)
    answer = json.loads(hd.get("stdout") or "{}")
    run_id = (a.get("result") or {}).get("id")
    c.tap.eq((hd.get("http_status"), answer.get("verified"),
              answer.get("id"), answer.get("seen")),
             (200, True, run_id, 1),
             "... the app checked the Standard Webhooks signature with its "
             "own code; webhook-id is the run id, delivered once", hd)
    c.tap.eq(rec.get("response"), {"status": 200, "error": None,
                                   "retry_after": None},
             "... the log says the sender got 200 once the handler was done",
             rec)
    rc, out, err = c.srv.porterctl("runs", "--workflow", "notify", "--json")
    runs = h.json_lines(out) if rc == 0 else []
    run = ([x for x in runs if x.get("id") == run_id] or [{}])[0]
    c.tap.eq(run.get("status"), "completed", "... and the run completed",
             run, err)


def t_unsigned(c):
    r, rec = c.send("plain", {"n": 3})
    a = action(rec)
    seen = json.loads(((a.get("result") or {}).get("handler") or {})
                      .get("stdout") or "{}")
    hdrs = {k.lower(): v for k, v in seen.get("headers") or []}
    c.tap.ok(a.get("status") == "success" and seen.get("method") == "POST"
             and "webhook-signature" not in hdrs and
             json.loads(seen.get("body") or "{}").get("data") == {"n": 3},
             "without a secret the run is POSTed unsigned", seen)


def t_refused(c):
    for kind, what, want in (
            ("forged", "signed with another secret", "HTTP 401"),
            ("broken", "answering 500", "HTTP 500"),
            ("sleepy", "slower than timeout_ms", "timed out")):
        r, rec = c.send(kind)
        a = action(rec)
        c.tap.eq((r.status, r.error_code(), rec.get("status"),
                  a.get("status")),
                 (502, "handler_failed", "failed", "failed"),
                 "an app %s: 502 to the sender, the event and action failed"
                 % what, repr(r), a)
        c.tap.ok(want in (a.get("error") or {}).get("message", "") and
                 r.headers.get("retry-after"),
                 "... the action log says %s; the sender gets Retry-After"
                 % want, a, r.headers)
        c.tap.eq(rec.get("response"), {"status": 502, "error":
                                       "handler_failed", "retry_after": 60},
                 "... and the event's log says what the sender got", rec)
        rc, out, err = c.srv.porterctl("log", rec.get("id", "?"))
        c.tap.ok("response: 502 handler_failed (Retry-After: 60)" in out,
                 "... porterctl log shows it as a line", out)


def t_batch(c):
    path = c.srv.url("/receive/%s" % c.srv.sources()[("app", "batching")])
    body = {"batch": [{"type": "go.notify", "user": "u1", "data": {}},
                      {"type": "go.broken", "user": "u1", "data": {}}]}
    r = c.srv.post(path, json.dumps(body).encode())
    ids = [e.get("id") for e in c.srv.logs("--env", "batching")]
    recs = [c.srv.log(i) or {} for i in ids[:2]]
    c.tap.eq((r.status, r.error_code(),
              [x.get("response") for x in recs]),
             (502, "handler_failed",
              [{"status": 502, "error": "handler_failed",
                "retry_after": 60}] * 2),
             "a batch answered 502: every element's log says so", repr(r),
             recs)


def t_follow(c):
    """porterctl logs --follow: the last events, then each new one once."""
    before = [e.get("id") for e in c.srv.logs("--env", "production",
                                              "--limit", "2")][::-1]
    proc = subprocess.Popen([h.PORTERCTL, "--db", c.srv.db, "logs",
                             "--follow", "--json", "--env", "production",
                             "--limit", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        backlog = h.read_ndjson(proc, 2, h.scaled(5))
        sent = [c.send("plain", {"n": i})[0].json.get("id")
                for i in range(3)]
        new = h.read_ndjson(proc, 3, h.scaled(10))
        time.sleep(1)       # a rescan of the window prints nothing again
        again = h.read_ndjson(proc, 1, 1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    c.tap.eq([e.get("id") for e in backlog], before,
             "logs --follow prints the last events first, oldest first",
             backlog)
    c.tap.eq([e.get("id") for e in new], sent,
             "... then each new event as it lands, in order", new)
    c.tap.eq(again, [], "... each once", again)


def t_follow_actions(c):
    """porterctl actions --follow: each new action log once, in order."""
    proc = subprocess.Popen([h.PORTERCTL, "--db", c.srv.db, "actions",
                             "--follow", "--json", "--workflow", "plain"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        time.sleep(1)       # it has learnt what is there
        sent = [c.send("plain", {"n": 50 + i})[1].get("actions", ["?"])[0]
                for i in range(2)]
        got = h.read_ndjson(proc, 2, h.scaled(10))
        time.sleep(1)
        again = h.read_ndjson(proc, 1, 1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    c.tap.eq(([x.get("id") for x in got], again), (sent, []),
             "actions --follow prints each new action log once, oldest "
             "first, and nothing from before it started", got)


def t_where(c):
    """Events by a value in their body: porterctl and the API."""
    sent = c.send("plain", {"n": 4242})[0].json.get("id")
    rc, out, err = c.srv.porterctl("logs", "--where", "body.data.n=4242",
                                   "--json")
    got = [e.get("id") for e in h.json_lines(out)] if rc == 0 else None
    c.tap.eq(got, [sent], "logs --where body.data.n=4242 finds the one "
             "event", out, err)
    rc, out, err = c.srv.porterctl("logs", "--where", "body.data.n=4243")
    c.tap.ok(rc == 0 and "no events" in out, "... and none for 4243", out)
    rc, out, err = c.srv.porterctl("logs", "--where", "body..x=1")
    c.tap.ok(rc == 2 and "body..x" in err, "... a bad path is a usage error",
             err)
    rc, tok, err = c.srv.porterctl("token", "create", "where-ro",
                                   "--read-only")
    auth = {"Authorization": "Bearer " + tok.strip()}
    r = c.srv.get(c.srv.url("/admin/api/logs?path=body.data.n&value=4242"),
                  auth)
    c.tap.eq([e.get("id") for e in (r.json or {}).get("data") or []], [sent],
             "GET /admin/api/logs?path=&value= finds it too", repr(r))
    r = c.srv.get(c.srv.url("/admin/api/logs?path=body.data.n"), auth)
    c.tap.eq((r.status, r.error_code()), (400, "invalid_parameter"),
             "... path without value is 400", repr(r))


def t_actions(c):
    """The action log across events: what failed, and the page cursor."""
    rc, out, err = c.srv.porterctl("actions", "--status", "failed",
                                   "--workflow", "broken", "--json")
    acts = h.json_lines(out) if rc == 0 else []
    c.tap.ok(rc == 0 and acts and all(
        x.get("status") == "failed" and x.get("action") ==
        "workflows_trigger" for x in acts) and [x["id"] for x in acts] ==
        sorted([x["id"] for x in acts], reverse=True),
        "porterctl actions --status failed --workflow broken: those, newest "
        "first", out, err)
    rc, out, err = c.srv.porterctl("actions", "--status", "failed",
                                   "--workflow", "broken", "--limit", "1")
    more = [ln for ln in out.splitlines() if ln.startswith("more: --before ")]
    c.tap.ok(rc == 0 and len(out.splitlines()) == 2 and more,
             "... one a page, with the cursor for the next", out)
    if more:
        rc, out2, err = c.srv.porterctl("actions", "--status", "failed",
                                        "--workflow", "broken",
                                        "--limit", "1", "--before",
                                        more[0].split()[-1], "--json")
        nxt = h.json_lines(out2) if rc == 0 else []
        c.tap.ok(len(nxt) == 1 and len(acts) > 1 and
                 nxt[0]["id"] == acts[1]["id"],
                 "... which gives the next one", nxt, acts[:2])
    rc, out, err = c.srv.porterctl("actions", "--status", "broke")
    c.tap.ok(rc == 2 and "success, skipped, failed" in err,
             "an unknown status is a usage error naming the valid ones", err)
    rc, tok, err = c.srv.porterctl("token", "create", "acts-ro",
                                   "--read-only")
    auth = {"Authorization": "Bearer " + tok.strip()}
    r = c.srv.get(c.srv.url("/admin/api/actions?status=failed&workflow=broken"
                            "&limit=2"), auth)
    j = r.json or {}
    c.tap.ok(r.status == 200 and [x["id"] for x in j.get("data") or []] ==
             [x["id"] for x in acts[:2]] and
             (j.get("page_info") or {}).get("has_more") is (len(acts) > 2),
             "GET /admin/api/actions: the same, paged", repr(r))
    r = c.srv.get(c.srv.url("/admin/api/actions?action=nope"), auth)
    c.tap.eq((r.status, r.error_code()), (400, "invalid_parameter"),
             "... an unknown action is 400", repr(r))


def on_pty(c, args, env=None, stream="stdout"):
    """porterctl ARGS with "stream" (stdout or stderr) on a pseudo-
    terminal: (what the terminal got, the other stream's bytes, rc)."""
    master, slave = pty.openpty()
    e = dict(os.environ, TERM="xterm")
    e.pop("NO_COLOR", None)
    e.update(env or {})
    where = {"stdout": slave, "stderr": subprocess.PIPE}
    if stream == "stderr":
        where = {"stdout": subprocess.PIPE, "stderr": slave}
    p = subprocess.Popen([h.PORTERCTL, "--db", c.srv.db] + args, env=e,
                         **where)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    other = p.communicate(timeout=120)[0 if stream == "stderr" else 1]
    os.close(master)
    return got.decode("utf-8", "replace"), other or b"", p.returncode


def on_tty(c, args, env=None):
    """porterctl ARGS with stdout on a pseudo-terminal: what it printed."""
    return on_pty(c, args, env)[0]


def t_terminal(c):
    """Output for people on a terminal; the same lines, plain, in a pipe."""
    out = on_tty(c, ["logs", "--limit", "2"])
    c.tap.ok(out.splitlines()[0].startswith("RECEIVED") and "\x1b[3" in out
             and "more: --before evt_" in out,
             "logs on a terminal: a header row, coloured statuses, the "
             "cursor for the next page", out)
    out = on_tty(c, ["logs", "--limit", "2"], {"NO_COLOR": "1"})
    c.tap.ok("\x1b[" not in out and out.startswith("RECEIVED"),
             "... NO_COLOR: no colour, the header still", out)
    rc, out, err = c.srv.porterctl("logs", "--limit", "2")
    c.tap.ok(rc == 0 and "\x1b[" not in out and "RECEIVED" not in out and
             len(out.splitlines()) == 3 and
             out.splitlines()[-1].startswith("more: --before evt_"),
             "... in a pipe: one line an event, no header, no colour", out)
    out = on_tty(c, ["actions", "--status", "failed", "--limit", "1"])
    c.tap.ok(out.startswith("INSERTED") and "\x1b[31mfailed" in out,
             "actions on a terminal: a header row, failed in red", out)
    r, rec = c.send("broken", {"n": 9})
    rc, out, err = c.srv.porterctl("log", rec.get("id", "?"))
    c.tap.ok(rc == 0 and "\nactions:\n" in out and
             "workflows_trigger" in out and "handler: HTTP 500" in out and
             "\nheaders:\n  " in out and "content-type: application/json"
             in out, "porterctl log: one line an action (status, run, "
             "handler, error), headers as Name: value lines", out)


def t_progress(c):
    """Long work shows progress on a terminal's stderr, nothing in a pipe."""
    text, out, rc = on_pty(c, ["load", "--source", "app", "--env",
                               "batching", "--count", "60000"],
                           stream="stderr")
    c.tap.ok(rc == 0 and "\rloading: " in text and "/s)" in text
             and b"60000 events loaded" in out,
             "porterctl load on a terminal: a count and a rate on stderr",
             text[-300:], out)
    rc, out, err = c.srv.porterctl("load", "--source", "app", "--env",
                                   "batching", "--count", "30000")
    c.tap.ok(rc == 0 and err == "", "... and nothing when stderr is a pipe",
             err)
    err, out, rc = on_pty(c, ["check"], stream="stderr")
    c.tap.ok("\rchecking events: " in err and b"events checked" in out,
             "porterctl check shows its progress on a terminal too",
             err[-200:], out)


def t_bulk_replay(c):
    """Fix the app, then replay in bulk what failed because of it."""
    failed = [c.send("broken", {"n": 100 + i})[1].get("id") for i in range(3)]
    strict = c.srv.url("/receive/%s" % c.srv.sources()[("app", "strict")])
    r = c.srv.post(strict, json.dumps({"type": "go.notify", "user": "u1",
                                       "data": {}}).encode())
    c.tap.eq(r.status, 401, "an unsigned request to the strict environment "
             "is refused (and logged rejected)", repr(r))
    rc, out, err = c.srv.porterctl("replay", "--type", "go.broken",
                                   "--status", "failed", "--dry-run",
                                   "--json")
    rep = json.loads(out) if rc == 0 else {}
    would = [e.get("event_id") for e in rep.get("would_replay") or []]
    c.tap.ok(rc == 0 and set(failed) <= set(would) and
             would == sorted(would),
             "replay --status failed --dry-run lists them, oldest first, "
             "and replays nothing", rep, err)
    fixed = config(c.port)
    fixed["workflows"]["broken"] = {"http": {"url": "http://127.0.0.1:%d/hook"
                                             % c.port, "secret": SECRET}}
    rc, out, err = c.srv.apply(fixed)
    c.tap.eq(rc, 0, "the app is fixed (broken now points at /hook)", err)
    rc, out, err = c.srv.porterctl("replay", "--type", "go.broken",
                                   "--status", "failed", "--json")
    rep = json.loads(out) if rc == 0 else {}
    done = {e.get("event_id"): e for e in rep.get("replayed") or []}
    c.tap.ok(rc == 0 and set(failed) <= set(done) and
             all(done[i].get("status") == "accepted" for i in failed) and
             not rep.get("failed"),
             "replay --status failed replays each, now accepted", rep, err)
    new = c.srv.log(done.get(failed[0], {}).get("replay_id", "?")) or {}
    c.tap.eq(new.get("replay_of"), failed[0],
             "... each a new event linked to its original", new)
    rc, out, err = c.srv.porterctl("replay", "--env", "strict", "--status",
                                   "rejected")
    c.tap.ok(rc == 0 and "skipped (1)" in out and "replayed 0" in out,
             "a rejected event is skipped, saying why", out, err)
    rc, out, err = c.srv.porterctl("replay", "--dry-run")
    c.tap.ok(rc == 2 and "filters" in err,
             "a bulk replay without a filter is a usage error", err)
    rc, tok, err = c.srv.porterctl("token", "create", "bulk")
    auth = {"Authorization": "Bearer " + tok.strip(),
            "Content-Type": "application/json"}
    r = c.srv.request("POST", c.srv.url("/admin/api/replays"),
                      json.dumps({"event_type": "go.broken",
                                  "status": "accepted", "limit": 2,
                                  "dry_run": True}).encode(), auth)
    j = r.json or {}
    c.tap.ok(r.status == 200 and len(j.get("would_replay") or []) == 2 and
             j.get("more") is True,
             "POST /admin/api/replays: a dry run, bounded by limit", repr(r))
    r = c.srv.request("POST", c.srv.url("/admin/api/replays"),
                      json.dumps({"limit": 2}).encode(), auth)
    c.tap.eq((r.status, r.error_code()), (400, "invalid_request"),
             "... a body without a filter is 400", repr(r))


def t_masked(c):
    rc, out, err = c.srv.porterctl("export")
    doc = json.loads(out) if rc == 0 else {}
    sec = (((doc.get("workflows") or {}).get("notify") or {}).get("http")
           or {}).get("secret")
    c.tap.ok(SECRET not in out and "porter-test" not in out and
             str((sec or {}).get("redacted", ""))
             .startswith("hmac:") and "value" not in
             doc["workflows"]["notify"]["http"],
             "export masks the handler's secret and header values", sec)
    rc, out, err = c.srv.apply(doc)
    c.tap.eq(rc, 0, "... and applies back as it is", err)
    r, rec = c.send("notify")
    c.tap.eq(action(rec).get("status"), "success",
             "... and the secret still signs", action(rec))


def t_apply_refuses(c):
    for what, wf, want in (
            ("http beside exec", {"http": {"url": "http://127.0.0.1:1/",
                                           "secret": SECRET},
                                  "exec": ["/bin/true"]},
             "/workflows/bad: give \"http\" or \"exec\""),
            ("a URL that is not http(s)", {"http": {"url": "ftp://x/",
                                                    "secret": SECRET}},
             "/workflows/bad/http/url"),
            ("a secret that is not whsec_", {"http": {
                "url": "http://127.0.0.1:1/", "secret": "whsec_!!"}},
             "/workflows/bad/http/secret"),
            ("a bad header", {"http": {"url": "http://127.0.0.1:1/",
                                       "secret": SECRET,
                                       "headers": {"Bad Name": "x"}}},
             "/workflows/bad/http/headers")):
        rc, out, err = c.srv.apply(config(c.port, {"bad": wf}))
        c.tap.ok(rc != 0 and want in err, "apply refuses %s" % what, err)
    rc, tok, err = c.srv.porterctl("token", "create", "http-full")
    doc = config(c.port, {"envsecret": {"http": {
        "url": "http://127.0.0.1:1/", "secret": {"env": "HOME"}}}})
    r = c.srv.request("PUT", c.srv.url("/admin/api/config"),
                      json.dumps(doc).encode(),
                      {"Authorization": "Bearer " + tok.strip(),
                       "Content-Type": "application/json"})
    c.tap.ok(r.status == 422 and "/workflows/envsecret/http/secret" in
             (r.json or {}).get("message", ""),
             "over the API an {\"env\"} secret is refused", repr(r))


def main():
    tap = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    rcv = subprocess.Popen(["python3", RECEIVER, "--secret", SECRET,
                            "--lifetime", str(WATCHDOG)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        port = int(rcv.stdout.readline().split()[0])
        with h.Server(mount=MOUNT, max_procs=1) as srv:
            rc, out, err = srv.apply(config(port))
            tap.eq(rc, 0, "a configuration with HTTP handlers applies", err)
            if rc != 0:
                return tap.done()
            c = Ctx(tap, srv, port)
            for fn in (t_delivered, t_unsigned, t_refused, t_batch,
                       t_follow, t_follow_actions, t_where, t_actions,
                       t_terminal,
                       t_bulk_replay, t_masked,
                       t_apply_refuses, t_progress):
                tap.run(fn, c)
    finally:
        rcv.stdin.close()
        rcv.wait(timeout=10)
    return tap.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
