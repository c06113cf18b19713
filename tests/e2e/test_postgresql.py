#!/usr/bin/env python3
"""test_postgresql.py - Porter on PostgreSQL, through real lighttpd (TAP).

Starts a throwaway PostgreSQL (initdb in a temp dir, as "nobody" when run
as root: initdb refuses root; a free port on 127.0.0.1), then:
1. runs tests/unit/test-backend (the storage interface's semantics) with
   PORTER_TEST_PG, then test_core.py, test_idempotency.py,
   test_actions.py, test_sources.py and test_admin.py again with every
   store a new database on it (PORTER_E2E_PG), their cases relayed here
   (test_faults.py is LMDB's: its map and file filling up);
2. two front servers (two lighttpd, each with its own responders) share one
   database: 100 idempotency keys, each delivered 3 times to each server in
   parallel, execute exactly once (one event accepted, one workflow run per
   key, every other delivery idempotent), and porterctl check is clean;
3. the database server stops: webhooks get 503 with Retry-After, never a
   2xx; once it is back the same webhooks go in, each once;
4. kill -9 on one of two nodes: senders post fresh keys, each key twice at
   once (one copy to each node), retrying what was not answered 2xx on the
   other node, while node A's responders are SIGKILLed 20 times (lighttpd
   respawns them).  Every event answered 2xx is in the store, once; no key
   executed twice; one run per execution; porterctl check clean.  Then
   leases: three executions whose workflow handlers run on node A when its
   responders are SIGKILLed stay pending; node B answers their retries 409
   with Retry-After while the lease lasts, and once it passed (node B
   restarted with its clock a minute on, PORTER_CLOCK_OFFSET) takes them
   over: each retry executes once, and each dead execution is marked
   interrupted right then (the README's promise) and after 16 more writes;
5. pg_ctl stop -m immediate while senders post, 2 s down, a restart: every
   answer sent and received while it is down is 503 with Retry-After,
   every answer of the whole load is 200 or that, every 2xx (those before
   the stop too) is in the store after the restart, and once the senders
   retried the rest every key executed exactly once;
6. pg_terminate_backend of every connection to the store's database, 20
   rounds during a load with retries: the terminations cost answers (503
   with Retry-After, nothing else), no 2xx for an event not in the store,
   every 2xx event in the log exactly once, no key executed twice,
   porterctl check clean;
7. two nodes identify the same two users at once, each event setting
   another property (24 users_identify mappings, 3 rounds): every answer
   200 the first time, and every user has every property of the round (no
   lost update);
8. TLS: the server restarted with a self-signed certificate, a store named
   with sslmode=require takes webhooks inside the responder's seccomp
   filter, and the server sees its connections encrypted;
9. the server restarted with default_transaction_isolation = serializable
   (CockroachDB's default): case 7, test_idempotency.py and test_core.py
   again (relayed as "[postgresql serializable]");
10. porterctl migrate, copy LMDB -> PostgreSQL -> LMDB (compared, both
   checked; a non-empty destination refused), status and /metrics on the
   database, a responder on the copy (a key taken before the move stays
   idempotent);
11. the configuration watch: with PORTER_PG_LISTEN (default) a webhook
   begins no read transaction (the server's statement log counts them),
   with PORTER_PG_LISTEN=0 two; an apply is seen at once;
12. the README's "Two front servers on one database" block, run as
   written (only the database, directories and ports replaced).

The loads are bounded in time (h.scaled) and by counts, not by rates.
"""

import http.client
import json
import multiprocessing
import os
import pwd
import random
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402
import test_idempotency as idem                         # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = 100
COPIES = 3
WATCHDOG = 900          # seconds for the whole file (plain build; scaled)
CONNS = 12              # client connections of a load
KILLS = 20              # SIGKILLs of one node's responders under load
TERMINATE_ROUNDS = 20   # rounds of pg_terminate_backend under load
PROPS = 24              # properties identified at once, per user
SERIALIZABLE = "default_transaction_isolation=serializable"
THREADS = 4             # a responder's threads in config_watch
# porterctl check reads each event's entries with a round trip apiece: some
# 3 ms an event here, 30 s for the loads below on a slow day.
CHECK_TIMEOUT = 4 * h.CMD_TIMEOUT


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

    def start(self, ssl=False, settings=()):
        """"settings": more name=value server settings (-c)."""
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
                "-c max_connections=200" % (self.port, self.dir))
        if ssl:
            opts += " -c ssl=on"
        for kv in settings:
            opts += " -c " + kv
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


def relay(t, pg, script, label="postgresql"):
    """Run tests/e2e/SCRIPT on PostgreSQL; each of its cases is one here."""
    env = dict(os.environ, PORTER_E2E_PG=pg.uri)
    r = subprocess.run([sys.executable, os.path.join(HERE, script)],
                       capture_output=True, text=True, env=env,
                       timeout=h.scaled(600))
    # Each case with the diagnostics its script printed after it.
    cases = []
    for line in r.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            desc = line.split(" - ", 1)[1] if " - " in line else line
            cases.append([line.startswith("ok "), desc, []])
        elif line.startswith("#") and cases:
            cases[-1][2].append(line[1:].strip())
    for ok, desc, diag in cases:
        t.ok(ok, "[%s] %s: %s" % (label, script, desc),
             *[x[:600] for x in diag[:40]])
    n = len(cases)
    t.ok(r.returncode == 0 and n > 0, "[%s] %s ran (%d cases, "
         "exit %d)" % (label, script, n, r.returncode), r.stderr[-2000:])


