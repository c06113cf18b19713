#!/usr/bin/env python3
"""test_clients.py - slow and hostile clients against a real lighttpd (TAP).

lighttpd.conf.example bounds them (its comments and the README's "Slow and
hostile clients" say how); this checks that it does, with one responder
process of one thread, so that a wedged responder shows at once:

1. A 200-byte body trickled a byte every 15 ms is accepted, and requests on
   other connections are answered meanwhile, each within a second.
2. A client that stops sending mid-body is cut off by server.max-read-idle
   (lowered to 2 s in a copy of the example), nothing is logged, and the
   responder answers meanwhile and afterwards.
3. Connections dropped mid-body (Content-Length larger than what is sent,
   then close): nothing is logged, no worker is stuck; also with the body
   streamed to the responder (server.stream-request-body = 2), where
   Porter itself sees the short body.
4. 1,000 connections at once: lighttpd holds at most server.max-connections
   (lowered to 200 in a copy), healthz is answered during the flood with the
   example's limits, and within a few seconds after it; no extra responders
   were started.

Everything on 127.0.0.1, every wait bounded.
"""

import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "clients-secret-1"
FLOOD = 1000


def config():
    return {"sources": [{"key": "tasks", "type": "custom", "environments": {
        "production": {"verify": True, "signing_keys": [{"secret": SECRET}],
                       "event_type_path": "body.type"}}}]}


def body_for(n, size=None):
    b = {"type": "task.assigned", "n": n, "pad": ""}
    raw = json.dumps(b).encode()
    if size is not None and len(raw) < size:
        b["pad"] = "x" * (size - len(raw))
        raw = json.dumps(b).encode()
    return raw


def variant_conf(srv, name, changes):
    """A copy of lighttpd.conf.example with "changes" [(old, new)] made;
    each "old" must be in the example (so that this test notices when the
    example changes)."""
    with open(h.LIGHTTPD_CONF) as f:
        text = f.read()
    for old, new in changes:
        if old not in text:
            raise RuntimeError("lighttpd.conf.example has no %r" % old)
        text = text.replace(old, new)
    fn = srv.path(name)
    with open(fn, "w") as f:
        f.write(text)
    return fn


def start(conf_changes=None, name="lighttpd.conf"):
    env = {"PORTER_THREADS": "1"}
    srv = h.Server(mount="/", max_procs=1, env=env)
    if conf_changes:
        srv.conf = variant_conf(srv, name, conf_changes)
    srv.start()
    rc, out, err = srv.apply(config())
    if rc != 0:
        raise RuntimeError("apply: %s" % err)
    srv.ep_path = srv.url("/receive/" + srv.sources()[("tasks",
                                                       "production")])
    return srv


def head(srv, body, length=None):
    return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "X-Knock-Signature: %s\r\nConnection: close\r\n\r\n" % (
                srv.ep_path, len(body) if length is None else length,
                h.sign(SECRET, body))).encode()


def signed_post(srv, n, timeout=h.HTTP_TIMEOUT):
    body = body_for(n)
    return srv.request("POST", srv.ep_path, body, {
        "Content-Type": "application/json",
        "X-Knock-Signature": h.sign(SECRET, body)}, timeout=timeout)


def nlogged(srv):
    return len(srv.logs("--limit", "100000"))


def read_answer(s, timeout):
    """Read from "s" until EOF or "timeout"; (status, raw bytes)."""
    s.settimeout(timeout)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not b:
            break
        data += b
    status = 0
    if data.startswith(b"HTTP/"):
        try:
            status = int(data.split(None, 2)[1])
        except (IndexError, ValueError):
            pass
    return status, data


class Prober:
    """Meanwhile: healthz and a signed POST in a loop on fresh
    connections, recording each answer's status, time taken and when it
    came."""

    def __init__(self, srv, first_n):
        self.srv = srv
        self.n = first_n
        self.results = []       # (status, seconds, time.time() at the end)
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set():
            for what in ("healthz", "post"):
                began = time.time()
                try:
                    if what == "healthz":
                        r = self.srv.get(self.srv.url("/healthz"))
                    else:
                        self.n += 1
                        r = signed_post(self.srv, self.n,
                                        timeout=h.scaled(5))
                    st = r.status
                except OSError:
                    st = 0
                self.results.append((st, time.time() - began, time.time()))
            self.stop.wait(0.1)

    def __enter__(self):
        self.th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.th.join(timeout=h.scaled(20))


def trickle(t):
    srv = start()
    try:
        before = nlogged(srv)
        body = body_for(1, size=200)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        began = time.time()
        with Prober(srv, 1000) as p:
            s.sendall(head(srv, body))
            for i in range(len(body)):
                s.sendall(body[i:i + 1])
                time.sleep(0.015)
            sent = time.time()
            status, raw = read_answer(s, h.scaled(10))
        s.close()
        took = time.time() - began
        t.eq(status, 200, "trickled 200-byte body (%.1f s): accepted" % took,
             raw[:300])
        res = p.results
        t.ok(len(res) >= 4 and all(st == 200 for st, _, _ in res),
             "other requests answered 200 meanwhile (%d)" % len(res), res)
        # Not a speed limit (a loaded or sanitizer run is slow): requests
        # a trickling client held up would all end after its last byte.
        during = sum(1 for st, _, end in res if st == 200 and end < sent)
        t.ok(during >= 4, "  ... %d of them while the body still trickled "
             "in (slowest %.2f s)" % (during, max([d for _, d, _ in res] or
                                                 [0])), res)
        t.eq(nlogged(srv) - before, 1 + sum(1 for i, (st, _, _) in
                                            enumerate(res) if i % 2),
             "the trickled event and the others are logged")
    finally:
        srv.close()


