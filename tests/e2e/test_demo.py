#!/usr/bin/env python3
"""test_demo.py - tools/demo, run as a new user would, twice (TAP).

The first run writes demo-state/tasks.json and applies it; the operator
edits the file (a mapping for development); the second run keeps the file
byte for byte, says so, and applies the edit; the signing key and the
endpoint ids stay.  Then the demo's server (lighttpd in the foreground,
here in the background under a deadline) answers the curl commands the
demo printed the way the README shows: the signed event "accepted", sent
again "idempotent" with the first event's id, unsigned 401, and the
edited development environment runs its new mapping.

No packages are installed and nothing is built (DEMO_NO_INSTALL=1,
DEMO_NO_BUILD=1, DEMO_BUILDDIR = this build).  Skipped without lighttpd
or curl.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

DEMO = os.path.join(h.TOP_SRCDIR, "tools", "demo")


def demo_env(state, port, server):
    env = dict(os.environ, DEMO_STATE=state, DEMO_PORT=str(port),
               DEMO_NO_INSTALL="1", DEMO_NO_BUILD="1",
               DEMO_BUILDDIR=h.TOP_BUILDDIR)
    env.pop("PORTER_DB", None)
    if not server:
        env["DEMO_NO_SERVER"] = "1"
    return env


def run_demo(state, port):
    """tools/demo up to its server: (rc, stdout + stderr)."""
    p = subprocess.run(["bash", DEMO], env=demo_env(state, port, False),
                       capture_output=True, timeout=h.CMD_TIMEOUT * 2)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def curl_commands(out):
    """The curl commands the demo printed, in order, as shell text."""
    cmds, cur = [], None
    for line in out.splitlines():
        if cur is None and line.startswith("  curl -sS -X POST"):
            cur = line
        elif cur is not None:
            cur += "\n" + line
        if cur is not None and not line.endswith("\\"):
            cmds.append(cur)
            cur = None
    return cmds


def run_curl(cmd):
    p = subprocess.run(["bash", "-c", cmd + " -w '\\n%{http_code}'"],
                       capture_output=True, timeout=h.HTTP_TIMEOUT)
    body, _, code = p.stdout.decode("utf-8", "replace").rpartition("\n")
    try:
        return int(code), json.loads(body)
    except ValueError:
        return 0, body + p.stderr.decode("utf-8", "replace")


def config_steps(t, state, port):
    conf = os.path.join(state, "tasks.json")
    rc, out = run_demo(state, port)
    t.eq(rc, 0, "first run: the demo's configuration step succeeds", out)
    t.ok("writing " + conf in out, "  ... says it writes %s" % conf, out)
    t.eq(os.stat(conf).st_mode & 0o777, 0o600, "  ... mode 0600 (a secret)")
    with open(os.path.join(state, "signing-key")) as f:
        key = f.read()
    first = dict(re.findall(r"\+ (tasks/\w+)\s+POST (\S+)", out))

    with open(conf) as f:
        cfg = json.load(f)
    cfg["sources"][0]["environments"]["development"]["mappings"] = [{
        "event_type": "task.assigned", "action": "users_identify",
        "params": {"id": "data.assigned_to", "name": "data.title"}}]
    edited = json.dumps(cfg, indent=2) + "\n"
    with open(conf, "w") as f:
        f.write(edited)

    rc, out = run_demo(state, port)
    t.eq(rc, 0, "second run succeeds", out)
    t.ok("keeping " + conf in out, "  ... says it keeps %s" % conf, out)
    with open(conf) as f:
        t.eq(f.read(), edited, "  ... the operator's edit survives, byte "
             "for byte")
    with open(os.path.join(state, "signing-key")) as f:
        t.eq(f.read(), key, "  ... the signing key is kept")
    rc, exp, err = h.run([h.PORTERCTL, "--db", os.path.join(state, "db"),
                          "export"])
    envs = {}
    if rc == 0:
        envs = json.loads(exp)["sources"][0]["environments"]
    t.eq([m.get("action") for m in
          envs.get("development", {}).get("mappings", [])],
         ["users_identify"], "  ... and applied: the store has the edit",
         exp, err)
    rc, src, err = h.run([h.PORTERCTL, "--db", os.path.join(state, "db"),
                          "sources", "--json"])
    now = {"%s/%s" % (s["source"], s["environment"]): s["path"]
           for s in json.loads(src)} if rc == 0 else {}
    t.eq(now, first, "  ... the endpoints are the same", src, err)

    # A file that does not apply: a clear error, not a rewrite.
    with open(conf, "w") as f:
        f.write("{\"sources\": [")
    rc, out = run_demo(state, port)
    t.ok(rc != 0 and "does not apply" in out,
         "a broken tasks.json stops the demo with a message", rc, out)
    with open(conf) as f:
        t.eq(f.read(), "{\"sources\": [", "  ... and is left as it is")
    with open(conf, "w") as f:
        f.write(edited)


def server_steps(t, state, port):
    log = open(os.path.join(state, "demo.out"), "wb")
    proc = subprocess.Popen(["bash", DEMO], env=demo_env(state, port, True),
                            stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    try:
        deadline = time.time() + h.START_TIMEOUT + h.CMD_TIMEOUT
        up = False
        while time.time() < deadline and proc.poll() is None and not up:
            try:
                up = h.raw_request(port, b"GET /healthz HTTP/1.0\r\n\r\n",
                                   timeout=2).status == 200
            except OSError:
                time.sleep(0.2)
        with open(os.path.join(state, "demo.out"), errors="replace") as f:
            out = f.read()
        if not t.ok(up, "the demo's lighttpd answers /healthz", out[-2000:]):
            return
        cmds = curl_commands(out)
        t.eq(len(cmds), 3, "the demo prints three curl commands", out)
        if len(cmds) != 3:
            return
        signed, unsigned, dev = cmds
        code, first = run_curl(signed)
        t.ok(code == 200 and isinstance(first, dict) and
             first.get("status") == "accepted" and
             first.get("event_type") == "task.assigned" and
             str(first.get("id", "")).startswith("evt_"),
             "the signed curl: 200 accepted, as the README shows", code,
             first)
        code, again = run_curl(signed)
        t.ok(code == 200 and isinstance(again, dict) and
             again.get("status") == "idempotent" and
             again.get("original_event_id") == (first or {}).get("id"),
             "  ... sent again: 200 idempotent, the first event's id",
             code, again)
        code, bad = run_curl(unsigned)
        t.eq((code, (bad or {}).get("error") if isinstance(bad, dict)
              else bad), (401, "invalid_signature"),
             "the unsigned curl: 401 invalid_signature")
        code, d = run_curl(dev)
        t.eq((code, (d or {}).get("status") if isinstance(d, dict) else d),
             (200, "accepted"), "development runs the mapping the operator "
             "added")
    finally:
        h._stop(proc, "tools/demo")


def main():
    if h.which("lighttpd") is None or h.which("curl") is None:
        h.skip_all("lighttpd or curl not installed")
    h.require_binaries()
    t = h.Tap()
    state = tempfile.mkdtemp(prefix="porter-demo-")
    try:
        port = h.free_port()
        t.run(config_steps, t, state, port)
        t.run(server_steps, t, state, port)
    finally:
        if not h.KEEP:
            shutil.rmtree(state, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 300)       # seconds (plain build; scaled)
    sys.exit(main())
