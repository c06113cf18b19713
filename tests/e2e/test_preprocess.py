#!/usr/bin/env python3
"""test_preprocess.py - preprocess scripts and variables through a real
lighttpd (TAP).

One lighttpd (lighttpd.conf.example, Porter over FastCGI under /porter)
with one custom source and four environments, each with a preprocess
script (porter.conf(5) "Preprocess scripts"):

  production  Knock's default custom-source check (x-webhook-secret equal
              to the variable HOOK_SECRET), "verify": true, the event type
              and an amount in cents computed by the script and read by
              event_type_path, a mapping's parameter and its filter;
              {"skip": true} for test events
  faulty      a script that throws for body.boom and runs forever for
              body.loop (timeout_ms 200)
  hog         the same script, which allocates 64 MB for body.hog
              (memory_kb 1024)
  shaped      no verification, a script that only reshapes

Checked: verified, refused (401 script_not_verified) and skipped events,
each logged as it should be; the script's output on the event, in
`porterctl log` and in the mapping's effect; the variable's value never
in the log, an export or the config API; a throwing script answers 500
with its error and line and is logged with the body; an endless one is
stopped at its timeout while the responder serves other requests; a
memory hog is stopped at its budget; apply refuses a script that does
not compile, naming its line, and keeps the configuration; rehearse
(porterctl and the API) shows the script's output; a plain CGI process
runs scripts too; a replay runs the script again.  All of it twice: with
scripts on the request's thread (PORTER_SCRIPT_ISOLATION=thread, the
default; no helper process exists) and in the sandboxed worker processes
(=process).

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_preprocess.py
"""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 900 if h.VALGRIND else 240   # seconds for the whole file
MOUNT = "/porter"
SECRET = "whsec-variable-7Hq2xLp9"

KNOCK = """function main(ctx) {
  var ok = ctx.headers["x-webhook-secret"] === ctx.vars.HOOK_SECRET;
  if (ctx.body.test) return { verified: ok, skip: true };
  return {
    verified: ok,
    event_type: ctx.body.kind + "." + ctx.body.action,
    cents: Math.round(ctx.body.amount * 100)
  };
}
"""

FAULTY = """function main(ctx) {
  if (ctx.body.boom)
    throw new Error("boom " + ctx.body.boom);
  if (ctx.body.loop)
    for (;;) {}
  if (ctx.body.hog) {
    var a = [];
    for (;;) a.push(new Array(4096).join("x") + a.length);
  }
  return { event_type: "ok" };
}
"""

SHAPED = """function main(ctx) {
  return { event_type: "shaped." + ctx.body.t, n: ctx.body.items.length };
}
"""


def obj_mapping(event_type, coll, props, flt=None):
    m = {"event_type": event_type, "action": "objects_set",
         "params": {"collection": {"value": coll}, "id": "body.id",
                    "properties": props}}
    if flt is not None:
        m["filter"] = flt
    return m


def config(extra_env=None):
    envs = {
        "production": {
            "verify": True,
            "preprocess": {"script": KNOCK},
            "event_type_path": "preprocess.event_type",
            "mappings": [
                obj_mapping("invoice.paid", "invoices",
                            {"cents": "preprocess.cents"}),
                obj_mapping("invoice.paid", "big",
                            {"cents": "preprocess.cents"},
                            {"preprocess": {"cents": {"$gte": 100000}}}),
            ],
        },
        "faulty": {
            "verify": False,
            "preprocess": {"script": FAULTY, "timeout_ms": 200},
            "event_type_path": "preprocess.event_type",
            "mappings": [obj_mapping("ok", "faulty", {"x": "body.x"})],
        },
        # Its own timeout, and a small cap reached early: a loaded
        # machine (ASan's slow allocations) must not turn the memory error
        # into a timeout.
        "hog": {
            "verify": False,
            "preprocess": {"script": FAULTY, "timeout_ms": 1000,
                           "memory_kb": 256},
            "event_type_path": "preprocess.event_type",
        },
        "shaped": {
            "verify": False,
            "preprocess": {"script": SHAPED},
            "event_type_path": "preprocess.event_type",
            "mappings": [obj_mapping("shaped.a", "shaped",
                                     {"n": "preprocess.n"})],
        },
    }
    envs.update(extra_env or {})
    return {"variables": {"HOOK_SECRET": SECRET},
            "sources": [{"key": "app", "type": "custom",
                         "environments": envs}]}