def backend_unit(t, pg):
    """tests/unit/test-backend on a new database: the storage interface's
    semantics on both backends; its cases relayed."""
    prog = os.path.join(h.TOP_BUILDDIR, "tests", "unit", "test-backend")
    if not os.access(prog, os.X_OK):
        t.ok(False, "tests/unit/test-backend is built (make check builds "
             "it)")
        return
    env = dict(os.environ, PORTER_TEST_PG=h.new_pg_database(pg.uri))
    r = subprocess.run([prog], capture_output=True, text=True, env=env,
                       timeout=h.scaled(120))
    n = 0
    for line in r.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            n += 1
            desc = line.split(" - ", 1)[1] if " - " in line else line
            t.ok(line.startswith("ok "), "[test-backend] " + desc)
    t.ok(r.returncode == 0 and n > 60, "[test-backend] ran on both "
         "backends (%d cases, exit %d)" % (n, r.returncode),
         r.stdout[-1500:], r.stderr[-1500:])


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
            rc, out, err = b.porterctl("check", timeout=CHECK_TIMEOUT)
            t.eq(rc, 0, "porterctl check: consistent", out, err)


def post_body(srv, ep, body, timeout=30, catch=False):
    """POST "body" signed with idem.SECRET to endpoint "ep" of "srv":
    (status, Retry-After, body).  With "catch", a connection that fails
    is (0, None, the error) instead of an exception."""
    c = http.client.HTTPConnection("127.0.0.1", srv.port,
                                   timeout=h.scaled(timeout))
    try:
        c.request("POST", srv.url("/receive/" + ep), body,
                  {"Content-Type": "application/json",
                   "X-Knock-Signature": h.sign(idem.SECRET, body)})
        r = c.getresponse()
        return r.status, r.getheader("retry-after"), r.read()
    except (OSError, http.client.HTTPException) as e:
        if not catch:
            raise
        return 0, None, str(e).encode()
    finally:
        c.close()


def post(srv, ep, key):
    return post_body(srv, ep, idem.body_for(key))


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


# ------------------------------------------------------------ under faults

