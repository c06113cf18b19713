#!/usr/bin/env python3
"""test_host.py - what runs on the host, through a real lighttpd (TAP).

  - Handlers are host access: over PUT /admin/api/config a full token may
    keep or remove a workflow's exec, but a new one is 403
    host_access_required without PORTER_HANDLER_DIR; with it, a program
    inside the directory is applied and runs at the next webhook, and
    /bin/sh, a link in the directory that leads out, or a ".." path are
    403 handler_not_allowed, each with a JSON error and a log line.
  - A handler dies with its responder: a handler that started a sleeping
    grandchild, its responder killed with SIGKILL mid-request, and both
    are gone within two seconds (not at their 60 s timeout).
  - No core dumps: porter.fcgi (FastCGI on a passed socket) and porterctl,
    run as an unprivileged user (nobody when the test runs as root), are
    not dumpable -- their /proc/PID files belong to root -- unless
    PORTER_CORE_DUMPS=1; any other value refuses to start.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 240
ENDPOINT = "src_host_e2e_00001"
NOBODY = 65534


def config(workflows):
    return {"workflows": workflows,
            "sources": [{"key": "hooks", "type": "custom", "environments": {
                "live": {"endpoint_id": ENDPOINT, "verify": False,
                         "event_type_path": "body.type",
                         "mappings": [{"event_type": "run",
                                       "action": "workflows_trigger",
                                       "params": {"key": "w",
                                                  "recipients": "to"}}]}}}]}


def write_script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, 0o755)


def api_put(srv, tok, doc):
    return srv.request("PUT", srv.url("/admin/api/config"),
                       json.dumps(doc).encode(),
                       {"Authorization": "Bearer " + tok,
                        "Content-Type": "application/json"})


def with_exec(doc, argv):
    doc = json.loads(json.dumps(doc))
    doc["workflows"]["w"] = {"exec": argv}
    return doc


def wait_for(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def alive(pid):
    """Running (not gone, not a zombie)?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(")") + 2] not in "ZX"


def t_handler_dir(tap):
    with h.Server(mount="/") as srv:
        hdir = srv.path("handlers")
        os.mkdir(hdir)
        marker = srv.path("ran")
        write_script(os.path.join(hdir, "record"), "cat > '%s'\n" % marker)
        os.symlink("/bin/sh", os.path.join(hdir, "shell"))
        rc, out, err = srv.apply(config({"w": {"exec": ["/bin/true"]}}))
        tap.eq(rc, 0, "handler dir: porterctl apply names /bin/true", err)
        tok = srv.porterctl("token", "create", "ops")[1].strip()
        doc = srv.request("GET", srv.url("/admin/api/config"), None,
                          {"Authorization": "Bearer " + tok}).json
        r = api_put(srv, tok, doc)
        tap.eq((r.status, r.json.get("changes")), (200, 0),
               "handler dir unset: the export put back passes", repr(r))
        r = api_put(srv, tok, with_exec(doc, ["/bin/sh", "-c", "id"]))
        tap.ok(r.status == 403 and r.error_code() == "host_access_required"
               and "porterctl apply" in r.json.get("message", ""),
               "handler dir unset: /bin/sh -c is 403 host_access_required",
               repr(r))
        tap.ok("host_access_required" in srv.tail(),
               "  ... with a log line", srv.tail())
        r = api_put(srv, tok, with_exec(doc, [os.path.join(hdir, "record")]))
        tap.eq((r.status, r.error_code()), (403, "host_access_required"),
               "handler dir unset: even a handler in it", repr(r))

        srv.restart({"PORTER_HANDLER_DIR": hdir})
        for argv, what in (
                (["/bin/sh", "-c", "id"], "/bin/sh -c"),
                ([os.path.join(hdir, "shell"), "-c", "id"],
                 "a link in the directory to /bin/sh"),
                ([hdir + "/../handlers/record"], "a .. path")):
            r = api_put(srv, tok, with_exec(doc, argv))
            tap.ok(r.status == 403 and r.error_code() ==
                   "handler_not_allowed" and r.json.get("message"),
                   "handler dir set: %s is 403 handler_not_allowed" % what,
                   repr(r))
        r = api_put(srv, tok, with_exec(doc, [os.path.join(hdir, "record")]))
        tap.eq((r.status, r.json.get("applied")), (200, True),
               "handler dir set: a handler inside it is applied", repr(r))
        r = srv.post(srv.url("/receive/" + ENDPOINT),
                     {"type": "run", "to": "u1"})
        tap.ok(r.status == 200 and os.path.exists(marker),
               "  ... and runs at the next webhook", repr(r), srv.tail())


