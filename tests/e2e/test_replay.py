#!/usr/bin/env python3
"""test_replay.py - who may replay what, through a real lighttpd (TAP).

  - A request that failed an enforced signature check is logged with its
    body; POST /admin/api/logs/EVT/replay answers 409 not_verified (a JSON
    error, a log line) and runs nothing, `porterctl replay EVT` exits 1;
    with {"force": true} / --force it runs, and the new event says it was
    forced and by whom (the token's name, "porterctl").  A verified event
    and an unverified one where verification is off replay as before.
  - `porterctl replay` runs workflow handlers, so only as the store's
    owner: run as root against a store owned by nobody it exits 1 and no
    handler runs; run as nobody it replays, and the handler runs as
    nobody, under the responder's seccomp filter when built with it.
    (That part needs root; skipped otherwise.)
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 240
PROD = "src_prod_replay_e2e_01"
DEV = "src_dev_replay_e2e_001"
SECRET = "replay-e2e-signing-key"
NOBODY = 65534


def config(workflows=None, dev_mappings=None):
    ident = [{"event_type": "user.created", "action": "users_identify",
              "params": {"id": "data.user"}}]
    return {"workflows": workflows or {},
            "sources": [{"key": "app", "type": "custom", "environments": {
                "production": {"endpoint_id": PROD, "verify": True,
                               "signing_keys": [{"secret": SECRET}],
                               "event_type_path": "body.type",
                               "mappings": ident},
                "development": {"endpoint_id": DEV, "verify": False,
                                "event_type_path": "body.type",
                                "mappings": dev_mappings or ident}}}]}


def post(srv, endpoint, doc, key=None):
    raw = json.dumps(doc).encode()
    hdrs = {"X-Knock-Signature": h.sign(key, raw)} if key else {}
    return srv.post(srv.url("/receive/" + endpoint), raw, hdrs)


def replay(srv, tok, evt, body):
    """POST .../replay; "body" None sends an empty one, as curl -d ''."""
    raw = b"" if body is None else json.dumps(body).encode()
    return srv.request("POST", srv.url("/admin/api/logs/%s/replay" % evt),
                       raw, {"Authorization": "Bearer " + tok,
                             "Content-Type": "application/json"})


def users(wd):
    rc, out, err = wd.porterctl("users", "--json")
    return sorted(u.get("id") for u in h.json_lines(out)) if rc == 0 else None


def t_verification(tap):
    with h.Server(mount="/") as srv:
        rc, out, err = srv.apply(config())
        tap.eq(rc, 0, "apply", err)
        tok = srv.porterctl("token", "create", "ops")[1].strip()
        r = post(srv, PROD, {"type": "user.created",
                             "data": {"user": "mallory"}}, "not-the-key")
        tap.eq(r.status, 401, "a forged request is refused")
        bad = srv.logs("--limit", "1")[0]
        tap.eq(bad["verification"]["status"], "enforced:failed",
               "  ... and logged enforced:failed")
        r = srv.request("GET", srv.url("/admin/api/logs/" + bad["id"]), None,
                        {"Authorization": "Bearer " + tok})
        tap.eq(r.json.get("replayable"), False,
               "GET logs/EVT says it is not replayable")

        for body, what in ((None, "an empty body"), ({}, "{}"),
                           ({"force": False}, '{"force": false}')):
            r = replay(srv, tok, bad["id"], body)
            tap.ok(r.status == 409 and r.error_code() == "not_verified" and
                   "enforced:failed" in r.json.get("message", ""),
                   "API replay of it, %s: 409 not_verified" % what, repr(r))
        tap.ok("409 not_verified" in srv.tail(), "  ... with a log line",
               srv.tail())
        tap.eq(users(srv), [], "  ... and no user was made")
        rc, out, err = srv.porterctl("replay", bad["id"])
        tap.ok(rc == 1 and "409 not_verified" in err,
               "porterctl replay of it: exit 1, 409 not_verified", out, err)
        tap.eq(users(srv), [], "  ... and no user was made")

        r = replay(srv, tok, bad["id"], {"force": True})
        tap.eq((r.status, r.json.get("replay_of")), (200, bad["id"]),
               "API replay with {\"force\": true}: 200", repr(r))
        forced = srv.log(r.json["id"])
        tap.eq((forced.get("replay_forced"), forced.get("replayed_by"),
                forced["verification"]),
               (True, "ops", {"status": "replayed",
                              "reason": "enforced:failed"}),
               "  ... logged as forced by token ops, from enforced:failed")
        tap.ok("forced by ops" in srv.tail(), "  ... and in the log",
               srv.tail())
        tap.eq(users(srv), ["mallory"], "  ... and it ran the mapping")
        r = replay(srv, tok, forced["id"], None)
        tap.eq((r.status, r.error_code()), (409, "not_verified"),
               "a replay of the forced replay needs force too")
        rc, out, err = srv.porterctl("replay", "--force", bad["id"],
                                     "--json")
        again = json.loads(out) if rc == 0 else {}
        rec = srv.log(again.get("id", "")) or {}
        tap.eq((rc, rec.get("replay_forced"), rec.get("replayed_by")),
               (0, True, "porterctl"),
               "porterctl replay --force: exit 0, logged as forced by "
               "porterctl", out, err)

        r = post(srv, PROD, {"type": "user.created",
                             "data": {"user": "alice"}}, SECRET)
        good = r.json["id"]
        rc, out, err = srv.porterctl("replay", good)
        tap.ok(r.status == 200 and rc == 0 and "replayed as" in out,
               "porterctl replay of a verified event: exit 0", out, err)
        r = post(srv, DEV, {"type": "user.created", "data": {"user": "dev"}})
        r = replay(srv, tok, r.json["id"], None)
        tap.eq(r.status, 200, "API replay of an unverified event where "
               "verification is off: 200", repr(r))


def as_nobody(args, env, **kw):
    return subprocess.run(args, env=env, capture_output=True,
                          timeout=h.CMD_TIMEOUT, user=NOBODY, group=NOBODY,
                          extra_groups=[], **kw)


def t_store_owner(tap):
    if os.geteuid() != 0:
        tap.skip("porterctl replay as another user than the store's",
                 "needs root")
        return
    wd = h.Workdir()
    try:
        os.chmod(wd.dir, 0o711)
        hdir = wd.path("handlers")
        out_dir = wd.path("out")
        os.mkdir(hdir)
        os.mkdir(out_dir)
        os.chown(out_dir, NOBODY, NOBODY)
        os.chown(wd.db, NOBODY, NOBODY)
        marker = os.path.join(out_dir, "ran")
        with open(os.path.join(hdir, "mark"), "w") as f:
            f.write("#!/bin/sh\necho \"$(id -u) $(sed -n 's/^Seccomp:[[:space:]]"
                    "*//p' /proc/self/status)\" >> '%s'\n" % marker)
        os.chmod(os.path.join(hdir, "mark"), 0o755)
        doc = config({"mark": {"exec": [os.path.join(hdir, "mark")]}},
                     [{"event_type": "user.created",
                       "action": "workflows_trigger",
                       "params": {"key": "mark", "recipients": "data.user"}}])
        env = {"PATH": "/usr/bin:/bin", "PORTER_DB": wd.db}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                env[name] = os.environ[name]
        p = as_nobody([h.PORTERCTL, "apply", "-"], env,
                      input=json.dumps(doc).encode())
        tap.eq(p.returncode, 0, "a store owned by nobody (apply as nobody)",
               p.stderr)
        raw = json.dumps({"type": "user.created",
                          "data": {"user": "u1"}}).encode()
        cgi = h.cgi_environ("POST", "/receive/" + DEV, wd.db, len(raw),
                            "application/json", path_info="/receive/" + DEV)
        p = as_nobody([h.PORTER_FCGI], cgi, input=raw)
        r = h.parse_cgi_output(p.stdout)
        tap.eq(r.status, 200, "an event, served as nobody", repr(r))
        evt = (r.json or {}).get("id", "")
        os.unlink(marker)

        rc, out, err = h.run([h.PORTERCTL, "--db", wd.db, "replay", evt])
        tap.ok(rc == 1 and "store's owner" in err and "nobody" in err,
               "porterctl replay as root on nobody's store: exit 1, says "
               "whose it is", out, err)
        tap.ok(not os.path.exists(marker), "  ... and no handler ran")
        p = as_nobody([h.PORTERCTL, "replay", evt], env)
        with open(marker) if os.path.exists(marker) else open(os.devnull) \
                as f:
            ran_as = f.read().split()
        tap.ok(p.returncode == 0 and ran_as[:1] == [str(NOBODY)],
               "porterctl replay as nobody: exit 0, the handler ran as "
               "nobody", p.stdout, p.stderr, repr(ran_as))
        if h.have_seccomp():
            tap.eq(ran_as[1:], ["2"], "  ... under the responder's seccomp "
                   "filter (Seccomp: 2)")
    finally:
        wd.close()


def main():
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    tap = h.Tap()
    h.watchdog(tap, WATCHDOG)
    tap.run(t_verification, tap)
    tap.run(t_store_owner, tap)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
