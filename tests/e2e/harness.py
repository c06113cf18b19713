"""harness.py - run Porter for real and talk to it (Python 3 stdlib only).

Three ways in, all on 127.0.0.1:

  Server(mount="/")      a real lighttpd started from lighttpd.conf.example
                         (unchanged; parameterised by PORTER_* environment
                         variables) serving porter.fcgi over FastCGI
  run_cgi(...)           porter.fcgi executed as a plain CGI program: CGI
                         variables in its environment, the body on stdin
  FcgiSpawn(db)          porter.fcgi under spawn-fcgi on a TCP port, driven
                         with cgi-fcgi (package libfcgi-bin)

Results are printed as TAP for automake's tap-driver.sh through Tap.  The
binaries are $top_builddir/src/porter.fcgi and $top_builddir/src/porterctl;
the config is $top_srcdir/lighttpd.conf.example.  When those variables are
unset (running a test by hand) both default to the source tree this file
lives in.  Set PORTER_E2E_KEEP=1 to keep the temporary directories.

PORTER_E2E_VALGRIND=1 runs every responder this harness starts (lighttpd's
FastCGI processes, plain CGI runs, spawn-fcgi) under valgrind's memcheck,
through a wrapper script, with one log per process in
$PORTER_E2E_VALGRIND_DIR (default: a temporary directory).  Tap.done()
then stops everything still running and adds one test case per test
program: no memcheck error and no definite leak in any responder.  The
seccomp filter is off under valgrind (PORTER_SECCOMP=0): valgrind makes
system calls of its own that the filter does not allow.

Every wait is bounded; Server and FcgiSpawn stop what they started (by pid
and process group) on close(), at exit and on SIGTERM/SIGALRM.  The bounds
(the timeouts below, watchdog(), scaled()) are what a plain build needs on
a loaded 2-CPU machine, times TIME_SCALE: 4 when porter.fcgi was built with
AddressSanitizer (found in the binary), 10 under valgrind, or
$PORTER_E2E_TIME_SCALE for a slower host.
"""

import atexit
import base64
import hashlib
import hmac
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.abspath(os.environ.get("top_srcdir") or
                             os.path.join(HERE, "..", ".."))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir") or TOP_SRCDIR)
PORTER_FCGI = os.path.join(TOP_BUILDDIR, "src", "porter.fcgi")
PORTERCTL = os.path.join(TOP_BUILDDIR, "src", "porterctl")
LIGHTTPD_CONF = os.path.join(TOP_SRCDIR, "lighttpd.conf.example")

KEEP = os.environ.get("PORTER_E2E_KEEP") == "1"
VALGRIND = os.environ.get("PORTER_E2E_VALGRIND") == "1"


def _sanitized(path):
    """Was the program "path" linked with AddressSanitizer?  (Its runtime's
    entry point is in the binary's dynamic symbols.)"""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = _sanitized(PORTER_FCGI)
# How much slower than a plain build this run is: the suites run three to
# five times slower with ASan and UBSan (test_sources: 12 s plain, 59 s
# ASan on a loaded 2-CPU machine), ten to thirty times under valgrind.
TIME_SCALE = float(os.environ.get("PORTER_E2E_TIME_SCALE") or
                   (10 if VALGRIND else 4 if ASAN else 1))


def scaled(seconds):
    """"seconds" of a plain build on a loaded machine, for this run."""
    return seconds * TIME_SCALE


CMD_TIMEOUT = scaled(30)        # seconds, any porterctl / CGI run
HTTP_TIMEOUT = scaled(15)       # seconds, any HTTP exchange
START_TIMEOUT = scaled(15)      # seconds, lighttpd until healthz answers

_live = []              # objects with close(), stopped at exit
_owner = os.getpid()    # a forked child (multiprocessing) stops nothing


def _close_all():
    if os.getpid() != _owner:
        return
    while _live:
        try:
            _live.pop().close()
        except Exception:
            pass


atexit.register(_close_all)


def await_health(srv, name):
    """Wait until srv's /healthz answers 200 while srv.proc runs: None then;
    else stop the process and return the tail of its log."""
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline and srv.proc.poll() is None:
        try:
            r = srv.request("GET", srv.url("/healthz"), timeout=scaled(2))
            if r.status == 200:
                return None
        except OSError:
            pass
        time.sleep(0.1)
    last = srv.tail()
    _stop(srv.proc, name)
    srv.proc = None
    return last


