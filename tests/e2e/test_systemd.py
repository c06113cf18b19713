#!/usr/bin/env python3
"""test_systemd.py - the socket-activated unit pair (systemd/porter.socket,
systemd/porter.service), TAP.

  - "systemd-analyze verify" accepts both units, without a warning, with
    ExecStart= pointing at the built responder and the man pages their
    Documentation= names found in this tree;
  - the service keeps the hardening the README promises (ProtectSystem=
    strict, ReadWritePaths= the store and nothing else, NoNewPrivileges=,
    LimitCORE=0, an unprivileged User=), and "systemd-analyze security --offline"
    rates it no worse than "OK";
  - the socket is where nginx.conf.example looks for it;
  - what StandardInput=socket does -- a listening UNIX socket as fd 0 of
    porter.fcgi, the unit's environment -- serves FastCGI (cgi-fcgi).

Skipped when systemd-analyze is not installed (no systemd in the machine
is fine: verify and security --offline work on files).
"""

import os
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402
from deploy import CONFIG, PROD_SECRET, TASK_BODY      # noqa: E402

WATCHDOG = 300
UNIT_DIR = os.path.join(h.TOP_SRCDIR, "systemd")
NGINX_CONF = os.path.join(h.TOP_SRCDIR, "nginx.conf.example")
MAX_EXPOSURE = 3.0      # systemd-analyze security: up to 3.9 is "OK"


def parse_unit(text):
    """{(section, key): [values...]} of a unit file."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def units(wd):
    """The units as "make install" makes them, with @sbindir@ the build
    directory, written to wd/units; returns (socket, service) paths."""
    d = wd.path("units")
    os.mkdir(d)
    paths = []
    for name in ("porter.socket", "porter.service"):
        with open(os.path.join(UNIT_DIR, name + ".in")) as f:
            text = f.read().replace("@sbindir@",
                                    os.path.dirname(h.PORTER_FCGI))
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        paths.append(p)
    return paths


def man_tree(wd):
    """A MANPATH with this tree's man pages, for Documentation=."""
    root = wd.path("man")
    for page in ("porter.fcgi.8", "porterctl.1", "porter.conf.5"):
        sec = os.path.join(root, "man" + page.rsplit(".", 1)[1])
        os.makedirs(sec, exist_ok=True)
        os.symlink(os.path.join(h.TOP_SRCDIR, "man", page),
                   os.path.join(sec, page))
    return root


def t_verify(tap, wd, sock, svc, analyze):
    env = dict(os.environ, MANPATH=man_tree(wd), SYSTEMD_LOG_COLOR="0")
    args = [analyze, "verify"]
    if h.which("man") is None:
        args.append("--man=no")
    p = subprocess.run(args + [sock, svc], env=env, capture_output=True,
                       timeout=h.CMD_TIMEOUT, cwd=wd.path("units"))
    err = p.stderr.decode("utf-8", "replace")
    tap.ok(p.returncode == 0 and err.strip() == "",
           "systemd-analyze verify porter.socket porter.service: clean",
           "rc %d" % p.returncode, err)


def t_hardening(tap, sock, svc):
    with open(svc) as f:
        u = parse_unit(f.read())
    with open(sock) as f:
        s = parse_unit(f.read())

    def one(section, key, unit=u):
        v = unit.get((section, key))
        return v[-1] if v else None

    tap.eq(one("Service", "ProtectSystem"), "strict", "ProtectSystem=strict")
    tap.eq(one("Service", "NoNewPrivileges"), "yes", "NoNewPrivileges=yes")
    tap.eq(one("Service", "LimitCORE"), "0",
           "LimitCORE=0: no core file holds the secrets")
    rw = " ".join(u.get(("Service", "ReadWritePaths"), [])).split()
    env = dict(kv.split("=", 1) for kv in " ".join(
        u.get(("Service", "Environment"), [])).split() if "=" in kv)
    tap.eq(rw, [env.get("PORTER_DB")],
           "ReadWritePaths= is PORTER_DB and nothing else", repr(rw),
           repr(env))
    tap.eq("/var/lib/" + (one("Service", "StateDirectory") or ""),
           env.get("PORTER_DB"), "StateDirectory= creates PORTER_DB")
    tap.eq(one("Service", "StateDirectoryMode"), "0700",
           "  ... mode 0700")
    user = one("Service", "User")
    tap.ok(user not in (None, "", "root", "0"),
           "runs as an unprivileged user (User=%s)" % user)
    tap.eq(one("Service", "StandardInput"), "socket",
           "StandardInput=socket: the listening socket is fd 0")
    tap.ok(one("Service", "StandardOutput") not in (None, "inherit",
                                                    "socket"),
           "StandardOutput= not the socket (stderr lines go to the "
           "journal)", one("Service", "StandardOutput"))
    tap.eq(one("Socket", "Accept", s), "no", "Accept=no: one service for "
           "the listening socket")
    listen = one("Socket", "ListenStream", s)
    with open(NGINX_CONF) as f:
        m = re.search(r"fastcgi_pass unix:(\S+);", f.read())
    tap.eq(listen, m.group(1) if m else None,
           "ListenStream= is the socket nginx.conf.example uses")