class Ctx:
    def __init__(self, tap, srv):
        self.tap = tap
        self.srv = srv
        src = srv.sources()
        self.paths = {e: srv.url("/receive/%s" % src[("app", e)])
                      for e in ("production", "faulty", "hog", "shaped")}

    def send(self, env, body, headers=None):
        r = self.srv.post(self.paths[env], json.dumps(body).encode(),
                          headers)
        rid = (r.json or {}).get("id") or \
            ((r.json or {}).get("message") or "").rpartition("event ")[2] \
            .rstrip(")")
        rec = self.srv.log(rid) if rid else None
        return r, rec or {}

    def object(self, coll, oid):
        rc, out, err = self.srv.porterctl("objects", coll, oid, "--json")
        return json.loads(out) if rc == 0 and out.strip() else None


def invoice(oid, amount, **kw):
    body = {"kind": "invoice", "action": "paid", "id": oid,
            "amount": amount}
    body.update(kw)
    return body


def props(o):
    return (o or {}).get("properties", o or {})


def t_verified(c):
    r, rec = c.send("production", invoice("in_1", 12.34),
                    {"X-Webhook-Secret": SECRET})
    c.tap.eq((r.status, rec.get("status"), rec.get("event_type")),
             (200, "accepted", "invoice.paid"),
             "a request the script verifies is accepted, typed by "
             "preprocess.event_type", repr(r))
    c.tap.eq((rec.get("verification") or {}).get("status"),
             "enforced:verified", "... its verification is the script's",
             rec.get("verification"))
    c.tap.eq(rec.get("preprocess"),
             {"event_type": "invoice.paid", "cents": 1234},
             "... the log keeps the script's output (not verified/skip)",
             rec)
    c.tap.eq(props(c.object("invoices", "in_1")).get("cents"), 1234,
             "... a parameter read preprocess.cents")
    c.tap.eq(c.object("big", "in_1"), None,
             "... and a filter on preprocess.cents kept the other mapping "
             "from running")
    text = json.dumps(rec)
    c.tap.ok(SECRET not in text and
             (rec.get("headers") or {}).get("x-webhook-secret") ==
             "[redacted]", "... the header holding the variable is redacted "
             "in the log", rec.get("headers"))
    rc, out, err = c.srv.porterctl("log", rec.get("id", "?"))
    c.tap.ok(rc == 0 and "preprocess" in out and "1234" in out and
             SECRET not in out, "porterctl log shows the script's output",
             out, err)
    r, rec = c.send("production", invoice("in_2", 2000),
                    {"X-Webhook-Secret": SECRET})
    c.tap.ok(props(c.object("big", "in_2")).get("cents") == 200000,
             "a filter on preprocess.cents that matches runs its mapping",
             rec.get("action_logs"))


def t_refused(c):
    for what, hdrs in (("a wrong", {"X-Webhook-Secret": "nope"}),
                       ("no", None)):
        r, rec = c.send("production", invoice("in_bad", 5), hdrs)
        c.tap.eq((r.status, r.error_code(), rec.get("status")),
                 (401, "script_not_verified", "rejected"),
                 "%s secret: 401 script_not_verified, logged rejected" % what,
                 repr(r))
        c.tap.eq((rec.get("verification") or {}).get("reason"),
                 "script_not_verified", "... the log says why",
                 rec.get("verification"))
        c.tap.eq(rec.get("response"), {"status": 401, "error":
                                       "script_not_verified",
                                       "retry_after": None},
                 "... and what the sender was answered", rec)
    c.tap.eq(c.object("invoices", "in_bad"), None,
             "... and nothing ran")


def t_skip(c):
    r, rec = c.send("production", invoice("in_t", 1, test=True),
                    {"X-Webhook-Secret": SECRET})
    c.tap.eq((r.status, (r.json or {}).get("status"), rec.get("status")),
             (200, "ignored", "ignored"),
             "{skip: true}: 200, logged as ignored", repr(r))
    c.tap.eq((rec.get("action_logs") or [], c.object("invoices", "in_t")),
             ([], None), "... no action ran")


def t_throws(c):
    body = invoice("f_1", 1, boom="bang")
    r, rec = c.send("faulty", body)
    msg = (r.json or {}).get("message", "")
    c.tap.eq((r.status, r.error_code()), (500, "script_error"),
             "a throwing script answers 500 script_error (the sender "
             "retries)", repr(r))
    c.tap.ok("Error: boom bang at line 3" in msg,
             "... naming the error and its line", msg)
    c.tap.eq((rec.get("status"), (rec.get("error") or {}).get("code"),
              (rec.get("response") or {}).get("status")),
             ("script_failed", "script_error", 500),
             "... logged as script_failed, with the 500 it answered", rec)
    c.tap.ok("boom bang at line 3" in (rec.get("error") or {}).get(
             "message", "") and rec.get("body") == body,
             "... with the error and the body as received", rec)


