#!/usr/bin/env python3
"""test_postgresql.py - Porter on PostgreSQL, through real lighttpd (TAP).

Starts a throwaway PostgreSQL (initdb in a temp dir, as "nobody" when run
as root: initdb refuses root; a free port on 127.0.0.1), then:
1. runs test_core.py and test_idempotency.py again with every store a new
   database on it (PORTER_E2E_PG), their cases relayed here;
2. two front servers (two lighttpd, each with its own responders) share one
   database: 100 idempotency keys, each delivered 3 times to each server in
   parallel, execute exactly once (one event accepted, one workflow run per
   key, every other delivery idempotent), and porterctl check is clean;
3. the database server stops: webhooks get 503 with Retry-After, never a
   2xx; once it is back the same webhooks go in, each once;
4. TLS: the server restarted with a self-signed certificate, a store named
   with sslmode=require takes webhooks inside the responder's seccomp
   filter, and the server sees its connections encrypted.
"""

import http.client
import json
import multiprocessing
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402
import test_idempotency as idem                         # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = 100
COPIES = 3


def pg_bin(name):
    """A PostgreSQL server program: on PATH, or in Debian's versioned dir."""
    found = h.which(name)
    if found:
        return found
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for v in sorted(os.listdir(base), reverse=True):
            p = os.path.join(base, v, "bin", name)
            if os.access(p, os.X_OK):
                return p
    return None