def stalled(t):
    srv = start([("server.max-read-idle\t= 30", "server.max-read-idle\t= 2")],
                "lighttpd-idle.conf")
    try:
        before = nlogged(srv)
        body = body_for(2, size=200)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        began = time.time()
        with Prober(srv, 2000) as p:
            s.sendall(head(srv, body) + body[:50])
            # Until lighttpd hangs up.
            status, raw = read_answer(s, h.scaled(10))
        took = time.time() - began
        s.close()
        t.ok(1.5 <= took < h.scaled(9), "a client stalled mid-body is cut "
             "off by max-read-idle (2 s) after %.1f s" % took)
        t.ok(status in (0, 408), "  ... with no answer or 408 (%s)" % status,
             raw[:200])
        res = p.results
        t.ok(len(res) >= 4 and all(st == 200 for st, _, _ in res),
             "other requests answered 200 meanwhile (%d)" % len(res), res)
        t.eq(nlogged(srv) - before, sum(1 for i, (st, _, _) in enumerate(res)
                                        if i % 2),
             "nothing logged for the stalled request, only the others")
        r = signed_post(srv, 2999)
        t.eq(r.status, 200, "the responder answers afterwards", r)
    finally:
        srv.close()


def dropped(t, streamed):
    label = "streamed body" if streamed else "buffered body"
    changes = [("server.stream-request-body = 0",
                "server.stream-request-body = 2")] if streamed else None
    srv = start(changes, "lighttpd-stream.conf")
    try:
        before = nlogged(srv)
        for i in range(20):
            body = body_for(3000 + i, size=500)
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(head(srv, body) + body[:100 + i])
            time.sleep(0.02)
            s.close()
        # An abortive close (RST) too.
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(head(srv, body) + body[:10])
        s.close()
        time.sleep(0.5)
        began = time.time()
        answers = [signed_post(srv, 3100 + i, timeout=h.scaled(5)).status
                   for i in range(5)]
        took = time.time() - began
        t.eq(answers, [200] * 5, "%s: 21 connections dropped mid-body, "
             "then 5 requests answered 200 (%.2f s): no stuck worker" %
             (label, took), srv.tail(10))
        t.ok(took < h.scaled(5), "  ... promptly")
        t.eq(nlogged(srv) - before, 5, "%s: nothing logged for the dropped "
             "requests" % label)
        r = srv.get(srv.url("/healthz"))
        t.eq(r.status, 200, "%s: healthz 200" % label)
        if streamed:
            n = srv.log_text().count("400 incomplete_body")
            t.ok(n >= 1, "%s: Porter saw the short bodies and said so in "
                 "the error log (%d lines)" % (label, n))
    finally:
        srv.close()


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_flood(port, n):
    """Open "n" connections, each sending half a request header."""
    socks = []
    for i in range(n):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            break
    time.sleep(0.3)
    for s in socks:
        try:
            s.send(b"POST /receive/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            pass
    return socks


def lighttpd_fds(srv):
    try:
        return len(os.listdir("/proc/%d/fd" % srv.proc.pid))
    except OSError:
        return -1


def responders(srv):
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == srv.proc.pid:
            n += 1
    return n


def flood(t, limited):
    label = "max-connections 200" if limited else "example limits"
    changes = [("server.max-connections\t= 2048",
                "server.max-connections\t= 200")] if limited else None
    srv = start(changes, "lighttpd-conns.conf")
    socks = []
    try:
        procs = responders(srv)
        fds0 = lighttpd_fds(srv)
        began = time.time()
        socks = open_flood(srv.port, FLOOD)
        opened = len(socks)
        time.sleep(0.5)
        fds = lighttpd_fds(srv)
        t.diag("%s: %d connections opened in %.1f s; lighttpd holds %d fds "
               "(%d before)" % (label, opened, time.time() - began, fds,
                                fds0))
        t.eq(opened, FLOOD, "%s: %d connections opened" % (label, FLOOD))
        if limited:
            t.ok(0 < fds - fds0 <= 200 + 10, "%s: lighttpd holds at most "
                 "max-connections of them (%d fds more)" % (label,
                                                            fds - fds0))
        else:
            r = srv.get(srv.url("/healthz"))
            t.eq(r.status, 200, "%s: healthz answered during the flood" %
                 label)
            t.ok(fds - fds0 >= FLOOD * 0.9, "%s: lighttpd holds them all "
                 "(%d fds more)" % (label, fds - fds0))
        t.eq(responders(srv), procs, "%s: still %d responder process%s" % (
            label, procs, "" if procs == 1 else "es"))
        for s in socks:
            s.close()
        socks = []
        began = time.time()
        status = 0
        while time.time() - began < h.scaled(10):
            try:
                status = srv.get(srv.url("/healthz")).status
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.1)
        took = time.time() - began
        t.ok(status == 200 and took < h.scaled(5), "%s: healthz 200 %.1f s "
             "after the flood" % (label, took))
        r = signed_post(srv, 4000)
        t.eq(r.status, 200, "%s: and a webhook is accepted" % label, r)
    finally:
        for s in socks:
            s.close()
        srv.close()


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    nofile = raise_nofile(FLOOD + 512)
    t.run(trickle, t)
    t.run(stalled, t)
    t.run(dropped, t, False)
    t.run(dropped, t, True)
    if nofile < FLOOD + 100:
        t.skip("1,000 connections", "RLIMIT_NOFILE is %d" % nofile)
    else:
        t.run(flood, t, False)
        t.run(flood, t, True)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 120)       # seconds (plain build; scaled)
    sys.exit(main())
