#!/usr/bin/env python3
"""test_faults.py - a full store under load, through a real lighttpd (TAP).

1. Map full: the responders run on a store that starts at 1 MiB
   (PORTER_MAP_SIZE) with a 1 MiB ceiling (settings.max_store_bytes), so
   that it cannot grow; several processes with several threads each (group
   commit), and signed (production, verify on) and unsigned (development,
   verify off) events, plus some with a wrong signature, arrive from 12
   connections at once.  Each event's workflow run is data (never deleted
   to make room) and does not compress: the store deletes its oldest event
   logs to make room until only data is left, then refuses.  Every answer
   is 2xx (401 for a wrong signature) or 503 store_full with Retry-After
   and a JSON body, each 503 has its line in the error log, healthz says
   what the senders get (503 store_full with the store's use; 200 before
   and after), new requests are still answered, every event answered 2xx
   has its run and is in the log or among the oldest logs deleted
   (porterctl status counts them), nothing answered 503 is kept, and
   porterctl check is clean.  Then the documented recovery: a higher
   max_store_bytes (porterctl apply, no restart).  The senders retry
   everything: what was refused runs now, what was accepted is an
   idempotent replay of its first event, every event's workflow run exists
   exactly once, and the store is consistent.
2. Disk full (ENOSPC): the same with a large map on a 1.5 MiB tmpfs; the
   recovery is freeing space (the tmpfs grows), with no restart.  It needs
   mount(2) (root); without it the case is skipped and says why.
3. A store that cannot be opened (plain CGI): 503 store_unavailable with a
   neutral text; the path and the reason are in the log only.
"""

import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "faults-secret-1"
EVENTS = 700            # enough to fill 1 MiB several times over
PARALLEL = 12           # connections at once
PAD = 1200              # hex digits of padding per body (no compressor
                        # shrinks them: the runs fill the store)


def config(ceiling=None):
    def env(verify):
        e = {"verify": verify, "event_type_path": "body.type",
             "idempotency": {"enabled": True, "key_path": "body.event_id"},
             "mappings": [{"event_type": "task.assigned",
                           "action": "workflows_trigger",
                           "params": {"key": "task-assigned",
                                      "recipients": "data.assigned_to",
                                      "data": "data"}}]}
        if verify:
            e["signing_keys"] = [{"secret": SECRET}]
        return e
    cfg = {"sources": [{"key": "tasks", "type": "custom", "environments": {
        "production": env(True), "development": env(False)}}]}
    if ceiling:
        cfg["settings"] = {"max_store_bytes": ceiling}
    return cfg


def pad_for(key):
    """PAD hex digits that depend only on "key" (retries send the same
    bytes) and that no compressor shrinks."""
    out, block = "", key.encode()
    while len(out) < PAD:
        block = hashlib.sha256(block).digest()
        out += block.hex()
    return out[:PAD]


def body_for(key):
    return json.dumps({"type": "task.assigned", "event_id": key,
                       "data": {"task_id": key, "assigned_to": "u-" + key,
                                "pad": pad_for(key)}}).encode()


def jobs():
    """[(key, environment, signature)]: even keys signed to production,
    odd ones unsigned to development, every 10th a wrong signature."""
    out = []
    for i in range(EVENTS):
        key = "k-%04d" % i
        if i % 10 == 9:
            out.append(("bad-%04d" % i, "production", "0" * 64))
        elif i % 2 == 0:
            out.append((key, "production", h.sign(SECRET, body_for(key))))
        else:
            out.append((key, "development", None))
    return out


def send(srv, eps, job):
    key, env, sig = job
    hdrs = {"X-Knock-Signature": sig} if sig else {}
    try:
        return srv.post(srv.url("/receive/" + eps[("tasks", env)]),
                        body_for(key), hdrs)
    except OSError as e:
        return h.Response(0, {}, str(e).encode())


def send_all(srv, eps, todo):
    """Send "todo" over PARALLEL connections; {key: Response}."""
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        res = pool.map(lambda j: (j[0], send(srv, eps, j)), todo)
        return dict(res)


def retry_after_ok(r):
    v = r.headers.get("retry-after", "")
    return v.isdigit() and int(v) > 0


