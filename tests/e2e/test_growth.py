#!/usr/bin/env python3
"""test_growth.py - a store that grows itself, then makes room (TAP).

A real lighttpd with two responder processes on a store that starts at
1 MiB (PORTER_MAP_SIZE=1M) with "max_store_bytes" 6 MiB takes a steady
load of ~1 KB events that do not compress (random bytes in hex).  The
map grows (no 503, no responder restarting), reaches the ceiling and
stays under it; there the oldest event logs are deleted to make room --
said in the log, in `porterctl status --json` and /metrics -- and every
webhook is still accepted; `porterctl check` finds nothing wrong.

Bounded: COUNT requests over 4 connections.
"""

import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

COUNT = int(os.environ.get("PORTER_GROWTH_COUNT", "9000"))
CEILING = 6 << 20
SLACK = 256 << 10       # max(CEILING / 32, 256 KiB)
ENDPOINT = "src_dev_growth_0000001"
CONNS = 4


def config():
    return {"settings": {"durability": "relaxed",
                         "max_store_bytes": CEILING},
            "sources": [{"key": "grow", "type": "custom", "environments": {
                "development": {"endpoint_id": ENDPOINT, "verify": False,
                                "event_type_path": "body.type"}}}]}


refused = []    # the first bodies of answers that were not 200


def send(port, n):
    statuses = []
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port,
                                          timeout=h.HTTP_TIMEOUT)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                body = json.dumps({"type": "blob.sent", "n": i,
                                   "blob": os.urandom(500).hex()}).encode()
                conn.request("POST", "/receive/" + ENDPOINT, body,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                raw = r.read()
                with lock:
                    statuses.append(r.status)
                    if r.status != 200 and len(refused) < 3:
                        refused.append(raw[:300])
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=h.scaled(300))
    return statuses


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    t = h.Tap()
    h.watchdog(t, h.scaled(600))
    with h.Server(mount="/", max_procs=2,
                  env={"PORTER_MAP_SIZE": "1M"}) as srv:
        # The store is made by porterctl: 1 MiB as well.
        fn = srv.path("growth.json")
        with open(fn, "w") as f:
            json.dump(config(), f)
        rc, out, err = srv.porterctl("--map-size", "1M", "apply", fn)
        t.eq(rc, 0, "apply: a 6 MiB ceiling", out, err)
        rc, out, err = srv.porterctl("status", "--json")
        st0 = json.loads(out)
        t.ok(st0["map_size"] <= 2 << 20, "the store starts small",
             st0["map_size"])
        statuses = send(srv.port, COUNT)
        last_sent = ""
        rc, out, err = srv.porterctl("logs", "--json", "--limit", "1")
        if rc == 0 and out.strip():
            last_sent = json.loads(out.splitlines()[0])["received_at"]
        t.eq(statuses.count(200), COUNT,
             "all %d webhooks accepted (200), none refused" % COUNT,
             sorted(set(statuses)), refused)
        rc, out, err = srv.porterctl("status", "--json")
        st = json.loads(out)
        # The deletes that make room may take the map past the ceiling
        # by what they need: 1/32 of it, at least 256 KiB (store.h).
        t.ok(st0["map_size"] < st["map_size"] <= CEILING + SLACK,
             "the map grew, to no more than the ceiling (and the room "
             "deletes need)", st0["map_size"], st["map_size"])
        t.ok(st["used"] <= CEILING + SLACK, "the file stays under it",
             st["used"])
        cap = st["capacity"]
        t.ok(cap["evicted_events"] > 0 and
             st["entries"]["events"] < COUNT and
             st["entries"]["events"] + cap["evicted_events"] >= COUNT,
             "at the ceiling the oldest event logs went to make room, "
             "and status counts them", st["entries"]["events"], cap)
        t.ok(cap["ceiling"] == CEILING and cap["evicted_at"] is not None,
             "status: the ceiling and when logs were last deleted", cap)
        log = srv.log_text()
        t.ok("deleted the" in log and "oldest event logs" in log,
             "the responder's log says it deleted the oldest logs",
             log[-1500:])
        t.ok("restarting" not in log,
             "no responder restarted to map the grown store")
        rc, out, err = srv.porterctl("logs", "--json", "--limit", "1")
        newest = json.loads(out.splitlines()[0]) if out.strip() else {}
        t.ok(rc == 0 and newest.get("status") == "no_mapping" and
             newest.get("received_at", "") >= last_sent,
             "the newest events are kept", out[:300], err)
        rc, out, err = srv.porterctl("status")
        t.ok(rc == 0 and "capacity" in out and "evicted" in out,
             "porterctl status says the rate and what was deleted", out)
        rc, out, err = srv.porterctl("check")
        t.eq(rc, 0, "porterctl check: no problem", out, err)
    t.done()


if __name__ == "__main__":
    main()