def t_security(tap, svc, analyze):
    p = subprocess.run([analyze, "security", "--offline=yes", "--no-pager",
                        svc], capture_output=True, timeout=h.CMD_TIMEOUT,
                       cwd=os.path.dirname(svc),
                       env=dict(os.environ, SYSTEMD_COLORS="0"))
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", out)
    if m is None:
        tap.skip("systemd-analyze security --offline",
                 "not supported here: %s" %
                 p.stderr.decode("utf-8", "replace").strip()[:200])
        return
    tap.ok(float(m.group(1)) <= MAX_EXPOSURE,
           "systemd-analyze security: exposure %s %s (at most %.1f)" % (
               m.group(1), m.group(2), MAX_EXPOSURE), out[-2000:])


def t_socket_activation(tap, wd, svc):
    """What systemd does for porter.service, by hand: bind the socket,
    start porter.fcgi with it as stdin and the unit's environment."""
    cgi_fcgi = h.which("cgi-fcgi")
    if cgi_fcgi is None:
        tap.skip("socket activation", "cgi-fcgi (libfcgi-bin) not installed")
        return
    rc, out, err = wd.apply(CONFIG)
    tap.eq(rc, 0, "socket activation: apply", out, err)
    prod = wd.sources()[("tasks", "production")]
    with open(svc) as f:
        u = parse_unit(f.read())
    env = {"PATH": "/usr/bin:/bin"}
    for kv in " ".join(u.get(("Service", "Environment"), [])).split():
        name, _, value = kv.partition("=")
        env[name] = value
    env["PORTER_DB"] = wd.db            # the test's store, not /var/lib
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    path = wd.path("porter.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(16)
    exec_start = u[("Service", "ExecStart")][-1].split()
    proc = subprocess.Popen(exec_start, stdin=lsock.fileno(),
                            stdout=subprocess.DEVNULL,
                            stderr=open(wd.path("stderr"), "wb"), env=env,
                            start_new_session=True)
    lsock.close()
    try:
        cgi = h.cgi_environ("POST", "/receive/" + prod, wd.db,
                            len(TASK_BODY), "application/json",
                            {"X-Knock-Signature":
                             h.sign(PROD_SECRET, TASK_BODY)},
                            path_info="/receive/" + prod)
        p = subprocess.run([cgi_fcgi, "-bind", "-connect", path],
                           input=TASK_BODY, env=cgi, capture_output=True,
                           timeout=h.CMD_TIMEOUT)
        r = h.parse_cgi_output(p.stdout)
        tap.eq((r.status, (r.json or {}).get("event_type")),
               (200, "task.assigned"),
               "socket activation: FastCGI on the passed socket: 200",
               repr(r), p.stderr.decode("utf-8", "replace"))
        logs = wd.logs("--limit", "1")
        tap.eq(logs[0].get("id") if logs else None, (r.json or {}).get("id"),
               "socket activation: event in the log")
        tap.ok(proc.poll() is None, "socket activation: responder still "
               "running (it serves many requests)")
        # systemd stops the service with SIGTERM (KillSignal= default).
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=h.scaled(10))
        except subprocess.TimeoutExpired:
            rc = None
        tap.eq(rc, 0, "socket activation: SIGTERM stops it cleanly")
    finally:
        h._stop(proc, "porter.fcgi")


def main():
    tap = h.Tap()

    h.watchdog(tap, WATCHDOG)
    analyze = h.which("systemd-analyze")
    if analyze is None:
        h.skip_all("systemd-analyze not installed")
    h.require_binaries()
    wd = h.Workdir()
    try:
        sock, svc = units(wd)
        tap.run(t_verify, tap, wd, sock, svc, analyze)
        tap.run(t_hardening, tap, sock, svc)
        tap.run(t_security, tap, svc, analyze)
        tap.run(t_socket_activation, tap, wd, svc)
    finally:
        wd.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
