#!/usr/bin/env python3
"""test_send.py - "porterctl send" to a real lighttpd-served Porter (TAP).

porterctl send signs a file as the source's sender would and posts it
through Porter's HTTP client (libcurl).  Against lighttpd.conf.example
mounted at /porter:

1. Over http: a signed custom-source event is answered 200, printed as the
   status line and body, and logged verified; a bearer-key (hightouch) PUT
   with --method and --path; a non-2xx answer exits 1; a scheme that signs
   the URL gets the environment's public_url with the mount.
2. Over https, through a TLS front (this test, a certificate from a CA it
   made with the openssl command) that passes requests on to lighttpd:
   without --cacert the certificate is refused and nothing reaches
   Porter; with --cacert the event is accepted and logged; a --cacert
   that does not exist is an error.
3. Through a proxy named by http_proxy (this test again, passing the
   request on): the URL's host is never resolved by porterctl.
4. Errors: a refused connection, a URL that is not http[s].

Everything on 127.0.0.1, every wait bounded.
"""

import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "send-secret-5e2a"
HT_KEY = "ht_live_send_91c3"
URL_KEY = "url-signed-secret-77"
PUBLIC = "https://hooks.example.com"
TASK = {"type": "task.assigned", "data": {"task_id": "task_9"}}
MOUNT = "/porter"


def config():
    return {"sources": [
        {"key": "tasks", "type": "custom", "environments": {"production": {
            "verify": True, "signing_keys": [{"secret": SECRET}],
            "event_type_path": "body.type"}}},
        {"key": "warehouse", "type": "hightouch", "environments": {
            "production": {"signing_keys": [{"secret": HT_KEY}]}}},
        # Signs the public URL (as Twilio does) with the body.
        {"key": "urlsig", "type": "custom", "environments": {"production": {
            "verify": True, "public_url": PUBLIC,
            "signature": {"kind": "hmac", "mac": "hmac-sha256",
                          "signature_header": "x-url-signature",
                          "signed": "{url}.{body}"},
            "signing_keys": [{"secret": URL_KEY}],
            "event_type_path": "body.type"}}}]}


class Front(http.server.ThreadingHTTPServer):
    """Passes every request on to lighttpd (an origin-form path as is,
    an absolute one -- a proxy's -- by its path) and its answer back;
    counts what it passed.  With "tls" (an SSLContext) it speaks HTTPS."""

    daemon_threads = True

    def __init__(self, backend_port, tls=None):
        self.backend_port = backend_port
        self.passed = []
        super().__init__(("127.0.0.1", 0), FrontHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()


class FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path
        if not path.startswith("/"):
            u = urllib.parse.urlsplit(path)
            path = u.path + ("?" + u.query if u.query else "")
        self.server.passed.append(self.path)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("connection", "proxy-connection",
                                     "keep-alive")}
        conn = http.client.HTTPConnection("127.0.0.1",
                                          self.server.backend_port,
                                          timeout=h.HTTP_TIMEOUT)
        try:
            conn.request(self.command, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status, r.reason)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding",
                                     "content-length", "keep-alive"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()

    do_POST = do_PUT = do_GET = relay