def watchdog(tap, seconds):
    """Bound the whole test file to "seconds" of a plain build (scaled()):
    then stop every server, report one failed case and the plan (or bail
    out when "tap" is None), and exit."""
    limit = int(scaled(seconds) + 0.5)
    why = "watchdog: over %d s (%d s x %g for this build)" % (
        limit, seconds, TIME_SCALE)

    def fire(signum, frame):
        _close_all()
        if tap is None:
            print("Bail out! " + why)
        else:
            print("not ok %d - %s" % (tap.n + 1, why))
            print("1..%d" % (tap.n + 1))
        sys.stdout.flush()
        os._exit(1)

    signal.signal(signal.SIGALRM, fire)
    signal.alarm(limit)


def _on_signal(signum, frame):
    if os.getpid() != _owner:
        os._exit(128 + signum)
    _close_all()
    sys.stdout.write("Bail out! killed by signal %d\n" % signum)
    sys.stdout.flush()
    os._exit(1)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") +
                        ":/usr/sbin:/sbin:/usr/local/sbin")


# ---------------------------------------------------------------- valgrind

_vg = {"dir": None, "wrapper": None}


def valgrind_dir():
    """Where the responders' valgrind logs go (made on first use)."""
    if _vg["dir"] is None:
        d = os.environ.get("PORTER_E2E_VALGRIND_DIR")
        if d:
            os.makedirs(d, exist_ok=True)
        else:
            d = tempfile.mkdtemp(prefix="porter-vg-")
        _vg["dir"] = d
    return _vg["dir"]


def responder():
    """The responder to run: porter.fcgi, or with PORTER_E2E_VALGRIND=1 a
    script that execs it under valgrind (the FastCGI socket, stdin and the
    environment pass through unchanged)."""
    if not VALGRIND:
        return PORTER_FCGI
    if _vg["wrapper"] is None:
        vg = which("valgrind")
        if vg is None:
            bail_out("PORTER_E2E_VALGRIND=1 but valgrind is not installed")
        d = valgrind_dir()
        fn = os.path.join(d, "porter.fcgi-valgrind")
        with open(fn, "w") as f:
            f.write("#!/bin/sh\n"
                    "# made by tests/e2e/harness.py (PORTER_E2E_VALGRIND=1)\n"
                    "PORTER_SECCOMP=0; export PORTER_SECCOMP\n"
                    "exec %s --error-exitcode=99 --leak-check=full "
                    "--errors-for-leak-kinds=definite "
                    "--show-leak-kinds=definite --num-callers=30 "
                    "--log-file=%s/vg.%%p.log %s \"$@\"\n"
                    % (vg, d, PORTER_FCGI))
        os.chmod(fn, 0o755)
        _vg["wrapper"] = fn
    return _vg["wrapper"]


def _vg_logs():
    d = _vg["dir"]
    if d is None:
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.startswith("vg.") and f.endswith(".log"))


def _vg_done(text):
    return "ERROR SUMMARY:" in text