def error_log_count(srv, needle):
    """Lines with "needle" in the server's logs: the responders' standard
    error is lighttpd's (lighttpd.out under -D, the error log otherwise)."""
    return sum(1 for line in srv.log_text().splitlines() if needle in line)


def health_use(r, state):
    """Is "r" a /healthz answer in "state" with the store's use?"""
    store = (r.json or {}).get("store") or {}
    return (r.json or {}).get("status") == state and \
        all(isinstance(store.get(k), int) for k in ("map_size", "used",
                                                    "room")) and \
        isinstance(store.get("map_used_percent"), (int, float))


def runs_by_key(srv):
    """{task key: number of workflow runs}."""
    rc, out, err = srv.porterctl("runs", "--json", "--limit", "100000")
    n = {}
    for run in (h.json_lines(out) if rc == 0 else []):
        k = (run.get("data") or {}).get("task_id")
        n[k] = n.get(k, 0) + 1
    return n


def evicted(srv):
    rc, out, err = srv.porterctl("status", "--json")
    return json.loads(out)["capacity"]["evicted_events"] if rc == 0 else -1


def fill(t, srv, label, ceiling=None):
    """Phase 1: load until full.  Returns ({key: Response}, todo)."""
    rc, out, err = srv.apply(config(ceiling))
    t.eq(rc, 0, "%s: config applies" % label, err)
    eps = srv.sources()
    r = srv.get(srv.url("/healthz"))
    t.ok(r.status == 200 and health_use(r, "ok"),
         "%s: healthz 200 with the store's use before the load" % label, r)
    todo = jobs()
    started = time.time()
    res = send_all(srv, eps, todo)
    t.diag("%s: %d requests in %.1f s" % (label, len(res),
                                          time.time() - started))
    good = [k for k, _, sig in todo if not k.startswith("bad-")]
    bad = [k for k, _, sig in todo if k.startswith("bad-")]
    count = {}
    for k, r in res.items():
        count[r.status] = count.get(r.status, 0) + 1
    t.diag("%s: answers %s" % (label, sorted(count.items())))
    odd = {k: r for k, r in res.items() if r.status not in (
        (200, 503) if not k.startswith("bad-") else (401, 503))}
    t.eq(odd, {}, "%s: every answer is 2xx (401 for a wrong signature) or "
         "503" % label, srv.tail())
    n200 = sum(1 for k in good if res[k].status == 200)
    n503 = sum(1 for r in res.values() if r.status == 503)
    t.ok(n200 > 0 and n503 > 0, "%s: the store filled mid-load (%d "
         "accepted, %d refused)" % (label, n200, n503))
    full = [r for r in res.values() if r.status == 503]
    t.ok(all(retry_after_ok(r) for r in full),
         "%s: every 503 has a Retry-After" % label,
         [r for r in full if not retry_after_ok(r)][:3])
    t.ok(all(r.error_code() == "store_full" and
             isinstance(r.json.get("message"), str) for r in full),
         "%s: every 503 is JSON {error: store_full, message}" % label,
         [r for r in full if r.error_code() != "store_full"][:3])
    t.ok(all((r.headers.get("content-type") or "").startswith(
        "application/json") for r in full),
         "%s: ... with Content-Type application/json" % label)
    nlog = error_log_count(srv, "503 store_full")
    t.eq(nlog, n503, "%s: one error-log line per 503" % label,
         srv.tail(5))
    # More events, until only data is left: the store refuses once no log
    # is left to delete (bounded).
    for n in range(20):
        more = send_all(srv, eps, [("drain-%d-%d" % (n, i), "development",
                                    None) for i in range(20)])
        if any(r.status == 503 for r in more.values()):
            break
    # Health says what the senders get, from either responder: each
    # healthz answer is checked against a webhook sent right after it.
    # A 200 from healthz promises the webhook goes in; a refused webhook
    # must find healthz saying 503 store_full.  Healthz asks for an
    # event's worth of room more than the last write that found none had,
    # so near full it may say 503 while a small webhook still fits (the
    # pages each write frees are reused by the next): that errs on the
    # safe side and is allowed.  Freed pages can also make room between
    # the two (a dead responder's reader slot cleared): a pair that
    # disagrees is asked again, twice at most, after a burst.
    def pair(n):
        hz = srv.get(srv.url("/healthz"))
        got = send_all(srv, eps, [("hz-%d" % n, "development", None)])
        return hz, list(got.values())[0]

    def full(hz):
        return (hz.status == 503 and hz.error_code() == "store_full" and
                retry_after_ok(hz) and health_use(hz, "full"))

    def agree(hz, wh):
        if hz.status == 503:
            return full(hz) and wh.status in (200, 503)
        return hz.status == 200 and health_use(hz, "ok") and \
            wh.status == 200
    pairs = []
    for n in range(4):
        hz, wh = pair(n)
        for again in (1, 2):
            if agree(hz, wh):
                break
            send_all(srv, eps, [("hz-%d-%d-%d" % (n, again, i),
                                 "development", None) for i in range(10)])
            hz, wh = pair(n + 10 * again)
        pairs.append((hz, wh))
    t.ok(all(agree(hz, wh) for hz, wh in pairs) and
         any(full(hz) for hz, wh in pairs),
         "%s: healthz answers what a webhook gets (503 store_full with "
         "Retry-After and the store's use while full; never 200 for a "
         "webhook refused)" % label,
         [(hz.status, hz.raw[:300], wh.status) for hz, wh in pairs])
    # The responders keep serving.
    began = time.time()
    more = send_all(srv, eps, [(k + "-more", e, None) for k, e, s in
                               todo[:20] if e == "development"])
    t.ok(all(r.status in (200, 503) for r in more.values()) and
         time.time() - began < h.scaled(10),
         "%s: new requests are still answered (%s)" % (
             label, sorted({r.status for r in more.values()})))
    # Every event answered 2xx has its run (data is never deleted) and is
    # in the log, or its log was among the oldest deleted to make room;
    # nothing answered 503 is kept.
    logs = srv.logs("--limit", "100000")
    ids = {rec["id"] for rec in logs}
    answered = {r.json.get("id") for r in res.values() if r.status == 200}
    gone = answered - ids
    n_evicted = evicted(srv)
    t.ok(len(gone) <= n_evicted and (not gone or not (answered & ids) or
                                     max(gone) < min(answered & ids)),
         "%s: every event answered 2xx is in the log, or among the %d "
         "oldest logs deleted to make room (%d of them)" % (
             label, n_evicted, len(gone)))
    runs = runs_by_key(srv)
    t.ok(all(runs.get(k) == 1 for k in good if res[k].status == 200),
         "%s: every event answered 2xx has its workflow run" % label)
    keys_logged = {(rec.get("idempotency") or {}).get("key") for rec in logs}
    refused = {k for k in good if res[k].status == 503}
    t.eq(refused & keys_logged, set(), "%s: nothing answered 503 was kept"
         % label)
    rejected = [rec for rec in logs if rec.get("status") == "rejected"]
    n401 = sum(1 for k in bad if res[k].status == 401)
    t.ok(len(rejected) == n401 or (n_evicted > 0 and len(rejected) <= n401),
         "%s: each 401 logged as rejected (%d), or among the logs deleted "
         "to make room" % (label, len(rejected)))
    rc, out, err = srv.porterctl("check")
    t.eq(rc, 0, "%s: porterctl check with the store full: consistent" %
         label, out, err)
    return res, todo, eps