def make_certs(d):
    """A CA and a certificate for 127.0.0.1 it signed, in "d"."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    with open(os.path.join(d, "srv.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n")
    for cmd in (["openssl", "req", "-x509"] + ec +
                ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                 "-subj", "/CN=porter-send-test-ca"],
                ["openssl", "req"] + ec +
                ["-keyout", "srv.key", "-out", "srv.csr",
                 "-subj", "/CN=127.0.0.1"],
                ["openssl", "x509", "-req", "-in", "srv.csr", "-CA",
                 "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                 "srv.pem", "-days", "2", "-extfile", "srv.ext"]):
        subprocess.run(cmd, cwd=d, check=True, capture_output=True,
                       timeout=h.CMD_TIMEOUT)
    return os.path.join(d, "ca.pem")


def send(srv, *args, env=None):
    """porterctl --db DB send ARGS with "env" added to a proxy-free
    environment; (rc, stdout, stderr)."""
    e = {k: v for k, v in os.environ.items()
         if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                              "no_proxy")}
    e.update(env or {})
    return h.run([h.PORTERCTL, "--db", srv.db, "send"] +
                 [str(a) for a in args], env=e)


def newest(srv):
    recs = srv.logs("--limit", "1")
    return recs[0] if recs else {}


def nlogged(srv):
    return len(srv.logs("--limit", "100000"))


def over_http(t, srv, fn, base):
    rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                        "--url", base, fn)
    t.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
         '"task.assigned"' in out, "http: signed, answered 200, status line "
         "and body printed", out, err)
    rec = newest(srv)
    t.eq((rec.get("event_type"), (rec.get("verification") or {}).get(
        "status")), ("task.assigned", "enforced:verified"),
        "http: logged and verified", rec)

    user = srv.path("user.json")
    with open(user, "w") as f:
        json.dump({"name": "Bo", "email": "bo@example.com"}, f)
    rc, out, err = send(srv, "--source", "warehouse", "--env", "production",
                        "--url", base + "/", "--method", "PUT", "--path",
                        "/v1/users/u_send", user)
    t.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
         '"users.identify"' in out, "http: --method PUT --path, bearer key "
         "(a trailing / on --url is dropped)", out, err)

    rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                        "--url", base, "--path", "/nope", fn)
    t.ok(rc == 1 and out.startswith("HTTP/1.1 4") and '"error"' in out,
         "http: a non-2xx answer is printed and exits 1", out, err)

    rc, out, err = send(srv, "--source", "urlsig", "--env", "production",
                        "--url", base, fn)
    t.ok(rc == 0 and out.startswith("HTTP/1.1 200"),
         "http: a URL-signing scheme signs public_url + mount + path, as "
         "Porter verifies it", out, err, srv.tail())


def over_https(t, srv, fn, ca):
    d = os.path.dirname(ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d,
                                                                 "srv.key"))
    front = Front(srv.port, ctx)
    try:
        base = "https://127.0.0.1:%d%s" % (front.server_address[1], MOUNT)
        before = nlogged(srv)
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", base, fn)
        t.ok(rc == 1 and out == "" and "certificate is not trusted" in err,
             "https: a certificate from an unknown CA is refused", out, err)
        t.eq((nlogged(srv), len(front.passed)), (before, 0),
             "https: ... and nothing was sent")

        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", base, "--cacert", ca, fn)
        t.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
             '"task.assigned"' in out, "https with --cacert: 200", out, err)
        rec = newest(srv)
        t.ok(nlogged(srv) == before + 1 and (rec.get("verification") or {})
             .get("status") == "enforced:verified",
             "https: the event reached Porter through TLS, verified", rec)

        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", base, "--cacert", ca + ".none", fn)
        t.ok(rc == 1 and out == "" and "CA file" in err,
             "https: a --cacert that does not exist is an error", out, err)

        plain = "https://127.0.0.1:%d%s" % (srv.port, MOUNT)
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", plain, "--cacert", ca, fn)
        t.ok(rc == 1 and out == "" and "TLS" in err,
             "https to lighttpd's plain-HTTP port: a TLS error", out, err)
    finally:
        front.close()


def through_proxy(t, srv, fn):
    proxy = Front(srv.port)
    try:
        env = {"http_proxy": "http://127.0.0.1:%d" % proxy.server_address[1]}
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", "http://porter.invalid" + MOUNT, fn,
                            env=env)
        t.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
             len(proxy.passed) == 1 and
             proxy.passed[0].startswith("http://porter.invalid/porter/"),
             "http_proxy: sent through the proxy, by absolute URL", out, err,
             proxy.passed)
        env["no_proxy"] = "127.0.0.1"
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", "http://127.0.0.1:%d%s" % (srv.port,
                                                                MOUNT), fn,
                            env=env)
        t.ok(rc == 0 and len(proxy.passed) == 1,
             "no_proxy: straight to the server", out, err, proxy.passed)
    finally:
        proxy.close()


def errors(t, srv, fn):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))        # bound, not listening: refused
        port = s.getsockname()[1]
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", "http://127.0.0.1:%d" % port, fn)
    t.ok(rc == 1 and out == "" and
         ("connection refused by 127.0.0.1 port %d" % port) in err,
         "a refused connection says so", out, err)
    for url in ("ftp://127.0.0.1/", "http://", "http://h/p?q=1",
                "http://user:pw@127.0.0.1/"):
        rc, out, err = send(srv, "--source", "tasks", "--env", "production",
                            "--url", url, fn)
        t.ok(rc == 1 and out == "" and "--url" in err,
             "--url %s: refused before anything is sent" % url, err)


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    if h.which("openssl") is None:
        h.skip_all("the openssl command is needed for the certificates")
    certs = tempfile.mkdtemp(prefix="porter-send-")
    srv = h.Server(mount=MOUNT)
    try:
        ca = make_certs(certs)
        srv.start()
        rc, out, err = srv.apply(config())
        if rc != 0:
            h.bail_out("apply: %s" % err)
        fn = srv.path("task.json")
        with open(fn, "w") as f:
            json.dump(TASK, f)
        base = "http://127.0.0.1:%d%s" % (srv.port, MOUNT)
        t.run(over_http, t, srv, fn, base)
        t.run(over_https, t, srv, fn, ca)
        t.run(through_proxy, t, srv, fn)
        t.run(errors, t, srv, fn)
    finally:
        srv.close()
        shutil.rmtree(certs, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 120)       # seconds (plain build; scaled)
    sys.exit(main())