def _vg_read(log):
    try:
        with open(log, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _vg_wait(timeout=scaled(2)):
    """Give responders under valgrind time to finish their leak check
    (written at exit): wait until every log whose process is still alive
    has its "ERROR SUMMARY", at most "timeout" seconds."""
    if not VALGRIND:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = False
        for log in _vg_logs():
            pid = os.path.basename(log)[3:-4]
            if _vg_done(_vg_read(log)) or not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    state = f.read().rpartition(")")[2].split()[0]
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    ours = b"porter.fcgi" in f.read()
            except (OSError, IndexError):
                continue
            if ours and state != "Z":
                busy = True
                break
        if not busy:
            return
        time.sleep(0.2)


def valgrind_errors():
    """([excerpt of each log that reports errors], number of logs).  A
    log with no "ERROR SUMMARY" is a process killed before it could write
    one (SIGKILL): not an error by itself."""
    errors = []
    logs = _vg_logs()
    for log in logs:
        text = _vg_read(log)
        for line in text.splitlines():
            if "ERROR SUMMARY:" in line and " 0 errors" not in line:
                errors.append("%s:\n%s" % (log, text[-8000:]))
                break
    return errors, len(logs)


# --------------------------------------------------------------------- TAP

class Tap:
    """A TAP producer: ok()/eq()/has(), run() for a whole test function,
    done() prints the plan and returns the exit status."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def _emit(self, line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def diag(self, *lines):
        for text in lines:
            for line in str(text).splitlines() or [""]:
                self._emit("# " + line)

    def ok(self, cond, desc, *diag):
        self.n += 1
        desc = desc.replace("#", "\\#").replace("\n", " ")
        self._emit("%sok %d - %s" % ("" if cond else "not ", self.n, desc))
        if not cond:
            self.failed += 1
            here = os.path.abspath(__file__)
            for frame in reversed(traceback.extract_stack()):
                if os.path.abspath(frame.filename) != here:
                    self.diag("  failed at %s:%d" % (
                        os.path.basename(frame.filename), frame.lineno))
                    break
            self.diag(*diag)
        return bool(cond)

    def eq(self, got, want, desc, *diag):
        return self.ok(got == want, desc,
                       "  got:  %r" % (got,), "  want: %r" % (want,), *diag)

    def has(self, container, item, desc, *diag):
        ok = container is not None and item in container
        return self.ok(ok, desc, "  %r not in %r" % (item, container), *diag)

    def skip(self, desc, why):
        self.n += 1
        self._emit("ok %d - %s # SKIP %s" % (self.n, desc, why))

    def run(self, fn, *args):
        """Call a test function; an exception becomes one "not ok"."""
        try:
            fn(*args)
        except Exception:
            self.ok(False, "%s raised" % fn.__name__,
                    traceback.format_exc())

    def done(self):
        if VALGRIND:
            _close_all()
            errors, nlogs = valgrind_errors()
            partial = sum(1 for log in _vg_logs()
                          if not _vg_done(_vg_read(log)))
            if partial:
                self.diag("valgrind: %d log%s without a summary (a fork "
                          "that exec'd a workflow handler, or a process "
                          "killed)" % (partial, "" if partial == 1 else "s"))
            self.diag("valgrind logs: %s" % valgrind_dir())
            self.ok(nlogs > 0 and not errors,
                    "valgrind: no memcheck error or definite leak in %d "
                    "responder process%s" % (nlogs, "" if nlogs == 1 else
                                             "es"), *errors)
        self._emit("1..%d" % self.n)
        return 1 if self.failed else 0


def skip_all(why):
    print("1..0 # SKIP %s" % why)
    sys.stdout.flush()
    sys.exit(0)


def bail_out(why):
    print("Bail out! %s" % why)
    sys.stdout.flush()
    _close_all()
    sys.exit(1)


def require_binaries():
    for path in (PORTER_FCGI, PORTERCTL):
        if not os.access(path, os.X_OK):
            bail_out("%s is not built (run make first)" % path)


def have_seccomp():
    """Was this build configured with seccomp (config.h)?"""
    try:
        with open(os.path.join(TOP_BUILDDIR, "config.h")) as f:
            return "\n#define HAVE_SECCOMP 1\n" in f.read()
    except OSError:
        return False


# ----------------------------------------------------------------- helpers

def sign(secret, body):
    """Lower-case hex HMAC-SHA256 of "body" (bytes) with "secret"."""
    if isinstance(secret, str):
        secret = secret.encode()
    if isinstance(body, str):
        body = body.encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def svix_headers(secret, msg_id, body, ts=None):
    """The three headers a Svix sender (Clerk, Standard Webhooks with
    svix- names) signs "body" (bytes) with: svix-id, svix-timestamp and
    svix-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed
    with the base64 after "whsec_"."""
    ts = int(time.time()) if ts is None else ts
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), ts, body),
                   hashlib.sha256).digest()
    return {"svix-id": msg_id, "svix-timestamp": str(ts),
            "svix-signature": "v1," + base64.b64encode(mac).decode()}


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_json(raw):
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


class Response(tuple):
    """(status, headers, json): headers is a dict with lower-case names,
    json the parsed body or None; .raw is the body as bytes."""

    def __new__(cls, status, headers, raw):
        self = tuple.__new__(cls, (status, headers, parse_json(raw)))
        self.raw = raw
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    json = property(lambda self: self[2])

    def error_code(self):
        j = self[2]
        return j.get("error") if isinstance(j, dict) else None

    def __repr__(self):
        return "Response(%r, %r)" % (self[0], self.raw[:300])


def parse_cgi_output(out):
    """Split a CGI response ("Status: 200 OK" + headers, blank line, body)
    into a Response.  A missing Status header means 200 (RFC 3875 6.3.3)."""
    sep = out.find(b"\r\n\r\n")
    seplen = 4
    if sep < 0 or (out.find(b"\n\n") >= 0 and out.find(b"\n\n") < sep):
        sep, seplen = out.find(b"\n\n"), 2
    if sep < 0:
        return Response(0, {}, out)
    headers = {}
    for line in out[:sep].decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = 200
    if "status" in headers:
        try:
            status = int(headers["status"].split()[0])
        except ValueError:
            status = 0
    return Response(status, headers, out[sep + seplen:])


def run(args, input=None, env=None, timeout=CMD_TIMEOUT):
    """Run a command; returns (rc, stdout, stderr) as text."""
    p = subprocess.run(args, input=input, env=env, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def read_ndjson(proc, want, seconds):
    """NDJSON records from "proc"'s stdout (a --follow) until "want" of
    them arrived or "seconds" passed, whichever is first.  Raw bytes:
    select() cannot see what a buffered reader holds."""
    lines, buf = [], b""
    fd = proc.stdout.fileno()
    deadline = time.time() + seconds
    while time.time() < deadline and len(lines) < want:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                lines.append(json.loads(line))
    return lines


# ------------------------------------------------------------------ state

def new_pg_database(base):
    """Create an empty database on the server of URI "base"; its URI."""
    name = "porter_%s" % os.urandom(6).hex()
    base = base.rstrip("/")
    r = subprocess.run(["psql", "-q", "-d", base + "/postgres", "-c",
                        "CREATE DATABASE %s" % name],
                       capture_output=True, text=True)
    if r.returncode != 0:
        bail_out("PORTER_E2E_PG: cannot create a database: " + r.stderr)
    return base + "/" + name


class Workdir:
    """A temporary directory holding the LMDB store (db/) and logs, with the
    porterctl helpers.  Base of Server; used alone for CGI runs."""

    def __init__(self, prefix="porter-e2e-", db=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.db = os.path.join(self.dir, "db")
        os.mkdir(self.db)
        # PORTER_E2E_PG=postgresql://user@host:port/: the store is a new
        # database on that server instead (test_postgresql.py starts one);
        # "db" names the store to share (a second front server).
        if db is not None:
            self.db = db
        elif os.environ.get("PORTER_E2E_PG"):
            self.db = new_pg_database(os.environ["PORTER_E2E_PG"])
        self._napply = 0
        _live.append(self)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def porterctl(self, *args, input=None, timeout=CMD_TIMEOUT):
        """porterctl --db DIR ARGS...; returns (rc, stdout, stderr)."""
        return run([PORTERCTL, "--db", self.db] + [str(a) for a in args],
                   input=input, timeout=timeout)

    def apply(self, config, *args, allow_delete=True):
        """Write "config" (a dict) as JSON and porterctl apply it.  Tests
        replace whole configurations: removing environments is allowed
        unless "allow_delete" is False (test_apply_delete.py)."""
        self._napply += 1
        fn = self.path("config-%d.json" % self._napply)
        with open(fn, "w") as f:
            json.dump(config, f, indent=1)
        extra = ["--allow-delete"] if allow_delete else []
        return self.porterctl("apply", fn, *(extra + list(args)))

    def sources(self):
        """{(source, env): endpoint_id} from porterctl sources --json."""
        rc, out, err = self.porterctl("sources", "--json")
        if rc != 0:
            raise RuntimeError("porterctl sources: rc %d: %s" % (rc, err))
        return {(s["source"], s["environment"]): s["endpoint_id"]
                for s in json.loads(out)}

    def logs(self, *args):
        """porterctl logs --json ARGS: a list of records, newest first."""
        rc, out, err = self.porterctl("logs", "--json", *args)
        if rc != 0:
            raise RuntimeError("porterctl logs: rc %d: %s" % (rc, err))
        return json_lines(out)

    def log(self, evt_id):
        """porterctl log ID --json: one record (with its body), or None."""
        rc, out, err = self.porterctl("log", evt_id, "--json")
        if rc != 0:
            return None
        return json.loads(out)

    def close(self):
        if self in _live:
            _live.remove(self)
        if not KEEP and self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)


def _stop(proc, name, grace=5):
    """Stop "proc" (started with start_new_session=True): SIGTERM to the
    process, then its group; SIGKILL the group after "grace" seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Children (responders lighttpd spawned) share the session's group.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        time.sleep(0.2)
        if sig == signal.SIGTERM:
            _vg_wait()
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=grace)