class Postgres:
    """A throwaway server: start() initdb's and starts it, stop()/start()
    again keep its data, close() removes it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="porter-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = h.free_port()
        self.as_user = []
        if os.geteuid() == 0:
            # initdb refuses root: the server runs as nobody.
            os.chown(self.dir, pwd.getpwnam("nobody").pw_uid, -1)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        r = subprocess.run(self.as_user + [
            pg_bin("initdb"), "-D", self.data, "-A", "trust", "-U",
            "porter", "--no-sync"], capture_output=True, text=True)
        if r.returncode != 0:
            h.bail_out("initdb: " + r.stderr)
        self.uri = "postgresql://porter@127.0.0.1:%d/" % self.port

    def start(self, ssl=False):
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
                "-c max_connections=200" % (self.port, self.dir))
        if ssl:
            opts += " -c ssl=on"
        r = subprocess.run(self.as_user + [
            pg_bin("pg_ctl"), "-D", self.data, "-w", "-t", "60", "-l",
            os.path.join(self.dir, "log"), "-o", opts, "start"],
            capture_output=True, text=True)
        if r.returncode != 0:
            h.bail_out("pg_ctl start: " + r.stderr + r.stdout)

    def stop(self):
        subprocess.run(self.as_user + [pg_bin("pg_ctl"), "-D", self.data,
                       "-m", "fast", "-w", "stop"], capture_output=True)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def relay(t, pg, script):
    """Run tests/e2e/SCRIPT on PostgreSQL; each of its cases is one here."""
    env = dict(os.environ, PORTER_E2E_PG=pg.uri)
    r = subprocess.run([sys.executable, os.path.join(HERE, script)],
                       capture_output=True, text=True, env=env,
                       timeout=h.scaled(600))
    n = 0
    for line in r.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            n += 1
            ok = line.startswith("ok ")
            desc = line.split(" - ", 1)[1] if " - " in line else line
            t.ok(ok, "[postgresql] %s: %s" % (script, desc))
    t.ok(r.returncode == 0 and n > 0, "[postgresql] %s ran (%d cases, "
         "exit %d)" % (script, n, r.returncode), r.stderr[-2000:])


def deliver_both(srvs, ep, keys):
    """Each key COPIES times to each server, in parallel client processes."""
    jobs = []
    for srv in srvs:
        path = srv.url("/receive/" + ep)
        work = [k for k in keys for _ in range(COPIES)]
        for i in range(idem.CLIENTS):
            jobs.append((srv.port, path, work[i::idem.CLIENTS], 3))
    pool = multiprocessing.Pool(len(jobs))
    try:
        results = pool.map(idem.deliver, jobs)
    finally:
        pool.close()
        pool.join()
    return [x for part in results for x in part]


def two_fronts(t, pg):
    with h.Server(mount="/", max_procs=2) as a:
        with h.Server(mount="/", max_procs=2, db=a.db) as b:
            rc, out, err = a.apply(idem.config())
            t.eq(rc, 0, "two front servers: the configuration applies "
                 "(once, to the shared database)", err)
            ep = a.sources()[("orders", "production")]
            t.eq(b.sources()[("orders", "production")], ep,
                 "  ... and the second server sees the same endpoint")
            keys = ["two-%03d" % i for i in range(KEYS)]
            started = time.time()
            res = deliver_both([a, b], ep, keys)
            t.diag("%d deliveries to 2 servers in %.1f s" %
                   (len(res), time.time() - started))
            statuses = {}
            for _, st, _ in res:
                statuses[st] = statuses.get(st, 0) + 1
            total = 2 * KEYS * COPIES
            t.eq(statuses, {200: total}, "every one of %d deliveries "
                 "answered 200" % total)
            answered = [json.loads(x) for _, st, x in res if st == 200]
            t.eq(sum(1 for x in answered if x.get("status") == "accepted"),
                 KEYS, "exactly %d answers say accepted, across both "
                 "servers" % KEYS)
            executed, replayed, ids, runs = idem.store_view(a)
            t.eq(sorted(executed), keys, "the store holds one execution "
                 "per key")
            t.eq(set(executed.values()), {1}, "  ... none twice")
            t.eq(sum(replayed.values()), KEYS * (2 * COPIES - 1),
                 "  ... and every other delivery is logged idempotent")
            t.eq(len(runs), KEYS, "  ... and %d workflow runs" % KEYS)
            rc, out, err = b.porterctl("check")
            t.eq(rc, 0, "porterctl check: consistent", out, err)


def post(srv, ep, key):
    body = idem.body_for(key)
    c = http.client.HTTPConnection("127.0.0.1", srv.port,
                                   timeout=h.scaled(30))
    try:
        c.request("POST", srv.url("/receive/" + ep), body,
                  {"Content-Type": "application/json",
                   "X-Knock-Signature": h.sign(idem.SECRET, body)})
        r = c.getresponse()
        return r.status, r.getheader("retry-after"), r.read()
    finally:
        c.close()


def server_down(t, pg):
    with h.Server(mount="/", max_procs=2) as srv:
        rc, out, err = srv.apply(idem.config())
        t.eq(rc, 0, "server down: config applies", err)
        ep = srv.sources()[("orders", "production")]
        st, ra, body = post(srv, ep, "down-0")
        t.eq(st, 200, "before: a webhook goes in", body)
        pg.stop()
        try:
            got = [post(srv, ep, "down-%d" % i) for i in range(1, 6)]
        finally:
            pg.start()
        t.ok(all(st == 503 and (ra or "").isdigit() for st, ra, _ in got),
             "the database stopped: 503 with Retry-After, never a 2xx",
             got)
        again = []
        for i in range(1, 6):
            for _ in range(20):
                st, ra, body = post(srv, ep, "down-%d" % i)
                if st == 200:
                    break
                time.sleep(0.2)
            again.append(st)
        t.eq(again, [200] * 5, "back: the retries go in")
        executed, replayed, ids, runs = idem.store_view(srv)
        t.eq(sorted(executed), ["down-%d" % i for i in range(6)],
             "  ... each once")


def tls(t, pg):
    """A self-signed certificate in the data directory (server.crt/.key,
    PostgreSQL's defaults), the server restarted with ssl=on."""
    r = subprocess.run(pg.as_user + [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
        "1", "-subj", "/CN=127.0.0.1", "-keyout",
        os.path.join(pg.data, "server.key"), "-out",
        os.path.join(pg.data, "server.crt")], capture_output=True, text=True)
    if r.returncode != 0:
        t.ok(False, "TLS: a self-signed certificate", r.stderr)
        return
    pg.stop()
    pg.start(ssl=True)
    db = h.new_pg_database(pg.uri) + "?sslmode=require"
    with h.Server(mount="/", max_procs=1, db=db,
                  env={"PORTER_SECCOMP": "1"}) as srv:
        rc, out, err = srv.apply(idem.config())
        t.eq(rc, 0, "TLS: apply over sslmode=require", err)
        ep = srv.sources()[("orders", "production")]
        got = [post(srv, ep, "tls-%d" % i)[0] for i in range(3)]
        t.eq(got, [200] * 3, "TLS: webhooks go in through the seccomp "
             "filter")
        r = subprocess.run(["psql", "-At", "-d", pg.uri + "postgres", "-c",
                            "SELECT count(*) FROM pg_stat_ssl JOIN "
                            "pg_stat_activity USING (pid) WHERE ssl AND "
                            "datname = '%s'" % db.split("/")[-1].split("?")[0]],
                           capture_output=True, text=True)
        t.ok(r.returncode == 0 and int(r.stdout.strip() or "0") > 0,
             "TLS: the server sees the responder's connection encrypted",
             r.stdout, r.stderr)


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    if pg_bin("initdb") is None or h.which("psql") is None:
        h.skip_all("PostgreSQL not installed (Debian: postgresql)")
    t = h.Tap()
    pg = Postgres()
    try:
        pg.start()
        os.environ["PORTER_E2E_PG"] = pg.uri
        relay(t, pg, "test_core.py")
        relay(t, pg, "test_idempotency.py")
        two_fronts(t, pg)
        server_down(t, pg)
        tls(t, pg)
    finally:
        pg.close()
    t.done()


if __name__ == "__main__":
    main()