def t_responder_killed(tap):
    wd = h.Workdir()
    hdir = wd.path("hang-handlers")
    os.mkdir(hdir)
    pids = wd.path("pids")
    write_script(os.path.join(hdir, "hang"),
                 "sleep 60 &\necho $$ $PPID $! > '%s.tmp'\n"
                 "mv '%s.tmp' '%s'\nwait\n" % (pids, pids, pids))
    doc = config({"w": {"exec": [os.path.join(hdir, "hang")],
                        "timeout_ms": 60000}})
    with h.Server(mount="/", max_procs=1) as srv:
        rc, out, err = srv.apply(doc)
        tap.eq(rc, 0, "responder killed: apply", err)
        got = {}

        def send():
            try:
                got["r"] = srv.post(srv.url("/receive/" + ENDPOINT),
                                    {"type": "run", "to": "u1"})
            except OSError as e:
                got["r"] = e
        th = threading.Thread(target=send, daemon=True)
        th.start()
        wait_for(lambda: os.path.exists(pids), 15)
        try:
            with open(pids) as f:
                handler, responder, grandchild = map(int, f.read().split())
        except (OSError, ValueError):
            tap.ok(False, "responder killed: the handler started",
                   srv.tail())
            return
        tap.ok(alive(handler) and alive(grandchild) and alive(responder),
               "responder killed: a handler (%d) with a grandchild (%d) "
               "runs in responder %d" % (handler, grandchild, responder))
        os.kill(responder, signal.SIGKILL)
        t0 = time.time()
        gone = wait_for(lambda: not alive(handler) and
                        not alive(grandchild), 2)
        tap.ok(gone, "responder killed: handler and grandchild gone in "
               "%.1f s (timeout 60 s)" % (time.time() - t0))
        for pid in (handler, grandchild):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        th.join(h.HTTP_TIMEOUT + 5)


def proc_owner(pid):
    return os.stat("/proc/%d/status" % pid).st_uid


def as_user():
    """(uid, gid, popen keywords) to run a program unprivileged."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid(), {}
    return NOBODY, NOBODY, {"user": NOBODY, "group": NOBODY,
                            "extra_groups": []}


def t_core_dumps(tap, wd):
    uid, gid, kw = as_user()
    os.chmod(wd.dir, 0o711)
    if os.geteuid() == 0:
        os.chown(wd.db, uid, gid)
    base = {k: v for k, v in os.environ.items()
            if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")}
    base["PORTER_DB"] = wd.db

    for dumps, want in ((None, 0), ("0", 0), ("1", uid)):
        env = dict(base)
        if dumps is not None:
            env["PORTER_CORE_DUMPS"] = dumps
        label = "PORTER_CORE_DUMPS=%s" % (dumps if dumps else "(unset)")

        # porter.fcgi, FastCGI on a passed socket: it waits in accept.
        path = wd.path("fcgi-%s.sock" % dumps)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(4)
        proc = subprocess.Popen([h.PORTER_FCGI], stdin=lsock.fileno(),
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env,
                                start_new_session=True, **kw)
        lsock.close()
        try:
            time.sleep(0.5)
            owner = proc_owner(proc.pid) if proc.poll() is None else None
            tap.eq(owner, want, "porter.fcgi as uid %d, %s: /proc/PID owned "
                   "by %s" % (uid, label, "root (not dumpable)" if want == 0
                              else "itself (dumpable)"))
        finally:
            h._stop(proc, "porter.fcgi")

        # porterctl, reading a configuration from a pipe we hold open.
        proc = subprocess.Popen([h.PORTERCTL, "apply", "-"],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, **kw)
        try:
            time.sleep(0.5)
            owner = proc_owner(proc.pid) if proc.poll() is None else None
            out, err = proc.communicate(json.dumps(config({})).encode(),
                                        timeout=h.CMD_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        tap.eq(owner, want, "porterctl as uid %d, %s: /proc/PID owned by %s"
               % (uid, label, "root" if want == 0 else "itself"))
        tap.eq(proc.returncode, 0, "  ... and it applies what it read",
               err.decode("utf-8", "replace"))

    # Not dumpable, its /proc/self/fd is root's: /dev/stdin (and a shell's
    # <(...), /dev/fd/N) must still open, as the kernel lets a process
    # reach its own descriptors.
    src = wd.path("porter.json")
    with open(src, "w") as f:
        json.dump(config({}), f)
    if os.geteuid() == 0:
        os.chown(src, uid, gid)
    with open(src, "rb") as f:
        p = subprocess.run([h.PORTERCTL, "apply", "/dev/stdin"], stdin=f,
                           capture_output=True, env=base,
                           timeout=h.CMD_TIMEOUT, **kw)
    tap.eq(p.returncode, 0, "porterctl, not dumpable, reads /dev/stdin",
           p.stderr.decode("utf-8", "replace"))

    env = dict(base, PORTER_CORE_DUMPS="yes")
    p = subprocess.run([h.PORTER_FCGI], stdin=subprocess.DEVNULL,
                       capture_output=True, env=env, timeout=h.CMD_TIMEOUT)
    tap.ok(p.returncode != 0 and b"PORTER_CORE_DUMPS=yes" in p.stderr,
           "porter.fcgi refuses PORTER_CORE_DUMPS=yes", p.stderr)
    p = subprocess.run([h.PORTERCTL, "status"], capture_output=True,
                       env=env, timeout=h.CMD_TIMEOUT)
    tap.ok(p.returncode != 0 and b"PORTER_CORE_DUMPS=yes" in p.stderr,
           "porterctl refuses PORTER_CORE_DUMPS=yes", p.stderr)


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    tap = h.Tap()
    h.watchdog(tap, WATCHDOG)
    tap.run(t_handler_dir, tap)
    tap.run(t_responder_killed, tap)
    wd = h.Workdir()
    try:
        tap.run(t_core_dumps, tap, wd)
    finally:
        wd.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