# ---------------------------------------------------------------- lighttpd

class Server(Workdir):
    """lighttpd -D -f lighttpd.conf.example on a free port.

    "mount" is "/" or a prefix ("/porter"); "fcgi" the responder (default
    porter.fcgi); "env" extra environment.  Use as a context manager or call
    start()/close()."""

    def __init__(self, mount="/", max_procs=2, fcgi=None, env=None,
                 conf=None, db=None):
        Workdir.__init__(self, db=db)
        self.mount = mount
        self.max_procs = max_procs
        self.fcgi = fcgi or responder()
        self.extra_env = env or {}
        self.conf = conf or LIGHTTPD_CONF
        self.port = None
        self.proc = None
        for d in ("run", "log", "docroot"):
            os.mkdir(self.path(d))
        self.errorlog = self.path("log", "porter-error.log")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def environ(self):
        env = dict(os.environ)
        env.update({
            "PORTER_PORT": str(self.port),
            "PORTER_DB": self.db,
            "PORTER_FCGI": self.fcgi,
            "PORTER_MOUNT": self.mount,
            "PORTER_MAX_PROCS": str(self.max_procs),
            "PORTER_RUN_DIR": self.path("run"),
            "PORTER_LOG_DIR": self.path("log"),
            "PORTER_DOCROOT": self.path("docroot"),
            "PORTER_USER": "",
        })
        env.update(self.extra_env)
        return env

    def url(self, path):
        """"/healthz" -> "<mount>/healthz"."""
        if self.mount == "/":
            return path
        return self.mount.rstrip("/") + path

    def start(self):
        lighttpd = which("lighttpd")
        if lighttpd is None:
            raise RuntimeError("lighttpd not installed")
        last = ""
        for attempt in range(3):        # the free port may be taken
            self.port = free_port()
            out = open(self.path("log", "lighttpd.out"), "ab")
            self.proc = subprocess.Popen(
                [lighttpd, "-D", "-f", self.conf], env=self.environ(),
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, cwd=self.dir)
            out.close()
            last = await_health(self, "lighttpd")
            if last is None:
                return self
        raise RuntimeError("lighttpd did not answer %s on port %s:\n%s" %
                           (self.url("/healthz"), self.port, last))

    def restart(self, env=None):
        """Stop lighttpd and its responders and start it again on the same
        store (on a new port), with "env" added to the extra environment:
        what an operator does after changing the responders' settings."""
        _stop(self.proc, "lighttpd")
        self.proc = None
        self.extra_env.update(env or {})
        return self.start()

    def log_text(self):
        """Everything logged so far: the error log and lighttpd's own output
        (under -D the responders' standard error goes there)."""
        text = ""
        for fn in (self.errorlog, self.path("log", "lighttpd.out")):
            try:
                with open(fn, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def tail(self, n=30):
        """Last lines of the error log and lighttpd's own output."""
        text = ""
        for fn in (self.errorlog, self.path("log", "lighttpd.out")):
            try:
                with open(fn, errors="replace") as f:
                    text += "".join(f.readlines()[-n:])
            except OSError:
                pass
        return text

    def request(self, method, path, body=None, headers=None,
                timeout=HTTP_TIMEOUT):
        """One HTTP/1.1 exchange on a fresh connection; a Response."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            raw = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, raw)
        finally:
            conn.close()

    def post(self, path, body, headers=None, content_type="application/json"):
        """POST "body" (bytes, str or a dict turned into JSON) to "path"
        (already including the mount); returns (status, headers, json)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h = {}
        if content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        return self.request("POST", path, body, h)

    def get(self, path, headers=None):
        return self.request("GET", path, None, headers)

    def raw(self, data, half_close=True, timeout=scaled(5)):
        """Send raw bytes on a new connection, read the answer until the
        server closes or "timeout" passes; returns a Response (status 0 when
        nothing parseable came back).  "half_close" shuts down our write
        side after sending, as a client that sent all it had."""
        return raw_request(self.port, data, half_close, timeout)

    def close(self):
        _stop(self.proc, "lighttpd")
        self.proc = None
        Workdir.close(self)


def cgi_variant_conf(dest):
    """Write to "dest" the plain-CGI variant of lighttpd.conf.example, made
    the way its comments say: the fastcgi.server block deleted and the
    commented mod_cgi lines uncommented.  Returns "dest"."""
    with open(LIGHTTPD_CONF) as f:
        text = f.read()
    start = text.index("fastcgi.server = (")
    cgi = text.index("# Plain CGI instead")
    out = text[:start].replace('server.modules += ( "mod_fastcgi" )\n', "")
    for line in text[cgi:].splitlines():
        if line.startswith("#") and len(line) > 1 and line[1] not in " #":
            line = line[1:]
        out += line + "\n"
    with open(dest, "w") as f:
        f.write(out)
    return dest


def raw_request(port, data, half_close=True, timeout=scaled(5)):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks = []
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
            if _http_complete(b"".join(chunks)):
                break
    finally:
        s.close()
    out = b"".join(chunks)
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = 0
    if lines and lines[0].startswith("HTTP/"):
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            pass
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


def _http_complete(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    return False


# --------------------------------------------------------------- plain CGI

def cgi_environ(method, path, db, body_len=None, content_type=None,
                headers=None, script_name="", path_info=None, mount=None,
                extra=None):
    """The environment a web server gives a CGI program (RFC 3875).
    "path" is the REQUEST_URI; PATH_INFO is set only when "path_info" is
    given; "body_len" None means no CONTENT_LENGTH at all; "headers" become
    HTTP_* variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PORTER_DB": db,
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "porter-e2e",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": path,
        "SCRIPT_NAME": script_name,
        "QUERY_STRING": path.partition("?")[2],
    }
    if path_info is not None:
        env["PATH_INFO"] = path_info
    if mount is not None:
        env["PORTER_MOUNT"] = mount
    if body_len is not None:
        env["CONTENT_LENGTH"] = str(body_len)
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def run_cgi(env, body=b"", program=None, timeout=CMD_TIMEOUT):
    """Execute porter.fcgi (or "program") as a CGI program with "env" and
    "body" on stdin (a pipe, so libfcgi takes the CGI path).  Returns
    (Response, rc, stderr)."""
    p = subprocess.run([program or responder()], input=body, env=env,
                       capture_output=True, timeout=timeout)
    return (parse_cgi_output(p.stdout), p.returncode,
            p.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------- spawn-fcgi + cgi-fcgi

class FcgiSpawn:
    """porter.fcgi listening on 127.0.0.1:PORT under spawn-fcgi (-n: no
    fork, so the pid is the responder's), reached with cgi-fcgi."""

    def __init__(self, db, program=None):
        self.db = db
        self.program = program or responder()
        self.proc = None
        self.port = None
        _live.append(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        spawn = which("spawn-fcgi")
        if spawn is None:
            raise RuntimeError("spawn-fcgi not installed")
        env = dict(os.environ, PORTER_DB=self.db)
        for attempt in range(3):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [spawn, "-n", "-a", "127.0.0.1", "-p", str(self.port),
                 "--", self.program], env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True)
            deadline = time.time() + START_TIMEOUT
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.1)
            _stop(self.proc, "spawn-fcgi")
        raise RuntimeError("spawn-fcgi did not listen on %s" % self.port)

    def request(self, env, body=b"", timeout=CMD_TIMEOUT):
        """cgi-fcgi -bind -connect 127.0.0.1:PORT with CGI "env" and the
        body on stdin; returns (Response, rc, stderr)."""
        cgi_fcgi = which("cgi-fcgi")
        if cgi_fcgi is None:
            raise RuntimeError("cgi-fcgi not installed (libfcgi-bin)")
        p = subprocess.run(
            [cgi_fcgi, "-bind", "-connect", "127.0.0.1:%d" % self.port],
            input=body, env=env, capture_output=True, timeout=timeout)
        return (parse_cgi_output(p.stdout), p.returncode,
                p.stderr.decode("utf-8", "replace"))

    def close(self):
        if self in _live:
            _live.remove(self)
        _stop(self.proc, "spawn-fcgi")
        self.proc = None
