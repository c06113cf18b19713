#!/usr/bin/env python3
"""test_idempotency.py - exactly-once through a real lighttpd (TAP).

1. Concurrency: 200 distinct idempotency keys, each delivered 5 times in
   parallel from 4 client processes (8 connections each) to lighttpd with 4
   FastCGI processes (each with several threads and group commit): exactly
   200 executions and 800 "idempotent" logs, verified from the store.
2. Crash: the same under load while FastCGI workers are killed with
   SIGKILL again and again (lighttpd restarts them).  Each of the 4
   processes runs PORTER_THREADS=4 serving threads sharing group commits
   (checked in /proc), so a kill takes down several requests in the same
   batch.  Clients retry what was
   not answered 2xx, as webhook senders do.  Afterwards every event that was
   answered 2xx is in the log, no key executed twice, and porterctl check
   finds the store consistent.
"""

import http.client
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "idem-secret-1"
KEYS = 200
COPIES = 5
CLIENTS = 4
CONNS = 8
CRASH_SECONDS = 8
KILLS = 5               # SIGKILLs at least, during the crash test's load
CRASH_THREADS = 4       # PORTER_THREADS of each responder in the crash test


def config():
    return {"sources": [{"key": "orders", "type": "custom", "environments": {
        "production": {
            "verify": True, "signing_keys": [{"secret": SECRET}],
            "event_type_path": "body.type",
            "idempotency": {"enabled": True, "key_path": "body.event_id"},
            "mappings": [{"event_type": "order.paid",
                          "action": "workflows_trigger",
                          "params": {"key": "receipt",
                                     "recipients": "data.customer",
                                     "data": "data"}}]}}}]}


def body_for(key):
    return json.dumps({"type": "order.paid", "event_id": key,
                       "data": {"customer": "c-" + key, "amount": 42}}
                      ).encode()


def deliver(args):
    """One client process: deliver (key, copy) pairs over CONNS threads,
    retrying anything not answered 2xx (like a sender) up to "tries"
    times.  Returns [(key, status, body)] of the final answers."""
    port, path, jobs, tries = args
    # A forked client must not stop the server when it exits.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    del h._live[:]
    out = []
    lock = threading.Lock()
    queue = list(jobs)

    def worker():
        conn = None
        while True:
            with lock:
                if not queue:
                    break
                key = queue.pop()
            body = body_for(key)
            hdrs = {"Content-Type": "application/json",
                    "X-Knock-Signature": h.sign(SECRET, body)}
            status, text = 0, ""
            for attempt in range(tries):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(
                            "127.0.0.1", port, timeout=h.scaled(20))
                    conn.request("POST", path, body, hdrs)
                    r = conn.getresponse()
                    status, text = r.status, r.read().decode()
                    if r.getheader("connection", "").lower() == "close":
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException) as e:
                    status, text = 0, str(e)
                    if conn is not None:
                        conn.close()
                    conn = None
                if 200 <= status < 300:
                    break
                time.sleep(0.05 * (attempt + 1))
            with lock:
                out.append((key, status, text))
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def run_load(srv, ep, keys, copies, tries):
    jobs = [k for k in keys for _ in range(copies)]
    random.shuffle(jobs)
    chunks = [jobs[i::CLIENTS] for i in range(CLIENTS)]
    path = srv.url("/receive/" + ep)
    pool = multiprocessing.Pool(CLIENTS)
    try:
        results = pool.map(deliver, [(srv.port, path, c, tries)
                                     for c in chunks])
    finally:
        pool.close()
        pool.join()
    return [x for part in results for x in part]


def store_view(srv):
    """(executions per key, idempotent per key, all event ids, runs)."""
    logs = srv.logs("--source", "orders", "--env", "production",
                    "--limit", "100000")
    executed, replayed = {}, {}
    for rec in logs:
        key = (rec.get("idempotency") or {}).get("key")
        st = rec.get("status")
        if st == "accepted":
            executed[key] = executed.get(key, 0) + 1
        elif st == "idempotent":
            replayed[key] = replayed.get(key, 0) + 1
    rc, out, err = srv.porterctl("runs", "--json", "--limit", "100000")
    runs = h.json_lines(out) if rc == 0 else []
    return executed, replayed, {r["id"] for r in logs}, runs