def recover(t, srv, label, res, todo, eps):
    """Phase 2: the senders retry everything after the operator's fix."""
    good = [j for j in todo if not j[0].startswith("bad-")]
    first = {k: r.json.get("id") for k, r in res.items() if r.status == 200}
    again = send_all(srv, eps, todo)
    odd = {k: r for k, r in again.items()
           if r.status != (401 if k.startswith("bad-") else 200)}
    t.eq(odd, {}, "%s: after recovery every retry is answered (200; 401 "
         "for a wrong signature)" % label, srv.tail(5))
    dup = [k for k, _, _ in good if k in first]
    new = [k for k, _, _ in good if k not in first]
    t.ok(all(again[k].json.get("idempotent") is True and
             again[k].json.get("original_event_id") == first[k]
             for k in dup if again[k].status == 200),
         "%s: the %d accepted before are idempotent replays of their first "
         "event" % (label, len(dup)))
    t.ok(all(again[k].json.get("status") == "accepted" and
             not again[k].json.get("idempotent")
             for k in new if again[k].status == 200),
         "%s: the %d refused before are accepted now" % (label, len(new)))
    # What ran is told by the runs (data, kept) rather than the logs,
    # some of which went to make room.
    runs = runs_by_key(srv)
    want = {k for k, _, _ in good}
    t.eq({k for k in want if runs.get(k, 0) > 1}, set(),
         "%s: no event executed twice" % label)
    t.eq({k for k in want if runs.get(k, 0) == 0}, set(),
         "%s: every event executed" % label)
    t.ok(sum(runs.get(k, 0) for k in want) == len(want),
         "%s: exactly one workflow run per event (%d runs for %d events)" %
         (label, sum(runs.get(k, 0) for k in want), len(want)))
    rc, out, err = srv.porterctl("check")
    t.eq(rc, 0, "%s: porterctl check after recovery: consistent" % label,
         out, err)
    hz = [srv.get(srv.url("/healthz")) for _ in range(4)]
    t.ok(all(r.status == 200 and health_use(r, "ok") for r in hz),
         "%s: healthz 200 again after recovery" % label,
         [(r.status, r.raw[:300]) for r in hz])


