#!/usr/bin/env python3
"""test_data_api.py - what the actions made, over the admin API, through a
real lighttpd (TAP): GET users, objects/<collection>, tenants, audiences,
audiences/<key> and runs, and one of each (users/<id>,
objects/<collection>/<id>, tenants/<id>, runs/<run_id>), with a read-only
token; limit and has_more; 404 for what is not there, 400 for a bad id,
limit or parameter, 401 without a token.

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_data_api.py
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402
import test_ctl as tc                                   # noqa: E402

WATCHDOG = 600 if h.VALGRIND else 120   # seconds for the whole file


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    with h.Server(mount="/porter", max_procs=1) as srv:
        rc, out, err = srv.apply(tc.config())
        t.eq(rc, 0, "a source whose mappings make users, objects, tenants, "
             "audiences and runs", err)
        for user, project, tenant in (("u1", "p1", "t1"), ("u2", "p2", "t1"),
                                      ("u3", "p3", "t2")):
            body = json.dumps({"type": "thing.done", "data": {
                "user": user, "name": user.upper(), "project": project,
                "tenant": tenant}}).encode()
            r = srv.post(srv.url("/receive/" + tc.EP), body)
            t.eq(r.status, 200, "event for %s accepted" % user, repr(r))
        rc, tok, err = srv.porterctl("token", "create", "data-ro",
                                     "--read-only")
        auth = {"Authorization": "Bearer " + tok.strip()}

        def get(path):
            return srv.get(srv.url("/admin/api/" + path), auth)

        for path, key, want in (("users", "id", ["u1", "u2", "u3"]),
                                ("objects/projects", "id", ["p1", "p2", "p3"]),
                                ("tenants", "id", ["t1", "t2"])):
            r = get(path)
            got = sorted(x.get(key) for x in (r.json or {}).get("data") or [])
            t.eq((r.status, got, (r.json or {}).get("has_more")),
                 (200, want, False), "GET %s lists them" % path, repr(r))
        r = get("users?limit=2")
        t.eq((len((r.json or {}).get("data") or []),
              (r.json or {}).get("has_more")), (2, True),
             "... limit bounds a listing and says there is more", repr(r))
        r = get("users/u2")
        t.eq((r.status, (r.json or {}).get("name")), (200, "U2"),
             "GET users/u2: the user", repr(r))
        r = get("objects/projects/p3")
        t.eq((r.status, (r.json or {}).get("id")), (200, "p3"),
             "GET objects/projects/p3: the object", repr(r))
        r = get("tenants/t2")
        t.eq((r.status, (r.json or {}).get("name")), (200, "U3"),
             "GET tenants/t2: the tenant", repr(r))
        r = get("audiences")
        t.ok(r.status == 200 and (r.json or {}).get("data"),
             "GET audiences lists the audience", repr(r))
        r = get("audiences/beta")
        t.eq((r.status, len((r.json or {}).get("data") or [])), (200, 3),
             "GET audiences/beta: its three members", repr(r))
        r = get("runs")
        runs = (r.json or {}).get("data") or []
        t.eq((r.status, len(runs)), (200, 3), "GET runs lists the runs",
             repr(r))
        if runs:
            r = get("runs/" + runs[0]["id"])
            t.eq((r.status, (r.json or {}).get("id")), (200, runs[0]["id"]),
                 "GET runs/<id>: the run", repr(r))
        for path, status, code in (("users/nobody", 404, "not_found"),
                                   ("runs/nope", 400, "invalid_id"),
                                   ("users?limit=0", 400,
                                    "invalid_parameter"),
                                   ("users?color=red", 400,
                                    "invalid_parameter"),
                                   ("users/u2?limit=1", 400,
                                    "invalid_parameter")):
            r = get(path)
            t.eq((r.status, r.error_code()), (status, code),
                 "GET %s: %d %s" % (path, status, code), repr(r))
        r = srv.get(srv.url("/admin/api/users"))
        t.eq(r.status, 401, "... and nothing without a token", repr(r))
    return t.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