class Load:
    """Client threads posting webhooks until stop(): job n is the key
    "PREFIX-<n // copies>" sent to servers[n % len(servers)] (so the copies
    of a key go to different servers at the same time), a fresh key for
    every "copies" jobs.  A job not answered 2xx is sent again, to the next
    server, up to "tries" times in all, as a sender behind a load balancer
    retries.  Every attempt is kept: (key, server index, status,
    Retry-After, parsed body, sent at, answered at); status 0 is no answer
    (connection refused or reset)."""

    def __init__(self, servers, ep, prefix, copies=1, tries=1,
                 conns=CONNS, body=None):
        self.servers = servers
        self.ep = ep
        self.prefix = prefix
        self.copies = copies
        self.tries = tries
        self.body = body or idem.body_for
        self.attempts = []
        self.finals = []            # the last attempt of every job
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True)
                         for _ in range(conns)]

    def start(self):
        for th in self._threads:
            th.start()
        return self

    def stop(self):
        self._stop.set()
        for th in self._threads:
            th.join(h.scaled(120))
        return not any(th.is_alive() for th in self._threads)

    def _post(self, srv, key):
        return post_body(srv, self.ep, self.body(key), 20, catch=True)

    def _work(self):
        while not self._stop.is_set():
            with self._lock:
                n = self._next
                self._next += 1
            key = "%s-%05d" % (self.prefix, n // self.copies)
            at = n % len(self.servers)
            for attempt in range(self.tries):
                srv = self.servers[(at + attempt) % len(self.servers)]
                sent = time.time()
                st, ra, raw = self._post(srv, key)
                rec = (key, (at + attempt) % len(self.servers), st, ra,
                       h.parse_json(raw) if isinstance(raw, bytes) else None,
                       sent, time.time())
                with self._lock:
                    self.attempts.append(rec)
                if 200 <= st < 300:
                    break
                time.sleep(min(0.05 * (attempt + 1), 0.3))
            with self._lock:
                self.finals.append(rec)

    def keys(self):
        return sorted({a[0] for a in self.finals})


def ok2xx(records):
    """[(key, answer)] of the records answered 2xx."""
    return [(a[0], a[4] or {}) for a in records if 200 <= a[2] < 300]


def statuses(records):
    out = {}
    for a in records:
        out[a[2]] = out.get(a[2], 0) + 1
    return out


def store_check(t, label, srv, answered, keys=None):
    """The store against what the senders were told: every event answered
    2xx is in the log, once; no key executed twice; every key answered 2xx
    executed (and, given "keys", every key of them); one workflow run per
    execution; porterctl check clean."""
    logs = srv.logs("--source", "orders", "--env", "production",
                    "--limit", "100000")
    ids = {}
    for rec in logs:
        ids[rec["id"]] = ids.get(rec["id"], 0) + 1
    executed = {}
    for rec in logs:
        if rec.get("status") == "accepted":
            key = (rec.get("idempotency") or {}).get("key")
            executed[key] = executed.get(key, 0) + 1
    missing = sorted({a.get("id") for _, a in answered
                      if ids.get(a.get("id"), 0) == 0})
    t.eq(missing, [], "%s: every event answered 2xx is in the store (%d "
         "answers)" % (label, len(answered)))
    t.eq({i: n for i, n in ids.items() if n > 1}, {},
         "  ... each event once in the log")
    t.eq({k: n for k, n in executed.items() if n > 1}, {},
         "  ... no key executed twice")
    got = {k for k, _ in answered}
    t.eq(sorted(got - set(executed)), [],
         "  ... every key answered 2xx executed")
    if keys is not None:
        t.eq(sorted(executed), sorted(keys), "  ... every key executed, "
             "once (%d)" % len(keys))
    rc, out, err = srv.porterctl("runs", "--json", "--limit", "100000")
    runs = h.json_lines(out) if rc == 0 else []
    t.eq(len(runs), sum(executed.values()), "  ... one workflow run per "
         "execution (%d)" % len(runs), err)
    rc, out, err = srv.porterctl("check", timeout=CHECK_TIMEOUT)
    t.eq(rc, 0, "  ... porterctl check: consistent", out, err)


def lease_config(flags):
    """idem.config() plus order.slow, whose workflow handler runs until
    "flags"/fast exists: it writes its pid to flags/started.<event id>
    and sleeps (its 3 s timeout: a lease of 33 s)."""
    cfg = idem.config()
    script = ('cat >/dev/null; [ -e "$1/fast" ] && exit 0; '
              'echo $$ > "$1/.s.$PORTER_EVENT_ID"; '
              'mv "$1/.s.$PORTER_EVENT_ID" "$1/started.$PORTER_EVENT_ID"; '
              'exec sleep 20')
    cfg["workflows"] = {"slow": {"exec": ["/bin/sh", "-c", script, "slow",
                                          flags], "timeout_ms": 3000}}
    env = cfg["sources"][0]["environments"]["production"]
    env["mappings"].append({"event_type": "order.slow",
                            "action": "workflows_trigger",
                            "params": {"key": "slow",
                                       "recipients": "data.customer"}})
    return cfg


def slow_body(key):
    return json.dumps({"type": "order.slow", "event_id": key,
                       "data": {"customer": "c-" + key}}).encode()


def ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_nodes(t, pg):
    """Two front servers; node A's responders SIGKILLed KILLS times while
    senders post to both (and retry what was not answered 2xx).  Then
    leases: executions whose handlers run on A when its responders die
    hold their keys on B too (409) until the lease passes; then B takes
    them over."""
    flags = tempfile.mkdtemp(prefix="porter-lease-")
    env = {"PORTER_THREADS": "4"}
    try:
        with h.Server(mount="/", max_procs=2, env=env) as a, \
                h.Server(mount="/", max_procs=2, env=env, db=a.db) as b:
            rc, out, err = a.apply(lease_config(flags))
            t.eq(rc, 0, "kill -9: the configuration applies", err)
            ep = a.sources()[("orders", "production")]
            load = Load([a, b], ep, "kill", copies=2, tries=40).start()
            kills, seen = 0, set()
            started = time.time()
            bound = started + h.scaled(60)
            try:
                # KILLS kills, one every 0.2 s or so, of a live worker
                # lighttpd (re)spawned; not one a previous kill got.
                while kills < KILLS and time.time() < bound:
                    time.sleep(0.15 + random.random() * 0.1)
                    pids = [p for p in idem.workers(a.proc.pid)
                            if p not in seen]
                    if not pids:
                        continue
                    pid = random.choice(pids)
                    try:
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                        seen.add(pid)
                    except ProcessLookupError:
                        pass
                time.sleep(1)       # load goes on on a respawned node A
            finally:
                stopped = load.stop()
            t.diag("%d kills in %.1f s; %d attempts, %d deliveries" % (
                kills, time.time() - started, len(load.attempts),
                len(load.finals)))
            t.ok(stopped, "kill -9: every sender finished (bounded)")
            t.eq(kills, KILLS, "node A's responders were SIGKILLed %d "
                 "times under load (lighttpd respawned them)" % KILLS)
            fin = statuses(load.finals)
            t.ok(sum(n for s, n in fin.items() if 200 <= s < 300) >=
                 0.95 * len(load.finals), "  ... senders' retries got "
                 "through", fin, statuses(load.attempts))
            per_node = [sum(1 for x in load.attempts if x[1] == i and
                            200 <= x[2] < 300) for i in (0, 1)]
            t.ok(min(per_node) > 0, "  ... both nodes answered 2xx (%s)" %
                 per_node)
            t.ok(any(x[2] != 200 for x in load.attempts if x[1] == 0),
                 "  ... and the kills cost node A answers",
                 statuses(load.attempts))
            store_check(t, "kill -9", b, ok2xx(load.finals))
            leases(t, a, b, ep, flags)
    finally:
        shutil.rmtree(flags, ignore_errors=True)


def leases(t, a, b, ep, flags):
    keys = ["lease-%d" % i for i in range(3)]
    got = {}

    def send(srv, key):
        return post_body(srv, ep, slow_body(key), catch=True)

    def first(key):
        got[key] = send(a, key)

    threads = [threading.Thread(target=first, args=(k,)) for k in keys]
    for th in threads:
        th.start()
    # Each handler running on node A: kill the responder it runs under.
    deadline = time.time() + h.scaled(15)
    handlers = {}
    while time.time() < deadline and len(handlers) < len(keys):
        for fn in os.listdir(flags):
            if fn.startswith("started.") and fn not in handlers:
                try:
                    with open(os.path.join(flags, fn)) as f:
                        handlers[fn] = int(f.read())
                except (OSError, ValueError):
                    pass
        time.sleep(0.05)
    victims = {ppid_of(p) for p in handlers.values()} - {None}
    theirs = victims <= set(idem.workers(a.proc.pid))
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in handlers.values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for th in threads:
        th.join(h.scaled(40))
    t.ok(len(handlers) == len(keys) and victims and theirs,
         "leases: %d handlers ran on node A; their responders (%d) were "
         "SIGKILLed" % (len(handlers), len(victims)), handlers, victims)
    t.ok(all(not 200 <= got.get(k, (0,))[0] < 300 for k in keys),
         "  ... no 2xx for them", got)
    logs = {(r.get("idempotency") or {}).get("key"): r for r in
            a.logs("--type", "order.slow", "--limit", "1000")}
    t.eq(sorted((k, (logs.get(k) or {}).get("status")) for k in keys),
         [(k, "pending") for k in keys], "  ... they are pending in the "
         "store")
    host = socket.gethostname()
    owners = [(logs.get(k) or {}).get("lease_owner") or "" for k in keys]
    t.ok(all(o.startswith(host + " pid ") and int(o.split()[-1]) in victims
             for o in owners), "  ... each names its lease's holder: "
         "node A's host and the killed responder's pid", owners, victims)
    again = [send(b, k) for k in keys]
    t.ok(all(st == 409 and (ra or "").isdigit() for st, ra, _ in again),
         "  ... node B answers a retry 409 with Retry-After while the "
         "lease runs", again)
    # The lease (3 s + 30 s) passed: node B's clock a minute on.  One
    # responder, so that which of its writes does housekeeping (its first
    # of every 8) does not depend on which process a request reaches.
    open(os.path.join(flags, "fast"), "w").close()
    b.max_procs = 1
    b.restart(env={"PORTER_CLOCK_OFFSET": "60"})
    after = [send(b, k) for k in keys]
    t.ok(all(st == 200 and (h.parse_json(raw) or {}).get("status") ==
             "accepted" for st, _, raw in after),
         "  ... once the lease passed, node B takes the keys over (200 "
         "accepted)", after)

    def by_key():
        out = {k: [] for k in keys}
        for r in a.logs("--type", "order.slow", "--limit", "1000"):
            k = (r.get("idempotency") or {}).get("key")
            if k in out:
                out[k].append(r.get("status"))
        return {k: sorted(v) for k, v in out.items()}

    want = {k: ["accepted", "conflict", "interrupted"] for k in keys}
    t.eq(by_key(), want, "  ... each dead execution is marked interrupted "
         "when its retry takes over; the retry executed once")
    # Housekeeping (2 recoveries every 8th write) gets there in the end.
    for i in range(16):
        post(b, ep, "lease-filler-%d" % i)
    t.eq(by_key(), want, "  ... and after 16 more writes on node B")
    rc, out, err = b.porterctl("check", timeout=CHECK_TIMEOUT)
    t.eq(rc, 0, "  ... porterctl check: consistent", out, err)


def pg_stop_immediate(t, pg):
    """pg_ctl stop -m immediate while senders post, a pause, a restart:
    only 503s with Retry-After while it is down, and every 2xx (before
    the stop too) in the store after it."""
    with h.Server(mount="/", max_procs=2, env={"PORTER_THREADS": "4"}) \
            as srv:
        rc, out, err = srv.apply(idem.config())
        t.eq(rc, 0, "stop -m immediate: config applies", err)
        ep = srv.sources()[("orders", "production")]
        load = Load([srv], ep, "imm", conns=8).start()
        marks = {}
        try:
            time.sleep(1.5)
            marks["stop"] = time.time()
            r = subprocess.run(pg.as_user + [
                pg_bin("pg_ctl"), "-D", pg.data, "-m", "immediate", "-w",
                "stop"], capture_output=True, text=True)
            marks["down"] = time.time()
            time.sleep(2)
        finally:
            marks["start"] = time.time()
            pg.start()
            marks["up"] = time.time()
        time.sleep(1.5)
        stopped = load.stop()
        t.eq(r.returncode, 0, "pg_ctl stop -m immediate under load",
             r.stderr)
        t.ok(stopped, "  ... every sender finished (bounded)")
        att = load.attempts
        down = [a for a in att if a[5] > marks["down"] and
                a[6] < marks["start"]]
        t.diag("%d requests, %d while down: %s" % (len(att), len(down),
                                                   statuses(att)))
        t.ok(len(down) >= 5 and all(a[2] == 503 and (a[3] or "").isdigit()
                                    for a in down),
             "  ... while it is down: 503 with Retry-After, nothing else "
             "(%d answers)" % len(down), statuses(down))
        odd = [a[:4] for a in att if a[2] != 200 and
               not (a[2] == 503 and (a[3] or "").isdigit())]
        t.eq(odd, [], "  ... across the stop and restart: 200, or 503 "
             "with Retry-After")
        before = ok2xx([a for a in att if a[6] < marks["stop"]])
        after = ok2xx([a for a in att if a[5] > marks["up"]])
        t.ok(before and after, "  ... 2xx before the stop (%d) and after "
             "the restart (%d)" % (len(before), len(after)))
        # The senders retry what failed: each key goes in once.
        todo = sorted({a[0] for a in load.finals if a[2] != 200})
        for key in todo:
            for _ in range(20):
                st, ra, raw = post(srv, ep, key)
                if st == 200:
                    break
                time.sleep(0.2)
        store_check(t, "stop -m immediate", srv, ok2xx(att),
                    keys=load.keys())
        ids = {r["id"] for r in srv.logs("--limit", "100000")}
        t.eq([a.get("id") for _, a in before if a.get("id") not in ids], [],
             "  ... every 2xx answered before the stop is there after the "
             "restart (%d)" % len(before))


def terminate_backends(t, pg):
    """pg_terminate_backend of every connection to the store's database,
    again and again, while senders post (and retry)."""
    with h.Server(mount="/", max_procs=2, env={"PORTER_THREADS": "4"}) \
            as srv:
        rc, out, err = srv.apply(idem.config())
        t.eq(rc, 0, "pg_terminate_backend: config applies", err)
        ep = srv.sources()[("orders", "production")]
        dbname = srv.db.rstrip("/").split("/")[-1]
        sql = ("SELECT count(pg_terminate_backend(pid)) FROM "
               "pg_stat_activity WHERE datname = '%s' AND pid <> "
               "pg_backend_pid()" % dbname)
        load = Load([srv], ep, "term", copies=2, tries=40).start()
        rounds, killed = 0, 0
        bound = time.time() + h.scaled(60)
        try:
            time.sleep(0.5)
            while rounds < TERMINATE_ROUNDS and time.time() < bound:
                r = subprocess.run(["psql", "-At", "-d", pg.uri + "postgres",
                                    "-c", sql], capture_output=True,
                                   text=True, timeout=h.scaled(10))
                n = int(r.stdout.strip() or "0") if r.returncode == 0 else 0
                if n > 0:
                    rounds += 1
                    killed += n
                time.sleep(0.15 + random.random() * 0.1)
            time.sleep(1)
        finally:
            stopped = load.stop()
        att = load.attempts
        t.diag("%d rounds, %d connections terminated; %d attempts: %s" % (
            rounds, killed, len(att), statuses(att)))
        t.ok(stopped, "pg_terminate_backend: every sender finished "
             "(bounded)")
        t.eq(rounds, TERMINATE_ROUNDS, "  ... Porter's connections "
             "terminated %d times under load (%d connections)" % (
                 TERMINATE_ROUNDS, killed))
        t.ok(any(a[2] == 503 for a in att), "  ... which cost answers "
             "(503)", statuses(att))
        odd = [a[:4] for a in att if a[2] != 200 and
               not (a[2] == 503 and (a[3] or "").isdigit())]
        t.eq(odd, [], "  ... every answer 200, or 503 with Retry-After")
        fin = statuses(load.finals)
        t.ok(fin.get(200, 0) >= 0.95 * len(load.finals),
             "  ... senders' retries got through", fin)
        store_check(t, "pg_terminate_backend", srv, ok2xx(att))


def identify_config():
    """people/production: event type prop.NN identifies user data.id with
    one property, kNN = data.v (unsigned)."""
    return {"sources": [{"key": "people", "type": "custom", "environments": {
        "production": {
            "verify": False, "event_type_path": "body.type",
            "mappings": [{"event_type": "prop.%02d" % i,
                          "action": "users_identify",
                          "params": {"id": "data.id",
                                     "properties": {"k%02d" % i: "data.v"}}}
                         for i in range(PROPS)]}}}]}


def identify_race(t, label):
    """Two nodes identify the same users at once, each event with another
    property: afterwards every user has every property."""
    with h.Server(mount="/", max_procs=2, env={"PORTER_THREADS": "4"}) \
            as a, h.Server(mount="/", max_procs=2,
                           env={"PORTER_THREADS": "4"}, db=a.db) as b:
        rc, out, err = a.apply(identify_config())
        t.eq(rc, 0, "%s: config applies" % label, err)
        ep = a.sources()[("people", "production")]
        users = ["user-%d" % u for u in range(2)]
        for rnd in range(3):
            jobs = [(u, i) for u in users for i in range(PROPS)]
            random.shuffle(jobs)
            res = []
            lock = threading.Lock()

            def worker(part):
                # A sender: what is not answered 200 goes again, to the
                # other node.
                for n, (u, i) in part:
                    got = []
                    for attempt in range(20):
                        srv = (a, b)[(n + attempt) % 2]
                        r = srv.post(srv.url("/receive/" + ep), {
                            "type": "prop.%02d" % i,
                            "data": {"id": u, "v": "r%d-%02d" % (rnd, i)}})
                        got.append((r.status, r.raw[:200]))
                        if r.status == 200:
                            break
                        time.sleep(0.05 * (attempt + 1))
                    with lock:
                        res.append((u, i, got))

            numbered = list(enumerate(jobs))
            threads = [threading.Thread(target=worker,
                                        args=(numbered[k::CONNS],))
                       for k in range(CONNS)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(h.scaled(120))
            retried = [x for x in res if len(x[2]) > 1]
            t.ok(len(res) == len(jobs) and not retried, "%s, round %d: %d "
                 "identifies of %d users at once on two nodes, all 200 "
                 "the first time" % (label, rnd + 1, len(jobs), len(users)),
                 "%d of %d needed a retry; first answers:" % (
                     len(retried), len(jobs)), *[x[2][0] for x in retried[:5]])
            t.ok(len(res) == len(jobs) and all(x[2][-1][0] == 200
                                               for x in res),
                 "  ... each 200 in the end (the senders retried)",
                 [x for x in res if x[2][-1][0] != 200][:3])
            lost = {}
            for u in users:
                rc, out, err = a.porterctl("users", u, "--json")
                props = (json.loads(out) if rc == 0 and out.strip()
                         else {}).get("properties") or {}
                want = {"k%02d" % i: "r%d-%02d" % (rnd, i)
                        for i in range(PROPS)}
                diff = sorted(k for k in want if props.get(k) != want[k])
                if diff:
                    lost[u] = diff
            t.eq(lost, {}, "  ... every user has every property of the "
                 "round (no lost update)")
        rc, out, err = a.porterctl("check", timeout=CHECK_TIMEOUT)
        t.eq(rc, 0, "  ... porterctl check: consistent", out, err)


def sql(pg, query, db="postgres"):
    """One statement on the server's database "db": its output."""
    r = subprocess.run(["psql", "-At", "-d", pg.uri + db, "-c", query],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr


FLUSHED = ("SELECT pg_current_wal_flush_lsn() >= "
           "pg_current_wal_insert_lsn()")


def posts_flushed(t, pg, srv, prefix, n, label):
    """Apply the idempotency suite's config to "srv", post "n" webhooks one
    after the other: each answered 200 with the WAL then flushed to its
    end."""
    rc, out, err = srv.apply(idem.config())
    t.eq(rc, 0, "  ... config applies", err)
    ep = srv.sources()[("orders", "production")]
    # The first request also starts the store's maintenance (a write of its
    # own, every 10 s): out of the way first.
    post(srv, ep, "%s-warm" % prefix)
    time.sleep(1)
    got = []
    for i in range(n):
        st, _, _ = post(srv, ep, "%s-%02d" % (prefix, i))
        got.append((st, sql(pg, FLUSHED)))
    t.eq(got, [(200, "t")] * n, label)


def quiet(pg, seconds=1.0):
    """Wait (bounded) until the server's WAL has not moved for "seconds"."""
    last, since = None, time.monotonic()
    deadline = since + h.scaled(20)
    while time.monotonic() < deadline:
        now = sql(pg, "SELECT pg_current_wal_insert_lsn()")
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
        time.sleep(0.1)


def durable_flush(t):
    """A durable commit does not wait for the disk inside the writer lock
    (the next writer goes on meanwhile), but its 2xx still waits for the
    WAL flush: with the server's WAL writer slowed to 10 s, whenever a
    webhook has been answered 2xx the WAL is flushed as far as it is
    written.  (A transaction that only takes an xid commits without a
    flush: that mistake made 2 of 3,580 answered events vanish in the
    immediate-stop case.)  On a server of its own, with no autovacuum:
    WAL that is not Porter's (a vacuum the suite's earlier cases left
    running, a backend pruning a page) is written without a flush too,
    and failed the check on the shared one in CI."""
    pg = Postgres()
    h._live.insert(0, pg)
    try:
        pg.start(settings=("wal_writer_delay=10s", "autovacuum=off"))
        t.eq(sql(pg, "SHOW wal_writer_delay"), "10s",
             "durable flush: the WAL writer slowed to 10 s")
        quiet(pg)
        with h.Server(mount="/", max_procs=1,
                      db=h.new_pg_database(pg.uri)) as srv:
            posts_flushed(t, pg, srv, "flush", 20, "  ... after each of 20 "
                          "webhooks answered 200, the WAL is flushed up to "
                          "its end")
        # A server without the logical message (or a role that may not
        # call it): the commit waits for its flush inside the lock.
        sql(pg, "CREATE ROLE noemit LOGIN")
        sql(pg, "CREATE DATABASE noemit OWNER noemit")
        # (Functions are each database's own.)
        sql(pg, "REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, "
            "text, text) FROM PUBLIC", "noemit")
        uri = pg.uri.replace("porter@", "noemit@") + "noemit"
        r = subprocess.run(["psql", "-At", "-d", uri, "-c", "SELECT "
                            "pg_logical_emit_message(false, 'x', '')"],
                           capture_output=True, text=True)
        t.ok(r.returncode != 0 and "permission denied" in r.stderr,
             "  ... a role that may not write a logical message", r.stderr)
        with h.Server(mount="/", max_procs=1, db=uri) as srv:
            posts_flushed(t, pg, srv, "noemit", 10, "  ... durable there "
                          "too: flushed after each of 10 webhooks answered "
                          "200")
            # porterctl load ends with a sync: a row of meta instead.
            rc, out, err = srv.porterctl("load", "--source", "orders",
                                         "--env", "production", "--count",
                                         "50")
            t.eq((rc, sql(pg, FLUSHED)), (0, "t"),
                 "  ... porterctl load's closing sync flushes it", out, err,
                 sql(pg, "SELECT backend_type, state, left(query, 60) FROM "
                     "pg_stat_activity WHERE pid <> pg_backend_pid()"))
            rc, out, err = srv.porterctl("check", timeout=CHECK_TIMEOUT)
            t.eq(rc, 0, "  ... porterctl check: consistent", out, err)
    finally:
        h._live.remove(pg)
        pg.close()


def serializable(t, pg):
    """The server restarted with default_transaction_isolation =
    serializable (CockroachDB's default): the relayed suites again."""
    pg.stop()
    pg.start(settings=[SERIALIZABLE])
    r = subprocess.run(["psql", "-At", "-d", pg.uri + "postgres", "-c",
                        "SHOW default_transaction_isolation"],
                       capture_output=True, text=True)
    t.eq(r.stdout.strip(), "serializable", "the server restarted with "
         "default_transaction_isolation = serializable", r.stderr)
    identify_race(t, "identify race, serializable")
    relay(t, pg, "test_idempotency.py", "postgresql serializable")
    relay(t, pg, "test_core.py", "postgresql serializable")


def copy_and_back(t, pg):
    """porterctl migrate, copy LMDB -> PostgreSQL -> LMDB (compared, both
    checked), status and /metrics on the database, and webhooks taken by
    a responder on the copy, each once across the move."""
    ctl = h.PORTERCTL
    with h.Server(mount="/", max_procs=1,
                  db=os.path.join(tempfile.mkdtemp(prefix="porter-lmdb-"),
                                  "db")) as lm:
        rc, out, err = lm.apply(idem.config())
        t.eq(rc, 0, "copy: the LMDB store takes the configuration", err)
        ep = lm.sources()[("orders", "production")]
        got = [post(lm, ep, "copy-%d" % i)[0] for i in range(5)]
        t.eq(got, [200] * 5, "copy: webhooks into the LMDB store")
        rc, out, err = lm.porterctl("load", "--source", "orders", "--env",
                                    "production", "--count", "3000")
        t.eq(rc, 0, "copy: 3000 more events loaded", err)
        rc, token, err = lm.porterctl("token", "create", "ops")
        t.eq(rc, 0, "copy: an admin token", err)
        token = token.strip()
        src = lm.db
    db = h.new_pg_database(pg.uri)
    # migrate: the tables made before anything else runs.
    r = h.run([ctl, "--db", db, "status"])
    t.ok(r[0] == 1 and "porterctl --db URI migrate" in r[2],
         "a database without Porter's tables: status says to migrate", r)
    r = h.run([ctl, "--db", db, "migrate"])
    t.ok(r[0] == 0 and "postgresql store is ready" in r[1],
         "porterctl migrate makes the tables", r)
    r = h.run([ctl, "--db", db, "migrate"])
    t.eq(r[0], 0, "  ... and again changes nothing", r)
    r = h.run([ctl, "copy", "--from", src, "--to", db])
    t.ok(r[0] == 0 and "the same on both sides" in r[1] and
         "destination 3005 events, 0 problems" in r[1],
         "copy LMDB -> PostgreSQL: compared equal, both checked", r)
    r = h.run([ctl, "copy", "--from", src, "--to", db])
    t.ok(r[0] == 1 and "holds Porter data already" in r[2],
         "copy into a store that is not empty: refused", r)
    r = h.run([ctl, "copy", "--from", db, "--to", db])
    t.eq(r[0], 2, "copy a store onto itself: a usage error", r)
    back = os.path.join(tempfile.mkdtemp(prefix="porter-back-"), "db")
    r = h.run([ctl, "copy", "--from", db, "--to", back])
    t.ok(r[0] == 0 and "the same on both sides" in r[1],
         "copy PostgreSQL -> a new LMDB directory: compared equal", r)
    a = h.run([ctl, "--db", src, "export"])
    b = h.run([ctl, "--db", back, "export"])
    t.ok(a[0] == 0 and a[1] == b[1], "  ... the configuration round-trips")
    a = h.run([ctl, "--db", src, "token", "list"])
    b = h.run([ctl, "--db", db, "token", "list"])
    t.ok(a[0] == 0 and "ops" in a[1] and a[1] == b[1],
         "  ... and the admin token", a, b)
    r = h.run([ctl, "--db", db, "status", "--json"])
    st = json.loads(r[1]) if r[0] == 0 else {}
    t.ok(st.get("backend") == "postgresql" and
         st.get("server", "").startswith("PostgreSQL ") and
         isinstance(st.get("round_trip_us"), int) and
         st.get("max_connections") == 8 and st.get("connections", 0) >= 1 and
         st.get("entries", {}).get("events") == 3005,
         "status on the database: backend, server, round trip, "
         "connections, counts", r)
    r = h.run([ctl, "--db", db, "status"])
    t.ok(r[0] == 0 and "backend    postgresql, PostgreSQL" in r[1] and
         "the database server's disk is the limit" in r[1] and
         "map " not in r[1], "status in text: no map, the server's disk",
         r[1])
    with h.Server(mount="/", max_procs=1, db=db) as srv:
        st, ra, body = post(srv, ep, "copy-2")
        t.ok(st == 200 and json.loads(body).get("status") == "idempotent",
             "on the copy, a key taken before the move is idempotent",
             st, body)
        st, ra, body = post(srv, ep, "copy-new")
        t.ok(st == 200 and json.loads(body).get("status") == "accepted",
             "  ... and a new one goes in", st, body)
        executed, replayed, ids, runs = idem.store_view(srv)
        t.eq(sorted(k for k in executed if k),
             sorted(["copy-%d" % i for i in range(5)] +
                    ["copy-new"]),
             "  ... each key executed once, across the move")
        t.eq(max(n for k, n in executed.items() if k), 1,
             "  ... none twice")
        r = srv.get(srv.url("/healthz"))
        t.ok(r.status == 200 and r.json["store"]["backend"] ==
             "postgresql", "healthz names the backend", repr(r))
        r = srv.get(srv.url("/metrics"),
                    {"Authorization": "Bearer " + token})
        text = r.raw.decode("utf-8", "replace")
        t.ok(r.status == 200 and 'backend="postgresql"' in text and
             "porter_store_connections " in text and
             "porter_store_round_trip_seconds " in text,
             "/metrics, with the token copied over: the backend, its "
             "connections and round trip", r.status, text[-1500:])
    for d in (src, back):
        shutil.rmtree(os.path.dirname(d), ignore_errors=True)


def statements(pg, since):
    """Lines of the server's log after offset "since" that begin a read
    transaction (log_statement=all), and the log's end."""
    with open(os.path.join(pg.dir, "log"), "rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    return text.count("REPEATABLE READ READ ONLY"), since + len(text.encode())


def log_end(pg):
    return os.path.getsize(os.path.join(pg.dir, "log"))


def parallel_posts(srv, ep, keys):
    """post() each key, THREADS at a time; the statuses."""
    out = [None] * len(keys)

    def one(i):
        out[i] = post(srv, ep, keys[i])[0]
    for base in range(0, len(keys), THREADS):
        ths = [threading.Thread(target=one, args=(i,))
               for i in range(base, min(base + THREADS, len(keys)))]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
    return out


def config_watch(t, pg):
    """The configuration and the compression dictionary's id are not read
    per request while the responder LISTENs (a commit that changes them
    NOTIFYs): fewer round trips, and an apply is seen at once;
    PORTER_PG_LISTEN=0 (a pooler in transaction mode) reads them each
    time."""
    db = h.new_pg_database(pg.uri)
    r = subprocess.run(["psql", "-q", "-d", pg.uri + "postgres", "-c",
                        "ALTER DATABASE %s SET log_statement = 'all'" %
                        db.split("/")[-1]], capture_output=True, text=True)
    t.eq(r.returncode, 0, "config watch: statements logged", r.stderr)
    reads = {}
    for listen in ("1", "0"):
        with h.Server(mount="/", max_procs=1, db=db,
                      env={"PORTER_PG_LISTEN": listen,
                           "PORTER_THREADS": str(THREADS)}) as srv:
            if listen == "1":
                rc, out, err = srv.apply(idem.config())
                t.eq(rc, 0, "config watch: applies", err)
            ep = srv.sources()[("orders", "production")]
            # Each of the responder's threads keeps its own copy: one
            # request each (at once, so that every thread takes one).
            warm = parallel_posts(srv, ep, ["watch-%s-w%d" % (listen, i)
                                            for i in range(THREADS * 2)])
            time.sleep(1)   # the watcher connects and LISTENs
            mark = log_end(pg)
            got = [post(srv, ep, "watch-%s-%d" % (listen, i))[0]
                   for i in range(20)]
            time.sleep(0.3)
            reads[listen], _ = statements(pg, mark)
            t.eq(warm + got, [200] * (THREADS * 2 + 20),
                 "PORTER_PG_LISTEN=%s: webhooks "
                 "go in" % listen)
            if listen != "1":
                continue
            cfg = idem.config()
            cfg["sources"][0]["environments"]["staging"] = dict(
                cfg["sources"][0]["environments"]["production"])
            rc, out, err = srv.apply(cfg)
            started = time.time()
            staging = srv.sources()[("orders", "staging")]
            st = None
            while time.time() - started < 3:
                st = post(srv, staging, "watch-staging")[0]
                if st == 200:
                    break
                time.sleep(0.05)
            t.ok(rc == 0 and st == 200, "an apply is seen by the LISTENing "
                 "responder at once (%.2f s; without the notification it "
                 "would wait up to 5 s)" % (time.time() - started), st, err)
    t.diag("read transactions for 20 webhooks: %d listening, %d not" %
           (reads["1"], reads["0"]))
    t.ok(reads["0"] >= 20 and reads["1"] <= THREADS,
         "listening, neither the configuration nor the compression "
         "dictionary is read for each webhook (%d read transactions "
         "against %d)" % (reads["1"], reads["0"]))


def readme_block(marker):
    """The shell block after "<!-- marker -->" in the README."""
    with open(os.path.join(h.TOP_SRCDIR, "README.md")) as f:
        text = f.read()
    after = text.split("<!-- %s -->" % marker, 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def readme_two_nodes(t, pg):
    """README "Two front servers on one database", run as written: only
    the database, the directories and the ports are this test's."""
    block = readme_block("two-nodes")
    tmp = tempfile.mkdtemp(prefix="porter-readme-")
    db = h.new_pg_database(pg.uri)
    ports = [str(h.free_port()), str(h.free_port())]
    for old, new in (("postgresql://porter@db.internal/porter", db),
                     ("/run/porter-", tmp + "/run-"),
                     ("/var/log/porter-", tmp + "/log-"),
                     ("-o www-data ", ""),      # PORTER_USER="": no switch
                     ("8081", ports[0]), ("8082", ports[1])):
        t.ok(old in block, "README block: has %r" % old)
        block = block.replace(old, new)
    env = dict(os.environ, PORTER_FCGI=h.PORTER_FCGI, PORTER_USER="",
               PORTER_DOCROOT=tmp, PATH=os.pathsep.join([
                   os.path.dirname(h.PORTERCTL), "/usr/sbin", "/sbin",
                   os.environ.get("PATH", "")]))
    env.pop("PORTER_DB", None)
    try:
        r = subprocess.run(["bash", "-e", "-c", block], cwd=h.TOP_SRCDIR,
                           env=env, capture_output=True, text=True,
                           timeout=h.scaled(120))
        t.eq(r.returncode, 0, "the README's two-node block runs",
             r.stdout[-2000:], r.stderr[-2000:])
        t.ok('"status": "accepted"' in r.stdout and
             '"idempotent": true' in r.stdout,
             "  ... node A accepts the event, node B answers its duplicate "
             "idempotent", r.stdout[-2000:])
        logs = [ln for ln in r.stdout.splitlines()
                if "tasks/production" in ln and "task.assigned" in ln]
        t.eq(len(logs), 2, "  ... and porterctl logs lists both deliveries",
             r.stdout[-2000:])
    finally:
        for node in ("a", "b"):
            pid = os.path.join(tmp, "run-" + node, "porter-lighttpd.pid")
            try:
                with open(pid) as f:
                    os.kill(int(f.read().strip()), 15)
            except (OSError, ValueError):
                pass
        time.sleep(0.5)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    if pg_bin("initdb") is None or h.which("psql") is None:
        h.skip_all("PostgreSQL not installed (Debian: postgresql)")
    if h.which("pgrep") is None:
        h.skip_all("pgrep (procps) not installed")
    t = h.Tap()
    h.watchdog(t, WATCHDOG)
    pg = Postgres()
    h._live.insert(0, pg)       # stopped last, at exit or on a signal
    try:
        pg.start()
        os.environ["PORTER_E2E_PG"] = pg.uri
        t.run(backend_unit, t, pg)
        relay(t, pg, "test_core.py")
        relay(t, pg, "test_idempotency.py")
        relay(t, pg, "test_actions.py")
        relay(t, pg, "test_sources.py")
        relay(t, pg, "test_admin.py")
        two_fronts(t, pg)
        t.run(durable_flush, t)
        server_down(t, pg)
        t.run(kill_nodes, t, pg)
        t.run(pg_stop_immediate, t, pg)
        t.run(terminate_backends, t, pg)
        t.run(identify_race, t, "identify race")
        t.run(copy_and_back, t, pg)
        t.run(config_watch, t, pg)
        t.run(readme_two_nodes, t, pg)
        tls(t, pg)
        t.run(serializable, t, pg)
    finally:
        if pg in h._live:
            h._live.remove(pg)
        pg.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