def map_full(t):
    env = {"PORTER_MAP_SIZE": "1M", "PORTER_THREADS": "4"}
    with h.Server(mount="/", max_procs=2, env=env) as srv:
        res, todo, eps = fill(t, srv, "map full", ceiling=1 << 20)
        # The documented recovery: a higher ceiling, no restart.
        rc, out, err = srv.apply(config(64 << 20))
        t.eq(rc, 0, "map full: a 64 MiB ceiling applies", err)
        recover(t, srv, "map full", res, todo, eps)


def disk_full(t):
    mount = h.which("mount")
    umount = h.which("umount")
    srv = h.Server(mount="/", max_procs=2, env={"PORTER_MAP_SIZE": "256M",
                                                "PORTER_THREADS": "4"})
    mounted = False
    try:
        if os.geteuid() != 0 or mount is None:
            t.skip("disk full (ENOSPC)", "needs root to mount a tmpfs")
            return
        p = subprocess.run([mount, "-t", "tmpfs", "-o", "size=1536k,mode=700",
                            "porter-e2e", srv.db], capture_output=True,
                           timeout=10)
        if p.returncode != 0:
            t.skip("disk full (ENOSPC)", "cannot mount a tmpfs: %s" %
                   p.stderr.decode(errors="replace").strip())
            return
        mounted = True
        srv.start()
        res, todo, eps = fill(t, srv, "disk full")
        # Recovery: the operator frees space; no restart.
        p = subprocess.run([mount, "-o", "remount,size=64m", srv.db],
                           capture_output=True, timeout=10)
        t.eq(p.returncode, 0, "disk full: the tmpfs grows", p.stderr)
        recover(t, srv, "disk full", res, todo, eps)
    finally:
        h._stop(srv.proc, "lighttpd")
        srv.proc = None
        if mounted:
            subprocess.run([umount, srv.db], capture_output=True, timeout=10)
        srv.close()


def store_unavailable(t):
    """A store that cannot be opened: the client gets 503 and a neutral
    text; the reason, with its path, goes to the log only."""
    wd = h.Workdir()
    try:
        blocker = wd.path("not-a-directory")
        with open(blocker, "w"):
            pass
        bad = os.path.join(blocker, "db")
        env = h.cgi_environ("POST", "/receive/src_x", bad, body_len=2,
                            content_type="application/json",
                            path_info="/receive/src_x")
        r, rc, err = h.run_cgi(env, b"{}")
        t.eq((r.status, r.error_code()), (503, "store_unavailable"),
             "store unavailable: 503 store_unavailable", r, err)
        msg = (r.json or {}).get("message") or ""
        t.ok(msg and blocker not in msg and "PORTER_DB" not in msg,
             "  ... the client is not told the path", msg)
        t.ok(blocker in err, "  ... the log line is", err)
    finally:
        wd.close()


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    t.run(map_full, t)
    t.run(disk_full, t)
    t.run(store_unavailable, t)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 240)       # seconds (plain build; scaled)
    sys.exit(main())