def workers(lighttpd_pid):
    """pids of porter.fcgi processes lighttpd spawned."""
    r = subprocess.run(["pgrep", "-P", str(lighttpd_pid), "-f",
                        "porter.fcgi"], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def threads_of(pid):
    """Threads of process "pid" (0 when it is gone)."""
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0


def concurrency(t):
    with h.Server(mount="/", max_procs=4) as srv:
        rc, out, err = srv.apply(config())
        t.eq(rc, 0, "config applies", err)
        ep = srv.sources()[("orders", "production")]
        keys = ["key-%03d" % i for i in range(KEYS)]
        started = time.time()
        res = run_load(srv, ep, keys, COPIES, 1)
        t.diag("%d requests in %.1f s" % (len(res), time.time() - started))
        statuses = {}
        for _, st, _ in res:
            statuses[st] = statuses.get(st, 0) + 1
        t.eq(statuses, {200: KEYS * COPIES},
             "every delivery answered 200 (%d)" % (KEYS * COPIES))
        answered = [json.loads(b) for _, st, b in res if st == 200]
        t.eq(sum(1 for a in answered if a.get("status") == "accepted"), KEYS,
             "exactly %d answers say accepted" % KEYS)
        t.eq(sum(1 for a in answered if a.get("idempotent")),
             KEYS * (COPIES - 1), "and %d say idempotent" %
             (KEYS * (COPIES - 1)))
        executed, replayed, ids, runs = store_view(srv)
        t.eq(sum(executed.values()), KEYS,
             "the store holds exactly %d executions" % KEYS)
        t.eq(sorted(executed), sorted(keys), "  ... one per key")
        t.eq(sum(replayed.values()), KEYS * (COPIES - 1),
             "  ... and %d idempotent logs" % (KEYS * (COPIES - 1)))
        t.eq(len(runs), KEYS, "  ... and %d workflow runs" % KEYS)
        t.ok(all(a.get("id") in ids for a in answered),
             "every answered id is in the log")
        rc, out, err = srv.porterctl("check")
        t.eq(rc, 0, "porterctl check: consistent", out, err)


def crash(t):
    env = {"PORTER_THREADS": str(CRASH_THREADS)}
    with h.Server(mount="/", max_procs=4, env=env) as srv:
        rc, out, err = srv.apply(config())
        ep = srv.sources()[("orders", "production")]
        # Serving threads + the committer, once each worker is up (a
        # slow start is not a failure: poll to a bound).
        deadline = time.time() + h.START_TIMEOUT
        while True:
            pids = workers(srv.proc.pid)
            nthreads = [threads_of(p) for p in pids]
            if (len(pids) == 4 and all(n >= CRASH_THREADS + 1
                                       for n in nthreads)) or \
                    time.time() > deadline:
                break
            time.sleep(0.1)
        t.ok(len(pids) == 4 and all(n >= CRASH_THREADS + 1
                                    for n in nthreads),
             "4 responders with %d serving threads and a committer each "
             "(threads: %s)" % (CRASH_THREADS, nthreads))
        keys = ["crash-%03d" % i for i in range(100)]
        stop = threading.Event()
        kills = [0]

        def killer():
            while not stop.is_set():
                pids = workers(srv.proc.pid)
                if pids:
                    try:
                        os.kill(random.choice(pids), signal.SIGKILL)
                        kills[0] += 1
                    except ProcessLookupError:
                        pass
                stop.wait(0.1)

        kt = threading.Thread(target=killer)
        kt.start()
        res = []
        try:
            # Rounds of fresh keys (3 copies each) for CRASH_SECONDS, and
            # on until the killer got in five kills: a loaded machine
            # respawns workers slowly (bounded, so a hang still fails).
            deadline = time.time() + CRASH_SECONDS
            bound = time.time() + h.scaled(CRASH_SECONDS * 8)
            rnd = 0
            while time.time() < deadline or (kills[0] < KILLS and
                                             time.time() < bound):
                res += run_load(srv, ep, ["%s-r%d" % (k, rnd) for k in keys],
                                3, 40)
                rnd += 1
        finally:
            stop.set()
            kt.join()
        t.diag("%d rounds, %d deliveries" % (rnd, len(res)))
        t.diag("%d workers killed with SIGKILL during the load" % kills[0])
        t.ok(kills[0] >= KILLS, "workers were killed repeatedly (%d)" %
             kills[0])
        ok2xx = [(k, json.loads(b)) for k, st, b in res if st == 200]
        t.ok(len(ok2xx) >= len(res) * 0.95,
             "senders' retries got through (%d of %d answered 2xx)" %
             (len(ok2xx), len(res)))
        # Let lighttpd settle, then look at the store.
        time.sleep(1)
        executed, replayed, ids, runs = store_view(srv)
        missing = [a["id"] for _, a in ok2xx if a.get("id") not in ids]
        t.eq(missing, [], "every event answered 2xx is in the log")
        twice = {k: n for k, n in executed.items() if n > 1}
        t.eq(twice, {}, "no key executed twice")
        got = {k for k, a in ok2xx}
        t.ok(got <= set(executed), "every key answered 2xx was executed")
        t.eq(len(runs), sum(executed.values()),
             "one workflow run per execution")
        rc, out, err = srv.porterctl("check")
        t.eq(rc, 0, "porterctl check after the kills: consistent", out, err)


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("pgrep") is None:
        h.skip_all("pgrep (procps) not installed")
    t.run(concurrency, t)
    t.run(crash, t)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 600)       # seconds (plain build; scaled)
    sys.exit(main())
