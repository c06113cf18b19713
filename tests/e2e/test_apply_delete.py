#!/usr/bin/env python3
"""test_apply_delete.py - an apply that removes an environment or an
endpoint must be asked for (TAP), through a real lighttpd.

Senders keep calling an endpoint after it is gone and get 404, so
`porterctl apply` and PUT /admin/api/config refuse a configuration that
removes an environment or changes its endpoint_id unless told so
(--allow-delete, ?allow_delete=1); a dry run shows the same plan and
says it needs the flag.  Checked for both, and that a refused apply
changes nothing (the old endpoint still takes webhooks).

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_apply_delete.py
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 600 if h.VALGRIND else 120   # seconds for the whole file


def config(envs):
    return {"sources": [{"key": "app", "type": "custom", "environments": {
        e: {"verify": False, "endpoint_id": eid} for e, eid in envs.items()}}]}


BOTH = {"production": "src_app_prod_0001", "staging": "src_app_stag_0001"}


def post(srv, eid):
    return srv.post(srv.url("/receive/" + eid), b'{"type": "t"}').status


def t_cli(t, srv):
    rc, out, err = srv.apply(config({"production": BOTH["production"]}),
                             allow_delete=False)
    t.ok(rc != 0 and "app/staging (POST /receive/src_app_stag_0001)" in err
         and "--allow-delete" in err,
         "apply refuses to remove an environment, naming it and the flag",
         err)
    t.eq(post(srv, BOTH["staging"]), 200, "... and the endpoint still works")
    rc, out, err = srv.apply(config({"production": BOTH["production"]}),
                             "--dry-run", allow_delete=False)
    t.ok(rc == 0 and "- app/staging" in out and "needs --allow-delete" in
         out, "a dry run shows the removal and says it needs the flag", out)
    moved = dict(BOTH, staging="src_app_stag_0002")
    rc, out, err = srv.apply(config(moved), allow_delete=False)
    t.ok(rc != 0 and "src_app_stag_0001" in err,
         "a changed endpoint_id counts as a removal", err)
    rc, out, err = srv.apply(config({"production": BOTH["production"]}),
                             allow_delete=True)
    t.eq(rc, 0, "with --allow-delete it applies", err)
    t.eq(post(srv, BOTH["staging"]), 404, "... and the endpoint is gone")
    rc, out, err = srv.apply(config(BOTH), allow_delete=False)
    t.eq(rc, 0, "adding an environment back needs no flag", err)


def t_api(t, srv):
    rc, tok, err = srv.porterctl("token", "create", "deleter")
    auth = {"Authorization": "Bearer " + tok.strip(),
            "Content-Type": "application/json"}
    doc = json.dumps(config({"production": BOTH["production"]})).encode()
    path = srv.url("/admin/api/config")
    r = srv.request("PUT", path, doc, auth)
    t.ok(r.status == 409 and r.error_code() == "allow_delete_required" and
         "app/staging" in (r.json or {}).get("message", ""),
         "PUT /admin/api/config refuses a removal: 409 "
         "allow_delete_required", repr(r))
    r = srv.request("PUT", path + "?dry_run=1", doc, auth)
    j = r.json or {}
    t.ok(r.status == 200 and j.get("allow_delete_required") is True and
         "app/staging" in j.get("removes", ""),
         "... a dry run shows the plan and the gate", repr(r))
    t.eq(post(srv, BOTH["staging"]), 200, "... nothing was applied")
    r = srv.request("PUT", path + "?allow_delete=1", doc, auth)
    t.eq((r.status, (r.json or {}).get("applied")), (200, True),
         "... with allow_delete=1 it applies", repr(r))
    t.eq(post(srv, BOTH["staging"]), 404, "... and the endpoint is gone")


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    with h.Server(mount="/porter", max_procs=1) as srv:
        rc, out, err = srv.apply(config(BOTH), allow_delete=False)
        t.eq(rc, 0, "the first apply needs no flag", err)
        t.run(t_cli, t, srv)
        t.run(t_api, t, srv)
    return t.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
