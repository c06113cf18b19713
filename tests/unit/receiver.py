#!/usr/bin/env python3
"""receiver.py - the app Porter's HTTP client posts to, for test-httpc.

A local HTTP/1.1 server (keep-alive) on 127.0.0.1, and with --cert/--key a
second one speaking TLS.  It prints "PORT TLSPORT" (TLSPORT 0 without TLS)
on stdout once both listen, and exits when its stdin closes (the test that
started it went away) or after --lifetime seconds.

It checks Standard Webhooks signatures with its own code (the spec at
standardwebhooks.com: HMAC-SHA256 over "id.timestamp.body" with the
base64-decoded "whsec_" secret, "v1,<base64>" entries separated by spaces),
never Porter's.  Paths (any method):

  /hook          verify; 200 {"verified": true, "id", "seen"} or
                 401 {"verified": false, "why"}; "seen" counts the
                 deliveries of that webhook-id (what an app dedupes on)
  /echo          200 with what arrived: method, path as sent (absolute
                 when it came through as a proxy), headers, body
  /slow?ms=N     wait N ms, then 200
  /fail          500 {"error": "boom"}
  /redirect      302 to /hook
  /huge          200 with an 8 MiB body
  /close         close the connection without answering
  /drop          200, then close the connection without saying so (an
                 idle keep-alive connection the server dropped)
  /garbage       answer bytes that are not HTTP, then close
  /longstatus    200 with a 1000-byte reason phrase
  /stats         200 {"connections": TCP connections accepted so far,
                 "tunnels": CONNECT tunnels opened}

As a proxy: an absolute URL in the request line is served like its path
(so /echo shows what a proxy saw), and CONNECT to 127.0.0.1 opens a
tunnel (to this machine only: anything else is refused 403).
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse

TOLERANCE = 300
HUGE = 8 * 1024 * 1024

lock = threading.Lock()
connections = 0
tunnels = 0
seen = {}


def verify(secret, headers, body):
    """None when the Standard Webhooks signature is good, else why not."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        ts_n = int(ts)
    except ValueError:
        return "webhook-timestamp is not an integer"
    if abs(time.time() - ts_n) > TOLERANCE:
        return "webhook-timestamp outside the tolerance"
    key = secret[6:] if secret.startswith("whsec_") else secret
    key = base64.b64decode(key)
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for entry in sigs.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), want):
            return None
    return "no matching v1 signature"


def make_handler(secret):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Head and body go out in two writes: without this, Nagle and
        # the client's delayed ACK cost 40 ms on a kept-alive connection.
        disable_nagle_algorithm = True

        def setup(self):
            global connections
            with lock:
                connections += 1
            super().setup()

        def log_message(self, fmt, *args):
            pass

        def answer(self, status, obj=None, raw=None, extra=()):
            data = raw if raw is not None else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            route = url.path
            if route == "/hook":
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                why = verify(secret, hdrs, body)
                if why:
                    return self.answer(401, {"verified": False, "why": why})
                msg_id = hdrs["webhook-id"]
                with lock:
                    seen[msg_id] = seen.get(msg_id, 0) + 1
                    count = seen[msg_id]
                return self.answer(200, {"verified": True, "id": msg_id,
                                         "seen": count})
            if route == "/echo":
                return self.answer(200, {
                    "method": self.command, "path": self.path,
                    "version": self.request_version,
                    "headers": [[k.lower(), v]
                                for k, v in self.headers.items()],
                    "body": body.decode("latin-1")})
            if route == "/slow":
                time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
                return self.answer(200, {"slow": True})
            if route == "/fail":
                return self.answer(500, raw=b"boom")
            if route == "/redirect":
                return self.answer(302, raw=b"", extra=[("Location",
                                                         "/hook")])
            if route == "/huge":
                self.send_response(200)
                self.send_header("Content-Length", str(HUGE))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(HUGE // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass        # the client stopped reading: expected
                self.close_connection = True
                return None
            if route == "/close":
                self.close_connection = True
                return None
            if route == "/drop":
                self.answer(200, {"dropped": True})
                self.close_connection = True
                return None
            if route == "/garbage":
                self.wfile.write(b"\x00\x01NOT HTTP AT ALL\r\n\r\nxyz")
                self.close_connection = True
                return None
            if route == "/longstatus":
                self.send_response(200, "x" * 1000)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                return None
            if route == "/stats":
                with lock:
                    return self.answer(200, {"connections": connections,
                                             "tunnels": tunnels})
            return self.answer(404, {"error": "no route " + route})

        do_POST = do_PUT = do_GET = do_DELETE = do_PATCH = handle_any

        def do_CONNECT(self):
            global tunnels
            host, _, port = self.path.rpartition(":")
            if host not in ("127.0.0.1", "localhost") or not port.isdigit():
                return self.answer(403, {"error": "loopback only"})
            up = socket.create_connection(("127.0.0.1", int(port)),
                                          timeout=30)
            with lock:
                tunnels += 1
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            ends = [self.connection, up]
            try:
                while True:
                    ready, _, _ = select.select(ends, [], [], 60)
                    if not ready:
                        break
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            return None
                        (up if s is self.connection else
                         self.connection).sendall(data)
            except OSError:
                pass
            finally:
                up.close()
                self.close_connection = True
            return None

    return Handler


def serve(srv):
    srv.serve_forever(poll_interval=0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()

    handler = make_handler(args.secret)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    plain.daemon_threads = True
    servers = [plain]
    tls_port = 0
    if args.cert:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        tls.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        tls_port = tls.server_address[1]
        servers.append(tls)
    for srv in servers:
        threading.Thread(target=serve, args=(srv,), daemon=True).start()
    print("%d %d" % (plain.server_address[1], tls_port), flush=True)

    # Until the test closes our stdin, or the lifetime runs out.
    done = threading.Event()

    def watch_stdin():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait(args.lifetime)
    sys.exit(0)


if __name__ == "__main__":
    main()