def t_endless(c):
    result = {}

    def loop():
        t0 = time.monotonic()
        result["r"], _ = c.send("faulty", invoice("f_2", 1, loop=True))
        result["t"] = time.monotonic() - t0
    th = threading.Thread(target=loop)
    th.start()
    time.sleep(0.05)
    served = []
    deadline = time.monotonic() + h.scaled(10)
    while th.is_alive() and time.monotonic() < deadline:
        r, rec = c.send("shaped", {"t": "a", "id": "s_%d" % len(served),
                                   "items": [1, 2]})
        served.append(r.status)
        if len(served) >= 3:
            break
    th.join(h.scaled(20))
    r = result.get("r")
    c.tap.eq((r.status, r.error_code()) if r else None,
             (500, "script_timeout"),
             "an endless script is stopped: 500 script_timeout", repr(r))
    c.tap.ok(r is not None and result["t"] < h.scaled(5),
             "... within its timeout (200 ms) and the round trip",
             result.get("t"))
    c.tap.ok(served and all(s == 200 for s in served),
             "... while it ran, other requests were served", served)
    r, rec = c.send("faulty", invoice("f_3", 1, x=7))
    c.tap.eq((r.status, props(c.object("faulty", "f_3")).get("x")),
             (200, 7), "the next run of that script works", repr(r))


def t_memory(c):
    r, rec = c.send("hog", invoice("f_4", 1, hog=True))
    c.tap.eq((r.status, r.error_code(), rec.get("status")),
             (500, "script_memory", "script_failed"),
             "a script allocating past memory_kb: 500 script_memory",
             repr(r))


def t_shaped(c):
    r, rec = c.send("shaped", {"t": "a", "id": "s_x", "items": [1, 2, 3]})
    c.tap.eq((r.status, rec.get("event_type"),
              props(c.object("shaped", "s_x")).get("n")),
             (200, "shaped.a", 3),
             "a script that only reshapes: typed and mapped from its keys",
             repr(r))
    c.tap.eq((rec.get("verification") or {}).get("status"),
             "not_enforced:unsigned",
             "... unsigned, as it said nothing of verification",
             rec.get("verification"))


def t_secrets_masked(c):
    rc, out, err = c.srv.porterctl("export")
    doc = json.loads(out) if rc == 0 else {}
    red = ((doc.get("variables") or {}).get("HOOK_SECRET") or {})
    c.tap.ok(SECRET not in out and str(red.get("redacted", "")).
             startswith("hmac:"), "export masks a variable",
             (doc.get("variables"), err))
    rc, again, err = c.srv.apply(doc)
    c.tap.eq(rc, 0, "... and the export applies back as it is", err)
    rc, tok, err = c.srv.porterctl("token", "create", "pre-ro",
                                   "--read-only")
    r = c.srv.get(c.srv.url("/admin/api/config"),
                  {"Authorization": "Bearer " + tok.strip()})
    c.tap.ok(r.status == 200 and SECRET.encode() not in r.raw,
             "the config API masks it too", repr(r))
    r, rec = c.send("production", invoice("in_3", 1),
                    {"X-Webhook-Secret": SECRET})
    c.tap.eq(r.status, 200, "... and the variable still verifies", repr(r))


def t_apply_refuses(c):
    bad = config({"broken": {
        "verify": False,
        "preprocess": {"script": "function main(ctx) {\n  return 1 +;\n}\n"}}})
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "/environments/broken/preprocess/script: line 2"
             in err, "apply refuses a script that does not compile, "
             "naming its line", err)
    bad = config({"broken": {
        "verify": False, "preprocess": {"script": "var x = 1;"}}})
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "main" in err, "... and one without main", err)
    bad = config({"broken": {
        "verify": False, "preprocess": {"script": "function main(c) "
                                        "{ return {}; }",
                                        "timeout_ms": 5000}}})
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "preprocess/timeout_ms" in err,
             "... and a timeout above 1000 ms", err)
    bad = config()
    bad["variables"] = {"1BAD": "x"}
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "/variables/1BAD" in err,
             "... and a bad variable name", err)
    r, rec = c.send("production", invoice("in_4", 1),
                    {"X-Webhook-Secret": SECRET})
    c.tap.eq(r.status, 200, "the configuration it had still serves",
             repr(r))
    rc, tok, err = c.srv.porterctl("token", "create", "pre-full")
    bad = config({"broken": {
        "verify": False, "preprocess": {"script": "function main( {"}}})
    r = c.srv.request("PUT", c.srv.url("/admin/api/config"),
                      json.dumps(bad).encode(),
                      {"Authorization": "Bearer " + tok.strip(),
                       "Content-Type": "application/json"})
    c.tap.ok(r.status == 422 and "preprocess/script: line 1" in
             (r.json or {}).get("message", ""),
             "PUT /admin/api/config refuses it too (422, the line)",
             repr(r))


def t_rehearse(c):
    fn = c.srv.path("in_r.json")
    with open(fn, "w") as f:
        json.dump(invoice("in_r", 3000), f)
    rc, out, err = c.srv.porterctl("rehearse", "--source", "app", "--env",
                                   "production", "--body", fn, "--header",
                                   "X-Webhook-Secret: " + SECRET, "--json")
    j = json.loads(out) if rc == 0 else {}
    pre = j.get("preprocess") or {}
    c.tap.eq((pre.get("verified"), (pre.get("output") or {}).get("cents"),
              j.get("event_type"),
              [m.get("status") for m in j.get("mappings") or []]),
             (True, 300000, "invoice.paid", ["ok", "ok"]),
             "porterctl rehearse runs the script: its verdict, output, the "
             "type and filters read from it", (j, err))
    rc, tok, err = c.srv.porterctl("token", "create", "pre-rh",
                                   "--read-only")
    r = c.srv.post(c.srv.url("/admin/api/sources/app/rehearse"),
                   json.dumps({"environment": "faulty",
                               "payload": {"body": {"boom": "x"}}}).encode(),
                   {"Authorization": "Bearer " + tok.strip()})
    j = r.json or {}
    c.tap.eq((r.status, j.get("status"),
              ((j.get("preprocess") or {}).get("error") or {}).get("code")),
             (200, "script_failed", "script_error"),
             "the rehearse API shows a script's error", repr(r))


def t_cgi(c):
    """A plain CGI process starts its script worker when a script runs,
    under the responder's seccomp filter."""
    body = json.dumps(invoice("in_cgi", 1)).encode()
    ep = c.paths["production"].rpartition("/")[2]
    env = h.cgi_environ("POST", "/receive/" + ep, c.srv.db,
                        body_len=len(body), content_type="application/json",
                        headers={"X-Webhook-Secret": SECRET},
                        path_info="/receive/" + ep)
    r, rc, err = h.run_cgi(env, body)
    c.tap.eq((r.status, (r.json or {}).get("status")), (200, "accepted"),
             "as plain CGI, a request the script verifies is accepted",
             repr(r), err)
    env["HTTP_X_WEBHOOK_SECRET"] = "wrong"
    r, rc, err = h.run_cgi(env, body)
    c.tap.eq((r.status, r.error_code()), (401, "script_not_verified"),
             "... and one it does not verify is refused", repr(r), err)


def t_replay(c):
    r, rec = c.send("shaped", {"t": "a", "id": "s_r", "items": [1]})
    rc, out, err = c.srv.porterctl("replay", rec.get("id", "?"))
    c.tap.ok(rc == 0, "porterctl replay of an event with a script", out,
             err)
    logs = c.srv.logs()
    new = [e for e in logs if e.get("replay_of") == rec.get("id")]
    c.tap.eq([(e.get("status"), (e.get("preprocess") or {}).get("n"))
              for e in new][:1], [("accepted", 1)],
             "... ran the script again: its output is on the new event",
             new)


def _ppid(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def t_isolation(c, isolation):
    """Where the responders ran the scripts: helper processes named
    porter-script (worker, zygote, responder, this server's lighttpd)
    exist only with PORTER_SCRIPT_ISOLATION=process."""
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "porter-script" and \
                _ppid(_ppid(_ppid(pid))) == c.srv.proc.pid:
            kids.append(pid)
    if isolation == "process":
        c.tap.ok(len(kids) > 0, "isolation=process: script worker "
                 "processes run the scripts", kids)
    else:
        c.tap.eq(kids, [], "isolation=thread: no script worker process")


def main():
    tap = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    # Every case where scripts run by default (on the request's thread),
    # then again in the sandboxed worker processes.
    for isolation in ("thread", "process"):
        tap.diag("PORTER_SCRIPT_ISOLATION=" + isolation)
        env = {"PORTER_SCRIPT_ISOLATION": isolation}
        with h.Server(mount=MOUNT, max_procs=2, env=env) as srv:
            rc, out, err = srv.apply(config())
            tap.eq(rc, 0, "a source with preprocess scripts applies", err)
            if rc != 0:
                return tap.done()
            c = Ctx(tap, srv)
            # The memory case before the endless one: under a loaded ASan
            # build a pool that has just lost a worker was seen to take
            # the whole second (see the issue note).
            for fn in (t_verified, t_refused, t_skip, t_throws, t_memory,
                       t_endless, t_shaped, t_secrets_masked,
                       t_apply_refuses, t_rehearse, t_cgi, t_replay):
                tap.run(fn, c)
            t_isolation(c, isolation)
    return tap.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
